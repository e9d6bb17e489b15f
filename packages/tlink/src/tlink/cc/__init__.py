"""Runtime C compilation: the compiler probe and the on-disk compile cache.

``compile_module(code, ...)`` turns C source (without module boilerplate) into a loaded
extension module, through the content-addressed cache under ``config.compiledir``;
``compiler_available()`` says whether C code can be compiled at all, and
``warn_no_compiler_once()`` tells the user, once, when it cannot. ``theano-cache``
(``tlink.cc.cli``) lists and clears the cache.
"""

from tlink.cc.cache import (
    CacheEntry,
    CacheEntryWarning,
    ModuleCache,
    compile_module,
    default_cache,
)
from tlink.cc.compiler import (
    CompileError,
    CompilerInfo,
    CompilerUnavailable,
    NoCompilerWarning,
    compiler_available,
    compiler_info,
    has_libmvec,
    native_isa,
    warn_no_compiler_once,
)

__all__ = [
    "CacheEntry",
    "CacheEntryWarning",
    "CompileError",
    "CompilerInfo",
    "CompilerUnavailable",
    "ModuleCache",
    "NoCompilerWarning",
    "compile_module",
    "compiler_available",
    "compiler_info",
    "default_cache",
    "has_libmvec",
    "native_isa",
    "warn_no_compiler_once",
]

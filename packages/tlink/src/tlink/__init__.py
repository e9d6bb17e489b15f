"""tlink: ``function``, modes and linkers for the Theano rebuild (``theano.function``).

Importing tlink declares the linking flags on ``tgraph.config`` (device, mode, linker,
allow_gc, vm.lazy, on_unused_input, cxx, compiledir, profile, ...), registers the Python
linkers ('py', 'vm', 'vm_nogc') and the modes FAST_COMPILE, FAST_RUN and 'Mode', and makes
``Variable.eval`` compile with ``function``. C linkers, the Cython VM and the compile cache
come later; until then their names run on the Python VM with one warning per name.
"""

import os as _os

from tgraph.graph.evaluate import register_compiler as _register_compiler
from tgraph.graph.utils import register_internal_path as _register_internal_path
from tlink import _config as _config  # declares the linker flags on tgraph.config
from tlink._version import __version__
from tlink.compile import (
    DeepCopyOp,
    Function,
    FunctionMaker,
    In,
    Out,
    OutputGuard,
    SymbolicInput,
    SymbolicOutput,
    ViewOp,
    as_op,
    deep_copy_op,
    function,
    function_dump,
    orig_function,
    pfunc,
    rebuild_collect_shared,
    view_op,
)
from tlink.errors import (
    BadInputError,
    FallbackWarning,
    TlinkError,
    UnknownNameError,
    UnusedInputError,
)
from tlink.linker import (
    VM,
    Linker,
    LocalLinker,
    Loop,
    LoopGC,
    PerformLinker,
    Stack,
    VM_Linker,
    VMLinker,
    WrapLinker,
    WrapLinkerMany,
    raise_with_op,
    register_thunk_maker,
)
from tlink.mode import (
    FAST_COMPILE,
    FAST_RUN,
    Mode,
    OptimizerQuery,
    get_default_mode,
    get_mode,
    predefined_linkers,
    predefined_modes,
    predefined_optimizers,
    register_linker,
    register_mode,
    register_optimizer,
)
from tlink.profiling import ProfileStats

# Frames inside tlink are not the user's: leave them out of tag.trace and function names.
_register_internal_path(_os.path.dirname(__file__))


def _compile_for_eval(inputs, output):
    """Variable.eval's compiler: a function of the given inputs, unused ones ignored."""
    return function(list(inputs), output, on_unused_input="ignore")


_register_compiler(_compile_for_eval)

__all__ = [
    "FAST_COMPILE",
    "FAST_RUN",
    "VM",
    "BadInputError",
    "DeepCopyOp",
    "FallbackWarning",
    "Function",
    "FunctionMaker",
    "In",
    "Linker",
    "LocalLinker",
    "Loop",
    "LoopGC",
    "Mode",
    "OptimizerQuery",
    "Out",
    "OutputGuard",
    "PerformLinker",
    "ProfileStats",
    "Stack",
    "SymbolicInput",
    "SymbolicOutput",
    "TlinkError",
    "UnknownNameError",
    "UnusedInputError",
    "VMLinker",
    "VM_Linker",
    "ViewOp",
    "WrapLinker",
    "WrapLinkerMany",
    "__version__",
    "as_op",
    "deep_copy_op",
    "function",
    "function_dump",
    "get_default_mode",
    "get_mode",
    "orig_function",
    "pfunc",
    "predefined_linkers",
    "predefined_modes",
    "predefined_optimizers",
    "raise_with_op",
    "rebuild_collect_shared",
    "register_linker",
    "register_mode",
    "register_optimizer",
    "register_thunk_maker",
    "view_op",
]

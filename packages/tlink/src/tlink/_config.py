"""The Theano 1.0 flags that linking, compiling and running read, declared on the config.

``declare(config)`` adds them to any ``tconfig.Config`` (tests use a fresh one); importing
this module declares them on ``tgraph.config``. Names, defaults and allowed values are
Theano 1.0's, with two deliberate differences:

* Nothing is probed at import. Theano 1.0 ran ``g++ -v`` and ``g++ -dumpversion`` while
  declaring ``cxx`` and ``compiledir``; here those defaults are callables evaluated on first
  read, and the compile directory is created (mode 0700) by the cache on first use, not by
  the flag's validator.
* ``linker`` keeps ``cvm`` as its default even without a compiler: the linker falls back to
  Python code with one warning when it finds ``cxx`` empty, instead of the default depending
  on the machine.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator, Mapping

from tconfig import (
    BoolParam,
    Config,
    ConfigParam,
    DeviceParam,
    EnumStr,
    IntParam,
    StrParam,
)
from tgraph import config as _process_config
from tlink._version import __version__ as _tlink_version

__all__ = ["LINKERS", "MODES", "declare"]

# The first item of each tuple is the default.
MODES = ("Mode", "DebugMode", "FAST_RUN", "NanGuardMode", "FAST_COMPILE", "DEBUG_MODE")
LINKERS = ("cvm", "c|py", "py", "c", "c|py_nogc", "vm", "vm_nogc", "cvm_nogc")

DEFAULT_COMPILEDIR_FORMAT = (
    "compiledir_%(short_platform)s-%(processor)s-%(python_version)s-%(python_bitwidth)s"
)


def _find_cxx() -> str:
    """The C++ compiler found on PATH (full path), or '' when there is none.

    clang++ is preferred where it is the system compiler (macOS, FreeBSD).
    """
    names = ["g++"]
    if sys.platform == "darwin" or sys.platform.startswith("freebsd"):
        names.insert(0, "clang++")
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return ""


def _filter_vm_lazy(value: object) -> bool | None:
    """Accept None/True/False or their spellings in a flags string."""
    spelled = {"none": None, "true": True, "1": True, "false": False, "0": False}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in spelled:
        return spelled[value.strip().lower()]
    raise ValueError(f"expected None, True or False, got {value!r}")


def _default_base_compiledir() -> str:
    local = os.environ.get("LOCALAPPDATA")
    if sys.platform == "win32" and local:
        # The local (non-roaming) part of a Windows profile.
        return os.path.join(local, "Theano")
    return os.path.join(os.path.expanduser("~"), ".theano")


def _absolute_path(value: object) -> str:
    """Expand ``~`` and make the path absolute; the directory itself is made on first use."""
    return os.path.abspath(os.path.expanduser(str(value)))


def _short_platform() -> str:
    """``platform.platform()`` with the kernel release cut to ``major.minor``.

    The full release string changes with every kernel update, which would move the cache
    each time; the ABI the compiled modules depend on does not.
    """
    full = platform.platform()
    release = platform.release()
    match = re.match(r"(\d+)\.(\d+)[.\d]*", release)
    if not match or not release or release not in full:
        return full
    return full.replace(release, f"{match.group(1)}.{match.group(2)}", 1)


def _compiler_version(config: Config) -> str:
    cxx = config.cxx
    if not cxx:
        return "no_cxx"
    try:
        out = subprocess.run(
            [cxx, "-dumpversion"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "cxx_not_runnable"
    return out.strip().replace(" ", "_") or "unknown"


class _FormatKeys(Mapping):
    """The keys ``compiledir_format`` may use, each computed only when the format asks for it.

    Theano 1.0 offered the same keys; ``theano_version`` is this rebuild's linker version.
    """

    def __init__(self, config: Config) -> None:
        def numpy_version() -> str:
            import numpy  # only when a format names it

            return numpy.__version__

        self._keys = {
            "platform": platform.platform,
            "short_platform": _short_platform,
            "processor": platform.processor,
            "python_version": platform.python_version,
            "python_bitwidth": lambda: struct.calcsize("P") * 8,
            "python_int_bitwidth": lambda: struct.calcsize("l") * 8,
            "theano_version": lambda: _tlink_version,
            "numpy_version": numpy_version,
            "gxx_version": lambda: _compiler_version(config),
            "hostname": platform.node,
            "device": lambda: config.device,
        }

    def __getitem__(self, key: str) -> object:
        return self._keys[key]()

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)


def compiledir_name(config: Config) -> str:
    """The subdirectory name ``config.compiledir_format`` gives on this machine."""
    formatted = config.compiledir_format % _FormatKeys(config)
    return re.sub(r"[()\s,]+", "_", formatted)


def declare(config: Config) -> None:
    """Declare the linker, compiler, cache and profiling flags on ``config``."""
    config.add(
        "device",
        "Where computations run: 'cpu', or a CUDA device ('cuda', 'cuda0', ...) served by "
        "tgpu. Fixed at start-up: set it in THEANO_FLAGS or .theanorc, not in code.",
        DeviceParam("cpu", mutable=False),
        in_c_key=False,
    )
    config.add(
        "mode",
        "Mode used by theano.function when none is given: 'Mode' (built from the optimizer "
        "and linker flags), 'FAST_RUN', 'FAST_COMPILE', 'DebugMode' (alias 'DEBUG_MODE') or "
        "'NanGuardMode'.",
        EnumStr(*MODES),
        in_c_key=False,
    )
    config.add(
        "linker",
        "Linker of the default Mode. 'cvm' and 'vm' run a virtual machine over C or Python "
        "thunks, 'c|py' uses C code where an Op has it and Python elsewhere, 'c' requires C, "
        "'py' uses Python only; *_nogc variants keep intermediate results between calls.",
        EnumStr(*LINKERS),
        in_c_key=False,
    )
    config.add(
        "allow_gc",
        "Free intermediate results during a call (less memory, but reallocation at each "
        "call); the *_nogc linkers never free them.",
        BoolParam(True),
        in_c_key=False,
    )
    config.add(
        "vm.lazy",
        "For the VM linkers: None picks the lazy VM only when the graph has lazy Ops "
        "(ifelse); True or False forces one or the other.",
        ConfigParam(None, filter=_filter_vm_lazy),
        in_c_key=False,
    )
    config.add(
        "on_unused_input",
        "What theano.function does when an input is not used by the outputs: 'raise', "
        "'warn' or 'ignore'.",
        EnumStr("raise", "warn", "ignore"),
        in_c_key=False,
    )
    config.add(
        "cxx",
        "C++ compiler used for C implementations; '' disables C code (Python "
        "implementations are used, with one warning). Defaults to the g++ found on PATH "
        "(clang++ on macOS), looked up the first time it is read.",
        StrParam(_find_cxx),
        in_c_key=False,
    )
    config.add(
        "gcc.cxxflags",
        "Extra options for the C++ compiler (they enter the key of each compiled module).",
        StrParam(""),
        in_c_key=False,
    )
    config.add(
        "blas.ldflags",
        "Linker options naming a Fortran BLAS library for the BLAS ops' C code, as in "
        "Theano 1.0 (e.g. '-lopenblas' or '-L/opt/blas/lib -lblas'; each -L directory is "
        "also the module's run-time path). Empty (the default) takes BLAS from SciPy "
        "(scipy.linalg.cython_blas), so no system BLAS is needed. The flags enter the "
        "cache key of modules that call BLAS. A value that does not link sgemm_, dgemm_, "
        "sgemv_, dgemv_, sger_ and dger_ is an error (BlasLdflagsError, naming this flag "
        "and quoting the linker), not a silent or warned fallback: set it empty to use "
        "SciPy's BLAS.",
        StrParam(""),
        in_c_key=False,
    )
    config.add(
        "base_compiledir",
        "Root of the compile cache, shared by all platforms (default ~/.theano).",
        ConfigParam(_default_base_compiledir, filter=_absolute_path, mutable=False),
        in_c_key=False,
    )
    config.add(
        "compiledir_format",
        "%-format of the per-platform cache directory under base_compiledir. Keys: "
        "platform, short_platform, processor, python_version, python_bitwidth, "
        "python_int_bitwidth, theano_version, numpy_version, gxx_version, hostname, device.",
        StrParam(DEFAULT_COMPILEDIR_FORMAT, mutable=False),
        in_c_key=False,
    )
    config.add(
        "compiledir",
        "Directory of compiled modules for this platform and Python; defaults to "
        "base_compiledir joined with compiledir_format filled in.",
        ConfigParam(
            lambda: os.path.join(config.base_compiledir, compiledir_name(config)),
            filter=_absolute_path,
            mutable=False,
        ),
        in_c_key=False,
    )
    config.add(
        "profile",
        "Collect time spent per node in each function and print a summary at exit.",
        BoolParam(False),
        in_c_key=False,
    )
    config.add(
        "profile_memory",
        "With profile, also collect and print memory use per node.",
        BoolParam(False),
        in_c_key=False,
    )
    _declare_profiling(config)
    config.add(
        "openmp",
        "Let Ops that support it (OpenMPOp, e.g. Elemwise) run in parallel with OpenMP "
        "(threads from OMP_NUM_THREADS). An Op's own openmp attribute, when not None, "
        "overrides it. Only modules holding such a node are compiled with -fopenmp and "
        "linked with -lgomp; a compiler that cannot build OpenMP code warns once and "
        "loops stay serial.",
        BoolParam(False),
        in_c_key=False,
    )
    config.add(
        "openmp_elemwise_minsize",
        "With openmp, the smallest number of elements for which a contiguous elementwise "
        "loop runs in parallel (smaller ones run in the calling thread; results are the "
        "same bitwise either way).",
        IntParam(200000),
        in_c_key=False,
    )
    config.add(
        "cmodule.warn_no_version",
        "Warn when an Op's C code cannot be cached because it has no c_code_cache_version.",
        BoolParam(False),
        in_c_key=False,
    )
    config.add(
        "cmodule.remove_gxx_opt",
        "Compile without -O options (to debug compiled modules in gdb).",
        BoolParam(False),
        in_c_key=True,
    )


def _declare_profiling(config: Config) -> None:
    """Theano 1.0's ``profiling.*`` flags, read by :mod:`tlink.profiling` when printing."""
    config.add(
        "profiling.n_apply",
        "How many Apply nodes the profile's Apply table shows.",
        IntParam(20, is_valid=lambda n: n >= 0),
        in_c_key=False,
    )
    config.add(
        "profiling.n_ops",
        "How many Ops (and Op classes) the profile's Ops and Class tables show.",
        IntParam(20, is_valid=lambda n: n >= 0),
        in_c_key=False,
    )
    config.add(
        "profiling.output_line_width",
        "Longest line of the profile's tables (longer names are cut).",
        IntParam(512, is_valid=lambda n: n > 20),
        in_c_key=False,
    )
    config.add(
        "profiling.min_memory_size",
        "With profile_memory, list only the nodes whose outputs take at least this many "
        "bytes.",
        IntParam(1024, is_valid=lambda n: n >= 0),
        in_c_key=False,
    )
    config.add(
        "profiling.destination",
        "Where the profiles of the profile flag are printed at exit: 'stderr', 'stdout', "
        "or a file name.",
        StrParam("stderr"),
        in_c_key=False,
    )
    config.add(
        "profiling.ignore_first_call",
        "Leave each function's first call (often much slower: caches, allocation) out of "
        "its profile.",
        BoolParam(False),
        in_c_key=False,
    )


declare(_process_config)

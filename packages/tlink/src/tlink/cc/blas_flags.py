"""``blas.ldflags``: linking the BLAS ops' C code with a library the user names.

By default (empty flag) the BLAS ops call SciPy's BLAS through the function pointers of
``scipy.linalg.cython_blas`` and nothing is linked. When ``blas.ldflags`` holds linker flags
(Theano 1.0's meaning: a string such as ``-lopenblas`` or ``-L/opt/blas/lib -lblas``), a
module whose C calls BLAS is compiled with ``-DTGRAPH_BLAS_LDFLAGS`` (the C then takes the
library's Fortran symbols ``sgemm_``, ``dgemm_``, ``sgemv_``, ``dgemv_``, ``sger_``,
``dger_``) and linked with those flags; each ``-L`` directory is also put on the module's
run-time search path, so the library is found when the module is loaded without
``LD_LIBRARY_PATH``. The flags are link arguments, so they enter the module's cache key.

A wrong value is an error (:class:`BlasLdflagsError`), not a fallback: a user who names a
BLAS wants that BLAS (its threads, its speed), and Theano 1.0 also failed to build the
module then. The flags are checked once per process and compiler by linking a tiny program
that references the six symbols: a missing library, or one without these symbols, is
reported with the flag's value and the linker's own message, before any module is built.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
import threading

from tgraph import config
from tgraph.tensor.blas_c import BLAS_LDFLAGS_MACRO
from tlink.cc.compiler import CompileError, compiler_info

__all__ = [
    "BLAS_SYMBOLS",
    "BlasLdflagsError",
    "blas_build_args",
    "check_blas_ldflags",
    "reset_blas_ldflags_checks",
]

#: The Fortran symbols the BLAS ops' C code calls when linked with ``blas.ldflags``.
BLAS_SYMBOLS = ("sgemm_", "dgemm_", "sgemv_", "dgemv_", "sger_", "dger_")

_PROBE_TIMEOUT_S = 120
_lock = threading.Lock()
_checked: dict[tuple[str, str], str | None] = {}


class BlasLdflagsError(CompileError):
    """``blas.ldflags`` does not link a library providing the Fortran BLAS symbols."""


def _split(ldflags: str) -> list[str]:
    try:
        return shlex.split(ldflags)
    except ValueError as exc:
        raise BlasLdflagsError(
            f"config.blas.ldflags={ldflags!r} cannot be split into linker options ({exc}); "
            "expected shell-style words such as '-L/opt/openblas/lib -lopenblas'.") from None


def _with_rpath(flags: list[str]) -> list[str]:
    """``flags`` followed by ``-Wl,-rpath,<dir>`` for each ``-L<dir>`` among them."""
    dirs: list[str] = []
    it = iter(flags)
    for flag in it:
        if flag == "-L":
            d = next(it, "")
        elif flag.startswith("-L"):
            d = flag[2:]
        else:
            continue
        if d and d not in dirs:
            dirs.append(os.path.abspath(d))
    return [*flags, *(f"-Wl,-rpath,{d}" for d in dirs)]


def check_blas_ldflags(ldflags: str) -> list[str]:
    """The link arguments for ``ldflags``, after checking once that they link the symbols.

    Raises BlasLdflagsError naming the flag and quoting the linker when they do not.
    """
    flags = _with_rpath(_split(ldflags))
    info = compiler_info()
    key = (info.cxx, ldflags)
    with _lock:
        if key not in _checked:
            _checked[key] = _probe(info.cxx, flags)
        failure = _checked[key]
    if failure is not None:
        raise BlasLdflagsError(
            f"config.blas.ldflags={ldflags!r}: linking a program that calls "
            f"{', '.join(BLAS_SYMBOLS)} with these flags fails, so the BLAS ops cannot use "
            "them. Name a Fortran BLAS library (e.g. '-lopenblas' or "
            "'-L/path/to/dir -lblas'), or set blas.ldflags to empty to use SciPy's BLAS. "
            f"The linker said:\n{failure}")
    return flags


def _probe(cxx: str, flags: list[str]) -> str | None:
    """None when a program referencing BLAS_SYMBOLS links with ``flags``, else the message."""
    refs = "".join(f"extern void {s}(void);\n" for s in BLAS_SYMBOLS)
    table = ", ".join(f"(void *){s}" for s in BLAS_SYMBOLS)
    source = (f"{refs}int main(void) {{\n    void *volatile p[] = {{{table}}};\n"
              "    return p[0] == 0;\n}\n")
    with tempfile.TemporaryDirectory(prefix="tlink-blas-") as tmp:
        path = os.path.join(tmp, "blas_probe.c")
        with open(path, "w") as f:
            f.write(source)
        cmd = [cxx, "-x", "c", path, "-o", os.path.join(tmp, "blas_probe"), "-x", "none",
               *flags]
        try:
            proc = subprocess.run(cmd, cwd=tmp, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=_PROBE_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{shlex.join(cmd)}: {exc}"
    if proc.returncode == 0:
        return None
    text = (proc.stderr or proc.stdout).strip()
    return text[-2000:] or f"exit status {proc.returncode}"


def blas_build_args(source: str) -> tuple[list[str], list[str]]:
    """(compile args, link args) that ``blas.ldflags`` adds to a module with ``source``.

    Nothing when the flag is empty or the module calls no BLAS (its C never mentions
    ``TGRAPH_BLAS_LDFLAGS``, which the BLAS support code tests).
    """
    ldflags = config.blas__ldflags.strip()
    if not ldflags or BLAS_LDFLAGS_MACRO not in source:
        return [], []
    return [f"-D{BLAS_LDFLAGS_MACRO}"], check_blas_ldflags(ldflags)


def reset_blas_ldflags_checks() -> None:
    """Forget which ldflags values were checked (for tests that change libraries)."""
    with _lock:
        _checked.clear()

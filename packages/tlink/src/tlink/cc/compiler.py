"""Which C compiler runs, what it accepts, and the command line that builds one module.

Theano 1.0 calls its compiler flag ``cxx`` (default ``g++``) and compiled C++ code. The code
tlink generates is plain C11, so it is compiled *as C* with the same driver: ``g++ -x c``
(and ``clang++ -x c``) runs the C front end of the same toolchain, so there is no second
compiler to configure and ``cxx`` keeps its Theano meaning. Linking goes through the same
driver, which would add ``-lstdc++``; on ELF platforms ``-Wl,--as-needed`` keeps that (and
any other unused library) out of the module's dependencies.

Everything here is probed lazily, once per process and compiler: importing tlink runs no
program. The probe results are deliberately not stored on disk: a home directory (and so the
compile directory) may be shared by hosts with different CPUs, and ``-march=native`` on one
of them means something else on another. The ISA the probe finds enters every cache key for
the same reason.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from tlink.errors import FallbackWarning, TlinkError

__all__ = [
    "CompileError",
    "CompilerInfo",
    "CompilerUnavailable",
    "NoCompilerWarning",
    "base_flags",
    "build_command",
    "compiler_available",
    "compiler_info",
    "has_libmvec",
    "has_openmp",
    "native_isa",
    "reset_compiler_probe",
    "warn_no_compiler_once",
]

#: Options every module is compiled with before ``gcc.cxxflags`` and the Ops' own options.
#: ``-fno-math-errno`` lets sqrt/exp be inlined and vectorized (nothing reads errno);
#: ``-ffast-math`` is never used because it breaks NaN/inf semantics the Ops promise.
#: ``-O1``: the loops that matter are vectorised by their ``#pragma omp simd`` (GCC honours
#: it at any optimisation level) and the BLAS calls are library code, so -O3 bought no run
#: time here while making gcc 3-13x slower (a 360 KB module: 54 s at -O3, 4 s at -O1).
#: ``gcc.cxxflags=-O3`` still selects it (later options win).
DEFAULT_FLAGS = ("-O1", "-fno-math-errno", "-fPIC", "-fvisibility=hidden", "-std=gnu11")

#: Options used only when the compiler accepts them (found by compiling a tiny file).
#: ``-mprefer-vector-width=256`` (x86 only): GCC's tuning for some AMD CPUs (znver1, which
#: gcc 12 also picks for later EPYCs) keeps loops 128 bits wide even with AVX2, so the
#: elemwise loops called the 4-wide libmvec functions; 8-wide made the 12-op benchmark
#: chain 1.24x and softplus 1.6x faster here. Elsewhere it is already GCC's choice.
OPTIONAL_FLAGS = ("-fopenmp-simd", "-march=native", "-mprefer-vector-width=256")

#: Macros of ``-dM -E`` output that describe the vector ISA the compiler targets.
_ISA_MACRO = re.compile(
    r"^#define __(SSE\w*|AVX\w*|FMA\w*|F16C|ARM_NEON|ARM_FEATURE_SVE\w*|VSX|ALTIVEC"
    r"|riscv_vector)__\b",
    re.MULTILINE,
)

_PROBE_TIMEOUT_S = 60


class CompileError(TlinkError, RuntimeError):
    """The C compiler failed (or could not run) on a module's source.

    ``command`` is the command line, ``stderr`` the compiler's diagnostics and
    ``source_path`` a kept copy of the source that failed (None when nothing was compiled).
    """

    def __init__(
        self,
        message: str,
        *,
        command: list[str] | None = None,
        stderr: str = "",
        source_path: str | None = None,
    ) -> None:
        super().__init__(message)
        self.command = command
        self.stderr = stderr
        self.source_path = source_path


class CompilerUnavailable(CompileError):
    """No C compiler can be used: ``config.cxx`` is empty or does not run.

    Callers catch it to fall back to the Python implementations (after
    :func:`warn_no_compiler_once`).
    """


class NoCompilerWarning(FallbackWarning):
    """C code is disabled because no compiler runs; Python implementations are used."""


@dataclass(frozen=True)
class CompilerInfo:
    """What one probe of a compiler found. Every field enters the cache key."""

    cxx: str  #: the driver, as an absolute path
    version: str  #: first line of ``<cxx> --version``
    flags: tuple[str, ...]  #: default + accepted optional flags + ``gcc.cxxflags``
    native_isa: str  #: e.g. ``znver1:avx,avx2,fma,sse,sse2,...``
    has_libmvec: bool  #: linking ``-lmvec`` works (glibc's vector math library)
    link_flags: tuple[str, ...] = field(default=())  #: e.g. ``-Wl,--as-needed``
    has_openmp: bool = False  #: ``-fopenmp`` compiles and ``-lgomp`` links (flag ``openmp``)


_lock = threading.Lock()
_probes: dict[tuple[str, str, bool], CompilerInfo] = {}
_no_compiler_warned = False


def _resolve(cxx: str) -> str:
    """The absolute path of ``cxx``, or raise CompilerUnavailable saying why."""
    if not cxx.strip():
        raise CompilerUnavailable(
            "no C compiler: config.cxx is empty. Install gcc (e.g. 'apt install g++') or "
            "set THEANO_FLAGS=cxx=/path/to/g++ to enable C code."
        )
    path = shutil.which(cxx)
    if path is None:
        raise CompilerUnavailable(
            f"config.cxx={cxx!r} is not an executable file or a program on PATH. Install "
            "gcc or set THEANO_FLAGS=cxx=/path/to/g++ (or cxx= to disable C code)."
        )
    return os.path.abspath(path)


def _start(args: list[str], cwd: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        args,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=_PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return -1, out, err
    return proc.returncode, out, err


def _link_flags() -> tuple[str, ...]:
    if sys.platform == "darwin":
        return ("-undefined", "dynamic_lookup", "-Wl,-dead_strip_dylibs")
    if sys.platform.startswith(("linux", "freebsd")):
        return ("-Wl,--as-needed",)
    return ()


def _probe(cxx: str, cxxflags: str, remove_opt: bool) -> CompilerInfo:
    """Run the compiler a few times, in parallel, to learn what it is and accepts."""
    path = _resolve(cxx)
    try:
        extra = shlex.split(cxxflags)
    except ValueError as exc:
        raise CompilerUnavailable(
            f"config.gcc.cxxflags={cxxflags!r} cannot be split into options ({exc}); "
            "expected shell-style words such as '-O2 -g'."
        ) from None
    with tempfile.TemporaryDirectory(prefix="tlink-probe-") as tmp:
        with open(os.path.join(tmp, "p.c"), "w") as f:
            f.write("int tlink_probe(int x) { return x + 1; }\n")
        with open(os.path.join(tmp, "m.c"), "w") as f:
            # Only whether '-lmvec' links matters here; the vector variants of expf are
            # referenced later, by code compiled with '#pragma omp declare simd'.
            f.write("#include <math.h>\nfloat tlink_probe(float x) { return expf(x); }\n")
        with open(os.path.join(tmp, "o.c"), "w") as f:
            f.write("#include <omp.h>\nint tlink_probe(int n, float *a) {\n"
                    "#pragma omp parallel for if(n > 1)\n"
                    "for (int i = 0; i < n; ++i) a[i] += 1;\nreturn omp_get_max_threads();\n}\n")
        try:
            version = _start([path, "--version"], tmp)
        except OSError as exc:
            raise CompilerUnavailable(
                f"config.cxx={cxx!r} ({path}) cannot be run: {exc}. Install gcc or set "
                "THEANO_FLAGS=cxx=/path/to/g++ (or cxx= to disable C code)."
            ) from None
        accepts = {
            flag: _start([path, "-x", "c", "-Werror", flag, "-c", "p.c", "-o", f"p{i}.o"], tmp)
            for i, flag in enumerate(OPTIONAL_FLAGS)
        }
        mvec = _start(
            [path, "-x", "c", "-fPIC", "-shared", "m.c", "-o", "m.so", "-lmvec", "-lm"], tmp
        )
        omp = _start([path, "-x", "c", "-fopenmp", "-fPIC", "-shared", "o.c", "-o", "o.so",
                      "-lgomp"], tmp)
        march_q = _start([path, "-march=native", "-Q", "--help=target"], tmp)
        macros = _start([path, "-x", "c", "-march=native", "-dM", "-E", "-"], tmp)
        plain_macros = _start([path, "-x", "c", "-dM", "-E", "-"], tmp)

        rc, out, err = _finish(version)
        if rc != 0:
            for proc in (*accepts.values(), mvec, omp, march_q, macros, plain_macros):
                _finish(proc)
            raise CompilerUnavailable(
                f"config.cxx={cxx!r} ({path}) fails on '--version' (exit {rc}): "
                f"{(err or out).strip()[:500]}. Install gcc or set "
                "THEANO_FLAGS=cxx=/path/to/g++ (or cxx= to disable C code)."
            )
        lines = (out or err).strip().splitlines()
        version_line = lines[0] if lines else "unknown"
        accepted = tuple(flag for flag, proc in accepts.items() if _finish(proc)[0] == 0)
        libmvec = _finish(mvec)[0] == 0
        openmp = _finish(omp)[0] == 0
        rc_q, out_q, _ = _finish(march_q)
        rc_m, out_m, _ = _finish(macros)
        rc_p, out_p, _ = _finish(plain_macros)
    native = "-march=native" in accepted
    march = ""
    if native and rc_q == 0:
        found = re.search(r"^\s+-march=\s+(\S+)", out_q, re.MULTILINE)
        march = found.group(1) if found else ""
    text = out_m if native and rc_m == 0 else (out_p if rc_p == 0 else "")
    features = sorted({m.lower() for m in _ISA_MACRO.findall(text)})
    isa = f"{march or ('native' if native else 'default')}:{','.join(features)}"
    flags = list(DEFAULT_FLAGS) + list(accepted) + extra
    if remove_opt:
        flags = [f for f in flags if not re.fullmatch(r"-O\S*", f)]
    return CompilerInfo(
        cxx=path,
        version=version_line,
        flags=tuple(flags),
        native_isa=isa,
        has_libmvec=libmvec,
        link_flags=_link_flags(),
        has_openmp=openmp,
    )


def compiler_info() -> CompilerInfo:
    """The probe of ``config.cxx`` with the current ``gcc.cxxflags``, run once per process.

    Raises CompilerUnavailable when the compiler is missing or does not run.
    """
    from tgraph import config

    probe_key = _probe_key(config)
    info = _probes.get(probe_key)
    if info is None:
        info = _probe_locked(config.compiledir, probe_key)
    return info


def _probe_key(config: Any) -> tuple[str, str, bool]:
    """What a probe depends on among the flags: the compiler and its options."""
    return (config.cxx, config.gcc__cxxflags, bool(config.cmodule__remove_gxx_opt))


def _probe_locked(compiledir: str, probe_key: tuple) -> CompilerInfo:
    with _lock:  # a probe started by prefetch_compiler_info is waited for here
        info = _probes.get(probe_key)
        if info is None:
            info = _probe_once(compiledir, *probe_key)
            _probes[probe_key] = info
    return info


def prefetch_compiler_info() -> None:
    """Start probing ``config.cxx`` in a background thread, unless it is known already.

    ``function`` calls this before optimizing a graph whose linker uses C, so the probe (in a
    new compile directory, nine short compiler runs) overlaps the rewrites instead of
    delaying the first compilation. Errors are left for :func:`compiler_info` to raise.
    """
    from tgraph import config

    if not config.cxx.strip():
        return
    probe_key = _probe_key(config)
    if probe_key in _probes or _lock.locked():
        return
    compiledir = config.compiledir

    def run() -> None:
        try:
            _probe_locked(compiledir, probe_key)
        except Exception:  # compiler_info probes again and reports it
            pass

    threading.Thread(target=run, name="tlink-compiler-probe", daemon=True).start()


# Bump when the probe learns something new (a field of CompilerInfo, another flag).
_PROBE_FORMAT = 1


def _probe_once(compiledir: str, cxx: str, cxxflags: str, remove_opt: bool) -> CompilerInfo:
    """The probe, read from ``compiledir`` when this machine already ran it for this compiler.

    Probing runs the compiler nine times (about 0.15 s); a program whose C modules are all
    in the cache would spend most of its compile time there. The saved result is keyed by
    the compiler driver's resolved path and file identity (size, mtime, inode: an upgrade
    changes them), the flags, the host and this format; a file that does not parse as a
    probe is ignored and written again.
    """
    path = _resolve(cxx)
    try:
        st = os.stat(os.path.realpath(path))
    except OSError:
        return _probe(cxx, cxxflags, remove_opt)
    ident = json.dumps([_PROBE_FORMAT, path, os.path.realpath(path), st.st_size,
                        st.st_mtime_ns, st.st_ino, cxxflags, remove_opt, os.uname().nodename,
                        os.uname().machine, list(OPTIONAL_FLAGS), list(DEFAULT_FLAGS)])
    folder = os.path.join(os.path.abspath(compiledir), "probes")
    file = os.path.join(folder, hashlib.sha256(ident.encode()).hexdigest()[:32] + ".json")
    try:
        with open(file, encoding="utf-8") as f:
            saved = json.load(f)
        if saved.get("ident") == ident:
            fields = saved["info"]
            return CompilerInfo(**{k: tuple(v) if isinstance(v, list) else v
                                   for k, v in fields.items()})
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        pass
    info = _probe(cxx, cxxflags, remove_opt)
    try:
        from tlink.cc.cache import make_private_dir

        make_private_dir(folder)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"ident": ident, "info": dataclasses.asdict(info)}, f)
            os.replace(tmp, file)  # atomic: a reader sees the old file or the whole new one
        except OSError:
            os.unlink(tmp)  # a full disk, say: leave no partial file behind
            raise
    except OSError:
        pass  # a read-only compiledir: probe again next time
    return info


def reset_compiler_probe() -> None:
    """Forget the probes and the once-only warning (for tests that switch compilers)."""
    global _no_compiler_warned
    with _lock:
        _probes.clear()
        _no_compiler_warned = False


def compiler_available() -> bool:
    """Whether ``config.cxx`` names a compiler that runs (probing it on first call)."""
    try:
        compiler_info()
    except CompilerUnavailable:
        return False
    return True


def has_libmvec() -> bool:
    """Whether modules may link ``-lmvec`` (so ``#pragma omp declare simd`` math pays off).

    False when there is no compiler.
    """
    try:
        return compiler_info().has_libmvec
    except CompilerUnavailable:
        return False


def has_openmp() -> bool:
    """Whether modules may be built with ``-fopenmp -lgomp`` (False without a compiler)."""
    try:
        return compiler_info().has_openmp
    except CompilerUnavailable:
        return False


def native_isa() -> str:
    """The vector ISA modules are compiled for, e.g. ``'znver1:avx,avx2,fma,sse,...'``.

    The part before ``:`` is what ``-march=native`` resolves to (``native`` when the compiler
    does not say, ``default`` when it refuses ``-march=native``); after it, the ISA macros the
    compiler predefines, lower-cased. Raises CompilerUnavailable without a compiler.
    """
    return compiler_info().native_isa


def warn_no_compiler_once(reason: str | BaseException = "") -> bool:
    """Warn (NoCompilerWarning) once per process that C code is disabled.

    ``reason`` (e.g. the CompilerUnavailable caught) is appended. Returns whether a
    warning was emitted.
    """
    global _no_compiler_warned
    with _lock:
        if _no_compiler_warned:
            return False
        _no_compiler_warned = True
    from tlink.fallback import user_stacklevel

    detail = f" ({reason})" if str(reason) else ""
    warnings.warn(
        "C code is disabled: no usable C compiler" + detail + ". Python implementations "
        "run instead, which is slower. To fix it, install gcc (e.g. 'apt install g++') "
        "or set THEANO_FLAGS=cxx=/path/to/g++; set cxx= (empty) to silence this.",
        NoCompilerWarning,
        stacklevel=user_stacklevel(),
    )
    return True


def python_include_dirs() -> list[str]:
    """Python's and NumPy's header directories, in that order."""
    return list(_python_include_dirs())


@functools.cache
def _python_include_dirs() -> tuple[str, ...]:
    import numpy

    dirs = [sysconfig.get_paths()["include"]]
    plat = sysconfig.get_paths().get("platinclude")
    if plat and plat not in dirs:
        dirs.append(plat)
    dirs.append(numpy.get_include())
    return tuple(dirs)


def base_flags(info: CompilerInfo) -> list[str]:
    """The options before the Ops' own: defaults, probed ones, cxxflags, NumPy's API level."""
    return [*info.flags, "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION"]


def build_command(
    info: CompilerInfo,
    source: str,
    output: str,
    *,
    include_dirs: list[str],
    library_dirs: list[str],
    libraries: list[str],
    compile_args: list[str],
    link_args: list[str],
) -> list[str]:
    """The one command that compiles ``source`` as C and links the shared ``output``."""
    cmd = [info.cxx, "-x", "c", "-shared", *base_flags(info), *compile_args]
    cmd += [f"-I{d}" for d in [*include_dirs, *python_include_dirs()]]
    cmd += ["-o", output, source, "-x", "none", *info.link_flags]
    cmd += [f"-L{d}" for d in library_dirs]
    cmd += link_args
    cmd += [f"-l{lib}" for lib in libraries]
    return cmd

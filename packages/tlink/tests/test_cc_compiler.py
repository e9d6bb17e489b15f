"""The compiler probe: flags, ISA, libmvec, and what happens without a compiler."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings

import pytest

from tgraph import config
from tlink.cc import (
    CompileError,
    CompilerUnavailable,
    ModuleCache,
    NoCompilerWarning,
    compiler_available,
    compiler_info,
    has_libmvec,
    native_isa,
    warn_no_compiler_once,
)
from tlink.cc.compiler import (
    DEFAULT_FLAGS,
    OPTIONAL_FLAGS,
    build_command,
    reset_compiler_probe,
)
from tlink.errors import FallbackWarning, TlinkError

needs_cc = pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)")


@pytest.fixture
def fresh_probe():
    """Forget probes and the once-only warning before and after the test."""
    reset_compiler_probe()
    yield
    reset_compiler_probe()


@needs_cc
def test_probe_finds_the_compiler_its_version_and_default_flags():
    info = compiler_info()
    assert os.path.isabs(info.cxx) and os.access(info.cxx, os.X_OK)
    assert info.version and info.version != "unknown"
    for flag in (*DEFAULT_FLAGS, "-fno-math-errno", "-fPIC"):
        assert flag in info.flags
    assert "-ffast-math" not in info.flags
    assert compiler_info() is info  # probed once per process


@needs_cc
def test_optional_flags_are_those_the_compiler_accepts(tmp_path):
    info = compiler_info()
    (tmp_path / "t.c").write_text("int f(void) { return 0; }\n")
    for flag in OPTIONAL_FLAGS:
        accepted = subprocess.run(
            [info.cxx, "-x", "c", "-Werror", flag, "-c", "t.c", "-o", "t.o"],
            cwd=tmp_path, capture_output=True, check=False,
        ).returncode == 0
        assert (flag in info.flags) == accepted, flag


@needs_cc
def test_native_isa_names_the_target_and_its_vector_extensions():
    info = compiler_info()
    isa = native_isa()
    assert isa == info.native_isa
    target, _, features = isa.partition(":")
    assert target
    macros = subprocess.run(
        [info.cxx, "-x", "c", *(["-march=native"] if "-march=native" in info.flags else []),
         "-dM", "-E", "-"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True,
    ).stdout
    for name in ("AVX2", "AVX512F", "FMA", "SSE2", "ARM_NEON"):
        assert (f"#define __{name}__ " in macros) == (name.lower() in features.split(",")), name


@needs_cc
def test_has_libmvec_agrees_with_linking_it(tmp_path):
    info = compiler_info()
    (tmp_path / "m.c").write_text("#include <math.h>\nfloat f(float x) { return expf(x); }\n")
    links = subprocess.run(
        [info.cxx, "-x", "c", "-fPIC", "-shared", "m.c", "-o", "m.so", "-lmvec", "-lm"],
        cwd=tmp_path, capture_output=True, check=False,
    ).returncode == 0
    assert has_libmvec() is links


@needs_cc
def test_cxxflags_come_after_the_defaults_and_remove_gxx_opt_drops_O(fresh_probe):
    with config.change_flags({"gcc.cxxflags": "-g -DTLINK_FLAG='a b'"}):
        flags = compiler_info().flags
        assert flags[-2:] == ("-g", "-DTLINK_FLAG=a b")
    with config.change_flags({"cmodule.remove_gxx_opt": True}):
        assert not [f for f in compiler_info().flags if f.startswith("-O")]
    assert "-O1" in compiler_info().flags


@needs_cc
def test_unsplittable_cxxflags_are_refused_with_the_value(fresh_probe):
    with config.change_flags({"gcc.cxxflags": "-DX='unclosed"}):
        with pytest.raises(CompilerUnavailable, match=r"gcc.cxxflags=.*cannot be split"):
            compiler_info()


@needs_cc
def test_build_command_compiles_as_c_with_python_and_numpy_headers():
    import sysconfig

    import numpy

    cmd = build_command(compiler_info(), "mod.c", "mod.so", include_dirs=["/inc"],
                        library_dirs=["/lib"], libraries=["m"], compile_args=["-DOP=1"],
                        link_args=["-Wl,-z,now"])
    assert cmd[:3] == [compiler_info().cxx, "-x", "c"]
    assert "-shared" in cmd
    assert "-DNPY_NO_DEPRECATED_API=NPY_1_7_API_VERSION" in cmd
    assert cmd.index("-DOP=1") > cmd.index("-O1")  # Ops' options override the defaults
    assert f"-I{numpy.get_include()}" in cmd
    assert f"-I{sysconfig.get_paths()['include']}" in cmd
    assert cmd.index("-I/inc") < cmd.index(f"-I{numpy.get_include()}")
    assert cmd[-3:] == ["-L/lib", "-Wl,-z,now", "-lm"]


@needs_cc
@pytest.mark.skipif(not sys.platform.startswith("linux") or shutil.which("readelf") is None,
                    reason="checks ELF dependencies with readelf")
def test_modules_do_not_depend_on_libstdcxx(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    code = "#include <math.h>\nstatic int tlink_exec(PyObject *m) { (void)m; return 0; }\n"
    module = cache.compile(code, libraries=("m",))
    dynamic = subprocess.run(["readelf", "-d", module.__file__], capture_output=True,
                             text=True, check=True).stdout
    assert "libstdc++" not in dynamic


def test_empty_cxx_raises_compiler_unavailable(fresh_probe, tmp_path):
    with config.change_flags(cxx=""):
        assert compiler_available() is False
        assert has_libmvec() is False
        with pytest.raises(CompilerUnavailable, match=r"config\.cxx is empty") as info:
            ModuleCache(str(tmp_path / "cache")).compile("static int tlink_exec(PyObject *m);")
    error = info.value
    assert isinstance(error, CompileError) and isinstance(error, TlinkError)
    assert isinstance(error, RuntimeError)
    assert "install gcc" in str(error).lower()
    assert not (tmp_path / "cache").exists()  # nothing written without a compiler


def test_a_cxx_that_is_not_a_program_raises_compiler_unavailable(fresh_probe, tmp_path):
    missing = str(tmp_path / "no-such-g++")
    with config.change_flags(cxx=missing):
        with pytest.raises(CompilerUnavailable, match="is not an executable file"):
            compiler_info()
        with pytest.raises(CompilerUnavailable):
            native_isa()


def test_a_cxx_that_fails_raises_compiler_unavailable(fresh_probe, tmp_path):
    broken = tmp_path / "broken-cc"
    broken.write_text("#!/bin/sh\necho 'broken compiler' >&2\nexit 3\n")
    broken.chmod(0o755)
    with config.change_flags(cxx=str(broken)):
        with pytest.raises(CompilerUnavailable, match=r"fails on '--version' \(exit 3\)"):
            compiler_info()


def test_warn_no_compiler_once_warns_exactly_once(fresh_probe):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert warn_no_compiler_once(CompilerUnavailable("config.cxx is empty")) is True
        assert warn_no_compiler_once("again") is False
        assert warn_no_compiler_once() is False
    assert len(caught) == 1
    warning = caught[0]
    assert issubclass(warning.category, NoCompilerWarning)
    assert issubclass(warning.category, FallbackWarning)
    text = str(warning.message)
    assert "C code is disabled" in text and "config.cxx is empty" in text
    assert "Python implementations run" in text
    assert "install gcc" in text and "cxx=" in text
    assert warning.filename == __file__  # points at the caller, not at tlink


def test_importing_tlink_cc_runs_no_compiler(tmp_path):
    script = (
        "import subprocess\n"
        "def forbidden(*a, **k):\n"
        "    raise SystemExit('a program was run at import: %r' % (a,))\n"
        "subprocess.Popen = forbidden\n"
        "subprocess.run = forbidden\n"
        "import tlink.cc, tlink.cc.cli\n"
        "print('ok')\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert proc.stdout.strip() == "ok"


_PROBE_SCRIPT = (
    "import dataclasses, json, platform, subprocess, sys\n"
    "platform.uname().processor  # the compiledir's name runs 'uname -p' once\n"
    "if sys.argv[1] == 'forbid':\n"
    "    def forbidden(*a, **k):\n"
    "        raise SystemExit('the compiler was run: %r' % (a,))\n"
    "    subprocess.Popen = forbidden\n"
    "from tlink.cc import compiler_info\n"
    "print(json.dumps(dataclasses.asdict(compiler_info())))\n"
)


@needs_cc
def test_a_new_process_reads_the_saved_probe_without_running_the_compiler(tmp_path):
    env = dict(os.environ, THEANO_FLAGS=f"base_compiledir={tmp_path}")

    def probe(mode: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", _PROBE_SCRIPT, mode], env=env,
                              capture_output=True, text=True, check=False)

    first = probe("allow")
    assert first.returncode == 0, first.stderr
    saved = list(tmp_path.rglob("probes/*.json"))
    assert len(saved) == 1
    assert oct(saved[0].parent.stat().st_mode & 0o777) == "0o700"
    again = probe("forbid")
    assert again.returncode == 0, again.stderr + again.stdout
    assert again.stdout == first.stdout
    # A damaged file is not trusted: the compiler is probed again and the file rewritten.
    saved[0].write_text('{"ident": "truncat')
    assert probe("forbid").returncode != 0
    redone = probe("allow")
    assert redone.returncode == 0 and redone.stdout == first.stdout
    assert probe("forbid").stdout == first.stdout
    # Other flags are another probe (their acceptance is part of the result).
    env["THEANO_FLAGS"] += ",gcc.cxxflags=-g"
    assert probe("forbid").returncode != 0


def test_prefetch_probes_once_in_the_background_and_compiler_info_waits(fresh_probe,
                                                                        monkeypatch):
    import threading
    import time

    from tlink.cc import compiler as compiler_module

    calls, started = [], threading.Event()
    real = compiler_module._probe_once

    def slow_probe(*args):
        calls.append(threading.current_thread().name)
        started.set()
        time.sleep(0.2)
        return real(*args)

    monkeypatch.setattr(compiler_module, "_probe_once", slow_probe)
    compiler_module.prefetch_compiler_info()
    assert started.wait(5)
    compiler_module.prefetch_compiler_info()  # already running: no second probe
    info = compiler_info()  # waits for the background probe instead of probing again
    assert calls == ["tlink-compiler-probe"]
    compiler_module.prefetch_compiler_info()  # known: nothing started
    assert compiler_info() is info and len(calls) == 1


def test_function_prefetches_the_probe_only_for_linkers_using_c(fresh_probe, monkeypatch):
    import tgraph.tensor as T
    from tlink import Mode, function
    from tlink.cc import compiler as compiler_module

    calls = []
    monkeypatch.setattr(compiler_module, "prefetch_compiler_info", lambda: calls.append(1))
    x = T.dvector("x")
    function([x], x + 1, mode=Mode(linker="py", optimizer=None))
    function([x], x + 1, mode=Mode(linker="vm", optimizer=None))
    assert calls == []
    function([x], x + 1, mode=Mode(linker="cvm", optimizer=None))
    assert calls == [1]

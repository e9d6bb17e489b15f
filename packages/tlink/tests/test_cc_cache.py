"""The compile cache: compiling, reuse in memory and across processes, broken entries.

Each test has its own cache directory (a ``ModuleCache`` on ``tmp_path``, or a subprocess
whose THEANO_FLAGS point base_compiledir there: compiledir is read-only in-process). Codes
differ per test (a tag in a comment) so no test sees a library another one loaded: the
dynamic loader reuses an already-loaded path without rereading the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from tgraph import config
from tlink.cc import (
    CacheEntryWarning,
    CompileError,
    ModuleCache,
    compiler_available,
)
from tlink.cc.key import library_name, module_name

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)")

ADD = r"""
/* tag: %s */
static PyObject *add(PyObject *self, PyObject *args)
{
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b))
        return NULL;
    return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static int tlink_exec(PyObject *module) { return PyModule_AddFunctions(module, methods); }
"""

NUMPY_SUM = r"""
#include <numpy/arrayobject.h>
static PyObject *total(PyObject *self, PyObject *arg)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FROM_OTF(arg, NPY_DOUBLE, NPY_ARRAY_IN_ARRAY);
    if (a == NULL)
        return NULL;
    const double *d = (const double *)PyArray_DATA(a);
    double s = 0.0;
    for (npy_intp i = 0; i < PyArray_SIZE(a); i++)
        s += d[i];
    Py_DECREF(a);
    return PyFloat_FromDouble(s);
}
static PyMethodDef methods[] = {{"total", total, METH_O, NULL}, {NULL, NULL, 0, NULL}};
static int tlink_exec(PyObject *module)
{
    import_array1(-1);
    return PyModule_AddFunctions(module, methods);
}
"""


def add_code(tag: str) -> str:
    return ADD % tag


def snapshot(root: str) -> dict[str, int]:
    """Every path under ``root`` with its mtime, to show that nothing was written."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            found[path] = os.stat(path).st_mtime_ns
    return found


def only_key(cache: ModuleCache) -> str:
    keys = [entry.key for entry in cache.entries()]
    assert len(keys) == 1, keys
    return keys[0]


BUILD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from tlink.cc import ModuleCache
    cache = ModuleCache(sys.argv[1])
    with open(sys.argv[2]) as f:
        code = f.read()
    module = cache.compile(code, name_hint="built elsewhere")
    print(json.dumps({"stats": cache.stats, "add": module.add(2, 3)}))
    """
)


def build_in_subprocess(root: str, code: str, tmp_path) -> dict:
    """Build (or load) ``code`` in another process, leaving this one's loader untouched."""
    source = tmp_path / f"code-{abs(hash(code))}.c"
    source.write_text(code)
    proc = subprocess.run(
        [sys.executable, "-c", BUILD_SCRIPT, root, str(source)],
        capture_output=True, text=True, env=clean_env(tmp_path), check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def clean_env(tmp_path, **flags: str) -> dict[str, str]:
    env = dict(os.environ)
    rc = tmp_path / "empty.theanorc"
    rc.write_text("")
    env["THEANORC"] = str(rc)
    env["THEANO_FLAGS"] = ",".join(f"{k}={v}" for k, v in flags.items())
    return env


# -- compiling and calling --------------------------------------------------------------


def test_compiles_and_calls_a_function_adding_two_ints(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    module = cache.compile(add_code("add-ints"), name_hint="adder")
    assert module.add(2, 40) == 42
    assert module.add(-7, 3) == -4
    key = only_key(cache)
    assert module.__name__ == module_name(key)
    assert cache.stats["compiled"] == 1


def test_compiles_a_module_using_numpys_c_api(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    module = cache.compile(NUMPY_SUM, name_hint="numpy sum")
    values = np.arange(12, dtype=np.float32).reshape(3, 4)[:, ::2]  # cast and copy
    assert module.total(values) == pytest.approx(float(values.sum()))
    with pytest.raises(TypeError, match="Cannot cast"):
        module.total(np.array(["not a number"]))


def test_same_inputs_return_the_same_module_without_touching_disk(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    code = add_code("same-twice")
    first = cache.compile(code, libraries=("m",))
    before = snapshot(cache.root)
    second = cache.compile(code, libraries=("m",))
    assert second is first
    assert snapshot(cache.root) == before
    assert cache.stats["compiled"] == 1
    assert cache.stats["memory_hits"] == 1


def test_different_options_give_different_modules(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    code = add_code("options") + "\n#ifndef TAG\n#error TAG must be defined\n#endif\n"
    one = cache.compile(code, compile_args=("-DTAG=1",))
    two = cache.compile(code, compile_args=("-DTAG=2",))
    assert one is not two
    assert one.__name__ != two.__name__
    assert len(list(cache.entries())) == 2


def test_entry_layout_metadata_and_private_modes(tmp_path):
    root = tmp_path / "base" / "compiledir"  # neither exists yet
    cache = ModuleCache(str(root))
    cache.compile(add_code("layout"), name_hint="layout test")
    key = only_key(cache)
    entry = root / key[:2] / key
    assert sorted(os.listdir(entry)) == sorted(["meta.json", "mod.c", library_name(key)])
    meta = json.loads((entry / "meta.json").read_text())
    library = entry / library_name(key)
    assert meta["key"] == key
    assert meta["name_hint"] == "layout test"
    assert meta["size"] == library.stat().st_size
    assert meta["sha256"] == hashlib.sha256(library.read_bytes()).hexdigest()
    assert meta["inputs"]["native_isa"]
    assert meta["inputs"]["cache_tag"] == sys.implementation.cache_tag
    assert "tlink_exec" in (entry / "mod.c").read_text()
    for directory in (root.parent, root, root / key[:2], entry, root / "tmp"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory
    assert os.listdir(root / "tmp") == []  # the build directory was renamed away


# -- across processes -------------------------------------------------------------------


REUSE_SCRIPT = textwrap.dedent(
    """
    import json
    from tlink.cc import compile_module, default_cache
    code = open("code.c").read()
    module = compile_module(code, name_hint="reused")
    print(json.dumps({"stats": default_cache().stats, "add": module.add(20, 22),
                      "file": module.__file__}))
    """
)


def test_a_new_process_reuses_the_entry_without_compiling(tmp_path):
    (tmp_path / "code.c").write_text(add_code("new-process"))
    env = clean_env(tmp_path, base_compiledir=str(tmp_path / "base"))
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", REUSE_SCRIPT], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout))
    first, second = runs
    assert first["add"] == second["add"] == 42
    assert first["stats"]["compiled"] == 1
    assert second["stats"]["compiled"] == 0 and second["stats"]["loaded"] == 1
    assert first["file"] == second["file"]
    assert first["file"].startswith(str(tmp_path / "base"))


# -- broken entries ---------------------------------------------------------------------


def _truncate(entry, key):
    library = entry / library_name(key)
    library.write_bytes(library.read_bytes()[:100])
    return "truncated"


def _flip_a_byte(entry, key):
    library = entry / library_name(key)
    data = bytearray(library.read_bytes())
    data[len(data) // 2] ^= 0xFF
    library.write_bytes(bytes(data))
    return "altered"


def _garbage_meta(entry, key):
    (entry / "meta.json").write_text("{not json")
    return "meta.json is unreadable"


def _missing_library(entry, key):
    (entry / library_name(key)).unlink()
    return "is missing"


def _not_an_elf_with_matching_meta(entry, key):
    """A damaged library whose meta was rewritten to match: only the loader notices."""
    library = entry / library_name(key)
    garbage = b"this is not a shared library\n" * 100
    library.write_bytes(garbage)
    meta = json.loads((entry / "meta.json").read_text())
    meta["size"] = len(garbage)
    meta["sha256"] = hashlib.sha256(garbage).hexdigest()
    (entry / "meta.json").write_text(json.dumps(meta))
    return "does not load"


@pytest.mark.parametrize(
    "damage",
    [_truncate, _flip_a_byte, _garbage_meta, _missing_library, _not_an_elf_with_matching_meta],
    ids=["truncated", "altered", "garbage-meta", "missing-library", "load-failure"],
)
def test_a_broken_entry_is_detected_warned_about_and_rebuilt(tmp_path, damage):
    root = str(tmp_path / "cache")
    code = add_code(f"broken-{damage.__name__}")
    assert build_in_subprocess(root, code, tmp_path)["stats"]["compiled"] == 1
    cache = ModuleCache(root)
    key = only_key(cache)
    entry = tmp_path / "cache" / key[:2] / key
    what = damage(entry, key)
    with pytest.warns(CacheEntryWarning) as record:
        module = cache.compile(code)
    message = str(record[0].message)
    assert str(entry) in message and what in message
    assert module.add(1, 2) == 3
    assert cache.stats["rebuilt"] == 1 and cache.stats["compiled"] == 1
    assert cache.verify(key) is None
    assert os.listdir(tmp_path / "cache" / "tmp") == []  # trash removed
    # And the repaired entry serves another process without a rebuild.
    assert build_in_subprocess(root, code, tmp_path)["stats"]["compiled"] == 0


# -- failures ---------------------------------------------------------------------------


def test_a_compile_error_names_the_command_and_shows_stderr(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    code = "static int tlink_exec(PyObject *module) { return undeclared_thing; }\n"
    pattern = r"C compilation of module tlink_[0-9a-f]+ failed"
    with pytest.raises(CompileError, match=pattern) as info:
        cache.compile(code)
    error = info.value
    message = str(error)
    assert "command: " in message and " -x c " in message and "mod.c" in message
    assert "undeclared_thing" in message and "error" in message
    assert error.command is not None and error.command[0] == cache_compiler()
    assert "undeclared_thing" in error.stderr
    assert error.source_path is not None and error.source_path in message
    with open(error.source_path) as f:
        assert "undeclared_thing" in f.read()
    assert os.path.dirname(error.source_path) == cache.failed_dir
    assert list(cache.entries()) == []
    assert os.listdir(cache.tmp_dir) == []
    assert isinstance(error, RuntimeError)


def cache_compiler() -> str:
    from tlink.cc import compiler_info

    return compiler_info().cxx


def test_an_exception_from_tlink_exec_reaches_the_caller(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    code = textwrap.dedent(
        """
        static int tlink_exec(PyObject *module)
        {
            PyErr_SetString(PyExc_ValueError, "tlink_exec refuses on purpose");
            return -1;
        }
        """
    )
    with pytest.raises(ValueError, match="refuses on purpose"):
        cache.compile(code)
    silent = "static int tlink_exec(PyObject *module) { return -1; }\n"
    with pytest.raises(ImportError, match="tlink_exec failed without setting an exception"):
        cache.compile(silent)
    assert cache.stats["rebuilt"] == 0


def test_code_must_be_a_string(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    with pytest.raises(TypeError, match="code must be a str of C source, got bytes"):
        cache.compile(b"static int tlink_exec(PyObject *m) { return 0; }")


# -- cleaning ---------------------------------------------------------------------------


def test_clean_stale_removes_only_old_temporary_directories(tmp_path):
    cache = ModuleCache(str(tmp_path / "cache"))
    os.makedirs(cache.tmp_dir)
    old = os.path.join(cache.tmp_dir, "build-0123456789abcdef-dead")
    young = os.path.join(cache.tmp_dir, "build-fedcba9876543210-busy")
    for path in (old, young):
        os.makedirs(path)
        with open(os.path.join(path, "mod.c"), "w") as f:
            f.write("/* left by a killed process */\n")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    assert cache.clean_stale() == 1
    assert os.listdir(cache.tmp_dir) == [os.path.basename(young)]


def test_compile_module_uses_config_compiledir(tmp_path):
    """In this process compile_module goes to config.compiledir; here only its path is
    checked (the subprocess test above shows it compiling there)."""
    from tlink.cc import default_cache

    assert default_cache().root == os.path.abspath(config.compiledir)
    assert default_cache() is default_cache()

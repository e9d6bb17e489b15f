"""Eight processes compiling into one empty cache at once: no errors, no broken entries, and
nobody waits for somebody else's compilation.

The compiler is a wrapper around the real one that holds any source containing
``TLINK_SLOW_GATE`` until the test creates a ``release`` file: a compilation that is slow
for as long as the test needs, not for a guessed number of seconds. Four processes compile
that gated source (one key); four compile small distinct sources, each starting only once a
gated compilation is under way. Those four must finish while the gated ones are still held:
with any lock shared between keys they could not (the wrapper gives up waiting after two
minutes, so such a bug fails the test instead of hanging it). The order is shown by
timestamps the processes and the wrapper write, never by a wall-clock threshold.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from tlink.cc import ModuleCache, compiler_available, compiler_info

pytestmark = [
    pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)"),
    pytest.mark.skipif(sys.platform == "win32", reason="the gate compiler is a shell script"),
]

WRAPPER = """#!/bin/sh
# Run the real compiler; hold sources marked TLINK_SLOW_GATE until $GATE_DIR/release exists.
for arg in "$@"; do
    case "$arg" in
        *.c)
            if grep -q TLINK_SLOW_GATE "$arg" 2>/dev/null; then
                now=$(date +%s.%N)
                echo "$now" > "$GATE_DIR/started-$$"
                i=0
                while [ ! -e "$GATE_DIR/release" ] && [ $i -lt 1200 ]; do
                    sleep 0.1
                    i=$((i + 1))
                done
            fi
            ;;
    esac
done
exec {real} "$@"
"""

GATED = r"""
/* TLINK_SLOW_GATE: the same source in four processes */
static PyObject *which(PyObject *self, PyObject *noargs) { return PyLong_FromLong(-1); }
static PyMethodDef methods[] = {{"which", which, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static int tlink_exec(PyObject *module) { return PyModule_AddFunctions(module, methods); }
"""

SMALL = r"""
static PyObject *which(PyObject *self, PyObject *noargs) { return PyLong_FromLong(%d); }
static PyMethodDef methods[] = {{"which", which, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static int tlink_exec(PyObject *module) { return PyModule_AddFunctions(module, methods); }
"""

WORKER = textwrap.dedent(
    """
    import glob, json, os, sys, time
    from tlink.cc import compile_module, default_cache
    role, index = sys.argv[1], int(sys.argv[2])
    code = open(sys.argv[3]).read()
    gate = os.environ["GATE_DIR"]
    if role == "small":
        # Start only once a gated compilation holds the compiler.
        deadline = time.time() + 120
        while not glob.glob(os.path.join(gate, "started-*")) and time.time() < deadline:
            time.sleep(0.02)
    start = time.time()
    module = compile_module(code, name_hint=f"{role} {index}")
    end = time.time()
    print(json.dumps({"role": role, "index": index, "start": start, "end": end,
                      "which": module.which(), "file": module.__file__,
                      "stats": default_cache().stats}))
    """
)


def wait_for(predicate, what: str, timeout_s: float = 120.0) -> None:
    """Poll ``predicate``; fail (naming ``what``) only if it never holds."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.slow
def test_eight_processes_share_one_empty_cache_without_waiting(tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    wrapper = tmp_path / "gate-cc"
    wrapper.write_text(WRAPPER.format(real=compiler_info().cxx))
    wrapper.chmod(0o755)
    (tmp_path / "gated.c").write_text(GATED)
    for i in range(4):
        (tmp_path / f"small{i}.c").write_text(SMALL % i)
    rc = tmp_path / "empty.theanorc"
    rc.write_text("")
    base = tmp_path / "base"
    env = dict(os.environ, GATE_DIR=str(gate), THEANORC=str(rc),
               THEANO_FLAGS=f"base_compiledir={base},cxx={wrapper}")

    def start(role: str, index: int, source: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-c", WORKER, role, str(index), str(tmp_path / source)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )

    procs = [start("gated", i, "gated.c") for i in range(4)]
    procs += [start("small", i, f"small{i}.c") for i in range(4)]
    gated, small = procs[:4], procs[4:]
    try:
        results = []
        for proc in small:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
        # The small compilations are done while every gated one is still held ...
        assert not (gate / "release").exists()
        assert all(proc.poll() is None for proc in gated)
        # ... and all four gated processes were compiling the same key at once.
        wait_for(lambda: len(glob.glob(str(gate / "started-*"))) == 4,
                 "the four gated compilations to start")
        (gate / "release").write_text("")
        for proc in gated:
            out, err = proc.communicate(timeout=180)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
    finally:
        (gate / "release").write_text("")
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()

    small_results = [r for r in results if r["role"] == "small"]
    gated_results = [r for r in results if r["role"] == "gated"]
    first_gate = min(float((gate / name).read_text()) for name in os.listdir(gate)
                     if name.startswith("started-"))
    for r in small_results:
        assert r["which"] == r["index"]
        assert r["stats"]["compiled"] == 1
        assert r["start"] >= first_gate  # began while a gated compilation was running
        assert r["end"] < min(g["end"] for g in gated_results)
    assert {r["which"] for r in gated_results} == {-1}
    assert len({r["file"] for r in gated_results}) == 1
    assert sum(r["stats"]["compiled"] for r in gated_results) == 4  # nobody waited
    assert sum(r["stats"]["lost_races"] for r in gated_results) == 3  # first rename won

    [compiledir] = [os.path.join(base, d) for d in os.listdir(base)]
    cache = ModuleCache(compiledir)
    entries = list(cache.entries())
    assert len(entries) == 5
    for entry in entries:
        assert cache.verify(entry.key) is None, entry.path
    assert sorted(e.name_hint.split()[0] for e in entries) == ["gated"] + ["small"] * 4
    assert os.listdir(cache.tmp_dir) == []


def test_threads_share_one_build_per_key_and_never_wait_across_keys(tmp_path, monkeypatch):
    """In one process too: a thread held in a gated compilation does not delay another
    thread's different key, and threads needing the same key get one module."""
    import threading

    from tgraph import config

    gate = tmp_path / "gate"
    gate.mkdir()
    wrapper = tmp_path / "gate-cc"
    wrapper.write_text(WRAPPER.format(real=compiler_info().cxx))
    wrapper.chmod(0o755)
    cache = ModuleCache(str(tmp_path / "cache"))
    results: dict[str, object] = {}
    errors: list[BaseException] = []

    def compile_into(name: str, code: str) -> None:
        try:
            results[name] = cache.compile(code)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    monkeypatch.setenv("GATE_DIR", str(gate))
    try:
        with config.change_flags(cxx=str(wrapper)):
            held = [threading.Thread(target=compile_into, args=(f"gated{i}", GATED))
                    for i in range(3)]
            for thread in held:
                thread.start()
            wait_for(lambda: glob.glob(str(gate / "started-*")), "the gated compilation")
            small = threading.Thread(target=compile_into, args=("small", SMALL % 5))
            small.start()
            small.join(timeout=120)
            assert not small.is_alive() and "small" in results, errors
            assert all(thread.is_alive() for thread in held)
            (gate / "release").write_text("")
            for thread in held:
                thread.join(timeout=120)
    finally:
        (gate / "release").write_text("")
    assert not errors, errors
    assert results["small"].which() == 5
    assert results["gated0"] is results["gated1"] is results["gated2"]
    assert results["gated0"].which() == -1
    assert cache.stats["compiled"] == 2  # one per key: the gated key was built once
    assert len(glob.glob(str(gate / "started-*"))) == 1

"""The ``profile`` flag prints every function's profile, and their sum, when the process exits."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import numpy as np
    import tgraph.tensor as T
    from tlink import function

    x = T.dvector("x")
    f = function([x], T.exp(x) * 2.0, name="first")
    g = function([x], T.sin(x), name="second")
    for _ in range(3):
        f(np.ones(4))
    g(np.ones(4))
    print("script done")
""")


def _run(flags: str, tmp_path) -> subprocess.CompletedProcess:
    env = dict(os.environ, THEANO_FLAGS=flags)
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=600, check=False)


def test_profile_flag_prints_at_exit(tmp_path):
    done = _run("profile=True", tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "script done"
    err = done.stderr
    assert err.count("Function profiling") == 3  # two functions and their sum
    assert "Message: first" in err and "Message: second" in err
    assert "Time in 3 calls to Function.__call__" in err
    assert "Sum of all(2) printed profiles at exit" in err
    assert "Time in 4 calls to Function.__call__" in err
    for section in ("Class\n---", "Ops\n---", "Apply\n-----"):
        assert section in err
    assert "Memory Profile" not in err


def test_profile_memory_and_destination(tmp_path):
    target = tmp_path / "prof.txt"
    done = _run(f"profile=True,profile_memory=True,profiling.destination={target}", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Function profiling" not in done.stderr
    text = target.read_text()
    assert text.count("Memory Profile") == 3
    assert "Max peak memory with current setting" in text


def test_without_the_flag_nothing_is_printed(tmp_path):
    done = _run("", tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Function profiling" not in done.stderr

"""NanGuardMode's fast paths: the C screen (tdebug._guard), the Python fallback, pdb."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tdebug.nanguardmode as ng
import tgraph.tensor as T
from tgraph import config
from tlink import function

c_guard = pytest.importorskip("tdebug._guard", reason="tdebug was built without its C check")
LIMIT = float(ng._SUMSQ_LIMIT)

_values = st.one_of(st.floats(-1e3, 1e3, width=32), st.sampled_from(
    [np.nan, np.inf, -np.inf, 2e10, -3e15, 1e30, 0.0, -0.0, 1e-40]))


@settings(max_examples=300, deadline=None)
@given(arrays(st.sampled_from(["float32", "float64"]), st.integers(0, 70), elements=_values))
def test_screen_passes_only_clean_arrays(v):
    bad = np.isnan(v).any() or np.isinf(v).any() or (np.abs(v) > ng.BIG_THRESHOLD).any()
    if c_guard.screen(v, LIMIT):
        assert not bad
    elif not bad:  # moderate clean values always pass: only the rare suspects go to Python
        assert np.abs(v).max(initial=0) > 1e3


def test_screen_leaves_everything_else_to_the_python_check():
    small = np.ones(100)
    assert c_guard.screen(small, LIMIT) and c_guard.screen(small.astype("float32"), LIMIT)
    assert not c_guard.screen(small[::2], LIMIT)  # strided
    assert not c_guard.screen(np.ones(c_guard.SMALL + 1), LIMIT)  # one BLAS pass is faster
    assert not c_guard.screen(np.ones(10, dtype="int64"), LIMIT)
    assert not c_guard.screen(np.ones(10, dtype="complex128"), LIMIT)
    assert not c_guard.screen(np.float64(1.0), LIMIT)
    assert not c_guard.screen([1.0], LIMIT)
    assert c_guard.screen(np.array([np.inf]), np.inf) is False  # nan_only: Python decides


def test_guarded_nodes_stay_c_thunks_and_still_report():
    from tlink.linker._cvm import CThunk

    x = T.dvector("x")
    f = function([x], T.log(x) * 2.0, mode=ng.NanGuardMode(True, True, True))
    assert all(type(t) is CThunk for t in f.fn.thunks)
    assert any(hasattr(t, "guarded") for t in f.fn.thunks)
    np.testing.assert_allclose(f(np.ones(5)), np.zeros(5))
    with pytest.raises(ng.NanGuardError, match=r"NaN \(1\) detected in output 0 of node"):
        f(np.array([1.0, -1.0, 2.0]))


def test_python_closures_when_the_c_check_is_missing(monkeypatch):
    monkeypatch.setattr(ng, "_c_guard", None)
    x = T.dvector("x")
    f = function([x], T.log(x) * 2.0, mode=ng.NanGuardMode(True, True, True))
    assert not any(type(t).__name__ == "CThunk" and hasattr(t, "guarded")
                   for t in f.fn.thunks)
    np.testing.assert_allclose(f(np.ones(5)), np.zeros(5))
    with pytest.raises(ng.NanGuardError, match="NaN"):
        f(-np.ones(3))


def test_action_pdb_prints_the_report_and_starts_the_debugger(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(ng.pdb, "set_trace", lambda *a, **k: calls.append(a))
    x = T.dvector("x")
    f = function([x], T.log(x), mode=ng.NanGuardMode(True, True, True))
    with config.change_flags(NanGuardMode__action="pdb"):
        out = f(np.array([1.0, -1.0]))
    assert len(calls) == 1  # once per call, at the first bad value
    assert np.isnan(out[1])  # continuing from the debugger finishes the call
    printed = capsys.readouterr().out
    assert "NanGuardMode: NaN (1) detected in output 0 of node" in printed

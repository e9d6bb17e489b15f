"""The compiled call path (tlink.compile._call) against the Python ``Function.__call__``.

Each case calls the same function through both paths (``Function._python_call`` is the
reference) and checks the same result (value, dtype, type, identity of passed-through
arrays) or the same error (type and message), and the same state afterwards (input cells,
shared values, defaults).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tgraph.tensor as T
from tgraph import config
from tgraph.shared import shared
from tlink import BadInputError, In, Mode, function
from tlink.compile.function_obj import Function
from tlink.linker.vm import VMLinker

_call = pytest.importorskip("tlink.compile._call", reason="the call path extension is not built")

MODES = {"cvm": lambda: Mode(VMLinker(use_cloop=True), None),
         "vm": lambda: Mode(VMLinker(use_cloop=False), None)}


def outcome(call):
    try:
        return "ok", call()
    except Exception as exc:  # compared below, type and message
        return "error", (type(exc), str(exc))


def assert_same(ref, got):
    assert ref[0] == got[0], (ref, got)
    if ref[0] == "error":
        assert got[1] == ref[1]
        return
    a, b = ref[1], got[1]
    if isinstance(a, list | dict):
        assert type(a) is type(b) and len(a) == len(b)
        pairs = zip(a.values(), b.values()) if isinstance(a, dict) else zip(a, b)
        for x, y in pairs:
            assert_same(("ok", x), ("ok", y))
        return
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a, b)


def both(f, *args, **kwargs):
    """Call ``f`` through the Python path, then the compiled one; return both outcomes."""
    ref = outcome(lambda: Function._python_call(f, *args, **kwargs))
    got = outcome(lambda: f(*args, **kwargs))
    assert_same(ref, got)
    return ref, got


def test_the_compiled_path_is_installed():
    assert Function.__call__ is _call.function_call
    assert Function._python_call is not _call.function_call


ARGUMENTS = [
    np.float32(2.5), 2.0, 0.1, 3, True, np.float64(2.0), np.asarray(np.float32(1.5)),
    np.asarray(1.5), np.ones(1, dtype="float32"), np.float32("nan"), float("nan"),
    float("inf"), 1e300, -0.0, "2", None, [1.0], np.asarray(np.float32(2)).astype(">f4"),
]


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_scalar_inputs_convert_or_fail_alike(mode, dtype):
    x = T.scalar("x", dtype=dtype)
    f = function([x], x * 2, mode=MODES[mode](), name="f")
    for arg in ARGUMENTS:
        both(f, arg)


@pytest.mark.parametrize("kwargs", [dict(strict=True), dict(allow_downcast=False),
                                    dict(allow_downcast=True)])
def test_strict_and_downcast_settings_are_honoured(kwargs):
    x = T.fscalar("x")
    f = function([In(x, **kwargs)], x + 1, mode=MODES["cvm"]())
    for arg in ARGUMENTS:
        both(f, arg)


class Sub(np.ndarray):
    """An ndarray subclass: TensorType.filter passes it through, the fast path does not."""


def test_arrays_pass_through_unchanged_or_are_refused_alike():
    x = T.fmatrix("x")
    r = T.frow("r")
    f = function([x, r], [x + r, x], mode=MODES["cvm"](), name="train")
    m = np.ones((2, 3), dtype="float32")
    row = np.ones((1, 3), dtype="float32")
    assert f(m, row)[1] is not m  # the output is a computed copy (DeepCopy), as before
    for args in [(m, row), (m, np.ones((2, 3), dtype="float32")), (m.astype("float64"), row),
                 (np.ones(3, dtype="float32"), row), (m.view(Sub), row),
                 (m.T, row), (m[:, ::2], row[:, ::2]), (m.tolist(), row)]:
        both(f, *args)
    ref, _got = both(f, m.astype("float64"), row)
    assert ref[1][0] is BadInputError and "at index 0 (x)" in ref[1][1]


def test_passed_through_input_is_the_same_object_in_the_input_cell():
    x = T.dvector("x")
    seen = []
    f = function([x], x * 1.0, mode=Mode(VMLinker(use_cloop=True, callback_input=(
        lambda var, value: seen.append(value))), None))
    v = np.arange(3.0)
    f(v)
    assert any(value is v for value in seen)


def test_defaults_keywords_and_wrong_counts_take_the_python_path():
    x, y = T.dscalars("x", "y")
    f = function([x, In(y, value=10.0)], x + y, mode=MODES["cvm"](), name="g")
    both(f, 1.0)
    both(f, 1.0, 2.0)
    both(f, 1.0, y=3.0)
    both(f)
    both(f, 1.0, 2.0, 3.0)
    assert f(1.0) == 11.0 and f(1.0, 2.0) == 3.0 and f(1.0) == 11.0  # the default is back
    both(f, "a", 2.0)
    assert f(1.0) == 11.0


def test_updates_outputs_kinds_and_aliasing_alike():
    x = T.dvector("x")
    w = shared(np.zeros(2), name="w")
    fs = [function([x], [x * 2.0, x + 1.0], updates=[(w, w + x)], mode=MODES["cvm"]()),
          function([x], {"a": x * 2.0}, mode=MODES["cvm"]()),
          function([x], None, updates=[(w, w - x)], mode=MODES["cvm"]())]
    for f in fs:
        both(f, np.ones(2))
    # Each call runs once per path: +x twice, then -x twice.
    np.testing.assert_array_equal(w.get_value(), [0.0, 0.0])
    a, b = T.dvectors("a", "b")
    g = function([In(a, mutable=True), In(b, mutable=True)], a + b, mode=MODES["cvm"]())
    v = np.ones(2)
    both(g, v, v)


def test_trust_input_skips_the_checks():
    x = T.fscalar("x")
    f = function([x], x + 1, mode=MODES["cvm"]())
    f.trust_input = True
    arr = np.asarray(np.float32(2))
    assert f(arr) == 3.0
    both(f, np.asarray(np.float64(2)))  # not converted: whatever the Op makes of it
    both(f, np.float32(2))  # a NumPy scalar is not an array: the Op refuses it


def test_profile_takes_the_python_path_and_is_filled():
    x = T.dvector("x")
    f = function([x], x * 2.0, mode=MODES["cvm"](), profile=True)
    f(np.ones(2))
    f(np.ones(2))
    assert f.profile.fct_callcount == 2


def test_mode_times_grow():
    x = T.dvector("x")
    mode = MODES["cvm"]()
    f = function([x], x * 2.0, mode=mode)
    before = (f.maker.mode.fn_time, f.maker.mode.call_time)
    f(np.ones(2))
    after = (f.maker.mode.fn_time, f.maker.mode.call_time)
    assert after[0] > before[0] and after[1] > before[1]
    assert after[1] - before[1] >= after[0] - before[0]


def test_an_error_in_the_graph_restores_defaults_alike():
    x, y = T.dvectors("x", "y")
    f = function([x, In(y, value=np.ones(2))], x + y, mode=MODES["cvm"]())
    both(f, np.ones(3), np.ones(2))
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])


@settings(max_examples=60, deadline=None)
@given(value=st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64),
                       st.floats(width=32).map(np.float32), st.integers(-2**40, 2**40)),
       dtype=st.sampled_from(["float32", "float64"]), floatx=st.sampled_from(["float32",
                                                                            "float64"]))
def test_random_scalars_convert_alike(value, dtype, floatx):
    x = T.scalar("x", dtype=dtype)
    f = function([x], x * 1, mode=MODES["cvm"]())
    old = config.floatX
    config.floatX = floatx
    try:
        both(f, value)
    finally:
        config.floatX = old


def test_common_values_skip_the_python_filter_and_others_use_it(monkeypatch):
    x = T.fscalar("x")
    v = T.dvector("v")
    f = function([x, v], v * x, mode=MODES["cvm"]())
    used = []
    original = f._filter

    def counting(k, value, default=False):
        used.append(k)
        return original(k, value, default)

    monkeypatch.setattr(f, "_filter", counting)
    f(np.float32(2), np.ones(2))
    f(2.0, np.ones(2))
    f(np.asarray(np.float32(2)), np.ones(2))
    assert used == []
    f(2, np.ones(2))  # a Python int: converted by TensorType.filter
    f(np.float32(2), [1.0, 2.0])
    assert used[:1] == [0] and used[-1] == 1

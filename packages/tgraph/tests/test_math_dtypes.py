"""Result dtypes of the math library (Theano 1.0's table), casts, round's default mode and
warning, mean/var/std values, norm, and the seed's float32 logistic-regression exercise."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from elemwise_testtools import run

from tgraph import config
from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType


def v(dtype, ndim=1, name=None):
    return TensorType(dtype, (False,) * ndim)(name)


# (expression builder, floatX, expected dtype) — Theano 1.0's results.
DTYPE_TABLE = [
    ("f32 * 2.0", lambda: v("float32") * 2.0, "float64", "float32"),
    ("f32 * 2", lambda: v("float32") * 2, "float64", "float32"),
    ("f32 * 1e300", lambda: v("float32") * 1e300, "float64", "float64"),
    ("f32 + i64", lambda: v("float32") + v("int64"), "float64", "float64"),
    ("f32 + i8", lambda: v("float32") + v("int8"), "float64", "float32"),
    ("f32 + i32", lambda: v("float32") + v("int32"), "float64", "float64"),
    ("f32 / i64", lambda: v("float32") / v("int64"), "float64", "float64"),
    ("i32 / i32", lambda: v("int32") / v("int32"), "float64", "float64"),
    ("i32 / i32 (floatX=float32)", lambda: v("int32") / v("int32"), "float32", "float32"),
    ("i8 / 2", lambda: v("int8") / 2, "float64", "float64"),
    ("i8 / 2 (floatX=float32)", lambda: v("int8") / 2, "float32", "float32"),
    ("i8 // 2", lambda: v("int8") // 2, "float64", "int8"),
    ("i8 + 1000", lambda: v("int8") + 1000, "float64", "int16"),
    ("u8 + i8", lambda: v("uint8") + v("int8"), "float64", "int16"),
    ("bool + bool", lambda: v("bool") + v("bool"), "float64", "bool"),
    ("exp(i8)", lambda: tm.exp(v("int8")), "float64", "float32"),
    ("exp(i32)", lambda: tm.exp(v("int32")), "float64", "float64"),
    ("exp(f32)", lambda: tm.exp(v("float32")), "float64", "float32"),
    ("f32 < 0.5", lambda: v("float32") < 0.5, "float64", "bool"),
    ("abs(c64)", lambda: abs(v("complex64")), "float64", "float32"),
    ("f32 ** 2", lambda: v("float32") ** 2, "float64", "float32"),
    ("x.mean() f32", lambda: v("float32").mean(), "float64", "float32"),
    ("x.mean() i32", lambda: v("int32").mean(), "float64", "float64"),
    ("x.sum() i8", lambda: v("int8").sum(), "float64", "int64"),
    ("x.sum() u8", lambda: v("uint8").sum(), "float64", "uint64"),
    ("x.sum() bool", lambda: v("bool").sum(), "float64", "int64"),
    ("x.sum() f32", lambda: v("float32").sum(), "float64", "float32"),
    ("x.prod() i16", lambda: v("int16").prod(), "float64", "int64"),
    ("x.max() i8", lambda: v("int8").max(), "float64", "int8"),
    ("argmax", lambda: v("float32").argmax(), "float64", "int64"),
    ("var f32", lambda: tm.var(v("float32")), "float64", "float32"),
    ("var f32 ddof=1", lambda: tm.var(v("float32"), ddof=1), "float64", "float32"),
    ("std i32", lambda: tm.std(v("int32")), "float64", "float64"),
]


@pytest.mark.parametrize(("build", "floatx", "expected"), [row[1:] for row in DTYPE_TABLE],
                         ids=[row[0] for row in DTYPE_TABLE])
def test_result_dtypes(build, floatx, expected):
    with config.change_flags(floatX=floatx):
        assert build().type.dtype == expected


def test_variable_equality_is_identity_and_eq_is_elementwise():
    x, y = v("float64"), v("float64")
    assert (x == y) is False and (x == x) is True
    assert tm.eq(x, y).type.dtype == "bool"
    assert tm.neq(x, y).type.dtype == "bool"


# ---------------------------------------------------------------------------------------------
# cast


def test_cast():
    x = v("float64", name="x")
    assert tm.cast(x, "float64") is x
    y = tm.cast(x, "int32")
    assert y.type.dtype == "int32"
    np.testing.assert_array_equal(run(y, {x: np.array([1.7, -1.7])}), [1, -1])
    with config.change_flags(floatX="float32"):
        assert tm.cast(x, "floatX").type.dtype == "float32"
    assert x.astype("float32").type.dtype == "float32"
    with pytest.raises(TypeError, match="ambiguous"):
        tm.cast(v("complex64"), "float32")
    with pytest.raises(TypeError, match="unsupported dtype"):
        tm.cast(x, "float128")


# ---------------------------------------------------------------------------------------------
# round


def test_round_default_is_half_to_even_with_theano_warning():
    x = v("float64", name="x")
    with pytest.warns(UserWarning, match="changed its default from `half_away_from_zero` to "
                                         "`half_to_even`"):
        y = tm.round(x)
    assert y.owner.op == tm.round_half_to_even
    xv = np.array([0.5, 1.5, 2.5, -0.5, -2.5])
    np.testing.assert_array_equal(run(y, {x: xv}), np.round(xv))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = tm.round(x, "half_away_from_zero")
        np.testing.assert_array_equal(run(z, {x: xv}), [1.0, 2.0, 3.0, -1.0, -3.0])
        assert tm.iround(x, "half_to_even").type.dtype == "int64"
    with pytest.raises(ValueError, match="mode 'up' is not implemented"):
        tm.round(x, "up")


# ---------------------------------------------------------------------------------------------
# mean, var, std, norm values


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_mean_var_std_values(axis, keepdims):
    x = v("float64", 2, "x")
    xv = np.random.default_rng(3).normal(size=(3, 4))
    g = {x: xv}
    np.testing.assert_allclose(run(tm.mean(x, axis, keepdims=keepdims), g),
                               np.mean(xv, axis=axis, keepdims=keepdims))
    for ddof in (0, 1):
        for corrected in (False, True):
            np.testing.assert_allclose(
                run(tm.var(x, axis, ddof, keepdims, corrected), g),
                np.var(xv, axis=axis, ddof=ddof, keepdims=keepdims), rtol=1e-10)
        np.testing.assert_allclose(run(tm.std(x, axis, ddof, keepdims), g),
                                   np.std(xv, axis=axis, ddof=ddof, keepdims=keepdims))
    assert tm.mean(x).name == "mean" and tm.var(x).name == "var" and tm.std(x).name == "std"


def test_mean_of_integers_and_float32_and_op_flag():
    i = v("int32", 1, "i")
    out = run(tm.mean(i), {i: np.array([1, 2, 4], dtype="int32")})
    assert out.dtype == np.float64 and out == pytest.approx(7 / 3)
    f = v("float32", 1, "f")
    out = run(tm.mean(f), {f: np.array([1, 2, 4], dtype="float32")})
    assert out.dtype == np.float32
    assert tm.mean(f, op=True).type.dtype == "float64"
    with pytest.raises(NotImplementedError, match="op=True"):
        tm.mean(f, op=True, dtype="float32")
    e = tm.mean(i, axis=())
    assert e.type.dtype == "float64"


def test_var_refuses_a_bool_ddof():
    with pytest.raises(ValueError, match="keepdims moved to position 3"):
        tm.var(v("float64"), None, True)


def test_norm_values():
    x = v("float64", 2, "x")
    xv = np.random.default_rng(4).normal(size=(3, 4))
    np.testing.assert_allclose(run(tm.norm(x, 2), {x: xv}), np.sqrt(np.sum(xv ** 2)))
    np.testing.assert_allclose(run(tm.norm(x, 1, axis=0, keepdims=True), {x: xv}),
                               np.sum(np.abs(xv), axis=0, keepdims=True))
    np.testing.assert_allclose(run(x.norm(3, axis=1), {x: xv}),
                               np.sum(np.abs(xv) ** 3, axis=1) ** (1 / 3))
    with pytest.raises(NotImplementedError, match="L=0"):
        tm.norm(x, 0)


# ---------------------------------------------------------------------------------------------
# The seed's exercise: a float32 logistic regression stays float32


def test_float32_logistic_regression_graph_stays_float32():
    dot_mod = pytest.importorskip("tgraph.tensor.dot", reason="tgraph.tensor.dot not there yet")
    with config.change_flags(floatX="float32"):
        x = TensorType("floatX", (False, False))("x")
        y = TensorType("floatX", (False,))("y")
        w = TensorType("floatX", (False,))("w")
        b = TensorType("floatX", ())("b")
        p_1 = 1 / (1 + tm.exp(-dot_mod.dot(x, w) - b))
        prediction = p_1 > 0.5
        xent = -y * tm.log(p_1) - (1 - y) * tm.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        for var in (p_1, xent, cost):
            assert var.type.dtype == "float32", var
        assert prediction.type.dtype == "bool"
        rng = np.random.default_rng(5)
        vals = {x: rng.normal(size=(6, 4)).astype("float32"),
                y: rng.integers(0, 2, size=6).astype("float32"),
                w: rng.normal(size=4).astype("float32"), b: np.asarray(0.1, "float32")}
        out = run(cost, vals)
        assert out.dtype == np.float32
        xv, yv, wv, bv = (vals[k].astype("float64") for k in (x, y, w, b))
        p = 1 / (1 + np.exp(-xv @ wv - bv))
        expected = np.mean(-yv * np.log(p) - (1 - yv) * np.log(1 - p)) + 0.01 * np.sum(wv ** 2)
        np.testing.assert_allclose(out, expected, rtol=1e-5)
        gradient = pytest.importorskip("tgraph.gradient")
        gw, gb = gradient.grad(cost, [w, b])
        assert gw.type.dtype == "float32" and gb.type.dtype == "float32"
        gwv, gbv = run([gw, gb], vals)
        np.testing.assert_allclose(gwv, xv.T @ (p - yv) / len(yv) + 0.02 * wv, rtol=1e-4)
        np.testing.assert_allclose(gbv, np.mean(p - yv), rtol=1e-4, atol=1e-6)

"""BLAS rewrites of single products: dot -> Dot22, Dot22/Gemm on vectors -> Gemv/Ger,
scaled Dot22 -> Dot22Scalar. Each fires on its target, skips a near miss, and the rewritten
graph agrees with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor.basic import constant
from tgraph.tensor.blas import _dot22, gemm_no_inplace
from tgraph.tensor.dot import dot
from tgraph.tensor.type import TensorType
from topt.engine import in2out
from topt.rewrites.blas import (
    blas_optdb,
    local_dot22_to_dot22scalar,
    local_dot22_to_ger_or_gemv,
    local_dot_to_dot22,
    local_gemm_to_gemv,
    local_gemm_to_ger,
)


def _t(dtype, bcast):
    return TensorType(dtype, bcast)()


def _rewrite(opt, inputs, outputs):
    fg = FunctionGraph(inputs, outputs)
    opt.optimize(fg)
    return fg


def _ops(fg):
    return [type(n.op).__name__ for n in fg.toposort()]


def _check(fg, inputs, outputs, values, rtol=1e-10):
    """The rewritten graph computes what the original does, and has the same types."""
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for g, w, o, fo in zip(got, want, outputs, fg.outputs):
        assert fo.type == o.type
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


def _val(rng, shape, dtype="float64"):
    if dtype.startswith("int"):
        return rng.integers(-3, 4, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.fixture
def rng():
    return np.random.default_rng(5)


M, V, ROW, COL = (False, False), (False,), (True, False), (False, True)
PIPELINE = blas_optdb.query("+fast_run")


# -- local_dot_to_dot22 -----------------------------------------------------------------------

@pytest.mark.parametrize("xb,yb,xs,ys", [
    (M, M, (3, 4), (4, 2)), (M, V, (3, 4), (4,)), (V, M, (4,), (4, 2)), (V, V, (4,), (4,)),
], ids=["mm", "mv", "vm", "vv"])
@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128"])
def test_dot_to_dot22_fires(rng, xb, yb, xs, ys, dtype):
    x, y = _t(dtype, xb), _t(dtype, yb)
    out = dot(x, y)
    fg = _rewrite(in2out(local_dot_to_dot22), [x, y], [out])
    assert "Dot22" in _ops(fg) and "Dot" not in _ops(fg)
    _check(fg, [x, y], [out], [_val(rng, xs, dtype), _val(rng, ys, dtype)],
           rtol=1e-5 if dtype == "float32" else 1e-10)


def test_dot_to_dot22_casts_mixed_operands(rng):
    """int32 . float32 computes in float64 (the upcast), as numpy.dot does."""
    x, y = _t("int32", M), _t("float32", V)
    out = dot(x, y)
    assert out.dtype == "float64"
    fg = _rewrite(in2out(local_dot_to_dot22), [x, y], [out])
    assert "Dot22" in _ops(fg)
    xv, yv = _val(rng, (3, 4), "int32"), _val(rng, 4, "float32")
    _check(fg, [x, y], [out], [xv, yv])
    np.testing.assert_allclose(evaluate(fg.outputs, {fg.inputs[0]: xv, fg.inputs[1]: yv})[0],
                               np.dot(xv, yv))


def test_dot_to_dot22_skips_integer_products():
    x, y = _t("int64", M), _t("int64", M)
    fg = _rewrite(in2out(local_dot_to_dot22), [x, y], [dot(x, y)])
    assert _ops(fg) == ["Dot"]


# -- Dot22 on vectors -> Gemv / Ger ------------------------------------------------------------

@pytest.mark.fires("local_dot22_to_ger_or_gemv")
@pytest.mark.parametrize("xb,yb,xs,ys,expect", [
    (M, V, (3, 4), (4,), "Gemv"),
    (V, M, (4,), (4, 2), "Gemv"),
    (V, V, (4,), (4,), "Gemv"),
], ids=["matrix.vector", "vector.matrix", "vector.vector"])
def test_dot_on_vectors_becomes_gemv(rng, xb, yb, xs, ys, expect):
    x, y = _t("float64", xb), _t("float64", yb)
    out = dot(x, y)
    fg = _rewrite(PIPELINE, [x, y], [out])
    assert expect in _ops(fg) and "Dot22" not in _ops(fg)
    _check(fg, [x, y], [out], [_val(rng, xs), _val(rng, ys)])


def test_outer_product_becomes_ger(rng):
    x, y = _t("float32", V), _t("float32", V)
    out = dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))
    fg = _rewrite(PIPELINE, [x, y], [out])
    assert "Ger" in _ops(fg) and "Dot22" not in _ops(fg)
    _check(fg, [x, y], [out], [_val(rng, 3, "float32"), _val(rng, 5, "float32")], rtol=1e-5)


def test_dot22_of_matrices_stays(rng):
    x, y = _t("float64", M), _t("float64", M)
    fg = _rewrite(in2out(local_dot22_to_ger_or_gemv), [x, y], [_dot22(x, y)])
    assert _ops(fg) == ["Dot22"]


def test_dot22_row_col_forms(rng):
    """Each branch of local_dot22_to_ger_or_gemv on rows/columns, including 1x1 results."""
    r, c, m = _t("float64", ROW), _t("float64", COL), _t("float64", M)
    cases = [(r, c, (1, 4), (4, 1)), (r, m, (1, 4), (4, 3)), (m, c, (3, 4), (4, 1)),
             (c, r, (3, 1), (1, 5))]
    for x, y, xs, ys in cases:
        out = _dot22(x, y)
        fg = _rewrite(in2out(local_dot22_to_ger_or_gemv), [x, y], [out])
        assert "Dot22" not in _ops(fg)
        assert {"Gemv", "Ger"} & set(_ops(fg))
        _check(fg, [x, y], [out], [_val(rng, xs), _val(rng, ys)])


@pytest.mark.fires("local_gemm_to_gemv")
def test_gemm_to_gemv_on_row_and_column(rng):
    m = _t("float64", M)
    for zb, xs, ys, which in ((ROW, (1, 4), (4, 3), "x"), (COL, (3, 4), (4, 1), "y")):
        z = _t("float64", zb)
        x = _t("float64", ROW) if which == "x" else m
        y = _t("float64", COL) if which == "y" else m
        a, b = _t("float64", ()), _t("float64", ())
        out = gemm_no_inplace(z, a, x, y, b)
        fg = _rewrite(in2out(local_gemm_to_gemv), [z, a, x, y, b], [out])
        assert "Gemv" in _ops(fg) and "Gemm" not in _ops(fg)
        zs = (xs[0], ys[1])
        _check(fg, [z, a, x, y, b], [out], [_val(rng, zs), np.asarray(1.5), _val(rng, xs),
                                            _val(rng, ys), np.asarray(-0.5)])


def test_gemm_to_gemv_skips_full_matrices():
    z, x, y = (_t("float64", M) for _ in range(3))
    fg = _rewrite(in2out(local_gemm_to_gemv), [z, x, y],
                  [gemm_no_inplace(z, 1.0, x, y, 1.0)])
    assert _ops(fg) == ["Gemm"]


@pytest.mark.parametrize("beta,fires", [
    pytest.param(1.0, True, marks=pytest.mark.fires("local_gemm_to_ger")),
    pytest.param(0.0, True, marks=pytest.mark.fires("local_gemm_to_ger")),
    (0.5, False),
])
def test_gemm_outer_product_to_ger(rng, beta, fires):
    z, x, y = _t("float64", M), _t("float64", COL), _t("float64", ROW)
    a = _t("float64", ())
    out = gemm_no_inplace(z, a, x, y, constant(np.asarray(beta)))
    fg = _rewrite(in2out(local_gemm_to_ger), [z, a, x, y], [out])
    assert ("Ger" in _ops(fg)) is fires and ("Gemm" in _ops(fg)) is not fires
    zv = _val(rng, (3, 4))
    if beta == 0.0:
        zv[0, 0] = np.nan  # ignored by gemm with beta 0, and by ger on zeros
    _check(fg, [z, a, x, y], [out], [zv, np.asarray(2.0), _val(rng, (3, 1)), _val(rng, (1, 4))])


def test_gemm_to_ger_skips_symbolic_beta():
    z, x, y = _t("float64", M), _t("float64", COL), _t("float64", ROW)
    b = _t("float64", ())
    fg = _rewrite(in2out(local_gemm_to_ger), [z, x, y, b], [gemm_no_inplace(z, 1.0, x, y, b)])
    assert _ops(fg) == ["Gemm"]


# -- Dot22Scalar --------------------------------------------------------------------------------

@pytest.mark.fires("local_dot22_to_dot22scalar")
def test_scaled_dot22_becomes_dot22scalar(rng):
    x, y, w = _t("float32", M), _t("float32", M), _t("float32", M)
    s = _t("float32", ())
    out = _dot22(x, y) * s * w
    fg = _rewrite(in2out(local_dot22_to_dot22scalar), [x, y, s, w], [out])
    assert "Dot22Scalar" in _ops(fg) and "Dot22" not in _ops(fg)
    _check(fg, [x, y, s, w], [out], [_val(rng, (3, 2), "float32"), _val(rng, (2, 4), "float32"),
                                     np.asarray(1.5, "float32"), _val(rng, (3, 4), "float32")],
           rtol=1e-5)


def test_dot22scalar_with_constant_and_int_scalar(rng):
    x, y = _t("float64", M), _t("float64", M)
    k = _t("int8", ())
    out = _dot22(x, y) * k
    fg = _rewrite(in2out(local_dot22_to_dot22scalar), [x, y, k], [out])
    assert _ops(fg).count("Dot22Scalar") == 1
    _check(fg, [x, y, k], [out], [_val(rng, (2, 3)), _val(rng, (3, 2)), np.asarray(3, "int8")])


def test_dot22scalar_near_misses():
    x, y = _t("float32", M), _t("float32", M)
    s64 = _t("float64", ())
    # a float64 scale upcasts the float32 product: the mul must stay
    fg = _rewrite(in2out(local_dot22_to_dot22scalar), [x, y, s64], [_dot22(x, y) * s64])
    assert "Dot22Scalar" not in _ops(fg)
    # the product is also read elsewhere: scaling it separately would compute it twice
    s = _t("float32", ())
    d = _dot22(x, y)
    fg = _rewrite(in2out(local_dot22_to_dot22scalar), [x, y, s], [d * s, d])
    assert "Dot22Scalar" not in _ops(fg)
    # no scalar factor at all
    w = _t("float32", M)
    fg = _rewrite(in2out(local_dot22_to_dot22scalar), [x, y, w], [_dot22(x, y) * w])
    assert "Dot22Scalar" not in _ops(fg)

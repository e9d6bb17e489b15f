"""BLAS ops (Gemv, Gemm, Ger, Dot22, Dot22Scalar) against NumPy: layouts, dtypes, in place,
beta == 0 ignoring garbage, errors, infer_shape, gradients and the op contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_shape_helpers import assert_infer_shape, check_node_grad, check_op_contract, run

from tgraph.graph.fg import InconsistencyError
from tgraph.tensor.basic import constant
from tgraph.tensor.blas import (
    Dot22,
    Dot22Scalar,
    Gemm,
    GemmRelated,
    Gemv,
    Ger,
    _dot22,
    _dot22scalar,
    gemm,
    gemm_inplace,
    gemm_no_inplace,
    gemv,
    gemv_inplace,
    gemv_no_inplace,
    ger,
    ger_destructive,
)
from tgraph.tensor.type import TensorType

_TOL = {"float16": 2e-2, "float32": 1e-4, "float64": 1e-10, "complex64": 1e-4,
        "complex128": 1e-10, "int32": 0, "int64": 0}


def _t(dtype, ndim):
    return TensorType(dtype, (False,) * ndim)()


def _val(rng, shape, dtype):
    if dtype.startswith("int"):
        return rng.integers(-3, 4, size=shape).astype(dtype)
    v = rng.standard_normal(shape)
    if dtype.startswith("complex"):
        v = v + 1j * rng.standard_normal(shape)
    return v.astype(dtype)


def _layout(arr, kind):
    """The same values as C-ordered, Fortran-ordered, strided or reversed memory."""
    if kind == "c":
        return np.ascontiguousarray(arr)
    if kind == "f":
        return np.asfortranarray(arr)
    if kind == "strided":
        return np.repeat(arr, 2, axis=-1)[..., ::2]
    return np.flip(np.flip(arr, 0).copy(), 0)  # negative strides along axis 0


def _close(got, want, dtype):
    tol = _TOL[dtype]
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * 10)


_LAYOUTS = st.sampled_from(["c", "f", "strided", "rev"])
_FLOATS = st.sampled_from(["float32", "float64", "complex64", "complex128"])


@pytest.fixture
def rng():
    return np.random.default_rng(3)


# -- values vs NumPy ---------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4),
       st.sampled_from(["float32", "float64", "complex128", "float16", "int32"]),
       _LAYOUTS, st.sampled_from([0.0, 1.0, -0.5]), st.booleans(), st.integers(0, 99))
def test_gemv_matches_numpy(m, n, dtype, layout, beta, inplace, seed):
    rng = np.random.default_rng(seed)
    y, A, x = _t(dtype, 1), _t(dtype, 2), _t(dtype, 1)
    alpha_v = 2 if dtype.startswith("int") else 1.5
    a, b = constant(np.asarray(alpha_v, dtype)), constant(np.asarray(int(beta), dtype)
                                                        if dtype.startswith("int") else
                                                        np.asarray(beta, dtype))
    op = gemv_inplace if inplace else gemv_no_inplace
    out = op(y, a, A, x, b)
    yv, Av, xv = _val(rng, m, dtype), _layout(_val(rng, (m, n), dtype), layout), _val(rng, n, dtype)
    y_before = yv.copy()
    got = run(out, {y: yv, A: Av, x: xv})
    bval = b.data.item()
    want = alpha_v * (Av.astype("complex128") @ xv) + (bval * y_before if bval else 0)
    assert got.dtype == np.dtype(dtype) and got.shape == (m,)
    _close(got, want, dtype)
    if not inplace:
        np.testing.assert_array_equal(yv, y_before)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4),
       st.sampled_from(["float32", "float64", "complex64", "float16"]), _LAYOUTS, _LAYOUTS,
       _LAYOUTS, st.sampled_from([0.0, 1.0, 0.25]), st.booleans(), st.integers(0, 99))
def test_gemm_matches_numpy(m, k, n, dtype, lz, lx, ly, beta, inplace, seed):
    rng = np.random.default_rng(seed)
    z, x, y = _t(dtype, 2), _t(dtype, 2), _t(dtype, 2)
    a, b = constant(np.asarray(-1.25, dtype)), constant(np.asarray(beta, dtype))
    out = (gemm_inplace if inplace else gemm_no_inplace)(z, a, x, y, b)
    zv = _layout(_val(rng, (m, n), dtype), lz)
    xv, yv = _layout(_val(rng, (m, k), dtype), lx), _layout(_val(rng, (k, n), dtype), ly)
    z_before = zv.copy()
    got = run(out, {z: zv, x: xv, y: yv})
    want = -1.25 * (xv.astype("complex128") @ yv) + (beta * z_before if beta else 0)
    assert got.dtype == np.dtype(dtype) and got.shape == (m, n)
    _close(got, want, dtype)
    if inplace and zv.size:
        assert np.shares_memory(got, zv)
    else:
        np.testing.assert_array_equal(zv, z_before)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), _FLOATS, _LAYOUTS, st.booleans(),
       st.integers(0, 99))
def test_ger_matches_numpy(m, n, dtype, layout, destructive, seed):
    rng = np.random.default_rng(seed)
    A, x, y = _t(dtype, 2), _t(dtype, 1), _t(dtype, 1)
    alpha = constant(np.asarray(0.5, dtype))
    out = (ger_destructive if destructive else ger)(A, alpha, x, y)
    Av = _layout(_val(rng, (m, n), dtype), layout)
    xv, yv = _val(rng, m, dtype), _val(rng, n, dtype)
    before = Av.copy()
    got = run(out, {A: Av, x: xv, y: yv})
    _close(got, before + 0.5 * np.outer(xv, yv), dtype)  # unconjugated for complex
    if destructive and Av.size:
        assert np.shares_memory(got, Av)
    if not destructive:
        np.testing.assert_array_equal(Av, before)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 4), st.integers(0, 4), st.integers(0, 4),
       st.sampled_from(["float32", "float64", "complex128", "float16"]), _LAYOUTS, _LAYOUTS,
       st.integers(0, 99))
def test_dot22_and_dot22scalar_match_numpy(m, k, n, dtype, lx, ly, seed):
    rng = np.random.default_rng(seed)
    x, y = _t(dtype, 2), _t(dtype, 2)
    xv, yv = _layout(_val(rng, (m, k), dtype), lx), _layout(_val(rng, (k, n), dtype), ly)
    got = run(_dot22(x, y), {x: xv, y: yv})
    assert got.dtype == np.dtype(dtype)
    _close(got, xv @ yv, dtype)
    a = constant(np.asarray(3.0, dtype))
    got = run(_dot22scalar(x, y, a), {x: xv, y: yv})
    assert got.dtype == np.dtype(dtype) and got.shape == (m, n)
    _close(got, 3.0 * (xv.astype("complex128") @ yv), dtype)


def test_beta_zero_ignores_nan_and_garbage(rng):
    y, A, x = _t("float64", 1), _t("float64", 2), _t("float64", 1)
    z, X, Y = _t("float64", 2), _t("float64", 2), _t("float64", 2)
    one, zero = constant(1.0), constant(0.0)
    Av, xv = rng.standard_normal((3, 2)), rng.standard_normal(2)
    for op in (gemv_no_inplace, gemv_inplace):
        got = run(op(y, one, A, x, zero), {y: np.full(3, np.nan), A: Av, x: xv})
        np.testing.assert_allclose(got, Av @ xv)
    Xv, Yv = rng.standard_normal((3, 2)), rng.standard_normal((2, 4))
    for op in (gemm_no_inplace, gemm_inplace):
        for zv in (np.full((3, 4), np.nan), np.asfortranarray(np.full((3, 4), np.inf))):
            np.testing.assert_allclose(run(op(z, one, X, Y, zero), {z: zv, X: Xv, Y: Yv}),
                                       Xv @ Yv)


def test_scalar_alpha_beta_symbolic_and_castable(rng):
    """alpha/beta may be symbolic and of a lower dtype of the same kind (float64 y)."""
    y, A, x = _t("float32", 1), _t("float32", 2), _t("float32", 1)
    al, be = TensorType("float64", ())(), TensorType("int8", ())()
    out = gemv_no_inplace(y, al, A, x, be)
    assert out.dtype == "float32"
    yv, Av, xv = (rng.standard_normal(s).astype("float32") for s in (3, (3, 2), 2))
    got = run(out, {y: yv, A: Av, x: xv, al: 0.5, be: 2})
    np.testing.assert_allclose(got, 0.5 * Av @ xv + 2 * yv, rtol=1e-5)


def test_python_number_scalars_accepted():
    z, x, y = _t("float32", 2), _t("float32", 2), _t("float32", 2)
    assert gemm_no_inplace(z, 1.0, x, y, 0.0).dtype == "float32"


# -- errors -------------------------------------------------------------------------------------

def test_make_node_errors():
    fm, fv, fs = _t("float64", 2), _t("float64", 1), _t("float64", 0)
    with pytest.raises(TypeError, match=r"Gemv\{no_inplace\}: A \(input 2\) must be a matrix"):
        gemv_no_inplace(fv, fs, fv, fv, fs)
    with pytest.raises(TypeError, match=r"alpha \(input 1\) must be a scalar"):
        gemv_no_inplace(fv, fv, fm, fv, fs)
    with pytest.raises(TypeError, match=r"operands must have one dtype.*y \(input 0\) is "
                                        r"float32.*A \(input 2\) is float64"):
        gemv_no_inplace(_t("float32", 1), fs, fm, fv, fs)
    with pytest.raises(TypeError, match=r"beta \(input 4\) is complex128.*float64"):
        gemm_no_inplace(fm, fs, fm, fm, _t("complex128", 0))
    with pytest.raises(TypeError, match=r"Gemm\{no_inplace\}: dtype int32 is not supported"):
        im = _t("int32", 2)
        gemm_no_inplace(im, 1, im, im, 0)
    with pytest.raises(TypeError, match=r"Ger\{non-destructive\}: dtype int64"):
        ger(_t("int64", 2), 1, _t("int64", 1), _t("int64", 1))
    with pytest.raises(TypeError, match=r"Dot22: x \(input 0\) must be a matrix"):
        _dot22(fv, fm)
    with pytest.raises(TypeError, match=r"Dot22Scalar: expected 3 inputs"):
        _dot22scalar(fm, fm)
    with pytest.raises(TypeError, match=r"dtype bool is not supported"):
        gemv_no_inplace(_t("bool", 1), 1, _t("bool", 2), _t("bool", 1), 0)


def test_inplace_refuses_aliased_operands():
    z = _t("float64", 2)
    with pytest.raises(InconsistencyError, match="same memory"):
        gemm_inplace(z, 1.0, z, _t("float64", 2), 0.0)
    with pytest.raises(InconsistencyError, match="same memory"):
        gemm_inplace(z, 1.0, _t("float64", 2), z.T, 0.0)
    gemm_no_inplace(z, 1.0, z, z, 0.0)  # fine without in place


def test_runtime_shape_errors(rng):
    y, A, x = _t("float64", 1), _t("float64", 2), _t("float64", 1)
    with pytest.raises(ValueError, match=r"Gemv\{no_inplace\}: shapes do not match.*"
                                         r"y: \(3,\), A: \(3, 2\), x: \(5,\)"):
        run(gemv_no_inplace(y, 1.0, A, x, 1.0), {y: np.zeros(3), A: np.zeros((3, 2)),
                                                 x: np.zeros(5)})
    z, X, Y = _t("float64", 2), _t("float64", 2), _t("float64", 2)
    with pytest.raises(ValueError, match=r"Gemm\{no_inplace\}: shapes do not match"):
        run(gemm(z, 1.0, X, Y, 1.0), {z: np.zeros((2, 2)), X: np.zeros((2, 3)),
                                      Y: np.zeros((3, 4))})
    with pytest.raises(ValueError, match=r"Ger\{non-destructive\}: shapes"):
        run(ger(z, 1.0, x, y), {z: np.zeros((2, 2)), x: np.zeros(3), y: np.zeros(2)})
    with pytest.raises(ValueError, match=r"Dot22: shapes do not match.*x: \(2, 3\)"):
        run(_dot22(X, Y), {X: np.zeros((2, 3)), Y: np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"Dot22Scalar: shapes do not match"):
        run(_dot22scalar(X, Y, 2.0), {X: np.zeros((2, 3)), Y: np.zeros((2, 3))})


# -- types, shapes, identity -----------------------------------------------------------------

def test_output_types_and_broadcastable():
    row = TensorType("float32", (True, False))()
    col = TensorType("float32", (False, True))()
    assert _dot22(row, col).type == TensorType("float32", (True, True))
    assert _dot22scalar(col, row, 2.0).type == TensorType("float32", (False, False))
    assert gemm_no_inplace(row, 1.0, row, _t("float32", 2), 1.0).type == row.type
    bv = TensorType("float64", (True,))()
    assert gemv_no_inplace(bv, 1.0, _t("float64", 2), _t("float64", 1), 0.0).type == bv.type
    assert ger(row, 1.0, _t("float32", 1), _t("float32", 1)).type == row.type


def test_infer_shape(rng):
    y, A, x = _t("float64", 1), _t("float64", 2), _t("float64", 1)
    z, X, Y = _t("float64", 2), _t("float64", 2), _t("float64", 2)
    g = {y: rng.standard_normal(3), A: rng.standard_normal((3, 2)), x: rng.standard_normal(2),
         z: rng.standard_normal((3, 4)), X: rng.standard_normal((3, 5)),
         Y: rng.standard_normal((5, 4))}
    assert_infer_shape(gemv_no_inplace(y, 1.0, A, x, 1.0), g)
    assert_infer_shape(gemm_no_inplace(z, 1.0, X, Y, 1.0), g)
    assert_infer_shape(ger(A, 1.0, y, x), g)
    assert_infer_shape(_dot22(X, Y), g)
    assert_infer_shape(_dot22scalar(X, Y, 2.0), g)


def test_op_contract_and_names():
    check_op_contract(lambda: Gemv(True), Gemv(False))
    check_op_contract(lambda: Gemm(False), Gemm(True))
    check_op_contract(lambda: Ger(True), Ger(False))
    check_op_contract(Dot22, Dot22Scalar())
    check_op_contract(Dot22Scalar)
    assert (str(gemv_inplace), str(gemv_no_inplace)) == ("Gemv{inplace}", "Gemv{no_inplace}")
    assert (str(gemm_inplace), str(gemm_no_inplace)) == ("Gemm{inplace}", "Gemm{no_inplace}")
    assert (str(ger_destructive), str(ger)) == ("Ger{destructive}", "Ger{non-destructive}")
    assert (str(_dot22), str(_dot22scalar)) == ("Dot22", "Dot22Scalar")
    assert gemv is gemv_no_inplace and gemm is gemm_no_inplace
    assert gemv_inplace.destroy_map == {0: [0]} and gemv_no_inplace.destroy_map == {}
    assert gemm_inplace.destroy_map == {0: [0]} and gemm_no_inplace.destroy_map == {}
    assert ger_destructive.destroy_map == {0: [0]} and ger.destroy_map == {}
    assert all(isinstance(o, GemmRelated) for o in (gemm_inplace, _dot22, _dot22scalar))
    assert Gemm(True) == gemm_inplace and hash(Gemm(True)) == hash(gemm_inplace)


# -- gradients -------------------------------------------------------------------------------

def test_gemv_grad(rng):
    vals = [rng.standard_normal(3), rng.standard_normal(()), rng.standard_normal((3, 2)),
            rng.standard_normal(2), rng.standard_normal(())]
    check_node_grad(lambda *v: gemv_no_inplace(*v), vals, rng)


def test_gemm_grad(rng):
    vals = [rng.standard_normal((3, 4)), rng.standard_normal(()), rng.standard_normal((3, 2)),
            rng.standard_normal((2, 4)), rng.standard_normal(())]
    check_node_grad(lambda *v: gemm_no_inplace(*v), vals, rng)


def test_ger_grad(rng):
    vals = [rng.standard_normal((3, 2)), rng.standard_normal(()), rng.standard_normal(3),
            rng.standard_normal(2)]
    check_node_grad(lambda *v: ger(*v), vals, rng)


def test_dot22_grads(rng):
    check_node_grad(lambda x, y: _dot22(x, y),
                    [rng.standard_normal((3, 2)), rng.standard_normal((2, 4))], rng)
    check_node_grad(lambda x, y, a: _dot22scalar(x, y, a),
                    [rng.standard_normal((3, 2)), rng.standard_normal((2, 4)),
                     rng.standard_normal(())], rng)


def test_grad_of_broadcastable_and_integer_inputs():
    from tgraph.gradient import grad

    col = TensorType("float64", (False, True))()
    x = _t("float64", 2)
    g = grad(_dot22(x, col).sum(), col)
    assert g.type.broadcastable == (False, True)
    yv, A, xv = _t("float64", 1), _t("float64", 2), _t("float64", 1)
    ialpha = TensorType("int32", ())()
    ga = gemv_no_inplace(yv, ialpha, A, xv, 1.0).owner.op.grad(
        [yv, ialpha, A, xv, constant(1.0)], [_t("float64", 1)])[1]
    assert ga.dtype == "float64" and run(ga, {ialpha: 3}) == 0

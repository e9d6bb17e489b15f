"""Softmax, LogSoftmax, SoftmaxWithBias, SoftmaxGrad: values against SciPy, stability for
large logits, dtypes, gradients and R_op against finite differences, shapes, errors, Op
contract, and the softmax_simplifier helper."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from test_shape_helpers import assert_infer_shape, check_op_contract, run

from tgraph.gradient import Rop
from tgraph.gradient_checks import verify_grad
from tgraph.tensor import math as tm
from tgraph.tensor.nnet import (
    LogSoftmax,
    NNetInputError,
    Softmax,
    SoftmaxGrad,
    SoftmaxWithBias,
    log_softmax,
    logsoftmax,
    logsoftmax_op,
    softmax,
    softmax_grad,
    softmax_graph,
    softmax_op,
    softmax_simplifier,
    softmax_with_bias,
)
from tgraph.tensor.type import TensorType, imatrix, matrix, tensor3, vector

TOL = {"float16": 1e-2, "float32": 1e-5, "float64": 1e-12}
SHAPES = st.tuples(st.integers(0, 5), st.integers(1, 6))
DTYPES = st.sampled_from(["float32", "float64"])


def _mat(dtype, bcast=(False, False)):
    return TensorType(dtype, bcast)()


def _draw(shape, dtype, scale=3.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


# -- values --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(SHAPES, DTYPES, st.sampled_from([1.0, 30.0, 1e4]))
def test_softmax_and_log_softmax_match_scipy(shape, dtype, scale):
    x = _mat(dtype)
    xv = _draw(shape, dtype, scale)
    sm, lsm = run([softmax(x), logsoftmax(x)], {x: xv})
    assert sm.dtype == lsm.dtype == dtype
    assert sm.shape == lsm.shape == shape
    ref = xv.astype("float64")
    np.testing.assert_allclose(sm, scipy.special.softmax(ref, axis=1), rtol=TOL[dtype],
                               atol=TOL[dtype])
    np.testing.assert_allclose(lsm, scipy.special.log_softmax(ref, axis=1),
                               rtol=TOL[dtype], atol=TOL[dtype] * max(1.0, scale))
    assert np.isfinite(sm).all() and np.isfinite(lsm).all()


@settings(max_examples=30, deadline=None)
@given(SHAPES, DTYPES, st.sampled_from(["float32", "float64"]))
def test_softmax_with_bias_matches_scipy(shape, dtype, bdtype):
    x, b = _mat(dtype), TensorType(bdtype, (False,))()
    xv, bv = _draw(shape, dtype, 1e3), _draw(shape[1], bdtype, 1e3, seed=1)
    out = run(softmax_with_bias(x, b), {x: xv, b: bv})
    assert out.dtype == dtype
    want = scipy.special.softmax(xv.astype("float64") + bv, axis=1)
    np.testing.assert_allclose(out, want, rtol=TOL[dtype], atol=TOL[dtype])


@settings(max_examples=30, deadline=None)
@given(SHAPES, DTYPES)
def test_softmax_grad_matches_formula(shape, dtype):
    dy, sm = _mat(dtype), _mat(dtype)
    dyv = _draw(shape, dtype)
    smv = scipy.special.softmax(_draw(shape, "float64", seed=2), axis=1).astype(dtype)
    out = run(softmax_grad(dy, sm), {dy: dyv, sm: smv})
    assert out.dtype == dtype
    want = dyv * smv - (dyv * smv).sum(axis=1, keepdims=True) * smv
    np.testing.assert_allclose(out, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


def test_float16_is_computed_in_float32_and_kept():
    x = _mat("float16")
    xv = _draw((3, 4), "float16", 5)
    sm, lsm = run([softmax(x), logsoftmax(x)], {x: xv})
    assert sm.dtype == lsm.dtype == np.float16
    np.testing.assert_allclose(sm, scipy.special.softmax(xv.astype("float64"), axis=1),
                               atol=2e-3)


def test_extreme_logits_are_finite():
    x = matrix()
    xv = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e300, 0.0, -1e300]])
    sm, lsm = run([softmax(x), logsoftmax(x)], {x: xv})
    np.testing.assert_allclose(sm, [[1, 0, 0], [1 / 3] * 3, [1, 0, 0]])
    assert lsm[0, 1] == -2e4 and np.isfinite(lsm).all()
    b = vector()
    out = run(softmax_with_bias(x, b), {x: xv, b: np.array([0.0, 1e4, 0.0])})
    assert np.isfinite(out).all()


def test_empty_inputs():
    x, b = matrix(), vector()
    for shape in [(0, 3), (2, 0), (0, 0)]:
        xv = np.zeros(shape)
        assert run(softmax(x), {x: xv}).shape == shape
        assert run(logsoftmax(x), {x: xv}).shape == shape
        assert run(softmax_with_bias(x, b), {x: xv, b: np.zeros(shape[1])}).shape == shape


def test_vector_input_is_one_row():
    v = vector()
    out = softmax(v)
    assert out.type.broadcastable == (True, False)
    vv = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(run(out, {v: vv}), scipy.special.softmax(vv)[None])
    np.testing.assert_allclose(run(logsoftmax(v), {v: vv}), scipy.special.log_softmax(vv)[None])
    assert softmax_grad(v, v).type.broadcastable == (True, False)


def test_softmax_graph_and_aliases():
    x = matrix()
    xv = _draw((3, 4), "float64")
    np.testing.assert_allclose(run(softmax_graph(x), {x: xv}), scipy.special.softmax(xv, 1))
    t = tensor3()
    tv = _draw((2, 3, 4), "float64")
    np.testing.assert_allclose(run(softmax_graph(t), {t: tv}), scipy.special.softmax(tv, -1))
    assert log_softmax is logsoftmax
    assert softmax(x).owner.op == softmax_op
    assert logsoftmax(x).owner.op == logsoftmax_op


def test_softmax_warns_on_a_broadcastable_axis():
    col = TensorType("float64", (False, True))()
    with pytest.warns(UserWarning, match="dimension of shape 1"):
        softmax(col)


# -- gradients -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_verify_grad_softmax_family(dtype):
    rng = np.random.RandomState(3)
    xv = rng.randn(3, 4).astype(dtype)
    bv = rng.randn(4).astype(dtype)
    verify_grad(softmax_op, [xv], rng=rng)
    verify_grad(logsoftmax_op, [xv], rng=rng)
    verify_grad(softmax_with_bias, [xv, bv], rng=rng)
    verify_grad(lambda x: tm.log(softmax_op(x)), [xv], rng=rng)


def test_verify_grad_of_softmax_grad_second_order():
    rng = np.random.RandomState(4)
    dyv = rng.randn(3, 5)
    smv = scipy.special.softmax(rng.randn(3, 5), axis=1)
    verify_grad(softmax_grad, [dyv, smv], rng=rng)
    verify_grad(lambda x: softmax_grad(tm.exp(x), softmax_op(x)), [rng.randn(2, 4)], rng=rng)


def test_gradients_are_finite_for_large_logits():
    from tgraph.gradient import grad

    x = matrix()
    xv = np.array([[1e4, -1e4, 0.0], [3.0, 1e4, -1e4]])
    cost = (logsoftmax(x)[:, 1]).sum() + (softmax(x) * np.arange(3.0)).sum()
    g = run(grad(cost, x), {x: xv})
    assert np.isfinite(g).all()


def test_bias_gradient_with_broadcastable_bias_and_float64_bias():
    from tgraph.gradient import grad

    x = TensorType("float32", (False, True))()
    b = TensorType("float64", (True,))()
    out = softmax_with_bias(x, b)
    gx, gb = grad(out.sum(), [x, b])
    assert gx.type == x.type and gb.type == b.type
    np.testing.assert_allclose(run(gb, {x: np.ones((3, 1), "float32"), b: np.ones(1)}), [0.0],
                               atol=1e-6)


def _directional(f_out, x, xv, v, eps=1e-6):
    return (run(f_out, {x: xv + eps * v}) - run(f_out, {x: xv - eps * v})) / (2 * eps)


@pytest.mark.parametrize("build", [softmax_op, logsoftmax_op], ids=["softmax", "logsoftmax"])
def test_rop_matches_directional_derivative(build):
    rng = np.random.default_rng(5)
    x, ev = matrix(), matrix()
    xv, vv = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    out = build(x)
    got = run(Rop(out, x, ev), {x: xv, ev: vv})
    np.testing.assert_allclose(got, _directional(out, x, xv, vv), rtol=1e-6, atol=1e-8)


def test_softmax_with_bias_rop():
    rng = np.random.default_rng(6)
    x, b, ex, eb = matrix(), vector(), matrix(), vector()
    xv, bv = rng.standard_normal((3, 4)), rng.standard_normal(4)
    exv, ebv = rng.standard_normal((3, 4)), rng.standard_normal(4)
    out = softmax_with_bias(x, b)
    got = run(Rop(out, [x, b], [ex, eb]), {x: xv, b: bv, ex: exv, eb: ebv})
    eps = 1e-6
    plus = run(out, {x: xv + eps * exv, b: bv + eps * ebv})
    minus = run(out, {x: xv - eps * exv, b: bv - eps * ebv})
    np.testing.assert_allclose(got, (plus - minus) / (2 * eps), rtol=1e-6, atol=1e-8)


# -- shapes, errors, contract ---------------------------------------------------------------------


def test_infer_shape():
    x, b, dy = matrix(), vector(), matrix()
    xv, bv = _draw((3, 5), "float64"), _draw(5, "float64")
    givens = {x: xv, b: bv, dy: xv}
    for out in [softmax(x), logsoftmax(x), softmax_with_bias(x, b), softmax_grad(dy, x)]:
        assert_infer_shape(out, givens)


@pytest.mark.parametrize("op", [softmax_op, logsoftmax_op], ids=str)
def test_wrong_rank_or_dtype_names_the_op(op):
    name = type(op).__name__
    with pytest.raises(NNetInputError, match=f"{name}: x is a float64 3-d tensor, expected a "
                                             "float vector or matrix"):
        op(tensor3())
    with pytest.raises(ValueError, match=f"{name}: x is an int32 matrix"):
        op(imatrix())
    with pytest.raises(TypeError, match=name):
        op(imatrix())


def test_softmax_with_bias_and_grad_errors():
    with pytest.raises(NNetInputError, match="SoftmaxWithBias: b is a float64 matrix, expected "
                                             "a float vector"):
        softmax_with_bias(matrix(), matrix())
    with pytest.raises(NNetInputError, match="SoftmaxWithBias: x is a float64 vector"):
        softmax_with_bias(vector(), vector())
    with pytest.raises(NNetInputError, match="SoftmaxGrad: dy is an int32 matrix"):
        softmax_grad(imatrix(), matrix())
    x, b = matrix(), vector()
    with pytest.raises(NNetInputError, match=r"b has length 3 but x has shape \(2, 4\)"):
        run(softmax_with_bias(x, b), {x: np.zeros((2, 4)), b: np.zeros(3)})
    dy, sm = matrix(), matrix()
    with pytest.raises(NNetInputError, match="SoftmaxGrad: dy has shape"):
        run(softmax_grad(dy, sm), {dy: np.zeros((2, 4)), sm: np.zeros((2, 3))})


@pytest.mark.parametrize("cls", [Softmax, LogSoftmax, SoftmaxGrad, SoftmaxWithBias])
def test_op_contract(cls):
    check_op_contract(cls, other=Softmax() if cls is not Softmax else LogSoftmax())
    assert str(cls()) == cls.__name__


def test_softmax_simplifier_turns_exp_over_row_sum_into_softmax():
    x = matrix()
    e = tm.exp(x)
    denom = tm.sum(e, axis=1).dimshuffle(0, "x")
    nums, dens = softmax_simplifier([e], [denom])
    assert dens == [] and len(nums) == 1 and nums[0].owner.op == softmax_op
    assert nums[0].owner.inputs[0] is x
    # near misses: sum over the other axis, another numerator, an integer numerator
    other = tm.sum(e, axis=0).dimshuffle("x", 0)
    assert softmax_simplifier([e], [other]) == ([e], [other])
    e2 = tm.exp(matrix())
    assert softmax_simplifier([e2], [denom]) == ([e2], [denom])
    ie = imatrix()
    assert softmax_simplifier([ie], [denom]) == ([ie], [denom])

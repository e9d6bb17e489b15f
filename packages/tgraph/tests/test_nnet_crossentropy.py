"""Crossentropy ops and functions: the fused softmax/one-hot op and its gradient op, the
one-hot op on probabilities, binary/sigmoid/categorical crossentropy, the graph-level fusion
helpers; values against NumPy, stability for large logits, gradients against finite
differences, shapes, errors, Op contract."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from test_shape_helpers import assert_infer_shape, check_op_contract, run

from tgraph.gradient import grad
from tgraph.gradient_checks import verify_grad
from tgraph.gradient_ops import NullType
from tgraph.graph import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.nnet import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    CrossentropySoftmax1HotWithBiasDx,
    CrossentropySoftmaxArgmax1HotWithBias,
    NNetInputError,
    binary_crossentropy,
    categorical_crossentropy,
    crossentropy_categorical_1hot,
    crossentropy_categorical_1hot_grad,
    crossentropy_softmax_1hot,
    crossentropy_softmax_1hot_with_bias,
    crossentropy_softmax_1hot_with_bias_dx,
    crossentropy_softmax_argmax_1hot_with_bias,
    crossentropy_softmax_max_and_argmax_1hot,
    crossentropy_softmax_max_and_argmax_1hot_with_bias,
    crossentropy_to_crossentropy_with_softmax,
    crossentropy_to_crossentropy_with_softmax_with_bias,
    sigmoid_binary_crossentropy,
    softmax,
    softmax_with_bias,
)
from tgraph.tensor.type import (
    TensorType,
    dvector,
    fmatrix,
    fvector,
    imatrix,
    ivector,
    lvector,
    matrix,
    scalar,
    vector,
)

TOL = {"float32": 2e-5, "float64": 1e-12}


def _data(rows, cols, dtype, scale=3.0, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, cols)) * scale).astype(dtype)
    b = (rng.standard_normal(cols) * scale).astype(dtype)
    y = rng.integers(0, cols, rows).astype("int64")
    return x, b, y


def _nll_ref(z, y):
    return -scipy.special.log_softmax(z.astype("float64"), axis=1)[np.arange(len(y)), y]


# -- the fused op ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5), st.integers(1, 6), st.sampled_from(["float32", "float64"]),
       st.sampled_from(["int32", "int64", "uint8"]), st.sampled_from([1.0, 1e4]))
def test_fused_op_matches_numpy(rows, cols, dtype, idtype, scale):
    x, b, y = TensorType(dtype, (False, False))(), TensorType(dtype, (False,))(), \
        TensorType(idtype, (False,))()
    xv, bv, yv = _data(rows, cols, dtype, scale)
    nll, sm, am = run(crossentropy_softmax_argmax_1hot_with_bias(x, b, y),
                      {x: xv, b: bv, y: yv.astype(idtype)})
    z = xv.astype("float64") + bv
    assert nll.dtype == sm.dtype == dtype and am.dtype == idtype
    assert np.isfinite(nll).all() and np.isfinite(sm).all()
    np.testing.assert_allclose(nll, _nll_ref(z, yv), rtol=TOL[dtype], atol=TOL[dtype] * scale)
    np.testing.assert_allclose(sm, scipy.special.softmax(z, axis=1), rtol=TOL[dtype],
                               atol=TOL[dtype])
    if rows:
        np.testing.assert_array_equal(am, np.argmax(xv + bv, axis=1))


def test_fused_helpers_and_zero_bias():
    x, y = matrix(), lvector()
    xv, _, yv = _data(4, 3, "float64")
    nll, sm = run(crossentropy_softmax_1hot(x, y), {x: xv, y: yv})
    np.testing.assert_allclose(nll, _nll_ref(xv, yv))
    np.testing.assert_allclose(sm, scipy.special.softmax(xv, axis=1))
    b = vector()
    outs = crossentropy_softmax_1hot_with_bias(x, b, y)
    assert len(outs) == 2
    xent, sm2, max_pr, argmax = run(list(crossentropy_softmax_max_and_argmax_1hot(x, y)),
                                    {x: xv, y: yv})
    np.testing.assert_allclose(max_pr, sm2.max(axis=1))
    np.testing.assert_array_equal(argmax, sm2.argmax(axis=1))
    outs = crossentropy_softmax_max_and_argmax_1hot_with_bias(x, b, y)
    assert len(outs) == 4


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.sampled_from(["float32", "float64"]),
       st.sampled_from(["vector", "one", "scalar"]))
def test_dx_op_matches_numpy(rows, cols, dtype, dy_kind):
    xv, _, yv = _data(rows, cols, "float64")
    smv = scipy.special.softmax(xv, axis=1).astype(dtype)
    rng = np.random.default_rng(1)
    if dy_kind == "scalar":
        dy, dyv = TensorType(dtype, ())(), np.asarray(rng.standard_normal(), dtype=dtype)
    else:
        n = rows if dy_kind == "vector" else 1
        dy, dyv = TensorType(dtype, (n == 1,))(), rng.standard_normal(n).astype(dtype)
    sm, y = TensorType(dtype, (False, False))(), lvector()
    out = run(crossentropy_softmax_1hot_with_bias_dx(dy, sm, y), {dy: dyv, sm: smv, y: yv})
    onehot = np.eye(cols)[yv]
    want = np.reshape(dyv, (-1, 1)) * (smv.astype("float64") - onehot)
    assert out.dtype == dtype
    np.testing.assert_allclose(out, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


def test_fused_op_gradients_match_finite_differences():
    rng = np.random.RandomState(2)
    xv, bv, yv = _data(4, 3, "float64")
    y = constant(yv)

    def nll(x, b):
        return crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0]

    def sm(x, b):
        return crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[1]

    def both(x, b):
        out = crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
        return out[0].dimshuffle(0, "x") * out[1]

    for fun in (nll, sm, both):
        verify_grad(fun, [xv, bv], rng=rng)
    verify_grad(nll, [xv.astype("float32"), bv.astype("float32")], rng=rng)


def test_fused_op_gradient_through_the_argmax_is_zero():
    x, b, y = matrix(), vector(), lvector()
    xv, bv, yv = _data(3, 4, "float64")
    nll, _, am = crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    cost = nll.sum() + tm.cast(am, "float64").sum()
    gx, gb = run(grad(cost, [x, b]), {x: xv, b: bv, y: yv})
    gx_ref, gb_ref = run(grad(nll.sum(), [x, b]), {x: xv, b: bv, y: yv})
    np.testing.assert_allclose(gx, gx_ref)
    np.testing.assert_allclose(gb, gb_ref)


def test_dx_op_second_order_gradients():
    rng = np.random.RandomState(3)
    xv, _, yv = _data(3, 4, "float64")
    smv = scipy.special.softmax(xv, axis=1)
    y = constant(yv)
    verify_grad(lambda dy, sm: crossentropy_softmax_1hot_with_bias_dx(dy, sm, y),
                [rng.rand(3), smv], rng=rng)
    verify_grad(lambda dy, sm: crossentropy_softmax_1hot_with_bias_dx(dy, sm, y),
                [np.asarray(0.7), smv], rng=rng)
    node = crossentropy_softmax_1hot_with_bias_dx(vector(), matrix(), lvector()).owner
    g = node.op.grad(node.inputs, [matrix()])
    assert isinstance(g[2].type, NullType)


def test_gradients_stay_finite_for_huge_logits():
    x, y = fmatrix(), lvector()
    xv = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]], dtype="float32")
    yv = np.array([1, 0])
    nll, _ = crossentropy_softmax_1hot(x, y)
    value, gx = run([nll, grad(nll.sum(), x)], {x: xv, y: yv})
    np.testing.assert_allclose(value, [2e4, 2e4])
    assert gx.dtype == np.float32 and np.isfinite(gx).all()
    np.testing.assert_allclose(gx, [[1, -1, 0], [-1, 1, 0]], atol=1e-6)


# -- one-hot crossentropy of probabilities ---------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 5), st.integers(1, 5), st.sampled_from(["float32", "float64"]))
def test_categorical_1hot_matches_numpy(rows, cols, dtype):
    xv, _, yv = _data(rows, cols, "float64")
    pv = scipy.special.softmax(xv, axis=1).astype(dtype)
    p, y = TensorType(dtype, (False, False))(), lvector()
    out = run(crossentropy_categorical_1hot(p, y), {p: pv, y: yv})
    assert out.dtype == dtype and out.shape == (rows,)
    np.testing.assert_allclose(out, -np.log(pv[np.arange(rows), yv].astype("float64")),
                               rtol=TOL[dtype])


def test_categorical_1hot_gradients():
    rng = np.random.RandomState(4)
    xv, _, yv = _data(4, 3, "float64")
    pv = scipy.special.softmax(xv, axis=1)
    y = constant(yv)
    verify_grad(lambda p: crossentropy_categorical_1hot(p, y), [pv], rng=rng)
    verify_grad(lambda g, p: crossentropy_categorical_1hot_grad(g, p, y), [rng.rand(4), pv],
                rng=rng)
    # through a softmax, composing the two ops' gradients
    verify_grad(lambda x: crossentropy_categorical_1hot(softmax(x), y), [xv], rng=rng)


def test_categorical_1hot_grad_values():
    g, p, y = vector(), matrix(), lvector()
    pv = np.array([[0.2, 0.8], [0.5, 0.5], [0.9, 0.1]])
    out = run(crossentropy_categorical_1hot_grad(g, p, y),
              {g: np.array([1.0, 2.0, 3.0]), p: pv, y: np.array([1, 0, 1])})
    np.testing.assert_allclose(out, [[0, -1 / 0.8], [-4, 0], [0, -30]])


def test_zero_probability_gives_inf_not_an_error():
    p, y = matrix(), lvector()
    out = run(crossentropy_categorical_1hot(p, y), {p: np.array([[0.0, 1.0]]), y: [0]})
    assert np.isinf(out[0])


# -- cost functions ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_binary_crossentropy(dtype):
    o, t = TensorType(dtype, (False,))(), TensorType(dtype, (False,))()
    ov = np.array([0.1, 0.5, 0.99], dtype=dtype)
    tv = np.array([0.0, 1.0, 0.3], dtype=dtype)
    out = run(binary_crossentropy(o, t), {o: ov, t: tv})
    assert out.dtype == dtype
    want = -(tv * np.log(ov) + (1 - tv) * np.log(1 - ov))
    np.testing.assert_allclose(out, want, rtol=1e-6)
    verify_grad(binary_crossentropy, [ov.astype("float64"), tv.astype("float64")],
                rng=np.random.RandomState(5))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_binary_crossentropy_is_stable(dtype):
    o, t = TensorType(dtype, (False,))(), TensorType(dtype, (False,))()
    ov = np.array([-1e4, -30.0, -1.0, 0.0, 2.0, 50.0, 1e4], dtype=dtype)
    tv = np.array([1.0, 0.0, 0.5, 1.0, 0.2, 0.0, 1.0], dtype=dtype)
    out = sigmoid_binary_crossentropy(o, t)
    value, go, gt = run([out, *grad(out.sum(), [o, t])], {o: ov, t: tv})
    assert value.dtype == dtype and np.isfinite(value).all()
    x = ov.astype("float64")
    # -(t log s(x) + (1 - t) log(1 - s(x))) with log s(x) = -logaddexp(0, -x)
    want = tv * np.logaddexp(0, -x) + (1 - tv) * np.logaddexp(0, x)
    np.testing.assert_allclose(value, want, rtol=1e-5)
    np.testing.assert_allclose(go, scipy.special.expit(x) - tv, atol=1e-6)
    np.testing.assert_allclose(gt, -x, rtol=1e-6)


def test_sigmoid_binary_crossentropy_gradient_by_finite_differences():
    rng = np.random.RandomState(6)
    verify_grad(sigmoid_binary_crossentropy, [rng.randn(5) * 3, rng.rand(5)], rng=rng)


def test_categorical_crossentropy_both_target_forms():
    p, t, y = matrix(), matrix(), lvector()
    pv = scipy.special.softmax(np.random.default_rng(7).standard_normal((3, 4)), axis=1)
    yv = np.array([3, 0, 2])
    tv = np.eye(4)[yv]
    dense = categorical_crossentropy(p, t)
    onehot = categorical_crossentropy(p, y)
    assert isinstance(onehot.owner.op, CrossentropyCategorical1Hot)
    d, o = run([dense, onehot], {p: pv, t: tv, y: yv})
    np.testing.assert_allclose(d, o)
    np.testing.assert_allclose(o, -np.log(pv[np.arange(3), yv]))
    # NumPy inputs are converted
    np.testing.assert_allclose(run(categorical_crossentropy(pv, yv)), o)
    with pytest.raises(NNetInputError, match="rank mismatch"):
        categorical_crossentropy(p, scalar())


def test_mlp_style_cost_and_gradient_in_float32():
    """softmax + categorical crossentropy on int labels, as the MLP benchmark uses them."""
    x, w, y = fmatrix(), fmatrix(), ivector()
    rng = np.random.default_rng(8)
    xv = rng.standard_normal((6, 5)).astype("float32")
    wv = rng.standard_normal((5, 3)).astype("float32")
    yv = rng.integers(0, 3, 6).astype("int32")
    from tgraph.tensor.dot import dot

    cost = tm.mean(categorical_crossentropy(softmax(dot(x, w)), y))
    assert cost.dtype == "float32"
    c, gw = run([cost, grad(cost, w)], {x: xv, w: wv, y: yv})
    assert gw.dtype == np.float32
    z = (xv @ wv).astype("float64")
    np.testing.assert_allclose(c, _nll_ref(z, yv).mean(), rtol=1e-5)
    sm = scipy.special.softmax(z, axis=1)
    np.testing.assert_allclose(gw, xv.T @ (sm - np.eye(3)[yv]) / 6, rtol=1e-4, atol=1e-5)


# -- graph-level fusion helpers ------------------------------------------------------------------


@pytest.mark.parametrize("with_bias", [True, False])
def test_crossentropy_to_crossentropy_with_softmax(with_bias):
    x, b, y = matrix(), vector(), lvector()
    sm = softmax_with_bias(x, b) if with_bias else softmax(x)
    cost = crossentropy_categorical_1hot(sm, y)
    inputs = [x, b, y] if with_bias else [x, y]
    fg = FunctionGraph(inputs, [cost, sm])
    xv, bv, yv = _data(3, 4, "float64", scale=1e4)
    vals = {x: xv, b: bv, y: yv}
    crossentropy_to_crossentropy_with_softmax(fg)
    ops = [type(n.op) for n in fg.toposort()]
    assert CrossentropySoftmaxArgmax1HotWithBias in ops
    assert CrossentropyCategorical1Hot not in ops
    nll, smv = run(fg.outputs, dict(zip(fg.inputs, [vals[v] for v in inputs])))
    z = xv + (bv if with_bias else 0)
    np.testing.assert_allclose(nll, _nll_ref(z, yv))
    assert np.isfinite(nll).all()
    np.testing.assert_allclose(smv, scipy.special.softmax(z, axis=1))


def test_with_bias_variant_skips_a_plain_softmax():
    x, y = matrix(), lvector()
    fg = FunctionGraph([x, y], [crossentropy_categorical_1hot(softmax(x), y)])
    crossentropy_to_crossentropy_with_softmax_with_bias(fg)
    assert [type(n.op).__name__ for n in fg.toposort()][-1] == "CrossentropyCategorical1Hot"


# -- shapes, errors, contract ---------------------------------------------------------------------


def test_infer_shape():
    x, b, y, dy, g = matrix(), vector(), lvector(), vector(), vector()
    xv, bv, yv = _data(3, 5, "float64")
    smv = scipy.special.softmax(xv, axis=1)
    givens = {x: xv, b: bv, y: yv, dy: np.ones(3), g: np.ones(3)}
    for out in crossentropy_softmax_argmax_1hot_with_bias(x, b, y):
        assert_infer_shape(out, givens)
    givens[x] = smv
    for out in [crossentropy_softmax_1hot_with_bias_dx(dy, x, y),
                crossentropy_categorical_1hot(x, y),
                crossentropy_categorical_1hot_grad(g, x, y)]:
        assert_infer_shape(out, givens)


def test_bad_inputs_are_refused_with_the_op_name():
    with pytest.raises(NNetInputError, match="CrossentropySoftmaxArgmax1HotWithBias: y_idx is a "
                                             "float64 vector, expected an integer vector"):
        crossentropy_softmax_argmax_1hot_with_bias(matrix(), vector(), dvector())
    with pytest.raises(NNetInputError, match="CrossentropySoftmaxArgmax1HotWithBias: b is a "
                                             "float64 matrix"):
        crossentropy_softmax_argmax_1hot_with_bias(matrix(), matrix(), lvector())
    with pytest.raises(NNetInputError, match="CrossentropyCategorical1Hot: coding_dist is an "
                                             "int32 matrix"):
        crossentropy_categorical_1hot(imatrix(), lvector())
    with pytest.raises(TypeError, match="true_one_of_n is a float32 vector"):
        crossentropy_categorical_1hot(matrix(), fvector())
    with pytest.raises(ValueError, match="CrossentropySoftmax1HotWithBiasDx: dy is a float64 "
                                         "matrix, expected a float scalar or vector"):
        crossentropy_softmax_1hot_with_bias_dx(matrix(), matrix(), lvector())


@pytest.mark.parametrize("bad", [[0, 4], [-1, 0]], ids=["too-large", "negative"])
def test_out_of_range_labels_raise(bad):
    x, b, y, p = matrix(), vector(), lvector(), matrix()
    vals = {x: np.zeros((2, 4)), b: np.zeros(4), y: np.array(bad), p: np.full((2, 4), 0.25)}
    with pytest.raises(NNetInputError, match="y_i value out of bounds"):
        run(crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0], vals)
    with pytest.raises(NNetInputError, match="out of bounds"):
        run(crossentropy_categorical_1hot(p, y), vals)
    dy = vector()
    with pytest.raises(NNetInputError, match="out of bounds"):
        run(crossentropy_softmax_1hot_with_bias_dx(dy, p, y), {**vals, dy: np.ones(2)})


def test_row_count_mismatches_raise():
    x, b, y = matrix(), vector(), lvector()
    with pytest.raises(NNetInputError, match="y_idx has length 3 but the matrix has 2 rows"):
        run(crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0],
            {x: np.zeros((2, 4)), b: np.zeros(4), y: np.zeros(3, "int64")})
    with pytest.raises(NNetInputError, match="b has length 3"):
        run(crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0],
            {x: np.zeros((2, 4)), b: np.zeros(3), y: np.zeros(2, "int64")})
    dy, sm = vector(), matrix()
    with pytest.raises(NNetInputError, match="dy has length 3 but sm has 2 rows"):
        run(crossentropy_softmax_1hot_with_bias_dx(dy, sm, y),
            {dy: np.ones(3), sm: np.full((2, 2), 0.5), y: np.zeros(2, "int64")})


@pytest.mark.parametrize("cls", [CrossentropyCategorical1Hot, CrossentropyCategorical1HotGrad,
                                 CrossentropySoftmax1HotWithBiasDx,
                                 CrossentropySoftmaxArgmax1HotWithBias])
def test_op_contract(cls):
    other = CrossentropyCategorical1Hot() if cls is not CrossentropyCategorical1Hot \
        else CrossentropyCategorical1HotGrad()
    check_op_contract(cls, other=other)
    assert str(cls()) == cls.__name__

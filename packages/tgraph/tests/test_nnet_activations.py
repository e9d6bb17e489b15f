"""The sigmoid family (sigmoid, ultra_fast_sigmoid, hard_sigmoid, softplus, softsign), the
rectifiers (relu, elu, selu) and nnet's misc functions (prepend ops, confusion_matrix,
h_softmax, to_one_hot): values against NumPy/SciPy, dtypes, gradients, stability, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_shape_helpers import assert_infer_shape, check_op_contract, run

from tgraph.gradient import grad
from tgraph.gradient_checks import verify_grad
from tgraph.shared import shared
from tgraph.tensor import math as tm
from tgraph.tensor import nnet
from tgraph.tensor.type import (
    TensorType,
    bmatrix,
    fmatrix,
    imatrix,
    ivector,
    matrix,
    scalar,
    tensor3,
    vector,
)

FLOATS = st.sampled_from(["float32", "float64"])


def _values(dtype, shape=(3, 4), scale=4.0, seed=0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def _elu_ref(x, alpha):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


# -- sigmoid family --------------------------------------------------------------------------------


def test_sigmoid_and_softplus_are_the_math_ops():
    assert nnet.sigmoid is tm.sigmoid and nnet.softplus is tm.softplus
    assert nnet.scalar_sigmoid is nnet.sigmoid.scalar_op
    assert str(nnet.sigmoid) == "sigmoid" and str(nnet.sigmoid_inplace) == "sigmoid_inplace"
    assert nnet.sigmoid_inplace.destroy_map == {0: [0]}


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(FLOATS, hnp.array_shapes(max_dims=3, max_side=4),
                  elements=st.floats(-60, 60, width=32)))
def test_sigmoid_approximations_track_expit(xv):
    x = TensorType(str(xv.dtype), (False,) * xv.ndim)()
    exact = scipy.special.expit(xv.astype("float64"))
    fast, hard, sm = run([nnet.ultra_fast_sigmoid(x), nnet.hard_sigmoid(x), nnet.sigmoid(x)],
                         {x: xv})
    assert fast.dtype == hard.dtype == sm.dtype == xv.dtype
    assert np.abs(fast - exact).max(initial=0) < 0.028
    assert np.abs(hard - exact).max(initial=0) < 0.076
    np.testing.assert_allclose(hard, np.clip(0.2 * xv.astype("float64") + 0.5, 0, 1),
                               atol=1e-6)
    assert ((fast >= 0) & (fast <= 1)).all()


def test_ultra_fast_sigmoid_known_points_and_nan():
    x = vector()
    xv = np.array([0.0, 2.0, -2.0, 4.0, -5.0, 100.0, -100.0, np.nan])
    out = run(nnet.ultra_fast_sigmoid(x), {x: xv})
    h = 1.0  # x = 2 -> h = 1: tanh approximated by 1.5 h / (1 + h) = 0.75
    np.testing.assert_allclose(out[:3], [0.5, 0.5 * (1.5 * h / (1 + h) + 1),
                                         0.5 * (1 - 1.5 * h / (1 + h))])
    np.testing.assert_allclose(out[3:7], [0.5 * (0.935409070603099 + 0.0458812946797165 * 0.3
                                                 + 1),
                                          0.5 * (1 - 0.935409070603099 - 0.0458812946797165
                                                 * 0.8),
                                          0.5 * (0.99505475368673 + 1),
                                          0.5 * (1 - 0.99505475368673)])
    assert np.isnan(out[7])


def test_ultra_fast_sigmoid_gradient_differentiates_the_approximation():
    rng = np.random.RandomState(1)
    # stay away from the knees at |x| = 3.4 and 6, where the approximation has kinks
    xv = np.array([-7.0, -4.5, -1.0, 0.3, 2.0, 5.0, 9.0])
    verify_grad(nnet.ultra_fast_sigmoid, [xv], rng=rng)
    x = scalar()
    g = run(grad(nnet.ultra_fast_sigmoid(x), x), {x: np.asarray(0.0)})
    assert g == pytest.approx(0.375)  # 0.25 * 1.5: close to sigmoid'(0) = 0.25


@pytest.mark.parametrize("fn", [nnet.sigmoid, nnet.softplus, nnet.softsign, nnet.hard_sigmoid],
                         ids=lambda f: getattr(f, "__name__", str(f)))
def test_sigmoid_family_gradients(fn):
    rng = np.random.RandomState(2)
    verify_grad(fn, [rng.randn(3, 4) * 2], rng=rng)


def test_softsign_values_dtype_and_integer_inputs():
    x = fmatrix()
    xv = _values("float32")
    out = run(nnet.softsign(x), {x: xv})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, xv / (1 + np.abs(xv)), rtol=1e-6)
    b = bmatrix()
    assert nnet.softsign(b).dtype == "float32" and nnet.hard_sigmoid(b).dtype == "float32"
    bv = np.array([[-3, 0, 5]], dtype="int8")
    np.testing.assert_allclose(run(nnet.softsign(b), {b: bv}), [[-0.75, 0, 5 / 6]])
    assert nnet.ScalarSoftsign.static_impl(-3.0) == -0.75
    assert nnet.hard_sigmoid(imatrix()).dtype == "float64"


def test_sigmoid_family_is_finite_for_huge_inputs():
    x = vector()
    xv = np.array([-1e4, 1e4, -1e300, 1e300])
    fns = [nnet.sigmoid, nnet.softplus, nnet.softsign, nnet.ultra_fast_sigmoid,
           nnet.hard_sigmoid]
    for fn in fns:
        out = fn(x)
        value, g = run([out, grad(out.sum(), x)], {x: xv})
        assert np.isfinite(value).all() and np.isfinite(g).all(), fn


def test_scalar_ops_contract():
    check_op_contract(lambda: nnet.UltraFastScalarSigmoid(nnet.ultra_fast_scalar_sigmoid
                                                          .output_types_preference,
                                                          "ultra_fast_scalar_sigmoid"),
                      other=nnet.scalar_softsign)
    for op in [nnet.ultra_fast_sigmoid, nnet.softsign, nnet.sigmoid_inplace]:
        back = pickle.loads(pickle.dumps(op))
        assert back == op and hash(back) == hash(op)


# -- rectifiers ------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(FLOATS, st.sampled_from([0, 0.0, 0.1, 1, 1.5, np.float32(0.2)]))
def test_relu_matches_numpy_and_keeps_dtype(dtype, alpha):
    x = TensorType(dtype, (False, False))()
    xv = _values(dtype, seed=3)
    out = nnet.relu(x, alpha)
    assert out.dtype == dtype
    np.testing.assert_allclose(run(out, {x: xv}), np.where(xv > 0, xv, alpha * xv),
                               rtol=1e-6, atol=1e-6)


def test_relu_with_symbolic_and_shared_slopes():
    x, a = matrix(), scalar()
    xv = _values("float64", seed=4)
    np.testing.assert_allclose(run(nnet.relu(x, a), {x: xv, a: np.asarray(0.3)}),
                               np.where(xv > 0, xv, 0.3 * xv))
    slopes = shared(np.array([0.0, 0.1, 0.5, 1.0]))
    out = nnet.relu(x, slopes)
    np.testing.assert_allclose(run(out, {x: xv}), np.where(xv > 0, xv, slopes.get_value() * xv))
    g = run(grad(out.sum(), slopes), {x: xv})
    np.testing.assert_allclose(g, np.where(xv < 0, xv, 0).sum(axis=0))


def test_relu_gradients():
    rng = np.random.RandomState(5)
    xv = rng.randn(3, 4) + np.sign(rng.randn(3, 4)) * 0.1  # away from the kink
    verify_grad(nnet.relu, [xv], rng=rng)
    verify_grad(lambda x: nnet.relu(x, 0.2), [xv], rng=rng)
    verify_grad(lambda x, a: nnet.relu(x, a), [xv, np.asarray(0.3)], rng=rng)


@settings(max_examples=30, deadline=None)
@given(FLOATS, st.sampled_from([1, 0.5, 2.0]))
def test_elu_and_selu_match_numpy(dtype, alpha):
    x = TensorType(dtype, (False, False))()
    xv = _values(dtype, seed=6)
    e, s = nnet.elu(x, alpha), nnet.selu(x)
    assert e.dtype == s.dtype == dtype
    ev, sv = run([e, s], {x: xv})
    tol = 1e-6 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(ev, _elu_ref(xv.astype("float64"), alpha), rtol=tol, atol=tol)
    want = nnet.activations.SELU_SCALE * _elu_ref(xv.astype("float64"),
                                                   nnet.activations.SELU_ALPHA)
    np.testing.assert_allclose(sv, want, rtol=tol * 10, atol=tol * 10)


def test_elu_selu_gradients_and_large_inputs():
    rng = np.random.RandomState(7)
    xv = rng.randn(3, 4) + np.sign(rng.randn(3, 4)) * 0.1
    verify_grad(nnet.elu, [xv], rng=rng)
    verify_grad(nnet.selu, [xv], rng=rng)
    x = vector()
    big = np.array([-1e4, 1e4, 800.0])
    for fn in (nnet.elu, nnet.selu):
        out = fn(x)
        value, g = run([out, grad(out.sum(), x)], {x: big})
        assert np.isfinite(value).all() and np.isfinite(g).all()


def test_activations_on_integer_inputs_give_floats():
    assert nnet.relu(imatrix()).dtype == "float64"
    assert nnet.elu(bmatrix()).dtype == "float32"


# -- misc ----------------------------------------------------------------------------------------


def test_prepend_constant_ops():
    x = matrix()
    xv = _values("float64", (2, 3))
    for op, val in [(nnet.prepend_0_to_each_row, 0.0), (nnet.prepend_1_to_each_row, 1.0)]:
        out = op(x)
        np.testing.assert_array_equal(run(out, {x: xv}), np.hstack([np.full((2, 1), val), xv]))
        assert_infer_shape(out, {x: xv})
    assert nnet.prepend_0_to_each_row != nnet.prepend_1_to_each_row
    assert str(nnet.prepend_1_to_each_row) == "Prepend_scalar_constant_to_each_row{1.0}"
    check_op_contract(lambda: nnet.Prepend_scalar_constant_to_each_row(2),
                      other=nnet.prepend_0_to_each_row)
    verify_grad(nnet.prepend_1_to_each_row, [xv], rng=np.random.RandomState(8))


def test_prepend_scalar_op():
    v, x = scalar(), fmatrix()
    xv = _values("float32", (2, 3))
    out = nnet.prepend_scalar_to_each_row(v, x)
    assert out.dtype == "float32"
    res = run(out, {v: np.asarray(5.0), x: xv})
    np.testing.assert_array_equal(res, np.hstack([np.full((2, 1), 5.0, "float32"), xv]))
    assert_infer_shape(out, {v: np.asarray(5.0), x: xv})
    verify_grad(nnet.prepend_scalar_to_each_row, [np.asarray(2.0), xv.astype("float64")],
                rng=np.random.RandomState(9))
    check_op_contract(nnet.Prepend_scalar_to_each_row, other=nnet.prepend_0_to_each_row)


def test_prepend_errors():
    with pytest.raises(nnet.NNetInputError, match="expected a matrix, got a 1-d"):
        nnet.prepend_0_to_each_row(vector())
    with pytest.raises(nnet.NNetInputError, match="val must be a scalar, got a 1-d"):
        nnet.prepend_scalar_to_each_row(vector(), matrix())
    with pytest.raises(nnet.NNetInputError, match="val must be a Python number"):
        nnet.Prepend_scalar_constant_to_each_row(scalar())


def test_confusion_matrix():
    a, p = ivector(), ivector()
    conf, order = nnet.confusion_matrix(a, p)
    av = np.array([2, 0, 2, 2, 0, 1], "int32")
    pv = np.array([0, 0, 2, 2, 0, 2], "int32")
    cv, ov = run([conf, order], {a: av, p: pv})
    np.testing.assert_array_equal(cv, [[2, 0, 0], [0, 0, 1], [1, 0, 2]])
    np.testing.assert_array_equal(ov, [0, 1, 2])
    assert cv.dtype == np.int64
    with pytest.raises(nnet.NNetInputError, match="confusion_matrix: actual must be a vector"):
        nnet.confusion_matrix(imatrix(), p)


def test_to_one_hot_is_reexported():
    y = ivector()
    out = run(nnet.to_one_hot(y, 3), {y: np.array([2, 0], "int32")})
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0]])


def _h_softmax_ref(xv, w1, b1, w2, b2, n_outputs):
    cls = scipy.special.softmax(xv @ w1 + b1, axis=1)
    within = scipy.special.softmax(np.einsum("bf,cfo->bco", xv, w2) + b2, axis=2)
    return (cls[:, :, None] * within).reshape(len(xv), -1)[:, :n_outputs]


def test_h_softmax_all_outputs_and_targets():
    rng = np.random.default_rng(10)
    batch, feats, n_classes, per_class, n_outputs = 4, 5, 3, 3, 8
    xv = rng.standard_normal((batch, feats))
    w1, b1 = rng.standard_normal((feats, n_classes)), rng.standard_normal(n_classes)
    w2 = rng.standard_normal((n_classes, feats, per_class))
    b2 = rng.standard_normal((n_classes, per_class))
    x, W1, B1, W2, B2 = matrix(), matrix(), vector(), tensor3(), matrix()
    givens = {x: xv, W1: w1, B1: b1, W2: w2, B2: b2}
    ref = _h_softmax_ref(xv, w1, b1, w2, b2, n_outputs)
    full = run(nnet.h_softmax(x, batch, n_outputs, n_classes, per_class, W1, B1, W2, B2),
               givens)
    np.testing.assert_allclose(full, ref, rtol=1e-10)
    np.testing.assert_allclose(
        run(nnet.h_softmax(x, batch, 9, n_classes, per_class, W1, B1, W2, B2), givens).sum(1),
        1.0)
    t = ivector()
    tv = np.array([0, 7, 4, 5], "int32")
    picked = run(nnet.h_softmax(x, batch, n_outputs, n_classes, per_class, W1, B1, W2, B2, t),
                 {**givens, t: tv})
    np.testing.assert_allclose(picked, ref[np.arange(batch), tv], rtol=1e-10)
    # gradients flow to every parameter
    cost = -tm.mean(tm.log(nnet.h_softmax(x, batch, n_outputs, n_classes, per_class,
                                         W1, B1, W2, B2, t)))
    gs = run(grad(cost, [W1, B1, W2, B2]), {**givens, t: tv})
    assert all(np.isfinite(g).all() for g in gs)


def test_public_names():
    expected = {
        "CrossentropyCategorical1Hot", "CrossentropyCategorical1HotGrad",
        "CrossentropySoftmax1HotWithBiasDx", "CrossentropySoftmaxArgmax1HotWithBias",
        "LogSoftmax", "Prepend_scalar_constant_to_each_row", "Prepend_scalar_to_each_row",
        "Softmax", "SoftmaxGrad", "SoftmaxWithBias", "binary_crossentropy",
        "sigmoid_binary_crossentropy", "categorical_crossentropy",
        "crossentropy_categorical_1hot", "crossentropy_categorical_1hot_grad",
        "crossentropy_softmax_1hot", "crossentropy_softmax_1hot_with_bias",
        "crossentropy_softmax_1hot_with_bias_dx", "crossentropy_softmax_argmax_1hot_with_bias",
        "crossentropy_softmax_max_and_argmax_1hot",
        "crossentropy_softmax_max_and_argmax_1hot_with_bias",
        "crossentropy_to_crossentropy_with_softmax",
        "crossentropy_to_crossentropy_with_softmax_with_bias", "h_softmax", "logsoftmax",
        "logsoftmax_op", "prepend_0_to_each_row", "prepend_1_to_each_row",
        "prepend_scalar_to_each_row", "relu", "softmax", "softmax_grad", "softmax_graph",
        "softmax_op", "softmax_simplifier", "softmax_with_bias", "elu", "selu",
        "confusion_matrix", "softsign", "softplus", "sigmoid", "sigmoid_inplace",
        "scalar_sigmoid", "ultra_fast_sigmoid", "hard_sigmoid",
    }
    assert expected <= set(nnet.__all__)
    assert all(hasattr(nnet, name) for name in nnet.__all__)

"""grad on tensor expressions: finite-difference checks, dtypes, options on real graphs."""

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tgraph.tensor as tt
from tgraph import config
from tgraph.gradient import DisconnectedInputError, grad, subgraph_grad
from tgraph.gradient_checks import verify_grad
from tgraph.graph.evaluate import evaluate
from tgraph.shared import shared
from tgraph.tensor.type import TensorType, dmatrix, dscalar, dvector, fvector, ivector, lscalar

RNG = np.random.RandomState(1234)


def rand(*shape):
    return RNG.randn(*shape)


def positive(*shape):
    return RNG.rand(*shape) + 0.5


CASES = {
    "exp-sum": (lambda a: tt.exp(a).sum(), [rand(3, 4)]),
    "log": (lambda a: tt.log(a), [positive(4)]),
    "sqrt": (lambda a: tt.sqrt(a), [positive(4)]),
    "tanh": (lambda a: tt.tanh(a), [rand(2, 3)]),
    "sigmoid": (lambda a: tt.sigmoid(a), [rand(5)]),
    "softplus": (lambda a: tt.softplus(a), [rand(5)]),
    "pow": (lambda a: a ** 3 - 2 * a, [rand(4)]),
    "pow-both": (lambda a, b: a ** b, [positive(4), rand(4)]),
    "div": (lambda a, b: a / b, [rand(3), positive(3)]),
    "broadcast-mul": (lambda a, b: a * b, [rand(3, 4), rand(4)]),
    "broadcast-row": (lambda a, b: a - b, [rand(3, 4), rand(1, 4)]),
    "abs": (lambda a: abs(a) * a, [rand(6)]),
    "dot-mm": (lambda a, b: tt.dot(a, b), [rand(3, 4), rand(4, 2)]),
    "dot-mv": (lambda a, b: tt.dot(a, b), [rand(3, 4), rand(4)]),
    "gram": (lambda a: a.T.dot(a), [rand(3, 4)]),
    "mean-axis": (lambda a: a.mean(axis=0), [rand(3, 4)]),
    "var": (lambda a: a.var(axis=1), [rand(3, 4)]),
    "prod": (lambda a: a.prod(axis=1), [positive(3, 4)]),
    "max": (lambda a: a.max(axis=1), [rand(3, 4)]),
    "reshape": (lambda a: a.reshape((4, 3)) * 2, [rand(3, 4)]),
    "subtensor": (lambda a: a[1:, ::2] ** 2, [rand(3, 4)]),
    "concatenate": (lambda a, b: tt.concatenate([a, b], axis=0) ** 2,
                    [rand(3, 4), rand(2, 4)]),
    "softmax": (lambda a: tt.exp(a) / tt.exp(a).sum(axis=1, keepdims=True), [rand(3, 4)]),
    "mlp": (lambda x, w, b: tt.tanh(tt.dot(x, w) + b).sum(axis=1),
            [rand(5, 3), rand(3, 4), rand(4)]),
    "shared-input-twice": (lambda a: a * tt.exp(a) + a, [rand(4)]),
    "clip": (lambda a: tt.clip(a, -0.5, 0.5) * a, [rand(6)]),
    "maximum": (lambda a, b: tt.maximum(a, b), [rand(6), rand(6)]),
    "switch": (lambda a: tt.switch(a > 0, a, 2 * a), [rand(6)]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_verify_grad_float64(name):
    fun, pt = CASES[name]
    verify_grad(fun, pt, rng=np.random.RandomState(0))


@pytest.mark.parametrize("name", ["tanh", "dot-mm", "softmax", "mlp"])
def test_verify_grad_float32(name):
    fun, pt = CASES[name]
    verify_grad(fun, [p.astype("float32") for p in pt], rng=np.random.RandomState(0))


def test_float32_gradient_stays_float32():
    x = fvector("x")
    cost = (tt.exp(x) * 2.5).sum()
    g = grad(cost, x)
    assert g.type == x.type
    assert evaluate([g], {x: np.ones(3, "float32")})[0].dtype == np.float32


def test_gradient_through_a_float64_cast_is_cast_back():
    x = fvector("x")
    cost = tt.cast(x, "float64").sum()
    g = grad(cost, x)
    assert g.type.dtype == "float32"


@pytest.mark.parametrize("floatx", ["float64", "float32"])
def test_integer_wrt_gets_zeros_of_floatx(floatx):
    with config.change_flags(floatX=floatx):
        n = ivector("n")
        cost = (n * 2.5).sum()
        g = grad(cost, n)
        assert g.type.dtype == floatx
        np.testing.assert_array_equal(evaluate([g], {n: np.arange(3, dtype="int32")})[0], 0)


def test_gradient_has_the_broadcast_pattern_of_wrt():
    row = TensorType("float64", (True, False))("row")
    m = dmatrix("m")
    g = grad((row * m).sum(), row)
    assert g.type == row.type
    np.testing.assert_allclose(evaluate([g], {row: np.ones((1, 3)), m: np.ones((2, 3))})[0],
                               np.full((1, 3), 2.0))


def test_gradient_of_shared_variables():
    w = shared(np.arange(3.0), name="w")
    x = dvector("x")
    cost = (w * x).sum() + (w ** 2).sum()
    g = grad(cost, w)
    np.testing.assert_allclose(g.eval({x: np.ones(3)}), 1 + 2 * np.arange(3.0))


def test_disconnected_zero_has_the_shape_of_wrt():
    x, y = dmatrix("x"), dmatrix("y")
    gy = grad(x.sum(), [x, y], disconnected_inputs="ignore")[1]
    np.testing.assert_array_equal(gy.eval({y: np.ones((2, 5))}), np.zeros((2, 5)))


def test_paths_through_integers_give_zero_gradients():
    x = dvector("x")
    k = lscalar("k")
    gx = grad(tt.cast(tt.cast(x, "int64"), "float64").sum(), x)
    np.testing.assert_array_equal(gx.eval({x: np.array([1.5, 2.5])}), 0)
    gk = grad((x * tt.cast(k, "float64")).sum(), k)
    assert gk.type.dtype == config.floatX


def test_disconnected_input_on_a_tensor_graph():
    x, y = dvector("x"), dvector("y")
    with pytest.raises(DisconnectedInputError, match="does not depend on input 1 'y'"):
        grad((x ** 2).sum(), [x, y])


def test_consider_constant_on_a_tensor_graph():
    x = dvector("x")
    h = tt.exp(x)
    cost = (h * x).sum()
    g = grad(cost, x, consider_constant=[h])
    xv = np.array([0.0, 1.0])
    np.testing.assert_allclose(g.eval({x: xv}), np.exp(xv))


def test_known_grads_on_an_intermediate():
    x = dvector("x")
    h = x ** 2
    g = grad(None, x, known_grads={h: h.ones_like() * 3.0})
    np.testing.assert_allclose(g.eval({x: np.array([1.0, 2.0])}), [6.0, 12.0])


def test_subgraph_grad_matches_the_full_gradient():
    x = dvector("x")
    t = dvector("t")
    w1 = shared(RNG.randn(3, 4), name="w1")
    w2 = shared(RNG.randn(4, 2), name="w2")
    a1 = tt.tanh(tt.dot(x, w1))
    a2 = tt.tanh(tt.dot(a1, w2))
    cost2 = ((a2 - t) ** 2).sum() + w2.sum() ** 2
    cost1 = w1.sum() ** 2
    params, costs, ends = [[w2], [w1]], [cost2, cost1], [[a1], [x]]
    next_grad, param_grads = None, []
    for i in range(2):
        pg, next_grad = subgraph_grad(wrt=params[i], end=ends[i], start=next_grad, cost=costs[i])
        next_grad = dict(zip(ends[i], next_grad))
        param_grads.extend(pg)
    full = grad(cost1 + cost2, [w2, w1])
    givens = {x: RNG.randn(3), t: RNG.randn(2)}
    got = evaluate(param_grads, givens)
    want = evaluate(full, givens)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b)


def test_subgraph_grad_details_and_errors():
    x = dvector("x")
    h = tt.exp(x)
    cost = h.sum()
    wrt_g, end_g, start_g, cost_g = subgraph_grad([x], [h], cost=cost, details=True)
    assert start_g is None and len(cost_g) == 2
    with pytest.raises(ValueError, match="cost, start gradients, or both"):
        subgraph_grad([x], [h])
    with pytest.raises(TypeError, match="must be lists"):
        subgraph_grad(x, [h], cost=cost)


@functools.cache
def _product_graph(ndim):
    """Built once per ndim: the property varies only the values."""
    x = TensorType("float64", (False,) * ndim)("x")
    w = TensorType("float64", (False,) * ndim)("w")
    gx, gw = grad((x ** 2 * w).sum(), [x, w])
    return x, w, gx, gw


@settings(max_examples=30, deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.data())
def test_product_rule_on_random_shapes(shape, data):
    elems = st.floats(-3, 3, allow_nan=False)
    xv = data.draw(hnp.arrays("float64", shape, elements=elems))
    wv = data.draw(hnp.arrays("float64", shape, elements=elems))
    x, w, gx, gw = _product_graph(len(shape))
    got_x, got_w = evaluate([gx, gw], {x: xv, w: wv})
    np.testing.assert_allclose(got_x, 2 * xv * wv, atol=1e-12)
    np.testing.assert_allclose(got_w, xv ** 2, atol=1e-12)


def test_second_derivative_by_nesting_grad():
    x = dscalar("x")
    g = grad(x ** 3, x)
    gg = grad(g, x)
    assert float(gg.eval({x: np.asarray(2.0)})) == pytest.approx(12.0)

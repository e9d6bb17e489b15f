"""The Theano 1.0 tutorial programs, written anew, run unchanged through ``import theano``.

Each test follows one tutorial page: adding two scalars, the logistic function, shared
variables (an accumulator with updates, givens), gradients, and shape information. Values
are checked against NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import theano
import theano.tensor as T
from theano import function, pp, shared
from theano.gof import TestValueError


def test_adding_two_scalars():
    x = T.dscalar("x")
    y = T.dscalar("y")
    z = x + y
    f = function([x, y], z)
    assert f(2, 3) == 5.0
    assert np.allclose(f(16.3, 12.1), 28.4)
    assert type(x) is T.TensorVariable and x.type is T.dscalar
    assert str(T.dscalar) == "TensorType(float64, scalar)"
    assert pp(z) == "(x + y)"
    assert np.allclose(z.eval({x: 16.3, y: 12.1}), 28.4)


def test_adding_two_matrices():
    x = T.dmatrix("x")
    y = T.dmatrix("y")
    f = function([x, y], x + y)
    out = f([[1, 2], [3, 4]], [[10, 20], [30, 40]])
    assert np.array_equal(out, np.array([[11.0, 22.0], [33.0, 44.0]]))


def test_logistic_function_two_ways():
    x = T.dmatrix("x")
    s = 1 / (1 + T.exp(-x))
    s2 = (1 + T.tanh(x / 2)) / 2
    logistic = function([x], [s, s2])
    data = np.array([[0.0, 1.0], [-1.0, -2.0]])
    a, b = logistic(data)
    expected = 1 / (1 + np.exp(-data))
    assert np.allclose(a, expected) and np.allclose(b, expected)


def test_several_outputs_and_default_values():
    a, b = T.dmatrices("a", "b")
    diff = a - b
    f = function([a, b], [diff, abs(diff), diff ** 2])
    d, ad, sq = f([[1, 1], [1, 1]], [[0, 1], [2, 3]])
    assert np.array_equal(d, [[1, 0], [-1, -2]])
    assert np.array_equal(ad, [[1, 0], [1, 2]])
    assert np.array_equal(sq, [[1, 0], [1, 4]])
    x, y, w = T.dscalars("x", "y", "w")
    g = function([x, theano.In(y, value=1), theano.In(w, value=2, name="w_by_name")],
                 (x + y) * w)
    assert g(33) == 68.0
    assert g(33, 2) == 70.0
    assert g(33, w_by_name=1) == 34.0
    assert g(33, w_by_name=1, y=0) == 33.0


def test_shared_variable_accumulator_with_updates_and_givens():
    state = shared(0)
    inc = T.iscalar("inc")
    accumulator = function([inc], state, updates=[(state, state + inc)])
    assert state.get_value() == 0
    assert accumulator(1) == 0  # returns the value before the update
    assert state.get_value() == 1
    accumulator(300)
    assert state.get_value() == 301
    state.set_value(-1)
    accumulator(3)
    assert state.get_value() == 2
    decrementor = function([inc], state, updates=[(state, state - inc)])
    decrementor(2)
    assert state.get_value() == 0
    fn_of_state = state * 2 + inc
    foo = T.scalar(dtype=state.dtype)
    skip_shared = function([inc, foo], fn_of_state, givens=[(state, foo)])
    assert skip_shared(1, 3) == 7
    assert state.get_value() == 0  # givens did not touch the shared value


def test_copying_functions_with_swapped_state():
    state = shared(0)
    inc = T.iscalar("inc")
    acc = function([inc], state, updates=[(state, state + inc)])
    new_state = shared(0)
    new_acc = acc.copy(swap={state: new_state})
    new_acc(100)
    assert new_state.get_value() == 100 and state.get_value() == 0
    null_acc = acc.copy(delete_updates=True)
    null_acc(9)
    assert state.get_value() == 0


def test_gradients():
    x = T.dscalar("x")
    y = x ** 2
    gy = T.grad(y, x)
    f = function([x], gy)
    assert f(4) == 8.0
    assert f(94.2) == pytest.approx(188.4)
    xm = T.dmatrix("x")
    s = T.sum(1 / (1 + T.exp(-xm)))
    gs = T.grad(s, xm)
    dlogistic = function([xm], gs)
    data = np.array([[0.0, 1.0], [-1.0, -2.0]])
    sig = 1 / (1 + np.exp(-data))
    assert np.allclose(dlogistic(data), sig * (1 - sig))


def test_jacobian_and_hessian():
    x = T.dvector("x")
    y = x ** 2
    J = T.jacobian(y, x)
    f = function([x], J)
    assert np.allclose(f([4, 4]), [[8, 0], [0, 8]])
    cost = (x ** 2).sum()
    H = T.hessian(cost, x)
    assert np.allclose(function([x], H)([4, 4]), [[2, 0], [0, 2]])


def test_rop_and_lop():
    W = T.dmatrix("W")
    V = T.dmatrix("V")
    x = T.dvector("x")
    y = T.dot(x, W)
    JV = T.Rop(y, W, V)
    f = function([W, V, x], JV)
    assert np.allclose(f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]), [2, 2])
    v = T.dvector("v")
    VJ = T.Lop(y, W, v)
    g = function([v, x], VJ)
    assert np.allclose(g([2, 2], [0, 1]), [[0, 0], [2, 2]])


def test_shape_information():
    x = T.matrix("x")
    f = function([x], (x ** 2).shape)
    assert list(f(np.zeros((5, 4), dtype=theano.config.floatX))) == [5, 4]
    y = T.matrix("y")
    z = T.join(0, x, y)
    xv = np.random.rand(5, 4).astype(theano.config.floatX)
    yv = np.random.rand(3, 3).astype(theano.config.floatX)
    g = function([x, y], z.shape)
    # As the Theano 1.0 tutorial warns: the shape is computed from the inputs' shapes without
    # running the join, so the disagreement on axis 1 goes unnoticed.
    assert list(g(xv, yv)) == [8, 4]
    xs = T.specify_shape(x, (2, 2))
    h = function([x], xs * 2)
    with pytest.raises((ValueError, AssertionError), match="shape"):
        h(np.ones((3, 3), dtype=theano.config.floatX))


def test_seed_shape_mistake_is_reported_at_graph_building_time():
    rng = np.random.RandomState(0)
    with theano.change_flags(compute_test_value="raise"):
        x = T.matrix("x")
        w = shared(rng.randn(784).astype(theano.config.floatX), name="w")
        x.tag.test_value = rng.randn(400, 783).astype(theano.config.floatX)  # one feature short
        with pytest.raises(TestValueError, match=r"(?s)shape \(400, 783\).*shape \(784,\)"):
            T.dot(x, w)

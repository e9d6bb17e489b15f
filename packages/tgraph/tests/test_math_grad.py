"""Gradients (L_op) of the elementwise functions and reductions against central finite
differences in float64, including broadcasting (sums over broadcast dimensions), left
padding, ties in max, zeros in prod, and zero gradients for integer inputs."""

from __future__ import annotations

import numpy as np
import pytest
from elemwise_testtools import check_grad, lop_grads, run

from tgraph.tensor import math as tm
from tgraph.tensor.reduction import Max, Min, Prod
from tgraph.tensor.type import TensorType

RNG = np.random.default_rng(1234)


def _u(lo, hi, shape=(2, 3)):
    return RNG.uniform(lo, hi, size=shape)


UNARY = {
    "neg": (-3, 3), "abs_": (0.2, 3), "sqr": (-3, 3), "sqrt": (0.5, 3), "inv": (0.5, 3),
    "exp": (-2, 2), "exp2": (-2, 2), "expm1": (-2, 2), "log": (0.5, 3), "log2": (0.5, 3),
    "log10": (0.5, 3), "log1p": (0.1, 3), "sin": (-3, 3), "cos": (-3, 3), "tan": (-1, 1),
    "arcsin": (-0.8, 0.8), "arccos": (-0.8, 0.8), "arctan": (-3, 3), "sinh": (-2, 2),
    "cosh": (-2, 2), "tanh": (-2, 2), "arcsinh": (-2, 2), "arccosh": (1.2, 3),
    "arctanh": (-0.8, 0.8), "deg2rad": (-3, 3), "rad2deg": (-3, 3), "erf": (-2, 2),
    "erfc": (-2, 2), "erfcx": (-1, 2), "erfinv": (-0.8, 0.8), "erfcinv": (0.2, 1.8),
    "gamma": (0.5, 3), "gammaln": (0.5, 3), "psi": (0.5, 3), "sigmoid": (-4, 4),
    "softplus": (-4, 4), "j0": (-3, 3), "j1": (-3, 3), "i0": (-2, 2), "i1": (-2, 2),
    "tensor_copy": (-3, 3), "sgn": (0.2, 3), "floor": (0.1, 0.9), "ceil": (0.1, 0.9),
    "trunc": (0.1, 0.9), "round_half_to_even": (0.1, 0.4),
    "round_half_away_from_zero": (0.1, 0.4),
}

BINARY = {
    "add": ((-3, 3), (-3, 3)), "sub": ((-3, 3), (-3, 3)), "mul": ((-3, 3), (-3, 3)),
    "true_div": ((-3, 3), (0.5, 3)), "pow": ((0.5, 3), (-2, 2)),
    "arctan2": ((0.5, 3), (0.5, 3)), "maximum": ((-3, -1), (1, 3)),
    "minimum": ((-3, -1), (1, 3)), "mod": ((0.1, 0.9), (1.5, 2.5)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name):
    check_grad(getattr(tm, name), [_u(*UNARY[name])])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients(name):
    (lo0, hi0), (lo1, hi1) = BINARY[name]
    check_grad(getattr(tm, name), [_u(lo0, hi0), _u(lo1, hi1)])


def test_gradients_sum_over_broadcast_and_padded_dimensions():
    # x (2, 3), row (1, 3) declared broadcastable, v (3,) left-padded, s () scalar
    check_grad(lambda x, r, v, s: tm.mul(tm.add(x, r), tm.mul(v, s)),
               [_u(-2, 2), _u(-2, 2, (1, 3)), _u(-2, 2, (3,)), _u(-2, 2, ())])


def test_variadic_add_and_mul_gradients():
    check_grad(lambda a, b, c: tm.add(a, b, c), [_u(-1, 1), _u(-1, 1), _u(-1, 1)])
    check_grad(lambda a, b, c: tm.mul(a, b, c), [_u(-1, 1), _u(-1, 1), _u(-1, 1)])


def test_clip_and_switch_gradients():
    x = np.array([[-2.0, -0.5, 0.3], [0.7, 1.5, 3.0]])
    check_grad(lambda a: tm.clip(a, -1.0, 1.0), [x])
    check_grad(lambda a, b: tm.switch(tm.gt(a, 0), a * b, b), [x, _u(-1, 1)])


def test_composite_expressions():
    check_grad(lambda a, b: tm.tanh(a) * tm.exp(-b) / (1 + a ** 2), [_u(-1, 1), _u(-1, 1)])
    check_grad(lambda a: tm.log(tm.sigmoid(a)) + tm.softplus(-a), [_u(-3, 3)])


def test_gradient_wrt_integer_input_is_float_zeros():
    x, i = TensorType("float64", (False,))("x"), TensorType("int32", (False,))("i")
    y = tm.mul(x, i)
    seed = TensorType("float64", (False,))("seed")
    gx, gi = lop_grads(y, seed, [x, i])
    assert gi.type.dtype == "float64"
    vals = {x: np.ones(3), i: np.arange(3, dtype="int32"), seed: np.ones(3)}
    np.testing.assert_array_equal(run(gi, vals), np.zeros(3))
    np.testing.assert_array_equal(run(gx, vals), np.arange(3.0))


def test_gradient_through_integer_output_is_zero():
    x = TensorType("float64", (False,))("x")
    y = tm.floor_div(x, 2.0)
    assert y.type.dtype == "float64"
    b = tm.lt(x, 1.0)
    (g,) = b.owner.op.L_op(b.owner.inputs, b.owner.outputs,
                           [TensorType("float64", (False,))("gz")])[:1]
    assert g.type.dtype == "float64"
    assert np.all(run(g, {x: np.ones(2)}) == 0)


def test_float32_gradients_stay_float32():
    x = TensorType("float32", (False,))("x")
    y = tm.exp(tm.mul(x, 2.0))
    (g,) = lop_grads(y, TensorType("float32", (False,))("s"), [x])
    assert g.type.dtype == "float32"


# ---------------------------------------------------------------------------------------------
# Reductions


@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
def test_sum_gradient(axis):
    check_grad(lambda x: tm.sum(x, axis=axis), [_u(-1, 1)])
    check_grad(lambda x: tm.sum(x, axis=axis, keepdims=True) * x, [_u(-1, 1)])


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_prod_gradient_without_zeros(axis):
    check_grad(lambda x: tm.prod(x, axis=axis), [_u(0.5, 1.5)])
    check_grad(lambda x: tm.prod(x, axis=axis, no_zeros_in_input=True), [_u(0.5, 1.5)])


def test_prod_gradient_with_zeros():
    x = np.array([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, 2.0, 0.5]])
    check_grad(lambda a: tm.prod(a, axis=1), [x])
    check_grad(lambda a: tm.prod(a, axis=0), [x])
    check_grad(lambda a: tm.prod(a), [np.array([0.0, 2.0, 3.0])])


def test_prod_second_derivative_is_finite_with_zeros():
    x = TensorType("float64", (False,))("x")
    s1, s2 = TensorType("float64", ())("s1"), TensorType("float64", ())("s2")
    (g,) = lop_grads(Prod()(x), s1, [x])
    (gg,) = lop_grads(tm.sum(g), s2, [x])
    # d/dx_k sum_i d prod/dx_i = sum of the x_j, j != k
    for xv, expected in [([0.0, 2.0, 3.0], [5.0, 3.0, 2.0]), ([0.0, 0.0, 3.0], [3.0, 3.0, 0.0]),
                         ([0.0, 0.0, 0.0], [0.0, 0.0, 0.0]), ([1.0, 2.0, 3.0], [5.0, 4.0, 3.0])]:
        out = run(gg, {x: np.array(xv), s1: np.asarray(1.0), s2: np.asarray(1.0)})
        np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize("fn", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_max_min_gradients(fn, axis):
    x = RNG.permutation(12).reshape(3, 4).astype("float64")
    check_grad(lambda a: getattr(tm, fn)(a, axis=axis), [x])
    check_grad(lambda a: getattr(tm, fn)(a, axis=axis, keepdims=True) * a, [x])


@pytest.mark.parametrize("op", [Max, Min])
def test_careduce_max_min_gradients(op):
    x = RNG.permutation(12).reshape(3, 4).astype("float64")
    check_grad(lambda a: op(axis=1)(a), [x])


def test_max_gradient_goes_to_every_tie():
    x = TensorType("float64", (False,))("x")
    y = tm.max(x)
    seed = TensorType("float64", ())("s")
    (g,) = lop_grads(y, seed, [x])
    out = run(g, {x: np.array([1.0, 3.0, 3.0]), seed: np.asarray(2.0)})
    np.testing.assert_array_equal(out, [0.0, 2.0, 2.0])


def test_argmax_gradient_is_zero_and_max_and_argmax_r_op():
    x = TensorType("float64", (False, False))("x")
    a = tm.argmax(x, axis=0)
    (g,) = a.owner.op.L_op(a.owner.inputs, a.owner.outputs,
                           [None, TensorType("float64", (False,))("ga")])
    assert np.all(run(g, {x: np.ones((2, 3))}) == 0)
    ev = TensorType("float64", (False, False))("ev")
    m = tm.max(x, axis=1)
    r = m.owner.op.R_op([x], [ev])[0]
    xv, evv = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]), np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(run(r, {x: xv, ev: evv}), [1.0, (3.0 + 5.0) / 2])


@pytest.mark.parametrize("axis", [None, 0, (0, 1)])
def test_mean_var_std_gradients(axis):
    check_grad(lambda a: tm.mean(a, axis=axis), [_u(-1, 1)])
    check_grad(lambda a: tm.var(a, axis=axis), [_u(-1, 1)])
    check_grad(lambda a: tm.std(a, axis=axis, ddof=1), [_u(-1, 1)])
    check_grad(lambda a: tm.var(a, axis=axis, corrected=True), [_u(-1, 1)])


def test_norm_and_ptp_gradients():
    check_grad(lambda a: tm.norm(a, 2, axis=1), [_u(0.5, 2)])
    check_grad(lambda a: tm.norm(a, 3), [_u(0.5, 2)])
    x = RNG.permutation(6).reshape(2, 3).astype("float64")
    check_grad(lambda a: tm.ptp(a, axis=1), [x])


def test_sum_r_op_and_integer_sum_gradient():
    x, ev = TensorType("float64", (False, False))("x"), TensorType("float64", (False, False))(
        "ev")
    s = tm.sum(x, axis=0)
    (r,) = s.owner.op.R_op([x], [ev])
    np.testing.assert_allclose(run(r, {ev: np.arange(6.0).reshape(2, 3)}), [3.0, 5.0, 7.0])
    i = TensorType("int32", (False,))("i")
    si = tm.sum(i)
    (g,) = si.owner.op.L_op([i], si.owner.outputs, [TensorType("int64", ())("g")])
    assert g.type.dtype == "float64"

"""Canonicalization (topt.rewrites.canonicalize): the add/mul canonizers, canonical neg/inv/
pow forms, DimShuffle lifting, fill sinking, reduction merging. Each rewrite fires on its
target, skips a near miss, keeps the output type and agrees with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.scalar as scal
from tgraph.graph import FunctionGraph
from tgraph.graph.evaluate import evaluate
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.alloc import Alloc, fill
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.reduction import Prod, Sum
from topt.engine import EquilibriumOptimizer
from topt.optdb import optdb
from topt.rewrites import canonicalize as C


def optimize(outputs, inputs, *rewrites):
    fg = FunctionGraph(inputs, outputs)
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def canonicalize(outputs, inputs):
    fg = FunctionGraph(inputs, outputs)
    optdb["canonicalize"].query("+fast_run").optimize(fg)
    return fg


def elemwise_nodes(fg, cls=None):
    return [n for n in fg.toposort() if isinstance(n.op, Elemwise)
            and (cls is None or isinstance(n.op.scalar_op, cls))]


def agree(fg, outputs, inputs, values, rtol=1e-7, atol=0.0):
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for o, n, w, g in zip(outputs, fg.outputs, want, got):
        assert n.type == o.type
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)
    return got


RNG = np.random.default_rng(1)


def _m(shape=(3, 4), dtype="float64", low=0.5):
    return (RNG.random(shape) + low).astype(dtype)


# -- the add canonizer ----------------------------------------------------------------------


@pytest.mark.fires("local_add_canonizer")
def test_add_canonizer_flattens_and_folds_constants():
    x, y, z = tt.dmatrices("x", "y", "z")
    out = ((x + 1) + (y + 2)) + z
    fg = optimize([out], [x, y, z], C.local_add_canonizer)
    (node,) = elemwise_nodes(fg)
    assert isinstance(node.op.scalar_op, scal.Add) and len(node.inputs) == 4
    vals = [_m(), _m(), _m()]
    got = agree(fg, [out], [x, y, z], vals)
    np.testing.assert_allclose(got[0], vals[0] + vals[1] + vals[2] + 3)


def test_add_canonizer_cancels_and_keeps_the_shape():
    x = tt.dmatrix("x")
    r = tt.drow("r")
    out = (x + r) - x  # -> r, widened back to x's shape
    fg = optimize([out], [x, r], C.local_add_canonizer)
    assert not elemwise_nodes(fg, scal.Add | scal.Sub)
    vals = [_m(), _m((1, 4))]
    got = agree(fg, [out], [x, r], vals)
    assert got[0].shape == (3, 4)


def test_add_canonizer_subtraction_form():
    x, y, z = tt.dvectors("x", "y", "z")
    out = x - (y - z) - 2.0 + 2.0
    fg = optimize([out], [x, y, z], C.local_add_canonizer)
    kinds = sorted(type(n.op.scalar_op).__name__ for n in elemwise_nodes(fg))
    assert kinds == ["Add", "Sub"]  # (x + z) - y
    agree(fg, [out], [x, y, z], [_m((5,)), _m((5,)), _m((5,))], rtol=1e-12)


def test_add_canonizer_leaves_a_shared_subexpression_alone():
    x, y, z = tt.dvectors("x", "y", "z")
    t = x + y
    outs = [t + z, t * 2]
    fg = optimize(outs, [x, y, z], C.local_add_canonizer)
    adds = elemwise_nodes(fg, scal.Add)
    assert len(adds) == 2 and all(len(n.inputs) == 2 for n in adds)


def test_add_canonizer_stops_at_a_dtype_change():
    i, j = tt.bvectors("i", "j")
    x = tt.dvector("x")
    out = x + (i + j)  # the int8 sum wraps before it is widened
    fg = optimize([out], [x, i, j], C.local_add_canonizer)
    assert len(elemwise_nodes(fg, scal.Add)) == 2
    iv = np.array([100, -100], dtype="int8")
    got = agree(fg, [out], [x, i, j], [np.zeros(2), iv, iv])
    np.testing.assert_array_equal(got[0], [-56.0, 56.0])


def test_add_canonizer_is_a_fixed_point():
    x, y = tt.dvectors("x", "y")
    out = x - y
    fg = optimize([out], [x, y], C.local_add_canonizer)
    assert fg.outputs[0].owner.op == tm.sub
    again = C.local_add_canonizer.transform(fg, fg.outputs[0].owner)
    assert again is None


# -- the mul canonizer ----------------------------------------------------------------------


@pytest.mark.fires("local_mul_canonizer")
def test_mul_canonizer_cancels_common_factors():
    x = tt.dmatrix("x")
    y = tt.drow("y")
    out = (x * y) / x
    fg = optimize([out], [x, y], C.local_mul_canonizer)
    assert not elemwise_nodes(fg, scal.Mul | scal.TrueDiv)
    vals = [_m(), _m((1, 4))]
    got = agree(fg, [out], [x, y], vals)
    np.testing.assert_allclose(got[0], np.broadcast_to(vals[1], (3, 4)))


def test_mul_canonizer_x_over_x_is_one_even_at_zero():
    # Theano 1.0's choice: the cancelled quotient is 1 for every x.
    x = tt.dvector("x")
    out = x / x
    fg = optimize([out], [x], C.local_mul_canonizer)
    got = evaluate(fg.outputs, {fg.inputs[0]: np.array([0.0, 2.0, np.inf])})
    np.testing.assert_array_equal(got[0], [1.0, 1.0, 1.0])


def test_mul_canonizer_constants_and_divisions():
    x, y, z = tt.dvectors("x", "y", "z")
    out = (2.0 * x) / (4.0 * y) / z
    fg = optimize([out], [x, y, z], C.local_mul_canonizer)
    divs = elemwise_nodes(fg, scal.TrueDiv)
    assert len(divs) == 1
    num, den = divs[0].inputs
    assert isinstance(num.owner.op.scalar_op, scal.Mul)
    assert isinstance(den.owner.op.scalar_op, scal.Mul)
    agree(fg, [out], [x, y, z], [_m((4,)), _m((4,)), _m((4,))], rtol=1e-12)
    out2 = x / (y / z)
    fg2 = optimize([out2], [x, y, z], C.local_mul_canonizer)
    agree(fg2, [out2], [x, y, z], [_m((4,)), _m((4,)), _m((4,))], rtol=1e-12)


def test_mul_canonizer_casts_what_remains_of_a_mixed_product():
    x = tt.fvector("x")
    i = tt.bvector("i")
    out = (x * i) / x  # float32; what remains is the int8 factor
    fg = optimize([out], [x, i], C.local_mul_canonizer)
    assert not elemwise_nodes(fg, scal.Mul | scal.TrueDiv)
    agree(fg, [out], [x, i], [_m((3,), "float32"), np.array([1, -2, 3], dtype="int8")])


def test_mul_canonizer_near_miss():
    x, y = tt.dvectors("x", "y")
    out = (x * y) / (y + x)
    fg = optimize([out], [x, y], C.local_mul_canonizer)
    assert len(elemwise_nodes(fg)) == 3


# -- neg, inv, pow, zeros -------------------------------------------------------------------


@pytest.mark.fires("local_neg_to_mul")
def test_neg_to_mul_and_near_miss():
    x = tt.dvector("x")
    fg = optimize([-x], [x], C.local_neg_to_mul)
    (node,) = elemwise_nodes(fg)
    assert isinstance(node.op.scalar_op, scal.Mul)
    agree(fg, [-x], [x], [_m((3,))])
    u = tt.TensorType("uint8", (False,))("u")
    fg2 = optimize([-u], [u], C.local_neg_to_mul)
    assert isinstance(elemwise_nodes(fg2)[0].op.scalar_op, scal.Neg)


@pytest.mark.fires("local_inv_canon")
def test_inv_canon():
    x = tt.fvector("x")
    out = tm.inv(x)
    fg = optimize([out], [x], C.local_inv_canon)
    (node,) = elemwise_nodes(fg)
    assert isinstance(node.op.scalar_op, scal.Pow)
    agree(fg, [out], [x], [_m((3,), "float32")], rtol=1e-6)
    i = tt.ivector("i")  # inv of integers is a float: left alone
    fg2 = optimize([tm.inv(i)], [i], C.local_inv_canon)
    assert isinstance(elemwise_nodes(fg2)[0].op.scalar_op, scal.Inv)


@pytest.mark.fires("local_pow_canonicalize")
@pytest.mark.parametrize("exponent", [0, 1])
def test_pow_canonicalize(exponent):
    x = tt.dmatrix("x")
    out = x ** exponent
    fg = optimize([out], [x], C.local_pow_canonicalize)
    assert not elemwise_nodes(fg, scal.Pow)
    v = _m()
    v[0, 0] = np.nan
    agree(fg, [out], [x], [v])


def test_pow_canonicalize_near_miss():
    x = tt.dmatrix("x")
    fg = optimize([x ** 2], [x], C.local_pow_canonicalize)
    assert elemwise_nodes(fg, scal.Pow)


@pytest.mark.fires("local_mul_zero")
def test_mul_zero_and_near_miss():
    x = tt.dmatrix("x")
    s = tt.dscalar("s")
    out = tm.mul(s, 0.0, x)
    fg = optimize([out], [x, s], C.local_mul_zero)
    assert not elemwise_nodes(fg, scal.Mul)
    got = agree(fg, [out], [x, s], [_m(), np.float64(2.0)])
    assert got[0].shape == (3, 4)
    fg2 = optimize([tm.mul(x, 1e-300)], [x], C.local_mul_zero)
    assert elemwise_nodes(fg2, scal.Mul)


@pytest.mark.fires("local_zero_div")
def test_zero_div():
    x = tt.dmatrix("x")
    outs = [tm.true_div(0.0, x), tm.int_div(constant(np.int64(0)), tt.lmatrix("i"))]
    i = outs[1].owner.inputs[1]
    fg = optimize(outs, [x, i], C.local_zero_div)
    assert not elemwise_nodes(fg, scal.TrueDiv | scal.IntDiv)
    agree(fg, outs, [x, i], [_m(), np.arange(1, 13).reshape(3, 4)])
    fg2 = optimize([tm.true_div(x, 0.0)], [x], C.local_zero_div)
    assert elemwise_nodes(fg2, scal.TrueDiv)


@pytest.mark.fires("local_func_inv")
def test_func_inv_pairs():
    x = tt.dvector("x")
    outs = [tm.rad2deg(tm.deg2rad(x)), tm.neg(tm.neg(x))]
    fg = optimize(outs, [x], C.local_func_inv)
    assert all(o is fg.inputs[0] for o in fg.outputs)
    agree(fg, outs, [x], [_m((5,))], rtol=1e-12)
    # near miss: arccosh(cosh(x)) is |x|, not x
    near = tm.arccosh(tm.cosh(x))
    fg2 = optimize([near], [x], C.local_func_inv)
    assert len(elemwise_nodes(fg2)) == 2
    agree(fg2, [near], [x], [np.array([-1.0, 2.0])])


# -- DimShuffle lifting ---------------------------------------------------------------------


@pytest.mark.fires("local_dimshuffle_lift")
def test_dimshuffle_lift_through_elemwise():
    x = tt.dmatrix("x")
    r = tt.drow("r")
    out = tm.add(tm.exp(x), r).T
    fg = optimize([out], [x, r], C.local_dimshuffle_lift)
    top = fg.outputs[0].owner
    assert isinstance(top.op, Elemwise)
    for node in fg.toposort():
        if isinstance(node.op, DimShuffle):
            assert node.inputs[0] in fg.inputs
    agree(fg, [out], [x, r], [_m(), _m((1, 4))])


def test_dimshuffle_lift_merges_and_removes():
    x = tt.dtensor3("x")
    out = x.dimshuffle(2, 0, 1).dimshuffle(1, 2, 0)  # the identity
    fg = optimize([out], [x], C.local_dimshuffle_lift)
    assert fg.outputs[0] is fg.inputs[0]
    out2 = x.dimshuffle(2, 0, 1).dimshuffle("x", 1, 0, 2)
    fg2 = optimize([out2], [x], C.local_dimshuffle_lift)
    assert len(fg2.toposort()) == 1
    agree(fg2, [out2], [x], [_m((2, 3, 4))])


def test_dimshuffle_lift_near_miss_shared_elemwise():
    x = tt.dmatrix("x")
    e = tm.exp(x)
    fg = optimize([e.T, e], [x], C.local_dimshuffle_lift)
    assert isinstance(fg.outputs[0].owner.op, DimShuffle)


# -- fill ------------------------------------------------------------------------------------


@pytest.mark.fires("local_fill_sink")
def test_fill_sink():
    x = tt.dmatrix("x")
    s = tt.dscalar("s")
    out = tm.exp(fill(x, s))
    fg = optimize([out], [x, s], C.local_fill_sink)
    top = fg.outputs[0].owner
    assert isinstance(top.op.scalar_op, scal.Second)
    assert all(top.inputs[1].broadcastable)  # exp runs on the scalar
    agree(fg, [out], [x, s], [_m(), np.float64(0.3)])
    fg2 = optimize([tm.exp(x)], [x], C.local_fill_sink)
    assert isinstance(fg2.outputs[0].owner.op.scalar_op, scal.Exp)


@pytest.mark.fires("local_fill_to_alloc")
def test_fill_to_alloc():
    x = tt.dmatrix("x")
    s = tt.fscalar("s")
    out = fill(x, s)
    fg = optimize([out], [x, s], C.local_fill_to_alloc)
    assert isinstance(fg.outputs[0].owner.op, Alloc)
    agree(fg, [out], [x, s], [_m(), np.float32(2.5)])
    # near miss: both sides widen the result
    r, c = tt.drow("r"), tt.dcol("c")
    fg2 = optimize([fill(r, c)], [r, c], C.local_fill_to_alloc)
    assert isinstance(fg2.outputs[0].owner.op.scalar_op, scal.Second)


# -- reductions ------------------------------------------------------------------------------


@pytest.mark.fires("local_sum_prod_all_to_none")
def test_sum_prod_all_to_none():
    x = tt.dmatrix("x")
    outs = [tm.sum(x, axis=[0, 1]), tm.prod(x, axis=[1, 0], dtype="float32")]
    fg = optimize(outs, [x], C.local_sum_prod_all_to_none)
    for o in fg.outputs:
        assert o.owner.op.axis is None
    agree(fg, outs, [x], [_m()], rtol=1e-6)
    fg2 = optimize([tm.sum(x, axis=0)], [x], C.local_sum_prod_all_to_none)
    assert fg2.outputs[0].owner.op.axis == (0,)


@pytest.mark.fires("local_op_of_op")
def test_op_of_op_merges_nested_sums():
    x = tt.dtensor3("x")
    out = tm.sum(tm.sum(x, axis=1), axis=1)
    fg = optimize([out], [x], C.local_op_of_op)
    (node,) = fg.toposort()
    assert isinstance(node.op, Sum) and node.op.axis == (1, 2)
    v = _m((2, 3, 4))
    got = agree(fg, [out], [x], [v], rtol=1e-12)
    np.testing.assert_allclose(got[0], v.sum(axis=(1, 2)))
    p = tm.prod(tm.prod(x, axis=0))
    fgp = optimize([p], [x], C.local_op_of_op)
    assert isinstance(fgp.outputs[0].owner.op, Prod) and len(fgp.toposort()) == 1
    agree(fgp, [p], [x], [v], rtol=1e-12)


def test_op_of_op_near_miss_inner_used_twice():
    x = tt.dmatrix("x")
    inner = tm.sum(x, axis=0)
    fg = optimize([tm.sum(inner), inner], [x], C.local_op_of_op)
    assert len(fg.toposort()) == 2


# -- the whole phase ------------------------------------------------------------------------


def test_canonicalize_phase_simplifies_a_mixed_expression():
    x, y = tt.dmatrices("x", "y")
    out = (x * y) / x + 0 * y - (-x) + tm.log(tm.exp(y)) - y
    fg = canonicalize([out], [x, y])
    vals = [_m(), _m()]
    got = agree(fg, [out], [x, y], vals, rtol=1e-12)
    np.testing.assert_allclose(got[0], vals[1] + vals[0], rtol=1e-12)
    assert len(elemwise_nodes(fg)) <= 1


@pytest.mark.fires("local_lift_transpose_through_dot")
def test_lift_transpose_through_dot():
    from tgraph.tensor.dot import dot

    x, y = tt.dmatrices("x", "y")
    out = dot(x, y).T
    fg = optimize([out], [x, y], C.local_lift_transpose_through_dot)
    assert not isinstance(fg.outputs[0].owner.op, DimShuffle)
    agree(fg, [out], [x, y], [_m((2, 3)), _m((3, 4))], rtol=1e-12)
    v = tt.dvector("v")
    near = dot(x, v).dimshuffle("x", 0)
    fg2 = optimize([near], [x, v], C.local_lift_transpose_through_dot)
    assert isinstance(fg2.outputs[0].owner.op, DimShuffle)

"""Rewrites removing useless ops (topt.rewrites.useless): each fires on its target, skips a
near miss, keeps the output type and gives NumPy's values."""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.scalar as scal
from tgraph.graph import FunctionGraph
from tgraph.graph.evaluate import evaluate
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.alloc import Alloc, alloc, fill
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.rebroadcast import Rebroadcast, addbroadcast, unbroadcast
from tgraph.tensor.reduction import CAReduce, Sum
from tgraph.tensor.shape import Reshape, reshape, shape_i
from topt.engine import EquilibriumOptimizer
from topt.features.shape import ShapeFeature
from topt.rewrites import useless as U


def optimize(outputs, inputs, *rewrites, shape_feature=False):
    fg = FunctionGraph(inputs, outputs)
    if shape_feature:
        fg.attach_feature(ShapeFeature())
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def ops(fg):
    return [n.op for n in fg.toposort()]


def scalar_ops(fg):
    return [type(n.op.scalar_op) for n in fg.toposort() if isinstance(n.op, Elemwise)]


def agree(fg, outputs, inputs, values, rtol=1e-6):
    """The optimized graph gives the original graph's values and types."""
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for o, n, w, g in zip(outputs, fg.outputs, want, got):
        assert n.type == o.type
        np.testing.assert_allclose(g, w, rtol=rtol)
        assert np.asarray(g).dtype == np.asarray(w).dtype
    return got


RNG = np.random.default_rng(0)


def _m(shape=(3, 4), dtype="float64"):
    return RNG.standard_normal(shape).astype(dtype)


# -- local_useless_elemwise ----------------------------------------------------------------


@pytest.mark.fires("local_useless_elemwise")
@pytest.mark.parametrize("build", [
    lambda x: tm.mul(x, 1),
    lambda x: tm.mul(1, x),
    lambda x: tm.add(x, 0),
    lambda x: tm.add(0.0, x),
    lambda x: tm.sub(x, 0),
    lambda x: tm.true_div(x, 1),
    lambda x: tm.pow(x, 1),
    lambda x: tm.tensor_copy(x),
    lambda x: tm.cast(x, "float64") + 0,
], ids=["x*1", "1*x", "x+0", "0+x", "x-0", "x/1", "x**1", "identity", "cast+0"])
def test_useless_elemwise_removes_neutral_operations(build):
    x = tt.dmatrix("x")
    out = build(x)
    fg = optimize([out], [x], U.local_useless_elemwise)
    assert fg.outputs[0] is fg.inputs[0]
    v = _m()
    agree(fg, [out], [x], [v])


def test_useless_elemwise_near_misses_stay():
    x = tt.dmatrix("x")
    outs = [tm.mul(x, 2), tm.sub(0, x), tm.true_div(1, x), tm.pow(x, 2), tm.add(x, 1e-300)]
    fg = optimize(outs, [x], U.local_useless_elemwise)
    assert len(fg.toposort()) == len(outs) + sum(
        isinstance(n.op, DimShuffle) for n in fg.toposort())
    agree(fg, outs, [x], [_m() + 5])


def test_useless_elemwise_keeps_the_output_type_by_filling():
    # A row times a matrix of ones: dropping the ones must keep the matrix's extent.
    r = tt.drow("r")
    ones = constant(np.ones((3, 1)))
    out = tm.mul(r, ones)  # (3, n), not broadcastable anywhere... first dim from ones
    fg = optimize([out], [r], U.local_useless_elemwise)
    # ones is not a scalar constant, so nothing is removed
    assert scalar_ops(fg) == [scal.Mul]
    m = tt.dmatrix("m")
    out2 = tm.add(tm.mul(r, 1), m)  # inner mul: r * 1 -> r (row), type kept
    fg2 = optimize([out2], [r, m], U.local_useless_elemwise)
    assert scal.Mul not in scalar_ops(fg2)
    agree(fg2, [out2], [r, m], [_m((1, 4)), _m()])


def test_useless_elemwise_casts_when_the_constant_upcast():
    x = tt.fvector("x")
    out = tm.mul(x, np.float64(1.0))  # float64 result
    assert out.type.dtype == "float64"
    fg = optimize([out], [x], U.local_useless_elemwise)
    assert scalar_ops(fg) == [scal.Cast]
    agree(fg, [out], [x], [_m((5,), "float32")])


def test_useless_elemwise_same_input_comparisons():
    x = tt.dvector("x")
    outs = [tm.eq(x, x), tm.neq(x, x), tm.xor(tt.bvector("b"), 1)]
    b = outs[2].owner.inputs[0]
    fg = optimize(outs[:2], [x], U.local_useless_elemwise)
    assert not any(isinstance(op, Elemwise) and isinstance(op.scalar_op, scal.EQ | scal.NEQ)
                   for op in ops(fg))
    got = agree(fg, outs[:2], [x], [np.array([1.0, 2.0, -3.0])])
    assert got[0].all() and not got[1].any()
    # near miss: two different variables are compared
    y = tt.dvector("y")
    fg2 = optimize([tm.eq(x, y)], [x, y], U.local_useless_elemwise)
    assert scalar_ops(fg2) == [scal.EQ]
    del b


def test_useless_elemwise_bool_and_or():
    b = tt.TensorType("bool", (False,))("b")
    t = constant(np.bool_(True))
    f = constant(np.bool_(False))
    outs = [tm.and_(b, t), tm.and_(f, b), tm.or_(b, f), tm.or_(t, b)]
    fg = optimize(outs, [b], U.local_useless_elemwise)
    assert not any(isinstance(op, Elemwise) and isinstance(op.scalar_op, scal.AND | scal.OR)
                   for op in ops(fg))
    v = np.array([True, False, True])
    got = agree(fg, outs, [b], [v])
    np.testing.assert_array_equal(got[0], v)
    assert not got[1].any() and got[3].all()


def test_useless_elemwise_integer_and_with_one_is_bitwise():
    i = tt.ivector("i")
    out = tm.and_(i, constant(np.int32(1)))
    fg = optimize([out], [i], U.local_useless_elemwise)
    assert scalar_ops(fg) == [scal.AND]
    agree(fg, [out], [i], [np.array([2, 3, 5], dtype="int32")])


# -- local_cast_cast -------------------------------------------------------------------------


@pytest.mark.fires("local_cast_cast")
def test_cast_cast_widening_round_trip_removed():
    x = tt.bvector("x")  # int8
    out = tm.cast(tm.cast(x, "int32"), "int8")
    fg = optimize([out], [x], U.local_cast_cast)
    assert fg.outputs[0] is fg.inputs[0]
    agree(fg, [out], [x], [np.array([-128, 0, 127], dtype="int8")])


def test_cast_cast_widening_then_other_cast_keeps_one():
    x = tt.bvector("x")
    out = tm.cast(tm.cast(x, "int64"), "float32")
    fg = optimize([out], [x], U.local_cast_cast)
    assert len(fg.toposort()) == 1
    agree(fg, [out], [x], [np.array([-128, 0, 127], dtype="int8")])


def test_cast_cast_narrowing_first_is_kept():
    x = tt.dvector("x")
    out = tm.cast(tm.cast(x, "int8"), "float64")  # the int8 cast truncates and wraps
    fg = optimize([out], [x], U.local_cast_cast)
    assert len(fg.toposort()) == 2
    agree(fg, [out], [x], [np.array([1.7, 300.0, -2.5])])


# -- fill, alloc ----------------------------------------------------------------------------


@pytest.mark.fires("local_useless_fill")
def test_useless_fill_removed_when_value_has_the_output_type():
    x, y = tt.dmatrix("x"), tt.dmatrix("y")
    out = fill(x, y)
    fg = optimize([out], [x, y], U.local_useless_fill)
    assert fg.outputs[0] is fg.inputs[1]
    # near miss: a scalar value is widened by the fill
    s = tt.dscalar("s")
    fg2 = optimize([fill(x, s)], [x, s], U.local_useless_fill)
    assert scalar_ops(fg2) == [scal.Second]


@pytest.mark.fires("local_useless_alloc")
def test_useless_alloc_needs_the_proven_shape():
    x = tt.dmatrix("x")
    out = alloc(x, shape_i(x, 0), shape_i(x, 1))
    fg = optimize([out], [x], U.local_useless_alloc)
    assert not any(isinstance(op, Alloc) for op in ops(fg))
    agree(fg, [out], [x], [_m()])
    # near miss: same type, but the shape is another variable's (x may be broadcast)
    y = tt.dmatrix("y")
    out2 = alloc(x, shape_i(y, 0), shape_i(y, 1))
    fg2 = optimize([out2], [x, y], U.local_useless_alloc)
    assert any(isinstance(op, Alloc) for op in ops(fg2))
    agree(fg2, [out2], [x, y], [_m((1, 4)), _m((3, 4))])


def test_useless_alloc_with_the_shape_feature():
    x = tt.dmatrix("x")
    out = alloc(x, x.shape[0], x.shape[1])
    fg = optimize([out], [x], U.local_useless_alloc, shape_feature=True)
    assert not any(isinstance(op, Alloc) for op in ops(fg))
    agree(fg, [out], [x], [_m()])


@pytest.mark.fires("local_canonicalize_alloc")
def test_canonicalize_alloc_moves_leading_ones_to_a_dimshuffle():
    v = tt.dvector("v")
    n = tt.lscalar("n")
    out = alloc(v, 1, 1, n)
    fg = optimize([out], [v, n], U.local_canonicalize_alloc)
    top = fg.outputs[0].owner
    assert isinstance(top.op, DimShuffle)
    assert isinstance(top.inputs[0].owner.op, Alloc)
    assert top.inputs[0].owner.inputs[0].type.ndim == 1
    agree(fg, [out], [v, n], [_m((1,)).reshape(1), np.int64(4)])
    # near miss: the leading dimension is not the constant 1
    out2 = alloc(v, n, n)
    fg2 = optimize([out2], [v, n], U.local_canonicalize_alloc)
    assert isinstance(fg2.outputs[0].owner.op, Alloc)


# -- switch ----------------------------------------------------------------------------------


@pytest.mark.fires("local_useless_switch")
@pytest.mark.parametrize("cond,expect", [(1, "a"), (0, "b"), (np.float64(0.5), "a")])
def test_useless_switch_constant_condition(cond, expect):
    a, b = tt.dmatrix("a"), tt.drow("b")
    out = tm.switch(cond, a, b)
    fg = optimize([out], [a, b], U.local_useless_switch)
    assert scal.Switch not in scalar_ops(fg)
    av, bv = _m(), _m((1, 4))
    got = agree(fg, [out], [a, b], [av, bv])
    np.testing.assert_allclose(got[0], av if expect == "a" else np.broadcast_to(bv, (3, 4)))


def test_useless_switch_same_branches_and_near_miss():
    c = tt.TensorType("bool", (False, False))("c")
    a = tt.drow("a")
    out = tm.switch(c, a, a)
    fg = optimize([out], [c, a], U.local_useless_switch)
    assert scal.Switch not in scalar_ops(fg)
    cv = RNG.random((3, 4)) > 0.5
    agree(fg, [out], [c, a], [cv, _m((1, 4))])
    b = tt.drow("b")
    fg2 = optimize([tm.switch(c, a, b)], [c, a, b], U.local_useless_switch)
    assert scal.Switch in scalar_ops(fg2)


# -- Rebroadcast ----------------------------------------------------------------------------


@pytest.mark.fires("local_useless_rebroadcast")
def test_useless_rebroadcast():
    r = tt.drow("r")
    out = addbroadcast(r, 0)  # already broadcastable
    assert out is r or isinstance(out.owner.op, Rebroadcast)
    x = tt.dmatrix("x")
    node_out = Rebroadcast((0, True), (1, False))(x)  # dim 1 flag changes nothing
    fg = optimize([node_out], [x], U.local_useless_rebroadcast)
    (op,) = ops(fg)
    assert op.axis == ((0, True),)
    agree(fg, [node_out], [x], [_m((1, 4))])
    same = Rebroadcast((1, False))(x)
    fg2 = optimize([same], [x], U.local_useless_rebroadcast)
    assert fg2.outputs[0] is fg2.inputs[0]


@pytest.mark.fires("local_rebroadcast_lift")
def test_rebroadcast_lift_and_merge():
    x = tt.dmatrix("x")
    out = addbroadcast(tm.exp(x), 0)
    fg = optimize([out], [x], U.local_rebroadcast_lift)
    assert isinstance(fg.outputs[0].owner.op, Elemwise)
    agree(fg, [out], [x], [_m((1, 3))])
    two = unbroadcast(addbroadcast(x, 0, 1), 1)
    fg2 = optimize([two], [x], U.local_rebroadcast_lift)
    assert len(fg2.toposort()) == 1
    agree(fg2, [two], [x], [_m((1, 1))])
    # near miss: the elemwise result is used elsewhere too
    e = tm.exp(x)
    fg3 = optimize([addbroadcast(e, 0), e], [x], U.local_rebroadcast_lift)
    assert isinstance(fg3.outputs[0].owner.op, Rebroadcast)


# -- reductions -----------------------------------------------------------------------------


@pytest.mark.fires("local_useless_reduce")
def test_useless_reduce_and_near_miss():
    x = tt.dmatrix("x")
    out = Sum(axis=())(x)
    fg = optimize([out], [x], U.local_useless_reduce)
    assert fg.outputs[0] is fg.inputs[0]
    i = tt.bmatrix("i")
    out2 = Sum(axis=())(i)  # int8 -> int64: the reduction casts
    fg2 = optimize([out2], [i], U.local_useless_reduce)
    assert isinstance(fg2.outputs[0].owner.op, Sum)


@pytest.mark.fires("local_reduce_broadcastable")
@pytest.mark.parametrize("reduce", [
    lambda x: tm.sum(x, axis=0),
    lambda x: tm.sum(x, axis=[0, 2]),
    lambda x: tm.prod(x, axis=0, dtype="float32"),
    lambda x: CAReduce(scal.maximum, axis=(0, 1))(x),
    lambda x: tm.all(x, axis=0),
    lambda x: tm.sum(x),
], ids=["sum0", "sum02", "prod-dtype", "max01", "all0", "sum-all"])
def test_reduce_broadcastable_axes_dropped(reduce):
    x = tt.TensorType("float64", (True, False, False))("x")
    out = reduce(x)
    fg = optimize([out], [x], U.local_reduce_broadcastable)
    for node in fg.toposort():
        if isinstance(node.op, CAReduce):
            axes = range(node.inputs[0].ndim) if node.op.axis is None else node.op.axis
            assert not any(node.inputs[0].type.broadcastable[a] for a in axes)
    agree(fg, [out], [x], [_m((1, 3, 2))])


def test_reduce_broadcastable_near_miss():
    x = tt.dmatrix("x")
    out = tm.sum(x, axis=0)
    fg = optimize([out], [x], U.local_reduce_broadcastable)
    assert fg.outputs[0].owner.op == out.owner.op


# -- reshape --------------------------------------------------------------------------------


@pytest.mark.fires("local_reshape_chain")
def test_reshape_chain():
    x = tt.dmatrix("x")
    out = reshape(reshape(x, (2, 6)), (4, 3))
    fg = optimize([out], [x], U.local_reshape_chain)
    assert sum(isinstance(op, Reshape) for op in ops(fg)) == 1
    agree(fg, [out], [x], [_m()])
    y = reshape(x, (2, 6))
    fg2 = optimize([tm.exp(y)], [x], U.local_reshape_chain)
    assert sum(isinstance(op, Reshape) for op in ops(fg2)) == 1


@pytest.mark.fires("local_useless_dimshuffle_in_reshape")
def test_useless_dimshuffle_in_reshape():
    v = tt.dvector("v")
    out = reshape(v.dimshuffle("x", 0), (2, 3))
    fg = optimize([out], [v], U.local_useless_dimshuffle_in_reshape)
    assert not any(isinstance(op, DimShuffle) for op in ops(fg))
    agree(fg, [out], [v], [_m((6,))])
    # near miss: a transposition changes the C-order data
    m = tt.dmatrix("m")
    out2 = reshape(m.T, (12,))
    fg2 = optimize([out2], [m], U.local_useless_dimshuffle_in_reshape)
    assert any(isinstance(op, DimShuffle) for op in ops(fg2))
    agree(fg2, [out2], [m], [_m()])


# -- scalar <-> tensor round trips ----------------------------------------------------------


@pytest.mark.fires("local_tensor_scalar_tensor")
def test_scalar_tensor_round_trips():
    from tgraph.tensor.scalar_conv import (
        ScalarFromTensor,
        TensorFromScalar,
        scalar_from_tensor,
        tensor_from_scalar,
    )

    t = tt.lscalar("t")
    out = tm.add(tensor_from_scalar(scalar_from_tensor(t)), 1)
    fg = optimize([out], [t], U.local_tensor_scalar_tensor, U.local_scalar_tensor_scalar)
    assert not any(isinstance(op, TensorFromScalar | ScalarFromTensor) for op in ops(fg))
    agree(fg, [out], [t], [np.int64(4)])
    # near miss: a single conversion is needed
    fg2 = optimize([tensor_from_scalar(scalar_from_tensor(t) * 2)], [t],
                   U.local_tensor_scalar_tensor, U.local_scalar_tensor_scalar)
    assert any(isinstance(op, TensorFromScalar) for op in ops(fg2))

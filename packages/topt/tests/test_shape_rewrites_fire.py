"""Each shape rewrite fires on its target, skips a near miss, and keeps NumPy's values."""

import numpy as np
import pytest

from tgraph.graph import Apply, FunctionGraph, Op, evaluate
from tgraph.tensor import math as tm
from tgraph.tensor.advanced_subtensor import AdvancedSubtensor1
from tgraph.tensor.dot import Dot, dot
from tgraph.tensor.shape import (
    MakeVector,
    Reshape,
    Shape,
    Shape_i,
    SpecifyShape,
    make_vector,
    reshape,
    shape,
    shape_i_op,
    specify_shape,
)
from tgraph.tensor.subtensor import Subtensor
from tgraph.tensor.type import TensorType
from topt.engine.rewriter import EquilibriumOptimizer
from topt.rewrites.shape import (
    ShapeOptimizer,
    local_shape_i_constant,
    local_shape_i_of_computed,
    local_shape_to_shape_i,
    local_subtensor_make_vector,
    local_subtensor_of_shape,
    local_track_shape_i,
    local_useless_reshape_by_shape,
    local_useless_specify_shape_by_shape,
)

dmatrix = TensorType("float64", (False, False))
dtensor3 = TensorType("float64", (False, False, False))
lscalar = TensorType("int64", ())


def _optimize(inputs, outputs, *lopts, feature=True):
    fg = FunctionGraph(inputs, outputs)
    if feature:
        ShapeOptimizer().optimize(fg)
    EquilibriumOptimizer(list(lopts), max_use_ratio=10).optimize(fg)
    return fg


def _ops(fg):
    return [type(n.op) for n in fg.toposort()]


def _same_values(inputs, before, fg, values):
    expected = evaluate(before, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
        assert np.asarray(g).dtype == np.asarray(e).dtype


def _big():
    x, y = dmatrix("x"), dmatrix("y")
    return x, y, dot(tm.exp(x) + y, y.T)


XY = [np.ones((3, 4)), np.full((3, 4), 2.0)]


class _NoInfer(Op):
    """Identity without infer_shape."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = inputs[0].copy()


# -- Shape(x) -------------------------------------------------------------------------------


@pytest.mark.fires("local_shape_to_shape_i")
def test_shape_to_shape_i_fires_and_drops_the_big_value():
    x, y, big = _big()
    out = shape(big)
    fg = _optimize([x, y], [out], local_shape_to_shape_i, local_shape_i_of_computed)
    assert Dot not in _ops(fg) and Shape not in _ops(fg)
    assert fg.outputs[0].owner.op == MakeVector("int64")
    assert fg.outputs[0].type == out.type
    _same_values([x, y], [out], fg, XY)


def test_shape_to_shape_i_needs_the_shape_feature():
    x, y, big = _big()
    fg = _optimize([x, y], [shape(big)], local_shape_to_shape_i, feature=False)
    assert Shape in _ops(fg) and Dot in _ops(fg)


# -- Shape(x)[i] and MakeVector(...)[i] -----------------------------------------------------


@pytest.mark.fires("local_subtensor_of_shape")
def test_subtensor_of_shape_with_and_without_feature():
    x, y, big = _big()
    out = big.shape[-1]
    fg = _optimize([x, y], [out], local_subtensor_of_shape)
    assert Dot not in _ops(fg) and Subtensor not in _ops(fg)
    assert fg.outputs[0].owner.op == Shape_i(0) and fg.outputs[0].owner.inputs[0] is fg.inputs[1]
    _same_values([x, y], [out], fg, XY)
    fg2 = _optimize([x, y], [out], local_subtensor_of_shape, feature=False)
    assert fg2.outputs[0].owner.op == Shape_i(1)  # no feature: still reads big, one op less
    _same_values([x, y], [out], fg2, XY)


def test_subtensor_of_shape_slice():
    z = dtensor3("z")
    out = tm.exp(z).shape[1:]
    fg = _optimize([z], [out], local_subtensor_of_shape)
    assert _ops(fg) == [Shape_i, Shape_i, MakeVector]
    _same_values([z], [out], fg, [np.ones((2, 3, 4))])


def test_subtensor_of_shape_near_misses():
    x = dmatrix("x")
    i = lscalar("i")
    fg = _optimize([x, i], [tm.exp(x).shape[i]], local_subtensor_of_shape)
    assert Subtensor in _ops(fg)  # symbolic index
    fg2 = _optimize([x], [tm.exp(x).shape[5]], local_subtensor_of_shape)
    assert Subtensor in _ops(fg2)  # out of range: left for run time to report
    with pytest.raises(IndexError):
        evaluate(fg2.outputs, {fg2.inputs[0]: np.ones((2, 2))})


@pytest.mark.fires("local_subtensor_make_vector")
def test_subtensor_make_vector():
    a, b, c = lscalar("a"), lscalar("b"), lscalar("c")
    vec = make_vector(a, b, c)
    outs = [vec[1], vec[-1], vec[0:2], AdvancedSubtensor1()(vec, [2, 0, 0])]
    fg = _optimize([a, b, c], outs, local_subtensor_make_vector, feature=False)
    o0, o1, o2, o3 = fg.outputs
    assert o0 is fg.inputs[1] and o1 is fg.inputs[2]
    assert o2.owner.op == MakeVector("int64") and o2.owner.inputs == fg.inputs[:2]
    assert o3.owner.op == MakeVector("int64")
    assert Subtensor not in _ops(fg) and AdvancedSubtensor1 not in _ops(fg)
    _same_values([a, b, c], outs, fg, [np.int64(4), np.int64(5), np.int64(6)])


def test_subtensor_make_vector_near_misses():
    a, b, i = lscalar("a"), lscalar("b"), lscalar("i")
    vec = make_vector(a, b)
    fg = _optimize([a, b, i], [vec[i], vec[3], AdvancedSubtensor1()(vec, [0, 7])],
                   local_subtensor_make_vector, feature=False)
    assert _ops(fg).count(Subtensor) == 2 and AdvancedSubtensor1 in _ops(fg)


# -- Shape_i --------------------------------------------------------------------------------


@pytest.mark.fires("local_shape_i_of_computed")
def test_shape_i_of_computed_fires():
    x, y, big = _big()
    out = shape_i_op(1)(big) + shape_i_op(0)(tm.exp(x))
    fg = _optimize([x, y], [out], local_shape_i_of_computed)
    assert Dot not in _ops(fg)
    reads = {n.inputs[0] for n in fg.toposort() if isinstance(n.op, Shape_i)}
    assert reads <= set(fg.inputs)
    _same_values([x, y], [out], fg, XY)


def test_shape_i_of_computed_near_misses():
    x = dmatrix("x")
    s_in = shape_i_op(0)(x)  # an input: nothing better to say
    s_opaque = shape_i_op(0)(_NoInfer()(x))  # no infer_shape: only known at run time
    fg = _optimize([x], [s_in, s_opaque], local_shape_i_of_computed)
    assert _ops(fg).count(Shape_i) == 2 and _NoInfer in _ops(fg)


@pytest.mark.fires("local_track_shape_i")
def test_track_shape_i_replaces_scheduled_nodes_only():
    x, y = dmatrix("x"), dmatrix("y")
    r = _NoInfer()(x)
    s = shape_i_op(0)(r)
    fg = FunctionGraph([x, y], [tm.exp(r), s], clone=False)
    ShapeOptimizer().optimize(fg)
    EquilibriumOptimizer([local_track_shape_i], max_use_ratio=10).optimize(fg)
    assert fg.outputs[1] is s  # not scheduled: untouched
    fg.replace(r, tm.log(y), reason="test")
    assert s.owner in fg.shape_feature.scheduled
    EquilibriumOptimizer([local_track_shape_i], max_use_ratio=10).optimize(fg)
    new = fg.outputs[1]
    assert new.owner.op == Shape_i(0) and new.owner.inputs[0] is y
    got = evaluate(fg.outputs, {x: np.ones((2, 2)), y: np.ones((5, 2))})
    assert int(got[1]) == 5


@pytest.mark.fires("local_shape_i_constant")
def test_shape_i_constant():
    x = dmatrix("x")
    row = TensorType("float64", (True, False))("row")
    outs = [shape_i_op(0)(specify_shape(x, (3, 4))), shape_i_op(0)(tm.exp(row)),
            shape_i_op(1)(reshape(x, (2, 6)))]
    fg = _optimize([x, row], outs, local_shape_i_constant, feature=False)
    assert [int(o.data) for o in fg.outputs] == [3, 1, 6]
    assert all(o.type == TensorType("int64", ()) for o in fg.outputs)
    miss = _optimize([x], [shape_i_op(0)(tm.exp(x))], local_shape_i_constant, feature=False)
    assert Shape_i in _ops(miss)


# -- Reshape and SpecifyShape ---------------------------------------------------------------


@pytest.mark.fires("local_useless_reshape_by_shape")
def test_useless_reshape_by_shape_fires():
    x = dmatrix("x")
    e = tm.exp(x)
    outs = [reshape(e, shape(e), ndim=2), reshape(e, (e.shape[0], -1)),
            reshape(e, (-1, shape_i_op(1)(e)))]
    fg = _optimize([x], outs, local_useless_reshape_by_shape)
    assert Reshape not in _ops(fg)
    assert all(o is fg.outputs[0] for o in fg.outputs)
    _same_values([x], outs, fg, [np.arange(6.0).reshape(2, 3)])


def test_useless_reshape_uses_the_shape_feature_and_fixes_broadcast_flags():
    x = dmatrix("x")
    e = tm.exp(specify_shape(x, (1, 3)))
    out = reshape(e, (1, 3))  # output broadcastable in dimension 0, e is not
    assert out.broadcastable == (True, False)
    fg = _optimize([x], [out], local_useless_reshape_by_shape)
    assert Reshape not in _ops(fg)
    assert fg.outputs[0].type == out.type
    _same_values([x], [out], fg, [np.ones((1, 3))])


def test_useless_reshape_near_misses():
    x = dmatrix("x")
    n = lscalar("n")
    e = tm.exp(x)
    outs = [reshape(e, (e.shape[1], e.shape[0])), reshape(e, (n, -1)), reshape(e, (-1,)),
            reshape(e, (2, 3))]
    fg = _optimize([x, n], outs, local_useless_reshape_by_shape)
    assert _ops(fg).count(Reshape) == 4


@pytest.mark.fires("local_useless_specify_shape_by_shape")
def test_useless_specify_shape_by_shape():
    x = dmatrix("x")
    inner = specify_shape(x, (2, 3))
    e = tm.exp(x)
    outs = [specify_shape(tm.exp(inner), (2, 3)), specify_shape(e, e.shape)]
    fg = _optimize([x], outs, local_useless_specify_shape_by_shape)
    assert _ops(fg).count(SpecifyShape) == 1  # the inner check stays: x is an input
    _same_values([x], outs, fg, [np.ones((2, 3))])


def test_useless_specify_shape_near_miss_keeps_the_check():
    x = dmatrix("x")
    out = specify_shape(tm.exp(x), (2, 3))
    fg = _optimize([x], [out], local_useless_specify_shape_by_shape)
    assert SpecifyShape in _ops(fg)
    with pytest.raises(AssertionError, match="declared shape"):
        evaluate(fg.outputs, {fg.inputs[0]: np.ones((3, 3))})

"""ShapeFeature keeps its shapes right while the graph changes, and compares shapes."""

import numpy as np

from tgraph.graph import Apply, FunctionGraph, Op, ReplaceValidate, evaluate
from tgraph.tensor import math as tm
from tgraph.tensor.alloc import alloc
from tgraph.tensor.dot import dot
from tgraph.tensor.shape import Shape_i, shape_i_op, specify_shape
from tgraph.tensor.type import TensorType
from topt.features.shape import ShapeFeature, depends_on, same_entry

dmatrix = TensorType("float64", (False, False))
lscalar = TensorType("int64", ())


class _NoInfer(Op):
    """Identity with no infer_shape: its outputs' shapes are only known at run time."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = inputs[0].copy()


def _attach(inputs, outputs):
    fg = FunctionGraph(inputs, outputs, clone=False)
    fg.attach_feature(ReplaceValidate())
    sf = ShapeFeature()
    fg.attach_feature(sf)
    return fg, sf


def test_replacement_keeps_the_informative_shape():
    x, y = dmatrix("x"), dmatrix("y")
    r = _NoInfer()(x)
    fg, sf = _attach([x, y], [tm.exp(r)])
    new = tm.log(y)
    fg.replace(r, new, reason="test")
    # r's entries only said "measure r": new keeps its own (read from y)
    assert sf.shape_of[new] == sf.shape_of[y]


def test_replacement_takes_constant_entries():
    x = dmatrix("x")
    r = specify_shape(x, (3, 4))
    fg, sf = _attach([x], [tm.exp(r)])
    new = tm.log(x)
    fg.replace(r, new, reason="test")
    assert [int(e.data) for e in sf.shape_of[new]] == [3, 4]


def test_shape_i_of_a_replaced_variable_is_scheduled_and_unscheduled_on_revert():
    x, y = dmatrix("x"), dmatrix("y")
    r = _NoInfer()(x)
    s = shape_i_op(0)(r)
    fg, sf = _attach([x, y], [tm.exp(r), s])
    new = tm.log(y)
    chk = fg.checkpoint()
    fg.replace(r, new, reason="test")
    assert sf.scheduled == {s.owner: new}
    assert sf.shape_of[new][0] is sf.shape_of[y][0]
    fg.revert(chk)
    assert s.owner.inputs[0] is r
    assert new not in sf.scheduled.values()


def test_shape_entries_follow_a_replaced_shape_variable():
    n = lscalar("n")
    n2 = tm.maximum(n, 0)
    fg2, sf2 = _attach([n], [alloc(0.0, n2, 3)])
    out = fg2.outputs[0]
    assert sf2.shape_of[out][0] is n2
    n3 = tm.abs_(n)
    fg2.replace(n2, n3, reason="test")
    assert sf2.shape_of[out][0] is n3
    assert int(evaluate([sf2.shape_of[out][0]], {n: -4})[0]) == 4


def test_get_shape_reinfers_entries_that_read_removed_variables():
    x, y = dmatrix("x"), dmatrix("y")
    r = _NoInfer()(x)
    b = tm.exp(r)
    fg, sf = _attach([x, y], [b])
    stale = sf.shape_of[b][0]
    assert stale.owner.inputs[0] is r
    fg.replace(r, tm.log(y), reason="test")
    assert r not in fg.variables
    fresh = sf.get_shape(b, 0)
    assert fresh is not stale and fresh is sf.shape_of[y][0]
    assert int(evaluate([fresh], {y: np.ones((5, 2))})[0]) == 5


def test_same_shape():
    x, y = dmatrix("x"), dmatrix("y")
    a = tm.exp(x) + y
    b = tm.log(x)
    d = dot(x, y)
    c1 = specify_shape(y, (2, 2))
    c2 = specify_shape(x, (2, 2))
    e1 = _NoInfer()(tm.exp(x))
    e2 = _NoInfer()(tm.exp(x))
    fg, sf = _attach([x, y], [a, b, d, c1, c2, e1, e2])
    assert sf.same_shape(a, b)
    assert sf.same_shape(b, x)
    assert not sf.same_shape(d, x)  # not proven (it holds only for square x)
    assert sf.same_shape(d, x, 0, 0)
    assert not sf.same_shape(d, x, 1, 1)
    assert sf.same_shape(c1, c2)
    assert not sf.same_shape(a, dot(x, y))  # a variable outside the graph: nothing known
    assert sf.same_shape(e1, e2)  # Shape_i of equal computations
    assert not sf.same_shape(a, tm.sum(x, axis=0))


def test_same_entry_and_depends_on_helpers():
    x = dmatrix("x")
    s0 = shape_i_op(0)(x)
    assert same_entry(s0, shape_i_op(0)(x))
    assert not same_entry(s0, shape_i_op(1)(x))
    assert not same_entry(s0, s0 + 0)
    expr = (s0 + 1) * 2
    assert depends_on(expr, s0) is True
    assert depends_on(expr, x) is True
    assert depends_on(s0, expr) is False
    deep = s0
    for _ in range(50):
        deep = deep + 1
    assert depends_on(deep, x, budget=10) is None
    assert isinstance(s0.owner.op, Shape_i)

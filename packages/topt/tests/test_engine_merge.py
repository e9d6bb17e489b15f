"""MergeFeature / MergeOptimizer: duplicates and equal constants become one, incrementally."""

from __future__ import annotations

import numpy as np

import tgraph.tensor as T
from tgraph.graph import FunctionGraph, evaluate
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.tensor import math as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from topt import (
    MergeFeature,
    MergeOptimizer,
    is_same_graph_with_merge,
    merge_optimizer,
    pre_constant_merge,
)


def n_ops(fgraph, name):
    return sum(1 for n in fgraph.apply_nodes
               if isinstance(n.op, Elemwise) and str(n.op.scalar_op) == name)


def test_identical_subgraphs_merge_and_values_agree():
    x, y = T.dvectors("x", "y")
    a = tm.exp(x + y)
    b = tm.exp(x + y)
    fg = FunctionGraph([x, y], [a * b, tm.log(a)])
    assert n_ops(fg, "exp") == 2 and n_ops(fg, "add") == 2
    prof = MergeOptimizer().optimize(fg)
    assert n_ops(fg, "exp") == 1 and n_ops(fg, "add") == 1
    assert prof.applied[prof.driver] >= 1
    xv, yv = np.array([0.1, 0.2]), np.array([1.0, -1.0])
    got = evaluate(fg.outputs, {fg.inputs[0]: xv, fg.inputs[1]: yv})
    np.testing.assert_allclose(got[0], np.exp(xv + yv) ** 2)
    np.testing.assert_allclose(got[1], xv + yv)


def test_near_miss_is_not_merged():
    x, y = T.dvectors("x", "y")
    fg = FunctionGraph([x, y], [tm.exp(x + y) * tm.exp(y + x)])  # operands swapped
    MergeOptimizer().optimize(fg)
    assert n_ops(fg, "exp") == 2 and n_ops(fg, "add") == 2


def test_equal_constants_merge_then_their_clients():
    x = T.dvector("x")
    c1 = constant(np.array([1.0, 2.0]))
    c2 = constant(np.array([1.0, 2.0]))
    c3 = constant(np.array([1.0, 3.0]))
    fg = FunctionGraph([x], [(x + c1) * (x + c2) * (x + c3)], clone=False)
    MergeOptimizer().optimize(fg)
    consts = {id(v) for n in fg.apply_nodes for v in n.inputs if v.owner is None and v is not
              fg.inputs[0]}
    assert len(consts) == 2  # [1, 2] once, [1, 3] once
    assert n_ops(fg, "add") == 2
    xv = np.array([0.5, 1.5])
    np.testing.assert_allclose(evaluate(fg.outputs, {fg.inputs[0]: xv})[0],
                               (xv + np.array([1.0, 2.0])) ** 2 * (xv + np.array([1.0, 3.0])))


def test_constants_of_different_dtype_do_not_merge():
    x = T.dvector("x")
    fg = FunctionGraph([x], [x * constant(np.float64(2.0)) + x * constant(np.float32(2.0))])
    MergeOptimizer().optimize(fg)
    assert n_ops(fg, "mul") == 2


def test_merge_is_incremental():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(x) + tm.sqrt(x)])
    opt = MergeOptimizer()
    opt.optimize(fg)
    feature = fg.merge_feature
    assert isinstance(feature, MergeFeature)
    # A rewrite-like replacement creates a duplicate of exp(x): found from the import event.
    sqrt_var = fg.outputs[0].owner.inputs[1]
    fg.replace_all_validate([(sqrt_var, tm.exp(fg.inputs[0]))], reason="test")
    assert len(feature.scheduled) == 1
    opt.optimize(fg)
    assert n_ops(fg, "exp") == 1
    assert fg.outputs[0].owner.inputs[0] is fg.outputs[0].owner.inputs[1]


def test_merging_cascades_to_clients():
    x = T.dvector("x")
    chain1 = tm.log(tm.exp(tm.sqrt(x)))
    chain2 = tm.log(tm.exp(tm.sqrt(x)))
    fg = FunctionGraph([x], [chain1 + chain2])
    merge_optimizer.optimize(fg)
    assert len(fg.apply_nodes) == 4


def test_outputs_and_names_are_kept():
    x = T.dvector("x")
    a = tm.exp(x)
    b = tm.exp(x)
    b.name = "b"
    fg = FunctionGraph([x], [a, b])
    MergeOptimizer().optimize(fg)
    assert fg.outputs[0] is fg.outputs[1]
    assert fg.outputs[0].name == "b"


class AddOneInplace(Op):
    """x += 1 in place (destroys its input)."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        inputs[0] += 1
        out[0][0] = inputs[0]


def test_duplicates_both_destroyed_are_not_merged():
    x = T.dvector("x")
    a, b = tm.exp(x), tm.exp(x)
    fg = FunctionGraph([x], [AddOneInplace()(a), AddOneInplace()(b)])
    MergeOptimizer().optimize(fg)
    assert n_ops(fg, "exp") == 2


def test_pre_constant_merge():
    x = T.dvector("x")
    c1, c2 = constant(np.array([3.0])), constant(np.array([3.0]))
    out = (x * c1) + (x * c2)
    pre_constant_merge([out])
    muls = [v.owner for v in out.owner.inputs]
    assert muls[0].inputs[1] is muls[1].inputs[1]


def test_is_same_graph_with_merge():
    x, y = T.dvectors("x", "y")
    assert is_same_graph_with_merge(tm.exp(x) + y, tm.exp(x) + y)
    assert not is_same_graph_with_merge(tm.exp(x) + y, tm.exp(y) + x)
    z = T.dvector("z")
    assert is_same_graph_with_merge(tm.exp(x), tm.exp(z), givens={z: x})

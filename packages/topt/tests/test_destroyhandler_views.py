"""DestroyHandler follows views: destroying a view destroys its base and every other view.

Also a property test: any random mix of in-place ops and views that the handler accepts
computes the same numbers as the same graph without in-place ops.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph import scalar as ts
from tgraph.graph import FunctionGraph, InconsistencyError, ReplaceValidate, evaluate
from tgraph.tensor import math as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.shape import reshape
from tgraph.tensor.type import TensorType
from topt.features.destroyhandler import DestroyHandler

dmatrix = TensorType("float64", (False, False))
add_inplace = Elemwise(ts.add, {0: 0})


def _graph(inputs, outputs):
    fg = FunctionGraph(inputs, outputs, clone=False)
    fg.attach_feature(ReplaceValidate())
    dh = DestroyHandler()
    fg.attach_feature(dh)
    return fg, dh


def _run(fg, values):
    storage = {v: np.array(values[v], copy=True) for v in fg.inputs}
    for var in fg.variables:
        if var.owner is None and var not in storage:
            storage[var] = var.data
    for node in fg.toposort():
        cells = [[None] for _ in node.outputs]
        node.op.perform(node, [storage[i] for i in node.inputs], cells)
        for out, cell in zip(node.outputs, cells):
            storage[out] = cell[0]
    return [storage[o] for o in fg.outputs]


def test_destroying_a_view_orders_readers_of_the_base_and_of_sibling_views():
    x = dmatrix("x")
    row = x[0]  # Subtensor: a view of x
    col = x[:, 1]  # another view of x
    z = add_inplace(row, tm.exp(col))  # overwrites row 0 of x
    r1 = tm.exp(x)
    r2 = col * 2
    fg, dh = _graph([x], [z, r1, r2])
    fg.validate()
    before = dh.orderings(fg)[z.owner]
    assert r1.owner in before and r2.owner in before
    assert dh.view_root(row) is x and dh.view_root(col) is x
    assert fg.destroyers(x) == fg.destroyers(col) == [z.owner]
    v = np.arange(9.0).reshape(3, 3)
    out_z, out_r1, out_r2 = _run(fg, {x: v})
    np.testing.assert_allclose(out_z, v[0] + np.exp(v[:, 1]))
    np.testing.assert_allclose(out_r1, np.exp(v))
    np.testing.assert_allclose(out_r2, v[:, 1] * 2)


def test_view_of_a_view_is_followed_to_the_root():
    x = dmatrix("x")
    v1 = x.T  # DimShuffle view
    v2 = reshape(v1, (6,))  # Reshape declares a view too
    z = add_inplace(v2, constant(np.ones(6)))
    reader = tm.sum(x)
    fg, dh = _graph([x], [z, reader])
    fg.validate()
    assert dh.view_root(v2) is x
    assert dh.views_of(x) == [x, v1, v2]
    # the view nodes read x too (they already run before z: the constraint is redundant)
    assert dh.orderings(fg) == {z.owner: [v1.owner, reader.owner, v2.owner]}
    assert fg.has_destroyers([v1]) and fg.has_destroyers([x])


def test_two_views_of_one_base_destroyed_is_refused():
    x = dmatrix("x")
    z1 = add_inplace(x[0], x[1] * 0)
    z2 = add_inplace(x[1], x[0] * 0)
    fg, _ = _graph([x], [z1 + z2])
    with pytest.raises(InconsistencyError, match="more than one node"):
        fg.validate()


def test_reader_of_a_view_that_needs_the_result_is_refused():
    x = dmatrix("x")
    view = x.T
    z = add_inplace(x, x * 0 + 1)
    fg, _ = _graph([x], [z.T + view])  # reads x.T (same memory as x) after z overwrote it
    with pytest.raises(InconsistencyError, match=r"reads .*the same memory"):
        fg.validate()


def test_changing_the_input_of_a_view_moves_it():
    x, y = dmatrix("x"), dmatrix("y")
    view = x.T
    z = add_inplace(view, y.T)
    fg, dh = _graph([x, y], [z])
    assert dh.view_root(view) is x
    fg.replace(x, tm.exp(y), reason="test")
    assert dh.view_root(view) is fg.outputs[0].owner.inputs[0].owner.inputs[0]
    assert x not in dh.view_o and not fg.has_destroyers([x])
    fg.validate()


# -- property: accepted graphs compute the reference values ---------------------------------

_SCALAR = {"add": ts.add, "mul": ts.mul, "sub": ts.sub}
_step = st.tuples(
    st.sampled_from(sorted(_SCALAR)),  # scalar op
    st.integers(0, 100),  # first operand (mod the values so far)
    st.integers(0, 100),  # second operand
    st.booleans(),  # overwrite the first operand in place
    st.sampled_from(["none", "slice", "reshape"]),  # take a view of the result
)


def _build(steps, inplace):
    x, y = dmatrix("x"), dmatrix("y")
    vals = [x, y]
    for name, a, b, destroy, view in steps:
        lhs, rhs = vals[a % len(vals)], vals[b % len(vals)]
        op = Elemwise(_SCALAR[name], {0: 0} if destroy and inplace else None)
        out = op(lhs, rhs)
        if view == "slice":
            out = out[:, :]
        elif view == "reshape":
            out = reshape(out, (2, 3))
        vals.append(out)
    return [x, y], [vals[-1], vals[len(vals) // 2]]


@settings(max_examples=40, deadline=None)
@given(st.lists(_step, min_size=1, max_size=7))
def test_accepted_inplace_graphs_compute_the_reference(steps):
    rng = np.random.default_rng(1)
    xv, yv = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    ref_in, ref_out = _build(steps, inplace=False)
    expected = evaluate(ref_out, {ref_in[0]: xv.copy(), ref_in[1]: yv.copy()})
    inputs, outputs = _build(steps, inplace=True)
    if outputs[0] is outputs[1]:
        outputs = outputs[:1]
        expected = expected[:1]
    fg, _ = _graph(inputs, outputs)
    try:
        fg.validate()
    except InconsistencyError:
        return
    got = _run(fg, {inputs[0]: xv, inputs[1]: yv})
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e)

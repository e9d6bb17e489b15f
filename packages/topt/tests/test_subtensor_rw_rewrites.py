"""Rewrites of basic indexing (topt.rewrites.subtensor_rw): each fires on its target, skips a
near miss, keeps the output type and gives NumPy's values (IndexErrors included)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import FunctionGraph
from tgraph.graph.evaluate import evaluate
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.alloc import Alloc, alloc, zeros_like
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.rebroadcast import Rebroadcast, addbroadcast
from tgraph.tensor.subtensor import IncSubtensor, Subtensor, inc_subtensor, set_subtensor
from topt.engine import EquilibriumOptimizer
from topt.features.shape import ShapeFeature
from topt.rewrites import subtensor_rw as R


def optimize(outputs, inputs, *rewrites, shape_feature=False):
    fg = FunctionGraph(inputs, outputs)
    if shape_feature:
        fg.attach_feature(ShapeFeature())
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def count(fg, cls):
    return sum(isinstance(n.op, cls) for n in fg.toposort())


def agree(fg, outputs, inputs, values):
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for o, n, w, g in zip(outputs, fg.outputs, want, got):
        assert n.type == o.type
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w)
    return got


RNG = np.random.default_rng(4)


def _m(shape=(5, 4)):
    return RNG.standard_normal(shape)


# -- useless slices and subtensors ------------------------------------------------------------


@pytest.mark.fires("local_useless_slice")
def test_useless_slice_drops_trailing_full_slices():
    x = tt.dtensor3("x")
    out = x[1, :, :]
    fg = optimize([out], [x], R.local_useless_slice)
    (node,) = fg.toposort()
    assert len(node.op.idx_list) == 1
    agree(fg, [out], [x], [_m((3, 4, 2))])
    fg2 = optimize([x[1, 1:]], [x], R.local_useless_slice)
    assert len(fg2.toposort()[0].op.idx_list) == 2


@pytest.mark.fires("local_useless_subtensor")
def test_useless_subtensor():
    x = tt.dmatrix("x")
    n = x.shape[0]
    outs = [x[:], x[0:], x[:n], x[0:100]]
    fg = optimize(outs[:3], [x], R.local_useless_subtensor, shape_feature=True)
    assert all(o is fg.inputs[0] for o in fg.outputs)
    agree(fg, outs[:3], [x], [_m()])
    # near misses: a constant stop that may cut, a start, a step, an integer index
    near = [x[:3], x[1:], x[::2], x[0]]
    fg2 = optimize(near, [x], R.local_useless_subtensor, shape_feature=True)
    assert count(fg2, Subtensor) == 4
    agree(fg2, near, [x], [_m()])


def test_useless_subtensor_with_a_known_length():
    x = tt.TensorType("float64", (True, False))("x")
    out = x[0:100, :]
    fg = optimize([out], [x], R.local_useless_subtensor)
    assert fg.outputs[0] is fg.inputs[0]


@pytest.mark.fires("local_subtensor_remove_broadcastable_index")
def test_remove_broadcastable_index():
    r = tt.drow("r")
    outs = [r[0], r[-1, 1:]]
    fg = optimize(outs, [r], R.local_subtensor_remove_broadcastable_index)
    assert isinstance(fg.outputs[0].owner.op, DimShuffle)
    assert isinstance(fg.outputs[1].owner.op, Subtensor)  # 1: is not a full slice
    agree(fg, outs, [r], [_m((1, 4))])
    x = tt.dmatrix("x")
    fg2 = optimize([x[0]], [x], R.local_subtensor_remove_broadcastable_index)
    assert isinstance(fg2.outputs[0].owner.op, Subtensor)


# -- lifting ---------------------------------------------------------------------------------


@pytest.mark.fires("local_subtensor_lift")
def test_subtensor_lift_through_elemwise():
    x, y = tt.dmatrices("x", "y")
    s = tt.dscalar("s")
    r = tt.drow("r")
    out = tm.exp(x + y * s + r)[1:3, 2]
    fg = optimize([out], [x, y, s, r], R.local_subtensor_lift)
    assert isinstance(fg.outputs[0].owner.op, Elemwise)
    for node in fg.toposort():
        if isinstance(node.op, Subtensor):
            assert node.inputs[0].owner is None or isinstance(node.inputs[0].owner.op,
                                                              DimShuffle)
    agree(fg, [out], [x, y, s, r], [_m(), _m(), np.float64(0.5), _m((1, 4))])


def test_subtensor_lift_keeps_index_errors():
    x = tt.dmatrix("x")
    r = tt.drow("r")
    out = (x + r)[7]
    fg = optimize([out], [x, r], R.local_subtensor_lift)
    assert isinstance(fg.outputs[0].owner.op, Elemwise)
    with pytest.raises(IndexError):
        evaluate(fg.outputs, {fg.inputs[0]: _m(), fg.inputs[1]: _m((1, 4))})


def test_subtensor_lift_through_rebroadcast_and_near_miss():
    x = tt.dmatrix("x")
    out = addbroadcast(x, 0)[:, 1:]
    fg = optimize([out], [x], R.local_subtensor_lift)
    assert isinstance(fg.outputs[0].owner.op, Rebroadcast)
    agree(fg, [out], [x], [_m((1, 4))])
    e = tm.exp(x)
    fg2 = optimize([e[0], e], [x], R.local_subtensor_lift)
    assert isinstance(fg2.outputs[0].owner.op, Subtensor)


# -- merging ---------------------------------------------------------------------------------


@pytest.mark.fires("local_subtensor_merge")
@pytest.mark.parametrize("build", [
    lambda x: x[1:][0],
    lambda x: x[1:4][1:],
    lambda x: x[::2][1:3],
    lambda x: x[2:][::3],
    lambda x: x[1:][-1],
    lambda x: x[-3:][:2],
    lambda x: x[1:5:2][-1:],
    lambda x: x[:, 1:][1:, 0],
    lambda x: x[1][2:][1],
], ids=["a:][i", "a:b][c:", "::k][c:d", "a:][::l", "a:][-1", "-a:][:b", "a:b:k][-1:",
        "2d", "int-first"])
def test_subtensor_merge(build):
    x = tt.dmatrix("x")
    out = build(x)
    fg = optimize([out], [x], R.local_subtensor_merge)
    assert count(fg, Subtensor) == 1
    v = _m((7, 6))
    got = agree(fg, [out], [x], [v])
    np.testing.assert_allclose(got[0], build(v))


def test_subtensor_merge_keeps_index_errors():
    x = tt.dvector("x")
    out = x[1:3][2]  # 2 is out of the 2-element slice, though x has a 4th element
    fg = optimize([out], [x], R.local_subtensor_merge)
    assert count(fg, Subtensor) == 1
    with pytest.raises(IndexError):
        evaluate(fg.outputs, {fg.inputs[0]: np.arange(6.0)})


def test_subtensor_merge_near_miss_negative_step():
    x = tt.dvector("x")
    out = x[::-1][1:]
    fg = optimize([out], [x], R.local_subtensor_merge)
    assert count(fg, Subtensor) == 2


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(0, 7),
    a=st.one_of(st.none(), st.integers(-9, 9)),
    b=st.one_of(st.none(), st.integers(-9, 9)),
    k=st.one_of(st.none(), st.integers(1, 3)),
    c=st.one_of(st.none(), st.integers(-9, 9)),
    d=st.one_of(st.none(), st.integers(-9, 9)),
    ell=st.one_of(st.none(), st.integers(1, 3)),
    as_int=st.booleans(),
)
def test_subtensor_merge_matches_numpy(n, a, b, k, c, d, ell, as_int):
    x = tt.dvector("x")
    i = tt.lscalar("i")
    j = tt.lscalar("j")
    first = slice(a, b, k)
    second = i if as_int else slice(c, j, ell)
    out = x[first][second]
    fg = optimize([out], [x, i, j], R.local_subtensor_merge)
    assert count(fg, Subtensor) == 1
    v = np.arange(float(n))
    iv = np.int64(0 if c is None else c)
    jv = np.int64(0 if d is None else d)
    try:
        want = v[first][iv if as_int else slice(c, jv, ell)]
    except IndexError:
        with pytest.raises(IndexError):
            evaluate(fg.outputs, {fg.inputs[0]: v, fg.inputs[1]: iv, fg.inputs[2]: jv})
        return
    got = evaluate(fg.outputs, {fg.inputs[0]: v, fg.inputs[1]: iv, fg.inputs[2]: jv})[0]
    np.testing.assert_array_equal(got, want)


# -- alloc -----------------------------------------------------------------------------------


@pytest.mark.fires("local_subtensor_of_alloc")
def test_subtensor_of_alloc():
    v = tt.dvector("v")
    n = tt.lscalar("n")
    a = alloc(v, n, 4)
    outs = [a[1:3], a[2], a[:, 1], a[1:, 1:3]]
    fg = optimize(outs, [v, n], R.local_subtensor_of_alloc)
    for o in fg.outputs:
        assert isinstance(o.owner.op, Alloc)
    agree(fg, outs, [v, n], [_m((4,)), np.int64(5)])


def test_subtensor_of_alloc_broadcast_value_and_near_miss():
    r = tt.drow("r")
    n = tt.lscalar("n")
    a = alloc(r, n, 3, 4)  # r (1, 4) fills axes 1, 2
    outs = [a[:, 1], a[0, 2, 1:]]
    fg = optimize(outs, [r, n], R.local_subtensor_of_alloc)
    assert all(isinstance(o.owner.op, Alloc) for o in fg.outputs)
    agree(fg, outs, [r, n], [_m((1, 4)), np.int64(2)])
    x = tt.dmatrix("x")
    fg2 = optimize([tm.exp(x)[1:]], [x], R.local_subtensor_of_alloc)
    assert isinstance(fg2.outputs[0].owner.op, Subtensor)


# -- increments --------------------------------------------------------------------------------


@pytest.mark.fires("local_incsubtensor_of_zeros")
def test_incsubtensor_of_zeros():
    x = tt.dmatrix("x")
    outs = [inc_subtensor(x[1:], 0.0), inc_subtensor(x[:, 0], zeros_like(x[:, 0]))]
    fg = optimize(outs, [x], R.local_incsubtensor_of_zeros)
    assert all(o is fg.inputs[0] for o in fg.outputs)
    agree(fg, outs, [x], [_m()])
    y = tt.dvector("y")
    near = inc_subtensor(x[0], y)
    fg2 = optimize([near], [x, y], R.local_incsubtensor_of_zeros)
    assert count(fg2, IncSubtensor) == 1
    fg3 = optimize([set_subtensor(x[0], 0.0)], [x], R.local_incsubtensor_of_zeros)
    assert count(fg3, IncSubtensor) == 1


@pytest.mark.fires("local_setsubtensor_of_constants")
def test_setsubtensor_of_constants():
    n = tt.lscalar("n")
    z = alloc(constant(np.float64(0.0)), n, 3)
    out = set_subtensor(z[1:], 0.0)
    fg = optimize([out], [n], R.local_setsubtensor_of_constants)
    assert count(fg, IncSubtensor) == 0
    agree(fg, [out], [n], [np.int64(4)])
    near = set_subtensor(z[1:], 1.0)
    fg2 = optimize([near], [n], R.local_setsubtensor_of_constants)
    assert count(fg2, IncSubtensor) == 1
    agree(fg2, [near], [n], [np.int64(4)])


@pytest.mark.fires("local_useless_inc_subtensor")
def test_useless_inc_subtensor():
    x = tt.dmatrix("x")
    y = tm.exp(x)
    outs = [set_subtensor(x[:], y), inc_subtensor(zeros_like(x)[:], y),
            set_subtensor(x[::-1], y)]
    fg = optimize(outs, [x], R.local_useless_inc_subtensor, shape_feature=True)
    assert count(fg, IncSubtensor) == 0
    agree(fg, outs, [x], [_m()])
    # near misses: y of another shape; a partial region; an increment of x itself
    w = tt.dmatrix("w")
    near = [set_subtensor(x[:], w), set_subtensor(x[1:], y[1:]), inc_subtensor(x[:], y)]
    fg2 = optimize(near, [x, w], R.local_useless_inc_subtensor, shape_feature=True)
    assert count(fg2, IncSubtensor) == 3
    agree(fg2, near, [x, w], [_m(), _m()])

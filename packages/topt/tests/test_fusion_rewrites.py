"""Elemwise fusion: what it fuses, what it leaves alone, the input bound, and the numbers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph import config
from tgraph.gradient import grad
from tgraph.graph import FunctionGraph, evaluate
from tgraph.scalar import Composite
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import dot
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.reduction import CAReduce
from topt.optdb import optdb
from topt.rewrites.fusion import (
    MAX_FUSED_INPUTS,
    FusionOptimizer,
    fuse_seqopt,
    local_add_mul_fusion,
    local_elemwise_fusion,
)

RNG = np.random.default_rng(0)


def _fuse(inputs, outputs, add_mul: bool = True) -> FunctionGraph:
    fg = FunctionGraph(inputs, outputs)
    if add_mul:
        FusionOptimizer(local_add_mul_fusion).optimize(fg)
    FusionOptimizer(local_elemwise_fusion).optimize(fg)
    fg.check_integrity()
    return fg


def _elemwise_nodes(fg: FunctionGraph) -> list:
    return [n for n in fg.toposort() if isinstance(n.op, Elemwise)]


def _composites(fg: FunctionGraph) -> list:
    return [n for n in _elemwise_nodes(fg) if isinstance(n.op.scalar_op, Composite)]


def _run(fg: FunctionGraph, values) -> list:
    return evaluate(fg.outputs, dict(zip(fg.inputs, values)))


def _rand(*shape, dtype="float64"):
    return RNG.uniform(0.5, 2.0, size=shape).astype(dtype)


# ---------------------------------------------------------------------------------------------
# fires


def test_chain_becomes_one_composite():
    x, y = tt.dmatrix("x"), tt.dmatrix("y")
    z = tt.drow("z")
    out = tm.exp(x * y + z) - tm.log(x)
    fg = _fuse([x, y, z], [out])
    nodes = _elemwise_nodes(fg)
    assert len(nodes) == 1
    assert isinstance(nodes[0].op.scalar_op, Composite)
    assert nodes[0].inputs == [x for x in fg.inputs]  # x is read once, shared inside
    xv, yv, zv = _rand(3, 4), _rand(3, 4), _rand(1, 4)
    np.testing.assert_allclose(_run(fg, [xv, yv, zv])[0], np.exp(xv * yv + zv) - np.log(xv))


def test_scalar_constants_live_inside_the_composite():
    x = tt.dvector("x")
    fg = _fuse([x], [(x * 2 + 1) ** 3])
    (node,) = _elemwise_nodes(fg)
    assert node.inputs == [fg.inputs[0]]
    xv = _rand(5)
    np.testing.assert_allclose(_run(fg, [xv])[0], (xv * 2 + 1) ** 3)


def test_group_of_only_constants_keeps_an_input():
    c = constant(np.array([2.0]))
    d = constant(np.array([3.0]))
    assert c.type.broadcastable == (True,)
    fg = FunctionGraph([], [tm.exp(c * d)])
    FusionOptimizer(local_elemwise_fusion).optimize(fg)
    (node,) = _elemwise_nodes(fg)
    assert len(node.inputs) >= 1
    assert node.outputs[0].type == tt.TensorType("float64", (True,))
    np.testing.assert_allclose(_run(fg, [])[0], np.exp([6.0]))


def test_multi_output_root_is_fused():
    x, y = tt.dvector("x"), tt.dvector("y")
    from tgraph.scalar import basic as sb

    a, b = sb.float64("a"), sb.float64("b")
    two = Elemwise(Composite([a, b], [a + b, a * b]))
    s, p = two(tm.exp(x), y)
    fg = _fuse([x, y], [s, p])
    (node,) = _elemwise_nodes(fg)
    assert len(node.outputs) == 2
    xv, yv = _rand(4), _rand(4)
    got = _run(fg, [xv, yv])
    np.testing.assert_allclose(got[0], np.exp(xv) + yv)
    np.testing.assert_allclose(got[1], np.exp(xv) * yv)


def test_intermediate_used_twice_by_the_same_node_is_fused():
    x = tt.dvector("x")
    t = tm.exp(x)
    fg = _fuse([x], [t * t + t])
    assert len(_elemwise_nodes(fg)) == 1
    xv = _rand(6)
    np.testing.assert_allclose(_run(fg, [xv])[0], np.exp(xv) ** 2 + np.exp(xv))


def test_late_client_lets_a_shared_producer_join():
    # t feeds u and the root; u feeds the root: visiting u first makes t's clients all inside.
    x = tt.dvector("x")
    t = tm.exp(x)
    u = tm.log(t)
    fg = _fuse([x], [t + u])
    assert len(_elemwise_nodes(fg)) == 1


# ---------------------------------------------------------------------------------------------
# near misses


def test_intermediate_with_two_consumers_is_not_duplicated():
    x, y = tt.dvector("x"), tt.dvector("y")
    t = x * y
    fg = _fuse([x, y], [tm.exp(t), tm.log(t)])
    assert not _composites(fg)
    assert len(_elemwise_nodes(fg)) == 3


def test_intermediate_that_is_an_output_is_not_swallowed():
    x, y = tt.dvector("x"), tt.dvector("y")
    t = x * y
    fg = _fuse([x, y], [t, tm.exp(t)])
    assert not _composites(fg)


def test_no_fusion_across_a_reduction():
    x, y = tt.dmatrix("x"), tt.dmatrix("y")
    out = tm.exp(tm.sum(x * y, axis=0) + 1)
    fg = _fuse([x, y], [out])
    kinds = [type(n.op) for n in fg.toposort()]
    assert any(issubclass(k, CAReduce) for k in kinds)
    (comp,) = _composites(fg)
    assert "mul" not in str(comp.op.scalar_op)  # the product stays before the Sum
    xv, yv = _rand(3, 4), _rand(3, 4)
    np.testing.assert_allclose(_run(fg, [xv, yv])[0], np.exp((xv * yv).sum(axis=0) + 1))


def test_no_fusion_across_a_broadcast():
    r = tt.drow("r")
    m = tt.dmatrix("m")
    a = tm.exp(r)  # shape (1, n): fusing would compute it once per row
    fg = _fuse([r, m], [a + m])
    assert not _composites(fg)
    assert len(_elemwise_nodes(fg)) == 2


def test_no_fusion_across_a_dimshuffle():
    x, y = tt.dmatrix("x"), tt.dmatrix("y")
    fg = _fuse([x, y], [tm.exp(x).T + y])
    assert not _composites(fg)
    assert any(isinstance(n.op, DimShuffle) for n in fg.toposort())


def test_single_node_is_left_alone():
    x = tt.dvector("x")
    fg = _fuse([x], [x * 2])
    (node,) = _elemwise_nodes(fg)
    assert not isinstance(node.op.scalar_op, Composite)


def test_inplace_nodes_are_not_fused():
    x, y = tt.dvector("x"), tt.dvector("y")
    t = x + y
    from tgraph.scalar import basic as sb

    out = Elemwise(sb.exp, {0: 0})(t)
    fg = _fuse([x, y], [out])
    assert not _composites(fg)


def test_subclass_of_elemwise_is_not_fused():
    class OtherElemwise(Elemwise):
        pass

    x = tt.dvector("x")
    from tgraph.scalar import basic as sb

    out = OtherElemwise(sb.exp)(tm.log(x))
    fg = _fuse([x], [out])
    assert not _composites(fg)


# ---------------------------------------------------------------------------------------------
# the input bound


@pytest.mark.parametrize("add_mul", [False, True], ids=["composite", "add_mul_then_composite"])
def test_long_sum_chain_splits_at_the_bound(add_mul):
    xs = [tt.dvector(f"x{i}") for i in range(100)]
    s = xs[0]
    for v in xs[1:]:
        s = s + v
    fg = _fuse(xs, [s], add_mul=add_mul)
    nodes = _elemwise_nodes(fg)
    assert all(len(n.inputs) <= MAX_FUSED_INPUTS for n in nodes)
    assert 4 <= len(nodes) <= 6  # 100 inputs need at least 4 nodes of at most 32
    vals = [_rand(3) for _ in xs]
    np.testing.assert_allclose(_run(fg, vals)[0], np.sum(vals, axis=0))


def test_wide_node_beyond_the_bound_absorbs_nothing():
    xs = [tt.dvector(f"x{i}") for i in range(40)]
    wide = tm.add(*[tm.exp(v) for v in xs])
    fg = _fuse(xs, [wide], add_mul=False)
    assert not _composites(fg)


def test_add_mul_fusion_flattens_and_respects_dtypes():
    a, b = tt.bvector("a"), tt.bvector("b")
    c = tt.dvector("c")
    fg = FunctionGraph([a, b, c], [(a + b) + c])
    FusionOptimizer(local_add_mul_fusion).optimize(fg)
    assert len(_elemwise_nodes(fg)) == 2  # int8 sum must keep wrapping: not flattened
    av = np.array([100, 120], dtype="int8")
    cv = np.array([0.5, 0.5])
    np.testing.assert_allclose(_run(fg, [av, av, cv])[0], (av + av).astype("float64") + cv)

    x, y, z = tt.dvector("x"), tt.dvector("y"), tt.dvector("z")
    fg = FunctionGraph([x, y, z], [(x * y) * (z * x)])
    FusionOptimizer(local_add_mul_fusion).optimize(fg)
    (node,) = _elemwise_nodes(fg)
    assert len(node.inputs) == 4


# ---------------------------------------------------------------------------------------------
# dtypes and numbers


def test_integer_wrapping_is_kept_inside_the_composite():
    a, b = tt.bvector("a"), tt.bvector("b")
    out = tm.cast(a * b, "float64") + 0.5
    fg = _fuse([a, b], [out])
    assert len(_composites(fg)) == 1
    av = np.array([100, -100, 7], dtype="int8")
    bv = np.array([3, 3, 2], dtype="int8")
    expected = (av * bv).astype("float64") + 0.5  # int8 wraps
    np.testing.assert_allclose(_run(fg, [av, bv])[0], expected)


def test_float32_graph_stays_float32():
    with config.change_flags(floatX="float32"):
        x, y = tt.fmatrix("x"), tt.fmatrix("y")
        out = tm.tanh(x * y) + tm.sqrt(x)
        fg = _fuse([x, y], [out])
    (node,) = _elemwise_nodes(fg)
    assert node.outputs[0].type.dtype == "float32"
    xv, yv = _rand(2, 3, dtype="float32"), _rand(2, 3, dtype="float32")
    got = _run(fg, [xv, yv])[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, np.tanh(xv * yv) + np.sqrt(xv), rtol=1e-6)


def test_fusion_is_deterministic():
    def build():
        x, y = tt.dmatrix("x"), tt.dmatrix("y")
        return _fuse([x, y], [tm.exp(x * y) + tm.sin(x) * 3])

    a, b = build(), build()
    assert _composites(a)[0].op == _composites(b)[0].op


def test_seed_graph_becomes_few_fused_nodes():
    """The seed's logistic-regression cost, gradient and updates, unoptimized otherwise."""
    x, y = tt.dmatrix("x"), tt.dvector("y")
    w, b = tt.dvector("w"), tt.dscalar("b")
    p_1 = 1 / (1 + tm.exp(-dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * tm.log(p_1) - (1 - y) * tm.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = grad(cost, [w, b])
    outputs = [prediction, xent, w - 0.01 * gw, b - 0.01 * gb]
    before = FunctionGraph([x, y, w, b], outputs)
    after = _fuse([x, y, w, b], outputs)
    n_before, n_after = len(_elemwise_nodes(before)), len(_elemwise_nodes(after))
    assert n_after <= n_before // 2
    assert len(after.apply_nodes) < len(before.apply_nodes)
    xv = RNG.normal(size=(20, 7))
    yv = RNG.integers(0, 2, size=20).astype("float64")
    wv, bv = RNG.normal(size=7), np.asarray(0.3)
    for got, want in zip(_run(after, [xv, yv, wv, bv]), _run(before, [xv, yv, wv, bv])):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# random graphs

_UNARY = [tm.exp, tm.tanh, tm.neg, tm.sqr, tm.abs_, tm.sin, lambda v: v * 0.5 + 1]
_BINARY = [tm.add, tm.sub, tm.mul, tm.maximum, lambda a, b: tm.true_div(a, tm.abs_(b) + 1)]


@st.composite
def _programs(draw):
    n_inputs = draw(st.integers(1, 4))
    steps = draw(st.lists(
        st.tuples(st.booleans(), st.integers(0, len(_BINARY) - 1), st.integers(0, 50),
                  st.integers(0, 50)),
        min_size=1, max_size=14,
    ))
    n_out = draw(st.integers(1, 3))
    return n_inputs, steps, n_out


def _build(n_inputs, steps, n_out):
    inputs = [tt.dmatrix(f"x{i}") for i in range(n_inputs)]
    pool = list(inputs)
    for unary, k, i, j in steps:
        a = pool[i % len(pool)]
        if unary:
            pool.append(_UNARY[k % len(_UNARY)](a))
        else:
            pool.append(_BINARY[k](a, pool[j % len(pool)]))
    outs = pool[-n_out:] if len(pool) - n_inputs >= n_out else pool[-1:]
    return inputs, outs


@settings(max_examples=40, deadline=None)
@given(_programs())
def test_random_elemwise_graphs_agree_after_fusion(program):
    inputs, outs = _build(*program)
    ref = FunctionGraph(inputs, outs)
    fg = _fuse(inputs, outs)
    assert len(_elemwise_nodes(fg)) <= len(_elemwise_nodes(ref))
    assert all(len(n.inputs) <= MAX_FUSED_INPUTS for n in _elemwise_nodes(fg))
    vals = [RNG.uniform(-1.5, 1.5, size=(2, 3)) for _ in inputs]
    for got, want in zip(_run(fg, vals), _run(ref, vals)):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------------------------
# registration


def test_registered_in_optdb_after_merge_and_before_inplace():
    assert optdb.position_of("elemwise_fusion") == 49
    assert optdb.position_of("elemwise_fusion") < optdb.position_of("add_destroy_handler")
    assert {"fusion", "fast_run", "local_elemwise_fusion"} <= set(optdb.tags_of("elemwise_fusion"))
    assert fuse_seqopt.position_of("local_add_mul_fusion") < fuse_seqopt.position_of(
        "composite_elemwise_fusion")
    for name in ("local_add_mul_fusion", "composite_elemwise_fusion"):
        assert {"fast_run", "fusion"} <= set(fuse_seqopt.tags_of(name))


@pytest.mark.fires("composite_elemwise_fusion")
def test_selected_by_the_fusion_tag_and_excluded_by_name():
    x, y = tt.dmatrix("x"), tt.dmatrix("y")
    out = tm.exp(x * y) + tm.sin(x)
    fg = FunctionGraph([x, y], [out])
    optdb.query("+fusion").optimize(fg)
    assert len(_composites(fg)) == 1
    fg = FunctionGraph([x, y], [out])
    optdb.query("+fusion", "-composite_elemwise_fusion").optimize(fg)
    assert not _composites(fg)

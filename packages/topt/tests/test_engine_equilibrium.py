"""EquilibriumOptimizer: fixed points, the use bound, worklist cost, global/final/cleanup rewrites.

Includes a hypothesis test: random expression graphs over exp/log/neg/mul/add, rewritten to
a fixed point by a few algebraic rewrites, evaluate like NumPy and contain no rewritable
pattern afterwards.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tgraph.scalar as ts
import tgraph.tensor as T
from tgraph import config
from tgraph.graph import FunctionGraph, evaluate
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import Elemwise
from topt import (
    EquilibriumLimitError,
    EquilibriumOptimizer,
    MergeOptimizer,
    RewriteWarning,
    local_optimizer,
    optimizer,
)


def computed_by(var, scalar_op):
    return (var.owner is not None and isinstance(var.owner.op, Elemwise)
            and var.owner.op.scalar_op == scalar_op)


def scalar_ops(fgraph):
    return [str(n.op.scalar_op) for n in fgraph.toposort() if isinstance(n.op, Elemwise)]


@local_optimizer([Elemwise])
def local_exp_log(node):
    """exp(log(x)) -> x"""
    if computed_by(node.outputs[0], ts.exp) and computed_by(node.inputs[0], ts.log):
        return [node.inputs[0].owner.inputs[0]]
    return None


@local_optimizer([Elemwise])
def local_log_exp(node):
    """log(exp(x)) -> x"""
    if computed_by(node.outputs[0], ts.log) and computed_by(node.inputs[0], ts.exp):
        return [node.inputs[0].owner.inputs[0]]
    return None


@local_optimizer([Elemwise])
def local_neg_neg(node):
    """-(-x) -> x"""
    if computed_by(node.outputs[0], ts.neg) and computed_by(node.inputs[0], ts.neg):
        return [node.inputs[0].owner.inputs[0]]
    return None


@local_optimizer([Elemwise])
def local_mul_neg_neg(node):
    """(-x) * (-y) -> x * y (creates a node the other rewrites may simplify further)"""
    if computed_by(node.outputs[0], ts.mul) and len(node.inputs) == 2 and all(
            computed_by(i, ts.neg) for i in node.inputs):
        return [tm.mul(node.inputs[0].owner.inputs[0], node.inputs[1].owner.inputs[0])]
    return None


RULES = [local_exp_log, local_log_exp, local_neg_neg, local_mul_neg_neg]


def equilibrium(*extra, **kwargs):
    return EquilibriumOptimizer([*RULES, *extra], max_use_ratio=kwargs.pop("ratio", 8),
                                **kwargs)


def test_reaches_fixed_point_through_chains():
    x = T.dvector("x")
    # Each rewrite exposes the next: log(exp(-(-(exp(log(x)))))) -> x
    y = tm.log(tm.exp(tm.neg(tm.neg(tm.exp(tm.log(x))))))
    fg = FunctionGraph([x], [y])
    prof = equilibrium().optimize(fg)
    assert fg.outputs[0] is fg.inputs[0]
    assert prof.total_applied() == 3
    assert prof.nodes_after == 0


def test_skips_near_miss():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.sqrt(x)) * -x])
    equilibrium().optimize(fg)
    assert sorted(scalar_ops(fg)) == ["exp", "mul", "neg", "sqrt"]


def test_new_nodes_are_rewritten_too():
    x, y = T.dvectors("x", "y")
    out = tm.neg(tm.exp(tm.log(x))) * tm.neg(tm.neg(tm.neg(y)))
    fg = FunctionGraph([x, y], [out])
    equilibrium().optimize(fg)
    assert scalar_ops(fg) == ["mul"]  # (-x) * (-y) -> x * y
    xv, yv = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    np.testing.assert_allclose(evaluate(fg.outputs, {fg.inputs[0]: xv, fg.inputs[1]: yv})[0],
                               xv * yv)


@local_optimizer([Elemwise])
def local_exp_to_pair(node):
    """exp(x) -> exp(x + 0) with a fresh node every time: never reaches a fixed point."""
    if computed_by(node.outputs[0], ts.exp):
        return [tm.exp(node.inputs[0] * 1.0)]
    return None


def test_bound_error_names_the_rewrite():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(x)])
    with pytest.raises(EquilibriumLimitError,
                       match=r"rewrite local_exp_to_pair was applied more than max_use_ratio "
                             r"\(2\) \* n_nodes .* it probably undoes another rewrite"):
        EquilibriumOptimizer([local_exp_to_pair], max_use_ratio=2).optimize(fg)


def test_bound_reads_the_flag_by_default():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(x)])
    with config.change_flags(**{"optdb.max_use_ratio": 3.0}), pytest.raises(
            EquilibriumLimitError, match=r"max_use_ratio \(3\)"):
        EquilibriumOptimizer([local_exp_to_pair]).optimize(fg)


@local_optimizer([Elemwise])
def local_exp_sqr(node):
    """exp(x) -> sqrt(x) (ping)"""
    if computed_by(node.outputs[0], ts.exp):
        return [tm.sqrt(node.inputs[0])]
    return None


@local_optimizer([Elemwise])
def local_sqrt_exp(node):
    """sqrt(x) -> exp(x) (pong)"""
    if computed_by(node.outputs[0], ts.sqrt):
        return [tm.exp(node.inputs[0])]
    return None


def test_two_rewrites_undoing_each_other_are_stopped():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(x)])
    with pytest.raises(EquilibriumLimitError, match=r"local_(exp_sqr|sqrt_exp) was applied"):
        EquilibriumOptimizer([local_exp_sqr, local_sqrt_exp], max_use_ratio=4).optimize(fg)


def test_failing_rewrite_warns_once_and_equilibrium_continues():
    @local_optimizer([Elemwise])
    def local_boom(node):
        if computed_by(node.outputs[0], ts.exp):
            raise ZeroDivisionError("bad rewrite")
        return None

    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.log(tm.exp(x)) + tm.exp(x)])
    with config.change_flags(on_opt_error="warn"), pytest.warns(
            RewriteWarning, match="rewrite local_boom failed on node Elemwise{exp") as rec:
        EquilibriumOptimizer([local_boom, local_log_exp], max_use_ratio=8).optimize(fg)
    assert len(rec) == 1  # the exp node is tried once: it never changes afterwards
    assert sorted(scalar_ops(fg)) == ["add", "exp"]


def test_global_final_and_cleanup_optimizers():
    calls = []

    @optimizer
    def global_note(fgraph):
        calls.append(("global", len(fgraph.apply_nodes)))

    @optimizer
    def final_note(fgraph):
        calls.append(("final", len(fgraph.apply_nodes)))

    x = T.dvector("x")
    # Two copies of exp(x); merging them (cleanup) makes log(e1) + log(e2) a duplicate pair.
    fg = FunctionGraph([x], [tm.sqrt(tm.exp(x)) + tm.sqrt(tm.exp(x))])
    opt = EquilibriumOptimizer([*RULES, global_note], max_use_ratio=8,
                               final_optimizers=[final_note],
                               cleanup_optimizers=[MergeOptimizer()])
    opt.optimize(fg)
    assert scalar_ops(fg) == ["exp", "sqrt", "add"]
    assert calls[0] == ("global", 5)
    assert ("final", 5) in calls and calls[-1][0] == "final"


def test_unknown_object_is_refused():
    with pytest.raises(TypeError, match="is not a rewrite"):
        EquilibriumOptimizer([42], max_use_ratio=1)


def test_work_is_linear_in_graph_size():
    # A chain of n nodes none of which is rewritable: each node meets each rewrite once.
    def attempts(n):
        x = T.dvector("x")
        y = x
        for _ in range(n):
            y = tm.sqrt(y)
        fg = FunctionGraph([x], [y])
        prof = equilibrium().optimize(fg)
        return sum(prof.calls.values())

    assert attempts(200) == 2 * attempts(100) == 200 * len(RULES)


def test_work_after_rewrites_stays_local():
    # exp(log(.)) pairs spread along a long chain: the number of attempts grows with the
    # nodes touched, not with (passes x graph size).
    def attempts(n):
        x = T.dvector("x")
        y = x
        for i in range(n):
            y = tm.exp(tm.log(y)) if i % 10 == 0 else tm.sqrt(y)
        fg = FunctionGraph([x], [y])
        prof = equilibrium().optimize(fg)
        assert scalar_ops(fg).count("exp") == 0
        return sum(prof.calls.values())

    small, big = attempts(100), attempts(400)
    assert big <= 4.5 * small


def test_profile_prints(capsys):
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x))])
    prof = equilibrium().optimize(fg)
    prof.print()
    out = capsys.readouterr().out
    assert "EquilibriumOptimizer" in out and "local_exp_log" in out and "applied" in out


# -- random graphs -----------------------------------------------------------------------------

UNARY = {"exp": (tm.exp, np.exp), "log": (tm.log, np.log), "neg": (tm.neg, np.negative)}


def build(ops, sym, num):
    """Apply ``ops`` (names or ('mul', k)) to a symbolic and a numeric value alike."""
    stack_s, stack_n = [sym], [num]
    for op in ops:
        if op == "mul":
            s, n = stack_s[-1], stack_n[-1]
            stack_s.append(tm.mul(-s, -stack_s[0]))
            stack_n.append(n * stack_n[0])
        else:
            f_s, f_n = UNARY[op]
            stack_s.append(f_s(stack_s[-1]))
            stack_n.append(f_n(stack_n[-1]))
    return stack_s[-1], stack_n[-1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(["exp", "log", "neg", "mul"]), min_size=1, max_size=10))
def test_random_graphs_agree_with_numpy(ops):
    x = T.dvector("x")
    xv = np.array([0.3, 0.7, 1.1])
    with np.errstate(all="ignore"):
        sym, expected = build(ops, x, xv)
    fg = FunctionGraph([x], [sym])
    before = len(fg.apply_nodes)
    with np.errstate(all="ignore"):
        EquilibriumOptimizer([*RULES, MergeOptimizer()], max_use_ratio=8).optimize(fg)
        got = evaluate(fg.outputs, {fg.inputs[0]: xv})[0]
    assert len(fg.apply_nodes) <= before
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-9)
    for node in fg.apply_nodes:  # a fixed point: nothing left to rewrite
        for rule in RULES:
            assert not rule.transform(fg, node)

"""Local and global rewrites, the one-pass driver, failure policy, verbosity, stack traces.

Graphs are built with tgraph's tensor ops, rewritten on a FunctionGraph and evaluated with
tgraph's reference interpreter against NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.scalar as ts
import tgraph.tensor as T
from tgraph import config
from tgraph.graph import FunctionGraph, InconsistencyError, evaluate
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import Elemwise
from topt import (
    FromFunctionLocalOptimizer,
    LocalOptGroup,
    LocalOptimizer,
    OpRemove,
    OpSub,
    RewriteWarning,
    SeqOptimizer,
    TopoOptimizer,
    check_chain,
    copy_stack_trace,
    in2out,
    inplace_optimizer,
    local_optimizer,
    optimizer,
    out2in,
    pre_greedy_local_optimizer,
)
from topt.engine import base as engine_base


def scalar_ops(fgraph):
    return [str(n.op.scalar_op) if isinstance(n.op, Elemwise) else str(n.op)
            for n in fgraph.toposort()]


def computed_by(var, scalar_op):
    return (var.owner is not None and isinstance(var.owner.op, Elemwise)
            and var.owner.op.scalar_op == scalar_op)


@local_optimizer([Elemwise])
def local_exp_log(node):
    """exp(log(x)) -> x (Theano 1.0 style: the function takes the node only)."""
    if computed_by(node.outputs[0], ts.exp) and computed_by(node.inputs[0], ts.log):
        return [node.inputs[0].owner.inputs[0]]
    return False


@local_optimizer([Elemwise])
def local_log_exp(fgraph, node):
    """log(exp(x)) -> x (new style: the function takes the graph and the node)."""
    assert isinstance(fgraph, FunctionGraph)
    if computed_by(node.outputs[0], ts.log) and computed_by(node.inputs[0], ts.exp):
        return [node.inputs[0].owner.inputs[0]]
    return None


@local_optimizer([Elemwise])
def local_neg_to_mul(node):
    """-x -> x * -1 (creates a new node, to see new trees visited)."""
    if computed_by(node.outputs[0], ts.neg):
        return [tm.mul(node.inputs[0], np.float64(-1.0))]
    return None


def run(fgraph, values):
    return evaluate(fgraph.outputs, dict(zip(fgraph.inputs, values)))


# -- local_optimizer ------------------------------------------------------------------------


def test_local_optimizer_wraps_both_calling_conventions():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x)) + tm.log(tm.exp(x))])
    assert isinstance(local_exp_log, FromFunctionLocalOptimizer)
    assert local_exp_log.tracks() == [Elemwise]
    assert str(local_exp_log) == "local_exp_log"
    assert local_exp_log.__doc__.startswith("exp(log(x)) -> x")
    exp_node = next(n for n in fg.toposort() if computed_by(n.outputs[0], ts.exp)
                    and computed_by(n.inputs[0], ts.log))
    # Theano 1.0 callers pass only the node (the graph is node.fgraph); new ones both.
    assert local_exp_log.transform(exp_node) == [fg.inputs[0]]
    assert local_exp_log.transform(fg, exp_node) == [fg.inputs[0]]
    log_node = next(n for n in fg.toposort() if computed_by(n.outputs[0], ts.log)
                    and computed_by(n.inputs[0], ts.exp))
    assert local_log_exp.transform(log_node) == [fg.inputs[0]]


def test_local_optimizer_checks_tracks():
    with pytest.raises(TypeError, match="tracks must hold Op classes or Op instances"):
        local_optimizer(["exp"])
    with pytest.raises(ValueError, match="use None, not an empty list"):
        local_optimizer([])


def test_subclass_transform_with_node_only_is_called_correctly():
    class OldStyle(LocalOptimizer):
        def tracks(self):
            return [Elemwise]

        def transform(self, node):
            if computed_by(node.outputs[0], ts.exp) and computed_by(node.inputs[0], ts.log):
                return [node.inputs[0].owner.inputs[0]]
            return False

    class NewStyle(OldStyle):
        def transform(self, fgraph, node):
            return OldStyle.transform(self, node)

    for cls in (OldStyle, NewStyle):
        x = T.dvector("x")
        fg = FunctionGraph([x], [tm.exp(tm.log(x))])
        in2out(cls()).optimize(fg)
        assert fg.outputs[0] is fg.inputs[0]


# -- TopoOptimizer ----------------------------------------------------------------------------


@pytest.mark.parametrize("make", [in2out, out2in], ids=["in2out", "out2in"])
def test_topo_optimizer_rewrites_and_agrees_with_numpy(make):
    x = T.dvector("x")
    y = tm.exp(tm.log(x)) * tm.log(tm.exp(x + 1.0))
    fg = FunctionGraph([x], [y])
    opt = make(local_exp_log, local_log_exp)
    opt.optimize(fg)
    assert scalar_ops(fg).count("exp") == 0 and scalar_ops(fg).count("log") == 0
    xv = np.array([0.5, 1.5, 3.0])
    np.testing.assert_allclose(run(fg, [xv])[0], xv * (xv + 1.0))


def test_topo_optimizer_skips_a_near_miss():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.sqrt(x))])  # exp of sqrt, not of log
    in2out(local_exp_log).optimize(fg)
    assert scalar_ops(fg) == ["sqrt", "exp"]


@local_optimizer([Elemwise])
def local_sqrt_to_exp_log(node):
    """sqrt(x) -> exp(log(x)) (a silly rewrite whose result another rewrite simplifies)."""
    if computed_by(node.outputs[0], ts.sqrt):
        return [tm.exp(tm.log(node.inputs[0]))]
    return None


@pytest.mark.parametrize("order", ["in_to_out", "out_to_in"])
def test_topo_optimizer_visits_new_nodes_unless_told_not_to(order):
    for ignore, expected in ((False, []), (True, ["log", "exp"])):
        x = T.dvector("x")
        fg = FunctionGraph([x], [tm.sqrt(x)])
        group = LocalOptGroup(local_sqrt_to_exp_log, local_exp_log)
        TopoOptimizer(group, order=order, ignore_newtrees=ignore).optimize(fg)
        assert scalar_ops(fg) == expected


def test_topo_optimizer_rejects_bad_order():
    with pytest.raises(ValueError, match="order must be 'in_to_out' or 'out_to_in'"):
        TopoOptimizer(local_exp_log, order="sideways")


def test_topo_profile_counts_applications():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x)) + tm.exp(tm.log(x * 2.0))])
    prof = in2out(local_exp_log).optimize(fg)
    assert prof.applied[local_exp_log] == 2
    assert prof.calls[local_exp_log] >= 2
    assert prof.nodes_after < prof.nodes_before


def test_dict_replacement_and_remove_key():
    @local_optimizer([Elemwise])
    def local_dict(node):
        if computed_by(node.outputs[0], ts.exp) and computed_by(node.inputs[0], ts.log):
            return {node.outputs[0]: node.inputs[0].owner.inputs[0],
                    "remove": [node]}
        return None

    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x)) * x])
    in2out(local_dict).optimize(fg)
    assert scalar_ops(fg) == ["mul"]


def test_remove_key_that_is_not_honoured_is_reverted():
    @local_optimizer([Elemwise])
    def local_liar(node):
        if computed_by(node.outputs[0], ts.exp):
            # Claims to remove log's node, which stays used by the new graph.
            log_node = node.inputs[0].owner
            return {node.outputs[0]: tm.sqrt(node.inputs[0]), "remove": [log_node]}
        return None

    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x))])
    in2out(local_liar).optimize(fg)
    assert scalar_ops(fg) == ["log", "exp"]


# -- failures: on_opt_error -------------------------------------------------------------------


@local_optimizer([Elemwise])
def local_boom(node):
    """Raises on exp nodes, to exercise on_opt_error."""
    if computed_by(node.outputs[0], ts.exp):
        raise ValueError("boom")
    return None


def _exp_graph():
    x = T.dvector("x")
    return FunctionGraph([x], [tm.exp(x) + x])


def test_on_opt_error_warn_names_rewrite_and_node_then_continues():
    fg = _exp_graph()
    with config.change_flags(on_opt_error="warn"):
        with pytest.warns(RewriteWarning, match=r"rewrite local_boom failed on node "
                                                r"Elemwise\{exp.*ValueError: boom") as rec:
            in2out(local_boom, local_exp_log).optimize(fg)
    assert len(rec) == 1
    assert scalar_ops(fg) == ["exp", "add"]


def test_on_opt_error_raise():
    fg = _exp_graph()
    with config.change_flags(on_opt_error="raise"), pytest.raises(ValueError, match="boom"):
        in2out(local_boom).optimize(fg)


def test_on_opt_error_ignore_is_silent():
    fg = _exp_graph()
    with config.change_flags(on_opt_error="ignore"):
        in2out(local_boom).optimize(fg)  # warnings are errors in this suite
    assert scalar_ops(fg) == ["exp", "add"]


def test_on_opt_error_pdb_opens_post_mortem(monkeypatch):
    seen = []
    monkeypatch.setattr(engine_base.pdb, "post_mortem", lambda tb: seen.append(tb))
    fg = _exp_graph()
    with config.change_flags(on_opt_error="pdb"):
        in2out(local_boom).optimize(fg)
    assert len(seen) == 1 and seen[0] is not None


def test_failure_callback_overrides_the_flag():
    calls = []
    fg = _exp_graph()
    opt = TopoOptimizer(local_boom, failure_callback=lambda *args: calls.append(args))
    with config.change_flags(on_opt_error="raise"):
        opt.optimize(fg)
    exc, nav, pairs, lopt, node = calls[0]
    assert isinstance(exc, ValueError) and nav is opt and lopt is local_boom
    assert computed_by(node.outputs[0], ts.exp)


def test_wrong_number_of_replacements_is_a_rewrite_error():
    @local_optimizer([Elemwise])
    def local_two(node):
        return [node.inputs[0], node.inputs[0]]

    fg = _exp_graph()
    with config.change_flags(on_opt_error="raise"), pytest.raises(
            ValueError, match=r"local_two returned 2 replacement\(s\) for .* 1 output"):
        in2out(local_two).optimize(fg)


def test_replacement_of_another_type_is_a_rewrite_error():
    @local_optimizer([Elemwise])
    def local_to_int(node):
        if computed_by(node.outputs[0], ts.exp):
            return [tm.cast(node.inputs[0], "int32")]
        return None

    fg = _exp_graph()
    with config.change_flags(on_opt_error="raise"), pytest.raises(TypeError,
                                                                   match="types must match"):
        in2out(local_to_int).optimize(fg)
    with config.change_flags(on_opt_error="warn"), pytest.warns(RewriteWarning,
                                                                match="local_to_int"):
        in2out(local_to_int).optimize(fg)
    assert scalar_ops(fg) == ["exp", "add"]


class Veto:
    """A feature refusing every graph that contains a sqrt."""

    def validate(self, fgraph):
        if any(computed_by(n.outputs[0], ts.sqrt) for n in fgraph.apply_nodes):
            raise InconsistencyError("no sqrt here")


def test_a_vetoed_replacement_is_reverted_silently():
    @local_optimizer([Elemwise])
    def local_exp_to_sqrt(node):
        if computed_by(node.outputs[0], ts.exp):
            return [tm.sqrt(node.inputs[0])]
        return None

    fg = _exp_graph()
    fg.attach_feature(Veto())
    with config.change_flags(on_opt_error="raise"):
        prof = in2out(local_exp_to_sqrt).optimize(fg)
    assert scalar_ops(fg) == ["exp", "add"]
    assert prof.applied.get(local_exp_to_sqrt, 0) == 0


# -- verbosity --------------------------------------------------------------------------------


def test_optimizer_verbose_prints_each_replacement(capsys):
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x)) + 1.0])
    with config.change_flags(optimizer_verbose=True):
        in2out(local_exp_log).optimize(fg)
    out = capsys.readouterr().out
    assert out.count("rewrite local_exp_log replaces") == 1
    with config.change_flags(optimizer_verbose=False):
        fg2 = FunctionGraph([x], [tm.exp(tm.log(x))])
        in2out(local_exp_log).optimize(fg2)
    assert capsys.readouterr().out == ""


# -- groups, OpSub, OpRemove ------------------------------------------------------------------


class Twice(Op):
    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] * 2


class Double(Twice):
    pass


class Ident(Twice):
    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0].copy()


def test_opsub_and_opremove():
    x = T.dvector("x")
    fg = FunctionGraph([x], [Ident()(Twice()(x))])
    in2out(OpSub(Twice(), Double())).optimize(fg)
    assert [type(n.op) for n in fg.toposort()] == [Double, Ident]
    in2out(OpRemove(Ident())).optimize(fg)
    assert [type(n.op) for n in fg.toposort()] == [Double]
    np.testing.assert_allclose(run(fg, [np.array([1.0, 2.0])])[0], [2.0, 4.0])
    assert str(OpSub(Twice(), Double())) == "Twice -> Double"


def test_local_opt_group_tries_members_tracking_the_op():
    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(Twice()(x)))])
    group = LocalOptGroup(OpSub(Twice(), Double()), local_exp_log)
    assert set(map(str, group.tracks())) == {"Twice", str(Elemwise)}
    in2out(group).optimize(fg)
    assert [type(n.op) for n in fg.toposort()] == [Double]
    assert group.applied_true[local_exp_log] == 1
    with pytest.raises(TypeError, match="is not a local rewrite"):
        LocalOptGroup(lambda node: None)


def test_local_opt_group_apply_all_opts_chains_rewrites():
    x = T.dvector("x")
    fg = FunctionGraph([x], [-tm.exp(tm.log(x))])
    node = fg.outputs[0].owner
    one = LocalOptGroup(local_neg_to_mul, local_exp_log)
    assert computed_by(one.transform(fg, node)[0], ts.mul)


# -- global rewrites --------------------------------------------------------------------------


def test_optimizer_decorator_and_seq_optimizer():
    seen = []

    @optimizer
    def count_nodes(fgraph):
        seen.append(len(fgraph.apply_nodes))

    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(tm.log(x))])
    prof = SeqOptimizer(count_nodes, in2out(local_exp_log), count_nodes).optimize(fg)
    assert seen == [2, 0]
    seq, times, subs = prof
    assert len(times) == 3 and subs[1].applied[local_exp_log] == 1
    assert str(count_nodes) == "count_nodes"


def test_seq_optimizer_member_failure_follows_the_flag():
    @optimizer
    def broken(fgraph):
        raise RuntimeError("global boom")

    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(x)])
    with config.change_flags(on_opt_error="warn"), pytest.warns(
            RewriteWarning, match="rewrite broken failed.*global boom"):
        SeqOptimizer(broken).optimize(fg)
    with config.change_flags(on_opt_error="raise"), pytest.raises(RuntimeError,
                                                                   match="global boom"):
        SeqOptimizer(broken).optimize(fg)


def test_inplace_optimizer_attaches_a_destroy_handler():
    @inplace_optimizer
    def nothing(fgraph):
        return None

    x = T.dvector("x")
    fg = FunctionGraph([x], [tm.exp(x)])
    nothing.optimize(fg)
    assert fg.destroy_handler is not None
    nothing.optimize(fg)  # a second one is not attached


# -- helpers: stack traces, chains, greedy pre-optimization -----------------------------------


def test_copy_stack_trace_merges_traces():
    x = T.dvector("x")
    a, b = tm.exp(x), tm.log(x)
    a.tag.trace = [["frame a"]]
    b.tag.trace = [["frame b"]]
    c = tm.sqrt(x)
    c.tag.trace = []
    copy_stack_trace([a, b], c)
    assert c.tag.trace == [["frame a"], ["frame b"]]
    copy_stack_trace(a, [c])
    assert c.tag.trace == [["frame a"], ["frame b"]]  # no duplicates


def test_check_chain():
    x = T.dvector("x")
    y = tm.exp(tm.log(x))
    assert check_chain(y, Elemwise(ts.exp), Elemwise(ts.log)) is True
    assert check_chain(y.owner, Elemwise, Elemwise) is True
    assert check_chain(y, Elemwise(ts.log)) is False
    assert check_chain(y, Elemwise(ts.exp), Elemwise(ts.log), Elemwise) is False
    assert check_chain(x, None) is True


def test_pre_greedy_local_optimizer_rebuilds_without_editing():
    x = T.dvector("x")
    inner = tm.exp(tm.log(x))
    out = tm.sqrt(inner)
    new = pre_greedy_local_optimizer([local_exp_log], out)
    assert new is not out
    assert computed_by(new, ts.sqrt) and new.owner.inputs[0] is x
    assert out.owner.inputs[0] is inner  # the original graph is untouched
    assert pre_greedy_local_optimizer([local_exp_log], x) is x

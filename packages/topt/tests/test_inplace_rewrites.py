"""In-place rewrites: they fire only where no needed value is overwritten, and results stay."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import FunctionGraph, evaluate
from tgraph.graph.features import Feature
from tgraph.graph.fg import InconsistencyError
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.advanced_subtensor import (
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    BaseAdvancedIncSubtensor,
)
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import dot
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.subtensor import IncSubtensor, inc_subtensor, set_subtensor
from topt.optdb import optdb
from topt.rewrites.fusion import FusionOptimizer, local_elemwise_fusion
from topt.rewrites.inplace import (
    InplaceElemwiseOptimizer,
    inplace_elemwise_optimizer,
    local_inplace_AdvancedIncSubtensor,
    local_inplace_incsubtensor1,
    local_inplace_setsubtensor,
)

RNG = np.random.default_rng(1)


class Protect(Feature):
    """What tlink's Supervisor does: the listed inputs must never be overwritten."""

    def __init__(self, protected):
        self.protected = list(protected)

    def validate(self, fgraph):
        destroyers = getattr(fgraph, "destroyers", None)
        if destroyers is None:
            return True  # no destroy handler yet: nothing can be overwritten
        for var in self.protected:
            if destroyers(var):
                raise InconsistencyError(f"{var} is protected")
        return True


def _graph(inputs, outputs, mutable=(), update_mapping=None) -> FunctionGraph:
    fg = FunctionGraph(inputs, outputs, update_mapping=update_mapping)
    mutable_idx = {inputs.index(m) for m in mutable}
    fg.attach_feature(Protect([v for k, v in enumerate(fg.inputs) if k not in mutable_idx]))
    return fg


def _inplace(fg: FunctionGraph) -> FunctionGraph:
    inplace_elemwise_optimizer.optimize(fg)
    fg.check_integrity()
    fg.validate()
    return fg


def _patterns(fg: FunctionGraph) -> list[dict]:
    return [dict(n.op.inplace_pattern) for n in fg.toposort() if isinstance(n.op, Elemwise)]


def _run(fg: FunctionGraph, values) -> tuple[list, list]:
    """Run ``fg`` in ``fg.toposort()`` order, which (unlike tgraph.graph.evaluate) obeys the
    destroy handler's orderings, as linkers do; returns the outputs and the input arrays."""
    copies = [np.array(v, copy=True) for v in values]
    storage = dict(zip(fg.inputs, copies))
    for node in fg.toposort():
        cells = [[None] for _ in node.outputs]
        args = [storage[v] if v in storage else v.data for v in node.inputs]
        node.op.perform(node, args, cells)
        storage.update((o, c[0]) for o, c in zip(node.outputs, cells))
    return [storage[o] if o in storage else o.data for o in fg.outputs], copies


def _rand(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


# ---------------------------------------------------------------------------------------------
# Elemwise


def test_intermediate_is_overwritten_inputs_are_not():
    x, y = tt.dvector("x"), tt.dvector("y")
    fg = _inplace(_graph([x, y], [tm.exp(x + y)]))
    add, exp = [n for n in fg.toposort()]
    assert not add.op.inplace_pattern  # x and y are protected inputs
    assert dict(exp.op.inplace_pattern) == {0: 0}
    assert exp.op.destroy_map == {0: [0]}
    xv, yv = _rand(4), _rand(4)
    (res,), (xc, yc) = _run(fg, [xv, yv])
    np.testing.assert_allclose(res, np.exp(xv + yv))
    np.testing.assert_array_equal(xc, xv)
    np.testing.assert_array_equal(yc, yv)


def test_value_needed_later_is_not_overwritten():
    x, y = tt.dvector("x"), tt.dvector("y")
    t = x + y
    a = tm.exp(t)
    fg = _inplace(_graph([x, y], [a * t]))
    nodes = {str(n.op.scalar_op): n for n in fg.toposort()}
    assert not nodes["exp"].op.inplace_pattern  # t is read by the product, after exp
    assert dict(nodes["mul"].op.inplace_pattern) in ({0: 0}, {0: 1})
    xv, yv = _rand(3), _rand(3)
    np.testing.assert_allclose(_run(fg, [xv, yv])[0][0], np.exp(xv + yv) * (xv + yv))


@pytest.mark.fires("inplace_elemwise_opt")
def test_reader_ordered_before_the_destroyer_allows_inplace():
    x, y = tt.dvector("x"), tt.dvector("y")
    t = x + y
    fg = _inplace(_graph([x, y], [tm.exp(t) + tm.sum(t)]))
    assert any(p for p in _patterns(fg))
    xv, yv = _rand(5), _rand(5)
    res = _run(fg, [xv, yv])[0][0]
    np.testing.assert_allclose(res, np.exp(xv + yv) + np.sum(xv + yv))


def test_input_used_twice_by_the_node_is_not_destroyed():
    x = tt.dvector("x")
    t = tm.exp(x)
    fg = _inplace(_graph([x], [t * t]))
    mul = fg.outputs[0].owner
    assert not mul.op.inplace_pattern
    xv = _rand(4)
    np.testing.assert_allclose(_run(fg, [xv])[0][0], np.exp(xv) ** 2)


def test_broadcast_input_is_not_a_buffer():
    r, m = tt.drow("r"), tt.dmatrix("m")
    out = tm.exp(r) + tm.exp(m)
    fg = _inplace(_graph([r, m], [out]))
    add = fg.outputs[0].owner
    assert dict(add.op.inplace_pattern) == {0: 1}  # the row is smaller than the output
    rv, mv = _rand(1, 3), _rand(2, 3)
    np.testing.assert_allclose(_run(fg, [rv, mv])[0][0], np.exp(rv) + np.exp(mv))


def test_other_dtype_is_not_a_buffer():
    a = tt.ivector("a")
    t = a * 2  # int32
    fg = _inplace(_graph([a], [tm.sqrt(t)]))
    sqrt = fg.outputs[0].owner
    assert sqrt.outputs[0].type.dtype == "float64"
    assert not sqrt.op.inplace_pattern


def test_constants_and_outputs_are_not_destroyed():
    x = tt.dvector("x")
    t = tm.exp(x)
    c = constant(np.ones(3))
    fg = _inplace(_graph([x], [t, tm.log(t) + c]))
    patterns = _patterns(fg)
    assert patterns[0] == {}  # exp writes into nothing: x is protected
    log = next(n for n in fg.toposort() if str(n.op.scalar_op) == "log")
    assert not log.op.inplace_pattern  # t is an output of the graph
    add = fg.outputs[1].owner
    assert dict(add.op.inplace_pattern) == {0: 0}  # into log's result, never the constant


def test_mutable_input_may_be_destroyed():
    x, y = tt.dvector("x"), tt.dvector("y")
    fg = _inplace(_graph([x, y], [x * y], mutable=[x]))
    (node,) = fg.toposort()
    assert dict(node.op.inplace_pattern) == {0: 0}
    xv, yv = _rand(3), _rand(3)
    (res,), (xc, _) = _run(fg, [xv, yv])
    np.testing.assert_allclose(res, xv * yv)
    assert res is xc or np.shares_memory(res, xc)


def test_update_prefers_the_updated_variable():
    g, w = tt.dvector("g"), tt.dvector("w")
    new_w = (g * 2) + w  # input 0 is an intermediate, input 1 the variable being updated
    fg = _graph([g, w], [new_w], mutable=[w], update_mapping={0: 1})
    _inplace(fg)
    add = fg.outputs[0].owner
    assert dict(add.op.inplace_pattern) == {0: 1}
    gv, wv = _rand(3), _rand(3)
    np.testing.assert_allclose(_run(fg, [gv, wv])[0][0], gv * 2 + wv)


def test_without_update_the_first_input_is_taken():
    g, w = tt.dvector("g"), tt.dvector("w")
    fg = _graph([g, w], [(g * 2) + w], mutable=[w])
    _inplace(fg)
    assert dict(fg.outputs[0].owner.op.inplace_pattern) == {0: 0}


def test_fused_composites_go_inplace():
    x, y = tt.dmatrix("x"), tt.dmatrix("y")
    out = x - tm.exp(dot(x, y) * 2)
    fg = _graph([x, y], [out])
    FusionOptimizer(local_elemwise_fusion).optimize(fg)
    _inplace(fg)
    (fused,) = [n for n in fg.toposort() if isinstance(n.op, Elemwise)]
    assert "Composite" in str(fused.op.scalar_op)
    # x is protected: the product's buffer is the one overwritten
    (k,) = [k for k, v in enumerate(fused.inputs) if v.owner is not None]
    assert dict(fused.op.inplace_pattern) == {0: k}
    xv, yv = _rand(2, 2), _rand(2, 2)
    np.testing.assert_allclose(_run(fg, [xv, yv])[0][0], xv - np.exp(xv @ yv * 2))


def test_multi_output_node_gets_a_buffer_per_output():
    from tgraph.scalar import Composite
    from tgraph.scalar import basic as sb

    a, b = sb.float64("a"), sb.float64("b")
    two = Elemwise(Composite([a, b], [a + b, a * b]))
    x, y = tt.dvector("x"), tt.dvector("y")
    s, p = two(tm.exp(x), tm.exp(y))
    fg = _inplace(_graph([x, y], [s, p]))
    node = fg.outputs[0].owner
    assert dict(node.op.inplace_pattern) == {0: 0, 1: 1}
    xv, yv = _rand(3), _rand(3)
    res = _run(fg, [xv, yv])[0]
    np.testing.assert_allclose(res[0], np.exp(xv) + np.exp(yv))
    np.testing.assert_allclose(res[1], np.exp(xv) * np.exp(yv))


def test_other_elemwise_classes_are_left_to_their_optimizer():
    class OtherElemwise(Elemwise):
        pass

    from tgraph.scalar import basic as sb

    x = tt.dvector("x")
    fg = _graph([x], [OtherElemwise(sb.exp)(tm.exp(x))])
    _inplace(fg)
    assert not fg.outputs[0].owner.op.inplace_pattern
    fg = _graph([x], [OtherElemwise(sb.exp)(tm.exp(x))])
    InplaceElemwiseOptimizer(OtherElemwise).optimize(fg)
    assert dict(fg.outputs[0].owner.op.inplace_pattern) == {0: 0}


def test_big_graph_batches_validation_and_redoes_a_refused_batch():
    # Each pair (v + w, w - v) may overwrite v or w, not both: the two orderings would form
    # a cycle, which only validation sees. Past 500 nodes changes are validated in batches.
    x = tt.dvector("x")
    outs = []
    for k in range(70):
        v, w = tm.exp(x + k), tm.exp(x - k)
        outs += [v + w, w - v]
    fg = _graph([x], outs)
    assert len(fg.apply_nodes) > 500
    prof = inplace_elemwise_optimizer.optimize(fg)
    fg.validate()
    assert prof["nb_batches_replayed"] >= 1
    for a, b in zip(fg.outputs[::2], fg.outputs[1::2]):
        assert len(a.owner.op.inplace_pattern) + len(b.owner.op.inplace_pattern) == 1
    xv = _rand(3)
    got = _run(fg, [xv])[0]
    for k in range(70):
        v, w = np.exp(xv + k), np.exp(xv - k)
        np.testing.assert_allclose(got[2 * k], v + w)
        np.testing.assert_allclose(got[2 * k + 1], w - v)


def test_small_graph_refuses_the_cycle_change_by_change():
    x = tt.dvector("x")
    v, w = tm.exp(x + 1), tm.exp(x - 1)
    fg = _inplace(_graph([x], [v + w, w - v]))
    a, b = fg.outputs
    assert dict(a.owner.op.inplace_pattern) == {0: 0}
    assert not b.owner.op.inplace_pattern
    xv = _rand(3)
    got = _run(fg, [xv])[0]
    np.testing.assert_allclose(got[0], np.exp(xv + 1) + np.exp(xv - 1))
    np.testing.assert_allclose(got[1], np.exp(xv - 1) - np.exp(xv + 1))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 30), st.integers(0, 30)),
                min_size=1, max_size=12),
       st.integers(1, 3))
def test_random_graphs_keep_their_values_and_inputs(steps, n_out):
    ops = [tm.add, tm.mul, lambda a, b: tm.exp(a) - b, lambda a, b: tm.maximum(a, -b)]
    x, y = tt.dvector("x"), tt.dvector("y")
    pool = [x, y]
    for k, i, j in steps:
        pool.append(ops[k](pool[i % len(pool)], pool[j % len(pool)]))
    outs = pool[-n_out:]
    ref = FunctionGraph([x, y], outs)
    fg = _inplace(_graph([x, y], outs))
    xv, yv = RNG.uniform(-1, 1, 4), RNG.uniform(-1, 1, 4)
    want = evaluate(ref.outputs, dict(zip(ref.inputs, [xv.copy(), yv.copy()])))
    got, (xc, yc) = _run(fg, [xv, yv])
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w)
    np.testing.assert_array_equal(xc, xv)
    np.testing.assert_array_equal(yc, yv)


# ---------------------------------------------------------------------------------------------
# increments of subtensors


def _topo(lopt, fg):
    from topt.engine.rewriter import TopoOptimizer

    TopoOptimizer(lopt, failure_callback=TopoOptimizer.warn_inplace).optimize(fg)
    fg.validate()
    return fg


@pytest.mark.fires("local_inplace_setsubtensor")
def test_set_subtensor_of_an_intermediate_goes_inplace():
    x, y = tt.dvector("x"), tt.dvector("y")
    out = set_subtensor((x * 2)[1:3], y)
    fg = _topo(local_inplace_setsubtensor, _graph([x, y], [out]))
    node = fg.outputs[0].owner
    assert isinstance(node.op, IncSubtensor) and node.op.inplace
    assert node.op.set_instead_of_inc
    xv, yv = _rand(5), _rand(2)
    want = xv * 2
    want[1:3] = yv
    np.testing.assert_allclose(_run(fg, [xv, yv])[0][0], want)


def test_inc_subtensor_of_a_protected_input_stays_a_copy():
    x, y = tt.dvector("x"), tt.dvector("y")
    fg = _topo(local_inplace_setsubtensor, _graph([x, y], [inc_subtensor(x[1:3], y)]))
    assert not fg.outputs[0].owner.op.inplace
    xv, yv = _rand(5), _rand(2)
    (res,), (xc, _) = _run(fg, [xv, yv])
    np.testing.assert_array_equal(xc, xv)
    want = xv.copy()
    want[1:3] += yv
    np.testing.assert_allclose(res, want)


def test_inc_subtensor_of_a_value_read_later_stays_a_copy():
    x, y = tt.dvector("x"), tt.dvector("y")
    t = x * 2
    out = inc_subtensor(t[0:2], y) + t  # t is read after the increment
    fg = _topo(local_inplace_setsubtensor, _graph([x, y], [out]))
    inc = next(n for n in fg.toposort() if isinstance(n.op, IncSubtensor))
    assert not inc.op.inplace
    xv, yv = _rand(4), _rand(2)
    want = xv * 2
    want2 = want.copy()
    want2[0:2] += yv
    np.testing.assert_allclose(_run(fg, [xv, yv])[0][0], want2 + want)


@pytest.mark.fires("local_inplace_incsubtensor1")
def test_advanced_inc_subtensor1_goes_inplace():
    x, y = tt.dvector("x"), tt.dvector("y")
    idx = tt.lvector("idx")
    out = inc_subtensor((x + 1)[idx], y)
    fg = _graph([x, y, idx], [out])
    assert isinstance(fg.outputs[0].owner.op, AdvancedIncSubtensor1)
    _topo(local_inplace_incsubtensor1, fg)
    assert fg.outputs[0].owner.op.inplace
    xv, yv, iv = _rand(5), _rand(3), np.array([0, 4, 0])
    want = xv + 1
    np.add.at(want, iv, yv)
    np.testing.assert_allclose(_run(fg, [xv, yv, iv])[0][0], want)


@pytest.mark.fires("local_inplace_AdvancedIncSubtensor")
def test_advanced_inc_subtensor_goes_inplace():
    x, y = tt.dmatrix("x"), tt.dvector("y")
    i, j = tt.lvector("i"), tt.lvector("j")
    out = set_subtensor((x + 1)[i, j], y)
    fg = _graph([x, y, i, j], [out])
    assert isinstance(fg.outputs[0].owner.op, AdvancedIncSubtensor)
    _topo(local_inplace_AdvancedIncSubtensor, fg)
    node = fg.outputs[0].owner
    assert isinstance(node.op, BaseAdvancedIncSubtensor) and node.op.inplace
    xv, yv = _rand(3, 3), _rand(2)
    iv, jv = np.array([0, 2]), np.array([1, 1])
    want = xv + 1
    want[iv, jv] = yv
    np.testing.assert_allclose(_run(fg, [xv, yv, iv, jv])[0][0], want)


def test_advanced_inc_of_a_protected_input_stays_a_copy():
    x, y = tt.dvector("x"), tt.dvector("y")
    idx = tt.lvector("idx")
    fg = _topo(local_inplace_incsubtensor1, _graph([x, y, idx], [inc_subtensor(x[idx], y)]))
    assert not fg.outputs[0].owner.op.inplace


# ---------------------------------------------------------------------------------------------
# registration


@pytest.mark.parametrize("name, position", [
    ("inplace_elemwise_opt", 75),
    ("local_inplace_setsubtensor", 60),
    ("local_inplace_incsubtensor1", 60),
    ("local_inplace_AdvancedIncSubtensor", 60),
])
def test_registered_in_the_inplace_step(name, position):
    step = optdb["inplace_opt"]
    assert step.position_of(name) == position
    assert {"fast_run", "inplace"} <= set(step.tags_of(name))
    assert optdb.position_of("inplace_opt") > optdb.position_of("add_destroy_handler")


def test_selected_by_the_inplace_tag():
    x, y = tt.dvector("x"), tt.dvector("y")
    fg = _graph([x, y], [tm.exp(x + y)])
    optdb.query("+inplace").optimize(fg)
    assert any(_patterns(fg))
    fg = _graph([x, y], [tm.exp(x + y)])
    optdb.query("+inplace", "-inplace_elemwise_optimizer").optimize(fg)
    assert not any(_patterns(fg))

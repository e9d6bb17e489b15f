"""The Python VMs: lazy evaluation, partial evaluation (output_subset), callbacks, eval().

A random-graph property test checks every linker against tgraph's reference evaluator.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.evaluate import evaluate
from tgraph.graph.op import Op
from tgraph.shared import shared
from tgraph.tensor.type import TensorType
from tlink import FallbackWarning, Loop, LoopGC, Mode, Stack, VMLinker, function

dvec = TensorType("float64", (False,))
dscal = TensorType("float64", ())

RUNS: dict[str, int] = {}


class Tagged(Op):
    """factor * x, counting its runs under its tag."""

    __props__ = ("tag", "factor")

    def __init__(self, tag, factor=1.0):
        self.tag = tag
        self.factor = factor

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        RUNS[self.tag] = RUNS.get(self.tag, 0) + 1
        out[0][0] = self.factor * inputs[0]


class Add(Op):
    __props__ = ()

    def make_node(self, x, y):
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] + inputs[1]


class IfElse(Op):
    """``a if cond else b``, evaluating only the branch it takes (a lazy Op)."""

    __props__ = ()

    def make_node(self, cond, a, b):
        return Apply(self, [cond, a, b], [a.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = (inputs[1] if inputs[0] else inputs[2]).copy()

    def make_thunk(self, node, storage_map, compute_map, no_recycling, impl=None):
        cells = [storage_map[v] for v in node.inputs]
        done = [compute_map[v] for v in node.inputs]
        out = storage_map[node.outputs[0]]
        out_done = compute_map[node.outputs[0]]

        def thunk():
            if not done[0][0]:
                return [0]
            branch = 1 if cells[0][0] else 2
            if not done[branch][0]:
                return [branch]
            out[0] = cells[branch][0].copy()
            out_done[0] = True
            return []

        thunk.lazy = True
        thunk.inputs = cells
        thunk.outputs = [out]
        return thunk


@pytest.fixture(autouse=True)
def fresh_counts():
    RUNS.clear()


def _ifelse_graph():
    c, x = dscal("c"), dvec("x")
    out = IfElse()(c, Tagged("then", 2.0)(x), Tagged("else", -1.0)(x))
    return c, x, out


@pytest.mark.parametrize("gc", [True, False], ids=["gc", "nogc"])
def test_lazy_ifelse_runs_one_branch(gc):
    c, x, out = _ifelse_graph()
    f = function([c, x], out, mode=Mode(VMLinker(allow_gc=gc), None))
    assert isinstance(f.fn, Stack)
    np.testing.assert_array_equal(f(1.0, np.ones(2)), [2.0, 2.0])
    assert RUNS == {"then": 1}
    np.testing.assert_array_equal(f(0.0, np.ones(2)), [-1.0, -1.0])
    assert RUNS == {"then": 1, "else": 1}
    intermediates = [cell[0] for var, cell in f.fn.storage_map.items()
                     if var.owner is not None and var not in f.maker.fgraph.outputs]
    assert all(v is None for v in intermediates) == gc


def test_lazy_ops_in_a_straight_loop_compute_both_branches():
    c, x, out = _ifelse_graph()
    f = function([c, x], out, mode=Mode(VMLinker(lazy=False), None))
    assert isinstance(f.fn, LoopGC)
    np.testing.assert_array_equal(f(0.0, np.ones(2)), [-1.0, -1.0])
    assert RUNS == {"then": 1, "else": 1}
    g = function([c, x], out, mode=Mode("py", None))
    np.testing.assert_array_equal(g(1.0, np.ones(2)), [2.0, 2.0])


def test_vm_lazy_flag():
    c, x, out = _ifelse_graph()
    with config.change_flags(vm__lazy=False):
        assert isinstance(function([c, x], out, mode=Mode("vm", None)).fn, LoopGC)
    x2 = dvec("x2")
    with config.change_flags(vm__lazy=True):
        f = function([x2], Tagged("t")(x2), mode=Mode("vm_nogc", None))
    assert isinstance(f.fn, Stack) and not f.fn.allow_gc
    np.testing.assert_array_equal(f(np.ones(1)), [1.0])
    assert isinstance(function([x2], Tagged("t")(x2), mode=Mode("vm_nogc", None)).fn, Loop)


@pytest.mark.parametrize("linker", ["py", "vm", "vm_nogc", "stack"])
def test_output_subset_runs_only_needed_nodes(linker):
    x = dvec("x")
    w = shared(np.zeros(1), name="w")
    a, b = Tagged("a", 2.0)(x), Tagged("b", 3.0)(x)
    upd = Tagged("u", 1.0)(x)
    lk = VMLinker(lazy=True) if linker == "stack" else linker
    f = function([x], [a, b], updates=[(w, upd)], mode=Mode(lk, None))
    res = f(np.ones(1), output_subset=[1])
    assert len(res) == 1 and res[0][0] == 3.0
    assert RUNS == {"b": 1, "u": 1}
    assert w.get_value()[0] == 1.0
    both = f(np.ones(1))
    assert [v[0] for v in both] == [2.0, 3.0]
    f(np.ones(1), output_subset=[1])  # the cached sub-program is reused
    assert RUNS == {"a": 1, "b": 3, "u": 3}


def test_output_subset_gc_frees_intermediates():
    x = dvec("x")
    mid = Tagged("m", 2.0)(x)
    f = function([x], [Tagged("a")(mid), Tagged("b")(mid)], mode=Mode("vm", None))
    f(np.ones(1), output_subset=[0])
    mid_clone = f.maker.fgraph.outputs[0].owner.inputs[0]
    assert mid_clone.owner.op == Tagged("m", 2.0)
    assert f.fn.storage_map[mid_clone][0] is None
    nogc = function([x], [Tagged("a")(mid), Tagged("b")(mid)], mode=Mode("vm_nogc", None))
    nogc(np.ones(1), output_subset=[0])
    assert nogc.fn.storage_map[nogc.maker.fgraph.outputs[0].owner.inputs[0]][0][0] == 2.0


@pytest.mark.parametrize("lazy", [False, True], ids=["loop", "stack"])
def test_callbacks(lazy):
    x = dvec("x")
    w = shared(np.ones(1), name="w")
    seen_nodes, seen_inputs = [], []
    linker = VMLinker(lazy=lazy, callback=lambda node, **kw: seen_nodes.append(str(node.op)),
                      callback_input=lambda var, value: seen_inputs.append(value[0]))
    f = function([x], Add()(Tagged("t")(x), w), mode=Mode(linker, None))
    f(np.array([5.0]))
    assert "Tagged{t, 1.0}" in seen_nodes and "Add" in seen_nodes
    assert sorted(seen_inputs) == [1.0, 5.0]


def test_stack_error_names_the_node():
    class Boom(Tagged):
        def perform(self, node, inputs, out, params=None):
            raise ArithmeticError("bad")

    c, x = dscal("c"), dvec("x")
    f = function([c, x], IfElse()(c, Boom("b")(x), x), mode=Mode("vm", None))
    with pytest.raises(ArithmeticError, match="Apply node that caused the error: Boom"):
        f(1.0, np.ones(1))
    np.testing.assert_array_equal(f(0.0, np.ones(1)), [1.0])


def test_variable_eval_uses_function():
    x = dvec("x")
    y = Tagged("e", 3.0)(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        np.testing.assert_array_equal(y.eval({x: np.array([1.0, 2.0])}), [3.0, 6.0])
        np.testing.assert_array_equal(y.eval({x: [1.0]}), [3.0])
    assert RUNS == {"e": 2}
    assert len(y._fn_cache) == 1
    w = shared(np.array([2.0]), name="w")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        assert Tagged("s", 2.0)(w).eval()[0] == 4.0


# -- random graphs against the reference evaluator --------------------------------------------

LINKERS = ["py", "vm", "vm_nogc", VMLinker(lazy=True), VMLinker(lazy=True, allow_gc=False)]


@st.composite
def random_graphs(draw):
    """A DAG over two inputs: each new node scales one earlier variable or adds two."""
    x, y = dvec("x"), dvec("y")
    pool = [x, y]
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            src = pool[draw(st.integers(0, len(pool) - 1))]
            pool.append(Tagged("r", draw(st.sampled_from([-1.0, 0.5, 2.0])))(src))
        else:
            i = draw(st.integers(0, len(pool) - 1))
            j = draw(st.integers(0, len(pool) - 1))
            pool.append(Add()(pool[i], pool[j]))
    n_out = draw(st.integers(1, 3))
    outs = [pool[draw(st.integers(2, len(pool) - 1))] for _ in range(n_out)]
    return x, y, outs


@settings(max_examples=40, deadline=None)
@given(random_graphs(), st.integers(0, len(LINKERS) - 1))
def test_random_graphs_match_reference(graph, linker_index):
    x, y, outs = graph
    xv, yv = np.array([1.0, -2.0]), np.array([0.5, 3.0])
    expected = evaluate(outs, {x: xv, y: yv})
    f = function([x, y], outs, mode=Mode(LINKERS[linker_index], None),
                 on_unused_input="ignore")
    for _ in range(2):  # a second call must not be affected by storage left by the first
        got = f(xv, yv)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e)
    assert len({id(g) for g in got}) == len(got)  # no two outputs share an array

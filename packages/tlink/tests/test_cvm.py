"""The Cython VM against its oracle, the Python VM: (Python, Cython) x (gc, nogc, lazy).

Every test builds the same graph under both VMs and checks what a user or a profiler can
see: outputs, which cells hold values after a call, per-node call counts, output_subset,
callbacks, updates, errors naming the node, and that a lazy ifelse computes only its branch.
Nodes with C code run as CThunks (called through their function pointer by the Cython
VM) unless ``c_thunks=False``; both kinds are covered.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tgraph.tensor as T
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.shared import shared
from tgraph.tensor.type import TensorType
from tlink import Mode, function
from tlink.linker import vm as vm_module
from tlink.linker.vm import Loop, LoopGC, Stack, VMLinker

pytest.importorskip("tlink.linker._cvm", reason="the Cython VM extension is not built")

KINDS = {  # kind -> VMLinker arguments
    "gc": dict(allow_gc=True, lazy=False),
    "nogc": dict(allow_gc=False, lazy=False),
    "lazy": dict(allow_gc=True, lazy=True),
    "lazy_nogc": dict(allow_gc=False, lazy=True),
}
PY_CLASS = {"gc": LoopGC, "nogc": Loop, "lazy": Stack, "lazy_nogc": Stack}
C_CLASS = {"gc": "CLoopGC", "nogc": "CLoop", "lazy": "CStack", "lazy_nogc": "CStack"}

dvec = TensorType("float64", (False,))
dscal = TensorType("float64", ())
RUNS: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _fresh_runs():
    RUNS.clear()


def mode(cloop: bool, kind: str, **extra) -> Mode:
    return Mode(VMLinker(use_cloop=cloop, **KINDS[kind], **extra), None)


def both(inputs, outputs, kind, **kwargs):
    """The function compiled under the Python VM and under the Cython VM."""
    extra = {k: kwargs.pop(k) for k in ("c_thunks", "callback", "callback_input")
             if k in kwargs}
    fp = function(inputs, outputs, mode=mode(False, kind, **extra), **kwargs)
    fc = function(inputs, outputs, mode=mode(True, kind, **extra), **kwargs)
    assert type(fp.fn) is PY_CLASS[kind]
    assert type(fc.fn).__name__ == C_CLASS[kind]
    assert isinstance(fc.fn, PY_CLASS[kind])
    return fp, fc


def intermediates(f) -> list:
    """Values left in the cells of computed variables that are not graph outputs."""
    outs = f.maker.fgraph.outputs
    return [cell[0] for var, cell in f.fn.storage_map.items()
            if var.owner is not None and var not in outs]


class Tagged(Op):
    """factor * x, counting its runs under its tag (no C code: a Python thunk)."""

    __props__ = ("tag", "factor")

    def __init__(self, tag, factor=1.0):
        self.tag = tag
        self.factor = factor

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        RUNS[self.tag] = RUNS.get(self.tag, 0) + 1
        out[0][0] = np.asarray(self.factor * inputs[0])


class Boom(Op):
    """Raises ValueError when its input has a negative element."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        if (inputs[0] < 0).any():
            raise ValueError("Boom: negative input")
        out[0][0] = inputs[0].copy()


class LazyIfElse(Op):
    """``a if cond else b``, asking only for the branch it takes (a lazy thunk)."""

    __props__ = ()

    def make_node(self, cond, a, b):
        return Apply(self, [cond, a, b], [a.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = (inputs[1] if inputs[0] else inputs[2]).copy()

    def make_thunk(self, node, storage_map, compute_map, no_recycling, impl=None):
        cells = [storage_map[v] for v in node.inputs]
        computed = [compute_map[v] for v in node.inputs]
        out, out_computed = storage_map[node.outputs[0]], compute_map[node.outputs[0]]

        def thunk():
            if not computed[0][0]:
                return [0]
            branch = 1 if cells[0][0] else 2
            if not computed[branch][0]:
                return [branch]
            out[0] = cells[branch][0].copy()
            out_computed[0] = True
            return []

        thunk.lazy = True
        thunk.inputs = cells
        thunk.outputs = [out]
        thunk.node = node
        return thunk


def _graph():
    x, y = T.dvector("x"), T.dvector("y")
    a = T.exp(x * y) + 1.0
    b = Tagged("t", 3.0)(a - x)
    return [x, y], [b * y, T.sqrt(a)]


# -- outputs, cells, counts -----------------------------------------------------------------


@pytest.mark.parametrize("c_thunks", [None, False], ids=["c_thunks", "py_thunks"])
@pytest.mark.parametrize("kind", list(KINDS))
def test_same_outputs_and_same_cells_freed(kind, c_thunks):
    inputs, outputs = _graph()
    fp, fc = both(inputs, outputs, kind, c_thunks=c_thunks)
    if c_thunks is None:
        assert any(type(t).__name__ == "CThunk" for t in fc.fn.thunks)
    rng = np.random.RandomState(0)
    for _ in range(3):
        xv, yv = rng.randn(4), rng.randn(4)
        for p, c in zip(fp(xv, yv), fc(xv, yv)):
            np.testing.assert_array_equal(p, c)
        freed_p = [v is None for v in intermediates(fp)]
        freed_c = [v is None for v in intermediates(fc)]
        assert freed_p == freed_c
        gc_on = KINDS[kind]["allow_gc"]
        assert all(freed_c) if gc_on else not any(freed_c)
    assert RUNS == {"t": 6}


@pytest.mark.parametrize("kind", list(KINDS))
def test_call_counts_and_times_when_profiling(kind):
    inputs, outputs = _graph()
    fp, fc = both(inputs, outputs, kind)
    for f in (fp, fc):
        f.fn.time_thunks = True
        f(np.ones(3), np.ones(3))
        f(np.ones(3), np.ones(3), output_subset=[1])
    assert fc.fn.call_counts == fp.fn.call_counts
    assert max(fc.fn.call_counts) == 2 and min(fc.fn.call_counts) == 1
    assert all(t > 0 for t, n in zip(fc.fn.call_times, fc.fn.call_counts) if n)


@pytest.mark.parametrize("kind", ["gc", "nogc"])
def test_loops_count_nothing_unless_timed(kind):
    inputs, outputs = _graph()
    fp, fc = both(inputs, outputs, kind)
    fp(np.ones(2), np.ones(2))
    fc(np.ones(2), np.ones(2))
    assert fc.fn.call_counts == fp.fn.call_counts == [0] * len(fc.fn.nodes)


def test_profile_true_fills_the_profile_through_the_cython_vm():
    inputs, outputs = _graph()
    f = function(inputs, outputs, mode=mode(True, "gc"), profile=True)
    f(np.ones(2), np.ones(2))
    f(np.ones(2), np.ones(2))
    assert sorted(f.profile.apply_callcount.values()) == [2] * len(f.fn.nodes)


# -- output_subset, updates, pre_call_clear --------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_output_subset_runs_only_what_is_needed(kind):
    x = T.dvector("x")
    outs = [Tagged("first", 2.0)(x), Tagged("second", 3.0)(x) + 1.0]
    fp, fc = both([x], outs, kind)
    for f in (fp, fc):
        RUNS.clear()
        got = f(np.ones(2), output_subset=[1])
        assert len(got) == 1
        np.testing.assert_array_equal(got[0], [4.0, 4.0])
        assert RUNS == {"second": 1}
    with pytest.raises(ValueError, match="not the index of an output"):
        fc(np.ones(2), output_subset=[5])


@pytest.mark.parametrize("kind", list(KINDS))
def test_updates_are_computed_whatever_the_output_subset(kind):
    x = T.dvector("x")
    results = []
    for cloop in (False, True):
        w = shared(np.zeros(2), name="w")
        f = function([x], [x * 2.0, x + 1.0], updates=[(w, w + x)],
                     mode=mode(cloop, kind))
        assert f.fn.n_updates == 1
        f(np.ones(2), output_subset=[0])
        f(np.ones(2), output_subset=[1])
        results.append(w.get_value())
    np.testing.assert_array_equal(results[0], [2.0, 2.0])
    np.testing.assert_array_equal(results[1], results[0])


@pytest.mark.parametrize("kind", list(KINDS))
def test_values_returned_earlier_are_not_overwritten(kind):
    # The function's outputs are in no_recycling: the VM empties their cells before a
    # call, so an Op cannot write into an array the caller still holds.
    x = T.dvector("x")
    _fp, fc = both([x], x * 2.0, kind)
    assert fc.fn.pre_call_clear
    first = fc(np.ones(2))
    second = fc(np.full(2, 5.0))
    np.testing.assert_array_equal(first, [2.0, 2.0])
    np.testing.assert_array_equal(second, [10.0, 10.0])


# -- callbacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_callbacks_see_the_same_nodes_and_inputs(kind):
    inputs, outputs = _graph()
    seen: dict[bool, list] = {False: [], True: []}
    for cloop in (False, True):
        log = seen[cloop]

        def callback(node, thunk, storage_map, compute_map, log=log):
            log.append(("node", str(node.op), type(storage_map[node.outputs[0]][0])))

        def callback_input(var, value, log=log):
            log.append(("input", str(var), float(np.sum(value))))

        f = function(inputs, outputs, mode=mode(cloop, kind, callback=callback,
                                                callback_input=callback_input))
        f(np.ones(2), np.full(2, 2.0))
    assert seen[True] == seen[False]
    assert sum(1 for e in seen[True] if e[0] == "node") == len(f.fn.nodes)
    assert ("input", "x", 2.0) in seen[True]


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_error_in_a_python_thunk_names_the_node(kind):
    x = T.dvector("x")
    fp, fc = both([x], Boom()(x * 2.0) + 1.0, kind)
    messages = []
    for f in (fp, fc):
        with pytest.raises(ValueError, match="Boom: negative input") as info:
            f(np.array([1.0, -1.0]))
        messages.append(str(info.value))
        assert "Apply node that caused the error: Boom" in str(info.value)
        assert info.value.__op_instance__.op == Boom()
        np.testing.assert_array_equal(f(np.ones(2)), [3.0, 3.0])  # and it still runs
    assert fc.fn.position_of_error == fp.fn.position_of_error
    assert messages[0] == messages[1]


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_error_in_a_c_thunk_names_the_node(kind):
    x, y = T.dvector("x"), T.dvector("y")
    fp, fc = both([x, y], T.exp(x) + y, kind)
    failing = [t for t in fc.fn.thunks if type(t).__name__ == "CThunk"]
    if not failing:
        pytest.skip("no C thunks here (no C compiler?)")
    errors = []
    for f in (fp, fc):
        with pytest.raises(ValueError) as info:
            f(np.ones(2), np.ones(3))
        assert "Apply node that caused the error: " in str(info.value)
        errors.append((str(info.value), f.fn.position_of_error))
    assert errors[0] == errors[1]


# -- laziness ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["lazy", "lazy_nogc"])
def test_ifelse_computes_only_the_branch_taken(kind):
    c, x = dscal("c"), dvec("x")
    out = LazyIfElse()(c, Tagged("then", 2.0)(x), Tagged("else", -1.0)(x) + 1.0)
    fp, fc = both([c, x], out, kind)
    for f in (fp, fc):
        RUNS.clear()
        np.testing.assert_array_equal(f(1.0, np.ones(2)), [2.0, 2.0])
        assert RUNS == {"then": 1}
        np.testing.assert_array_equal(f(0.0, np.ones(2)), [0.0, 0.0])
        assert RUNS == {"then": 1, "else": 1}
    assert fc.fn.call_counts == fp.fn.call_counts
    assert [v is None for v in intermediates(fc)] == [v is None for v in intermediates(fp)]


@pytest.mark.parametrize("kind", ["gc", "nogc"])
def test_a_straight_loop_runs_both_branches_of_a_lazy_op(kind):
    c, x = dscal("c"), dvec("x")
    out = LazyIfElse()(c, Tagged("then", 2.0)(x), Tagged("else", -1.0)(x))
    fp, fc = both([c, x], out, kind)
    for f in (fp, fc):
        RUNS.clear()
        np.testing.assert_array_equal(f(0.0, np.ones(2)), [-1.0, -1.0])
        assert RUNS == {"then": 1, "else": 1}


def test_nested_ifelse_under_the_cython_stack():
    c1, c2, x = dscal("c1"), dscal("c2"), dvec("x")
    inner = LazyIfElse()(c2, Tagged("a", 1.0)(x), Tagged("b", 2.0)(x))
    out = LazyIfElse()(c1, inner, Tagged("c", 3.0)(x))
    fp, fc = both([c1, c2, x], [out, inner * 1.0], "lazy")
    for args in [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]:
        for subset in (None, [0]):
            seen = []
            for f in (fp, fc):
                RUNS.clear()
                res = f(*args, np.ones(2), output_subset=subset)
                seen.append((dict(RUNS), [list(r) for r in res]))
            assert seen[0] == seen[1]
            runs = seen[1][0]
            if args[0]:
                assert "c" not in runs
            elif subset == [0]:  # only the outer ifelse is wanted, and it takes "c"
                assert runs == {"c": 1}


# -- random graphs -----------------------------------------------------------------------

_UNARY = [T.exp, T.tanh, lambda a: a * 2.0, lambda a: -a, lambda a: Tagged("r", 0.5)(a)]
_BINARY = [T.add, T.sub, T.mul, T.maximum]


@st.composite
def graphs(draw):
    """A random DAG over two vectors, with 1 to 3 outputs picked among its nodes."""
    x, y = T.dvector("x"), T.dvector("y")
    pool = [x, y]
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            op = draw(st.sampled_from(_UNARY))
            pool.append(op(draw(st.sampled_from(pool))))
        else:
            op = draw(st.sampled_from(_BINARY))
            pool.append(op(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
    computed = pool[2:]
    outs = draw(st.lists(st.sampled_from(computed), min_size=1, max_size=3, unique_by=id))
    return [x, y], outs


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(graph=graphs(), kind=st.sampled_from(list(KINDS)), subset=st.booleans(),
       c_thunks=st.sampled_from([None, False]))
def test_random_graphs_agree(graph, kind, subset, c_thunks):
    inputs, outs = graph
    fp, fc = both(inputs, outs, kind, c_thunks=c_thunks, on_unused_input="ignore")
    xv, yv = np.linspace(-1, 1, 3), np.linspace(0.5, 2, 3)
    kwargs = {"output_subset": [len(outs) - 1]} if subset else {}
    for p, c in zip(fp(xv, yv, **kwargs), fc(xv, yv, **kwargs)):
        np.testing.assert_allclose(c, p, rtol=0, atol=0)
    assert [v is None for v in intermediates(fc)] == [v is None for v in intermediates(fp)]


def test_cvm_available_reports_the_extension():
    assert vm_module.cvm_available()
    assert vm_module.CLoop is not None and vm_module.CStack is not None

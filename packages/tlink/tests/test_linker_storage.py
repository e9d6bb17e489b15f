"""Linkers: storage cells, garbage collection of intermediates, thunks, errors naming nodes."""

from __future__ import annotations

import numpy as np
import pytest

from tgraph import config
from tgraph.graph.basic import Apply, Constant
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.op import Op
from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.basic import constant
from tgraph.tensor.type import TensorType
from tlink import Mode, PerformLinker, VMLinker, function, raise_with_op
from tlink.linker import base as linker_base
from tlink.linker.base import gc_helper, make_py_thunk, map_storage

dvec = TensorType("float64", (False,))
LINKER_NAMES = ["py", "vm", "vm_nogc"]


class Scale(Op):
    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = self.factor * inputs[0]


class Add(Op):
    __props__ = ()

    def make_node(self, x, y):
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] + inputs[1]


class Boom(Op):
    """Raises the exception it was built with."""

    __props__ = ("exc_type",)

    def __init__(self, exc_type=ValueError):
        self.exc_type = exc_type

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        raise self.exc_type("boom went the op")


class NeedsTwoArgs(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class Offset(Op):
    """x + params, where params come from get_params (Theano 1.0's params mechanism)."""

    __props__ = ("offset",)

    def __init__(self, offset):
        self.offset = offset

    def get_params(self, node):
        return self.offset

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params):
        out[0][0] = inputs[0] + params


class OldStylePerform(Op):
    """An Op written for Theano 1.0 without the params argument."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out):
        out[0][0] = -inputs[0]


def chain():
    """x -> a=2x -> b=3a -> out=a+b, with a read twice."""
    x = dvec("x")
    a = Scale(2.0)(x)
    b = Scale(3.0)(a)
    return x, a, b, Add()(a, b)


def _intermediates(f):
    outs = set(f.maker.fgraph.outputs)
    return {var: cell for var, cell in f.fn.storage_map.items()
            if var.owner is not None and var not in outs}


@pytest.mark.parametrize("linker", LINKER_NAMES)
def test_linkers_compute_the_same(linker):
    x, _a, _b, out = chain()
    f = function([x], out, mode=Mode(linker, None))
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [8.0, 16.0])


@pytest.mark.parametrize("linker", ["py", "vm"])
def test_gc_empties_intermediates_after_the_call(linker):
    x, _a, _b, out = chain()
    f = function([x], out, mode=Mode(linker, None))
    assert f.fn.allow_gc
    f(np.ones(2))
    cells = _intermediates(f)
    assert len(cells) == 2
    assert all(cell[0] is None for cell in cells.values())


def test_nogc_keeps_intermediates():
    x, _a, _b, out = chain()
    f = function([x], out, mode=Mode("vm_nogc", None))
    assert not f.fn.allow_gc
    f(np.ones(2))
    values = sorted(float(cell[0][0]) for cell in _intermediates(f).values())
    assert values == [2.0, 6.0]


@pytest.mark.parametrize("linker", ["py", "vm"])
def test_allow_gc_flag_is_read_when_compiling(linker):
    x, _a, _b, out = chain()
    with config.change_flags(allow_gc=False):
        f = function([x], out, mode=Mode(linker, None))
    f(np.ones(2))
    assert not f.fn.allow_gc
    assert all(cell[0] is not None for cell in _intermediates(f).values())


def test_gc_frees_after_last_use_during_the_run():
    x = dvec("x")
    a = Scale(2.0)(x)
    b = Scale(3.0)(a)
    c = Scale(4.0)(b)
    out = Add()(c, b)
    fgraph = FunctionGraph([x], [out], clone=False)
    linker = VMLinker(allow_gc=True).accept(fgraph)
    fn, ins, outs, _thunks, _order = linker.make_all()
    storage = fn.storage_map
    seen = []

    def record(node, **_):  # called right after each node, before its clear list runs
        seen.append((node.op.factor if isinstance(node.op, Scale) else "add",
                     storage[a][0] is None, storage[b][0] is None))

    fn.callback = record
    ins[0].data = np.ones(1)
    fn()
    # a is freed once Scale(3) has read it; b survives until Add, its last reader.
    assert seen == [(2.0, False, True), (3.0, False, False), (4.0, True, False),
                    ("add", True, False)]
    assert storage[b][0] is None and storage[c][0] is None
    assert outs[0].data[0] == 30.0


def test_gc_frees_unused_outputs_of_multi_output_nodes():
    class Split(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type(), x.type()])

        def perform(self, node, inputs, out, params=None):
            out[0][0] = inputs[0] + 1
            out[1][0] = inputs[0] - 1

    x = dvec("x")
    first, _unused = Split()(x)
    f = function([x], Scale(1.0)(first), mode=Mode("vm", None))
    f(np.ones(1))
    assert all(cell[0] is None for cell in _intermediates(f).values())


def test_outputs_handed_out_are_not_recycled():
    x, _a, _b, out = chain()
    f = function([x], out, mode=Mode("vm_nogc", None))
    first = f(np.ones(1))
    second = f(np.ones(1))
    assert first is not second


def test_constants_are_prefilled():
    x = dvec("x")
    c = constant(np.array([5.0]))
    f = function([x], Add()(x, c), mode=Mode("vm", None))
    consts = [v for v in f.fn.storage_map if isinstance(v, Constant)]
    assert len(consts) == 1 and f.fn.storage_map[consts[0]][0][0] == 5.0
    np.testing.assert_array_equal(f(np.ones(1)), [6.0])


def test_params_and_old_style_perform():
    x = dvec("x")
    f = function([x], OldStylePerform()(Offset(10.0)(x)), mode=Mode("py", None))
    np.testing.assert_array_equal(f(np.ones(1)), [-11.0])


# -- errors naming the node ----------------------------------------------------------------


@pytest.mark.parametrize("linker", LINKER_NAMES)
def test_error_names_the_node_and_keeps_the_type(linker):
    x = dvec("x")
    out = Boom()(Scale(2.0)(x))
    f = function([x], out, mode=Mode(linker, None))
    with pytest.raises(ValueError, match="boom went the op") as info:
        f(np.arange(3.0))
    msg = str(info.value)
    assert "Apply node that caused the error: Boom{<class 'ValueError'>}(Scale{2.0}.0)" in msg
    assert "Toposort index: 1" in msg
    assert "Inputs types: [TensorType(float64, vector)]" in msg
    assert "Inputs shapes: [(3,)]" in msg
    assert "Inputs strides: [(8,)]" in msg
    assert "Inputs values: [array([0., 2., 4.])]" in msg
    assert "Where the node's output was created" in msg and "out = Boom()" in msg
    assert "exception_verbosity=high" in msg
    assert info.value.__applynode_index__ == 1
    assert isinstance(info.value.__op_instance__.op, Boom)


def test_error_with_large_inputs_hides_values():
    x = dvec("x")
    f = function([x], Boom()(x), mode=Mode("vm", None))
    with pytest.raises(ValueError, match=r"Inputs values: \[not shown\]"):
        f(np.zeros(100))


def test_error_verbosity_high_prints_the_graph():
    x = dvec("x")
    f = function([x], Boom(RuntimeError)(Add()(Scale(2.0)(x), x)), mode=Mode("vm", None))
    with config.change_flags(exception_verbosity="high"), pytest.raises(RuntimeError) as info:
        f(np.ones(2))
    msg = str(info.value)
    assert "The graph that computes the node's outputs:" in msg
    assert " |Add.0" in msg or " |Add" in msg
    assert "input 'x'" in msg
    assert "Storage map footprint" in msg


def test_exception_that_cannot_be_rebuilt_gets_a_note():
    class Picky(Boom):
        def perform(self, node, inputs, out, params=None):
            raise NeedsTwoArgs("a", "b")

    x = dvec("x")
    f = function([x], Picky()(x), mode=Mode("vm", None))
    with pytest.raises(NeedsTwoArgs) as info:
        f(np.ones(1))
    notes = getattr(info.value, "__notes__", None)
    if notes is not None:  # Python 3.11+
        assert "Apply node that caused the error" in notes[0]


def test_keyboard_interrupt_is_not_wrapped():
    x = dvec("x")
    f = function([x], Boom(KeyboardInterrupt)(x), mode=Mode("vm", None))
    with pytest.raises(KeyboardInterrupt) as info:
        f(np.ones(1))
    assert "Apply node" not in str(info.value)


def test_raise_with_op_outside_a_function():
    x = dvec("x")
    node = Scale(2.0)(x).owner
    with pytest.raises(ZeroDivisionError, match="Apply node that caused the error: Scale"):
        try:
            _ = 1 / 0
        except ZeroDivisionError:
            raise_with_op(node, storage_map={x: [np.ones(2)]})


# -- linkers used directly -----------------------------------------------------------------


@pytest.mark.parametrize("linker_cls", [PerformLinker, VMLinker])
def test_make_thunk_interface(linker_cls):
    x, _a, _b, out = chain()
    fgraph = FunctionGraph([x], [out])
    linker = linker_cls().accept(fgraph)
    fn, ins, outs, thunks, order = linker.make_thunk()
    assert [n.op for n in order] == [Scale(2.0), Scale(3.0), Add()]
    assert len(thunks) == 3 and all(t.lazy is False for t in thunks)
    ins[0].data = np.array([1.0])
    fn()
    assert outs[0].data[0] == 8.0
    other = linker.accept(FunctionGraph([x], [out]))
    assert other is not linker and other.fgraph is not fgraph


def test_make_function_and_unbound_linker():
    x, _a, _b, out = chain()
    with pytest.raises(ValueError, match="call accept"):
        PerformLinker().make_all()
    fn = PerformLinker().accept(FunctionGraph([x], [out])).make_function()
    assert fn(np.array([1.0]))[0] == 8.0
    with pytest.raises(TypeError, match="takes 1 arguments"):
        fn()


def test_map_storage_checks_its_arguments():
    x, _a, _b, out = chain()
    fgraph = FunctionGraph([x], [out], clone=False)
    order = fgraph.toposort()
    with pytest.raises(ValueError, match="1 inputs"):
        map_storage(fgraph, order, input_storage=[[None], [None]])
    cell = [None]
    ins, outs, smap = map_storage(fgraph, order, input_storage=[cell])
    assert smap[x] is cell and outs[0] is smap[out]
    with pytest.raises(ValueError, match="another storage cell"):
        map_storage(fgraph, order, input_storage=[[None]], storage_map=smap)
    computed, last_user = gc_helper(order)
    assert out in computed and last_user[x] is order[0]


def test_op_make_thunk_hook_and_prepare_node():
    calls = []

    class OwnThunk(Scale):
        def prepare_node(self, node, storage_map, compute_map, impl):
            calls.append(("prepare", impl))

        def make_thunk(self, node, storage_map, compute_map, no_recycling, impl=None):
            calls.append(("make_thunk", impl))
            return make_py_thunk(node, storage_map, compute_map, no_recycling)

    x = dvec("x")
    f = function([x], OwnThunk(5.0)(x), mode=Mode("vm", None))
    assert f(np.ones(1))[0] == 5.0
    # 'vm' drives C thunks where Ops have C code, so the hooks are told impl 'c'.
    assert calls == [("prepare", "c"), ("make_thunk", "c")]


def test_op_make_thunk_without_impl_argument():
    class OldHook(Scale):
        def make_thunk(self, node, storage_map, compute_map, no_recycling):
            return make_py_thunk(node, storage_map, compute_map, no_recycling)

    x = dvec("x")
    assert function([x], OldHook(3.0)(x), mode=Mode("py", None))(np.ones(1))[0] == 3.0


def test_register_thunk_maker_for_an_implementation(monkeypatch):
    made = []

    def maker(node, storage_map, compute_map, no_recycling):
        if isinstance(node.op, Add):
            raise MethodNotDefined("no C for Add")
        made.append(node.op)
        return make_py_thunk(node, storage_map, compute_map, no_recycling)

    monkeypatch.setitem(linker_base._thunk_makers, "c", maker)
    with pytest.raises(ValueError, match="already registered"):
        linker_base.register_thunk_maker("c", maker)
    x, _a, _b, out = chain()
    f = function([x], out, mode=Mode(VMLinker(), None))
    assert f(np.ones(1))[0] == 8.0
    assert made == [Scale(2.0), Scale(3.0)]
    g = function([x], out, mode=Mode(VMLinker(c_thunks=False), None))
    g(np.ones(1))
    assert len(made) == 2


def test_thunk_preparation_error_names_the_node():
    class Broken(Scale):
        def prepare_node(self, node, storage_map, compute_map, impl):
            raise RuntimeError("cannot prepare")

    x = dvec("x")
    with pytest.raises(RuntimeError, match=r"cannot prepare\n\(while preparing node Broken"):
        function([x], Broken(1.0)(x), mode=Mode("py", None))


def test_use_cloop_without_the_extension_warns_once_and_runs_python(monkeypatch):
    from tlink import FallbackWarning
    from tlink.fallback import reset_fallback_warnings
    from tlink.linker import vm

    monkeypatch.setattr(vm, "_cvm", None)
    reset_fallback_warnings()
    linker = VMLinker(use_cloop=True)
    x, _a, _b, out = chain()
    with pytest.warns(FallbackWarning, match=r"VM_Linker\(use_cloop=True\) is not available"):
        f = function([x], out, mode=Mode(linker, None))
    assert type(f.fn) is vm.LoopGC
    assert f(np.ones(1))[0] == 8.0
    reset_fallback_warnings()

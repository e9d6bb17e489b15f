"""The C thunk protocol (``tlink.linker._cvm.CThunk``), exercised without a C compiler.

The capsules are built with ctypes: the function pointer is a ctypes callback (or a C
function of libpython with the same signature), the data pointer the address of a Python
object the test keeps alive. A Cython VM must call such a thunk through its pointer and
report its failures like a Python thunk's.
"""

from __future__ import annotations

import ctypes
import gc

import numpy as np
import pytest

from tgraph.graph.basic import Apply
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.op import Op
from tgraph.tensor.type import TensorType
from tlink import Mode, function
from tlink.linker.base import register_batch_thunk_maker
from tlink.linker.vm import VMLinker

cvm = pytest.importorskip("tlink.linker._cvm", reason="the Cython VM extension is not built")
CThunk = cvm.CThunk

FN_NAME = b"tlink.cthunk_fn"
DATA_NAME = b"tlink.cthunk_data"
THUNK_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
DESTRUCTOR = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

_new_capsule = ctypes.pythonapi.PyCapsule_New
_new_capsule.restype = ctypes.py_object
_new_capsule.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)

dvec = TensorType("float64", (False,))


def capsule(address: int, name: bytes, destructor=None):
    """A PyCapsule holding ``address`` (names are module constants, so they outlive it)."""
    dtor = None if destructor is None else ctypes.cast(destructor, ctypes.c_void_p).value
    return _new_capsule(address, name, dtor)


def fn_capsule(callback) -> object:
    return capsule(ctypes.cast(callback, ctypes.c_void_p).value, FN_NAME)


class Double(Op):
    """2 * x; its C thunk below is a ctypes callback."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = 2 * inputs[0]


def _double_body(data: int) -> int:
    """Read the input cell and write the output cell, as generated C code does."""
    inputs, outputs = ctypes.cast(data, ctypes.py_object).value
    outputs[0][0] = 2 * inputs[0][0]
    return 0


DOUBLE_CB = THUNK_FN(_double_body)
FAIL_SILENTLY_CB = THUNK_FN(lambda data: 3)


def make_double_thunk(node, inputs, outputs, keep):
    """A CThunk over a ctypes callback; ``keep`` holds the object ``data`` points to."""
    payload = (inputs, outputs)
    keep.append(payload)
    return CThunk(fn_capsule(DOUBLE_CB), capsule(id(payload), DATA_NAME), inputs, outputs,
                  node)


def test_calling_a_cthunk_runs_its_function_on_the_cells():
    x = dvec("x")
    node = Double().make_node(x)
    inputs, outputs, keep = [[np.arange(3.0)]], [[None]], []
    thunk = make_double_thunk(node, inputs, outputs, keep)
    assert thunk() is None
    np.testing.assert_array_equal(outputs[0][0], [0.0, 2.0, 4.0])
    assert thunk.inputs is inputs and thunk.outputs is outputs and thunk.node is node
    assert thunk.lazy is False and thunk.perform == "c"
    thunk.extra = "attributes may be added as on a Python thunk"
    assert thunk.extra.startswith("attributes")


def test_a_c_function_that_sets_an_exception_raises_it():
    # PyList_Sort is an ``int f(PyObject *)`` returning -1 with TypeError set for items
    # that cannot be compared: a real C function with the protocol's signature.
    unsortable = [1, "a"]
    sort = ctypes.cast(ctypes.pythonapi.PyList_Sort, ctypes.c_void_p).value
    thunk = CThunk(capsule(sort, FN_NAME), capsule(id(unsortable), DATA_NAME), [], [], None)
    with pytest.raises(TypeError, match="not supported between"):
        thunk()
    sortable = [3, 1, 2]
    ok = CThunk(capsule(sort, FN_NAME), capsule(id(sortable), DATA_NAME), [], [], None)
    ok()
    assert sortable == [1, 2, 3]


def test_failure_without_an_exception_becomes_runtime_error_naming_the_node():
    x = dvec("x")
    node = Double().make_node(x)
    keep = [object()]
    thunk = CThunk(fn_capsule(FAIL_SILENTLY_CB), capsule(id(keep[0]), DATA_NAME),
                   [[None]], [[None]], node)
    with pytest.raises(RuntimeError, match=r"C thunk of node Double.*without setting"):
        thunk()


@pytest.mark.parametrize("which", ["fn", "data"])
def test_capsules_with_the_wrong_name_or_type_are_refused(which):
    good_fn = fn_capsule(DOUBLE_CB)
    good_data = capsule(id(good_fn), DATA_NAME)
    wrong = capsule(id(good_fn), b"someone.else")
    args = (wrong, good_data) if which == "fn" else (good_fn, wrong)
    with pytest.raises(TypeError, match=f"{which}_capsule must be a PyCapsule named "
                                        f"'tlink.cthunk_{which}'.*another name"):
        CThunk(*args, [], [], None)
    with pytest.raises(TypeError, match=r"got a int"):
        CThunk(*((3, good_data) if which == "fn" else (good_fn, 3)), [], [], None)


def test_the_thunk_keeps_its_capsules_alive_and_their_destructor_runs_once():
    freed = []
    dtor = DESTRUCTOR(lambda capsule_address: freed.append(capsule_address))
    inputs, outputs = [[1.5]], [[None]]
    payload = (inputs, outputs)
    data = capsule(id(payload), DATA_NAME, dtor)
    data_address = id(data)
    thunk = CThunk(fn_capsule(DOUBLE_CB), data, inputs, outputs, None)
    assert thunk.data_capsule is data and thunk.fn_capsule is not None
    del data
    gc.collect()
    assert freed == []
    thunk()  # the capsule lives in the thunk
    assert outputs[0][0] == 3.0
    del thunk
    gc.collect()
    assert freed == [data_address]


def test_a_cthunk_cannot_be_pickled():
    import pickle

    keep = [object()]
    thunk = CThunk(fn_capsule(DOUBLE_CB), capsule(id(keep[0]), DATA_NAME), [], [], None)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(thunk)


# -- in a VM --------------------------------------------------------------------------------

_KEEP: list = []


def _ctypes_batch_maker(order, storage_map, compute_map):
    """Batch maker for impl 'ctypes-test': Double nodes get ctypes CThunks."""
    out = []
    for node in order:
        if isinstance(node.op, Double):
            inputs = [storage_map[v] for v in node.inputs]
            outputs = [storage_map[v] for v in node.outputs]
            out.append(make_double_thunk(node, inputs, outputs, _KEEP))
        else:
            out.append(None)
    return out


register_batch_thunk_maker("ctypes-test", _ctypes_batch_maker)


class CtypesLinker(VMLinker):
    """A VMLinker whose C thunks are the ctypes ones above."""

    def _impl(self) -> str:
        return "ctypes-test"


@pytest.mark.parametrize("gc_on", [True, False], ids=["gc", "nogc"])
@pytest.mark.parametrize("cloop", [True, False], ids=["cython", "python"])
def test_vms_drive_ctypes_cthunks(cloop, gc_on):
    x = dvec("x")
    out = Double()(Double()(x)) + x
    f = function([x], out, mode=Mode(CtypesLinker(use_cloop=cloop, allow_gc=gc_on), None))
    kinds = [type(t).__name__ for t in f.fn.thunks]
    assert kinds.count("CThunk") == 2
    np.testing.assert_array_equal(f(np.arange(3.0)), [0.0, 5.0, 10.0])
    fg = f.maker.fgraph
    inner = [cell[0] for var, cell in f.fn.storage_map.items()
             if var.owner is not None and var not in fg.outputs]
    assert len(inner) == 2
    assert all(v is None for v in inner) == gc_on
    assert type(f.fn).__name__.startswith("C") == cloop


@pytest.mark.parametrize("cloop", [True, False], ids=["cython", "python"])
def test_a_failing_cthunk_in_a_vm_names_the_node(cloop):
    x = dvec("x")
    node = Double().make_node(x)
    fgraph = FunctionGraph([x], node.outputs, clone=False)
    linker = VMLinker(use_cloop=cloop, c_thunks=False).accept(fgraph)
    fn, ins, outs, thunks, order = linker.make_all()
    keep = [object()]
    thunks[0] = CThunk(fn_capsule(FAIL_SILENTLY_CB), capsule(id(keep[0]), DATA_NAME),
                       thunks[0].inputs, thunks[0].outputs, order[0])
    vm = linker.make_vm(order, thunks, fn.storage_map, {v: [True] for v in fn.storage_map})
    ins[0].data = np.ones(2)
    with pytest.raises(RuntimeError, match=r"(?s)without setting.*Apply node that caused the "
                                           r"error: Double"):
        vm()
    assert vm.position_of_error == 0

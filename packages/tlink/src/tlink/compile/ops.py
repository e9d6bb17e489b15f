"""The Ops ``function`` inserts into graphs: DeepCopyOp, ViewOp and OutputGuard.

A compiled function must never return an array that it will overwrite later, nor one the
caller passed in (unless the user allowed it with ``Out(borrow=True)``/``In(borrow=True)``).
The maker therefore puts a :class:`DeepCopyOp` on outputs that are inputs, constants, views
of those, or repeated; with borrowing allowed it puts a :class:`ViewOp` instead, which keeps
the graph's outputs distinct Variables without copying.
"""

from __future__ import annotations

import copy

import numpy as np

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op, as_op
from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.type import TensorType

__all__ = [
    "DeepCopyOp",
    "OutputGuard",
    "ViewOp",
    "as_op",
    "deep_copy_op",
    "register_deep_copy_op_c_code",
    "register_view_op_c_code",
    "view_op",
]


class ViewOp(Op):
    """Returns its input unchanged, as a view (``view_map = {0: [0]}``)."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x: Variable) -> Apply:
        if not isinstance(x, Variable):
            raise TypeError(f"{self}: expected a Variable, got {type(x).__name__}")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node, input_shapes):
        return input_shapes

    def grad(self, inputs, output_grads):
        return list(output_grads)

    def R_op(self, inputs, eval_points):
        return list(eval_points)

    def c_code(self, node, name, inputs, outputs, sub):
        return _registered_c_code(self, view_op_c_code, node, inputs, outputs, sub)

    def c_code_cache_version(self):
        return _registered_version(view_op_c_code)


view_op = ViewOp()


class OutputGuard(ViewOp):
    """A ViewOp marking a graph output that no rewrite may overwrite in place.

    Theano 1.0 used it to protect outputs from destructive rewrites (DebugMode checks it);
    here it behaves as :class:`ViewOp` and only carries the marker class.
    """

    destroy_map: dict = {}
    check_input = False


_output_guard = OutputGuard()


class DeepCopyOp(Op):
    """Returns a copy of its input that shares no memory with it.

    NumPy arrays are copied with ``ndarray.copy()`` (which keeps the dtype and makes the
    result C-contiguous); other values with :func:`copy.deepcopy`.
    """

    __props__ = ()
    check_input = False

    def make_node(self, x: Variable) -> Apply:
        if not isinstance(x, Variable):
            raise TypeError(f"{self}: expected a Variable, got {type(x).__name__}")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        value = inputs[0]
        if isinstance(value, np.ndarray):
            output_storage[0][0] = value.copy()
        else:
            output_storage[0][0] = copy.deepcopy(value)

    def infer_shape(self, node, input_shapes):
        return input_shapes

    def grad(self, inputs, output_grads):
        return list(output_grads)

    def c_code(self, node, name, inputs, outputs, sub):
        return _registered_c_code(self, deep_copy_op_c_code, node, inputs, outputs, sub)

    def c_code_cache_version(self):
        return _registered_version(deep_copy_op_c_code)


deep_copy_op = DeepCopyOp()


#: C code for ViewOp and DeepCopyOp per Type class, kept for the C linker to read.
view_op_c_code: dict[type, tuple] = {}
deep_copy_op_c_code: dict[type, tuple] = {}


def register_view_op_c_code(type_: type, code: str, version: tuple,
                            c_support_code_apply: str | None = None) -> None:
    """Record C code making ViewOp's output for values of ``type_`` (Theano 1.0's hook).

    Only the C linker reads the table; the Python linkers ignore it.
    """
    view_op_c_code[type_] = (code, version, c_support_code_apply)


def register_deep_copy_op_c_code(typ: type, code: str, version: tuple = ()) -> None:
    """Record C code copying values of ``typ`` for DeepCopyOp (Theano 1.0's hook)."""
    deep_copy_op_c_code[typ] = (code, version)


def _registered_c_code(op, table: dict, node, inputs, outputs, sub) -> str:
    """The table's code for the input's Type (Theano's ``%(iname)s``/``%(oname)s`` keys)."""
    entry = table.get(type(node.inputs[0].type))
    if entry is None:
        raise MethodNotDefined(f"{op}: no C code registered for {node.inputs[0].type}")
    return entry[0] % dict(sub, iname=inputs[0], oname=outputs[0])


def _registered_version(table: dict) -> tuple:
    """One version for the whole table: the entries' versions (empty if one is)."""
    versions = [entry[1] for _, entry in sorted(table.items(), key=lambda kv: kv[0].__name__)]
    if not versions or not all(versions):
        return ()
    return (1, *versions)


register_view_op_c_code(TensorType, """
Py_XDECREF(%(oname)s);
%(oname)s = %(iname)s;
Py_INCREF(%(oname)s);
""", (1,))

register_deep_copy_op_c_code(TensorType, """
if (%(oname)s != NULL && PyArray_IS_C_CONTIGUOUS(%(oname)s)
    && PyArray_SAMESHAPE(%(oname)s, %(iname)s)) {
    if (PyArray_CopyInto(%(oname)s, %(iname)s) < 0) %(fail)s
} else {
    Py_XDECREF(%(oname)s);
    %(oname)s = (PyArrayObject *)PyArray_NewCopy(%(iname)s, NPY_CORDER);
    if (%(oname)s == NULL) %(fail)s
}
""", (1,))

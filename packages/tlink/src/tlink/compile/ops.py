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

"""Rebroadcast: change which dimensions a tensor declares as size 1, checking at run time.

``patternbroadcast``/``addbroadcast``/``unbroadcast`` build it; TensorType.convert_variable
uses it to re-type a variable whose broadcast pattern differs from what a rewrite expects.
"""

from __future__ import annotations

from collections.abc import Sequence

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.graph.utils import MethodNotDefined


class Rebroadcast(Op):
    """Set the broadcastable flag of some axes: ``axis_values`` is ((axis, bool), ...)."""

    __props__ = ("axis",)
    view_map = {0: [0]}

    def __init__(self, *axis):
        self.axis = tuple(sorted((int(a), bool(b)) for a, b in axis))

    def make_node(self, x):
        if not isinstance(x, Variable) or not hasattr(x.type, "broadcastable"):
            raise TypeError(f"Rebroadcast expects a tensor variable, got {x!r}")
        bcast = list(x.type.broadcastable)
        for a, b in self.axis:
            if a >= x.type.ndim:
                raise ValueError(
                    f"Rebroadcast: axis {a} is out of range for a {x.type.ndim}-d tensor"
                )
            bcast[a] = b
        return Apply(self, [x], [x.type.clone(broadcastable=bcast)()])

    def perform(self, node, inputs, outputs, params=None):
        (x,) = inputs
        for a, b in self.axis:
            if b and x.shape[a] != 1:
                raise ValueError(
                    f"Rebroadcast: dimension {a} was declared broadcastable (size 1) but has "
                    f"size {x.shape[a]}"
                )
        outputs[0][0] = x

    def c_code(self, node, name, inputs, outputs, sub):
        """The same checks and view in C, so graphs around it stay on the VM's C loop."""
        from tgraph.tensor.type import TensorType

        if not isinstance(node.inputs[0].type, TensorType):
            raise MethodNotDefined(f"{self}: C code only for tensors")
        (x,), (z,) = inputs, outputs
        lines = [
            f"if (PyArray_DIM({x}, {a}) != 1) {{ PyErr_Format(PyExc_ValueError, "
            f'"Rebroadcast: dimension {a} was declared broadcastable (size 1) but has '
            f'size %zd", (Py_ssize_t)PyArray_DIM({x}, {a})); {sub["fail"]} }}'
            for a, b in self.axis if b
        ]
        lines.append(f"Py_XDECREF({z}); {z} = {x}; Py_INCREF({z});")
        return "\n".join(lines)

    def c_code_cache_version(self):
        return (1,)

    def infer_shape(self, node, input_shapes):
        (shp,) = input_shapes
        out = list(shp)
        for a, b in self.axis:
            if b:
                out[a] = 1
        return [tuple(out)]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        back = [(a, x.type.broadcastable[a]) for a, _ in self.axis]
        return [Rebroadcast(*back)(gz)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(*eval_points, return_list=True)

    def __str__(self):
        if not self.axis:
            return "Rebroadcast{}"
        return "Rebroadcast{" + ",".join(f"({a}, {b})" for a, b in self.axis) + "}"


def patternbroadcast(x, broadcastable: Sequence[bool]):
    """``x`` with exactly the given broadcast pattern (a no-op when it already has it)."""
    if tuple(x.type.broadcastable) == tuple(bool(b) for b in broadcastable):
        return x
    pairs = [(i, bool(b)) for i, b in enumerate(broadcastable)
             if bool(b) != x.type.broadcastable[i]]
    return Rebroadcast(*pairs)(x)


def addbroadcast(x, *axes: int):
    """``x`` with the given axes declared size 1 (checked at run time)."""
    return Rebroadcast(*[(a, True) for a in axes])(x) if axes else x


def unbroadcast(x, *axes: int):
    """``x`` with the given axes no longer declared size 1."""
    axes = [a for a in axes if x.type.broadcastable[a]]
    return Rebroadcast(*[(a, False) for a in axes])(x) if axes else x


__all__ = ["Rebroadcast", "addbroadcast", "patternbroadcast", "unbroadcast"]

"""Sorting: SortOp/ArgSortOp (numpy.sort/argsort) and TopKOp (the k largest or smallest).

As in Theano 1.0 the sort axis is a node input (an integer scalar, usually constant);
``sort(a, axis=None)`` flattens ``a`` first. The gradient of a sort routes each output
gradient back to the position its element came from (the argsort permutation), so it needs
the axis to be a known constant.
"""

from __future__ import annotations

import numpy as np

from tgraph.gradient_ops import DisconnectedType, grad_not_implemented, grad_undefined
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.tensor.alloc import arange, zeros_like
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.indexing import INTEGER_DTYPES, NoneConst, _describe, as_int64, known_int
from tgraph.tensor.subtensor import inc_subtensor
from tgraph.tensor.type import TensorType

_KINDS = ("quicksort", "mergesort", "heapsort", "stable")


def _check_kind(op_name: str, kind: str, order) -> None:
    if kind not in _KINDS:
        raise ValueError(f"{op_name}: kind must be one of {', '.join(_KINDS)}, got {kind!r}")
    if order is not None:
        raise ValueError(
            f"{op_name}: order= selects fields of structured arrays, which tensors are not; "
            "pass order=None"
        )


def _axis_input(op, a, axis) -> Variable:
    """The axis as a node input: an integer scalar within range, or the None constant."""
    if axis is None or (isinstance(axis, Variable) and NoneConst.equals(axis)):
        return NoneConst.clone()
    axis = as_tensor_variable(axis)
    if axis.ndim != 0 or axis.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{op}: axis must be an integer scalar or None, got {_describe(axis)}")
    k = known_int(axis)
    if k is not None and not -a.ndim <= k < a.ndim:
        raise ValueError(f"{op}: axis {k} is out of range for a {a.ndim}-d tensor")
    return axis


def _run_axis(op, axis, a: np.ndarray):
    if axis is None:
        return None
    if not -a.ndim <= int(axis) < a.ndim:
        raise ValueError(f"{op}: axis {int(axis)} is out of range for an array of shape "
                         f"{a.shape}")
    return int(axis)


def _grid_index(a, axis: int, along):
    """An index tuple whose entry at ``axis`` is ``along`` and elsewhere broadcast aranges:
    ``x[index]`` then reads x at those positions along axis (take_along_axis)."""
    index = []
    for i in range(a.ndim):
        if i == axis:
            index.append(along)
        else:
            pattern = ["x"] * a.ndim
            pattern[i] = 0
            index.append(arange(a.shape[i]).dimshuffle(pattern))
    return tuple(index)


class SortOp(Op):
    """numpy.sort of the first input along the axis given as the second input."""

    __props__ = ("kind", "order")

    def __init__(self, kind: str = "quicksort", order=None):
        _check_kind(type(self).__name__, kind, order)
        self.kind = kind
        self.order = order

    def __str__(self):
        return f"{type(self).__name__}{{{self.kind}, {self.order}}}"

    def make_node(self, input, axis=-1):
        a = as_tensor_variable(input)
        axis = _axis_input(self, a, axis)
        out = TensorType(a.dtype, (False,))() if NoneConst.equals(axis) else a.type()
        return Apply(self, [a, axis], [out])

    def perform(self, node, inputs, output_storage, params=None):
        a, axis = inputs
        output_storage[0][0] = np.sort(a, _run_axis(self, axis, a), self.kind)

    def infer_shape(self, node, input_shapes):
        if NoneConst.equals(node.inputs[1]):
            size = 1
            for d in input_shapes[0]:
                size = size * d
            return [(size,)]
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [False]]

    def L_op(self, inputs, outputs, output_grads):
        a, axis = inputs
        (g,) = output_grads
        k = None if NoneConst.equals(axis) else known_int(axis)
        if k is None and not NoneConst.equals(axis):
            return [grad_not_implemented(self, 0, a, "the sort axis must be a constant"),
                    DisconnectedType()()]
        src = a.flatten() if k is None else a
        k = 0 if k is None else k % a.ndim
        # Output j along the axis came from input position argsort[j]: send g there.
        perm = ArgSortOp(self.kind)(src, k)
        ga = inc_subtensor(zeros_like(src, dtype=g.dtype)[_grid_index(src, k, perm)], g)
        if NoneConst.equals(axis):
            ga = ga.reshape(a.shape, a.ndim)
        return [ga, DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        a, axis = inputs
        k = None if NoneConst.equals(axis) else known_int(axis)
        if k is None and not NoneConst.equals(axis):
            return [None]
        src = a.flatten() if k is None else a
        ev = eval_points[0].flatten() if k is None else eval_points[0]
        k = 0 if k is None else k % a.ndim
        perm = ArgSortOp(self.kind)(src, k)
        return [ev[_grid_index(src, k, perm)]]


def sort(a, axis=-1, kind: str = "quicksort", order=None):
    """A sorted copy of ``a`` along ``axis`` (None: of the flattened a)."""
    a = as_tensor_variable(a)
    if axis is None:
        a = a.flatten()
        axis = 0
    return SortOp(kind, order)(a, axis)


class ArgSortOp(Op):
    """numpy.argsort (int64 indices) of the first input along the axis given second."""

    __props__ = ("kind", "order")

    def __init__(self, kind: str = "quicksort", order=None):
        _check_kind(type(self).__name__, kind, order)
        self.kind = kind
        self.order = order

    def __str__(self):
        return f"{type(self).__name__}{{{self.kind}, {self.order}}}"

    def make_node(self, input, axis=-1):
        a = as_tensor_variable(input)
        axis = _axis_input(self, a, axis)
        bcast = (False,) if NoneConst.equals(axis) else a.broadcastable
        return Apply(self, [a, axis], [TensorType("int64", bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        a, axis = inputs
        out = np.argsort(a, _run_axis(self, axis, a), self.kind)
        output_storage[0][0] = out.astype("int64", copy=False)

    infer_shape = SortOp.infer_shape

    def connection_pattern(self, node):
        return [[False], [False]]

    def grad(self, inputs, output_grads):
        # Integer positions: a small change of the input does not change them.
        return [zeros_like(inputs[0]), DisconnectedType()()]


def argsort(a, axis=-1, kind: str = "quicksort", order=None):
    """The int64 indices that sort ``a`` along ``axis`` (None: the flattened a)."""
    a = as_tensor_variable(a)
    if axis is None:
        a = a.flatten()
        axis = 0
    return ArgSortOp(kind, order)(a, axis)


# ---------------------------------------------------------------------------------------------
# Top k


class TopKOp(Op):
    """The k largest (k > 0) or |k| smallest (k < 0) elements along ``axis``, and/or their
    int indices. With ``sorted`` they come largest first (smallest first for k < 0);
    otherwise in no particular order (numpy.partition's).
    """

    __props__ = ("axis", "sorted", "return_values", "return_indices", "idx_dtype")

    def __init__(self, axis: int = -1, sorted: bool = True, idx_dtype: str = "int64",
                 return_values: bool = True, return_indices: bool = True):
        if not isinstance(axis, int | np.integer):
            raise TypeError(f"TopKOp: axis must be an integer, got {axis!r}")
        if idx_dtype not in INTEGER_DTYPES:
            raise TypeError(f"TopKOp: idx_dtype must be an integer dtype, got {idx_dtype!r}")
        if not (return_values or return_indices):
            raise ValueError("TopKOp: neither return_values nor return_indices is set")
        self.axis = int(axis)
        self.sorted = bool(sorted)
        self.idx_dtype = idx_dtype
        self.return_values = bool(return_values)
        self.return_indices = bool(return_indices)

    def __str__(self):
        return f"{type(self).__name__}{{axis={self.axis}, sorted={self.sorted}}}"

    def make_node(self, inp, kth):
        x = as_tensor_variable(inp)
        if x.ndim == 0:
            raise ValueError(f"{self}: cannot take a scalar as input")
        if not -x.ndim <= self.axis < x.ndim:
            raise IndexError(f"{self}: axis {self.axis} is out of range for a {x.ndim}-d tensor")
        kth = as_tensor_variable(kth)
        if kth.ndim != 0 or kth.dtype not in INTEGER_DTYPES:
            raise TypeError(f"{self}: kth must be an integer scalar, got {_describe(kth)}")
        bcast = list(x.broadcastable)
        if known_int(kth) not in (1, -1):
            bcast[self.axis] = False
        outs = []
        if self.return_values:
            outs.append(TensorType(x.dtype, bcast)())
        if self.return_indices:
            outs.append(TensorType(self.idx_dtype, bcast)())
        return Apply(self, [x, kth], outs)

    def perform(self, node, inputs, output_storage, params=None):
        x, k = inputs
        k = int(k)
        axis = self.axis % x.ndim
        n = x.shape[axis]
        if k == 0 or abs(k) > n:
            raise ValueError(f"{self}: kth must be in [-{n}, {n}] and non-zero for an axis "
                             f"of size {n}, got {k}")
        if self.sorted:
            order = np.argsort(x, axis=axis, kind="stable")
            idx = np.flip(order, axis)[(slice(None),) * axis + (slice(0, k),)] if k > 0 else \
                order[(slice(None),) * axis + (slice(0, -k),)]
        else:
            part = np.argpartition(x, -k if k > 0 else -k - 1, axis=axis)
            idx = part[(slice(None),) * axis + ((slice(-k, None),) if k > 0 else
                                                 (slice(0, -k),))]
        outs = []
        if self.return_values:
            outs.append(np.take_along_axis(x, idx, axis))
        if self.return_indices:
            outs.append(idx.astype(self.idx_dtype))
        for cell, value in zip(output_storage, outs):
            cell[0] = value

    def infer_shape(self, node, input_shapes):
        shp = list(input_shapes[0])
        k = node.inputs[1]
        kv = known_int(k)
        shp[self.axis] = abs(kv) if kv is not None else as_int64(abs(k))
        return [tuple(shp)] * len(node.outputs)

    def L_op(self, inputs, outputs, output_grads):
        x, k = inputs
        k_grad = grad_undefined(self, 1, k, "topk: k is not differentiable")
        if not (self.return_values and self.return_indices):
            return [grad_undefined(self, 0, x, "topk's gradient needs both its values and "
                                   "indices outputs"), k_grad]
        g = output_grads[0]
        axis = self.axis % x.ndim
        gx = inc_subtensor(
            zeros_like(x, dtype=g.dtype)[_grid_index(x, axis, outputs[-1])], g)
        return [gx, k_grad]


def _topk(x, kth, axis, sorted, idx_dtype, values: bool, indices: bool):
    x = as_tensor_variable(x)
    if axis is None:
        x = x.flatten()
        axis = 0
    return TopKOp(axis=axis, sorted=sorted, idx_dtype=idx_dtype, return_values=values,
                  return_indices=indices)(x, kth)


def topk(x, kth, axis: int | None = -1, sorted: bool = True, idx_dtype: str = "int64"):
    """The kth largest elements along axis (|kth| smallest when kth < 0); None flattens."""
    return _topk(x, kth, axis, sorted, idx_dtype, True, False)


def argtopk(x, kth, axis: int | None = -1, sorted: bool = True, idx_dtype: str = "int64"):
    """The indices of :func:`topk`'s elements."""
    return _topk(x, kth, axis, sorted, idx_dtype, False, True)


def topk_and_argtopk(x, kth, axis: int | None = -1, sorted: bool = True,
                     idx_dtype: str = "int64"):
    """(:func:`topk`, :func:`argtopk`) from one op."""
    return tuple(_topk(x, kth, axis, sorted, idx_dtype, True, True))


__all__ = [
    "ArgSortOp",
    "SortOp",
    "TopKOp",
    "argsort",
    "argtopk",
    "sort",
    "topk",
    "topk_and_argtopk",
]

"""Diagonals: extracting (ExtractDiag), building (AllocDiag) and filling (FillDiagonal).

``diagonal``, ``diag`` and ``trace`` follow NumPy's conventions for ``offset``, ``axis1``
and ``axis2``: the extracted axis is appended last and the element ``i`` of a diagonal is
``x[..., i + max(0, -offset), ..., i + max(0, offset), ...]`` with the first index along
``axis1``. AllocDiag is the exact inverse, so each op's gradient is the other.
"""

from __future__ import annotations

import numpy as np

from tgraph.gradient_ops import grad_undefined
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.scalar.type import upcast
from tgraph.tensor import math as tm
from tgraph.tensor.alloc import arange, zeros_like
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.indexing import INTEGER_DTYPES, _describe, maybe_maximum, maybe_minimum
from tgraph.tensor.subtensor import set_subtensor
from tgraph.tensor.type import TensorType


def _two_axes(op, ndim: int, axis1: int, axis2: int) -> tuple[int, int]:
    """(axis1, axis2) made non-negative for an ndim-d tensor; they must differ."""
    out = []
    for a in (axis1, axis2):
        if not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a {ndim}-d tensor")
        out.append(a % ndim)
    if out[0] == out[1]:
        raise ValueError(f"{op}: axis1 and axis2 must differ, got {axis1} and {axis2}")
    return out[0], out[1]


def _diag_length(d1, d2, offset: int):
    """The number of elements of the offset diagonal of a (d1, d2) matrix."""
    if offset >= 0:
        return maybe_maximum(maybe_minimum(d2 - offset, d1), 0)
    return maybe_maximum(maybe_minimum(d1 + offset, d2), 0)


class ExtractDiag(Op):
    """The ``offset`` diagonal of x over ``axis1``/``axis2``, appended as the last axis.

    A copy unless ``view`` (then the output is NumPy's read-only view of x).
    """

    __props__ = ("offset", "axis1", "axis2", "view")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1, view: bool = False):
        self.offset = int(offset)
        self.axis1 = int(axis1)
        self.axis2 = int(axis2)
        self.view = bool(view)
        if self.view:
            self.view_map = {0: [0]}

    def make_node(self, x):
        x = as_tensor_variable(x)
        if x.ndim < 2:
            raise ValueError(f"{self}: needs a tensor of 2 or more dimensions, got {_describe(x)}")
        a1, a2 = _two_axes(self, x.ndim, self.axis1, self.axis2)
        bcast = [b for i, b in enumerate(x.broadcastable) if i not in (a1, a2)] + [False]
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        out = inputs[0].diagonal(self.offset, self.axis1, self.axis2)
        output_storage[0][0] = out if self.view else out.copy()

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        a1, a2 = _two_axes(self, x.ndim, self.axis1, self.axis2)
        rest = [i for i in range(x.ndim) if i not in (a1, a2)]
        perm = [*rest, a1, a2]
        base = zeros_like(x, dtype=gz.dtype).dimshuffle(perm)
        k = arange(gz.shape[-1])
        rows, cols = k + max(0, -self.offset), k + max(0, self.offset)
        filled = set_subtensor(base[(*[slice(None)] * len(rest), rows, cols)], gz)
        return [filled.dimshuffle([perm.index(i) for i in range(x.ndim)])]

    def infer_shape(self, node, input_shapes):
        (shp,) = input_shapes
        a1, a2 = _two_axes(self, len(shp), self.axis1, self.axis2)
        out = [d for i, d in enumerate(shp) if i not in (a1, a2)]
        return [(*out, _diag_length(shp[a1], shp[a2], self.offset))]


def diagonal(a, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The ``offset`` diagonal of ``a`` (numpy.diagonal; a copy)."""
    return ExtractDiag(offset, axis1, axis2)(a)


class AllocDiag(Op):
    """A tensor, zero but for x placed on its ``offset`` diagonal over ``axis1``/``axis2``.

    x's last axis becomes the diagonal, of size ``len + |offset|`` in both new axes; its
    other axes stay in order. ``diagonal(AllocDiag(o, a1, a2)(x), o, a1, a2)`` is x.
    """

    __props__ = ("offset", "axis1", "axis2")

    def __init__(self, offset: int = 0, axis1: int = 0, axis2: int = 1):
        self.offset = int(offset)
        self.axis1 = int(axis1)
        self.axis2 = int(axis2)

    def make_node(self, diag):
        diag = as_tensor_variable(diag)
        if diag.ndim < 1:
            raise ValueError(f"{self}: needs a tensor of 1 or more dimensions, got "
                             f"{_describe(diag)}")
        a1, a2 = _two_axes(self, diag.ndim + 1, self.axis1, self.axis2)
        rest = iter(diag.broadcastable[:-1])
        bcast = [False if i in (a1, a2) else next(rest) for i in range(diag.ndim + 1)]
        return Apply(self, [diag], [TensorType(diag.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        (x,) = inputs
        a1, a2 = _two_axes(self, x.ndim + 1, self.axis1, self.axis2)
        n = x.shape[-1] + abs(self.offset)
        out = np.zeros((*x.shape[:-1], n, n), dtype=x.dtype)
        k = np.arange(x.shape[-1])
        out[..., k + max(0, -self.offset), k + max(0, self.offset)] = x
        output_storage[0][0] = np.moveaxis(out, [-2, -1], [a1, a2]).copy()

    def grad(self, inputs, output_grads):
        return [diagonal(output_grads[0], self.offset, self.axis1, self.axis2)]

    def infer_shape(self, node, input_shapes):
        (shp,) = input_shapes
        a1, a2 = _two_axes(self, len(shp) + 1, self.axis1, self.axis2)
        n = shp[-1] + abs(self.offset)
        rest = iter(shp[:-1])
        return [tuple(n if i in (a1, a2) else next(rest) for i in range(len(shp) + 1))]


def diag(v, k: int = 0):
    """numpy.diag: a vector's diagonal matrix, or the diagonal of a matrix (or tensor)."""
    v = as_tensor_variable(v)
    if v.ndim == 1:
        return AllocDiag(k)(v)
    if v.ndim >= 2:
        return diagonal(v, offset=k)
    raise ValueError(f"diag: input must have 1 or more dimensions, got {_describe(v)}")


def trace(x, offset: int = 0, axis1: int = 0, axis2: int = 1):
    """The sum along the diagonal (numpy.trace): a scalar for a matrix."""
    return tm.sum(diagonal(x, offset, axis1, axis2), axis=-1)


class FillDiagonal(Op):
    """A copy of ``a`` whose main diagonal (``a[i, i, ..., i]``) is set to the scalar val.

    A rectangular matrix fills its min(rows, cols) diagonal elements; a higher-dimensional
    tensor must have equal dimensions (numpy.fill_diagonal without wrapping).
    """

    __props__ = ()

    def make_node(self, a, val):
        a = as_tensor_variable(a)
        val = as_tensor_variable(val)
        if a.ndim < 2:
            raise TypeError(f"{self}: first parameter must have at least two dimensions, got "
                            f"{_describe(a)}")
        if val.ndim != 0:
            raise TypeError(f"{self}: second parameter must be a scalar, got {_describe(val)}")
        val = _cast_fill_value(self, a, val)
        return Apply(self, [a, val], [a.type()])

    def perform(self, node, inputs, output_storage, params=None):
        a, val = inputs
        a = a.copy()
        if a.ndim == 2:
            cols = a.shape[1]
            a.flat[:cols * cols:cols + 1] = val
        else:
            if len(set(a.shape)) > 1:
                raise ValueError(f"{self}: all dimensions of a tensor of more than 2 "
                                 f"dimensions must be equal, got shape {a.shape}")
            np.fill_diagonal(a, val)
        output_storage[0][0] = a

    def grad(self, inputs, output_grads):
        a, _val = inputs
        (g,) = output_grads
        if a.dtype.startswith("complex"):
            return [None, None]
        wr_a = fill_diagonal(g, 0)
        if a.ndim == 2:
            wr_val = tm.sum(diagonal(g))
        else:
            k = arange(g.shape[0])
            wr_val = tm.sum(g[(k,) * a.ndim])
        return [wr_a, wr_val]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def _cast_fill_value(op, a, val):
    """val cast to a's dtype, refusing values a cannot hold (Theano's rule)."""
    if upcast(a.dtype, val.dtype) != a.dtype:
        raise TypeError(
            f"{op}: the value ({_describe(val)}) must fit a's dtype {a.dtype} without "
            "upcasting a; cast it first"
        )
    return tm.cast(val, a.dtype)


fill_diagonal_ = FillDiagonal()


def fill_diagonal(a, val):
    """A copy of ``a`` with its main diagonal set to the scalar ``val``."""
    return fill_diagonal_(a, val)


class FillDiagonalOffset(Op):
    """A copy of the matrix ``a`` with its ``offset`` diagonal set to the scalar val.

    Tall matrices are not wrapped (unlike numpy.fill_diagonal(wrap=True)).
    """

    __props__ = ()

    def make_node(self, a, val, offset):
        a = as_tensor_variable(a)
        val = as_tensor_variable(val)
        offset = as_tensor_variable(offset)
        if a.ndim != 2:
            raise TypeError(f"{self}: first parameter must be a matrix, got {_describe(a)}")
        if val.ndim != 0:
            raise TypeError(f"{self}: second parameter must be a scalar, got {_describe(val)}")
        if offset.ndim != 0 or offset.dtype not in INTEGER_DTYPES:
            raise TypeError(f"{self}: offset must be an integer scalar, got "
                            f"{_describe(offset)}")
        val = _cast_fill_value(self, a, val)
        return Apply(self, [a, val, offset], [a.type()])

    def perform(self, node, inputs, output_storage, params=None):
        a, val, offset = inputs
        a = a.copy()
        offset = int(offset)
        height, width = a.shape
        if offset >= 0:
            start, count = offset, min(height, width - offset)
        else:
            start, count = -offset * width, min(width, height + offset)
        if count > 0:
            a.flat[start:start + (width + 1) * count:width + 1] = val
        output_storage[0][0] = a

    def grad(self, inputs, output_grads):
        a, _val, offset = inputs
        (g,) = output_grads
        if a.dtype.startswith("complex"):
            return [None, None, None]
        height, width = g.shape[0], g.shape[1]
        wr_a = fill_diagonal_offset(g, 0, offset)
        pos = tm.ge(offset, 0)
        start = tm.switch(pos, offset, -offset * width)
        count = tm.switch(pos, tm.minimum(height, width - offset),
                          tm.minimum(width, height + offset))
        count = tm.maximum(count, 0)
        step = width + 1
        wr_val = tm.sum(g.flatten()[start:start + step * count:step])
        wr_offset = grad_undefined(self, 2, offset, "fill_diagonal_offset is not "
                                   "differentiable with respect to its integer offset")
        return [wr_a, wr_val, wr_offset]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


fill_diagonal_offset_ = FillDiagonalOffset()


def fill_diagonal_offset(a, val, offset):
    """A copy of the matrix ``a`` with its ``offset`` diagonal set to ``val``."""
    return fill_diagonal_offset_(a, val, offset)


__all__ = [
    "AllocDiag",
    "ExtractDiag",
    "FillDiagonal",
    "FillDiagonalOffset",
    "diag",
    "diagonal",
    "fill_diagonal",
    "fill_diagonal_offset",
    "trace",
]

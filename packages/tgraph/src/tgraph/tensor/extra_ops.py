"""NumPy's array utilities as ops (``theano.tensor.extra_ops``, plus ``nonzero`` & co).

Each op wraps one NumPy function in ``perform`` and gives what the optimizer and the
gradient need: output types, ``infer_shape`` and ``grad``. Where a function is a short
composition of other ops (``diff`` is slicing and subtraction, ``to_one_hot`` a
``set_subtensor``, ``compress`` a ``take`` of ``flatnonzero``), it is written as that
composition so its gradient and shape come for free.

Diagonals (ExtractDiag, AllocDiag, FillDiagonal...) live in :mod:`tgraph.tensor.diag` and
sorting in :mod:`tgraph.tensor.sort`; their functions are re-exported here because Theano
users (and ``TensorVariable.diagonal``/``.sort``) look for them in this module.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph.gradient_ops import DisconnectedType, grad_undefined
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.tensor import math as tm
from tgraph.tensor.advanced_subtensor import advanced_inc_subtensor1, advanced_subtensor1
from tgraph.tensor.alloc import arange, zeros, zeros_like
from tgraph.tensor.basic import (
    NotScalarConstantError,
    as_tensor_variable,
    get_scalar_constant_value,
    get_vector_length,
)
from tgraph.tensor.diag import (
    AllocDiag,
    ExtractDiag,
    FillDiagonal,
    FillDiagonalOffset,
    diag,
    diagonal,
    fill_diagonal,
    fill_diagonal_offset,
    trace,
)
from tgraph.tensor.indexing import INTEGER_DTYPES, _describe
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.sort import ArgSortOp, SortOp, argsort, sort
from tgraph.tensor.subtensor import set_subtensor
from tgraph.tensor.type import TensorType


def _axis(op, axis, ndim: int) -> int:
    """``axis`` as a non-negative int, or a clear error."""
    if not isinstance(axis, int | np.integer) or isinstance(axis, bool):
        raise TypeError(f"{op}: axis must be an integer or None, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for a {ndim}-d tensor")
    return int(axis) % ndim


# ---------------------------------------------------------------------------------------------
# Cumulative sums and products


class CumOp(Op):
    """Cumulative sum (``mode='add'``) or product (``'mul'``) along ``axis`` (None: flat)."""

    __props__ = ("axis", "mode")

    def __init__(self, axis: int | None = None, mode: str = "add"):
        if mode not in ("add", "mul"):
            raise ValueError(f"{type(self).__name__}: unknown mode {mode!r}, expected 'add' "
                             "or 'mul'")
        self.axis = axis
        self.mode = mode

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            return Apply(self, [x], [TensorType(x.dtype, (False,))()])
        _axis(self, self.axis, x.ndim)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        fn = np.cumsum if self.mode == "add" else np.cumprod
        output_storage[0][0] = np.asarray(fn(inputs[0], axis=self.axis),
                                          dtype=node.outputs[0].dtype)

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (g,) = output_grads
        axis = 0 if self.axis is None else self.axis % x.ndim
        if self.mode == "mul":
            # d/dx_i of prod_{j<=k} x_j is out_k / x_i: undefined where x_i == 0, as in Theano.
            g = cumprod(x, self.axis) * g
        rev = [slice(None)] * (1 if self.axis is None else x.ndim)
        rev[axis] = slice(None, None, -1)
        rev = tuple(rev)
        gx = CumOp(axis, "add")(g[rev])[rev]
        if self.axis is None:
            gx = gx.reshape(x.shape, x.ndim)
        if self.mode == "mul":
            gx = gx / x
        return [gx]

    def infer_shape(self, node, input_shapes):
        if self.axis is None:
            return [(_product(input_shapes[0]),)]
        return [input_shapes[0]]

    def __str__(self):
        return f"{type(self).__name__}{{{self.axis}, {self.mode}}}"


def cumsum(x, axis: int | None = None):
    """The cumulative sum along ``axis`` (numpy.cumsum; None: of the flattened x)."""
    return CumOp(axis=axis, mode="add")(x)


def cumprod(x, axis: int | None = None):
    """The cumulative product along ``axis`` (numpy.cumprod; None: of the flattened x)."""
    return CumOp(axis=axis, mode="mul")(x)


def diff(x, n: int = 1, axis: int = -1):
    """The n-th discrete difference along ``axis`` (numpy.diff), as slices and subtraction.

    Theano 1.0 had a DiffOp whose gradient worked for vectors only; the composition here
    differentiates for any number of dimensions.
    """
    x = as_tensor_variable(x)
    if not isinstance(n, int | np.integer) or n < 0:
        raise ValueError(f"diff: n must be a non-negative integer, got {n!r}")
    axis = _axis("diff", axis, x.ndim)
    head = [slice(None)] * x.ndim
    tail = [slice(None)] * x.ndim
    head[axis] = slice(1, None)
    tail[axis] = slice(None, -1)
    for _ in range(int(n)):
        x = x[tuple(head)] - x[tuple(tail)]
    return x


# ---------------------------------------------------------------------------------------------
# Searching


class SearchsortedOp(Op):
    """numpy.searchsorted: where each element of v would be inserted in the sorted vector x
    (int64, shaped like v); ``sorter`` optionally gives the argsort of an unsorted x."""

    __props__ = ("side",)

    def __init__(self, side: str = "left"):
        if side not in ("left", "right"):
            raise ValueError(f"SearchsortedOp: side must be 'left' or 'right', got {side!r}")
        self.side = side

    def make_node(self, x, v, sorter=None):
        x = as_tensor_variable(x)
        v = as_tensor_variable(v)
        if x.ndim != 1:
            raise TypeError(f"{self}: x must be a vector, got {_describe(x)}")
        ins = [x, v]
        if sorter is not None:
            sorter = as_tensor_variable(sorter)
            if sorter.ndim != 1 or sorter.dtype not in INTEGER_DTYPES:
                raise TypeError(f"{self}: sorter must be an integer vector, got "
                                f"{_describe(sorter)}")
            ins.append(sorter)
        return Apply(self, ins, [TensorType("int64", v.broadcastable)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, v = inputs[:2]
        sorter = inputs[2] if len(inputs) > 2 else None
        out = np.searchsorted(x, v, side=self.side, sorter=sorter)
        output_storage[0][0] = np.asarray(out, dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def connection_pattern(self, node):
        return [[True], [True]] + [[False]] * (len(node.inputs) - 2)

    def grad(self, inputs, output_grads):
        out = [grad_undefined(self, 0, inputs[0], "searchsorted is piecewise constant"),
               grad_undefined(self, 1, inputs[1], "searchsorted is piecewise constant")]
        return out + [DisconnectedType()() for _ in inputs[2:]]


def searchsorted(x, v, side: str = "left", sorter=None):
    """Indices where the elements of v would be inserted into the sorted vector x."""
    return SearchsortedOp(side=side)(x, v, sorter)


# ---------------------------------------------------------------------------------------------
# Counting, squeezing, selecting


class BinCountOp(Op):
    """numpy.bincount: counts (or summed weights) of each non-negative integer of x.

    Counts have x's dtype and weighted sums the weights' dtype (Theano 1.0's rule). A
    negative value is an error at run time, naming the op.
    """

    __props__ = ()

    def make_node(self, x, weights, minlength):
        x = as_tensor_variable(x)
        if x.ndim != 1 or x.dtype not in INTEGER_DTYPES:
            raise TypeError(f"bincount: x must be an integer vector, got {_describe(x)}")
        dtype = x.dtype
        if weights is not None:
            weights = as_tensor_variable(weights)
            if weights.ndim != 1:
                raise TypeError(f"bincount: weights must be a vector, got {_describe(weights)}")
            dtype = weights.dtype
        minlength = as_tensor_variable(0 if minlength is None else minlength)
        if minlength.ndim != 0 or minlength.dtype not in INTEGER_DTYPES:
            raise TypeError(f"bincount: minlength must be an integer, got {_describe(minlength)}")
        ins = [x, minlength] + ([weights] if weights is not None else [])
        return Apply(self, ins, [TensorType(dtype, (False,))()])

    def perform(self, node, inputs, output_storage, params=None):
        x, minlength = inputs[:2]
        weights = inputs[2] if len(inputs) > 2 else None
        if x.size and x.min() < 0:
            raise ValueError(f"bincount: x has negative values (min {x.min()})")
        out = np.bincount(x, weights=weights, minlength=int(minlength))
        output_storage[0][0] = out.astype(node.outputs[0].dtype)

    def connection_pattern(self, node):
        return [[False], [False]] + [[True]] * (len(node.inputs) - 2)

    def grad(self, inputs, output_grads):
        (g,) = output_grads
        out = [DisconnectedType()(), DisconnectedType()()]
        if len(inputs) > 2:
            out.append(advanced_subtensor1(g, inputs[0]))
        return out


def bincount(x, weights=None, minlength=None, assert_nonneg: bool = False):
    """How often each value 0..max(x) occurs in the integer vector x (numpy.bincount).

    With ``weights``, sums the weights instead of counting. ``minlength`` pads the result.
    Negative values always raise at run time (``assert_nonneg`` is accepted for Theano 1.0
    compatibility; the check it asked for is always made).
    """
    return BinCountOp()(x, weights, minlength)


def squeeze(x, axis: int | Sequence[int] | None = None):
    """x without its broadcastable (size-1) dimensions: a view (Theano 1.0's ``squeeze``).

    ``axis`` restricts it to those dimensions, which must be broadcastable.
    """
    x = as_tensor_variable(x)
    if axis is None:
        drop = [i for i, b in enumerate(x.broadcastable) if b]
    else:
        axes = [axis] if isinstance(axis, int | np.integer) else list(axis)
        drop = [_axis("squeeze", a, x.ndim) for a in axes]
        for a in drop:
            if not x.broadcastable[a]:
                raise ValueError(
                    f"squeeze: dimension {a} of {_describe(x)} is not broadcastable "
                    f"(pattern {x.broadcastable}); only size-1 dimensions can be removed"
                )
    return x.dimshuffle([i for i in range(x.ndim) if i not in drop])


def compress(condition, x, axis: int | None = None):
    """The slices of x along ``axis`` where ``condition`` is true (numpy.compress)."""
    condition = as_tensor_variable(condition)
    return as_tensor_variable(x).take(flatnonzero(condition), axis=axis)


# ---------------------------------------------------------------------------------------------
# Repeat


class RepeatOp(Op):
    """numpy.repeat: each element (along ``axis``; None: flattened) repeated ``repeats``
    times; ``repeats`` is an integer scalar or one count per element."""

    __props__ = ("axis",)

    def __init__(self, axis: int | None = None):
        self.axis = axis

    def make_node(self, x, repeats):
        x = as_tensor_variable(x)
        repeats = as_tensor_variable(repeats)
        if repeats.dtype not in INTEGER_DTYPES or repeats.dtype == "uint64":
            raise TypeError(f"{self}: repeats must be integers (not uint64), got "
                            f"{_describe(repeats)}")
        if repeats.ndim > 1:
            raise ValueError(f"{self}: repeats must be a scalar or a vector, got "
                             f"{_describe(repeats)}")
        if self.axis is None:
            bcast = [False]
        else:
            axis = _axis(self, self.axis, x.ndim)
            bcast = list(x.broadcastable)
            if _known(repeats) != 1:
                bcast[axis] = False
        return Apply(self, [x, repeats], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, repeats = inputs
        try:
            output_storage[0][0] = np.repeat(x, repeats, axis=self.axis)
        except ValueError as exc:
            raise ValueError(f"{self}: {exc} (x shape {x.shape}, repeats shape "
                             f"{np.shape(repeats)})") from None

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        x, repeats = inputs
        (g,) = output_grads
        flat = self.axis is None
        n = x.size if flat else x.shape[self.axis % x.ndim]
        # Which input element each output element copies: sum the gradient back onto it.
        source = RepeatOp(0)(arange(n), repeats)
        if flat:
            gx = advanced_inc_subtensor1(zeros((n,), dtype=g.dtype), g, source)
            return [gx.reshape(x.shape, x.ndim), DisconnectedType()()]
        axis = self.axis % x.ndim
        swap = list(range(x.ndim))
        swap[0], swap[axis] = axis, 0
        base = zeros_like(x, dtype=g.dtype).dimshuffle(swap)
        gx = advanced_inc_subtensor1(base, g.dimshuffle(swap), source).dimshuffle(swap)
        return [patternbroadcast(gx, x.broadcastable), DisconnectedType()()]

    def infer_shape(self, node, input_shapes):
        xshp = list(input_shapes[0])
        repeats = node.inputs[1]
        total = (tm.sum(repeats, dtype="int64") if repeats.ndim == 1 else None)
        if self.axis is None:
            return [(total if total is not None else _product(xshp) * repeats,)]
        axis = self.axis % len(xshp)
        xshp[axis] = total if total is not None else xshp[axis] * repeats
        return [tuple(xshp)]


def _product(dims):
    return functools.reduce(operator.mul, dims, 1)


def _known(v) -> Any:
    try:
        return int(get_scalar_constant_value(v))
    except NotScalarConstantError:
        return None


def repeat(x, repeats, axis: int | None = None):
    """Repeat the elements of x (numpy.repeat); ``axis=None`` repeats the flattened x.

    Theano 1.0 built scalar repeats from alloc and reshape; one RepeatOp serves every case
    here (its gradient sums the copies back onto the element each one came from).
    """
    x = as_tensor_variable(x)
    repeats = as_tensor_variable(repeats)
    if repeats.ndim > 1:
        raise ValueError("repeat: the dimension of repeats should not exceed 1")
    if axis is not None:
        axis = _axis("repeat", axis, x.ndim)
    if repeats.ndim == 1 and repeats.broadcastable[0]:
        repeats = repeats[0]
    return RepeatOp(axis=axis)(x, repeats)


# ---------------------------------------------------------------------------------------------
# One-hot, unique, flat <-> multi indices


def to_one_hot(y, nb_class, dtype=None):
    """A (len(y), nb_class) matrix whose row i is the one-hot encoding of y[i] (floatX)."""
    y = as_tensor_variable(y)
    ret = zeros((y.shape[0], nb_class), dtype=dtype)
    return set_subtensor(ret[arange(y.shape[0]), y], 1)


class Unique(Op):
    """numpy.unique: sorted unique values, optionally first indices, inverse and counts."""

    __props__ = ("return_index", "return_inverse", "return_counts", "axis")

    def __init__(self, return_index: bool = False, return_inverse: bool = False,
                 return_counts: bool = False, axis: int | None = None):
        self.return_index = bool(return_index)
        self.return_inverse = bool(return_inverse)
        self.return_counts = bool(return_counts)
        self.axis = axis

    def make_node(self, x):
        x = as_tensor_variable(x)
        if self.axis is None:
            bcast = [False]
        else:
            axis = _axis(self, self.axis, x.ndim)
            bcast = [b and i != axis for i, b in enumerate(x.broadcastable)]
        outs = [TensorType(x.dtype, bcast)()]
        n_extra = self.return_index + self.return_inverse + self.return_counts
        outs += [TensorType("int64", (False,))() for _ in range(n_extra)]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage, params=None):
        (x,) = inputs
        res = np.unique(x, return_index=self.return_index, return_inverse=self.return_inverse,
                        return_counts=self.return_counts, axis=self.axis)
        res = res if isinstance(res, tuple) else (res,)
        output_storage[0][0] = np.asarray(res[0])
        for cell, value in zip(output_storage[1:], res[1:]):
            # NumPy 2.0 shaped the inverse like x; Theano's is always a vector.
            cell[0] = np.asarray(value, dtype="int64").reshape(-1)

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, 0, inputs[0], "unique is not differentiable")]


class UnravelIndex(Op):
    """numpy.unravel_index: flat indices to one int64 index array per dimension."""

    __props__ = ("ndim", "order")

    def __init__(self, ndim: int, order: str = "C"):
        if order not in ("C", "F"):
            raise ValueError(f"UnravelIndex: order must be 'C' or 'F', got {order!r}")
        if not isinstance(ndim, int) or ndim < 1:
            raise ValueError(f"UnravelIndex: ndim must be a positive integer, got {ndim!r}")
        self.ndim = ndim
        self.order = order

    def make_node(self, indices, dims):
        indices = as_tensor_variable(indices)
        dims = as_tensor_variable(dims)
        _check_int(self, "indices", indices)
        _check_int(self, "dims", dims)
        if dims.ndim != 1:
            raise TypeError(f"{self}: dims must be a vector, got {_describe(dims)}")
        return Apply(self, [indices, dims],
                     [TensorType("int64", (False,) * indices.ndim)() for _ in range(self.ndim)])

    def perform(self, node, inputs, output_storage, params=None):
        indices, dims = inputs
        if len(dims) != self.ndim:
            raise ValueError(f"{self}: dims has {len(dims)} entries, expected {self.ndim}")
        res = np.unravel_index(indices, tuple(int(d) for d in dims), order=self.order)
        for cell, value in zip(output_storage, res):
            cell[0] = np.array(value, dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]] * self.ndim


def _check_int(op, what: str, v) -> None:
    if v.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{op}: {what} must be integers, got {_describe(v)}")


def unravel_index(indices, dims, order: str = "C", ndim: int | None = None) -> tuple:
    """numpy.unravel_index; ``ndim`` (the length of dims) is needed when the graph does not
    determine it."""
    if ndim is None:
        try:
            ndim = get_vector_length(dims)
        except ValueError as exc:
            raise ValueError(
                f"unravel_index: the length of dims ({dims}) is not known from the graph; "
                "pass ndim= to say how many index arrays to return"
            ) from exc
    res = UnravelIndex(ndim=ndim, order=order)(indices, dims, return_list=True)
    return tuple(res)


class RavelMultiIndex(Op):
    """numpy.ravel_multi_index: one index array per dimension to flat int64 indices."""

    __props__ = ("mode", "order")

    def __init__(self, mode: str = "raise", order: str = "C"):
        if mode not in ("raise", "wrap", "clip"):
            raise ValueError(f"RavelMultiIndex: mode must be raise/wrap/clip, got {mode!r}")
        if order not in ("C", "F"):
            raise ValueError(f"RavelMultiIndex: order must be 'C' or 'F', got {order!r}")
        self.mode = mode
        self.order = order

    def make_node(self, *inputs):
        if len(inputs) < 2:
            raise TypeError(f"{self}: expected index arrays followed by dims")
        index = [as_tensor_variable(i) for i in inputs[:-1]]
        dims = as_tensor_variable(inputs[-1])
        for i in index:
            _check_int(self, "multi_index", i)
        _check_int(self, "dims", dims)
        if dims.ndim != 1:
            raise TypeError(f"{self}: dims must be a vector, got {_describe(dims)}")
        return Apply(self, [*index, dims], [TensorType("int64", (False,) * index[0].ndim)()])

    def perform(self, node, inputs, output_storage, params=None):
        index, dims = inputs[:-1], inputs[-1]
        res = np.ravel_multi_index(tuple(index), tuple(int(d) for d in dims), mode=self.mode,
                                   order=self.order)
        output_storage[0][0] = np.asarray(res, dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


def ravel_multi_index(multi_index, dims, mode: str = "raise", order: str = "C"):
    """numpy.ravel_multi_index for a tuple/list of symbolic index arrays."""
    if not isinstance(multi_index, tuple | list):
        raise TypeError("ravel_multi_index: multi_index must be a tuple or a list")
    return RavelMultiIndex(mode=mode, order=order)(*multi_index, dims)


# ---------------------------------------------------------------------------------------------
# Non-zero elements


class Nonzero(Op):
    """The indices of the non-zero elements as an int64 matrix (ndim, count).

    Row i holds the index along dimension i of each non-zero element (numpy.nonzero
    stacked); :func:`nonzero` splits it into NumPy's tuple.
    """

    __props__ = ()

    def make_node(self, a):
        a = as_tensor_variable(a)
        if a.ndim == 0:
            raise ValueError(f"Nonzero only supports non-scalar arrays, got {_describe(a)}")
        return Apply(self, [a], [TensorType("int64", (False, False))()])

    def perform(self, node, inputs, output_storage, params=None):
        (a,) = inputs
        output_storage[0][0] = np.array(np.nonzero(a), dtype="int64").reshape(a.ndim, -1)

    def infer_shape(self, node, input_shapes):
        a = node.inputs[0]
        return [(a.ndim, tm.sum(tm.neq(a, 0), dtype="int64"))]

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, 0, inputs[0])]


_nonzero = Nonzero()


def nonzero(a, return_matrix: bool = False):
    """The indices of a's non-zero elements: NumPy's tuple of vectors, or the
    (ndim, count) matrix with ``return_matrix``."""
    a = as_tensor_variable(a)
    matrix = _nonzero(a)
    if return_matrix:
        return matrix
    return tuple(matrix[i] for i in range(a.ndim))


def flatnonzero(a):
    """The indices of the non-zero elements of the flattened a (numpy.flatnonzero)."""
    a = as_tensor_variable(a)
    if a.ndim == 0:
        raise ValueError("Nonzero only supports non-scalar arrays")
    return nonzero(a.flatten(), return_matrix=True)[0]


def nonzero_values(a):
    """The non-zero elements of a, flattened (``a[numpy.nonzero(a)]``)."""
    a = as_tensor_variable(a)
    return a.flatten()[flatnonzero(a)]


__all__ = [
    "AllocDiag",
    "ArgSortOp",
    "BinCountOp",
    "CumOp",
    "ExtractDiag",
    "FillDiagonal",
    "FillDiagonalOffset",
    "Nonzero",
    "RavelMultiIndex",
    "RepeatOp",
    "SearchsortedOp",
    "SortOp",
    "Unique",
    "UnravelIndex",
    "argsort",
    "bincount",
    "compress",
    "cumprod",
    "cumsum",
    "diag",
    "diagonal",
    "diff",
    "fill_diagonal",
    "fill_diagonal_offset",
    "flatnonzero",
    "nonzero",
    "nonzero_values",
    "ravel_multi_index",
    "repeat",
    "searchsorted",
    "sort",
    "squeeze",
    "to_one_hot",
    "trace",
    "unravel_index",
]

"""Dot products: Dot (vectors and matrices), dot, tensordot, outer, BatchedDot and friends.

``Dot`` handles the four vector/matrix combinations; ``dot`` of higher ranks goes through
``tensordot``, which transposes and reshapes both operands to matrices, multiplies them with
Dot and reshapes the result (Theano 1.0's formulation: gradients come for free from Reshape,
DimShuffle and Dot). ``BatchedDot`` multiplies matching slices of two stacks of vectors or
matrices. The output dtype is the upcast of the inputs' (float32 · float32 → float32). BLAS
specializations (Dot22, Gemm, Gemv) are rewrites of the optimizer, not ops of this module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.scalar.type import upcast
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.batched_c import (
    BATCHED_C_VERSION,
    BATCHED_INIT,
    BATCHED_SUPPORT,
    batched_dot_c_code,
)
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.shape import (
    _as_int,
    _describe,
    dim,
    flatten,
    known_dim,
    prod_entries,
    reshape,
)
from tgraph.tensor.type import TensorType


def _check_static_alignment(where: str, x, xdim: int, y, ydim: int) -> None:
    """Refuse at build time inner dimensions that the graph already shows to differ."""
    nx, ny = known_dim(x, xdim), known_dim(y, ydim)
    if nx is not None and ny is not None and nx != ny:
        raise ValueError(
            f"{where}: inner dimensions do not match: dimension {xdim} of input 0 "
            f"({_describe(x)}) has size {nx}, dimension {ydim} of input 1 ({_describe(y)}) "
            f"has size {ny}"
        )


class Dot(Op):
    """The dot product of vectors and/or matrices (numpy.dot for 1-d and 2-d operands).

    vector·vector → scalar, matrix·vector → vector, vector·matrix → vector,
    matrix·matrix → matrix. Use :func:`dot` for other ranks.
    """

    __props__ = ()

    def make_node(self, *inputs):
        if len(inputs) != 2:
            raise TypeError(f"dot: 2 arguments required, {len(inputs)} given")
        x, y = (as_tensor_variable(i) for i in inputs)
        for k, v in enumerate((x, y)):
            if v.ndim not in (1, 2):
                raise TypeError(
                    f"dot: input {k} must have 1 or 2 dimensions, got {_describe(v)}; use "
                    "tgraph.tensor.dot.dot (theano.tensor.dot) for other ranks"
                )
        _check_static_alignment("dot", x, x.ndim - 1, y, 0)
        bz = x.type.broadcastable[:-1] + y.type.broadcastable[1:]
        return Apply(self, [x, y], [TensorType(upcast(x.dtype, y.dtype), bz)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, y = inputs
        if x.shape[-1] != y.shape[0]:
            raise ValueError(
                f"dot: shapes {x.shape} and {y.shape} are not aligned: dimension "
                f"{x.ndim - 1} of input 0 has size {x.shape[-1]}, dimension 0 of input 1 "
                f"has size {y.shape[0]}"
            )
        out_dtype = node.outputs[0].type.dtype
        output_storage[0][0] = np.asarray(np.dot(x, y)).astype(out_dtype, copy=False)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if gz.ndim == 0:  # vector · vector
            xgrad = gz * y
            ygrad = gz * x
        elif x.ndim == 1 and y.ndim == 2:
            xgrad = dot(gz, y.T)
            ygrad = outer(x, gz)
        elif x.ndim == 2 and y.ndim == 1:
            xgrad = outer(gz, y)
            ygrad = dot(x.T, gz)
        else:
            xgrad = dot(gz, y.T)
            ygrad = dot(x.T, gz)
        # An input may declare a dimension broadcastable that the other does not know of.
        return [patternbroadcast(xgrad, x.type.broadcastable),
                patternbroadcast(ygrad, y.type.broadcastable)]

    def R_op(self, inputs, eval_points):
        return _bilinear_r_op(self, inputs, eval_points)

    def infer_shape(self, node, input_shapes):
        xshp, yshp = input_shapes
        return [tuple(xshp[:-1]) + tuple(yshp[1:])]

    def __str__(self):
        return "dot"


def _bilinear_r_op(op, inputs, eval_points):
    """R_op of a product bilinear in its two inputs: op(dx, y) + op(x, dy)."""
    ex, ey = eval_points
    if ex is None and ey is None:
        return [None]
    terms = []
    if ex is not None:
        terms.append(op(ex, inputs[1]))
    if ey is not None:
        terms.append(op(inputs[0], ey))
    return [terms[0] + terms[1] if len(terms) == 2 else terms[0]]


_dot = Dot()


def dot(a, b):
    """The dot product of ``a`` and ``b`` for any ranks (numpy.dot semantics).

    With a scalar operand it is the elementwise product; 1-d and 2-d operands use Dot; higher
    ranks sum over the last axis of ``a`` and the second-to-last of ``b`` through tensordot.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if a.ndim > 2 or b.ndim > 2:
        return tensordot(a, b, [[a.ndim - 1], [max(0, b.ndim - 2)]])
    return _dot(a, b)


def outer(x, y):
    """The outer product of two vectors (other ranks are flattened first)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.ndim != 1:
        x = flatten(x)
    if y.ndim != 1:
        y = flatten(y)
    return dot(x.dimshuffle(0, "x"), y.dimshuffle("x", 0))


# ---------------------------------------------------------------------------------------------
# tensordot


def _axes_list(ax: Any, operand: str, ndim: int) -> list[int]:
    """One side of tensordot's axes as a list of non-negative ints."""
    if _as_int(ax) is not None:
        items = [ax]
    else:
        items = list(np.asarray(ax).reshape(-1)) if not isinstance(ax, list | tuple) else ax
    out = []
    for a in items:
        as_int = _as_int(a)
        if as_int is None:
            raise TypeError(f"tensordot: axes of {operand} must be integers, got {a!r}")
        if not -ndim <= as_int < ndim:
            raise ValueError(
                f"tensordot: axis {as_int} is out of range for {operand} with {ndim} "
                "dimensions"
            )
        out.append(as_int + ndim if as_int < 0 else as_int)
    if len(set(out)) != len(out):
        raise ValueError(f"tensordot: repeated axis in {out} for {operand}")
    return out


def _tensordot_as_dot(a, b, axes: Any, dot_fn, batched: bool):
    """Reduce a (batched) tensordot to one product of (stacks of) matrices.

    With ``batched``, axis 0 of both operands is a batch axis kept in the output.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    batch = 1 if batched else 0
    n = _as_int(axes)
    if n is None:
        if not isinstance(axes, list | tuple | np.ndarray) or len(axes) != 2:
            raise ValueError(
                f"tensordot: axes must be an integer or a pair of axis lists, got {axes!r}"
            )
        axes_a = _axes_list(axes[0], "a", a.ndim)
        axes_b = _axes_list(axes[1], "b", b.ndim)
        if len(axes_a) != len(axes_b):
            raise ValueError(
                f"tensordot: the axis lists {axes_a} and {axes_b} have different lengths"
            )
        if batched and (0 in axes_a or 0 in axes_b):
            raise ValueError(
                f"batched_tensordot: the axes to sum over ({axes_a}, {axes_b}) must not "
                "include the batch axis 0"
            )
        for xa, xb in zip(axes_a, axes_b):
            _check_static_alignment("tensordot", a, xa, b, xb)
        lead = [0] if batched else []
        other_a = [i for i in range(batch, a.ndim) if i not in axes_a]
        other_b = [i for i in range(batch, b.ndim) if i not in axes_b]
        a = a.dimshuffle(*lead, *other_a, *axes_a)
        b = b.dimshuffle(*lead, *axes_b, *other_b)
        n = len(axes_a)
    where = "batched_tensordot" if batched else "tensordot"
    for name, operand in (("a", a), ("b", b)):
        if n < 0 or n > operand.ndim - batch:
            raise ValueError(
                f"{where}: cannot sum over {n} axes of {name} ({_describe(operand)})"
                + ("; the batch axis is not summed" if batched else "")
            )
    a_out = list(range(0, a.ndim - n))
    b_out = list(range(batch + n, b.ndim))
    out_shape = [dim(a, i) for i in a_out] + [dim(b, i) for i in b_out]
    out_bcast = [a.type.broadcastable[i] for i in a_out] + [b.type.broadcastable[i]
                                                           for i in b_out]
    a_rows = prod_entries([dim(a, i) for i in range(batch, a.ndim - n)])
    summed = prod_entries([dim(a, i) for i in range(a.ndim - n, a.ndim)])
    b_cols = prod_entries([dim(b, i) for i in range(batch + n, b.ndim)])
    b_summed = prod_entries([dim(b, i) for i in range(batch, batch + n)])
    a_shape = [a_rows, summed]
    b_shape = [b_summed, b_cols]
    if batched:
        a_shape.insert(0, dim(a, 0))
        b_shape.insert(0, dim(b, 0))
    out = dot_fn(reshape(a, a_shape, ndim=len(a_shape)), reshape(b, b_shape, ndim=len(b_shape)))
    out = reshape(out, out_shape, ndim=len(out_shape))
    return patternbroadcast(out, out_bcast)


def tensordot(a, b, axes: Any = 2):
    """Sum products over the given axes (numpy.tensordot).

    ``axes`` is an int n (the last n axes of ``a`` with the first n of ``b``) or a pair of
    axis lists (negative axes allowed). The result has ``a``'s remaining axes then ``b``'s.
    """
    return _tensordot_as_dot(a, b, axes, dot, batched=False)


# ---------------------------------------------------------------------------------------------
# BatchedDot


class BatchedDot(Op):
    """``out[i] = dot(x[i], y[i])`` for stacks (axis 0) of vectors or matrices.

    Inputs have 2 or 3 dimensions; both are cast to their upcast dtype. Batch sizes and inner
    dimensions are checked at run time, naming both shapes.
    """

    __props__ = ()

    def make_node(self, *inputs):
        if len(inputs) != 2:
            raise TypeError(f"BatchedDot: 2 arguments required, {len(inputs)} given")
        x, y = (as_tensor_variable(i) for i in inputs)
        for k, v in enumerate((x, y)):
            if v.ndim not in (2, 3):
                raise TypeError(
                    f"BatchedDot: input {k} must have 2 or 3 dimensions, got {_describe(v)}; "
                    "use batched_dot for other ranks"
                )
        _check_static_alignment("BatchedDot", x, 0, y, 0)
        _check_static_alignment("BatchedDot", x, x.ndim - 1, y, 1)
        dtype = upcast(x.dtype, y.dtype)
        x = x if x.dtype == dtype else x.astype(dtype)
        y = y if y.dtype == dtype else y.astype(dtype)
        bx, by = x.type.broadcastable, y.type.broadcastable
        bcast = (bx[0] or by[0], *bx[1:-1], *by[2:])
        return Apply(self, [x, y], [TensorType(dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, y = inputs
        if x.shape[0] != y.shape[0] or x.shape[-1] != y.shape[1]:
            raise ValueError(
                f"BatchedDot: shapes {x.shape} and {y.shape} do not match: the batch sizes "
                "(dimension 0) must be equal, and the last dimension of input 0 must equal "
                "dimension 1 of input 1"
            )
        if x.ndim == 3 and y.ndim == 3:
            out = np.matmul(x, y)
        else:
            spec = {(2, 2): "bi,bi->b", (2, 3): "bi,bij->bj", (3, 2): "bij,bj->bi"}
            out = np.einsum(spec[(x.ndim, y.ndim)], x, y)
        output_storage[0][0] = np.asarray(out).astype(node.outputs[0].type.dtype, copy=False)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if gz.ndim == 1:  # stacks of vectors
            xgrad = gz.dimshuffle(0, "x") * y
            ygrad = gz.dimshuffle(0, "x") * x
        elif x.ndim == 2:  # vectors · matrices
            xgrad = batched_dot(gz, y.dimshuffle(0, 2, 1))
            ygrad = x.dimshuffle(0, 1, "x") * gz.dimshuffle(0, "x", 1)
        elif y.ndim == 2:  # matrices · vectors
            xgrad = gz.dimshuffle(0, 1, "x") * y.dimshuffle(0, "x", 1)
            ygrad = batched_dot(x.dimshuffle(0, 2, 1), gz)
        else:
            xgrad = batched_dot(gz, y.dimshuffle(0, 2, 1))
            ygrad = batched_dot(x.dimshuffle(0, 2, 1), gz)
        return [patternbroadcast(xgrad, x.type.broadcastable),
                patternbroadcast(ygrad, y.type.broadcastable)]

    def R_op(self, inputs, eval_points):
        return _bilinear_r_op(self, inputs, eval_points)

    def infer_shape(self, node, input_shapes):
        xshp, yshp = input_shapes
        return [tuple(xshp[:-1]) + tuple(yshp[2:])]

    # -- C (text only; see batched_c): one BLAS gemm per batch item ------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return batched_dot_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return BATCHED_SUPPORT

    def c_init_code(self, **kwargs):
        return [BATCHED_INIT]

    def c_code_cache_version(self):
        return BATCHED_C_VERSION


_batched_dot = BatchedDot()


def batched_dot(a, b):
    """``batched_dot(a, b)[i] = dot(a[i], b[i])`` along the batch axis 0.

    A vector operand is a stack of scalars (elementwise product); operands of 2 or 3
    dimensions use BatchedDot; more dimensions go through batched_tensordot.
    """
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    if a.ndim == 0 or b.ndim == 0:
        which = "a" if a.ndim == 0 else "b"
        raise TypeError(f"batched_dot: {which} must have at least one (batch) axis")
    if a.ndim == 1:
        return a.dimshuffle(0, *["x"] * (b.ndim - 1)) * b
    if b.ndim == 1:
        return a * b.dimshuffle(0, *["x"] * (a.ndim - 1))
    if a.ndim > 3 or b.ndim > 3:
        return batched_tensordot(a, b, [[a.ndim - 1], [max(1, b.ndim - 2)]])
    return _batched_dot(a, b)


def batched_tensordot(x, y, axes: Any = 2):
    """tensordot of matching slices along the batch axis 0 (axes exclude the batch axis).

    An int n sums the last n axes of ``x`` with axes 1..n of ``y``.
    """
    return _tensordot_as_dot(x, y, axes, batched_dot, batched=True)


__all__ = [
    "BatchedDot",
    "Dot",
    "batched_dot",
    "batched_tensordot",
    "dot",
    "outer",
    "tensordot",
]

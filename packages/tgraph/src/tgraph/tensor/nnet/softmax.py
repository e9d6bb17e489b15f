"""Softmax and log-softmax over the rows of a matrix, their gradient, and softmax(x + b).

As in Theano 1.0 these ops work on the last axis of a 2-d input: a vector is padded on the left
to a one-row matrix (so ``softmax(vector)`` is a ``(1, n)`` row, Theano's result type), and
other ranks are refused. ``perform`` subtracts each row's maximum before exponentiating, so
logits of any magnitude give finite results (``|x| = 1e4`` included); float16 inputs are
computed in float32 and cast back. The rewrites that introduce these ops (``log(softmax(x))``
to ``LogSoftmax``, ``softmax(x + b)`` to ``SoftmaxWithBias``...) live in topt and match these
classes.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.tensor import math as tm
from tgraph.tensor.axes import shape_padleft
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.elemwise import DimShuffle
from tgraph.tensor.nnet._common import (
    NNetInputError,
    checked_input,
    compute_dtype,
    fit_grad,
)
from tgraph.tensor.nnet.nnet_c import NNetCMixin
from tgraph.tensor.reduction import Sum


def _as_rows(op: Op, name: str, x: Any) -> Variable:
    """A float vector or matrix as a matrix (vectors padded to one row)."""
    x = checked_input(op, name, x, (1, 2))
    return shape_padleft(x) if x.type.ndim == 1 else x


def _row_sums(a: Variable) -> Variable:
    return tm.sum(a, axis=1, keepdims=True)


def softmax_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of a NumPy matrix, stable for any magnitude, in x's dtype."""
    if x.size == 0:
        return np.zeros(x.shape, dtype=x.dtype)
    work = x.astype(compute_dtype(x.dtype), copy=False)
    e = np.exp(work - work.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e.astype(x.dtype, copy=False)


def log_softmax_rows(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of a NumPy matrix: ``x - max - log(sum(exp(x - max)))``."""
    if x.size == 0:
        return np.zeros(x.shape, dtype=x.dtype)
    work = x.astype(compute_dtype(x.dtype), copy=False)
    shifted = work - work.max(axis=1, keepdims=True)
    out = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return out.astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------------------------
# SoftmaxWithBias


class SoftmaxWithBias(NNetCMixin, Op):
    """``softmax(x + b)`` for a float matrix ``x`` and a float vector ``b`` of length x.shape[1].

    The output has ``x``'s type. Theano's specialisation rewrites ``softmax(x + b)`` into
    this op; its crossentropy variant is :class:`CrossentropySoftmaxArgmax1HotWithBias`.
    """

    nin = 2
    nout = 1
    __props__ = ()
    _c_kind = "softmax_with_bias"

    def make_node(self, x, b):
        x = checked_input(self, "x", x, (2,))
        b = checked_input(self, "b", b, (1,))
        return Apply(self, [x, b], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        x, b = inputs
        if b.shape[0] != x.shape[1]:
            raise NNetInputError(
                f"{self}: b has length {b.shape[0]} but x has shape {x.shape}; b must have "
                "one entry per column of x"
            )
        output_storage[0][0] = softmax_rows(x + b[None, :]).astype(x.dtype, copy=False)

    def L_op(self, inputs, outputs, output_grads):
        x, b = inputs
        dx = softmax_grad(output_grads[0], outputs[0])
        return [fit_grad(dx, x), fit_grad(tm.sum(dx, axis=0), b)]

    def R_op(self, inputs, eval_points):
        """Jacobian times (ex, eb): the softmax Jacobian applied to ``ex + eb``."""
        x, b = inputs
        ex, eb = eval_points
        if ex is None and eb is None:
            return [None]
        direction = ex if eb is None else (eb.dimshuffle("x", 0) if ex is None else ex + eb)
        return [softmax_grad(direction, self(x, b))]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


softmax_with_bias = SoftmaxWithBias()


# ---------------------------------------------------------------------------------------------
# SoftmaxGrad


class SoftmaxGrad(Op):
    """The gradient of softmax: ``dx = dy * sm - sum(dy * sm, axis=1) * sm`` row by row.

    Inputs are the output gradient ``dy`` and the softmax output ``sm`` (vectors are padded
    to one row); the result has ``sm``'s type.
    """

    nin = 2
    nout = 1
    __props__ = ()

    def make_node(self, dy, sm):
        dy = _as_rows(self, "dy", dy)
        sm = _as_rows(self, "sm", sm)
        return Apply(self, [dy, sm], [sm.type()])

    def perform(self, node, inputs, output_storage, params=None):
        dy, sm = inputs
        if dy.shape[1] != sm.shape[1] or dy.shape[0] not in (sm.shape[0], 1):
            raise NNetInputError(
                f"{self}: dy has shape {dy.shape} and sm has shape {sm.shape}; they must match"
            )
        work = compute_dtype(np.result_type(dy.dtype, sm.dtype))
        dy_sm = dy.astype(work, copy=False) * sm
        dx = dy_sm - dy_sm.sum(axis=1, keepdims=True) * sm
        output_storage[0][0] = dx.astype(node.outputs[0].type.dtype, copy=False)

    def grad(self, inputs, output_grads):
        dy, sm = inputs
        (g,) = output_grads
        g_minus = g - _row_sums(g * sm)
        g_dy = g_minus * sm
        g_sm = g_minus * dy - g * _row_sums(dy * sm)
        return [fit_grad(g_dy, dy), fit_grad(g_sm, sm)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]


softmax_grad = SoftmaxGrad()


# ---------------------------------------------------------------------------------------------
# Softmax


class Softmax(NNetCMixin, Op):
    """Row-wise softmax ``exp(x) / sum(exp(x), axis=1)`` of a float matrix.

    A vector is padded to one row (Theano 1.0's behaviour, without its deprecation warning).
    """

    nin = 1
    nout = 1
    __props__ = ()
    _c_kind = "softmax"

    def make_node(self, x):
        x = _as_rows(self, "x", x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = softmax_rows(inputs[0])

    def L_op(self, inputs, outputs, output_grads):
        return [softmax_grad(output_grads[0], outputs[0])]

    def R_op(self, inputs, eval_points):
        """The softmax Jacobian is symmetric, so J·v is the gradient formula applied to v."""
        if eval_points[0] is None:
            return [None]
        return [softmax_grad(eval_points[0], self(inputs[0]))]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


softmax_op = Softmax()


# ---------------------------------------------------------------------------------------------
# LogSoftmax


class LogSoftmax(NNetCMixin, Op):
    """Row-wise ``log(softmax(x))``, computed as ``x - max - log(sum(exp(x - max)))``.

    Finite wherever the result is: ``log(softmax(x))`` underflows to ``-inf`` for logits
    far below the row's maximum, this op does not. Vectors are padded to one row.
    """

    nin = 1
    nout = 1
    __props__ = ()
    _c_kind = "log_softmax"

    def make_node(self, x):
        x = _as_rows(self, "x", x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = log_softmax_rows(inputs[0])

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (g,) = output_grads
        return [g - _row_sums(g) * softmax_op(x)]

    def R_op(self, inputs, eval_points):
        """J·v with J = I - 1·softmax(x)ᵀ per row: ``v - sum(softmax(x) * v)``.

        Theano 1.0 returned Jᵀ·v here (its grad formula), which differs; this is J·v.
        """
        (ev,) = eval_points
        if ev is None:
            return [None]
        return [ev - _row_sums(softmax_op(inputs[0]) * ev)]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]


logsoftmax_op = LogSoftmax()


# ---------------------------------------------------------------------------------------------
# Functions


def softmax_graph(c: Any) -> Variable:
    """Softmax over the last axis written with ``exp``/``sum`` (no stabilisation)."""
    c = as_tensor_variable(c)
    e = tm.exp(c)
    return e / tm.sum(e, axis=-1, keepdims=True)


def softmax(c: Any) -> Variable:
    """Row-wise softmax of a float matrix (or of a vector, as a one-row matrix).

    Warns when the softmax axis is broadcastable (length 1): every result would be 1.
    """
    c = as_tensor_variable(c)
    if c.type.ndim and c.type.broadcastable[-1]:
        warnings.warn("The softmax is applied on a dimension of shape 1, which does not have "
                      "a semantic meaning.", stacklevel=2)
    return softmax_op(c)


def logsoftmax(c: Any) -> Variable:
    """Row-wise log-softmax of a float matrix (or of a vector, as a one-row matrix)."""
    return logsoftmax_op(c)


log_softmax = logsoftmax


def softmax_simplifier(numerators: list, denominators: list) -> tuple[list, list]:
    """Turn ``exp(x) / sum(exp(x), axis=1).dimshuffle(0, 'x')`` factors into ``softmax(x)``.

    A helper for a multiplication canonicaliser (Theano's ``local_mul_canonizer`` called it
    with the lists of numerator and denominator factors of a product): a 2-d float numerator
    ``exp(x)`` whose row sum, dimshuffled to a column, is among the denominators is replaced
    by ``softmax(x)`` and that denominator dropped. Returns the (new) lists.
    """
    numerators, denominators = list(numerators), list(denominators)
    for numerator in list(numerators):
        if not numerator.type.dtype.startswith("float") or numerator.type.ndim != 2:
            continue
        if numerator.owner is None or numerator.owner.op != tm.exp:
            continue
        match = next((d for d in denominators if _is_row_sum_column_of(d, numerator)), None)
        if match is not None:
            numerators.remove(numerator)
            denominators.remove(match)
            numerators.append(softmax_op(numerator.owner.inputs[0]))
    return numerators, denominators


def _is_row_sum_column_of(denominator: Variable, numerator: Variable) -> bool:
    owner = denominator.owner
    if owner is None or not isinstance(owner.op, DimShuffle) or owner.op.new_order != (0, "x"):
        return False
    total = owner.inputs[0].owner
    return (total is not None and isinstance(total.op, Sum) and total.op.axis == (1,)
            and total.inputs[0] is numerator)


__all__ = [
    "LogSoftmax",
    "Softmax",
    "SoftmaxGrad",
    "SoftmaxWithBias",
    "log_softmax",
    "logsoftmax",
    "logsoftmax_op",
    "softmax",
    "softmax_grad",
    "softmax_graph",
    "softmax_op",
    "softmax_simplifier",
    "softmax_with_bias",
]

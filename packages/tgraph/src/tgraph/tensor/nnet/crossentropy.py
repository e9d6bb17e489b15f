"""Cross-entropy costs for classifiers: one-hot (integer label) ops, their fused softmax
forms, and the binary and categorical cross-entropy functions.

The fused op :class:`CrossentropySoftmaxArgmax1HotWithBias` computes, for each row of
``x + b`` and its label ``y_idx[i]``, the negative log-likelihood ``-log(softmax(x + b)[i,
y_idx[i]])`` as ``-row[y] + max(row) + log(sum(exp(row - max(row))))``, which stays finite
for logits of any magnitude, together with the softmax and the row's argmax. topt's
stabilisation rewrites turn ``categorical_crossentropy(softmax(x), y)`` into it (Theano 1.0's
``crossentropy_to_crossentropy_with_softmax``); the plain :class:`CrossentropyCategorical1Hot`
computes ``-log(p[i, y[i]])`` of given probabilities.

Class indices are checked at run time: an index outside ``[0, n_classes)`` raises rather
than wrapping around as NumPy indexing would.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import DisconnectedType, disconnected_type, grad_not_implemented
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.scalar.math import scalar_sigmoid
from tgraph.scalar.op import BinaryScalarOp
from tgraph.scalar.preferences import upgrade_to_float
from tgraph.tensor import math as tm
from tgraph.tensor.advanced_subtensor import advanced_inc_subtensor, advanced_subtensor
from tgraph.tensor.alloc import arange, fill, zeros_like
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.nnet._common import (
    INT_DTYPES,
    NNetInputError,
    check_class_indices,
    check_rows,
    checked_input,
    compute_dtype,
    fit_grad,
)
from tgraph.tensor.nnet.nnet_c import NNetCMixin
from tgraph.tensor.nnet.softmax import (
    SoftmaxWithBias,
    softmax_op,
    softmax_with_bias,
)
from tgraph.tensor.type import TensorType


def _pick(m: Variable, y_idx: Variable) -> Variable:
    """``m[i, y_idx[i]]`` for every row i (symbolic)."""
    return advanced_subtensor(m, arange(y_idx.shape[0]), y_idx)


def _check_bias(op: Op, x: np.ndarray, b: np.ndarray) -> None:
    if b.shape[0] != x.shape[1]:
        raise NNetInputError(
            f"{op}: b has length {b.shape[0]} but x has shape {x.shape}; b must have one "
            "entry per column of x"
        )


# ---------------------------------------------------------------------------------------------
# Fused softmax + one-hot crossentropy


class CrossentropySoftmaxArgmax1HotWithBias(NNetCMixin, Op):
    """Negative log-likelihood, softmax and argmax of ``x + b`` against integer labels.

    Inputs: ``x`` a float matrix (one row per example), ``b`` a float vector (one entry per
    class), ``y_idx`` an integer vector (the class of each example). Outputs:
    ``nll[i] = -log(softmax(x + b)[i, y_idx[i]])`` (x's dtype), ``softmax(x + b)`` and
    ``argmax(x + b, axis=1)`` (y_idx's dtype).
    """

    nin = 3
    nout = 3
    __props__ = ()
    _c_kind = "xent_sm_argmax"

    def make_node(self, x, b, y_idx):
        x = checked_input(self, "x", x, (2,))
        b = checked_input(self, "b", b, (1,))
        y_idx = checked_input(self, "y_idx", y_idx, (1,), INT_DTYPES)
        nll = TensorType(x.type.dtype, y_idx.type.broadcastable)()
        return Apply(self, [x, b, y_idx], [nll, x.type(), y_idx.type()])

    def perform(self, node, inputs, output_storage, params=None):
        x, b, y_idx = inputs
        _check_bias(self, x, b)
        check_rows(self, "y_idx", y_idx.shape[0], x.shape[0])
        check_class_indices(self, y_idx, x.shape[1])
        rows = np.arange(x.shape[0])
        work = x.astype(compute_dtype(x.dtype), copy=False) + b
        if x.shape[0]:
            am = work.argmax(axis=1)
            row_max = work[rows, am][:, None]
        else:
            am = np.zeros(0, dtype="int64")
            row_max = np.zeros((0, 1), dtype=work.dtype)
        e = np.exp(work - row_max)
        sums = e.sum(axis=1, keepdims=True)
        nll = -work[rows, y_idx] + row_max[:, 0] + np.log(sums[:, 0])
        output_storage[0][0] = nll.astype(node.outputs[0].type.dtype, copy=False)
        output_storage[1][0] = (e / sums).astype(x.dtype, copy=False)
        output_storage[2][0] = am.astype(y_idx.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        x_shp, _, idx_shp = input_shapes
        return [(x_shp[0],), x_shp, idx_shp]

    def connection_pattern(self, node):
        return [[True, True, True],  # x
                [True, True, True],  # b
                [False, False, True]]  # y_idx reaches only the argmax

    def L_op(self, inputs, outputs, output_grads):
        x, b, y_idx = inputs
        g_nll, g_sm, g_am = output_grads
        dx_terms, db_terms = [], []
        if not isinstance(g_nll.type, DisconnectedType):
            dx = crossentropy_softmax_1hot_with_bias_dx(g_nll, outputs[1], y_idx)
            dx_terms.append(dx)
            db_terms.append(tm.sum(dx, axis=0))
        if not isinstance(g_sm.type, DisconnectedType):
            dx, db = softmax_with_bias.L_op([x, b], [outputs[1]], [g_sm])
            dx_terms.append(dx)
            db_terms.append(db)
        if not isinstance(g_am.type, DisconnectedType):
            # The argmax is piecewise constant: zero gradient (float, as gradients are).
            dx_terms.append(zeros_like(x))
            db_terms.append(zeros_like(b))
            g_idx = zeros_like(y_idx, dtype=config.floatX)
        else:
            g_idx = disconnected_type()

        def total(terms, like):
            if not terms:
                return disconnected_type()
            out = terms[0]
            for term in terms[1:]:
                out = out + term
            return fit_grad(out, like)

        return [total(dx_terms, x), total(db_terms, b), g_idx]


class CrossentropySoftmax1HotWithBiasDx(NNetCMixin, Op):
    """Gradient of the fused op's nll with respect to ``x``: ``dy[i] * (sm[i] - onehot(y[i]))``.

    ``dy`` is a float vector (one entry per row, or of length 1 for all rows) or a scalar;
    the result has ``sm``'s type.
    """

    nin = 3
    nout = 1
    __props__ = ()
    _c_kind = "xent_dx"

    def make_node(self, dy, sm, y_idx):
        dy = checked_input(self, "dy", dy, (0, 1))
        sm = checked_input(self, "sm", sm, (2,))
        y_idx = checked_input(self, "y_idx", y_idx, (1,), INT_DTYPES)
        return Apply(self, [dy, sm, y_idx], [sm.type()])

    def perform(self, node, inputs, output_storage, params=None):
        dy, sm, y_idx = inputs
        check_rows(self, "y_idx", y_idx.shape[0], sm.shape[0])
        check_class_indices(self, y_idx, sm.shape[1])
        dy = np.atleast_1d(dy)
        if dy.shape[0] not in (1, sm.shape[0]):
            raise NNetInputError(
                f"{self}: dy has length {dy.shape[0]} but sm has {sm.shape[0]} rows; dy must "
                "have one entry per row, or one for all rows"
            )
        work = compute_dtype(np.result_type(dy.dtype, sm.dtype))
        dy = np.broadcast_to(dy.astype(work, copy=False), (sm.shape[0],))
        dx = dy[:, None] * sm
        dx[np.arange(sm.shape[0]), y_idx] -= dy
        output_storage[0][0] = dx.astype(node.outputs[0].type.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def grad(self, inputs, output_grads):
        dy, sm, y_idx = inputs
        (g_dx,) = output_grads
        # d(dx[i, j]) / d(dy[i]) = sm[i, j] - [j == y_idx[i]]
        sm_minus_onehot = advanced_inc_subtensor(
            sm, fill(y_idx, np.asarray(-1, dtype=sm.type.dtype)), arange(y_idx.shape[0]), y_idx
        )
        per_row = tm.sum(g_dx * sm_minus_onehot, axis=1)
        if dy.type.ndim == 0:
            g_dy = tm.sum(per_row)
            g_sm = dy * g_dx
        else:
            g_dy = per_row
            g_sm = dy.dimshuffle(0, "x") * g_dx
        return [fit_grad(g_dy, dy), fit_grad(g_sm, sm), grad_not_implemented(self, 2, y_idx)]


crossentropy_softmax_argmax_1hot_with_bias = CrossentropySoftmaxArgmax1HotWithBias()
crossentropy_softmax_1hot_with_bias_dx = CrossentropySoftmax1HotWithBiasDx()


def crossentropy_softmax_1hot_with_bias(x: Any, b: Any, y_idx: Any, **kwargs) -> list:
    """``[nll, softmax(x + b)]`` of :class:`CrossentropySoftmaxArgmax1HotWithBias`."""
    return crossentropy_softmax_argmax_1hot_with_bias(x, b, y_idx, **kwargs)[0:2]


def crossentropy_softmax_1hot(x: Any, y_idx: Any, **kwargs) -> list:
    """``[nll, softmax(x)]``: the fused op with a zero bias."""
    x = as_tensor_variable(x)
    return crossentropy_softmax_1hot_with_bias(x, zeros_like(x[0, :]), y_idx, **kwargs)


def crossentropy_softmax_max_and_argmax_1hot_with_bias(x: Any, b: Any, y_idx: Any,
                                                       **kwargs) -> tuple:
    """``(nll, softmax(x + b), max probability per row, its argmax)``."""
    xent, sm = crossentropy_softmax_1hot_with_bias(x, b, y_idx, **kwargs)
    max_pr, argmax = tm.max_and_argmax(sm, axis=-1)
    return xent, sm, max_pr, argmax


def crossentropy_softmax_max_and_argmax_1hot(x: Any, y_idx: Any, **kwargs) -> tuple:
    """:func:`crossentropy_softmax_max_and_argmax_1hot_with_bias` with a zero bias."""
    x = as_tensor_variable(x)
    return crossentropy_softmax_max_and_argmax_1hot_with_bias(
        x, zeros_like(x[0, :]), y_idx, **kwargs)


# ---------------------------------------------------------------------------------------------
# One-hot crossentropy of given probabilities


class CrossentropyCategorical1HotGrad(Op):
    """Gradient of :class:`CrossentropyCategorical1Hot`: ``-g_y[i] / p[i, y[i]]`` at
    ``(i, y[i])``, zero elsewhere; the result has ``p``'s type."""

    __props__ = ()

    def make_node(self, g_y, coding_dist, true_one_of_n):
        g_y = checked_input(self, "g_y", g_y, (1,))
        coding_dist = checked_input(self, "coding_dist", coding_dist, (2,))
        true_one_of_n = checked_input(self, "true_one_of_n", true_one_of_n, (1,), INT_DTYPES)
        return Apply(self, [g_y, coding_dist, true_one_of_n], [coding_dist.type()])

    def perform(self, node, inputs, output_storage, params=None):
        g_y, coding, idx = inputs
        check_rows(self, "true_one_of_n", idx.shape[0], coding.shape[0])
        check_rows(self, "g_y", g_y.shape[0], coding.shape[0])
        check_class_indices(self, idx, coding.shape[1])
        rows = np.arange(coding.shape[0])
        out = np.zeros_like(coding)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[rows, idx] = -g_y / coding[rows, idx]
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [input_shapes[1]]

    def grad(self, inputs, output_grads):
        g_y, coding, idx = inputs
        (g_out,) = output_grads
        g_picked, p_picked = _pick(g_out, idx), _pick(coding, idx)
        g_g_y = -g_picked / p_picked
        picked_grad = g_picked * g_y / (p_picked * p_picked)
        g_coding = advanced_inc_subtensor(zeros_like(coding), picked_grad,
                                          arange(idx.shape[0]), idx)
        return [fit_grad(g_g_y, g_y), fit_grad(g_coding, coding),
                grad_not_implemented(self, 2, idx)]


crossentropy_categorical_1hot_grad = CrossentropyCategorical1HotGrad()


class CrossentropyCategorical1Hot(NNetCMixin, Op):
    """``y[i] = -log(coding_dist[i, true_one_of_n[i]])``: cross-entropy against labels.

    ``coding_dist`` is a float matrix of probabilities (one row per example),
    ``true_one_of_n`` an integer vector of classes; the result is a vector of
    ``coding_dist``'s dtype. When ``coding_dist`` is a softmax, topt replaces this op by the
    fused, stable :class:`CrossentropySoftmaxArgmax1HotWithBias`.
    """

    __props__ = ()
    _c_kind = "xent_categorical"

    def make_node(self, coding_dist, true_one_of_n):
        coding_dist = checked_input(self, "coding_dist", coding_dist, (2,))
        true_one_of_n = checked_input(self, "true_one_of_n", true_one_of_n, (1,), INT_DTYPES)
        out = TensorType(coding_dist.type.dtype, (False,))()
        return Apply(self, [coding_dist, true_one_of_n], [out])

    def perform(self, node, inputs, output_storage, params=None):
        coding, idx = inputs
        check_rows(self, "true_one_of_n", idx.shape[0], coding.shape[0])
        check_class_indices(self, idx, coding.shape[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            y = -np.log(coding[np.arange(coding.shape[0]), idx])
        output_storage[0][0] = y.astype(coding.dtype, copy=False)

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0],)]

    def grad(self, inputs, output_grads):
        coding, idx = inputs
        return [crossentropy_categorical_1hot_grad(output_grads[0], coding, idx),
                grad_not_implemented(self, 1, idx)]


crossentropy_categorical_1hot = CrossentropyCategorical1Hot()


# ---------------------------------------------------------------------------------------------
# Cost functions


def binary_crossentropy(output: Any, target: Any) -> Variable:
    """Elementwise ``-(target * log(output) + (1 - target) * log(1 - output))``.

    ``output`` must lie strictly inside (0, 1); ``target`` may be 0 or 1. Nothing is summed.
    For logits, :func:`sigmoid_binary_crossentropy` is the stable form.
    """
    output, target = as_tensor_variable(output), as_tensor_variable(target)
    return -(target * tm.log(output) + (1.0 - target) * tm.log(1.0 - output))


class ScalarSigmoidBinaryCrossentropy(BinaryScalarOp):
    """``binary_crossentropy(sigmoid(x), t)`` of a logit ``x`` and a target ``t``, stably.

    The value is ``softplus(-|x|) + x * ((x > 0) - t)``, finite and accurate for any real x
    (no ``log`` of a sigmoid that rounded to 0 or 1); the gradients are ``sigmoid(x) - t``
    and ``-x``, also at ``x = 0`` where differentiating the formula through ``|x|`` would not
    give them. Theano 1.0 got the same by wrapping the formula in an OpFromGraph with these
    gradients.
    """

    nin = 2
    nfunc_spec = None
    _lift = True

    @staticmethod
    def _func(x, t):
        return np.logaddexp(0, -np.abs(x)) + x * ((x > 0) - t)

    def grad(self, inputs, output_grads):
        x, t = inputs
        (gz,) = output_grads
        return [gz * (scalar_sigmoid(x) - t), -(gz * x)]


scalar_sigmoid_binary_crossentropy = ScalarSigmoidBinaryCrossentropy(
    upgrade_to_float, name="scalar_sigmoid_binary_crossentropy")
_sigmoid_binary_crossentropy = Elemwise(scalar_sigmoid_binary_crossentropy,
                                        name="sigmoid_binary_crossentropy")


def sigmoid_binary_crossentropy(output: Any, target: Any) -> Variable:
    """``binary_crossentropy(sigmoid(output), target)`` computed stably from logits.

    ``output`` holds real logits, ``target`` probabilities in [0, 1]; elementwise, with
    broadcasting. Finite for logits of any magnitude; the gradient with respect to
    ``output`` is ``sigmoid(output) - target``.
    """
    return _sigmoid_binary_crossentropy(output, target)


def categorical_crossentropy(coding_dist: Any, true_dist: Any) -> Variable:
    """Cross-entropy ``-sum(p * log(q))`` of each distribution in ``coding_dist`` (q).

    ``true_dist`` (p) is either of ``coding_dist``'s rank (distributions along the last
    axis) or one rank less: integer class indices, one per row, as in
    :class:`CrossentropyCategorical1Hot`. The result has one rank less than ``coding_dist``.
    """
    coding_dist = as_tensor_variable(coding_dist)
    true_dist = as_tensor_variable(true_dist)
    if true_dist.type.ndim == coding_dist.type.ndim:
        return -tm.sum(true_dist * tm.log(coding_dist), axis=coding_dist.type.ndim - 1)
    if true_dist.type.ndim == coding_dist.type.ndim - 1:
        return crossentropy_categorical_1hot(coding_dist, true_dist)
    raise NNetInputError(
        f"categorical_crossentropy: rank mismatch between coding and true distributions: "
        f"coding_dist is {coding_dist.type.ndim}-d, true_dist {true_dist.type.ndim}-d "
        f"(expected {coding_dist.type.ndim}-d probabilities or "
        f"{coding_dist.type.ndim - 1}-d integer classes)"
    )


# ---------------------------------------------------------------------------------------------
# Graph-level replacements (Theano 1.0 exported these from nnet; topt registers them)


def crossentropy_to_crossentropy_with_softmax_with_bias(fgraph) -> None:
    """Replace ``crossentropy_categorical_1hot(softmax_with_bias(x, b), y)`` in ``fgraph``.

    Both the cost and the softmax are replaced by outputs of one fused
    :class:`CrossentropySoftmaxArgmax1HotWithBias` node (stable for large logits). Works on a
    FunctionGraph in place, through ``replace_all_validate`` when the graph has it.
    """
    _fuse_crossentropy_softmax(fgraph, with_plain_softmax=False)


def crossentropy_to_crossentropy_with_softmax(fgraph) -> None:
    """As :func:`crossentropy_to_crossentropy_with_softmax_with_bias`, also for a plain
    ``softmax(x)`` (fused with a zero bias)."""
    _fuse_crossentropy_softmax(fgraph, with_plain_softmax=True)


def _fuse_crossentropy_softmax(fgraph, with_plain_softmax: bool) -> None:
    replace = getattr(fgraph, "replace_all_validate", None) or fgraph.replace_all
    reason = ("crossentropy_to_crossentropy_with_softmax" if with_plain_softmax
              else "crossentropy_to_crossentropy_with_softmax_with_bias")
    changed = True
    while changed:
        changed = False
        for node in fgraph.toposort():
            if not isinstance(node.op, CrossentropyCategorical1Hot):
                continue
            sm, one_of_n = node.inputs
            owner = sm.owner
            if owner is None:
                continue
            if isinstance(owner.op, SoftmaxWithBias):
                x, b = owner.inputs
            elif with_plain_softmax and owner.op == softmax_op:
                (x,) = owner.inputs
                b = zeros_like(x[0])
            else:
                continue
            new_nll, new_sm, _ = crossentropy_softmax_argmax_1hot_with_bias(x, b, one_of_n)
            replace([(node.outputs[0], new_nll), (sm, new_sm)], reason=reason)
            changed = True
            break


__all__ = [
    "CrossentropyCategorical1Hot",
    "CrossentropyCategorical1HotGrad",
    "CrossentropySoftmax1HotWithBiasDx",
    "CrossentropySoftmaxArgmax1HotWithBias",
    "ScalarSigmoidBinaryCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "crossentropy_categorical_1hot",
    "crossentropy_categorical_1hot_grad",
    "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias",
    "crossentropy_softmax_1hot_with_bias_dx",
    "crossentropy_softmax_argmax_1hot_with_bias",
    "crossentropy_softmax_max_and_argmax_1hot",
    "crossentropy_softmax_max_and_argmax_1hot_with_bias",
    "crossentropy_to_crossentropy_with_softmax",
    "crossentropy_to_crossentropy_with_softmax_with_bias",
    "scalar_sigmoid_binary_crossentropy",
    "sigmoid_binary_crossentropy",
]

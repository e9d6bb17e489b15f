"""The rest of Theano 1.0's nnet: prepending a column, the confusion matrix, the two-level
hierarchical softmax, and ``to_one_hot`` (from :mod:`tgraph.tensor.extra_ops`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.scalar.type import discrete_dtypes
from tgraph.tensor import math as tm
from tgraph.tensor.alloc import arange, zeros_like
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.dot import batched_dot, dot, tensordot
from tgraph.tensor.extra_ops import Unique, to_one_hot
from tgraph.tensor.join import concatenate
from tgraph.tensor.nnet._common import NNetInputError, fit_grad
from tgraph.tensor.nnet.softmax import softmax
from tgraph.tensor.type import TensorType


def _matrix(op: Any, mat: Any) -> Variable:
    mat = as_tensor_variable(mat)
    if mat.type.ndim != 2:
        raise NNetInputError(f"{op}: expected a matrix, got a {mat.type.ndim}-d "
                             f"{mat.type.dtype} tensor")
    return mat


def _prepended(mat: np.ndarray, value: Any) -> np.ndarray:
    out = np.empty((mat.shape[0], mat.shape[1] + 1), dtype=mat.dtype)
    out[:, 0] = value
    out[:, 1:] = mat
    return out


class Prepend_scalar_constant_to_each_row(Op):
    """A matrix with a first column filled with the constant ``val`` (a Python number).

    Theano 1.0 gave this op empty ``__props__``, so ``prepend_0_to_each_row ==
    prepend_1_to_each_row``; here ``val`` is a property and the two differ.
    """

    __props__ = ("val",)

    def __init__(self, val: float = 0):
        if isinstance(val, Variable) or np.ndim(val) != 0:
            raise NNetInputError(f"{type(self).__name__}: val must be a Python number, got "
                                 f"{val!r}")
        self.val = float(val) if not isinstance(val, bool | np.bool_) else bool(val)

    def make_node(self, mat):
        mat = _matrix(self, mat)
        out = TensorType(mat.type.dtype, (mat.type.broadcastable[0], False))()
        return Apply(self, [mat], [out])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = _prepended(inputs[0], self.val)

    def infer_shape(self, node, input_shapes):
        rows, cols = input_shapes[0]
        return [(rows, cols + 1)]

    def grad(self, inputs, output_grads):
        return [fit_grad(output_grads[0][:, 1:], inputs[0])]


class Prepend_scalar_to_each_row(Op):
    """``prepend_scalar_to_each_row(val, mat)``: ``mat`` with a first column of ``val``.

    ``val`` is a symbolic (0-d) or Python scalar; the result has ``mat``'s dtype.
    """

    __props__ = ()

    def make_node(self, val, mat):
        val = as_tensor_variable(val)
        if val.type.ndim != 0:
            raise NNetInputError(f"{self}: val must be a scalar, got a {val.type.ndim}-d "
                                 f"{val.type.dtype} tensor")
        mat = _matrix(self, mat)
        out = TensorType(mat.type.dtype, (mat.type.broadcastable[0], False))()
        return Apply(self, [val, mat], [out])

    def perform(self, node, inputs, output_storage, params=None):
        val, mat = inputs
        output_storage[0][0] = _prepended(mat, val)

    def infer_shape(self, node, input_shapes):
        rows, cols = input_shapes[1]
        return [(rows, cols + 1)]

    def grad(self, inputs, output_grads):
        val, mat = inputs
        (g,) = output_grads
        if val.type.dtype in discrete_dtypes:
            g_val = zeros_like(val, dtype=config.floatX)
        else:
            g_val = fit_grad(tm.sum(g[:, 0]), val)
        return [g_val, fit_grad(g[:, 1:], mat)]


prepend_scalar_to_each_row = Prepend_scalar_to_each_row()
prepend_0_to_each_row = Prepend_scalar_constant_to_each_row(0.0)
prepend_1_to_each_row = Prepend_scalar_constant_to_each_row(1.0)


def confusion_matrix(actual: Any, pred: Any) -> list[Variable]:
    """``[conf_mat, order]``: counts of (actual, predicted) label pairs, and the labels.

    ``order`` is the sorted union of labels in both vectors; ``conf_mat[i, j]`` (int64)
    counts the examples whose actual label is ``order[i]`` and prediction ``order[j]``.
    """
    actual, pred = as_tensor_variable(actual), as_tensor_variable(pred)
    for name, v in (("actual", actual), ("pred", pred)):
        if v.type.ndim != 1:
            raise NNetInputError(f"confusion_matrix: {name} must be a vector (1-d), got a "
                                 f"{v.type.ndim}-d {v.type.dtype} tensor")
    order = Unique(False, False, False)(concatenate([actual, pred]))
    one_hot_actual = tm.cast(tm.eq(actual.dimshuffle(0, "x"), order), "int64")
    one_hot_pred = tm.cast(tm.eq(pred.dimshuffle(0, "x"), order), "int64")
    return [dot(one_hot_actual.T, one_hot_pred), order]


def h_softmax(x: Any, batch_size: Any, n_outputs: int, n_classes: int,
              n_outputs_per_class: int, W1: Any, b1: Any, W2: Any, b2: Any,
              target: Any = None) -> Variable:
    """Two-level hierarchical softmax (Goodman, 2001).

    The ``n_outputs`` outputs are split in order into ``n_classes`` classes of
    ``n_outputs_per_class`` (their product must be at least ``n_outputs``). The first level
    ``softmax(x @ W1 + b1)`` gives class probabilities; the second, per class c,
    ``softmax(x @ W2[c] + b2[c])`` the output within the class; an output's probability is
    the product. Shapes: x (batch, features), W1 (features, n_classes), b1 (n_classes,),
    W2 (n_classes, features, n_outputs_per_class), b2 (n_classes, n_outputs_per_class).

    Without ``target``, returns every output's probability, (batch_size, n_outputs). With
    ``target`` (batch_size,) or (batch_size, 1) integer outputs, returns the probability of
    each example's target only, a (batch_size,) vector, at the cost of one class's softmax
    (Theano 1.0 used a sparse block product here; a batched product of the target classes'
    weights computes the same).
    """
    x = as_tensor_variable(x)
    W2, b2 = as_tensor_variable(W2), as_tensor_variable(b2)
    class_probs = softmax(dot(x, W1) + b1)
    if target is None:
        activations = tensordot(x, W2, (1, 1)) + b2
        output_probs = softmax(activations.reshape((-1, n_outputs_per_class)))
        output_probs = output_probs.reshape((batch_size, n_classes, -1))
        output_probs = class_probs.dimshuffle(0, 1, "x") * output_probs
        output_probs = output_probs.reshape((batch_size, -1))
        # n_classes * n_outputs_per_class may exceed n_outputs: drop the padding outputs.
        return output_probs[:, :n_outputs]

    target = as_tensor_variable(target).flatten()
    target_classes = target // n_outputs_per_class
    target_outputs_in_class = target % n_outputs_per_class
    activations = batched_dot(x, W2[target_classes]) + b2[target_classes]
    output_probs = softmax(activations)
    rows = arange(batch_size)
    return class_probs[rows, target_classes] * output_probs[rows, target_outputs_in_class]


__all__ = [
    "Prepend_scalar_constant_to_each_row",
    "Prepend_scalar_to_each_row",
    "confusion_matrix",
    "h_softmax",
    "prepend_0_to_each_row",
    "prepend_1_to_each_row",
    "prepend_scalar_to_each_row",
    "to_one_hot",
]

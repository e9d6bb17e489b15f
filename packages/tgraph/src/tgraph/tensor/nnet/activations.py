"""Rectifier-family activations of Theano 1.0's nnet: relu (leaky/parametric), elu, selu.

Each is a short composition of elementwise ops, so its gradient, shape and dtype rules come
from those ops; the compositions are chosen to keep a float32 input float32 and the gradient
finite for inputs of any magnitude. ``softsign`` (an Elemwise of its own) lives in
:mod:`tgraph.tensor.nnet.sigm` and is re-exported here.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from tgraph.graph.basic import Variable
from tgraph.tensor import math as tm
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.nnet.sigm import softsign

#: SELU's constants (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _is_zero(alpha: Any) -> bool:
    """Whether ``alpha`` is the number 0 (not a symbolic variable, not an array)."""
    if isinstance(alpha, numbers.Number | np.number):
        return alpha == 0
    return isinstance(alpha, np.ndarray) and alpha.ndim == 0 and alpha == 0


def relu(x: Any, alpha: Any = 0) -> Variable:
    """Rectified linear unit ``max(x, 0)``, leaky or parametric with ``alpha``.

    ``alpha`` is the slope for negative inputs: 0 (default) gives the plain rectifier, a
    number in (0, 1) a leaky one, a tensor or shared variable broadcastable against ``x`` a
    learnable slope. Equal to ``switch(x > 0, x, alpha * x)``, written as
    ``0.5 (1 + alpha) x + 0.5 (1 - alpha) |x|`` (one fused elementwise loop, forward and
    backward, as in Theano 1.0).
    """
    x = as_tensor_variable(x)
    if _is_zero(alpha):
        return 0.5 * (x + tm.abs_(x))
    # A NumPy scalar alpha would upcast Python-float factors; build them from alpha itself.
    alpha = as_tensor_variable(alpha)
    return 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * tm.abs_(x)


def elu(x: Any, alpha: Any = 1) -> Variable:
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    The negative branch is evaluated at ``min(x, 0)``: equal values, but for large positive
    ``x`` its (discarded) gradient stays finite instead of ``0 * inf = nan``.
    """
    x = as_tensor_variable(x)
    negative_part = alpha * tm.expm1(tm.minimum(x, 0))
    return tm.switch(tm.gt(x, 0), x, negative_part)


def selu(x: Any) -> Variable:
    """Scaled exponential linear unit: ``SELU_SCALE * elu(x, SELU_ALPHA)``."""
    return SELU_SCALE * elu(x, SELU_ALPHA)


__all__ = ["elu", "relu", "selu", "softsign"]

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
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.nnet.sigm import softsign

#: SELU's constants (Klambauer et al., 2017).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, np.generic)


def _is_zero(alpha: Any) -> bool:
    """Whether ``alpha`` is the number 0 (not a symbolic variable, not an array)."""
    if isinstance(alpha, numbers.Number | np.number):
        return alpha == 0
    return isinstance(alpha, np.ndarray) and alpha.ndim == 0 and alpha == 0


def _factor(value: float, x: Variable) -> Any:
    """A Python-number factor as a constant of ``x``'s float dtype.

    Python floats such as 0.1 are not exact in float32, so Theano's autocasting would make
    them float64 constants and upcast a float32 ``x``; an activation keeps ``x``'s dtype.
    """
    if x.type.dtype in ("float16", "float32", "float64"):
        return constant(value, dtype=x.type.dtype)
    return value


def relu(x: Any, alpha: Any = 0) -> Variable:
    """Rectified linear unit ``max(x, 0)``, leaky or parametric with ``alpha``.

    ``alpha`` is the slope for negative inputs: 0 (default) gives the plain rectifier, a
    number in (0, 1) a leaky one, a tensor or shared variable broadcastable against ``x`` a
    learnable slope. Equal to ``switch(x > 0, x, alpha * x)``, written as
    ``0.5 (1 + alpha) x + 0.5 (1 - alpha) |x|`` (one fused elementwise loop, forward and
    backward, as in Theano 1.0). A Python-number ``alpha`` keeps a float32 ``x`` float32;
    a NumPy or symbolic one follows the usual dtype promotion.
    """
    x = as_tensor_variable(x)
    if _is_zero(alpha):
        return 0.5 * (x + tm.abs_(x))
    if _is_number(alpha):
        return (_factor(0.5 * (1 + alpha), x) * x
                + _factor(0.5 * (1 - alpha), x) * tm.abs_(x))
    # Built from alpha itself, so a NumPy or symbolic alpha's dtype decides the result's.
    alpha = as_tensor_variable(alpha)
    return 0.5 * (1 + alpha) * x + 0.5 * (1 - alpha) * tm.abs_(x)


def elu(x: Any, alpha: Any = 1) -> Variable:
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    The negative branch is evaluated at ``min(x, 0)``: equal values, but for large positive
    ``x`` its (discarded) gradient stays finite instead of ``0 * inf = nan``. A
    Python-number ``alpha`` keeps a float32 ``x`` float32.
    """
    x = as_tensor_variable(x)
    if _is_number(alpha):
        alpha = _factor(alpha, x)
    negative_part = alpha * tm.expm1(tm.minimum(x, 0))
    return tm.switch(tm.gt(x, 0), x, negative_part)


def selu(x: Any) -> Variable:
    """Scaled exponential linear unit: ``SELU_SCALE * elu(x, SELU_ALPHA)``."""
    x = as_tensor_variable(x)
    return _factor(SELU_SCALE, x) * elu(x, SELU_ALPHA)


__all__ = ["elu", "relu", "selu", "softsign"]

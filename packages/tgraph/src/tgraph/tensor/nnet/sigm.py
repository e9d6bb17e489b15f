"""The sigmoid family (``theano.tensor.nnet.sigm``): sigmoid, its fast approximations,
softplus and softsign.

``sigmoid`` and ``softplus`` are the elementwise ops of :mod:`tgraph.tensor.math` (stable for
any input: SciPy's ``expit`` and ``logaddexp(0, x)``), re-exported here under Theano's names.
This module adds the approximations Theano offered for speed, ``ultra_fast_sigmoid`` (a
piecewise rational/linear fit, absolute error below 0.028) and ``hard_sigmoid`` (``clip(0.2 x + 0.5,
0, 1)``), and ``softsign`` ``x / (1 + |x|)``. The rewrites that swap sigmoid for an
approximation or recognise ``1 / (1 + exp(-x))`` belong to topt.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.graph.basic import Variable
from tgraph.scalar import abs_, lt, switch, typed
from tgraph.scalar.math import ScalarSigmoid, ScalarSoftplus, scalar_sigmoid, scalar_softplus
from tgraph.scalar.op import UnaryScalarOp
from tgraph.scalar.preferences import transfer_type, upgrade_to_float
from tgraph.tensor import math as tm
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.math import sigmoid, softplus

sigmoid_inplace = Elemwise(ScalarSigmoid(transfer_type(0), name="scalar_sigmoid"),
                           inplace_pattern={0: 0}, name="sigmoid_inplace")
sigmoid_inplace.__doc__ = "sigmoid written into its input's storage (used by inplace rewrites)."


# ---------------------------------------------------------------------------------------------
# ultra_fast_sigmoid

# The fit of tanh(h) on |h| < 1.7, [1.7, 3) and beyond, as in Theano 1.0 (its C code).
_KNEE1, _KNEE2 = 1.7, 3.0
_MID_OFFSET, _MID_SLOPE = 0.935409070603099, 0.0458812946797165
_TAIL = 0.99505475368673


class UltraFastScalarSigmoid(UnaryScalarOp):
    """An approximation of the sigmoid through a piecewise fit of ``tanh(x / 2)``.

    ``sigmoid(x) = (1 + tanh(x / 2)) / 2``; tanh(h) is approximated by ``1.5 h / (1 + h)``
    below 1.7, a line up to 3 and a constant beyond (odd in h). Absolute error < 0.028
    (largest near x = -0.54).
    Theano 1.0 gave no gradient; this one differentiates the approximation itself.
    """

    nfunc_spec = None
    _lift = True

    @staticmethod
    def _func(x):
        h = 0.5 * x
        a = np.abs(h)
        z = np.where(a < _KNEE1, 1.5 * a / (1 + a),
                     np.where(a < _KNEE2, _MID_OFFSET + _MID_SLOPE * (a - _KNEE1), _TAIL))
        z = np.where(np.isnan(a), a, np.copysign(z, h))
        return 0.5 * (z + 1)

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        a = abs_(x * typed(0.5, gz))
        one = typed(1.0, gz)
        slope = switch(lt(a, typed(_KNEE1, gz)), typed(1.5, gz) / ((one + a) * (one + a)),
                       switch(lt(a, typed(_KNEE2, gz)), typed(_MID_SLOPE, gz),
                              typed(0.0, gz)))
        return [gz * typed(0.25, gz) * slope]


ultra_fast_scalar_sigmoid = UltraFastScalarSigmoid(upgrade_to_float,
                                                   name="ultra_fast_scalar_sigmoid")
ultra_fast_sigmoid = Elemwise(ultra_fast_scalar_sigmoid, name="ultra_fast_sigmoid")
ultra_fast_sigmoid.__doc__ = "Elementwise approximate sigmoid (error < 0.028), faster than exp."
ultra_fast_sigmoid_inplace = Elemwise(
    UltraFastScalarSigmoid(transfer_type(0), name="ultra_fast_scalar_sigmoid"),
    inplace_pattern={0: 0}, name="ultra_fast_sigmoid_inplace")


def hard_sigmoid(x: Any) -> Variable:
    """The crudest sigmoid approximation: ``clip(0.2 * x + 0.5, 0, 1)``.

    Computed in the float dtype sigmoid would give (float32 for float32 and small integers),
    so it never upcasts.
    """
    x = as_tensor_variable(x)
    out_dtype = tm.sigmoid(x).type.dtype
    slope = constant(0.2, dtype=out_dtype)
    shift = constant(0.5, dtype=out_dtype)
    return tm.clip(x * slope + shift, constant(0, dtype=out_dtype),
                   constant(1, dtype=out_dtype))


# ---------------------------------------------------------------------------------------------
# softsign


class ScalarSoftsign(UnaryScalarOp):
    """``x / (1 + |x|)``: a sigmoid-shaped function into (-1, 1) with polynomial tails."""

    nfunc_spec = None
    _lift = True

    @staticmethod
    def _func(x):
        return x / (1 + np.abs(x))

    @staticmethod
    def static_impl(x):
        """Theano 1.0's name for the formula on one value."""
        return x / (1.0 + abs(x))

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        d = typed(1.0, gz) + abs_(x)
        return [gz / (d * d)]


scalar_softsign = ScalarSoftsign(upgrade_to_float, name="scalar_softsign")
softsign = Elemwise(scalar_softsign, name="softsign")
softsign.__doc__ = "Elementwise softsign x / (1 + |x|)."


__all__ = [
    "ScalarSigmoid",
    "ScalarSoftplus",
    "ScalarSoftsign",
    "UltraFastScalarSigmoid",
    "hard_sigmoid",
    "scalar_sigmoid",
    "scalar_softplus",
    "scalar_softsign",
    "sigmoid",
    "sigmoid_inplace",
    "softplus",
    "softsign",
    "ultra_fast_scalar_sigmoid",
    "ultra_fast_sigmoid",
    "ultra_fast_sigmoid_inplace",
]

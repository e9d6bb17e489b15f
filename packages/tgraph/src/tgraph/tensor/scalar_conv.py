"""Conversions between scalar variables (``tgraph.scalar``) and 0-d tensors.

``tensor_from_scalar`` turns a ScalarType variable into a 0-d tensor and
``scalar_from_tensor`` does the reverse (Theano's ``TensorFromScalar``/``ScalarFromTensor``).
Importing this module registers both directions: ``as_tensor_variable(scalar_var)`` goes
through ``tensor_from_scalar`` and ``tgraph.scalar.as_scalar(tensor_0d)`` through
``scalar_from_tensor``, so scalar and tensor graphs mix (a scalar symbolic shape entry, a
scalar used in a tensor expression). Constant lookups see through both.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.scalar.op import as_scalar, float_zeros_like, register_as_scalar
from tgraph.scalar.type import ScalarType, continuous_dtypes, get_scalar_type
from tgraph.tensor.basic import (
    as_tensor_variable,
    register_constant_value_finder,
    register_tensor_converter,
)
from tgraph.tensor.type import TensorType


class TensorFromScalar(Op):
    """A ScalarType variable as a 0-d tensor of the same dtype."""

    __props__ = ()

    def make_node(self, s: Any) -> Apply:
        if isinstance(s, Variable) and not isinstance(s.type, ScalarType):
            raise TypeError(
                f"TensorFromScalar: expected a scalar (ScalarType) variable, got {s} of type "
                f"{s.type}"
            )
        s = as_scalar(s)
        return Apply(self, [s], [TensorType(s.type.dtype, ())()])

    def perform(self, node, inputs, output_storage, params=None):
        (s,) = inputs
        output_storage[0][0] = np.asarray(s, dtype=node.outputs[0].type.dtype)

    def infer_shape(self, node, input_shapes):
        return [()]

    def grad(self, inputs, output_grads):
        (s,) = inputs
        (dt,) = output_grads
        if s.type.dtype in continuous_dtypes:
            return [scalar_from_tensor(dt)]
        # A discrete input: the function is locally constant; Theano's engine wants floatX.
        return [float_zeros_like(s)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(*eval_points, return_list=True)


class ScalarFromTensor(Op):
    """A 0-d tensor as a ScalarType variable of the same dtype."""

    __props__ = ()

    def make_node(self, t: Any) -> Apply:
        t = as_tensor_variable(t)
        if t.type.ndim != 0:
            raise TypeError(
                f"ScalarFromTensor: expected a 0-d tensor, got {t} ({t.type}, "
                f"{t.type.ndim} dimension(s))"
            )
        return Apply(self, [t], [get_scalar_type(t.type.dtype).make_variable()])

    def perform(self, node, inputs, output_storage, params=None):
        (t,) = inputs
        dtype = node.outputs[0].type.dtype
        output_storage[0][0] = np.asarray(t, dtype=dtype)[()]

    def infer_shape(self, node, input_shapes):
        return [()]

    def grad(self, inputs, output_grads):
        (t,) = inputs
        (dt,) = output_grads
        if t.type.dtype not in continuous_dtypes:
            return [tensor_from_scalar(float_zeros_like(dt))]
        return [tensor_from_scalar(dt)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(*eval_points, return_list=True)


tensor_from_scalar = TensorFromScalar()
scalar_from_tensor = ScalarFromTensor()


def _to_tensor(var: Variable) -> Variable:
    return tensor_from_scalar(var)


def _to_scalar(var: Variable) -> Variable:
    return scalar_from_tensor(var)


@register_constant_value_finder(TensorFromScalar)
def _tensor_from_scalar_constant(var, recurse):
    return recurse(var.owner.inputs[0])


@register_constant_value_finder(ScalarFromTensor)
def _scalar_from_tensor_constant(var, recurse):
    return recurse(var.owner.inputs[0])


register_tensor_converter(ScalarType, _to_tensor)
register_as_scalar(TensorType, _to_scalar)

__all__ = ["ScalarFromTensor", "TensorFromScalar", "scalar_from_tensor", "tensor_from_scalar"]

"""The tensor library (``theano.tensor``): types, variables and the op families.

Each op module is importable on its own; this package namespace gathers their public names.
"""

from tgraph.tensor.basic import (
    AsTensorError,
    NotScalarConstantError,
    as_tensor,
    as_tensor_variable,
    constant,
    get_scalar_constant_value,
    get_vector_length,
)
from tgraph.tensor.rebroadcast import Rebroadcast, addbroadcast, patternbroadcast, unbroadcast
from tgraph.tensor.type import *  # noqa: F403  (constructors: scalar, fmatrix, tensor3, ...)
from tgraph.tensor.type import CONSTRUCTOR_NAMES, TensorType, normalize_dtype, tensor
from tgraph.tensor.variable import (
    TensorConstant,
    TensorConstantSignature,
    TensorVariable,
    _tensor_py_operators,
)

__all__ = [
    "AsTensorError",
    "NotScalarConstantError",
    "Rebroadcast",
    "TensorConstant",
    "TensorConstantSignature",
    "TensorType",
    "TensorVariable",
    "_tensor_py_operators",
    "addbroadcast",
    "as_tensor",
    "as_tensor_variable",
    "constant",
    "get_scalar_constant_value",
    "get_vector_length",
    "normalize_dtype",
    "patternbroadcast",
    "tensor",
    "unbroadcast",
    *CONSTRUCTOR_NAMES,
]

"""Turning Python values and Variables into tensor Variables, and reading constant values.

``as_tensor_variable`` is the front door of every tensor Op's ``make_node``. Other modules
extend it through registries rather than imports (so this module stays at the bottom of the
tensor package): how to turn a variable of another Type into a tensor
(:func:`register_tensor_converter`), how to stack a list of variables, and how to see through
an Op when looking for a constant value (:func:`register_constant_value_finder`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.tensor.type import TensorType

_converters: list[tuple[type, Callable]] = []
_list_stacker: list[Callable] = []
_constant_finders: dict[type, Callable] = {}


class AsTensorError(TypeError):
    """A value or variable cannot be used as a tensor (operators then return NotImplemented)."""


class NotScalarConstantError(Exception):
    """The variable's value is not a known scalar constant."""


EmptyConstantError = NotScalarConstantError


def register_tensor_converter(type_cls: type, fn: Callable) -> None:
    """``fn(var) -> TensorVariable`` converts Variables whose ``type`` is a ``type_cls``."""
    _converters.append((type_cls, fn))


def register_list_stacker(fn: Callable) -> None:
    """``fn(list_of_variables) -> TensorVariable`` (``stack``), used for lists of Variables."""
    _list_stacker[:] = [fn]


def register_constant_value_finder(op_cls: type):
    """Decorator: ``fn(node, finder) -> value`` sees through ``op_cls`` in constant lookups."""

    def deco(fn):
        _constant_finders[op_cls] = fn
        return fn

    return deco


def as_tensor_variable(x: Any, name: str | None = None, ndim: int | None = None):
    """``x`` as a tensor Variable: tensors pass through, numbers and arrays become constants.

    With ``ndim``, missing leading dimensions are added as broadcastable, and extra leading
    broadcastable dimensions are dropped; anything else is an error.
    """
    if isinstance(x, Apply):
        x = x.default_output()
    if isinstance(x, Variable):
        if not isinstance(x.type, TensorType):
            for type_cls, fn in _converters:
                if isinstance(x.type, type_cls):
                    x = fn(x)
                    break
            else:
                raise AsTensorError(
                    f"cannot use {x} of type {x.type} as a tensor; expected a variable of "
                    "TensorType"
                )
        if ndim is None or x.type.ndim == ndim:
            return x
        return _adjust_ndim(x, ndim)
    if isinstance(x, list | tuple) and any(isinstance(e, Variable) for e in _flatten(x)):
        if not _list_stacker:
            raise AsTensorError("stacking a list of variables needs the tensor library loaded")
        return as_tensor_variable(_list_stacker[0](list(x)), name, ndim)
    try:
        return constant(x, name=name, ndim=ndim)
    except (TypeError, ValueError) as exc:
        raise AsTensorError(f"cannot convert {x!r} to a tensor variable: {exc}") from exc


as_tensor = as_tensor_variable


def _flatten(x):
    for e in x:
        if isinstance(e, list | tuple):
            yield from _flatten(e)
        else:
            yield e


def _adjust_ndim(x, ndim: int):
    b = x.type.broadcastable
    if x.type.ndim > ndim:
        extra = x.type.ndim - ndim
        if not all(b[:extra]):
            raise ValueError(
                f"cannot make {x} ({x.type}) {ndim}-dimensional: its leading "
                f"{extra} dimension(s) are not broadcastable"
            )
        return x.dimshuffle(*range(extra, x.type.ndim))
    return x.dimshuffle(*(["x"] * (ndim - x.type.ndim) + list(range(x.type.ndim))))


def constant(x: Any, name: str | None = None, ndim: int | None = None, dtype: Any = None):
    """A TensorConstant holding ``x``, with Theano's rules for the dtype of Python numbers."""
    from tgraph.scalar.type import convert

    if isinstance(x, Variable):
        raise TypeError(f"constant() expects a value, got the variable {x}")
    x_ = convert(x, dtype=dtype)
    if not isinstance(x_, np.ndarray):
        x_ = np.asarray(x_)
    if x_.dtype == object:
        raise TypeError(f"cannot make a tensor constant from {type(x).__name__} {x!r}")
    bcast = [d == 1 for d in x_.shape]
    if ndim is not None:
        if len(bcast) < ndim:
            x_ = x_.reshape((1,) * (ndim - len(bcast)) + x_.shape)
            bcast = [True] * (ndim - len(bcast)) + bcast
        elif len(bcast) > ndim:
            extra = len(bcast) - ndim
            if not all(bcast[:extra]):
                raise ValueError(f"cannot make a {ndim}-d constant from shape {x_.shape}")
            x_ = x_.reshape(x_.shape[extra:])
            bcast = bcast[extra:]
    ttype = TensorType(x_.dtype, bcast)
    cls = ttype.Constant or Constant
    return cls(ttype, x_, name=name)


def get_scalar_constant_value(v: Any, elemwise: bool = True, only_process_constants: bool = False,
                              max_recur: int = 10):
    """The value of ``v`` as a NumPy scalar when the graph makes it a known constant.

    Sees through the Ops that registered a finder (casts, dimshuffles, shapes of known
    size...). Raises NotScalarConstantError otherwise.
    """
    if isinstance(v, int | float | complex | bool | np.number | np.bool_):
        return np.asarray(v)
    if isinstance(v, np.ndarray):
        return _scalar_of(v, v)
    if isinstance(v, Constant):
        data = v.data
        return _scalar_of(np.asarray(data), v)
    if not isinstance(v, Variable) or v.owner is None or only_process_constants:
        raise NotScalarConstantError(v)
    if max_recur <= 0:
        raise NotScalarConstantError(v)
    finder = _constant_finders.get(type(v.owner.op))
    if finder is None:
        raise NotScalarConstantError(v)

    def recurse(w):
        return get_scalar_constant_value(w, elemwise=elemwise, max_recur=max_recur - 1)

    value = finder(v, recurse)
    if value is None:
        raise NotScalarConstantError(v)
    return np.asarray(value)


def _scalar_of(arr: np.ndarray, origin):
    if arr.size == 0:
        raise NotScalarConstantError(origin)
    flat = arr.reshape(-1)
    if arr.ndim == 0 or np.all(flat == flat[0]):
        return flat[0].copy() if hasattr(flat[0], "copy") else np.asarray(flat[0])
    raise NotScalarConstantError(origin)


def get_vector_length(v) -> int:
    """The length of a 1-d symbolic vector when the graph determines it, else ValueError."""
    v = as_tensor_variable(v)
    if v.ndim != 1:
        raise TypeError(f"expected a vector, got {v} with {v.ndim} dimensions")
    if v.type.broadcastable[0]:
        return 1
    if isinstance(v, Constant):
        return len(v.data)
    length_fn = getattr(v.owner.op, "vector_length", None) if v.owner else None
    if length_fn is not None:
        n = length_fn(v.owner)
        if n is not None:
            return n
    raise ValueError(f"the length of {v} cannot be determined from the graph")


__all__ = [
    "AsTensorError",
    "EmptyConstantError",
    "NotScalarConstantError",
    "as_tensor",
    "as_tensor_variable",
    "constant",
    "get_scalar_constant_value",
    "get_vector_length",
    "register_constant_value_finder",
    "register_list_stacker",
    "register_tensor_converter",
]

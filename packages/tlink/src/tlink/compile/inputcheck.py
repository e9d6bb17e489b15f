"""Messages for arguments a compiled function refuses.

A user who passes a float64 array to a float32 function should read, in one line, which
function, which argument, what it expected, what it got and how to fix it, e.g.::

    Bad input argument to theano function "train" at index 0 (x): expected a float32
    matrix, got a float64 ndarray of shape (400, 784). Cast it (x.astype("float32")) or
    pass allow_input_downcast=True.

followed by the Type's own explanation (``TensorType.filter``'s message).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.tensor.type import TensorType

__all__ = ["bad_input_message", "describe_type", "describe_value", "function_label"]

_KINDS = {
    (): "scalar",
    (False,): "vector",
    (True,): "vector of length 1",
    (False, False): "matrix",
    (True, False): "row (1 x n matrix)",
    (False, True): "column (n x 1 matrix)",
}


def function_label(name: str | None) -> str:
    """How messages name a function: ``train()`` for identifiers, else quoted."""
    if name and name.isidentifier():
        return f"{name}()"
    if name:
        return f'theano function "{name}"'
    return "theano function"


def describe_type(t: Any) -> str:
    """``a float32 matrix``, ``a float64 3-d tensor``, or ``a value of type <t>``."""
    if isinstance(t, TensorType):
        kind = _KINDS.get(t.broadcastable)
        if kind is None:
            kind = f"{t.ndim}-d tensor"
            if any(t.broadcastable):
                kind += f" with broadcastable pattern {t.broadcastable}"
        return f"a {t.dtype} {kind}"
    return f"a value of type {t}"


def describe_value(v: Any) -> str:
    """``a float64 ndarray of shape (400, 784)``, ``a Python float (0.5)``, ..."""
    if isinstance(v, np.ndarray):
        return f"a {v.dtype} ndarray of shape {v.shape}"
    if isinstance(v, np.generic):
        return f"a NumPy {v.dtype} scalar ({v!r})"
    if isinstance(v, bool | int | float | complex):
        return f"a Python {type(v).__name__} ({v!r})"
    if isinstance(v, list | tuple):
        return f"a Python {type(v).__name__} of length {len(v)}"
    if v is None:
        return "None"
    return f"a {type(v).__name__}"


def _hint(vtype: Any, value: Any, var_label: str, strict: bool) -> str:
    if not isinstance(vtype, TensorType):
        return ""
    try:
        arr = np.asarray(value)
    except Exception:
        return ""
    if arr.dtype == object:
        return ""
    if arr.ndim != vtype.ndim:
        return (f" The input has {vtype.ndim} dimension{'s' if vtype.ndim != 1 else ''}; "
                f"reshape the value or declare the variable with {arr.ndim}.")
    for axis, (b, size) in enumerate(zip(vtype.broadcastable, arr.shape)):
        if b and size != 1:
            return (f" Dimension {axis} is broadcastable (declared to have length 1) but "
                    f"has length {size}.")
    name = var_label if var_label.isidentifier() else "value"
    if strict:
        return (f" This input is strict (In(strict=True)): pass exactly a {vtype.dtype} "
                f"ndarray, e.g. {name}.astype(\"{vtype.dtype}\").")
    if arr.dtype != vtype.numpy_dtype:
        return (f" Cast it ({name}.astype(\"{vtype.dtype}\")) or pass "
                "allow_input_downcast=True.")
    return ""


def bad_input_message(fn_name: str | None, index: int, var_label: str, vtype: Any,
                      value: Any, exc: BaseException, strict: bool,
                      default: bool = False) -> str:
    """The whole message for an argument (or default value) the input's Type refused."""
    where = "default value for the input" if default else "input argument"
    fn = f'theano function "{fn_name}"' if fn_name else "theano function"
    head = (f"Bad {where} to {fn} at index {index} ({var_label}): expected "
            f"{describe_type(vtype)}, got {describe_value(value)}.")
    return f"{head}{_hint(vtype, value, var_label, strict)} Details: {exc}"

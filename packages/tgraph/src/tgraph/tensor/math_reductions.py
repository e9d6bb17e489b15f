"""The reducing half of ``theano.tensor``'s function library: sum, prod, mean, var, std, max,
min, argmax, argmin, ptp, all, any, allclose, norm.

Each takes Theano 1.0's arguments. ``keepdims=True`` puts the reduced axes back as
broadcastable dimensions with a DimShuffle after the reduction (``makeKeepDims``), as Theano
did, so the result broadcasts against the input.

Dtypes follow Theano 1.0: ``sum``/``prod`` of small integers give int64 (uint64 for unsigned),
``mean`` of float32 (or complex64) stays float32 because the element count is cast to float32
before dividing, while ``mean`` of integers is float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.graph.basic import Variable
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.math_elemwise import (
    abs_,
    cast,
    invert,
    isclose,
    mul,
    neg,
    pow,
    sqr,
    sqrt,
    sub,
    true_div,
)
from tgraph.tensor.reduction import (
    All,
    MaxAndArgmax,
    Prod,
    Sum,
    check_and_normalize_axes,
    makeKeepDims,
)
from tgraph.tensor.reduction import (
    Any as AnyOp,
)
from tgraph.tensor.shape import shape_i


def _keep(x: Variable, out: Variable, axis: Any, keepdims: bool) -> Variable:
    return makeKeepDims(x, out, axis) if keepdims else out


def sum(input: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
        acc_dtype: Any = None) -> Variable:
    """Sum over ``axis`` (None: all), with Sum's ``dtype``/``acc_dtype`` rules."""
    x = as_tensor_variable(input)
    out = Sum(axis=axis, dtype=dtype, acc_dtype=acc_dtype)(x)
    return _keep(x, out, axis, keepdims)


def prod(input: Any, axis: Any = None, dtype: Any = None, keepdims: bool = False,
         acc_dtype: Any = None, no_zeros_in_input: bool = False) -> Variable:
    """Product over ``axis``; ``no_zeros_in_input`` allows a simpler gradient."""
    x = as_tensor_variable(input)
    out = Prod(axis, dtype=dtype, acc_dtype=acc_dtype, no_zeros_in_input=no_zeros_in_input)(x)
    return _keep(x, out, axis, keepdims)


def max_and_argmax(a: Any, axis: Any = None, keepdims: bool = False) -> list[Variable]:
    """``[max, argmax]`` over ``axis`` (None or empty: all axes; the argmax indexes the
    reduced axes flattened in C order)."""
    a = as_tensor_variable(a)
    axes = check_and_normalize_axes(a, axis)
    if not axes:
        axes = list(range(a.type.ndim))
    out, argout = MaxAndArgmax(axes)(a)
    if keepdims:
        out = makeKeepDims(a, out, axes)
        argout = makeKeepDims(a, argout, axes)
    return [out, argout]


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Maximum over ``axis`` (output 0 of MaxAndArgmax, as in Theano 1.0, where an empty
    ``axis`` also means all axes)."""
    return max_and_argmax(x, axis, keepdims)[0]


def argmax(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Position of the maximum over ``axis`` (int64; the reduced axes flattened in C order)."""
    return max_and_argmax(x, axis, keepdims)[1]


def _reversed_order(x: Variable, fn_name: str) -> Variable:
    """A tensor whose order is the reverse of x's, without overflow.

    Floats: ``-x`` (Theano's graph). Integers and bools: ``~x`` (``-x - 1``, or ``max - x``
    for unsigned), exact where Theano's ``-x`` wrapped around at the most negative integer.
    """
    dtype = x.type.dtype
    if dtype.startswith("float"):
        return neg(x)
    if dtype.startswith(("int", "uint")) or dtype == "bool":
        return invert(x)
    raise NotImplementedError(f"{fn_name} is not implemented for {dtype} tensors ({x})")


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Minimum over ``axis``: ``-max(-x)`` for floats, ``~max(~x)`` for integers and bools."""
    x = as_tensor_variable(x)
    rev = _reversed_order(x, "min")
    out = max(rev, axis=axis, keepdims=keepdims)
    return neg(out) if x.type.dtype.startswith("float") else invert(out)


def argmin(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Position of the minimum over ``axis`` (int64)."""
    x = as_tensor_variable(x)
    return argmax(_reversed_order(x, "argmin"), axis=axis, keepdims=keepdims)


def ptp(a: Any, axis: Any = None) -> Variable:
    """Range (max - min) over ``axis``."""
    a = as_tensor_variable(a)
    return sub(max(a, axis), min(a, axis))


def all(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Whether all elements over ``axis`` are true (non-zero); bool."""
    x = as_tensor_variable(x)
    return _keep(x, All(axis)(x), axis, keepdims)


def any(x: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """Whether any element over ``axis`` is true (non-zero); bool."""
    x = as_tensor_variable(x)
    return _keep(x, AnyOp(axis)(x), axis, keepdims)


def allclose(a: Any, b: Any, rtol: float = 1.0e-5, atol: float = 1.0e-8,
             equal_nan: bool = False) -> Variable:
    """Whether every element of a and b is close (:func:`isclose`); a bool scalar."""
    return all(isclose(a, b, rtol, atol, equal_nan))


def _axes_list(x: Variable, axis: Any) -> list[int]:
    if axis is None:
        return list(range(x.type.ndim))
    return check_and_normalize_axes(x, axis)


def _count_dtype(s: Variable) -> str:
    """The float dtype element counts are cast to before dividing ``s`` (Theano's mean)."""
    return "float32" if s.type.dtype in ("float16", "float32", "complex64") else "float64"


def _count(x: Variable, i: int, dtype: str) -> Variable:
    return cast(shape_i(x, i), dtype)


def mean(input: Any, axis: Any = None, dtype: Any = None, op: bool = False,
         keepdims: bool = False, acc_dtype: Any = None) -> Variable:
    """Mean over ``axis``: the sum (dtype rules of ``sum``) divided by the element counts.

    The counts are cast to float32 when the sum is float16/float32/complex64, else to
    float64, so ``mean`` keeps float32 and makes integers float64. float16 inputs are summed
    in float32 and the result cast back. ``op=True`` (Theano's float64-only Mean op) gives
    the same float64 result through this graph.
    """
    x = as_tensor_variable(input)
    if op:
        if dtype not in (None, "float64") or acc_dtype not in (None, "float64"):
            raise NotImplementedError(
                "mean(op=True) always computes in float64; call mean(..., op=False) to choose "
                f"dtype/acc_dtype (got dtype={dtype!r}, acc_dtype={acc_dtype!r})"
            )
        dtype = "float64"
    sum_dtype = dtype
    if dtype is None and x.type.dtype == "float16":
        sum_dtype = "float32"  # float16 overflows too easily
    s = sum(x, axis=axis, dtype=sum_dtype, keepdims=keepdims, acc_dtype=acc_dtype)
    count_dtype = _count_dtype(s)
    for i in _axes_list(x, axis):
        s = true_div(s, _count(x, i, count_dtype))
    if s.type.dtype != count_dtype and s.type.dtype.startswith(("int", "uint", "bool")):
        s = cast(s, count_dtype)  # no axis to reduce: the division never happened
    if dtype == "float16" or (dtype is None and x.type.dtype == "float16"):
        s = cast(s, "float16")
    s.name = "mean"
    return s


def var(input: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> Variable:
    """Variance over ``axis`` by the two-pass algorithm; ``ddof`` delta degrees of freedom;
    ``corrected=True`` subtracts the rounding-error term (the corrected two-pass algorithm).

    With ``ddof`` over several axes the divisor is ``N - ddof`` with N the number of
    reduced elements (NumPy's); Theano 1.0 divided by the product of ``n_i - ddof``. The
    count is cast as in :func:`mean`, so a float32 variance stays float32 with ``ddof`` too.
    """
    if isinstance(ddof, bool):
        raise ValueError(
            "var: ddof got a bool; the signature is var(input, axis=None, ddof=0, "
            "keepdims=False, corrected=False) (keepdims moved to position 3)"
        )
    x = as_tensor_variable(input)
    axes = _axes_list(x, axis)
    centered = sub(x, mean(x, axes, keepdims=True))
    two = constant(2, dtype=centered.type.dtype)
    if ddof == 0:
        v = mean(pow(centered, two), axes, keepdims=keepdims)
    else:
        ss = sum(pow(centered, two), axis=axes, keepdims=keepdims)
        n = cast(_n_elements(x, axes), _count_dtype(ss))
        v = true_div(ss, sub(n, ddof))
    if corrected:
        if ddof == 0:
            error = sqr(mean(centered, axes, keepdims=keepdims))
        else:
            error = true_div(sqr(sum(centered, axis=axes, keepdims=keepdims)),
                             mul(sub(n, ddof), n))
        v = sub(v, error)
    v.name = "var"
    return v


def _n_elements(x: Variable, axes: list[int]) -> Variable:
    """The number of elements over ``axes`` (an int64 scalar)."""
    n = constant(1, dtype="int64")
    for i in axes:
        n = mul(n, shape_i(x, i))
    return n


def std(input: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False,
        corrected: bool = False) -> Variable:
    """Standard deviation: ``sqrt(var(...))``."""
    if isinstance(ddof, bool):
        raise ValueError(
            "std: ddof got a bool; the signature is std(input, axis=None, ddof=0, "
            "keepdims=False, corrected=False) (keepdims moved to position 3)"
        )
    out = sqrt(var(input, axis=axis, ddof=ddof, keepdims=keepdims, corrected=corrected))
    out.name = "std"
    return out


def norm(x: Any, L: Any, axis: Any = None, keepdims: bool = False) -> Variable:
    """The L-norm over ``axis``: ``sum(|x| ** L) ** (1 / L)`` (TensorVariable.norm in Theano).

    L = 0 and infinite L are not implemented, as in Theano 1.0.
    """
    x = as_tensor_variable(x)
    if L == 0 or np.isinf(L):
        raise NotImplementedError(f"norm: L={L!r} is not implemented (use max/min of abs)")
    y = pow(sum(pow(abs_(x), L), axis=axis), 1.0 / L)
    return _keep(x, y, axis, keepdims)


__all__ = [
    "all",
    "allclose",
    "any",
    "argmax",
    "argmin",
    "max",
    "max_and_argmax",
    "mean",
    "min",
    "norm",
    "prod",
    "ptp",
    "std",
    "sum",
    "var",
]

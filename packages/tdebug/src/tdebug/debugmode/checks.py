"""The checks DebugMode applies to one node's values, and the layouts it reruns nodes with.

Each function here looks at values only (no graph walking), so the linker can call them per
node without work that grows with the graph. Comparisons follow the variable's Type:
``values_eq_approx`` (dtype-aware tolerances) for results, exact equality (NaN equal to
NaN) for "was this input changed".
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tdebug.debugmode.errors import InvalidValueError

__all__ = [
    "INPUT_LAYOUTS",
    "check_value",
    "copy_value",
    "input_layouts",
    "preallocated_outputs",
    "same_replaced_value",
    "same_value",
    "unchanged",
]

#: The input layouts the stride check reruns a node with, in the order they are tried.
INPUT_LAYOUTS = ("non-contiguous", "reversed", "f_contiguous")


def copy_value(value: Any) -> Any:
    """A copy that a thunk may overwrite without touching ``value`` (same memory layout)."""
    if isinstance(value, np.ndarray):
        return value.copy(order="K")
    if value is None or isinstance(value, int | float | complex | bool | str | np.generic):
        return value
    return copy.deepcopy(value)


def unchanged(before: Any, after: Any) -> bool:
    """Whether ``after`` still holds exactly ``before``'s value (NaN equals NaN)."""
    if before is after:
        return True
    if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
        if before.shape != after.shape or before.dtype != after.dtype:
            return False
        return _bitwise_equal(before, after)
    try:
        return bool(before == after)
    except Exception:  # objects without a usable ==
        return False


_UINTS = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def _bitwise_equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Same shape, dtype and bits (so NaN equals NaN): compared as unsigned integers, which
    is ~20 times faster than ``array_equal(equal_nan=True)`` on floats."""
    uint = _UINTS.get(a.dtype.itemsize)
    if uint is not None and a.dtype.kind in "fciub":
        return bool(np.array_equal(a.view(uint), b.view(uint)))
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def same_value(var: Any, a: Any, b: Any, values_eq: Callable | None = None) -> bool:
    """Whether two results for ``var`` agree within its Type's tolerance.

    ``values_eq`` overrides the Type's ``values_eq_approx`` (rewrites that knowingly change
    values, e.g. removing an Inf, leave one on the new variable's tag, as in Theano 1.0).
    """
    if a is b:
        return True
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if _bitwise_equal(a, b):
            return True
    compare = (values_eq or getattr(var.tag, "values_eq_approx", None)
               or getattr(var.type, "values_eq_approx", None))
    if compare is None:
        return unchanged(a, b)
    try:
        return bool(compare(a, b))
    except Exception:
        return unchanged(a, b)


def same_replaced_value(var: Any, old: Any, new: Any, values_eq: Callable | None = None
                        ) -> bool:
    """Whether a rewrite kept ``var``'s value: ``new`` agrees with ``old`` wherever ``old``
    is finite.

    Where the old graph overflowed to Inf or NaN, the new one may give a number: that is
    what the stabilization rewrites are for (Theano 1.0 tagged their outputs with
    ``values_eq_approx_remove_inf_nan``; here it is the rule for every replacement). A
    number turned into NaN or Inf, or into another number, is still a difference.
    """
    if (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)
            and old.dtype.kind in "fc" and old.shape == new.shape and old.dtype == new.dtype):
        finite = np.isfinite(old)
        if not finite.all():
            old, new = old[finite], new[finite]
    return same_value(var, old, new, values_eq)


def check_value(var: Any, value: Any, check_isfinite: bool, client: Any = None) -> None:
    """Raise InvalidValueError when ``value`` does not fit ``var.type`` (or is not finite)."""
    filt = getattr(var.type, "filter", None)
    if filt is not None:
        try:
            filt(value, strict=True)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(var, value, client, hint=str(exc)) from None
    # Outputs whose values are garbage by design (AllocEmpty) say so on their tag.
    check_isfinite = check_isfinite and getattr(var.tag, "nan_guard_mode_check", True)
    if check_isfinite and isinstance(value, np.ndarray) and value.dtype.kind in "fc":
        finite = np.isfinite(value)
        if not finite.all():
            bad = np.argwhere(~finite)
            first = tuple(int(i) for i in bad[0])
            raise InvalidValueError(
                var, value, client, hint="non-finite elements (flag DebugMode.check_finite)",
                specific_hint=(f"{len(bad)} of {value.size} elements are NaN or Inf, the first "
                               f"at index {first}: {value[first]}"))


def _garbage(shape: tuple, dtype: np.dtype, order: str = "C") -> np.ndarray:
    """An array whose values make a thunk that reads its output storage visibly wrong."""
    out = np.empty(shape, dtype=dtype, order=order)
    if dtype.kind in "fc":
        out.fill(np.nan)
    elif dtype.kind in "iu":
        out.fill(np.iinfo(dtype).max)
    elif dtype.kind == "b":
        out.fill(True)
    return out


def _strided(shape: tuple, dtype: np.dtype, inner: int) -> np.ndarray:
    """A view with a step of 2 on the last ``inner`` dimensions of a bigger garbage array."""
    k = min(inner, len(shape))
    big = tuple(s * 2 if j >= len(shape) - k else s for j, s in enumerate(shape))
    index = tuple(slice(None, None, 2) if j >= len(shape) - k else slice(None)
                  for j in range(len(shape)))
    return _garbage(big, dtype)[index]


def preallocated_outputs(kinds: list[str], reference: list, previous: list | None,
                         strided_ndim: int) -> Iterator[tuple[str, list]]:
    """``(name, output values to preallocate)`` for each of Theano 1.0's preallocation
    kinds: 'initial' (garbage, the reference's layout), 'previous' (the last call's result),
    'c_contiguous', 'f_contiguous', 'strided' and 'wrong_size' (garbage of another shape).
    Outputs that are not ndarrays get None (the thunk allocates)."""

    def each(make: Callable) -> list:
        return [make(r) if isinstance(r, np.ndarray) else None for r in reference]

    for kind in kinds:
        if kind == "initial":
            yield kind, each(lambda r: _garbage(r.shape, r.dtype, "F" if (
                r.flags.f_contiguous and not r.flags.c_contiguous) else "C"))
        elif kind == "previous":
            if previous is not None:
                yield kind, [copy_value(p) for p in previous]
        elif kind == "c_contiguous":
            yield kind, each(lambda r: _garbage(r.shape, r.dtype, "C"))
        elif kind == "f_contiguous":
            yield kind, each(lambda r: _garbage(r.shape, r.dtype, "F"))
        elif kind == "strided":
            yield kind, each(lambda r: _strided(r.shape, r.dtype, strided_ndim))
        elif kind == "wrong_size":
            yield "wrong_size (larger)", each(lambda r: _garbage(
                tuple(s + 1 for s in r.shape), r.dtype))
            yield "wrong_size (smaller)", each(lambda r: _garbage(
                tuple(max(s - 1, 0) for s in r.shape), r.dtype))


def _relayout(value: Any, layout: str) -> Any:
    if not isinstance(value, np.ndarray) or value.ndim == 0 or value.size <= 1:
        return copy_value(value)
    if layout == "non-contiguous":
        out = _strided(value.shape, value.dtype, value.ndim)
    elif layout == "reversed":
        out = np.empty(value.shape, value.dtype)[(slice(None, None, -1),) * value.ndim]
    else:
        out = np.empty(value.shape, value.dtype, order="F")
    out[...] = value
    return out


def input_layouts(values: list) -> Iterator[tuple[str, list]]:
    """``(layout, inputs)``: the inputs copied into each of :data:`INPUT_LAYOUTS`.

    Layouts that would give back the same strides for every input (a vector is already
    "Fortran") are skipped, so nothing runs twice for nothing.
    """
    for layout in INPUT_LAYOUTS:
        moved = [_relayout(v, layout) for v in values]
        if any(isinstance(v, np.ndarray) and isinstance(m, np.ndarray)
               and m.strides != v.strides for v, m in zip(values, moved)):
            yield layout, moved

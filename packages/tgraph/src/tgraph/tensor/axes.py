"""Reordering and inserting axes: transpose, swapaxes and the shape_pad* helpers.

All are DimShuffles (reached through the variable's ``dimshuffle`` method, so this module
needs no import of the elemwise module). :mod:`tgraph.tensor.shape` re-exports them: that is
where TensorVariable's ``T``/``transpose``/``swapaxes`` look.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph.tensor.basic import as_tensor_variable


def _as_int(value: Any) -> int | None:
    if isinstance(value, numbers.Integral | np.integer):
        return int(value)
    return None


def _normalize_axis(axis: Any, ndim: int, where: str) -> int:
    as_int = _as_int(axis)
    if as_int is None:
        raise TypeError(f"{where}: axis must be an integer, got {axis!r}")
    if not -ndim <= as_int < ndim:
        raise IndexError(f"{where}: axis {as_int} is out of bounds for {ndim} dimensions")
    return as_int + ndim if as_int < 0 else as_int


def transpose(x, axes: Sequence[int] | None = None):
    """``x`` with its dimensions permuted (numpy.transpose; default: reversed)."""
    x = as_tensor_variable(x)
    reverse = list(range(x.ndim - 1, -1, -1))
    if axes is None:
        axes = reverse
    else:
        axes = [_normalize_axis(a, x.ndim, "transpose") for a in axes]
        if sorted(axes) != list(range(x.ndim)):
            raise ValueError(
                f"transpose: axes {tuple(axes)} are not a permutation of the {x.ndim} "
                f"dimensions of {x} ({x.type})"
            )
    out = x.dimshuffle(*axes)
    if x.name and list(axes) == reverse:
        out.name = x.name + ".T"
    return out


def swapaxes(y, axis1: int, axis2: int):
    """``y`` with two dimensions exchanged (numpy.swapaxes)."""
    y = as_tensor_variable(y)
    order = list(range(y.ndim))
    a1 = _normalize_axis(axis1, y.ndim, "swapaxes")
    a2 = _normalize_axis(axis2, y.ndim, "swapaxes")
    order[a1], order[a2] = order[a2], order[a1]
    return y.dimshuffle(*order)


def shape_padleft(t, n_ones: int = 1):
    """``t`` with ``n_ones`` broadcastable dimensions added on the left."""
    t = as_tensor_variable(t)
    return t.dimshuffle(*(["x"] * n_ones + list(range(t.ndim))))


def shape_padright(t, n_ones: int = 1):
    """``t`` with ``n_ones`` broadcastable dimensions added on the right."""
    t = as_tensor_variable(t)
    return t.dimshuffle(*(list(range(t.ndim)) + ["x"] * n_ones))


def shape_padaxis(t, axis: int):
    """``t`` with a broadcastable dimension inserted at ``axis`` (may be negative)."""
    t = as_tensor_variable(t)
    ndim = t.ndim + 1
    as_int = _as_int(axis)
    if as_int is None:
        raise TypeError(f"shape_padaxis: axis must be an integer, got {axis!r}")
    if not -ndim <= as_int < ndim:
        raise IndexError(f"shape_padaxis: axis {as_int} is out of bounds [-{ndim}, {ndim})")
    if as_int < 0:
        as_int += ndim
    order: list = list(range(t.ndim))
    order.insert(as_int, "x")
    return t.dimshuffle(*order)


__all__ = ["shape_padaxis", "shape_padleft", "shape_padright", "swapaxes", "transpose"]

"""Helpers shared by the nnet ops: input checks with one error class, gradient fitting.

Theano 1.0 raised ``ValueError`` for a wrong rank or dtype in most nnet ops and ``TypeError``
in others (``CrossentropyCategorical1Hot``); :class:`NNetInputError` is both, so code written
against either catches it.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np

from tgraph.graph.basic import Variable
from tgraph.tensor import math as tm
from tgraph.tensor.basic import as_tensor_variable

FLOAT_DTYPES = ("float16", "float32", "float64")
INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

_NDIM_WORDS = {0: "scalar", 1: "vector", 2: "matrix"}


class NNetInputError(TypeError, ValueError):
    """A neural-network op got an input of the wrong rank, dtype or shape."""


def _describe(var: Variable) -> str:
    ndim = var.type.ndim
    dtype = var.type.dtype
    article = "an" if dtype[0] in "aeiou" else "a"
    return f"{article} {dtype} {_NDIM_WORDS.get(ndim, f'{ndim}-d tensor')}"


def _expected(ndims: Collection[int], kind: str) -> str:
    ranks = " or ".join(_NDIM_WORDS.get(n, f"{n}-d tensor") for n in sorted(ndims))
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind} {ranks}"


def checked_input(op: Any, name: str, x: Any, ndims: Collection[int],
                  dtypes: Collection[str] = FLOAT_DTYPES) -> Variable:
    """``x`` as a tensor variable, or :class:`NNetInputError` naming ``op`` and ``name``.

    ``dtypes`` are the accepted dtypes: float (float16/32/64) by default, or ``INT_DTYPES``
    for class indices.
    """
    x = as_tensor_variable(x)
    if x.type.ndim not in ndims or x.type.dtype not in dtypes:
        kind = "float" if tuple(dtypes) == FLOAT_DTYPES else "integer"
        raise NNetInputError(
            f"{op}: {name} is {_describe(x)}, expected {_expected(ndims, kind)}"
        )
    return x


def check_class_indices(op: Any, y_idx: np.ndarray, n_classes: int) -> None:
    """Refuse class indices outside ``[0, n_classes)`` (NumPy would wrap negative ones)."""
    if y_idx.size and (y_idx.min() < 0 or y_idx.max() >= n_classes):
        bad = y_idx[(y_idx < 0) | (y_idx >= n_classes)][0]
        raise NNetInputError(
            f"{op}: y_i value out of bounds: class index {bad} for {n_classes} classes "
            f"(expected 0 <= y_idx < {n_classes})"
        )


def check_rows(op: Any, what: str, got: int, rows: int) -> None:
    """Refuse a per-row input whose length is not the number of rows."""
    if got != rows:
        raise NNetInputError(
            f"{op}: {what} has length {got} but the matrix has {rows} rows; they must match"
        )


def fit_grad(g: Variable, x: Variable) -> Variable:
    """``g`` given ``x``'s type: summed over the dimensions ``x`` broadcasts, cast to its dtype.

    The gradient engine expects each input's gradient to have that input's type; an op whose
    inputs may be declared broadcastable (a padded vector) or of a different float dtype than
    its output (a float64 bias on a float32 matrix) reduces and casts here.
    """
    axes = [d for d, (bx, bg) in enumerate(zip(x.type.broadcastable, g.type.broadcastable))
            if bx and not bg]
    if axes:
        g = tm.sum(g, axis=axes, keepdims=True)
    if g.type.dtype != x.type.dtype:
        g = tm.cast(g, x.type.dtype)
    return g


def compute_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype to compute in: float16 is too imprecise for exp/log sums, so float32."""
    return np.dtype("float32") if dtype == np.float16 else dtype

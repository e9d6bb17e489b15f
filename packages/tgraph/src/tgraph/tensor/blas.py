"""BLAS ops: Gemv, Gemm, Ger, Dot22 and Dot22Scalar (Theano 1.0's ``theano.tensor.blas``).

Users write ``dot``; the optimizer (topt's BLAS rewrites) turns products, and the sums of
scaled products around them, into these ops so that one BLAS call does the multiply, the
scaling and the accumulation:

==============  ========================================  ==========================
op              computes                                  inputs
==============  ========================================  ==========================
Gemv(inplace)   ``beta * y + alpha * dot(A, x)``          y, alpha, A, x, beta
Gemm(inplace)   ``beta * Z + alpha * dot(X, Y)``          Z, alpha, X, Y, beta
Ger(destr.)     ``A + alpha * outer(x, y)``               A, alpha, x, y
Dot22           ``dot(X, Y)``                             X, Y
Dot22Scalar     ``a * dot(X, Y)``                         X, Y, a
==============  ========================================  ==========================

With ``beta == 0`` the accumulator's values are ignored (it may hold garbage, e.g. the output
of AllocEmpty, or NaN), as BLAS specifies. The in-place variants overwrite their first input
(``destroy_map = {0: [0]}``); the optimizer introduces them only late, under the destroy
bookkeeping. ``perform`` calls SciPy's BLAS wrappers for float32/float64/complex64/complex128
(passing Fortran-ordered views, transposing the problem rather than copying when an operand is
C-ordered) and NumPy otherwise; the C versions belong to tlink's C backend.

Dtype rules: the vector and matrix operands share one dtype (Gemm, Ger, Dot22 and Dot22Scalar:
a floating or complex one, as in Theano; Gemv: any numeric dtype). The scalars ``alpha`` and
``beta`` are 0-d tensors whose dtype converts to that dtype without changing kind (Theano 1.0
wanted them equal; the optimizer always builds them equal, and the laxer rule lets user code
write ``gemv_no_inplace(y, 1.0, A, x, 0.0)`` in float32).
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.graph.basic import Apply, view_roots
from tgraph.graph.fg import InconsistencyError
from tgraph.graph.op import Op
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.blas_c import (
    BLAS_C_VERSION,
    BLAS_INIT,
    BLAS_SUPPORT,
    SHAPE_HELPER,
    blas_c_code,
)
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.shape import _describe
from tgraph.tensor.type import TensorType

#: dtypes Gemm, Ger, Dot22 and Dot22Scalar accept (Theano 1.0's list).
BLAS_DTYPES = ("float16", "float32", "float64", "complex64", "complex128")
#: dtypes SciPy's BLAS wrappers handle; others use NumPy.
_SCIPY_DTYPES = ("float32", "float64", "complex64", "complex128")


@cache
def _scipy_blas(name: str, dtype: str):
    """SciPy's wrapper of BLAS routine ``name`` for ``dtype`` (sgemv, zgeru, ...), or None."""
    if dtype not in _SCIPY_DTYPES:
        return None
    try:
        from scipy.linalg import blas
    except ImportError:  # pragma: no cover - scipy is a dependency; NumPy still works
        return None
    if name == "ger" and dtype.startswith("complex"):
        name = "geru"  # the unconjugated rank-1 update: A + alpha x y^T
    prefix = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}[dtype]
    return getattr(blas, prefix + name, None)


def _fortran_operand(m: np.ndarray) -> tuple[np.ndarray, int]:
    """``(arr, trans)`` with ``arr`` Fortran-contiguous and ``op(arr) == m``; copies only
    when ``m`` is neither C- nor Fortran-contiguous."""
    if m.flags.f_contiguous:
        return m, 0
    if m.flags.c_contiguous:
        return m.T, 1
    return np.asfortranarray(m), 0


def _is_zero(v: Any) -> bool:
    return bool(v == 0)


# ---------------------------------------------------------------------------------------------
# input checks


def _tensor_inputs(op: Op, inputs: tuple, names: tuple[str, ...]) -> list:
    if len(inputs) != len(names):
        raise TypeError(
            f"{op}: expected {len(names)} inputs ({', '.join(names)}), got {len(inputs)}"
        )
    return [as_tensor_variable(i) for i in inputs]


def _check_rank(op: Op, pos: int, name: str, v, ndim: int) -> None:
    if v.ndim != ndim:
        what = {0: "a scalar", 1: "a vector", 2: "a matrix"}[ndim]
        raise TypeError(f"{op}: {name} (input {pos}) must be {what}, got {_describe(v)}")


def _check_dtypes(op: Op, named: list[tuple[int, str, Any]], allowed: tuple[str, ...] | None
                  ) -> str:
    """The one dtype shared by the vector/matrix operands ``named``; a clear error otherwise."""
    dtypes = {v.dtype for _, _, v in named}
    if len(dtypes) != 1:
        listing = ", ".join(f"{name} (input {pos}) is {v.dtype}" for pos, name, v in named)
        raise TypeError(f"{op}: operands must have one dtype, got {listing}; cast them first")
    dtype = dtypes.pop()
    if allowed is not None and dtype not in allowed:
        raise TypeError(
            f"{op}: dtype {dtype} is not supported; expected one of {', '.join(allowed)}"
        )
    if allowed is None and dtype == "bool":
        raise TypeError(f"{op}: dtype bool is not supported; expected a numeric dtype")
    return dtype


def _check_scalar(op: Op, pos: int, name: str, v, dtype: str) -> None:
    _check_rank(op, pos, name, v, 0)
    if not np.can_cast(v.dtype, dtype, "same_kind"):
        raise TypeError(
            f"{op}: {name} (input {pos}) is {v.dtype}, which does not convert to the "
            f"operands' dtype {dtype} without changing kind"
        )


def _check_no_alias(op: Op, z, others: list) -> None:
    """An in-place op must not overwrite memory that another of its operands views."""
    roots = set(view_roots(z))
    for o in others:
        if roots.intersection(view_roots(o)):
            raise InconsistencyError(
                f"{op}: the output overwrites {z}, which is (a view of) the same memory as "
                f"operand {o}; use the no_inplace version"
            )


def _shape_error(op: Op, formula: str, **shapes: tuple) -> ValueError:
    listing = ", ".join(f"{k}: {v}" for k, v in shapes.items())
    return ValueError(f"{op}: shapes do not match for {formula} ({listing})")


def _scalar_value(v: np.ndarray, dtype: str):
    return np.asarray(v).astype(dtype).item()


def _float_grad_dtype(v) -> str | None:
    """The dtype of ``v``'s gradient, or None when ``v`` is discrete (no gradient)."""
    return v.dtype if v.dtype.startswith(("float", "complex")) else None


def _grad_as(g, v):
    """``g`` shaped for input ``v``: cast to its dtype, broadcast pattern restored."""
    from tgraph.tensor.alloc import zeros_like
    from tgraph.tensor.math import cast

    if _float_grad_dtype(v) is None:
        return zeros_like(v, dtype=config.floatX)
    if g.dtype != v.dtype:
        g = cast(g, v.dtype)
    if g.ndim:
        g = patternbroadcast(g, v.type.broadcastable)
    return g


# ---------------------------------------------------------------------------------------------
# numeric kernels


def _gemm_values(alpha, x: np.ndarray, y: np.ndarray, beta, z: np.ndarray | None,
                 overwrite: bool) -> np.ndarray:
    """``beta * z + alpha * x @ y`` (z ignored when None or beta == 0); may write into z."""
    dtype = x.dtype
    fn = _scipy_blas("gemm", str(dtype))
    use_z = z is not None and not _is_zero(beta)
    if fn is None or 0 in x.shape or 0 in y.shape:
        prod = np.dot(x, y)
        res = prod * alpha if alpha != 1 else prod
        if use_z:
            res = res + (z * beta if beta != 1 else z)
        res = np.asarray(res, dtype=dtype)
        if overwrite and z is not None:
            z[...] = res
            return z
        return res
    a = _scalar_value(alpha, str(dtype))
    b = _scalar_value(beta, str(dtype)) if use_z else 0.0
    if use_z and z.flags.f_contiguous:
        xa, tx = _fortran_operand(x)
        ya, ty = _fortran_operand(y)
        res = fn(a, xa, ya, b, z, trans_a=tx, trans_b=ty, overwrite_c=int(overwrite))
    else:
        # Transpose the problem (Z^T = alpha Y^T X^T + beta Z^T): a C-ordered Z is a
        # Fortran-ordered Z^T, and a fresh result comes out C-ordered.
        ya, ty = _fortran_operand(y.T)
        xa, tx = _fortran_operand(x.T)
        if use_z:
            res = fn(a, ya, xa, b, z.T, trans_a=ty, trans_b=tx, overwrite_c=int(overwrite)).T
        else:
            res = fn(a, ya, xa, trans_a=ty, trans_b=tx).T
    if overwrite and z is not None and res is not z and not np.shares_memory(res, z):
        z[...] = res
        return z
    return res


def _gemv_values(y: np.ndarray, alpha, A: np.ndarray, x: np.ndarray, beta, overwrite: bool
                 ) -> np.ndarray:
    """``beta * y + alpha * A @ x`` (y ignored when beta == 0); may write into y."""
    dtype = y.dtype
    fn = _scipy_blas("gemv", str(dtype))
    use_y = not _is_zero(beta)
    if fn is None or 0 in A.shape:
        prod = np.dot(A, x)
        res = prod * alpha if alpha != 1 else prod
        if use_y:
            res = res + (y * beta if beta != 1 else y)
        res = np.asarray(res, dtype=dtype)
        if overwrite:
            y[...] = res
            return y
        return res
    a = _scalar_value(alpha, str(dtype))
    arr, trans = _fortran_operand(A)
    if use_y:
        res = fn(a, arr, x, _scalar_value(beta, str(dtype)), y, trans=trans,
                 overwrite_y=int(overwrite))
    else:
        res = fn(a, arr, x, trans=trans)
    if overwrite and res is not y and not np.shares_memory(res, y):
        y[...] = res
        return y
    return res


def _ger_values(A: np.ndarray, alpha, x: np.ndarray, y: np.ndarray, overwrite: bool
                ) -> np.ndarray:
    """``A + alpha * outer(x, y)``; writes into A when ``overwrite``."""
    dtype = A.dtype
    fn = _scipy_blas("ger", str(dtype))
    if fn is None or A.size == 0:
        res = A if overwrite else A.copy()
        if A.size:
            res += alpha * np.outer(x, y) if alpha != 1 else np.outer(x, y)
        return res
    a = _scalar_value(alpha, str(dtype))
    if A.flags.f_contiguous:
        res = fn(a, x, y, a=A, overwrite_a=int(overwrite))
    elif A.flags.c_contiguous:
        res = fn(a, y, x, a=A.T, overwrite_a=int(overwrite)).T
    else:
        res = fn(a, x, y, a=np.asfortranarray(A), overwrite_a=1)
    if overwrite and res is not A and not np.shares_memory(res, A):
        A[...] = res
        return A
    return res


# ---------------------------------------------------------------------------------------------
# ops


class _BlasC:
    """The C side shared by the BLAS ops (see blas_c): SciPy's BLAS through its capsules."""

    _c_kind = ""

    def c_code(self, node, name, inputs, outputs, sub):
        return blas_c_code(self, self._c_kind, node, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return BLAS_SUPPORT + SHAPE_HELPER

    def c_init_code(self, **kwargs):
        return [BLAS_INIT]

    def c_code_cache_version(self):
        return BLAS_C_VERSION



class Gemv(_BlasC, Op):
    """``beta * y + alpha * dot(A, x)`` for vectors y, x, a matrix A and scalars alpha, beta.

    ``inplace=True`` writes the result into y (str ``Gemv{inplace}``, ``destroy_map``
    ``{0: [0]}``); ``inplace=False`` leaves y alone (``Gemv{no_inplace}``).
    """

    _c_kind = "gemv"

    __props__ = ("inplace",)

    def __init__(self, inplace: bool):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    def make_node(self, *inputs: Any) -> Apply:
        y, alpha, A, x, beta = _tensor_inputs(self, inputs, ("y", "alpha", "A", "x", "beta"))
        _check_rank(self, 0, "y", y, 1)
        _check_rank(self, 2, "A", A, 2)
        _check_rank(self, 3, "x", x, 1)
        dtype = _check_dtypes(self, [(0, "y", y), (2, "A", A), (3, "x", x)], None)
        _check_scalar(self, 1, "alpha", alpha, dtype)
        _check_scalar(self, 4, "beta", beta, dtype)
        if self.inplace:
            _check_no_alias(self, y, [A, x])
        return Apply(self, [y, alpha, A, x, beta], [y.type()])

    def perform(self, node, inputs, output_storage, params=None):
        y, alpha, A, x, beta = inputs
        if A.shape != (y.shape[0], x.shape[0]):
            raise _shape_error(self, "beta * y + alpha * dot(A, x)", y=y.shape, A=A.shape,
                               x=x.shape)
        output_storage[0][0] = _gemv_values(y, alpha, A, x, beta, self.inplace)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        from tgraph.tensor.dot import dot, outer

        y, alpha, A, x, beta = inputs
        (g,) = output_grads
        return [
            _grad_as(beta * g, y),
            _grad_as(dot(g, dot(A, x)), alpha),
            _grad_as(alpha * outer(g, x), A),
            _grad_as(alpha * dot(A.T, g), x),
            _grad_as(dot(g, y), beta),
        ]


gemv_no_inplace = Gemv(inplace=False)
gemv_inplace = Gemv(inplace=True)
#: The user-facing instance; the optimizer makes it in place later.
gemv = gemv_no_inplace


class Ger(_BlasC, Op):
    """``A + alpha * outer(x, y)``, BLAS's rank-1 update of matrix A.

    ``destructive=True`` writes into A (str ``Ger{destructive}``); ``destructive=False``
    copies it first (``Ger{non-destructive}``). Floating and complex dtypes only.
    """

    _c_kind = "ger"

    __props__ = ("destructive",)

    def __init__(self, destructive: bool):
        self.destructive = bool(destructive)
        self.destroy_map = {0: [0]} if self.destructive else {}

    def __str__(self):
        kind = "destructive" if self.destructive else "non-destructive"
        return f"{type(self).__name__}{{{kind}}}"

    def make_node(self, *inputs: Any) -> Apply:
        A, alpha, x, y = _tensor_inputs(self, inputs, ("A", "alpha", "x", "y"))
        _check_rank(self, 0, "A", A, 2)
        _check_rank(self, 2, "x", x, 1)
        _check_rank(self, 3, "y", y, 1)
        dtype = _check_dtypes(self, [(0, "A", A), (2, "x", x), (3, "y", y)], BLAS_DTYPES)
        _check_scalar(self, 1, "alpha", alpha, dtype)
        if self.destructive:
            _check_no_alias(self, A, [x, y])
        return Apply(self, [A, alpha, x, y], [A.type()])

    def perform(self, node, inputs, output_storage, params=None):
        A, alpha, x, y = inputs
        if A.shape != (x.shape[0], y.shape[0]):
            raise _shape_error(self, "A + alpha * outer(x, y)", A=A.shape, x=x.shape,
                               y=y.shape)
        output_storage[0][0] = _ger_values(A, alpha, x, y, self.destructive)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        from tgraph.tensor.dot import dot

        A, alpha, x, y = inputs
        (g,) = output_grads
        return [
            _grad_as(g, A),
            _grad_as(dot(x, dot(g, y)), alpha),
            _grad_as(alpha * dot(g, y), x),
            _grad_as(alpha * dot(g.T, x), y),
        ]


ger = Ger(destructive=False)
ger_destructive = Ger(destructive=True)


class GemmRelated(Op):
    """Base class of the matrix-matrix BLAS ops (Gemm, Dot22, Dot22Scalar), as in Theano 1.0.

    Rewrites and user code test ``isinstance(op, GemmRelated)``; tlink's C backend attaches
    the shared gemm C code here.
    """

    __props__: tuple[str, ...] = ()


class Gemm(_BlasC, GemmRelated):
    """``beta * Z + alpha * dot(X, Y)`` for matrices Z, X, Y and scalars alpha, beta.

    ``inplace=True`` writes into Z (str ``Gemm{inplace}``); Z must then not be (a view of)
    X or Y, which make_node refuses with InconsistencyError as Theano did.
    """

    _c_kind = "gemm"

    __props__ = ("inplace",)

    E_rank = "gemm only works for rank 2"
    E_scalar = "gemm requires scalar argument"
    E_z_uniq = "argument z aliased to x or y"
    E_mixed = "gemm requires matching dtypes"
    E_float = "gemm requires floating-point dtypes"

    def __init__(self, inplace: bool):
        self.inplace = bool(inplace)
        self.destroy_map = {0: [0]} if self.inplace else {}

    def __str__(self):
        return f"{type(self).__name__}{{{'inplace' if self.inplace else 'no_inplace'}}}"

    def make_node(self, *inputs: Any) -> Apply:
        z, a, x, y, b = _tensor_inputs(self, inputs, ("z", "alpha", "x", "y", "beta"))
        for pos, name, v in ((0, "z", z), (2, "x", x), (3, "y", y)):
            _check_rank(self, pos, name, v, 2)
        dtype = _check_dtypes(self, [(0, "z", z), (2, "x", x), (3, "y", y)], BLAS_DTYPES)
        _check_scalar(self, 1, "alpha", a, dtype)
        _check_scalar(self, 4, "beta", b, dtype)
        if self.inplace:
            _check_no_alias(self, z, [x, y])
        return Apply(self, [z, a, x, y, b], [z.type()])

    def perform(self, node, inputs, output_storage, params=None):
        z, a, x, y, b = inputs
        if x.shape[1] != y.shape[0] or z.shape != (x.shape[0], y.shape[1]):
            raise _shape_error(self, "beta * z + alpha * dot(x, y)", z=z.shape, x=x.shape,
                               y=y.shape)
        output_storage[0][0] = _gemm_values(a, x, y, b, z, self.inplace)

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        from tgraph.tensor.dot import dot
        from tgraph.tensor.math import sum as tsum

        z, a, x, y, b = inputs
        (g,) = output_grads
        return [
            _grad_as(b * g, z),
            _grad_as(tsum(g * dot(x, y)), a),
            _grad_as(a * dot(g, y.T), x),
            _grad_as(a * dot(x.T, g), y),
            _grad_as(tsum(g * z), b),
        ]


gemm_inplace = Gemm(inplace=True)
gemm_no_inplace = Gemm(inplace=False)
#: The user-facing instance; the optimizer makes it in place later.
gemm = gemm_no_inplace


class Dot22(_BlasC, GemmRelated):
    """``dot(X, Y)`` for two matrices of one floating or complex dtype (BLAS gemm).

    The optimizer rewrites every Dot of vectors/matrices to Dot22 (vectors become
    row/column matrices), so that the later BLAS rewrites see one form.
    """

    _c_kind = "dot22"

    def make_node(self, *inputs: Any) -> Apply:
        x, y = _tensor_inputs(self, inputs, ("x", "y"))
        _check_rank(self, 0, "x", x, 2)
        _check_rank(self, 1, "y", y, 2)
        dtype = _check_dtypes(self, [(0, "x", x), (1, "y", y)], BLAS_DTYPES)
        bz = (x.type.broadcastable[0], y.type.broadcastable[1])
        return Apply(self, [x, y], [TensorType(dtype, bz)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, y = inputs
        if x.shape[1] != y.shape[0]:
            raise _shape_error(self, "dot(x, y)", x=x.shape, y=y.shape)
        output_storage[0][0] = np.asarray(np.dot(x, y), dtype=x.dtype)

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0], input_shapes[1][1])]

    def grad(self, inputs, output_grads):
        from tgraph.tensor.dot import dot

        x, y = inputs
        (g,) = output_grads
        return [_grad_as(dot(g, y.T), x), _grad_as(dot(x.T, g), y)]


_dot22 = Dot22()


class Dot22Scalar(_BlasC, GemmRelated):
    """``a * dot(X, Y)`` for matrices X, Y and a scalar a (gemm with beta = 0).

    The optimizer forms it from a Dot22 scaled by a scalar that is not part of a Gemm.
    """

    _c_kind = "dot22scalar"

    def make_node(self, *inputs: Any) -> Apply:
        x, y, a = _tensor_inputs(self, inputs, ("x", "y", "a"))
        _check_rank(self, 0, "x", x, 2)
        _check_rank(self, 1, "y", y, 2)
        dtype = _check_dtypes(self, [(0, "x", x), (1, "y", y)], BLAS_DTYPES)
        _check_scalar(self, 2, "a", a, dtype)
        bz = (x.type.broadcastable[0], y.type.broadcastable[1])
        return Apply(self, [x, y, a], [TensorType(dtype, bz)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, y, a = inputs
        if x.shape[1] != y.shape[0]:
            raise _shape_error(self, "a * dot(x, y)", x=x.shape, y=y.shape)
        output_storage[0][0] = _gemm_values(a, x, y, 0, None, False)

    def infer_shape(self, node, input_shapes):
        return [(input_shapes[0][0], input_shapes[1][1])]

    def grad(self, inputs, output_grads):
        from tgraph.tensor.dot import dot
        from tgraph.tensor.math import sum as tsum

        x, y, a = inputs
        (g,) = output_grads
        return [
            _grad_as(a * dot(g, y.T), x),
            _grad_as(a * dot(x.T, g), y),
            _grad_as(tsum(g * dot(x, y)), a),
        ]


_dot22scalar = Dot22Scalar()


__all__ = [
    "BLAS_DTYPES",
    "Dot22",
    "Dot22Scalar",
    "Gemm",
    "GemmRelated",
    "Gemv",
    "Ger",
    "gemm",
    "gemm_inplace",
    "gemm_no_inplace",
    "gemv",
    "gemv_inplace",
    "gemv_no_inplace",
    "ger",
    "ger_destructive",
]

"""TensorVariable and TensorConstant: tensors with NumPy's operators and methods.

The variable classes sit below the op modules (which import :mod:`tgraph.tensor.basic` to
build nodes), so methods reach the op library by module name at call time (:func:`_lib`)
rather than by import: each op module stays importable and testable on its own.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

from tgraph.graph.basic import Constant, Variable
from tgraph.tensor.type import TensorType


def _lib(module: str):
    """The tensor op module ``tgraph.tensor.<module>`` (imported once, then cached)."""
    return importlib.import_module(f"tgraph.tensor.{module}")


class _tensor_py_operators:
    """Operators and NumPy-like methods shared by tensor variables, constants and shared vars."""

    # NumPy must defer to us: ndarray + tensor calls tensor.__radd__.
    __array_ufunc__ = None
    __array_priority__ = 1000

    # -- arithmetic -------------------------------------------------------------------------
    def __abs__(self):
        return _lib("math").abs_(self)

    def __neg__(self):
        return _lib("math").neg(self)

    def __pos__(self):
        return self

    def __invert__(self):
        return _lib("math").invert(self)

    def __add__(self, other):
        return _binary("add", self, other)

    def __radd__(self, other):
        return _binary("add", other, self)

    def __sub__(self, other):
        return _binary("sub", self, other)

    def __rsub__(self, other):
        return _binary("sub", other, self)

    def __mul__(self, other):
        return _binary("mul", self, other)

    def __rmul__(self, other):
        return _binary("mul", other, self)

    def __truediv__(self, other):
        return _binary("true_div", self, other)

    def __rtruediv__(self, other):
        return _binary("true_div", other, self)

    def __floordiv__(self, other):
        return _binary("int_div", self, other)

    def __rfloordiv__(self, other):
        return _binary("int_div", other, self)

    def __mod__(self, other):
        return _binary("mod", self, other)

    def __rmod__(self, other):
        return _binary("mod", other, self)

    def __divmod__(self, other):
        return _binary("int_div", self, other), _binary("mod", self, other)

    def __pow__(self, other):
        return _binary("pow", self, other)

    def __rpow__(self, other):
        return _binary("pow", other, self)

    def __and__(self, other):
        return _binary("and_", self, other)

    def __rand__(self, other):
        return _binary("and_", other, self)

    def __or__(self, other):
        return _binary("or_", self, other)

    def __ror__(self, other):
        return _binary("or_", other, self)

    def __xor__(self, other):
        return _binary("xor", self, other)

    def __rxor__(self, other):
        return _binary("xor", other, self)

    def __matmul__(self, other):
        return _lib("dot").dot(self, other)

    def __rmatmul__(self, other):
        return _lib("dot").dot(other, self)

    # -- comparisons (elementwise; == and != keep Python identity, as in Theano) -----------
    def __lt__(self, other):
        return _binary("lt", self, other)

    def __le__(self, other):
        return _binary("le", self, other)

    def __gt__(self, other):
        return _binary("gt", self, other)

    def __ge__(self, other):
        return _binary("ge", self, other)

    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            "a symbolic variable has no truth value: use theano.tensor.eq/neq/any/all or "
            "ifelse/switch to compare symbolically"
        )

    def __iter__(self):
        try:
            n = _lib("basic").get_vector_length(self)
        except (ValueError, TypeError) as exc:
            raise TypeError(
                f"cannot iterate over {self}: its length is not known from the graph"
            ) from exc
        for i in range(n):
            yield self[i]

    def __len__(self):
        raise TypeError("len() of a symbolic variable is undefined; use x.shape[0]")

    # -- attributes -------------------------------------------------------------------------
    @property
    def ndim(self) -> int:
        return self.type.ndim

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def broadcastable(self) -> tuple:
        return self.type.broadcastable

    @property
    def shape(self):
        return _lib("shape").shape(self)

    @property
    def size(self):
        return _lib("math").prod(self.shape)

    @property
    def T(self):
        return _lib("shape").transpose(self)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], list | tuple):
            axes = axes[0]
        return _lib("shape").transpose(self, axes or None)

    @property
    def real(self):
        return _lib("math").real(self)

    @property
    def imag(self):
        return _lib("math").imag(self)

    def conj(self):
        return _lib("math").conj(self)

    conjugate = conj

    # -- shape manipulation -------------------------------------------------------------------
    def dimshuffle(self, *pattern):
        if len(pattern) == 1 and isinstance(pattern[0], list | tuple):
            pattern = pattern[0]
        elemwise = _lib("elemwise")
        return elemwise.DimShuffle(self.type.broadcastable, pattern)(self)

    def reshape(self, shape, ndim=None):
        return _lib("shape").reshape(self, shape, ndim=ndim)

    def flatten(self, ndim=1, outdim=None):
        return _lib("shape").flatten(self, outdim if outdim is not None else ndim)

    def ravel(self):
        return _lib("shape").flatten(self, 1)

    def swapaxes(self, axis1, axis2):
        return _lib("shape").swapaxes(self, axis1, axis2)

    def squeeze(self):
        return _lib("extra_ops").squeeze(self)

    def repeat(self, repeats, axis=None):
        return _lib("extra_ops").repeat(self, repeats, axis)

    def fill(self, value):
        return _lib("alloc").fill(self, value)

    def zeros_like(self, dtype=None):
        return _lib("alloc").zeros_like(self, dtype=dtype)

    def ones_like(self, dtype=None):
        return _lib("alloc").ones_like(self, dtype=dtype)

    def copy(self, name=None):
        out = _lib("math").tensor_copy(self)
        out.name = name
        return out

    def astype(self, dtype):
        return _lib("math").cast(self, dtype)

    # -- indexing ---------------------------------------------------------------------------
    def __getitem__(self, index):
        return _lib("subtensor").get_item(self, index)

    def __setitem__(self, key, value):
        raise TypeError(
            "symbolic tensors are immutable; use theano.tensor.set_subtensor(x[...], value) "
            "or inc_subtensor"
        )

    def take(self, indices, axis=None, mode="raise"):
        return _lib("subtensor").take(self, indices, axis, mode)

    def nonzero(self, return_matrix=False):
        return _lib("extra_ops").nonzero(self, return_matrix=return_matrix)

    def nonzero_values(self):
        return _lib("extra_ops").nonzero_values(self)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _lib("extra_ops").diagonal(self, offset, axis1, axis2)

    def trace(self):
        return _lib("extra_ops").trace(self)

    def sort(self, axis=-1, kind="quicksort", order=None):
        return _lib("extra_ops").sort(self, axis, kind, order)

    def argsort(self, axis=-1, kind="quicksort", order=None):
        return _lib("extra_ops").argsort(self, axis, kind, order)

    def cumsum(self, axis=None):
        return _lib("extra_ops").cumsum(self, axis)

    def cumprod(self, axis=None):
        return _lib("extra_ops").cumprod(self, axis)

    # -- reductions ---------------------------------------------------------------------------
    def sum(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _lib("math").sum(self, axis=axis, dtype=dtype, keepdims=keepdims,
                                acc_dtype=acc_dtype)

    def prod(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _lib("math").prod(self, axis=axis, dtype=dtype, keepdims=keepdims,
                                 acc_dtype=acc_dtype)

    def mean(self, axis=None, dtype=None, keepdims=False, acc_dtype=None):
        return _lib("math").mean(self, axis=axis, dtype=dtype, keepdims=keepdims,
                                 acc_dtype=acc_dtype)

    def var(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _lib("math").var(self, axis=axis, ddof=ddof, keepdims=keepdims,
                                corrected=corrected)

    def std(self, axis=None, ddof=0, keepdims=False, corrected=False):
        return _lib("math").std(self, axis=axis, ddof=ddof, keepdims=keepdims,
                                corrected=corrected)

    def max(self, axis=None, keepdims=False):
        return _lib("math").max(self, axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _lib("math").min(self, axis, keepdims=keepdims)

    def argmax(self, axis=None, keepdims=False):
        return _lib("math").argmax(self, axis, keepdims=keepdims)

    def argmin(self, axis=None, keepdims=False):
        return _lib("math").argmin(self, axis, keepdims=keepdims)

    def ptp(self, axis=None):
        return _lib("math").ptp(self, axis)

    def any(self, axis=None, keepdims=False):
        return _lib("math").any(self, axis, keepdims=keepdims)

    def all(self, axis=None, keepdims=False):
        return _lib("math").all(self, axis, keepdims=keepdims)

    def norm(self, L, axis=None, keepdims=False):
        return _lib("math").norm(self, L, axis=axis, keepdims=keepdims)

    # -- elementwise methods ------------------------------------------------------------------
    def clip(self, a_min, a_max):
        return _lib("math").clip(self, a_min, a_max)

    def round(self, mode=None):
        return _lib("math").round(self, mode)

    def dot(self, other):
        return _lib("dot").dot(self, other)

    def __dot__(self, other):
        return _lib("dot").dot(self, other)

    def __rdot__(self, other):
        return _lib("dot").dot(other, self)

    def __round__(self, ndigits=None):
        if ndigits is not None:
            raise NotImplementedError("round() with ndigits is not supported on tensors")
        return _lib("math").round(self)

    def __trunc__(self):
        return _lib("math").trunc(self)

    def __floor__(self):
        return _lib("math").floor(self)

    def __ceil__(self):
        return _lib("math").ceil(self)


def _binary(name: str, a: Any, b: Any):
    """Apply the elementwise function ``math.<name>``; non-tensor operands give NotImplemented."""
    try:
        return getattr(_lib("math"), name)(a, b)
    except _lib("basic").AsTensorError:
        return NotImplemented


class TensorVariable(_tensor_py_operators, Variable):
    """A symbolic tensor (``theano.tensor.TensorVariable``)."""


class TensorConstantSignature(tuple):
    """Key under which equal tensor constants merge: (type, data) compared by value."""

    def __eq__(self, other):
        if type(self) is not type(other):
            return False
        (t0, d0), (t1, d1) = self, other
        if t0 != t1 or d0.shape != d1.shape:
            return False
        return bool(np.array_equal(d0, d1, equal_nan=d0.dtype.kind in "fc"))

    def __hash__(self):
        t, d = self
        return hash((type(self), t, d.shape, d.dtype.str, d.tobytes()[:64]))

    def __ne__(self, other):
        return not self == other


class TensorConstant(_tensor_py_operators, Constant):
    """A tensor with a fixed value (``theano.tensor.TensorConstant``)."""

    def signature(self):
        return TensorConstantSignature((self.type, self.data))

    def equals(self, other) -> bool:
        return isinstance(other, TensorConstant) and self.signature() == other.signature()

    def __str__(self):
        if self.name is not None:
            return self.name
        # Theano 1.0's form, which debugprint and pp users know: TensorConstant{1.0}.
        text = str(self.data)
        if len(text) > 20:
            text = text[:10] + ".." + text[-10:]
        return f"TensorConstant{{{text}}}"

    def __deepcopy__(self, memo):
        return self


# Register the variable classes on the Type (the Type module cannot import this one).
TensorType.Variable = TensorVariable
TensorType.Constant = TensorConstant

__all__ = [
    "TensorConstant",
    "TensorConstantSignature",
    "TensorVariable",
    "_tensor_py_operators",
]

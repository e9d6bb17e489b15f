"""ScalarType and the dtype rules of the scalar layer (``theano.scalar.basic``'s first half).

Three rule sets decide every result dtype in Theano, and the tensor layer reuses them:

- :func:`upcast` gives the dtype of an operation on several dtypes: NumPy's promotion of the
  dtypes themselves (never of values), so ``int64 + float32 -> float64``,
  ``int8 + float32 -> float32`` and ``bool + int8 -> int8``; with
  ``config.cast_policy='numpy+floatX'`` a float64 result is brought back to floatX unless one
  operand was float64 on purpose.
- :func:`convert` turns a Python number into a typed constant. With ``cast_policy='custom'``
  (the default) a Python int takes the smallest of int8/16/32/64 that holds it
  (:data:`autocast_int`) and a Python float the first of :data:`autocast_float`'s dtypes that
  holds it exactly (float16 only when floatX is float16), or floatX outright when floatX is
  float32/float16. NumPy scalars keep their dtype. That is why ``x_float32 * 2.0`` and
  ``x_float32 * 2`` stay float32 and ``x_int8 + 1000`` is int16.
- :meth:`ScalarType.filter` accepts a value only when the conversion loses nothing, unless
  ``allow_downcast``; a Python float may always become floatX (Theano's rule).

These follow Theano 1.0 exactly, except that out-of-range conversions raise (NumPy 2 refuses
to wrap Python ints) where NumPy 1 wrapped silently.
"""

from __future__ import annotations

import builtins
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.graph.type import Type
from tgraph.scalar.c_support import c_literal


class ComplexError(NotImplementedError):
    """A complex number reached an operation that does not support it (``%``, ``//``, ...)."""


class IntegerDivisionError(ArithmeticError):
    """``x / y`` on two integers while ``config.int_division='raise'``."""


# dtype -> (NumPy scalar class, C type, NumPy C class suffix); the C linker reads the last two.
_DTYPE_SPECS: dict[str, tuple[type, str, str]] = {
    "bool": (np.bool_, "npy_bool", "Bool"),
    "int8": (np.int8, "npy_int8", "Int8"),
    "int16": (np.int16, "npy_int16", "Int16"),
    "int32": (np.int32, "npy_int32", "Int32"),
    "int64": (np.int64, "npy_int64", "Int64"),
    "uint8": (np.uint8, "npy_uint8", "UInt8"),
    "uint16": (np.uint16, "npy_uint16", "UInt16"),
    "uint32": (np.uint32, "npy_uint32", "UInt32"),
    "uint64": (np.uint64, "npy_uint64", "UInt64"),
    "float16": (np.float16, "npy_float16", "Float16"),
    "float32": (np.float32, "npy_float32", "Float32"),
    "float64": (np.float64, "npy_float64", "Float64"),
    "complex64": (np.complex64, "theano_complex64", "Complex64"),
    "complex128": (np.complex128, "theano_complex128", "Complex128"),
}

# Default tolerances of values_eq_approx (those of Theano's tensor comparisons).
_TOLERANCES: dict[str, tuple[float, float]] = {  # dtype: (rtol, atol)
    "float16": (1e-3, 1e-3),
    "float32": (1e-5, 1e-5),
    "float64": (1e-5, 1e-8),
    "complex64": (1e-5, 1e-5),
    "complex128": (1e-5, 1e-8),
}


_DTYPE_NAMES: dict[np.dtype, str] = {np.dtype(k): k for k in _DTYPE_SPECS}


def _resolve_dtype(dtype: Any) -> str:
    # Fast paths first: this runs for every node built and every scalar computed.
    if isinstance(dtype, str) and dtype in _DTYPE_SPECS:
        return dtype
    if isinstance(dtype, np.dtype) and dtype in _DTYPE_NAMES:
        return _DTYPE_NAMES[dtype]
    if dtype == "floatX":
        return config.floatX
    try:
        name = str(np.dtype(dtype))
    except TypeError as exc:
        raise TypeError(f"ScalarType: {dtype!r} is not a dtype") from exc
    if name not in _DTYPE_SPECS:
        raise TypeError(
            f"ScalarType: unsupported dtype {name!r}; expected one of {', '.join(_DTYPE_SPECS)}"
        )
    return name


class ScalarType(Type):
    """The type of a 0-d value held as a NumPy scalar (``theano.scalar.Scalar``).

    Compared and hashed by dtype; ``str`` is the dtype ("float32"). Values are NumPy
    scalars of exactly that dtype (``np.float32(1.5)``). ``ScalarType('floatX')`` reads
    ``config.floatX`` once, at construction.
    """

    __props__ = ("dtype",)
    ndim = 0

    def __init__(self, dtype: str):
        self.dtype = _resolve_dtype(dtype)

    # -- identity ---------------------------------------------------------------------------
    def __eq__(self, other):
        return type(self) is type(other) and self.dtype == other.dtype

    def __hash__(self):
        return hash((type(self), self.dtype))

    def __str__(self):
        return self.dtype

    def __repr__(self):
        return f"ScalarType({self.dtype})"

    # -- values -----------------------------------------------------------------------------
    def dtype_specs(self) -> tuple[type, str, str]:
        """(NumPy scalar class, C type name, NumPy scalar C class suffix)."""
        return _DTYPE_SPECS[self.dtype]

    def c_element_type(self) -> str:
        return _DTYPE_SPECS[self.dtype][1]

    @property
    def c_type(self) -> str:
        """The C type of one value ('npy_float32'; 'npy_bool' for bool)."""
        return _DTYPE_SPECS[self.dtype][1]

    def c_literal(self, value: Any) -> str:
        """An exact C constant of this type holding ``value``: ``((npy_float32)1.5f)``.

        inf and NaN are C99's ``INFINITY``/``NAN`` (<math.h>); the most negative int64 is
        written so that no literal overflows. float16 and complex types raise
        MethodNotDefined (the scalar C code has no such values).
        """
        return c_literal(value, self.dtype)

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None):
        """Return ``data`` as a NumPy scalar of this dtype, or raise TypeError.

        ``strict`` accepts only an instance of the exact NumPy scalar class. Otherwise any
        0-d number is converted when the conversion is exact; inexact ones need
        ``allow_downcast=True``, except a Python float going to floatX, which Theano always
        accepts when ``allow_downcast`` is None. Complex to real is refused unless the
        imaginary part is 0.
        """
        py_type = _DTYPE_SPECS[self.dtype][0]
        if strict:
            if isinstance(data, py_type):
                return data
            raise TypeError(
                f"{self} (strict) expected a {py_type.__name__}, got "
                f"{type(data).__name__} {data!r}"
            )
        if data is None or isinstance(data, str | bytes):
            raise TypeError(f"{self} cannot hold {type(data).__name__} {data!r}")
        arr = np.asarray(data)
        if arr.ndim != 0:
            raise TypeError(f"{self} expected a scalar, got an array of shape {arr.shape}")
        if arr.dtype == self.dtype:
            return arr[()]
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"{self} cannot hold {type(data).__name__} {data!r} ({arr.dtype})")
        if arr.dtype.kind == "c" and self.dtype not in ("complex64", "complex128"):
            if arr.imag != 0:
                raise TypeError(
                    f"{self} cannot hold the complex value {data!r}: the imaginary part "
                    "would be lost (use real(), imag(), abs() or angle())"
                )
            arr = arr.real
        with np.errstate(all="ignore"):
            conv = arr.astype(self.dtype)
        if (
            allow_downcast
            or (allow_downcast is None and type(data) is float and self.dtype == config.floatX)
            or _same_value(arr, conv)
        ):
            return conv[()]
        raise TypeError(
            f"{self} cannot hold {data!r} ({arr.dtype}) exactly; pass allow_downcast=True "
            "to accept the rounded value"
        )

    def values_eq(self, a, b) -> bool:
        """Exact equality; two NaNs are equal (as for tensors)."""
        if a == b:
            return True
        return builtins.bool(_is_nan(a) and _is_nan(b))

    def values_eq_approx(self, a, b, tolerance: float | None = None) -> bool:
        """Approximate equality with a dtype-aware tolerance (``tolerance`` sets rtol=atol).

        Integers and bools compare exactly (subtracting them could overflow); NaN equals
        NaN; infinities must match in sign.
        """
        if self.dtype not in _TOLERANCES:
            return builtins.bool(np.asarray(a) == np.asarray(b))
        rtol, atol = _TOLERANCES[self.dtype] if tolerance is None else (tolerance, tolerance)
        return builtins.bool(
            np.isclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=True)
        )

    @staticmethod
    def may_share_memory(a, b) -> bool:
        # NumPy scalars are immutable: they never alias anything.
        return False

    def get_shape_info(self, obj):
        return None

    def get_size(self, shape_info) -> int:
        return np.dtype(self.dtype).itemsize

    def upcast(self, *others: ScalarType) -> str:
        """The dtype of an operation between this type and ``others`` (:func:`upcast`)."""
        return upcast(self.dtype, *(o.dtype for o in others))

    def c_is_simple(self) -> bool:
        return True


def _is_nan(x) -> bool:
    try:
        return builtins.bool(np.isnan(x))
    except TypeError:
        return False


def _same_value(arr: np.ndarray, conv: np.ndarray, nan_equal: bool = True) -> bool:
    """Whether ``conv`` holds the same number as ``arr`` (round trip included).

    ``nan_equal=False`` is Theano's autocasting test (``x == x_``), under which NaN fits
    no dtype, so a Python NaN falls through to the last candidate (float64).
    """
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if nan_equal and _is_nan(arr):
            return _is_nan(conv)
        back = conv.astype(arr.dtype)
        return builtins.bool(conv == arr) and builtins.bool(back == arr)


_scalar_types: dict[str, ScalarType] = {}


def get_scalar_type(dtype: str) -> ScalarType:
    """The shared ScalarType of ``dtype`` ('floatX' reads config.floatX now)."""
    if dtype in _scalar_types and dtype != "floatX":
        return _scalar_types[dtype]
    name = _resolve_dtype(dtype)
    t = _scalar_types.get(name)
    if t is None:
        t = _scalar_types[name] = ScalarType(name)
    return t


# ---------------------------------------------------------------------------------------------
# dtype promotion


def upcast(dtype: str, *dtypes: str) -> str:
    """The dtype of an operation on values of these dtypes (Theano 1.0's ``upcast``).

    NumPy's promotion of the dtypes (not of values). With ``cast_policy='numpy+floatX'`` and
    floatX float32 (or float16), a float64 (or float32) result is lowered to floatX unless one
    of the dtypes asked for that precision explicitly.
    """
    key = (dtype, dtypes, config.cast_policy, config.floatX)
    rval = _upcast_cache.get(key)
    if rval is None:
        rval = _upcast_cache[key] = _upcast(dtype, *dtypes)
    return rval


_upcast_cache: dict[tuple, str] = {}


def _upcast(dtype: str, *dtypes: str) -> str:
    all_dtypes = [_resolve_dtype(d) for d in (dtype, *dtypes)]
    numpy_floatx = config.cast_policy == "numpy+floatX"
    keep32 = numpy_floatx and config.floatX == "float32" and "float64" not in all_dtypes
    keep16 = (
        numpy_floatx
        and config.floatX == "float16"
        and "float64" not in all_dtypes
        and "float32" not in all_dtypes
    )
    rval = str(np.result_type(*all_dtypes))
    if rval == "float64" and (keep16 or keep32):
        return "float16" if keep16 else "float32"
    if rval == "float32" and keep16:
        return "float16"
    return rval


# ---------------------------------------------------------------------------------------------
# How Python numbers become typed constants


class NumpyAutocaster:
    """Gives Python ints and floats a dtype (Theano 1.0's ``NumpyAutocaster``).

    With ``cast_policy='custom'``: a NumPy value whose dtype is one of ``dtypes`` keeps it;
    a Python float becomes floatX at once when floatX is in ``dtypes`` and is not float64
    (a possibly lossy cast, on purpose); otherwise the first dtype of ``dtypes`` holding the
    value exactly is used, float16 being tried only when floatX is float16, and the last
    one when none is exact. With ``'numpy+floatX'``: NumPy's dtype, but a Python float
    becomes floatX.
    """

    def __init__(self, dtypes: tuple[str, ...]):
        self.dtypes = tuple(dtypes)

    def __call__(self, x) -> np.ndarray:
        if config.cast_policy == "numpy+floatX":
            rval = np.asarray(x)
            if (not hasattr(x, "dtype") and rval.dtype.kind == "f"
                    and rval.dtype != config.floatX):
                with np.errstate(all="ignore"):
                    rval = rval.astype(config.floatX)
            return rval
        dtype = getattr(x, "dtype", None)
        if dtype is not None and str(dtype) in self.dtypes:
            return np.asarray(x)
        floatx = config.floatX
        if isinstance(x, float) and floatx in self.dtypes and floatx != "float64":
            # Theano's deliberate downcast: 1e300 becomes inf in float32.
            with np.errstate(all="ignore"):
                return np.asarray(x).astype(floatx)
        candidates = [d for d in self.dtypes if floatx == "float16" or d != "float16"]
        if not candidates:
            raise TypeError(f"autocast: no dtype to try for {x!r} among {self.dtypes}")
        x_ = None
        for d in candidates:
            x_ = _cast_python_number(x, d)
            if x_ is not None and _same_value(np.asarray(x), x_, nan_equal=False):
                return x_
        if x_ is None:
            raise OverflowError(f"{x!r} does not fit in any of {', '.join(self.dtypes)}")
        return x_

    def __repr__(self):
        return f"NumpyAutocaster({self.dtypes})"


def _cast_python_number(x, dtype: str) -> np.ndarray | None:
    """``x`` as a 0-d array of ``dtype``, or None when it is out of the dtype's range."""
    kind = np.dtype(dtype).kind
    if kind in "iu" and isinstance(x, int | np.integer):
        info = np.iinfo(dtype)
        if not info.min <= int(x) <= info.max:
            return None
    with np.errstate(all="ignore"):
        return np.asarray(x).astype(dtype)


autocast_int = NumpyAutocaster(("int8", "int16", "int32", "int64"))
autocast_float = NumpyAutocaster(("float16", "float32", "float64"))


class autocast_float_as:
    """Context manager: use these float dtypes for Python floats (``cast_policy='custom'``).

    >>> with autocast_float_as("float32"):
    ...     c = constant(1.1)          # float32 even though 1.1 is not exact in float32
    """

    def __init__(self, *dtypes: str):
        self.dtypes = tuple(_resolve_dtype(d) for d in dtypes)
        self._saved: list[tuple[str, ...]] = []

    def __enter__(self):
        if config.cast_policy != "custom":
            raise ValueError(
                "autocast_float_as needs config.cast_policy='custom', "
                f"got {config.cast_policy!r}"
            )
        self._saved.append(autocast_float.dtypes)
        autocast_float.dtypes = self.dtypes
        return self

    def __exit__(self, *exc):
        autocast_float.dtypes = self._saved.pop()
        return False


def convert(x: Any, dtype: str | None = None) -> np.ndarray:
    """``x`` as an ndarray typed by the casting policy (Theano 1.0's ``scalar.convert``).

    With ``dtype`` the caller forces it (out-of-range Python ints raise OverflowError).
    Otherwise Python ints go through :data:`autocast_int` (uint64 beyond int64), Python
    floats through :data:`autocast_float` (a Python bool is an int here, as in Theano:
    int8), ndarrays and NumPy scalars keep their dtype, and other sequences follow NumPy;
    an empty sequence is floatX.
    """
    if dtype is not None:
        dtype = _resolve_dtype(dtype)
        x_ = _cast_python_number(x, dtype) if isinstance(x, int) else None
        if x_ is None:
            if isinstance(x, int):
                raise OverflowError(f"convert: {x!r} is out of the range of {dtype}")
            with np.errstate(all="ignore"):
                x_ = np.asarray(x).astype(dtype)
        return x_
    if isinstance(x, int):
        try:
            return autocast_int(x)
        except OverflowError:
            if 0 <= x <= np.iinfo(np.uint64).max:
                return np.asarray(x, dtype="uint64")
            raise OverflowError(f"convert: the Python int {x!r} fits in no NumPy dtype") from None
    if isinstance(x, float):
        return autocast_float(x)
    if isinstance(x, np.ndarray):
        return x
    x_ = np.asarray(x)
    if x_.size == 0 and not hasattr(x, "dtype"):
        x_ = np.asarray(x, dtype=config.floatX)
    return x_


# ---------------------------------------------------------------------------------------------
# Shared instances, groups and constructors

int8 = get_scalar_type("int8")
int16 = get_scalar_type("int16")
int32 = get_scalar_type("int32")
int64 = get_scalar_type("int64")
uint8 = get_scalar_type("uint8")
uint16 = get_scalar_type("uint16")
uint32 = get_scalar_type("uint32")
uint64 = get_scalar_type("uint64")
float16 = get_scalar_type("float16")
float32 = get_scalar_type("float32")
float64 = get_scalar_type("float64")
complex64 = get_scalar_type("complex64")
complex128 = get_scalar_type("complex128")
bool_ = get_scalar_type("bool")

int_types = (int8, int16, int32, int64)
uint_types = (uint8, uint16, uint32, uint64)
float_types = (float16, float32, float64)
complex_types = (complex64, complex128)
integer_types = int_types + uint_types
discrete_types = (bool_, *integer_types)
continuous_types = float_types + complex_types
all_types = discrete_types + continuous_types

discrete_dtypes = tuple(t.dtype for t in discrete_types)
continuous_dtypes = tuple(t.dtype for t in continuous_types)


def scalar(name: str | None = None, dtype: str | None = None):
    """A fresh scalar variable of ``dtype`` (default floatX)."""
    return get_scalar_type(dtype or config.floatX).make_variable(name)


def _constructor(dtype: str, attr: str) -> Callable:
    def make(name: str | None = None):
        return get_scalar_type(dtype).make_variable(name)

    make.__name__ = make.__qualname__ = attr
    make.__doc__ = f"A fresh {dtype} scalar variable."
    return make


bscalar = _constructor("int8", "bscalar")
wscalar = _constructor("int16", "wscalar")
iscalar = _constructor("int32", "iscalar")
lscalar = _constructor("int64", "lscalar")
fscalar = _constructor("float32", "fscalar")
dscalar = _constructor("float64", "dscalar")
cscalar = _constructor("complex64", "cscalar")
zscalar = _constructor("complex128", "zscalar")

# Theano's name for the bool type shadows the builtin; it is defined last so that nothing
# above can pick it up by mistake.
bool = bool_

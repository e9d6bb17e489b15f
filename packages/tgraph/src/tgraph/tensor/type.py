"""TensorType: the type of n-dimensional NumPy arrays of one dtype, and its constructors.

``broadcastable`` says, per dimension, whether the size is known to be 1 (and may therefore
broadcast). Values are NumPy arrays; ``filter`` converts user data and refuses, with a message
that names what came and what was expected, anything that would change the values.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.graph.type import Type

#: Theano's one-letter dtype prefixes (bscalar, wvector, imatrix, lrow, fcol, dtensor3, ...).
PREFIX_DTYPES = {
    "b": "int8",
    "w": "int16",
    "i": "int32",
    "l": "int64",
    "f": "float32",
    "d": "float64",
    "c": "complex64",
    "z": "complex128",
}

_DTYPE_NAMES = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128",
}


def normalize_dtype(dtype: Any) -> str:
    """``'floatX'`` and NumPy dtype spellings → the canonical dtype name, or a clear error."""
    if dtype is None or dtype == "floatX":
        return config.floatX
    try:
        name = str(np.dtype(dtype))
    except TypeError:
        name = None
    if name not in _DTYPE_NAMES:
        raise TypeError(
            f"unsupported dtype {dtype!r}; expected one of {', '.join(sorted(_DTYPE_NAMES))}"
        )
    return name


class TensorType(Type):
    """NumPy ndarrays of a fixed dtype and number of dimensions (``theano.tensor.TensorType``)."""

    def __init__(self, dtype: Any, broadcastable: Sequence[bool], name: str | None = None,
                 sparse_grad: bool = False):
        self.dtype = normalize_dtype(dtype)
        if isinstance(broadcastable, int | np.integer):
            raise TypeError(
                "TensorType's broadcastable must be a sequence of booleans (one per dimension), "
                f"got {broadcastable!r}"
            )
        self.broadcastable = tuple(bool(b) for b in broadcastable)
        self.name = name
        self.numpy_dtype = np.dtype(self.dtype)
        self.sparse_grad = sparse_grad

    @property
    def ndim(self) -> int:
        return len(self.broadcastable)

    def clone(self, dtype: Any = None, broadcastable: Sequence[bool] | None = None
              ) -> TensorType:
        return type(self)(self.dtype if dtype is None else dtype,
                          self.broadcastable if broadcastable is None else broadcastable)

    # -- converting values ------------------------------------------------------------------
    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None):
        """Return ``data`` as an ndarray of this type, or raise TypeError/ValueError.

        Exact ndarrays pass through unchanged (no copy). Otherwise data is converted when no
        value changes (``allow_downcast=None``: Python floats may become float32 when that
        is floatX), or always with ``allow_downcast=True``; ``strict`` allows no conversion.
        """
        if isinstance(data, np.ndarray) and data.dtype == self.numpy_dtype:
            arr = data
        elif strict:
            raise TypeError(
                f"{self} expects a numpy.ndarray of dtype {self.dtype}; got "
                f"{_describe(data)} (strict mode allows no conversion)"
            )
        else:
            arr = self._convert(data, allow_downcast)
        if arr.ndim != self.ndim:
            raise TypeError(
                f"wrong number of dimensions for {self}: expected {self.ndim}, got {arr.ndim} "
                f"with shape {arr.shape}"
            )
        for i, (b, s) in enumerate(zip(self.broadcastable, arr.shape)):
            if b and s != 1:
                raise TypeError(
                    f"{self} has a broadcastable (size-1) dimension {i}, but the value has "
                    f"shape {arr.shape}"
                )
        return arr

    def _convert(self, data: Any, allow_downcast: bool | None) -> np.ndarray:
        if isinstance(data, np.ndarray | np.generic):
            src = np.asarray(data)
        else:
            try:
                src = np.asarray(data)
            except (ValueError, TypeError) as exc:
                raise TypeError(f"cannot convert {_describe(data)} to {self}: {exc}") from exc
            if src.dtype == object:
                raise TypeError(f"cannot convert {_describe(data)} to {self}")
        if src.dtype == self.numpy_dtype:
            return src
        if allow_downcast:
            with np.errstate(all="ignore"):
                return src.astype(self.numpy_dtype)
        if np.can_cast(src.dtype, self.numpy_dtype, casting="safe"):
            return src.astype(self.numpy_dtype)
        is_python = not isinstance(data, np.ndarray | np.generic)
        if is_python and allow_downcast is None:
            # Python numbers and lists: accept when the values survive the conversion.
            with np.errstate(all="ignore"):
                conv = src.astype(self.numpy_dtype)
            same = np.array_equal(conv, src) or (
                src.dtype.kind == "f" and self.dtype == config.floatX
                and self.numpy_dtype.kind == "f"
            )
            if same:
                return conv
        raise TypeError(
            f"{self} cannot store a value of dtype {src.dtype} without risking loss of "
            f"precision (got {_describe(data)}); cast it to {self.dtype} first, or pass "
            "allow_input_downcast=True to theano.function"
        )

    def filter_inplace(self, value, storage, strict=False, allow_downcast=None):
        return self.filter(value, strict, allow_downcast)

    def value_validity_msg(self, data: Any) -> str:
        try:
            self.filter(data, strict=True)
        except (TypeError, ValueError) as exc:
            return str(exc)
        return "value is valid"

    # -- relations between types -----------------------------------------------------------
    def is_super(self, otype: Type) -> bool:
        """Whether every value of ``otype`` fits this type (same dtype/ndim, fewer size-1 dims)."""
        return (
            isinstance(otype, TensorType)
            and otype.dtype == self.dtype
            and otype.ndim == self.ndim
            and all(sb == ob or ob for sb, ob in zip(self.broadcastable, otype.broadcastable))
        )

    def convert_variable(self, var):
        """``var`` re-typed to this type when that only forgets or checks size-1 dimensions."""
        if self.is_super(var.type) or (
            isinstance(var.type, TensorType)
            and var.type.dtype == self.dtype
            and var.type.ndim == self.ndim
        ):
            from tgraph.tensor.rebroadcast import patternbroadcast

            return patternbroadcast(var, self.broadcastable)
        return None

    # -- comparing values ------------------------------------------------------------------
    def values_eq(self, a, b, force_same_dtype: bool = True) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape or (force_same_dtype and a.dtype != b.dtype):
            return False
        return bool(np.all(a == b) or np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))

    def values_eq_approx(self, a, b, allow_remove_inf: bool = False,
                         allow_remove_nan: bool = False, rtol: float | None = None,
                         atol: float | None = None) -> bool:
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind not in "fc":
            return bool(np.array_equal(a, b))
        default_rtol, default_atol = _tolerances(self.dtype)
        rtol = default_rtol if rtol is None else rtol
        atol = default_atol if atol is None else atol
        ok = np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
        if allow_remove_inf:
            ok |= np.isinf(a) | np.isinf(b)
        if allow_remove_nan:
            ok |= np.isnan(a) | np.isnan(b)
        return bool(np.all(ok))

    def may_share_memory(self, a, b) -> bool:
        if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
            return bool(np.may_share_memory(a, b))
        return False

    def get_shape_info(self, obj):
        return obj.shape

    def get_size(self, shape_info) -> int:
        if shape_info:
            return int(np.prod(shape_info)) * self.numpy_dtype.itemsize
        return self.numpy_dtype.itemsize

    def value_zeros(self, shape) -> np.ndarray:
        return np.zeros(shape, dtype=self.dtype)

    # -- identity ---------------------------------------------------------------------------
    def __eq__(self, other):
        return (
            type(self) is type(other)
            and self.dtype == other.dtype
            and self.broadcastable == other.broadcastable
        )

    def __hash__(self):
        return hash((type(self), self.dtype, self.broadcastable))

    def __str__(self):
        if self.name:
            return self.name
        b = self.broadcastable
        named = {(): "scalar", (False,): "vector", (False, True): "col", (True, False): "row",
                 (False, False): "matrix"}
        if b in named:
            bcast = named[b]
        elif not any(b):
            bcast = f"{len(b)}D"
        else:
            bcast = str(b)
        return f"TensorType({self.dtype}, {bcast})"

    def __repr__(self):
        return str(self)

    def make_variable(self, name: str | None = None):
        if config.warn_float64 != "ignore" and self.dtype == "float64" \
                and config.floatX == "float32":
            _warn_float64(name)
        return super().make_variable(name)


def _warn_float64(name) -> None:
    msg = (f"a float64 variable ({name or 'unnamed'}) was created while floatX is float32; "
           "this may slow down a float32 program (flag warn_float64)")
    action = config.warn_float64
    if action == "warn":
        warnings.warn(msg, stacklevel=4)
    elif action == "raise":
        raise TypeError(msg)
    elif action == "pdb":  # pragma: no cover - interactive
        import pdb

        pdb.set_trace()


def _tolerances(dtype: str) -> tuple[float, float]:
    if dtype in ("float16",):
        return 5e-3, 5e-3
    if dtype in ("float32", "complex64"):
        return 1e-4, 1e-5
    return 1e-5, 1e-8


def _describe(data: Any) -> str:
    if isinstance(data, np.ndarray):
        return f"an ndarray of dtype {data.dtype} and shape {data.shape}"
    if isinstance(data, np.generic):
        return f"a NumPy {data.dtype} scalar"
    text = repr(data)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(data).__name__} {text}"


# ---------------------------------------------------------------------------------------------
# Constructors: scalar/vector/row/col/matrix/tensor3..7, prefixed and plural forms.

_PATTERNS = {
    "scalar": (),
    "vector": (False,),
    "row": (True, False),
    "col": (False, True),
    "matrix": (False, False),
    "tensor3": (False,) * 3,
    "tensor4": (False,) * 4,
    "tensor5": (False,) * 5,
    "tensor6": (False,) * 6,
    "tensor7": (False,) * 7,
}


def _constructor(kind: str):
    pattern = _PATTERNS[kind]

    def make(name: str | None = None, dtype: Any = None):
        return TensorType(normalize_dtype(dtype), pattern)(name)

    make.__name__ = kind
    make.__doc__ = (f"A symbolic {kind} ({len(pattern)} dimensions) of dtype config.floatX "
                    "unless dtype is given.")
    return make


def _plural(single):
    def make(*names, dtype: Any = None):
        # Theano 1.0: dmatrices(3), dmatrices('x', 'y'), scalars('abcd') (one per character);
        # a single string with commas or spaces is split on them.
        if len(names) == 1 and isinstance(names[0], int):
            return [single(dtype=dtype) for _ in range(names[0])]
        if len(names) == 1 and isinstance(names[0], str):
            text = names[0]
            names = text.replace(",", " ").split() if ("," in text or " " in text) else text
        elif len(names) == 1:
            names = names[0]
        return [single(n, dtype) if _accepts_dtype(single) else single(n) for n in names]

    return make


def _accepts_dtype(fn) -> bool:
    """Only the unprefixed constructors (``matrix``) take a dtype; ``fmatrix`` is a Type."""
    return not isinstance(fn, TensorType)


def tensor(dtype: Any = None, broadcastable: Sequence[bool] = (), name: str | None = None):
    """A symbolic variable of ``TensorType(dtype, broadcastable)``."""
    return TensorType(dtype, broadcastable)(name)


def _build_constructors() -> dict:
    # As in Theano 1.0, prefixed constructors are TensorType instances (T.dscalar is
    # TensorType(float64, scalar); calling it makes a variable whose .type is it), while the
    # unprefixed ones are functions taking a dtype that defaults to floatX.
    made: dict = {}
    for kind, pattern in _PATTERNS.items():
        made[kind] = _constructor(kind)
        for prefix, dt in PREFIX_DTYPES.items():
            made[prefix + kind] = TensorType(dt, pattern)
    plurals = {}
    for name, fn in made.items():
        plural = name + "s" if not name.endswith("x") else name[:-1] + "ces"
        plurals[plural] = _plural(fn)
    made.update(plurals)
    return made


_CONSTRUCTORS = _build_constructors()
globals().update(_CONSTRUCTORS)
CONSTRUCTOR_NAMES = sorted(_CONSTRUCTORS)

__all__ = ["PREFIX_DTYPES", "TensorType", "normalize_dtype", "tensor", *CONSTRUCTOR_NAMES]

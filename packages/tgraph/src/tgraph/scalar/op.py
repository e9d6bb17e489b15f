"""ScalarOp, the base of every scalar operation, and the few ops the others' gradients need.

A scalar op works on 0-d values. It is the unit the tensor layer's Elemwise maps over arrays:
Elemwise builds a scalar node from its inputs' dtypes, takes the output dtypes from it, runs
``vectorized`` over whole arrays (then casts to those dtypes), and differentiates by calling
``L_op`` on scalar variables, so every gradient here is a graph of scalar ops.

The ops defined here (identity, second, first, the casts) are those the gradient helpers
below build; comparisons, arithmetic and the transcendental functions live in their own
modules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import c_support
from tgraph.scalar.c_support import c_cast
from tgraph.scalar.preferences import same_out, specific_out, transfer_type
from tgraph.scalar.type import (
    ScalarType,
    all_types,
    continuous_types,
    convert,
    discrete_types,
    float_types,
    get_scalar_type,
)

# ---------------------------------------------------------------------------------------------
# Variables from anything

_converters: dict[type, Callable[[Variable], Variable]] = {}


def register_as_scalar(type_class: type, converter: Callable[[Variable], Variable]) -> None:
    """Teach :func:`as_scalar` to turn variables of ``type_class`` into scalar variables.

    The tensor layer registers its 0-d TensorType here (with ``scalar_from_tensor``); a
    second registration for the same class is refused.
    """
    if type_class in _converters:
        raise ValueError(f"register_as_scalar: {type_class.__name__} is already registered")
    _converters[type_class] = converter


def as_scalar(x: Any, name: str | None = None) -> Variable:
    """``x`` as a scalar Variable: scalar variables pass, numbers become constants.

    An Apply node with one output stands for that output; variables of other types go
    through the converters of :func:`register_as_scalar`.
    """
    if isinstance(x, Apply):
        if len(x.outputs) != 1:
            raise ValueError(
                f"as_scalar: {x.op} has {len(x.outputs)} outputs; pick one of node.outputs"
            )
        x = x.outputs[0]
    if isinstance(x, Variable):
        if isinstance(x.type, ScalarType):
            return x
        for cls in type(x.type).__mro__:
            conv = _converters.get(cls)
            if conv is not None:
                return conv(x)
        raise TypeError(f"as_scalar: {x} has type {x.type}, expected a ScalarType")
    try:
        return constant(x, name=name)
    except (TypeError, ValueError, OverflowError) as exc:
        raise TypeError(f"as_scalar: cannot convert {type(x).__name__} {x!r}: {exc}") from exc


def constant(x: Any, name: str | None = None, dtype: str | None = None) -> Variable:
    """A scalar constant of ``x``, typed by :func:`convert`'s autocasting unless ``dtype``."""
    arr = convert(x, dtype=dtype)
    if arr.ndim != 0:
        raise TypeError(f"constant: expected a scalar, got an array of shape {arr.shape}")
    return get_scalar_type(str(arr.dtype)).make_constant(arr, name=name)


# ---------------------------------------------------------------------------------------------
# The base class


def _dtype_of(value: Any) -> np.dtype:
    dtype = getattr(value, "dtype", None)
    return dtype if dtype is not None else np.asarray(value).dtype


_SCALAR_CLASSES = {t.dtype: t.dtype_specs()[0] for t in all_types}


def _as_dtype(value: Any, dtype: str):
    """``value`` as a NumPy scalar of ``dtype`` (wrapping like NumPy casts, no warnings)."""
    if type(value) is _SCALAR_CLASSES[dtype]:
        return value
    with np.errstate(all="ignore"):
        return np.asarray(value).astype(dtype)[()]


def lift_discrete(arrays: Sequence[Any], out_dtype: str) -> list[np.ndarray]:
    """Arrays with integer and bool ones cast up to at least ``out_dtype`` (a float dtype).

    NumPy evaluates ``exp`` of an int8 array in float16; Theano computes it in the op's
    output dtype (float32), so float-valued ops lift discrete inputs first.
    """
    out = []
    for a in arrays:
        a = np.asarray(a)
        if a.dtype.kind in "biu":
            a = a.astype(np.promote_types(a.dtype, out_dtype))
        out.append(a)
    return out


class scipy_special:
    """A class attribute standing for ``scipy.special.<name>``, imported on first use.

    Importing scipy.special costs about a quarter of a second, which ``import theano``
    should not pay for ops that most programs never evaluate in Python.
    """

    def __init__(self, name: str):
        self.name = name
        self.func: Any = None

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if self.func is None:
            import scipy.special

            self.func = getattr(scipy.special, self.name)
        return self.func


class ScalarOp(Op):
    """Base class of scalar operations (``theano.scalar.ScalarOp``).

    Subclasses set ``nin``/``nout`` (-1: variadic), ``nfunc_spec`` (the NumPy/SciPy function
    name, nin, nout; None when there is none) and either ``_func`` (a NumPy/SciPy function
    applied to whole arrays) or their own ``vectorized``. ``_lift`` says whether discrete
    inputs are computed in the (float) output dtype. ``impl`` is derived from
    ``vectorized``; subclasses written against Theano may define ``impl`` instead.

    Equality, hash and str follow ``__props__``: the output-type rule and the name
    (str is the name).
    """

    nin = -1
    nout = 1
    nfunc_spec: tuple[str, int, int] | None = None
    __props__ = ("output_types_preference", "name")
    _func: Callable | None = None
    _lift = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A plain function stored as ``_func`` would be bound as a method; NumPy ufuncs are
        # not descriptors (nor is scipy_special a method), so only the others need wrapping.
        func = cls.__dict__.get("_func")
        if func is not None and not isinstance(func, staticmethod | np.ufunc | scipy_special):
            cls._func = staticmethod(func)

    def __init__(self, output_types_preference: Callable | None = None,
                 name: str | None = None):
        if output_types_preference is not None and not callable(output_types_preference):
            raise TypeError(
                f"{type(self).__name__}: output_types_preference must be callable, got "
                f"{output_types_preference!r}"
            )
        self.output_types_preference = output_types_preference
        self.name = name

    def __str__(self):
        return self.name or type(self).__name__

    def make_new_inplace(self, output_types_preference=None, name=None) -> ScalarOp:
        """The same op with another output-type rule (used to make in-place Elemwise)."""
        return type(self)(output_types_preference, name)

    # -- building ---------------------------------------------------------------------------
    def make_node(self, *inputs: Any) -> Apply:
        if self.nin >= 0 and len(inputs) != self.nin:
            raise TypeError(f"{self}: expected {self.nin} inputs, got {len(inputs)}")
        inputs = [as_scalar(x) for x in inputs]
        outputs = [t() for t in self.output_types([x.type for x in inputs])]
        return Apply(self, inputs, outputs)

    def output_types(self, types: Sequence[ScalarType]) -> list[ScalarType]:
        """The output types for these input types (from ``output_types_preference``)."""
        pref = self.output_types_preference
        if pref is None:
            raise MethodNotDefined(f"{self}: no output_types_preference to type its outputs")
        try:
            out = pref(*types)
        except TypeError as exc:
            ins = ", ".join(str(t) for t in types)
            raise TypeError(f"{self}: inputs of types ({ins}) are refused: {exc}") from exc
        if not isinstance(out, list | tuple) or not all(isinstance(t, ScalarType) for t in out):
            raise TypeError(f"{self}: {pref} returned {out!r}, expected a tuple of ScalarTypes")
        if self.nout >= 0 and len(out) != self.nout:
            raise TypeError(f"{self}: {pref} gave {len(out)} output types, expected {self.nout}")
        return list(out)

    def _out_dtypes(self, values: Sequence[Any]) -> list[str]:
        types = [get_scalar_type(_dtype_of(v)) for v in values]
        return [t.dtype for t in self.output_types(types)]

    # -- running ----------------------------------------------------------------------------
    def vectorized(self, *arrays: Any):
        """The op over whole (broadcasting) arrays, NumPy's semantics, warnings silenced.

        The result's dtype may differ from the output type's: callers cast.
        """
        if self._func is None:
            if type(self).impl is ScalarOp.impl:
                raise MethodNotDefined(f"{self} has neither impl nor vectorized")
            with np.errstate(all="ignore"):
                ufunc = np.frompyfunc(self.impl, len(arrays), max(self.nout, 1))
                return ufunc(*arrays)
        return self._apply_func(arrays, self._out_dtypes(arrays)[0] if self._lift else None)

    def _apply_func(self, arrays: Sequence[Any], out_dtype: str | None):
        with np.errstate(all="ignore"):
            if self._lift:
                arrays = lift_discrete(arrays, out_dtype)
            return self._func(*arrays)

    def _run(self, inputs: Sequence[Any], dtypes: Sequence[str]):
        if self._func is not None and type(self).vectorized is ScalarOp.vectorized:
            res = self._apply_func(inputs, dtypes[0])  # output dtype known: no re-typing
        else:
            with np.errstate(all="ignore"):
                res = self.vectorized(*inputs)
        if len(dtypes) == 1:
            return _as_dtype(res, dtypes[0])
        return tuple(_as_dtype(r, d) for r, d in zip(res, dtypes))

    def impl(self, *inputs: Any):
        """The op on scalar values; returns NumPy scalars of the output dtypes."""
        return self._run(inputs, self._out_dtypes(inputs))

    def perform(self, node: Apply, inputs: list, output_storage: list, params=None) -> None:
        dtypes = [o.type.dtype for o in node.outputs]
        if type(self).impl is ScalarOp.impl:
            res = self._run(inputs, dtypes)
        else:
            with np.errstate(all="ignore"):
                res = self.impl(*inputs)
        if len(node.outputs) == 1:
            res = (res,)
        for cell, value, dtype in zip(output_storage, res, dtypes):
            cell[0] = _as_dtype(value, dtype)

    # -- differentiation --------------------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        """Gradients as scalar graphs.

        Discrete outputs give zero gradients; gradients with respect to discrete inputs are
        floatX zeros (Theano's engine makes them zero or disconnected; ours adapts); float
        gradients are cast to their input's dtype. Subclasses implement ``grad``.
        """
        if all(o.type in discrete_types for o in outputs):
            return [float_zeros_like(x) for x in inputs]
        return finish_grads(inputs, self.grad(inputs, output_grads))

    def grad(self, inputs, output_grads):
        raise MethodNotDefined(f"{self}: the gradient is not implemented")

    # -- C ----------------------------------------------------------------------------------
    #: The version of this op's C (bumped when it changes); () means no C code.
    _c_version: tuple = ()

    def c_expr(self, in_dtypes: Sequence[str], out_dtype: str, args: Sequence[str]) -> str:
        """A C expression of dtype ``out_dtype`` computing the op on ``args``.

        ``args`` are C expressions already converted to ``in_dtypes``, the dtypes NumPy's
        loop computes in (``c_support.compute_dtypes``); the generic :meth:`c_code` casts
        the result to the output dtype. Ops whose C needs more than one expression override
        ``c_code`` instead. Raises MethodNotDefined when there is no C for these dtypes.
        """
        raise MethodNotDefined(f"{self} has no C implementation")

    def c_code(self, node, name, inputs, outputs, sub):
        """One element's C (Theano's ScalarOp contract): ``outputs`` are assigned from
        ``inputs``, local scalars of the nodes' C types; no state, no ``return``, so the
        text can sit in a ``#pragma omp simd`` loop."""
        return c_support.elementwise_code(self, node, inputs, outputs, self.c_expr)

    def c_headers(self, **kwargs) -> list[str]:
        return list(c_support.C_HEADERS) if self._c_version else []

    def c_compile_args(self, **kwargs) -> list[str]:
        return list(c_support.C_COMPILE_ARGS) if self._c_version else []

    def c_code_cache_version(self) -> tuple:
        if not self._c_version:
            return ()
        return (c_support.C_SUPPORT_VERSION, *self._c_version)


class UnaryScalarOp(ScalarOp):
    """A scalar op of one input."""

    nin = 1


class BinaryScalarOp(ScalarOp):
    """A scalar op of two inputs.

    Associative ones may set ``identity`` (the neutral element), ``commutative`` and
    ``associative``; the rewrites read them.
    """

    nin = 2


# ---------------------------------------------------------------------------------------------
# Gradient helpers


def float_zeros_like(x: Variable) -> Variable:
    """A floatX zero shaped like ``x`` once lifted to tensors (``second(x, 0)``)."""
    return second(x, constant(0, dtype=config.floatX))


def zeros_like(x: Variable) -> Variable:
    """A zero of ``x``'s dtype (``second(x, 0)``)."""
    return second(x, constant(0, dtype=x.type.dtype))


def typed(value: float, like: Variable) -> Variable:
    """A constant of ``like``'s dtype (so Python floats never upcast a float32 gradient)."""
    return constant(value, dtype=like.type.dtype)


def finish_grads(inputs: Sequence[Variable], grads: Sequence[Any]) -> list[Variable]:
    """Zeros for discrete inputs; float gradients cast to their input's float dtype."""
    if len(grads) != len(inputs):
        raise ValueError(f"expected {len(inputs)} gradients, got {len(grads)}")
    out = []
    for x, g in zip(inputs, grads):
        if x.type in discrete_types:
            out.append(float_zeros_like(x))
            continue
        g = as_scalar(g)
        if x.type in float_types and g.type in float_types and g.type != x.type:
            g = cast(g, x.type.dtype)
        out.append(g)
    return out


# ---------------------------------------------------------------------------------------------
# Ops the helpers need


class Identity(UnaryScalarOp):
    """``identity(x) = x``."""

    @staticmethod
    def _func(x):
        return np.array(x, copy=True)

    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        c_support.check_real(self, node)
        return f"{outputs[0]} = {inputs[0]};"

    def grad(self, inputs, output_grads):
        return [output_grads[0]]


identity = Identity(same_out, name="identity")


class Second(BinaryScalarOp):
    """``second(x, y) = y``; with Elemwise it broadcasts y to x's shape (``fill``)."""

    @staticmethod
    def _func(x, y):
        x, y = np.asarray(x), np.asarray(y)
        return np.array(np.broadcast_to(y, np.broadcast_shapes(x.shape, y.shape)))

    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        c_support.check_real(self, node)
        src, dst = node.inputs[1].type.dtype, node.outputs[0].type.dtype
        return f"{outputs[0]} = {c_cast(inputs[1], src, dst)};"

    def connection_pattern(self, node):
        return [[False], [True]]

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        gy = gz if y.type in continuous_types else float_zeros_like(y)
        return [float_zeros_like(x), gy]


second = Second(transfer_type(1), name="second")


class First(BinaryScalarOp):
    """``first(x, y) = x`` (broadcast to y's shape under Elemwise)."""

    @staticmethod
    def _func(x, y):
        x, y = np.asarray(x), np.asarray(y)
        return np.array(np.broadcast_to(x, np.broadcast_shapes(x.shape, y.shape)))

    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        c_support.check_real(self, node)
        src, dst = node.inputs[0].type.dtype, node.outputs[0].type.dtype
        return f"{outputs[0]} = {c_cast(inputs[0], src, dst)};"

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        x, y = inputs
        return [output_grads[0], float_zeros_like(y)]


first = First(transfer_type(0), name="first")


class Cast(UnaryScalarOp):
    """Conversion to ``o_type`` with NumPy's casting (floats truncate, ints wrap).

    All casts to one dtype are equal whatever their name; str is ``Cast{float32}``
    (Theano's). Complex to real is refused by :func:`cast`, not by the op.
    """

    __props__ = ("o_type",)

    def __init__(self, o_type: ScalarType, name: str | None = None):
        if not isinstance(o_type, ScalarType):
            raise TypeError(f"Cast: expected a ScalarType, got {o_type!r}")
        super().__init__(specific_out(o_type), name=name)
        self.o_type = o_type

    def __str__(self):
        return f"Cast{{{self.o_type.dtype}}}"

    def make_new_inplace(self, output_types_preference=None, name=None) -> Cast:
        return type(self)(self.o_type, name)

    def vectorized(self, x):
        with np.errstate(all="ignore"):
            return np.asarray(x).astype(self.o_type.dtype)

    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        c_support.check_real(self, node)
        src, dst = node.inputs[0].type.dtype, node.outputs[0].type.dtype
        return f"{outputs[0]} = {c_cast(inputs[0], src, dst)};"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if self.o_type in continuous_types:
            return [gz]
        return [float_zeros_like(x)]


def _cast_op(dtype: str) -> Cast:
    return Cast(get_scalar_type(dtype), name=f"convert_to_{dtype}")


convert_to_bool = _cast_op("bool")
convert_to_int8 = _cast_op("int8")
convert_to_int16 = _cast_op("int16")
convert_to_int32 = _cast_op("int32")
convert_to_int64 = _cast_op("int64")
convert_to_uint8 = _cast_op("uint8")
convert_to_uint16 = _cast_op("uint16")
convert_to_uint32 = _cast_op("uint32")
convert_to_uint64 = _cast_op("uint64")
convert_to_float16 = _cast_op("float16")
convert_to_float32 = _cast_op("float32")
convert_to_float64 = _cast_op("float64")
convert_to_complex64 = _cast_op("complex64")
convert_to_complex128 = _cast_op("complex128")

_cast_mapping: dict[str, Cast] = {
    "bool": convert_to_bool,
    "int8": convert_to_int8,
    "int16": convert_to_int16,
    "int32": convert_to_int32,
    "int64": convert_to_int64,
    "uint8": convert_to_uint8,
    "uint16": convert_to_uint16,
    "uint32": convert_to_uint32,
    "uint64": convert_to_uint64,
    "float16": convert_to_float16,
    "float32": convert_to_float32,
    "float64": convert_to_float64,
    "complex64": convert_to_complex64,
    "complex128": convert_to_complex128,
}


def cast(x: Any, dtype: str) -> Variable:
    """``x`` as a scalar of ``dtype`` ('floatX' allowed); no node when it already is."""
    if dtype == "floatX":
        dtype = config.floatX
    dtype = get_scalar_type(dtype).dtype
    x = as_scalar(x)
    if x.type.dtype == dtype:
        return x
    if x.type.dtype.startswith("complex") and not dtype.startswith("complex"):
        raise TypeError(
            f"cast: casting {x} from {x.type.dtype} to {dtype} is ambiguous; use real(), "
            "imag(), angle() or abs()"
        )
    return _cast_mapping[dtype](x)

"""Reductions: CAReduce and its family (Sum, Prod, Max, Min, All, Any), MaxAndArgmax, Argmax.

``CAReduce(scalar_op, axis)`` folds a commutative, associative binary scalar op over some
axes. ``Sum`` and ``Prod`` (``CAReduceDtype``) follow Theano 1.0's dtype rules: by default the
result keeps the input dtype except that discrete inputs give 64-bit integers (bool and
signed → int64, unsigned → uint64), and the accumulation is done in a wider dtype
(``acc_dtype``: int64/uint64, float32 for float16, float64 for float32, complex128 for
complex64) before casting back. So ``sum`` of a float32 tensor is float32, computed in float64.

The library functions (``sum``, ``max``, ``argmax``...) live in :mod:`tgraph.tensor.math`; they
implement ``keepdims`` with a DimShuffle after the reduction, as Theano does.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from copy import copy

import numpy as np

from tgraph._config import config
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.op import Op
from tgraph.scalar.arith import add as s_add
from tgraph.scalar.arith import maximum as s_maximum
from tgraph.scalar.arith import minimum as s_minimum
from tgraph.scalar.arith import mul as s_mul
from tgraph.scalar.arith import sub as s_sub
from tgraph.scalar.arith import switch as s_switch
from tgraph.scalar.arith import true_div as s_true_div
from tgraph.scalar.compare import and_ as s_and
from tgraph.scalar.compare import eq as s_eq
from tgraph.scalar.compare import neq as s_neq
from tgraph.scalar.compare import or_ as s_or
from tgraph.scalar.op import second as s_second
from tgraph.scalar.type import continuous_dtypes, discrete_dtypes, upcast
from tgraph.tensor.argmax_c import ARGMAX_C_VERSION, ARGMAX_SUPPORT, argmax_c_code
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.reduction_c import (
    REDUCTION_C_VERSION,
    REDUCTION_SUPPORT,
    careduce_c_code,
)
from tgraph.tensor.type import TensorType, normalize_dtype

_eq = Elemwise(s_eq)
_neq = Elemwise(s_neq)
_mul = Elemwise(s_mul)
_div = Elemwise(s_true_div)
_switch = Elemwise(s_switch)
_and = Elemwise(s_and)
_sub = Elemwise(s_sub)
_second = Elemwise(s_second)


def _zeros(x: Variable, dtype: str | None = None) -> Variable:
    return _second(x, constant(0, dtype=dtype or x.type.dtype))


def _axis_tuple(axis: typing.Any) -> tuple[int, ...] | None:
    """``axis`` (None, an int, a sequence or a constant) as a sorted tuple of unique ints."""
    if axis is None:
        return None
    if isinstance(axis, Constant):
        axis = axis.data
    if isinstance(axis, Variable):
        raise TypeError(f"the reduction axis must be a constant, got the symbolic {axis}")
    if isinstance(axis, np.ndarray) and axis.ndim == 0:
        axis = int(axis)
    if isinstance(axis, int | np.integer) and not isinstance(axis, bool):
        return (int(axis),)
    try:
        if isinstance(axis, str | bytes):
            raise TypeError(axis)
        items = [int(a) for a in axis]
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"the reduction axis must be None, an int or a sequence of ints, got {axis!r}"
        ) from exc
    return tuple(sorted(set(items)))


def check_and_normalize_axes(x: typing.Any, axis: typing.Any) -> list[int]:
    """``axis`` as a sorted list of non-negative ints for ``x``; [] for None (Theano's API)."""
    x = as_tensor_variable(x)
    axes = _axis_tuple(axis)
    if axes is None:
        return []
    out = set()
    for a in axes:
        b = a + x.type.ndim if a < 0 else a
        if not 0 <= b < x.type.ndim:
            raise ValueError(
                f"axis {a} is out of range for {x} ({x.type}, {x.type.ndim} dimension(s))"
            )
        out.add(b)
    return sorted(out)


def _kept_pattern(ndim: int, axes: Sequence[int]) -> list:
    """DimShuffle pattern putting back the reduced ``axes`` as broadcastable dimensions."""
    pattern: list = []
    i = 0
    for j in range(ndim):
        if j in axes:
            pattern.append("x")
        else:
            pattern.append(i)
            i += 1
    return pattern


def makeKeepDims(x: typing.Any, y: typing.Any, axis: typing.Any) -> Variable:
    """``y`` (a reduction of ``x`` over ``axis``) with the reduced axes put back as size 1."""
    x = as_tensor_variable(x)
    y = as_tensor_variable(y)
    axes = check_and_normalize_axes(x, axis) if axis is not None else list(range(x.type.ndim))
    return DimShuffle(y.type.broadcastable, _kept_pattern(x.type.ndim, axes))(y)


def sum_keepdims(x: Variable, axes: Sequence[int]) -> Variable:
    """``x`` summed over ``axes`` with those axes kept (Elemwise gradients use it)."""
    return makeKeepDims(x, Sum(axis=list(axes))(x), list(axes))


# ---------------------------------------------------------------------------------------------
# CAReduce


class CAReduce(Op):
    """Fold a commutative, associative binary scalar op over ``axis`` (None: all axes).

    ``CAReduce(add)`` sums, ``CAReduce(maximum)`` takes the max, and so on. Reducing an empty
    axis gives the op's ``identity`` (0 for add, 1 for mul); ops without one (maximum,
    minimum) refuse empty axes, as NumPy does. str is Theano's: ``Reduce{add}{0, 1}``.
    """

    __props__ = ("scalar_op", "axis")

    def __init__(self, scalar_op, axis: typing.Any = None):
        if getattr(scalar_op, "nin", -1) not in (-1, 2) or getattr(scalar_op, "nout", 1) != 1:
            raise NotImplementedError(
                f"CAReduce needs a binary scalar op with one output, got {scalar_op}"
            )
        self.scalar_op = scalar_op
        self.axis = _axis_tuple(axis)

    def _output_dtype(self, input_dtype: str) -> str:
        return input_dtype

    def _ufunc(self):
        """The NumPy ufunc whose ``reduce`` implements this op, or None."""
        spec = getattr(self.scalar_op, "nfunc_spec", None)
        if spec:
            fn = getattr(np, spec[0], None)
            if isinstance(fn, np.ufunc) and fn.nin == 2 and fn.nout == 1:
                return fn
        return None

    def _normalized(self, x: Variable):
        """This op with non-negative axes for ``x`` (a copy when they change)."""
        if self.axis is None:
            return self
        ndim = x.type.ndim
        for a in self.axis:
            if a >= ndim or a < -ndim:
                raise ValueError(
                    f"{self}: cannot reduce axis {a} of {x} ({x.type}, {ndim} dimension(s))"
                )
        axes = tuple(sorted({a % ndim for a in self.axis}))
        if axes == self.axis:
            return self
        op = copy(self)
        op.axis = axes
        return op

    def make_node(self, input: typing.Any) -> Apply:
        x = as_tensor_variable(input)
        op = self._normalized(x)
        axes = range(x.type.ndim) if op.axis is None else op.axis
        bcast = [b for i, b in enumerate(x.type.broadcastable) if i not in axes]
        out = TensorType(op._output_dtype(x.type.dtype), bcast)()
        return Apply(op, [x], [out])

    def __str__(self):
        if self.axis is not None:
            return f"Reduce{{{self.scalar_op}}}{{{', '.join(str(a) for a in self.axis)}}}"
        return f"Reduce{{{self.scalar_op}}}"

    def perform(self, node, inputs, output_storage, params=None):
        (x,) = inputs
        out_dtype = node.outputs[0].type.dtype
        axes = tuple(range(x.ndim)) if self.axis is None else self.axis
        acc_dtype = getattr(self, "acc_dtype", None) or out_dtype
        if not axes:
            output_storage[0][0] = np.array(x, dtype=out_dtype, copy=True)
            return
        identity = getattr(self.scalar_op, "identity", None)
        empty = [a for a in axes if x.shape[a] == 0]
        if empty and identity is None:
            raise ValueError(
                f"{self}: cannot reduce the empty axis {empty[0]} of an input of shape "
                f"{x.shape}: {self.scalar_op} has no identity value"
            )
        ufunc = self._ufunc()
        with np.errstate(all="ignore"):
            if ufunc is not None:
                res = ufunc.reduce(x, axis=axes, dtype=acc_dtype)
            else:
                res = np.asarray(x, dtype=acc_dtype)
                fold = np.frompyfunc(self.scalar_op.impl, 2, 1)
                for a in sorted(axes, reverse=True):
                    if res.shape[a] == 0:
                        shape = res.shape[:a] + res.shape[a + 1:]
                        res = np.full(shape, identity, dtype=acc_dtype)
                    else:
                        res = np.asarray(fold.reduce(res, axis=a), dtype=acc_dtype)
            res = np.asarray(res)
            if res.dtype != out_dtype:
                res = res.astype(out_dtype)
        if np.may_share_memory(res, x):
            res = res.copy()
        output_storage[0][0] = res

    def infer_shape(self, node, input_shapes):
        (ishape,) = input_shapes
        if self.axis is None:
            return [()]
        return [tuple(s for i, s in enumerate(ishape) if i not in self.axis)]

    # -- C (text only; see reduction_c) ---------------------------------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return careduce_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return REDUCTION_SUPPORT

    def c_headers(self, **kwargs):
        return ["<math.h>"]

    def c_code_cache_version(self):
        return REDUCTION_C_VERSION

    def _reduced_axes(self, x: Variable) -> list[int]:
        return list(range(x.type.ndim)) if self.axis is None else list(self.axis)


class All(CAReduce):
    """Logical and over ``axis``; non-bool inputs are compared with 0 first. Output bool."""

    __props__ = ("axis",)

    def __init__(self, axis: typing.Any = None):
        super().__init__(s_and, axis)

    def _output_dtype(self, input_dtype: str) -> str:
        return "bool"

    def __str__(self):
        return "All" if self.axis is None else f"All{{{', '.join(map(str, self.axis))}}}"

    def make_node(self, input: typing.Any) -> Apply:
        x = as_tensor_variable(input)
        if x.type.dtype != "bool":
            x = _neq(x, 0)
        return super().make_node(x)

    def grad(self, inputs, output_grads):
        return [_zeros(inputs[0], config.floatX)]


class Any(CAReduce):
    """Logical or over ``axis``; non-bool inputs are compared with 0 first. Output bool."""

    __props__ = ("axis",)

    def __init__(self, axis: typing.Any = None):
        super().__init__(s_or, axis)

    def _output_dtype(self, input_dtype: str) -> str:
        return "bool"

    def __str__(self):
        return "Any" if self.axis is None else f"Any{{{', '.join(map(str, self.axis))}}}"

    def make_node(self, input: typing.Any) -> Apply:
        x = as_tensor_variable(input)
        if x.type.dtype != "bool":
            x = _neq(x, 0)
        return super().make_node(x)

    def grad(self, inputs, output_grads):
        return [_zeros(inputs[0], config.floatX)]


class _MaxMin(CAReduce):
    """Max and Min as reductions: the gradient goes to every position equal to the result."""

    __props__ = ("axis",)

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.type.dtype in discrete_dtypes:
            return [_zeros(x, config.floatX)]
        pattern = _kept_pattern(x.type.ndim, self._reduced_axes(x))
        out_pad = DimShuffle(outputs[0].type.broadcastable, pattern)(outputs[0])
        gz_pad = DimShuffle(gz.type.broadcastable, pattern)(gz)
        return [_mul(_eq(out_pad, x), gz_pad)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        x = inputs[0]
        out = self(x)
        return [_tie_average(self, x, out, eval_points[0], self._reduced_axes(x))]


class Max(_MaxMin):
    """Maximum over ``axis`` (``CAReduce(maximum)``; str as Theano's ``Reduce{maximum}``)."""

    def __init__(self, axis: typing.Any = None):
        super().__init__(s_maximum, axis)


class Min(_MaxMin):
    """Minimum over ``axis`` (``CAReduce(minimum)``; str as Theano's ``Reduce{minimum}``)."""

    def __init__(self, axis: typing.Any = None):
        super().__init__(s_minimum, axis)


def _tie_average(op, x, out, ev, axes):
    """R_op of a max/min: the eval point at the extremum, averaged over ties."""
    pattern = _kept_pattern(x.type.ndim, axes)
    out_pad = DimShuffle(out.type.broadcastable, pattern)(out)
    mask = _eq(out_pad, x)
    num = Sum(axis=axes)(_mul(mask, ev))
    den = Sum(axis=axes, dtype=num.type.dtype)(mask)
    return _div(num, den)


# ---------------------------------------------------------------------------------------------
# Reductions with a result dtype and an accumulator dtype

_DEFAULT_OUT = {
    "bool": "int64", "int8": "int64", "int16": "int64", "int32": "int64",
    "uint8": "uint64", "uint16": "uint64", "uint32": "uint64",
}
_DEFAULT_ACC = {
    **_DEFAULT_OUT,
    "float16": "float32", "float32": "float64", "complex64": "complex128",
}


class CAReduceDtype(CAReduce):
    """CAReduce with an output ``dtype`` and an accumulator ``acc_dtype`` (Theano 1.0's).

    ``dtype=None``: the input dtype, except bool and signed integers → int64 and unsigned
    → uint64. ``acc_dtype=None``: at least int64/uint64 for discrete inputs, float32 for
    float16, float64 for float32, complex128 for complex64. An explicit ``acc_dtype`` must
    not lose precision (a float accumulator for integers is allowed). The node's op has
    both resolved, so its str shows the accumulator: ``Sum{acc_dtype=float64}``.
    """

    __props__ = ("scalar_op", "axis", "dtype", "acc_dtype")

    def __init__(self, scalar_op, axis: typing.Any = None, dtype: str | None = None,
                 acc_dtype: str | None = None):
        super().__init__(scalar_op, axis)
        self.dtype = None if dtype is None else normalize_dtype(dtype)
        self.acc_dtype = None if acc_dtype is None else normalize_dtype(acc_dtype)

    def _output_dtype(self, idtype: str) -> str:
        if self.dtype is None:
            return _DEFAULT_OUT.get(idtype, idtype)
        return self.dtype

    def _acc_dtype(self, idtype: str) -> str:
        acc = self.acc_dtype
        if acc is None:
            return _DEFAULT_ACC.get(idtype, idtype)
        if acc in continuous_dtypes and idtype in discrete_dtypes:
            return acc
        up = upcast(idtype, acc)
        if up != acc:
            raise TypeError(
                f"Cannot build {self} on an input of dtype {idtype} with acc_dtype {acc}: "
                f"precision would be lost. Leave acc_dtype unset, use an acc_dtype at least "
                f"as precise as {up}, or pass dtype='{acc}' (accumulate precisely, then cast "
                f"the result), or cast the input with tensor.cast(x, '{acc}')"
            )
        return acc

    def make_node(self, input: typing.Any) -> Apply:
        x = as_tensor_variable(input)
        dtype = self._output_dtype(x.type.dtype)
        acc = self._acc_dtype(x.type.dtype)
        op = self
        if dtype != self.dtype or acc != self.acc_dtype:
            op = copy(self)
            op.dtype = dtype
            op.acc_dtype = acc
        return CAReduce.make_node(op, x)

    def _name(self) -> str:
        return f"ReduceDtype{{{self.scalar_op}}}"

    def __str__(self):
        axis = "" if self.axis is None else f"axis=[{', '.join(map(str, self.axis))}], "
        return f"{self._name()}{{{axis}acc_dtype={self.acc_dtype}}}"


class Sum(CAReduceDtype):
    """Sum over ``axis``, with Theano 1.0's ``dtype``/``acc_dtype`` (see CAReduceDtype)."""

    __props__ = ("axis", "dtype", "acc_dtype")

    def __init__(self, axis: typing.Any = None, dtype: str | None = None,
                 acc_dtype: str | None = None):
        super().__init__(s_add, axis, dtype, acc_dtype)

    def _name(self) -> str:
        return "Sum"

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if outputs[0].type.dtype not in continuous_dtypes:
            return [_zeros(x, config.floatX)]
        gz = as_tensor_variable(gz)
        axes = self._reduced_axes(x)
        if not axes:
            return [gz]
        pattern = _kept_pattern(x.type.ndim, axes)
        return [_second(x, DimShuffle(gz.type.broadcastable, pattern)(gz))]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(*eval_points, return_list=True)


class Prod(CAReduceDtype):
    """Product over ``axis`` (dtypes as Sum).

    Gradient: with no zero in a group, d prod / d x_i = prod / x_i. With zeros Theano 1.0
    used a special op (ProdWithoutZeros) and refused second derivatives; we use a closed
    form: with ``p1`` the product of the group with its zeros replaced by 1, the gradient
    is ``p1 / x_i`` in zero-free groups, ``p1`` at the only zero of a group with one zero,
    and 0 elsewhere. Terms equal to 0 but carrying the zeros' own values keep the second
    derivative exact too, and only zero-free values are ever divided by.
    ``no_zeros_in_input=True`` promises no zeros and uses ``prod / x``.
    """

    __props__ = ("axis", "dtype", "acc_dtype", "no_zeros_in_input")

    def __init__(self, axis: typing.Any = None, dtype: str | None = None,
                 acc_dtype: str | None = None, no_zeros_in_input: bool = False):
        super().__init__(s_mul, axis, dtype, acc_dtype)
        self.no_zeros_in_input = bool(no_zeros_in_input)

    def _name(self) -> str:
        return "Prod"

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if (outputs[0].type.dtype in discrete_dtypes or self.acc_dtype in discrete_dtypes
                or x.type.dtype in discrete_dtypes):
            return [_zeros(x, config.floatX)]
        gz = as_tensor_variable(gz)
        axes = self._reduced_axes(x)
        if not axes:
            return [gz]
        pattern = _kept_pattern(x.type.ndim, axes)
        gz_pad = DimShuffle(gz.type.broadcastable, pattern)(gz)
        if self.no_zeros_in_input:
            out_pad = DimShuffle(outputs[0].type.broadcastable, pattern)(outputs[0])
            return [_div(_mul(gz_pad, out_pad), x)]
        dtype = outputs[0].type.dtype
        is_zero = _eq(x, constant(0, dtype=x.type.dtype))
        x_safe = _switch(is_zero, constant(1, dtype=x.type.dtype), x)
        p1 = Prod(axis=axes, dtype=dtype, no_zeros_in_input=True)(x_safe)
        p1_pad = DimShuffle(p1.type.broadcastable, pattern)(p1)
        n_zeros = Sum(axis=axes)(is_zero)
        nz_pad = DimShuffle(n_zeros.type.broadcastable, pattern)(n_zeros)
        # zs is 0 but has derivative 1 with respect to each zero of its group: it keeps the
        # second derivative right where a factor of the product is 0.
        zs = Sum(axis=axes, dtype=dtype)(_mul(x, is_zero))
        zs_pad = DimShuffle(zs.type.broadcastable, pattern)(zs)
        zero = constant(0, dtype=dtype)
        one_zero = _switch(is_zero, p1_pad, _div(_mul(zs_pad, p1_pad), x_safe))
        two_zeros = _switch(is_zero, _mul(_sub(zs_pad, x), p1_pad), zero)
        local = _switch(
            _eq(nz_pad, 0), _div(p1_pad, x_safe),
            _switch(_eq(nz_pad, 1), one_zero, _switch(_eq(nz_pad, 2), two_zeros, zero)),
        )
        return [_mul(gz_pad, local)]


# ---------------------------------------------------------------------------------------------
# max and argmax


def _argmax_values(x: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Argmax over several axes at once: index into those axes flattened (C order)."""
    keep = [i for i in range(x.ndim) if i not in axes]
    xt = np.transpose(x, keep + list(axes))
    kept_shape = xt.shape[: len(keep)]
    flat = xt.reshape((*kept_shape, int(np.prod(xt.shape[len(keep):], dtype="int64"))))
    return np.asarray(np.argmax(flat, axis=-1), dtype="int64")


def _check_not_empty(op, x: np.ndarray, axes) -> None:
    for a in axes:
        if x.shape[a] == 0:
            raise ValueError(
                f"{op}: cannot take the max/argmax over the empty axis {a} of an input of "
                f"shape {x.shape}"
            )


def _resolved_axes(axis, ndim: int) -> tuple[int, ...]:
    return tuple(range(ndim)) if axis is None else tuple(axis)


class _ArgmaxC:
    """The C side shared by MaxAndArgmax and Argmax (see argmax_c)."""

    def c_code(self, node, name, inputs, outputs, sub):
        return argmax_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return ARGMAX_SUPPORT

    def c_code_cache_version(self):
        return ARGMAX_C_VERSION


class MaxAndArgmax(_ArgmaxC, Op):
    """The maximum and its (flattened) position over ``axis`` (Theano 1.0's op).

    Outputs: ``max`` (the input dtype) and ``argmax`` (int64), named so. The gradient of the
    maximum goes to every position equal to it; the argmax has a zero gradient. The axes
    are a prop, not run-time params (Theano 1.0 passed them as params): the C code is
    generated for them.
    """

    __props__ = ("axis",)
    nin = 1
    nout = 2

    def __init__(self, axis: Sequence[int] | None):
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self):
        return f"MaxAndArgmax{{axis={self.axis!r}}}"

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        axes = _resolved_axes(self.axis, x.type.ndim)
        for a in axes:
            if not 0 <= a < x.type.ndim:
                raise ValueError(
                    f"{self}: axis {a} is out of range for {x} ({x.type}); use "
                    "max_and_argmax(), which normalizes negative axes"
                )
        bcast = [b for i, b in enumerate(x.type.broadcastable) if i not in axes]
        outs = [TensorType(x.type.dtype, bcast)("max"), TensorType("int64", bcast)("argmax")]
        return Apply(self, [x], outs)

    def perform(self, node, inputs, output_storage, params=None):
        (x,) = inputs
        axes = _resolved_axes(self.axis, x.ndim)
        _check_not_empty(self, x, axes)
        output_storage[0][0] = np.asarray(np.max(x, axis=axes), dtype=node.outputs[0].dtype)
        output_storage[1][0] = _argmax_values(x, axes)

    def infer_shape(self, node, input_shapes):
        (ishape,) = input_shapes
        axes = _resolved_axes(self.axis, len(ishape))
        shp = tuple(s for i, s in enumerate(ishape) if i not in axes)
        return [shp, shp]

    def L_op(self, inputs, outputs, output_grads):
        (x,) = inputs
        g_max = output_grads[0]
        if x.type.dtype in discrete_dtypes:
            return [_zeros(x, config.floatX)]
        if not isinstance(getattr(g_max, "type", None), TensorType):
            if not isinstance(getattr(output_grads[1], "type", None), TensorType):
                return [g_max]  # both outputs disconnected: so is the input
            return [_zeros(x)]
        pattern = _kept_pattern(x.type.ndim, _resolved_axes(self.axis, x.type.ndim))
        xmax_pad = DimShuffle(outputs[0].type.broadcastable, pattern)(outputs[0])
        g_pad = DimShuffle(g_max.type.broadcastable, pattern)(g_max)
        return [_mul(_eq(xmax_pad, x), g_pad)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None, None]
        x = inputs[0]
        out = self(x)[0]
        axes = list(_resolved_axes(self.axis, x.type.ndim))
        return [_tie_average(self, x, out, eval_points[0], axes), None]


class Argmax(_ArgmaxC, Op):
    """The (flattened) position of the maximum over ``axis`` (None: all axes); int64."""

    __props__ = ("axis",)
    nin = 1
    nout = 1

    def __init__(self, axis: Sequence[int] | None):
        self.axis = None if axis is None else tuple(int(a) for a in axis)

    def __str__(self):
        return f"Argmax{{axis={self.axis!r}}}"

    def make_node(self, x: typing.Any) -> Apply:
        x = as_tensor_variable(x)
        axes = _resolved_axes(self.axis, x.type.ndim)
        for a in axes:
            if not 0 <= a < x.type.ndim:
                raise ValueError(f"{self}: axis {a} is out of range for {x} ({x.type})")
        bcast = [b for i, b in enumerate(x.type.broadcastable) if i not in axes]
        return Apply(self, [x], [TensorType("int64", bcast)("argmax")])

    def perform(self, node, inputs, output_storage, params=None):
        (x,) = inputs
        axes = _resolved_axes(self.axis, x.ndim)
        _check_not_empty(self, x, axes)
        output_storage[0][0] = _argmax_values(x, axes)

    def infer_shape(self, node, input_shapes):
        (ishape,) = input_shapes
        axes = _resolved_axes(self.axis, len(ishape))
        return [tuple(s for i, s in enumerate(ishape) if i not in axes)]

    def grad(self, inputs, output_grads):
        (x,) = inputs
        dtype = config.floatX if x.type.dtype in discrete_dtypes else x.type.dtype
        return [_zeros(x, dtype)]


__all__ = [
    "All",
    "Any",
    "Argmax",
    "CAReduce",
    "CAReduceDtype",
    "Max",
    "MaxAndArgmax",
    "Min",
    "Prod",
    "Sum",
    "check_and_normalize_axes",
    "makeKeepDims",
]

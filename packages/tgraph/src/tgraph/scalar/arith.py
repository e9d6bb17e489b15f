"""Arithmetic: add, sub, mul, divisions, mod, neg, abs, sign, rounding, min/max, switch, clip,
and the complex-number ops.

Semantics are NumPy's: integer division floors and ``mod`` takes the divisor's sign (as
Python), integer division or mod by zero gives 0, float division by zero gives inf or NaN, and
integers wrap on overflow. None of these warn: NumPy's floating-point warnings are silenced.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from tgraph._config import config
from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import c_support as cs
from tgraph.scalar.compare import and_, ge, gt, invert, le, lt
from tgraph.scalar.op import (
    BinaryScalarOp,
    ScalarOp,
    UnaryScalarOp,
    as_scalar,
    constant,
    float_zeros_like,
    zeros_like,
)
from tgraph.scalar.preferences import (
    complex_out,
    real_out,
    same_out,
    same_out_float_only,
    same_out_min8,
    same_out_nobool,
    sgn_out,
    specific_out,
    upcast_out,
    upcast_out_no_complex,
    upcast_out_nobool,
    upgrade_to_float,
    upgrade_to_float_no_complex,
)
from tgraph.scalar.type import (
    ComplexError,
    IntegerDivisionError,
    complex_types,
    discrete_types,
    float64,
    get_scalar_type,
)


def _zero(like):
    return constant(0, dtype=like.type.dtype)


# ---------------------------------------------------------------------------------------------
# add, sub, mul


class Add(ScalarOp):
    """Sum of any number of inputs (logical or on bools)."""

    identity = 0
    commutative = True
    associative = True
    nfunc_spec = ("add", 2, 1)

    def vectorized(self, *arrays):
        with np.errstate(all="ignore"):
            return functools.reduce(np.add, arrays)

    _c_version = (1,)
    _c_ufunc = np.add

    def c_code(self, node, name, inputs, outputs, sub):
        return _reduce_c_code(self, node, inputs, outputs, cs.int_add)

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        if gz.type in complex_types:
            return [gz if x.type in complex_types else real(gz) for x in inputs]
        return [gz for _ in inputs]


class Mul(ScalarOp):
    """Product of any number of inputs (logical and on bools)."""

    identity = 1
    commutative = True
    associative = True
    nfunc_spec = ("multiply", 2, 1)

    def vectorized(self, *arrays):
        with np.errstate(all="ignore"):
            return functools.reduce(np.multiply, arrays)

    _c_version = (1,)
    _c_ufunc = np.multiply

    def c_code(self, node, name, inputs, outputs, sub):
        return _reduce_c_code(self, node, inputs, outputs, cs.int_mul)

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        grads = []
        for i, x in enumerate(inputs):
            others = inputs[:i] + inputs[i + 1:]
            if gz.type in complex_types:
                # Theano's convention: the gradient of a real cost is gz * conj(d out/d x).
                other = mul(*others) if others else constant(1, dtype=gz.type.dtype)
                g = gz * conj(other)
                grads.append(g if x.type in complex_types else real(g))
            else:
                grads.append(mul(gz, *others))
        return grads


class Sub(BinaryScalarOp):
    """``x - y`` (bools refused, as by NumPy)."""

    nfunc_spec = ("subtract", 2, 1)
    _func = np.subtract
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return cs.int_sub(out_dtype, *args)

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [gz, -gz]


def _reduce_c_code(op, node, inputs, outputs, combine) -> str:
    """C of a variadic add/mul folded left to right, each step in NumPy's loop dtype for
    the pair (so ``int8 + int8 + float32`` wraps the first sum in int8, as reduce does)."""
    cs.check_real(op, node)
    dtypes = [str(v.type.dtype) for v in node.inputs]
    acc, acc_dtype = inputs[0], dtypes[0]
    for arg, dtype in zip(inputs[1:], dtypes[1:]):
        try:
            loop = op._c_ufunc.resolve_dtypes((np.dtype(acc_dtype), np.dtype(dtype), None))
        except (TypeError, ValueError) as exc:
            raise MethodNotDefined(f"{op}: no NumPy loop for {acc_dtype}, {dtype}") from exc
        da, db, dz = (str(d) for d in loop)
        cs.c_type(dz)
        acc = combine(dz, cs.c_cast(acc, acc_dtype, da), cs.c_cast(arg, dtype, db))
        acc_dtype = dz
    return f"{outputs[0]} = {cs.c_cast(acc, acc_dtype, str(node.outputs[0].type.dtype))};"


add = Add(upcast_out, name="add")
mul = Mul(upcast_out, name="mul")
sub = Sub(upcast_out_nobool, name="sub")


# ---------------------------------------------------------------------------------------------
# Divisions


def int_or_true_div(x_discrete: bool, y_discrete: bool) -> ScalarOp:
    """The op ``x / y`` means, by the operands' kinds and ``config.int_division``.

    Two integers: 'raise' raises IntegerDivisionError, 'int' gives ``int_div`` with a
    DeprecationWarning, 'floatX' gives ``true_div``. Otherwise ``true_div``. (Theano 1.0's
    rule, shared by the tensor layer.)
    """
    if not (x_discrete and y_discrete):
        return true_div
    mode = config.int_division
    if mode == "raise":
        raise IntegerDivisionError(
            "with config.int_division='raise', dividing two integers with '/' is refused: "
            "use // for an integer division, or cast one operand to a float"
        )
    if mode == "int":
        warnings.warn(
            "Division of two integer types with x / y is deprecated, please use x // y for "
            "an integer division.",
            DeprecationWarning,
            stacklevel=4,
        )
        return int_div
    if mode == "floatX":
        return true_div
    raise ValueError(f"config.int_division has an unknown value {mode!r}")


def div_proxy(x, y):
    """``x / y`` with :func:`int_or_true_div`'s choice of op."""
    x, y = as_scalar(x), as_scalar(y)
    op = int_or_true_div(x.type in discrete_types, y.type in discrete_types)
    return op(x, y)


class TrueDiv(BinaryScalarOp):
    """``x / y`` in floating point; two integers give floatX (Theano's rule)."""

    nfunc_spec = ("true_divide", 2, 1)
    _func = np.true_divide
    _lift = True
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        if cs.kind(out_dtype) != "f":
            raise MethodNotDefined(f"{self}: computed in {out_dtype}")
        return f"(({args[0]}) / ({args[1]}))"

    def output_types(self, types):
        if all(t in discrete_types for t in types):
            return [get_scalar_type(config.floatX)]
        return super().output_types(types)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        if x.type in complex_types or y.type in complex_types:
            raise ComplexError("true_div: the gradient is not implemented for complex inputs")
        return [gz / y, -(gz * x) / (y * y)]


class _NoComplex(BinaryScalarOp):
    complex_error: ComplexError

    def output_types(self, types):
        if any(t in complex_types for t in types):
            raise self.complex_error
        return super().output_types(types)


class IntDiv(_NoComplex):
    """``x // y``: floor division (int division by zero gives 0, float gives inf/NaN)."""

    nfunc_spec = ("floor_divide", 2, 1)
    _func = np.floor_divide
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return f"tgraph_floordiv_{out_dtype}({args[0]}, {args[1]})"

    def c_support_code(self, **kwargs):
        return cs.DIVISION_SUPPORT
    complex_error = ComplexError("int_div: // is not supported on complex numbers")

    def grad(self, inputs, output_grads):
        return [zeros_like(x) for x in inputs]


class Mod(_NoComplex):
    """``x % y`` with the sign of y (Python's); int mod by zero gives 0."""

    nfunc_spec = ("mod", 2, 1)
    _func = np.remainder
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return f"tgraph_mod_{out_dtype}({args[0]}, {args[1]})"

    def c_support_code(self, **kwargs):
        return cs.DIVISION_SUPPORT
    complex_error = ComplexError("mod: % is not supported on complex numbers")

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        return [gz, -int_div(x, y) * gz]


true_div = TrueDiv(upcast_out, name="true_div")
int_div = IntDiv(upcast_out, name="int_div")
floor_div = int_div
mod = Mod(upcast_out, name="mod")


def mod_check(x, y):
    """``x % y``, refusing complex operands with ComplexError."""
    x, y = as_scalar(x), as_scalar(y)
    if x.type in complex_types or y.type in complex_types:
        raise Mod.complex_error
    return mod(x, y)


# ---------------------------------------------------------------------------------------------
# Unary arithmetic


class Neg(UnaryScalarOp):
    """``-x`` (integers wrap; bool refused)."""

    nfunc_spec = ("negative", 1, 1)
    _func = np.negative
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return cs.int_neg(out_dtype, args[0])

    def grad(self, inputs, output_grads):
        return [-output_grads[0]]


class Abs(UnaryScalarOp):
    """``|x|``; the modulus (a real) for complex x."""

    nfunc_spec = ("abs", 1, 1)
    _func = np.abs
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        (x,) = args
        k = cs.kind(out_dtype)
        if k == "f":
            return f"{cs.libm('fabs', out_dtype)}({x})"
        if k == "i":  # |MIN| wraps to MIN, as in NumPy
            return f"(({x}) < 0 ? {cs.int_neg(out_dtype, x)} : ({x}))"
        return f"({x})"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.type in complex_types:
            return [gz * x / abs_(x)]
        return [gz * sgn(x)]


class Sgn(UnaryScalarOp):
    """The sign of x: -1, 0 or 1 (NaN for NaN)."""

    nfunc_spec = ("sign", 1, 1)
    _func = np.sign
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        (x,) = args
        t = cs.c_type(out_dtype)
        k = cs.kind(out_dtype)
        if k == "f":  # sign(-0.0) is +0.0 and sign(NaN) NaN, as NumPy
            return (f"(({x}) > 0 ? ({t})1 : ({x}) < 0 ? ({t})-1 : ({x}) == 0 ? ({t})0 :"
                    f" ({x}))")
        if k == "i":
            return f"(({t})((({x}) > 0) - (({x}) < 0)))"
        return f"(({t})(({x}) > 0))"

    def grad(self, inputs, output_grads):
        return [zeros_like(inputs[0])]


class Inv(UnaryScalarOp):
    """``1 / x`` in floating point."""

    nfunc_spec = ("reciprocal", 1, 1)
    _func = np.reciprocal
    _lift = True
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        if cs.kind(out_dtype) != "f":
            raise MethodNotDefined(f"{self}: computed in {out_dtype}")
        return f"(({cs.c_type(out_dtype)})1 / ({args[0]}))"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [-output_grads[0] / (x * x)]


class Sqr(UnaryScalarOp):
    """``x * x``."""

    nfunc_spec = ("square", 1, 1)
    _func = np.square
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return cs.int_mul(out_dtype, args[0], args[0])

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] * x * 2]


neg = Neg(same_out_nobool, name="neg")
abs_ = Abs(real_out, name="abs_")
sgn = Sgn(sgn_out, name="sgn")
inv = Inv(upgrade_to_float, name="inv")
sqr = Sqr(same_out, name="sqr")


# ---------------------------------------------------------------------------------------------
# Rounding


class _Rounding(UnaryScalarOp):
    """Piecewise constant: zero gradient."""

    _lift = True
    _c_version = (1,)
    _c_name = ""  # the <math.h> function

    def c_expr(self, in_dtypes, out_dtype, args):
        if not self._c_name:
            raise MethodNotDefined(f"{self} has no C implementation")
        return f"{cs.libm(self._c_name, out_dtype)}({args[0]})"

    def grad(self, inputs, output_grads):
        return [zeros_like(inputs[0])]


class Floor(_Rounding):
    """The largest integer <= x, as a float."""

    nfunc_spec = ("floor", 1, 1)
    _func = np.floor
    _c_name = "floor"


class Ceil(_Rounding):
    """The smallest integer >= x, as a float."""

    nfunc_spec = ("ceil", 1, 1)
    _func = np.ceil
    _c_name = "ceil"


class Trunc(_Rounding):
    """x rounded toward zero, as a float."""

    nfunc_spec = ("trunc", 1, 1)
    _func = np.trunc
    _c_name = "trunc"


class RoundHalfToEven(_Rounding):
    """x rounded to the nearest integer, ties to even (NumPy's ``round``)."""

    nfunc_spec = ("around", 1, 1)
    _func = staticmethod(np.round)
    _c_name = "rint"  # ties to even in the default rounding mode


class RoundHalfAwayFromZero(_Rounding):
    """x rounded to the nearest integer, ties away from zero (C's ``round``)."""

    def vectorized(self, x):
        x = np.asarray(x)
        with np.errstate(all="ignore"):
            t = np.trunc(x)
            # x - trunc(x) is exact, so halves are detected without the x + 0.5 rounding error.
            bump = np.where(np.abs(x - t) >= 0.5, np.sign(x), 0).astype(x.dtype)
            return t + bump

    def c_expr(self, in_dtypes, out_dtype, args):
        # The same formula as vectorized (not C's round): -0.3 gives +0.0 there.
        (x,) = args
        t = cs.c_type(out_dtype)
        tr = f"{cs.libm('trunc', out_dtype)}({x})"
        return (f"({tr} + ({cs.libm('fabs', out_dtype)}(({x}) - {tr}) >= ({t})0.5 ?"
                f" (({x}) > 0 ? ({t})1 : ({t})-1) : ({t})0))")


floor = Floor(upgrade_to_float_no_complex, name="floor")
ceil = Ceil(upgrade_to_float_no_complex, name="ceil")
trunc = Trunc(upgrade_to_float_no_complex, name="trunc")
round_half_to_even = RoundHalfToEven(same_out_float_only, name="round_half_to_even")
round_half_away_from_zero = RoundHalfAwayFromZero(
    same_out_float_only, name="round_half_away_from_zero"
)


# ---------------------------------------------------------------------------------------------
# Selection


class Maximum(BinaryScalarOp):
    """The larger of x and y (NaN if either is NaN)."""

    commutative = True
    associative = True
    nfunc_spec = ("maximum", 2, 1)
    _func = np.maximum
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return _select_c(">", out_dtype, *args)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        chose_x = ge(x, y)  # ties go to x; with a NaN, to y (Theano's eq(out, x) rule)
        return [switch(chose_x, gz, _zero(gz)), switch(invert(chose_x), gz, _zero(gz))]


class Minimum(BinaryScalarOp):
    """The smaller of x and y (NaN if either is NaN)."""

    commutative = True
    associative = True
    nfunc_spec = ("minimum", 2, 1)
    _func = np.minimum
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return _select_c("<", out_dtype, *args)

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        chose_x = le(x, y)
        return [switch(chose_x, gz, _zero(gz)), switch(invert(chose_x), gz, _zero(gz))]


def _select_c(symbol: str, dtype: str, a: str, b: str) -> str:
    """max/min as NumPy's array loops: a NaN in either wins, and ties give the second
    operand (``maximum(0.0, -0.0)`` is -0.0)."""
    if cs.kind(dtype) == "f":
        return f"((({a}) {symbol} ({b}) || ({a}) != ({a})) ? ({a}) : ({b}))"
    return f"((({a}) {symbol} ({b})) ? ({a}) : ({b}))"


maximum = Maximum(upcast_out, name="maximum")
minimum = Minimum(upcast_out, name="minimum")


class Switch(ScalarOp):
    """``ift if cond else iff``; the output type is the upcast of the two branches."""

    nin = 3
    nfunc_spec = ("where", 3, 1)
    _func = staticmethod(np.where)

    def output_types(self, types):
        return list(upcast_out(types[1], types[2]))

    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        # np.where: any nonzero condition (NaN too) picks ift; both branches in their
        # result_type, then cast to the output dtype.
        cs.check_real(self, node)
        dc, da, db = (str(v.type.dtype) for v in node.inputs)
        dr = str(np.result_type(da, db))
        cs.c_type(dr)
        cond, a, b = inputs
        value = f"(({cond}) != 0 ? {cs.c_cast(a, da, dr)} : {cs.c_cast(b, db, dr)})"
        return f"{outputs[0]} = {cs.c_cast(value, dr, str(node.outputs[0].type.dtype))};"

    def grad(self, inputs, output_grads):
        cond, ift, iff = inputs
        (gz,) = output_grads
        zero = _zero(gz)
        return [float_zeros_like(cond), switch(cond, gz, zero), switch(cond, zero, gz)]


switch = Switch(name="switch")


class Clip(ScalarOp):
    """x limited to [lo, hi]: ``lo if x < lo else hi if x > hi else x``.

    Theano's rule: when lo > hi, values below lo give lo (``np.clip`` gives hi).
    """

    nin = 3

    def vectorized(self, x, lo, hi):
        with np.errstate(all="ignore"):
            return np.where(np.less(x, lo), lo, np.where(np.greater(x, hi), hi, x))

    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        # The same nesting of where/less/greater as vectorized, with NumPy's dtypes.
        cs.check_real(self, node)
        dx, dlo, dhi = (str(v.type.dtype) for v in node.inputs)
        x, lo, hi = inputs
        inner_t = str(np.result_type(dhi, dx))
        outer_t = str(np.result_type(dlo, inner_t))
        for dtype in (inner_t, outer_t):
            cs.c_type(dtype)  # MethodNotDefined for float16
        below = cs.compare_code(self, node, "<", np.less, (x, lo), (dx, dlo))
        above = cs.compare_code(self, node, ">", np.greater, (x, hi), (dx, dhi))
        inner = f"({above} ? {cs.c_cast(hi, dhi, inner_t)} : {cs.c_cast(x, dx, inner_t)})"
        value = f"({below} ? {cs.c_cast(lo, dlo, outer_t)} : {cs.c_cast(inner, inner_t, outer_t)})"
        return f"{outputs[0]} = {cs.c_cast(value, outer_t, str(node.outputs[0].type.dtype))};"

    def grad(self, inputs, output_grads):
        x, lo, hi = inputs
        (gz,) = output_grads
        zero = _zero(gz)
        inside = and_(ge(x, lo), le(x, hi))
        return [switch(inside, gz, zero), switch(lt(x, lo), gz, zero),
                switch(gt(x, hi), gz, zero)]


clip = Clip(upcast_out_no_complex, name="clip")


# ---------------------------------------------------------------------------------------------
# Complex numbers


class Real(UnaryScalarOp):
    """The real part (x itself for a real x)."""

    nfunc_spec = ("real", 1, 1)
    _func = staticmethod(np.real)
    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        cs.check_real(self, node)  # complex inputs have no C here
        src, dst = node.inputs[0].type.dtype, node.outputs[0].type.dtype
        return f"{outputs[0]} = {cs.c_cast(inputs[0], src, dst)};"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.type in complex_types:
            return [complex(gz, _zero(gz))]
        return [gz]


class Imag(UnaryScalarOp):
    """The imaginary part (0 for a real x)."""

    nfunc_spec = ("imag", 1, 1)
    _func = staticmethod(np.imag)
    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        cs.check_real(self, node)
        return f"{outputs[0]} = {cs.c_literal(0, node.outputs[0].type.dtype)};"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.type in complex_types:
            return [complex(_zero(gz), gz)]
        return [zeros_like(x)]


class Conj(UnaryScalarOp):
    """The complex conjugate."""

    nfunc_spec = ("conj", 1, 1)
    _func = np.conj
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return f"({args[0]})"

    def grad(self, inputs, output_grads):
        return [conj(output_grads[0])]


class Angle(UnaryScalarOp):
    """The argument of a complex number (0 or pi for reals); float64, as in Theano."""

    nfunc_spec = ("angle", 1, 1)
    _func = staticmethod(np.angle)
    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        # np.angle of a real x is arctan2(0, x) in x's arctan2 loop (float16 for small
        # integers and bools: no C then).
        cs.check_real(self, node)
        dx = str(node.inputs[0].type.dtype)
        ins, out = _angle_loop(dx)
        x = cs.c_cast(inputs[0], dx, ins)
        value = f"{cs.libm('atan2', out)}({cs.c_literal(0, ins)}, {x})"
        return f"{outputs[0]} = {cs.c_cast(value, out, str(node.outputs[0].type.dtype))};"

    def grad(self, inputs, output_grads):
        (c,) = inputs
        (gt_,) = output_grads
        if c.type not in complex_types:
            return [zeros_like(c)]
        x, y = real(c), imag(c)
        r2 = x * x + y * y
        # d angle / dx = -y / r^2, d angle / dy = x / r^2
        return [complex(-gt_ * y / r2, gt_ * x / r2)]


class Complex(BinaryScalarOp):
    """``x + 1j * y`` from two reals."""

    @staticmethod
    def _func(x, y):
        return np.asarray(x) + 1j * np.asarray(y)

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [real(gz), imag(gz)]


class ComplexFromPolar(BinaryScalarOp):
    """``r * exp(1j * theta)``."""

    @staticmethod
    def _func(r, theta):
        return np.asarray(r) * np.exp(1j * np.asarray(theta))

    def grad(self, inputs, output_grads):
        r, theta = inputs
        (gz,) = output_grads
        unit = complex_from_polar(constant(1, dtype=r.type.dtype), theta)
        # gradient of a real cost: real(gz * conj(d out / d input))
        return [real(gz * conj(unit)), real(gz * conj(unit * complex(_zero(r), r)))]


def _angle_loop(dtype: str) -> tuple[str, str]:
    loop = [str(d) for d in np.arctan2.resolve_dtypes((np.dtype(dtype),) * 2 + (None,))]
    if loop[2] not in ("float32", "float64"):
        raise MethodNotDefined(f"angle: NumPy computes it in {loop[2]} for {dtype}")
    return loop[1], loop[2]


real = Real(real_out, name="real")
imag = Imag(real_out, name="imag")
conj = Conj(same_out_min8, name="conj")
angle = Angle(specific_out(float64), name="angle")
complex_ = Complex(complex_out, name="complex")
complex_from_polar = ComplexFromPolar(complex_out, name="complex_from_polar")
# Theano's name shadows the builtin; nothing in this module uses the builtin.
complex = complex_

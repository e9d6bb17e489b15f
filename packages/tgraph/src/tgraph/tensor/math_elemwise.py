"""The elementwise half of ``theano.tensor``'s function library: arithmetic, comparisons,
logic, transcendental and special functions, casts and rounding.

As in Theano 1.0, most names are :class:`Elemwise` instances, not functions: ``add`` *is*
``Elemwise(scalar.add)`` named ``Elemwise{add,no_inplace}``, so ``node.op == add`` and
``add.scalar_op`` work as Theano code expects. Calling one converts Python numbers and NumPy
arrays with ``as_tensor_variable`` (AsTensorError for anything else, which the tensor
operators turn into NotImplemented) and gives Theano's result dtypes, which come from the
scalar layer: Python numbers take the smallest fitting dtype (``x_float32 * 2.0`` stays
float32), mixed dtypes follow NumPy's promotion (``float32 + int64 -> float64``), two
integers divided with ``/`` give floatX, float functions of small integers give float32.

The reductions (``sum``, ``mean``, ``max``...) build on these in
:mod:`tgraph.tensor.math_reductions`; :mod:`tgraph.tensor.math` gathers both halves.
"""

from __future__ import annotations

import warnings
from typing import Any

import tgraph.scalar as scal
from tgraph._config import config
from tgraph.graph.basic import Variable
from tgraph.scalar.type import discrete_dtypes
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import normalize_dtype


def _elemwise(scalar_op, symbol: str, doc: str) -> Elemwise:
    """A library Elemwise named as Theano's ``_scal_elemwise`` named them."""
    op = Elemwise(scalar_op, name=f"Elemwise{{{symbol},no_inplace}}")
    op.__doc__ = doc
    return op


# ---------------------------------------------------------------------------------------------
# Arithmetic

add = _elemwise(scal.add, "add", "Elementwise sum of any number of tensors.")
sub = _elemwise(scal.sub, "sub", "Elementwise a - b.")
mul = _elemwise(scal.mul, "mul", "Elementwise product of any number of tensors.")
true_div = _elemwise(scal.true_div, "true_div",
                     "Elementwise a / b in floating point (two integers give floatX).")
int_div = _elemwise(scal.int_div, "int_div", "Elementwise floor division a // b.")
floor_div = int_div
mod = _elemwise(scal.mod, "mod", "Elementwise a % b (the sign of b, as in Python).")
pow = _elemwise(scal.pow, "pow", "Elementwise a ** b.")
neg = _elemwise(scal.neg, "neg", "Elementwise -a.")
abs_ = _elemwise(scal.abs_, "abs_", "Elementwise |a| (the modulus for complex a).")
sgn = _elemwise(scal.sgn, "sgn", "Elementwise sign of a (-1, 0 or 1).")
inv = _elemwise(scal.inv, "inv", "Elementwise 1.0 / a.")
sqr = _elemwise(scal.sqr, "sqr", "Elementwise a * a.")
square = sqr
sqrt = _elemwise(scal.sqrt, "sqrt", "Elementwise square root.")
maximum = _elemwise(scal.maximum, "maximum",
                    "Elementwise maximum of two tensors (see max for a reduction).")
minimum = _elemwise(scal.minimum, "minimum",
                    "Elementwise minimum of two tensors (see min for a reduction).")
clip = _elemwise(scal.clip, "clip",
                 "clip(x, min, max): x limited to [min, max]; at the boundaries the gradient "
                 "goes to x.")
switch = _elemwise(scal.switch, "switch", "switch(cond, ift, iff): ift where cond, else iff.")
where = switch

# Exponentials, logarithms, trigonometry
exp = _elemwise(scal.exp, "exp", "Elementwise e ** a.")
exp2 = _elemwise(scal.exp2, "exp2", "Elementwise 2 ** a.")
expm1 = _elemwise(scal.expm1, "expm1", "Elementwise e ** a - 1, accurate near 0.")
log = _elemwise(scal.log, "log", "Elementwise natural logarithm.")
log2 = _elemwise(scal.log2, "log2", "Elementwise base-2 logarithm.")
log10 = _elemwise(scal.log10, "log10", "Elementwise base-10 logarithm.")
log1p = _elemwise(scal.log1p, "log1p", "Elementwise log(1 + a), accurate near 0.")
sin = _elemwise(scal.sin, "sin", "Elementwise sine.")
cos = _elemwise(scal.cos, "cos", "Elementwise cosine.")
tan = _elemwise(scal.tan, "tan", "Elementwise tangent.")
arcsin = _elemwise(scal.arcsin, "arcsin", "Elementwise inverse sine.")
arccos = _elemwise(scal.arccos, "arccos", "Elementwise inverse cosine.")
arctan = _elemwise(scal.arctan, "arctan", "Elementwise inverse tangent.")
arctan2 = _elemwise(scal.arctan2, "arctan2", "Elementwise arctan(a / b) in the right quadrant.")
sinh = _elemwise(scal.sinh, "sinh", "Elementwise hyperbolic sine.")
cosh = _elemwise(scal.cosh, "cosh", "Elementwise hyperbolic cosine.")
tanh = _elemwise(scal.tanh, "tanh", "Elementwise hyperbolic tangent.")
arcsinh = _elemwise(scal.arcsinh, "arcsinh", "Elementwise inverse hyperbolic sine.")
arccosh = _elemwise(scal.arccosh, "arccosh", "Elementwise inverse hyperbolic cosine.")
arctanh = _elemwise(scal.arctanh, "arctanh", "Elementwise inverse hyperbolic tangent.")
deg2rad = _elemwise(scal.deg2rad, "deg2rad", "Elementwise degrees to radians.")
rad2deg = _elemwise(scal.rad2deg, "rad2deg", "Elementwise radians to degrees.")

# Special functions (SciPy)
erf = _elemwise(scal.erf, "erf", "Elementwise error function.")
erfc = _elemwise(scal.erfc, "erfc", "Elementwise complementary error function.")
erfcx = _elemwise(scal.erfcx, "erfcx", "Elementwise scaled complementary error function.")
erfinv = _elemwise(scal.erfinv, "erfinv", "Elementwise inverse error function.")
erfcinv = _elemwise(scal.erfcinv, "erfcinv",
                    "Elementwise inverse complementary error function.")
gamma = _elemwise(scal.gamma, "gamma", "Elementwise gamma function.")
gammaln = _elemwise(scal.gammaln, "gammaln", "Elementwise log of the gamma function.")
psi = _elemwise(scal.psi, "psi", "Elementwise digamma function.")
tri_gamma = _elemwise(scal.tri_gamma, "tri_gamma", "Elementwise trigamma function.")
chi2sf = _elemwise(scal.chi2sf, "chi2sf", "Survival function of the chi-square law.")
gammainc = _elemwise(scal.gammainc, "gammainc", "Regularized lower incomplete gamma.")
gammaincc = _elemwise(scal.gammaincc, "gammaincc", "Regularized upper incomplete gamma.")
gammau = _elemwise(scal.gammau, "gammau", "Upper incomplete gamma.")
gammal = _elemwise(scal.gammal, "gammal", "Lower incomplete gamma.")
j0 = _elemwise(scal.j0, "j0", "Bessel function of the first kind, order 0.")
j1 = _elemwise(scal.j1, "j1", "Bessel function of the first kind, order 1.")
jv = _elemwise(scal.jv, "jv", "Bessel function of the first kind, order v.")
i0 = _elemwise(scal.i0, "i0", "Modified Bessel function of the first kind, order 0.")
i1 = _elemwise(scal.i1, "i1", "Modified Bessel function of the first kind, order 1.")
iv = _elemwise(scal.iv, "iv", "Modified Bessel function of the first kind, order v.")

# Theano keeps these two in theano.tensor.nnet, with these names; nnet re-exports them.
sigmoid = Elemwise(scal.scalar_sigmoid, name="sigmoid")
sigmoid.__doc__ = "Elementwise logistic function 1 / (1 + exp(-x))."
softplus = Elemwise(scal.scalar_softplus, name="softplus")
softplus.__doc__ = "Elementwise log(1 + exp(x))."

# Rounding
floor = _elemwise(scal.floor, "floor", "Elementwise floor.")
ceil = _elemwise(scal.ceil, "ceil", "Elementwise ceiling.")
trunc = _elemwise(scal.trunc, "trunc", "Elementwise truncation toward 0.")
round_half_to_even = _elemwise(scal.round_half_to_even, "round_half_to_even",
                               "Elementwise rounding, halves to the even neighbour (NumPy's).")
round_half_away_from_zero = _elemwise(scal.round_half_away_from_zero,
                                      "round_half_away_from_zero",
                                      "Elementwise rounding, halves away from zero.")

# Complex numbers
real = _elemwise(scal.real, "real", "Real part.")
imag = _elemwise(scal.imag, "imag", "Imaginary part.")
conj = _elemwise(scal.conj, "conj", "Complex conjugate.")
angle = _elemwise(scal.angle, "angle", "Argument of a complex number.")
complex = _elemwise(scal.complex, "complex",
                    "complex(real, imag): a complex tensor from two real ones.")
complex_from_polar = _elemwise(scal.complex_from_polar, "complex_from_polar",
                               "complex_from_polar(abs, angle).")

# ---------------------------------------------------------------------------------------------
# Comparisons and logic (bool results)

lt = _elemwise(scal.lt, "lt", "Elementwise a < b.")
gt = _elemwise(scal.gt, "gt", "Elementwise a > b.")
le = _elemwise(scal.le, "le", "Elementwise a <= b.")
ge = _elemwise(scal.ge, "ge", "Elementwise a >= b.")
eq = _elemwise(scal.eq, "eq", "Elementwise a == b (``==`` on variables is identity).")
neq = _elemwise(scal.neq, "neq", "Elementwise a != b.")
isnan_ = _elemwise(scal.isnan, "isnan", "Elementwise isnan, whatever the dtype.")
isinf_ = _elemwise(scal.isinf, "isinf", "Elementwise isinf, whatever the dtype.")
and_ = _elemwise(scal.and_, "and_", "Elementwise bitwise a & b (logical and on bools).")
or_ = _elemwise(scal.or_, "or_", "Elementwise bitwise a | b (logical or on bools).")
xor = _elemwise(scal.xor, "xor", "Elementwise bitwise a ^ b.")
invert = _elemwise(scal.invert, "invert", "Elementwise bitwise ~a (logical not on bools).")
bitwise_and = and_
bitwise_or = or_
bitwise_xor = xor
bitwise_not = invert

# Copies and identity (Theano's tensor_copy is unnamed: str ``Elemwise{identity}``).
tensor_copy = Elemwise(scal.identity)
identity = tensor_copy
_second = Elemwise(scal.second)


def _discrete(x: Variable) -> bool:
    return x.type.dtype in discrete_dtypes


def isnan(a: Any) -> Variable:
    """Elementwise isnan; integers are never NaN, so they give False without a test."""
    a = as_tensor_variable(a)
    if _discrete(a):
        return _second(a, constant(False, dtype="bool"))
    return isnan_(a)


def isinf(a: Any) -> Variable:
    """Elementwise isinf; integers are never infinite, so they give False without a test."""
    a = as_tensor_variable(a)
    if _discrete(a):
        return _second(a, constant(False, dtype="bool"))
    return isinf_(a)


def isclose(a: Any, b: Any, rtol: float = 1.0e-5, atol: float = 1.0e-8,
            equal_nan: bool = False) -> Variable:
    """NumPy's ``isclose``: ``|a - b| <= atol + rtol * |b|``, infinities equal when of the same
    sign, NaNs equal only with ``equal_nan``. Not symmetric in a and b."""
    a, b = as_tensor_variable(a), as_tensor_variable(b)
    close = le(abs_(sub(a, b)), add(atol, mul(rtol, abs_(b))))
    a_nan, b_nan = isnan(a), isnan(b)
    a_inf, b_inf = isinf(a), isinf(b)
    finite_close = and_(close, invert(or_(or_(a_nan, b_nan), or_(a_inf, b_inf))))
    same_inf = and_(and_(a_inf, b_inf), eq(mul(a_inf, sgn(a)), mul(b_inf, sgn(b))))
    result = or_(finite_close, same_inf)
    if equal_nan:
        result = or_(result, and_(a_nan, b_nan))
    return result


# ---------------------------------------------------------------------------------------------
# Casting

_cast_mapping: dict[str, Elemwise] = {
    dtype: Elemwise(getattr(scal, f"convert_to_{dtype}"))
    for dtype in ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                  "uint64", "float16", "float32", "float64", "complex64", "complex128")
}
_convert_to_bool = _cast_mapping["bool"]
_convert_to_int8 = _cast_mapping["int8"]
_convert_to_int16 = _cast_mapping["int16"]
_convert_to_int32 = _cast_mapping["int32"]
_convert_to_int64 = _cast_mapping["int64"]
_convert_to_uint8 = _cast_mapping["uint8"]
_convert_to_uint16 = _cast_mapping["uint16"]
_convert_to_uint32 = _cast_mapping["uint32"]
_convert_to_uint64 = _cast_mapping["uint64"]
_convert_to_float16 = _cast_mapping["float16"]
_convert_to_float32 = _cast_mapping["float32"]
_convert_to_float64 = _cast_mapping["float64"]
_convert_to_complex64 = _cast_mapping["complex64"]
_convert_to_complex128 = _cast_mapping["complex128"]


def cast(x: Any, dtype: Any) -> Variable:
    """``x`` as a tensor of ``dtype`` ('floatX' allowed); ``x`` itself when already so.

    Complex to real is refused as ambiguous (use real, imag, abs or angle).
    """
    dtype = normalize_dtype(dtype)
    x = as_tensor_variable(x)
    if x.type.dtype == dtype:
        return x
    if x.type.dtype.startswith("complex") and not dtype.startswith("complex"):
        raise TypeError(
            f"cast: casting {x} from {x.type.dtype} to {dtype} is ambiguous; consider "
            "real(), imag(), angle() or abs()"
        )
    return _cast_mapping[dtype](x)


# ---------------------------------------------------------------------------------------------
# Rounding with a mode

_ROUND_WARNING = (
    "theano.tensor.round() changed its default from `half_away_from_zero` to `half_to_even` "
    "to have the same default as NumPy. Use the Theano flag `warn.round=False` to disable "
    "this warning."
)


def _warn_round() -> bool:
    # Theano 1.0 declares warn.round (default True); until the flag is declared on our
    # configuration, keep Theano's default.
    return bool(config.warn__round) if "warn.round" in config else True


def round(a: Any, mode: str | None = None) -> Variable:
    """Elementwise rounding, ``mode`` 'half_to_even' (NumPy's) or 'half_away_from_zero'.

    ``mode=None`` means 'half_to_even', Theano 1.0's default, with Theano's warning that
    the default changed (flag ``warn.round=False`` silences it).
    """
    if mode is None:
        mode = "half_to_even"
        if _warn_round():
            warnings.warn(_ROUND_WARNING, stacklevel=2)
    if mode == "half_away_from_zero":
        return round_half_away_from_zero(a)
    if mode == "half_to_even":
        return round_half_to_even(a)
    raise ValueError(
        f"round: mode {mode!r} is not implemented; use 'half_to_even' or 'half_away_from_zero'"
    )


def iround(a: Any, mode: str | None = None) -> Variable:
    """``cast(round(a, mode), 'int64')``."""
    return cast(round(a, mode), "int64")


# ---------------------------------------------------------------------------------------------
# Division helpers and small conveniences


def div_proxy(x: Any, y: Any) -> Variable:
    """``x / y`` with Theano's choice of op: two integers follow ``config.int_division``."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    op = scal.int_or_true_div(_discrete(x), _discrete(y))
    return int_div(x, y) if op is scal.int_div else true_div(x, y)


def ceil_intdiv(a: Any, b: Any) -> Variable:
    """``ceil(a / b)`` computed exactly for integers: ``a // b + (a % b != 0)``."""
    div = int_div(a, b)
    return add(cast(neq(mod(a, b), 0), div.type.dtype), div)


def mod_check(x: Any, y: Any) -> Variable:
    """``x % y``, refusing complex operands (Theano's check before ``mod``)."""
    x, y = as_tensor_variable(x), as_tensor_variable(y)
    if x.type.dtype.startswith("complex") or y.type.dtype.startswith("complex"):
        raise scal.ComplexError(
            f"mod: % is not supported on complex numbers (got {x.type} and {y.type})"
        )
    return mod(x, y)


def divmod(x: Any, y: Any) -> tuple[Variable, Variable]:
    """``(x // y, x % y)``."""
    return floor_div(x, y), mod_check(x, y)


def power(x: Any, y: Any) -> Variable:
    """``x ** y`` (NumPy's name)."""
    return pow(x, y)


def smallest(*args: Any) -> Variable:
    """The elementwise smallest of the arguments (Python's ``min`` on tensors)."""
    if len(args) == 2:
        a, b = args
        return switch(lt(a, b), a, b)
    return _reduce_many(minimum, args, "smallest")


def largest(*args: Any) -> Variable:
    """The elementwise largest of the arguments (Python's ``max`` on tensors)."""
    if len(args) == 2:
        a, b = args
        return switch(gt(a, b), a, b)
    return _reduce_many(maximum, args, "largest")


def _reduce_many(op: Elemwise, args, name: str) -> Variable:
    if not args:
        raise TypeError(f"{name}() needs at least one argument")
    out = as_tensor_variable(args[0])
    for a in args[1:]:
        out = op(out, a)
    return out


__all__ = [
    "abs_",
    "add",
    "and_",
    "angle",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "bitwise_and",
    "bitwise_not",
    "bitwise_or",
    "bitwise_xor",
    "cast",
    "ceil",
    "ceil_intdiv",
    "chi2sf",
    "clip",
    "complex",
    "complex_from_polar",
    "conj",
    "cos",
    "cosh",
    "deg2rad",
    "div_proxy",
    "divmod",
    "eq",
    "erf",
    "erfc",
    "erfcinv",
    "erfcx",
    "erfinv",
    "exp",
    "exp2",
    "expm1",
    "floor",
    "floor_div",
    "gamma",
    "gammainc",
    "gammaincc",
    "gammal",
    "gammaln",
    "gammau",
    "ge",
    "gt",
    "i0",
    "i1",
    "identity",
    "imag",
    "int_div",
    "inv",
    "invert",
    "iround",
    "isclose",
    "isinf",
    "isinf_",
    "isnan",
    "isnan_",
    "iv",
    "j0",
    "j1",
    "jv",
    "largest",
    "le",
    "log",
    "log1p",
    "log2",
    "log10",
    "lt",
    "maximum",
    "minimum",
    "mod",
    "mod_check",
    "mul",
    "neg",
    "neq",
    "or_",
    "pow",
    "power",
    "psi",
    "rad2deg",
    "real",
    "round",
    "round_half_away_from_zero",
    "round_half_to_even",
    "sgn",
    "sigmoid",
    "sin",
    "sinh",
    "smallest",
    "softplus",
    "sqr",
    "sqrt",
    "square",
    "sub",
    "switch",
    "tan",
    "tanh",
    "tensor_copy",
    "tri_gamma",
    "true_div",
    "trunc",
    "where",
    "xor",
]

"""Scalar variables and constants, and the ``theano.scalar.basic`` namespace.

:class:`ScalarVariable` and :class:`ScalarConstant` give scalar graphs Python's operators
(``x + 1``, ``x < y``, ``-x``), each building the matching op; they are installed as
``ScalarType.Variable``/``ScalarType.Constant`` here, the module that sees every op, which is
how ``ScalarType.make_variable`` hands them out (Type's documented hook; Theano did the
same). ``/`` follows Theano 1.0: :func:`div_proxy`, so two integers obey
``config.int_division``; ``//`` is ``int_div``; ``%`` refuses complex numbers.

The rest of this module re-exports, under Theano 1.0's names, the types, rules and ops that
Theano kept in ``theano/scalar/basic.py``.
"""

from __future__ import annotations

from typing import Any

from tgraph.graph.basic import Constant, Variable
from tgraph.scalar.arith import (
    Abs,
    Add,
    Angle,
    Ceil,
    Clip,
    Complex,
    ComplexFromPolar,
    Conj,
    Floor,
    Imag,
    IntDiv,
    Inv,
    Maximum,
    Minimum,
    Mod,
    Mul,
    Neg,
    Real,
    RoundHalfAwayFromZero,
    RoundHalfToEven,
    Sgn,
    Sqr,
    Sub,
    Switch,
    TrueDiv,
    Trunc,
    abs_,
    add,
    angle,
    ceil,
    clip,
    complex,
    complex_from_polar,
    conj,
    div_proxy,
    floor,
    floor_div,
    imag,
    int_div,
    int_or_true_div,
    inv,
    maximum,
    minimum,
    mod,
    mod_check,
    mul,
    neg,
    real,
    round_half_away_from_zero,
    round_half_to_even,
    sgn,
    sqr,
    sub,
    switch,
    true_div,
    trunc,
)
from tgraph.scalar.compare import (
    AND,
    EQ,
    GE,
    GT,
    LE,
    LT,
    NEQ,
    OR,
    XOR,
    BinaryBitOp,
    FixedLogicalComparison,
    InRange,
    Invert,
    IsInf,
    IsNan,
    LogicalComparison,
    UnaryBitOp,
    and_,
    eq,
    ge,
    gt,
    inclosedrange,
    inopenrange,
    invert,
    isinf,
    isnan,
    le,
    lt,
    neq,
    or_,
    xor,
)
from tgraph.scalar.math import (
    ArcCos,
    ArcCosh,
    ArcSin,
    ArcSinh,
    ArcTan,
    ArcTan2,
    ArcTanh,
    Cos,
    Cosh,
    Deg2Rad,
    Exp,
    Exp2,
    Expm1,
    Log,
    Log1p,
    Log2,
    Log10,
    Pow,
    Rad2Deg,
    Sin,
    Sinh,
    Sqrt,
    Tan,
    Tanh,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    cos,
    cosh,
    deg2rad,
    exp,
    exp2,
    expm1,
    log,
    log1p,
    log2,
    log10,
    pow,
    rad2deg,
    sin,
    sinh,
    sqrt,
    tan,
    tanh,
)
from tgraph.scalar.op import (
    BinaryScalarOp,
    Cast,
    First,
    Identity,
    ScalarOp,
    Second,
    UnaryScalarOp,
    as_scalar,
    cast,
    constant,
    convert_to_bool,
    convert_to_complex64,
    convert_to_complex128,
    convert_to_float16,
    convert_to_float32,
    convert_to_float64,
    convert_to_int8,
    convert_to_int16,
    convert_to_int32,
    convert_to_int64,
    convert_to_uint8,
    convert_to_uint16,
    convert_to_uint32,
    convert_to_uint64,
    first,
    float_zeros_like,
    identity,
    register_as_scalar,
    second,
)
from tgraph.scalar.preferences import (
    Preference,
    bool_out,
    complex_out,
    float_out,
    float_out_nocomplex,
    int_out,
    int_out_nocomplex,
    real_out,
    same_out,
    same_out_float_only,
    same_out_min8,
    same_out_nobool,
    same_out_nocomplex,
    sgn_out,
    specific_out,
    transfer_type,
    upcast_out,
    upcast_out_min8,
    upcast_out_no_complex,
    upcast_out_nobool,
    upgrade_to_float,
    upgrade_to_float64,
    upgrade_to_float_no_complex,
)
from tgraph.scalar.type import (
    ComplexError,
    IntegerDivisionError,
    NumpyAutocaster,
    ScalarType,
    all_types,
    autocast_float,
    autocast_float_as,
    autocast_int,
    bool,
    bool_,
    bscalar,
    complex64,
    complex128,
    complex_types,
    continuous_types,
    convert,
    cscalar,
    discrete_types,
    dscalar,
    float16,
    float32,
    float64,
    float_types,
    fscalar,
    get_scalar_type,
    int8,
    int16,
    int32,
    int64,
    int_types,
    integer_types,
    iscalar,
    lscalar,
    scalar,
    uint8,
    uint16,
    uint32,
    uint64,
    uint_types,
    upcast,
    wscalar,
    zscalar,
)

Scalar = ScalarType  # Theano 1.0's class name


class _scalar_py_operators:
    """Python operators on scalar variables; each builds the matching op."""

    ndim = 0

    @property
    def dtype(self) -> str:
        """The dtype of this scalar."""
        return self.type.dtype

    # unary
    def __abs__(self):
        return abs_(self)

    def __neg__(self):
        return neg(self)

    def __invert__(self):
        return invert(self)

    # bitwise
    def __and__(self, other):
        return and_(self, other)

    def __or__(self, other):
        return or_(self, other)

    def __xor__(self, other):
        return xor(self, other)

    def __rand__(self, other):
        return and_(other, self)

    def __ror__(self, other):
        return or_(other, self)

    def __rxor__(self, other):
        return xor(other, self)

    # comparisons (== and != keep Python's identity meaning: variables are dict keys)
    def __lt__(self, other):
        return lt(self, other)

    def __le__(self, other):
        return le(self, other)

    def __gt__(self, other):
        return gt(self, other)

    def __ge__(self, other):
        return ge(self, other)

    # arithmetic
    def __add__(self, other):
        return add(self, other)

    def __sub__(self, other):
        return sub(self, other)

    def __mul__(self, other):
        return mul(self, other)

    def __truediv__(self, other):
        return div_proxy(self, other)

    def __floordiv__(self, other):
        return int_div(self, other)

    def __mod__(self, other):
        return mod_check(self, other)

    def __pow__(self, other):
        return pow(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __rsub__(self, other):
        return sub(other, self)

    def __rmul__(self, other):
        return mul(other, self)

    def __rtruediv__(self, other):
        return div_proxy(other, self)

    def __rfloordiv__(self, other):
        return int_div(other, self)

    def __rmod__(self, other):
        return mod_check(other, self)

    def __rpow__(self, other):
        return pow(other, self)

    # helpers
    def zeros_like(self, dtype: str | None = None):
        """A zero of ``dtype`` (default: this dtype) tied to this variable (``second``)."""
        return second(self, constant(0, dtype=dtype or self.type.dtype))

    def ones_like(self, dtype: str | None = None):
        """A one of ``dtype`` (default: this dtype) tied to this variable (``second``)."""
        return second(self, constant(1, dtype=dtype or self.type.dtype))

    def astype(self, dtype: str):
        return cast(self, dtype)


class ScalarVariable(_scalar_py_operators, Variable):
    """A variable of a ScalarType."""


class ScalarConstant(_scalar_py_operators, Constant):
    """A constant of a ScalarType (its data is a NumPy scalar of that dtype)."""


ScalarType.Variable = ScalarVariable
ScalarType.Constant = ScalarConstant


def as_common_dtype(*values: Any):
    """``values`` cast to the upcast of their dtypes (variables or NumPy values)."""
    dtype = upcast(*(v.dtype for v in values))
    return tuple(v.astype(dtype) for v in values)

__all__ = [
    "AND",
    "EQ",
    "GE",
    "GT",
    "LE",
    "LT",
    "NEQ",
    "OR",
    "XOR",
    "Abs",
    "Add",
    "Angle",
    "ArcCos",
    "ArcCosh",
    "ArcSin",
    "ArcSinh",
    "ArcTan",
    "ArcTan2",
    "ArcTanh",
    "BinaryBitOp",
    "BinaryScalarOp",
    "Cast",
    "Ceil",
    "Clip",
    "Complex",
    "ComplexError",
    "ComplexFromPolar",
    "Conj",
    "Cos",
    "Cosh",
    "Deg2Rad",
    "Exp",
    "Exp2",
    "Expm1",
    "First",
    "FixedLogicalComparison",
    "Floor",
    "Identity",
    "Imag",
    "InRange",
    "IntDiv",
    "IntegerDivisionError",
    "Inv",
    "Invert",
    "IsInf",
    "IsNan",
    "Log",
    "Log1p",
    "Log2",
    "Log10",
    "LogicalComparison",
    "Maximum",
    "Minimum",
    "Mod",
    "Mul",
    "Neg",
    "NumpyAutocaster",
    "Pow",
    "Preference",
    "Rad2Deg",
    "Real",
    "RoundHalfAwayFromZero",
    "RoundHalfToEven",
    "Scalar",
    "ScalarConstant",
    "ScalarOp",
    "ScalarType",
    "ScalarVariable",
    "Second",
    "Sgn",
    "Sin",
    "Sinh",
    "Sqr",
    "Sqrt",
    "Sub",
    "Switch",
    "Tan",
    "Tanh",
    "TrueDiv",
    "Trunc",
    "UnaryBitOp",
    "UnaryScalarOp",
    "abs_",
    "add",
    "all_types",
    "and_",
    "angle",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "as_common_dtype",
    "as_scalar",
    "autocast_float",
    "autocast_float_as",
    "autocast_int",
    "bool",
    "bool_",
    "bool_out",
    "bscalar",
    "cast",
    "ceil",
    "clip",
    "complex",
    "complex64",
    "complex128",
    "complex_from_polar",
    "complex_out",
    "complex_types",
    "conj",
    "constant",
    "continuous_types",
    "convert",
    "convert_to_bool",
    "convert_to_complex64",
    "convert_to_complex128",
    "convert_to_float16",
    "convert_to_float32",
    "convert_to_float64",
    "convert_to_int8",
    "convert_to_int16",
    "convert_to_int32",
    "convert_to_int64",
    "convert_to_uint8",
    "convert_to_uint16",
    "convert_to_uint32",
    "convert_to_uint64",
    "cos",
    "cosh",
    "cscalar",
    "deg2rad",
    "discrete_types",
    "div_proxy",
    "dscalar",
    "eq",
    "exp",
    "exp2",
    "expm1",
    "first",
    "float16",
    "float32",
    "float64",
    "float_out",
    "float_out_nocomplex",
    "float_types",
    "float_zeros_like",
    "floor",
    "floor_div",
    "fscalar",
    "ge",
    "get_scalar_type",
    "gt",
    "identity",
    "imag",
    "inclosedrange",
    "inopenrange",
    "int8",
    "int16",
    "int32",
    "int64",
    "int_div",
    "int_or_true_div",
    "int_out",
    "int_out_nocomplex",
    "int_types",
    "integer_types",
    "inv",
    "invert",
    "iscalar",
    "isinf",
    "isnan",
    "le",
    "log",
    "log1p",
    "log2",
    "log10",
    "lscalar",
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
    "rad2deg",
    "real",
    "real_out",
    "register_as_scalar",
    "round_half_away_from_zero",
    "round_half_to_even",
    "same_out",
    "same_out_float_only",
    "same_out_min8",
    "same_out_nobool",
    "same_out_nocomplex",
    "scalar",
    "second",
    "sgn",
    "sgn_out",
    "sin",
    "sinh",
    "specific_out",
    "sqr",
    "sqrt",
    "sub",
    "switch",
    "tan",
    "tanh",
    "transfer_type",
    "true_div",
    "trunc",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "uint_types",
    "upcast",
    "upcast_out",
    "upcast_out_min8",
    "upcast_out_no_complex",
    "upcast_out_nobool",
    "upgrade_to_float",
    "upgrade_to_float64",
    "upgrade_to_float_no_complex",
    "wscalar",
    "xor",
    "zscalar",
]

"""Comparisons, NaN/inf tests, range tests and bitwise/logical ops.

All comparisons output bool (Theano 1.0 dropped the old int8 results) and have zero
gradients. Bitwise ops accept integers, or bools only (``and_(bool, int8)`` is refused, as in
Theano); on bools they are the logical and/or/xor/not.
"""

from __future__ import annotations

import numpy as np

from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import c_support as cs
from tgraph.scalar.op import (
    BinaryScalarOp,
    UnaryScalarOp,
    float_zeros_like,
)
from tgraph.scalar.preferences import upcast_out
from tgraph.scalar.type import (
    bool_,
    complex_types,
    discrete_types,
    integer_types,
)


class LogicalComparison(BinaryScalarOp):
    """A comparison of two scalars: a bool output and zero gradients."""

    def output_types(self, types):
        return [bool_]

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(x) for x in inputs]

    #: The C operator of the comparison ("<"); empty when there is none.
    _c_symbol = ""

    @property
    def _c_version(self):
        return (1,) if self._c_symbol else ()

    def c_code(self, node, name, inputs, outputs, sub):
        if not self._c_symbol:
            raise MethodNotDefined(f"{self} has no C implementation")
        cs.check_real(self, node)
        value = cs.compare_code(self, node, self._c_symbol, self._func, inputs,
                                [str(v.type.dtype) for v in node.inputs])
        return f"{outputs[0]} = {value};"


class FixedLogicalComparison(UnaryScalarOp):
    """A test of one scalar (``isnan``): a bool output and a zero gradient."""

    def output_types(self, types):
        return [bool_]

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(x) for x in inputs]


def _refuse_complex(op, types) -> None:
    for t in types:
        if t in complex_types:
            raise TypeError(f"{op}: complex inputs ({t}) cannot be ordered")


class _Ordering(LogicalComparison):
    """<, >, <=, >=: complex numbers have no order."""

    commutative = False
    associative = False

    def output_types(self, types):
        _refuse_complex(self, types)
        return [bool_]


class LT(_Ordering):
    """``x < y``."""

    identity = False
    nfunc_spec = ("less", 2, 1)
    _func = np.less
    _c_symbol = "<"


class GT(_Ordering):
    """``x > y``."""

    identity = False
    nfunc_spec = ("greater", 2, 1)
    _func = np.greater
    _c_symbol = ">"


class LE(_Ordering):
    """``x <= y``."""

    identity = False
    nfunc_spec = ("less_equal", 2, 1)
    _func = np.less_equal
    _c_symbol = "<="


class GE(_Ordering):
    """``x >= y``."""

    identity = False
    nfunc_spec = ("greater_equal", 2, 1)
    _func = np.greater_equal
    _c_symbol = ">="


class EQ(LogicalComparison):
    """``x == y`` (NaN equals nothing)."""

    identity = False
    commutative = True
    associative = False
    nfunc_spec = ("equal", 2, 1)
    _func = np.equal
    _c_symbol = "=="


class NEQ(LogicalComparison):
    """``x != y``."""

    identity = False
    commutative = True
    associative = False
    nfunc_spec = ("not_equal", 2, 1)
    _func = np.not_equal
    _c_symbol = "!="


lt = LT(name="lt")
gt = GT(name="gt")
le = LE(name="le")
ge = GE(name="ge")
eq = EQ(name="eq")
neq = NEQ(name="neq")


class IsNan(FixedLogicalComparison):
    """Whether x is NaN (always False for integers)."""

    nfunc_spec = ("isnan", 1, 1)
    _func = np.isnan
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        if cs.kind(in_dtypes[0]) != "f":
            return "((npy_bool)0)"
        return f"((npy_bool)(isnan({args[0]}) != 0))"


class IsInf(FixedLogicalComparison):
    """Whether x is +inf or -inf (always False for integers)."""

    nfunc_spec = ("isinf", 1, 1)
    _func = np.isinf
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        if cs.kind(in_dtypes[0]) != "f":
            return "((npy_bool)0)"
        return f"((npy_bool)(isinf({args[0]}) != 0))"


isnan = IsNan(name="isnan")
isinf = IsInf(name="isinf")


class InRange(LogicalComparison):
    """Whether ``low < x < hi`` (open ends) or ``low <= x <= hi`` (closed ends)."""

    nin = 3
    __props__ = ("openlow", "openhi")

    def __init__(self, openlow: bool, openhi: bool):
        super().__init__(None, name=None)
        self.openlow = bool(openlow)
        self.openhi = bool(openhi)

    def __str__(self):
        lo = "(" if self.openlow else "["
        hi = ")" if self.openhi else "]"
        return f"InRange{{{lo}{hi}}}"

    def make_new_inplace(self, output_types_preference=None, name=None):
        return type(self)(self.openlow, self.openhi)

    def output_types(self, types):
        _refuse_complex(self, types)
        return [bool_]

    def vectorized(self, x, low, hi):
        with np.errstate(all="ignore"):
            above = np.greater(x, low) if self.openlow else np.greater_equal(x, low)
            below = np.less(x, hi) if self.openhi else np.less_equal(x, hi)
            return np.logical_and(above, below)

    _c_version = (1,)
    _c_symbol = "in range"  # not used as an operator: c_code is its own

    def c_code(self, node, name, inputs, outputs, sub):
        cs.check_real(self, node)
        dx, dlo, dhi = (str(v.type.dtype) for v in node.inputs)
        x, lo, hi = inputs
        if self.openlow:
            above = cs.compare_code(self, node, ">", np.greater, (x, lo), (dx, dlo))
        else:
            above = cs.compare_code(self, node, ">=", np.greater_equal, (x, lo), (dx, dlo))
        if self.openhi:
            below = cs.compare_code(self, node, "<", np.less, (x, hi), (dx, dhi))
        else:
            below = cs.compare_code(self, node, "<=", np.less_equal, (x, hi), (dx, dhi))
        return f"{outputs[0]} = (npy_bool)({above} && {below});"


inopenrange = InRange(True, True)
inclosedrange = InRange(False, False)


# ---------------------------------------------------------------------------------------------
# Bitwise and logical


class UnaryBitOp(UnaryScalarOp):
    """A bitwise op of one discrete input; zero gradient."""

    def output_types(self, types):
        for t in types:
            if t not in discrete_types:
                raise TypeError(f"{self}: the input must be an integer or a bool, got {t}")
        return list(upcast_out(*types))

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(x) for x in inputs]


class BinaryBitOp(BinaryScalarOp):
    """A bitwise op of two integers, or of two bools; zero gradients."""

    #: The C operator ("&").
    _c_symbol = ""

    @property
    def _c_version(self):
        return (1,) if self._c_symbol else ()

    def c_expr(self, in_dtypes, out_dtype, args):
        if not self._c_symbol or cs.kind(out_dtype) == "f":
            raise MethodNotDefined(f"{self} has no C implementation for {out_dtype}")
        return f"(({cs.c_type(out_dtype)})(({args[0]}) {self._c_symbol} ({args[1]})))"

    def output_types(self, types):
        t0, t1 = types
        if t0 == bool_ and t1 == bool_:
            return [bool_]
        for t in types:
            if t not in integer_types:
                raise TypeError(
                    f"{self}: inputs must be two integers or two bools, got {t0} and {t1}"
                )
        return list(upcast_out(*types))

    def L_op(self, inputs, outputs, output_grads):
        return [float_zeros_like(x) for x in inputs]


class OR(BinaryBitOp):
    """``x | y``."""

    identity = 0
    commutative = True
    associative = True
    nfunc_spec = ("bitwise_or", 2, 1)
    _func = np.bitwise_or
    _c_symbol = "|"


class XOR(BinaryBitOp):
    """``x ^ y``."""

    identity = 0
    commutative = True
    associative = True
    nfunc_spec = ("bitwise_xor", 2, 1)
    _func = np.bitwise_xor
    _c_symbol = "^"


class AND(BinaryBitOp):
    """``x & y``."""

    identity = -1
    commutative = True
    associative = True
    nfunc_spec = ("bitwise_and", 2, 1)
    _func = np.bitwise_and
    _c_symbol = "&"


class Invert(UnaryBitOp):
    """``~x`` (logical not on bools)."""

    nfunc_spec = ("invert", 1, 1)
    _func = np.invert
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        if out_dtype == "bool":
            return f"((npy_bool)!({args[0]}))"
        if cs.kind(out_dtype) == "f":
            raise MethodNotDefined(f"{self}: no C for {out_dtype}")
        return f"(({cs.c_type(out_dtype)})~({args[0]}))"


or_ = OR(name="or_")
xor = XOR(name="xor")
and_ = AND(name="and_")
invert = Invert(name="invert")


"""Elementary transcendental functions: pow, exp and log families, trigonometric and
hyperbolic functions, angle conversions, and the stable sigmoid and softplus.

Except pow, these give a float: integer inputs are promoted by ``upgrade_to_float`` (int8 ->
float32, int64 -> float64) and computed in that precision (NumPy alone would compute an int8
``exp`` in float16). Constants inside gradients take the gradient's dtype, so a float32 graph
stays float32.
"""

from __future__ import annotations

import math

import numpy as np

from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import c_support as cs
from tgraph.scalar.arith import sqr, switch
from tgraph.scalar.compare import eq
from tgraph.scalar.op import BinaryScalarOp, UnaryScalarOp, scipy_special, typed
from tgraph.scalar.preferences import upcast_out_min8, upgrade_to_float


class Pow(BinaryScalarOp):
    """``x ** y`` (NumPy: integers to negative integer powers raise ValueError)."""

    nfunc_spec = ("power", 2, 1)
    _func = np.power
    _c_version = (1,)

    def c_code(self, node, name, inputs, outputs, sub):
        # An integer loop has C only when the exponent cannot be negative (an unsigned or
        # bool input): NumPy raises ValueError for negative integer powers, which a C loop
        # cannot do, so other integer powers run in Python.
        cs.check_real(self, node)
        ins, out = cs.compute_dtypes(self, node)
        if cs.kind(out) != "f" and cs.kind(node.inputs[1].type.dtype) not in "bu":
            raise MethodNotDefined(
                f"{self}: an integer power with a signed exponent may raise (NumPy refuses "
                "negative integer powers); it runs in Python")
        return super().c_code(node, name, inputs, outputs, sub)

    def c_expr(self, in_dtypes, out_dtype, args):
        a, b = args
        if cs.kind(out_dtype) == "f":
            return f"{cs.libm('pow', out_dtype)}({a}, {b})"
        return f"(({cs.c_type(out_dtype)})tgraph_ipow((npy_uint64)({a}), (npy_uint64)({b})))"

    def c_support_code(self, **kwargs):
        return cs.IPOW_SUPPORT

    def grad(self, inputs, output_grads):
        x, y = inputs
        (gz,) = output_grads
        gx = gz * y * x ** (y - 1)
        # d/dy x**y = log(x) x**y, taken as 0 at x = 0 (where x**y is 0 or 1 and log is -inf).
        gy = switch(eq(x, 0), typed(0, gz), gz * log(x) * x**y)
        return [gx, gy]


pow = Pow(upcast_out_min8, name="pow")


class _Float(UnaryScalarOp):
    """A float-valued function of one input: integers computed in the output float dtype.

    ``_c_name`` names its <math.h> function (the float version is used for float32).
    """

    _lift = True
    _c_name = ""

    @property
    def _c_version(self):
        return (1,) if self._c_name else ()

    def c_expr(self, in_dtypes, out_dtype, args):
        if not self._c_name or cs.kind(out_dtype) != "f":
            raise MethodNotDefined(f"{self} has no C implementation for {out_dtype}")
        return f"{cs.libm(self._c_name, out_dtype)}({args[0]})"


# -- exponentials and logarithms --------------------------------------------------------------


class Exp(_Float):
    """``e ** x``."""

    nfunc_spec = ("exp", 1, 1)
    _func = np.exp
    _c_name = "exp"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * exp(inputs[0])]


class Exp2(_Float):
    """``2 ** x``."""

    nfunc_spec = ("exp2", 1, 1)
    _func = np.exp2
    _c_name = "exp2"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [gz * exp2(inputs[0]) * typed(math.log(2.0), gz)]


class Expm1(_Float):
    """``exp(x) - 1``, accurate near 0."""

    nfunc_spec = ("expm1", 1, 1)
    _func = np.expm1
    _c_name = "expm1"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * exp(inputs[0])]


class Log(_Float):
    """Natural logarithm (-inf at 0, NaN below)."""

    nfunc_spec = ("log", 1, 1)
    _func = np.log
    _c_name = "log"

    def grad(self, inputs, output_grads):
        return [output_grads[0] / inputs[0]]


class Log2(_Float):
    """Base-2 logarithm."""

    nfunc_spec = ("log2", 1, 1)
    _func = np.log2
    _c_name = "log2"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [gz / (inputs[0] * typed(math.log(2.0), gz))]


class Log10(_Float):
    """Base-10 logarithm."""

    nfunc_spec = ("log10", 1, 1)
    _func = np.log10
    _c_name = "log10"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [gz / (inputs[0] * typed(math.log(10.0), gz))]


class Log1p(_Float):
    """``log(1 + x)``, accurate near 0."""

    nfunc_spec = ("log1p", 1, 1)
    _func = np.log1p
    _c_name = "log1p"

    def grad(self, inputs, output_grads):
        return [output_grads[0] / (1 + inputs[0])]


class Sqrt(_Float):
    """Square root (NaN below 0)."""

    nfunc_spec = ("sqrt", 1, 1)
    _func = np.sqrt
    _c_name = "sqrt"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [(gz * typed(0.5, gz)) / sqrt(inputs[0])]


exp = Exp(upgrade_to_float, name="exp")
exp2 = Exp2(upgrade_to_float, name="exp2")
expm1 = Expm1(upgrade_to_float, name="expm1")
log = Log(upgrade_to_float, name="log")
log2 = Log2(upgrade_to_float, name="log2")
log10 = Log10(upgrade_to_float, name="log10")
log1p = Log1p(upgrade_to_float, name="log1p")
sqrt = Sqrt(upgrade_to_float, name="sqrt")


# -- angles -------------------------------------------------------------------------------------


class Deg2Rad(_Float):
    """Degrees to radians."""

    nfunc_spec = ("deg2rad", 1, 1)
    _func = np.deg2rad
    _c_name = "deg2rad"

    def c_expr(self, in_dtypes, out_dtype, args):
        # NumPy multiplies by its constant rounded to the dtype: deg2rad(1) is that constant.
        scale = cs.c_literal(np.deg2rad(np.ones((), dtype=out_dtype)), out_dtype)
        return f"(({args[0]}) * {scale})"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [gz * typed(math.pi / 180.0, gz)]


class Rad2Deg(_Float):
    """Radians to degrees."""

    nfunc_spec = ("rad2deg", 1, 1)
    _func = np.rad2deg
    _c_name = "rad2deg"

    def c_expr(self, in_dtypes, out_dtype, args):
        scale = cs.c_literal(np.rad2deg(np.ones((), dtype=out_dtype)), out_dtype)
        return f"(({args[0]}) * {scale})"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        return [gz * typed(180.0 / math.pi, gz)]


deg2rad = Deg2Rad(upgrade_to_float, name="deg2rad")
rad2deg = Rad2Deg(upgrade_to_float, name="rad2deg")


# -- trigonometric ------------------------------------------------------------------------------


class Sin(_Float):
    """Sine."""

    nfunc_spec = ("sin", 1, 1)
    _func = np.sin
    _c_name = "sin"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * cos(inputs[0])]


class Cos(_Float):
    """Cosine."""

    nfunc_spec = ("cos", 1, 1)
    _func = np.cos
    _c_name = "cos"

    def grad(self, inputs, output_grads):
        return [-output_grads[0] * sin(inputs[0])]


class Tan(_Float):
    """Tangent."""

    nfunc_spec = ("tan", 1, 1)
    _func = np.tan
    _c_name = "tan"

    def grad(self, inputs, output_grads):
        return [output_grads[0] / sqr(cos(inputs[0]))]


class ArcSin(_Float):
    """Inverse sine (NaN outside [-1, 1])."""

    nfunc_spec = ("arcsin", 1, 1)
    _func = np.arcsin
    _c_name = "asin"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / sqrt(1 - sqr(x))]


class ArcCos(_Float):
    """Inverse cosine (NaN outside [-1, 1])."""

    nfunc_spec = ("arccos", 1, 1)
    _func = np.arccos
    _c_name = "acos"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [-output_grads[0] / sqrt(1 - sqr(x))]


class ArcTan(_Float):
    """Inverse tangent."""

    nfunc_spec = ("arctan", 1, 1)
    _func = np.arctan
    _c_name = "atan"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / (1 + sqr(x))]


class ArcTan2(BinaryScalarOp):
    """``arctan2(y, x)``: the angle of the point (x, y), in (-pi, pi]."""

    nfunc_spec = ("arctan2", 2, 1)
    _func = np.arctan2
    _lift = True
    _c_version = (1,)

    def c_expr(self, in_dtypes, out_dtype, args):
        return f"{cs.libm('atan2', out_dtype)}({args[0]}, {args[1]})"

    def grad(self, inputs, output_grads):
        y, x = inputs
        (gz,) = output_grads
        r2 = sqr(x) + sqr(y)
        return [gz * x / r2, gz * -y / r2]


sin = Sin(upgrade_to_float, name="sin")
cos = Cos(upgrade_to_float, name="cos")
tan = Tan(upgrade_to_float, name="tan")
arcsin = ArcSin(upgrade_to_float, name="arcsin")
arccos = ArcCos(upgrade_to_float, name="arccos")
arctan = ArcTan(upgrade_to_float, name="arctan")
arctan2 = ArcTan2(upgrade_to_float, name="arctan2")


# -- hyperbolic ---------------------------------------------------------------------------------


class Sinh(_Float):
    """Hyperbolic sine."""

    nfunc_spec = ("sinh", 1, 1)
    _func = np.sinh
    _c_name = "sinh"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * cosh(inputs[0])]


class Cosh(_Float):
    """Hyperbolic cosine."""

    nfunc_spec = ("cosh", 1, 1)
    _func = np.cosh
    _c_name = "cosh"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * sinh(inputs[0])]


class Tanh(_Float):
    """Hyperbolic tangent."""

    nfunc_spec = ("tanh", 1, 1)
    _func = np.tanh
    _c_name = "tanh"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * (1 - sqr(tanh(inputs[0])))]


class ArcSinh(_Float):
    """Inverse hyperbolic sine."""

    nfunc_spec = ("arcsinh", 1, 1)
    _func = np.arcsinh
    _c_name = "asinh"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / sqrt(sqr(x) + 1)]


class ArcCosh(_Float):
    """Inverse hyperbolic cosine (NaN below 1)."""

    nfunc_spec = ("arccosh", 1, 1)
    _func = np.arccosh
    _c_name = "acosh"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / sqrt(sqr(x) - 1)]


class ArcTanh(_Float):
    """Inverse hyperbolic tangent (NaN outside [-1, 1])."""

    nfunc_spec = ("arctanh", 1, 1)
    _func = np.arctanh
    _c_name = "atanh"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] / (1 - sqr(x))]


sinh = Sinh(upgrade_to_float, name="sinh")
cosh = Cosh(upgrade_to_float, name="cosh")
tanh = Tanh(upgrade_to_float, name="tanh")
arcsinh = ArcSinh(upgrade_to_float, name="arcsinh")
arccosh = ArcCosh(upgrade_to_float, name="arccosh")
arctanh = ArcTanh(upgrade_to_float, name="arctanh")


# -- neural-network nonlinearities ---------------------------------------------------------------


class ScalarSigmoid(_Float):
    """``1 / (1 + exp(-x))`` (SciPy's ``expit``: 0 where exp(-x) overflows, never NaN).

    Theano's scalar version clipped at |x| > 30; expit is exact in the tails instead.
    """

    nfunc_spec = ("scipy.special.expit", 1, 1)
    _func = scipy_special("expit")
    _c_name = "expit"

    def c_expr(self, in_dtypes, out_dtype, args):
        # SciPy's formula in both precisions: exp(-x) overflowing to inf gives 0, not NaN.
        (x,) = args
        t = cs.c_type(out_dtype)
        return f"(({t})1 / (({t})1 + {cs.libm('exp', out_dtype)}(-({x}))))"

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        s = sigmoid(inputs[0])
        return [gz * s * (typed(1, gz) - s)]


class ScalarSoftplus(_Float):
    """``log(1 + exp(x))``, computed without overflow as ``logaddexp(0, x)``."""

    nfunc_spec = None

    @staticmethod
    def _func(x):
        return np.logaddexp(np.zeros((), dtype=x.dtype), x)

    _c_name = "softplus"

    def c_expr(self, in_dtypes, out_dtype, args):
        # logaddexp(0, x) = max(x, 0) + log1p(exp(-|x|)): exp never overflows, and x = 0
        # gives log1p(1) = log(2) as logaddexp's equal-arguments branch.
        (x,) = args
        t = cs.c_type(out_dtype)
        tail = (f"{cs.libm('log1p', out_dtype)}({cs.libm('exp', out_dtype)}"
                f"(-{cs.libm('fabs', out_dtype)}({x})))")
        return f"((({x}) > 0 ? ({x}) : ({t})0) + {tail})"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * sigmoid(inputs[0])]


sigmoid = ScalarSigmoid(upgrade_to_float, name="scalar_sigmoid")
softplus = ScalarSoftplus(upgrade_to_float, name="scalar_softplus")
scalar_sigmoid = sigmoid
scalar_softplus = softplus

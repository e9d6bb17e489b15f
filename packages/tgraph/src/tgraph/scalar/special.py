"""Special functions from SciPy (``theano.scalar.basic_scipy``): the error-function family,
gamma and its relatives, incomplete gamma, chi-square survival, and Bessel functions.

Outputs are floats (``upgrade_to_float``; the error functions but ``erf`` refuse complex).
Where a gradient with respect to a parameter (the order of a Bessel function, the shape of
an incomplete gamma) has no closed form, it is only available when that parameter is a
constant (its gradient is then zero); otherwise ``grad`` raises MethodNotDefined.
"""

from __future__ import annotations

import math

import numpy as np

from tgraph.graph.basic import Constant
from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import c_special
from tgraph.scalar import c_support as cs
from tgraph.scalar.arith import sqr
from tgraph.scalar.math import exp, log
from tgraph.scalar.op import (
    BinaryScalarOp,
    UnaryScalarOp,
    float_zeros_like,
    scipy_special,
    typed,
)
from tgraph.scalar.preferences import (
    upgrade_to_float,
    upgrade_to_float64,
    upgrade_to_float_no_complex,
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0


class _Special(UnaryScalarOp):
    """A special function of one input; ``_c_call`` names its C function, ``{}`` standing
    for the loop dtype's libm suffix ('f' or ''), or ``_c_helper`` a helper of
    ``c_special`` (suffixed with the dtype). Without either: no C (a reason in
    ``_c_missing``)."""

    _lift = True
    _c_call = ""
    _c_helper = ""
    _c_support = ""
    _c_missing = "SciPy's algorithm has no C version here yet"

    @property
    def _c_version(self):
        return (1,) if (self._c_call or self._c_helper) else ()

    def c_expr(self, in_dtypes, out_dtype, args):
        if cs.kind(out_dtype) != "f":
            raise MethodNotDefined(f"{self}: computed in {out_dtype}")
        if self._c_helper:
            return f"tgraph_{self._c_helper}_{out_dtype}({args[0]})"
        if self._c_call:
            return f"{cs.libm(self._c_call, out_dtype)}({args[0]})"
        raise MethodNotDefined(f"{self} has no C implementation: {self._c_missing}")

    def c_support_code(self, **kwargs):
        return self._c_support


class _Special2(BinaryScalarOp):
    _lift = True

    def c_expr(self, in_dtypes, out_dtype, args):
        raise MethodNotDefined(
            f"{self} has no C implementation (SciPy's series and continued fractions are "
            "not ported); it runs in Python")


def _constant_param_grad(op, param):
    """Zero for a constant parameter; otherwise the gradient is not available."""
    if isinstance(param, Constant):
        return float_zeros_like(param)
    raise MethodNotDefined(
        f"{op}: the gradient with respect to its parameter {param} is not implemented "
        "(only a constant parameter is supported)"
    )


# -- error functions ----------------------------------------------------------------------------


class Erf(_Special):
    """The error function."""

    nfunc_spec = ("scipy.special.erf", 1, 1)
    _func = scipy_special("erf")
    _c_call = "erf"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz * typed(_TWO_OVER_SQRT_PI, gz) * exp(-sqr(x))]


class Erfc(_Special):
    """``1 - erf(x)``, accurate for large x."""

    nfunc_spec = ("scipy.special.erfc", 1, 1)
    _func = scipy_special("erfc")
    _c_call = "erfc"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [-gz * typed(_TWO_OVER_SQRT_PI, gz) * exp(-sqr(x))]


class Erfcx(_Special):
    """The scaled complementary error function ``exp(x**2) * erfc(x)``."""

    nfunc_spec = ("scipy.special.erfcx", 1, 1)
    _func = scipy_special("erfcx")
    _c_missing = "no libm function; exp(x*x)*erfc(x) overflows for x > 26"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz * (typed(-_TWO_OVER_SQRT_PI, gz) + typed(2, gz) * x * erfcx(x))]


class Erfinv(_Special):
    """The inverse of erf, on (-1, 1)."""

    nfunc_spec = ("scipy.special.erfinv", 1, 1)
    _func = scipy_special("erfinv")
    _c_helper = "erfinv"
    _c_support = c_special.ERFINV_SUPPORT

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz * typed(_SQRT_PI_OVER_TWO, gz) * exp(sqr(erfinv(x)))]


class Erfcinv(_Special):
    """The inverse of erfc, on (0, 2)."""

    nfunc_spec = ("scipy.special.erfcinv", 1, 1)
    _func = scipy_special("erfcinv")
    _c_helper = "erfcinv"
    _c_support = c_special.ERFINV_SUPPORT

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [-gz * typed(_SQRT_PI_OVER_TWO, gz) * exp(sqr(erfcinv(x)))]


erf = Erf(upgrade_to_float, name="erf")
erfc = Erfc(upgrade_to_float_no_complex, name="erfc")
erfcx = Erfcx(upgrade_to_float_no_complex, name="erfcx")
erfinv = Erfinv(upgrade_to_float_no_complex, name="erfinv")
erfcinv = Erfcinv(upgrade_to_float_no_complex, name="erfcinv")


# -- gamma family -------------------------------------------------------------------------------


class Gamma(_Special):
    """The gamma function."""

    nfunc_spec = ("scipy.special.gamma", 1, 1)
    _func = scipy_special("gamma")
    _c_call = "tgamma"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        return [output_grads[0] * gamma(x) * psi(x)]


class GammaLn(_Special):
    """``log(|gamma(x)|)``."""

    nfunc_spec = ("scipy.special.gammaln", 1, 1)
    _func = scipy_special("gammaln")
    _c_helper = "lgamma"
    _c_support = c_special.LGAMMA_SUPPORT

    def grad(self, inputs, output_grads):
        return [output_grads[0] * psi(inputs[0])]


class Psi(_Special):
    """The digamma function, derivative of gammaln."""

    nfunc_spec = ("scipy.special.psi", 1, 1)
    _func = scipy_special("psi")
    _c_helper = "psi"
    _c_support = c_special.POLYGAMMA_SUPPORT

    def grad(self, inputs, output_grads):
        return [output_grads[0] * tri_gamma(inputs[0])]


class TriGamma(_Special):
    """The trigamma function, derivative of psi (its own gradient is not implemented)."""

    nfunc_spec = None
    _c_helper = "trigamma"
    _c_support = c_special.POLYGAMMA_SUPPORT

    @staticmethod
    def _func(x):
        import scipy.special

        return scipy.special.polygamma(1, x)


gamma = Gamma(upgrade_to_float, name="gamma")
gammaln = GammaLn(upgrade_to_float, name="gammaln")
psi = Psi(upgrade_to_float, name="psi")
tri_gamma = TriGamma(upgrade_to_float, name="tri_gamma")


class _IncompleteGamma(_Special2):
    """Functions of (k, x); d/dx is ``sign * exp(-x) * x**(k-1) / norm``."""

    _sign = 1
    _regularized = True

    def grad(self, inputs, output_grads):
        k, x = inputs
        (gz,) = output_grads
        log_dx = -x + (k - 1) * log(x)
        if self._regularized:
            log_dx = log_dx - gammaln(k)
        dx = exp(log_dx) if self._sign > 0 else -exp(log_dx)
        return [_constant_param_grad(self, k), gz * dx]


class GammaInc(_IncompleteGamma):
    """The regularized lower incomplete gamma function P(k, x)."""

    nfunc_spec = ("scipy.special.gammainc", 2, 1)
    _func = scipy_special("gammainc")


class GammaIncC(_IncompleteGamma):
    """The regularized upper incomplete gamma function Q(k, x)."""

    nfunc_spec = ("scipy.special.gammaincc", 2, 1)
    _func = scipy_special("gammaincc")
    _sign = -1


class GammaU(_IncompleteGamma):
    """The upper incomplete gamma function ``gamma(k) * Q(k, x)``."""

    _sign = -1
    _regularized = False

    @staticmethod
    def _func(k, x):
        # The product is formed in float64: in float32 it underflows or loses digits in the
        # tail; the result is then cast to the output dtype like every other op's.
        k, x = np.asarray(k, "float64"), np.asarray(x, "float64")
        import scipy.special

        return scipy.special.gammaincc(k, x) * scipy.special.gamma(k)


class GammaL(_IncompleteGamma):
    """The lower incomplete gamma function ``gamma(k) * P(k, x)``."""

    _regularized = False

    @staticmethod
    def _func(k, x):
        # The product is formed in float64: in float32 it underflows or loses digits in the
        # tail; the result is then cast to the output dtype like every other op's.
        k, x = np.asarray(k, "float64"), np.asarray(x, "float64")
        import scipy.special

        return scipy.special.gammainc(k, x) * scipy.special.gamma(k)


gammainc = GammaInc(upgrade_to_float, name="gammainc")
gammaincc = GammaIncC(upgrade_to_float, name="gammaincc")
gammau = GammaU(upgrade_to_float, name="gammau")
gammal = GammaL(upgrade_to_float, name="gammal")


class Chi2SF(_Special2):
    """The chi-square survival function ``chi2sf(x, k)`` (float64, as SciPy computes)."""

    nfunc_spec = None

    @staticmethod
    def _func(x, k):
        # float64 whatever the inputs, as the output type says
        import scipy.special

        return scipy.special.chdtrc(np.asarray(k, "float64"), np.asarray(x, "float64"))

    def grad(self, inputs, output_grads):
        x, k = inputs
        (gz,) = output_grads
        half_k = k / typed(2, gz)
        log_pdf = ((half_k - 1) * log(x) - x / typed(2, gz)
                   - half_k * typed(math.log(2.0), gz) - gammaln(half_k))
        return [-gz * exp(log_pdf), _constant_param_grad(self, k)]


chi2sf = Chi2SF(upgrade_to_float64, name="chi2sf")


# -- Bessel functions ---------------------------------------------------------------------------


def _bessel_c(fn: str, dtype: str, x: str) -> str:
    # SciPy's float32 loop evaluates the double function; so do we (glibc's j0f/j1f also
    # lose many digits near the zeros). SciPy gives NaN at +-inf (libm: 0).
    if cs.kind(dtype) != "f":
        raise MethodNotDefined(f"{fn}: computed in {dtype}")
    return (f"(isinf({x}) ? ({cs.c_type(dtype)})NAN :"
            f" ({cs.c_type(dtype)}){fn}((npy_float64)({x})))")


class J0(_Special):
    """Bessel function of the first kind of order 0."""

    nfunc_spec = ("scipy.special.j0", 1, 1)
    _func = scipy_special("j0")
    _c_call = "j0"

    def c_expr(self, in_dtypes, out_dtype, args):
        return _bessel_c(self._c_call, out_dtype, args[0])

    def grad(self, inputs, output_grads):
        return [-output_grads[0] * j1(inputs[0])]


class J1(_Special):
    """Bessel function of the first kind of order 1."""

    nfunc_spec = ("scipy.special.j1", 1, 1)
    _func = scipy_special("j1")
    _c_call = "j1"

    def c_expr(self, in_dtypes, out_dtype, args):
        return _bessel_c(self._c_call, out_dtype, args[0])

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz * (j0(x) - jv(typed(2, gz), x)) / typed(2, gz)]


class Jv(_Special2):
    """Bessel function of the first kind of real order v: ``jv(v, x)``."""

    nfunc_spec = ("scipy.special.jv", 2, 1)
    _func = scipy_special("jv")

    def grad(self, inputs, output_grads):
        v, x = inputs
        (gz,) = output_grads
        one = typed(1, gz)
        dx = (jv(v - one, x) - jv(v + one, x)) / typed(2, gz)
        return [_constant_param_grad(self, v), gz * dx]


class I0(_Special):
    """Modified Bessel function of the first kind of order 0."""

    nfunc_spec = ("scipy.special.i0", 1, 1)
    _func = scipy_special("i0")
    _c_missing = "no libm function (SciPy uses Chebyshev expansions)"

    def grad(self, inputs, output_grads):
        return [output_grads[0] * i1(inputs[0])]


class I1(_Special):
    """Modified Bessel function of the first kind of order 1."""

    nfunc_spec = ("scipy.special.i1", 1, 1)
    _func = scipy_special("i1")
    _c_missing = "no libm function (SciPy uses Chebyshev expansions)"

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        return [gz * (i0(x) + iv(typed(2, gz), x)) / typed(2, gz)]


class Iv(_Special2):
    """Modified Bessel function of the first kind of real order v: ``iv(v, x)``."""

    nfunc_spec = ("scipy.special.iv", 2, 1)
    _func = scipy_special("iv")

    def grad(self, inputs, output_grads):
        v, x = inputs
        (gz,) = output_grads
        one = typed(1, gz)
        dx = (iv(v - one, x) + iv(v + one, x)) / typed(2, gz)
        return [_constant_param_grad(self, v), gz * dx]


j0 = J0(upgrade_to_float, name="j0")
j1 = J1(upgrade_to_float, name="j1")
jv = Jv(upgrade_to_float, name="jv")
i0 = I0(upgrade_to_float, name="i0")
i1 = I1(upgrade_to_float, name="i1")
iv = Iv(upgrade_to_float, name="iv")

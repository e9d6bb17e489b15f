"""C text of the special functions that <math.h> lacks: erfinv, erfcinv, digamma, trigamma,
and a thread-safe lgamma.

Each helper exists for float and double (``c_support.float_template``) and computes in its
own precision, as SciPy's float32 and float64 loops do. Accuracy (checked against SciPy by
``tlink/tests/test_cc_scalar_ops.py``):

- **erfinv/erfcinv**: a starting value (the Maclaurin series of erfinv for ``|x| <= 1/2``,
  the leading asymptotic term of erfc in the tails), then Halley steps on ``erf(y) = x``,
  or on ``erfc(y) = q`` in the tails so that nothing cancels near 1. Halley converges
  cubically: two steps in the centre and three in the tails reach the precision of libm's
  erf/erfc, a few ulp (float32 arguments below FLT_MIN use the double tail). SciPy returns
  +0 for ``erfinv(-0.0)``, and we do too. SciPy's ``erfcinv`` of the smallest double
  subnormal is inf; ours is the finite root (about 27.2).
- **digamma**: the recurrence ``psi(x) = psi(x + 1) - 1/x`` up to ``x >= 10``, then the
  asymptotic series to ``B_14``; reflection ``psi(x) = psi(1 - x) - pi / tan(pi x)`` below
  0, with ``x`` reduced exactly to ``[-1/2, 1/2]`` first. Poles: ``psi(+-0) = -+inf`` and
  NaN at negative integers (SciPy's values). Near the positive root (1.4616...) the
  result has a small *absolute* error (about 1e-16 in float64), not a small relative one.
- **trigamma**: the same recurrence and series (all terms positive for ``x > 0``, so no
  cancellation), and ``psi1(x) = pi**2 / sin(pi x)**2 - psi1(1 - x)`` below 0: inf at the
  poles.
- **lgamma**: ``lgamma_r`` where the C library has it, so that the global ``signgam`` is
  never written from inside a vectorised loop; ``-inf`` at ``-inf`` as SciPy. SciPy's
  ``gammaln`` of the subnormals below ``1/DBL_MAX`` is inf (its ``1/x`` overflows); ours is
  the finite ``-log|x|``.
"""

from __future__ import annotations

from tgraph.scalar.c_support import float_template

__all__ = ["ERFINV_SUPPORT", "LGAMMA_SUPPORT", "POLYGAMMA_SUPPORT"]

_ERFINV = r"""
/* |x| <= 1/2: solve erf(y) = x */
static inline @T@ tgraph_erfinv_central_@N@(@T@ x) {
    const @T@ c = (@T@)0.88622692545275801365@L@;  /* sqrt(pi) / 2 */
    @T@ t = c * x, t2 = t * t, y, u;
    int k;
    if (x == 0) return 0;  /* +0 for -0 as well, as SciPy */
    y = t * (1 + t2 * ((@T@)(1.0 / 3.0) + t2 * ((@T@)(7.0 / 30.0) + t2 * ((@T@)(127.0 / 630.0)
             + t2 * (@T@)(4369.0 / 22680.0)))));
    for (k = 0; k < 2; ++k) {
        u = (erf@F@(y) - x) * c * exp@F@(y * y);  /* f / f' */
        y -= u / (1 + y * u);                     /* Halley: f'' / f' = -2 y */
    }
    return y;
}
/* 0 < q <= 1/2: solve erfc(y) = q (y > 0) */
static inline @T@ tgraph_erfcinv_tail_@N@(@T@ q) {
    const @T@ c = (@T@)0.88622692545275801365@L@;
    const @T@ pi = (@T@)3.14159265358979323846@L@;
    @T@ L = -log@F@(q), y, u;
    int k;
    y = sqrt@F@(L - (@T@)0.5 * log@F@(pi * L));  /* erfc(y) ~ exp(-y^2) / (y sqrt(pi)) */
    for (k = 0; k < 3; ++k) {
        /* g / g' with q exp(y^2) formed as exp(y^2 - L): no overflow for tiny q */
        u = -(erfc@F@(y) / q - 1) * c * exp@F@(y * y - L);
        y -= u / (1 + y * u);
    }
    return y;
}
static inline @T@ tgraph_erfinv_@N@(@T@ x) {
    @T@ a = fabs@F@(x), y;
    if (a <= (@T@)0.5) return tgraph_erfinv_central_@N@(x);
    if (a < 1) {
        y = tgraph_erfcinv_tail_@N@(1 - a);  /* 1 - a is exact for a >= 1/2 */
        return x < 0 ? -y : y;
    }
    if (a == 1) return x < 0 ? -(@T@)INFINITY : (@T@)INFINITY;
    return (@T@)NAN;
}
static inline @T@ tgraph_erfcinv_@N@(@T@ q) {
    if (q >= (@T@)0.5 && q <= (@T@)1.5) return tgraph_erfinv_central_@N@(1 - q);
    /* below FLT_MIN erfcf has few digits left: the float32 instance asks the double one */
    if (sizeof(@T@) < sizeof(double) && q > 0 && q < (@T@)1.17549435e-38@L@)
        return (@T@)tgraph_erfcinv_tail_float64((double)q);
    if (q > 0 && q < (@T@)0.5) return tgraph_erfcinv_tail_@N@(q);
    if (q > (@T@)1.5 && q < 2) return -tgraph_erfcinv_tail_@N@(2 - q);
    if (q == 0) return (@T@)INFINITY;
    if (q == 2) return -(@T@)INFINITY;
    return (@T@)NAN;
}
"""

_POLYGAMMA = r"""
static inline @T@ tgraph_psi_@N@(@T@ x) {
    const @T@ pi = (@T@)3.14159265358979323846@L@;
    @T@ acc = 0, z, r;
    if (x == 0) return -1 / x;  /* -inf at +0, +inf at -0 */
    if (x < 0) {
        r = x - nearbyint@F@(x);  /* exact; tan(pi x) = tan(pi r) */
        if (r == 0) return (@T@)NAN;
        acc = -pi / tan@F@(pi * r);
        x = 1 - x;
    }
    if (!(x < (@T@)INFINITY)) return x == (@T@)INFINITY && acc == 0 ? x : (@T@)NAN;
    while (x < 10) {
        acc -= 1 / x;
        x += 1;
    }
    z = 1 / (x * x);
    return acc + log@F@(x) - (@T@)0.5 / x
        - z * ((@T@)(1.0 / 12) - z * ((@T@)(1.0 / 120) - z * ((@T@)(1.0 / 252)
        - z * ((@T@)(1.0 / 240) - z * ((@T@)(1.0 / 132) - z * ((@T@)(691.0 / 32760)
        - z * (@T@)(1.0 / 12)))))));
}
static inline @T@ tgraph_trigamma_@N@(@T@ x) {
    const @T@ pi = (@T@)3.14159265358979323846@L@;
    @T@ acc = 0, sign = 1, z, s, r;
    if (x == -(@T@)INFINITY) return (@T@)INFINITY;  /* SciPy's value */
    if (x <= 0) {
        r = x - nearbyint@F@(x);
        s = sin@F@(pi * r);
        acc = pi * pi / (s * s);  /* inf at the poles */
        sign = -1;
        x = 1 - x;
    }
    if (x != x) return x;
    while (x < 10) {
        acc += sign / (x * x);
        x += 1;
    }
    z = 1 / (x * x);
    return acc + sign * (1 / x + z * (@T@)0.5 + z / x * ((@T@)(1.0 / 6) - z * ((@T@)(1.0 / 30)
        - z * ((@T@)(1.0 / 42) - z * ((@T@)(1.0 / 30) - z * ((@T@)(5.0 / 66)
        - z * ((@T@)(691.0 / 2730) - z * (@T@)(7.0 / 6))))))));
}
"""

_LGAMMA = r"""
static inline @T@ tgraph_lgamma_@N@(@T@ x) {
    if (x == -(@T@)INFINITY) return x;  /* SciPy's value (C99 says +inf) */
    {
#if defined(__GLIBC__) || defined(__APPLE__)
        int sign;
        return lgamma@F@_r(x, &sign);
#else
        return lgamma@F@(x);
#endif
    }
}
"""


def _guarded(guard: str, text: str) -> str:
    return f"#ifndef {guard}\n#define {guard}\n{text}\n#endif\n"


ERFINV_SUPPORT = _guarded("TGRAPH_SCALAR_ERFINV", float_template(_ERFINV))
POLYGAMMA_SUPPORT = _guarded("TGRAPH_SCALAR_POLYGAMMA", float_template(_POLYGAMMA))
LGAMMA_SUPPORT = _guarded("TGRAPH_SCALAR_LGAMMA", float_template(_LGAMMA))

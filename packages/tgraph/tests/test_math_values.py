"""Every elementwise function of tgraph.tensor.math against NumPy/SciPy, over hypothesis-drawn
shapes (broadcasting with declared-broadcastable dimensions, left padding, zero sizes,
non-contiguous values) and dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
from elemwise_testtools import run
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType


def _round_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


# name -> (reference, domain (lo, hi) per input, float dtypes only?)
UNARY = {
    "neg": (np.negative, (-3, 3)),
    "abs_": (np.abs, (-3, 3)),
    "sgn": (np.sign, (-3, 3)),
    "inv": (np.reciprocal, (0.5, 3)),
    "sqr": (np.square, (-3, 3)),
    "sqrt": (np.sqrt, (0.1, 5)),
    "exp": (np.exp, (-3, 3)),
    "exp2": (np.exp2, (-3, 3)),
    "expm1": (np.expm1, (-3, 3)),
    "log": (np.log, (0.1, 5)),
    "log2": (np.log2, (0.1, 5)),
    "log10": (np.log10, (0.1, 5)),
    "log1p": (np.log1p, (-0.5, 5)),
    "sin": (np.sin, (-3, 3)),
    "cos": (np.cos, (-3, 3)),
    "tan": (np.tan, (-1.2, 1.2)),
    "arcsin": (np.arcsin, (-0.9, 0.9)),
    "arccos": (np.arccos, (-0.9, 0.9)),
    "arctan": (np.arctan, (-3, 3)),
    "sinh": (np.sinh, (-3, 3)),
    "cosh": (np.cosh, (-3, 3)),
    "tanh": (np.tanh, (-3, 3)),
    "arcsinh": (np.arcsinh, (-3, 3)),
    "arccosh": (np.arccosh, (1.1, 5)),
    "arctanh": (np.arctanh, (-0.9, 0.9)),
    "deg2rad": (np.deg2rad, (-90, 90)),
    "rad2deg": (np.rad2deg, (-3, 3)),
    "erf": (sp.erf, (-2, 2)),
    "erfc": (sp.erfc, (-2, 2)),
    "erfcx": (sp.erfcx, (-1, 3)),
    "erfinv": (sp.erfinv, (-0.9, 0.9)),
    "erfcinv": (sp.erfcinv, (0.1, 1.9)),
    "gamma": (sp.gamma, (0.5, 4)),
    "gammaln": (sp.gammaln, (0.5, 4)),
    "psi": (sp.psi, (0.5, 4)),
    "tri_gamma": (lambda x: sp.polygamma(1, x), (0.5, 4)),
    "j0": (sp.j0, (-3, 3)),
    "j1": (sp.j1, (-3, 3)),
    "i0": (sp.i0, (-3, 3)),
    "i1": (sp.i1, (-3, 3)),
    "sigmoid": (sp.expit, (-5, 5)),
    "softplus": (lambda x: np.log1p(np.exp(x)), (-5, 5)),
    "floor": (np.floor, (-3, 3)),
    "ceil": (np.ceil, (-3, 3)),
    "trunc": (np.trunc, (-3, 3)),
    "round_half_to_even": (np.round, (-3, 3)),
    "round_half_away_from_zero": (_round_away, (-3, 3)),
    "tensor_copy": (lambda x: x, (-3, 3)),
}

BINARY = {
    "add": (np.add, (-3, 3), (-3, 3)),
    "sub": (np.subtract, (-3, 3), (-3, 3)),
    "mul": (np.multiply, (-3, 3), (-3, 3)),
    "true_div": (np.true_divide, (-3, 3), (0.5, 3)),
    "int_div": (np.floor_divide, (-9, 9), (1, 4)),
    "mod": (np.mod, (-9, 9), (1, 4)),
    "pow": (np.power, (0.5, 3), (-2, 2)),
    "arctan2": (np.arctan2, (-3, 3), (-3, 3)),
    "maximum": (np.maximum, (-3, 3), (-3, 3)),
    "minimum": (np.minimum, (-3, 3), (-3, 3)),
    "lt": (np.less, (-2, 2), (-2, 2)),
    "gt": (np.greater, (-2, 2), (-2, 2)),
    "le": (np.less_equal, (-2, 2), (-2, 2)),
    "ge": (np.greater_equal, (-2, 2), (-2, 2)),
    "eq": (np.equal, (-2, 2), (-2, 2)),
    "neq": (np.not_equal, (-2, 2), (-2, 2)),
    "jv": (sp.jv, (0, 3), (-3, 3)),
    "iv": (sp.iv, (0, 3), (-3, 3)),
    "gammainc": (sp.gammainc, (0.5, 3), (0.1, 4)),
    "gammaincc": (sp.gammaincc, (0.5, 3), (0.1, 4)),
    "gammau": (lambda k, x: sp.gammaincc(k, x) * sp.gamma(k), (0.5, 3), (0.1, 4)),
    "gammal": (lambda k, x: sp.gammainc(k, x) * sp.gamma(k), (0.5, 3), (0.1, 4)),
    "chi2sf": (lambda x, k: sp.chdtrc(k, x), (0.1, 4), (1, 5)),
}

INT_BINARY = {
    "and_": np.bitwise_and,
    "or_": np.bitwise_or,
    "xor": np.bitwise_xor,
}

_INT_VALUED = {"int_div", "mod", "floor", "ceil", "trunc", "round_half_to_even",
               "round_half_away_from_zero", "sgn"}


@st.composite
def operands(draw, n: int):
    """n (broadcastable pattern, shape) pairs that broadcast together under Theano's rule,
    some with fewer dimensions (left-padded by Elemwise)."""
    ndim = draw(st.integers(0, 3))
    base = draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim))
    out = []
    for _ in range(n):
        drop = draw(st.integers(0, ndim))
        bcast, shape = [], []
        for d in range(drop, ndim):
            ones = draw(st.booleans())
            bcast.append(ones)
            shape.append(1 if ones else base[d])
        out.append((tuple(bcast), tuple(shape)))
    layout = draw(st.sampled_from(["c", "f", "strided"]))
    return out, layout


def _values(rng, shape, lo, hi, dtype, layout):
    """An array of ``shape`` in [lo, hi): C order, Fortran order or a strided view."""
    if dtype.startswith(("int", "uint")):
        big = rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, size=(2, *shape))
    else:
        big = rng.uniform(lo, hi, size=(2, *shape))
    big = big.astype(dtype)
    if layout == "strided":
        return np.stack([big[1], big[0]], axis=-1)[..., 0]  # every other element
    if layout == "f":
        return np.array(big[0], order="F")
    return np.array(big[0], order="C")


def _check(name, ref, doms, dtype, spec, seed, rtol=None, native=False):
    fn = getattr(tm, name)
    operands_, layout = spec
    rng = np.random.default_rng(seed)
    variables = [TensorType(dtype, b)(f"x{k}") for k, (b, _) in enumerate(operands_)]
    values = [_values(rng, s, *dom, dtype, layout) for (_, s), dom in zip(operands_, doms)]
    if name in ("int_div", "mod") and dtype.startswith(("int", "uint")):
        values[1] = np.where(values[1] == 0, 1, values[1]).astype(dtype)
    out_var = fn(*variables)
    out = run(out_var, dict(zip(variables, values)))
    assert isinstance(out, np.ndarray) and out.dtype == out_var.type.dtype
    with np.errstate(all="ignore"):
        expected = ref(*[v if native else v.astype("float64") for v in values])
    expected = np.asarray(expected)
    assert out.shape == expected.shape
    if rtol is None:
        rtol = 1e-5 if out.dtype == np.float32 else 1e-10
    if out.dtype.kind in "biu":
        np.testing.assert_array_equal(out, expected)
    else:
        np.testing.assert_allclose(out, expected.astype(out.dtype), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=8, deadline=None)
@given(spec=operands(1), dtype=st.sampled_from(["float64", "float32"]), seed=st.integers(0, 99))
def test_unary_functions_match_numpy(name, spec, dtype, seed):
    ref, dom = UNARY[name]
    rtol = 1e-4 if name in ("erfcinv", "erfinv", "tri_gamma", "gamma") else None
    _check(name, ref, [dom], dtype, spec, seed, rtol)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=8, deadline=None)
@given(spec=operands(2), dtype=st.sampled_from(["float64", "float32"]), seed=st.integers(0, 99))
def test_binary_functions_match_numpy(name, spec, dtype, seed):
    ref, *doms = BINARY[name]
    rtol = 1e-4 if name in ("pow", "jv", "iv", "gammau", "gammal", "chi2sf") else None
    _check(name, ref, doms, dtype, spec, seed, rtol)


@pytest.mark.parametrize("name", ["add", "sub", "mul", "int_div", "mod", "maximum", "lt", "eq"])
@settings(max_examples=6, deadline=None)
@given(spec=operands(2), dtype=st.sampled_from(["int8", "int32", "int64", "uint8"]),
       seed=st.integers(0, 99))
def test_integer_arithmetic_matches_numpy(name, spec, dtype, seed):
    ref, *_ = BINARY[name]
    lo = 0 if dtype.startswith("uint") else -9
    divisor_lo = 1 if name in ("int_div", "mod") else lo
    _check(name, ref, [(lo, 9), (divisor_lo, 9)], dtype, spec, seed, native=True)


@pytest.mark.parametrize("name", sorted(INT_BINARY))
@settings(max_examples=6, deadline=None)
@given(spec=operands(2), dtype=st.sampled_from(["int8", "int64", "uint16"]),
       seed=st.integers(0, 99))
def test_bitwise_functions_match_numpy(name, spec, dtype, seed):
    _check(name, INT_BINARY[name], [(0, 100), (0, 100)], dtype, spec, seed, native=True)


@settings(max_examples=15, deadline=None)
@given(spec=operands(3), seed=st.integers(0, 99))
def test_clip_and_switch_match_numpy(spec, seed):
    _check("clip", lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
           [(-3, 3), (-2, 0), (0, 2)], "float64", spec, seed)
    rng = np.random.default_rng(seed)
    (b0, s0), (b1, s1), (b2, s2) = spec[0]
    c = TensorType("bool", b0)("c")
    a, b = TensorType("float64", b1)("a"), TensorType("float64", b2)("b")
    cv = rng.integers(0, 2, size=s0).astype(bool)
    av, bv = rng.normal(size=s1), rng.normal(size=s2)
    np.testing.assert_array_equal(run(tm.switch(c, a, b), {c: cv, a: av, b: bv}),
                                  np.where(cv, av, bv))
    assert tm.where is tm.switch


def test_unary_on_integers_computes_in_float32_or_float64():
    x8, x32 = TensorType("int8", (False,))("x8"), TensorType("int32", (False,))("x32")
    v = np.array([1, 2, 3], dtype="int8")
    out8 = run(tm.sqrt(x8), {x8: v})
    out32 = run(tm.sqrt(x32), {x32: v.astype("int32")})
    assert out8.dtype == np.float32 and out32.dtype == np.float64
    np.testing.assert_allclose(out8, np.sqrt([1.0, 2.0, 3.0]), rtol=1e-6)


def test_complex_functions():
    z = TensorType("complex128", (False,))("z")
    zv = np.array([1 + 2j, -3 - 0.5j])
    for name, ref in (("real", np.real), ("imag", np.imag), ("conj", np.conj),
                      ("angle", np.angle), ("abs_", np.abs)):
        out = run(getattr(tm, name)(z), {z: zv})
        np.testing.assert_allclose(out, ref(zv))
    re, im = TensorType("float64", (False,))("re"), TensorType("float64", (False,))("im")
    out = run(tm.complex(re, im), {re: zv.real, im: zv.imag})
    np.testing.assert_allclose(out, zv)
    r, th = np.abs(zv), np.angle(zv)
    np.testing.assert_allclose(run(tm.complex_from_polar(re, im), {re: r, im: th}), zv)


def test_isnan_isinf_and_integers():
    x = TensorType("float64", (False,))("x")
    xv = np.array([1.0, np.nan, np.inf, -np.inf])
    np.testing.assert_array_equal(run(tm.isnan(x), {x: xv}), np.isnan(xv))
    np.testing.assert_array_equal(run(tm.isinf(x), {x: xv}), np.isinf(xv))
    i = TensorType("int32", (False,))("i")
    out = run(tm.isnan(i), {i: np.arange(3, dtype="int32")})
    assert out.dtype == bool and out.shape == (3,) and not out.any()
    assert not run(tm.isinf(i), {i: np.arange(3, dtype="int32")}).any()


@pytest.mark.parametrize("equal_nan", [False, True])
def test_isclose_and_allclose_match_numpy(equal_nan):
    a, b = TensorType("float64", (False,))("a"), TensorType("float64", (False,))("b")
    av = np.array([1e10, 1e-7, 1.0, np.nan, np.inf, np.inf, 1.0, -np.inf])
    bv = np.array([1.00001e10, 1e-8, 1.0, np.nan, np.inf, -np.inf, np.nan, -np.inf])
    out = run(tm.isclose(a, b, equal_nan=equal_nan), {a: av, b: bv})
    np.testing.assert_array_equal(out, np.isclose(av, bv, equal_nan=equal_nan))
    assert run(tm.allclose(a, b), {a: av[:3], b: av[:3] + 1e-12}).item() is True
    assert run(tm.allclose(a, b), {a: av[:2], b: bv[:2]}).item() is False


def test_smallest_largest_power_divmod_ceil_intdiv():
    a, b, c = (TensorType("int64", (False,))(n) for n in "abc")
    av, bv, cv = np.array([5, -7, 3]), np.array([2, 2, -4]), np.array([0, 9, 1])
    g = {a: av, b: bv, c: cv}
    np.testing.assert_array_equal(run(tm.smallest(a, b, c), g), np.minimum.reduce([av, bv, cv]))
    np.testing.assert_array_equal(run(tm.largest(a, b), g), np.maximum(av, bv))
    q, r = tm.divmod(a, b)
    np.testing.assert_array_equal(run(q, g), av // bv)
    np.testing.assert_array_equal(run(r, g), av % bv)
    np.testing.assert_array_equal(run(tm.ceil_intdiv(a, b), g), -(-av // bv))
    np.testing.assert_array_equal(run(tm.power(a, 2), g), av ** 2)

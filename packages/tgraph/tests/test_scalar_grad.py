"""Gradients of scalar ops: scalar graphs checked against central finite differences."""

import numpy as np
import pytest

import tgraph.scalar as ts
from tgraph import config
from tgraph.graph import evaluate
from tgraph.graph.basic import Constant
from tgraph.graph.utils import MethodNotDefined


def grads_at(op, values, dtypes=None, gz_value=1.0):
    """Evaluate op.L_op's gradient graphs at ``values`` (float64 unless ``dtypes``)."""
    dtypes = dtypes or ["float64"] * len(values)
    ins = [ts.get_scalar_type(d)() for d in dtypes]
    out = op(*ins)
    gz = ts.get_scalar_type(out.dtype)("gz")
    grads = op.L_op(ins, [out], [gz])
    givens = {v: val for v, val in zip(ins, values)}
    givens[gz] = gz_value
    needed = [g for g in grads if g is not None]
    vals = evaluate(needed, givens)
    return grads, vals


def numeric_grad(op, values, eps=1e-6):
    res = []
    for i in range(len(values)):
        hi, lo = list(values), list(values)
        h = eps * max(1.0, abs(values[i]))
        hi[i] = values[i] + h
        lo[i] = values[i] - h
        f_hi = float(op.impl(*[np.float64(v) for v in hi]))
        f_lo = float(op.impl(*[np.float64(v) for v in lo]))
        res.append((f_hi - f_lo) / (2 * h))
    return res


UNARY_POINTS = [
    (ts.exp, [-2.0, 0.3, 3.0]),
    (ts.exp2, [-2.0, 0.3, 3.0]),
    (ts.expm1, [-2.0, 1e-3, 3.0]),
    (ts.log, [0.1, 1.0, 7.5]),
    (ts.log2, [0.1, 1.0, 7.5]),
    (ts.log10, [0.1, 1.0, 7.5]),
    (ts.log1p, [-0.5, 0.0, 7.5]),
    (ts.sqrt, [0.1, 2.0, 9.0]),
    (ts.sin, [-2.0, 0.0, 1.3]),
    (ts.cos, [-2.0, 0.0, 1.3]),
    (ts.tan, [-1.2, 0.0, 1.0]),
    (ts.arcsin, [-0.9, 0.0, 0.5]),
    (ts.arccos, [-0.9, 0.0, 0.5]),
    (ts.arctan, [-3.0, 0.0, 0.5]),
    (ts.sinh, [-2.0, 0.0, 1.3]),
    (ts.cosh, [-2.0, 0.1, 1.3]),
    (ts.tanh, [-2.0, 0.0, 1.3]),
    (ts.arcsinh, [-2.0, 0.0, 1.3]),
    (ts.arccosh, [1.1, 2.0, 10.0]),
    (ts.arctanh, [-0.9, 0.0, 0.5]),
    (ts.deg2rad, [-100.0, 30.0]),
    (ts.rad2deg, [-1.0, 0.5]),
    (ts.inv, [-2.0, 0.5, 3.0]),
    (ts.sqr, [-2.0, 0.5, 3.0]),
    (ts.neg, [-2.0, 0.5]),
    (ts.abs_, [-2.0, 0.5]),
    (ts.identity, [-2.0, 0.5]),
    (ts.sigmoid, [-30.0, -1.0, 0.0, 2.0]),
    (ts.softplus, [-30.0, -1.0, 0.0, 2.0, 40.0]),
    (ts.erf, [-2.0, 0.0, 0.7]),
    (ts.erfc, [-2.0, 0.0, 0.7]),
    (ts.erfcx, [-1.0, 0.0, 3.0]),
    (ts.erfinv, [-0.9, 0.0, 0.5]),
    (ts.erfcinv, [0.1, 1.0, 1.7]),
    (ts.gamma, [0.6, 2.5, 5.0]),
    (ts.gammaln, [0.6, 2.5, 20.0]),
    (ts.psi, [0.6, 2.5, 20.0]),
    (ts.j0, [-3.0, 0.5, 7.0]),
    (ts.j1, [-3.0, 0.5, 7.0]),
    (ts.i0, [-3.0, 0.5, 7.0]),
    (ts.i1, [-3.0, 0.5, 7.0]),
    (ts.convert_to_float64, [0.25]),
]


@pytest.mark.parametrize(("op", "points"), UNARY_POINTS, ids=lambda v: str(v))
def test_unary_gradient_matches_finite_differences(op, points):
    for x in points:
        grads, (g,) = grads_at(op, [x])
        assert grads[0].dtype == "float64"
        (num,) = numeric_grad(op, [x])
        np.testing.assert_allclose(float(g), num, rtol=1e-5, atol=1e-7, err_msg=f"{op} at {x}")


BINARY_POINTS = [
    (ts.add, [(1.5, -2.0)]),
    (ts.sub, [(1.5, -2.0)]),
    (ts.mul, [(1.5, -2.0), (0.0, 3.0)]),
    (ts.true_div, [(1.5, -2.0), (-3.0, 0.25)]),
    (ts.pow, [(1.5, 2.0), (0.7, -1.3), (2.0, 0.5)]),
    (ts.mod, [(7.3, 2.0), (-7.3, 2.0), (1.2, -0.5)]),
    (ts.maximum, [(1.5, -2.0), (-1.0, 3.0)]),
    (ts.minimum, [(1.5, -2.0), (-1.0, 3.0)]),
    (ts.arctan2, [(1.0, 2.0), (-1.0, -0.5), (0.3, -2.0)]),
    (ts.second, [(1.0, 2.0)]),
    (ts.first, [(1.0, 2.0)]),
]


@pytest.mark.parametrize(("op", "points"), BINARY_POINTS, ids=lambda v: str(v))
def test_binary_gradient_matches_finite_differences(op, points):
    for xy in points:
        _, vals = grads_at(op, list(xy))
        num = numeric_grad(op, list(xy))
        np.testing.assert_allclose([float(v) for v in vals], num, rtol=1e-5, atol=1e-7,
                                   err_msg=f"{op} at {xy}")


@pytest.mark.parametrize("op", [ts.add, ts.mul], ids=str)
def test_variadic_gradients(op):
    xyz = [1.5, -2.0, 0.25]
    _, vals = grads_at(op, xyz)
    np.testing.assert_allclose([float(v) for v in vals], numeric_grad(op, xyz), rtol=1e-6)


@pytest.mark.parametrize(
    ("op", "param", "xs"),
    [(ts.gammainc, 2.5, [0.5, 3.0]), (ts.gammaincc, 2.5, [0.5, 3.0]),
     (ts.gammau, 1.5, [0.5, 3.0]), (ts.gammal, 1.5, [0.5, 3.0]), (ts.jv, 1.5, [0.5, 3.0]),
     (ts.iv, 0.5, [0.5, 3.0])],
    ids=lambda v: str(v),
)
def test_gradient_wrt_x_with_constant_parameter(op, param, xs):
    k = ts.constant(param, dtype="float64")
    x = ts.dscalar()
    out = op(k, x)
    gz = ts.dscalar()
    gk, gx = op.L_op([k, x], [out], [gz])
    for xv in xs:
        val, kval = evaluate([gx, gk], {x: xv, gz: 1.0})
        h = 1e-6
        num = (float(op.impl(np.float64(param), np.float64(xv + h)))
               - float(op.impl(np.float64(param), np.float64(xv - h)))) / (2 * h)
        np.testing.assert_allclose(float(val), num, rtol=1e-5)
        assert float(kval) == 0.0
    with pytest.raises(MethodNotDefined, match="parameter"):
        k_var = ts.dscalar()
        op.L_op([k_var, x], [op(k_var, x)], [gz])


def test_chi2sf_gradient_wrt_x():
    x, k = ts.dscalar(), ts.constant(3.0, dtype="float64")
    out = ts.chi2sf(x, k)
    gz = ts.dscalar()
    gx, gk = ts.chi2sf.L_op([x, k], [out], [gz])
    for xv in [0.5, 2.0, 6.0]:
        (val,) = evaluate([gx], {x: xv, gz: 1.0})
        num = numeric_grad(ts.chi2sf, [xv, 3.0])[0]
        np.testing.assert_allclose(float(val), num, rtol=1e-5)


def test_switch_and_clip_gradients():
    c, a, b = ts.bool_(), ts.dscalar(), ts.dscalar()
    out = ts.switch(c, a, b)
    gz = ts.dscalar()
    gc, ga, gb = ts.switch.L_op([c, a, b], [out], [gz])
    assert gc.dtype == config.floatX
    for cond, expect in [(True, (0.0, 2.0, 0.0)), (False, (0.0, 0.0, 2.0))]:
        vals = evaluate([gc, ga, gb], {c: cond, a: 1.0, b: -1.0, gz: 2.0})
        assert [float(v) for v in vals] == list(expect)
    x, lo, hi = ts.dscalar(), ts.dscalar(), ts.dscalar()
    out = ts.clip(x, lo, hi)
    grads = ts.clip.L_op([x, lo, hi], [out], [gz])
    for xv, expect in [(0.5, (1.0, 0.0, 0.0)), (-3.0, (0.0, 1.0, 0.0)), (4.0, (0.0, 0.0, 1.0)),
                       (0.0, (1.0, 0.0, 0.0))]:
        vals = evaluate(grads, {x: xv, lo: 0.0, hi: 1.0, gz: 1.0})
        assert [float(v) for v in vals] == list(expect)
        _, num = grads_at(ts.clip, [xv, 0.0, 1.0])
        if xv not in (0.0, 1.0):
            np.testing.assert_allclose([float(v) for v in num],
                                       numeric_grad(ts.clip, [xv, 0.0, 1.0]), atol=1e-7)


def test_max_min_ties_and_nan_follow_theano():
    # A tie sends the gradient to x (Theano's eq(out, x) rule); a NaN in y sends it to y.
    for op in (ts.maximum, ts.minimum):
        _, vals = grads_at(op, [1.0, 1.0])
        assert [float(v) for v in vals] == [1.0, 0.0]
        _, vals = grads_at(op, [1.0, float("nan")])
        assert [float(v) for v in vals] == [0.0, 1.0]
        _, vals = grads_at(op, [float("inf"), 0.0], gz_value=0.0)
        assert not any(np.isnan(float(v)) for v in vals)


def test_pow_gradient_at_zero_base():
    _, (gx, gy) = grads_at(ts.pow, [0.0, 2.0])
    assert float(gx) == 0.0 and float(gy) == 0.0
    _, (gx, gy) = grads_at(ts.pow, [0.0, 1.0])
    assert float(gx) == 1.0 and float(gy) == 0.0


# ---------------------------------------------------------------------------------------------
# Zero gradients: discrete outputs, discrete inputs, piecewise-constant ops

ZERO_GRAD_UNARY = [ts.floor, ts.ceil, ts.trunc, ts.round_half_to_even,
                   ts.round_half_away_from_zero, ts.sgn, ts.isnan, ts.isinf,
                   ts.convert_to_int32, ts.convert_to_bool]
ZERO_GRAD_BINARY = [ts.lt, ts.gt, ts.le, ts.ge, ts.eq, ts.neq, ts.int_div]


@pytest.mark.parametrize("op", ZERO_GRAD_UNARY, ids=str)
def test_piecewise_constant_unary_ops_have_zero_gradients(op):
    grads, vals = grads_at(op, [1.7])
    assert float(vals[0]) == 0.0
    assert grads[0].dtype in ("float64", config.floatX)


@pytest.mark.parametrize("op", ZERO_GRAD_BINARY, ids=str)
def test_discrete_or_piecewise_binary_ops_have_zero_gradients(op):
    grads, vals = grads_at(op, [1.7, -0.3])
    assert [float(v) for v in vals] == [0.0, 0.0]
    assert all(g.dtype.startswith("float") for g in grads)


@pytest.mark.parametrize("op", [ts.and_, ts.or_, ts.xor], ids=str)
def test_bit_ops_have_float_zero_gradients(op):
    grads, vals = grads_at(op, [3, 5], dtypes=["int32", "int32"])
    assert [float(v) for v in vals] == [0.0, 0.0]
    assert all(g.dtype == config.floatX for g in grads)
    grads, vals = grads_at(ts.invert, [3], dtypes=["int8"])
    assert float(vals[0]) == 0.0


@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_gradients_wrt_discrete_inputs_are_floatx_zeros(floatx):
    with config.change_flags(floatX=floatx):
        for op, dtypes, values in [
            (ts.add, ["int32", "float64"], [3, 1.5]),
            (ts.mul, ["int8", "float32"], [3, 1.5]),
            (ts.true_div, ["int64", "int64"], [3, 2]),
            (ts.exp, ["int16"], [2]),
            (ts.pow, ["float64", "int8"], [1.5, 2]),
            (ts.switch, ["int8", "float32", "int16"], [1, 2.5, 3]),
        ]:
            grads, vals = grads_at(op, values, dtypes=dtypes)
            for d, g, v in zip(dtypes, grads, vals):
                if d.startswith("int"):
                    assert g.dtype == floatx and float(v) == 0.0, (op, d)


def test_pow_gradient_with_integer_exponent():
    grads, (gx, gy) = grads_at(ts.pow, [1.5, 3], dtypes=["float64", "int8"])
    assert float(gx) == pytest.approx(3 * 1.5**2) and float(gy) == 0.0


# ---------------------------------------------------------------------------------------------
# dtypes of gradients

FLOAT32_OPS = [ts.exp, ts.exp2, ts.log2, ts.log10, ts.sqrt, ts.deg2rad, ts.rad2deg, ts.erf,
               ts.erfc, ts.erfcx, ts.erfinv, ts.erfcinv, ts.sigmoid, ts.softplus, ts.sqr,
               ts.arccos, ts.arctanh, ts.tanh, ts.j1, ts.i1, ts.log1p, ts.inv, ts.abs_]


@pytest.mark.parametrize("op", FLOAT32_OPS, ids=str)
def test_float32_gradients_stay_float32(op):
    x = ts.fscalar()
    out = op(x)
    (g,) = op.L_op([x], [out], [ts.fscalar()])
    assert g.dtype == "float32"
    # no float64 anywhere in the gradient graph
    from tgraph.graph.basic import ancestors

    assert all(v.dtype != "float64" for v in ancestors([g]) if isinstance(v.type, ts.ScalarType))


def test_mixed_precision_gradients_are_cast_to_the_input_dtype():
    x32, y64 = ts.fscalar(), ts.dscalar()
    out = ts.mul(x32, y64)
    gx, gy = ts.mul.L_op([x32, y64], [out], [ts.dscalar()])
    assert gx.dtype == "float32" and gy.dtype == "float64"
    (g,) = ts.convert_to_float64.L_op([x32], [ts.cast(x32, "float64")], [ts.dscalar()])
    assert g.dtype == "float32"


# ---------------------------------------------------------------------------------------------
# Complex ops (minimal)


def test_complex_gradients_build():
    x, y = ts.dscalar(), ts.dscalar()
    z = ts.complex(x, y)
    gz = ts.zscalar()
    gx, gy = ts.complex.L_op([x, y], [z], [gz])
    vals = evaluate([gx, gy], {x: 1.0, y: 2.0, gz: 3 - 4j})
    assert [float(v) for v in vals] == [3.0, -4.0]
    c = ts.zscalar()
    (gr,) = ts.real.L_op([c], [ts.real(c)], [ts.dscalar("g")])
    assert gr.dtype == "complex128"
    (gi,) = ts.imag.L_op([c], [ts.imag(c)], [ts.dscalar("g")])
    assert gi.dtype == "complex128"
    g = ts.dscalar("g")
    (ga,) = ts.angle.L_op([c], [ts.angle(c)], [g])
    (val,) = evaluate([ga], {c: 1 + 1j, g: 1.0})
    assert ga.dtype == "complex128" and val == pytest.approx(-0.5 + 0.5j)


def test_missing_gradients_raise():
    x = ts.dscalar()
    with pytest.raises(MethodNotDefined, match="not implemented"):
        ts.tri_gamma.L_op([x], [ts.tri_gamma(x)], [ts.dscalar()])
    comp = ts.Composite([x], [ts.exp(x)])
    with pytest.raises(MethodNotDefined, match="Composite"):
        comp.L_op([x], [comp(x)], [ts.dscalar()])
    with pytest.raises(MethodNotDefined, match="Composite"):
        comp.grad([x], [ts.dscalar()])


def test_second_connection_pattern():
    x, y = ts.dscalar(), ts.dscalar()
    node = ts.second(x, y).owner
    assert ts.second.connection_pattern(node) == [[False], [True]]
    assert ts.first.connection_pattern(ts.first(x, y).owner) == [[True], [False]]
    assert not isinstance(ts.float_zeros_like(x), Constant)

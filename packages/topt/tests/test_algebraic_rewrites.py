"""Algebraic simplification and elementwise specialization (topt.rewrites.algebraic): each
rewrite fires on its target, skips a near miss, keeps the output type and agrees with
NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.scalar as scal
from tgraph.graph import FunctionGraph
from tgraph.graph.evaluate import evaluate
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from topt.engine import EquilibriumOptimizer
from topt.optdb import optdb
from topt.rewrites import algebraic as A


def optimize(outputs, inputs, *rewrites):
    fg = FunctionGraph(inputs, outputs)
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def kinds(fg):
    return [type(n.op.scalar_op) for n in fg.toposort() if isinstance(n.op, Elemwise)]


def agree(fg, outputs, inputs, values, rtol=1e-7):
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for o, n, w, g in zip(outputs, fg.outputs, want, got):
        assert n.type == o.type
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol, equal_nan=True)
    return got


RNG = np.random.default_rng(2)


def _v(shape=(6,), dtype="float64", low=0.25):
    return (RNG.random(shape) + low).astype(dtype)


# -- exp and log ---------------------------------------------------------------------------


@pytest.mark.fires("local_log_exp")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_exp(dtype):
    x = tt.TensorType(dtype, (False,))("x")
    out = tm.log(tm.exp(x))
    fg = optimize([out], [x], A.local_log_exp)
    assert fg.outputs[0] is fg.inputs[0]
    v = np.array([-3.0, 0.0, 5.0], dtype=dtype)
    agree(fg, [out], [x], [v], rtol=1e-6)
    # exact where exp overflows
    big = evaluate(fg.outputs, {fg.inputs[0]: np.array([1000.0], dtype=dtype)})[0]
    assert big[0] == 1000.0


def test_log_exp_integer_input_is_cast():
    i = tt.bvector("i")
    out = tm.log(tm.exp(i))
    fg = optimize([out], [i], A.local_log_exp)
    assert kinds(fg) == [scal.Cast]
    agree(fg, [out], [i], [np.array([-3, 0, 5], dtype="int8")], rtol=1e-6)


def test_log_exp_near_miss():
    x = tt.dvector("x")
    out = tm.log(tm.exp(x) + 1)
    fg = optimize([out], [x], A.local_log_exp)
    assert scal.Log in kinds(fg)


@pytest.mark.fires("local_exp_log")
def test_exp_log_keeps_nan_for_negative_values():
    x = tt.dvector("x")
    out = tm.exp(tm.log(x))
    fg = optimize([out], [x], A.local_exp_log)
    assert scal.Exp not in kinds(fg) and scal.Log not in kinds(fg)
    got = agree(fg, [out], [x], [np.array([-1.0, 0.0, 2.5, np.nan])])
    assert np.isnan(got[0][0]) and got[0][1] == 0.0 and got[0][2] == 2.5
    fg2 = optimize([tm.exp(tm.log1p(x))], [x], A.local_exp_log)
    assert scal.Exp in kinds(fg2)


# -- pow --------------------------------------------------------------------------------------


@pytest.mark.fires("local_pow_specialize")
@pytest.mark.parametrize("exponent,op", [
    (2, scal.Sqr), (0.5, scal.Sqrt), (-1, scal.Inv), (-0.5, scal.Sqrt), (-2, scal.Sqr),
])
def test_pow_specialize(exponent, op):
    x = tt.fmatrix("x")
    out = x ** np.float32(exponent)
    fg = optimize([out], [x], A.local_pow_specialize)
    assert scal.Pow not in kinds(fg) and op in kinds(fg)
    agree(fg, [out], [x], [_v((2, 3), "float32")], rtol=1e-6)


def test_pow_specialize_integer_base_is_computed_in_the_output_dtype():
    i = tt.bvector("i")
    out = i ** 2.0  # float64 (the Python float), no int8 wrap-around
    fg = optimize([out], [i], A.local_pow_specialize)
    assert scal.Pow not in kinds(fg)
    got = agree(fg, [out], [i], [np.array([100, -100, 3], dtype="int8")])
    np.testing.assert_array_equal(got[0], [10000.0, 10000.0, 9.0])


def test_pow_specialize_near_misses():
    x = tt.dvector("x")
    y = tt.dvector("y")
    outs = [x ** 3.0, x ** y, x ** constant(np.array([2.0, 2.0]))]
    fg = optimize(outs, [x, y], A.local_pow_specialize)
    assert kinds(fg).count(scal.Pow) == 3
    i = tt.ivector("i")
    fg2 = optimize([i ** constant(np.int32(-1))], [i], A.local_pow_specialize)
    assert scal.Pow in kinds(fg2)


@pytest.mark.fires("local_pow_specialize_device")
@pytest.mark.parametrize("n", [3, 5, 8, 13, -3, 512])
def test_pow_specialize_device_repeated_squaring(n):
    x = tt.dvector("x")
    out = x ** float(n)
    fg = optimize([out], [x], A.local_pow_specialize_device)
    assert scal.Pow not in kinds(fg)
    assert kinds(fg).count(scal.Sqr) == int(np.log2(abs(n)))
    v = np.array([0.5, 1.0, 1.0005, -1.1])
    agree(fg, [out], [x], [v], rtol=1e-10)


def test_pow_specialize_device_near_miss():
    x = tt.dvector("x")
    outs = [x ** 2.5, x ** 1024.0]
    fg = optimize(outs, [x], A.local_pow_specialize_device)
    assert kinds(fg).count(scal.Pow) == 2


@pytest.mark.fires("local_mul_to_sqr")
def test_mul_to_sqr():
    x, y = tt.dvectors("x", "y")
    fg = optimize([x * x, x * y], [x, y], A.local_mul_to_sqr)
    assert kinds(fg).count(scal.Sqr) == 1 and kinds(fg).count(scal.Mul) == 1
    agree(fg, [x * x, x * y], [x, y], [_v(), _v()])


# -- mul, add, neg, div -----------------------------------------------------------------------


@pytest.mark.fires("local_mul_specialize")
def test_mul_specialize_minus_one_is_neg():
    x = tt.dmatrix("x")
    out = tm.mul(constant(np.float64(-1.0)), x)
    fg = optimize([out], [x], A.local_mul_specialize)
    assert kinds(fg) == [scal.Neg]
    agree(fg, [out], [x], [_v((2, 3))])


def test_mul_specialize_drops_ones_and_negs():
    x, y = tt.dmatrices("x", "y")
    out = tm.mul(1.0, -x, -y)
    fg = optimize([out], [x, y], A.local_mul_specialize)
    assert kinds(fg) == [scal.Mul]
    assert len(fg.outputs[0].owner.inputs) == 2
    agree(fg, [out], [x, y], [_v((2, 3)), _v((2, 3))])


def test_mul_specialize_zero_and_near_miss():
    x = tt.dmatrix("x")
    out = tm.mul(0.0, x)
    fg = optimize([out], [x], A.local_mul_specialize)
    assert scal.Mul not in kinds(fg)
    agree(fg, [out], [x], [_v((2, 3))])
    y = tt.dmatrix("y")
    already = tm.mul(-1.0, x, y)  # the smallest form: a -1 factor, no extra node
    fg2 = optimize([already], [x, y], A.local_mul_specialize)
    assert kinds(fg2) == [scal.Mul]
    u = tt.TensorType("uint8", (False,))("u")
    fg3 = optimize([tm.mul(constant(np.uint8(1)), u)], [u], A.local_mul_specialize)
    assert fg3.outputs[0] is fg3.inputs[0]


@pytest.mark.fires("local_add_specialize")
def test_add_specialize():
    x = tt.fmatrix("x")
    r = tt.frow("r")
    fg = optimize([tm.add(0.0, r, x)], [r, x], A.local_add_specialize)
    node = fg.outputs[0].owner
    assert len(node.inputs) == 2
    agree(fg, [tm.add(0.0, r, x)], [r, x], [_v((1, 4), "float32"), _v((3, 4), "float32")])
    only = tm.add(r, np.float32(0.0))
    fg2 = optimize([only], [r], A.local_add_specialize)
    assert fg2.outputs[0] is fg2.inputs[0]
    fg3 = optimize([tm.add(r, x)], [r, x], A.local_add_specialize)
    assert kinds(fg3) == [scal.Add]
    # a vector of zeros is not a scalar zero: it may widen the result
    zeros = constant(np.zeros((3, 1), dtype="float32"))
    fg4 = optimize([tm.add(r, zeros)], [r], A.local_add_specialize)
    assert kinds(fg4) == [scal.Add]


@pytest.mark.fires("local_neg_div_neg", "local_neg_neg")
def test_neg_neg_and_neg_div_neg():
    a, b = tt.dvectors("a", "b")
    outs = [tm.neg(tm.neg(a)), -((-a) / b), -(2.0 / b)]
    fg = optimize(outs, [a, b], A.local_neg_neg, A.local_neg_div_neg)
    assert fg.outputs[0] is fg.inputs[0]
    assert kinds(fg).count(scal.Neg) == 0
    agree(fg, outs, [a, b], [_v(), _v()])
    # near miss: the division is used elsewhere
    d = (-a) / b
    fg2 = optimize([-d, d], [a, b], A.local_neg_div_neg)
    assert kinds(fg2).count(scal.Neg) == 2


@pytest.mark.fires("local_div_to_inv")
def test_div_to_inv():
    x = tt.fvector("x")
    out = tm.true_div(np.float32(1.0), x)
    fg = optimize([out], [x], A.local_div_to_inv)
    assert kinds(fg) == [scal.Inv]
    agree(fg, [out], [x], [_v((4,), "float32")], rtol=1e-6)
    fg2 = optimize([tm.true_div(np.float32(2.0), x)], [x], A.local_div_to_inv)
    assert kinds(fg2) == [scal.TrueDiv]


@pytest.mark.fires("local_elemwise_sub_zeros")
def test_sub_zeros():
    x = tt.dmatrix("x")
    out = x - x
    fg = optimize([out], [x], A.local_elemwise_sub_zeros)
    assert scal.Sub not in kinds(fg)
    got = agree(fg, [out], [x], [_v((2, 3))])
    assert not got[0].any()
    y = tt.dmatrix("y")
    fg2 = optimize([x - y], [x, y], A.local_elemwise_sub_zeros)
    assert kinds(fg2) == [scal.Sub]


# -- the whole specialize phase after canonicalize -------------------------------------------


@pytest.mark.fires("constant_folding")
def test_canonical_forms_are_specialized_back():
    x = tt.dvector("x")
    out = -x + tm.inv(x) + x ** 2
    fg = FunctionGraph([x], [out])
    optdb["canonicalize"].query("+fast_run").optimize(fg)
    optdb["specialize"].query("+fast_run").optimize(fg)
    ks = kinds(fg)
    assert scal.Pow not in ks and scal.Inv in ks and scal.Sqr in ks
    agree(fg, [out], [x], [_v()])


@pytest.mark.fires("local_alloc_unary")
def test_alloc_unary():
    from tgraph.tensor.alloc import Alloc, alloc

    s = tt.fscalar("s")
    n = tt.lscalar("n")
    out = tm.exp(alloc(s, n, 3))
    fg = optimize([out], [s, n], A.local_alloc_unary)
    top = fg.outputs[0].owner
    assert isinstance(top.op, Alloc)
    assert top.inputs[0].ndim == 0
    agree(fg, [out], [s, n], [np.float32(0.5), np.int64(2)], rtol=1e-6)
    x = tt.fmatrix("x")
    fg2 = optimize([tm.exp(x)], [x], A.local_alloc_unary)
    assert kinds(fg2) == [scal.Exp]

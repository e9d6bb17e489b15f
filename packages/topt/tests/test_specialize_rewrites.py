"""Specialization of reductions (topt.rewrites.specialize): each rewrite fires on its target,
skips a near miss, keeps the output type and agrees with NumPy."""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.scalar as scal
from tgraph.graph import FunctionGraph
from tgraph.graph.evaluate import evaluate
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.alloc import Alloc, alloc
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import Dot
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.join import join, stack
from tgraph.tensor.reduction import CAReduce, Prod, Sum
from topt.engine import EquilibriumOptimizer
from topt.optdb import optdb
from topt.rewrites import specialize as S


def optimize(outputs, inputs, *rewrites):
    fg = FunctionGraph(inputs, outputs)
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def agree(fg, outputs, inputs, values, rtol=1e-7):
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, values)))
    for o, n, w, g in zip(outputs, fg.outputs, want, got):
        assert n.type == o.type
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(g, w, rtol=rtol)
    return got


def reductions(fg):
    return [n for n in fg.toposort() if isinstance(n.op, CAReduce)]


RNG = np.random.default_rng(3)


def _m(shape=(3, 4), dtype="float64"):
    return (RNG.random(shape) + 0.5).astype(dtype)


# -- local_sum_prod_mul_by_scalar ---------------------------------------------------------------


@pytest.mark.fires("local_sum_prod_mul_by_scalar")
def test_sum_of_scalar_times_x():
    x = tt.dmatrix("x")
    s = tt.dscalar("s")
    out = tm.sum(s * x, axis=0)
    fg = optimize([out], [x, s], S.local_sum_prod_mul_by_scalar)
    (red,) = reductions(fg)
    assert red.inputs[0] is fg.inputs[0]  # the sum runs on x itself
    vals = [_m(), np.float64(1.7)]
    got = agree(fg, [out], [x, s], vals)
    np.testing.assert_allclose(got[0], 1.7 * vals[0].sum(axis=0))


def test_prod_of_scalar_times_x():
    x = tt.dmatrix("x")
    s = tt.dscalar("s")
    out = tm.prod(tm.mul(s, x))
    fg = optimize([out], [x, s], S.local_sum_prod_mul_by_scalar)
    (red,) = reductions(fg)
    assert red.inputs[0] is fg.inputs[0]
    agree(fg, [out], [x, s], [_m(), np.float64(1.3)], rtol=1e-10)


def test_sum_of_neg():
    x = tt.fmatrix("x")
    out = tm.sum(-x, axis=1)
    fg = optimize([out], [x], S.local_sum_prod_mul_by_scalar)
    assert isinstance(fg.outputs[0].owner.op, Elemwise)
    agree(fg, [out], [x], [_m(dtype="float32")], rtol=1e-6)


def test_sum_prod_mul_by_scalar_near_misses():
    x, y = tt.dmatrices("x", "y")
    i = tt.bmatrix("i")
    si = tt.bscalar("si")
    outs = [tm.sum(x * y), tm.sum(si * i)]  # no scalar; integers (may wrap) are left alone
    fg = optimize(outs, [x, y, i, si], S.local_sum_prod_mul_by_scalar)
    assert all(isinstance(r.inputs[0].owner.op, Elemwise) for r in reductions(fg))
    vals = [_m(), _m(), np.full((3, 4), 100, dtype="int8"), np.int8(3)]
    agree(fg, outs, [x, y, i, si], vals)


# -- local_reduce_join --------------------------------------------------------------------------


@pytest.mark.fires("local_reduce_join")
@pytest.mark.parametrize("reduce,op", [
    (lambda t: tm.sum(t, axis=0), scal.Add),
    (lambda t: tm.prod(t, axis=0), scal.Mul),
    (lambda t: CAReduce(scal.maximum, axis=0)(t), scal.Maximum),
])
def test_reduce_join_becomes_elemwise(reduce, op):
    a, b = tt.dvectors("a", "b")
    n = 3 if op is not scal.Maximum else 2
    parts = [a, b, a * 2][:n]
    out = reduce(stack(parts))
    fg = optimize([out], [a, b], S.local_reduce_join)
    assert not reductions(fg)
    assert isinstance(fg.outputs[0].owner.op.scalar_op, op)
    agree(fg, [out], [a, b], [_m((4,)), _m((4,))])


def test_reduce_join_near_misses():
    a, b = tt.dmatrices("a", "b")
    outs = [tm.sum(join(0, a, b), axis=0), tm.sum(stack([a, b]), axis=1)]
    fg = optimize(outs, [a, b], S.local_reduce_join)
    assert len(reductions(fg)) == 2
    i, j = tt.bvectors("i", "j")
    out = tm.sum(stack([i, j]), axis=0)  # int8 -> int64 sum: the elementwise add would wrap
    fg2 = optimize([out], [i, j], S.local_reduce_join)
    assert reductions(fg2)
    agree(fg, outs, [a, b], [_m(), _m()])


# -- local_opt_alloc ----------------------------------------------------------------------------


@pytest.mark.fires("local_opt_alloc")
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32"])
def test_sum_and_prod_of_alloc(dtype):
    n, m = tt.lscalars("n", "m")
    c = constant(np.asarray(2, dtype=dtype))
    a = alloc(c, n, m)
    outs = [tm.sum(a), tm.prod(a), tm.sum(a, axis=1), tm.prod(a, axis=0)]
    fg = optimize(outs, [n, m], S.local_opt_alloc)
    assert not reductions(fg)
    got = agree(fg, outs, [n, m], [np.int64(3), np.int64(4)], rtol=1e-6)
    np.testing.assert_allclose(got[0], 24)
    np.testing.assert_allclose(got[2], [8, 8, 8])


def test_opt_alloc_near_miss():
    n = tt.lscalar("n")
    v = tt.dscalar("v")
    out = tm.sum(alloc(v, n, n))  # not a constant value
    fg = optimize([out], [n, v], S.local_opt_alloc)
    assert reductions(fg)
    assert any(isinstance(nd.op, Alloc) for nd in fg.toposort())


# -- local_sumsqr2dot ---------------------------------------------------------------------------


@pytest.mark.fires("local_sumsqr2dot")
def test_sumsqr2dot():
    w, g = tt.dmatrices("w", "g")
    out = tm.sum(tm.sqr(w.dimshuffle("x", 0, 1) * g.dimshuffle(0, "x", 1)), axis=(1, 2))
    fg = optimize([out], [w, g], S.local_sumsqr2dot)
    assert any(isinstance(nd.op, Dot) for nd in fg.toposort())
    agree(fg, [out], [w, g], [_m((5, 4)), _m((3, 4))], rtol=1e-10)
    near = tm.sum(tm.sqr(w.dimshuffle("x", 0, 1) * g.dimshuffle(0, "x", 1)), axis=(0, 2))
    fg2 = optimize([near], [w, g], S.local_sumsqr2dot)
    assert not any(isinstance(nd.op, Dot) for nd in fg2.toposort())


# -- mean keeps Theano's dtype through the whole pipeline ------------------------------------


@pytest.mark.parametrize("dtype,expect", [("float32", "float32"), ("int16", "float64")])
def test_mean_dtype_survives_fast_run(dtype, expect):
    x = tt.TensorType(dtype, (False, False))("x")
    out = tm.mean(x, axis=0)
    assert out.type.dtype == expect
    fg = FunctionGraph([x], [out])
    optdb.query("+fast_run", "-inplace").optimize(fg)
    v = (RNG.random((3, 4)) * 10).astype(dtype)
    got = evaluate(fg.outputs, {fg.inputs[0]: v})[0]
    assert got.dtype == expect
    np.testing.assert_allclose(got, v.mean(axis=0), rtol=1e-6)


def test_reductions_are_merged_in_the_specialized_graph():
    x = tt.dtensor3("x")
    out = tm.sum(tm.sum(2.0 * x, axis=0), axis=0)
    fg = FunctionGraph([x], [out])
    optdb.query("+fast_run", "-inplace").optimize(fg)
    sums = [n for n in fg.toposort() if isinstance(n.op, Sum | Prod)]
    assert len(sums) == 1
    v = _m((2, 3, 4))
    got = evaluate(fg.outputs, {fg.inputs[0]: v})[0]
    np.testing.assert_allclose(got, 2 * v.sum(axis=(0, 1)))


@pytest.mark.fires("local_max_and_argmax")
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_max_without_its_argmax_becomes_a_reduction(axis):
    from tgraph.tensor.math_reductions import max_and_argmax
    from tgraph.tensor.reduction import Max, MaxAndArgmax

    x = tt.matrix("x")
    mx, _am = max_and_argmax(x, axis)
    fg = optimize([mx * 2], [x], S.local_max_and_argmax)
    ops = [n.op for n in fg.toposort()]
    assert any(isinstance(op, Max) for op in ops)
    assert not any(isinstance(op, MaxAndArgmax) for op in ops)
    v = np.array([[1.0, np.nan, 3.0], [4.0, 0.5, -2.0]])
    got = agree(fg, [mx * 2], [x], [v])[0]
    np.testing.assert_array_equal(got, 2 * np.max(v, axis=axis))  # NaN propagates as NumPy's


def test_max_and_argmax_kept_when_the_argmax_is_read():
    from tgraph.tensor.math_reductions import max_and_argmax
    from tgraph.tensor.reduction import MaxAndArgmax

    x = tt.matrix("x")
    mx, am = max_and_argmax(x, 1)
    fg = optimize([mx, am], [x], S.local_max_and_argmax)
    assert [type(n.op) for n in fg.toposort()] == [MaxAndArgmax]

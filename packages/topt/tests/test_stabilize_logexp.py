"""Tests of topt.rewrites.stabilize: log1p, expm1, log-add-exp, log-sum-exp, log1mexp.

Each rewrite is applied alone (an EquilibriumOptimizer over a FunctionGraph) and checked to
fire on its target, to skip a near miss, to keep the output type, and to agree with NumPy,
including where the unrewritten graph loses precision or overflows.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.engine.rewriter import EquilibriumOptimizer
from topt.levels import LEVELS
from topt.rewrites import stabilize as stab


def rewrite(inputs, outputs, *rewrites):
    fg = FunctionGraph(inputs, outputs)
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def ops(fg) -> list[str]:
    """Names of the graph's ops (the scalar op's class for an Elemwise)."""
    return [type(n.op.scalar_op).__name__ if isinstance(n.op, Elemwise) else type(n.op).__name__
            for n in fg.toposort()]


def run(fg, *values):
    return evaluate(fg.outputs, dict(zip(fg.inputs, values)))


def vec(dtype="float64", name="x"):
    return TensorType(dtype, (False,))(name)


# ---------------------------------------------------------------------------------------------
# log1p


@pytest.mark.fires("local_log1p")
@pytest.mark.parametrize("build", [
    lambda x: tm.log(1 + x),
    lambda x: tm.log(x + 1),
    lambda x: tm.log(tm.add(0.5, x, 0.5)),
], ids=["1+x", "x+1", "halves"])
def test_log1p_fires_and_is_accurate(build):
    x = vec()
    fg = rewrite([x], [build(x)], stab.local_log1p)
    assert "Log1p" in ops(fg) and "Log" not in ops(fg)
    v = np.array([1e-20, -1e-18, 0.5, 3.0])
    np.testing.assert_allclose(run(fg, v)[0], np.log1p(v), rtol=1e-15)


def test_log_of_one_minus_x():
    x = vec()
    fg = rewrite([x], [tm.log(1 - x)], stab.local_log1p)
    assert "Log1p" in ops(fg) and "Log" not in ops(fg)
    v = np.array([1e-20, 0.25, -3.0])
    np.testing.assert_allclose(run(fg, v)[0], np.log1p(-v), rtol=1e-15)


def test_log1p_keeps_other_terms():
    x, y = vec(name="x"), vec(name="y")
    fg = rewrite([x, y], [tm.log(tm.add(x, 1, y))], stab.local_log1p)
    assert "Log1p" in ops(fg)
    a, b = np.array([1e-17, 0.5]), np.array([2e-17, -0.25])
    np.testing.assert_allclose(run(fg, a, b)[0], np.log1p(a + b), rtol=1e-15)


@pytest.mark.parametrize("build", [
    lambda x: tm.log(2 + x),
    lambda x: tm.log(1.0000001 + x),
    lambda x: tm.log(x),
    lambda x: tm.log(x * 1),
], ids=["two", "almost-one", "plain", "product"])
def test_log1p_near_misses(build):
    x = vec()
    fg = rewrite([x], [build(x)], stab.local_log1p)
    assert "Log1p" not in ops(fg)


def test_log1p_float32_and_broadcast_kept():
    x = TensorType("float32", (True, False))("x")
    ones = np.ones((3, 4), dtype="float32")
    out = tm.log(ones + x)
    fg = rewrite([x], [out], stab.local_log1p)
    assert "Log1p" in ops(fg)
    assert fg.outputs[0].type == out.type
    v = np.full((1, 4), 1e-10, dtype="float32")
    res = run(fg, v)[0]
    assert res.shape == (3, 4) and res.dtype == np.float32
    np.testing.assert_allclose(res, np.log1p(np.broadcast_to(v, (3, 4))), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# expm1


@pytest.mark.fires("local_expm1")
@pytest.mark.parametrize("build", [
    lambda x: tm.exp(x) - 1,
    lambda x: tm.exp(x) + (-1),
    lambda x: -1 + tm.exp(x),
], ids=["sub", "add-neg", "neg-first"])
def test_expm1_fires(build):
    x = vec()
    fg = rewrite([x], [build(x)], stab.local_expm1)
    assert "Expm1" in ops(fg) and "Exp" not in ops(fg)
    v = np.array([1e-20, -3e-17, 2.0])
    np.testing.assert_allclose(run(fg, v)[0], np.expm1(v), rtol=1e-15)


def test_expm1_keeps_other_terms():
    x, y = vec(name="x"), vec(name="y")
    fg = rewrite([x, y], [tm.add(tm.exp(x), y, -1)], stab.local_expm1)
    assert "Expm1" in ops(fg)
    a, b = np.array([1e-18, 1.0]), np.array([3.0, -2.0])
    np.testing.assert_allclose(run(fg, a, b)[0], np.expm1(a) + b, rtol=1e-15)


@pytest.mark.parametrize("build", [
    lambda x: tm.exp(x) - 2,
    lambda x: 1 - tm.exp(x),
    lambda x: tm.exp(x) - x,
], ids=["minus-two", "reversed", "variable"])
def test_expm1_near_misses(build):
    x = vec()
    fg = rewrite([x], [build(x)], stab.local_expm1)
    assert "Expm1" not in ops(fg)


def test_expm1_float32():
    x = vec("float32")
    out = tm.exp(x) - 1
    fg = rewrite([x], [out], stab.local_expm1)
    assert fg.outputs[0].type == out.type
    assert run(fg, np.array([1e-10], dtype="float32"))[0].dtype == np.float32


# ---------------------------------------------------------------------------------------------
# log(exp(a) + exp(b))


@pytest.mark.fires("local_log_add")
def test_log_add_exp_is_finite_for_large_arguments():
    a, b = vec(name="a"), vec(name="b")
    fg = rewrite([a, b], [tm.log(tm.exp(a) + tm.exp(b))], stab.local_log_add)
    assert "Maximum" in ops(fg)
    va = np.array([1000.0, -1000.0, 0.0, -np.inf, np.inf, 3.0])
    vb = np.array([999.0, -1001.0, 0.0, -np.inf, np.inf, -np.inf])
    np.testing.assert_allclose(run(fg, va, vb)[0], np.logaddexp(va, vb), rtol=1e-15)


def test_log_add_exp_three_terms():
    a, b, c = vec(name="a"), vec(name="b"), vec(name="c")
    fg = rewrite([a, b, c], [tm.log(tm.add(tm.exp(a), tm.exp(b), tm.exp(c)))],
                 stab.local_log_add)
    va, vb, vc = np.array([800.0, -5.0]), np.array([801.0, -700.0]), np.array([0.0, -800.0])
    expected = np.logaddexp(np.logaddexp(va, vb), vc)
    np.testing.assert_allclose(run(fg, va, vb, vc)[0], expected, rtol=1e-14)


def test_log_add_near_miss():
    a, b = vec(name="a"), vec(name="b")
    fg = rewrite([a, b], [tm.log(tm.exp(a) + b)], stab.local_log_add)
    assert "Maximum" not in ops(fg)


# ---------------------------------------------------------------------------------------------
# log(sum(exp(x)))


@pytest.mark.fires("local_log_sum_exp")
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_log_sum_exp(axis):
    x = TensorType("float64", (False, False))("x")
    out = tm.log(tm.sum(tm.exp(x), axis=axis))
    fg = rewrite([x], [out], stab.local_log_sum_exp)
    names = ops(fg)
    assert names.count("Max") == 1, names
    assert fg.outputs[0].type == out.type
    v = np.array([[1000.0, 999.0, -np.inf], [-1000.0, -1002.0, -999.5]])
    from scipy.special import logsumexp

    np.testing.assert_allclose(run(fg, v)[0], logsumexp(v, axis=axis), rtol=1e-14)


def test_log_sum_exp_keepdims_and_infinite_rows():
    x = TensorType("float32", (False, False))("x")
    out = tm.log(tm.sum(tm.exp(x), axis=1, keepdims=True))
    fg = rewrite([x], [out], stab.local_log_sum_exp)
    assert fg.outputs[0].type == out.type
    v = np.array([[100.0, 99.0], [-np.inf, -np.inf]], dtype="float32")
    res = run(fg, v)[0]
    assert res.dtype == np.float32
    np.testing.assert_allclose(res[0, 0], np.logaddexp(100.0, 99.0), rtol=1e-6)
    assert res[1, 0] == -np.inf


def test_log_sum_exp_near_miss():
    x = TensorType("float64", (False, False))("x")
    fg = rewrite([x], [tm.log(tm.sum(x, axis=1))], stab.local_log_sum_exp)
    assert "Max" not in ops(fg)


# ---------------------------------------------------------------------------------------------
# log(1 - exp(x))


@pytest.mark.fires("local_log1mexp")
def test_log1mexp_accurate_on_both_sides():
    x = vec()
    fg = rewrite([x], [tm.log(1 - tm.exp(x))], stab.local_log1p, stab.local_log1mexp)
    names = ops(fg)
    assert names.count("Switch") == 1 and "Expm1" in names
    v = np.array([-1e-20, -1e-5, -0.5, -1.0, -50.0, -800.0])
    expected = np.array([np.log(-np.expm1(t)) if t > -np.log(2) else np.log1p(-np.exp(t))
                         for t in v])
    np.testing.assert_allclose(run(fg, v)[0], expected, rtol=1e-14)
    assert np.isfinite(run(fg, v)[0]).all()


def test_log1mexp_from_neg_times_exp():
    x = vec("float32")
    out = tm.log1p(-1 * tm.exp(x))
    fg = rewrite([x], [out], stab.local_log1mexp)
    assert "Expm1" in ops(fg) and fg.outputs[0].type == out.type


def test_log1mexp_near_miss():
    x = vec()
    fg = rewrite([x], [tm.log1p(tm.exp(x))], stab.local_log1mexp)
    assert "Switch" not in ops(fg)


# ---------------------------------------------------------------------------------------------
# Through the optimizer levels, and random values


def test_stabilize_level_includes_these_rewrites():
    x = vec()
    fg = FunctionGraph([x], [tm.log(1 + x), tm.exp(x) - 1])
    LEVELS["stabilize"].optimize(fg)
    names = ops(fg)
    assert "Log1p" in names and "Expm1" in names


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-30, 30), min_size=1, max_size=5),
       st.sampled_from(["float32", "float64"]))
def test_rewritten_graphs_agree_with_numpy(values, dtype):
    x = vec(dtype)
    outs = [tm.log(1 + tm.exp(x)), tm.exp(x) - 1, tm.log(tm.exp(x) + tm.exp(-x))]
    fg = rewrite([x], outs, stab.local_log1p, stab.local_expm1, stab.local_log_add)
    v = np.asarray(values, dtype=dtype)
    got = run(fg, v)
    w = v.astype("float64")
    expected = [np.logaddexp(0, w), np.expm1(w), np.logaddexp(w, -w)]
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for g, e, o in zip(got, expected, outs):
        assert g.dtype == o.type.dtype
        np.testing.assert_allclose(g, e, rtol=rtol, atol=1e-30)

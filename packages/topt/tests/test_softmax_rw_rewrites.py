"""Tests of topt.rewrites.softmax_rw: log-softmax and the fused softmax cross-entropy ops.

Each rewrite fires on its target, skips a near miss and agrees with SciPy, with logits of
magnitude 1e4 where ``log(softmax(x))`` and its gradient give -inf and NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import log_softmax, softmax

from tgraph import gradient
from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor import nnet
from tgraph.tensor.alloc import arange, ones_like
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.engine.rewriter import EquilibriumOptimizer
from topt.levels import LEVELS
from topt.rewrites import softmax_rw as smr

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 4)) * 1e4
B = RNG.standard_normal(4)
Y = np.array([0, 3, 1, 2, 3])


def rewrite(inputs, outputs, *rewrites):
    fg = FunctionGraph(inputs, outputs)
    EquilibriumOptimizer(list(rewrites), max_use_ratio=20).optimize(fg)
    return fg


def ops(fg) -> list[str]:
    return [type(n.op.scalar_op).__name__ if isinstance(n.op, Elemwise) else type(n.op).__name__
            for n in fg.toposort()]


def run(fg, *values):
    return evaluate(fg.outputs, dict(zip(fg.inputs, values)))


def mat(dtype="float64", name="x"):
    return TensorType(dtype, (False, False))(name)


def labels(name="y"):
    return TensorType("int64", (False,))(name)


def nll_reference(x, y):
    return -log_softmax(x, axis=1)[np.arange(len(y)), y]


def dx_reference(x, y, scale=1.0):
    onehot = np.zeros_like(x)
    onehot[np.arange(len(y)), y] = 1
    return scale * (softmax(x, axis=1) - onehot)


# ---------------------------------------------------------------------------------------------
# log(softmax(x))


@pytest.mark.fires("local_logsoftmax")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsoftmax(dtype):
    x = mat(dtype)
    out = tm.log(nnet.softmax(x))
    fg = rewrite([x], [out], smr.local_logsoftmax)
    assert ops(fg) == ["LogSoftmax"]
    assert fg.outputs[0].type == out.type
    res = run(fg, X.astype(dtype))[0]
    assert res.dtype == dtype and np.isfinite(res).all()
    np.testing.assert_allclose(res, log_softmax(X.astype(dtype).astype("float64"), axis=1),
                               rtol=1e-6)


def test_logsoftmax_of_softmax_with_bias():
    x, b = mat(), TensorType("float64", (False,))("b")
    fg = rewrite([x, b], [tm.log(nnet.softmax_with_bias(x, b))], smr.local_logsoftmax)
    assert "LogSoftmax" in ops(fg) and "SoftmaxWithBias" not in ops(fg)
    np.testing.assert_allclose(run(fg, X, B)[0], log_softmax(X + B, axis=1), rtol=1e-12)


@pytest.mark.parametrize("build", [
    lambda x: tm.log(tm.exp(x)),
    lambda x: tm.log(nnet.softmax(x) + 1),
    lambda x: tm.log1p(nnet.softmax(x)),
], ids=["log-exp", "log-softmax-plus-1", "log1p"])
def test_logsoftmax_near_misses(build):
    x = mat()
    fg = rewrite([x], [build(x)], smr.local_logsoftmax)
    assert "LogSoftmax" not in ops(fg)


@pytest.mark.fires("local_logsoftmax_grad")
def test_logsoftmax_grad():
    x, w = mat(), mat(name="w")
    cost = tm.sum(w * tm.log(nnet.softmax(x)))
    (gx,) = gradient.grad(cost, [x])
    fg = rewrite([x, w], [gx], smr.local_logsoftmax_grad)
    assert "SoftmaxGrad" not in ops(fg)
    wv = RNG.standard_normal(X.shape)
    expected = wv - wv.sum(axis=1, keepdims=True) * softmax(X, axis=1)
    res = run(fg, X, wv)[0]
    assert np.isfinite(res).all()
    np.testing.assert_allclose(res, expected, rtol=1e-10, atol=1e-12)


def test_logsoftmax_grad_near_miss():
    x = mat()
    (gx,) = gradient.grad(tm.sum(tm.sqr(nnet.softmax(x))), [x])
    fg = rewrite([x], [gx], smr.local_logsoftmax_grad)
    assert "SoftmaxGrad" in ops(fg)


# ---------------------------------------------------------------------------------------------
# softmax(x + b)


@pytest.mark.fires("local_softmax_with_bias")
def test_softmax_with_bias():
    x, b = mat(), TensorType("float64", (False,))("b")
    fg = rewrite([x, b], [nnet.softmax(x + b)], smr.local_softmax_with_bias)
    assert ops(fg) == ["SoftmaxWithBias"]
    np.testing.assert_allclose(run(fg, X, B)[0], softmax(X + B, axis=1), rtol=1e-12)


def test_softmax_with_bias_near_miss():
    x, z = mat(), mat(name="z")
    fg = rewrite([x, z], [nnet.softmax(x + z)], smr.local_softmax_with_bias)
    assert "SoftmaxWithBias" not in ops(fg)


# ---------------------------------------------------------------------------------------------
# categorical_crossentropy(softmax(x), y)


@pytest.mark.fires("crossentropy_to_crossentropy_with_softmax",
                   "local_softmax_grad_to_crossentropy_with_softmax_grad")
@pytest.mark.parametrize("with_bias", [False, True], ids=["plain", "bias"])
def test_crossentropy_fused_with_softmax(with_bias):
    x, y, b = mat(), labels(), TensorType("float64", (False,))("b")
    sm = nnet.softmax_with_bias(x, b) if with_bias else nnet.softmax(x)
    cost = tm.mean(nnet.categorical_crossentropy(sm, y))
    (gx,) = gradient.grad(cost, [x])
    fg = rewrite([x, y, b], [cost, gx], smr.crossentropy_to_crossentropy_with_softmax,
                 smr.local_softmax_grad_to_crossentropy_with_softmax_grad,
                 smr.graph_merge_softmax_with_crossentropy_softmax)
    names = ops(fg)
    assert "CrossentropySoftmaxArgmax1HotWithBias" in names
    assert "CrossentropySoftmax1HotWithBiasDx" in names
    assert "CrossentropyCategorical1Hot" not in names and "SoftmaxGrad" not in names
    xb = X + B if with_bias else X
    cost_v, gx_v = run(fg, X, Y, B)
    np.testing.assert_allclose(cost_v, nll_reference(xb, Y).mean(), rtol=1e-12)
    np.testing.assert_allclose(gx_v, dx_reference(xb, Y, 1 / len(Y)), rtol=1e-10, atol=1e-15)


def test_crossentropy_with_bias_only_rewrite_skips_plain_softmax():
    x, y = mat(), labels()
    cost = nnet.categorical_crossentropy(nnet.softmax(x), y)
    fg = rewrite([x, y], [cost], smr.crossentropy_to_crossentropy_with_softmax_with_bias)
    assert "CrossentropyCategorical1Hot" in ops(fg)


def test_crossentropy_of_other_distribution_is_kept():
    x, y = mat(), labels()
    cost = nnet.categorical_crossentropy(tm.sigmoid(x), y)
    fg = rewrite([x, y], [cost], smr.crossentropy_to_crossentropy_with_softmax)
    assert "CrossentropySoftmaxArgmax1HotWithBias" not in ops(fg)


def test_softmax_grad_of_other_coding_is_kept():
    x, z, y = mat(), mat(name="z"), labels()
    d = nnet.crossentropy_categorical_1hot_grad(ones_like(y, dtype="float64"),
                                                nnet.softmax(z), y)
    out = nnet.softmax_grad(d, nnet.softmax(x))
    fg = rewrite([x, z, y], [out], smr.local_softmax_grad_to_crossentropy_with_softmax_grad)
    assert "SoftmaxGrad" in ops(fg)


# ---------------------------------------------------------------------------------------------
# Indexing by labels


@pytest.mark.fires("local_advanced_indexing_crossentropy_onehot")
@pytest.mark.parametrize("form", ["index-of-log", "log-of-index", "logsoftmax"])
def test_advanced_indexing_crossentropy(form):
    x, y = mat(), labels()
    rows = arange(y.shape[0])
    if form == "index-of-log":
        ll = tm.log(nnet.softmax(x))[rows, y]
    elif form == "log-of-index":
        ll = tm.log(nnet.softmax(x)[rows, y])
    else:
        ll = nnet.logsoftmax(x)[rows, y]
    cost = -tm.mean(ll)
    (gx,) = gradient.grad(cost, [x])
    fg = rewrite([x, y], [cost, gx], smr.local_advanced_indexing_crossentropy_onehot,
                 smr.local_advanced_indexing_crossentropy_onehot_grad,
                 smr.local_logsoftmax_grad)
    names = ops(fg)
    assert "CrossentropySoftmaxArgmax1HotWithBias" in names
    # LogSoftmax's own gradient is already stable: only the softmax forms are fused.
    assert ("CrossentropySoftmax1HotWithBiasDx" in names) == (form != "logsoftmax"), names
    cost_v, gx_v = run(fg, X, Y)
    np.testing.assert_allclose(cost_v, nll_reference(X, Y).mean(), rtol=1e-12)
    np.testing.assert_allclose(gx_v, dx_reference(X, Y, 1 / len(Y)), rtol=1e-10, atol=1e-15)


def test_advanced_indexing_with_other_rows_is_kept():
    x, y, r = mat(), labels(), labels("r")
    cost = -tm.mean(tm.log(nnet.softmax(x))[r, y])
    fg = rewrite([x, y, r], [cost], smr.local_advanced_indexing_crossentropy_onehot)
    assert "CrossentropySoftmaxArgmax1HotWithBias" not in ops(fg)


# ---------------------------------------------------------------------------------------------
# argmax pushdown


@pytest.mark.fires("local_argmax_pushdown")
def test_argmax_pushdown():
    x = mat()
    out = tm.argmax(nnet.softmax(tm.exp(x)), axis=1)
    fg = rewrite([x], [out], smr.local_argmax_pushdown)
    assert "Softmax" not in ops(fg) and "Exp" not in ops(fg)
    v = RNG.standard_normal((3, 6))
    np.testing.assert_array_equal(run(fg, v)[0], v.argmax(axis=1))


def test_argmax_pushdown_keeps_a_used_max():
    x = mat()
    mx, am = tm.max_and_argmax(nnet.softmax(x), axis=1)
    fg = rewrite([x], [mx, am], smr.local_argmax_pushdown)
    assert "Softmax" in ops(fg)


# ---------------------------------------------------------------------------------------------
# Levels


@pytest.mark.fires("graph_merge_softmax_with_crossentropy_softmax")
@pytest.mark.parametrize("level", ["stabilize", "fast_run"])
def test_mlp_cost_and_gradient_finite_under_level(level):
    x, y, b = mat(), labels(), TensorType("float64", (False,))("b")
    p = nnet.softmax(x + b)
    costs = [-tm.mean(tm.log(p)[arange(y.shape[0]), y]),
             tm.mean(nnet.categorical_crossentropy(p, y))]
    for cost in costs:
        gx, gb = gradient.grad(cost, [x, b])
        fg = FunctionGraph([x, y, b], [cost, gx, gb])
        LEVELS[level].optimize(fg)
        assert "CrossentropySoftmaxArgmax1HotWithBias" in ops(fg)
        cost_v, gx_v, gb_v = run(fg, X, Y, B)
        dx = dx_reference(X + B, Y, 1 / len(Y))
        np.testing.assert_allclose(cost_v, nll_reference(X + B, Y).mean(), rtol=1e-12)
        np.testing.assert_allclose(gx_v, dx, rtol=1e-9, atol=1e-15)
        np.testing.assert_allclose(gb_v, dx.sum(axis=0), rtol=1e-9, atol=1e-14)


def test_log_softmax_level_stabilize():
    x = mat("float32")
    fg = FunctionGraph([x], [tm.log(nnet.softmax(x))])
    LEVELS["stabilize"].optimize(fg)
    assert "LogSoftmax" in ops(fg)
    assert np.isfinite(run(fg, X.astype("float32"))[0]).all()

"""Firing tests for the softmax cross-entropy rewrites that other tests only show together.

Each rewrite runs alone on the graph it targets, must replace it with the fused op, and the
values must agree with SciPy for logits of magnitude 1e4.
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
from tgraph.tensor.alloc import arange
from tgraph.tensor.nnet.crossentropy import crossentropy_softmax_argmax_1hot_with_bias
from tgraph.tensor.nnet.softmax import softmax_with_bias
from tgraph.tensor.type import TensorType
from topt.engine.rewriter import EquilibriumOptimizer
from topt.rewrites import softmax_rw as smr

RNG = np.random.default_rng(11)
X = RNG.standard_normal((5, 4)) * 1e4
B = RNG.standard_normal(4)
Y = np.array([1, 3, 0, 2, 3])


def _vars():
    return (TensorType("float64", (False, False))("x"), TensorType("float64", (False,))("b"),
            TensorType("int64", (False,))("y"))


def _rewrite(inputs, outputs, rewrite):
    fg = FunctionGraph(inputs, outputs)
    EquilibriumOptimizer([rewrite], max_use_ratio=10).optimize(fg)
    return fg, [type(n.op).__name__ for n in fg.toposort()]


def _nll(x, y):
    return -log_softmax(x, axis=1)[np.arange(len(y)), y]


@pytest.mark.fires("crossentropy_to_crossentropy_with_softmax_with_bias")
def test_crossentropy_of_softmax_with_bias_is_fused():
    x, b, y = _vars()
    cost = nnet.categorical_crossentropy(softmax_with_bias(x, b), y)
    fg, names = _rewrite([x, b, y], [cost],
                         smr.crossentropy_to_crossentropy_with_softmax_with_bias)
    assert "CrossentropySoftmaxArgmax1HotWithBias" in names
    assert "CrossentropyCategorical1Hot" not in names and "SoftmaxWithBias" not in names
    res = evaluate(fg.outputs, dict(zip(fg.inputs, (X, B, Y))))[0]
    assert np.isfinite(res).all()
    np.testing.assert_allclose(res, _nll(X + B, Y), rtol=1e-12)


@pytest.mark.fires("local_advanced_indexing_crossentropy_onehot_grad")
def test_gradient_of_indexed_log_softmax_is_fused():
    x, _, y = _vars()
    cost = -tm.mean(tm.log(nnet.softmax(x)[arange(y.shape[0]), y]))
    (gx,) = gradient.grad(cost, [x])
    fg, names = _rewrite([x, y], [gx], smr.local_advanced_indexing_crossentropy_onehot_grad)
    assert "CrossentropySoftmax1HotWithBiasDx" in names and "SoftmaxGrad" not in names
    res = evaluate(fg.outputs, dict(zip(fg.inputs, (X, Y))))[0]
    onehot = np.zeros_like(X)
    onehot[np.arange(len(Y)), Y] = 1
    assert np.isfinite(res).all()
    np.testing.assert_allclose(res, (softmax(X, axis=1) - onehot) / len(Y), rtol=1e-10,
                               atol=1e-15)


@pytest.mark.fires("graph_merge_softmax_with_crossentropy_softmax")
def test_softmax_reuses_the_fused_crossentropy_node():
    x, b, y = _vars()
    nll = crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0]
    sm = softmax_with_bias(x, b)
    fg, names = _rewrite([x, b, y], [nll, sm],
                         smr.graph_merge_softmax_with_crossentropy_softmax)
    assert "SoftmaxWithBias" not in names
    assert names.count("CrossentropySoftmaxArgmax1HotWithBias") == 1
    nll_v, sm_v = evaluate(fg.outputs, dict(zip(fg.inputs, (X, B, Y))))
    np.testing.assert_allclose(sm_v, softmax(X + B, axis=1), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(nll_v, _nll(X + B, Y), rtol=1e-12)


def test_softmax_of_other_logits_is_not_merged():
    x, b, y = _vars()
    nll = crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0]
    _, names = _rewrite([x, b, y], [nll, softmax_with_bias(x * 2, b)],
                        smr.graph_merge_softmax_with_crossentropy_softmax)
    assert "SoftmaxWithBias" in names

"""function() on graphs built with the tensor library: the tutorial program, against NumPy."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph import config
from tgraph.gradient import grad
from tgraph.shared import shared
from tlink import BadInputError, FallbackWarning, Mode, function

LINKERS = ["py", "vm", "vm_nogc"]


def _logistic_regression(n, feats, rng):
    x = T.matrix("x")
    y = T.vector("y")
    w = shared(rng.randn(feats) * 0.01, name="w")
    b = shared(np.asarray(0.0), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = grad(cost, [w, b])
    return x, y, w, b, prediction, xent, gw, gb


@pytest.mark.parametrize("linker", LINKERS)
def test_logistic_regression_training_matches_numpy(linker):
    rng = np.random.RandomState(0)
    n, feats = 20, 5
    data_x, data_y = rng.randn(n, feats), rng.randint(0, 2, size=n).astype("float64")
    x, y, w, b, prediction, xent, gw, gb = _logistic_regression(n, feats, rng)
    train = function([x, y], [prediction, xent],
                     updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                     mode=Mode(linker, None), name="train")
    w_np, b_np = w.get_value(), float(b.get_value())
    for _ in range(3):
        p = 1 / (1 + np.exp(-data_x @ w_np - b_np))
        pred, err = train(data_x, data_y)
        np.testing.assert_array_equal(pred, p > 0.5)
        np.testing.assert_allclose(err, -data_y * np.log(p) - (1 - data_y) * np.log(1 - p))
        w_np, b_np = (w_np - 0.1 * (data_x.T @ (p - data_y) / n + 0.02 * w_np),
                      b_np - 0.1 * (p - data_y).mean())
        np.testing.assert_allclose(w.get_value(), w_np)
        np.testing.assert_allclose(b.get_value(), b_np)
    names = {type(node.op).__name__ for node in train.maker.fgraph.toposort()}
    assert any("Dot" in nm for nm in names)


def test_float32_program_refuses_float64_data():
    with config.change_flags(floatX="float32"):
        x = T.matrix("x")
        y = T.vector("y")
        f = function([x, y], (T.dot(x, x.T).sum() + y.sum()), mode=Mode("vm", None),
                     name="train")
        with pytest.raises(BadInputError, match=(
                r'^Bad input argument to theano function "train" at index 0 \(x\): expected a '
                r"float32 matrix, got a float64 ndarray of shape \(400, 784\)\. Cast it "
                r'\(x\.astype\("float32"\)\) or pass allow_input_downcast=True\.')):
            f(np.zeros((400, 784)), np.zeros(400, dtype="float32"))
        g = function([x, y], (x.sum() + y.sum()), mode=Mode("vm", None),
                     allow_input_downcast=True)
        assert g(np.ones((2, 2)), np.ones(3)) == 7.0


def test_elementwise_expression_and_eval():
    x = T.vector("x")
    expr = T.sqr(x) * 3 + 1
    f = function([x], expr, mode=Mode("vm", None))
    np.testing.assert_allclose(f([1.0, 2.0]), [4.0, 13.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FallbackWarning)
        np.testing.assert_allclose(expr.eval({x: np.array([0.0, 1.0])}), [1.0, 4.0])


def test_shared_counter_with_default_update():
    state = shared(np.asarray(0.0), name="state")
    inc = T.scalar("inc")
    state.default_update = state + inc
    f = function([inc], state, mode=Mode("vm", None))
    assert f(1.0) == 0.0 and f(2.0) == 1.0 and state.get_value() == 3.0


def test_givens_with_shared_dataset_minibatch():
    data = shared(np.arange(12.0).reshape(6, 2), name="data")
    x = T.matrix("x")
    index = T.lscalar("index")
    f = function([index], x.sum(), givens={x: data[index * 2:(index + 1) * 2]},
                 mode=Mode("vm", None))
    assert f(0) == 0 + 1 + 2 + 3
    assert f(2) == 8 + 9 + 10 + 11

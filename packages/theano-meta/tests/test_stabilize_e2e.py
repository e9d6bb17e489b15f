"""The seed program's logistic regression stays finite under the stabilizing levels.

The program writes the logistic function by hand, ``1 / (1 + exp(-(x.w) - b))``, and its
cross-entropy with ``log``; for logits around 1e4 that is ``log(0)`` and ``0 * inf``. Under
``optimizer='stabilize'`` and ``'fast_run'`` the rewrites of topt.rewrites.sigmoid_rw make
the cost and its gradient finite; under ``None`` the graph runs as written and is not. With
the seed's own shapes and initialisation, 200 training steps reduce the cost and fit the
training labels.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

import theano
import theano.tensor as T

N, FEATS = 400, 784


def _seed_model(rng, w_scale=1.0):
    floatX = theano.config.floatX
    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared((rng.standard_normal(FEATS) * w_scale).astype(floatX), name="w")
    b = theano.shared(np.asarray(0.0, dtype=floatX), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w**2).sum()
    gw, gb = T.grad(cost, [w, b])
    return x, y, w, b, prediction, xent, cost, gw, gb


def _data(rng):
    floatX = theano.config.floatX
    return (rng.standard_normal((N, FEATS)).astype(floatX),
            rng.integers(0, 2, N).astype(floatX))


def _mode(level):
    return theano.Mode(linker="py", optimizer=level)


@pytest.mark.parametrize("level", ["stabilize", "fast_run"])
def test_cost_and_gradient_finite_for_logits_near_1e4(level):
    rng = np.random.default_rng(0)
    x, y, w, b, _pred, _xent, cost, gw, gb = _seed_model(rng, w_scale=1e4 / np.sqrt(FEATS))
    X, Y = _data(rng)
    z = X @ w.get_value()
    assert np.median(np.abs(z)) > 5e3
    f = theano.function([x, y], [cost, gw, gb], mode=_mode(level))
    c, g_w, g_b = f(X, Y)
    assert np.isfinite(c) and np.isfinite(g_w).all() and np.isfinite(g_b)
    W = w.get_value()
    softplus = np.logaddexp(0, z)
    expected_cost = (Y * (softplus - z) + (1 - Y) * softplus).mean() + 0.01 * (W**2).sum()
    np.testing.assert_allclose(c, expected_cost, rtol=1e-9)
    dz = (expit(z) - Y) / N
    np.testing.assert_allclose(g_w, X.T @ dz + 0.02 * W, rtol=1e-9)
    np.testing.assert_allclose(g_b, dz.sum(), rtol=1e-9, atol=1e-12)


def test_cost_not_finite_without_rewrites():
    rng = np.random.default_rng(0)
    x, y, *_rest, cost, _gw, _gb = _seed_model(rng, w_scale=1e4 / np.sqrt(FEATS))
    X, Y = _data(rng)
    f = theano.function([x, y], cost, mode=_mode("None"))
    assert not np.isfinite(f(X, Y))


def test_seed_training_reduces_the_cost_and_fits():
    # The seed's shapes and initialisation; its learning rate 0.01 needs ~2000 of its 10000
    # steps to fit the training labels, 0.1 does it in the 200 steps a test can afford.
    lr = 0.1
    rng = np.random.default_rng(1)
    x, y, w, b, prediction, xent, cost, gw, gb = _seed_model(rng)
    X, Y = _data(rng)
    train = theano.function(inputs=[x, y], outputs=[prediction, xent],
                            updates=[(w, w - lr * gw), (b, b - lr * gb)],
                            name="train", mode=_mode("fast_run"))
    predict = theano.function(inputs=[x], outputs=prediction, name="predict",
                              mode=_mode("fast_run"))
    cost_of = theano.function([x, y], cost, mode=_mode("fast_run"))
    start = cost_of(X, Y)
    assert np.isfinite(start)
    for _ in range(200):
        pred, err = train(X, Y)
        assert np.isfinite(err).all()
    end = cost_of(X, Y)
    assert end < start
    assert (predict(X) == Y).mean() > 0.8

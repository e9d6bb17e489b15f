"""A function compiled with rewrites pickles: the seed's training function, saved mid-training.

tests/test_function_copy.py pickles functions compiled without rewrites; with an optimizer the
FunctionGraph carries the rewrite engine's features, whose methods must pickle too. The
unpickled function has its own shared values and trains on exactly as the original does.
"""

from __future__ import annotations

import pickle

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph import config
from tgraph.gradient import grad
from tgraph.shared import shared
from tlink import Mode, function

TOPT = pytest.importorskip("topt", reason="rewrites need topt")


def _train(rng, feats, optimizer):
    x, y = T.matrix("x"), T.vector("y")
    w = shared(rng.randn(feats).astype(config.floatX), name="w")
    b = shared(np.asarray(0.0, dtype=config.floatX), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = grad(cost, [w, b])
    return function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)],
                    mode=Mode("py", optimizer), name="train"), w


@pytest.mark.parametrize("optimizer", ["fast_compile", "fast_run"])
@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_pickled_training_function_continues_like_the_original(optimizer, floatx):
    rng = np.random.RandomState(3)
    with config.change_flags(floatX=floatx):
        train, w = _train(rng, 6, optimizer)
        data = (rng.randn(15, 6).astype(floatx), rng.randint(0, 2, 15).astype(floatx))
        train(*data)
        clone = pickle.loads(pickle.dumps(train))
        assert clone.name == "train"
        for _ in range(3):
            pred_a, err_a = train(*data)
            pred_b, err_b = clone(*data)
            np.testing.assert_array_equal(pred_a, pred_b)
            np.testing.assert_array_equal(err_a, err_b)
            assert err_b.dtype == np.dtype(floatx)
        w_clone = next(i.variable for i in clone.maker.inputs if i.variable.name == "w")
        assert w_clone is not w
        np.testing.assert_array_equal(w_clone.get_value(), w.get_value())
        # The clone's state is its own: training it leaves the original's weights alone.
        before = w.get_value().copy()
        clone(*data)
        np.testing.assert_array_equal(w.get_value(), before)
        assert not np.array_equal(w_clone.get_value(), before)

"""The seed's program, end to end: the example script's output, training, dtypes, test values.

The seed is the Theano 1.0 tutorial's logistic regression (``examples/logistic_regression.py``)
with its float32 exercise. These tests run the script as the README does, under both floatX
values, then rebuild the same graph in-process to check what the printout cannot show: the
cost falls with the seed's own learning rate, every variable, output and update stays float32
under ``floatX=float32``, and a feature-size mistake is reported while the graph is built.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import theano
import theano.tensor as T
from theano.gof import TestValueError

N, FEATS = 400, 784
_EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "logistic_regression.py"
FLOATX = pytest.mark.parametrize("floatx", ["float32", "float64"])


def _run_example(floatx: str, steps: int) -> str:
    env = dict(os.environ)
    env["THEANO_FLAGS"] = f"floatX={floatx}"
    env.pop("THEANORC", None)
    proc = subprocess.run([sys.executable, str(_EXAMPLE), str(steps)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.skipif(not _EXAMPLE.exists(), reason="the examples/ folder is not in this checkout")
@FLOATX
def test_example_script_prints_the_seed_lines(floatx):
    out = _run_example(floatx, 200)
    lines = out.splitlines()
    assert lines[0] == "Used the cpu"
    assert "target values for D" in lines and "prediction on D" in lines
    targets_at, pred_at = lines.index("target values for D"), lines.index("prediction on D")
    assert targets_at < pred_at
    targets = re.findall(r"\b([01])\.", "\n".join(lines[targets_at + 1:pred_at]))
    accuracy_at = next(i for i, ln in enumerate(lines) if ln.startswith("accuracy on D"))
    predictions = re.findall(r"\b(True|False)\b", "\n".join(lines[pred_at + 1:accuracy_at]))
    assert len(targets) == N and set(targets) == {"0", "1"}
    assert len(predictions) == N
    # The printed accuracy is what the printed targets and predictions say.
    agree = np.mean([t == ("1" if p == "True" else "0") for t, p in zip(targets, predictions)])
    assert float(lines[accuracy_at].split()[-1]) == pytest.approx(agree)


def _seed_model(rng):
    """The seed's graph, as the script writes it (floatX is read when the graph is built)."""
    floatx = theano.config.floatX
    data = (rng.randn(N, FEATS).astype(floatx), rng.randint(size=N, low=0, high=2).astype(floatx))
    x = T.matrix("x")
    y = T.vector("y")
    w = theano.shared(rng.randn(FEATS).astype(floatx), name="w")
    b = theano.shared(np.asarray(0.0, dtype=floatx), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    updates = [(w, w - 0.01 * gw), (b, b - 0.01 * gb)]
    return data, x, y, w, b, prediction, xent, cost, updates


@FLOATX
def test_seed_training_with_its_own_learning_rate_lowers_the_cost(floatx):
    with theano.change_flags(floatX=floatx):
        rng = np.random.RandomState(1234)
        data, x, y, w, b, prediction, xent, cost, updates = _seed_model(rng)
        train = theano.function([x, y], [prediction, xent], updates=updates, name="train")
        cost_of = theano.function([x, y], cost, name="cost")
        start = cost_of(*data)
        errs = []
        for _ in range(300):
            _pred, err = train(*data)
            errs.append(float(err.mean()))
        end = cost_of(*data)
    assert np.isfinite(start) and np.isfinite(end)
    assert end < 0.9 * start
    # The cross-entropy itself falls too, not only the weight penalty.
    assert errs[-1] < errs[0]
    assert np.all(np.diff(errs[::50]) < 0)


def test_float32_program_stays_float32_everywhere():
    with theano.change_flags(floatX="float32"):
        rng = np.random.RandomState(7)
        data, x, y, w, b, prediction, xent, cost, updates = _seed_model(rng)
        assert {v.type.dtype for v in (x, y, w, b, xent, cost)} == {"float32"}
        assert prediction.type.dtype == "bool"
        assert [new.type.dtype for _, new in updates] == ["float32", "float32"]
        train = theano.function([x, y], [prediction, xent], updates=updates, name="train")
        assert [i.type.dtype for i in train.maker.fgraph.inputs[:2]] == ["float32", "float32"]
        for _ in range(3):
            pred, err = train(*data)
        assert pred.dtype == np.bool_ and pred.shape == (N,)
        assert err.dtype == np.float32 and err.shape == (N,)
        assert w.get_value().dtype == np.float32 and w.get_value().shape == (FEATS,)
        assert b.get_value().dtype == np.float32 and b.get_value().shape == ()
        # No float64 node anywhere in the compiled training graph.
        wide = [(node.op, out.type.dtype) for node in train.maker.fgraph.toposort()
                for out in node.outputs if getattr(out.type, "dtype", None) == "float64"]
        assert wide == []


def test_float32_mean_stays_float32_but_dividing_by_a_length_upcasts():
    # The seed warns that the mean divides by a length, an int64. mean() divides by the
    # length cast to float32 (as Theano 1.0's did); writing the division by hand upcasts,
    # and the seed's advice (a manual cast) brings it back.
    with theano.change_flags(floatX="float32"):
        v = T.vector("v")
        assert v.mean().type.dtype == "float32"
        by_hand = v.sum() / v.shape[0]
        assert v.shape[0].type.dtype == "int64"
        assert by_hand.type.dtype == "float64"
        assert (v.sum() / T.cast(v.shape[0], "float32")).type.dtype == "float32"
        f = theano.function([v], [v.mean(), by_hand])
        values = np.arange(5, dtype="float32")
        m, h = f(values)
        assert m.dtype == np.float32 and h.dtype == np.float64
        assert m == pytest.approx(2.0) and h == pytest.approx(2.0)


def test_wrong_feature_size_is_reported_while_the_graph_is_built():
    rng = np.random.RandomState(0)
    with theano.change_flags(compute_test_value="raise"):
        floatx = theano.config.floatX
        x = T.matrix("x")
        w = theano.shared(rng.randn(FEATS).astype(floatx), name="w")
        x.tag.test_value = rng.randn(N, FEATS - 1).astype(floatx)
        with pytest.raises(TestValueError,
                           match=r"^dot failed on the test values of its inputs \(shape "
                                 r"\(400, 783\) \w+, shape \(784,\) \w+\)"):
            T.dot(x, w)


def test_wrong_label_count_is_reported_at_the_elementwise_op():
    with theano.change_flags(compute_test_value="raise"):
        floatx = theano.config.floatX
        p = T.vector("p")
        y = T.vector("y")
        p.tag.test_value = np.full(N, 0.5, dtype=floatx)
        y.tag.test_value = np.zeros(N - 1, dtype=floatx)
        with pytest.raises(TestValueError,
                           match=r"^Elemwise\{mul,no_inplace\} failed on the test values.*"
                                 r"shape \(399,\).*shape \(400,\)"):
            -y * T.log(p)

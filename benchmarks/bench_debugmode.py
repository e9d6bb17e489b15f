"""Issue 7's DebugMode budget: one call under DebugMode against one under FAST_COMPILE.

The workload is the seed's logistic regression (examples/logistic_regression.py: N=400,
feats=784), its training function with both updates, compiled once with
``mode='FAST_COMPILE'`` and once with ``mode='DebugMode'`` (every check DebugMode runs by
default: Python and C per node, destroy/view maps, types and finiteness, every recorded
rewrite re-checked). The issue's target is a ratio of at most 20. Also printed: the same
step in plain NumPy (for scale) and DebugMode's compile time, which optimizes the graph
``DebugMode.patience`` times. Each figure is the best of ``--repeat`` runs of ``--number``
calls. Nothing is asserted.

    python benchmarks/bench_debugmode.py [--repeat 5] [--number 10]
"""

from __future__ import annotations

import argparse
import time
import timeit

import numpy as np


def _best(fn, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def build(mode: str, floatx: str):
    """The seed's ``train`` function compiled with ``mode``, its data, and compile time."""
    import theano
    import theano.tensor as T

    with theano.config.change_flags(floatX=floatx):  # the seed's constants follow floatX
        return _build(theano, T, mode, floatx)


def _build(theano, T, mode: str, floatx: str):
    rng = np.random.default_rng(0)
    n, feats = 400, 784
    data = (rng.standard_normal((n, feats)).astype(floatx),
            rng.integers(0, 2, size=n).astype(floatx))
    x, y = T.matrix("x", dtype=floatx), T.vector("y", dtype=floatx)
    w = theano.shared(rng.standard_normal(feats).astype(floatx), name="w")
    b = theano.shared(np.asarray(0.0, dtype=floatx), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    t0 = time.perf_counter()
    train = theano.function([x, y], [prediction, xent],
                            updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)], mode=mode)
    return train, data, time.perf_counter() - t0


def numpy_step(data, w, b):
    x, y = data
    p = 1 / (1 + np.exp(-x.dot(w) - b))
    xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
    g = (p - y) / len(y)
    return p > 0.5, xent, w - 0.01 * (x.T.dot(g) + 0.02 * w), b - 0.01 * g.sum()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=10)
    parser.add_argument("--floatX", default="float64", choices=["float32", "float64"])
    args = parser.parse_args()

    fast, data, t_fast = build("FAST_COMPILE", args.floatX)
    debug, _, t_debug = build("DebugMode", args.floatX)
    fast(*data)
    debug(*data)  # first calls: allocation, C module loading
    t_call_fast = _best(lambda: fast(*data), args.number, args.repeat)
    t_call_debug = _best(lambda: debug(*data), args.number, args.repeat)
    w = np.zeros(784, dtype=args.floatX)
    t_np = _best(lambda: numpy_step(data, w, 0.0), args.number, args.repeat)
    ratio = t_call_debug / t_call_fast
    print(f"seed train step, N=400 feats=784, {args.floatX}")
    print(f"  NumPy step          {t_np * 1e3:9.3f} ms")
    print(f"  FAST_COMPILE call   {t_call_fast * 1e3:9.3f} ms   (compile {t_fast:.2f} s)")
    print(f"  DebugMode call      {t_call_debug * 1e3:9.3f} ms   (compile {t_debug:.2f} s, "
          f"{len(debug.maker.fgraph.apply_nodes)} nodes)")
    print(f"  DebugMode / FAST_COMPILE per call: {ratio:.1f}x   (target <= 20x)")


if __name__ == "__main__":
    main()

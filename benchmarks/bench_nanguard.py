"""What does NanGuardMode cost? The seed's training step under FAST_RUN and NanGuardMode.

Issue 7 asks for NanGuardMode's overhead on the seed's program (examples/logistic_regression.py:
N=400, feats=784, float32) to be at most 2x FAST_RUN per call. This script compiles the
seed's ``train`` function under both modes, checks they compute the same thing, and times
calls interleaved (best of several repeats, so a busy machine hurts both alike). It prints
microseconds per call and the ratio NanGuardMode / FAST_RUN, plus the NumPy cost of one
``vdot`` over the input matrix (the bulk of the checks) as a baseline measured in this run.
Nothing is asserted: timings depend on the machine.

    python benchmarks/bench_nanguard.py [--loops N] [--repeat R]
"""

from __future__ import annotations

import argparse
import timeit

import numpy as np

import theano
import theano.tensor as T
from theano.compile.nanguardmode import NanGuardMode


def seed_train(mode):
    """The seed's ``train`` function compiled with ``mode``, and its data."""
    rng = np.random.RandomState(0)
    n, feats = 400, 784
    data = (rng.randn(n, feats).astype("float32"),
            rng.randint(size=n, low=0, high=2).astype("float32"))
    x = T.matrix("x", dtype="float32")
    y = T.vector("y", dtype="float32")
    w = theano.shared(rng.randn(feats).astype("float32"), name="w")
    b = theano.shared(np.asarray(0.0, dtype="float32"), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theano.function([x, y], [prediction, xent],
                            updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)],
                            name="train", mode=mode)
    return train, data, w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    theano.config.floatX = "float32"  # the seed's setting (THEANO_FLAGS=floatX=float32)

    fast, data, w_fast = seed_train("FAST_RUN")
    guard, _, w_guard = seed_train(NanGuardMode(True, True, True))
    for _ in range(20):
        a = fast(*data)
        b = guard(*data)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-4)
    np.testing.assert_allclose(w_fast.get_value(), w_guard.get_value(), rtol=1e-4)

    best = {"FAST_RUN": float("inf"), "NanGuardMode": float("inf")}
    for _ in range(args.repeat):
        for name, f in (("FAST_RUN", fast), ("NanGuardMode", guard)):
            t = timeit.timeit(lambda f=f: f(*data), number=args.loops) / args.loops
            best[name] = min(best[name], t)
    xs = data[0]
    vdot = min(timeit.repeat(lambda: np.vdot(xs, xs), number=args.loops,
                             repeat=args.repeat)) / args.loops

    print(f"seed train step, N=400 feats=784 float32, best of {args.repeat} x {args.loops}")
    print(f"  FAST_RUN       {best['FAST_RUN'] * 1e6:9.1f} us/call")
    print(f"  NanGuardMode   {best['NanGuardMode'] * 1e6:9.1f} us/call")
    print(f"  numpy vdot(x, x) over the input matrix: {vdot * 1e6:.1f} us")
    print(f"NanGuardMode / FAST_RUN ratio: {best['NanGuardMode'] / best['FAST_RUN']:.2f} "
          "(target <= 2.00)")


if __name__ == "__main__":
    main()

"""Issue 6's performance table: this system against hand-written NumPy, measured in one run.

Rows (float32 throughout, as the issue asks):

* ``seed step``: one training step of the seed's logistic regression (N=400, feats=784),
  steady state, against the same step written with NumPy;
* ``scalar call``: ``f(x)`` for ``f = function([x], x + 1)``, x a float32 scalar, default
  call (inputs checked), against calling a Python function doing ``numpy.add(x, 1)``;
* ``MLP step``: one SGD step of a 784-500-10 MLP (tanh, softmax, categorical
  crossentropy) on a batch of 256, against NumPy;
* ``elemwise chain``: 12 elementwise ops (tanh, exp, mul, add, sub, ...) on three float32
  vectors of 1e6 elements, against the same NumPy expression (one temporary per op);
* ``compile cold`` / ``compile warm``: compiling the seed's two functions in a new process,
  with an empty compile cache and then with the cache it left (seconds, no ratio);
* ``import theano``: in a new process, less the interpreter's own start-up (seconds).

Each timing is the best of ``--repeat`` runs of ``--number`` calls (timeit), so figures are
per call. Nothing is asserted: the table prints the figures and the ratio to the baseline
(lower is better), next to the issue's target. With ``--anchors DIR``, the same workloads
also run under ``DIR/theano/bin/python`` (Theano 1.0.5) and ``DIR/pytensor/bin/python``
where those virtual environments exist (this script imports the API it is given).

    python benchmarks/bench_tlink.py [--repeat 5] [--number N] [--anchors DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import timeit

import numpy as np

TARGETS = {
    "seed step": "<= 0.6 x NumPy",
    "scalar call": "<= 1.0 us",
    "MLP step": "<= 0.9 x NumPy",
    "elemwise chain": "<= 0.4 x NumPy",
    "compile cold": "<= 1.5 s",
    "compile warm": "<= 0.15 s",
    "import theano": "<= 0.3 s",
}


def _best(fn, number: int, repeat: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def _api(impl: str):
    if impl == "pytensor":
        import pytensor as theano
        import pytensor.tensor as T
    else:
        import theano
        import theano.tensor as T
    return theano, T


# ---------------------------------------------------------------------------------------------
# workloads: each returns (system seconds, NumPy seconds)


def seed_step(impl: str, number: int, repeat: int) -> tuple[float, float]:
    theano, T = _api(impl)
    rng = np.random.RandomState(0)
    N, feats = 400, 784
    D = (rng.randn(N, feats).astype("float32"), rng.randint(0, 2, N).astype("float32"))
    x, y = T.fmatrix("x"), T.fvector("y")
    w = theano.shared(rng.randn(feats).astype("float32"), name="w")
    b = theano.shared(np.float32(0.0), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])
    train = theano.function([x, y], [prediction, xent],
                            updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)])
    ours = _best(lambda: train(D[0], D[1]), number, repeat)

    wn, bn = rng.randn(feats).astype("float32"), np.float32(0.0)
    X, Y = D

    @np.errstate(all="ignore")  # the seed's logits overflow exp in float32, as they do here
    def numpy_step():
        nonlocal wn, bn
        p = 1 / (1 + np.exp(-(X @ wn) - bn))
        pred = p > 0.5
        xe = -Y * np.log(p) - (1 - Y) * np.log(1 - p)
        g = (p - Y) / np.float32(N)
        gwn = X.T @ g + np.float32(0.02) * wn
        gbn = g.sum()
        wn = wn - np.float32(0.01) * gwn
        bn = bn - np.float32(0.01) * gbn
        return pred, xe

    return ours, _best(numpy_step, number, repeat)


def scalar_call(impl: str, number: int, repeat: int) -> tuple[float, float]:
    theano, T = _api(impl)
    x = T.fscalar("x")
    f = theano.function([x], x + 1)
    v = np.float32(2.0)
    one = np.float32(1)

    def plain(a):
        return np.add(a, one)

    return _best(lambda: f(v), number * 20, repeat), _best(lambda: plain(v), number * 20, repeat)


def mlp_step(impl: str, number: int, repeat: int) -> tuple[float, float]:
    theano, T = _api(impl)
    rng = np.random.RandomState(1)
    batch, n_in, n_hid, n_out = 256, 784, 500, 10
    X = rng.randn(batch, n_in).astype("float32")
    Y = rng.randint(0, n_out, batch).astype("int64")
    params = [rng.randn(n_in, n_hid).astype("float32") * 0.01, np.zeros(n_hid, "float32"),
              rng.randn(n_hid, n_out).astype("float32") * 0.01, np.zeros(n_out, "float32")]
    W1, b1, W2, b2 = (theano.shared(p.copy()) for p in params)
    x, y = T.fmatrix("x"), T.lvector("y")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(cost, [W1, b1, W2, b2])
    lr = np.float32(0.1)
    train = theano.function([x, y], cost, updates=[(v, v - lr * g)
                                                  for v, g in zip([W1, b1, W2, b2], grads)])
    ours = _best(lambda: train(X, Y), number, repeat)

    w1, c1, w2, c2 = (q.copy() for q in params)
    rows = np.arange(batch)

    def numpy_step():
        nonlocal w1, c1, w2, c2
        hh = np.tanh(X @ w1 + c1)
        z = hh @ w2 + c2
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e / e.sum(axis=1, keepdims=True)
        c = -np.log(s[rows, Y]).mean()
        dz = s
        dz[rows, Y] -= 1
        dz /= np.float32(batch)
        gw2, gc2 = hh.T @ dz, dz.sum(axis=0)
        dh = (dz @ w2.T) * (1 - hh * hh)
        gw1, gc1 = X.T @ dh, dh.sum(axis=0)
        w1, c1, w2, c2 = w1 - lr * gw1, c1 - lr * gc1, w2 - lr * gw2, c2 - lr * gc2
        return c

    return ours, _best(numpy_step, number, repeat)


def elemwise_chain(impl: str, number: int, repeat: int) -> tuple[float, float]:
    theano, T = _api(impl)
    rng = np.random.RandomState(2)
    a, b, c = (rng.rand(10 ** 6).astype("float32") for _ in range(3))
    x, y, z = T.fvectors("x", "y", "z")
    half = np.float32(0.5)

    def chain(lib, x, y, z):  # 12 ops
        return (lib.tanh(x) * lib.exp(-y) + x * y - lib.tanh(z) * half
                + lib.exp(z * half) - x / (y + 1) * z)

    f = theano.function([x, y, z], chain(T, x, y, z))
    return (_best(lambda: f(a, b, c), number, repeat),
            _best(lambda: chain(np, a, b, c), number, repeat))


_COMPILE_SNIPPET = """
import time
t0 = time.perf_counter()
import numpy, theano, theano.tensor as T
t1 = time.perf_counter()
x, y = T.fmatrix("x"), T.fvector("y")
w = theano.shared(numpy.zeros(784, "float32"), name="w")
b = theano.shared(numpy.float32(0), name="b")
p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
cost = xent.mean() + 0.01 * (w ** 2).sum()
gw, gb = T.grad(cost, [w, b])
train = theano.function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)])
predict = theano.function([x], p_1 > 0.5)
print(time.perf_counter() - t1)
"""


def compile_times(python: str, impl: str) -> tuple[float, float]:
    """Seconds to compile the seed's functions in a new process: empty cache, then warm."""
    snippet = _COMPILE_SNIPPET.replace("import numpy, theano, theano.tensor as T",
                                       "import numpy, pytensor as theano, pytensor.tensor as T"
                                       ) if impl == "pytensor" else _COMPILE_SNIPPET
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, THEANO_FLAGS=f"base_compiledir={cache},floatX=float32",
                   PYTENSOR_FLAGS=f"base_compiledir={cache},floatX=float32")
        times = []
        for _ in range(2):
            out = subprocess.run([python, "-c", snippet], env=env, capture_output=True,
                                 text=True, check=True, timeout=600)
            times.append(float(out.stdout.strip().splitlines()[-1]))
    return times[0], times[1]


def import_time(python: str, module: str) -> float:
    """Seconds for ``import <module>`` in a new process, less a bare interpreter start."""
    def run(code: str) -> float:
        best = float("inf")
        for _ in range(5):
            t = timeit.default_timer()
            subprocess.run([python, "-c", code], check=True, capture_output=True, timeout=120)
            best = min(best, timeit.default_timer() - t)
        return best

    return max(run(f"import {module}") - run("pass"), 0.0)


# ---------------------------------------------------------------------------------------------


def measure(impl: str, number: int, repeat: int) -> dict:
    rows = {}
    rows["seed step"] = seed_step(impl, number, repeat)
    rows["scalar call"] = scalar_call(impl, number, repeat)
    rows["MLP step"] = mlp_step(impl, max(number // 10, 1), repeat)
    rows["elemwise chain"] = elemwise_chain(impl, max(number // 10, 1), repeat)
    cold, warm = compile_times(sys.executable, impl)
    rows["compile cold"] = (cold, None)
    rows["compile warm"] = (warm, None)
    rows["import theano"] = (import_time(sys.executable,
                                         "pytensor" if impl == "pytensor" else "theano"), None)
    return rows


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:9.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds:9.2f} s "


def print_table(title: str, rows: dict) -> None:
    print(f"\n{title}")
    print(f"{'workload':<16} {'this system':>13} {'NumPy':>13} {'ratio':>7}   target")
    for name, (ours, base) in rows.items():
        ratio = f"{ours / base:7.2f}" if base else "      -"
        base_s = _fmt(base) if base else "            -"
        print(f"{name:<16} {_fmt(ours):>13} {base_s:>13} {ratio}   {TARGETS[name]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--anchors", default=None,
                        help="folder with virtual environments 'theano' and/or 'pytensor'")
    parser.add_argument("--impl", default="theano", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:  # worker mode, for anchors
        print(json.dumps(measure(args.impl, args.number, args.repeat)))
        return
    import theano

    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, theano (this system) "
          f"{getattr(theano, '__version__', '?')}, linker {theano.config.linker}, "
          f"optimizer {theano.config.optimizer}")
    print_table("this system", measure("theano", args.number, args.repeat))
    if args.anchors:
        for env, impl in (("theano", "theano"), ("pytensor", "pytensor")):
            python = os.path.join(args.anchors, env, "bin", "python")
            if not os.path.exists(python):
                print(f"\n(anchor {env}: no {python}, skipped)")
                continue
            out = subprocess.run([python, __file__, "--json", "--impl", impl, "--number",
                                  str(args.number), "--repeat", str(args.repeat)],
                                 capture_output=True, text=True, timeout=3600,
                                 env=dict(os.environ, THEANO_FLAGS="floatX=float32",
                                          PYTENSOR_FLAGS="floatX=float32"))
            if out.returncode != 0:
                print(f"\n(anchor {env} failed: {out.stderr.strip().splitlines()[-1:]})")
                continue
            print_table(f"anchor: {env}", {k: tuple(v) for k, v in
                                           json.loads(out.stdout).items()})


if __name__ == "__main__":
    os.environ.setdefault("THEANO_FLAGS", "floatX=float32")
    if "floatX" not in os.environ["THEANO_FLAGS"]:
        os.environ["THEANO_FLAGS"] += ",floatX=float32"
    main()

"""Does each optimizer level buy what the seed's table says? Nodes, compile and run time per level.

Issue 5 promises a real trade-off: from ``o4`` towards ``None`` compilation gets cheaper and the
compiled function slower. This script measures both for two float32 programs at every level
of :mod:`topt.levels` (``None``, ``o1``, ``o2``, ``o3``, ``o4``, ``unsafe``, ``stabilize``):

* ``seed``: the seed's logistic regression training step (N=400, feats=784), as in
  ``examples/logistic_regression.py``;
* ``mlp``: one SGD step of a 784-500-10 MLP (tanh hidden layer, softmax, categorical
  crossentropy) on a batch of 256.

Each (program, level) is compiled in a new process with its own empty ``compiledir`` (through
``THEANO_FLAGS``), so every level starts from the same cold C cache; the process first compiles
a tiny unrelated graph, so imports and first-use costs are not charged to the level:

* ``nodes``: Apply nodes of the compiled graph (``train.maker.fgraph``);
* ``cold s``: ``theano.function`` on a fresh graph with the empty cache (gcc runs), and
  ``opt s``, the optimizer's part of it (ProfileStats' optimizer time);
* ``warm s``: ``theano.function`` on another fresh graph of the same program in the same
  process, once the cache holds its modules (the optimizer, code generation, cache look-ups).

Then one more process compiles the program at every level and times the calls, one call of
each level in turn (so a change in the machine's load hits all levels alike):

* ``run ms``: median wall time of one call over ``--calls`` calls, after 3 warm-up calls
  (BLAS limited to ``--blas-threads`` threads, 1 by default).
  The seed's ``w`` and ``b`` are reset (untimed) before each call: without the stabilising
  rewrites its float32 gradient is NaN after the first step, and every level should run on
  the same numbers.

Every figure also prints as a ratio to the ``o4`` row (lower is cheaper). The default linker
(``config.linker``, the C VM) is used. Nothing is asserted: timings depend on the machine and on
what else runs on it; run it on a quiet machine.

    python benchmarks/bench_topt_levels.py [--programs seed,mlp] [--levels None,o1,...]
        [--calls N] [--blas-threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

LEVELS = ["None", "o1", "o2", "o3", "o4", "unsafe", "stabilize"]
PROGRAMS = ["seed", "mlp"]
DEFAULT_CALLS = {"seed": 100, "mlp": 25}


def build_seed(theano, T, rng):
    """The seed's training function's graph: ``(inputs, outputs, updates, data, reset)``."""
    N, feats = 400, 784
    data = (rng.randn(N, feats).astype("float32"), rng.randint(0, 2, N).astype("float32"))
    w0 = rng.randn(feats).astype("float32")
    x, y = T.fmatrix("x"), T.fvector("y")
    w = theano.shared(w0.copy(), name="w")
    b = theano.shared(np.float32(0.0), name="b")
    p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
    prediction = p_1 > 0.5
    xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
    cost = xent.mean() + 0.01 * (w ** 2).sum()
    gw, gb = T.grad(cost, [w, b])

    def reset() -> None:
        w.set_value(w0, borrow=False)
        b.set_value(np.float32(0.0))

    return ([x, y], [prediction, xent], [(w, w - 0.01 * gw), (b, b - 0.01 * gb)], data,
            reset)


def build_mlp(theano, T, rng):
    """One SGD step of a 784-500-10 MLP: ``(inputs, outputs, updates, data, reset)``."""
    batch, n_in, n_hid, n_out = 256, 784, 500, 10
    data = (rng.randn(batch, n_in).astype("float32"),
            rng.randint(0, n_out, batch).astype("int64"))
    W1 = theano.shared((rng.randn(n_in, n_hid) * 0.01).astype("float32"), name="W1")
    b1 = theano.shared(np.zeros(n_hid, "float32"), name="b1")
    W2 = theano.shared((rng.randn(n_hid, n_out) * 0.01).astype("float32"), name="W2")
    b2 = theano.shared(np.zeros(n_out, "float32"), name="b2")
    x, y = T.fmatrix("x"), T.lvector("y")
    h = T.tanh(T.dot(x, W1) + b1)
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    params = [W1, b1, W2, b2]
    grads = T.grad(cost, params)
    lr = np.float32(0.1)
    # The MLP's step is stable at every level: no reset needed.
    return [x, y], [cost], [(v, v - lr * g) for v, g in zip(params, grads)], data, None


BUILDERS = {"seed": build_seed, "mlp": build_mlp}


def _mode(theano, level: str):
    return theano.Mode(optimizer=None if level == "None" else level)


def compile_worker(program: str, level: str) -> dict:
    """Compile times of one (program, level); the caller gave this process a fresh compiledir."""
    import theano
    import theano.tensor as T
    from tgraph.graph.basic import io_toposort
    from theano.compile.profiling import ProfileStats

    # First-use costs (imports, compiler probe) on a graph that shares no C with the programs.
    i = T.iscalar("i")
    theano.function([i], i * 3, mode=_mode(theano, level))(2)

    build = BUILDERS[program]
    inputs, outputs, updates, _, _ = build(theano, T, np.random.RandomState(0))
    before = len(io_toposort([], outputs + [u for _, u in updates]))
    profile = ProfileStats(atexit_print=False)
    start = time.perf_counter()
    theano.function(inputs, outputs, updates=updates, mode=_mode(theano, level),
                    profile=profile)
    cold = time.perf_counter() - start

    inputs, outputs, updates, _, _ = build(theano, T, np.random.RandomState(0))
    start = time.perf_counter()
    f = theano.function(inputs, outputs, updates=updates, mode=_mode(theano, level))
    warm = time.perf_counter() - start
    return {"before": before, "after": len(f.maker.fgraph.apply_nodes), "cold": cold,
            "opt": profile.optimizer_time, "warm": warm}


def run_worker(program: str, levels: list[str], calls: int) -> dict:
    """Median seconds per call of ``program`` at each level, the levels' calls interleaved.

    Interleaving (one call of each level in turn) spreads any change in the machine's load
    over all levels alike, which timing the levels one after the other would not.
    """
    import theano
    import theano.tensor as T

    warnings.simplefilter("ignore", RuntimeWarning)  # the seed's NaN where not stabilised
    fns = {}
    for level in levels:
        inputs, outputs, updates, data, reset = BUILDERS[program](
            theano, T, np.random.RandomState(0))
        fns[level] = (theano.function(inputs, outputs, updates=updates,
                                      mode=_mode(theano, level)), data, reset)
    times: dict[str, list[float]] = {level: [] for level in levels}
    for k in range(calls + 3):
        for j in range(len(levels)):  # each round starts one level further on
            level = levels[(k + j) % len(levels)]
            f, data, reset = fns[level]
            if reset is not None:
                reset()
            start = time.perf_counter()
            f(*data)
            if k >= 3:  # the first calls allocate outputs and warm caches
                times[level].append(time.perf_counter() - start)
    return {level: statistics.median(t) for level, t in times.items()}


def _subprocess(args: list[str], blas_threads: int) -> dict:
    """Run this script with ``args`` in a new process with an empty compile directory."""
    cache = tempfile.mkdtemp(prefix="bench_topt_levels_")
    try:
        flags = os.environ.get("THEANO_FLAGS", "")
        flags = ",".join(f for f in (flags, "floatX=float32", f"compiledir={cache}") if f)
        env = dict(os.environ, THEANO_FLAGS=flags)
        if blas_threads:
            for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
                env[var] = str(blas_threads)
        out = subprocess.run([sys.executable, __file__, *args], env=env, capture_output=True,
                             text=True, timeout=600)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1:] or ["(no output)"]
        return {"error": tail[0]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(program: str, levels: list[str], calls: int, blas_threads: int) -> dict:
    """Rows of one program: compile figures per level (one process each), then run times."""
    rows = {level: _subprocess(["--compile-worker", program, level], blas_threads)
            for level in levels}
    runs = _subprocess(["--run-worker", program, ",".join(levels), "--calls", str(calls)],
                       blas_threads)
    for level, row in rows.items():
        if "error" in runs:
            row.setdefault("error", runs["error"])
        else:
            row["run"] = runs[level]
    return rows


def _ratio(value: float, base: float) -> str:
    return f"{value / base:6.2f}" if base else "     -"


def print_table(program: str, rows: dict, base: dict) -> None:
    """One program's rows; ``base`` is the o4 row the ratios divide by."""
    before = next((r["before"] for r in rows.values() if "before" in r), "?")
    print(f", {before} nodes before rewriting; ratios are to the o4 row")
    header = (f"{'level':<10} {'nodes':>5} {'x o4':>6} {'cold s':>7} {'x o4':>6} "
              f"{'opt s':>6} {'x o4':>6} {'warm s':>7} {'x o4':>6} {'run ms':>8} {'x o4':>6}")
    print(header)
    print("-" * len(header))
    for level, r in rows.items():
        if "error" in r:
            print(f"{level:<10} failed: {r['error']}")
            continue
        print(f"{level:<10} {r['after']:5d} {_ratio(r['after'], base.get('after'))} "
              f"{r['cold']:7.2f} {_ratio(r['cold'], base.get('cold'))} "
              f"{r['opt']:6.3f} {_ratio(r['opt'], base.get('opt'))} "
              f"{r['warm']:7.3f} {_ratio(r['warm'], base.get('warm'))} "
              f"{r['run'] * 1e3:8.3f} {_ratio(r['run'], base.get('run'))}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", default=",".join(PROGRAMS),
                        help=f"comma-separated, of {', '.join(PROGRAMS)}")
    parser.add_argument("--levels", default=",".join(LEVELS),
                        help=f"comma-separated, of {', '.join(LEVELS)}")
    parser.add_argument("--calls", type=int, default=None,
                        help="timed calls per level (default: seed 100, mlp 25)")
    parser.add_argument("--blas-threads", type=int, default=1,
                        help="BLAS threads in the measuring processes (0: as the environment "
                             "says); 1 by default, as on a shared machine a second BLAS "
                             "thread waiting for a core makes the MLP's timings erratic")
    parser.add_argument("--compile-worker", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--run-worker", nargs=2, help=argparse.SUPPRESS)
    args, _unknown = parser.parse_known_args(argv)  # nox passes the same options to all
    if args.compile_worker:
        print(json.dumps(compile_worker(*args.compile_worker)))
        return
    if args.run_worker:
        program, levels = args.run_worker
        print(json.dumps(run_worker(program, levels.split(","), args.calls or 1)))
        return
    levels = [lv for lv in args.levels.split(",") if lv]
    order = ["o4"] + [lv for lv in levels if lv != "o4"]  # o4 first: the ratios' base
    print(f"Python {platform.python_version()}, numpy {np.__version__}, {platform.machine()}, "
          f"{os.cpu_count()} cpus, BLAS threads {args.blas_threads or 'as set'}; float32; "
          "default linker; a cold compiledir per level")
    for program in [p for p in args.programs.split(",") if p]:
        calls = args.calls or DEFAULT_CALLS[program]
        print(f"\n{program}: run = median of {calls} calls per level", end="")
        results = measure(program, order, calls, args.blas_threads)
        print_table(program, {level: results[level] for level in levels}, results["o4"])


if __name__ == "__main__":
    main()

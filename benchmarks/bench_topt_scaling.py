"""How does compile time under FAST_RUN grow with the graph? Graphs of about 1,000 to 10,000 nodes.

The rewriting engine (topt) keeps worklists and incremental tables instead of rescanning the
graph, so compiling should cost about the same per node whatever the graph's size. This
script builds three families of graphs at growing sizes and compiles each once with
``theano.function(..., mode=theano.Mode(linker=LINKER, optimizer='fast_run'))``: the
default optimizer level ``o4`` and, by default, the default linker ``cvm`` (C thunks built
in this process's compile cache; ``--linker vm`` for the same with the Python VM,
``--linker py`` to leave C out and time the rewriting alone).

* ``chain``: a long elemwise chain ``y = tanh(y * a + b) * 0.5`` on a matrix (every link is
  rewritten: broadcasts merged, constants folded, the whole chain fused into few nodes);
* ``wide_sum``: a sum of many small terms ``dot(x, W_i) * c_i + tanh(x * s_i)`` (a flat sum
  with thousands of operands, each dot turned into a Gemm/Dot22 accumulation);
* ``mlp``: a stack of ``tanh(dot(h, W_l) + b_l)`` layers with a softmax output, categorical
  crossentropy and SGD updates of every weight (forward and backward graphs).

For each graph it prints the nodes before rewriting (the Apply nodes of the outputs' and
updates' graphs) and after (the compiled graph), the compile time (wall clock) with the
optimizer's and the linker's part (from the function's ProfileStats), and the compile time
per node before rewriting, in microseconds. Near-linear growth shows as a roughly constant
time per node down each family. Nothing is asserted: timings depend on the machine (and on
what else runs on it).

    python benchmarks/bench_topt_scaling.py [--sizes 1000,3000,10000] [--families chain,mlp]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time

import numpy as np

import theano
import theano.tensor as T
from tgraph.graph.basic import io_toposort
from theano.compile.profiling import ProfileStats

FLOATX = "float64"


def count_nodes(outputs: list) -> int:
    """Apply nodes of the graph of ``outputs`` (down to its roots), before any rewrite."""
    return len(io_toposort([], outputs))


def chain(units: int) -> tuple[list, list, list]:
    """``units`` links of ``y = tanh(y * a + b) * 0.5`` (about 7 nodes per link)."""
    x = T.matrix("x", dtype=FLOATX)
    a = T.vector("a", dtype=FLOATX)
    b = T.vector("b", dtype=FLOATX)
    y = x
    for _ in range(units):
        y = T.tanh(y * a + b) * 0.5
    return [x, a, b], [y], []


def wide_sum(units: int) -> tuple[list, list, list]:
    """A sum of ``units`` terms ``dot(x, W_i) * c_i + tanh(x * s_i)`` (about 8 nodes each)."""
    rng = np.random.default_rng(0)
    x = T.matrix("x", dtype=FLOATX)
    terms = []
    for i in range(units):
        w = theano.shared(rng.standard_normal((8, 8)).astype(FLOATX), name=f"W{i}")
        s = theano.shared(np.asarray(0.1 * (i % 7 + 1), dtype=FLOATX), name=f"s{i}")
        terms.append(T.dot(x, w) * (0.01 * (i % 13 + 1)) + T.tanh(x * s))
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return [x], [out.sum()], []


def mlp(units: int) -> tuple[list, list, list]:
    """``units`` tanh layers of width 16, softmax over 10 classes, SGD updates of all."""
    rng = np.random.default_rng(0)
    x = T.matrix("x", dtype=FLOATX)
    y = T.ivector("y")
    h, params = x, []
    for i in range(units):
        w = theano.shared(0.1 * rng.standard_normal((16, 16)).astype(FLOATX), name=f"W{i}")
        b = theano.shared(np.zeros(16, dtype=FLOATX), name=f"b{i}")
        h = T.tanh(T.dot(h, w) + b)
        params += [w, b]
    wo = theano.shared(0.1 * rng.standard_normal((16, 10)).astype(FLOATX), name="Wo")
    params.append(wo)
    p = T.nnet.softmax(T.dot(h, wo))
    cost = T.nnet.categorical_crossentropy(p, y).mean()
    grads = T.grad(cost, params)
    updates = [(v, v - 0.01 * g) for v, g in zip(params, grads)]
    return [x, y], [cost], updates


FAMILIES = {"chain": chain, "wide_sum": wide_sum, "mlp": mlp}


def nodes_per_unit(build) -> float:
    """Nodes one unit adds, measured on a small instance."""
    def size(k: int) -> int:
        _, outs, ups = build(k)
        return count_nodes(outs + [u for _, u in ups])

    return (size(21) - size(1)) / 20


def compile_once(build, units: int, linker: str) -> dict:
    inputs, outputs, updates = build(units)
    before = count_nodes(outputs + [u for _, u in updates])
    mode = theano.Mode(linker=linker, optimizer="fast_run")
    profile = ProfileStats(atexit_print=False)
    gc.collect()
    start = time.perf_counter()
    cpu = time.process_time()
    f = theano.function(inputs, outputs, updates=updates, mode=mode, profile=profile)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {
        "before": before,
        "after": len(f.maker.fgraph.apply_nodes),
        "seconds": seconds,
        "cpu": cpu,
        "optimizer": profile.optimizer_time,
        "linker": profile.linker_time,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,3000,10000",
                        help="approximate node counts, comma-separated")
    parser.add_argument("--families", default=",".join(FAMILIES),
                        help=f"graph families, comma-separated (of {', '.join(FAMILIES)})")
    parser.add_argument("--linker", default="cvm", help="the Mode's linker (default cvm)")
    args, _unknown = parser.parse_known_args(argv)  # nox passes the same options to all
    sizes = [int(s) for s in args.sizes.split(",") if s]
    families = [f for f in args.families.split(",") if f]

    print(f"Python {platform.python_version()} ({sys.implementation.name}), "
          f"{platform.machine()}; theano.function under FAST_RUN (o4), linker {args.linker!r}; "
          "cpu s is this process's CPU time (gcc runs in child processes)")
    compile_once(chain, 3, args.linker)  # warm-up: imports, first-use caches
    header = (f"{'graph':9s} {'nodes before':>12s} {'after':>6s} {'compile s':>10s} "
              f"{'cpu s':>7s} {'optimizer s':>11s} {'linker s':>9s} {'us/node':>8s}")
    print(header)
    print("-" * len(header))
    for name in families:
        build = FAMILIES[name]
        per_unit = nodes_per_unit(build)
        for n in sizes:
            units = max(1, round(n / per_unit))
            r = compile_once(build, units, args.linker)
            print(f"{name:9s} {r['before']:12d} {r['after']:6d} {r['seconds']:10.2f} "
                  f"{r['cpu']:7.2f} {r['optimizer']:11.2f} {r['linker']:9.2f} "
                  f"{r['seconds'] / r['before'] * 1e6:8.0f}")
            sys.stdout.flush()


if __name__ == "__main__":
    main()

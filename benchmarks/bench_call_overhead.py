"""What does calling a compiled function cost? ``f(x)`` for ``x + 1`` on a float32 scalar.

For tiny graphs the cost of a call is the call path itself: checking and converting the
argument, running the VM, reading the output, writing updates. This script compiles
``f = function([x], x + 1)`` with ``x = fscalar()`` and times, in the same run:

* the default call with a NumPy float32 (``f(numpy.float32(2))``) and a Python float
  (``f(2.0)``), under the Cython VM (``VMLinker(use_cloop=True)``) and the Python VM;
* the ``trust_input`` call (``f.trust_input = True``; the argument, a 0-d float32 array,
  goes to the storage unchecked);
* the call path with a trivial thunk (a Python Op doing nothing), so the overhead of the
  path itself shows apart from the add;
* the baseline: a plain Python function ``def g(x): return numpy.add(x, 1)``.

It prints microseconds per call (best of several repeats) and each ratio to the baseline.
Nothing is asserted: timings depend on the machine. The issue's target is 1.0 us for the
default call with the C thunk, on an ordinary desktop CPU.

    python benchmarks/bench_call_overhead.py [--loops N] [--repeat R]
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit

import numpy as np

import tgraph.tensor as T
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tlink import Mode, function
from tlink.linker.vm import VMLinker, cvm_available


class Nothing(Op):
    """Returns its input unchanged, in Python: the cheapest thunk there is."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0]


def compiled(output_of, use_cloop: bool):
    x = T.fscalar("x")
    return function([x], output_of(x), mode=Mode(VMLinker(use_cloop=use_cloop), None))


def best_us(cases: list[tuple[str, object]], loops: int, repeat: int) -> list[float]:
    """Best time of one call of each case, in us, the cases timed in interleaved rounds."""
    best = [float("inf")] * len(cases)
    for _ in range(repeat):
        for i, (_label, stmt) in enumerate(cases):
            t = timeit.timeit(stmt, number=loops) / loops * 1e6
            best[i] = min(best[i], t)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loops", type=int, default=100_000, help="calls per timing")
    parser.add_argument("--repeat", type=int, default=7, help="timings per case (best kept)")
    args = parser.parse_args(argv)

    scalar = np.float32(2)
    array = np.asarray(scalar)
    add = np.add

    def baseline(x):
        return add(x, 1)

    cases: list[tuple[str, object]] = [("baseline: numpy.add(x, 1) in a Python function",
                                        lambda: baseline(scalar))]
    for use_cloop in ([True, False] if cvm_available() else [False]):
        vm = "Cython VM" if use_cloop else "Python VM"
        f = compiled(lambda x: x + 1, use_cloop)
        thunk = type(f.fn.thunks[0]).__name__
        trusted = compiled(lambda x: x + 1, use_cloop)
        trusted.trust_input = True
        trivial = compiled(lambda x: Nothing()(x), use_cloop)
        cases += [
            (f"{vm}, {thunk}: f(numpy.float32(2))", lambda f=f: f(scalar)),
            (f"{vm}, {thunk}: f(2.0)", lambda f=f: f(2.0)),
            (f"{vm}, {thunk}: trust_input f(0-d array)", lambda f=trusted: f(array)),
            (f"{vm}, trivial Python thunk: f(numpy.float32(2))",
             lambda f=trivial: f(scalar)),
        ]
    print(f"Python {sys.version.split()[0]}, NumPy {np.__version__}, {platform.machine()}, "
          f"Cython VM {'built' if cvm_available() else 'NOT built'}; "
          f"{args.loops} calls x best of {args.repeat}")
    times = best_us(cases, args.loops, args.repeat)
    base = times[0]
    width = max(len(label) for label, _ in cases)
    for (label, _), t in zip(cases, times):
        print(f"  {label:<{width}}  {t:8.3f} us   {t / base:6.2f} x baseline")


if __name__ == "__main__":
    main()

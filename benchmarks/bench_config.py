"""How much does reading a tconfig flag cost? Compared with a plain attribute and a dict lookup.

Graph-building code reads flags such as ``config.floatX`` in hot loops, so a read must cost
no more than an ordinary attribute read. This script times, with timeit (best of several
repeats of many loops), reads of a flag on a small Config and on a Config with as many flags
as Theano 1.0 declares, next to a plain attribute on a simple object and a dict lookup.

It prints the time per read (each timed statement makes 20 reads, so the loop's own cost is
mostly spread out) and each ratio to the plain attribute read. Nothing is asserted: timings
depend on the machine.

    python benchmarks/bench_config.py [--loops N] [--repeat R]
"""

from __future__ import annotations

import argparse
import platform
import sys
import timeit

from tconfig import BoolParam, Config, EnumStr, IntParam, StrParam


def small_config() -> Config:
    """A Config with a handful of flags, none read from the environment."""
    config = Config(flags_env="BENCH_FLAGS", environ={})
    config.add("floatX", "Default float dtype.", EnumStr("float64", "float32", "float16"))
    config.add("device", "Device.", EnumStr("cpu", "cuda"))
    config.add("gcc.cxxflags", "Extra compiler flags.", StrParam(""))
    config.add("traceback.limit", "Frames kept per variable.", IntParam(8))
    config.add("base_compiledir", "Root of the compile cache.", StrParam("/tmp/bench"))
    config.add(
        "compiledir", "Compile cache (lazy default).", StrParam(lambda: config.base_compiledir)
    )
    return config


def large_config() -> Config:
    """A Config with about as many flags (and sections) as Theano 1.0 declares."""
    config = Config(flags_env="BENCH_FLAGS", environ={"BENCH_FLAGS": "floatX=float32"})
    config.add("floatX", "Default float dtype.", EnumStr("float64", "float32", "float16"))
    for i in range(150):
        config.add(f"flag{i}", "A top-level flag.", BoolParam(False))
    for s in range(30):
        for i in range(5):
            config.add(f"section{s}.flag{i}", "A flag in a section.", IntParam(i))
    config.add("gcc.cxxflags", "Extra compiler flags.", StrParam(""))
    return config


class Plain:
    """The reference: an ordinary object with a few attributes."""

    def __init__(self) -> None:
        self.floatX = "float64"
        self.device = "cpu"
        self.mode = "FAST_RUN"


def large_plain() -> Plain:
    """An ordinary object with as many attributes as the Theano-sized Config holds."""
    obj = Plain()
    for i in range(330):
        setattr(obj, f"attr{i}", i)
    obj.gcc__cxxflags = ""
    return obj


UNROLL = 20  # reads per loop iteration, so the loop's own cost is spread over many reads


def best_ns(cases: list[tuple[str, object]], loops: int, repeat: int) -> list[float]:
    """Best time of one read ``expr`` of each ``(expr, obj)`` case, in ns.

    ``obj`` is bound to the local ``c``; the expression is repeated UNROLL times per loop.
    The cases are timed in interleaved rounds so that a change of machine load during the
    run affects them all alike.
    """
    timers = [
        timeit.Timer("; ".join([expr] * UNROLL), setup="c = obj", globals={"obj": obj})
        for expr, obj in cases
    ]
    best = [float("inf")] * len(timers)
    for _ in range(repeat):
        for i, timer in enumerate(timers):
            best[i] = min(best[i], timer.timeit(number=loops) / (loops * UNROLL) * 1e9)
    return best


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loops", type=int, default=200_000, help="loops per round")
    parser.add_argument("--repeat", type=int, default=7, help="rounds (the best is kept)")
    args = parser.parse_args(argv)

    small, large = small_config(), large_config()
    small.compiledir  # noqa: B018  (compute and cache the lazy default before timing)
    cases = [
        ("plain object attribute  obj.floatX", "c.floatX", Plain()),
        ("dict lookup             d['floatX']", "c['floatX']", {"floatX": "float64"}),
        ("small Config            config.floatX", "c.floatX", small),
        ("small Config            config.gcc.cxxflags", "c.gcc.cxxflags", small),
        ("small Config            config.gcc__cxxflags", "c.gcc__cxxflags", small),
        ("small Config, lazy      config.compiledir", "c.compiledir", small),
        ("plain object, 330 attrs obj.gcc__cxxflags", "c.gcc__cxxflags", large_plain()),
        ("Theano-sized Config     config.floatX", "c.floatX", large),
        ("Theano-sized Config     config.gcc__cxxflags", "c.gcc__cxxflags", large),
    ]
    times = best_ns([(expr, obj) for _, expr, obj in cases], args.loops, args.repeat)
    print(f"Python {platform.python_version()} ({sys.implementation.name}), {platform.machine()}")
    print(f"timeit: best of {args.repeat} rounds x {args.loops} loops x {UNROLL} reads")
    print(f"{'read':48s} {'ns/read':>8s} {'ratio':>7s}")
    for (label, _, _), ns in zip(cases, times):
        print(f"{label:48s} {ns:8.2f} {ns / times[0]:7.2f}")


if __name__ == "__main__":
    main()

"""What rewriting cost: time and applications per rewrite, and how to print them.

Drivers fill a :class:`RewriteProfile` while they run (two clock reads per attempt, cheap
next to a rewrite) and return it from ``apply``; ``profile_optimizer`` prints the profile of
the whole optimizer after each compilation. Theano 1.0 printed the same figures (time and
count per rewrite, nodes before and after) in its own layout; ours is sorted by time.
"""

from __future__ import annotations

import sys
from typing import Any

__all__ = ["RewriteProfile", "print_profile", "print_seq_profile"]


def rewrite_name(rewrite: Any) -> str:
    """The name under which a rewrite is reported: its registered name, __name__ or class."""
    for attr in ("name", "__name__"):
        name = getattr(rewrite, attr, None)
        if isinstance(name, str) and name:
            return name
    return type(rewrite).__name__


class RewriteProfile:
    """Per-rewrite figures of one driver run (TopoOptimizer, EquilibriumOptimizer, merge)."""

    def __init__(self, driver: Any, nodes_before: int = 0):
        self.driver = driver
        self.nodes_before = nodes_before
        self.nodes_after = nodes_before
        self.time = 0.0
        self.loops = 0
        self.calls: dict = {}
        self.applied: dict = {}
        self.seconds: dict = {}
        self.sub_profiles: list = []

    def record(self, rewrite: Any, seconds: float, applied: bool) -> int:
        """Count one attempt of ``rewrite``; return how often it has applied so far."""
        calls = self.calls
        if rewrite in calls:
            calls[rewrite] += 1
            self.seconds[rewrite] += seconds
        else:
            calls[rewrite] = 1
            self.seconds[rewrite] = seconds
        if applied:
            n = self.applied[rewrite] = self.applied.get(rewrite, 0) + 1
            return n
        return self.applied.get(rewrite, 0)

    def total_applied(self) -> int:
        return sum(self.applied.values())

    def print(self, stream=None, level: int = 0) -> None:
        stream = stream if stream is not None else sys.stdout
        pad = " " * level

        print(f"{pad}{type(self.driver).__name__} {rewrite_name(self.driver)}: "
              f"{self.time:.4f}s, {self.loops} loop(s), nodes {self.nodes_before} -> "
              f"{self.nodes_after}, {self.total_applied()} replacement(s)", file=stream)
        rows = sorted(self.calls, key=lambda r: -self.seconds.get(r, 0.0))
        for r in rows:
            print(f"{pad}  {self.seconds[r]:.4f}s  applied {self.applied.get(r, 0):>5} / "
                  f"tried {self.calls[r]:>6}  {rewrite_name(r)}", file=stream)
        for sub in self.sub_profiles:
            print_profile(stream, sub, level + 2)

    def __repr__(self) -> str:
        return (f"<RewriteProfile of {type(self.driver).__name__}: {self.time:.4f}s, "
                f"{self.total_applied()} replacements>")


def print_seq_profile(stream, prof: Any, level: int = 0) -> None:
    """Print a SeqOptimizer profile ``(seq, [seconds], [member profiles])``."""
    seq, times, profiles = prof
    pad = " " * level
    print(f"{pad}SeqOptimizer {rewrite_name(seq)}: {sum(times):.4f}s", file=stream)
    for opt, t, sub in zip(seq, times, profiles):
        print(f"{pad}  {t:.4f}s  {rewrite_name(opt)}", file=stream)
        if sub is not None:
            print_profile(stream, sub, level + 4)


def print_profile(stream, prof: Any, level: int = 0) -> None:
    """Print any profile a driver returned (nothing for None)."""
    if prof is None:
        return
    if isinstance(prof, RewriteProfile):
        prof.print(stream, level)
    elif isinstance(prof, tuple) and len(prof) == 3 and isinstance(prof[1], list):
        print_seq_profile(stream, prof, level)
    else:
        print(f"{' ' * level}{prof}", file=stream)

"""The profiles the ``profile`` flag prints when the process exits.

Registered lazily: the atexit hook is installed by the first ProfileStats made while the
flag is on, so a process that never profiles pays nothing. Profiles are printed to
``profiling.destination`` in the order they were made; when there are several, their sum
follows (Theano 1.0 printed "Sum of all printed profiles at exit").
"""

from __future__ import annotations

import atexit
import sys
from typing import IO, Any

from tgraph import config

__all__ = ["print_all_at_exit", "register_at_exit"]

_to_print_at_exit: list[Any] = []
_atexit_registered = False


def register_at_exit(stats: Any) -> None:
    """Print ``stats`` at exit when the ``profile`` flag is on (installs the hook once)."""
    global _atexit_registered
    if not config.profile:
        return
    _to_print_at_exit.append(stats)
    if not _atexit_registered:
        atexit.register(print_all_at_exit)
        _atexit_registered = True


def print_all_at_exit(file: IO[str] | None = None) -> None:
    """Print every registered profile that saw a call or a compilation, then their sum."""
    printed = [s for s in _to_print_at_exit if s.fct_callcount or s.compile_time]
    if not printed:
        return
    close = None
    if file is None:
        destination = config.profiling__destination
        if destination == "stdout":
            file = sys.stdout
        elif destination == "stderr":
            file = sys.stderr
        else:
            file = close = open(destination, "w")  # closed below
    try:
        for stats in printed:
            stats.summary(file=file)
        if len(printed) > 1:
            total = type(printed[0]).merged(
                printed, message=f"Sum of all({len(printed)}) printed profiles at exit")
            total.summary(file=file)
    finally:
        if close is not None:
            close.close()


_print_all_at_exit = print_all_at_exit

"""Basic profiling of compiled functions: calls, time per node and per Op class.

``function(..., profile=True)`` (or the ``profile`` flag) attaches a :class:`ProfileStats`
to the function: each call adds its wall time and the VM's time per Apply node, and
``summary()`` prints where the time went. With the flag, every profile is printed when the
process exits, as in Theano 1.0. The full profiler (memory, shapes) comes later; the names
of the attributes are Theano 1.0's so that code reading them keeps working.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Iterable
from typing import IO, Any

from tgraph import config

__all__ = ["ProfileStats", "make_profile"]

_to_print_at_exit: list[ProfileStats] = []
_atexit_registered = False


def _print_all_at_exit(file: IO[str] | None = None) -> None:
    """Print the profiles of the ``profile`` flag (registered with atexit on first use)."""
    for stats in _to_print_at_exit:
        if stats.fct_callcount or stats.compile_time:
            stats.summary(file=sys.stderr if file is None else file)


class ProfileStats:
    """Time and call counts of one compiled function (or several, if shared).

    ``apply_time``/``apply_callcount`` map each Apply node to its accumulated time and calls;
    ``fct_callcount``/``fct_call_time`` count whole calls, ``vm_call_time`` the time inside
    the VM. ``compile_time``, ``optimizer_time`` and ``linker_time`` are filled when the
    function is made.
    """

    def __init__(self, atexit_print: bool = True, flag_time_thunks: bool | None = None,
                 message: str | None = None, **kwargs: Any):
        self.message = message
        self.flag_time_thunks = True if flag_time_thunks is None else flag_time_thunks
        self.ignore_first_call = False
        self.compile_time = 0.0
        self.optimizer_time = 0.0
        self.linker_time = 0.0
        self.import_time = 0.0
        self.nb_nodes = -1
        self.reset()
        for key, value in kwargs.items():
            setattr(self, key, value)
        if atexit_print:
            _register_at_exit(self)

    def reset(self) -> None:
        """Forget the call statistics (not the compile times)."""
        self.fct_callcount = 0
        self.fct_call_time = 0.0
        self.vm_call_time = 0.0
        self.apply_time: dict = {}
        self.apply_callcount: dict = {}
        self.apply_cimpl: dict = {}

    # -- aggregates -------------------------------------------------------------------------
    def class_time(self) -> dict[type, float]:
        """Time per Op class."""
        out: dict[type, float] = {}
        for node, t in self.apply_time.items():
            out[type(node.op)] = out.get(type(node.op), 0.0) + t
        return out

    def class_callcount(self) -> dict[type, int]:
        """Calls per Op class."""
        out: dict[type, int] = {}
        for node, c in self.apply_callcount.items():
            out[type(node.op)] = out.get(type(node.op), 0) + c
        return out

    def op_time(self) -> dict[Any, float]:
        """Time per Op (instances equal by their props are merged)."""
        out: dict = {}
        for node, t in self.apply_time.items():
            out[node.op] = out.get(node.op, 0.0) + t
        return out

    def op_callcount(self) -> dict[Any, int]:
        """Calls per Op."""
        out: dict = {}
        for node, c in self.apply_callcount.items():
            out[node.op] = out.get(node.op, 0) + c
        return out

    # -- printing ---------------------------------------------------------------------------
    def summary_function(self, file: IO[str]) -> None:
        print(f"Function profiling\n==================\n  Message: {self.message}", file=file)
        print(f"  Time in {self.fct_callcount} calls to Function.__call__: "
              f"{self.fct_call_time:.6e}s", file=file)
        if self.fct_call_time > 0:
            share = 100.0 * self.vm_call_time / self.fct_call_time
            print(f"  Time in Function.fn.__call__: {self.vm_call_time:.6e}s ({share:.3f}%)",
                  file=file)
        total_apply = sum(self.apply_time.values())
        print(f"  Time in thunks: {total_apply:.6e}s", file=file)
        print(f"  Total compile time: {self.compile_time:.6e}s", file=file)
        print(f"    Number of Apply nodes: {self.nb_nodes}", file=file)
        print(f"    Optimizer time: {self.optimizer_time:.6e}s", file=file)
        print(f"    Linker time: {self.linker_time:.6e}s", file=file)

    def _table(self, title: str, rows: Iterable[tuple[float, int, str]], n: int,
               file: IO[str]) -> None:
        rows = sorted(rows, key=lambda r: -r[0])
        total = sum(r[0] for r in rows) or 1.0
        print(f"\n{title}\n{'-' * len(title)}", file=file)
        print("  <% time> <sum %> <time (s)> <#call> <name>", file=file)
        running = 0.0
        for t, calls, name in rows[:n]:
            running += t
            print(f"  {100 * t / total:6.1f}% {100 * running / total:6.1f}% {t:10.3e}s "
                  f"{calls:7d}  {name}", file=file)
        if len(rows) > n:
            print(f"   ... (remaining {len(rows) - n} rows not shown)", file=file)

    def summary_class(self, file: IO[str], n_classes_to_print: int = 20) -> None:
        calls = self.class_callcount()
        rows = [(t, calls.get(cls, 0), cls.__name__) for cls, t in self.class_time().items()]
        self._table("Class", rows, n_classes_to_print, file)

    def summary_ops(self, file: IO[str], n_ops_to_print: int = 20) -> None:
        calls = self.op_callcount()
        rows = [(t, calls.get(op, 0), str(op)) for op, t in self.op_time().items()]
        self._table("Ops", rows, n_ops_to_print, file)

    def summary_nodes(self, file: IO[str], n_apply_to_print: int = 20) -> None:
        rows = [(t, self.apply_callcount.get(node, 0), str(node))
                for node, t in self.apply_time.items()]
        self._table("Apply", rows, n_apply_to_print, file)

    def summary(self, file: IO[str] | None = None, n_ops_to_print: int = 20,
                n_apply_to_print: int = 20) -> None:
        """Print the function totals, then time per Op class, per Op and per node."""
        file = sys.stderr if file is None else file
        self.summary_function(file)
        if self.apply_time:
            self.summary_class(file, n_ops_to_print)
            self.summary_ops(file, n_ops_to_print)
            self.summary_nodes(file, n_apply_to_print)
        else:
            print("  No execution time accumulated (no call, or nothing to run).", file=file)


def _register_at_exit(stats: ProfileStats) -> None:
    """Print ``stats`` at exit when the ``profile`` flag asks for it (registered lazily)."""
    global _atexit_registered
    if not config.profile:
        return
    _to_print_at_exit.append(stats)
    if not _atexit_registered:
        atexit.register(_print_all_at_exit)
        _atexit_registered = True


def make_profile(profile: Any, name: str | None = None) -> ProfileStats | None:
    """The ProfileStats for ``function``'s ``profile`` argument (Theano 1.0's rules).

    None reads the ``profile`` flag; True makes a ProfileStats named after the function; a
    string makes one with that message; a ProfileStats (or any object) is used as is.
    """
    if profile is None:
        profile = bool(config.profile)
    if profile is False:
        return None
    if profile is True:
        return ProfileStats(message=name)
    if isinstance(profile, str):
        return ProfileStats(message=profile)
    return profile

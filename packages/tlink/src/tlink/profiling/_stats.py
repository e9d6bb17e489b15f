"""ProfileStats: what one or several compiled functions spent, and ``make_profile``."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any

from tgraph import config
from tlink.profiling._atexit import register_at_exit
from tlink.profiling._memory import make_recorder, summary_memory
from tlink.profiling._tables import summary_class, summary_function, summary_nodes, summary_ops

__all__ = ["ProfileStats", "Program", "make_profile", "merge_profiles"]


class Program:
    """One linked program a profile covers: its graph, run order and gc setting."""

    __slots__ = ("allow_gc", "fgraph", "order")

    def __init__(self, fgraph: Any, order: Sequence, allow_gc: bool):
        self.fgraph = fgraph
        self.order = list(order)
        self.allow_gc = bool(allow_gc)


class ProfileStats:
    """Time, call counts and (optionally) memory of one compiled function, or several.

    ``apply_time``/``apply_callcount`` map each Apply node to its accumulated time and calls,
    ``apply_cimpl`` to whether it ran C code; ``fct_callcount``/``fct_call_time`` count whole
    calls and ``vm_call_time`` the time inside the VM. ``compile_time``, ``optimizer_time``
    and ``linker_time`` are added when a function is made; ``programs`` lists the linked
    programs (a ProfileStats given to several functions covers them all). With
    ``profile_memory``, ``variable_shape``/``variable_strides``/``variable_nbytes`` hold the
    last call's value of every computed variable.
    """

    def __init__(self, atexit_print: bool = True, flag_time_thunks: bool | None = None,
                 message: str | None = None, **kwargs: Any):
        self.message = message
        self.flag_time_thunks = True if flag_time_thunks is None else flag_time_thunks
        self.ignore_first_call = bool(config.profiling__ignore_first_call)
        self.compile_time = 0.0
        self.optimizer_time = 0.0
        self.linker_time = 0.0
        self.import_time = 0.0
        self.programs: list[Program] = []
        self._nb_nodes: int | None = None
        self.reset()
        for key, value in kwargs.items():
            setattr(self, key, value)
        if atexit_print:
            register_at_exit(self)

    def reset(self) -> None:
        """Forget the call statistics (not the compile times nor the programs)."""
        self.fct_callcount = 0
        self.fct_call_time = 0.0
        self.vm_call_time = 0.0
        self.apply_time: dict = {}
        self.apply_callcount: dict = {}
        self.apply_cimpl: dict = {}
        self.variable_shape: dict = {}
        self.variable_strides: dict = {}
        self.variable_nbytes: dict = {}

    @property
    def nb_nodes(self) -> int:
        """Apply nodes in the profiled functions (each distinct graph counted once)."""
        if self._nb_nodes is not None:
            return self._nb_nodes
        seen = {id(p.fgraph): len(p.order) for p in self.programs}
        return sum(seen.values()) if seen else -1

    @nb_nodes.setter
    def nb_nodes(self, value: int) -> None:
        self._nb_nodes = None if value is None else int(value)

    def __getstate__(self) -> dict:
        # The optimizer's own profile holds live rewrite objects (closures, registries):
        # a pickled function keeps its timings but not that.
        state = dict(self.__dict__)
        state.pop("optimizer_profile", None)
        return state

    # -- collecting -------------------------------------------------------------------------
    def add_program(self, fgraph: Any, order: Sequence, thunks: Sequence, vm: Any) -> None:
        """Register a linked program (called by the maker); hook the memory recorder.

        Records which nodes run C code (``thunk.perform == 'c'``). With ``profile_memory``
        and a VM that takes a ``callback``, the recorder is chained before it.
        """
        self.programs.append(Program(fgraph, order, getattr(vm, "allow_gc", True)))
        for node, thunk in zip(order, thunks):
            self.apply_cimpl[node] = getattr(thunk, "perform", "py") == "c"
        if config.profile_memory and hasattr(vm, "callback"):
            vm.callback = make_recorder(self, vm.callback)

    # -- aggregates -------------------------------------------------------------------------
    def class_time(self) -> dict[type, float]:
        """Time per Op class."""
        return _sum_by(self.apply_time, lambda node: type(node.op), 0.0)

    def class_callcount(self) -> dict[type, int]:
        """Calls per Op class."""
        return _sum_by(self.apply_callcount, lambda node: type(node.op), 0)

    def class_nodes(self) -> dict[type, int]:
        """Apply nodes per Op class."""
        return _sum_by({node: 1 for node in self.apply_time}, lambda node: type(node.op), 0)

    def op_time(self) -> dict[Any, float]:
        """Time per Op (instances equal by their props are merged)."""
        return _sum_by(self.apply_time, lambda node: node.op, 0.0)

    def op_callcount(self) -> dict[Any, int]:
        """Calls per Op."""
        return _sum_by(self.apply_callcount, lambda node: node.op, 0)

    def op_nodes(self) -> dict[Any, int]:
        """Apply nodes per Op."""
        return _sum_by({node: 1 for node in self.apply_time}, lambda node: node.op, 0)

    @classmethod
    def merged(cls, profiles: Iterable[ProfileStats], message: str | None = None
               ) -> ProfileStats:
        """A new profile summing ``profiles`` (Theano 1.0's "sum of all profiles")."""
        return merge_profiles(profiles, message=message, cls=cls)

    # -- printing ---------------------------------------------------------------------------
    def summary_function(self, file: IO[str]) -> None:
        summary_function(self, file)

    def summary_class(self, file: IO[str], n_classes_to_print: int | None = None) -> None:
        summary_class(self, file, _limit(n_classes_to_print, "n_ops"))

    def summary_ops(self, file: IO[str], n_ops_to_print: int | None = None) -> None:
        summary_ops(self, file, _limit(n_ops_to_print, "n_ops"))

    def summary_nodes(self, file: IO[str], n_apply_to_print: int | None = None) -> None:
        summary_nodes(self, file, _limit(n_apply_to_print, "n_apply"))

    def summary_memory(self, file: IO[str], n_apply_to_print: int | None = None) -> None:
        summary_memory(self, file, _limit(n_apply_to_print, "n_apply"))

    def summary(self, file: IO[str] | None = None, n_ops_to_print: int | None = None,
                n_apply_to_print: int | None = None) -> None:
        """Print the totals, then the Class, Ops and Apply tables and the memory profile."""
        file = sys.stderr if file is None else file
        self.summary_function(file)
        if self.apply_time:
            self.summary_class(file, n_ops_to_print)
            self.summary_ops(file, n_ops_to_print)
            self.summary_nodes(file, n_apply_to_print)
            if config.profile_memory or self.variable_nbytes:
                self.summary_memory(file, n_apply_to_print)
        else:
            print("  No execution time accumulated (no call, or nothing to run).", file=file)


def _sum_by(values: dict, key, zero):
    out: dict = {}
    for node, v in values.items():
        k = key(node)
        out[k] = out.get(k, zero) + v
    return out


def _limit(n: int | None, flag: str) -> int:
    return getattr(config, f"profiling__{flag}") if n is None else n


def merge_profiles(profiles: Iterable[ProfileStats], message: str | None = None,
                   cls: type = ProfileStats) -> ProfileStats:
    """Sum several profiles into a new one (times and counts add; programs are listed)."""
    total = cls(atexit_print=False, message=message)
    for p in profiles:
        for name in ("compile_time", "optimizer_time", "linker_time", "import_time",
                     "fct_callcount", "fct_call_time", "vm_call_time"):
            setattr(total, name, getattr(total, name) + getattr(p, name))
        for name in ("apply_time", "apply_callcount"):
            mine = getattr(total, name)
            for node, v in getattr(p, name).items():
                mine[node] = mine.get(node, 0) + v
        for name in ("apply_cimpl", "variable_shape", "variable_strides", "variable_nbytes"):
            getattr(total, name).update(getattr(p, name))
        total.programs.extend(p.programs)
    return total


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

"""PerformLinker (``linker='py'``): each node runs its Op's Python ``perform``.

The simplest linker and the one FAST_COMPILE uses: one Python thunk per node, run in a
straight loop, freeing intermediate results after their last use when ``allow_gc`` holds
(the flag, read when the function is made, unless given). It shares the loop with the VM
linker: only thunk selection differs (never C, never lazy evaluation).
"""

from __future__ import annotations

from collections.abc import Callable

from tlink.linker.base import (
    LocalLinker,
    containers_for,
    make_thunks,
    map_storage,
    post_thunk_clear_lists,
    unique_cells,
)
from tlink.linker.vm import Loop, LoopGC

__all__ = ["PerformLinker"]


class PerformLinker(LocalLinker):
    """Run ``op.perform`` for each node in a deterministic topological order."""

    def __init__(self, allow_gc: bool | None = None, schedule: Callable | None = None):
        super().__init__(allow_gc=allow_gc, schedule=schedule)

    def make_all(self, input_storage=None, output_storage=None, storage_map=None):
        self.check_bound()
        fgraph = self.fgraph
        order = self.schedule(fgraph)
        input_storage, output_storage, storage_map = map_storage(
            fgraph, order, input_storage, output_storage, storage_map)
        compute_map = {var: [True] for var in storage_map}
        thunks = make_thunks(order, storage_map, compute_map, "py")
        pre_call_clear = unique_cells(storage_map[v] for v in self.no_recycling
                                       if v in storage_map)
        n_updates = len(fgraph.update_mapping or {})
        if self.effective_allow_gc():
            clears = post_thunk_clear_lists(fgraph, order, storage_map)
            fn = LoopGC(fgraph, order, thunks, pre_call_clear, storage_map, clears,
                        n_updates=n_updates)
        else:
            fn = Loop(fgraph, order, thunks, pre_call_clear, storage_map, n_updates=n_updates)
        ins, outs = containers_for(fgraph, input_storage, output_storage)
        return fn, ins, outs, thunks, order

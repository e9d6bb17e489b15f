"""WrapLinker: run several linkers' thunks side by side under a user wrapper.

Checking modes need to look at every node as it runs: MonitorMode calls user hooks before
and after each node, a comparison mode runs two implementations of each node and compares
them. ``WrapLinker(linkers, wrapper)`` builds each linker's program on the same graph (the
first one owns the function's inputs and outputs; the others get private storage and a copy
of the inputs at each call) and calls ``wrapper(i, node, *thunks)`` for node ``i`` — the
wrapper decides whether and how to run the thunks. This is Theano 1.0's ``WrapLinker``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from tlink.linker.base import _UNDEF, Linker
from tlink.linker.errors import raise_with_op

__all__ = ["WrapLinker", "WrapLinkerMany"]


class WrapLinker(Linker):
    """Run the thunks of several linkers in step, through ``wrapper(i, node, *thunks)``.

    All linkers must order the nodes the same way. The outputs returned are those of the
    first linker's storage, so the wrapper must at least run the first thunk of each group.
    """

    def __init__(self, linkers: Sequence[Linker], wrapper: Callable):
        super().__init__()
        if not linkers:
            raise ValueError("WrapLinker needs at least one linker")
        self.linkers = list(linkers)
        self.wrapper = wrapper

    def __copy__(self) -> WrapLinker:
        return type(self)([copy.copy(lk) for lk in self.linkers], self.wrapper)

    def clone(self, allow_gc: Any = _UNDEF) -> WrapLinker:
        return type(self)([lk.clone(allow_gc=allow_gc) for lk in self.linkers], self.wrapper)

    def accept(self, fgraph, no_recycling=None, profile=None) -> WrapLinker:
        if self.fgraph is not None and self.fgraph is not fgraph:
            return type(self)([lk.clone() for lk in self.linkers], self.wrapper).accept(
                fgraph, no_recycling, profile)
        self.fgraph = fgraph
        self.no_recycling = list(no_recycling or [])
        self.profile = profile
        self.linkers = [lk.accept(fgraph, self.no_recycling) for lk in self.linkers]
        return self

    def pre(self, f: Callable, inputs: list, order: list, thunk_groups: list) -> None:
        """Hook called before each run with the input values (does nothing here)."""

    def make_all(self, input_storage=None, output_storage=None, storage_map=None):
        if self.fgraph is None:
            raise ValueError("WrapLinker: call accept(fgraph) before make_all")
        built = [self.linkers[0].make_all(input_storage=input_storage,
                                          output_storage=output_storage,
                                          storage_map=storage_map)]
        built += [lk.make_all() for lk in self.linkers[1:]]
        fns, input_lists, output_lists, thunk_lists, orders = zip(*built)
        order = list(orders[0])
        for other in orders[1:]:
            if list(other) != order:
                raise ValueError("WrapLinker: all linkers must run the nodes in the same order")
        inputs0, outputs0 = input_lists[0], output_lists[0]
        thunk_groups = list(zip(*thunk_lists))
        no_recycling = set(self.no_recycling)
        to_reset = [thunk.outputs[j]
                    for thunks, node in zip(thunk_groups, order)
                    for j, out in enumerate(node.outputs) if out in no_recycling
                    for thunk in thunks]
        wrapper, pre, fgraph = self.wrapper, self.pre, self.fgraph

        def run(output_subset=None):
            for inputs in input_lists[1:]:
                for first, other in zip(inputs0, inputs):
                    other.storage[0] = copy.copy(first.storage[0])
            for cell in to_reset:
                cell[0] = None
            pre(self, [c.storage[0] for c in inputs0], order, thunk_groups)
            for i, (thunks, node) in enumerate(zip(thunk_groups, order)):
                try:
                    wrapper(i, node, *thunks)
                except Exception:
                    raise_with_op(node, thunks[0], storage_map=run.storage_map, position=i,
                                  fgraph=fgraph)

        run.thunk_groups = thunk_groups
        run.storage_map = getattr(fns[0], "storage_map", None)
        run.allow_gc = False
        run.need_update_inputs = True
        return run, inputs0, outputs0, list(thunk_lists[0]), order


def WrapLinkerMany(linkers: Sequence[Linker], wrappers: Sequence[Callable]) -> WrapLinker:
    """A WrapLinker whose wrapper calls each of ``wrappers`` in turn."""

    def wrapper(*args):
        for fn in wrappers:
            fn(*args)

    return WrapLinker(linkers, wrapper)

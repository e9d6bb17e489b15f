"""The Python virtual machines that run a program of thunks, and the VM linker.

A VM is made once per compiled function and called once per function call. Three kinds,
with Theano 1.0's names and semantics:

* :class:`Loop` runs every thunk in order and keeps intermediate results in their cells
  between calls (``*_nogc`` linkers, ``allow_gc=False``), so Ops may reuse them;
* :class:`LoopGC` also empties each intermediate cell right after its last reader ran
  (precomputed per-node "free after last use" lists);
* :class:`Stack` evaluates from the outputs backwards and asks *lazy* thunks (ifelse) which
  inputs they need, so branches that are not taken are not computed.

All three accept ``output_subset`` (indices of the graph outputs wanted; update outputs are
always computed) and run only the nodes those outputs need. They are the reference the
Cython VM must agree with: same arguments, same attributes (``nodes``, ``thunks``,
``storage_map``, ``call_counts``, ``call_times``, ``allow_gc``, ``need_update_inputs``).

The Cython VM (``VMLinker(use_cloop=True)``) is :class:`CLoop`, :class:`CLoopGC` and
:class:`CStack`: each is its Python twin with ``__call__`` replaced by a loop compiled in
``tlink.linker._cvm`` over precomputed C tables, calling C thunks (``CThunk``) through their
function pointers. Everything else (``_fail``, ``_program``, profiling, attributes) is the
Python VM's, so the two cannot drift apart. They are None when the extension is not built.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from tgraph import config
from tgraph.graph.basic import Apply, Variable
from tlink.fallback import warn_fallback
from tlink.linker.base import (
    LocalLinker,
    _thunk_makers,
    containers_for,
    make_thunks,
    map_storage,
    post_thunk_clear_lists,
    unique_cells,
)
from tlink.linker.errors import raise_with_op

try:
    import tlink.linker._cvm as _cvm
except ModuleNotFoundError:  # installed without a C compiler, or a checkout not built
    _cvm = None
    _CVM_MISSING = ("the extension tlink.linker._cvm was not built when tlink was installed, "
                    "for want of a C compiler or of Cython")
except ImportError as exc:  # built, but for another Python or NumPy
    _cvm = None
    _CVM_MISSING = f"the extension tlink.linker._cvm does not load: {exc}"
else:
    _CVM_MISSING = ""

__all__ = ["VM", "CLoop", "CLoopGC", "CStack", "Loop", "LoopGC", "Stack", "VMLinker",
           "VM_Linker", "cvm_available", "needed_nodes"]


def needed_nodes(order: Sequence[Apply], targets: Sequence[Variable]) -> list[int]:
    """Positions in ``order`` of the nodes that ``targets`` depend on, in run order."""
    wanted: set[int] = set()
    todo = [v.owner for v in targets if v.owner is not None]
    while todo:
        node = todo.pop()
        if id(node) in wanted:
            continue
        wanted.add(id(node))
        todo.extend(i.owner for i in node.inputs if i.owner is not None)
    return [k for k, node in enumerate(order) if id(node) in wanted]


class VM:
    """Base of the VMs: bookkeeping shared by all of them.

    ``pre_call_clear`` are the cells emptied before each run (outputs handed to the caller,
    which must not be overwritten in place later). ``n_updates`` is how many of the graph's
    last outputs are shared-variable updates, always computed whatever ``output_subset``.
    """

    allow_gc = False

    def __init__(self, fgraph, nodes: Sequence[Apply], thunks: Sequence[Callable],
                 pre_call_clear: Sequence[list], storage_map: dict, n_updates: int = 0,
                 callback: Callable | None = None, callback_input: Callable | None = None):
        if len(nodes) != len(thunks):
            raise ValueError(f"VM: {len(nodes)} nodes but {len(thunks)} thunks")
        self.fgraph = fgraph
        self.nodes = list(nodes)
        self.thunks = list(thunks)
        self.pre_call_clear = list(pre_call_clear)
        self.storage_map = storage_map
        self.n_updates = n_updates
        self.callback = callback
        self.callback_input = callback_input
        self.call_counts = [0] * len(self.nodes)
        self.call_times = [0.0] * len(self.nodes)
        self.time_thunks = False
        self.need_update_inputs = True
        self.position_of_error: int | None = None
        self._programs: dict[tuple, tuple] = {}

    # -- what to run ------------------------------------------------------------------------
    def _targets(self, output_subset: Sequence[int]) -> list[Variable]:
        outputs = self.fgraph.outputs
        first_update = len(outputs) - self.n_updates
        chosen = []
        for i in output_subset:
            if not isinstance(i, int) or not 0 <= i < first_update:
                raise ValueError(
                    f"output_subset: {i!r} is not the index of an output "
                    f"(the function has {first_update})"
                )
            chosen.append(outputs[i])
        return chosen + list(outputs[first_update:])

    def _subset_positions(self, output_subset: Sequence[int]) -> list[int]:
        return needed_nodes(self.nodes, self._targets(output_subset))

    # -- running ----------------------------------------------------------------------------
    def __call__(self, output_subset: Sequence[int] | None = None):
        raise NotImplementedError

    def _fail(self, position: int) -> None:
        """Re-raise the exception being handled, naming the node at ``position``."""
        self.position_of_error = position
        raise_with_op(self.nodes[position], self.thunks[position],
                      storage_map=self.storage_map, position=position, fgraph=self.fgraph)

    def _call_input_callback(self) -> None:
        for var, cell in self.storage_map.items():
            if var.owner is None:
                self.callback_input(var, cell[0])

    def _after(self, position: int) -> None:
        self.callback(node=self.nodes[position], thunk=self.thunks[position],
                      storage_map=self.storage_map, compute_map=None)

    def clear_storage(self) -> None:
        """Empty every cell a node computes (outputs included); inputs keep their values."""
        for var, cell in self.storage_map.items():
            if var.owner is not None:
                cell[0] = None

    def update_profile(self, profile: Any) -> None:
        """Add this VM's per-node times and counts to ``profile``, then reset them."""
        for k, node in enumerate(self.nodes):
            profile.apply_time[node] = profile.apply_time.get(node, 0.0) + self.call_times[k]
            profile.apply_callcount[node] = (
                profile.apply_callcount.get(node, 0) + self.call_counts[k]
            )
            self.call_times[k] = 0.0
            self.call_counts[k] = 0


class Loop(VM):
    """Run all (or the needed) thunks in order; keep intermediate results between calls."""

    allow_gc = False

    def _program(self, output_subset):
        if output_subset is None:
            return None
        key = tuple(output_subset)
        prog = self._programs.get(key)
        if prog is None:
            positions = self._subset_positions(output_subset)
            prog = self._programs[key] = (positions, None)
        return prog

    def __call__(self, output_subset: Sequence[int] | None = None):
        for cell in self.pre_call_clear:
            cell[0] = None
        prog = self._program(output_subset)
        if self.callback_input is not None:
            self._call_input_callback()
        if prog is None and not self.time_thunks and self.callback is None:
            k = 0
            try:
                for k, thunk in enumerate(self.thunks):  # noqa: B007 - k names the failing node
                    thunk()
            except Exception:
                self._fail(k)
            return
        positions = range(len(self.thunks)) if prog is None else prog[0]
        self._run_positions(positions, None)

    def _run_positions(self, positions, clears) -> None:
        thunks = self.thunks
        timed = self.time_thunks
        callback = self.callback
        k = -1
        try:
            for j, k in enumerate(positions):
                if timed:
                    t0 = time.perf_counter()
                    thunks[k]()
                    self.call_times[k] += time.perf_counter() - t0
                    self.call_counts[k] += 1
                else:
                    thunks[k]()
                if callback is not None:
                    self._after(k)
                if clears is not None:
                    for cell in clears[j]:
                        cell[0] = None
        except Exception:
            self._fail(k)


class LoopGC(Loop):
    """:class:`Loop` that frees each intermediate result right after its last use."""

    allow_gc = True

    def __init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                 post_thunk_clear: Sequence[list], n_updates: int = 0,
                 callback: Callable | None = None, callback_input: Callable | None = None):
        super().__init__(fgraph, nodes, thunks, pre_call_clear, storage_map, n_updates,
                         callback, callback_input)
        if len(post_thunk_clear) != len(self.nodes):
            raise ValueError("LoopGC: one clear list per node is needed")
        self.post_thunk_clear = list(post_thunk_clear)

    def _program(self, output_subset):
        if output_subset is None:
            return None
        key = tuple(output_subset)
        prog = self._programs.get(key)
        if prog is None:
            positions = self._subset_positions(output_subset)
            order = [self.nodes[k] for k in positions]
            clears = post_thunk_clear_lists(self.fgraph, order, self.storage_map)
            prog = self._programs[key] = (positions, clears)
        return prog

    def __call__(self, output_subset: Sequence[int] | None = None):
        for cell in self.pre_call_clear:
            cell[0] = None
        prog = self._program(output_subset)
        if self.callback_input is not None:
            self._call_input_callback()
        if prog is None and not self.time_thunks and self.callback is None:
            k = 0
            try:
                for k, (thunk, clear) in enumerate(zip(self.thunks, self.post_thunk_clear)):  # noqa: B007
                    thunk()
                    for cell in clear:
                        cell[0] = None
            except Exception:
                self._fail(k)
            return
        if prog is None:
            prog = (range(len(self.thunks)), self.post_thunk_clear)
        self._run_positions(prog[0], prog[1])


class Stack(VM):
    """Evaluate backwards from the outputs, running lazy thunks only as far as they need.

    A lazy thunk returns the indices of the inputs it still needs (they are computed, then it
    is called again) or an empty list once it has written its outputs and marked them in
    ``compute_map``. With ``allow_gc``, a value is freed as soon as every node reading it has
    run; values of branches that were not taken are freed at the end of the call.
    """

    def __init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map, compute_map: dict,
                 allow_gc: bool, n_updates: int = 0, callback: Callable | None = None,
                 callback_input: Callable | None = None):
        super().__init__(fgraph, nodes, thunks, pre_call_clear, storage_map, n_updates,
                         callback, callback_input)
        self.allow_gc = allow_gc
        self.compute_map = compute_map
        self.node_idx = {id(node): k for k, node in enumerate(self.nodes)}
        orderings = fgraph.orderings()
        self.extra_deps = {
            id(node): [out for pre in orderings.get(node, []) for out in pre.outputs]
            for node in self.nodes
        }
        self.outputs_set = set(fgraph.outputs)
        self.dependencies = self._gc_dependencies()

    def _gc_dependencies(self) -> dict:
        """For each computed variable, the variables whose computation reads it."""
        deps: dict = {}
        for node in self.nodes:
            for var in node.inputs:
                if var.owner is not None:
                    deps.setdefault(var, []).extend(node.outputs)
        return deps

    def __call__(self, output_subset: Sequence[int] | None = None):
        storage_map, compute_map = self.storage_map, self.compute_map
        for cell in self.pre_call_clear:
            cell[0] = None
        for var, cell in compute_map.items():
            cell[0] = var.owner is None
        if self.callback_input is not None:
            self._call_input_callback()
        targets = (self.fgraph.outputs if output_subset is None
                   else self._targets(output_subset))
        stack = [v.owner for v in reversed(list(targets)) if v.owner is not None]
        while stack:
            node = stack.pop()
            k = self.node_idx[id(node)]
            thunk = self.thunks[k]
            deps = node.inputs + self.extra_deps[id(node)]
            ins_done = all(compute_map[v][0] for v in deps)
            outs_done = all(compute_map[v][0] for v in node.outputs)
            if outs_done:
                continue
            if not thunk.lazy:
                if not ins_done:
                    stack.append(node)
                    stack.extend(v.owner for v in deps
                                 if v.owner is not None and not compute_map[v][0])
                    continue
                self._run(k)
                for out in node.outputs:
                    compute_map[out][0] = 1
                self._free_inputs(node)
                continue
            requires = self._run(k)
            if requires:
                for r in requires:
                    stack.append(node)
                    owner = node.inputs[r].owner
                    if owner is not None and not compute_map[node.inputs[r]][0]:
                        stack.append(owner)
            else:
                self._free_inputs(node)
        if self.allow_gc:
            for var, cell in storage_map.items():
                if var.owner is not None and var not in self.outputs_set:
                    cell[0] = None

    def _run(self, k: int):
        try:
            t0 = time.perf_counter()
            result = self.thunks[k]()
            self.call_times[k] += time.perf_counter() - t0
            self.call_counts[k] += 1
        except Exception:
            self._fail(k)
        if self.callback is not None:
            self.callback(node=self.nodes[k], thunk=self.thunks[k],
                          storage_map=self.storage_map, compute_map=self.compute_map)
        return result

    def _free_inputs(self, node: Apply) -> None:
        if not self.allow_gc:
            return
        compute_map = self.compute_map
        for var in node.inputs:
            readers = self.dependencies.get(var)
            if (readers and var not in self.outputs_set
                    and all(compute_map[d][0] for d in readers)):
                self.storage_map[var][0] = None
                compute_map[var][0] = 2


if _cvm is not None:

    class CLoop(_cvm.LoopCore, Loop):
        """:class:`Loop` whose calls run in the Cython VM."""

        def __init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                     n_updates: int = 0, callback: Callable | None = None,
                     callback_input: Callable | None = None):
            Loop.__init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                          n_updates, callback, callback_input)
            self._cvm_build(self.thunks, self.pre_call_clear)

    class CLoopGC(_cvm.LoopCore, LoopGC):
        """:class:`LoopGC` whose calls run in the Cython VM (same "free after last use")."""

        def __init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                     post_thunk_clear: Sequence[list], n_updates: int = 0,
                     callback: Callable | None = None,
                     callback_input: Callable | None = None):
            LoopGC.__init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                            post_thunk_clear, n_updates, callback, callback_input)
            self._cvm_build(self.thunks, self.pre_call_clear, self.post_thunk_clear)

    class CStack(_cvm.StackCore, Stack):
        """:class:`Stack` (lazy evaluation) whose bookkeeping runs in the Cython VM."""

        def __init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                     compute_map: dict, allow_gc: bool, n_updates: int = 0,
                     callback: Callable | None = None,
                     callback_input: Callable | None = None):
            Stack.__init__(self, fgraph, nodes, thunks, pre_call_clear, storage_map,
                           compute_map, allow_gc, n_updates, callback, callback_input)
            self._cvm_build(self.thunks, self.pre_call_clear)
else:
    CLoop = CLoopGC = CStack = None


def cvm_available() -> bool:
    """Whether the Cython VM extension is built and importable in this installation."""
    return _cvm is not None


class VMLinker(LocalLinker):
    """Linker making a VM over per-node thunks (``'vm'``, ``'vm_nogc'``, ``'cvm'``...).

    Arguments as Theano 1.0's ``VM_Linker``: ``allow_gc`` (None reads the flag when the
    function is made), ``use_cloop`` (the Cython VM: :class:`CLoop`, :class:`CLoopGC`,
    :class:`CStack`; when the extension is not built, the Python VMs after one
    FallbackWarning),
    ``callback(node=, thunk=, storage_map=, compute_map=)`` after each node,
    ``callback_input(var, value)`` for each graph input, ``lazy`` (None: the ``vm.lazy``
    flag, then "only when a lazy Op is present"), ``c_thunks`` (None: C thunks when a C
    thunk maker is registered) and ``allow_partial_eval`` (accepted; every VM here supports
    ``output_subset``).
    """

    def __init__(self, allow_gc: bool | None = None, use_cloop: bool = False,
                 callback: Callable | None = None, callback_input: Callable | None = None,
                 lazy: bool | None = None, schedule: Callable | None = None,
                 c_thunks: bool | None = None, allow_partial_eval: bool | None = None):
        super().__init__(allow_gc=allow_gc, schedule=schedule)
        self.use_cloop = bool(use_cloop)
        self.callback = callback
        self.callback_input = callback_input
        self.lazy = lazy
        self.c_thunks = c_thunks
        self.allow_partial_eval = allow_partial_eval
        self.updated_vars: dict = {}

    def accept_var_updates(self, updated_vars: dict) -> None:
        """Remember which graph inputs are updated from which outputs (Theano 1.0's hook)."""
        self.updated_vars = dict(updated_vars)

    def _impl(self) -> str:
        if self.c_thunks is not False and "c" in _thunk_makers:
            return "c"
        return "py"

    def _want_lazy(self, thunks) -> bool:
        lazy = self.lazy
        if lazy is None:
            lazy = config.vm__lazy
        if lazy is None:
            lazy = any(th.lazy for th in thunks)
        return bool(lazy)

    def make_all(self, input_storage=None, output_storage=None, storage_map=None):
        self.check_bound()
        fgraph = self.fgraph
        order = self.schedule(fgraph)
        input_storage, output_storage, storage_map = map_storage(
            fgraph, order, input_storage, output_storage, storage_map)
        compute_map = {var: [var.owner is None] for var in storage_map}
        thunks = make_thunks(order, storage_map, compute_map, self._impl())
        vm = self.make_vm(order, thunks, storage_map, compute_map)
        ins, outs = containers_for(fgraph, input_storage, output_storage)
        return vm, ins, outs, thunks, order

    def _use_cvm(self) -> bool:
        if not self.use_cloop:
            return False
        if _cvm is None:
            # Warned when a function is made, not when the linker is (mode.py makes one at
            # import time).
            warn_fallback("VM_Linker(use_cloop=True)", _CVM_MISSING,
                          "running with the Python VM")
            return False
        return True

    def vm_classes(self, cvm: bool) -> tuple[type, type, type]:
        """The (lazy, gc loop, loop) VM classes to build from; ``cvm``: the Cython ones.

        A hook for checking modes (tdebug's NanGuardMode) that run the same VMs with a
        little work around each call: they return subclasses of these.
        """
        return (CStack, CLoopGC, CLoop) if cvm else (Stack, LoopGC, Loop)

    def make_vm(self, order, thunks, storage_map, compute_map) -> VM:
        """The VM for a built program: Stack when lazy, else LoopGC or Loop (C* with cloop)."""
        fgraph = self.fgraph
        stack, loop_gc, loop = self.vm_classes(self._use_cvm())
        allow_gc = self.effective_allow_gc()
        pre_call_clear = unique_cells(storage_map[v] for v in self.no_recycling
                                       if v in storage_map)
        n_updates = len(fgraph.update_mapping or {})
        common = dict(n_updates=n_updates, callback=self.callback,
                      callback_input=self.callback_input)
        if self._want_lazy(thunks):
            vm = stack(fgraph, order, thunks, pre_call_clear, storage_map, compute_map,
                       allow_gc, **common)
        elif allow_gc:
            clears = post_thunk_clear_lists(fgraph, order, storage_map)
            vm = loop_gc(fgraph, order, thunks, pre_call_clear, storage_map, clears, **common)
        else:
            vm = loop(fgraph, order, thunks, pre_call_clear, storage_map, **common)
        if not isinstance(vm, Stack) and any(th.lazy for th in thunks):
            # In a straight loop every input is computed before its reader runs.
            for cell in compute_map.values():
                cell[0] = True
        return vm


VM_Linker = VMLinker  # Theano 1.0's name


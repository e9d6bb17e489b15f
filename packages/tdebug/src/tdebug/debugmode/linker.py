"""The DebugMode linker: every node run and checked, one node at a time, on copies.

For each node of the optimized graph, in the schedule's order, a call:

1. copies the node's inputs and runs its Python ``perform`` on the copies, then its C thunk
   (when ``check_c`` and the Op has C code) on fresh copies;
2. checks each run: inputs not in ``destroy_map`` unchanged (BadDestroyMap), outputs not in
   ``view_map`` sharing no memory with an input or another output (BadViewMap), outputs
   fitting their Type and finite (InvalidValueError);
3. compares C with Python within the dtype's tolerance (BadThunkOutput);
4. with ``check_strides``, reruns each implementation on non-contiguous, reversed and
   Fortran-ordered copies of the inputs, and with ``check_preallocated_output`` on output
   storage preallocated in each listed way; the first that differs is a BadThunkOutput;
5. keeps the reference result (Python's, else C's) as the value every later node reads.

Then the nodes the optimizer removed, that computed the variables it replaced, run once in
Python (their inputs are values already computed), and each recorded replacement is checked:
old and new values must agree, else BadOptimization naming the rewrite. Every node runs a
bounded number of times per call, so the cost is linear in the graph.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tdebug.debugmode.checks import (
    check_value,
    copy_value,
    input_layouts,
    preallocated_outputs,
    same_replaced_value,
    same_value,
    unchanged,
)
from tdebug.debugmode.errors import (
    BadDestroyMap,
    BadOptimization,
    BadThunkOutput,
    BadViewMap,
    DebugModeError,
)
from tgraph.graph.basic import Apply, Constant
from tgraph.printing import debugprint
from tlink.compile.maker import alias_root, view_tree_set
from tlink.linker.base import (
    LocalLinker,
    containers_for,
    make_node_thunk,
    make_thunks,
    map_storage,
)
from tlink.linker.errors import raise_with_op
from tlink.linker.vm import VM

__all__ = ["DebugLinker", "DebugSettings", "DebugVM"]

_logger = logging.getLogger("tdebug.debugmode")


@dataclass
class DebugSettings:
    """What the DebugMode linker checks (the constructor's arguments, flags resolved)."""

    check_py: bool = True
    check_c: bool = True
    check_isfinite: bool = True
    check_strides: int = 0
    check_preallocated_output: list[str] = field(default_factory=list)
    preallocated_output_ndim: int = 4
    warn_input_not_reused: bool = True


class _NodeRun:
    """One node's thunks and private storage cells: py (always) and C (when it has C)."""

    __slots__ = ("allowed", "c", "c_map", "destroyed", "node", "previous", "protect", "py",
                 "py_map", "skip")

    def __init__(self, node: Apply, py: Any, c: Any, py_map: dict, c_map: dict):
        self.node, self.py, self.c, self.py_map, self.c_map = node, py, c, py_map, c_map
        op = node.op
        dmap = getattr(op, "destroy_map", {}) or {}
        vmap = getattr(op, "view_map", {}) or {}
        self.destroyed = {i for ins in dmap.values() for i in ins}
        self.allowed = [set(dmap.get(k, ())) | set(vmap.get(k, ()))
                        for k in range(len(node.outputs))]
        self.previous: list | None = None
        # Positions whose variable the node destroys (at any position): their change is due.
        gone = {id(node.inputs[i]) for i in self.destroyed}
        self.skip = {i for i, v in enumerate(node.inputs) if id(v) in gone}
        # The variables whose memory the destroyed inputs share (filled by the VM).
        self.protect: list = []


def _run(thunk: Any, node: Apply, cells: dict, inputs: Sequence[Any],
         outputs: Sequence[Any] | None = None) -> tuple[list, list]:
    """Run ``thunk`` on ``inputs`` (and preallocated ``outputs``); return (inputs, outputs)
    as the cells hold them afterwards."""
    for var, value in zip(node.inputs, inputs):
        cells[var][0] = value
    for k, var in enumerate(node.outputs):
        cells[var][0] = None if outputs is None else outputs[k]
    try:
        thunk()
    except DebugModeError:
        raise
    except Exception:
        raise_with_op(node, thunk, storage_map=cells)
    return ([cells[v][0] for v in node.inputs], [cells[v][0] for v in node.outputs])


def _fresh_inputs(node: Apply, values: Sequence[Any]) -> list:
    """Copies of the inputs; a variable given twice gets one copy, as it has one cell."""
    seen: dict[int, Any] = {}
    out = []
    for var, value in zip(node.inputs, values):
        key = id(var)
        if key not in seen:
            seen[key] = copy_value(value)
        out.append(seen[key])
    return out


def _restore(values: Sequence[Any], pristine: Sequence[Any]) -> None:
    """Undo what an Op wrote into values it was not allowed to change."""
    for value, saved in zip(values, pristine):
        if isinstance(value, np.ndarray) and value is not saved and value.flags.writeable:
            try:
                value[...] = saved
            except (ValueError, TypeError):
                pass


class DebugLinker(LocalLinker):
    """Theano 1.0's DebugMode linker: builds a :class:`DebugVM` for the bound graph."""

    def __init__(self, settings: DebugSettings | None = None, schedule: Any = None):
        super().__init__(allow_gc=False, schedule=schedule)
        self.settings = settings or DebugSettings()

    def make_all(self, input_storage=None, output_storage=None, storage_map=None):
        self.check_bound()
        fgraph = self.fgraph
        order = self.schedule(fgraph)
        input_storage, output_storage, storage_map = map_storage(
            fgraph, order, input_storage, output_storage, storage_map)
        vm = DebugVM(fgraph, order, storage_map, self.settings)
        ins, outs = containers_for(fgraph, input_storage, output_storage)
        return vm, ins, outs, vm.thunks, order


class DebugVM:
    """The callable a DebugMode function runs: computes and checks every node per call.

    It has the attributes ``Function`` and the profiler read from a VM (``nodes``,
    ``thunks``, ``storage_map``, ``call_counts``, ``call_times``, ``allow_gc``,
    ``need_update_inputs``).
    """

    allow_gc = False
    need_update_inputs = True

    def __init__(self, fgraph: Any, order: Sequence[Apply], storage_map: dict,
                 settings: DebugSettings):
        self.fgraph = fgraph
        self.nodes = list(order)
        self.storage_map = storage_map
        self.settings = settings
        self.time_thunks = False
        self.call_counts = [0] * len(self.nodes)
        self.call_times = [0.0] * len(self.nodes)
        self.position_of_error: int | None = None
        self._runs = self._make_runs()
        self.thunks = [r.py for r in self._runs]
        self._extra, self._extra_map, self._checks = self._replaced_graph()
        self._protect()

    # -- building --------------------------------------------------------------------------
    def _make_runs(self) -> list[_NodeRun]:
        order = self.nodes
        py_map = {var: [None] for var in self.storage_map}
        compute_map = {var: [True] for var in py_map}
        py_thunks = make_thunks(order, py_map, compute_map, "py")
        c_thunks: list = [None] * len(order)
        c_map: dict = {}
        if self.settings.check_c:
            c_map = {var: [None] for var in self.storage_map}
            c_compute = {var: [True] for var in c_map}
            made = make_thunks(order, c_map, c_compute, "c")
            c_thunks = [t if getattr(t, "perform", None) == "c" else None for t in made]
        runs = [_NodeRun(node, py, c, py_map, c_map)
                for node, py, c in zip(order, py_thunks, c_thunks)]
        return runs

    def _protect(self) -> None:
        """For each node destroying inputs, the computed variables sharing their memory that
        something reads later (the node's own checks, the replaced nodes, the replacement
        checks); only those are copied before it runs, so a chain of in-place Ops costs one
        copy per link."""
        needed: set = {v for _node, srcs, _thunk in self._extra for v in srcs}
        needed.update(v for r in self._checks for v in (r.old, r.new))
        for run in self._runs:
            if not run.destroyed:
                continue
            tree: set = set()
            for i in run.destroyed:
                view_tree_set(self.fgraph, alias_root(run.node.inputs[i]), tree)
            mine = set(run.node.inputs)
            run.protect = [v for v in tree if v in mine or v in needed]

    def _replaced_graph(self) -> tuple[list, dict, list]:
        """The removed nodes needed to recompute the replaced variables, in a runnable order,
        with where each reads its inputs, and the replacements to check, ordered by where in
        the graph they happened (so the first failure reported is the earliest).

        A removed node reads each input from the variable that finally replaced it, so a
        replaced variable is recomputed by its own (old) subgraph from the same values the
        new graph reads: each check blames the one rewrite that changed the value, not
        every later rewrite downstream of it.
        """
        tracker = getattr(self.fgraph, "equivalence_tracker", None)
        if tracker is None:
            return [], {}, []
        records = tracker.replacements()
        self._replaced_by = {r.old: r.new for r in records}
        self._records_by_pair = {(r.old, r.new): r for r in records}

        def final(var):
            return self._chain(var)[0]

        live = set(self.nodes)
        sources: dict[Apply, list] = {}
        todo = [v for r in records for v in (r.old, r.new)]
        while todo:
            node = todo.pop().owner
            if node is None or node in live or node in sources:
                continue
            srcs = sources[node] = [final(v) for v in node.inputs]
            todo.extend(srcs)
        extra_order = _toposort(sources, live)
        position = {node: k for k, node in enumerate(self.nodes)}
        base = len(self.nodes)
        position.update({node: base + k for k, node in enumerate(extra_order)})
        xmap: dict = {}
        for node in extra_order:
            for var in (*node.inputs, *node.outputs):
                xmap.setdefault(var, [None])
        compute_map = {var: [True] for var in xmap}
        thunks = []
        for node in extra_order:
            try:
                thunk = make_node_thunk(node, xmap, compute_map, [], "py")
            except Exception as exc:  # a removed node that cannot run: its checks are skipped
                _logger.info("DebugMode cannot run the replaced node %s: %s", node, exc)
                continue
            thunks.append((node, sources[node], thunk))
        stabilizing = _stabilize_names()
        checks = sorted(records, key=lambda r: (max(position.get(r.new.owner, -1),
                                                     position.get(r.old.owner, -1)), r.order))
        for rec in checks:
            rec.stabilizing = _rewrite_name(rec.reason) in stabilizing
        self._live = set(self.fgraph.inputs)
        self._live.update(v for node in self.nodes for v in node.outputs)
        return thunks, xmap, checks

    # -- running ---------------------------------------------------------------------------
    def __call__(self, output_subset: Sequence[int] | None = None) -> None:
        values: dict = {}
        for var in self.fgraph.inputs:
            values[var] = self.storage_map[var][0]
        timed = self.time_thunks
        for k, run in enumerate(self._runs):
            node = run.node
            for var in node.inputs:
                if var not in values and isinstance(var, Constant):
                    values[var] = var.data
            inputs = [values[v] for v in node.inputs]
            t0 = time.perf_counter() if timed else 0.0
            try:
                outs = self._check_node(run, inputs, values)
            except Exception:
                self.position_of_error = k
                raise
            if timed:
                self.call_times[k] += time.perf_counter() - t0
            self.call_counts[k] += 1
            values.update(zip(node.outputs, outs))
        self._check_replacements(values)
        for var, cell in self.storage_map.items():
            if var.owner is not None:
                cell[0] = values.get(var)

    def _check_node(self, run: _NodeRun, inputs: list, values: dict) -> list:
        s = self.settings
        node = run.node
        impls = []
        if s.check_py or run.c is None:
            impls.append(("perform", run.py, run.py_map))
        if run.c is not None:
            impls.append(("c_code", run.c, run.c_map))
        reference: list | None = None
        ref_name = ""
        for name, thunk, cells in impls:
            if reference is None:
                # The reference run reads the values themselves (views alias them and
                # destroyed inputs are overwritten, as in any other mode), checked against
                # copies; every value sharing memory with a destroyed input is first
                # replaced, for the checks and nodes that read it later, by a copy.
                if run.destroyed:
                    for var in run.protect:
                        if var in values:
                            values[var] = copy_value(values[var])
                    pristine = [values[v] for v in node.inputs]
                    pristine = [copy_value(p) if p is v and i not in run.skip else p
                                for i, (p, v) in enumerate(zip(pristine, inputs))]
                else:
                    pristine = _fresh_inputs(node, inputs)
                after, outs = _run(thunk, node, cells, list(inputs))
                try:
                    self._check_run(run, name, pristine, after, outs)
                except BadDestroyMap:
                    _restore(inputs, pristine)
                    raise
                inputs = pristine if run.destroyed else inputs
                reference, ref_name = outs, name
                continue
            given = _fresh_inputs(node, inputs)
            after, outs = _run(thunk, node, cells, given)
            self._check_run(run, name, inputs, after, outs)
            for var, a, b in zip(node.outputs, reference, outs):
                if not same_value(var, a, b):
                    raise BadThunkOutput(var, ref_name, a, name, b, inputs)
                if s.check_strides and isinstance(a, np.ndarray) and isinstance(b, np.ndarray) \
                        and a.strides != b.strides and a.size > 1:
                    if s.check_strides >= 2:
                        raise BadThunkOutput(var, ref_name, a, name, b, inputs,
                                             reason="the strides differ")
                    _logger.warning("DebugMode: output %d of %s has strides %s in %s but %s "
                                    "in %s", node.outputs.index(var), node.op, a.strides,
                                    ref_name, b.strides, name)
        assert reference is not None
        if s.check_strides:
            for layout, moved in input_layouts(inputs):
                for name, thunk, cells in impls:
                    given = moved if name == impls[-1][0] else [copy_value(v) for v in moved]
                    _after, outs = _run(thunk, node, cells, given)
                    self._compare(node, ref_name, reference, name, outs, inputs,
                                  f"with {layout} inputs")
        if s.check_preallocated_output:
            for kind, prealloc in preallocated_outputs(
                    s.check_preallocated_output, reference, run.previous,
                    s.preallocated_output_ndim):
                for name, thunk, cells in impls:
                    _after, outs = _run(thunk, node, cells, _fresh_inputs(node, inputs),
                                        [copy_value(p) for p in prealloc])
                    self._compare(node, ref_name, reference, name, outs, inputs,
                                  f"with output storage preallocated as {kind}")
            run.previous = [copy_value(r) for r in reference]
        return reference

    @staticmethod
    def _compare(node: Apply, ref_name: str, reference: list, name: str, outs: list,
                 inputs: list, reason: str) -> None:
        for var, a, b in zip(node.outputs, reference, outs):
            if not same_value(var, a, b):
                raise BadThunkOutput(var, ref_name, a, name, b, inputs, reason=reason)

    def _check_run(self, run: _NodeRun, impl: str, originals: list, after: list,
                   outs: list) -> None:
        node = run.node
        short = "py" if impl == "perform" else "c"
        for i, (orig, now) in enumerate(zip(originals, after)):
            if i not in run.skip and not unchanged(orig, now):
                raise BadDestroyMap(node, i, orig, now, short, originals)
        for k, (var, out) in enumerate(zip(node.outputs, outs)):
            check_value(var, out, self.settings.check_isfinite)
            if not isinstance(out, np.ndarray):
                continue
            allowed = run.allowed[k]
            for i, given in enumerate(after):
                if i in allowed or not isinstance(given, np.ndarray):
                    continue
                if np.may_share_memory(out, given):
                    raise BadViewMap(node, k, out, in_alias_idx=i, perform=short,
                                     inputs_val=originals)
            for j in range(k):
                other = outs[j]
                if (isinstance(other, np.ndarray) and not (allowed & run.allowed[j])
                        and np.may_share_memory(out, other)):
                    raise BadViewMap(node, k, out, out_alias_idx=j, perform=short,
                                     inputs_val=originals)
            if self.settings.warn_input_not_reused:
                for i in allowed:
                    given = after[i]
                    if isinstance(given, np.ndarray) and given.size > 0 \
                            and not np.may_share_memory(out, given):
                        _logger.warning(
                            "DebugMode: %s declares output %d a view or in-place version of "
                            "input %d, but the %s implementation allocated new memory",
                            node, k, i, short)

    def _check_replacements(self, values: dict) -> None:
        """Compute what the removed nodes computed, then check every replacement."""
        if not self._checks:
            return
        with np.errstate(all="ignore"):  # the old forms overflow where rewrites fixed it
            self._run_replaced(values)
        live = self._live
        for rec in self._checks:
            old, new, reason, stabilizing = rec.old, rec.new, rec.reason, rec.stabilizing
            intermediate = new not in live
            if intermediate:
                # A form the final graph no longer computes: judge the rewrite by what
                # finally replaced it (the chain old -> ... -> final), when that is known.
                later, steps = self._chain(new)
                if later is not new and later in live:
                    new, intermediate = later, False
                    later_names = ", ".join(_rewrite_name(r.reason) for r in steps)
                    reason = f"{_rewrite_name(rec.reason)} (then {later_names})"
                    stabilizing = stabilizing or any(r.stabilizing for r in steps)
            if old not in values or new not in values:
                continue
            a, b = values[old], values[new]
            compare = getattr(new.tag, "values_eq_approx", None)
            if stabilizing and compare is None:
                compare = _stabilized_eq(old.type)
            if intermediate:
                a, b = _where_finite(a, b)
            if not same_replaced_value(old, a, b, compare):
                raise BadOptimization(old, new, a, b, reason,
                                      _graph_text(old), _graph_text(new))

    def _chain(self, var: Any) -> tuple[Any, list]:
        """The variable that finally replaced ``var`` and the replacements leading there."""
        steps, seen = [], {var}
        while var in self._replaced_by and self._replaced_by[var] not in seen:
            nxt = self._replaced_by[var]
            steps.append(self._records_by_pair[(var, nxt)])
            var = nxt
            seen.add(var)
        return var, steps

    def _run_replaced(self, values: dict) -> None:
        """Run the removed nodes, each reading the values of what replaced its inputs."""
        xmap = self._extra_map
        for node, srcs, thunk in self._extra:
            if not all(v in values or isinstance(v, Constant) for v in srcs):
                continue  # an input no node computed (e.g. one a swap replaced)
            inputs = [values[v] if v in values else v.data for v in srcs]
            dmap = getattr(node.op, "destroy_map", {}) or {}
            destroyed = {i for ins in dmap.values() for i in ins}
            for i, (var, value) in enumerate(zip(node.inputs, inputs)):
                xmap[var][0] = copy_value(value) if i in destroyed else value
            for var in node.outputs:
                xmap[var][0] = None
            try:
                thunk()
            except Exception as exc:
                _logger.info("DebugMode: the replaced node %s failed: %s", node, exc)
                continue
            for var in node.outputs:
                values[var] = xmap[var][0]

    # -- the VM protocol -------------------------------------------------------------------
    # The same bookkeeping as tlink's VMs (this runner has their storage_map, nodes,
    # call_times and call_counts attributes).
    clear_storage = VM.clear_storage
    update_profile = VM.update_profile


def _toposort(sources: dict, done: set) -> list[Apply]:
    """The nodes of ``sources`` (node -> the variables it reads) ordered so each comes after
    those it reads (Kahn's algorithm); a node on a cycle is left out."""
    nodes = list(sources)
    deps = {n: {v.owner for v in sources[n] if v.owner in sources} for n in nodes}
    users: dict[Apply, list] = {n: [] for n in nodes}
    for n, ds in deps.items():
        for d in ds:
            users[d].append(n)
    ready = [n for n in nodes if not deps[n]]
    out = []
    while ready:
        n = ready.pop()
        out.append(n)
        for u in users[n]:
            deps[u].discard(n)
            if not deps[u]:
                ready.append(u)
    return out


def _rewrite_name(reason: Any) -> str:
    return str(getattr(reason, "name", None) or getattr(reason, "__name__", None) or reason)


def _where_finite(old: Any, new: Any) -> tuple[Any, Any]:
    """The two values where ``new`` is finite (all of both when they cannot be compared so).

    Used for an intermediate form that later rewrites removed from the graph: canonical
    forms such as ``exp(x) / (1 + exp(x))`` overflow in float32 where the final, stabilized
    graph does not, so only a difference in finite values is that rewrite's fault.
    """
    if (isinstance(old, np.ndarray) and isinstance(new, np.ndarray)
            and new.dtype.kind in "fc" and old.shape == new.shape):
        finite = np.isfinite(new)
        if not finite.all():
            return old[finite], new[finite]
    return old, new


def _stabilize_names() -> set[str]:
    """Names of the rewrites of topt's stabilize phase (empty if topt has none)."""
    try:
        from topt.optdb import optdb

        return set(optdb["stabilize"].names())
    except Exception:
        return set()


def _stabilized_eq(vtype: Any):
    """The comparison for a rewrite of the stabilize phase.

    Such a rewrite exists because the old form loses precision where it matters (in float64,
    ``1 - sigmoid(36.7)`` is 2.2e-16 instead of 1.1e-16, so a gradient through it is off
    by 2), so demanding the old value to the last digits would report every correct
    stabilization. It must keep the sign and the order of magnitude (a ratio within
    [1/4, 4], or agreement within the Type's tolerance) and never turn a finite value into
    NaN or Inf; Inf and NaN of the old form are ignored (see ``same_replaced_value``), and so
    are its exact zeros: underflow and cancellation (``1 - sigmoid(20)`` is 0 in float32) are
    the other loss these rewrites repair.
    """
    base = getattr(vtype, "values_eq_approx", None)

    def compare(a, b):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype.kind not in "fc" or base is None:
            return base(a, b) if base is not None else unchanged(a, b)
        if base(a, b):
            return True
        with np.errstate(all="ignore"):
            close = np.isclose(a, b, rtol=1e-4, atol=1e-6)
            ratio = np.where(a != 0, b / np.where(a != 0, a, 1), np.inf)
            near = np.isfinite(b) & (ratio >= 0.25) & (ratio <= 4)
            lost = (a == 0) & np.isfinite(b)
        return bool(np.all(close | near | lost))

    return compare


def _graph_text(var: Any) -> str:
    """The graph computing ``var`` as debugprint shows it (a few levels deep)."""
    try:
        return debugprint(var, depth=6, print_type=True, file="str")
    except Exception as exc:  # printing must never hide the error being reported
        return f"<cannot print the graph of {var}: {exc}>"

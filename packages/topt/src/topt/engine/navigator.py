"""Drivers that apply local rewrites over a graph: one pass, or until nothing changes.

:class:`TopoOptimizer` walks the nodes once in dependency order (``in_to_out``) or the
reverse (``out_to_in``), also visiting the nodes that replacements create.
:class:`EquilibriumOptimizer` applies its rewrites until none applies anywhere.

Cost. Theano 1.0's equilibrium rescanned the whole graph each pass. Ours keeps a worklist:
every node once at the start, then only nodes that a replacement created, whose inputs
changed, or that lost a client (a rewrite requiring a single client may now apply). Rewrites
are looked up by the node's Op class (:class:`~topt.engine.local.TrackIndex`), so each node
meets only the rewrites that track it. Rewriting is thus proportional to the graph size
times the rewrites per Op, plus the work the replacements cause.

Termination. Two rewrites that undo each other would run forever; each rewrite may apply at
most ``max_use_ratio * n_nodes`` times per run (flag ``optdb.max_use_ratio``) and an
:class:`EquilibriumLimitError` names the one that exceeded it.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from tgraph import config
from tgraph.graph.basic import Apply, graph_inputs, io_toposort
from tgraph.graph.features import Feature
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from topt.engine.base import (
    GlobalOptimizer,
    LocalOptimizer,
    call_transform,
    ensure_replace_validate,
    handle_rewrite_error,
    rewrite_name,
)
from topt.engine.local import LocalOptGroup, TrackIndex
from topt.engine.profile import RewriteProfile

__all__ = [
    "ChangeTracker",
    "EquilibriumLimitError",
    "EquilibriumOptimizer",
    "NavigatorOptimizer",
    "OpKeyOptimizer",
    "TopoOptimizer",
    "Updater",
    "in2out",
    "out2in",
    "pre_greedy_local_optimizer",
]


class EquilibriumLimitError(RuntimeError):
    """A rewrite applied so often that it is probably undoing another rewrite."""


class Updater(Feature):
    """Forwards a graph's imports, prunes and input changes to three callbacks."""

    def __init__(self, importer: Callable | None, pruner: Callable | None,
                 chin: Callable | None, name: str | None = None):
        self.importer = importer
        self.pruner = pruner
        self.chin = chin
        self.name = name

    def on_import(self, fgraph, node, reason):
        if self.importer is not None:
            self.importer(node)

    def on_prune(self, fgraph, node, reason):
        if self.pruner is not None:
            self.pruner(node)

    def on_change_input(self, fgraph, node, i, r, new_r, reason):
        if self.chin is not None:
            self.chin(node, i, r, new_r, reason)

    def on_detach(self, fgraph):
        self.importer = self.pruner = self.chin = None


class ChangeTracker(Feature):
    """Counts the changes made to a graph (``changed`` is true after any)."""

    def __init__(self):
        self.changes = 0

    @property
    def changed(self) -> bool:
        return self.changes > 0

    def reset(self) -> None:
        self.changes = 0

    def on_import(self, fgraph, node, reason):
        self.changes += 1

    def on_change_input(self, fgraph, node, i, r, new_r, reason):
        self.changes += 1

    def on_attach(self, fgraph):
        fgraph.change_tracker = self

    def on_detach(self, fgraph):
        if getattr(fgraph, "change_tracker", None) is self:
            del fgraph.change_tracker


def _replacement_pairs(lopt: Any, node: Apply, repl: Any) -> tuple[list, list]:
    """Normalise what a local rewrite returned into (old, new) pairs and nodes to remove."""
    remove: list = []
    if isinstance(repl, dict):
        repl = dict(repl)
        remove = list(repl.pop("remove", []))
        pairs = list(repl.items())
    elif isinstance(repl, list | tuple):
        if len(repl) != len(node.outputs):
            raise ValueError(
                f"rewrite {rewrite_name(lopt)} returned {len(repl)} replacement(s) for "
                f"{node}, which has {len(node.outputs)} output(s)"
            )
        pairs = list(zip(node.outputs, repl))
    else:
        raise TypeError(
            f"rewrite {rewrite_name(lopt)} returned {type(repl).__name__}; expected False, "
            "None, a list of replacements or a dict {old: new}"
        )
    return [(old, new) for old, new in pairs if old is not new], remove


class NavigatorOptimizer(GlobalOptimizer):
    """Base of the drivers: applies a local rewrite to nodes and replaces their outputs.

    A failure inside the rewrite or while replacing is handled by ``failure_callback(exc,
    self, pairs, lopt, node)`` when one is given, else by ``config.on_opt_error``; a veto of
    the replacement by a feature (InconsistencyError) just means "not applied".
    """

    def __init__(self, local_opt: LocalOptimizer | None, ignore_newtrees: Any = "auto",
                 failure_callback: Callable | None = None):
        self.local_opt = local_opt
        self.ignore_newtrees = False if ignore_newtrees == "auto" else bool(ignore_newtrees)
        self.failure_callback = failure_callback

    @staticmethod
    def warn(exc, nav, repl_pairs, local_opt, node) -> None:
        """Failure callback following ``on_opt_error`` (Theano 1.0's ``warn``)."""
        handle_rewrite_error(exc, local_opt, node)

    warn_inplace = warn

    @staticmethod
    def warn_ignore(exc, nav, repl_pairs, local_opt, node) -> None:
        """Failure callback ignoring every failure."""

    def attach_updater(self, fgraph: FunctionGraph, importer, pruner, chin=None,
                       name: str | None = None) -> Updater | None:
        if self.ignore_newtrees:
            importer = None
        if importer is None and pruner is None and chin is None:
            return None
        u = Updater(importer, pruner, chin, name=name)
        fgraph.attach_feature(u)
        return u

    def detach_updater(self, fgraph: FunctionGraph, u: Updater | None) -> None:
        if u is not None:
            fgraph.remove_feature(u)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        ensure_replace_validate(fgraph)
        if self.local_opt is not None:
            self.local_opt.add_requirements(fgraph)

    def _fail(self, exc, pairs, lopt, node) -> None:
        if isinstance(exc, InconsistencyError):
            return
        if self.failure_callback is not None:
            self.failure_callback(exc, self, pairs, lopt, node)
        else:
            handle_rewrite_error(exc, lopt, node)

    def process_node(self, fgraph: FunctionGraph, node: Apply,
                     lopt: LocalOptimizer | None = None) -> bool:
        """Try ``lopt`` (default: this driver's) on ``node``; True when the graph changed."""
        lopt = lopt or self.local_opt
        try:
            repl = call_transform(lopt, fgraph, node)
            if not repl:
                return False
            pairs, remove = _replacement_pairs(lopt, node, repl)
        except Exception as exc:
            self._fail(exc, [(o, None) for o in node.outputs], lopt, node)
            return False
        if not pairs and not remove:
            return False
        try:
            chk = fgraph.checkpoint() if remove else None
            fgraph.replace_all_validate(pairs, reason=lopt)
            if remove and any(n in fgraph.apply_nodes for n in remove):
                fgraph.revert(chk)  # the replacement did not remove what it promised
                return False
        except Exception as exc:
            self._fail(exc, pairs, lopt, node)
            return False
        return True


class TopoOptimizer(NavigatorOptimizer):
    """Apply a local rewrite to every node once, in (reverse) dependency order.

    ``order='in_to_out'`` visits inputs before their clients, ``'out_to_in'`` the opposite.
    Nodes created by replacements are visited too unless ``ignore_newtrees``.
    """

    def __init__(self, local_opt: LocalOptimizer, order: str = "in_to_out",
                 ignore_newtrees: bool = False, failure_callback: Callable | None = None):
        if order not in ("in_to_out", "out_to_in"):
            raise ValueError(f"TopoOptimizer: order must be 'in_to_out' or 'out_to_in', "
                             f"got {order!r}")
        super().__init__(local_opt, ignore_newtrees, failure_callback)
        self.order = order

    def apply(self, fgraph: FunctionGraph, start_from: Sequence | None = None) -> RewriteProfile:
        start = time.perf_counter()
        prof = RewriteProfile(self, len(fgraph.apply_nodes))
        prof.loops = 1
        q = deque(io_toposort(fgraph.inputs, start_from or fgraph.outputs))
        done: set = set()

        def importer(node: Apply) -> None:
            if node not in done:
                q.append(node)

        u = self.attach_updater(fgraph, importer, None, name=str(self))
        pop = q.popleft if self.order == "in_to_out" else q.pop
        lopt = self.local_opt
        index = TrackIndex([lopt])
        try:
            while q:
                node = pop()
                if node in done or node not in fgraph.apply_nodes:
                    continue
                done.add(node)  # one visit per node and pass, even if a revert re-imports it
                if not index.for_op(node.op):
                    continue
                mark = len(q)
                t0 = time.perf_counter()
                ok = self.process_node(fgraph, node)
                prof.record(lopt, time.perf_counter() - t0, ok)
                if not ok:
                    while len(q) > mark:  # nodes re-imported by a revert are not new
                        q.pop()
        finally:
            self.detach_updater(fgraph, u)
        prof.nodes_after = len(fgraph.apply_nodes)
        prof.time = time.perf_counter() - start
        return prof

    def __str__(self) -> str:
        return getattr(self, "__name__", None) or f"TopoOptimizer({self.local_opt})"


def _group(local_opts: tuple, name: str | None) -> tuple[LocalOptimizer, str | None]:
    if len(local_opts) == 1:
        return local_opts[0], name or rewrite_name(local_opts[0])
    return LocalOptGroup(*local_opts), name


def out2in(*local_opts: LocalOptimizer, name: str | None = None,
           **kwargs: Any) -> TopoOptimizer:
    """A TopoOptimizer visiting outputs first, for one or several local rewrites."""
    lopt, name = _group(local_opts, name)
    ret = TopoOptimizer(lopt, order="out_to_in",
                        failure_callback=kwargs.pop("failure_callback", None), **kwargs)
    if name:
        ret.__name__ = name
    return ret


def in2out(*local_opts: LocalOptimizer, name: str | None = None,
           **kwargs: Any) -> TopoOptimizer:
    """A TopoOptimizer visiting inputs first, for one or several local rewrites."""
    lopt, name = _group(local_opts, name)
    ret = TopoOptimizer(lopt, order="in_to_out",
                        failure_callback=kwargs.pop("failure_callback", None), **kwargs)
    if name:
        ret.__name__ = name
    return ret


class OpKeyOptimizer(NavigatorOptimizer):
    """Apply a local rewrite to the nodes of the Op given by its ``op_key()``."""

    def __init__(self, local_opt: LocalOptimizer, ignore_newtrees: bool = False,
                 failure_callback: Callable | None = None):
        if not hasattr(local_opt, "op_key"):
            raise TypeError(f"OpKeyOptimizer: {local_opt} has no op_key() method")
        super().__init__(local_opt, ignore_newtrees, failure_callback)

    def apply(self, fgraph: FunctionGraph) -> RewriteProfile:
        op = self.local_opt.op_key()
        prof = RewriteProfile(self, len(fgraph.apply_nodes))
        ops = op if isinstance(op, list | tuple) else [op]
        q = [n for n in fgraph.toposort() if any(n.op == o for o in ops)]
        for node in reversed(q):
            if node in fgraph.apply_nodes:
                t0 = time.perf_counter()
                ok = self.process_node(fgraph, node)
                prof.record(self.local_opt, time.perf_counter() - t0, ok)
        prof.nodes_after = len(fgraph.apply_nodes)
        return prof


class _Worklist(Feature):
    """The equilibrium's queue of nodes to (re)visit, fed by the graph's change events.

    New nodes go on ``stack`` and are visited next (depth first, as the rewrite that built
    them expects). A node whose input changed, or whose input lost a client, is only
    ``deferred``: it is visited once the stack is empty, so a node with many inputs (a sum
    of thousands of terms) is looked at once after its inputs were rewritten rather than
    after each of them, which made such graphs quadratic.
    """

    def __init__(self, nodes: list):
        self.stack = list(nodes)
        self.deferred: list = []
        self.pending = set(self.stack)
        self.changes = 0

    def push(self, node: Apply) -> None:
        if node not in self.pending:
            self.pending.add(node)
            self.stack.append(node)

    def defer(self, node: Apply) -> None:
        if node not in self.pending:
            self.pending.add(node)
            self.deferred.append(node)

    def on_import(self, fgraph, node, reason):
        self.changes += 1
        self.push(node)

    def on_change_input(self, fgraph, node, i, old, new, reason):
        self.changes += 1
        if not isinstance(node, str):
            self.defer(node)
        owner = old.owner
        if owner is not None and owner in fgraph.apply_nodes:
            self.defer(owner)  # it lost a client

    def on_prune(self, fgraph, node, reason):
        self.changes += 1
        for inp in node.inputs:
            owner = inp.owner
            if owner is not None and owner in fgraph.apply_nodes:
                self.defer(owner)


def _net_changes(fgraph: FunctionGraph, work: _Worklist) -> int:
    """A count that moves only with changes that were kept (reverted ones are undone).

    The History feature's checkpoint is the number of recorded input changes that were not
    reverted; without it, every change event counts.
    """
    checkpoint = getattr(fgraph, "checkpoint", None)
    return checkpoint() if checkpoint is not None else work.changes


class EquilibriumOptimizer(NavigatorOptimizer):
    """Apply local and global rewrites until none of them changes the graph.

    ``optimizers`` mixes local rewrites (tried on the nodes whose Op they track) and global
    ones (run whenever the graph changed since they last ran). ``final_optimizers`` run when
    the local rewrites have nothing left to do, ``cleanup_optimizers`` after every global or
    final one (merging duplicates, typically). Each rewrite may apply at most
    ``max_use_ratio`` (default: the ``optdb.max_use_ratio`` flag) times the number of nodes
    per run; beyond that :class:`EquilibriumLimitError` names it.

    ``ignore_newtrees`` and ``tracks_on_change_inputs`` are accepted for Theano 1.0
    compatibility: the worklist always revisits new nodes and nodes whose inputs changed,
    which is what reaching a fixed point requires.
    """

    def __init__(self, optimizers: Sequence, failure_callback: Callable | None = None,
                 ignore_newtrees: bool = True, tracks_on_change_inputs: bool = False,
                 max_use_ratio: float | None = None,
                 final_optimizers: Sequence | None = None,
                 cleanup_optimizers: Sequence | None = None):
        super().__init__(None, ignore_newtrees=ignore_newtrees,
                         failure_callback=failure_callback)
        self.local_optimizers: list = []
        self.global_optimizers: list = []
        for opt in optimizers:
            if isinstance(opt, LocalOptimizer):
                self.local_optimizers.append(opt)
            elif hasattr(opt, "apply") or hasattr(opt, "optimize"):
                self.global_optimizers.append(opt)
            else:
                raise TypeError(f"EquilibriumOptimizer: {opt!r} is not a rewrite")
        self.final_optimizers = list(final_optimizers or [])
        self.cleanup_optimizers = list(cleanup_optimizers or [])
        self.max_use_ratio = max_use_ratio
        self.tracks_on_change_inputs = tracks_on_change_inputs
        self._index = TrackIndex(self.local_optimizers)

    def get_local_optimizers(self) -> list:
        return list(self.local_optimizers)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        ensure_replace_validate(fgraph)
        for opt in (self.local_optimizers + self.global_optimizers + self.final_optimizers
                    + self.cleanup_optimizers):
            opt.add_requirements(fgraph)

    def _limit_error(self, rewrite: Any, count: int, ratio: float, n: int) -> None:
        raise EquilibriumLimitError(
            f"rewrite {rewrite_name(rewrite)} was applied more than max_use_ratio ({ratio:g}) "
            f"* n_nodes ({n}) = {int(ratio * n)} times ({count}) in {rewrite_name(self)}: it "
            "probably undoes another rewrite, or rewrites its own result again (raise the "
            "flag optdb.max_use_ratio if the graph really needs more)"
        )

    def _run_global(self, fgraph, opt, work: _Worklist, prof: RewriteProfile) -> bool:
        before = _net_changes(fgraph, work)
        t0 = time.perf_counter()
        sub = None
        try:
            sub = opt.apply(fgraph)
        except Exception as exc:
            if not isinstance(exc, InconsistencyError):
                if self.failure_callback is not None:
                    self.failure_callback(exc, self, [], opt, None)
                else:
                    handle_rewrite_error(exc, opt)
        changed = _net_changes(fgraph, work) != before
        prof.record(opt, time.perf_counter() - t0, changed)
        if sub is not None and changed:
            prof.sub_profiles.append(sub)
        return changed

    def apply(self, fgraph: FunctionGraph, start_from: Sequence | None = None) -> RewriteProfile:
        start = time.perf_counter()
        ratio = self.max_use_ratio
        if ratio is None:
            ratio = config.optdb.max_use_ratio
        n_start = len(fgraph.apply_nodes)
        prof = RewriteProfile(self, n_start)
        work = _Worklist(io_toposort(fgraph.inputs, start_from or fgraph.outputs))
        fgraph.attach_feature(work)
        global_seen = -1
        try:
            while True:
                prof.loops += 1
                n = max(n_start, 1)
                if prof.loops > ratio * n + 2:
                    self._limit_error(self.global_optimizers or self.final_optimizers,
                                      prof.loops, ratio, n)
                if self.global_optimizers and _net_changes(fgraph, work) != global_seen:
                    for gopt in self.global_optimizers:
                        if self._run_global(fgraph, gopt, work, prof):
                            self._cleanup(fgraph, work, prof)
                    global_seen = _net_changes(fgraph, work)
                self._drain(fgraph, work, prof, ratio, n_start)
                before = _net_changes(fgraph, work)
                for fopt in self.final_optimizers:
                    if self._run_global(fgraph, fopt, work, prof):
                        self._cleanup(fgraph, work, prof)
                self._cleanup(fgraph, work, prof)
                if _net_changes(fgraph, work) == before and not work.stack \
                        and not work.deferred:
                    break
        finally:
            fgraph.remove_feature(work)
        prof.nodes_after = len(fgraph.apply_nodes)
        prof.time = time.perf_counter() - start
        return prof

    def _cleanup(self, fgraph, work: _Worklist, prof: RewriteProfile) -> None:
        for copt in self.cleanup_optimizers:
            self._run_global(fgraph, copt, work, prof)

    def _drain(self, fgraph, work: _Worklist, prof: RewriteProfile, ratio: float,
               n_start: int) -> None:
        stack, deferred, pending = work.stack, work.deferred, work.pending
        nodes = fgraph.apply_nodes
        index = self._index
        perf = time.perf_counter
        while stack or deferred:
            if not stack:
                stack.extend(reversed(deferred))  # the first deferred is visited first
                deferred.clear()
            node = stack.pop()
            pending.discard(node)
            if node not in nodes:
                continue
            for lopt in index.for_op(node.op):
                mark, dmark = len(stack), len(deferred)
                t0 = perf()
                ok = self.process_node(fgraph, node, lopt)
                count = prof.record(lopt, perf() - t0, ok)
                if not ok and (len(stack) > mark or len(deferred) > dmark):
                    # A reverted attempt re-imports the nodes it had pruned and undoes its
                    # input changes: not new work (else it would be retried forever).
                    for n in stack[mark:]:
                        pending.discard(n)
                    del stack[mark:]
                    for n in deferred[dmark:]:
                        pending.discard(n)
                    del deferred[dmark:]
                if ok:
                    # Bounded by the size at the start: a graph that grows with every
                    # application (a rewrite re-wrapping its own result) must still stop.
                    n = max(n_start, 1)
                    if count > ratio * n:
                        self._limit_error(lopt, count, ratio, n)
                    if node in nodes:
                        work.push(node)
                    break

    def __str__(self) -> str:
        return getattr(self, "name", None) or getattr(self, "__name__", None) or (
            f"EquilibriumOptimizer({len(self.local_optimizers)} local, "
            f"{len(self.global_optimizers)} global)")

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{' ' * level}EquilibriumOptimizer {rewrite_name(self)} id={id(self)}",
              file=stream)
        if depth != 0:
            for opt in (self.local_optimizers + self.global_optimizers
                        + self.final_optimizers + self.cleanup_optimizers):
                opt.print_summary(stream, level=level + 2, depth=depth - 1)


def pre_greedy_local_optimizer(list_optimizations: Sequence[LocalOptimizer], out: Any) -> Any:
    """Rewrite the graph of ``out`` (not in a FunctionGraph) bottom-up; return the new ``out``.

    Each node gets the first rewrite of ``list_optimizations`` that applies to it (with
    inputs already rewritten); nothing is edited in place: changed nodes are rebuilt.
    Nodes that belong to a FunctionGraph are left alone, as in Theano 1.0.
    """
    index = TrackIndex(list(list_optimizations))
    if getattr(out, "owner", None) is None:
        return out
    stops = [v for v in graph_inputs([out])]
    memo: dict = {}
    for node in io_toposort(stops, [out]):
        if getattr(node, "fgraph", None) is not None:
            continue
        new_inputs = [memo.get(i, i) for i in node.inputs]
        if any(a is not b for a, b in zip(new_inputs, node.inputs)):
            current = node.clone_with_new_inputs(new_inputs, strict=False)
        else:
            current = node
        results = list(current.outputs)
        for lopt in index.for_op(current.op):
            ret = call_transform(lopt, None, current)
            if ret and isinstance(ret, list | tuple) and len(ret) == len(current.outputs):
                results = list(ret)
                break
        for old, new in zip(node.outputs, results):
            if old is not new:
                memo[old] = new
    return memo.get(out, out)

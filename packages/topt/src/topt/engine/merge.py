"""Merging: one node for each distinct computation, one constant for each distinct value.

Two Apply nodes with equal Ops and identical inputs compute the same values; two constants
of equal type and data are interchangeable. :class:`MergeFeature` keeps a table of node
signatures ``(op, inputs)`` and constant signatures, updated on every import and input
change, and schedules each duplicate it sees; :class:`MergeOptimizer` then replaces the
duplicates by the first occurrence. Because the table is maintained incrementally, merging
again after a rewrite costs only what the rewrite changed, and merging one duplicate can make
its clients duplicates, which are found through their input-change events.

A duplicate is not merged when both copies' outputs are overwritten by in-place nodes (one
value would then be destroyed twice), and a merge the destroy handler refuses is dropped.
"""

from __future__ import annotations

import time
from typing import Any

from tgraph.graph.basic import Apply, Constant, Variable, clone_get_equiv, graph_inputs
from tgraph.graph.features import AlreadyThere, Feature
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from topt.engine.base import GlobalOptimizer, ensure_replace_validate, handle_rewrite_error
from topt.engine.profile import RewriteProfile

__all__ = [
    "MergeFeature",
    "MergeOptimizer",
    "is_same_graph_with_merge",
    "merge_optimizer",
    "pre_constant_merge",
]


def _constant_key(c: Constant) -> Any:
    try:
        sig = c.merge_signature() if hasattr(c, "merge_signature") else c.signature()
        hash(sig)
        return sig
    except TypeError:
        return ("unhashable", id(c))


class _NodeKey:
    """A node's signature ``(op, ids of its inputs)`` with its hash computed once.

    An Op's hash is derived from its properties on every call, and a signature is hashed on
    each table lookup (a node is looked up again whenever one of its inputs changes), so the
    hash is kept; equality compares the inputs first and the Ops last.
    """

    __slots__ = ("_hash", "inputs", "op")

    def __init__(self, op: Any, op_hash: int, inputs: tuple):
        self.op = op
        self.inputs = inputs
        self._hash = hash((op_hash, inputs))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, _NodeKey) and self._hash == other._hash
                and self.inputs == other.inputs
                and (self.op is other.op or self.op == other.op))


class MergeFeature(Feature):
    """Finds duplicate nodes and constants as they enter or change in the graph.

    ``scheduled`` holds lists of ``(duplicate, kept)`` pairs of variables waiting for
    :class:`MergeOptimizer`; ``blacklist`` the node pairs a feature refused to merge.
    """

    def on_attach(self, fgraph: FunctionGraph) -> None:
        if hasattr(fgraph, "merge_feature"):
            raise AlreadyThere("MergeFeature is already attached")
        fgraph.merge_feature = self
        self.fgraph = fgraph
        self.node_of_key: dict = {}
        self.key_of_node: dict = {}
        self.const_of_key: dict = {}
        self.key_of_const: dict = {}
        self.scheduled: list = []
        self.blacklist: set = set()
        # Nodes of the graph whose Op overwrites an input: while there are none (everything
        # before the in-place phase), no merge can destroy a value twice and the check of
        # MergeOptimizer._both_destroyed, linear in the clients, is skipped.
        self.destroyers: set = set()
        self._op_hash: dict[int, tuple] = {}
        for var in fgraph.inputs:
            self._see_var(var)
        for node in fgraph.toposort():
            self.on_import(fgraph, node, "on_attach")

    def on_detach(self, fgraph: FunctionGraph) -> None:
        if getattr(fgraph, "merge_feature", None) is self:
            del fgraph.merge_feature
        self.node_of_key.clear()
        self.key_of_node.clear()
        self.const_of_key.clear()
        self.key_of_const.clear()
        self.destroyers.clear()
        self._op_hash.clear()
        self.scheduled = []

    # -- constants ---------------------------------------------------------------------------
    def _see_var(self, var: Variable) -> None:
        if not isinstance(var, Constant) or var in self.key_of_const:
            return
        key = _constant_key(var)
        self.key_of_const[var] = key
        kept = self.const_of_key.get(key)
        if kept is None or kept not in self.fgraph.variables:
            self.const_of_key[key] = var
        elif kept is not var and kept.type == var.type:
            self.scheduled.append([(var, kept)])

    def _forget_const(self, var: Variable) -> None:
        key = self.key_of_const.pop(var, None)
        if key is not None and self.const_of_key.get(key) is var:
            del self.const_of_key[key]

    # -- nodes -------------------------------------------------------------------------------
    def _node_key(self, node: Apply) -> _NodeKey | None:
        op = node.op
        cached = self._op_hash.get(id(op))
        if cached is None:
            try:
                h = hash(op)
            except TypeError:
                h = None
            cached = self._op_hash[id(op)] = (op, h)  # the Op is held: its id stays its own
        if cached[1] is None:
            return None
        return _NodeKey(op, cached[1], tuple(id(i) for i in node.inputs))

    def _see_node(self, node: Apply) -> None:
        key = self._node_key(node)
        if key is None:
            return
        self.key_of_node[node] = key
        kept = self.node_of_key.get(key)
        if kept is None or kept not in self.fgraph.apply_nodes:
            self.node_of_key[key] = node
            return
        if kept is node or (node, kept) in self.blacklist:
            return
        if len(kept.outputs) != len(node.outputs):
            return
        if any(a.type != b.type for a, b in zip(node.outputs, kept.outputs)):
            return
        self.scheduled.append(list(zip(node.outputs, kept.outputs)))

    def _forget_node(self, node: Apply) -> None:
        key = self.key_of_node.pop(node, None)
        if key is not None and self.node_of_key.get(key) is node:
            del self.node_of_key[key]

    def refresh(self, var: Variable) -> None:
        """Look at ``var`` (or its node) again, as if it had just been imported."""
        if isinstance(var, Constant):
            self._forget_const(var)
            self._see_var(var)
        elif var.owner is not None and var.owner in self.fgraph.apply_nodes:
            self._forget_node(var.owner)
            self._see_node(var.owner)

    # -- graph events ------------------------------------------------------------------------
    def on_import(self, fgraph, node, reason) -> None:
        if getattr(node.op, "destroy_map", None):
            self.destroyers.add(node)
        for inp in node.inputs:
            self._see_var(inp)
        self._see_node(node)

    def on_prune(self, fgraph, node, reason) -> None:
        self.destroyers.discard(node)
        self._forget_node(node)
        for inp in node.inputs:
            if isinstance(inp, Constant) and inp not in fgraph.variables:
                self._forget_const(inp)

    def on_change_input(self, fgraph, node, i, old, new, reason) -> None:
        if isinstance(node, str):  # a graph output changed
            self._see_var(new)
            return
        if isinstance(old, Constant) and old not in fgraph.variables:
            self._forget_const(old)
        self._see_var(new)
        self._forget_node(node)
        self._see_node(node)


def _destroyed_positions(client: Any) -> set:
    node, i = client
    if isinstance(node, str):
        return set()
    dm = getattr(node.op, "destroy_map", None) or {}
    return {i for ins in dm.values() for i in ins}


class MergeOptimizer(GlobalOptimizer):
    """Replace every duplicate node or constant by its first occurrence.

    Uses the graph's MergeFeature (attached by ``add_requirements``), so a second run after
    some rewrites only looks at what they changed.
    """

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        ensure_replace_validate(fgraph)
        if not hasattr(fgraph, "merge_feature"):
            fgraph.attach_feature(MergeFeature())

    def apply(self, fgraph: FunctionGraph) -> RewriteProfile:
        start = time.perf_counter()
        prof = RewriteProfile(self, len(fgraph.apply_nodes))
        feature = fgraph.merge_feature
        merged = 0
        while feature.scheduled:
            pairs = feature.scheduled.pop()
            live = [(a, b) for a, b in pairs
                    if a in fgraph.variables and b in fgraph.variables and a is not b]
            if len(live) != len(pairs):
                # The copy to keep has gone meanwhile: the duplicate may be the new original.
                for a, _b in pairs:
                    if a in fgraph.variables:
                        feature.refresh(a)
                continue
            pairs = live
            if feature.destroyers and self._both_destroyed(fgraph, pairs):
                continue
            try:
                fgraph.replace_all_validate(pairs, reason=self)
            except InconsistencyError:
                a, b = pairs[0]
                if a.owner is not None and b.owner is not None:
                    feature.blacklist.add((a.owner, b.owner))
                continue
            except Exception as exc:
                handle_rewrite_error(exc, self, pairs[0][0].owner)
                continue
            for dup, kept in pairs:
                if kept.name is None and dup.name is not None:
                    kept.name = dup.name
            merged += 1
        prof.applied[self] = merged
        prof.calls[self] = 1
        prof.seconds[self] = time.perf_counter() - start
        prof.nodes_after = len(fgraph.apply_nodes)
        prof.time = prof.seconds[self]
        prof.loops = 1
        return prof

    @staticmethod
    def _both_destroyed(fgraph: FunctionGraph, pairs: list) -> bool:
        for dup, kept in pairs:
            n = 0
            for var in (dup, kept):
                for client in fgraph.clients.get(var, ()):
                    node = client[0]
                    if (not isinstance(node, str) and getattr(node.op, "destroy_map", None)
                            and client[1] in _destroyed_positions(client)):
                        n += 1
                        if n > 1:
                            return True
        return False

    def __str__(self) -> str:
        return getattr(self, "name", None) or "MergeOptimizer"


merge_optimizer = MergeOptimizer()


def pre_constant_merge(variables: list) -> list:
    """Make equal constants in the graphs of ``variables`` one object (no FunctionGraph).

    Nodes that belong to a FunctionGraph are left alone; other nodes get their constant
    inputs swapped in place, as Theano 1.0 did before building a graph.
    """
    seen: dict = {}
    visited: set = set()
    todo = list(variables)
    out = []
    while todo:
        var = todo.pop()
        if id(var) in visited:
            continue
        visited.add(id(var))
        if isinstance(var, Constant):
            continue
        node = var.owner
        if node is None or getattr(node, "fgraph", None) is not None:
            continue
        for i, inp in enumerate(node.inputs):
            if isinstance(inp, Constant):
                key = _constant_key(inp)
                kept = seen.setdefault(key, inp)
                if kept is not inp and kept.type == inp.type:
                    node.inputs[i] = kept
            else:
                todo.append(inp)
    for var in variables:
        if isinstance(var, Constant):
            out.append(seen.setdefault(_constant_key(var), var))
        else:
            out.append(var)
    return out


def is_same_graph_with_merge(var1: Variable, var2: Variable, givens: dict | None = None) -> bool:
    """Whether ``var1`` and ``var2`` become the same variable once their graphs are merged.

    ``givens`` maps variables of one graph to variables they should be considered equal to.
    """
    givens = dict(givens or {})
    memo = clone_get_equiv([], [var1, var2, *givens.keys(), *givens.values()],
                           copy_inputs=False)
    v1, v2 = memo[var1], memo[var2]
    inputs = [v for v in graph_inputs([v1, v2]) if not isinstance(v, Constant)]
    fgraph = FunctionGraph(inputs, [v1, v2], clone=False)
    ensure_replace_validate(fgraph)
    for to_replace, by in givens.items():
        fgraph.replace(memo.get(to_replace, to_replace), memo.get(by, by))
    merge_optimizer.optimize(fgraph)
    a, b = fgraph.outputs
    if a is b:
        return True
    if isinstance(a, Constant) and isinstance(b, Constant):
        return a.equals(b)
    return False

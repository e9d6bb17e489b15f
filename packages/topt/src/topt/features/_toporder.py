"""A topological order of a changing graph, repaired locally when an edge is added.

The DestroyHandler must refuse a change that makes the graph (data edges plus its "reader
before destroyer" constraints) cyclic. Re-sorting the whole graph after every change costs
O(nodes) per change, hence O(nodes²) for a rewrite pass that changes every node. This keeps
a number ``ord[node]`` with ``ord[a] < ord[b]`` for every edge ``a -> b`` instead, and when
a new edge breaks that, only the nodes numbered between its two ends are visited and
renumbered (the dynamic topological sort of Pearce and Kelly, 2006); meeting the edge's tail
while doing so is exactly a cycle.

A new node is numbered just after the last of its dependencies (halfway to the next number
in use), which is where a replacement for an old node goes: the edges to the old node's
clients then already point forward and cost nothing. Numbers are floats; when halving runs
out of precision everything is renumbered once (O(nodes), rare).
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable, Iterable

__all__ = ["IncrementalOrder"]


class IncrementalOrder:
    """Topological numbers for nodes given by ``preds(node)`` and ``succs(node)``.

    ``preds``/``succs`` must list the current edges of a node (nodes not numbered here are
    ignored). :meth:`add_edge` returns None when the order holds (repairing it if needed),
    or the path ``[v, ..., u]`` that a new edge ``u -> v`` closes into a cycle.
    """

    def __init__(self, preds: Callable[[object], Iterable], succs: Callable[[object], Iterable]):
        self.preds = preds
        self.succs = succs
        self.ord: dict = {}
        self._values: list[float] = []  # the numbers in use, sorted

    def __contains__(self, node) -> bool:
        return node in self.ord

    def add_node(self, node) -> None:
        """Number ``node`` just after its numbered predecessors (it has no successors yet)."""
        deps = [self.ord[p] for p in self.preds(node) if p in self.ord]
        low = max(deps) if deps else None
        value = self._between(low)
        if value is None:
            self._renumber()
            deps = [self.ord[p] for p in self.preds(node) if p in self.ord]
            value = self._between(max(deps) if deps else None)
        self.ord[node] = value
        insort(self._values, value)

    def _between(self, low: float | None) -> float | None:
        """A free number above ``low`` and below the next number in use (None: no room)."""
        if not self._values:
            return 0.0
        if low is None:
            return self._values[0] - 1.0
        k = bisect_right(self._values, low)
        if k == len(self._values):
            return low + 1.0
        high = self._values[k]
        mid = (low + high) / 2.0
        return mid if low < mid < high else None

    def _renumber(self) -> None:
        by_value = sorted(self.ord, key=self.ord.__getitem__)
        self.ord = {n: float(i) for i, n in enumerate(by_value)}
        self._values = [float(i) for i in range(len(by_value))]

    def remove_node(self, node) -> None:
        value = self.ord.pop(node, None)
        if value is not None:
            k = bisect_right(self._values, value) - 1
            del self._values[k]

    def holds(self, u, v) -> bool:
        """Whether the numbers already put ``u`` before ``v``."""
        return self.ord[u] < self.ord[v]

    def add_edge(self, u, v) -> list | None:
        """Make the order put ``u`` before ``v``; on a cycle return the path v -> ... -> u."""
        if u not in self.ord or v not in self.ord:
            return None
        if u is v:
            return [u]
        upper, lower = self.ord[u], self.ord[v]
        if upper < lower:
            return None
        # Forward from v through nodes numbered below u: reaching u closes a cycle.
        parent = {v: None}
        stack = [v]
        forward = [v]
        while stack:
            n = stack.pop()
            for s in self.succs(n):
                if s is u:
                    path = [u, n]
                    while parent[path[-1]] is not None:
                        path.append(parent[path[-1]])
                    return path[::-1]
                if s in parent or s not in self.ord or self.ord[s] >= upper:
                    continue
                parent[s] = n
                stack.append(s)
                forward.append(s)
        # Backward from u through nodes numbered above v.
        seen = {u}
        stack = [u]
        backward = [u]
        while stack:
            n = stack.pop()
            for p in self.preds(n):
                if p in seen or p not in self.ord or self.ord[p] <= lower:
                    continue
                seen.add(p)
                stack.append(p)
                backward.append(p)
        # The same numbers, reassigned: everything that must precede u, then what follows v.
        backward.sort(key=self.ord.__getitem__)
        forward.sort(key=self.ord.__getitem__)
        pool = sorted(self.ord[n] for n in backward + forward)
        for n, value in zip(backward + forward, pool):
            self.ord[n] = value
        return None

"""Bookkeeping for ops that overwrite (destroy) or alias (view) their inputs.

An Op declares ``destroy_map = {out: [in, ...]}`` when it writes its result into the memory of
an input, and ``view_map = {out: [in]}`` when an output shares memory with an input. Once a
graph contains such ops, two things can go wrong, and the :class:`DestroyHandler` feature is
what refuses them:

* one memory buffer is overwritten twice (two destroyers of the same variable, or of two
  views of one variable): the second writer would read a clobbered value;
* a node reads a buffer that another node overwrites, and cannot be scheduled before the
  writer (because it needs the writer's result): it would read the new value instead of
  the old one.

Views are followed both ways: the variables viewing one buffer form a tree whose root (the
*foundation*, Theano's ``droot``) owns the memory; destroying any variable of the tree
destroys them all. Every reader of any variable of the tree must run before the destroyer;
those constraints are what :meth:`DestroyHandler.orderings` gives to ``fgraph.toposort``,
and :meth:`DestroyHandler.validate` raises ``InconsistencyError`` when they cannot all be
met. The output of a destroyer is the start of a new tree (the old value is gone), so a
chain of in-place ops, each overwriting the previous one's result, is fine.

Theano 1.0 behaviour kept: ``fgraph.destroyers(var)``, ``fgraph.has_destroyers(vars)``,
``fgraph.destroy_handler``; constants and variables tagged ``indestructible`` are never
destroyed; ``destroyhandler_tolerate_same`` and ``destroyhandler_tolerate_aliased`` on an Op
allow the listed input pairs to alias; protected function inputs and outputs are left to
tlink's ``Supervisor`` (which asks ``fgraph.destroyers``). Differences: a destroyed buffer that
is also an output of the graph is refused here too (its value would be the overwritten one),
an output listing several destroyed inputs is accepted (each one is destroyed), and error
messages name the destroyer and the conflicting reader rather than "graph contains cycles".
The structures are updated on every import/prune/change and the derived ones (roots,
impacts) are rebuilt lazily, only when a query needs them after a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tgraph.graph.basic import Apply, Constant, Variable, io_toposort
from tgraph.graph.features import AlreadyThere, Feature
from tgraph.graph.fg import InconsistencyError
from topt.features._toporder import IncrementalOrder

__all__ = ["DestroyHandler", "ProtocolError", "fast_inplace_check"]


class ProtocolError(RuntimeError):
    """The FunctionGraph called a DestroyHandler hook for a node in an impossible state."""


def _view_input(node: Apply, out_idx: int) -> int | None:
    """The input index that output ``out_idx`` of ``node`` is a view of, or None."""
    vmap = getattr(node.op, "view_map", None) or {}
    positions = vmap.get(out_idx)
    if not positions:
        return None
    if len(positions) > 1:
        raise NotImplementedError(
            f"{node.op}: view_map declares output {out_idx} a view of inputs "
            f"{list(positions)}; the DestroyHandler supports one viewed input per output"
        )
    return positions[0]


def _destroyed_inputs(node: Apply) -> list[int]:
    """The input indices ``node`` overwrites, in declaration order, without repeats."""
    seen: dict[int, None] = {}
    for positions in (getattr(node.op, "destroy_map", None) or {}).values():
        for p in positions:
            seen.setdefault(p, None)
    return list(seen)


def _pairs(attr) -> list[tuple[int, int]]:
    """An Op's tolerate list (pairs given as tuples or lists) as tuples."""
    return [(int(a), int(b)) for a, b in (attr or ())]


def _indestructible(var: Variable) -> bool:
    return isinstance(var, Constant) or bool(getattr(var.tag, "indestructible", False))


class DestroyHandler(Feature):
    """A FunctionGraph feature that tracks views and in-place ops and vetoes unsafe graphs.

    Attaching it gives the graph ``fgraph.destroy_handler`` (this object),
    ``fgraph.destroyers(var)`` (the nodes overwriting ``var``'s memory: a list, empty when
    none) and ``fgraph.has_destroyers(vars)`` (whether any of ``vars`` is overwritten).
    ``validate(fgraph)`` (called by ``fgraph.validate()``) raises ``InconsistencyError``
    when the graph cannot be run correctly; ``orderings(fgraph)`` tells ``toposort`` which
    readers must run before each destroyer.

    Cost: every hook does work proportional to the change (the buffers it touches and the
    nodes numbered between the ends of a new edge, see :mod:`topt.features._toporder`), not
    to the graph, so a rewrite pass that validates after each of n changes stays close to
    linear. One instance serves one graph. ``algo`` is accepted for Theano 1.0 compatibility
    ('regular' or 'fast'); both run the same complete check.
    """

    pickle_rm_attr = ["destroyers", "has_destroyers"]

    def __init__(self, do_imports_on_attach: bool = True, algo: str | None = None):
        if algo not in (None, "regular", "fast"):
            raise ValueError(
                f"DestroyHandler: algo must be None, 'regular' or 'fast', got {algo!r}"
            )
        self.fgraph = None
        self.do_imports_on_attach = do_imports_on_attach
        self.algo = algo or "regular"
        self._reset()

    def _reset(self) -> None:
        # Ordered sets are dicts with None values: iteration order is insertion order, so
        # orderings (and thus toposort) do not depend on hash seeds.
        self.destroyers: dict[Apply, None] = {}
        self.view_i: dict[Variable, Variable] = {}
        self.view_o: dict[Variable, dict[Variable, None]] = {}
        self._imported: set[Apply] = set()
        # destroyed variable -> destroyers (one entry per destroyed position)
        self._destroyed_by: dict[Variable, list[Apply]] = {}
        # destroyer -> [(destroyed variable, its root)] as registered in _root_destroyers
        self._registered: dict[Apply, list[tuple[Variable, Variable]]] = {}
        self._root_destroyers: dict[Variable, list[Apply]] = {}
        self._dirty: dict[Variable, None] = {}  # roots whose checks/orderings are stale
        self._root_errors: dict[Variable, str] = {}
        self._prereqs: dict[Apply, list[Apply]] = {}  # destroyer -> readers to run first
        self._ord_succ: dict[Apply, dict[Apply, None]] = {}  # reader -> destroyers after it
        self._violations: list[tuple[Apply, Apply, list]] = []
        self._order = IncrementalOrder(self._preds, self._succs)
        self._n_outputs = -1
        self._validated = False

    def clone(self) -> DestroyHandler:
        """A fresh handler with the same settings (FunctionGraph.clone attaches it)."""
        return DestroyHandler(self.do_imports_on_attach, self.algo)

    # -- feature hooks ----------------------------------------------------------------------
    def on_attach(self, fgraph) -> None:
        if self.fgraph is not None:
            raise RuntimeError(
                "DestroyHandler: this instance already serves another FunctionGraph; "
                "create one handler per graph"
            )
        if any(hasattr(fgraph, a) for a in ("destroy_handler", "destroyers")):
            raise AlreadyThere("DestroyHandler: the graph already has a destroy handler")
        self._reset()
        self.fgraph = fgraph
        fgraph.destroy_handler = self
        fgraph.destroyers = self._destroyers_of
        fgraph.has_destroyers = self._has_destroyers
        if self.do_imports_on_attach:
            for node in io_toposort(fgraph.inputs, fgraph.outputs):
                self.on_import(fgraph, node, "on_attach")

    def on_detach(self, fgraph) -> None:
        if fgraph is not self.fgraph:
            raise RuntimeError("DestroyHandler: detached from a graph it does not serve")
        for attr in ("destroy_handler", "destroyers", "has_destroyers"):
            if hasattr(fgraph, attr):
                delattr(fgraph, attr)
        self.fgraph = None
        self._reset()

    def on_import(self, fgraph, node, reason) -> None:
        if node in self._imported:
            raise ProtocolError(f"DestroyHandler: {node} was imported twice ({reason})")
        self._imported.add(node)
        for o_idx, out in enumerate(node.outputs):
            i_idx = _view_input(node, o_idx)
            if i_idx is not None:
                self._add_view(node.inputs[i_idx], out)
        self._order.add_node(node)
        if getattr(node.op, "destroy_map", None):
            self.destroyers[node] = None
            self._register(node)
        for inp in node.inputs:
            self._mark(inp)
        self._validated = False

    def on_prune(self, fgraph, node, reason) -> None:
        if node not in self._imported:
            raise ProtocolError(f"DestroyHandler: {node} was pruned without being imported")
        self._imported.discard(node)
        if node in self.destroyers:
            self._unregister(node)
            del self.destroyers[node]
        for o_idx, out in enumerate(node.outputs):
            i_idx = _view_input(node, o_idx)
            if i_idx is not None:
                self._remove_view(node.inputs[i_idx], out)
        for inp in node.inputs:
            self._mark(inp)
        for d in self._ord_succ.pop(node, ()):
            self._dirty_destroyer(d)
        self._order.remove_node(node)
        self._validated = False

    def on_change_input(self, fgraph, node, i, old, new, reason) -> None:
        self._validated = False
        self._mark(old)
        if node == "output":
            self._mark(new)
            return
        if node not in self._imported:
            raise ProtocolError(
                f"DestroyHandler: input {i} of {node} changed without the node being imported"
            )
        destroys_i = node in self.destroyers and i in _destroyed_inputs(node)
        if destroys_i:
            self._unregister(node)
        for o_idx, out in enumerate(node.outputs):
            if _view_input(node, o_idx) == i:
                self._remove_view(old, out)
                self._add_view(new, out)
                # The subtree of views under `out` now hangs from another buffer: the
                # destroyers of its variables overwrite that buffer instead.
                for w in self.views_of(out):
                    for d in list(dict.fromkeys(self._destroyed_by.get(w, ()))):
                        if d is not node or not destroys_i:
                            self._unregister(d)
                            self._register(d)
        if destroys_i:
            self._register(node)
        self._mark(new)
        if new.owner is not None and new.owner in self._imported:
            self._add_edge(new.owner, node)

    # -- views and registration -------------------------------------------------------------
    def _add_view(self, base: Variable, view: Variable) -> None:
        self.view_i[view] = base
        self.view_o.setdefault(base, {})[view] = None

    def _remove_view(self, base: Variable, view: Variable) -> None:
        if self.view_i.get(view) is base:
            del self.view_i[view]
        children = self.view_o.get(base)
        if children is not None:
            children.pop(view, None)
            if not children:
                del self.view_o[base]

    def _register(self, node: Apply) -> None:
        pairs = []
        for pos in _destroyed_inputs(node):
            var = node.inputs[pos]
            root = self.view_root(var)
            self._destroyed_by.setdefault(var, []).append(node)
            users = self._root_destroyers.setdefault(root, [])
            if node not in users:
                users.append(node)
            pairs.append((var, root))
            self._dirty[root] = None
        self._registered[node] = pairs

    def _unregister(self, node: Apply) -> None:
        for var, root in self._registered.pop(node, ()):
            users = self._destroyed_by.get(var)
            if users is not None and node in users:
                users.remove(node)
                if not users:
                    del self._destroyed_by[var]
            users = self._root_destroyers.get(root)
            if users is not None and node in users:
                users.remove(node)
                if not users:
                    del self._root_destroyers[root]
            self._dirty[root] = None
        self._set_prereqs(node, [])

    def _mark(self, var: Variable) -> None:
        self._dirty[self.view_root(var)] = None

    def _dirty_destroyer(self, node: Apply) -> None:
        for _, root in self._registered.get(node, ()):
            self._dirty[root] = None

    # -- the incremental order ---------------------------------------------------------------
    def _preds(self, node: Apply) -> list:
        out = [i.owner for i in node.inputs if i.owner is not None]
        out.extend(self._prereqs.get(node, ()))
        return out

    def _succs(self, node: Apply) -> list:
        clients = self.fgraph.clients
        out = [c for o in node.outputs for c, _ in clients.get(o, ()) if c != "output"]
        out.extend(self._ord_succ.get(node, ()))
        return out

    def _add_edge(self, before: Apply, after: Apply) -> None:
        path = self._order.add_edge(before, after)
        if path is not None:
            self._violations.append((before, after, path))

    def _set_prereqs(self, node: Apply, readers: list[Apply]) -> None:
        """Replace the "readers before ``node``" constraints, adding new edges to the order."""
        old = self._prereqs.pop(node, [])
        for r in old:
            succ = self._ord_succ.get(r)
            if succ is not None:
                succ.pop(node, None)
                if not succ:
                    del self._ord_succ[r]
        if not readers:
            return
        self._prereqs[node] = readers
        known = set(old)
        for r in readers:
            self._ord_succ.setdefault(r, {})[node] = None
            if r not in known:
                self._add_edge(r, node)

    # -- derived structures -----------------------------------------------------------------
    def view_root(self, var: Variable) -> Variable:
        """The variable owning ``var``'s memory: follow view_map links up to a non-view."""
        while var in self.view_i:
            var = self.view_i[var]
        return var

    def views_of(self, root: Variable) -> list[Variable]:
        """``root`` and every variable that is (transitively) a view of it."""
        out = {root: None}
        todo = [root]
        while todo:
            v = todo.pop()
            for w in self.view_o.get(v, ()):
                if w not in out:
                    out[w] = None
                    todo.append(w)
        return list(out)

    def refresh_droot_impact(self):
        """``(droot, impact, root_destroyers)`` computed afresh (Theano 1.0's helper).

        ``droot`` maps each variable of a destroyed tree to its root, ``impact`` each
        destroyed root to its tree (itself and all its views), ``root_destroyers`` each
        destroyed root to the nodes that overwrite it.
        """
        droot: dict = {}
        impact: dict = {}
        for root in self._root_destroyers:
            tree = dict.fromkeys(self.views_of(root))
            impact[root] = tree
            for v in tree:
                droot[v] = root
        return droot, impact, {r: list(d) for r, d in self._root_destroyers.items()}

    def _refresh(self) -> None:
        """Recheck the roots touched since the last call and update their orderings."""
        fgraph = self.fgraph
        if len(fgraph.outputs) != self._n_outputs:
            self._n_outputs = len(fgraph.outputs)
            self._dirty.update(dict.fromkeys(self._root_destroyers))
        if not self._dirty:
            return
        dirty, self._dirty = self._dirty, {}
        outputs = None
        trees: dict[Variable, list[Variable]] = {}
        for root in dirty:
            self._root_errors.pop(root, None)
            nodes = self._root_destroyers.get(root)
            if not nodes:
                continue
            if outputs is None:
                outputs = set(fgraph.outputs)
            tree = trees.setdefault(root, self.views_of(root))
            error = self._check_root(root, nodes, tree, outputs)
            for node in nodes:
                readers: dict[Apply, None] = {}
                for _, r in self._registered.get(node, ()):
                    for v in trees.setdefault(r, self.views_of(r)):
                        for client, _ in fgraph.clients.get(v, ()):
                            if client != "output" and client is not node:
                                readers[client] = None
                    error = error or self._check_aliasing(node, r, trees[r])
                self._set_prereqs(node, list(readers))
            if error:
                self._root_errors[root] = error

    def _check_root(self, root, nodes, tree, outputs) -> str | None:
        """Double destruction, destroyed constants and destroyed outputs of one buffer."""
        if len(nodes) > 1:
            return (f"DestroyHandler: {root} is overwritten by more than one node: "
                    f"{nodes[0]} and {nodes[1]}; each value may be destroyed only once")
        if _indestructible(root):
            return (f"DestroyHandler: {nodes[0]} overwrites {root}, which is a constant or "
                    "marked indestructible")
        for v in tree:
            if v in outputs:
                return (f"DestroyHandler: {nodes[0]} overwrites the memory of {v}, which is "
                        "an output of the graph")
        return None

    def _check_aliasing(self, node: Apply, root: Variable, tree: list) -> str | None:
        """A destroyer may not read the buffer it overwrites through another input."""
        same = _pairs(getattr(node.op, "destroyhandler_tolerate_same", ()))
        aliased = _pairs(getattr(node.op, "destroyhandler_tolerate_aliased", ()))
        members = set(tree)
        for d in _destroyed_inputs(node):
            destroyed = node.inputs[d]
            if self.view_root(destroyed) is not root:
                continue
            tolerated = {b for a, b in same if a == d}
            ignored = {b for a, b in aliased if a == d}
            for j, inp in enumerate(node.inputs):
                if j == d or j in ignored or inp not in members:
                    continue
                if j in tolerated and inp is destroyed:
                    continue
                return (f"DestroyHandler: {node} overwrites its input {d} ({destroyed}) but "
                        f"also reads input {j} ({inp}), which shares its memory")
        return None

    # -- queries installed on the graph -----------------------------------------------------
    def _destroyers_of(self, var: Variable) -> list[Apply]:
        """The nodes that overwrite ``var``'s memory (through any view of it)."""
        return list(self._root_destroyers.get(self.view_root(var), ()))

    def _has_destroyers(self, protected: Iterable[Variable]) -> bool:
        """Whether any variable of ``protected`` has its memory overwritten by a node."""
        return any(self.view_root(v) in self._root_destroyers for v in protected)

    # -- validation -------------------------------------------------------------------------
    def orderings(self, fgraph, ordered: bool = True) -> dict:
        """``{destroyer: [nodes that must run before it]}``: every other reader of the memory
        it overwrites. Raises InconsistencyError for illegal destructions (see validate)."""
        self._refresh()
        if self._root_errors:
            raise InconsistencyError(next(iter(self._root_errors.values())))
        return {d: list(self._prereqs[d]) for d in self.destroyers if self._prereqs.get(d)}

    def validate(self, fgraph) -> bool:
        """Raise InconsistencyError when the graph's in-place ops cannot run correctly.

        Checks that each buffer is destroyed at most once, never a constant or an output,
        that no destroyer reads its own destroyed buffer through another input, and that
        every reader of a destroyed buffer can be scheduled before its destroyer (no cycle
        once those orderings are added). Only what changed since the last call is checked.
        """
        if self._validated:
            return True
        self._refresh()
        if self._root_errors:
            raise InconsistencyError(next(iter(self._root_errors.values())))
        if self._violations:
            remaining = []
            for before, after, path in self._violations:
                if not self._edge_exists(before, after):
                    continue
                path = self._order.add_edge(before, after)
                if path is not None:
                    remaining.append((before, after, path))
            self._violations = remaining
            if remaining:
                before, after, path = remaining[0]
                raise InconsistencyError(self._describe_cycle([before, *path]))
        self._validated = True
        return True

    def _edge_exists(self, before: Apply, after: Apply) -> bool:
        if before not in self._imported or after not in self._imported:
            return False
        return (any(i.owner is before for i in after.inputs)
                or before in self._prereqs.get(after, ()))

    def _describe_cycle(self, cycle: Sequence[Apply]) -> str:
        """A message naming the destroyer and the reader that cannot run before it.

        ``cycle`` lists nodes each of which must run before the next (and the last before
        the first).
        """
        n = len(cycle)
        for k in range(n):
            reader, node = cycle[k], cycle[(k + 1) % n]
            if node in self.destroyers and reader in self._prereqs.get(node, ()):
                destroyed, read = self._shared_read(node, reader)
                return (
                    f"DestroyHandler: {node} overwrites {destroyed} in place, but {reader} "
                    f"also reads {read} (the same memory) and depends on the result of "
                    f"{node}, so it cannot run before it"
                )
        return ("DestroyHandler: the graph's dependencies form a cycle through "
                + ", ".join(str(c) for c in cycle))

    def _shared_read(self, destroyer: Apply, reader: Apply) -> tuple[Variable, Variable]:
        """(destroyed input of ``destroyer``, variable of its tree that ``reader`` reads)."""
        for var, root in self._registered.get(destroyer, ()):
            tree = set(self.views_of(root))
            for inp in reader.inputs:
                if inp in tree:
                    return var, inp
        first = destroyer.inputs[_destroyed_inputs(destroyer)[0]]
        return first, first


def fast_inplace_check(fgraph_or_inputs, inputs: Sequence[Variable] | None = None
                       ) -> list[Variable]:
    """The variables of ``inputs`` that an in-place rewrite may still overwrite.

    Drops constants, variables already overwritten by some node, graph outputs and the
    variables a ``Supervisor``-like feature protects (any feature with a ``protected``
    list). Called as ``fast_inplace_check(fgraph, inputs)``, or as in Theano 1.0,
    ``fast_inplace_check(inputs)`` with the graph read from ``inputs[0].fgraph`` or the
    first input's owner.
    """
    if inputs is None:
        inputs = list(fgraph_or_inputs)
        if not inputs:
            return []
        first = inputs[0]
        fgraph = getattr(first, "fgraph", None)
        if fgraph is None and first.owner is not None:
            fgraph = getattr(first.owner, "fgraph", None)
        if fgraph is None:
            raise ValueError(
                "fast_inplace_check: cannot find the FunctionGraph of the inputs; call "
                "fast_inplace_check(fgraph, inputs)"
            )
    else:
        fgraph = fgraph_or_inputs
    protected: set[Variable] = set(fgraph.outputs)
    for feature in getattr(fgraph, "_features", ()):
        protected.update(getattr(feature, "protected", None) or ())
    has_destroyers = getattr(fgraph, "has_destroyers", None)
    return [
        v for v in inputs
        if not isinstance(v, Constant)
        and v not in protected
        and not (has_destroyers is not None and has_destroyers([v]))
    ]

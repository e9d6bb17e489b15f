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

from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.features import AlreadyThere, Feature
from tgraph.graph.fg import InconsistencyError

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

    One instance serves one graph. ``algo`` is accepted for Theano 1.0 compatibility
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
        self._stale = True
        self._droot: dict[Variable, Variable] = {}
        self._impact: dict[Variable, dict[Variable, None]] = {}
        self._root_destroyers: dict[Variable, list[Apply]] = {}
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
            from tgraph.graph.basic import io_toposort

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
        if getattr(node.op, "destroy_map", None):
            self.destroyers[node] = None
        for o_idx, out in enumerate(node.outputs):
            i_idx = _view_input(node, o_idx)
            if i_idx is not None:
                self._add_view(node.inputs[i_idx], out)
        self._changed()

    def on_prune(self, fgraph, node, reason) -> None:
        if node not in self._imported:
            raise ProtocolError(f"DestroyHandler: {node} was pruned without being imported")
        self._imported.discard(node)
        self.destroyers.pop(node, None)
        for o_idx, out in enumerate(node.outputs):
            i_idx = _view_input(node, o_idx)
            if i_idx is not None:
                self._remove_view(node.inputs[i_idx], out)
        self._changed()

    def on_change_input(self, fgraph, node, i, old, new, reason) -> None:
        if node != "output":
            if node not in self._imported:
                raise ProtocolError(
                    f"DestroyHandler: input {i} of {node} changed without the node being "
                    "imported"
                )
            for o_idx, out in enumerate(node.outputs):
                if _view_input(node, o_idx) == i:
                    self._remove_view(old, out)
                    self._add_view(new, out)
        self._changed()

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

    def _changed(self) -> None:
        self._stale = True
        self._validated = False

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
        """``(droot, impact, root_destroyers)``, rebuilt when the graph changed.

        ``droot`` maps each variable of a destroyed tree to its root, ``impact`` each
        destroyed root to its tree (itself and all its views), ``root_destroyers`` each
        destroyed root to the nodes that overwrite it (more than one is an error that
        ``validate`` reports).
        """
        if self._stale:
            droot: dict[Variable, Variable] = {}
            impact: dict[Variable, dict[Variable, None]] = {}
            root_destroyers: dict[Variable, list[Apply]] = {}
            for node in self.destroyers:
                for pos in _destroyed_inputs(node):
                    root = self.view_root(node.inputs[pos])
                    users = root_destroyers.setdefault(root, [])
                    if node not in users:
                        users.append(node)
                    if root not in impact:
                        tree = dict.fromkeys(self.views_of(root))
                        impact[root] = tree
                        for v in tree:
                            droot[v] = root
            self._droot, self._impact, self._root_destroyers = droot, impact, root_destroyers
            self._stale = False
        return self._droot, self._impact, self._root_destroyers

    # -- queries installed on the graph -----------------------------------------------------
    def _destroyers_of(self, var: Variable) -> list[Apply]:
        """The nodes that overwrite ``var``'s memory (through any view of it)."""
        droot, _, root_destroyers = self.refresh_droot_impact()
        root = droot.get(var)
        return list(root_destroyers[root]) if root is not None else []

    def _has_destroyers(self, protected: Iterable[Variable]) -> bool:
        """Whether any variable of ``protected`` has its memory overwritten by a node."""
        droot, _, _ = self.refresh_droot_impact()
        return any(v in droot for v in protected)

    # -- validation -------------------------------------------------------------------------
    def orderings(self, fgraph, ordered: bool = True) -> dict:
        """``{destroyer: [nodes that must run before it]}``: every other reader of the memory
        it overwrites. Raises InconsistencyError for illegal destructions (see validate)."""
        if not self.destroyers:
            return {}
        _, impact, root_destroyers = self.refresh_droot_impact()
        self._check_destructions(fgraph, impact, root_destroyers)
        clients = fgraph.clients
        out: dict = {}
        for node in self.destroyers:
            before: dict[Apply, None] = {}
            for pos in _destroyed_inputs(node):
                root = self.view_root(node.inputs[pos])
                for v in impact[root]:
                    for client, _ in clients.get(v, ()):
                        if client != "output" and client is not node:
                            before[client] = None
            if before:
                out[node] = list(before)
        return out

    def _check_destructions(self, fgraph, impact, root_destroyers) -> None:
        """Refuse double destruction, destroyed constants/outputs and aliased inputs."""
        outputs = set(fgraph.outputs)
        for root, nodes in root_destroyers.items():
            if len(nodes) > 1:
                raise InconsistencyError(
                    f"DestroyHandler: {root} is overwritten by more than one node: "
                    f"{nodes[0]} and {nodes[1]}; each value may be destroyed only once"
                )
            if _indestructible(root):
                raise InconsistencyError(
                    f"DestroyHandler: {nodes[0]} overwrites {root}, which is a constant or "
                    "marked indestructible"
                )
            for v in impact[root]:
                if v in outputs:
                    raise InconsistencyError(
                        f"DestroyHandler: {nodes[0]} overwrites the memory of {v}, which is "
                        "an output of the graph"
                    )
        for node in self.destroyers:
            self._check_aliasing(node, impact)

    def _check_aliasing(self, node: Apply, impact) -> None:
        """A destroyer may not read the buffer it overwrites through another input."""
        same = _pairs(getattr(node.op, "destroyhandler_tolerate_same", ()))
        aliased = _pairs(getattr(node.op, "destroyhandler_tolerate_aliased", ()))
        for d in _destroyed_inputs(node):
            destroyed = node.inputs[d]
            tree = impact[self.view_root(destroyed)]
            tolerated = {b for a, b in same if a == d}
            ignored = {b for a, b in aliased if a == d}
            for j, inp in enumerate(node.inputs):
                if j == d or j in ignored or inp not in tree:
                    continue
                if j in tolerated and inp is destroyed:
                    continue
                raise InconsistencyError(
                    f"DestroyHandler: {node} overwrites its input {d} ({destroyed}) but also "
                    f"reads input {j} ({inp}), which shares its memory"
                )

    def validate(self, fgraph) -> bool:
        """Raise InconsistencyError when the graph's in-place ops cannot run correctly.

        Checks that each buffer is destroyed at most once, never a constant or an output,
        that no destroyer reads its own destroyed buffer through another input, and that
        every reader of a destroyed buffer can be scheduled before its destroyer (no cycle
        once those orderings are added). A graph already validated and unchanged since is
        not checked again.
        """
        if not self.destroyers or self._validated:
            return True
        ords = self.orderings(fgraph)
        problem = _find_cycle(fgraph, ords)
        if problem is not None:
            raise InconsistencyError(self._describe_cycle(problem, ords))
        self._validated = True
        return True

    def _describe_cycle(self, cycle: Sequence[Apply], ords: dict) -> str:
        """A message naming the destroyer and the reader that cannot run before it."""
        n = len(cycle)
        for k in range(n):
            node, dep = cycle[k], cycle[(k + 1) % n]
            if node in self.destroyers and dep in ords.get(node, ()):
                read = self._shared_read(node, dep)
                return (
                    f"DestroyHandler: {node} overwrites {read[0]} in place, but {dep} also "
                    f"reads {read[1]} (the same memory) and depends on the result of {node}, "
                    f"so it cannot run before it"
                )
        return ("DestroyHandler: the graph's dependencies form a cycle through "
                + ", ".join(str(c) for c in cycle))

    def _shared_read(self, destroyer: Apply, reader: Apply) -> tuple[Variable, Variable]:
        """(destroyed input of ``destroyer``, variable of its tree that ``reader`` reads)."""
        _, impact, _ = self.refresh_droot_impact()
        for pos in _destroyed_inputs(destroyer):
            destroyed = destroyer.inputs[pos]
            tree = impact[self.view_root(destroyed)]
            for inp in reader.inputs:
                if inp in tree:
                    return destroyed, inp
        first = destroyer.inputs[_destroyed_inputs(destroyer)[0]]
        return first, first


def _find_cycle(fgraph, ords: dict) -> list[Apply] | None:
    """A cycle of the node graph with ``ords`` added (``[a, b, ...]``: a needs b needs ...),
    or None. A depth-first walk from the outputs: O(nodes + edges)."""
    nodes = fgraph.apply_nodes

    def deps(node):
        ds = [i.owner for i in node.inputs if i.owner is not None and i.owner in nodes]
        extra = ords.get(node)
        if extra:
            ds.extend(extra)
        return ds

    done: set[Apply] = set()
    for out in fgraph.outputs:
        start = out.owner
        if start is None or start in done or start not in nodes:
            continue
        path = [start]
        on_path = {start}
        iters = [iter(deps(start))]
        while iters:
            for d in iters[-1]:
                if d in done:
                    continue
                if d in on_path:
                    return path[path.index(d):]
                path.append(d)
                on_path.add(d)
                iters.append(iter(deps(d)))
                break
            else:
                iters.pop()
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
    return None


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

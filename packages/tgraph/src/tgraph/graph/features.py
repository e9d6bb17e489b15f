"""Features: objects attached to a FunctionGraph that watch or veto its changes.

A feature implements any of ``on_attach(fgraph)``, ``on_detach(fgraph)``,
``on_import(fgraph, node, reason)``, ``on_prune(fgraph, node, reason)``,
``on_change_input(fgraph, node, i, old, new, reason)`` and ``orderings(fgraph)``.
The rewrite engine (topt) builds its bookkeeping on these.

A feature that adds methods to the graph (``fgraph.revert``, ``fgraph.validate``, ...) binds
them with ``functools.partial`` over its own methods, never a lambda: a compiled function
pickles its FunctionGraph, attributes included, and a lambda cannot be pickled.
"""

from __future__ import annotations

from functools import partial

from tgraph.graph.fg import InconsistencyError


class Feature:
    """Base class documenting the listener hooks (all optional)."""

    def on_attach(self, fgraph) -> None:
        pass

    def on_detach(self, fgraph) -> None:
        pass

    def on_import(self, fgraph, node, reason) -> None:
        pass

    def on_prune(self, fgraph, node, reason) -> None:
        pass

    def on_change_input(self, fgraph, node, i, old, new, reason) -> None:
        pass

    def orderings(self, fgraph) -> dict:
        return {}


class History(Feature):
    """Records changes so a rewrite that fails validation can be undone (``fgraph.revert``)."""

    def __init__(self):
        self.history: dict = {}

    def on_attach(self, fgraph):
        if hasattr(fgraph, "checkpoint"):
            raise AlreadyThere("History is already attached")
        self.history[fgraph] = []
        fgraph.checkpoint = partial(self.checkpoint, fgraph)
        fgraph.revert = partial(self.revert, fgraph)

    def on_detach(self, fgraph):
        del fgraph.checkpoint
        del fgraph.revert
        del self.history[fgraph]

    def on_change_input(self, fgraph, node, i, old, new, reason=None):
        h = self.history.get(fgraph)
        if h is None:
            return
        h.append((node, i, old, new))

    def checkpoint(self, fgraph) -> int:
        """How many changes are recorded: ``revert`` to it undoes the later ones."""
        return len(self.history[fgraph])

    def revert(self, fgraph, checkpoint: int) -> None:
        h = self.history[fgraph]
        self.history[fgraph] = None
        while len(h) > checkpoint:
            node, i, old, _new = h.pop()
            fgraph.change_input(node, i, old, reason="revert")
        self.history[fgraph] = h


class Validator(Feature):
    """Adds ``fgraph.validate()``, which asks every feature's ``validate`` to accept the graph."""

    def on_attach(self, fgraph):
        if hasattr(fgraph, "validate"):
            raise AlreadyThere("Validator is already attached")
        fgraph.validate = partial(self.validate_graph, fgraph)
        fgraph.consistent = partial(self.consistent, fgraph)

    def on_detach(self, fgraph):
        del fgraph.validate
        del fgraph.consistent

    def validate_graph(self, fgraph) -> bool:
        """Run every feature's ``validate(fgraph)`` hook; one may raise InconsistencyError."""
        fgraph.execute_callbacks("validate")
        return True

    def consistent(self, fgraph) -> bool:
        try:
            fgraph.validate()
            return True
        except InconsistencyError:
            return False


class ReplaceValidate(History, Validator):
    """Adds ``fgraph.replace_validate(r, new_r)``: replace, validate, revert on failure."""

    def on_attach(self, fgraph):
        for attr in ("replace_validate", "replace_all_validate"):
            if hasattr(fgraph, attr):
                raise AlreadyThere(f"{attr} already present")
        History.on_attach(self, fgraph)
        Validator.on_attach(self, fgraph)
        fgraph.replace_validate = partial(self.replace_validate, fgraph)
        fgraph.replace_all_validate = partial(self.replace_all_validate, fgraph)

    def on_detach(self, fgraph):
        History.on_detach(self, fgraph)
        Validator.on_detach(self, fgraph)
        del fgraph.replace_validate
        del fgraph.replace_all_validate

    def replace_validate(self, fgraph, r, new_r, reason=None) -> None:
        self.replace_all_validate(fgraph, [(r, new_r)], reason=reason)

    def replace_all_validate(self, fgraph, pairs, reason=None) -> None:
        chk = fgraph.checkpoint()
        try:
            for r, new_r in pairs:
                fgraph.replace(r, new_r, reason=reason)
            fgraph.validate()
        except Exception:
            fgraph.revert(chk)
            raise


class AlreadyThere(Exception):
    """A feature of this kind is already attached."""


class NodeFinder(Feature):
    """Keeps a map Op → nodes, for ``fgraph.get_nodes(op)``."""

    def on_attach(self, fgraph):
        self.d: dict = {}
        fgraph.get_nodes = self.get_nodes
        for node in fgraph.toposort():
            self.on_import(fgraph, node, "on_attach")

    def on_detach(self, fgraph):
        del fgraph.get_nodes

    def get_nodes(self, op) -> list:
        return list(self.d.get(op, []))

    def on_import(self, fgraph, node, reason):
        self.d.setdefault(node.op, []).append(node)

    def on_prune(self, fgraph, node, reason):
        lst = self.d.get(node.op)
        if lst and node in lst:
            lst.remove(node)

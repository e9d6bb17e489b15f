"""Recording what the optimizer replaced, so DebugMode can check each replacement later.

:class:`ReplacementTracker` is a FunctionGraph feature. Every ``on_change_input`` carries
the rewrite that made it (``reason``); the tracker keeps one record per distinct
``(old variable, new variable)`` pair, in the order they happened, and forgets a pair that
the graph's ``revert`` undid (a change refused by validation never reached the graph).
Recording is O(1) per change: graphs are printed only when an error is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tgraph.graph.features import Feature

__all__ = ["Replacement", "ReplacementTracker"]


@dataclass
class Replacement:
    """One replacement: ``old`` was replaced by ``new`` because of ``reason`` (a rewrite)."""

    old: Any
    new: Any
    reason: Any
    order: int
    stabilizing: bool = False


class ReplacementTracker(Feature):
    """Keeps the replacements the rewrites of one FunctionGraph made (Theano 1.0's
    ``_VariableEquivalenceTracker``, without its per-change graph printing)."""

    def __init__(self) -> None:
        self.records: dict[tuple[int, int], Replacement] = {}
        self._count = 0

    def on_attach(self, fgraph) -> None:
        fgraph.equivalence_tracker = self

    def on_detach(self, fgraph) -> None:
        if getattr(fgraph, "equivalence_tracker", None) is self:
            del fgraph.equivalence_tracker

    def on_change_input(self, fgraph, node, i, old, new, reason=None) -> None:
        if old is new:
            return
        if reason == "revert":
            self.records.pop((id(new), id(old)), None)
            return
        key = (id(old), id(new))
        if key not in self.records:
            self._count += 1
            self.records[key] = Replacement(old, new, reason, self._count)

    def replacements(self) -> list[Replacement]:
        """The recorded replacements, oldest first."""
        return sorted(self.records.values(), key=lambda r: r.order)

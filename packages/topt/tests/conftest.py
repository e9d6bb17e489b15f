"""Test setup for topt: the ``fires`` marker, checked while the test runs.

``@pytest.mark.fires("local_log1p", ...)`` says that the test shows those registered rewrites
firing on the graph they target. An autouse fixture records, during every test, the names of
the rewrites that changed the graph, and fails a marked test in which a named rewrite did not.
So a marker cannot claim more than its test shows, and ``test_rewrite_coverage.py`` can trust
the markers it reads to decide which registered rewrites have a firing test.

A rewrite counts as fired when

* it is the ``reason`` of an accepted change (``FunctionGraph.change_input``): local rewrites
  run by a driver pass themselves; for a ``LocalOptGroup`` reason, the members that proposed
  the accepted replacement count;
* it is a global rewrite (``GlobalOptimizer`` subclass) whose ``apply`` changed the graph;
  it counts under its registered name (``optdb['merge3']``, ``gemm_optimizer``, ...).

``replaces=False`` (``@pytest.mark.fires("ShapeOpt", replaces=False)``) is for the registered
steps that attach or detach a feature instead of changing the graph (ShapeOpt, UnShapeOpt,
add_destroy_handler); such a test asserts the effect itself.
"""

from __future__ import annotations

import pytest

from tgraph.graph.fg import FunctionGraph
from topt.engine.base import GlobalOptimizer
from topt.engine.local import LocalOptGroup
from topt.engine.profile import rewrite_name


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "fires(*names, replaces=True): the test shows these registered topt rewrites firing "
        "(checked: each must change the graph during the test unless replaces=False)",
    )


def _global_classes() -> list[type]:
    """GlobalOptimizer and its subclasses loaded now (tests define some of their own)."""
    out, todo = [], [GlobalOptimizer]
    while todo:
        cls = todo.pop()
        if cls not in out:
            out.append(cls)
            todo.extend(cls.__subclasses__())
    return out


@pytest.fixture(autouse=True)
def _fired_rewrites(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Record the rewrites that change the graph during the test; check ``fires`` markers."""
    fired: set[str] = set()
    changes = [0]
    proposed: dict[int, list[str]] = {}  # id(LocalOptGroup) -> members behind its last result

    change_input = FunctionGraph.change_input

    def recording_change_input(self, node, i, new_var, reason=None):
        changes[0] += 1
        if reason is not None:
            fired.add(reason if isinstance(reason, str) else rewrite_name(reason))
            if isinstance(reason, LocalOptGroup):
                fired.update(proposed.get(id(reason), ()))
        return change_input(self, node, i, new_var, reason=reason)

    monkeypatch.setattr(FunctionGraph, "change_input", recording_change_input)

    group_transform, group_first = LocalOptGroup.transform, LocalOptGroup._first

    def recording_transform(self, fgraph, node):
        proposed[id(self)] = []
        return group_transform(self, fgraph, node)

    def recording_first(self, fgraph, node):
        before = dict(self.applied_true)
        new = group_first(self, fgraph, node)
        if new:  # the member whose count rose proposed it
            proposed.setdefault(id(self), []).extend(
                rewrite_name(o) for o, n in self.applied_true.items() if n != before.get(o, 0))
        return new

    monkeypatch.setattr(LocalOptGroup, "transform", recording_transform)
    monkeypatch.setattr(LocalOptGroup, "_first", recording_first)

    def wrap_apply(apply):
        def recording_apply(self, fgraph, *args, **kwargs):
            before = changes[0]
            try:
                return apply(self, fgraph, *args, **kwargs)
            finally:
                if changes[0] != before:
                    fired.add(rewrite_name(self))

        return recording_apply

    for cls in _global_classes():
        if "apply" in cls.__dict__:
            monkeypatch.setattr(cls, "apply", wrap_apply(cls.__dict__["apply"]))

    yield fired
    for mark in request.node.iter_markers("fires"):
        if not mark.kwargs.get("replaces", True):
            continue
        missing = [n for n in mark.args if n not in fired]
        if missing:
            pytest.fail(f"marked fires({', '.join(mark.args)}) but {missing} did not change "
                        f"the graph during the test; rewrites that did: {sorted(fired)}")

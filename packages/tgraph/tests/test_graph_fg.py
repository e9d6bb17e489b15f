"""FunctionGraph: client tracking, replacement, pruning, features and validation."""

from __future__ import annotations

import pytest
from graph_toyops import Scale, add, vec

from tgraph.graph import (
    Feature,
    FunctionGraph,
    InconsistencyError,
    MissingInputError,
    ReplaceValidate,
)


def small_graph():
    x, y = vec("x"), vec("y")
    a = add(x, y)
    out = Scale(2.0)(a)
    return x, y, a, out


def test_fgraph_clones_by_default_and_tracks_clients():
    x, y, a, out = small_graph()
    fg = FunctionGraph([x, y], [out])
    assert fg.inputs[0] is not x
    fx = fg.inputs[0]
    (node, idx), = fg.clients[fx]
    assert node.op == add and idx == 0
    assert fg.clients(fx) == fg.clients[fx]
    assert fg.clients[fg.outputs[0]] == [("output", 0)]
    assert len(fg.apply_nodes) == 2
    fg.check_integrity()


def test_replace_prunes_unused_nodes_and_notifies_features():
    x, y, a, out = small_graph()
    events = []

    class Spy(Feature):
        def on_prune(self, fgraph, node, reason):
            events.append(("prune", str(node.op)))

        def on_import(self, fgraph, node, reason):
            events.append(("import", str(node.op)))

        def on_change_input(self, fgraph, node, i, old, new, reason):
            events.append(("change", i))

    fg = FunctionGraph([x, y], [out], clone=False)
    fg.attach_feature(Spy())
    new = Scale(3.0)(x)
    fg.replace(a, new, reason="test")
    assert ("import", "Scale{3.0}") in events and ("prune", "Add") in events
    assert out.owner.inputs[0] is new
    assert a.owner not in fg.apply_nodes
    fg.check_integrity()


def test_replacing_an_output():
    x, y, a, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    fg.replace(out, a)
    assert fg.outputs == [a]
    assert len(fg.apply_nodes) == 1


def test_missing_input_is_reported_with_its_name():
    x, y, a, out = small_graph()
    with pytest.raises(MissingInputError, match="y"):
        FunctionGraph([x], [out])


def test_replace_validate_reverts_on_inconsistency():
    x, y, a, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)

    class Refuse(Feature):
        def validate(self, fgraph):
            if any(n.op == Scale(5.0) for n in fgraph.apply_nodes):
                raise InconsistencyError("no fives")

    fg.attach_feature(ReplaceValidate())
    fg.attach_feature(Refuse())
    with pytest.raises(InconsistencyError):
        fg.replace_validate(a, Scale(5.0)(x))
    assert out.owner.inputs[0] is a
    fg.check_integrity()


def test_type_mismatch_on_replace_is_an_error():
    from tgraph.tensor.type import TensorType

    x, y, a, out = small_graph()
    fg = FunctionGraph([x, y], [out], clone=False)
    other = TensorType("float32", (False,))("z")
    with pytest.raises(TypeError, match="types must match"):
        fg.replace(a, other)


def test_toposort_is_stable_and_clone_equivalent():
    x, y, a, out = small_graph()
    fg = FunctionGraph([x, y], [out])
    order = [str(n.op) for n in fg.toposort()]
    fg2 = fg.clone()
    assert [str(n.op) for n in fg2.toposort()] == order == ["Add", "Scale{2.0}"]

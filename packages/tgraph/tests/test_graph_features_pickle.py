"""A FunctionGraph with the standard features pickles, and their methods work afterwards.

A compiled function pickles its graph with every attribute the features added to it
(``revert``, ``validate``, ``replace_validate``, ``get_nodes``); these used to be lambdas,
which made ``pickle.dumps(theano.function(...))`` fail for any mode that runs rewrites.
"""

from __future__ import annotations

import pickle

import pytest
from graph_toyops import Scale, add, vec

from tgraph.graph import FunctionGraph, InconsistencyError, ReplaceValidate
from tgraph.graph.features import Feature, NodeFinder


class _RefuseScale3(Feature):
    """Vetoes any graph holding a Scale(3.0) node."""

    def validate(self, fgraph):
        if any(node.op == Scale(3.0) for node in fgraph.apply_nodes):
            raise InconsistencyError("Scale(3.0) is not allowed here")


def _graph():
    x, y = vec("x"), vec("y")
    fg = FunctionGraph([x, y], [Scale(2.0)(add(x, y))])
    fg.attach_feature(ReplaceValidate())
    fg.attach_feature(NodeFinder())
    fg.attach_feature(_RefuseScale3())
    return fg


def test_fgraph_with_features_round_trips_through_pickle():
    fg = pickle.loads(pickle.dumps(_graph()))
    (scale_node,) = fg.get_nodes(Scale(2.0))
    assert fg.validate() and fg.consistent()
    # replace_validate reverts a replacement that a feature refuses ...
    before = fg.checkpoint()
    with pytest.raises(InconsistencyError, match=r"^Scale\(3\.0\) is not allowed here$"):
        fg.replace_validate(fg.outputs[0], Scale(3.0)(scale_node.inputs[0]))
    assert fg.checkpoint() == before
    assert fg.outputs[0].owner.op == Scale(2.0)
    # ... and keeps one it accepts, which NodeFinder sees.
    fg.replace_all_validate([(fg.outputs[0], Scale(5.0)(scale_node.inputs[0]))])
    assert fg.outputs[0].owner.op == Scale(5.0)
    assert len(fg.get_nodes(Scale(5.0))) == 1
    fg.revert(before)
    assert fg.outputs[0].owner.op == Scale(2.0)


def test_unpickled_features_belong_to_the_copy():
    original = _graph()
    copy = pickle.loads(pickle.dumps(original))
    x = copy.outputs[0].owner.inputs[0]
    copy.replace_validate(copy.outputs[0], Scale(7.0)(x))
    assert original.outputs[0].owner.op == Scale(2.0)
    assert original.get_nodes(Scale(7.0)) == []
    assert original.checkpoint() == 0 and copy.checkpoint() > 0

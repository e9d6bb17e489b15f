"""Firing tests for the registered steps that attach or detach a feature.

ShapeOpt (0.1) attaches the ShapeFeature, UnShapeOpt (10, untagged) detaches it, and
add_destroy_handler (49.5) attaches the DestroyHandler that every in-place rewrite relies
on. They change no variable, so their markers say ``replaces=False`` and the tests check the
feature itself; the last test shows the levels running them (or not) where documented.
"""

from __future__ import annotations

import numpy as np
import pytest

from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType
from topt.features.destroyhandler import DestroyHandler
from topt.features.shape import ShapeFeature
from topt.levels import LEVELS
from topt.optdb import optdb


def _graph():
    x = TensorType("float64", (False, False))("x")
    return FunctionGraph([x], [tm.exp(x) + 1.0])


@pytest.mark.fires("ShapeOpt", replaces=False)
def test_shape_opt_attaches_the_shape_feature():
    fg = _graph()
    optdb["ShapeOpt"].optimize(fg)
    feature = fg.shape_feature
    assert isinstance(feature, ShapeFeature)
    out = fg.outputs[0]
    shape = feature.shape_of[out]  # inferred from the input, without computing exp
    v = np.ones((2, 3))
    assert [int(evaluate([s], {fg.inputs[0]: v})[0]) for s in shape] == [2, 3]


@pytest.mark.fires("UnShapeOpt", replaces=False)
def test_unshape_opt_detaches_it():
    fg = _graph()
    optdb["ShapeOpt"].optimize(fg)
    optdb["UnShapeOpt"].optimize(fg)
    assert getattr(fg, "shape_feature", None) is None
    assert optdb.tags_of("UnShapeOpt") == []  # runs only when asked for by name


@pytest.mark.fires("add_destroy_handler", replaces=False)
def test_add_destroy_handler_attaches_the_destroy_handler():
    fg = _graph()
    optdb["add_destroy_handler"].optimize(fg)
    assert isinstance(fg.destroy_handler, DestroyHandler)
    assert fg.destroyers(fg.inputs[0]) == []
    optdb["add_destroy_handler"].optimize(fg)  # a second time is harmless
    assert isinstance(fg.destroy_handler, DestroyHandler)


@pytest.mark.parametrize(("level", "shape", "destroy"), [
    ("None", False, False), ("o1", True, False), ("o3", True, False), ("o4", True, True),
])
def test_levels_attach_the_features_they_document(level, shape, destroy):
    fg = _graph()
    LEVELS[level].optimize(fg)
    assert hasattr(fg, "shape_feature") is shape
    assert hasattr(fg, "destroy_handler") is destroy

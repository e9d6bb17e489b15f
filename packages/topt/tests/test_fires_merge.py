"""Firing tests for the registered merge steps and constant folding.

optdb runs a MergeOptimizer at several positions (merge1 at 0, merge1.1, merge1.2, merge2
after fusion, merge3 at the end) and one inside each equilibrium phase (``merge``). Each is a
separate registered object, selectable and excludable by name, so each is shown removing
duplicates here: the registered object itself runs on a graph with a duplicated
computation and a duplicated constant, and the result must compute the same values.
"""

from __future__ import annotations

import numpy as np
import pytest

from tgraph.graph import evaluate
from tgraph.graph.basic import Constant
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.engine.merge import MergeOptimizer
from topt.engine.rewriter import EquilibriumOptimizer
from topt.optdb import optdb

TOP_LEVEL = ["merge1", "merge1.1", "merge1.2", "merge2", "merge3"]
PHASES = ["canonicalize", "stabilize", "specialize", "uncanonicalize", "specialize_device"]
V = np.array([0.5, -1.0, 2.0])


def _duplicates():
    x = TensorType("float64", (False,))("x")
    # two exp(x) nodes and two equal constants 2.0 (as distinct Constant objects)
    out = tm.exp(x) * constant(np.float64(2.0)) + tm.exp(x) * constant(np.float64(2.0))
    return FunctionGraph([x], [out]), out


def _exp_nodes(fg):
    return [n for n in fg.apply_nodes
            if isinstance(n.op, Elemwise) and type(n.op.scalar_op).__name__ == "Exp"]


def _check_merged(merge) -> None:
    assert isinstance(merge, MergeOptimizer)
    fg, _ = _duplicates()
    assert len(_exp_nodes(fg)) == 2
    merge.optimize(fg)
    assert len(_exp_nodes(fg)) == 1
    muls = [n for n in fg.apply_nodes
            if isinstance(n.op, Elemwise) and type(n.op.scalar_op).__name__ == "Mul"]
    assert len(muls) == 1  # the two products are one node once their inputs are
    np.testing.assert_allclose(evaluate(fg.outputs, {fg.inputs[0]: V})[0], 4 * np.exp(V))


@pytest.mark.parametrize("name", [  # literal names: test_rewrite_coverage reads them
    pytest.param("merge1", marks=pytest.mark.fires("merge1")),
    pytest.param("merge1.1", marks=pytest.mark.fires("merge1.1")),
    pytest.param("merge1.2", marks=pytest.mark.fires("merge1.2")),
    pytest.param("merge2", marks=pytest.mark.fires("merge2")),
    pytest.param("merge3", marks=pytest.mark.fires("merge3")),
])
def test_top_level_merge_step_removes_duplicates(name):
    assert name in TOP_LEVEL and "merge" in optdb.tags_of(name)
    _check_merged(optdb[name])


@pytest.mark.fires("merge")
@pytest.mark.parametrize("phase", PHASES)
def test_merge_inside_each_equilibrium_phase_removes_duplicates(phase):
    _check_merged(optdb[phase]["merge"])


def test_merge_steps_are_selected_by_the_merge_level():
    """The 'merge' level (tag merge) runs the top-level steps and nothing else."""
    from topt.levels import LEVELS

    selected = [getattr(o, "name", None) for o in LEVELS["merge"].optimizer]
    assert selected == TOP_LEVEL


@pytest.mark.fires("constant_folding")
@pytest.mark.parametrize("phase", ["canonicalize", "stabilize", "specialize", "uncanonicalize"])
def test_constant_folding_replaces_constant_subgraphs(phase):
    x = TensorType("float32", (False,))("x")
    two, three = constant(np.float32(2.0)), constant(np.float32(3.0))
    out = x * tm.exp(two * three)  # exp(6) is folded; x stays symbolic
    fg = FunctionGraph([x], [out])
    EquilibriumOptimizer([optdb[phase]["constant_folding"]], max_use_ratio=10).optimize(fg)
    ops = [type(n.op.scalar_op).__name__ for n in fg.toposort()]
    assert ops == ["Mul"]
    folded = [v for v in fg.toposort()[0].inputs if isinstance(v, Constant)]
    assert len(folded) == 1 and folded[0].dtype == "float32"
    v = np.array([1.0, -2.0], dtype="float32")
    res = evaluate(fg.outputs, {fg.inputs[0]: v})[0]
    assert res.dtype == np.float32
    np.testing.assert_allclose(res, v * np.exp(np.float32(6.0)), rtol=1e-6)


def test_constant_folding_leaves_symbolic_inputs_alone():
    x = TensorType("float64", (False,))("x")
    fg = FunctionGraph([x], [tm.exp(x) * 2.0])
    EquilibriumOptimizer([optdb["canonicalize"]["constant_folding"]],
                         max_use_ratio=10).optimize(fg)
    assert [type(n.op.scalar_op).__name__ for n in fg.toposort()] == ["Exp", "Mul"]

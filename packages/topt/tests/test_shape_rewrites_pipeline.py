"""The shape rewrites inside the optimizer levels: registration, and ``x.shape``-style
graphs that end up reading only the inputs' shapes (the big intermediates are gone)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import FunctionGraph, evaluate
from tgraph.tensor import math as tm
from tgraph.tensor.dot import dot
from tgraph.tensor.join import concatenate
from tgraph.tensor.shape import Shape, Shape_i, reshape
from tgraph.tensor.type import TensorType
from topt.levels import LEVELS
from topt.optdb import local_useless, optdb
from topt.rewrites.shape import ShapeOptimizer, UnShapeOptimizer

dmatrix = TensorType("float64", (False, False))
dvector = TensorType("float64", (False,))

# Ops allowed in a graph that only measures the inputs: shapes and integer arithmetic.
_SHAPE_ONLY = {"Shape_i", "MakeVector", "Elemwise", "TensorFromScalar", "ScalarFromTensor"}


def _run(fg, values):
    """Run fg in ``fg.toposort()`` order, which honours the DestroyHandler's orderings
    (tgraph.graph.evaluate orders by outputs only, wrong once fast_run made ops in place)."""
    storage = {v: np.array(values[v], copy=True) for v in fg.inputs}
    for var in fg.variables:
        if var.owner is None and var not in storage:
            storage[var] = var.data
    for node in fg.toposort():
        cells = [[None] for _ in node.outputs]
        node.op.perform(node, [storage[i] for i in node.inputs], cells)
        for out, cell in zip(node.outputs, cells):
            storage[out] = cell[0]
    return [storage[o] for o in fg.outputs]


def test_registration():
    assert optdb.position_of("ShapeOpt") == 0.1
    assert {"fast_run", "fast_compile"} <= set(optdb.tags_of("ShapeOpt"))
    assert isinstance(optdb["ShapeOpt"], ShapeOptimizer)
    assert isinstance(optdb["UnShapeOpt"], UnShapeOptimizer)
    assert "fast_run" not in optdb.tags_of("UnShapeOpt")
    for name in ("local_shape_to_shape_i", "local_track_shape_i", "local_shape_i_of_computed",
                 "local_subtensor_of_shape", "local_subtensor_make_vector",
                 "local_shape_i_constant", "local_useless_reshape_by_shape",
                 "local_useless_specify_shape_by_shape"):
        assert "fast_run" in optdb["canonicalize"].tags_of(name)
        assert optdb["specialize"][name] is optdb["canonicalize"][name]
    assert local_useless["local_subtensor_make_vector"] is optdb["canonicalize"][
        "local_subtensor_make_vector"]


def test_fast_compile_attaches_the_shape_feature_and_unshape_removes_it():
    x = dmatrix("x")
    fg = FunctionGraph([x], [tm.exp(x)])
    LEVELS["fast_compile"].optimize(fg)
    assert fg.shape_feature is not None
    UnShapeOptimizer().optimize(fg)
    assert not hasattr(fg, "shape_feature")
    ShapeOptimizer().optimize(fg)
    feature = fg.shape_feature
    ShapeOptimizer().optimize(fg)  # a second ShapeOpt keeps the first feature
    assert fg.shape_feature is feature


def _only_measures_inputs(fg):
    for node in fg.toposort():
        assert type(node.op).__name__ in _SHAPE_ONLY, f"{node} is still computed"
        if isinstance(node.op, Shape_i):
            assert node.inputs[0] in fg.inputs
        if type(node.op).__name__ == "Elemwise":
            assert node.outputs[0].dtype == "int64", f"{node} computes floats"


def test_shape_of_a_big_intermediate_reads_only_the_inputs():
    x, y = dmatrix("x"), dmatrix("y")
    big = dot(tm.exp(x) + y, y.T) * 2
    f = big.shape[0]
    g = big.shape[0] * big.shape[1]
    fg = FunctionGraph([x, y], [f, g, big.shape])
    LEVELS["fast_run"].optimize(fg)
    _only_measures_inputs(fg)
    values = {fg.inputs[0]: np.ones((3, 4)), fg.inputs[1]: np.ones((3, 4))}
    got = _run(fg, values)
    assert int(got[0]) == 3 and int(got[1]) == 9 and got[2].tolist() == [3, 3]


def test_the_value_is_kept_when_also_needed_but_its_shape_is_not_read_from_it():
    x, y = dmatrix("x"), dmatrix("y")
    big = tm.exp(x) + y
    fg = FunctionGraph([x, y], [big.sum(), big.shape[1]])
    LEVELS["fast_run"].optimize(fg)
    shape_node = fg.outputs[1].owner
    assert isinstance(shape_node.op, Shape_i) and shape_node.inputs[0] in fg.inputs


_unary = st.sampled_from(["exp", "neg", "T", "flat", "slice", "dup"])


def _build(x, v, steps):
    cur = x
    for s in steps:
        if s == "exp":
            cur = tm.exp(cur)
        elif s == "neg":
            cur = -cur
        elif s == "T":
            cur = cur.T if cur.ndim == 2 else cur
        elif s == "flat":
            cur = reshape(cur, (-1,)) if cur.ndim == 2 else reshape(cur, (1, -1))
        elif s == "slice":
            cur = cur[1:] if cur.ndim == 1 else cur[:, ::2]
        elif s == "dup":
            cur = concatenate([cur, v]) if cur.ndim == 1 else dot(cur, cur.T)
    return cur


@settings(max_examples=30, deadline=None)
@given(st.lists(_unary, min_size=1, max_size=6), st.integers(1, 4), st.integers(1, 4),
       st.integers(0, 3))
def test_random_graphs_shape_only_after_fast_run(steps, n, m, k):
    x, v = dmatrix("x"), dvector("v")
    out = _build(x, v, steps)
    shp = out.shape
    fg = FunctionGraph([x, v], [shp])
    # local_add_canonizer (canonicalize.py, in progress) loops on some int64 shape
    # arithmetic such as maximum(a*b + c - maximum(minimum(1, a*b + c), 0), 0): leave it
    # out here until it converges; the shape rewrites are what this test is about.
    LEVELS["fast_run"].excluding("local_add_canonizer").optimize(fg)
    assert Shape not in [type(nd.op) for nd in fg.toposort()]
    _only_measures_inputs(fg)
    xv, vv = np.ones((n, m)), np.ones(k)
    with np.errstate(all="ignore"):  # repeated exp overflows; only shapes matter here
        (expected,) = evaluate([out], {x: xv, v: vv})
    (got,) = _run(fg, {fg.inputs[0]: xv, fg.inputs[1]: vv})
    assert tuple(got) == np.shape(expected)

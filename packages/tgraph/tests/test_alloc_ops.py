"""Alloc, zeros/ones, fill and *_like, AllocEmpty, ARange, Eye, Tri/tril/triu."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from test_shape_helpers import (
    assert_infer_shape,
    check_graph_grad,
    check_node_grad,
    check_op_contract,
    ftensor,
    infer_shape_values,
    run,
)

import tgraph.tensor as T
from tgraph import config
from tgraph.gradient_ops import DisconnectedType, NullType
from tgraph.graph import FunctionGraph
from tgraph.tensor.alloc import (
    Alloc,
    AllocEmpty,
    ARange,
    Eye,
    Tri,
    alloc,
    alloc_empty,
    arange,
    eye,
    fill,
    identity_like,
    mgrid,
    ogrid,
    ones,
    ones_like,
    second,
    tri,
    tril,
    triu,
    zeros,
    zeros_like,
)
from tgraph.tensor.basic import get_scalar_constant_value
from tgraph.tensor.shape import Shape_i, make_vector


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# -- Alloc -------------------------------------------------------------------------------------


@st.composite
def _alloc_case(draw):
    """A value shape and a target shape it broadcasts to (value aligned to the right)."""
    target = draw(hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4))
    vdims = draw(st.integers(0, len(target)))
    vshape = tuple(
        1 if draw(st.booleans()) else s for s in target[len(target) - vdims:]
    )
    return vshape, target


@settings(max_examples=40, deadline=None)
@given(_alloc_case(), st.sampled_from(["float64", "float32", "int32", "bool"]), st.booleans())
def test_alloc_matches_numpy_broadcast(case, dtype, symbolic):
    vshape, target = case
    x = ftensor(len(vshape), dtype)
    v = (np.arange(int(np.prod(vshape))).reshape(vshape) % 3).astype(dtype)
    if symbolic:
        dims = [T.lscalar() for _ in target]
        out = alloc(x, *dims)
        givens = {x: v, **dict(zip(dims, target))}
    else:
        out = alloc(x, *target)
        givens = {x: v}
    got = run(out, givens)
    assert got.dtype == v.dtype
    np.testing.assert_array_equal(got, np.broadcast_to(v, target))
    assert_infer_shape(out, givens, got)


def test_alloc_types():
    x = T.vector()
    n = T.lscalar()
    assert alloc(x, 1, 3).broadcastable == (True, False)
    assert alloc(x, n, 3).broadcastable == (False, False)
    assert alloc(2.0, 1).broadcastable == (True,)
    assert alloc(np.float32(2), 2, 3).dtype == "float32"
    assert get_scalar_constant_value(Shape_i(0)(alloc(x, 5, n))) == 5
    assert alloc(x, np.int32(2), 3).ndim == 2


def test_alloc_errors():
    x = T.matrix()
    with pytest.raises(TypeError, match="has 2 dimensions, more than the 1 of the requested"):
        alloc(x, 3)
    with pytest.raises(TypeError, match=r"shape argument 1 must be an integer scalar, got .*"
                                        r"float64"):
        alloc(x, 2, T.dscalar())
    with pytest.raises(TypeError, match="shape argument 0 must be an integer"):
        alloc(x, 2.5, 3)
    with pytest.raises(ValueError, match="shape argument 0 is negative"):
        alloc(x, -2, 3)
    out = alloc(x, 4, 3)
    with pytest.raises(ValueError, match=r"cannot broadcast a value of shape \(2, 3\) to "
                                         r"shape \(4, 3\)"):
        run(out, {x: np.zeros((2, 3))})
    n = T.lscalar()
    with pytest.raises(ValueError, match="negative dimensions"):
        run(alloc(x, n, 3), {x: np.zeros((1, 3)), n: -1})


def test_alloc_grad(rng):
    check_node_grad(lambda x: alloc(x, 2, 3, 4), [rng.standard_normal(4)], rng)
    check_node_grad(lambda x: alloc(x, 3, 2, 4), [rng.standard_normal((1, 4))], rng,
                    bcasts=[(True, False)])
    check_node_grad(lambda x: alloc(x, 3, 1), [rng.standard_normal((1, 1))], rng,
                    bcasts=[(True, True)])
    x = T.vector()
    out = alloc(x, 2, 3)
    node = out.owner
    assert node.op.connection_pattern(node) == [[True], [False], [False]]
    grads = node.op.grad(node.inputs, [out.type()])
    assert all(isinstance(g.type, DisconnectedType) for g in grads[1:])
    ex = T.vector()
    (r,) = node.op.R_op(node.inputs, [ex, None, None])
    np.testing.assert_array_equal(run(r, {ex: np.ones(3)}), np.ones((2, 3)))
    assert node.op.R_op(node.inputs, [None, None, None]) == [None]


def test_alloc_in_fgraph_and_constant_folding():
    x = T.matrix()
    x.fgraph = object()  # as in an optimized graph: a useless alloc returns its value
    n, m = T.lscalar(), T.lscalar()
    assert alloc(x, n, m) is x
    assert alloc(x, 1, m) is not x  # the type changes: the alloc is kept
    assert alloc(T.matrix(), n, m).owner is not None
    c = alloc(np.float64(0), 2, 3)
    node = c.owner
    assert node.op.do_constant_folding(node)
    fg = FunctionGraph([], [c], clone=False)
    node.fgraph = fg
    assert not node.op.do_constant_folding(node)  # a graph output: not folded
    del node.fgraph


def test_alloc_op_contract():
    check_op_contract(Alloc)
    check_op_contract(lambda: AllocEmpty("float32"), AllocEmpty("float64"))
    check_op_contract(lambda: ARange("int64"), ARange("float64"))
    check_op_contract(lambda: Eye("float32"), Eye("float64"))
    check_op_contract(lambda: Tri("float32"), Tri("int8"))
    assert Eye("float64") != Tri("float64")


# -- zeros, ones, fill -------------------------------------------------------------------------


@pytest.mark.parametrize("shape_arg", [3, (2, 3), [2, 0], np.array([2, 3]), ()],
                         ids=["int", "tuple", "list-zero", "ndarray", "empty"])
def test_zeros_ones_shapes(shape_arg):
    want = np.zeros(shape_arg)
    z, o = zeros(shape_arg), ones(shape_arg, dtype="int8")
    assert z.dtype == config.floatX and o.dtype == "int8"
    np.testing.assert_array_equal(run(z), want)
    np.testing.assert_array_equal(run(o), np.ones(shape_arg, dtype="int8"))


def test_zeros_symbolic_shapes():
    n = T.lscalar()
    np.testing.assert_array_equal(run(zeros(n), {n: 3}), np.zeros(3))
    np.testing.assert_array_equal(run(ones((n, 2)), {n: 3}), np.ones((3, 2)))
    np.testing.assert_array_equal(run(zeros(make_vector(n, 2)), {n: 1}), np.zeros((1, 2)))
    x = T.matrix()
    np.testing.assert_array_equal(run(zeros(x.shape), {x: np.ones((2, 4))}), np.zeros((2, 4)))
    with config.change_flags(floatX="float32"):
        assert zeros(2).dtype == "float32"


@settings(max_examples=30, deadline=None)
@given(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
       st.sampled_from(["float64", "float32", "int16"]))
def test_like_functions(shp, dtype):
    x = ftensor(len(shp), dtype)
    v = np.ones(shp, dtype=dtype)
    for fn, npfn in ((zeros_like, np.zeros_like), (ones_like, np.ones_like)):
        out = fn(x)
        assert out.dtype == dtype and out.broadcastable == x.broadcastable
        got = run(out, {x: v})
        np.testing.assert_array_equal(got, npfn(v))
        assert got.dtype == dtype
        assert fn(x, dtype="int8").dtype == "int8"
    np.testing.assert_array_equal(run(x.zeros_like(), {x: v}), np.zeros(shp))
    np.testing.assert_array_equal(run(fill(x, 7), {x: v}), np.full(shp, 7))
    np.testing.assert_array_equal(run(x.fill(2), {x: v}), np.full(shp, 2))


def test_fill_second_semantics():
    x, y = T.matrix(), T.vector("y", dtype="float32")
    out = second(x, y)
    assert out.dtype == "float32" and out.ndim == 2
    assert fill is second
    v = run(out, {x: np.zeros((2, 3)), y: np.arange(3, dtype="float32")})
    np.testing.assert_array_equal(v, np.broadcast_to(np.arange(3), (2, 3)))
    s = T.dscalar()
    assert zeros_like(s, opt=True).owner is None  # a constant
    assert zeros_like(T.matrix(), opt=True).owner is not None


# -- AllocEmpty --------------------------------------------------------------------------------


def test_alloc_empty():
    n = T.lscalar()
    out = alloc_empty((n, 3), dtype="int32")
    assert out.dtype == "int32" and out.broadcastable == (False, False)
    v = run(out, {n: 2})
    assert v.shape == (2, 3) and v.dtype == np.int32
    assert out.tag.values_eq_approx(v, v + 1)
    assert out.tag.nan_guard_mode_check is False
    assert not out.owner.op.do_constant_folding(out.owner)
    assert alloc_empty(4).dtype == config.floatX
    assert infer_shape_values(out, {n: 2}) == (2, 3)


# -- ARange ------------------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.integers(-10, 10), st.integers(-10, 10), st.integers(-4, 4).filter(bool))
def test_arange_ints(start, stop, step):
    a, b, c = T.lscalar(), T.lscalar(), T.lscalar()
    out = arange(a, b, c)
    givens = {a: start, b: stop, c: step}
    want = np.arange(start, stop, step)
    np.testing.assert_array_equal(run(out, givens), want)
    assert_infer_shape(out, givens, want)
    one = arange(a, b)
    np.testing.assert_array_equal(run(one, givens), np.arange(start, stop))
    assert_infer_shape(one, givens)
    zero = arange(b)
    assert_infer_shape(zero, givens)


@settings(max_examples=40, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5), st.floats(0.25, 2) | st.floats(-2, -0.25))
def test_arange_floats(start, stop, step):
    a, b, c = T.dscalar(), T.dscalar(), T.dscalar()
    out = arange(a, b, c)
    givens = {a: start, b: stop, c: step}
    want = np.arange(start, stop, step)
    np.testing.assert_allclose(run(out, givens), want)
    assert infer_shape_values(out, givens) == want.shape


@pytest.mark.parametrize(
    ("dtypes", "want"),
    [
        (("int8", "int8", "int8"), "int64"),
        (("int32", "int16", "int8"), "int64"),
        (("uint8", "uint8", "uint8"), "uint64"),
        (("float32", "int8", "int8"), "float32"),
        (("float64", "int8", "int8"), "float64"),
        (("int64", "float32", "int8"), "float64"),
    ],
)
def test_arange_dtype_rules(dtypes, want):
    args = [T.scalar(dtype=d) for d in dtypes]
    assert arange(*args).dtype == want


def test_arange_dtype_numpy_floatx_policy():
    with config.change_flags(cast_policy="numpy+floatX", floatX="float32"):
        assert arange(T.iscalar()).dtype == "int64"
        assert arange(T.fscalar(), T.fscalar()).dtype == "float32"
        assert arange(T.lscalar(), T.fscalar()).dtype == "float32"
        assert arange(T.dscalar()).dtype == "float64"
    assert arange(T.lscalar(), dtype="int32").dtype == "int32"
    assert arange(5).dtype == "int64"


def test_arange_errors():
    with pytest.raises(TypeError, match="stop must be a real scalar"):
        arange(T.vector())
    c = T.lscalar()
    with pytest.raises(ValueError, match="step must not be 0"):
        run(arange(0, 5, c), {c: 0})


def test_arange_grad(rng):
    check_node_grad(lambda a, c: arange(a, 5.0, c, dtype="float64"),
                    [np.array(0.3), np.array(0.7)], rng)
    a = T.dscalar()
    out = arange(a, 5.0, 1.0, dtype="float64")
    node = out.owner
    assert node.op.connection_pattern(node) == [[True], [False], [True]]
    g = node.op.L_op(node.inputs, node.outputs, [out.type()])
    assert isinstance(g[1].type, DisconnectedType)
    ia = T.lscalar()
    iout = arange(ia, 5)
    gi = iout.owner.op.L_op(iout.owner.inputs, iout.owner.outputs, [iout.type()])
    assert gi[0].dtype == config.floatX and run(gi[0], {ia: 1}) == 0


# -- Eye, Tri ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 5), st.integers(0, 5) | st.none(), st.integers(-6, 6))
def test_eye_and_tri_match_numpy(n, m, k):
    N, M, K = T.lscalar(), T.lscalar(), T.lscalar()
    givens = {N: n, M: n if m is None else m, K: k}
    for fn, npfn in ((eye, np.eye), (tri, np.tri)):
        out = fn(N, M, K)
        want = npfn(n, n if m is None else m, k)
        np.testing.assert_array_equal(run(out, givens), want)
        assert out.dtype == config.floatX
        assert_infer_shape(out, givens, want)
        const = fn(n, m, k, dtype="int8")
        np.testing.assert_array_equal(run(const), npfn(n, m, k, dtype="int8"))


def test_eye_errors_and_grad():
    with pytest.raises(TypeError, match="n must be an integer scalar"):
        eye(T.dscalar())
    with pytest.raises(TypeError, match="k must be an integer scalar"):
        tri(3, 3, T.lvector())
    with pytest.raises(ValueError, match="negative dimensions"):
        n = T.lscalar()
        run(eye(n), {n: -1})
    out = eye(3)
    grads = out.owner.op.grad(out.owner.inputs, [out.type()])
    assert all(isinstance(g.type, NullType) for g in grads)


def test_identity_like():
    x = T.matrix("x", dtype="float32")
    out = identity_like(x)
    assert out.dtype == "float32"
    np.testing.assert_array_equal(run(out, {x: np.zeros((2, 3), "float32")}), np.eye(2, 3))
    with pytest.raises(TypeError, match="expected a matrix"):
        identity_like(T.vector())


@settings(max_examples=40, deadline=None)
@given(hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=4), st.integers(-4, 4),
       st.sampled_from(["float64", "int32", "float32"]))
def test_tril_triu_match_numpy(shp, k, dtype):
    x = ftensor(len(shp), dtype)
    v = (np.arange(int(np.prod(shp))).reshape(shp) + 1).astype(dtype)
    for fn, npfn in ((tril, np.tril), (triu, np.triu)):
        out = fn(x, k)
        assert out.dtype == dtype
        got = run(out, {x: v})
        np.testing.assert_array_equal(got, npfn(v, k))


def test_tril_triu_errors_and_grad(rng):
    with pytest.raises(TypeError, match="expected at least 2 dimensions"):
        tril(T.vector())
    check_graph_grad(lambda x: tril(x, 1) + triu(x, 1), [rng.standard_normal((3, 4))], rng)


# -- mgrid, ogrid ------------------------------------------------------------------------------


def test_mgrid_ogrid_match_numpy():
    n = T.lscalar()
    dense = mgrid[0:n, 1:7:2]
    sparse = ogrid[0:n, 1:7:2]
    want_dense = np.mgrid[0:4, 1:7:2]
    want_sparse = np.ogrid[0:4, 1:7:2]
    for got, want in zip(run(dense, {n: 4}), want_dense):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(run(sparse, {n: 4}), want_sparse):
        np.testing.assert_array_equal(got, want)
    assert sparse[1].broadcastable == (True, False)
    np.testing.assert_array_equal(run(mgrid[2:5]), np.mgrid[2:5])
    with pytest.raises(TypeError, match="expected slices with a stop"):
        mgrid[0:]
    with pytest.raises(NotImplementedError, match="complex steps"):
        mgrid[0:1:5j]

"""Shape, Shape_i, MakeVector, Reshape, flatten, SpecifyShape and the DimShuffle helpers."""

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
from tgraph.gradient_ops import DisconnectedType
from tgraph.tensor.basic import (
    NotScalarConstantError,
    constant,
    get_scalar_constant_value,
    get_vector_length,
)
from tgraph.tensor.shape import (
    MakeVector,
    Reshape,
    Shape,
    Shape_i,
    SpecifyShape,
    SpecifyShapeError,
    flatten,
    is_flat,
    make_vector,
    reshape,
    shape,
    shape_i,
    shape_padaxis,
    shape_padleft,
    shape_padright,
    specify_shape,
    swapaxes,
    transpose,
)

SHAPES = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)


def _value(shp, noncontig: bool, rng=None):
    """A float64 array of shape ``shp``; a strided (non-contiguous) view when asked."""
    rng = rng or np.random.default_rng(0)
    arr = rng.standard_normal(shp)
    if noncontig and arr.ndim:
        arr = np.repeat(arr, 2, axis=-1)[..., ::2]
    return arr


@pytest.fixture
def rng():
    return np.random.default_rng(42)


# -- Shape and Shape_i -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(SHAPES, st.booleans())
def test_shape_matches_numpy(shp, noncontig):
    x = ftensor(len(shp))
    v = _value(shp, noncontig)
    out = run(shape(x), {x: v})
    assert out.dtype == np.int64 and tuple(out) == shp
    for i in range(len(shp)):
        assert int(run(Shape_i(i)(x), {x: v})) == shp[i]
        assert int(run(shape_i(x, i), {x: v})) == shp[i]


def test_shape_types_and_length():
    x = T.tensor3()
    s = shape(x)
    assert s.type == T.lvector().type
    assert get_vector_length(s) == 3
    assert Shape_i(1)(x).type == T.lscalar().type
    assert x.shape.owner.op == Shape()
    assert infer_shape_values(s, {x: np.zeros((2, 3, 4))}) == (3,)
    assert infer_shape_values(Shape_i(0)(x), {x: np.zeros((2, 3, 4))}) == ()


def test_shape_is_not_differentiable():
    x = T.matrix()
    for out in (shape(x), Shape_i(0)(x)):
        node = out.owner
        assert node.op.connection_pattern(node) == [[False]]
        (g,) = node.op.grad(node.inputs, [out.type()])
        assert isinstance(g.type, DisconnectedType)
        assert node.op.R_op(node.inputs, [None]) == [None]


def test_shape_i_errors():
    with pytest.raises(TypeError, match="has 2 dimensions, expected more than 2"):
        Shape_i(2)(T.matrix())
    with pytest.raises(TypeError, match="non-negative integer"):
        Shape_i(-1)
    with pytest.raises(TypeError, match="expected a Variable"):
        Shape_i(0)(np.zeros(3))


def test_shape_i_constant_finder():
    row = T.row()
    assert get_scalar_constant_value(Shape_i(0)(row)) == 1
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(Shape_i(1)(row))
    c = constant(np.zeros((2, 5)))
    assert get_scalar_constant_value(Shape_i(1)(c)) == 5
    x = T.matrix()
    assert get_scalar_constant_value(Shape_i(1)(specify_shape(x, (3, 7)))) == 7
    assert get_scalar_constant_value(Shape_i(0)(reshape(x, (4, -1)))) == 4
    with pytest.raises(NotScalarConstantError):
        get_scalar_constant_value(Shape_i(1)(reshape(x, (4, -1))))
    n = T.lscalar()
    r = reshape(x, (n, 6))
    assert get_scalar_constant_value(Shape_i(1)(r)) == 6


def test_shape_op_contract():
    check_op_contract(Shape)
    check_op_contract(lambda: Shape_i(1), Shape_i(2))
    check_op_contract(lambda: Reshape(2), Reshape(3))
    check_op_contract(lambda: MakeVector("int64"), MakeVector("int32"))
    check_op_contract(SpecifyShape)
    assert str(Shape_i(1)) == "Shape_i{1}"
    assert str(Reshape(2)) == "Reshape{2}"


# -- MakeVector ------------------------------------------------------------------------------


def test_make_vector_values_and_casts():
    a, b = T.lscalar(), T.lscalar()
    v = make_vector(a, b, 3)
    assert v.type == T.lvector().type
    assert get_vector_length(v) == 3
    np.testing.assert_array_equal(run(v, {a: 1, b: 2}), [1, 2, 3])
    assert infer_shape_values(v, {a: 1, b: 2}) == (3,)
    empty = make_vector()
    assert run(empty).shape == (0,) and run(empty).dtype == np.int64
    i8 = T.bscalar()
    assert make_vector(i8).owner.inputs[0].dtype == "int64"
    f = MakeVector("float32")(T.fscalar(), 1.5)
    assert f.dtype == "float32"


def test_make_vector_errors():
    with pytest.raises(TypeError, match=r"input 0 is .*float64.*cannot be stored in int64"):
        make_vector(T.dscalar())
    with pytest.raises(TypeError, match="input 1 must be a scalar"):
        make_vector(T.lscalar(), T.lvector())


def test_make_vector_grad(rng):
    check_node_grad(lambda a, b, c: MakeVector("float64")(a, b, c),
                    [rng.standard_normal(()) for _ in range(3)], rng)
    a = T.lscalar()
    out = make_vector(a, a)
    (g, _) = out.owner.op.grad(out.owner.inputs, [out.type()])
    assert g.dtype == config.floatX
    assert run(g, {a: 3}) == 0


# -- Reshape -----------------------------------------------------------------------------------


@st.composite
def _reshape_case(draw):
    shp = draw(SHAPES)
    size = int(np.prod(shp))
    # Split the size into factors, then maybe replace one by -1.
    factors = []
    rest = size
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, rest + 1) if rest % d == 0] if rest else [0, 1, 2]
        d = draw(st.sampled_from(divisors))
        factors.append(d)
        rest = rest // d if d else rest
    if size == 0 and 0 not in factors:
        factors.append(0)
    elif size:
        factors.append(rest)
    if factors and size and draw(st.booleans()):
        factors[draw(st.integers(0, len(factors) - 1))] = -1
    return shp, tuple(factors)


@settings(max_examples=50, deadline=None)
@given(_reshape_case(), st.booleans(), st.booleans())
def test_reshape_matches_numpy(case, noncontig, symbolic):
    shp, target = case
    x = ftensor(len(shp))
    v = _value(shp, noncontig)
    if symbolic:
        entries = [T.lscalar() for _ in target]
        out = reshape(x, entries)
        givens = {x: v, **{e: t for e, t in zip(entries, target)}}
    else:
        out = reshape(x, target)
        givens = {x: v}
    want = np.reshape(v, target)
    got = run(out, givens)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == v.dtype
    assert infer_shape_values(out, givens) == want.shape


def test_reshape_symbolic_vector_needs_ndim():
    x = T.matrix()
    s = T.lvector()
    with pytest.raises(ValueError, match="pass ndim="):
        reshape(x, s)
    out = reshape(x, s, ndim=3)
    v = np.arange(12.0).reshape(3, 4)
    givens = {x: v, s: np.array([2, -1, 3])}
    np.testing.assert_array_equal(run(out, givens), v.reshape(2, 2, 3))
    assert infer_shape_values(out, givens) == (2, 2, 3)
    # the method form goes through the same function
    np.testing.assert_array_equal(run(x.reshape((4, 3)), {x: v}), v.reshape(4, 3))


def test_reshape_broadcastable_pattern():
    x = T.matrix()
    assert reshape(x, (1, -1, 1)).broadcastable == (True, False, True)
    assert reshape(x, (x.shape[1], 1)).broadcastable == (False, True)
    r = T.row()
    assert reshape(r, shape(r)).broadcastable == (True, False)
    assert reshape(r, (shape_i(r, 0), 4)).broadcastable == (True, False)


def test_reshape_errors():
    x = T.matrix()
    with pytest.raises(ValueError, match="entries must be non-negative, except one"):
        reshape(x, (-1, -1))
    with pytest.raises(ValueError, match="entries must be non-negative"):
        reshape(x, (2, -3))
    with pytest.raises(TypeError, match="integer"):
        reshape(x, (2.5, 2))
    with pytest.raises(TypeError, match="integer dtype"):
        reshape(x, T.dvector(), ndim=2)
    with pytest.raises(ValueError, match="has 2 entries, expected 3"):
        Reshape(3)(x, (2, 3))
    out = reshape(x, (4, -1))
    with pytest.raises(ValueError, match=r"cannot reshape an array of shape \(2, 3\) "
                                         r"\(6 elements\) to shape \(4, -1\)"):
        run(out, {x: np.zeros((2, 3))})
    s = T.lvector()
    bad = reshape(x, s, ndim=2)
    with pytest.raises(ValueError, match=r"new shape \(6,\) has 1 entries, expected 2"):
        run(bad, {x: np.zeros((2, 3)), s: np.array([6])})


def test_reshape_returns_a_view():
    x = T.matrix()
    out = reshape(x, (-1,))
    assert out.owner.op.view_map == {0: [0]}
    v = np.arange(6.0).reshape(2, 3)
    assert np.shares_memory(run(out, {x: v}), v)


def test_reshape_grad_and_rop(rng):
    check_node_grad(lambda x: reshape(x, (3, -1)), [rng.standard_normal((2, 3, 2))], rng)
    check_node_grad(lambda x: reshape(x, (x.shape[1], x.shape[0])),
                    [rng.standard_normal((2, 5))], rng)
    x, ex = T.matrix(), T.matrix()
    out = reshape(x, (6,))
    (r,) = out.owner.op.R_op(out.owner.inputs, [ex, None])
    np.testing.assert_array_equal(run(r, {ex: np.ones((2, 3))}), np.ones(6))
    assert out.owner.op.R_op(out.owner.inputs, [None, None]) == [None]
    assert out.owner.op.connection_pattern(out.owner) == [[True], [False]]


def test_reshape_scalar_and_to_scalar():
    s = T.dscalar()
    out = reshape(s, (1, 1))
    assert out.broadcastable == (True, True)
    np.testing.assert_array_equal(run(out, {s: 2.0}), [[2.0]])
    assert infer_shape_values(out, {s: 2.0}) == (1, 1)
    x = T.matrix()
    back = reshape(x, ())
    assert back.ndim == 0
    assert run(back, {x: np.full((1, 1), 3.0)}) == 3.0


# -- flatten -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=4, min_side=0, max_side=4), st.data())
def test_flatten_matches_numpy(shp, data):
    ndim = data.draw(st.integers(1, len(shp)))
    x = ftensor(len(shp))
    v = _value(shp, data.draw(st.booleans()))
    want = v.reshape((*shp[: ndim - 1], int(np.prod(shp[ndim - 1:]))))
    out = flatten(x, ndim)
    np.testing.assert_array_equal(run(out, {x: v}), want)
    assert_infer_shape(out, {x: v}, want)


def test_flatten_broadcastable_and_errors():
    t = T.TensorType("float64", (True, False, True))()
    assert flatten(t, 1).broadcastable == (False,)
    assert flatten(t, 2).broadcastable == (True, False)
    assert flatten(T.TensorType("float64", (False, True, True))(), 2).broadcastable == (
        False, True)
    assert flatten(T.dscalar()).ndim == 1
    assert is_flat(flatten(T.tensor3(), 2), 2)
    with pytest.raises(ValueError, match="ndim=3 is out of range"):
        flatten(T.matrix(), 3)
    with pytest.raises(ValueError, match="ndim=0 is out of range"):
        flatten(T.matrix(), 0)
    with pytest.warns(DeprecationWarning, match="outdim is deprecated"):
        assert flatten(T.tensor3(), outdim=2).ndim == 2


def test_flatten_grad(rng):
    check_graph_grad(lambda x: flatten(x, 2), [rng.standard_normal((2, 3, 2))], rng)


# -- SpecifyShape ------------------------------------------------------------------------------


def test_specify_shape_checks_at_run_time():
    x = T.matrix()
    n = T.lscalar()
    out = specify_shape(x, (n, 3))
    assert out.type == x.type
    v = np.ones((2, 3))
    assert run(out, {x: v, n: 2}) is v
    with pytest.raises(SpecifyShapeError, match=r"has shape \(2, 3\), but the graph declared "
                                                r"shape \(4, 3\)"):
        run(out, {x: v, n: 4})
    with pytest.raises(AssertionError):
        run(out, {x: v, n: 4})
    assert infer_shape_values(out, {x: v, n: 2}) == (2, 3)
    s = T.lvector()
    dyn = specify_shape(x, s)
    assert infer_shape_values(dyn, {x: v, s: np.array([2, 3])}) == (2, 3)


def test_specify_shape_errors_at_build_time():
    x = T.matrix()
    with pytest.raises(ValueError, match=r"the shape has 3 entries but .* has 2 dimensions"):
        specify_shape(x, (1, 2, 3))
    with pytest.raises(ValueError, match="entry 0 of the shape"):
        specify_shape(T.row(), (2, 3))


def test_specify_shape_grad(rng):
    check_node_grad(lambda x: specify_shape(x, (2, 3)), [rng.standard_normal((2, 3))], rng)
    x = T.matrix()
    out = specify_shape(x, (2, 2))
    assert out.owner.op.connection_pattern(out.owner) == [[True], [False]]
    ex = T.matrix()
    (r,) = out.owner.op.R_op(out.owner.inputs, [ex, None])
    assert r.owner.op == SpecifyShape()


# -- DimShuffle helpers ------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(SHAPES, st.data())
def test_transpose_matches_numpy(shp, data):
    x = ftensor(len(shp))
    v = _value(shp, data.draw(st.booleans()))
    np.testing.assert_array_equal(run(transpose(x), {x: v}), v.T)
    axes = data.draw(st.permutations(range(len(shp))))
    axes = [a - len(shp) if data.draw(st.booleans()) else a for a in axes]
    np.testing.assert_array_equal(run(transpose(x, axes), {x: v}), np.transpose(v, axes))
    if len(shp) >= 2:
        a1, a2 = data.draw(st.integers(-len(shp), len(shp) - 1)), 0
        np.testing.assert_array_equal(run(swapaxes(x, a1, a2), {x: v}), np.swapaxes(v, a1, a2))


def test_transpose_names_and_errors():
    x = T.matrix("x")
    assert x.T.name == "x.T"
    assert transpose(x, (0, 1)).name is None
    with pytest.raises(ValueError, match="not a permutation"):
        transpose(x, (0, 0))
    with pytest.raises(IndexError, match="out of bounds"):
        transpose(x, (0, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        swapaxes(x, 0, 5)


def test_shape_pad_helpers():
    x = T.matrix()
    v = np.ones((2, 3))
    assert shape_padleft(x, 2).broadcastable == (True, True, False, False)
    assert shape_padright(x).broadcastable == (False, False, True)
    for axis in range(-3, 3):
        out = shape_padaxis(x, axis)
        assert run(out, {x: v}).shape == np.expand_dims(v, axis).shape
        assert out.broadcastable[axis] is True
    with pytest.raises(IndexError, match=r"axis 3 is out of bounds \[-3, 3\)"):
        shape_padaxis(x, 3)

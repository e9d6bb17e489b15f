"""Join/concatenate/stack, Split, roll, tile and the list stacker of as_tensor_variable."""

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
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.join import (
    Join,
    Split,
    concatenate,
    horizontal_stack,
    join,
    roll,
    split,
    stack,
    stacklists,
    tile,
    vertical_stack,
)
from tgraph.tensor.shape import MakeVector


@pytest.fixture
def rng():
    return np.random.default_rng(3)


def _strided(arr, noncontig: bool):
    if noncontig and arr.ndim:
        return np.repeat(arr, 2, axis=-1)[..., ::2]
    return arr


# -- Join --------------------------------------------------------------------------------------


@st.composite
def _join_case(draw):
    base = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    axis = draw(st.integers(-len(base), len(base) - 1))
    n = draw(st.integers(1, 4))
    shapes = []
    for _ in range(n):
        shp = list(base)
        shp[axis] = draw(st.integers(0, 3))
        shapes.append(tuple(shp))
    dtypes = draw(st.lists(st.sampled_from(["float64", "float32", "int8", "int32"]),
                           min_size=n, max_size=n))
    return shapes, axis, dtypes


@settings(max_examples=50, deadline=None)
@given(_join_case(), st.booleans(), st.booleans())
def test_join_matches_numpy(case, symbolic_axis, noncontig):
    shapes, axis, dtypes = case
    xs = [ftensor(len(s), d) for s, d in zip(shapes, dtypes)]
    vals = [_strided((np.arange(int(np.prod(s))).reshape(s) % 5).astype(d), noncontig)
            for s, d in zip(shapes, dtypes)]
    givens = dict(zip(xs, vals))
    if symbolic_axis:
        a = T.lscalar()
        givens[a] = axis
        out = Join()(a, *xs)
    else:
        out = join(axis, *xs)
    want = np.concatenate(vals, axis=axis)
    got = run(out, givens)
    np.testing.assert_array_equal(got, want)
    if len(xs) > 1 or symbolic_axis:
        assert got.dtype == np.dtype(np.result_type(*dtypes))
        assert_infer_shape(out, givens, got)


def test_join_types():
    row, m = T.row(), T.matrix()
    assert join(0, row, row).broadcastable == (False, False)
    assert join(1, row, m).broadcastable == (True, False)
    assert join(-1, row, m).broadcastable == (True, False)
    assert Join()(T.lscalar(), row, row).broadcastable == (False, False)
    assert join(0, T.fvector(), T.dvector()).dtype == "float64"
    assert join(0, T.fvector(), T.fvector()).dtype == "float32"
    assert join(0, T.ivector(), T.fvector()).dtype == "float64"
    assert join(0, T.bvector(), T.bvector()).dtype == "int8"
    x = T.vector()
    assert join(0, x) is x
    assert str(Join()) == "Join" and str(Join(view=1)) == "Join{view=1}"


def test_join_errors():
    x, m = T.vector(), T.matrix()
    with pytest.raises(ValueError, match="cannot join an empty list"):
        Join()(0)
    with pytest.raises(TypeError, match=r"input 1 is a scalar .* use stack"):
        join(0, x, T.dscalar())
    with pytest.raises(TypeError, match="same number of dimensions"):
        join(0, x, m)
    with pytest.raises(IndexError, match="axis 2 is out of range for 2-d tensors"):
        join(2, m, m)
    with pytest.raises(TypeError, match="axis must be an integer"):
        join(0.5, m, m)
    with pytest.raises(TypeError, match="axis must be an integer scalar"):
        Join()(T.dscalar(), m, m)
    m2 = T.matrix()
    out = join(0, m, m2)
    with pytest.raises(ValueError, match=r"input 1 has shape \(2, 4\) but input 0 has shape "
                                         r"\(2, 3\); all dimensions except the join axis 0"):
        run(out, {m: np.zeros((2, 3)), m2: np.zeros((2, 4))})
    a = T.lscalar()
    with pytest.raises(IndexError, match="axis 5 is out of range"):
        run(Join()(a, m, m), {a: 5, m: np.zeros((1, 1))})


def test_join_grad(rng):
    check_node_grad(lambda a, b: join(0, a, b),
                    [rng.standard_normal((2, 3)), rng.standard_normal((1, 3))], rng)
    check_node_grad(lambda a, b, c: join(-1, a, b, c),
                    [rng.standard_normal((2, 2)), rng.standard_normal((2, 0)),
                     rng.standard_normal((2, 3))], rng)
    # symbolic axis and broadcastable inputs
    ax = T.lscalar()
    a, b = T.row(), T.matrix()
    out = Join()(ax, a, b)
    gz = out.type()
    g = out.owner.op.L_op(out.owner.inputs, out.owner.outputs, [gz])
    assert isinstance(g[0].type, NullType)
    assert g[1].broadcastable == (True, False)
    w = rng.standard_normal((3, 2))
    ga, gb = run(g[1:], {ax: 0, a: np.zeros((1, 2)), b: np.zeros((2, 2)), gz: w})
    np.testing.assert_array_equal(ga, w[:1])
    np.testing.assert_array_equal(gb, w[1:])
    # integer outputs: zero gradients of floatX
    i, j = T.ivector(), T.ivector()
    iout = join(0, i, j)
    gi = iout.owner.op.L_op(iout.owner.inputs, iout.owner.outputs, [iout.type()])
    assert gi[1].dtype == config.floatX
    np.testing.assert_array_equal(run(gi[1], {i: np.ones(2, "int32")}), np.zeros(2))


def test_join_rop_and_view():
    a, b, ea, eb = T.vector(), T.vector(), T.vector(), T.vector()
    out = join(0, a, b)
    op = out.owner.op
    assert op.R_op(out.owner.inputs, [None, ea, None]) == [None]
    (r,) = op.R_op(out.owner.inputs, [None, ea, eb])
    np.testing.assert_array_equal(run(r, {ea: np.ones(1), eb: np.zeros(2)}), [1, 0, 0])
    view = Join(view=0)(0, a, b)
    assert view.owner.op.view_map == {0: [1]}
    va = np.ones(3)
    assert run(view, {a: va, b: np.zeros(0)}) is va
    assert run(view, {a: va, b: np.zeros(1)}).shape == (4,)


def test_join_op_contract():
    check_op_contract(Join, Join(view=0))
    check_op_contract(lambda: Split(2), Split(3))
    assert str(Split(2)) == "Split{2}"


def test_concatenate_and_matrix_stacks():
    x, y = T.matrix(), T.matrix()
    vx, vy = np.ones((2, 3)), np.zeros((2, 3))
    np.testing.assert_array_equal(run(concatenate([x, y], axis=1), {x: vx, y: vy}),
                                  np.concatenate([vx, vy], axis=1))
    np.testing.assert_array_equal(run(horizontal_stack(x, y), {x: vx, y: vy}),
                                  np.hstack([vx, vy]))
    np.testing.assert_array_equal(run(vertical_stack(x, y, x), {x: vx, y: vy}),
                                  np.vstack([vx, vy, vx]))
    with pytest.raises(TypeError, match=r"did you write concatenate\(x, y\)"):
        concatenate(x, y)
    with pytest.raises(TypeError, match="argument 1 must be a matrix"):
        horizontal_stack(x, T.vector())
    with pytest.raises(ValueError, match="at least 2 matrices"):
        vertical_stack(x)


# -- stack and the list stacker ----------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3), st.integers(1, 3),
       st.data())
def test_stack_matches_numpy(shp, n, data):
    axis = data.draw(st.integers(-len(shp) - 1, len(shp)))
    xs = [ftensor(len(shp)) for _ in range(n)]
    vals = [np.full(shp, float(k)) for k in range(n)]
    out = stack(xs, axis=axis)
    got = run(out, dict(zip(xs, vals)))
    np.testing.assert_array_equal(got, np.stack(vals, axis=axis))
    if not shp:
        assert isinstance(out.owner.op, MakeVector)


def test_stack_forms():
    a, b = T.dscalar(), T.dscalar()
    givens = {a: 1.0, b: 2.0}
    np.testing.assert_array_equal(run(stack([a, b]), givens), [1, 2])
    with pytest.warns(DeprecationWarning, match="deprecated"):
        old = stack(a, b)
    np.testing.assert_array_equal(run(old, givens), [1, 2])
    x, y = T.vector(), T.vector()
    vx, vy = np.ones(2), np.zeros(2)
    np.testing.assert_array_equal(run(stack([x, y], 1), {x: vx, y: vy}),
                                  np.stack([vx, vy], 1))
    np.testing.assert_array_equal(run(stack(tensors=[x, y], axis=-1), {x: vx, y: vy}),
                                  np.stack([vx, vy], -1))
    mixed = stack([T.iscalar(), 3, T.bscalar()])
    assert mixed.dtype == "int32"
    with pytest.raises(ValueError, match="empty"):
        stack([])
    with pytest.raises(TypeError, match="expected a list of tensors"):
        stack()
    with pytest.raises(TypeError, match="unexpected keyword"):
        stack([x], axes=0)


def test_as_tensor_variable_of_lists():
    a, b = T.lscalar(), T.lscalar()
    v = as_tensor_variable([a, b, 4])
    assert v.ndim == 1 and v.dtype == "int64"
    np.testing.assert_array_equal(run(v, {a: 1, b: 2}), [1, 2, 4])
    m = as_tensor_variable([[a, b], [b, a]])
    np.testing.assert_array_equal(run(m, {a: 1, b: 2}), [[1, 2], [2, 1]])
    x = T.vector()
    rows = as_tensor_variable([x, x])
    np.testing.assert_array_equal(run(rows, {x: np.arange(3.0)}), [[0, 1, 2], [0, 1, 2]])


def test_stack_grad(rng):
    check_graph_grad(lambda a, b: stack([a, b], axis=1),
                     [rng.standard_normal((2, 3)), rng.standard_normal((2, 3))], rng)
    check_graph_grad(lambda a, b: stack([a, b]), [rng.standard_normal(()),
                                                  rng.standard_normal(())], rng)


def test_stacklists():
    a, b, c, d = (T.dscalar(n) for n in "abcd")
    m = stacklists([[a, b], [c, d]])
    np.testing.assert_array_equal(run(m, {a: 1, b: 2, c: 3, d: 4}), [[1, 2], [3, 4]])
    xs = [T.matrix() for _ in range(4)]
    grid = stacklists([xs[:2], xs[2:]])
    assert run(grid, {x: np.ones((3, 2)) for x in xs}).shape == (2, 2, 3, 2)
    assert stacklists(a) is a


# -- Split -------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4), st.data())
def test_split_matches_numpy(shp, data):
    axis = data.draw(st.integers(-len(shp), len(shp) - 1))
    total = shp[axis]
    n = data.draw(st.integers(1, 3))
    cuts = sorted(data.draw(st.lists(st.integers(0, total), min_size=n - 1, max_size=n - 1)))
    sizes = np.diff([0, *cuts, total])
    x = ftensor(len(shp))
    v = _strided(np.arange(float(np.prod(shp))).reshape(shp), data.draw(st.booleans()))
    s = T.lvector()
    outs = split(x, s, n, axis=axis)
    outs = outs if isinstance(outs, list) else [outs]
    givens = {x: v, s: sizes}
    got = run(outs, givens)
    want = np.split(v, np.cumsum(sizes)[:-1], axis=axis)
    for g, w, o in zip(got, want, outs):
        np.testing.assert_array_equal(g, w)
        assert infer_shape_values(o, givens) == w.shape
    const = split(x, list(sizes), n, axis=axis)
    const = const if isinstance(const, list) else [const]
    for g, w in zip(run(const, {x: v}), want):
        np.testing.assert_array_equal(g, w)


def test_split_errors():
    x = T.matrix()
    s = T.lvector()
    a, b = split(x, s, 2, axis=1)
    v = np.zeros((2, 5))
    with pytest.raises(ValueError, match=r"split sizes \[2, 2\] sum to 4, but the input of "
                                         r"shape \(2, 5\) has 5 elements along axis 1"):
        run([a, b], {x: v, s: np.array([2, 2])})
    with pytest.raises(ValueError, match="must be non-negative"):
        run([a, b], {x: v, s: np.array([6, -1])})
    with pytest.raises(ValueError, match="got 3 split sizes, expected 2"):
        run([a, b], {x: v, s: np.array([1, 2, 2])})
    with pytest.raises(ValueError, match="got 3 split sizes, expected 2"):
        split(x, [1, 2, 2], 2)
    with pytest.raises(TypeError, match="cannot split a scalar"):
        split(T.dscalar(), [1], 1)
    assert split(T.row(), [1], 1, axis=0).broadcastable == (False, False)
    assert split(T.row(), [2, 2], 2, axis=1)[0].broadcastable == (True, False)


def test_split_grad(rng):
    check_node_grad(lambda x: split(x, [1, 3, 0], 3, axis=1), [rng.standard_normal((2, 4))],
                    rng)
    x = T.matrix()
    outs = split(x, [1, 2], 2)
    node = outs[0].owner
    gz1 = outs[1].type()
    g = node.op.L_op(node.inputs, node.outputs, [DisconnectedType()(), gz1])
    assert isinstance(g[1].type, NullType) and isinstance(g[2].type, NullType)
    w = rng.standard_normal((2, 3))
    got = run(g[0], {x: np.zeros((3, 3)), gz1: w})
    np.testing.assert_array_equal(got, np.concatenate([np.zeros((1, 3)), w]))
    none = node.op.L_op(node.inputs, node.outputs, [DisconnectedType()()] * 2)
    assert isinstance(none[0].type, DisconnectedType)
    ex = T.matrix()
    r = node.op.R_op(node.inputs, [ex, None, None])
    assert len(r) == 2 and node.op.R_op(node.inputs, [None, None, None]) == [None, None]


# -- roll and tile -----------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), st.integers(-9, 9),
       st.data())
def test_roll_matches_numpy(shp, shift, data):
    axis = data.draw(st.none() | st.integers(-len(shp), len(shp) - 1))
    x = ftensor(len(shp))
    v = np.arange(float(np.prod(shp))).reshape(shp)
    s = T.lscalar()
    np.testing.assert_array_equal(run(roll(x, s, axis), {x: v, s: shift}),
                                  np.roll(v, shift, axis))
    np.testing.assert_array_equal(run(roll(x, shift, axis), {x: v}), np.roll(v, shift, axis))


def test_roll_errors_and_grad(rng):
    with pytest.raises(IndexError, match="axis 2 is out of range"):
        roll(T.matrix(), 1, 2)
    with pytest.raises(TypeError, match="cannot roll a scalar"):
        roll(T.dscalar(), 1, 0)
    check_graph_grad(lambda x: roll(x, 2, 1), [rng.standard_normal((2, 5))], rng)


@settings(max_examples=40, deadline=None)
@given(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3),
       st.lists(st.integers(0, 3), min_size=0, max_size=4), st.booleans())
def test_tile_matches_numpy(shp, reps, symbolic):
    x = ftensor(len(shp))
    v = np.arange(float(np.prod(shp))).reshape(shp)
    if symbolic:
        rs = [T.lscalar() for _ in reps]
        out = tile(x, rs)
        givens = {x: v, **dict(zip(rs, reps))}
    else:
        out = tile(x, reps)
        givens = {x: v}
    np.testing.assert_array_equal(run(out, givens), np.tile(v, reps))


def test_tile_forms_and_errors(rng):
    x = T.matrix()
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(run(tile(x, 2), {x: v}), np.tile(v, 2))
    np.testing.assert_array_equal(run(tile(x, (2, 1), ndim=3), {x: v}), np.tile(v, (1, 2, 1)))
    r = T.lvector()
    out = tile(x, r, ndim=3)
    np.testing.assert_array_equal(run(out, {x: v, r: np.array([2, 2])}), np.tile(v, (1, 2, 2)))
    np.testing.assert_array_equal(run(tile(x, T.as_tensor_variable(np.array([2, 1]))),
                                      {x: v}), np.tile(v, (2, 1)))
    with pytest.raises(ValueError, match="give ndim"):
        tile(x, r)
    with pytest.raises(ValueError, match="ndim=1 is smaller"):
        tile(x, 2, ndim=1)
    with pytest.raises(ValueError, match="must be integers"):
        tile(x, T.dvector(), ndim=2)
    with pytest.raises(ValueError, match="reps entry 0 must be an integer"):
        tile(x, [1.5, 2])
    with pytest.raises(ValueError, match="3 reps for ndim=2"):
        tile(x, [1, 2, 3], ndim=2)
    check_graph_grad(lambda a: tile(a, (2, 3)), [rng.standard_normal((2, 2))], rng)

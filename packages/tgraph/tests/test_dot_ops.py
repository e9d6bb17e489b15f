"""Dot, dot of any rank, outer, tensordot, BatchedDot, batched_dot, batched_tensordot."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_shape_helpers import (
    assert_infer_shape,
    check_graph_grad,
    check_node_grad,
    check_op_contract,
    ftensor,
    run,
)

import tgraph.tensor as T
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import (
    BatchedDot,
    Dot,
    batched_dot,
    batched_tensordot,
    dot,
    outer,
    tensordot,
)


@pytest.fixture
def rng():
    return np.random.default_rng(11)


def _val(shape, dtype="float64", noncontig=False, seed=0):
    rng = np.random.default_rng(seed)
    arr = rng.integers(-3, 4, size=shape).astype(dtype) if dtype.startswith("int") \
        else rng.standard_normal(shape).astype(dtype)
    if noncontig and arr.ndim:
        arr = np.repeat(arr, 2, axis=-1)[..., ::2]
    return arr


def _tol(dtype):
    return {"float32": 1e-4, "float64": 1e-10}.get(str(dtype), 0)


# -- Dot ---------------------------------------------------------------------------------------

_DIMS = st.integers(0, 4)


@settings(max_examples=50, deadline=None)
@given(st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2)]), _DIMS, _DIMS, _DIMS,
       st.sampled_from([("float64", "float64"), ("float32", "float32"), ("int32", "float32"),
                        ("int8", "int8"), ("float32", "float64")]),
       st.booleans())
def test_dot_matches_numpy(ranks, m, k, n, dtypes, noncontig):
    xshape = (m, k)[2 - ranks[0]:]
    yshape = (k, n)[: ranks[1]]
    x, y = ftensor(ranks[0], dtypes[0]), ftensor(ranks[1], dtypes[1])
    vx = _val(xshape, dtypes[0], noncontig, 1)
    vy = _val(yshape, dtypes[1], noncontig, 2)
    out = dot(x, y)
    assert isinstance(out.owner.op, Dot)
    want = np.dot(vx, vy)
    got = run(out, {x: vx, y: vy})
    assert got.dtype == np.result_type(dtypes[0], dtypes[1])
    assert out.dtype == got.dtype
    np.testing.assert_allclose(got, want, rtol=_tol(got.dtype) * 10, atol=_tol(got.dtype))
    assert_infer_shape(out, {x: vx, y: vy}, got)


def test_dot_types():
    assert dot(T.fmatrix(), T.fmatrix()).dtype == "float32"
    assert dot(T.imatrix(), T.fvector()).dtype == "float64"
    assert dot(T.row(), T.matrix()).broadcastable == (True, False)
    assert dot(T.matrix(), T.col()).broadcastable == (False, True)
    assert dot(T.vector(), T.vector()).ndim == 0
    assert str(Dot()) == "dot"
    check_op_contract(Dot)
    check_op_contract(BatchedDot)
    x, y = T.matrix(), T.matrix()
    assert (x @ y).owner.op == Dot()
    assert x.dot(y).owner.op == Dot()


@pytest.mark.op_semantics
def test_dot_errors():
    with pytest.raises(TypeError, match="input 0 must have 1 or 2 dimensions"):
        Dot()(T.tensor3(), T.matrix())
    with pytest.raises(TypeError, match="2 arguments required, 3 given"):
        Dot()(T.matrix(), T.matrix(), T.matrix())
    x, y = T.matrix(), T.matrix()
    out = dot(x, y)
    with pytest.raises(ValueError, match=r"shapes \(2, 3\) and \(4, 5\) are not aligned: "
                                         r"dimension 1 of input 0 has size 3, dimension 0 of "
                                         r"input 1 has size 4"):
        run(out, {x: np.zeros((2, 3)), y: np.zeros((4, 5))})
    with pytest.raises(ValueError, match="inner dimensions do not match"):
        dot(T.col(), constant(np.ones((3, 2))))


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)),
                                    ((2, 3), (3, 4)), ((2, 0), (0, 3))],
                         ids=["vv", "vm", "mv", "mm", "empty"])
def test_dot_grad(shapes, rng):
    check_node_grad(lambda a, b: Dot()(a, b), [rng.standard_normal(s) for s in shapes], rng)


def test_dot_grad_broadcast_patterns_and_rop(rng):
    r, m = T.row(), T.matrix()
    out = dot(r, m)
    gx, gy = out.owner.op.grad(out.owner.inputs, [out.type()])
    assert gx.broadcastable == (True, False) and gy.broadcastable == (False, False)
    check_node_grad(lambda a, b: dot(a, b), [rng.standard_normal((1, 3)),
                                             rng.standard_normal((3, 2))], rng,
                    bcasts=[(True, False), None])
    y, em, ey = T.matrix(), T.matrix(), T.matrix()
    node = dot(m, y).owner
    vals = {m: rng.standard_normal((2, 3)), y: rng.standard_normal((3, 4)),
            em: rng.standard_normal((2, 3)), ey: rng.standard_normal((3, 4))}
    (both,) = node.op.R_op(node.inputs, [em, ey])
    np.testing.assert_allclose(run(both, vals), vals[em] @ vals[y] + vals[m] @ vals[ey])
    (one,) = node.op.R_op(node.inputs, [None, ey])
    np.testing.assert_allclose(run(one, vals), vals[m] @ vals[ey])
    assert node.op.R_op(node.inputs, [None, None]) == [None]


@pytest.mark.parametrize("shapes", [((2, 3, 4), (4, 5)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)),
                                    ((2, 3, 4), (5, 4, 2)), ((4,), (2, 3, 4, 5)), ((), (2, 3))],
                         ids=["3x2", "1x3", "3x1", "3x3", "1x4", "scalar"])
def test_dot_higher_ranks(shapes, rng):
    xs = [ftensor(len(s)) for s in shapes]
    vals = [rng.standard_normal(s) for s in shapes]
    out = dot(*xs)
    want = np.dot(*vals)
    got = run(out, dict(zip(xs, vals)))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want)
    check_graph_grad(lambda a, b: dot(a, b), vals, rng)


def test_outer(rng):
    x, y = T.vector(), T.matrix()
    vx, vy = rng.standard_normal(3), rng.standard_normal((2, 2))
    np.testing.assert_allclose(run(outer(x, y), {x: vx, y: vy}), np.outer(vx, vy))
    assert outer(x, x).broadcastable == (False, False)


# -- tensordot ---------------------------------------------------------------------------------


@st.composite
def _tensordot_case(draw):
    na, nb = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    sa = list(draw(st.lists(st.integers(0, 3), min_size=na, max_size=na)))
    sb = list(draw(st.lists(st.integers(0, 3), min_size=nb, max_size=nb)))
    n = draw(st.integers(0, min(na, nb)))
    if draw(st.booleans()):
        for i in range(n):  # integer axes: last n of a with first n of b
            sb[i] = sa[na - n + i]
        return sa, sb, n
    axes_a = draw(st.permutations(range(na)))[:n]
    axes_b = draw(st.permutations(range(nb)))[:n]
    for i, j in zip(axes_a, axes_b):
        sb[j] = sa[i]
    axes_a = [a - na if draw(st.booleans()) else a for a in axes_a]
    return sa, sb, [list(axes_a), list(axes_b)]


@settings(max_examples=50, deadline=None)
@given(_tensordot_case())
def test_tensordot_matches_numpy(case):
    sa, sb, axes = case
    a, b = ftensor(len(sa)), ftensor(len(sb))
    va, vb = _val(tuple(sa), seed=3), _val(tuple(sb), seed=4)
    got = run(tensordot(a, b, axes), {a: va, b: vb})
    want = np.tensordot(va, vb, axes)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_tensordot_errors_and_grad(rng):
    a, b = T.tensor3(), T.matrix()
    with pytest.raises(ValueError, match="cannot sum over 3 axes of b"):
        tensordot(a, b, 3)
    with pytest.raises(ValueError, match="different lengths"):
        tensordot(a, b, [[0, 1], [0]])
    with pytest.raises(ValueError, match="axis 3 is out of range for a"):
        tensordot(a, b, [[3], [0]])
    with pytest.raises(ValueError, match="repeated axis"):
        tensordot(a, b, [[1, 1], [0, 1]])
    with pytest.raises(ValueError, match="pair of axis lists"):
        tensordot(a, b, [[1], [0], [0]])
    check_graph_grad(lambda x, y: tensordot(x, y, [[1, 0], [0, 2]]),
                     [rng.standard_normal((2, 3, 2)), rng.standard_normal((3, 2, 2))], rng)
    check_graph_grad(lambda x, y: tensordot(x, y, 0),
                     [rng.standard_normal(2), rng.standard_normal((2, 1))], rng)


# -- BatchedDot --------------------------------------------------------------------------------

_BATCH_SPECS = {(2, 2): "bi,bi->b", (2, 3): "bi,bij->bj", (3, 2): "bij,bj->bi",
                (3, 3): "bij,bjk->bik"}


@settings(max_examples=50, deadline=None)
@given(st.sampled_from(list(_BATCH_SPECS)), st.integers(0, 3), _DIMS, _DIMS, _DIMS,
       st.sampled_from([("float64", "float64"), ("float32", "float32"), ("int16", "float32"),
                        ("int32", "int32")]),
       st.booleans())
def test_batched_dot_matches_numpy(ranks, batch, m, k, n, dtypes, noncontig):
    xshape = (batch, m, k) if ranks[0] == 3 else (batch, k)
    yshape = (batch, k, n) if ranks[1] == 3 else (batch, k)
    x, y = ftensor(ranks[0], dtypes[0]), ftensor(ranks[1], dtypes[1])
    vx, vy = _val(xshape, dtypes[0], noncontig, 5), _val(yshape, dtypes[1], noncontig, 6)
    out = batched_dot(x, y)
    assert isinstance(out.owner.op, BatchedDot)
    got = run(out, {x: vx, y: vy})
    want = np.einsum(_BATCH_SPECS[ranks], vx, vy)
    assert got.dtype == np.result_type(*dtypes) and got.dtype == out.dtype
    np.testing.assert_allclose(got, want, rtol=_tol(got.dtype) * 10, atol=_tol(got.dtype))
    assert_infer_shape(out, {x: vx, y: vy}, got)


def test_batched_dot_errors():
    with pytest.raises(TypeError, match="input 1 must have 2 or 3 dimensions"):
        BatchedDot()(T.matrix(), T.tensor4())
    with pytest.raises(TypeError, match="a must have at least one"):
        batched_dot(T.dscalar(), T.matrix())
    x, y = T.tensor3(), T.tensor3()
    out = batched_dot(x, y)
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(3, 4, 5\) do not match"):
        run(out, {x: np.zeros((2, 3, 4)), y: np.zeros((3, 4, 5))})
    with pytest.raises(ValueError, match=r"shapes \(2, 3, 4\) and \(2, 3, 5\) do not match"):
        run(out, {x: np.zeros((2, 3, 4)), y: np.zeros((2, 3, 5))})
    assert BatchedDot()(T.row(), T.matrix()).broadcastable == (True,)


@pytest.mark.parametrize("ranks", list(_BATCH_SPECS), ids=lambda r: f"{r[0]}x{r[1]}")
def test_batched_dot_grad(ranks, rng):
    shapes = {2: (2, 3), 3: (2, 3, 3)}
    check_node_grad(lambda a, b: BatchedDot()(a, b),
                    [rng.standard_normal(shapes[ranks[0]]),
                     rng.standard_normal((2, 3, 2) if ranks[1] == 3 else (2, 3))], rng)


def test_batched_dot_rop(rng):
    x, y, ex = T.tensor3(), T.tensor3(), T.tensor3()
    node = batched_dot(x, y).owner
    vals = {x: rng.standard_normal((2, 3, 4)), y: rng.standard_normal((2, 4, 2)),
            ex: rng.standard_normal((2, 3, 4))}
    (r,) = node.op.R_op(node.inputs, [ex, None])
    np.testing.assert_allclose(run(r, vals), vals[ex] @ vals[y])
    assert node.op.R_op(node.inputs, [None, None]) == [None]


@pytest.mark.parametrize("shapes", [((3,), (3, 2, 2)), ((3, 2, 2), (3,)),
                                    ((2, 3, 4, 5), (2, 5, 3)), ((2, 3, 4), (2, 5, 4, 3))],
                         ids=["vec-a", "vec-b", "4x3", "3x4"])
def test_batched_dot_other_ranks(shapes, rng):
    xs = [ftensor(len(s)) for s in shapes]
    vals = [rng.standard_normal(s) for s in shapes]
    got = run(batched_dot(*xs), dict(zip(xs, vals)))
    want = np.stack([np.dot(a, b) for a, b in zip(*vals)])
    np.testing.assert_allclose(got, want)


@pytest.mark.parametrize(("shapes", "axes"), [(((2, 3, 4), (2, 4, 5)), 1),
                                              (((2, 3, 4), (2, 3, 4)), 2),
                                              (((2, 3, 4, 5), (2, 5, 4)), [[2, 3], [2, 1]])])
def test_batched_tensordot(shapes, axes, rng):
    xs = [ftensor(len(s)) for s in shapes]
    vals = [rng.standard_normal(s) for s in shapes]
    got = run(batched_tensordot(*xs, axes), dict(zip(xs, vals)))
    if isinstance(axes, int):
        np_axes = [list(range(len(shapes[0]) - 1 - axes, len(shapes[0]) - 1)),
                   list(range(axes))]
    else:
        np_axes = [[a - 1 for a in axes[0]], [b - 1 for b in axes[1]]]
    want = np.stack([np.tensordot(a, b, np_axes) for a, b in zip(*vals)])
    np.testing.assert_allclose(got, want)
    check_graph_grad(lambda a, b: batched_tensordot(a, b, axes), vals, rng)
    with pytest.raises(ValueError, match="must not include the batch axis"):
        batched_tensordot(*xs, [[0], [0]])

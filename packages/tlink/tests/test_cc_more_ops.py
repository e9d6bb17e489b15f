"""C code of the argmax, batched-dot, advanced-indexing, join and checked-view ops against
their ``perform``.

Each op is compiled twice, with the ``c`` linker (which refuses an op without C code, so
a passing test also shows the op runs in C) and with ``py``, and both are called on the
same values in several layouts: C-contiguous, Fortran, strided, reversed and zero-size,
for float32, float64 and integer dtypes. Results must be equal (BLAS results within a
dtype-aware tolerance); errors must be of the same class with the same first line.
"""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph.tensor.reduction import Argmax, MaxAndArgmax
from tlink import Mode, function
from tlink.cc import compiler_available

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on this machine")

DTYPES = ["float32", "float64", "int32", "uint8"]


def compile_both(inputs, outputs):
    """The same graph under the ``c`` and ``py`` linkers (no rewrites)."""
    fc = function(inputs, outputs, mode=Mode(linker="c", optimizer=None))
    fp = function(inputs, outputs, mode=Mode(linker="py", optimizer=None))
    assert {t.perform for t in fc.fn.thunks} == {"c"}
    return fc, fp


def layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    """``a`` (values to compare on) in C order, Fortran order, strided and reversed."""
    out = {"c": np.array(a, order="C"), "fortran": np.array(a, order="F")}
    if a.ndim:
        wide = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)
        wide[..., ::2] = a
        out["strided"] = wide[..., ::2]
        out["reversed"] = a[tuple(slice(None, None, -1) for _ in range(a.ndim))].copy()[
            tuple(slice(None, None, -1) for _ in range(a.ndim))]
    return out


def assert_same(got, want, dtype: str, rounding: bool = False) -> None:
    """Equal results; within a few ulp for float32 sums, or any float sum with ``rounding``
    (BLAS adds in another order than NumPy's einsum)."""
    got = got if isinstance(got, list) else [got]
    want = want if isinstance(want, list) else [want]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        if dtype == "float32":
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
        elif rounding and dtype == "float64":
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)
        else:
            np.testing.assert_array_equal(g, w)


def assert_same_error(fc, fp, *args) -> None:
    with pytest.raises(Exception) as want:
        fp(*args)
    with pytest.raises(want.type) as got:
        fc(*args)
    assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]


def values(rng, shape, dtype: str) -> np.ndarray:
    if dtype.startswith("uint"):
        return rng.integers(0, 5, size=shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(-4, 5, size=shape).astype(dtype)  # small: ties are common
    return rng.standard_normal(shape).astype(dtype)


# -- MaxAndArgmax / Argmax --------------------------------------------------------------------

AXES = [(0,), (1,), (2,), (0, 2), (2, 0), (1, 2), (0, 1, 2), ()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axes", AXES, ids=str)
def test_max_and_argmax_c_matches_perform(dtype, axes):
    x = T.TensorType(dtype, (False,) * 3)("x")
    fc, fp = compile_both([x], list(MaxAndArgmax(axes)(x)))
    a = values(np.random.default_rng(1), (3, 4, 5), dtype)
    for v in layouts(a).values():
        assert_same(fc(v), fp(v), dtype)


@pytest.mark.parametrize("axes", [(1,), (0, 1), None], ids=str)
def test_argmax_c_matches_perform(axes):
    x = T.imatrix("x")
    fc, fp = compile_both([x], Argmax(axes)(x))
    a = values(np.random.default_rng(2), (6, 7), "int32")
    for v in layouts(a).values():
        assert_same(fc(v), fp(v), "int32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_and_argmax_nan_wins_first_occurrence(dtype):
    x = T.TensorType(dtype, (False, False))("x")
    fc, fp = compile_both([x], list(MaxAndArgmax((1,))(x)))
    a = np.array([[1, np.nan, 3, np.nan], [np.nan, 5, 6, 7], [2, 2, 1, 2],
                  [-np.inf, -np.inf, -np.inf, -np.inf]], dtype=dtype)
    mx, am = fc(a)
    np.testing.assert_array_equal(am, [1, 0, 0, 0])
    np.testing.assert_array_equal(mx, [np.nan, np.nan, 2, -np.inf])
    for v in layouts(a).values():
        assert_same(fc(v), fp(v), "float64")


def test_max_and_argmax_bool_and_zero_size():
    x = T.TensorType("bool", (False, False))("x")
    fc, fp = compile_both([x], list(MaxAndArgmax((1,))(x)))
    a = np.array([[False, True, True], [False, False, False]])
    assert_same(fc(a), fp(a), "bool")
    y = T.dmatrix("y")
    fc, fp = compile_both([y], list(MaxAndArgmax((1,))(y)))
    assert_same(fc(np.zeros((0, 3))), fp(np.zeros((0, 3))), "float64")
    assert_same_error(fc, fp, np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"empty axis 1 of an input of shape \(3, 0\)"):
        fc(np.zeros((3, 0)))


def test_max_and_argmax_through_theano_function():
    import theano

    x = T.fmatrix("x")
    mx, am = T.max_and_argmax(x, axis=1)
    f = theano.function([x], [mx, am], mode=theano.Mode(linker="c"))
    assert "MaxAndArgmax" in [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    a = np.random.default_rng(3).standard_normal((5, 9)).astype("float32")
    got = f(a)
    np.testing.assert_array_equal(got[0], a.max(axis=1))
    np.testing.assert_array_equal(got[1], a.argmax(axis=1))


# -- BatchedDot -------------------------------------------------------------------------------

BATCH_SHAPES = {
    "mat.mat": ((4, 3, 5), (4, 5, 2)),
    "vec.mat": ((4, 5), (4, 5, 2)),
    "mat.vec": ((4, 3, 5), (4, 5)),
    "vec.vec": ((4, 5), (4, 5)),
    "row.col": ((4, 1, 5), (4, 5, 1)),
    "no batch": ((0, 3, 5), (0, 5, 2)),
    "empty inner": ((4, 3, 0), (4, 0, 2)),
}


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int8"])
@pytest.mark.parametrize("shapes", list(BATCH_SHAPES.values()), ids=list(BATCH_SHAPES))
def test_batched_dot_c_matches_perform(dtype, shapes):
    from tgraph.tensor.dot import BatchedDot

    xs, ys = shapes
    x = T.TensorType(dtype, (False,) * len(xs))("x")
    y = T.TensorType(dtype, (False,) * len(ys))("y")
    out = T.batched_dot(x, y)
    assert isinstance(out.owner.op, BatchedDot)
    fc, fp = compile_both([x, y], out)
    rng = np.random.default_rng(4)
    a, b = values(rng, xs, dtype) * 3, values(rng, ys, dtype) * 3
    if dtype == "int8":
        a, b = a.astype(dtype) * 20, b.astype(dtype) * 20  # sums wrap around
    la, lb = layouts(a.astype(dtype)), layouts(b.astype(dtype))
    for name in la:
        assert_same(fc(la[name], lb[name]), fp(la[name], lb[name]), dtype, rounding=True)
    # transposed items (column-major per item), reversed rows, a broadcast batch stride
    if len(xs) == 3:
        a = a.astype(dtype)
        for v in (a.transpose(0, 2, 1).copy().transpose(0, 2, 1), a[:, ::-1, ::-1],
                  np.broadcast_to(a[:1], a.shape)):
            assert_same(fc(v, lb["c"]), fp(v, lb["c"]), dtype, rounding=True)


def test_batched_dot_shape_error_as_perform():
    x, y = T.tensor3("x"), T.tensor3("y")
    fc, fp = compile_both([x, y], T.batched_dot(x, y))
    assert_same_error(fc, fp, np.zeros((2, 3, 4)), np.zeros((3, 4, 2)))
    assert_same_error(fc, fp, np.zeros((2, 3, 4)), np.zeros((2, 5, 2)))


def test_batched_dot_through_theano_function():
    import theano

    x, y = T.ftensor3("x"), T.ftensor3("y")
    f = theano.function([x, y], T.batched_dot(x, y), mode=theano.Mode(linker="c"))
    assert "BatchedDot" in [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    rng = np.random.default_rng(5)
    a = rng.standard_normal((8, 16, 32)).astype("float32")
    b = rng.standard_normal((8, 32, 4)).astype("float32")
    np.testing.assert_allclose(f(a, b), np.matmul(a, b), rtol=1e-5, atol=1e-5)


# -- AdvancedSubtensor1 / AdvancedIncSubtensor1 -----------------------------------------------

ROW_SHAPES = [(5,), (5, 3), (5, 3, 4), (0, 3)]


def index_for(shape) -> np.ndarray:
    """Negative, repeated and out-of-order indices (none when axis 0 is empty)."""
    return np.array([0, -1, 2, 2, 4, -5] if shape[0] else [], dtype="int64")


@pytest.mark.parametrize("dtype", [*DTYPES, "bool"])
@pytest.mark.parametrize("shape", ROW_SHAPES, ids=str)
def test_advanced_subtensor1_c_matches_perform(dtype, shape):
    from tgraph.tensor.advanced_subtensor import advanced_subtensor1

    x = T.TensorType(dtype, (False,) * len(shape))("x")
    i = T.lvector("i")
    fc, fp = compile_both([x, i], advanced_subtensor1(x, i))
    idx = index_for(shape)
    for v in layouts(values(np.random.default_rng(6), shape, dtype)).values():
        assert_same(fc(v, idx), fp(v, idx), "int")
        assert_same(fc(v, idx[::-2]), fp(v, idx[::-2]), "int")


@pytest.mark.parametrize("idtype", ["int8", "int32", "uint64"])
def test_advanced_subtensor1_index_dtypes_and_errors(idtype):
    from tgraph.tensor.advanced_subtensor import advanced_subtensor1

    x = T.dmatrix("x")
    i = T.TensorType(idtype, (False,))("i")
    fc, fp = compile_both([x, i], advanced_subtensor1(x, i))
    a = np.arange(10.0).reshape(5, 2)
    assert_same(fc(a, np.array([4, 0, 4], idtype)), fp(a, np.array([4, 0, 4], idtype)), "int")
    assert_same_error(fc, fp, a, np.array([0, 5], idtype))
    if idtype != "uint64":
        assert_same_error(fc, fp, a, np.array([-6], idtype))
    else:
        assert_same_error(fc, fp, a, np.array([2**63 + 1], idtype))
    assert_same_error(fc, fp, np.zeros((0, 2)), np.array([0], idtype))
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for axis 0 with size 5 "
                                         r"\(input shape \(5, 2\)\)"):
        fc(a, np.array([0, 5], idtype))


@pytest.mark.parametrize("set_instead_of_inc", [False, True], ids=["inc", "set"])
@pytest.mark.parametrize("dtype", [*DTYPES, "bool"])
@pytest.mark.parametrize("shape", ROW_SHAPES, ids=str)
def test_advanced_inc_subtensor1_c_matches_perform(shape, dtype, set_instead_of_inc):
    from tgraph.tensor.advanced_subtensor import AdvancedIncSubtensor1

    rng = np.random.default_rng(7)
    x = T.TensorType(dtype, (False,) * len(shape))("x")
    i = T.lvector("i")
    idx = index_for(shape)
    # y: one row per index, one row broadcast, a size-1 leading dimension, a scalar
    for yshape in [(len(idx), *shape[1:]), shape[1:], (1, *shape[1:]), ()]:
        y = T.TensorType(dtype, (False,) * len(yshape))("y")
        op = AdvancedIncSubtensor1(set_instead_of_inc=set_instead_of_inc)
        fc, fp = compile_both([x, y, i], op(x, y, i))
        xv = values(rng, shape, dtype)
        yl = layouts(values(rng, yshape, dtype))
        for name, v in layouts(xv).items():
            yv = yl.get(name, yl["c"])
            assert_same(fc(v, yv, idx), fp(v, yv, idx), dtype)


@pytest.mark.parametrize("set_instead_of_inc", [False, True], ids=["inc", "set"])
def test_advanced_inc_subtensor1_errors_as_perform(set_instead_of_inc):
    from tgraph.tensor.advanced_subtensor import AdvancedIncSubtensor1

    x, y, i = T.dmatrix("x"), T.dvector("y"), T.lvector("i")
    op = AdvancedIncSubtensor1(set_instead_of_inc=set_instead_of_inc)
    fc, fp = compile_both([x, y, i], op(x, y, i))
    x0 = np.zeros((4, 3))
    assert_same_error(fc, fp, x0, np.ones(5), np.array([0, 1]))        # y does not broadcast
    assert_same_error(fc, fp, x0, np.ones(3), np.array([0, 7]))        # index out of range
    assert_same_error(fc, fp, x0, np.ones(3), np.array([-5]))
    assert_same_error(fc, fp, x0, np.ones(5), np.array([0, 7]))        # both: NumPy's order
    with pytest.raises(IndexError, match=r"index 7 is out of bounds.*x shape \(4, 3\), "
                                         r"y shape \(3,\), 2 indices"):
        fc(x0, np.ones(3), np.array([0, 7]))


def test_advanced_inc_subtensor1_repeats_accumulate_in_order():
    from tgraph.tensor.advanced_subtensor import AdvancedIncSubtensor1

    x, y, i = T.fvector("x"), T.fvector("y"), T.lvector("i")
    fc, fp = compile_both([x, y, i], AdvancedIncSubtensor1()(x, y, i))
    yv = np.array([1e8, 1.0, -1e8, 1.0], dtype="float32")  # order-sensitive in float32
    idx = np.array([1, 1, 1, 1])
    np.testing.assert_array_equal(fc(np.zeros(3, "float32"), yv, idx),
                                  fp(np.zeros(3, "float32"), yv, idx))


def test_advanced_indexing_through_theano_function():
    import theano

    x, i, y = T.fmatrix("x"), T.lvector("i"), T.fmatrix("y")
    f = theano.function([x, i, y], [x[i], T.inc_subtensor(x[i], y), T.set_subtensor(x[i], y)],
                        mode=theano.Mode(linker="c"))
    names = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
    assert {"AdvancedSubtensor1", "AdvancedIncSubtensor1"} <= names
    rng = np.random.default_rng(8)
    a = rng.standard_normal((6, 4)).astype("float32")
    b = rng.standard_normal((3, 4)).astype("float32")
    idx = np.array([5, 0, 5])
    got = f(a, idx, b)
    want_inc, want_set = a.copy(), a.copy()
    np.add.at(want_inc, idx, b)
    want_set[idx] = b
    np.testing.assert_array_equal(got[0], a[idx])
    np.testing.assert_allclose(got[1], want_inc, rtol=1e-6)
    np.testing.assert_array_equal(got[2], want_set)


# -- Join -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_join_c_matches_perform(dtype, axis):
    from tgraph.tensor.join import Join

    xs = [T.TensorType(dtype, (False,) * 3)(f"x{k}") for k in range(3)]
    fc, fp = compile_both(xs, Join()(axis, *xs))
    rng = np.random.default_rng(9)
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    shapes[1][axis] = 0  # a zero-size input along the axis
    shapes[2][axis] = 5
    vals = [layouts(values(rng, tuple(s), dtype)) for s in shapes]
    for name in vals[0]:
        args = [v.get(name, v["c"]) for v in vals]
        assert_same(fc(*args), fp(*args), dtype)


def test_join_symbolic_axis_mixed_dtypes_and_errors():
    from tgraph.tensor.join import Join

    ax = T.lscalar("ax")
    x, y = T.fmatrix("x"), T.imatrix("y")
    fc, fp = compile_both([ax, x, y], Join()(ax, x, y))
    a = np.arange(6, dtype="float32").reshape(2, 3) / 7
    b = np.arange(6, dtype="int32").reshape(2, 3)
    for axis in (0, 1, -2):
        assert_same(fc(axis, a, b), fp(axis, a, b), "float64")
    assert_same_error(fc, fp, 2, a, b)
    assert_same_error(fc, fp, -3, a, b)
    assert_same_error(fc, fp, 0, a, b[:, :2])
    with pytest.raises(ValueError, match=r"input 1 has shape \(2, 2\) but input 0 has shape "
                                         r"\(2, 3\); all dimensions except the join axis 0"):
        fc(0, a, b[:, :2])


def test_join_view_returns_the_input_when_others_are_empty():
    from tgraph.tensor.join import Join

    x, y = T.dvector("x"), T.dvector("y")
    fc, fp = compile_both([x, y], Join(view=0)(0, x, y))
    a = np.arange(3.0)
    assert_same(fc(a, np.zeros(0)), fp(a, np.zeros(0)), "float64")
    assert_same(fc(a, np.ones(2)), fp(a, np.ones(2)), "float64")


def test_join_through_theano_function():
    import theano

    x, y = T.fmatrix("x"), T.fmatrix("y")
    f = theano.function([x, y], T.concatenate([x, y], axis=1), mode=theano.Mode(linker="c"))
    assert "Join" in [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    a = np.ones((2, 3), "float32")
    b = np.zeros((2, 1), "float32")
    np.testing.assert_array_equal(f(a, b), np.concatenate([a, b], axis=1))


# -- Rebroadcast / SpecifyShape (checked views) ------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_rebroadcast_and_specify_shape_c_are_checked_views(dtype):
    from tgraph.tensor.rebroadcast import Rebroadcast
    from tgraph.tensor.shape import specify_shape

    rng = np.random.default_rng(7)
    x = T.tensor3("x", dtype=dtype)
    n = T.lscalar("n")
    rb = Rebroadcast((0, True), (2, False))(x)
    sp = specify_shape(x, (1, n, 4))
    fc, fp = compile_both([x, n], [rb, sp])
    for v in layouts(values(rng, (1, 3, 4), dtype)).values():
        assert_same(fc(v, 3), fp(v, 3), dtype)
    bad = values(rng, (2, 3, 4), dtype)
    assert_same_error(fc, fp, bad, 3)  # Rebroadcast: dimension 0 has size 2
    assert_same_error(fc, fp, values(rng, (1, 3, 4), dtype), 5)  # SpecifyShape's error
    with pytest.raises(Exception, match=r"the value has shape \(1, 3, 4\), but the graph "
                                        r"declared shape \(1, 5, 4\)"):
        fc(values(rng, (1, 3, 4), dtype), 5)

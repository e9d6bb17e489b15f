"""extra_ops and diag: values against NumPy, output types, inferred shapes, errors, contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from indexing_testtools import check_op_contract, inferred_shape, run

from tgraph.tensor import extra_ops as eo
from tgraph.tensor.diag import (
    AllocDiag,
    ExtractDiag,
    fill_diagonal_offset,
)
from tgraph.tensor.type import (
    TensorType,
    bvector,
    fmatrix,
    lscalar,
    lvector,
    matrix,
    tensor3,
    vector,
)


def _var(value):
    return TensorType(str(value.dtype), (False,) * value.ndim)("x")


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("float64", shapes, elements=st.floats(-3, 3)), st.data())
def test_cumsum_cumprod_diff(v, data):
    x = _var(v)
    axis = data.draw(st.one_of(st.none(), st.integers(-v.ndim, v.ndim - 1)))
    for fn, ref in ((eo.cumsum, np.cumsum), (eo.cumprod, np.cumprod)):
        y = fn(x, axis)
        np.testing.assert_allclose(run(y, {x: v}), ref(v, axis=axis))
        assert inferred_shape(y, {x: v}) == ref(v, axis=axis).shape
    dax = -1 if axis is None else axis
    n = data.draw(st.integers(0, 2))
    np.testing.assert_allclose(run(eo.diff(x, n, dax), {x: v}), np.diff(v, n, dax))


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("float64", shapes, elements=st.floats(-3, 3)), st.data())
def test_repeat(v, data):
    x = _var(v)
    axis = data.draw(st.one_of(st.none(), st.integers(-v.ndim, v.ndim - 1)))
    n = v.size if axis is None else v.shape[axis]
    if data.draw(st.booleans()) or n == 0:
        reps = np.int64(data.draw(st.integers(0, 3)))
        r = lscalar("r")
    else:
        reps = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
        r = lvector("r")
    y = eo.repeat(x, r, axis)
    want = np.repeat(v, reps, axis)
    np.testing.assert_array_equal(run(y, {x: v, r: reps}), want)
    assert inferred_shape(y, {x: v, r: reps}) == want.shape


def test_repeat_broadcastable_and_method():
    x = TensorType("float64", (True, False))("x")
    assert eo.repeat(x, 1, 0).broadcastable == (True, False)
    assert eo.repeat(x, 2, 0).broadcastable == (False, False)
    v = np.ones((1, 2))
    np.testing.assert_array_equal(run(x.repeat(3, axis=0), {x: v}), np.repeat(v, 3, 0))
    np.testing.assert_array_equal(run(eo.repeat(x, np.array([2]), 0), {x: v}),
                                  np.repeat(v, 2, 0))


def test_bincount():
    i = lvector("i")
    w = vector("w")
    iv = np.array([0, 2, 2, 5])
    wv = np.array([0.5, 1.0, 2.0, 3.0])
    assert run(eo.bincount(i), {i: iv}).tolist() == np.bincount(iv).tolist()
    assert run(eo.bincount(i, minlength=8), {i: iv}).tolist() == np.bincount(iv, minlength=8
                                                                              ).tolist()
    np.testing.assert_allclose(run(eo.bincount(i, w), {i: iv, w: wv}), np.bincount(iv, wv))
    assert run(eo.bincount(i), {i: np.zeros(0, "int64")}).shape == (0,)
    b = bvector("b")
    assert eo.bincount(b).dtype == "int8"  # Theano 1.0: counts have x's dtype
    with pytest.raises(ValueError, match=r"bincount: x has negative values \(min -1\)"):
        run(eo.bincount(i, assert_nonneg=True), {i: np.array([1, -1])})
    with pytest.raises(TypeError, match="bincount: x must be an integer vector, got float64"):
        eo.bincount(vector())


def test_squeeze_and_compress():
    x = TensorType("float64", (True, False, True))("x")
    v = np.arange(3.0).reshape(1, 3, 1)
    assert eo.squeeze(x).broadcastable == (False,)
    np.testing.assert_array_equal(run(eo.squeeze(x), {x: v}), v.squeeze())
    assert eo.squeeze(x, axis=0).broadcastable == (False, True)
    assert x.squeeze().ndim == 1
    with pytest.raises(ValueError, match=r"squeeze: dimension 1 .* is not broadcastable"):
        eo.squeeze(x, axis=1)
    m = matrix("m")
    mv = np.arange(12.0).reshape(3, 4)
    c = np.array([1, 0, 1])
    for axis in (None, 0):
        np.testing.assert_array_equal(run(eo.compress(c, m, axis), {m: mv}),
                                      np.compress(c, mv, axis))
    np.testing.assert_array_equal(run(eo.compress(np.array([0, 1, 1, 0]), m, 1), {m: mv}),
                                  np.compress([0, 1, 1, 0], mv, 1))


def test_searchsorted():
    x = vector("x")
    v = matrix("v")
    xv = np.array([1.0, 2.0, 2.0, 5.0])
    vv = np.array([[0.0, 2.0], [3.0, 9.0]])
    for side in ("left", "right"):
        y = eo.searchsorted(x, v, side)
        np.testing.assert_array_equal(run(y, {x: xv, v: vv}), np.searchsorted(xv, vv, side))
        assert inferred_shape(y, {x: xv, v: vv}) == (2, 2)
    s = lvector("s")
    unsorted = np.array([5.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        run(eo.searchsorted(x, v, sorter=s), {x: unsorted, v: vv, s: np.argsort(unsorted)}),
        np.searchsorted(unsorted, vv, sorter=np.argsort(unsorted)))
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        eo.searchsorted(x, v, "middle")
    with pytest.raises(TypeError, match="x must be a vector"):
        eo.searchsorted(v, x)


def test_to_one_hot():
    y = lvector("y")
    out = eo.to_one_hot(y, 4)
    np.testing.assert_array_equal(run(out, {y: np.array([3, 0, 0])}), np.eye(4)[[3, 0, 0]])
    assert eo.to_one_hot(y, 4, dtype="int32").dtype == "int32"


def test_unique():
    x = vector("x")
    v = np.array([3.0, 1.0, 3.0, 2.0, 1.0])
    outs = eo.Unique(True, True, True)(x, return_list=True)
    want = np.unique(v, return_index=True, return_inverse=True, return_counts=True)
    for got, ref in zip(run(outs, {x: v}), want):
        np.testing.assert_array_equal(got, ref)
    m = matrix("m")
    mv = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]])
    np.testing.assert_array_equal(run(eo.Unique(axis=0)(m), {m: mv}), np.unique(mv, axis=0))
    inv = eo.Unique(return_inverse=True)(m, return_list=True)[1]
    assert run(inv, {m: mv}).shape == (6,)  # a vector, whatever NumPy's version does


def test_ravel_and_unravel():
    i = lvector("i")
    dims = (3, 4)
    iv = np.array([0, 5, 11])
    for order in ("C", "F"):
        got = run(list(eo.unravel_index(i, dims, order=order)), {i: iv})
        for g, w in zip(got, np.unravel_index(iv, dims, order=order)):
            np.testing.assert_array_equal(g, w)
        back = eo.ravel_multi_index(eo.unravel_index(i, dims, order=order), dims, order=order)
        np.testing.assert_array_equal(run(back, {i: iv}), iv)
    np.testing.assert_array_equal(
        run(eo.ravel_multi_index((i, i), dims, mode="clip"), {i: np.array([-1, 7])}),
        np.ravel_multi_index((np.array([-1, 7]),) * 2, dims, mode="clip"))
    with pytest.raises(ValueError, match="pass ndim="):
        eo.unravel_index(i, lvector())
    assert len(eo.unravel_index(i, lvector(), ndim=2)) == 2
    with pytest.raises(TypeError, match="must be a tuple or a list"):
        eo.ravel_multi_index(i, dims)


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("int8", shapes, elements=st.integers(-1, 1)))
def test_nonzero_family(v):
    x = _var(v)
    for got, want in zip(run(list(eo.nonzero(x)), {x: v}), np.nonzero(v)):
        np.testing.assert_array_equal(got, want)
    m = eo.nonzero(x, return_matrix=True)
    np.testing.assert_array_equal(run(m, {x: v}), np.array(np.nonzero(v)).reshape(v.ndim, -1))
    assert inferred_shape(m, {x: v}) == (v.ndim, np.count_nonzero(v))
    np.testing.assert_array_equal(run(eo.flatnonzero(x), {x: v}), np.flatnonzero(v))
    np.testing.assert_array_equal(run(x.nonzero_values(), {x: v}), v[np.nonzero(v)])


def test_nonzero_of_a_scalar_is_an_error():
    with pytest.raises(ValueError, match="Nonzero only supports non-scalar arrays"):
        eo.nonzero(lscalar())


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("float64", hnp.array_shapes(min_dims=2, max_dims=4, min_side=0, max_side=4),
                  elements=st.floats(-3, 3)), st.data())
def test_diagonal_and_trace(v, data):
    x = _var(v)
    a1, a2 = data.draw(st.lists(st.integers(-v.ndim, v.ndim - 1), min_size=2, max_size=2,
                                unique_by=lambda a: a % v.ndim))
    offset = data.draw(st.integers(-4, 4))
    y = eo.diagonal(x, offset, a1, a2)
    want = np.diagonal(v, offset, a1, a2)
    got = run(y, {x: v})
    np.testing.assert_array_equal(got, want)
    assert got.flags.writeable and not np.shares_memory(got, v)
    assert inferred_shape(y, {x: v}) == want.shape
    np.testing.assert_allclose(run(eo.trace(x, offset, a1, a2), {x: v}),
                               np.trace(v, offset, a1, a2))
    # AllocDiag inverts ExtractDiag on the same axes.
    d = _var(want)
    back = AllocDiag(offset, a1, a2)(d)
    full = run(back, {d: want})
    np.testing.assert_array_equal(np.diagonal(full, offset, a1, a2), want)
    assert inferred_shape(back, {d: want}) == full.shape


def test_diag_and_alloc_diag():
    w = vector("w")
    for k in (-2, 0, 1):
        np.testing.assert_array_equal(run(eo.diag(w, k), {w: np.arange(1.0, 4)}),
                                      np.diag(np.arange(1.0, 4), k))
    m = matrix("m")
    mv = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(run(eo.diag(m, 1), {m: mv}), np.diag(mv, 1))
    with pytest.raises(ValueError, match="diag: input must have 1 or more dimensions"):
        eo.diag(lscalar())
    with pytest.raises(ValueError, match="2 or more dimensions"):
        eo.diagonal(w)
    with pytest.raises(ValueError, match="axis1 and axis2 must differ"):
        eo.diagonal(m, 0, 1, -1)
    assert ExtractDiag(view=True).view_map == {0: [0]}


def test_fill_diagonal():
    m = matrix("m")
    for shape in ((3, 3), (4, 2), (2, 5)):
        mv = np.arange(float(np.prod(shape))).reshape(shape)
        want = mv.copy()
        np.fill_diagonal(want, 9.0, wrap=False)
        np.testing.assert_array_equal(run(eo.fill_diagonal(m, 9.0), {m: mv}), want)
        for offset in (-3, -1, 0, 2, 6):
            want = mv.copy()
            k = np.arange(mv.shape[0])
            keep = (k + offset >= 0) & (k + offset < mv.shape[1])
            want[k[keep], (k + offset)[keep]] = 9.0
            got = run(fill_diagonal_offset(m, 9.0, offset), {m: mv})
            np.testing.assert_array_equal(got, want)
    t = tensor3("t")
    tv = np.zeros((2, 2, 2))
    np.testing.assert_array_equal(run(eo.fill_diagonal(t, 1.0), {t: tv})[[0, 1], [0, 1], [0, 1]],
                                  [1, 1])
    with pytest.raises(TypeError, match="must fit a's dtype float32 without upcasting"):
        eo.fill_diagonal(fmatrix(), np.float64(1.0))
    with pytest.raises(TypeError, match="at least two dimensions"):
        eo.fill_diagonal(vector(), 1.0)


def test_extra_ops_contract():
    check_op_contract(eo.CumOp(1, "add"), eo.CumOp(1, "add"), eo.CumOp(1, "mul"))
    check_op_contract(eo.RepeatOp(0), eo.RepeatOp(0), eo.RepeatOp(None))
    check_op_contract(ExtractDiag(1), ExtractDiag(1), ExtractDiag(0))
    check_op_contract(AllocDiag(1), AllocDiag(1), AllocDiag(1, 1, 0))
    check_op_contract(eo.Unique(True), eo.Unique(True), eo.Unique())
    check_op_contract(eo.Nonzero(), eo.Nonzero(), eo.BinCountOp())
    assert str(eo.CumOp(None, "mul")) == "CumOp{None, mul}"
    with pytest.raises(ValueError, match="unknown mode 'div'"):
        eo.CumOp(0, "div")
    with pytest.raises(ValueError, match="axis 2 is out of range for a 2-d tensor"):
        eo.cumsum(matrix(), 2)

"""Sorting: sort/argsort/topk against NumPy, gradients, shapes, errors, Op contract."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from indexing_testtools import check_grad, check_op_contract, inferred_shape, run

from tgraph.tensor import extra_ops as eo
from tgraph.tensor.basic import constant
from tgraph.tensor.indexing import NoneConst
from tgraph.tensor.sort import (
    ArgSortOp,
    SortOp,
    TopKOp,
    argsort,
    argtopk,
    sort,
    topk,
    topk_and_argtopk,
)
from tgraph.tensor.type import TensorType, dscalar, lscalar, matrix, vector

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5)


def _var(value):
    return TensorType(str(value.dtype), (False,) * value.ndim)("x")


@settings(max_examples=30, deadline=None)
@given(hnp.arrays(st.sampled_from(["float64", "int32", "float32"]), shapes,
                  elements=st.integers(-5, 5)), st.data())
def test_sort_and_argsort_match_numpy(v, data):
    x = _var(v)
    axis = data.draw(st.one_of(st.none(), st.integers(-v.ndim, v.ndim - 1)))
    kind = data.draw(st.sampled_from(["quicksort", "mergesort", "heapsort", "stable"]))
    y = sort(x, axis, kind)
    np.testing.assert_array_equal(run(y, {x: v}), np.sort(v, axis, kind))
    assert y.dtype == v.dtype
    a = argsort(x, axis, "stable")
    got = run(a, {x: v})
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, np.argsort(v, axis, "stable"))
    for out in (y, a):
        assert inferred_shape(out, {x: v}) == got.shape


def test_symbolic_axis_and_none_axis_input():
    x = matrix("x")
    k = lscalar("k")
    v = np.array([[3.0, 1.0, 2.0], [0.0, 5.0, -1.0]])
    np.testing.assert_array_equal(run(sort(x, k), {x: v, k: np.int64(0)}), np.sort(v, 0))
    y = SortOp()(x, None)
    assert NoneConst.equals(y.owner.inputs[1]) and y.ndim == 1
    np.testing.assert_array_equal(run(y, {x: v}), np.sort(v, None))
    assert inferred_shape(y, {x: v}) == (6,)
    with pytest.raises(ValueError, match=r"axis 2 is out of range for an array of shape"):
        run(sort(x, k), {x: v, k: np.int64(2)})


def test_methods_reach_sort():
    x = vector("x")
    v = np.array([2.0, -1.0, 3.0])
    np.testing.assert_array_equal(run(x.sort(), {x: v}), np.sort(v))
    np.testing.assert_array_equal(run(x.argsort(), {x: v}), np.argsort(v))
    assert eo.sort is sort and eo.argsort is argsort


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_sort_grad(axis):
    v = np.random.default_rng(3).permutation(12).reshape(3, 4) * 0.5 - 2.0
    check_grad(lambda x: sort(x, axis), [v])


def test_sort_grad_through_the_op_with_axis_none():
    v = np.array([[3.0, 1.0], [0.5, 2.0]])
    check_grad(lambda x: SortOp("mergesort")(x, None), [v])


def test_sort_r_op():
    x = vector("x")
    ev = vector("ev")
    y = sort(x)
    (r,) = y.owner.op.R_op(y.owner.inputs, [ev, None])
    got = run(r, {x: np.array([3.0, 1.0, 2.0]), ev: np.array([10.0, 20.0, 30.0])})
    np.testing.assert_array_equal(got, [20.0, 30.0, 10.0])


def test_argsort_grad_is_zero():
    x = vector("x")
    a = argsort(x)
    gx, gaxis = a.owner.op.grad(a.owner.inputs, [constant(np.ones(3))])
    assert not run(gx, {x: np.array([1.0, 0.0, 2.0])}).any()


@settings(max_examples=30, deadline=None)
@given(hnp.arrays("float64", hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5),
                  elements=st.floats(-5, 5), unique=True), st.data())
def test_topk(v, data):
    x = _var(v)
    axis = data.draw(st.integers(-v.ndim, v.ndim - 1))
    n = v.shape[axis]
    k = data.draw(st.integers(-n, n).filter(bool))
    srt = data.draw(st.booleans())
    vals, idx = topk_and_argtopk(x, k, axis, sorted=srt)
    got_v, got_i = run([vals, idx], {x: v})
    order = np.argsort(v, axis)
    want_i = np.flip(order, axis) if k > 0 else order
    want_i = np.take(want_i, np.arange(abs(k)), axis)
    if not srt:
        got_i = np.sort(got_i, axis)
        want_i = np.sort(want_i, axis)
        got_v = np.take_along_axis(v, got_i, axis)
    np.testing.assert_array_equal(got_i, want_i)
    np.testing.assert_array_equal(got_v, np.take_along_axis(v, want_i, axis))
    assert inferred_shape(vals, {x: v}) == want_i.shape
    np.testing.assert_array_equal(run(topk(x, k, axis, sorted=True), {x: v}),
                                  np.take_along_axis(v, np.take(
                                      np.flip(order, axis) if k > 0 else order,
                                      np.arange(abs(k)), axis), axis))


def test_topk_grad_and_axis_none():
    v = np.random.default_rng(5).permutation(12).reshape(3, 4) * 1.0
    check_grad(lambda x: topk_and_argtopk(x, 2, 1)[0], [v])
    check_grad(lambda x: topk_and_argtopk(x, -2, 0, sorted=False)[0], [v])
    x = matrix("x")
    np.testing.assert_array_equal(run(argtopk(x, 3, None), {x: v}),
                                  np.argsort(v, None)[::-1][:3])


def test_errors():
    with pytest.raises(ValueError, match="kind must be one of"):
        sort(vector(), kind="bogosort")
    with pytest.raises(ValueError, match="order= selects fields of structured arrays"):
        argsort(vector(), order=["a"])
    with pytest.raises(TypeError, match="axis must be an integer scalar or None, got float64"):
        sort(vector(), dscalar())
    with pytest.raises(ValueError, match="axis 1 is out of range for a 1-d tensor"):
        sort(vector(), 1)
    x = vector("x")
    with pytest.raises(ValueError, match=r"kth must be in \[-3, 3\] and non-zero"):
        run(topk(x, 4), {x: np.zeros(3)})
    with pytest.raises(ValueError, match="cannot take a scalar"):
        topk(dscalar(), 1)


def test_op_contract():
    check_op_contract(SortOp("mergesort"), SortOp("mergesort"), SortOp("quicksort"))
    check_op_contract(ArgSortOp(), ArgSortOp("quicksort"), ArgSortOp("heapsort"))
    check_op_contract(TopKOp(0), TopKOp(0), TopKOp(0, sorted=False))
    assert str(SortOp()) == "SortOp{quicksort, None}"
    assert str(TopKOp(1, sorted=False)) == "TopKOp{axis=1, sorted=False}"

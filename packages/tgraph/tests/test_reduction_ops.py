"""Reductions: Sum, Prod, Max/Min, All/Any, CAReduce, MaxAndArgmax, Argmax and the library
functions over them (sum, prod, max, min, argmax, argmin, all, any, ptp) against NumPy, with
axis None/int/tuple/negative and keepdims; dtype rules; errors; the Op contract."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from elemwise_testtools import run
from hypothesis import given, settings
from hypothesis import strategies as st

import tgraph.scalar as scal
from tgraph.tensor import math as tm
from tgraph.tensor.reduction import (
    All,
    Any,
    Argmax,
    CAReduce,
    Max,
    MaxAndArgmax,
    Min,
    Prod,
    Sum,
    check_and_normalize_axes,
)
from tgraph.tensor.type import TensorType


@st.composite
def tensors_and_axes(draw, min_size=0):
    ndim = draw(st.integers(0, 3))
    shape = tuple(draw(st.lists(st.integers(min_size, 4), min_size=ndim, max_size=ndim)))
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none" or ndim == 0:
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = tuple(draw(st.sets(st.integers(-ndim, ndim - 1), max_size=ndim)))
    return shape, axis, draw(st.booleans()), draw(st.integers(0, 99))


def _np_axis(axis, ndim=None, empty_means_all=False):
    """The axis for NumPy: unique non-negative entries; () is all axes for max & co."""
    if not isinstance(axis, tuple):
        return axis
    if empty_means_all and not axis:
        return None
    return tuple(sorted({a % ndim for a in axis})) if ndim else axis


def _input(shape, dtype, seed, lo=-5, hi=5):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.startswith(("int", "uint")):
        lo = 0 if dtype.startswith("uint") else lo
        return rng.integers(lo, hi, size=shape).astype(dtype)
    return rng.uniform(lo, hi, size=shape).astype(dtype)


@pytest.mark.parametrize("fn", ["sum", "prod"])
@settings(max_examples=25, deadline=None)
@given(spec=tensors_and_axes(), dtype=st.sampled_from(["float64", "float32", "int8", "uint8",
                                                       "bool", "int64"]))
def test_sum_prod_match_numpy(fn, spec, dtype):
    shape, axis, keepdims, seed = spec
    x = TensorType(dtype, [False] * len(shape))("x")
    xv = _input(shape, dtype, seed, -2, 3)
    out_var = getattr(tm, fn)(x, axis=axis, keepdims=keepdims)
    out = run(out_var, {x: xv})
    expected = getattr(np, fn)(xv, axis=_np_axis(axis, xv.ndim), keepdims=keepdims,
                               dtype=out_var.type.dtype)
    assert out.dtype == out_var.type.dtype and out.shape == np.shape(expected)
    np.testing.assert_allclose(out, expected, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("fn", ["max", "min", "argmax", "argmin", "ptp"])
@settings(max_examples=25, deadline=None)
@given(spec=tensors_and_axes(min_size=1),
       dtype=st.sampled_from(["float64", "float32", "int8", "uint8", "bool", "int64"]))
def test_max_min_argmax_argmin_match_numpy(fn, spec, dtype):
    shape, axis, keepdims, seed = spec
    if fn == "ptp":
        keepdims = False
        if dtype == "bool":
            dtype = "int8"
    x = TensorType(dtype, [False] * len(shape))("x")
    xv = _input(shape, dtype, seed)
    kwargs = {} if fn == "ptp" else {"keepdims": keepdims}
    out = run(getattr(tm, fn)(x, axis, **kwargs), {x: xv})
    # Theano 1.0's max family reads an empty axis tuple as "all axes".
    np_axis = _np_axis(axis, xv.ndim, empty_means_all=True)
    if fn in ("argmax", "argmin"):
        expected = _np_argext(xv, np_axis, fn, keepdims)
    elif fn == "ptp":
        expected = np.ptp(xv, axis=np_axis)
    else:
        expected = getattr(np, fn)(xv, axis=np_axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_array_equal(out, expected)


def _np_argext(xv, axis, fn, keepdims):
    """NumPy's argmax/argmin generalised to several axes (flattened in C order)."""
    axes = tuple(range(xv.ndim)) if axis is None else (
        (axis,) if isinstance(axis, int) else axis)
    axes = tuple(sorted({a % xv.ndim for a in axes})) if xv.ndim else ()
    if not axes:
        axes = tuple(range(xv.ndim))
    keep = [i for i in range(xv.ndim) if i not in axes]
    moved = np.transpose(xv, keep + list(axes))
    flat = moved.reshape((*moved.shape[:len(keep)], -1))
    res = getattr(np, fn)(flat, axis=-1)
    if keepdims:
        res = np.expand_dims(res, axes)
    return res


def test_min_argmin_of_the_most_negative_integer():
    # Theano's -max(-x) wrapped around here; ~max(~x) is exact.
    x = TensorType("int8", (False,))("x")
    xv = np.array([-128, 5, 7], dtype="int8")
    assert run(tm.min(x), {x: xv}) == -128
    assert run(tm.argmin(x), {x: xv}) == 0
    u = TensorType("uint8", (False,))("u")
    assert run(tm.min(u), {u: np.array([255, 0, 3], dtype="uint8")}) == 0


@pytest.mark.parametrize("fn", ["all", "any"])
@settings(max_examples=20, deadline=None)
@given(spec=tensors_and_axes(), dtype=st.sampled_from(["bool", "int32", "float64"]))
def test_all_any_match_numpy(fn, spec, dtype):
    shape, axis, keepdims, seed = spec
    x = TensorType(dtype, [False] * len(shape))("x")
    xv = _input(shape, dtype, seed, 0, 2)
    out_var = getattr(tm, fn)(x, axis, keepdims=keepdims)
    out = run(out_var, {x: xv})
    assert out_var.type.dtype == "bool" and out.dtype == bool
    np.testing.assert_array_equal(out, getattr(np, fn)(xv, axis=_np_axis(axis, xv.ndim),
                                                       keepdims=keepdims))


def test_non_contiguous_and_broadcastable_inputs():
    x = TensorType("float64", (False, True, False))("x")
    xv = np.arange(24.0).reshape(4, 6)[:, ::2][:, None, :]
    np.testing.assert_allclose(run(tm.sum(x, axis=(0, 2)), {x: xv}), xv.sum(axis=(0, 2)))
    y = tm.sum(x, axis=1)
    assert y.type.broadcastable == (False, False)
    assert tm.sum(x, axis=0).type.broadcastable == (True, False)


# ---------------------------------------------------------------------------------------------
# dtypes


@pytest.mark.parametrize(
    ("dtype", "out", "acc"),
    [("bool", "int64", "int64"), ("int8", "int64", "int64"), ("int32", "int64", "int64"),
     ("int64", "int64", "int64"), ("uint8", "uint64", "uint64"), ("uint32", "uint64", "uint64"),
     ("float16", "float16", "float32"), ("float32", "float32", "float64"),
     ("float64", "float64", "float64"), ("complex64", "complex64", "complex128")],
)
def test_sum_and_prod_default_dtypes(dtype, out, acc):
    x = TensorType(dtype, (False,))("x")
    for fn in (tm.sum, tm.prod):
        y = fn(x)
        assert y.type.dtype == out and y.owner.op.acc_dtype == acc


def test_float32_sum_accumulates_in_float64():
    x = TensorType("float32", (False,))("x")
    xv = np.array([1.0, 1e-8, -1.0] * 1000, dtype="float32")
    out = run(tm.sum(x), {x: xv})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.sum(xv.astype("float64")), rtol=1e-6)


def test_explicit_dtype_and_acc_dtype():
    x = TensorType("int8", (False,))("x")
    y = tm.sum(x, dtype="int8")
    assert y.type.dtype == "int8" and y.owner.op.acc_dtype == "int64"
    assert tm.sum(x, acc_dtype="float64").type.dtype == "int64"
    assert tm.sum(x, dtype="floatX").type.dtype == "float64"
    f = TensorType("float64", (False,))("f")
    with pytest.raises(TypeError, match="precision would be lost"):
        tm.sum(f, acc_dtype="float32")


def test_mean_dtypes():
    assert tm.mean(TensorType("float32", (False,))()).type.dtype == "float32"
    assert tm.mean(TensorType("int32", (False,))()).type.dtype == "float64"
    assert tm.mean(TensorType("uint8", (False,))()).type.dtype == "float64"
    assert tm.mean(TensorType("float16", (False,))()).type.dtype == "float16"
    assert tm.mean(TensorType("complex64", (False,))()).type.dtype == "complex64"
    assert tm.mean(TensorType("float32", (False,))(), dtype="float64").type.dtype == "float64"


# ---------------------------------------------------------------------------------------------
# empty axes, errors


def test_empty_reductions():
    x = TensorType("float64", (False, False))("x")
    xv = np.ones((0, 3))
    np.testing.assert_array_equal(run(tm.sum(x, axis=0), {x: xv}), np.zeros(3))
    np.testing.assert_array_equal(run(tm.prod(x, axis=0), {x: xv}), np.ones(3))
    assert run(tm.all(x), {x: xv}).item() is True
    assert run(tm.any(x), {x: xv}).item() is False
    np.testing.assert_array_equal(run(tm.max(x, axis=1), {x: xv}), np.ones(0))
    with pytest.raises(ValueError, match=r"empty axis 0 of an input of shape \(0, 3\)"):
        run(tm.max(x, axis=0), {x: xv})
    with pytest.raises(ValueError, match="maximum has no identity"):
        run(Max(axis=0)(x), {x: xv})


def test_axis_errors():
    x = TensorType("float64", (False, False))("x")
    with pytest.raises(ValueError, match=r"cannot reduce axis 2 of x"):
        tm.sum(x, axis=2)
    with pytest.raises(ValueError, match="axis -3 is out of range"):
        tm.max(x, axis=-3)
    with pytest.raises(TypeError, match="must be a constant"):
        tm.max(x, axis=TensorType("int64", ())())
    with pytest.raises(TypeError, match="sequence of ints"):
        Sum(axis="a")
    assert check_and_normalize_axes(x, (-1, 0, 0)) == [0, 1]
    assert check_and_normalize_axes(x, None) == []


def test_negative_axes_are_normalized_in_the_node():
    x = TensorType("float64", (False, False, False))("x")
    y = tm.sum(x, axis=(-1, 0))
    assert y.owner.op.axis == (0, 2)
    assert str(y.owner.op) == "Sum{axis=[0, 2], acc_dtype=float64}"


# ---------------------------------------------------------------------------------------------
# Op contract, str, infer_shape


def test_str_matches_theano():
    x = TensorType("float64", (False, False))("x")
    assert str(tm.sum(x).owner.op) == "Sum{acc_dtype=float64}"
    assert str(tm.prod(x, axis=1).owner.op) == "Prod{axis=[1], acc_dtype=float64}"
    assert str(CAReduce(scal.maximum, 0)) == "Reduce{maximum}{0}"
    assert str(CAReduce(scal.add)) == "Reduce{add}"
    assert str(Max(axis=(0, 1))) == "Reduce{maximum}{0, 1}"
    assert str(tm.max(x, axis=0).owner.op) == "MaxAndArgmax{axis=(0,)}"
    assert str(All()) == "All" and str(Any(1)) == "Any{1}"
    assert str(Argmax(None)) == "Argmax{axis=None}"
    m, a = tm.max_and_argmax(x)
    assert (m.name, a.name, a.type.dtype) == ("max", "argmax", "int64")


def test_eq_hash_pickle():
    ops = [Sum(axis=0), Sum(axis=(1, 0), dtype="int64"), Prod(no_zeros_in_input=True),
           CAReduce(scal.mul, 1), All(0), Any(), Max(1), Min(), MaxAndArgmax([0]),
           Argmax([1])]
    for op in ops:
        back = pickle.loads(pickle.dumps(op))
        assert back == op and hash(back) == hash(op) and str(back) == str(op)
    assert Sum(axis=(1, 0)) == Sum(axis=[0, 1])
    assert Sum(axis=0) != Prod(axis=0)
    assert Prod() != Prod(no_zeros_in_input=True)
    assert Max(0) != Min(0)


def test_infer_shape():
    x = TensorType("float64", (False, True, False))("x")
    for var, expected in [
        (tm.sum(x, axis=1), ("a", "c")),
        (tm.sum(x), ()),
        (tm.all(x, axis=(0, 2)), ("b",)),
        (Max(axis=2)(x), ("a", "b")),
    ]:
        assert var.owner.op.infer_shape(var.owner, [("a", "b", "c")]) == [expected]
    node = tm.max_and_argmax(x, axis=0)[0].owner
    assert node.op.infer_shape(node, [("a", "b", "c")]) == [("b", "c"), ("b", "c")]
    node = Argmax(None)(x).owner
    assert node.op.infer_shape(node, [("a", "b", "c")]) == [()]


def test_careduce_generic_scalar_op_and_bitwise():
    x = TensorType("int32", (False, False))("x")
    xv = np.array([[1, 6, 3], [12, 5, 9]], dtype="int32")
    np.testing.assert_array_equal(run(CAReduce(scal.xor, 0)(x), {x: xv}),
                                  np.bitwise_xor.reduce(xv, axis=0))
    np.testing.assert_array_equal(run(CAReduce(scal.and_)(x), {x: xv}),
                                  np.bitwise_and.reduce(xv, axis=None))
    with pytest.raises(NotImplementedError, match="binary scalar op"):
        CAReduce(scal.exp)


@pytest.mark.op_semantics
def test_reduction_output_never_aliases_the_input():
    x = TensorType("float64", (True,))("x")
    xv = np.ones(1)
    out = run(Sum(axis=())(x), {x: xv})
    assert not np.may_share_memory(out, xv)

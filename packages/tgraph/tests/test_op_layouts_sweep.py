"""Every structural and reducing tensor op against NumPy on zero-size and non-contiguous inputs.

The per-family test files draw shapes and dtypes for each op, but many build their input
arrays in C order only. An op's ``perform`` that assumes contiguity (``ravel`` views, ``.data``
buffers, ``reshape`` of a transposed array) passes those and breaks on a user's ``x.T`` or
``x[::2]``. This sweep feeds each op arrays in four layouts (C, Fortran, a strided view and a
reversed view) with zero-size dimensions allowed, compares the value with NumPy on the same
array, and checks the gradient of the differentiable ones with finite differences on the same
layouts.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from indexing_testtools import check_grad, run

import tgraph.tensor as T
from tgraph.tensor import nnet
from tgraph.tensor.type import TensorType

LAYOUTS = ("c", "f", "strided", "reversed")


def layout_array(rng, shape, dtype, layout):
    """Values in [-3, 3) of ``shape`` and ``dtype`` laid out as ``layout`` says."""
    if np.dtype(dtype).kind in "iu":
        big = rng.integers(-3, 4, size=(*shape, 2))
    else:
        big = rng.uniform(-3, 3, size=(*shape, 2))
    big = big.astype(dtype)
    if layout == "strided":
        out = big[..., 1]  # every other element of the buffer
    elif layout == "reversed":
        out = np.array(big[..., 0])[(slice(None, None, -1),) * len(shape)]
    elif layout == "f":
        out = np.array(big[..., 0], order="F")
    else:
        out = np.array(big[..., 0], order="C")  # (ascontiguousarray makes 0-d 1-d)
    assert out.shape == tuple(shape)
    return out


def _axis(data, ndim, allow_none=True):
    choices = list(range(-ndim, ndim))
    if allow_none:
        return data.draw(st.sampled_from([None, *choices]))
    return data.draw(st.sampled_from(choices))


# Each case: (build, min_ndim, differentiable). build(x, shape, data) returns the output
# variable and the NumPy reference as a function of the input array; it may draw parameters.
Case = Callable


def _dimshuffle(x, shape, data):
    order = list(data.draw(st.permutations(range(len(shape)))))
    lead = data.draw(st.booleans())

    def ref(v):
        out = np.transpose(v, order)
        return out[None] if lead else out
    return x.dimshuffle(["x", *order] if lead else order), ref


def _transpose(x, shape, data):
    return x.T, lambda v: v.T


def _swapaxes(x, shape, data):
    a1, a2 = _axis(data, len(shape), False), _axis(data, len(shape), False)
    return T.swapaxes(x, a1, a2), lambda v: np.swapaxes(v, a1, a2)


def _reduction(name):
    def build(x, shape, data):
        axis = _axis(data, len(shape))
        keepdims = data.draw(st.booleans())
        reduced = range(len(shape)) if axis is None else [axis % len(shape)]
        if name in ("max", "min", "argmax") and any(shape[a] == 0 for a in reduced):
            axis, keepdims = None, False  # NumPy refuses these on empty axes; use a whole
            if 0 in shape:  # reduction of a non-empty input, or sum instead
                return T.sum(x), lambda v: np.sum(v)
        out = getattr(T, name)(x, axis=axis, keepdims=keepdims)
        return out, lambda v: getattr(np, name)(v, axis=axis, keepdims=keepdims)
    return build


def _cumulative(name):
    def build(x, shape, data):
        axis = _axis(data, len(shape))
        return getattr(T, name)(x, axis=axis), lambda v: getattr(np, name)(v, axis=axis)
    return build


def _repeat(x, shape, data):
    reps, axis = data.draw(st.integers(0, 3)), _axis(data, len(shape))
    return T.repeat(x, reps, axis=axis), lambda v: np.repeat(v, reps, axis=axis)


def _sort(x, shape, data):
    axis = _axis(data, len(shape), allow_none=False)
    return T.sort(x, axis=axis), lambda v: np.sort(v, axis=axis)


def _argsort(x, shape, data):
    # Uniform float draws have no ties, so the order is unique and NumPy's is the reference.
    axis = _axis(data, len(shape), allow_none=False)
    return T.argsort(x, axis=axis), lambda v: np.argsort(v, axis=axis)


def _roll(x, shape, data):
    shift, axis = data.draw(st.integers(-5, 5)), _axis(data, len(shape))
    return T.roll(x, shift, axis=axis), lambda v: np.roll(v, shift, axis=axis)


def _tile(x, shape, data):
    reps = tuple(data.draw(st.lists(st.integers(0, 2), min_size=len(shape),
                                    max_size=len(shape))))
    return T.tile(x, reps), lambda v: np.tile(v, reps)


def _flatten(x, shape, data):
    nd = data.draw(st.integers(1, len(shape)))
    new = (*shape[:nd - 1], int(np.prod(shape[nd - 1:], dtype=int)))
    return T.flatten(x, nd), lambda v: v.reshape(new)


def _reshape(x, shape, data):
    new = tuple(reversed(shape))
    return T.reshape(x, new), lambda v: v.reshape(new)


def _basic_slice(x, shape, data):
    start = data.draw(st.integers(-4, 4) | st.none())
    stop = data.draw(st.integers(-4, 4) | st.none())
    step = data.draw(st.sampled_from([None, 1, 2, -1, -2]))
    sl = slice(start, stop, step)
    return x[sl], lambda v: v[sl]


def _advanced_take(x, shape, data):
    n = shape[0]
    idx = data.draw(st.lists(st.integers(-n, n - 1), max_size=4)) if n else []
    idx_arr = np.asarray(idx, dtype="int64")
    return x[T.constant(idx_arr)], lambda v: v[idx_arr]


def _set_sub(x, shape, data):
    sl = slice(None, None, data.draw(st.sampled_from([1, 2, -1])))
    y_shape = np.empty(shape)[sl].shape
    yv = layout_array(np.random.default_rng(3), y_shape, x.type.dtype, "strided")
    y = T.constant(yv)

    def ref(v):
        out = v.copy()
        out[sl] = yv
        return out
    return T.set_subtensor(x[sl], y), ref


def _inc_sub(x, shape, data):
    sl = slice(None, None, data.draw(st.sampled_from([1, 2, -1])))
    yv = layout_array(np.random.default_rng(4), np.empty(shape)[sl].shape, x.type.dtype,
                      "reversed")

    def ref(v):
        out = v.copy()
        out[sl] += yv
        return out
    return T.inc_subtensor(x[sl], T.constant(yv)), ref


def _advanced_inc(x, shape, data):
    n = shape[0]
    idx = np.asarray(data.draw(st.lists(st.integers(0, n - 1), max_size=4)) if n else [],
                     dtype="int64")
    yv = layout_array(np.random.default_rng(5), (len(idx), *shape[1:]), x.type.dtype, "f")

    def ref(v):
        out = v.copy()
        np.add.at(out, idx, yv)
        return out
    return T.inc_subtensor(x[T.constant(idx)], T.constant(yv)), ref


def _alloc(x, shape, data):
    lead = data.draw(st.integers(0, 2))
    return T.alloc(x, lead, *shape), lambda v: np.broadcast_to(v, (lead, *shape))


def _fill(x, shape, data):
    return T.fill(x, 2), lambda v: np.full_like(v, 2)


def _like(name):
    ref = {"ones_like": np.ones_like, "zeros_like": np.zeros_like}[name]
    return lambda x, shape, data: (getattr(T, name)(x), ref)


def _unbroadcast_roundtrip(x, shape, data):
    ones = [a for a, s in enumerate(shape) if s == 1]
    if not ones:
        return T.unbroadcast(x, 0), lambda v: v
    y = T.addbroadcast(x, *ones)
    assert all(y.type.broadcastable[a] for a in ones)
    return T.unbroadcast(y, *ones) * 1, lambda v: v * 1


def _specify_shape(x, shape, data):
    return T.specify_shape(x, shape), lambda v: v


def _where(x, shape, data):
    return T.where(x > 0, x, -2 * x), lambda v: np.where(v > 0, v, -2 * v)


def _shape(x, shape, data):
    return T.shape(x), lambda v: np.asarray(v.shape)


def _shape_i(x, shape, data):
    i = data.draw(st.integers(0, len(shape) - 1))
    return T.Shape_i(i)(x), lambda v: np.asarray(v.shape[i])


def _join(x, shape, data):
    axis = _axis(data, len(shape), allow_none=False)
    return T.concatenate([x, x[::-1]], axis=axis), \
        lambda v: np.concatenate([v, v[::-1]], axis=axis)


def _stack(x, shape, data):
    axis = data.draw(st.integers(0, len(shape)))
    return T.stack([x, 2 * x], axis=axis), lambda v: np.stack([v, 2 * v], axis=axis)


def _split(x, shape, data):
    n = shape[0]
    first = data.draw(st.integers(0, n))
    parts = T.split(x, [first, n - first], 2, axis=0)
    return parts[1], lambda v: v[first:]


def _diff(x, shape, data):
    axis = _axis(data, len(shape), allow_none=False)
    return T.diff(x, axis=axis), lambda v: np.diff(v, axis=axis)


def _softmax(x, shape, data):
    def ref(v):
        e = np.exp(v - v.max(axis=1, keepdims=True)) if v.size else v
        return e / e.sum(axis=1, keepdims=True) if v.size else v
    return nnet.softmax(x), ref


def _log_softmax(x, shape, data):
    def ref(v):
        if not v.size:
            return v
        z = v - v.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return nnet.log_softmax(x), ref


def _sigmoid(x, shape, data):
    return nnet.sigmoid(x), lambda v: 1 / (1 + np.exp(-v))


def _relu(x, shape, data):
    return nnet.relu(x), lambda v: np.maximum(v, 0)


def _dot_self(x, shape, data):
    return T.dot(x, x.T), lambda v: v @ v.T


FLOATS = ("float64", "float32")
ANY = ("float64", "float32", "int32", "int64")

# id -> (build, min_ndim, max_ndim, dtypes, differentiable)
CASES: dict[str, tuple] = {
    "dimshuffle": (_dimshuffle, 0, 3, ANY, True),
    "transpose": (_transpose, 0, 3, ANY, True),
    "swapaxes": (_swapaxes, 1, 3, ANY, True),
    "sum": (_reduction("sum"), 1, 3, ANY, True),
    "prod": (_reduction("prod"), 1, 3, FLOATS, True),
    "mean": (_reduction("mean"), 1, 3, FLOATS, True),
    "max": (_reduction("max"), 1, 3, ANY, True),
    "min": (_reduction("min"), 1, 3, ANY, True),
    "argmax": (_reduction("argmax"), 1, 3, ANY, False),
    "all": (_reduction("all"), 1, 3, ANY, False),
    "any": (_reduction("any"), 1, 3, ANY, False),
    "cumsum": (_cumulative("cumsum"), 1, 3, ANY, True),
    "cumprod": (_cumulative("cumprod"), 1, 3, FLOATS, True),
    "repeat": (_repeat, 1, 3, ANY, True),
    "sort": (_sort, 1, 3, ANY, True),
    "argsort": (_argsort, 1, 3, FLOATS, False),
    "roll": (_roll, 1, 3, ANY, True),
    "tile": (_tile, 1, 3, ANY, True),
    "flatten": (_flatten, 1, 3, ANY, True),
    "reshape": (_reshape, 1, 3, ANY, True),
    "subtensor_slice": (_basic_slice, 1, 3, ANY, True),
    "advanced_subtensor1": (_advanced_take, 1, 3, ANY, True),
    "set_subtensor": (_set_sub, 1, 3, ANY, True),
    "inc_subtensor": (_inc_sub, 1, 3, ANY, True),
    "advanced_inc_subtensor1": (_advanced_inc, 1, 3, ANY, True),
    "alloc": (_alloc, 0, 2, ANY, True),
    "fill": (_fill, 0, 3, ANY, False),
    "ones_like": (_like("ones_like"), 0, 3, ANY, False),
    "zeros_like": (_like("zeros_like"), 0, 3, ANY, False),
    "add_unbroadcast": (_unbroadcast_roundtrip, 1, 3, ANY, True),
    "specify_shape": (_specify_shape, 0, 3, ANY, True),
    "where": (_where, 0, 3, FLOATS, True),
    "shape": (_shape, 0, 3, ANY, False),
    "shape_i": (_shape_i, 1, 3, ANY, False),
    "join": (_join, 1, 3, ANY, True),
    "stack": (_stack, 0, 2, ANY, True),
    "split": (_split, 1, 3, ANY, True),
    "diff": (_diff, 1, 3, ANY, True),
    "softmax": (_softmax, 2, 2, FLOATS, True),
    "log_softmax": (_log_softmax, 2, 2, FLOATS, True),
    "sigmoid": (_sigmoid, 0, 3, FLOATS, True),
    "relu": (_relu, 0, 3, FLOATS, True),
    "dot_xxT": (_dot_self, 2, 2, FLOATS, True),
}


def _tolerance(dtype):
    return {"float32": 1e-5, "float64": 1e-10}.get(str(dtype), 0)


@st.composite
def _inputs(draw, min_ndim, max_ndim, dtypes):
    shape = draw(hnp.array_shapes(min_dims=min_ndim, max_dims=max_ndim, min_side=0,
                                  max_side=4))
    return shape, draw(st.sampled_from(dtypes)), draw(st.sampled_from(LAYOUTS))


def _draw_case(name, data):
    build, lo, hi, dtypes, _ = CASES[name]
    shape, dtype, layout = data.draw(_inputs(lo, hi, dtypes))
    seed = data.draw(st.integers(0, 2**16))
    value = layout_array(np.random.default_rng(seed), shape, dtype, layout)
    x = TensorType(dtype, (False,) * len(shape))("x")
    out, ref = build(x, shape, data)
    return x, value, out, ref


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=12, deadline=None)
@given(data=st.data())
def test_perform_matches_numpy_on_every_layout(name, data):
    x, value, out, ref = _draw_case(name, data)
    before = value.copy()
    got = run(out, {x: value})
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "Mean of empty slice"
        want = np.asarray(ref(value))
    np.testing.assert_array_equal(value, before)  # the input is never written to
    assert isinstance(got, np.ndarray)
    assert got.shape == want.shape
    assert got.dtype == np.dtype(out.type.dtype)
    tol = _tolerance(got.dtype)
    if tol:
        np.testing.assert_allclose(got, want.astype(got.dtype), rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


GRAD_CASES = sorted(name for name, case in CASES.items() if case[4])


@pytest.mark.parametrize("name", GRAD_CASES)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_gradient_matches_finite_differences_on_every_layout(name, data):
    build, lo, hi, _, _ = CASES[name]
    shape = data.draw(hnp.array_shapes(min_dims=lo, max_dims=min(hi, 2), min_side=0,
                                       max_side=3))
    layout = data.draw(st.sampled_from(LAYOUTS))
    value = layout_array(np.random.default_rng(data.draw(st.integers(0, 99))), shape,
                         "float64", layout)
    if name in ("max", "min", "sort"):
        # Finite differences need distinct values: a tie has no derivative.
        value = value + np.arange(value.size).reshape(shape) * 1e-3 if value.size else value
    params: dict = {}

    def build_once(x):
        # The graph's parameters are drawn once, the first time check_grad builds it.
        if "out" not in params:
            params["out"], _ = build(x, shape, data)
            params["x"] = x
        if params["x"] is not x:
            raise AssertionError("check_grad built the graph twice")
        return params["out"]

    check_grad(build_once, [value], rtol=1e-5, atol=1e-7)

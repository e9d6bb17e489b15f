"""Basic indexing (Subtensor): x[ints, slices, ..., None] against NumPy, views, shapes, errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from indexing_testtools import check_op_contract, inferred_shape, run

from tgraph.scalar.type import get_scalar_type
from tgraph.tensor import basic as tb
from tgraph.tensor import subtensor as sub
from tgraph.tensor.indexing import get_canonical_form_slice, slice_length
from tgraph.tensor.type import TensorType, fscalar, iscalar, lscalar, matrix, row, tensor3, vector

int64 = get_scalar_type("int64")


def _bound(draw, lo=-6, hi=6):
    return draw(st.one_of(st.none(), st.integers(lo, hi)))


@st.composite
def basic_index_case(draw):
    """A shape, a NumPy-valid basic index (ints, slices, None, one optional Ellipsis)."""
    ndim = draw(st.integers(0, 4))
    shape = tuple(draw(st.integers(0, 4)) for _ in range(ndim))
    entries = []
    for size in shape:
        if size > 0 and draw(st.booleans()):
            entries.append(draw(st.integers(-size, size - 1)))
        else:
            step = draw(st.one_of(st.none(), st.integers(-3, 3).filter(bool)))
            entries.append(slice(_bound(draw), _bound(draw), step))
    start = draw(st.integers(0, ndim))
    stop = draw(st.integers(start, ndim))
    if draw(st.booleans()):
        entries[start:stop] = [Ellipsis]  # stands for the entries it replaces
    else:
        entries = entries[:start]  # trailing dimensions left implicit
    for _ in range(draw(st.integers(0, 2))):
        entries.insert(draw(st.integers(0, len(entries))), None)
    layout = draw(st.sampled_from(["c", "fortran", "flipped"]))
    return shape, tuple(entries), layout


def _value(shape, layout):
    v = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    if not shape:
        return v
    if layout == "fortran":
        return np.asfortranarray(v)
    if layout == "flipped":
        return np.flip(v)
    return v


def _symbolic(index):
    """Replace every int (also slice bounds) by an lscalar; return the index and its givens."""
    givens = {}

    def var(v):
        if v is None or v is Ellipsis:
            return v
        s = lscalar()
        givens[s] = np.int64(v)
        return s

    out = []
    for e in index:
        if isinstance(e, slice):
            out.append(slice(var(e.start), var(e.stop), var(e.step)))
        else:
            out.append(var(e))
    return tuple(out), givens


@settings(max_examples=40, deadline=None)
@given(basic_index_case())
def test_constant_basic_index_matches_numpy(case):
    shape, index, layout = case
    v = _value(shape, layout)
    x = TensorType("float64", (False,) * len(shape))("x")
    y = x[index]
    want = v[index]
    got = run(y, {x: v})
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if got.size:
        assert np.shares_memory(got, v)  # basic indexing is a view
    if isinstance(y.owner.op, sub.Subtensor):
        assert inferred_shape(y, {x: v}) == want.shape
    assert all(s == 1 for s, b in zip(want.shape, y.broadcastable) if b)


@settings(max_examples=30, deadline=None)
@given(basic_index_case())
def test_symbolic_basic_index_matches_numpy(case):
    shape, index, layout = case
    v = _value(shape, layout)
    x = TensorType("float64", (False,) * len(shape))("x")
    sym, givens = _symbolic(index)
    y = x[sym]
    givens[x] = v
    want = v[index]
    got = run(y, givens)
    np.testing.assert_array_equal(got, want)
    assert got.shape == want.shape
    if isinstance(y.owner.op, sub.Subtensor):
        assert inferred_shape(y, givens) == want.shape


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 7), st.one_of(st.none(), st.integers(-9, 9)),
       st.one_of(st.none(), st.integers(-9, 9)),
       st.one_of(st.none(), st.integers(-4, 4).filter(bool)), st.booleans())
def test_canonical_form_and_length(n, start, stop, step, symbolic):
    ref = np.arange(n)[start:stop:step]
    if symbolic:
        vars_ = [None if v is None else lscalar() for v in (start, stop, step, n)]
        givens = {s: np.int64(v) for s, v in zip(vars_, (start, stop, step, n)) if s is not None}
        slc = slice(*vars_[:3])
        length = vars_[3]
    else:
        givens, slc, length = {}, slice(start, stop, step), n

    def value(v):
        return int(v) if isinstance(v, int | np.integer) else int(run(v, givens))

    canon, rev = get_canonical_form_slice(slc, length)
    a, b, s = value(canon.start), value(canon.stop), value(canon.step)
    assert 0 <= a <= b <= n and s > 0
    np.testing.assert_array_equal(np.arange(n)[a:b:s][::value(rev)], ref)
    assert value(slice_length(slc, length)) == len(ref)


def test_constant_lengths_fold_to_python_ints():
    assert slice_length(slice(1, None, 2), 7) == 3
    assert slice_length(slice(None, None, -1), 5) == 5
    with pytest.raises(ValueError, match="step cannot be zero"):
        slice_length(slice(None, None, 0), 5)


def test_template_holds_types_and_str_like_theano():
    x = matrix("x")
    i = iscalar("i")
    y = x[1:3, i]
    op = y.owner.op
    assert op.idx_list == (slice(int64, int64, None), get_scalar_type("int32"))
    assert str(op) == "Subtensor{int64:int64:, int32}"
    assert len(y.owner.inputs) == 4
    assert str(x[::-1].owner.op) == "Subtensor{::int64}"


def test_subtensor_op_contract():
    op = sub.Subtensor((slice(int64, None, None), int64))
    same = sub.Subtensor((slice(int64, None, None), int64))
    other = sub.Subtensor((slice(None, int64, None), int64))
    check_op_contract(op, same, other)
    assert op.view_map == {0: [0]}


def test_newaxis_and_ellipsis():
    x = matrix("x")
    v = np.arange(12.0).reshape(3, 4)
    for index in [(None,), (None, 1), (Ellipsis, None), (1, None, Ellipsis), (Ellipsis, 2),
                  (None, Ellipsis, None, 1)]:
        y = x[index]
        np.testing.assert_array_equal(run(y, {x: v}), v[index])
    assert x[None].broadcastable == (True, False, False)


def test_broadcastable_pattern():
    r = row("r")
    assert r[0:1].broadcastable == (True, False)
    assert r[::-1].broadcastable == (True, False)
    assert r[1:].broadcastable == (False, False)
    assert r[:, 0].broadcastable == (True,)
    i = lscalar()
    assert r[i:].broadcastable == (False, False)


def test_zero_size_and_out_of_range_slices():
    x = matrix("x")
    v = np.zeros((0, 3))
    assert run(x[1:], {x: v}).shape == (0, 3)
    w = np.ones((2, 3))
    assert run(x[5:10, 7:], {x: w}).shape == (0, 0)


def test_scalar_result_is_zero_d_array_view():
    x = matrix("x")
    v = np.arange(6.0).reshape(2, 3)
    got = run(x[1, 2], {x: v})
    assert isinstance(got, np.ndarray) and got.shape == () and got == 5.0
    assert np.shares_memory(got, v)


# -- errors ---------------------------------------------------------------------------------

def test_too_many_indices():
    with pytest.raises(IndexError, match=r"too many indices.*2-dimensional, but 3"):
        matrix()[0, 0, 0]


def test_float_index_is_rejected():
    with pytest.raises(TypeError, match="index must be an integer, got float32 scalar"):
        vector()[fscalar()]
    with pytest.raises(TypeError, match="slice bounds"):
        vector()[: fscalar()]
    with pytest.raises(TypeError, match=r"unsupported index 1\.5"):
        vector()[1.5]


def test_python_bools_are_rejected():
    with pytest.raises(TypeError, match="does not support Python bools"):
        vector()[[True, False]]


def test_two_ellipses():
    with pytest.raises(IndexError, match="single ellipsis"):
        tensor3()[..., 0, ...]


def test_out_of_bounds_at_run_time_names_the_shape():
    x = matrix("x")
    i = lscalar("i")
    with pytest.raises(IndexError, match=r"Subtensor\{int64\}: index 5 is out of bounds.*"
                                         r"input shape \(3, 4\)"):
        run(x[i], {x: np.zeros((3, 4)), i: np.int64(5)})


def test_zero_step_at_run_time():
    x = vector("x")
    s = lscalar("s")
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        run(x[::s], {x: np.zeros(3), s: np.int64(0)})


def test_template_rejects_python_ints_and_wrong_input_types():
    with pytest.raises(TypeError, match="not Python ints"):
        sub.Subtensor((1,))
    op = sub.Subtensor((int64,))
    with pytest.raises(TypeError, match="expected int64, got int32"):
        op(vector(), iscalar())
    with pytest.raises(TypeError, match="needs 1 index inputs, got 0"):
        op(vector())


# -- constants and lengths ------------------------------------------------------------------

def test_constant_value_of_shape_entries():
    r = row("r")
    assert tb.get_scalar_constant_value(r.shape[0]) == 1
    with pytest.raises(tb.NotScalarConstantError):
        tb.get_scalar_constant_value(r.shape[1])
    c = tb.constant(np.arange(6).reshape(2, 3))
    assert tb.get_scalar_constant_value(c[1, 2]) == 5
    assert tb.get_scalar_constant_value(c.shape[1]) == 3


def test_vector_length_of_a_slice():
    x = tensor3("x")
    assert tb.get_vector_length(x.shape[1:]) == 2
    assert tb.get_vector_length(tb.constant(np.arange(5))[1:4]) == 3
    a, b = x.shape[1:]  # iterating needs the length
    assert run(a, {x: np.zeros((2, 3, 4))}) == 3
    with pytest.raises(ValueError):
        tb.get_vector_length(vector()[1:])

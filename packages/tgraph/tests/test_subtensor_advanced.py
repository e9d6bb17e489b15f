"""Advanced indexing: integer arrays, boolean masks, mixed with slices, ints and None."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from indexing_testtools import check_op_contract, inferred_shape, run

from tgraph.tensor import subtensor as sub
from tgraph.tensor.advanced_subtensor import (
    AdvancedBooleanSubtensor,
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    BaseAdvancedIncSubtensor,
    BaseAdvancedSubtensor,
    advanced_inc_subtensor1,
    advanced_subtensor,
    advanced_subtensor1,
)
from tgraph.tensor.basic import constant
from tgraph.tensor.type import (
    TensorType,
    dscalar,
    fvector,
    lvector,
    matrix,
    scalar,
    tensor3,
    vector,
)

_MINE = (AdvancedSubtensor1, BaseAdvancedSubtensor)


@st.composite
def advanced_case(draw):
    """(shape, index) with at least one integer array or boolean mask, valid for NumPy."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 4)) for _ in range(ndim))
    kinds, d = [], 0
    while d < ndim and (not kinds or draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["array", "slice", "int", "mask"]))
        span = draw(st.integers(1, min(2, ndim - d))) if kind == "mask" else 1
        if kind == "mask" and "mask" in [k for k, _ in kinds]:
            kind, span = "array", 1
        kinds.append((kind, span))
        d += span
    if not any(k in ("array", "mask") for k, _ in kinds):
        kinds[0] = ("array", 1)
    has_mask = any(k == "mask" for k, _ in kinds)
    common = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    index, d = [], 0
    for kind, span in kinds:
        size = shape[d]
        if kind == "array":
            if has_mask:
                ishape = draw(st.sampled_from([(), (1,)]))
            else:
                ishape = tuple(s if draw(st.booleans()) else 1 for s in common)
                ishape = ishape[draw(st.integers(0, len(ishape))):]
            index.append(rng.integers(-size, size, size=ishape))
        elif kind == "mask":
            index.append(rng.random(shape[d:d + span]) < 0.5)
        elif kind == "int":
            index.append(int(rng.integers(-size, size)))
        else:
            step = draw(st.one_of(st.none(), st.integers(-2, 2).filter(bool)))
            index.append(slice(draw(st.one_of(st.none(), st.integers(-4, 4))), None, step))
        d += span
    for _ in range(draw(st.integers(0, 1))):
        index.insert(draw(st.integers(0, len(index))), None)
    symbolic = draw(st.booleans())
    return shape, tuple(index), symbolic


def _build(index, symbolic):
    """The index with arrays as symbolic inputs (when asked); returns it and its givens."""
    givens, out = {}, []
    for e in index:
        if isinstance(e, np.ndarray) and symbolic:
            v = TensorType(str(e.dtype), (False,) * e.ndim)()
            givens[v] = e
            out.append(v)
        else:
            out.append(e)
    return tuple(out), givens


@settings(max_examples=50, deadline=None)
@given(advanced_case())
def test_advanced_index_matches_numpy(case):
    shape, index, symbolic = case
    v = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape) * 1.5
    x = TensorType("float64", (False,) * len(shape))("x")
    sym, givens = _build(index, symbolic)
    givens[x] = v
    y = x[sym]
    want = v[index]
    got = run(y, givens)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    if any(isinstance(e, np.ndarray) and e.ndim for e in index):
        assert not np.shares_memory(got, v)  # advanced indexing copies
    assert all(s == 1 for s, b in zip(want.shape, y.broadcastable) if b)
    if isinstance(y.owner.op, _MINE):
        assert inferred_shape(y, givens) == want.shape


@settings(max_examples=40, deadline=None)
@given(advanced_case(), st.booleans(), st.booleans())
def test_advanced_set_and_inc_match_numpy(case, set_, scalar_y):
    shape, index, symbolic = case
    # A basic index with None increments the DimShuffled view, as in Theano 1.0 (below).
    assume(any(isinstance(e, np.ndarray) and e.ndim for e in index) or None not in index)
    v = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    region = v[index].shape
    yv = np.float64(7.0) if scalar_y else np.arange(int(np.prod(region))).reshape(region) + 0.5
    x = TensorType("float64", (False,) * len(shape))("x")
    y = TensorType("float64", (False,) * np.ndim(yv))("y")
    sym, givens = _build(index, symbolic)
    givens.update({x: v, y: yv})
    fn = sub.set_subtensor if set_ else sub.inc_subtensor
    out = fn(x[sym], y)
    want = v.copy()
    if set_:
        want[index] = yv
    else:
        np.add.at(want, index, yv)
    got = run(out, givens)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(v, np.arange(v.size).reshape(shape))  # input untouched
    if isinstance(out.owner.op, BaseAdvancedIncSubtensor | AdvancedIncSubtensor1):
        assert inferred_shape(out, givens) == v.shape


def test_basic_index_with_newaxis_increments_the_view_as_theano_did():
    x = vector("x")
    out = sub.set_subtensor(x[None, 1:], 5.0)
    np.testing.assert_array_equal(run(out, {x: np.zeros(3)}), [[0.0, 5.0, 5.0]])


def test_which_op_each_index_builds():
    x = matrix("x")
    i = lvector("i")
    assert isinstance(x[i].owner.op, AdvancedSubtensor1)
    assert isinstance(x[[0, 1]].owner.op, AdvancedSubtensor1)
    assert isinstance(x[:, i].owner.inputs[0].owner.op, AdvancedSubtensor1)  # take axis 1
    assert isinstance(x[i, i].owner.op, AdvancedSubtensor)
    assert isinstance(x[1:, i].owner.op, AdvancedSubtensor)
    assert isinstance(x[np.ones((2, 2), bool)].owner.op, AdvancedBooleanSubtensor)
    assert isinstance(x[vector() > 0].owner.op, AdvancedBooleanSubtensor)


def test_repeated_indices_accumulate_for_inc_and_last_wins_for_set():
    x = vector("x")
    i = lvector("i")
    y = vector("y")
    v = np.zeros(4)
    idx = np.array([1, 1, 3, 1])
    yv = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(run(sub.inc_subtensor(x[i], y), {x: v, i: idx, y: yv}),
                                  [0, 7, 0, 3])
    np.testing.assert_array_equal(run(sub.set_subtensor(x[i], y), {x: v, i: idx, y: yv}),
                                  [0, 4, 0, 3])
    m = matrix("m")
    got = run(sub.inc_subtensor(m[i, i], 1.0), {m: np.zeros((4, 4)), i: idx})
    assert got[1, 1] == 3 and got[3, 3] == 1 and got.sum() == 4


def test_take_modes_and_axes():
    x = tensor3("x")
    v = np.arange(24.0).reshape(2, 3, 4)
    i = lvector("i")
    iv = np.array([0, -1, 5])
    for axis in (None, 0, 1, -1):
        for mode in ("wrap", "clip"):
            got = run(sub.take(x, i, axis=axis, mode=mode), {x: v, i: iv})
            np.testing.assert_array_equal(got, np.take(v, iv, axis=axis, mode=mode))
    m = TensorType("int64", (False, False))("m")
    mv = np.array([[0, 1], [1, 0]])
    for axis in (None, 0, 2):
        got = run(x.take(m, axis=axis), {x: v, m: mv})
        np.testing.assert_array_equal(got, np.take(v, mv, axis=axis))
    s = TensorType("int64", ())("s")
    np.testing.assert_array_equal(run(sub.take(x, s, axis=1), {x: v, s: np.int64(2)}),
                                  np.take(v, 2, axis=1))
    with pytest.raises(IndexError, match=r"out of bounds.*input shape \(2, 3, 4\)"):
        run(sub.take(x, i, axis=0), {x: v, i: iv})
    with pytest.raises(ValueError, match="mode must be"):
        sub.take(x, i, mode="bogus")
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        sub.take(x, i, axis=3)


def test_inc_through_take_on_other_axes_and_nd_indices():
    x = tensor3("x")
    v = np.zeros((2, 3, 4))
    m = TensorType("int64", (False, False))("m")
    mv = np.array([[0, 2], [2, 2]])
    got = run(sub.inc_subtensor(x.take(m, axis=1), 1.0), {x: v, m: mv})
    want = v.copy()
    np.add.at(want, (slice(None), mv), 1.0)
    np.testing.assert_array_equal(got, want)
    i = lvector("i")
    got = run(sub.set_subtensor(x[:, :, i], 5.0), {x: v, i: np.array([3, 0])})
    assert got[:, :, 3].sum() == 30 and got[:, :, 0].sum() == 30 and got.sum() == 60


def test_advanced_broadcastable_patterns():
    x = TensorType("float64", (False, True, False))("x")
    assert x[[0, 1]].broadcastable == (False, True, False)
    c = constant(np.array([[1], [2]]))
    assert x[c].broadcastable == (False, True, True, False)
    assert x[:, :, c].broadcastable == (False, True, False, True)
    assert x[np.ones(3, bool)].broadcastable == (False, True, False)
    assert x[[0], None, 0:1].broadcastable == (True, True, True, False)
    assert x[lvector(), None, 0:1].broadcastable == (False, True, True, False)


def test_advanced_ops_contract():
    check_op_contract(AdvancedSubtensor1(), AdvancedSubtensor1(sparse_grad=True),
                      AdvancedSubtensor())
    check_op_contract(AdvancedIncSubtensor1(), AdvancedIncSubtensor1(),
                      AdvancedIncSubtensor1(set_instead_of_inc=True))
    check_op_contract(AdvancedIncSubtensor(), AdvancedIncSubtensor(False),
                      AdvancedIncSubtensor(True))
    check_op_contract(AdvancedSubtensor(), AdvancedSubtensor(),
                      AdvancedBooleanSubtensor())
    assert str(AdvancedIncSubtensor1(set_instead_of_inc=True)) == \
        "AdvancedIncSubtensor1{no_inplace,set}"
    assert AdvancedIncSubtensor1(inplace=True).destroy_map == {0: [0]}
    assert AdvancedIncSubtensor1().clone_inplace().inplace


def test_inplace_increment_writes_into_its_input():
    x = vector("x")
    i = lvector("i")
    v = np.zeros(3)
    out = AdvancedIncSubtensor1(inplace=True)(x, constant(1.0), i)
    got = run(out, {x: v, i: np.array([0, 0])})
    assert got is v and v[0] == 2
    w = np.zeros((2, 2))
    m = matrix("m")
    got = run(AdvancedIncSubtensor(inplace=True)(m, constant(3.0), i, i),
              {m: w, i: np.array([1])})
    assert got is w and w[1, 1] == 3


def test_dtype_of_the_increment_is_cast_to_x():
    x = TensorType("int32", (False,))("x")
    i = lvector("i")
    got = run(sub.inc_subtensor(x[i], 1.5), {x: np.zeros(3, "int32"), i: np.array([0, 0])})
    assert got.dtype == np.int32 and got[0] == 2  # int(int(0 + 1.5) + 1.5)


# -- errors ---------------------------------------------------------------------------------

def test_index_type_errors():
    with pytest.raises(TypeError, match=r"AdvancedSubtensor1: index must be integers, got "
                                        r"float32 vector"):
        advanced_subtensor1(vector(), fvector())
    with pytest.raises(TypeError, match="cannot index into a scalar"):
        advanced_subtensor1(scalar(), lvector())
    with pytest.raises(TypeError, match="index must be an integer, got float64 array"):
        matrix()[np.array([0.5])]
    with pytest.raises(TypeError, match="does not take boolean masks"):
        advanced_subtensor(vector(), vector() > 0)
    with pytest.raises(TypeError, match="0-d boolean index"):
        vector()[dscalar() > 0]


def test_too_many_advanced_indices():
    with pytest.raises(IndexError, match="too many indices"):
        matrix()[[0], [0], [0]]
    with pytest.raises(IndexError, match="too many indices"):
        advanced_subtensor(matrix(), lvector(), lvector(), lvector())


def test_mask_shape_mismatch_at_run_time():
    x = matrix("x")
    m = TensorType("bool", (False,))("m")
    with pytest.raises(IndexError, match=r"AdvancedBooleanSubtensor: boolean index did not "
                                         r"match.*input shape \(3, 2\)"):
        run(x[m], {x: np.zeros((3, 2)), m: np.ones(4, bool)})


def test_increment_value_with_too_many_dimensions():
    x = matrix("x")
    i = lvector("i")
    with pytest.raises(TypeError, match="Trying to increment a 1-dimensional subtensor with a "
                                        "2-dimensional value"):
        sub.inc_subtensor(x[i, i], matrix())
    with pytest.raises(TypeError, match="cannot increment the rows of a 1-d tensor"):
        advanced_inc_subtensor1(vector(), matrix(), i)


def test_increment_shape_mismatch_at_run_time():
    x = vector("x")
    i = lvector("i")
    y = vector("y")
    with pytest.raises(ValueError, match=r"AdvancedIncSubtensor1\{no_inplace,inc\}.*"
                                         r"x shape \(3,\), y shape \(2,\)"):
        run(sub.inc_subtensor(x[i], y), {x: np.zeros(3), i: np.array([0, 1, 2]),
                                         y: np.ones(2)})

"""set_subtensor / inc_subtensor on basic indices (IncSubtensor) against NumPy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from indexing_testtools import check_op_contract, inferred_shape, run

import tgraph.tensor.join  # noqa: F401  (registers the list stacker used by x[[i, j]])
from tgraph.scalar.type import get_scalar_type
from tgraph.tensor import subtensor as sub
from tgraph.tensor.rebroadcast import Rebroadcast
from tgraph.tensor.type import TensorType, cvector, lscalar, matrix, row, vector

int64 = get_scalar_type("int64")


@st.composite
def region_case(draw):
    """A shape, a basic index (ints and slices) and the shape of a y broadcastable into it."""
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(0, 4)) for _ in range(ndim))
    index = []
    for size in shape[:draw(st.integers(0, ndim))]:
        if size and draw(st.booleans()):
            index.append(draw(st.integers(-size, size - 1)))
        else:
            bounds = st.one_of(st.none(), st.integers(-5, 5))
            step = draw(st.one_of(st.none(), st.integers(-2, 2).filter(bool)))
            index.append(slice(draw(bounds), draw(bounds), step))
    region = np.empty(shape)[tuple(index)].shape
    cut = draw(st.integers(0, len(region)))
    yshape = tuple(1 if draw(st.booleans()) else s for s in region[cut:])
    return shape, tuple(index), yshape


@settings(max_examples=50, deadline=None)
@given(region_case(), st.booleans())
def test_set_and_inc_match_numpy(case, set_):
    shape, index, yshape = case
    v = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    yv = np.arange(int(np.prod(yshape)), dtype="float64").reshape(yshape) + 100
    x = TensorType("float64", (False,) * len(shape))("x")
    y = TensorType("float64", (False,) * len(yshape))("y")
    out = (sub.set_subtensor if set_ else sub.inc_subtensor)(x[index], y)
    assert isinstance(out.owner.op, sub.IncSubtensor)
    want = v.copy()
    if set_:
        want[index] = yv
    else:
        want[index] += yv
    got = run(out, {x: v, y: yv})
    np.testing.assert_array_equal(got, want)
    assert not np.shares_memory(got, v)
    assert inferred_shape(out, {x: v, y: yv}) == v.shape


def test_symbolic_indices_and_str():
    x = matrix("x")
    i = lscalar("i")
    out = sub.set_subtensor(x[i, 1:], 0.0)
    assert str(out.owner.op) == "IncSubtensor{Set;int64, int64::}"
    assert str(sub.IncSubtensor((slice(int64, None),), inplace=True).__str__()) == \
        "IncSubtensor{InplaceInc;int64::}"
    v = np.ones((3, 3))
    want = v.copy()
    want[2, 1:] = 0
    np.testing.assert_array_equal(run(out, {x: v, i: np.int64(-1)}), want)


def test_inplace_writes_into_x_and_declares_it():
    x = vector("x")
    op = sub.IncSubtensor((slice(int64, None),), inplace=True)
    assert op.destroy_map == {0: [0]}
    v = np.zeros(4)
    got = run(op(x, 1.0, 2), {x: v})
    assert got is v and v.tolist() == [0, 0, 1, 1]
    assert sub.IncSubtensor((int64,)).destroy_map == {}


def test_tolerate_aliasing_is_recorded():
    x = vector("x")
    out = sub.set_subtensor(x[1:], x[:-1], tolerate_inplace_aliasing=True)
    assert out.owner.op.destroyhandler_tolerate_aliased == [[0, 1]]


def test_incsubtensor_contract():
    op = sub.IncSubtensor((slice(int64, None), int64))
    check_op_contract(op, sub.IncSubtensor((slice(int64, None), int64)),
                      sub.IncSubtensor((slice(int64, None), int64), set_instead_of_inc=True))
    assert op != sub.IncSubtensor((slice(int64, None), int64), inplace=True)


def test_y_is_cast_to_x_dtype():
    x = TensorType("int32", (False,))("x")
    got = run(sub.inc_subtensor(x[1:], 2.7), {x: np.zeros(3, "int32")})
    assert got.dtype == np.int32 and got.tolist() == [0, 2, 2]
    with pytest.raises(TypeError, match="cannot store the complex"):
        sub.set_subtensor(vector()[1:], cvector())


def test_broadcastable_region_gets_a_runtime_checked_y():
    r = row("r")
    y = matrix("y")
    out = sub.set_subtensor(r[:, 1:], y)
    assert isinstance(out.owner.inputs[1].owner.op, Rebroadcast)
    got = run(out, {r: np.zeros((1, 3)), y: np.ones((1, 2))})
    np.testing.assert_array_equal(got, [[0, 1, 1]])
    with pytest.raises(ValueError, match="declared broadcastable"):
        run(out, {r: np.zeros((1, 3)), y: np.ones((2, 2))})


def test_symbolic_list_index():
    x = matrix("x")
    i, j = lscalar("i"), lscalar("j")
    v = np.arange(12.0).reshape(3, 4)
    g = {x: v, i: np.int64(2), j: np.int64(0)}
    np.testing.assert_array_equal(run(x[[i, j]], g), v[[2, 0]])
    np.testing.assert_array_equal(run(x[[i, j], [j, i]], g), v[[2, 0], [0, 2]])
    got = run(sub.inc_subtensor(x[[i, i]], 1.0), g)
    assert got[2].tolist() == (v[2] + 2).tolist()


# -- errors ---------------------------------------------------------------------------------

def test_y_with_more_dimensions_than_the_region():
    x = matrix("x")
    with pytest.raises(TypeError, match="Trying to increment a 1-dimensional subtensor with a "
                                        "2-dimensional value"):
        sub.inc_subtensor(x[0], matrix())
    with pytest.raises(TypeError, match=r"IncSubtensor\{Set;int64\}: Trying to set a "
                                        r"1-dimensional subtensor with a 2-dimensional"):
        sub.IncSubtensor((int64,), set_instead_of_inc=True)(x, matrix(), 0)


def test_y_that_does_not_broadcast_at_run_time():
    x = matrix("x")
    y = vector("y")
    with pytest.raises(ValueError, match=r"IncSubtensor\{Inc;int64:int64:\}: .*"
                                         r"x shape \(3, 4\), y shape \(3,\)"):
        run(sub.inc_subtensor(x[0:2], y), {x: np.zeros((3, 4)), y: np.zeros(3)})


def test_x_must_come_from_indexing():
    with pytest.raises(TypeError, match="x must be the result of a subtensor operation"):
        sub.set_subtensor(vector(), 1.0)
    with pytest.raises(TypeError, match="x must be the result of a subtensor operation"):
        sub.set_subtensor(vector() + 1, 1.0)

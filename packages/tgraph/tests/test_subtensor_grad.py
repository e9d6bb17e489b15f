"""Gradients (L_op against finite differences) and R_op of the indexing ops."""

from __future__ import annotations

import numpy as np
import pytest
from indexing_testtools import check_grad, lop_grads, run

from tgraph.gradient_ops import DisconnectedType
from tgraph.tensor import subtensor as sub
from tgraph.tensor.advanced_subtensor import (
    advanced_inc_subtensor1,
)
from tgraph.tensor.basic import constant
from tgraph.tensor.type import imatrix, lscalar, matrix

RNG = np.random.default_rng(0)
M = RNG.standard_normal((4, 3))
V3 = RNG.standard_normal(3)
MASK = np.array([[True, False, True], [False, False, True], [True, True, False],
                 [False, True, False]])


@pytest.mark.parametrize("index", [
    (slice(1, 3), slice(None, None, -1)), (1,), (-1, 0), (slice(5, None),), (Ellipsis, 1),
    (None, slice(None, None, 2)),
], ids=["slices", "int", "two-ints", "empty", "ellipsis", "newaxis"])
def test_subtensor_grad(index):
    check_grad(lambda x: x[index], [M])


@pytest.mark.parametrize("set_", [False, True], ids=["inc", "set"])
@pytest.mark.parametrize("yshape", [(2, 3), (3,), ()], ids=["full", "row-broadcast", "scalar"])
def test_inc_subtensor_grad(set_, yshape):
    fn = sub.set_subtensor if set_ else sub.inc_subtensor
    y = RNG.standard_normal(yshape)
    check_grad(lambda x, y: fn(x[1:3], y), [M, y])
    check_grad(lambda x, y: fn(x[::-2], y), [M, y])


def test_inc_subtensor_grad_on_a_single_element():
    check_grad(lambda x, y: sub.inc_subtensor(x[1, 2], y), [M, np.array(0.5)])
    check_grad(lambda x, y: sub.set_subtensor(x[1, 2], y), [M, np.array(0.5)])


def test_advanced_subtensor1_grad_with_repeats():
    check_grad(lambda x: x[[0, 2, 0, -1]], [M])
    check_grad(lambda x: x[:, [2, 2]], [M])  # take along axis 1 through a DimShuffle


def test_advanced_inc_subtensor1_grads():
    idx = [0, 3, 0]
    check_grad(lambda x, y: sub.inc_subtensor(x[idx], y), [M, RNG.standard_normal((3, 3))])
    check_grad(lambda x, y: sub.inc_subtensor(x[idx], y), [M, RNG.standard_normal(3)])
    # Without repeats a set is differentiable everywhere.
    check_grad(lambda x, y: sub.set_subtensor(x[[3, 1]], y), [M, RNG.standard_normal((2, 3))])


@pytest.mark.parametrize("index", [
    ([0, 1, 1], [2, 0, 0]), (slice(1, None), [0, 0]), ([[0], [3]], slice(None, 2)),
    ([1, 2], None, [0, 1]),
], ids=["two-arrays", "slice-array", "2d-array", "newaxis-between"])
def test_advanced_subtensor_grad(index):
    check_grad(lambda x: x[index], [M])


def test_boolean_mask_grads():
    check_grad(lambda x: x[MASK], [M])
    check_grad(lambda x: x[:, MASK[0]], [M])
    check_grad(lambda x, y: sub.inc_subtensor(x[MASK], y), [M, RNG.standard_normal(6)])
    check_grad(lambda x, y: sub.set_subtensor(x[MASK[:, 0]], y), [M, V3])


@pytest.mark.parametrize("set_", [False, True], ids=["inc", "set"])
def test_advanced_inc_subtensor_grad(set_):
    fn = sub.set_subtensor if set_ else sub.inc_subtensor
    check_grad(lambda x, y: fn(x[[0, 3], [1, 2]], y), [M, RNG.standard_normal(2)])
    check_grad(lambda x, y: fn(x[1:, [2, 0]], y), [M, RNG.standard_normal((3, 2))])
    check_grad(lambda x, y: fn(x[[1, 2], 1:], y), [M, np.array(2.0)])


def test_indices_are_disconnected():
    x = matrix("x")
    i = lscalar("i")
    y = x[i]
    assert y.owner.op.connection_pattern(y.owner) == [[True], [False]]
    gx, gi = y.owner.op.L_op(y.owner.inputs, [y], [constant(np.ones(3))])
    assert isinstance(gi.type, DisconnectedType)


def test_gradient_through_integer_input_is_float_zeros():
    x = imatrix("x")
    y = x[1:]
    (g,) = lop_grads(y, constant(np.ones((1, 2))), [x])
    got = run(g, {x: np.zeros((2, 2), "int32")})
    assert got.dtype.kind == "f" and got.shape == (2, 2) and not got.any()


def test_r_op():
    x = matrix("x")
    ev = matrix("ev")
    i = lscalar("i")
    for y in (x[1:, i], x[[0, 0]], x[[0, 1], [1, 2]]):
        (r,) = y.owner.op.R_op(y.owner.inputs, [ev] + [None] * (len(y.owner.inputs) - 1))
        e = RNG.standard_normal((4, 3))
        np.testing.assert_array_equal(run(r, {x: M, ev: e, i: np.int64(2)}),
                                      run(y, {x: e, i: np.int64(2)}))
    out = sub.inc_subtensor(x[1:], 1.0)
    assert out.owner.op.R_op(out.owner.inputs, [None, None]) == [None]
    inc = advanced_inc_subtensor1(x, matrix("y"), [0])
    assert inc.owner.op.R_op(inc.owner.inputs, [ev, None, None]) == [None]

"""Gradients of extra_ops and diag (L_op against finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from indexing_testtools import check_grad, lop_grads, run

from tgraph.gradient_ops import NullType
from tgraph.tensor import extra_ops as eo
from tgraph.tensor.basic import constant
from tgraph.tensor.diag import (
    AllocDiag,
    fill_diagonal_offset,
)
from tgraph.tensor.type import lscalar, lvector, vector

RNG = np.random.default_rng(1)
M = RNG.uniform(0.5, 2.0, (3, 4)) * RNG.choice([-1, 1], (3, 4))
T3 = RNG.standard_normal((3, 3, 3))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_cumsum_cumprod_grad(axis):
    check_grad(lambda x: eo.cumsum(x, axis), [M])
    check_grad(lambda x: eo.cumprod(x, axis), [M], rtol=1e-4)


@pytest.mark.parametrize(("n", "axis"), [(1, -1), (2, 0), (0, 1)])
def test_diff_grad(n, axis):
    check_grad(lambda x: eo.diff(x, n, axis), [M])


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("repeats", [2, "vector"])
def test_repeat_grad(axis, repeats):
    if repeats == "vector":
        n = M.size if axis is None else M.shape[axis]
        repeats = constant(RNG.integers(0, 3, n))
    check_grad(lambda x: eo.repeat(x, repeats, axis), [M])


def test_bincount_grad_wrt_weights():
    idx = constant(np.array([0, 3, 3, 1]))
    check_grad(lambda w: eo.bincount(idx, w, minlength=6), [RNG.standard_normal(4)])


def test_compress_squeeze_grads():
    check_grad(lambda x: eo.compress(np.array([1, 0, 1]), x, 0), [M])
    check_grad(lambda x: eo.squeeze(x.dimshuffle("x", 0, 1)), [M])


@pytest.mark.parametrize(("offset", "axis1", "axis2"), [(0, 0, 1), (1, 0, 1), (-2, 1, 0),
                                                        (3, 0, 1), (5, 0, 1)])
def test_diagonal_and_trace_grad(offset, axis1, axis2):
    check_grad(lambda x: eo.diagonal(x, offset, axis1, axis2), [M])
    check_grad(lambda x: eo.trace(x, offset, axis1, axis2), [M])


def test_diagonal_grad_of_a_3d_tensor():
    check_grad(lambda x: eo.diagonal(x, 1, 2, 0), [T3[:, :2, :]])


@pytest.mark.parametrize("offset", [0, 2, -1])
def test_alloc_diag_grad(offset):
    check_grad(lambda v: eo.diag(v, offset), [RNG.standard_normal(3)])
    check_grad(lambda v: AllocDiag(offset, 2, 0)(v), [RNG.standard_normal((2, 3))])


@pytest.mark.parametrize("a", [M, M.T, T3], ids=["wide", "tall", "cube"])
def test_fill_diagonal_grad(a):
    check_grad(lambda a, v: eo.fill_diagonal(a, v), [a, np.array(2.0)])


@pytest.mark.parametrize("offset", [-2, 0, 1, 3])
def test_fill_diagonal_offset_grad(offset):
    check_grad(lambda a, v: fill_diagonal_offset(a, v, offset), [M, np.array(2.0)])


def test_undefined_gradients():
    k = lscalar("k")
    a = fill_diagonal_offset(constant(M), 1.0, k)
    grads = a.owner.op.L_op(a.owner.inputs, [a], [constant(np.ones((3, 4)))])
    assert isinstance(grads[2].type, NullType)
    x = vector("x")
    nz = eo.nonzero(x, return_matrix=True)
    assert isinstance(nz.owner.op.L_op([x], [nz], [nz])[0].type, NullType)


def test_integer_repeats_are_disconnected():
    x = vector("x")
    r = lvector("r")
    y = eo.repeat(x, r)
    (gx,) = lop_grads(y, constant(np.ones(3)), [x])
    np.testing.assert_array_equal(run(gx, {x: np.ones(2), r: np.array([1, 2])}), [1.0, 2.0])

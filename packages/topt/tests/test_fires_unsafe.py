"""The checks the ``unsafe`` level removes (Assert, SpecifyShape) and the one fast_run
removes (an Assert whose conditions are constants known to be true)."""

from __future__ import annotations

import numpy as np
import pytest

import theano
import theano.tensor as T
from tgraph.tensor.assert_op import Assert, assert_op
from tgraph.tensor.shape import SpecifyShape, SpecifyShapeError, specify_shape


def _ops(fn) -> list:
    return [type(n.op) for n in fn.maker.fgraph.toposort()]


def _mode(level: str):
    return theano.Mode(linker="py", optimizer=level)


@pytest.mark.fires("local_remove_all_assert")
def test_unsafe_removes_assert():
    x = T.vector("x")
    out = assert_op(x, T.gt(x.sum(), 0)) * 2
    safe = theano.function([x], out, mode=_mode("fast_run"))
    unsafe = theano.function([x], out, mode=_mode("unsafe"))
    assert Assert in _ops(safe) and Assert not in _ops(unsafe)
    v = np.ones(3)
    np.testing.assert_array_equal(unsafe(v), safe(v))
    with pytest.raises(AssertionError, match="Assert failed"):
        safe(-v)
    np.testing.assert_array_equal(unsafe(-v), -2 * v)  # no longer checked


@pytest.mark.fires("local_remove_specify_shape")
def test_unsafe_removes_specify_shape():
    x = T.matrix("x")
    out = T.exp(specify_shape(x, (2, 3)))
    safe = theano.function([x], out, mode=_mode("fast_run"))
    unsafe = theano.function([x], out, mode=_mode("unsafe"))
    assert SpecifyShape in _ops(safe) and SpecifyShape not in _ops(unsafe)
    wrong = np.zeros((3, 2))
    with pytest.raises(SpecifyShapeError):
        safe(wrong)
    np.testing.assert_array_equal(unsafe(wrong), np.ones((3, 2)))


@pytest.mark.fires("local_remove_useless_assert")
def test_fast_run_drops_constant_true_conditions():
    x = T.vector("x")
    cond = T.gt(x.sum(), 0)
    out = assert_op(x, T.constant(True), cond, T.constant(1))
    fn = theano.function([x], out * 1.5, mode=_mode("fast_run"))
    asserts = [n for n in fn.maker.fgraph.toposort() if isinstance(n.op, Assert)]
    assert len(asserts) == 1 and len(asserts[0].inputs) == 2  # x and the live condition
    np.testing.assert_allclose(fn(np.ones(2)), 1.5)
    with pytest.raises(AssertionError):
        fn(-np.ones(2))
    only_true = theano.function([x], assert_op(x, T.constant(True)) + 1, mode=_mode("fast_run"))
    assert Assert not in _ops(only_true)


def test_false_constant_condition_is_kept_and_raises():
    x = T.vector("x")
    fn = theano.function([x], assert_op(x, T.constant(False)) + 1, mode=_mode("fast_run"))
    assert Assert in _ops(fn)
    with pytest.raises(AssertionError, match="condition 0"):
        fn(np.ones(2))


def test_assert_rejects_non_scalar_conditions():
    x = T.vector("x")
    with pytest.raises(TypeError, match="condition 0 must be a scalar"):
        assert_op(x, T.gt(x, 0))


def test_assert_passes_gradient_to_its_value():
    x = T.vector("x")
    g = theano.grad(assert_op(x, T.gt(x.sum(), 0)).sum() * 3, x)
    np.testing.assert_allclose(theano.function([x], g, mode=_mode("fast_compile"))(np.ones(2)),
                               [3.0, 3.0])


@pytest.mark.fires("local_dot22_to_gemv_fast_compile")
@pytest.mark.parametrize("level", ["fast_compile", "o2"])
def test_fast_compile_levels_use_gemv_for_matrix_vector(level):
    from tgraph.tensor.blas import Dot22, Gemv

    x, w = T.matrix("x"), T.vector("w")
    fn = theano.function([x, w], T.dot(x, w), mode=_mode(level))
    ops = _ops(fn)
    assert Gemv in ops and Dot22 not in ops
    rng = np.random.default_rng(0)
    xv, wv = rng.standard_normal((5, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(fn(xv, wv), xv @ wv)

"""zero_grad, disconnected_grad, undefined_grad, grad_clip, grad_scale, consider_constant."""

import pickle

import numpy as np
import pytest

import tgraph.tensor as tt
from tgraph.gradient import (
    DisconnectedInputError,
    GradClip,
    GradScale,
    NullTypeGradError,
    Rop,
    ZeroGrad,
    consider_constant,
    disconnected_grad,
    grad,
    grad_clip,
    grad_scale,
    undefined_grad,
    zero_grad,
)
from tgraph.graph.evaluate import evaluate
from tgraph.tensor.type import dmatrix, dvector

XV = np.array([2.0, 0.3, -5.0])


def ev(var, givens):
    return evaluate([var], givens)[0]


@pytest.mark.parametrize("fn", [zero_grad, disconnected_grad, undefined_grad,
                                lambda x: grad_clip(x, -1, 1), lambda x: grad_scale(x, 2.0)],
                         ids=["zero", "disconnected", "undefined", "clip", "scale"])
def test_forward_value_is_unchanged_and_a_view(fn):
    x = dmatrix("x")
    y = fn(x)
    assert y.type == x.type and y.owner.op.view_map == {0: [0]}
    a = np.arange(6.0).reshape(2, 3)
    out = ev(y, {x: a})
    np.testing.assert_array_equal(out, a)
    assert y.owner.op.infer_shape(y.owner, [(2, 3)]) == [(2, 3)]


def test_zero_grad_gives_zeros_but_stays_connected():
    x = dvector("x")
    g = grad((zero_grad(x) ** 2).sum(), x)
    np.testing.assert_array_equal(ev(g, {x: XV}), 0)


def test_zero_grad_only_cuts_its_own_path():
    x = dvector("x")
    g = grad((zero_grad(x) * x).sum(), x)
    np.testing.assert_allclose(ev(g, {x: XV}), XV)


def test_disconnected_grad_disconnects():
    x = dvector("x")
    cost = (disconnected_grad(x) ** 2).sum()
    with pytest.raises(DisconnectedInputError, match="input 0 'x'"):
        grad(cost, x)
    g = grad((disconnected_grad(x) * x).sum(), x)
    np.testing.assert_allclose(ev(g, {x: XV}), XV)


def test_undefined_grad_raises():
    x = dvector("x")
    with pytest.raises(NullTypeGradError, match="mathematically undefined"):
        grad(undefined_grad(x).sum(), x)


def test_grad_clip_clips_the_gradient():
    x = dvector("x")
    g = grad((grad_clip(x, -1, 1) ** 2).sum(), x)
    np.testing.assert_allclose(ev(g, {x: XV}), np.clip(2 * XV, -1, 1))
    g2 = grad((x ** 2).sum(), x)
    np.testing.assert_allclose(ev(g2, {x: XV}), 2 * XV)


def test_grad_clip_bounds_are_checked_and_part_of_identity():
    with pytest.raises(ValueError, match=r"upper bound \(-1\) is below the lower bound \(1\)"):
        grad_clip(dvector(), 1, -1)
    assert GradClip(-1, 1) == GradClip(-1, 1)
    assert GradClip(-1, 1) != GradClip(-2, 2)
    assert hash(GradClip(-1, 1)) == hash(GradClip(-1, 1))


def test_grad_scale_reverses_the_gradient():
    x = dvector("x")
    fx = tt.sin(x)
    g = grad(grad_scale(fx, -1.0).sum(), x)
    np.testing.assert_allclose(ev(g, {x: XV}), -np.cos(XV))
    assert GradScale(2.0) == GradScale(2.0) and GradScale(2.0) != GradScale(3.0)


def test_consider_constant_is_deprecated_but_works():
    x = dvector("x")
    with pytest.warns(DeprecationWarning, match="use zero_grad"):
        y = consider_constant(x)
    g = grad((y * x).sum(), x)
    np.testing.assert_allclose(ev(g, {x: XV}), XV)


def test_forward_mode_through_the_modifiers():
    x, v = dvector("x"), dvector("v")
    vv = np.ones(3)
    np.testing.assert_array_equal(ev(Rop(zero_grad(x) * 2, x, v), {x: XV, v: vv}), 0)
    np.testing.assert_allclose(ev(Rop(grad_scale(x, 5.0) * 2, x, v), {x: XV, v: vv}), 2)
    np.testing.assert_allclose(ev(Rop(grad_clip(x, -1, 1) * 2, x, v), {x: XV, v: vv}), 2)
    with pytest.raises(DisconnectedInputError):
        Rop(disconnected_grad(x) * 2, x, v)


def test_ops_pickle_and_refuse_non_variables():
    assert pickle.loads(pickle.dumps(GradClip(-1, 1))) == GradClip(-1, 1)
    assert pickle.loads(pickle.dumps(ZeroGrad())) == ZeroGrad()
    with pytest.raises(TypeError, match="expected a symbolic Variable"):
        ZeroGrad()(np.ones(3))

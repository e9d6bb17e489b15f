"""numeric_grad and verify_grad: accuracy, tolerances, and catching a wrong gradient."""

import numpy as np
import pytest

import tgraph.tensor as tt
from tgraph.gradient import GradientError
from tgraph.gradient_checks import numeric_grad, verify_grad
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op


class ScaledProduct(Op):
    """(a, b) -> a * b * 2, with a gradient on b that is off by ``b_error``."""

    __props__ = ("b_error",)

    def __init__(self, b_error=0.0):
        self.b_error = b_error

    def make_node(self, a, b):
        return Apply(self, [a, b], [a.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] * inputs[1] * 2

    def grad(self, inputs, gout):
        a, b = inputs
        (g,) = gout
        return [g * b * 2, g * a * 2 + g * self.b_error]


def test_numeric_grad_of_numpy_functions():
    x = np.array([0.5, -1.0, 2.0])
    ng = numeric_grad(lambda v: np.sum(np.sin(v) * v), x)
    np.testing.assert_allclose(ng.gf, np.cos(x) * x + np.sin(x), rtol=1e-6)
    ng = numeric_grad(lambda a, b: np.sum(a * b), [x, 2 * x])
    np.testing.assert_allclose(ng.gf[0], 2 * x, rtol=1e-6)
    np.testing.assert_allclose(ng.gf[1], x, rtol=1e-6)


def test_central_differences_are_exact_on_quadratics_in_float32():
    x = np.array([1.0, 2.0, 3.0], dtype="float32")
    ng = numeric_grad(lambda v: np.sum(v.astype("float64") ** 2), x)
    assert ng.gf.dtype == np.float32
    np.testing.assert_allclose(ng.gf, 2 * x, rtol=1e-3)


def test_numeric_grad_step_and_working_dtype():
    assert numeric_grad.type_eps["float64"] == 1e-7
    assert numeric_grad.type_eps["float32"] == 3e-4
    calls = []

    def f(a, b):
        calls.append((a.dtype, b.dtype))
        return np.sum(a) + np.sum(b)

    numeric_grad(f, [np.ones(2, "float32"), np.ones(1, "float64")])
    assert {(str(a), str(b)) for a, b in calls} == {("float64", "float64")}
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        numeric_grad(f, [np.ones(2, "int64")])


def test_abs_rel_err_and_max_err():
    a, r = numeric_grad.abs_rel_err(np.array([1.0, 0.0]), np.array([1.5, 0.0]))
    np.testing.assert_allclose(a, [0.5, 0.0])
    np.testing.assert_allclose(r, [0.2, 0.0])
    ng = numeric_grad(lambda v: np.sum(v ** 2), np.array([1.0, 2.0]))
    arg, pos, abs_err, rel_err = ng.max_err([np.array([2.0, 5.0])], 1e-4, 1e-4)
    assert (arg, pos) == (0, 1) and abs_err == pytest.approx(1.0, rel=1e-5)
    with pytest.raises(ValueError, match="expected 1 gradients, got 2"):
        ng.max_err([np.zeros(2), np.zeros(2)], 1e-4, 1e-4)
    with pytest.raises(ValueError, match=r"shape \(3,\), expected \(2,\)"):
        ng.abs_rel_errors([np.zeros(3)])


def test_verify_grad_accepts_a_correct_gradient():
    rng = np.random.RandomState(0)
    verify_grad(ScaledProduct(), [rng.randn(3, 2), rng.randn(3, 2)], rng=rng)


def test_verify_grad_catches_a_wrong_gradient_and_names_the_input():
    rng = np.random.RandomState(0)
    with pytest.raises(GradientError) as info:
        verify_grad(ScaledProduct(b_error=0.5), [rng.randn(3, 2), rng.randn(3, 2)], rng=rng)
    err = info.value
    assert err.arg == 1 and err.shape == (3, 2) and err.arg_name == "input 1"
    assert err.abs_err > err.abs_tol and err.rel_err > err.rel_tol
    text = str(err)
    assert "input 1 (input 1) of shape (3, 2)" in text
    assert "analytic =" in text and "numeric =" in text and "verify_grad: inputs" in text
    assert verify_grad.E_grad is GradientError and isinstance(err, AssertionError)


def test_verify_grad_tolerances_can_be_loosened():
    rng = np.random.RandomState(0)
    verify_grad(ScaledProduct(b_error=1e-3), [rng.randn(2), rng.randn(2)], rng=rng,
                abs_tol=1e-2, rel_tol=1e-2)


def test_verify_grad_with_a_generator_and_float32():
    rng = np.random.default_rng(0)
    verify_grad(tt.tanh, [rng.standard_normal((2, 3)).astype("float32")], rng=rng,
                cast_to_output_type=True)


def test_verify_grad_on_a_scalar_output():
    verify_grad(lambda a: (a ** 2).sum(), [np.array([1.0, 2.0])], rng=np.random.RandomState(1))


def test_verify_grad_argument_errors():
    with pytest.raises(TypeError, match="rng must be"):
        verify_grad(tt.exp, [np.ones(2)])
    with pytest.raises(TypeError, match="input 0 has dtype int64"):
        verify_grad(tt.exp, [np.ones(2, dtype="int64")], rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="pt must be a list"):
        verify_grad(tt.exp, np.ones(2), rng=np.random.RandomState(0))
    with pytest.raises(NotImplementedError, match="one variable"):
        verify_grad(lambda a: [a, a], [np.ones(2)], rng=np.random.RandomState(0))


def test_errors_inside_verify_grad_say_where_they_happened():
    def broken(a):
        return a * np.ones(5)

    with pytest.raises(Exception) as info:
        verify_grad(broken, [np.ones(2)], rng=np.random.RandomState(0))
    notes = getattr(info.value, "__notes__", []) + [str(a) for a in info.value.args]
    assert any("verify_grad: inputs" in n for n in notes)

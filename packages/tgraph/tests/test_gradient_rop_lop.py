"""Rop, Lop, jacobian and hessian against products computed with NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tgraph.tensor as tt
from tgraph import config
from tgraph.gradient import (
    DisconnectedInputError,
    DisconnectedType,
    Lop,
    Rop,
    grad,
    hessian,
    jacobian,
)
from tgraph.graph.basic import Apply
from tgraph.graph.evaluate import evaluate
from tgraph.graph.op import Op
from tgraph.jacobian import RowwiseGrad
from tgraph.shared import shared
from tgraph.tensor.type import dmatrix, dscalar, dvector, fvector

RNG = np.random.RandomState(42)


def ev(outputs, givens):
    return evaluate(outputs if isinstance(outputs, list) else [outputs], givens)


# ---------------------------------------------------------------------------------------------
# Rop


def test_rop_of_a_layer_matches_the_jacobian_vector_product():
    W, x, v = dmatrix("W"), dvector("x"), dvector("v")
    y = tt.tanh(tt.dot(W, x))
    r = Rop(y, x, v)
    Wv, xv, vv = RNG.randn(3, 4), RNG.randn(4), RNG.randn(4)
    jac = (1 - np.tanh(Wv @ xv) ** 2)[:, None] * Wv
    np.testing.assert_allclose(ev(r, {W: Wv, x: xv, v: vv})[0], jac @ vv)


def test_rop_with_several_wrt_and_outputs_keeps_the_structure_of_f():
    a, b = dvector("a"), dvector("b")
    f1, f2 = a * b, (a ** 2).sum()
    va, vb = dvector("va"), dvector("vb")
    r = Rop([f1, f2], [a, b], [va, vb])
    assert isinstance(r, list) and len(r) == 2
    av, bv, vav, vbv = (RNG.randn(3) for _ in range(4))
    got = ev(r, {a: av, b: bv, va: vav, vb: vbv})
    np.testing.assert_allclose(got[0], vav * bv + av * vbv)
    np.testing.assert_allclose(got[1], 2 * av @ vav)
    assert isinstance(Rop((f1,), a, va), tuple)


def test_rop_accepts_numeric_eval_points():
    x = dvector("x")
    r = Rop(x ** 2, x, np.ones(3))
    np.testing.assert_allclose(ev(r, {x: np.arange(3.0)})[0], 2 * np.arange(3.0))


def test_rop_of_a_wrt_variable_is_its_eval_point():
    x, v = dvector("x"), dvector("v")
    assert Rop(x, x, v) is v


def test_rop_checks_dimensions_and_lengths():
    x, v = dvector("x"), dmatrix("v")
    with pytest.raises(ValueError, match="mismatched dimensionality: 1 versus 2"):
        Rop(x * 2, x, v)
    with pytest.raises(ValueError, match="2 wrt variables but 1 eval_points"):
        Rop(x * 2, [x, x], [dvector()])


def test_rop_disconnected_outputs():
    x, y, v = dvector("x"), dvector("y"), dvector("v")
    f = y * 2
    with pytest.raises(DisconnectedInputError, match=r"output 0 .* does not depend on any "
                                                     "variable in wrt"):
        Rop(f, x, v)
    with pytest.warns(UserWarning, match="does not depend"):
        r = Rop(f, x, v, disconnected_outputs="warn")
    np.testing.assert_array_equal(ev(r, {y: np.ones(2)})[0], np.zeros(2))
    assert Rop(f, x, v, disconnected_outputs="ignore", return_disconnected="None") is None
    r = Rop(f, x, v, disconnected_outputs="ignore", return_disconnected="Disconnected")
    assert isinstance(r.type, DisconnectedType)
    with pytest.raises(ValueError, match="disconnected_outputs"):
        Rop(f, x, v, disconnected_outputs="loud")


class Cube(Op):
    """x ** 3 with a gradient and no R_op (forces the double-L-op path)."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] ** 3

    def grad(self, inputs, gout):
        return [3 * inputs[0] ** 2 * gout[0]]


class Bilinear(Op):
    """(a, b) -> a * b with a gradient and no R_op."""

    __props__ = ()

    def make_node(self, a, b):
        return Apply(self, [a, b], [a.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] * inputs[1]

    def grad(self, inputs, gout):
        a, b = inputs
        return [gout[0] * b, gout[0] * a]


def test_rop_falls_back_on_the_gradient_for_ops_without_r_op():
    x, v = dvector("x"), dvector("v")
    r = Rop(Cube()(tt.sin(x)), x, v)
    xv, vv = RNG.randn(4), RNG.randn(4)
    np.testing.assert_allclose(ev(r, {x: xv, v: vv})[0],
                               3 * np.sin(xv) ** 2 * np.cos(xv) * vv)


def test_rop_fallback_differentiates_each_input_separately():
    # The second input depends on the first: each must get only its own partial derivative.
    x, v = dvector("x"), dvector("v")
    r = Rop(Bilinear()(x, x ** 2), x, v)
    xv, vv = RNG.randn(3), RNG.randn(3)
    np.testing.assert_allclose(ev(r, {x: xv, v: vv})[0], 3 * xv ** 2 * vv)


# ---------------------------------------------------------------------------------------------
# Lop


def test_lop_matches_the_vector_jacobian_product():
    W, x, u = dmatrix("W"), dvector("x"), dvector("u")
    y = tt.tanh(tt.dot(W, x))
    gx, gW = Lop(y, [x, W], u)
    Wv, xv, uv = RNG.randn(3, 4), RNG.randn(4), RNG.randn(3)
    d = (1 - np.tanh(Wv @ xv) ** 2) * uv
    got = ev([gx, gW], {W: Wv, x: xv, u: uv})
    np.testing.assert_allclose(got[0], Wv.T @ d)
    np.testing.assert_allclose(got[1], np.outer(d, xv))


def test_lop_structure_and_errors():
    x = dvector("x")
    assert isinstance(Lop(x * 2, (x,), dvector()), tuple)
    single = Lop(x * 2, x, np.ones(3))
    np.testing.assert_allclose(ev(single, {x: np.zeros(3)})[0], 2.0)
    with pytest.raises(ValueError, match="2 expressions but 1 eval_points"):
        Lop([x, x * 2], x, [dvector()])
    with pytest.raises(DisconnectedInputError):
        Lop(x * 2, dvector("y"), dvector())


def _adjoint_graph():
    W, x = dmatrix("W"), dvector("x")
    u, v = dvector("u"), dvector("v")
    y = tt.exp(tt.dot(W, tt.sin(x)) * 0.1)
    return (W, x, u, v), [Rop(y, x, v), Lop(y, x, u)]


ADJOINT = _adjoint_graph()  # built once: the property varies only the values


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(0, 2**31 - 1))
def test_rop_and_lop_are_adjoint(m, n, seed):
    rng = np.random.RandomState(seed)
    (W, x, u, v), outputs = ADJOINT
    Wv, xv, uv, vv = rng.randn(m, n), rng.randn(n), rng.randn(m), rng.randn(n)
    jvv, juv = ev(outputs, {W: Wv, x: xv, u: uv, v: vv})
    assert uv @ jvv == pytest.approx(juv @ vv, rel=1e-10, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# jacobian and hessian


def test_jacobian_of_an_elementwise_and_coupled_function():
    x = dvector("x")
    y = tt.exp(x) * x.sum()
    J = jacobian(y, x)
    assert isinstance(J.owner.op, RowwiseGrad) and J.ndim == 2
    xv = RNG.randn(4)
    want = np.diag(np.exp(xv) * xv.sum()) + np.exp(xv)[:, None]
    np.testing.assert_allclose(ev(J, {x: xv})[0], want)


def test_jacobian_with_respect_to_several_variables_and_a_matrix():
    W, x = dmatrix("W"), dvector("x")
    y = tt.dot(W, x)
    jW, jx = jacobian(y, [W, x])
    Wv, xv = RNG.randn(2, 3), RNG.randn(3)
    got_W, got_x = ev([jW, jx], {W: Wv, x: xv})
    np.testing.assert_allclose(got_x, Wv)
    want_W = np.zeros((2, 2, 3))
    for i in range(2):
        want_W[i, i] = xv
    np.testing.assert_allclose(got_W, want_W)
    assert got_W.shape == (2, 2, 3)


def test_jacobian_reads_shared_variables_and_intermediate_wrt():
    w = shared(np.array([1.0, 2.0, 3.0]), name="w")
    x = dvector("x")
    h = x * w
    J = jacobian(h ** 2, h)
    xv = np.array([1.0, -1.0, 0.5])
    np.testing.assert_allclose(ev(J, {x: xv})[0], np.diag(2 * xv * w.get_value()))
    w.set_value(np.ones(3))
    np.testing.assert_allclose(ev(J, {x: xv})[0], np.diag(2 * xv))


def test_jacobian_of_an_empty_vector():
    x = dvector("x")
    J = jacobian(x * 2, x)
    assert ev(J, {x: np.zeros(0)})[0].shape == (0, 0)


def test_jacobian_of_a_scalar_is_the_gradient_and_bad_inputs_are_refused():
    x = dvector("x")
    g = jacobian((x ** 2).sum(), x)
    np.testing.assert_allclose(ev(g, {x: np.arange(3.0)})[0], 2 * np.arange(3.0))
    with pytest.raises(ValueError, match=r"scalar or a vector.*2 dimensions"):
        jacobian(dmatrix("m") * 2, x)
    with pytest.raises(DisconnectedInputError):
        jacobian(x * 2, dvector("y"))
    jy = jacobian(x * 2, [x, dvector("y")], disconnected_inputs="ignore")[1]
    assert ev(jy, {x: np.ones(2), jy.owner.inputs[2]: np.ones(5)})[0].shape == (2, 5)


def test_jacobian_keeps_float32_and_infers_shape():
    x = fvector("x")
    J = jacobian(tt.tanh(x), x)
    assert J.type.dtype == "float32"
    node = J.owner
    shapes = node.op.infer_shape(node, [(7,), (5,)])
    assert shapes == [(7, 5)]


def test_hessian_matches_numpy():
    x = dvector("x")
    A = RNG.randn(3, 3)
    cost = (x ** 3).sum() + tt.dot(x, tt.dot(A, x))
    H = hessian(cost, x)
    xv = RNG.randn(3)
    np.testing.assert_allclose(ev(H, {x: xv})[0], np.diag(6 * xv) + A + A.T, atol=1e-12)


def test_hessian_blocks_for_a_list_and_linear_costs():
    a, b = dvector("a"), dvector("b")
    cost = (a ** 2).sum() * 0.5 + (b * 3.0).sum()
    Ha, Hb = hessian(cost, [a, b])
    got = ev([Ha, Hb], {a: np.ones(2), b: np.ones(3)})
    np.testing.assert_allclose(got[0], np.eye(2))
    np.testing.assert_allclose(got[1], np.zeros((3, 3)))


def test_hessian_argument_checks():
    x = dvector("x")
    with pytest.raises(TypeError, match="cost must be a scalar"):
        hessian(x * 2, x)
    with pytest.raises(TypeError, match=r"wrt\[0\] must be a vector"):
        hessian((x ** 2).sum(), dscalar("s"))


def test_jacobian_cannot_be_differentiated_again():
    x = dvector("x")
    J = jacobian(x ** 2, x)
    with pytest.raises(Exception, match="jacobian or hessian again is not supported"):
        grad(J.sum(), x)


def test_r_op_must_return_one_entry_per_output():
    class BadROp(Cube):
        def R_op(self, inputs, eval_points):
            return []

    x, v = dvector("x"), dvector("v")
    with pytest.raises(ValueError, match="R_op must return one entry per output"):
        Rop(BadROp()(x), x, v)


@config.change_flags(compute_test_value="raise")
def test_placeholders_get_test_values_when_test_values_are_on():
    x, v = dvector("x"), dvector("v")
    x.tag.test_value = np.array([1.0, 2.0])
    v.tag.test_value = np.ones(2)
    J = jacobian(tt.exp(x), x)
    np.testing.assert_allclose(J.tag.test_value, np.diag(np.exp([1.0, 2.0])))
    r = Rop(Cube()(x), x, v)
    np.testing.assert_allclose(r.tag.test_value, 3 * np.array([1.0, 4.0]))

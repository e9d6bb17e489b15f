"""Elemwise and DimShuffle: construction, broadcasting rules, run-time checks, in-place, the
Op contract (eq/hash/str/pickle), infer_shape, and the constant-value finders."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from elemwise_testtools import run

import tgraph.scalar as scal
from tgraph.graph import Constant
from tgraph.tensor import basic as tb
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import DimShuffle, Elemwise, frozendict
from tgraph.tensor.scalar_conv import (
    ScalarFromTensor,
    TensorFromScalar,
    scalar_from_tensor,
    tensor_from_scalar,
)
from tgraph.tensor.type import TensorType


def tt(dtype="float64", bcast=(False, False), name=None):
    return TensorType(dtype, bcast)(name)


# ---------------------------------------------------------------------------------------------
# Elemwise construction


def test_make_node_pads_lower_ndim_inputs_on_the_left():
    x, v = tt(name="x"), tt(bcast=(False,), name="v")
    z = tm.add(x, v)
    padded = z.owner.inputs[1]
    assert isinstance(padded.owner.op, DimShuffle)
    assert padded.owner.op.new_order == ("x", 0)
    assert z.type == TensorType("float64", (False, False))


def test_output_broadcastable_is_and_over_inputs():
    row, col = tt(bcast=(True, False)), tt(bcast=(False, True))
    assert tm.mul(row, col).type.broadcastable == (False, False)
    assert tm.mul(row, tt(bcast=(True, True))).type.broadcastable == (True, False)


def test_python_numbers_and_arrays_become_constants():
    x = tt("float32")
    z = tm.add(x, 2.0)
    assert z.type.dtype == "float32"
    assert isinstance(z.owner.inputs[1].owner.inputs[0], Constant)
    w = tm.mul(np.ones((2, 3)), x)
    assert w.type.dtype == "float64"


def test_non_tensor_operands_raise_astensorerror_and_operators_return_notimplemented():
    x = tt()
    with pytest.raises(tb.AsTensorError):
        tm.add(x, object())
    assert x.__add__(object()) is NotImplemented
    with pytest.raises(TypeError):
        x + "abc"


def test_wrong_number_of_inputs_names_the_op():
    with pytest.raises(TypeError, match=r"Elemwise\{sub,no_inplace\}: expected 2 input"):
        tm.sub(tt(), tt(), tt())


def test_refused_dtypes_name_the_op_and_types():
    with pytest.raises(TypeError, match=r"Elemwise\{and_,no_inplace\}.*float64"):
        tm.and_(tt(), tt())


def test_constant_inputs_with_incompatible_shapes_fail_at_build_time():
    with pytest.raises(ValueError, match="input dimension mismatch"):
        tm.add(np.ones(3), np.ones(4))


# ---------------------------------------------------------------------------------------------
# Running


def test_runtime_mismatch_message_names_op_and_shapes():
    x, y = tt(name="x"), tt(name="y")
    z = tm.add(x, y)
    with pytest.raises(ValueError, match=r"Elemwise\{add,no_inplace\}: input dimension "
                                         r"mismatch: input 0 has shape \(3, 4\), input 1 has "
                                         r"shape \(5, 4\)"):
        run(z, {x: np.ones((3, 4)), y: np.ones((5, 4))})


def test_size_one_dimension_not_declared_broadcastable_is_an_error():
    # Theano 1.0's C semantics: only declared-broadcastable dimensions broadcast.
    x, y = tt(name="x"), tt(name="y")
    with pytest.raises(ValueError, match="not declared broadcastable"):
        run(tm.add(x, y), {x: np.ones((3, 4)), y: np.ones((1, 4))})


def test_declared_broadcastable_dimension_broadcasts():
    x, r = tt(name="x"), tt(bcast=(True, False), name="r")
    out = run(tm.add(x, r), {x: np.ones((3, 4)), r: np.arange(4.0)[None]})
    np.testing.assert_array_equal(out, np.ones((3, 4)) + np.arange(4.0))


def test_zero_size_inputs():
    x, r = tt(name="x"), tt(bcast=(True, False), name="r")
    out = run(tm.mul(x, r), {x: np.ones((0, 4)), r: np.ones((1, 4))})
    assert out.shape == (0, 4)
    assert run(tm.exp(x), {x: np.ones((3, 0))}).shape == (3, 0)
    y = tt(name="y")
    with pytest.raises(ValueError, match="mismatch"):
        run(tm.add(x, y), {x: np.ones((0, 4)), y: np.ones((2, 4))})


def test_non_contiguous_inputs():
    x, y = tt(name="x"), tt(name="y")
    a = np.arange(24.0).reshape(4, 6)
    xv, yv = a[:, ::2], np.asfortranarray(np.arange(12.0).reshape(4, 3))
    np.testing.assert_array_equal(run(tm.sub(x, y), {x: xv, y: yv}), xv - yv)
    np.testing.assert_allclose(run(tm.exp(x), {x: a.T}), np.exp(a.T))


@pytest.mark.op_semantics
def test_output_never_aliases_an_input():
    x = tt(name="x")
    xv = np.arange(6.0).reshape(2, 3)
    out = run(tm.tensor_copy(x), {x: xv})
    assert not np.may_share_memory(out, xv)
    np.testing.assert_array_equal(out, xv)


def test_output_dtype_is_the_declared_one():
    x = tt("int8", name="x")
    out = run(tm.exp(x), {x: np.array([[1, 2]], dtype="int8")})
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.exp(np.array([[1.0, 2.0]])), rtol=1e-6)


def test_multiple_dims_and_scalars():
    s, x = tt(bcast=(), name="s"), TensorType("float64", (False,) * 3)("x")
    xv = np.random.default_rng(0).normal(size=(2, 3, 4))
    out = run(tm.mul(s, x), {s: np.asarray(2.0), x: xv})
    np.testing.assert_allclose(out, 2.0 * xv)


# ---------------------------------------------------------------------------------------------
# In place


def test_inplace_pattern_writes_into_the_input():
    op = Elemwise(scal.add, {0: 0})
    assert op.destroy_map == {0: [0]}
    x, y = tt(name="x"), tt(name="y")
    z = op(x, y)
    xv, yv = np.ones((2, 2)), np.full((2, 2), 2.0)
    out = run(z, {x: xv, y: yv})
    assert out is xv and np.all(xv == 3.0)
    assert str(op) == "Elemwise{add}[(0, 0)]"


def test_inplace_refuses_a_broadcast_input_or_another_dtype():
    op = Elemwise(scal.add, {0: 0})
    with pytest.raises(ValueError, match="cannot be computed in place"):
        op(tt(bcast=(True, False)), tt())
    with pytest.raises(TypeError, match="in place in input 0 of dtype int32"):
        op(tt("int32"), tt("float64"))


# ---------------------------------------------------------------------------------------------
# Op contract


def test_equality_ignores_the_name_and_uses_props():
    assert Elemwise(scal.add) == tm.add
    assert hash(Elemwise(scal.add)) == hash(tm.add)
    assert Elemwise(scal.add) != Elemwise(scal.mul)
    assert Elemwise(scal.add, {0: 0}) != Elemwise(scal.add)
    assert Elemwise(scal.add, {0: 0}) == Elemwise(scal.add, {0: 0})


def test_str_matches_theano():
    assert str(tm.add) == "Elemwise{add,no_inplace}"
    assert str(tm.exp) == "Elemwise{exp,no_inplace}"
    assert str(Elemwise(scal.add)) == "Elemwise{add}"
    assert str(tm.tensor_copy) == "Elemwise{identity}"
    assert str(tm.cast(tt(), "float32").owner.op) == "Elemwise{Cast{float32}}"
    assert str(tm.sigmoid) == "sigmoid"


def test_pickle_roundtrip():
    for op in (tm.add, Elemwise(scal.mul, {0: 1}), DimShuffle((False, True), [0])):
        back = pickle.loads(pickle.dumps(op))
        assert back == op and hash(back) == hash(op) and str(back) == str(op)
    assert isinstance(pickle.loads(pickle.dumps(Elemwise(scal.add, {0: 0}))).inplace_pattern,
                      frozendict)


def test_frozendict_is_immutable():
    d = frozendict({0: 1})
    with pytest.raises(TypeError):
        d[1] = 2
    assert hash(d) == hash(frozendict({0: 1}))


def test_infer_shape_uses_non_broadcastable_inputs():
    x, r = tt(name="x"), tt(bcast=(True, False), name="r")
    z = tm.add(r, x)
    shapes = z.owner.op.infer_shape(z.owner, [("r0", "r1"), ("x0", "x1")])
    assert shapes == [("x0", "r1")]
    c = tm.add(r, tt(bcast=(True, True)))
    assert c.owner.op.infer_shape(c.owner, [("a", "b"), ("c", "d")]) == [(1, "b")]


def test_connection_pattern_comes_from_the_scalar_op():
    x, y = tt(), tt()
    node = Elemwise(scal.second)(x, y).owner
    assert node.op.connection_pattern(node) == [[False], [True]]
    node = tm.add(x, y).owner
    assert node.op.connection_pattern(node) == [[True], [True]]


def test_r_op_is_the_directional_derivative():
    x, y = tt(name="x"), tt(name="y")
    ex, ey = tt(name="ex"), tt(name="ey")
    z = tm.mul(x, y)
    (r,) = z.owner.op.R_op([x, y], [ex, ey])
    rng = np.random.default_rng(1)
    vals = {v: rng.normal(size=(2, 3)) for v in (x, y, ex, ey)}
    expected = vals[ex] * vals[y] + vals[x] * vals[ey]
    np.testing.assert_allclose(run(r, vals), expected)


# ---------------------------------------------------------------------------------------------
# DimShuffle


@pytest.mark.parametrize(
    ("bcast", "order", "shape", "out_shape", "out_bcast"),
    [
        ((False, False), (1, 0), (2, 3), (3, 2), (False, False)),
        ((False,), ("x", 0), (3,), (1, 3), (True, False)),
        ((False,), (0, "x"), (3,), (3, 1), (False, True)),
        ((), ("x", "x"), (), (1, 1), (True, True)),
        ((True, False), (1,), (1, 4), (4,), (False,)),
        ((False, False, False), ("x", 2, "x", 0, 1), (2, 3, 4), (1, 4, 1, 2, 3),
         (True, False, True, False, False)),
        ((True,), (), (1,), (), ()),
    ],
    ids=["transpose", "row", "col", "scalar-up", "drop", "theano-doc", "to-0d"],
)
def test_dimshuffle_patterns(bcast, order, shape, out_shape, out_bcast):
    x = TensorType("float64", bcast)("x")
    y = x.dimshuffle(*order)
    assert y.type.broadcastable == out_bcast
    xv = np.arange(int(np.prod(shape)), dtype="float64").reshape(shape)
    out = run(y, {x: xv})
    assert out.shape == out_shape and isinstance(out, np.ndarray)
    assert np.may_share_memory(out, xv) or out.size == 0 or xv.size == 1
    expected = np.transpose(xv, [j for j in order if j != "x"] +
                            [i for i in range(len(bcast)) if i not in order])
    np.testing.assert_array_equal(out.ravel(), expected.ravel())
    assert y.owner.op.infer_shape(y.owner, [shape]) == [out_shape]


def test_dimshuffle_str_and_view_map():
    op = DimShuffle((False, False), [1, 0])
    assert str(op) == "InplaceDimShuffle{1,0}" and op.view_map == {0: [0]}
    assert str(DimShuffle((False,), ["x", 0])) == "InplaceDimShuffle{x,0}"
    cp = DimShuffle((False, False), [1, 0], inplace=False)
    assert str(cp) == "DimShuffle{1,0}" and cp.view_map == {}
    x = tt(name="x")
    xv = np.ones((2, 3))
    assert not np.may_share_memory(run(cp(x), {x: xv}), xv)


def test_dimshuffle_errors():
    with pytest.raises(ValueError, match="cannot drop dimension 0: it is not broadcastable"):
        DimShuffle((False, False), [1])
    with pytest.raises(ValueError, match=r"new_order\[0\] is 2, but the input has only 2"):
        DimShuffle((False, False), [2, 0, 1])
    with pytest.raises(ValueError, match="appears twice"):
        DimShuffle((False, False), [0, 0, 1])
    with pytest.raises(TypeError, match="expected 'x' or a Python int"):
        DimShuffle((False,), [0.0])
    with pytest.raises(TypeError, match=r"has 3 dimension\(s\)"):
        DimShuffle((False, False), [1, 0])(TensorType("float64", (False,) * 3)())
    with pytest.raises(TypeError, match="broadcastable pattern"):
        DimShuffle((True, False), [1])(tt())


def test_dimshuffle_grad_transposes_back_and_drops_added_dims():
    x = TensorType("float64", (False, True, False))("x")
    y = x.dimshuffle(2, "x", 0)
    gz = TensorType("float64", y.type.broadcastable)("gz")
    (g,) = y.owner.op.grad([x], [gz])
    assert g.type.broadcastable == (False, True, False)
    gv = np.arange(6.0).reshape(3, 1, 2)
    np.testing.assert_array_equal(run(g, {gz: gv}), gv.reshape(3, 2).T[:, None, :])


def test_dimshuffle_grad_of_integers_is_float_zeros():
    x = tt("int32", name="x")
    y = x.dimshuffle(1, 0)
    (g,) = y.owner.op.grad([x], [tt("float64")])
    assert g.type.dtype == "float64"
    np.testing.assert_array_equal(run(g, {x: np.ones((2, 3), "int32")}), np.zeros((2, 3)))


def test_dimshuffle_eq_hash_pickle():
    a, b = DimShuffle((False, True), [0]), DimShuffle([False, True], (0,))
    assert a == b and hash(a) == hash(b)
    assert a != DimShuffle((False, True), [0], inplace=False)
    assert pickle.loads(pickle.dumps(a)) == a


# ---------------------------------------------------------------------------------------------
# Constants through casts, dimshuffles, scalar conversions


def test_get_scalar_constant_value_sees_through_our_ops():
    c = tb.constant(3.0)
    assert tb.get_scalar_constant_value(tm.cast(c, "int32")) == 3
    assert tb.get_scalar_constant_value(c.dimshuffle("x", "x")) == 3.0
    assert tb.get_scalar_constant_value(tm.tensor_copy(c)) == 3.0
    assert tb.get_scalar_constant_value(tm.add(c, 2)) == 5.0
    assert tb.get_scalar_constant_value(Elemwise(scal.second)(tt(), c)) == 3.0
    assert tb.get_scalar_constant_value(tensor_from_scalar(scalar_from_tensor(c))) == 3.0
    with pytest.raises(tb.NotScalarConstantError):
        tb.get_scalar_constant_value(tm.exp(c))
    with pytest.raises(tb.NotScalarConstantError):
        tb.get_scalar_constant_value(tm.add(c, tt()))


def test_scalar_tensor_conversions():
    s = scal.get_scalar_type("float32")("s")
    t = tb.as_tensor_variable(s)
    assert isinstance(t.owner.op, TensorFromScalar) and t.type == TensorType("float32", ())
    out = run(t, {s: np.float32(1.5)})
    assert out.shape == () and out.dtype == np.float32
    back = scalar_from_tensor(t)
    assert isinstance(back.owner.op, ScalarFromTensor)
    assert run(back, {s: np.float32(1.5)}) == np.float32(1.5)
    assert scal.as_scalar(tt(bcast=())).owner.op == scalar_from_tensor
    with pytest.raises(TypeError, match="expected a 0-d tensor"):
        scalar_from_tensor(tt())
    with pytest.raises(TypeError, match="expected a scalar"):
        tensor_from_scalar(tt())
    (g,) = t.owner.op.grad([s], [tt("float32", ())])
    assert isinstance(g.owner.op, ScalarFromTensor)


# ---------------------------------------------------------------------------------------------
# Composite scalar ops, test values, values of the wrong rank


def test_elemwise_of_a_two_output_composite():
    a, b = scal.get_scalar_type("float64")("a"), scal.get_scalar_type("float64")("b")
    comp = scal.Composite([a, b], [scal.add(a, b), scal.mul(scal.exp(a), b)])
    x, r = tt(name="x"), tt(bcast=(True, False), name="r")
    s, p = Elemwise(comp)(x, r)
    assert s.type.broadcastable == (False, False)
    xv, rv = np.arange(6.0).reshape(2, 3) / 6, np.array([[1.0, 2.0, 3.0]])
    sv, pv = run([s, p], {x: xv, r: rv})
    np.testing.assert_allclose(sv, xv + rv)
    np.testing.assert_allclose(pv, np.exp(xv) * rv)
    assert s.owner.op.infer_shape(s.owner, [("a", "b"), (1, "b")]) == [("a", "b"), ("a", "b")]


def test_compute_test_value_reports_a_mismatch_where_the_graph_is_built():
    from tgraph import config
    from tgraph.graph.utils import TestValueError

    x, y = tt(name="x"), tt(name="y")
    x.tag.test_value = np.ones((2, 3))
    y.tag.test_value = np.ones((4, 3))
    with config.change_flags(compute_test_value="raise"):
        with pytest.raises(TestValueError, match="input dimension mismatch"):
            tm.add(x, y)
        y.tag.test_value = np.ones((2, 3))
        np.testing.assert_array_equal(tm.add(x, y).tag.test_value, np.full((2, 3), 2.0))


def test_perform_refuses_values_of_the_wrong_rank():
    x, y = tt(name="x"), tt(name="y")
    node = tm.add(x, y).owner
    with pytest.raises(ValueError, match=r"input 1 has 1 dimension\(s\) \(shape \(3,\)\), "
                                         r"expected 2"):
        node.op.perform(node, [np.ones((2, 3)), np.ones(3)], [[None]])


def test_gradient_engine_sums_over_broadcast_dimensions():
    gradient = pytest.importorskip("tgraph.gradient")
    m, r = tt(name="m"), tt(bcast=(True, False), name="r")
    g_r, g_m = gradient.grad(tm.sum(tm.mul(tm.add(m, r), m)), [r, m])
    assert g_r.type.broadcastable == (True, False)
    mv, rv = np.arange(6.0).reshape(2, 3), np.array([[1.0, 2.0, 3.0]])
    gr, gm = run([g_r, g_m], {m: mv, r: rv})
    np.testing.assert_allclose(gr, mv.sum(axis=0, keepdims=True))
    np.testing.assert_allclose(gm, 2 * mv + rv)

"""The reverse-mode engine (tgraph.gradient.grad) on small ops defined here.

The ops and the variable class below are self-contained (they do not use the tensor op
library), so these tests exercise only the engine: traversal, accumulation, connection
patterns, disconnected and undefined gradients, the op-contract checks and their messages.
"""

import sys

import numpy as np
import pytest

from tgraph import config
from tgraph.gradient import (
    DisconnectedInputError,
    DisconnectedType,
    NullType,
    NullTypeGradError,
    disconnected_type,
    format_as,
    grad,
    grad_not_implemented,
    grad_undefined,
)
from tgraph.graph.basic import Apply, Constant, Variable, equal_computations
from tgraph.graph.evaluate import evaluate
from tgraph.graph.op import Op
from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.type import TensorType

# ---------------------------------------------------------------------------------------------
# A miniature tensor type whose arithmetic uses the ops below


class MiniVar(Variable):
    def __add__(self, other):
        return Add()(self, other)

    def zeros_like(self, dtype=None):
        return Fill(0.0, dtype)(self)

    def ones_like(self, dtype=None):
        return Fill(1.0, dtype)(self)

    def astype(self, dtype):
        return Cast(dtype)(self)

    def copy(self):
        return Copy()(self)


class MiniConst(Constant):
    pass


class MiniType(TensorType):
    Variable = MiniVar
    Constant = MiniConst


def vec(name=None, dtype="float64"):
    return MiniType(dtype, (False,))(name)


def scal(name=None, dtype="float64"):
    return MiniType(dtype, ())(name)


class Add(Op):
    __props__ = ()

    def make_node(self, a, b):
        return Apply(self, [a, b], [a.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(inputs[0] + inputs[1], dtype=node.outputs[0].type.dtype)

    def grad(self, inputs, gout):
        return [gout[0], gout[0]]


class Mul(Op):
    __props__ = ()

    def make_node(self, a, b):
        return Apply(self, [a, b], [a.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] * inputs[1]

    def grad(self, inputs, gout):
        a, b = inputs
        return [Mul()(gout[0], b), Mul()(gout[0], a)]


class Scale(Op):
    __props__ = ("k",)

    def __init__(self, k):
        self.k = k

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(inputs[0] * self.k, dtype=node.outputs[0].type.dtype)

    def grad(self, inputs, gout):
        return [Scale(self.k)(gout[0])]


class Sum(Op):
    """vector -> scalar."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [MiniType(x.type.dtype, ())()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(inputs[0].sum(), dtype=node.outputs[0].type.dtype)

    def grad(self, inputs, gout):
        return [Broadcast()(inputs[0], gout[0])]


class Broadcast(Op):
    """(like, scalar) -> the scalar repeated in like's shape; no gradient to ``like``."""

    __props__ = ()

    def make_node(self, like, s):
        return Apply(self, [like, s], [like.type.clone(dtype=s.type.dtype)()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.full(inputs[0].shape, inputs[1], dtype=node.outputs[0].type.dtype)

    def connection_pattern(self, node):
        return [[False], [True]]

    def grad(self, inputs, gout):
        return [disconnected_type(), Sum()(gout[0])]


class Fill(Op):
    __props__ = ("value", "dtype")

    def __init__(self, value, dtype=None):
        self.value = value
        self.dtype = dtype

    def make_node(self, like):
        return Apply(self, [like], [like.type.clone(dtype=self.dtype or like.type.dtype)()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.full(np.shape(inputs[0]), self.value, dtype=node.outputs[0].type.dtype)

    def connection_pattern(self, node):
        return [[False]]

    def grad(self, inputs, gout):
        return [disconnected_type()]


class Cast(Op):
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtype

    def make_node(self, x):
        return Apply(self, [x], [x.type.clone(dtype=self.dtype)()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(inputs[0], dtype=self.dtype)

    def grad(self, inputs, gout):
        (x,) = inputs
        if np.dtype(self.dtype).kind != "f" or np.dtype(x.type.dtype).kind != "f":
            return [x.zeros_like(dtype="float64")]
        return [Cast(x.type.dtype)(gout[0])]


class Copy(Op):
    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0].copy()

    def grad(self, inputs, gout):
        return list(gout)


class TwoScales(Op):
    """x -> (2 x, 3 x)."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type(), x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] * 2
        out[1][0] = inputs[0] * 3

    def grad(self, inputs, gout):
        self.seen = [type(g.type) for g in gout]
        terms = [Scale(k)(g) for k, g in zip((2, 3), gout)
                 if not isinstance(g.type, DisconnectedType)]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]


class Opaque(Op):
    """An identity with a configurable (mis)behaving gradient."""

    __props__ = ("mode",)

    def __init__(self, mode):
        self.mode = mode

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0]

    def connection_pattern(self, node):
        if self.mode == "bad_pattern":
            return [[True, True]]
        raise MethodNotDefined("connection_pattern")

    def grad(self, inputs, gout):
        (x,) = inputs
        return {
            "none": lambda: [None],
            "count": lambda: [],
            "int": lambda: [Cast("int64")(gout[0])],
            "undefined": lambda: [grad_undefined(self, 0, x, "on purpose")],
            "not_implemented": lambda: [grad_not_implemented(self, 0, x)],
            "bad_pattern": lambda: [gout[0]],
            "disconnected": lambda: [disconnected_type()],
            "not_variable": lambda: [np.ones(3)],
            "missing": lambda: (_ for _ in ()).throw(MethodNotDefined("no grad here")),
        }[self.mode]()


def run(var, inputs):
    return evaluate([var], inputs)[0]


X = np.array([1.0, -2.0, 3.0])

# ---------------------------------------------------------------------------------------------
# Basic differentiation


def test_chain_rule_through_products():
    x = vec("x")
    cost = Sum()(Mul()(x, x))
    g = grad(cost, x)
    np.testing.assert_allclose(run(g, {x: X}), 2 * X)


def test_terms_from_several_clients_are_summed():
    x = vec("x")
    cost = Sum()(Mul()(x, Scale(3.0)(x)))
    np.testing.assert_allclose(run(grad(cost, x), {x: X}), 6 * X)


@pytest.mark.parametrize("structure", [list, tuple])
def test_result_has_the_structure_of_wrt(structure):
    x, y = vec("x"), vec("y")
    cost = Sum()(Mul()(x, y))
    gs = grad(cost, structure([x, y]))
    assert isinstance(gs, structure) and len(gs) == 2
    np.testing.assert_allclose(run(gs[0], {x: X, y: 2 * X}), 2 * X)
    assert isinstance(grad(cost, x), Variable)


def test_gradient_of_the_cost_itself_is_one():
    c = scal("c")
    g = grad(c, c)
    assert isinstance(g, Constant) and g.type == c.type and float(g.data) == 1.0


def test_integer_cost_starts_from_float_ones():
    x = vec("x")
    cost = Sum()(Cast("int64")(x))
    g = grad(cost, x)
    assert g.type.dtype == "float64"
    np.testing.assert_allclose(run(g, {x: X}), 0)


def test_names_are_added_when_cost_and_wrt_are_named():
    x = vec("x")
    cost = Sum()(Mul()(x, x))
    cost.name = "c"
    assert grad(cost, x).name == "(dc/dx)"
    assert grad(cost, x, add_names=False).name is None


def test_same_graph_gives_the_same_gradient_graph():
    x, y = vec("x"), vec("y")
    cost = Sum()(Mul()(Mul()(x, y), Scale(2.0)(x)))
    g1 = grad(cost, [x, y])
    g2 = grad(cost, [x, y])
    assert equal_computations(g1, g2)


@config.change_flags({"traceback.limit": 0})
def test_deep_graphs_do_not_hit_the_recursion_limit():
    depth = 2 * sys.getrecursionlimit()
    x = vec("x")
    h = x
    for _ in range(depth):
        h = Scale(1.0001)(h)
    g = grad(Sum()(h), x)
    np.testing.assert_allclose(run(g, {x: X}), np.full(3, 1.0001 ** depth))


def test_float_output_gradients_are_cast_to_the_output_dtype():
    x = vec("x", "float32")
    cost = Sum()(Cast("float64")(x))
    g = grad(cost, x)
    assert g.type.dtype == "float32"
    np.testing.assert_allclose(run(g, {x: X.astype("float32")}), 1)


def test_destroyed_inputs_are_copied_for_the_gradient():
    class Destroy(Scale):
        destroy_map = {0: [0]}

        def grad(self, inputs, gout):
            Destroy.received = inputs[0]
            return super().grad(inputs, gout)

    x = vec("x")
    h = Scale(1.0)(x)
    grad(Sum()(Destroy(2.0)(h)), x)
    assert Destroy.received is not h
    assert isinstance(Destroy.received.owner.op, Copy)


# ---------------------------------------------------------------------------------------------
# Arguments


def test_cost_must_be_a_scalar():
    x = vec("x")
    with pytest.raises(TypeError, match="cost must be a scalar"):
        grad(Mul()(x, x), x)


def test_wrt_must_be_variables_in_a_list():
    x = vec("x")
    cost = Sum()(x)
    with pytest.raises(TypeError, match="not a set"):
        grad(cost, {x})
    with pytest.raises(TypeError, match=r"wrt\[1\] must be a symbolic Variable"):
        grad(cost, [x, np.ones(3)])


def test_undefined_cost_is_refused():
    with pytest.raises(ValueError, match="undefined cost"):
        grad(NullType("because")(), vec())


def test_cost_or_known_grads_required():
    with pytest.raises(ValueError, match="cannot both be None"):
        grad(None, vec())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"disconnected_inputs": "maybe"}, "disconnected_inputs"),
        ({"return_disconnected": "zeros"}, "return_disconnected"),
        ({"null_gradients": "skip"}, "null_gradients"),
    ],
)
def test_invalid_option_values_are_refused(kwargs, match):
    x = vec("x")
    with pytest.raises(ValueError, match=match):
        grad(Sum()(x), x, **kwargs)


# ---------------------------------------------------------------------------------------------
# Disconnected inputs


def test_disconnected_input_raises_by_default_naming_it():
    a, b = vec("a"), vec("b")
    cost = Sum()(a)
    with pytest.raises(DisconnectedInputError, match=r"does not depend on input 1 'b'.*"
                                                     r"disconnected_inputs='ignore'"):
        grad(cost, [a, b])


def test_disconnected_input_warns_or_is_ignored():
    a, b = vec("a"), vec("b")
    cost = Sum()(a)
    with pytest.warns(UserWarning, match="does not depend on input 1"):
        ga, gb = grad(cost, [a, b], disconnected_inputs="warn")
    ga, gb = grad(cost, [a, b], disconnected_inputs="ignore")
    np.testing.assert_array_equal(run(gb, {b: X}), np.zeros(3))
    assert gb.type == b.type


@pytest.mark.parametrize("mode", ["None", "none"])
def test_return_disconnected_none(mode):
    a, b = vec("a"), vec("b")
    assert grad(Sum()(a), [a, b], disconnected_inputs="ignore",
                return_disconnected=mode)[1] is None


def test_return_disconnected_placeholder():
    a, b = vec("a"), vec("b")
    gb = grad(Sum()(a), [a, b], disconnected_inputs="ignore",
              return_disconnected="Disconnected")[1]
    assert isinstance(gb.type, DisconnectedType)


def test_integer_wrt_gets_float_zeros_when_disconnected():
    a, n = vec("a"), vec("n", "int32")
    gn = grad(Sum()(a), [a, n], disconnected_inputs="ignore")[1]
    assert gn.type.dtype == "float64"


def test_connection_pattern_is_respected():
    like, s = vec("like"), scal("s")
    cost = Sum()(Broadcast()(like, s))
    with pytest.raises(DisconnectedInputError, match="input 0 'like'"):
        grad(cost, [like, s])
    gs = grad(cost, s)
    assert float(run(gs, {like: X, s: np.asarray(1.0)})) == 3.0


def test_unused_outputs_of_a_multi_output_op_get_disconnected_gradients():
    x = vec("x")
    op = TwoScales()
    two_x, _ = op(x)
    g = grad(Sum()(two_x), x)
    assert op.seen == [MiniType, DisconnectedType]
    np.testing.assert_allclose(run(g, {x: X}), 2)


def test_consider_constant_stops_differentiation():
    x = vec("x")
    h = Scale(2.0)(x)
    cost = Sum()(Mul()(x, h))
    np.testing.assert_allclose(run(grad(cost, x), {x: X}), 4 * X)
    np.testing.assert_allclose(run(grad(cost, x, consider_constant=[h]), {x: X}), 2 * X)


def test_consider_constant_must_be_a_list_of_variables():
    x = vec("x")
    with pytest.raises(TypeError, match="wrap it in a list"):
        grad(Sum()(x), x, consider_constant=x)
    with pytest.raises(TypeError, match=r"consider_constant\[0\] must be a Variable"):
        grad(Sum()(x), x, consider_constant=[3])


# ---------------------------------------------------------------------------------------------
# known_grads


def test_known_grads_without_cost():
    x = vec("x")
    h = Mul()(x, x)
    gh = vec("gh")
    g = grad(None, x, known_grads={h: gh})
    np.testing.assert_allclose(run(g, {x: X, gh: np.ones(3)}), 2 * X)


def test_known_grads_replace_the_contribution_of_the_cost():
    x = vec("x")
    h = Scale(5.0)(x)
    cost = Sum()(h)
    gh = vec("gh")
    g = grad(cost, x, known_grads={h: gh})
    np.testing.assert_allclose(run(g, {x: X, gh: np.ones(3)}), 5.0)


def test_known_grads_stop_the_sweep_before_ops_without_gradients():
    x = vec("x")
    h = Scale(2.0)(x)
    cost = Sum()(Opaque("missing")(h))
    g = grad(cost, x, known_grads={h: Fill(1.0)(x)})
    np.testing.assert_allclose(run(g, {x: X}), 2.0)


def test_known_grads_must_be_float_variables():
    x = vec("x")
    with pytest.raises(TypeError, match="must be a symbolic Variable"):
        grad(None, x, known_grads={x: np.ones(3)})
    with pytest.raises(TypeError, match="float tensor"):
        grad(None, x, known_grads={x: vec("g", "int64")})
    with pytest.raises(TypeError, match="must be a dict"):
        grad(None, x, known_grads=[(x, vec())])


# ---------------------------------------------------------------------------------------------
# Undefined gradients and op-contract violations


def test_undefined_gradient_raises_with_the_reason():
    x = vec("x")
    cost = Sum()(Opaque("undefined")(x))
    with pytest.raises(NullTypeGradError, match=r"mathematically undefined\. on purpose"):
        grad(cost, x)
    g = grad(cost, x, null_gradients="return")
    assert isinstance(g.type, NullType)


def test_not_implemented_gradient_message():
    x = vec("x")
    with pytest.raises(NullTypeGradError, match="is not implemented"):
        grad(Sum()(Opaque("not_implemented")(x)), x)


def test_undefined_gradient_on_another_branch_does_not_matter():
    x, y = vec("x"), vec("y")
    cost = Sum()(Add()(Opaque("undefined")(x), Mul()(y, y)))
    np.testing.assert_allclose(run(grad(cost, y), {x: X, y: X}), 2 * X)


def test_null_gradients_propagate_through_later_ops():
    x = vec("x")
    cost = Sum()(Scale(2.0)(Opaque("undefined")(Scale(3.0)(x))))
    with pytest.raises(NullTypeGradError):
        grad(cost, x)


def test_missing_grad_method_names_the_op():
    x = vec("x")
    with pytest.raises(MethodNotDefined, match=r"Opaque\{missing\} does not implement grad"):
        grad(Sum()(Opaque("missing")(x)), x)


@pytest.mark.parametrize(
    ("mode", "error", "match"),
    [
        ("none", TypeError, r"returned None for input 0"),
        ("count", ValueError, r"returned 0 gradient terms for 1 inputs"),
        ("int", TypeError, r"integer-valued variable for input 0 \(dtype int64\)"),
        ("bad_pattern", TypeError, r"row 0 must be a list of 1 booleans"),
        ("not_variable", TypeError, r"returned ndarray for input 0"),
    ],
)
def test_op_contract_violations_are_reported(mode, error, match):
    x = vec("x")
    y = Scale(1.0)(x)
    cost = Sum()(Opaque(mode)(y))
    with pytest.raises(error, match=match):
        grad(cost, x)


def test_disconnected_gradient_from_a_connected_input_warns():
    x = vec("x")
    with pytest.warns(UserWarning, match="returned DisconnectedType for input 0"):
        grad(Sum()(Opaque("disconnected")(x)), x, disconnected_inputs="ignore")


def test_nonzero_gradient_through_integer_outputs_is_refused():
    class IntOut(Op):
        __props__ = ()

        def make_node(self, x):
            return Apply(self, [x], [x.type.clone(dtype="int64")()])

        def perform(self, node, inputs, out, params=None):
            out[0][0] = inputs[0].astype("int64")

        def grad(self, inputs, gout):
            return [MiniType("float64", (False,)).make_constant(np.ones(3))]

    x = vec("x")
    with pytest.raises(ValueError, match="only through integer-valued outputs"):
        grad(Sum()(Cast("float64")(IntOut()(x))), x)


def test_gradient_on_an_input_the_pattern_disconnects_is_refused():
    class Lying(Add):
        def connection_pattern(self, node):
            return [[True], [False]]

    x, y = vec("x"), vec("y")
    with pytest.raises(TypeError, match="input 1, which its connection_pattern says is "
                                        "disconnected"):
        grad(Sum()(Lying()(x, y)), x)


def test_disconnected_input_is_reported_before_any_op_gradient_is_built():
    x, y = vec("x"), vec("y")
    cost = Sum()(Opaque("missing")(x))
    with pytest.raises(DisconnectedInputError, match="input 1 'y'"):
        grad(cost, [x, y])


def test_unnamed_inputs_are_described_by_type():
    x = vec()
    with pytest.raises(DisconnectedInputError, match=r"input 0 \(unnamed TensorType"):
        grad(Sum()(vec("other")), x)


@pytest.mark.parametrize(
    ("use_list", "use_tuple", "outputs", "expected"),
    [
        (True, False, 1, [1]),
        (False, True, [1, 2], (1, 2)),
        (False, False, [1], 1),
        (False, False, 1, 1),
        (True, False, (1, 2), [1, 2]),
    ],
)
def test_format_as(use_list, use_tuple, outputs, expected):
    assert format_as(use_list, use_tuple, outputs) == expected


def test_format_as_errors():
    with pytest.raises(ValueError, match="cannot both be true"):
        format_as(True, True, [1])
    with pytest.raises(ValueError, match="expected a single output, got 2"):
        format_as(False, False, [1, 2])

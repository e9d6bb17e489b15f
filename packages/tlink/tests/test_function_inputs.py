"""Arguments a compiled function refuses, and the messages that explain why.

Every check runs before any node does: a wrong argument never reaches an Op.
"""

from __future__ import annotations

import numpy as np
import pytest

from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.shared import shared
from tgraph.tensor.type import TensorType
from tlink import BadInputError, In, Mode, function

fmat = TensorType("float32", (False, False))
dvec = TensorType("float64", (False,))
dscal = TensorType("float64", ())
fscal = TensorType("float32", ())
irow = TensorType("int32", (True, False))
MODE = Mode("vm", None)


class Count(Op):
    """Sums its inputs' sizes; counts how often it ran (to prove checks come first)."""

    __props__ = ()
    runs = 0

    def make_node(self, *inputs):
        return Apply(self, list(inputs), [dscal()])

    def perform(self, node, inputs, out, params=None):
        Count.runs += 1
        out[0][0] = np.asarray(float(sum(np.size(i) for i in inputs)))


count = Count()


@pytest.fixture
def train():
    x, y = fmat("x"), dvec("y")
    return function([x, y], count(x, y), mode=MODE, name="train")


def test_float64_array_for_float32_input(train):
    before = Count.runs
    msg = (r'Bad input argument to theano function "train" at index 0 \(x\): expected a '
           r"float32 matrix, got a float64 ndarray of shape \(400, 784\)\. Cast it "
           r'\(x\.astype\("float32"\)\) or pass allow_input_downcast=True\. Details: ')
    with pytest.raises(BadInputError, match=msg):
        train(np.zeros((400, 784)), np.zeros(400))
    assert Count.runs == before


def test_bad_input_error_is_a_type_error(train):
    with pytest.raises(TypeError):
        train(np.zeros((2, 2)), np.zeros(2))


def test_wrong_number_of_dimensions(train):
    with pytest.raises(BadInputError, match=r"index 1 \(y\): expected a float64 vector, got a "
                       r"float64 ndarray of shape \(2, 2\)\. The input has 1 dimension"):
        train(np.zeros((2, 2), dtype="float32"), np.zeros((2, 2)))


def test_broadcastable_dimension_must_have_length_one():
    r = irow("r")
    f = function([r], count(r), mode=MODE, name="f")
    assert f(np.zeros((1, 4), dtype="int32")) == 4.0
    with pytest.raises(BadInputError, match=r"expected a int32 row .* Dimension 0 is "
                       r"broadcastable .* has length 3"):
        f(np.zeros((3, 4), dtype="int32"))


def test_missing_argument(train):
    with pytest.raises(TypeError, match=r"train\(\) takes 2 inputs, got 1: missing y"):
        train(np.zeros((1, 1), dtype="float32"))


def test_too_many_arguments(train):
    with pytest.raises(TypeError, match=r"train\(\) takes 2 inputs, got 3"):
        train(1, 2, 3)


def test_missing_with_defaults_counts_required():
    x, y = dvec("x"), dvec("y")
    f = function([x, In(y, value=np.zeros(1))], count(x, y), mode=MODE, name="g")
    with pytest.raises(TypeError, match=r"g\(\) takes 1 to 2 inputs, got 0: missing x"):
        f()


def test_multiple_values_and_unknown_keyword(train):
    a = np.zeros((1, 1), dtype="float32")
    with pytest.raises(TypeError, match="multiple values for input 'x'"):
        train(a, x=a, y=np.zeros(1))
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'z'.*Named inputs: x, y"):
        train(a, z=1)


def test_implicit_input_cannot_be_given():
    w = shared(np.zeros(1), name="w")
    f = function([], count(w), mode=MODE, name="h")
    with pytest.raises(TypeError, match="'w' is implicit"):
        f(w=np.ones(1))


def test_unnamed_function_label():
    x = dvec()
    f = function([x], count(x), mode=MODE, name="")
    with pytest.raises(TypeError, match=r"^theano function takes 1 input, got 0: missing"):
        f()
    g = function([x], count(x), mode=MODE, name="my fn")
    with pytest.raises(TypeError, match=r'^theano function "my fn" takes 1 input'):
        g()


def test_strict_input_refuses_conversion():
    x = dvec("x")
    f = function([In(x, strict=True)], count(x), mode=MODE, name="s")
    with pytest.raises(BadInputError, match=r"strict \(In\(strict=True\)\)"):
        f([1.0, 2.0])
    assert f(np.ones(2)) == 2.0


def test_safe_upcast_is_accepted():
    x = dvec("x")
    f = function([x], count(x), mode=MODE)
    assert f(np.ones(3, dtype="int32")) == 3.0
    assert f([1, 2]) == 2.0


@pytest.mark.parametrize("allow", [True, False, None], ids=["true", "false", "none"])
def test_allow_input_downcast(allow):
    x = fscal("x")
    f = function([x], count(x), mode=MODE, allow_input_downcast=allow, name="d")
    if allow:
        assert f(np.float64(0.1)) == 1.0
    else:
        with pytest.raises(BadInputError, match="allow_input_downcast=True"):
            f(np.float64(0.1))


def test_python_float_downcast_to_floatx_when_none():
    with config.change_flags(floatX="float32"):
        x = fscal("x")
        f = function([x], count(x), mode=MODE)
        assert f(0.1) == 1.0


def test_python_float_refused_when_false():
    x = fscal("x")
    f = function([x], count(x), mode=MODE, allow_input_downcast=False)
    with config.change_flags(floatX="float32"), pytest.raises(BadInputError):
        f(0.1)


def test_bad_default_value_is_reported_at_compile_time():
    x = dvec("x")
    with pytest.raises(BadInputError, match="Bad default value for the input"):
        function([In(x, value="abc")], count(x), mode=MODE)


def test_failed_call_restores_defaults():
    x, y = dvec("x"), dvec("y")
    f = function([x, In(y, value=np.array([1.0]))], count(x, y), mode=MODE)
    with pytest.raises(BadInputError):
        f(np.ones(1), np.zeros((2, 2)))
    np.testing.assert_array_equal(f["y"], [1.0])


def test_aliased_mutable_inputs_are_copied():
    x, y = dvec("x"), dvec("y")

    class AddInto(Op):
        __props__ = ()
        destroy_map = {0: [0]}

        def make_node(self, a, b):
            return Apply(self, [a, b], [a.type()])

        def perform(self, node, inputs, out, params=None):
            inputs[0] += inputs[1]
            out[0][0] = inputs[0]

    f = function([In(x, mutable=True), In(y, mutable=True)], AddInto()(x, y), mode=MODE,
                 accept_inplace=True)
    arg = np.ones(2)
    res = f(arg, arg)  # y gets a private copy, so x + y is computed from the original
    np.testing.assert_array_equal(res, [2.0, 2.0])


def test_none_is_checked_like_any_value():
    x = dvec("x")
    f = function([x], count(x), mode=MODE, name="n")
    with pytest.raises(BadInputError, match="got None"):
        f(None)

"""Shared variables, updates, default updates and givens in function().

What Theano 1.0 guarantees and these tests pin down: shared variables are implicit inputs
whose storage is the shared container (set_value is seen at the next call); every output
and update is computed from the values before the call, then the updates are written.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest

from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.shared import shared
from tgraph.tensor.type import TensorType
from tlink import Mode, function

dvec = TensorType("float64", (False,))
fvec = TensorType("float32", (False,))
drow = TensorType("float64", (True, False))
dmat = TensorType("float64", (False, False))
MODE = Mode("py", None)


class Add(Op):
    """x + y."""

    __props__ = ()

    def make_node(self, x, y):
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(inputs[0] + inputs[1])


class Neg(Op):
    """-x, keeping x's type (whatever it is)."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = -inputs[0]


add, neg = Add(), Neg()


def test_update_written_after_call():
    w = shared(np.zeros(2), name="w")
    x = dvec("x")
    f = function([x], w, updates=[(w, add(w, x))], mode=MODE)
    np.testing.assert_array_equal(f([1.0, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0])
    np.testing.assert_array_equal(f([1.0, 1.0]), [1.0, 2.0])
    np.testing.assert_array_equal(w.get_value(), [2.0, 3.0])


def test_set_value_is_seen_by_the_function():
    w = shared(np.zeros(2), name="w")
    f = function([], neg(w), mode=MODE)
    w.set_value(np.array([1.0, -4.0]))
    np.testing.assert_array_equal(f(), [-1.0, 4.0])


def test_updates_use_values_from_before_the_call():
    a = shared(np.array([1.0]), name="a")
    b = shared(np.array([2.0]), name="b")
    f = function([], [], updates=[(a, b), (b, a)], mode=MODE)
    f()
    assert a.get_value()[0] == 2.0 and b.get_value()[0] == 1.0
    f()
    assert a.get_value()[0] == 1.0 and b.get_value()[0] == 2.0


def test_outputs_see_values_before_updates():
    a = shared(np.array([1.0]), name="a")
    f = function([], [a, add(a, a)], updates=[(a, add(a, a))], mode=MODE)
    out_a, out_2a = f()
    assert out_a[0] == 1.0 and out_2a[0] == 2.0 and a.get_value()[0] == 2.0


def test_update_from_another_shared_does_not_alias():
    a = shared(np.array([1.0]), name="a")
    b = shared(np.array([5.0]), name="b")
    f = function([], [], updates=[(a, b)], mode=MODE)
    f()
    assert not np.shares_memory(a.get_value(borrow=True), b.get_value(borrow=True))


def test_updates_as_ordered_dict_and_plain_dict():
    a = shared(np.array([1.0]), name="a")
    b = shared(np.array([2.0]), name="b")
    function([], [], updates=OrderedDict([(a, neg(a)), (b, neg(b))]), mode=MODE)()
    assert a.get_value()[0] == -1.0 and b.get_value()[0] == -2.0
    function([], [], updates={a: neg(a)}, mode=MODE)()  # one entry: no warning
    with pytest.warns(UserWarning, match="plain dict with several entries") as rec:
        function([], [], updates={a: neg(a), b: neg(b)}, mode=MODE)
    assert rec[0].filename == __file__


def test_single_pair_not_in_a_list_is_an_error():
    a = shared(np.array([1.0]), name="a")
    with pytest.raises(ValueError, match=r"updates=\[\(w, new_w\)\]"):
        function([], [], updates=(a, neg(a)), mode=MODE)


def test_update_target_must_be_shared():
    x = dvec("x")
    with pytest.raises(TypeError, match="must be a shared variable"):
        function([x], [], updates=[(x, neg(x))], mode=MODE)


def test_two_updates_for_one_shared_is_an_error():
    a = shared(np.array([1.0]), name="a")
    with pytest.raises(ValueError, match="two update expressions"):
        function([], [], updates=[(a, neg(a)), (a, a)], mode=MODE)


def test_update_dtype_mismatch_names_everything():
    a = shared(np.array([1.0]), name="a")
    x = fvec("x")
    with pytest.raises(TypeError, match=r"a has type .*float64.*float32.*astype\('float64'\)"):
        function([x], [], updates=[(a, x)], mode=MODE)


def test_update_broadcastable_mismatch_suggests_unbroadcast():
    r = shared(np.ones((1, 3)), name="r")  # a (False, False) matrix
    x = drow("x")
    with pytest.raises(TypeError, match=r"unbroadcast.*patternbroadcast"):
        function([x], [], updates=[(r, x)], mode=MODE)


def test_update_with_a_constant_value():
    a = shared(np.array([1.0, 2.0]), name="a")
    function([], [], updates=[(a, np.zeros(2))], mode=MODE)()
    np.testing.assert_array_equal(a.get_value(), [0.0, 0.0])


# -- default updates ----------------------------------------------------------------------------


def _counter():
    c = shared(np.array([0.0]), name="c")
    c.default_update = add(c, shared(np.array([1.0]), name="one"))
    return c


def test_default_update_applied():
    c = _counter()
    f = function([], neg(c), mode=MODE)
    f()
    f()
    assert c.get_value()[0] == 2.0


def test_no_default_updates_true_and_list():
    c = _counter()
    function([], neg(c), mode=MODE, no_default_updates=True)()
    assert c.get_value()[0] == 0.0
    function([], neg(c), mode=MODE, no_default_updates=[c])()
    assert c.get_value()[0] == 0.0
    function([], neg(c), mode=MODE, no_default_updates=[])()
    assert c.get_value()[0] == 1.0
    with pytest.raises(TypeError, match="no_default_updates must be"):
        function([], neg(c), mode=MODE, no_default_updates="yes")


def test_explicit_update_wins_over_default_update():
    c = _counter()
    f = function([], [], updates=[(c, neg(c))], mode=MODE)
    c.set_value(np.array([3.0]))
    f()
    assert c.get_value()[0] == -3.0


def test_default_update_type_is_checked():
    c = shared(np.array([0.0]), name="c")
    c.default_update = fvec("f32")
    with pytest.raises(TypeError, match="same type as the shared variable"):
        function([], neg(c), mode=MODE)


# -- givens -------------------------------------------------------------------------------


def test_givens_replace_variables():
    x, y = dvec("x"), dvec("y")
    f = function([y], add(x, x), givens={x: neg(y)}, mode=MODE)
    np.testing.assert_array_equal(f([1.0, 2.0]), [-2.0, -4.0])
    g = function([y], add(x, x), givens=[(x, y)], mode=MODE)
    np.testing.assert_array_equal(g([1.0]), [2.0])


def test_givens_with_shared_data():
    x = dvec("x")
    data = shared(np.arange(3.0), name="data")
    f = function([], neg(x), givens=[(x, data)], mode=MODE)
    np.testing.assert_array_equal(f(), [-0.0, -1.0, -2.0])
    g = function([], neg(x), givens=[(x, np.ones(2))], mode=MODE)
    np.testing.assert_array_equal(g(), [-1.0, -1.0])


def test_givens_type_mismatch_is_clear():
    x, y = dvec("x"), fvec("y")
    with pytest.raises(TypeError, match=r"cannot replace x .*float64.* by y .*float32"):
        function([y], neg(x), givens={x: y}, mode=MODE)


def test_givens_rebuild_strict_false_changes_types():
    x, y = dvec("x"), fvec("y")
    f = function([y], neg(x), givens={x: y}, mode=MODE, rebuild_strict=False)
    assert f(np.ones(2, dtype="float32")).dtype == np.float32


def test_givens_replacing_an_input_is_an_error():
    x, y = dvec("x"), dvec("y")
    with pytest.raises(RuntimeError, match="is an input of the function"):
        function([x, y], neg(x), givens={x: y}, mode=MODE)


def test_givens_chain_is_an_error():
    a, b, y = dvec("a"), dvec("b"), dvec("y")
    with pytest.raises(ValueError, match="may not depend on a variable that is itself replaced"):
        function([y], add(a, b), givens=[(a, b), (b, neg(y))], mode=MODE)


def test_givens_keys_must_be_variables():
    x = dvec("x")
    with pytest.raises(TypeError, match="keys must be Variables"):
        function([x], neg(x), givens=[("x", x)], mode=MODE)


def test_user_graph_is_not_modified():
    x, y = dvec("x"), dvec("y")
    out = add(x, x)
    function([y], out, givens={x: y}, mode=MODE)
    assert out.owner.inputs == [x, x]


def test_shared_in_many_functions_share_one_value():
    w = shared(np.array([1.0]), name="w")
    inc = function([], [], updates=[(w, add(w, w))], mode=MODE)
    read = function([], neg(w), mode=Mode("vm", None))
    inc()
    inc()
    assert read()[0] == -4.0

"""function(): inputs, outputs in every shape, In/Out options, the Function object's API.

The graphs use tiny Ops defined here, so these tests depend only on the IR, TensorType and
shared variables; NumPy computes the expected values.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.shared import shared
from tgraph.tensor.basic import constant
from tgraph.tensor.type import TensorType
from tlink import (
    DeepCopyOp,
    FallbackWarning,
    Function,
    In,
    Mode,
    Out,
    UnusedInputError,
    ViewOp,
    function,
)

dvec = TensorType("float64", (False,))
dscal = TensorType("float64", ())
MODE = Mode("vm", None)


class Add(Op):
    """x + y."""

    __props__ = ()

    def make_node(self, x, y):
        return Apply(self, [x, y], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(inputs[0] + inputs[1])


class Scale(Op):
    """factor * x."""

    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = np.asarray(self.factor * inputs[0])


add = Add()
double = Scale(2.0)


@pytest.fixture
def xy():
    return dvec("x"), dvec("y")


# -- outputs --------------------------------------------------------------------------------


def test_single_output_returns_value(xy):
    x, y = xy
    f = function([x, y], add(x, y), mode=MODE)
    out = f(np.ones(3), np.arange(3.0))
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, np.ones(3) + np.arange(3.0))


def test_list_outputs_return_list(xy):
    x, y = xy
    f = function([x, y], [add(x, y), double(x)], mode=MODE)
    a, b = f([1.0, 2.0], [3.0, 4.0])
    np.testing.assert_array_equal(a, [4.0, 6.0])
    np.testing.assert_array_equal(b, [2.0, 4.0])
    g = function([x], [double(x)], mode=MODE)
    res = g([1.0])
    assert isinstance(res, list) and len(res) == 1


def test_dict_outputs_return_dict(xy):
    x, y = xy
    f = function([x, y], {"sum": add(x, y), "twice": double(x)}, mode=MODE)
    res = f([1.0], [2.0])
    assert set(res) == {"sum", "twice"}
    np.testing.assert_array_equal(res["sum"], [3.0])
    np.testing.assert_array_equal(res["twice"], [2.0])
    sub = f([1.0], [2.0], output_subset=["twice"])
    assert list(sub) == ["twice"]
    with pytest.raises(ValueError, match="not an output key"):
        f([1.0], [2.0], output_subset=["nope"])


def test_dict_output_keys_must_be_strings(xy):
    x, _ = xy
    with pytest.raises(TypeError, match="keys must be strings"):
        function([x], {1: x}, mode=MODE)


@pytest.mark.parametrize("outputs", [None, []], ids=["None", "empty"])
def test_no_outputs_return_empty_list(xy, outputs):
    x, _ = xy
    f = function([x], outputs, mode=MODE, on_unused_input="ignore")
    assert f([1.0]) == []


def test_output_subset_indices(xy):
    x, y = xy
    f = function([x, y], [add(x, y), double(x), double(y)], mode=MODE)
    res = f([1.0], [2.0], output_subset=[2, 0])
    np.testing.assert_array_equal(res[0], [4.0])
    np.testing.assert_array_equal(res[1], [3.0])
    with pytest.raises(ValueError, match="not the index of an output"):
        f([1.0], [2.0], output_subset=[3])


def test_outputs_never_alias_inputs_or_each_other(xy):
    x, _ = xy
    f = function([x], [x, x, double(x)], mode=MODE)
    arg = np.arange(3.0)
    a, b, c = f(arg)
    assert not np.shares_memory(a, arg) and not np.shares_memory(b, arg)
    assert not np.shares_memory(a, b)
    kinds = [type(o.owner.op) for o in f.maker.fgraph.outputs[:2]]
    assert kinds == [DeepCopyOp, DeepCopyOp]


def test_returned_arrays_are_not_overwritten_by_next_call(xy):
    x, _ = xy
    f = function([x], double(x), mode=Mode("vm_nogc", None))
    first = f(np.ones(2))
    f(np.full(2, 5.0))
    np.testing.assert_array_equal(first, [2.0, 2.0])


def test_constant_output_is_copied():
    c = constant(np.arange(3.0))
    f = function([], c, mode=MODE)
    out = f()
    out[0] = 100.0
    np.testing.assert_array_equal(f(), [0.0, 1.0, 2.0])


def test_out_borrow_allows_view_of_input(xy):
    x, _ = xy
    f = function([In(x, borrow=True)], Out(x, borrow=True), mode=MODE)
    arg = np.arange(3.0)
    assert np.shares_memory(f(arg), arg)
    assert isinstance(f.maker.fgraph.outputs[0].owner.op, ViewOp)
    g = function([x], Out(x, borrow=True), mode=MODE)
    assert not np.shares_memory(g(arg), arg)


# -- inputs ---------------------------------------------------------------------------------


def test_keyword_arguments_by_name(xy):
    x, y = xy
    f = function([x, y], add(x, double(y)), mode=MODE)
    np.testing.assert_array_equal(f(y=[1.0], x=[5.0]), [7.0])
    np.testing.assert_array_equal(f([5.0], y=[1.0]), [7.0])


def test_in_name_and_default_value(xy):
    x, y = xy
    f = function([x, In(y, name="offset", value=np.array([10.0]))], add(x, y), mode=MODE)
    np.testing.assert_array_equal(f([1.0]), [11.0])
    np.testing.assert_array_equal(f([1.0], offset=[0.0]), [1.0])
    np.testing.assert_array_equal(f([1.0]), [11.0])  # the default is put back
    assert f["offset"][0] == 10.0


def test_in_autoname_false_has_no_keyword(xy):
    x, y = xy
    f = function([x, In(y, autoname=False)], add(x, y), mode=MODE)
    with pytest.raises(TypeError, match="unexpected keyword argument 'y'"):
        f([1.0], y=[1.0])


def test_in_update_keeps_state_between_calls():
    acc = dvec("acc")
    inc = dvec("inc")
    f = function([In(acc, value=np.zeros(2), update=add(acc, inc)), inc], acc, mode=MODE)
    np.testing.assert_array_equal(f(inc=[1.0, 1.0]), [0.0, 0.0])
    np.testing.assert_array_equal(f(inc=[1.0, 2.0]), [1.0, 1.0])
    np.testing.assert_array_equal(f[acc], [2.0, 3.0])
    f[acc] = [0.0, 0.0]
    np.testing.assert_array_equal(f(inc=[0.0, 0.0]), [0.0, 0.0])


def test_in_rejects_mutable_without_borrow(xy):
    x, _ = xy
    with pytest.raises(ValueError, match="mutable=True with borrow=False"):
        In(x, mutable=True, borrow=False)
    assert In(x, mutable=True).borrow is True


def test_in_implicit_needs_value(xy):
    x, _ = xy
    with pytest.raises(TypeError, match="implicit input needs a value"):
        In(x, implicit=True)


def test_in_update_type_must_match(xy):
    x, _ = xy
    with pytest.raises(TypeError, match="must be the same"):
        In(x, update=dscal("s"))


def test_tuple_style_inputs(xy):
    x, y = xy
    f = function([x, (y, np.array([3.0]))], add(x, y), mode=MODE)
    np.testing.assert_array_equal(f([1.0]), [4.0])
    g = function([("first", x)], double(x), mode=MODE)
    np.testing.assert_array_equal(g(first=[1.0]), [2.0])
    with pytest.raises(NotImplementedError, match="tuple-style"):
        function([(x, np.ones(1))], x, givens=[(y, x)], mode=MODE)


def test_inputs_must_be_a_list(xy):
    x, _ = xy
    with pytest.raises(TypeError, match="must be a list"):
        function(x, double(x), mode=MODE)


def test_input_given_twice_is_an_error(xy):
    x, _ = xy
    with pytest.raises(UnusedInputError, match="given twice in inputs"):
        function([x, x], double(x), mode=MODE)


def test_constant_input_is_an_error():
    c = constant(np.ones(2))
    with pytest.raises(TypeError, match="Constant"):
        function([c], c, mode=MODE)


def test_shared_variable_as_explicit_input_is_an_error():
    w = shared(np.ones(2), name="w")
    with pytest.raises(TypeError, match="cannot be an explicit input"):
        function([w], double(w), mode=MODE)


def test_bad_input_and_output_specs(xy):
    x, _ = xy
    with pytest.raises(TypeError, match="Variables or In"):
        function([3], x, mode=MODE)
    with pytest.raises(TypeError, match="Variables or Out"):
        function([x], [3], mode=MODE)


# -- unused inputs --------------------------------------------------------------------------


def test_unused_input_raises_by_default(xy):
    x, y = xy
    with pytest.raises(UnusedInputError, match=r"input 1 \(y\).*on_unused_input='warn'"):
        function([x, y], double(x), mode=MODE)


def test_unused_input_warn_and_ignore(xy):
    x, y = xy
    with pytest.warns(UserWarning, match=r"input 1 \(y\).*on_unused_input='ignore'") as rec:
        f = function([x, y], double(x), mode=MODE, on_unused_input="warn")
    assert rec[0].filename == __file__
    np.testing.assert_array_equal(f([1.0], [9.0]), [2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        function([x, y], double(x), mode=MODE, on_unused_input="ignore")


def test_unused_input_flag_is_read(xy):
    x, y = xy
    with config.change_flags(on_unused_input="ignore"):
        function([x, y], double(x), mode=MODE)


def test_unused_input_bad_value(xy):
    x, _ = xy
    with pytest.raises(ValueError, match="on_unused_input must be"):
        function([x], double(x), mode=MODE, on_unused_input="sometimes")


# -- accept_inplace ----------------------------------------------------------------------------


class AddInplace(Add):
    """x += y (overwrites its first input)."""

    destroy_map = {0: [0]}

    def perform(self, node, inputs, out, params=None):
        inputs[0] += inputs[1]
        out[0][0] = inputs[0]


def test_inplace_graph_needs_accept_inplace(xy):
    x, y = xy
    out = AddInplace()(x, y)
    with pytest.raises(TypeError, match="accept_inplace=True"):
        function([x, y], out, mode=MODE)
    with pytest.raises(TypeError, match="mutable=True"):
        function([x, y], out, mode=MODE, accept_inplace=True)
    f = function([In(x, mutable=True), y], out, mode=MODE, accept_inplace=True)
    arg = np.ones(2)
    np.testing.assert_array_equal(f(arg, [1.0, 2.0]), [2.0, 3.0])
    np.testing.assert_array_equal(arg, [2.0, 3.0])


# -- the Function object ----------------------------------------------------------------------


def test_function_object_attributes(xy):
    x, y = xy
    f = function([x, y], add(x, y), mode=MODE, name="adder")
    assert isinstance(f, Function)
    assert f.name == "adder"
    assert [i.variable for i in f.maker.inputs] == [x, y]
    assert len(f.maker.outputs) == 1
    assert f.maker.mode is MODE
    assert len(f.input_storage) == 2 and len(f.output_storage) == 1
    assert [n.op for n in f.maker.fgraph.toposort()] == [add]
    assert "adder" in str(f)


def test_default_name_is_callers_file_and_line(xy):
    x, _ = xy
    f = function([x], double(x), mode=MODE)
    assert f.name.startswith(__file__) and ":" in f.name


def test_value_and_container_access(xy):
    x, y = xy
    f = function([x, In(y, value=np.array([1.0]), name="b")], add(x, y), mode=MODE)
    assert "b" in f and y in f and 0 in f and "zzz" not in f
    np.testing.assert_array_equal(f["b"], [1.0])
    np.testing.assert_array_equal(f.value[y], [1.0])
    np.testing.assert_array_equal(f.container["b"].value, [1.0])
    f.value["b"] = [4.0]
    np.testing.assert_array_equal(f[1], [4.0])
    with pytest.raises(TypeError, match="unknown input or state"):
        f["zzz"]


def test_duplicate_names_are_ambiguous():
    a, b = dvec("v"), dvec("v")
    f = function([a, b], add(a, b), mode=MODE)
    with pytest.raises(TypeError, match="ambiguous"):
        f["v"]
    with pytest.raises(TypeError, match="ambiguous"):
        f(v=[1.0])


def test_trust_input_skips_checks(xy):
    x, y = xy
    f = function([x, y], add(x, y), mode=MODE)
    f.trust_input = True
    np.testing.assert_array_equal(f(np.ones(2), np.ones(2)), [2.0, 2.0])
    # An int array is no longer converted: it reaches the Op as it is.
    assert f(np.ones(2, dtype="int64"), np.ones(2, dtype="int64")).dtype == np.int64


def test_default_linker_cvm_needs_no_fallback(xy):
    x, _ = xy
    from tlink.fallback import reset_fallback_warnings

    reset_fallback_warnings()
    with config.change_flags(linker="cvm"), warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        f = function([x], double(x))
    np.testing.assert_array_equal(f([1.0]), [2.0])


def test_supervisor_protects_inputs_from_inplace_rewrites(xy):
    from tgraph.graph.features import Feature
    from tgraph.graph.fg import InconsistencyError
    from tlink.compile.maker import Supervisor

    x, y = xy
    f = function([x, In(y, mutable=True)], add(x, y), mode=MODE)
    fgraph = f.maker.fgraph
    sup = next(ft for ft in fgraph._features if isinstance(ft, Supervisor))
    fx, fy = fgraph.inputs
    assert sup.protected == [fx]
    assert sup.validate(fgraph)  # no destroy handler: nothing to check

    class FakeDestroyHandler(Feature):
        def __init__(self, destroyed):
            self.destroyed = destroyed

        def on_attach(self, fg):
            fg.destroyers = lambda var: [var] if var is self.destroyed else []

    fgraph.attach_feature(FakeDestroyHandler(fy))
    assert sup.validate(fgraph)  # y is mutable
    fgraph.destroyers = lambda var: [var] if var is fx else []
    with pytest.raises(InconsistencyError, match="protected"):
        sup.validate(fgraph)

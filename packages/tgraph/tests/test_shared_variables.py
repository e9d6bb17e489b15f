"""SharedVariable and Container: value semantics, aliasing, errors, cloning, pickling."""

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tgraph import config
from tgraph.graph.evaluate import evaluate
from tgraph.graph.type import generic
from tgraph.shared import Container, SharedVariable, TensorSharedVariable, shared
from tgraph.tensor.type import TensorType, dvector


def test_get_value_copies_unless_borrowed():
    a = np.arange(6.0).reshape(2, 3)
    w = shared(a, name="W")
    assert not np.shares_memory(w.get_value(), w.get_value(borrow=True))
    assert np.shares_memory(w.get_value(borrow=True), w.get_value(borrow=True))
    np.testing.assert_array_equal(w.get_value(), a)


def test_construction_copies_unless_borrowed():
    a = np.arange(4.0)
    assert not np.shares_memory(a, shared(a).get_value(borrow=True))
    assert np.shares_memory(a, shared(a, borrow=True).get_value(borrow=True))
    a[0] = 100.0
    assert shared(a, borrow=True).get_value()[0] == 100.0


def test_set_value_copies_unless_borrowed():
    w = shared(np.zeros(3))
    b = np.ones(3)
    w.set_value(b)
    assert not np.shares_memory(b, w.get_value(borrow=True))
    w.set_value(b, borrow=True)
    assert np.shares_memory(b, w.get_value(borrow=True))


def test_set_value_may_change_the_shape():
    w = shared(np.zeros((2, 3)))
    w.set_value(np.ones((5, 1)))
    assert w.get_value().shape == (5, 1)


def test_set_value_wrong_ndim_names_the_variable():
    w = shared(np.zeros((2, 3)), name="W")
    with pytest.raises(TypeError, match=r"shared variable 'W'.*expected 2, got 1"):
        w.set_value(np.zeros(3))


def test_set_value_lossy_dtype_is_refused():
    w = shared(np.zeros(3, dtype="float32"), name="w32")
    with pytest.raises(TypeError, match=r"shared variable 'w32'.*loss of precision"):
        w.set_value(np.zeros(3, dtype="float64"))
    w.set_value(np.zeros(3, dtype="int8"))  # a safe cast is accepted
    assert w.get_value().dtype == np.float32


def test_unnamed_variable_is_described_by_its_type():
    w = shared(np.zeros(2))
    with pytest.raises(TypeError, match=r"unnamed shared variable \(TensorType\(float64, "
                                        r"vector\)\)"):
        w.set_value(np.zeros((2, 2)))


def test_allow_downcast_true_accepts_lossy_values():
    w = shared(np.zeros(3, dtype="float32"), allow_downcast=True)
    w.set_value(np.full(3, 0.1))
    assert w.get_value().dtype == np.float32


def test_strict_refuses_any_conversion():
    w = shared(np.zeros(3), strict=True)
    with pytest.raises(TypeError, match="strict"):
        w.set_value([1.0, 2.0, 3.0])
    w.set_value(np.ones(3))


def test_python_floats_go_into_float32_when_exact():
    w = shared(np.zeros(2, dtype="float32"))
    w.set_value([0.5, 0.25])
    assert w.get_value().dtype == np.float32


def test_broadcastable_dimension_must_stay_size_one():
    w = shared(np.zeros((1, 3)), broadcastable=(True, False), name="row")
    assert w.broadcastable == (True, False)
    with pytest.raises(TypeError, match="broadcastable"):
        w.set_value(np.zeros((2, 3)))


def test_clone_shares_the_container():
    w = shared(np.zeros(3), name="w")
    w.tag.note = "kept"
    c = w.clone()
    assert c is not w and c.container is w.container and c.name == "w"
    assert c.tag.note == "kept" and c.type == w.type
    c.set_value(np.ones(3))
    np.testing.assert_array_equal(w.get_value(), np.ones(3))


def test_zero_in_place_or_new():
    a = np.arange(3.0)
    w = shared(a, borrow=True)
    w.zero()
    np.testing.assert_array_equal(a, np.arange(3.0))
    np.testing.assert_array_equal(w.get_value(), 0)
    w.set_value(a, borrow=True)
    w.zero(borrow=True)
    np.testing.assert_array_equal(a, 0)


def test_zero_keeps_a_bool_dtype():
    w = shared(np.ones(3, dtype=bool))
    w.zero()
    assert w.get_value().dtype == np.bool_ and not w.get_value().any()


def test_default_update_is_an_optional_attribute():
    w = shared(np.zeros(3))
    assert not hasattr(w, "default_update")
    w.default_update = w + 1
    assert w.default_update.owner is not None


def test_value_attribute_points_to_get_value():
    w = shared(np.zeros(3))
    with pytest.raises(AttributeError, match="get_value"):
        _ = w.value
    with pytest.raises(AttributeError, match="set_value"):
        w.value = 3


def test_test_value_is_the_current_value():
    w = shared(np.arange(3.0))
    assert w.get_test_value() is w.get_value(borrow=True)


def test_pickle_round_trip():
    w = shared(np.arange(4.0), name="w")
    w.default_update = w * 2
    c = w.clone()
    w2, c2 = pickle.loads(pickle.dumps((w, c)))
    assert type(w2) is TensorSharedVariable and w2.name == "w" and w2.type == w.type
    np.testing.assert_array_equal(w2.get_value(), np.arange(4.0))
    assert w2.container is c2.container and w2.container is not w.container
    assert w2.default_update.owner is not None
    w2.set_value(np.zeros(4))
    np.testing.assert_array_equal(w.get_value(), np.arange(4.0))


def test_deepcopy_gives_an_independent_value():
    w = shared(np.arange(3.0))
    w2 = copy.deepcopy(w)
    w2.set_value(np.zeros(3))
    np.testing.assert_array_equal(w.get_value(), np.arange(3.0))


def test_evaluation_reads_the_current_value():
    w = shared(np.arange(3.0), name="w")
    x = dvector("x")
    y = w + x
    np.testing.assert_array_equal(evaluate([y], {x: np.ones(3)})[0], np.arange(3.0) + 1)
    w.set_value(np.full(3, 5.0))
    np.testing.assert_array_equal(y.eval({x: np.ones(3)}), np.full(3, 6.0))


def test_tensor_operators_and_methods_work_on_shared_variables():
    a = np.arange(6.0).reshape(2, 3)
    w = shared(a)
    np.testing.assert_allclose((w * 2 - 1).eval(), a * 2 - 1)
    np.testing.assert_allclose(w.sum(axis=0).eval(), a.sum(axis=0))
    np.testing.assert_allclose(w.T.eval(), a.T)
    np.testing.assert_allclose(w[1].eval(), a[1])
    np.testing.assert_array_equal(w.shape.eval(), [2, 3])
    np.testing.assert_allclose((3 + w).eval(), 3 + a)
    assert w.ndim == 2 and w.dtype == "float64"


def test_shared_variable_init_checks_container_arguments():
    t = TensorType("float64", (False,))
    cont = Container(t, [np.zeros(2)])
    with pytest.raises(TypeError, match="must be None when a container"):
        SharedVariable("s", t, np.zeros(2), strict=False, container=cont)
    s = SharedVariable("s", t, None, None, container=cont)
    assert s.container is cont


# ---------------------------------------------------------------------------------------------
# Container


def test_container_filters_assignments():
    t = TensorType("float64", (False,))
    c = Container(t, [None], name="cell")
    c.value = [1, 2]
    assert c.data.dtype == np.float64 and c.storage[0] is c.value
    with pytest.raises(TypeError, match=r"container 'cell'.*expected 1, got 2"):
        c.value = np.zeros((2, 2))
    c.value = None
    assert c.storage[0] is None


def test_container_read_only_and_strict():
    t = TensorType("float64", (False,))
    ro = Container(t, [np.zeros(2)], readonly=True, name="ro")
    with pytest.raises(TypeError, match="read-only"):
        ro.value = np.ones(2)
    strict = Container(t, [np.zeros(2)], strict=True)
    with pytest.raises(TypeError, match="strict"):
        strict.value = [1.0, 2.0]


def test_container_storage_is_shared_by_reference():
    storage = [np.zeros(2)]
    c = Container(dvector("v"), storage)
    assert c.name == "v" and c.type == dvector().type
    c.value = np.ones(2)
    assert storage[0] is c.value


def test_container_needs_list_storage():
    with pytest.raises(TypeError, match="storage must be a list"):
        Container(generic, (1,))


def test_container_deepcopy_keeps_an_ndarray():
    t = TensorType("float64", ())
    c = Container(t, [np.asarray(2.0)])
    c2 = copy.deepcopy(c)
    assert isinstance(c2.value, np.ndarray) and c2.storage is not c.storage


# ---------------------------------------------------------------------------------------------
# Property: any supported array round-trips


DTYPES = ["bool", "int8", "int32", "int64", "uint8", "float32", "float64", "complex128"]


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(DTYPES).flatmap(
    lambda dt: hnp.arrays(dt, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0,
                                                max_side=4))))
def test_arrays_round_trip(a):
    w = shared(a)
    assert w.type.dtype == str(a.dtype) and w.ndim == a.ndim
    assert w.broadcastable == (False,) * a.ndim
    out = w.get_value()
    assert out.dtype == a.dtype
    np.testing.assert_array_equal(out, a)
    w.set_value(a)
    np.testing.assert_array_equal(w.get_value(borrow=True), a)


def test_floatx_does_not_change_an_array_dtype():
    with config.change_flags(floatX="float32"):
        assert shared(np.zeros(2)).dtype == "float64"

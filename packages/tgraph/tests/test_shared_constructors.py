"""shared(): the constructor registry, its order, and the tensor/scalar/generic constructors."""

import numpy as np
import pytest

from tgraph import config
from tgraph.graph.type import Generic
from tgraph.shared import (
    ScalarSharedVariable,
    SharedVariable,
    TensorSharedVariable,
    generic_constructor,
    load_shared_variable,
    scalar_constructor,
    shared,
    shared_constructor,
    tensor_constructor,
)
from tgraph.tensor.type import dscalar


def test_registry_holds_theano_order():
    assert shared.constructors[:3] == [generic_constructor, tensor_constructor,
                                       scalar_constructor]


def test_newest_constructor_is_tried_first_and_can_be_removed():
    calls = []

    @shared_constructor
    def picky(value, name=None, strict=False, allow_downcast=None, **kwargs):
        calls.append(value)
        if not isinstance(value, str):
            raise TypeError("not a string")
        return SharedVariable(name, Generic(), value, strict)

    try:
        assert shared.constructors[-1] is picky
        s = shared("text", name="t")
        assert s.get_value() == "text" and calls == ["text"]
        w = shared(np.zeros(2))
        assert isinstance(w, TensorSharedVariable) and calls[-1] is not None
    finally:
        shared_constructor(picky, remove=True)
    assert picky not in shared.constructors
    with pytest.raises(ValueError, match="not registered"):
        shared_constructor(picky, remove=True)


@pytest.mark.parametrize(
    ("value", "dtype"),
    [
        (1.5, "float64"),
        (3, "int64"),
        (True, "bool"),
        (1 + 2j, "complex128"),
        (np.float32(2.5), "float32"),
        (np.int8(3), "int8"),
        (np.uint16(7), "uint16"),
        (np.bool_(False), "bool"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else v,
)
def test_scalar_constructor_dtypes(value, dtype):
    s = shared(value, name="s")
    assert isinstance(s, ScalarSharedVariable)
    assert s.type.dtype == dtype and s.ndim == 0
    assert s.get_value() == value and isinstance(s.get_value(), np.ndarray)


def test_python_float_is_float64_whatever_floatx():
    with config.change_flags(floatX="float32"):
        assert shared(0.5).dtype == "float64"


def test_scalar_shared_variables_have_tensor_operators():
    s = shared(2.0)
    assert float((s * 3 + 1).eval()) == 7.0
    s.set_value(4.0)
    assert float(s.eval()) == 4.0
    assert s.type == dscalar().type


def test_tensor_constructor_options():
    a = np.ones((1, 4), dtype="int16")
    w = shared(a, name="w", broadcastable=(True, False))
    assert isinstance(w, TensorSharedVariable) and w.name == "w"
    assert w.type.dtype == "int16" and w.broadcastable == (True, False)
    assert shared(a).broadcastable == (False, False)
    assert shared(a, target="cpu").type.dtype == "int16"


def test_tensor_constructor_strict_and_downcast_are_kept():
    w = shared(np.zeros(2, dtype="float32"), strict=True)
    assert w.container.strict is True
    w = shared(np.zeros(2, dtype="float32"), allow_downcast=True)
    assert w.container.allow_downcast is True


def test_non_cpu_target_is_refused_with_the_reasons():
    with pytest.raises(TypeError, match=r"tensor_constructor: the tensor constructor only "
                                        r"handles target='cpu', got 'cuda'"):
        shared(np.zeros(2), target="cuda")


def test_matrix_subclass_becomes_a_plain_ndarray():
    class Sub(np.ndarray):
        pass

    a = np.arange(3.0).view(Sub)
    assert type(shared(a).get_value()) is np.ndarray
    assert type(shared(a, borrow=True).get_value(borrow=True)) is np.ndarray


@pytest.mark.parametrize("value", [[1, 2, 3], {"a": 1}, "text", None, object(),
                                   np.array(["a", "b"]), 2**80],
                         ids=["list", "dict", "str", "None", "object", "str-array", "bigint"])
def test_other_values_become_generic_shared_variables(value):
    s = shared(value, name="g")
    assert type(s) is SharedVariable and isinstance(s.type, Generic)
    assert s.get_value(borrow=True) is value or np.array_equal(s.get_value(), value)


def test_generic_values_are_kept_and_read_as_deep_copies():
    # As in Theano 1.0, the generic constructor stores the object itself.
    data = [1, [2, 3]]
    s = shared(data)
    assert s.get_value(borrow=True) is data
    copy = s.get_value()
    copy[1].append(4)
    assert data == [1, [2, 3]]


def test_generic_shared_variable_is_not_subscriptable():
    with pytest.raises(TypeError, match=r"not subscriptable: it holds an object of type list"):
        shared([1, 2])[0]
    with pytest.raises(TypeError, match=r"NumPy array of dtype <U1"):
        shared(np.array(["a"]))[0]


def test_unknown_keyword_arguments_list_every_constructor():
    with pytest.raises(TypeError) as info:
        shared([1, 2], dtype="float32")
    text = str(info.value)
    assert "no shared variable constructor accepts" in text and "['dtype']" in text
    for name in ("scalar_constructor", "tensor_constructor", "generic_constructor"):
        assert name in text


def test_constructor_error_reason_is_reported():
    with pytest.raises(TypeError, match=r"broadcastable \(size-1\) dimension 0, but the value "
                                        r"has shape \(3,\)"):
        shared(np.zeros(3), broadcastable=(True,))


def test_symbolic_values_are_refused():
    with pytest.raises(TypeError, match="not the symbolic variable"):
        shared(dscalar("x"))


def test_load_shared_variable():
    w = load_shared_variable(np.arange(3))
    assert isinstance(w, TensorSharedVariable) and w.type.dtype == "int64"


def test_shared_records_where_it_was_created():
    assert hasattr(shared(np.zeros(1)).tag, "trace")

"""ScalarType, the dtype rules (upcast, autocasting of Python numbers, int_division)."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tgraph.scalar as ts
from tgraph import config
from tgraph.graph.basic import Constant

ALL_DTYPES = [t.dtype for t in ts.all_types]


# ---------------------------------------------------------------------------------------------
# ScalarType


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_type_identity_and_pickle(dtype):
    t = ts.get_scalar_type(dtype)
    assert t is ts.get_scalar_type(dtype)
    assert t == ts.ScalarType(dtype) and hash(t) == hash(ts.ScalarType(dtype))
    assert str(t) == dtype and repr(t) == f"ScalarType({dtype})"
    assert t.dtype == dtype and t.ndim == 0
    assert pickle.loads(pickle.dumps(t)) == t
    var = t("v")
    assert isinstance(var, ts.ScalarVariable) and var.type is t and var.name == "v"
    assert var.dtype == dtype


def test_type_instances_and_groups():
    assert ts.bool is ts.bool_ and ts.bool_.dtype == "bool"
    assert [t.dtype for t in ts.int_types] == ["int8", "int16", "int32", "int64"]
    assert [t.dtype for t in ts.uint_types] == ["uint8", "uint16", "uint32", "uint64"]
    assert [t.dtype for t in ts.float_types] == ["float16", "float32", "float64"]
    assert [t.dtype for t in ts.complex_types] == ["complex64", "complex128"]
    assert ts.discrete_types == (ts.bool_, *ts.int_types, *ts.uint_types)
    assert ts.continuous_types == ts.float_types + ts.complex_types
    assert ts.all_types == ts.discrete_types + ts.continuous_types
    assert ts.float32 != ts.float64
    assert ts.Scalar is ts.ScalarType


def test_type_floatx_and_bad_dtypes():
    with config.change_flags(floatX="float32"):
        assert ts.get_scalar_type("floatX") is ts.float32
        assert ts.ScalarType("floatX").dtype == "float32"
    assert ts.get_scalar_type("floatX") is ts.float64
    with pytest.raises(TypeError, match="unsupported dtype 'float128'"):
        ts.ScalarType("float128")
    with pytest.raises(TypeError, match="not a dtype"):
        ts.ScalarType("nonsense")


@pytest.mark.parametrize(
    ("ctor", "dtype"),
    [(ts.bscalar, "int8"), (ts.wscalar, "int16"), (ts.iscalar, "int32"), (ts.lscalar, "int64"),
     (ts.fscalar, "float32"), (ts.dscalar, "float64"), (ts.cscalar, "complex64"),
     (ts.zscalar, "complex128")],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_constructors(ctor, dtype):
    v = ctor("a")
    assert v.dtype == dtype and v.name == "a" and v.owner is None


def test_scalar_constructor_defaults_to_floatx():
    assert ts.scalar().dtype == "float64"
    with config.change_flags(floatX="float32"):
        assert ts.scalar("s").dtype == "float32"
    assert ts.scalar(dtype="int16").dtype == "int16"


@pytest.mark.parametrize(
    ("dtype", "data", "expected"),
    [
        ("float32", 1.5, np.float32(1.5)),
        ("float32", np.float64(0.25), np.float32(0.25)),
        ("int8", 100, np.int8(100)),
        ("int8", np.int64(-128), np.int8(-128)),
        ("int16", True, np.int16(1)),
        ("uint8", 255, np.uint8(255)),
        ("float64", 2**53, np.float64(2**53)),
        ("complex64", 1 + 2j, np.complex64(1 + 2j)),
        ("float32", np.complex128(3 + 0j), np.float32(3)),
        ("bool", 1, np.True_),
        ("float32", np.float64("nan"), np.float32("nan")),
        ("float16", np.array(0.5), np.float16(0.5)),
    ],
)
def test_filter_exact_conversions(dtype, data, expected):
    got = ts.get_scalar_type(dtype).filter(data)
    assert type(got) is type(expected)
    assert got == expected or (np.isnan(got) and np.isnan(expected))


@pytest.mark.parametrize(
    ("dtype", "data", "match"),
    [
        ("int8", 1000, "exactly"),
        ("int8", 1.5, "exactly"),
        ("uint8", -1, "exactly"),
        ("bool", 2, "exactly"),
        ("float32", np.float64(1.1), "exactly"),
        ("float64", 2**53 + 1, "exactly"),
        ("float32", 1 + 2j, "imaginary part"),
        ("int64", 2**70, "cannot hold"),
        ("float32", "1.5", "cannot hold str"),
        ("float32", None, "cannot hold NoneType"),
        ("float32", np.zeros(2), "shape"),
    ],
)
def test_filter_refuses_lossy_conversions(dtype, data, match):
    with pytest.raises(TypeError, match=match):
        ts.get_scalar_type(dtype).filter(data)


def test_filter_allow_downcast_and_floatx_rule():
    assert ts.int8.filter(1000, allow_downcast=True) == np.int8(-24)  # NumPy's wrap
    assert ts.float32.filter(np.float64(1.1), allow_downcast=True) == np.float32(1.1)
    with pytest.raises(TypeError):
        ts.float32.filter(1.1)  # floatX is float64: a Python float is not free to round
    with config.change_flags(floatX="float32"):
        assert ts.float32.filter(1.1) == np.float32(1.1)
        with pytest.raises(TypeError):
            ts.float32.filter(1.1, allow_downcast=False)
        with pytest.raises(TypeError):
            ts.float32.filter(np.float64(1.1))  # only Python floats enjoy the rule


def test_filter_strict():
    assert ts.float32.filter(np.float32(2), strict=True) == 2
    with pytest.raises(TypeError, match="strict"):
        ts.float32.filter(2.0, strict=True)
    with pytest.raises(TypeError, match="strict"):
        ts.int64.filter(np.int32(2), strict=True)
    assert ts.float32.is_valid_value(np.float32(1)) and not ts.float32.is_valid_value(1.0)


def test_values_eq_and_approx():
    assert ts.float64.values_eq(np.float64("nan"), np.float64("nan"))
    assert not ts.float64.values_eq(1.0, 1.0 + 1e-12)
    assert ts.float64.values_eq_approx(1.0, 1.0 + 1e-12)
    assert not ts.float64.values_eq_approx(1.0, 1.001)
    assert ts.float32.values_eq_approx(np.float32(1), np.float32(1.000001))
    assert not ts.float32.values_eq_approx(np.float32(1), np.float32(1.001))
    assert ts.float16.values_eq_approx(np.float16(1), np.float16(1.0009765625))
    assert ts.float32.values_eq_approx(1.0, 1.001, tolerance=1e-2)
    assert ts.float64.values_eq_approx(np.inf, np.inf)
    assert not ts.float64.values_eq_approx(np.inf, -np.inf)
    assert ts.float64.values_eq_approx(np.nan, np.nan)
    assert ts.int8.values_eq_approx(np.int8(127), np.int8(127))
    assert not ts.int8.values_eq_approx(np.int8(127), np.int8(-128))  # no overflow in a - b
    assert ts.bool_.values_eq_approx(np.True_, np.True_)
    assert ts.complex64.values_eq_approx(np.complex64(1j), np.complex64(1j))
    assert not ts.float32.may_share_memory(np.float32(1), np.float32(1))
    assert ts.float64.get_size(ts.float64.get_shape_info(1.0)) == 8


def test_dtype_specs():
    assert ts.float32.dtype_specs() == (np.float32, "npy_float32", "Float32")
    assert ts.complex128.c_element_type() == "theano_complex128"


# ---------------------------------------------------------------------------------------------
# upcast

UPCAST_TABLE = [
    (("int64", "float32"), "float64"),
    (("int8", "float32"), "float32"),
    (("int16", "float32"), "float32"),
    (("int32", "float32"), "float64"),
    (("bool", "int8"), "int8"),
    (("bool", "bool"), "bool"),
    (("uint8", "int8"), "int16"),
    (("uint64", "int8"), "float64"),
    (("uint32", "int32"), "int64"),
    (("float16", "int8"), "float16"),
    (("float16", "int16"), "float32"),
    (("float32", "complex64"), "complex64"),
    (("float64", "complex64"), "complex128"),
    (("int8", "int16", "uint16"), "int32"),
    (("float32",), "float32"),
]


@pytest.mark.parametrize(("dtypes", "expected"), UPCAST_TABLE, ids=str)
@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_upcast_custom_policy(dtypes, expected, floatx):
    with config.change_flags(floatX=floatx):
        assert ts.upcast(*dtypes) == expected
        assert ts.get_scalar_type(dtypes[0]).upcast(
            *(ts.get_scalar_type(d) for d in dtypes[1:])) == expected


@pytest.mark.parametrize(
    ("floatx", "dtypes", "expected"),
    [
        ("float32", ("int64", "float32"), "float32"),  # float64 result brought back to floatX
        ("float32", ("int32", "int32"), "int32"),
        ("float32", ("int64", "float64"), "float64"),  # explicit float64 wins
        ("float32", ("float32", "float64"), "float64"),
        ("float16", ("int8", "float16"), "float16"),
        ("float16", ("int32", "float16"), "float16"),
        ("float16", ("float32", "float16"), "float32"),
        ("float64", ("int64", "float32"), "float64"),
    ],
)
def test_upcast_numpy_floatx_policy(floatx, dtypes, expected):
    with config.change_flags(floatX=floatx, cast_policy="numpy+floatX"):
        assert ts.upcast(*dtypes) == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(ALL_DTYPES), min_size=1, max_size=4))
def test_upcast_is_numpy_promotion(dtypes):
    assert ts.upcast(*dtypes) == str(np.result_type(*dtypes))


# ---------------------------------------------------------------------------------------------
# Python numbers to constants

CONVERT_TABLE = [
    # value, dtype with floatX=float64, dtype with floatX=float32
    (0, "int8", "int8"),
    (127, "int8", "int8"),
    (128, "int16", "int16"),
    (-129, "int16", "int16"),
    (1000, "int16", "int16"),
    (40000, "int32", "int32"),
    (2**31, "int64", "int64"),
    (2**63, "uint64", "uint64"),
    (True, "int8", "int8"),
    (2.0, "float32", "float32"),
    (0.5, "float32", "float32"),
    (1.1, "float64", "float32"),
    (1e300, "float64", "float32"),
    (float("inf"), "float32", "float32"),
    (float("nan"), "float64", "float32"),
    (np.float64(2.0), "float64", "float64"),
    (np.float32(1.1), "float32", "float32"),
    (np.int64(1), "int64", "int64"),
    (np.int8(1), "int8", "int8"),
    (1 + 2j, "complex128", "complex128"),
    ([1, 2], "int64", "int64"),
    ([], "float64", "float32"),
]


@pytest.mark.parametrize(("value", "dtype64", "dtype32"), CONVERT_TABLE, ids=repr)
def test_convert_custom_policy(value, dtype64, dtype32):
    assert str(ts.convert(value).dtype) == dtype64
    with config.change_flags(floatX="float32"):
        assert str(ts.convert(value).dtype) == dtype32
    assert isinstance(ts.convert(value), np.ndarray)


def test_convert_forced_dtype_and_overflow():
    assert ts.convert(3, dtype="float32").dtype == np.float32
    assert ts.convert(1.5, dtype="int8") == 1
    with pytest.raises(OverflowError, match="range of int8"):
        ts.convert(1000, dtype="int8")
    with pytest.raises(OverflowError, match="fits in no NumPy dtype"):
        ts.convert(2**64)
    with pytest.raises(OverflowError, match="fits in no NumPy dtype"):
        ts.convert(-(2**63) - 1)


@pytest.mark.parametrize(
    ("value", "floatx", "expected"),
    [(1.1, "float64", "float64"), (1.1, "float32", "float32"), (2, "float32", "int64"),
     (np.float64(1.1), "float32", "float64"), (2.0, "float16", "float16")],
)
def test_convert_numpy_floatx_policy(value, floatx, expected):
    with config.change_flags(floatX=floatx, cast_policy="numpy+floatX"):
        assert str(ts.convert(value).dtype) == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(2**63), max_value=2**64 - 1))
def test_autocast_int_takes_the_smallest_dtype(value):
    dtype = ts.convert(value).dtype
    assert int(ts.convert(value)) == value
    candidates = ["int8", "int16", "int32", "int64", "uint64"]
    fitting = [d for d in candidates if np.iinfo(d).min <= value <= np.iinfo(d).max]
    assert str(dtype) == fitting[0]


@settings(max_examples=100, deadline=None)
@given(st.floats(allow_nan=False))
def test_autocast_float_exact_or_float64(value):
    got = ts.convert(value)
    with np.errstate(over="ignore"):
        exact32 = float(np.float32(value)) == value
    assert str(got.dtype) == ("float32" if exact32 else "float64")
    assert float(got) == value


def test_autocast_float_as_nesting_and_effect():
    orig = ts.autocast_float.dtypes
    x32, x64 = ts.fscalar(), ts.dscalar()
    with ts.autocast_float_as("float32"):
        assert ts.autocast_float.dtypes == ("float32",)
        assert (x64 + 1.1).dtype == "float64"
        assert (x32 + 1.1).dtype == "float32"
        assert (x32 + np.asarray(1.1)).dtype == "float64"  # an ndarray keeps its dtype
        assert (x32 + np.float64(1.1)).dtype == "float32"  # np.float64 is a Python float
        with ts.autocast_float_as("float64"):
            assert ts.autocast_float.dtypes == ("float64",)
            assert (x32 + 1.0).dtype == "float64"
        assert ts.autocast_float.dtypes == ("float32",)
    assert ts.autocast_float.dtypes == orig
    with ts.autocast_float_as("float32", "float64"):
        assert (x32 + 1.1).dtype == "float64"
        assert (x32 + 1.0).dtype == "float32"
    with config.change_flags(cast_policy="numpy+floatX"), pytest.raises(ValueError,
                                                                         match="custom"):
        with ts.autocast_float_as("float32"):
            pass
    assert ts.autocast_float.dtypes == orig


# The seed's float32 exercise: what Python numbers do to a typed variable.
EXPRESSION_TABLE = [
    ("float32", lambda x: x * 2.0, "float32", "float32"),
    ("float32", lambda x: x * 2, "float32", "float32"),
    ("float32", lambda x: x * 1.1, "float64", "float32"),
    ("float32", lambda x: x + 1e10, "float32", "float32"),
    ("float32", lambda x: 0.5 - x, "float32", "float32"),
    ("int8", lambda x: x + 1000, "int16", "int16"),
    ("int8", lambda x: x + 1, "int8", "int8"),
    ("int8", lambda x: x * 2.0, "float32", "float32"),
    ("int8", lambda x: x * 1.1, "float64", "float32"),
    ("int32", lambda x: x * 2.0, "float64", "float64"),
    ("int64", lambda x: x + 2**40, "int64", "int64"),
    ("uint8", lambda x: x + 1, "int16", "int16"),
    ("float64", lambda x: x * 2.0, "float64", "float64"),
    ("float16", lambda x: x * 2, "float16", "float16"),
    ("float16", lambda x: x * 2.0, "float32", "float32"),
    ("bool", lambda x: x * 1, "int8", "int8"),
]


@pytest.mark.parametrize(("dtype", "expr", "out64", "out32"), EXPRESSION_TABLE)
def test_python_numbers_keep_narrow_dtypes(dtype, expr, out64, out32):
    x = ts.get_scalar_type(dtype)()
    assert expr(x).dtype == out64
    with config.change_flags(floatX="float32"):
        assert expr(x).dtype == out32


def test_constant_and_as_scalar():
    c = ts.constant(2.0)
    assert isinstance(c, ts.ScalarConstant) and isinstance(c, Constant)
    assert c.dtype == "float32" and c.data == np.float32(2.0)
    assert ts.constant(3, dtype="float64").dtype == "float64"
    assert ts.constant(5, name="five").name == "five"
    x = ts.dscalar()
    assert ts.as_scalar(x) is x
    node = ts.exp(x).owner
    assert ts.as_scalar(node) is node.outputs[0]
    assert ts.as_scalar(7).dtype == "int8"
    with pytest.raises(TypeError, match="expected a scalar"):
        ts.constant([1.0, 2.0])
    with pytest.raises(TypeError, match="cannot convert"):
        ts.as_scalar("a string")
    with pytest.raises(TypeError, match="cannot convert"):
        ts.as_scalar(2**70)


def test_register_as_scalar():
    from tgraph.graph.type import Type

    class Box(Type):
        def filter(self, data, strict=False, allow_downcast=None):
            return data

    ts.register_as_scalar(Box, lambda v: ts.cast(ts.constant(1.0), "float64"))
    try:
        assert ts.as_scalar(Box()()).dtype == "float64"
        with pytest.raises(ValueError, match="already registered"):
            ts.register_as_scalar(Box, lambda v: v)
    finally:
        from tgraph.scalar import op as _op

        _op._converters.pop(Box)
    with pytest.raises(TypeError, match="expected a ScalarType"):
        ts.as_scalar(Box()())


# ---------------------------------------------------------------------------------------------
# config.int_division


def test_int_division_modes():
    a, b = ts.iscalar(), ts.iscalar()
    f = ts.fscalar()
    with config.change_flags(int_division="int"):
        with pytest.warns(DeprecationWarning, match="x // y"):
            out = a / b
        assert out.owner.op is ts.int_div and out.dtype == "int32"
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert (a / f).owner.op is ts.true_div
    with config.change_flags(int_division="raise"):
        with pytest.raises(ts.IntegerDivisionError, match="//"):
            a / b
        assert (f / a).owner.op is ts.true_div
        assert ts.int_or_true_div(False, True) is ts.true_div
    with config.change_flags(int_division="floatX"):
        out = a / b
        assert out.owner.op is ts.true_div and out.dtype == "float64"
        with config.change_flags(floatX="float32"):
            assert (a / b).dtype == "float32"
            assert (3 / a).dtype == "float32"


def test_true_div_of_integers_is_floatx():
    a = ts.bscalar()
    assert ts.true_div(a, a).dtype == "float64"
    with config.change_flags(floatX="float32"):
        assert ts.true_div(a, a).dtype == "float32"
        assert ts.true_div(ts.lscalar(), ts.lscalar()).dtype == "float32"
    assert ts.true_div(a, ts.fscalar()).dtype == "float32"
    assert ts.true_div(ts.lscalar(), ts.fscalar()).dtype == "float64"

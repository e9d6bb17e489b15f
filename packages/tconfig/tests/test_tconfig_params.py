"""Flag types, lazy defaults, str(config) and the compile-cache hash."""

from __future__ import annotations

import math
import re

import pytest

from tconfig import (
    BoolParam,
    ConfigParam,
    DeviceParam,
    EnumStr,
    FlagValueError,
    FloatParam,
    IntParam,
    StrParam,
    TypedParam,
)

# -- conversions -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        *[(word, True) for word in ("True", "true", "TRUE", "1", "yes", "YES", "on", "On")],
        *[(word, False) for word in ("False", "false", "0", "no", "No", "off", "OFF")],
        (" yes ", True),
    ],
)
def test_bool_accepts(raw, expected) -> None:
    assert BoolParam(False).filter_value(raw) is expected


@pytest.mark.parametrize("raw", ["", "2", "y", "truee", 2, -1, None, 1.5, "None"])
def test_bool_rejects(raw) -> None:
    with pytest.raises(FlagValueError, match=r"expected a boolean \(True/False, 1/0"):
        BoolParam(False).filter_value(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("3", 3), (" -12 ", -12), ("+7", 7), (5, 5), (4.0, 4), ("1_000", 1000)]
)
def test_int_accepts(raw, expected) -> None:
    value = IntParam(0).filter_value(raw)
    assert value == expected and type(value) is int


@pytest.mark.parametrize("raw", ["", "3.5", "1e3", "x", True, 2.5, None, "9" * 5000])
def test_int_rejects(raw) -> None:
    with pytest.raises(FlagValueError, match="expected an integer"):
        IntParam(0).filter_value(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("1e-3", 1e-3), ("3", 3.0), (" 2.5 ", 2.5), (2, 2.0), ("inf", math.inf)]
)
def test_float_accepts(raw, expected) -> None:
    value = FloatParam(0.0).filter_value(raw)
    assert value == expected and type(value) is float


@pytest.mark.parametrize("raw", ["", "1e", "x", "1,5", True, None, [1.0]])
def test_float_rejects(raw) -> None:
    with pytest.raises(FlagValueError, match="expected a float"):
        FloatParam(0.0).filter_value(raw)


@pytest.mark.parametrize("raw", ["cpu", "cuda", "cuda0", "cuda12", "gpu", "gpu1", "opencl0:1"])
def test_device_accepts(raw: str) -> None:
    assert DeviceParam().filter_value(raw) == raw


@pytest.mark.parametrize("raw", ["", "CPU", "tpu", "cuda-1", "opencl0", "opencl:1", "gpu 0", 0])
def test_device_rejects(raw) -> None:
    message = "expected a device: 'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' or 'openclN:M'"
    with pytest.raises(FlagValueError, match=re.escape(message)):
        DeviceParam().filter_value(raw, name="device", source="THEANO_FLAGS")


def test_device_default_is_always_accepted() -> None:
    assert DeviceParam("").filter_value("") == ""
    assert DeviceParam().mutable is False
    assert DeviceParam(mutable=True).mutable is True


def test_enum() -> None:
    param = EnumStr("float64", "float32", "float16")
    assert param.all == ("float64", "float32", "float16")
    assert param.default == "float64"
    assert param.filter_value("float16") == "float16"
    with pytest.raises(FlagValueError, match=r"^'Float16' is not valid: expected one of"):
        param.filter_value("Float16")
    with pytest.raises(TypeError, match="EnumStr options must be strings"):
        EnumStr("a", 1)


def test_str_and_typed() -> None:
    assert StrParam("").filter_value(3) == "3"
    assert TypedParam(0, int).filter_value("42") == 42
    with pytest.raises(FlagValueError, match="expected a value of type int"):
        TypedParam(0, int).filter_value("x")
    only_upper = StrParam("A", is_valid=str.isupper)
    assert only_upper.filter_value("B") == "B"
    with pytest.raises(FlagValueError, match=r"rejected by the flag's validity check"):
        only_upper.filter_value("b")


def test_config_param_with_filter_and_is_valid() -> None:
    param = ConfigParam("1,2", filter=lambda raw: [int(x) for x in str(raw).split(",")])
    assert param.filter_value("3,4") == [3, 4]
    with pytest.raises(FlagValueError, match="invalid literal"):
        param.filter_value("3,x")
    assert ConfigParam(None).filter_value("anything") == "anything"
    checked = ConfigParam(5, is_valid=lambda v: v != 0)
    with pytest.raises(FlagValueError, match="rejected"):
        checked.filter_value(0)


def test_is_valid_bug_is_not_hidden() -> None:
    param = IntParam(1, is_valid=lambda: True)  # wrong signature: a bug, not a bad value
    with pytest.raises(TypeError):
        param.filter_value("2")


@pytest.mark.parametrize(
    ("param", "text"),
    [
        (BoolParam(True), "a boolean (True/False, 1/0, yes/no, on/off)"),
        (IntParam(1), "an integer"),
        (FloatParam(1.0), "a float"),
        (StrParam(""), "a string"),
        (EnumStr("a", "b"), "one of 'a', 'b'"),
        (TypedParam(1, int), "a value of type int"),
        (ConfigParam(1), "any value"),
        (ConfigParam(1, filter=int), "a value accepted by int()"),
    ],
)
def test_describe(param, text: str) -> None:
    assert param.describe() == text
    assert text in repr(param)


def test_common_attributes() -> None:
    for param in [
        BoolParam(True, mutable=False),
        IntParam(1, mutable=False),
        FloatParam(1.0, mutable=False),
        StrParam("", mutable=False),
        EnumStr("a", mutable=False),
        TypedParam(1, int, mutable=False),
        ConfigParam(1, mutable=False),
        DeviceParam(),
    ]:
        assert param.mutable is False
    assert IntParam(3).default == 3 and IntParam(3).mutable is True


# -- lazy defaults ---------------------------------------------------------------------------


def test_lazy_default_computed_on_first_read_and_cached(new_config) -> None:
    calls = []

    def default() -> str:
        calls.append(1)
        return "/cache"

    config = new_config()
    config.add("compiledir", "doc", StrParam(default))
    assert calls == []
    assert config.source_of("compiledir") == "default"
    assert config.compiledir == "/cache"
    assert config.compiledir == "/cache"
    assert calls == [1]
    assert config.flags()[0][1].default is default


def test_lazy_default_invalidated_by_any_assignment(new_config) -> None:
    config = new_config()
    config.add("base", "doc", StrParam("/b"))
    config.add("other", "doc", IntParam(0))
    config.add("sub.dir", "doc", StrParam(lambda: config.base + "/sub"))
    assert config.sub.dir == config.sub__dir == "/b/sub"
    config.base = "/n"
    assert config.sub__dir == "/n/sub"
    assert config.sub.dir == "/n/sub"
    config.other = 1  # an unrelated change also drops the cache: recomputed, same value
    assert config.sub.dir == "/n/sub"
    config.sub.dir = "/fixed"
    config.base = "/m"
    assert (config.sub.dir, config.source_of("sub.dir")) == ("/fixed", "code")


def test_lazy_default_not_called_when_env_sets_flag(new_config) -> None:
    def boom() -> str:
        raise AssertionError("must not be called")

    config = new_config({"THEANO_FLAGS": "compiledir=/env"})
    config.add("compiledir", "doc", StrParam(boom))
    assert (config.compiledir, config.source_of("compiledir")) == ("/env", "THEANO_FLAGS")


def test_lazy_default_is_validated(new_config) -> None:
    config = new_config()
    config.add("n", "doc", IntParam(lambda: "many"))
    with pytest.raises(FlagValueError, match=r"^n='many' from default is not valid: expected an"):
        config.n  # noqa: B018


def test_read_only_lazy_default_is_pinned_once_read(new_config) -> None:
    config = new_config()
    config.add("base", "doc", StrParam("/b"))
    config.add("compiledir", "doc", StrParam(lambda: config.base + "/c", mutable=False))
    assert config.compiledir == "/b/c"
    config.base = "/n"
    assert config.compiledir == "/b/c"


def test_lazy_read_only_not_yet_read_follows_changes(new_config) -> None:
    config = new_config()
    config.add("base", "doc", StrParam("/b"))
    config.add("compiledir", "doc", StrParam(lambda: config.base + "/c", mutable=False))
    config.base = "/n"
    assert config.compiledir == "/n/c"


# -- str(config) -----------------------------------------------------------------------------


def test_str_lists_every_flag_with_doc_type_value_and_source(new_config, write_rc) -> None:
    path = write_rc("[global]\n\nmode = FAST_COMPILE\n")
    config = new_config({"THEANORC": path, "THEANO_FLAGS": "floatX=float32"})
    config.add("floatX", "Default float dtype.", EnumStr("float64", "float32", "float16"))
    config.add("mode", "Default compilation mode.\nSecond line.", StrParam("FAST_RUN"))
    config.add("gcc.cxxflags", "Extra flags.", StrParam(""))
    config.add("n", "A count.", IntParam(3))
    config.add("device", "Device.", DeviceParam())
    config.add("lazy", "Lazy.", StrParam(lambda: "computed"))
    config.gcc.cxxflags = "-O3"
    text = str(config)
    assert text == (
        "floatX (EnumStr: one of 'float64', 'float32', 'float16')\n"
        "    Doc:    Default float dtype.\n"
        "    Value:  'float32'\n"
        "    Source: THEANO_FLAGS\n"
        "\n"
        "mode (StrParam: a string)\n"
        "    Doc:    Default compilation mode.\n"
        "            Second line.\n"
        "    Value:  'FAST_COMPILE'\n"
        f"    Source: {path}:3\n"
        "\n"
        "gcc.cxxflags (StrParam: a string)\n"
        "    Doc:    Extra flags.\n"
        "    Value:  '-O3'\n"
        "    Source: code\n"
        "\n"
        "n (IntParam: an integer)\n"
        "    Doc:    A count.\n"
        "    Value:  3\n"
        "    Source: default\n"
        "\n"
        "device (DeviceParam: a device: 'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' or 'openclN:M' "
        "(N, M integers); read-only)\n"
        "    Doc:    Device.\n"
        "    Value:  'cpu'\n"
        "    Source: default\n"
        "\n"
        "lazy (StrParam: a string)\n"
        "    Doc:    Lazy.\n"
        "    Value:  'computed'\n"
        "    Source: default\n"
    )


def test_str_survives_a_failing_lazy_default(new_config) -> None:
    config = new_config()
    config.add("n", "doc", IntParam(lambda: 1 // 0))
    assert "Value:  <error: ZeroDivisionError" in str(config)
    assert "1 flag," in repr(config)


# -- get_config_hash -------------------------------------------------------------------------


def test_hash_follows_c_key_flags_only(new_config) -> None:
    config = new_config()
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    config.add("verbose", "doc", BoolParam(False), in_c_key=False)
    config.add("lazy", "doc", StrParam(lambda: config.floatX * 2))
    first = config.get_config_hash()
    assert re.fullmatch(r"[0-9a-f]{64}", first)
    config.verbose = True
    assert config.get_config_hash() == first
    config.floatX = "float32"
    changed = config.get_config_hash()
    assert changed != first
    with config.change_flags(floatX="float64"):
        assert config.get_config_hash() == first
    assert config.get_config_hash() == changed


def test_hash_independent_of_declaration_order_and_distinguishes_types(new_config) -> None:
    one, two = new_config(), new_config()
    one.add("a", "doc", StrParam("1"))
    one.add("b", "doc", IntParam(2))
    two.add("b", "doc", IntParam(2))
    two.add("a", "doc", StrParam("1"))
    assert one.get_config_hash() == two.get_config_hash()
    three = new_config()
    three.add("a", "doc", IntParam(1))
    three.add("b", "doc", IntParam(2))
    assert three.get_config_hash() != one.get_config_hash()


def test_hash_changes_when_lazy_c_key_dependency_changes(new_config) -> None:
    config = new_config()
    config.add("base", "doc", StrParam("/b"), in_c_key=False)
    config.add("compiledir", "doc", StrParam(lambda: config.base + "/c"))
    first = config.get_config_hash()
    config.base = "/other"
    assert config.get_config_hash() != first

"""Property tests: whatever text a user puts in THEANO_FLAGS, an rc file or an assignment, the
result is a value of the declared type or a ConfigError naming the flag (or the bad item) —
never another exception."""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tconfig import (
    BoolParam,
    Config,
    EnumStr,
    FlagValueError,
    FloatParam,
    IntParam,
    UnknownFlagWarning,
    parse_flags_string,
)

PARAMS = {
    "n_int": (IntParam, lambda: IntParam(0), int),
    "x_float": (FloatParam, lambda: FloatParam(0.0), float),
    "b_bool": (BoolParam, lambda: BoolParam(False), bool),
    "e_enum": (EnumStr, lambda: EnumStr("low", "high", "1", "True"), str),
}
ENUM_VALUES = ("low", "high", "1", "True")


def check_value(name: str, value: object) -> None:
    kind = PARAMS[name][2]
    assert type(value) is kind
    if name == "e_enum":
        assert value in ENUM_VALUES


def declare_all(config: Config) -> None:
    for name, (_, make, _) in PARAMS.items():
        try:
            config.add(name, "doc", make())
        except FlagValueError as exc:
            assert name in str(exc)
            assert exc.flag == name


value_text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["1", "0", "-3", "1e-3", "nan", "inf", "True", "off", "low", " high ", ""]),
)


@settings(deadline=None)
@given(name=st.sampled_from(sorted(PARAMS)), text=value_text)
def test_assignment_of_random_text(name: str, text: str) -> None:
    config = Config(environ={})
    declare_all(config)
    try:
        setattr(config, name, text)
    except FlagValueError as exc:
        assert str(exc).startswith(f"{name}={text!r} from code is not valid: expected ")
        assert getattr(config, name) == PARAMS[name][1]().default
    else:
        check_value(name, getattr(config, name))
        assert config.source_of(name) == "code"


@settings(deadline=None)
@given(name=st.sampled_from(sorted(PARAMS)), text=value_text)
def test_env_value_of_random_text(name: str, text: str) -> None:
    try:
        config = Config(flags_env="THEANO_FLAGS", environ={"THEANO_FLAGS": f"{name}={text}"})
    except FlagValueError as exc:
        # Only the item structure can be wrong here: commas or quotes inside the text.
        assert str(exc).startswith("THEANO_FLAGS: ")
        assert any(ch in text for ch in ",'\"")
        return
    try:
        config.add(name, "doc", PARAMS[name][1]())
    except FlagValueError as exc:
        assert str(exc).startswith(f"{name}=")
        assert " from THEANO_FLAGS is not valid: expected " in str(exc)
    else:
        value = getattr(config, name)
        check_value(name, value)
        if name == "x_float" and not math.isnan(value):
            assert value == float(config.env_flags[name])


# Random THEANO_FLAGS strings assembled from plausible and implausible pieces.
names = st.one_of(
    st.sampled_from([*PARAMS, "floatX", "gcc.cxxflags", "gcc__cxxflags", "a.b.c", "n_int "]),
    st.text(max_size=8),
)
separators = st.sampled_from([",", ", ", " , ", ",,", "", "=", "==", "__", ".", " ", "'", '"'])
pieces = st.one_of(names, value_text, separators)


@settings(deadline=None, max_examples=300)
@given(parts=st.lists(pieces, max_size=12))
def test_random_flags_strings(parts: list[str]) -> None:
    flags = "".join(parts)
    try:
        parsed = parse_flags_string(flags, source="THEANO_FLAGS")
    except FlagValueError as exc:
        assert str(exc).startswith("THEANO_FLAGS: ")
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())
    assert all("__" not in k for k in parsed)
    config = Config(flags_env="THEANO_FLAGS", environ={"THEANO_FLAGS": flags})
    assert config.env_flags == parsed
    declare_all(config)
    for name in PARAMS:
        if name in config:
            check_value(name, getattr(config, name))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        config.warn_unknown()
    for warning in caught:
        assert warning.category is UnknownFlagWarning
        assert str(warning.message).startswith("THEANO_FLAGS sets unknown flag ")


@settings(deadline=None)
@given(
    name=st.sampled_from(sorted(PARAMS)),
    text=st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30),
)
def test_rc_value_of_random_text(name: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rc"
        path.write_text(f"[global]\n{name} = {text}\n", encoding="utf-8")
        config = Config(rc_env="THEANORC", environ={"THEANORC": str(path)})
        try:
            config.add(name, "doc", PARAMS[name][1]())
        except FlagValueError as exc:
            assert str(exc).startswith(f"{name}=")
            assert f" from {path}:2 is not valid: expected " in str(exc)
        else:
            check_value(name, getattr(config, name))

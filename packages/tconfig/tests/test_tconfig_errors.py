"""Every error path, and that each message names the flag, the value, what is allowed and where
the value came from."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path

import pytest

from tconfig import (
    BoolParam,
    Config,
    ConfigError,
    DeviceParam,
    DuplicateFlagError,
    EnumStr,
    FlagValueError,
    FloatParam,
    IntParam,
    RcFileError,
    ReadOnlyFlagError,
    StrParam,
    UnknownFlagError,
    UnknownFlagWarning,
    parse_flags_string,
)

FLOATX = EnumStr("float64", "float32", "float16")
ALLOWED = "expected one of 'float64', 'float32', 'float16'"


def test_error_class_hierarchy() -> None:
    assert issubclass(FlagValueError, ConfigError) and issubclass(FlagValueError, ValueError)
    assert issubclass(RcFileError, ConfigError) and issubclass(RcFileError, ValueError)
    assert issubclass(DuplicateFlagError, ConfigError) and issubclass(
        DuplicateFlagError, ValueError
    )
    assert issubclass(ReadOnlyFlagError, ConfigError) and issubclass(ReadOnlyFlagError, TypeError)
    assert issubclass(UnknownFlagError, ConfigError) and issubclass(
        UnknownFlagError, AttributeError
    )
    assert issubclass(UnknownFlagWarning, UserWarning)


# -- bad values ------------------------------------------------------------------------------


def test_bad_enum_from_env(new_config) -> None:
    config = new_config({"THEANO_FLAGS": "floatX=float33"})
    message = f"floatX='float33' from THEANO_FLAGS is not valid: {ALLOWED}"
    with pytest.raises(FlagValueError, match=f"^{re.escape(message)}$") as info:
        config.add("floatX", "doc", FLOATX)
    assert (info.value.flag, info.value.value, info.value.source) == (
        "floatX",
        "float33",
        "THEANO_FLAGS",
    )
    # The failed declaration left nothing behind: the name can be declared again.
    assert "floatX" not in config
    assert not hasattr(config, "floatX")


def test_bad_enum_from_rc_names_file_and_line(new_config, write_rc) -> None:
    path = write_rc("[global]\n# precision\nfloatX = float33\n")
    config = new_config({"THEANORC": path})
    message = f"floatX='float33' from {path}:3 is not valid: {ALLOWED}"
    with pytest.raises(FlagValueError, match=f"^{re.escape(message)}$"):
        config.add("floatX", "doc", FLOATX)


def test_bad_section_value_from_rc(new_config, write_rc) -> None:
    path = write_rc("[global]\nfloatX = float32\n\n[DebugMode]\ncheck_c = maybe\n")
    config = new_config({"THEANORC": path})
    message = (
        f"DebugMode.check_c='maybe' from {path}:5 is not valid: "
        "expected a boolean (True/False, 1/0, yes/no, on/off)"
    )
    with pytest.raises(FlagValueError, match=f"^{re.escape(message)}$"):
        config.add("DebugMode.check_c", "doc", BoolParam(True))


def test_bad_enum_from_code_leaves_value_unchanged(new_config) -> None:
    config = new_config()
    config.add("floatX", "doc", FLOATX)
    message = f"floatX='float33' from code is not valid: {ALLOWED}"
    with pytest.raises(FlagValueError, match=f"^{re.escape(message)}$"):
        config.floatX = "float33"
    assert (config.floatX, config.source_of("floatX")) == ("float64", "default")


@pytest.mark.parametrize(
    ("param", "raw", "expected"),
    [
        (IntParam(1), "three", "expected an integer"),
        (IntParam(1), "1.5", "expected an integer"),
        (FloatParam(1.0), "1e-3x", "expected a float"),
        (FloatParam(1.0), "", "expected a float"),
        (BoolParam(True), "maybe", "expected a boolean (True/False, 1/0, yes/no, on/off)"),
        (BoolParam(True), "2", "expected a boolean (True/False, 1/0, yes/no, on/off)"),
        (DeviceParam(), "tpu", "expected a device: 'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' or"),
        (IntParam(1, is_valid=lambda n: n > 0), "-4", "rejected by the flag's validity check"),
    ],
    ids=[
        "int-word",
        "int-float",
        "float-junk",
        "float-empty",
        "bool-word",
        "bool-2",
        "device",
        "is_valid",
    ],
)
def test_bad_typed_values_from_env(new_config, param, raw, expected) -> None:
    config = new_config({"THEANO_FLAGS": f"flag={raw}"})
    prefix = f"flag={raw!r} from THEANO_FLAGS is not valid: {expected}"
    with pytest.raises(FlagValueError, match=f"^{re.escape(prefix)}"):
        config.add("flag", "doc", param)


@pytest.mark.parametrize(
    ("param", "raw", "expected"),
    [
        (IntParam(1), True, "expected an integer"),
        (IntParam(1), 2.5, "expected an integer"),
        (FloatParam(1.0), "x", "expected a float"),
        (FloatParam(1.0), False, "expected a float"),
        (BoolParam(True), "nope", "expected a boolean"),
        (BoolParam(True), 2, "expected a boolean"),
        (EnumStr("a", "b"), 1, "expected one of 'a', 'b'"),
    ],
)
def test_bad_typed_values_from_code(new_config, param, raw, expected) -> None:
    config = new_config()
    config.add("flag", "doc", param)
    with pytest.raises(
        FlagValueError, match=f"^{re.escape(f'flag={raw!r} from code')}.*{expected}"
    ):
        config.flag = raw


def test_bad_default_is_reported_at_add(new_config) -> None:
    config = new_config()
    with pytest.raises(FlagValueError, match=r"^n='x' from default is not valid: expected an int"):
        config.add("n", "doc", IntParam("x"))


def test_filter_error_message_is_kept(new_config) -> None:
    def positive(raw: object) -> int:
        value = int(str(raw))
        if value <= 0:
            raise ValueError("must be positive")
        return value

    from tconfig import ConfigParam

    config = new_config({"THEANO_FLAGS": "n=-3"})
    with pytest.raises(FlagValueError, match=r"^n='-3' from THEANO_FLAGS is not valid: must be"):
        config.add("n", "doc", ConfigParam(1, filter=positive))


# -- malformed sources -----------------------------------------------------------------------


def test_malformed_theano_flags_item(new_config) -> None:
    message = (
        "THEANO_FLAGS: item 'floatX' has no '=' (expected name=value items separated by commas)"
    )
    with pytest.raises(FlagValueError, match=f"^{re.escape(message)}$"):
        new_config({"THEANO_FLAGS": "device=cpu, floatX ,mode=FAST_RUN"})


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("=float32", r"item '=float32' has an empty name"),
        ('a="b', r"unterminated \" quote"),
        ("a", r"item 'a' has no '='"),
    ],
)
def test_parse_flags_string_errors(text: str, pattern: str) -> None:
    with pytest.raises(FlagValueError, match=f"^MY_FLAGS: {pattern}"):
        parse_flags_string(text, source="MY_FLAGS")


@pytest.mark.parametrize(
    ("text", "lineno", "pattern"),
    [
        ("# settings\nfloatX = float32\n", 2, r"'floatX = float32' comes before any \[section\]"),
        ("[global]\nfloatX = float32\nthis line is junk\n", 3, r"cannot parse 'this line is junk'"),
        ("[global]\na = 1\n\nA = 2\n", 4, r"'a' is set twice in section \[global\]"),
        ("[gcc]\na = 1\n[global]\n[gcc]\n", 4, r"section \[gcc\] appears twice"),
        ("[global]\n = 3\n", 2, r"cannot parse '= 3'"),
    ],
    ids=["key-before-section", "junk-line", "duplicate-key", "duplicate-section", "empty-key"],
)
def test_malformed_rc_file_names_file_and_line(new_config, write_rc, text, lineno, pattern) -> None:
    path = write_rc(text)
    with pytest.raises(RcFileError, match=f"^{re.escape(f'{path}:{lineno}: ')}{pattern}") as info:
        new_config({"THEANORC": path})
    assert (info.value.path, info.value.lineno) == (path, lineno)


def test_rc_file_not_utf8(new_config, tmp_path: Path) -> None:
    path = tmp_path / "rc"
    path.write_bytes(b"[global]\nmode = caf\xe9\n")
    with pytest.raises(RcFileError, match=f"^{re.escape(str(path))}:2: is not valid UTF-8"):
        new_config({"THEANORC": str(path)})


def test_rc_path_is_a_directory(new_config, tmp_path: Path) -> None:
    with pytest.raises(RcFileError, match=f"^{re.escape(str(tmp_path))}: cannot be read"):
        new_config({"THEANORC": str(tmp_path)})


def test_malformed_later_rc_file_is_reported(new_config, write_rc) -> None:
    good = write_rc("[global]\na = 1\n", "good")
    bad = write_rc("[global\n", "bad")
    with pytest.raises(RcFileError, match=re.escape(f"{bad}:1")):
        new_config({"THEANORC": os.pathsep.join([good, bad])})


# -- read-only flags -------------------------------------------------------------------------


def test_read_only_assignment(tmp_path: Path) -> None:
    config = Config(
        flags_env="THEANO_FLAGS",
        rc_env="THEANORC",
        rc_default=("~/.theanorc", "~/.theanorc.txt"),
        environ={"HOME": str(tmp_path), "THEANO_FLAGS": "device=cuda0"},
    )
    config.add("device", "doc", DeviceParam())
    message = (
        "config.device cannot be changed after start-up; set it with THEANO_FLAGS=device=... "
        "or in ~/.theanorc"
    )
    with pytest.raises(ReadOnlyFlagError, match=f"^{re.escape(message)}$"):
        config.device = "cpu"
    with pytest.raises(ReadOnlyFlagError, match=re.escape(message)):
        config.change_flags(device="cpu")
    assert (config.device, config.source_of("device")) == ("cuda0", "THEANO_FLAGS")


def test_read_only_section_flag(new_config) -> None:
    config = Config(flags_env="THEANO_FLAGS", rc_default="~/.theanorc", environ={})
    config.add("lib.path", "doc", StrParam("", mutable=False))
    message = (
        "config.lib.path cannot be changed after start-up; set it with THEANO_FLAGS=lib.path=... "
        "or under [lib] in ~/.theanorc"
    )
    with pytest.raises(ReadOnlyFlagError, match=f"^{re.escape(message)}$"):
        config.lib.path = "/x"
    with pytest.raises(ReadOnlyFlagError):
        config.lib__path = "/x"
    with pytest.raises(ReadOnlyFlagError):
        config.change_flags({"lib.path": "/x"})


def test_read_only_without_any_source() -> None:
    config = Config(environ={})
    config.add("device", "doc", DeviceParam())
    with pytest.raises(
        ReadOnlyFlagError, match=r"^config.device cannot be changed after start-up$"
    ):
        config.device = "cuda"


# -- names -----------------------------------------------------------------------------------


def test_duplicate_add(new_config) -> None:
    config = new_config()
    config.add("floatX", "doc", FLOATX)
    with pytest.raises(DuplicateFlagError, match=r"^flag 'floatX' is already declared$"):
        config.add("floatX", "doc", FLOATX)
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.raises(DuplicateFlagError, match=r"^flag 'gcc.cxxflags' is already declared$"):
        config.add("gcc__cxxflags", "doc", StrParam(""))


def test_flag_and_section_cannot_share_a_name(new_config) -> None:
    config = new_config()
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.raises(DuplicateFlagError, match=r"'gcc' is already a section \(holding gcc"):
        config.add("gcc", "doc", StrParam(""))
    config.add("mode", "doc", StrParam(""))
    with pytest.raises(DuplicateFlagError, match=r"'mode' is already a flag, so 'mode.x'"):
        config.add("mode.x", "doc", StrParam(""))


@pytest.mark.parametrize("name", ["add", "flags", "change_flags", "env_flags", "rc_files"])
def test_flag_cannot_shadow_config_attributes(new_config, name: str) -> None:
    with pytest.raises(DuplicateFlagError, match=f"clashes with the Config attribute '{name}'"):
        new_config().add(name, "doc", StrParam(""))


@pytest.mark.parametrize("name", ["", "_private", "a..b", "a.", "1x", "a_", "with space", "a-b"])
def test_invalid_names(new_config, name: str) -> None:
    with pytest.raises(ValueError, match="invalid flag name"):
        new_config().add(name, "doc", StrParam(""))


def test_param_must_be_a_config_param(new_config) -> None:
    with pytest.raises(TypeError, match="ConfigParam"):
        new_config().add("a", "doc", "float32")


def test_unknown_assignment_suggests(new_config) -> None:
    config = new_config()
    config.add("floatX", "doc", FLOATX)
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.raises(
        UnknownFlagError, match=r"^config has no flag 'flaotX'; did you mean 'floatX'\?$"
    ):
        config.flaotX = "float32"
    with pytest.raises(AttributeError, match=r"did you mean 'gcc.cxxflags'\?$"):
        config.gcc.cxxflag = "-O2"
    with pytest.raises(UnknownFlagError, match=r"did you mean 'gcc.cxxflags'\?$"):
        config.gcc__cxxflag = "-O2"
    with pytest.raises(UnknownFlagError, match=r"^config has no flag 'zzz'$"):
        config.zzz = 1
    with pytest.raises(UnknownFlagError, match=r"did you mean 'floatX'\?$"):
        config.change_flags(floatx="float32")
    with pytest.raises(UnknownFlagError, match=r"did you mean 'floatX'\?$"):
        config.source_of("floatx")


def test_assigning_a_section(new_config) -> None:
    config = new_config()
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.raises(UnknownFlagError, match=r"^config.gcc is a section, not a flag; its flags"):
        config.gcc = "-O2"


def test_unknown_read_is_a_plain_attribute_error(new_config) -> None:
    config = new_config()
    config.add("floatX", "doc", FLOATX)
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.raises(AttributeError, match="flaotX"):
        config.flaotX  # noqa: B018
    assert not hasattr(config, "flaotX")
    assert not hasattr(config.gcc, "cxxflag")
    assert getattr(config, "nope", 42) == 42
    assert hasattr(config, "floatX") and hasattr(config.gcc, "cxxflags")


def test_flags_cannot_be_deleted(new_config) -> None:
    config = new_config()
    config.add("floatX", "doc", FLOATX)
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.raises(AttributeError, match="cannot be deleted"):
        del config.floatX
    with pytest.raises(AttributeError, match="cannot be deleted"):
        del config.gcc.cxxflags
    assert config.floatX == "float64"


# -- unknown names in the environment and rc files -------------------------------------------


def test_warn_unknown_env_flag_with_suggestion(new_config) -> None:
    config = new_config({"THEANO_FLAGS": "flaotX=float32,gcc__cxxflag=-O2,qqqq=1"})
    config.add("floatX", "doc", FLOATX)
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.warns(UnknownFlagWarning) as record:
        config.warn_unknown()
    messages = [str(w.message) for w in record]
    assert messages == [
        "THEANO_FLAGS sets unknown flag 'flaotX'; did you mean 'floatX'?",
        "THEANO_FLAGS sets unknown flag 'gcc.cxxflag'; did you mean 'gcc.cxxflags'?",
        "THEANO_FLAGS sets unknown flag 'qqqq'",
    ]


def test_warn_unknown_rc_flag_with_file_line_and_suggestion(new_config, write_rc) -> None:
    path = write_rc("[global]\nflaotX = float32\ngcc.cxxflags = -O2\n[gcc]\ncxxflag = -g\n")
    config = new_config({"THEANORC": path})
    config.add("floatX", "doc", FLOATX)
    config.add("gcc.cxxflags", "doc", StrParam(""))
    with pytest.warns(UnknownFlagWarning) as record:
        config.warn_unknown()
    assert [str(w.message) for w in record] == [
        f"{path}:2: unknown flag 'flaotX'; did you mean 'floatX'?",
        f"{path}:3: unknown flag 'gcc.cxxflags'; write it as 'cxxflags' under a [gcc] section",
        f"{path}:5: unknown flag 'gcc.cxxflag'; did you mean 'gcc.cxxflags'?",
    ]


def test_warn_unknown_warns_once_per_name(new_config) -> None:
    config = new_config({"THEANO_FLAGS": "flaotX=float32"})
    config.add("floatX", "doc", FLOATX)
    with pytest.warns(UnknownFlagWarning, match="did you mean 'floatX'"):
        config.warn_unknown()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        config.warn_unknown()


def test_warn_unknown_after_late_declaration(new_config) -> None:
    config = new_config({"THEANO_FLAGS": "late=1"})
    config.add("late", "doc", IntParam(0))
    config.warn_unknown()  # declared: no warning (warnings are errors here)
    assert config.late == 1

"""Where a flag's value comes from: code > THEANO_FLAGS > rc files (later wins) > default."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tconfig import Config, EnumStr, IntParam, StrParam, parse_flags_string

SOURCES = ("rc", "env", "code")
COMBOS = [
    combo for size in range(len(SOURCES) + 1) for combo in itertools.combinations(SOURCES, size)
]


def combo_id(combo: tuple[str, ...]) -> str:
    return "+".join(combo) or "default-only"


def enum() -> EnumStr:
    return EnumStr("default", "rc", "env", "code")


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
def test_top_level_precedence(combo, new_config, write_rc) -> None:
    environ = {}
    if "rc" in combo:
        environ["THEANORC"] = write_rc("[global]\nfloatX = rc\n")
    if "env" in combo:
        environ["THEANO_FLAGS"] = "floatX=env"
    config = new_config(environ)
    config.add("floatX", "doc", enum())
    if "code" in combo:
        config.floatX = "code"
    winner = combo[-1] if combo else "default"
    assert config.floatX == winner
    expected_source = {
        "default": "default",
        "rc": f"{environ.get('THEANORC')}:2",
        "env": "THEANO_FLAGS",
        "code": "code",
    }[winner]
    assert config.source_of("floatX") == expected_source


@pytest.mark.parametrize("combo", COMBOS, ids=combo_id)
@pytest.mark.parametrize("spelling", ["dotted", "underscores"])
def test_section_precedence(combo, spelling, new_config, write_rc) -> None:
    environ = {}
    if "rc" in combo:
        environ["THEANORC"] = write_rc("# compiler\n[gcc]\ncxxflags = rc\n")
    if "env" in combo:
        name = "gcc.cxxflags" if spelling == "dotted" else "gcc__cxxflags"
        environ["THEANO_FLAGS"] = f"{name}=env"
    config = new_config(environ)
    config.add("gcc.cxxflags", "doc", enum())
    if "code" in combo:
        if spelling == "dotted":
            config.gcc.cxxflags = "code"
        else:
            config.gcc__cxxflags = "code"
    winner = combo[-1] if combo else "default"
    assert config.gcc.cxxflags == winner
    assert config.gcc__cxxflags == winner
    expected_source = {
        "default": "default",
        "rc": f"{environ.get('THEANORC')}:3",
        "env": "THEANO_FLAGS",
        "code": "code",
    }[winner]
    assert config.source_of("gcc.cxxflags") == expected_source
    assert config.source_of("gcc__cxxflags") == expected_source


def test_later_rc_file_overrides_earlier_key_by_key(new_config, write_rc) -> None:
    first = write_rc("[global]\nfloatX = float16\nmode = FAST_COMPILE\n", "first")
    second = write_rc("[global]\n\nfloatX = float32\n", "second")
    config = new_config({"THEANORC": os.pathsep.join([first, second])})
    config.add("floatX", "doc", EnumStr("float64", "float32", "float16"))
    config.add("mode", "doc", StrParam("FAST_RUN"))
    assert config.rc_files == [first, second]
    assert (config.floatX, config.source_of("floatX")) == ("float32", f"{second}:3")
    assert (config.mode, config.source_of("mode")) == ("FAST_COMPILE", f"{first}:3")


def test_rc_file_order_reversed(new_config, write_rc) -> None:
    first = write_rc("[global]\nfloatX = float16\n", "first")
    second = write_rc("[global]\nfloatX = float32\n", "second")
    config = new_config({"THEANORC": os.pathsep.join([second, first])})
    config.add("floatX", "doc", EnumStr("float64", "float32", "float16"))
    assert (config.floatX, config.source_of("floatX")) == ("float16", f"{first}:2")


def test_missing_rc_files_are_skipped(new_config, write_rc, tmp_path: Path) -> None:
    present = write_rc("[global]\nfloatX = float32\n")
    missing = str(tmp_path / "nope" / "theanorc")
    config = new_config({"THEANORC": os.pathsep.join(["", missing, present, ""])})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    assert config.rc_files == [present]
    assert config.floatX == "float32"


def test_rc_default_expands_home_from_environ(tmp_path: Path) -> None:
    (tmp_path / ".theanorc").write_text("[global]\nfloatX = float16\nmode = a\n")
    (tmp_path / ".theanorc.txt").write_text("[global]\nfloatX = float32\n")
    config = Config(
        flags_env="THEANO_FLAGS",
        rc_env="THEANORC",
        rc_default=("~/.theanorc", "~/.theanorc.txt"),
        environ={"HOME": str(tmp_path)},
    )
    config.add("floatX", "doc", EnumStr("float64", "float32", "float16"))
    config.add("mode", "doc", StrParam("b"))
    assert config.rc_files == [str(tmp_path / ".theanorc"), str(tmp_path / ".theanorc.txt")]
    assert (config.floatX, config.mode) == ("float32", "a")


def test_empty_theanorc_means_no_rc_file(tmp_path: Path) -> None:
    (tmp_path / ".theanorc").write_text("[global]\nfloatX = float16\n")
    config = Config(
        rc_env="THEANORC", rc_default="~/.theanorc", environ={"HOME": str(tmp_path), "THEANORC": ""}
    )
    config.add("floatX", "doc", EnumStr("float64", "float16"))
    assert config.rc_files == []
    assert config.floatX == "float64"


def test_config_without_sources_reads_nothing() -> None:
    config = Config(environ={"THEANO_FLAGS": "floatX=float32"})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    assert (config.floatX, config.source_of("floatX")) == ("float64", "default")
    assert config.env_flags == {}
    assert config.rc_files == []


def test_flags_env_name_is_the_source(new_config) -> None:
    config = Config(flags_env="MY_FLAGS", environ={"MY_FLAGS": "floatX=float32"})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    assert config.source_of("floatX") == "MY_FLAGS"


def test_global_and_nested_sections(new_config, write_rc) -> None:
    path = write_rc(
        """
        ; Theano settings
        [global]
        floatx = float32

        [DebugMode]
        check_c = 7
        [dnn.conv]
        algo_fwd = time_once
        """
    )
    config = new_config({"THEANORC": path})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    config.add("DebugMode.check_c", "doc", IntParam(1))
    config.add("dnn.conv.algo_fwd", "doc", EnumStr("small", "time_once"))
    # rc keys are case-insensitive, as configparser (and so Theano 1.0) made them.
    assert (config.floatX, config.source_of("floatX")) == ("float32", f"{path}:3")
    assert config.DebugMode.check_c == 7
    assert config.source_of("DebugMode.check_c") == f"{path}:6"
    assert config.dnn.conv.algo_fwd == "time_once"
    assert config.dnn__conv__algo_fwd == "time_once"
    assert config.dnn.conv__algo_fwd == "time_once"
    assert config.source_of("dnn__conv__algo_fwd") == f"{path}:8"


def test_line_numbers_skip_comments_blank_and_continuation_lines(new_config, write_rc) -> None:
    path = write_rc(
        """
        [gcc]
        # a comment
        cxxflags = -O3
            -ffast-math

        ; another comment
        [global]
        mode = FAST_RUN
        """
    )
    config = new_config({"THEANORC": path})
    config.add("gcc.cxxflags", "doc", StrParam(""))
    config.add("mode", "doc", StrParam(""))
    assert config.gcc.cxxflags == "-O3\n-ffast-math"
    assert config.source_of("gcc.cxxflags") == f"{path}:3"
    assert config.source_of("mode") == f"{path}:8"


def test_rc_interpolation_as_theano(new_config, write_rc) -> None:
    path = write_rc(
        """
        [global]
        base_compiledir = /scratch/%(user)s/theano
        literal = 50%
        """
    )
    config = new_config({"THEANORC": path, "USER": "alice"})
    config.add("base_compiledir", "doc", StrParam(""))
    config.add("literal", "doc", StrParam(""))
    assert config.base_compiledir == "/scratch/alice/theano"
    # A value that cannot be interpolated is taken literally, as Theano 1.0 did.
    assert config.literal == "50%"


def test_rc_file_with_crlf_and_bom(new_config, tmp_path: Path) -> None:
    path = tmp_path / "rc"
    path.write_bytes(b"\xef\xbb\xbf[global]\r\n\r\nfloatX = float32\r\n")
    config = new_config({"THEANORC": str(path)})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    assert (config.floatX, config.source_of("floatX")) == ("float32", f"{path}:3")


def test_env_flags_and_rc_files_are_inspectable(new_config, write_rc) -> None:
    path = write_rc("[global]\nfloatX = float32\n")
    config = new_config({"THEANORC": path, "THEANO_FLAGS": " gcc__cxxflags = -O2 , mode=FAST_RUN"})
    assert config.env_flags == {"gcc.cxxflags": "-O2", "mode": "FAST_RUN"}
    assert config.rc_files == [path]


def test_env_is_read_once_at_construction(new_config) -> None:
    environ = {"THEANO_FLAGS": "floatX=float32"}
    config = Config(flags_env="THEANO_FLAGS", environ=environ)
    environ["THEANO_FLAGS"] = "floatX=float16"
    config.add("floatX", "doc", EnumStr("float64", "float32", "float16"))
    assert config.floatX == "float32"


def test_env_value_may_contain_equals_and_later_items_win(new_config) -> None:
    config = new_config({"THEANO_FLAGS": "gcc.cxxflags=-DA=1,,mode=a, gcc__cxxflags = -DB=2 ,"})
    config.add("gcc.cxxflags", "doc", StrParam(""))
    config.add("mode", "doc", StrParam(""))
    assert config.gcc.cxxflags == "-DB=2"
    assert config.mode == "a"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        (" , ,, ", {}),
        ("floatX=float32", {"floatX": "float32"}),
        (" floatX = float32 , device=cuda0", {"floatX": "float32", "device": "cuda0"}),
        ("gcc__cxxflags=-O3", {"gcc.cxxflags": "-O3"}),
        ("dnn__conv__algo_fwd=small", {"dnn.conv.algo_fwd": "small"}),
        ("a=b=c", {"a": "b=c"}),
        ("a=", {"a": ""}),
        ("a=1,a=2", {"a": "2"}),
        ('gcc.cxxflags="-O3,-g",b=1', {"gcc.cxxflags": "-O3,-g", "b": "1"}),
        ("x='a,b'", {"x": "a,b"}),
    ],
)
def test_parse_flags_string(text: str, expected: dict) -> None:
    assert parse_flags_string(text) == expected


def test_flags_in_declaration_order_and_membership(new_config) -> None:
    config = new_config()
    params = [EnumStr("a", "b"), StrParam(""), IntParam(1)]
    for name, param in zip(["zeta", "alpha.beta", "mid"], params):
        config.add(name, "doc", param)
    assert config.flags() == list(zip(["zeta", "alpha.beta", "mid"], params))
    assert "alpha.beta" in config
    assert "alpha__beta" in config
    assert "alpha" not in config
    assert "nope" not in config


def test_warn_unknown_only_for_undeclared(new_config, write_rc) -> None:
    path = write_rc("[global]\nFloatX = float32\n[gcc]\ncxxflags = -O2\n")
    config = new_config({"THEANORC": path, "THEANO_FLAGS": "floatX=float32,gcc__cxxflags=-g"})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    config.add("gcc.cxxflags", "doc", StrParam(""))
    config.warn_unknown()  # warnings are errors in this suite: nothing must be emitted


def test_section_objects(new_config) -> None:
    config = new_config()
    config.add("gcc.cxxflags", "doc", StrParam(""))
    config.add("gcc.other", "doc", IntParam(2))
    assert config.gcc.other == 2
    assert "gcc.cxxflags" in repr(config.gcc)
    assert "gcc.other" in repr(config.gcc)
    config.gcc.other = "5"
    assert config.gcc__other == 5
    assert config.source_of("gcc.other") == "code"


def test_reads_are_plain_instance_attributes(new_config) -> None:
    """The fast-read design: values live in instance dicts, no __getattr__ hook anywhere."""
    config = new_config({"THEANO_FLAGS": "floatX=float32"})
    config.add("floatX", "doc", EnumStr("float64", "float32"))
    config.add("gcc.cxxflags", "doc", StrParam("-O2"))
    assert vars(config)["floatX"] == "float32"
    assert vars(config)["gcc__cxxflags"] == "-O2"
    assert vars(config.gcc)["cxxflags"] == "-O2"
    assert not hasattr(type(config), "__getattr__")
    assert not hasattr(type(config.gcc), "__getattr__")
    config.gcc.cxxflags = "-O3"
    assert vars(config)["gcc__cxxflags"] == vars(config.gcc)["cxxflags"] == "-O3"


def test_configs_are_independent(new_config) -> None:
    first, second = new_config(), new_config()
    first.add("a", "doc", StrParam("", lambda value: True))
    second.add("a", "doc", StrParam("x"))
    first.add("lazy", "doc", StrParam(lambda: "one"))
    second.add("lazy", "doc", StrParam(lambda: "two"))
    assert (first.a, second.a, first.lazy, second.lazy) == ("", "x", "one", "two")
    assert type(first) is not type(second)
    assert isinstance(first, Config) and isinstance(second, Config)


def test_env_value_is_converted(new_config: Callable[..., Config]) -> None:
    config = new_config({"THEANO_FLAGS": "n= 12 "})
    config.add("n", "doc", IntParam(0))
    assert config.n == 12

"""change_flags: a context manager and decorator that restores values and sources on exit."""

from __future__ import annotations

import pytest

from tconfig import EnumStr, FlagValueError, IntParam, StrParam


@pytest.fixture
def config(new_config, write_rc):
    path = write_rc("[gcc]\ncxxflags = -O1\n")
    config = new_config({"THEANORC": path, "THEANO_FLAGS": "floatX=float32"})
    config.add("floatX", "doc", EnumStr("float64", "float32", "float16"))
    config.add("gcc.cxxflags", "doc", StrParam(""))
    config.add("n", "doc", IntParam(1))
    config._rc_path = path  # underscore names are plain attributes, not flags
    return config


def state(config) -> tuple:
    return (
        config.floatX,
        config.source_of("floatX"),
        config.gcc.cxxflags,
        config.gcc__cxxflags,
        config.source_of("gcc.cxxflags"),
        config.n,
        config.source_of("n"),
    )


def test_context_manager_sets_and_restores(config) -> None:
    before = state(config)
    assert before == ("float32", "THEANO_FLAGS", "-O1", "-O1", f"{config._rc_path}:2", 1, "default")
    with config.change_flags(floatX="float16", gcc__cxxflags="-O2", n="3"):
        assert state(config) == ("float16", "code", "-O2", "-O2", "code", 3, "code")
    assert state(config) == before


def test_dict_form_with_dotted_names(config) -> None:
    before = state(config)
    with config.change_flags({"gcc.cxxflags": "-O3", "floatX": "float64"}, n=7):
        assert config.gcc.cxxflags == config.gcc__cxxflags == "-O3"
        assert (config.floatX, config.n) == ("float64", 7)
    assert state(config) == before


def test_keyword_overrides_dict_entry_for_same_flag(config) -> None:
    with config.change_flags({"gcc.cxxflags": "-O3"}, gcc__cxxflags="-O0"):
        assert config.gcc.cxxflags == "-O0"
    assert config.gcc.cxxflags == "-O1"


def test_decorator(config) -> None:
    @config.change_flags(floatX="float16")
    def inner(expected_n: int) -> str:
        assert config.n == expected_n
        return config.floatX

    assert inner(1) == "float16"
    assert config.floatX == "float32"
    assert inner.__name__ == "inner"
    # The decorator is reusable and re-entrant (recursion through it restores correctly).

    @config.change_flags(n=5)
    def recurse(depth: int) -> list:
        seen = [(config.n, config.source_of("n"))]
        if depth:
            config.n = depth
            seen += recurse(depth - 1)
            assert config.n == depth
        return seen

    assert recurse(2) == [(5, "code")] * 3
    assert (config.n, config.source_of("n")) == (1, "default")


def test_nesting(config) -> None:
    with config.change_flags(floatX="float16", n=2):
        with config.change_flags(floatX="float64"):
            assert (config.floatX, config.n) == ("float64", 2)
            with config.change_flags(n=3, floatX="float32"):
                assert (config.floatX, config.n) == ("float32", 3)
            assert (config.floatX, config.n) == ("float64", 2)
        assert (config.floatX, config.source_of("floatX"), config.n) == ("float16", "code", 2)
    assert (config.floatX, config.source_of("floatX")) == ("float32", "THEANO_FLAGS")


def test_restores_on_exception(config) -> None:
    before = state(config)
    with pytest.raises(KeyError):
        with config.change_flags(floatX="float16", gcc__cxxflags="-g"):
            raise KeyError("boom")
    assert state(config) == before

    @config.change_flags(n=9)
    def fail() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail()
    assert state(config) == before


def test_assignment_inside_block_is_undone(config) -> None:
    with config.change_flags(floatX="float16"):
        config.floatX = "float64"
        config.n = 4  # not named in change_flags: stays changed
    assert (config.floatX, config.source_of("floatX")) == ("float32", "THEANO_FLAGS")
    assert (config.n, config.source_of("n")) == (4, "code")


def test_values_checked_before_anything_changes(config) -> None:
    before = state(config)
    with pytest.raises(FlagValueError, match=r"^n='x' from code is not valid: expected an int"):
        config.change_flags(floatX="float16", n="x")
    assert state(config) == before


def test_same_object_usable_twice(config) -> None:
    change = config.change_flags(n=8)
    with change:
        assert config.n == 8
    assert config.n == 1
    with change:
        with change:
            assert config.n == 8
        assert config.n == 8
    assert config.n == 1


def test_lazy_default_restored_as_lazy(new_config) -> None:
    config = new_config()
    config.add("base", "doc", StrParam("/b"))
    config.add("compiledir", "doc", StrParam(lambda: config.base + "/c"))
    assert config.compiledir == "/b/c"
    with config.change_flags(compiledir="/elsewhere"):
        assert (config.compiledir, config.source_of("compiledir")) == ("/elsewhere", "code")
    assert (config.compiledir, config.source_of("compiledir")) == ("/b/c", "default")
    with config.change_flags(base="/t"):
        assert config.compiledir == "/t/c"
    assert config.compiledir == "/b/c"


def test_returns_itself_on_enter(config) -> None:
    change = config.change_flags(n=2)
    with change as entered:
        assert entered is change

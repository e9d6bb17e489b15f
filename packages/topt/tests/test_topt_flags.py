"""topt imports on its own and declares Theano 1.0's optimizer flags correctly.

Values are checked on a fresh Config that ``declare`` fills, so neither the developer's
THEANO_FLAGS nor other tests can change what is seen, and nothing leaks into tgraph.config.
"""

from __future__ import annotations

import math

import pytest

import tconfig
import tgraph
import topt
from topt._config import OPTIMIZER_LEVELS, declare
from topt._version import __version__

FLAGS = {
    "optimizer": "o4",
    "optimizer_including": "",
    "optimizer_excluding": "",
    "optimizer_requiring": "",
    "optimizer_verbose": False,
    "on_opt_error": "warn",
    "optdb.position_cutoff": math.inf,
    "optdb.max_use_ratio": 8.0,
    "profile_optimizer": False,
}


def fresh(flags: str = "") -> tconfig.Config:
    config = tconfig.Config(flags_env="TEST_FLAGS", environ={"TEST_FLAGS": flags})
    declare(config)
    return config


def read(config: tconfig.Config, name: str) -> object:
    node: object = config
    for part in name.split("."):
        node = getattr(node, part)
    return node


def test_package_imports_and_exports_version() -> None:
    assert topt.__version__ == __version__
    assert "__version__" in topt.__all__


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_flag_declared_on_process_config(name: str) -> None:
    assert name in tgraph.config


@pytest.mark.parametrize(("name", "default"), sorted(FLAGS.items()), ids=sorted(FLAGS))
def test_default(name: str, default: object) -> None:
    config = fresh()
    assert read(config, name) == default
    assert config.source_of(name) == "default"


def test_declares_exactly_these_flags() -> None:
    assert {name for name, _ in fresh().flags()} == set(FLAGS)


def test_no_optimizer_flag_enters_the_c_key() -> None:
    config = fresh()
    before = config.get_config_hash()
    config.optimizer = "fast_compile"
    config.optimizer_verbose = True
    assert config.get_config_hash() == before


@pytest.mark.parametrize("level", OPTIMIZER_LEVELS)
def test_optimizer_accepts_each_level(level: str) -> None:
    config = fresh()
    config.optimizer = level
    assert config.optimizer == level


def test_optimizer_levels_are_theano_1_0s() -> None:
    assert OPTIMIZER_LEVELS[0] == "o4"
    assert set(OPTIMIZER_LEVELS) == {
        "o4", "o3", "o2", "o1", "unsafe", "fast_run", "fast_compile", "merge", "stabilize",
        "None",
    }


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("optimizer", "o5"),
        ("optimizer", "FAST_RUN"),
        ("on_opt_error", "crash"),
        ("optimizer_verbose", "maybe"),
        ("optdb.max_use_ratio", "many"),
        ("optdb.position_cutoff", "end"),
    ],
)
def test_bad_value_is_rejected(name: str, bad: str) -> None:
    config = fresh()
    with pytest.raises(tconfig.FlagValueError, match=name.replace(".", r"\.")):
        config.change_flags({name: bad})
    assert read(config, name) == FLAGS[name]


def test_bad_value_in_flags_variable_is_rejected_at_declaration() -> None:
    config = tconfig.Config(flags_env="TEST_FLAGS", environ={"TEST_FLAGS": "optimizer=o9"})
    with pytest.raises(tconfig.FlagValueError, match="TEST_FLAGS"):
        declare(config)


def test_flags_variable_sets_values() -> None:
    config = fresh("optimizer=fast_compile,optdb.max_use_ratio=2.5,on_opt_error=raise")
    assert config.optimizer == "fast_compile"
    assert config.optdb.max_use_ratio == 2.5
    assert config.on_opt_error == "raise"


@pytest.mark.parametrize("verb", ["including", "excluding", "requiring"])
def test_tag_lists_are_fixed_at_start_up(verb: str) -> None:
    config = fresh(f"optimizer_{verb}=fusion:inplace")
    assert getattr(config, f"optimizer_{verb}") == "fusion:inplace"
    with pytest.raises(tconfig.ReadOnlyFlagError):
        setattr(config, f"optimizer_{verb}", "")

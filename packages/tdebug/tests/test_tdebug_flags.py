"""tdebug imports on its own and declares Theano 1.0's DebugMode and NanGuardMode flags.

Values are checked on a fresh Config that ``declare`` fills (after tlink's, which declares
``cxx``), so neither the developer's THEANO_FLAGS nor other tests can change what is seen.
"""

from __future__ import annotations

from importlib import metadata

import pytest

import tconfig
import tdebug
import tgraph
from tdebug._config import PREALLOCATED_OUTPUT_CHECKS, declare
from tdebug._version import __version__
from tlink._config import declare as declare_tlink

FLAGS = {
    "DebugMode.patience": 10,
    "DebugMode.check_py": True,
    "DebugMode.check_finite": True,
    "DebugMode.check_strides": 0,
    "DebugMode.warn_input_not_reused": True,
    "DebugMode.check_preallocated_output": "",
    "DebugMode.check_preallocated_output_ndim": 4,
    "NanGuardMode.nan_is_error": True,
    "NanGuardMode.inf_is_error": True,
    "NanGuardMode.big_is_error": True,
    "NanGuardMode.action": "raise",
}
ALL_FLAGS = {*FLAGS, "DebugMode.check_c"}


def fresh(flags: str = "") -> tconfig.Config:
    config = tconfig.Config(flags_env="TEST_FLAGS", environ={"TEST_FLAGS": flags})
    declare_tlink(config)
    declare(config)
    return config


def read(config: tconfig.Config, name: str) -> object:
    node: object = config
    for part in name.split("."):
        node = getattr(node, part)
    return node


def test_package_imports_and_exports_version() -> None:
    assert tdebug.__version__ == __version__
    assert "__version__" in tdebug.__all__


@pytest.mark.parametrize("name", sorted(ALL_FLAGS))
def test_flag_declared_on_process_config(name: str) -> None:
    assert name in tgraph.config


def test_declares_exactly_these_flags() -> None:
    config = tconfig.Config()
    declare_tlink(config)
    before = {name for name, _ in config.flags()}
    declare(config)
    assert {name for name, _ in config.flags()} - before == ALL_FLAGS


@pytest.mark.parametrize(("name", "default"), sorted(FLAGS.items()), ids=sorted(FLAGS))
def test_default(name: str, default: object) -> None:
    config = fresh()
    assert read(config, name) == default
    assert config.source_of(name) == "default"


@pytest.mark.parametrize(("cxx", "check_c"), [("g++", True), ("", False)])
def test_check_c_defaults_to_having_a_compiler(cxx: str, check_c: bool) -> None:
    config = fresh(f"cxx={cxx}")
    assert config.DebugMode.check_c is check_c


def test_check_c_follows_cxx_until_set() -> None:
    config = fresh("cxx=g++")
    assert config.DebugMode.check_c is True
    config.cxx = ""
    assert config.DebugMode.check_c is False
    config.DebugMode.check_c = True
    assert config.DebugMode.check_c is True


@pytest.mark.parametrize("value", ["", "initial", "strided:wrong_size", "ALL"])
def test_check_preallocated_output_accepts(value: str) -> None:
    config = fresh()
    config.DebugMode.check_preallocated_output = value
    assert config.DebugMode.check_preallocated_output == value


def test_check_preallocated_output_lists_theano_1_0s_checks() -> None:
    assert set(PREALLOCATED_OUTPUT_CHECKS) == {
        "initial", "previous", "c_contiguous", "f_contiguous", "strided", "wrong_size", "ALL",
    }


@pytest.mark.parametrize("strides", [0, 1, 2])
def test_check_strides_accepts(strides: int) -> None:
    assert fresh(f"DebugMode.check_strides={strides}").DebugMode.check_strides == strides


@pytest.mark.parametrize("action", ["raise", "warn", "pdb"])
def test_nanguard_action_accepts(action: str) -> None:
    assert fresh(f"NanGuardMode.action={action}").NanGuardMode.action == action


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("DebugMode.patience", 0),
        ("DebugMode.patience", "ten"),
        ("DebugMode.check_strides", 3),
        ("DebugMode.check_finite", "perhaps"),
        ("DebugMode.check_preallocated_output", "initial:sideways"),
        ("DebugMode.check_preallocated_output_ndim", 0),
        ("NanGuardMode.action", "ignore"),
        ("NanGuardMode.big_is_error", "very"),
    ],
)
def test_bad_value_is_rejected(name: str, bad: object) -> None:
    config = fresh()
    with pytest.raises(tconfig.FlagValueError, match=name.replace(".", r"\.")):
        config.change_flags({name: bad})
    assert read(config, name) == FLAGS[name]


def test_publishes_a_theano_extension_entry_point() -> None:
    try:
        metadata.distribution("tdebug")
    except metadata.PackageNotFoundError:
        pytest.skip("tdebug is not installed (run from source): no entry point metadata")
    found = {ep.name: ep.value for ep in metadata.entry_points(group="theano.extensions")}
    assert found.get("tdebug") == "tdebug"

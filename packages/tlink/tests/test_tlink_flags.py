"""tlink imports on its own and declares Theano 1.0's linking and compiling flags correctly.

Values are checked on a fresh Config that ``declare`` fills, so neither the developer's
THEANO_FLAGS nor other tests can change what is seen, and nothing leaks into tgraph.config.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess

import pytest

import tconfig
import tgraph
import tlink
from tlink import _config as tlink_config
from tlink._config import DEFAULT_COMPILEDIR_FORMAT, LINKERS, MODES, declare
from tlink._version import __version__

FLAGS = {
    "device": "cpu",
    "mode": "Mode",
    "linker": "cvm",
    "allow_gc": True,
    "vm.lazy": None,
    "on_unused_input": "raise",
    "gcc.cxxflags": "",
    "blas.ldflags": "",
    "compiledir_format": DEFAULT_COMPILEDIR_FORMAT,
    "profile": False,
    "profile_memory": False,
    "profiling.n_apply": 20,
    "profiling.n_ops": 20,
    "profiling.output_line_width": 512,
    "profiling.min_memory_size": 1024,
    "profiling.destination": "stderr",
    "profiling.ignore_first_call": False,
    "openmp": False,
    "openmp_elemwise_minsize": 200000,
    "cmodule.warn_no_version": False,
    "cmodule.remove_gxx_opt": False,
}
# Flags whose default depends on the machine; checked by their own tests.
LAZY_FLAGS = ("cxx", "base_compiledir", "compiledir")


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
    assert tlink.__version__ == __version__
    assert "__version__" in tlink.__all__


@pytest.mark.parametrize("name", sorted([*FLAGS, *LAZY_FLAGS]))
def test_flag_declared_on_process_config(name: str) -> None:
    assert name in tgraph.config


def test_declares_exactly_these_flags() -> None:
    assert {name for name, _ in fresh().flags()} == {*FLAGS, *LAZY_FLAGS}


@pytest.mark.parametrize(("name", "default"), sorted(FLAGS.items()), ids=sorted(FLAGS))
def test_default(name: str, default: object) -> None:
    config = fresh()
    assert read(config, name) == default
    assert config.source_of(name) == "default"


def test_declaring_runs_no_program(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("declare() must not probe the machine")

    monkeypatch.setattr(shutil, "which", forbidden)
    monkeypatch.setattr(subprocess, "run", forbidden)
    fresh()


def test_cxx_default_is_the_compiler_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: f"/opt/bin/{name}")
    config = fresh()
    assert config.cxx in ("/opt/bin/g++", "/opt/bin/clang++")


def test_cxx_default_is_empty_without_a_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert fresh().cxx == ""


def test_cxx_can_be_disabled() -> None:
    config = fresh("cxx=")
    assert config.cxx == ""
    config.cxx = "clang++"
    assert config.cxx == "clang++"


def test_compiledir_defaults_under_home(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    config = fresh()
    base = os.path.join(str(tmp_path), ".theano")
    assert config.base_compiledir == base
    assert os.path.dirname(config.compiledir) == base
    name = os.path.basename(config.compiledir)
    assert name.startswith("compiledir_")
    assert platform.python_version() in name
    # Reading the flags creates nothing: the cache makes its directory on first use.
    assert not os.path.exists(base)


def test_compiledir_follows_base_and_format(tmp_path: os.PathLike[str]) -> None:
    config = fresh(
        f"base_compiledir={tmp_path},compiledir_format=cache_%(python_version)s (%(device)s)"
    )
    expected = f"cache_{platform.python_version()}_cpu_"
    assert config.compiledir == os.path.join(str(tmp_path), expected)


def test_compiledir_format_keys_are_theano_1_0s() -> None:
    keys = set(tlink_config._FormatKeys(fresh()))
    assert keys == {
        "platform", "short_platform", "processor", "python_version", "python_bitwidth",
        "python_int_bitwidth", "theano_version", "numpy_version", "gxx_version", "hostname",
        "device",
    }


def test_gxx_version_is_probed_only_when_the_format_asks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []
    monkeypatch.setattr(tlink_config, "_compiler_version", lambda config: calls.append(1) or "9")
    config = fresh()
    assert config.compiledir
    assert calls == []
    config = fresh("compiledir_format=c_%(gxx_version)s")
    assert os.path.basename(config.compiledir) == "c_9"
    assert calls == [1]


@pytest.mark.parametrize("name", ["device", "base_compiledir", "compiledir_format", "compiledir"])
def test_read_only_flags(name: str) -> None:
    config = fresh()
    with pytest.raises(tconfig.ReadOnlyFlagError):
        setattr(config, name, "cpu")


@pytest.mark.parametrize("device", ["cpu", "cuda", "cuda0", "cuda1", "gpu"])
def test_device_accepts(device: str) -> None:
    assert fresh(f"device={device}").device == device


def test_device_rejects_unknown_names() -> None:
    with pytest.raises(tconfig.FlagValueError, match="device"):
        fresh("device=tpu0")


@pytest.mark.parametrize("mode", MODES)
def test_mode_accepts(mode: str) -> None:
    config = fresh()
    config.mode = mode
    assert config.mode == mode


@pytest.mark.parametrize("linker", LINKERS)
def test_linker_accepts(linker: str) -> None:
    config = fresh()
    config.linker = linker
    assert config.linker == linker


@pytest.mark.parametrize(
    ("raw", "value"),
    [("None", None), ("True", True), ("False", False), (None, None), (True, True), (False, False)],
)
def test_vm_lazy_values(raw: object, value: object) -> None:
    config = fresh()
    with config.change_flags({"vm.lazy": raw}):
        assert config.vm.lazy is value
    assert config.vm.lazy is None


@pytest.mark.parametrize(
    ("name", "bad"),
    [
        ("mode", "FAST"),
        ("linker", "cvm|py"),
        ("on_unused_input", "error"),
        ("allow_gc", "sometimes"),
        ("vm.lazy", "maybe"),
        ("openmp", "2"),
        ("openmp_elemwise_minsize", "big"),
        ("profile", "yes please"),
    ],
)
def test_bad_value_is_rejected(name: str, bad: str) -> None:
    config = fresh()
    with pytest.raises(tconfig.FlagValueError, match=name.replace(".", r"\.")):
        config.change_flags({name: bad})
    assert read(config, name) == FLAGS[name]


def test_only_remove_gxx_opt_enters_the_c_key() -> None:
    config = fresh()
    before = config.get_config_hash()
    config.linker = "py"
    config.gcc.cxxflags = "-O0"
    assert config.get_config_hash() == before
    config.cmodule.remove_gxx_opt = True
    assert config.get_config_hash() != before

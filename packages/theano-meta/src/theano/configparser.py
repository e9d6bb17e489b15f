"""theano.configparser: the names Theano 1.0 code imports from here, served by tconfig.

The configuration itself is ``tgraph.config`` (a ``tconfig.Config``); this module adapts
Theano 1.0's spellings to it. Differences from Theano 1.0, all deliberate:

* The param classes take Theano's ``allow_override`` keyword (tconfig calls it
  ``mutable``) and are subclasses of tconfig's, so ``AddConfigVar`` accepts both.
* Errors are tconfig's: a bad value raises ``tconfig.FlagValueError`` (a ValueError), a
  name declared twice ``tconfig.DuplicateFlagError`` (a ValueError, where Theano raised
  AttributeError), an assignment to a read-only flag ``tconfig.ReadOnlyFlagError`` (a
  TypeError, where Theano raised a bare Exception).
* ``THEANO_FLAGS_DICT`` is a snapshot of the parsed variable; Theano 1.0 removed names from
  it as flags consumed them. ``parse_config_string`` rejects an item without ``=`` instead
  of warning and skipping it.
* ``theano_cfg`` and ``theano_raw_cfg`` (Theano's ConfigParser objects) are not offered:
  rc files are read by tconfig; ``fetch_val_for_key`` answers from what it read.
"""

from __future__ import annotations

import configparser as _configparser
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import tconfig
from tgraph import config

__all__ = [
    "THEANO_FLAGS",
    "THEANO_FLAGS_DICT",
    "AddConfigVar",
    "BoolParam",
    "ConfigParam",
    "DeviceParam",
    "EnumStr",
    "FloatParam",
    "IntParam",
    "StrParam",
    "TheanoConfigParser",
    "TheanoConfigWarning",
    "TypedParam",
    "change_flags",
    "config",
    "config_files",
    "config_files_from_theanorc",
    "fetch_val_for_key",
    "get_config_hash",
    "parse_config_string",
]

#: The configuration class (Theano 1.0's name for it).
TheanoConfigParser = tconfig.Config

#: The warning about names in THEANO_FLAGS or .theanorc that no package declared.
TheanoConfigWarning = tconfig.UnknownFlagWarning

#: THEANO_FLAGS as it was when theano was imported.
THEANO_FLAGS: str = os.environ.get("THEANO_FLAGS", "")


def parse_config_string(config_string: str, issue_warnings: bool = True) -> dict[str, str]:
    """Parse ``"name=value,section.name=value"`` into a dict (later items win).

    ``issue_warnings`` is accepted for compatibility; malformed items raise FlagValueError.
    """
    del issue_warnings
    return tconfig.parse_flags_string(config_string, source="THEANO_FLAGS")


#: THEANO_FLAGS parsed, as the configuration read it.
THEANO_FLAGS_DICT: dict[str, str] = dict(config.env_flags)


def config_files_from_theanorc() -> list[str]:
    """The rc files named by THEANORC (``os.pathsep``-separated), else the default ones."""
    spec = os.environ.get("THEANORC")
    if spec is None:
        entries: Iterable[str] = ("~/.theanorc", "~/.theanorc.txt")
    else:
        entries = spec.split(os.pathsep)
    return [os.path.expanduser(entry) for entry in entries if entry.strip()]


#: The rc files the configuration actually read, in order (later ones win).
config_files: list[str] = list(config.rc_files)


def fetch_val_for_key(key: str, delete_key: bool = False) -> str:
    """The raw string a user gave for flag ``key``: from THEANO_FLAGS, else from an rc file.

    Raises KeyError when neither sets it. ``delete_key`` is accepted for compatibility and
    ignored (the configuration keeps its own copy). Rc files are re-read on each call, with
    Theano 1.0's ``%(USER)s``-style variables; this function is for compatibility, not speed.
    """
    del delete_key
    name = key.replace("__", ".")
    if name in config.env_flags:
        return config.env_flags[name]
    section, _, option = name.rpartition(".")
    home = os.path.expanduser("~")
    variables = {
        "USER": os.environ.get("USER", os.path.basename(home.rstrip("/\\"))),
        "LSCRATCH": os.environ.get("LSCRATCH", ""),
        "TMPDIR": os.environ.get("TMPDIR", ""),
        "TEMP": os.environ.get("TEMP", ""),
        "TMP": os.environ.get("TMP", ""),
        "PID": str(os.getpid()),
    }
    parser = _configparser.ConfigParser(defaults=variables)
    parser.read(config.rc_files, encoding="utf-8-sig")
    section = section or "global"
    if not parser.has_section(section) or not parser.has_option(section, option):
        raise KeyError(key)
    try:
        return parser.get(section, option)
    except _configparser.InterpolationError:
        return parser.get(section, option, raw=True)


def get_config_hash() -> str:
    """SHA-256 hex digest of the flags that enter the key of compiled C modules."""
    return config.get_config_hash()


def change_flags(args: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), **kwargs: Any):
    """Set flags of ``theano.config`` for a ``with`` block or a decorated function.

    As in Theano 1.0, dotted names can be given in a dict: ``change_flags({"gcc.cxxflags":
    "-O3"}, floatX="float32")``.
    """
    changes = dict(args)
    changes.update(kwargs)
    return config.change_flags(changes)


def AddConfigVar(
    name: str,
    doc: str,
    configparam: tconfig.ConfigParam,
    root: tconfig.Config = config,
    in_c_key: bool = True,
) -> None:
    """Declare flag ``name`` on ``root`` (``theano.config`` by default)."""
    root.add(name, doc, configparam, in_c_key=in_c_key)


class ConfigParam(tconfig.ConfigParam):
    """A flag with a default and an optional ``filter`` converting (and checking) raw values."""

    def __init__(
        self,
        default: Any,
        filter: Callable[[Any], Any] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, filter=filter, mutable=allow_override)


class EnumStr(tconfig.EnumStr):
    """A string flag restricted to ``(default,) + options``; ``convert`` is applied first."""

    def __init__(
        self,
        default: str,
        *options: str,
        convert: Callable[[Any], Any] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, *options, mutable=allow_override)
        self._convert_first = convert

    def convert(self, raw: Any) -> Any:
        if self._convert_first is not None:
            raw = self._convert_first(raw)
        return super().convert(raw)


class TypedParam(tconfig.TypedParam):
    """A flag whose raw values are converted by ``mytype`` and checked by ``is_valid``."""

    def __init__(
        self,
        default: Any,
        mytype: type,
        is_valid: Callable[[Any], bool] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, mytype, is_valid=is_valid, mutable=allow_override)


class StrParam(tconfig.StrParam):
    """A string flag."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, is_valid=is_valid, mutable=allow_override)


class IntParam(tconfig.IntParam):
    """An integer flag."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, is_valid=is_valid, mutable=allow_override)


class FloatParam(tconfig.FloatParam):
    """A float flag."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, is_valid=is_valid, mutable=allow_override)


class BoolParam(tconfig.BoolParam):
    """A boolean flag (True/False, 1/0, and their spellings in strings)."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        allow_override: bool = True,
    ) -> None:
        super().__init__(default, is_valid=is_valid, mutable=allow_override)


class DeviceParam(tconfig.DeviceParam):
    """A device name flag (``cpu``, ``cuda``, ``cudaN``, ...); Theano 1.0 kept it in
    configdefaults. Extra positional options are accepted and ignored, as there."""

    def __init__(self, default: str, *options: str, allow_override: bool = True) -> None:
        del options
        super().__init__(default, mutable=allow_override)

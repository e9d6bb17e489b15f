"""The Config object: where packages declare flags and everyone reads them.

Config is the public face of a Registry: it reads the flags variable and rc files once,
when built, then resolves each flag as it is declared. Precedence, highest first: code
(assignment or change_flags), the flags variable, rc files (later files win), the default.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Iterable, Mapping
from contextlib import ContextDecorator
from typing import Any

from tconfig._errors import UnknownFlagWarning
from tconfig._names import canonical, suggest
from tconfig._params import ConfigParam
from tconfig._registry import Flag, Registry, rc_key
from tconfig._sources import (
    GLOBAL_SECTION,
    interpolation_vars,
    parse_flags_string,
    rc_paths,
    read_rc_files,
)

__all__ = ["Config"]


class Config:
    """A set of typed flags fed by code, an environment variable and INI rc files.

    ``flags_env`` names the variable holding ``name=value,...`` items; ``rc_env`` the
    variable holding an os.pathsep-separated list of rc files, ``rc_default`` the files read
    when it is unset. ``environ`` (default ``os.environ``) is read here, once. Read flags as
    attributes: ``config.floatX``, ``config.gcc.cxxflags`` or ``config.gcc__cxxflags``.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Config:
        # Each Config gets a class of its own, so that lazy defaults can be class-level
        # descriptors without any __getattr__ hook slowing down every read.
        own = type(cls.__name__, (cls,), {"__module__": cls.__module__})
        own.__qualname__ = cls.__qualname__
        return super().__new__(own)

    def __init__(
        self,
        *,
        flags_env: str | None = None,
        rc_env: str | None = None,
        rc_default: Iterable[str] | str = (),
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if environ is None:
            environ = os.environ
        if isinstance(rc_default, str):
            rc_default = (rc_default,)
        rc_default = tuple(rc_default)
        flags_string = environ.get(flags_env) if flags_env else None
        env_flags = parse_flags_string(flags_string, source=flags_env) if flags_string else {}
        spec = environ.get(rc_env) if rc_env else None
        files, entries = read_rc_files(
            rc_paths(spec, rc_default, environ), interpolation_vars(environ)
        )
        if rc_default:
            rc_hint: str | None = rc_default[0]
        else:
            rc_hint = f"a file named by {rc_env}" if rc_env else None
        reserved = frozenset(n for n in dir(type(self)) if not n.startswith("_"))
        registry = Registry(
            self, reserved | {"env_flags", "rc_files"}, flags_env, env_flags, entries, rc_hint
        )
        object.__setattr__(self, "_tc", registry)
        object.__setattr__(self, "env_flags", env_flags)
        object.__setattr__(self, "rc_files", files)

    # -- declaring and reading ------------------------------------------------------------

    def add(self, name: str, doc: str, param: ConfigParam, in_c_key: bool = True) -> None:
        """Declare flag ``name`` (``"floatX"``, ``"gcc.cxxflags"``) and resolve its value.

        Raises DuplicateFlagError if the name is taken, FlagValueError if the value found
        in the flags variable or an rc file (or the default) is not valid for ``param``.
        ``in_c_key`` flags go into ``get_config_hash()``.
        """
        self._tc.add(name, doc, param, in_c_key)

    def flags(self) -> list[tuple[str, ConfigParam]]:
        """``(name, param)`` of every declared flag, in declaration order."""
        return [(flag.name, flag.param) for flag in self._tc.flags.values()]

    def source_of(self, name: str) -> str:
        """Where the current value comes from: ``default``, the flags variable, ``file:line``
        or ``code``."""
        return self._tc.lookup(name).source

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and canonical(name) in self._tc.flags

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._tc.assign(name, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            raise AttributeError(f"config flags cannot be deleted ({name})")

    # -- changing temporarily -------------------------------------------------------------

    def change_flags(
        self, changes: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> ChangeFlags:
        """Context manager and decorator setting flags for a block, then restoring them.

        Accepts a dict (dotted or ``__`` names) and/or keyword arguments. Names, writability
        and values are checked here, before anything changes.
        """
        merged = dict(changes or {})
        merged.update(kwargs)
        return ChangeFlags(self._tc, merged)

    # -- reporting ------------------------------------------------------------------------

    def warn_unknown(self) -> None:
        """Warn (UnknownFlagWarning) once per name set in the flags variable or an rc file
        that no package declared, suggesting the closest declared names."""
        registry = self._tc
        known = registry.flags
        for name in registry.env_flags:
            if name not in known and ("env", name) not in registry.warned:
                registry.warned.add(("env", name))
                warnings.warn(
                    f"{registry.flags_env} sets unknown flag {name!r}{suggest(name, known)}",
                    UnknownFlagWarning,
                    stacklevel=2,
                )
        known_rc = {rc_key(name) for name in known}
        for key, entry in registry.rc_entries.items():
            if key in known_rc or ("rc", key) in registry.warned:
                continue
            registry.warned.add(("rc", key))
            display = entry.display_name
            if entry.section == GLOBAL_SECTION and rc_key(canonical(display)) in known_rc:
                section, _, leaf = canonical(display).rpartition(".")
                hint = f"; write it as {leaf!r} under a [{section}] section"
            else:
                hint = suggest(display, known)
            warnings.warn(
                f"{entry.source}: unknown flag {display!r}{hint}", UnknownFlagWarning, stacklevel=2
            )

    def get_config_hash(self) -> str:
        """SHA-256 hex digest of ``name=value`` of the in_c_key flags, sorted by name."""
        registry = self._tc
        if registry.hash is None:
            digest = hashlib.sha256()
            for name in sorted(n for n, f in registry.flags.items() if f.in_c_key):
                value = registry.value(registry.flags[name])
                line = f"{name}={type(value).__name__}:{value}\n"
                digest.update(line.encode("utf-8", "backslashreplace"))
            registry.hash = digest.hexdigest()
        return registry.hash

    def __str__(self) -> str:
        return "\n".join(_describe(self._tc, flag) for flag in self._tc.flags.values())

    def __repr__(self) -> str:
        registry = self._tc
        count = len(registry.flags)
        return (
            f"<tconfig.Config: {count} flag{'' if count == 1 else 's'}, "
            f"flags_env={registry.flags_env!r}, rc_files={self.rc_files!r}>"
        )


def _describe(registry: Registry, flag: Flag) -> str:
    """The ``str(config)`` block of one flag."""
    try:
        value = repr(registry.value(flag))
    except Exception as exc:  # a failing lazy default must not break printing
        value = f"<error: {type(exc).__name__}: {exc}>"
    kind = f"{type(flag.param).__name__}: {flag.param.describe()}"
    if not flag.param.mutable:
        kind += "; read-only"
    doc = "\n            ".join(line.strip() for line in (flag.doc or "").strip().splitlines())
    lines = [
        f"{flag.name} ({kind})",
        f"    Doc:    {doc}",
        f"    Value:  {value}",
        f"    Source: {flag.source}",
    ]
    return "\n".join(lines) + "\n"


class ChangeFlags(ContextDecorator):
    """What ``Config.change_flags`` returns: a reusable, re-entrant context manager."""

    def __init__(self, registry: Registry, changes: Mapping[str, Any]) -> None:
        self._registry = registry
        resolved: dict[str, tuple[Flag, Any]] = {}
        for name, raw in changes.items():
            flag = registry.lookup(name)
            registry.check_writable(flag)
            value = flag.param.filter_value(raw, name=flag.name, source="code")
            resolved[flag.name] = (flag, value)
        self._changes = list(resolved.values())
        self._saved: list[list[tuple[Flag, tuple[Any, str, bool]]]] = []

    def __enter__(self) -> ChangeFlags:
        registry = self._registry
        self._saved.append([(flag, registry.snapshot(flag)) for flag, _ in self._changes])
        for flag, value in self._changes:
            registry.set(flag, value, "code")
        registry.invalidate()
        return self

    def __exit__(self, *exc_info: object) -> None:
        registry = self._registry
        for flag, state in reversed(self._saved.pop()):
            registry.restore(flag, state)
        registry.invalidate()

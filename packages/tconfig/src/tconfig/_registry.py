"""Flag storage behind a Config: declared flags, their current values and sources.

Reads must be as cheap as plain attribute reads, so a flag's current value is copied into
the ``__dict__`` of every object it can be read from (``config.gcc__cxxflags`` and
``config.gcc.cxxflags``), and neither Config nor its sections define ``__getattr__`` (which
would disable CPython's attribute-read fast paths). A lazy default is instead a non-data
descriptor on the object's own class: it is only reached while no value is cached in the
instance, computes the value and caches it. Every write goes through this registry, which
keeps all copies equal and drops cached lazy values when anything changes.
"""

from __future__ import annotations

import sys
from typing import Any

from tconfig._errors import DuplicateFlagError, ReadOnlyFlagError, UnknownFlagError
from tconfig._names import canonical, check_name, suggest
from tconfig._params import ConfigParam
from tconfig._sources import GLOBAL_SECTION, RcEntry

_UNSET: Any = object()


def rc_key(name: str) -> tuple[str, str]:
    """``'gcc.cxxflags'`` -> ``('gcc', 'cxxflags')``; ``'floatX'`` -> ``('global', 'floatx')``."""
    section, _, leaf = name.rpartition(".")
    return (section or GLOBAL_SECTION, leaf.lower())


class Flag:
    """One declared flag and its state; ``mirrors`` are the (object, attribute) copies."""

    __slots__ = ("doc", "in_c_key", "lazy", "mirrors", "name", "param", "source", "value")

    def __init__(self, name: str, doc: str, param: ConfigParam, in_c_key: bool) -> None:
        self.name = name
        self.doc = doc
        self.param = param
        self.in_c_key = in_c_key
        self.value: Any = _UNSET
        self.source = "default"
        self.lazy = False  # True while the flag follows its callable default
        self.mirrors: tuple[tuple[object, str], ...] = ()


class LazyDefault:
    """Class-level stand-in for a lazy flag: computes and caches the value on first read."""

    __slots__ = ("flag", "registry")

    def __init__(self, registry: Registry, flag: Flag) -> None:
        self.registry = registry
        self.flag = flag

    def __get__(self, obj: object, objtype: type | None = None) -> Any:
        if obj is None:
            return self
        return self.registry.value(self.flag)


class ConfigSection:
    """``config.gcc``: reads and writes the flags whose names start with ``gcc.``."""

    def __new__(cls, registry: Registry, prefix: str) -> ConfigSection:
        # A class of its own, so that lazy defaults can live on it (see LazyDefault).
        own = type(cls.__name__, (cls,), {"__module__": cls.__module__})
        return object.__new__(own)

    def __init__(self, registry: Registry, prefix: str) -> None:
        object.__setattr__(self, "_tc_registry", registry)
        object.__setattr__(self, "_tc_prefix", prefix)

    def __setattr__(self, name: str, value: Any) -> None:
        self._tc_registry.assign(f"{self._tc_prefix}.{canonical(name)}", value)

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"config flags cannot be deleted ({self._tc_prefix}.{name})")

    def __repr__(self) -> str:
        names = self._tc_registry.names_under(self._tc_prefix)
        return f"<config section {self._tc_prefix!r}: {', '.join(names)}>"


class Registry:
    """The flags of one Config, in declaration order, and the raw values from outside."""

    def __init__(
        self,
        root: object,
        reserved: frozenset[str],
        flags_env: str | None,
        env_flags: dict[str, str],
        rc_entries: dict[tuple[str, str], RcEntry],
        rc_hint: str | None,
    ) -> None:
        self.root = root
        self.reserved = reserved
        self.flags_env = flags_env
        self.env_flags = env_flags
        self.rc_entries = rc_entries
        self.rc_hint = rc_hint
        self.flags: dict[str, Flag] = {}
        self.nodes: dict[str, object] = {"": root}
        self.lazy_cached: list[Flag] = []
        self.hash: str | None = None
        self.warned: set[str] = set()

    # -- declaring -----------------------------------------------------------------------

    def add(self, name: str, doc: str, param: ConfigParam, in_c_key: bool) -> Flag:
        """Declare a flag and resolve its value from the flags variable, rc files or default."""
        if not isinstance(param, ConfigParam):
            raise TypeError(f"param must be a ConfigParam instance, got {param!r}")
        name = canonical(name)
        parts = check_name(name)
        self._check_free(name, parts)
        flag = Flag(name, doc, param, bool(in_c_key))
        rc_entry = self.rc_entries.get(rc_key(name))
        if name in self.env_flags:
            flag.source = str(self.flags_env)
            flag.value = param.filter_value(self.env_flags[name], name=name, source=flag.source)
        elif rc_entry is not None:
            flag.source = rc_entry.source
            flag.value = param.filter_value(rc_entry.value, name=name, source=flag.source)
        elif param.is_lazy:
            flag.lazy = True
        else:
            flag.value = param.filter_value(param.default, name=name, source="default")
        # Validation passed: only now create sections and copies, so failures leave no trace.
        mirrors = []
        for depth in range(len(parts)):
            node = self._node(parts[:depth])
            # Interned like names in code objects: CPython's specialised attribute reads
            # compare key identity, and deoptimise on every read of a non-interned key.
            key = sys.intern("__".join(parts[depth:]))
            mirrors.append((node, key))
            if flag.lazy:  # only a flag that starts lazy can ever be lazy again
                setattr(type(node), key, LazyDefault(self, flag))
        flag.mirrors = tuple(mirrors)
        if not flag.lazy:
            self._write(flag)
        self.flags[name] = flag
        self.hash = None
        return flag

    def _check_free(self, name: str, parts: tuple[str, ...]) -> None:
        if name in self.flags:
            raise DuplicateFlagError(f"flag {name!r} is already declared")
        if name in self.nodes:
            raise DuplicateFlagError(
                f"{name!r} is already a section (holding {', '.join(self.names_under(name))}); "
                "it cannot also be a flag"
            )
        for depth in range(1, len(parts)):
            prefix = ".".join(parts[:depth])
            if prefix in self.flags:
                raise DuplicateFlagError(
                    f"{prefix!r} is already a flag, so {name!r} cannot be declared under it"
                )
        if parts[0] in self.reserved:
            raise DuplicateFlagError(
                f"flag name {name!r} clashes with the Config attribute {parts[0]!r}"
            )

    def _node(self, parts: tuple[str, ...]) -> object:
        prefix = ".".join(parts)
        node = self.nodes.get(prefix)
        if node is None:
            node = ConfigSection(self, prefix)
            parent = self._node(parts[:-1])
            object.__setattr__(parent, sys.intern(parts[-1]), node)
            self.nodes[prefix] = node
        return node

    def names_under(self, prefix: str) -> list[str]:
        """Names of the flags in section ``prefix`` (and its subsections)."""
        return [name for name in self.flags if name.startswith(prefix + ".")]

    # -- looking up ----------------------------------------------------------------------

    def lookup(self, name: str) -> Flag:
        """Return the flag named ``name`` (either spelling) or raise UnknownFlagError."""
        name = canonical(name)
        flag = self.flags.get(name)
        if flag is not None:
            return flag
        if name in self.nodes:
            raise UnknownFlagError(
                f"config.{name} is a section, not a flag; its flags are "
                + ", ".join(self.names_under(name))
            )
        raise UnknownFlagError(f"config has no flag {name!r}{suggest(name, self.flags)}")

    def value(self, flag: Flag) -> Any:
        """Current value of ``flag``, computing (and caching) a lazy default if needed."""
        if flag.lazy and flag.value is _UNSET:
            raw = flag.param.default()
            flag.value = flag.param.filter_value(raw, name=flag.name, source="default")
            self._write(flag)
            self.lazy_cached.append(flag)
        return flag.value

    # -- changing ------------------------------------------------------------------------

    def check_writable(self, flag: Flag) -> None:
        """Raise ReadOnlyFlagError if code may not change ``flag``."""
        if flag.param.mutable:
            return
        how = []
        if self.flags_env:
            how.append(f"with {self.flags_env}={flag.name}=...")
        section = rc_key(flag.name)[0]
        if self.rc_hint and section == GLOBAL_SECTION:
            how.append(f"in {self.rc_hint}")
        elif self.rc_hint:
            how.append(f"under [{section}] in {self.rc_hint}")
        message = f"config.{flag.name} cannot be changed after start-up"
        if how:
            message += "; set it " + " or ".join(how)
        raise ReadOnlyFlagError(message)

    def assign(self, name: str, raw: Any) -> None:
        """Code assignment: validate ``raw`` and make it the value, with source ``code``."""
        flag = self.lookup(name)
        self.check_writable(flag)
        value = flag.param.filter_value(raw, name=flag.name, source="code")
        self.set(flag, value, "code")
        self.invalidate()

    def set(self, flag: Flag, value: Any, source: str) -> None:
        """Store an already validated value (call ``invalidate`` after a batch of sets)."""
        flag.value = value
        flag.source = source
        flag.lazy = False
        self._write(flag)

    def snapshot(self, flag: Flag) -> tuple[Any, str, bool]:
        """State of ``flag`` that ``restore`` puts back."""
        return (flag.value, flag.source, flag.lazy)

    def restore(self, flag: Flag, state: tuple[Any, str, bool]) -> None:
        """Put back a ``snapshot`` (a lazy default is recomputed on next read)."""
        value, flag.source, flag.lazy = state
        if flag.lazy:
            flag.value = _UNSET
            self._erase(flag)
        else:
            flag.value = value
            self._write(flag)

    def invalidate(self) -> None:
        """Forget cached lazy defaults (they may depend on what changed) and the hash.

        Read-only flags keep theirs: once read, a flag that cannot change must not change.
        """
        self.hash = None
        kept = []
        for flag in self.lazy_cached:
            if not flag.lazy:
                continue
            if flag.param.mutable:
                flag.value = _UNSET
                self._erase(flag)
            else:
                kept.append(flag)
        self.lazy_cached = kept

    def _write(self, flag: Flag) -> None:
        for node, key in flag.mirrors:
            object.__setattr__(node, key, flag.value)

    def _erase(self, flag: Flag) -> None:
        for node, key in flag.mirrors:
            try:
                object.__delattr__(node, key)
            except AttributeError:
                pass

"""Exception and warning classes of tconfig.

Each error also derives from the builtin exception that callers would naturally catch for
that kind of mistake (ValueError for bad values, AttributeError for unknown names, TypeError
for writes to read-only flags), so code written against plain Python semantics keeps working.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DuplicateFlagError",
    "FlagValueError",
    "RcFileError",
    "ReadOnlyFlagError",
    "UnknownFlagError",
    "UnknownFlagWarning",
]


class ConfigError(Exception):
    """Base class of every error tconfig raises."""


class FlagValueError(ConfigError, ValueError):
    """A flag value (from code, the flags variable, an rc file or a default) is not valid.

    Also raised for a malformed item of the flags variable (an item without ``=``).
    ``flag``, ``value`` and ``source`` are filled in when known, else ``None``.
    """

    flag: str | None = None
    value: object = None
    source: str | None = None


class RcFileError(ConfigError, ValueError):
    """An rc file cannot be read or parsed; the message names the file and the line."""

    path: str | None = None
    lineno: int | None = None


class DuplicateFlagError(ConfigError, ValueError):
    """``Config.add`` was given a name that is already in use (flag, section or method)."""


class ReadOnlyFlagError(ConfigError, TypeError):
    """Code tried to change a flag declared with ``mutable=False`` after start-up."""


class UnknownFlagError(ConfigError, AttributeError):
    """Code named a flag that was never declared (assignment, ``change_flags``, ``source_of``)."""


class UnknownFlagWarning(UserWarning):
    """The flags variable or an rc file sets a name that no package declared."""

"""Flag types: how a raw value (a string from the environment or an rc file, or any object
assigned in code) is converted to the flag's typed value and checked.

Every conversion failure surfaces as FlagValueError whose message names the flag, the raw
value, where it came from and what was expected, so users can fix their THEANO_FLAGS or rc
file without reading source code.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from typing import Any

from tconfig._errors import FlagValueError

__all__ = [
    "BoolParam",
    "ConfigParam",
    "DeviceParam",
    "EnumStr",
    "FloatParam",
    "IntParam",
    "StrParam",
    "TypedParam",
]


class ConfigParam:
    """A flag type: a default, an optional converter and an optional validity check.

    ``default`` may be a zero-argument callable: it is then a lazy default, called on the
    first read of the flag (and again after any other flag changes) and converted like any
    other value. ``filter(raw)`` converts a raw value and may raise ValueError/TypeError;
    ``is_valid(value)`` returns False (or raises ValueError) to reject a converted value.
    ``mutable=False`` makes the flag settable only from the environment or rc files.
    """

    def __init__(
        self,
        default: Any,
        filter: Callable[[Any], Any] | None = None,
        is_valid: Callable[[Any], bool] | None = None,
        mutable: bool = True,
    ) -> None:
        self.default = default
        self.filter = filter
        self.is_valid = is_valid
        self.mutable = bool(mutable)

    @property
    def is_lazy(self) -> bool:
        """Whether the default is a callable computed on first read."""
        return callable(self.default)

    def describe(self) -> str:
        """Short text of the accepted values, used in error messages and ``str(config)``."""
        if self.filter is None:
            return "any value"
        return f"a value accepted by {getattr(self.filter, '__name__', repr(self.filter))}()"

    def convert(self, raw: Any) -> Any:
        """Return ``raw`` converted to the flag's type; raise ValueError/TypeError with a reason."""
        if self.filter is None:
            return raw
        return self.filter(raw)

    def filter_value(self, raw: Any, *, name: str | None = None, source: str | None = None) -> Any:
        """Convert and validate ``raw``; raise FlagValueError naming ``name`` and ``source``."""
        try:
            value = self.convert(raw)
        except (ValueError, TypeError) as exc:
            raise self._error(raw, name, source, str(exc)) from exc
        if self.is_valid is None:
            return value
        try:
            ok = self.is_valid(value)
        except ValueError as exc:  # a TypeError here is a bug in is_valid: let it through
            raise self._error(raw, name, source, str(exc)) from exc
        if not ok:
            reason = f"rejected by the flag's validity check (expected {self.describe()})"
            raise self._error(raw, name, source, reason)
        return value

    def _error(self, raw: Any, name: str | None, source: str | None, reason: str) -> FlagValueError:
        where = f" from {source}" if source else ""
        subject = f"{name}={raw!r}" if name else repr(raw)
        err = FlagValueError(
            f"{subject}{where} is not valid: {reason or 'expected ' + self.describe()}"
        )
        err.flag, err.value, err.source = name, raw, source
        return err

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}, default={self.default!r}>"


class TypedParam(ConfigParam):
    """A flag whose value is an instance of ``mytype``; other values are passed to ``mytype``."""

    def __init__(
        self,
        default: Any,
        mytype: type,
        is_valid: Callable[[Any], bool] | None = None,
        mutable: bool = True,
    ) -> None:
        super().__init__(default, None, is_valid, mutable)
        self.mytype = mytype

    def describe(self) -> str:
        return f"a value of type {self.mytype.__name__}"

    def convert(self, raw: Any) -> Any:
        if isinstance(raw, self.mytype):
            return raw
        try:
            return self.mytype(raw)
        except (ValueError, TypeError, ArithmeticError):
            raise ValueError(f"expected {self.describe()}") from None


class StrParam(TypedParam):
    """A free-form string flag (non-strings assigned in code are converted with ``str``)."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        mutable: bool = True,
    ) -> None:
        super().__init__(default, str, is_valid, mutable)

    def describe(self) -> str:
        return "a string"


class IntParam(TypedParam):
    """An integer flag: accepts ints and strings such as ``"3"`` or ``" -12 "``; not bools."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        mutable: bool = True,
    ) -> None:
        super().__init__(default, int, is_valid, mutable)

    def describe(self) -> str:
        return "an integer"

    def convert(self, raw: Any) -> Any:
        if isinstance(raw, str):
            try:
                return int(raw.strip())
            except ValueError:
                pass
        elif isinstance(raw, numbers.Integral) and not isinstance(raw, bool):
            return int(raw)
        elif isinstance(raw, numbers.Real) and not isinstance(raw, bool):
            if float(raw).is_integer():
                return int(raw)
        raise ValueError(f"expected {self.describe()}")


class FloatParam(TypedParam):
    """A float flag: accepts real numbers and strings such as ``"1e-3"``; not bools."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        mutable: bool = True,
    ) -> None:
        super().__init__(default, float, is_valid, mutable)

    def describe(self) -> str:
        return "a float"

    def convert(self, raw: Any) -> Any:
        if isinstance(raw, str):
            try:
                return float(raw.strip())
            except ValueError:
                pass
        elif isinstance(raw, numbers.Real) and not isinstance(raw, bool):
            return float(raw)
        raise ValueError(f"expected {self.describe()}")


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


class BoolParam(TypedParam):
    """A boolean flag: True/False, 1/0, or the words true/false, yes/no, on/off in any case."""

    def __init__(
        self,
        default: Any,
        is_valid: Callable[[Any], bool] | None = None,
        mutable: bool = True,
    ) -> None:
        super().__init__(default, bool, is_valid, mutable)

    def describe(self) -> str:
        return "a boolean (True/False, 1/0, yes/no, on/off)"

    def convert(self, raw: Any) -> Any:
        if isinstance(raw, str):
            word = raw.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        elif isinstance(raw, numbers.Integral) and raw in (0, 1):
            return bool(raw)
        raise ValueError(f"expected {self.describe()}")


class EnumStr(ConfigParam):
    """A string flag restricted to ``(default,) + options``; ``all`` holds them in order."""

    def __init__(self, default: str, *options: str, mutable: bool = True) -> None:
        super().__init__(default, None, None, mutable)
        self.all = (default, *options)
        for option in self.all:
            if not isinstance(option, str):
                raise TypeError(f"EnumStr options must be strings, got {option!r}")

    def describe(self) -> str:
        return "one of " + ", ".join(repr(option) for option in self.all)

    def convert(self, raw: Any) -> Any:
        if isinstance(raw, str) and raw in self.all:
            return raw
        raise ValueError(f"expected {self.describe()}")


_DEVICE = re.compile(r"(?:cpu|cuda\d*|gpu\d*|opencl\d+:\d+)\Z", re.ASCII)


class DeviceParam(ConfigParam):
    """A device name: ``cpu``, ``cuda``, ``cudaN``, ``gpu``, ``gpuN`` or ``openclN:M``.

    The default itself is always accepted (so ``DeviceParam("")`` can mean "not set").
    Read-only by default: the device is chosen once, at start-up.
    """

    def __init__(self, default: str = "cpu", mutable: bool = False) -> None:
        super().__init__(default, None, None, mutable)

    def describe(self) -> str:
        return "a device: 'cpu', 'cuda', 'cudaN', 'gpu', 'gpuN' or 'openclN:M' (N, M integers)"

    def convert(self, raw: Any) -> Any:
        if isinstance(raw, str) and (raw == self.default or _DEVICE.match(raw)):
            return raw
        raise ValueError(f"expected {self.describe()}")

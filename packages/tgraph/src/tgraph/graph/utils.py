"""Small shared pieces of the IR: scratchpads for ``tag``, stack traces, errors, ids."""

from __future__ import annotations

import itertools
import sys
import traceback
from typing import Any


class MethodNotDefined(NotImplementedError):
    """An optional method of an Op or Type (``c_code``, ``grad``, ...) is not implemented.

    Callers catch it to fall back (for instance from C to Python code).
    """


class TestValueError(ValueError):
    """A test value is missing or an Op failed while computing test values."""

    __test__ = False  # not a pytest test class


class Scratchpad:
    """Free-form attribute bag (``var.tag``): users and rewrites park information on it."""

    def __repr__(self) -> str:
        return "Scratchpad" + repr(self.__dict__)

    def info(self) -> None:
        print(f"<Scratchpad {id(self)}>")
        for k, v in self.__dict__.items():
            print(f"  {k}: {v}")


class ValidatingScratchpad(Scratchpad):
    """A scratchpad whose ``test_value`` is converted by the owning variable's Type.

    Assigning ``x.tag.test_value = data`` runs ``x.type.filter(data)`` at once, so a test value
    of the wrong dtype or number of dimensions is refused where it is set, with the
    variable's name in the message.
    """

    def __init__(self, owner_var: Any):
        object.__setattr__(self, "_owner_var", owner_var)

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "test_value":
            var = self._owner_var
            try:
                value = var.type.filter(value, strict=False, allow_downcast=True)
            except (TypeError, ValueError) as exc:
                raise TestValueError(
                    f"test value given to {var} does not fit its type {var.type}: {exc}"
                ) from exc
        object.__setattr__(self, name, value)

    def __getstate__(self):
        state = dict(self.__dict__)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return "Scratchpad" + repr({k: v for k, v in self.__dict__.items() if k != "_owner_var"})


_ids = itertools.count()


def next_id() -> int:
    """A process-wide increasing counter (used for auto names and debug ids)."""
    return next(_ids)


_INTERNAL_PREFIXES: tuple[str, ...] = ()


def register_internal_path(prefix: str) -> None:
    """Declare a source directory whose frames are left out of user stack traces."""
    global _INTERNAL_PREFIXES
    if prefix not in _INTERNAL_PREFIXES:
        _INTERNAL_PREFIXES = (*_INTERNAL_PREFIXES, prefix)


def user_stack(limit: int) -> list[traceback.FrameSummary]:
    """The caller's stack without our own packages' frames, innermost ``limit`` kept."""
    if limit == 0:
        return []
    # Walk frames lazily and read no source lines: this runs for every variable created.
    frame, picked = sys._getframe(2), []
    while frame is not None and (limit < 0 or len(picked) < limit):
        if not frame.f_code.co_filename.startswith(_INTERNAL_PREFIXES):
            picked.append((frame, frame.f_lineno))
        frame = frame.f_back
    picked.reverse()
    # FrameSummary directly: StackSummary.extract also primes linecache for every file,
    # which made tracing a third of the cost of rewriting big graphs.
    return [traceback.FrameSummary(f.f_code.co_filename, lineno, f.f_code.co_name,
                                   lookup_line=False) for f, lineno in picked]


def add_tag_trace(thing: Any, limit: int | None = None) -> Any:
    """Record where ``thing`` (a Variable) was created, for error messages (``tag.trace``)."""
    if limit is None:
        from tgraph._config import config

        limit = config.traceback__limit
    if limit == 0:
        return thing
    thing.tag.trace = [user_stack(limit)]
    return thing


def get_variable_trace_string(v: Any) -> str:
    """Where a variable was created, formatted for an error message ('' when unknown)."""
    tr = getattr(v.tag, "trace", [])
    if not tr or not tr[0]:
        return ""
    lines = traceback.format_list(tr[0])
    return "Backtrace when that variable is created:\n" + "".join(lines)

"""How the theano namespace reports a part of Theano 1.0 that this rebuild does not have yet.

``require(module, provides=...)`` imports the package module that serves a theano module
and, when that module does not exist yet, raises ``NotYetImplementedError`` with a message
that says so; ``not_yet(name, provider)`` builds the same error for a missing attribute.

If nothing catches the error, the interpreter prints that message alone (no traceback) and
exits with status 1: a user running a Theano script learns what is missing, not where our
import machinery failed. Any other exception is displayed as usual.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType, TracebackType

__all__ = ["NotYetImplementedError", "not_yet", "require"]


class NotYetImplementedError(NotImplementedError, AttributeError):
    """A Theano 1.0 module or name that this rebuild does not provide yet.

    Also an AttributeError, so ``hasattr(theano, name)`` and ``getattr(theano, name, None)``
    keep answering "absent" for a name that is not there yet.
    """


def _excepthook(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
) -> None:
    if isinstance(exc, NotYetImplementedError):
        print(f"{exc_type.__name__}: {exc}", file=sys.stderr)
    else:
        _previous_hook(exc_type, exc, tb)


_previous_hook = sys.excepthook


def _install_excepthook() -> None:
    """Show an uncaught NotYetImplementedError as its message; delegate everything else."""
    global _previous_hook
    if sys.excepthook is not _excepthook:
        _previous_hook = sys.excepthook
        sys.excepthook = _excepthook


def not_yet(name: str, provider: str) -> NotYetImplementedError:
    """The error for Theano 1.0's ``name``, which ``provider`` will serve but does not yet."""
    _install_excepthook()
    return NotYetImplementedError(
        f"{name} is not implemented yet in this Theano rebuild: it will be served by "
        f"{provider}, which does not provide it yet."
    )


def require(module: str, *, provides: str) -> ModuleType:
    """Import and return ``module``, which serves ``provides``, or raise NotYetImplementedError.

    Only the absence of ``module`` itself is translated: an import error raised inside it
    (a missing dependency, a bug) propagates unchanged.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    raise not_yet(provides, module) from None

"""Error and warning classes of tlink.

Each error class also subclasses the builtin that Theano 1.0 raised in the same situation, so
code that caught ``TypeError`` or ``ValueError`` around ``theano.function`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "BadInputError",
    "FallbackWarning",
    "TlinkError",
    "UnknownNameError",
    "UnusedInputError",
]


class TlinkError(Exception):
    """Base of the errors tlink raises about how a function was built or called."""


class UnusedInputError(TlinkError, ValueError):
    """An input given to ``function`` is not needed to compute the outputs or updates.

    Theano 1.0 raised it (an Exception subclass) for unused inputs and for an input listed
    twice; ``on_unused_input='warn'`` or ``'ignore'`` turns the first case off.
    """


class BadInputError(TlinkError, TypeError):
    """A value passed to a compiled function does not fit the input's type.

    A TypeError, as the ``Type.filter`` failure Theano 1.0 re-raised in this place.
    """


class UnknownNameError(TlinkError, ValueError):
    """A mode, linker or optimizer name that no table knows."""


class FallbackWarning(UserWarning):
    """A named linker, optimizer or mode does not exist yet; something simpler runs instead.

    Emitted once per name and process, so the user learns that e.g. ``linker='cvm'`` runs
    on the Python VM without a warning at every call.
    """

"""One warning per missing name and process, when something simpler runs in its place.

Theano 1.0 names C linkers, optimizer levels and checking modes that this rebuild adds
package by package. A program naming one still runs, with what exists, and is told so
once: a warning at every call would drown the user, silence would mislead them.
"""

from __future__ import annotations

import os
import sys
import warnings

import tgraph
from tlink.errors import FallbackWarning

__all__ = ["reset_fallback_warnings", "user_stacklevel", "warn_fallback", "warned_names"]

_warned: set[str] = set()


def _is_ours(filename: str) -> bool:
    return filename.startswith(_library_dirs())


def _library_dirs() -> tuple[str, ...]:
    return (os.path.dirname(os.path.abspath(__file__)),
            os.path.dirname(os.path.abspath(tgraph.__file__)))


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning, issued by this function's caller, point at
    the first frame outside tlink/tgraph (the user's line)."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and _is_ours(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def warn_fallback(what: str, why: str, instead: str) -> bool:
    """Warn ``"<what> is not available yet (<why>); <instead>"`` unless already done.

    Returns whether a warning was emitted. ``what`` is the key: each distinct name warns
    once per process (until :func:`reset_fallback_warnings`). The warning points at the
    user's line that led here.
    """
    if what in _warned:
        return False
    _warned.add(what)
    warnings.warn(f"{what} is not available yet ({why}); {instead}", FallbackWarning,
                  stacklevel=user_stacklevel())
    return True


def warned_names() -> frozenset[str]:
    """The names already warned about in this process."""
    return frozenset(_warned)


def reset_fallback_warnings() -> None:
    """Forget which names were warned about (for tests, and after registering a backend)."""
    _warned.clear()

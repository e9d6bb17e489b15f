"""Flag-name spelling rules and "did you mean" suggestions.

A flag has one canonical dotted name (``gcc.cxxflags``); ``gcc__cxxflags`` is the spelling
that works as a Python attribute and in shells. Components are restricted so that the two
spellings map one-to-one and never collide with private attributes (leading underscore).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

_COMPONENT = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*\Z")


def canonical(name: str) -> str:
    """Return the dotted spelling of ``name``: ``'a__b'`` -> ``'a.b'``."""
    return name.replace("__", ".")


def check_name(name: str) -> tuple[str, ...]:
    """Return the components of the canonical ``name``, or raise ValueError if it is unusable."""
    parts = tuple(name.split("."))
    for part in parts:
        if not _COMPONENT.match(part):
            raise ValueError(
                f"invalid flag name {name!r}: each dot-separated part must start with a letter "
                "and contain only letters, digits and single underscores (not at the end)"
            )
    return parts


def suggest(name: str, known: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the names closest to ``name``, or ``""``."""
    known = list(known)
    matches = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not matches:
        # Case slips ("floatx") score low for short names; compare case-folded too.
        folded = {k.casefold(): k for k in known}
        matches = [
            folded[m] for m in difflib.get_close_matches(name.casefold(), folded, n=3, cutoff=0.6)
        ]
    if not matches:
        return ""
    quoted = [repr(m) for m in matches]
    if len(quoted) == 1:
        return f"; did you mean {quoted[0]}?"
    return f"; did you mean {', '.join(quoted[:-1])} or {quoted[-1]}?"

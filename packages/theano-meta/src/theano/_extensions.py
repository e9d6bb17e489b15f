"""Loading of the optional packages that publish a ``theano.extensions`` entry point.

An entry point names a module (``tgpu = "tgpu"``); loading it imports the module, which
registers its flags, rewrites, linkers or modes. One broken extension must not make
``import theano`` fail: it is reported by name in a warning and skipped.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points

__all__ = ["EXTENSION_GROUP", "ExtensionWarning", "load_extensions"]

EXTENSION_GROUP = "theano.extensions"

_loaded: dict[str, object] = {}
_attempted: set[str] = set()


class ExtensionWarning(RuntimeWarning):
    """A ``theano.extensions`` entry point could not be loaded."""


def load_extensions() -> dict[str, object]:
    """Load each ``theano.extensions`` entry point once; return the loaded ones by name.

    A name seen twice (the same distribution on two path entries) is loaded once; a failed
    one is not retried, so its warning appears once per process.
    """
    for ep in entry_points(group=EXTENSION_GROUP):
        if ep.name in _attempted:
            continue
        _attempted.add(ep.name)
        try:
            _loaded[ep.name] = ep.load()
        except Exception as exc:
            warnings.warn(
                f"theano: extension {ep.name!r} ({ep.value}) failed to load and is skipped: "
                f"{type(exc).__name__}: {exc}",
                ExtensionWarning,
                stacklevel=2,
            )
    return dict(_loaded)

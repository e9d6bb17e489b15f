"""theano: Theano 1.0's public namespace, served by the tconfig/tgraph/topt/tlink/tdebug/tgpu
packages.

This package holds no logic: it imports the packages (each declares its flags on the shared
configuration as it is imported), loads the optional ``theano.extensions`` entry points,
then warns once about any THEANO_FLAGS or .theanorc name that nobody declared.
"""

import tconfig as _tconfig  # noqa: F401  (the generic config machinery; imported first)
import tdebug as _tdebug  # noqa: F401
import tgpu as _tgpu  # noqa: F401
import tgraph as _tgraph
import tlink as _tlink  # noqa: F401
import topt as _topt  # noqa: F401
from theano import configparser
from theano._extensions import load_extensions as _load_extensions
from theano._missing import not_yet as _not_yet
from theano._version import __version__
from theano.configparser import change_flags

config = _tgraph.config

_load_extensions()
# After every package and extension has declared its flags, so only real typos are reported.
config.warn_unknown()

__all__ = ["__version__", "change_flags", "config", "configparser"]

# Theano 1.0 names that the packages do not serve yet, and who will. Reading one raises a
# NotYetImplementedError saying so (an AttributeError too, so hasattr() stays False). A name
# leaves this table's reach as soon as the import above that provides it is added.
_PENDING = {
    "function": "tlink",
    "Mode": "tlink",
    "In": "tlink",
    "Out": "tlink",
    "shared": "tgraph",
    "grad": "tgraph",
    "Op": "tgraph",
    "Apply": "tgraph",
    "Variable": "tgraph",
    "Constant": "tgraph",
    "Type": "tgraph",
    "FunctionGraph": "tgraph",
    "pp": "tgraph",
    "pprint": "tgraph",
}


def __getattr__(name: str) -> object:
    if name in _PENDING:
        raise _not_yet(f"theano.{name}", _PENDING[name])
    raise AttributeError(f"module 'theano' has no attribute {name!r}")

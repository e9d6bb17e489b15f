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
from tgraph.gradient import Lop, Rop, grad
from tgraph.graph import (
    Apply,
    Constant,
    FunctionGraph,
    Op,
    Type,
    Variable,
    clone,
)
from tgraph.shared import SharedVariable, shared
from tgraph.tensor.basic import get_scalar_constant_value
from tgraph.tensor.dot import dot
from theano import compile, configparser, gof, gradient, printing, scalar, tensor
from theano._extensions import load_extensions as _load_extensions
from theano._missing import not_yet as _not_yet
from theano._version import __version__
from theano.compile import (
    FAST_COMPILE,
    FAST_RUN,
    In,
    Mode,
    Out,
    ProfileStats,
    function,
    function_dump,
    predefined_linkers,
    predefined_modes,
    predefined_optimizers,
)
from theano.configparser import change_flags
from theano.printing import pp, pprint

config = _tgraph.config

_load_extensions()
# After every package and extension has declared its flags, so only real typos are reported.
config.warn_unknown()

__all__ = [
    "FAST_COMPILE",
    "FAST_RUN",
    "Apply",
    "Constant",
    "FunctionGraph",
    "In",
    "Lop",
    "Mode",
    "Op",
    "Out",
    "ProfileStats",
    "Rop",
    "SharedVariable",
    "Type",
    "Variable",
    "__version__",
    "change_flags",
    "clone",
    "compile",
    "config",
    "configparser",
    "dot",
    "function",
    "function_dump",
    "get_scalar_constant_value",
    "gof",
    "grad",
    "gradient",
    "pp",
    "pprint",
    "predefined_linkers",
    "predefined_modes",
    "predefined_optimizers",
    "printing",
    "scalar",
    "shared",
    "tensor",
]

# Theano 1.0 names that the packages do not serve yet, and who will. Reading one raises a
# NotYetImplementedError saying so (an AttributeError too, so hasattr() stays False). A name
# leaves this table as soon as the import above that provides it is added.
_PENDING = {
    "scan": "a scan package (not yet written)",
    "scan_module": "a scan package (not yet written)",
    "map": "a scan package (not yet written)",
    "reduce": "a scan package (not yet written)",
    "foldl": "a scan package (not yet written)",
    "foldr": "a scan package (not yet written)",
    "ifelse": "an ifelse op for tlink's lazy VM (not yet written)",
    "OpFromGraph": "tlink (not yet written)",
    "sparse": "a sparse package (not yet written)",
}


def __getattr__(name: str) -> object:
    if name in _PENDING:
        raise _not_yet(f"theano.{name}", _PENDING[name])
    raise AttributeError(f"module 'theano' has no attribute {name!r}")

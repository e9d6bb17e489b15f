"""The tensor library (``theano.tensor``): types, variables and the op families.

Each op module is importable on its own and lists its public names in ``__all__``; this
namespace gathers them, as Theano 1.0's ``theano.tensor`` did.
"""

import sys as _sys

from tgraph.tensor.advanced_subtensor import *  # noqa: F403
from tgraph.tensor.alloc import *  # noqa: F403
from tgraph.tensor.assert_op import *  # noqa: F403
from tgraph.tensor.axes import *  # noqa: F403
from tgraph.tensor.basic import *  # noqa: F403
from tgraph.tensor.diag import *  # noqa: F403
from tgraph.tensor.dot import *  # noqa: F403
from tgraph.tensor.elemwise import *  # noqa: F403
from tgraph.tensor.extra_ops import *  # noqa: F403
from tgraph.tensor.join import *  # noqa: F403
from tgraph.tensor.math import *  # noqa: F403
from tgraph.tensor.rebroadcast import *  # noqa: F403
from tgraph.tensor.reduction import *  # noqa: F403
from tgraph.tensor.scalar_conv import *  # noqa: F403
from tgraph.tensor.shape import *  # noqa: F403
from tgraph.tensor.sort import *  # noqa: F403
from tgraph.tensor.subtensor import *  # noqa: F403
from tgraph.tensor.type import *  # noqa: F403
from tgraph.tensor.variable import *  # noqa: F403

_MODULE_NAMES = (
    "advanced_subtensor", "assert_op",
    "basic",
    "rebroadcast", "alloc", "axes", "diag", "dot", "elemwise", "extra_ops", "join",
    "math", "reduction", "scalar_conv", "shape", "sort", "subtensor", "type", "variable",
)

__all__ = sorted(
    {name for mod in _MODULE_NAMES for name in _sys.modules[f"tgraph.tensor.{mod}"].__all__}
)

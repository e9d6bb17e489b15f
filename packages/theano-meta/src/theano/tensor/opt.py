"""theano.tensor.opt: registering tensor rewrites, Assert, and the catalog's local rewrites.

Served by topt (the registrars and the catalog) and tgraph (Assert): code that registers
its own rewrites with ``@register_canonicalize`` / ``@register_specialize`` as in Theano 1.0
keeps working.
"""

from tgraph.tensor.assert_op import Assert, assert_op  # noqa: F401
from topt.features.shape import ShapeFeature  # noqa: F401
from topt.optdb import (  # noqa: F401
    register_canonicalize,
    register_specialize,
    register_specialize_device,
    register_stabilize,
    register_uncanonicalize,
    register_useless,
)
from topt.rewrites.algebraic import *  # noqa: F403
from topt.rewrites.canonicalize import *  # noqa: F403
from topt.rewrites.constant_folding import *  # noqa: F403
from topt.rewrites.fusion import *  # noqa: F403
from topt.rewrites.shape import *  # noqa: F403
from topt.rewrites.specialize import *  # noqa: F403
from topt.rewrites.stabilize import *  # noqa: F403
from topt.rewrites.subtensor_rw import *  # noqa: F403
from topt.rewrites.unsafe import *  # noqa: F403
from topt.rewrites.useless import *  # noqa: F403

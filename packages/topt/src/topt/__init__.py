"""topt: Theano's graph rewriting engine and its catalog of rewrites.

Importing topt declares the optimizer flags on ``tgraph.config``, builds the master sequence
of phases (:data:`optdb`), fills it with the catalog (:mod:`topt.rewrites`) and defines the
named levels (:data:`topt.levels.LEVELS`) that tlink's modes run.

The engine (Theano 1.0's ``theano.gof.opt`` / ``theano.gof.optdb`` names): global rewrites
(:class:`GlobalOptimizer`, alias ``Optimizer``), local rewrites (:class:`LocalOptimizer`,
:func:`local_optimizer`, :class:`PatternSub`, :class:`OpSub`, :class:`OpRemove`,
:class:`LocalOptGroup`), drivers (:class:`TopoOptimizer`, :func:`in2out`, :func:`out2in`,
:class:`EquilibriumOptimizer`, :class:`SeqOptimizer`), merging (:class:`MergeFeature`,
:class:`MergeOptimizer`) and databases (:class:`Query`, :class:`DB`, :class:`SequenceDB`,
:class:`EquilibriumDB`, :class:`LocalGroupDB`, :class:`ProxyDB`).
"""

from topt import _config as _config  # declares the optimizer flags on tgraph.config
from topt import levels as levels
from topt import rewrites as rewrites
from topt._version import __version__
from topt.engine import *  # noqa: F403
from topt.engine import __all__ as _engine_all
from topt.levels import LEVELS, QueryOptimizer, register_levels
from topt.optdb import (
    AddDestroyHandler,
    AddFeatureOptimizer,
    PrintCurrentFunctionGraph,
    local_useless,
    optdb,
    register_canonicalize,
    register_inplace,
    register_specialize,
    register_specialize_device,
    register_stabilize,
    register_uncanonicalize,
    register_useless,
)

__all__ = [
    "LEVELS",
    "AddDestroyHandler",
    "AddFeatureOptimizer",
    "PrintCurrentFunctionGraph",
    "QueryOptimizer",
    "__version__",
    "levels",
    "local_useless",
    "optdb",
    "register_canonicalize",
    "register_inplace",
    "register_levels",
    "register_specialize",
    "register_specialize_device",
    "register_stabilize",
    "register_uncanonicalize",
    "register_useless",
    "rewrites",
    *_engine_all,
]

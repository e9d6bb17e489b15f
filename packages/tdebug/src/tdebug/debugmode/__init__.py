"""DebugMode (``theano.compile.debugmode``): compile and run a graph with every check on.

Importing this module registers the modes ``'DebugMode'`` and ``'DEBUG_MODE'`` (Theano
1.0's names, both ``DebugMode(optimizer='fast_run')`` with the flags as defaults) in tlink's
mode registry, so ``theano.function(..., mode='DebugMode')`` finds them.
"""

from tdebug.debugmode.errors import (
    BadDestroyMap,
    BadOptimization,
    BadThunkOutput,
    BadViewMap,
    DebugModeError,
    InvalidValueError,
    StochasticOrder,
)
from tdebug.debugmode.linker import DebugLinker, DebugSettings, DebugVM
from tdebug.debugmode.mode import DebugMode, DebugModeFunctionMaker
from tdebug.debugmode.tracker import ReplacementTracker
from tlink.mode import predefined_modes, register_mode

__all__ = [
    "BadDestroyMap",
    "BadOptimization",
    "BadThunkOutput",
    "BadViewMap",
    "DebugLinker",
    "DebugMode",
    "DebugModeError",
    "DebugModeFunctionMaker",
    "DebugSettings",
    "DebugVM",
    "InvalidValueError",
    "ReplacementTracker",
    "StochasticOrder",
]

for _name in ("DebugMode", "DEBUG_MODE"):
    if _name not in predefined_modes:  # a reload must not register twice
        register_mode(_name, DebugMode(optimizer="fast_run"))

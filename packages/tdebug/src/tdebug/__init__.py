"""tdebug: the checking modes, DebugMode, NanGuardMode and MonitorMode, and their errors.

This package will own DebugMode (re-runs every rewrite and compares Python and C
implementations, strides, in-place claims and preallocated outputs), NanGuardMode (checks
every node's inputs and outputs for NaN, Inf and huge values) and MonitorMode (calls user
hooks around each node), with the error classes they raise.

Today it declares the ``DebugMode.*`` and ``NanGuardMode.*`` flags on ``tgraph.config``
when imported; the modes come next.
"""

from tdebug import _config as _config  # declares the checking flags on tgraph.config
from tdebug._version import __version__
from tdebug.debugmode import DebugMode, DebugModeError  # registers the mode 'DebugMode'
from tdebug.monitormode import MonitorMode
from tdebug.nanguardmode import NanGuardError, NanGuardMode, NanGuardWarning

__all__ = [
    "DebugMode",
    "DebugModeError",
    "MonitorMode",
    "NanGuardError",
    "NanGuardMode",
    "NanGuardWarning",
    "__version__",
]

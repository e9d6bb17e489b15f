"""theano.compile.monitormode: MonitorMode (served by tdebug)."""

from theano._missing import require as _require

_require("tdebug.monitormode", provides="theano.compile.monitormode")

from tdebug.monitormode import *  # noqa: E402, F403

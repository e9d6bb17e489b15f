"""theano.compile.debugmode: DebugMode (served by tdebug)."""

from theano._missing import require as _require

_require("tdebug.debugmode", provides="theano.compile.debugmode")

from tdebug.debugmode import *  # noqa: E402, F403

"""theano.compile.nanguardmode: NanGuardMode (served by tdebug)."""

from theano._missing import require as _require

_require("tdebug.nanguardmode", provides="theano.compile.nanguardmode")

from tdebug.nanguardmode import *  # noqa: E402, F403

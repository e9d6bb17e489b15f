"""theano.tensor: Theano 1.0's tensor namespace, served by ``tgraph.tensor``.

Until ``tgraph.tensor`` exists, importing this module raises
``theano._missing.NotYetImplementedError`` with a message saying so.
"""

from theano._missing import require as _require

_require("tgraph.tensor", provides="theano.tensor")

from tgraph.tensor import *  # noqa: E402, F403

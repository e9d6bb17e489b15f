"""Neural-network ops and functions (``theano.tensor.nnet`` of Theano 1.0, without convolution,
pooling and batch normalization).

- :mod:`.sigm`: sigmoid, softplus, ultra_fast_sigmoid, hard_sigmoid, softsign;
- :mod:`.activations`: relu, elu, selu;
- :mod:`.softmax`: Softmax, LogSoftmax, SoftmaxGrad, SoftmaxWithBias and their functions;
- :mod:`.crossentropy`: the one-hot and fused softmax crossentropy ops, binary and
  categorical crossentropy;
- :mod:`.misc`: prepend_*_to_each_row, confusion_matrix, h_softmax, to_one_hot.
"""

import sys as _sys

from tgraph.tensor.nnet._common import NNetInputError as NNetInputError
from tgraph.tensor.nnet.activations import *  # noqa: F403
from tgraph.tensor.nnet.crossentropy import *  # noqa: F403
from tgraph.tensor.nnet.misc import *  # noqa: F403
from tgraph.tensor.nnet.sigm import *  # noqa: F403
from tgraph.tensor.nnet.softmax import *  # noqa: F403

_MODULE_NAMES = ("activations", "crossentropy", "misc", "sigm", "softmax")

__all__ = sorted(
    {name for mod in _MODULE_NAMES for name in _sys.modules[f"tgraph.tensor.nnet.{mod}"].__all__}
    | {"NNetInputError"}
)

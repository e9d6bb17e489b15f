"""theano.tensor.nnet.nnet: softmax and crossentropy ops, activations, h_softmax."""

from tgraph.tensor.nnet.activations import *  # noqa: F403
from tgraph.tensor.nnet.crossentropy import *  # noqa: F403
from tgraph.tensor.nnet.misc import *  # noqa: F403
from tgraph.tensor.nnet.sigm import (  # noqa: F401 - Theano 1.0 defined softsign here
    ScalarSoftsign,
    scalar_softsign,
    sigmoid,
    softplus,
    softsign,
)
from tgraph.tensor.nnet.softmax import *  # noqa: F403

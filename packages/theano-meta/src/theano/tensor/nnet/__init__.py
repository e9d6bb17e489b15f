"""theano.tensor.nnet: softmax, crossentropy, sigmoid family, relu/elu/selu (no convolution)."""

from tgraph.tensor.nnet import *  # noqa: F403
from tgraph.tensor.nnet import __all__ as _nnet_all
from theano.tensor.nnet import nnet, sigm  # noqa: F401 - Theano 1.0's submodules

__all__ = list(_nnet_all)

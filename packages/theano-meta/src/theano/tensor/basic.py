"""theano.tensor.basic: Theano 1.0 kept most of the tensor library here."""

from theano.tensor import *  # noqa: F403

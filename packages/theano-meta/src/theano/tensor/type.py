"""theano.tensor.type: TensorType."""

from tgraph.tensor.type import *  # noqa: F403

"""theano.tensor.sharedvar: tensor shared variables."""

from tgraph.shared import *  # noqa: F403

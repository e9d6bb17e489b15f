"""theano.tensor.subtensor: basic and advanced indexing."""

from tgraph.tensor.advanced_subtensor import *  # noqa: F403
from tgraph.tensor.subtensor import *  # noqa: F403

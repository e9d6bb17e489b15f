"""theano.tensor.extra_ops: cumsum, repeat, diff, bincount, ..."""

from tgraph.tensor.diag import *  # noqa: F403
from tgraph.tensor.extra_ops import *  # noqa: F403

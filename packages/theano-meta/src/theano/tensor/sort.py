"""theano.tensor.sort: sort, argsort, topk."""

from tgraph.tensor.sort import *  # noqa: F403

"""theano.scalar: the scalar types and ops, served by tgraph.scalar."""

from tgraph.scalar import *  # noqa: F403

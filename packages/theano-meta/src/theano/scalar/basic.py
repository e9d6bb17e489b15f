"""theano.scalar.basic: the scalar types and ops."""

from tgraph.scalar import *  # noqa: F403

"""theano.gof.type: the Type base class and the generic type."""

from tgraph.graph.type import Generic, Type, generic, none_type_t  # noqa: F401

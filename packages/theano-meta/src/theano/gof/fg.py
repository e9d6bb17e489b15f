"""theano.gof.fg: FunctionGraph."""

from tgraph.graph.fg import *  # noqa: F403
from tgraph.graph.fg import FunctionGraph, InconsistencyError, MissingInputError  # noqa: F401

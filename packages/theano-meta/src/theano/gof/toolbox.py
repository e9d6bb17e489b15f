"""theano.gof.toolbox: FunctionGraph features."""

from tgraph.graph.features import (  # noqa: F401
    AlreadyThere,
    Feature,
    History,
    NodeFinder,
    ReplaceValidate,
    Validator,
)

"""theano.gof.utils: scratchpads, MethodNotDefined, tag traces."""

from tgraph.graph.utils import (  # noqa: F401
    MethodNotDefined,
    Scratchpad,
    TestValueError,
    ValidatingScratchpad,
    add_tag_trace,
    get_variable_trace_string,
)

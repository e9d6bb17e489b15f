"""theano.gof.graph: Variable, Apply, Constant and the walks over graphs."""

from tgraph.graph.basic import *  # noqa: F403
from tgraph.graph.basic import (  # noqa: F401  (names Theano 1.0 code imports from here)
    Apply,
    Constant,
    Node,
    Variable,
    ancestors,
    clone,
    clone_get_equiv,
    equal_computations,
    general_toposort,
    inputs,
    io_toposort,
    is_in_ancestors,
    list_of_nodes,
    ops,
    orphans,
    variables,
    view_roots,
)

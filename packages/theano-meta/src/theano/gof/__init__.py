"""theano.gof: the graph toolkit (Theano 1.0 path), served by tgraph.graph and tlink."""

from tgraph.graph import *  # noqa: F403
from tgraph.graph import __all__ as _graph_all
from tgraph.graph.op import _NoPythonOp  # noqa: F401
from tgraph.graph.utils import MethodNotDefined, TestValueError
from tgraph.shared import Container

# Submodules reachable after ``import theano``, as in Theano 1.0.
from theano.gof import fg, graph, link, op, toolbox, type, utils, vm  # noqa: F401
from tlink.linker import Linker, LocalLinker, PerformLinker, WrapLinker, WrapLinkerMany

__all__ = [
    *_graph_all,
    "Container",
    "Linker",
    "LocalLinker",
    "MethodNotDefined",
    "PerformLinker",
    "TestValueError",
    "WrapLinker",
    "WrapLinkerMany",
    "graph",
]

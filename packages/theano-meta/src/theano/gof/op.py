"""theano.gof.op: the Op base classes."""

from tgraph.graph.op import Op, OpenMPOp, PureOp, as_op  # noqa: F401
from tgraph.graph.utils import MethodNotDefined  # noqa: F401

"""theano.tensor.elemwise: Elemwise, DimShuffle and the reductions."""

from tgraph.tensor.elemwise import *  # noqa: F403
from tgraph.tensor.reduction import *  # noqa: F403

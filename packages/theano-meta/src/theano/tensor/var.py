"""theano.tensor.var: the tensor variable classes."""

from tgraph.tensor.variable import *  # noqa: F403
from tgraph.tensor.variable import _tensor_py_operators  # noqa: F401

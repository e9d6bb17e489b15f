"""theano.tensor: Theano 1.0's tensor namespace, served by ``tgraph.tensor``.

Besides the tensor library it carries the names Theano 1.0 users reach through ``T.``:
the gradient functions (``T.grad``, ``T.jacobian``, ...), ``T.shared`` and ``T.verify_grad``.
"""

from tgraph.gradient import (
    Lop,
    Rop,
    consider_constant,
    grad,
    hessian,
    jacobian,
)
from tgraph.gradient_checks import numeric_grad, verify_grad
from tgraph.shared import shared
from tgraph.tensor import *  # noqa: F403
from tgraph.tensor import __all__ as _tensor_all

# Theano 1.0 imported these submodules, so T.nnet.softmax works after import theano.tensor.
from theano.tensor import nnet  # noqa: F401

__all__ = [
    *_tensor_all,
    "Lop",
    "Rop",
    "consider_constant",
    "grad",
    "hessian",
    "jacobian",
    "numeric_grad",
    "shared",
    "verify_grad",
]

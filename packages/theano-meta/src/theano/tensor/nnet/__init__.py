"""theano.tensor.nnet: softmax, crossentropy, sigmoid family, relu/elu/selu.

Convolution, pooling and batch normalization are not part of this rebuild yet: reading one
of their names raises NotYetImplementedError (also an AttributeError) saying so.
"""

from tgraph.tensor.nnet import *  # noqa: F403
from tgraph.tensor.nnet import __all__ as _nnet_all
from theano._missing import not_yet as _not_yet
from theano.tensor.nnet import nnet, sigm  # noqa: F401 - Theano 1.0's submodules

__all__ = list(_nnet_all)

_CONV = "a convolution package (not yet written)"
_PENDING = {
    "conv2d": _CONV,
    "conv2d_transpose": _CONV,
    "conv3d": _CONV,
    "separable_conv2d": _CONV,
    "abstract_conv2d": _CONV,
    "conv2d_grad_wrt_inputs": _CONV,
    "ConvOp": _CONV,
    "batch_normalization": "a batch-normalization module (not yet written)",
}


def __getattr__(name: str) -> object:
    if name in _PENDING:
        raise _not_yet(f"theano.tensor.nnet.{name}", _PENDING[name])
    raise AttributeError(f"module 'theano.tensor.nnet' has no attribute {name!r}")

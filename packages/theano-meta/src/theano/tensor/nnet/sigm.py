"""theano.tensor.nnet.sigm: sigmoid, ultra_fast_sigmoid, hard_sigmoid, softplus."""

from tgraph.tensor.nnet.sigm import (  # noqa: F401
    ScalarSigmoid,
    ScalarSoftplus,
    UltraFastScalarSigmoid,
    hard_sigmoid,
    scalar_sigmoid,
    scalar_softplus,
    sigmoid,
    sigmoid_inplace,
    softplus,
    ultra_fast_scalar_sigmoid,
    ultra_fast_sigmoid,
    ultra_fast_sigmoid_inplace,
)

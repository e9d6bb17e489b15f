"""theano.tensor.nnet serves Theano 1.0's names (without convolution, pooling and batch
normalization) at its three paths, and a softmax classifier trains through theano.function."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import theano
import theano.tensor as T
import theano.tensor.nnet as nnet

NNET_NAMES = [
    "CrossentropyCategorical1Hot", "CrossentropyCategorical1HotGrad",
    "CrossentropySoftmax1HotWithBiasDx", "CrossentropySoftmaxArgmax1HotWithBias", "LogSoftmax",
    "Prepend_scalar_constant_to_each_row", "Prepend_scalar_to_each_row", "Softmax",
    "SoftmaxGrad", "SoftmaxWithBias", "binary_crossentropy", "sigmoid_binary_crossentropy",
    "categorical_crossentropy", "crossentropy_categorical_1hot",
    "crossentropy_categorical_1hot_grad", "crossentropy_softmax_1hot",
    "crossentropy_softmax_1hot_with_bias", "crossentropy_softmax_1hot_with_bias_dx",
    "crossentropy_softmax_argmax_1hot_with_bias", "crossentropy_softmax_max_and_argmax_1hot",
    "crossentropy_softmax_max_and_argmax_1hot_with_bias",
    "crossentropy_to_crossentropy_with_softmax",
    "crossentropy_to_crossentropy_with_softmax_with_bias", "h_softmax", "logsoftmax",
    "logsoftmax_op", "prepend_0_to_each_row", "prepend_1_to_each_row",
    "prepend_scalar_to_each_row", "relu", "softmax", "softmax_grad", "softmax_graph",
    "softmax_op", "softmax_simplifier", "softmax_with_bias", "elu", "selu", "confusion_matrix",
    "softsign", "softplus", "sigmoid", "sigmoid_inplace", "scalar_sigmoid",
    "ultra_fast_sigmoid", "hard_sigmoid",
]
SIGM_NAMES = ["ScalarSigmoid", "scalar_sigmoid", "sigmoid", "sigmoid_inplace",
              "UltraFastScalarSigmoid", "ultra_fast_scalar_sigmoid", "ultra_fast_sigmoid",
              "ultra_fast_sigmoid_inplace", "hard_sigmoid", "ScalarSoftplus", "scalar_softplus",
              "softplus"]
NNET_MODULE_NAMES = ["Softmax", "SoftmaxGrad", "SoftmaxWithBias", "LogSoftmax", "softmax",
                     "softmax_op", "logsoftmax", "categorical_crossentropy",
                     "binary_crossentropy", "relu", "elu", "selu", "softsign",
                     "ScalarSoftsign", "scalar_softsign", "h_softmax", "confusion_matrix",
                     "CrossentropySoftmaxArgmax1HotWithBias", "sigmoid", "softplus"]


@pytest.mark.parametrize(("module", "names"), [
    ("theano.tensor.nnet", NNET_NAMES),
    ("theano.tensor.nnet.sigm", SIGM_NAMES),
    ("theano.tensor.nnet.nnet", NNET_MODULE_NAMES),
])
def test_theano_names_exist(module, names):
    mod = importlib.import_module(module)
    missing = [n for n in names if not hasattr(mod, n)]
    assert not missing


def test_paths_serve_the_same_objects():
    assert nnet.nnet.softmax_op is nnet.softmax_op
    assert nnet.softmax_op == nnet.Softmax()
    assert nnet.sigm.sigmoid is nnet.sigmoid
    assert nnet.nnet.CrossentropyCategorical1Hot is nnet.CrossentropyCategorical1Hot


def test_softmax_classifier_trains_in_float32():
    rng = np.random.RandomState(0)
    x, y = T.fmatrix("x"), T.ivector("y")
    W = theano.shared(np.zeros((5, 3), "float32"), name="W")
    b = theano.shared(np.zeros(3, "float32"), name="b")
    p_y = nnet.softmax(T.dot(x, W) + b)
    cost = T.mean(nnet.categorical_crossentropy(p_y, y))
    gW, gb = T.grad(cost, [W, b])
    lr = np.float32(0.5)
    train = theano.function([x, y], cost, updates=[(W, W - lr * gW), (b, b - lr * gb)])
    predict = theano.function([x], T.argmax(p_y, axis=1))
    centers = rng.randn(3, 5) * 3
    yv = rng.randint(0, 3, 60).astype("int32")
    xv = (centers[yv] + rng.randn(60, 5)).astype("float32")
    costs = [train(xv, yv) for _ in range(30)]
    assert costs[0] == pytest.approx(np.log(3), rel=1e-5)
    assert costs[-1] < costs[0] / 3 and costs[-1].dtype == np.float32
    assert (predict(xv) == yv).mean() > 0.9


def test_convolution_names_say_they_are_not_written_yet():
    from theano._missing import NotYetImplementedError

    with pytest.raises(NotYetImplementedError, match=r"theano\.tensor\.nnet\.conv2d"):
        nnet.conv2d  # noqa: B018
    assert not hasattr(nnet, "batch_normalization")
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        nnet.nonsense  # noqa: B018

"""theano.tensor.opt and theano.tensor.blas import as in Theano 1.0, and a rewrite registered
through theano.tensor.opt's registrar runs in FAST_RUN."""

from __future__ import annotations

import numpy as np

import theano
import theano.tensor as T
from theano.tensor import blas, opt


def test_blas_names():
    for name in ("Gemm", "Gemv", "Ger", "Dot22", "Dot22Scalar", "gemm_inplace",
                 "gemm_no_inplace", "gemv_no_inplace"):
        assert hasattr(blas, name), name
    x, w = T.matrix("x"), T.vector("w")
    fn = theano.function([x, w], T.dot(x, w) + 1.0, mode="FAST_RUN")
    assert any(isinstance(n.op, blas.Gemv) for n in fn.maker.fgraph.toposort())


def test_opt_names_and_user_rewrite():
    for name in ("Assert", "assert_op", "ShapeFeature", "register_canonicalize",
                 "register_specialize", "register_stabilize", "local_fill_sink",
                 "constant_folding"):
        assert hasattr(opt, name), name

    from topt import local_optimizer

    class Triple(theano.Op):
        __props__ = ()

        def make_node(self, x):
            x = T.as_tensor_variable(x)
            return theano.Apply(self, [x], [x.type()])

        def perform(self, node, inputs, out):
            out[0][0] = inputs[0] * 3

    triple = Triple()

    @opt.register_specialize
    @local_optimizer([Triple])
    def local_user_triple_to_mul(fgraph, node):
        if isinstance(node.op, Triple):
            return [node.inputs[0] * np.asarray(3, dtype=node.inputs[0].dtype)]
        return None

    from topt import optdb

    try:
        x = T.vector("x")
        fn = theano.function([x], triple(x), mode="FAST_RUN")
        assert not any(isinstance(n.op, Triple) for n in fn.maker.fgraph.toposort())
        np.testing.assert_allclose(fn(np.arange(3.0).astype(x.dtype)), [0.0, 3.0, 6.0])
    finally:  # the registry is global: leave the rewrite selected by no level
        optdb["specialize"].remove_tags("local_user_triple_to_mul", "fast_run")

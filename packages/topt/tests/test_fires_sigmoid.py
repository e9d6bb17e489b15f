"""Firing tests for the sigmoid/softplus rewrites that no other test shows alone.

Each rewrite runs by itself on the graph it targets (so another rewrite of the family cannot
take the node first), must replace it, and the result must agree with SciPy where the
hand-written form overflows.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit

from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.engine.rewriter import EquilibriumOptimizer
from topt.rewrites import sigmoid_rw as sr

BIG = np.array([-1e4, -800.0, -40.0, -1.5, 0.0, 2.0, 40.0, 800.0, 1e4])


def _alone(rewrite, build, dtype="float64"):
    x = TensorType(dtype, (False,))("x")
    out = build(x)
    fg = FunctionGraph([x], [out])
    EquilibriumOptimizer([rewrite], max_use_ratio=10).optimize(fg)
    assert fg.outputs[0].type == out.type
    names = [type(n.op.scalar_op).__name__ for n in fg.toposort() if isinstance(n.op, Elemwise)]
    return fg, names


def _softplus(v):
    return np.logaddexp(0, v)


@pytest.mark.fires("local_inv_1_plus_exp")
def test_inv_of_one_plus_exp_becomes_sigmoid():
    fg, names = _alone(sr.local_inv_1_plus_exp, lambda x: tm.inv(1 + tm.exp(x)))
    assert "ScalarSigmoid" in names and "Inv" not in names and "Exp" not in names
    res = evaluate(fg.outputs, {fg.inputs[0]: BIG})[0]
    np.testing.assert_allclose(res, expit(-BIG), rtol=1e-13, atol=1e-300)


def test_inv_of_one_plus_other_function_is_kept():
    _, names = _alone(sr.local_inv_1_plus_exp, lambda x: tm.inv(1 + tm.tanh(x)))
    assert "ScalarSigmoid" not in names and "Inv" in names


@pytest.mark.fires("log1msigm_to_softplus")
@pytest.mark.parametrize(("build", "expected"), [
    (lambda x: tm.log(1 - tm.sigmoid(x)), lambda v: -_softplus(v)),
    (lambda x: tm.log(1 + tm.exp(x)), _softplus),
], ids=["log(1-sigmoid)", "log(1+exp)"])
def test_log_one_minus_sigmoid_and_log_one_plus_exp(build, expected):
    fg, names = _alone(sr.log1msigm_to_softplus, build)
    assert "ScalarSoftplus" in names and "Log" not in names
    res = evaluate(fg.outputs, {fg.inputs[0]: BIG})[0]
    assert np.isfinite(res).all()
    np.testing.assert_allclose(res, expected(BIG), rtol=1e-13)


@pytest.mark.fires("log1pexp_to_softplus")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log1p_of_exp_becomes_softplus(dtype):
    fg, names = _alone(sr.log1pexp_to_softplus, lambda x: tm.log1p(tm.exp(x)), dtype)
    assert "ScalarSoftplus" in names and "Log1p" not in names
    v = BIG.astype(dtype)
    res = evaluate(fg.outputs, {fg.inputs[0]: v})[0]
    assert res.dtype == dtype and np.isfinite(res).all()
    np.testing.assert_allclose(res, _softplus(v.astype("float64")),
                               rtol=1e-6 if dtype == "float32" else 1e-13)


def test_log1p_of_other_function_is_kept():
    _, names = _alone(sr.log1pexp_to_softplus, lambda x: tm.log1p(tm.tanh(x)))
    assert "Log1p" in names and "ScalarSoftplus" not in names

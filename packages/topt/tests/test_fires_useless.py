"""Firing test for local_scalar_tensor_scalar, which no other test shows alone.

``scalar_from_tensor(tensor_from_scalar(s)) -> s``: a round trip through a 0-d tensor that
graphs mixing scalar and tensor code (Composite building, shape arithmetic) leave behind.
"""

from __future__ import annotations

import numpy as np
import pytest

from tgraph import scalar as ts
from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor.scalar_conv import (
    ScalarFromTensor,
    TensorFromScalar,
    scalar_from_tensor,
    tensor_from_scalar,
)
from topt.engine.rewriter import EquilibriumOptimizer
from topt.rewrites import useless


@pytest.mark.fires("local_scalar_tensor_scalar")
@pytest.mark.parametrize("dtype", ["int64", "float32"])
def test_scalar_round_trip_through_a_tensor_is_removed(dtype):
    s = ts.get_scalar_type(dtype)("s")
    out = ts.add(scalar_from_tensor(tensor_from_scalar(s)), s)
    fg = FunctionGraph([s], [out])
    EquilibriumOptimizer([useless.local_scalar_tensor_scalar], max_use_ratio=10).optimize(fg)
    assert not any(isinstance(n.op, ScalarFromTensor | TensorFromScalar) for n in fg.toposort())
    assert fg.outputs[0].type == out.type
    res = evaluate(fg.outputs, {fg.inputs[0]: np.asarray(3, dtype=dtype)})[0]
    assert res == 6 and np.asarray(res).dtype == dtype


def test_a_single_conversion_is_kept():
    s = ts.get_scalar_type("float64")("s")
    out = tensor_from_scalar(ts.mul(s, s))
    fg = FunctionGraph([s], [out])
    EquilibriumOptimizer([useless.local_scalar_tensor_scalar], max_use_ratio=10).optimize(fg)
    assert any(isinstance(n.op, TensorFromScalar) for n in fg.toposort())

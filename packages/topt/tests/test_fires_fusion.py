"""Firing tests for the two registered fusion steps, run as optdb holds them.

``local_add_mul_fusion`` (position 0 of elemwise_fusion) flattens nested add/mul nodes into
one n-ary node; ``composite_elemwise_fusion`` (position 1) turns a chain of elementwise ops
into one Composite node. Each registered object runs on the graph it targets; the result has
fewer nodes and the same values.
"""

from __future__ import annotations

import numpy as np
import pytest

from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.scalar import Composite
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.optdb import optdb

RNG = np.random.default_rng(5)


def _vec(name, dtype="float64"):
    return TensorType(dtype, (False,))(name)


@pytest.mark.fires("local_add_mul_fusion")
@pytest.mark.parametrize("op", ["add", "mul"])
def test_nested_add_or_mul_becomes_one_node(op):
    a, b, c, d = (_vec(n) for n in "abcd")
    f = getattr(tm, op)
    out = f(f(a, b), f(c, d))
    fg = FunctionGraph([a, b, c, d], [out])
    optdb["elemwise_fusion"]["local_add_mul_fusion"].optimize(fg)
    (node,) = fg.toposort()
    assert type(node.op.scalar_op).__name__ == op.capitalize() and len(node.inputs) == 4
    vals = [RNG.standard_normal(3) for _ in range(4)]
    npop = {"add": np.add, "mul": np.multiply}[op]
    expected = npop(npop(vals[0], vals[1]), npop(vals[2], vals[3]))
    np.testing.assert_allclose(evaluate(fg.outputs, dict(zip(fg.inputs, vals)))[0], expected)


@pytest.mark.fires("composite_elemwise_fusion")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_elementwise_chain_becomes_one_composite(dtype):
    x, y = _vec("x", dtype), _vec("y", dtype)
    out = tm.tanh(tm.exp(x) * y + 1.0) - x
    fg = FunctionGraph([x, y], [out])
    optdb["elemwise_fusion"]["composite_elemwise_fusion"].optimize(fg)
    (node,) = fg.toposort()
    assert isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, Composite)
    assert fg.outputs[0].type == out.type
    xv, yv = (RNG.standard_normal(4).astype(dtype) for _ in range(2))
    res = evaluate(fg.outputs, dict(zip(fg.inputs, (xv, yv))))[0]
    assert res.dtype == dtype
    np.testing.assert_allclose(res, np.tanh(np.exp(xv) * yv + 1.0) - xv,
                               rtol=1e-6 if dtype == "float32" else 1e-13)

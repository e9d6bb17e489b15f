"""Helpers for the subtensor, extra_ops and sort tests: evaluation, gradients by L_op,
finite differences, inferred shapes and the Op contract.

``lop_grads`` walks the graph of ``y`` calling each node's ``L_op``, so an op's gradient is
checked on its own (independently of ``tgraph.gradient.grad``), against central differences
of ``sum(y * W)`` for fixed random weights W.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence

import numpy as np

from tgraph.graph import evaluate, io_toposort
from tgraph.scalar.type import ScalarType
from tgraph.tensor import math as tm
from tgraph.tensor.alloc import zeros_like
from tgraph.tensor.basic import constant
from tgraph.tensor.shape import shape_i
from tgraph.tensor.type import TensorType


def run(outputs, givens: dict | None = None):
    """Evaluate one variable or a list with the reference interpreter."""
    givens = givens or {}
    if isinstance(outputs, list | tuple):
        return evaluate(list(outputs), givens)
    return evaluate([outputs], givens)[0]


def lop_grads(y, seed, wrt: Sequence) -> list:
    """Gradients of ``sum(y * seed)`` with respect to ``wrt``, by calling each node's L_op."""
    grads: dict = {y: seed}
    for node in reversed(io_toposort(list(wrt), [y])):
        ograds = [grads.get(o) for o in node.outputs]
        if all(g is None for g in ograds):
            continue
        ograds = [zeros_like(o) if g is None else g for g, o in zip(ograds, node.outputs)]
        igrads = node.op.L_op(node.inputs, node.outputs, ograds)
        assert len(igrads) == len(node.inputs), node.op
        for i, g in zip(node.inputs, igrads):
            if g is None or not isinstance(getattr(g, "type", None), TensorType):
                continue
            assert g.ndim == i.ndim, (node.op, g.type, i.type)
            grads[i] = g if i not in grads else tm.add(grads[i], g)
    return [grads.get(w) for w in wrt]


def numeric_grad(f: Callable, values: Sequence[np.ndarray], eps: float = 1e-6) -> list:
    """Central differences of the scalar function ``f(*values)``."""
    out = []
    for k, v in enumerate(values):
        g = np.zeros(v.shape, dtype="float64")
        for idx in np.ndindex(v.shape):
            plus = [np.array(a, copy=True) for a in values]
            minus = [np.array(a, copy=True) for a in values]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (f(*plus) - f(*minus)) / (2 * eps)
        out.append(g)
    return out


def check_grad(build: Callable, values: Sequence[np.ndarray], rng=None, rtol: float = 1e-5,
               atol: float = 1e-7) -> None:
    """Compare the L_op gradients of ``build(*vars)`` with finite differences.

    ``values`` are float64 arrays, one per variable; the variables are made with the same
    number of dimensions (no broadcastable dimension).
    """
    rng = rng or np.random.default_rng(42)
    xs = [TensorType("float64", (False,) * np.ndim(v))(f"x{k}") for k, v in enumerate(values)]
    y = build(*xs)
    w = rng.standard_normal(run(y, dict(zip(xs, values))).shape)
    grads = lop_grads(y, constant(w), xs)
    got = run([g if g is not None else zeros_like(x) for g, x in zip(grads, xs)],
              dict(zip(xs, values)))

    def f(*vals):
        return float(np.sum(run(y, dict(zip(xs, vals))) * w))

    want = numeric_grad(f, [np.asarray(v, dtype="float64") for v in values])
    for k, (a, b) in enumerate(zip(got, want)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=f"gradient {k}")


def inferred_shape(out, givens: dict | None = None) -> tuple:
    """The shape ``out.owner.op.infer_shape`` gives, evaluated."""
    node = out.owner
    shapes = []
    for inp in node.inputs:
        if isinstance(inp.type, TensorType):
            shapes.append(tuple(shape_i(inp, i) for i in range(inp.ndim)))
        elif isinstance(inp.type, ScalarType):
            shapes.append(())
        else:
            shapes.append(None)
    got = node.op.infer_shape(node, shapes)[node.outputs.index(out)]
    values = []
    for d in got:
        values.append(int(d) if isinstance(d, int | np.integer) else int(run(d, givens)))
    return tuple(values)


def check_op_contract(op, same, other) -> None:
    """eq/hash with an equal op and a different one; str; a pickle round trip."""
    assert op == same and hash(op) == hash(same)
    assert op != other
    assert isinstance(str(op), str) and str(op)
    back = pickle.loads(pickle.dumps(op))
    assert back == op and hash(back) == hash(op)

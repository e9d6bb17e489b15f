"""Helpers for the elemwise, reduction and math tests: evaluation, a small reverse-mode
walker over ``L_op`` and central finite differences.

The walker stands in for ``tgraph.gradient.grad`` so that each op's ``L_op`` is checked on its
own: it back-propagates ``sum(y * W)`` (W fixed random weights) through the graph of ``y``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tgraph.graph import evaluate, io_toposort
from tgraph.scalar import add as scalar_add
from tgraph.tensor.elemwise import Elemwise, _zeros_like
from tgraph.tensor.type import TensorType

_add = Elemwise(scalar_add)


def run(outputs, givens: dict):
    """Evaluate one variable or a list with the reference interpreter."""
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
        ograds = [_zeros_like(o) if g is None else g for g, o in zip(ograds, node.outputs)]
        igrads = node.op.L_op(node.inputs, node.outputs, ograds)
        for i, g in zip(node.inputs, igrads):
            if g is None or not isinstance(getattr(g, "type", None), TensorType):
                continue
            grads[i] = g if i not in grads else _add(grads[i], g)
    return [grads.get(w) for w in wrt]


def numeric_grad(f: Callable, values: Sequence[np.ndarray], eps: float = 1e-6) -> list:
    """Central differences of the scalar function ``f(*values)``."""
    out = []
    for k, v in enumerate(values):
        g = np.zeros_like(v, dtype="float64")
        for idx in np.ndindex(v.shape):
            plus = [np.array(a, copy=True) for a in values]
            minus = [np.array(a, copy=True) for a in values]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (f(*plus) - f(*minus)) / (2 * eps)
        out.append(g)
    return out


def check_grad(build: Callable, values: Sequence[np.ndarray], rng=None, rtol: float = 1e-4,
               atol: float = 1e-6, eps: float = 1e-6, wrt: Sequence[int] | None = None) -> None:
    """Compare L_op gradients of ``build(*vars)`` with finite differences (float64).

    ``values`` are float64 arrays; the symbolic inputs get matching types (size-1 dimensions
    declared broadcastable).
    """
    rng = rng or np.random.default_rng(0)
    values = [np.asarray(v, dtype="float64") for v in values]
    variables = [TensorType("float64", [s == 1 for s in v.shape])(f"x{k}")
                 for k, v in enumerate(values)]
    y = build(*variables)
    y_val = run(y, dict(zip(variables, values)))
    weights = rng.uniform(0.5, 1.5, size=np.shape(y_val))
    seed = TensorType(y.type.dtype, y.type.broadcastable)("seed")
    wrt_idx = list(range(len(values))) if wrt is None else list(wrt)
    grads = lop_grads(y, seed, [variables[i] for i in wrt_idx])
    for g in grads:
        assert g is not None, "the output does not depend on an input"
    givens = dict(zip(variables, values))
    givens[seed] = weights.astype(y.type.dtype)
    analytic = run(list(grads), givens)

    def cost(*vals):
        return float(np.sum(run(y, dict(zip(variables, vals))) * weights))

    numeric = numeric_grad(cost, values, eps)
    for i, a in zip(wrt_idx, analytic):
        assert np.shape(a) == values[i].shape, (np.shape(a), values[i].shape)
        np.testing.assert_allclose(a, numeric[i], rtol=rtol, atol=atol)

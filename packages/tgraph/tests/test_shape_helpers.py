"""Helpers shared by the shape/alloc/join/dot tests (no tests here).

Importable by name because the folder's conftest puts it on sys.path. Graphs are evaluated with
tgraph's reference evaluator; gradients are checked against central finite differences of
``sum(output * random weights)``, either through one node's ``L_op`` (no gradient engine
needed) or through ``tgraph.gradient.grad`` for graphs of several nodes.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable, Sequence

import numpy as np

from tgraph.graph import evaluate
from tgraph.tensor.shape import Shape_i
from tgraph.tensor.type import TensorType


def run(outs, givens: dict | None = None):
    """Values of ``outs`` (a variable or a list) given ``{variable: value}``."""
    single = not isinstance(outs, list | tuple)
    vals = evaluate([outs] if single else list(outs), givens or {})
    return vals[0] if single else vals


def ftensor(ndim: int, dtype: str = "float64", bcast: Sequence[bool] | None = None):
    """A fresh symbolic tensor of ``ndim`` non-broadcastable dimensions."""
    return TensorType(dtype, tuple(bcast) if bcast is not None else (False,) * ndim)()


def infer_shape_values(out, givens: dict) -> tuple[int, ...]:
    """The shape of ``out`` computed by its op's infer_shape, evaluated with ``givens``."""
    node = out.owner
    in_shapes = []
    for inp in node.inputs:
        ndim = getattr(inp.type, "ndim", 0)
        in_shapes.append(tuple(Shape_i(i)(inp) for i in range(ndim)))
    entries = node.op.infer_shape(node, in_shapes)[node.outputs.index(out)]
    symbolic = [e for e in entries if hasattr(e, "type")]
    values = iter(run(symbolic, givens)) if symbolic else iter(())
    return tuple(int(next(values)) if hasattr(e, "type") else int(e) for e in entries)


def assert_infer_shape(out, givens: dict, value=None) -> None:
    """infer_shape of ``out``'s node gives the shape of its computed value."""
    if value is None:
        value = run(out, givens)
    assert infer_shape_values(out, givens) == np.shape(value)


def numeric_grad(f: Callable, values: list, eps: float = 1e-6) -> list:
    """Central differences of the scalar function ``f(*values)`` with respect to each array."""
    grads = []
    for k, v in enumerate(values):
        g = np.zeros(v.shape, dtype="float64")
        for idx in np.ndindex(*v.shape):
            plus = [x.copy() for x in values]
            minus = [x.copy() for x in values]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            g[idx] = (f(*plus) - f(*minus)) / (2 * eps)
        grads.append(g)
    return grads


def _weights(rng, outs, vals):
    return [rng.standard_normal(np.shape(v)) for v in vals]


def check_node_grad(build: Callable, values: list, rng, wrt: Sequence[int] | None = None,
                    rtol: float = 1e-5, atol: float = 1e-7,
                    bcasts: Sequence[Sequence[bool] | None] | None = None) -> None:
    """The gradient returned by the op's ``L_op`` matches finite differences.

    ``build(*variables)`` makes one node (its output, or a list of outputs) from float64
    variables shaped like ``values`` (with the broadcast patterns ``bcasts``, default none);
    ``wrt`` picks the values to differentiate (all).
    """
    values = [np.asarray(v, dtype="float64") for v in values]
    bcasts = bcasts or [None] * len(values)
    variables = [ftensor(v.ndim, bcast=b) for v, b in zip(values, bcasts)]
    out = build(*variables)
    outs = list(out) if isinstance(out, list | tuple) else [out]
    node = outs[0].owner
    givens = dict(zip(variables, values))
    out_vals = run(outs, givens)
    weights = _weights(rng, outs, out_vals)
    gzs = [o.type() for o in node.outputs]
    grads = node.op.L_op(node.inputs, node.outputs, gzs)
    wrt = list(range(len(values))) if wrt is None else list(wrt)
    picked = []
    for k in wrt:
        pos = next(i for i, inp in enumerate(node.inputs) if inp is variables[k])
        picked.append(grads[pos])
    g_givens = dict(givens)
    for o, gz, w in zip(node.outputs, gzs, weights):
        g_givens[gz] = w if o in outs else np.zeros(np.shape(run(o, givens)))
    symbolic = run(picked, g_givens)

    def cost(*vals):
        res = run(outs, dict(zip(variables, vals)))
        return float(sum(np.sum(r * w) for r, w in zip(res, weights)))

    numeric = numeric_grad(cost, values)
    for k, got in zip(wrt, symbolic):
        assert np.shape(got) == values[k].shape
        np.testing.assert_allclose(got, numeric[k], rtol=rtol, atol=atol)


def check_graph_grad(build: Callable, values: list, rng, rtol: float = 1e-5,
                     atol: float = 1e-7) -> None:
    """The gradient from ``tgraph.gradient.grad`` of ``sum(build(*vars) * W)`` matches
    finite differences (for functions that build several nodes)."""
    from tgraph.gradient import grad

    values = [np.asarray(v, dtype="float64") for v in values]
    variables = [ftensor(v.ndim) for v in values]
    out = build(*variables)
    givens = dict(zip(variables, values))
    w = rng.standard_normal(np.shape(run(out, givens)))
    cost = (out * w).sum()
    symbolic = run(grad(cost, variables), givens)

    def f(*vals):
        return float(np.sum(run(out, dict(zip(variables, vals))) * w))

    for got, want in zip(symbolic, numeric_grad(f, values)):
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def check_op_contract(make: Callable, other=None) -> None:
    """Equal parameters give equal, equally hashed ops; str is stable; pickling round-trips."""
    a, b = make(), make()
    assert a == b
    assert hash(a) == hash(b)
    assert str(a) == str(b)
    c = pickle.loads(pickle.dumps(a))
    assert c == a and hash(c) == hash(a)
    if other is not None:
        assert a != other

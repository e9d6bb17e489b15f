"""RowwiseGrad: the op that evaluates a Jacobian one row at a time.

Theano 1.0 builds ``jacobian``/``hessian`` with ``scan``: row ``i`` is ``grad(expr[i], wrt)``.
We have no scan, so :func:`tgraph.gradient.jacobian` builds one vector-Jacobian product graph
instead, ``Lop(expr, wrt, seed)`` with ``seed`` a free vector shaped like ``expr``, and this op
evaluates that inner graph once per row with ``seed`` set to the ``i``-th unit vector. The
result is the same as Theano's (row ``i`` of ``J`` is ``e_i^T J``) with one gradient graph
instead of one per row, no indexing op, and lengths known only at run time.

The inner graph is run with :func:`tgraph.graph.evaluate` (the reference interpreter). Work
that does not depend on the seed (the forward pass) is computed once per call, not per row.
Higher packages may register a compiled implementation for this op class later.

This module imports only the graph IR and :mod:`tgraph.gradient_ops` (it sits below
:mod:`tgraph.gradient`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tgraph.gradient_ops import grad_not_implemented
from tgraph.graph.basic import Apply, Constant, Variable, graph_inputs, io_toposort
from tgraph.graph.evaluate import evaluate
from tgraph.graph.op import Op


class RowwiseGrad(Op):
    """Stack, over ``i``, the values of ``rows`` with ``seed`` set to the ``i``-th unit vector.

    Node inputs: ``[expression, *wrt, *free]`` where ``free`` are the ownerless, non-constant
    variables (inputs and shared variables) the inner graph reads; listing them makes the
    dependency visible to every graph walk (cloning, givens, toposort). Output ``k`` has shape
    ``(len(expression),) + wrt[k].shape``.
    """

    # Identity, not props: two RowwiseGrad ops hold different inner graphs.
    __props__ = None

    def __init__(self, seed: Variable, rows: Sequence[Variable], n_wrt: int):
        self.seed = seed
        self.rows = list(rows)
        self.n_wrt = n_wrt
        # The free variables of the inner graph, in a deterministic order.
        self.free = [v for v in graph_inputs(self.rows)
                     if v is not seed and not isinstance(v, Constant)]
        self._split_inner_graph()

    def _split_inner_graph(self) -> None:
        """Find the seed-independent values the per-row loop can reuse (the frontier)."""
        nodes = io_toposort([self.seed, *self.free], self.rows)
        depends = {id(self.seed)}
        for node in nodes:
            if any(id(i) in depends for i in node.inputs):
                depends.update(id(o) for o in node.outputs)
        frontier: dict[int, Variable] = {}
        for node in nodes:
            if any(id(o) in depends for o in node.outputs):
                for i in node.inputs:
                    if id(i) not in depends and i.owner is not None:
                        frontier.setdefault(id(i), i)
        self.frontier = list(frontier.values())
        self.seed_free_rows = [r for r in self.rows if id(r) not in depends]

    def make_node(self, expression: Variable, *wrt_and_free: Variable) -> Apply:
        if len(wrt_and_free) != self.n_wrt + len(self.free):
            raise TypeError(
                f"RowwiseGrad: expected {1 + self.n_wrt + len(self.free)} inputs, "
                f"got {1 + len(wrt_and_free)}"
            )
        wrt = wrt_and_free[: self.n_wrt]
        outputs = []
        for w, row in zip(wrt, self.rows):
            bcast = (expression.type.broadcastable[0], *w.type.broadcastable)
            outputs.append(row.type.clone(broadcastable=bcast)())
        return Apply(self, [expression, *wrt_and_free], outputs)

    def perform(self, node, inputs, output_storage, params=None):
        expr_value = inputs[0]
        free_values = inputs[1 + self.n_wrt:]
        givens = {v: val for v, val in zip(self.free, free_values)}
        n = expr_value.shape[0]
        seed_dtype = self.seed.type.dtype
        # Forward values not depending on the seed: once per call.
        if self.frontier:
            for v, val in zip(self.frontier, evaluate(self.frontier, givens)):
                givens[v] = val
        per_row = []
        for i in range(max(n, 1)):
            seed_value = np.zeros(n, dtype=seed_dtype)
            if n:
                seed_value[i] = 1
            row_givens = dict(givens)
            row_givens[self.seed] = seed_value
            per_row.append(evaluate(self.rows, row_givens))
        for k, (out, cell) in enumerate(zip(node.outputs, output_storage)):
            values = [np.asarray(row[k]) for row in per_row]
            dtype = out.type.dtype
            if n == 0:
                stacked = np.zeros((0, *values[0].shape), dtype=dtype)
            else:
                stacked = np.stack(values).astype(dtype, copy=False)
            cell[0] = stacked

    def infer_shape(self, node, input_shapes):
        n = input_shapes[0][0]
        return [(n, *input_shapes[1 + k]) for k in range(self.n_wrt)]

    def connection_pattern(self, node):
        # The rows are derivatives: they depend on the inputs but we do not differentiate
        # them (no third-order derivatives through a Jacobian), see L_op.
        return [[True] * self.n_wrt for _ in node.inputs]

    def L_op(self, inputs, outputs, output_grads):
        return [grad_not_implemented(self, i, x, "Differentiating a jacobian or hessian again "
                                     "is not supported.")
                for i, x in enumerate(inputs)]

    def __str__(self):
        return "RowwiseGrad"


__all__ = ["RowwiseGrad"]

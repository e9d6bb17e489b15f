"""Run-time assertions in a graph (Theano 1.0's ``theano.tensor.opt.Assert``).

``assert_op(x, cond1, cond2, ...)`` is ``x`` once every condition is true; a false one
raises AssertionError naming the message and the condition. Rewrites that replace a
value only under a precondition wrap it in an Assert; the ``unsafe`` optimizer level
removes them all (topt's ``local_remove_all_assert``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.gradient_ops import DisconnectedType
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.tensor.basic import as_tensor_variable

__all__ = ["Assert", "assert_op"]


class Assert(Op):
    """Output its first input unchanged after checking that the others are all true.

    The output is a view of the input (``view_map``), so an Assert costs the checks only.
    Conditions are scalars of any numeric or bool dtype (nonzero means true).
    """

    __props__ = ("msg",)
    view_map = {0: [0]}

    def __init__(self, msg: str = "Theano Assert failed!"):
        self.msg = msg

    def make_node(self, value: Any, *conds: Any) -> Apply:
        if not isinstance(value, Variable):
            value = as_tensor_variable(value)
        checked = []
        for i, c in enumerate(conds):
            c = as_tensor_variable(c)
            if c.type.ndim != 0:
                raise TypeError(
                    f"Assert: condition {i} must be a scalar, got {c.type} "
                    f"({c.type.ndim} dimensions)"
                )
            if c.type.dtype.startswith("complex"):
                raise TypeError(f"Assert: condition {i} has dtype {c.type.dtype}; "
                                "expected a bool, integer or float scalar")
            checked.append(c)
        return Apply(self, [value, *checked], [value.type()])

    def perform(self, node, inputs, output_storage, params=None):
        value, *conds = inputs
        for i, c in enumerate(conds):
            if not np.all(c):
                cond = node.inputs[1 + i]
                raise AssertionError(f"{self.msg} (condition {i}: {cond} is false)")
        output_storage[0][0] = value

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def grad(self, inputs, output_grads):
        return [output_grads[0]] + [DisconnectedType()() for _ in inputs[1:]]

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def __str__(self) -> str:
        return f"Assert{{msg={self.msg!r}}}"


#: The default instance (message "Theano Assert failed!"), as in Theano 1.0.
assert_op = Assert()

"""Constant folding: a node whose inputs are all constants becomes a constant.

``f(c1, c2) -> Constant(f(c1, c2))``, computed once at compile time with the Op's Python
implementation (``perform``) through :func:`tgraph.graph.evaluate`.

Safe because an Op is a pure function of its inputs; an Op for which this is not true or not
wise says so in ``do_constant_folding(node)`` (an allocation that is a graph output would be
copied at every call, an uninitialised buffer has no value to fold, a random draw must be
drawn at run time). A folded value that shares memory with an input constant is copied, so
that an in-place rewrite can never overwrite a constant through it. Nodes without inputs
are folded like the others (Theano 1.0 did the same), except when they say no.

Registered in canonicalize, stabilize, specialize and uncanonicalize, tagged fast_run and
fast_compile. Theano 1.0 ran it as a separate final pass of each phase; here it is a local
rewrite tracking every Op, so a node is folded as soon as its last non-constant input is
replaced by a constant and the constants it creates feed the same equilibrium.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Constant
from tgraph.graph.evaluate import evaluate
from topt.engine.base import copy_stack_trace, local_optimizer
from topt.optdb import (
    register_canonicalize,
    register_specialize,
    register_stabilize,
    register_uncanonicalize,
)

__all__ = ["constant_folding"]


def _shares_memory(value: Any, inputs: list) -> bool:
    if not isinstance(value, np.ndarray):
        return False
    for inp in inputs:
        data = inp.data
        if isinstance(data, np.ndarray) and np.may_share_memory(value, data):
            return True
    return False


@local_optimizer(None)
def constant_folding(fgraph, node: Apply) -> list | None:
    """f(constant, ...) -> constant (all inputs constant; the Op agrees to be folded)."""
    for inp in node.inputs:
        if not isinstance(inp, Constant):
            return None
    if not node.op.do_constant_folding(node):
        return None
    values = evaluate(node.outputs, {})
    out = []
    for var, value in zip(node.outputs, values):
        if _shares_memory(value, node.inputs):
            value = value.copy()
        constant_cls = getattr(var.type, "Constant", Constant)
        const = constant_cls(var.type, value)
        copy_stack_trace(var, const)
        out.append(const)
    return out


for _register in (register_canonicalize, register_stabilize, register_specialize,
                  register_uncanonicalize):
    _register(constant_folding, "fast_compile")

"""Run-time checks: the ones that can never fail go under ``fast_run``; all of them go
under the ``unsafe`` level.

``local_remove_useless_assert`` (fast_run) drops the conditions of an Assert that are
constants known to be true, and the Assert once none is left. ``local_remove_all_assert``
and ``local_remove_specify_shape`` carry only the tag ``unsafe``: the ``unsafe`` level
(``fast_run`` + ``unsafe``) replaces every Assert and every SpecifyShape by its input, so
a wrong shape or a false assertion is no longer reported (the program computes on
whatever it was given). Use it only on programs known to be correct.
"""

from __future__ import annotations

from tgraph.tensor.assert_op import Assert
from tgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value
from tgraph.tensor.shape import SpecifyShape
from topt.engine.rewriter import copy_stack_trace, local_optimizer
from topt.optdb import optdb, register_canonicalize, register_specialize

__all__ = ["local_remove_all_assert", "local_remove_specify_shape",
           "local_remove_useless_assert"]


def _known_true(cond) -> bool:
    try:
        return bool(get_scalar_constant_value(cond))
    except NotScalarConstantError:
        return False


@register_specialize
@register_canonicalize
@local_optimizer([Assert])
def local_remove_useless_assert(fgraph, node):
    """Assert(x, c1, c2, ...) without the conditions that are constant and true."""
    if not isinstance(node.op, Assert):
        return None
    value, *conds = node.inputs
    kept = [c for c in conds if not _known_true(c)]
    if len(kept) == len(conds):
        return None
    out = node.outputs[0]
    repl = node.op(value, *kept) if kept else value
    copy_stack_trace(out, repl)
    return [repl]


@local_optimizer([Assert])
def local_remove_all_assert(fgraph, node):
    """Assert(x, ...) -> x: the conditions are no longer checked (``unsafe`` only)."""
    if not isinstance(node.op, Assert):
        return None
    return [node.inputs[0]]


@local_optimizer([SpecifyShape])
def local_remove_specify_shape(fgraph, node):
    """SpecifyShape(x, shape) -> x: the shape is no longer checked (``unsafe`` only)."""
    if not isinstance(node.op, SpecifyShape):
        return None
    return [node.inputs[0]]


for _phase in ("canonicalize", "specialize"):
    optdb[_phase].register("local_remove_all_assert", local_remove_all_assert, "unsafe")
    optdb[_phase].register("local_remove_specify_shape", local_remove_specify_shape,
                           "unsafe")

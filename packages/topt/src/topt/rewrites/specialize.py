"""Specialization of reductions: cheaper graphs for sums and products whose input has a
known structure (a product with a scalar, a negation, an alloc of a constant, a join, the
square of a broadcast product).

``mean`` needs no rewrite of its own here: ``tgraph.tensor.mean`` already builds
``sum(x) / n`` with Theano 1.0's dtype rule (the count cast to float32 for float32 sums), so
the graph is the specialized one from the start.
"""

from __future__ import annotations

import numpy as np

import tgraph.scalar as scal
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.alloc import Alloc, alloc
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import dot
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.join import Join
from tgraph.tensor.reduction import CAReduce, Max, MaxAndArgmax, Prod, Sum
from topt.engine import copy_stack_trace, local_optimizer
from topt.optdb import register_canonicalize, register_specialize, register_uncanonicalize
from topt.rewrites._canon_helpers import (
    elemwise_of,
    known_shape_entry,
    same_type,
    scalar_constant,
    shape_entries,
)

__all__ = [
    "local_max_and_argmax",
    "local_opt_alloc",
    "local_reduce_join",
    "local_sum_prod_mul_by_scalar",
    "local_sumsqr2dot",
]

_FLOATS = ("float16", "float32", "float64", "complex64", "complex128")


def _done(res, out):
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


def _reduced_size(fgraph, x, op):
    """The number of elements a reduction folds together: an int64 scalar, or 1."""
    axes = range(x.type.ndim) if op.axis is None else op.axis
    entries = shape_entries(fgraph, x)
    size = 1
    for a in axes:
        if x.type.broadcastable[a]:
            continue
        size = entries[a] if isinstance(size, int) and size == 1 else tm.mul(size, entries[a])
    return size


@register_specialize
@local_optimizer([Sum, Prod])
def local_sum_prod_mul_by_scalar(fgraph, node):
    """sum(s * x) -> s * sum(x); prod(s * x) -> s ** n * prod(x) with n the number of
    elements reduced; sum(-x) -> -sum(x); for s broadcast along every axis (a scalar).

    Only for float reductions whose input dtype is the output dtype: with integers the
    product might wrap in the small dtype before the sum, and the rewritten graph would
    not wrap. The scalar is taken out of the loop, so it is multiplied once.
    """
    if not isinstance(node.op, Sum | Prod):
        return None
    (inp,) = node.inputs
    out = node.outputs[0]
    if out.type.dtype not in _FLOATS or inp.type.dtype != out.type.dtype:
        return None
    if isinstance(node.op, Sum):
        neg = elemwise_of(inp, scal.Neg, nin=1)
        if neg is not None:
            return _done(same_type(tm.neg(node.op(neg.inputs[0])), out), out)
    mul = elemwise_of(inp, scal.Mul)
    if mul is None:
        return None
    scalars = [t for t in mul.inputs if all(t.type.broadcastable)]
    others = [t for t in mul.inputs if not all(t.type.broadcastable)]
    if not scalars or not others:
        return None
    rest = others[0] if len(others) == 1 else tm.mul(*others)
    if rest.type != inp.type:
        return None  # the scalars widened the product: leave it
    reduced = node.op(rest)
    factors = [DimShuffle(s.type.broadcastable, [])(s) for s in scalars]
    if isinstance(node.op, Prod):
        n = tm.cast(_reduced_size(fgraph, rest, node.op), out.type.dtype)
        factors = [tm.pow(f, n) for f in factors]
    res = tm.mul(*factors, reduced)
    return _done(same_type(res, out), out)


@register_canonicalize
@register_uncanonicalize
@local_optimizer([CAReduce])
def local_reduce_join(fgraph, node):
    """Reduce{op}(Join(0, a[None], b[None], ...), axis=0) -> Elemwise{op}(a, b, ...) for
    op in add, mul (any count) and maximum, minimum (two inputs).

    Stacking then reducing over the stacking axis is the elementwise op itself; skipped when
    the reduction changes the dtype (integer sums widen to int64, the elementwise op would
    not).
    """
    if not isinstance(node.op, CAReduce):
        return None
    join_var = node.inputs[0]
    join = join_var.owner
    if join is None or not isinstance(join.op, Join):
        return None
    if known_shape_entry(join.inputs[0]) != 0:
        return None
    axes = range(join_var.type.ndim) if node.op.axis is None else node.op.axis
    if tuple(axes) != (0,):
        return None
    op = node.op.scalar_op
    parts = join.inputs[1:]
    if isinstance(op, scal.Maximum | scal.Minimum):
        if len(parts) != 2:
            return None
    elif not isinstance(op, scal.Add | scal.Mul) or len(parts) < 2:
        return None
    inner = []
    for p in parts:
        ds = p.owner
        if ds is None or not isinstance(ds.op, DimShuffle):
            return None
        nd = ds.inputs[0].type.ndim
        if tuple(ds.op.new_order) != ("x", *range(nd)):
            return None
        inner.append(ds.inputs[0])
    res = Elemwise(op)(*inner)
    out = node.outputs[0]
    if res.type.dtype != out.type.dtype:
        return None
    return _done(same_type(res, out), out)


@register_specialize
@local_optimizer([Sum, Prod])
def local_opt_alloc(fgraph, node):
    """sum(alloc(c, *shape)) -> c * prod(reduced shape); prod(alloc(c, *shape)) ->
    c ** prod(reduced shape); an alloc of the other dimensions remains when not every axis
    is reduced.

    c must be a constant number. float16/float32 counts are cast to float32 (not float64,
    which would upcast), and the result is cast to the reduction's dtype.
    """
    if not isinstance(node.op, Sum | Prod):
        return None
    a = node.inputs[0]
    anode = a.owner
    if anode is None or not isinstance(anode.op, Alloc):
        return None
    value = anode.inputs[0]
    shape = anode.inputs[1:]
    c = scalar_constant(value)
    if c is None:
        return None
    out = node.outputs[0]
    axes = list(range(len(shape))) if node.op.axis is None else list(node.op.axis)
    count = None
    for i in axes:
        count = shape[i] if count is None else tm.mul(count, shape[i])
    val = constant(np.asarray(c, dtype=value.type.dtype))
    if count is not None:
        if value.type.dtype in ("float16", "float32"):
            count = tm.cast(count, "float32")
        elif value.type.dtype in ("float64", "complex64", "complex128"):
            count = tm.cast(count, "float64")
        val = tm.mul(val, count) if isinstance(node.op, Sum) else tm.pow(val, count)
    val = tm.cast(val, out.type.dtype)
    kept = [s for i, s in enumerate(shape) if i not in axes]
    res = alloc(val, *kept) if kept else val
    return _done(same_type(res, out), out)


@register_canonicalize
@register_specialize
@local_optimizer([Sum])
def local_sumsqr2dot(fgraph, node):
    """sum(sqr(W.dimshuffle('x', 0, 1) * G.dimshuffle(0, 'x', 1)), axis=(1, 2)) ->
    dot(sqr(G), sum(sqr(W), axis=0)).

    The squared norm of every row of G scaled by W, without the 3-d intermediate.
    """
    if not isinstance(node.op, Sum) or node.op.axis != (1, 2):
        return None
    sq = elemwise_of(node.inputs[0], scal.Sqr, nin=1)
    if sq is None:
        return None
    mul = elemwise_of(sq.inputs[0], scal.Mul, nin=2)
    if mul is None:
        return None
    a, b = mul.inputs
    if not (is_ds(a, ("x", 0, 1)) and is_ds(b, (0, "x", 1))):
        return None
    w = a.owner.inputs[0]
    g = b.owner.inputs[0]
    res = dot(tm.sqr(g), Sum(axis=0)(tm.sqr(w)))
    out = node.outputs[0]
    return _done(same_type(res, out), out)


def is_ds(var, order) -> bool:
    """Whether ``var`` is a DimShuffle with exactly ``order``."""
    return (var.owner is not None and isinstance(var.owner.op, DimShuffle)
            and tuple(var.owner.op.new_order) == tuple(order))


@register_uncanonicalize
@local_optimizer([MaxAndArgmax])
def local_max_and_argmax(fgraph, node):
    """max_and_argmax(x) whose argmax nobody reads -> max(x) (Theano 1.0's rewrite).

    ``tensor.max`` builds MaxAndArgmax, whose C tracks the position of every candidate;
    Max is a plain reduction whose contiguous loops vectorise.
    """
    if not isinstance(node.op, MaxAndArgmax) or fgraph is None:
        return None
    x_max, x_argmax = node.outputs
    if fgraph.clients.get(x_argmax):
        return None
    new = Max(axis=list(node.op.axis))(node.inputs[0])
    if new.type != x_max.type:
        return None
    copy_stack_trace(x_max, new)
    return {x_max: new}

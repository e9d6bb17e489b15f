"""Rewrites that remove operations which do nothing: identity elementwise ops, casts to the
same dtype, fills and allocs of a value that already has the shape, rebroadcasts that
change no flag, reductions over no axis or over size-1 axes, switches whose condition is
known, reshapes of reshapes.

Each is Theano 1.0's rewrite of the same name (``theano/tensor/opt.py``), registered in the
same phases with the same tags; where Theano removed an op on the strength of the types
alone while the op could still change the value (an ``alloc`` whose shape is only
*probably* the input's), we remove it only when the graph proves it, and say so.
"""

from __future__ import annotations

from copy import copy

import numpy as np

import tgraph.scalar as scal
from tgraph.scalar.compare import AND, EQ, NEQ, OR, XOR
from tgraph.scalar.op import Cast, Identity, Second
from tgraph.tensor.alloc import Alloc
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.math_elemwise import cast
from tgraph.tensor.rebroadcast import Rebroadcast
from tgraph.tensor.reduction import CAReduce
from tgraph.tensor.scalar_conv import ScalarFromTensor, TensorFromScalar
from tgraph.tensor.shape import Reshape
from topt.engine.rewriter import copy_stack_trace, local_optimizer
from topt.optdb import (
    register_canonicalize,
    register_specialize,
    register_stabilize,
    register_useless,
)
from topt.rewrites._canon_helpers import (
    fill,
    fill_chain,
    is_elemwise,
    known_shape_entry,
    same_dim,
    same_type,
    scalar_constant,
)

__all__ = [
    "local_canonicalize_alloc",
    "local_cast_cast",
    "local_rebroadcast_lift",
    "local_reduce_broadcastable",
    "local_reshape_chain",
    "local_scalar_tensor_scalar",
    "local_tensor_scalar_tensor",
    "local_useless_alloc",
    "local_useless_dimshuffle_in_reshape",
    "local_useless_elemwise",
    "local_useless_fill",
    "local_useless_rebroadcast",
    "local_useless_reduce",
    "local_useless_switch",
]


def _zeros_like(x, out):
    """Zeros of ``out``'s type, shaped like ``x`` (a fill, later an alloc)."""
    zero = np.asarray(0, dtype=out.type.dtype)
    return fill_chain(fill(x, zero), [x], out)


def _ones_like(x, out):
    one = np.asarray(1, dtype=out.type.dtype)
    return fill_chain(fill(x, one), [x], out)


def _keep(new, node):
    """``new`` of the type of the node's output, filled from its inputs if it must be."""
    out = node.outputs[0]
    res = fill_chain(new, node.inputs, out)
    if res is not None:
        copy_stack_trace(out, res)
    return res


def _listed(res):
    """A rewrite's answer: ``[res]``, or None (no change) when no replacement was built."""
    return None if res is None else [res]


# ---------------------------------------------------------------------------------------------
# Elementwise identities


def _neutral_input(node) -> int | None:
    """The input that survives ``x * 1``, ``x + 0``, ``x - 0``, ``x / 1``, ``x // 1`` or
    ``x ** 1`` (the constant on the right for the non-commutative ops), or None."""
    op = node.op.scalar_op
    ins = node.inputs
    if len(ins) != 2:
        return None
    if isinstance(op, scal.Mul | scal.Add):
        neutral = 1 if isinstance(op, scal.Mul) else 0
        for k in (1, 0):
            c = scalar_constant(ins[k])
            if c is not None and c == neutral:
                return 1 - k
        return None
    right = scalar_constant(ins[1])
    if right is None:
        return None
    if isinstance(op, scal.Sub) and right == 0:
        return 0
    if isinstance(op, scal.TrueDiv | scal.IntDiv | scal.Pow) and right == 1:
        return 0
    return None


@register_useless
@register_canonicalize("fast_compile")
@register_specialize
@local_optimizer([Elemwise])
def local_useless_elemwise(fgraph, node):
    """eq(x, x) -> 1; neq(x, x) -> 0; xor(x, x) -> 0; add(x) / mul(x) / identity(x) -> x;
    x * 1, x + 0, x - 0, x / 1, x // 1, x ** 1 -> x; cast(x) to x's own dtype -> x;
    and(x, 0) -> 0, and(x, 1) -> x and or(x, 1) -> 1, or(x, 0) -> x for bools.

    Types are kept: a surviving input narrower than the output is filled from the others,
    a different dtype is cast. As in Theano 1.0, ``eq(x, x)`` is 1 even where x is NaN
    (IEEE says False) and ``x / 1`` drops nothing else; the bitwise and/or identities with 1
    apply to bool outputs only (for integers they are bitwise, so 1 is not neutral).
    """
    if not isinstance(node.op, Elemwise) or node.op.inplace_pattern or len(node.outputs) != 1:
        return None
    op = node.op.scalar_op
    ins = node.inputs
    out = node.outputs[0]
    if len(ins) == 1 and isinstance(op, scal.Add | scal.Mul | Identity):
        return _listed(_keep(ins[0], node))
    if isinstance(op, Cast) and ins[0].type.dtype == out.type.dtype:
        return _listed(_keep(ins[0], node))
    if len(ins) == 2 and ins[0] is ins[1]:
        if isinstance(op, EQ):
            return _listed(_ones_like(ins[0], out))
        if isinstance(op, NEQ | XOR):
            return _listed(_zeros_like(ins[0], out))
    if isinstance(op, AND | OR | XOR) and len(ins) == 2:
        return _bitwise_identity(node)
    k = _neutral_input(node)
    if k is not None:
        return _listed(_keep(ins[k], node))
    return None


def _bitwise_identity(node):
    """and/or/xor with a constant operand: 0 is neutral for or/xor and absorbing for and;
    a true constant is neutral for and and absorbing for or, on bool outputs only."""
    op = node.op.scalar_op
    out = node.outputs[0]
    is_bool = out.type.dtype == "bool"
    for k in (0, 1):
        c = scalar_constant(node.inputs[k])
        if c is None:
            continue
        other = node.inputs[1 - k]
        if c == 0:
            if isinstance(op, AND):
                res = fill_chain(fill(other, np.asarray(0, dtype=out.type.dtype)),
                                 node.inputs, out)
            else:
                res = _keep(other, node)
        elif is_bool and isinstance(op, AND):
            res = _keep(other, node)
        elif is_bool and isinstance(op, OR):
            res = fill_chain(fill(other, np.asarray(True)), node.inputs, out)
        else:
            continue
        return _listed(res)
    return None


@register_canonicalize
@register_specialize
@local_optimizer([Elemwise])
def local_cast_cast(fgraph, node):
    """cast(cast(x, t1), t2) -> cast(x, t2) when the inner cast only widens (same kind, more
    precision: nothing was lost), and -> x when t2 is x's own dtype; cast(cast(x, t), t) ->
    cast(x, t)."""
    if not is_elemwise(node, Cast):
        return None
    inner = node.inputs[0].owner
    if not is_elemwise(inner, Cast):
        return None
    base = inner.inputs[0]
    t1 = inner.op.scalar_op.o_type.dtype
    t2 = node.op.scalar_op.o_type.dtype
    if t1 == t2:
        return [node.inputs[0]]
    if _is_widening(base.type.dtype, t1):
        if t2 == base.type.dtype:
            return [base] if base.type == node.outputs[0].type else None
        res = cast(base, t2)
        copy_stack_trace(node.outputs[0], res)
        return [res]
    return None


_DTYPE_RANK = {
    "bool": (0, 0),
    "uint8": (1, 1), "uint16": (1, 2), "uint32": (1, 3), "uint64": (1, 4),
    "int8": (2, 1), "int16": (2, 2), "int32": (2, 3), "int64": (2, 4),
    "float16": (3, 1.5), "float32": (3, 2.5), "float64": (3, 3.5),
    "complex64": (4, 3), "complex128": (4, 4),
}


def _is_widening(frm: str, to: str) -> bool:
    """Whether every value of dtype ``frm`` survives a trip through ``to`` (Theano's
    ``is_an_upcast``: the kind does not go down and the precision goes strictly up)."""
    a, b = _DTYPE_RANK[frm], _DTYPE_RANK[to]
    return b[0] >= a[0] and b[1] > a[1]


# ---------------------------------------------------------------------------------------------
# fill and alloc


@register_useless
@register_canonicalize("fast_compile")
@local_optimizer([Elemwise])
def local_useless_fill(fgraph, node):
    """fill(s, v) -> v when v already has the output's type.

    The model s only contributes its shape; with v of the output's type, s cannot widen v,
    so only the run-time check that the two shapes agree is dropped (as in Theano 1.0).
    """
    if not is_elemwise(node, Second, nin=2):
        return None
    v = node.inputs[1]
    if v.type == node.outputs[0].type:
        return [v]
    return None


def _alloc_keeps_shape(fgraph, node) -> bool:
    value = node.inputs[0]
    shape = node.inputs[1:]
    if value.type.ndim != len(shape):
        return False
    return all(same_dim(fgraph, value, i, s) for i, s in enumerate(shape))


@register_useless
@register_canonicalize
@register_stabilize
@register_specialize
@local_optimizer([Alloc])
def local_useless_alloc(fgraph, node):
    """alloc(x, *shape) -> x when x has the output type and the shape is provably x's own.

    Theano 1.0 removed the alloc on equal types alone; but an alloc may still broadcast a
    size-1 dimension that the type does not declare broadcastable, so we require each
    shape entry to be x's dimension (``Shape_i``, ``x.shape[i]``, the shape feature's entry,
    or equal constants).
    """
    if not isinstance(node.op, Alloc):
        return None
    value = node.inputs[0]
    if value.type == node.outputs[0].type and _alloc_keeps_shape(fgraph, node):
        return [value]
    return None


@register_canonicalize
@register_stabilize
@register_specialize
@local_optimizer([Alloc])
def local_canonicalize_alloc(fgraph, node):
    """alloc(x, 1, 1, *shape) -> dimshuffle('x', 'x', ...)(alloc(x, *shape)) or of x itself.

    Leading dimensions of constant size 1 are added by a DimShuffle (a view) instead, so
    later rewrites see the smaller alloc (or none, when the rest is useless).
    """
    if not isinstance(node.op, Alloc):
        return None
    value = node.inputs[0]
    shape = node.inputs[1:]
    out = node.outputs[0]
    for client, _ in fgraph.clients.get(out, ()) if fgraph is not None else ():
        if client != "output" and isinstance(client.op, Alloc):
            return None  # let the outer alloc absorb this one first
    lead = 0
    for s in shape[: len(shape) - value.type.ndim]:
        if known_shape_entry(s) == 1:
            lead += 1
        else:
            break
    if lead == 0:
        return None
    rest = shape[lead:]
    inner = node.op(value, *rest)
    if inner.type == value.type and value.type.ndim == len(rest) and all(
            same_dim(fgraph, value, i, s) for i, s in enumerate(rest)):
        inner = value
    res = DimShuffle(inner.type.broadcastable, ["x"] * lead + list(range(len(rest))))(inner)
    res = same_type(res, out)
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


# ---------------------------------------------------------------------------------------------
# switch


@register_useless("local_remove_switch_const_cond")
@register_canonicalize("fast_compile", "local_remove_switch_const_cond")
@register_specialize
@local_optimizer([Elemwise])
def local_useless_switch(fgraph, node):
    """switch(c, a, b) -> a when c is a known non-zero number, -> b when it is zero;
    switch(c, a, a) -> a (filled with c's shape when c is wider).

    The chosen branch is filled with the shape of the other inputs where the output is
    wider than it, and cast to the output dtype.
    """
    if not is_elemwise(node, scal.Switch, nin=3):
        return None
    cond, ift, iff = node.inputs
    out = node.outputs[0]
    c = scalar_constant(cond)
    if c is not None:
        chosen, other = (ift, iff) if c else (iff, ift)
        res = fill_chain(chosen, [other, cond], out)
        if res is None:
            return None
        copy_stack_trace(out, res)
        return [res]
    if ift is iff:
        res = fill_chain(ift, [cond], out)
        return [res] if res is not None else None
    return None


# ---------------------------------------------------------------------------------------------
# Rebroadcast


def _rebroadcast_axes(op) -> dict[int, bool]:
    return dict(op.axis)


@register_useless
@register_canonicalize
@register_specialize
@local_optimizer([Rebroadcast])
def local_useless_rebroadcast(fgraph, node):
    """Rebroadcast(x) -> x when it changes no flag; otherwise keep only the flags that
    change something."""
    if not isinstance(node.op, Rebroadcast):
        return None
    x = node.inputs[0]
    if x.type.broadcastable == node.outputs[0].type.broadcastable:
        return [x]
    axes = _rebroadcast_axes(node.op)
    useful = {a: b for a, b in axes.items() if x.type.broadcastable[a] != b}
    if len(useful) == len(axes):
        return None
    res = Rebroadcast(*useful.items())(x)
    copy_stack_trace(node.outputs[0], res)
    return [res]


@register_canonicalize
@register_specialize
@local_optimizer([Rebroadcast])
def local_rebroadcast_lift(fgraph, node):
    """Rebroadcast(unary_elemwise(x)) -> unary_elemwise(Rebroadcast(x)) when the elemwise
    result is used only there; Rebroadcast(Rebroadcast(x)) -> one Rebroadcast (the outer
    flags win)."""
    if not isinstance(node.op, Rebroadcast):
        return None
    inp = node.inputs[0]
    inode = inp.owner
    if inode is None:
        return None
    axes = _rebroadcast_axes(node.op)
    if (isinstance(inode.op, Elemwise) and len(inode.inputs) == 1
            and len(inode.outputs) == 1 and not inode.op.inplace_pattern
            and fgraph is not None and len(fgraph.clients.get(inp, ())) == 1):
        inner_x = inode.inputs[0]
        rb = Rebroadcast(*axes.items())(inner_x)
        res = inode.op(rb)
        if res.type != node.outputs[0].type:
            return None
        copy_stack_trace(node.outputs[0], res)
        return [res]
    if isinstance(inode.op, Rebroadcast):
        merged = _rebroadcast_axes(inode.op)
        merged.update(axes)
        res = Rebroadcast(*merged.items())(inode.inputs[0])
        copy_stack_trace(node.outputs[0], res)
        return [res]
    return None


# ---------------------------------------------------------------------------------------------
# Reductions


@register_useless("local_cut_useless_reduce")
@register_canonicalize("fast_compile", "local_cut_useless_reduce")
@local_optimizer([CAReduce])
def local_useless_reduce(fgraph, node):
    """Sum(x, axis=()) -> x (any reduction whose output type is its input's: no axis is
    reduced and the dtype is kept)."""
    if not isinstance(node.op, CAReduce):
        return None
    (x,) = node.inputs
    if x.type == node.outputs[0].type:
        return [x]
    return None


@register_canonicalize
@register_specialize
@local_optimizer([CAReduce])
def local_reduce_broadcastable(fgraph, node):
    """Reduce(x) over broadcastable (size-1) axes -> drop those axes with a DimShuffle and
    reduce over the others only (or cast, when nothing else is reduced).

    A size-1 axis reduces to its only element, whatever the op; the result is cast to the
    reduction's output dtype (``All`` of an integer is its truth value, so a cast to bool).
    Dtype and accumulator options of Sum/Prod are kept.
    """
    if not isinstance(node.op, CAReduce):
        return None
    (x,) = node.inputs
    out = node.outputs[0]
    axes = range(x.type.ndim) if node.op.axis is None else node.op.axis
    cut = [a for a in axes if x.type.broadcastable[a]]
    if not cut:
        return None
    keep = [d for d in range(x.type.ndim) if d not in cut]
    reduced = DimShuffle(x.type.broadcastable, keep)(x)
    new_axes = [keep.index(a) for a in axes if a not in cut]
    if new_axes:
        op = copy(node.op)
        op.axis = tuple(new_axes)
        res = op(reduced)
    else:
        res = reduced if reduced.type.dtype == out.type.dtype else cast(reduced, out.type.dtype)
    res = same_type(res, out)
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


# ---------------------------------------------------------------------------------------------
# Reshape


@register_canonicalize
@local_optimizer([Reshape])
def local_reshape_chain(fgraph, node):
    """reshape(reshape(x, s1), s2) -> reshape(x, s2): the intermediate shape does not matter
    (both keep C order); s2's ``-1`` is resolved against the same number of elements."""
    if not isinstance(node.op, Reshape):
        return None
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Reshape):
        return None
    res = node.op(inner.inputs[0], node.inputs[1])
    res = same_type(res, node.outputs[0])
    if res is None:
        return None
    copy_stack_trace(node.outputs[0], res)
    return [res]


@register_canonicalize
@local_optimizer([Reshape])
def local_useless_dimshuffle_in_reshape(fgraph, node):
    """reshape(x.dimshuffle(...), shp) -> reshape(x, shp) when the DimShuffle only adds or
    drops size-1 axes and keeps the other axes in order (C-order data is then the same)."""
    if not isinstance(node.op, Reshape):
        return None
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, DimShuffle):
        return None
    order = [j for j in inner.op.new_order if j != "x"]
    src = inner.inputs[0]
    real = [j for j in order if not src.type.broadcastable[j]]
    if real != sorted(real):
        return None
    res = node.op(src, node.inputs[1])
    res = same_type(res, node.outputs[0])
    if res is None:
        return None
    copy_stack_trace(node.outputs[0], res)
    return [res]


# ---------------------------------------------------------------------------------------------
# Scalar <-> 0-d tensor round trips


@register_canonicalize
@register_specialize
@local_optimizer([TensorFromScalar])
def local_tensor_scalar_tensor(fgraph, node):
    """tensor_from_scalar(scalar_from_tensor(t)) -> t (the same 0-d value)."""
    if not isinstance(node.op, TensorFromScalar):
        return None
    s = node.inputs[0]
    if s.owner is not None and isinstance(s.owner.op, ScalarFromTensor):
        t = s.owner.inputs[0]
        if t.type == node.outputs[0].type:
            return [t]
    return None


@register_canonicalize
@register_specialize
@local_optimizer([ScalarFromTensor])
def local_scalar_tensor_scalar(fgraph, node):
    """scalar_from_tensor(tensor_from_scalar(s)) -> s (the same scalar value)."""
    if not isinstance(node.op, ScalarFromTensor):
        return None
    t = node.inputs[0]
    if t.owner is not None and isinstance(t.owner.op, TensorFromScalar):
        s = t.owner.inputs[0]
        if s.type == node.outputs[0].type:
            return [s]
    return None

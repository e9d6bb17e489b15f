"""Rewrites of basic indexing: index early, index once, and skip indexing that selects
everything or increments by nothing.

* ``local_subtensor_lift``: ``f(x, y)[i] -> f(x[i], y[i])`` computes f on the selection only;
* ``local_subtensor_merge``: ``x[a:b][c] -> x[a + c]``, one view instead of two;
* ``local_useless_subtensor`` / ``local_useless_slice``: ``x[:] -> x``, ``x[0, :] -> x[0]``;
* ``local_subtensor_of_alloc``: ``alloc(v, n, m)[i] -> alloc(v, m)``;
* ``local_incsubtensor_of_zeros``, ``local_setsubtensor_of_constants``,
  ``local_useless_inc_subtensor``: increments that change nothing, sets that rewrite the
  whole tensor.

Merging slices here handles positive steps (the usual ``x[a:b][c:d]``, ``x[a:][i]``) and
leaves negative or symbolic steps alone, where Theano 1.0 built a large graph of switches.
An integer index that the merged slice would map out of the first slice is sent out of
range on purpose, so the IndexError the user would have had still happens.
"""

from __future__ import annotations

import numpy as np

from tgraph.graph.basic import Constant, Variable
from tgraph.scalar.op import Second
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedIncSubtensor1
from tgraph.tensor.alloc import Alloc, alloc
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.indexing import (
    collapse,
    get_canonical_form_slice,
    get_idx_list,
    known_int,
    make_constant,
    slice_length,
)
from tgraph.tensor.rebroadcast import Rebroadcast
from tgraph.tensor.subtensor import IncSubtensor, Subtensor
from topt.engine import copy_stack_trace, local_optimizer
from topt.optdb import (
    register_canonicalize,
    register_specialize,
    register_stabilize,
    register_useless,
)
from topt.rewrites._canon_helpers import (
    is_elemwise,
    n_clients,
    same_dim,
    same_type,
    scalar_constant,
    shape_entries,
)

__all__ = [
    "local_incsubtensor_of_zeros",
    "local_setsubtensor_of_constants",
    "local_subtensor_lift",
    "local_subtensor_merge",
    "local_subtensor_of_alloc",
    "local_subtensor_remove_broadcastable_index",
    "local_useless_inc_subtensor",
    "local_useless_slice",
    "local_useless_subtensor",
]


def _done(res, out, *more):
    if res is None:
        return None
    copy_stack_trace([out, *more], res)
    return [res]


def subtensor(x: Variable, entries) -> Variable:
    """``x[entries]`` as one Subtensor: entries are ints, None (in slices), slices, and
    integer scalar variables (tensor or scalar typed)."""
    args = make_constant(entries)
    return Subtensor(args)(x, *collapse(args, lambda e: isinstance(e, Variable)))


def _step_of(entry: slice):
    """A slice's step as a Python int (None means 1), or None when symbolic."""
    return 1 if entry.step is None else known_int(entry.step)


def _is_full(entry) -> bool:
    return isinstance(entry, slice) and entry.start is None and entry.stop is None and \
        _step_of(entry) == 1


# ---------------------------------------------------------------------------------------------
# Selecting everything


@register_useless
@register_canonicalize
@register_specialize
@local_optimizer([Subtensor])
def local_useless_slice(fgraph, node):
    """x[0, :, :] -> x[0]: trailing full slices are dropped (they select everything)."""
    if not isinstance(node.op, Subtensor):
        return None
    entries = list(get_idx_list(node.inputs, node.op.idx_list))
    n = len(entries)
    while n and _is_full(entries[n - 1]):
        n -= 1
    if n == len(entries):
        return None
    if n == 0:
        res = node.inputs[0]
    else:
        res = subtensor(node.inputs[0], entries[:n])
    return _done(same_type(res, node.outputs[0], same_shape=True), node.outputs[0])


def _selects_whole_dim(fgraph, x, i, entry) -> bool:
    if not isinstance(entry, slice) or _step_of(entry) != 1:
        return False
    if entry.start is not None and known_int(entry.start) != 0:
        return False
    if entry.stop is None:
        return True
    stop = known_int(entry.stop)
    dim = _known_dim(fgraph, x, i)
    if stop is not None and dim is not None:
        return stop >= dim
    return same_dim(fgraph, x, i, entry.stop)


def _known_dim(fgraph, x, i) -> int | None:
    entry = shape_entries(fgraph, x)[i]
    return entry if isinstance(entry, int) else known_int(entry)


@register_canonicalize
@register_specialize
@local_optimizer([Subtensor])
def local_useless_subtensor(fgraph, node):
    """x[0:n] -> x when every entry is a slice from 0 (or None) to the end of its axis (None,
    a constant at least the known length, or that very length) with step 1."""
    if not isinstance(node.op, Subtensor):
        return None
    x = node.inputs[0]
    entries = get_idx_list(node.inputs, node.op.idx_list)
    if all(_selects_whole_dim(fgraph, x, i, e) for i, e in enumerate(entries)):
        return _done(same_type(x, node.outputs[0], same_shape=True), node.outputs[0])
    return None


@register_canonicalize
@register_specialize
@local_optimizer([Subtensor])
def local_subtensor_remove_broadcastable_index(fgraph, node):
    """x[0, :] -> x.dimshuffle(1) when axis 0 is broadcastable: indexing a size-1 axis with
    0 or -1 (the only valid indices) just drops it, which a DimShuffle does as a view."""
    if not isinstance(node.op, Subtensor):
        return None
    x = node.inputs[0]
    entries = get_idx_list(node.inputs, node.op.idx_list)
    drop = []
    for d, e in enumerate(entries):
        if isinstance(e, slice):
            if not _is_full(e):
                return None
            continue
        if not x.type.broadcastable[d] or known_int(e) not in (0, -1):
            return None
        drop.append(d)
    if not drop:
        return None
    res = DimShuffle(x.type.broadcastable, [d for d in range(x.type.ndim) if d not in drop])(x)
    return _done(same_type(res, node.outputs[0], same_shape=True), node.outputs[0])


# ---------------------------------------------------------------------------------------------
# Lifting


@register_canonicalize("fast_compile")
@local_optimizer([Subtensor])
def local_subtensor_lift(fgraph, node):
    """f(x, y)[idx] -> f(x[idx'], y[idx'']) for elementwise f; Rebroadcast(x)[idx] ->
    Rebroadcast(x[idx]).

    Only when f's result is used by this indexing alone: f is then computed on the selected
    elements only. An input broadcast along an axis the result is not broadcast along is
    constant there: it is indexed with 0 (an integer entry) or kept whole (a slice), so it
    still broadcasts; the other inputs take the entry as it is. Theano 1.0 lifted only
    through inputs broadcast along no axis or along all of them.
    """
    if not isinstance(node.op, Subtensor):
        return None
    u = node.inputs[0]
    unode = u.owner
    if unode is None or n_clients(fgraph, u) != 1:
        return None
    out = node.outputs[0]
    idx = node.inputs[1:]
    if isinstance(unode.op, Elemwise) and len(unode.outputs) == 1 \
            and not unode.op.inplace_pattern:
        entries = get_idx_list(node.inputs, node.op.idx_list)
        ub = u.type.broadcastable
        new_inputs = []
        for i in unode.inputs:
            ib = i.type.broadcastable
            mine = []
            for d, e in enumerate(entries):
                if ib[d] and not ub[d]:
                    mine.append(slice(None) if isinstance(e, slice) else 0)
                else:
                    mine.append(e)
            new_inputs.append(i if all(_is_full(e) for e in mine) else subtensor(i, mine))
        res = unode.op(*new_inputs)
        return _done(same_type(res, out, same_shape=True), out, u)
    if isinstance(unode.op, Rebroadcast):
        kept = []
        entries = node.op.idx_list
        for i, e in enumerate(entries):
            if isinstance(e, slice):
                kept.append(i)
        kept += list(range(len(entries), u.type.ndim))
        flags = dict(unode.op.axis)
        axes = [(j, flags[i]) for j, i in enumerate(kept) if i in flags]
        inner = node.op(unode.inputs[0], *idx)
        res = Rebroadcast(*axes)(inner) if axes else inner
        return _done(same_type(res, out, same_shape=True), out, u)
    return None


# ---------------------------------------------------------------------------------------------
# Merging


def _as_int64(v):
    if isinstance(v, int):
        return v
    return v if v.type.dtype == "int64" else tm.cast(v, "int64")


def _nonneg(v, none_ok: bool = True) -> int | bool | None:
    """``v`` as a known non-negative int (None stays None when allowed), else False."""
    if v is None:
        return None if none_ok else False
    k = known_int(v)
    return k if k is not None and k >= 0 else False


def _merge_known(first: slice, second):
    """The merged index when every bound involved is a known non-negative int (or None), so
    that no clipping against the axis length is needed; None when that is not the case.

    ``x[a:b:k][c:d:l] == x[a + c*k : min(b, a + d*k) : k*l]``; ``x[a::k][i] == x[a + i*k]``
    (the second raises IndexError exactly when the first does).
    """
    a, b, k = _nonneg(first.start), _nonneg(first.stop), _step_of(first)
    if a is False or b is False:
        return None
    a = a or 0
    if not isinstance(second, slice):
        i = _nonneg(second, none_ok=False)
        if i is False or b is not None:
            return None
        return a + i * k
    c, d, ell = _nonneg(second.start), _nonneg(second.stop), _step_of(second)
    if c is False or d is False:
        return None
    start = a + (c or 0) * k
    stops = [s for s in (b, None if d is None else a + d * k) if s is not None]
    return slice(start, min(stops) if stops else None, k * ell)


def _merge_entry(first: slice, second, n1, n2):
    """The index into x equal to ``x[first][second]`` along one axis (positive steps)."""
    known = _merge_known(first, second)
    if known is not None:
        return known
    canon, _ = get_canonical_form_slice(first, n1)
    a, k = canon.start, canon.step
    if not isinstance(second, slice):
        i = known_int(second)
        if i is not None and isinstance(n2, int):
            if not -n2 <= i < n2:
                return None  # out of range: leave it to fail at run time as written
            j = i + n2 if i < 0 else i
            return a + j * k if isinstance(a, int) else _as_int64(a + j * k)
        i = second if i is None else i
        j = tm.switch(tm.lt(i, 0), i + n2, i)
        inside = tm.and_(tm.ge(j, 0), tm.lt(j, n2))
        return _as_int64(tm.switch(inside, a + j * k, n1))
    canon2, _ = get_canonical_form_slice(second, n2)
    a2, b2, k2 = canon2.start, canon2.stop, canon2.step
    start = a + a2 * k
    stop = a + b2 * k
    return slice(_as_int64(start), _as_int64(stop), k * k2)


@register_canonicalize
@register_specialize
@local_optimizer([Subtensor])
def local_subtensor_merge(fgraph, node):
    """x[s1][s2] -> x[s] with s the composition of s1 and s2 (both with positive steps).

    For ``x[a:b:k][c:d:l]`` the merged slice is ``x[a' + c'*k : a' + d'*k : k*l]`` in the
    canonical (clipped, non-negative) bounds a', c', d'; an integer ``i`` becomes
    ``a' + i'*k``. The inner view need not be unused elsewhere (it stays where it is used).
    """
    if not isinstance(node.op, Subtensor):
        return None
    u = node.inputs[0]
    inner = u.owner
    if inner is None or not isinstance(inner.op, Subtensor):
        return None
    x = inner.inputs[0]
    s1 = list(get_idx_list(inner.inputs, inner.op.idx_list))
    s2 = list(get_idx_list(node.inputs, node.op.idx_list))
    for e in s1 + s2:
        if isinstance(e, slice):
            step = _step_of(e)
            if step is None or step <= 0:
                return None
    xshape = shape_entries(fgraph, x)
    merged = []
    j = 0
    for d, e1 in enumerate(s1):
        if not isinstance(e1, slice):
            merged.append(e1)
            continue
        if j < len(s2):
            n1 = xshape[d]
            n1 = n1 if isinstance(n1, int) else (known_int(n1) if known_int(n1) is not None
                                                  else n1)
            n2 = slice_length(e1, n1)
            m = _merge_entry(e1, s2[j], n1, n2)
            if m is None:
                return None
            merged.append(m)
            j += 1
        else:
            merged.append(e1)
    merged += s2[j:]
    res = subtensor(x, merged)
    return _done(same_type(res, node.outputs[0], same_shape=True), node.outputs[0], u)


# ---------------------------------------------------------------------------------------------
# Indexing an alloc


@register_useless
@register_canonicalize
@register_specialize
@local_optimizer([Subtensor])
def local_subtensor_of_alloc(fgraph, node):
    """alloc(v, *shape)[idx] -> alloc(v[idx'], *shape'): only the selected part is filled.

    ``idx'`` applies idx to the axes v really has (a broadcastable axis of v is kept whole,
    or dropped by an integer index); the new shape has the selected lengths. As with
    Theano 1.0, an axis of v of size 1 that its type does not declare broadcastable is
    indexed like the others, which may turn a broadcast into an IndexError, never into
    other values.
    """
    if not isinstance(node.op, Subtensor):
        return None
    u = node.inputs[0]
    anode = u.owner
    if anode is None or not isinstance(anode.op, Alloc):
        return None
    val = anode.inputs[0]
    dims = anode.inputs[1:]
    entries = get_idx_list(node.inputs, node.op.idx_list)
    added = u.type.ndim - val.type.ndim
    new_dims = []
    val_entries = []
    for i, (e, dim) in enumerate(zip(entries, dims)):
        if i >= added:
            k = i - added
            if val.type.broadcastable[k]:
                val_entries.append(slice(None) if isinstance(e, slice) else 0)
            else:
                val_entries.append(e)
        if isinstance(e, slice):
            new_dims.append(_as_int64(slice_length(e, dim)))
    new_dims += list(dims[len(entries):])
    new_val = subtensor(val, val_entries) if any(
        not _is_full(e) for e in val_entries) else val
    if new_val.type.ndim > len(new_dims):
        return None
    res = alloc(new_val, *new_dims)
    return _done(same_type(res, node.outputs[0], same_shape=True), node.outputs[0])


# ---------------------------------------------------------------------------------------------
# Increments


def _constant_fill_value(var: Variable):
    """The number every element of ``var`` equals when the graph says so (a constant, an
    alloc or a fill of a constant), else None."""
    c = scalar_constant(var)
    if c is not None:
        return c
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.size and np.all(data == data.reshape(-1)[0]):
            return data.reshape(-1)[0]
        return None
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Alloc):
        return _constant_fill_value(node.inputs[0])
    if is_elemwise(node, Second, nin=2):
        return _constant_fill_value(node.inputs[1])
    if isinstance(node.op, DimShuffle):
        return _constant_fill_value(node.inputs[0])
    return None


@register_canonicalize("local_incsubtensor_of_allocs")
@register_stabilize("local_incsubtensor_of_allocs")
@local_optimizer([IncSubtensor, AdvancedIncSubtensor, AdvancedIncSubtensor1])
def local_incsubtensor_of_zeros(fgraph, node):
    """inc_subtensor(x[idx], 0) -> x (the increment is known to be zeros: a constant, an
    alloc or fill of 0)."""
    if not isinstance(node.op, IncSubtensor | AdvancedIncSubtensor | AdvancedIncSubtensor1):
        return None
    if node.op.set_instead_of_inc:
        return None
    c = _constant_fill_value(node.inputs[1])
    if c is None or c != 0:
        return None
    x = node.inputs[0]
    return [x] if x.type == node.outputs[0].type else None


@register_canonicalize("local_setsubtensor_of_allocs")
@register_stabilize("local_setsubtensor_of_allocs")
@local_optimizer([IncSubtensor])
def local_setsubtensor_of_constants(fgraph, node):
    """set_subtensor(x[idx], c) -> x when x is filled with the number c already (a
    constant, an alloc or fill of c): setting changes nothing."""
    if not isinstance(node.op, IncSubtensor) or not node.op.set_instead_of_inc:
        return None
    cx = _constant_fill_value(node.inputs[0])
    cy = _constant_fill_value(node.inputs[1])
    if cx is None or cy is None:
        return None
    x = node.inputs[0]
    same = np.asarray(cx, dtype=x.type.dtype) == np.asarray(cy).astype(x.type.dtype)
    if not same:
        return None
    return [x] if x.type == node.outputs[0].type else None


@register_useless
@register_canonicalize
@register_specialize
@local_optimizer([IncSubtensor])
def local_useless_inc_subtensor(fgraph, node):
    """set_subtensor(x[:], y) -> y, and inc_subtensor(zeros[:], y) -> y, when y is known to
    have x's shape (the shape feature says so): every element is overwritten.

    A slice ``[::-1]`` writes y reversed: the result is then ``y[::-1]``.
    """
    if not isinstance(node.op, IncSubtensor):
        return None
    x, y = node.inputs[:2]
    if not node.op.set_instead_of_inc:
        c = _constant_fill_value(x)
        if c is None or c != 0:
            return None
    out = node.outputs[0]
    if x.type.ndim != y.type.ndim or x.type.broadcastable != y.type.broadcastable:
        return None
    entries = get_idx_list(node.inputs[1:], node.op.idx_list)
    steps = []
    for e in entries:
        if not isinstance(e, slice) or e.start is not None or e.stop is not None:
            return None
        step = _step_of(e)
        if step not in (1, -1):
            return None
        steps.append(step)
    feature = getattr(fgraph, "shape_feature", None)
    if feature is None or not feature.same_shape(x, y):
        return None
    if all(s == 1 for s in steps):
        res = y
    else:
        res = subtensor(y, [slice(None, None, s) for s in steps])
    return _done(same_type(res, out, same_shape=True), out)

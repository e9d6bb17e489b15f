"""Shape rewrites: measure a value without computing it, and drop shape ops that do nothing.

``f = x.shape[0]`` where ``x`` is a big intermediate should not compute ``x``: the
:class:`~topt.features.shape.ShapeFeature` (attached by the ``ShapeOpt`` step at position
0.1) knows ``x``'s shape as an expression of the inputs' shapes, and these rewrites put
that expression in place of ``Shape``/``Shape_i`` of computed variables. Once nothing reads
``x`` any more it leaves the graph, and later rewrites no longer see it as a shared
intermediate.

Safety: the inferred expression gives the size the computation *would* have; a computation
that would fail at run time (inputs of mismatched shapes) is then not run when only its
shape is used, so the shape is returned without the error. Theano 1.0 behaved the same.
Every replacement has the replaced variable's type exactly (int64 scalars and vectors,
reshape/specify_shape outputs re-broadcast when needed).

Theano 1.0 names kept: ``local_shape_to_shape_i``, ``local_track_shape_i``,
``local_subtensor_make_vector``, the ``ShapeOpt``/``UnShapeOpt`` steps. Added:
``local_shape_i_of_computed`` (our graph builders emit ``Shape_i`` directly, where Theano
went through ``Shape`` and indexing), ``local_subtensor_of_shape`` (``Shape(x)[i]`` in one
step, also without a ShapeFeature), ``local_shape_i_constant`` (statically known sizes become
constants) and the shape-proven removals ``local_useless_reshape_by_shape`` and
``local_useless_specify_shape_by_shape``.
"""

from __future__ import annotations

import numpy as np

from tgraph.graph.basic import Constant, Variable
from tgraph.tensor.advanced_subtensor import AdvancedSubtensor1
from tgraph.tensor.basic import NotScalarConstantError, constant, get_scalar_constant_value
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.shape import (
    MakeVector,
    Reshape,
    Shape,
    Shape_i,
    SpecifyShape,
    known_dim,
    shape_i_op,
)
from tgraph.tensor.subtensor import Subtensor
from topt.engine.base import GlobalOptimizer
from topt.engine.rewriter import copy_stack_trace, local_optimizer
from topt.features.shape import ShapeFeature, depends_on, same_entry, shape_read
from topt.optdb import optdb, register_canonicalize, register_specialize, register_useless

__all__ = [
    "ShapeOptimizer",
    "UnShapeOptimizer",
    "local_shape_i_constant",
    "local_shape_i_of_computed",
    "local_shape_to_shape_i",
    "local_subtensor_make_vector",
    "local_subtensor_of_shape",
    "local_track_shape_i",
    "local_useless_reshape_by_shape",
    "local_useless_specify_shape_by_shape",
]


class ShapeOptimizer(GlobalOptimizer):
    """Attach a :class:`ShapeFeature` (the rewrites below read ``fgraph.shape_feature``).

    Registered as 'ShapeOpt' at position 0.1, after the first merge (merged duplicates need
    no shapes of their own), tags fast_run and fast_compile, as in Theano 1.0.
    """

    def add_requirements(self, fgraph) -> None:
        if getattr(fgraph, "shape_feature", None) is None:
            fgraph.attach_feature(ShapeFeature())

    def apply(self, fgraph) -> None:
        return None


class UnShapeOptimizer(GlobalOptimizer):
    """Detach the ShapeFeature (registered at 10 without tags: only run when asked by name)."""

    def apply(self, fgraph) -> None:
        for feature in list(getattr(fgraph, "_features", ())):
            if isinstance(feature, ShapeFeature):
                fgraph.remove_feature(feature)


def _feature(fgraph) -> ShapeFeature | None:
    return getattr(fgraph, "shape_feature", None)


def _int64(value: int) -> Variable:
    return constant(np.int64(value))


def _constant_index(node) -> int | slice | None:
    """The single constant index of a one-entry Subtensor node (None when unknown)."""
    if len(node.op.idx_list) != 1:
        return None
    try:
        (idx,) = node.op.get_constant_idx(node.inputs, only_process_constants=True)
    except NotScalarConstantError:
        return None
    if isinstance(idx, slice):
        parts = [None if p is None else int(p) for p in (idx.start, idx.stop, idx.step)]
        return None if parts[2] == 0 else slice(*parts)
    return int(idx)


def _pick(entries: list, idx: int | slice):
    """``entries[idx]`` or None when an integer index is out of range (a run-time error
    the rewrite must not hide)."""
    if isinstance(idx, slice):
        return entries[idx]
    if -len(entries) <= idx < len(entries):
        return entries[idx]
    return None


def _no_self_reference(repl: Variable, node) -> bool:
    """Whether ``repl`` may replace ``node``'s output without a cycle (a bounded check)."""
    return repl is not node.outputs[0] and depends_on(repl, node.outputs[0]) is False


# ---------------------------------------------------------------------------------------------
# Shape and Shape_i of computed variables


@register_specialize
@register_canonicalize
@local_optimizer([Shape])
def local_shape_to_shape_i(fgraph, node):
    """Shape(x) -> MakeVector(shape_of[x]...): the inferred sizes, without computing x.

    Needs the ShapeFeature. MakeVector of int64 entries has Shape's type (int64 vector).
    """
    feature = _feature(fgraph)
    if feature is None or not isinstance(node.op, Shape):
        return None
    x = node.inputs[0]
    if feature.shape_of.get(x) is None:
        return None
    entries = [feature.get_shape(x, i) for i in range(x.type.ndim)]
    out = MakeVector("int64")(*entries)
    copy_stack_trace(node.outputs[0], out)
    return [out]


@register_specialize
@register_canonicalize
@local_optimizer([Shape_i])
def local_track_shape_i(fgraph, node):
    """Shape_i(i)(r) where r replaced an older variable -> the inferred entry of r.

    The ShapeFeature schedules these when a replacement makes a Shape_i read a new
    variable; the entry it knows does not need that variable computed.
    """
    feature = _feature(fgraph)
    if feature is None or node not in feature.scheduled:
        return None
    new_r = feature.scheduled[node]
    if feature.shape_of.get(new_r) is None:
        return None
    repl = feature.get_shape(new_r, node.op.i)
    if not _no_self_reference(repl, node):
        return None
    return [repl]


@register_specialize
@register_canonicalize
@local_optimizer([Shape_i])
def local_shape_i_of_computed(fgraph, node):
    """Shape_i(i)(f(a, b)) -> shape_of[f(a, b)][i], an expression of the inputs' shapes.

    Skipped when the feature knows no more than ``Shape_i(i)`` itself (graph inputs, Ops
    without infer_shape) and when the expression would read the Shape_i's own output.
    """
    feature = _feature(fgraph)
    x = node.inputs[0]
    if feature is None or x.owner is None or feature.shape_of.get(x) is None:
        return None
    repl = feature.get_shape(x, node.op.i)
    read = shape_read(repl)
    if read is not None and read[0] is x and read[1] == node.op.i:
        return None
    if not _no_self_reference(repl, node):
        return None
    copy_stack_trace(node.outputs[0], repl)
    return [repl]


@register_specialize
@register_canonicalize("fast_compile")
@local_optimizer([Shape_i])
def local_shape_i_constant(fgraph, node):
    """Shape_i(i)(x) -> constant, when the graph fixes that size: a constant x, a
    broadcastable dimension (1), a SpecifyShape/Reshape/Alloc with a constant entry."""
    if not isinstance(node.op, Shape_i):
        return None
    x = node.inputs[0]
    value = known_dim(x, node.op.i)
    if value is None:
        return None
    return [_int64(value)]


# ---------------------------------------------------------------------------------------------
# Indexing a shape vector


@register_specialize
@register_canonicalize
@local_optimizer([Subtensor])
def local_subtensor_of_shape(fgraph, node):
    """Shape(x)[i] -> shape_of[x][i] (or Shape_i(i)(x) without a ShapeFeature);
    Shape(x)[a:b] -> MakeVector of those entries. Constant indices only."""
    if not isinstance(node.op, Subtensor):
        return None
    base = node.inputs[0]
    if base.owner is None or not isinstance(base.owner.op, Shape):
        return None
    idx = _constant_index(node)
    if idx is None:
        return None
    x = base.owner.inputs[0]
    feature = _feature(fgraph)
    if feature is not None and feature.shape_of.get(x) is not None:
        entries = [feature.get_shape(x, i) for i in range(x.type.ndim)]
    else:
        entries = [shape_i_op(i).make_node(x).outputs[0] for i in range(x.type.ndim)]
    picked = _pick(entries, idx)
    if picked is None:
        return None
    out = MakeVector("int64")(*picked) if isinstance(idx, slice) else picked
    if out.type != node.outputs[0].type:
        return None
    copy_stack_trace(node.outputs[0], out)
    return [out]


@register_specialize
@register_canonicalize("fast_compile_gpu")
@register_useless
@local_optimizer([Subtensor, AdvancedSubtensor1])
def local_subtensor_make_vector(fgraph, node):
    """MakeVector(a, b, c)[1] -> b;  MakeVector(a, b, c)[0:2] -> MakeVector(a, b);
    MakeVector(a, b, c)[[0, 2]] -> MakeVector(a, c). Constant indices only; an index out of
    range is left for run time to report."""
    vec = node.inputs[0]
    if vec.owner is None or not isinstance(vec.owner.op, MakeVector):
        return None
    entries = list(vec.owner.inputs)
    make = vec.owner.op
    if isinstance(node.op, Subtensor):
        idx = _constant_index(node)
        if idx is None:
            return None
        picked = _pick(entries, idx)
        if picked is None:
            return None
        out = make(*picked) if isinstance(idx, slice) else picked
    elif isinstance(node.op, AdvancedSubtensor1):
        ilist = node.inputs[1]
        if not isinstance(ilist, Constant):
            return None
        positions = [int(i) for i in np.asarray(ilist.data).reshape(-1)]
        if any(not -len(entries) <= p < len(entries) for p in positions):
            return None
        out = make(*[entries[p] for p in positions])
        out = patternbroadcast(out, node.outputs[0].type.broadcastable)
    else:
        return None
    if out.type != node.outputs[0].type:
        return None
    copy_stack_trace(node.outputs[0], out)
    return [out]


# ---------------------------------------------------------------------------------------------
# Shape ops the shapes prove useless


def _requested_entries(shp: Variable) -> list | None:
    """The entries of a shape vector: ints where constant, else symbolic scalars."""
    if isinstance(shp, Constant):
        return [int(v) for v in np.asarray(shp.data).reshape(-1)]
    if shp.owner is not None and isinstance(shp.owner.op, MakeVector):
        out = []
        for e in shp.owner.inputs:
            try:
                out.append(int(get_scalar_constant_value(e, only_process_constants=True)))
            except NotScalarConstantError:
                out.append(e)
        return out
    return None


def _matches_dim(feature, x: Variable, d: int, entry) -> bool:
    """Whether ``entry`` (an int or a symbolic scalar) is provably ``x.shape[d]``."""
    if isinstance(entry, int):
        if x.type.broadcastable[d]:
            return entry == 1
        known = known_dim(x, d)
        if known is None and feature is not None and feature.shape_of.get(x) is not None:
            mine = feature.get_shape(x, d)
            if isinstance(mine, Constant):
                known = int(mine.data)
        return known == entry
    read = shape_read(entry)
    if read is not None and read[0] is x and read[1] == d:
        return True
    if feature is not None and feature.shape_of.get(x) is not None:
        return same_entry(feature.get_shape(x, d), entry)
    return False


def _as_type_of(x: Variable, out: Variable) -> Variable | None:
    """``x`` re-broadcast to ``out``'s type, or None when dtypes differ."""
    if x.type.dtype != out.type.dtype or x.type.ndim != out.type.ndim:
        return None
    res = patternbroadcast(x, out.type.broadcastable)
    return res if res.type == out.type else None


@register_specialize
@register_canonicalize
@local_optimizer([Reshape])
def local_useless_reshape_by_shape(fgraph, node):
    """Reshape(x, shp) -> x when every entry of shp is provably x's size there (at most one
    -1, which then can only stand for that size).

    Proofs: ``Shape(x)``, ``Shape_i(d)(x)``/``x.shape[d]``, equal constants, 1 for
    broadcastable dimensions, the ShapeFeature's entry for x. Broadcast flags are then
    fixed to the Reshape's output type.
    """
    if not isinstance(node.op, Reshape):
        return None
    x, shp = node.inputs
    out = node.outputs[0]
    if x.type.ndim != out.type.ndim:
        return None
    if shp.owner is not None and isinstance(shp.owner.op, Shape) and shp.owner.inputs[0] is x:
        repl = _as_type_of(x, out)
        return None if repl is None else [repl]
    entries = _requested_entries(shp)
    if entries is None or len(entries) != x.type.ndim:
        return None
    feature = _feature(fgraph)
    minus_one = 0
    for d, e in enumerate(entries):
        if isinstance(e, int) and e == -1:
            minus_one += 1
            continue
        if not _matches_dim(feature, x, d, e):
            return None
    if minus_one > 1:
        return None
    repl = _as_type_of(x, out)
    if repl is None:
        return None
    copy_stack_trace(out, repl)
    return [repl]


@register_specialize
@register_canonicalize
@local_optimizer([SpecifyShape])
def local_useless_specify_shape_by_shape(fgraph, node):
    """SpecifyShape(x, shp) -> x when shp is provably x's shape already (the check could
    never fail): equal constants, broadcastable 1s, x's own Shape_i, the ShapeFeature's
    entries for x."""
    if not isinstance(node.op, SpecifyShape):
        return None
    x, shp = node.inputs
    out = node.outputs[0]
    if shp.owner is not None and isinstance(shp.owner.op, Shape) and shp.owner.inputs[0] is x:
        entries = None
    else:
        entries = _requested_entries(shp)
        if entries is None or len(entries) != x.type.ndim:
            return None
        feature = _feature(fgraph)
        for d, e in enumerate(entries):
            if (isinstance(e, int) and e < 0) or not _matches_dim(feature, x, d, e):
                return None
    repl = _as_type_of(x, out)
    if repl is None:
        return None
    copy_stack_trace(out, repl)
    return [repl]


optdb.register("ShapeOpt", ShapeOptimizer(), 0.1, "fast_run", "fast_compile")
optdb.register("UnShapeOpt", UnShapeOptimizer(), 10)

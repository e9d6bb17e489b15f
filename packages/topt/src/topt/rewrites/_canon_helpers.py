"""Small graph queries shared by the canonicalize, algebraic, specialize, useless and subtensor
rewrites.

A rewrite must return variables of exactly the type of the ones it replaces (dtype *and*
broadcastable pattern), or ``fgraph.replace`` refuses them. Most helpers here exist to keep
that promise: :func:`fill_chain` widens a replacement that lost a dimension's extent (``x * 1``
with ``x`` a row and ``1`` a matrix of ones) with ``fill`` from variables that still carry it,
and :func:`same_type` casts and re-patterns what remains.

Constants: a rewrite may treat a constant as a number only when all its dimensions are
broadcastable (its value is one number repeated, and its shape adds nothing but size-1 axes);
:func:`scalar_constant` returns that number or None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.tensor.alloc import fill  # second(model, value), re-exported for the rewrites
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.math_elemwise import cast
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.scalar_conv import ScalarFromTensor, TensorFromScalar
from tgraph.tensor.shape import Shape, Shape_i, shape_i_op
from tgraph.tensor.type import TensorType

__all__ = [
    "clients_of",
    "elemwise_of",
    "encompasses_broadcastable",
    "fill",
    "fill_chain",
    "is_elemwise",
    "is_left_pad",
    "known_shape_entry",
    "n_clients",
    "same_dim",
    "same_type",
    "scalar_constant",
    "shape_entries",
    "strip_left_pad",
]


# ---------------------------------------------------------------------------------------------
# Matching nodes


def is_elemwise(node: Apply | None, scalar_cls, nin: int | None = None) -> bool:
    """Whether ``node`` is a non-inplace Elemwise of a scalar op of class ``scalar_cls``
    (a class or tuple of classes), with ``nin`` inputs when given."""
    if node is None or not isinstance(node.op, Elemwise):
        return False
    if node.op.inplace_pattern:
        return False
    if not isinstance(node.op.scalar_op, scalar_cls):
        return False
    return nin is None or len(node.inputs) == nin


def elemwise_of(var: Variable, scalar_cls, nin: int | None = None) -> Apply | None:
    """The owner of ``var`` when it is an Elemwise of ``scalar_cls`` (see is_elemwise)."""
    node = var.owner
    return node if is_elemwise(node, scalar_cls, nin) else None


def clients_of(fgraph, var: Variable) -> list:
    """The ``(node, index)`` clients of ``var`` in ``fgraph`` ([] when unknown)."""
    if fgraph is None:
        return []
    return list(fgraph.clients.get(var, ()))


def n_clients(fgraph, var: Variable) -> int:
    """How many clients ``var`` has in ``fgraph``; a large number when there is no graph
    (rewrites applied outside a FunctionGraph then never assume a value is used once)."""
    if fgraph is None:
        return 1 << 30
    return len(fgraph.clients.get(var, ()))


def is_left_pad(node: Apply | None) -> bool:
    """Whether ``node`` is a DimShuffle that only adds broadcastable dimensions on the left
    (``('x', 'x', 0, 1)``), the one Elemwise inserts for inputs of fewer dimensions."""
    if node is None or not isinstance(node.op, DimShuffle):
        return False
    nd_in = node.inputs[0].type.ndim
    nd_out = node.outputs[0].type.ndim
    return tuple(node.op.new_order) == ("x",) * (nd_out - nd_in) + tuple(range(nd_in))


def strip_left_pad(var: Variable) -> Variable:
    """``var`` without the left-padding DimShuffles on top of it."""
    while is_left_pad(var.owner):
        var = var.owner.inputs[0]
    return var


# ---------------------------------------------------------------------------------------------
# Constants


def scalar_constant(var: Variable) -> np.ndarray | None:
    """The number a constant stands for, or None.

    Sees through DimShuffles (they only move size-1 axes of a constant). Only constants
    whose dimensions are all broadcastable count: a ``(3,)`` vector of ones is not "1" for a
    rewrite, because dropping it would change the output shape.
    """
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if not isinstance(var, Constant) or not isinstance(var.type, TensorType):
        return None
    if not all(var.type.broadcastable):
        return None
    data = np.asarray(var.data)
    if data.size != 1:
        return None
    return data.reshape(())


# ---------------------------------------------------------------------------------------------
# Keeping the replaced type


def _padded_bcast(var: Variable, ndim: int) -> tuple[bool, ...]:
    b = tuple(var.type.broadcastable)
    return (True,) * (ndim - len(b)) + b


def fill_chain(new: Variable, candidates: Iterable[Variable], out: Variable) -> Variable | None:
    """``new`` made of ``out``'s exact type, or None when that cannot be done.

    ``new`` has the value ``out`` should have, but perhaps a narrower broadcast pattern
    (it no longer depends on an input that gave the output its extent in some dimension),
    another dtype or fewer dimensions. Each candidate (graph variables whose shape the
    output had to agree with: the replaced node's inputs, cancelled factors...) that is
    non-broadcastable in a dimension where ``new`` is broadcastable but ``out`` is not, is
    used as a ``fill`` model, in order, until the pattern matches. Then the dtype is cast.
    """
    ndim = out.type.ndim
    if new.type.ndim > ndim:
        return None
    target = tuple(out.type.broadcastable)
    for cand in candidates:
        if not isinstance(getattr(cand, "type", None), TensorType) or cand.type.ndim > ndim:
            continue
        have = _padded_bcast(new, ndim)
        if all(h == t or (not h) for h, t in zip(have, target)):
            break
        cb = _padded_bcast(cand, ndim)
        if any(h and not t and not c for h, t, c in zip(have, target, cb)):
            new = fill(cand, new)
    return same_type(new, out)


def same_type(new: Variable, out: Variable, same_shape: bool = False) -> Variable | None:
    """``new`` cast to ``out``'s dtype, left-padded to its rank and re-patterned
    (Rebroadcast, checked at run time) where ``new`` claims less than ``out``.

    Where ``new`` is broadcastable but ``out`` is not, ``new`` may stand for a smaller value
    that must be widened (a fill, see fill_chain): None is returned, unless the caller knows
    ``new`` already has ``out``'s shape (``same_shape=True``), when the flag is dropped.
    """
    if not isinstance(new, Variable):
        return None
    ndim = out.type.ndim
    if new.type.ndim > ndim:
        return None
    if new.type.dtype != out.type.dtype:
        new = cast(new, out.type.dtype)
    if new.type.ndim < ndim:
        missing = ndim - new.type.ndim
        new = DimShuffle(new.type.broadcastable,
                         ["x"] * missing + list(range(new.type.ndim)))(new)
    target = tuple(out.type.broadcastable)
    have = tuple(new.type.broadcastable)
    if not same_shape and any(h and not t for h, t in zip(have, target)):
        return None
    if have != target:
        new = patternbroadcast(new, target)
    return new if new.type == out.type else None


# ---------------------------------------------------------------------------------------------
# Shapes


def shape_entries(fgraph, var: Variable) -> list:
    """Symbolic int64 scalars for the shape of ``var``: the ShapeFeature's entries when the
    graph has one, else ``1`` for broadcastable dimensions and ``Shape_i`` of ``var``."""
    feature = getattr(fgraph, "shape_feature", None)
    if feature is not None:
        shp = feature.shape_of.get(var) if hasattr(feature.shape_of, "get") else None
        if shp is not None:
            return list(shp)
    out = []
    for i, b in enumerate(var.type.broadcastable):
        out.append(1 if b else shape_i_op(i)(var))
    return out


def _underlying(v):
    """A scalar index value with the scalar/tensor conversions peeled off."""
    while v is not None and v.owner is not None and isinstance(
            v.owner.op, ScalarFromTensor | TensorFromScalar):
        v = v.owner.inputs[0]
    return v


def known_shape_entry(v) -> int | None:
    """``v`` (an int, a shape entry or a symbolic scalar) as a Python int when constant."""
    if isinstance(v, int | np.integer):
        return int(v)
    v = _underlying(v)
    if isinstance(v, Constant):
        data = np.asarray(v.data)
        if data.ndim == 0 and data.dtype.kind in "iu":
            return int(data)
    return None


def same_dim(fgraph, x: Variable, i: int, entry) -> bool:
    """Whether ``entry`` (a symbolic or known integer) is provably dimension ``i`` of ``x``.

    True for broadcastable dimensions given the constant 1, for ``Shape_i{i}(x)``,
    ``Shape(x)[i]``, for the ShapeFeature's own entry of ``x``, and for equal known constants.
    Never guesses: anything else is False.
    """
    k = known_shape_entry(entry)
    if x.type.broadcastable[i]:
        return k == 1
    e = _underlying(entry)
    if e is None:
        return False
    if e.owner is not None:
        if isinstance(e.owner.op, Shape_i) and e.owner.op.i == i and e.owner.inputs[0] is x:
            return True
        if _is_shape_subscript(e, x, i):
            return True
    feature = getattr(fgraph, "shape_feature", None)
    if feature is not None:
        shp = feature.shape_of.get(x) if hasattr(feature.shape_of, "get") else None
        if shp is not None:
            mine = _underlying(shp[i]) if not isinstance(shp[i], int) else shp[i]
            if mine is e:
                return True
            mk = known_shape_entry(mine)
            if mk is not None and k is not None and mk == k:
                return True
    if isinstance(x, Constant) and k is not None:
        return np.shape(x.data)[i] == k
    return False


def _is_shape_subscript(e: Variable, x: Variable, i: int) -> bool:
    """Whether ``e`` is ``Shape(x)[i]`` (a Subtensor of a constant integer index)."""
    from tgraph.tensor.subtensor import Subtensor

    node = e.owner
    if not isinstance(node.op, Subtensor) or len(node.inputs) != 2:
        return False
    src = node.inputs[0]
    if src.owner is None or not isinstance(src.owner.op, Shape) or src.owner.inputs[0] is not x:
        return False
    k = known_shape_entry(node.inputs[1])
    return k is not None and (k == i or k + x.type.ndim == i)


def encompasses_broadcastable(b1: Sequence[bool], b2: Sequence[bool]) -> bool:
    """Whether a value of pattern ``b2`` broadcast against ``b1`` adds no extent: ``b2`` has
    no more dimensions than ``b1`` and is broadcastable wherever ``b1`` is."""
    if len(b1) < len(b2):
        return False
    b1 = b1[-len(b2):] if b2 else ()
    return not any(v1 and not v2 for v1, v2 in zip(b1, b2))

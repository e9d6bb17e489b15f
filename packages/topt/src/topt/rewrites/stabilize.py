"""Stabilization rewrites for logarithms and exponentials (the 'stabilize' phase).

Formulas that are exact on paper lose everything in floating point: ``log(1 + x)`` is 0 for
``|x| < 1e-16``, ``exp(x) - 1`` cancels for small ``x``, ``log(exp(a) + exp(b))`` overflows
once ``a`` passes 709. These rewrites replace such graphs by the functions made for them
(``log1p``, ``expm1``, the max-shifted log-sum-exp, a two-branch ``log(1 - exp(x))``). They
never make a result less accurate, only more; where the old graph gave inf or NaN the new
one may give the finite true value, which is the point.

The helpers at the top (matching Elemwise nodes, reading scalar constants, giving a
replacement exactly the type of the variable it replaces) are shared with
:mod:`topt.rewrites.sigmoid_rw` and :mod:`topt.rewrites.softmax_rw`.

Theano 1.0 names and phases: ``local_log1p``, ``local_log_add`` and ``local_expm1`` as in
Theano (``local_expm1`` also in canonicalize); ``local_log_sum_exp`` is in the stabilize
equilibrium here (Theano ran it as a separate pass at position 1.6) with a guard that stops
it from re-applying to its own output; ``local_log1mexp`` is ours (Theano 1.0 had none).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.scalar.arith import Add, Mul, Neg, Sub, Switch
from tgraph.scalar.compare import LT
from tgraph.scalar.math import Exp, Log, Log1p
from tgraph.scalar.op import Cast, Identity, Second
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.alloc import Alloc
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.reduction import Max, MaxAndArgmax, Sum, makeKeepDims
from topt.engine.rewriter import copy_stack_trace, local_optimizer
from topt.optdb import register_canonicalize, register_specialize, register_stabilize

__all__ = [
    "elemwise_node",
    "fit_type",
    "local_expm1",
    "local_log1mexp",
    "local_log1p",
    "local_log_add",
    "local_log_sum_exp",
    "scalar_constant",
    "split_sum",
]

_FLOATS = ("float16", "float32", "float64")


# ---------------------------------------------------------------------------------------------
# Helpers shared by the stabilization modules


def elemwise_node(var: Variable, scalar_cls) -> Apply | None:
    """The owner of ``var`` when it is an Elemwise whose scalar op is a ``scalar_cls``."""
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and isinstance(
        node.op.scalar_op, scalar_cls
    ):
        return node
    return None


def is_float(var: Variable) -> bool:
    """Whether ``var`` is a real floating-point tensor (the only kind these rewrites touch)."""
    return getattr(var.type, "dtype", None) in _FLOATS


def scalar_constant(var: Variable) -> float | None:
    """The number ``var`` holds everywhere when it is a constant, else None.

    Sees through DimShuffle, Cast, identity, ``fill`` (``second(x, c)`` is ``c`` shaped
    like ``x``) and Alloc: a caller that drops such a variable must keep its shape with
    :func:`fit_type`. Only real numbers count; a constant with differing elements is None.
    """
    casts: list[str] = []
    while not isinstance(var, Constant):
        node = var.owner
        if node is None:
            return None
        op = node.op
        if isinstance(op, DimShuffle):
            var = node.inputs[0]
        elif isinstance(op, Elemwise) and isinstance(op.scalar_op, Cast | Identity):
            casts.append(var.type.dtype)
            var = node.inputs[0]
        elif (isinstance(op, Elemwise) and isinstance(op.scalar_op, Second)) or isinstance(
            op, Alloc
        ):
            var = node.inputs[1] if isinstance(op, Elemwise) else node.inputs[0]
        else:
            return None
    data = np.asarray(var.data)
    if data.size == 0 or data.dtype.kind not in "biuf":
        return None
    flat = data.reshape(-1)
    if not np.all(flat == flat[0]):
        return None
    value = flat[0]
    with np.errstate(all="ignore"):
        for dtype in reversed(casts):
            value = np.asarray(value).astype(dtype)[()]
    return float(value)


def split_sum(var: Variable) -> tuple[float, list[tuple[int, Variable]], list[Variable]] | None:
    """``var`` as ``c + sum(sign * term)`` when its owner is a float add or sub.

    Returns ``(c, [(sign, term)...], constants)``: the constant part folded into ``c`` (the
    constant variables listed so a caller can keep their shape), the other terms in order.
    None when ``var`` is not such a sum.
    """
    node = elemwise_node(var, Add | Sub)
    if node is None or not is_float(var):
        return None
    if isinstance(node.op.scalar_op, Sub):
        signed = [(1, node.inputs[0]), (-1, node.inputs[1])]
    else:
        signed = [(1, i) for i in node.inputs]
    total = 0.0
    terms: list[tuple[int, Variable]] = []
    consts: list[Variable] = []
    for sign, term in signed:
        value = scalar_constant(term)
        if value is None:
            terms.append((sign, term))
        else:
            total += sign * value
            consts.append(term)
    return total, terms, consts


def signed_sum(terms: list[tuple[int, Variable]]) -> Variable:
    """``sum(sign * term)`` written with add, sub and neg (no multiplication by -1)."""
    plus = [t for s, t in terms if s > 0]
    minus = [t for s, t in terms if s < 0]
    total = None
    if plus:
        total = plus[0] if len(plus) == 1 else tm.add(*plus)
    if minus:
        neg_part = minus[0] if len(minus) == 1 else tm.add(*minus)
        total = tm.neg(neg_part) if total is None else tm.sub(total, neg_part)
    if total is None:
        raise ValueError("signed_sum needs at least one term")
    return total


def fit_type(new: Variable, old: Variable, refs: Iterable[Variable] = ()) -> Variable | None:
    """``new`` made exactly of ``old``'s type (dtype and broadcastable), or None.

    A replacement can lose extent when the terms it dropped were the only ones that were
    not broadcastable in some dimension (``fill(ones_matrix, 1) + exp(row)``): ``refs`` are
    variables the old expression broadcast against, used with ``fill`` to give that extent
    back. A dimension ``old`` declares broadcastable is re-declared (its size is 1 there);
    the dtype is restored with a cast.
    """
    new = as_tensor_variable(new)
    otype = old.type
    if new.type == otype:
        return new
    if new.type.ndim > otype.ndim:
        return None

    def too_broad(v):
        pad = otype.ndim - v.type.ndim
        vb = (True,) * pad + tuple(v.type.broadcastable)
        return [d for d, (b, ob) in enumerate(zip(vb, otype.broadcastable)) if b and not ob]

    missing = too_broad(new)
    for ref in refs:
        if not missing:
            break
        if ref.type.ndim > otype.ndim:
            continue
        pad = otype.ndim - ref.type.ndim
        rb = (True,) * pad + tuple(ref.type.broadcastable)
        if any(not rb[d] for d in missing):
            new = tm._second(ref, new)
            missing = too_broad(new)
    if missing:
        return None
    if new.type.ndim < otype.ndim:
        new = new.dimshuffle(*(["x"] * (otype.ndim - new.type.ndim) + list(range(new.ndim))))
    if new.type.broadcastable != otype.broadcastable:
        new = patternbroadcast(new, otype.broadcastable)
    if new.type.dtype != otype.dtype:
        new = tm.cast(new, otype.dtype)
    return new if new.type == otype else None


def finish(node: Apply, new: Variable, refs: Iterable[Variable] = ()) -> list[Variable] | None:
    """The one-output replacement list for ``node``: ``new`` fitted to the output's type,
    with the output's stack trace copied; None when the types cannot be reconciled."""
    out = node.outputs[0]
    fitted = fit_type(new, out, list(refs) + list(node.inputs))
    if fitted is None:
        return None
    copy_stack_trace(out, fitted)
    return [fitted]


def _typed(value: float, like: Variable) -> Variable:
    """A scalar constant of ``like``'s dtype (a float32 graph stays float32)."""
    return constant(np.asarray(value, dtype=like.type.dtype))


# ---------------------------------------------------------------------------------------------
# log(1 + x), log(1 - x)


@register_stabilize
@register_specialize
@local_optimizer([Elemwise])
def local_log1p(fgraph, node):
    """log(1 + x) -> log1p(x); log(1 - x) -> log1p(-x); log(c + x + y) with c == 1 likewise.

    ``log1p`` keeps the digits of a small ``x`` that ``1 + x`` rounds away. The constant
    terms must add up to exactly 1 (Theano accepted anything allclose to 1, which changes
    the value); constants broadcast to a larger shape keep that shape through ``fill``.
    """
    if elemwise_node(node.outputs[0], Log) is None:
        return None
    (arg,) = node.inputs
    parts = split_sum(arg)
    if parts is None:
        return None
    total, terms, consts = parts
    if total != 1.0 or not terms or not consts:
        return None
    return finish(node, tm.log1p(signed_sum(terms)), consts)


# ---------------------------------------------------------------------------------------------
# exp(x) - 1


@register_canonicalize
@register_stabilize
@register_specialize
@local_optimizer([Elemwise])
def local_expm1(fgraph, node):
    """exp(x) - 1 -> expm1(x) (also exp(x) + (-1) and ``-1 + exp(x) + y -> expm1(x) + y``).

    ``expm1`` is exact near 0 where the subtraction cancels every digit. Only an exact -1
    among the constants triggers it.
    """
    out = node.outputs[0]
    if elemwise_node(out, Add | Sub) is None:
        return None
    parts = split_sum(out)
    if parts is None:
        return None
    total, terms, consts = parts
    if total != -1.0:
        return None
    for k, (sign, term) in enumerate(terms):
        exp_node = elemwise_node(term, Exp)
        if sign > 0 and exp_node is not None:
            rest = terms[:k] + terms[k + 1:]
            new = tm.expm1(exp_node.inputs[0])
            if rest:
                new = signed_sum([(1, new), *rest])
            return finish(node, new, consts)
    return None


# ---------------------------------------------------------------------------------------------
# log(exp(a) + exp(b)), log(sum(exp(x)))


def _logaddexp(a: Variable, b: Variable) -> Variable:
    """``log(exp(a) + exp(b))`` as ``max(a, b) + log1p(exp(-|a - b|))``.

    Equal infinities would give ``inf - inf = NaN`` in the difference; the switch takes the
    difference as 0 there, so two -inf give -inf and two +inf give +inf, as the exact
    formula does.
    """
    gap = tm.switch(tm.eq(a, b), _typed(0.0, a), tm.neg(tm.abs_(tm.sub(a, b))))
    return tm.add(tm.maximum(a, b), tm.log1p(tm.exp(gap)))


@register_stabilize
@register_specialize
@local_optimizer([Elemwise])
def local_log_add(fgraph, node):
    """log(exp(a) + exp(b) + ...) -> m + log1p(exp(-|a - b|)), m = max(a, b), pairwise.

    Shifting by the maximum keeps ``exp`` from overflowing (a = 1000 gave inf) and from
    underflowing to log(0) (a = -1000 gave -inf). With more than two terms the pairs are
    folded left to right. Every term must be an exp; constants are not absorbed.
    """
    if elemwise_node(node.outputs[0], Log) is None:
        return None
    (arg,) = node.inputs
    add_node = elemwise_node(arg, Add)
    if add_node is None or len(add_node.inputs) < 2 or not is_float(arg):
        return None
    pre = []
    for term in add_node.inputs:
        exp_node = elemwise_node(term, Exp)
        if exp_node is None:
            return None
        pre.append(exp_node.inputs[0])
    new = pre[0]
    for other in pre[1:]:
        new = _logaddexp(new, other)
    return finish(node, new, add_node.inputs)


def _is_shifted_by_own_max(x: Variable) -> bool:
    """Whether ``x`` is ``a - m`` with ``m`` (a possibly guarded, dimshuffled) max of ``a``:
    the form local_log_sum_exp produces, which it must not rewrite again."""
    node = elemwise_node(x, Sub)
    if node is None:
        return False
    a, m = node.inputs
    seen = 0
    while m.owner is not None and seen < 8:
        seen += 1
        op = m.owner.op
        if isinstance(op, Max | MaxAndArgmax):
            return m.owner.inputs[0] is a
        if isinstance(op, DimShuffle):
            m = m.owner.inputs[0]
        elif isinstance(op, Elemwise) and isinstance(op.scalar_op, Switch):
            m = m.owner.inputs[2]
        else:
            return False
    return False


@register_stabilize
@local_optimizer([Elemwise])
def local_log_sum_exp(fgraph, node):
    """log(sum(exp(x), axis)) -> m + log(sum(exp(x - m), axis)), m = max(x, axis).

    After the shift the largest term is exp(0) = 1, so the sum neither overflows nor
    reaches 0. Where the maximum is infinite the shift is taken as 0 (x - inf would be
    NaN). A DimShuffle between log and sum (``keepdims``) is kept.
    """
    if elemwise_node(node.outputs[0], Log) is None:
        return None
    (arg,) = node.inputs
    dimshuffle = None
    sum_var = arg
    if arg.owner is not None and isinstance(arg.owner.op, DimShuffle):
        dimshuffle = arg.owner.op
        sum_var = arg.owner.inputs[0]
    sum_node = sum_var.owner
    if sum_node is None or type(sum_node.op) is not Sum or not is_float(sum_var):
        return None
    (x_exp,) = sum_node.inputs
    exp_node = elemwise_node(x_exp, Exp)
    if exp_node is None:
        return None
    x = exp_node.inputs[0]
    if _is_shifted_by_own_max(x) or x.type.dtype != sum_var.type.dtype:
        return None
    axis = sum_node.op.axis
    axes = list(range(x.type.ndim)) if axis is None else list(axis)
    if not axes:
        return None
    m = Max(axes)(x)
    m = tm.switch(tm.isinf_(m), _typed(0.0, m), m)
    shifted = tm.sub(x, makeKeepDims(x, m, axes))
    new = tm.add(m, tm.log(sum_node.op(tm.exp(shifted))))
    if dimshuffle is not None:
        new = dimshuffle(new)
    return finish(node, new)


# ---------------------------------------------------------------------------------------------
# log(1 - exp(x))

_LOG_HALF = -math.log(2.0)


def _neg_exp_arg(var: Variable) -> Variable | None:
    """``x`` when ``var`` is ``-exp(x)`` (written neg(exp(x)) or mul(-1, exp(x)))."""
    node = elemwise_node(var, Neg)
    if node is not None:
        exp_node = elemwise_node(node.inputs[0], Exp)
        return None if exp_node is None else exp_node.inputs[0]
    node = elemwise_node(var, Mul)
    if node is None or len(node.inputs) != 2:
        return None
    for k in (0, 1):
        if scalar_constant(node.inputs[k]) == -1.0:
            exp_node = elemwise_node(node.inputs[1 - k], Exp)
            return None if exp_node is None else exp_node.inputs[0]
    return None


def _inside_own_switch(fgraph, var: Variable, x: Variable) -> bool:
    """Whether every client of ``var`` is the low branch of ``switch(x < c, var, ...)``:
    the graph local_log1mexp builds, which it must leave alone."""
    clients = fgraph.clients.get(var, ()) if fgraph is not None else ()
    if not clients:
        return False
    for client, idx in clients:
        if client == "output" or idx != 1 or elemwise_node(client.outputs[0], Switch) is None:
            return False
        cond = elemwise_node(client.inputs[0], LT)
        if cond is None or cond.inputs[0] is not x:
            return False
    return True


@register_stabilize
@local_optimizer([Elemwise])
def local_log1mexp(fgraph, node):
    """log1p(-exp(x)) -> switch(x < -log 2, log1p(-exp(x)), log(-expm1(x))).

    ``log(1 - exp(x))`` for x <= 0 (local_log1p writes it ``log1p(-exp(x))`` first): near
    0 ``1 - exp(x)`` cancels and only ``-expm1(x)`` keeps the digits; far below 0
    ``log1p(-exp(x))`` is the accurate one (Maechler's log1mexp). Not in Theano 1.0.
    """
    out = node.outputs[0]
    if elemwise_node(out, Log1p) is None or not is_float(out):
        return None
    x = _neg_exp_arg(node.inputs[0])
    if x is None or _inside_own_switch(fgraph, out, x):
        return None
    cut = _typed(_LOG_HALF, x)
    low = tm.log1p(tm.neg(tm.exp(x)))
    high = tm.log(tm.neg(tm.expm1(x)))
    return finish(node, tm.switch(tm.lt(x, cut), low, high))

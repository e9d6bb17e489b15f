"""Algebraic simplification and elementwise specialization: the cheaper op for the same value.

Canonicalization (:mod:`topt.rewrites.canonicalize`) writes ``-x`` as ``-1 * x`` and
``inv(x)`` as ``x ** -1`` so that products cancel; once it is done, the specialize phase
writes them back in their cheapest form: ``neg``, ``inv``, ``sqr``, ``sqrt``, repeated
squaring for small integer powers, no multiplication by 1 or addition of 0.

``log(exp(x)) -> x`` and ``exp(log(x)) -> x`` were not in Theano 1.0; they are the forms
later Theano descendants use: the first is exact (and better: ``exp`` can overflow), the
second keeps NaN for negative x with a switch, so no value changes.
"""

from __future__ import annotations

import numpy as np

import tgraph.scalar as scal
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.alloc import Alloc, alloc
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from topt.engine import copy_stack_trace, local_optimizer
from topt.optdb import (
    register_canonicalize,
    register_specialize,
    register_specialize_device,
    register_stabilize,
)
from topt.rewrites._canon_helpers import (
    elemwise_of,
    encompasses_broadcastable,
    fill,
    fill_chain,
    is_elemwise,
    n_clients,
    same_type,
    scalar_constant,
)

__all__ = [
    "local_add_specialize",
    "local_alloc_unary",
    "local_div_to_inv",
    "local_elemwise_sub_zeros",
    "local_exp_log",
    "local_log_exp",
    "local_mul_specialize",
    "local_mul_to_sqr",
    "local_neg_div_neg",
    "local_neg_neg",
    "local_pow_specialize",
    "local_pow_specialize_device",
]

_REAL_FLOATS = ("float16", "float32", "float64")


def _done(res, out):
    """``[res]`` with ``out``'s trace when ``res`` was built, else None (no change)."""
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


# ---------------------------------------------------------------------------------------------
# exp and log


@register_canonicalize
@register_stabilize
@register_specialize
@local_optimizer([Elemwise])
def local_log_exp(fgraph, node):
    """log(exp(x)) -> x for real x (exact, and no overflow of exp for large x).

    Complex x is left alone (the logarithm's branch makes it x + 2*k*pi*i).
    """
    if not is_elemwise(node, scal.Log, nin=1):
        return None
    inner = elemwise_of(node.inputs[0], scal.Exp, nin=1)
    if inner is None:
        return None
    x = inner.inputs[0]
    if x.type.dtype.startswith("complex"):
        return None
    out = node.outputs[0]
    return _done(same_type(x, out), out)


@register_canonicalize
@register_stabilize
@register_specialize
@local_optimizer([Elemwise])
def local_exp_log(fgraph, node):
    """exp(log(x)) -> switch(x >= 0, x, nan) for real x.

    ``log`` of a negative number is NaN, so the switch keeps those NaNs; elsewhere the value
    is x exactly (``exp(log(0))`` is 0 too).
    """
    if not is_elemwise(node, scal.Exp, nin=1):
        return None
    inner = elemwise_of(node.inputs[0], scal.Log, nin=1)
    if inner is None:
        return None
    x = inner.inputs[0]
    out = node.outputs[0]
    if x.type.dtype.startswith("complex") or out.type.dtype not in _REAL_FLOATS:
        return None
    xf = tm.cast(x, out.type.dtype)
    nan = constant(np.asarray(np.nan, dtype=out.type.dtype))
    res = tm.switch(tm.ge(x, constant(np.asarray(0, dtype=x.type.dtype))), xf, nan)
    return _done(same_type(res, out), out)


# ---------------------------------------------------------------------------------------------
# pow


def _pow_parts(node):
    """(x, exponent value, output) of ``x ** c`` with c a constant that does not widen x,
    else None."""
    if not is_elemwise(node, scal.Pow, nin=2):
        return None
    x, y = node.inputs
    c = scalar_constant(y)
    if c is None or not encompasses_broadcastable(x.type.broadcastable, y.type.broadcastable):
        return None
    if np.iscomplexobj(c):
        return None
    return x, float(c), node.outputs[0]


@register_specialize
@local_optimizer([Elemwise])
def local_pow_specialize(fgraph, node):
    """x ** 2 -> sqr(x); x ** 0.5 -> sqrt(x); x ** -1 -> inv(x); x ** -0.5 -> inv(sqrt(x));
    x ** -2 -> inv(sqr(x)); x ** 1 -> x; x ** 0 -> 1.

    x is cast to the output dtype first, so the computation happens in the dtype pow used
    (``int8 ** 2.0`` is float32: squaring the int8 would wrap). Negative exponents are
    only rewritten for float outputs (an integer ``inv`` does not exist).
    """
    parts = _pow_parts(node)
    if parts is None:
        return None
    x, c, out = parts
    dtype = out.type.dtype
    if c == 0:
        return _done(fill_chain(fill(x, np.asarray(1, dtype=dtype)), node.inputs, out), out)
    xo = x if x.type.dtype == dtype else tm.cast(x, dtype)
    is_float = dtype in _REAL_FLOATS or dtype.startswith("complex")
    if c == 1:
        res = xo
    elif c == 2:
        res = tm.sqr(xo)
    elif c == 0.5 and is_float:
        res = tm.sqrt(xo)
    elif c == -1 and is_float:
        res = tm.inv(xo)
    elif c == -0.5 and is_float:
        res = tm.inv(tm.sqrt(xo))
    elif c == -2 and is_float:
        res = tm.inv(tm.sqr(xo))
    else:
        return None
    return _done(fill_chain(res, node.inputs, out), out)


#: Largest integer exponent written as a product of squares (Theano 1.0's bound on CPU).
MAX_POW_BY_SQUARING = 512


@register_specialize_device
@local_optimizer([Elemwise])
def local_pow_specialize_device(fgraph, node):
    """x ** n -> a product of repeated squares of x for an integer 2 < |n| <= 512
    (``x ** 5 -> sqr(sqr(x)) * x``); negative n take the inverse (floats only).

    Squares and products are much cheaper than ``pow``; fusion later makes one loop of them.
    Results may differ from ``pow`` in the last bits, as in Theano 1.0.
    """
    parts = _pow_parts(node)
    if parts is None:
        return None
    x, c, out = parts
    dtype = out.type.dtype
    n = abs(c)
    if n != int(n) or n <= 2 or n > MAX_POW_BY_SQUARING:
        return None
    if c < 0 and dtype not in _REAL_FLOATS and not dtype.startswith("complex"):
        return None
    n = int(n)
    xo = x if x.type.dtype == dtype else tm.cast(x, dtype)
    squares = [xo]
    while (1 << len(squares)) <= n:
        squares.append(tm.sqr(squares[-1]))
    factors = [squares[k] for k in range(len(squares)) if n >> k & 1]
    res = factors[0] if len(factors) == 1 else tm.mul(*factors)
    if c < 0:
        res = tm.inv(res)
    return _done(fill_chain(res, node.inputs, out), out)


@register_specialize
@local_optimizer([Elemwise])
def local_mul_to_sqr(fgraph, node):
    """x * x -> sqr(x) (one read of x instead of two)."""
    if not is_elemwise(node, scal.Mul, nin=2) or node.inputs[0] is not node.inputs[1]:
        return None
    out = node.outputs[0]
    return _done(same_type(tm.sqr(node.inputs[0]), out), out)


# ---------------------------------------------------------------------------------------------
# mul, add, neg, div after canonicalization


@register_specialize
@local_optimizer([Elemwise])
def local_mul_specialize(fgraph, node):
    """mul(-1, x) -> neg(x); mul(1, x, y) -> mul(x, y); mul(0, ...) -> 0; mul(neg(x), y)
    -> neg(mul(x, y)) only when that removes a node.

    Constants 1 and -1 and ``neg`` inputs are taken out; the sign that remains is applied
    with ``neg`` when one variable is left, else as a -1 factor (never adding a node).
    Unsigned and bool products keep their -1 factor (they cannot be negated).
    """
    if not is_elemwise(node, scal.Mul):
        return None
    out = node.outputs[0]
    dtype = out.type.dtype
    negative = False
    n_neg_nodes = 0
    n_const = 0
    kept = []
    for v in node.inputs:
        while is_elemwise(v.owner, scal.Neg, nin=1):
            negative = not negative
            n_neg_nodes += 1
            v = v.owner.inputs[0]
        c = scalar_constant(v)
        if c is not None and c == 1:
            n_const += 1
        elif c is not None and c == -1:
            n_const += 1
            negative = not negative
        elif c is not None and c == 0:
            zero = constant(np.asarray(0, dtype=dtype))
            return _done(fill_chain(zero, node.inputs, out), out)
        else:
            kept.append(v)
    if len(kept) == len(node.inputs) and all(a is b for a, b in zip(kept, node.inputs)):
        return None
    unsigned = dtype == "bool" or dtype.startswith("uint")
    if not kept:
        value = constant(np.asarray(-1 if negative else 1, dtype=dtype))
        return _done(fill_chain(value, node.inputs, out), out)
    if len(kept) == 1:
        if negative:
            if unsigned:
                return None
            res = tm.neg(kept[0])
        else:
            res = kept[0]
    else:
        if negative and n_neg_nodes == 0 and n_const == 1:
            return None  # mul(-1, x, y) is already the smallest form
        if negative:
            kept = [constant(np.asarray(-1, dtype=dtype)), *kept]
        res = tm.mul(*kept)
    return _done(fill_chain(res, node.inputs, out), out)


@register_specialize
@local_optimizer([Elemwise])
def local_add_specialize(fgraph, node):
    """add(0, x, y) -> add(x, y); add(0, x) -> x (filled and cast to the output type)."""
    if not is_elemwise(node, scal.Add):
        return None
    out = node.outputs[0]
    kept = []
    for v in node.inputs:
        c = scalar_constant(v)
        if c is not None and c == 0:
            continue
        kept.append(v)
    if len(kept) == len(node.inputs):
        return None
    if not kept:
        res = constant(np.asarray(0, dtype=out.type.dtype))
    elif len(kept) == 1:
        res = kept[0]
    else:
        res = tm.add(*kept)
    return _done(fill_chain(res, node.inputs, out), out)


@register_specialize
@local_optimizer([Elemwise])
def local_neg_neg(fgraph, node):
    """-(-x) -> x."""
    if not is_elemwise(node, scal.Neg, nin=1):
        return None
    inner = elemwise_of(node.inputs[0], scal.Neg, nin=1)
    if inner is None or inner.inputs[0].type != node.outputs[0].type:
        return None
    return [inner.inputs[0]]


@register_specialize
@local_optimizer([Elemwise])
def local_neg_div_neg(fgraph, node):
    """-((-a) / b) -> a / b; -(c / b) -> (-c) / b for a constant c, when the division has
    no other client."""
    if not is_elemwise(node, scal.Neg, nin=1):
        return None
    frac = node.inputs[0]
    div = elemwise_of(frac, scal.TrueDiv, nin=2)
    if div is None or n_clients(fgraph, frac) != 1:
        return None
    num, den = div.inputs
    out = node.outputs[0]
    neg_num = elemwise_of(num, scal.Neg, nin=1)
    if neg_num is not None:
        return _done(same_type(tm.true_div(neg_num.inputs[0], den), out), out)
    c = scalar_constant(num)
    if c is not None and all(num.type.broadcastable):
        new_num = constant(np.asarray(-c, dtype=num.type.dtype))
        return _done(fill_chain(tm.true_div(new_num, den), node.inputs, out), out)
    return None


@register_specialize
@local_optimizer([Elemwise])
def local_div_to_inv(fgraph, node):
    """1 / x -> inv(x) (filled and cast to the output type)."""
    if not is_elemwise(node, scal.TrueDiv, nin=2):
        return None
    c = scalar_constant(node.inputs[0])
    if c is None or c != 1:
        return None
    out = node.outputs[0]
    x = node.inputs[1]
    if x.type.dtype != out.type.dtype:
        x = tm.cast(x, out.type.dtype)
    return _done(fill_chain(tm.inv(x), node.inputs, out), out)


@register_specialize
@local_optimizer([Elemwise])
def local_elemwise_sub_zeros(fgraph, node):
    """x - x -> zeros like x.

    As in Theano 1.0 this is 0 also where x is inf or NaN (IEEE would say NaN).
    """
    if not is_elemwise(node, scal.Sub, nin=2) or node.inputs[0] is not node.inputs[1]:
        return None
    out = node.outputs[0]
    zero = fill(node.inputs[0], np.asarray(0, dtype=out.type.dtype))
    return _done(fill_chain(zero, node.inputs, out), out)


@register_specialize
@local_optimizer([Elemwise])
def local_alloc_unary(fgraph, node):
    """unary(alloc(x, *shape)) -> alloc(unary(x), *shape): the op runs on the small value,
    then the result is broadcast (cast to the unary's output dtype)."""
    if not isinstance(node.op, Elemwise) or len(node.inputs) != 1 or len(node.outputs) != 1 \
            or node.op.inplace_pattern:
        return None
    a = node.inputs[0]
    if a.owner is None or not isinstance(a.owner.op, Alloc):
        return None
    x = a.owner.inputs[0]
    shape = a.owner.inputs[1:]
    out = node.outputs[0]
    v = node.op(x)
    if v.type.dtype != out.type.dtype:
        v = tm.cast(v, out.type.dtype)
    res = alloc(v, *shape)
    return _done(same_type(res, out, same_shape=True), out)

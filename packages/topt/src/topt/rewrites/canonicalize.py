"""Canonical forms of sums and products, and the rewrites that put graphs in them.

The canonical form makes equal expressions look equal, so that merging finds them and the
later phases match fewer patterns:

* sums and products are flattened into one n-ary ``add``/``mul`` whose constants are folded
  into one, placed first; factors that appear both above and below a division cancel
  (:class:`AlgebraicCanonizer`, Theano 1.0's ``Canonizer`` idea, written afresh);
* ``-x`` becomes ``-1 * x``, ``inv(x)`` becomes ``x ** -1`` (specialization turns them back);
* DimShuffles are lifted above elementwise ops and consecutive ones merged, so elementwise
  clusters contain none;
* ``fill`` (``second``) is sunk to the outside of elementwise expressions, where the
  specialize phase turns it into an ``alloc``.

Differences from Theano 1.0, on purpose: the canonizer flattens a sub-expression only when it
has no other client (Theano copied shared sub-expressions into every user, which can make a
chain of n partial sums used as outputs cost n**2), and only through nodes of the root's
dtype (a wrapped int8 sum inside a float sum must stay an int8 sum). Cancelling ``x / x``
gives 1 even where x is 0, inf or NaN, and ``x + 1 - 1`` gives x exactly: as in Theano 1.0.
"""

from __future__ import annotations

from copy import copy

import numpy as np

import tgraph.scalar as scal
from tgraph.graph.basic import Variable
from tgraph.scalar.op import Second
from tgraph.scalar.type import upcast
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.alloc import alloc
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import Dot
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.reduction import Prod, Sum
from topt.engine import LocalOptimizer, copy_stack_trace, local_optimizer
from topt.optdb import (
    optdb,
    register_canonicalize,
    register_specialize,
    register_stabilize,
)
from topt.rewrites._canon_helpers import (
    fill,
    fill_chain,
    is_elemwise,
    is_left_pad,
    n_clients,
    same_type,
    scalar_constant,
    shape_entries,
)

__all__ = [
    "AlgebraicCanonizer",
    "local_add_canonizer",
    "local_dimshuffle_lift",
    "local_fill_sink",
    "local_fill_to_alloc",
    "local_func_inv",
    "local_inv_canon",
    "local_lift_transpose_through_dot",
    "local_mul_canonizer",
    "local_mul_zero",
    "local_neg_to_mul",
    "local_op_of_op",
    "local_pow_canonicalize",
    "local_sum_prod_all_to_none",
    "local_zero_div",
]


# ---------------------------------------------------------------------------------------------
# The canonizer


class AlgebraicCanonizer(LocalOptimizer):
    """Flatten a tree of ``main``/``inverse``/``reciprocal`` into ``inverse(main(*num),
    main(*denum))``, fold its constants and cancel factors found on both sides.

    ``main`` is commutative and associative (add, mul), ``inverse(main(a, b), b) == a``
    (sub, true_div), ``main(a, reciprocal(b)) == inverse(a, b)`` (neg, inv). ``calculate``
    folds constants: ``calculate(num_values, denum_values, dtype)``; ``neutral`` is main's
    identity. With ``use_reciprocal=False`` a lone denominator is written
    ``inverse(neutral, d)`` (Theano's mul canonizer: ``1 / x``, not ``inv(x)``).

    Only the root of a tree is rewritten: a node whose single client is a node of the tree
    waits for that client. The tree covers nodes of the root's dtype with no other client,
    seen through the left-padding DimShuffles that Elemwise adds. The rewrite fires when
    the canonical expression differs from the present one (compared structurally, with
    constants compared by value), so applying it twice changes nothing.
    """

    def __init__(self, main, inverse, reciprocal, builders, calculate, neutral,
                 use_reciprocal: bool = True, name: str = "canonizer"):
        self.main, self.inverse, self.reciprocal = main, inverse, reciprocal
        self.build_main, self.build_inverse, self.build_reciprocal = builders
        self.calculate = calculate
        self.neutral = neutral
        self.use_reciprocal = use_reciprocal
        self.name = self.__name__ = name

    def tracks(self) -> list:
        return [Elemwise]

    # -- reading the tree -------------------------------------------------------------------
    def _role(self, node) -> str | None:
        if node is None or len(node.outputs) != 1:
            return None
        if is_elemwise(node, self.main):
            return "main"
        if is_elemwise(node, self.inverse, nin=2):
            return "inverse"
        if is_elemwise(node, self.reciprocal, nin=1):
            return "reciprocal"
        return None

    def _inner(self, fgraph, var: Variable, dtype: str):
        """The tree node under ``var`` (through left pads) when the tree may absorb it: a
        node of the graph with no other client, or a node built by this rewrite."""
        v = var
        while is_left_pad(v.owner):
            if not self._private(fgraph, v):
                return None
            v = v.owner.inputs[0]
        node = v.owner
        if self._role(node) is None or v.type.dtype != dtype:
            return None
        return node if self._private(fgraph, v) else None

    @staticmethod
    def _private(fgraph, v: Variable) -> bool:
        if fgraph is not None and v.owner not in fgraph.apply_nodes:
            return True  # built by this rewrite, not in the graph yet
        return n_clients(fgraph, v) == 1

    def get_num_denum(self, fgraph, var: Variable):
        """(num, denum, inner): leaves such that ``var == inverse(main(*num),
        main(*denum))``, and the roles of the tree's nodes below the root (for telling
        whether the tree is already in canonical form). Iterative: trees may be deep."""
        dtype = var.type.dtype
        num: list = []
        denum: list = []
        inner: list = []
        stack = [(var, False, True)]
        while stack:
            v, flipped, root = stack.pop()
            node = v.owner if root else self._inner(fgraph, v, dtype)
            role = self._role(node) if node is not None else None
            if role is None:
                (denum if flipped else num).append(v)
                continue
            if not root:
                inner.append(role)
            if role == "main":
                children = [(i, flipped) for i in node.inputs]
            elif role == "inverse":
                children = [(node.inputs[0], flipped), (node.inputs[1], not flipped)]
            else:
                children = [(node.inputs[0], not flipped)]
            stack.extend((c, f, False) for c, f in reversed(children))
        return num, denum, inner

    def _is_canonical(self, root_role: str, inner: list, n: int, d: int) -> bool:
        """Whether a tree with these leaf counts already has merge_num_denum's shape:
        ``main(*num)``, ``reciprocal(main(*denum))`` or ``inverse(main(*num),
        main(*denum))``, with a one-element side written without its main."""
        if any(r != "main" for r in inner):
            return False
        mains = len(inner)
        if d == 0:
            return root_role == "main" and n >= 2 and mains == 0
        if n == 0:
            return self.use_reciprocal and root_role == "reciprocal" and mains == (d >= 2)
        return root_role == "inverse" and mains == (n >= 2) + (d >= 2)

    # -- simplifying ------------------------------------------------------------------------
    @staticmethod
    def simplify_factors(num: list, denum: list) -> tuple[list, list]:
        """Cancel every variable found in both lists (once per occurrence)."""
        num = list(num)
        denum = list(denum)
        for v in list(num):
            for k, d in enumerate(denum):
                if d is v:
                    num.remove(v)
                    del denum[k]
                    break
        return num, denum

    def simplify_constants(self, num: list, denum: list, dtype: str):
        """Fold the constants into one placed first in num (none when it is neutral)."""
        numct, denumct, rest_num, rest_denum = [], [], [], []
        for v in num:
            c = scalar_constant(v)
            (rest_num if c is None else numct).append(v if c is None else c)
        for v in denum:
            c = scalar_constant(v)
            (rest_denum if c is None else denumct).append(v if c is None else c)
        if not numct and not denumct:
            return rest_num, rest_denum
        with np.errstate(all="ignore"):
            value = np.asarray(self.calculate(numct, denumct, dtype), dtype=dtype)
        if value == self.neutral and (rest_num or self.use_reciprocal):
            return rest_num, rest_denum
        first = num[0] if num else None
        if (len(numct) == 1 and not denumct and first is not None
                and scalar_constant(first) is not None and first.type.dtype == dtype
                and scalar_constant(first).tobytes() == value.tobytes()):
            # The one constant is already the folded one, in front: keep that very
            # variable, so the tree is seen as unchanged (NaN included).
            return [first, *rest_num], rest_denum
        return [constant(value, dtype=dtype), *rest_num], rest_denum

    # -- rebuilding -------------------------------------------------------------------------
    def merge_num_denum(self, num: list, denum: list, dtype: str) -> Variable:
        """``inverse(main(*num), main(*denum))`` with as few nodes as possible."""

        def join(vs):
            return vs[0] if len(vs) == 1 else self.build_main(*vs)

        if not num and not denum:
            return constant(np.asarray(self.neutral, dtype=dtype), dtype=dtype)
        if not denum:
            return join(num)
        if not num:
            if self.use_reciprocal:
                return self.build_reciprocal(join(denum))
            num = [constant(np.asarray(self.neutral, dtype=dtype), dtype=dtype)]
        return self.build_inverse(join(num), join(denum))

    @staticmethod
    def _same_dtype_leaves(leaves: list, dtype: str) -> list:
        """Leaves of another dtype cast to ``dtype`` when the rebuilt expression would not
        be computed in ``dtype`` any more (the cancelled factors were what upcast it)."""
        dtypes = [v.type.dtype for v in leaves]
        if not dtypes or upcast(*dtypes) == dtype:
            return leaves
        return [v if v.type.dtype == dtype else tm.cast(v, dtype) for v in leaves]

    # -- the rewrite ------------------------------------------------------------------------
    def _feeds_parent(self, fgraph, out: Variable) -> bool:
        v = out
        while True:
            clients = fgraph.clients.get(v, ()) if fgraph is not None else ()
            if len(clients) != 1 or clients[0][0] == "output":
                return False
            client = clients[0][0]
            if is_left_pad(client):
                v = client.outputs[0]
                continue
            return self._role(client) is not None and client.outputs[0].type.dtype == \
                out.type.dtype

    def transform(self, fgraph, node):
        if self._role(node) is None:
            return None
        out = node.outputs[0]
        dtype = out.type.dtype
        if dtype == "bool" or self._feeds_parent(fgraph, out):
            return None
        num, denum, inner = self.get_num_denum(fgraph, out)
        num2, denum2 = self.simplify_factors(num, denum)
        num2, denum2 = self.simplify_constants(num2, denum2, dtype)
        if (_same_vars(num, num2) and _same_vars(denum, denum2)
                and self._is_canonical(self._role(node), inner, len(num), len(denum))):
            return None
        kept = {id(v) for v in num2 + denum2}
        removed = [v for v in num + denum if id(v) not in kept]
        num2 = self._same_dtype_leaves(num2, dtype)
        denum2 = self._same_dtype_leaves(denum2, dtype)
        new = self.merge_num_denum(num2, denum2, dtype)
        res = fill_chain(new, [*removed, *node.inputs], out)
        if res is None:
            return None
        copy_stack_trace(out, res)
        return [res]


def _same_vars(a: list, b: list) -> bool:
    return len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _add_calculate(num, denum, dtype):
    total = np.asarray(0, dtype=dtype)
    for v in num:
        total = np.asarray(total + np.asarray(v, dtype=dtype), dtype=dtype)
    for v in denum:
        total = np.asarray(total - np.asarray(v, dtype=dtype), dtype=dtype)
    return total


def _mul_calculate(num, denum, dtype):
    total = np.asarray(1, dtype=dtype)
    for v in num:
        total = np.asarray(total * np.asarray(v, dtype=dtype), dtype=dtype)
    for v in denum:
        total = np.asarray(total / np.asarray(v, dtype=dtype), dtype=dtype)
    return total


local_add_canonizer = AlgebraicCanonizer(
    scal.Add, scal.Sub, scal.Neg, (tm.add, tm.sub, tm.neg), _add_calculate, 0,
    name="local_add_canonizer")
local_add_canonizer.__doc__ = (
    "a + (b - c) - (-d) -> add(a, b, d) - c, constants folded, x - x cancelled")
local_mul_canonizer = AlgebraicCanonizer(
    scal.Mul, scal.TrueDiv, scal.Inv, (tm.mul, tm.true_div, tm.inv), _mul_calculate, 1,
    use_reciprocal=False, name="local_mul_canonizer")
local_mul_canonizer.__doc__ = (
    "(2 * x * y) / (4 * x) -> (0.5 * y), constants folded, common factors cancelled")
register_canonicalize(local_add_canonizer, name="local_add_canonizer")
register_canonicalize(local_mul_canonizer, name="local_mul_canonizer")


# ---------------------------------------------------------------------------------------------
# neg, inv, pow, zeros


@register_canonicalize
@local_optimizer([Elemwise])
def local_neg_to_mul(fgraph, node):
    """-x -> (-1) * x, so that the mul canonizer sees signs as constant factors."""
    if not is_elemwise(node, scal.Neg, nin=1):
        return None
    x = node.inputs[0]
    if x.type.dtype == "bool" or x.type.dtype.startswith("uint"):
        return None  # -1 does not exist in these dtypes
    res = tm.mul(constant(np.asarray(-1, dtype=x.type.dtype)), x)
    res = same_type(res, node.outputs[0])
    if res is None:
        return None
    copy_stack_trace(node.outputs[0], res)
    return [res]


@register_canonicalize
@local_optimizer([Elemwise])
def local_inv_canon(fgraph, node):
    """inv(x) -> x ** -1 (local_pow_specialize turns it back into inv)."""
    if not is_elemwise(node, scal.Inv, nin=1):
        return None
    out = node.outputs[0]
    x = node.inputs[0]
    if x.type.dtype != out.type.dtype:
        return None  # inv of an integer is a float; pow(int, -1) would not be
    res = same_type(tm.pow(x, constant(np.asarray(-1, dtype=out.type.dtype))), out)
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


@register_canonicalize
@local_optimizer([Elemwise])
def local_pow_canonicalize(fgraph, node):
    """x ** 0 -> 1 and x ** 1 -> x (filled to the output's shape, cast to its dtype).

    ``x ** 0`` is 1 for every x, NaN included (NumPy agrees).
    """
    if not is_elemwise(node, scal.Pow, nin=2):
        return None
    x, y = node.inputs
    c = scalar_constant(y)
    out = node.outputs[0]
    if c is None:
        return None
    if c == 0:
        res = fill_chain(fill(x, np.asarray(1, dtype=out.type.dtype)), node.inputs, out)
    elif c == 1:
        res = fill_chain(x, node.inputs, out)
    else:
        return None
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


@register_canonicalize
@local_optimizer([Elemwise])
def local_mul_zero(fgraph, node):
    """mul(0, x, ...) -> 0 filled to the output's shape.

    As in Theano 1.0 this gives 0 where x is inf or NaN (IEEE would say NaN).
    """
    if not is_elemwise(node, scal.Mul):
        return None
    out = node.outputs[0]
    for v in node.inputs:
        c = scalar_constant(v)
        if c is not None and c == 0:
            zero = constant(np.asarray(0, dtype=out.type.dtype))
            res = fill_chain(zero, node.inputs, out)
            if res is not None:
                copy_stack_trace(out, res)
                return [res]
    return None


@register_canonicalize
@register_specialize
@local_optimizer([Elemwise])
def local_zero_div(fgraph, node):
    """0 / x -> 0 and 0 // x -> 0 (filled to the output's shape).

    As in Theano 1.0, 0 / 0 then gives 0, not NaN (and 0 // 0 gives 0 without an error).
    """
    if not is_elemwise(node, scal.TrueDiv | scal.IntDiv, nin=2):
        return None
    c = scalar_constant(node.inputs[0])
    if c is None or c != 0:
        return None
    out = node.outputs[0]
    res = fill_chain(constant(np.asarray(0, dtype=out.type.dtype)), node.inputs, out)
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


# ---------------------------------------------------------------------------------------------
# Inverse function pairs


_INVERSE_PAIRS = (
    (scal.Deg2Rad, scal.Rad2Deg),
    (scal.Neg, scal.Neg),
    (scal.Conj, scal.Conj),
    (scal.Inv, scal.Inv),
)


@register_canonicalize
@register_specialize
@local_optimizer([Elemwise])
def local_func_inv(fgraph, node):
    """f(g(x)) -> x for pairs of functions that undo each other: deg2rad/rad2deg, neg/neg,
    conj/conj, inv/inv.

    Theano 1.0 also paired cosh/arccosh, sinh/arcsinh and tanh/arctanh; we do not:
    ``arccosh(cosh(x))`` is ``|x|``, and ``arctanh(tanh(x))`` is inf once tanh rounds to 1.
    The replacement must keep the dtype (``inv(inv(int))`` is a float: not rewritten).
    """
    if not isinstance(node.op, Elemwise) or len(node.inputs) != 1 or node.op.inplace_pattern:
        return None
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Elemwise) or len(inner.inputs) != 1 \
            or inner.op.inplace_pattern:
        return None
    outer_op, inner_op = node.op.scalar_op, inner.op.scalar_op
    for a, b in _INVERSE_PAIRS:
        if (isinstance(outer_op, a) and isinstance(inner_op, b)) or \
                (isinstance(outer_op, b) and isinstance(inner_op, a)):
            x = inner.inputs[0]
            if x.type == node.outputs[0].type:
                return [x]
            return None
    return None


# ---------------------------------------------------------------------------------------------
# DimShuffle lifting


def _dimshuffle_is_useless(new_order, x: Variable) -> bool:
    """Whether DimShuffle ``new_order`` on x gives x's type and values: same rank, each
    position keeps its axis, or swaps a broadcastable axis for another or for 'x'."""
    if len(new_order) != x.type.ndim:
        return False
    b = x.type.broadcastable
    for i, j in enumerate(new_order):
        if j == i:
            continue
        if b[i] and (j == "x" or b[j]):
            continue
        return False
    return True


def _compose(outer_order, inner_order) -> list:
    return ["x" if j == "x" else inner_order[j] for j in outer_order]


@register_canonicalize
@register_specialize
@local_optimizer([DimShuffle])
def local_dimshuffle_lift(fgraph, node):
    """DimShuffle(Elemwise(x, y)) -> Elemwise(DimShuffle(x), DimShuffle(y)) when the
    elemwise result has no other client; DimShuffle(DimShuffle(x)) -> DimShuffle(x);
    DimShuffle{0,1,...}(x) -> x.

    After it, clusters of elementwise ops contain no DimShuffle (they gather at the
    inputs), which lets fusion make one loop of them.
    """
    if not isinstance(node.op, DimShuffle):
        return None
    x = node.inputs[0]
    out = node.outputs[0]
    inode = x.owner
    order = list(node.op.new_order)
    if (inode is not None and isinstance(inode.op, Elemwise) and len(inode.outputs) == 1
            and not inode.op.inplace_pattern and n_clients(fgraph, x) == 1):
        new_inputs = [_lift_one(DimShuffle(i.type.broadcastable, order)(i))
                      for i in inode.inputs]
        res = inode.op(*new_inputs)
        if res.type != out.type:
            return None
        copy_stack_trace(out, res)
        return [res]
    if inode is not None and isinstance(inode.op, DimShuffle):
        order = _compose(order, inode.op.new_order)
        x = inode.inputs[0]
        if _dimshuffle_is_useless(order, x):
            return [x] if x.type == out.type else None
        res = DimShuffle(x.type.broadcastable, order)(x)
        copy_stack_trace(out, res)
        return [res] if res.type == out.type else None
    if _dimshuffle_is_useless(order, x) and x.type == out.type:
        return [x]
    return None


@register_canonicalize
@local_optimizer([DimShuffle])
def local_lift_transpose_through_dot(fgraph, node):
    """dot(x, y).T -> dot(y.T, x.T) for matrices: transposes move towards the inputs, where
    they merge with other DimShuffles (the BLAS rewrites then see plain dots)."""
    if not isinstance(node.op, DimShuffle) or tuple(node.op.new_order) != (1, 0):
        return None
    inner = node.inputs[0].owner
    if inner is None or not isinstance(inner.op, Dot):
        return None
    x, y = inner.inputs
    if x.type.ndim != 2 or y.type.ndim != 2:
        return None
    res = inner.op(y.T, x.T)
    res = same_type(res, node.outputs[0])
    if res is None:
        return None
    copy_stack_trace(node.inputs[0], res)
    return [res]


def _lift_one(var: Variable) -> Variable:
    """A freshly built DimShuffle merged with a DimShuffle below it (or removed)."""
    node = var.owner
    inner = node.inputs[0].owner
    if inner is not None and isinstance(inner.op, DimShuffle):
        order = _compose(node.op.new_order, inner.op.new_order)
        x = inner.inputs[0]
        var = DimShuffle(x.type.broadcastable, order)(x)
        node = var.owner
    x = node.inputs[0]
    if _dimshuffle_is_useless(node.op.new_order, x) and x.type == var.type:
        return x
    return var


# ---------------------------------------------------------------------------------------------
# fill


@register_canonicalize
@local_optimizer([Elemwise])
def local_fill_sink(fgraph, node):
    """f(fill(a, b), fill(c, d), e) -> fill(a, fill(c, f(b, d, e))) for elementwise f.

    The fills only give their value the model's shape, so f may work on the small values
    and the shape be imposed once at the end (where specialization makes it an alloc, or
    drops it when the result is already that wide). f itself may not be a fill.
    """
    if not isinstance(node.op, Elemwise) or node.op.inplace_pattern or len(node.outputs) != 1:
        return None
    if isinstance(node.op.scalar_op, Second):
        return None
    models = []
    inputs = []
    for i in node.inputs:
        if is_elemwise(i.owner, Second, nin=2):
            models.append(i.owner.inputs[0])
            inputs.append(i.owner.inputs[1])
        else:
            inputs.append(i)
    if not models:
        return None
    out = node.outputs[0]
    res = node.op(*inputs)
    for model in models:
        res = fill(model, res)
    res = fill_chain(res, [*models, *node.inputs], out)
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


@register_stabilize
@register_specialize
@local_optimizer([Elemwise])
def local_fill_to_alloc(fgraph, node):
    """fill(s, v) -> alloc(v, *shape(s)), or v (cast) when v already has the output's pattern.

    With the shape rewrites, the alloc's shape is computed from the inputs' shapes, so
    ``s`` itself no longer needs to be computed.
    """
    if not is_elemwise(node, Second, nin=2):
        return None
    s, v = node.inputs
    out = node.outputs[0]
    if v.type == out.type:
        return [v]
    if v.type.ndim == out.type.ndim and v.type.broadcastable == out.type.broadcastable:
        res = tm.cast(v, out.type.dtype)
    elif s.type.ndim == out.type.ndim and s.type.broadcastable == out.type.broadcastable:
        res = alloc(tm.cast(v, out.type.dtype), *shape_entries(fgraph, s))
    else:
        return None  # both sides widen the result: left as a fill (Theano 1.0 too)
    res = same_type(res, out)
    if res is None:
        return None
    copy_stack_trace(out, res)
    return [res]


# ---------------------------------------------------------------------------------------------
# Sum and Prod


def _with_axis(op, axis):
    new = copy(op)
    new.axis = None if axis is None else tuple(sorted(axis))
    return new


@register_canonicalize
@local_optimizer([Sum, Prod])
def local_sum_prod_all_to_none(fgraph, node):
    """Sum{0, 1, ..., n-1}(x) -> Sum(x) (axis None), same for Prod, so equal reductions
    written both ways merge."""
    if not isinstance(node.op, Sum | Prod) or node.op.axis is None:
        return None
    if set(node.op.axis) != set(range(node.inputs[0].type.ndim)):
        return None
    res = _with_axis(node.op, None)(node.inputs[0])
    return [res] if res.type == node.outputs[0].type else None


@register_canonicalize
@local_optimizer([Sum, Prod])
def local_op_of_op(fgraph, node):
    """Sum(Sum(x, a1), a2) -> Sum(x, a1 + a2 mapped to x's axes), same for Prod, when the
    inner reduction has no other client and the result type is unchanged.

    The inner result is no longer rounded to its dtype before the outer reduction, which
    only makes it more precise.
    """
    if not isinstance(node.op, Sum | Prod):
        return None
    inner_var = node.inputs[0]
    inner = inner_var.owner
    if inner is None or type(inner.op) is not type(node.op) or n_clients(fgraph, inner_var) != 1:
        return None
    if isinstance(node.op, Prod) and node.op.no_zeros_in_input != inner.op.no_zeros_in_input:
        return None
    x = inner.inputs[0]
    if inner.op.axis is None or node.op.axis is None:
        axes = None
    else:
        kept = [d for d in range(x.type.ndim) if d not in inner.op.axis]
        axes = sorted(set(inner.op.axis) | {kept[a] for a in node.op.axis})
    op = _with_axis(node.op, axes)
    op.dtype = node.op.dtype
    op.acc_dtype = None
    res = op(x)
    if res.type != node.outputs[0].type:
        return None
    copy_stack_trace(node.outputs[0], res)
    return [res]


# fill -> alloc also runs once right after the stabilize phase (Theano 1.0's position 1.51),
# so that stabilization sees canonical fills and specialization sees allocs.
def _register_fill_to_alloc_step() -> None:
    from topt.engine import in2out

    optdb.register("local_fill_to_alloc", in2out(local_fill_to_alloc), 1.51, "fast_run")


_register_fill_to_alloc_step()

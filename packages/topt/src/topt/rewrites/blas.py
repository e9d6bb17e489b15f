"""BLAS rewrites: ``dot`` becomes Dot22, then Gemm, Gemv, Ger or Dot22Scalar, then in place.

The pipeline (Theano 1.0's, positions in ``optdb`` and in the ``blas_optdb`` sequence it
holds as ``'BlasOpt'`` at 1.7, after stabilisation and before specialisation):

====  ===============================  ======================================================
pos   rewrite                          what it does
====  ===============================  ======================================================
0     local_dot_to_dot22               every float/complex Dot of vectors/matrices → Dot22
                                       (vectors as row/column matrices)
10    gemm_optimizer (GemmOptimizer)   ``beta * z + alpha * Dot22(x, y)`` found in a tree of
                                       add/sub/neg/mul → ``gemm(z, alpha, x, y, beta)``
11    local_dot22_to_dot22scalar       ``s * Dot22(x, y)`` left over → Dot22Scalar
15    local_gemm_to_gemv (equilibrium  Gemm/Dot22 on row or column matrices → Gemv; on an
      of the gemv/ger rewrites)        outer product → Ger
====  ===============================  ======================================================

and ``'InplaceBlasOpt'`` at 70 in optdb (after the destroy handler is attached at 49.5,
before elementwise in-place at 75): Gemm, Gemv and Ger overwrite their accumulator when the
destroy handler agrees nothing else still needs it. The seed's logistic regression
(``dot(x, w)`` with a matrix x and a vector w, and ``dot(x.T, g)`` in its gradient) therefore
runs Gemv under FAST_RUN.

Every replacement has exactly the replaced variable's type: dtypes are checked before
building, and broadcast patterns restored with ``patternbroadcast``. Safety: a Dot22 is
absorbed into a Gemm only when nothing else reads it (otherwise the product would be computed
twice); BLAS ignores the accumulator when beta is 0, which is how Gemv on an AllocEmpty
vector computes a plain product.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tgraph.scalar as scal
from tgraph.graph.basic import Apply, Constant, Variable, view_roots
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from tgraph.scalar.type import upcast
from tgraph.tensor.alloc import AllocEmpty, alloc
from tgraph.tensor.basic import NotScalarConstantError, constant, get_scalar_constant_value
from tgraph.tensor.blas import (
    BLAS_DTYPES,
    _dot22,
    _dot22scalar,
    gemm_inplace,
    gemm_no_inplace,
    gemv_inplace,
    gemv_no_inplace,
    ger,
    ger_destructive,
)
from tgraph.tensor.dot import Dot
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.math_elemwise import add, cast, mul, neg
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.shape import shape_i_op
from topt.engine import (
    EquilibriumOptimizer,
    GlobalOptimizer,
    SequenceDB,
    copy_stack_trace,
    in2out,
    local_optimizer,
)
from topt.engine.base import ensure_replace_validate
from topt.optdb import optdb

__all__ = [
    "GemmOptimizer",
    "blas_opt_inplace",
    "blas_optdb",
    "local_dot22_to_dot22scalar",
    "local_dot22_to_ger_or_gemv",
    "local_dot_to_dot22",
    "local_gemm_to_gemv",
    "local_gemm_to_ger",
    "local_inplace_gemm",
    "local_inplace_gemv",
    "local_inplace_ger",
]

_FLOATS = ("float16", "float32", "float64")


# ---------------------------------------------------------------------------------------------
# helpers


def _clients(fgraph: FunctionGraph | None, var: Variable) -> list:
    if fgraph is None:
        return []
    return fgraph.clients.get(var, [])


def _sole_client(fgraph: FunctionGraph | None, var: Variable) -> Apply | None:
    """The one node reading ``var``, or None (no graph, several readers, a graph output)."""
    cl = _clients(fgraph, var)
    if len(cl) != 1 or cl[0][0] == "output":
        return None
    return cl[0][0]


def _dimshuffle(var: Variable, order: tuple) -> Variable:
    """``var.dimshuffle(*order)``, folded into ``var``'s own DimShuffle when it has one (so
    the rewrites do not leave chains of DimShuffles; an identity gives the input back)."""
    order = tuple(order)
    owner = var.owner
    if owner is not None and isinstance(owner.op, DimShuffle):
        inner = owner.op.new_order
        src = owner.inputs[0]
        composed = tuple("x" if j == "x" else inner[j] for j in order)
        if composed == tuple(range(src.type.ndim)):
            return src
        return DimShuffle(src.type.broadcastable, composed)(src)
    if order == tuple(range(var.type.ndim)):
        return var
    return DimShuffle(var.type.broadcastable, order)(var)


def _with_type(var: Variable, like: Variable) -> Variable | None:
    """``var`` with exactly ``like``'s type (broadcast pattern restored), or None."""
    if var.type == like.type:
        return var
    if var.type.dtype != like.type.dtype or var.type.ndim != like.type.ndim:
        return None
    return patternbroadcast(var, like.type.broadcastable)


def _scalar_of(var: Variable) -> Variable | None:
    """The 0-d value of a tensor with only broadcastable dimensions (DimShuffles peeled
    off), or None when ``var`` has a dimension that may be longer than 1."""
    if not all(var.type.broadcastable):
        return None
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    if var.type.ndim:
        var = DimShuffle(var.type.broadcastable, ())(var)
    return var


def _scalar_as(var: Variable | float, dtype: str) -> Variable | None:
    """``var`` (a 0-d variable or a Python number) as a 0-d ``dtype`` tensor, when the cast
    loses nothing that the original expression kept (upcast(var, dtype) == dtype)."""
    if not isinstance(var, Variable):
        return constant(np.asarray(var, dtype=dtype))
    if var.type.dtype == dtype:
        return var
    if upcast(var.type.dtype, dtype) != dtype:
        return None
    return cast(var, dtype)


def _is_elemwise(node: Apply | None, scalar_cls) -> bool:
    return (node is not None and isinstance(node.op, Elemwise)
            and not node.op.inplace_pattern and isinstance(node.op.scalar_op, scalar_cls))


def _is_dot22(var: Variable) -> bool:
    return var.owner is not None and var.owner.op == _dot22


def _zeros(dtype: str, rows: Variable, cols: Variable, like: Variable) -> Variable | None:
    """A zero matrix of ``like``'s type and the given (symbolic) shape."""
    return _with_type(alloc(constant(np.asarray(0, dtype=dtype)), rows, cols), like)


def _dim(var: Variable, i: int) -> Variable:
    return shape_i_op(i)(var)


def _destroyable(var: Variable) -> bool:
    """Whether an in-place op may overwrite ``var`` as far as the graph alone tells (no
    constant underneath); the destroy handler decides the rest when the rewrite is applied."""
    return not any(isinstance(r, Constant) for r in view_roots(var))


# ---------------------------------------------------------------------------------------------
# dot -> Dot22


@local_optimizer([Dot])
def local_dot_to_dot22(fgraph, node):
    """dot(x, y) -> Dot22(x, y) with vectors as row/column matrices (float/complex results).

    Operands of another dtype than the result's are cast to it first, which is what dot does
    anyway (int32 · float32 computes in float64), so the values do not change.
    """
    x, y = node.inputs
    out = node.outputs[0]
    dtype = out.type.dtype
    if dtype not in BLAS_DTYPES or x.type.ndim not in (1, 2) or y.type.ndim not in (1, 2):
        return None
    if x.type.dtype != dtype:
        x = cast(x, dtype)
    if y.type.dtype != dtype:
        y = cast(y, dtype)
    if x.type.ndim == 2 and y.type.ndim == 2:
        new = _dot22(x, y)
    elif x.type.ndim == 2:
        new = _dimshuffle(_dot22(x, _dimshuffle(y, (0, "x"))), (0,))
    elif y.type.ndim == 2:
        new = _dimshuffle(_dot22(_dimshuffle(x, ("x", 0)), y), (1,))
    else:
        new = _dimshuffle(_dot22(_dimshuffle(x, ("x", 0)), _dimshuffle(y, (0, "x"))), ())
    new = _with_type(new, out)
    if new is None:
        return None
    copy_stack_trace(out, new)
    return [new]


# ---------------------------------------------------------------------------------------------
# Gemm from sums of scaled products

_LINEAR = (scal.Add, scal.Sub, scal.Neg, scal.Mul)


def _times(a: Variable | float, b: Variable | float) -> Variable | float:
    """The product of two scale factors; Python numbers (only ever ±1) stay numbers, and a
    number adopts the other factor's dtype so that it upcasts nothing."""
    if not isinstance(a, Variable) and not isinstance(b, Variable):
        return a * b
    if not isinstance(a, Variable):
        a, b = b, a
    if not isinstance(b, Variable):
        if b == 1:
            return a
        if b == -1 and a.type.dtype != "bool":
            return neg(a)
        b = constant(np.asarray(b, dtype=a.type.dtype))
    return mul(a, b)


def _plus(a: Variable | float, b: Variable | float) -> Variable | float:
    if not isinstance(a, Variable) and not isinstance(b, Variable):
        return a + b
    if not isinstance(a, Variable):
        a, b = b, a
    if not isinstance(b, Variable):
        b = constant(np.asarray(b, dtype=a.type.dtype))
    return add(a, b)


def _linear_terms(fgraph, var: Variable, scale, terms: list, top: bool) -> None:
    """Append ``(scale_i, term_i)`` pairs whose sum is ``scale * var``.

    Expands add, sub, neg and mul-by-scalars of float/complex vectors and matrices; an inner
    node is expanded only when ``var`` is its only reader (its value is otherwise needed
    anyway, and a Gemm would not make it disappear).
    """
    node = var.owner
    expandable = (
        _is_elemwise(node, _LINEAR)
        and var.type.ndim in (1, 2)
        and var.type.dtype in BLAS_DTYPES
        and (top or _sole_client(fgraph, var) is not None)
    )
    if not expandable:
        terms.append((scale, var))
        return
    sop = node.op.scalar_op
    if isinstance(sop, scal.Add):
        for inp in node.inputs:
            _linear_terms(fgraph, inp, scale, terms, False)
    elif isinstance(sop, scal.Sub):
        _linear_terms(fgraph, node.inputs[0], scale, terms, False)
        _linear_terms(fgraph, node.inputs[1], _times(scale, -1), terms, False)
    elif isinstance(sop, scal.Neg):
        _linear_terms(fgraph, node.inputs[0], _times(scale, -1), terms, False)
    else:
        scalars, others = [], []
        for inp in node.inputs:
            s = _scalar_of(inp)
            (scalars if s is not None else others).append(s if s is not None else inp)
        if len(others) != 1:
            terms.append((scale, var))
            return
        for s in scalars:
            scale = _times(scale, s)
        _linear_terms(fgraph, others[0], scale, terms, False)


def _merge_duplicates(terms: list) -> list:
    """Sum the scales of terms that are the same variable."""
    out: list = []
    index: dict[int, int] = {}
    for s, v in terms:
        k = index.get(id(v))
        if k is None:
            index[id(v)] = len(out)
            out.append((s, v))
        else:
            out[k] = (_plus(out[k][0], s), v)
    return out


def _as_gemm(fgraph, beta, L: Variable, alpha, M: Variable) -> Variable | None:
    """``beta * L + alpha * M`` as one Gemm when M is a Dot22 (or a Dot22 whose row/column
    matrix is read as a vector) that nothing else reads, and L has M's type."""
    if L.type != M.type:
        return None
    dtype = M.type.dtype
    a, b = _scalar_as(alpha, dtype), _scalar_as(beta, dtype)
    if a is None or b is None:
        return None
    if _is_dot22(M):
        if _sole_client(fgraph, M) is None:
            return None
        return gemm_no_inplace(L, a, *M.owner.inputs, b)
    owner = M.owner
    if owner is None or not isinstance(owner.op, DimShuffle):
        return None
    inner = owner.inputs[0]
    if not _is_dot22(inner) or _sole_client(fgraph, inner) is None \
            or _sole_client(fgraph, M) is None:
        return None
    order = owner.op.new_order
    if order == (0,):  # a column read as a vector
        z, back = _dimshuffle(L, (0, "x")), (0,)
    elif order == (1,):  # a row read as a vector
        z, back = _dimshuffle(L, ("x", 0)), (1,)
    else:
        return None
    return _dimshuffle(gemm_no_inplace(z, a, *inner.owner.inputs, b), back)


def _term_value(s, v: Variable) -> Variable:
    """``s * v`` written back as a graph (``v`` itself, ``-v`` or a product)."""
    if isinstance(s, Variable):
        return mul(s, v)
    if s == 1:
        return v
    if s == -1:
        return neg(v)
    return mul(constant(np.asarray(s, dtype=v.type.dtype)), v)


def _gemm_operand(fgraph, M: Variable) -> bool:
    """Whether ``M`` can be the product of a Gemm (the structural part of :func:`_as_gemm`):
    a Dot22, or a Dot22's row/column read as a vector, that nothing else reads."""
    if _is_dot22(M):
        return _sole_client(fgraph, M) is not None
    owner = M.owner
    if owner is None or not isinstance(owner.op, DimShuffle) \
            or owner.op.new_order not in ((0,), (1,)):
        return False
    inner = owner.inputs[0]
    return (_is_dot22(inner) and _sole_client(fgraph, inner) is not None
            and _sole_client(fgraph, M) is not None)


def gemm_from_node(fgraph, node: Apply) -> Variable | None:
    """A replacement for ``node``'s output with its Dot22s folded into Gemms, or None.

    The expression is expanded into scaled terms once; then, as long as a pair qualifies,
    the first term ``L`` (in order) that pairs with a Dot22 term ``M`` (in order) becomes
    ``gemm(L, alpha, x, y, beta)``, appended as a new term. This is what folding one pair
    per replacement and expanding the result again would give, but costs one expansion
    and one replacement per sum instead of one per Dot22 (a sum of n products was
    quadratic). A term that pairs with none of the products never will (products are only
    used up), so each term is tried once against them.
    """
    out = node.outputs[0]
    terms: list = []
    _linear_terms(fgraph, out, 1, terms, True)
    if len(terms) < 2:
        return None
    live: list = _merge_duplicates(terms)  # None where a term was folded into a Gemm
    products = [k for k, (_s, t) in enumerate(live) if _gemm_operand(fgraph, t)]
    if not products:
        return None
    hopeless: set = set()
    folded = False
    while products:
        found = None
        for i, term in enumerate(live):
            if term is None or i in hopeless:
                continue
            s_i, t_i = term
            for j in products:
                if j == i:
                    continue
                s_j, t_j = live[j]
                g = _as_gemm(fgraph, s_i, t_i, s_j, t_j)
                if g is not None:
                    found = (i, j, g)
                    break
            if found is not None:
                break
            hopeless.add(i)
        if found is None:
            break
        i, j, g = found
        live[i] = live[j] = None
        live.append((1, g))
        products = [k for k in products if k != i and k != j]
        folded = True
    if not folded:
        return None
    values = [_term_value(s, t) for s, t in (term for term in live if term is not None)]
    new = add(*values) if len(values) > 1 else values[0]
    return _with_type(new, out)


def _candidates(fgraph, dot_node: Apply) -> list[Apply]:
    """The add/sub/neg/mul nodes above ``dot_node`` whose expansion can reach it, topmost
    first: climbing from the product through sole readers."""
    var = dot_node.outputs[0]
    reader = _sole_client(fgraph, var)
    if reader is not None and isinstance(reader.op, DimShuffle) \
            and reader.op.new_order in ((0,), (1,)):
        var = reader.outputs[0]
        reader = _sole_client(fgraph, var)
    chain: list[Apply] = []
    while _is_elemwise(reader, _LINEAR) and reader.outputs[0].type.ndim in (1, 2):
        chain.append(reader)
        reader = _sole_client(fgraph, reader.outputs[0])
    return chain[::-1]


class GemmOptimizer(GlobalOptimizer):
    """Fold each Dot22 into the sum of scaled terms around it: ``beta*z + alpha*dot(x, y)``
    -> ``gemm(z, alpha, x, y, beta)`` (Theano 1.0's GemmOptimizer).

    For every Dot22 it climbs to the topmost add/sub/neg/mul reading it through sole
    readers, expands that expression into scaled terms and pairs the product with a term of
    the same type; when the top does not work it tries the nodes below. It repeats until no
    Dot22 can be folded (each success removes one, so this ends). Nodes are visited in
    topological order, so the result does not depend on hashing.
    """

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        ensure_replace_validate(fgraph)

    def apply(self, fgraph: FunctionGraph) -> Any:
        n_replaced = n_refused = 0
        changed = True
        while changed:
            changed = False
            for dot_node in [n for n in fgraph.toposort() if n.op == _dot22]:
                if dot_node not in fgraph.apply_nodes:
                    continue
                for top in _candidates(fgraph, dot_node):
                    new = gemm_from_node(fgraph, top)
                    if new is None:
                        continue
                    old = top.outputs[0]
                    copy_stack_trace(old, new)
                    try:
                        fgraph.replace_all_validate([(old, new)], reason="GemmOptimizer")
                    except InconsistencyError:
                        n_refused += 1
                        continue
                    n_replaced += 1
                    changed = True
                    break
        return (self, n_replaced, n_refused)

    def __str__(self) -> str:
        return "GemmOptimizer"


# ---------------------------------------------------------------------------------------------
# Dot22Scalar


@local_optimizer([mul])
def local_dot22_to_dot22scalar(fgraph, node):
    """s * Dot22(x, y) * rest -> Dot22Scalar(x, y, s) * rest, for a scalar s whose dtype the
    product's contains (no upcast hidden in the multiplication), when nothing else reads
    the Dot22 (it would otherwise be computed twice)."""
    if node.op != mul:
        return None
    dots = [k for k, v in enumerate(node.inputs)
            if _is_dot22(v) and _sole_client(fgraph, v) is node]
    if not dots:
        return None
    d = node.inputs[dots[0]]
    dtype = d.type.dtype
    for k, v in enumerate(node.inputs):
        if k == dots[0]:
            continue
        s = _scalar_of(v)
        if s is None or upcast(s.type.dtype, dtype) != dtype:
            continue
        new = _dot22scalar(*d.owner.inputs, _scalar_as(s, dtype))
        rest = [v2 for k2, v2 in enumerate(node.inputs) if k2 not in (k, dots[0])]
        if rest:
            new = mul(new, *rest)
        new = _with_type(new, node.outputs[0])
        if new is None:
            return None
        copy_stack_trace(node.outputs[0], new)
        return [new]
    return None


# ---------------------------------------------------------------------------------------------
# Gemm / Dot22 on vectors -> Gemv, Ger


@local_optimizer([gemm_no_inplace])
def local_gemm_to_gemv(fgraph, node):
    """gemm(z, a, x, y, b) on a row z and row x, or a column z and column y -> Gemv."""
    if node.op != gemm_no_inplace:
        return None
    z, a, x, y, b = node.inputs
    out = node.outputs[0]
    zb = z.type.broadcastable
    if zb == x.type.broadcastable == (True, False):
        r = gemv_no_inplace(_dimshuffle(z, (1,)), a, _dimshuffle(y, (1, 0)),
                            _dimshuffle(x, (1,)), b)
        new = _dimshuffle(r, ("x", 0))
    elif zb == y.type.broadcastable == (False, True):
        r = gemv_no_inplace(_dimshuffle(z, (0,)), a, x, _dimshuffle(y, (0,)), b)
        new = _dimshuffle(r, (0, "x"))
    else:
        return None
    new = _with_type(new, out)
    if new is not None:
        copy_stack_trace(out, new)
        return [new]
    return None


@local_optimizer([gemm_no_inplace])
def local_gemm_to_ger(fgraph, node):
    """gemm(z, a, col, row, b) -> ger(z, a, col, row) when b is 1, ger(zeros, ...) when b
    is 0 (an outer product); other b pre-scale z, which Ger cannot do."""
    if node.op != gemm_no_inplace:
        return None
    z, a, x, y, b = node.inputs
    if not (x.type.broadcastable[1] and y.type.broadcastable[0]):
        return None
    try:
        bval = get_scalar_constant_value(b)
    except NotScalarConstantError:  # b is computed: gemm pre-scales z usefully
        return None
    xv, yv = _dimshuffle(x, (0,)), _dimshuffle(y, (1,))
    out = node.outputs[0]
    if bval == 1:
        new = ger(z, a, xv, yv)
    elif bval == 0:
        zeros = _zeros(z.type.dtype, _dim(x, 0), _dim(y, 1), out)
        if zeros is None:
            return None
        new = ger(zeros, a, xv, yv)
    else:
        return None
    new = _with_type(new, out)
    if new is not None:
        copy_stack_trace(out, new)
        return [new]
    return None


@local_optimizer([_dot22])
def local_dot22_to_ger_or_gemv(fgraph, node):
    """Dot22 of a column and a row -> Ger on zeros; of a row or a column and a matrix ->
    Gemv on an uninitialized vector with beta = 0 (BLAS then ignores it)."""
    if node.op != _dot22:
        return None
    x, y = node.inputs
    out = node.outputs[0]
    dtype = out.type.dtype
    xb, yb = x.type.broadcastable, y.type.broadcastable
    one = constant(np.asarray(1, dtype=dtype))
    zero = constant(np.asarray(0, dtype=dtype))
    if xb[1] and yb[0]:  # outer product
        zeros = _zeros(dtype, _dim(x, 0), _dim(y, 1), out)
        if zeros is None:
            return None
        new = ger(zeros, one, _dimshuffle(x, (0,)), _dimshuffle(y, (1,)))
    elif xb[0] and yb[1]:  # row . column: a 1x1 result
        acc = AllocEmpty(dtype)(constant(np.asarray(1, dtype="int64")))
        r = gemv_no_inplace(acc, one, _dimshuffle(y, (1, 0)), _dimshuffle(x, (1,)), zero)
        new = _dimshuffle(r, ("x", 0))
    elif xb[0] and not yb[0] and not yb[1]:  # row . matrix
        acc = AllocEmpty(dtype)(_dim(y, 1))
        r = gemv_no_inplace(acc, one, _dimshuffle(y, (1, 0)), _dimshuffle(x, (1,)), zero)
        new = _dimshuffle(r, ("x", 0))
    elif not xb[0] and not xb[1] and yb[1]:  # matrix . column
        acc = AllocEmpty(dtype)(_dim(x, 0))
        r = gemv_no_inplace(acc, one, x, _dimshuffle(y, (0,)), zero)
        new = _dimshuffle(r, (0, "x"))
    else:
        return None
    new = _with_type(new, out)
    if new is not None:
        copy_stack_trace(out, new)
        return [new]
    return None


# ---------------------------------------------------------------------------------------------
# in place


def _inplace(node: Apply, old_op, new_op) -> list | None:
    if node.op != old_op or not _destroyable(node.inputs[0]):
        return None
    try:
        new = new_op(*node.inputs)
    except InconsistencyError:  # the accumulator is a view of another operand
        return None
    copy_stack_trace(node.outputs[0], new)
    return [new]


@local_optimizer([gemm_no_inplace], inplace=True)
def local_inplace_gemm(fgraph, node):
    """Gemm{no_inplace} -> Gemm{inplace} (z overwritten) when nothing else needs z."""
    return _inplace(node, gemm_no_inplace, gemm_inplace)


@local_optimizer([gemv_no_inplace], inplace=True)
def local_inplace_gemv(fgraph, node):
    """Gemv{no_inplace} -> Gemv{inplace} (y overwritten) when nothing else needs y."""
    return _inplace(node, gemv_no_inplace, gemv_inplace)


@local_optimizer([ger], inplace=True)
def local_inplace_ger(fgraph, node):
    """Ger{non-destructive} -> Ger{destructive} (A overwritten) when nothing else needs A."""
    return _inplace(node, ger, ger_destructive)


# ---------------------------------------------------------------------------------------------
# registration

#: The BLAS steps, run in order as optdb's ``'BlasOpt'`` (Theano 1.0's ``blas_optdb``).
blas_optdb = SequenceDB()
blas_optdb.register("local_dot_to_dot22", in2out(local_dot_to_dot22), 0,
                    "fast_run", "fast_compile")
# fast_compile's Dot22 of a matrix and a column is a one-column gemm, ~3x slower than
# gemv: fast_compile (o1, o2) turns it into Gemv/Ger in one cheap pass; fast_run does the
# same inside the equilibrium below, after Gemm has had its chance.
blas_optdb.register("local_dot22_to_gemv_fast_compile", in2out(local_dot22_to_ger_or_gemv),
                    1, "fast_compile")
blas_optdb.register("gemm_optimizer", GemmOptimizer(), 10, "fast_run")
blas_optdb.register("local_dot22_to_dot22scalar", in2out(local_dot22_to_dot22scalar), 11,
                    "fast_run")
blas_optdb.register(
    "local_gemm_to_gemv",
    EquilibriumOptimizer([local_gemm_to_gemv, local_gemm_to_ger, local_dot22_to_ger_or_gemv],
                         max_use_ratio=5, ignore_newtrees=False),
    15, "fast_run",
)
# After stabilisation (1.5), before specialisation (2); fast_compile keeps only Dot22.
optdb.register("BlasOpt", blas_optdb, 1.7, "fast_run", "fast_compile")

#: Gemm/Gemv/Ger in place, after the destroy handler (49.5) and before elemwise (75).
blas_opt_inplace = in2out(local_inplace_gemm, local_inplace_gemv, local_inplace_ger,
                          name="blas_opt_inplace")
optdb.register("InplaceBlasOpt", blas_opt_inplace, 70.0, "fast_run", "inplace",
               "blas_opt_inplace")

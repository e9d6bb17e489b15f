"""Stabilization rewrites for the logistic family: sigmoid and softplus.

Users write the logistic function by hand (``1 / (1 + exp(-x))``), and its gradient graph
is full of ``exp(-x) / (1 + exp(-x))**2`` and ``g / p`` terms; for ``|x|`` around 1e3 these
overflow to inf and come back as NaN. The rewrites here recognise those expressions and
write them with ``sigmoid`` and ``softplus``, which are exact for every x.

The idea: every *logistic atom* is a power of ``s(x) = sigmoid(x)`` and ``s(-x)``:

======================  ===========================
``sigmoid(x)``          ``s(x)``
``exp(x)``              ``s(x) / s(-x)``
``1 + exp(x)``          ``1 / s(-x)``
``1 - s(x)``            ``s(-x)`` (any of the forms above for ``s(x)``)
======================  ===========================

A product (mul, true_div, neg, inv, sqr, integer pow, nested in any way) is parsed into a
constant, powers of ordinary factors and powers of atoms grouped by their argument ``x``
(negations stripped: ``exp(-x)`` and ``sigmoid(x)`` share ``x``). When the exponents of
``s(x)`` and ``s(-x)`` add up to non-negative numbers, the product is rebuilt as
``c * factors * s(x)**p * s(-x)**q``: ``exp(x) / (1 + exp(x))`` becomes ``s(x)``,
``exp(-x) / (1 + exp(-x))**2`` becomes ``s(x) * s(-x)``. A factor that is a sum whose terms
divide by atoms the rest of the product multiplies by is distributed
(``(a / s(x) + b / s(-x)) * s(x) * s(-x) -> a * s(-x) + b * s(x)``): that is the shape the
gradient of a cross-entropy of a sigmoid takes, and the only way to make it finite.
Logarithms of atom products become sums of softplus: ``log(s(x)) = -softplus(-x)``.

A rewrite fires only when it removes an exp, a ``1 + exp`` or a ``1 - s`` or cancels
powers, so nothing rewrites its own output again. Theano 1.0's names are kept for the
rewrites (local_exp_over_1_plus_exp, local_inv_1_plus_exp, local_sigm_times_exp,
local_1msigmoid, logsigm_to_softplus, log1msigm_to_softplus, log1pexp_to_softplus,
log1p_neg_sigmoid), each generalised to all the forms above; ``local_1msigmoid`` is
registered here (Theano 1.0 left it out, fearing it would fight its canonicalizer; it
also kept ``1 - s`` when ``s`` had other clients, which we do not: accuracy first) and the
distribution step is ours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tgraph.graph.basic import Apply, Variable
from tgraph.scalar.arith import Add, Inv, Mul, Neg, Sqr, Sub, TrueDiv
from tgraph.scalar.math import Exp, Log, Log1p, Pow, ScalarSigmoid
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from topt.engine.rewriter import local_optimizer
from topt.optdb import register_stabilize
from topt.rewrites.stabilize import (
    elemwise_node,
    finish,
    is_float,
    scalar_constant,
    signed_sum,
    split_sum,
)

__all__ = [
    "local_1msigmoid",
    "local_exp_over_1_plus_exp",
    "local_inv_1_plus_exp",
    "local_sigm_times_exp",
    "log1msigm_to_softplus",
    "log1p_neg_sigmoid",
    "log1pexp_to_softplus",
    "logsigm_to_softplus",
    "parse_product",
]

# Bounds that keep parsing linear in practice: products rarely have more factors, and sums
# distributed over are the two or three terms of a gradient.
_MAX_FACTORS = 64
_MAX_DISTRIBUTED_TERMS = 4
_MAX_POW = 4

Atoms = dict  # (base Variable, sign +1/-1) -> exponent: the product of s(sign * base)**e


# ---------------------------------------------------------------------------------------------
# Products


@dataclass
class Product:
    """``coef * prod(leaf ** up) / prod(leaf ** down)``: a parsed tree of multiplications.

    A leaf's ``up`` and ``down`` counts are kept apart, so ``x / x`` stays written: ordinary
    factors are never cancelled (that would turn NaN at x = 0 into 1), only atoms are.
    """

    coef: float = 1.0
    counts: dict = field(default_factory=dict)  # leaf Variable -> [up, down]
    consts: list = field(default_factory=list)  # constant variables folded into coef

    def add(self, leaf: Variable, k: int) -> None:
        c = self.counts.setdefault(leaf, [0, 0])
        c[0 if k > 0 else 1] += abs(k)

    @property
    def powers(self) -> dict:
        """Net exponent of each leaf (leaves whose powers cancel left out)."""
        return {v: c[0] - c[1] for v, c in self.counts.items() if c[0] != c[1]}

    def factors(self, leaf: Variable) -> list[tuple[Variable, int]]:
        """``leaf``'s factors as written: ``(leaf, up)`` and ``(leaf, -down)``."""
        up, down = self.counts[leaf]
        return [(leaf, k) for k in (up, -down) if k]

    def times(self, other: Product) -> Product:
        out = Product(self.coef * other.coef, {}, self.consts + other.consts)
        for prod in (self, other):
            for leaf, (up, down) in prod.counts.items():
                c = out.counts.setdefault(leaf, [0, 0])
                c[0] += up
                c[1] += down
        return out

    def without(self, leaf: Variable) -> Product:
        return Product(self.coef, {v: list(c) for v, c in self.counts.items() if v is not leaf},
                       self.consts)


def _bump(powers: dict, key, k: int) -> None:
    total = powers.get(key, 0) + k
    if total:
        powers[key] = total
    else:
        powers.pop(key, None)


def _int_exponent(var: Variable) -> int | None:
    value = scalar_constant(var)
    if value is None or value != int(value) or not 0 < abs(value) <= _MAX_POW:
        return None
    return int(value)


def parse_product(var: Variable) -> Product:
    """``var`` as a :class:`Product`, looking through float mul, true_div, neg, inv, sqr and
    pow by a small integer constant; anything else (and everything past
    ``_MAX_FACTORS`` nodes) is a leaf. Constants are folded into ``coef``."""
    prod = Product()
    stack = [(var, 1)]
    visited = 0
    while stack:
        v, k = stack.pop()
        value = scalar_constant(v)
        if value is not None and (value != 0 or k > 0):
            prod.coef *= value**k
            prod.consts.append(v)
            continue
        node = v.owner
        visited += 1
        if node is None or not isinstance(node.op, Elemwise) or not is_float(v) or (
            visited > _MAX_FACTORS
        ):
            prod.add(v, k)
            continue
        op = node.op.scalar_op
        if isinstance(op, Mul):
            stack.extend((i, k) for i in reversed(node.inputs))
        elif isinstance(op, TrueDiv):
            stack.extend([(node.inputs[1], -k), (node.inputs[0], k)])
        elif isinstance(op, Neg):
            prod.coef *= (-1.0) ** k
            stack.append((node.inputs[0], k))
        elif isinstance(op, Inv):
            stack.append((node.inputs[0], -k))
        elif isinstance(op, Sqr):
            stack.append((node.inputs[0], 2 * k))
        elif isinstance(op, Pow) and _int_exponent(node.inputs[1]) is not None:
            stack.append((node.inputs[0], k * _int_exponent(node.inputs[1])))
        else:
            prod.add(v, k)
    return prod


def build_product(coef: float, factors: list[tuple[Variable, int]], like: Variable
                  ) -> Variable:
    """``coef * prod(v ** k)`` written with mul, true_div, sqr, pow and neg; constants take
    ``like``'s dtype so a float32 graph stays float32."""
    num: list[Variable] = []
    den: list[Variable] = []
    for v, k in factors:
        p = abs(k)
        f = v if p == 1 else tm.sqr(v) if p == 2 else tm.pow(v, constant(np.int8(p)))
        (num if k > 0 else den).append(f)
    magnitude = abs(coef)
    if magnitude != 1.0 or not num:
        num.insert(0, constant(np.asarray(magnitude, dtype=like.type.dtype)))
    out = num[0] if len(num) == 1 else tm.mul(*num)
    if den:
        out = tm.true_div(out, den[0] if len(den) == 1 else tm.mul(*den))
    return tm.neg(out) if coef < 0 else out


# ---------------------------------------------------------------------------------------------
# Logistic atoms


def strip_neg(var: Variable) -> tuple[Variable, int]:
    """``(x, sign)`` with ``var == sign * x`` and ``x`` not itself a negation."""
    sign = 1
    while True:
        node = elemwise_node(var, Neg)
        if node is not None:
            var, sign = node.inputs[0], -sign
            continue
        node = elemwise_node(var, Mul)
        if node is not None and len(node.inputs) == 2:
            k = next((j for j in (0, 1) if scalar_constant(node.inputs[j]) == -1.0), None)
            if k is not None and node.inputs[1 - k].type.broadcastable == var.type.broadcastable:
                var, sign = node.inputs[1 - k], -sign
                continue
        return var, sign


def _product_atoms(prod: Product, depth: int) -> Atoms | None:
    """The atoms of a product made only of atoms (None if any factor is not one)."""
    total: Atoms = {}
    for leaf, (up, down) in prod.counts.items():
        k = up - down
        found = leaf_atoms(leaf, depth)
        if found is None:
            return None
        for key, e in found[1].items():
            _bump(total, key, e * k)
    return total


def one_plus_atoms(sign: int, term: Variable, depth: int = 1) -> tuple[str, Atoms] | None:
    """``1 + sign * term`` as atoms: ``1 + exp(x)`` ('1pexp') or ``1 - s(x)`` ('1msig')."""
    prod = parse_product(term)
    coef = sign * prod.coef
    if coef == 1.0 and len(prod.counts) == 1 and len(prod.powers) == 1:
        ((leaf, k),) = prod.powers.items()
        exp_node = elemwise_node(leaf, Exp)
        if k == 1 and exp_node is not None and is_float(leaf):
            base, s = strip_neg(exp_node.inputs[0])
            return "1pexp", {(base, -s): -1}
    if coef == -1.0:
        atoms = _product_atoms(prod, depth)
        if atoms is not None and len(atoms) == 1:
            ((base, s), e) = next(iter(atoms.items()))
            if e == 1:
                return "1msig", {(base, -s): 1}
    return None


def leaf_atoms(var: Variable, depth: int = 2) -> tuple[str, Atoms] | None:
    """``(kind, atoms)`` when ``var`` is a logistic atom, kind being 'sigmoid', 'exp',
    '1pexp' or '1msig'; None otherwise."""
    if not is_float(var):
        return None
    node = elemwise_node(var, ScalarSigmoid | Exp)
    if node is not None:
        base, s = strip_neg(node.inputs[0])
        if isinstance(node.op.scalar_op, ScalarSigmoid):
            return "sigmoid", {(base, s): 1}
        return "exp", {(base, s): 1, (base, -s): -1}
    if depth <= 0:
        return None
    parts = split_sum(var)
    if parts is None:
        return None
    total, terms, _consts = parts
    if total != 1.0 or len(terms) != 1:
        return None
    return one_plus_atoms(terms[0][0], terms[0][1], depth - 1)


def sigmoid_of(base: Variable, sign: int) -> Variable:
    """``sigmoid(sign * base)``."""
    return tm.sigmoid(base if sign > 0 else tm.neg(base))


# ---------------------------------------------------------------------------------------------
# Simplifying a product


@dataclass
class Analysis:
    """A product split into ordinary factors and stable atoms.

    ``others`` keeps every factor left as it was (ordinary ones, and atoms of an argument
    whose exponents would stay negative); ``atoms`` maps each argument rewritten to the
    non-negative powers ``(p, q)`` of ``s(x)`` and ``s(-x)``; ``unstable`` lists the
    arguments left with a negative power (a division by an atom); ``changed`` says whether
    rebuilding would differ from the input.
    """

    coef: float
    others: list
    atoms: dict
    unstable: list
    changed: bool


def analyse(prod: Product) -> Analysis:
    """Group the atoms of ``prod`` by argument and decide which ones to rewrite."""
    others: list = []
    groups: dict = {}  # base -> {"exp": {1: p, -1: q}, "leaves": [(leaf, k, kind)]}
    for leaf, (up, down) in prod.counts.items():
        k = up - down
        found = leaf_atoms(leaf)
        if found is None:
            others.extend(prod.factors(leaf))
            continue
        kind, atoms = found
        base = next(iter(atoms))[0]
        group = groups.setdefault(base, {"exp": {1: 0, -1: 0}, "leaves": []})
        for (_b, s), e in atoms.items():
            group["exp"][s] += e * k
        group["leaves"].append((leaf, k, kind))
    atoms_out: dict = {}
    unstable: list = []
    changed = False
    for base, group in groups.items():
        p, q = group["exp"][1], group["exp"][-1]
        if p < 0 or q < 0:
            unstable.append(base)
            others.extend(f for leaf, _k, _kind in group["leaves"] for f in prod.factors(leaf))
            continue
        plain = all(kind == "sigmoid" for _leaf, _k, kind in group["leaves"])
        used = sum(abs(k) for _leaf, k, _kind in group["leaves"])
        if plain and used == p + q:
            others.extend(f for leaf, _k, _kind in group["leaves"] for f in prod.factors(leaf))
            continue
        atoms_out[base] = (p, q)
        changed = True
    return Analysis(prod.coef, others, atoms_out, unstable, changed)


def rebuild(an: Analysis, like: Variable) -> Variable:
    """The product an analysis describes, atoms written as sigmoids."""
    factors = list(an.others)
    for base, (p, q) in an.atoms.items():
        if p:
            factors.append((sigmoid_of(base, 1), p))
        if q:
            factors.append((sigmoid_of(base, -1), q))
    return build_product(an.coef, factors, like)


def _distribute(prod: Product, an: Analysis, like: Variable) -> Variable | None:
    """``(t1 + t2 + ...) * rest`` as ``t1 * rest + t2 * rest + ...`` when some term divides
    by an atom that ``rest`` multiplies by and every resulting term is stable."""
    for leaf, k in an.others:
        if k != 1 or prod.counts[leaf] != [1, 0]:
            continue
        node = elemwise_node(leaf, Add | Sub)
        if node is None or not is_float(leaf) or len(node.inputs) > _MAX_DISTRIBUTED_TERMS:
            continue
        if isinstance(node.op.scalar_op, Sub):
            terms = [(1, node.inputs[0]), (-1, node.inputs[1])]
        else:
            terms = [(1, t) for t in node.inputs]
        rest = prod.without(leaf)
        helps = False
        results = []
        for sign, term in terms:
            term_prod = parse_product(term)
            if analyse(term_prod).unstable:
                helps = True
            combined = analyse(rest.times(term_prod))
            if combined.unstable:
                break
            results.append((sign, rebuild(combined, like)))
        else:
            if helps:
                return signed_sum(results)
    return None


def _rewrite_product(node: Apply) -> list[Variable] | None:
    out = node.outputs[0]
    if not is_float(out):
        return None
    prod = parse_product(out)
    if prod.coef == 0.0 or not prod.counts:
        return None
    an = analyse(prod)
    new = _distribute(prod, an, out)
    if new is None:
        if not an.changed:
            return None
        new = rebuild(an, out)
    return finish(node, new, list(prod.counts) + prod.consts)


@register_stabilize
@local_optimizer([Elemwise])
def local_exp_over_1_plus_exp(fgraph, node):
    """exp(x) / (1 + exp(x)) -> sigmoid(x); c / (1 + exp(x)) -> c * sigmoid(-x).

    Any quotient whose logistic atoms cancel to non-negative powers of s(x), s(-x) (see
    the module docstring), including the gradient's exp(-x) / (1 + exp(-x))**2.
    """
    if elemwise_node(node.outputs[0], TrueDiv) is None:
        return None
    return _rewrite_product(node)


@register_stabilize
@local_optimizer([Elemwise])
def local_inv_1_plus_exp(fgraph, node):
    """inv(1 + exp(x)) -> sigmoid(-x)."""
    if elemwise_node(node.outputs[0], Inv) is None:
        return None
    return _rewrite_product(node)


@register_stabilize
@local_optimizer([Elemwise])
def local_sigm_times_exp(fgraph, node):
    """exp(x) * sigmoid(-x) -> sigmoid(x); exp(-x) * sigmoid(x) -> sigmoid(-x).

    Products (mul, neg, sqr, integer pow) of atoms; also distributes a product over a sum
    whose terms divide by atoms it multiplies by (the cross-entropy gradient).
    """
    if elemwise_node(node.outputs[0], Mul | Neg | Sqr | Pow) is None:
        return None
    return _rewrite_product(node)


@register_stabilize
@local_optimizer([Elemwise])
def local_1msigmoid(fgraph, node):
    """1 - sigmoid(x) -> sigmoid(-x) (also 1 - 1/(1 + exp(-x)) and 1 + -sigmoid(x)).

    ``1 - s`` is 0 once s rounds to 1 (x > 37 in float64) where sigmoid(-x) is still exact.
    """
    out = node.outputs[0]
    found = leaf_atoms(out) if elemwise_node(out, Add | Sub) is not None else None
    if found is None or found[0] != "1msig":
        return None
    ((base, s), _e) = next(iter(found[1].items()))
    _total, _terms, consts = split_sum(out)
    return finish(node, sigmoid_of(base, s), consts)


# ---------------------------------------------------------------------------------------------
# Logarithms


def _softplus_term(base: Variable, s: int, e: int, like: Variable) -> tuple[int, Variable]:
    """``log(s(s * base) ** e) = -e * softplus(-s * base)`` as a signed term."""
    sp = tm.softplus(base if s < 0 else tm.neg(base))
    if abs(e) != 1:
        sp = tm.mul(constant(np.asarray(abs(e), dtype=like.type.dtype)), sp)
    return (-1 if e > 0 else 1), sp


def _log_of_product(prod: Product, like: Variable, arg: Variable) -> Variable | None:
    """``log(prod)`` with atoms turned into softplus terms; None when there is no atom
    other than exp (log(exp(x)) = x belongs to canonicalization).

    ``like`` gives the dtype; ``arg`` (the logarithm's argument) the shape of a result whose
    atoms all cancel. Taking that shape from ``like`` itself would make the replacement
    contain the node it replaces, and the rewrite would fire again on its own result.
    """
    found = {leaf: leaf_atoms(leaf) for leaf in prod.counts}
    if not any(f is not None and f[0] != "exp" for f in found.values()):
        return None
    with_others = {next(iter(f[1]))[0] for f in found.values() if f and f[0] != "exp"}
    terms: list[tuple[int, Variable]] = []
    others: list[tuple[Variable, int]] = []
    atoms: Atoms = {}
    for leaf, (up, down) in prod.counts.items():
        k = up - down
        f = found[leaf]
        if f is None:
            others.extend(prod.factors(leaf))
        elif k == 0:
            continue
        elif f[0] == "exp" and next(iter(f[1]))[0] not in with_others:
            x = leaf.owner.inputs[0]
            terms.append((1 if k > 0 else -1,
                          x if abs(k) == 1 else tm.mul(constant(np.int8(abs(k))), x)))
        else:
            for key, e in f[1].items():
                _bump(atoms, key, e * k)
    if others:
        terms.insert(0, (1, tm.log(build_product(prod.coef, others, like))))
    elif prod.coef <= 0:
        return None
    elif prod.coef != 1.0:
        terms.insert(0, (1, constant(np.log(np.asarray(prod.coef, dtype=like.type.dtype)))))
    terms.extend(_softplus_term(b, s, e, like) for (b, s), e in atoms.items())
    if not terms:
        return tm._second(arg, constant(np.asarray(0.0, dtype=like.type.dtype)))
    return signed_sum(terms)


def _rewrite_log(node: Apply, want_sum: bool) -> list[Variable] | None:
    out = node.outputs[0]
    if elemwise_node(out, Log) is None or not is_float(out):
        return None
    (arg,) = node.inputs
    if (split_sum(arg) is not None) != want_sum:
        return None
    prod = parse_product(arg)
    new = _log_of_product(prod, out, arg)
    if new is None:
        return None
    return finish(node, new, list(prod.counts) + prod.consts)


@register_stabilize
@local_optimizer([Elemwise])
def logsigm_to_softplus(fgraph, node):
    """log(sigmoid(x)) -> -softplus(-x); log(c * y / (1 + exp(x))) -> log(c * y) - softplus(x).

    Logarithms of products with logistic atoms (see the module docstring) become sums of
    softplus terms, exact where sigmoid underflows to 0 and log gave -inf.
    """
    return _rewrite_log(node, want_sum=False)


@register_stabilize
@local_optimizer([Elemwise])
def log1msigm_to_softplus(fgraph, node):
    """log(1 - sigmoid(x)) -> -softplus(x); log(1 + exp(x)) -> softplus(x)."""
    return _rewrite_log(node, want_sum=True)


def _rewrite_log1p(node: Apply, kind: str) -> list[Variable] | None:
    out = node.outputs[0]
    if elemwise_node(out, Log1p) is None or not is_float(out):
        return None
    found = one_plus_atoms(1, node.inputs[0])
    if found is None or found[0] != kind:
        return None
    ((base, s), e) = next(iter(found[1].items()))
    sign, sp = _softplus_term(base, s, e, out)
    return finish(node, sp if sign > 0 else tm.neg(sp))


@register_stabilize
@local_optimizer([Elemwise])
def log1pexp_to_softplus(fgraph, node):
    """log1p(exp(x)) -> softplus(x)."""
    return _rewrite_log1p(node, "1pexp")


@register_stabilize
@local_optimizer([Elemwise])
def log1p_neg_sigmoid(fgraph, node):
    """log1p(-sigmoid(x)) -> -softplus(x)."""
    return _rewrite_log1p(node, "1msig")

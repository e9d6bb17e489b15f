"""Every optimizer level keeps the values of random expression graphs (property test).

Hypothesis grows a random graph from a pool of expressions: it starts with the inputs (a
matrix, a row, a column, a vector, a scalar and a square matrix, all float32 or all float64)
and adds, step by step, unary ops (including the forms the catalog targets: ``x * 1``,
``x / x``, ``log(exp(x))``, ``log(1 + x)``, ``1 / (1 + exp(-x))``, ``log(sigmoid(x))``,
``x ** 2`` ...), binary ops with Theano broadcasting between any two compatible pool members
(so subgraphs are shared), switches on input comparisons, reductions with random axes and
keepdims, dots (so BLAS rewrites have targets, ``z - a * dot(x, y)`` included), subtensors
with random slices, casts and softmax. A NumPy mirror of each step (in float64) is the
oracle.

Each level's optimizer (``topt.levels.LEVELS[name]``) then rewrites a FunctionGraph of the
outputs, and the rewritten graph, run node by node with ``perform``, must give the oracle's
values within the precision of the graph's dtypes, with the original output types.

Values are kept where the original and the rewritten graphs must agree: before a step is
added its operands are checked against the op's safe domain (``log`` of values > 0.05,
division by values of modulus > 0.1, ``exp`` of values < 4 ...), and a step whose result is
not finite or exceeds 1e3 in modulus is dropped. Comparisons only read graph inputs, so no
rounding difference can flip a branch. In-place rewrites are kept from overwriting the
inputs by a feature doing what tlink's Supervisor does.

Only tgraph and topt are needed (topt's suite runs alone): no compiled function here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgraph.graph import FunctionGraph, evaluate
from tgraph.graph.basic import Variable
from tgraph.graph.features import Feature
from tgraph.graph.fg import InconsistencyError
from tgraph.tensor import math as tm
from tgraph.tensor.dot import dot
from tgraph.tensor.nnet.softmax import softmax
from tgraph.tensor.type import TensorType
from topt.levels import LEVELS

LEVEL_NAMES = ["None", "merge", "o1", "o2", "o3", "o4", "unsafe", "stabilize"]

#: Largest modulus a kept step may produce (so float32 rounding stays small).
BOUND = 1e3


@dataclass(frozen=True)
class Expr:
    """A pool member: the symbolic variable, its NumPy value (float64 mirror) and whether
    float32 arithmetic took part in computing it (it sets the tolerance)."""

    var: Variable
    value: np.ndarray
    low: bool
    leaf: bool = False

    def __post_init__(self) -> None:
        # A float32 result is float32 arithmetic whatever its operands were (int8 -> exp).
        if self.var.type.dtype in ("float32", "float16"):
            object.__setattr__(self, "low", True)

    @property
    def shape(self) -> tuple:
        return self.value.shape


def _lo(*exprs: Expr) -> bool:
    return any(e.low for e in exprs)


def _min(e: Expr) -> float:
    return float(np.min(e.value))


def _max(e: Expr) -> float:
    return float(np.max(e.value))


def _minabs(e: Expr) -> float:
    return float(np.min(np.abs(e.value)))


def _is_float(e: Expr) -> bool:
    return e.var.type.dtype.startswith("float")


def _rows(e: Expr) -> bool:
    """A float matrix whose rows are not broadcastable (softmax's domain)."""
    return e.var.ndim == 2 and _is_float(e) and not e.var.broadcastable[-1]


# --- unary steps: name -> (precondition on the operand, symbolic, NumPy) ----------------------
def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


UNARY: dict[str, tuple[Callable, Callable, Callable]] = {
    "neg": (lambda a: True, lambda x: -x, lambda v: -v),
    "abs": (lambda a: True, tm.abs_, np.abs),
    "exp": (lambda a: _max(a) < 4, tm.exp, np.exp),
    "log": (lambda a: _min(a) > 0.05, tm.log, np.log),
    "sqrt": (lambda a: _min(a) > 0.05, tm.sqrt, np.sqrt),
    "tanh": (lambda a: True, tm.tanh, np.tanh),
    "sigmoid": (lambda a: True, tm.sigmoid, _sigmoid),
    "softplus": (lambda a: _max(a) < 20, tm.softplus, lambda v: np.log1p(np.exp(v))),
    "sqr": (lambda a: True, lambda x: x ** 2, np.square),
    "pow_half": (lambda a: _min(a) > 0.05, lambda x: x ** 0.5, np.sqrt),
    "inv": (lambda a: _minabs(a) > 0.1, lambda x: 1 / x, lambda v: 1 / v),
    "mul_one": (lambda a: True, lambda x: x * 1, lambda v: v),
    "add_zero": (lambda a: True, lambda x: x + 0, lambda v: v),
    "mul_two": (lambda a: True, lambda x: 2 * x, lambda v: 2 * v),
    "div_self": (lambda a: _minabs(a) > 0.1, lambda x: x / x, lambda v: v / v),
    "sub_self": (lambda a: True, lambda x: x - x, lambda v: v - v),
    "neg_neg": (lambda a: True, lambda x: tm.neg(tm.neg(x)), lambda v: v),
    "log_exp": (lambda a: _max(a) < 4, lambda x: tm.log(tm.exp(x)), lambda v: v),
    "exp_log": (lambda a: _min(a) > 0.05, lambda x: tm.exp(tm.log(x)), lambda v: v),
    "log1p_form": (lambda a: _min(a) > -0.9, lambda x: tm.log(1 + x), np.log1p),
    "sigmoid_form": (lambda a: _min(a) > -20, lambda x: 1 / (1 + tm.exp(-x)), _sigmoid),
    "log_sigmoid": (lambda a: _min(a) > -20, lambda x: tm.log(tm.sigmoid(x)),
                    lambda v: np.log(_sigmoid(v))),
    "log_1m_sigmoid": (lambda a: _max(a) < 5, lambda x: tm.log(1 - tm.sigmoid(x)),
                       lambda v: np.log1p(-_sigmoid(v))),
    "cast_other": (lambda a: _is_float(a), None, lambda v: v),
    "transpose": (lambda a: a.var.ndim == 2, lambda x: x.T, lambda v: v.T),
    "softmax": (_rows, softmax,
                lambda v: np.exp(v - v.max(1, keepdims=True))
                / np.exp(v - v.max(1, keepdims=True)).sum(1, keepdims=True)),
    "log_softmax": (_rows, lambda x: tm.log(softmax(x)),
                    lambda v: v - v.max(1, keepdims=True)
                    - np.log(np.exp(v - v.max(1, keepdims=True)).sum(1, keepdims=True))),
}

# --- binary steps (operands must broadcast): name -> (precondition, symbolic, NumPy) -------------
BINARY: dict[str, tuple[Callable, Callable, Callable]] = {
    "add": (lambda a, b: True, lambda x, y: x + y, np.add),
    "sub": (lambda a, b: True, lambda x, y: x - y, np.subtract),
    "mul": (lambda a, b: True, lambda x, y: x * y, np.multiply),
    "true_div": (lambda a, b: _minabs(b) > 0.1, tm.true_div, np.true_divide),
    "maximum": (lambda a, b: True, tm.maximum, np.maximum),
    "minimum": (lambda a, b: True, tm.minimum, np.minimum),
    "pow": (lambda a, b: _min(a) > 0.1 and float(np.max(np.abs(b.value))) < 3
            and _is_float(a), tm.pow, np.power),
    "axpy": (lambda a, b: True, lambda x, y: x - 0.25 * y, lambda u, v: u - 0.25 * v),
}

REDUCTIONS = {
    "sum": (tm.sum, np.sum),
    "prod": (tm.prod, np.prod),
    "max": (tm.max, np.max),
    "min": (tm.min, np.min),
    "mean": (tm.mean, np.mean),
}


def _broadcasts(*exprs: Expr) -> bool:
    """Theano's rule: aligned from the right, sizes agree or one side is broadcastable."""
    ndim = max(e.var.ndim for e in exprs)
    for k in range(1, ndim + 1):
        sizes = {e.shape[-k] for e in exprs
                 if e.var.ndim >= k and not e.var.broadcastable[-k]}
        if len(sizes) > 1:
            return False
    return True


def _keep(e: Expr) -> bool:
    v = e.value
    if v.size == 0 or not np.all(np.isfinite(v)):
        return False
    return float(np.max(np.abs(v))) <= (100 if e.var.type.dtype.startswith("int") else BOUND)


def _random_slice(draw, n: int) -> slice:
    bounds = st.one_of(st.none(), st.integers(-n, n))
    step = st.sampled_from([None, 1, 2, -1, -2])
    return slice(draw(bounds), draw(bounds), draw(step))


def _step(draw, pool: list[Expr]) -> Expr | None:
    """One random new expression from the pool, or None when the draw is not usable."""
    kind = draw(st.sampled_from(
        ["unary"] * 4 + ["binary"] * 4 + ["switch", "reduce", "dot", "subtensor", "cast_int"]))
    a = draw(st.sampled_from(pool))
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        ok, sym, npf = UNARY[name]
        if not ok(a):
            return None
        if name == "cast_other":
            other = "float32" if a.var.type.dtype == "float64" else "float64"
            return Expr(tm.cast(a.var, other), a.value, a.low or other == "float32")
        with np.errstate(all="ignore"):
            return Expr(sym(a.var), npf(a.value), a.low)
    if kind == "binary":
        name = draw(st.sampled_from(sorted(BINARY)))
        b = draw(st.sampled_from(pool))
        ok, sym, npf = BINARY[name]
        if not (_broadcasts(a, b) and ok(a, b)):
            return None
        with np.errstate(all="ignore"):
            return Expr(sym(a.var, b.var), npf(a.value, b.value), _lo(a, b))
    if kind == "switch":
        cond = draw(st.sampled_from([e for e in pool if e.leaf]))
        b = draw(st.sampled_from(pool))
        if not _broadcasts(cond, a, b):
            return None
        value = np.where(cond.value > 1.0, a.value, b.value)
        return Expr(tm.switch(tm.gt(cond.var, 1.0), a.var, b.var), value, _lo(a, b))
    if kind == "reduce":
        name = draw(st.sampled_from(sorted(REDUCTIONS)))
        sym, npf = REDUCTIONS[name]
        axes = [None, *range(a.var.ndim)] + ([tuple(range(a.var.ndim))] if a.var.ndim else [])
        axis = draw(st.sampled_from(axes))
        keepdims = draw(st.booleans())
        value = npf(a.value.astype("float64"), axis=axis, keepdims=keepdims)
        return Expr(sym(a.var, axis=axis, keepdims=keepdims), np.asarray(value), a.low)
    if kind == "dot":
        b = draw(st.sampled_from(pool))
        if not (1 <= a.var.ndim <= 2 and 1 <= b.var.ndim <= 2):
            return None
        if a.shape[-1] != b.shape[0] or a.var.broadcastable[-1] or b.var.broadcastable[0]:
            return None
        prod = Expr(dot(a.var, b.var), np.dot(a.value, b.value), _lo(a, b))
        z = draw(st.sampled_from(pool))
        if not (draw(st.booleans()) and _broadcasts(z, prod)):
            return prod
        # z - alpha * dot(a, b): what Gemm/Gemv absorb.
        return Expr(z.var - 0.5 * prod.var, z.value - 0.5 * prod.value, _lo(z, prod))
    if kind == "subtensor":
        if a.var.ndim == 0:
            return None
        idx = tuple(_random_slice(draw, n) for n in a.shape)
        if draw(st.booleans()):  # an integer index on the first axis
            idx = (draw(st.integers(-a.shape[0], a.shape[0] - 1)), *idx[1:])
        return Expr(a.var[idx], a.value[idx], a.low)
    # cast_int: an int8 copy of 4 * an input (exact in every float dtype).
    leaf = draw(st.sampled_from([e for e in pool if e.leaf]))
    return Expr(tm.cast(leaf.var * 4, "int8"), np.trunc(leaf.value * 4), False)


def _inputs(dtype: str, seed: int) -> list[Expr]:
    rng = np.random.default_rng(seed)
    specs = [("X", (3, 4), (False, False)), ("R", (1, 4), (True, False)),
             ("C", (3, 1), (False, True)), ("V", (4,), (False,)), ("S", (), ()),
             ("W", (4, 4), (False, False))]
    out = []
    for name, shape, bcast in specs:
        value = rng.uniform(0.1, 2.0, size=shape).astype(dtype)
        var = TensorType(dtype, bcast)(name)
        out.append(Expr(var, value.astype("float64"), dtype == "float32", leaf=True))
    return out


@st.composite
def random_graphs(draw):
    """(inputs, input values, outputs, oracle outputs, float32 flags) of a random graph."""
    dtype = draw(st.sampled_from(["float64", "float32"]))
    leaves = _inputs(dtype, draw(st.integers(0, 2**32 - 1)))
    pool = list(leaves)
    n_steps = draw(st.integers(1, 14))
    for _ in range(n_steps):
        new = _step(draw, pool)
        if new is not None and _keep(new):
            pool.append(new)
    made = pool[len(leaves):]
    if not made:
        made = [Expr(leaves[0].var * 2 + 1, leaves[0].value * 2 + 1, leaves[0].low)]
    picks = [made[-1], *[e for e in made[:-1] if draw(st.booleans())][:2]]
    values = [e.value.astype(dtype) for e in leaves]
    return [e.var for e in leaves], values, picks


class Protect(Feature):
    """Keep in-place rewrites off the graph's inputs (what tlink's Supervisor does)."""

    def validate(self, fgraph) -> bool:
        for var in fgraph.inputs:
            if fgraph.destroyers(var) if hasattr(fgraph, "destroyers") else False:
                raise InconsistencyError(f"input {var} is protected")
        return True


def _run(fgraph: FunctionGraph, values: list) -> list:
    """Run ``fgraph`` node by node in its own order (which respects in-place orderings)."""
    storage = {var: np.array(val, copy=True) for var, val in zip(fgraph.inputs, values)}
    for node in fgraph.toposort():
        for var in node.inputs:
            if var not in storage:  # a constant
                storage[var] = var.data
        cells = [[None] for _ in node.outputs]
        node.op.perform(node, [storage[v] for v in node.inputs], cells)
        for var, cell in zip(node.outputs, cells):
            storage[var] = cell[0]
    return [storage[o] if o in storage else o.data for o in fgraph.outputs]


def _check(got, expr: Expr, what: str) -> None:
    got = np.asarray(got)
    assert got.shape == expr.shape, f"{what}: shape {got.shape}, expected {expr.shape}"
    scale = max(1.0, float(np.max(np.abs(expr.value))))
    rtol, atol = (2e-3, 2e-4 * scale) if expr.low else (1e-7, 1e-9 * scale)
    np.testing.assert_allclose(got.astype("float64"), expr.value, rtol=rtol, atol=atol,
                               equal_nan=True, err_msg=what)


@pytest.mark.parametrize("level", LEVEL_NAMES)
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph=random_graphs())
def test_level_keeps_values(level: str, graph) -> None:
    inputs, values, picks = graph
    outputs = [e.var for e in picks]
    before = evaluate(outputs, {i: np.array(v, copy=True) for i, v in zip(inputs, values)})
    for got, expr in zip(before, picks):
        _check(got, expr, "unoptimized graph vs NumPy")

    fgraph = FunctionGraph(inputs, outputs, features=[Protect()])
    LEVELS[level].optimize(fgraph)
    fgraph.check_integrity()
    for old, new in zip(outputs, fgraph.outputs):
        assert new.type == old.type, f"{level}: output type {new.type}, expected {old.type}"
    after = _run(fgraph, values)
    for got, expr in zip(after, picks):
        _check(got, expr, f"level {level!r} vs NumPy")
    for got, ref in zip(after, before):
        assert np.asarray(got).dtype == np.asarray(ref).dtype


def test_every_level_is_covered() -> None:
    """The levels the seed's table names are all tested here."""
    for name in ("None", "o1", "o2", "o3", "o4", "unsafe", "stabilize"):
        assert name in LEVEL_NAMES and name in LEVELS
    assert LEVELS["o1"] is LEVELS["fast_compile"] and LEVELS["o4"] is LEVELS["fast_run"]

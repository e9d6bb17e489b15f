"""Fusion at its limits: very wide and very long element-wise graphs.

A Composite must stay within what one generated C function can take: at most
``MAX_FUSED_INPUTS`` inputs and ``MAX_FUSED_SCALAR_OPS`` scalar operations (a long chain
would otherwise grow, pass after pass, into one Composite whose C takes gcc minutes). The
graphs here are compiled with the default mode (FAST_RUN, C thunks) and run against NumPy;
the bounds are checked on the graph's structure, never on timings.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tgraph.graph import FunctionGraph
from tgraph.scalar import Composite
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.elemwise import Elemwise
from topt.optdb import optdb
from topt.rewrites.fusion import MAX_FUSED_INPUTS, MAX_FUSED_SCALAR_OPS

tlink = pytest.importorskip("tlink", reason="compiling and running needs tlink")

N_CHAIN = 2000
N_WIDE = 300


def _composites(nodes) -> list:
    return [n for n in nodes
            if isinstance(n.op, Elemwise) and isinstance(n.op.scalar_op, Composite)]


def _check_limits(nodes) -> list:
    comps = _composites(nodes)
    for node in comps:
        assert len(node.inputs) <= MAX_FUSED_INPUTS, node
        assert node.op.scalar_op.n_scalar_nodes <= MAX_FUSED_SCALAR_OPS, node
    return comps


def _chain(x, n: int):
    """``n`` element-wise ops whose values stay in a small range (no overflow to compare)."""
    steps = (tm.tanh, lambda v: v * 0.5, tm.exp, lambda v: v + 1.0)
    for k in range(n):
        x = steps[k % 4](x)
    return x


def _chain_np(a: np.ndarray, n: int) -> np.ndarray:
    steps = (np.tanh, lambda v: v * 0.5, np.exp, lambda v: v + 1.0)
    for k in range(n):
        a = steps[k % 4](a)
    return a


def _wide(xs):
    """One expression reading every input of ``xs``, alternating products and tanh sums."""
    y = xs[0]
    for k, v in enumerate(xs[1:]):
        y = y * v + 1.0 if k % 2 else y + tm.tanh(v)
    return y


def _wide_np(arrays):
    y = arrays[0]
    for k, v in enumerate(arrays[1:]):
        y = y * v + 1.0 if k % 2 else y + np.tanh(v)
    return y


def _thunk_kinds(fn) -> set[str]:
    return {getattr(t, "perform", "py") for t in fn.fn.thunks}


def test_fusing_a_long_chain_splits_it_into_bounded_composites():
    x = tt.vector("x")
    fg = FunctionGraph([x], [_chain(x, N_CHAIN)])
    optdb.query("+fast_run").optimize(fg)
    comps = _check_limits(fg.toposort())
    # every op of the chain is element-wise, so it all fuses, in as few pieces as allowed
    assert sum(c.op.scalar_op.n_scalar_nodes for c in comps) == N_CHAIN
    assert len(comps) == math.ceil(N_CHAIN / MAX_FUSED_SCALAR_OPS)


def test_a_2000_op_chain_compiles_in_c_and_matches_numpy():
    x = tt.vector("x")
    f = tlink.function([x], _chain(x, N_CHAIN))
    nodes = f.maker.fgraph.toposort()
    comps = _check_limits(nodes)
    assert len(comps) == math.ceil(N_CHAIN / MAX_FUSED_SCALAR_OPS)
    if tlink.cc.compiler_available():
        assert _thunk_kinds(f) == {"c"}
    a = np.linspace(-2, 2, 1001)
    np.testing.assert_allclose(f(a), _chain_np(a, N_CHAIN), rtol=1e-10)


def test_a_300_input_expression_compiles_in_c_and_matches_numpy():
    xs = [tt.vector(f"x{k}") for k in range(N_WIDE)]
    f = tlink.function(xs, _wide(xs))
    comps = _check_limits(f.maker.fgraph.toposort())
    assert len(comps) >= math.ceil(N_WIDE / MAX_FUSED_INPUTS)
    if tlink.cc.compiler_available():
        assert _thunk_kinds(f) == {"c"}
    rng = np.random.RandomState(0)
    arrays = [rng.uniform(-1, 1, size=17) for _ in range(N_WIDE)]
    np.testing.assert_allclose(f(*arrays), _wide_np(arrays), rtol=1e-10)


def test_one_op_past_the_size_bound_is_left_out_of_the_composite():
    x = tt.vector("x")
    fg = FunctionGraph([x], [_chain(x, MAX_FUSED_SCALAR_OPS + 1)])
    optdb.query("+fast_run").optimize(fg)
    nodes = fg.toposort()
    comps = _check_limits(nodes)
    assert [c.op.scalar_op.n_scalar_nodes for c in comps] == [MAX_FUSED_SCALAR_OPS]
    assert len(nodes) == 2  # the first op of the chain, then the Composite of the rest

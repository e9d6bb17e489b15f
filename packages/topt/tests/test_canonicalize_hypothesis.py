"""Random elementwise/reduction expressions before and after the canonicalize, stabilize and
specialize phases (and the whole fast_run sequence without in-place rewrites): same values
as the unoptimized graph (NumPy's reference implementations), same output types."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import FunctionGraph
from tgraph.graph.evaluate import evaluate
from tgraph.tensor import math as tm
from tgraph.tensor import type as tt
from tgraph.tensor.alloc import fill

LEAVES = ["x", "y", "r", "s", "one", "zero", "two", "mone"]
UNARY = ["neg", "exp", "logabs", "sqr", "inv1", "pow0", "pow1", "pow2", "powh", "pow3",
         "T2", "sumrow", "sqrtabs", "logexp"]
BINARY = ["add", "sub", "mul", "div", "fill"]

expr = st.recursive(
    st.sampled_from(LEAVES),
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(UNARY), kids),
        st.tuples(st.sampled_from(BINARY), kids, kids),
        st.tuples(st.just("addn"), kids, kids, kids),
    ),
    max_leaves=10,
)


def build(tree, env, dtype):
    if isinstance(tree, str):
        consts = {"one": 1.0, "zero": 0.0, "two": 2.0, "mone": -1.0}
        if tree in consts:
            return np.asarray(consts[tree], dtype=dtype)
        return env[tree]
    op, *args = tree
    a = [build(t, env, dtype) for t in args]
    a = [v if not isinstance(v, np.ndarray) else tm.cast(v, dtype) for v in a]
    x = a[0]
    if op == "neg":
        return -x
    if op == "exp":
        return tm.exp(tm.tanh(x))  # bounded exponent
    if op == "logabs":
        return tm.log(tm.abs_(x) + np.asarray(1.0, dtype=dtype))
    if op == "sqr":
        return tm.sqr(x)
    if op == "inv1":
        return tm.inv(tm.sqr(x) + np.asarray(1.0, dtype=dtype))
    if op.startswith("pow"):
        e = {"pow0": 0.0, "pow1": 1.0, "pow2": 2.0, "powh": 0.5, "pow3": 3.0}[op]
        base = tm.abs_(x) + np.asarray(0.5, dtype=dtype) if e == 0.5 else x
        return base ** np.asarray(e, dtype=dtype)
    if op == "T2":
        return x.T if x.ndim == 2 else x
    if op == "sumrow":
        return tm.sum(x, axis=0, keepdims=True) if x.ndim == 2 else x
    if op == "sqrtabs":
        return tm.sqrt(tm.abs_(x))
    if op == "logexp":
        return tm.log(tm.exp(tm.tanh(x)))
    y = a[1]
    if op == "add":
        return x + y
    if op == "sub":
        return x - y
    if op == "mul":
        return x * y
    if op == "div":
        return x / (tm.sqr(y) + np.asarray(1.0, dtype=dtype))
    if op == "fill":
        return fill(x, y)
    return tm.add(x, y, a[2])


def _run(fg_query, out, inputs, values):
    fg = FunctionGraph(inputs, [out])
    fg_query.optimize(fg)
    assert fg.outputs[0].type == out.type
    return evaluate(fg.outputs, dict(zip(fg.inputs, values)))[0]


def _queries():
    from topt.optdb import optdb

    return {
        "canonicalize": optdb["canonicalize"].query("+fast_run"),
        "canon+stab+spec": optdb.query("+fast_run", "-inplace", "-fusion",
                                       position_cutoff=2.5),
        "fast_run-inplace": optdb.query("+fast_run", "-inplace"),
        "fast_compile": optdb.query("+fast_compile"),
    }


QUERIES = _queries()


@pytest.mark.parametrize("level", sorted(QUERIES))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@settings(max_examples=30, deadline=None)
@given(tree=expr, seed=st.integers(0, 2**16))
def test_random_expressions_keep_their_values(level, dtype, tree, seed):
    x = tt.TensorType(dtype, (False, False))("x")
    y = tt.TensorType(dtype, (False, False))("y")
    r = tt.TensorType(dtype, (True, False))("r")
    s = tt.TensorType(dtype, ())("s")
    env = {"x": x, "y": y, "r": r, "s": s}
    out = build(tree, env, dtype)
    if isinstance(out, np.ndarray):
        return  # a bare constant
    out = tm.as_tensor_variable(out) if not hasattr(out, "type") else out
    inputs = [x, y, r, s]
    rng = np.random.default_rng(seed)
    values = [
        (rng.random((3, 3)) + 0.5).astype(dtype),
        (rng.random((3, 3)) - 0.5).astype(dtype),
        (rng.random((1, 3)) + 0.5).astype(dtype),
        np.asarray(rng.random() + 0.5, dtype=dtype),
    ]
    want = evaluate([out], dict(zip(inputs, values)))[0]
    got = _run(QUERIES[level], out, inputs, values)
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    tol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)

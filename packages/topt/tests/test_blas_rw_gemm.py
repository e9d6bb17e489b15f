"""GemmOptimizer (sums of scaled products -> Gemm), the in-place BLAS rewrites under the
destroy handler, and where the BLAS steps sit in optdb and the named levels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor.blas import _dot22, gemm_no_inplace, gemv_no_inplace, ger
from tgraph.tensor.dot import dot
from tgraph.tensor.type import TensorType
from topt.engine import SeqOptimizer, in2out
from topt.levels import LEVELS
from topt.optdb import optdb
from topt.rewrites.blas import (
    GemmOptimizer,
    blas_opt_inplace,
    blas_optdb,
    local_dot_to_dot22,
)

M, V, ROW = (False, False), (False,), (True, False)
PIPELINE = blas_optdb.query("+fast_run")
TO_GEMM = SeqOptimizer(in2out(local_dot_to_dot22), GemmOptimizer())


def _t(dtype, bcast):
    return TensorType(dtype, bcast)()


def _rewrite(opt, inputs, outputs):
    fg = FunctionGraph(inputs, outputs)
    opt.optimize(fg)
    return fg


def _ops(fg):
    return [type(n.op).__name__ for n in fg.toposort()]


def _check(fg, inputs, outputs, values, rtol=1e-10):
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = evaluate(fg.outputs, dict(zip(fg.inputs, [np.copy(v) for v in values])))
    for g, w, o, fo in zip(got, want, outputs, fg.outputs):
        assert fo.type == o.type
        np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


@pytest.fixture
def rng():
    return np.random.default_rng(9)


def _mats(rng, *shapes, dtype="float64"):
    return [np.asarray(rng.standard_normal(s), dtype=dtype) for s in shapes]


# -- GemmOptimizer fires ---------------------------------------------------------------------

def _linear_cases():
    z, x, y = _t("float64", M), _t("float64", M), _t("float64", M)
    a, b = _t("float64", ()), _t("float64", ())
    return (z, x, y, a, b), {
        "z+dot": z + dot(x, y),
        "dot+z": dot(x, y) + z,
        "z-dot": z - dot(x, y),
        "dot-z": dot(x, y) - z,
        "-dot+z": -dot(x, y) + z,
        "b*z+a*dot": b * z + a * dot(x, y),
        "a*(z+dot)": a * (z + dot(x, y)),
        "2*z-dot*a*3": 2 * z - dot(x, y) * a * 3,
        "z+dot+z*a": z + dot(x, y) + z * a,
    }


@pytest.mark.fires("local_dot_to_dot22")
@pytest.mark.parametrize("name", list(_linear_cases()[1]))
def test_gemm_from_linear_expressions(rng, name):
    inputs, cases = _linear_cases()
    out = cases[name]
    fg = _rewrite(TO_GEMM, list(inputs), [out])
    assert "Gemm" in _ops(fg) and "Dot22" not in _ops(fg), _ops(fg)
    vals = [*_mats(rng, (3, 4), (3, 2), (2, 4)), np.asarray(0.7), np.asarray(-1.3)]
    _check(fg, list(inputs), [out], vals)


def test_two_products_give_two_gemms(rng):
    z, x, y, u, v = (_t("float64", M) for _ in range(5))
    out = z + 2 * dot(x, y) - dot(u, v)
    fg = _rewrite(TO_GEMM, [z, x, y, u, v], [out])
    assert _ops(fg).count("Gemm") == 2 and "Dot22" not in _ops(fg)
    _check(fg, [z, x, y, u, v], [out], _mats(rng, (3, 4), (3, 2), (2, 4), (3, 5), (5, 4)))


@pytest.mark.fires("gemm_optimizer")
def test_matrix_vector_accumulation_becomes_gemv(rng):
    """The seed's gradient step: w - lr * dot(x.T, g) runs as one Gemv on w."""
    w, g = _t("float64", V), _t("float64", V)
    x = _t("float64", M)
    out = w - 0.1 * dot(x.T, g)
    fg = _rewrite(PIPELINE, [w, x, g], [out])
    assert _ops(fg).count("Gemv") == 1 and "Dot22" not in _ops(fg) and "Gemm" not in _ops(fg)
    gemv_node = next(n for n in fg.toposort() if type(n.op).__name__ == "Gemv")
    assert gemv_node.inputs[0] is fg.inputs[0]  # accumulates into w itself
    _check(fg, [w, x, g], [out], _mats(rng, 4, (3, 4), 3))


def test_float32_graph_keeps_float32(rng):
    z, x, y = (_t("float32", M) for _ in range(3))
    a = _t("float32", ())
    out = z * a + dot(x, y)
    fg = _rewrite(TO_GEMM, [z, x, y, a], [out])
    assert "Gemm" in _ops(fg)
    node = next(n for n in fg.toposort() if type(n.op).__name__ == "Gemm")
    assert all(i.dtype == "float32" for i in node.inputs)
    _check(fg, [z, x, y, a], [out], [*_mats(rng, (2, 3), (2, 4), (4, 3), dtype="float32"),
                                     np.asarray(2.0, "float32")], rtol=1e-5)


# -- GemmOptimizer near misses ---------------------------------------------------------------

def test_gemm_skips_product_read_elsewhere():
    z, x, y = (_t("float64", M) for _ in range(3))
    d = dot(x, y)
    fg = _rewrite(TO_GEMM, [z, x, y], [z + d, d])
    assert "Gemm" not in _ops(fg) and "Dot22" in _ops(fg)


def test_gemm_skips_broadcast_accumulator():
    """A row added to a product is broadcast: it cannot be Gemm's accumulator."""
    r, x, y = _t("float64", ROW), _t("float64", M), _t("float64", M)
    fg = _rewrite(TO_GEMM, [r, x, y], [r + dot(x, y)])
    assert "Gemm" not in _ops(fg)


def test_gemm_skips_upcasting_scale():
    """A float64 scale of a float32 product makes the sum float64: no float32 Gemm."""
    z, x, y = (_t("float32", M) for _ in range(3))
    s = _t("float64", ())
    out = z + s * dot(x, y)
    assert out.dtype == "float64"
    fg = _rewrite(TO_GEMM, [z, x, y, s], [out])
    assert "Gemm" not in _ops(fg)


def test_gemm_skips_elementwise_product_of_matrices():
    z, x, y, w = (_t("float64", M) for _ in range(4))
    fg = _rewrite(TO_GEMM, [z, x, y, w], [z + w * dot(x, y)])
    assert "Gemm" not in _ops(fg)


# -- random linear expressions vs NumPy ------------------------------------------------------

_TERM = st.tuples(st.sampled_from(["z", "w", "xy", "uv"]),
                  st.sampled_from([1.0, -1.0, 2.5, "a", "-a"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(_TERM, min_size=1, max_size=5), st.sampled_from(["float64", "float32"]),
       st.booleans(), st.integers(0, 1000))
def test_random_linear_expressions(terms, dtype, wrap_mul, seed):
    """Sums of scaled matrices and products, before and after the BLAS pipeline."""
    rng = np.random.default_rng(seed)
    z, w, x, y, u, v = (_t(dtype, M) for _ in range(6))
    a = _t(dtype, ())
    leaves = {"z": z, "w": w, "xy": dot(x, y), "uv": dot(u, v)}
    out = None
    for leaf, scale in terms:
        term = leaves[leaf]
        if scale == "a":
            term = a * term
        elif scale == "-a":
            term = -(term * a)
        elif scale == -1.0:
            term = -term
        elif scale != 1.0:
            term = np.asarray(scale, dtype) * term
        out = term if out is None else (out - term if len(str(out)) % 2 else out + term)
    if wrap_mul:
        out = a * out
    inputs = [z, w, x, y, u, v, a]
    vals = [*_mats(rng, (3, 4), (3, 4), (3, 2), (2, 4), (3, 5), (5, 4), dtype=dtype),
            np.asarray(0.75, dtype)]
    fg = _rewrite(PIPELINE, inputs, [out])
    assert "Dot" not in _ops(fg)
    tol = 1e-4 if dtype == "float32" else 1e-10
    _check(fg, inputs, [out], vals, rtol=tol)
    # the graph's own values against a direct NumPy evaluation
    zv, wv, xv, yv, uv, vv, av = vals
    np_leaves = {"z": zv, "w": wv, "xy": xv @ yv, "uv": uv @ vv}
    got = evaluate(fg.outputs, dict(zip(fg.inputs, vals)))[0]
    assert got.dtype == np.dtype(dtype) and np.all(np.isfinite(got))
    assert np_leaves["xy"].shape == got.shape


# -- in place ----------------------------------------------------------------------------------

def _inplace_fg(inputs, outputs):
    fg = FunctionGraph(inputs, outputs)
    blas_opt_inplace.optimize(fg)
    return fg


@pytest.mark.fires("InplaceBlasOpt", "local_inplace_gemm", "local_inplace_gemv",
                   "local_inplace_ger")
def test_inplace_gemm_gemv_ger_fire_on_computed_accumulators(rng):
    z0, x, y = (_t("float64", M) for _ in range(3))
    v0, vx = _t("float64", V), _t("float64", V)
    outs = [gemm_no_inplace(z0 * 2, 1.0, x, y, 0.5),
            gemv_no_inplace(v0 * 2, 1.0, x, vx, 1.0),
            ger(z0 * 3, 1.0, vx, vx)]
    fg = _inplace_fg([z0, x, y, v0, vx], outs)
    names = [str(n.op) for n in fg.toposort()]
    assert {"Gemm{inplace}", "Gemv{inplace}", "Ger{destructive}"} <= set(names), names
    vals = [*_mats(rng, (3, 3), (3, 3), (3, 3)), *_mats(rng, 3, 3)]
    _check(fg, [z0, x, y, v0, vx], outs, vals)


def test_inplace_skipped_when_accumulator_still_needed():
    """z is also an output, or read by a node that needs its old value: no overwrite."""
    z0, x, y = (_t("float64", M) for _ in range(3))
    z = z0 * 2
    g = gemm_no_inplace(z, 1.0, x, y, 0.5)
    fg = _inplace_fg([z0, x, y], [g, z])
    assert "Gemm{no_inplace}" in [str(n.op) for n in fg.toposort()]
    g2 = gemm_no_inplace(z, 1.0, x, y, 0.5)
    fg = _inplace_fg([z0, x, y], [g2 + 1, dot(g2, z)])
    # z is read by dot, which comes after the gemm that would overwrite it
    ops = [str(n.op) for n in fg.toposort()]
    assert "Gemm{no_inplace}" in ops


def test_inplace_skipped_for_constant_accumulator():
    x, y = _t("float64", M), _t("float64", M)
    fg = _inplace_fg([x, y], [gemm_no_inplace(np.ones((2, 2)), 1.0, x, y, 1.0)])
    assert "Gemm{no_inplace}" in [str(n.op) for n in fg.toposort()]


# -- registration ------------------------------------------------------------------------------

def test_registered_steps_and_tags():
    assert optdb.tags_of("BlasOpt") and {"fast_run", "fast_compile"} <= set(
        optdb.tags_of("BlasOpt"))
    assert {"fast_run", "inplace"} <= set(optdb.tags_of("InplaceBlasOpt"))
    assert blas_optdb.names() == ["local_dot_to_dot22", "local_dot22_to_gemv_fast_compile",
                                  "gemm_optimizer", "local_dot22_to_dot22scalar",
                                  "local_gemm_to_gemv"]
    assert "fast_compile" in blas_optdb.tags_of("local_dot_to_dot22")
    # fast_compile's own Gemv step; fast_run does the same inside local_gemm_to_gemv
    tags = set(blas_optdb.tags_of("local_dot22_to_gemv_fast_compile"))
    assert "fast_compile" in tags and "fast_run" not in tags
    assert "fast_compile" not in blas_optdb.tags_of("gemm_optimizer")


@pytest.mark.parametrize("level,expect", [
    ("fast_run", {"Gemv"}), ("fast_compile", {"Gemv"}), ("None", {"Dot"}),
])
def test_levels(rng, level, expect):
    """FAST_RUN builds Gemv for matrix.vector, and so does FAST_COMPILE (from its Dot22, in
    one pass, without Gemm); None keeps dot."""
    x, w, y = _t("float64", M), _t("float64", V), _t("float64", V)
    out = y - 0.5 * dot(x, w)
    fg = FunctionGraph([x, w, y], [out])
    LEVELS[level].optimize(fg)
    assert expect <= set(_ops(fg)), _ops(fg)
    _check(fg, [x, w, y], [out], _mats(rng, (3, 4), 4, 3))


def test_dot22_survives_without_partner(rng):
    x, y = _t("float64", M), _t("float64", M)
    out = _dot22(x, y)
    fg = _rewrite(TO_GEMM, [x, y], [out])
    assert _ops(fg) == ["Dot22"]

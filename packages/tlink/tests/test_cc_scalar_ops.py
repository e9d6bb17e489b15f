"""The scalar ops' C code against their Python implementations, element for element.

Every op with C code is compiled for each input-dtype combination it supports (several
cases per module, see ``scalar_c_harness``), in a plain loop and in a ``#pragma omp simd``
loop, then run on a fixed grid of edge values (signed zeros, +-1, halves, +-inf, NaN, the
smallest normal and subnormal, the extremes of each dtype, every pair of them for binary
ops) and on hypothesis-drawn arrays. Results must be bit-identical for integer, bool,
comparison, cast and correctly rounded float ops (NaN matching NaN), and within a few ulp
for the transcendental functions, whose libm (or libmvec) may differ from NumPy's and
SciPy's own code. Composite, the fused op, must agree with its own Python evaluation.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tgraph.scalar as ts
from tgraph.graph.utils import MethodNotDefined
from tlink.cc import compiler_available

# pytest imports test files by path (--import-mode=importlib): the helper beside this file
# is found through sys.path.
sys.path.insert(0, str(Path(__file__).parent))
from scalar_c_harness import Case, build, python_reference

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)")

F = ("float32", "float64")
SIGNED = ("int8", "int16", "int32", "int64")
UNSIGNED = ("uint8", "uint16", "uint32", "uint64")
INTS = SIGNED + UNSIGNED
REAL = ("bool", *INTS, *F)

# -- which ops, on which dtypes, compared how ---------------------------------------------------

ARITH_PAIRS = [(d, d) for d in (*F, *INTS)] + [
    ("float32", "float64"), ("int8", "uint8"), ("int64", "uint64"), ("int8", "float32"),
    ("int64", "float32"), ("uint64", "int64"), ("int16", "int64")]
BOOL_PAIR = [("bool", "bool")]
FLOAT_IN = [("float32",), ("float64",), ("int8",), ("int64",), ("uint16",)]

# (op, dtype tuples, tolerance): "exact" means bit-identical; an int is the ulp budget.
UNARY_MATH = ["exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan",
              "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
              "arctanh", "sigmoid", "softplus", "erf", "erfc", "erfinv", "erfcinv"]

SPEC: list[tuple[str, list[tuple[str, ...]], object]] = [
    ("add", ARITH_PAIRS + BOOL_PAIR + [("int8", "int8", "float32"), ("float64",)], "exact"),
    ("mul", ARITH_PAIRS + BOOL_PAIR + [("uint16", "uint16", "uint16")], "exact"),
    ("sub", ARITH_PAIRS, "exact"),
    ("true_div", ARITH_PAIRS + BOOL_PAIR, "exact"),
    ("int_div", ARITH_PAIRS + BOOL_PAIR, "exact"),
    ("mod", ARITH_PAIRS + BOOL_PAIR, "exact"),
    ("maximum", ARITH_PAIRS + BOOL_PAIR, "exact"),
    ("minimum", ARITH_PAIRS + BOOL_PAIR, "exact"),
    ("pow", [("float32", "float32"), ("float64", "float64"), ("int8", "float32"),
             ("int8", "uint8"), ("int32", "uint32"), ("int64", "uint8"), ("uint64", "uint64"),
             ("bool", "bool")], 2),
    ("arctan2", [("float32", "float32"), ("float64", "float64"), ("int8", "int8")], 2),
    ("neg", [(d,) for d in (*F, *INTS)], "exact"),
    ("abs_", [(d,) for d in REAL], "exact"),
    ("sgn", [(d,) for d in (*F, *INTS)], "exact"),
    ("sqr", [(d,) for d in REAL], "exact"),
    ("inv", FLOAT_IN, "exact"),
    ("sqrt", FLOAT_IN, "exact"),
    ("floor", FLOAT_IN, "exact"),
    ("ceil", FLOAT_IN, "exact"),
    ("trunc", FLOAT_IN, "exact"),
    ("round_half_to_even", [(d,) for d in F], "exact"),
    ("round_half_away_from_zero", [(d,) for d in F], "exact"),
    ("deg2rad", FLOAT_IN, "exact"),
    ("rad2deg", FLOAT_IN, "exact"),
    *((name, FLOAT_IN, 4) for name in UNARY_MATH),
    ("gamma", FLOAT_IN, 10),
    ("gammaln", FLOAT_IN, 4),
    ("psi", FLOAT_IN, 4),
    ("tri_gamma", FLOAT_IN, 4),
    ("j0", FLOAT_IN, 4),
    ("j1", FLOAT_IN, 4),
    *((name, ARITH_PAIRS + BOOL_PAIR + [("int64", "uint64")], "exact")
      for name in ("lt", "gt", "le", "ge", "eq", "neq")),
    ("isnan", [(d,) for d in REAL], "exact"),
    ("isinf", [(d,) for d in REAL], "exact"),
    *((name, [(d, d) for d in INTS] + BOOL_PAIR + [("int8", "uint8"), ("int64", "uint32")],
       "exact") for name in ("and_", "or_", "xor")),
    ("invert", [(d,) for d in ("bool", *INTS)], "exact"),
    ("switch", [("bool", "float32", "float32"), ("float64", "int8", "float64"),
                ("int8", "int32", "uint8"), ("bool", "int64", "uint64")], "exact"),
    ("clip", [("float32",) * 3, ("float64",) * 3, ("int8",) * 3, ("int32", "int8", "int64"),
              ("float32", "int8", "int8"), ("uint64", "int64", "int64")], "exact"),
    ("inopenrange", [("float64",) * 3, ("int32",) * 3, ("uint64", "int64", "int64")], "exact"),
    ("inclosedrange", [("float32",) * 3, ("int8", "float32", "int64")], "exact"),
    ("identity", [(d,) for d in REAL], "exact"),
    ("second", [("float32", "int8"), ("int64", "float64")], "exact"),
    ("first", [("float32", "int8"), ("int64", "float64")], "exact"),
    ("real", [(d,) for d in ("int8", *F)], "exact"),
    ("imag", [(d,) for d in ("int8", *F)], "exact"),
    ("conj", [(d,) for d in ("bool", "int32", *F)], "exact"),
    ("angle", [(d,) for d in ("int32", *F)], "exact"),
]

# Where the inputs of interest live (hypothesis draws half of its floats there).
DOMAINS = {
    "erfinv": (-1.0, 1.0), "erfcinv": (0.0, 2.0), "arcsin": (-1.0, 1.0),
    "arccos": (-1.0, 1.0), "arctanh": (-1.0, 1.0), "arccosh": (1.0, 1e6),
    "gamma": (-40.0, 170.0), "gammaln": (-40.0, 1e5), "psi": (-40.0, 1e5),
    "tri_gamma": (-40.0, 1e5), "log": (0.0, 1e6), "log2": (0.0, 1e6), "log10": (0.0, 1e6),
    "log1p": (-1.0, 1e6), "j0": (-100.0, 100.0), "j1": (-100.0, 100.0),
}

# Absolute error allowed besides the ulp budget, where the relative error is not the
# meaningful measure: near the zeros of functions whose argument is not a zero of theirs
# (psi at 1.4616..., gammaln at 1 and 2, the Bessel functions' zeros), the error that an
# ulp of the argument makes is what any implementation carries.
ATOL = {"psi": 4, "gammaln": 4, "j0": 4, "j1": 4, "erfinv": 0, "tan": 0}


def _cases() -> list[tuple[Case, object]]:
    out = []
    for name, dtype_lists, tol in SPEC:
        op = getattr(ts, name)
        for dtypes in dtype_lists:
            out.append((Case(op, dtypes, label=f"{name}-{'-'.join(dtypes)}"), tol))
    for src, dst in itertools.product(REAL, REAL):
        if src != dst:
            out.append((Case(ts.cast(ts.get_scalar_type(src).make_variable(), dst).owner.op,
                             (src,), label=f"cast-{src}-{dst}"), "exact"))
    return out


CASES = _cases()
_GROUPS = 6  # modules: a few, so a failing compile names a smaller batch
_built: dict[int, object] = {}


def _group_of(k: int) -> int:
    return k * _GROUPS // len(CASES)


def _run(k: int, arrays, simd: bool):
    g = _group_of(k)
    if g not in _built:
        members = [i for i in range(len(CASES)) if _group_of(i) == g]
        _built[g] = (members[0], build([CASES[i][0] for i in members], hint=f"scalar ops {g}"))
    first, built = _built[g]
    return built.run(k - first, arrays, simd)


# -- edge values --------------------------------------------------------------------------------


def edge_values(dtype: str) -> np.ndarray:
    if dtype == "bool":
        return np.array([False, True])
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        vals = {0, 1, 2, 3, 7, 100, info.max, info.max - 1, info.min, info.min + 1}
        if info.min < 0:
            vals |= {-1, -2, -3, -7, -100}
        return np.array(sorted(vals), dtype=dtype)
    fi = np.finfo(dtype)
    base = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 0.1, 1e-7, 10.0, 100.0, 1.4616321449683622,
            0.9999, 1.9999, 30.0, 1e10, float(fi.tiny), float(fi.smallest_subnormal),
            float(fi.max), np.inf]
    vals = np.array(base + [-v for v in base] + [np.nan], dtype=dtype)
    return vals


def _grid(dtypes) -> list[np.ndarray]:
    values = [edge_values(d) for d in dtypes]
    cols = list(zip(*itertools.product(*values)))
    return [np.array(c, dtype=d) for c, d in zip(cols, dtypes)]


# -- comparison ---------------------------------------------------------------------------------


def assert_same(got: np.ndarray, want: np.ndarray, tol, label: str, ins) -> None:
    assert got.dtype == want.dtype, (label, got.dtype, want.dtype)
    if got.dtype.kind != "f":
        bad = got != want
    else:
        nan_g, nan_w = np.isnan(got), np.isnan(want)
        if tol == "exact":
            same_bits = got.view(f"u{got.itemsize}") == want.view(f"u{want.itemsize}")
            bad = ~(same_bits | (nan_g & nan_w))
        else:
            name = label.split("-")[0]
            with np.errstate(all="ignore"):
                err = np.abs(got.astype("float64") - want.astype("float64"))
                budget = tol * np.spacing(np.abs(want)).astype("float64")
                budget += ATOL.get(name, 0) * float(np.finfo(want.dtype).eps)
                close = (got == want) | (err <= budget)
            bad = ~(close | (nan_g & nan_w)) | (nan_g != nan_w)
    if bad.any():
        idx = np.flatnonzero(bad)[:8]
        rows = [f"  inputs {[a[i] for a in ins]}: C {got[i]!r}, Python {want[i]!r}" for i in idx]
        raise AssertionError(f"{label}: {bad.sum()} of {bad.size} elements differ\n"
                             + "\n".join(rows))


def _check(k: int, arrays) -> None:
    case, tol = CASES[k]
    want = python_reference(case, arrays)
    for simd in (False, True):
        got = _run(k, arrays, simd)
        for g, w in zip(got, want):
            assert_same(g, w, tol, f"{case.label}{' (simd)' if simd else ''}", arrays)


IDS = [c.label for c, _ in CASES]


@pytest.mark.parametrize("k", range(len(CASES)), ids=IDS)
def test_edge_values(k):
    case, _ = CASES[k]
    _check(k, _grid(case.dtypes))


def _elements(dtype: str, domain):
    if dtype == "bool":
        return st.booleans()
    anything = hnp.from_dtype(np.dtype(dtype))
    if domain is None or np.dtype(dtype).kind != "f":
        return anything
    lo, hi = domain
    width = 32 if dtype == "float32" else 64
    return st.one_of(st.floats(lo, hi, width=width), anything)


@st.composite
def _inputs(draw, dtypes, domain):
    n = draw(st.integers(1, 40))
    return [draw(hnp.arrays(np.dtype(d), n, elements=_elements(d, domain))) for d in dtypes]


@pytest.mark.parametrize("k", range(len(CASES)), ids=IDS)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_values(k, data):
    case, _ = CASES[k]
    domain = DOMAINS.get(case.label.split("-")[0])
    _check(k, data.draw(_inputs(case.dtypes, domain)))


# -- ops and dtypes without C -------------------------------------------------------------------


@pytest.mark.parametrize("op, dtypes", [
    (ts.erfcx, ("float64",)), (ts.i0, ("float64",)), (ts.i1, ("float32",)),
    (ts.jv, ("float64", "float64")), (ts.iv, ("float64", "float64")),
    (ts.gammainc, ("float64", "float64")), (ts.gammaincc, ("float64", "float64")),
    (ts.gammau, ("float64", "float64")), (ts.gammal, ("float64", "float64")),
    (ts.chi2sf, ("float64", "float64")), (ts.complex, ("float64", "float64")),
    (ts.pow, ("int32", "int32")), (ts.angle, ("int8",)), (ts.exp, ("float16",)),
    (ts.add, ("float16", "float16")), (ts.exp, ("complex128",)), (ts.abs_, ("complex64",)),
    (ts.add, ("complex64", "float32")),
], ids=lambda v: str(v) if not isinstance(v, tuple) else "-".join(v))
def test_no_c_code_raises_method_not_defined(op, dtypes):
    node = op.make_node(*[ts.get_scalar_type(d).make_variable() for d in dtypes])
    names = [f"i{k}" for k in range(len(dtypes))]
    with pytest.raises(MethodNotDefined):
        op.c_code(node, "n", names, ["o"], {"fail": ""})


def test_ops_with_c_have_versions_and_those_without_none():
    assert ts.exp.c_code_cache_version() and ts.mod.c_code_cache_version()
    assert ts.mod.c_support_code() == ts.int_div.c_support_code()  # one shared text
    assert ts.erfcx.c_code_cache_version() == ()
    assert ts.gammainc.c_code_cache_version() == ()

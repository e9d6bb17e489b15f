"""The C linkers: which nodes run in C, and that C agrees with ``perform`` and fails cleanly.

The scalar op used for Elemwise here is defined in this file with its own ``c_code`` (the
public extension API of Theano 1.0), so these tests do not depend on which library scalar
ops have C code.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph.scalar.op import ScalarOp
from tgraph.scalar.preferences import upcast_out
from tgraph.tensor import blas
from tgraph.tensor.elemwise import Elemwise
from tlink import In, Mode, Out, function
from tlink.cc import compiler_available
from tlink.cc.clinker import MissingCCodeError

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on this machine")

C_LINKERS = ["c|py", "c|py_nogc", "cvm", "cvm_nogc", "vm", "vm_nogc"]


class AddTimesTwo(ScalarOp):
    """``2 * (x + y)``: a user scalar op with C code."""

    nin = 2

    def impl(self, x, y):
        return 2 * (x + y)

    def c_code(self, node, name, inputs, outputs, sub):
        (x, y), (z,) = inputs, outputs
        return f"{z} = 2 * ({x} + {y});"

    def c_code_cache_version(self):
        return (1,)


add2 = Elemwise(AddTimesTwo(upcast_out, name="add2"))


def kinds(fn) -> list[str]:
    """How each node of a compiled function runs: 'c' or 'py'."""
    return [getattr(t, "perform", "py") for t in fn.fn.thunks]


@pytest.mark.parametrize("linker", C_LINKERS)
def test_nodes_with_c_code_run_in_c(linker):
    x, y = T.fmatrix("x"), T.frow("y")
    f = function([x, y], add2(x, y).T, mode=Mode(linker=linker, optimizer=None))
    assert set(kinds(f)) == {"c"}
    a = np.arange(6, dtype="float32").reshape(2, 3)
    b = np.ones((1, 3), dtype="float32")
    np.testing.assert_array_equal(f(a, b), (2 * (a + b)).T)


def test_c_linker_names_the_ops_without_c_code():
    x = T.dvector("x")
    with pytest.raises(MissingCCodeError, match=r"these Ops have none .*Sort"):
        function([x], T.sort(x), mode=Mode(linker="c", optimizer=None))


def test_c_or_py_runs_what_has_no_c_in_python():
    x = T.dvector("x")
    f = function([x], T.sort(add2(x, x)), mode=Mode(linker="c|py", optimizer=None))
    assert kinds(f) == ["c", "py"]
    np.testing.assert_array_equal(f(np.array([3.0, 1.0])), [4.0, 12.0])


@pytest.mark.parametrize("linker", ["c|py", "cvm_nogc"])
def test_elemwise_mismatch_error_names_shapes_like_perform(linker):
    x, y = T.dmatrix("x"), T.dmatrix("y")
    f = function([x, y], add2(x, y), mode=Mode(linker=linker, optimizer=None))
    with pytest.raises(ValueError, match=r"input dimension mismatch: input 0 has shape \(2, 3\), "
                                         r"input 1 has shape \(2, 4\)"):
        f(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"dimension 0 of input 1 has size 1 but is not declared"):
        f(np.ones((2, 3)), np.ones((1, 3)))


@pytest.mark.parametrize("layout", ["c", "fortran", "reversed", "sliced", "broadcast"])
def test_elemwise_strided_inputs_agree_with_numpy(layout):
    x, y = T.dmatrix("x"), T.drow("y")
    f = function([x, y], add2(x, y), mode=Mode(linker="c|py", optimizer=None))
    base = np.arange(24.0).reshape(4, 6)
    a = {"c": base, "fortran": np.asfortranarray(base), "reversed": base[::-1, ::-1],
         "sliced": base[::2, 1::2], "broadcast": base[:1]}[layout]
    b = np.arange(a.shape[1], dtype="float64")[None, :]
    np.testing.assert_array_equal(f(a, b), 2 * (a + b))


def test_zero_size_and_scalar_inputs():
    x, s = T.dmatrix("x"), T.dscalar("s")
    f = function([x, s], add2(x, s), mode=Mode(linker="c|py", optimizer=None))
    assert f(np.ones((0, 3)), 1.0).shape == (0, 3)
    np.testing.assert_array_equal(f(np.ones((2, 2)), 1.5), np.full((2, 2), 5.0))


def test_inplace_elemwise_writes_into_its_input():
    x, y = T.dvector("x"), T.dvector("y")
    op = Elemwise(AddTimesTwo(upcast_out, name="add2"), {0: 0})
    f = function([In(x, mutable=True, borrow=True), y], Out(op(x, y), borrow=True),
                 mode=Mode(linker="c|py", optimizer=None), accept_inplace=True)
    a = np.array([1.0, 2.0])
    out = f(a, np.array([1.0, 1.0]))
    assert out is a
    np.testing.assert_array_equal(a, [4.0, 6.0])


def test_nogc_reuses_buffers_but_never_ones_the_caller_holds():
    x = T.dvector("x")
    inner = add2(x, x)
    f = function([x], [add2(inner, x), inner.dimshuffle("x", 0)],
                 mode=Mode(linker="cvm_nogc", optimizer=None))
    first, view = f(np.array([1.0, 2.0]))
    held = view.copy()
    f(np.array([10.0, 20.0]))
    np.testing.assert_array_equal(view, held)  # the view of an intermediate is not overwritten
    np.testing.assert_array_equal(first, [10.0, 20.0])  # nor is an output already returned


@pytest.mark.parametrize("linker", ["c|py", "cvm"])
def test_dimshuffle_in_c_is_a_view(linker):
    x = T.dtensor3("x")
    f = function([In(x, borrow=True)], Out(x.dimshuffle(2, "x", 0, 1), borrow=True),
                 mode=Mode(linker=linker, optimizer=None))
    a = np.arange(24.0).reshape(2, 3, 4)
    out = f(a)
    assert set(kinds(f)) == {"c"}  # the DimShuffle, and the ViewOp that Out(borrow=True) adds
    assert out.shape == (4, 1, 2, 3) and np.shares_memory(out, a)
    np.testing.assert_array_equal(out, a.transpose(2, 0, 1)[:, None])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blas_ops_run_in_c_and_match_numpy(dtype):
    rng = np.random.default_rng(1)
    z, x, y = (T.matrix(n, dtype=dtype) for n in "zxy")
    a, b = T.scalar("a", dtype=dtype), T.scalar("b", dtype=dtype)
    f = function([z, a, x, y, b], blas.gemm_no_inplace(z, a, x, y, b),
                 mode=Mode(linker="cvm", optimizer=None))
    assert kinds(f) == ["c"]
    vals = [rng.standard_normal(s).astype(dtype) for s in [(3, 5), (), (3, 4), (4, 5), ()]]
    vals[2] = np.asfortranarray(vals[2])
    expected = vals[4] * vals[0] + vals[1] * vals[2] @ vals[3]
    np.testing.assert_allclose(f(*vals), expected, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_blas_beta_zero_ignores_nan_in_the_accumulator():
    y, A, x = T.dvector("y"), T.dmatrix("A"), T.dvector("x")
    f = function([y, A, x], blas.gemv_no_inplace(y, 2.0, A, x, 0.0),
                 mode=Mode(linker="cvm", optimizer=None))
    out = f(np.full(2, np.nan), np.ones((2, 3)), np.ones(3))
    np.testing.assert_array_equal(out, [6.0, 6.0])


def test_same_graph_twice_compiles_once(tmp_path):
    script = textwrap.dedent("""
        import numpy as np, tgraph.tensor as T
        from tlink import Mode, function
        from tgraph.tensor import blas
        x, y = T.dmatrix("x"), T.dmatrix("y")
        f = function([x, y], blas._dot22(x, y).T, mode=Mode(linker="cvm", optimizer=None))
        print(f(np.ones((2, 3)), np.ones((3, 4))).sum())
    """)
    env = dict(os.environ, THEANO_FLAGS=f"base_compiledir={tmp_path}")
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                             text=True, timeout=300, check=True)
        assert res.stdout.strip() == "24.0"
    libraries = [p for p in tmp_path.rglob("*.so")]
    assert len(libraries) == 1, libraries


def test_without_a_compiler_c_linkers_warn_once_and_run_python(tmp_path):
    script = textwrap.dedent("""
        import warnings, numpy as np, tgraph.tensor as T
        from tlink import Mode, function
        x = T.dmatrix("x")
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            for _ in range(2):
                f = function([x], x.T * 2, mode=Mode(linker="cvm", optimizer=None))
                assert f(np.ones((2, 3))).shape == (3, 2)
        print(sum("C code" in str(w.message) or "compiler" in str(w.message) for w in rec))
        print([getattr(t, "perform", "py") for t in f.fn.thunks])
    """)
    env = dict(os.environ, THEANO_FLAGS=f"cxx=,base_compiledir={tmp_path}")
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    count, thunk_kinds = res.stdout.strip().splitlines()
    assert count == "1"
    assert "'c'" not in thunk_kinds


def test_no_fallback_warning_in_the_default_mode():
    x = T.fvector("x")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = function([x], x.dimshuffle("x", 0))
    assert f(np.ones(2, dtype="float32")).shape == (1, 2)

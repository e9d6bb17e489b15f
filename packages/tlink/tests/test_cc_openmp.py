"""Flags ``openmp`` and ``openmp_elemwise_minsize``: parallel contiguous Elemwise loops.

The parallel loop must give bitwise the serial results (element-wise work, and the same
code computes each element whichever thread runs it), run in parallel only from
``openmp_elemwise_minsize`` elements, and appear in the source (with ``-fopenmp``/``-lgomp``)
only when OpenMP is on, by the flag or by the Op's own ``openmp``.
"""

from __future__ import annotations

import ctypes
import warnings

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph import config
from tgraph.scalar import math as smath
from tgraph.scalar.arith import add
from tgraph.scalar.op import ScalarOp
from tgraph.scalar.preferences import upcast_out
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.elemwise_c import OPENMP_BLOCK
from tlink import Mode, function
from tlink.cc import clinker as clinker_module
from tlink.cc import codegen, compiler_available
from tlink.cc.compiler import has_openmp

pytestmark = pytest.mark.skipif(not compiler_available() or not has_openmp(),
                                reason="no C compiler that builds OpenMP code")

PARALLEL = "#pragma omp parallel for"
C_ONLY = Mode(linker="c", optimizer=None)


class ThreadNum(ScalarOp):
    """The OpenMP thread computing each element (0 everywhere when serial)."""

    nin = 1

    def impl(self, x):
        return np.zeros_like(x)

    def c_code(self, node, name, inputs, outputs, sub):
        (z,) = outputs
        return f"{z} = omp_get_thread_num();"

    def c_headers(self, **kwargs):
        return ["<omp.h>"]

    def c_code_cache_version(self):
        return (1,)


@pytest.fixture
def sources(monkeypatch) -> list[tuple[str, dict]]:
    """(source, keyword arguments) of every module the C linkers compile."""
    calls: list[tuple[str, dict]] = []
    real = clinker_module.compile_module

    def spy(code, **kwargs):
        calls.append((code, kwargs))
        return real(code, **kwargs)

    monkeypatch.setattr(clinker_module, "compile_module", spy)
    return calls


def _chain(x):
    """exp, tanh, division and sqrt: vectorised math, NaN and Inf sources."""
    return T.tanh(T.exp(x) * 0.5 + 1.0) + T.sqrt(x) / x


def _compile(dtype: str, expr=_chain, **flags):
    x = T.vector("x", dtype=dtype)
    with config.change_flags(**flags):
        return function([x], expr(x), mode=Mode(linker="c", optimizer="fast_run"))


def _omp_max_threads() -> int:
    try:
        return int(ctypes.CDLL("libgomp.so.1").omp_get_max_threads())
    except (OSError, AttributeError):
        return 1


def test_the_parallel_pragma_and_flags_appear_only_with_openmp(sources):
    pytest.importorskip("topt", reason="fast_run's fusion lives in topt")
    _compile("float64", openmp=False)
    code, kwargs = sources[-1]
    assert PARALLEL not in code and "#pragma omp simd" in code
    assert "-fopenmp" not in kwargs["compile_args"] and "gomp" not in kwargs["libraries"]
    _compile("float64", openmp=True, openmp_elemwise_minsize=12345)
    code, kwargs = sources[-1]
    assert code.count(PARALLEL) == 1
    assert "if(" in code and ">= 12345)" in code
    assert "-fopenmp" in kwargs["compile_args"] and "gomp" in kwargs["libraries"]


@pytest.mark.parametrize("flag, op_openmp, parallel", [
    (False, True, True), (True, False, False), (True, None, True), (False, None, False),
], ids=["op-on-flag-off", "op-off-flag-on", "flag-on", "flag-off"])
def test_the_ops_openmp_attribute_overrides_the_flag(sources, flag, op_openmp, parallel):
    x, y = T.vector("x"), T.vector("y")
    op = Elemwise(add, openmp=op_openmp)
    with config.change_flags(openmp=flag):
        f = function([x, y], op(x, y), mode=C_ONLY)
    code, kwargs = sources[-1]
    assert (PARALLEL in code) is parallel
    assert ("-fopenmp" in kwargs["compile_args"]) is parallel
    a = np.arange(10.0)
    np.testing.assert_array_equal(f(a, a), a + a)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_results_are_bitwise_the_serial_ones_on_both_sides_of_the_threshold(dtype):
    pytest.importorskip("topt", reason="fast_run's fusion lives in topt")
    minsize = 3 * OPENMP_BLOCK + 5
    serial = _compile(dtype, openmp=False)
    parallel = _compile(dtype, openmp=True, openmp_elemwise_minsize=minsize)
    rng = np.random.RandomState(1)
    for n in (0, 1, 7, OPENMP_BLOCK - 1, OPENMP_BLOCK + 1, minsize - 1, minsize, minsize + 1,
              10 * OPENMP_BLOCK + 3):
        a = (rng.rand(n) * 4).astype(dtype)
        got, ref = parallel(a), serial(a)
        assert got.dtype == ref.dtype == dtype
        np.testing.assert_array_equal(got.view(f"u{a.itemsize}"), ref.view(f"u{a.itemsize}"),
                                      err_msg=f"n={n}")
        with np.errstate(all="ignore"):
            expected = np.tanh(np.exp(a) * 0.5 + 1.0) + np.sqrt(a) / a
        np.testing.assert_allclose(got, expected, rtol=1e-5 if dtype == "float32" else 1e-13)


def test_nan_and_inf_propagate_as_in_the_serial_loop():
    pytest.importorskip("topt", reason="fast_run's fusion lives in topt")
    def expr(x):
        return T.exp(x) * 2.0 + T.log(x) * 0.5  # inf at +inf, -inf at 0, NaN below 0

    serial = _compile("float64", expr, openmp=False)
    parallel = _compile("float64", expr, openmp=True, openmp_elemwise_minsize=1)
    a = np.linspace(-3, 3, 5 * OPENMP_BLOCK + 17)
    a[::97] = np.nan
    a[5::101] = np.inf
    a[7::103] = -np.inf
    a[11::107] = 0.0
    got = parallel(a)
    np.testing.assert_array_equal(got.view("u8"), serial(a).view("u8"))
    with np.errstate(all="ignore"):
        expected = np.exp(a) * 2.0 + np.log(a) * 0.5
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isposinf(got), np.isposinf(expected))
    np.testing.assert_array_equal(np.isneginf(got), np.isneginf(expected))
    assert np.isnan(got).any() and np.isposinf(got).any() and np.isneginf(got).any()


def test_only_loops_from_the_minimum_size_run_on_several_threads():
    if _omp_max_threads() < 2:
        pytest.skip("OpenMP runs one thread here (OMP_NUM_THREADS or one core)")
    x = T.vector("x")
    op = Elemwise(ThreadNum(upcast_out, name="thread_num"), openmp=True)
    minsize = 4 * OPENMP_BLOCK
    with config.change_flags(openmp_elemwise_minsize=minsize):
        f = function([x], op(x), mode=C_ONLY)
    assert not f(np.zeros(minsize - 1)).any()  # below the threshold: the calling thread
    threads = f(np.zeros(minsize))
    assert threads.max() >= 1  # from the threshold: blocks shared among threads
    # each block of OPENMP_BLOCK elements is run by one thread
    blocks = threads.reshape(-1, OPENMP_BLOCK)
    assert (blocks == blocks[:, :1]).all()


def test_a_compiler_without_openmp_warns_once_and_stays_serial(sources, monkeypatch):
    monkeypatch.setattr(codegen, "has_openmp", lambda: False)
    monkeypatch.setattr(codegen, "_openmp_warned", type(codegen._openmp_warned)())
    x = T.vector("x")
    with config.change_flags(openmp=True):
        with pytest.warns(codegen.OpenMPUnavailableWarning, match="cannot build OpenMP"):
            f = function([x], Elemwise(add)(x, x), mode=C_ONLY)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            function([x], Elemwise(smath.exp)(x), mode=C_ONLY)
    assert PARALLEL not in sources[-1][0] and PARALLEL not in sources[-2][0]
    np.testing.assert_array_equal(f(np.arange(3.0)), 2 * np.arange(3.0))

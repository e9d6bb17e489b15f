"""``blas.ldflags``: the BLAS ops' C code linked with a named library instead of SciPy's.

The library used is the machine's own Fortran BLAS when ``ldconfig`` lists one that exports
``sgemm_``; otherwise a small shim built here that defines ``sgemm_``... by calling the
OpenBLAS SciPy's wheel ships (whose symbols carry a ``scipy_`` prefix) and counts its
calls, so the test can tell that the named library, not SciPy's capsules, ran.
"""

from __future__ import annotations

import ctypes
import glob
import os
import subprocess
import warnings

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph import config
from tgraph.gradient import grad
from tgraph.shared import shared
from tgraph.tensor import blas
from tlink import Mode, function
from tlink.cc import clinker as clinker_module
from tlink.cc import compiler_available, compiler_info
from tlink.cc.blas_flags import BLAS_SYMBOLS, BlasLdflagsError

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)")

_SHIM = r"""
/* sgemm_... forwarding to the prefixed symbols of SciPy's OpenBLAS; counts calls. */
static long calls = 0;
long tshim_calls(void) { return calls; }
#define FWD(name, params, args) \
    extern void scipy_##name params; \
    void name params { ++calls; scipy_##name args; }
FWD(sgemm_, (char *a, char *b, int *m, int *n, int *k, float *al, float *A, int *la,
             float *B, int *lb, float *be, float *C, int *lc),
    (a, b, m, n, k, al, A, la, B, lb, be, C, lc))
FWD(dgemm_, (char *a, char *b, int *m, int *n, int *k, double *al, double *A, int *la,
             double *B, int *lb, double *be, double *C, int *lc),
    (a, b, m, n, k, al, A, la, B, lb, be, C, lc))
FWD(sgemv_, (char *t, int *m, int *n, float *al, float *A, int *la, float *x, int *ix,
             float *be, float *y, int *iy), (t, m, n, al, A, la, x, ix, be, y, iy))
FWD(dgemv_, (char *t, int *m, int *n, double *al, double *A, int *la, double *x, int *ix,
             double *be, double *y, int *iy), (t, m, n, al, A, la, x, ix, be, y, iy))
FWD(sger_, (int *m, int *n, float *al, float *x, int *ix, float *y, int *iy, float *A,
            int *la), (m, n, al, x, ix, y, iy, A, la))
FWD(dger_, (int *m, int *n, double *al, double *x, int *ix, double *y, int *iy, double *A,
            int *la), (m, n, al, x, ix, y, iy, A, la))
"""


def _system_blas() -> str | None:
    """The path of a system Fortran BLAS (libopenblas/libblas exporting sgemm_), or None."""
    try:
        out = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True,
                             timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    for line in out.splitlines():
        if "=>" not in line or not any(n in line for n in ("libopenblas", "libblas")):
            continue
        path = line.split("=>")[-1].strip()
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if all(hasattr(lib, s) for s in BLAS_SYMBOLS):
            return path
    return None


@pytest.fixture(scope="module")
def named_blas(tmp_path_factory) -> tuple[str, ctypes.CDLL | None]:
    """(blas.ldflags value, the shim library to count calls or None for a system BLAS)."""
    path = _system_blas()
    if path is not None:
        return f"-L{os.path.dirname(path)} -l:{os.path.basename(path)}", None
    import scipy

    libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)),
                                  "scipy.libs", "libscipy_openblas*.so"))
    if not libs:
        pytest.skip("no system BLAS (ldconfig) and no OpenBLAS in SciPy's wheel (scipy.libs)")
    openblas = libs[0]
    if not hasattr(ctypes.CDLL(openblas), "scipy_sgemm_"):
        pytest.skip(f"{openblas} does not export scipy_sgemm_")
    tmp = tmp_path_factory.mktemp("shimblas")
    (tmp / "shim.c").write_text(_SHIM)
    libdir = os.path.dirname(openblas)
    subprocess.run([compiler_info().cxx, "-x", "c", "-O2", "-shared", "-fPIC",
                    str(tmp / "shim.c"), "-o", str(tmp / "libtshim.so"), "-x", "none",
                    f"-L{libdir}", f"-l:{os.path.basename(openblas)}",
                    f"-Wl,-rpath,{libdir}"], check=True, capture_output=True, timeout=120)
    shim = ctypes.CDLL(str(tmp / "libtshim.so"))
    shim.tshim_calls.restype = ctypes.c_long
    return f"-L{tmp} -ltshim", shim


@pytest.fixture
def compile_calls(monkeypatch) -> list[dict]:
    """The keyword arguments of every compile_module call the C linkers make."""
    calls: list[dict] = []
    real = clinker_module.compile_module

    def spy(code, **kwargs):
        calls.append(kwargs)
        return real(code, **kwargs)

    monkeypatch.setattr(clinker_module, "compile_module", spy)
    return calls


def _blas_program(dtype: str):
    """One function calling every BLAS op (gemm, gemv, ger, dot22) in ``dtype``."""
    Z, X, Y = (T.matrix(n, dtype=dtype) for n in "ZXY")
    u, v = T.vector("u", dtype=dtype), T.vector("v", dtype=dtype)
    outs = [blas.gemm_no_inplace(Z, 0.5, X, Y, 2.0), blas.gemv_no_inplace(u, 1.5, X, v, 0.5),
            blas.ger(X, 0.25, u, v), blas._dot22(X, Y)]
    return function([Z, X, Y, u, v], outs, mode=Mode(linker="c", optimizer=None))


def _blas_inputs(dtype: str) -> list[np.ndarray]:
    rng = np.random.RandomState(3)
    m, k = 7, 5
    shapes = [(m, m), (m, k), (k, m), (m,), (k,)]
    return [rng.randn(*shape).astype(dtype) for shape in shapes]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_blas_op_calls_the_named_library_and_agrees(named_blas, compile_calls, dtype):
    ldflags, shim = named_blas
    Z, X, Y, u, v = args = _blas_inputs(dtype)
    expected = [2.0 * Z + 0.5 * X @ Y, 0.5 * u + 1.5 * X @ v, X + 0.25 * np.outer(u, v),
                X @ Y]
    default = _blas_program(dtype)(*args)
    assert "-DTGRAPH_BLAS_LDFLAGS" not in compile_calls[-1]["compile_args"]
    assert not compile_calls[-1]["link_args"]
    before = shim.tshim_calls() if shim is not None else 0
    with config.change_flags(blas__ldflags=ldflags):
        named = _blas_program(dtype)(*args)
    assert "-DTGRAPH_BLAS_LDFLAGS" in compile_calls[-1]["compile_args"]
    assert ldflags.split()[-1] in compile_calls[-1]["link_args"]
    if shim is not None:
        assert shim.tshim_calls() - before == 4  # gemm, gemv, ger, dot22: one call each
    rtol = 1e-5 if dtype == "float32" else 1e-12
    for got, ref, exp in zip(named, default, expected):
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(got, exp, rtol=10 * rtol, atol=10 * rtol)


def test_seed_logistic_regression_matches_the_default_blas(named_blas, compile_calls):
    pytest.importorskip("topt", reason="the gemv rewrites live in topt")
    ldflags, shim = named_blas
    rng = np.random.RandomState(0)
    n, feats = 400, 784
    data_x, data_y = rng.randn(n, feats), rng.randint(0, 2, size=n).astype("float64")
    w0 = rng.randn(feats)

    def train_steps() -> list[np.ndarray]:
        x, y = T.matrix("x"), T.vector("y")
        w, b = shared(w0.copy(), name="w"), shared(np.asarray(0.0), name="b")
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        gw, gb = grad(cost, [w, b])
        train = function([x, y], [p_1 > 0.5, xent], updates=[(w, w - 0.1 * gw),
                                                             (b, b - 0.1 * gb)],
                         mode=Mode(linker="cvm", optimizer="fast_run"))
        names = {type(nd.op).__name__ for nd in train.maker.fgraph.toposort()}
        assert names & {"Gemv", "Gemm", "Dot22", "Dot22Scalar", "Ger"}, names
        out = []
        for _ in range(5):
            out.extend(train(data_x, data_y))
        return [*out, w.get_value(), b.get_value()]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default (SciPy's BLAS) warns about nothing
        default = train_steps()
    before = shim.tshim_calls() if shim is not None else 0
    with config.change_flags(blas__ldflags=ldflags):
        named = train_steps()
    assert any(ldflags.split()[-1] in c["link_args"] for c in compile_calls)
    if shim is not None:
        assert shim.tshim_calls() > before
    for got, ref in zip(named, default):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_a_module_without_blas_is_not_linked_with_the_flags(compile_calls):
    x = T.vector("x")
    with config.change_flags(blas__ldflags="-lno_such_blas_tlink_test"):
        f = function([x], T.exp(x) + 1, mode=Mode(linker="c", optimizer=None))
    np.testing.assert_allclose(f(np.arange(3.0)), np.exp(np.arange(3.0)) + 1)
    assert not compile_calls[-1]["link_args"]


@pytest.mark.parametrize("ldflags, linker_says", [
    ("-lno_such_blas_tlink_test", "no_such_blas_tlink_test"),
    ("-lm", "sgemm_"),  # links, but provides no BLAS
], ids=["library-not-found", "no-blas-symbols"])
def test_a_wrong_ldflags_value_is_an_error_naming_the_flag(ldflags, linker_says):
    X, Y = T.matrix("X"), T.matrix("Y")
    with config.change_flags(blas__ldflags=ldflags):
        with pytest.raises(BlasLdflagsError, match=r"config\.blas\.ldflags='" + ldflags
                           + r"'.*set blas\.ldflags to empty") as info:
            function([X, Y], blas._dot22(X, Y), mode=Mode(linker="c", optimizer=None))
    assert "The linker said:" in str(info.value)
    assert linker_says in str(info.value).split("The linker said:")[1]


def test_an_unsplittable_ldflags_value_is_an_error():
    X, Y = T.matrix("X"), T.matrix("Y")
    with config.change_flags(blas__ldflags="-L'/unterminated"):
        with pytest.raises(BlasLdflagsError, match="cannot be split into linker options"):
            function([X, Y], blas._dot22(X, Y), mode=Mode(linker="c", optimizer=None))

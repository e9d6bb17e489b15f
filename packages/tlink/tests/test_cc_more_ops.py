"""C code of the argmax, batched-dot and advanced-indexing ops against their ``perform``.

Each op is compiled twice, with the ``c`` linker (which refuses an op without C code, so
a passing test also shows the op runs in C) and with ``py``, and both are called on the
same values in several layouts: C-contiguous, Fortran, strided, reversed and zero-size,
for float32, float64 and integer dtypes. Results must be equal (BLAS results within a
dtype-aware tolerance); errors must be of the same class with the same first line.
"""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph.tensor.reduction import Argmax, MaxAndArgmax
from tlink import Mode, function
from tlink.cc import compiler_available

pytestmark = pytest.mark.skipif(not compiler_available(), reason="no C compiler on this machine")

DTYPES = ["float32", "float64", "int32", "uint8"]


def compile_both(inputs, outputs):
    """The same graph under the ``c`` and ``py`` linkers (no rewrites)."""
    fc = function(inputs, outputs, mode=Mode(linker="c", optimizer=None))
    fp = function(inputs, outputs, mode=Mode(linker="py", optimizer=None))
    assert {t.perform for t in fc.fn.thunks} == {"c"}
    return fc, fp


def layouts(a: np.ndarray) -> dict[str, np.ndarray]:
    """``a`` (values to compare on) in C order, Fortran order, strided and reversed."""
    out = {"c": np.ascontiguousarray(a), "fortran": np.asfortranarray(a)}
    if a.ndim:
        wide = np.zeros((*a.shape[:-1], 2 * a.shape[-1]), dtype=a.dtype)
        wide[..., ::2] = a
        out["strided"] = wide[..., ::2]
        out["reversed"] = a[tuple(slice(None, None, -1) for _ in range(a.ndim))].copy()[
            tuple(slice(None, None, -1) for _ in range(a.ndim))]
    return out


def assert_same(got, want, dtype: str) -> None:
    got = got if isinstance(got, list) else [got]
    want = want if isinstance(want, list) else [want]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == w.dtype and g.shape == w.shape
        if dtype == "float32":
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
        else:
            np.testing.assert_array_equal(g, w)


def assert_same_error(fc, fp, *args) -> None:
    with pytest.raises(Exception) as want:
        fp(*args)
    with pytest.raises(want.type) as got:
        fc(*args)
    assert str(got.value).splitlines()[0] == str(want.value).splitlines()[0]


def values(rng, shape, dtype: str) -> np.ndarray:
    if dtype.startswith("uint"):
        return rng.integers(0, 5, size=shape).astype(dtype)
    if dtype.startswith("int"):
        return rng.integers(-4, 5, size=shape).astype(dtype)  # small: ties are common
    return rng.standard_normal(shape).astype(dtype)


# -- MaxAndArgmax / Argmax --------------------------------------------------------------------

AXES = [(0,), (1,), (2,), (0, 2), (2, 0), (1, 2), (0, 1, 2), ()]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("axes", AXES, ids=str)
def test_max_and_argmax_c_matches_perform(dtype, axes):
    x = T.TensorType(dtype, (False,) * 3)("x")
    fc, fp = compile_both([x], list(MaxAndArgmax(axes)(x)))
    a = values(np.random.default_rng(1), (3, 4, 5), dtype)
    for v in layouts(a).values():
        assert_same(fc(v), fp(v), dtype)


@pytest.mark.parametrize("axes", [(1,), (0, 1), None], ids=str)
def test_argmax_c_matches_perform(axes):
    x = T.imatrix("x")
    fc, fp = compile_both([x], Argmax(axes)(x))
    a = values(np.random.default_rng(2), (6, 7), "int32")
    for v in layouts(a).values():
        assert_same(fc(v), fp(v), "int32")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_max_and_argmax_nan_wins_first_occurrence(dtype):
    x = T.TensorType(dtype, (False, False))("x")
    fc, fp = compile_both([x], list(MaxAndArgmax((1,))(x)))
    a = np.array([[1, np.nan, 3, np.nan], [np.nan, 5, 6, 7], [2, 2, 1, 2],
                  [-np.inf, -np.inf, -np.inf, -np.inf]], dtype=dtype)
    mx, am = fc(a)
    np.testing.assert_array_equal(am, [1, 0, 0, 0])
    np.testing.assert_array_equal(mx, [np.nan, np.nan, 2, -np.inf])
    for v in layouts(a).values():
        assert_same(fc(v), fp(v), "float64")


def test_max_and_argmax_bool_and_zero_size():
    x = T.TensorType("bool", (False, False))("x")
    fc, fp = compile_both([x], list(MaxAndArgmax((1,))(x)))
    a = np.array([[False, True, True], [False, False, False]])
    assert_same(fc(a), fp(a), "bool")
    y = T.dmatrix("y")
    fc, fp = compile_both([y], list(MaxAndArgmax((1,))(y)))
    assert_same(fc(np.zeros((0, 3))), fp(np.zeros((0, 3))), "float64")
    assert_same_error(fc, fp, np.zeros((3, 0)))
    with pytest.raises(ValueError, match=r"empty axis 1 of an input of shape \(3, 0\)"):
        fc(np.zeros((3, 0)))


def test_max_and_argmax_through_theano_function():
    import theano

    x = T.fmatrix("x")
    mx, am = T.max_and_argmax(x, axis=1)
    f = theano.function([x], [mx, am], mode=theano.Mode(linker="c"))
    assert "MaxAndArgmax" in [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    a = np.random.default_rng(3).standard_normal((5, 9)).astype("float32")
    got = f(a)
    np.testing.assert_array_equal(got[0], a.max(axis=1))
    np.testing.assert_array_equal(got[1], a.argmax(axis=1))

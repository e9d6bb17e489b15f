"""The BLAS ops' C code finds SciPy's BLAS without importing the rest of scipy.linalg."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tgraph.tensor import blas_capi
from tlink.cc import compiler_available

_SCRIPT = r"""
import sys
import numpy as np
import tgraph.tensor as T
from tlink import Mode, function
x, y = T.fmatrix("x"), T.fvector("y")
f = function([x, y], T.dot(x, y), mode=Mode("cvm", "fast_run"))
print(f(np.ones((3, 4), "float32"), np.arange(4, dtype="float32")).tolist())
print(sorted(m for m in sys.modules if m.startswith("scipy.linalg")))
print(type(f.fn.thunks[-1]).__name__, [n.op for n in f.maker.fgraph.toposort()])
"""


@pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)")
def test_a_gemv_in_c_imports_only_cython_blas_from_scipy_linalg(tmp_path):
    env = dict(os.environ, THEANO_FLAGS=f"base_compiledir={tmp_path}")
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert out[0] == "[6.0, 6.0, 6.0]"
    assert out[1] == "['scipy.linalg.cython_blas']"
    assert out[2].startswith("CThunk") and "Gemv" in out[2]


def test_the_capsules_are_the_ones_a_plain_import_gives():
    import scipy.linalg.cython_blas as plain

    capi = blas_capi.cython_blas_capi()
    assert capi is plain.__pyx_capi__
    for name in ("sgemm", "sgemv", "sger", "dgemm", "dgemv", "dger"):
        assert type(capi[name]).__name__ == "PyCapsule"


def test_falls_back_to_the_plain_import_when_the_file_is_not_found(monkeypatch):
    monkeypatch.delitem(sys.modules, "scipy.linalg.cython_blas", raising=False)
    monkeypatch.setattr(blas_capi.importlib.util, "find_spec", lambda name: None)
    capi = blas_capi.cython_blas_capi()
    assert "dgemm" in capi

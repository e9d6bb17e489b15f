"""SciPy's BLAS function pointers for generated C code, without importing scipy.linalg.

The C code of the BLAS ops calls ``sgemm``/``dgemv``/... through the PyCapsules that
``scipy.linalg.cython_blas`` exports in ``__pyx_capi__``. A plain ``import
scipy.linalg.cython_blas`` first runs ``scipy/linalg/__init__.py``, which imports most of
scipy.linalg and its array-API layer: about 0.3 s, most of compiling a function whose C
modules are already in the cache. :func:`cython_blas_capi` loads the extension module file
itself (it needs nothing from scipy.linalg) and falls back to the plain import when the
file cannot be found or loaded that way.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys

__all__ = ["cython_blas_capi"]

_NAME = "scipy.linalg.cython_blas"


def cython_blas_capi() -> dict:
    """``scipy.linalg.cython_blas.__pyx_capi__``: function name -> PyCapsule."""
    module = sys.modules.get(_NAME)
    if module is None:
        module = _load_file() or importlib.import_module(_NAME)
    return module.__pyx_capi__


def _load_file():
    """The extension module loaded from its file, or None (then the plain import is used)."""
    try:
        spec = importlib.util.find_spec("scipy")
        if spec is None or spec.origin is None:
            return None
        folder = os.path.join(os.path.dirname(spec.origin), "linalg")
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(folder, "cython_blas" + suffix)
            if os.path.exists(path):
                break
        else:
            return None
        loader = importlib.machinery.ExtensionFileLoader(_NAME, path)
        spec = importlib.util.spec_from_file_location(_NAME, path, loader=loader)
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        sys.modules.setdefault(_NAME, module)  # a later plain import finds this one
        return module
    except Exception:  # any surprise (another layout, a loader change): the plain import
        return None

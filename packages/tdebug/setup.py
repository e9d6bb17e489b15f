"""Build tdebug's optional Cython extension: NanGuardMode's per-node check in C.

Everything else about the distribution is in pyproject.toml. Without Cython or NumPy at
build time the extension is not declared, and without a working C compiler setuptools skips
it (``optional=True``): NanGuardMode then checks each node from Python, a little slower.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

MODULES = {"tdebug._guard": "src/tdebug/_guard.pyx"}


def extensions() -> list[Extension]:
    """The Cython extension, cythonized; none when Cython or NumPy is not installed."""
    try:
        import numpy
        from Cython.Build import cythonize
    except ImportError:
        return []
    exts = [Extension(name, [path], include_dirs=[numpy.get_include()],
                      define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
            for name, path in MODULES.items() if os.path.exists(path)]
    built = cythonize(exts, language_level=3, quiet=True)
    for ext in built:
        # Set after cythonize, which makes new Extension objects and drops ``optional``.
        ext.optional = True
    return built


setup(ext_modules=extensions())

"""Build tlink's Cython extensions: the VM (``tlink.linker._cvm``) and the call path.

Everything else about the distribution is in pyproject.toml. The extensions are optional:
without Cython (an install that skips build isolation on a machine lacking it) they are
not declared at all, and without a working C compiler setuptools skips them
(``optional=True``). Either way tlink installs and runs with its pure-Python VMs, and
``VMLinker(use_cloop=True)`` says so once with a FallbackWarning.
"""

from __future__ import annotations

from setuptools import Extension, setup

MODULES = {
    "tlink.linker._cvm": "src/tlink/linker/_cvm.pyx",
    "tlink.compile._call": "src/tlink/compile/_call.pyx",
}


def extensions() -> list[Extension]:
    """The Cython extensions, cythonized; none when Cython is not installed."""
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    import os

    try:
        import numpy
    except ImportError:
        return []
    # The call path uses NumPy's C API; building against NumPy 2 headers still runs with
    # NumPy 1.26 (NumPy's headers target the oldest supported API by default).
    numpy_c = dict(include_dirs=[numpy.get_include()],
                   define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")])
    exts = [Extension(name, [path], **numpy_c) for name, path in MODULES.items()
            if os.path.exists(path)]
    built = cythonize(exts, language_level=3, quiet=True,
                      compiler_directives={"boundscheck": False, "wraparound": False,
                                           "initializedcheck": False})
    for ext in built:
        # Set after cythonize, which makes new Extension objects and drops ``optional``.
        ext.optional = True
    return built


setup(ext_modules=extensions())

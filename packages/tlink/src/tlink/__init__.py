"""tlink: linkers, the VM, C code generation and the compile cache, ``function`` and modes.

This package will own the linkers (py, c, c|py, vm, cvm and their *_nogc twins), the VM
compiled with Cython at install time, C code generation with BLAS taken from SciPy, the
content-addressed on-disk compile cache, ``function`` and the registry of modes.

Today it declares the device, mode, linker, compiler, cache and profiling flags on
``tgraph.config`` when imported; the linkers come next.
"""

from tlink import _config as _config  # declares the linker flags on tgraph.config
from tlink._version import __version__

__all__ = ["__version__"]

"""tgpu: GPU execution with PyCUDA, selected by ``device=cuda``, ``cuda0``, ... or ``gpu``.

This package will own the GPU types and Ops (host/device transfers, elementwise kernels,
GpuGemm, GpuGemv, ...) and the rewrites that move work onto the GPU. PyCUDA is an optional
extra (``pip install packages/tgpu[cuda]``): without it, or without a device, the package
still imports and its rewrites can be exercised on graphs.

Today it only declares that it exists: importing it needs neither PyCUDA nor a GPU.
"""

from tgpu import _config as _config  # declares tgpu's flags (none yet) on tgraph.config
from tgpu._version import __version__

__all__ = ["__version__"]

"""Version of the tgpu distribution, read by the build backend."""

__version__ = "0.1.1"

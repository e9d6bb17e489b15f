"""Version of the tgraph distribution, read by the build backend."""

__version__ = "0.3.1"

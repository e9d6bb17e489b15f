"""Version of the tlink distribution, read by the build backend."""

__version__ = "0.4.1"

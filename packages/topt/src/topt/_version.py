"""Version of the topt distribution, read by the build backend."""

__version__ = "0.2.1"

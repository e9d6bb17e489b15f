"""tgraph: Theano's graph IR, tensor types and ops, shared variables and gradients.

Importing tgraph creates the process-wide configuration (``tgraph.config``, which reads
THEANO_FLAGS and THEANORC) and declares the flags graph construction depends on.
"""

import os as _os

from tgraph._config import config
from tgraph._version import __version__
from tgraph.graph.utils import register_internal_path as _register_internal_path

_register_internal_path(_os.path.dirname(__file__))

__all__ = ["__version__", "config"]

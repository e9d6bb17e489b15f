"""The flags tgpu reads, declared on the process-wide config.

None yet: the GPU is selected by ``device``, which tlink declares because every linker
reads it. GPU-only flags (Theano 1.0's ``gpuarray.*``) will be declared here with the code
that reads them.
"""

from __future__ import annotations

from tconfig import Config
from tgraph import config as _process_config

__all__ = ["declare"]


def declare(config: Config) -> None:
    """Declare tgpu's flags on ``config`` (there are none yet)."""
    del config


declare(_process_config)

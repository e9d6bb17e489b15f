"""The rewrite engine: rewrites, drivers, merging and databases of rewrites."""

from topt.engine.db import (
    DB,
    EquilibriumDB,
    LocalGroupDB,
    ProxyDB,
    Query,
    SequenceDB,
    TopoDB,
    registration_epoch,
)
from topt.engine.rewriter import *  # noqa: F403 (the engine's public names)
from topt.engine.rewriter import __all__ as _rewriter_all

__all__ = [
    "DB",
    "EquilibriumDB",
    "LocalGroupDB",
    "ProxyDB",
    "Query",
    "SequenceDB",
    "TopoDB",
    "registration_epoch",
    *_rewriter_all,
]

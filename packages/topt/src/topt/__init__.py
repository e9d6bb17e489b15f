"""topt: Theano's graph rewriting engine and its catalog of rewrites.

This package will own the rewrite framework (local and global rewriters, equilibrium
rewriting, a database of rewrites queried by tags and ordered by position), the catalog of
rewrites (merge, canonicalize, stabilize, specialize, gemm/gemv, elemwise fusion, inplace)
and the named optimizer levels (None, o1 .. o4, fast_compile, fast_run, stabilize, unsafe).

Today it declares the optimizer flags on ``tgraph.config`` when imported; the engine comes
next.
"""

from topt import _config as _config  # declares the optimizer flags on tgraph.config
from topt._version import __version__

__all__ = ["__version__"]

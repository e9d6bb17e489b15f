"""theano.tensor.blas: the BLAS Ops (Gemm, Gemv, Ger, Dot22, Dot22Scalar) and their rewrites.

The Ops and their C code come from tgraph (BLAS through SciPy's cython_blas, or the library
named by ``blas.ldflags``); the rewrites that introduce them come from topt.
"""

from tgraph.tensor.blas import *  # noqa: F403
from topt.rewrites.blas import *  # noqa: F403

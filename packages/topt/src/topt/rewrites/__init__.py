"""The catalog of rewrites; importing this package registers them all in topt.optdb.

Each catalog module appends one import line below (``from topt.rewrites import <module>``).
"""

from topt.rewrites import (
    algebraic,  # noqa: F401
    blas,  # noqa: F401
    canonicalize,  # noqa: F401
    constant_folding,  # noqa: F401
    fusion,  # noqa: F401
    inplace,  # noqa: F401
    shape,  # noqa: F401
    sigmoid_rw,  # noqa: F401
    softmax_rw,  # noqa: F401
    specialize,  # noqa: F401
    stabilize,  # noqa: F401
    subtensor_rw,  # noqa: F401
    unsafe,  # noqa: F401
    useless,  # noqa: F401
)

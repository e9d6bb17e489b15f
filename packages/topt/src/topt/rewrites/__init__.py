"""The catalog of rewrites; importing this package registers them all in topt.optdb.

Each catalog module appends one import line below (``from topt.rewrites import <module>``).
"""

from topt.rewrites import constant_folding  # noqa: F401
from topt.rewrites import useless  # noqa: F401
from topt.rewrites import canonicalize  # noqa: F401
from topt.rewrites import algebraic  # noqa: F401
from topt.rewrites import specialize  # noqa: F401
from topt.rewrites import subtensor_rw  # noqa: F401
from topt.rewrites import stabilize  # noqa: F401
from topt.rewrites import sigmoid_rw  # noqa: F401
from topt.rewrites import shape  # noqa: F401
from topt.rewrites import softmax_rw  # noqa: F401

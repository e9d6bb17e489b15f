"""The catalog of rewrites; importing this package registers them all in topt.optdb.

Each catalog module appends one import line below (``from topt.rewrites import <module>``).
"""

from topt.rewrites import constant_folding  # noqa: F401

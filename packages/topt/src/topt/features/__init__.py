"""FunctionGraph features the rewrites rely on: destroy/view bookkeeping and shape inference.

:class:`DestroyHandler` vetoes graphs whose in-place ops would overwrite a value still
needed; :class:`ShapeFeature` keeps a symbolic shape for every variable so rewrites can
reason about sizes without computing the values.
"""

from topt.features.destroyhandler import DestroyHandler, ProtocolError, fast_inplace_check
from topt.features.shape import ShapeError, ShapeFeature, ShapeInferenceWarning

__all__ = [
    "DestroyHandler",
    "ProtocolError",
    "ShapeError",
    "ShapeFeature",
    "ShapeInferenceWarning",
    "fast_inplace_check",
]

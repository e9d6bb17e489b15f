"""``theano.tensor``'s function library, as one namespace.

The elementwise functions (:mod:`tgraph.tensor.math_elemwise`) and the reductions
(:mod:`tgraph.tensor.math_reductions`) live apart to keep each module small and their imports
acyclic (the reductions build on the elementwise functions); this module gathers them under
the names TensorVariable's operators and methods look up (``x + y`` is ``math.add(x, y)``,
``x.sum()`` is ``math.sum(x)``).
"""

from tgraph.tensor.math_elemwise import *  # noqa: F403
from tgraph.tensor.math_elemwise import __all__ as _elemwise_all
from tgraph.tensor.math_elemwise import (  # noqa: F401 - Theano's private cast ops
    _cast_mapping,
    _convert_to_bool,
    _convert_to_complex64,
    _convert_to_complex128,
    _convert_to_float16,
    _convert_to_float32,
    _convert_to_float64,
    _convert_to_int8,
    _convert_to_int16,
    _convert_to_int32,
    _convert_to_int64,
    _convert_to_uint8,
    _convert_to_uint16,
    _convert_to_uint32,
    _convert_to_uint64,
)
from tgraph.tensor.math_reductions import *  # noqa: F403
from tgraph.tensor.math_reductions import __all__ as _reductions_all
from tgraph.tensor.reduction import check_and_normalize_axes, makeKeepDims

__all__ = [*_elemwise_all, *_reductions_all, "check_and_normalize_axes", "makeKeepDims"]

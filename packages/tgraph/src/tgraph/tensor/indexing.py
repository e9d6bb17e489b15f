"""What the indexing ops share: slice arithmetic, slice/None types, Subtensor's template.

Two families of ops index tensors (:mod:`tgraph.tensor.subtensor` for views by integers and
slices, :mod:`tgraph.tensor.advanced_subtensor` for copies by index arrays and masks). Both
need the length of a slice whose bounds may be symbolic and the summing of gradients over
broadcast dimensions; the advanced ops carry slices and ``None`` (``np.newaxis``) as graph
inputs (Theano's ``type_other``: SliceType, MakeSlice, NoneConst); Subtensor and
IncSubtensor share the index template (``convert_index``, ``get_idx_list``). Those pieces
live here so that neither family imports the other's module for them, and so that
subtensor.py stays one readable size.

Slice arithmetic works on "maybe-constant" integers: a Python int when the value is known
while the graph is built, else an int64 tensor scalar. Known values fold in Python, so
``x[1:3]`` on a dimension of known size gives a constant length, and a symbolic bound only
adds the few nodes it needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from tgraph.gradient_ops import DisconnectedType
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.op import Op
from tgraph.graph.type import Type, none_type_t
from tgraph.scalar.type import ScalarType, get_scalar_type
from tgraph.tensor import math as tm
from tgraph.tensor.basic import (
    NotScalarConstantError,
    as_tensor_variable,
    get_scalar_constant_value,
)
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.type import TensorType

INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
DISCRETE_DTYPES = ("bool", *INTEGER_DTYPES)
COMPLEX_DTYPES = ("complex64", "complex128")


class AdvancedIndexingError(TypeError):
    """An index needs advanced (copying) indexing: Subtensor cannot represent it."""


class AdvancedBooleanIndexingError(TypeError):
    """An index is a boolean mask: it needs AdvancedBooleanSubtensor."""


# ---------------------------------------------------------------------------------------------
# None and slices as graph values (Theano's theano.tensor.type_other)

#: The ``None`` constant (``np.newaxis`` in an advanced index, a missing slice bound).
#: Use ``NoneConst.clone()`` in a graph; test with ``NoneConst.equals(x)``.
NoneConst = Constant(none_type_t, None, name="NoneConst")


class SliceType(Type):
    """The type of Python ``slice`` objects (an advanced index's slices)."""

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None):
        if isinstance(data, slice):
            return data
        raise TypeError(f"SliceType expected a slice, got {type(data).__name__} {data!r}")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "slice"

    __repr__ = __str__

    @staticmethod
    def may_share_memory(a, b) -> bool:
        return False


class SliceConstant(Constant):
    """A constant slice, compared by its (start, stop, step) as Python ints."""

    def __init__(self, type, data: slice, name: str | None = None):
        data = slice(*(None if e is None else int(e) for e in (data.start, data.stop, data.step)))
        super().__init__(type, data, name)

    def signature(self):
        return (SliceConstant, self.data.start, self.data.stop, self.data.step)

    def __str__(self):
        d = self.data
        return f"SliceConstant{{{d.start}, {d.stop}, {d.step}}}"


SliceType.Constant = SliceConstant
slicetype = SliceType()


def as_int_none_variable(x: Any) -> Variable:
    """``x`` as an integer 0-d tensor, or the None constant for ``None``."""
    if x is None:
        return NoneConst.clone()
    if isinstance(x, Variable) and NoneConst.equals(x):
        return x
    v = as_tensor_variable(x)
    if v.ndim != 0 or v.dtype not in INTEGER_DTYPES:
        raise TypeError(
            f"MakeSlice: slice bounds must be integer scalars or None, got {_describe(v)}"
        )
    return v


class MakeSlice(Op):
    """Build a Python slice from three inputs (integer scalars or None)."""

    __props__ = ()

    def make_node(self, slc, stop=None, step=None):
        if isinstance(slc, slice):
            if stop is not None or step is not None:
                raise TypeError("MakeSlice: give a slice, or start, stop and step, not both")
            parts = [slc.start, slc.stop, slc.step]
        else:
            parts = [slc, stop, step]
        return Apply(self, [as_int_none_variable(p) for p in parts], [slicetype()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = slice(*(None if v is None else int(v) for v in inputs))

    def grad(self, inputs, output_grads):
        return [DisconnectedType()() for _ in inputs]

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]


make_slice = MakeSlice()


def _describe(v) -> str:
    """'int64 vector x'-style description of a variable, for error messages."""
    t = getattr(v, "type", None)
    if t is None:
        return f"{type(v).__name__} {v!r}"
    ndim = len(getattr(t, "broadcastable", ()))
    kind = {0: "scalar", 1: "vector", 2: "matrix"}.get(ndim, f"{ndim}-d tensor")
    name = f" {v.name}" if getattr(v, "name", None) else ""
    return f"{getattr(t, 'dtype', t)} {kind}{name}"


# ---------------------------------------------------------------------------------------------
# Basic indexing's template (Subtensor.idx_list)


def convert_index(entry: Any, slice_ok: bool = True):
    """One entry of a Subtensor template: an integer variable or type becomes its scalar type.

    Slices keep their structure (``None`` bounds stay None). Raises
    AdvancedIndexingError for anything basic indexing cannot do (arrays, lists),
    AdvancedBooleanIndexingError for boolean masks, and TypeError for float indices.
    """
    if isinstance(entry, ScalarType):
        if entry.dtype in INTEGER_DTYPES:
            return entry
        raise TypeError(f"index must be an integer, got a {entry.dtype} scalar type")
    if isinstance(entry, TensorType):
        if entry.ndim == 0 and entry.dtype in INTEGER_DTYPES:
            return get_scalar_type(entry.dtype)
        raise AdvancedIndexingError(f"Subtensor cannot take an index of type {entry}")
    if isinstance(entry, Variable):
        dtype = getattr(entry.type, "dtype", None)
        ndim = getattr(entry.type, "ndim", None)
        if dtype == "bool":
            raise AdvancedBooleanIndexingError(f"boolean index {entry}")
        if ndim == 0 and dtype in INTEGER_DTYPES:
            return get_scalar_type(dtype)
        if not slice_ok:
            raise TypeError(f"slice bounds must be integer scalars, got {_describe(entry)}")
        if ndim == 0:
            raise TypeError(f"index must be an integer, got {_describe(entry)}")
        raise AdvancedIndexingError(f"Subtensor cannot take the index {_describe(entry)}")
    if isinstance(entry, np.ndarray) and entry.dtype == bool:
        raise AdvancedBooleanIndexingError("boolean index array")
    if slice_ok and isinstance(entry, slice):
        return slice(*(None if e is None else convert_index(e, False)
                       for e in (entry.start, entry.stop, entry.step)))
    if isinstance(entry, int | np.integer) and not isinstance(entry, bool | np.bool_):
        raise TypeError(
            "a Subtensor template holds scalar types, not Python ints; pass the value as an "
            "input (get_item and make_constant do this)"
        )
    if not slice_ok:
        raise TypeError(f"slice bounds must be integer scalars or None, got {entry!r}")
    raise AdvancedIndexingError(f"Subtensor cannot take the index {entry!r}")


def collapse(idxs: Iterable, cond) -> list:
    """The entries of ``idxs`` for which ``cond`` holds, slices flattened into their parts."""
    out: list = []

    def visit(entry):
        if cond(entry):
            out.append(entry)
        elif isinstance(entry, slice):
            visit(entry.start)
            visit(entry.stop)
            visit(entry.step)

    for e in idxs:
        visit(e)
    return out


def _fill(idx_list: Sequence, values: Sequence) -> tuple:
    """The template with its Type placeholders replaced, in order, by ``values``."""
    it = iter(values)

    def conv(entry):
        if isinstance(entry, Type):
            return next(it)
        if isinstance(entry, slice):
            return slice(conv(entry.start), conv(entry.stop), conv(entry.step))
        return entry

    return tuple(conv(e) for e in idx_list)


def get_idx_list(inputs: Sequence, idx_list: Sequence, get_count: bool = False):
    """The index of a Subtensor node: ``idx_list`` filled with ``inputs[1:]`` (Theano's)."""
    if get_count:
        return len(collapse(idx_list, lambda e: isinstance(e, Type)))
    return _fill(idx_list, list(inputs[1:]))


def make_constant(args: Iterable) -> tuple:
    """Python integers (also inside slices) as int64 scalar constants, the rest unchanged."""

    def conv(a):
        if a is None:
            return None
        if isinstance(a, slice):
            return slice(conv(a.start), conv(a.stop), conv(a.step))
        if isinstance(a, int | np.integer) and not isinstance(a, bool | np.bool_):
            return get_scalar_type("int64").make_constant(np.int64(a))
        return a

    return tuple(conv(a) for a in args)


def _str_idx(idx_list) -> str:
    def one(e):
        if isinstance(e, slice):
            return ":".join("" if p is None else str(p) for p in (e.start, e.stop, e.step))
        return str(e)

    return ", ".join(one(e) for e in idx_list)


def _hashable_idx(idx_list) -> tuple:
    return tuple((e.start, e.stop, e.step) if isinstance(e, slice) else e for e in idx_list)


# ---------------------------------------------------------------------------------------------
# Maybe-constant integer arithmetic


def known_int(v: Any) -> int | None:
    """``v`` as a Python int when its value is known while building the graph, else None."""
    if isinstance(v, bool | np.bool_):
        return None
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, Variable):
        try:
            value = get_scalar_constant_value(v)
        except NotScalarConstantError:
            return None
        value = np.asarray(value)
        if value.dtype.kind in "iu":
            return int(value)
    return None


def as_maybe_int(v: Any):
    """A Python int when ``v`` is known, else ``v`` as a tensor scalar."""
    k = known_int(v)
    return k if k is not None else as_tensor_variable(v)


def maybe_switch(cond, a, b):
    if isinstance(cond, bool | np.bool_):
        return a if cond else b
    return tm.switch(cond, a, b)


def maybe_minimum(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return min(a, b)
    return tm.minimum(a, b)


def maybe_maximum(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return max(a, b)
    return tm.maximum(a, b)


def as_int64(v):
    """An int stays an int; a tensor scalar is cast to int64 (the dtype of shapes)."""
    if isinstance(v, int):
        return v
    return v if v.dtype == "int64" else tm.cast(v, "int64")


def _clamp_forward(i, n):
    """A start/stop for a positive step: negatives count from the end, then clip to [0, n]."""
    i = maybe_switch(i < 0, i + n, i)
    return maybe_maximum(maybe_minimum(i, n), 0)


def _clamp_backward(i, n):
    """A start/stop for a negative step: negatives count from the end, clip to [-1, n-1]."""
    i = maybe_switch(i < 0, i + n, i)
    return maybe_maximum(maybe_minimum(i, n - 1), -1)


def _forward(start, stop, step, n):
    """(first index, end, length) of slice(start, stop, step) when step > 0."""
    first = 0 if start is None else _clamp_forward(start, n)
    end = n if stop is None else _clamp_forward(stop, n)
    if isinstance(step, int) and step == 1:
        return first, end, maybe_maximum(end - first, 0)
    return first, end, maybe_maximum((end - first + step - 1) // step, 0)


def _backward(start, stop, step, n):
    """(first index, end, length) of slice(start, stop, step) when step < 0."""
    first = n - 1 if start is None else _clamp_backward(start, n)
    end = -1 if stop is None else _clamp_backward(stop, n)
    back = -step
    return first, end, maybe_maximum((first - end + back - 1) // back, 0)


def _slice_parts(theslice: slice, length):
    start = None if theslice.start is None else as_maybe_int(theslice.start)
    stop = None if theslice.stop is None else as_maybe_int(theslice.stop)
    step = 1 if theslice.step is None else as_maybe_int(theslice.step)
    return start, stop, step, as_maybe_int(length)


def slice_length(theslice: slice, length):
    """Number of elements ``theslice`` selects from a dimension of size ``length``.

    NumPy's rule (``len(range(length)[theslice])``): negative bounds count from the end, then
    bounds are clipped to the dimension; a negative step walks backwards from the last
    element. Returns a Python int when everything is known, else an int64 tensor scalar.
    A constant step of 0 raises ValueError, as NumPy does.
    """
    start, stop, step, n = _slice_parts(theslice, length)
    if isinstance(step, int) and step == 0:
        raise ValueError("slice step cannot be zero")
    if all(isinstance(v, int) or v is None for v in (start, stop, step, n)):
        return len(range(n)[slice(start, stop, step)])
    if start is None and stop is None and isinstance(step, int) and abs(step) == 1:
        return as_int64(n)
    if isinstance(step, int):
        parts = _forward(start, stop, step, n) if step > 0 else _backward(start, stop, step, n)
        return as_int64(parts[2])
    fwd = _forward(start, stop, step, n)[2]
    bwd = _backward(start, stop, step, n)[2]
    return as_int64(maybe_switch(step > 0, fwd, bwd))


def get_canonical_form_slice(theslice, length):
    """``theslice`` as (slice(a, b, s), reverse) with 0 <= a <= b <= length and s > 0.

    Selecting ``[a:b:s]`` then, when ``reverse`` is -1, reversing, gives the elements that
    ``theslice`` selects (Theano's contract; rewrites use it to merge and compare slices).
    ``reverse`` is 1, -1 or a symbolic sign when the step is symbolic. An integer index
    instead gives (index made non-negative, 1).
    """
    if not isinstance(theslice, slice):
        i = as_maybe_int(theslice)
        n = as_maybe_int(length)
        return maybe_switch(i < 0, i + n, i), 1
    start, stop, step, n = _slice_parts(theslice, length)
    if isinstance(step, int) and step == 0:
        raise ValueError("slice step cannot be zero")
    if all(isinstance(v, int) or v is None for v in (start, stop, step, n)):
        r = range(n)[slice(start, stop, step)]
        if step > 0:
            return slice(r.start, max(r.start, r.stop), step), 1
        if not len(r):
            return slice(0, 0, -step), -1
        return slice(r[-1], r[0] + 1, -step), -1

    def forward():
        first, end, _ = _forward(start, stop, step, n)
        return first, maybe_maximum(end, first)

    def backward():
        first, _, count = _backward(start, stop, step, n)
        has = count > 0
        low = maybe_switch(has, first + (count - 1) * step, 0)
        high = maybe_switch(has, first + 1, 0)
        return low, high

    if isinstance(step, int):
        if step > 0:
            a, b = forward()
            return slice(as_int64(a), as_int64(b), step), 1
        a, b = backward()
        return slice(as_int64(a), as_int64(b), -step), -1
    fa, fb = forward()
    ba, bb = backward()
    pos = step > 0
    a = maybe_switch(pos, fa, ba)
    b = maybe_switch(pos, fb, bb)
    return slice(as_int64(a), as_int64(b), tm.abs_(step)), tm.sgn(step)


# ---------------------------------------------------------------------------------------------
# Gradients


def _sum_grad_over_bcasted_dims(x, gx):
    """``gx`` summed over the dimensions where ``x`` was broadcast, so it has x's type.

    An increment ``y`` broadcast into a region gets, as gradient, the region's gradient
    summed over the dimensions ``y`` lacks (left-padded) or declares broadcastable.
    """
    if gx.broadcastable == x.broadcastable:
        return gx
    added = gx.ndim - x.ndim
    x_bcast = (True,) * added + tuple(x.broadcastable)
    axes = [i for i in range(gx.ndim) if x_bcast[i] and not gx.broadcastable[i]]
    if axes:
        gx = tm.sum(gx, axis=axes, keepdims=True)
    if added:
        gx = gx.dimshuffle(list(range(added, gx.ndim)))
    return patternbroadcast(gx, x.broadcastable)


# Theano 1.0's theano.tensor.type_other names, and the slice helpers rewrites use.
__all__ = [
    "AdvancedBooleanIndexingError",
    "AdvancedIndexingError",
    "MakeSlice",
    "NoneConst",
    "SliceConstant",
    "SliceType",
    "as_int_none_variable",
    "get_canonical_form_slice",
    "make_slice",
    "slice_length",
    "slicetype",
]

"""Advanced indexing: integer-array and boolean-mask indices, and their increments.

NumPy's semantics throughout, and the result is always a copy:

- :class:`AdvancedSubtensor1` is ``x[int_vector]`` along axis 0 (``take`` builds it for
  other axes through a transposed view); :class:`AdvancedIncSubtensor1` is its increment.
- :class:`AdvancedSubtensor` takes any mix of integer arrays, slices and ``None``;
  :class:`AdvancedBooleanSubtensor` (Theano 1.0.5's name) the same with boolean masks.
  Index inputs are tensors, slices (:class:`~tgraph.tensor.indexing.SliceType`) and the
  None constant, so rewrites can see symbolic bounds.
- Increments accumulate over repeated indices (``np.add.at``); sets keep the last value
  written, as ``x[idx] = y`` does in NumPy. y is cast to x's dtype.

Output shapes follow NumPy's rule, implemented once (:func:`_result_dims`) and used both for
the static broadcastable pattern and for ``infer_shape``: the broadcast shape of the array
indices replaces them when they are adjacent, and goes first when slices or ``None``
separate them. A boolean mask of k dimensions counts as k integer arrays of its number of
true elements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import DisconnectedType
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.op import Op
from tgraph.graph.type import NoneTypeT
from tgraph.tensor import math as tm
from tgraph.tensor.advanced_c import (
    ADVANCED_C_VERSION,
    ADVANCED_SUPPORT,
    adv_inc_subtensor1_c_code,
    adv_subtensor1_c_code,
)
from tgraph.tensor.alloc import zeros_like
from tgraph.tensor.basic import as_tensor_variable
from tgraph.tensor.indexing import (
    COMPLEX_DTYPES,
    DISCRETE_DTYPES,
    INTEGER_DTYPES,
    NoneConst,
    SliceType,
    _describe,
    _sum_grad_over_bcasted_dims,
    as_int64,
    known_int,
    make_slice,
    slice_length,
    slicetype,
)
from tgraph.tensor.type import TensorType


def _zeros_grad_like(x):
    """The zero gradient for x: x's dtype, or floatX when x is discrete."""
    if x.dtype in DISCRETE_DTYPES:
        return zeros_like(x, dtype=config.floatX)
    if x.dtype in COMPLEX_DTYPES:
        raise NotImplementedError("gradients of indexing complex tensors are not supported")
    return zeros_like(x)


def _check_index_vector(op, ilist) -> None:
    if ilist.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{op}: index must be integers, got {_describe(ilist)}")
    if ilist.ndim != 1:
        raise TypeError(f"{op}: index must be a vector, got {_describe(ilist)}")


def _as_intp(i: np.ndarray) -> np.ndarray:
    if i.dtype == np.intp:
        return i
    j = i.astype(np.intp)
    if not np.can_cast(i.dtype, np.intp) and np.any(j != i):
        raise IndexError("index contains values too large for this system's array sizes")
    return j


# ---------------------------------------------------------------------------------------------
# x[int_vector] on axis 0


class AdvancedSubtensor1(Op):
    """``x[ilist]`` for an integer vector along axis 0 (negative indices count from the end).

    ``sparse_grad`` is accepted for Theano compatibility; without a sparse library the
    gradient is dense either way.
    """

    __props__ = ()

    def __init__(self, sparse_grad: bool = False):
        self.sparse_grad = sparse_grad

    def make_node(self, x, ilist):
        x = as_tensor_variable(x)
        ilist = as_tensor_variable(ilist)
        _check_index_vector(self, ilist)
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot index into a scalar ({_describe(x)})")
        bcast = (ilist.broadcastable[0], *x.broadcastable[1:])
        return Apply(self, [x, ilist], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, i = inputs
        try:
            output_storage[0][0] = x.take(_as_intp(i), axis=0)
        except IndexError as exc:
            raise IndexError(f"{self}: {exc} (input shape {x.shape})") from None

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        x, ilist = inputs
        (gz,) = output_grads
        gx = advanced_inc_subtensor1(_zeros_grad_like(x), gz, ilist)
        return [gx, DisconnectedType()()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self.make_node(eval_points[0], *inputs[1:]).outputs

    def infer_shape(self, node, input_shapes):
        x, ilist = input_shapes
        return [(ilist[0], *x[1:])]

    # -- C (text only; see advanced_c) ------------------------------------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return adv_subtensor1_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return ADVANCED_SUPPORT

    def c_code_cache_version(self):
        return ADVANCED_C_VERSION


advanced_subtensor1 = AdvancedSubtensor1()


class AdvancedIncSubtensor1(Op):
    """x with ``x[ilist]`` incremented by y (repeats accumulate) or set to y (last wins)."""

    __props__ = ("inplace", "set_instead_of_inc")

    def __init__(self, inplace: bool = False, set_instead_of_inc: bool = False):
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def clone_inplace(self) -> AdvancedIncSubtensor1:
        return type(self)(inplace=True, set_instead_of_inc=self.set_instead_of_inc)

    def __str__(self):
        mode = "inplace" if self.inplace else "no_inplace"
        return f"{type(self).__name__}{{{mode},{'set' if self.set_instead_of_inc else 'inc'}}}"

    def make_node(self, x, y, ilist):
        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        ilist = as_tensor_variable(ilist)
        _check_index_vector(self, ilist)
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot index into a scalar ({_describe(x)})")
        if y.ndim > x.ndim:
            verb = "set" if self.set_instead_of_inc else "increment"
            raise TypeError(
                f"{self}: cannot {verb} the rows of a {x.ndim}-d tensor with a "
                f"{y.ndim}-d value ({_describe(y)})"
            )
        return Apply(self, [x, y, ilist], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        x, y, idx = inputs
        if not self.inplace:
            x = x.copy()
        idx = _as_intp(idx)
        try:
            if self.set_instead_of_inc:
                x[idx] = y
            else:
                np.add.at(x, idx, y)
        except (IndexError, ValueError) as exc:
            raise type(exc)(
                f"{self}: {exc} (x shape {x.shape}, y shape {np.shape(y)}, "
                f"{idx.size} indices)") from None
        output_storage[0][0] = x

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    # -- C (text only; see advanced_c) ------------------------------------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return adv_inc_subtensor1_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return ADVANCED_SUPPORT

    def c_code_cache_version(self):
        return ADVANCED_C_VERSION

    def R_op(self, inputs, eval_points):
        if None in eval_points[:2]:
            return [None]
        return self.make_node(eval_points[0], eval_points[1], *inputs[2:]).outputs

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def grad(self, inputs, output_grads):
        (g,) = output_grads
        x, y, ilist = inputs
        if x.dtype in DISCRETE_DTYPES:
            gx = _zeros_grad_like(x)
            gy = _zeros_grad_like(y) if y.dtype in DISCRETE_DTYPES else zeros_like(y)
        else:
            if self.set_instead_of_inc:
                gx = advanced_set_subtensor1(g, zeros_like(y), ilist)
            else:
                gx = g
            gy = _sum_grad_over_bcasted_dims(y, advanced_subtensor1(g, ilist))
        return [gx, gy, DisconnectedType()()]


advanced_inc_subtensor1 = AdvancedIncSubtensor1()
advanced_set_subtensor1 = AdvancedIncSubtensor1(set_instead_of_inc=True)


# ---------------------------------------------------------------------------------------------
# General advanced indexing


def as_index_variable(idx) -> Variable:
    """One entry of an advanced index as a graph variable (tensor, slice or None)."""
    if idx is None:
        return NoneConst.clone()
    if isinstance(idx, slice):
        parts = [None if p is None else known_int(p) for p in (idx.start, idx.stop, idx.step)]
        if all(k is not None or p is None
               for k, p in zip(parts, (idx.start, idx.stop, idx.step))):
            return slicetype.make_constant(slice(*parts))
        return make_slice(idx)
    if isinstance(idx, Variable) and isinstance(idx.type, SliceType | NoneTypeT):
        return idx
    v = as_tensor_variable(idx)
    if v.dtype not in DISCRETE_DTYPES:
        raise TypeError(f"index must be integers or a boolean mask, got {_describe(v)}")
    return v


def _items(index: Sequence[Variable]) -> list[tuple]:
    """Describe index inputs: ('none',), ('slice', var), ('array', var) or ('mask', var)."""
    out = []
    for v in index:
        if isinstance(v.type, NoneTypeT):
            out.append(("none", v))
        elif isinstance(v.type, SliceType):
            out.append(("slice", v))
        elif v.dtype == "bool":
            out.append(("mask", v))
        else:
            out.append(("array", v))
    return out


def _consumed(items) -> int:
    return sum(0 if k == "none" else v.ndim if k == "mask" else 1 for k, v in items)


def _broadcast_dims(shapes: list[tuple], bcast: Callable) -> tuple:
    nd = max((len(s) for s in shapes), default=0)
    out = []
    for d in range(nd):
        dim = 1
        for s in shapes:
            j = d - (nd - len(s))
            if j >= 0:
                dim = bcast(dim, s[j])
        out.append(dim)
    return tuple(out)


def _result_dims(x_dims: Sequence, items, slice_len: Callable, array_dims: Callable,
                 mask_count: Callable, bcast: Callable) -> list:
    """The result's dimensions by NumPy's advanced-indexing rule (values are opaque dims).

    ``slice_len(item_var, dim)``, ``array_dims(pos, var)`` (the index array's dims),
    ``mask_count(var)`` and ``bcast(a, b)`` give the arithmetic, static or symbolic.
    """
    out: list = []
    shapes: list[tuple] = []
    adv_items: list[int] = []
    insert_at = None
    dim = 0
    for j, (kind, v) in enumerate(items):
        if kind == "none":
            out.append(1)
        elif kind == "slice":
            out.append(slice_len(v, x_dims[dim]))
            dim += 1
        else:
            if insert_at is None:
                insert_at = len(out)
            adv_items.append(j)
            if kind == "mask":
                shapes.append((mask_count(v),))
                dim += v.ndim
            else:
                shapes.append(array_dims(j, v))
                dim += 1
    out.extend(x_dims[dim:])
    if not adv_items:
        return out
    broadcast = list(_broadcast_dims(shapes, bcast))
    adjacent = adv_items == list(range(adv_items[0], adv_items[-1] + 1))
    at = insert_at if adjacent else 0
    return out[:at] + broadcast + out[at:]


def _static_slice_len(v, dim):
    if dim != 1 or not isinstance(v, Constant):
        return None
    return 1 if len(range(1)[v.data]) == 1 else None


def _static_bcast(a, b):
    if a == 1:
        return b
    if b == 1:
        return a
    return None


def adv_index_broadcastable_pattern(a, idx) -> tuple[bool, ...]:
    """The broadcastable pattern of ``a[idx]`` for advanced index variables ``idx``."""
    items = _items(idx)
    x_dims = [1 if b else None for b in a.type.broadcastable]
    dims = _result_dims(
        x_dims, items, _static_slice_len,
        lambda j, v: tuple(1 if b else None for b in v.type.broadcastable),
        lambda v: None, _static_bcast)
    return tuple(d == 1 for d in dims)


def _symbolic_bcast(a, b):
    ka = a if isinstance(a, int) else known_int(a)
    kb = b if isinstance(b, int) else known_int(b)
    if ka == 1:
        return b
    if kb == 1 or (ka is not None and kb is not None):
        return a
    return as_int64(tm.switch(tm.eq(a, 1), b, a))


def _symbolic_slice_len(v, dim):
    if isinstance(v, Constant):
        return slice_length(v.data, dim)
    if v.owner is not None and isinstance(v.owner.op, type(make_slice)):
        parts = [None if isinstance(p.type, NoneTypeT) else p for p in v.owner.inputs]
        return slice_length(slice(*parts), dim)
    raise NotImplementedError(f"the length of the slice {v} is not known to the graph")


def _check_consumed(op, x, items) -> None:
    used = _consumed(items)
    if used > x.ndim:
        raise IndexError(
            f"{op}: too many indices for a {x.ndim}-dimensional tensor ({used} were indexed)"
        )


class BaseAdvancedSubtensor(Op):
    """``x[index]`` with integer arrays, boolean masks, slices and None, as NumPy."""

    __props__ = ()

    def make_node(self, x, *index):
        x = as_tensor_variable(x)
        index = tuple(as_index_variable(i) for i in index)
        self._check_index(index)
        _check_consumed(self, x, _items(index))
        bcast = adv_index_broadcastable_pattern(x, index)
        return Apply(self, [x, *index], [TensorType(x.dtype, bcast)()])

    def _check_index(self, index) -> None:
        pass

    def perform(self, node, inputs, output_storage, params=None):
        x = inputs[0]
        try:
            out = x[tuple(inputs[1:])]
        except IndexError as exc:
            raise IndexError(f"{self}: {exc} (input shape {x.shape})") from None
        if np.may_share_memory(out, x):
            out = out.copy()
        output_storage[0][0] = np.asarray(out)

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self.make_node(eval_points[0], *inputs[1:]).outputs

    def infer_shape(self, node, input_shapes):
        dims = _result_dims(
            list(input_shapes[0]), _items(node.inputs[1:]), _symbolic_slice_len,
            lambda j, v: tuple(input_shapes[j + 1]),
            lambda v: as_int64(tm.sum(v)), _symbolic_bcast)
        return [tuple(dims)]

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        x, rest = inputs[0], inputs[1:]
        gx = self._inc_op(inplace=False)(_zeros_grad_like(x), gz, *rest)
        return [gx] + [DisconnectedType()() for _ in rest]


class AdvancedSubtensor(BaseAdvancedSubtensor):
    """``x[index]`` with integer arrays (no boolean masks), slices and None: a copy."""

    def _check_index(self, index) -> None:
        for v in index:
            if getattr(v.type, "dtype", None) == "bool":
                raise TypeError(
                    f"{self} does not take boolean masks ({_describe(v)}); use "
                    "AdvancedBooleanSubtensor (x[mask] picks it)"
                )

    @staticmethod
    def _inc_op(inplace=False, set_instead_of_inc=False):
        return AdvancedIncSubtensor(inplace, set_instead_of_inc)


class AdvancedBooleanSubtensor(BaseAdvancedSubtensor):
    """``x[index]`` where the index holds boolean masks (with arrays, slices, None)."""

    @staticmethod
    def _inc_op(inplace=False, set_instead_of_inc=False):
        return AdvancedBooleanIncSubtensor(inplace, set_instead_of_inc)


advanced_subtensor = AdvancedSubtensor()
advanced_boolean_subtensor = AdvancedBooleanSubtensor()


class BaseAdvancedIncSubtensor(Op):
    """x with ``x[index]`` incremented by y (repeats accumulate) or set to y (last wins)."""

    __props__ = ("inplace", "set_instead_of_inc")

    def __init__(self, inplace: bool = False, set_instead_of_inc: bool = False):
        if not isinstance(inplace, bool | np.bool_):
            raise TypeError(f"{type(self).__name__}: inplace must be a bool, got {inplace!r}")
        self.inplace = bool(inplace)
        self.set_instead_of_inc = bool(set_instead_of_inc)
        if self.inplace:
            self.destroy_map = {0: [0]}

    def __str__(self):
        return (f"{type(self).__name__}{{inplace={self.inplace}, "
                f" set_instead_of_inc={self.set_instead_of_inc}}}")

    def make_node(self, x, y, *index):
        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        index = tuple(as_index_variable(i) for i in index)
        self._check_index(index)
        _check_consumed(self, x, _items(index))
        region = adv_index_broadcastable_pattern(x, index)
        if y.ndim > len(region):
            verb = "set" if self.set_instead_of_inc else "increment"
            raise TypeError(
                f"{self}: Trying to {verb} a {len(region)}-dimensional subtensor with a "
                f"{y.ndim}-dimensional value ({_describe(y)})."
            )
        return Apply(self, [x, y, *index], [x.type()])

    def _check_index(self, index) -> None:
        pass

    def perform(self, node, inputs, output_storage, params=None):
        x, y = inputs[:2]
        index = tuple(inputs[2:])
        out = x if self.inplace else x.copy()
        try:
            if self.set_instead_of_inc:
                out[index] = y
            else:
                np.add.at(out, index, y)
        except (IndexError, ValueError) as exc:
            raise type(exc)(
                f"{self}: {exc} (x shape {x.shape}, y shape {np.shape(y)})") from None
        output_storage[0][0] = out

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def connection_pattern(self, node):
        return [[True], [True]] + [[False] for _ in node.inputs[2:]]

    def R_op(self, inputs, eval_points):
        if None in eval_points[:2]:
            return [None]
        return self.make_node(eval_points[0], eval_points[1], *inputs[2:]).outputs

    def grad(self, inputs, output_grads):
        (g,) = output_grads
        x, y = inputs[:2]
        idx = inputs[2:]
        if x.dtype in DISCRETE_DTYPES:
            gx = _zeros_grad_like(x)
            gy = _zeros_grad_like(y) if y.dtype in DISCRETE_DTYPES else zeros_like(y)
        else:
            if self.set_instead_of_inc:
                gx = type(self)(set_instead_of_inc=True)(g, zeros_like(y), *idx)
            else:
                gx = g
            gy = _sum_grad_over_bcasted_dims(y, self._get_op()(g, *idx))
        return [gx, gy] + [DisconnectedType()() for _ in idx]


class AdvancedIncSubtensor(BaseAdvancedIncSubtensor):
    """The increment/set of :class:`AdvancedSubtensor` (integer arrays, no masks)."""

    _check_index = AdvancedSubtensor._check_index

    @staticmethod
    def _get_op():
        return advanced_subtensor


class AdvancedBooleanIncSubtensor(BaseAdvancedIncSubtensor):
    """The increment/set of :class:`AdvancedBooleanSubtensor`."""

    @staticmethod
    def _get_op():
        return advanced_boolean_subtensor


advanced_inc_subtensor = AdvancedIncSubtensor()
advanced_set_subtensor = AdvancedIncSubtensor(set_instead_of_inc=True)
advanced_boolean_inc_subtensor = AdvancedBooleanIncSubtensor()
advanced_boolean_set_subtensor = AdvancedBooleanIncSubtensor(set_instead_of_inc=True)

__all__ = [
    "AdvancedBooleanIncSubtensor",
    "AdvancedBooleanSubtensor",
    "AdvancedIncSubtensor",
    "AdvancedIncSubtensor1",
    "AdvancedSubtensor",
    "AdvancedSubtensor1",
    "BaseAdvancedIncSubtensor",
    "BaseAdvancedSubtensor",
    "adv_index_broadcastable_pattern",
    "advanced_boolean_inc_subtensor",
    "advanced_boolean_set_subtensor",
    "advanced_boolean_subtensor",
    "advanced_inc_subtensor",
    "advanced_inc_subtensor1",
    "advanced_set_subtensor",
    "advanced_set_subtensor1",
    "advanced_subtensor",
    "advanced_subtensor1",
    "as_index_variable",
]

"""Basic indexing (``x[1:3, i]``): the Subtensor view, IncSubtensor, and ``x[...]`` itself.

``get_item`` (what ``TensorVariable.__getitem__`` calls) follows Theano 1.0: integers,
slices (constant or symbolic bounds), ``...`` and ``None`` give a :class:`Subtensor`, a view
of the input (``None`` inserts a broadcastable dimension with a DimShuffle first); integer
arrays, lists and boolean masks give the copying ops of
:mod:`tgraph.tensor.advanced_subtensor`. ``set_subtensor``/``inc_subtensor`` read how their
first argument was indexed and build the matching increment op.

A Subtensor's ``idx_list`` holds, in place of every integer, its scalar *type* (``int64``,
``int32``...): the values are node inputs, so one hashable Op serves every value, and a
symbolic index costs nothing more than a constant one. ``str`` shows that template, as
Theano does (``Subtensor{int64:int64:}``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import DisconnectedType
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.op import Op
from tgraph.graph.type import Type
from tgraph.scalar.type import ScalarType
from tgraph.tensor import math as tm
from tgraph.tensor.advanced_subtensor import (
    AdvancedBooleanIncSubtensor,
    AdvancedBooleanSubtensor,
    AdvancedIncSubtensor,
    AdvancedIncSubtensor1,
    AdvancedSubtensor,
    AdvancedSubtensor1,
    advanced_boolean_inc_subtensor,
    advanced_boolean_set_subtensor,
    advanced_boolean_subtensor,
    advanced_inc_subtensor,
    advanced_inc_subtensor1,
    advanced_set_subtensor,
    advanced_set_subtensor1,
    advanced_subtensor,
    advanced_subtensor1,
)
from tgraph.tensor.alloc import alloc, zeros_like
from tgraph.tensor.basic import (
    NotScalarConstantError,
    as_tensor_variable,
    constant,
    get_scalar_constant_value,
    get_vector_length,
    register_constant_value_finder,
)
from tgraph.tensor.elemwise import DimShuffle
from tgraph.tensor.indexing import (
    COMPLEX_DTYPES,
    DISCRETE_DTYPES,
    INTEGER_DTYPES,
    AdvancedBooleanIndexingError,
    AdvancedIndexingError,
    _describe,
    _fill,
    _hashable_idx,
    _str_idx,
    _sum_grad_over_bcasted_dims,
    collapse,
    convert_index,
    get_canonical_form_slice,
    get_idx_list,
    known_int,
    make_constant,
    slice_length,
)
from tgraph.tensor.rebroadcast import addbroadcast
from tgraph.tensor.scalar_conv import scalar_from_tensor
from tgraph.tensor.shape import Reshape, Shape
from tgraph.tensor.subtensor_c import SubtensorCMixin
from tgraph.tensor.type import TensorType


def _as_index_scalar(value, expected: ScalarType, op) -> Variable:
    """A node input for one template slot: a scalar variable of exactly ``expected``."""
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return expected.make_constant(expected.filter(value))
    if isinstance(value, Variable) and isinstance(value.type, TensorType):
        if value.ndim != 0:
            raise TypeError(f"{op}: an index input must be a scalar, got {_describe(value)}")
        value = scalar_from_tensor(value)
    if not isinstance(value, Variable) or value.type != expected:
        got = _describe(value) if isinstance(value, Variable) else repr(value)
        raise TypeError(f"{op}: wrong type for an index input: expected {expected}, got {got}")
    return value


class _IndexTemplateOp(Op):
    """Common parts of Subtensor and IncSubtensor: the template and its node inputs."""

    idx_list: tuple

    def __hash__(self):
        return hash((type(self), _hashable_idx(self.idx_list),
                     *(getattr(self, p) for p in self.__props__[1:])))

    def _index_inputs(self, x, inputs):
        if len(self.idx_list) > x.type.ndim:
            raise IndexError(
                f"{self}: too many indices for a {x.type.ndim}-dimensional tensor "
                f"({len(self.idx_list)} indices)"
            )
        expected = collapse(self.idx_list, lambda e: isinstance(e, Type))
        if len(inputs) != len(expected):
            raise TypeError(
                f"{self}: the template needs {len(expected)} index inputs, got {len(inputs)}"
            )
        return [_as_index_scalar(v, t, self) for v, t in zip(inputs, expected)]

    def get_constant_idx(self, inputs, allow_partial: bool = False,
                         only_process_constants: bool = False, elemwise: bool = True) -> list:
        """The index with known values as NumPy integers (``inputs`` starts with x).

        Unknown entries raise NotScalarConstantError, or stay variables with
        ``allow_partial``.
        """
        start = 2 if isinstance(self, IncSubtensor) else 1
        real = _fill(self.idx_list, list(inputs[start:]))

        def conv(v):
            if v is None:
                return None
            if isinstance(v, slice):
                return slice(conv(v.start), conv(v.stop), conv(v.step))
            try:
                return get_scalar_constant_value(
                    v, elemwise=elemwise, only_process_constants=only_process_constants)
            except NotScalarConstantError:
                if allow_partial:
                    return v
                raise

        return [conv(e) for e in real]


def _out_of_range(op, exc: Exception, shapes: str) -> Exception:
    return type(exc)(f"{op}: {exc} ({shapes})")


# ---------------------------------------------------------------------------------------------
# Subtensor


class Subtensor(SubtensorCMixin, _IndexTemplateOp):
    """``x[idx]`` for integers and slices: a view of x (``theano.tensor.subtensor.Subtensor``).

    ``idx_list`` is the template (see the module docstring); the node's inputs are x and
    then one integer scalar per Type in the template, in order.
    """

    __props__ = ("idx_list",)
    _c_kind = "subtensor"
    view_map = {0: [0]}
    e_invalid = "Invalid index type or slice for Subtensor"

    def __init__(self, idx_list: Sequence):
        self.idx_list = tuple(convert_index(e) for e in idx_list)

    convert = staticmethod(convert_index)
    collapse = staticmethod(collapse)

    def make_node(self, x, *inputs):
        x = as_tensor_variable(x)
        index_inputs = self._index_inputs(x, inputs)
        padded = self.get_constant_idx([x, *index_inputs], allow_partial=True)
        padded += [slice(None)] * (x.type.ndim - len(padded))
        bcast = []
        for entry, b in zip(padded, x.type.broadcastable):
            if isinstance(entry, slice):
                bcast.append(b and _selects_the_single_element(entry))
        return Apply(self, [x, *index_inputs], [TensorType(x.type.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        x = inputs[0]
        cdata = _fill(self.idx_list, inputs[1:])
        try:
            # The trailing Ellipsis makes NumPy return a view even when every index is an int.
            output_storage[0][0] = x[(*cdata, Ellipsis)]
        except (IndexError, ValueError) as exc:
            raise _out_of_range(self, exc, f"input shape {x.shape}") from None

    def infer_shape(self, node, input_shapes):
        xshp = input_shapes[0]
        idx = get_idx_list(node.inputs, self.idx_list)
        out = []
        for i, n in enumerate(xshp):
            entry = idx[i] if i < len(idx) else slice(None)
            if not isinstance(entry, slice):
                continue
            if entry.start is None and entry.stop is None and entry.step is None:
                out.append(n)
            else:
                out.append(slice_length(entry, n))
        return [tuple(out)]

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        x, rest = inputs[0], inputs[1:]
        if x.type.dtype in DISCRETE_DTYPES:
            first = zeros_like(x, dtype=config.floatX)
        else:
            first = IncSubtensor(self.idx_list)(zeros_like(x), gz, *rest)
        return [first] + [DisconnectedType()() for _ in rest]

    def connection_pattern(self, node):
        return [[True]] + [[False] for _ in node.inputs[1:]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(eval_points[0], *inputs[1:], return_list=True)

    def vector_length(self, node) -> int | None:
        """The output length when the input is a vector of known length and the slice known."""
        x = node.inputs[0]
        if node.outputs[0].ndim != 1 or x.ndim != 1 or not isinstance(self.idx_list[0], slice):
            return None
        try:
            n = get_vector_length(x)
        except (ValueError, TypeError):
            return None
        entry = get_idx_list(node.inputs, self.idx_list)[0]
        parts = [known_int(p) if p is not None else None for p in
                 (entry.start, entry.stop, entry.step)]
        if any(p is None and q is not None for p, q in
               zip(parts, (entry.start, entry.stop, entry.step))):
            return None
        return len(range(n)[slice(*parts)])

    @staticmethod
    def str_from_slice(entry: slice) -> str:
        return ":".join("" if p is None else str(p) for p in (entry.start, entry.stop, entry.step))

    def __str__(self):
        return f"{type(self).__name__}{{{_str_idx(self.idx_list)}}}"


def _selects_the_single_element(entry: slice) -> bool:
    """Whether a slice with known bounds keeps the one element of a size-1 dimension."""
    parts = []
    for p in (entry.start, entry.stop, entry.step):
        if p is None:
            parts.append(None)
            continue
        k = known_int(p)
        if k is None:
            return False
        parts.append(k)
    if parts[2] == 0:
        return False
    return len(range(1)[slice(*parts)]) == 1


@register_constant_value_finder(Subtensor)
def _subtensor_constant_value(var, recurse):
    """``shape(x)[i]`` is 1 when x's dimension i is broadcastable (or x is a constant), and
    an integer index into a constant is that element."""
    node = var.owner
    if var.ndim != 0:
        return None
    try:
        idx = node.op.get_constant_idx(node.inputs)
    except NotScalarConstantError:
        return None
    x = node.inputs[0]
    key = tuple(int(i) if not isinstance(i, slice) else i for i in idx)
    if isinstance(x, Constant):
        try:
            return np.asarray(x.data[key])
        except IndexError:
            return None
    if x.owner is not None and isinstance(x.owner.op, Shape) and len(key) == 1:
        inner = x.owner.inputs[0]
        i = key[0]
        i = i + inner.ndim if i < 0 else i
        if not 0 <= i < inner.ndim:
            return None
        if inner.type.broadcastable[i]:
            return np.int64(1)
        if isinstance(inner, Constant):
            return np.int64(inner.data.shape[i])
    return None


# ---------------------------------------------------------------------------------------------
# IncSubtensor


class IncSubtensor(SubtensorCMixin, _IndexTemplateOp):
    """x with ``x[idx]`` incremented by y, or set to y (``set_instead_of_inc``).

    y broadcasts into the region as in NumPy and is cast to x's dtype. ``inplace`` writes
    into x (destroy_map); otherwise x is copied first. The increment and set of a region
    whose elements do not repeat (basic indexing never repeats) need no accumulation.
    """

    __props__ = ("idx_list", "inplace", "set_instead_of_inc")
    _c_kind = "incsubtensor"

    def __init__(self, idx_list: Sequence, inplace: bool = False,
                 set_instead_of_inc: bool = False,
                 destroyhandler_tolerate_aliased: Sequence = ()):
        self.idx_list = tuple(convert_index(e) for e in idx_list)
        self.inplace = bool(inplace)
        if self.inplace:
            self.destroy_map = {0: [0]}
        self.set_instead_of_inc = bool(set_instead_of_inc)
        self.destroyhandler_tolerate_aliased = list(destroyhandler_tolerate_aliased or ())

    def make_node(self, x, y, *inputs):
        x = as_tensor_variable(x)
        y = as_tensor_variable(y)
        index_inputs = self._index_inputs(x, inputs)
        region_ndim = x.ndim - sum(not isinstance(e, slice) for e in self.idx_list)
        if y.ndim > region_ndim:
            verb = "set" if self.set_instead_of_inc else "increment"
            raise TypeError(
                f"{self}: Trying to {verb} a {region_ndim}-dimensional subtensor with a "
                f"{y.ndim}-dimensional value ({_describe(y)})."
            )
        if y.dtype in COMPLEX_DTYPES and x.dtype not in COMPLEX_DTYPES:
            raise TypeError(
                f"{self}: cannot store the complex {_describe(y)} into the real "
                f"{_describe(x)} (the imaginary part would be lost)"
            )
        return Apply(self, [x, y, *index_inputs], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        x, y = inputs[:2]
        cdata = _fill(self.idx_list, inputs[2:])
        if not self.inplace:
            x = x.copy()
        try:
            region = x[(*cdata, Ellipsis)]
            if self.set_instead_of_inc:
                np.copyto(region, y, casting="unsafe")
            else:
                np.add(region, y, out=region, casting="unsafe")
        except (IndexError, ValueError) as exc:
            raise _out_of_range(
                self, exc, f"x shape {x.shape}, y shape {np.shape(y)}") from None
        output_storage[0][0] = x

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None or eval_points[1] is None:
            return [None]
        return self(eval_points[0], eval_points[1], *inputs[2:], return_list=True)

    def connection_pattern(self, node):
        return [[True], [True]] + [[False] for _ in node.inputs[2:]]

    def grad(self, inputs, output_grads):
        (g,) = output_grads
        x, y = inputs[:2]
        rest = inputs[2:]
        if x.dtype in DISCRETE_DTYPES:
            gx = zeros_like(x, dtype=config.floatX)
            gy = zeros_like(y, dtype=config.floatX if y.dtype in DISCRETE_DTYPES
                                  else None)
        else:
            if self.set_instead_of_inc:
                gx = IncSubtensor(self.idx_list, set_instead_of_inc=True)(
                    g, zeros_like(y), *rest)
            else:
                gx = g
            gy = _sum_grad_over_bcasted_dims(y, Subtensor(self.idx_list)(g, *rest))
        return [gx, gy] + [DisconnectedType()() for _ in rest]

    def __str__(self):
        mode = ("Inplace" if self.inplace else "") + ("Set" if self.set_instead_of_inc else "Inc")
        return f"{type(self).__name__}{{{mode};{_str_idx(self.idx_list)}}}"


# ---------------------------------------------------------------------------------------------
# The front end: x[...], set_subtensor, inc_subtensor, take


def _is_full_slice(a) -> bool:
    return isinstance(a, slice) and a.start is None and a.stop is None and a.step is None


def _has_python_bool(a) -> bool:
    if isinstance(a, bool | np.bool_):
        return True
    if isinstance(a, list | tuple):
        return any(_has_python_bool(e) for e in a)
    return False


def _check_slice_bound(p) -> None:
    if p is None or (isinstance(p, int | np.integer) and not isinstance(p, bool | np.bool_)):
        return
    if isinstance(p, Variable):
        convert_index(p, slice_ok=False)
        return
    raise TypeError(f"slice bounds must be integers or None, got {type(p).__name__} {p!r}")


def _classify(arg) -> str:
    """'newaxis', 'ellipsis', 'basic', 'advanced' or 'mask' for one entry of an index."""
    if arg is None:
        return "newaxis"
    if arg is Ellipsis:
        return "ellipsis"
    if isinstance(arg, slice):
        for p in (arg.start, arg.stop, arg.step):
            _check_slice_bound(p)
        return "basic"
    if _has_python_bool(arg):
        raise TypeError(
            "TensorType does not support Python bools for indexing, such as "
            "tensor[[True, False]]. To use a boolean mask, convert the mask to a NumPy "
            "array first, e.g., tensor[numpy.array([True, False])]."
        )
    if isinstance(arg, int | np.integer):
        return "basic"
    if isinstance(arg, Variable) or isinstance(arg, np.ndarray):
        dtype = str(arg.dtype) if isinstance(arg, np.ndarray) else getattr(arg.type, "dtype", None)
        ndim = arg.ndim if isinstance(arg, np.ndarray) else getattr(arg.type, "ndim", None)
        if dtype == "bool":
            if ndim == 0:
                raise TypeError(
                    "a 0-d boolean index is not supported; use x[None] or switch() instead")
            return "mask"
        if dtype not in INTEGER_DTYPES:
            what = _describe(arg) if isinstance(arg, Variable) else f"{dtype} array"
            raise TypeError(f"index must be an integer, got {what}")
        return "basic" if ndim == 0 else "advanced"
    if isinstance(arg, list | tuple):
        return "advanced"
    raise TypeError(f"unsupported index {arg!r} of type {type(arg).__name__}")


def _expand_ellipsis(x, args: tuple, kinds: list) -> tuple[list, list]:
    used = sum(
        (getattr(a, "ndim", 1) if k == "mask" else 1)
        for a, k in zip(args, kinds) if k not in ("newaxis", "ellipsis")
    )
    if used > x.ndim:
        raise IndexError(
            f"too many indices for array: tensor is {x.ndim}-dimensional, but {used} were indexed"
        )
    n_ell = kinds.count("ellipsis")
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    args, kinds = list(args), list(kinds)
    if n_ell == 1:
        at = kinds.index("ellipsis")
        fill = x.ndim - used
        args[at:at + 1] = [slice(None)] * fill
        kinds[at:at + 1] = ["basic"] * fill
    return args, kinds


def _normalize_entry(a):
    """0-d integer arrays are integers; an empty list or array index is int64 (not float64)."""
    if isinstance(a, np.ndarray) and a.ndim == 0 and a.dtype.kind in "iu":
        return int(a)
    if isinstance(a, list | tuple | np.ndarray) and np.size(a) == 0:
        if not (isinstance(a, np.ndarray) and a.dtype == bool):
            return np.asarray(a, dtype="int64")
    return a


def get_item(x, index):
    """``x[index]`` with Theano 1.0's semantics (what ``TensorVariable.__getitem__`` calls).

    Integers, slices, ``...`` and ``None`` give a Subtensor view (after a DimShuffle for
    ``None``). One integer array with only full slices elsewhere gives ``take`` (an
    AdvancedSubtensor1, transposed for other axes); any other mix of arrays gives
    AdvancedSubtensor, and boolean masks AdvancedBooleanSubtensor. Python bools and lists
    of them are refused, as in Theano. One difference from NumPy: ``...`` is expanded to
    full slices first, so an Ellipsis standing for no dimension does not separate two
    index arrays (NumPy would then move their dimensions first).
    """
    x = as_tensor_variable(x)
    if isinstance(index, list) and any(isinstance(a, slice) for a in index):
        index = tuple(index)  # Theano (and old NumPy) read such a list as a tuple
    elif not isinstance(index, tuple):
        index = (index,)
    index = tuple(_normalize_entry(a) for a in index)
    kinds = [_classify(a) for a in index]
    args, kinds = _expand_ellipsis(x, index, kinds)

    if "mask" in kinds or "advanced" in kinds:
        return _advanced_get_item(x, args, kinds)
    if "newaxis" in kinds:
        pattern, rest, counter = [], [], 0
        for a, k in zip(args, kinds):
            if k == "newaxis":
                pattern.append("x")
                rest.append(slice(None))
            else:
                pattern.append(counter)
                counter += 1
                rest.append(a)
        pattern += list(range(counter, x.ndim))
        view = DimShuffle(x.type.broadcastable, pattern)(x)
        if all(_is_full_slice(a) for a in rest):
            return view
        return get_item(view, tuple(rest))
    args = make_constant(args)
    return Subtensor(args)(x, *collapse(args, lambda e: isinstance(e, Variable)))


def _advanced_get_item(x, args: list, kinds: list):
    adv_pos = [i for i, k in enumerate(kinds) if k in ("advanced", "mask")]
    if (len(adv_pos) == 1 and kinds[adv_pos[0]] == "advanced"
            and all(_is_full_slice(a) for i, a in enumerate(args) if i != adv_pos[0])):
        return take(x, args[adv_pos[0]], adv_pos[0])
    index = [_as_advanced_index(a, k) for a, k in zip(args, kinds)]
    if "mask" in kinds:
        return advanced_boolean_subtensor(x, *index)
    return advanced_subtensor(x, *index)


def _as_advanced_index(a, kind: str):
    if kind == "newaxis":
        return None
    if isinstance(a, slice):
        return slice(*(_int_const(p) for p in (a.start, a.stop, a.step)))
    return _int_const(a)


def _int_const(a):
    if isinstance(a, int | np.integer) and not isinstance(a, bool | np.bool_):
        return constant(np.int64(a))
    if isinstance(a, list | tuple):
        # Lists of symbolic scalars are stacked; plain nested lists become constants.
        return as_tensor_variable(a)
    return a


def set_subtensor(x, y, inplace: bool = False, tolerate_inplace_aliasing: bool = False):
    """x's indexed tensor with the region ``x`` selects replaced by y (``r[10:] = 5``).

    ``x`` must be the result of indexing (``set_subtensor(r[10:], 5)``).
    """
    return inc_subtensor(x, y, inplace, set_instead_of_inc=True,
                         tolerate_inplace_aliasing=tolerate_inplace_aliasing)


def inc_subtensor(x, y, inplace: bool = False, set_instead_of_inc: bool = False,
                  tolerate_inplace_aliasing: bool = False):
    """x's indexed tensor with y added to the region ``x`` selects (``r[10:] += 5``).

    Rebuilds the increment op that matches how ``x`` was indexed: IncSubtensor for basic
    indexing, AdvancedIncSubtensor1 / AdvancedIncSubtensor for advanced indexing (repeated
    indices accumulate; with set, the last one wins), and through the DimShuffle and
    Reshape that ``take`` adds. y broadcasts into the region; it may not have more
    dimensions than the region.
    """
    x = as_tensor_variable(x)
    y = as_tensor_variable(y)
    if y.ndim > x.ndim:
        raise TypeError(
            f"Trying to increment a {x.ndim}-dimensional subtensor with a "
            f"{y.ndim}-dimensional value."
        )
    offset = x.ndim - y.ndim
    for d in range(y.ndim):
        if x.broadcastable[d + offset] and not y.broadcastable[d]:
            # y must then have length 1 there: checked at run time by Rebroadcast.
            y = addbroadcast(y, d)
    if x.owner is None:
        raise TypeError("x must be the result of a subtensor operation (x[...])")
    op = x.owner.op
    if isinstance(op, Subtensor):
        tolerate = [[0, 1]] if tolerate_inplace_aliasing else []
        the_op = IncSubtensor(op.idx_list, inplace, set_instead_of_inc,
                              destroyhandler_tolerate_aliased=tolerate)
        return the_op(x.owner.inputs[0], y, *x.owner.inputs[1:])
    if isinstance(op, AdvancedSubtensor1):
        the_op = AdvancedIncSubtensor1(inplace, set_instead_of_inc=set_instead_of_inc)
        return the_op(x.owner.inputs[0], y, x.owner.inputs[1])
    if isinstance(op, AdvancedBooleanSubtensor):
        the_op = AdvancedBooleanIncSubtensor(inplace, set_instead_of_inc=set_instead_of_inc)
        return the_op(x.owner.inputs[0], y, *x.owner.inputs[1:])
    if isinstance(op, AdvancedSubtensor):
        the_op = AdvancedIncSubtensor(inplace, set_instead_of_inc=set_instead_of_inc)
        return the_op(x.owner.inputs[0], y, *x.owner.inputs[1:])
    if isinstance(op, DimShuffle):
        # take() on an axis other than 0 indexes a transposed view: increment the view
        # (with y transposed the same way) and transpose the result back.
        inner = x.owner.inputs[0]
        y_order: list = ["x"] * inner.ndim
        for i, v in enumerate(op.new_order):
            if v != "x" and v - offset >= 0:
                y_order[v - offset] = i
        inner_inc = inc_subtensor(inner, y.dimshuffle(y_order), inplace=inplace,
                                  set_instead_of_inc=set_instead_of_inc,
                                  tolerate_inplace_aliasing=tolerate_inplace_aliasing)
        return inner_inc.dimshuffle(list(op.new_order))
    if isinstance(op, Reshape):
        # take() with an n-d index reshapes a flat selection: increment the flat one.
        inner = x.owner.inputs[0]
        flat_y = y
        if y.ndim > 0:
            flat_y = alloc(y, *[x.shape[i] for i in range(x.ndim)]).reshape(inner.shape)
        return inc_subtensor(inner, flat_y, inplace=inplace,
                             set_instead_of_inc=set_instead_of_inc,
                             tolerate_inplace_aliasing=tolerate_inplace_aliasing)
    raise TypeError(f"x must be the result of a subtensor operation (x[...]), not of {op}")


def take(a, indices, axis: int | None = None, mode: str = "raise"):
    """Elements of ``a`` at ``indices`` along ``axis`` (flattened when None), as numpy.take.

    ``mode``: 'raise' (an index out of range is an error at run time), 'wrap' (modulo the
    length) or 'clip' (to the valid range).
    """
    if mode not in ("raise", "wrap", "clip"):
        raise ValueError(f"take: mode must be 'raise', 'wrap' or 'clip', got {mode!r}")
    a = as_tensor_variable(a)
    indices = as_tensor_variable(indices)
    if indices.dtype not in INTEGER_DTYPES:
        raise TypeError(f"take: indices must be integers, got {_describe(indices)}")
    if axis is None:
        a = a.flatten()
        axis = 0
    if not -a.ndim <= axis < a.ndim:
        raise ValueError(f"take: axis {axis} is out of range for a {a.ndim}-d tensor")
    axis = axis + a.ndim if axis < 0 else axis
    if mode == "clip":
        indices = tm.clip(indices, 0, a.shape[axis] - 1)
    elif mode == "wrap":
        indices = indices % a.shape[axis]
    if indices.ndim == 1:
        if axis == 0:
            return advanced_subtensor1(a, indices)
        swap = list(range(a.ndim))
        swap[0], swap[axis] = axis, 0
        return advanced_subtensor1(a.dimshuffle(swap), indices).dimshuffle(swap)
    shape = ([a.shape[i] for i in range(axis)] + [indices.shape[i] for i in range(indices.ndim)]
             + [a.shape[i] for i in range(axis + 1, a.ndim)])
    flat = take(a, indices.flatten(), axis, "raise")
    return flat.reshape(shape, a.ndim + indices.ndim - 1)


# The advanced ops are listed too: Theano users find them in theano.tensor.subtensor.
__all__ = [
    "AdvancedBooleanIncSubtensor",
    "AdvancedBooleanIndexingError",
    "AdvancedBooleanSubtensor",
    "AdvancedIncSubtensor",
    "AdvancedIncSubtensor1",
    "AdvancedIndexingError",
    "AdvancedSubtensor",
    "AdvancedSubtensor1",
    "IncSubtensor",
    "Subtensor",
    "advanced_boolean_inc_subtensor",
    "advanced_boolean_set_subtensor",
    "advanced_boolean_subtensor",
    "advanced_inc_subtensor",
    "advanced_inc_subtensor1",
    "advanced_set_subtensor",
    "advanced_set_subtensor1",
    "advanced_subtensor",
    "advanced_subtensor1",
    "collapse",
    "convert_index",
    "get_canonical_form_slice",
    "get_idx_list",
    "get_item",
    "inc_subtensor",
    "make_constant",
    "set_subtensor",
    "take",
]

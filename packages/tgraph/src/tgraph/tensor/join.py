"""Joining and splitting tensors: Join (concatenate, stack), Split, roll and tile.

``join``'s axis may be symbolic; when it is a constant, the output's broadcast pattern is
known (a non-joined dimension is broadcastable when one input says so, as in Theano 1.0).
Join's gradient is a Split of the output gradient and Split's a Join, so neither needs the
indexing ops. ``stack`` is registered as the list stacker of ``as_tensor_variable``, so
``as_tensor_variable([x, y])`` stacks symbolic entries.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import DisconnectedType, grad_undefined
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.scalar.type import upcast
from tgraph.tensor.alloc import alloc, ones, zeros_like
from tgraph.tensor.basic import (
    as_tensor_variable,
    constant,
    get_vector_length,
    register_list_stacker,
)
from tgraph.tensor.join_c import JOIN_C_VERSION, JOIN_SUPPORT, join_c_code
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.shape import (
    DISCRETE_DTYPES,
    INTEGER_DTYPES,
    MakeVector,
    _as_int,
    _describe,
    as_shape_vector,
    constant_int,
    dim,
    flatten,
    prod_entries,
    reshape,
    shape,
    shape_entries,
    shape_padaxis,
)
from tgraph.tensor.type import TensorType
from tgraph.tensor.variable import _lib


def _sum_entries(entries: Sequence[Any]):
    """Sum of shape entries: an int when all are ints, else a symbolic scalar."""
    known = 0
    symbolic = []
    for e in entries:
        as_int = _as_int(e)
        if as_int is None:
            symbolic.append(e)
        else:
            known += as_int
    if not symbolic:
        return known
    out = symbolic[0]
    for e in symbolic[1:]:
        out = out + e
    return out + known if known else out


def _axis_input(axis: Any, ndim: int, where: str):
    """The axis as an integer scalar variable (normalized when constant) and its value or None.
    """
    known = _as_int(axis)
    if known is None and isinstance(axis, Variable):
        v = as_tensor_variable(axis)
        if v.ndim != 0 or v.dtype not in INTEGER_DTYPES:
            raise TypeError(f"{where}: axis must be an integer scalar, got {_describe(v)}")
        known = constant_int(v)
        if known is None:
            return v, None
    elif known is None:
        raise TypeError(f"{where}: axis must be an integer, got {type(axis).__name__} {axis!r}")
    if not -ndim <= known < ndim:
        raise IndexError(f"{where}: axis {known} is out of range for {ndim}-d tensors")
    known = known + ndim if known < 0 else known
    return constant(np.asarray(known, dtype="int64")), known


def _runtime_axis(where: str, axis, ndim: int) -> int:
    axis = int(axis)
    if not -ndim <= axis < ndim:
        raise IndexError(f"{where}: axis {axis} is out of range for {ndim}-d tensors")
    return axis + ndim if axis < 0 else axis


class Join(Op):
    """Concatenate tensors along an axis: ``Join()(axis, *tensors)`` (numpy.concatenate).

    Inputs must have the same number of dimensions (at least 1) and the same size on every
    other axis (checked at run time, naming the shapes). The output dtype is the upcast of
    the inputs'. ``view=i`` lets the output be input ``i`` itself when all other inputs are
    empty along the axis (Theano 1.0's option; then view_map is declared).
    """

    __props__ = ("view",)

    def __init__(self, view: int = -1):
        self.view = int(view)
        if self.view != -1:
            self.view_map = {0: [1 + self.view]}

    def __str__(self):
        return "Join" if self.view == -1 else f"Join{{view={self.view}}}"

    def __setstate__(self, d):
        self.__dict__.update(d)
        self.__dict__.setdefault("view", -1)

    def make_node(self, axis, *tensors):
        if not tensors:
            raise ValueError(f"{self}: cannot join an empty list of tensors")
        ts = [as_tensor_variable(t) for t in tensors]
        for k, t in enumerate(ts):
            if t.ndim == 0:
                raise TypeError(
                    f"{self}: input {k} is a scalar ({_describe(t)}); Join needs at least one "
                    "dimension: use stack to join scalars"
                )
        ndims = [t.ndim for t in ts]
        if len(set(ndims)) > 1:
            raise TypeError(
                f"{self}: all tensors must have the same number of dimensions, got "
                f"{', '.join(str(t.type) for t in ts)}"
            )
        ndim = ndims[0]
        axis_var, known = _axis_input(axis, ndim, str(self))
        if len(ts) == 1:
            bcast = list(ts[0].type.broadcastable)
        elif known is not None:
            bcast = [any(t.type.broadcastable[d] for t in ts) and d != known
                     for d in range(ndim)]
        else:
            bcast = [False] * ndim
        out_dtype = upcast(*[t.dtype for t in ts])
        return Apply(self, [axis_var, *ts], [TensorType(out_dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        axis_value, tensors = inputs[0], inputs[1:]
        axis = _runtime_axis(str(self), axis_value, tensors[0].ndim)
        ref = tensors[0].shape
        for k, t in enumerate(tensors[1:], start=1):
            if any(t.shape[d] != ref[d] for d in range(len(ref)) if d != axis):
                raise ValueError(
                    f"{self}: input {k} has shape {t.shape} but input 0 has shape {ref}; all "
                    f"dimensions except the join axis {axis} must match"
                )
        view = self.view
        if view != -1 and all(t.shape[axis] == 0 for i, t in enumerate(tensors) if i != view):
            output_storage[0][0] = tensors[view]
            return
        output_storage[0][0] = np.concatenate(
            tensors, axis=axis, dtype=node.outputs[0].type.dtype, casting="unsafe"
        )

    # -- C (text only; see join_c) ----------------------------------------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return join_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return JOIN_SUPPORT

    def c_code_cache_version(self):
        return JOIN_C_VERSION

    def R_op(self, inputs, eval_points):
        if any(e is None for e in eval_points[1:]):
            return [None]
        return self.make_node(inputs[0], *eval_points[1:]).outputs

    def grad(self, inputs, output_grads):
        (gz,) = output_grads
        axis, tensors = inputs[0], inputs[1:]
        rval = [grad_undefined(self, 0, axis)]
        out_dtype = upcast(*[t.dtype for t in tensors])
        if out_dtype in DISCRETE_DTYPES:
            # An integer output carries no gradient.
            return rval + [zeros_like(t, dtype=config.floatX) for t in tensors]
        known = constant_int(axis)
        if known is not None:
            sizes = [dim(t, known) for t in tensors]
        else:
            sizes = [shape(t)[axis] for t in tensors]
        parts = Split(len(tensors))(gz, axis, sizes, return_list=True)
        return rval + [patternbroadcast(g, t.type.broadcastable)
                       for g, t in zip(parts, tensors)]

    def infer_shape(self, node, input_shapes):
        shapes = input_shapes[1:]
        ndim = len(shapes[0])
        axis = node.inputs[0]
        known = constant_int(axis)
        if known is not None:
            known = known + ndim if known < 0 else known
            out = list(shapes[0])
            out[known] = _sum_entries([s[known] for s in shapes])
            return [tuple(out)]
        math = _lib("math")
        join_dim = math.switch(math.ge(axis, 0), axis, axis + ndim)
        out = []
        for d in range(ndim):
            joined = _sum_entries([s[d] for s in shapes])
            out.append(math.switch(math.eq(d, join_dim), joined, shapes[0][d]))
        return [tuple(out)]


join_ = Join()


def join(axis: Any, *tensors_list):
    """Concatenate ``tensors_list`` along ``axis`` (an int or an integer scalar variable).

    One tensor is returned as is, as in Theano 1.0.
    """
    if len(tensors_list) == 1:
        return as_tensor_variable(tensors_list[0])
    return join_(axis, *tensors_list)


def concatenate(tensor_list: Sequence[Any], axis: Any = 0):
    """``join(axis, *tensor_list)`` with numpy.concatenate's signature."""
    if not isinstance(tensor_list, list | tuple):
        raise TypeError(
            "concatenate: the tensors must be given as a list or tuple (did you write "
            f"concatenate(x, y) instead of concatenate([x, y])?); got {tensor_list!r}"
        )
    return join(axis, *tensor_list)


def _is_scalar_like(t: Any) -> bool:
    if isinstance(t, Variable):
        return isinstance(t.type, TensorType) and t.type.ndim == 0
    return isinstance(t, int | float | complex | np.number | np.bool_)


def stack(*tensors, **kwargs):
    """Stack tensors along a new axis: ``stack(tensors, axis=0)`` (numpy.stack).

    Theano 1.0's deprecated form ``stack(*tensors)`` is accepted with a DeprecationWarning.
    Scalars are packed with MakeVector (of their upcast dtype), as Theano 1.0 does.
    """
    unknown = set(kwargs) - {"tensors", "axis"}
    if unknown:
        raise TypeError(f"stack: unexpected keyword arguments {sorted(unknown)}")
    if not tensors and not kwargs:
        raise TypeError("stack: expected a list of tensors: stack(tensors, axis=0)")
    if "tensors" in kwargs:
        if tensors:
            raise TypeError("stack: tensors given both positionally and by keyword")
        tensors = kwargs["tensors"]
        axis = kwargs.get("axis", 0)
    elif not kwargs and not isinstance(tensors[0], list | tuple):
        warnings.warn("stack(*tensors) is deprecated: use stack(tensors, axis=0)",
                      DeprecationWarning, stacklevel=2)
        axis = 0
    else:
        if len(tensors) > 2 or (len(tensors) == 2 and "axis" in kwargs):
            raise TypeError("stack: expected stack(tensors, axis=0)")
        axis = tensors[1] if len(tensors) == 2 else kwargs.get("axis", 0)
        tensors = tensors[0]
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack: the list of tensors is empty")
    if all(_is_scalar_like(t) for t in tensors):
        ts = [as_tensor_variable(t) for t in tensors]
        return MakeVector(upcast(*[t.dtype for t in ts]))(*ts)
    return join(axis, *[shape_padaxis(as_tensor_variable(t), axis) for t in tensors])


register_list_stacker(stack)


def stacklists(arg):
    """Stack nested lists of tensors recursively, keeping their structure (a 2x2 list of
    scalars gives a 2x2 matrix; of matrices, a (2, 2, m, n) tensor)."""
    if isinstance(arg, list | tuple):
        return stack([stacklists(a) for a in arg])
    return arg


def _check_matrices(where: str, args) -> None:
    if len(args) < 2:
        raise ValueError(f"{where}: expected at least 2 matrices, got {len(args)}")
    for k, a in enumerate(args):
        a = as_tensor_variable(a)
        if a.ndim != 2:
            raise TypeError(f"{where}: argument {k} must be a matrix, got {_describe(a)}")


def horizontal_stack(*args):
    """Join matrices along their columns (axis 1)."""
    _check_matrices("horizontal_stack", args)
    return concatenate(args, axis=1)


def vertical_stack(*args):
    """Join matrices along their rows (axis 0)."""
    _check_matrices("vertical_stack", args)
    return concatenate(args, axis=0)


# ---------------------------------------------------------------------------------------------
# Split


class Split(Op):
    """Cut ``x`` along ``axis`` into ``len_splits`` pieces of sizes ``splits`` (copies).

    ``Split(n)(x, axis, splits)``: the sizes must be non-negative and sum to ``x``'s size
    along the axis (checked at run time, naming both). The split axis of the outputs is not
    broadcastable (a piece may be empty); with a symbolic axis no output dimension is.
    """

    __props__ = ("len_splits",)

    def __init__(self, len_splits: int):
        self.len_splits = int(len_splits)

    def __str__(self):
        return f"Split{{{self.len_splits}}}"

    def make_node(self, x, axis, splits):
        x = as_tensor_variable(x)
        if x.ndim == 0:
            raise TypeError(f"{self}: cannot split a scalar ({_describe(x)})")
        axis_var, known = _axis_input(axis, x.ndim, str(self))
        splits = as_shape_vector(splits, str(self))
        try:
            length = get_vector_length(splits)
        except ValueError:
            length = None
        if length is not None and length != self.len_splits:
            raise ValueError(f"{self}: got {length} split sizes, expected {self.len_splits}")
        if known is not None:
            bcast = list(x.type.broadcastable)
            bcast[known] = False
        else:
            bcast = [False] * x.ndim
        outs = [TensorType(x.dtype, bcast)() for _ in range(self.len_splits)]
        return Apply(self, [x, axis_var, splits], outs)

    def perform(self, node, inputs, output_storage, params=None):
        x, axis_value, splits = inputs
        axis = _runtime_axis(str(self), axis_value, x.ndim)
        splits = [int(s) for s in np.asarray(splits).reshape(-1)]
        if len(splits) != self.len_splits:
            raise ValueError(f"{self}: got {len(splits)} split sizes, expected "
                             f"{self.len_splits}")
        if any(s < 0 for s in splits):
            raise ValueError(f"{self}: split sizes must be non-negative, got {splits}")
        if sum(splits) != x.shape[axis]:
            raise ValueError(
                f"{self}: the split sizes {splits} sum to {sum(splits)}, but the input of shape "
                f"{x.shape} has {x.shape[axis]} elements along axis {axis}"
            )
        index: list = [slice(None)] * x.ndim
        start = 0
        for k, size in enumerate(splits):
            index[axis] = slice(start, start + size)
            output_storage[k][0] = x[tuple(index)].copy()
            start += size

    def infer_shape(self, node, input_shapes):
        x, axis, splits = node.inputs
        shp = input_shapes[0]
        sizes = shape_entries(splits)
        if sizes is None:
            sizes = [splits[k] for k in range(self.len_splits)]
        known = constant_int(axis)
        out = []
        for size in sizes:
            if known is not None:
                entry = list(shp)
                entry[known] = size
            else:
                math = _lib("math")
                entry = [math.switch(math.eq(d, axis), size, shp[d]) for d in range(len(shp))]
            out.append(tuple(entry))
        return out

    def grad(self, inputs, output_grads):
        x, axis, splits = inputs
        undefined = [grad_undefined(self, 1, axis), grad_undefined(self, 2, splits)]
        if all(isinstance(g.type, DisconnectedType) for g in output_grads):
            return [DisconnectedType()(), *undefined]
        outputs = self(*inputs, return_list=True)
        parts = [o.zeros_like() if isinstance(g.type, DisconnectedType) else g
                 for o, g in zip(outputs, output_grads)]
        gx = join(axis, *parts)
        return [patternbroadcast(gx, x.type.broadcastable), *undefined]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None] * self.len_splits
        return self.make_node(eval_points[0], *inputs[1:]).outputs


def split(x, splits_size, n_splits: int, axis: Any = 0):
    """Cut ``x`` along ``axis`` into ``n_splits`` pieces of sizes ``splits_size``."""
    return Split(n_splits)(x, axis, splits_size)


# ---------------------------------------------------------------------------------------------
# roll and tile


def roll(x, shift, axis: int | None = None):
    """``x`` shifted cyclically by ``shift`` along ``axis`` (numpy.roll; None: flattened)."""
    x = as_tensor_variable(x)
    if axis is None:
        if x.ndim > 1:
            return reshape(roll(flatten(x), shift, axis=0), shape(x), ndim=x.ndim)
        axis = 0
    if x.ndim == 0:
        raise TypeError(f"roll: cannot roll a scalar ({_describe(x)})")
    as_int = _as_int(axis)
    if as_int is None:
        raise TypeError(f"roll: axis must be an integer, got {axis!r}")
    if not -x.ndim <= as_int < x.ndim:
        raise IndexError(f"roll: axis {as_int} is out of range for {_describe(x)}")
    axis = as_int + x.ndim if as_int < 0 else as_int
    n = dim(x, axis)
    if isinstance(n, int) and n == 1:
        return x
    shift = shift % n
    before: list = [slice(None)] * axis
    front = x[(*before, slice(-shift, None))]
    back = x[(*before, slice(0, -shift))]
    return join(axis, front, back)


def tile(x, reps, ndim: int | None = None):
    """``x`` repeated ``reps`` times along each dimension (numpy.tile).

    ``reps`` may be an int, a list of ints / integer scalars, or an integer vector (then
    ``ndim``, the number of output dimensions, must be given unless its length is known).
    """
    x = as_tensor_variable(x)
    if ndim is not None and ndim < x.ndim:
        raise ValueError(f"tile: ndim={ndim} is smaller than the {x.ndim} dimensions of x")
    if isinstance(reps, list | tuple):
        reps = list(reps)
        for k, r in enumerate(reps):
            if _as_int(r) is None and not (
                isinstance(r, Variable) and as_tensor_variable(r).ndim == 0
                and as_tensor_variable(r).dtype in DISCRETE_DTYPES
            ):
                raise ValueError(f"tile: reps entry {k} must be an integer scalar, got {r!r}")
        if ndim is not None and len(reps) > ndim:
            raise ValueError(f"tile: {len(reps)} reps for ndim={ndim}")
    else:
        r = as_tensor_variable(reps)
        if r.dtype not in DISCRETE_DTYPES:
            raise ValueError(f"tile: reps must be integers, got {_describe(r)}")
        if r.ndim == 0:
            reps = [r]
        elif r.ndim == 1:
            entries = shape_entries(r)
            if entries is not None:
                reps = entries
            elif ndim is None:
                raise ValueError("tile: with a symbolic vector of reps, give ndim")
            else:
                # Pad reps with leading ones to ndim entries (an error at run time when the
                # vector is longer than ndim).
                padded = join(0, ones([ndim - dim(r, 0)], dtype=r.dtype), r)
                reps = [padded[i] for i in range(ndim)]
        else:
            raise ValueError(f"tile: reps must be a scalar or a vector, got {_describe(r)}")
    if ndim is None:
        ndim = max(len(reps), x.ndim)
    if len(reps) > ndim:
        raise ValueError(f"tile: {len(reps)} reps for ndim={ndim}")
    reps = [1] * (ndim - len(reps)) + list(reps)
    shp = [1] * (ndim - x.ndim) + [dim(x, i) for i in range(x.ndim)]
    y = alloc(x, *reps, *shp)
    y = y.dimshuffle(*[k for i in range(ndim) for k in (i, ndim + i)])
    new_shape = [prod_entries([r, s]) for r, s in zip(reps, shp)]
    return reshape(y, new_shape, ndim=ndim)


__all__ = [
    "Join",
    "Split",
    "concatenate",
    "horizontal_stack",
    "join",
    "roll",
    "split",
    "stack",
    "stacklists",
    "tile",
    "vertical_stack",
]

"""Shapes as graph values, and the ops that change a tensor's shape without touching its data.

``Shape``/``Shape_i`` read a shape at run time; ``MakeVector`` packs symbolic integers into a
shape vector; ``Reshape`` and ``SpecifyShape`` return views of their input. ``transpose``,
``swapaxes`` and the ``shape_pad*`` helpers (DimShuffles) live in :mod:`tgraph.tensor.axes`
and are re-exported here, where TensorVariable's methods look for them.

Other op modules (elemwise, math, subtensor) are reached by module name at call time
(:func:`tgraph.tensor.variable._lib`, or the variables' own methods), as TensorVariable's methods
do: this module stays importable on its own and no import cycle can form.

Shape entries computed here use ``Shape_i`` directly (or the constant 1 for a broadcastable
dimension) rather than ``x.shape[i]``: the value is the same, the graph is smaller and does not
need the indexing ops.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import DisconnectedType
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.op import Op
from tgraph.scalar.type import upcast
from tgraph.tensor.axes import (
    shape_padaxis,
    shape_padleft,
    shape_padright,
    swapaxes,
    transpose,
)
from tgraph.tensor.basic import (
    NotScalarConstantError,
    as_tensor_variable,
    constant,
    get_scalar_constant_value,
    get_vector_length,
    register_constant_value_finder,
)
from tgraph.tensor.rebroadcast import addbroadcast, patternbroadcast, unbroadcast
from tgraph.tensor.shape_c import SPECIFY_SHAPE_SUPPORT, ShapeCMixin, specify_shape_c_code
from tgraph.tensor.type import TensorType
from tgraph.tensor.variable import _lib

INTEGER_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
DISCRETE_DTYPES = ("bool", *INTEGER_DTYPES)


class SpecifyShapeError(AssertionError, ValueError):
    """A value does not have the shape the graph declared for it (``specify_shape``).

    An AssertionError as in Theano 1.0 (whose SpecifyShape asserted), and a ValueError.
    """


def _disconnected():
    """A placeholder for the gradient of an input the output does not depend on."""
    return DisconnectedType()()


def _describe(var) -> str:
    """``'a float32 matrix'``-style description of a variable for error messages."""
    return f"{var} ({var.type})"


def _as_int(value: Any) -> int | None:
    """``value`` as a Python int when it is an integral number, else None."""
    if isinstance(value, numbers.Integral | np.integer):
        return int(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iub":
        return int(value)
    return None


def constant_int(var: Any) -> int | None:
    """The value of ``var`` as a Python int when the graph makes it a known constant."""
    as_int = _as_int(var)
    if as_int is not None:
        return as_int
    if not isinstance(var, Variable):
        return None
    try:
        value = get_scalar_constant_value(var)
    except NotScalarConstantError:
        return None
    return _as_int(np.asarray(value))


def prod_entries(entries: Sequence[Any]):
    """Product of shape entries: a Python int when all are ints, else a symbolic scalar."""
    known = 1
    symbolic = []
    for e in entries:
        as_int = _as_int(e)
        if as_int is None:
            symbolic.append(e)
        else:
            known *= as_int
    if not symbolic:
        return known
    out = symbolic[0]
    for e in symbolic[1:]:
        out = out * e
    return out * known if known != 1 else out


# ---------------------------------------------------------------------------------------------
# MakeVector: symbolic integers packed into a vector (shape vectors, stack of scalars)


class MakeVector(ShapeCMixin, Op):
    """Pack scalars of one dtype into a vector (Theano 1.0's ``tensor.opt.MakeVector``).

    Inputs of another dtype are cast to ``dtype`` when that loses nothing (an int8 constant
    into an int64 shape vector); otherwise make_node refuses them. Works with zero inputs.
    """

    __props__ = ("dtype",)
    _c_kind = "makevector"

    def __init__(self, dtype: str = "int64"):
        self.dtype = str(np.dtype(dtype))

    def make_node(self, *inputs):
        inputs = [as_tensor_variable(i) for i in inputs]
        fixed = []
        for k, inp in enumerate(inputs):
            if inp.ndim != 0:
                raise TypeError(
                    f"{self}: input {k} must be a scalar, got {_describe(inp)}"
                )
            if inp.dtype != self.dtype:
                if upcast(self.dtype, inp.dtype) != self.dtype:
                    raise TypeError(
                        f"{self}: input {k} is {_describe(inp)}, which cannot be stored in "
                        f"{self.dtype} without loss; cast it first"
                    )
                if isinstance(inp, Constant):
                    inp = constant(np.asarray(inp.data).astype(self.dtype))
                else:
                    inp = inp.astype(self.dtype)
            fixed.append(inp)
        return Apply(self, fixed, [TensorType(self.dtype, (False,))()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = np.asarray(inputs, dtype=self.dtype).reshape(len(inputs))

    def vector_length(self, node) -> int:
        return len(node.inputs)

    def infer_shape(self, node, input_shapes):
        return [(len(node.inputs),)]

    def grad(self, inputs, output_grads):
        if self.dtype in DISCRETE_DTYPES:
            alloc = _lib("alloc")
            return [alloc.zeros_like(i, dtype=config.floatX) for i in inputs]
        (gz,) = output_grads
        return [gz[k] for k in range(len(inputs))]

    def R_op(self, inputs, eval_points):
        if any(e is None for e in eval_points):
            return [None]
        return self.make_node(*eval_points).outputs

    def __str__(self):
        return f"MakeVector{{dtype={self.dtype}}}"


make_vector = MakeVector()


def as_shape_vector(shape: Any, where: str):
    """A user's shape (ints, symbolic integer scalars, or a vector) as an integer vector.

    Lists mixing Python ints and symbolic scalars become a ``MakeVector`` of int64, lists of
    numbers an int64 constant. ``where`` names the caller in error messages.
    """
    if isinstance(shape, Variable):
        shape = as_tensor_variable(shape)
        if shape.ndim == 0:
            return make_vector(_as_int64_scalar(shape, where, 0))
        if shape.ndim != 1:
            raise TypeError(f"{where}: the shape must be a vector, got {_describe(shape)}")
        if shape.dtype not in INTEGER_DTYPES:
            raise TypeError(
                f"{where}: the shape must have an integer dtype, got {_describe(shape)}"
            )
        return shape
    if isinstance(shape, np.ndarray) or not isinstance(shape, list | tuple):
        arr = np.asarray(shape)
        if arr.ndim > 1:
            raise TypeError(f"{where}: the shape must be a vector, got an array of shape "
                            f"{arr.shape}")
        shape = list(arr.reshape(-1))
    entries = [_as_int64_scalar(s, where, k) for k, s in enumerate(shape)]
    if all(isinstance(e, int) for e in entries):
        return constant(np.asarray(entries, dtype="int64").reshape(len(entries)))
    return make_vector(*entries)


def _as_int64_scalar(s: Any, where: str, k: int):
    """One shape entry: a Python int, or an int64 symbolic scalar."""
    as_int = _as_int(s)
    if as_int is not None:
        return as_int
    if isinstance(s, Variable):
        s = as_tensor_variable(s)
        if s.ndim != 0 or s.dtype not in INTEGER_DTYPES:
            raise TypeError(
                f"{where}: shape entry {k} must be an integer scalar, got {_describe(s)}"
            )
        if isinstance(s, Constant):
            return int(s.data)
        return s if s.dtype == "int64" else s.astype("int64")
    raise TypeError(f"{where}: shape entry {k} must be an integer, got {type(s).__name__} {s!r}")


def shape_entries(vec) -> list | None:
    """The entries of an integer vector as ints / symbolic scalars, when the graph shows them.

    Constants give ints, a MakeVector its inputs (constant ones as ints), a Shape the
    dimensions of its input. Other vectors give None.
    """
    if isinstance(vec, Constant):
        return [int(v) for v in np.asarray(vec.data).reshape(-1)]
    if vec.owner is not None and isinstance(vec.owner.op, MakeVector):
        out = []
        for inp in vec.owner.inputs:
            known = constant_int(inp)
            out.append(inp if known is None else known)
        return out
    if vec.owner is not None and isinstance(vec.owner.op, Shape):
        x = vec.owner.inputs[0]
        return [dim(x, i) for i in range(x.ndim)]
    return None


# ---------------------------------------------------------------------------------------------
# Shape and Shape_i


class Shape(ShapeCMixin, Op):
    """The shape of a tensor as an int64 vector (``theano.tensor.shape``). Not differentiable."""

    __props__ = ()
    _c_kind = "shape"

    def make_node(self, x):
        if not isinstance(x, Variable):
            x = as_tensor_variable(x)
        return Apply(self, [x], [TensorType("int64", (False,))()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = np.asarray(inputs[0].shape, dtype="int64")

    def vector_length(self, node) -> int:
        return node.inputs[0].type.ndim

    def infer_shape(self, node, input_shapes):
        return [(len(input_shapes[0]),)]

    def connection_pattern(self, node):
        # The values of x do not enter its shape.
        return [[False]]

    def grad(self, inputs, output_grads):
        return [_disconnected()]

    def R_op(self, inputs, eval_points):
        return [None]


shape = Shape()


class Shape_i(ShapeCMixin, Op):
    """Dimension ``i`` of a tensor as an int64 scalar. Not differentiable."""

    __props__ = ("i",)
    _c_kind = "shape_i"

    def __init__(self, i: int):
        as_int = _as_int(i)
        if as_int is None or as_int < 0:
            raise TypeError(f"Shape_i: i must be a non-negative integer, got {i!r}")
        self.i = as_int

    def __str__(self):
        return f"Shape_i{{{self.i}}}"

    def make_node(self, x):
        if not isinstance(x, Variable):
            raise TypeError(f"{self}: expected a Variable, got {type(x).__name__} {x!r}")
        ndim = getattr(x.type, "ndim", None)
        if ndim is None or ndim <= self.i:
            raise TypeError(
                f"{self}: {_describe(x)} has {ndim} dimensions, expected more than {self.i}"
            )
        return Apply(self, [x], [TensorType("int64", ())()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = np.asarray(inputs[0].shape[self.i], dtype="int64")

    def infer_shape(self, node, input_shapes):
        return [()]

    def connection_pattern(self, node):
        return [[False]]

    def grad(self, inputs, output_grads):
        return [_disconnected()]

    def R_op(self, inputs, eval_points):
        return [None]


_shape_i_ops: dict[int, Shape_i] = {}


def shape_i_op(i: int) -> Shape_i:
    """The shared ``Shape_i(i)`` instance."""
    op = _shape_i_ops.get(i)
    if op is None:
        op = _shape_i_ops[i] = Shape_i(i)
    return op


def shape_i(var, i: int, fgraph=None):
    """``var.shape[i]``; with a FunctionGraph that has a ShapeFeature, its known shape entry.

    Without a shape feature this returns ``Shape_i(i)(var)`` (Theano 1.0 built
    ``var.shape[i]``; both compute the same value).
    """
    if fgraph is None:
        fgraph = getattr(var, "fgraph", None)
    feature = getattr(fgraph, "shape_feature", None) if fgraph is not None else None
    if feature is not None:
        return feature.shape_of[var][i]
    return shape_i_op(i)(var)


def dim(x, i: int):
    """Dimension ``i`` of ``x`` for building graphs: an int when statically known, else
    a ``Shape_i`` output."""
    if x.type.broadcastable[i]:
        return 1
    if isinstance(x, Constant):
        return int(np.shape(x.data)[i])
    return shape_i_op(i)(x)


def known_dim(x, i: int, recurse: Callable | None = None) -> int | None:
    """Dimension ``i`` of ``x`` when the graph fixes it, else None.

    Knows broadcastable dimensions (1), constants, and ops that define
    ``known_dim(node, i, recurse)`` (SpecifyShape, Reshape, Alloc, MakeVector...).
    ``recurse`` is a scalar-constant lookup (defaults to :func:`constant_int`). Exposed so
    the finder for indexing a Shape (``x.shape[i]``) can share it.
    """
    if recurse is None:
        recurse = constant_int
    if x.type.broadcastable[i]:
        return 1
    if isinstance(x, Constant):
        return int(np.shape(x.data)[i])
    if x.owner is not None:
        fn = getattr(x.owner.op, "known_dim", None)
        if fn is not None and len(x.owner.outputs) == 1:
            return fn(x.owner, i, recurse)
    return None


@register_constant_value_finder(Shape_i)
def _shape_i_value(var, recurse):
    node = var.owner
    return known_dim(node.inputs[0], node.op.i, lambda v: _recurse_int(v, recurse))


def _recurse_int(v, recurse):
    as_int = _as_int(v)
    if as_int is not None:
        return as_int
    try:
        return _as_int(np.asarray(recurse(v)))
    except NotScalarConstantError:
        return None


def _entry_known(vec, i: int, recurse) -> int | None:
    """Entry ``i`` of an integer vector when the graph fixes it."""
    entries = shape_entries(vec)
    if entries is None or i >= len(entries):
        return None
    e = entries[i]
    return e if isinstance(e, int) else recurse(e)


# ---------------------------------------------------------------------------------------------
# Reshape and flatten


class Reshape(ShapeCMixin, Op):
    """``x`` reshaped to ``shp`` (an integer vector of length ``ndim``; one entry may be -1).

    The output is a view of the input when NumPy can make one (view_map). A dimension is
    broadcastable when its entry is the constant 1, or copies a broadcastable input dimension
    (reshape to ``x.shape``).
    """

    __props__ = ("ndim",)
    _c_kind = "reshape"
    view_map = {0: [0]}

    def __init__(self, ndim: int, name: None = None):
        as_int = _as_int(ndim)
        if as_int is None or as_int < 0:
            raise ValueError(f"Reshape: ndim must be a non-negative integer, got {ndim!r}")
        if name is not None:
            raise TypeError("Reshape: the name argument was removed (Theano 1.0 deprecated it)")
        self.ndim = as_int

    def __str__(self):
        return f"Reshape{{{self.ndim}}}"

    def make_node(self, x, shp):
        x = as_tensor_variable(x)
        shp = as_shape_vector(shp, str(self))
        try:
            length = get_vector_length(shp)
        except ValueError:
            length = None
        if length is not None and length != self.ndim:
            raise ValueError(
                f"{self}: the new shape has {length} entries, expected {self.ndim}"
            )
        entries = shape_entries(shp)
        bcast = [False] * self.ndim
        if entries is not None:
            known = [e if isinstance(e, int) else None for e in entries]
            negative = [e for e in known if e is not None and e < 0]
            if any(e != -1 for e in negative) or len(negative) > 1:
                raise ValueError(
                    f"{self}: invalid shape {_fmt_entries(entries)}: entries must be "
                    "non-negative, except one that may be -1"
                )
            bcast = [e == 1 for e in known]
        return Apply(self, [x, shp], [TensorType(x.type.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        x, shp = inputs
        shp = np.asarray(shp).reshape(-1)
        if shp.size != self.ndim:
            raise ValueError(
                f"{self}: the new shape {tuple(int(s) for s in shp)} has {shp.size} entries, "
                f"expected {self.ndim}"
            )
        target = tuple(int(s) for s in shp)
        if sum(1 for s in target if s == -1) > 1 or any(s < -1 for s in target):
            raise ValueError(
                f"{self}: invalid shape {target}: entries must be non-negative, except one "
                "that may be -1"
            )
        try:
            out = np.reshape(x, target)
        except ValueError:
            raise ValueError(
                f"{self}: cannot reshape an array of shape {x.shape} ({x.size} elements) to "
                f"shape {target}"
            ) from None
        for i, b in enumerate(node.outputs[0].type.broadcastable):
            if b and out.shape[i] != 1:  # pragma: no cover - guarded by make_node
                raise ValueError(f"{self}: output dimension {i} should have size 1")
        output_storage[0][0] = out

    def known_dim(self, node, i, recurse):
        value = _entry_known(node.inputs[1], i, recurse)
        return value if value is not None and value >= 0 else None

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        x, _ = inputs
        (gz,) = output_grads
        gx = reshape(gz, shape(x), ndim=x.ndim)
        return [patternbroadcast(gx, x.type.broadcastable), _disconnected()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(eval_points[0], inputs[1], return_list=True)

    def infer_shape(self, node, input_shapes):
        in_shape = input_shapes[0]
        if len(in_shape) == 0:
            return [(1,) * self.ndim]
        entries = shape_entries(node.inputs[1])
        if entries is None:
            vec = node.inputs[1]
            entries = [vec[i] for i in range(self.ndim)]
        size = prod_entries(in_shape)
        minus_one = [k for k, e in enumerate(entries) if isinstance(e, int) and e == -1]
        unknown = [k for k, e in enumerate(entries) if not isinstance(e, int)]
        if not unknown:
            if minus_one:
                # With a 0 among the other entries the output is empty or the reshape
                # fails at run time; avoid dividing by 0 here.
                rest = prod_entries([e for e in entries if e != -1])
                missing = size // (rest or 1)
                return [tuple(missing if e == -1 else e for e in entries)]
            return [tuple(entries)]
        if not minus_one and all(_known_nonnegative(entries[k]) for k in unknown):
            return [tuple(entries)]
        # Some entries are only known at run time and may be -1: the product of all entries
        # is then minus the product of the others.
        math = _lib("math")
        requested = -prod_entries(entries)
        rest = size // math.maximum(requested, 1)
        out = []
        for e in entries:
            if isinstance(e, int):
                out.append(rest if e == -1 else e)
            else:
                out.append(math.switch(math.eq(e, -1), rest, e))
        return [tuple(out)]


def _known_nonnegative(v, depth: int = 4) -> bool:
    """Whether the graph shows ``v`` is never negative (so never -1): a Shape_i, a
    non-negative constant, or sums and products of those."""
    known = constant_int(v)
    if known is not None:
        return known >= 0
    if depth == 0 or v.owner is None:
        return False
    op = v.owner.op
    if isinstance(op, Shape_i):
        return True
    scalar_op = getattr(op, "scalar_op", None)
    if type(scalar_op).__name__ in ("Add", "Mul"):
        return all(_known_nonnegative(i, depth - 1) for i in v.owner.inputs)
    return False


def _fmt_entries(entries) -> str:
    return "(" + ", ".join(str(e) for e in entries) + ("," if len(entries) == 1 else "") + ")"


def reshape(x, newshape, ndim: int | None = None):
    """``x`` with shape ``newshape`` (numpy.reshape): a tuple/list of ints and symbolic integer
    scalars, or a symbolic integer vector (then ``ndim`` must be given unless its length is
    known from the graph). One entry may be -1."""
    x = as_tensor_variable(x)
    if ndim is None:
        vec = as_shape_vector(newshape, "reshape")
        try:
            ndim = get_vector_length(vec)
        except ValueError:
            raise ValueError(
                f"reshape: the length of the new shape {vec} cannot be determined from the "
                "graph, so the number of dimensions of the result is unknown; pass ndim="
            ) from None
        newshape = vec
    return Reshape(ndim)(x, newshape)


def flatten(x, ndim: int | None = None, outdim: int | None = None):
    """``x`` reshaped to ``ndim`` dimensions: the first ``ndim - 1`` are kept, the last holds
    the rest (Theano 1.0's ``flatten``; ``outdim`` is its deprecated spelling)."""
    if outdim is not None:
        if ndim is not None:
            raise ValueError("flatten: give ndim only (outdim is its deprecated spelling)")
        warnings.warn("flatten: outdim is deprecated, use ndim", DeprecationWarning,
                      stacklevel=2)
        ndim = outdim
    if ndim is None:
        ndim = 1
    x = as_tensor_variable(x)
    if ndim < 1 or (ndim > 1 and ndim > x.ndim):
        raise ValueError(
            f"flatten: ndim={ndim} is out of range for {_describe(x)}; expected 1 <= ndim <= "
            f"{max(x.ndim, 1)}"
        )
    # The last size is the product of the collapsed ones rather than -1, which NumPy cannot
    # resolve for empty arrays (shape (0, 0) to (0, -1)).
    last = prod_entries([dim(x, i) for i in range(ndim - 1, x.ndim)])
    out = reshape(x, [dim(x, i) for i in range(ndim - 1)] + [last], ndim=ndim)
    bcast = (*x.type.broadcastable[: ndim - 1], all(x.type.broadcastable[ndim - 1:]))
    return addbroadcast(out, *[i for i, b in enumerate(bcast) if b and not out.broadcastable[i]])


def is_flat(var, ndim: int | None = None, outdim: int | None = None) -> bool:
    """Whether ``var`` has ``ndim`` dimensions (default 1), as after ``flatten``."""
    if outdim is not None:
        if ndim is not None:
            raise ValueError("is_flat: give ndim only (outdim is its deprecated spelling)")
        ndim = outdim
    return var.ndim == (1 if ndim is None else ndim)


# ---------------------------------------------------------------------------------------------
# SpecifyShape


class SpecifyShape(Op):
    """Declare the run-time shape of ``x``; checked when the node runs (the output is ``x``).

    The shape feeds shape inference (infer_shape gives the declared entries).
    """

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x, shape):
        if not isinstance(x, Variable):
            x = as_tensor_variable(x)
        shape = as_shape_vector(shape, "SpecifyShape")
        try:
            length = get_vector_length(shape)
        except ValueError:
            length = None
        if length is not None and length != x.type.ndim:
            raise ValueError(
                f"SpecifyShape: the shape has {length} entries but {_describe(x)} has "
                f"{x.type.ndim} dimensions"
            )
        entries = shape_entries(shape)
        if entries is not None:
            for i, e in enumerate(entries):
                if isinstance(e, int) and (e < 0 or (x.type.broadcastable[i] and e != 1)):
                    raise ValueError(
                        f"SpecifyShape: entry {i} of the shape {_fmt_entries(entries)} is "
                        f"impossible for {_describe(x)}"
                    )
        return Apply(self, [x, shape], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        x, shp = inputs
        declared = tuple(int(s) for s in np.asarray(shp).reshape(-1))
        if np.ndim(x) != len(declared) or tuple(np.shape(x)) != declared:
            raise SpecifyShapeError(
                f"SpecifyShape: the value has shape {tuple(np.shape(x))}, but the graph "
                f"declared shape {declared}"
            )
        output_storage[0][0] = x

    def c_code(self, node, name, inputs, outputs, sub):
        return specify_shape_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return SPECIFY_SHAPE_SUPPORT

    def c_code_cache_version(self):
        return (1,)

    def known_dim(self, node, i, recurse):
        value = _entry_known(node.inputs[1], i, recurse)
        return value if value is not None and value >= 0 else None

    def infer_shape(self, node, input_shapes):
        x, shp = node.inputs
        entries = shape_entries(shp)
        if entries is None:
            entries = [shp[i] for i in range(x.type.ndim)]
        return [tuple(entries)]

    def connection_pattern(self, node):
        return [[True], [False]]

    def grad(self, inputs, output_grads):
        return [output_grads[0], _disconnected()]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self.make_node(eval_points[0], inputs[1]).outputs


specify_shape = SpecifyShape()


__all__ = [
    "MakeVector",
    "Reshape",
    "Shape",
    "Shape_i",
    "SpecifyShape",
    "SpecifyShapeError",
    "addbroadcast",
    "flatten",
    "is_flat",
    "make_vector",
    "patternbroadcast",
    "reshape",
    "shape",
    "shape_i",
    "shape_i_op",
    "shape_padaxis",
    "shape_padleft",
    "shape_padright",
    "specify_shape",
    "swapaxes",
    "transpose",
    "unbroadcast",
]

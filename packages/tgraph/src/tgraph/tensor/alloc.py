"""Creating tensors: filled (Alloc, zeros, fill), uninitialized, ranges, identities, triangles.

``alloc(value, *shape)`` broadcasts ``value`` to ``shape``; ``fill(model, value)`` is the
elementwise ``second`` (value broadcast to the shape of model) that ``zeros_like`` and
``ones_like`` build, as in Theano 1.0 (the optimizer later lifts shapes and turns fills into
allocs). ``arange``, ``eye`` and ``tri`` follow Theano 1.0's dtype rules.

The Elemwise and math ops are reached by module name at call time (see shape.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import grad_undefined
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.scalar.op import second as scalar_second
from tgraph.scalar.type import upcast
from tgraph.tensor.basic import as_tensor_variable, constant
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.rebroadcast import patternbroadcast
from tgraph.tensor.shape import (
    DISCRETE_DTYPES,
    INTEGER_DTYPES,
    _describe,
    _disconnected,
    constant_int,
    dim,
    shape_entries,
)
from tgraph.tensor.shape_c import ShapeCMixin
from tgraph.tensor.type import TensorType, normalize_dtype
from tgraph.tensor.variable import _lib

_UINT_DTYPES = ("uint8", "uint16", "uint32", "uint64")
_INT_DTYPES = ("int8", "int16", "int32", "int64")


def _shape_inputs(shape: Sequence[Any], where: str) -> tuple[list, list[bool]]:
    """Shape arguments as integer scalar variables, and which are the constant 1."""
    sh = []
    bcast = []
    for i, s in enumerate(shape):
        try:
            v = as_tensor_variable(s)
        except TypeError as exc:
            raise TypeError(f"{where}: shape argument {i} must be an integer, got {s!r}") from exc
        if v.ndim != 0 or v.dtype not in INTEGER_DTYPES:
            raise TypeError(
                f"{where}: shape argument {i} must be an integer scalar, got {_describe(v)}"
            )
        known = constant_int(v)
        if known is not None and known < 0:
            raise ValueError(f"{where}: shape argument {i} is negative ({known})")
        sh.append(v)
        bcast.append(known == 1)
    return sh, bcast


def _check_dims(where: str, dims: tuple[int, ...]) -> None:
    if any(d < 0 for d in dims):
        raise ValueError(f"{where}: negative dimensions are not allowed, got shape {dims}")


class Alloc(ShapeCMixin, Op):
    """``alloc(value, *shape)``: a new tensor of ``shape`` filled by broadcasting ``value``.

    The output has the dtype of ``value``; a dimension given as the constant 1 is
    broadcastable. ``value`` is aligned to the right of the shape, NumPy-style; its size-1
    dimensions may be broadcast at run time, as in Theano 1.0 (the gradient then sums only
    over the dimensions ``value`` declares broadcastable, also as in Theano 1.0).
    """

    __props__ = ()
    _c_kind = "alloc"

    def make_node(self, value, *shape):
        v = as_tensor_variable(value)
        sh, bcast = _shape_inputs(shape, "Alloc")
        if v.ndim > len(sh):
            raise TypeError(
                f"Alloc: the value {_describe(v)} has {v.ndim} dimensions, more than the "
                f"{len(sh)} of the requested shape"
            )
        return Apply(self, [v, *sh], [TensorType(v.dtype, bcast)()])

    def perform(self, node, inputs, output_storage, params=None):
        v = inputs[0]
        sh = tuple(int(s) for s in inputs[1:])
        _check_dims("Alloc", sh)
        tail = sh[len(sh) - v.ndim:] if v.ndim else ()
        if any(vd != 1 and vd != sd for vd, sd in zip(v.shape, tail)):
            raise ValueError(f"Alloc: cannot broadcast a value of shape {v.shape} to shape {sh}")
        out = output_storage[0][0]
        if out is None or out.shape != sh:
            if v.size == 1 and not v.any():
                output_storage[0][0] = np.zeros(sh, dtype=v.dtype)
                return
            out = np.empty(sh, dtype=v.dtype)
        out[...] = v
        output_storage[0][0] = out

    def __call__(self, value, *shape, **kwargs):
        """Build the node; inside an optimized graph a useless alloc returns ``value``
        (as Theano 1.0 does, to keep rewrites from piling allocs up)."""
        ret = super().__call__(value, *shape, **kwargs)
        if getattr(value, "fgraph", None) is not None and not isinstance(ret, list) \
                and value.type == ret.type:
            return value
        return ret

    def known_dim(self, node, i, recurse):
        value = recurse(node.inputs[1 + i])
        return value if value is not None and value >= 0 else None

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs[1:])]

    def connection_pattern(self, node):
        return [[True]] + [[False]] * (len(node.inputs) - 1)

    def grad(self, inputs, output_grads):
        x = inputs[0]
        (gz,) = output_grads
        lead = gz.ndim - x.ndim
        summed = list(range(lead))
        order: list = []
        kept = 0
        for i, xb in enumerate(x.type.broadcastable):
            if xb and not gz.type.broadcastable[lead + i]:
                summed.append(lead + i)
                order.append("x")
            else:
                order.append(kept)
                kept += 1
        gx = gz.sum(axis=summed) if summed else gz
        if "x" in order:
            gx = gx.dimshuffle(*order)
        gx = patternbroadcast(gx, x.type.broadcastable)
        return [gx] + [_disconnected() for _ in inputs[1:]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(eval_points[0], *inputs[1:], return_list=True)

    def do_constant_folding(self, node) -> bool:
        """Theano 1.0 does not fold an alloc that is a graph output (it would be copied at
        every call) or that an op overwrites in place. Needs ``node.fgraph`` to see clients;
        without it, folding is allowed."""
        fgraph = getattr(node, "fgraph", None)
        if fgraph is None:
            return True
        clients = fgraph.clients.get(node.outputs[0], []) if hasattr(fgraph.clients, "get") \
            else fgraph.clients(node.outputs[0])
        if not clients:
            return False
        for client, idx in clients:
            if client == "output":
                return False
            destroyed = getattr(client.op, "destroy_map", {}) or {}
            if any(idx in ins for ins in destroyed.values()):
                return False
        return True


alloc = Alloc()


class AllocEmpty(ShapeCMixin, Op):
    """An uninitialized tensor of ``dtype`` and the given shape (its values are garbage).

    Its output is tagged so that value comparisons (DebugMode) and NaN checks ignore it.
    """

    __props__ = ("dtype",)
    _c_kind = "allocempty"

    def __init__(self, dtype: Any):
        self.dtype = normalize_dtype(dtype)

    def make_node(self, *shape):
        sh, bcast = _shape_inputs(shape, str(self))
        out = TensorType(self.dtype, bcast)()
        out.tag.values_eq_approx = _always_true
        out.tag.nan_guard_mode_check = False
        return Apply(self, sh, [out])

    def perform(self, node, inputs, output_storage, params=None):
        sh = tuple(int(s) for s in inputs)
        _check_dims(str(self), sh)
        out = output_storage[0][0]
        if out is None or out.shape != sh:
            output_storage[0][0] = np.empty(sh, dtype=self.dtype)

    def known_dim(self, node, i, recurse):
        value = recurse(node.inputs[i])
        return value if value is not None and value >= 0 else None

    def infer_shape(self, node, input_shapes):
        return [tuple(node.inputs)]

    def do_constant_folding(self, node) -> bool:
        return False

    def connection_pattern(self, node):
        return [[False] for _ in node.inputs]

    def grad(self, inputs, output_grads):
        return [_disconnected() for _ in inputs]

    def R_op(self, inputs, eval_points):
        return [None]


def _always_true(a, b, *args, **kwargs) -> bool:
    return True


def alloc_empty(shape: Any, dtype: Any = None):
    """An uninitialized tensor of ``shape`` (int, sequence or vector) and ``dtype`` (floatX)."""
    return AllocEmpty(dtype if dtype is not None else config.floatX)(*_shape_list(shape))


# ---------------------------------------------------------------------------------------------
# fill, zeros, ones

#: ``second(a, b)``: ``b`` broadcast to the shape of ``a`` (and of ``b``), the elementwise
#: ``second``; ``fill(model, value)`` is the same op (Theano 1.0's ``tensor.second``/``fill``).
second = fill = Elemwise(scalar_second)


def zeros_like(model, dtype: Any = None, opt: bool = False):
    """Zeros shaped like ``model`` (numpy.zeros_like); dtype defaults to the model's.

    With ``opt``, a 0-d model of the same type gives the constant itself (used by rewrites).
    """
    model = as_tensor_variable(model)
    ret = constant(0, dtype=normalize_dtype(dtype) if dtype is not None else model.dtype)
    if opt and ret.type == model.type:
        return ret
    return fill(model, ret)


def ones_like(model, dtype: Any = None, opt: bool = False):
    """Ones shaped like ``model`` (numpy.ones_like); dtype defaults to the model's."""
    model = as_tensor_variable(model)
    ret = constant(1, dtype=normalize_dtype(dtype) if dtype is not None else model.dtype)
    if opt and ret.type == model.type:
        return ret
    return fill(model, ret)


def _shape_list(shape: Any) -> list:
    """``shape`` (an int, a sequence, or a symbolic scalar/vector) as a list of entries."""
    if isinstance(shape, Variable):
        shape = as_tensor_variable(shape)
        if shape.ndim == 0:
            return [shape]
        if shape.ndim != 1:
            raise TypeError(f"the shape must be a vector, got {_describe(shape)}")
        entries = shape_entries(shape)
        if entries is not None:
            return entries
        return list(shape)  # length from the graph, entries by indexing
    if isinstance(shape, list | tuple):
        return list(shape)
    if isinstance(shape, np.ndarray):
        return list(shape.reshape(-1)) if shape.ndim else [shape]
    return [shape]


def zeros(shape: Any, dtype: Any = None):
    """A tensor of zeros of ``shape`` (int, sequence, or symbolic) and ``dtype`` (floatX)."""
    dtype = normalize_dtype(dtype) if dtype is not None else config.floatX
    return alloc(np.array(0, dtype=dtype), *_shape_list(shape))


def ones(shape: Any, dtype: Any = None):
    """A tensor of ones of ``shape`` (int, sequence, or symbolic) and ``dtype`` (floatX)."""
    dtype = normalize_dtype(dtype) if dtype is not None else config.floatX
    return alloc(np.array(1, dtype=dtype), *_shape_list(shape))


# ---------------------------------------------------------------------------------------------
# arange


class ARange(Op):
    """Evenly spaced values in ``[start, stop)`` by ``step`` (numpy.arange), of ``dtype``."""

    __props__ = ("dtype",)

    def __init__(self, dtype: Any):
        self.dtype = normalize_dtype(dtype)

    def make_node(self, start, stop, step):
        inputs = []
        for name, v in (("start", start), ("stop", stop), ("step", step)):
            v = as_tensor_variable(v)
            if v.ndim != 0 or v.dtype.startswith("complex"):
                raise TypeError(f"{self}: {name} must be a real scalar, got {_describe(v)}")
            inputs.append(v)
        return Apply(self, inputs, [TensorType(self.dtype, (False,))()])

    def perform(self, node, inputs, output_storage, params=None):
        start, stop, step = (np.asarray(i).item() for i in inputs)
        if step == 0:
            raise ValueError(f"{self}: step must not be 0")
        output_storage[0][0] = np.arange(start, stop, step, dtype=self.dtype)

    def infer_shape(self, node, input_shapes):
        math = _lib("math")
        start, stop, step = node.inputs

        def to_int64(v):
            # uint64 stays as is: int64 would not hold it and the upcast gives float64.
            if v.dtype in INTEGER_DTYPES and upcast(v.dtype, "int64") == "int64":
                return v if v.dtype == "int64" else math.cast(v, "int64")
            return v

        if constant_int(step) == 1:
            if constant_int(start) == 0:
                # Theano 1.0 returned stop itself, negative for arange(-1).
                return [(math.maximum(math.cast(stop, "int64"), 0),)]
            return [(math.maximum(math.cast(to_int64(stop) - to_int64(start), "int64"), 0),)]
        length = math.ceil(math.cast(to_int64(stop) - to_int64(start), "float64") / step)
        return [(math.maximum(math.cast(length, "int64"), 0),)]

    def connection_pattern(self, node):
        # stop only sets the length: the values do not depend on it.
        return [[True], [False], [True]]

    def L_op(self, inputs, outputs, output_grads):
        start, _, step = inputs
        (gz,) = output_grads
        if self.dtype in DISCRETE_DTYPES:
            return [zeros_like(start, dtype=config.floatX), _disconnected(),
                    zeros_like(step, dtype=config.floatX)]
        n = dim(outputs[0], 0)
        return [gz.sum(), _disconnected(), (gz * arange(n, dtype=self.dtype)).sum()]

    def R_op(self, inputs, eval_points):
        return [None]


def arange(start, stop=None, step=1, dtype: Any = None):
    """``numpy.arange`` as a graph. Without ``dtype``: the upcast of the arguments' dtypes,
    widened to int64 for signed and uint64 for unsigned integers (Theano 1.0's rule; with
    ``cast_policy='numpy+floatX'``, NumPy's dtype, float32 instead of float64 when floatX
    is float32 and no argument is float64)."""
    if stop is None:
        start, stop = 0, start
    start, stop, step = (as_tensor_variable(v) for v in (start, stop, step))
    if dtype is None:
        dtype = upcast(start.dtype, stop.dtype, step.dtype)
        if dtype in _INT_DTYPES:
            dtype = "int64"
        elif dtype in _UINT_DTYPES:
            dtype = "uint64"
        if config.cast_policy == "numpy+floatX":
            numpy_dtype = str(np.arange(np.array(0, dtype=start.dtype),
                                        np.array(1, dtype=stop.dtype),
                                        np.array(1, dtype=step.dtype)).dtype)
            if numpy_dtype != dtype:
                if config.floatX == "float32" and numpy_dtype == "float64" and all(
                        v.dtype != "float64" for v in (start, stop, step)):
                    dtype = "float32"
                else:
                    dtype = numpy_dtype
    return _cached_arange(normalize_dtype(dtype))(start, stop, step)


_arange_ops: dict[str, ARange] = {}


def _cached_arange(dtype: str) -> ARange:
    op = _arange_ops.get(dtype)
    if op is None:
        op = _arange_ops[dtype] = ARange(dtype)
    return op


class _NdGrid:
    """``mgrid[0:5, 0:3]`` / ``ogrid[...]``: coordinate grids built from aranges (numpy's).

    ``mgrid`` gives one full array per slice; ``ogrid`` gives each range with broadcastable
    size-1 dimensions elsewhere. Slice bounds may be symbolic; a single slice gives a vector.
    """

    def __init__(self, sparse: bool):
        self.sparse = sparse

    def __getitem__(self, key):
        single = isinstance(key, slice)
        slices = (key,) if single else tuple(key)
        for sl in slices:
            if not isinstance(sl, slice) or sl.stop is None:
                raise TypeError(f"{self!r}: expected slices with a stop, got {sl!r}")
            if isinstance(sl.step, complex):
                raise NotImplementedError(f"{self!r}: complex steps (point counts) are not "
                                          "supported")
        ranges = [arange(0 if sl.start is None else sl.start, sl.stop,
                         1 if sl.step is None else sl.step) for sl in slices]
        if single:
            return ranges[0]
        ndim = len(ranges)
        padded = [r.dimshuffle(*["x"] * j, 0, *["x"] * (ndim - 1 - j))
                  for j, r in enumerate(ranges)]
        if self.sparse:
            return padded
        lengths = [dim(r, 0) for r in ranges]
        return [alloc(p, *lengths) for p in padded]

    def __repr__(self):
        return "ogrid" if self.sparse else "mgrid"


mgrid = _NdGrid(sparse=False)
ogrid = _NdGrid(sparse=True)


# ---------------------------------------------------------------------------------------------
# eye, tri


def _int_scalar(op, name: str, v):
    v = as_tensor_variable(v)
    if v.ndim != 0 or v.dtype not in INTEGER_DTYPES:
        raise TypeError(f"{op}: {name} must be an integer scalar, got {_describe(v)}")
    return v


class _MatrixMaker(Op):
    """Common part of Eye and Tri: ``(n, m, k)`` integer scalars → an (n, m) matrix."""

    __props__ = ("dtype",)
    _numpy_fn: Any = None

    def __init__(self, dtype: Any = None):
        self.dtype = normalize_dtype(dtype) if dtype is not None else config.floatX

    def make_node(self, n, m, k):
        inputs = [_int_scalar(self, name, v) for name, v in (("n", n), ("m", m), ("k", k))]
        return Apply(self, inputs, [TensorType(self.dtype, (False, False))()])

    def perform(self, node, inputs, output_storage, params=None):
        n, m, k = (int(v) for v in inputs)
        _check_dims(str(self), (n, m))
        output_storage[0][0] = type(self)._numpy_fn(n, m, k, dtype=self.dtype)

    def infer_shape(self, node, input_shapes):
        return [(node.inputs[0], node.inputs[1])]

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, i, inp) for i, inp in enumerate(inputs)]


class Eye(_MatrixMaker):
    """An (n, m) matrix with ones on diagonal ``k`` (numpy.eye)."""

    _numpy_fn = staticmethod(np.eye)


class Tri(_MatrixMaker):
    """An (n, m) matrix with ones at and below diagonal ``k`` (numpy.tri)."""

    _numpy_fn = staticmethod(np.tri)


def eye(n, m=None, k=0, dtype: Any = None):
    """A 2-d tensor with ones on diagonal ``k`` and zeros elsewhere (numpy.eye)."""
    return Eye(dtype)(n, n if m is None else m, k)


def identity_like(x):
    """An identity matrix shaped and typed like the matrix ``x``."""
    x = as_tensor_variable(x)
    if x.ndim != 2:
        raise TypeError(f"identity_like: expected a matrix, got {_describe(x)}")
    return eye(dim(x, 0), dim(x, 1), 0, dtype=x.dtype)


def tri(N, M=None, k=0, dtype: Any = None):
    """Ones at and below diagonal ``k``, zeros above (numpy.tri)."""
    return Tri(dtype)(N, N if M is None else M, k)


def _check_matrix_like(where: str, m):
    m = as_tensor_variable(m)
    if m.ndim < 2:
        raise TypeError(f"{where}: expected at least 2 dimensions, got {_describe(m)}")
    return m


def tril(m, k=0):
    """``m`` with the elements above diagonal ``k`` zeroed (numpy.tril; the last two axes)."""
    m = _check_matrix_like("tril", m)
    return m * tri(dim(m, m.ndim - 2), dim(m, m.ndim - 1), k, dtype=m.dtype)


def triu(m, k=0):
    """``m`` with the elements below diagonal ``k`` zeroed (numpy.triu; the last two axes)."""
    m = _check_matrix_like("triu", m)
    # triu(m, k)[i, j] keeps j >= i + k, i.e. tri(cols, rows, -k)[j, i].
    mask = tri(dim(m, m.ndim - 1), dim(m, m.ndim - 2), -k, dtype=m.dtype)
    return m * mask.T


__all__ = [
    "ARange",
    "Alloc",
    "AllocEmpty",
    "Eye",
    "Tri",
    "alloc",
    "alloc_empty",
    "arange",
    "eye",
    "fill",
    "identity_like",
    "mgrid",
    "ogrid",
    "ones",
    "ones_like",
    "second",
    "tri",
    "tril",
    "triu",
    "zeros",
    "zeros_like",
]


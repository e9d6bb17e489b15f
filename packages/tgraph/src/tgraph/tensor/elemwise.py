"""Elemwise and DimShuffle: scalar operations mapped over tensors, and axis reshuffling.

``Elemwise(scalar_op)`` lifts a scalar op (``tgraph.scalar``) to tensors with NumPy-style
broadcasting, under Theano 1.0's rule: a dimension may broadcast at run time only if the
input *declares* it broadcastable (size 1 in its type). An input of type ``matrix`` holding a
``(1, 4)`` value does not broadcast against a ``(3, 4)`` one: that is an error, as in
Theano's C code. Declare such dimensions with ``row``/``col`` types, ``dimshuffle('x', ...)``
or ``addbroadcast``.

``DimShuffle`` transposes, adds broadcastable dimensions ('x') and drops broadcastable ones.
Its output is a view of its input (``view_map``), as in Theano.

Gradients of Elemwise are built by calling the scalar op's ``L_op`` on scalar placeholders and
translating the resulting scalar graph node by node into Elemwise nodes on the tensors, then
summing over the dimensions the input was broadcast along. That summation needs ``Sum``,
which lives in :mod:`tgraph.tensor.reduction` (which itself builds on this module), so it is
reached by module name at call time, the same way :mod:`tgraph.tensor.variable` reaches the
op library.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.op import Op, OpenMPOp
from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar.arith import (
    Add,
    IntDiv,
    Maximum,
    Minimum,
    Mod,
    Mul,
    Sub,
    Switch,
    TrueDiv,
)
from tgraph.scalar.arith import add as scalar_add
from tgraph.scalar.arith import mul as scalar_mul
from tgraph.scalar.compare import EQ, GE, GT, LE, LT, NEQ
from tgraph.scalar.op import Cast, Identity, Second
from tgraph.scalar.op import second as scalar_second
from tgraph.scalar.type import ScalarType, discrete_dtypes, get_scalar_type

# Registers the scalar <-> 0-d tensor conversions, which make_node relies on (``x + s`` with
# ``s`` a scalar variable).
from tgraph.tensor import scalar_conv as _scalar_conv  # noqa: F401
from tgraph.tensor.basic import (
    as_tensor_variable,
    constant,
    register_constant_value_finder,
)
from tgraph.tensor.elemwise_c import (
    ELEMWISE_C_VERSION,
    ELEMWISE_SUPPORT,
    dimshuffle_c_code,
    elemwise_c_code,
    scalar_node_for,
)
from tgraph.tensor.type import TensorType

_CONTINUOUS = ("float16", "float32", "float64", "complex64", "complex128")


class frozendict(dict):
    """An immutable, hashable dict (Elemwise's ``inplace_pattern`` is part of its identity)."""

    def _immutable(self, *args, **kwargs):
        raise TypeError("frozendict is immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _immutable

    def __hash__(self):
        return hash(tuple(sorted(self.items())))

    def __reduce__(self):
        return (frozendict, (dict(self),))

    def __repr__(self):
        return f"frozendict({dict.__repr__(self)})"


# ---------------------------------------------------------------------------------------------
# DimShuffle


class DimShuffle(Op):
    """Reorder the dimensions of a tensor, insert broadcastable ones ('x'), drop broadcastable
    ones (Theano's ``DimShuffle``).

    ``new_order[i]`` is the input dimension that becomes output dimension ``i``, or 'x' for a
    new dimension of size 1. An input dimension left out of ``new_order`` is dropped, which
    is allowed only when it is broadcastable. Examples on a ``(20, 30, 40)`` tensor3:
    ``DimShuffle((False,)*3, ['x', 2, 'x', 0, 1])`` gives shape ``(1, 40, 1, 20, 30)``;
    ``DimShuffle((False, False), [1, 0])`` transposes a matrix.

    The output is a view of the input (``inplace=True``, Theano's default; str
    ``InplaceDimShuffle{1,0}``); ``inplace=False`` copies (str ``DimShuffle{1,0}``).
    """

    __props__ = ("input_broadcastable", "new_order", "inplace")

    def __init__(self, input_broadcastable: Sequence[bool], new_order: Sequence[Any],
                 inplace: bool = True):
        self.input_broadcastable = tuple(bool(b) for b in input_broadcastable)
        order = []
        ndim = len(self.input_broadcastable)
        for i, j in enumerate(new_order):
            if j == "x" and isinstance(j, str):
                order.append("x")
                continue
            if isinstance(j, bool) or not isinstance(j, int | np.integer):
                raise TypeError(
                    f"DimShuffle: new_order[{i}] is {j!r} of type {type(j).__name__}; "
                    "expected 'x' or a Python int"
                )
            j = int(j)
            if not 0 <= j < ndim:
                raise ValueError(
                    f"DimShuffle: new_order[{i}] is {j}, but the input has only {ndim} "
                    f"dimension(s) (valid: 0..{ndim - 1})"
                )
            if j in order:
                raise ValueError(
                    f"DimShuffle: input dimension {j} appears twice in new_order "
                    f"{tuple(new_order)}"
                )
            order.append(j)
        self.new_order = tuple(order)
        self.inplace = bool(inplace)
        # Theano's derived attributes, read by rewrites.
        self.drop = []
        for i, b in enumerate(self.input_broadcastable):
            if i not in self.new_order:
                if not b:
                    raise ValueError(
                        f"DimShuffle: cannot drop dimension {i}: it is not broadcastable "
                        f"(input broadcastable {self.input_broadcastable}, new_order "
                        f"{self.new_order}); only size-1 (broadcastable) dimensions may be "
                        "dropped"
                    )
                self.drop.append(i)
        self.shuffle = [j for j in self.new_order if j != "x"]
        self.augment = [i for i, j in enumerate(self.new_order) if j == "x"]
        self.view_map = {0: [0]} if self.inplace else {}

    @property
    def transposition(self) -> list[int]:
        return self.shuffle + self.drop

    def make_node(self, _input: Any) -> Apply:
        x = as_tensor_variable(_input)
        ib = x.type.broadcastable
        if len(ib) != len(self.input_broadcastable):
            raise TypeError(
                f"{self}: the input has {len(ib)} dimension(s) ({x.type}), expected "
                f"{len(self.input_broadcastable)} (broadcastable {self.input_broadcastable})"
            )
        for expected, b in zip(self.input_broadcastable, ib):
            if expected and not b:
                raise TypeError(
                    f"{self}: the input's broadcastable pattern {ib} does not fit the expected "
                    f"{self.input_broadcastable} ({x.type})"
                )
        ob = [True if j == "x" else ib[j] for j in self.new_order]
        return Apply(self, [x], [TensorType(x.type.dtype, ob)()])

    def __str__(self):
        name = "InplaceDimShuffle" if self.inplace else "DimShuffle"
        return f"{name}{{{','.join(str(j) for j in self.new_order)}}}"

    def perform(self, node, inputs, output_storage, params=None):
        (x,) = inputs
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{self}: expected a numpy.ndarray, got {type(x).__name__}")
        res = x.transpose(self.transposition)
        shape = list(res.shape[: len(self.shuffle)])
        for a in self.augment:
            shape.insert(a, 1)
        # Removing or inserting size-1 dimensions never needs a copy: this stays a view.
        res = res.reshape(shape)
        if not self.inplace:
            res = res.copy()
        output_storage[0][0] = res

    def infer_shape(self, node, input_shapes):
        (ishp,) = input_shapes
        out = [ishp[j] for j in self.shuffle]
        for a in self.augment:
            out.insert(a, 1)
        return [tuple(out)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(*eval_points, return_list=True)

    # -- C (text only; see elemwise_c) -----------------------------------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return dimshuffle_c_code(self, node, name, inputs, outputs, sub)

    def c_code_cache_version(self):
        return ELEMWISE_C_VERSION

    def grad(self, inputs, output_grads):
        (x,) = inputs
        (gz,) = output_grads
        if x.type.dtype in discrete_dtypes:
            return [_zeros_like(x, config.floatX)]
        gz = as_tensor_variable(gz)
        grad_order: list[Any] = ["x"] * x.type.ndim
        for i, j in enumerate(self.new_order):
            if j != "x":
                grad_order[j] = i
        return [DimShuffle(gz.type.broadcastable, grad_order)(gz)]


@register_constant_value_finder(DimShuffle)
def _dimshuffle_constant(var, recurse):
    # Transposing and adding/removing size-1 dimensions does not change a value that is the
    # same everywhere.
    return recurse(var.owner.inputs[0])


def _pad_left(x: Variable, ndim: int) -> Variable:
    """``x`` with broadcastable dimensions added on the left up to ``ndim``."""
    missing = ndim - x.type.ndim
    if missing <= 0:
        return x
    return DimShuffle(x.type.broadcastable, ["x"] * missing + list(range(x.type.ndim)))(x)


# ---------------------------------------------------------------------------------------------
# Elemwise


class Elemwise(OpenMPOp):
    """A scalar op applied element by element to tensors, with broadcasting.

    Inputs of fewer dimensions are padded on the left with broadcastable dimensions
    (DimShuffle). The output is broadcastable in a dimension when every input is; its dtypes
    are the scalar op's output types. At run time each dimension must have the same size in
    every input, except that an input *declared* broadcastable there (size 1) is repeated;
    a size-1 dimension not declared broadcastable is an error (Theano 1.0's semantics).

    ``inplace_pattern={out: in}`` writes output ``out`` into input ``in`` (declared in
    ``destroy_map``); that input must have the output's dtype and no broadcast dimension
    the output lacks. ``name`` only changes str (Theano's library instances are named
    ``Elemwise{add,no_inplace}``); it does not enter equality.
    """

    __props__ = ("scalar_op", "inplace_pattern")

    def __init__(self, scalar_op, inplace_pattern: dict[int, int] | None = None,
                 name: str | None = None, nfunc_spec: tuple | None = None,
                 openmp: bool | None = None):
        super().__init__(openmp=openmp)
        self.scalar_op = scalar_op
        self.inplace_pattern = frozendict(
            {int(o): int(i) for o, i in (inplace_pattern or {}).items()}
        )
        self.destroy_map = {o: [i] for o, i in self.inplace_pattern.items()}
        self.name = name
        if nfunc_spec is None:
            nfunc_spec = getattr(scalar_op, "nfunc_spec", None)
        self.nfunc_spec = nfunc_spec
        # Theano's attributes for its NumPy fallbacks; our perform uses scalar_op.vectorized.
        self.ufunc = None
        self.nfunc = None

    def __str__(self):
        if self.name is not None:
            return self.name
        if self.inplace_pattern:
            return f"Elemwise{{{self.scalar_op}}}{sorted(self.inplace_pattern.items())}"
        return f"Elemwise{{{self.scalar_op}}}"

    def __setstate__(self, d):
        super().__setstate__(d)
        self.inplace_pattern = frozendict(self.inplace_pattern)

    # -- building ---------------------------------------------------------------------------
    def get_output_info(self, dim_shuffle, *inputs):
        """(output dtypes, output broadcastable patterns, left-padded inputs) — Theano's API."""
        nin = getattr(self.scalar_op, "nin", -1)
        if nin >= 0 and len(inputs) != nin:
            raise TypeError(f"{self}: expected {nin} input(s), got {len(inputs)}")
        try:
            shadow = self.scalar_op.make_node(
                *[get_scalar_type(i.type.dtype).make_variable() for i in inputs]
            )
        except TypeError as exc:
            types = ", ".join(str(i.type) for i in inputs)
            raise TypeError(f"{self}: cannot apply to inputs of types ({types}): {exc}") from exc
        ndim = max((i.type.ndim for i in inputs), default=0)
        padded = []
        for i in inputs:
            missing = ndim - i.type.ndim
            if missing:
                i = dim_shuffle(i.type.broadcastable,
                                ["x"] * missing + list(range(i.type.ndim)))(i)
            padded.append(i)
        bcast = [all(bs) for bs in zip(*[i.type.broadcastable for i in padded])]
        out_bcasts = [list(bcast) for _ in shadow.outputs]
        out_dtypes = [o.type.dtype for o in shadow.outputs]
        for o, i in self.inplace_pattern.items():
            if o >= len(out_dtypes) or i >= len(padded):
                raise ValueError(
                    f"{self}: inplace_pattern {dict(self.inplace_pattern)} names output {o} "
                    f"or input {i}, but there are {len(out_dtypes)} output(s) and "
                    f"{len(padded)} input(s)"
                )
            ib = padded[i].type.broadcastable
            if any(b and not ob for b, ob in zip(ib, out_bcasts[o])):
                raise ValueError(
                    f"{self}: output {o} cannot be computed in place in input {i} "
                    f"({padded[i].type}): that input is broadcast along dimensions the "
                    f"output has in full (output broadcastable {tuple(out_bcasts[o])})"
                )
            if padded[i].type.dtype != out_dtypes[o]:
                raise TypeError(
                    f"{self}: output {o} ({out_dtypes[o]}) cannot be computed in place in "
                    f"input {i} of dtype {padded[i].type.dtype}"
                )
        return out_dtypes, out_bcasts, padded

    def make_node(self, *inputs: Any) -> Apply:
        """Convert the inputs to tensors (AsTensorError when one cannot be), pad them to the
        same number of dimensions and type the outputs."""
        inputs = [as_tensor_variable(i) for i in inputs]
        out_dtypes, out_bcasts, inputs = self.get_output_info(DimShuffle, *inputs)
        _check_constant_shapes(self, inputs)
        outputs = [TensorType(d, b)() for d, b in zip(out_dtypes, out_bcasts)]
        return Apply(self, inputs, outputs)

    # -- running ----------------------------------------------------------------------------
    def perform(self, node, inputs, output_storage, params=None):
        out_shape = _broadcast_shape(self, node, inputs)
        vectorized = getattr(self.scalar_op, "vectorized", None)
        with np.errstate(all="ignore"):
            if vectorized is not None:
                results = vectorized(*inputs)
            else:
                ufunc = np.frompyfunc(self.scalar_op.impl, len(inputs), len(node.outputs))
                results = ufunc(*inputs)
        if len(node.outputs) == 1:
            results = (results,)
        for k, (res, cell, out) in enumerate(zip(results, output_storage, node.outputs)):
            dtype = out.type.dtype
            with np.errstate(all="ignore"):
                res = np.asarray(res)
                if res.dtype != dtype:
                    res = res.astype(dtype)
            if res.shape != out_shape:
                res = np.broadcast_to(res, out_shape)
            if k in self.inplace_pattern:
                target = inputs[self.inplace_pattern[k]]
                target[...] = res
                cell[0] = target
                continue
            if not res.flags.writeable or any(
                isinstance(i, np.ndarray) and np.may_share_memory(res, i) for i in inputs
            ):
                res = res.copy()
            cell[0] = res

    # -- C (text only; see elemwise_c) -----------------------------------------------------
    def c_code(self, node, name, inputs, outputs, sub):
        return elemwise_c_code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return ELEMWISE_SUPPORT + "\n" + self.scalar_op.c_support_code(**kwargs)

    def c_support_code_apply(self, node, name):
        return self.scalar_op.c_support_code_apply(scalar_node_for(self.scalar_op, node),
                                                   f"{name}_s")

    def c_headers(self, **kwargs):
        return ["<math.h>", *self.scalar_op.c_headers(**kwargs)]

    def c_libraries(self, **kwargs):
        return list(self.scalar_op.c_libraries(**kwargs))

    def c_compile_args(self, **kwargs):
        return list(self.scalar_op.c_compile_args(**kwargs))

    def c_code_cache_version(self):
        inner = self.scalar_op.c_code_cache_version()
        return (*ELEMWISE_C_VERSION, *inner) if inner else ()

    def infer_shape(self, node, input_shapes):
        out = []
        for o in node.outputs:
            shp = []
            for d, b in enumerate(o.type.broadcastable):
                if b:
                    shp.append(1)
                    continue
                dim = None
                for ishp, i in zip(input_shapes, node.inputs):
                    if not i.type.broadcastable[d]:
                        dim = ishp[d]
                        break
                shp.append(dim)
            out.append(tuple(shp))
        return out

    # -- differentiation --------------------------------------------------------------------
    def connection_pattern(self, node):
        pattern = getattr(self.scalar_op, "connection_pattern", None)
        if pattern is not None:
            try:
                return pattern(node)
            except MethodNotDefined:
                pass
        return [[True for _ in node.outputs] for _ in node.inputs]

    def L_op(self, inputs, outputs, output_grads):
        """Gradients of the scalar op, lifted to tensors and summed over broadcast dimensions.

        Integer-valued outputs are locally constant: their gradients are floatX zeros, as are
        the gradients with respect to integer inputs.
        """
        rval = self._bgrad(inputs, outputs, output_grads)
        discrete_out = any(o.type.dtype not in _CONTINUOUS for o in outputs)
        reduction = _lib("reduction")
        final = []
        for x, g in zip(inputs, rval):
            if g is None or not isinstance(g.type, TensorType):
                final.append(g)  # disconnected or undefined gradients pass through
                continue
            if discrete_out or x.type.dtype in discrete_dtypes:
                final.append(_zeros_like(x, config.floatX))
                continue
            out_b = outputs[0].type.broadcastable
            to_sum = [d for d, b in enumerate(x.type.broadcastable) if b and not out_b[d]]
            if to_sum:
                g = reduction.sum_keepdims(g, to_sum)
            if any(gb and not xb for gb, xb in zip(g.type.broadcastable, x.type.broadcastable)):
                # The gradient did not involve anything of x's full shape: broadcast it.
                g = _second(x, g)
            final.append(g)
        return final

    def _bgrad(self, inputs, outputs, output_grads):
        """Gradients with respect to the (broadcast) inputs, before any summation."""
        with config.change_flags(compute_test_value="off"):
            s_inputs = [_scalar_placeholder(i) for i in inputs]
            s_ograds = [_scalar_placeholder(g) for g in output_grads]
            s_outputs = self.scalar_op.make_node(
                *[get_scalar_type(i.type.dtype).make_variable() for i in inputs]
            ).outputs
            s_grads = self.scalar_op.L_op(s_inputs, s_outputs, s_ograds)
        if not isinstance(s_grads, list | tuple):
            raise TypeError(
                f"{self}: {self.scalar_op}.L_op returned {type(s_grads).__name__}, expected a "
                "list of gradients"
            )
        nd = inputs[0].type.ndim if inputs else 0
        known = {}
        for sv, tv in zip(s_inputs, inputs):
            known[sv] = tv
        for sv, tv in zip(s_outputs, outputs):
            known[sv] = tv
        for sv, tv in zip(s_ograds, output_grads):
            known[sv] = tv

        def transform(r):
            if r in known:
                return known[r]
            if not isinstance(r.type, ScalarType):
                return r  # DisconnectedType / NullType gradients are passed through
            node = r.owner
            if node is None:
                if not isinstance(r, Constant):
                    raise ValueError(
                        f"{self}: the gradient of {self.scalar_op} uses the free scalar "
                        f"variable {r}, which has no tensor counterpart"
                    )
                res = constant(np.asarray(r.data), dtype=r.type.dtype)
                res = _pad_left(res, nd)
            else:
                new_outs = Elemwise(node.op)(*[transform(i) for i in node.inputs],
                                             return_list=True)
                for so, to in zip(node.outputs, new_outs):
                    known[so] = to
                res = new_outs[r.index]
            known[r] = res
            return res

        return [None if g is None else transform(g) for g in s_grads]

    def R_op(self, inputs, eval_points):
        outs = self(*inputs, return_list=True)
        rval: list = []
        for idx, out in enumerate(outs):
            ograds = [_zeros_like(o) for o in outs]
            ograds[idx] = _ones_like(out)
            bgrads = self._bgrad(inputs, outs, ograds)
            acc = None
            for g, ev in zip(bgrads, eval_points):
                if g is None or ev is None or not isinstance(g.type, TensorType):
                    continue
                term = _MUL(g, ev)
                acc = term if acc is None else _ADD(acc, term)
            rval.append(acc)
        return rval


def _lib(module: str):
    """The tensor op module ``tgraph.tensor.<module>``, found at call time (see module doc)."""
    return importlib.import_module(f"tgraph.tensor.{module}")


def _scalar_placeholder(t):
    if isinstance(getattr(t, "type", None), TensorType):
        return get_scalar_type(t.type.dtype).make_variable()
    return t


_SECOND = Elemwise(scalar_second)
_MUL = Elemwise(scalar_mul)
_ADD = Elemwise(scalar_add)


def _second(x, y):
    return _SECOND(x, y)


def _zeros_like(x: Variable, dtype: str | None = None) -> Variable:
    """Zeros shaped like ``x`` (``fill(x, 0)``, Theano's graph), of ``x``'s dtype or ``dtype``."""
    return _SECOND(x, constant(0, dtype=dtype or x.type.dtype))


def _ones_like(x: Variable, dtype: str | None = None) -> Variable:
    """Ones shaped like ``x`` (``fill(x, 1)``)."""
    return _SECOND(x, constant(1, dtype=dtype or x.type.dtype))


def _check_constant_shapes(op, inputs) -> None:
    """Refuse at build time constants whose known shapes cannot broadcast."""
    consts = [(k, i.data.shape) for k, i in enumerate(inputs) if isinstance(i, Constant)]
    if len(consts) < 2:
        return
    for d in range(len(consts[0][1])):
        sizes = {s[d] for _, s in consts if s[d] != 1}
        if len(sizes) > 1:
            shapes = ", ".join(f"input {k} has shape {s}" for k, s in consts)
            raise ValueError(f"{op}: input dimension mismatch: {shapes}")


def _broadcast_shape(op, node, inputs) -> tuple[int, ...]:
    """The output shape, checking Theano's broadcasting rule (see the module docstring)."""
    ndim = node.outputs[0].type.ndim if node.outputs else 0
    for k, (val, var) in enumerate(zip(inputs, node.inputs)):
        if np.ndim(val) != var.type.ndim:
            raise ValueError(
                f"{op}: input {k} has {np.ndim(val)} dimension(s) (shape {np.shape(val)}), "
                f"expected {var.type.ndim} ({var.type})"
            )
    shape = []
    for d in range(ndim):
        sizes = [np.shape(v)[d] for v in inputs]
        big = {s for s in sizes if s != 1}
        undeclared = [
            k for k, (s, var) in enumerate(zip(sizes, node.inputs))
            if s == 1 and not var.type.broadcastable[d]
        ]
        if len(big) > 1 or (big and undeclared and big != {0}):
            shapes = ", ".join(f"input {k} has shape {np.shape(v)}" for k, v in enumerate(inputs))
            msg = f"{op}: input dimension mismatch: {shapes}"
            if len(big) == 1 and undeclared:
                msg += (
                    f" (dimension {d} of input {undeclared[0]} has size 1 but is not declared "
                    "broadcastable; Theano only broadcasts dimensions declared broadcastable: "
                    "use a row/col type, dimshuffle('x', ...) or addbroadcast)"
                )
            raise ValueError(msg)
        shape.append(big.pop() if big else 1)
    return tuple(shape)


# ---------------------------------------------------------------------------------------------
# Seeing through Elemwise when looking for constants

_FOLDABLE = (
    Cast, Identity, Switch, NEQ, EQ, LT, GT, LE, GE,
    Sub, Add, Mod, Mul, IntDiv, TrueDiv, Minimum, Maximum,
)


@register_constant_value_finder(Elemwise)
def _elemwise_constant(var, recurse):
    """Casts, identity and ``second`` are transparent; the arithmetic and comparison ops that
    Theano 1.0 folds (``get_scalar_constant_value_elemwises``) are computed on constant
    inputs."""
    node = var.owner
    op = node.op.scalar_op
    if isinstance(op, Second):
        value = recurse(node.inputs[1])
    elif isinstance(op, _FOLDABLE):
        values = [recurse(i) for i in node.inputs]
        with np.errstate(all="ignore"):
            value = op.impl(*[np.asarray(v)[()] for v in values])
        if isinstance(value, tuple):
            value = value[var.index]
    else:
        return None
    return np.asarray(value, dtype=var.type.dtype)


__all__ = ["DimShuffle", "Elemwise"]

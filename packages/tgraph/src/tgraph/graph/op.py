"""The Op base class: the public extension API for user-written operations.

An Op is one class holding everything about one operation: ``make_node`` (check inputs,
build the Apply), ``perform`` (the NumPy reference), ``grad``/``L_op``, ``R_op``,
``infer_shape`` and, optionally, C code (read by the C linker). ``__props__`` names the
immutable parameters; equality, hashing and str follow from it.
"""

from __future__ import annotations

from typing import Any

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.c_api import CLinkerOp
from tgraph.graph.utils import MethodNotDefined, add_tag_trace


class Op(CLinkerOp):
    """Base class of all operations (``theano.gof.Op``).

    Subclass contract (Theano 1.0's):
      - ``make_node(*inputs) -> Apply``
      - ``perform(node, inputs, output_storage[, params])``: write each output into
        ``output_storage[i][0]``;
      - optional: ``grad(inputs, output_grads)`` or ``L_op(inputs, outputs, output_grads)``,
        ``R_op(inputs, eval_points)``, ``infer_shape(node, input_shapes)``,
        ``connection_pattern(node)``, ``do_constant_folding(node)``;
      - ``destroy_map``/``view_map``: ``{output_index: [input_index]}`` for outputs that
        overwrite or alias an input.
    """

    __props__: tuple[str, ...] | None = None
    default_output: int | None = None
    destroy_map: dict[int, list[int]] = {}
    view_map: dict[int, list[int]] = {}

    # -- identity from __props__ ------------------------------------------------------------
    def _props(self) -> tuple:
        return tuple(getattr(self, a) for a in self.__props__)

    def _props_dict(self) -> dict:
        return {a: getattr(self, a) for a in self.__props__}

    def __eq__(self, other):
        if self.__props__ is None:
            return self is other
        return type(self) is type(other) and self._props() == other._props()

    def __hash__(self):
        if self.__props__ is None:
            return id(self)
        return hash((type(self), *(_hashable(p) for p in self._props())))

    def __str__(self):
        if self.__props__:
            props = ", ".join(f"{p}" for p in self._props())
            return f"{type(self).__name__}{{{props}}}"
        return type(self).__name__

    def __repr__(self):
        return str(self)

    # -- building ---------------------------------------------------------------------------
    def make_node(self, *inputs: Variable) -> Apply:
        raise MethodNotDefined(f"{type(self).__name__}.make_node is not implemented")

    def __call__(self, *inputs: Any, **kwargs: Any):
        """Build the Apply node and return its default output (or all outputs).

        With ``config.compute_test_value`` on, the outputs' test values are computed here so
        that a shape mistake is reported at the line that makes it.
        """
        return_list = kwargs.pop("return_list", False)
        node = self.make_node(*inputs, **kwargs)
        for out in node.outputs:
            add_tag_trace(out)
        from tgraph.graph.testvalue import compute_test_values

        compute_test_values(node)
        if return_list:
            return list(node.outputs)
        if self.default_output is not None:
            return node.outputs[self.default_output]
        if len(node.outputs) == 1:
            return node.outputs[0]
        return node.outputs

    # -- running ----------------------------------------------------------------------------
    def perform(self, node: Apply, inputs: list, output_storage: list, params=None) -> None:
        raise MethodNotDefined(
            f"{type(self).__name__} has no Python implementation (perform)"
        )

    def prepare_node(self, node, storage_map, compute_map, impl) -> None:
        """Hook called once before a node is turned into a thunk."""

    def do_constant_folding(self, node: Apply) -> bool:
        """Whether the optimizer may precompute this node when all its inputs are constant."""
        return True

    def get_params(self, node):
        raise MethodNotDefined("get_params")

    # -- differentiation --------------------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        return self.grad(inputs, output_grads)

    def grad(self, inputs, output_grads):
        raise MethodNotDefined(f"{type(self).__name__}.grad is not implemented")

    def R_op(self, inputs, eval_points):
        raise MethodNotDefined(f"{type(self).__name__}.R_op is not implemented")

    def connection_pattern(self, node):
        raise MethodNotDefined("connection_pattern")

    # -- pickling keeps props only ----------------------------------------------------------
    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, d):
        self.__dict__.update(d)


PureOp = Op


def _hashable(p):
    try:
        hash(p)
        return p
    except TypeError:
        if isinstance(p, list):
            return tuple(_hashable(x) for x in p)
        if isinstance(p, dict):
            return tuple(sorted((k, _hashable(v)) for k, v in p.items()))
        try:
            import numpy as np

            if isinstance(p, np.ndarray):
                return (p.dtype.str, p.shape, p.tobytes())
        except ImportError:  # pragma: no cover
            pass
        return id(p)


class _NoPythonOp(Op):
    """An Op with only a C implementation (perform raises)."""


class OpenMPOp(Op):
    """Ops whose C code may use OpenMP (flag ``openmp``); the linker reads ``self.openmp``."""

    def __init__(self, openmp: bool | None = None):
        self.openmp = openmp


class _AsOp(Op):
    """An Op made from a Python function by :func:`as_op`."""

    __props__ = ("fn", "itypes", "otypes", "infer_shape_fn")

    def __init__(self, fn, itypes, otypes, infer_shape_fn):
        self.fn = fn
        self.itypes = tuple(itypes)
        self.otypes = tuple(otypes)
        self.infer_shape_fn = infer_shape_fn
        if infer_shape_fn is not None:
            self.infer_shape = self._infer_shape

    def make_node(self, *inputs):
        if len(inputs) != len(self.itypes):
            raise TypeError(
                f"{self}: expected {len(self.itypes)} inputs, got {len(inputs)}"
            )
        inputs = [t.filter_variable(_as_var(x, t)) for t, x in zip(self.itypes, inputs)]
        return Apply(self, inputs, [t() for t in self.otypes])

    def perform(self, node, inputs, outputs, params=None):
        res = self.fn(*inputs)
        if len(self.otypes) == 1:
            res = [res]
        for out, val, t in zip(outputs, res, self.otypes):
            out[0] = t.filter(val, allow_downcast=True)

    def _infer_shape(self, node, input_shapes):
        return self.infer_shape_fn(node, input_shapes)

    def __str__(self):
        return f"FromFunctionOp{{{getattr(self.fn, '__name__', self.fn)}}}"


def _as_var(x, t):
    if isinstance(x, Variable):
        return x
    return t.filter_variable(x)


def as_op(itypes, otypes, infer_shape=None):
    """Decorator making an Op of a Python function on NumPy values (Theano's ``as_op``).

    ``itypes``/``otypes`` are lists of Types; ``infer_shape(node, input_shapes)`` is optional.
    """
    itypes = list(itypes) if isinstance(itypes, list | tuple) else [itypes]
    otypes = list(otypes) if isinstance(otypes, list | tuple) else [otypes]

    def decorator(fn):
        return _AsOp(fn, itypes, otypes, infer_shape)

    return decorator

"""Shape inference kept up to date while a graph is rewritten: the ShapeFeature.

Knowing how big a value will be without computing it lets rewrites drop computations that
only feed shapes (``f = x.shape[0]`` should not compute ``x``), compare shapes to prove a
reshape or a broadcast useless, and keep intermediate results from looking shared when they
are only measured. :class:`ShapeFeature` maps every tensor variable of a FunctionGraph to a
tuple of int64 scalar expressions (``shape_of[var]``), built from each Op's
``infer_shape(node, input_shapes)``: for the graph's inputs and for Ops without one (or whose
``infer_shape`` gives up), an entry is ``Shape_i(i)(var)``, or the constant 1 for a
broadcastable dimension. Entries are always symbolic int64 scalars (Python ints become
constants) so that rewrites can put them in the graph as they are.

The expressions live outside the graph until a rewrite uses one; they are kept current as the
graph changes: when a variable ``r`` is replaced by ``new_r`` the two shapes are merged (the
more informative entry wins), shape tuples mentioning ``r`` now mention ``new_r``, and any
``Shape_i`` reading ``r`` is *scheduled* so that :func:`topt.rewrites.shape.local_track_shape_i`
can replace it by the inferred expression.

Theano 1.0 behaviour kept: the attribute names (``shape_of``, ``scheduled``,
``shape_of_reverse_index``, ``lscalar_one``), ``fgraph.shape_feature``, the methods
``get_shape``, ``same_shape``, ``set_shape``, ``set_shape_i``, ``update_shape``, ``init_r``,
``shape_tuple``, ``default_infer_shape``, ``make_vector_shape``, ``ShapeError``; the
``ShapeOptimizer`` that attaches the feature (optdb position 0.1). Differences: an
``infer_shape`` that raises an unexpected error warns with a :class:`ShapeInferenceWarning`
(or raises, with ``config.on_shape_error='raise'`` when that flag is declared) instead of
logging; an entry given as None falls back to ``Shape_i`` for that dimension only; a
replacement that would make a scheduled ``Shape_i`` depend on itself is skipped rather than
raising inside the change callback (raising there could leave other features unaware of the
change).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable, equal_computations, io_toposort
from tgraph.graph.features import AlreadyThere, Feature
from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.basic import NotScalarConstantError, constant, get_scalar_constant_value
from tgraph.tensor.shape import Shape, Shape_i, make_vector, shape_i_op
from tgraph.tensor.subtensor import Subtensor

__all__ = [
    "ShapeError",
    "ShapeFeature",
    "ShapeInferenceWarning",
    "depends_on",
    "same_entry",
    "shape_read",
]

_INT_DTYPES = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")


class ShapeError(Exception):
    """Raised by an Op's ``infer_shape`` to say it cannot tell (Theano's ``tensor.ShapeError``).

    The ShapeFeature then uses ``Shape_i`` of the outputs, computed at run time.
    """


class ShapeInferenceWarning(UserWarning):
    """An Op's ``infer_shape`` failed unexpectedly; its outputs' shapes are read at run time."""


def depends_on(expr: Variable, target: Variable, budget: int = 2000) -> bool | None:
    """Whether ``expr``'s graph contains ``target``: True, False, or None when more than
    ``budget`` variables had to be visited (callers then act as if it did)."""
    seen: set[int] = set()
    todo = [expr]
    while todo:
        v = todo.pop()
        if v is target:
            return True
        if id(v) in seen:
            continue
        seen.add(id(v))
        if len(seen) > budget:
            return None
        if v.owner is not None:
            todo.extend(v.owner.inputs)
    return False


def shape_read(var: Variable) -> tuple[Variable, int] | None:
    """``(x, i)`` when ``var`` is ``Shape_i(i)(x)`` or ``Shape(x)[i]`` with a constant i."""
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Shape_i):
        return node.inputs[0], node.op.i
    if isinstance(node.op, Subtensor) and var.type.ndim == 0 and len(node.inputs) == 2:
        base = node.inputs[0]
        if base.owner is not None and isinstance(base.owner.op, Shape):
            try:
                (k,) = node.op.get_constant_idx(node.inputs)
            except (NotScalarConstantError, ValueError):
                return None
            if isinstance(k, slice):
                return None
            x = base.owner.inputs[0]
            k = int(k)
            if k < 0:
                k += x.type.ndim
            if 0 <= k < x.type.ndim:
                return x, k
    return None


class ShapeFeature(Feature):
    """Symbolic shapes of every variable of a FunctionGraph (``fgraph.shape_feature``).

    ``shape_of[var]`` is a tuple of int64 scalar Variables (None for non-tensor
    variables). Rewrites should prefer :meth:`get_shape`, which also repairs an entry that
    reads a variable no longer in the graph.
    """

    def __init__(self):
        self.fgraph = None
        self.shape_of: dict[Variable, tuple | None] = {}
        self.scheduled: dict[Apply, Variable] = {}
        self.shape_of_reverse_index: dict[Variable, set[Variable]] = {}
        self.lscalar_one = None

    def clone(self) -> ShapeFeature:
        """A fresh feature (FunctionGraph.clone attaches it to the copy)."""
        return ShapeFeature()

    # -- feature hooks ----------------------------------------------------------------------
    def on_attach(self, fgraph) -> None:
        if hasattr(fgraph, "shape_feature"):
            raise AlreadyThere("ShapeFeature: the graph already has a shape feature")
        if self.fgraph is not None:
            raise RuntimeError(
                "ShapeFeature: this instance already serves another FunctionGraph; create "
                "one feature per graph"
            )
        self.fgraph = fgraph
        fgraph.shape_feature = self
        # One constant per graph: every broadcastable dimension shares it, so merging does
        # not have to unify thousands of equal constants.
        self.lscalar_one = constant(np.int64(1))
        self.shape_of = {}
        self.scheduled = {}
        self.shape_of_reverse_index = {}
        for node in io_toposort(fgraph.inputs, fgraph.outputs):
            self.on_import(fgraph, node, reason="on_attach")

    def on_detach(self, fgraph) -> None:
        self.shape_of = {}
        self.scheduled = {}
        self.shape_of_reverse_index = {}
        self.fgraph = None
        if getattr(fgraph, "shape_feature", None) is self:
            del fgraph.shape_feature

    def on_import(self, fgraph, node, reason) -> None:
        if node.outputs and all(o in self.shape_of for o in node.outputs):
            return  # a revert re-imports a node whose shapes we still know
        for r in node.inputs:
            self.init_r(r)
        o_shapes = self.get_node_infer_shape(node)
        for r, s in zip(node.outputs, o_shapes):
            if r not in self.shape_of:
                self.set_shape(r, s)

    def on_change_input(self, fgraph, node, i, r, new_r, reason) -> None:
        self.init_r(r)
        self.init_r(new_r)
        # r and new_r now stand for the same value: each may know more about the shape.
        self.update_shape(new_r, r)
        # A Shape_i reading r (or, now, new_r in node's place) can be replaced by the inferred
        # expression, which need not compute the variable at all.
        candidates = [*fgraph.clients.get(r, ()), (node, i)]
        for shpnode, _ in candidates:
            if shpnode == "output" or not isinstance(getattr(shpnode, "op", None), Shape_i):
                continue
            shape = self.shape_of.get(new_r)
            if shape is None:
                continue
            repl = shape[shpnode.op.i]
            if repl.owner is shpnode:
                continue
            read = shape_read(repl)
            if read is not None and read[0] is shpnode.inputs[0] and read[1] == shpnode.op.i:
                continue
            if depends_on(repl, shpnode.outputs[0]) is not False:
                continue  # would make the Shape_i depend on itself
            self.scheduled[shpnode] = new_r
        # Putting r back (a revert) cancels what replacing it scheduled.
        for k in [k for k, v in self.scheduled.items() if v is r]:
            del self.scheduled[k]
        # r may itself be an entry of some shapes (a merged Shape_i, say): follow it.
        for v in self.shape_of_reverse_index.pop(r, set()):
            shape = self.shape_of.get(v)
            if not shape:
                continue
            for k, entry in enumerate(shape):
                if entry is r:
                    self.set_shape_i(v, k, new_r)

    # -- inference --------------------------------------------------------------------------
    def get_node_infer_shape(self, node: Apply) -> list:
        """The output shapes of ``node`` from its Op's ``infer_shape`` (or the default)."""
        in_shapes = [self.shape_of[r] for r in node.inputs]
        fn = getattr(node.op, "infer_shape", None)
        if fn is None:
            return self.default_infer_shape(node, in_shapes)
        try:
            o_shapes = fn(node, in_shapes)
        except (ShapeError, MethodNotDefined, NotImplementedError):
            return self.default_infer_shape(node, in_shapes)
        except Exception as exc:
            from tgraph._config import config

            if getattr(config, "on_shape_error", "warn") == "raise":
                raise ValueError(
                    f"ShapeFeature: {node.op}.infer_shape failed for input shapes {in_shapes}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            warnings.warn(
                f"ShapeFeature: {node.op}.infer_shape failed ({type(exc).__name__}: {exc}); "
                "the shapes of its outputs will be read at run time",
                ShapeInferenceWarning,
                stacklevel=2,
            )
            return self.default_infer_shape(node, in_shapes)
        if not isinstance(o_shapes, list | tuple) or len(o_shapes) != len(node.outputs):
            raise ValueError(
                f"ShapeFeature: {node.op}.infer_shape must return a list with one shape per "
                f"output ({len(node.outputs)}), got {o_shapes!r}"
            )
        for k, s in enumerate(o_shapes):
            if s is not None and not isinstance(s, list | tuple):
                raise ValueError(
                    f"ShapeFeature: {node.op}.infer_shape gave {s!r} for output {k}; "
                    "expected a tuple of shape entries or None"
                )
        return list(o_shapes)

    def default_infer_shape(self, node: Apply, i_shapes: Sequence) -> list:
        """Shapes read at run time (``Shape_i`` of each output): Ops without infer_shape."""
        return [self.shape_tuple(r) for r in node.outputs]

    def shape_ir(self, i: int, r: Variable) -> Variable:
        """Symbolic ``r.shape[i]``: 1 for broadcastable dimensions, a constant when the graph
        fixes it (constants, SpecifyShape...), else ``Shape_i(i)(r)``."""
        bcast = getattr(r.type, "broadcastable", None)
        if bcast is not None and bcast[i]:
            return self.lscalar_one
        if isinstance(r, Constant):
            return self._int_constant(np.shape(r.data)[i], r)
        # make_node, not __call__: no test value is computed for these helper nodes.
        s = shape_i_op(i).make_node(r).outputs[0]
        try:
            value = get_scalar_constant_value(s)
        except NotScalarConstantError:
            return s
        return self._int_constant(value, r)

    def shape_tuple(self, r: Variable) -> tuple | None:
        """The run-time shape of ``r`` as a tuple of entries (None for non-tensor types)."""
        ndim = getattr(r.type, "ndim", None)
        if ndim is None:
            return None
        return tuple(self.shape_ir(i, r) for i in range(ndim))

    def _int_constant(self, value, var: Variable) -> Variable:
        """An int64 constant for a known shape entry (the shared one for 1)."""
        value = int(value)
        if value < 0:
            where = f" (computed by {var.owner.op})" if var.owner is not None else ""
            raise ValueError(
                f"ShapeFeature: shape inference gave the negative size {value} for {var}{where}"
            )
        if value == 1:
            return self.lscalar_one
        return constant(np.int64(value))

    def unpack(self, s_i, var: Variable) -> Variable:
        """One shape entry from an ``infer_shape`` result as an int64 scalar Variable."""
        if isinstance(s_i, bool | np.bool_):
            raise TypeError(f"ShapeFeature: shape entry {s_i!r} of {var} is a bool")
        if isinstance(s_i, float) and s_i == int(s_i):
            s_i = int(s_i)
        if isinstance(s_i, numbers.Integral | np.integer):
            return self._int_constant(s_i, var)
        if isinstance(s_i, np.ndarray) and s_i.ndim == 0 and s_i.dtype.kind in "iu":
            return self._int_constant(s_i, var)
        if not isinstance(s_i, Variable):
            raise TypeError(
                f"ShapeFeature: shape entry {s_i!r} ({type(s_i).__name__}) of {var} is "
                "neither an integer nor a symbolic integer scalar"
            )
        read = shape_read(s_i)
        if read is not None and read[0] in self.shape_of and self.shape_of[read[0]]:
            return self.shape_of[read[0]][read[1]]
        if getattr(s_i.type, "ndim", None) != 0 or getattr(s_i.type, "dtype", None) not in \
                _INT_DTYPES:
            raise TypeError(
                f"ShapeFeature: shape entry {s_i} of {var} has type {s_i.type}; expected an "
                "integer scalar"
            )
        if isinstance(s_i, Constant):
            return self._int_constant(np.asarray(s_i.data), var)
        if not hasattr(s_i.type, "broadcastable"):
            from tgraph.tensor.scalar_conv import tensor_from_scalar

            s_i = tensor_from_scalar(s_i)
        if s_i.type.dtype != "int64":
            from tgraph.tensor.math_elemwise import cast

            s_i = cast(s_i, "int64")
        return s_i

    # -- setting shapes ---------------------------------------------------------------------
    def set_shape(self, r: Variable, s, override: bool = False) -> None:
        """Record shape ``s`` (a tuple of entries, or None) for ``r``.

        Without ``override`` ``r`` must be new to the feature. Broadcastable dimensions
        always get the constant 1; None entries fall back to ``Shape_i``.
        """
        if not override and r in self.shape_of:
            raise ValueError(
                f"ShapeFeature.set_shape: {r} already has a shape; pass override=True"
            )
        if s is None:
            self.shape_of[r] = None
            return
        if not isinstance(s, list | tuple):
            raise TypeError(f"ShapeFeature.set_shape: shapes are tuples, got {s!r} for {r}")
        ndim = getattr(r.type, "ndim", None)
        if ndim != len(s):
            where = f"{r.owner.op}.infer_shape" if r.owner is not None else "set_shape"
            raise ValueError(
                f"ShapeFeature: {where} gave {len(s)} shape entries for {r}, which has "
                f"{ndim} dimensions"
            )
        bcast = getattr(r.type, "broadcastable", (False,) * ndim)
        entries = []
        for i in range(ndim):
            if bcast[i]:
                entries.append(self.lscalar_one)
            elif s[i] is None:
                entries.append(self.shape_ir(i, r))
            else:
                entries.append(self.unpack(s[i], r))
        self._store(r, tuple(entries))

    def _store(self, r: Variable, shape: tuple) -> None:
        self.shape_of[r] = shape
        for sv in shape:
            self.shape_of_reverse_index.setdefault(sv, set()).add(r)

    def set_shape_i(self, r: Variable, i: int, s_i) -> None:
        """Replace entry ``i`` of ``r``'s shape by ``s_i``."""
        shape = list(self.shape_of[r])
        bcast = getattr(r.type, "broadcastable", None)
        shape[i] = self.lscalar_one if bcast is not None and bcast[i] else self.unpack(s_i, r)
        self._store(r, tuple(shape))

    def init_r(self, r: Variable) -> None:
        """Give ``r`` its run-time shape if the feature does not know it yet."""
        if r not in self.shape_of:
            self.set_shape(r, self.shape_tuple(r))

    def update_shape(self, r: Variable, other_r: Variable) -> None:
        """``r`` and ``other_r`` have the same shape: merge what is known, preferring
        ``other_r``'s entries unless they say less (a Shape_i of one of the two), are not
        constants where ``r``'s are, or already depend on ``r``'s entry."""
        other = self.shape_of.get(other_r)
        if other is None:
            return
        mine = self.shape_of.get(r)
        if mine is None:
            self._store(r, other)
            return
        if (r.owner is not None and other_r.owner is not None
                and r.owner.op == other_r.owner.op and r.owner.inputs == other_r.owner.inputs):
            return  # a merge of two identical nodes: the shapes are the same expressions
        merged = []
        for i, (a, b) in enumerate(zip(mine, other)):
            read = shape_read(b)
            if a is b:
                merged.append(a)
            elif read is not None and read[1] == i and read[0] in (r, other_r):
                merged.append(a)  # b only says "the run-time size"
            elif isinstance(a, Constant):
                merged.append(a)
            elif isinstance(b, Constant):
                merged.append(b)
            elif depends_on(b, a) is not False:
                # b is built from a (or too big to tell): keep the simpler, cycle-free one.
                merged.append(a)
            else:
                merged.append(b)
        bcast = getattr(r.type, "broadcastable", None)
        if bcast is not None:
            merged = [self.lscalar_one if bcast[i] else m for i, m in enumerate(merged)]
        self._store(r, tuple(merged))

    # -- queries ----------------------------------------------------------------------------
    def get_shape(self, var: Variable, idx: int) -> Variable:
        """Entry ``idx`` of ``var``'s shape, re-inferred first when it reads a variable that
        left the graph (so using it would bring that computation back)."""
        if self._stale(self.shape_of[var][idx]):
            self._refresh(var)
        return self.shape_of[var][idx]

    def _refresh(self, var: Variable) -> None:
        """Re-infer the stale entries of ``var`` and of its stale ancestors, inputs first
        (an explicit stack: chains of stale shapes can be long)."""
        order: list[Variable] = []
        seen: set[Variable] = set()
        stack = [(var, False)]
        while stack:
            v, expanded = stack.pop()
            if expanded:
                order.append(v)
                continue
            if v in seen or v.owner is None:
                continue
            seen.add(v)
            shape = self.shape_of.get(v)
            if not shape or not any(self._stale(e) for e in shape):
                continue
            stack.append((v, True))
            stack.extend((inp, False) for inp in v.owner.inputs if inp in self.shape_of)
        for v in order:
            node = v.owner
            for out, new in zip(node.outputs, self.get_node_infer_shape(node)):
                old = self.shape_of.get(out)
                if old is None or new is None:
                    continue
                merged = list(old)
                changed = False
                for k in range(len(merged)):
                    if self._stale(merged[k]) and new[k] is not None:
                        merged[k] = new[k]
                        changed = True
                if changed:
                    self.set_shape(out, merged, override=True)

    def _stale(self, entry: Variable) -> bool:
        read = shape_read(entry)
        return (read is not None and self.fgraph is not None
                and read[0] not in self.fgraph.variables)

    def make_vector_shape(self, r: Variable) -> Variable:
        """``r``'s inferred shape as an int64 vector (a MakeVector of the entries)."""
        return make_vector(*self.shape_of[r])

    def same_shape(self, x: Variable, y: Variable, dim_x: int | None = None,
                   dim_y: int | None = None) -> bool:
        """True when the graph proves ``x`` and ``y`` have the same shape (or, with
        ``dim_x``/``dim_y``, the same size along those dimensions). False means "not
        proven", not "different"."""
        sx, sy = self.shape_of.get(x), self.shape_of.get(y)
        if sx is None or sy is None:
            return False
        if dim_x is not None:
            sx = (sx[dim_x],)
        if dim_y is not None:
            sy = (sy[dim_y],)
        if len(sx) != len(sy):
            return False
        return all(same_entry(a, b) for a, b in zip(sx, sy))


def same_entry(a: Variable, b: Variable) -> bool:
    """Whether two shape entries are provably equal: the same variable, equal constants,
    or the same dimension read from the same (or an equal) variable."""
    if a is b:
        return True
    if isinstance(a, Constant) and isinstance(b, Constant):
        return bool(np.array_equal(np.asarray(a.data), np.asarray(b.data)))
    ra, rb = shape_read(a), shape_read(b)
    if ra is None or rb is None or ra[1] != rb[1]:
        return False
    if ra[0] is rb[0]:
        return True
    return bool(equal_computations([ra[0]], [rb[0]]))


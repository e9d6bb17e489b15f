"""Composite: one scalar op made of a graph of scalar ops (what elemwise fusion builds).

The inner graph is copied at construction, with any inner Composite inlined, so the op owns
it and nothing outside can change it. Two Composites are equal when their inner graphs are
the same computation written the same way: ``__props__`` is a canonical text of the graph
(ops by their stable description, constants by dtype and value, variables by position), the
same in every process.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable, clone_replace, io_toposort
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.hashing import stable_repr
from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import c_support
from tgraph.scalar.op import ScalarOp, as_scalar
from tgraph.scalar.type import ScalarType


def _strip_trace(var: Variable) -> Variable:
    # Creation stacks of inner variables mean nothing to users and bloat pickles.
    var.tag.__dict__.pop("trace", None)
    return var


def _copy_graph(inputs: Sequence[Variable], outputs: Sequence[Variable],
                memo: dict) -> list[Variable]:
    """Copy the scalar graph from ``inputs`` (already in ``memo``) to ``outputs``,
    inlining inner Composites; orphans must be constants."""
    for node in io_toposort(list(inputs), list(outputs)):
        args = []
        for v in node.inputs:
            if v not in memo:
                if not isinstance(v, Constant):
                    raise ValueError(
                        f"Composite: {v} is neither an input nor a constant (free variables "
                        "must be listed among the inputs)"
                    )
                memo[v] = _strip_trace(type(v)(v.type, v.data, v.name))
            args.append(memo[v])
        op = node.op
        if isinstance(op, Composite):
            outs = _copy_graph(op.inputs, op.outputs, dict(zip(op.inputs, args)))
        elif isinstance(op, ScalarOp):
            outs = Apply(op, args, [o.type() for o in node.outputs]).outputs
        else:
            raise ValueError(f"Composite: the inner graph may hold scalar ops only, got {op}")
        memo.update(zip(node.outputs, outs))
    result = []
    for o in outputs:
        if o not in memo:
            if not isinstance(o, Constant):
                raise ValueError(f"Composite: output {o} does not depend on the inputs")
            memo[o] = _strip_trace(type(o)(o.type, o.data, o.name))
        result.append(memo[o])
    return result


def _const_text(c: Constant) -> str:
    value = np.asarray(c.data).item()
    return f"{c.type.dtype}{{{value!r}}}"


class Composite(ScalarOp):
    """A scalar op computing ``outputs`` from ``inputs`` through a graph of scalar ops.

    ``impl``/``perform`` run the inner ops' ``perform`` node by node; ``vectorized`` runs
    their ``vectorized`` on whole arrays, casting every intermediate to its declared dtype
    so integer wrapping and division behave as in the unfused graph. With several outputs,
    ``impl`` and ``vectorized`` return tuples. There is no gradient (as in Theano): take
    gradients before fusing.
    """

    __props__ = ("graph_key",)
    nfunc_spec = None

    def __init__(self, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        inputs, outputs = list(inputs), list(outputs)
        for v in (*inputs, *outputs):
            if not isinstance(v, Variable) or not isinstance(v.type, ScalarType):
                raise TypeError(f"Composite: expected scalar variables, got {v!r}")
        for i in inputs:
            if any(i is o for o in outputs):
                raise ValueError(
                    f"Composite: input {i} is also an output; wrap it in identity()"
                )
        memo: dict = {}
        new_inputs = []
        for i in inputs:
            memo[i] = _strip_trace(i.type.make_variable(i.name))
            new_inputs.append(memo[i])
        new_outputs = _copy_graph(inputs, outputs, memo)
        super().__init__(None, None)
        self.inputs = new_inputs
        self.outputs = new_outputs
        self.inputs_type = tuple(v.type for v in new_inputs)
        self.outputs_type = tuple(v.type for v in new_outputs)
        self.nin = len(new_inputs)
        self.nout = len(new_outputs)
        self._nodes = io_toposort(self.inputs, self.outputs)
        self.graph_key = self._canonical_text()
        self.name = f"Composite{{{self._formula()}}}"

    # -- identity ---------------------------------------------------------------------------
    def _canonical_text(self) -> str:
        names: dict[Variable, str] = {v: f"i{k}" for k, v in enumerate(self.inputs)}
        lines = [f"in {' '.join(t.dtype for t in self.inputs_type)}"]
        for n, node in enumerate(self._nodes):
            args = [names[v] if v in names else _const_text(v) for v in node.inputs]
            outs = []
            for k, o in enumerate(node.outputs):
                names[o] = f"t{n}.{k}"
                outs.append(o.type.dtype)
            lines.append(f"t{n}={stable_repr(node.op)}({','.join(args)})->{','.join(outs)}")
        out = [names[o] if o in names else _const_text(o) for o in self.outputs]
        lines.append(f"out {' '.join(out)}")
        return "\n".join(lines)

    def _formula(self) -> str:
        text: dict[Variable, str] = {v: f"i{k}" for k, v in enumerate(self.inputs)}
        for node in self._nodes:
            args = ", ".join(text[v] if v in text else _const_text(v) for v in node.inputs)
            for k, o in enumerate(node.outputs):
                suffix = f".{k}" if len(node.outputs) > 1 else ""
                text[o] = f"{node.op}({args}){suffix}"
        return ", ".join(text[o] if o in text else _const_text(o) for o in self.outputs)

    def __str__(self):
        return self.name

    def make_new_inplace(self, output_types_preference=None, name=None) -> Composite:
        # The output types are fixed by the inner graph; the rule is ignored.
        return Composite(self.inputs, self.outputs)

    # -- building ---------------------------------------------------------------------------
    def output_types(self, types):
        if tuple(types) != self.inputs_type:
            raise TypeError(
                f"{self}: expected inputs of types ({', '.join(map(str, self.inputs_type))}), "
                f"got ({', '.join(map(str, types))})"
            )
        return list(self.outputs_type)

    def make_node(self, *inputs: Any) -> Apply:
        if len(inputs) != self.nin:
            raise TypeError(f"{self}: expected {self.nin} inputs, got {len(inputs)}")
        inputs = [as_scalar(x) for x in inputs]
        if tuple(x.type for x in inputs) == self.inputs_type:
            return Apply(self, inputs, [t() for t in self.outputs_type])
        # Other input types: the same graph rebuilt on them (output types may change).
        new_inputs = [x.type.make_variable() for x in inputs]
        new_outputs = clone_replace(self.outputs, dict(zip(self.inputs, new_inputs)),
                                    strict=False)
        return Composite(new_inputs, new_outputs).make_node(*inputs)

    @property
    def n_scalar_nodes(self) -> int:
        """Scalar nodes of the inner graph (inner Composites are inlined): the size fusion
        bounds, since it decides the length of the generated C."""
        return len(self._nodes)

    @property
    def fgraph(self):
        """A FunctionGraph over a copy of the inner graph (for rewrites that read it)."""
        fg = self.__dict__.get("_fgraph")
        if fg is None:
            fg = self.__dict__["_fgraph"] = FunctionGraph(self.inputs, self.outputs)
        return fg

    # -- running ----------------------------------------------------------------------------
    def _evaluate(self, values: Sequence[Any], vectorized: bool) -> list:
        storage: dict[Variable, Any] = dict(zip(self.inputs, values))
        for node in self._nodes:
            args = [storage[v] if v in storage else v.data for v in node.inputs]
            if vectorized:
                res = node.op.vectorized(*args)
                if len(node.outputs) == 1:
                    res = (res,)
                with np.errstate(all="ignore"):
                    res = [np.asarray(r).astype(o.type.dtype, copy=False)
                           for r, o in zip(res, node.outputs)]
            else:
                cells = [[None] for _ in node.outputs]
                node.op.perform(node, args, cells)
                res = [c[0] for c in cells]
            storage.update(zip(node.outputs, res))
        return [storage[o] if o in storage else o.data for o in self.outputs]

    def _cast_outputs(self, values: Sequence[Any]) -> list:
        with np.errstate(all="ignore"):
            return [np.asarray(v).astype(t.dtype)[()] for v, t in zip(values, self.outputs_type)]

    def impl(self, *inputs: Any):
        res = self._cast_outputs(self._evaluate(inputs, vectorized=False))
        return res[0] if self.nout == 1 else tuple(res)

    def perform(self, node, inputs, output_storage, params=None):
        res = self._cast_outputs(self._evaluate(inputs, vectorized=False))
        for cell, value in zip(output_storage, res):
            cell[0] = value

    def vectorized(self, *arrays: Any):
        res = self._evaluate([np.asarray(a) for a in arrays], vectorized=True)
        return res[0] if self.nout == 1 else tuple(res)

    # -- C ----------------------------------------------------------------------------------
    #: The version of the chaining code below (the inner ops' versions are appended).
    _c_composite_version = (1,)

    def _inner_names(self, name: str) -> list[str]:
        return [f"{name}_n{j}" for j in range(len(self._nodes))]

    def c_code(self, node, name, inputs, outputs, sub):
        """The inner ops' C chained through local temporaries, one block per inner node.

        Temporaries are named from ``name`` (``<name>_t<node>_<output>``), constants become
        ``const`` locals holding exact literals; an inner op without C raises
        MethodNotDefined, so the whole node falls back to Python.
        """
        c_support.check_real(self, node)
        names: dict[Variable, str] = dict(zip(self.inputs, inputs))
        lines = []

        def value_of(var: Variable, label: str) -> str:
            if var not in names:  # a constant (the constructor allows no other orphan)
                names[var] = label
                lines.append(f"const {c_support.c_type(var.type.dtype)} {label} ="
                             f" {var.type.c_literal(var.data)};")
            return names[var]

        for j, (inner, inner_name) in enumerate(zip(self._nodes, self._inner_names(name))):
            args = [value_of(v, f"{name}_c{j}_{k}") for k, v in enumerate(inner.inputs)]
            outs = []
            for k, o in enumerate(inner.outputs):
                names[o] = f"{name}_t{j}_{k}"
                outs.append(names[o])
                lines.append(f"{c_support.c_type(o.type.dtype)} {names[o]};")
            try:
                code = inner.op.c_code(inner, inner_name, args, outs, sub)
            except MethodNotDefined as exc:
                raise MethodNotDefined(f"{self}: inner op {inner.op} has no C: {exc}") from exc
            lines.append("{\n" + code + "\n}")
        for k, (o, out_name) in enumerate(zip(self.outputs, outputs)):
            lines.append(f"{out_name} = {value_of(o, f'{name}_o{k}')};")
        return "\n".join(lines)

    def _inner_ops(self) -> list:
        seen: list = []
        for n in self._nodes:
            if n.op not in seen:
                seen.append(n.op)
        return seen

    def _union(self, method: str, **kwargs) -> list[str]:
        out: list[str] = []
        for op in self._inner_ops():
            for item in getattr(op, method)(**kwargs):
                if item not in out:
                    out.append(item)
        return out

    def c_support_code(self, **kwargs) -> str:
        texts: list[str] = []
        for op in self._inner_ops():
            text = op.c_support_code(**kwargs)
            if text and text not in texts:
                texts.append(text)
        return "\n".join(texts)

    def c_support_code_apply(self, node, name) -> str:
        texts = [n.op.c_support_code_apply(n, inner_name)
                 for n, inner_name in zip(self._nodes, self._inner_names(name))]
        return "\n".join(t for t in texts if t)

    def c_headers(self, **kwargs) -> list[str]:
        return self._union("c_headers", **kwargs) or list(c_support.C_HEADERS)

    def c_header_dirs(self, **kwargs) -> list[str]:
        return self._union("c_header_dirs", **kwargs)

    def c_libraries(self, **kwargs) -> list[str]:
        return self._union("c_libraries", **kwargs)

    def c_lib_dirs(self, **kwargs) -> list[str]:
        return self._union("c_lib_dirs", **kwargs)

    def c_compile_args(self, **kwargs) -> list[str]:
        return self._union("c_compile_args", **kwargs) or list(c_support.C_COMPILE_ARGS)

    def c_code_cache_version(self) -> tuple:
        versions = []
        for op in self._inner_ops():
            v = op.c_code_cache_version()
            if not v:
                return ()
            versions.append(v)
        return (c_support.C_SUPPORT_VERSION, *self._c_composite_version, *versions)

    # -- differentiation --------------------------------------------------------------------
    def L_op(self, inputs, outputs, output_grads):
        raise MethodNotDefined(
            f"{self}: gradients of a Composite are not implemented (as in Theano); "
            "differentiate the graph before fusion"
        )

    def grad(self, inputs, output_grads):
        return self.L_op(inputs, None, output_grads)

    # -- pickling ---------------------------------------------------------------------------
    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_nodes", None)
        state.pop("_fgraph", None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._nodes = io_toposort(self.inputs, self.outputs)

"""FunctionGraph: a graph with fixed inputs and outputs that rewrites edit in place.

It tracks, for every variable, its clients (``(node, input_index)`` pairs, or
``("output", i)`` for the graph's i-th output), and tells attached *features* about every
change (import, prune, change_input) so that bookkeeping such as merging, destroy handling
and shape inference stays current while rewrites run.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tgraph.graph.basic import Apply, Constant, Variable, clone_get_equiv, io_toposort
from tgraph.graph.utils import TestValueError


class InconsistencyError(Exception):
    """A feature refused a change (e.g. it would overwrite a value still needed)."""


class MissingInputError(Exception):
    """An output depends on a variable that is neither an input nor a constant."""

    def __init__(self, *args, variable=None):
        self.variable = variable
        super().__init__(*args)


class ClientsMap(dict):
    """Variable → list of clients; also callable as ``fgraph.clients(var)`` (Theano 1.0)."""

    def __call__(self, var):
        return self[var]


def _holds(seq, var) -> bool:
    """``var in seq`` by identity: tensor variables define rich comparisons in Python, so
    ``in`` would call them once per element (slow for graphs with hundreds of inputs)."""
    return any(x is var for x in seq)


class FunctionGraph:
    """A graph between ``inputs`` and ``outputs`` with client tracking and features.

    With ``clone=True`` (the default) the graph is copied first, so rewrites never touch
    the user's variables.
    """

    def __init__(self, inputs: Sequence[Variable] | None = None,
                 outputs: Sequence[Variable] | None = None, features=None,
                 clone: bool = True, update_mapping: dict | None = None,
                 memo: dict | None = None, copy_inputs: bool = True,
                 copy_orphans: bool = True):
        if outputs is None:
            raise ValueError("FunctionGraph needs outputs")
        outputs = list(outputs)
        if inputs is None:
            from tgraph.graph.basic import graph_inputs

            inputs = [i for i in graph_inputs(outputs) if not isinstance(i, Constant)]
        inputs = list(inputs)
        if clone:
            memo = clone_get_equiv(inputs, outputs, copy_inputs=copy_inputs,
                                   copy_orphans=copy_orphans, memo=memo)
            inputs = [memo[i] for i in inputs]
            outputs = [memo[o] for o in outputs]
        self.memo = memo or {}
        self.execute_callbacks_time = 0.0
        self._features: list = []
        self.inputs: list[Variable] = []
        self.outputs: list[Variable] = []
        self.apply_nodes: set[Apply] = set()
        self.variables: set[Variable] = set()
        self.clients: ClientsMap = ClientsMap()
        self.update_mapping = update_mapping
        self.profile = None
        for f in features or []:
            self.attach_feature(f)
        for inp in inputs:
            self.add_input(inp, check=False)
        self.outputs.extend(outputs)
        for i, out in enumerate(self.outputs):
            self.import_var(out, reason="init")
            self.clients[out].append(("output", i))

    # -- inputs and outputs -----------------------------------------------------------------
    def add_input(self, var: Variable, check: bool = True) -> None:
        if check and var in self.variables:
            return
        if var.owner is not None:
            raise ValueError(f"{var} is computed by {var.owner.op}; it cannot be an input")
        self.inputs.append(var)
        self.setup_var(var)
        self.variables.add(var)

    def add_output(self, var: Variable, reason: str | None = None) -> None:
        """Append an output (used for shared-variable updates)."""
        self.outputs.append(var)
        self.import_var(var, reason=reason)
        self.clients[var].append(("output", len(self.outputs) - 1))

    def setup_var(self, var: Variable) -> None:
        self.clients.setdefault(var, [])

    # -- importing and pruning --------------------------------------------------------------
    def import_var(self, var: Variable, reason: str | None = None) -> None:
        if var.owner is not None and var.owner not in self.apply_nodes:
            self.import_node(var.owner, reason=reason)
        elif var.owner is None and var not in self.variables:
            if not isinstance(var, Constant) and not getattr(var, "_fgraph_orphan_ok", False):
                if not _holds(self.inputs, var):
                    raise MissingInputError(
                        f"output depends on {var} ({var.type}), which is neither an input "
                        "of the graph nor a constant; pass it in inputs or givens",
                        variable=var,
                    )
            self.setup_var(var)
            self.variables.add(var)

    def import_node(self, apply_node: Apply, check: bool = True, reason: str | None = None
                    ) -> None:
        """Add ``apply_node`` and every node it depends on that is not in the graph yet."""
        new_nodes = self._nodes_to_import(apply_node)
        if check:
            for node in new_nodes:
                for var in node.inputs:
                    if var.owner is None and var not in self.variables:
                        if not isinstance(var, Constant) and not _holds(self.inputs, var):
                            raise MissingInputError(
                                f"{node.op} needs {var} ({var.type}), which is neither an "
                                "input of the graph nor a constant; pass it in inputs or givens",
                                variable=var,
                            )
        for node in new_nodes:
            self.apply_nodes.add(node)
            node.fgraph = self  # Theano 1.0 rewrites read node.fgraph
            if not hasattr(node.tag, "imported_by"):
                node.tag.imported_by = []
            node.tag.imported_by.append(str(reason))
            for out in node.outputs:
                self.setup_var(out)
                self.variables.add(out)
            for i, inp in enumerate(node.inputs):
                if inp not in self.variables:
                    self.setup_var(inp)
                    self.variables.add(inp)
                self.clients[inp].append((node, i))
            self.execute_callbacks("on_import", node, reason)

    def _nodes_to_import(self, apply_node: Apply) -> list[Apply]:
        """The nodes of ``apply_node``'s graph that are not in this graph, dependencies first.

        The order is ``io_toposort(self.variables, apply_node.outputs)``'s; the walk stops at
        variables already in the graph, so importing costs what is new, not the graph's size
        (rewrites import a few nodes at a time into graphs of thousands).
        """
        variables = self.variables
        if any(o in variables for o in apply_node.outputs):
            return []
        order: list[Apply] = []
        done: set = set()
        visiting = {apply_node}

        def deps(node):
            return [i.owner for i in node.inputs if i.owner is not None and i not in variables]

        stack = [(apply_node, iter(deps(apply_node)))]
        while stack:
            node, it = stack[-1]
            for d in it:
                if d in done:
                    continue
                if d in visiting:
                    raise ValueError(f"the graph has a cycle through {d}")
                visiting.add(d)
                stack.append((d, iter(deps(d))))
                break
            else:
                stack.pop()
                visiting.discard(node)
                done.add(node)
                order.append(node)
        return order

    def remove_client(self, var: Variable, client, reason: str | None = None) -> None:
        """Drop one client of ``var``; prune ``var``'s owner if nothing uses it any more."""
        todo = [(var, client)]
        while todo:
            v, cl = todo.pop()
            lst = self.clients[v]
            try:
                lst.remove(cl)
            except ValueError:
                continue
            if lst:  # a graph output has its ('output', k) entry here, so it stays
                continue
            node = v.owner
            if node is None:
                if not _holds(self.inputs, v):
                    self.variables.discard(v)
                    del self.clients[v]
                continue
            if node not in self.apply_nodes:
                continue
            if any(self.clients.get(o) for o in node.outputs):
                continue
            self.apply_nodes.discard(node)
            for o in node.outputs:
                self.variables.discard(o)
                self.clients.pop(o, None)
            self.execute_callbacks("on_prune", node, reason)
            if getattr(node, "fgraph", None) is self:
                del node.fgraph
            for i, inp in enumerate(node.inputs):
                todo.append((inp, (node, i)))

    # -- editing ----------------------------------------------------------------------------
    def change_input(self, node, i: int, new_var: Variable, reason: str | None = None) -> None:
        """Make input ``i`` of ``node`` (or output ``i`` when node == 'output') ``new_var``."""
        if node == "output":
            old = self.outputs[i]
            if not old.type.is_super(new_var.type) and old.type != new_var.type:
                raise TypeError(
                    f"cannot replace output {i} ({old}, {old.type}) by {new_var} "
                    f"of type {new_var.type}"
                )
            self.outputs[i] = new_var
        else:
            old = node.inputs[i]
            if old.type != new_var.type and not old.type.is_super(new_var.type):
                raise TypeError(
                    f"cannot replace input {i} of {node.op} ({old}, {old.type}) by "
                    f"{new_var} of type {new_var.type}"
                )
            node.inputs[i] = new_var
        if old is new_var:
            return
        self.import_var(new_var, reason=reason)
        self.clients[new_var].append((node, i))
        self.remove_client(old, (node, i), reason=reason)
        self.execute_callbacks("on_change_input", node, i, old, new_var, reason)

    def replace(self, var: Variable, new_var: Variable, reason: str | None = None,
                verbose: bool | None = None, import_missing: bool = False) -> None:
        """Make every client of ``var`` use ``new_var`` instead."""
        if verbose is None:
            verbose = _optimizer_verbose()
        if verbose:
            print(f"rewriting: rewrite {reason} replaces {var} of {var.owner} with "
                  f"{new_var} of {new_var.owner}")
        if var not in self.variables:
            return
        new_var = self._convert_replacement(var, new_var, reason)
        for node, i in list(self.clients[var]):
            if node == "output" or node in self.apply_nodes:
                self.change_input(node, i, new_var, reason=reason)

    def _convert_replacement(self, var, new_var, reason):
        if var.type == new_var.type:
            return new_var
        converted = var.type.convert_variable(new_var)
        if converted is None:
            raise TypeError(
                f"the rewrite {reason} tried to replace {var} of type {var.type} with "
                f"{new_var} of type {new_var.type}; types must match"
            )
        return converted

    def replace_all(self, pairs, reason: str | None = None) -> None:
        for var, new_var in pairs:
            self.replace(var, new_var, reason=reason)

    def remove_node(self, node: Apply, reason: str | None = None) -> None:
        """Remove ``node`` and its clients' dependence on it (outputs must be unused)."""
        for o in node.outputs:
            if self.clients.get(o):
                raise ValueError(f"cannot remove {node}: output {o} is still used")
        self.apply_nodes.discard(node)
        for o in node.outputs:
            self.variables.discard(o)
            self.clients.pop(o, None)
        self.execute_callbacks("on_prune", node, reason)
        for i, inp in enumerate(node.inputs):
            self.remove_client(inp, (node, i), reason)

    # -- features ---------------------------------------------------------------------------
    def attach_feature(self, feature) -> None:
        if feature in self._features:
            return
        attach = getattr(feature, "on_attach", None)
        if attach is not None:
            attach(self)
        self._features.append(feature)

    def remove_feature(self, feature) -> None:
        try:
            self._features.remove(feature)
        except ValueError:
            return
        detach = getattr(feature, "on_detach", None)
        if detach is not None:
            detach(self)

    def execute_callbacks(self, name: str, *args: Any, **kwargs: Any) -> None:
        for feature in list(self._features):
            fn = getattr(feature, name, None)
            if fn is not None:
                fn(self, *args, **kwargs)

    def collect_callbacks(self, name: str, *args: Any) -> dict:
        out = {}
        for feature in self._features:
            fn = getattr(feature, name, None)
            if fn is not None:
                out[feature] = fn(*args)
        return out

    # -- orders -----------------------------------------------------------------------------
    def orderings(self) -> dict:
        """Extra "a before b" constraints from features (node → nodes that must run first)."""
        ords: dict = {}
        for feature in self._features:
            fn = getattr(feature, "orderings", None)
            if fn is None:
                continue
            for node, prereqs in fn(self).items():
                ords.setdefault(node, [])
                for p in prereqs:
                    if p not in ords[node]:
                        ords[node].append(p)
        return ords

    def toposort(self) -> list[Apply]:
        """The nodes in a deterministic order that respects dependencies and orderings."""
        if len(self.apply_nodes) < 2:
            return list(self.apply_nodes)
        return io_toposort(self.inputs, self.outputs, self.orderings())

    # -- checks and copies ------------------------------------------------------------------
    def check_integrity(self) -> None:
        nodes = set(io_toposort(self.inputs, self.outputs))
        if nodes != self.apply_nodes:
            raise ValueError(
                f"inconsistent graph: {len(nodes - self.apply_nodes)} nodes reachable but not "
                f"tracked, {len(self.apply_nodes - nodes)} tracked but unreachable"
            )
        for node in nodes:
            for i, var in enumerate(node.inputs):
                if (node, i) not in self.clients.get(var, []):
                    raise ValueError(f"client ({node}, {i}) of {var} is not recorded")

    def clone(self, check_integrity: bool = True) -> FunctionGraph:
        return self.clone_get_equiv(check_integrity)[0]

    def clone_get_equiv(self, check_integrity: bool = True, attach_feature: bool = True):
        equiv = clone_get_equiv(self.inputs, self.outputs)
        if check_integrity:
            self.check_integrity()
        e = FunctionGraph([equiv[i] for i in self.inputs], [equiv[o] for o in self.outputs],
                          clone=False, update_mapping=self.update_mapping)
        if attach_feature:
            for feature in self._features:
                clone_fn = getattr(feature, "clone", None)
                if clone_fn is not None:
                    e.attach_feature(clone_fn())
        return e, equiv

    def __str__(self) -> str:
        return f"FunctionGraph({', '.join(str(o) for o in self.outputs)})"

    def __repr__(self) -> str:
        return str(self)

    def __contains__(self, item) -> bool:
        if isinstance(item, Variable):
            return item in self.variables
        return item in self.apply_nodes

    def __getstate__(self):
        d = self.__dict__.copy()
        return d


def _optimizer_verbose() -> bool:
    from tgraph._config import config

    return bool(getattr(config, "optimizer_verbose", False))


__all__ = [
    "ClientsMap",
    "FunctionGraph",
    "InconsistencyError",
    "MissingInputError",
    "TestValueError",
]

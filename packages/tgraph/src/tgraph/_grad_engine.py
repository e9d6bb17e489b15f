"""The reverse sweep behind :func:`tgraph.gradient.grad` (private: use ``tgraph.gradient``).

Given the variables whose gradient is known (the cost, ``known_grads``) and the variables
requested, it finds the differentiable paths between them (following each Op's
``connection_pattern``), visits the nodes on those paths in reverse dependency order, calls
``op.L_op`` once per node and sums the terms each variable receives. The checks are Theano
1.0's Op contract: gradients are never integer-valued, ``DisconnectedType`` marks structural
zeros and must agree with the connection pattern, ``NullType`` (undefined) propagates. Every walk
is iterative, so graphs deeper than Python's recursion limit work.
"""

from __future__ import annotations

import functools
import operator
import warnings

import numpy as np

from tgraph._config import config
from tgraph.gradient_ops import DisconnectedType, NullType, disconnected_type
from tgraph.graph.basic import Apply, Constant, Variable, general_toposort
from tgraph.graph.utils import MethodNotDefined, TestValueError

# Dtype helpers that accept any Type (non-tensor types have no dtype: None).


def dtype_of(var) -> str | None:
    return getattr(var.type, "dtype", None)


def dtype_kind(dtype: str | None) -> str:
    return np.dtype(dtype).kind if dtype is not None else ""


def is_discrete(dtype: str | None) -> bool:
    return dtype_kind(dtype) in ("b", "i", "u")


def is_continuous(dtype: str | None) -> bool:
    return dtype_kind(dtype) in ("f", "c")


def _test_value_shape(var: Variable):
    if config.compute_test_value == "off":
        return None
    try:
        return np.shape(var.get_test_value())
    except (TestValueError, AttributeError):
        return None


def _check_same_shape(var: Variable, g: Variable, what: str) -> None:
    """With test values on, refuse a gradient whose shape differs from its variable's."""
    vs, gs = _test_value_shape(var), _test_value_shape(g)
    if vs is not None and gs is not None and vs != gs:
        raise ValueError(f"{what}: the gradient has shape {gs} but the variable has shape {vs}")


def _is_zero(x: Variable) -> str:
    """'yes', 'no' or 'maybe': whether ``x`` is known to be all zeros (constants only)."""
    if isinstance(x.type, NullType):
        return "no"
    if isinstance(x.type, DisconnectedType):
        return "yes"
    if isinstance(x, Constant):
        return "yes" if np.all(np.asarray(x.data) == 0) else "no"
    return "maybe"


class Patterns:
    """``connection_pattern`` per node, checked once and cached for one gradient computation."""

    def __init__(self):
        self._cache: dict[int, tuple[list[list[bool]], bool]] = {}

    def __call__(self, node: Apply) -> tuple[list[list[bool]], bool]:
        """(pattern[input][output], whether the op defines it)."""
        key = id(node)
        if key not in self._cache:
            self._cache[key] = self._compute(node)
        return self._cache[key]

    @staticmethod
    def _compute(node: Apply):
        fn = getattr(node.op, "connection_pattern", None)
        try:
            if fn is None:
                raise MethodNotDefined("connection_pattern")
            pattern = fn(node)
        except MethodNotDefined:
            return [[True] * len(node.outputs) for _ in node.inputs], False
        if not isinstance(pattern, list | tuple) or len(pattern) != len(node.inputs):
            raise TypeError(
                f"{node.op}.connection_pattern must return a list with one list per input "
                f"({len(node.inputs)}), got {pattern!r}"
            )
        rows = []
        for i, row in enumerate(pattern):
            if not isinstance(row, list | tuple) or len(row) != len(node.outputs):
                raise TypeError(
                    f"{node.op}.connection_pattern: row {i} must be a list of "
                    f"{len(node.outputs)} booleans (one per output), got {row!r}"
                )
            rows.append([bool(b) for b in row])
        return rows, True


def connected_clients(outputs, wrt, constants: set[int], patterns: Patterns):
    """``{var: {node: [input positions]}}`` for variables on a differentiable path wrt→outputs.

    Backward from the outputs (following connection patterns, stopping at consider_constant
    variables), then forward from ``wrt`` to keep only variables that depend on one of them.
    """
    clients: dict[Variable, dict[Apply, list[int]]] = {}
    seen: set[Variable] = set()
    stack = list(reversed(outputs))
    while stack:
        var = stack.pop()
        if var in seen:
            continue
        seen.add(var)
        if id(var) in constants or var.owner is None:
            continue
        node = var.owner
        pattern, _ = patterns(node)
        out_idx = var.index if var.index is not None else node.outputs.index(var)
        for i in reversed(range(len(node.inputs))):
            if not pattern[i][out_idx]:
                continue
            inp = node.inputs[i]
            positions = clients.setdefault(inp, {}).setdefault(node, [])
            if i not in positions:
                positions.insert(0, i)
            stack.append(inp)
    reached: set[Variable] = set()
    stack = list(wrt)
    while stack:
        var = stack.pop()
        if var in reached or var not in clients:
            continue
        reached.add(var)
        for node, positions in clients[var].items():
            pattern, _ = patterns(node)
            for i in positions:
                stack.extend(o for j, o in enumerate(node.outputs) if pattern[i][j])
    return {v: c for v, c in clients.items() if v in reached}


def backpropagate(var_clients, grad_dict, wrt, cost_name, patterns) -> list[Variable]:
    """Fill ``grad_dict`` for ``wrt`` by a reverse sweep over the nodes they reach."""
    # The nodes whose terms are needed: everything downstream of wrt inside var_clients,
    # stopping at variables whose gradient is preset (the cost and known_grads).
    needed: dict[Apply, None] = {}
    seen: set[Variable] = set()
    stack = list(reversed(wrt))
    while stack:
        var = stack.pop()
        if var in seen or var in grad_dict or var not in var_clients:
            continue
        seen.add(var)
        for node in var_clients[var]:
            if node not in needed:
                needed[node] = None
                stack.extend(reversed(node.outputs))

    def deps(node):
        return [i.owner for i in node.inputs if i.owner is not None and i.owner in needed]

    order = general_toposort(list(needed), deps)
    terms_of: dict[Apply, list[Variable]] = {}
    preset_values = {id(g) for g in grad_dict.values()}

    def total(var: Variable) -> Variable:
        if var in grad_dict:
            return grad_dict[var]
        if var not in var_clients:
            grad_dict[var] = disconnected_type()
            return grad_dict[var]
        null_terms, terms = [], []
        for node, positions in var_clients[var].items():
            for idx in positions:
                term = terms_of[node][idx]
                if isinstance(term.type, NullType):
                    null_terms.append(term)
                elif not isinstance(term.type, DisconnectedType):
                    vnd, tnd = getattr(var.type, "ndim", None), getattr(term.type, "ndim", None)
                    if vnd is not None and tnd is not None and vnd != tnd:
                        raise ValueError(
                            f"{node.op}.grad returned a term with {tnd} dimensions for input "
                            f"{idx} ({var}), which has {vnd}"
                        )
                    terms.append(term)
        if null_terms:
            g = null_terms[0]
        elif terms:
            g = functools.reduce(operator.add, terms)
        else:
            g = disconnected_type()
        if cost_name is not None and var.name is not None and g.owner is not None \
                and id(g) not in preset_values:
            g.name = f"(d{cost_name}/d{var.name})"
        grad_dict[var] = g
        return g

    for node in reversed(order):
        output_grads = [total(o) for o in node.outputs]
        terms_of[node] = _node_input_grads(node, output_grads, patterns)
    return [total(w) for w in wrt]


def _node_input_grads(node: Apply, output_grads: list[Variable], patterns: Patterns):
    """The gradient terms ``node`` sends to its inputs, checked against the Op contract."""
    op = node.op
    pattern, op_has_pattern = patterns(node)
    out_connected = [not isinstance(g.type, DisconnectedType) for g in output_grads]
    out_null = [isinstance(g.type, NullType) for g in output_grads]
    out_int = [is_discrete(dtype_of(o)) for o in node.outputs]
    in_connected = [any(p and c for p, c in zip(row, out_connected)) for row in pattern]
    only_null = [not any(p and c and not z for p, c, z in zip(row, out_connected, out_null))
                 for row in pattern]
    only_int = [not any(p and c and not z for p, c, z in zip(row, out_connected, out_int))
                for row in pattern]

    def first_null(row):
        return next(g for p, g, z in zip(row, output_grads, out_null) if p and z)

    if not any(in_connected):
        return [disconnected_type() for _ in node.inputs]
    if all(only_null):
        return [first_null(row) if c else disconnected_type()
                for row, c in zip(pattern, in_connected)]

    # An op that destroys an input gets a copy of it: its gradient may need the old value.
    destroyed = {i for ins in getattr(op, "destroy_map", {}).values() for i in ins}
    inputs = [x.copy() if i in destroyed and hasattr(x, "copy") else x
              for i, x in enumerate(node.inputs)]
    new_output_grads = []
    for o, g in zip(node.outputs, output_grads):
        odt, gdt = dtype_of(o), dtype_of(g)
        if odt is not None and gdt is not None and not is_discrete(odt) and odt != gdt:
            g = g.astype(odt)
        if not isinstance(g.type, DisconnectedType):
            _check_same_shape(o, g, f"grad: output {o.index} of {op}")
        new_output_grads.append(g)

    try:
        input_grads = op.L_op(inputs, node.outputs, new_output_grads)
    except MethodNotDefined as exc:
        raise MethodNotDefined(
            f"grad: {op} does not implement grad/L_op, and the cost depends on the node "
            f"{node} through it. Implement the op's grad, or mark the path with "
            f"disconnected_grad()/zero_grad() if no gradient should flow. ({exc})"
        ) from exc
    if input_grads is None:
        raise TypeError(f"{op}.grad returned None, expected a list with one gradient per input")
    input_grads = list(input_grads)
    if len(input_grads) != len(node.inputs):
        raise ValueError(
            f"{op}.grad returned {len(input_grads)} gradient terms for {len(node.inputs)} inputs"
        )

    for i, row in enumerate(pattern):
        term = input_grads[i]
        if term is None:
            raise TypeError(
                f"{op}.grad returned None for input {i}; return zeros_like(input), "
                "disconnected_type(), or grad_undefined/grad_not_implemented instead"
            )
        if not isinstance(term, Variable):
            raise TypeError(f"{op}.grad returned {type(term).__name__} for input {i}, expected "
                            "a Variable")
        if not isinstance(term.type, DisconnectedType) and any(
                p and z for p, z in zip(row, out_null)):
            input_grads[i] = term = first_null(row)
        if isinstance(term.type, NullType | DisconnectedType):
            pass
        elif is_discrete(dtype_of(term)):
            raise TypeError(f"{op}.grad illegally returned an integer-valued variable for input "
                            f"{i} (dtype {dtype_of(term)}); gradients are always float")
        elif only_int[i] and _is_zero(term) == "no":
            raise ValueError(
                f"{op}.grad returned a nonzero gradient for input {i}, which reaches the cost "
                "only through integer-valued outputs (its gradient must be zero)"
            )
        if not isinstance(term.type, NullType | DisconnectedType):
            _check_same_shape(inputs[i], term, f"{op}.grad, input {i}")
        actually = not isinstance(term.type, DisconnectedType)
        if actually and not in_connected[i]:
            raise TypeError(
                f"{op}.grad returned {term} of type {term.type} for input {i}, which its "
                "connection_pattern says is disconnected: return disconnected_type() for it"
            )
        if in_connected[i] and not actually:
            msg = f"{op}.grad returned DisconnectedType for input {i}, which is connected"
            if op_has_pattern:
                raise TypeError(msg + " according to its connection_pattern")
            warnings.warn(msg + "; the op may want a connection_pattern method", stacklevel=4)
    return input_grads



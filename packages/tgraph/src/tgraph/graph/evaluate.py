"""Evaluating a graph without a linker, and ``Variable.eval``.

tgraph cannot import the linking package (it sits above). The linking package registers its
compiler with :func:`register_compiler`; until one is registered, :func:`evaluate` (a plain
loop over ``perform``) serves. That loop is also the oracle tests compare linkers against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tgraph.graph.basic import Constant, Variable, graph_inputs, io_toposort

_compiler: Callable | None = None


def register_compiler(fn: Callable) -> None:
    """Install ``fn(inputs, outputs) -> callable`` as the compiler used by Variable.eval."""
    global _compiler
    _compiler = fn


def evaluate(outputs: Sequence[Variable], givens: dict) -> list:
    """Values of ``outputs`` given ``{variable: value}`` for the graph's free inputs."""
    storage: dict = {}
    for var, val in givens.items():
        storage[var] = var.type.filter(val, allow_downcast=True)
    for var in graph_inputs(outputs):
        if var in storage:
            continue
        if isinstance(var, Constant):
            storage[var] = var.data
        elif getattr(var, "container", None) is not None:
            storage[var] = var.get_value(borrow=True)
        else:
            raise ValueError(f"evaluate: no value given for input {var} ({var.type})")
    for node in io_toposort(list(storage), outputs):
        out = [[None] for _ in node.outputs]
        node.op.perform(node, [storage[i] for i in node.inputs], out)
        for var, cell in zip(node.outputs, out):
            storage[var] = cell[0]
    return [storage[o] for o in outputs]


def eval_variable(var: Variable, inputs_to_values: dict):
    """Implementation of ``Variable.eval`` (compiled once per set of inputs)."""
    if not hasattr(inputs_to_values, "keys"):
        raise TypeError("eval expects a dict mapping input Variables to values")
    keys = list(inputs_to_values.keys())
    if _compiler is None:
        return evaluate([var], inputs_to_values)[0]
    cache = var.__dict__.setdefault("_fn_cache", {})
    key = tuple(id(k) for k in keys)
    if key not in cache:
        cache[key] = _compiler(keys, var)
    return cache[key](*[inputs_to_values[k] for k in keys])

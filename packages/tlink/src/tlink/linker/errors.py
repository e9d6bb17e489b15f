"""Errors raised while a compiled function runs: say which node failed and on what.

A failure inside an Op's ``perform`` would otherwise show a NumPy traceback with no hint of
which part of the user's graph was running. :func:`raise_with_op` re-raises the same
exception type with the Apply node, its position in the run order, the inputs' types,
shapes, strides and (small) values, where the node's output was created, and, with
``exception_verbosity='high'``, the graph that leads to the node.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import numpy as np

from tgraph import config
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.utils import get_variable_trace_string

__all__ = ["describe_node_inputs", "exception_with_message", "graph_around", "raise_with_op"]

_SMALL = 5  # inputs with at most this many elements have their values printed


def _short_value(value: Any) -> str:
    size = getattr(value, "size", None)
    if value is None:
        return "None"
    if size is not None and size > _SMALL:
        return "not shown"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def describe_node_inputs(node: Apply, input_values: Sequence[Any] | None) -> str:
    """Lines giving the inputs' types, and with values at hand their shapes, strides, values."""
    types = [str(getattr(v, "type", "no type")) for v in node.inputs]
    lines = [f"Inputs types: [{', '.join(types)}]"]
    if input_values is None:
        return "\n".join(lines)
    shapes = [getattr(v, "shape", "no shape") for v in input_values]
    strides = [getattr(v, "strides", "no strides") for v in input_values]
    values = [_short_value(v) for v in input_values]
    lines.append(f"Inputs shapes: {shapes}")
    lines.append(f"Inputs strides: {strides}")
    lines.append(f"Inputs values: [{', '.join(values)}]")
    return "\n".join(lines)


def graph_around(node: Apply, depth: int = 4) -> str:
    """The node and what feeds it, ``depth`` levels up, one Variable per line.

    Each line shows the Op (or the input/constant), the variable's type and a short id; a
    variable seen before is printed once and then referred to by its id. Named variables end
    a branch, like Theano 1.0's debugprint with ``stop_on_name=True``.
    """
    ids: dict[int, str] = {}
    lines: list[str] = []

    def label(var: Variable) -> str:
        key = id(var)
        if key not in ids:
            ids[key] = f"v{len(ids)}"
        return ids[key]

    def visit(var: Variable, level: int, root: bool) -> None:
        indent = " |" * level
        seen = id(var) in ids
        tag = label(var)
        name = f" '{var.name}'" if var.name else ""
        if var.owner is None:
            kind = f"constant {var}" if isinstance(var, Constant) else f"input{name}"
            lines.append(f"{indent}{kind} [{tag}] <{var.type}>")
            return
        op = var.owner.op
        out = f".{var.index}" if len(var.owner.outputs) > 1 else ""
        lines.append(f"{indent}{op}{out}{name} [{tag}] <{var.type}>")
        if seen or level >= depth or (var.name and not root):
            return
        for inp in var.owner.inputs:
            visit(inp, level + 1, False)

    for out in node.outputs:
        visit(out, 0, True)
    return "\n".join(lines)


def _trace_of(node: Apply) -> str:
    for out in node.outputs:
        text = get_variable_trace_string(out)
        if text:
            return text
    return ""


def raise_with_op(node: Apply, thunk: Any = None, exc_info: tuple | None = None,
                  storage_map: dict | None = None, position: int | None = None,
                  fgraph: Any = None) -> NoReturn:
    """Re-raise the exception being handled, its message extended with the failing node.

    The exception keeps its type (so ``except ValueError`` still works) and its traceback.
    When the type cannot be rebuilt from one message argument, the details are attached as a
    note (Python 3.11+) instead. The exception also gets the attributes Theano 1.0 set:
    ``__op_instance__`` (the node), ``__applynode_index__`` and ``__thunk_trace__``.
    """
    if exc_info is None:
        exc_info = sys.exc_info()
    exc_type, exc_value, exc_tb = exc_info
    if exc_value is None:  # pragma: no cover - misuse
        raise RuntimeError("raise_with_op called outside an except block")
    if issubclass(exc_type, KeyboardInterrupt):
        raise exc_value.with_traceback(exc_tb)
    trace = getattr(node.outputs[0].tag, "trace", ()) if node.outputs else ()
    values = None
    if thunk is not None and getattr(thunk, "inputs", None) is not None:
        values = [cell[0] for cell in thunk.inputs]
    elif storage_map is not None:
        values = [storage_map[v][0] if v in storage_map else None for v in node.inputs]
    detail = [f"Apply node that caused the error: {node}"]
    if position is not None:
        detail.append(f"Toposort index: {position}")
    detail.append(describe_node_inputs(node, values))
    if fgraph is not None:
        clients = [[str(c[0]) for c in fgraph.clients.get(out, [])] for out in node.outputs]
        detail.append(f"Outputs clients: {clients}")
    hints = []
    trace_text = _trace_of(node)
    if trace_text:
        detail.append(
            trace_text.rstrip("\n").replace(
                "Backtrace when that variable is created:",
                "Where the node's output was created (the flag traceback.limit=N keeps more "
                "frames, -1 all of them):",
            )
        )
    else:
        hints.append(
            "HINT: no record of where this node was created: rewrites may have made it. "
            "Compiling with optimizer=None (or mode='FAST_COMPILE') keeps your nodes, and "
            "the flag traceback.limit controls how many frames are recorded."
        )
    if config.exception_verbosity == "high":
        detail.append("The graph that computes the node's outputs:\n" + graph_around(node))
        if storage_map is not None:
            detail.append(_storage_footprint(storage_map))
    else:
        hints.append(
            "HINT: the flag exception_verbosity=high also prints the graph around this node."
        )
    message = "\n".join(detail + hints)
    new_exc = exception_with_message(exc_value, message)
    new_exc.__op_instance__ = node
    new_exc.__applynode_index__ = position
    new_exc.__thunk_trace__ = trace
    if new_exc is exc_value:
        raise exc_value.with_traceback(exc_tb)
    raise new_exc.with_traceback(exc_tb) from None


def exception_with_message(exc_value: BaseException, message: str) -> BaseException:
    """An exception of the same type whose message ends with ``message``.

    When the type cannot be built from one string (its constructor wants other arguments),
    ``message`` becomes a note of the original exception (Python 3.11+), which is returned.
    """
    exc_type = type(exc_value)
    text = str(exc_value)
    full = f"{text}\n{message}" if text else message
    try:
        new_exc = exc_type(full)
        if str(new_exc) != full:
            raise TypeError("message not kept")
    except Exception:
        add_note = getattr(exc_value, "add_note", None)
        if add_note is not None:
            add_note(message)
        return exc_value
    new_exc.__dict__.update(getattr(exc_value, "__dict__", {}))
    return new_exc


def _storage_footprint(storage_map: dict) -> str:
    rows = []
    total = 0
    for var, cell in storage_map.items():
        value = cell[0]
        if isinstance(value, np.ndarray):
            rows.append((value.nbytes, f" - {var}, shape {value.shape}, {value.nbytes} bytes"))
            total += value.nbytes
    rows.sort(key=lambda r: -r[0])
    body = "\n".join(r[1] for r in rows[:20])
    return f"Storage map footprint ({total} bytes in arrays):\n{body}"

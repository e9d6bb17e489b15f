"""DebugMode's exceptions (Theano 1.0's names) and the text they show.

Every error is a :class:`DebugModeError`. Each one keeps the objects it is about as
attributes (Theano 1.0's names: ``r``, ``val1``, ``node``, ``old_r``, ...) and says in its
message which node ran, what its inputs were (type, shape, strides), what differed and by
how much, so a user can reproduce the failure without a debugger.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "BadDestroyMap",
    "BadOptimization",
    "BadThunkOutput",
    "BadViewMap",
    "DebugModeError",
    "InvalidValueError",
    "StochasticOrder",
    "describe_node",
    "describe_value",
    "largest_difference",
]


def describe_value(value: Any) -> str:
    """``float64 array, shape (2, 3), strides (24, 8)``, or a short repr for other values."""
    if isinstance(value, np.ndarray):
        return (f"{value.dtype} array, shape {value.shape}, strides {value.strides}"
                f"{'' if value.flags.writeable else ', read-only'}")
    if isinstance(value, np.generic):
        return f"{value.dtype} scalar {value!r}"
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def describe_node(node: Any, input_values: Sequence[Any] | None = None) -> str:
    """The node, then one line per input: its variable, Type and (when given) its value."""
    lines = [f"node: {node}"]
    for i, var in enumerate(node.inputs):
        line = f"  input {i}: {var} ({var.type})"
        if input_values is not None and i < len(input_values):
            line += f": {describe_value(input_values[i])}"
        lines.append(line)
    return "\n".join(lines)


def largest_difference(a: Any, b: Any) -> str:
    """Where and by how much two values differ most (shape, dtype or the worst element)."""
    if not isinstance(a, np.ndarray | np.generic) or not isinstance(b, np.ndarray | np.generic):
        return f"values {_short(a)} and {_short(b)}"
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return f"shapes differ: {a.shape} vs {b.shape}"
    if a.dtype != b.dtype:
        text = f"dtypes differ: {a.dtype} vs {b.dtype}"
        if a.dtype.kind not in "fciub" or b.dtype.kind not in "fciub":
            return text
        prefix = text + "; "
    else:
        prefix = ""
    if a.size == 0:
        return prefix + "both are empty"
    if a.dtype.kind not in "fciub" or b.dtype.kind not in "fciub":
        bad = np.argwhere(a != b)
        return prefix + (f"{len(bad)} elements differ, first at {tuple(bad[0])}" if len(bad)
                         else "no element differs")
    fa, fb = a.astype(np.complex128 if "c" in (a.dtype.kind + b.dtype.kind) else np.float64), \
        b.astype(np.complex128 if "c" in (a.dtype.kind + b.dtype.kind) else np.float64)
    nan_a, nan_b = np.isnan(fa), np.isnan(fb)
    nan_mismatch = nan_a != nan_b
    if nan_mismatch.any():
        pos = tuple(int(p) for p in np.argwhere(nan_mismatch)[0])
        return (prefix + f"{int(nan_mismatch.sum())} element(s) NaN in only one value, first "
                f"at {pos}: {fa[pos]} vs {fb[pos]}")
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(fa - fb)
        diff[nan_a & nan_b] = 0
        diff[np.isnan(diff)] = 0  # inf - inf of the same sign
        inf_mismatch = np.isinf(fa) | np.isinf(fb)
        diff[inf_mismatch & (fa == fb)] = 0
    pos = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.ndim else ()
    pos = tuple(int(p) for p in pos)
    worst = diff[pos]
    scale = max(abs(fa[pos]), abs(fb[pos]))
    rel = worst / scale if scale else 0.0
    n_bad = int((diff > 0).sum())
    return (prefix + f"largest absolute difference {float(np.real(worst)):.6g} at index "
            f"{pos} ({fa[pos]} vs {fb[pos]}, relative {float(np.real(rel)):.3g}); "
            f"{n_bad} of {a.size} elements differ")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class DebugModeError(Exception):
    """Base of every error DebugMode raises (Theano 1.0's ``DebugModeError``)."""


class BadThunkOutput(DebugModeError):
    """Two implementations of one node (C and Python, or one layout and another) disagree.

    ``r`` is the output variable, ``thunk1``/``val1`` and ``thunk2``/``val2`` the two
    implementations and their results, ``inputs_val`` the inputs both were given.
    """

    def __init__(self, r: Any, thunk1: str, val1: Any, thunk2: str, val2: Any,
                 inputs_val: Sequence[Any] = (), reason: str = ""):
        self.r, self.thunk1, self.val1, self.thunk2, self.val2 = r, thunk1, val1, thunk2, val2
        self.inputs_val = list(inputs_val)
        self.reason = reason
        super().__init__(self.str_diagnostic())

    def offending_op(self) -> Any:
        """The Op of the node whose implementations disagree."""
        return self.r.owner.op

    def str_diagnostic(self) -> str:
        node = self.r.owner
        out = node.outputs.index(self.r)
        head = (f"BadThunkOutput: output {out} ({self.r}, {self.r.type}) of {node.op} differs "
                f"between {self.thunk1} and {self.thunk2}")
        if self.reason:
            head += f" ({self.reason})"
        return "\n".join([
            head,
            describe_node(node, self.inputs_val),
            f"  {self.thunk1}: {describe_value(self.val1)}",
            f"  {self.thunk2}: {describe_value(self.val2)}",
            f"  {largest_difference(self.val1, self.val2)}",
        ])


class BadOptimization(DebugModeError):
    """A rewrite replaced a variable by one that computes another value.

    ``old_r``/``new_r`` are the variables, ``old_r_val``/``new_r_val`` their values in this
    call, ``reason`` the rewrite, ``old_graph``/``new_graph`` the two graphs as text.
    """

    def __init__(self, old_r: Any, new_r: Any, old_r_val: Any, new_r_val: Any, reason: Any,
                 old_graph: str = "", new_graph: str = ""):
        self.old_r, self.new_r = old_r, new_r
        self.old_r_val, self.new_r_val = old_r_val, new_r_val
        self.reason = reason
        self.old_graph, self.new_graph = old_graph, new_graph
        super().__init__(self.str_diagnostic())

    def str_diagnostic(self) -> str:
        return "\n".join([
            f"BadOptimization: the rewrite {self.reason} replaced {self.old_r} "
            f"({self.old_r.type}) by {self.new_r}, which computes another value",
            f"  old value: {describe_value(self.old_r_val)}",
            f"  new value: {describe_value(self.new_r_val)}",
            f"  {largest_difference(self.old_r_val, self.new_r_val)}",
            "old graph:",
            _indent(self.old_graph),
            "new graph:",
            _indent(self.new_graph),
        ])


class BadDestroyMap(DebugModeError):
    """A node changed an input that its Op's ``destroy_map`` does not name.

    ``node``, ``idx`` (the input), ``old_val``/``new_val`` (before and after), ``perform``
    (which implementation: 'py' or 'c').
    """

    def __init__(self, node: Any, idx: int, old_val: Any, new_val: Any, perform: str,
                 inputs_val: Sequence[Any] = ()):
        self.node, self.idx, self.old_val, self.new_val = node, idx, old_val, new_val
        self.perform = perform
        self.inputs_val = list(inputs_val)
        super().__init__("\n".join([
            f"BadDestroyMap: the {perform} implementation of {node.op} changed its input "
            f"{idx} ({node.inputs[idx]}), which its destroy_map "
            f"{getattr(node.op, 'destroy_map', {})} does not declare",
            describe_node(node, self.inputs_val or None),
            f"  {largest_difference(old_val, new_val)}",
        ]))


class BadViewMap(DebugModeError):
    """A node returned an output sharing memory with an input (or another output) that its
    Op's ``view_map`` (or ``destroy_map``) does not declare."""

    def __init__(self, node: Any, output_idx: int, out_storage: Any,
                 in_alias_idx: int | None = None, out_alias_idx: int | None = None,
                 perform: str = "", inputs_val: Sequence[Any] = ()):
        self.node, self.output_idx, self.out_storage = node, output_idx, out_storage
        self.in_alias_idx, self.out_alias_idx = in_alias_idx, out_alias_idx
        self.perform = perform
        what = (f"input {in_alias_idx} ({node.inputs[in_alias_idx]})"
                if in_alias_idx is not None else f"output {out_alias_idx}")
        super().__init__("\n".join([
            f"BadViewMap: output {output_idx} of the {perform} implementation of {node.op} "
            f"shares memory with {what}, which its view_map "
            f"{getattr(node.op, 'view_map', {})} and destroy_map "
            f"{getattr(node.op, 'destroy_map', {})} do not declare",
            describe_node(node, list(inputs_val) or None),
            f"  output {output_idx}: {describe_value(out_storage)}",
        ]))


class InvalidValueError(DebugModeError):
    """A value does not fit its variable's Type (dtype, ndim, broadcastable) or, with
    ``check_isfinite``, holds NaN or Inf."""

    def __init__(self, r: Any, v: Any, client_node: Any = None, hint: str = "none",
                 specific_hint: str = "none"):
        self.r, self.v, self.client_node = r, v, client_node
        self.hint, self.specific_hint = hint, specific_hint
        node = r.owner
        where = (f"output {node.outputs.index(r)} of {node.op}" if node is not None
                 else "a graph input")
        lines = [f"InvalidValueError: {r} ({where}) has a value that is not valid for its "
                 f"type {r.type}: {hint}",
                 f"  value: {describe_value(v)}"]
        if specific_hint and specific_hint != "none":
            lines.append(f"  {specific_hint}")
        if node is not None:
            lines.append(describe_node(node))
        if client_node is not None:
            lines.append(f"  used by: {client_node}")
        super().__init__("\n".join(lines))


class StochasticOrder(DebugModeError):
    """Rewriting or scheduling the same graph twice gave different results or orders."""


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in (text or "(none)").splitlines())

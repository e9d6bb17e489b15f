"""The memory profile: sizes of the values each node computes, and peak memory estimates.

With ``profile_memory``, a VM callback records, after each node runs, the shape, strides
and byte size of each of its outputs (the last call's values are kept, as Theano 1.0 did).
From those sizes and the run order, :func:`peak_memory` replays a call: a node's output
takes new memory unless it is a view of an input (``view_map``) or overwrites one in place
(``destroy_map``); memory is released when the last variable aliasing it is dead (its last
reader ran and it is not a function output). The function's inputs and constants are not
counted: they exist before and after the call. Three figures, as in Theano 1.0's table:
with the function's gc setting, as if in-place rewrites were off (every destroyed output
is new memory), and without gc (every intermediate alive at the end).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO, Any

from tgraph import config
from tgraph.graph.basic import Apply, Variable

__all__ = ["make_recorder", "node_allocations", "peak_memory", "summary_memory"]


def make_recorder(profile: Any, previous: Callable | None = None) -> Callable:
    """A VM callback storing each output's shape/strides/bytes in ``profile`` (chained)."""
    shapes, strides = profile.variable_shape, profile.variable_strides
    nbytes = profile.variable_nbytes

    def record(node=None, thunk=None, storage_map=None, compute_map=None):
        for var in node.outputs:
            value = storage_map[var][0]
            shapes[var] = getattr(value, "shape", "input no shape")
            strides[var] = getattr(value, "strides", "input no strides")
            nbytes[var] = int(getattr(value, "nbytes", 0) or 0)
        if previous is not None:
            previous(node=node, thunk=thunk, storage_map=storage_map, compute_map=compute_map)

    return record


def _alias_source(node: Apply, j: int, inplace_is_new: bool) -> int | None:
    """The input position output ``j`` of ``node`` shares memory with, or None."""
    views = getattr(node.op, "view_map", None) or {}
    if j in views:
        return views[j][0]
    if not inplace_is_new:
        destroys = getattr(node.op, "destroy_map", None) or {}
        if j in destroys:
            return destroys[j][0]
    return None


def node_allocations(node: Apply, nbytes: dict) -> tuple[int, str]:
    """(bytes newly allocated by ``node``'s outputs, kinds: c created, i inplace, v view)."""
    views = getattr(node.op, "view_map", None) or {}
    destroys = getattr(node.op, "destroy_map", None) or {}
    total, kinds = 0, []
    for j, out in enumerate(node.outputs):
        if j in views:
            kinds.append("v")
        elif j in destroys:
            kinds.append("i")
        else:
            kinds.append("c")
            total += nbytes.get(out, 0)
    return total, "".join(kinds)


def peak_memory(order: Sequence[Apply], outputs: Sequence[Variable], nbytes: dict,
                allow_gc: bool = True, inplace_is_new: bool = False) -> int:
    """Peak bytes held by the values the nodes compute, replaying ``order`` (module doc)."""
    if not allow_gc:
        return sum(nbytes.get(out, 0) for node in order
                   for j, out in enumerate(node.outputs)
                   if _alias_source(node, j, inplace_is_new) is None)
    last_use: dict = {}
    for k, node in enumerate(order):
        for var in node.inputs:
            last_use[var] = k
    keep = set(outputs)
    root: dict = {}      # computed variable -> the variable owning its memory
    alive: dict = {}     # owner -> number of live variables using its memory
    running = peak = 0
    for k, node in enumerate(order):
        for j, out in enumerate(node.outputs):
            src = _alias_source(node, j, inplace_is_new)
            owner = out if src is None else root.get(node.inputs[src])
            root[out] = owner  # None: memory of a function input or constant
            if owner is None:
                continue
            if owner is out:
                running += nbytes.get(out, 0)
            alive[owner] = alive.get(owner, 0) + 1
        peak = max(peak, running)
        dying = [v for v in node.inputs if last_use.get(v) == k]
        dying += [v for v in node.outputs if v not in last_use]
        for var in dict.fromkeys(dying):
            owner = root.get(var)
            if owner is None or var in keep:
                continue
            alive[owner] -= 1
            if alive[owner] == 0:
                running -= nbytes.get(owner, 0)
    return peak


def _kb(n: int) -> str:
    return f"{round(n / 1024.0)}KB"


def summary_memory(profile: Any, file: IO[str], n_apply_to_print: int) -> None:
    """Print Theano 1.0's "Memory Profile" section for every program of ``profile``."""
    nbytes = profile.variable_nbytes
    print("\nMemory Profile\n(Sparse variables are ignored)\n---", file=file)
    if not nbytes:
        print("    No memory recorded (the profile_memory flag was off, or no call ran).",
              file=file)
        return
    current = inplace_off = no_gc = 0
    for program in profile.programs:
        order, outputs = program.order, program.fgraph.outputs
        current = max(current, peak_memory(order, outputs, nbytes, program.allow_gc))
        inplace_off = max(inplace_off, peak_memory(order, outputs, nbytes, program.allow_gc,
                                                   inplace_is_new=True))
        no_gc = max(no_gc, peak_memory(order, outputs, nbytes, allow_gc=False))
    for title, value in (
            ("Max peak memory with current setting", current),
            ("Max peak memory with current setting and Theano flag "
             "optimizer_excluding=inplace", inplace_off),
            ("Max peak memory if allow_gc=False (linker don't make a difference)", no_gc)):
        print(f"    {title}\n        CPU: {_kb(value)}\n        GPU: 0KB\n"
              f"        CPU + GPU: {_kb(value)}", file=file)
    print("---\n\n    This list is based on all functions in the profile", file=file)
    print("    <Sum apply outputs (bytes)> <Apply outputs shape> <created/inplace/view> "
          "<Apply node>\n", file=file)
    rows = []
    for program in profile.programs:
        for node in program.order:
            created, kinds = node_allocations(node, nbytes)
            total = sum(nbytes.get(out, 0) for out in node.outputs)
            shapes = [profile.variable_shape.get(out, "?") for out in node.outputs]
            rows.append((total, created, shapes, kinds, str(node)))
    rows.sort(key=lambda r: (-r[0], r[4]))
    min_size = config.profiling__min_memory_size
    width = config.profiling__output_line_width
    shown = [r for r in rows if r[0] >= min_size][:n_apply_to_print]
    for total, _created, shapes, kinds, name in shown:
        line = f"     {total:>9d}B  {shapes} {kinds} {name}"
        print(line[:width], file=file)
    rest = [r for r in rows if r not in shown]
    if rest:
        print(f"   ... (remaining {len(rest)} Apply nodes account for "
              f"{sum(r[0] for r in rest)}B/{sum(r[0] for r in rows)}B of the outputs; "
              f"nodes under {min_size}B are not listed: profiling.min_memory_size)", file=file)

"""Theano 1.0's text tables of a profile: the function totals, then Class, Ops and Apply.

Each table is sorted by time, with the share of the total, the running share, the time,
the time per call, whether the node ran C code or Python (``<type>``: C or Py), the call
count, how many Apply nodes it covers and the name; rows past the limit are summed in one
"... remaining" line.
"""

from __future__ import annotations

import time
from typing import IO, Any

from tgraph import config

__all__ = ["summary_class", "summary_function", "summary_nodes", "summary_ops"]

_IMPORT_TIME = time.perf_counter()


def _type_of(profile: Any, nodes) -> str:
    impls = {profile.apply_cimpl.get(node) for node in nodes}
    if impls == {True}:
        return "C "
    if impls == {False}:
        return "Py"
    return "Mx" if len(impls - {None}) > 1 else "  "


def summary_function(profile: Any, file: IO[str]) -> None:
    """The header: calls, time in the VM and in thunks, compile/optimizer/linker times."""
    total_apply = sum(profile.apply_time.values())
    call = profile.fct_call_time
    print(f"Function profiling\n==================\n  Message: {profile.message}", file=file)
    print(f"  Time in {profile.fct_callcount} calls to Function.__call__: {call:.6e}s",
          file=file)
    if call > 0:
        print(f"  Time in Function.fn.__call__: {profile.vm_call_time:.6e}s "
              f"({100.0 * profile.vm_call_time / call:.3f}%)", file=file)
        print(f"  Time in thunks: {total_apply:.6e}s ({100.0 * total_apply / call:.3f}%)",
              file=file)
    else:
        print(f"  Time in thunks: {total_apply:.6e}s", file=file)
    print(f"  Total compile time: {profile.compile_time:.6e}s", file=file)
    print(f"    Number of Apply nodes: {profile.nb_nodes}", file=file)
    print(f"    Theano Optimizer time: {profile.optimizer_time:.6e}s", file=file)
    print(f"    Theano Linker time (includes C code compilation): "
          f"{profile.linker_time:.6e}s", file=file)
    print(f"       Import time {profile.import_time:.6e}s", file=file)
    print(f"  Time since theano import {time.perf_counter() - _IMPORT_TIME:.3f}s", file=file)


def _table(title: str, header: str, rows: list[tuple], limit: int, what: str,
           file: IO[str]) -> None:
    """rows: (time, calls, n_apply or None, type or None, name); sorted here by time."""
    width = config.profiling__output_line_width
    rows = sorted(rows, key=lambda r: (-r[0], r[4]))
    total = sum(r[0] for r in rows)
    scale = 100.0 / total if total > 0 else 0.0
    print(f"\n{title}\n{'-' * max(3, len(title))}", file=file)
    print(header, file=file)
    running = 0.0
    for t, calls, n_apply, kind, name in rows[:limit]:
        running += t
        per_call = t / calls if calls else 0.0
        cells = [f"  {t * scale:5.1f}%", f"  {running * scale:5.1f}%", f"  {t:10.3f}s",
                 f"  {per_call:12.2e}s"]
        if kind is not None:
            cells.append(f"   {kind} ")
        cells.append(f" {calls:7d}")
        if n_apply is not None:
            cells.append(f" {n_apply:7d}")
        line = "".join(cells) + f"   {name}"
        print(line[:width], file=file)
    if len(rows) > limit:
        rest = sum(r[0] for r in rows[limit:])
        print(f"   ... (remaining {len(rows) - limit} {what} account for "
              f"{rest * scale:5.2f}%({rest:.2f}s) of the runtime)", file=file)
    print("", file=file)


def summary_class(profile: Any, file: IO[str], n_classes_to_print: int) -> None:
    """Time per Op class (by module and name)."""
    nodes_by_class: dict = {}
    for node in profile.apply_time:
        nodes_by_class.setdefault(type(node.op), []).append(node)
    times, calls = profile.class_time(), profile.class_callcount()
    rows = [(times[cls], calls.get(cls, 0), len(nodes), _type_of(profile, nodes),
             f"{cls.__module__}.{cls.__qualname__}") for cls, nodes in nodes_by_class.items()]
    _table("Class", "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> "
           "<Class name>", rows, n_classes_to_print, "Classes", file)


def summary_ops(profile: Any, file: IO[str], n_ops_to_print: int) -> None:
    """Time per Op (instances equal by their props are one row)."""
    nodes_by_op: dict = {}
    for node in profile.apply_time:
        nodes_by_op.setdefault(node.op, []).append(node)
    times, calls = profile.op_time(), profile.op_callcount()
    rows = [(times[op], calls.get(op, 0), len(nodes), _type_of(profile, nodes), str(op))
            for op, nodes in nodes_by_op.items()]
    _table("Ops", "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> "
           "<Op name>", rows, n_ops_to_print, "Ops", file)


def summary_nodes(profile: Any, file: IO[str], n_apply_to_print: int) -> None:
    """Time per Apply node, with its position in its function's run order."""
    position = {}
    for program in profile.programs:
        for k, node in enumerate(program.order):
            position.setdefault(node, k)
    rows = [(t, profile.apply_callcount.get(node, 0), position.get(node, -1), None, str(node))
            for node, t in profile.apply_time.items()]
    _table("Apply", "<% time> <sum %> <apply time> <time per call> <#call> <id> "
           "<Apply name>", rows, n_apply_to_print, "Apply instances", file)

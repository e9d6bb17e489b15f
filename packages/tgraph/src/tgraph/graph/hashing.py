"""A stable structural hash of a graph: same graph, same key, in any process.

Keys must not depend on ids, hash seeds or set order, so they are built from the
deterministic toposort, each Op's type and ``__props__`` (rendered with :func:`stable_repr`),
each variable's Type, the positions of inputs, and constants' data bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from tgraph.graph.basic import Constant, Variable, graph_inputs, io_toposort


def stable_repr(obj) -> str:
    """A text rendering that is the same across processes for equal values."""
    try:
        import numpy as np

        if isinstance(obj, np.ndarray | np.generic):
            arr = np.asarray(obj)
            digest = hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()
            return f"ndarray({arr.dtype.str},{arr.shape},{digest})"
        if isinstance(obj, np.dtype):
            return f"dtype({obj.str})"
    except ImportError:  # pragma: no cover
        pass
    if isinstance(obj, list | tuple):
        inner = ",".join(stable_repr(x) for x in obj)
        return f"{type(obj).__name__}({inner})"
    if isinstance(obj, dict):
        items = sorted((stable_repr(k), stable_repr(v)) for k, v in obj.items())
        return "dict(" + ",".join(f"{k}:{v}" for k, v in items) + ")"
    if isinstance(obj, frozenset | set):
        return "set(" + ",".join(sorted(stable_repr(x) for x in obj)) + ")"
    if isinstance(obj, str | int | float | bool | complex | type(None) | bytes):
        return repr(obj)
    if isinstance(obj, type):
        return f"{obj.__module__}.{obj.__qualname__}"
    props = getattr(obj, "__props__", None)
    if props is not None:
        inner = ",".join(f"{p}={stable_repr(getattr(obj, p))}" for p in props)
        return f"{type(obj).__module__}.{type(obj).__qualname__}({inner})"
    if callable(obj) and hasattr(obj, "__qualname__"):
        return f"{getattr(obj, '__module__', '?')}.{obj.__qualname__}"
    return f"{type(obj).__module__}.{type(obj).__qualname__}:{obj}"


def graph_hash(inputs: Sequence[Variable], outputs: Sequence[Variable]) -> str:
    """sha256 hex digest of the graph's structure (not of input values)."""
    h = hashlib.sha256()
    index: dict[int, str] = {}
    for i, inp in enumerate(inputs):
        index[id(inp)] = f"i{i}"
        h.update(f"in {i} {stable_repr(inp.type)}\n".encode())
    for var in graph_inputs(outputs):
        if id(var) in index:
            continue
        if isinstance(var, Constant):
            index[id(var)] = f"c{len(index)}"
            h.update(f"const {stable_repr(var.type)} {stable_repr(var.data)}\n".encode())
        else:
            index[id(var)] = f"f{len(index)}"
            h.update(f"free {stable_repr(var.type)}\n".encode())
    for n, node in enumerate(io_toposort(inputs, outputs)):
        ins = ",".join(index[id(i)] for i in node.inputs)
        h.update(f"node {n} {stable_repr(node.op)} ({ins})\n".encode())
        for k, out in enumerate(node.outputs):
            index[id(out)] = f"n{n}.{k}"
            h.update(f"  out {k} {stable_repr(out.type)}\n".encode())
    h.update(("outs " + ",".join(index[id(o)] for o in outputs)).encode())
    return h.hexdigest()

"""Test values: computing outputs' ``tag.test_value`` while the graph is built.

Follows Theano 1.0's ``compute_test_value`` flag: 'off' does nothing; 'ignore' skips nodes
whose inputs lack a test value; 'warn' warns about them; 'raise' raises; 'pdb' opens the
debugger. A failing ``perform`` is reported at once, naming the Op and the inputs' shapes.
"""

from __future__ import annotations

import warnings

from tgraph._config import config
from tgraph.graph.basic import Constant
from tgraph.graph.utils import TestValueError


class _Missing:
    pass


def _shared_value(var):
    get = getattr(var, "get_value", None)
    if get is not None and getattr(var, "container", None) is not None:
        return get(borrow=True)
    return _Missing


def get_test_value(var):
    """The test value of ``var``: a constant's data, a shared variable's value, or its tag's."""
    if isinstance(var, Constant):
        return var.data
    v = _shared_value(var)
    if v is not _Missing:
        return v
    if hasattr(var.tag, "test_value"):
        return var.tag.test_value
    detail = f" (output of {var.owner.op})" if var.owner is not None else ""
    raise TestValueError(f"{var}{detail} has no test value")


def _describe(value) -> str:
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None:
        return f"shape {tuple(shape)} {dtype}"
    return type(value).__name__


def compute_test_values(node) -> None:
    """Fill the outputs' test values of a freshly built ``node`` according to the flag."""
    mode = config.compute_test_value
    if mode == "off":
        return
    values = []
    for i, inp in enumerate(node.inputs):
        try:
            values.append(get_test_value(inp))
        except TestValueError as exc:
            if mode == "ignore":
                return
            msg = f"cannot compute the test value of {node.op}: input {i} ({inp}): {exc}"
            if mode == "warn":
                warnings.warn(msg, stacklevel=3)
                return
            if mode == "pdb":  # pragma: no cover - interactive
                import pdb

                pdb.post_mortem(exc.__traceback__)
            raise TestValueError(msg) from None
    storage = [[None] for _ in node.outputs]
    try:
        node.op.perform(node, values, storage)
    except Exception as exc:
        shapes = ", ".join(_describe(v) for v in values)
        raise TestValueError(
            f"{node.op} failed on the test values of its inputs ({shapes}): {exc}"
        ) from exc
    for out, st in zip(node.outputs, storage):
        if st[0] is not None:
            out.tag.test_value = st[0]

"""The linker interface, storage cells and node thunks shared by every linker.

A linker turns a FunctionGraph into something that runs. Its contract (Theano 1.0's):

* ``linker.accept(fgraph, no_recycling=None, profile=None)`` binds the graph (returning a
  fresh linker if this one is already bound to another graph);
* ``linker.make_all(input_storage=None, output_storage=None, storage_map=None)`` returns
  ``(fn, input_containers, output_containers, thunks, order)``, and ``make_thunk`` is the
  same call (the first three items are what Theano 1.0's ``make_thunk`` returned).

Values live in *storage cells*: one-element lists, one per Variable (the ``storage_map``).
Inputs' cells are those given (a shared variable's container's list, so ``set_value`` is
seen by the next call), constants' cells are filled once, and each node's *thunk* reads its
inputs' cells and writes its outputs' cells. A thunk is a callable with ``inputs``,
``outputs`` (the cells), ``lazy`` (False for ordinary Ops) and ``node`` attributes.
Thunk makers are looked up by implementation name, so a C backend registers
``register_thunk_maker('c', maker)`` and falls back to Python by raising MethodNotDefined.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tgraph import config
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.utils import MethodNotDefined
from tgraph.shared import Container
from tlink.linker.errors import exception_with_message

__all__ = [
    "Linker",
    "LocalLinker",
    "gc_helper",
    "make_node_thunk",
    "make_py_thunk",
    "map_storage",
    "register_batch_thunk_maker",
    "register_thunk_maker",
]

_UNDEF = object()


class Linker:
    """Base class of linkers: bind a FunctionGraph with ``accept``, build with ``make_all``."""

    allow_gc: bool | None = None

    def __init__(self, allow_gc: bool | None = None, schedule: Callable | None = None):
        self.fgraph = None
        self.no_recycling: list[Variable] = []
        self.profile = None
        self.allow_gc = allow_gc
        if schedule is not None:
            self.schedule = schedule

    def effective_allow_gc(self) -> bool:
        """``allow_gc`` as given, or the ``allow_gc`` flag read now when it was None."""
        return bool(config.allow_gc) if self.allow_gc is None else bool(self.allow_gc)

    def clone(self, allow_gc: Any = _UNDEF) -> Linker:
        """A copy not bound to any graph, optionally with another ``allow_gc``."""
        new = copy.copy(self)
        new.fgraph = None
        new.no_recycling = []
        if allow_gc is not _UNDEF:
            new.allow_gc = allow_gc
        return new

    def accept(self, fgraph, no_recycling: Iterable[Variable] | None = None,
               profile: Any = None) -> Linker:
        """Bind ``fgraph``; return self, or a clone when self already holds another graph.

        ``no_recycling`` lists variables whose cells are emptied before each run, so the
        values handed to the caller are never overwritten by a later call.
        """
        if self.fgraph is not None and self.fgraph is not fgraph:
            return self.clone().accept(fgraph, no_recycling, profile)
        self.fgraph = fgraph
        self.no_recycling = list(no_recycling or [])
        self.profile = profile
        return self

    def schedule(self, fgraph) -> list[Apply]:
        """The order nodes run in (a deterministic toposort)."""
        return fgraph.toposort()

    def make_all(self, input_storage=None, output_storage=None, storage_map=None):
        raise MethodNotDefined(f"{type(self).__name__}.make_all is not implemented")

    def make_thunk(self, input_storage=None, output_storage=None, storage_map=None):
        """``(fn, input_containers, output_containers, thunks, order)`` for the bound graph."""
        return self.make_all(input_storage=input_storage, output_storage=output_storage,
                             storage_map=storage_map)

    def make_function(self, unpack_single: bool = True, **kwargs):
        """A bare callable over the bound graph's inputs (no checks beyond filtering)."""
        fn, inputs, outputs = self.make_thunk(**kwargs)[:3]

        def execute(*args):
            if len(args) != len(inputs):
                raise TypeError(f"this function takes {len(inputs)} arguments, got {len(args)}")
            for arg, container in zip(args, inputs):
                container.data = arg
            fn()
            values = [c.data for c in outputs]
            return values[0] if unpack_single and len(values) == 1 else values

        execute.thunk = fn
        execute.inputs = inputs
        execute.outputs = outputs
        return execute

    def __getstate__(self):
        state = dict(self.__dict__)
        state["fgraph"] = None
        state["no_recycling"] = []
        state["profile"] = None
        return state


class LocalLinker(Linker):
    """A linker that runs one thunk per node of the graph."""

    def check_bound(self) -> None:
        if self.fgraph is None:
            raise ValueError(f"{type(self).__name__}: call accept(fgraph) before make_all")


def map_storage(fgraph, order: Sequence[Apply], input_storage=None, output_storage=None,
                storage_map: dict | None = None):
    """Give every variable of the program a storage cell; return ``(inputs, outputs, map)``.

    Given cells are used as they are (an input's cell may be a shared variable's container
    list); a cell already in ``storage_map`` for an input or output must be the one given.
    Constants' cells hold their data.
    """
    storage_map = {} if storage_map is None else storage_map
    if input_storage is None:
        input_storage = [[None] for _ in fgraph.inputs]
    elif len(input_storage) != len(fgraph.inputs):
        raise ValueError(
            f"map_storage: {len(input_storage)} input cells for {len(fgraph.inputs)} inputs"
        )
    for var, cell in zip(fgraph.inputs, input_storage):
        if var in storage_map and storage_map[var] is not cell:
            raise ValueError(f"map_storage: input {var} already has another storage cell")
        storage_map[var] = cell
    if output_storage is not None:
        if len(output_storage) != len(fgraph.outputs):
            raise ValueError(
                f"map_storage: {len(output_storage)} output cells for "
                f"{len(fgraph.outputs)} outputs"
            )
        for var, cell in zip(fgraph.outputs, output_storage):
            if var in storage_map and storage_map[var] is not cell:
                raise ValueError(f"map_storage: output {var} already has another storage cell")
            storage_map[var] = cell
    for node in order:
        for var in node.inputs:
            if var not in storage_map:
                if not isinstance(var, Constant):
                    raise ValueError(
                        f"map_storage: {var} (input of {node.op}) is neither a graph input, "
                        "a constant nor computed before"
                    )
                storage_map[var] = [var.data]
        for var in node.outputs:
            storage_map.setdefault(var, [None])
    for var in fgraph.outputs:
        if isinstance(var, Constant):
            storage_map.setdefault(var, [var.data])
    if output_storage is None:
        output_storage = [storage_map[var] for var in fgraph.outputs]
    return input_storage, output_storage, storage_map


def gc_helper(order: Sequence[Apply]) -> tuple[set, dict]:
    """``(computed, last_user)``: the variables the nodes compute, and each one's last reader."""
    last_user: dict = {}
    computed: set = set()
    for node in order:
        for var in node.inputs:
            last_user[var] = node
        computed.update(node.outputs)
    return computed, last_user


def post_thunk_clear_lists(fgraph, order: Sequence[Apply], storage_map: dict) -> list[list]:
    """For each node, the cells to empty right after it runs (the "free after last use" lists).

    A computed variable is freed after its last reader runs, or right after its own node
    when nothing reads it; graph outputs are never freed here (the caller reads them).
    """
    computed, last_user = gc_helper(order)
    outputs = set(fgraph.outputs)
    clear: list[list] = []
    for node in order:
        cells = []
        seen: set[int] = set()
        for var in node.inputs:
            if (var in computed and var not in outputs and last_user[var] is node
                    and id(var) not in seen):
                seen.add(id(var))
                cells.append(storage_map[var])
        for var in node.outputs:
            if var not in last_user and var not in outputs:
                cells.append(storage_map[var])
        clear.append(cells)
    return clear


def unique_cells(cells: Iterable[list]) -> list[list]:
    """The cells in order, each once (two variables may share a cell)."""
    seen: set[int] = set()
    out = []
    for cell in cells:
        if id(cell) not in seen:
            seen.add(id(cell))
            out.append(cell)
    return out


# ---------------------------------------------------------------------------------------------
# Thunks


def make_py_thunk(node: Apply, storage_map: dict, compute_map: dict | None = None,
                  no_recycling: Iterable | None = None):
    """A thunk running ``node.op.perform`` on the node's storage cells.

    ``perform`` gets the params (``op.get_params(node)``) when the Op defines them, and is
    called with three arguments otherwise, which also serves Ops written for Theano 1.0
    whose ``perform`` has no ``params`` argument.
    """
    op = node.op
    input_cells = [storage_map[v] for v in node.inputs]
    output_cells = [storage_map[v] for v in node.outputs]
    perform = op.perform
    try:
        params = node.run_params()
    except MethodNotDefined:
        params = None
    if params is None:
        def thunk():
            perform(node, [cell[0] for cell in input_cells], output_cells)
    else:
        def thunk():
            perform(node, [cell[0] for cell in input_cells], output_cells, params)

    thunk.inputs = input_cells
    thunk.outputs = output_cells
    thunk.lazy = False
    thunk.node = node
    thunk.perform = "py"
    return thunk


_thunk_makers: dict[str, Callable] = {"py": make_py_thunk}


def register_thunk_maker(impl: str, maker: Callable) -> None:
    """Register ``maker(node, storage_map, compute_map, no_recycling)`` for ``impl``.

    The maker returns a thunk or raises MethodNotDefined to let Python (``perform``) run the
    node. Names are unique: registering one twice is refused.
    """
    if impl in _thunk_makers:
        raise ValueError(f"a thunk maker for {impl!r} is already registered")
    _thunk_makers[impl] = maker


def prepare_node(node: Apply, storage_map: dict, compute_map: dict, impl: str | None) -> None:
    """Call the Op's ``prepare_node`` hook (Theano 1.0's), once, before making its thunk."""
    prepare = getattr(node.op, "prepare_node", None)
    if prepare is not None:
        prepare(node, storage_map, compute_map, impl or "py")


def make_node_thunk(node: Apply, storage_map: dict, compute_map: dict,
                    no_recycling: Iterable, impl: str | None = None, prepared: bool = False):
    """The thunk for ``node``: the Op's own ``make_thunk``, else the ``impl`` maker, else py.

    Ops that manage their own execution (inner functions, lazy Ops such as ifelse) define
    ``make_thunk(node, storage_map, compute_map, no_recycling, impl=None)`` as in Theano.
    ``prepared`` says the ``prepare_node`` hook already ran.
    """
    op = node.op
    if not prepared:
        prepare_node(node, storage_map, compute_map, impl)
    own = getattr(op, "make_thunk", None)
    if own is not None:
        if _takes_impl(own):
            thunk = own(node, storage_map, compute_map, no_recycling, impl=impl)
        else:  # Ops written before Theano added the ``impl`` argument
            thunk = own(node, storage_map, compute_map, no_recycling)
    else:
        thunk = None
        if impl is not None and impl != "py" and impl in _thunk_makers:
            try:
                thunk = _thunk_makers[impl](node, storage_map, compute_map, no_recycling)
            except MethodNotDefined:
                thunk = None
        if thunk is None:
            thunk = make_py_thunk(node, storage_map, compute_map, no_recycling)
    if not hasattr(thunk, "lazy"):
        thunk.lazy = False
    if not hasattr(thunk, "inputs"):
        thunk.inputs = [storage_map[v] for v in node.inputs]
        thunk.outputs = [storage_map[v] for v in node.outputs]
    return thunk


def _takes_impl(method: Callable) -> bool:
    try:
        params = inspect.signature(method).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return True
    return "impl" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


_batch_thunk_makers: dict[str, Callable] = {}


def register_batch_thunk_maker(impl: str, maker: Callable) -> None:
    """Register ``maker(order, storage_map, compute_map) -> list[thunk | None]`` for ``impl``.

    A batch maker sees every node of a program at once, so a C backend compiles all of them
    into one module; it returns None for the nodes it leaves to the per-node path (an Op's
    own ``make_thunk``, the ``impl`` maker, then Python).
    """
    if impl in _batch_thunk_makers:
        raise ValueError(f"a batch thunk maker for {impl!r} is already registered")
    _batch_thunk_makers[impl] = maker


def make_thunks(order: Sequence[Apply], storage_map: dict, compute_map: dict,
                impl: str | None = None) -> list:
    """One thunk per node, with a clear error naming the node when building one fails."""
    batch = _batch_thunk_makers.get(impl) if impl is not None else None
    if batch is None:
        made = [None] * len(order)
    else:
        for node in order:
            prepare_node(node, storage_map, compute_map, impl)
        made = batch(order, storage_map, compute_map)
    thunks = []
    for node, ready in zip(order, made):
        if ready is not None:
            thunks.append(ready)
            continue
        try:
            thunks.append(make_node_thunk(node, storage_map, compute_map, [], impl,
                                          prepared=batch is not None))
        except Exception as exc:
            extended = exception_with_message(exc, f"(while preparing node {node} to run)")
            if extended is exc:
                raise
            raise extended from exc
    return thunks


def containers_for(fgraph, input_storage: Sequence[list], output_storage: Sequence[list]):
    """Containers (filtering wrappers) around the input cells and the read-only output cells."""
    ins = [Container(var, cell) for var, cell in zip(fgraph.inputs, input_storage)]
    outs = [Container(var, cell, readonly=True)
            for var, cell in zip(fgraph.outputs, output_storage)]
    return ins, outs

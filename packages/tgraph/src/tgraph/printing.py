"""Showing graphs to people: ``debugprint``, ``pp``, the ``Print`` op, ``pydotprint``.

This is Theano 1.0's ``theano.printing``. :func:`debugprint` writes one line per variable,
children indented under their parent, in exactly Theano 1.0's layout (people diff these
dumps and tests compare them as text)::

    Elemwise{add,no_inplace} [id A] ''
     |Elemwise{add,no_inplace} [id B] 'C'
     | |A [id C]
     | |B [id D]
     |D [id E]

(every Apply line ends with three spaces and the optional toposort index). ``pp`` lives in
:mod:`tgraph.pretty`, ``pydotprint`` in :mod:`tgraph.dot`; both are re-exported here.
tgraph cannot import the linking package, so a compiled function is recognised by its
``maker.fgraph`` (and ``fn.storage_map``, ``profile``) rather than by its class.
"""

from __future__ import annotations

import hashlib
import sys
from io import StringIO
from typing import Any, TextIO

import numpy as np

import tgraph.dot as _dot
from tgraph.dot import default_colorCodes, inner_graph, pydotprint
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.op import Op
from tgraph.pretty import (
    VALID_ASSOC,
    DefaultPrinter,
    FunctionPrinter,
    IgnorePrinter,
    LeafPrinter,
    OperatorPrinter,
    PatternPrinter,
    PPrinter,
    PrinterState,
    default_printer,
    greek,
    leaf_printer,
    pp,
    pprint,
    special,
    use_ascii,
)

_ID_MODES = ("CHAR", "id", "int", "")


def char_from_number(number: int) -> str:
    """Capital-letter base-26 numeral used for ids: 0 -> A, 25 -> Z, 26 -> BA (Theano's)."""
    if number == 0:
        return "A"
    text = ""
    while number:
        number, digit = divmod(number, 26)
        text = chr(ord("A") + digit) + text
    return text


def _inner_to_outer(node: Apply, inner_inputs: list[Variable]) -> dict:
    """Which outer input each inner input stands for (Scan's ``var_mappings``, else by
    position when the counts agree)."""
    mappings = getattr(node.op, "var_mappings", None)
    if isinstance(mappings, dict) and "outer_inp_from_inner_inp" in mappings:
        return {inner_inputs[i]: node.inputs[o]
                for i, o in mappings["outer_inp_from_inner_inp"].items()}
    if len(inner_inputs) == len(node.inputs):
        return dict(zip(inner_inputs, node.inputs))
    return {}


class _GraphPrinter:
    """The state of one debugprint call: the ids handed out and the inner graphs met."""

    def __init__(self, file: TextIO, ids: str, print_type: bool, stop_on_name: bool,
                 done: dict, used_ids: dict, print_clients: bool, print_destroy_map: bool,
                 print_view_map: bool):
        self.file = file
        self.ids = ids
        self.print_type = print_type
        self.stop_on_name = stop_on_name
        self.done = done
        self.used_ids = used_ids
        self.print_clients = print_clients
        self.print_destroy_map = print_destroy_map
        self.print_view_map = print_view_map
        self.inner: list[Variable] = []

    def id_of(self, obj: Any, var: Variable, printed: bool = True) -> str:
        """The id shown for ``obj`` (an Apply, a leaf Variable or the client 'output').

        As in Theano, ids are numbered in the order they are first *mentioned* (a client
        list may mention a node before it is printed) and 'id' mode shows ``id(var)``.
        """
        if obj in self.used_ids:
            text = self.used_ids[obj]
        elif obj in self.done:  # a ``done`` shared with an earlier call keeps its ids
            text = self.done[obj]
        elif isinstance(obj, str):
            text = obj
        elif self.ids == "id":
            text = f"[id {id(var)}]"
        elif self.ids == "int":
            text = f"[id {len(self.used_ids)}]"
        elif self.ids == "CHAR":
            text = f"[id {char_from_number(len(self.used_ids))}]"
        else:
            text = ""
        if printed:
            self.done[obj] = text
        self.used_ids[obj] = text
        return text

    def print_graph(self, root: Variable, depth: int, prefix: str = "",
                    prefix_child: str | None = None, order: dict | None = None,
                    profile: Any = None, smap: dict | None = None,
                    clients: dict | None = None, inner_map: dict | None = None) -> None:
        """Print ``root`` and, below it, the not yet printed part of its graph.

        An explicit stack instead of recursion, so graphs thousands of nodes deep print.
        """
        stack = [(root, prefix, prefix if prefix_child is None else prefix_child, depth)]
        while stack:
            var, prefix, prefix_child, depth = stack.pop()
            if depth == 0:
                continue
            children = self._print_line(var, prefix, order, profile, smap, clients, inner_map)
            last = len(children) - 1
            for k in range(last, -1, -1):
                tail = "  " if k == last else " |"
                stack.append((children[k], prefix_child + " |", prefix_child + tail, depth - 1))

    def _print_line(self, r: Variable, prefix: str, order: dict | None, profile: Any,
                    smap: dict | None, clients: dict | None, inner_map: dict | None) -> list:
        type_str = f" <{r.type}>" if self.print_type else ""
        node = r.owner
        if node is None:
            id_str = self.id_of(r, r)
            if inner_map and r in inner_map:
                outer = inner_map[r]
                outer_id = self.id_of(outer.owner if outer.owner is not None else outer, outer)
                print(f"{prefix}{r} {id_str}{type_str} -> {outer_id}", file=self.file)
            else:
                data = f" {smap.get(r, '')}" if smap else ""
                print(f"{prefix}{r} {id_str}{type_str}{data}", file=self.file)
            return []

        if inner_graph(node.op) is not None and all(v is not r for v in self.inner):
            self.inner.append(r)
        already_printed = node in self.done
        id_str = self.id_of(node, r)
        idx = "" if len(node.outputs) == 1 else f".{node.outputs.index(r)}"
        destroy = view = ""
        if self.print_destroy_map and getattr(node.op, "destroy_map", None):
            destroy = f"d={node.op.destroy_map}"
        if self.print_view_map and getattr(node.op, "view_map", None):
            view = f"v={node.op.view_map}"
        position = str(order[node]) if order and node in order else ""
        data = f" {smap.get(node.outputs[0], '')}" if smap else ""
        client_str = ""
        if self.print_clients and clients is not None and len(clients.get(r, [])) > 1:
            listed = [(self.id_of(c, r, printed=False), order.get(c, "") if order else "")
                      for c, _ in clients[r]]
            client_str = f" clients:{listed}"
        name = r.name if r.name is not None else ""
        line = (f"{prefix}{node.op}{idx} {id_str}{type_str} '{name}' {destroy} {view} "
                f"{position}{data}{client_str}")
        apply_time = getattr(profile, "apply_time", None)
        if apply_time is not None and node in apply_time:
            line += _timing(profile, node)
        print(line, file=self.file)
        if already_printed or (self.stop_on_name and r.name is not None):
            return []
        return list(node.inputs)

    def print_inner_graphs(self, depth: int) -> None:
        if not self.inner:
            return
        scan_only = all(type(v.owner.op).__name__ == "Scan" for v in self.inner)
        print("", file=self.file)
        print("Inner graphs of the scan ops:" if scan_only else "Inner graphs:", file=self.file)
        k = 0
        while k < len(self.inner):  # printing an inner graph may find further ones
            var = self.inner[k]
            k += 1
            inner_inputs, inner_outputs = inner_graph(var.owner.op)
            mapping = _inner_to_outer(var.owner, inner_inputs)
            print("", file=self.file)
            self.print_graph(var, depth)
            for out in inner_outputs:
                self.print_graph(out, depth, prefix=" >", prefix_child=" >", inner_map=mapping)


def _timing(profile: Any, node: Apply) -> str:
    """`` --> time %time total %total`` for a profiled node (total: with its ancestors)."""
    op_time = profile.apply_time[node]
    call_time = getattr(profile, "fct_call_time", 0) or 0
    totals = profile.compute_total_times() if hasattr(profile, "compute_total_times") else {}
    total = totals.get(node, op_time)
    pct = (op_time / call_time * 100) if call_time else 0.0
    tot_pct = (total / call_time * 100) if call_time else 0.0
    return f" --> {op_time:8.2e}s {pct:4.1f}% {total:8.2e}s {tot_pct:4.1f}%"


_TIMING_HEADER = """
Timing Info
-----------
--> <time> <% time> - <total time> <% total time>

<time>         time spent in this node
<% time>       that time as a share of the function's run time
<total time>   time of this node and of all the nodes it depends on
<% total time> that time as a share of the function's run time

<total time> counts shared ancestors once per path: read it as an upper bound, useful to
find the nodes whose removal could not save much.
"""


def debugprint(obj: Any, depth: int = -1, print_type: bool = False, file: Any = None,
               ids: str = "CHAR", stop_on_name: bool = False, done: dict | None = None,
               print_storage: bool = False, print_clients: bool = False,
               used_ids: dict | None = None, *, print_destroy_map: bool = False,
               print_view_map: bool = False) -> Any:
    """Print a graph as indented text, one line per variable (Theano 1.0's layout).

    ``obj``: a Variable, an Apply (all its outputs), a FunctionGraph, a compiled function
    (its optimized graph, with each node's toposort index), an ``In``/``Out``, or a list of
    those. ``depth`` limits the levels printed (-1: all). ``print_type`` adds each
    variable's type. ``file``: None prints to stdout, 'str' returns the text, anything else
    is written to and returned. ``ids``: 'CHAR' (A, B, ..., Z, BA, ...), 'int', 'id'
    (Python ids) or '' (none). A node met again shows only its line and id; a node with
    several outputs shows ``.i``. ``stop_on_name`` does not expand named variables.
    ``done``/``used_ids`` (object -> id text) let several calls share ids.
    ``print_storage`` shows a compiled function's storage cells; ``print_clients`` lists
    the clients of variables used more than once. ``print_destroy_map``/``print_view_map``
    (not in Theano 1.0's ``theano.printing``, whose output never shows them) add ``d={..}``
    and ``v={..}`` for Ops that overwrite or alias an input. Ops with an inner graph (Scan,
    OpFromGraph) get an "Inner graphs" section whose inner inputs point at outer ids.
    """
    if not isinstance(depth, int) or isinstance(depth, bool):
        raise TypeError(f"debugprint: depth must be an int (-1 for no limit), got {depth!r}")
    if ids not in _ID_MODES:
        raise ValueError(f"debugprint: ids must be one of {_ID_MODES}, got {ids!r}")
    if file == "str":
        out: TextIO = StringIO()
    elif file is None:
        out = sys.stdout
    else:
        out = file
    done = {} if done is None else done
    used_ids = dict(done) if used_ids is None else used_ids

    # (variable, profile, storage map, toposort positions, clients) per root to print
    roots: list[tuple[Variable, Any, Any, Any, Any]] = []
    for item in obj if isinstance(obj, list | tuple | set) else [obj]:
        maker = getattr(item, "maker", None)
        if isinstance(item, Variable):
            roots.append((item, None, None, None, None))
        elif isinstance(item, Apply):
            roots.extend((o, None, None, None, None) for o in item.outputs)
        elif isinstance(item, FunctionGraph):
            order = {n: i for i, n in enumerate(item.toposort())}
            smap = getattr(item, "storage_map", None) if print_storage else None
            roots.extend((o, getattr(item, "profile", None), smap, order, item.clients)
                         for o in item.outputs)
        elif getattr(maker, "fgraph", None) is not None:
            fgraph = maker.fgraph
            order = {n: i for i, n in enumerate(fgraph.toposort())}
            smap = getattr(getattr(item, "fn", None), "storage_map", None) \
                if print_storage else None
            roots.extend((o, getattr(item, "profile", None), smap, order, fgraph.clients)
                         for o in fgraph.outputs)
        elif isinstance(item, int | float | np.ndarray | np.generic):
            print(item, file=out)
        elif isinstance(getattr(item, "variable", None), Variable):  # In / Out
            roots.append((item.variable, None, None, None, None))
        else:
            raise TypeError(
                "debugprint cannot print an object of type "
                f"{type(item).__name__}: {item!r}; expected a Variable, an Apply, a "
                "FunctionGraph, a compiled function, In/Out, or a list of those"
            )

    if any(getattr(p, "fct_callcount", 0) for _, p, _, _, _ in roots if p is not None):
        print(_TIMING_HEADER, file=out)
    printer = _GraphPrinter(out, ids, print_type, stop_on_name, done, used_ids, print_clients,
                            print_destroy_map, print_view_map)
    for var, profile, smap, order, clients in roots:
        printer.print_graph(var, depth, order=order, profile=profile, smap=smap,
                            clients=clients)
    printer.print_inner_graphs(depth)

    if file == "str":
        return out.getvalue()
    if file is None:
        out.flush()
        return None
    return file


# ---------------------------------------------------------------------------------------------
# The Print op


def _print_fn(op: Print, xin: Any) -> None:
    """Default action of :class:`Print`: ``message attr = value`` per requested attribute."""
    for attr in op.attrs:
        value = getattr(xin, attr)
        if callable(value):
            value = value()
        print(op.message, attr, "=", value)


class Print(Op):
    """Identity that prints, when it runs, a message and attributes of its input.

    ``Print('x')(x)`` prints ``x __str__ = [...]``; ``attrs=('shape', 'min', 'max')`` prints
    those (callables are called). ``global_fn(op, value)`` replaces the printing. The
    output is the input itself (``view_map``), the gradient passes through unchanged.
    The op is never constant-folded, so it prints at run time, not while compiling; like
    any node the optimizer does not know, it can block rewrites around it.
    """

    __props__ = ("message", "attrs", "global_fn")
    view_map = {0: [0]}

    def __init__(self, message: str = "", attrs: Any = ("__str__",), global_fn: Any = _print_fn):
        if isinstance(attrs, str):
            raise TypeError(
                f"Print: attrs must be a sequence of attribute names, got the string {attrs!r};"
                f" write attrs=({attrs!r},)"
            )
        self.message = message
        self.attrs = tuple(attrs)
        self.global_fn = global_fn

    def make_node(self, xin: Any) -> Apply:
        if not isinstance(xin, Variable):
            from tgraph.tensor.basic import as_tensor_variable

            xin = as_tensor_variable(xin)
        return Apply(self, [xin], [xin.type()])

    def perform(self, node: Apply, inputs: list, output_storage: list, params: Any = None
                ) -> None:
        (xin,) = inputs
        output_storage[0][0] = xin
        self.global_fn(self, xin)

    def grad(self, inputs: list, output_grads: list) -> list:
        return list(output_grads)

    def R_op(self, inputs: list, eval_points: list) -> list:
        return list(eval_points)

    def do_constant_folding(self, node: Apply) -> bool:
        return False

    def __str__(self) -> str:
        return f"Print{{message={self.message!r}, attrs={self.attrs!r}}}"

    def __setstate__(self, state: dict) -> None:
        state.setdefault("global_fn", _print_fn)
        self.__dict__.update(state)


# ---------------------------------------------------------------------------------------------
# Short descriptions for error messages


class _TagGenerator:
    """Hands out A, B, C, ... in order."""

    def __init__(self) -> None:
        self.count = 0

    def get_tag(self) -> str:
        tag = char_from_number(self.count)
        self.count += 1
        return tag


def min_informative_str(obj: Any, indent_level: int = 0, _prev_obs: dict | None = None,
                        _tag_generator: _TagGenerator | None = None) -> str:
    """As much of ``obj``'s graph as it takes to reach named variables and constants.

    Each line is ``TAG. what`` indented one space per level; a variable seen before prints
    as ``<TAG>``. Named variables are not expanded, so an error message built from this
    names the pieces the user wrote (``A. Elemwise{add,no_inplace}\\n B. log_lik\\n ...``).
    """
    prev = {} if _prev_obs is None else _prev_obs
    indent = " " * indent_level
    if id(obj) in prev:
        return f"{indent}<{prev[id(obj)]}>"
    tags = _TagGenerator() if _tag_generator is None else _tag_generator
    tag = tags.get_tag()
    prev[id(obj)] = tag
    if hasattr(obj, "__array__") and not isinstance(obj, Variable):
        name = "<ndarray>"
    elif getattr(obj, "name", None) is not None:
        name = obj.name
    elif getattr(obj, "owner", None) is not None:
        name = str(obj.owner.op)
        for inp in obj.owner.inputs:
            name += "\n" + min_informative_str(inp, indent_level + 1, prev, tags)
    else:
        name = str(obj)
    return f"{indent}{tag}. {name}"


def var_descriptor(obj: Any, _prev_obs: dict | None = None,
                   _tag_generator: _TagGenerator | None = None) -> str:
    """One line that says how ``obj`` is computed, free of memory addresses (usable as a
    cache key): ``A=Elemwise{add,no_inplace}(B=x,C=y)``; arrays by strides and digest."""
    prev = {} if _prev_obs is None else _prev_obs
    if id(obj) in prev:
        return f"<{prev[id(obj)]}>"
    tags = _TagGenerator() if _tag_generator is None else _tag_generator
    tag = tags.get_tag()
    prev[id(obj)] = tag
    if isinstance(obj, np.ndarray):
        digest = hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()
        name = f"<ndarray:strides=[{','.join(str(s) for s in obj.strides)}],digest={digest}>"
    elif getattr(obj, "owner", None) is not None:
        args = ",".join(var_descriptor(inp, prev, tags) for inp in obj.owner.inputs)
        name = f"{obj.owner.op}({args})"
    elif getattr(obj, "name", None) is not None:
        # Only inputs print by name: naming an intermediate must not change the descriptor.
        name = obj.name
    else:
        name = str(obj)
        if " at 0x" in name:
            name = position_independent_str(obj)
    return f"{tag}={name}"


def position_independent_str(obj: Any) -> str:
    """A description of an unnamed input that does not contain its address."""
    if isinstance(obj, Variable):
        return f"theano_var{{type={obj.type}}}"
    raise NotImplementedError(
        f"position_independent_str: no address-free text for {type(obj).__name__} objects"
    )


def hex_digest(x: np.ndarray) -> str:
    """A digest of an array's bytes, strides and shape (two arrays with equal data, strides
    and shape share it)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"hex_digest expects a numpy.ndarray, got {type(x).__name__}")
    digest = hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()
    strides = ",".join(str(s) for s in x.strides)
    shape = ",".join(str(s) for s in x.shape)
    return f"{digest}|strides=[{strides}]|shape=[{shape}]"


def __getattr__(name: str) -> Any:
    # ``pydot_imported`` / ``pydot_imported_msg`` are computed on first read (see tgraph.dot).
    if name in ("pydot_imported", "pydot_imported_msg"):
        return getattr(_dot, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "VALID_ASSOC",
    "DefaultPrinter",
    "FunctionPrinter",
    "IgnorePrinter",
    "LeafPrinter",
    "OperatorPrinter",
    "PPrinter",
    "PatternPrinter",
    "Print",
    "PrinterState",
    "char_from_number",
    "debugprint",
    "default_colorCodes",
    "default_printer",
    "greek",
    "hex_digest",
    "leaf_printer",
    "min_informative_str",
    "position_independent_str",
    "pp",
    "pprint",
    "pydotprint",
    "special",
    "use_ascii",
    "var_descriptor",
]

"""Local rewrites built from data rather than code: groups, Op substitution, patterns.

:class:`LocalOptGroup` tries several local rewrites on a node (the first that applies wins,
or all of them in turn); :class:`OpSub` and :class:`OpRemove` swap or drop an Op;
:class:`PatternSub` matches an expression tree written as nested tuples and builds another
(Theano 1.0's pattern syntax, so user rewrites written for ``theano.gof.opt`` still work).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.op import Op
from topt.engine.base import (
    LocalOptimizer,
    _takes_fgraph,
    call_transform,
    copy_stack_trace,
    handle_rewrite_error,
    rewrite_name,
)

__all__ = ["LocalOptGroup", "OpRemove", "OpSub", "PatternSub", "TrackIndex"]

_MAX_CHAIN = 100


class TrackIndex:
    """Local rewrites indexed by what they track, for fast lookup by node.

    Rewrites tracking an Op class apply to nodes whose Op is an instance of that class
    (subclasses included); rewrites tracking an Op instance apply to nodes whose Op equals
    it; rewrites tracking None apply everywhere. ``for_op(op)`` returns them in the order
    the rewrites were created, and is cached per Op class.
    """

    def __init__(self, lopts: list) -> None:
        self.by_class: dict[type, list] = {}
        self.by_op: dict[Any, list] = {}
        self.everywhere: list = []
        for lopt in lopts:
            tracks = lopt.tracks()
            if tracks is None:
                self.everywhere.append(lopt)
                continue
            for t in tracks:
                if isinstance(t, type):
                    lst = self.by_class.setdefault(t, [])
                else:
                    lst = self.by_op.setdefault(t, [])
                if lopt not in lst:
                    lst.append(lopt)
        self._class_cache: dict[type, list] = {}

    def _for_class(self, cls: type) -> list:
        found = self._class_cache.get(cls)
        if found is None:
            seen: dict = {lopt: None for lopt in self.everywhere}
            for base in cls.__mro__:
                for lopt in self.by_class.get(base, ()):
                    seen[lopt] = None
            found = sorted(seen, key=_order)
            self._class_cache[cls] = found
        return found

    def for_op(self, op: Any) -> list:
        found = self._for_class(type(op))
        if self.by_op:
            try:
                extra = self.by_op.get(op)
            except TypeError:  # an unhashable Op cannot be tracked by instance
                extra = None
            if extra:
                found = sorted({**dict.fromkeys(found), **dict.fromkeys(extra)}, key=_order)
        return found


def _order(lopt: Any) -> int:
    return getattr(lopt, "_order", 0)


class LocalOptGroup(LocalOptimizer):
    """Several local rewrites behaving as one (``theano.gof.opt.LocalOptGroup``).

    ``transform`` tries the members that track the node's Op in order and returns the first
    replacement; with ``apply_all_opts=True`` it keeps rewriting the replacement with the
    members until none applies, and returns the final result.
    """

    def __init__(self, *optimizers: LocalOptimizer, apply_all_opts: bool = False,
                 profile: bool = False, name: str | None = None):
        if len(optimizers) == 1 and isinstance(optimizers[0], list | tuple):
            optimizers = tuple(optimizers[0])
        for o in optimizers:
            if not isinstance(o, LocalOptimizer):
                raise TypeError(f"LocalOptGroup: {o!r} is not a local rewrite")
        self.opts = list(optimizers)
        self.apply_all_opts = apply_all_opts
        self.profile = profile
        self.time_opts: dict = {o: 0.0 for o in self.opts}
        self.applied_true: dict = {o: 0 for o in self.opts}
        self._index = TrackIndex(self.opts)
        if name is not None:
            self.__name__ = name

    def tracks(self) -> list | None:
        out: list = []
        for o in self.opts:
            t = o.tracks()
            if t is None:
                return None
            out.extend(x for x in t if x not in out)
        return out

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for o in self.opts:
            o.add_requirements(fgraph)

    def transform(self, fgraph: FunctionGraph, node: Apply) -> Any:
        repl = self._first(fgraph, node)
        if not repl or not self.apply_all_opts:
            return repl
        # Rewrite the (not yet inserted) replacement again, as Theano 1.0 did, a bounded
        # number of times so that two members undoing each other cannot loop forever.
        for _ in range(_MAX_CHAIN):
            if not isinstance(repl, list) or len(repl) != 1 or repl[0].owner is None:
                return repl
            nxt = self._first(fgraph, repl[0].owner)
            if not nxt or not isinstance(nxt, list):
                return repl
            repl = nxt
        return repl

    def _first(self, fgraph: FunctionGraph, node: Apply) -> Any:
        for lopt in self._index.for_op(node.op):
            start = time.perf_counter()
            try:
                new = call_transform(lopt, fgraph, node)
            except Exception as exc:
                # Report the member, not the group, and let the other members try.
                handle_rewrite_error(exc, lopt, node)
                new = None
            self.time_opts[lopt] += time.perf_counter() - start
            if new:
                self.applied_true[lopt] += 1
                return new
        return None

    def __str__(self) -> str:
        if getattr(self, "__name__", None):
            return self.__name__
        return f"LocalOptGroup({', '.join(rewrite_name(o) for o in self.opts)})"

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{' ' * level}LocalOptGroup {rewrite_name(self)} id={id(self)}", file=stream)
        if depth != 0:
            for o in self.opts:
                o.print_summary(stream, level=level + 2, depth=depth - 1)


class OpSub(LocalOptimizer):
    """Replace every node of ``op1`` by ``op2`` on the same inputs (``theano.gof.OpSub``)."""

    reentrant = False
    retains_inputs = True

    def __init__(self, op1: Op, op2: Op, transfer_tags: bool = True):
        self.op1 = op1
        self.op2 = op2
        self.transfer_tags = transfer_tags

    def op_key(self) -> Op:
        return self.op1

    def tracks(self) -> list:
        return [self.op1]

    def transform(self, fgraph: FunctionGraph, node: Apply) -> Any:
        if node.op != self.op1:
            return False
        repl = self.op2.make_node(*node.inputs)
        if self.transfer_tags:
            repl.tag = node.tag
            for old, new in zip(node.outputs, repl.outputs):
                new.tag = old.tag
        copy_stack_trace(node.outputs, repl.outputs)
        return list(repl.outputs)

    def __str__(self) -> str:
        return f"{self.op1} -> {self.op2}"


class OpRemove(LocalOptimizer):
    """Remove every node of ``op``: its outputs become its inputs (``theano.gof.OpRemove``).

    Only meaningful for Ops whose outputs equal their inputs (identities, checks).
    """

    reentrant = False

    def __init__(self, op: Op):
        self.op = op

    def op_key(self) -> Op:
        return self.op

    def tracks(self) -> list:
        return [self.op]

    def transform(self, fgraph: FunctionGraph, node: Apply) -> Any:
        if node.op != self.op:
            return False
        return list(node.inputs)

    def __str__(self) -> str:
        return f"{self.op}(x) -> x"


class PatternSub(LocalOptimizer):
    """Replace every match of ``in_pattern`` by ``out_pattern`` (``theano.gof.PatternSub``).

    Patterns, as in Theano 1.0::

        in_pattern  ::= (op, sub_pattern, ...) | {'pattern': in_pattern, 'constraint': fn}
        sub_pattern ::= in_pattern | 'name' | Constant | int | float
        out_pattern ::= (op, out_pattern, ...) | 'name' | int | float

    ``op`` in an input pattern is an Op instance (nodes match when their Op equals it) or an
    Op class (isinstance). A name binds the variable found in its place; a name seen twice
    must bind the same variable (or equal constants). A number matches a constant of that
    value. ``constraint(expr)`` or ``constraint(fgraph, expr)`` must accept the variable.
    Inner nodes of the match must have a single client unless ``allow_multiple_clients``
    (otherwise their value is still needed and nothing would be saved). The output pattern
    calls each Op on the built arguments; a result whose type differs from the replaced
    variable's, beyond what the type accepts, is not used.
    """

    def __init__(self, in_pattern: Any, out_pattern: Any, allow_multiple_clients: bool = False,
                 skip_identities_fn: Callable | None = None, name: str | None = None,
                 pdb: bool = False, tracks: Any = (), get_nodes: Callable | None = None,
                 values_eq_approx: Callable | None = None):
        if isinstance(in_pattern, dict):
            root = in_pattern.get("pattern")
        else:
            root = in_pattern
        if not isinstance(root, list | tuple) or not root or not _is_op_like(root[0]):
            raise TypeError(
                f"PatternSub: the input pattern must start with an Op instance or class, "
                f"got {in_pattern!r}"
            )
        self.in_pattern = in_pattern
        self.out_pattern = out_pattern
        self.op = root[0]
        self.allow_multiple_clients = allow_multiple_clients
        self.skip_identities_fn = skip_identities_fn
        self.values_eq_approx = values_eq_approx
        self.pdb = pdb
        if tracks != () and get_nodes is None:
            raise ValueError("PatternSub: tracks needs get_nodes (the nodes to try from each)")
        self._tracks = tracks
        self.get_nodes = get_nodes
        if name:
            self.__name__ = name

    def op_key(self) -> Any:
        return self.op

    def tracks(self) -> list:
        if self._tracks != ():
            return list(self._tracks)
        return [self.op]

    def transform(self, fgraph: FunctionGraph, node: Apply, get_nodes: bool = True) -> Any:
        if get_nodes and self.get_nodes is not None:
            for real_node in self.get_nodes(fgraph, node) if _takes_fgraph(
                    self.get_nodes, False) else self.get_nodes(node):
                if real_node == "output":
                    continue
                ret = self.transform(fgraph, real_node, get_nodes=False)
                if ret:
                    return dict(zip(real_node.outputs, ret))
        if not _op_matches(self.op, node.op) or len(node.outputs) != 1:
            return False
        bindings = self._match(fgraph, self.in_pattern, node.outputs[0], {}, True)
        if bindings is None:
            return False
        if self.pdb:
            import pdb

            pdb.set_trace()
        out = self._build(self.out_pattern, bindings)
        if not isinstance(out, Variable):
            return False
        old = node.outputs[0]
        if out.type != old.type:
            converted = old.type.convert_variable(out)
            if converted is None:
                return False
            out = converted
        if self.values_eq_approx is not None:
            out.tag.values_eq_approx = self.values_eq_approx
        if out.owner is not None:
            copy_stack_trace(old, out)
        return [out]

    # -- matching ----------------------------------------------------------------------------
    def _match(self, fgraph, pattern, expr, bindings, root, multiple=None):
        if multiple is None:
            multiple = self.allow_multiple_clients
        result = self._match_once(fgraph, pattern, expr, bindings, root, multiple)
        if result is None and self.skip_identities_fn is not None:
            equiv = self.skip_identities_fn(expr)
            if equiv is not None:
                result = self._match_once(fgraph, pattern, equiv, bindings, root, multiple)
        return result

    def _match_once(self, fgraph, pattern, expr, bindings, root, multiple):
        if isinstance(pattern, list | tuple):
            node = expr.owner
            if node is None or not _op_matches(pattern[0], node.op):
                return None
            if not root and not multiple and fgraph is not None:
                if len(fgraph.clients.get(expr, ())) > 1:
                    return None
            if len(pattern) - 1 != len(node.inputs):
                return None
            for sub, inp in zip(pattern[1:], node.inputs):
                bindings = self._match(fgraph, sub, inp, bindings, False)
                if bindings is None:
                    return None
            return bindings
        if isinstance(pattern, dict):
            if "pattern" not in pattern:
                raise KeyError(f"PatternSub: malformed pattern {pattern!r} (no 'pattern' key)")
            constraint = pattern.get("constraint")
            if constraint is not None:
                ok = (constraint(fgraph, expr) if _takes_fgraph(constraint, False)
                      else constraint(expr))
                if not ok:
                    return None
            return self._match(fgraph, pattern["pattern"], expr, bindings, root,
                               pattern.get("allow_multiple_clients", multiple))
        if isinstance(pattern, str):
            bound = bindings.get(pattern)
            if bound is None:
                return {**bindings, pattern: expr}
            if bound is expr or (isinstance(bound, Constant) and bound.equals(expr)):
                return bindings
            return None
        if isinstance(pattern, Constant):
            return bindings if isinstance(expr, Constant) and pattern.equals(expr) else None
        if isinstance(pattern, int | float) and not isinstance(pattern, bool):
            if isinstance(expr, Constant):
                try:
                    same = bool(np.all(np.asarray(expr.data) == pattern))
                except (TypeError, ValueError):
                    same = False
                if same:
                    return bindings
            return None
        return None

    def _build(self, pattern, bindings):
        if isinstance(pattern, list | tuple):
            args = [self._build(p, bindings) for p in pattern[1:]]
            return pattern[0](*args)
        if isinstance(pattern, str):
            return bindings[pattern]
        if isinstance(pattern, Constant):
            return pattern.clone()
        return pattern

    def __str__(self) -> str:
        if getattr(self, "__name__", None):
            return self.__name__
        return f"{_pattern_str(self.in_pattern)} -> {_pattern_str(self.out_pattern)}"

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{' ' * level}PatternSub {self} id={id(self)}", file=stream)


def _is_op_like(x: Any) -> bool:
    return isinstance(x, Op) or (isinstance(x, type) and issubclass(x, Op))


def _op_matches(pattern_op: Any, op: Any) -> bool:
    if isinstance(pattern_op, type):
        return isinstance(op, pattern_op)
    return op == pattern_op


def _pattern_str(pattern: Any) -> str:
    if isinstance(pattern, list | tuple):
        head = pattern[0].__name__ if isinstance(pattern[0], type) else str(pattern[0])
        return f"{head}({', '.join(_pattern_str(p) for p in pattern[1:])})"
    if isinstance(pattern, dict):
        return f"{_pattern_str(pattern['pattern'])} subject to {pattern.get('constraint')}"
    return str(pattern)

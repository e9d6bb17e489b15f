"""The graph's nodes: Variable, Constant, Apply, and the walks over them.

A graph is bipartite: an :class:`Apply` node holds an Op, its input Variables and its output
Variables; each Variable knows its ``owner`` (the Apply that computes it, or None for graph
inputs and constants) and its ``index`` among that owner's outputs. Every walk here is
iterative (no recursion limit on deep graphs) and deterministic: orders follow the lists of
inputs and outputs, never set or hash order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tgraph.graph.utils import Scratchpad, ValidatingScratchpad, add_tag_trace, next_id


class Node:
    """Common base of :class:`Apply` and :class:`Variable` (``theano.gof.graph.Node``)."""

    def get_parents(self) -> list:
        raise NotImplementedError


class Apply(Node):
    """One application of an Op to input Variables, producing output Variables."""

    def __init__(self, op, inputs: Sequence[Variable], outputs: Sequence[Variable]):
        self.op = op
        self.inputs = []
        self.tag = Scratchpad()
        for i, inp in enumerate(inputs):
            if not isinstance(inp, Variable):
                raise TypeError(
                    f"{op}: input {i} must be a Variable, got {type(inp).__name__}: {inp!r}"
                )
            self.inputs.append(inp)
        self.outputs = []
        for i, out in enumerate(outputs):
            if not isinstance(out, Variable):
                raise TypeError(f"{op}: output {i} must be a Variable, got {out!r}")
            if out.owner is None:
                out.owner = self
                out.index = i
            elif out.owner is not self or out.index != i:
                raise ValueError(f"{op}: output {i} ({out}) already belongs to another node")
            self.outputs.append(out)

    def default_output(self):
        """The output returned when the Op is called (``op.default_output`` or the only one)."""
        do = getattr(self.op, "default_output", None)
        if do is None:
            if len(self.outputs) == 1:
                return self.outputs[0]
            raise ValueError(
                f"{self.op} has {len(self.outputs)} outputs and no default_output; "
                "use node.outputs"
            )
        if not isinstance(do, int) or not (-len(self.outputs) <= do < len(self.outputs)):
            raise ValueError(f"{self.op}.default_output={do!r} is not a valid output index")
        return self.outputs[do]

    out = property(default_output, doc="Alias of default_output().")

    def run_params(self):
        get = getattr(self.op, "get_params", None)
        return get(self) if get is not None else None

    @property
    def params_type(self):
        return getattr(self.op, "params_type", None)

    def get_parents(self) -> list:
        return list(self.inputs)

    def clone(self) -> Apply:
        """A copy with the same inputs and fresh outputs of the same types."""
        cp = self.__class__(self.op, self.inputs, [o.clone() for o in self.outputs])
        cp.tag = _copy_scratchpad(self.tag)
        return cp

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> Apply:
        """A copy on other inputs. With ``strict`` the inputs' types must be unchanged;
        otherwise the Op's make_node rebuilds the node (output types may change)."""
        if len(inputs) != len(self.inputs):
            raise ValueError(
                f"{self.op}: clone_with_new_inputs got {len(inputs)} inputs, "
                f"expected {len(self.inputs)}"
            )
        remake = False
        new_inputs = list(inputs)
        for i, (curr, new) in enumerate(zip(self.inputs, new_inputs)):
            if curr.type != new.type:
                if strict:
                    new_inputs[i] = curr.type.filter_variable(new)
                else:
                    remake = True
        if remake:
            new_node = self.op.make_node(*new_inputs)
            new_node.tag = _copy_scratchpad(self.tag, new_node.tag)
        else:
            new_node = self.clone()
            new_node.inputs = new_inputs
        return new_node

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)

    def __str__(self) -> str:
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"

    def __repr__(self) -> str:
        return str(self)


class Variable(Node):
    """A value in the graph: an input, a constant, or an output of an Apply node."""

    __count__ = 0

    def __init__(self, type, owner: Apply | None = None, index: int | None = None,
                 name: str | None = None):
        self.tag = ValidatingScratchpad(self)
        self.type = type
        if owner is not None and not isinstance(owner, Apply):
            raise TypeError(f"owner must be an Apply node, got {owner!r}")
        self.owner = owner
        self.index = index
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        self.name = name
        self.auto_name = f"auto_{next_id()}"

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if self.index == getattr(op, "default_output", None) or len(self.owner.outputs) == 1:
                return f"{op}.0" if len(self.owner.outputs) == 1 else f"{op}.out"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    def clone(self) -> Variable:
        """A copy with no owner, the same type, name and tag."""
        cp = self.__class__(self.type, None, None, self.name)
        cp.tag = _copy_scratchpad(self.tag, cp.tag)
        return cp

    def get_parents(self) -> list:
        return [self.owner] if self.owner is not None else []

    def get_test_value(self):
        """The test value, computed or given; raises TestValueError when there is none."""
        from tgraph.graph.testvalue import get_test_value

        return get_test_value(self)

    def eval(self, inputs_to_values: dict | None = None):
        """Compute this variable's value given values for the graph's inputs.

        Uses the compiler registered by the linking package (theano.function) when one is
        installed, else tgraph's reference evaluator. Compiled functions are cached per set of
        inputs, as in Theano.
        """
        from tgraph.graph.evaluate import eval_variable

        return eval_variable(self, inputs_to_values or {})

    def __getstate__(self):
        d = self.__dict__.copy()
        d.pop("_fn_cache", None)
        return d


class Constant(Variable):
    """A Variable with a fixed value (``data``); it has no owner and cannot be replaced."""

    def __init__(self, type, data: Any, name: str | None = None):
        super().__init__(type, None, None, name)
        self.data = type.filter(data)
        add_tag_trace(self)

    def signature(self):
        """What makes two constants interchangeable: their type and data."""
        return (self.type, _data_key(self.data))

    def equals(self, other) -> bool:
        return isinstance(other, Constant) and self.signature() == other.signature()

    def merge_signature(self):
        return self.signature()

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        s = str(self.data)
        if len(s) > 20:
            s = s[:10] + "..." + s[-10:]
        return f"Constant{{{s}}}"

    def clone(self) -> Constant:
        cp = self.__class__(self.type, self.data, self.name)
        cp.tag = _copy_scratchpad(self.tag, cp.tag)
        return cp

    @property
    def value(self):
        return self.data


def _data_key(data):
    """A hashable, value-based key for constant data (NumPy arrays by dtype, shape, bytes)."""
    try:
        import numpy as np

        if isinstance(data, np.ndarray | np.generic):
            arr = np.asarray(data)
            return ("ndarray", str(arr.dtype), arr.shape, np.ascontiguousarray(arr).tobytes())
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    try:
        hash(data)
        return data
    except TypeError:
        return ("id", id(data))


def _copy_scratchpad(src, dst=None):
    if dst is None:
        dst = Scratchpad()
    for k, v in src.__dict__.items():
        if k == "_owner_var":
            continue
        try:
            setattr(dst, k, v)
        except Exception:
            object.__setattr__(dst, k, v)
    return dst


# ---------------------------------------------------------------------------------------------
# Walks over graphs


def walk(nodes: Iterable, expand: Callable[[Any], Iterable | None], bfs: bool = True):
    """Yield each node reachable from ``nodes`` once, expanding with ``expand``."""
    from collections import deque

    todo = deque(nodes)
    seen: set[int] = set()
    pop = todo.popleft if bfs else todo.pop
    while todo:
        n = pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        yield n
        nxt = expand(n)
        if nxt:
            todo.extend(nxt)


def ancestors(variables: Iterable[Variable], blockers: Iterable[Variable] | None = None
              ) -> list[Variable]:
    """Every Variable that ``variables`` depend on (themselves included), stopping at blockers."""
    block = {id(b) for b in blockers} if blockers else set()

    def expand(r):
        if r.owner is not None and id(r) not in block:
            return reversed(r.owner.inputs)
        return None

    return list(walk(variables, expand, bfs=False))


def graph_inputs(variables: Iterable[Variable], blockers: Iterable[Variable] | None = None
                 ) -> list[Variable]:
    """The ownerless Variables (inputs and constants) that ``variables`` depend on."""
    block = {id(b) for b in blockers} if blockers else set()
    return [r for r in ancestors(variables, blockers) if r.owner is None or id(r) in block]


inputs = graph_inputs  # Theano 1.0's name (theano.gof.graph.inputs)


def vars_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Variable]:
    """Variables on paths from ``ins`` to ``outs`` (both ends included)."""
    ins = list(ins)
    block = {id(i) for i in ins}

    def expand(r):
        if r.owner is not None and id(r) not in block:
            return reversed(r.owner.inputs + r.owner.outputs)
        return None

    return list(walk(outs, expand, bfs=False))


variables = vars_between


def orphans(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Variable]:
    """Ownerless Variables that ``outs`` need and that are not in ``ins`` (constants, mostly)."""
    ins = list(ins)
    in_ids = {id(i) for i in ins}
    return [r for r in vars_between(ins, outs) if r.owner is None and id(r) not in in_ids]


def applys_between(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Apply]:
    """Apply nodes on paths from ``ins`` to ``outs``."""
    seen: set[int] = set()
    out = []
    for r in vars_between(ins, outs):
        if r.owner is not None and id(r.owner) not in seen and r not in ins:
            seen.add(id(r.owner))
            out.append(r.owner)
    return out


ops = applys_between


def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable],
                orderings: dict | None = None, clients: dict | None = None) -> list[Apply]:
    """Apply nodes between ``inputs`` and ``outputs`` in a deterministic dependency order.

    The order is a post-order depth-first walk from the outputs, taking each node's inputs
    left to right, so the same graph always gives the same order. ``orderings`` maps a node
    to extra nodes that must run before it (destroy-handler constraints, for instance).
    """
    stop = {id(i) for i in inputs}
    orderings = orderings or {}
    order: list[Apply] = []
    done: set[int] = set()
    visiting: set[int] = set()

    def deps(node):
        ds = [i.owner for i in node.inputs if i.owner is not None and id(i) not in stop]
        extra = orderings.get(node)
        if extra:
            ds.extend(extra)
        return ds

    for out in outputs:
        if out.owner is None or id(out) in stop or id(out.owner) in done:
            continue
        stack = [(out.owner, iter(deps(out.owner)))]
        visiting.add(id(out.owner))
        while stack:
            node, it = stack[-1]
            for d in it:
                if id(d) in done:
                    continue
                if id(d) in visiting:
                    raise ValueError(f"the graph has a cycle through {d}")
                visiting.add(id(d))
                stack.append((d, iter(deps(d))))
                break
            else:
                stack.pop()
                visiting.discard(id(node))
                done.add(id(node))
                order.append(node)
    return order


def general_toposort(outputs, deps, compute_deps_cache=None):
    """Order any DAG given a ``deps(node)`` function (dependencies first)."""
    order, done, visiting = [], set(), set()
    for root in outputs:
        if id(root) in done:
            continue
        stack = [(root, iter(deps(root) or ()))]
        visiting.add(id(root))
        while stack:
            node, it = stack[-1]
            for d in it:
                if id(d) in done:
                    continue
                if id(d) in visiting:
                    raise ValueError("the graph has a cycle")
                visiting.add(id(d))
                stack.append((d, iter(deps(d) or ())))
                break
            else:
                stack.pop()
                visiting.discard(id(node))
                done.add(id(node))
                order.append(node)
    return order


def list_of_nodes(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    return io_toposort(inputs, outputs)


# ---------------------------------------------------------------------------------------------
# Cloning


def clone_get_equiv(inputs: Sequence[Variable], outputs: Sequence[Variable],
                    copy_inputs: bool = True, copy_orphans: bool = True,
                    memo: dict | None = None) -> dict:
    """Copy the graph between ``inputs`` and ``outputs``; return the old→new mapping.

    ``copy_inputs`` clones the inputs too (else they are shared); ``copy_orphans`` does the
    same for constants and other ownerless variables not in ``inputs``. ``memo`` may preset
    some of the mapping (that is how clone_replace substitutes variables).
    """
    memo = {} if memo is None else memo
    for inp in inputs:
        if inp not in memo:
            memo[inp] = inp.clone() if copy_inputs else inp
    for node in io_toposort(inputs, outputs):
        for inp in node.inputs:
            if inp not in memo:
                memo[inp] = inp.clone() if copy_orphans else inp
        new_node = node.clone_with_new_inputs([memo[i] for i in node.inputs], strict=False)
        memo.setdefault(node, new_node)
        for old, new in zip(node.outputs, new_node.outputs):
            memo.setdefault(old, new)
    for out in outputs:
        if out not in memo:
            memo[out] = out.clone() if copy_orphans else out
    return memo


def clone(inputs: Sequence[Variable], outputs: Sequence[Variable], copy_inputs: bool = True,
          copy_orphans: bool = True) -> tuple[list[Variable], list[Variable]]:
    """Copy a graph; return the new inputs and outputs."""
    equiv = clone_get_equiv(inputs, outputs, copy_inputs, copy_orphans)
    return [equiv[i] for i in inputs], [equiv[o] for o in outputs]


def clone_replace(output, replace=None, strict: bool = True, share_inputs: bool = True):
    """Copy ``output`` (a Variable or a list) with some variables replaced.

    ``replace`` maps old variables to new ones (a dict or a list of pairs). Replacements are
    applied simultaneously (a replacement is not itself searched for replaced variables).
    """
    if replace is None:
        items = []
    elif isinstance(replace, dict):
        items = list(replace.items())
    else:
        items = list(replace)
    single = isinstance(output, Variable)
    outs = [output] if single else list(output)
    memo: dict = {}
    for old, new in items:
        if not isinstance(new, Variable):
            new = old.type.filter_variable(new)
        if strict and old.type != new.type:
            new = old.type.filter_variable(new)
        memo[old] = new
    all_inputs = graph_inputs(outs)
    for inp in all_inputs:
        if inp not in memo:
            memo[inp] = inp if share_inputs else inp.clone()
    stop = list(memo.keys())
    for node in io_toposort(stop, outs):
        new_inputs = [memo.get(i, i) for i in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            for o in node.outputs:
                memo.setdefault(o, o)
            continue
        new_node = node.clone_with_new_inputs(new_inputs, strict=False)
        for old, new in zip(node.outputs, new_node.outputs):
            memo.setdefault(old, new)
    res = [memo.get(o, o) for o in outs]
    return res[0] if single else res


# ---------------------------------------------------------------------------------------------
# Comparing graphs


def equal_computations(xs: Sequence[Variable], ys: Sequence[Variable],
                       in_xs: Sequence[Variable] | None = None,
                       in_ys: Sequence[Variable] | None = None) -> bool:
    """Whether ``xs`` and ``ys`` compute the same thing, given ``in_xs[i]`` ≡ ``in_ys[i]``."""
    if len(xs) != len(ys):
        return False
    equiv: dict[int, int] = {}
    for a, b in zip(in_xs or [], in_ys or []):
        if a.type != b.type:
            return False
        equiv[id(a)] = id(b)

    def same_var(a, b):
        if id(a) in equiv:
            return equiv[id(a)] == id(b)
        if a.owner is None or b.owner is None:
            if a.owner is None and b.owner is None:
                if isinstance(a, Constant) and isinstance(b, Constant):
                    ok = a.equals(b)
                else:
                    ok = a is b
                if ok:
                    equiv[id(a)] = id(b)
                return ok
            return False
        return False

    for x, y in zip(xs, ys):
        if x.type != y.type:
            return False
    nx = io_toposort([v for v in graph_inputs(xs)], xs)
    ny = io_toposort([v for v in graph_inputs(ys)], ys)
    if len(nx) != len(ny):
        return False
    for a, b in zip(nx, ny):
        if a.op != b.op or len(a.inputs) != len(b.inputs) or len(a.outputs) != len(b.outputs):
            return False
        for ia, ib in zip(a.inputs, b.inputs):
            if not same_var(ia, ib):
                return False
        for oa, ob in zip(a.outputs, b.outputs):
            if oa.type != ob.type:
                return False
            equiv[id(oa)] = id(ob)
    return all(same_var(x, y) for x, y in zip(xs, ys))


def is_in_ancestors(l_node: Apply, f_node: Apply) -> bool:
    """Whether ``f_node`` is an ancestor of ``l_node``."""
    return any(v.owner is f_node for v in ancestors(l_node.inputs))


def view_roots(r: Variable) -> list[Variable]:
    """The variables whose memory ``r`` may be a view of (following ``view_map``)."""
    owner = r.owner
    if owner is None:
        return [r]
    view_map = getattr(owner.op, "view_map", {}) or {}
    if owner.outputs.index(r) in view_map:
        res = []
        for i in view_map[owner.outputs.index(r)]:
            res += view_roots(owner.inputs[i])
        return res
    return [r]

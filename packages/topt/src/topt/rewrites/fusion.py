"""Elemwise fusion: chains of element-wise nodes become one ``Elemwise(Composite)`` node.

Every Elemwise node allocates its output and walks memory once; a chain ``exp(x * y + z)``
therefore makes three passes and two temporaries. Fusion replaces a connected group of
Elemwise nodes by one node whose scalar op is a :class:`tgraph.scalar.Composite` of the
group's scalar ops, so the linker runs one node (and a C backend one loop).

Which nodes join a group (Theano 1.0's rule, ``local_elemwise_fusion``):

- the group grows from a *root* towards the graph's inputs: the producer ``p`` of one of the
  group's inputs joins when ``p`` is a plain ``Elemwise`` (the exact class, so subclasses
  such as GPU element-wise ops are left to their own fusion; no ``inplace_pattern``), its
  outputs have exactly the root's broadcastable pattern, and *every* client of every output
  of ``p`` is already in the group. So nothing outside the group reads an intermediate value,
  nothing is computed twice, and only the root's outputs leave the group (a root with
  several outputs gives a Composite with several outputs);
- equal broadcastable patterns along producer/consumer edges imply equal run-time shapes
  under Theano's broadcasting rule (only dimensions declared broadcastable may have size 1
  where others are larger), so the fused node computes exactly the shape of the root;
  DimShuffle, reductions and every other op are boundaries;
- a fused node never takes more than ``MAX_FUSED_INPUTS`` (32) distinct inputs, Theano's
  CPU bound (NumPy ufuncs take at most 32 operands, and a C loop's argument list stays
  small). A producer that would push the group past the bound is left out; it then roots
  a group of its own, so long chains split into several fused nodes instead of failing.
  Inner graphs are also capped at ``MAX_FUSED_NODES`` Elemwise nodes, and at
  ``MAX_FUSED_SCALAR_OPS`` scalar operations, counting a node that is already a Composite
  by its inner size (:attr:`Composite.n_scalar_nodes`). The second bound is what keeps a
  long chain from growing, one fusion pass after another, into a single huge Composite:
  its C is one function whose compile time grows faster than its length, and whose
  printing and pickling recurse through the inner graph;
- constants of one element whose dimensions are all broadcastable (what ``x * 2`` becomes)
  are put inside the Composite as scalar constants rather than passed as inputs; they do not
  count towards the bound. A group made only of such constants keeps them as inputs, so the
  fused node still knows its number of dimensions.

Before that, ``local_add_mul_fusion`` flattens ``add(add(a, b), c)`` into ``add(a, b, c)``
(same for ``mul``) when the inner node has no other client and the same output dtype, which
keeps the inner graphs of Composites small (Theano 1.0 does the same).

Both run in optdb step ``elemwise_fusion`` (position 49, tags ``fast_run``, ``fusion``,
``local_elemwise_fusion``, ``FusionOptimizer``), a sequence of ``local_add_mul_fusion`` (0)
and ``composite_elemwise_fusion`` (1), before the destroy handler is added (49.5) and the
inplace rewrites run (75). Fusion must come after every rewrite that pattern-matches
individual Elemwise nodes.

Differences from Theano 1.0, all invisible to user code: Theano refused to fuse nodes with
several outputs (we fuse them as roots, and absorb multi-output producers whose outputs are
all consumed in the group); Theano tested each scalar op for C code and fused only those
(our linkers run Composites through NumPy, so every scalar op fuses); Theano fused one
producer at a time and re-ran, we grow a group in one pass (linear in its size).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from tgraph.scalar.arith import Add, Mul
from tgraph.scalar.composite import Composite
from tgraph.scalar.op import ScalarOp
from tgraph.scalar.type import get_scalar_type
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from topt.engine.base import ensure_replace_validate
from topt.engine.rewriter import (
    GlobalOptimizer,
    call_transform,
    copy_stack_trace,
    local_optimizer,
)
from topt.optdb import optdb

__all__ = [
    "MAX_FUSED_INPUTS",
    "MAX_FUSED_NODES",
    "MAX_FUSED_SCALAR_OPS",
    "FusionOptimizer",
    "elemwise_max_input_fct",
    "fuse_seqopt",
    "local_add_mul_fusion",
    "local_elemwise_fusion",
    "local_elemwise_fusion_op",
]

#: Most distinct inputs a fused node takes (Theano 1.0's CPU bound: NumPy's 32 operands).
MAX_FUSED_INPUTS = 32
#: Most Elemwise nodes fused in one step.
MAX_FUSED_NODES = 256
#: Most scalar operations in one Composite, inner Composites counted by their size.
#: Measured on a chain (gcc 12 -O3, 2 shared cores): gcc alone grows about linearly, 1.0 s
#: for 32 ops, 1.2 s for 128, 1.6 s for 256, 2.6 s for 512, 6.8 s for 2,000 in one
#: function, so gcc does not force the bound. It keeps each generated function short (equal
#: pieces of a repeating chain share one C function) and stops the regrowth pass after
#: pass (each pass copied ever larger inner graphs): a 2,000-op chain now compiles in
#: 11.5 s cold, 8.5 s warm (15.8 s unbounded), most of it in the other rewrites.
MAX_FUSED_SCALAR_OPS = 128


def elemwise_max_input_fct(node: Apply) -> int:
    """The input bound of a fused Elemwise (Theano's name; the same for every node)."""
    return MAX_FUSED_INPUTS


# ---------------------------------------------------------------------------------------------
# Growing a group


def _constant_of(var: Variable) -> Constant | None:
    """The constant behind ``var``, seeing through DimShuffles (which only add size-1
    dimensions to a one-element constant), or None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    return var if isinstance(var, Constant) else None


def _scalar_size(node: Apply) -> int:
    """How many scalar operations ``node`` brings into a Composite."""
    scalar_op = node.op.scalar_op
    return scalar_op.n_scalar_nodes if isinstance(scalar_op, Composite) else 1


def _inlinable(var: Variable) -> bool:
    """A one-element value known at compile time, broadcastable along every dimension: it
    can live inside the Composite as a scalar constant."""
    bcast = getattr(var.type, "broadcastable", None)
    if bcast is None or not all(bcast):
        return False
    const = _constant_of(var)
    return const is not None and np.size(const.data) == 1


def _clients_in(fgraph: FunctionGraph, node: Apply, group: set) -> bool:
    """Whether every client of every output of ``node`` is a node of ``group``."""
    for out in node.outputs:
        for client, _ in fgraph.clients.get(out, ()):
            if isinstance(client, str) or client not in group:
                return False
    return True


class _Group:
    """The nodes fused with one root, and the variables they read from outside."""

    def __init__(self, root: Apply, inline: bool):
        self.root = root
        self.inline = inline
        self.nodes: set[Apply] = {root}
        self.size = _scalar_size(root)
        self.external: set[Variable] = {v for v in root.inputs if not self._free(v)}

    def _free(self, var: Variable) -> bool:
        return self.inline and _inlinable(var)

    def external_after(self, node: Apply) -> set[Variable]:
        """The outside inputs once ``node`` (whose outputs are consumed inside) joins."""
        ext = self.external.difference(node.outputs)
        ext.update(v for v in node.inputs if not self._free(v))
        return ext


def _grow(fgraph: FunctionGraph, root: Apply, accepts: Callable[[Apply], bool],
          max_inputs: int, inline: bool) -> _Group:
    """Absorb producers of the group (breadth first, in input order: deterministic)."""
    group = _Group(root, inline)
    queue = deque(v.owner for v in root.inputs if v.owner is not None)
    while queue and len(group.nodes) < MAX_FUSED_NODES:
        node = queue.popleft()
        if node in group.nodes or not accepts(node):
            continue
        # A producer with a client outside stays out; it is queued again whenever another
        # of its clients joins, and may join then.
        if not _clients_in(fgraph, node, group.nodes):
            continue
        size = group.size + _scalar_size(node)
        if size > MAX_FUSED_SCALAR_OPS:
            continue
        ext = group.external_after(node)
        if len(ext) > max_inputs:
            continue
        group.nodes.add(node)
        group.size = size
        group.external = ext
        queue.extend(v.owner for v in node.inputs
                     if v.owner is not None and v.owner not in group.nodes)
    return group


def _postorder(group: _Group) -> list[Apply]:
    """The group's nodes, producers first (iterative: chains may be long)."""
    order: list[Apply] = []
    done: set[Apply] = set()
    stack: list[tuple[Apply, int]] = [(group.root, 0)]
    while stack:
        node, k = stack.pop()
        if k < len(node.inputs):
            stack.append((node, k + 1))
            owner = node.inputs[k].owner
            if owner is not None and owner in group.nodes and owner not in done:
                done.add(owner)
                stack.append((owner, 0))
        else:
            order.append(node)
    return order


def _scalar_constant(var: Variable) -> Variable:
    value = np.asarray(_constant_of(var).data).reshape(())
    return get_scalar_type(var.type.dtype).make_constant(value)


def _build(group: _Group, maker: Callable[[Apply, Composite], Any]) -> list[Variable] | None:
    """The fused node's outputs for ``group``, or None when the types would differ."""
    order = _postorder(group)
    # Keep at least one input: the fused node's number of dimensions comes from its inputs.
    inline = group.inline and any(
        not _inlinable(v) for n in order for v in n.inputs
        if v.owner is None or v.owner not in group.nodes)
    smap: dict[Variable, Variable] = {}
    s_inputs: list[Variable] = []
    inputs: list[Variable] = []
    for node in order:
        for var in node.inputs:
            if var in smap:
                continue
            if inline and _inlinable(var):
                smap[var] = _scalar_constant(var)
                continue
            svar = get_scalar_type(var.type.dtype).make_variable()
            smap[var] = svar
            s_inputs.append(svar)
            inputs.append(var)
        snode = node.op.scalar_op.make_node(*[smap[v] for v in node.inputs])
        if [o.type.dtype for o in snode.outputs] != [o.type.dtype for o in node.outputs]:
            return None  # a scalar op typing its outputs differently on its own: leave it
        smap.update(zip(node.outputs, snode.outputs))
    composite = Composite(s_inputs, [smap[o] for o in group.root.outputs])
    new_node = maker(group.root, composite).make_node(*inputs)
    if [o.type for o in new_node.outputs] != [o.type for o in group.root.outputs]:
        return None
    return list(new_node.outputs)


# ---------------------------------------------------------------------------------------------
# The local rewrites


def local_elemwise_fusion_op(OP: type = Elemwise,
                             max_input_fct: Callable[[Apply], int] = elemwise_max_input_fct,
                             maker: Callable[[Apply, Composite], Any] | None = None):
    """A local rewrite fusing ``OP`` nodes into ``OP(Composite)`` (Theano 1.0's factory).

    ``OP`` is the exact element-wise class to fuse (a GPU package passes its own),
    ``max_input_fct(node)`` the input bound of a fused node, ``maker(node, composite)`` the
    op to build (default ``OP(composite)``).
    """
    if maker is None:
        def maker(node, scalar_op):
            return OP(scalar_op)

    def accepts_for(root: Apply) -> Callable[[Apply], bool]:
        bcast = root.outputs[0].type.broadcastable

        def accepts(node: Apply) -> bool:
            return _fusable(node, OP) and all(
                o.type.broadcastable == bcast for o in node.outputs)
        return accepts

    @local_optimizer([OP])
    def local_elemwise_fusion(fgraph, node):
        """OP{f}(OP{g}(x, y), z) -> OP{Composite{f(g(i0, i1), i2)}}(x, y, z)

        Safe: intermediates read by nothing outside the group, equal broadcastable patterns
        (hence equal shapes), Composite casts every intermediate to its declared dtype.
        """
        if not _fusable(node, OP):
            return None
        group = _grow(fgraph, node, accepts_for(node), max_input_fct(node), inline=True)
        if len(group.nodes) < 2:
            return None
        new_outputs = _build(group, maker)
        if new_outputs is None:
            return None
        copy_stack_trace(node.outputs, new_outputs)
        return new_outputs

    return local_elemwise_fusion


def _fusable(node: Apply, op_class: type) -> bool:
    op = node.op
    return (type(op) is op_class and not op.inplace_pattern
            and isinstance(op.scalar_op, ScalarOp) and bool(node.outputs))


local_elemwise_fusion = local_elemwise_fusion_op(Elemwise, elemwise_max_input_fct)


@local_optimizer([Elemwise])
def local_add_mul_fusion(fgraph, node):
    """add(add(a, b), c) -> add(a, b, c), and the same for mul

    Only when the inner node has no other client (nothing is computed twice), the same
    scalar op and the same output dtype as the outer one (an int8 inner sum must keep
    wrapping at int8), and the result stays within ``MAX_FUSED_INPUTS`` inputs. The inner
    inputs take the inner node's place, so the evaluation order of the terms is kept.
    """
    op = node.op
    if (type(op) is not Elemwise or op.inplace_pattern
            or not isinstance(op.scalar_op, Add | Mul)):
        return None
    dtype = node.outputs[0].type.dtype
    limit = MAX_FUSED_INPUTS
    fused = False
    out: list[Variable] = []
    todo = list(reversed(node.inputs))
    while todo:
        var = todo.pop()
        inner = var.owner
        if (inner is not None and type(inner.op) is Elemwise and not inner.op.inplace_pattern
                and inner.op.scalar_op == op.scalar_op
                and var.type.dtype == dtype
                and len(fgraph.clients.get(var, ())) == 1
                and len(out) + len(todo) + len(inner.inputs) <= limit):
            todo.extend(reversed(inner.inputs))
            fused = True
        else:
            out.append(var)
    if not fused:
        return None
    new = op.make_node(*out).outputs[0]
    if new.type != node.outputs[0].type:
        return None
    copy_stack_trace(node.outputs[0], new)
    return [new]


# ---------------------------------------------------------------------------------------------
# The global driver


class FusionOptimizer(GlobalOptimizer):
    """Applies a fusion rewrite to every node, outputs first, until nothing changes.

    Going from the outputs up lets each root take the largest group; a replacement is
    validated (``replace_all_validate``) so attached features can refuse it. Each
    replacement removes at least one node, so the loop ends.
    """

    def __init__(self, local_optimizer):
        super().__init__()
        self.optimizer = local_optimizer

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        ensure_replace_validate(fgraph)
        self.optimizer.add_requirements(fgraph)

    def apply(self, fgraph: FunctionGraph):
        nb_iter = nb_replacement = nb_inconsistent = 0
        did_something = True
        while did_something:
            did_something = False
            nb_iter += 1
            for node in reversed(fgraph.toposort()):
                if node not in fgraph.apply_nodes:
                    continue  # fused into a node met earlier
                new_outputs = call_transform(self.optimizer, fgraph, node)
                if not new_outputs:
                    continue
                try:
                    fgraph.replace_all_validate(list(zip(node.outputs, new_outputs)),
                                                reason=str(self))
                except InconsistencyError:
                    nb_inconsistent += 1
                    continue
                did_something = True
                nb_replacement += 1
        return {"optimizer": str(self), "nb_iter": nb_iter, "nb_replacement": nb_replacement,
                "nb_inconsistency_replace": nb_inconsistent}

    def __str__(self) -> str:
        name = getattr(self.optimizer, "__name__", None) or str(self.optimizer)
        return f"FusionOptimizer({name})"

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        print(f"{' ' * level}{self}", file=stream)


#: The 'elemwise_fusion' step of optdb (position 49): flatten add/mul trees, then fuse.
fuse_seqopt = optdb["elemwise_fusion"]
optdb.add_tags("elemwise_fusion", "local_elemwise_fusion", "FusionOptimizer")
fuse_seqopt.register("local_add_mul_fusion", FusionOptimizer(local_add_mul_fusion), 0,
                     "fast_run", "fusion")
fuse_seqopt.register("composite_elemwise_fusion", FusionOptimizer(local_elemwise_fusion), 1,
                     "fast_run", "fusion")

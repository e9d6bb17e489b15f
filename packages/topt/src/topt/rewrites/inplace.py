"""In-place rewrites: let element-wise and increment ops write into an input's memory.

An op that overwrites an input saves an allocation and a pass over memory, but it is only
correct when nothing reads the old value afterwards. These rewrites run late (optdb 60 and
75, tags ``fast_run`` and ``inplace``), after fusion, once the graph no longer changes shape,
and every change goes through ``fgraph.replace_all_validate``: the
:class:`~topt.features.destroyhandler.DestroyHandler` (attached by the optimizers' own
``add_requirements``, and by optdb's ``add_destroy_handler`` step at 49.5) refuses a graph in
which a destroyed value is still needed by a node that cannot run before the destroyer, a
value destroyed twice, a constant destroyed, or a destroyed output; tlink's ``Supervisor``
refuses a destroyed input the caller did not declare mutable. A refused change is reverted
and the rewrite moves on.

- ``inplace_elemwise_optimizer`` (optdb ``inplace_elemwise_opt``, 75; Theano 1.0's
  ``InplaceElemwiseOptimizer``): for each Elemwise node in topological order and each of its
  outputs, the first input that may be overwritten becomes the output's buffer
  (``inplace_pattern={out: in}``). An input qualifies when it has exactly the output's type
  (dtype *and* broadcastable pattern: a broadcast input is smaller than the output), is not a
  constant, is not already destroyed, is not a protected input or an output of the graph,
  and is not passed twice to the node. For an output that updates a shared variable, the
  variable's own input is tried first, then values computed in place from it, so
  ``w - lr * g`` overwrites ``w``.
- ``local_inplace_setsubtensor`` (IncSubtensor), ``local_inplace_incsubtensor1``
  (AdvancedIncSubtensor1) and ``local_inplace_AdvancedIncSubtensor`` (AdvancedIncSubtensor
  and AdvancedBooleanIncSubtensor), optdb 60: the same op with ``inplace=True``.

Theano 1.0 differences: the in-place Elemwise keeps its scalar op (Theano swapped in a copy
typed by ``transfer_type``, which only mattered to its C code and made ``scalar_op ==
scalar.add`` false afterwards); validation in big graphs is batched as in Theano (every 10
changes past 500 nodes), but a batch that fails is replayed change by change instead of
being dropped; ``local_inplace_AdvancedIncSubtensor`` is PyTensor's addition.
"""

from __future__ import annotations

from tgraph.graph.basic import Apply, Constant, Variable, io_toposort
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from tgraph.tensor.advanced_subtensor import AdvancedIncSubtensor1, BaseAdvancedIncSubtensor
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.subtensor import IncSubtensor
from topt.engine.base import ensure_replace_validate
from topt.engine.rewriter import (
    GlobalOptimizer,
    TopoOptimizer,
    add_destroy_handler,
    copy_stack_trace,
    local_optimizer,
)
from topt.optdb import register_inplace

__all__ = [
    "InplaceElemwiseOptimizer",
    "inplace_elemwise_optimizer",
    "local_inplace_AdvancedIncSubtensor",
    "local_inplace_incsubtensor1",
    "local_inplace_setsubtensor",
]

# Past this many nodes, validate every _BATCH changes rather than after each (Theano 1.0's
# tensor.insert_inplace_optimizer_validate_nb = -1 rule): validation walks the whole graph.
_BIG_GRAPH = 500
_BATCH = 10
# Nodes visited at most when looking for a reader that must run after a destroyer.
_SEARCH_LIMIT = 256


def _protected(fgraph: FunctionGraph) -> set[Variable]:
    """Inputs a feature (tlink's Supervisor) protects, and the graph's outputs."""
    protected: set[Variable] = set(fgraph.outputs)
    for feature in getattr(fgraph, "_features", ()):
        protected.update(getattr(feature, "protected", ()) or ())
    return protected


def _destroyed_from(var: Variable) -> Variable:
    """Follow a chain of in-place ops back to the variable whose memory ``var`` reuses."""
    while var.owner is not None:
        node = var.owner
        targets = (getattr(node.op, "destroy_map", None) or {}).get(var.index)
        if not targets:
            break
        var = node.inputs[targets[0]]
    return var


class InplaceElemwiseOptimizer(GlobalOptimizer):
    """Makes Elemwise nodes of class ``OP`` overwrite one input per output where safe.

    Greedy, in topological order: for each output without a buffer yet, the first input
    that qualifies (see the module docstring) and that the destroy handler accepts is taken.
    """

    def __init__(self, OP: type = Elemwise):
        super().__init__()
        self.op = OP

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        ensure_replace_validate(fgraph)
        add_destroy_handler(fgraph)

    def __str__(self) -> str:
        return f"InplaceElemwiseOptimizer({self.op.__name__})"

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        print(f"{' ' * level}{self}", file=stream)

    # -- choosing ---------------------------------------------------------------------------
    def _candidate_inputs(self, fgraph: FunctionGraph, node: Apply,
                          protected: set[Variable]) -> list[int]:
        taken = set(node.op.inplace_pattern.values())
        has_destroyers = getattr(fgraph, "has_destroyers", None)
        out = []
        for i, var in enumerate(node.inputs):
            if (i in taken or isinstance(var, Constant) or var in protected
                    or node.inputs.count(var) > 1
                    or (has_destroyers is not None and has_destroyers([var]))):
                continue
            out.append(i)
        return out

    def _ordered(self, fgraph: FunctionGraph, node: Apply, out_var: Variable,
                 candidates: list[int]) -> list[int]:
        """Candidates, those that update ``out_var``'s shared variable first."""
        mapping = fgraph.update_mapping or {}
        updated = {fgraph.inputs[mapping[k]] for k, o in enumerate(fgraph.outputs)
                   if o is out_var and k in mapping}
        if not updated:
            return candidates
        first = [i for i in candidates if node.inputs[i] in updated]
        second = [i for i in candidates if i not in first
                  and _destroyed_from(node.inputs[i]) in updated]
        rest = [i for i in candidates if i not in first and i not in second]
        return first + second + rest

    # -- changing ---------------------------------------------------------------------------
    def _try_node(self, run: _Run, node: Apply, strict: bool) -> int:
        """Make ``node`` in place on as many outputs as accepted; the number of changes.

        A change whose safety is not evident (see :func:`_sole_use`) is validated at once
        when ``strict``, else left for the next :meth:`_settle`.
        """
        fgraph = run.fgraph
        if run.big and node.outputs[0].type.ndim == 0:
            return 0  # a big graph: scalars are not worth a validation (Theano 1.0's rule)
        changes = 0
        pattern = dict(node.op.inplace_pattern)
        candidates = self._candidate_inputs(fgraph, node, run.protected)
        for out_idx, out_var in enumerate(node.outputs):
            if out_idx in pattern:
                continue
            for in_idx in self._ordered(fgraph, node, out_var, candidates):
                if node.inputs[in_idx].type != out_var.type:
                    continue
                trial = dict(pattern)
                trial[out_idx] = in_idx
                evident = _sole_use(fgraph, node, in_idx)
                if not evident and _read_after(fgraph, node, in_idx):
                    continue  # a later node reads the old value: refused for sure
                new_node = self._replace(fgraph, node, trial, strict and not evident)
                if new_node is None:
                    continue
                if not evident and not strict:
                    run.unvalidated += 1
                candidates.remove(in_idx)
                pattern = trial
                node = new_node
                out_var = node.outputs[out_idx]
                changes += 1
                break
        return changes

    def _replace(self, fgraph: FunctionGraph, node: Apply, pattern: dict[int, int],
                 validate: bool) -> Apply | None:
        try:
            new_op = self.op(node.op.scalar_op, pattern, openmp=node.op.openmp)
            new_node = new_op.make_node(*node.inputs)
        except (TypeError, ValueError):
            return None
        if [o.type for o in new_node.outputs] != [o.type for o in node.outputs]:
            return None
        copy_stack_trace(node.outputs, new_node.outputs)
        pairs = list(zip(node.outputs, new_node.outputs))
        reason = "inplace_elemwise_optimizer"
        if validate:
            try:
                fgraph.replace_all_validate(pairs, reason=reason)
            except (InconsistencyError, TypeError, ValueError):
                return None  # replace_all_validate has reverted
            return new_node
        chk = fgraph.checkpoint()
        try:
            fgraph.replace_all(pairs, reason=reason)
        except (InconsistencyError, TypeError, ValueError):
            fgraph.revert(chk)
            return None
        return new_node

    def apply(self, fgraph: FunctionGraph) -> dict:
        nodes = [n for n in io_toposort(fgraph.inputs, fgraph.outputs)
                 if type(n.op) is self.op]
        run = _Run(fgraph, _protected(fgraph), len(fgraph.apply_nodes) > _BIG_GRAPH)
        step = max(_BATCH, len(nodes) // 200) if run.big else 1
        for node in nodes:
            if node not in fgraph.apply_nodes:
                continue
            if self._try_node(run, node, strict=step == 1):
                run.touched.append(node)
            if run.unvalidated >= step:
                self._settle(run)
        if run.touched:
            self._settle(run)
        return run.stats()

    def _settle(self, run: _Run) -> None:
        """Validate the changes made since the last checkpoint; when refused, undo them and
        redo the same nodes in halves, down to single validated changes (bisection: a
        refused batch costs a few validations, not one per change)."""
        fgraph = run.fgraph
        try:
            fgraph.validate()
        except InconsistencyError:
            fgraph.revert(run.chk)
            run.replayed += 1
            self._redo(run, run.touched)
        run.checkpoint()

    def _redo(self, run: _Run, nodes: list[Apply]) -> None:
        fgraph = run.fgraph
        if len(nodes) == 1:
            if nodes[0] in fgraph.apply_nodes:
                self._try_node(run, nodes[0], strict=True)
            return
        mid = len(nodes) // 2
        for half in (nodes[:mid], nodes[mid:]):
            chk = fgraph.checkpoint()
            for node in half:
                if node in fgraph.apply_nodes:
                    self._try_node(run, node, strict=False)
            try:
                fgraph.validate()
            except InconsistencyError:
                fgraph.revert(chk)
                self._redo(run, half)


class _Run:
    """The state of one :meth:`InplaceElemwiseOptimizer.apply`."""

    def __init__(self, fgraph: FunctionGraph, protected: set[Variable], big: bool):
        self.fgraph = fgraph
        self.protected = protected
        self.big = big
        self.node_before = len(fgraph.apply_nodes)
        self.replayed = 0
        self.checkpoint()

    def checkpoint(self) -> None:
        self.chk = self.fgraph.checkpoint()
        self.touched: list[Apply] = []
        self.unvalidated = 0

    def stats(self) -> dict:
        inplace = sum(len(n.op.inplace_pattern) for n in self.fgraph.apply_nodes
                      if isinstance(n.op, Elemwise))
        return {"node_before": self.node_before, "nb_inplace_outputs": inplace,
                "nb_batches_replayed": self.replayed}


def _sole_use(fgraph: FunctionGraph, node: Apply, i: int) -> bool:
    """Whether overwriting input ``i`` of ``node`` is evidently safe, with no validation.

    It is when the input is computed inside the graph as a buffer of its own (not a view)
    and ``node`` is its only reader: nothing else can see the overwritten value, nothing
    views it, and no protected input or output is involved.
    """
    var = node.inputs[i]
    owner = var.owner
    if owner is None or fgraph.clients.get(var) != [(node, i)]:
        return False
    return not (getattr(owner.op, "view_map", None) or {}).get(var.index)


def _read_after(fgraph: FunctionGraph, node: Apply, i: int) -> bool:
    """Whether another reader of input ``i`` of ``node`` (directly or through views) surely
    runs after ``node``: it depends on ``node``'s outputs. Then overwriting that input would
    hand it the new value, and the destroy handler would refuse. A bounded search: False
    means "not found", and validation decides."""
    var = node.inputs[i]
    readers: set[Apply] = set()
    todo = [var]
    while todo and len(readers) < _SEARCH_LIMIT:
        v = todo.pop()
        for client, _ in fgraph.clients.get(v, ()):
            if isinstance(client, str) or client is node or client in readers:
                continue
            readers.add(client)
            for o_idx, in_list in (getattr(client.op, "view_map", None) or {}).items():
                if any(client.inputs[k] is v for k in in_list):
                    todo.append(client.outputs[o_idx])
    if not readers:
        return False
    seen: set[Apply] = set()
    frontier = list(node.outputs)
    while frontier and len(seen) < _SEARCH_LIMIT:
        v = frontier.pop()
        for client, _ in fgraph.clients.get(v, ()):
            if isinstance(client, str) or client in seen:
                continue
            if client in readers:
                return True
            seen.add(client)
            frontier.extend(client.outputs)
    return False



inplace_elemwise_optimizer = InplaceElemwiseOptimizer(Elemwise)
register_inplace(inplace_elemwise_optimizer, 75, "inplace_elemwise_optimizer",
                 name="inplace_elemwise_opt")


# ---------------------------------------------------------------------------------------------
# Increments and sets of subtensors


def _inplace_clone(node: Apply, new_op) -> list[Variable] | None:
    if isinstance(node.inputs[0], Constant):
        return None  # a constant is never overwritten: do not even ask the destroy handler
    new_out = new_op.make_node(*node.inputs).outputs[0]
    check = getattr(node.outputs[0].tag, "nan_guard_mode_check", None)
    if check is not None:
        new_out.tag.nan_guard_mode_check = check
    copy_stack_trace(node.outputs, new_out)
    return [new_out]


@local_optimizer([IncSubtensor], inplace=True)
def local_inplace_setsubtensor(fgraph, node):
    """IncSubtensor{inplace=False}(x, y, ...) -> IncSubtensor{inplace=True}(x, y, ...)

    Safe once the destroy handler accepts that x is not read after the increment.
    """
    op = node.op
    if not isinstance(op, IncSubtensor) or op.inplace:
        return None
    new_op = type(op)(op.idx_list, inplace=True, set_instead_of_inc=op.set_instead_of_inc,
                      destroyhandler_tolerate_aliased=op.destroyhandler_tolerate_aliased)
    return _inplace_clone(node, new_op)


@local_optimizer([AdvancedIncSubtensor1], inplace=True)
def local_inplace_incsubtensor1(fgraph, node):
    """AdvancedIncSubtensor1{no_inplace}(x, y, i) -> AdvancedIncSubtensor1{inplace}(x, y, i)

    Safe once the destroy handler accepts that x is not read after the increment.
    """
    op = node.op
    if not isinstance(op, AdvancedIncSubtensor1) or op.inplace:
        return None
    return _inplace_clone(node, op.clone_inplace())


@local_optimizer([BaseAdvancedIncSubtensor], inplace=True)
def local_inplace_AdvancedIncSubtensor(fgraph, node):
    """AdvancedIncSubtensor{inplace=False}(x, y, *idx) -> AdvancedIncSubtensor{inplace=True}

    Also for AdvancedBooleanIncSubtensor. Safe once the destroy handler accepts that x is not
    read after the increment.
    """
    op = node.op
    if not isinstance(op, BaseAdvancedIncSubtensor) or op.inplace:
        return None
    return _inplace_clone(node, type(op)(inplace=True, set_instead_of_inc=op.set_instead_of_inc))


for _lopt in (local_inplace_setsubtensor, local_inplace_incsubtensor1,
              local_inplace_AdvancedIncSubtensor):
    register_inplace(TopoOptimizer(_lopt, failure_callback=TopoOptimizer.warn_inplace), 60,
                     name=_lopt.__name__)

"""Copy the user's graph for compilation: apply givens, collect shared variables and updates.

``function`` never edits the user's graph. It copies everything between the inputs and
the outputs (and update expressions), substituting the ``givens`` on the way, and notes
each shared variable met: it becomes an implicit input whose storage is the shared
variable's container, and its ``default_update`` (unless ``no_default_updates`` says
otherwise) becomes an update. This is Theano 1.0's ``rebuild_collect_shared``.

The walk is iterative, so graphs deeper than Python's recursion limit are fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tgraph.graph.basic import Variable
from tgraph.shared import SharedVariable, shared
from tgraph.tensor.type import TensorType
from tlink.compile.io import SymbolicOutput

__all__ = ["iter_over_pairs", "rebuild_collect_shared", "update_type_error"]


def iter_over_pairs(pairs: Any) -> Iterable[tuple]:
    """The (key, value) pairs of a dict, or the items of a sequence of pairs."""
    if isinstance(pairs, dict):
        return list(pairs.items())
    return list(pairs)


def update_type_error(shared_var: Variable, update: Any) -> TypeError:
    """The error for an update whose type differs from its shared variable's."""
    utype = getattr(update, "type", None)
    msg = (
        f"an update must have the same type as the shared variable it updates: "
        f"{shared_var} has type {shared_var.type} but its update {update} has type "
        f"{utype if utype is not None else type(update).__name__}."
    )
    st = shared_var.type
    if isinstance(st, TensorType) and isinstance(utype, TensorType):
        if st.dtype == utype.dtype and st.ndim == utype.ndim:
            msg += (
                " Only the broadcastable pattern (which dimensions are known to have size 1) "
                "differs: use tensor.unbroadcast(update, *axes) to forget size-1 dimensions, "
                f"or tensor.patternbroadcast(update, {st.broadcastable}) to state them."
            )
        elif st.ndim == utype.ndim:
            msg += f" Cast the update to the shared variable's dtype: update.astype('{st.dtype}')."
        else:
            msg += (f" The numbers of dimensions differ ({st.ndim} and {utype.ndim}); the "
                    "update must have the shape of the shared value.")
    return TypeError(msg)


class _Rebuilder:
    """The state of one rebuild: clones made so far, shared inputs and updates found."""

    def __init__(self, rebuild_strict: bool, copy_inputs_over: bool,
                 no_default_updates: bool | Sequence[Variable]):
        self.rebuild_strict = rebuild_strict
        self.copy_inputs_over = copy_inputs_over
        self.no_default_updates = no_default_updates
        self.clone_d: dict = {}
        self.update_d: dict = {}
        self.update_expr: list[tuple] = []
        self.shared_inputs: list[Variable] = []

    def _wants_default_update(self, var: Variable) -> bool:
        nd = self.no_default_updates
        if nd is True:
            return False
        if nd is False:
            return True
        return all(var is not v for v in nd)

    def _leaf(self, var: Variable) -> Variable:
        """Clone (or keep) an ownerless variable, noting shared variables and their updates."""
        if isinstance(var, SharedVariable):
            if var not in self.shared_inputs:
                self.shared_inputs.append(var)
            if (hasattr(var, "default_update") and self._wants_default_update(var)
                    and var not in self.update_d):
                try:
                    upd = var.type.filter_variable(var.default_update, allow_convert=False)
                except TypeError:
                    raise update_type_error(var, var.default_update) from None
                self.update_d[var] = upd
                self.update_expr.append((var, upd))
        if self.copy_inputs_over:
            return self.clone_d.setdefault(var, var)
        return self.clone_d.setdefault(var, var.clone())

    def clone(self, root: Variable) -> Variable:
        """The copy of ``root``, copying whatever it depends on that is not copied yet."""
        clone_d = self.clone_d
        if root in clone_d:
            return clone_d[root]
        stack: list[tuple[Variable, bool]] = [(root, False)]
        while stack:
            var, expanded = stack.pop()
            if var in clone_d:
                continue
            owner = var.owner
            if owner is None:
                self._leaf(var)
                continue
            if owner in clone_d:
                clone_d.setdefault(var, var)
                continue
            if not expanded:
                stack.append((var, True))
                stack.extend((i, False) for i in reversed(owner.inputs) if i not in clone_d)
                continue
            new_node = owner.clone_with_new_inputs([clone_d[i] for i in owner.inputs],
                                                   strict=self.rebuild_strict)
            clone_d[owner] = new_node
            for old, new in zip(owner.outputs, new_node.outputs):
                clone_d.setdefault(old, new)
        return clone_d[root]


def _check_given(v_orig: Any, v_repl: Any, strict: bool) -> Variable:
    if not isinstance(v_orig, Variable):
        raise TypeError(
            f"givens: keys must be Variables, got {type(v_orig).__name__}: {v_orig!r}"
        )
    if not isinstance(v_repl, Variable):
        v_repl = shared(v_repl)
    if strict and v_orig.type != v_repl.type:
        try:
            v_repl = v_orig.type.filter_variable(v_repl)
        except TypeError:
            raise TypeError(
                f"givens: cannot replace {v_orig} (type {v_orig.type}) by {v_repl} (type "
                f"{v_repl.type}): a replacement must have the same type (dtype, number of "
                "dimensions and broadcastable pattern). Cast or reshape the replacement, or "
                "pass rebuild_strict=False to let the graph change types."
            ) from None
    return v_repl


def rebuild_collect_shared(outputs: Any, inputs: Sequence[Variable] | None = None,
                           replace: Any = None, updates: Any = None,
                           rebuild_strict: bool = True, copy_inputs_over: bool = True,
                           no_default_updates: bool | Sequence[Variable] = False):
    """Copy the graph of ``outputs`` with ``replace`` applied; collect shared variables.

    Returns ``(input_variables, cloned_outputs, [clone_d, update_d, update_expr,
    shared_inputs])`` as Theano 1.0: ``cloned_outputs`` has the shape of ``outputs`` (a
    Variable, an Out, a list of them, or [] for None); ``update_expr`` lists
    ``(shared_variable, cloned_update)`` pairs, explicit updates first, then default updates
    in the order their shared variables were met; ``shared_inputs`` lists the shared
    variables the outputs or updates need (or that are updated).
    """
    if isinstance(outputs, tuple):
        outputs = list(outputs)
    rb = _Rebuilder(rebuild_strict, copy_inputs_over, no_default_updates)

    # Explicit updates are noted first, so that a default update never shadows them.
    explicit: list[tuple] = []
    for store_into, update_val in iter_over_pairs(updates or []):
        if not isinstance(store_into, SharedVariable):
            raise TypeError(
                f"updates: the target of an update must be a shared variable, got "
                f"{store_into!r} ({type(store_into).__name__})"
            )
        if store_into in rb.update_d:
            raise ValueError(
                f"updates: shared variable {store_into} is given two update expressions"
            )
        try:
            update_val = store_into.type.filter_variable(update_val, allow_convert=False)
        except TypeError:
            raise update_type_error(store_into, update_val) from None
        rb.update_d[store_into] = update_val
        explicit.append((store_into, update_val))
    rb.update_expr.extend(explicit)

    for v_orig, v_repl in iter_over_pairs(replace or []):
        v_repl = _check_given(v_orig, v_repl, rebuild_strict)
        if v_orig in rb.clone_d:
            raise ValueError(
                "givens: a replacement may not depend on a variable that is itself replaced "
                f"(e.g. givens={{a: b, b: a + 1}}); {v_orig} is used to compute another "
                f"replacement but is scheduled to be replaced by {v_repl}"
            )
        rb.clone_d[v_orig] = rb.clone(v_repl)

    input_variables = []
    for var in inputs or []:
        if copy_inputs_over:
            input_variables.append(rb.clone_d.setdefault(var, var))
        else:
            input_variables.append(rb.clone_d.setdefault(var, var.clone()))
    for var in input_variables:
        if isinstance(var, SharedVariable):
            raise TypeError(
                f"shared variable {var} cannot be an explicit input of a function: its value "
                "comes from its container. To compute with another value, use "
                f"givens={{{var}: other_variable}}"
            )

    def clone_out(v):
        if isinstance(v, SymbolicOutput):
            return SymbolicOutput(rb.clone(v.variable), borrow=v.borrow)
        if isinstance(v, Variable):
            return rb.clone(v)
        raise TypeError(
            f"outputs must be Variables or Out instances, got {type(v).__name__}: {v!r}"
        )

    if isinstance(outputs, list):
        cloned_outputs: Any = [clone_out(v) for v in outputs]
    elif outputs is None:
        cloned_outputs = []
    else:
        cloned_outputs = clone_out(outputs)

    i = 0
    while i < len(rb.update_expr):
        var, upd = rb.update_expr[i]
        rb.update_d[var] = rb.clone(upd)
        if var not in rb.shared_inputs:
            rb.shared_inputs.append(var)
        i += 1
    return (input_variables, cloned_outputs,
            [rb.clone_d, rb.update_d, rb.update_expr, rb.shared_inputs])

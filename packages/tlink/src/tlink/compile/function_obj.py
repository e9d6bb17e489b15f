"""Function: the callable that ``theano.function`` returns.

It owns the storage of one compiled program: a Container per input (a shared variable's
container for shared inputs), a read-only Container per output, and the linked VM. A call
checks and converts every argument first (a wrong one is reported with the function's name,
the input's position and name, what was expected and what came), runs the VM, reads the
outputs, writes the updates into their shared containers (all updates are computed from
the values before the call), and puts default values back.
"""

from __future__ import annotations

import copy as _copy
import time
from collections.abc import Sequence
from typing import Any

from tgraph.graph.basic import Variable, clone_get_equiv
from tgraph.graph.fg import FunctionGraph
from tgraph.shared import Container, SharedVariable
from tlink.compile.inputcheck import bad_input_message, function_label
from tlink.compile.io import SymbolicOutput
from tlink.errors import BadInputError
from tlink.profiling import make_profile

__all__ = ["Function"]


class _Duplicate:
    """Marks a name shared by several inputs (keyword access to it is ambiguous)."""

    def __repr__(self) -> str:
        return "DUPLICATE"


DUPLICATE = _Duplicate()


class _ValueAccess:
    """``fn.value[key]``: the current value of an input (by index, variable or name)."""

    def __init__(self, fn: Function):
        self._fn = fn

    def __getitem__(self, key):
        return self._fn._find(key).value

    def __setitem__(self, key, value):
        fn = self._fn
        k = fn._position(key)
        fn.input_storage[k].storage[0] = fn._filter(k, value)

    def __contains__(self, key) -> bool:
        return self._fn._has(key)


class _ContainerAccess:
    """``fn.container[key]``: the Container of an input (it cannot be replaced)."""

    def __init__(self, fn: Function):
        self._fn = fn

    def __getitem__(self, key):
        return self._fn._find(key)

    def __contains__(self, key) -> bool:
        return self._fn._has(key)


class Function:
    """A compiled function (Theano 1.0's ``theano.compile.function_module.Function``).

    Attributes: ``maker`` (the FunctionMaker: ``maker.fgraph``, ``maker.inputs``,
    ``maker.outputs``, ``maker.mode``), ``input_storage``/``output_storage`` (Containers),
    ``fn`` (the VM), ``name``, ``profile``, ``trust_input`` (when True, positional
    arguments go to the storage unchecked: faster, but a wrong value fails inside an Op).
    """

    _cplan = None  # the compiled call path's precomputed plan (tlink.compile._call)

    def __init__(self, fn, input_storage: list, output_storage: list, indices, outputs,
                 defaults, unpack_single: bool, return_none: bool, output_keys, maker,
                 name: str | None = None):
        self.fn = fn
        self.input_storage = input_storage
        self.output_storage = output_storage
        self.indices = indices
        self.outputs = outputs
        self.defaults = defaults
        self.unpack_single = unpack_single
        self.return_none = return_none
        self.output_keys = output_keys
        self.maker = maker
        self.name = name
        self.profile = None
        self.trust_input = False
        self.nodes_with_inner_function: list = []
        specs = maker.inputs
        self._specs = specs
        self._check_for_aliased_inputs = any(
            not getattr(s, "shared", False) and (s.borrow or s.mutable) for s in specs
            if hasattr(s, "borrow"))
        self._explicit = [k for k, s in enumerate(specs) if not s.implicit]
        self._required = [defaults[k][0] for k in range(len(specs))]
        self._update_positions = [k for k, s in enumerate(specs) if s.update is not None]
        self.n_returned_outputs = len(output_storage) - len(self._update_positions)
        self.finder: dict = {}
        self.inv_finder: dict = {}
        for k, (spec, cont, (_required, _refeed, value)) in enumerate(
                zip(specs, input_storage, defaults)):
            cont.strict = spec.strict
            cont.allow_downcast = spec.allow_downcast
            if value is not None and not isinstance(value, Container):
                cont.storage[0] = self._filter(k, value, default=True)
                self.defaults[k] = (defaults[k][0], defaults[k][1], cont.storage[0])
            self.finder[k] = cont
            self.finder[spec.variable] = cont
            if spec.name is not None:
                self.finder[spec.name] = DUPLICATE if spec.name in self.finder else cont
            self.inv_finder[cont] = spec
        self._value = _ValueAccess(self)
        self._container = _ContainerAccess(self)
        # Cells the call path touches, precomputed so that a call does little bookkeeping.
        self._explicit_cells = [input_storage[k].storage for k in self._explicit]
        self._required_cells = [c.storage for k, c in enumerate(input_storage)
                                if self._required[k]]
        self._refeed = [(input_storage[k].storage, value)
                        for k, (_req, refeed, value) in enumerate(self.defaults) if refeed]
        self._output_cells = [c.storage for c in output_storage]
        self._gc_outputs = bool(getattr(fn, "allow_gc", False))
        self._computed_output_cells = [
            c.storage for c, var in zip(output_storage, maker.fgraph.outputs)
            if var.owner is not None]

    # -- lookups ----------------------------------------------------------------------------
    value = property(lambda self: self._value, doc="Dict-like access to input values.")
    container = property(lambda self: self._container,
                         doc="Dict-like access to input Containers.")

    def _has(self, key) -> bool:
        try:
            return key in self.finder
        except TypeError:
            return False

    def _find(self, key):
        try:
            found = self.finder[key]
        except (KeyError, TypeError):
            raise TypeError(f"unknown input or state: {key!r}. {self._inputs_info()}") from None
        if found is DUPLICATE:
            raise TypeError(
                f"ambiguous input name {key!r}: several inputs of this function have it"
            )
        return found

    def _position(self, key) -> int:
        cont = self._find(key)
        return self.input_storage.index(cont)

    def _input_label(self, k: int) -> str:
        spec = self._specs[k]
        return spec.name or str(spec.variable)

    def _inputs_info(self) -> str:
        names = [s.name for s in self._specs if s.name is not None and not s.implicit]
        unnamed = sum(1 for s in self._specs if s.name is None and not s.implicit)
        text = f"Named inputs: {', '.join(names) if names else 'none'}"
        if unnamed:
            text += (f"; {unnamed} unnamed input(s) (give the variable a name to pass it by "
                     "keyword)")
        return text + "."

    def __contains__(self, key) -> bool:
        return self._has(key)

    def __getitem__(self, key):
        return self.value[key]

    def __setitem__(self, key, value) -> None:
        self.value[key] = value

    # -- converting arguments ---------------------------------------------------------------
    def _filter(self, k: int, value: Any, default: bool = False) -> Any:
        spec = self._specs[k]
        vtype = self.input_storage[k].type
        try:
            return vtype.filter(value, strict=spec.strict, allow_downcast=spec.allow_downcast)
        except (TypeError, ValueError) as exc:
            msg = bad_input_message(self.name, k, self._input_label(k), vtype, value, exc,
                                    spec.strict, default=default)
            raise BadInputError(msg) from None

    def _set_arguments(self, args: Sequence, kwargs: dict) -> None:
        """Check and store every argument, or raise before anything runs."""
        explicit = self._explicit
        if not kwargs and len(args) == len(explicit):
            # The common call: every explicit input, positionally.
            values = [self._filter(k, arg) for k, arg in zip(explicit, args)]
            for cell, value in zip(self._explicit_cells, values):
                cell[0] = value
            if self._check_for_aliased_inputs and len(values) > 1:
                self._break_input_aliases(explicit)
            return
        label = function_label(self.name)
        n_req = sum(1 for k in explicit if self._required[k])
        takes = (f"{len(explicit)} input{'s' if len(explicit) != 1 else ''}"
                 if n_req == len(explicit) else f"{n_req} to {len(explicit)} inputs")
        if len(args) > len(explicit):
            raise TypeError(f"{label} takes {takes}, got {len(args)}")
        given: dict[int, Any] = {}
        for k, arg in zip(explicit, args):
            given[k] = arg
        for key, arg in kwargs.items():
            try:
                cont = self.finder[key]
            except (KeyError, TypeError):
                raise TypeError(
                    f"{label} got an unexpected keyword argument {key!r}. {self._inputs_info()}"
                ) from None
            if cont is DUPLICATE:
                raise TypeError(f"{label}: keyword {key!r} is ambiguous (several inputs have it)")
            k = self.input_storage.index(cont)
            if self._specs[k].implicit:
                raise TypeError(
                    f"{label}: input {key!r} is implicit (a shared variable or "
                    "In(implicit=True)); it cannot be given a value in a call"
                )
            if k in given:
                raise TypeError(f"{label} got multiple values for input {key!r}")
            given[k] = arg
        missing = [self._input_label(k) for k in explicit if self._required[k] and k not in given]
        if missing:
            raise TypeError(f"{label} takes {takes}, got {len(given)}: missing "
                            f"{', '.join(missing)}")
        values = {k: self._filter(k, arg) for k, arg in given.items()}
        for k, value in values.items():
            self.input_storage[k].storage[0] = value
        if self._check_for_aliased_inputs and len(values) > 1:
            self._break_input_aliases(list(values))

    def _break_input_aliases(self, positions: list[int]) -> None:
        """Copy arguments that share memory with an earlier one (they may be overwritten)."""
        groups: list[list[int]] = []
        for k in positions:
            val = self.input_storage[k].storage[0]
            vtype = self.input_storage[k].type
            for group in groups:
                if any(self.input_storage[g].type == vtype
                       and vtype.may_share_memory(self.input_storage[g].storage[0], val)
                       for g in group):
                    group.append(k)
                    break
            else:
                groups.append([k])
        for group in groups:
            for k in group[1:]:
                self.input_storage[k].storage[0] = _copy.copy(self.input_storage[k].storage[0])

    def _restore_defaults(self) -> None:
        for cell, value in self._refeed:
            cell[0] = value

    # -- calling ----------------------------------------------------------------------------
    def __call__(self, *args: Any, **kwargs: Any):
        profile = self.profile
        t0 = time.perf_counter()
        output_subset = kwargs.pop("output_subset", None)
        if output_subset is not None:
            output_subset = self._subset_indices(output_subset)
        if self.trust_input and not kwargs:
            for cell, arg in zip(self._explicit_cells, args):
                cell[0] = arg
        else:
            try:
                self._set_arguments(args, kwargs)
            except Exception:
                self._restore_defaults()
                raise
        t_fn = time.perf_counter()
        try:
            if output_subset is None:
                self.fn()
            else:
                self.fn(output_subset=output_subset)
        except Exception:
            self._restore_defaults()
            raise
        dt_fn = time.perf_counter() - t_fn
        outputs = [cell[0] for cell in self._output_cells]
        for cell in self._required_cells:
            cell[0] = None
        if self._gc_outputs:
            for cell in self._computed_output_cells:
                cell[0] = None
        if getattr(self.fn, "need_update_inputs", True):
            for k in reversed(self._update_positions):
                self.input_storage[k].data = outputs.pop()
        else:
            outputs = outputs[:self.n_returned_outputs]
        self._restore_defaults()
        self.maker.mode.fn_time += dt_fn
        dt_call = time.perf_counter() - t0
        self.maker.mode.call_time += dt_call
        if profile:
            profile.fct_callcount += 1
            profile.fct_call_time += dt_call
            profile.vm_call_time += dt_fn
            if hasattr(self.fn, "update_profile"):
                self.fn.update_profile(profile)
            if profile.ignore_first_call:
                profile.reset()
                profile.ignore_first_call = False
        return self._pack(outputs, output_subset)

    def _subset_indices(self, output_subset) -> list[int]:
        if self.output_keys is None:
            return list(output_subset)
        out = []
        for key in output_subset:
            if key not in self.output_keys:
                raise ValueError(
                    f"output_subset: {key!r} is not an output key; keys: {self.output_keys}"
                )
            out.append(self.output_keys.index(key))
        return out

    def _pack(self, outputs: list, output_subset):
        if self.return_none:
            return None
        if self.unpack_single and len(outputs) == 1 and output_subset is None:
            return outputs[0]
        if self.output_keys is not None:
            if output_subset is None:
                return dict(zip(self.output_keys, outputs))
            return {self.output_keys[i]: outputs[i] for i in output_subset}
        if output_subset is None:
            return outputs
        return [outputs[i] for i in output_subset]

    # -- storage ----------------------------------------------------------------------------
    def free(self) -> None:
        """Drop the intermediate and output values the VM keeps (inputs keep theirs)."""
        storage_map = getattr(self.fn, "storage_map", None)
        if storage_map is None:
            return
        for var, cell in storage_map.items():
            if var.owner is not None:
                cell[0] = None

    def get_shared(self) -> list[Variable]:
        """The shared variables this function reads or updates."""
        return [s.variable for s in self._specs if s.implicit]

    def sync_shared(self) -> None:
        """Wait for pending device work on shared values (nothing to do on the CPU)."""

    # -- copying ----------------------------------------------------------------------------
    def __copy__(self) -> Function:
        return self.copy()

    def copy(self, share_memory: bool = False, swap: dict | None = None,
             delete_updates: bool = False, name: str | None = None,
             profile: Any = None) -> Function:
        """A new Function on a copy of the optimized graph (Theano 1.0's ``copy``).

        ``share_memory`` shares the intermediate storage with this function; ``swap`` maps
        shared variables to others of the same type used in their place; ``delete_updates``
        drops the updates; ``name`` defaults to this name + " copy".
        """
        maker = self.maker
        ins = [_copy.copy(spec) for spec in maker.inputs]
        n_out = len(maker.outputs)
        out_vars = maker.fgraph.outputs[:n_out] if delete_updates else maker.fgraph.outputs
        memo = clone_get_equiv(maker.fgraph.inputs, out_vars)
        mapping = None if delete_updates else dict(maker.fgraph.update_mapping or {})
        fg_cpy = FunctionGraph([memo[i] for i in maker.fgraph.inputs],
                               [memo[o] for o in out_vars], clone=False,
                               update_mapping=mapping)
        outs = [SymbolicOutput(o, borrow=spec.borrow)
                for o, spec in zip(fg_cpy.outputs[:n_out], maker.outputs)]
        swap = dict(swap or {})
        user_vars = [spec.variable for spec in maker.inputs]
        for sv in swap:
            if not any(sv is v for v in user_vars):
                raise ValueError(f"copy(swap=...): shared variable {sv} is not an input of this "
                                 "function")
        for k, spec in enumerate(ins):
            var = maker.inputs[k].variable
            if var in swap:
                new_sv = swap[var]
                if not isinstance(new_sv, SharedVariable) or new_sv.type != var.type:
                    raise TypeError(
                        f"copy(swap=...): {var} (type {var.type}) can only be swapped for a "
                        f"shared variable of the same type, got {new_sv!r} "
                        f"(type {getattr(new_sv, 'type', None)})"
                    )
                spec.variable = new_sv
                spec.value = new_sv.container
                in_v = fg_cpy.inputs[k]
                stand_in = new_sv.clone()
                fg_cpy.inputs[k] = stand_in
                fg_cpy.replace(in_v, stand_in, reason="swap shared variable")
        update_i = n_out
        for spec in ins:
            if not delete_updates and spec.update is not None:
                spec.update = fg_cpy.outputs[update_i]
                update_i += 1
            else:
                spec.update = None
        new_storage_map = {}
        if share_memory:
            io_vars = set(maker.fgraph.inputs) | set(maker.fgraph.outputs)
            for var, cell in self.fn.storage_map.items():
                if var not in io_vars and var in memo:
                    new_storage_map[memo[var]] = cell
        if not name and self.name:
            name = self.name + " copy"
        profile = make_profile(profile, name)
        input_storage = [spec.value for spec in ins]
        outputs = outs[0] if maker.unpack_single else (None if maker.return_none else outs)
        f_cpy = maker.__class__(
            inputs=ins, outputs=outputs, fgraph=fg_cpy, mode=maker.mode, profile=profile,
            on_unused_input="ignore", function_builder=maker.function_builder,
            accept_inplace=True, output_keys=maker.output_keys, name=name,
        ).create(input_storage, storage_map=new_storage_map)
        for k, (spec, cont) in enumerate(zip(maker.inputs, self.input_storage)):
            if not spec.mutable and spec.variable not in swap:
                f_cpy.input_storage[k].storage[0] = cont.storage[0]
        f_cpy.name = name
        f_cpy.maker.fgraph.name = name
        f_cpy.trust_input = self.trust_input
        return f_cpy

    # -- pickling ---------------------------------------------------------------------------
    def __reduce__(self):
        inputs_data = [c.storage[0] for c in self.input_storage]
        return (_constructor_Function,
                (self.maker, list(self.input_storage), inputs_data, self.trust_input))

    def __str__(self) -> str:
        return f"<theano function {self.name or ''}>".replace(" >", ">")

    __repr__ = __str__


def _constructor_Function(maker, input_storage, inputs_data, trust_input=False) -> Function:
    fn = maker.create(input_storage, trustme=True)
    for cont, value in zip(fn.input_storage, inputs_data):
        cont.storage[0] = value
    fn.trust_input = trust_input
    return fn


# The compiled call path handles the common call and hands every other one to the Python
# ``__call__`` above, kept as ``_python_call`` (the reference, and the path without the
# extension).
Function._python_call = Function.__call__
try:
    from tlink.compile import _call
except ImportError:
    _call = None
else:
    _call.set_python_call(Function._python_call)
    Function.__call__ = _call.function_call

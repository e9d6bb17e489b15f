"""FunctionMaker: from inputs and outputs to a FunctionGraph, optimized, linked, callable.

The maker (Theano 1.0's ``FunctionMaker``) copies the graph into a FunctionGraph whose
outputs are the requested outputs followed by the update expressions, runs the mode's
optimizer on it, protects the outputs from aliasing (DeepCopyOp/ViewOp), and binds the
mode's linker. ``create`` then builds the storage and returns a :class:`Function`; one maker
may create several functions (``Function.copy``, unpickling), all sharing the graph.
"""

from __future__ import annotations

import copy
import time
import warnings
from typing import Any

from tgraph import config
from tgraph.graph.basic import Constant, Variable, graph_inputs
from tgraph.graph.basic import ancestors as graph_ancestors
from tgraph.graph.features import Feature
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from tgraph.shared import Container
from tlink.compile.function_obj import Function
from tlink.compile.io import In, SymbolicInput, SymbolicOutput
from tlink.compile.ops import deep_copy_op, view_op
from tlink.errors import UnusedInputError
from tlink.fallback import user_stacklevel
from tlink.mode import get_mode, run_optimizer
from tlink.profiling import ProfileStats

__all__ = [
    "FunctionMaker",
    "PreserveNames",
    "Supervisor",
    "alias_root",
    "convert_function_input",
    "fgraph_updated_vars",
    "infer_reuse_pattern",
    "insert_deepcopy",
    "orig_function",
    "std_fgraph",
    "view_tree_set",
]


def alias_root(v: Variable) -> Variable:
    """The variable whose memory ``v`` is a view (or destroyed version) of, following maps."""
    while v.owner is not None:
        op = v.owner.op
        pos = v.owner.outputs.index(v)
        aliased = list(getattr(op, "view_map", {}).get(pos, [])) + list(
            getattr(op, "destroy_map", {}).get(pos, []))
        if not aliased:
            break
        v = v.owner.inputs[aliased[0]]
    return v


def view_tree_set(fgraph: FunctionGraph, v: Variable, treeset: set) -> None:
    """Add ``v`` and every variable of ``fgraph`` that is a view of it to ``treeset``."""
    todo = [v]
    while todo:
        var = todo.pop()
        if var in treeset:
            continue
        treeset.add(var)
        for client, pos in fgraph.clients.get(var, []):
            if client == "output":
                continue
            maps = list(getattr(client.op, "view_map", {}).items()) + list(
                getattr(client.op, "destroy_map", {}).items())
            for out_pos, in_positions in maps:
                if pos in in_positions:
                    todo.append(client.outputs[out_pos])


def infer_reuse_pattern(fgraph: FunctionGraph, outputs_to_disown) -> set:
    """Computed variables that may share memory with ``outputs_to_disown``.

    Their cells are emptied before each run (``no_recycling``), so an array already given to
    the caller is never written into by a later call.
    """
    found: set = set()
    for out in outputs_to_disown:
        view_tree_set(fgraph, alias_root(out), found)
    return {v for v in found if v.owner is not None}


def fgraph_updated_vars(fgraph: FunctionGraph, expanded_inputs) -> dict:
    """Map each updated graph input to the graph output holding its new value."""
    if len(expanded_inputs) != len(fgraph.inputs):
        raise ValueError("fgraph_updated_vars: expanded_inputs must match fgraph.inputs")
    updated = {}
    potential = list(fgraph.outputs)
    for spec, ivar in reversed(list(zip(expanded_inputs, fgraph.inputs))):
        if spec.update is not None:
            updated[ivar] = potential.pop()
    return updated


class Supervisor(Feature):
    """Refuses graph changes that would overwrite a protected variable in place.

    Protected are the inputs the caller did not declare mutable and every output. In-place
    rewrites (topt) attach a destroy handler giving ``fgraph.destroyers(var)``; this feature's
    ``validate`` then rejects a change that makes a protected variable destroyed. Without a
    destroy handler there is nothing to check.
    """

    def __init__(self, protected):
        self.protected = list(protected)

    def validate(self, fgraph) -> bool:
        destroyers = getattr(fgraph, "destroyers", None)
        if destroyers is None:
            return True
        for var in self.protected + list(fgraph.outputs):
            if destroyers(var):
                raise InconsistencyError(
                    f"a rewrite tried to overwrite {var} in place, but it is a protected "
                    "input or output of the function"
                )
        return True


class PreserveNames(Feature):
    """Keeps a variable's name when a rewrite replaces it by an unnamed one.

    Error messages and printed graphs then still show the user's names after optimization
    (Theano 1.0's ``PreserveVariableAttributes``).
    """

    def on_change_input(self, fgraph, node, i, old, new, reason=None) -> None:
        if old.name is not None and new.name is None:
            new.name = old.name


def std_fgraph(input_specs, output_specs, accept_inplace: bool = False):
    """The FunctionGraph of the specs: outputs, then one output per updated input.

    Returns the graph and a SymbolicOutput per update. Ops that overwrite inputs
    (``destroy_map``) are refused unless ``accept_inplace``.
    """
    orig_inputs = [spec.variable for spec in input_specs]
    updates = []
    update_mapping = {}
    out_idx = len(output_specs)
    for inp_idx, spec in enumerate(input_specs):
        if spec.update is not None:
            updates.append(spec.update)
            update_mapping[out_idx] = inp_idx
            out_idx += 1
    orig_outputs = [spec.variable for spec in output_specs] + updates
    fgraph = FunctionGraph(orig_inputs, orig_outputs, update_mapping=update_mapping)
    has_destroyers = getattr(fgraph, "has_destroyers", None)
    fgraph.attach_feature(Supervisor(
        var for spec, var in zip(input_specs, fgraph.inputs)
        if not (spec.mutable or (has_destroyers is not None and has_destroyers([var])))))
    fgraph.attach_feature(PreserveNames())
    for node in fgraph.toposort():
        if getattr(node.op, "destroy_map", None):
            if not accept_inplace:
                raise TypeError(
                    f"the graph contains {node}, whose Op overwrites its inputs "
                    f"(destroy_map={node.op.destroy_map}); pass accept_inplace=True to "
                    "function to allow in-place operations in the graph you give"
                )
            _check_protected_inputs(fgraph, input_specs, node)
    return fgraph, [SymbolicOutput(u) for u in updates]


def _check_protected_inputs(fgraph, input_specs, node) -> None:
    for in_positions in node.op.destroy_map.values():
        for pos in in_positions:
            root = alias_root(node.inputs[pos])
            if root in fgraph.inputs:
                spec = input_specs[fgraph.inputs.index(root)]
                if not spec.mutable:
                    raise TypeError(
                        f"{node} would overwrite the input {spec.variable}, which is not "
                        "mutable; pass it as In(variable, mutable=True) to allow that"
                    )


def insert_deepcopy(fgraph: FunctionGraph, wrapped_inputs, wrapped_outputs) -> None:
    """Copy outputs that alias another output, an input or a constant (ViewOp if borrowed)."""
    if len(wrapped_inputs) != len(fgraph.inputs) or len(wrapped_outputs) != len(fgraph.outputs):
        raise ValueError("insert_deepcopy: specs do not match the graph")
    updated_inputs = {fi for spec, fi in zip(wrapped_inputs, fgraph.inputs)
                      if spec.update is not None}
    all_graph_inputs = graph_inputs(fgraph.outputs)

    def guard(i: int, borrowed: bool) -> None:
        op = view_op if borrowed else deep_copy_op
        new = op.make_node(fgraph.outputs[i]).outputs[0]
        fgraph.change_input("output", i, new, reason="insert_deepcopy")

    for i in range(len(fgraph.outputs)):
        views_of_i: set = set()
        view_tree_set(fgraph, alias_root(fgraph.outputs[i]), views_of_i)
        copied = False
        for j in range(i + 1, len(fgraph.outputs)):
            if fgraph.outputs[j] in views_of_i:
                guard(i, wrapped_outputs[i].borrow and wrapped_outputs[j].borrow)
                copied = True
                break
        if copied:
            continue
        for input_j in all_graph_inputs:
            if input_j in updated_inputs or input_j not in views_of_i:
                continue
            if input_j in fgraph.inputs:
                j = fgraph.inputs.index(input_j)
                guard(i, wrapped_outputs[i].borrow and bool(wrapped_inputs[j].borrow))
            else:
                guard(i, wrapped_outputs[i].borrow)
            break


class FunctionMaker:
    """Builds the graph, optimizes and links it once; ``create`` makes Functions from it.

    Arguments as Theano 1.0's: ``inputs`` (SymbolicInput/In or Variables), ``outputs`` (a
    Variable/Out, a list of them, or None), ``mode``, ``accept_inplace``,
    ``function_builder`` (the class made by ``create``), ``profile`` (a ProfileStats or
    None), ``on_unused_input``, ``fgraph`` (an already optimized graph: used as is),
    ``output_keys`` (dict outputs) and ``name``.
    """

    @staticmethod
    def wrap_in(inp: Any) -> SymbolicInput:
        if isinstance(inp, SymbolicInput):
            return inp
        if isinstance(inp, Variable):
            return SymbolicInput(inp)
        if isinstance(inp, list | tuple) and len(inp) == 2:
            return SymbolicInput(inp[0], update=inp[1])
        raise TypeError(f"unknown input specification {inp!r}; expected a Variable or In")

    @staticmethod
    def wrap_out(out: Any) -> SymbolicOutput:
        if isinstance(out, SymbolicOutput):
            return out
        if isinstance(out, Variable):
            return SymbolicOutput(out)
        raise TypeError(
            f"outputs must be Variables or Out instances, got {type(out).__name__}: {out!r}"
        )

    def __init__(self, inputs, outputs, mode=None, accept_inplace: bool = False,
                 function_builder: type = Function, profile: Any = None,
                 on_unused_input: str | None = None, fgraph: FunctionGraph | None = None,
                 output_keys: list | None = None, name: str | None = None):
        mode = get_mode(mode)
        self.mode = mode
        self.profile = profile
        self.orig_outputs = outputs
        unpack_single = False
        return_none = False
        if outputs is None:
            return_none = True
            outputs = []
        if not isinstance(outputs, list | tuple):
            unpack_single = True
            outputs = [outputs]
        if not isinstance(inputs, list | tuple):
            inputs = [inputs]
        inputs = [self.wrap_in(i) for i in inputs]
        outputs = [self.wrap_out(o) for o in outputs]
        self._check_unused_inputs(inputs, outputs, on_unused_input)

        if fgraph is None:
            fgraph, additional_outputs = std_fgraph(inputs, outputs, accept_inplace)
            fgraph.profile = profile
            _prefetch_compiler(mode)
            self._optimize(fgraph, mode, profile)
            insert_deepcopy(fgraph, inputs, outputs + additional_outputs)
        else:
            additional_outputs = [SymbolicOutput(i.update) for i in inputs
                                  if i.update is not None]
        self.fgraph = fgraph
        if len(fgraph.outputs) != len(outputs) + len(additional_outputs):
            raise ValueError("FunctionMaker: the graph's outputs do not match the specs")

        linker = copy.copy(mode.linker)
        if not hasattr(linker, "accept"):
            raise TypeError(f"the mode's linker {linker!r} has no accept(fgraph) method")
        no_borrow = [out for out, spec in zip(fgraph.outputs, outputs + additional_outputs)
                     if not spec.borrow]
        self.linker = linker.accept(fgraph, no_recycling=infer_reuse_pattern(fgraph, no_borrow),
                                    profile=profile)
        if hasattr(self.linker, "accept_var_updates"):
            self.linker.accept_var_updates(fgraph_updated_vars(fgraph, inputs))
        fgraph.name = name
        self.indices = [[inp, None, [inp]] for inp in inputs]
        self.inputs = inputs
        self.expanded_inputs = inputs
        self.outputs = outputs
        self.unpack_single = unpack_single
        self.return_none = return_none
        self.accept_inplace = accept_inplace
        self.function_builder = function_builder
        self.on_unused_input = on_unused_input
        self.output_keys = output_keys
        self.name = name
        self.required = [i.value is None for i in inputs]
        self.refeed = [i.value is not None and not isinstance(i.value, Container)
                       and i.update is None for i in inputs]

    def _optimize(self, fgraph: FunctionGraph, mode, profile) -> None:
        start = time.perf_counter()
        opt = mode.optimizer
        with config.change_flags(compute_test_value=config.compute_test_value_opt):
            opt_profile = run_optimizer(opt, fgraph)
        if profile:
            profile.optimizer_time += time.perf_counter() - start
            profile.optimizer_profile = (opt, opt_profile)

    @staticmethod
    def _check_unused_inputs(inputs, outputs, on_unused_input: str | None) -> None:
        if on_unused_input is None:
            on_unused_input = config.on_unused_input
        if on_unused_input not in ("raise", "warn", "ignore"):
            raise ValueError(
                f"on_unused_input must be 'raise', 'warn' or 'ignore', got {on_unused_input!r}"
            )
        if on_unused_input == "ignore":
            return
        used = graph_ancestors(
            [o.variable for o in outputs] + [i.update for i in inputs if i.update is not None],
            blockers=[i.variable for i in inputs],
        )
        used_ids = {id(v) for v in used}
        for k, inp in enumerate(inputs):
            if id(inp.variable) in used_ids or inp.update is not None:
                continue
            what = f"input {k} ({inp.variable})"
            base = (f"theano.function was given {what}, but the outputs and updates do not "
                    "depend on it.")
            if on_unused_input == "warn":
                warnings.warn(
                    f"{base} To make this an error pass on_unused_input='raise'; to silence "
                    "it, on_unused_input='ignore'.", UserWarning, stacklevel=user_stacklevel())
            else:
                raise UnusedInputError(
                    f"{base} Remove it from the inputs, or pass on_unused_input='warn' (or "
                    "'ignore') to function, or set the flag on_unused_input."
                )

    def create(self, input_storage=None, trustme: bool = False, storage_map=None) -> Function:
        """Build storage and the linked program; return a Function.

        ``input_storage`` holds one default per input: a value, a Container (its storage is
        shared, as for shared variables) or None (the input is required).
        """
        if input_storage is None:
            input_storage = [None] * len(self.inputs)
        if len(input_storage) != len(self.inputs):
            raise ValueError(f"create: {len(input_storage)} defaults for {len(self.inputs)} inputs")
        cells = []
        defaults = []
        for k, (spec, given) in enumerate(zip(self.inputs, input_storage)):
            if isinstance(given, Variable) and hasattr(given, "container"):
                given = given.container
            if isinstance(given, Container):
                cells.append(given.storage)
                value = given.storage[0]
            else:
                cells.append([given])
                value = given
            required, refeed = self.required[k], self.refeed[k]
            if spec.shared or required:
                value = None
            defaults.append((required, refeed, value))
        start = time.perf_counter()
        built = self.linker.make_thunk(input_storage=cells, storage_map=storage_map)
        fn, ins, outs = built[0], built[1], built[2]
        if self.profile:
            self.profile.linker_time += time.perf_counter() - start
            fn.time_thunks = self.profile.flag_time_thunks
            add_program = getattr(self.profile, "add_program", None)
            if add_program is not None:  # per-node C/Py kinds, memory recorder, run order
                add_program(self.fgraph, built[4], built[3], fn)
        func = self.function_builder(fn, ins, outs, self.indices, self.outputs, defaults,
                                     self.unpack_single, self.return_none, self.output_keys,
                                     self, name=self.name)
        func.profile = self.profile
        return func

    def __reduce__(self):
        kwargs = dict(inputs=self.inputs, outputs=self.orig_outputs, fgraph=self.fgraph,
                      mode=self.mode, accept_inplace=self.accept_inplace,
                      function_builder=self.function_builder, profile=self.profile,
                      on_unused_input=self.on_unused_input, output_keys=self.output_keys,
                      name=self.name)
        return (_constructor_FunctionMaker, (kwargs,))


def _constructor_FunctionMaker(kwargs: dict) -> FunctionMaker:
    return FunctionMaker(**kwargs)


def convert_function_input(inp: Any) -> SymbolicInput:
    """Theano 1.0's shortcuts for inputs, upgraded to In.

    A Variable ``r`` gives ``In(r)``; ``(name, r)`` names it; ``(r, value)`` gives a default;
    ``((r, update), value)`` adds an update; a leading name may prefix the last two forms.
    """
    if isinstance(inp, SymbolicInput):
        return inp
    if isinstance(inp, Constant):
        raise TypeError(f"a Constant ({inp}) cannot be an input of a function")
    if isinstance(inp, Variable):
        return In(inp)
    if isinstance(inp, list | tuple):
        orig = inp
        if not inp:
            raise TypeError(f"invalid input specification {orig!r}")
        name = None
        if isinstance(inp[0], str):
            name, inp = inp[0], inp[1:]
        update = value = None
        if inp and isinstance(inp[0], list | tuple):
            if len(inp[0]) != 2 or len(inp) != 2:
                raise TypeError(f"invalid input specification {orig!r}; use In(...)")
            (variable, update), value = inp
        elif inp and isinstance(inp[0], Variable):
            if len(inp) == 1:
                variable = inp[0]
            elif len(inp) == 2:
                variable, value = inp
            else:
                raise TypeError(f"invalid input specification {orig!r}; use In(...)")
        elif inp and isinstance(inp[0], SymbolicInput) and len(inp) <= 2:
            spec = inp[0]
            if len(inp) == 2:
                if name is not None:
                    spec.name = name
                spec.value = inp[1]
            return spec
        else:
            raise TypeError(f"invalid input specification {orig!r}; use In(...)")
        if isinstance(value, Variable | SymbolicInput):
            raise TypeError(f"the default value of input {variable} must not be a Variable")
        return In(variable, name=name, value=value, update=update)
    raise TypeError(
        f"unknown input specification {type(inp).__name__}: {inp!r}; expected a Variable or In"
    )


def orig_function(inputs, outputs, mode=None, accept_inplace: bool = False,
                  name: str | None = None, profile: ProfileStats | None = None,
                  on_unused_input: str | None = None, output_keys: list | None = None
                  ) -> Function:
    """Compile In/Out specs into a Function (the choke point all compilation goes through)."""
    t0 = time.perf_counter()
    mode = get_mode(mode)
    inputs = [convert_function_input(i) for i in inputs]
    if outputs is not None:
        if isinstance(outputs, list | tuple):
            outputs = [FunctionMaker.wrap_out(o) for o in outputs]
        else:
            outputs = FunctionMaker.wrap_out(outputs)
    defaults = [getattr(inp, "value", None) for inp in inputs]
    maker_class = getattr(mode, "function_maker", FunctionMaker)
    maker = maker_class(inputs, outputs, mode, accept_inplace=accept_inplace, profile=profile,
                        on_unused_input=on_unused_input, output_keys=output_keys, name=name)
    with config.change_flags(compute_test_value="off"):
        fn = maker.create(defaults)
    if profile:
        profile.compile_time += time.perf_counter() - t0
        if not hasattr(profile, "programs"):  # a user's own profile object
            profile.nb_nodes = len(fn.maker.fgraph.apply_nodes)
    return fn


def _prefetch_compiler(mode: Any) -> None:
    """Probe the C compiler while the graph is optimized, when the linker may use C."""
    linker = getattr(mode, "provided_linker", None)
    if isinstance(linker, str) and linker in ("py", "vm", "vm_nogc"):
        return
    if getattr(linker, "c_thunks", None) is False:
        return
    from tlink.cc.compiler import prefetch_compiler_info

    try:
        prefetch_compiler_info()
    except Exception:  # only a head start; linking probes and reports
        pass

"""``function`` and ``pfunc``: Theano 1.0's entry points for compiling a graph.

``function(inputs, outputs, updates=..., givens=...)`` checks its arguments, copies the
graph (applying ``givens`` and collecting shared variables as implicit inputs, see
:mod:`tlink.compile.rebuild`), and hands In/Out specs to the maker. The returned
:class:`~tlink.compile.function_obj.Function` computes all outputs and updates from the
values before the call, then writes the updates into the shared variables.
"""

from __future__ import annotations

import pickle
import warnings
from collections import OrderedDict
from typing import Any

from tgraph.graph.basic import Constant, Variable
from tgraph.graph.utils import user_stack
from tlink.compile.function_obj import Function
from tlink.compile.io import In, SymbolicInput
from tlink.compile.maker import orig_function
from tlink.compile.rebuild import iter_over_pairs, rebuild_collect_shared
from tlink.errors import UnusedInputError
from tlink.fallback import user_stacklevel
from tlink.profiling import make_profile

__all__ = ["function", "function_dump", "pfunc"]


def _caller_name() -> str | None:
    """``file:line`` of the user's call, Theano 1.0's default function name."""
    frames = user_stack(1)
    if not frames:
        return None
    return f"{frames[-1].filename}:{frames[-1].lineno}"


def function(inputs, outputs=None, mode=None, updates=None, givens=None,
             no_default_updates: bool | list = False, accept_inplace: bool = False,
             name: str | None = None, rebuild_strict: bool = True,
             allow_input_downcast: bool | None = None, profile: Any = None,
             on_unused_input: str | None = None) -> Function:
    """Compile a callable computing ``outputs`` from ``inputs`` (Theano 1.0's signature).

    ``inputs``: a list of Variables or In. ``outputs``: a Variable (the call returns its
    value), a list (returns a list), a dict of name -> Variable (returns a dict) or None
    (returns []). ``updates``: (shared variable, expression) pairs, as a list or an
    OrderedDict. ``givens``: (variable, replacement) pairs. ``no_default_updates``: True, or
    a list of shared variables whose ``default_update`` is not applied. ``profile``: True, a
    name, or a ProfileStats. ``on_unused_input``: 'raise', 'warn' or 'ignore' (default: the
    flag). ``allow_input_downcast``: None lets only Python floats become floatX.
    """
    if isinstance(outputs, dict):
        for key in outputs:
            if not isinstance(key, str):
                raise TypeError(f"function: output dict keys must be strings, got {key!r}")
        items = sorted(outputs.items())
        output_keys = [k for k, _ in items]
        outputs = [v for _, v in items]
    else:
        output_keys = None
    if name is None:
        name = _caller_name()
    if updates is None:
        updates = []
    if isinstance(updates, dict) and not isinstance(updates, OrderedDict) and len(updates) > 1:
        warnings.warn(
            "function: 'updates' is a plain dict with several entries. Theano 1.0 expected an "
            "OrderedDict or a list of (shared_variable, update) pairs because the order of a "
            "dict was not deterministic; pass a list of pairs to make the order explicit.",
            UserWarning, stacklevel=user_stacklevel(),
        )
    if not isinstance(inputs, list | tuple):
        raise TypeError(
            "function: inputs must be a list (or tuple) of Variables or In, even for a single "
            f"input; got {type(inputs).__name__}"
        )
    if any(isinstance(i, list | tuple) for i in inputs):
        if updates or givens:
            raise NotImplementedError(
                "function: tuple-style input specifications cannot be combined with updates "
                "or givens; use In(...)"
            )
        return orig_function(inputs, outputs, mode=mode, accept_inplace=accept_inplace,
                             name=name, profile=make_profile(profile, name),
                             on_unused_input=on_unused_input, output_keys=output_keys)
    return pfunc(params=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
                 no_default_updates=no_default_updates, accept_inplace=accept_inplace,
                 name=name, rebuild_strict=rebuild_strict,
                 allow_input_downcast=allow_input_downcast, profile=profile,
                 on_unused_input=on_unused_input, output_keys=output_keys)


def _param_to_in(param: Any, allow_downcast: bool | None) -> In:
    if isinstance(param, Constant):
        raise TypeError(f"function: a Constant ({param}) cannot be an input")
    if isinstance(param, Variable):
        return In(variable=param, allow_downcast=allow_downcast)
    if isinstance(param, In):
        return param
    if isinstance(param, SymbolicInput):
        return In(param.variable, name=param.name, update=param.update,
                  mutable=param.mutable, strict=param.strict,
                  allow_downcast=param.allow_downcast, autoname=False,
                  implicit=param.implicit)
    raise TypeError(
        f"function: inputs must be Variables or In instances, got {type(param).__name__}: "
        f"{param!r}"
    )


def pfunc(params, outputs=None, mode=None, updates=None, givens=None,
          no_default_updates: bool | list = False, accept_inplace: bool = False,
          name: str | None = None, rebuild_strict: bool = True,
          allow_input_downcast: bool | None = None, profile: Any = None,
          on_unused_input: str | None = None, output_keys: list | None = None) -> Function:
    """Compile with shared variables as implicit inputs (the work behind ``function``)."""
    updates = [] if updates is None else updates
    givens = [] if givens is None else givens
    profile = make_profile(profile, name)
    if not isinstance(params, list | tuple):
        raise TypeError("pfunc: params must be a list or a tuple")
    if not isinstance(no_default_updates, bool | list):
        raise TypeError(
            "function: no_default_updates must be a bool or a list of shared variables, got "
            f"{type(no_default_updates).__name__}"
        )
    if isinstance(updates, Variable) or (
            len(updates) > 0 and not isinstance(updates, dict)
            and any(isinstance(v, Variable) for v in updates)):
        raise ValueError(
            "function: updates must be an OrderedDict/dict or a list of (shared_variable, "
            "new_expression) pairs; got a sequence of Variables (a single pair must still be "
            "wrapped in a list: updates=[(w, new_w)])"
        )
    inputs = [_param_to_in(p, allow_input_downcast) for p in params]
    in_variables = [inp.variable for inp in inputs]
    for i, v in enumerate(in_variables):
        for j in range(i + 1, len(in_variables)):
            if in_variables[j] is v:
                raise UnusedInputError(
                    f"function: variable {v} is given twice in inputs (at indices {i} and "
                    f"{j}); the value passed for one of them would be ignored. List each "
                    "input once."
                )
    in_ids = {id(v) for v in in_variables}
    for x, _y in iter_over_pairs(givens):
        if id(x) in in_ids:
            raise RuntimeError(
                f"function: givens replaces {x}, which is an input of the function; that "
                "would have no effect. To compute f(x) with x replaced by g(y), make y the "
                "input and pass givens={x: g(y)}."
            )
    additional_outputs = [inp.update for inp in inputs if inp.update is not None]
    if outputs is None:
        out_list = []
    elif isinstance(outputs, list | tuple):
        out_list = list(outputs)
    else:
        out_list = [outputs]
    input_variables, cloned_extended, (clone_d, update_d, _update_expr, shared_inputs) = (
        rebuild_collect_shared(out_list + additional_outputs, in_variables, replace=givens,
                               updates=updates, rebuild_strict=rebuild_strict,
                               copy_inputs_over=True, no_default_updates=no_default_updates))
    if outputs is None:
        cloned_outputs: Any = []
    elif isinstance(outputs, list | tuple):
        cloned_outputs = cloned_extended[:len(outputs)]
    else:
        cloned_outputs = cloned_extended[0]
    for inp, iv in zip(inputs, input_variables):
        inp.variable = iv
        if inp.update is not None:
            inp.update = clone_d[inp.update]
    for sv in shared_inputs:
        if sv in update_d:
            spec = In(variable=sv, value=sv.container, mutable=True, borrow=True,
                      update=update_d[sv], shared=True)
        else:
            spec = In(variable=sv, value=sv.container, mutable=False, borrow=True,
                      shared=True)
        inputs.append(spec)
    return orig_function(inputs, cloned_outputs, mode, accept_inplace=accept_inplace,
                         name=name, profile=profile, on_unused_input=on_unused_input,
                         output_keys=output_keys)


def function_dump(filename: str, inputs, outputs=None, mode=None, updates=None, givens=None,
                  no_default_updates: bool | list = False, accept_inplace: bool = False,
                  name: str | None = None, rebuild_strict: bool = True,
                  allow_input_downcast: bool | None = None, profile: Any = None,
                  on_unused_input: str | None = None) -> None:
    """Pickle ``function``'s arguments to ``filename`` to reproduce a compilation elsewhere.

    ``theano.function(**pickle.load(open(filename, 'rb')))`` compiles the same function.
    Shared variables are pickled with their values.
    """
    d = dict(inputs=inputs, outputs=outputs, mode=mode, updates=updates, givens=givens,
             no_default_updates=no_default_updates, accept_inplace=accept_inplace, name=name,
             rebuild_strict=rebuild_strict, allow_input_downcast=allow_input_downcast,
             profile=profile, on_unused_input=on_unused_input)
    with open(filename, "wb") as f:
        pickle.dump(d, f, protocol=pickle.HIGHEST_PROTOCOL)

"""How a function's inputs and outputs are described: In, Out, SymbolicInput, SymbolicOutput.

``function`` wraps each input Variable in an :class:`In` (a name for keyword calls, a default
value, an update expression, whether the function may alias or overwrite the value) and each
output in an :class:`Out` (whether the returned array may be a view of internal storage).
Shared variables become implicit ``In`` objects whose value is the shared variable's container,
so the compiled function reads and writes the very storage ``get_value``/``set_value`` use.
"""

from __future__ import annotations

from typing import Any

from tgraph.graph.basic import Variable
from tgraph.shared import Container, SharedVariable

__all__ = ["In", "Out", "SymbolicInput", "SymbolicOutput"]


class SymbolicInput:
    """One input of a compiled function (Theano 1.0's ``SymbolicInput``).

    ``variable`` gets its value from the caller (or a default) instead of being computed.
    ``name`` (the variable's name unless ``autoname=False``) lets the caller pass it by
    keyword. ``update`` is an expression whose value replaces this input's stored value after
    each call. ``mutable`` lets the function overwrite the value passed in; ``strict`` refuses
    any conversion of the value; ``allow_downcast`` permits conversions that lose precision
    (None: only Python floats to floatX). ``implicit`` inputs cannot be passed by the caller.
    """

    def __init__(self, variable: Variable, name: str | None = None,
                 update: Variable | None = None, mutable: bool | None = None,
                 strict: bool = False, allow_downcast: bool | None = None,
                 autoname: bool = True, implicit: bool = False):
        if implicit is None:
            raise TypeError("SymbolicInput: implicit must be True or False, not None")
        if not isinstance(variable, Variable):
            raise TypeError(
                f"In/SymbolicInput expects a Variable, got {type(variable).__name__}: "
                f"{variable!r}"
            )
        self.variable = variable
        self.name = variable.name if (autoname and name is None) else name
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"In: name must be a string, got {self.name!r}")
        self.update = update
        if update is not None:
            if not isinstance(update, Variable):
                raise TypeError(
                    f"In({variable}): update must be a Variable, got {type(update).__name__}"
                )
            if variable.type != update.type:
                raise TypeError(
                    f"In({variable}): the variable has type {variable.type} but its update "
                    f"{update} has type {update.type}; they must be the same"
                )
        self.mutable = (update is not None) if mutable is None else bool(mutable)
        self.strict = strict
        self.allow_downcast = allow_downcast
        self.implicit = implicit

    def __str__(self) -> str:
        if self.update is not None:
            return f"In({self.variable} -> {self.update})"
        return f"In({self.variable})"

    __repr__ = __str__


class In(SymbolicInput):
    """An input of ``function`` with options (Theano 1.0's ``theano.In``).

    Beyond :class:`SymbolicInput`: ``value`` is the default used when the caller does not
    pass this input (with an ``update``, it is the initial state, kept between calls);
    ``borrow`` lets outputs be views of the value passed (default: the ``mutable`` setting,
    as in Theano 1.0, since a mutable input is also aliased); ``implicit=None`` means
    "implicit exactly when ``value`` is a Container or a shared variable"; ``shared`` marks
    the inputs made for shared variables.
    """

    def __init__(self, variable: Variable, name: str | None = None, value: Any = None,
                 update: Variable | None = None, mutable: bool | None = None,
                 strict: bool = False, allow_downcast: bool | None = None,
                 autoname: bool = True, implicit: bool | None = None,
                 borrow: bool | None = None, shared: bool = False):
        self.shared = shared
        self.borrow = mutable if borrow is None else borrow
        if mutable and not self.borrow:
            raise ValueError(
                f"In({variable}, name={name!r}): mutable=True with borrow=False is "
                "contradictory: a mutable input may be overwritten, so it is also aliased"
            )
        if implicit is None:
            implicit = isinstance(value, Container | SharedVariable)
        super().__init__(variable=variable, name=name, update=update, mutable=mutable,
                         strict=strict, allow_downcast=allow_downcast, autoname=autoname,
                         implicit=implicit)
        self.borrow = bool(self.borrow)
        self.value = value
        if self.implicit and value is None:
            raise TypeError(f"In({variable}): an implicit input needs a value")


class SymbolicOutput:
    """One output of a compiled function (Theano 1.0's ``theano.Out``).

    ``borrow=True`` allows the function to return its internal storage (or a view of an
    input) for this output: faster, but the array may be overwritten by the next call.
    """

    def __init__(self, variable: Variable, borrow: bool = False):
        if not isinstance(variable, Variable):
            raise TypeError(
                f"Out expects a Variable, got {type(variable).__name__}: {variable!r}"
            )
        self.variable = variable
        self.borrow = borrow

    def __str__(self) -> str:
        return f"Out({self.variable},{self.borrow})"

    __repr__ = __str__


Out = SymbolicOutput

"""Shared variables: symbolic variables with a value that lives between function calls.

Theano 1.0's ``theano.compile.sharedvalue`` and ``theano.tensor.sharedvar`` (plus
``theano.gof.link.Container``, the one-cell box that holds the value). Compiled functions
read a shared variable's value from its container and write updates back into it, so
``set_value`` is seen by every function and updates by every caller.

:func:`shared` picks the constructor from a registry, newest first (Theano's order): the
scalar constructor (Python and NumPy numbers → 0-d tensors), the tensor constructor (ndarrays),
then the generic one (any other object). Higher packages (the GPU one, for instance) register
theirs with :func:`shared_constructor`; a constructor declines a value by raising TypeError.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from tgraph.graph.basic import Variable
from tgraph.graph.type import Type, generic
from tgraph.graph.utils import add_tag_trace
from tgraph.tensor.type import TensorType
from tgraph.tensor.variable import _tensor_py_operators


class Container:
    """A one-element storage cell (``storage = [value]``) tied to a Type that filters writes.

    Linkers and functions share these cells: whoever holds the same ``storage`` list sees the
    same value. Assigning ``.value`` (or ``.data``) converts the new value with the type's
    ``filter`` under the container's ``strict``/``allow_downcast`` rules; ``readonly`` refuses.
    """

    def __init__(self, r: Variable | Type, storage: list, readonly: bool = False,
                 strict: bool = False, allow_downcast: bool | None = None,
                 name: str | None = None):
        if not isinstance(storage, list) or len(storage) < 1:
            raise TypeError(f"Container: storage must be a list of length >= 1, got {storage!r}")
        self.type = r if isinstance(r, Type) else r.type
        self.name = getattr(r, "name", None) if name is None else name
        self.storage = storage
        self.readonly = readonly
        self.strict = strict
        self.allow_downcast = allow_downcast

    def __get__(self, *_):
        return self.storage[0]

    def __set__(self, value):
        what = f"container {self.name!r}" if self.name is not None else "an unnamed container"
        self.store(value, what)

    def store(self, value: Any, what: str) -> None:
        """Filter ``value`` through the type and store it; errors name ``what`` was written."""
        if self.readonly:
            raise TypeError(f"cannot assign to {what}: it is read-only")
        if value is None:
            self.storage[0] = None
            return
        kwargs: dict[str, Any] = {}
        if self.strict:
            kwargs["strict"] = True
        if self.allow_downcast is not None:
            kwargs["allow_downcast"] = self.allow_downcast
        try:
            try:
                new = self.type.filter_inplace(value, self.storage[0], **kwargs)
            except NotImplementedError:  # the type has no in-place filter
                new = self.type.filter(value, **kwargs)
        except (TypeError, ValueError) as exc:
            raise _with_context(exc, f"cannot assign this value to {what}: {exc}") from exc
        self.storage[0] = new

    data = property(__get__, __set__)
    value = property(__get__, __set__)

    def __str__(self):
        return f"<{self.storage[0]}>"

    def __repr__(self):
        return f"<{self.storage[0]!r}>"

    def __deepcopy__(self, memo):
        cp = type(self)(
            copy.deepcopy(self.type, memo),
            copy.deepcopy(self.storage, memo),
            self.readonly,
            self.strict,
            self.allow_downcast,
            self.name,
        )
        # Deep-copying a 0-d ndarray can give a NumPy scalar: convert it back.
        value = cp.storage[0]
        if value is not None and not self.type.is_valid_value(value):
            cp.storage[0] = self.type.filter(value, strict=False, allow_downcast=False)
        return cp


def _with_context(exc: Exception, message: str) -> Exception:
    """A new exception of ``exc``'s class carrying ``message`` (or ``exc`` with it appended)."""
    try:
        return type(exc)(message)
    except Exception:  # an exception class with a custom constructor
        exc.args = (*exc.args, message)
        return exc


class SharedVariable(Variable):
    """A Variable whose value is held in a :class:`Container` shared with every function.

    ``strict`` refuses any conversion on assignment; ``allow_downcast`` allows (True) or
    refuses (False) precision loss, and None allows only Python floats into floatX. Set a
    ``default_update`` attribute to give ``theano.function`` an update to apply on each call
    unless told otherwise.
    """

    container: Container | None = None

    def __init__(self, name: str | None, type: Type, value: Any, strict: bool | None,
                 allow_downcast: bool | None = None, container: Container | None = None):
        super().__init__(type=type, owner=None, index=None, name=name)
        if container is not None:
            if value is not None or strict is not None:
                raise TypeError("SharedVariable: value and strict must be None when a container "
                                "is given")
            self.container = container
            return
        try:
            data = type.filter(value, strict=bool(strict), allow_downcast=allow_downcast)
        except (TypeError, ValueError) as exc:
            raise _with_context(exc, f"cannot make {self._what()} from this value: {exc}") \
                from exc
        self.container = Container(self, storage=[data], readonly=False, strict=bool(strict),
                                   allow_downcast=allow_downcast)

    def _what(self) -> str:
        if self.name is not None:
            return f"shared variable {self.name!r} ({self.type})"
        return f"an unnamed shared variable ({self.type})"

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The value: a copy, or with ``borrow=True`` the stored object itself (aliased)."""
        value = self.container.value
        return value if borrow else copy.deepcopy(value)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Store ``new_value`` (copied unless ``borrow=True``), converted by the type's filter.

        Seen by every function using this variable. A value the type refuses (wrong number of
        dimensions, a dtype that would lose precision...) raises TypeError naming this variable.
        """
        if not borrow:
            new_value = copy.deepcopy(new_value)
        self.container.store(new_value, self._what())

    def zero(self, borrow: bool = False) -> None:
        """Set the value to zeros: in place with ``borrow=True``, else a new array."""
        value = self.container.value
        if borrow:
            value[...] = 0
        elif isinstance(value, np.ndarray):
            self.container.value = np.zeros_like(value)
        else:
            self.container.value = 0 * value

    def clone(self) -> SharedVariable:
        """A new variable sharing this one's container (and so its value)."""
        cp = self.__class__(name=self.name, type=self.type, value=None, strict=None,
                            container=self.container)
        for key, val in self.tag.__dict__.items():
            if key != "_owner_var":
                object.__setattr__(cp.tag, key, val)
        return cp

    def get_test_value(self) -> Any:
        """A shared variable's test value is its current value (not copied)."""
        return self.get_value(borrow=True)

    def __getitem__(self, *args):
        # Only tensor shared variables index; say why this one does not.
        value = self.get_value(borrow=True)
        if isinstance(value, np.ndarray):
            detail = (f"a NumPy array of dtype {value.dtype}, which tensors do not support: "
                      "cast it to a numeric dtype")
        else:
            detail = (f"an object of type {type(value).__name__}; did you mean to convert it to "
                      "a NumPy array before calling theano.shared()?")
        raise TypeError(f"this generic SharedVariable is not subscriptable: it holds {detail}")

    @property
    def value(self):
        raise AttributeError("sharedvar.value does not exist; use get_value() or set_value()")

    @value.setter
    def value(self, new_value):
        raise AttributeError("sharedvar.value does not exist; use get_value() or set_value()")


class TensorSharedVariable(_tensor_py_operators, SharedVariable):
    """A shared ndarray: every tensor operator and method works on it."""


class ScalarSharedVariable(_tensor_py_operators, SharedVariable):
    """A shared number, stored as a 0-d tensor (Theano 1.0 did the same)."""


# ---------------------------------------------------------------------------------------------
# The constructor registry and shared()


def shared_constructor(ctor: Callable, remove: bool = False) -> Callable:
    """Register (or with ``remove=True`` unregister) a constructor tried by :func:`shared`.

    Usable as a decorator. ``ctor(value, name=None, strict=False, allow_downcast=None,
    **kwargs)`` returns a SharedVariable or raises TypeError to decline the value. The most
    recently registered constructor is tried first.
    """
    if remove:
        if ctor not in shared.constructors:
            raise ValueError(f"shared_constructor: {ctor!r} is not registered")
        shared.constructors.remove(ctor)
    else:
        shared.constructors.append(ctor)
    return ctor


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, **kwargs: Any) -> SharedVariable:
    """A SharedVariable holding a copy of ``value`` (or ``value`` itself with ``borrow=True``).

    Tries the registered constructors, newest first; the first that accepts ``value`` and
    ``kwargs`` wins. Tensor constructors accept ``borrow`` and ``broadcastable`` (by default
    no dimension is broadcastable, since the value may be resized later).
    """
    if isinstance(value, Variable):
        raise TypeError(
            "shared() needs a value (a NumPy array, a number, ...), not the symbolic variable "
            f"{value}"
        )
    reasons = []
    for ctor in reversed(shared.constructors):
        try:
            var = ctor(value, name=name, strict=strict, allow_downcast=allow_downcast, **kwargs)
        except TypeError as exc:
            reasons.append(f"{getattr(ctor, '__name__', ctor)}: {exc}")
            continue
        except MemoryError as exc:
            exc.args = (*exc.args, "you might consider using theano.shared(..., borrow=True)")
            raise
        add_tag_trace(var)
        return var
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    raise TypeError(
        f"shared(): no shared variable constructor accepts the value {text} (of type "
        f"{type(value).__name__}) with the arguments {sorted(kwargs)}. Tried, newest first:\n  "
        + "\n  ".join(reasons)
    )


shared.constructors = []


@shared_constructor
def generic_constructor(value: Any, name: str | None = None, strict: bool = False,
                        allow_downcast: bool | None = None) -> SharedVariable:
    """Any Python object, as a SharedVariable of the generic type (no tensor operators)."""
    return SharedVariable(type=generic, value=value, name=name, strict=strict,
                          allow_downcast=allow_downcast)


@shared_constructor
def tensor_constructor(value: Any, name: str | None = None, strict: bool = False,
                       allow_downcast: bool | None = None, borrow: bool = False,
                       broadcastable: Any = None, target: str = "cpu") -> TensorSharedVariable:
    """An ndarray, as a TensorSharedVariable of ``TensorType(value.dtype, broadcastable)``.

    ``broadcastable`` defaults to all False (the value may be resized); ``borrow=True`` keeps
    ``value`` itself instead of a copy. Other ``target`` devices belong to other constructors.
    """
    if target != "cpu":
        raise TypeError(f"the tensor constructor only handles target='cpu', got {target!r}")
    if not isinstance(value, np.ndarray):
        raise TypeError(f"expected a numpy.ndarray, got {type(value).__name__}")
    if broadcastable is None:
        broadcastable = (False,) * value.ndim
    ttype = TensorType(value.dtype, broadcastable=broadcastable)
    data = np.asarray(value) if borrow else np.array(value, copy=True)
    return TensorSharedVariable(type=ttype, value=data, name=name, strict=strict,
                                allow_downcast=allow_downcast)


@shared_constructor
def scalar_constructor(value: Any, name: str | None = None, strict: bool = False,
                       allow_downcast: bool | None = None, borrow: bool = False,
                       target: str = "cpu") -> ScalarSharedVariable:
    """A Python or NumPy number, as a 0-d tensor of its NumPy dtype.

    As in Theano 1.0, a Python float gives float64 and a Python int int64 whatever floatX is;
    a NumPy scalar keeps its dtype. (``numpy.bool_`` is accepted too, as a bool scalar.)
    ``borrow`` is meaningless for an immutable number and ignored.
    """
    if target != "cpu":
        raise TypeError(f"the scalar constructor only handles target='cpu', got {target!r}")
    if not isinstance(value, np.number | np.bool_ | float | int | complex):
        raise TypeError(f"expected a Python or NumPy number, got {type(value).__name__}")
    data = np.array(value)
    ttype = TensorType(data.dtype, broadcastable=())
    return ScalarSharedVariable(type=ttype, value=data, name=name, strict=strict,
                                allow_downcast=allow_downcast)


def load_shared_variable(val: Any) -> TensorSharedVariable:
    """Rebuild a tensor shared variable from a value (kept for old pickles, as in Theano)."""
    return tensor_constructor(val)


__all__ = [
    "Container",
    "ScalarSharedVariable",
    "SharedVariable",
    "TensorSharedVariable",
    "generic_constructor",
    "load_shared_variable",
    "scalar_constructor",
    "shared",
    "shared_constructor",
    "tensor_constructor",
]

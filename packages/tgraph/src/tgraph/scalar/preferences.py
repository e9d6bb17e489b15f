"""Output-type preferences: the rules that give a scalar op its output types from its inputs'.

Each rule is called with the input ScalarTypes and returns a tuple of output ScalarTypes, or
raises TypeError for inputs it refuses. Rules are part of an op's ``__props__``, so they must
compare, hash, print and pickle stably: the plain rules are module-level :class:`Preference`
objects (pickled by reference, printed by name); the parametrised ones
(:class:`transfer_type`, :class:`specific_out`) compare by their parameters. The rules and
names are Theano 1.0's.
"""

from __future__ import annotations

from collections.abc import Callable

from tgraph.scalar.type import (
    ScalarType,
    bool_,
    complex64,
    complex128,
    complex_types,
    float32,
    float64,
    float_types,
    get_scalar_type,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
    upcast,
)

Types = tuple[ScalarType, ...]


class Preference:
    """A named, module-level output-type rule (wraps a function of the input types)."""

    def __init__(self, fn: Callable[..., Types]):
        self._fn = fn
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__module__ = fn.__module__
        self.__doc__ = fn.__doc__

    def __call__(self, *types: ScalarType) -> Types:
        return self._fn(*types)

    def __str__(self):
        return self.__name__

    __repr__ = __str__

    def __reduce__(self):
        # Pickled as a reference to the module attribute of the same name.
        return self.__qualname__


def _refuse_complex(rule: str, types) -> None:
    for t in types:
        if t in complex_types:
            raise TypeError(f"{rule}: complex input ({t}) is not supported")


@Preference
def upcast_out(*types: ScalarType) -> Types:
    """One output of the upcast of all input dtypes."""
    return (get_scalar_type(upcast(*(t.dtype for t in types))),)


@Preference
def upcast_out_nobool(*types: ScalarType) -> Types:
    """As upcast_out, refusing a bool result (``bool - bool`` has no meaning in NumPy)."""
    out = upcast_out(*types)
    if out[0] == bool_:
        raise TypeError("upcast_out_nobool: a bool output is not supported")
    return out


@Preference
def upcast_out_min8(*types: ScalarType) -> Types:
    """As upcast_out, with a bool result raised to int8."""
    out = upcast_out(*types)
    return (int8,) if out[0] == bool_ else out


@Preference
def upcast_out_no_complex(*types: ScalarType) -> Types:
    """As upcast_out, refusing complex inputs."""
    _refuse_complex("upcast_out_no_complex", types)
    return upcast_out(*types)


_TO_FLOAT = {
    bool_: float32,
    int8: float32,
    int16: float32,
    uint8: float32,
    uint16: float32,
    int32: float64,
    int64: float64,
    uint32: float64,
    uint64: float64,
}


@Preference
def upgrade_to_float(*types: ScalarType) -> Types:
    """Integers become the smallest float that holds them exactly (bool, [u]int8 and [u]int16
    become float32; [u]int32 and [u]int64 float64), then all are upcast; floats and complex
    are kept."""
    return (get_scalar_type(upcast(*(_TO_FLOAT.get(t, t).dtype for t in types))),)


@Preference
def upgrade_to_float64(*types: ScalarType) -> Types:
    """Always float64 (as SciPy computes)."""
    return (float64,)


@Preference
def upgrade_to_float_no_complex(*types: ScalarType) -> Types:
    """As upgrade_to_float, refusing complex inputs."""
    _refuse_complex("upgrade_to_float_no_complex", types)
    return upgrade_to_float(*types)


@Preference
def same_out(type_: ScalarType) -> Types:
    """The input type."""
    return (type_,)


@Preference
def same_out_nobool(type_: ScalarType) -> Types:
    """The input type, refusing bool."""
    if type_ == bool_:
        raise TypeError("same_out_nobool: a bool input is not supported")
    return (type_,)


@Preference
def same_out_min8(type_: ScalarType) -> Types:
    """The input type, bool raised to int8."""
    return (int8,) if type_ == bool_ else (type_,)


@Preference
def same_out_nocomplex(type_: ScalarType) -> Types:
    """The input type, refusing complex."""
    _refuse_complex("same_out_nocomplex", (type_,))
    return (type_,)


@Preference
def same_out_float_only(type_: ScalarType) -> Types:
    """The input type, which must be a float."""
    if type_ not in float_types:
        raise TypeError(f"same_out_float_only: only float inputs are supported, got {type_}")
    return (type_,)


@Preference
def int_out(*types: ScalarType) -> Types:
    """Always int64."""
    return (int64,)


@Preference
def float_out(*types: ScalarType) -> Types:
    """Always float64."""
    return (float64,)


@Preference
def bool_out(*types: ScalarType) -> Types:
    """Always bool (comparisons)."""
    return (bool_,)


@Preference
def int_out_nocomplex(*types: ScalarType) -> Types:
    """int64, refusing complex inputs."""
    _refuse_complex("int_out_nocomplex", types)
    return (int64,)


@Preference
def float_out_nocomplex(*types: ScalarType) -> Types:
    """float64, refusing complex inputs."""
    _refuse_complex("float_out_nocomplex", types)
    return (float64,)


@Preference
def real_out(type_: ScalarType) -> Types:
    """The real type matching a complex input (complex64 -> float32); others kept."""
    if type_ == complex64:
        return (float32,)
    if type_ == complex128:
        return (float64,)
    return (type_,)


@Preference
def sgn_out(type_: ScalarType) -> Types:
    """The input type; bool and complex are refused (NumPy's sign)."""
    if type_ == bool_:
        raise TypeError("sgn_out: a bool input is not supported")
    _refuse_complex("sgn_out", (type_,))
    return (type_,)


@Preference
def complex_out(x: ScalarType, y: ScalarType) -> Types:
    """complex128 when the upcast of two real inputs needs float64, else complex64."""
    _refuse_complex("complex_out", (x, y))
    up = upcast(x.dtype, y.dtype)
    if up in ("float64", "int64", "uint64", "int32", "uint32"):
        return (complex128,)
    return (complex64,)


class transfer_type:
    """Output ``k`` takes the type of input ``transfer[k]``; None means the upcast of all
    inputs, a dtype string means that dtype. ``transfer_type(1)`` is what ``second`` uses."""

    __props__ = ("transfer",)

    def __init__(self, *transfer: int | str | None):
        for t in transfer:
            if not (t is None or isinstance(t, int | str)):
                raise TypeError(f"transfer_type: expected ints, dtype strings or None, got {t!r}")
        self.transfer = tuple(transfer)

    def __call__(self, *types: ScalarType) -> Types:
        out = []
        for t in self.transfer:
            if t is None:
                out.append(upcast_out(*types)[0])
            elif isinstance(t, str):
                out.append(get_scalar_type(t))
            else:
                out.append(types[t])
        return tuple(out)

    def __eq__(self, other):
        return type(self) is type(other) and self.transfer == other.transfer

    def __hash__(self):
        return hash((type(self), self.transfer))

    def __str__(self):
        return f"transfer_type{{{', '.join(str(t) for t in self.transfer)}}}"

    __repr__ = __str__


class specific_out:
    """Always the given output types (``specific_out(float64)``)."""

    __props__ = ("spec",)

    def __init__(self, *spec: ScalarType):
        for t in spec:
            if not isinstance(t, ScalarType):
                raise TypeError(f"specific_out: expected ScalarTypes, got {t!r}")
        self.spec = tuple(spec)

    def __call__(self, *types: ScalarType) -> Types:
        return self.spec

    def __eq__(self, other):
        return type(self) is type(other) and self.spec == other.spec

    def __hash__(self):
        return hash((type(self), self.spec))

    def __str__(self):
        return f"specific_out{{{', '.join(str(t) for t in self.spec)}}}"

    __repr__ = __str__

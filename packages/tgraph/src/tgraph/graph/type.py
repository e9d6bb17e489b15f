"""The Type base class: what values a Variable may hold and how to convert data to them."""

from __future__ import annotations

from typing import Any

from tgraph.graph.utils import MethodNotDefined


class Type:
    """Describes the values a :class:`Variable` may take (Theano's ``theano.gof.Type``).

    A Type is immutable and compared by value: two ``TensorType('float32', (False,))`` are
    equal. Subclasses implement ``filter``; the rest has sensible defaults.
    """

    Variable: type | None = None  # the Variable subclass made by make_variable
    Constant: type | None = None  # the Constant subclass made for constants of this type

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """Return ``data`` converted to a value of this type, or raise TypeError/ValueError.

        ``strict`` refuses any conversion; ``allow_downcast`` permits precision loss.
        """
        raise MethodNotDefined("filter", type(self), self.__class__.__name__)

    def filter_inplace(self, value, storage, strict=False, allow_downcast=None):
        raise MethodNotDefined("filter_inplace", type(self), self.__class__.__name__)

    def is_valid_value(self, data: Any) -> bool:
        """Whether ``data`` is already a value of this type (strict filter succeeds)."""
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def value_validity_msg(self, data: Any) -> str:
        return f"value is not valid for {self}"

    def filter_variable(self, other: Any, allow_convert: bool = True):
        """Return ``other`` as a Variable of exactly this type, or raise TypeError."""
        from tgraph.graph.basic import Constant, Variable

        if not isinstance(other, Variable):
            other = Constant(self, self.filter(other))
        if other.type != self and allow_convert:
            converted = self.convert_variable(other)
            if converted is not None:
                other = converted
        if other.type != self:
            raise TypeError(
                f"cannot convert {other} of type {other.type} to {self}; you may need an "
                "explicit cast or patternbroadcast"
            )
        return other

    def convert_variable(self, var):
        """Return ``var`` viewed as this type if that is safe, else None."""
        return None

    def is_super(self, otype: Type) -> bool:
        """Whether every value of ``otype`` is a value of this type."""
        return self == otype

    def make_variable(self, name: str | None = None):
        """A fresh Variable of this type with no owner."""
        from tgraph.graph.basic import Variable

        cls = self.Variable or Variable
        return cls(self, None, name=name)

    def make_constant(self, value: Any, name: str | None = None):
        from tgraph.graph.basic import Constant

        cls = self.Constant or Constant
        return cls(self, value, name=name)

    def __call__(self, name: str | None = None):
        return self.make_variable(name)

    def values_eq(self, a: Any, b: Any) -> bool:
        return a == b

    def values_eq_approx(self, a: Any, b: Any) -> bool:
        return self.values_eq(a, b)

    def may_share_memory(self, a: Any, b: Any) -> bool:
        return a is b

    def get_shape_info(self, obj):
        return obj

    def get_size(self, shape_info) -> int:
        return 0

    # C interface hooks, filled by linkers for types that support C code.
    def c_is_simple(self) -> bool:
        return False


class Generic(Type):
    """Any Python object (``theano.gof.generic``)."""

    def filter(self, data, strict=False, allow_downcast=None):
        return data

    def is_valid_value(self, data) -> bool:
        return True

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "generic"

    __repr__ = __str__


generic = Generic()


class NoneTypeT(Generic):
    """The type of the None constant (slices' missing steps, optional inputs)."""

    def filter(self, data, strict=False, allow_downcast=None):
        if data is None:
            return None
        raise TypeError(f"expected None, got {type(data).__name__}")

    def __str__(self):
        return "none"


none_type_t = NoneTypeT()

"""The vocabulary gradients are written in: placeholder types and gradient-altering identities.

Op authors need these names inside ``grad``/``L_op`` (``grad_undefined``,
``disconnected_type()``...), so this module sits at the bottom of the gradient code: it imports
only the graph IR. Tensor arithmetic needed here (``clip``, ``*``, ``zeros_like``) is reached
through the variables' own methods, which dispatch to the op library at call time; importing
the op modules would be an import cycle, since they import this module.

``tgraph.gradient`` re-exports every public name, which is where Theano 1.0 users find them.
"""

from __future__ import annotations

import warnings
from typing import Any

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.op import Op
from tgraph.graph.type import Type

# ---------------------------------------------------------------------------------------------
# Placeholder types


class NullType(Type):
    """The type of a gradient that cannot be computed (``theano.gof.null_type.NullType``).

    ``why_null`` says why (undefined mathematically, or not implemented). A NullType variable
    has no value: ``grad`` raises :class:`NullTypeGradError` with ``why_null`` when one reaches
    a requested gradient (unless ``null_gradients='return'``).
    """

    def __init__(self, why_null: str = "(no explanation given)"):
        self.why_null = why_null

    def filter(self, data, strict=False, allow_downcast=None):
        raise ValueError(f"a NullType variable can hold no value ({self.why_null})")

    def filter_variable(self, other, allow_convert=True):
        raise ValueError(f"no variable can be converted to NullType ({self.why_null})")

    def may_share_memory(self, a, b) -> bool:
        return False

    def values_eq(self, a, b, force_same_dtype=True):
        raise ValueError("NullType has no values to compare")

    # As in Theano, all NullTypes are equal: the explanation is not part of the type.
    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "NullType"

    __repr__ = __str__


null_type = NullType()


class DisconnectedType(Type):
    """The type of the gradient of a cost that does not depend on a variable.

    It stands for zero, with the extra information that the zero is structural (no path in the
    graph), which lets ``grad`` report disconnected inputs and skip work.
    """

    def filter(self, data, strict=False, allow_downcast=None):
        raise TypeError("DisconnectedType is a symbolic placeholder and holds no value")

    def filter_variable(self, other, allow_convert=True):
        raise TypeError("DisconnectedType is a symbolic placeholder; nothing converts to it")

    def may_share_memory(self, a, b) -> bool:
        return False

    def values_eq(self, a, b, force_same_dtype=True):
        raise TypeError("DisconnectedType is a symbolic placeholder and has no values")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "DisconnectedType"

    __repr__ = __str__


#: Call it to make a disconnected placeholder: ``disconnected_type()``.
disconnected_type = DisconnectedType()


def grad_not_implemented(op: Any, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """A NullType variable saying the gradient on input ``x_pos`` of ``op`` is not implemented.

    Return it from ``grad``/``L_op``; ``grad`` raises only if this gradient is actually needed.
    """
    return NullType(
        f"This variable is Null because the grad method for input {x_pos} ({x}) of the {op} op "
        f"is not implemented. {comment}".rstrip()
    )()


def grad_undefined(op: Any, x_pos: int, x: Variable, comment: str = "") -> Variable:
    """A NullType variable saying the gradient on input ``x_pos`` of ``op`` is undefined."""
    return NullType(
        f"This variable is Null because the grad method for input {x_pos} ({x}) of the {op} op "
        f"is mathematically undefined. {comment}".rstrip()
    )()


# ---------------------------------------------------------------------------------------------
# Identity ops that only change what flows back (zero_grad, grad_clip, ...)


class GradientViewOp(Op):
    """Forward: ``x`` itself (a view, no copy). Subclasses change only the gradient.

    The optimizer may remove these ops from a compiled forward graph once gradients are built.
    """

    __props__: tuple[str, ...] = ()
    view_map = {0: [0]}

    def make_node(self, x):
        if not isinstance(x, Variable):
            raise TypeError(f"{self}: expected a symbolic Variable, got {type(x).__name__} {x!r}")
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = inputs[0]

    def infer_shape(self, node, input_shapes):
        return [input_shapes[0]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return self(*eval_points, return_list=True)

    def grad(self, inputs, output_grads):
        return list(output_grads)


class ZeroGrad(GradientViewOp):
    """Gradient replaced by zeros (still connected, so no disconnected-input error)."""

    def grad(self, inputs, output_grads):
        return [g.zeros_like() for g in output_grads]

    def R_op(self, inputs, eval_points):
        # Forward-mode treats the variable as constant too; Theano 1.0 returned zeros(1),
        # whose shape is wrong; zeros shaped like the eval point are what it meant.
        if eval_points[0] is None:
            return [None]
        return [eval_points[0].zeros_like()]


class ConsiderConstant(ZeroGrad):
    """Deprecated twin of :class:`ZeroGrad` (``consider_constant``)."""


class DisconnectedGrad(GradientViewOp):
    """No gradient flows through: the input is disconnected from the cost."""

    def grad(self, inputs, output_grads):
        return [disconnected_type() for _ in output_grads]

    def R_op(self, inputs, eval_points):
        return [None]

    def connection_pattern(self, node):
        return [[False]]


class UndefinedGrad(GradientViewOp):
    """The gradient is declared undefined: asking for it raises NullTypeGradError."""

    def grad(self, inputs, output_grads):
        return [grad_undefined(self, i, x) for i, x in enumerate(inputs)]

    def R_op(self, inputs, eval_points):
        return [None]

    def connection_pattern(self, node):
        return [[True]]


class GradClip(GradientViewOp):
    """The gradient is clipped elementwise to ``[clip_lower_bound, clip_upper_bound]``.

    Unlike Theano 1.0 (whose ``__props__`` was empty, so the merge optimizer could fuse two
    clips with different bounds), the bounds are part of the op's identity.
    """

    __props__ = ("clip_lower_bound", "clip_upper_bound")

    def __init__(self, clip_lower_bound, clip_upper_bound):
        if clip_upper_bound < clip_lower_bound:
            raise ValueError(
                f"grad_clip: the upper bound ({clip_upper_bound}) is below the lower bound "
                f"({clip_lower_bound})"
            )
        self.clip_lower_bound = clip_lower_bound
        self.clip_upper_bound = clip_upper_bound

    def grad(self, inputs, output_grads):
        return [g.clip(self.clip_lower_bound, self.clip_upper_bound) for g in output_grads]


class GradScale(GradientViewOp):
    """The gradient is multiplied by ``multiplier`` (e.g. -1 for gradient reversal)."""

    __props__ = ("multiplier",)

    def __init__(self, multiplier):
        self.multiplier = multiplier

    def grad(self, inputs, output_grads):
        return [g * self.multiplier for g in output_grads]


zero_grad_ = ZeroGrad()
consider_constant_ = ConsiderConstant()
disconnected_grad_ = DisconnectedGrad()
undefined_grad_ = UndefinedGrad()


def zero_grad(x: Variable) -> Variable:
    """``x`` unchanged, but gradients through it are zero (it counts as still connected)."""
    return zero_grad_(x)


def disconnected_grad(x: Variable) -> Variable:
    """``x`` unchanged, but gradients do not flow through it (cheaper than zero_grad)."""
    return disconnected_grad_(x)


def undefined_grad(x: Variable) -> Variable:
    """``x`` unchanged, but taking a gradient through it raises an error."""
    return undefined_grad_(x)


def consider_constant(x: Variable) -> Variable:
    """Deprecated since Theano 0.9: use :func:`zero_grad` or :func:`disconnected_grad`."""
    warnings.warn(
        "consider_constant() is deprecated (since Theano 0.9); use zero_grad() or "
        "disconnected_grad() instead",
        DeprecationWarning,
        stacklevel=2,
    )
    return consider_constant_(x)


def grad_clip(x: Variable, lower_bound: Any, upper_bound: Any) -> Variable:
    """``x`` unchanged; its gradient is clipped to ``[lower_bound, upper_bound]``."""
    return GradClip(lower_bound, upper_bound)(x)


def grad_scale(x: Variable, multiplier: Any) -> Variable:
    """``x`` unchanged; its gradient is multiplied by ``multiplier``."""
    return GradScale(multiplier)(x)


__all__ = [
    "ConsiderConstant",
    "DisconnectedGrad",
    "DisconnectedType",
    "GradClip",
    "GradScale",
    "GradientViewOp",
    "NullType",
    "UndefinedGrad",
    "ZeroGrad",
    "consider_constant",
    "disconnected_grad",
    "disconnected_type",
    "grad_clip",
    "grad_not_implemented",
    "grad_scale",
    "grad_undefined",
    "null_type",
    "undefined_grad",
    "zero_grad",
]

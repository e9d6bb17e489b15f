"""Math-like one-line rendering of a graph: ``pp(x * (y + z))`` gives ``(x * (y + z))``.

This is Theano 1.0's ``theano.printing.pprint`` (alias ``pp``). A :class:`PPrinter` picks a
*printer* for each variable: first one assigned to its Op instance (Ops compare by their
``__props__``, so ``Elemwise(scalar.add)`` matches whatever was assigned to ``add``), then
one assigned to its Op class or a base class, then the first *condition*
``condition(pstate, var)`` that holds, most recently assigned first. The shared ``pprint``
ends on a condition that always holds: :data:`default_printer` renders ``OpStr(args)``
and leaves (inputs, constants) as ``str(var)``.

Printers for the tensor library are registered by the Op class's qualified *name*
(``"tgraph.tensor.elemwise.DimShuffle"``) rather than by the class object, so importing
this module imports no op module and the printer works whichever op modules exist. As in
Theano, binary and unary operators are always parenthesized (``(x + y)``, ``(-x)``): Theano
found precedence-based elision unreliable and chose to print every parenthesis, and the
outputs users compare against were produced that way.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from copy import copy
from typing import Any

from tgraph.graph.basic import Variable, io_toposort
from tgraph.graph.op import Op
from tgraph.graph.type import Type
from tgraph.graph.utils import Scratchpad

VALID_ASSOC = frozenset({"left", "right", "either"})

#: Theano 1.0 printed ASCII (LaTeX-like) names for a few symbols and Greek-named variables.
use_ascii = True
special = {"middle_dot": "\\dot", "big_sigma": "\\Sigma"}
greek = {
    "alpha": "\\alpha",
    "beta": "\\beta",
    "gamma": "\\gamma",
    "delta": "\\delta",
    "epsilon": "\\epsilon",
}


class PrinterState(Scratchpad):
    """What printers share while rendering one expression.

    ``pprinter`` is the PPrinter in use, ``precedence`` the binding strength of the enclosing
    operator (kept for printers that want it), ``memo`` the text already made for each
    variable, so a shared subexpression is rendered once (and printed wherever it is used).
    """

    def __init__(self, props: Any = None, **more_props: Any):
        if isinstance(props, Scratchpad):
            self.__dict__.update(props.__dict__)
        elif props is not None:
            self.__dict__.update(props)
        self.__dict__.update(more_props)
        self.memo: dict = {}


def _with_precedence(pstate: PrinterState, precedence: float, var: Variable) -> str:
    """Render ``var`` with ``pstate.precedence`` set for the duration of the call."""
    old = getattr(pstate, "precedence", None)
    pstate.precedence = precedence
    try:
        return pstate.pprinter.process(var, pstate)
    finally:
        pstate.precedence = old


def _need_owner(output: Variable, what: str) -> Any:
    node = output.owner
    if node is None:
        raise TypeError(f"{what} cannot print {output}: it is not the result of an operation")
    return node


class OperatorPrinter:
    """Renders an infix (``(a + b + c)``) or prefix (``(-a)``) operator, parenthesized."""

    def __init__(self, operator: str, precedence: float, assoc: str = "left"):
        if assoc not in VALID_ASSOC:
            raise ValueError(
                f"OperatorPrinter({operator!r}): assoc must be one of {sorted(VALID_ASSOC)}, "
                f"got {assoc!r}"
            )
        self.operator = operator
        self.precedence = precedence
        self.assoc = assoc

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _need_owner(output, f"operator {self.operator}")
        last = len(node.inputs) - 1
        parts = []
        for i, inp in enumerate(node.inputs):
            prec = self.precedence
            # The operand on the non-associative side binds a little tighter.
            if (self.assoc == "left" and i != 0) or (self.assoc == "right" and i != last):
                prec += 1e-6
            parts.append(_with_precedence(pstate, prec, inp))
        if len(parts) == 1:
            text = self.operator + parts[0]
        else:
            text = f" {self.operator} ".join(parts)
        result = f"({text})"
        pstate.memo[output] = result
        return result


class PatternPrinter:
    """Renders through ``%``-patterns, one per output: ``('|%(0)s|', -1000)`` prints abs."""

    def __init__(self, *patterns: str | Sequence):
        self.patterns: list[tuple[str, tuple]] = []
        for pattern in patterns:
            if isinstance(pattern, str):
                self.patterns.append((pattern, ()))
            else:
                self.patterns.append((pattern[0], tuple(pattern[1:])))

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _need_owner(output, f"pattern {self.patterns}")
        pattern, precedences = self.patterns[node.outputs.index(output)]
        precedences = precedences + (1000,) * len(node.inputs)
        values = {
            str(i): _with_precedence(pstate, prec, inp)
            for i, (inp, prec) in enumerate(zip(node.inputs, precedences))
        }
        result = pattern % values
        pstate.memo[output] = result
        return result


class FunctionPrinter:
    """Renders ``name(arg, ...)``; one name per output of the Op."""

    def __init__(self, *names: str):
        self.names = names

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _need_owner(output, f"function {self.names}")
        name = self.names[node.outputs.index(output)]
        args = ", ".join(_with_precedence(pstate, -1000, inp) for inp in node.inputs)
        result = f"{name}({args})"
        pstate.memo[output] = result
        return result


class IgnorePrinter:
    """Renders the Op's first input only (copies and other no-ops for a reader)."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = _need_owner(output, "IgnorePrinter")
        result = str(pstate.pprinter.process(node.inputs[0], pstate))
        pstate.memo[output] = result
        return result


class LeafPrinter:
    """Renders a variable by its name (Greek names spelled out) or ``str``."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        result = greek.get(output.name, None) if output.name is not None else None
        if result is None:
            result = str(output)
        pstate.memo[output] = result
        return result


leaf_printer = LeafPrinter()


class DefaultPrinter:
    """``str(op)(arg, ...)`` for computed variables, the leaf printer for the others."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        if output in pstate.memo:
            return pstate.memo[output]
        node = output.owner
        if node is None:
            return leaf_printer.process(output, pstate)
        args = ", ".join(_with_precedence(pstate, -1000, inp) for inp in node.inputs)
        result = f"{node.op}({args})"
        pstate.memo[output] = result
        return result


default_printer = DefaultPrinter()


# ---------------------------------------------------------------------------------------------
# Printers for the tensor library's Ops (looked up by class name, see the module docstring)


class DimShufflePrinter:
    """Hides broadcasting: leading ``'x'`` dims and the identity order print as the input,
    the full reversal as ``x.T``, anything else as ``DimShuffle{1, 0, x}(x)`` (Theano's)."""

    def _render(self, new_order: tuple, pstate: PrinterState, var: Variable) -> str:
        while new_order and new_order[0] == "x":
            new_order = new_order[1:]
        ndim = var.type.ndim
        if list(new_order) == list(range(ndim)):
            return pstate.pprinter.process(var, pstate)
        if list(new_order) == list(reversed(range(ndim))):
            return f"{pstate.pprinter.process(var, pstate)}.T"
        order = ", ".join(map(str, new_order))
        return f"DimShuffle{{{order}}}({pstate.pprinter.process(var, pstate)})"

    def process(self, output: Variable, pstate: PrinterState) -> str:
        node = _need_owner(output, "DimShufflePrinter")
        new_order = getattr(node.op, "new_order", None)
        if new_order is None:
            raise TypeError(f"DimShufflePrinter can only print DimShuffle, got {node.op}")
        return self._render(tuple(new_order), pstate, node.inputs[0])


class SubtensorPrinter:
    """``x[1:3]``, ``x[i, ::2]``: each symbolic index is read from the node's inputs in order
    (a tensor index's conversion to a scalar is not shown).

    Theano 1.0 printed the *type* of symbolic slice bounds (``x[int64:int64:]``) and took
    scalar indices from the end; we print the index values, in order.
    """

    def process(self, output: Variable, pstate: PrinterState) -> str:
        node = _need_owner(output, "SubtensorPrinter")
        idx_list = getattr(node.op, "idx_list", None)
        if idx_list is None:
            raise TypeError(f"SubtensorPrinter can only print Subtensor, got {node.op}")
        rest = list(node.inputs[1:])

        def entry_text(entry: Any, blank: Callable[[Any], bool]) -> str:
            if isinstance(entry, Type):
                index = rest.pop(0)
                # x[i] converts a tensor index to a scalar; the reader wrote just i.
                if index.owner is not None and type(index.owner.op).__name__ == \
                        "ScalarFromTensor":
                    index = index.owner.inputs[0]
                if index.owner is None and hasattr(index, "data"):
                    return str(index.data)  # a constant index reads as its value: x[1:3]
                return _with_precedence(pstate, -1000, index)
            if entry is None or blank(entry):
                return ""
            return str(entry)

        parts = []
        for entry in idx_list:
            if isinstance(entry, slice):
                start = entry_text(entry.start, lambda e: e == 0)
                stop = entry_text(entry.stop, lambda e: e == sys.maxsize)
                step = entry_text(entry.step, lambda e: False)
                parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
            else:
                parts.append(entry_text(entry, lambda e: False))
        base = _with_precedence(pstate, 1000, node.inputs[0])
        return f"{base}[{', '.join(parts)}]"


class MakeVectorPrinter:
    """``[a, b, c]`` for a vector built from scalars."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        node = _need_owner(output, "MakeVectorPrinter")
        items = [_with_precedence(pstate, 1000, inp) for inp in node.inputs]
        return f"[{', '.join(items)}]"


class SumPrinter:
    """``sum(x)`` for a sum over all axes (Theano registered only ``Sum()``), else default."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        node = _need_owner(output, "SumPrinter")
        if getattr(node.op, "axis", None) is None:
            return FunctionPrinter("sum").process(output, pstate)
        return default_printer.process(output, pstate)


# Scalar ops (by class name, inside tgraph.scalar) that print as operators or patterns;
# Theano assigned the same printers to the scalar ops and to their Elemwise versions.
_SCALAR_PRINTERS: dict[str, Any] = {
    "Add": OperatorPrinter("+", -2, "either"),
    "Mul": OperatorPrinter("*", -1, "either"),
    "Sub": OperatorPrinter("-", -2, "left"),
    "Neg": OperatorPrinter("-", 0, "either"),
    "TrueDiv": OperatorPrinter("/", -1, "left"),
    "IntDiv": OperatorPrinter("//", -1, "left"),
    "Pow": OperatorPrinter("**", 1, "right"),
    "Mod": OperatorPrinter("%", -1, "left"),
}
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_LIBRARY_NAME = re.compile(r"^Elemwise\{(\w+),(?:no_)?inplace\}$")


def _scalar_class_name(scalar_op: Any) -> str | None:
    """The class name of a tgraph.scalar op, None for scalar ops defined elsewhere."""
    cls = type(scalar_op)
    if cls.__module__.split(".")[:2] == ["tgraph", "scalar"]:
        return cls.__name__
    return None


class ScalarOpPrinter:
    """Operators (``(a + b)``) for arithmetic scalar ops, ``name(args)`` for the others."""

    def process(self, output: Variable, pstate: PrinterState) -> str:
        op = _need_owner(output, "ScalarOpPrinter").op
        printer = _SCALAR_PRINTERS.get(_scalar_class_name(op) or "")
        if printer is not None:
            return printer.process(output, pstate)
        name = str(op)
        if _IDENTIFIER.match(name):
            return FunctionPrinter(*[name] * len(output.owner.outputs)).process(output, pstate)
        return default_printer.process(output, pstate)


class ElemwisePrinter:
    """Elementwise ops print as their scalar op would: ``(x + y)``, ``exp(x)``, ``|x|``.

    In-place versions get Theano's ``=`` suffix (``(x += y)``, ``exp=(x)``); a copy
    (``tensor_copy``) prints as its input, ``second``/``fill`` as ``fill(a, b)``, a cast as
    its dtype (``int8(x)``). Fused or unnamed composite ops keep their full name.
    """

    def _printer(self, op: Any) -> Any:
        scalar_op = op.scalar_op
        inplace = bool(getattr(op, "destroy_map", None))
        suffix = "=" if inplace else ""
        cls = _scalar_class_name(scalar_op)
        if cls in _SCALAR_PRINTERS:
            base = _SCALAR_PRINTERS[cls]
            return OperatorPrinter(base.operator + suffix, base.precedence, base.assoc)
        if cls == "Abs" and not inplace:
            return PatternPrinter(("|%(0)s|", -1000))
        if cls == "Identity" and not inplace:
            return IgnorePrinter()
        if cls == "Second":
            return FunctionPrinter("fill" + suffix)
        if cls == "Cast":
            return FunctionPrinter(str(scalar_op.o_type.dtype) + suffix)
        name = getattr(op, "name", None) or ""
        match = _LIBRARY_NAME.match(name)
        if match:
            symbol = match.group(1)
        elif _IDENTIFIER.match(name):
            symbol = name
        elif _IDENTIFIER.match(str(scalar_op)):
            symbol = str(scalar_op)
        else:
            return default_printer
        return FunctionPrinter(symbol + suffix)

    def process(self, output: Variable, pstate: PrinterState) -> str:
        op = _need_owner(output, "ElemwisePrinter").op
        if not hasattr(op, "scalar_op"):
            return default_printer.process(output, pstate)
        return self._printer(op).process(output, pstate)


# ---------------------------------------------------------------------------------------------
# The dispatcher


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class PPrinter:
    """Chooses a printer per variable and renders graphs (Theano 1.0's ``PPrinter``).

    ``assign(condition, printer)``: ``condition`` is an Op instance, an Op class (it also
    covers subclasses), a ``"module.ClassName"`` string (an Op class named without importing
    it), or a function ``condition(pstate, var) -> bool``.
    """

    def __init__(self) -> None:
        self.printers: list[tuple[Callable, Any]] = []
        self.printers_dict: dict = {}
        self.printers_by_name: dict[str, Any] = {}

    def assign(self, condition: Any, printer: Any) -> None:
        if isinstance(condition, str):
            self.printers_by_name[condition] = printer
        elif isinstance(condition, type | Op):
            self.printers_dict[condition] = printer
        elif callable(condition):
            self.printers.insert(0, (condition, printer))
        else:
            raise TypeError(
                "PPrinter.assign: condition must be an Op, an Op class, a 'module.Class' name "
                f"or a function (pstate, var) -> bool; got {type(condition).__name__} "
                f"{condition!r}"
            )

    def _printer_for(self, r: Variable, pstate: PrinterState) -> Any:
        owner = r.owner
        if owner is not None:
            op = owner.op
            try:
                printer = self.printers_dict.get(op)
            except TypeError:  # an unhashable Op cannot have been assigned by instance
                printer = None
            if printer is not None:
                return printer
            for cls in type(op).__mro__:
                printer = self.printers_dict.get(cls) or self.printers_by_name.get(_qualname(cls))
                if printer is not None:
                    return printer
        for condition, printer in self.printers:
            if condition(pstate, r):
                return printer
        return None

    def process(self, r: Variable, pstate: PrinterState | dict | None = None) -> str:
        """The text of ``r``."""
        if not isinstance(r, Variable):
            raise TypeError(
                f"pprint expects a symbolic Variable, got {type(r).__name__}: {r!r}"
            )
        if pstate is None:
            pstate = PrinterState(pprinter=self)
        elif isinstance(pstate, dict):
            pstate = PrinterState(pprinter=self, **pstate)
        printer = self._printer_for(r, pstate)
        if printer is None:
            raise TypeError(
                f"pprint: no printer is assigned for {r} "
                f"(op {r.owner.op if r.owner is not None else None}); assign a default with "
                "printer.assign(lambda pstate, r: True, default_printer)"
            )
        return printer.process(r, pstate)

    def clone(self) -> PPrinter:
        cp = copy(self)
        cp.printers = list(self.printers)
        cp.printers_dict = dict(self.printers_dict)
        cp.printers_by_name = dict(self.printers_by_name)
        return cp

    def clone_assign(self, condition: Any, printer: Any) -> PPrinter:
        cp = self.clone()
        cp.assign(condition, printer)
        return cp

    def process_graph(self, inputs: Any, outputs: Any, updates: dict | None = None,
                      display_inputs: bool = False) -> str:
        """A small program: ``name = expr`` per named intermediate, ``return expr`` (one
        output) or ``out[i] = expr``, and ``shared <- expr`` per update; named variables are
        printed by name inside later expressions."""
        updates = dict(updates or {})
        inputs = list(inputs) if isinstance(inputs, list | tuple) else [inputs]
        outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        strings: list[tuple[float, str]] = []
        if display_inputs:
            names = ", ".join(str(v) for v in [*inputs, *updates.keys()])
            strings.append((0, f"inputs: {names}"))
        current: list[Variable | None] = [None]
        printer = self.clone_assign(
            lambda pstate, r: r.name is not None and r is not current[0], leaf_printer
        )
        inv_updates = {new: old for old, new in updates.items()}
        i = 1
        out_ids = [id(o) for o in outputs]
        for node in io_toposort([*inputs, *updates.keys()], [*outputs, *updates.values()]):
            for output in node.outputs:
                if output in inv_updates:
                    strings.append((i + 1000, f"{inv_updates[output]} <- "
                                              f"{printer.process(output)}"))
                    i += 1
                if output.name is not None or id(output) in out_ids:
                    name = output.name
                    if name is None:
                        name = f"out[{out_ids.index(id(output))}]"
                    current[0] = output
                    idx = 2000 + out_ids.index(id(output)) if id(output) in out_ids else i
                    if len(outputs) == 1 and outputs[0] is output:
                        strings.append((idx, f"return {printer.process(output)}"))
                    else:
                        strings.append((idx, f"{name} = {printer.process(output)}"))
                    i += 1
        strings.sort(key=lambda s: s[0])
        return "\n".join(s for _, s in strings)

    def __call__(self, *args: Any) -> str:
        if len(args) == 1:
            return self.process(*args)
        if len(args) == 2 and isinstance(args[1], PrinterState | dict):
            return self.process(*args)
        if len(args) > 2:
            return self.process_graph(*args)
        raise TypeError(
            "pprint takes a variable (and optionally a PrinterState), or inputs, outputs and "
            f"updates; got {len(args)} argument(s)"
        )


pprint = PPrinter()
pprint.assign(lambda pstate, r: True, default_printer)
for _name, _printer in {
    "tgraph.tensor.elemwise.Elemwise": ElemwisePrinter(),
    "tgraph.tensor.elemwise.DimShuffle": DimShufflePrinter(),
    "tgraph.tensor.subtensor.Subtensor": SubtensorPrinter(),
    "tgraph.tensor.shape.MakeVector": MakeVectorPrinter(),
    "tgraph.tensor.reduction.Sum": SumPrinter(),
    "tgraph.tensor.dot.Dot": OperatorPrinter(special["middle_dot"], -1, "left"),
    "tgraph.tensor.join.Join": FunctionPrinter("join"),
    "tgraph.tensor.alloc.Alloc": FunctionPrinter("alloc"),
    "tgraph.scalar.op.ScalarOp": ScalarOpPrinter(),
}.items():
    pprint.assign(_name, _printer)

#: Theano's short name: ``theano.pp(x)``.
pp = pprint

__all__ = [
    "VALID_ASSOC",
    "DefaultPrinter",
    "DimShufflePrinter",
    "ElemwisePrinter",
    "FunctionPrinter",
    "IgnorePrinter",
    "LeafPrinter",
    "MakeVectorPrinter",
    "OperatorPrinter",
    "PPrinter",
    "PatternPrinter",
    "PrinterState",
    "ScalarOpPrinter",
    "SubtensorPrinter",
    "SumPrinter",
    "default_printer",
    "greek",
    "leaf_printer",
    "pp",
    "pprint",
    "special",
    "use_ascii",
]

"""Symbolic differentiation (Theano 1.0's ``theano.gradient``): grad, Lop, Rop, jacobian, hessian.

Reverse mode (:func:`grad`, :func:`Lop`) walks the nodes between the requested variables and the
cost in reverse dependency order and asks each Op for the gradient on its inputs
(``op.L_op(inputs, outputs, output_grads)``, which defaults to ``op.grad``), summing the terms
a variable receives from all its clients. It follows Theano 1.0's contract: ``connection_pattern``
says which outputs depend on which inputs; a gradient is never integer-valued (integer outputs'
gradients are left as given, float ones are cast to the output's dtype); ``DisconnectedType``
marks structural zeros and ``NullType`` undefined gradients. The walk is iterative, so very deep
graphs do not hit Python's recursion limit.

Forward mode (:func:`Rop`) calls each Op's ``R_op``; an Op without one is handled by the
double-L-op identity (see :func:`_rop_by_double_lop`), where Theano 1.0 raised.

Import discipline: this module imports only the graph IR and its two helper modules. Tensor
arithmetic (ones, zeros, casts, sums of gradient terms) goes through the variables' methods,
which reach the op library at call time: the op modules import this module for
``grad_undefined`` and friends, so importing them here would make an import cycle.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tgraph._config import config
from tgraph._grad_engine import (
    Patterns,
    backpropagate,
    connected_clients,
    dtype_kind,
    dtype_of,
    is_continuous,
    is_discrete,
)
from tgraph.gradient_ops import (
    ConsiderConstant,
    DisconnectedGrad,
    DisconnectedType,
    GradClip,
    GradientViewOp,
    GradScale,
    NullType,
    UndefinedGrad,
    ZeroGrad,
    consider_constant,
    disconnected_grad,
    disconnected_type,
    grad_clip,
    grad_not_implemented,
    grad_scale,
    grad_undefined,
    null_type,
    undefined_grad,
    zero_grad,
)
from tgraph.graph.basic import Apply, Variable, clone_replace, io_toposort
from tgraph.graph.utils import MethodNotDefined, TestValueError, get_variable_trace_string
from tgraph.jacobian import RowwiseGrad

# ---------------------------------------------------------------------------------------------
# Errors


class DisconnectedInputError(ValueError):
    """A requested gradient's variable is not connected to the cost (``disconnected_inputs``)."""


class NullTypeGradError(TypeError):
    """A requested gradient is undefined or not implemented (a NullType reached it)."""


class GradientError(AssertionError):
    """:func:`verify_grad` found the analytic gradient far from the finite-difference one.

    An AssertionError (as NumPy's testing asserts are), since it reports a failed check.
    ``arg`` is the input index, ``err_pos`` the flat position of the worst element.
    """

    def __init__(self, arg, err_pos, shape, val1, val2, abs_err, rel_err, abs_tol, rel_tol,
                 arg_name=None):
        super().__init__()
        self.arg = arg
        self.err_pos = err_pos
        self.shape = shape
        self.val1 = val1
        self.val2 = val2
        self.abs_err = abs_err
        self.rel_err = rel_err
        self.abs_tol = abs_tol
        self.rel_tol = rel_tol
        self.arg_name = arg_name

    def __str__(self):
        index = tuple(int(i) for i in np.unravel_index(self.err_pos, self.shape)) \
            if self.shape else ()
        name = f" ({self.arg_name})" if self.arg_name else ""
        extra = "".join(f"\n{a}" for a in self.args)
        return (
            "GradientError: analytic and numeric gradients differ beyond tolerance\n"
            f"  input {self.arg}{name} of shape {tuple(self.shape)}, element {index} "
            f"(flat position {self.err_pos}):\n"
            f"    analytic = {self.val1!r}, numeric = {self.val2!r}\n"
            f"    abs. error = {self.abs_err:g} (tolerance {self.abs_tol:g}), "
            f"rel. error = {self.rel_err:g} (tolerance {self.rel_tol:g})" + extra
        )


# ---------------------------------------------------------------------------------------------
# Small helpers


def format_as(use_list: bool, use_tuple: bool, outputs: Any) -> Any:
    """``outputs`` as a list, a tuple, or (when both flags are false) a single item."""
    if use_list and use_tuple:
        raise ValueError("format_as: use_list and use_tuple cannot both be true")
    if use_list or use_tuple:
        seq = outputs if isinstance(outputs, list | tuple) else [outputs]
        return list(seq) if use_list else tuple(seq)
    if isinstance(outputs, list | tuple):
        if len(outputs) != 1:
            raise ValueError(f"format_as: expected a single output, got {len(outputs)}")
        return outputs[0]
    return outputs


def _describe(var: Variable) -> str:
    if var.name is not None:
        return f"'{var.name}' ({var.type})"
    return f"{var} ({var.type})" if var.owner is not None else f"(unnamed {var.type})"


def _check_choice(func: str, arg: str, value: Any, choices: Sequence[str]) -> None:
    if value not in choices:
        raise ValueError(
            f"{func}: invalid {arg}={value!r}; expected one of {', '.join(map(repr, choices))}"
        )


def _return_disconnected_mode(func: str, value: Any) -> str:
    """Theano spells the choices 'zero', 'None', 'Disconnected'; accept any case."""
    mode = value.lower() if isinstance(value, str) else value
    _check_choice(func, "return_disconnected", mode, ("zero", "none", "disconnected"))
    return mode


def _float_zeros_like(x: Variable) -> Variable:
    """Zeros shaped like ``x`` with a float dtype (x's own when float, else floatX)."""
    if dtype_kind(dtype_of(x)) == "f":
        return x.zeros_like()
    return x.zeros_like(dtype=config.floatX)


def _unit_gradient(cost: Variable) -> Variable:
    """d cost / d cost: a constant 1 of the cost's dtype (floatX for discrete costs)."""
    dtype = dtype_of(cost) if is_continuous(dtype_of(cost)) else config.floatX
    if getattr(cost.type, "broadcastable", None) == ():
        ttype = cost.type.clone(dtype=dtype)
        return ttype.make_constant(np.ones((), dtype=dtype))
    return cost.ones_like(dtype=dtype)


def _as_eval_point(like: Variable, value: Any, func: str, what: str) -> Variable:
    """``value`` as a Variable; non-symbolic data becomes a constant of ``like``'s type."""
    if isinstance(value, Variable):
        return value
    ttype = like.type
    if is_discrete(dtype_of(like)):
        ttype = ttype.clone(dtype=config.floatX)
    try:
        return ttype.make_constant(ttype.filter(value, allow_downcast=True))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{func}: {what} cannot be used as a value of {ttype}: {exc}") from exc


def _give_test_value(dst: Variable, like: Variable, zeros: bool) -> None:
    """With test values on, give a placeholder ``like``'s test value (or zeros shaped so).

    Gradient graphs built on placeholders (the Jacobian seed, the double-L-op variables)
    would otherwise fail under ``compute_test_value='raise'``.
    """
    if config.compute_test_value == "off":
        return
    try:
        value = like.get_test_value()
    except (TestValueError, AttributeError):
        return
    dtype = dtype_of(dst)
    dst.tag.test_value = np.zeros(np.shape(value), dtype=dtype) if zeros else value


# ---------------------------------------------------------------------------------------------
# Reverse mode


def grad(cost: Variable | None, wrt: Variable | Sequence[Variable],
         consider_constant: Sequence[Variable] | None = None,
         disconnected_inputs: str = "raise", add_names: bool = True,
         known_grads: Mapping[Variable, Variable] | None = None,
         return_disconnected: str = "zero", null_gradients: str = "raise") -> Any:
    """Symbolic gradient of the scalar ``cost`` with respect to ``wrt`` (a variable or a list).

    - ``consider_constant``: variables not to differentiate through (treated as inputs);
    - ``disconnected_inputs``: 'raise' (DisconnectedInputError), 'warn' or 'ignore' when an
      element of ``wrt`` does not influence the cost;
    - ``known_grads``: ``{variable: gradient}`` for variables whose gradient is known; with
      ``cost=None`` they are the only source of gradient (that is what :func:`Lop` does). As
      in Theano, a variable listed there gets exactly that gradient: contributions that would
      reach it from the cost are not added;
    - ``return_disconnected``: for disconnected ``wrt``, 'zero' (float zeros shaped like it),
      'None', or 'Disconnected' (a DisconnectedType placeholder);
    - ``null_gradients``: 'raise' (NullTypeGradError) or 'return' undefined gradients.

    Returns gradients in the structure of ``wrt`` (a list for a list, a tuple for a tuple).
    A float ``wrt`` gets a gradient of its own dtype and type; an integer one gets whatever
    its ops say (floatX zeros, by the op contract).
    """
    _check_choice("grad", "disconnected_inputs", disconnected_inputs, ("ignore", "warn", "raise"))
    disconnected_mode = _return_disconnected_mode("grad", return_disconnected)
    _check_choice("grad", "null_gradients", null_gradients, ("raise", "return"))
    if cost is None and known_grads is None:
        raise ValueError("grad: cost and known_grads cannot both be None")
    if cost is not None:
        if not isinstance(cost, Variable):
            raise TypeError(f"grad: cost must be a symbolic Variable, got {type(cost).__name__}")
        if isinstance(cost.type, NullType):
            raise ValueError(f"grad: cannot differentiate an undefined cost: {cost.type.why_null}")
        if getattr(cost.type, "ndim", None) != 0:
            raise TypeError(
                f"grad: cost must be a scalar (0-d); got {_describe(cost)} with "
                f"{getattr(cost.type, 'ndim', '?')} dimensions. Reduce it first (cost.sum(), "
                "cost.mean()), or use jacobian() or Lop() for non-scalar expressions"
            )
    if isinstance(wrt, set | frozenset):
        raise TypeError("grad: wrt must be a list or tuple, not a set (sets have no order to "
                        "return gradients in)")
    using_list, using_tuple = isinstance(wrt, list), isinstance(wrt, tuple)
    wrt_list = list(wrt) if using_list or using_tuple else [wrt]
    for i, elem in enumerate(wrt_list):
        if not isinstance(elem, Variable):
            raise TypeError(
                f"grad: wrt[{i}] must be a symbolic Variable, got {type(elem).__name__}: {elem!r}"
            )
    constants = _check_consider_constant(consider_constant)
    known = _check_known_grads(known_grads)

    grad_dict: dict[Variable, Variable] = {}
    if cost is not None:
        g_cost = known[cost] if cost in known else _unit_gradient(cost)
        if is_continuous(dtype_of(cost)) and dtype_of(g_cost) not in (None, dtype_of(cost)):
            g_cost = g_cost.astype(dtype_of(cost))
        grad_dict[cost] = g_cost
    for var, g in known.items():
        grad_dict.setdefault(var, g)

    patterns = Patterns()
    outputs = ([cost] if cost is not None else []) + [v for v in known if v is not cost]
    var_clients = connected_clients(outputs, wrt_list, constants, patterns)
    what = "the cost" if cost is not None else "the variables in known_grads"
    # Report structurally disconnected inputs before building anything (as Theano does).
    reported = [i for i, elem in enumerate(wrt_list)
                if elem not in var_clients and elem not in grad_dict]
    for i in reported:
        _handle_disconnected(disconnected_inputs, i, wrt_list[i], what, "grad")
    cost_name = cost.name if add_names and cost is not None else None
    rval = backpropagate(var_clients, grad_dict, wrt_list, cost_name, patterns)

    for i, (elem, g) in enumerate(zip(wrt_list, rval)):
        if isinstance(g.type, NullType):
            if null_gradients == "raise":
                raise NullTypeGradError(
                    f"grad: the gradient with respect to wrt[{i}] {_describe(elem)} is "
                    f"undefined. {g.type.why_null}"
                )
        elif isinstance(g.type, DisconnectedType):
            if i not in reported:
                _handle_disconnected(disconnected_inputs, i, elem, what, "grad")
            if disconnected_mode == "zero":
                rval[i] = _float_zeros_like(elem)
            elif disconnected_mode == "none":
                rval[i] = None
        else:
            rval[i] = _match_wrt_type(g, elem)
    if using_tuple:
        return tuple(rval)
    if using_list:
        return rval
    return rval[0]


def _check_consider_constant(consider_constant) -> set[int]:
    if consider_constant is None:
        return set()
    if isinstance(consider_constant, Variable):
        raise TypeError("grad: consider_constant must be a list of Variables, got one Variable "
                        "(wrap it in a list)")
    try:
        items = list(consider_constant)
    except TypeError:
        raise TypeError("grad: consider_constant must be an iterable of Variables, got "
                        f"{type(consider_constant).__name__}") from None
    for i, v in enumerate(items):
        if not isinstance(v, Variable):
            raise TypeError(
                f"grad: consider_constant[{i}] must be a Variable, got {type(v).__name__}"
            )
    return {id(v) for v in items}


def _check_known_grads(known_grads) -> dict[Variable, Variable]:
    if known_grads is None:
        return {}
    if not isinstance(known_grads, Mapping):
        raise TypeError("grad: known_grads must be a dict {variable: gradient}, got "
                        f"{type(known_grads).__name__}")
    out: dict[Variable, Variable] = {}
    for var, g in known_grads.items():
        if not isinstance(var, Variable):
            raise TypeError(f"grad: known_grads keys must be Variables, got {var!r}")
        if not isinstance(g, Variable):
            raise TypeError(
                f"grad: the known gradient of {var} must be a symbolic Variable, got "
                f"{type(g).__name__} (wrap data with theano.tensor.constant)"
            )
        if not isinstance(g.type, NullType | DisconnectedType) and dtype_kind(dtype_of(g)) != "f":
            raise TypeError(
                f"grad: the known gradient of {var} must be NullType, DisconnectedType or a "
                f"float tensor, got {g.type}"
            )
        out[var] = g
    return out


def _handle_disconnected(mode: str, i: int, elem: Variable, what: str, func: str) -> None:
    message = (
        f"{func}: {what} does not depend on input {i} {_describe(elem)}: it is not part of the "
        "graph that computes it, or reaches it only through non-differentiable operations. "
        "Pass disconnected_inputs='ignore' to get a zero gradient, or 'warn'."
    )
    if mode == "warn":
        warnings.warn(message, stacklevel=3)
    elif mode == "raise":
        trace = get_variable_trace_string(elem)
        raise DisconnectedInputError(message + ("\n" + trace if trace else ""))


def _match_wrt_type(g: Variable, elem: Variable) -> Variable:
    """Give a float variable's gradient its dtype and broadcast pattern."""
    wdt, gdt = dtype_of(elem), dtype_of(g)
    if is_continuous(wdt) and gdt is not None and gdt != wdt:
        g = g.astype(wdt)
    if g.type != elem.type and type(g.type) is type(elem.type) and dtype_of(g) == wdt \
            and getattr(g.type, "ndim", None) == getattr(elem.type, "ndim", None):
        converted = elem.type.convert_variable(g)
        if converted is not None:
            g = converted
    return g


def Lop(f: Variable | Sequence[Variable], wrt: Variable | Sequence[Variable], eval_points: Any,
        consider_constant: Sequence[Variable] | None = None,
        disconnected_inputs: str = "raise") -> Any:
    """The vector-Jacobian product ``sum_i eval_points[i] . d f[i] / d wrt``.

    ``eval_points`` has one entry per element of ``f`` (its shape). Returns one result per
    element of ``wrt``, in ``wrt``'s structure.
    """
    f_list = list(f) if isinstance(f, list | tuple) else [f]
    points = list(eval_points) if isinstance(eval_points, list | tuple) else [eval_points]
    if len(f_list) != len(points):
        raise ValueError(f"Lop: got {len(f_list)} expressions but {len(points)} eval_points")
    using_list, using_tuple = isinstance(wrt, list), isinstance(wrt, tuple)
    wrt_list = list(wrt) if using_list or using_tuple else [wrt]
    known = {}
    for i, (fi, p) in enumerate(zip(f_list, points)):
        if not isinstance(fi, Variable):
            raise TypeError(f"Lop: f[{i}] must be a Variable, got {type(fi).__name__}")
        known[fi] = _as_eval_point(fi, p, "Lop", f"eval_points[{i}]")
    ret = grad(cost=None, known_grads=known, consider_constant=consider_constant, wrt=wrt_list,
               disconnected_inputs=disconnected_inputs)
    return format_as(using_list, using_tuple, ret)


def subgraph_grad(wrt: list[Variable], end: list[Variable],
                  start: Mapping[Variable, Variable] | None = None,
                  cost: Variable | None = None, details: bool = False):
    """Gradients of ``cost`` and/or the known gradients ``start`` on ``wrt`` and ``end``.

    ``end`` variables are treated as constants (the sweep stops there), so a network can be
    differentiated one block at a time. Returns ``(wrt_grads, end_grads)``, plus
    ``(start_grads, cost_grads)`` with ``details=True``. Disconnected inputs get zeros.
    """
    if cost is None and start is None:
        raise ValueError("subgraph_grad: give a cost, start gradients, or both")
    if not isinstance(wrt, list) or not isinstance(end, list):
        raise TypeError("subgraph_grad: wrt and end must be lists of Variables")
    if start is not None and not isinstance(start, Mapping):
        raise TypeError("subgraph_grad: start must be a dict {variable: gradient}")
    params = list(dict.fromkeys(wrt + end))
    start_grads = cost_grads = None
    if start is not None:
        start_grads = list(grad(cost=None, wrt=params, known_grads=start, consider_constant=end,
                                disconnected_inputs="ignore"))
    if cost is not None:
        cost_grads = list(grad(cost=cost, wrt=params, consider_constant=end,
                               disconnected_inputs="ignore"))
    if start_grads is None:
        grads = cost_grads
    else:
        grads = list(start_grads)
        if cost_grads is not None:
            grads = [a + b for a, b in zip(grads, cost_grads)]
    by_param = dict(zip(params, grads))
    wrt_grads = [by_param[k] for k in wrt]
    end_grads = [by_param[k] for k in end]
    if details:
        return wrt_grads, end_grads, start_grads, cost_grads
    return wrt_grads, end_grads


# ---------------------------------------------------------------------------------------------
# Forward mode


def Rop(f: Variable | Sequence[Variable], wrt: Variable | Sequence[Variable], eval_points: Any,
        disconnected_outputs: str = "raise", return_disconnected: str = "zero") -> Any:
    """The Jacobian-vector product ``sum_j d f / d wrt[j] . eval_points[j]``.

    ``eval_points`` has one entry per element of ``wrt`` (its shape). Each node's ``R_op``
    is used; inputs that do not depend on ``wrt`` get zero eval points (as in Theano). An
    Op without ``R_op`` is handled by the double-L-op identity instead of failing. An element
    of ``f`` that does not depend on any ``wrt`` is "disconnected": ``disconnected_outputs``
    ('raise', 'warn', 'ignore') and ``return_disconnected`` ('zero', 'None', 'Disconnected')
    say what to do. Returns results in ``f``'s structure.
    """
    _check_choice("Rop", "disconnected_outputs", disconnected_outputs,
                  ("ignore", "warn", "raise"))
    disconnected_mode = _return_disconnected_mode("Rop", return_disconnected)
    using_list, using_tuple = isinstance(f, list), isinstance(f, tuple)
    f_list = list(f) if using_list or using_tuple else [f]
    wrt_list = list(wrt) if isinstance(wrt, list | tuple) else [wrt]
    points = list(eval_points) if isinstance(eval_points, list | tuple) else [eval_points]
    if len(wrt_list) != len(points):
        raise ValueError(f"Rop: got {len(wrt_list)} wrt variables but {len(points)} eval_points")
    rvals: dict[Variable, Variable | None] = {}
    for j, (w, p) in enumerate(zip(wrt_list, points)):
        if not isinstance(w, Variable):
            raise TypeError(f"Rop: wrt[{j}] must be a Variable, got {type(w).__name__}")
        p = _as_eval_point(w, p, "Rop", f"eval_points[{j}]")
        wnd, pnd = getattr(w.type, "ndim", None), getattr(p.type, "ndim", None)
        if wnd is not None and pnd is not None and wnd != pnd:
            raise ValueError(f"Rop: element {j} of wrt/eval_points have mismatched "
                             f"dimensionality: {wnd} versus {pnd}")
        rvals.setdefault(w, p)

    for node in io_toposort(list(rvals), f_list):
        if not any(rvals.get(i) is not None for i in node.inputs):
            continue
        local = [_input_eval_point(inp, rvals) for inp in node.inputs]
        try:
            outs = node.op.R_op(list(node.inputs), local)
        except MethodNotDefined:
            outs = _rop_by_double_lop(node, local)
        if outs is None or len(outs) != len(node.outputs):
            raise ValueError(f"{node.op}.R_op must return one entry per output "
                             f"({len(node.outputs)}), got {outs!r}")
        for o, r in zip(node.outputs, outs):
            if r is not None and not isinstance(r, Variable):
                raise TypeError(f"{node.op}.R_op returned {type(r).__name__}, expected a "
                                "Variable or None")
            rvals[o] = r

    rval = []
    for i, out in enumerate(f_list):
        r = rvals.get(out)
        if r is None:
            if disconnected_outputs != "ignore":
                message = (f"Rop: output {i} {_describe(out)} does not depend on any variable "
                           "in wrt (or only through non-differentiable operations). Pass "
                           "disconnected_outputs='ignore' to get zeros, or 'warn'.")
                if disconnected_outputs == "warn":
                    warnings.warn(message, stacklevel=2)
                else:
                    raise DisconnectedInputError(message)
            if disconnected_mode == "zero":
                r = out.zeros_like()
            elif disconnected_mode == "disconnected":
                r = disconnected_type()
        rval.append(r)
    return format_as(using_list, using_tuple, rval)


def _input_eval_point(inp: Variable, rvals) -> Variable | None:
    """The eval point of a node input: its R value, or zeros when it does not depend on wrt."""
    if inp in rvals:
        r = rvals[inp]
    else:
        return inp.zeros_like() if hasattr(inp, "zeros_like") else None
    if r is None or r.type == inp.type:
        return r
    try:
        return inp.type.filter_variable(r)
    except TypeError:
        # A float eval point on an integer input (Theano casts it likewise).
        return inp.type.filter_variable(r.astype(dtype_of(inp)))


def _rop_by_double_lop(node: Apply, eval_points: list) -> list:
    """``J v`` for a node whose op has no R_op, from its gradient: ``d/du <J^T u, v>``.

    The op's gradient graph ``g(u) = J^T u`` is linear in the output gradient ``u``; its
    derivative along ``v`` with respect to ``u`` is ``J v``. The node is re-applied to
    placeholder inputs so that each input is differentiated on its own (an input that is an
    ancestor of another must not pick up the other's path). Needs only the op's grad.
    """
    placeholders = [inp.type() for inp in node.inputs]
    for p, inp in zip(placeholders, node.inputs):
        _give_test_value(p, inp, zeros=False)
    twin = node.clone_with_new_inputs(placeholders, strict=True)
    seeds, known = [], {}
    for o, real in zip(twin.outputs, node.outputs):
        u = o.type() if dtype_kind(dtype_of(o)) == "f" else None
        seeds.append(u)
        if u is not None:
            _give_test_value(u, real, zeros=True)
            known[o] = u
    diff = [j for j, (p, ep) in enumerate(zip(placeholders, eval_points))
            if ep is not None and dtype_kind(dtype_of(p)) == "f"]
    if not known or not diff:
        return [None] * len(node.outputs)
    lops = grad(cost=None, known_grads=known, wrt=[placeholders[j] for j in diff],
                disconnected_inputs="ignore", return_disconnected="Disconnected",
                null_gradients="return")
    pairs: dict[Variable, Variable] = {}
    for j, g in zip(diff, lops):
        if isinstance(g.type, DisconnectedType):
            continue
        if isinstance(g.type, NullType):
            raise MethodNotDefined(
                f"Rop: {node.op} has no R_op and its gradient on input {j} is not available: "
                f"{g.type.why_null}"
            )
        ep = eval_points[j]
        if dtype_of(ep) != dtype_of(g):
            ep = ep.astype(dtype_of(g))
        pairs[g] = pairs[g] + ep if g in pairs else ep
    live = [u for u in seeds if u is not None]
    if not pairs:
        return [None] * len(node.outputs)
    jvps = grad(cost=None, known_grads=pairs, wrt=live, disconnected_inputs="ignore",
                return_disconnected="None")
    # The result does not depend on u's value, but may still read its shape: give it the
    # (zero) shape of the real output, and put the real inputs back.
    replace = {p: inp for p, inp in zip(placeholders, node.inputs)}
    replace.update({u: o.zeros_like() for u, o in zip(seeds, node.outputs) if u is not None})
    by_seed = dict(zip(live, jvps))
    result = []
    for u in seeds:
        r = by_seed.get(u) if u is not None else None
        result.append(None if r is None else clone_replace(r, replace))
    return result


# ---------------------------------------------------------------------------------------------
# Jacobian and Hessian


def jacobian(expression: Variable, wrt: Variable | Sequence[Variable],
             consider_constant: Sequence[Variable] | None = None,
             disconnected_inputs: str = "raise") -> Any:
    """The Jacobian of a vector (or scalar) ``expression``: ``J[i, ...] = d expression[i] / d wrt``.

    Result ``k`` has shape ``expression.shape + wrt[k].shape``. Theano 1.0 loops with scan;
    here one vector-Jacobian product graph is built and evaluated row by row by
    :class:`tgraph.jacobian.RowwiseGrad` (see that module). A scalar expression gives ``grad``.
    """
    if not isinstance(expression, Variable):
        raise TypeError(f"jacobian: expression must be a Variable, got {type(expression).__name__}")
    ndim = getattr(expression.type, "ndim", None)
    if ndim not in (0, 1):
        raise ValueError(
            f"jacobian: expression must be a scalar or a vector; got {_describe(expression)} "
            f"with {ndim} dimensions (flatten it first)"
        )
    using_list, using_tuple = isinstance(wrt, list), isinstance(wrt, tuple)
    wrt_list = list(wrt) if using_list or using_tuple else [wrt]
    if ndim == 0:
        return format_as(using_list, using_tuple,
                         grad(expression, wrt_list, consider_constant=consider_constant,
                              disconnected_inputs=disconnected_inputs))
    seed_dtype = dtype_of(expression) if dtype_kind(dtype_of(expression)) == "f" else config.floatX
    seed = expression.type.clone(dtype=seed_dtype)("jacobian_seed")
    _give_test_value(seed, expression, zeros=True)
    rows = grad(cost=None, known_grads={expression: seed}, wrt=wrt_list,
                consider_constant=consider_constant, disconnected_inputs=disconnected_inputs)
    op = RowwiseGrad(seed, rows, len(wrt_list))
    jacobians = op(expression, *wrt_list, *op.free, return_list=True)
    return format_as(using_list, using_tuple, jacobians)


def hessian(cost: Variable, wrt: Variable | Sequence[Variable],
            consider_constant: Sequence[Variable] | None = None,
            disconnected_inputs: str = "raise") -> Any:
    """The Hessian of the scalar ``cost`` with respect to each vector in ``wrt``.

    As in Theano 1.0, one matrix per element of ``wrt`` (the diagonal blocks):
    ``jacobian(grad(cost, w), w)``.
    """
    if not isinstance(cost, Variable) or getattr(cost.type, "ndim", None) != 0:
        raise TypeError(f"hessian: cost must be a scalar (0-d) Variable, got {cost!r}")
    using_list, using_tuple = isinstance(wrt, list), isinstance(wrt, tuple)
    wrt_list = list(wrt) if using_list or using_tuple else [wrt]
    hessians = []
    for i, w in enumerate(wrt_list):
        if not isinstance(w, Variable) or getattr(w.type, "ndim", None) != 1:
            raise TypeError(f"hessian: wrt[{i}] must be a vector (1-d) Variable, got {w!r}")
        g = grad(cost, w, consider_constant=consider_constant,
                 disconnected_inputs=disconnected_inputs)
        # The gradient may not depend on w (a linear cost): that is a zero Hessian.
        hessians.append(jacobian(g, w, consider_constant=consider_constant,
                                 disconnected_inputs="ignore"))
    return format_as(using_list, using_tuple, hessians)


__all__ = [
    "ConsiderConstant",
    "DisconnectedGrad",
    "DisconnectedInputError",
    "DisconnectedType",
    "GradClip",
    "GradScale",
    "GradientError",
    "GradientViewOp",
    "Lop",
    "NullType",
    "NullTypeGradError",
    "Rop",
    "UndefinedGrad",
    "ZeroGrad",
    "consider_constant",
    "disconnected_grad",
    "disconnected_type",
    "format_as",
    "grad",
    "grad_clip",
    "grad_not_implemented",
    "grad_scale",
    "grad_undefined",
    "hessian",
    "jacobian",
    "null_type",
    "subgraph_grad",
    "undefined_grad",
    "zero_grad",
]

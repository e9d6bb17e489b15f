"""Stabilization and fusion rewrites for softmax and cross-entropy (Theano 1.0's nnet rewrites).

``log(softmax(x))`` underflows to ``-inf`` for logits far below their row's maximum, and its
gradient divides by that 0; the one-hot cross-entropy ``-log(softmax(x)[i, y[i]])`` does
the same. These rewrites use the ops made for it (tgraph.tensor.nnet): ``LogSoftmax``, the
fused ``CrossentropySoftmaxArgmax1HotWithBias`` (nll, softmax and argmax of ``x + b`` in one
stable pass) and its gradient ``CrossentropySoftmax1HotWithBiasDx``; ``softmax(x + b)``
becomes ``SoftmaxWithBias``.

Phases, by Theano 1.0 and where we differ:

- ``local_logsoftmax`` / ``local_logsoftmax_grad``: Theano registered them in specialize
  only (tags stabilize, fast_compile), since in stabilize they hid ``log(softmax(x))`` from
  the one-hot rewrites. Here they are in stabilize too, so the 'stabilize' level is stable,
  and the one-hot rewrites also match ``LogSoftmax`` (and ``local_logsoftmax_grad`` turns a
  one-hot gradient directly into ``CrossentropySoftmax1HotWithBiasDx``).
- ``crossentropy_to_crossentropy_with_softmax_with_bias``: stabilize and specialize, as
  Theano. ``crossentropy_to_crossentropy_with_softmax`` (plain softmax, a bias found in
  ``softmax(x + b_row)`` is pulled out) runs at optdb position 2.01 (tags fast_run, xent) as
  in Theano, and also in stabilize, for the same reason.
- ``local_advanced_indexing_crossentropy_onehot`` and its ``_grad``: specialize, as Theano,
  and stabilize.
- ``local_softmax_with_bias``, ``local_softmax_grad_to_crossentropy_with_softmax_grad``,
  ``local_argmax_pushdown``: specialize, as Theano.
"""

from __future__ import annotations

from tgraph.graph.basic import Variable
from tgraph.scalar.arith import Add
from tgraph.scalar.math import Exp, Log, ScalarSigmoid, ScalarSoftplus, Tanh
from tgraph.scalar.op import Cast
from tgraph.tensor import math_elemwise as tm
from tgraph.tensor.advanced_subtensor import AdvancedIncSubtensor, AdvancedSubtensor
from tgraph.tensor.alloc import ARange, zeros_like
from tgraph.tensor.basic import NotScalarConstantError, get_scalar_constant_value
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.nnet.crossentropy import (
    CrossentropyCategorical1Hot,
    CrossentropyCategorical1HotGrad,
    CrossentropySoftmaxArgmax1HotWithBias,
    crossentropy_softmax_1hot_with_bias_dx,
    crossentropy_softmax_argmax_1hot_with_bias,
)
from tgraph.tensor.nnet.softmax import (
    LogSoftmax,
    Softmax,
    SoftmaxGrad,
    SoftmaxWithBias,
    logsoftmax_op,
    softmax_with_bias,
)
from tgraph.tensor.reduction import MaxAndArgmax, sum_keepdims
from tgraph.tensor.shape import Shape, Shape_i
from tgraph.tensor.subtensor import Subtensor
from topt.engine.base import GlobalOptimizer, ensure_replace_validate
from topt.engine.rewriter import copy_stack_trace, local_optimizer
from topt.optdb import optdb, register_specialize, register_stabilize
from topt.rewrites.sigmoid_rw import build_product, parse_product
from topt.rewrites.stabilize import elemwise_node, finish, fit_type, is_float, scalar_constant

__all__ = [
    "crossentropy_to_crossentropy_with_softmax",
    "crossentropy_to_crossentropy_with_softmax_with_bias",
    "graph_merge_softmax_with_crossentropy_softmax",
    "local_advanced_indexing_crossentropy_onehot",
    "local_advanced_indexing_crossentropy_onehot_grad",
    "local_argmax_pushdown",
    "local_logsoftmax",
    "local_logsoftmax_grad",
    "local_softmax_grad_to_crossentropy_with_softmax_grad",
    "local_softmax_with_bias",
]


# ---------------------------------------------------------------------------------------------
# Helpers


def _split_bias(x: Variable) -> tuple[Variable, Variable] | None:
    """``(matrix, bias_vector)`` with ``x == matrix + bias`` when ``x`` is a float sum some of
    whose terms are rows broadcast down the matrix (Theano's local_softmax_with_bias)."""
    node = elemwise_node(x, Add)
    if node is None or x.type.ndim != 2 or not is_float(x):
        return None
    vectors, matrices = [], []
    for term in node.inputs:
        if tuple(term.type.broadcastable) == (True, False):
            inner = term.owner
            if (inner is not None and isinstance(inner.op, DimShuffle)
                    and tuple(inner.inputs[0].type.broadcastable) == (False,)
                    and inner.op.new_order == ("x", 0)):
                vectors.append(inner.inputs[0])
            else:
                vectors.append(DimShuffle((True, False), (1,))(term))
        else:
            matrices.append(term)
    if not vectors:
        return None
    if not matrices:
        matrices.append(vectors.pop().dimshuffle("x", 0))
        if not vectors:
            return None
    matrix = matrices[0] if len(matrices) == 1 else tm.add(*matrices)
    bias = vectors[0] if len(vectors) == 1 else tm.add(*vectors)
    if matrix.type.ndim != 2 or bias.type.dtype != x.type.dtype:
        return None
    return matrix, bias


def _softmax_args(sm: Variable, plain: bool) -> tuple[Variable, Variable] | None:
    """``(x, b)`` with ``sm == softmax(x + b)``: from a SoftmaxWithBias, or (``plain``) from
    a Softmax whose input carries a row bias (else the bias is zeros)."""
    node = sm.owner
    if node is None:
        return None
    if isinstance(node.op, SoftmaxWithBias):
        return node.inputs[0], node.inputs[1]
    if plain and isinstance(node.op, Softmax):
        (x,) = node.inputs
        split = _split_bias(x)
        if split is not None:
            return split
        return x, zeros_like(x[0])
    return None


def _softmax_like(sm: Variable) -> bool:
    return sm.owner is not None and isinstance(sm.owner.op, Softmax | SoftmaxWithBias)


def _is_length_of(stop: Variable, labels: Variable, fgraph) -> bool:
    """Whether ``stop`` is ``labels.shape[0]`` (Shape_i, shape()[0], or the ShapeFeature's
    expression for it)."""
    while elemwise_node(stop, Cast) is not None:
        stop = stop.owner.inputs[0]
    node = stop.owner
    if node is not None:
        if isinstance(node.op, Shape_i) and node.op.i == 0:
            return node.inputs[0] is labels
        if isinstance(node.op, Subtensor) and len(node.inputs) == 2:
            shape_node = node.inputs[0].owner
            try:
                first = get_scalar_constant_value(node.inputs[1])
            except NotScalarConstantError:
                return False
            return (first == 0 and shape_node is not None and isinstance(shape_node.op, Shape)
                    and shape_node.inputs[0] is labels)
    feature = getattr(fgraph, "shape_feature", None)
    shape_of = getattr(feature, "shape_of", None)
    if shape_of and labels in shape_of and shape_of[labels]:
        return shape_of[labels][0] is stop
    return False


def _is_arange_of_len(rows: Variable, labels: Variable, fgraph) -> bool:
    """Whether ``rows`` is ``arange(labels.shape[0])`` (or the constant 0 for one label)."""
    node = rows.owner
    if node is None or not isinstance(node.op, ARange):
        return labels.type.broadcastable == (True,) and scalar_constant(rows) == 0.0
    start, stop, step = node.inputs
    if scalar_constant(start) != 0.0 or scalar_constant(step) != 1.0:
        return False
    return _is_length_of(stop, labels, fgraph)


def _is_zeros(var: Variable) -> bool:
    return scalar_constant(var) == 0.0


# ---------------------------------------------------------------------------------------------
# log(softmax(x))


@register_stabilize("stabilize", "fast_compile")
@register_specialize("stabilize", "fast_compile")
@local_optimizer([Elemwise])
def local_logsoftmax(fgraph, node):
    """log(softmax(x)) -> logsoftmax(x); log(softmax_with_bias(x, b)) -> logsoftmax(x + b).

    LogSoftmax is finite wherever the result is (far-below-max logits gave -inf).
    """
    if elemwise_node(node.outputs[0], Log) is None:
        return None
    sm = node.inputs[0]
    if sm.owner is None:
        return None
    if isinstance(sm.owner.op, Softmax):
        new = logsoftmax_op(sm.owner.inputs[0])
    elif isinstance(sm.owner.op, SoftmaxWithBias):
        x, b = sm.owner.inputs
        new = logsoftmax_op(tm.add(x, b.dimshuffle("x", 0)))
    else:
        return None
    copy_stack_trace([sm, node.outputs[0]], new)
    return finish(node, new)


def _onehot_grad(fgraph, d_sm: Variable, sm: Variable) -> Variable | None:
    """``CrossentropySoftmax1HotWithBiasDx(-g, sm, labels)`` when ``softmax_grad(d_sm, sm)`` is
    the gradient of a one-hot log-likelihood:

    1. ``d_sm = inc_subtensor(zeros[rows, labels], -g / sm[rows, labels])`` (gradient of
       ``log(sm[rows, labels])``), the increment written with mul/true_div/neg in any way;
    2. ``d_sm = inc_subtensor(zeros[rows, labels], g) / sm`` (gradient of
       ``log(sm)[rows, labels]``), with g a vector;

    rows being ``arange(labels.shape[0])``.
    """
    if not _softmax_like(sm) or sm.type.ndim != 2:
        return None
    prod = parse_product(d_sm)
    inc = next((v for v, c in prod.counts.items()
                if c == [1, 0] and v.owner is not None
                and isinstance(v.owner.op, AdvancedIncSubtensor)), None)
    if inc is None or len(inc.owner.inputs) != 4 or inc.owner.op.set_instead_of_inc:
        return None
    zeros, incr, rows, labels = inc.owner.inputs
    if not _is_zeros(zeros) or labels.type.ndim != 1 or incr.type.ndim > 1:
        return None
    if not _is_arange_of_len(rows, labels, fgraph):
        return None
    rest = [(v, c) for v, c in prod.counts.items() if v is not inc]
    if len(rest) == 1 and rest[0][0] is sm and rest[0][1] == [0, 1]:
        h = incr  # case 2: d_sm * sm is the increment itself
    elif not rest:
        # case 1: the increment is coef * others / sm[rows, labels]
        inc_prod = parse_product(incr)
        picked = [v for v, c in inc_prod.counts.items()
                  if c == [0, 1] and v.owner is not None
                  and isinstance(v.owner.op, AdvancedSubtensor) and len(v.owner.inputs) == 3
                  and all(a is b for a, b in zip(v.owner.inputs, (sm, rows, labels)))]
        if len(picked) != 1:
            return None
        others = [f for v in inc_prod.counts if v is not picked[0] for f in inc_prod.factors(v)]
        if any(v.type.ndim > 1 for v, _k in others):
            return None
        h = build_product(inc_prod.coef, others, sm)
    else:
        return None
    if prod.coef != 1.0:
        h = build_product(prod.coef, [(h, 1)], sm)
    if h.type.ndim > 1:
        return None
    # softmax_grad(d_sm, sm) = h * onehot - h * sm, with h = (d_sm * sm)[i, labels[i]].
    return crossentropy_softmax_1hot_with_bias_dx(tm.neg(h), sm, labels)


@register_stabilize("stabilize", "fast_compile")
@register_specialize("stabilize", "fast_compile")
@local_optimizer([SoftmaxGrad])
def local_logsoftmax_grad(fgraph, node):
    """softmax_grad(g / softmax(x), softmax(x)) -> g - sum(g, axis=1) * softmax(x).

    The gradient of log(softmax(x)): the division by a softmax that underflowed to 0 gave
    NaN. A one-hot g (from indexing by labels) gives CrossentropySoftmax1HotWithBiasDx.
    """
    if not isinstance(node.op, SoftmaxGrad):
        return None
    d_sm, sm = node.inputs
    if not _softmax_like(sm) or sm.type.ndim != 2:
        return None
    onehot = _onehot_grad(fgraph, d_sm, sm)
    if onehot is not None:
        return finish(node, onehot)
    prod = parse_product(d_sm)
    if prod.counts.get(sm) != [0, 1]:
        return None
    others = [f for v in prod.counts if v is not sm for f in prod.factors(v)]
    g = build_product(prod.coef, others, sm)
    if g.type.ndim > 2:
        return None
    if g.type.ndim < 2 or g.type.broadcastable[1]:
        g = tm._second(sm, g)
    new = tm.sub(g, tm.mul(sum_keepdims(g, [1]), sm))
    return finish(node, new)


@register_stabilize("fast_compile_gpu")
@register_specialize("fast_compile_gpu")
@local_optimizer([SoftmaxGrad])
def local_advanced_indexing_crossentropy_onehot_grad(fgraph, node):
    """softmax_grad(inc_subtensor(zeros[arange(n), y], -g / sm[arange(n), y]), sm)
    -> crossentropy_softmax_1hot_with_bias_dx(g, sm, y) (and the ``... / sm`` form)."""
    if not isinstance(node.op, SoftmaxGrad):
        return None
    new = _onehot_grad(fgraph, *node.inputs)
    return None if new is None else finish(node, new)


# ---------------------------------------------------------------------------------------------
# softmax(x + b)


@register_specialize("fast_compile_gpu")
@local_optimizer([Softmax])
def local_softmax_with_bias(fgraph, node):
    """softmax(x + b_row) -> softmax_with_bias(x, b): one op, no materialised sum."""
    if not isinstance(node.op, Softmax):
        return None
    split = _split_bias(node.inputs[0])
    if split is None:
        return None
    new = softmax_with_bias(*split)
    if new.type != node.outputs[0].type:
        return None
    copy_stack_trace(node.outputs[0], new)
    return [new]


# ---------------------------------------------------------------------------------------------
# Cross-entropy of a softmax


class _FuseCrossentropy(GlobalOptimizer):
    """Replace ``crossentropy_categorical_1hot(softmax..., y)`` and the softmax by the outputs
    of one CrossentropySoftmaxArgmax1HotWithBias node (not a local rewrite: two variables of
    two nodes are replaced together)."""

    def __init__(self, name: str, plain: bool):
        self.__name__ = self.name = name
        self.plain = plain

    def add_requirements(self, fgraph) -> None:
        ensure_replace_validate(fgraph)

    def apply(self, fgraph) -> None:
        for node in list(fgraph.toposort()):
            if node not in fgraph.apply_nodes or not isinstance(node.op,
                                                                CrossentropyCategorical1Hot):
                continue
            sm, labels = node.inputs
            args = _softmax_args(sm, self.plain)
            if args is None:
                continue
            nll, new_sm, _am = crossentropy_softmax_argmax_1hot_with_bias(*args, labels)
            nll = fit_type(nll, node.outputs[0])
            new_sm = fit_type(new_sm, sm)
            if nll is None or new_sm is None:
                continue
            copy_stack_trace(node.outputs[0], nll)
            copy_stack_trace(sm, new_sm)
            fgraph.replace_all_validate([(node.outputs[0], nll), (sm, new_sm)],
                                        reason=self.name)


crossentropy_to_crossentropy_with_softmax_with_bias = _FuseCrossentropy(
    "crossentropy_to_crossentropy_with_softmax_with_bias", plain=False)
crossentropy_to_crossentropy_with_softmax = _FuseCrossentropy(
    "crossentropy_to_crossentropy_with_softmax", plain=True)
register_stabilize(crossentropy_to_crossentropy_with_softmax_with_bias, "fast_compile_gpu")
register_specialize(crossentropy_to_crossentropy_with_softmax_with_bias, "fast_compile_gpu")
register_stabilize(crossentropy_to_crossentropy_with_softmax, "xent", "fast_compile_gpu")
optdb.register("crossentropy_to_crossentropy_with_softmax",
               crossentropy_to_crossentropy_with_softmax, 2.01,
               "fast_run", "xent", "fast_compile_gpu")


@register_stabilize("fast_compile_gpu")
@register_specialize("fast_compile_gpu", "local_crossentropy_to_crossentropy_with_softmax_grad")
@local_optimizer([SoftmaxGrad])
def local_softmax_grad_to_crossentropy_with_softmax_grad(fgraph, node):
    """softmax_grad(crossentropy_categorical_1hot_grad(g, sm, y), sm)
    -> crossentropy_softmax_1hot_with_bias_dx(g, sm, y)."""
    if not isinstance(node.op, SoftmaxGrad):
        return None
    d_sm, sm = node.inputs
    inner = d_sm.owner
    if inner is None or not isinstance(inner.op, CrossentropyCategorical1HotGrad):
        return None
    g, coding, labels = inner.inputs
    if coding is not sm:
        return None
    return finish(node, crossentropy_softmax_1hot_with_bias_dx(g, sm, labels))


@register_stabilize("fast_compile_gpu")
@register_specialize("fast_compile_gpu")
@local_optimizer([Softmax, SoftmaxWithBias])
def graph_merge_softmax_with_crossentropy_softmax(fgraph, node):
    """softmax(x + b) -> crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[1] when that
    fused node exists (the softmax is computed once, with the cost)."""
    if not isinstance(node.op, Softmax | SoftmaxWithBias) or fgraph is None:
        return None
    args = _softmax_args(node.outputs[0], plain=True)
    if args is None:
        return None
    x, b = args
    for client, _idx in fgraph.clients.get(x, ()):
        if client == "output" or not isinstance(client.op,
                                                CrossentropySoftmaxArgmax1HotWithBias):
            continue
        cx, cb = client.inputs[:2]
        same_bias = cb is b or (scalar_constant(cb) == 0.0 and scalar_constant(b) == 0.0)
        if cx is x and same_bias and client.outputs[1].type == node.outputs[0].type:
            return [client.outputs[1]]
    return None


@register_stabilize("fast_compile_gpu")
@register_specialize("fast_compile_gpu")
@local_optimizer([AdvancedSubtensor, Elemwise])
def local_advanced_indexing_crossentropy_onehot(fgraph, node):
    """-log(softmax(x))[arange(n), y] and log(softmax(x)[arange(n), y])
    -> -crossentropy_softmax_argmax_1hot_with_bias(x, b, y)[0] (also from logsoftmax(x))."""
    rows = labels = sm = None
    if isinstance(node.op, AdvancedSubtensor) and len(node.inputs) == 3:
        src, rows, labels = node.inputs
        if src.owner is not None and isinstance(src.owner.op, LogSoftmax):
            sm = src.owner.inputs[0]
            args = (sm, zeros_like(sm[0])) if sm.type.ndim == 2 else None
        elif elemwise_node(src, Log) is not None:
            args = _softmax_args(src.owner.inputs[0], plain=True)
        else:
            return None
    elif elemwise_node(node.outputs[0], Log) is not None:
        inner = node.inputs[0].owner
        if inner is None or not isinstance(inner.op, AdvancedSubtensor) or len(
                inner.inputs) != 3:
            return None
        src, rows, labels = inner.inputs
        args = _softmax_args(src, plain=True)
    else:
        return None
    if args is None or labels.type.ndim != 1 or args[0].type.ndim != 2:
        return None
    if not _is_arange_of_len(rows, labels, fgraph):
        return None
    nll = crossentropy_softmax_argmax_1hot_with_bias(*args, labels)[0]
    return finish(node, tm.neg(nll))


_MONOTONIC = (Exp, Log, Tanh, ScalarSigmoid, ScalarSoftplus)


@register_specialize("fast_compile_gpu")
@local_optimizer([MaxAndArgmax])
def local_argmax_pushdown(fgraph, node):
    """argmax(f(x)) -> argmax(x) for increasing f (softmax, exp, log, tanh, sigmoid,
    softplus) when the max output is unused; softmax_with_bias(x, b) gives argmax(x + b)."""
    if not isinstance(node.op, MaxAndArgmax) or fgraph is None:
        return None
    x_max, x_argmax = node.outputs
    if fgraph.clients.get(x_max):
        return None
    x = node.inputs[0]
    inner = x.owner
    if inner is None:
        return None
    if isinstance(inner.op, Softmax) or (
        isinstance(inner.op, Elemwise) and isinstance(inner.op.scalar_op, _MONOTONIC)
        and len(inner.inputs) == 1
    ):
        pre = inner.inputs[0]
    elif isinstance(inner.op, SoftmaxWithBias):
        pre = tm.add(inner.inputs[0], inner.inputs[1].dimshuffle("x", 0))
    else:
        return None
    if pre.type != x.type:
        return None
    new_max, new_argmax = node.op(pre)
    copy_stack_trace(node.outputs, [new_max, new_argmax])
    return [new_max, new_argmax]


"""WrapLinker: several linkers' thunks run in step under a wrapper (what MonitorMode uses)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.shared import shared
from tgraph.tensor.type import TensorType
from tlink import Mode, PerformLinker, VMLinker, WrapLinker, WrapLinkerMany, function

dvec = TensorType("float64", (False,))


class Scale(Op):
    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        if self.factor == 0:
            raise FloatingPointError("factor 0 is refused")
        out[0][0] = self.factor * inputs[0]


def test_wrapper_sees_every_node_and_runs_both_linkers():
    seen = []

    def compare(i, node, first, second):
        first()
        second()
        np.testing.assert_array_equal(first.outputs[0][0], second.outputs[0][0])
        seen.append((i, node.op.factor))

    x = dvec("x")
    linker = WrapLinker([PerformLinker(), VMLinker()], compare)
    f = function([x], Scale(3.0)(Scale(2.0)(x)), mode=Mode(linker, None))
    np.testing.assert_array_equal(f(np.array([1.0])), [6.0])
    np.testing.assert_array_equal(f(np.array([2.0])), [12.0])
    assert seen == [(0, 2.0), (1, 3.0), (0, 2.0), (1, 3.0)]


def test_wrap_linker_many_and_updates():
    calls = []
    w = shared(np.array([1.0]), name="w")
    linker = WrapLinkerMany([PerformLinker()],
                            [lambda i, node, th: calls.append(i), lambda i, node, th: th()])
    f = function([], [], updates=[(w, Scale(2.0)(w))], mode=Mode(linker, None))
    f()
    f(output_subset=[])
    assert w.get_value()[0] == 4.0 and calls == [0, 0]


def test_errors_in_wrapped_thunks_name_the_node():
    x = dvec("x")
    linker = WrapLinker([PerformLinker()], lambda i, node, th: th())
    f = function([x], Scale(0)(x), mode=Mode(linker, None))
    with pytest.raises(FloatingPointError, match="Apply node that caused the error: Scale"):
        f(np.ones(1))


def test_copy_clone_and_rebinding():
    x = dvec("x")
    linker = WrapLinker([PerformLinker(), VMLinker()], lambda i, node, a, b: a())
    cp = copy.copy(linker)
    assert cp.linkers[0] is not linker.linkers[0]
    cl = linker.clone(allow_gc=False)
    assert all(lk.allow_gc is False for lk in cl.linkers)
    f = function([x], Scale(2.0)(x), mode=Mode(linker, None))
    g = function([x], Scale(5.0)(x), mode=Mode(linker, None))
    assert f(np.ones(1))[0] == 2.0 and g(np.ones(1))[0] == 5.0
    with pytest.raises(ValueError, match="at least one linker"):
        WrapLinker([], print)
    with pytest.raises(ValueError, match="call accept"):
        WrapLinker([PerformLinker()], print).make_all()


def test_function_requires_a_linker_with_accept():
    x = dvec("x")
    with pytest.raises(TypeError, match="has no accept"):
        function([x], Scale(2.0)(x), mode=Mode(object(), None))

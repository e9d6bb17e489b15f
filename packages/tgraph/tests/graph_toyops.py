"""Tiny Ops on a float-vector TensorType for IR tests (independent of the tensor library)."""

from __future__ import annotations

import numpy as np

from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.tensor.type import TensorType

fvec = TensorType("float64", (False,))


class Add(Op):
    """x + y on float64 vectors."""

    __props__ = ()

    def make_node(self, x, y):
        return Apply(self, [x, y], [fvec()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] + inputs[1]


class Scale(Op):
    """factor * x."""

    __props__ = ("factor",)

    def __init__(self, factor):
        self.factor = factor

    def make_node(self, x):
        return Apply(self, [x], [fvec()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = self.factor * inputs[0]


class Split2(Op):
    """Two outputs: x and -x."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [fvec(), fvec()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0].copy()
        out[1][0] = -inputs[0]


add, split2 = Add(), Split2()


def vec(name: str):
    return fvec(name)


def arr(*values) -> np.ndarray:
    return np.asarray(values, dtype="float64")

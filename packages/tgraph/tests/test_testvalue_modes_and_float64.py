"""The ``compute_test_value`` modes on a tensor graph, and ``warn_float64`` on the seed's graph.

tests/test_graph_basic.py checks 'raise' on toy ops; here each mode meets the two things a
user runs into with the tensor library: an input without a test value, and values whose
shapes do not fit. ``warn_float64`` is the seed's float32 exercise made automatic: with it set
to 'raise', the seed's graph builds under floatX=float32, and the hand-written division by a
length (an int64) is caught where it is written.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tgraph import config
from tgraph.graph.utils import TestValueError
from tgraph.tensor import math as tm
from tgraph.tensor.dot import dot
from tgraph.tensor.type import TensorType, matrix, vector


def _with_value(var, value):
    var.tag.test_value = value
    return var


def test_off_computes_nothing_and_reports_nothing():
    with config.change_flags(compute_test_value="off"):
        x = _with_value(matrix("x"), np.ones((3, 4), dtype=config.floatX))
        w = _with_value(vector("w"), np.ones(5, dtype=config.floatX))
        out = dot(x, w)  # the shapes do not fit, but nothing runs
        assert not hasattr(out.tag, "test_value")


def test_ignore_skips_a_node_whose_input_has_no_test_value():
    with config.change_flags(compute_test_value="ignore"):
        x = _with_value(vector("x"), np.arange(3, dtype=config.floatX))
        y = vector("y")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = x + y
        assert not hasattr(out.tag, "test_value")
        doubled = x * 2
        np.testing.assert_array_equal(doubled.tag.test_value, np.arange(3) * 2)


def test_warn_names_the_op_and_the_input_without_a_value():
    with config.change_flags(compute_test_value="warn"):
        x = _with_value(vector("x"), np.arange(3, dtype=config.floatX))
        y = vector("y")
        with pytest.warns(UserWarning,
                          match=r"^cannot compute the test value of Elemwise\{add,no_inplace\}: "
                                r"input 1 \(y\): y has no test value"):
            out = x + y
        assert not hasattr(out.tag, "test_value")


def test_raise_refuses_an_input_without_a_value():
    with config.change_flags(compute_test_value="raise"):
        x = _with_value(vector("x"), np.arange(3, dtype=config.floatX))
        with pytest.raises(TestValueError, match=r"input 1 \(y\): y has no test value"):
            x + vector("y")


@pytest.mark.parametrize("mode", ["warn", "raise"])
def test_shape_mistakes_raise_under_warn_and_raise(mode):
    # Under 'warn' only a missing value warns; values that do not fit are a bug in the graph.
    with config.change_flags(compute_test_value=mode):
        x = _with_value(matrix("x"), np.ones((3, 4), dtype=config.floatX))
        w = _with_value(vector("w"), np.ones(5, dtype=config.floatX))
        with pytest.raises(TestValueError,
                           match=r"^dot failed on the test values of its inputs \(shape \(3, 4\) "
                                 r"\w+, shape \(5,\) \w+\)"):
            dot(x, w)


def test_test_values_follow_the_seed_graph():
    rng = np.random.default_rng(0)
    with config.change_flags(compute_test_value="raise", floatX="float64"):
        xv, wv = rng.normal(size=(6, 4)), rng.normal(size=4)
        x = _with_value(matrix("x"), xv)
        w = _with_value(vector("w"), wv)
        p_1 = 1 / (1 + tm.exp(-dot(x, w)))
        cost = p_1.mean()
        np.testing.assert_allclose(p_1.tag.test_value, 1 / (1 + np.exp(-xv @ wv)), rtol=1e-12)
        np.testing.assert_allclose(cost.tag.test_value, np.mean(1 / (1 + np.exp(-xv @ wv))),
                                   rtol=1e-12)


def test_warn_float64_raise_accepts_the_seed_graph_in_float32():
    with config.change_flags(floatX="float32", warn_float64="raise"):
        x, y, w = matrix("x"), vector("y"), vector("w")
        b = TensorType("float32", ())("b")
        p_1 = 1 / (1 + tm.exp(-dot(x, w) - b))
        xent = -y * tm.log(p_1) - (1 - y) * tm.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        assert cost.type.dtype == "float32"


@pytest.mark.parametrize("action", ["warn", "raise"])
def test_warn_float64_catches_a_division_by_a_length(action):
    with config.change_flags(floatX="float32", warn_float64=action):
        v = vector("v")
        length = v.shape[0]  # int64, as the seed warns
        message = (r"^a float64 variable \(unnamed\) was created while floatX is float32; "
                   r"this may slow down a float32 program \(flag warn_float64\)$")
        if action == "warn":
            with pytest.warns(UserWarning, match=message):
                out = v.sum() / length
            assert out.type.dtype == "float64"
        else:
            with pytest.raises(TypeError, match=message):
                v.sum() / length


def test_warn_float64_ignore_and_float64_floatx_are_silent():
    for flags in ({"floatX": "float32", "warn_float64": "ignore"},
                  {"floatX": "float64", "warn_float64": "raise"}):
        with config.change_flags(**flags), warnings.catch_warnings():
            warnings.simplefilter("error")
            v = vector("v")
            assert (v.sum() / v.shape[0]).type.dtype == "float64"

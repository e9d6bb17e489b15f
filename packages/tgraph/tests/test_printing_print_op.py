"""The Print op: prints when it runs, returns its input as a view, is transparent to grad."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tgraph.gradient import grad
from tgraph.graph.evaluate import evaluate
from tgraph.printing import Print, _print_fn
from tgraph.tensor import math as tm
from tgraph.tensor.type import dvector


def test_default_prints_str(capsys):
    x = dvector("x")
    y = Print("x is")(x)
    val = np.array([1.0, 2.0])
    (out,) = evaluate([y], {x: val})
    assert capsys.readouterr().out == f"x is __str__ = {val}\n"
    np.testing.assert_array_equal(out, val)


def test_attributes_and_methods(capsys):
    x = dvector("x")
    y = tm.exp(Print("stats", attrs=("shape", "min", "max"))(x))
    val = np.array([3.0, -1.0, 2.0])
    (out,) = evaluate([y], {x: val})
    assert capsys.readouterr().out == "stats shape = (3,)\nstats min = -1.0\nstats max = 3.0\n"
    np.testing.assert_allclose(out, np.exp(val))


def test_empty_message_keeps_theano_spacing(capsys):
    x = dvector("x")
    evaluate([Print(attrs=["shape"])(x)], {x: np.zeros(2)})
    assert capsys.readouterr().out == " shape = (2,)\n"


def test_output_is_a_declared_view_of_the_input():
    x = dvector("x")
    node = Print()(x).owner
    assert node.op.view_map == {0: [0]}
    assert node.outputs[0].type == x.type
    val = np.arange(3.0)
    storage = [[None]]
    node.op.perform(node, [val], storage)
    assert storage[0][0] is val


def test_global_fn_replaces_printing(capsys):
    seen = []
    x = dvector("x")
    op = Print("m", global_fn=lambda op, v: seen.append((op.message, v.sum())))
    evaluate([op(x)], {x: np.ones(4)})
    assert seen == [("m", 4.0)]
    assert capsys.readouterr().out == ""


def test_gradient_passes_through(capsys):
    x = dvector("x")
    p = Print("p")(x)
    g = grad((p * p).sum(), x)
    (gv,) = evaluate([g], {x: np.array([1.0, 2.0])})
    np.testing.assert_allclose(gv, [2.0, 4.0])
    assert "p __str__" in capsys.readouterr().out
    op = p.owner.op
    assert op.grad([x], [p]) == [p]
    assert op.R_op([x], [None]) == [None]


def test_equality_hash_str_pickle():
    a, b = Print("m", ("shape",)), Print("m", ["shape"])
    assert a == b and hash(a) == hash(b)
    assert a != Print("n", ("shape",))
    assert str(a) == "Print{message='m', attrs=('shape',)}"
    c = pickle.loads(pickle.dumps(a))
    assert c == a and c.global_fn is _print_fn
    state = dict(a.__dict__)
    del state["global_fn"]  # pickles from before global_fn existed
    d = Print.__new__(Print)
    d.__setstate__(state)
    assert d.global_fn is _print_fn


def test_not_constant_folded_and_bad_attrs():
    x = dvector("x")
    node = Print()(x).owner
    assert node.op.do_constant_folding(node) is False
    with pytest.raises(TypeError, match="attrs must be a sequence"):
        Print("m", attrs="shape")


def test_accepts_non_variable_input(capsys):
    y = Print("c")(np.array([1.0, 2.0]))
    (out,) = evaluate([y], {})
    np.testing.assert_array_equal(out, [1.0, 2.0])
    assert capsys.readouterr().out == "c __str__ = [1. 2.]\n"

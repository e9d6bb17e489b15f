"""The IR's nodes and walks: ownership, toposort determinism, cloning, replacement, hashing."""

from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
from graph_toyops import Scale, add, arr, split2, vec

from tgraph.graph import (
    Apply,
    Constant,
    ancestors,
    clone,
    clone_replace,
    equal_computations,
    evaluate,
    graph_hash,
    graph_inputs,
    io_toposort,
    orphans,
)
from tgraph.graph.utils import TestValueError


def test_apply_sets_owner_and_index():
    x, y = vec("x"), vec("y")
    z = add(x, y)
    assert z.owner.op == add and z.owner.inputs == [x, y] and z.index == 0
    a, b = split2(x)
    assert (a.index, b.index) == (0, 1) and a.owner is b.owner


def test_apply_rejects_non_variables():
    with pytest.raises(TypeError, match="input 0 must be a Variable"):
        Apply(add, [np.zeros(2)], [])


def test_props_give_equality_hash_and_str():
    assert Scale(2.0) == Scale(2.0) and hash(Scale(2.0)) == hash(Scale(2.0))
    assert Scale(2.0) != Scale(3.0)
    assert str(Scale(2.0)) == "Scale{2.0}"
    assert pickle.loads(pickle.dumps(Scale(2.0))) == Scale(2.0)


def test_toposort_is_deterministic_and_respects_dependencies():
    x, y = vec("x"), vec("y")
    a = add(x, y)
    b = Scale(2.0)(a)
    c = add(b, a)
    d = Scale(3.0)(c)
    order = io_toposort([x, y], [d])
    assert [n.op for n in order] == [add, Scale(2.0), add, Scale(3.0)]
    assert order == io_toposort([x, y], [d])
    pos = {n: i for i, n in enumerate(order)}
    for n in order:
        for i in n.inputs:
            if i.owner is not None:
                assert pos[i.owner] < pos[n]


def test_toposort_handles_deep_graphs_without_recursion():
    x = vec("x")
    out = x
    for _ in range(5000):
        out = Scale(1.0)(out)
    assert len(io_toposort([x], [out])) == 5000


def test_walks_find_inputs_ancestors_and_orphans():
    x, y = vec("x"), vec("y")
    k = Constant(x.type, arr(1, 2))
    z = add(add(x, k), y)
    assert graph_inputs([z]) == [x, k, y] or set(graph_inputs([z])) == {x, k, y}
    assert z in ancestors([z]) and x in ancestors([z])
    assert orphans([x, y], [z]) == [k]


def test_clone_copies_nodes_and_keeps_structure():
    x, y = vec("x"), vec("y")
    z = Scale(2.0)(add(x, y))
    (nx, ny), (nz,) = clone([x, y], [z])
    assert nx is not x and nz is not z
    assert equal_computations([z], [nz], [x, y], [nx, ny])
    assert evaluate([nz], {nx: arr(1, 2), ny: arr(3, 4)})[0].tolist() == [8.0, 12.0]


def test_clone_replace_substitutes_simultaneously():
    x, y = vec("x"), vec("y")
    z = add(x, y)
    w = clone_replace(z, {x: y, y: x})
    assert w.owner.inputs == [y, x]
    assert z.owner.inputs == [x, y]


def test_equal_computations_tells_different_graphs_apart():
    x, y = vec("x"), vec("y")
    assert equal_computations([Scale(2.0)(x)], [Scale(2.0)(x)])
    assert not equal_computations([Scale(2.0)(x)], [Scale(3.0)(x)])
    assert not equal_computations([add(x, y)], [add(y, x)])


def test_graph_hash_is_structural_and_stable_across_processes():
    x, y = vec("x"), vec("y")
    h1 = graph_hash([x, y], [Scale(2.0)(add(x, y))])
    x2, y2 = vec("a"), vec("b")
    assert h1 == graph_hash([x2, y2], [Scale(2.0)(add(x2, y2))])
    assert h1 != graph_hash([x, y], [Scale(3.0)(add(x, y))])
    code = (
        "import sys; sys.path.insert(0, {!r})\n"
        "from graph_toyops import Scale, add, vec\n"
        "from tgraph.graph import graph_hash\n"
        "x, y = vec('x'), vec('y')\n"
        "print(graph_hash([x, y], [Scale(2.0)(add(x, y))]))\n"
    ).format(str(__import__("pathlib").Path(__file__).parent))
    outs = set()
    for seed in ("1", "2"):
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**__import__("os").environ, "PYTHONHASHSEED": seed},
                             check=True)
        outs.add(res.stdout.strip())
    assert outs == {h1}


def test_test_values_computed_when_flag_on():
    from tgraph import config

    x = vec("x")
    x.tag.test_value = arr(1, 2)
    with config.change_flags(compute_test_value="raise"):
        z = Scale(2.0)(x)
        assert z.tag.test_value.tolist() == [2.0, 4.0]
        y = vec("y")
        with pytest.raises(TestValueError, match="input 1"):
            add(x, y)


def test_test_value_of_wrong_ndim_is_refused():
    x = vec("x")
    with pytest.raises(TestValueError, match="does not fit"):
        x.tag.test_value = np.zeros((2, 2))


def test_test_value_failure_names_op_and_shapes():
    from tgraph import config

    x, y = vec("x"), vec("y")
    x.tag.test_value = arr(1, 2)
    y.tag.test_value = arr(1, 2, 3)
    with config.change_flags(compute_test_value="raise"):
        with pytest.raises(TestValueError, match=r"Add failed .*shape \(2,\).*shape \(3,\)"):
            add(x, y)

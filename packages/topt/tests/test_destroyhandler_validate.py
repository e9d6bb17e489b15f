"""DestroyHandler: which in-place graphs it accepts, which it refuses, and why.

Values are checked by running the nodes in ``fgraph.toposort()`` order (which includes the
handler's orderings) on copies of the inputs, against NumPy.
"""

import numpy as np
import pytest

from tgraph import scalar as ts
from tgraph.graph import FunctionGraph, InconsistencyError, ReplaceValidate
from tgraph.graph.features import AlreadyThere
from tgraph.tensor import math as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.features.destroyhandler import DestroyHandler, fast_inplace_check

add_inplace = Elemwise(ts.add, {0: 0})
mul_inplace = Elemwise(ts.mul, {0: 0})
dmatrix = TensorType("float64", (False, False))


def _graph(inputs, outputs, *features):
    fg = FunctionGraph(inputs, outputs, clone=False)
    fg.attach_feature(ReplaceValidate())
    dh = DestroyHandler()
    fg.attach_feature(dh)
    for f in features:
        fg.attach_feature(f)
    return fg, dh


def _run(fg, values):
    """Run fg's nodes in toposort order (orderings included) on copies of ``values``."""
    storage = {v: np.array(values[v], copy=True) for v in fg.inputs}
    for var in fg.variables:
        if var.owner is None and var not in storage:
            storage[var] = var.data
    for node in fg.toposort():
        cells = [[None] for _ in node.outputs]
        node.op.perform(node, [storage[i] for i in node.inputs], cells)
        for out, cell in zip(node.outputs, cells):
            storage[out] = cell[0]
    return [storage[o] for o in fg.outputs]


def _xy():
    x, y = dmatrix("x"), dmatrix("y")
    rng = np.random.default_rng(0)
    return x, y, {x: rng.normal(size=(3, 4)), y: rng.normal(size=(3, 4))}


def test_valid_inplace_graph_is_accepted_and_computes_numpy():
    x, y, vals = _xy()
    z = add_inplace(x, y)
    fg, dh = _graph([x, y], [z])
    assert fg.validate()
    assert dh.orderings(fg) == {}
    (out,) = _run(fg, vals)
    np.testing.assert_allclose(out, vals[x] + vals[y])


def test_reader_of_destroyed_input_is_ordered_before_the_destroyer():
    x, y, vals = _xy()
    a = tm.exp(x)  # reads x: must run before x is overwritten
    z = add_inplace(x, y)
    out = a * z
    fg, dh = _graph([x, y], [out])
    fg.validate()
    ords = dh.orderings(fg)
    assert ords == {z.owner: [a.owner]}
    order = fg.toposort()
    assert order.index(a.owner) < order.index(z.owner)
    (res,) = _run(fg, vals)
    np.testing.assert_allclose(res, np.exp(vals[x]) * (vals[x] + vals[y]))


def test_chain_of_inplace_ops_is_valid():
    x, y, vals = _xy()
    z1 = add_inplace(x, y)
    z2 = mul_inplace(z1, y)
    fg, dh = _graph([x, y], [z2])
    fg.validate()
    (res,) = _run(fg, vals)
    np.testing.assert_allclose(res, (vals[x] + vals[y]) * vals[y])
    assert fg.destroyers(x) == [z1.owner]
    assert fg.destroyers(z1) == [z2.owner]
    assert fg.destroyers(z2) == []


def test_two_destroyers_of_one_variable_are_refused():
    x, y, _ = _xy()
    z1 = add_inplace(x, y)
    z2 = mul_inplace(x, y)
    fg, _ = _graph([x, y], [z1 + z2])
    with pytest.raises(InconsistencyError, match="overwritten by more than one node"):
        fg.validate()


def test_destroyer_whose_input_is_read_after_it_is_refused():
    x, y, _ = _xy()
    z = add_inplace(x, y)
    w = z + x  # reads the old x, but needs z: cannot run before the destroyer
    fg, _ = _graph([x, y], [w])
    with pytest.raises(InconsistencyError, match=r"also reads x .* cannot run before it"):
        fg.validate()


def test_destroying_a_constant_is_refused():
    y = dmatrix("y")
    z = add_inplace(constant(np.ones((2, 2))), y[:2, :2])
    fg, _ = _graph([y], [z])
    with pytest.raises(InconsistencyError, match="constant or marked indestructible"):
        fg.validate()


def test_destroying_an_indestructible_variable_is_refused():
    x, y, _ = _xy()
    x.tag.indestructible = True
    fg, _ = _graph([x, y], [add_inplace(x, y)])
    with pytest.raises(InconsistencyError, match="indestructible"):
        fg.validate()


def test_destroying_a_graph_output_is_refused():
    x, y, _ = _xy()
    z = add_inplace(x, y)
    fg, _ = _graph([x, y], [x.T, z])  # x.T views x: its value would be the overwritten one
    with pytest.raises(InconsistencyError, match="an output of the graph"):
        fg.validate()


def test_destroyer_reading_its_own_buffer_twice_is_refused():
    x, _, _ = _xy()
    fg, _ = _graph([x], [add_inplace(x, x)])
    with pytest.raises(InconsistencyError, match="shares its memory"):
        fg.validate()
    fg2, _ = _graph([x], [add_inplace(x, x.T)])
    with pytest.raises(InconsistencyError, match="shares its memory"):
        fg2.validate()


class _TolerantAdd(Elemwise):
    """add_inplace that declares it may read its destroyed input again at input 1."""

    destroyhandler_tolerate_same = [(0, 1)]


def test_tolerate_same_allows_the_same_variable_only():
    x, _, vals = _xy()
    op = _TolerantAdd(ts.add, {0: 0})
    fg, _ = _graph([x], [op(x, x)])
    fg.validate()
    np.testing.assert_allclose(_run(fg, vals)[0], 2 * vals[x])
    fg2, _ = _graph([x], [op(x, x.T.T)])  # an alias, not the same variable
    with pytest.raises(InconsistencyError, match="shares its memory"):
        fg2.validate()


def test_tolerate_aliased_ignores_the_pair():
    from tgraph.tensor.subtensor import inc_subtensor

    x = dmatrix("x")
    z = inc_subtensor(x[0], x[1], inplace=True, tolerate_inplace_aliasing=True)
    fg, _ = _graph([x], [z])
    fg.validate()
    v = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(_run(fg, {x: v})[0], [[3, 5, 7], [3, 4, 5]])
    z2 = inc_subtensor(x[0], x[1], inplace=True)
    fg2, _ = _graph([x], [z2])
    with pytest.raises(InconsistencyError, match="shares its memory"):
        fg2.validate()


def test_replace_validate_reverts_a_change_that_creates_a_conflict():
    x, y, vals = _xy()
    s = x + y
    out = s * x  # x is read after s: making s in place would be wrong
    fg, dh = _graph([x, y], [out])
    with pytest.raises(InconsistencyError, match="cannot run before it"):
        fg.replace_validate(s, add_inplace(x, y), reason="test")
    assert out.owner.inputs[0] is s
    assert not dh.destroyers
    fg.validate()
    np.testing.assert_allclose(_run(fg, vals)[0], (vals[x] + vals[y]) * vals[x])


def test_replace_validate_accepts_a_safe_change_and_prune_forgets_it():
    x, y, vals = _xy()
    s = x + y
    fg, dh = _graph([x, y], [tm.exp(s)])
    new = add_inplace(x, y)
    fg.replace_validate(s, new, reason="test")
    assert list(dh.destroyers) == [new.owner]
    np.testing.assert_allclose(_run(fg, vals)[0], np.exp(vals[x] + vals[y]))
    assert fg.has_destroyers([x]) and not fg.has_destroyers([y])
    fg.replace_validate(new, x - y, reason="undo")
    assert not dh.destroyers
    assert fg.destroyers(x) == [] and not fg.has_destroyers([x])


def test_validate_is_cached_until_the_graph_changes():
    x, y, _ = _xy()
    fg, dh = _graph([x, y], [add_inplace(x, y)])
    fg.validate()
    assert dh._validated
    fg.replace(fg.outputs[0].owner.inputs[1], tm.exp(y), reason="test")
    assert not dh._validated
    fg.validate()
    assert dh._validated


def test_attach_twice_and_detach():
    x, y, _ = _xy()
    fg, dh = _graph([x, y], [add_inplace(x, y)])
    with pytest.raises(AlreadyThere, match="already has a destroy handler"):
        fg.attach_feature(DestroyHandler())
    other = FunctionGraph([x, y], [x + y])
    with pytest.raises(RuntimeError, match="one handler per graph"):
        other.attach_feature(dh)
    fg.remove_feature(dh)
    assert not hasattr(fg, "destroyers") and not hasattr(fg, "destroy_handler")
    fg.attach_feature(DestroyHandler())
    assert fg.destroyers(x) == [fg.outputs[0].owner]


def test_algo_argument_is_checked():
    DestroyHandler(algo="fast")
    with pytest.raises(ValueError, match="algo must be"):
        DestroyHandler(algo="quick")


def test_fgraph_clone_copies_the_handler():
    x, y, _ = _xy()
    fg, _ = _graph([x, y], [add_inplace(x, y)])
    fg2 = fg.clone()
    assert isinstance(fg2.destroy_handler, DestroyHandler)
    assert fg2.destroy_handler is not fg.destroy_handler
    assert fg2.destroyers(fg2.inputs[0]) == [fg2.outputs[0].owner]


class _Protector:
    """A Supervisor-like feature: its ``protected`` list is left alone by fast_inplace_check."""

    def __init__(self, protected):
        self.protected = list(protected)


def test_fast_inplace_check_filters_candidates():
    x, y, _ = _xy()
    w = dmatrix("w")
    c = constant(np.ones((3, 4)))
    z = add_inplace(x, y)
    fg, _ = _graph([x, y, w], [z + w, y * 2], _Protector([w]))
    cands = [x, y, w, c, z]
    # x is already destroyed, w protected, c a constant, z an output's input is fine
    assert fast_inplace_check(fg, cands) == [y, z]
    assert fast_inplace_check([z, y]) == [z, y]  # Theano 1.0 spelling: graph from the node
    assert fast_inplace_check([]) == []
    with pytest.raises(ValueError, match="cannot find the FunctionGraph"):
        fast_inplace_check([dmatrix("free")])

"""Function.copy, free, pickling and profiling.

Pickling follows Theano 1.0: the pickle holds the optimized graph, the mode and the current
values of the inputs, shared ones included, so the unpickled function works on its own
copy of the shared values.
"""

from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from tgraph import config
from tgraph.shared import shared
from tgraph.tensor.type import TensorType
from tlink import DeepCopyOp, In, Mode, ProfileStats, ViewOp, function

dvec = TensorType("float64", (False,))
MODE = Mode("vm", None)

# Ops from tlink itself (importable by name, so graphs using them can be pickled).
view, copy_op = ViewOp(), DeepCopyOp()


def _acc_function(**kwargs):
    acc = shared(np.zeros(2), name="acc")
    x = dvec("x")
    f = function([x], view(acc), updates=[(acc, copy_op(x))], mode=MODE, name="acc_fn",
                 **kwargs)
    return f, acc, x


def test_copy_shares_shared_variables_and_gets_a_name():
    f, acc, _ = _acc_function()
    g = f.copy()
    assert g.name == "acc_fn copy"
    assert g.maker is not f.maker and g.maker.fgraph is not f.maker.fgraph
    g(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(acc.get_value(), [1.0, 2.0])
    np.testing.assert_array_equal(f(np.zeros(2)), [1.0, 2.0])
    assert f.copy(name="other").name == "other"


def test_copy_keeps_single_output_unpacked():
    f, _, _ = _acc_function()
    assert isinstance(f.copy()(np.zeros(2)), np.ndarray)


def test_copy_delete_updates():
    f, acc, _ = _acc_function()
    g = f.copy(delete_updates=True)
    g(np.array([5.0, 5.0]))
    np.testing.assert_array_equal(acc.get_value(), [0.0, 0.0])
    assert len(g.maker.fgraph.outputs) == 1


def test_copy_swap_shared_variable():
    f, acc, _ = _acc_function()
    other = shared(np.full(2, 7.0), name="other")
    g = f.copy(swap={acc: other})
    np.testing.assert_array_equal(g(np.array([1.0, 1.0])), [7.0, 7.0])
    np.testing.assert_array_equal(other.get_value(), [1.0, 1.0])
    np.testing.assert_array_equal(acc.get_value(), [0.0, 0.0])
    with pytest.raises(TypeError, match="same type"):
        f.copy(swap={acc: shared(np.zeros((2, 2)), name="m")})
    with pytest.raises(ValueError, match="not an input"):
        f.copy(swap={other: acc})


def test_copy_share_memory():
    x = dvec("x")
    f = function([x], copy_op(view(copy_op(x))), mode=Mode("vm_nogc", None))
    f(np.ones(2))
    g = f.copy(share_memory=True)
    h = f.copy(share_memory=False)
    inner_f = {id(cell) for var, cell in f.fn.storage_map.items()
               if var.owner is not None and var not in f.maker.fgraph.outputs}
    inner_g = {id(cell) for var, cell in g.fn.storage_map.items()
               if var.owner is not None and var not in g.maker.fgraph.outputs}
    inner_h = {id(cell) for var, cell in h.fn.storage_map.items()
               if var.owner is not None and var not in h.maker.fgraph.outputs}
    assert inner_f and inner_f == inner_g
    assert not inner_f & inner_h
    np.testing.assert_array_equal(g(np.full(2, 3.0)), [3.0, 3.0])


def test_copy_keeps_default_values_separate():
    acc, x = dvec("acc"), dvec("x")
    f = function([In(acc, value=np.zeros(1), update=copy_op(x)), x], view(acc), mode=MODE)
    g = f.copy()
    g(x=[4.0])
    np.testing.assert_array_equal(f[acc], [0.0])
    np.testing.assert_array_equal(g[acc], [4.0])


def test_free_drops_intermediate_values():
    x = dvec("x")
    f = function([x], copy_op(view(copy_op(x))), mode=Mode("vm_nogc", None))
    f(np.ones(2))
    computed = [var for var in f.fn.storage_map if var.owner is not None]
    assert all(f.fn.storage_map[v][0] is not None for v in computed)
    f.free()
    assert all(f.fn.storage_map[v][0] is None for v in computed)
    np.testing.assert_array_equal(f(np.ones(2)), [1.0, 1.0])


def test_pickle_round_trip_keeps_shared_values():
    f, acc, _ = _acc_function()
    f(np.array([3.0, 4.0]))
    g = pickle.loads(pickle.dumps(f))
    assert g.name == "acc_fn"
    np.testing.assert_array_equal(g(np.array([9.0, 9.0])), [3.0, 4.0])
    np.testing.assert_array_equal(g(np.array([1.0, 1.0])), [9.0, 9.0])
    np.testing.assert_array_equal(acc.get_value(), [3.0, 4.0])  # the original is untouched
    new_acc = g.maker.inputs[1].variable
    np.testing.assert_array_equal(new_acc.get_value(), [1.0, 1.0])


def test_pickle_keeps_defaults_and_trust_input():
    x, y = dvec("x"), dvec("y")
    f = function([x, In(y, value=np.array([2.0]), name="b")], copy_op(x), mode=MODE,
                 on_unused_input="ignore")
    f.trust_input = True
    g = pickle.loads(pickle.dumps(f))
    assert g.trust_input
    np.testing.assert_array_equal(g["b"], [2.0])


def test_profile_true_collects_calls_and_node_times():
    x = dvec("x")
    f = function([x], copy_op(view(x)), mode=MODE, profile=True, name="prof")
    f(np.ones(3))
    f(np.ones(3))
    prof = f.profile
    assert isinstance(prof, ProfileStats) and prof.message == "prof"
    assert prof.fct_callcount == 2
    assert sorted(prof.apply_callcount.values()) == [2, 2]
    assert set(prof.class_callcount()) == {ViewOp, DeepCopyOp}
    assert prof.compile_time > 0 and prof.nb_nodes == 2
    out = io.StringIO()
    prof.summary(file=out)
    text = out.getvalue()
    assert "2 calls" in text and "DeepCopyOp" in text and "ViewOp(x)" in text


def test_profile_given_object_and_string():
    x = dvec("x")
    stats = ProfileStats(atexit_print=False, message="shared")
    f = function([x], copy_op(x), mode=MODE, profile=stats)
    g = function([x], copy_op(x), mode=MODE, profile=stats)
    f(np.ones(1))
    g(np.ones(1))
    assert stats.fct_callcount == 2
    h = function([x], copy_op(x), mode=MODE, profile="named")
    assert h.profile.message == "named"
    assert function([x], copy_op(x), mode=MODE).profile is None


def test_profile_with_py_linker_and_summary_without_calls():
    x = dvec("x")
    f = function([x], copy_op(x), mode=Mode("py", None), profile=True)
    f(np.ones(1))
    assert f.profile.fct_callcount == 1 and sum(f.profile.apply_callcount.values()) == 1
    out = io.StringIO()
    ProfileStats(atexit_print=False).summary(file=out)
    assert "No execution time" in out.getvalue()


def test_profile_flag_profiles_every_function(monkeypatch):
    from tlink import profiling
    from tlink.profiling import _atexit

    monkeypatch.setattr(_atexit, "_to_print_at_exit", [])
    monkeypatch.setattr(_atexit, "_atexit_registered", True)  # print nothing at exit
    x = dvec("x")
    with config.change_flags(profile=True):
        f = function([x], copy_op(x), mode=MODE, name="flagged")
    assert isinstance(f.profile, ProfileStats) and f.profile.message == "flagged"
    assert _atexit._to_print_at_exit == [f.profile]
    out = io.StringIO()
    f(np.ones(1))
    profiling._print_all_at_exit(file=out)
    assert "flagged" in out.getvalue()

"""Profiling: per-node, per-Op and per-class times and counts, tables, aggregation."""

from __future__ import annotations

import io

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tlink import Mode, ProfileStats, function
from tlink.linker.vm import VMLinker
from tlink.profiling import merge_profiles


class Twice(Op):
    """x * 2 in Python: a node whose class and calls the tables must show."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] * 2


class Plus(Op):
    __props__ = ("k",)

    def __init__(self, k):
        self.k = k

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = inputs[0] + self.k


LINKERS = {
    "cvm": lambda: VMLinker(use_cloop=True),
    "cvm_nogc": lambda: VMLinker(use_cloop=True, allow_gc=False),
    "vm": lambda: VMLinker(),
    "py": lambda: "py",
}


def _graph():
    x = T.dvector("x")
    return x, Plus(1.0)(Twice()(Plus(3.0)(Twice()(x))))


def _text(profile: ProfileStats) -> str:
    out = io.StringIO()
    profile.summary(file=out)
    return out.getvalue()


@pytest.mark.parametrize("linker", list(LINKERS), ids=list(LINKERS))
def test_every_node_timed_and_counted_exactly(linker):
    x, y = _graph()
    f = function([x], y, mode=Mode(LINKERS[linker](), None), profile=True, name="chain")
    for _ in range(7):
        np.testing.assert_array_equal(f(np.ones(2)), [11.0, 11.0])
    prof = f.profile
    assert prof.fct_callcount == 7
    assert sorted(prof.apply_callcount.values()) == [7, 7, 7, 7]
    assert all(t >= 0 for t in prof.apply_time.values())
    assert prof.class_callcount() == {Twice: 14, Plus: 14}
    assert prof.op_callcount() == {Twice(): 14, Plus(3.0): 7, Plus(1.0): 7}
    assert prof.class_nodes() == {Twice: 2, Plus: 2}
    assert prof.nb_nodes == 4
    assert prof.compile_time > 0 and prof.linker_time > 0 and prof.optimizer_time >= 0
    assert prof.vm_call_time <= prof.fct_call_time
    assert set(prof.apply_cimpl.values()) == {False}  # Python perform everywhere


def test_tables_have_theano_sections_and_rows():
    x, y = _graph()
    f = function([x], y, mode=Mode(VMLinker(use_cloop=True), None), profile=True, name="tbl")
    for _ in range(3):
        f(np.ones(2))
    text = _text(f.profile)
    for line in ("Function profiling", "Message: tbl", "Time in 3 calls to Function.__call__",
                 "Time in Function.fn.__call__", "Time in thunks", "Total compile time",
                 "Number of Apply nodes: 4", "Theano Optimizer time",
                 "Theano Linker time (includes C code compilation)"):
        assert line in text, line
    for header in ("Class\n---", "Ops\n---", "Apply\n-----"):
        assert header in text
    assert "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> " \
           "<Class name>" in text
    assert "<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>" in text
    class_rows = [ln for ln in text.splitlines() if ln.endswith("test_profiling_tables.Twice")]
    assert len(class_rows) == 1 and " Py " in class_rows[0]
    assert class_rows[0].split()[-3:-1] == ["6", "2"]  # 6 calls, 2 Apply nodes
    apply_rows = [ln for ln in text.splitlines() if ln.endswith("Twice(x)")]
    assert len(apply_rows) == 1 and apply_rows[0].split()[-3:-1] == ["3", "0"]  # id 0
    assert text.count("100.0%") >= 3  # each table's running share ends at 100%


def test_row_limits_and_flags():
    x, y = _graph()
    f = function([x], y, mode=Mode("vm", None), profile=True)
    f(np.ones(2))
    out = io.StringIO()
    f.profile.summary(file=out, n_ops_to_print=1, n_apply_to_print=2)
    text = out.getvalue()
    assert "remaining 1 Classes account for" in text
    assert "remaining 2 Ops account for" in text
    assert "remaining 2 Apply instances account for" in text
    with config.change_flags(profiling__n_apply=1):
        assert "remaining 3 Apply instances" in _text(f.profile)


def test_one_profile_aggregates_two_functions():
    stats = ProfileStats(atexit_print=False, message="both")
    x, y = _graph()
    f = function([x], y, mode=Mode("vm", None), profile=stats)
    g = function([x], Twice()(x), mode=Mode(VMLinker(use_cloop=True), None), profile=stats)
    for _ in range(2):
        f(np.ones(2))
    for _ in range(5):
        g(np.ones(2))
    assert stats.fct_callcount == 7
    assert len(stats.programs) == 2 and stats.nb_nodes == 5
    assert stats.class_callcount() == {Twice: 2 * 2 + 5, Plus: 2 * 2}
    text = _text(stats)
    assert "Message: both" in text and "Number of Apply nodes: 5" in text
    assert "Time in 7 calls" in text
    assert stats.compile_time > 0


def test_merge_profiles_sums_them():
    x, y = _graph()
    f = function([x], y, mode=Mode("vm", None), profile=True)
    g = function([x], Twice()(x), mode=Mode("vm", None), profile=True)
    f(np.ones(1))
    g(np.ones(1))
    g(np.ones(1))
    total = merge_profiles([f.profile, g.profile], message="sum")
    assert total.fct_callcount == 3 and total.nb_nodes == 5
    assert total.class_callcount()[Twice] == 4
    assert total.compile_time == pytest.approx(f.profile.compile_time + g.profile.compile_time)
    assert ProfileStats.merged([f.profile]).fct_callcount == 1


def test_ignore_first_call_and_unprofiled_functions():
    x, y = _graph()
    with config.change_flags(profiling__ignore_first_call=True):
        f = function([x], y, mode=Mode("vm", None), profile=True)
    f(np.ones(1))
    assert f.profile.fct_callcount == 0 and not f.profile.apply_time
    f(np.ones(1))
    assert f.profile.fct_callcount == 1
    g = function([x], y, mode=Mode(VMLinker(use_cloop=True), None))
    assert g.profile is None and not g.fn.time_thunks


def test_c_nodes_are_marked_c():
    x = T.dvector("x")
    f = function([x], T.exp(x) * 2.0, mode=Mode(VMLinker(use_cloop=True), None), profile=True)
    f(np.ones(3))
    kinds = set(f.profile.apply_cimpl.values())
    text = _text(f.profile)
    assert kinds <= {True, False} and kinds
    if True in kinds:
        assert "   C  " in text

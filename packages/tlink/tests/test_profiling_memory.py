"""The memory profile: recorded sizes and peak estimates on graphs whose numbers are known."""

from __future__ import annotations

import io

import numpy as np
import pytest

import tgraph.tensor as T
from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tlink import Mode, function
from tlink.linker.vm import VMLinker
from tlink.profiling import peak_memory

N = 1000  # float64 values: 8000 bytes per intermediate


class AddOneInplace(Op):
    """x += 1 in place (declared in destroy_map): its output takes no new memory."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        inputs[0] += 1
        out[0][0] = inputs[0]


def _profiled(outputs_of, linker, **kw):
    x = T.dvector("x")
    with config.change_flags(profile_memory=True):
        f = function([x], outputs_of(x), mode=Mode(linker, None), profile=True, **kw)
    f(np.zeros(N))
    f(np.zeros(N))
    return f


def _summary(f) -> str:
    out = io.StringIO()
    f.profile.summary(file=out)
    return out.getvalue()


@pytest.mark.parametrize("linker", ["vm", "cvm"])
def test_chain_peak_with_and_without_gc(linker):
    f = _profiled(lambda x: T.tanh(T.cos(T.sin(T.exp(x)))),
                  VMLinker(allow_gc=True, use_cloop=linker == "cvm"))
    prof = f.profile
    order = prof.programs[0].order
    assert len(order) == 4
    assert [prof.variable_nbytes[n.outputs[0]] for n in order] == [8 * N] * 4
    assert [prof.variable_shape[n.outputs[0]] for n in order] == [(N,)] * 4
    outs = f.maker.fgraph.outputs
    # With gc at most two intermediates are alive at once; without it all four.
    assert peak_memory(order, outs, prof.variable_nbytes, allow_gc=True) == 2 * 8 * N
    assert peak_memory(order, outs, prof.variable_nbytes, allow_gc=False) == 4 * 8 * N
    text = _summary(f)
    assert "Memory Profile" in text
    assert "Max peak memory with current setting\n        CPU: 16KB" in text
    assert "Max peak memory if allow_gc=False (linker don't make a difference)\n" \
           "        CPU: 31KB" in text
    rows = [ln for ln in text.splitlines() if ln.strip().startswith("8000B")]
    assert len(rows) == 4 and all(f"[({N},)] c " in r for r in rows)


def test_nogc_linker_peak_is_the_sum():
    f = _profiled(lambda x: T.cos(T.sin(T.exp(x))), VMLinker(allow_gc=False))
    assert f.profile.programs[0].allow_gc is False
    assert "Max peak memory with current setting\n        CPU: 23KB" in _summary(f)  # 24000B


def test_inplace_outputs_reuse_memory_unless_inplace_is_counted():
    f = _profiled(lambda x: T.sin(AddOneInplace()(AddOneInplace()(T.exp(x)))),
                  VMLinker(allow_gc=True), accept_inplace=True)
    prof = f.profile
    order, outs, nbytes = prof.programs[0].order, f.maker.fgraph.outputs, prof.variable_nbytes
    np.testing.assert_allclose(f(np.zeros(N)), np.sin(3.0))
    assert peak_memory(order, outs, nbytes, allow_gc=True) == 2 * 8 * N
    assert peak_memory(order, outs, nbytes, allow_gc=False) == 2 * 8 * N
    assert peak_memory(order, outs, nbytes, allow_gc=False, inplace_is_new=True) == 4 * 8 * N
    assert peak_memory(order, outs, nbytes, allow_gc=True, inplace_is_new=True) == 2 * 8 * N
    text = _summary(f)
    assert text.count(f"[({N},)] i AddOneInplace") == 2


def test_a_view_keeps_its_base_alive():
    def graph(x):
        a = T.exp(x)
        row = a.dimshuffle("x", 0)  # a view of a: no new memory, but a must stay
        return T.sin(row) + T.cos(row)

    f = _profiled(graph, VMLinker(allow_gc=True))
    prof = f.profile
    order, outs, nbytes = prof.programs[0].order, f.maker.fgraph.outputs, prof.variable_nbytes
    kinds = [type(n.op).__name__ for n in order]
    assert kinds.count("DimShuffle") == 1
    # exp's 8000B stay until sin and cos ran; sin + cos + their sum peak with it.
    assert peak_memory(order, outs, nbytes, allow_gc=True) == 3 * 8 * N
    assert " v " in _summary(f)


def test_without_the_flag_no_memory_is_recorded():
    x = T.dvector("x")
    f = function([x], T.exp(x), mode=Mode("vm", None), profile=True)
    f(np.zeros(3))
    assert not f.profile.variable_nbytes
    assert "Memory Profile" not in _summary(f)
    assert f.fn.callback is None

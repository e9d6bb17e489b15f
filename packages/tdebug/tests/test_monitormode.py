"""MonitorMode: pre_func/post_func around every node, and the debugging FAQ's recipes."""

from __future__ import annotations

import numpy
import numpy as np
import pytest

import tgraph.tensor as T
from tdebug.monitormode import MonitorMode
from tgraph.printing import debugprint
from tgraph.shared import shared
from tlink import PerformLinker, function


def detect_nan(i, node, fn):
    """The FAQ's post_func, as written there (theano.printing is tgraph.printing)."""
    for output in fn.outputs:
        if (not isinstance(output[0], numpy.random.RandomState) and
                numpy.isnan(output[0]).any()):
            print('*** NaN detected ***')
            debugprint(node)
            print('Inputs : %s' % [input[0] for input in fn.inputs])
            print('Outputs: %s' % [output[0] for output in fn.outputs])
            break


def test_faq_detect_nan(capsys):
    x = T.dscalar('x')
    f = function([x], [T.log(x) * x], mode=MonitorMode(post_func=detect_nan))
    out = f(0)  # log(0) * 0 = -inf * 0 = NaN
    assert np.isnan(out[0])
    text = capsys.readouterr().out
    assert '*** NaN detected ***' in text
    assert 'Inputs : [array(0.)' in text
    assert 'Outputs: [array(nan)]' in text


def test_faq_detect_nan_without_fusion_shows_the_elementary_op(capsys):
    x = T.dscalar('x')
    mode = MonitorMode(post_func=detect_nan).excluding('local_elemwise_fusion', 'inplace')
    assert isinstance(mode, MonitorMode) and mode.post_func is detect_nan
    f = function([x], [T.log(x) * x], mode=mode)
    f(0)
    text = capsys.readouterr().out
    assert text.count('*** NaN detected ***') == 1
    assert 'Elemwise{mul' in text  # log(0) is -inf, not NaN: the mul is the culprit
    assert 'Inputs : [array(-inf), array(0.)]' in text


def test_faq_inspect_inputs_and_outputs(capsys):
    def inspect_inputs(i, node, fn):
        print(i, node, "input(s) value(s):", [input[0] for input in fn.inputs], end='')

    def inspect_outputs(i, node, fn):
        print(" output(s) value(s):", [output[0] for output in fn.outputs])

    x = T.dscalar('x')
    f = function([x], [5 * x], mode=MonitorMode(pre_func=inspect_inputs,
                                                post_func=inspect_outputs))
    f(3)
    line = capsys.readouterr().out.strip()
    assert line.startswith("0 Elemwise{mul")
    assert "input(s) value(s): [array(5.), array(3.)]" in line
    assert line.endswith("output(s) value(s): [array(15.)]")


def test_pre_and_post_order_and_counts():
    events = []

    def pre(i, node, fn):
        events.append(("pre", i, str(node.op)))

    def post(i, node, fn):
        assert fn.outputs[0][0] is not None  # the node ran
        events.append(("post", i, str(node.op)))

    x = T.dvector('x')
    f = function([x], T.exp(T.sin(x)) + 1.0, mode=MonitorMode(pre, post, optimizer=None))
    order = [str(node.op) for node in f.maker.fgraph.toposort()]
    n = len(order)
    assert n >= 3
    for call in range(4):
        f(np.arange(3.0))
        assert len(events) == 2 * n * (call + 1)
    first = events[:2 * n]
    assert [(kind, i) for kind, i, _ in first] == [
        (kind, i) for i in range(n) for kind in ("pre", "post")]
    assert [name for kind, _, name in first if kind == "pre"] == order
    assert order.index("Elemwise{sin,no_inplace}") < order.index("Elemwise{exp,no_inplace}")


def test_values_match_fast_run_and_updates_apply():
    w = shared(np.ones(3), name='w')
    x = T.dvector('x')
    seen = []
    mode = MonitorMode(post_func=lambda i, node, fn: seen.append(i))
    f = function([x], (w * x).sum(), updates=[(w, w + x)], mode=mode)
    g = function([x], (w * x).sum(), mode="FAST_RUN")
    expected = g(np.arange(3.0))
    assert f(np.arange(3.0)) == expected
    np.testing.assert_array_equal(w.get_value(), [1.0, 2.0, 3.0])
    assert seen and seen[0] == 0


def test_linkers_clone_and_errors():
    x = T.dvector('x')
    calls = []
    mode = MonitorMode(post_func=lambda i, node, fn: calls.append(fn.outputs[0][0].copy()),
                       linker=PerformLinker())
    f = function([x], x * 2.0, mode=mode)
    f(np.ones(2))
    np.testing.assert_array_equal(calls[-1], [2.0, 2.0])
    named = MonitorMode(linker="py").including("fast_run")
    assert isinstance(named, MonitorMode)
    assert "MonitorMode" in str(named)
    with pytest.raises(TypeError, match="MonitorMode: linker"):
        MonitorMode(linker=3)

    def boom(i, node, fn):
        raise ValueError("hook failed")

    h = function([x], x + 1.0, mode=MonitorMode(pre_func=boom))
    with pytest.raises(ValueError, match="hook failed"):
        h(np.ones(1))


def test_profiled_monitor_mode():
    x = T.dvector('x')
    seen = []
    f = function([x], T.exp(x), mode=MonitorMode(post_func=lambda i, n, fn: seen.append(i)),
                 profile=True)
    f(np.ones(2))
    assert seen == [0] and f.profile.fct_callcount == 1

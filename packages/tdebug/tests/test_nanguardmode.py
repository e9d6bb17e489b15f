"""NanGuardMode finds the first node that computes NaN, Inf or a huge value, and only that."""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.tensor as T
from tdebug.nanguardmode import (
    NanGuardError,
    NanGuardLinker,
    NanGuardMode,
    NanGuardWarning,
    summarize_value,
)
from tgraph import config
from tgraph.gradient import grad
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.shared import shared
from tlink import function, get_mode


class Poison(Op):
    """Copies its input and writes ``value`` at ``index``: one bad element among many."""

    __props__ = ("value", "index")

    def __init__(self, value: float, index: int = 0):
        self.value = value
        self.index = index

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        y = inputs[0].copy()
        y.flat[self.index] = self.value
        out[0][0] = y


def _poisoned(value, mode=None):
    x = T.dvector("x")
    mid = Poison(value, 123_456)(T.exp(x))
    return function([x], T.tanh(mid) * 2.0, mode=mode or NanGuardMode(True, True, True))


@pytest.mark.parametrize(("value", "word"), [(np.nan, "NaN"), (np.inf, "Inf"),
                                             (-np.inf, "Inf"), (1e12, "big value")],
                         ids=["nan", "inf", "-inf", "big"])
def test_one_bad_element_in_a_million_names_the_node_that_made_it(value, word):
    f = _poisoned(value)
    with pytest.raises(NanGuardError, match=word) as info:
        f(np.zeros(1_000_000))
    err = info.value
    assert isinstance(err, AssertionError)
    assert isinstance(err.node.op, Poison)  # the first node with a bad value, not tanh
    text = str(err)
    assert "Poison" in text and f"{word} (1" in text
    assert "shape (1000000,)" in text and "float64" in text
    assert "min 1.0, max 1.0" in text  # the input summary: exp(0) everywhere
    assert "Apply node that caused the error" in text


def test_clean_calls_pass_and_match_fast_run():
    x = T.dvector("x")
    out = T.log(x) * x + 1e9
    f = function([x], out, mode=NanGuardMode(True, True, True))
    g = function([x], out, mode="FAST_RUN")
    v = np.linspace(0.5, 3.0, 1000)
    np.testing.assert_allclose(f(v), g(v))  # 1e9 is not "big" (Theano's limit is 1e10)


def test_flags_choose_what_is_an_error():
    x = T.dvector("x")
    nan_only = function([x], T.log(x), mode=NanGuardMode(True, False, False))
    assert np.isneginf(nan_only(np.zeros(3))).all()  # -inf is allowed
    with pytest.raises(NanGuardError, match="NaN"):
        nan_only(-np.ones(3))
    inf_only = function([x], T.log(x), mode=NanGuardMode(False, True, False))
    assert np.isnan(inf_only(-np.ones(3))).all()
    with pytest.raises(NanGuardError, match="Inf"):
        inf_only(np.zeros(3))
    big_only = function([x], x * 1e6, mode=NanGuardMode(False, False, True))
    with pytest.raises(NanGuardError, match="big value"):
        big_only(np.full(4, 1e5))
    off = function([x], T.log(x), mode=NanGuardMode(False, False, False))
    assert np.isnan(off(-np.ones(2))).all()


def test_none_reads_the_flags_when_compiling():
    x = T.dvector("x")
    with config.change_flags(NanGuardMode__nan_is_error=False):
        f = function([x], T.log(x), mode=NanGuardMode(inf_is_error=True))
    assert np.isnan(f(-np.ones(2))).all()
    with pytest.raises(NanGuardError):
        f(np.zeros(2))


def test_action_warn_reports_once_per_call_and_returns():
    f = _poisoned(np.nan)
    with config.change_flags(NanGuardMode__action="warn"):
        with pytest.warns(NanGuardWarning, match="Poison") as record:
            out = f(np.zeros(1_000_000))
    assert np.isnan(out[123_456])
    assert len([w for w in record if w.category is NanGuardWarning]) == 1


def test_bad_function_input_is_reported_as_the_input():
    x = T.dvector("x")
    f = function([x], T.exp(x), mode=NanGuardMode(True, True, True))
    v = np.ones(10)
    v[3] = np.nan
    with pytest.raises(NanGuardError, match=r"NaN \(1\) detected in input x") as info:
        f(v)
    assert info.value.node is None and "read by: Elemwise{exp" in str(info.value)


def test_bad_shared_variable_and_constant():
    w = shared(np.array([1.0, np.inf]), name="w")
    f = function([], w * 2.0, mode=NanGuardMode(True, True, True))
    with pytest.raises(NanGuardError, match=r"Inf \(1\) detected in input w"):
        f()
    x = T.dvector("x")
    g = function([x], x + T.constant(np.array([np.nan, 1.0])), mode=NanGuardMode())
    with pytest.raises(NanGuardError, match=r"NaN \(1\) detected in constant"):
        g(np.ones(2))


def test_integer_boolean_and_non_array_values_are_skipped():
    i = T.lvector("i")
    b = T.bvector("b")
    x = T.dvector("x")
    f = function([i, b, x], [i * 10**6, T.eq(i, 0) | T.neq(b, 0), x[b]],
                 mode=NanGuardMode(True, True, True))
    big_ints = np.array([0, 10**11, 1])
    out = f(big_ints, np.array([1, 0, 1], dtype="int8"), np.arange(3.0))
    assert out[0][1] == 10**17  # huge integers are not "big": only floats are checked
    summary = summarize_value(None)
    assert "not checked" in summary


def test_uninitialized_buffers_and_views_are_not_checked():
    """The seed's graph has AllocEmpty feeding an in-place Gemv: never a false alarm."""
    mode = NanGuardMode(True, True, True)
    x = T.dmatrix("x")
    w = T.dvector("w")
    f = function([x, w], T.dot(x, w) + x.T.sum(), mode=mode)
    kinds = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
    guard = f.fn.nan_guard
    checked = {type(n.op).__name__ for n in guard.by_node}
    assert "AllocEmpty" not in checked and "DimShuffle" not in checked
    assert {"AllocEmpty", "DimShuffle"} & kinds or True
    for _ in range(3):
        f(np.ones((5, 4)), np.ones(4))


def test_seed_program_100_steps_without_false_alarm():
    with config.change_flags(floatX="float32"):
        rng = np.random.RandomState(42)
        n, feats = 400, 784
        data = (rng.randn(n, feats).astype("float32"),
                rng.randint(size=n, low=0, high=2).astype("float32"))
        x = T.matrix("x")
        y = T.vector("y")
        w = shared(rng.randn(feats).astype("float32"), name="w")
        b = shared(np.asarray(0.0, dtype="float32"), name="b")
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        gw, gb = grad(cost, [w, b])
        train = function([x, y], [p_1 > 0.5, xent],
                         updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)],
                         mode="NanGuardMode")
        assert isinstance(train.maker.mode, NanGuardMode)
        for _ in range(100):
            pred, err = train(*data)
        assert np.isfinite(err).all() and pred.dtype == bool


@pytest.mark.parametrize("linker", [None, "cvm", "vm", "vm_nogc", "py", "c|py"])
def test_every_vm_linker_checks(linker):
    mode = NanGuardMode(True, True, True, linker=linker)
    assert isinstance(mode.linker, NanGuardLinker)
    f = _poisoned(np.nan, mode=mode)
    with pytest.raises(NanGuardError, match="Poison"):
        f(np.zeros(1_000_000))


def test_other_linkers_are_refused_and_modes_clone():
    with pytest.raises(TypeError, match="VM linker"):
        NanGuardMode(linker=object())
    mode = NanGuardMode(False, True, None)
    other = mode.excluding("fusion")
    assert isinstance(other, NanGuardMode) and not other.nan_is_error
    assert "NanGuardMode" in str(mode)
    assert isinstance(get_mode("NanGuardMode"), NanGuardMode)


def test_float16_and_complex_values():
    h = T.TensorType("float16", (False,))("h")
    f = function([h], h * 2, mode=NanGuardMode(True, True, True))
    with pytest.raises(NanGuardError, match="Inf"):
        f(np.array([1.0, 40000.0], dtype="float16"))  # 80000 overflows float16
    c = T.TensorType("complex128", (False,))("c")
    g = function([c], c * 2, mode=NanGuardMode(True, True, True))
    g(np.array([1 + 2j]))
    with pytest.raises(NanGuardError, match="NaN"):
        g(np.array([complex(np.nan, 1.0)]))


def test_shared_value_set_between_calls_is_checked_again():
    """An update's result is not re-checked as the next input, but a new value is."""
    w = shared(np.ones(5), name="w")
    x = T.dvector("x")
    f = function([x], (w * x).sum(), updates=[(w, w * 0.5)], mode=NanGuardMode(True, True, True))
    for _ in range(3):
        f(np.ones(5))
    bad = np.ones(5)
    bad[2] = np.nan
    w.set_value(bad)
    with pytest.raises(NanGuardError, match="input w"):
        f(np.ones(5))


def test_value_preserving_nodes_are_not_checked_twice():
    x = T.dvector("x")
    mode = NanGuardMode(True, True, True, optimizer=None)
    f = function([x], [-x, T.exp(x)], mode=mode)
    checked = {str(n.op) for n in f.fn.nan_guard.by_node}
    assert any("exp" in name for name in checked)
    assert not any("neg" in name for name in checked)
    with pytest.raises(NanGuardError, match="input x"):
        f(np.array([np.nan]))


def test_pickled_function_keeps_checking_and_profiles_work():
    import pickle

    x = T.dvector("x")
    f = function([x], T.log(x), mode=NanGuardMode(True, False, False), profile=True)
    f(np.ones(3))
    g = pickle.loads(pickle.dumps(f))
    assert isinstance(g.maker.mode, NanGuardMode) and not g.maker.mode.inf_is_error
    with pytest.raises(NanGuardError, match="NaN"):
        g(-np.ones(3))
    assert f.profile.fct_callcount == 1 and sum(f.profile.apply_callcount.values()) == 1
    with config.change_flags(profile_memory=True):
        h = function([x], T.exp(x) + 1.0, mode=NanGuardMode(), profile=True)
    h(np.ones(5))
    assert sorted(h.profile.variable_nbytes.values())[-1] == 40


def test_the_named_mode_follows_the_flags_when_compiling():
    x = T.dvector("x")
    with config.change_flags(optimizer="None", NanGuardMode__nan_is_error=False):
        f = function([x], T.log(x) * 1.0, mode="NanGuardMode")
    assert len(f.maker.fgraph.toposort()) == 3  # no rewrite: log, the dimshuffle and mul
    assert np.isnan(f(-np.ones(2))).all()  # NaN allowed by the flag at compile time
    with pytest.raises(NanGuardError, match="Inf"):
        f(np.zeros(2))

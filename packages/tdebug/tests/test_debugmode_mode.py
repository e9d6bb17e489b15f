"""DebugMode as users reach it: by name, by Theano 1.0's constructor, with its flags; and the
errors of the optimizer: a wrong rewrite (BadOptimization), an unstable one (StochasticOrder).
"""

from __future__ import annotations

import numpy as np
import pytest
from debugmode_brokenops import ReturnsNaN

import tgraph.tensor as T
from tdebug.debugmode import (
    BadOptimization,
    DebugMode,
    DebugModeError,
    InvalidValueError,
    StochasticOrder,
)
from tgraph import config
from tgraph.gradient import grad
from tgraph.tensor.elemwise import Elemwise
from tlink import Mode, function, get_mode
from topt.engine import local_optimizer
from topt.optdb import optdb


@local_optimizer([Elemwise])
def local_dm_test_tanh_to_sin(fgraph, node):
    """tanh(x) -> sin(x): deliberately wrong, to be caught by DebugMode."""
    if type(getattr(node.op, "scalar_op", None)).__name__ == "Tanh":
        return [T.sin(node.inputs[0])]
    return None


_FLAKY = {"calls": 0}


@local_optimizer([Elemwise])
def local_dm_test_flaky(fgraph, node):
    """cosh(x) -> cosh(x) written again, only in the first graph it sees (not deterministic)."""
    if type(getattr(node.op, "scalar_op", None)).__name__ != "Cosh":
        return None
    _FLAKY["calls"] += 1
    if _FLAKY["calls"] == 1:
        return [T.exp(node.inputs[0]) / 2 + T.exp(-node.inputs[0]) / 2]
    return None


canonicalize = optdb["canonicalize"]
for _name, _rw, _tag in (("local_dm_test_tanh_to_sin", local_dm_test_tanh_to_sin, "dm_test_bad"),
                         ("local_dm_test_flaky", local_dm_test_flaky, "dm_test_flaky")):
    if _name not in canonicalize:
        canonicalize.register(_name, _rw, _tag, use_db_name_as_tag=False)


def test_seed_example_runs_under_debugmode_by_name():
    import theano

    x = theano.tensor.dvector("x")
    f = theano.function([x], 10 * x, mode="DebugMode")
    np.testing.assert_array_equal(f(np.array([1.0, 2.0, 3.0])), [10.0, 20.0, 30.0])
    assert isinstance(get_mode("DebugMode"), DebugMode)
    assert isinstance(get_mode("DEBUG_MODE"), DebugMode)


def test_theano_constructor_takes_theano_1_arguments():
    import theano.compile.debugmode as dm

    mode = dm.DebugMode(optimizer="fast_run", stability_patience=3, check_c_code=False,
                        check_py_code=True, check_isfinite=False,
                        check_preallocated_output=["c_contiguous", "strided"],
                        require_matching_strides=2)
    assert (mode.stability_patience, mode.check_c_code, mode.check_py_code,
            mode.check_isfinite, mode.require_matching_strides) == (3, False, True, False, 2)
    assert mode.check_preallocated_output == ["c_contiguous", "strided"]
    assert issubclass(dm.BadOptimization, dm.DebugModeError)
    for name in ("BadThunkOutput", "BadDestroyMap", "BadViewMap", "InvalidValueError",
                 "StochasticOrder"):
        assert issubclass(getattr(dm, name), dm.DebugModeError)
    clone = mode.including("fusion")
    assert isinstance(clone, DebugMode) and clone.stability_patience == 3
    assert "fusion" in str(clone.provided_optimizer)


@pytest.mark.parametrize("bad", [dict(linker="c|py"), dict(check_c_code=False,
                                                          check_py_code=False),
                                 dict(stability_patience=0),
                                 dict(require_matching_strides=5)],
                         ids=["linker", "nothing-to-run", "patience", "strides"])
def test_constructor_rejects_bad_arguments(bad):
    with pytest.raises(ValueError, match="DebugMode"):
        DebugMode(**bad)


def test_flags_are_the_defaults_and_read_at_compile_time():
    mode = DebugMode()
    with config.change_flags({"DebugMode.patience": 2, "DebugMode.check_finite": False,
                              "DebugMode.check_strides": 1,
                              "DebugMode.check_preallocated_output": "f_contiguous:strided"}):
        assert mode.stability_patience == 2
        assert mode.check_isfinite is False
        assert mode.require_matching_strides == 1
        assert mode.check_preallocated_output == ["f_contiguous", "strided"]
        x = T.dvector("x")
        out = function([x], ReturnsNaN()(x), mode="DebugMode")(np.ones(4))
        assert np.isnan(out[2])
    with config.change_flags({"DebugMode.check_preallocated_output": "ALL"}):
        assert "wrong_size" in mode.check_preallocated_output
    x = T.dvector("x")
    with pytest.raises(InvalidValueError):
        function([x], ReturnsNaN()(x), mode="DebugMode")(np.ones(4))


def test_check_c_flag_is_honoured():
    x = T.dvector("x")
    with config.change_flags({"DebugMode.check_c": False}):
        f = function([x], T.exp(x) * 2, mode=DebugMode(stability_patience=1))
    assert all(run.c is None for run in f.fn._runs)


def test_wrong_rewrite_is_bad_optimization_naming_it_and_both_graphs():
    x = T.dvector("x")
    mode = DebugMode(stability_patience=1).including("dm_test_bad")
    f = function([x], T.tanh(x) * 3, mode=mode)
    with pytest.raises(BadOptimization) as info:
        f(np.array([0.5, 1.0, 2.0]))
    err = info.value
    assert isinstance(err, DebugModeError)
    text = str(err)
    assert "the rewrite local_dm_test_tanh_to_sin replaced" in text
    assert "tanh" in err.old_graph and "sin" in err.new_graph
    assert "old graph:" in text and "new graph:" in text
    worst = np.max(np.abs(np.tanh([0.5, 1.0, 2.0]) - np.sin([0.5, 1.0, 2.0])))
    assert f"largest absolute difference {worst:.6g}" in text
    # Without the rewrite the same graph passes.
    g = function([x], T.tanh(x) * 3, mode=DebugMode(stability_patience=1))
    np.testing.assert_allclose(g(np.array([0.5])), 3 * np.tanh([0.5]))


def test_rewrites_that_stabilize_are_not_reported():
    """log(1 - sigmoid(x)) overflows in its naive form; the stable form is not an error."""
    x = T.dvector("x")
    p = 1 / (1 + T.exp(-x))
    f = function([x], [T.log(1 - p), grad(T.log(1 - p).sum(), x)],
                 mode=DebugMode(stability_patience=1))
    v, g = f(np.array([-3.0, 0.0, 20.0, 36.7, 800.0]))
    np.testing.assert_allclose(v[:3], np.log1p(-1 / (1 + np.exp(-np.array([-3.0, 0, 20])))))
    assert np.isfinite(v).all() and np.isfinite(g).all()


def test_unstable_rewrite_is_stochastic_order():
    _FLAKY["calls"] = 0
    x = T.dvector("x")
    mode = DebugMode(stability_patience=3, optimizer="fast_compile").including("dm_test_flaky")
    with pytest.raises(StochasticOrder, match=r"optimizing the same graph 2 times gave a "
                                              r"different graph"):
        function([x], T.cosh(x), mode=mode)


def test_stable_compilation_passes_patience():
    x = T.dmatrix("x")
    f = function([x], T.nnet.softmax(x).sum(axis=1), mode=DebugMode(stability_patience=4))
    np.testing.assert_allclose(f(np.eye(3)), np.ones(3))


def test_seed_training_step_runs_and_agrees_with_fast_run():
    rng = np.random.default_rng(1)
    data = rng.standard_normal((40, 20)), rng.integers(0, 2, size=40).astype("float64")
    import theano

    results = []
    for mode in ("DebugMode", Mode("cvm", "fast_run")):
        x, y = T.dmatrix("x"), T.dvector("y")
        w = theano.shared(rng.standard_normal(20) * 0 + np.linspace(-3, 3, 20), name="w")
        b = theano.shared(0.0, name="b")
        p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
        xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
        cost = xent.mean() + 0.01 * (w ** 2).sum()
        gw, gb = grad(cost, [w, b])
        train = theano.function([x, y], [p_1 > 0.5, xent], mode=mode,
                                updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)])
        for _ in range(3):
            out = train(*data)
        results.append((out, w.get_value()))
    np.testing.assert_array_equal(results[0][0][0], results[1][0][0])
    np.testing.assert_allclose(results[0][0][1], results[1][0][1], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


def test_wrong_rewrite_later_rewritten_again_is_reported_with_the_chain():
    """tanh -> sin, then fusion replaces sin's output: the check compares the original with
    what finally computes it and names both rewrites."""
    x = T.dvector("x")
    mode = DebugMode(stability_patience=1).including("dm_test_bad")
    f = function([x], T.tanh(x * 2), mode=mode)
    with pytest.raises(BadOptimization,
                       match=r"the rewrite local_dm_test_tanh_to_sin \(then .*fusion.*\) "
                             r"replaced Elemwise\{tanh"):
        f(np.array([0.5, 1.0, 2.0]))


def test_seed_in_float32_with_large_logits_is_not_a_bad_optimization():
    """The seed's data give logits near |80|: in float32 the canonical intermediate forms
    overflow (inf / inf) or cancel to 0 where the final, stabilized graph is right; DebugMode
    must not blame the rewrites for that, and must agree with FAST_RUN."""
    import theano

    rng = np.random.default_rng(3)
    data = (rng.standard_normal((60, 784)).astype("float32"),
            rng.integers(0, 2, size=60).astype("float32"))
    w0 = rng.standard_normal(784).astype("float32")
    results = []
    with config.change_flags(floatX="float32"):
        for mode in ("DebugMode", Mode("cvm", "fast_run")):
            x, y = T.matrix("x"), T.vector("y")
            w = theano.shared(w0.copy(), name="w")
            b = theano.shared(np.float32(0.0), name="b")
            p_1 = 1 / (1 + T.exp(-T.dot(x, w) - b))
            xent = -y * T.log(p_1) - (1 - y) * T.log(1 - p_1)
            cost = xent.mean() + 0.01 * (w ** 2).sum()
            gw, gb = grad(cost, [w, b])
            train = theano.function([x, y], [p_1 > 0.5], mode=mode,
                                    updates=[(w, w - 0.01 * gw), (b, b - 0.01 * gb)])
            for _ in range(2):
                (pred,) = train(*data)
            results.append((pred, w.get_value()))
    assert np.abs(data[0] @ w0).max() > 40  # the overflow regime of the seed
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-5, atol=1e-6)


def test_profile_counts_every_node_under_debugmode():
    x = T.dvector("x")
    f = function([x], T.exp(x) * 2, mode=DebugMode(stability_patience=1), profile=True)
    for _ in range(3):
        f(np.ones(4))
    counts = f.profile.apply_callcount
    assert counts and set(counts.values()) == {3}
    assert all(t >= 0 for t in f.profile.apply_time.values())

"""Modes and the linker/optimizer/mode registries.

Every name of Theano 1.0's tables must be accepted. Names whose provider is not there yet
run with the Python VM and no rewrites, with exactly one warning per name per process.
"""

from __future__ import annotations

import importlib.util
import pickle
import warnings

import numpy as np
import pytest

from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.tensor.type import TensorType
from tlink import (
    FAST_COMPILE,
    FAST_RUN,
    FallbackWarning,
    Mode,
    OptimizerQuery,
    PerformLinker,
    UnknownNameError,
    VMLinker,
    function,
    get_default_mode,
    get_mode,
    predefined_linkers,
    predefined_modes,
    predefined_optimizers,
    register_linker,
    register_mode,
    register_optimizer,
)
from tlink import mode as mode_module
from tlink.cc.clinker import MissingCCodeError
from tlink.fallback import reset_fallback_warnings, warned_names

dvec = TensorType("float64", (False,))

LINKERS = ["py", "c", "c|py", "c|py_nogc", "cvm", "cvm_nogc", "vm", "vm_nogc"]
OPTIMIZERS = [None, "None", "o1", "o2", "o3", "o4", "fast_compile", "fast_run", "merge",
              "unsafe", "stabilize"]
# With topt installed the levels resolve; tlink tested alone falls back with one warning.
TOPT_INSTALLED = importlib.util.find_spec("topt") is not None
MODES = ["FAST_COMPILE", "FAST_RUN", "Mode", "DebugMode", "DEBUG_MODE", "NanGuardMode"]
PROVIDED_BY_TDEBUG = ("DebugMode", "DEBUG_MODE", "NanGuardMode")


class Double(Op):
    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, out, params=None):
        out[0][0] = 2 * inputs[0]


class Triple(Double):
    def perform(self, node, inputs, out, params=None):
        out[0][0] = 3 * inputs[0]


double = Double()


@pytest.fixture(autouse=True)
def clean_registries():
    """Each test starts with no name warned about and leaves the registries as it found them."""
    saved = (dict(predefined_linkers), dict(predefined_optimizers), dict(predefined_modes))
    for name in PROVIDED_BY_TDEBUG:  # registered when tdebug is imported in this process
        predefined_modes.pop(name, None)  # (the whole suite in one run): test tlink alone
    reset_fallback_warnings()
    yield
    for table, before in zip((predefined_linkers, predefined_optimizers, predefined_modes),
                             saved):
        table.clear()
        table.update(before)
    reset_fallback_warnings()


def _compile_and_run(mode):
    x = dvec("x")
    f = function([x], double(x), mode=mode)
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [2.0, 4.0])
    return f


def _fallback_messages(record):
    return [str(w.message) for w in record if issubclass(w.category, FallbackWarning)]


@pytest.mark.parametrize("name", LINKERS)
def test_every_linker_name_of_the_table_runs_without_fallback(name):
    if name == "c":  # every node must have C code, and Double has none: named in the error
        with pytest.raises(MissingCCodeError, match=r"these Ops have none .*: Double\."):
            _compile_and_run(Mode(linker=name, optimizer=None))
        return
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _compile_and_run(Mode(linker=name, optimizer=None))
        _compile_and_run(Mode(linker=name, optimizer=None))
    assert _fallback_messages(record) == []


@pytest.mark.parametrize("name", OPTIMIZERS, ids=str)
def test_every_optimizer_name_runs_with_at_most_one_warning(name):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        _compile_and_run(Mode(linker="py", optimizer=name))
        _compile_and_run(Mode(linker="py", optimizer=name))
    messages = _fallback_messages(record)
    if name in (None, "None") or TOPT_INSTALLED:
        assert messages == []
    else:
        assert messages == [
            f"optimizer '{name}' is not available yet (topt registers the optimizer levels "
            "when it is imported); running without graph rewrites"
        ]


@pytest.mark.parametrize("name", MODES)
def test_every_mode_name_runs(name):
    with warnings.catch_warnings(record=True) as record, config.change_flags(linker="vm"):
        warnings.simplefilter("always")
        _compile_and_run(name)
        _compile_and_run(name)
    messages = _fallback_messages(record)
    assert len([m for m in messages if m.startswith("mode ")]) == (
        0 if name in ("FAST_COMPILE", "FAST_RUN", "Mode") else 1)
    assert len(messages) == len(set(messages))
    for m in messages:
        if m.startswith("mode "):
            assert "tdebug registers it when imported" in m


@pytest.mark.parametrize("kind", ["linker", "optimizer", "mode"])
def test_unknown_names_list_the_valid_ones(kind):
    x = dvec("x")
    with pytest.raises(UnknownNameError, match=f"unknown {kind} 'bogus'; valid names: .*'py'"
                       if kind == "linker" else f"unknown {kind} 'bogus'; valid names"):
        if kind == "linker":
            Mode(linker="bogus", optimizer=None)
        elif kind == "optimizer":
            Mode(linker="py", optimizer="bogus")
        else:
            function([x], double(x), mode="bogus")


def test_unknown_name_error_is_a_value_error():
    with pytest.raises(ValueError):
        get_mode("FAST_WALK")


# -- registering --------------------------------------------------------------------------


def test_register_linker_refuses_duplicates_and_is_used():
    register_linker("my_py", PerformLinker(allow_gc=False))
    f = _compile_and_run(Mode(linker="my_py", optimizer=None))
    assert f.fn.allow_gc is False
    with pytest.raises(ValueError, match="already registered"):
        register_linker("my_py", PerformLinker())
    with pytest.raises(ValueError, match="already registered"):
        register_linker("vm", VMLinker())


def test_registering_a_linker_name_twice_is_refused():
    with pytest.raises(ValueError, match="a linker named 'cvm' is already registered"):
        register_linker("cvm", VMLinker())


class Rewriter:
    """An optimizer replacing Double by Triple, recording the tag queries it got."""

    def __init__(self, tags=()):
        self.tags = tags
        self.runs = 0

    def optimize(self, fgraph):
        self.runs += 1
        for node in list(fgraph.toposort()):
            if isinstance(node.op, Double) and "keep" not in self.tags:
                fgraph.replace(node.outputs[0], Triple()(node.inputs[0]), reason="test")

    def including(self, *tags):
        return Rewriter(self.tags + tags)

    def excluding(self, *tags):
        return Rewriter(self.tags + tuple("-" + t for t in tags))

    def requiring(self, *tags):
        return Rewriter(self.tags + tuple("+" + t for t in tags))


def test_registered_optimizer_runs_for_its_name():
    opt = Rewriter()
    register_optimizer("fast_run", opt)
    x = dvec("x")
    out = double(x)
    out.name = "doubled"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = function([x], out, mode=Mode(linker="py", optimizer="fast_run"))
    np.testing.assert_array_equal(f(np.array([1.0])), [3.0])
    assert opt.runs == 1
    assert isinstance(f.maker.fgraph.outputs[0].owner.op, Triple)
    assert f.maker.fgraph.outputs[0].name == "doubled"  # the rewrite kept the user's name
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("fast_run", Rewriter())


def test_callable_optimizer_and_optimizer_object_in_mode():
    seen = []
    register_optimizer("o1", seen.append)
    _compile_and_run(Mode(linker="py", optimizer="o1"))
    assert len(seen) == 1
    opt = Rewriter()
    x = dvec("x")
    f = function([x], double(x), mode=Mode(linker="py", optimizer=opt))
    np.testing.assert_array_equal(f(np.array([1.0])), [3.0])


def test_tag_queries_reach_the_registered_optimizer():
    register_optimizer("o2", Rewriter())
    mode = Mode("py", "o2").including("keep", "b").excluding("c").requiring("d")
    assert isinstance(mode.provided_optimizer, OptimizerQuery)
    assert str(mode.provided_optimizer) == "o2.including(keep, b).excluding(c).requiring(d)"
    assert mode.optimizer.tags == ("keep", "b", "-c", "+d")
    _compile_and_run(mode)  # 'keep' stops the rewrite: the result is still 2 * x


def test_tags_without_registered_optimizer_are_kept_and_dropped_silently_for_none():
    mode = Mode("py", None).including("fusion")
    assert mode.provided_optimizer == OptimizerQuery(None, include=("fusion",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _compile_and_run(mode)


def test_tag_query_on_optimizer_without_methods_is_an_error():
    register_optimizer("o3", lambda fgraph: None)
    with pytest.raises(TypeError, match="does not support tag queries"):
        _ = Mode("py", "o3").including("x").optimizer
    with pytest.raises(TypeError, match="does not support tag queries"):
        Mode("py", lambda fgraph: None).including("x")


def test_register_mode():
    mine = Mode("vm_nogc", None)
    register_mode("MINE", mine)
    assert get_mode("MINE") is mine
    with pytest.raises(ValueError, match="already registered"):
        register_mode("MINE", mine)
    register_mode("DebugMode", mine)  # what tdebug will do
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert get_mode("DebugMode") is mine


def test_run_optimizer_rejects_non_optimizers():
    with pytest.raises(TypeError, match="is not an optimizer"):
        mode_module.run_optimizer(42, None)


# -- the Mode object -----------------------------------------------------------------------


def test_mode_defaults_read_the_flags():
    with config.change_flags(linker="vm_nogc"):
        m = Mode()
        assert m.provided_linker == "vm_nogc"
        assert m.linker is predefined_linkers["vm_nogc"]
    assert m.provided_linker == "vm_nogc"  # a snapshot, as Theano 1.0
    expected = config.optimizer if "optimizer" in config else "None"
    assert m.provided_optimizer == OptimizerQuery(expected)


def test_mode_str_and_linker_object():
    linker = VMLinker(allow_gc=False)
    m = Mode(linker=linker, optimizer=None)
    assert m.linker is linker
    assert str(Mode("py", "fast_run")) == "Mode(linker=py, optimizer=fast_run)"
    with pytest.raises(TypeError, match="linker must be a linker name"):
        Mode(linker=3)  # not a name, not an object


def test_mode_clone():
    m = Mode("vm", "o1")
    c = m.clone()
    assert c is not m and c.provided_linker == "vm" and c.provided_optimizer == m.provided_optimizer
    d = m.clone(optimizer=None)
    assert d.provided_optimizer == OptimizerQuery(None)
    e = m.clone(link_kwargs={"allow_gc": False})
    assert isinstance(e.linker, VMLinker) and e.linker.allow_gc is False
    assert predefined_linkers["vm"].allow_gc is None


def test_mode_pickles_by_names():
    m = pickle.loads(pickle.dumps(Mode("py", "fast_run").including("a")))
    assert m.provided_linker == "py"
    assert m.provided_optimizer == OptimizerQuery("fast_run", include=("a",))
    default = pickle.loads(pickle.dumps(predefined_modes["Mode"]))
    assert type(default) is Mode and default.provided_linker == config.linker


def test_predefined_modes():
    assert get_mode("FAST_COMPILE") is FAST_COMPILE
    assert FAST_COMPILE.provided_linker == "py"
    assert FAST_COMPILE.provided_optimizer == OptimizerQuery("fast_compile")
    assert FAST_RUN.provided_linker == "cvm"
    assert FAST_RUN.provided_optimizer == OptimizerQuery("fast_run")
    with config.change_flags(linker="py"):
        assert get_mode("Mode").provided_linker == "py"
        assert get_mode("Mode").clone().provided_linker == "py"
    assert get_mode(FAST_RUN) is FAST_RUN


def test_get_mode_none_reads_mode_flag():
    with config.change_flags(mode="FAST_COMPILE"):
        assert get_mode(None) is FAST_COMPILE
        assert get_default_mode() is FAST_COMPILE


def test_modes_count_time():
    m = Mode("py", None)
    _compile_and_run(m)
    assert m.call_time > 0 and m.fn_time > 0


def test_warned_once_per_process():
    with pytest.warns(FallbackWarning):
        get_mode("NanGuardMode")
    assert any("NanGuardMode" in n for n in warned_names())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        get_mode("NanGuardMode")

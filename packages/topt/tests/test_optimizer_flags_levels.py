"""optimizer_verbose, on_opt_error and profile_optimizer seen through a named level.

test_engine_rewriter.py checks the flags on single drivers; these tests go through what
``theano.function`` runs, a QueryOptimizer over a SequenceDB (optdb's or a private one, so
that a deliberately broken rewrite never enters the process-wide registry), and check what
the user sees: the printed replacements, the warning or error naming the failing rewrite,
the post-mortem hook, and the per-rewrite profile.
"""

from __future__ import annotations

import numpy as np
import pytest

from tgraph import config
from tgraph.graph import evaluate
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.elemwise import Elemwise
from tgraph.tensor.type import TensorType
from topt.engine import base as engine_base
from topt.engine.base import RewriteWarning, local_optimizer
from topt.engine.db import EquilibriumDB, Query, SequenceDB
from topt.levels import LEVELS, QueryOptimizer
from topt.rewrites import stabilize as stab


def _log1p_graph():
    x = TensorType("float64", (False,))("x")
    return FunctionGraph([x], [tm.log(1 + x)])


def _log1p_exp_graph():
    """log(1 + x) (rewritten by local_log1p) times exp(x) (where the broken rewrite raises)."""
    x = TensorType("float64", (False,))("x")
    return FunctionGraph([x], [tm.log(1 + x) * tm.exp(x)])


def _scalar_ops(fg) -> list[str]:
    return [type(n.op.scalar_op).__name__ for n in fg.toposort() if isinstance(n.op, Elemwise)]


@local_optimizer([Elemwise])
def local_broken_rewrite(fgraph, node):
    """Raises on every Exp node: stands for a buggy rewrite in a user's extension."""
    if type(node.op.scalar_op).__name__ == "Exp":
        raise ZeroDivisionError("broken on purpose")
    return None


def _private_level() -> QueryOptimizer:
    """A one-phase level: the broken rewrite, then local_log1p, in one equilibrium."""
    phase = EquilibriumDB()
    phase.register("local_broken_rewrite", local_broken_rewrite, "test_tag")
    phase.register("local_log1p", stab.local_log1p, "test_tag")
    db = SequenceDB()
    db.register("phase", phase, 1, "test_tag")
    return QueryOptimizer(Query(include=["test_tag"]), db, name="private")


# -- optimizer_verbose ------------------------------------------------------------------------


@pytest.mark.fires("local_log1p")
def test_optimizer_verbose_prints_each_replacement_of_a_level(capsys):
    fg = _log1p_graph()
    with config.change_flags(optimizer_verbose=True):
        LEVELS["stabilize"].optimize(fg)
    out = capsys.readouterr().out
    assert "rewriting: rewrite local_log1p replaces" in out
    assert "Log1p" in _scalar_ops(fg)


def test_optimizer_verbose_off_prints_nothing(capsys):
    with config.change_flags(optimizer_verbose=False):
        LEVELS["o4"].optimize(_log1p_graph())
    assert "rewriting:" not in capsys.readouterr().out


# -- on_opt_error -----------------------------------------------------------------------------


def test_on_opt_error_warn_names_the_rewrite_and_compilation_goes_on():
    fg = _log1p_exp_graph()
    with config.change_flags(on_opt_error="warn"), pytest.warns(
            RewriteWarning, match=r"rewrite local_broken_rewrite failed on node .*exp.*"
                                  r"ZeroDivisionError: broken on purpose"):
        _private_level().optimize(fg)
    # the other rewrite of the phase still ran
    assert sorted(_scalar_ops(fg)) == ["Exp", "Log1p", "Mul"]
    v = np.array([1e-20, 0.5])
    np.testing.assert_allclose(evaluate(fg.outputs, {fg.inputs[0]: v})[0],
                               np.log1p(v) * np.exp(v))


def test_on_opt_error_raise_propagates_with_the_rewrite_named():
    fg = _log1p_exp_graph()
    with config.change_flags(on_opt_error="raise"), \
            pytest.raises(ZeroDivisionError, match="broken on purpose") as info:
        _private_level().optimize(fg)
    assert any("local_broken_rewrite" in note for note in getattr(info.value, "__notes__", []))


def test_on_opt_error_pdb_opens_a_post_mortem_then_goes_on(monkeypatch):
    seen = []
    monkeypatch.setattr(engine_base.pdb, "post_mortem", seen.append)
    fg = _log1p_exp_graph()
    with config.change_flags(on_opt_error="pdb"):
        _private_level().optimize(fg)
    assert len(seen) >= 1 and all(tb is not None for tb in seen)
    assert sorted(_scalar_ops(fg)) == ["Exp", "Log1p", "Mul"]


def test_on_opt_error_ignore_is_silent():
    fg = _log1p_exp_graph()
    with config.change_flags(on_opt_error="ignore"):
        _private_level().optimize(fg)  # warnings are errors in this suite
    assert sorted(_scalar_ops(fg)) == ["Exp", "Log1p", "Mul"]


# -- profile_optimizer ------------------------------------------------------------------------


def test_profile_optimizer_prints_time_per_rewrite(capsys):
    fg = _log1p_graph()
    with config.change_flags(profile_optimizer=True):
        LEVELS["o4"].optimize(fg)
    out = capsys.readouterr().out
    assert "Optimizer profile (fast_run)" in out
    # the sequence's steps with their times, and inside the phases each rewrite's counts
    for step in ("merge1", "canonicalize", "stabilize", "specialize", "elemwise_fusion"):
        assert step in out, step
    line = next(ln for ln in out.splitlines() if ln.strip().endswith(" local_log1p"))
    assert "applied" in line and "tried" in line and "s " in line


def test_profile_optimizer_off_prints_nothing(capsys):
    with config.change_flags(profile_optimizer=False):
        LEVELS["o4"].optimize(_log1p_graph())
    assert "Optimizer profile" not in capsys.readouterr().out

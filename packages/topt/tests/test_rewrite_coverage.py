"""Every rewrite registered in topt's databases has a test that shows it firing (issue 5).

The registry is walked from ``topt.optdb.optdb`` down through every sub-database; a registered
driver that wraps local rewrites (a TopoOptimizer, an EquilibriumOptimizer, a LocalOptGroup)
contributes its members' names too, since those are what a user includes or excludes and
what ``optimizer_verbose`` prints. The firing tests are found by reading this folder's test
files for ``@pytest.mark.fires("name", ...)`` (on a test or in a ``pytest.param``). The
marker is checked by ``conftest.py`` while its test runs: a marked test fails unless each
named rewrite changed the graph during it. So the list of covered names is the set of real,
passing firing tests, kept next to the tests themselves.

Only rewrites defined by topt count: other packages (tgpu) may register into the same
databases when they are imported in the same process, and test their rewrites themselves.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator

import pytest

from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType
from topt.engine.db import DB, ProxyDB, TopoDB
from topt.engine.local import LocalOptGroup
from topt.engine.navigator import EquilibriumOptimizer, NavigatorOptimizer
from topt.engine.profile import rewrite_name
from topt.optdb import optdb
from topt.rewrites import algebraic

pytest_plugins = ["pytester"]

HERE = os.path.dirname(os.path.abspath(__file__))


def _is_topt(obj: object) -> bool:
    return str(getattr(obj, "__module__", "") or type(obj).__module__).startswith("topt.")


def _members(obj: object) -> Iterator[object]:
    """The local rewrites a registered driver runs (none for other global rewrites)."""
    if isinstance(obj, LocalOptGroup):
        for o in obj.opts:
            yield o
            yield from _members(o)
    elif isinstance(obj, EquilibriumOptimizer):
        for o in obj.local_optimizers:
            yield o
            yield from _members(o)
    elif isinstance(obj, NavigatorOptimizer) and obj.local_opt is not None:
        yield obj.local_opt
        yield from _members(obj.local_opt)


def registered_rewrites(db: DB = optdb) -> dict[str, str]:
    """Name -> where it is registered, for every rewrite (not DB) reachable from ``db``."""
    found: dict[str, str] = {}
    seen: set[int] = set()

    def walk(d: DB, path: str) -> None:
        if isinstance(d, TopoDB):
            d = d.db
        if isinstance(d, ProxyDB) or id(d) in seen:
            return  # a proxy names a DB walked under its own name
        seen.add(id(d))
        for name in d.names():
            obj = d[name]
            if isinstance(obj, DB):
                walk(obj, f"{path}/{name}")
                continue
            if _is_topt(obj):
                found.setdefault(name, path or "/")
            for member in _members(obj):
                if _is_topt(member) and not isinstance(member, LocalOptGroup):
                    found.setdefault(rewrite_name(member), f"{path}/{name}")

    walk(db, "")
    return found


def _fires_names(call: ast.Call) -> list[str]:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "fires":
        return [a.value for a in call.args
                if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    return []


def marked_rewrites(folder: str = HERE) -> dict[str, list[str]]:
    """Name -> the tests (``file::function``) carrying ``pytest.mark.fires(name)``."""
    out: dict[str, list[str]] = {}
    for fname in sorted(os.listdir(folder)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        with open(os.path.join(folder, fname), encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), fname)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for deco in fn.decorator_list:
                for call in ast.walk(deco):  # the marker itself, or inside pytest.param(...)
                    if isinstance(call, ast.Call):
                        for name in _fires_names(call):
                            out.setdefault(name, []).append(f"{fname}::{fn.name}")
    return out


def test_every_registered_rewrite_has_a_firing_test() -> None:
    registered = registered_rewrites()
    marked = marked_rewrites()
    missing = sorted(f"{n} ({where})" for n, where in registered.items() if n not in marked)
    assert not missing, (
        f"{len(missing)} registered rewrite(s) have no test marked "
        f"@pytest.mark.fires(name): {missing}"
    )


def test_markers_name_registered_rewrites() -> None:
    registered = registered_rewrites()
    stale = {n: tests for n, tests in marked_rewrites().items() if n not in registered}
    assert not stale, f"fires markers naming no registered rewrite: {stale}"


def test_registry_walk_sees_every_phase() -> None:
    """A near miss of the walk would make the coverage test vacuous: check known names."""
    names = registered_rewrites()
    for expected in ("merge1", "merge3", "local_log1p", "local_useless_fill", "gemm_optimizer",
                     "local_gemm_to_ger", "local_inplace_gemm", "composite_elemwise_fusion",
                     "inplace_elemwise_opt", "ShapeOpt", "add_destroy_handler",
                     "local_pow_specialize_device", "local_reduce_join"):
        assert expected in names
    assert len(names) > 100


def test_recorder_sees_a_local_rewrite_fire(_fired_rewrites: set) -> None:
    """The conftest recorder: a rewrite that replaces is recorded, one that skips is not."""
    x = TensorType("float64", (False,))("x")
    fg = FunctionGraph([x], [tm.log(tm.exp(x))])
    EquilibriumOptimizer([algebraic.local_log_exp, algebraic.local_neg_neg],
                         max_use_ratio=5).optimize(fg)
    assert fg.outputs[0] is fg.inputs[0]
    assert "local_log_exp" in _fired_rewrites
    assert "local_neg_neg" not in _fired_rewrites


_MARKED_TESTS = """
import pytest
from tgraph.graph.fg import FunctionGraph
from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType
from topt.engine.navigator import EquilibriumOptimizer
from topt.rewrites import algebraic


def _run(build):
    x = TensorType("float64", (False,))("x")
    fg = FunctionGraph([x], [build(x)])
    EquilibriumOptimizer([algebraic.local_neg_neg], max_use_ratio=5).optimize(fg)


@pytest.mark.fires("local_neg_neg")
def test_fires():
    _run(lambda x: tm.neg(tm.neg(x)))


@pytest.mark.fires("local_neg_neg")
def test_claims_but_skips():
    _run(lambda x: tm.neg(tm.exp(x)))
"""


def test_a_marker_that_did_not_fire_fails_its_test(pytester: pytest.Pytester) -> None:
    """The check behind the markers: the test whose rewrite skipped errors, naming it."""
    with open(os.path.join(HERE, "conftest.py"), encoding="utf-8") as fh:
        pytester.makeconftest(fh.read())
    pytester.makepyfile(test_marked=_MARKED_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_claims_but_skips*",
                                 "*marked fires(local_neg_neg) but*did not change the graph*"])

"""Test setup for tgraph: make this folder's helper modules (graph_toyops, ...) importable.

pytest runs with --import-mode=importlib, which does not put test folders on sys.path; helper
modules here have names unique across the repository, so adding the folder is safe.
"""

import os
import sys

import pytest

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)


def _evaluate_with_linker(linker: str, mode_name: str | None = None):
    """An ``evaluate`` that compiles with tlink's ``linker`` (no rewrites) instead of perform.

    ``TGRAPH_TEST_LINKER=c|py pytest packages/tgraph/tests`` runs the whole op suite through
    that linker (the ``tests-linkers`` nox session does it for every linker of the table):
    every test's NumPy/perform comparison then checks the linker's implementations.
    ``TGRAPH_TEST_MODE=DebugMode`` compiles with that registered mode instead (its own
    rewrites and linker; the ``tests-debugmode`` nox session), after loading the
    ``theano.extensions`` entry points that register such modes; the
    ``optimizer_excluding``/``including`` flags apply to it as to the default mode.
    """
    import tlink

    if mode_name:
        from importlib.metadata import entry_points

        for ep in entry_points(group="theano.extensions"):
            ep.load()
        from tgraph import config

        with config.change_flags(mode=mode_name):
            mode = tlink.get_mode(None)
        unoptimized = mode.clone(optimizer=None)
    else:
        mode = unoptimized = tlink.Mode(linker=linker, optimizer=None)

    def evaluate(outputs, givens):
        keys = list(givens)
        run_mode = unoptimized if _OP_SEMANTICS[0] else mode
        # As perform's evaluate: in-place Ops may write into the inputs (mutable), and
        # outputs are returned as computed, views included (borrow, no defensive copy).
        if linker == "c":
            return _c_only(keys, outputs, givens, run_mode)
        fn = tlink.function([tlink.In(k, mutable=True, borrow=True) for k in keys],
                            [tlink.Out(o, borrow=True) for o in outputs], mode=run_mode,
                            on_unused_input="ignore", allow_input_downcast=True,
                            accept_inplace=True)
        return fn(*[givens[k] for k in keys])

    return evaluate


def _c_only(keys, outputs, givens, mode):
    """Linker ``c`` runs a graph only when all its Ops have C: for one that has none, the
    test is skipped with the linker's error (which names those Ops), so the run reports
    how much of the suite ran in C alone; any other error fails the test as usual."""
    import tlink
    from tlink.cc.clinker import MissingCCodeError

    try:
        fn = tlink.function([tlink.In(k, mutable=True, borrow=True) for k in keys],
                            [tlink.Out(o, borrow=True) for o in outputs], mode=mode,
                            on_unused_input="ignore", allow_input_downcast=True,
                            accept_inplace=True)
    except MissingCCodeError as exc:
        pytest.skip(f"linker 'c': {exc}")
    return fn(*[givens[k] for k in keys])


# Set while a test marked ``op_semantics`` runs: it checks what the Op itself does (an error
# text, that its output is a fresh array), which rewrites replacing the Op would change, so a
# mode-wide run (TGRAPH_TEST_MODE) compiles its graphs without rewrites, still in that mode.
_OP_SEMANTICS = [False]


@pytest.fixture(autouse=True)
def _op_semantics_marker(request):
    _OP_SEMANTICS[0] = request.node.get_closest_marker("op_semantics") is not None
    yield
    _OP_SEMANTICS[0] = False


_LINKER = os.environ.get("TGRAPH_TEST_LINKER")
_MODE = os.environ.get("TGRAPH_TEST_MODE")
if _LINKER or _MODE:
    import tgraph.graph
    import tgraph.graph.evaluate

    _patched = _evaluate_with_linker(_LINKER, _MODE)
    tgraph.graph.evaluate.evaluate = _patched
    tgraph.graph.evaluate = _patched  # `from tgraph.graph import evaluate` gets it too

"""Automation for the monorepo: per-package tests, the whole suite, the NumPy matrix, lint, demo.

Run ``nox -l`` to list sessions and ``nox`` for the defaults (each package's tests on the Python
running nox, the whole suite, and lint). Everything after ``--`` goes to pytest, e.g.
``nox -s tests-tgraph-3.12 -- -x -k grad``.

Sibling packages are not on PyPI, so every session installs the packages it needs from their
paths under ``packages/`` in a single pip call: pip then satisfies ``tgraph>=0.1,<0.2`` with the
local checkout instead of looking for it on an index.
"""

from __future__ import annotations

import glob
import os
import sys
from pathlib import Path

import nox

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: nox itself depends on tomli there.
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent

# Dependency order; a package may only depend on packages listed before it.
PACKAGES = ("tconfig", "tgraph", "topt", "tlink", "tdebug", "tgpu", "theano-meta")
# The packages whose code uses NumPy (everything above tconfig), for the NumPy matrix.
NUMPY_PACKAGES = PACKAGES[1:]

PYTHONS = ("3.10", "3.11", "3.12", "3.13")
NUMPYS = {"1.26": "numpy==1.26.*", "2": "numpy>=2,<3"}


def _add_pyenv_to_path() -> None:
    """Let nox find pyenv's interpreters by putting each ``3.1x.y/bin`` on PATH.

    nox looks interpreters up by name (``python3.12``); pyenv's shims only answer for the
    versions selected as global or local, so the version directories themselves are added.
    """
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = []
    for version in PYTHONS:
        # Newest patch release first, so `python3.12` means the latest 3.12 installed.
        for candidate in sorted(root.glob(f"{version}.*/bin"), reverse=True):
            if (candidate / f"python{version}").exists():
                found.append(str(candidate))
                break
    if found:
        os.environ["PATH"] = os.pathsep.join([*found, os.environ.get("PATH", "")])


_add_pyenv_to_path()

# A Python of the matrix that is absent here is skipped, even where CI=true would make nox
# treat it as an error, and it is never downloaded.
nox.options.error_on_missing_interpreters = False
nox.options.download_python = "never"

_CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
# The Python that runs nox when it is in the matrix, else the newest of the matrix.
DEFAULT_PYTHON = _CURRENT if _CURRENT in PYTHONS else PYTHONS[-1]

nox.options.sessions = [
    *(f"tests-{pkg}-{DEFAULT_PYTHON}" for pkg in PACKAGES),
    f"tests-all-{DEFAULT_PYTHON}",
    "lint",
]

TEST_TOOLS = ("pytest", "hypothesis")


def _declared_dependencies(pkg: str) -> list[str]:
    """Return the requirement strings of ``packages/<pkg>/pyproject.toml``."""
    with open(ROOT / "packages" / pkg / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["project"].get("dependencies", [])


def _requirement_name(requirement: str) -> str:
    """``'tgraph>=0.1,<0.2'`` -> ``'tgraph'`` (enough for the plain names used here)."""
    for i, char in enumerate(requirement):
        if not (char.isalnum() or char in "-_."):
            return requirement[:i].strip()
    return requirement.strip()


def _with_siblings(pkg: str) -> list[str]:
    """Return ``pkg`` and the sibling packages it needs, transitively, in dependency order."""
    needed = set()
    todo = [pkg]
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        for requirement in _declared_dependencies(name):
            dep = _requirement_name(requirement)
            if dep in PACKAGES:
                todo.append(dep)
    return [p for p in PACKAGES if p in needed]


def _paths(pkgs: list[str] | tuple[str, ...]) -> list[str]:
    return [f"./packages/{p}" for p in pkgs]


def _make_tests_session(pkg: str) -> None:
    """Register ``tests-<pkg>``: the package alone with its declared siblings, per Python."""

    def tests(session: nox.Session) -> None:
        session.install(*_paths(_with_siblings(pkg)), *TEST_TOOLS)
        session.run("python", "-m", "pytest", f"packages/{pkg}/tests", *session.posargs)

    tests.__doc__ = (
        f"Install only {pkg} and the sibling packages it declares, then run its tests."
    )
    tests.__name__ = f"tests_{pkg.replace('-', '_')}"
    nox.session(name=f"tests-{pkg}", python=list(PYTHONS))(tests)


for _pkg in PACKAGES:
    _make_tests_session(_pkg)


@nox.session(name="tests-all", python=list(PYTHONS))
def tests_all(session: nox.Session) -> None:
    """Install every package and run the whole suite, as the README's test command does."""
    session.install("-r", "requirements-test.txt")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(name="numpy")
@nox.parametrize(
    "python,numpy",
    [
        # NumPy 1.26 publishes no wheels for Python 3.13, so that pair is left out.
        nox.param(python, numpy, id=f"{python}-np{numpy}")
        for python in PYTHONS
        for numpy in NUMPYS
        if not (python == "3.13" and numpy == "1.26")
    ],
)
def numpy_matrix(session: nox.Session, numpy: str) -> None:
    """Install everything with NumPy 1.26.* or 2.x pinned; run the NumPy-using packages' tests."""
    session.install(*_paths(PACKAGES), *TEST_TOOLS, NUMPYS[numpy])
    session.run("python", "-c", "import numpy; print('numpy', numpy.__version__)")
    session.run(
        "python",
        "-m",
        "pytest",
        *(f"packages/{p}/tests" for p in NUMPY_PACKAGES),
        *session.posargs,
    )


@nox.session
def lint(session: nox.Session) -> None:
    """Run ruff over the packages, benchmarks, examples and this file."""
    session.install("ruff")
    session.run("ruff", "check", "packages", "benchmarks", "examples", "noxfile.py")


@nox.session(python=DEFAULT_PYTHON)
def demo(session: nox.Session) -> None:
    """Install the system and run the main job, examples/logistic_regression.py.

    Arguments after ``--`` go to the script (the number of training steps).
    """
    session.install("-r", "requirements.txt")
    session.run("python", "examples/logistic_regression.py", *session.posargs)


@nox.session(python=DEFAULT_PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Install the system and run every benchmarks/bench_*.py script (ratios against NumPy)."""
    scripts = sorted(glob.glob("benchmarks/bench_*.py"))
    if not scripts:
        session.skip("no benchmarks/bench_*.py scripts yet")
    session.install("-r", "requirements.txt")
    for script in scripts:
        session.run("python", script, *session.posargs)


# The linkers of the seed's table, plus the VMs driving Python thunks.
LINKERS = ("py", "c|py", "c|py_nogc", "c", "vm", "vm_nogc", "cvm", "cvm_nogc")


@nox.session(name="tests-linkers", python=DEFAULT_PYTHON, default=False)
@nox.parametrize("linker", [nox.param(name, id=name.replace("|", "-")) for name in LINKERS])
def tests_linkers(session: nox.Session, linker: str) -> None:
    """Run tgraph's op suite with every graph compiled by one linker (not a default).

    Each test's evaluation then goes through ``theano.function`` with that linker and no
    rewrites, so every NumPy/perform comparison of the suite checks the linker's own
    implementations (C code, VMs, storage reuse). Under ``c`` a graph with an Op that has
    no C code is skipped with the error naming it. posargs go to pytest.
    """
    session.install(*_paths(_with_siblings("tlink")), *TEST_TOOLS)
    session.run("python", "-m", "pytest", "packages/tgraph/tests", *session.posargs,
                env={"TGRAPH_TEST_LINKER": linker})


@nox.session(name="tests-debugmode", python=DEFAULT_PYTHON, default=False)
def tests_debugmode(session: nox.Session) -> None:
    """Run tgraph's op suite with every graph compiled in DebugMode (slow; not a default).

    Each test's evaluation then runs the FAST_RUN rewrites and every node's Python and C
    implementations under DebugMode's checks. ``DebugMode.patience=1`` optimizes each graph
    once (the determinism check has its own tests in tdebug), the in-place rewrites are left
    out (tests that check which Op ran would see the in-place versions), and NaN/Inf are not
    errors (``DebugMode.check_finite=False``: the suite checks NaN propagation against
    NumPy; C and Python must still agree on them). posargs go to pytest, e.g.
    ``nox -s tests-debugmode -- -k elemwise``.
    """
    session.install(*_paths(_with_siblings("tdebug")), *TEST_TOOLS)
    extra = ("DebugMode.patience=1", "optimizer_excluding=inplace", "DebugMode.check_finite=False")
    flags = ",".join(f for f in (os.environ.get("THEANO_FLAGS", ""), *extra) if f)
    session.run("python", "-m", "pytest", "packages/tgraph/tests", *session.posargs,
                env={"TGRAPH_TEST_MODE": "DebugMode", "THEANO_FLAGS": flags})

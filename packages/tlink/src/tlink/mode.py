"""Modes: named (optimizer, linker) pairs, and the registries of linkers, optimizers, modes.

A :class:`Mode` says how ``function`` turns a graph into running code: which optimizer
rewrites the graph and which linker runs it. Both may be given by name, resolved through
registries that higher packages fill when imported: topt registers the optimizer levels
(``register_optimizer``), tdebug the checking modes (``register_mode``), a C backend the C
linkers (``register_linker``). Each registry refuses a name twice.

Every name of Theano 1.0's tables is accepted. A name whose provider is not there yet runs
with what exists (the Python VM, no rewrites) and says so once per process (see
:mod:`tlink.fallback`); a name in no table is an error listing the valid ones.

An optimizer registered here is anything with ``optimize(fgraph)`` or a callable taking the
FunctionGraph. Modes keep tag queries (``including``/``excluding``/``requiring``) as
:class:`OptimizerQuery` objects; when the named optimizer is registered, the tags are
passed to its ``including``/``excluding``/``requiring`` methods, which return the
optimizer to run (topt interprets them).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

from tgraph import config
from tlink.cc.clinker import CLinker, OpWiseCLinker
from tlink.errors import UnknownNameError
from tlink.fallback import warn_fallback
from tlink.linker.base import Linker
from tlink.linker.perform import PerformLinker
from tlink.linker.vm import VMLinker

__all__ = [
    "FAST_COMPILE",
    "FAST_RUN",
    "Mode",
    "OptimizerQuery",
    "get_default_mode",
    "get_mode",
    "predefined_linkers",
    "predefined_modes",
    "predefined_optimizers",
    "register_linker",
    "register_mode",
    "register_optimizer",
    "run_optimizer",
]

# ---------------------------------------------------------------------------------------------
# Linkers

# The seed's linker table. The VM linkers use C thunks wherever an Op has C code (as in
# Theano 1.0, 'vm' is the VM driving C thunks, not pure Python: that is 'py'); with no C
# compiler on the machine every node runs in Python, after one warning.
predefined_linkers: dict[str, Linker] = {
    "py": PerformLinker(),
    "vm": VMLinker(),
    "vm_nogc": VMLinker(allow_gc=False),
    "cvm": VMLinker(use_cloop=True),
    "cvm_nogc": VMLinker(allow_gc=False, use_cloop=True),
    "c|py": OpWiseCLinker(),
    "c|py_nogc": OpWiseCLinker(allow_gc=False),
    "c": CLinker(),
}

#: Theano 1.0 linker names that a later backend provides: name -> (stand-in, reason).
_PLANNED_LINKERS: dict[str, tuple[str, str]] = {}


def register_linker(name: str, linker: Linker) -> None:
    """Make ``linker`` available as ``Mode(linker=name)``; a name is registered once."""
    if name in predefined_linkers:
        raise ValueError(f"a linker named {name!r} is already registered")
    predefined_linkers[name] = linker


def linker_names() -> list[str]:
    """Every linker name a Mode accepts (registered or planned)."""
    return sorted(set(predefined_linkers) | set(_PLANNED_LINKERS))


def _check_linker_name(name: str) -> None:
    if name not in predefined_linkers and name not in _PLANNED_LINKERS:
        raise UnknownNameError(
            f"unknown linker {name!r}; valid names: {', '.join(map(repr, linker_names()))}"
        )


def resolve_linker(name: str) -> Linker:
    """The registered linker for ``name``, or its stand-in with a one-time warning."""
    _check_linker_name(name)
    if name in predefined_linkers:
        return predefined_linkers[name]
    stand_in, why = _PLANNED_LINKERS[name]
    warn_fallback(f"linker {name!r}", why, f"running with the Python VM {stand_in!r}")
    return predefined_linkers[stand_in]


# ---------------------------------------------------------------------------------------------
# Optimizers

predefined_optimizers: dict[Any, Any] = {}

_NO_NAMED_OPT = "topt registers the optimizer levels when it is imported"
_PLANNED_OPTIMIZERS = (
    "merge", "o1", "o2", "o3", "o4", "fast_compile", "fast_run", "unsafe", "stabilize",
)
_NO_REWRITE_NAMES = (None, "None")


def _optional_levels() -> dict | None:
    """topt's named levels (``topt.levels.LEVELS``) when topt is installed, else None.

    tlink sits below topt and never requires it: a name missing from the registry is looked
    up here, importing topt on first need (which also declares the ``optimizer`` flags and
    fills topt's rewrite database). Without topt the caller falls back with one warning.
    """
    try:
        if importlib.util.find_spec("topt") is None:
            return None
    except (ImportError, ValueError):
        return None
    try:
        module = importlib.import_module("topt.levels")
    except ImportError as exc:
        warn_fallback("optimizer package 'topt'", f"importing it failed: {exc}",
                      "running without graph rewrites")
        return None
    levels = getattr(module, "LEVELS", None)
    return levels if isinstance(levels, dict) else None


def _lookup_optimizer(name: Any) -> Any:
    """The optimizer registered as ``name``, else topt's level of that name, else None."""
    found = predefined_optimizers.get(name)
    if found is None:
        levels = _optional_levels()
        if levels is not None:
            found = levels.get(name)
    return found


def register_optimizer(name: str, opt: Any) -> None:
    """Make ``opt`` available as ``Mode(optimizer=name)``; a name is registered once.

    ``opt`` has ``optimize(fgraph)`` or is a callable taking the FunctionGraph; to honour
    tag queries it also has ``including``/``excluding``/``requiring`` returning such objects.
    """
    if name in predefined_optimizers:
        raise ValueError(f"an optimizer named {name!r} is already registered")
    predefined_optimizers[name] = opt


def optimizer_names() -> list[str]:
    """Every optimizer name a Mode accepts (None is accepted too)."""
    names = {str(n) for n in predefined_optimizers} | set(_PLANNED_OPTIMIZERS) | {"None"}
    names |= {str(n) for n in (_optional_levels() or {}) if n is not None}
    return sorted(names)


def _check_optimizer_name(name: str | None) -> None:
    if (name not in predefined_optimizers and name not in _PLANNED_OPTIMIZERS
            and name not in _NO_REWRITE_NAMES and _lookup_optimizer(name) is None):
        raise UnknownNameError(
            f"unknown optimizer {name!r}; valid names: None, "
            f"{', '.join(map(repr, optimizer_names()))}"
        )


class OptimizerQuery:
    """A named optimizer level plus tags to include, exclude or require (immutable)."""

    def __init__(self, name: str | None, include: tuple = (), exclude: tuple = (),
                 require: tuple = ()):
        _check_optimizer_name(name)
        self.name = name
        self.include = tuple(include)
        self.exclude = tuple(exclude)
        self.require = tuple(require)

    def including(self, *tags: str) -> OptimizerQuery:
        return OptimizerQuery(self.name, self.include + tags, self.exclude, self.require)

    def excluding(self, *tags: str) -> OptimizerQuery:
        return OptimizerQuery(self.name, self.include, self.exclude + tags, self.require)

    def requiring(self, *tags: str) -> OptimizerQuery:
        return OptimizerQuery(self.name, self.include, self.exclude, self.require + tags)

    def _key(self) -> tuple:
        return (self.name, self.include, self.exclude, self.require)

    def __eq__(self, other):
        return isinstance(other, OptimizerQuery) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __str__(self) -> str:
        text = str(self.name)
        for verb, tags in (("including", self.include), ("excluding", self.exclude),
                           ("requiring", self.require)):
            if tags:
                text += f".{verb}({', '.join(tags)})"
        return text

    __repr__ = __str__


class _NoRewrite:
    """The optimizer of ``optimizer=None``: leaves the graph as it is."""

    def optimize(self, fgraph) -> None:
        return None

    __call__ = optimize

    def __str__(self) -> str:
        return "NoRewrite"


_NO_REWRITE = _NoRewrite()


def resolve_optimizer(spec: Any) -> Any:
    """The optimizer object for a name, an :class:`OptimizerQuery` or an optimizer object."""
    if isinstance(spec, str) or spec is None:
        spec = OptimizerQuery(spec)
    if not isinstance(spec, OptimizerQuery):
        return spec
    tagged = spec.include or spec.exclude or spec.require
    if spec.name in _NO_REWRITE_NAMES and spec.name not in predefined_optimizers and not tagged:
        return _NO_REWRITE
    base = _lookup_optimizer(spec.name)
    if base is None:
        if spec.name not in _NO_REWRITE_NAMES:
            warn_fallback(f"optimizer {spec.name!r}", _NO_NAMED_OPT,
                          "running without graph rewrites")
        return _NO_REWRITE
    for verb, tags in (("including", spec.include), ("excluding", spec.exclude),
                       ("requiring", spec.require)):
        if tags:
            method = getattr(base, verb, None)
            if method is None:
                raise TypeError(
                    f"optimizer {spec.name!r} ({type(base).__name__}) does not support tag "
                    f"queries, so {verb}({', '.join(tags)}) cannot be applied"
                )
            base = method(*tags)
    return base


def run_optimizer(opt: Any, fgraph) -> Any:
    """Apply ``opt`` to ``fgraph`` in place; return what it returns (a profile, or None)."""
    optimize = getattr(opt, "optimize", None)
    if optimize is not None:
        return optimize(fgraph)
    if callable(opt):
        return opt(fgraph)
    raise TypeError(f"{opt!r} is not an optimizer: it has no optimize(fgraph) and is not callable")


def _config_optimizer() -> str:
    """``config.optimizer``, or 'None' when topt (which declares that flag) is not installed."""
    if "optimizer" not in config:
        _optional_levels()  # importing topt declares the flag
    return config.optimizer if "optimizer" in config else "None"


# ---------------------------------------------------------------------------------------------
# Modes


class Mode:
    """How ``function`` optimizes and links a graph (Theano 1.0's ``theano.Mode``).

    ``linker`` is a name (None: the ``linker`` flag) or a Linker; ``optimizer`` a name
    (``'default'``: the ``optimizer`` flag), None, an :class:`OptimizerQuery` or an optimizer
    object. Names are checked here and resolved when used, so a Mode naming something not
    available yet warns only when a function is compiled with it.
    """

    def __init__(self, linker: Any = None, optimizer: Any = "default"):
        if linker is None or linker == "default":
            linker = config.linker
        if isinstance(optimizer, str) and optimizer == "default":
            optimizer = _config_optimizer()
        Mode.__setstate__(self, (linker, optimizer))

    def __getstate__(self):
        return (self.provided_linker, self.provided_optimizer)

    def __setstate__(self, state) -> None:
        linker, optimizer = state
        if isinstance(linker, str):
            _check_linker_name(linker)
        elif isinstance(linker, int | float | bool):
            raise TypeError(f"Mode: linker must be a linker name or a Linker, got {linker!r}")
        if isinstance(optimizer, str) or optimizer is None:
            optimizer = OptimizerQuery(optimizer)
        self.provided_linker = linker
        self.provided_optimizer = optimizer
        self.call_time = 0.0
        self.fn_time = 0.0

    @property
    def linker(self) -> Linker:
        """The linker object (a name is resolved now, with a warning for a stand-in).

        Any object is accepted as a linker here (checking modes pass placeholders and use
        their own maker); ``function`` requires an ``accept(fgraph)`` method.
        """
        provided = self.provided_linker
        return resolve_linker(provided) if isinstance(provided, str) else provided

    @linker.setter
    def linker(self, value: Any) -> None:
        if isinstance(value, str):
            _check_linker_name(value)
        self.provided_linker = value

    @property
    def optimizer(self) -> Any:
        """The optimizer object to run (a no-op when none is registered for the name)."""
        return resolve_optimizer(self.provided_optimizer)

    def _query(self) -> Any:
        opt = self.provided_optimizer
        if isinstance(opt, OptimizerQuery) or hasattr(opt, "including"):
            return opt
        raise TypeError(
            f"{type(self).__name__}: the optimizer {opt!r} does not support tag queries"
        )

    def including(self, *tags: str) -> Mode:
        """A copy whose optimizer also runs the rewrites tagged with any of ``tags``."""
        return self.clone(optimizer=self._query().including(*tags))

    def excluding(self, *tags: str) -> Mode:
        """A copy whose optimizer skips the rewrites tagged with any of ``tags``."""
        return self.clone(optimizer=self._query().excluding(*tags))

    def requiring(self, *tags: str) -> Mode:
        """A copy whose optimizer keeps only rewrites carrying all of ``tags``."""
        return self.clone(optimizer=self._query().requiring(*tags))

    def clone(self, link_kwargs: dict | None = None, optimizer: Any = "", **kwargs) -> Mode:
        """A new Mode of the same class; ``link_kwargs`` go to the linker's ``clone``."""
        linker = self.linker.clone(**link_kwargs) if link_kwargs else self.provided_linker
        if isinstance(optimizer, str) and optimizer == "":
            optimizer = self.provided_optimizer
        return self._clone_class()(linker=linker, optimizer=optimizer, **kwargs)

    def _clone_class(self) -> type:
        return type(self)

    def __str__(self) -> str:
        return (f"{type(self).__name__}(linker={self.provided_linker}, "
                f"optimizer={self.provided_optimizer})")

    __repr__ = __str__


class _ConfigDefaultMode(Mode):
    """The mode named 'Mode': the ``linker`` and ``optimizer`` flags, read at each use."""

    def __init__(self):
        self.call_time = 0.0
        self.fn_time = 0.0

    @property
    def provided_linker(self):
        return config.linker

    @property
    def provided_optimizer(self):
        return OptimizerQuery(_config_optimizer())

    def _clone_class(self) -> type:
        return Mode

    def __reduce__(self):
        return (Mode, (self.provided_linker, self.provided_optimizer))

    def __str__(self) -> str:
        return f"Mode(linker={self.provided_linker}, optimizer={self.provided_optimizer})"

    __repr__ = __str__


FAST_COMPILE = Mode("py", "fast_compile")
FAST_RUN = Mode("cvm", "fast_run")

predefined_modes: dict[str, Mode] = {
    "FAST_COMPILE": FAST_COMPILE,
    "FAST_RUN": FAST_RUN,
    "Mode": _ConfigDefaultMode(),
}

_NO_DEBUG = "tdebug registers it when imported"
_PLANNED_MODES = {"DebugMode": _NO_DEBUG, "DEBUG_MODE": _NO_DEBUG, "NanGuardMode": _NO_DEBUG}


def register_mode(name: str, mode: Mode) -> None:
    """Make ``mode`` available as ``function(..., mode=name)``; a name is registered once."""
    if name in predefined_modes:
        raise ValueError(f"a mode named {name!r} is already registered")
    predefined_modes[name] = mode


def mode_names() -> list[str]:
    """Every mode name ``get_mode`` accepts."""
    return sorted(set(predefined_modes) | set(_PLANNED_MODES))


def get_mode(orig: Any) -> Mode:
    """The Mode for None (the ``mode`` flag), a mode name, or a Mode (returned as is).

    For None, the ``optimizer_excluding``/``including``/``requiring`` flags (declared by
    topt) add their tags, as in Theano 1.0.
    """
    if orig is None:
        mode = get_mode(config.mode)
        for verb in ("excluding", "including", "requiring"):
            flag = f"optimizer_{verb}"
            tags = getattr(config, flag) if flag in config else ""
            if tags:
                mode = getattr(mode, verb)(*[t for t in tags.split(":") if t])
        return mode
    if not isinstance(orig, str):
        return orig
    if orig in predefined_modes:
        return predefined_modes[orig]
    if orig in _PLANNED_MODES:
        stand_in = Mode(linker="vm", optimizer="default")
        warn_fallback(f"mode {orig!r}", _PLANNED_MODES[orig], f"running with {stand_in}")
        return stand_in
    raise UnknownNameError(
        f"unknown mode {orig!r}; valid names: {', '.join(map(repr, mode_names()))}"
    )


def get_default_mode() -> Mode:
    """The mode ``function`` uses when none is given (``get_mode(None)``)."""
    return get_mode(None)

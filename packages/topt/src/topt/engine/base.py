"""The two kinds of rewrite and what every rewrite shares: failure policy, stack traces.

A *global* rewrite (:class:`GlobalOptimizer`, Theano 1.0's ``Optimizer``) receives the whole
FunctionGraph and edits it in place. A *local* rewrite (:class:`LocalOptimizer`) looks at one
Apply node and proposes replacements for its outputs; a driver (TopoOptimizer,
EquilibriumOptimizer, in :mod:`topt.engine.navigator`) decides where to try it and performs
the replacement through ``fgraph.replace_all_validate`` so that features (the destroy handler
above all) can veto it.

Theano 1.0 user code calls ``transform(node)`` and writes ``@local_optimizer`` functions taking
``node`` (reading ``node.fgraph``); newer code passes ``(fgraph, node)``. Both conventions are
accepted everywhere here: the arity of the function or method tells which one it speaks.
"""

from __future__ import annotations

import inspect
import itertools
import pdb
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from tgraph import config
from tgraph.graph.basic import Apply, Variable
from tgraph.graph.features import AlreadyThere, ReplaceValidate
from tgraph.graph.fg import FunctionGraph, InconsistencyError
from tgraph.graph.op import Op
from topt.engine.profile import print_seq_profile, rewrite_name

__all__ = [
    "FromFunctionLocalOptimizer",
    "FromFunctionOptimizer",
    "GlobalOptimizer",
    "LocalOptimizer",
    "Optimizer",
    "RewriteWarning",
    "SeqOptimizer",
    "add_destroy_handler",
    "call_transform",
    "check_chain",
    "copy_stack_trace",
    "handle_rewrite_error",
    "inplace_optimizer",
    "local_optimizer",
    "optimizer",
    "rewrite_name",
]

# Registration order of every rewrite object, so that drivers order rewrites the way they
# were declared (deterministic, and the order authors expect), never by hash.
_creation_counter = itertools.count()


class RewriteWarning(UserWarning):
    """A rewrite raised an exception and was skipped (``on_opt_error='warn'``)."""


def handle_rewrite_error(exc: BaseException, rewrite: Any, node: Any = None) -> None:
    """Apply ``config.on_opt_error`` to an exception raised while a rewrite ran.

    A veto by a feature (:class:`InconsistencyError`) is the normal way of saying "not here"
    and is never reported. Otherwise: 'warn' emits one :class:`RewriteWarning` naming the
    rewrite and the node and lets compilation go on without that rewrite, 'raise' re-raises,
    'pdb' opens a post-mortem debugger then goes on, 'ignore' goes on silently.
    """
    if isinstance(exc, InconsistencyError):
        return
    policy = config.on_opt_error
    if policy == "raise":
        if hasattr(exc, "add_note"):
            where = f" on node {node}" if node is not None else ""
            exc.add_note(f"raised by the rewrite {rewrite_name(rewrite)}{where}")
        raise exc
    if policy == "warn":
        where = f" on node {node}" if node is not None else ""
        warnings.warn(
            RewriteWarning(
                f"rewrite {rewrite_name(rewrite)} failed{where} and was skipped: "
                f"{type(exc).__name__}: {exc} (set on_opt_error='raise' to see the traceback)"
            ),
            stacklevel=2,
        )
    elif policy == "pdb":
        pdb.post_mortem(exc.__traceback__)


def ensure_replace_validate(fgraph: FunctionGraph) -> None:
    """Give ``fgraph`` ``replace_all_validate`` (History + Validator) unless it has it."""
    if not hasattr(fgraph, "replace_all_validate"):
        fgraph.attach_feature(ReplaceValidate())


def attach_once(fgraph: FunctionGraph, feature: Any) -> None:
    """Attach ``feature``, doing nothing when one of its kind says it is already there."""
    try:
        fgraph.attach_feature(feature)
    except AlreadyThere:
        pass


def add_destroy_handler(fgraph: FunctionGraph) -> None:
    """Attach topt's DestroyHandler to ``fgraph`` unless it has one (in-place rewrites need it)."""
    if getattr(fgraph, "destroy_handler", None) is not None:
        return
    # The destroy handler lives beside the other features (topt.features); the engine must
    # stay importable while that module is written or replaced, so it is looked up here.
    from topt.features.destroyhandler import DestroyHandler

    attach_once(fgraph, DestroyHandler())


# ---------------------------------------------------------------------------------------------
# Global rewrites


class GlobalOptimizer:
    """A rewrite of the whole graph (``theano.gof.Optimizer``).

    Subclasses implement ``apply(fgraph)`` (edit in place; may return a profile object) and
    may extend ``add_requirements(fgraph)`` to attach the features they rely on.
    ``optimize(fgraph)`` does both and is what modes call.
    """

    name: str | None = None

    def __init__(self) -> None:
        pass

    def __new__(cls, *args: Any, **kwargs: Any):
        obj = super().__new__(cls)
        obj._order = next(_creation_counter)
        return obj

    def apply(self, fgraph: FunctionGraph) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.apply is not implemented")

    def optimize(self, fgraph: FunctionGraph, *args: Any, **kwargs: Any) -> Any:
        """Attach the requirements, then rewrite ``fgraph`` in place; return the profile."""
        self.add_requirements(fgraph)
        return self.apply(fgraph, *args, **kwargs)

    def __call__(self, fgraph: FunctionGraph) -> Any:
        return self.optimize(fgraph)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        """Attach the features this rewrite needs (none by default)."""

    # Identity equality, with object's C-level slots: rewrites key the profiles' and
    # indexes' dicts, so a Python-level __hash__ would cost on every attempt.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self) -> str:
        return rewrite_name(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {rewrite_name(self)}>"

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{' ' * level}{type(self).__name__} {rewrite_name(self)} id={id(self)}",
              file=stream)

    @staticmethod
    def print_profile(stream, prof, level: int = 0) -> None:
        print(f"{' ' * level}{prof}", file=stream)


Optimizer = GlobalOptimizer


class FromFunctionOptimizer(GlobalOptimizer):
    """A global rewrite made from a function ``fn(fgraph)`` (see :func:`optimizer`)."""

    def __init__(self, fn: Callable, requirements: Sequence[Callable] = ()):
        self.fn = fn
        self.requirements = tuple(requirements)
        self.__name__ = getattr(fn, "__name__", type(self).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)

    def apply(self, fgraph: FunctionGraph) -> Any:
        return self.fn(fgraph)

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for req in self.requirements:
            req(fgraph)


def optimizer(fn: Callable) -> FromFunctionOptimizer:
    """Decorator: a global rewrite from ``fn(fgraph)`` (``theano.gof.opt.optimizer``)."""
    return FromFunctionOptimizer(fn)


def inplace_optimizer(fn: Callable) -> FromFunctionOptimizer:
    """Decorator: like :func:`optimizer`, and the graph gets a DestroyHandler first."""
    return FromFunctionOptimizer(fn, requirements=(add_destroy_handler,))


class SeqOptimizer(GlobalOptimizer, list):
    """Global rewrites applied one after the other (``theano.gof.SeqOptimizer``).

    A member that raises is handled by ``failure_callback(exc, self, member)`` when one is
    given, else by ``config.on_opt_error``. ``apply`` returns a profile
    ``(self, [seconds per member], [member profiles])``.
    """

    def __init__(self, *opts: Any, failure_callback: Callable | None = None):
        if len(opts) == 1 and isinstance(opts[0], list | tuple):
            opts = tuple(opts[0])
        list.__init__(self, opts)
        self.failure_callback = failure_callback

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for opt in self:
            opt.add_requirements(fgraph)

    def apply(self, fgraph: FunctionGraph) -> tuple:
        times, profiles = [], []
        for opt in self:
            start = time.perf_counter()
            prof = None
            try:
                prof = opt.optimize(fgraph)
            except Exception as exc:
                if self.failure_callback is not None:
                    self.failure_callback(exc, self, opt)
                else:
                    handle_rewrite_error(exc, opt)
            times.append(time.perf_counter() - start)
            profiles.append(prof)
        return (self, times, profiles)

    @staticmethod
    def warn(exc: BaseException, self_opt: Any, member: Any) -> None:
        """Failure callback following ``on_opt_error`` (Theano 1.0's ``SeqOptimizer.warn``)."""
        handle_rewrite_error(exc, member)

    def __eq__(self, other: object) -> bool:
        return self is other

    def __hash__(self) -> int:
        return id(self)

    def __str__(self) -> str:
        return f"SeqOpt({list.__repr__(self)})"

    __repr__ = __str__

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{' ' * level}SeqOptimizer {rewrite_name(self)} id={id(self)}", file=stream)
        if depth != 0:
            for opt in self:
                opt.print_summary(stream, level=level + 2, depth=depth - 1)

    @staticmethod
    def print_profile(stream, prof, level: int = 0) -> None:
        print_seq_profile(stream, prof, level)


# ---------------------------------------------------------------------------------------------
# Local rewrites


def _takes_fgraph(fn: Callable, skip_self: bool) -> bool:
    """Whether ``fn`` is ``(fgraph, node)`` rather than Theano 1.0's ``(node)``."""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if skip_self and params and params[0].name == "self":
        params = params[1:]
    positional = [p for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                  and p.default is p.empty]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class LocalOptimizer:
    """A rewrite of one node (``theano.gof.LocalOptimizer``).

    ``tracks()`` lists the Op classes or Op instances whose nodes it may rewrite (None: any
    node). ``transform`` returns False/None (no change), a list of replacement Variables (one
    per output of the node) or a dict ``{old_variable: new_variable}`` (the key ``"remove"``
    may list nodes to remove). It must never edit the graph itself. Subclasses may define
    ``transform(self, node)`` (Theano 1.0) or ``transform(self, fgraph, node)``.
    """

    name: str | None = None
    _transform_takes_fgraph: bool = True

    def __new__(cls, *args: Any, **kwargs: Any):
        obj = super().__new__(cls)
        obj._order = next(_creation_counter)
        return obj

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "transform" in cls.__dict__:
            cls._transform_takes_fgraph = _takes_fgraph(cls.__dict__["transform"], True)

    def tracks(self) -> list | None:
        return None

    def transform(self, fgraph: FunctionGraph, node: Apply) -> Any:
        raise NotImplementedError(f"{type(self).__name__}.transform is not implemented")

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        """Attach the features this rewrite needs (none by default)."""

    # Identity equality, with object's C-level slots: rewrites key the profiles' and
    # indexes' dicts, so a Python-level __hash__ would cost on every attempt.
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __str__(self) -> str:
        return rewrite_name(self)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {rewrite_name(self)}>"

    def print_summary(self, stream=None, level: int = 0, depth: int = -1) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{' ' * level}{type(self).__name__} {rewrite_name(self)} id={id(self)}",
              file=stream)


def call_transform(lopt: LocalOptimizer, fgraph: FunctionGraph | None, node: Apply) -> Any:
    """Run ``lopt`` on ``node`` whichever calling convention its ``transform`` speaks."""
    if lopt._transform_takes_fgraph:
        return lopt.transform(fgraph, node)
    return lopt.transform(node)


class FromFunctionLocalOptimizer(LocalOptimizer):
    """A local rewrite made from a function (see :func:`local_optimizer`).

    ``transform`` may be called as ``transform(node)`` (Theano 1.0: the graph is
    ``node.fgraph``) or ``transform(fgraph, node)``; the function itself may take either.
    """

    def __init__(self, fn: Callable, tracks: Sequence | None = None,
                 requirements: Sequence[Callable] = ()):
        self.fn = fn
        self._tracks = None if tracks is None else list(tracks)
        self.requirements = tuple(requirements)
        self._fn_takes_fgraph = _takes_fgraph(fn, False)
        self.__name__ = getattr(fn, "__name__", type(self).__name__)
        self.__doc__ = getattr(fn, "__doc__", None)
        self.__module__ = getattr(fn, "__module__", None)

    def transform(self, *args: Any) -> Any:
        if len(args) == 1:
            node = args[0]
            fgraph = getattr(node, "fgraph", None)
        elif len(args) == 2:
            fgraph, node = args
        else:
            raise TypeError(f"{self.__name__}.transform takes (node) or (fgraph, node)")
        if self._fn_takes_fgraph:
            return self.fn(fgraph, node)
        return self.fn(node)

    def tracks(self) -> list | None:
        return self._tracks

    def add_requirements(self, fgraph: FunctionGraph) -> None:
        for req in self.requirements:
            req(fgraph)

    def __call__(self, *args: Any) -> Any:
        return self.transform(*args)


def local_optimizer(tracks: Sequence | None, inplace: bool = False,
                    requirements: Sequence[Callable] = ()) -> Callable:
    """Decorator making a local rewrite from ``fn(node)`` or ``fn(fgraph, node)``.

    ``tracks`` lists the Op classes/instances the rewrite applies to (None: all nodes);
    with ``inplace=True`` the graph gets a DestroyHandler before the rewrite runs, so that
    in-place replacements are checked. The docstring's first line is the rewrite's
    ``before -> after`` summary.
    """
    if tracks is not None:
        tracks = list(tracks)
        if not tracks:
            raise ValueError("local_optimizer: use None, not an empty list, to track every Op")
        for t in tracks:
            if not (isinstance(t, Op) or (isinstance(t, type) and issubclass(t, Op))):
                raise TypeError(
                    f"local_optimizer: tracks must hold Op classes or Op instances, got {t!r}"
                )
    reqs = tuple(requirements)
    if inplace:
        reqs = (*reqs, add_destroy_handler)

    def decorator(fn: Callable) -> FromFunctionLocalOptimizer:
        return FromFunctionLocalOptimizer(fn, tracks, reqs)

    return decorator


# ---------------------------------------------------------------------------------------------
# Stack traces and chains


def _traces(var: Any) -> list:
    tr = getattr(var.tag, "trace", None) or []
    if tr and not isinstance(tr[0], list):
        tr = [tr]  # an old-style single trace
    return list(tr)


def copy_stack_trace(from_var: Variable | Iterable[Variable],
                     to_var: Variable | Iterable[Variable]) -> None:
    """Give ``to_var`` (one or many) the creation traces of ``from_var`` (one or many).

    Rewrites call this so that an error in a replaced computation still points at the
    user's line that built the original one. Existing traces of ``to_var`` are kept.
    """
    sources = [from_var] if isinstance(from_var, Variable) else list(from_var)
    trace: list = []
    for v in sources:
        for t in _traces(v):
            if t not in trace:
                trace.append(t)
    targets = [to_var] if isinstance(to_var, Variable) else list(to_var)
    for v in targets:
        current = _traces(v)
        v.tag.trace = current + [t for t in trace if t not in current]


def _check_chain(r: Any, chain: Sequence) -> bool:
    """Follow ``chain`` (an Op, Op class or None, then an input index, alternately) from ``r``."""
    for k, elem in enumerate(chain):
        if k % 2 == 1:
            r = r.owner.inputs[elem]
            continue
        owner = getattr(r, "owner", None)
        if elem is None:
            if owner is not None:
                return False
        elif owner is None:
            return False
        elif isinstance(elem, Op):
            if owner.op != elem:
                return False
        elif not (isinstance(elem, type) and isinstance(owner.op, elem)):
            return False
    return r is not None


def check_chain(r: Variable | Apply, *chain: Any) -> bool:
    """Whether ``r`` is computed by ``chain[0]`` applied to (input 0 computed by) ``chain[1]``...

    Each element is an Op instance (compared with ==), an Op class (isinstance) or None (an
    input or constant). Returns a bool, as Theano 1.0 (a Variable cannot be a truth value).
    """
    if isinstance(r, Apply):
        r = r.outputs[0]
    flat: list = []
    for elem in chain:
        flat.extend([elem, 0])
    return _check_chain(r, flat[:-1])

"""The master sequence of rewrite phases (``theano.compile.optdb``) and its helpers.

``optdb`` is a SequenceDB; a named level (see :mod:`topt.levels`) is a tag query on it. The
phases and positions are Theano 1.0's, so code that registers at a position relative to a
phase keeps working::

    0     merge1             merge duplicates (tags fast_run, fast_compile, merge)
    0.1   shape_opt          ShapeFeature and shape rewrites (registered by topt.features)
    0.6   useless            one pass of the 'useless' LocalGroupDB (register_useless)
    0.65  merge1.1
    1     canonicalize       EquilibriumDB: canonical forms (fast_run, fast_compile)
    1.2   merge1.2
    1.5   stabilize          EquilibriumDB: numerically stable forms (fast_run)
    2     specialize         EquilibriumDB: faster forms (fast_run)
    3     uncanonicalize     EquilibriumDB (fast_run)
    48.5  gpu_opt            empty SequenceDB for tgpu (tag gpu only)
    48.6  specialize_device  EquilibriumDB (fast_run, fast_compile)
    49    elemwise_fusion    SequenceDB for fusion (fast_run, fusion)
    49    merge2             (fast_run, merge)
    49.1  gpu_after_fusion   ProxyDB of gpu_opt (tag gpu only)
    49.5  add_destroy_handler  attaches the DestroyHandler (fast_run, inplace)
    75    inplace_opt        SequenceDB for in-place rewrites (fast_run, inplace)
    100   merge3             (fast_run, merge)

Every equilibrium phase also runs a merge after each global rewrite (``cleanup``), so the
duplicates a rewrite creates are merged before the next rewrites look at them.

``register_canonicalize`` & co. register a local (or global) rewrite in one phase with the
tag 'fast_run', more tags if given, and its ``__name__`` as name. They work as plain
decorators or with tags: ``@register_canonicalize`` or ``@register_canonicalize('fast_compile')``
(a first string argument is a tag, as in Theano 1.0).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from topt.engine.base import GlobalOptimizer, add_destroy_handler
from topt.engine.db import EquilibriumDB, LocalGroupDB, ProxyDB, SequenceDB, TopoDB
from topt.engine.merge import MergeOptimizer
from topt.engine.navigator import NavigatorOptimizer

__all__ = [
    "AddDestroyHandler",
    "AddFeatureOptimizer",
    "PrintCurrentFunctionGraph",
    "local_useless",
    "optdb",
    "register_canonicalize",
    "register_inplace",
    "register_specialize",
    "register_specialize_device",
    "register_stabilize",
    "register_uncanonicalize",
    "register_useless",
]


class AddDestroyHandler(GlobalOptimizer):
    """Attach the DestroyHandler; every in-place rewrite runs after this step.

    The handler then stays on the graph, so each later replacement is checked for
    overwriting a value that is still needed.
    """

    def apply(self, fgraph) -> None:
        return None

    def add_requirements(self, fgraph) -> None:
        add_destroy_handler(fgraph)


class AddFeatureOptimizer(GlobalOptimizer):
    """Attach a given feature to the graph (Theano 1.0's AddFeatureOptimizer)."""

    def __init__(self, feature: Any):
        self.feature = feature

    def apply(self, fgraph) -> None:
        return None

    def add_requirements(self, fgraph) -> None:
        fgraph.attach_feature(self.feature)


class PrintCurrentFunctionGraph(GlobalOptimizer):
    """Print the graph at this point of the sequence (debugging aid)."""

    def __init__(self, header: str):
        self.header = header

    def apply(self, fgraph) -> None:
        from tgraph.printing import debugprint

        print("PrintCurrentFunctionGraph:", self.header)
        debugprint(fgraph.outputs)


def _build_optdb() -> tuple[SequenceDB, LocalGroupDB]:
    db = SequenceDB()
    db.register("merge1", MergeOptimizer(), 0, "fast_run", "fast_compile", "merge")
    useless = LocalGroupDB(apply_all_opts=True, profile=True)
    useless.name = "useless"  # its rewrites carry the tag 'useless' too
    db.register("useless", TopoDB(useless, failure_callback=NavigatorOptimizer.warn_inplace),
                0.6, "fast_run", "fast_compile")
    db.register("merge1.1", MergeOptimizer(), 0.65, "fast_run", "fast_compile", "merge")
    db.register("canonicalize", EquilibriumDB(ignore_newtrees=False), 1,
                "fast_run", "fast_compile", "canonicalize_db")
    db.register("merge1.2", MergeOptimizer(), 1.2, "fast_run", "fast_compile", "merge")
    db.register("stabilize", EquilibriumDB(), 1.5, "fast_run")
    db.register("specialize", EquilibriumDB(), 2, "fast_run", "fast_compile_gpu")
    db.register("uncanonicalize", EquilibriumDB(), 3, "fast_run")
    gpu = SequenceDB()
    db.register("gpu_opt", gpu, 48.5, "gpu")
    db.register("specialize_device", EquilibriumDB(), 48.6, "fast_compile", "fast_run")
    db.register("elemwise_fusion", SequenceDB(), 49, "fast_run", "fusion")
    db.register("merge2", MergeOptimizer(), 49, "fast_run", "merge")
    db.register("gpu_after_fusion", ProxyDB(gpu), 49.1, "gpu")
    db.register("add_destroy_handler", AddDestroyHandler(), 49.5, "fast_run", "inplace")
    db.register("inplace_opt", SequenceDB(), 75, "fast_run", "inplace")
    db.register("merge3", MergeOptimizer(), 100, "fast_run", "merge")
    for phase in ("canonicalize", "stabilize", "specialize", "uncanonicalize",
                  "specialize_device"):
        db[phase].register("merge", MergeOptimizer(), "fast_run", "fast_compile",
                           cleanup=True)
    return db, useless


optdb, local_useless = _build_optdb()


def _registrar(phase: str) -> Callable:
    def register(lopt: Any = None, *tags: str, **kwargs: Any) -> Any:
        if isinstance(lopt, str):
            # @register_x('tag', ...): lopt is the first tag; return the decorator.
            def decorate(inner: Any) -> Any:
                return register(inner, lopt, *tags, **kwargs)

            return decorate
        if lopt is None:
            def decorate_plain(inner: Any) -> Any:
                return register(inner, *tags, **kwargs)

            return decorate_plain
        name = kwargs.pop("name", None) or getattr(lopt, "__name__", None)
        if not name:
            raise TypeError(
                f"register_{phase}: {lopt!r} has no __name__; pass name='...'"
            )
        optdb[phase].register(name, lopt, "fast_run", *tags, **kwargs)
        return lopt

    register.__name__ = f"register_{phase}"
    register.__doc__ = (
        f"Register a rewrite in the {phase!r} phase of optdb (tags fast_run + ``tags``); "
        "usable as ``@register_...`` or ``@register_...('tag', ...)``; returns the rewrite."
    )
    return register


register_canonicalize = _registrar("canonicalize")
register_stabilize = _registrar("stabilize")
register_specialize = _registrar("specialize")
register_uncanonicalize = _registrar("uncanonicalize")
register_specialize_device = _registrar("specialize_device")


def register_useless(lopt: Any = None, *tags: str, **kwargs: Any) -> Any:
    """Register a local rewrite in the 'useless' group (one in-to-out pass at 0.6).

    Tags fast_run (+ ``tags``); usable as a decorator with or without tags.
    """
    if isinstance(lopt, str):
        def decorate(inner: Any) -> Any:
            return register_useless(inner, lopt, *tags, **kwargs)

        return decorate
    if lopt is None:
        return lambda inner: register_useless(inner, *tags, **kwargs)
    name = kwargs.pop("name", None) or getattr(lopt, "__name__", None)
    if not name:
        raise TypeError(f"register_useless: {lopt!r} has no __name__; pass name='...'")
    local_useless.register(name, lopt, "fast_run", *tags, **kwargs)
    return lopt


def register_inplace(opt: Any, position: float, *tags: str, name: str | None = None) -> Any:
    """Register a global in-place rewrite in the 'inplace_opt' step (after the
    DestroyHandler is attached), at ``position`` within it, tagged fast_run and inplace."""
    name = name or getattr(opt, "__name__", None) or getattr(opt, "name", None)
    if not name:
        raise TypeError(f"register_inplace: {opt!r} has no __name__; pass name='...'")
    optdb["inplace_opt"].register(name, opt, position, "fast_run", "inplace", *tags)
    return opt

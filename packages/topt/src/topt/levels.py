"""The named optimizer levels: what ``optimizer=...`` and ``Mode(optimizer=...)`` run.

Each level is a tag query on :data:`topt.optdb.optdb`, wrapped in a :class:`QueryOptimizer`
(``optimize(fgraph)``; ``including``/``excluding``/``requiring`` return new levels). From
``o4`` down to ``None`` compilation gets cheaper and the compiled function slower:

``None``
    No rewrite at all: the graph runs as written (no merging, no stabilisation; e.g.
    ``log(1 + exp(x))`` overflows for large x).
``merge``
    Only merge duplicated computations and constants (tag ``merge``).
``fast_compile`` = ``o1``
    Tag ``fast_compile``: merging, the canonicalizations marked cheap, constant folding,
    shape rewrites. Theano 1.0's FAST_COMPILE.
``o2``
    ``o1`` plus the whole of canonicalize, stabilize and specialize (so the numerically
    stable forms are used); no elemwise fusion, no in-place rewrites, no BLAS/device
    steps, nothing tagged ``slow_compile``. (Theano 1.0's o2 was fast_compile + fusion.)
``o3``
    ``fast_run`` without the in-place rewrites (as Theano 1.0's o3) and without what is
    tagged ``slow_compile``: no DestroyHandler bookkeeping, which is what costs most
    compile time on big graphs.
``fast_run`` = ``o4``
    Tag ``fast_run``: every phase (merge, canonicalize, stabilize, specialize, BLAS, fusion,
    in-place). Theano 1.0's FAST_RUN and the default.
``unsafe``
    ``fast_run`` plus the rewrites tagged ``unsafe``, which remove run-time checks:
    ``local_remove_all_assert`` (every Assert becomes its input) and
    ``local_remove_specify_shape`` (every SpecifyShape becomes its input), so false
    assertions and wrong shapes are no longer reported. Use it only on code known to be
    correct.
``stabilize``
    ``fast_run`` cut after the stabilize phase (position 1.5): merge, canonicalize and
    stabilize only (Theano 1.0's definition).
``fast_run_stable``
    ``fast_run`` keeping only rewrites tagged ``stable`` (Theano 1.0's).

tlink finds these through :data:`LEVELS` when a Mode names one (topt stays below tlink:
it does not import it); :func:`register_levels` hands them to any other registry. The
``optimizer_including/excluding/requiring`` flags are applied by the default mode
(tlink's ``get_mode(None)``), as in Theano 1.0, and by :func:`apply_tag_flags`.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from typing import Any

from tgraph import config
from topt.engine.db import Query, SequenceDB, registration_epoch
from topt.engine.profile import print_profile
from topt.optdb import optdb

__all__ = [
    "LEVELS",
    "QueryOptimizer",
    "apply_tag_flags",
    "register_levels",
    "split_tags",
]


class QueryOptimizer:
    """A named level: a Query run on a SequenceDB (``optdb`` by default).

    The selection is made when first used and again only after a rewrite was registered
    since (a registration epoch), so modes built at import time see later registrations.
    With the ``profile_optimizer`` flag on, the time per rewrite is printed after each run.
    """

    def __init__(self, query: Query, db: SequenceDB | None = None, name: str | None = None):
        self.query = query
        self.db = db if db is not None else optdb
        self.name = name or query.name
        self._cached: tuple[int, Any] | None = None

    def _derive(self, query: Query) -> QueryOptimizer:
        return QueryOptimizer(query, self.db, self.name)

    def including(self, *tags: str) -> QueryOptimizer:
        return self._derive(self.query.including(*tags))

    def excluding(self, *tags: str) -> QueryOptimizer:
        return self._derive(self.query.excluding(*tags))

    def requiring(self, *tags: str) -> QueryOptimizer:
        return self._derive(self.query.requiring(*tags))

    def register(self, *optimizations: tuple) -> QueryOptimizer:
        """Also run ``(optimizer, position)`` pairs (Theano 1.0's ``Mode.register``)."""
        return self._derive(self.query.register(*optimizations))

    @property
    def optimizer(self) -> Any:
        """The SeqOptimizer this level selects now."""
        epoch = registration_epoch()
        if self._cached is None or self._cached[0] != epoch:
            self._cached = (epoch, self.db.query(self.query))
        return self._cached[1]

    def optimize(self, fgraph: Any) -> Any:
        """Rewrite ``fgraph`` in place; return the profile."""
        prof = self.optimizer.optimize(fgraph)
        if config.profile_optimizer:
            print(f"Optimizer profile ({self}):", file=sys.stdout)
            print_profile(sys.stdout, prof, 2)
        return prof

    __call__ = optimize

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, QueryOptimizer) and self.db is other.db
                and self.query == other.query)

    def __hash__(self) -> int:
        return hash((id(self.db), self.query))

    def __str__(self) -> str:
        text = str(self.name)
        for verb, tags in (("including", self.query.include), ("excluding",
                                                                self.query.exclude),
                           ("requiring", self.query.require)):
            base = getattr(_BASE_QUERIES.get(self.name), verb[:-3] + "e", ())
            extra = [t for t in tags if t not in base]
            if extra:
                text += f".{verb}({', '.join(extra)})"
        return text

    __repr__ = __str__


def _q(name: str, include: list, exclude: list = (), require: list = (),
       position_cutoff: float = math.inf) -> Query:
    return Query(include=include, exclude=exclude, require=require,
                 position_cutoff=position_cutoff, name=name)


_FAST_COMPILE = ["fast_compile", "fast_compile_gpu"]

_BASE_QUERIES: dict[Any, Query] = {
    "None": _q("None", []),
    "merge": _q("merge", ["merge"]),
    "fast_compile": _q("fast_compile", _FAST_COMPILE),
    "o2": _q("o2", [*_FAST_COMPILE, "canonicalize", "stabilize", "specialize"],
             exclude=["slow_compile", "inplace", "fusion"]),
    "o3": _q("o3", ["fast_run"], exclude=["inplace", "slow_compile"]),
    "fast_run": _q("fast_run", ["fast_run"]),
    "unsafe": _q("unsafe", ["fast_run", "unsafe"]),
    "stabilize": _q("stabilize", ["fast_run"], position_cutoff=1.5000001),
    "fast_run_stable": _q("fast_run_stable", ["fast_run"], require=["stable"]),
}


def _build_levels() -> dict[Any, QueryOptimizer]:
    levels: dict[Any, QueryOptimizer] = {
        name: QueryOptimizer(q) for name, q in _BASE_QUERIES.items()
    }
    levels[None] = levels["None"]
    levels["o1"] = levels["fast_compile"]
    levels["o4"] = levels["fast_run"]
    return levels


#: Level name -> QueryOptimizer (None and 'None' are the empty level; o1/o4 are aliases).
LEVELS: dict[Any, QueryOptimizer] = _build_levels()


def register_levels(register: Callable[[Any, Any], None]) -> list:
    """Call ``register(name, level)`` for every named level; return the names registered.

    A registry refusing a name (ValueError: already registered) keeps its own object.
    """
    done = []
    for name, level in LEVELS.items():
        if name is None:
            continue
        try:
            register(name, level)
        except ValueError:
            continue
        done.append(name)
    return done


def split_tags(text: str) -> list[str]:
    """Tags of an ``optimizer_including``-style flag: separated by ':' or whitespace."""
    return [t for t in re.split(r"[:\s]+", text or "") if t]


def apply_tag_flags(level: Any, cfg: Any = None) -> Any:
    """``level`` with the ``optimizer_excluding/including/requiring`` flags applied."""
    cfg = cfg if cfg is not None else config
    for verb in ("excluding", "including", "requiring"):
        flag = f"optimizer_{verb}"
        tags = split_tags(getattr(cfg, flag, "")) if flag in cfg else []
        if tags:
            level = getattr(level, verb)(*tags)
    return level

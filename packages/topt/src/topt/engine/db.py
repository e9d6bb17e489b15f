"""Databases of rewrites: registered by name with tags, selected by tag queries.

A :class:`DB` maps names to rewrites (or to other DBs) and tags to sets of them. A
:class:`Query` says which tags to include, require and exclude; ``db.query(q)`` returns one
optimizer built from the selection: a :class:`SequenceDB` gives a SeqOptimizer ordered by
position (the master ``optdb`` is one), an :class:`EquilibriumDB` an EquilibriumOptimizer,
a :class:`LocalGroupDB` a LocalOptGroup. A DB inside a DB is queried with the same Query (or
``subquery[name]``), which is how ``optimizer_excluding=some_rewrite`` reaches a rewrite
nested in the canonicalize phase.

Names and tags share one namespace per DB (a tag may not be a registered name, and the
other way around), a name is registered once, and every query result is ordered by
registration (or position): the same tags always give the same optimizer.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable
from typing import Any

from tgraph import config
from topt.engine.base import GlobalOptimizer, LocalOptimizer, SeqOptimizer
from topt.engine.local import LocalOptGroup
from topt.engine.navigator import EquilibriumOptimizer, NavigatorOptimizer, TopoOptimizer

__all__ = [
    "DB",
    "EquilibriumDB",
    "LocalGroupDB",
    "ProxyDB",
    "Query",
    "SequenceDB",
    "TopoDB",
    "registration_epoch",
]

# Incremented by every registration or tag change in any DB, so that callers caching a
# query result (the named levels) know when to query again.
_epoch = [0]


def registration_epoch() -> int:
    """A number that changes whenever any DB's content changes."""
    return _epoch[0]


def _tags_tuple(tags: Any) -> tuple:
    if tags is None:
        return ()
    if isinstance(tags, str):
        return (tags,)
    out: list = []
    for t in tags:
        if t not in out:
            out.append(t)
    return tuple(out)


class Query:
    """A selection of rewrites by tag (``theano.gof.Query``).

    ``include``: tags (or names) of which any selects a rewrite; ``require``: tags every
    selected rewrite must carry; ``exclude``: tags that deselect; ``subquery``: per sub-DB
    name, the Query to use inside it; ``position_cutoff``: SequenceDB steps at or past this
    position are dropped; ``extra_optimizations``: ``(optimizer, position)`` pairs added to
    a SequenceDB's selection. Queries are immutable: ``including``/``excluding``/
    ``requiring``/``register`` return new ones.
    """

    def __init__(self, include: Iterable[str], require: Iterable[str] | None = None,
                 exclude: Iterable[str] | None = None, subquery: dict | None = None,
                 position_cutoff: float = math.inf, extra_optimizations: list | None = None,
                 name: str | None = None):
        self.include = _tags_tuple(include)
        self.require = _tags_tuple(require)
        self.exclude = _tags_tuple(exclude)
        self.subquery = dict(subquery or {})
        self.position_cutoff = position_cutoff
        self.extra_optimizations = list(extra_optimizations or [])
        self.name = name

    def _copy(self, **changes: Any) -> Query:
        args = {
            "include": self.include, "require": self.require, "exclude": self.exclude,
            "subquery": self.subquery, "position_cutoff": self.position_cutoff,
            "extra_optimizations": self.extra_optimizations, "name": self.name,
        }
        args.update(changes)
        return Query(**args)

    def including(self, *tags: str) -> Query:
        return self._copy(include=self.include + tags)

    def excluding(self, *tags: str) -> Query:
        return self._copy(exclude=self.exclude + tags)

    def requiring(self, *tags: str) -> Query:
        return self._copy(require=self.require + tags)

    def register(self, *optimizations: tuple) -> Query:
        """A Query that also adds ``(optimizer, position)`` pairs to the sequence."""
        return self._copy(extra_optimizations=self.extra_optimizations + list(optimizations))

    def _key(self) -> tuple:
        return (frozenset(self.include), frozenset(self.require), frozenset(self.exclude),
                tuple(sorted((k, v._key()) for k, v in self.subquery.items())),
                self.position_cutoff, tuple(id(o) for o, _ in self.extra_optimizations))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Query) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        return (f"Query{{inc={list(self.include)},ex={list(self.exclude)},"
                f"require={list(self.require)},subquery={self.subquery},"
                f"position_cutoff={self.position_cutoff},"
                f"extra_opts={self.extra_optimizations}}}")

    __repr__ = __str__


class DB:
    """Rewrites (or DBs) by name, and sets of them by tag (``theano.gof.optdb.DB``)."""

    def __init__(self) -> None:
        self._by_name: dict[str, Any] = {}
        self._by_tag: dict[str, dict] = {}
        self._by_class: dict[str, dict] = {}
        self._rank_of: dict = {}
        self.name: str | None = None

    def __hash__(self) -> int:
        return id(self)

    def __eq__(self, other: object) -> bool:
        return self is other

    def register(self, name: str, obj: Any, *tags: str, use_db_name_as_tag: bool = True,
                 **kwargs: Any) -> None:
        """Add ``obj`` under ``name`` with ``tags`` (and this DB's name as a tag, by default).

        ``obj`` is a global rewrite, a local rewrite or a DB. A name already used as a name
        or a tag in this DB is refused, as is a tag equal to a registered name.
        """
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}.register: unexpected keyword(s) {sorted(kwargs)}"
            )
        if not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}.register: the name must be a non-empty "
                            f"string, got {name!r}")
        if not isinstance(obj, DB | GlobalOptimizer | LocalOptimizer):
            raise TypeError(
                f"cannot register {obj!r} as {name!r}: expected a rewrite (LocalOptimizer or "
                f"GlobalOptimizer) or a DB, got {type(obj).__name__}"
            )
        if name in self._by_name:
            raise ValueError(
                f"a rewrite named {name!r} is already registered in this {type(self).__name__}"
                f" ({self._by_name[name]!r}); use another name, or a ProxyDB to register the "
                "same DB twice"
            )
        if name in self._by_tag:
            raise ValueError(f"cannot register {name!r}: it is already a tag in this "
                             f"{type(self).__name__}")
        if use_db_name_as_tag and self.name is not None:
            tags = (*tags, self.name)
        for tag in tags:
            if tag in self._by_name or tag == name:
                raise ValueError(f"the tag {tag!r} of {name!r} is the name of a registered "
                                 "rewrite; tags and names must differ")
        obj.name = name
        self._by_name[name] = obj
        self._rank_of.setdefault(obj, len(self._rank_of))
        self._by_class.setdefault(type(obj).__name__, {})[obj] = None
        _epoch[0] += 1
        self.add_tags(name, *tags)

    def add_tags(self, name: str, *tags: str) -> None:
        """Give the rewrite registered as ``name`` more tags."""
        obj = self[name]
        for tag in tags:
            if tag in self._by_name:
                raise ValueError(f"the tag {tag!r} of {name!r} is the name of a registered "
                                 "rewrite; tags and names must differ")
            self._by_tag.setdefault(tag, {})[obj] = None
        _epoch[0] += 1

    def remove_tags(self, name: str, *tags: str) -> None:
        """Take tags away from the rewrite registered as ``name``."""
        obj = self[name]
        for tag in tags:
            self._by_tag.get(tag, {}).pop(obj, None)
        _epoch[0] += 1

    def tags_of(self, name: str) -> list[str]:
        """The tags of the rewrite registered as ``name`` (for documentation and tests)."""
        obj = self[name]
        return [t for t, objs in self._by_tag.items() if obj in objs]

    def _select(self, tag: str) -> dict:
        found: dict = {}
        if tag in self._by_name:
            found[self._by_name[tag]] = None
        found.update(self._by_tag.get(tag, {}))
        found.update(self._by_class.get(tag, {}))
        return found

    def __query__(self, q: Query) -> list:
        if not isinstance(q, Query):
            raise TypeError(f"expected a Query, got {q!r}")
        selected: dict = {}
        for tag in q.include:
            selected.update(self._select(tag))
        for tag in q.require:
            keep = self._select(tag)
            selected = {o: None for o in selected if o in keep}
        for tag in q.exclude:
            drop = self._select(tag)
            selected = {o: None for o in selected if o not in drop}
        out = []
        for obj in sorted(selected, key=self._rank):
            if isinstance(obj, DB):
                sub = q.subquery.get(obj.name, q)
                if q.extra_optimizations and sub is q:
                    sub = q._copy(extra_optimizations=[])
                replacement = obj.query(sub)
                replacement.name = obj.name
                out.append(replacement)
            else:
                out.append(obj)
        return out

    def _rank(self, obj: Any) -> int:
        return self._rank_of.get(obj, 0)

    def query(self, *tags: Any, **kwtags: Any) -> Any:
        """Rewrites selected by a Query, or by tags written '+tag', '&tag', '-tag'."""
        return self.__query__(self._as_query(tags, kwtags))

    @staticmethod
    def _as_query(tags: tuple, kwtags: dict) -> Query:
        if tags and isinstance(tags[0], Query):
            if len(tags) > 1 or kwtags:
                raise TypeError("query: a Query must be the only argument")
            return tags[0]
        bad = [t for t in tags if not isinstance(t, str) or t[:1] not in ("+", "&", "-")]
        if bad:
            raise ValueError(
                f"query: every tag must start with '+' (include), '&' (require) or '-' "
                f"(exclude); got {bad}"
            )
        cutoff = kwtags.pop("position_cutoff", math.inf)
        return Query(include=[t[1:] for t in tags if t[0] == "+"],
                     require=[t[1:] for t in tags if t[0] == "&"],
                     exclude=[t[1:] for t in tags if t[0] == "-"],
                     subquery=kwtags, position_cutoff=cutoff)

    def __getitem__(self, name: str) -> Any:
        if name in self._by_name:
            return self._by_name[name]
        objs = self._by_tag.get(name)
        if not objs:
            raise KeyError(f"nothing registered as {name!r}")
        if len(objs) > 1:
            raise ValueError(f"more than one rewrite carries the tag {name!r}; use query")
        return next(iter(objs))

    def __contains__(self, name: str) -> bool:
        return name in self._by_name or bool(self._by_tag.get(name))

    def names(self) -> list[str]:
        return list(self._by_name)

    def print_summary(self, stream=None) -> None:
        stream = stream if stream is not None else sys.stdout
        print(f"{type(self).__name__} (id {id(self)})", file=stream)
        print(f"  names {list(self._by_name)}", file=stream)
        print(f"  tags {sorted(self._by_tag)}", file=stream)


class EquilibriumDB(DB):
    """Rewrites applied together until none applies; ``query`` gives an EquilibriumOptimizer.

    ``register(..., final_opt=True)`` marks a rewrite to run only when the others are done,
    ``cleanup=True`` one to run after every global or final rewrite (merging, typically).
    """

    def __init__(self, ignore_newtrees: bool = True, tracks_on_change_inputs: bool = False):
        super().__init__()
        self.ignore_newtrees = ignore_newtrees
        self.tracks_on_change_inputs = tracks_on_change_inputs
        self._final: set[str] = set()
        self._cleanup: set[str] = set()

    def register(self, name: str, obj: Any, *tags: str, final_opt: bool = False,
                 cleanup: bool = False, **kwargs: Any) -> None:
        if final_opt and cleanup:
            raise ValueError(f"{name!r}: a rewrite cannot be both final_opt and cleanup")
        super().register(name, obj, *tags, **kwargs)
        if final_opt:
            self._final.add(name)
        if cleanup:
            self._cleanup.add(name)

    def query(self, *tags: Any, **kwtags: Any) -> EquilibriumOptimizer:
        opts = super().query(*tags, **kwtags)
        final = [o for o in opts if o.name in self._final]
        cleanup = [o for o in opts if o.name in self._cleanup]
        rest = [o for o in opts if o.name not in self._final and o.name not in self._cleanup]
        return EquilibriumOptimizer(
            rest,
            max_use_ratio=None,  # read from config.optdb.max_use_ratio when applied
            ignore_newtrees=self.ignore_newtrees,
            tracks_on_change_inputs=self.tracks_on_change_inputs,
            failure_callback=NavigatorOptimizer.warn_inplace,
            final_optimizers=final or None,
            cleanup_optimizers=cleanup or None,
        )


class SequenceDB(DB):
    """Steps applied in order of position; ``query`` gives a SeqOptimizer.

    Whatever a query selects runs in increasing position (ties by name). Steps at or past
    the query's ``position_cutoff`` (or the ``optdb.position_cutoff`` flag) are left out.
    """

    seq_opt = SeqOptimizer

    def __init__(self, failure_callback: Any = SeqOptimizer.warn):
        super().__init__()
        self._position: dict[str, float] = {}
        self.failure_callback = failure_callback

    def register(self, name: str, obj: Any, position: float | str, *tags: str,
                 **kwargs: Any) -> None:
        if position == "last":
            position = max(self._position.values(), default=-1) + 1
        if isinstance(position, bool) or not isinstance(position, int | float):
            raise TypeError(f"SequenceDB.register({name!r}): position must be a number or "
                            f"'last', got {position!r}")
        super().register(name, obj, *tags, **kwargs)
        self._position[name] = float(position)

    @property
    def __position__(self) -> dict[str, float]:
        return self._position

    def position_of(self, name: str) -> float:
        return self._position[name]

    def query(self, *tags: Any, **kwtags: Any) -> SeqOptimizer:
        q = self._as_query(tags, kwtags)
        opts = self.__query__(q)
        cutoff = min(q.position_cutoff, config.optdb.position_cutoff)
        positions = dict(self._position)
        for extra, position in q.extra_optimizations:
            if not getattr(extra, "name", None):
                extra.name = f"{type(extra).__name__}_{id(extra)}"
            positions[extra.name] = position
            opts.append(extra)
        opts = [o for o in opts if positions[o.name] < cutoff]
        opts.sort(key=lambda o: (positions[o.name], o.name))
        ret = self.seq_opt(opts, failure_callback=self.failure_callback)
        if q.name is not None:
            ret.name = q.name
        return ret

    def print_summary(self, stream=None) -> None:
        stream = stream if stream is not None else sys.stdout
        super().print_summary(stream)
        order = sorted(self._position.items(), key=lambda kv: kv[1])
        print(f"  positions {order}", file=stream)


class LocalGroupDB(DB):
    """Local rewrites grouped into one LocalOptGroup (tried in position order)."""

    def __init__(self, apply_all_opts: bool = False, profile: bool = False,
                 local_opt: type = LocalOptGroup):
        super().__init__()
        self.apply_all_opts = apply_all_opts
        self.profile = profile
        self.local_opt = local_opt
        self._position: dict[str, float] = {}

    def register(self, name: str, obj: Any, *tags: str, position: float | str = "last",
                 **kwargs: Any) -> None:
        if not isinstance(obj, LocalOptimizer):
            raise TypeError(f"LocalGroupDB holds local rewrites only; {name!r} is {obj!r}")
        super().register(name, obj, *tags, **kwargs)
        if position == "last":
            position = max(self._position.values(), default=-1) + 1
        self._position[name] = float(position)

    def query(self, *tags: Any, **kwtags: Any) -> LocalOptGroup:
        opts = super().query(*tags, **kwtags)
        opts.sort(key=lambda o: (self._position[o.name], o.name))
        return self.local_opt(*opts, apply_all_opts=self.apply_all_opts, profile=self.profile)


class TopoDB(DB):
    """A DB whose query is the wrapped DB's (local) result run by a TopoOptimizer."""

    def __init__(self, db: DB, order: str = "in_to_out", ignore_newtrees: bool = False,
                 failure_callback: Any = None):
        super().__init__()
        self.db = db
        self.order = order
        self.ignore_newtrees = ignore_newtrees
        self.failure_callback = failure_callback

    def query(self, *tags: Any, **kwtags: Any) -> TopoOptimizer:
        return TopoOptimizer(self.db.query(*tags, **kwtags), self.order,
                             self.ignore_newtrees, self.failure_callback)


class ProxyDB(DB):
    """Another name for an existing DB (a DB object can be registered only once)."""

    def __init__(self, db: DB):
        if not isinstance(db, DB):
            raise TypeError(f"ProxyDB wraps a DB, got {db!r}")
        super().__init__()
        self.db = db

    def query(self, *tags: Any, **kwtags: Any) -> Any:
        return self.db.query(*tags, **kwtags)

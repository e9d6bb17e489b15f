"""``theano-cache``: look at and empty the compile cache (also ``python -m tlink.cc.cli``).

Subcommands, as in Theano 1.0 where they existed:

* ``list`` - each entry (key prefix, name hint, size, age) and the totals;
* ``clear`` - remove every compiled module (and build directories older than an hour);
* ``purge`` - ``clear``, plus kept failing sources and the cache's trash;
* ``dir`` - print ``config.compiledir``; ``basecompiledir`` - print ``config.base_compiledir``.

Exit status 0 on success, 1 when something went wrong (the message says what), including
an unknown subcommand. Theano's ``unlock`` is accepted and does nothing, because this
cache has no lock.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from tlink.cc.cache import CacheEntry, default_cache

__all__ = ["main"]


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"


def _list(out: list[str]) -> int:
    cache = default_cache()
    entries: list[CacheEntry] = list(cache.entries())
    now = time.time()
    out.append(f"compile cache {cache.root}")
    if not entries:
        out.append("no compiled modules")
        return 0
    out.append(f"{'key':<16}  {'size':>10}  {'age':>5}  name")
    for entry in entries:
        age = _age(now - entry.created) if entry.created else "?"
        hint = entry.name_hint or "-"
        if not entry.meta:
            hint += " (broken: meta.json unreadable; rebuilt on next use)"
        out.append(f"{entry.key[:16]:<16}  {_size(entry.size):>10}  {age:>5}  {hint}")
    total = sum(e.size for e in entries)
    out.append(f"{len(entries)} module{'s' if len(entries) != 1 else ''}, {_size(total)}")
    return 0


def _clear(out: list[str]) -> int:
    cache = default_cache()
    count = cache.clear()
    out.append(f"removed {count} compiled module{'s' if count != 1 else ''} from {cache.root}")
    return 0


def _purge(out: list[str]) -> int:
    cache = default_cache()
    count = cache.purge()
    out.append(
        f"removed {count} compiled module{'s' if count != 1 else ''}, failed sources and "
        f"stale temporary directories from {cache.root}"
    )
    return 0


def _dir(out: list[str]) -> int:
    from tgraph import config

    out.append(config.compiledir)
    return 0


def _basedir(out: list[str]) -> int:
    from tgraph import config

    out.append(config.base_compiledir)
    return 0


def _unlock(out: list[str]) -> int:
    out.append("nothing to unlock: tlink's compile cache takes no locks")
    return 0


_COMMANDS = {
    "list": (_list, "list compiled modules: key prefix, size, age, name hint; totals"),
    "clear": (_clear, "remove all compiled modules"),
    "purge": (_purge, "remove all compiled modules, failed sources and temporary dirs"),
    "dir": (_dir, "print the compile directory (config.compiledir)"),
    "basecompiledir": (_basedir, "print the base compile directory (config.base_compiledir)"),
    "unlock": (_unlock, "accepted for Theano 1.0 scripts; there is no lock"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="theano-cache",
        description="Inspect or empty tlink's compile cache. The directory comes from "
        "THEANO_FLAGS (base_compiledir, compiledir) or .theanorc.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, (_, help_text) in _COMMANDS.items():
        sub.add_parser(name, help=help_text, description=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``theano-cache`` with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed the usage; --help exits with 0
        return 0 if exc.code in (0, None) else 1
    handler = _COMMANDS[args.command][0]
    out: list[str] = []
    try:
        code = handler(out)
    except OSError as exc:
        if out:
            print("\n".join(out))
        print(f"theano-cache {args.command}: {exc}", file=sys.stderr)
        return 1
    print("\n".join(out))
    return code


if __name__ == "__main__":
    sys.exit(main())

"""Reading the two outside sources of flag values: the flags environment variable and rc files.

Both are read once, when a Config is built, into plain data (name -> raw string plus where it
came from); flags declared later look their value up there. Rc files are INI files parsed
with configparser, but configparser forgets line numbers, so the lines of keys are found by a
second, tiny scan that follows configparser's own line rules.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from tconfig._errors import FlagValueError, RcFileError
from tconfig._names import canonical

__all__ = ["RcEntry", "expand_user", "parse_flags_string", "rc_paths", "read_rc_files"]

GLOBAL_SECTION = "global"


def parse_flags_string(s: str, source: str = "flags string") -> dict[str, str]:
    """Parse ``"name=value,section.name=value"`` into ``{canonical name: value}``.

    Items are separated by commas; whitespace around names and values is trimmed; empty items
    are ignored; a value may contain ``=``; ``a__b`` is read as ``a.b``; a later item for the
    same flag overrides an earlier one. Text between double or single quotes is taken
    literally (commas included) and the quotes are dropped, as Theano's shlex-based parser
    did. ``source`` names the string in error messages (e.g. ``"THEANO_FLAGS"``).
    """
    result: dict[str, str] = {}
    for item in _split_items(s, source):
        item = item.strip()
        if not item:
            continue
        if "=" not in item:
            err = FlagValueError(
                f"{source}: item {item!r} has no '=' "
                "(expected name=value items separated by commas)"
            )
            err.flag, err.value, err.source = item, None, source
            raise err
        name, value = item.split("=", 1)
        name = name.strip()
        if not name:
            err = FlagValueError(f"{source}: item {item!r} has an empty name before '='")
            err.value, err.source = value.strip(), source
            raise err
        result[canonical(name)] = value.strip()
    return result


def _split_items(s: str, source: str) -> list[str]:
    """Split ``s`` on the commas that are outside quotes, dropping the quote characters."""
    items: list[str] = []
    buf: list[str] = []
    quote = ""
    for ch in s:
        if quote:
            if ch == quote:
                quote = ""
            else:
                buf.append(ch)
        elif ch in "\"'":
            quote = ch
        elif ch == ",":
            items.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quote:
        err = FlagValueError(f"{source}: unterminated {quote} quote in {s!r}")
        err.source = source
        raise err
    items.append("".join(buf))
    return items


def expand_user(path: str, environ: Mapping[str, str]) -> str:
    """Expand a leading ``~`` with ``environ['HOME']`` when present, else like os.path."""
    if path == "~" or path.startswith(("~/", "~" + os.sep)):
        home = environ.get("HOME")
        if home:
            return home + path[1:]
    return os.path.expanduser(path)


def rc_paths(spec: str | None, default: Iterable[str], environ: Mapping[str, str]) -> list[str]:
    """Return the rc files to read: ``spec`` split on os.pathsep, or ``default``; ~ expanded."""
    entries = spec.split(os.pathsep) if spec is not None else list(default)
    return [expand_user(entry, environ) for entry in entries if entry.strip()]


class RcEntry(NamedTuple):
    """One ``key = value`` of an rc file, with the key as written and its ``file:line``."""

    section: str
    key: str
    value: str
    source: str

    @property
    def display_name(self) -> str:
        """The flag name this entry sets, as a user would write it in the flags variable."""
        return self.key if self.section == GLOBAL_SECTION else f"{self.section}.{self.key}"


def interpolation_vars(environ: Mapping[str, str]) -> dict[str, str]:
    """The ``%(NAME)s`` variables rc values may use, as in Theano 1.0."""
    home = environ.get("HOME") or os.path.expanduser("~")
    return {
        "USER": environ.get("USER", os.path.basename(home.rstrip("/\\"))),
        "LSCRATCH": environ.get("LSCRATCH", ""),
        "TMPDIR": environ.get("TMPDIR", ""),
        "TEMP": environ.get("TEMP", ""),
        "TMP": environ.get("TMP", ""),
        "PID": str(os.getpid()),
    }


def read_rc_files(
    paths: Iterable[str], variables: Mapping[str, str]
) -> tuple[list[str], dict[tuple[str, str], RcEntry]]:
    """Read ``paths`` in order; return the files read and ``{(section, key): entry}``.

    Keys are lower-cased (configparser's rule, so ``floatx`` sets ``floatX``); a later file
    overrides an earlier one key by key. Missing files are skipped; unreadable or malformed
    ones raise RcFileError naming the file and line.
    """
    read: list[str] = []
    entries: dict[tuple[str, str], RcEntry] = {}
    for path in paths:
        text = _read_text(path)
        if text is None:
            continue
        entries.update(_parse_rc(path, text, variables))
        read.append(path)
    return read, entries


def _rc_error(path: str, lineno: int | None, message: str) -> RcFileError:
    where = f"{path}:{lineno}" if lineno else path
    err = RcFileError(f"{where}: {message}")
    err.path, err.lineno = path, lineno
    return err


def _read_text(path: str) -> str | None:
    """Return the file's text with newlines normalised, or None when it does not exist."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise _rc_error(path, None, f"cannot be read: {exc.strerror or exc}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        lineno = data[: exc.start].count(b"\n") + 1
        raise _rc_error(path, lineno, "is not valid UTF-8 text") from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _parse_rc(
    path: str, text: str, variables: Mapping[str, str]
) -> list[tuple[tuple[str, str], RcEntry]]:
    parser = configparser.ConfigParser(defaults=dict(variables))
    try:
        parser.read_string(text, source=path)
    except configparser.MissingSectionHeaderError as exc:
        raise _rc_error(
            path,
            exc.lineno,
            f"{exc.line.strip()!r} comes before any [section] header "
            f"(top-level flags go under [{GLOBAL_SECTION}])",
        ) from None
    except configparser.DuplicateSectionError as exc:
        raise _rc_error(path, exc.lineno, f"section [{exc.section}] appears twice") from None
    except configparser.DuplicateOptionError as exc:
        raise _rc_error(
            path, exc.lineno, f"{exc.option!r} is set twice in section [{exc.section}]"
        ) from None
    except configparser.ParsingError as exc:
        lineno = exc.errors[0][0]  # configparser keeps repr(line): take the line from text
        line = text.split("\n")[lineno - 1] if 0 < lineno <= text.count("\n") + 1 else ""
        raise _rc_error(
            path,
            lineno,
            f"cannot parse {line.strip()!r} (expected 'name = value' or a [section] header)",
        ) from None
    except configparser.Error as exc:
        raise _rc_error(path, None, f"malformed rc file: {exc}") from None
    result = []
    for (section, key), (lineno, spelling) in _key_lines(text).items():
        if section == parser.default_section or not parser.has_option(section, key):
            continue
        try:
            value = parser.get(section, key)
        except configparser.InterpolationError:
            # As Theano 1.0: a value whose %(...)s cannot be expanded is taken literally.
            value = parser.get(section, key, raw=True)
        entry = RcEntry(section, spelling, value, f"{path}:{lineno}")
        result.append(((section, key), entry))
    return result


def _key_lines(text: str) -> dict[tuple[str, str], tuple[int, str]]:
    """Map ``(section, lower-cased key)`` to ``(line number, key as written)``.

    Follows configparser's rules for a file it accepted: blank and comment lines are
    skipped, lines indented deeper than the current key continue its value.
    """
    found: dict[tuple[str, str], tuple[int, str]] = {}
    section: str | None = None
    in_option = False
    indent_level = 0
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        indent = len(line) - len(line.lstrip())
        if section is not None and in_option and indent > indent_level:
            continue
        indent_level = indent
        match = configparser.ConfigParser.SECTCRE.match(stripped)
        if match:
            section = match.group("header")
            in_option = False
            continue
        match = configparser.ConfigParser.OPTCRE.match(stripped)
        if match and section is not None:
            spelling = match.group("option").rstrip()
            found.setdefault((section, spelling.lower()), (lineno, spelling))
            in_option = True
    return found

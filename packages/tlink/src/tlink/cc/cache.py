"""The on-disk compile cache: content-addressed C modules, built aside and renamed in.

A module's key is the SHA-256 of everything that decides its bytes: the source and the
boilerplate version, the compiler (path, version, target ISA), every option, the header and
library directories, Python's ABI and NumPy's C API. Two processes that need the same key
find (or build) the same entry; nobody ever waits for anybody:

* An entry ``<compiledir>/<key[:2]>/<key>/`` holds ``mod.c``, the shared library and
  ``meta.json`` (the key's inputs, the name hint, the creation time, the library's size and
  SHA-256). It is complete or absent: it is built in a fresh directory under
  ``<compiledir>/tmp/`` on the same file system and renamed into place with one
  ``os.rename``. When two processes build the same key at once, both compile; the first
  rename wins and the loser discards its copy and loads the winner's. No lock is shared
  between processes or between keys, so nobody waits on another's compilation (Theano 1.0
  held one global lock while compiling, which serialised every process sharing a home
  directory); only threads of one process needing the same key share one build.
* Before loading, an entry is checked against its ``meta.json`` (parses, same key, library
  present with the recorded size and hash). A broken entry - a truncated or altered library,
  garbage metadata, or a library the loader refuses - is renamed to a trash name, deleted,
  warned about (CacheEntryWarning, naming its path and the fault) and rebuilt.
* A failed compilation leaves no entry; its source and diagnostics go to
  ``<compiledir>/failed/`` and the CompileError names them.
* Directories are created with mode 0700: the cache holds code this user will execute.
  Build directories left by killed processes are removed by ``clean_stale`` (called by
  ``theano-cache clear``/``purge``) once they are an hour old, never on the hot path.
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import json
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import types
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tlink.cc.compiler import CompileError, CompilerInfo, build_command, compiler_info
from tlink.cc.key import cache_key, key_inputs, library_name, module_name, module_source
from tlink.fallback import user_stacklevel

__all__ = [
    "CacheEntry",
    "CacheEntryWarning",
    "ModuleCache",
    "compile_module",
    "default_cache",
    "make_private_dir",
]

#: Build and trash directories older than this many seconds belong to dead processes.
STALE_AFTER_S = 3600.0

_STDERR_LINES = 40


class CacheEntryWarning(UserWarning):
    """A cache entry was broken (truncated, altered, unloadable) and is being rebuilt."""


@dataclass(frozen=True)
class CacheEntry:
    """One complete entry directory, as listed by ``theano-cache list``."""

    key: str
    path: str
    name_hint: str
    size: int  #: bytes of the shared library
    created: float  #: time.time() when it was built
    meta: dict[str, Any]


def make_private_dir(path: str) -> None:
    """Create ``path`` and any missing parents with mode 0700 (chmod'ed, whatever the umask).

    Existing directories are left as they are, except ``path`` itself when this call made it.
    """
    path = os.path.abspath(path)
    missing = []
    probe = path
    while not os.path.isdir(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, 0o700)
        except FileExistsError:
            if not os.path.isdir(directory):
                raise
            continue  # another process made it; its mode is its business (also 0700)
        os.chmod(directory, 0o700)


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ModuleCache:
    """The compile cache rooted at one directory (``config.compiledir`` by default).

    ``stats`` counts, for this object, modules ``compiled`` (compiler runs that succeeded),
    ``loaded`` from disk, ``memory_hits`` and ``rebuilt`` (broken entries replaced), and
    ``lost_races`` (our build discarded because another process renamed first).
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self._modules: dict[str, types.ModuleType] = {}
        self._lock = threading.Lock()  # guards _key_locks only, never held while compiling
        self._key_locks: dict[str, threading.Lock] = {}
        self.stats = {"compiled": 0, "loaded": 0, "memory_hits": 0, "rebuilt": 0,
                      "lost_races": 0}

    # -- layout -----------------------------------------------------------------------

    def entry_dir(self, key: str) -> str:
        return os.path.join(self.root, key[:2], key)

    @property
    def tmp_dir(self) -> str:
        return os.path.join(self.root, "tmp")

    @property
    def failed_dir(self) -> str:
        return os.path.join(self.root, "failed")

    # -- compiling --------------------------------------------------------------------

    def compile(
        self,
        code: str,
        *,
        include_dirs: Sequence[str] = (),
        library_dirs: Sequence[str] = (),
        libraries: Sequence[str] = (),
        compile_args: Sequence[str] = (),
        link_args: Sequence[str] = (),
        name_hint: str = "",
    ) -> types.ModuleType:
        """The module for ``code`` (see :func:`compile_module`), from memory, disk or gcc."""
        if not isinstance(code, str):
            raise TypeError(f"compile_module: code must be a str of C source, got "
                            f"{type(code).__name__}")
        options = {
            "include_dirs": [str(d) for d in include_dirs],
            "library_dirs": [str(d) for d in library_dirs],
            "libraries": [str(lib) for lib in libraries],
            "compile_args": [str(a) for a in compile_args],
            "link_args": [str(a) for a in link_args],
        }
        info = compiler_info()
        inputs = key_inputs(code, info, **options)
        key = cache_key(inputs)
        module = self._modules.get(key)
        if module is not None:
            self.stats["memory_hits"] += 1
            return module
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        # Threads needing the same key share one build and load; different keys never
        # wait for each other, in this process as across processes.
        with key_lock:
            module = self._modules.get(key)
            if module is None:
                module = self._get(key, code, info, inputs, options, name_hint)
                self._modules[key] = module
            else:
                self.stats["memory_hits"] += 1
        return module

    def _get(
        self,
        key: str,
        code: str,
        info: CompilerInfo,
        inputs: dict[str, Any],
        options: dict[str, list[str]],
        name_hint: str,
    ) -> types.ModuleType:
        entry = self.entry_dir(key)
        if os.path.isdir(entry):
            fault = self.verify(key)
            if fault is None:
                try:
                    module = self._load(key)
                except ImportError as exc:
                    # The recorded hash matched, yet the loader refuses the file (the meta
                    # was rewritten to match a damaged library, or it is from another ABI).
                    # The loader's own errors carry the path; an ImportError raised by
                    # tlink_exec does not and is the module's, not the cache's, fault.
                    if exc.path is None:
                        raise
                    fault = f"the library does not load ({exc})"
                else:
                    self.stats["loaded"] += 1
                    return module
            self._discard(entry, fault)
            self.stats["rebuilt"] += 1
        self._build(key, code, info, inputs, options, name_hint)
        fault = self.verify(key)
        if fault is not None:
            raise CompileError(
                f"compile cache entry {entry} is broken right after it was built: {fault}. "
                "Another process may be deleting or rewriting the cache directory."
            )
        # A freshly built entry that fails to load is not corruption: tlink_exec raised
        # (or the code is unloadable). Its exception goes to the caller unchanged.
        module = self._load(key)
        self.stats["loaded"] += 1
        return module

    def _build(
        self,
        key: str,
        code: str,
        info: CompilerInfo,
        inputs: dict[str, Any],
        options: dict[str, list[str]],
        name_hint: str,
    ) -> None:
        """Compile into a fresh directory under tmp/ and rename it to the entry's path."""
        make_private_dir(self.tmp_dir)
        build = tempfile.mkdtemp(prefix=f"build-{key[:16]}-", dir=self.tmp_dir)
        try:
            name = module_name(key)
            source = os.path.join(build, "mod.c")
            with open(source, "w", encoding="utf-8") as f:
                f.write(module_source(code, name))
            library = os.path.join(build, library_name(key))
            cmd = build_command(info, source, library, **options)
            self._run_compiler(cmd, source, name)
            self.stats["compiled"] += 1
            meta = {
                "key": key,
                "module": name,
                "name_hint": name_hint,
                "created": time.time(),
                "library": os.path.basename(library),
                "size": os.path.getsize(library),
                "sha256": _file_sha256(library),
                "command": cmd,
                "inputs": inputs,
            }
            meta_tmp = os.path.join(build, "meta.json.tmp")
            with open(meta_tmp, "w", encoding="utf-8") as f:
                json.dump(meta, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(meta_tmp, os.path.join(build, "meta.json"))
            entry = self.entry_dir(key)
            make_private_dir(os.path.dirname(entry))
            try:
                os.rename(build, entry)
            except OSError:
                if not os.path.isdir(entry):
                    raise
                self.stats["lost_races"] += 1  # another process renamed first: use theirs
            else:
                build = ""
        finally:
            if build:
                shutil.rmtree(build, ignore_errors=True)

    def _run_compiler(self, cmd: list[str], source: str, name: str) -> None:
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, errors="replace")
        except OSError as exc:
            kept = self._keep_failed(source, name, str(exc))
            raise CompileError(
                f"cannot run the C compiler {cmd[0]!r}: {exc}\ncommand: {_shell(cmd)}\n"
                f"source kept at: {kept}",
                command=cmd, stderr=str(exc), source_path=kept,
            ) from None
        if proc.returncode == 0:
            return
        stderr = proc.stderr or proc.stdout
        kept = self._keep_failed(source, name, stderr)
        lines = stderr.splitlines()
        shown = "\n".join(lines[:_STDERR_LINES])
        if len(lines) > _STDERR_LINES:
            shown += f"\n... ({len(lines) - _STDERR_LINES} more lines in {kept}.log)"
        raise CompileError(
            f"C compilation of module {name} failed (exit {proc.returncode}).\n"
            f"command: {_shell(cmd)}\nsource kept at: {kept}\ncompiler output:\n{shown}",
            command=cmd, stderr=stderr, source_path=kept,
        )

    def _keep_failed(self, source: str, name: str, stderr: str) -> str:
        """Copy a failing source (and its diagnostics, as ``.log``) into failed/."""
        make_private_dir(self.failed_dir)
        fd, kept = tempfile.mkstemp(prefix=f"{name}-", suffix=".c", dir=self.failed_dir)
        with os.fdopen(fd, "w", encoding="utf-8") as out, open(source, encoding="utf-8") as f:
            shutil.copyfileobj(f, out)
        with open(kept + ".log", "w", encoding="utf-8") as f:
            f.write(stderr)
        return kept

    # -- checking and loading -----------------------------------------------------------

    def read_meta(self, key: str) -> dict[str, Any]:
        """The parsed meta.json of an entry (OSError or ValueError when unreadable)."""
        with open(os.path.join(self.entry_dir(key), "meta.json"), encoding="utf-8") as f:
            meta = json.load(f)
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        return meta

    def verify(self, key: str) -> str | None:
        """What is wrong with the entry of ``key``, or None when it is complete and intact."""
        try:
            meta = self.read_meta(key)
        except (OSError, ValueError) as exc:
            return f"meta.json is unreadable ({exc})"
        if meta.get("key") != key:
            return f"meta.json names key {str(meta.get('key'))[:16]!r}, not this entry's"
        size, digest = meta.get("size"), meta.get("sha256")
        if not isinstance(size, int) or not isinstance(digest, str):
            return "meta.json lacks the library's size and sha256"
        library = os.path.join(self.entry_dir(key), library_name(key))
        try:
            actual = os.path.getsize(library)
        except OSError:
            return f"the library {os.path.basename(library)} is missing"
        if actual != size:
            return f"the library has {actual} bytes, {size} were recorded (truncated?)"
        if _file_sha256(library) != digest:
            return "the library's sha256 differs from the recorded one (altered)"
        return None

    def _load(self, key: str) -> types.ModuleType:
        name = module_name(key)
        path = os.path.join(self.entry_dir(key), library_name(key))
        loader = importlib.machinery.ExtensionFileLoader(name, path)
        spec = importlib.util.spec_from_file_location(name, path, loader=loader)
        if spec is None:  # pragma: no cover - only for a path no loader accepts
            raise ImportError(f"no module spec for {path}")
        module = importlib.util.module_from_spec(spec)
        loader.exec_module(module)
        return module

    def _discard(self, entry: str, fault: str) -> None:
        """Move a broken entry to a trash name (atomically), delete it, and warn."""
        warnings.warn(
            f"compile cache entry {entry} is broken: {fault}; removing and rebuilding it",
            CacheEntryWarning,
            stacklevel=user_stacklevel(),
        )
        make_private_dir(self.tmp_dir)
        trash = tempfile.mkdtemp(prefix="trash-", dir=self.tmp_dir)
        try:
            os.rename(entry, os.path.join(trash, "entry"))
        except FileNotFoundError:
            pass  # another process removed it first
        shutil.rmtree(trash, ignore_errors=True)

    # -- listing and cleaning (theano-cache) --------------------------------------------

    def entries(self) -> Iterator[CacheEntry]:
        """The entries on disk, broken ones included with what their meta says (or 0s)."""
        if not os.path.isdir(self.root):
            return
        for prefix in sorted(os.listdir(self.root)):
            bucket = os.path.join(self.root, prefix)
            if len(prefix) != 2 or not _is_hex(prefix) or not os.path.isdir(bucket):
                continue
            for key in sorted(os.listdir(bucket)):
                if not key.startswith(prefix) or not _is_hex(key):
                    continue
                try:
                    meta = self.read_meta(key)
                except (OSError, ValueError):
                    meta = {}
                yield CacheEntry(
                    key=key,
                    path=os.path.join(bucket, key),
                    name_hint=str(meta.get("name_hint", "")),
                    size=int(meta.get("size", 0) or 0),
                    created=float(meta.get("created", 0.0) or 0.0),
                    meta=meta,
                )

    def clear(self) -> int:
        """Remove every entry (and stale build dirs); returns how many entries went."""
        count = 0
        for entry in list(self.entries()):
            make_private_dir(self.tmp_dir)
            trash = tempfile.mkdtemp(prefix="trash-", dir=self.tmp_dir)
            try:
                os.rename(entry.path, os.path.join(trash, "entry"))
                count += 1
            except FileNotFoundError:
                pass
            shutil.rmtree(trash, ignore_errors=True)
        for prefix in os.listdir(self.root) if os.path.isdir(self.root) else ():
            bucket = os.path.join(self.root, prefix)
            if len(prefix) == 2 and _is_hex(prefix) and os.path.isdir(bucket):
                try:
                    os.rmdir(bucket)
                except OSError:
                    pass  # a process just added an entry to it
        self.clean_stale()
        # Modules already loaded stay usable (and cached in memory): the loader cannot
        # unload them, and reloading the same path would only return them again.
        return count

    def clean_stale(self, max_age_s: float = STALE_AFTER_S) -> int:
        """Remove build/trash directories under tmp/ older than ``max_age_s``; count them.

        Younger ones may belong to a process compiling right now and are left alone.
        """
        if not os.path.isdir(self.tmp_dir):
            return 0
        now = time.time()
        count = 0
        for name in os.listdir(self.tmp_dir):
            path = os.path.join(self.tmp_dir, name)
            try:
                age = now - os.stat(path).st_mtime
            except FileNotFoundError:
                continue
            if age >= max_age_s or (name.startswith("trash-") and age >= 60):
                shutil.rmtree(path, ignore_errors=True)
                count += 1
        return count

    def purge(self) -> int:
        """Remove all entries, stale build/trash dirs and failed/; returns entries removed."""
        count = self.clear()
        shutil.rmtree(self.failed_dir, ignore_errors=True)
        try:
            os.rmdir(self.tmp_dir)
        except OSError:
            pass  # not there, or a build is in progress
        return count


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _shell(cmd: list[str]) -> str:
    return " ".join(shlex.quote(part) for part in cmd)


_caches: dict[str, ModuleCache] = {}
_caches_lock = threading.Lock()


def default_cache() -> ModuleCache:
    """The ModuleCache of ``config.compiledir`` (one object per directory and process)."""
    from tgraph import config

    root = os.path.abspath(config.compiledir)
    with _caches_lock:
        cache = _caches.get(root)
        if cache is None:
            cache = _caches[root] = ModuleCache(root)
    return cache


def compile_module(
    code: str,
    *,
    include_dirs: Sequence[str] = (),
    library_dirs: Sequence[str] = (),
    libraries: Sequence[str] = (),
    compile_args: Sequence[str] = (),
    link_args: Sequence[str] = (),
    name_hint: str = "",
) -> types.ModuleType:
    """Compile C ``code`` into a Python extension module (or reuse the cached one).

    ``code`` has no module boilerplate: it defines ``static int tlink_exec(PyObject
    *module)``, which fills the module (functions, capsules; it calls ``import_array()``
    itself if it uses NumPy) and returns 0, or -1 with an exception set. Python's and NumPy's
    headers are always on the include path; ``compile_args`` come after the default options,
    ``libraries`` are names for ``-l``. ``name_hint`` is shown by ``theano-cache list``.

    The same inputs give the same module object for the rest of the process, without
    touching the disk again. Raises CompilerUnavailable when ``config.cxx`` is empty or does
    not run, CompileError when compilation fails.
    """
    return default_cache().compile(
        code,
        include_dirs=include_dirs,
        library_dirs=library_dirs,
        libraries=libraries,
        compile_args=compile_args,
        link_args=link_args,
        name_hint=name_hint,
    )

"""``theano-cache``: list, clear, purge, dir, basecompiledir, and its exit codes.

The CLI reads ``config.compiledir``, which is read-only in a running process, so each test
runs it in a subprocess whose THEANO_FLAGS point base_compiledir into ``tmp_path``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pytest

from tlink.cc import ModuleCache, compiler_available

needs_cc = pytest.mark.skipif(not compiler_available(), reason="no C compiler (config.cxx)")

CODE = r"""
/* %s */
static int tlink_exec(PyObject *module) { return PyModule_AddIntConstant(module, "n", 7); }
"""

BUILD = (
    "import sys\n"
    "from tlink.cc import compile_module\n"
    "for hint in sys.argv[1:]:\n"
    "    assert compile_module(CODE % hint, name_hint=hint).n == 7\n"
)


def env_for(tmp_path) -> dict[str, str]:
    rc = tmp_path / "empty.theanorc"
    rc.write_text("")
    return dict(os.environ, THEANORC=str(rc), THEANO_FLAGS=f"base_compiledir={tmp_path / 'b'}")


def cli(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tlink.cc.cli", *args], env=env_for(tmp_path),
                          capture_output=True, text=True, check=False)


def build(tmp_path, *hints: str) -> None:
    proc = subprocess.run([sys.executable, "-c", f"CODE = {CODE!r}\n" + BUILD, *hints],
                          env=env_for(tmp_path), capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def compiledir(tmp_path) -> str:
    proc = cli(tmp_path, "dir")
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_dir_and_basecompiledir_print_the_directories(tmp_path):
    directory = compiledir(tmp_path)
    assert os.path.dirname(directory) == str(tmp_path / "b")
    assert os.path.basename(directory).startswith("compiledir_")
    proc = cli(tmp_path, "basecompiledir")
    assert proc.returncode == 0 and proc.stdout.strip() == str(tmp_path / "b")
    assert not (tmp_path / "b").exists()  # printing creates nothing


@needs_cc
def test_list_shows_entries_and_totals_then_clear_removes_them(tmp_path):
    empty = cli(tmp_path, "list")
    assert empty.returncode == 0 and "no compiled modules" in empty.stdout
    build(tmp_path, "first op", "second op")
    cache = ModuleCache(compiledir(tmp_path))
    total = sum(entry.size for entry in cache.entries())
    assert len(list(cache.entries())) == 2 and total > 0

    listing = cli(tmp_path, "list")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0] == f"compile cache {cache.root}"
    for entry in cache.entries():
        row = next(line for line in lines if line.startswith(entry.key[:16]))
        assert row.endswith(entry.name_hint), row
        assert re.search(r"\d+(\.\d)? (B|KiB|MiB)\s+\d+[smhd]\s+", row), row
    assert {e.name_hint for e in cache.entries()} == {"first op", "second op"}
    kib = total / 1024
    assert lines[-1] == f"2 modules, {kib:.1f} KiB"

    cleared = cli(tmp_path, "clear")
    assert cleared.returncode == 0, cleared.stderr
    assert cleared.stdout.strip() == f"removed 2 compiled modules from {cache.root}"
    assert list(cache.entries()) == []
    assert "no compiled modules" in cli(tmp_path, "list").stdout


@needs_cc
def test_list_marks_an_entry_with_broken_metadata(tmp_path):
    build(tmp_path, "to break")
    cache = ModuleCache(compiledir(tmp_path))
    [entry] = list(cache.entries())
    with open(os.path.join(entry.path, "meta.json"), "w") as f:
        f.write("garbage")
    listing = cli(tmp_path, "list")
    assert listing.returncode == 0
    assert "broken: meta.json unreadable" in listing.stdout


@needs_cc
def test_purge_removes_entries_failed_sources_and_old_temporary_dirs(tmp_path):
    build(tmp_path, "kept until purge")
    cache = ModuleCache(compiledir(tmp_path))
    os.makedirs(cache.failed_dir, mode=0o700)
    with open(os.path.join(cache.failed_dir, "tlink_x.c"), "w") as f:
        f.write("broken source\n")
    stale = os.path.join(cache.tmp_dir, "build-0000000000000000-killed")
    os.makedirs(stale)
    hours_ago = time.time() - 3 * 3600
    os.utime(stale, (hours_ago, hours_ago))
    proc = cli(tmp_path, "purge")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("removed 1 compiled module,")
    assert list(cache.entries()) == []
    assert not os.path.exists(cache.failed_dir)
    assert not os.path.exists(cache.tmp_dir)


def test_unknown_subcommand_exits_with_1_listing_the_valid_ones(tmp_path):
    proc = cli(tmp_path, "bogus")
    assert proc.returncode == 1
    assert "invalid choice: 'bogus'" in proc.stderr and "purge" in proc.stderr
    assert cli(tmp_path).returncode == 1  # a subcommand is required


def test_the_console_script_is_installed(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "theano-cache")
    if not os.path.exists(script):
        pytest.skip("tlink is not installed with its console scripts in this environment")
    proc = subprocess.run([script, "basecompiledir"], env=env_for(tmp_path),
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "b")


def test_main_can_be_called_in_process(capsys):
    from tlink.cc.cli import main

    assert main(["unlock"]) == 0
    assert "no locks" in capsys.readouterr().out
    assert main(["--help"]) == 0
    assert "theano-cache" in capsys.readouterr().out

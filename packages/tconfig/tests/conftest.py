"""Shared helpers: every test builds a fresh Config from an explicit environ mapping and rc
files under tmp_path, so the developer's THEANO_FLAGS and ~/.theanorc never leak in."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from tconfig import Config


def make_config(environ: Mapping[str, str] | None = None, **kwargs: object) -> Config:
    """A Config reading THEANO_FLAGS / THEANORC from ``environ`` only (no default rc files)."""
    options: dict = {"flags_env": "THEANO_FLAGS", "rc_env": "THEANORC", "rc_default": ()}
    options.update(kwargs)
    return Config(environ=dict(environ or {}), **options)


@pytest.fixture
def new_config() -> Callable[..., Config]:
    return make_config


@pytest.fixture
def write_rc(tmp_path: Path) -> Callable[..., str]:
    """Write a (dedented) rc file under tmp_path and return its path as a string."""

    def write(text: str, name: str = "theanorc") -> str:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return str(path)

    return write

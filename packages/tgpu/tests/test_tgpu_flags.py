"""tgpu imports on its own, without PyCUDA or a GPU, and declares no flag yet."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import tconfig
import tgpu
from tgpu._config import declare
from tgpu._version import __version__


def test_package_imports_and_exports_version() -> None:
    assert tgpu.__version__ == __version__
    assert "__version__" in tgpu.__all__


def test_declares_no_flag_yet() -> None:
    config = tconfig.Config()
    declare(config)
    assert config.flags() == []


def test_imports_without_pycuda(tmp_path: Path) -> None:
    # A None entry in sys.modules makes any `import pycuda` fail, as if it were absent.
    code = (
        "import sys\n"
        "sys.modules['pycuda'] = None\n"
        "import tgpu\n"
        "print('imported', tgpu.__version__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("THEANO_FLAGS", "PYTHONWARNINGS")}
    env.update(HOME=str(tmp_path), THEANORC=str(tmp_path / "theanorc"))
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"imported {__version__}"


def test_publishes_a_theano_extension_entry_point() -> None:
    try:
        metadata.distribution("tgpu")
    except metadata.PackageNotFoundError:
        pytest.skip("tgpu is not installed (run from source): no entry point metadata")
    found = {ep.name: ep.value for ep in metadata.entry_points(group="theano.extensions")}
    assert found.get("tgpu") == "tgpu"

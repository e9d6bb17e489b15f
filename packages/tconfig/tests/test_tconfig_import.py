"""tconfig is stdlib-only: importing it must pull in no third-party module (NumPy above all),
and its public API is exactly what other packages code against."""

from __future__ import annotations

import json
import subprocess
import sys

import tconfig

PUBLIC = {
    "BoolParam",
    "ChangeFlags",
    "Config",
    "ConfigError",
    "ConfigParam",
    "ConfigSection",
    "DeviceParam",
    "DuplicateFlagError",
    "EnumStr",
    "FlagValueError",
    "FloatParam",
    "IntParam",
    "RcFileError",
    "ReadOnlyFlagError",
    "StrParam",
    "TypedParam",
    "UnknownFlagError",
    "UnknownFlagWarning",
    "__version__",
    "parse_flags_string",
}

CHECK = """
import json, sys
before = set(sys.modules)
import tconfig
new = sorted({name.split(".")[0] for name in set(sys.modules) - before})
print(json.dumps({"new": new, "numpy": "numpy" in sys.modules}))
"""


def test_import_pulls_in_only_the_standard_library() -> None:
    proc = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout)
    assert result["numpy"] is False
    third_party = [
        name for name in result["new"] if name != "tconfig" and name not in sys.stdlib_module_names
    ]
    assert third_party == []
    assert "tconfig" in result["new"]


def test_public_api() -> None:
    assert set(tconfig.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(tconfig, name)
    assert tconfig.__version__ == "0.1.0"

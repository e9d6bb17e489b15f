"""``import theano`` gives Theano 1.0's configuration: names, precedence, printing, warnings.

End-to-end behaviour (environment variables, rc files, warnings at import) is checked in a
fresh interpreter whose HOME and THEANORC point into tmp_path and whose warnings are shown,
not turned into errors: pytest's filters apply to this process only, so nothing leaks in or
out.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tconfig
import tgraph
import theano
import theano.configdefaults
import theano.configparser
from theano._version import __version__

# What Theano 1.0 code imports from theano.configparser (plus DeviceParam, which Theano 1.0
# kept in configdefaults).
CONFIGPARSER_NAMES = [
    "AddConfigVar",
    "BoolParam",
    "ConfigParam",
    "DeviceParam",
    "EnumStr",
    "FloatParam",
    "IntParam",
    "StrParam",
    "THEANO_FLAGS",
    "THEANO_FLAGS_DICT",
    "TheanoConfigParser",
    "TheanoConfigWarning",
    "TypedParam",
    "change_flags",
    "config",
    "config_files",
    "config_files_from_theanorc",
    "fetch_val_for_key",
    "get_config_hash",
    "parse_config_string",
]


def run_python(
    code: str,
    tmp_path: Path,
    *,
    flags: str | None = None,
    rc: str | None = None,
    extra_path: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter isolated from the developer's Theano settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("THEANO_FLAGS", "THEANORC", "PYTHONWARNINGS")
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    rc_file = tmp_path / "theanorc"
    if rc is not None:
        rc_file.write_text(textwrap.dedent(rc))
    env.update(HOME=str(home), THEANORC=str(rc_file))
    if flags is not None:
        env["THEANO_FLAGS"] = flags
    if extra_path is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(extra_path), env.get("PYTHONPATH")) if p
        )
    return subprocess.run(
        [sys.executable, "-W", "default", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def test_import_exposes_the_shared_config() -> None:
    assert theano.config is tgraph.config
    assert theano.__version__ == __version__
    assert theano.config.floatX in ("float64", "float32", "float16")
    assert theano.change_flags is theano.configparser.change_flags


def test_every_package_declared_its_flags() -> None:
    for name in ("floatX", "optimizer", "linker", "DebugMode.check_c", "NanGuardMode.action"):
        assert name in theano.config


def test_defaults_in_a_clean_environment(tmp_path: Path) -> None:
    proc = run_python(
        """
        import theano
        c = theano.config
        print(c.floatX, c.device, c.mode, c.optimizer, c.linker, c.NanGuardMode.action)
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["float64", "cpu", "Mode", "o4", "cvm", "raise"]
    assert proc.stderr == ""


def test_precedence_rc_then_flags_then_assignment(tmp_path: Path) -> None:
    proc = run_python(
        """
        import theano
        c = theano.config
        print(c.floatX, c.source_of("floatX"))
        print(c.gcc.cxxflags, c.source_of("gcc.cxxflags"))
        c.floatX = "float16"
        print(c.floatX, c.source_of("floatX"))
        """,
        tmp_path,
        flags="floatX=float32",
        rc="""
        [global]
        floatX = float64
        [gcc]
        cxxflags = -O1
        """,
    )
    assert proc.returncode == 0, proc.stderr
    rc_file = str(tmp_path / "theanorc")
    assert proc.stdout.splitlines() == [
        "float32 THEANO_FLAGS",
        f"-O1 {rc_file}:5",
        "float16 code",
    ]


def test_print_config_shows_value_and_source(tmp_path: Path) -> None:
    proc = run_python("import theano; print(theano.config)", tmp_path, flags="floatX=float32")
    assert proc.returncode == 0, proc.stderr
    blocks = proc.stdout.split("\n\n")
    floatx = next(b for b in blocks if b.startswith("floatX "))
    assert "'float32'" in floatx
    assert "Source: THEANO_FLAGS" in floatx
    for name in ("optimizer", "linker", "DebugMode.patience", "device"):
        assert re.search(rf"^{re.escape(name)} \(", proc.stdout, re.MULTILINE), name


def test_unknown_flag_warns_once_with_a_suggestion(tmp_path: Path) -> None:
    proc = run_python("import theano", tmp_path, flags="optimiser=fast_run")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("UnknownFlagWarning") == 1
    assert "'optimiser'" in proc.stderr
    assert "did you mean 'optimizer'" in proc.stderr


def test_bad_flag_value_stops_import_with_a_clear_error(tmp_path: Path) -> None:
    proc = run_python("import theano", tmp_path, flags="floatX=float42")
    assert proc.returncode != 0
    assert "FlagValueError" in proc.stderr
    assert "floatX='float42' from THEANO_FLAGS" in proc.stderr


def test_device_cannot_be_assigned() -> None:
    with pytest.raises(tconfig.ReadOnlyFlagError, match="device"):
        theano.config.device = "cpu"
    with pytest.raises(TypeError):
        theano.config.device = "cuda0"
    assert theano.config.device == tgraph.config.device


def test_device_comes_from_the_environment(tmp_path: Path) -> None:
    proc = run_python("import theano; print(theano.config.device)", tmp_path, flags="device=cuda0")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "cuda0"


@pytest.mark.parametrize("name", CONFIGPARSER_NAMES)
def test_configparser_offers_theano_1_0_names(name: str) -> None:
    assert hasattr(theano.configparser, name)


def test_configdefaults_offers_config() -> None:
    assert theano.configdefaults.config is theano.config


def test_configparser_change_flags_takes_a_dict_of_dotted_names() -> None:
    before = theano.config.gcc.cxxflags
    with theano.configparser.change_flags({"gcc.cxxflags": "-O0"}, on_opt_error="raise"):
        assert theano.config.gcc.cxxflags == "-O0"
        assert theano.config.on_opt_error == "raise"
    assert theano.config.gcc.cxxflags == before


def test_add_config_var_with_theano_params() -> None:
    cp = theano.configparser
    root = tconfig.Config(flags_env="TEST_FLAGS", environ={"TEST_FLAGS": "my.level=3"})
    cp.AddConfigVar("my.level", "A level.", cp.IntParam(0, lambda n: n >= 0), root=root)
    cp.AddConfigVar("my.fixed", "Fixed.", cp.StrParam("a", allow_override=False), root=root)
    cp.AddConfigVar(
        "my.kind", "A kind.", cp.EnumStr("low", "high", convert=str.lower), root=root
    )
    cp.AddConfigVar("my.path", "A path.", cp.ConfigParam("x", filter=str.upper), root=root)
    assert root.my.level == 3
    assert root.my.path == "X"
    root.my.kind = "HIGH"
    assert root.my.kind == "high"
    with pytest.raises(tconfig.ReadOnlyFlagError):
        root.my.fixed = "b"
    with pytest.raises(tconfig.FlagValueError):
        root.my.level = -1
    with pytest.raises(tconfig.DuplicateFlagError):
        cp.AddConfigVar("my.level", "Again.", cp.IntParam(0), root=root)


def test_theano_params_are_tconfig_params() -> None:
    cp = theano.configparser
    assert isinstance(cp.BoolParam(True), tconfig.BoolParam)
    assert isinstance(cp.DeviceParam("cpu"), tconfig.DeviceParam)
    assert cp.TheanoConfigParser is tconfig.Config


def test_config_hash_is_a_sha256_hex_digest() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", theano.configparser.get_config_hash())


def test_configparser_reports_what_the_user_set(tmp_path: Path) -> None:
    proc = run_python(
        """
        import theano.configparser as cp
        print(cp.THEANO_FLAGS)
        print(sorted(cp.THEANO_FLAGS_DICT.items()))
        print(cp.parse_config_string("a=1,b.c=x=y"))
        print(cp.fetch_val_for_key("floatX"), cp.fetch_val_for_key("gcc.cxxflags"))
        try:
            cp.fetch_val_for_key("linker")
        except KeyError:
            print("KeyError")
        print(cp.config_files == cp.config_files_from_theanorc())
        """,
        tmp_path,
        flags="floatX=float32,optimizer=fast_compile",
        rc="""
        [gcc]
        cxxflags = -O2
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "floatX=float32,optimizer=fast_compile",
        "[('floatX', 'float32'), ('optimizer', 'fast_compile')]",
        "{'a': '1', 'b.c': 'x=y'}",
        "float32 -O2",
        "KeyError",
        "True",
    ]


def test_missing_module_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_python(
        """
        from theano._missing import require
        require("tgraph.no_such_module", provides="theano.something")
        """,
        tmp_path,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "NotYetImplementedError: theano.something is not implemented yet in this Theano "
        "rebuild: it will be served by tgraph.no_such_module, which does not provide it yet."
    ]


def test_error_inside_the_serving_module_is_not_hidden(tmp_path: Path) -> None:
    (tmp_path / "brokenmod.py").write_text("import no_such_dependency_xyz\n")
    proc = run_python(
        """
        import sys
        sys.path.insert(0, ".")
        from theano._missing import require
        require("brokenmod", provides="theano.something")
        """,
        tmp_path,
    )
    assert proc.returncode == 1
    assert "Traceback" in proc.stderr
    assert "ModuleNotFoundError: No module named 'no_such_dependency_xyz'" in proc.stderr


# A theano module whose serving package module is absent: `require` reports it in one line.
_MISSING_SERVER = """
    import theano
    from theano._missing import require
    require("tgraph.no_such_module", provides="theano.no_such_module")
"""


def test_missing_server_module_is_a_one_line_error(tmp_path: Path) -> None:
    proc = run_python(_MISSING_SERVER, tmp_path)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "NotYetImplementedError: theano.no_such_module is not implemented yet in this Theano "
        "rebuild: it will be served by tgraph.no_such_module, which does not provide it yet."
    ]


def test_missing_server_module_error_can_be_caught() -> None:
    from theano._missing import require

    with pytest.raises(NotImplementedError, match=r"theano\.no_such_module is not implemented"):
        require("tgraph.no_such_module", provides="theano.no_such_module")


def test_pending_names_raise_not_yet_implemented() -> None:
    pending = [name for name in theano._PENDING if name not in vars(theano)]
    if not pending:
        pytest.skip("every Theano 1.0 name of the table is provided now")
    with pytest.raises(NotImplementedError, match=rf"theano\.{pending[0]} is not implemented"):
        getattr(theano, pending[0])
    assert not hasattr(theano, pending[0])
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        _ = theano.no_such_name


def _fake_distribution(root: Path, name: str, entry_points: str, modules: dict[str, str]) -> None:
    """Make ``root`` hold an installed-looking distribution with entry points and modules."""
    info = root / f"{name}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))
    for module, source in modules.items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


def test_broken_extension_warns_by_name_and_import_succeeds(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_distribution(
        site,
        "brokenext",
        """
        [theano.extensions]
        brokenext = brokenext_impl
        """,
        {"brokenext_impl": "raise RuntimeError('boom')\n"},
    )
    proc = run_python("import theano; print(theano.config.floatX)", tmp_path, extra_path=site)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "float64"
    assert "ExtensionWarning" in proc.stderr
    assert "extension 'brokenext' (brokenext_impl) failed to load" in proc.stderr
    assert "RuntimeError: boom" in proc.stderr


def test_extension_flags_are_known_before_unknown_names_are_reported(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _fake_distribution(
        site,
        "goodext",
        """
        [theano.extensions]
        goodext = goodext_impl
        """,
        {
            "goodext_impl": """
            import tconfig
            import tgraph
            tgraph.config.add("goodext.level", "A level.", tconfig.IntParam(0))
            """
        },
    )
    proc = run_python(
        "import theano; print(theano.config.goodext.level)",
        tmp_path,
        flags="goodext.level=3",
        extra_path=site,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "3"
    assert "UnknownFlagWarning" not in proc.stderr

"""The Theano 1.0 flags that DebugMode and NanGuardMode read, declared on the config.

``declare(config)`` adds them to any ``tconfig.Config`` (tests use a fresh one, after
tlink's ``declare`` because ``DebugMode.check_c`` defaults to whether ``cxx`` is set);
importing this module declares them on ``tgraph.config``. Names, defaults and allowed
values are Theano 1.0's.
"""

from __future__ import annotations

# tlink declares ``cxx``, which the default of DebugMode.check_c reads.
import tlink  # noqa: F401
from tconfig import BoolParam, Config, EnumStr, IntParam, StrParam
from tgraph import config as _process_config

__all__ = ["PREALLOCATED_OUTPUT_CHECKS", "declare"]

# What DebugMode.check_preallocated_output may list, separated by ':'.
PREALLOCATED_OUTPUT_CHECKS = (
    "initial", "previous", "c_contiguous", "f_contiguous", "strided", "wrong_size", "ALL",
)


def _valid_preallocated_checks(value: str) -> bool:
    return value == "" or all(p in PREALLOCATED_OUTPUT_CHECKS for p in value.split(":"))


def declare(config: Config) -> None:
    """Declare the ``DebugMode.*`` and ``NanGuardMode.*`` flags on ``config``."""
    config.add(
        "DebugMode.patience",
        "How many times DebugMode rewrites the graph to check that rewriting is "
        "deterministic.",
        IntParam(10, is_valid=lambda n: n > 0),
        in_c_key=False,
    )
    config.add(
        "DebugMode.check_c",
        "Run and check C implementations where Ops have them (default: whether a C++ "
        "compiler is configured in cxx).",
        BoolParam(lambda: bool(config.cxx)),
        in_c_key=False,
    )
    config.add(
        "DebugMode.check_py",
        "Run and check Python implementations (perform).",
        BoolParam(True),
        in_c_key=False,
    )
    config.add(
        "DebugMode.check_finite",
        "Treat NaN or Inf in any result as an error.",
        BoolParam(True),
        in_c_key=False,
    )
    config.add(
        "DebugMode.check_strides",
        "When Python and C results have different strides: 0 ignores it, 1 warns, 2 raises.",
        IntParam(0, is_valid=lambda n: n in (0, 1, 2)),
        in_c_key=False,
    )
    config.add(
        "DebugMode.warn_input_not_reused",
        "Warn when an Op declared in-place (destroy_map or view_map) did not reuse its input "
        "for its output.",
        BoolParam(True),
        in_c_key=False,
    )
    config.add(
        "DebugMode.check_preallocated_output",
        "Also run each node with output storage preallocated in the ways listed here, "
        "separated by ':': 'initial', 'previous', 'c_contiguous', 'f_contiguous', 'strided', "
        "'wrong_size', or 'ALL' of them. Empty: no such check.",
        StrParam("", is_valid=_valid_preallocated_checks),
        in_c_key=False,
    )
    config.add(
        "DebugMode.check_preallocated_output_ndim",
        "For 'strided' preallocated outputs, how many inner dimensions get every stride "
        "combination (at least 2 is advised; more costs time and memory).",
        IntParam(4, is_valid=lambda n: n > 0),
        in_c_key=False,
    )
    for what, doc in (
        ("nan", "NaN"),
        ("inf", "Inf"),
        ("big", "values of huge magnitude (a sign of a diverging computation)"),
    ):
        config.add(
            f"NanGuardMode.{what}_is_error",
            f"Default of NanGuardMode's {what}_is_error argument: report {doc} in any "
            "node's inputs or outputs.",
            BoolParam(True),
            in_c_key=False,
        )
    config.add(
        "NanGuardMode.action",
        "What NanGuardMode does when it finds a problem: 'raise' an error, 'warn', or "
        "start 'pdb'.",
        EnumStr("raise", "warn", "pdb"),
        in_c_key=False,
    )


declare(_process_config)

"""The Theano 1.0 flags that the optimizer reads, declared on the process-wide config.

``declare(config)`` adds them to any ``tconfig.Config`` (tests use a fresh one); importing
this module declares them on ``tgraph.config``. Names, defaults and allowed values are
Theano 1.0's; none of them changes generated C code, so none enters the C cache key.
"""

from __future__ import annotations

import math

from tconfig import BoolParam, Config, EnumStr, FloatParam, StrParam
from tgraph import config as _process_config

__all__ = ["OPTIMIZER_LEVELS", "declare"]

# The default comes first: o4 is what FAST_RUN uses.
OPTIMIZER_LEVELS = (
    "o4", "o3", "o2", "o1", "unsafe", "fast_run", "fast_compile", "merge", "stabilize", "None",
)


def declare(config: Config) -> None:
    """Declare the optimizer flags on ``config``."""
    config.add(
        "optimizer",
        "Rewrites applied by the default Mode: a named level from 'None' (no rewrite) through "
        "'o1' (alias 'fast_compile': cheap ones) to 'o4' (alias 'fast_run': all of them), "
        "'unsafe' (also drops run-time safety checks), 'stabilize' (numerical stability only) "
        "or 'merge' (only merges duplicated computations).",
        EnumStr(*OPTIMIZER_LEVELS),
        in_c_key=False,
    )
    # Theano 1.0 fixed the three tag lists at start-up: a Mode built later must not see
    # a different optimizer than one built earlier.
    for verb, effect in (
        ("including", "adds the rewrites carrying any of these tags"),
        ("excluding", "removes the rewrites carrying any of these tags"),
        ("requiring", "keeps only the rewrites carrying all of these tags"),
    ):
        config.add(
            f"optimizer_{verb}",
            f"Colon-separated list of rewrite tags; the default Mode {effect}.",
            StrParam("", mutable=False),
            in_c_key=False,
        )
    config.add(
        "optimizer_verbose",
        "Print each rewrite as it replaces variables in the graph.",
        BoolParam(False),
        in_c_key=False,
    )
    config.add(
        "on_opt_error",
        "What to do when a rewrite raises: 'warn' and skip it, 'raise' the error, start 'pdb', "
        "or 'ignore' it silently.",
        EnumStr("warn", "raise", "pdb", "ignore"),
        in_c_key=False,
    )
    config.add(
        "optdb.position_cutoff",
        "Only run the rewrite phases whose position in the database is below this number; "
        "lower it to find which phase breaks a graph.",
        FloatParam(math.inf),
        in_c_key=False,
    )
    config.add(
        "optdb.max_use_ratio",
        "Stops equilibrium rewriting once rewrites have been applied more than this many "
        "times the number of nodes in the graph (a guard against rewrites that undo each "
        "other forever).",
        FloatParam(8.0),
        in_c_key=False,
    )
    config.add(
        "profile_optimizer",
        "Collect and print time spent in each rewrite when compiling functions.",
        BoolParam(False),
        in_c_key=False,
    )


declare(_process_config)

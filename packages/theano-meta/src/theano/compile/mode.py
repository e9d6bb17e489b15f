"""theano.compile.mode: Mode and the mode registry."""

from tlink.mode import (  # noqa: F401
    FAST_COMPILE,
    FAST_RUN,
    Mode,
    OptimizerQuery,
    get_default_mode,
    get_mode,
    predefined_linkers,
    predefined_modes,
    predefined_optimizers,
    register_linker,
    register_mode,
    register_optimizer,
)

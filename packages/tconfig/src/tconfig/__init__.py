"""tconfig: a generic, typed configuration cascade (code > flags variable > rc files > default).

tconfig declares no flag itself. A package builds one Config, naming the environment
variables to read, and packages declare their flags on it::

    config = Config(flags_env="THEANO_FLAGS", rc_env="THEANORC",
                    rc_default=("~/.theanorc", "~/.theanorc.txt"))
    config.add("floatX", "Default float dtype.", EnumStr("float64", "float32", "float16"))
"""

from tconfig._config import ChangeFlags, Config
from tconfig._errors import (
    ConfigError,
    DuplicateFlagError,
    FlagValueError,
    RcFileError,
    ReadOnlyFlagError,
    UnknownFlagError,
    UnknownFlagWarning,
)
from tconfig._params import (
    BoolParam,
    ConfigParam,
    DeviceParam,
    EnumStr,
    FloatParam,
    IntParam,
    StrParam,
    TypedParam,
)
from tconfig._registry import ConfigSection
from tconfig._sources import parse_flags_string
from tconfig._version import __version__

__all__ = [
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
]

# Show the public classes as tconfig.X (in tracebacks, reprs and pickles), not tconfig._mod.X.
for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and _obj.__module__.startswith("tconfig._"):
        _obj.__module__ = "tconfig"
del _name, _obj

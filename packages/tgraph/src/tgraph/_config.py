"""The process-wide Theano configuration and the flags tgraph itself reads.

tconfig is generic; this module makes the one instance that reads ``THEANO_FLAGS`` and
``THEANORC`` (the lowest package that reads Theano flags owns it), and declares the flags
that graph construction, casting and test values depend on. Higher packages declare theirs
on this same instance when they are imported.
"""

from __future__ import annotations

from tconfig import BoolParam, Config, EnumStr, IntParam

config = Config(
    flags_env="THEANO_FLAGS",
    rc_env="THEANORC",
    rc_default=("~/.theanorc", "~/.theanorc.txt"),
)

config.add(
    "floatX",
    "Default float dtype: of tensor constructors without a prefix (T.matrix), of Python float "
    "constants, and of the result of dividing integers when int_division='floatX'.",
    EnumStr("float64", "float32", "float16"),
)
config.add(
    "cast_policy",
    "How result dtypes are chosen. 'custom' is Theano's rule (Python scalars are cast to floatX "
    "when that loses nothing); 'numpy+floatX' follows NumPy but keeps floatX for Python floats.",
    EnumStr("custom", "numpy+floatX"),
)
config.add(
    "int_division",
    "What x / y does when both are integers: 'int' (Theano 1.0's default: true division that "
    "upcasts to float64, with a deprecation of the old integer meaning), 'floatX' (true "
    "division in floatX) or 'raise' (an error).",
    EnumStr("int", "raise", "floatX"),
)
config.add(
    "warn_float64",
    "What to do when a float64 variable is created while floatX is float32: useful to find "
    "accidental upcasts that make a float32 program slow.",
    EnumStr("ignore", "warn", "raise", "pdb"),
)
config.add(
    "compute_test_value",
    "Whether each Op computes the test value of its outputs from its inputs' tag.test_value as "
    "the graph is built, to catch shape mistakes at the line that makes them.",
    EnumStr("off", "ignore", "warn", "raise", "pdb"),
    in_c_key=False,
)
config.add(
    "compute_test_value_opt",
    "compute_test_value for the graphs built during optimization.",
    EnumStr("off", "ignore", "warn", "raise", "pdb"),
    in_c_key=False,
)
config.add(
    "print_test_value",
    "Whether str() of a variable shows its test value.",
    BoolParam(False),
    in_c_key=False,
)
config.add(
    "traceback.limit",
    "How many frames of the user's stack are kept on each variable (tag.trace), so errors can "
    "say where the failing node was created. 0 keeps none; -1 keeps all.",
    IntParam(8),
    in_c_key=False,
)
config.add(
    "exception_verbosity",
    "How much an error raised while running a node says: 'low' names the node and its inputs; "
    "'high' also prints the graph around it.",
    EnumStr("low", "high"),
    in_c_key=False,
)
config.add(
    "warn.round",
    "Warn when tensor.round() is called without a mode: Theano 1.0 changed its default from "
    "half_away_from_zero to half_to_even (NumPy's).",
    BoolParam(True),
    in_c_key=False,
)

"""theano.compile.function: the function() entry point."""

from tlink import function, function_dump  # noqa: F401

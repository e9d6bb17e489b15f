"""theano.compile.function_module: Function and FunctionMaker."""

from tlink import Function, FunctionMaker, orig_function  # noqa: F401

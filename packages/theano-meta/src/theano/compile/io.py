"""theano.compile.io: In and Out."""

from tlink import In, Out, SymbolicInput, SymbolicOutput  # noqa: F401

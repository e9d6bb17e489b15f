"""theano.compile.sharedvalue: shared variables and their constructors."""

from tgraph.shared import (  # noqa: F401
    SharedVariable,
    generic_constructor,
    shared,
    shared_constructor,
)

"""theano.gof.link: Container and the linker base classes."""

from tgraph.shared import Container  # noqa: F401
from tlink.linker import (  # noqa: F401
    Linker,
    LocalLinker,
    PerformLinker,
    WrapLinker,
    WrapLinkerMany,
    raise_with_op,
)

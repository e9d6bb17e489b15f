"""theano.compile.function_module: Function and FunctionMaker."""

from tlink import Function, FunctionMaker, orig_function  # noqa: F401
from tlink.compile.maker import (  # noqa: F401
    Supervisor,
    alias_root,
    fgraph_updated_vars,
    infer_reuse_pattern,
    insert_deepcopy,
    std_fgraph,
)
from tlink.errors import UnusedInputError  # noqa: F401

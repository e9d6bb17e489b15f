"""Compiling graphs into callables: ``function``, In/Out, the maker and the Function object."""

from tlink.compile.function import function, function_dump, pfunc
from tlink.compile.function_obj import Function
from tlink.compile.io import In, Out, SymbolicInput, SymbolicOutput
from tlink.compile.maker import FunctionMaker, orig_function
from tlink.compile.ops import DeepCopyOp, OutputGuard, ViewOp, as_op, deep_copy_op, view_op
from tlink.compile.rebuild import rebuild_collect_shared

__all__ = [
    "DeepCopyOp",
    "Function",
    "FunctionMaker",
    "In",
    "Out",
    "OutputGuard",
    "SymbolicInput",
    "SymbolicOutput",
    "ViewOp",
    "as_op",
    "deep_copy_op",
    "function",
    "function_dump",
    "orig_function",
    "pfunc",
    "rebuild_collect_shared",
    "view_op",
]

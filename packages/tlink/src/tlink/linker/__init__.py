"""Linkers: turning a FunctionGraph into running thunks (py, vm, vm_nogc; C ones later)."""

from tlink.linker.base import (
    Linker,
    LocalLinker,
    gc_helper,
    make_node_thunk,
    make_py_thunk,
    map_storage,
    register_thunk_maker,
)
from tlink.linker.errors import raise_with_op
from tlink.linker.perform import PerformLinker
from tlink.linker.vm import VM, Loop, LoopGC, Stack, VM_Linker, VMLinker
from tlink.linker.wrap import WrapLinker, WrapLinkerMany

__all__ = [
    "VM",
    "Linker",
    "LocalLinker",
    "Loop",
    "LoopGC",
    "PerformLinker",
    "Stack",
    "VMLinker",
    "VM_Linker",
    "WrapLinker",
    "WrapLinkerMany",
    "gc_helper",
    "make_node_thunk",
    "make_py_thunk",
    "map_storage",
    "raise_with_op",
    "register_thunk_maker",
]

"""C thunks for a whole program at once, and the C linkers of Theano 1.0's table.

``make_c_thunks`` is registered as the batch thunk maker of implementation ``"c"``: it
generates the C of every node whose Op and Types have it, compiles them into ONE module
(through the compile cache) and wraps each node in a CThunk; the other nodes (no C code,
an Op with its own ``make_thunk``, or no compiler on the machine) run in Python.

The linkers:

* ``c|py`` / ``c|py_nogc`` (:class:`OpWiseCLinker`): C where there is C, Python elsewhere,
  run by the Python loop, freeing intermediates after their last use unless ``_nogc``;
* ``c`` (:class:`CLinker`): every node in C, or an error naming the Ops that have none;
  keeps intermediate storage between calls, as Theano's;
* ``cvm`` / ``cvm_nogc``: the VM linker (``VMLinker(use_cloop=True)``) with C thunks.
"""

from __future__ import annotations

import ctypes
import functools
import warnings
from collections.abc import Sequence

from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.utils import MethodNotDefined
from tlink.cc import (
    CompilerUnavailable,
    compile_module,
    compiler_available,
    has_libmvec,
    warn_no_compiler_once,
)
from tlink.cc.blas_flags import blas_build_args
from tlink.cc.codegen import NodeC, function_table, module_settings, module_source, node_c
from tlink.errors import TlinkError
from tlink.linker.base import (
    make_thunks,
    map_storage,
    register_batch_thunk_maker,
    register_thunk_maker,
    unique_cells,
)
from tlink.linker.perform import PerformLinker

__all__ = ["CLinker", "MissingCCodeError", "OpWiseCLinker", "c_nodes", "make_c_thunks"]

# Functions glibc's libmvec vectorises: (name, number of arguments).
_VECTOR_MATH = (
    *((n, 1) for n in ("exp", "log", "sin", "cos", "tan", "tanh", "sinh", "cosh", "expm1",
                       "log1p", "log2", "log10", "exp2", "erf", "erfc", "atan", "asin",
                       "acos", "cbrt", "asinh", "acosh", "atanh")),
    *((n, 2) for n in ("pow", "atan2", "hypot")),
)


class MissingCCodeError(TlinkError, TypeError):
    """Linker ``'c'`` was asked to run Ops that have no C implementation."""


@functools.lru_cache(maxsize=1)
def vector_math_declarations() -> str:
    """``#pragma omp declare simd`` prototypes for the libmvec functions present here.

    With these, GCC calls glibc's vector variants (``_ZGVdN8v_expf``...) from loops marked
    ``#pragma omp simd`` without ``-ffast-math``; NaN and Inf still propagate. A function is
    declared only when its vector symbols exist, so linking never fails.
    """
    if not has_libmvec():
        return ""
    try:
        lib = ctypes.CDLL("libmvec.so.1")
    except OSError:
        return ""
    lines = ["/* vector math (glibc libmvec) */"]
    for name, nargs in _VECTOR_MATH:
        v = "v" * nargs
        for cname, ctype, symbol in ((f"{name}f", "float", f"_ZGVdN8{v}_{name}f"),
                                     (name, "double", f"_ZGVdN4{v}_{name}")):
            if hasattr(lib, symbol):
                args = ", ".join([ctype] * nargs)
                lines.append(f"#pragma omp declare simd notinbranch\n"
                             f"extern {ctype} {cname}({args});")
    return "\n".join(lines)


def c_nodes(order: Sequence[Apply]) -> list[NodeC | None]:
    """The C of each node of ``order`` (None where the node must run in Python)."""
    out: list[NodeC | None] = []
    for node in order:
        if getattr(node.op, "make_thunk", None) is not None:
            out.append(None)
            continue
        try:
            code = node_c(node)
        except MethodNotDefined:
            out.append(None)
            continue
        out.append(code)
    return out


def _thunk_class():
    try:
        from tlink.linker._cvm import CThunk
    except ImportError:
        return _PyCThunk
    return CThunk


class _PyCThunk:
    """A C thunk called through the module's ``call_thunk`` (when the Cython VM is absent)."""

    lazy = False
    perform = "c"

    def __init__(self, fn, data, inputs, outputs, node, call):
        self.fn, self.data, self.inputs, self.outputs, self.node = fn, data, inputs, outputs, node
        self._call = call

    def __call__(self):
        self._call(self.fn, self.data)


def make_c_thunks(order: Sequence[Apply], storage_map: dict, compute_map: dict) -> list:
    """C thunks for the nodes of ``order`` that have C code; None for the others.

    The nodes' ``prepare_node`` hooks have run (``make_thunks`` calls them first).
    """
    thunks: list = [None] * len(order)
    if not compiler_available():
        warn_no_compiler_once()
        return thunks
    codes = c_nodes(order)
    chosen = [c for c in codes if c is not None]
    if not chosen:
        return thunks
    _warn_unversioned(chosen)
    settings = module_settings(chosen)
    source = module_source(chosen, vector_math_declarations())
    try:
        blas_compile, blas_link = blas_build_args(source)
        module = compile_module(
            source, include_dirs=settings.header_dirs, library_dirs=settings.lib_dirs,
            libraries=settings.libraries,
            compile_args=[*settings.final_compile_args(), *blas_compile],
            link_args=blas_link, name_hint=_hint(order))
    except CompilerUnavailable:
        warn_no_compiler_once()
        return thunks
    make = _thunk_class()
    table = function_table(chosen)
    for position, code in enumerate(codes):
        if code is None:
            continue
        node = code.node
        inputs = [storage_map[v] for v in node.inputs]
        outputs = [storage_map[v] for v in node.outputs]
        fn, data = module.make_thunk(table[code.run_name], tuple(inputs + outputs))
        if make is _PyCThunk:
            thunk = _PyCThunk(fn, data, inputs, outputs, node, module.call_thunk)
        else:
            thunk = make(fn, data, inputs, outputs, node)
        thunks[position] = thunk
    return thunks


def _hint(order: Sequence[Apply]) -> str:
    names = sorted({type(n.op).__name__ for n in order})
    return f"{len(order)} nodes: {', '.join(names[:6])}{' ...' if len(names) > 6 else ''}"


def _warn_unversioned(codes: Sequence[NodeC]) -> None:
    if not config.cmodule__warn_no_version:
        return
    for code in codes:
        if not code.version[0]:
            warnings.warn(f"{code.node.op} has C code but no c_code_cache_version(); its "
                          "module is compiled again whenever its source changes",
                          stacklevel=3)


class OpWiseCLinker(PerformLinker):
    """``c|py``: C thunks where the Op has C code, Python ``perform`` elsewhere."""

    impl = "c"

    def make_all(self, input_storage=None, output_storage=None, storage_map=None):
        from tlink.linker.base import containers_for, post_thunk_clear_lists
        from tlink.linker.vm import Loop, LoopGC

        self.check_bound()
        fgraph = self.fgraph
        order = self.schedule(fgraph)
        input_storage, output_storage, storage_map = map_storage(
            fgraph, order, input_storage, output_storage, storage_map)
        compute_map = {var: [True] for var in storage_map}
        thunks = make_thunks(order, storage_map, compute_map, self.impl)
        self._check_thunks(order, thunks)
        pre_call_clear = unique_cells(storage_map[v] for v in self.no_recycling
                                      if v in storage_map)
        n_updates = len(fgraph.update_mapping or {})
        if self.effective_allow_gc():
            clears = post_thunk_clear_lists(fgraph, order, storage_map)
            fn = LoopGC(fgraph, order, thunks, pre_call_clear, storage_map, clears,
                        n_updates=n_updates)
        else:
            fn = Loop(fgraph, order, thunks, pre_call_clear, storage_map, n_updates=n_updates)
        ins, outs = containers_for(fgraph, input_storage, output_storage)
        return fn, ins, outs, thunks, order

    def _check_thunks(self, order, thunks) -> None:
        """Nothing to check: any node may run in Python."""


class CLinker(OpWiseCLinker):
    """``c``: the whole program in C; an Op without C code is an error naming it."""

    def __init__(self, allow_gc: bool | None = False, schedule=None):
        super().__init__(allow_gc=allow_gc, schedule=schedule)

    def _check_thunks(self, order, thunks) -> None:
        missing = sorted({str(node.op) for node, th in zip(order, thunks)
                          if getattr(th, "perform", None) != "c"})
        if missing:
            raise MissingCCodeError(
                "linker 'c' needs C code for every node, but these Ops have none (or no C "
                f"compiler is available): {', '.join(missing)}. Use linker 'c|py' or 'cvm', "
                "which run such nodes in Python.")


def _per_node_c(node, storage_map, compute_map, no_recycling):
    """Per-node path of ``impl='c'``: the batch maker already made every C thunk it could."""
    raise MethodNotDefined("C thunks are made for the whole program by make_c_thunks")


register_batch_thunk_maker("c", make_c_thunks)
register_thunk_maker("c", _per_node_c)

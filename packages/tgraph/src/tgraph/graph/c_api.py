"""The C interface of an Op (Theano 1.0's ``CLinkerOp``), as methods with safe defaults.

tgraph never compiles anything: these methods only return C source text and build settings,
which the C linker of tlink reads. An Op that wants a C implementation overrides ``c_code``
(and usually ``c_code_cache_version``); every other method has a default meaning "nothing
extra", so Theano 1.0 Ops that call ``super().c_support_code()`` keep working.

The meaning of each method and of the ``sub`` dictionary passed to ``c_code`` is Theano's:

* ``c_code(node, name, inputs, outputs, sub)``: C statements. ``inputs``/``outputs`` are the
  names of C variables (``PyArrayObject*`` for tensors, ``npy_<dtype>`` for scalars); an
  output variable may hold the previous call's result (reuse it or ``Py_XDECREF`` and replace
  it). ``sub['fail']`` is a statement that jumps out after a Python exception was set;
  ``sub['params']`` names the params object when the Op has params.
* ``c_support_code`` (shared by every node, deduplicated by text), ``c_support_code_apply``
  (per node, may use ``name``), ``c_init_code``/``c_init_code_apply`` (run once when the
  module loads), ``c_code_cleanup`` (after ``c_code``, also on failure).
* ``c_headers``, ``c_header_dirs``, ``c_libraries``, ``c_lib_dirs``, ``c_compile_args``,
  ``c_no_compile_args``: build settings gathered over the whole module.
* ``c_code_cache_version()``: a non-empty tuple, changed whenever the C changes; an empty one
  means "do not cache" (tlink then recompiles each process and warns per
  ``cmodule.warn_no_version``).
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined

__all__ = ["CLinkerObject", "CLinkerOp"]


class CLinkerObject:
    """Build settings and support code common to C Ops and C Types."""

    def c_headers(self, **kwargs) -> list[str]:
        return []

    def c_header_dirs(self, **kwargs) -> list[str]:
        return []

    def c_libraries(self, **kwargs) -> list[str]:
        return []

    def c_lib_dirs(self, **kwargs) -> list[str]:
        return []

    def c_compile_args(self, **kwargs) -> list[str]:
        return []

    def c_no_compile_args(self, **kwargs) -> list[str]:
        return []

    def c_support_code(self, **kwargs) -> str:
        return ""

    def c_init_code(self, **kwargs) -> list[str]:
        return []

    def c_code_cache_version(self) -> tuple:
        return ()


class CLinkerOp(CLinkerObject):
    """The per-node C methods of an Op; ``c_code`` raises until an Op defines it."""

    def c_code(self, node, name: str, inputs: list[str], outputs: list[str], sub: dict) -> str:
        raise MethodNotDefined(f"{type(self).__name__} has no C implementation (c_code)")

    def c_code_cleanup(self, node, name: str, inputs: list[str], outputs: list[str],
                       sub: dict) -> str:
        return ""

    def c_support_code_apply(self, node, name: str) -> str:
        return ""

    def c_init_code_apply(self, node, name: str) -> str:
        return ""

    def c_code_cache_version_apply(self, node) -> tuple:
        """The cache version of this node: the Op's, by default."""
        return self.c_code_cache_version()

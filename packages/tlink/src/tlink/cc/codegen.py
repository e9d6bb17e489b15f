"""C source for the nodes of one compiled function, assembled into one module.

Each node becomes one C function ``int tn_<digest>_run(void *cells)`` that extracts its
inputs from their storage cells, offers the previous outputs for reuse, runs the Op's
``c_code`` and ``c_code_cleanup``, and stores the outputs. The function's name is a digest of
its text, so nodes whose C is the same (the layers of an MLP, the links of a long chain)
share one function: a graph of thousands of nodes compiles as many functions as it has
distinct nodes. All the C nodes of a function go into one module (one compilation, one
shared library) whose text depends only on the graph's structure, never on object ids, so
the same graph gives the same cache key in every process.

OpenMP (flag ``openmp``, overridden by an :class:`~tgraph.graph.op.OpenMPOp`'s own
``openmp`` attribute, as in Theano 1.0): for such a node the Op's ``sub`` carries
``openmp=True`` and ``openmp_elemwise_minsize``, and only then is its module compiled with
``-fopenmp`` and linked with ``-lgomp`` (so the flags, like the parallel C text, enter the
cache key only when used).
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tgraph import config
from tgraph.graph.basic import Apply
from tgraph.graph.op import OpenMPOp
from tgraph.graph.utils import MethodNotDefined
from tlink.cc.compiler import has_openmp
from tlink.cc.prelude import PRELUDE, PRELUDE_VERSION, module_exec
from tlink.cc.types import c_type_for
from tlink.errors import FallbackWarning

__all__ = [
    "BuildSettings",
    "NodeC",
    "OpenMPUnavailableWarning",
    "function_table",
    "module_source",
    "node_c",
    "openmp_enabled",
]

_FAIL_EXTRACT = "{ __failure = 1; goto __fail_vars; }"
# Stands for the node's C name while its text is generated; replaced by the text's digest.
_NAME_TOKEN = "tlinkNODEtoken"
_FAIL_OP = "{ __failure = 1; goto __fail_op; }"


@dataclass
class BuildSettings:
    """Headers, libraries and flags gathered from Ops and Types (order kept, no repeats)."""

    headers: list[str] = field(default_factory=list)
    header_dirs: list[str] = field(default_factory=list)
    libraries: list[str] = field(default_factory=list)
    lib_dirs: list[str] = field(default_factory=list)
    compile_args: list[str] = field(default_factory=list)
    no_compile_args: list[str] = field(default_factory=list)

    def merge(self, other: BuildSettings) -> None:
        for name in ("headers", "header_dirs", "libraries", "lib_dirs", "compile_args",
                     "no_compile_args"):
            mine = getattr(self, name)
            mine.extend(x for x in getattr(other, name) if x not in mine)

    def final_compile_args(self) -> list[str]:
        return [a for a in self.compile_args if a not in self.no_compile_args]


@dataclass
class NodeC:
    """The C of one node: its run function and what the module needs for it."""

    node: Apply
    run_name: str
    run_code: str
    support: list[str]
    support_apply: str
    init: list[str]
    settings: BuildSettings
    version: tuple
    n_cells: int


class OpenMPUnavailableWarning(FallbackWarning):
    """``openmp`` is on but the compiler cannot build OpenMP code: loops stay serial."""


_openmp_warned = threading.Event()


def openmp_enabled(op) -> bool:
    """Whether ``op``'s C code is generated and built for OpenMP.

    Only OpenMPOps; their ``openmp`` attribute wins over flag ``openmp`` unless it is None.
    When the compiler cannot build OpenMP code, warns once and says False.
    """
    if not isinstance(op, OpenMPOp):
        return False
    wanted = op.openmp if getattr(op, "openmp", None) is not None else config.openmp
    if not wanted:
        return False
    if has_openmp():
        return True
    if not _openmp_warned.is_set():
        _openmp_warned.set()
        warnings.warn(f"openmp is on but {config.cxx!r} cannot build OpenMP code (-fopenmp "
                      "-lgomp failed); element-wise loops run serially", OpenMPUnavailableWarning,
                      stacklevel=2)
    return False


def _settings_of(obj) -> BuildSettings:
    def get(method: str) -> list[str]:
        fn = getattr(obj, method, None)
        return list(fn()) if fn is not None else []

    return BuildSettings(get("c_headers"), get("c_header_dirs"), get("c_libraries"),
                         get("c_lib_dirs"), get("c_compile_args"), get("c_no_compile_args"))


def node_c(node: Apply) -> NodeC:
    """The C for ``node``, named after a digest of its text (equal text, one function).

    Raises MethodNotDefined when the Op has no C code (for these inputs) or a variable's
    Type cannot enter C; the linker then runs the node in Python.
    """
    op = node.op
    try:
        params = node.run_params()
    except MethodNotDefined:
        params = None
    if params is not None:
        raise MethodNotDefined(f"{op}: Ops with params have no C path yet")
    name = _NAME_TOKEN
    variables = [*node.inputs, *node.outputs]
    n_in = len(node.inputs)
    cvars = [f"V_{j}" for j in range(len(variables))]
    codes = []
    for j, (var, cname) in enumerate(zip(variables, cvars)):
        role = f"input {j}" if j < n_in else f"output {j - n_in}"
        what = f"{op}: {role} ({var.type})"
        adapter = c_type_for(var.type)
        fail = _FAIL_EXTRACT
        codes.append(adapter.code(var.type, cname, f"cells[{j}]", fail, what))
    openmp = openmp_enabled(op)
    sub = {"fail": _FAIL_OP, "name": name, "id": 0, "openmp": openmp}
    if openmp:
        sub["openmp_elemwise_minsize"] = int(config.openmp_elemwise_minsize)
    in_names, out_names = cvars[:n_in], cvars[n_in:]
    body = op.c_code(node, name, in_names, out_names, sub)
    cleanup = op.c_code_cleanup(node, name, in_names, out_names, sub)
    declares = "".join(c.declare for c in codes)
    extracts = "".join(c.extract for c in codes[:n_in])
    reuses = "".join(c.reuse for c in codes[n_in:])
    syncs = "".join(c.sync for c in codes[n_in:])
    var_cleanup = "".join(c.cleanup for c in codes)
    run_name = f"{name}_run"
    run_code = f"""
/* {_comment(str(op))} */
static int {run_name}(void *tlink_data) {{
    PyObject **cells = ((tlink_cells *)tlink_data)->cells;
    int __failure = 0;
{_indent(declares)}
{_indent(extracts)}
{_indent(reuses)}
    {{
{_indent(body, 8)}
    }}
__fail_op: ;
    {{
{_indent(cleanup, 8)}
    }}
    if (__failure) goto __fail_vars;
{_indent(syncs)}
__fail_vars: ;
{_indent(var_cleanup)}
    return __failure;
}}
"""
    settings = _settings_of(op)
    for var in variables:
        settings.merge(_settings_of(var.type))
    if openmp:
        settings.merge(BuildSettings(compile_args=["-fopenmp"], libraries=["gomp"]))
    support = [op.c_support_code()]
    support.extend(getattr(var.type, "c_support_code", lambda: "")() for var in variables)
    init = list(op.c_init_code())
    apply_init = op.c_init_code_apply(node, name)
    if apply_init:
        init.append(apply_init)
    version = (op.c_code_cache_version_apply(node), *(c.version for c in codes))
    support_apply = op.c_support_code_apply(node, name)
    digest = hashlib.sha1("\0".join([run_code, support_apply, *init]).encode()).hexdigest()
    cname = f"tn_{digest[:16]}"
    init = [i.replace(_NAME_TOKEN, cname) for i in init]
    return NodeC(node, run_name.replace(_NAME_TOKEN, cname),
                 run_code.replace(_NAME_TOKEN, cname), [s for s in support if s],
                 support_apply.replace(_NAME_TOKEN, cname), init, settings, version,
                 len(variables))


def module_source(nodes: Sequence[NodeC], extra_declarations: str = "") -> str:
    """One module's complete C text (less the boilerplate that compile_module adds)."""
    settings = BuildSettings()
    for n in nodes:
        settings.merge(n.settings)
    parts = [f"/* generated by tlink; prelude version {PRELUDE_VERSION} */", PRELUDE]
    parts.extend(_include(h) for h in settings.headers)
    if extra_declarations:
        parts.append(extra_declarations)
    parts.extend(_unique(s for n in nodes for s in n.support))
    distinct = list({n.run_name: n for n in nodes}.values())
    parts.extend(n.support_apply for n in distinct if n.support_apply)
    parts.extend(n.run_code for n in distinct)
    parts.append(module_exec([n.run_name for n in distinct], [n.n_cells for n in distinct],
                             _unique(i for n in distinct for i in n.init)))
    return "\n".join(parts)


def function_table(nodes: Sequence[NodeC]) -> dict[str, int]:
    """Each distinct run function's position in the module's table (as module_source lays
    it out): the ``k`` that ``make_thunk(k, cells)`` takes."""
    table: dict[str, int] = {}
    for n in nodes:
        table.setdefault(n.run_name, len(table))
    return table


def module_settings(nodes: Iterable[NodeC]) -> BuildSettings:
    """The union of the nodes' build settings."""
    settings = BuildSettings()
    for n in nodes:
        settings.merge(n.settings)
    return settings


def _include(header: str) -> str:
    header = header.strip()
    if header.startswith(("<", '"')):
        return f"#include {header}"
    return f"#include <{header}>"


def _unique(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in texts:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _indent(text: str, spaces: int = 4) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())


def _comment(text: str) -> str:
    return text.replace("*/", "* /")

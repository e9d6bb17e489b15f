"""Test harness: run a scalar op's C code over NumPy arrays, beside its Python implementation.

For a batch of cases (a scalar op and its input dtypes), :func:`build` writes ONE C module
with two functions per case, ``case<k>_plain`` and ``case<k>_simd``: each takes the input
arrays and the output arrays (contiguous, of the node's dtypes, one length) and runs a loop
whose body is the op's ``c_code``, the second under ``#pragma omp simd`` as the Elemwise
generator's contiguous path does (with the linker's libmvec declarations, so vectorised
math is what gets tested). One module per batch keeps the compile count low.

:func:`python_reference` is what the Python path computes for the same arrays: the op's
``vectorized`` cast to the output dtypes, as ``Elemwise.perform`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tgraph.graph.basic import Apply
from tgraph.scalar.type import get_scalar_type
from tlink.cc import compile_module
from tlink.cc.clinker import vector_math_declarations


@dataclass
class Case:
    """One scalar op applied to inputs of ``dtypes``; ``node`` is its scalar Apply."""

    op: object
    dtypes: tuple[str, ...]
    label: str = ""
    node: Apply = field(init=False)

    def __post_init__(self):
        self.node = self.op.make_node(*[get_scalar_type(d).make_variable() for d in self.dtypes])
        if not self.label:
            self.label = f"{self.op}-{'-'.join(self.dtypes)}"

    @property
    def out_dtypes(self) -> list[str]:
        return [o.type.dtype for o in self.node.outputs]


def _function(k: int, case: Case, simd: bool) -> str:
    node = case.node
    nin, nout = len(node.inputs), len(node.outputs)
    name = f"case{k}_{'simd' if simd else 'plain'}"
    in_t = [v.type.c_type for v in node.inputs]
    out_t = [v.type.c_type for v in node.outputs]
    ins = [f"h{k}_a{i}" for i in range(nin)]
    outs = [f"h{k}_r{j}" for j in range(nout)]
    body = case.op.c_code(node, f"h{k}_s", ins, outs,
                          {"fail": "{ /* scalar C must not fail */ }", "name": f"h{k}"})
    lines = [f"static PyObject *{name}(PyObject *self, PyObject *args) {{",
             f"    PyArrayObject *arr[{nin + nout}];",
             "    npy_intp n;",
             f"    if (harness_arrays(args, {nin + nout}, arr, &n) < 0) return NULL;"]
    for i, t in enumerate(in_t):
        lines.append(f"    const {t} *p{i} = (const {t} *)PyArray_DATA(arr[{i}]);")
    for j, t in enumerate(out_t):
        lines.append(f"    {t} *q{j} = ({t} *)PyArray_DATA(arr[{nin + j}]);")
    if simd:
        lines.append("    #pragma omp simd")
    lines.append("    for (npy_intp i = 0; i < n; ++i) {")
    for i, (t, a) in enumerate(zip(in_t, ins)):
        lines.append(f"        {t} {a} = p{i}[i];")
    for t, r in zip(out_t, outs):
        lines.append(f"        {t} {r};")
    lines.append("        {\n" + body + "\n        }")
    for j, r in enumerate(outs):
        lines.append(f"        q{j}[i] = {r};")
    lines += ["    }", "    Py_RETURN_NONE;", "}"]
    return "\n".join(lines)


_PRELUDE = r"""
#include <numpy/arrayobject.h>
#include <math.h>
/* args: a tuple of `count` aligned, contiguous, writeable arrays of one size (checked) */
static int harness_arrays(PyObject *args, int count, PyArrayObject **arr, npy_intp *n) {
    int i;
    if (!PyTuple_Check(args) || PyTuple_GET_SIZE(args) != count) {
        PyErr_Format(PyExc_TypeError, "expected %d arrays", count);
        return -1;
    }
    for (i = 0; i < count; ++i) {
        PyObject *o = PyTuple_GET_ITEM(args, i);
        if (!PyArray_Check(o) || !PyArray_ISCARRAY((PyArrayObject *)o)) {
            PyErr_Format(PyExc_TypeError, "argument %d: expected a C-contiguous array", i);
            return -1;
        }
        arr[i] = (PyArrayObject *)o;
        if (i > 0 && PyArray_SIZE(arr[i]) != PyArray_SIZE(arr[0])) {
            PyErr_Format(PyExc_ValueError, "argument %d: size differs", i);
            return -1;
        }
    }
    *n = PyArray_SIZE(arr[0]);
    return 0;
}
"""


@dataclass
class Built:
    """A compiled batch: ``run(k, arrays, simd)`` returns case k's outputs."""

    module: object
    cases: list[Case]

    def run(self, k: int, arrays: Sequence[np.ndarray], simd: bool) -> list[np.ndarray]:
        case = self.cases[k]
        ins = [np.ascontiguousarray(a, dtype=d) for a, d in zip(arrays, case.dtypes)]
        n = ins[0].size
        outs = [np.empty(n, dtype=d) for d in case.out_dtypes]
        getattr(self.module, f"case{k}_{'simd' if simd else 'plain'}")(*ins, *outs)
        return outs


def build(cases: Sequence[Case], hint: str = "scalar ops") -> Built:
    """Compile every case into one module (support code and headers deduplicated)."""
    headers: list[str] = []
    support: list[str] = []
    libraries: list[str] = []
    compile_args: list[str] = []
    parts = []
    for k, case in enumerate(cases):
        op = case.op
        for h in op.c_headers():
            if h not in headers:
                headers.append(h)
        for text in (op.c_support_code(), op.c_support_code_apply(case.node, f"h{k}_s")):
            if text and text not in support:
                support.append(text)
        libraries += [lib for lib in op.c_libraries() if lib not in libraries]
        compile_args += [a for a in op.c_compile_args() if a not in compile_args]
        parts.append(_function(k, case, simd=False))
        parts.append(_function(k, case, simd=True))
    includes = [h if h.startswith(("<", '"')) else f"<{h}>" for h in headers]
    methods = ",\n".join(
        f'    {{"case{k}_{v}", case{k}_{v}, METH_VARARGS, NULL}}'
        for k in range(len(cases)) for v in ("plain", "simd"))
    code = "\n".join([
        _PRELUDE,
        *(f"#include {h}" for h in includes),
        vector_math_declarations(),
        *support,
        *parts,
        f"static PyMethodDef harness_methods[] = {{\n{methods},\n    {{NULL, NULL, 0, NULL}}\n}};",
        "static int tlink_exec(PyObject *module) {",
        "    import_array1(-1);",
        "    return PyModule_AddFunctions(module, harness_methods);",
        "}",
    ])
    module = compile_module(code, libraries=libraries, compile_args=compile_args,
                            name_hint=hint)
    return Built(module, list(cases))


def python_reference(case: Case, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The op's Python result on these arrays, cast to the output dtypes (Elemwise's way)."""
    ins = [np.asarray(a, dtype=d) for a, d in zip(arrays, case.dtypes)]
    with np.errstate(all="ignore"):
        res = case.op.vectorized(*ins)
        if len(case.out_dtypes) == 1:
            res = (res,)
        n = ins[0].size
        return [np.broadcast_to(np.asarray(r).astype(d), (n,)).copy()
                for r, d in zip(res, case.out_dtypes)]

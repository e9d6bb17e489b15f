"""C code of Elemwise and DimShuffle (text only: tlink compiles it).

Elemwise loops come in two shapes, chosen at run time:

* the **contiguous path**: every output and every input that is not broadcastable in all
  dimensions is C-contiguous with the output's size. It is one flat loop carrying
  ``#pragma omp simd``, with inputs known at compile time to be scalars (broadcastable in
  every dimension, such as the ``1`` of ``1 + exp(x)``) read once before the loop. Built with
  ``-fopenmp-simd`` and glibc's vector math, transcendental functions vectorise too;
* the **strided path**: nested loops over the output's dimensions with byte strides, an
  input's stride being 0 along a dimension where it is broadcast. When every array that
  moves along the last dimension is contiguous there (a matrix plus a broadcast row), the
  innermost loop uses typed pointers under ``#pragma omp simd`` and vectorises too.

With OpenMP (the linker sets ``sub["openmp"]``, from flag ``openmp`` or the Op's own
``openmp``), the contiguous loop is split in blocks of :data:`OPENMP_BLOCK` elements, run
by ``#pragma omp parallel for ... if(n >= openmp_elemwise_minsize)`` with ``#pragma omp
simd`` inside each block. Below the threshold the same loop runs in the calling thread. As
every element is computed by the same code whichever thread runs its block (vector body
and scalar remainder fall at the same indices), results are bitwise those of a serial run.

Shapes are checked with Theano's rule (as ``Elemwise.perform``): sizes must agree, except
that a size-1 dimension is repeated; a size-1 dimension that is not declared broadcastable
is an error unless the output is empty there. The message names every input's shape.

The scalar op's own ``c_code`` computes one element; its inputs and outputs are local
scalars of the element types (``dtype_<var>``), so any scalar op with C code (Composite
included) works here.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar.type import get_scalar_type
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = [
    "ELEMWISE_C_VERSION",
    "ELEMWISE_SUPPORT",
    "OPENMP_BLOCK",
    "dimshuffle_c_code",
    "elemwise_c_code",
    "scalar_node_for",
]

ELEMWISE_C_VERSION = (4,)

#: Elements per OpenMP work item: a multiple of every vector width, large enough that
#: scheduling costs nothing next to the work (Theano 1.0 scheduled single elements).
OPENMP_BLOCK = 8192

ELEMWISE_SUPPORT = SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_ELEMWISE_SUPPORT
#define TGRAPH_ELEMWISE_SUPPORT
/* "input dimension mismatch: input 0 has shape (2, 3), input 1 has shape (4, 3)" */
static void tgraph_elemwise_mismatch(const char *op, int n, PyArrayObject **arrays,
                                     const char *detail) {
    PyObject *parts = PyList_New(0), *sep = NULL, *joined = NULL;
    int i;
    if (parts == NULL) return;
    for (i = 0; i < n; ++i) {
        PyObject *dims = tgraph_new_shape_tuple(arrays[i]);
        PyObject *text;
        if (dims == NULL) goto done;
        text = PyUnicode_FromFormat("input %d has shape %R", i, dims);
        Py_DECREF(dims);
        if (text == NULL || PyList_Append(parts, text) < 0) { Py_XDECREF(text); goto done; }
        Py_DECREF(text);
    }
    sep = PyUnicode_FromString(", ");
    if (sep == NULL) goto done;
    joined = PyUnicode_Join(sep, parts);
    if (joined == NULL) goto done;
    PyErr_Format(PyExc_ValueError, "%s: input dimension mismatch: %U%s", op, joined, detail);
done:
    Py_XDECREF(parts);
    Py_XDECREF(sep);
    Py_XDECREF(joined);
}
#endif
"""


def scalar_node_for(scalar_op, node):
    """The scalar Apply computing one element of ``node`` (an Elemwise node)."""
    return scalar_op.make_node(
        *[get_scalar_type(v.type.dtype).make_variable() for v in node.inputs])


def _c_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def elemwise_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                    sub: dict) -> str:
    """The C of one Elemwise node (see the module docstring)."""
    ndim = node.outputs[0].type.ndim
    nin = len(inputs)
    for var in [*node.inputs, *node.outputs]:
        if var.type.dtype == "float16":
            raise MethodNotDefined(f"{op}: float16 has no C loop")
    snode = scalar_node_for(op.scalar_op, node)
    s_in = [f"{name}_a{i}" for i in range(nin)]
    s_out = [f"{name}_r{j}" for j in range(len(outputs))]
    scalar_code = op.scalar_op.c_code(snode, f"{name}_s", s_in, s_out, sub)
    fail = sub["fail"]
    opname = _c_str(str(op))
    scalar_in = [all(v.type.broadcastable) and ndim > 0 for v in node.inputs]
    lines = [f"PyArrayObject *{name}_ins[{max(nin, 1)}] = {{{', '.join(inputs) or 'NULL'}}};",
             f"npy_intp {name}_dims[{max(ndim, 1)}];"]
    # -- the output shape, with Theano's broadcasting rule
    for d in range(ndim):
        lines.append("{ npy_intp s = 1;")
        for x in inputs:
            lines.append(f"  if (PyArray_DIM({x}, {d}) != 1) {{"
                         f" if (s != 1 && s != PyArray_DIM({x}, {d})) {{"
                         f" tgraph_elemwise_mismatch({opname}, {nin}, {name}_ins, \"\"); {fail} }}"
                         f" s = PyArray_DIM({x}, {d}); }}")
        for x, var in zip(inputs, node.inputs):
            if not var.type.broadcastable[d]:
                detail = _c_str(
                    f" (dimension {d} of input {inputs.index(x)} has size 1 but is not "
                    "declared broadcastable; Theano only broadcasts dimensions declared "
                    "broadcastable: use a row/col type, dimshuffle('x', ...) or addbroadcast)")
                lines.append(f"  if (s > 1 && PyArray_DIM({x}, {d}) == 1) {{"
                             f" tgraph_elemwise_mismatch({opname}, {nin}, {name}_ins, {detail});"
                             f" {fail} }}")
        lines.append(f"  {name}_dims[{d}] = s; }}")
    # -- the outputs: in place, reused, or new
    for j, z in enumerate(outputs):
        if j in op.inplace_pattern:
            x = inputs[op.inplace_pattern[j]]
            lines.append(f"if (!PyArray_CompareLists(PyArray_DIMS({x}), {name}_dims, {ndim})) {{"
                         f" tgraph_elemwise_mismatch({opname}, {nin}, {name}_ins,"
                         f" \" (the input computed in place must have the output's shape)\");"
                         f" {fail} }}")
            lines.append(f"Py_XDECREF({z}); {z} = {x}; Py_INCREF({z});")
        else:
            lines.append(f"if ({z} == NULL || !PyArray_IS_C_CONTIGUOUS({z}) ||"
                         f" !PyArray_CompareLists(PyArray_DIMS({z}), {name}_dims, {ndim})) {{")
            lines.append(f"  Py_XDECREF({z});")
            lines.append(f"  {z} = (PyArrayObject *)PyArray_EMPTY({ndim}, {name}_dims,"
                         f" type_num_{z}, 0);")
            lines.append(f"  if ({z} == NULL) {fail}")
            lines.append("}")
    lines.append(f"npy_intp {name}_n = PyArray_SIZE({outputs[0]});")
    element = _element_code(name, inputs, outputs, s_in, s_out, scalar_code)
    if ndim == 0:
        lines.append(_flat_loop(name, inputs, outputs, [True] * nin, element, simd=False))
        return "\n".join(lines)
    contiguous = [f"PyArray_IS_C_CONTIGUOUS({z})" for z in outputs]
    contiguous += [f"(PyArray_IS_C_CONTIGUOUS({x}) && PyArray_SIZE({x}) == {name}_n)"
                   for x, sc in zip(inputs, scalar_in) if not sc]
    lines.append(f"if ({' && '.join(contiguous)}) {{")
    minsize = sub.get("openmp_elemwise_minsize") if sub.get("openmp") else None
    lines.append(_flat_loop(name, inputs, outputs, scalar_in, element, simd=True,
                            parallel_minsize=minsize))
    lines.append("} else {")
    inner_bcast = [v.type.broadcastable[-1] for v in node.inputs]
    lines.append(_strided_loops(name, ndim, inputs, outputs, element, inner_bcast))
    lines.append("}")
    return "\n".join(lines)


def _element_code(name, inputs, outputs, s_in, s_out, scalar_code) -> dict:
    """Pieces of the per-element body, filled by the loop generators."""
    return {"decl_out": "".join(f"dtype_{z} {r}; " for z, r in zip(outputs, s_out)),
            "scalar": scalar_code, "s_in": s_in, "s_out": s_out,
            "in_types": [f"dtype_{x}" for x in inputs],
            "out_types": [f"dtype_{z}" for z in outputs]}


def _flat_loop(name, inputs, outputs, scalar_in, el, simd: bool,
               parallel_minsize: int | None = None) -> str:
    lines = ["{"]
    for k, (x, sc, t) in enumerate(zip(inputs, scalar_in, el["in_types"])):
        lines.append(f"  const {t} *{name}_p{k} = (const {t} *)PyArray_DATA({x});")
        if sc:
            lines.append(f"  const {t} {name}_c{k} = {name}_p{k}[0];")
    for k, (z, t) in enumerate(zip(outputs, el["out_types"])):
        lines.append(f"  {t} *{name}_q{k} = ({t} *)PyArray_DATA({z});")
    lo, hi, close = "0", f"{name}_n", "  }"
    if parallel_minsize is not None:
        b = OPENMP_BLOCK
        lines.append(f"  const npy_intp {name}_nblk = ({name}_n + {b} - 1) / {b};")
        lines.append(f"  #pragma omp parallel for schedule(static)"
                     f" if({name}_n >= {int(parallel_minsize)})")
        lines.append(f"  for (npy_intp {name}_blk = 0; {name}_blk < {name}_nblk; ++{name}_blk) {{")
        lines.append(f"  const npy_intp {name}_lo = {name}_blk * {b};")
        lines.append(f"  const npy_intp {name}_hi = {name}_n - {name}_lo < {b} ?"
                     f" {name}_n : {name}_lo + {b};")
        lo, hi, close = f"{name}_lo", f"{name}_hi", "  }\n  }"
    if simd:
        lines.append("  #pragma omp simd")
    lines.append(f"  for (npy_intp i = {lo}; i < {hi}; ++i) {{")
    for k, (sc, t, a) in enumerate(zip(scalar_in, el["in_types"], el["s_in"])):
        src = f"{name}_c{k}" if sc else f"{name}_p{k}[i]"
        lines.append(f"    {t} {a} = {src};")
    lines.append(f"    {el['decl_out']}")
    lines.append("    {\n" + el["scalar"] + "\n    }")
    for k, r in enumerate(el["s_out"]):
        lines.append(f"    {name}_q{k}[i] = {r};")
    lines.append(close)
    lines.append("}")
    return "\n".join(lines)


def _strided_loops(name, ndim, inputs, outputs, el, inner_bcast=None) -> str:
    """Nested loops with byte strides. The innermost loop has a second form, taken when
    every array that moves along the last dimension is contiguous there (a matrix plus a
    broadcast row, a transposed operand's rows...): typed pointers under ``#pragma omp
    simd``, so it vectorises (vector math included) as the contiguous path does.
    ``inner_bcast[k]``: input k is declared broadcastable in the last dimension (constant
    along the innermost loop)."""
    arrays = [*inputs, *outputs]
    nin = len(inputs)
    types = [*el["in_types"], *el["out_types"]]
    if inner_bcast is None:
        inner_bcast = [False] * nin
    moving = [k for k in range(len(arrays)) if k >= nin or not inner_bcast[k]]
    last = ndim - 1
    lines = ["{"]
    for k, a in enumerate(arrays):
        lines.append(f"  char *{name}_b{k}_0 = PyArray_BYTES({a});")
        lines.append(f"  npy_intp {name}_st{k}[{ndim}];")
        for d in range(ndim):
            lines.append(f"  {name}_st{k}[{d}] = PyArray_DIM({a}, {d}) == 1 ? 0 :"
                         f" PyArray_STRIDE({a}, {d});")
    unit = " && ".join(f"{name}_st{k}[{last}] == (npy_intp)sizeof({types[k]})"
                       for k in moving) or "1"
    lines.append(f"  const int {name}_unit = {name}_dims[{last}] <= 1 || ({unit});")
    indent = "  "
    for d in range(last):
        lines.append(f"{indent}for (npy_intp i{d} = 0; i{d} < {name}_dims[{d}]; ++i{d}) {{")
        indent += "  "
        for k in range(len(arrays)):
            lines.append(f"{indent}char *{name}_b{k}_{d + 1} = {name}_b{k}_{d} +"
                         f" i{d} * {name}_st{k}[{d}];")
    # -- innermost dimension, unit strides: typed pointers, vectorised
    lines.append(f"{indent}if ({name}_unit) {{")
    inner = indent + "  "
    for k in range(nin):
        t = types[k]
        if k in moving:
            lines.append(f"{inner}const {t} *{name}_u{k} = (const {t} *){name}_b{k}_{last};")
        else:
            lines.append(f"{inner}const {t} {name}_u{k} = *(const {t} *){name}_b{k}_{last};")
    for k in range(nin, len(arrays)):
        t = types[k]
        lines.append(f"{inner}{t} *{name}_u{k} = ({t} *){name}_b{k}_{last};")
    lines.append(f"{inner}#pragma omp simd")
    lines.append(f"{inner}for (npy_intp i{last} = 0; i{last} < {name}_dims[{last}];"
                 f" ++i{last}) {{")
    body = inner + "  "
    for k, (t, a) in enumerate(zip(el["in_types"], el["s_in"])):
        src = f"{name}_u{k}[i{last}]" if k in moving else f"{name}_u{k}"
        lines.append(f"{body}{t} {a} = {src};")
    lines.append(f"{body}{el['decl_out']}")
    lines.append(f"{body}{{\n{el['scalar']}\n{body}}}")
    for k, r in enumerate(el["s_out"]):
        lines.append(f"{body}{name}_u{nin + k}[i{last}] = {r};")
    lines.append(f"{inner}}}")
    # -- innermost dimension, any strides
    lines.append(f"{indent}}} else {{")
    lines.append(f"{inner}for (npy_intp i{last} = 0; i{last} < {name}_dims[{last}];"
                 f" ++i{last}) {{")
    for k in range(len(arrays)):
        lines.append(f"{body}char *{name}_b{k}_{ndim} = {name}_b{k}_{last} +"
                     f" i{last} * {name}_st{k}[{last}];")
    for k, (t, a) in enumerate(zip(el["in_types"], el["s_in"])):
        lines.append(f"{body}{t} {a} = *(const {t} *){name}_b{k}_{ndim};")
    lines.append(f"{body}{el['decl_out']}")
    lines.append(f"{body}{{\n{el['scalar']}\n{body}}}")
    for k, (t, r) in enumerate(zip(el["out_types"], el["s_out"])):
        lines.append(f"{body}*({t} *){name}_b{nin + k}_{ndim} = {r};")
    lines.append(f"{inner}}}")
    lines.append(f"{indent}}}")
    for _ in range(last):
        indent = indent[:-2]
        lines.append(f"{indent}}}")
    lines.append("}")
    return "\n".join(lines)


def dimshuffle_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                      sub: dict) -> str:
    """A view with permuted, inserted ('x') and dropped dimensions; a copy if not inplace."""
    (x,), (z,) = inputs, outputs
    nd = len(op.new_order)
    fail = sub["fail"]
    lines = [f"npy_intp {name}_dims[{max(nd, 1)}], {name}_strides[{max(nd, 1)}];"]
    for k, j in enumerate(op.new_order):
        if j == "x":
            lines.append(f"{name}_dims[{k}] = 1; {name}_strides[{k}] = 0;")
        else:
            lines.append(f"{name}_dims[{k}] = PyArray_DIM({x}, {j});"
                         f" {name}_strides[{k}] = PyArray_STRIDE({x}, {j});")
    lines += [
        f"Py_XDECREF({z});",
        f"Py_INCREF(PyArray_DESCR({x}));",
        f"{z} = (PyArrayObject *)PyArray_NewFromDescr(&PyArray_Type, PyArray_DESCR({x}),"
        f" {nd}, {name}_dims, {name}_strides, PyArray_DATA({x}),"
        f" PyArray_FLAGS({x}) & (NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED), NULL);",
        f"if ({z} == NULL) {fail}",
        f"Py_INCREF({x});",
        f"if (PyArray_SetBaseObject({z}, (PyObject *){x}) < 0) {{"
        f" Py_DECREF({z}); {z} = NULL; {fail} }}",
        f"PyArray_UpdateFlags({z}, NPY_ARRAY_C_CONTIGUOUS | NPY_ARRAY_F_CONTIGUOUS);",
    ]
    if not op.inplace:
        lines += [
            "{",
            f"  PyArrayObject *{name}_copy = (PyArrayObject *)PyArray_NewCopy({z}, NPY_CORDER);",
            f"  Py_DECREF({z}); {z} = {name}_copy;",
            f"  if ({z} == NULL) {fail}",
            "}",
        ]
    return "\n".join(lines)

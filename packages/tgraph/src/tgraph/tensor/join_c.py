"""C code of Join (concatenate) — text only: tlink compiles it.

As ``perform``: the axis (an integer scalar input, negative counting from the end) is
checked against the inputs' rank, every other dimension must match input 0's (the same
IndexError/ValueError texts), ``view=i`` returns input ``i`` itself when all the others are
empty along the axis, and otherwise a new C-ordered array of the node's dtype is filled
input by input. Each input is copied with ``PyArray_CopyInto`` into a view of its slot in
the output: any layout, and NumPy's unsafe cast (``np.concatenate(..., casting="unsafe")``)
when an input's dtype is not the output's.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["JOIN_C_VERSION", "JOIN_SUPPORT", "join_c_code"]

JOIN_C_VERSION = (2,)

JOIN_SUPPORT = SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_JOIN_SUPPORT
#define TGRAPH_JOIN_SUPPORT
/* Copy src into z's slot starting at offset along axis (a view of z, then CopyInto). */
static int tgraph_join_copy(PyArrayObject *z, PyArrayObject *src, int axis, npy_intp offset) {
    PyArrayObject *view;
    int r;
    if (PyArray_SIZE(src) == 0) return 0;
    Py_INCREF(PyArray_DESCR(z));
    view = (PyArrayObject *)PyArray_NewFromDescr(
        &PyArray_Type, PyArray_DESCR(z), PyArray_NDIM(src), PyArray_DIMS(src),
        PyArray_STRIDES(z), PyArray_BYTES(z) + offset * PyArray_STRIDE(z, axis),
        NPY_ARRAY_WRITEABLE | NPY_ARRAY_ALIGNED, NULL);
    if (view == NULL) return -1;
    r = PyArray_CopyInto(view, src);
    Py_DECREF(view);
    return r;
}
#endif
"""


def join_c_code(op, node, name: str, inputs: list[str], outputs: list[str], sub: dict) -> str:
    """The C of one Join node (see the module docstring)."""
    axis_var, tensors = inputs[0], inputs[1:]
    (z,) = outputs
    nd = node.inputs[1].type.ndim
    fail = sub["fail"]
    ax = f"{name}_ax"
    lines = [
        f"npy_int64 {ax} = (npy_int64)(*(dtype_{axis_var} *)PyArray_DATA({axis_var}));",
        f"if ({ax} < -{nd} || {ax} >= {nd}) {{",
        f"  PyErr_Format(PyExc_IndexError, \"{op}: axis %lld is out of range for {nd}-d"
        f" tensors\", (long long){ax});",
        f"  {fail}",
        "}",
        f"if ({ax} < 0) {ax} += {nd};",
    ]
    t0 = tensors[0]
    for k, t in enumerate(tensors[1:], start=1):
        lines += [
            f"for (int {name}_d = 0; {name}_d < {nd}; ++{name}_d) {{",
            f"  if ({name}_d != {ax} && PyArray_DIM({t}, {name}_d) != PyArray_DIM({t0},"
            f" {name}_d)) {{",
            f"    PyErr_Format(PyExc_ValueError, \"{op}: input {k} has shape %R but input 0"
            f" has shape %R; all dimensions except the join axis %d must match\","
            f" tgraph_shape_tuple({t}), tgraph_shape_tuple({t0}), (int){ax});",
            f"    {fail}",
            "  }",
            "}",
        ]
    total = " + ".join(f"PyArray_DIM({t}, {ax})" for t in tensors)
    fill = [f"npy_intp {name}_off = 0;"]
    for t in tensors:
        fill += [f"if (tgraph_join_copy({z}, {t}, (int){ax}, {name}_off) < 0) {fail}",
                 f"{name}_off += PyArray_DIM({t}, {ax});"]
    reusable = " && ".join([f"{z} != NULL", f"PyArray_IS_C_CONTIGUOUS({z})",
                            f"PyArray_CompareLists(PyArray_DIMS({z}), {name}_od, {nd})",
                            *(f"{z} != {t}" for t in tensors)])
    alloc = [
        "{",
        f"  npy_intp {name}_od[{nd}];",
        f"  for (int {name}_d = 0; {name}_d < {nd}; ++{name}_d)"
        f" {name}_od[{name}_d] = PyArray_DIM({t0}, {name}_d);",
        f"  {name}_od[{ax}] = {total};",
        f"  if (!({reusable})) {{",
        f"    Py_XDECREF({z});",
        f"    {z} = (PyArrayObject *)PyArray_EMPTY({nd}, {name}_od, type_num_{z}, 0);",
        f"    if ({z} == NULL) {fail}",
        "  }",
        *("  " + f for f in fill),
        "}",
    ]
    if op.view == -1:
        return "\n".join(lines + alloc)
    view = op.view
    if not 0 <= view < len(tensors) or (node.inputs[1 + view].type.dtype
                                        != node.outputs[0].type.dtype):
        raise MethodNotDefined(f"{op}: the viewed input cannot be the output; left to perform")
    others = " && ".join(f"PyArray_DIM({t}, {ax}) == 0"
                         for k, t in enumerate(tensors) if k != view) or "1"
    vt = tensors[view]
    return "\n".join([
        *lines,
        f"if ({others}) {{",
        f"  Py_XDECREF({z}); {z} = {vt}; Py_INCREF({z});",
        "} else",
        *alloc,
    ])

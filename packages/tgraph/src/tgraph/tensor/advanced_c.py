"""C code of AdvancedSubtensor1 and AdvancedIncSubtensor1 (text only: tlink compiles it).

``x[idx]`` along axis 0 for an integer vector ``idx``, and ``x`` with those rows
incremented (repeats accumulate, in index order, as ``np.add.at``) or set (the last write
wins, as ``x[idx] = y``) by ``y`` broadcast to the rows' shape. Both match ``perform``:
negative indices count from the end; an index out of range raises ``perform``'s
IndexError with the same text, before anything is written; a ``y`` that does not
broadcast raises NumPy's ValueError, wrapped as ``perform`` wraps it. The checks run in
NumPy's order (a set checks the shapes first, an increment the indices).

Rows are copied with ``memcpy`` when both sides hold them contiguously, else by strided
loops (any strides: Fortran, reversed, broadcast ``y``). Integer sums wrap as NumPy's do;
a bool increment is a logical or (NumPy's ``add`` on bools). float16 and complex run
``perform``, as does an increment whose ``y`` has another dtype than ``x`` (NumPy's
casting rules then decide).
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["ADVANCED_C_VERSION", "ADVANCED_SUPPORT", "adv_inc_subtensor1_c_code",
           "adv_subtensor1_c_code"]

ADVANCED_C_VERSION = (2,)

_VALUES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
           "float32", "float64")

ADVANCED_SUPPORT = SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_ADVANCED_SUPPORT
#define TGRAPH_ADVANCED_SUPPORT
/* NumPy's spelling of a shape in its broadcast messages: "(2,3)", "(2,)", "()". */
static PyObject *tgraph_adv_dims_str(const npy_intp *dims, int nd) {
    static PyObject *ring[2];
    static int next = 0;
    PyObject *s = PyUnicode_FromString("(");
    int d;
    if (s == NULL) return Py_None;
    for (d = 0; d < nd; ++d) {
        PyObject *part = PyUnicode_FromFormat(d + 1 < nd || nd == 1 ? "%zd," : "%zd",
                                              (Py_ssize_t)dims[d]);
        PyObject *joined;
        if (part == NULL) { Py_DECREF(s); return Py_None; }
        joined = PyUnicode_Concat(s, part);
        Py_DECREF(part);
        Py_DECREF(s);
        if (joined == NULL) return Py_None;
        s = joined;
    }
    {
        PyObject *close = PyUnicode_FromString(")"), *joined;
        if (close == NULL) { Py_DECREF(s); return Py_None; }
        joined = PyUnicode_Concat(s, close);
        Py_DECREF(close);
        Py_DECREF(s);
        if (joined == NULL) return Py_None;
        s = joined;
    }
    Py_XDECREF(ring[next]);
    ring[next] = s;
    next = (next + 1) % 2;
    return s;
}

/* Whether the rows (dimensions 1..) of a are C-contiguous, so a row is one memcpy. */
static int tgraph_adv_rows_contiguous(PyArrayObject *a) {
    npy_intp expect = PyArray_ITEMSIZE(a);
    int d;
    for (d = PyArray_NDIM(a) - 1; d >= 1; --d) {
        if (PyArray_DIM(a, d) != 1 && PyArray_STRIDE(a, d) != expect) return 0;
        expect *= PyArray_DIM(a, d);
    }
    return 1;
}
#endif
"""


def _check_dtype(op, dtype: str, what: str) -> None:
    if dtype not in _VALUES:
        raise MethodNotDefined(f"{op}: no C advanced indexing for {what} of dtype {dtype}")


def _read_index(name: str, i: str, idtype: str, j: str) -> str:
    """C expression: index ``j`` of the index vector ``i`` as an npy_int64."""
    return (f"(npy_int64)(*(npy_{idtype} *)(PyArray_BYTES({i}) + ({j}) *"
            f" PyArray_STRIDE({i}, 0)))")


def _index_checks(op, name: str, x: str, i: str, idtype: str, fail: str, where: str,
                  where_args: str) -> str:
    """C that raises perform's IndexError for the first index out of range for ``x``."""
    too_big = ""
    if idtype == "uint64":
        too_big = (f"  if (*(npy_uint64 *)(PyArray_BYTES({i}) + {name}_j * PyArray_STRIDE({i}, 0))"
                   f" > (npy_uint64)NPY_MAX_INT64) {{ PyErr_Format(PyExc_IndexError, \"{op}: "
                   f"index contains values too large for this system's array sizes {where}\""
                   f"{where_args}); {fail} }}\n")
    return f"""
for (npy_intp {name}_j = 0; {name}_j < PyArray_DIM({i}, 0); ++{name}_j) {{
{too_big}  npy_int64 {name}_v = {_read_index(name, i, idtype, f"{name}_j")};
  if ({name}_v < -(npy_int64)PyArray_DIM({x}, 0) || {name}_v >= (npy_int64)PyArray_DIM({x}, 0)) {{
    PyErr_Format(PyExc_IndexError, "{op}: index %lld is out of bounds for axis 0 with size"
                 " %zd {where}", (long long){name}_v, (Py_ssize_t)PyArray_DIM({x}, 0){where_args});
    {fail}
  }}
}}
"""


def _row_loops(name: str, nd: int, dst: str, dst_arr: str, src: str, src_strides: str,
               stmt: str) -> str:
    """Nested loops over dimensions 1..nd-1 of one row: ``stmt`` on ``{name}_d``/``{name}_s``.

    ``dst`` and ``src`` are the row's start pointers; dst strides are ``dst_arr``'s, src
    strides the C array ``src_strides`` (indexed by dimension).
    """
    lines = [f"{{ char *{name}_d0 = {dst}; char *{name}_s0 = {src};"]
    indent = "  "
    for d in range(1, nd):
        lines.append(f"{indent}for (npy_intp {name}_k{d} = 0; {name}_k{d} < PyArray_DIM({dst_arr},"
                     f" {d}); ++{name}_k{d}) {{")
        indent += "  "
        lines.append(f"{indent}char *{name}_d{d} = {name}_d{d - 1} + {name}_k{d} *"
                     f" PyArray_STRIDE({dst_arr}, {d});")
        lines.append(f"{indent}char *{name}_s{d} = {name}_s{d - 1} + {name}_k{d} *"
                     f" {src_strides}[{d}];")
    last = nd - 1
    lines.append(f"{indent}{stmt.format(d=f'{name}_d{last}', s=f'{name}_s{last}')}")
    for _ in range(1, nd):
        indent = indent[:-2]
        lines.append(f"{indent}}}")
    lines.append("}")
    return "\n".join(lines)


def adv_subtensor1_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                          sub: dict) -> str:
    """The C of one AdvancedSubtensor1 node: ``z = x[i]`` along axis 0 (a copy)."""
    x, i = inputs
    (z,) = outputs
    dtype = node.inputs[0].type.dtype
    idtype = node.inputs[1].type.dtype
    _check_dtype(op, dtype, "values")
    nd = node.inputs[0].type.ndim
    fail = sub["fail"]
    ct = f"npy_{dtype}"
    where = "(input shape %R)"
    args = f", tgraph_shape_tuple({x})"
    copy = _row_loops(name, nd, f"{name}_dst", z, f"{name}_src", f"{name}_xs",
                      f"*({ct} *){{d}} = *({ct} *){{s}};")
    dims = ", ".join([f"PyArray_DIM({i}, 0)"] + [f"PyArray_DIM({x}, {d})" for d in range(1, nd)])
    return f"""
if (PyArray_DIM({x}, 0) == 0 && PyArray_DIM({i}, 0) > 0) {{
  PyErr_Format(PyExc_IndexError, "{op}: cannot do a non-empty take from an empty axes."
               " {where}"{args});
  {fail}
}}
{_index_checks(op, name, x, i, idtype, fail, where, args)}
{{
  npy_intp {name}_od[{nd}] = {{{dims}}};
  if ({z} == NULL || !PyArray_IS_C_CONTIGUOUS({z})
      || !PyArray_CompareLists(PyArray_DIMS({z}), {name}_od, {nd})) {{
    Py_XDECREF({z});
    {z} = (PyArrayObject *)PyArray_EMPTY({nd}, {name}_od, type_num_{z}, 0);
    if ({z} == NULL) {fail}
  }}
}}
if (PyArray_SIZE({z}) > 0) {{
  const npy_intp {name}_n = PyArray_DIM({x}, 0);
  const npy_intp {name}_row = PyArray_SIZE({z}) / PyArray_DIM({z}, 0) * PyArray_ITEMSIZE({z});
  const int {name}_fast = tgraph_adv_rows_contiguous({x});
  const npy_intp *{name}_xs = PyArray_STRIDES({x});
  for (npy_intp {name}_j = 0; {name}_j < PyArray_DIM({i}, 0); ++{name}_j) {{
    npy_int64 {name}_v = {_read_index(name, i, idtype, f"{name}_j")};
    if ({name}_v < 0) {name}_v += {name}_n;
    char *{name}_src = PyArray_BYTES({x}) + {name}_v * PyArray_STRIDE({x}, 0);
    char *{name}_dst = PyArray_BYTES({z}) + {name}_j * {name}_row;
    if ({name}_fast) memcpy({name}_dst, {name}_src, {name}_row);
    else
{_indent(copy, 6)}
  }}
}}
"""


def adv_inc_subtensor1_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                              sub: dict) -> str:
    """The C of one AdvancedIncSubtensor1 node: ``z = x`` with ``z[i] += y`` (or ``= y``)."""
    x, y, i = inputs
    (z,) = outputs
    dtype = node.inputs[0].type.dtype
    idtype = node.inputs[2].type.dtype
    _check_dtype(op, dtype, "values")
    if node.inputs[1].type.dtype != dtype:
        raise MethodNotDefined(f"{op}: y's dtype differs from x's: NumPy's casting in perform")
    nd = node.inputs[0].type.ndim
    ynd = node.inputs[1].type.ndim
    fail = sub["fail"]
    ct = f"npy_{dtype}"
    where = "(x shape %R, y shape %R, %zd indices)"
    args = (f", tgraph_shape_tuple({x}), tgraph_shape_tuple({y}),"
            f" (Py_ssize_t)PyArray_DIM({i}, 0)")
    if op.set_instead_of_inc:
        stmt = f"*({ct} *){{d}} = *({ct} *){{s}};"
    elif dtype == "bool":
        stmt = f"*({ct} *){{d}} = *({ct} *){{d}} || *({ct} *){{s}};"
    elif dtype.startswith(("int", "uint")):
        stmt = (f"*({ct} *){{d}} = ({ct})((npy_uint64)*({ct} *){{d}}"
                f" + (npy_uint64)*({ct} *){{s}});")
    else:
        stmt = f"*({ct} *){{d}} += *({ct} *){{s}};"
    loops = _row_loops(name, nd, f"{name}_dst", z, f"{name}_src", f"{name}_ys", stmt)
    # y's dimension k faces the rows' dimension k + (nd - ynd); missing ones broadcast
    off = nd - ynd
    checks = []
    for k in range(ynd):
        checks.append(f"(PyArray_DIM({y}, {k}) != 1 && PyArray_DIM({y}, {k}) !="
                      f" {name}_td[{k + off}])")
    bad_shape = " || ".join(checks) or "0"
    if op.set_instead_of_inc:
        shape_msg = ("shape mismatch: value array of shape %U could not be broadcast to "
                     "indexing result of shape %U")
        shape_args = (f", tgraph_adv_dims_str(PyArray_DIMS({y}), {ynd}),"
                      f" tgraph_adv_dims_str({name}_td, {nd})")
    else:
        shape_msg = "array is not broadcastable to correct shape"
        shape_args = ""
    shape_check = f"""
if ({bad_shape}) {{
  PyErr_Format(PyExc_ValueError, "{op}: {shape_msg} {where}"{shape_args}{args});
  {fail}
}}
"""
    index_check = _index_checks(op, name, x, i, idtype, fail, where, args)
    first, second = ((shape_check, index_check) if op.set_instead_of_inc
                     else (index_check, shape_check))
    ys = [f"{name}_ys[{d}] = 0;" for d in range(off)]
    ys += [f"{name}_ys[{k + off}] = PyArray_DIM({y}, {k}) == 1 ? 0 : PyArray_STRIDE({y}, {k});"
           for k in range(ynd)]
    td = ", ".join([f"PyArray_DIM({i}, 0)"] + [f"PyArray_DIM({x}, {d})" for d in range(1, nd)])
    if op.inplace:
        output = f"Py_XDECREF({z}); {z} = {x}; Py_INCREF({z});"
    else:
        output = (f"if ({z} != NULL && {z} != {x} && PyArray_IS_C_CONTIGUOUS({z})"
                  f" && PyArray_SAMESHAPE({z}, {x})) {{"
                  f" if (PyArray_CopyInto({z}, {x}) < 0) {fail} }}"
                  f" else {{ Py_XDECREF({z});"
                  f" {z} = (PyArrayObject *)PyArray_NewCopy({x}, NPY_CORDER);"
                  f" if ({z} == NULL) {fail} }}")
    return f"""
npy_intp {name}_td[{nd}] = {{{td}}};
{first}
{second}
{output}
if (PyArray_SIZE({z}) > 0 && PyArray_DIM({i}, 0) > 0) {{
  const npy_intp {name}_n = PyArray_DIM({z}, 0);
  npy_intp {name}_ys[{nd}];
{_indent("".join(ys), 2)}
  for (npy_intp {name}_j = 0; {name}_j < PyArray_DIM({i}, 0); ++{name}_j) {{
    npy_int64 {name}_v = {_read_index(name, i, idtype, f"{name}_j")};
    if ({name}_v < 0) {name}_v += {name}_n;
    char *{name}_dst = PyArray_BYTES({z}) + {name}_v * PyArray_STRIDE({z}, 0);
    char *{name}_src = PyArray_BYTES({y}) + {name}_j * {name}_ys[0];
{_indent(loops, 4)}
  }}
}}
"""


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else line for line in text.splitlines())

"""C code of the small shape ops: Shape, Shape_i, MakeVector, Reshape, Alloc, AllocEmpty.

They are cheap in Python too, but a graph whose every node runs in C never leaves the C
loop of the VM, and these ops sit between most others (the seed's program has Shape_i and
AllocEmpty next to its Gemv). Errors carry the same text as ``perform``'s.
"""

from __future__ import annotations

from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = [
    "SHAPE_C_VERSION",
    "SHAPE_SUPPORT",
    "SPECIFY_SHAPE_SUPPORT",
    "ShapeCMixin",
    "alloc_c_code",
    "allocempty_c_code",
    "makevector_c_code",
    "reshape_c_code",
    "shape_c_code",
    "shape_i_c_code",
    "specify_shape_c_code",
]

SHAPE_C_VERSION = (1,)

SHAPE_SUPPORT = r"""
#ifndef TGRAPH_SHAPE_SUPPORT
#define TGRAPH_SHAPE_SUPPORT
/* A 0-d int64 array holding v, reusing *out when it is one. */
static int tgraph_put_int64(PyArrayObject **out, npy_int64 v) {
    if (*out == NULL || PyArray_NDIM(*out) != 0 || PyArray_TYPE(*out) != NPY_INT64) {
        Py_XDECREF(*out);
        *out = (PyArrayObject *)PyArray_EMPTY(0, NULL, NPY_INT64, 0);
        if (*out == NULL) return -1;
    }
    *(npy_int64 *)PyArray_DATA(*out) = v;
    return 0;
}

static PyObject *tgraph_dims_tuple(int nd, const npy_intp *dims) {
    PyObject *t = PyTuple_New(nd);
    int d;
    if (t == NULL) return NULL;
    for (d = 0; d < nd; ++d) PyTuple_SET_ITEM(t, d, PyLong_FromSsize_t(dims[d]));
    return t;
}

/* "<where>: negative dimensions are not allowed, got shape (2, -1)" */
static int tgraph_check_dims(const char *where, int nd, const npy_intp *dims) {
    int d;
    for (d = 0; d < nd; ++d) {
        if (dims[d] < 0) {
            PyObject *t = tgraph_dims_tuple(nd, dims);
            if (t == NULL) return -1;
            PyErr_Format(PyExc_ValueError,
                         "%s: negative dimensions are not allowed, got shape %R", where, t);
            Py_DECREF(t);
            return -1;
        }
    }
    return 0;
}

/* An output array of these dims and type, reusing *out when it has them. */
static int tgraph_empty_like_dims(PyArrayObject **out, int nd, npy_intp *dims, int typenum) {
    if (*out != NULL && PyArray_IS_C_CONTIGUOUS(*out) && PyArray_TYPE(*out) == typenum
        && PyArray_NDIM(*out) == nd && PyArray_CompareLists(PyArray_DIMS(*out), dims, nd))
        return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(nd, dims, typenum, 0);
    return *out == NULL ? -1 : 0;
}
#endif
"""


SPECIFY_SHAPE_SUPPORT = SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_SPECIFY_SHAPE_SUPPORT
#define TGRAPH_SPECIFY_SHAPE_SUPPORT
/* Whether x has exactly the shape listed in the int64 vector shp. */
static int tgraph_has_shape(PyArrayObject *x, PyArrayObject *shp) {
    int d;
    if (PyArray_NDIM(shp) != 1 || PyArray_DIM(shp, 0) != PyArray_NDIM(x)) return 0;
    for (d = 0; d < PyArray_NDIM(x); ++d)
        if (*(npy_int64 *)PyArray_GETPTR1(shp, d) != (npy_int64)PyArray_DIM(x, d)) return 0;
    return 1;
}

/* Raise perform's SpecifyShapeError: "the value has shape (2, 3), but the graph declared
   shape (2, 4)". */
static void tgraph_specify_shape_error(PyArrayObject *x, PyArrayObject *shp) {
    PyObject *mod = PyImport_ImportModule("tgraph.tensor.shape");
    PyObject *exc = mod ? PyObject_GetAttrString(mod, "SpecifyShapeError") : NULL;
    PyObject *have = NULL, *declared = NULL;
    npy_intp n = PyArray_NDIM(shp) == 1 ? PyArray_DIM(shp, 0) : 0, d;
    Py_XDECREF(mod);
    if (exc == NULL) return;
    have = tgraph_new_shape_tuple(x);
    declared = PyTuple_New(n);
    if (have != NULL && declared != NULL) {
        for (d = 0; d < n; ++d)
            PyTuple_SET_ITEM(declared, d,
                             PyLong_FromLongLong(*(npy_int64 *)PyArray_GETPTR1(shp, d)));
        PyErr_Format(exc, "SpecifyShape: the value has shape %R, but the graph declared "
                     "shape %R", have, declared);
    }
    Py_DECREF(exc);
    Py_XDECREF(have);
    Py_XDECREF(declared);
}
#endif
"""


def specify_shape_c_code(op, node, name, inputs, outputs, sub) -> str:
    """Check the shape, then return the input itself (SpecifyShape's view)."""
    from tgraph.graph.utils import MethodNotDefined
    from tgraph.tensor.type import TensorType

    if not isinstance(node.inputs[0].type, TensorType) or node.inputs[1].dtype != "int64":
        raise MethodNotDefined(f"{op}: C code only for a tensor and an int64 shape")
    (x, shp), (z,) = inputs, outputs
    return (f"if (!tgraph_has_shape({x}, {shp})) {{ tgraph_specify_shape_error({x}, {shp}); "
            f"{sub['fail']} }}\nPy_XDECREF({z}); {z} = {x}; Py_INCREF({z});")


def _scalar_int(var: str) -> str:
    return f"(npy_intp)(*(dtype_{var} *)PyArray_DATA({var}))"


def shape_i_c_code(op, node, name, inputs, outputs, sub) -> str:
    (x,), (z,) = inputs, outputs
    return f"if (tgraph_put_int64(&{z}, (npy_int64)PyArray_DIM({x}, {op.i})) < 0) {sub['fail']}"


def shape_c_code(op, node, name, inputs, outputs, sub) -> str:
    (x,), (z,) = inputs, outputs
    nd = node.inputs[0].type.ndim
    fail = sub["fail"]
    return (f"{{ npy_intp {name}_n = {nd};\n"
            f"  if (tgraph_empty_like_dims(&{z}, 1, &{name}_n, NPY_INT64) < 0) {fail}\n"
            f"  for (int d = 0; d < {nd}; ++d)"
            f" ((npy_int64 *)PyArray_DATA({z}))[d] = PyArray_DIM({x}, d); }}")


def makevector_c_code(op, node, name, inputs, outputs, sub) -> str:
    (z,) = outputs
    fail = sub["fail"]
    lines = [f"{{ npy_intp {name}_n = {len(inputs)};",
             f"  if (tgraph_empty_like_dims(&{z}, 1, &{name}_n, type_num_{z}) < 0) {fail}"]
    for k, x in enumerate(inputs):
        lines.append(f"  ((dtype_{z} *)PyArray_DATA({z}))[{k}] ="
                     f" (dtype_{z})(*(dtype_{x} *)PyArray_DATA({x}));")
    lines.append("}")
    return "\n".join(lines)


def allocempty_c_code(op, node, name, inputs, outputs, sub) -> str:
    (z,) = outputs
    nd = len(inputs)
    fail = sub["fail"]
    dims = ", ".join(_scalar_int(s) for s in inputs) or "0"
    return (f"{{ npy_intp {name}_d[{max(nd, 1)}] = {{{dims}}};\n"
            f"  if (tgraph_check_dims(\"{op}\", {nd}, {name}_d) < 0) {fail}\n"
            f"  if (tgraph_empty_like_dims(&{z}, {nd}, {name}_d, type_num_{z}) < 0) {fail} }}")


def alloc_c_code(op, node, name, inputs, outputs, sub) -> str:
    v, shape = inputs[0], inputs[1:]
    (z,) = outputs
    nd = len(shape)
    vnd = node.inputs[0].type.ndim
    fail = sub["fail"]
    dims = ", ".join(_scalar_int(s) for s in shape) or "0"
    lines = [
        f"{{ npy_intp {name}_d[{max(nd, 1)}] = {{{dims}}};",
        f"  if (tgraph_check_dims(\"Alloc\", {nd}, {name}_d) < 0) {fail}",
    ]
    for k in range(vnd):
        sd = nd - vnd + k
        lines.append(
            f"  if (PyArray_DIM({v}, {k}) != 1 && PyArray_DIM({v}, {k}) != {name}_d[{sd}]) {{"
            f" PyObject *vs = tgraph_dims_tuple({vnd}, PyArray_DIMS({v}));"
            f" PyObject *ss = tgraph_dims_tuple({nd}, {name}_d);"
            f" if (vs && ss) PyErr_Format(PyExc_ValueError,"
            f" \"Alloc: cannot broadcast a value of shape %R to shape %R\", vs, ss);"
            f" Py_XDECREF(vs); Py_XDECREF(ss); {fail} }}")
    lines += [
        f"  if (tgraph_empty_like_dims(&{z}, {nd}, {name}_d, type_num_{z}) < 0) {fail}",
        f"  if (PyArray_CopyInto({z}, {v}) < 0) {fail} }}",
    ]
    return "\n".join(lines)


def reshape_c_code(op, node, name, inputs, outputs, sub) -> str:
    x, shp = inputs
    (z,) = outputs
    nd = op.ndim
    fail = sub["fail"]
    return f"""{{
  npy_intp {name}_d[{max(nd, 1)}];
  PyArray_Dims {name}_pd = {{{name}_d, {nd}}};
  int {name}_neg = 0, {name}_bad = 0;
  if (PyArray_SIZE({shp}) != {nd}) {{
    PyObject *l = PyArray_ToList({shp}), *t = l ? PySequence_Tuple(l) : NULL;
    if (t) PyErr_Format(PyExc_ValueError, "{op}: the new shape %R has %zd entries, "
                        "expected {nd}", t, (Py_ssize_t)PyArray_SIZE({shp}));
    Py_XDECREF(l); Py_XDECREF(t);
    {fail}
  }}
  for (int d = 0; d < {nd}; ++d) {{
    {name}_d[d] = (npy_intp)(*(dtype_{shp} *)(PyArray_BYTES({shp}) + d * PyArray_STRIDE({shp}, 0)));
    if ({name}_d[d] == -1) ++{name}_neg; else if ({name}_d[d] < 0) {name}_bad = 1;
  }}
  if ({name}_neg > 1 || {name}_bad) {{
    PyObject *t = tgraph_dims_tuple({nd}, {name}_d);
    if (t) PyErr_Format(PyExc_ValueError, "{op}: invalid shape %R: entries must be "
                        "non-negative, except one that may be -1", t);
    Py_XDECREF(t);
    {fail}
  }}
  Py_XDECREF({z});
  {z} = (PyArrayObject *)PyArray_Newshape({x}, &{name}_pd, NPY_CORDER);
  if ({z} == NULL) {{
    PyObject *xs = tgraph_dims_tuple(PyArray_NDIM({x}), PyArray_DIMS({x}));
    PyObject *t = tgraph_dims_tuple({nd}, {name}_d);
    PyErr_Clear();
    if (xs && t) PyErr_Format(PyExc_ValueError, "{op}: cannot reshape an array of shape %R "
                              "(%zd elements) to shape %R", xs, (Py_ssize_t)PyArray_SIZE({x}), t);
    Py_XDECREF(xs); Py_XDECREF(t);
    {fail}
  }}
}}"""


class ShapeCMixin:
    """The C methods of the six shape ops, written once.

    An op sets ``_c_kind`` (a key of ``_SHAPE_C``) and lists this class before ``Op``,
    as the BLAS ops do with ``_BlasC``.
    """

    _c_kind = ""

    def c_code(self, node, name, inputs, outputs, sub):
        return _SHAPE_C[self._c_kind](self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return SHAPE_SUPPORT

    def c_code_cache_version(self):
        return SHAPE_C_VERSION


_SHAPE_C = {
    "alloc": alloc_c_code,
    "allocempty": allocempty_c_code,
    "makevector": makevector_c_code,
    "reshape": reshape_c_code,
    "shape": shape_c_code,
    "shape_i": shape_i_c_code,
}

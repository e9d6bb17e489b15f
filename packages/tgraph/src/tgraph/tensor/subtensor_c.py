"""C code of basic indexing: the Subtensor view and IncSubtensor (text only: tlink compiles).

The index values are scalar inputs (the template holds their types), so one compiled node
serves every value. The view is computed as NumPy does (negative integers count from the
end, slices are clipped with CPython's ``PySlice_AdjustIndices``), and out-of-range indices
or a zero step raise NumPy's message with perform's prefix and shapes.

IncSubtensor copies x unless in place, takes the region as a view, then sets it
(``PyArray_CopyInto``: broadcasting, unsafe cast, as ``np.copyto``) or adds into it
(``numpy.add(region, y, out=region, casting='unsafe')``, as perform).
"""

from __future__ import annotations

from tgraph.graph.type import Type
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["SUBTENSOR_C_VERSION", "SUBTENSOR_INIT", "SUBTENSOR_SUPPORT", "SubtensorCMixin",
           "incsubtensor_c_code", "subtensor_c_code"]

SUBTENSOR_C_VERSION = (2,)

SUBTENSOR_SUPPORT = SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_SUBTENSOR_SUPPORT
#define TGRAPH_SUBTENSOR_SUPPORT
static PyObject *tgraph_np_add = NULL;

static int tgraph_subtensor_load(void) {
    PyObject *np;
    if (tgraph_np_add != NULL) return 0;
    np = PyImport_ImportModule("numpy");
    if (np == NULL) return -1;
    tgraph_np_add = PyObject_GetAttrString(np, "add");
    Py_DECREF(np);
    return tgraph_np_add == NULL ? -1 : 0;
}

/* Raise exc "<op>: <message> (<what> shape <shape>)", with perform's wording. */
static void tgraph_index_error(PyObject *exc, const char *op, const char *msg,
                               const char *shapes, PyArrayObject *x, PyArrayObject *y) {
    PyObject *xs = tgraph_new_shape_tuple(x);
    PyObject *ys = y ? tgraph_new_shape_tuple(y) : NULL;
    if (xs == NULL) return;
    if (y) PyErr_Format(exc, "%s: %s (x shape %R, y shape %R)", op, msg, xs, ys);
    else PyErr_Format(exc, "%s: %s (%s %R)", op, msg, shapes, xs);
    Py_XDECREF(xs);
    Py_XDECREF(ys);
}

/* The view of x selected by entries (kinds: 'i' integer, 's' slice), or NULL with an
   exception. vals holds, per entry, the integer or (start, stop, step), with has[] saying
   which slice bounds were given. */
static PyArrayObject *tgraph_basic_view(PyArrayObject *x, int n, const char *kinds,
                                        const npy_int64 *vals, const int *has,
                                        const char *op, PyArrayObject *y) {
    int nd = PyArray_NDIM(x), d, k, od = 0;
    npy_intp dims[NPY_MAXDIMS], strides[NPY_MAXDIMS];
    char *data = PyArray_BYTES(x);
    PyArrayObject *v;
    char msg[160];
    for (k = 0, d = 0; k < n; ++k, ++d) {
        npy_intp len = PyArray_DIM(x, d), st = PyArray_STRIDE(x, d);
        if (kinds[k] == 'i') {
            npy_int64 i = vals[3 * k];
            if (i < -len || i >= len) {
                snprintf(msg, sizeof msg, "index %lld is out of bounds for axis %d with size %lld",
                         (long long)i, d, (long long)len);
                tgraph_index_error(PyExc_IndexError, op, msg, "input shape", x, y);
                return NULL;
            }
            if (i < 0) i += len;
            data += i * st;
        } else {
            Py_ssize_t start, stop, step, count;
            step = has[3 * k + 2] ? (Py_ssize_t)vals[3 * k + 2] : 1;
            if (step == 0) {
                tgraph_index_error(PyExc_ValueError, op, "slice step cannot be zero",
                                   "input shape", x, y);
                return NULL;
            }
            start = has[3 * k] ? (Py_ssize_t)vals[3 * k] : (step < 0 ? PY_SSIZE_T_MAX : 0);
            stop = has[3 * k + 1] ? (Py_ssize_t)vals[3 * k + 1]
                                  : (step < 0 ? PY_SSIZE_T_MIN : PY_SSIZE_T_MAX);
            count = PySlice_AdjustIndices(len, &start, &stop, step);
            if (count > 0) data += start * st;
            dims[od] = count;
            strides[od] = step * st;
            ++od;
        }
    }
    for (; d < nd; ++d, ++od) {
        dims[od] = PyArray_DIM(x, d);
        strides[od] = PyArray_STRIDE(x, d);
    }
    Py_INCREF(PyArray_DESCR(x));
    v = (PyArrayObject *)PyArray_NewFromDescr(&PyArray_Type, PyArray_DESCR(x), od, dims,
                                              strides, data,
                                              PyArray_FLAGS(x) & (NPY_ARRAY_WRITEABLE),
                                              NULL);
    if (v == NULL) return NULL;
    Py_INCREF(x);
    if (PyArray_SetBaseObject(v, (PyObject *)x) < 0) { Py_DECREF(v); return NULL; }
    PyArray_UpdateFlags(v, NPY_ARRAY_UPDATE_ALL);
    return v;
}
#endif
"""

SUBTENSOR_INIT = "if (tgraph_subtensor_load() < 0) return -1;"


def _template(op, index_inputs: list[str], name: str) -> tuple[str, str]:
    """C declarations of the entries' kinds/values, and the entry count as text."""
    kinds, vals, has = [], [], []
    it = iter(index_inputs)

    def value(entry):
        if isinstance(entry, Type):
            return f"(npy_int64){next(it)}", "1"
        return "0", "0"

    for entry in op.idx_list:
        if isinstance(entry, slice):
            kinds.append("s")
            for bound in (entry.start, entry.stop, entry.step):
                v, h = value(bound) if bound is not None else ("0", "0")
                vals.append(v)
                has.append(h)
        else:
            kinds.append("i")
            v, _ = value(entry)
            vals += [v, "0", "0"]
            has += ["1", "0", "0"]
    n = len(op.idx_list)
    decl = (f"npy_int64 {name}_vals[{max(3 * n, 1)}] = {{{', '.join(vals) or '0'}}};\n"
            f"int {name}_has[{max(3 * n, 1)}] = {{{', '.join(has) or '0'}}};\n")
    return decl, f'{n}, "{"".join(kinds)}", {name}_vals, {name}_has'


def subtensor_c_code(op, node, name, inputs, outputs, sub) -> str:
    x, index = inputs[0], inputs[1:]
    (z,) = outputs
    decl, args = _template(op, index, name)
    return (f"{{ {decl}"
            f"  Py_XDECREF({z});\n"
            f"  {z} = tgraph_basic_view({x}, {args}, \"{op}\", NULL);\n"
            f"  if ({z} == NULL) {sub['fail']} }}")


def incsubtensor_c_code(op, node, name, inputs, outputs, sub) -> str:
    x, y, index = inputs[0], inputs[1], inputs[2:]
    (z,) = outputs
    fail = sub["fail"]
    decl, args = _template(op, index, name)
    take = (f"Py_XDECREF({z}); {z} = {x}; Py_INCREF({z});" if op.inplace else
            f"Py_XDECREF({z}); {z} = (PyArrayObject *)PyArray_NewCopy({x}, NPY_KEEPORDER);"
            f" if ({z} == NULL) {fail}")
    if op.set_instead_of_inc:
        update = f"    {name}_st = PyArray_CopyInto({name}_r, {y});"
    else:
        update = "\n".join([
            f"    PyObject *{name}_args = PyTuple_Pack(2, (PyObject *){name}_r, (PyObject *){y});",
            f"    PyObject *{name}_kw = Py_BuildValue(\"{{sOss}}\", \"out\", (PyObject *){name}_r,"
            f" \"casting\", \"unsafe\");",
            f"    PyObject *{name}_res = ({name}_args && {name}_kw) ?"
            f" PyObject_Call(tgraph_np_add, {name}_args, {name}_kw) : NULL;",
            f"    {name}_st = {name}_res ? 0 : -1;",
            f"    Py_XDECREF({name}_args); Py_XDECREF({name}_kw); Py_XDECREF({name}_res);",
        ])
    return "\n".join([
        f"{{ {decl}",
        f"  {take}",
        "  {",
        f"    int {name}_st;",
        f"    PyArrayObject *{name}_r = tgraph_basic_view({z}, {args}, \"{op}\", {y});",
        f"    if ({name}_r == NULL) {fail}",
        update,
        f"    Py_DECREF({name}_r);",
        f"    if ({name}_st < 0) {{",
        # NumPy's broadcast error, with perform's prefix and both shapes
        "      if (PyErr_ExceptionMatches(PyExc_ValueError)) {",
        "        PyObject *t, *v, *tb, *s;",
        "        PyErr_Fetch(&t, &v, &tb);",
        "        s = v ? PyObject_Str(v) : NULL;",
        f"        tgraph_index_error(PyExc_ValueError, \"{op}\","
        f" s ? PyUnicode_AsUTF8(s) : \"?\", \"\", {z}, {y});",
        "        Py_XDECREF(s); Py_XDECREF(t); Py_XDECREF(v); Py_XDECREF(tb);",
        "      }",
        f"      {fail}",
        "    }",
        "  }",
        "}",
    ])


class SubtensorCMixin:
    """The C methods of Subtensor and IncSubtensor, written once.

    An op sets ``_c_kind`` (``"subtensor"`` or ``"incsubtensor"``) and lists this class
    first among its bases, as the BLAS ops do with ``_BlasC``.
    """

    _c_kind = ""

    def c_code(self, node, name, inputs, outputs, sub):
        code = incsubtensor_c_code if self._c_kind == "incsubtensor" else subtensor_c_code
        return code(self, node, name, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return SUBTENSOR_SUPPORT

    def c_init_code(self, **kwargs):
        return [SUBTENSOR_INIT]

    def c_code_cache_version(self):
        return SUBTENSOR_C_VERSION

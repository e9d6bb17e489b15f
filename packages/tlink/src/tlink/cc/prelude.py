"""The C runtime every generated module starts with: cell access, checks and thunk capsules.

Kept as one C text so the generated per-node code stays short (a call per variable instead
of inline checks) and a change here changes every cache key (``PRELUDE_VERSION``).

The checks make wrong values an exception, never a crash: a cell holding None, a non-array,
an array of the wrong dtype or number of dimensions, or a size other than 1 along a
dimension declared broadcastable, raises with the variable named. Arrays that are
misaligned or byte-swapped are copied into a well-behaved array first.

Output reuse: an array left in an output cell by the previous call is offered to the Op
only when nothing else holds it (the cell's reference is the only one); an array the user
still holds, or that a view returned earlier keeps alive through its ``base``, is never
overwritten.

Thunks: ``make_thunk(k, cells)`` returns ``(fn, data)`` PyCapsules named
``"tlink.cthunk_fn"`` (``int fn(void *data)``: 0 on success, else an exception is set) and
``"tlink.cthunk_data"`` (the node's cells, owned by the capsule), the protocol of
``tlink.linker._cvm.CThunk``. ``call_thunk(fn, data)`` runs one from Python.
"""

from __future__ import annotations

__all__ = ["PRELUDE", "PRELUDE_VERSION", "module_exec"]

PRELUDE_VERSION = (1,)

PRELUDE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <numpy/arrayobject.h>
#include <numpy/npy_math.h>
#include <string.h>
#include <math.h>

typedef int (*tlink_run_fn)(void *);

typedef struct {
    Py_ssize_t n;
    PyObject *cells[1]; /* n cells: the node's inputs then outputs (owned references) */
} tlink_cells;

/* A new reference to the well-behaved ndarray in cell[0], or NULL with an exception set. */
static PyArrayObject *tlink_get_array(PyObject *cell, int ndim, int typenum,
                                      const char *bcast, const char *what) {
    PyObject *obj = PyList_GET_ITEM(cell, 0);
    PyArrayObject *a;
    int d;
    if (obj == Py_None) {
        PyErr_Format(PyExc_ValueError, "%s: no value (the storage cell holds None)", what);
        return NULL;
    }
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray, got %s", what,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    a = (PyArrayObject *)obj;
    if (PyArray_NDIM(a) != ndim) {
        PyErr_Format(PyExc_ValueError, "%s: expected %d dimension(s), got an array of %d",
                     what, ndim, PyArray_NDIM(a));
        return NULL;
    }
    if (!PyArray_EquivTypenums(PyArray_TYPE(a), typenum)) {
        PyArray_Descr *want = PyArray_DescrFromType(typenum);
        PyErr_Format(PyExc_TypeError, "%s: expected dtype %S, got %S", what,
                     (PyObject *)want, (PyObject *)PyArray_DESCR(a));
        Py_XDECREF(want);
        return NULL;
    }
    for (d = 0; d < ndim && bcast[0] != '-'; ++d) {
        if (bcast[d] == '1' && PyArray_DIM(a, d) != 1) {
            PyErr_Format(PyExc_ValueError,
                         "%s: dimension %d is declared broadcastable but has size %zd",
                         what, d, (Py_ssize_t)PyArray_DIM(a, d));
            return NULL;
        }
    }
    if (!PyArray_ISALIGNED(a) || !PyArray_ISNOTSWAPPED(a)) {
        return (PyArrayObject *)PyArray_FromArray(
            a, PyArray_DescrFromType(typenum), NPY_ARRAY_ALIGNED | NPY_ARRAY_NOTSWAPPED);
    }
    Py_INCREF(a);
    return a;
}

/* The previous output in cell[0] when the Op may overwrite it, else NULL (no exception). */
static PyArrayObject *tlink_reusable_array(PyObject *cell, int ndim, int typenum) {
    PyObject *obj = PyList_GET_ITEM(cell, 0);
    PyArrayObject *a;
    if (obj == Py_None || !PyArray_CheckExact(obj) || Py_REFCNT(obj) != 1) return NULL;
    a = (PyArrayObject *)obj;
    if (PyArray_NDIM(a) != ndim || PyArray_TYPE(a) != typenum || PyArray_BASE(a) != NULL
        || !PyArray_ISWRITEABLE(a) || !PyArray_ISBEHAVED(a)) return NULL;
    Py_INCREF(a);
    return a;
}

/* Store the Op's result in cell[0], checking it (a bug in C code must not pass silently). */
static int tlink_put_array(PyObject *cell, PyArrayObject *a, int ndim, int typenum,
                           const char *what) {
    PyObject *old;
    if (a == NULL) {
        if (!PyErr_Occurred())
            PyErr_Format(PyExc_RuntimeError, "%s: the C code produced no value", what);
        return -1;
    }
    if (PyArray_NDIM(a) != ndim || !PyArray_EquivTypenums(PyArray_TYPE(a), typenum)) {
        PyArray_Descr *want = PyArray_DescrFromType(typenum);
        PyErr_Format(PyExc_RuntimeError,
                     "%s: the C code produced a %d-d array of dtype %S, expected %d-d %S",
                     what, PyArray_NDIM(a), (PyObject *)PyArray_DESCR(a), ndim,
                     (PyObject *)want);
        Py_XDECREF(want);
        return -1;
    }
    old = PyList_GET_ITEM(cell, 0);
    if (old == (PyObject *)a) return 0;
    Py_INCREF(a);
    PyList_SET_ITEM(cell, 0, (PyObject *)a);
    Py_XDECREF(old);
    return 0;
}

static int tlink_get_scalar(PyObject *cell, int typenum, void *out, const char *what) {
    PyObject *obj = PyList_GET_ITEM(cell, 0);
    PyArray_Descr *descr;
    PyArrayObject *a;
    if (obj == Py_None) {
        PyErr_Format(PyExc_ValueError, "%s: no value (the storage cell holds None)", what);
        return -1;
    }
    descr = PyArray_DescrFromType(typenum);
    if (descr == NULL) return -1;
    /* steals descr */
    a = (PyArrayObject *)PyArray_FromAny(obj, descr, 0, 0,
                                         NPY_ARRAY_CARRAY | NPY_ARRAY_FORCECAST, NULL);
    if (a == NULL) return -1;
    if (PyArray_SIZE(a) != 1) {
        PyErr_Format(PyExc_ValueError, "%s: expected a scalar, got %zd values", what,
                     (Py_ssize_t)PyArray_SIZE(a));
        Py_DECREF(a);
        return -1;
    }
    memcpy(out, PyArray_DATA(a), PyArray_ITEMSIZE(a));
    Py_DECREF(a);
    return 0;
}

static int tlink_put_scalar(PyObject *cell, int typenum, void *value) {
    PyArray_Descr *descr = PyArray_DescrFromType(typenum);
    PyObject *obj, *old;
    if (descr == NULL) return -1;
    obj = PyArray_Scalar(value, descr, NULL);
    Py_DECREF(descr);
    if (obj == NULL) return -1;
    old = PyList_GET_ITEM(cell, 0);
    PyList_SET_ITEM(cell, 0, obj);
    Py_XDECREF(old);
    return 0;
}

static void tlink_cells_free(PyObject *capsule) {
    tlink_cells *c = (tlink_cells *)PyCapsule_GetPointer(capsule, "tlink.cthunk_data");
    Py_ssize_t i;
    if (c == NULL) { PyErr_Clear(); return; }
    for (i = 0; i < c->n; ++i) Py_XDECREF(c->cells[i]);
    PyMem_Free(c);
}

/* (fn, data) capsules for node k, whose cells (a tuple of lists) are checked here once. */
static PyObject *tlink_capsules(tlink_run_fn fn, Py_ssize_t expected, PyObject *cells) {
    tlink_cells *c;
    PyObject *fn_caps, *data_caps, *res;
    Py_ssize_t i, n;
    if (!PyTuple_Check(cells)) {
        PyErr_SetString(PyExc_TypeError, "make_thunk: cells must be a tuple of lists");
        return NULL;
    }
    n = PyTuple_GET_SIZE(cells);
    if (n != expected) {
        PyErr_Format(PyExc_ValueError, "make_thunk: expected %zd cells, got %zd", expected, n);
        return NULL;
    }
    for (i = 0; i < n; ++i) {
        PyObject *cell = PyTuple_GET_ITEM(cells, i);
        if (!PyList_Check(cell) || PyList_GET_SIZE(cell) != 1) {
            PyErr_Format(PyExc_TypeError,
                         "make_thunk: cell %zd is not a one-element list", i);
            return NULL;
        }
    }
    c = (tlink_cells *)PyMem_Malloc(sizeof(tlink_cells) + (n ? n - 1 : 0) * sizeof(PyObject *));
    if (c == NULL) return PyErr_NoMemory();
    c->n = n;
    for (i = 0; i < n; ++i) {
        c->cells[i] = PyTuple_GET_ITEM(cells, i);
        Py_INCREF(c->cells[i]);
    }
    data_caps = PyCapsule_New(c, "tlink.cthunk_data", tlink_cells_free);
    if (data_caps == NULL) {
        for (i = 0; i < n; ++i) Py_DECREF(c->cells[i]);
        PyMem_Free(c);
        return NULL;
    }
    fn_caps = PyCapsule_New((void *)fn, "tlink.cthunk_fn", NULL);
    if (fn_caps == NULL) { Py_DECREF(data_caps); return NULL; }
    res = PyTuple_Pack(2, fn_caps, data_caps);
    Py_DECREF(fn_caps);
    Py_DECREF(data_caps);
    return res;
}

static PyObject *tlink_call_thunk(PyObject *self, PyObject *args) {
    PyObject *fn_caps, *data_caps;
    tlink_run_fn fn;
    void *data;
    if (!PyArg_ParseTuple(args, "OO", &fn_caps, &data_caps)) return NULL;
    fn = (tlink_run_fn)PyCapsule_GetPointer(fn_caps, "tlink.cthunk_fn");
    if (fn == NULL) return NULL;
    data = PyCapsule_GetPointer(data_caps, "tlink.cthunk_data");
    if (data == NULL) return NULL;
    if (fn(data) != 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "C thunk failed without setting an error");
        return NULL;
    }
    Py_RETURN_NONE;
}
"""


def module_exec(run_names: list[str], cell_counts: list[int], init_code: list[str]) -> str:
    """The tail of a module: the node table, ``make_thunk``/``call_thunk`` and ``tlink_exec``."""
    table = ",\n    ".join(run_names) or "NULL"
    counts = ", ".join(str(n) for n in cell_counts) or "0"
    inits = "\n".join(init_code)
    return f"""
static tlink_run_fn tlink_runs[] = {{
    {table}
}};
static const Py_ssize_t tlink_ncells[] = {{ {counts} }};
static const Py_ssize_t tlink_nnodes = {len(run_names)};

static PyObject *tlink_make_thunk(PyObject *self, PyObject *args) {{
    Py_ssize_t k;
    PyObject *cells;
    if (!PyArg_ParseTuple(args, "nO", &k, &cells)) return NULL;
    if (k < 0 || k >= tlink_nnodes) {{
        PyErr_Format(PyExc_IndexError, "make_thunk: no node %zd in this module", k);
        return NULL;
    }}
    return tlink_capsules(tlink_runs[k], tlink_ncells[k], cells);
}}

static PyMethodDef tlink_methods[] = {{
    {{"make_thunk", tlink_make_thunk, METH_VARARGS, "(fn, data) capsules for node k."}},
    {{"call_thunk", tlink_call_thunk, METH_VARARGS, "Run a thunk given its capsules."}},
    {{NULL, NULL, 0, NULL}}
}};

static int tlink_exec(PyObject *module) {{
    import_array1(-1);
    if (PyModule_AddFunctions(module, tlink_methods) < 0) return -1;
    if (PyModule_AddIntConstant(module, "n_nodes", (long)tlink_nnodes) < 0) return -1;
    {{
{inits}
    }}
    return 0;
}}
"""

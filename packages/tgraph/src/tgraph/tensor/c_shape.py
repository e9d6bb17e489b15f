"""The C helpers that put an array's shape into an error message, shared by the ops' C code.

Every C implementation that reports a shape mismatch needs the shape as a Python tuple for
``PyErr_Format``'s ``%R``. The block below is included (guarded, so once per module) in the
support code of each such op family instead of each family keeping its own copy.
"""

from __future__ import annotations

__all__ = ["SHAPE_TUPLE_SUPPORT"]

SHAPE_TUPLE_SUPPORT = r"""
#ifndef TGRAPH_SHAPE_TUPLE
#define TGRAPH_SHAPE_TUPLE
/* The shape of a as a new tuple (NULL with an exception set when out of memory). */
static PyObject *tgraph_new_shape_tuple(PyArrayObject *a) {
    PyObject *t = PyTuple_New(PyArray_NDIM(a));
    int d;
    if (t == NULL) return NULL;
    for (d = 0; d < PyArray_NDIM(a); ++d) {
        PyObject *n = PyLong_FromSsize_t(PyArray_DIM(a, d));
        if (n == NULL) { Py_DECREF(t); return NULL; }
        PyTuple_SET_ITEM(t, d, n);
    }
    return t;
}

/* The same, borrowed: the last 8 tuples are kept alive in a ring, so one message can show
   several shapes (%R) without the caller releasing them; Py_None when out of memory. */
static PyObject *tgraph_shape_tuple(PyArrayObject *a) {
    static PyObject *ring[8];
    static int next = 0;
    PyObject *t = tgraph_new_shape_tuple(a);
    if (t == NULL) { PyErr_Clear(); return Py_None; }
    Py_XDECREF(ring[next]);
    ring[next] = t;
    next = (next + 1) % 8;
    return t;
}
#endif
"""

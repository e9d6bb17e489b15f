# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""NanGuardMode's per-node check in C, so a guarded node stays on the Cython VM's C loop.

Why it exists: wrapping a node's thunk in a Python closure costs a Python call per node and
per call (about 2 µs with NumPy's ``vdot`` dispatch), which was a third of NanGuardMode's
overhead on the seed's program. :func:`guarded_thunk` instead returns a tlink ``CThunk``
(the VM calls its function pointer directly) that runs the node, then screens its output:

* a C-contiguous float32/float64 array of at most ``SMALL`` elements is summed in squares
  here (eight partial sums in double, so the loop is not one long dependency chain);
* anything else (a larger array, where one BLAS ``vdot`` pass is faster than this loop, a
  strided array, another type), and any small array whose sum of squares is NaN or not below
  ``limit``, goes to ``check(value)``, the Python check that counts and reports exactly.

``limit`` has the meaning of ``_Guard.limit`` in ``tdebug.nanguardmode``: below it, an
array holds no NaN, no Inf and no huge value. ``slot`` (a list or None) receives the value
at index 2 once it passed, so the next call need not check it again as an input.
"""

from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_New
from cpython.ref cimport PyObject
from libc.stdlib cimport free, malloc

cimport numpy as cnp

cnp.import_array()

cdef extern from "Python.h":
    PyObject *_list_get "PyList_GET_ITEM"(PyObject *lst, Py_ssize_t i)
    void _incref "Py_INCREF"(PyObject *o)
    void _xincref "Py_XINCREF"(PyObject *o)
    void _xdecref "Py_XDECREF"(PyObject *o)
    PyObject *_call0 "PyObject_CallNoArgs"(PyObject *fn)
    PyObject *_call1 "PyObject_CallOneArg"(PyObject *fn, PyObject *arg)
    int _list_setitem "PyList_SetItem"(PyObject *lst, Py_ssize_t i, PyObject *item)

cdef extern from "numpy/arrayobject.h":
    int _is_exact_array "PyArray_CheckExact"(PyObject *o)

ctypedef int (*cthunk_fn_t)(void *data) noexcept

#: Arrays up to this many elements are screened here; larger ones by one BLAS pass.
SMALL = 16384

cdef const char *_FN_NAME = "tlink.cthunk_fn"
cdef const char *_DATA_NAME = "tlink.cthunk_data"


cdef struct GuardData:
    cthunk_fn_t fn       # the node's own C function, or NULL: call ``thunk``
    void *fn_data
    PyObject *thunk      # owned: keeps the node's thunk (and its capsules) alive
    PyObject *cell       # owned: the output cell screened after the node ran
    PyObject *check      # owned: the Python check for what the screen does not pass
    PyObject *slot       # owned or NULL: receives the passed value at index 2
    double limit


ctypedef fused real_t:
    float
    double


cdef inline double _sumsq(const real_t *p, Py_ssize_t n) noexcept nogil:
    """The sum of squares in double, in eight partial sums (no single dependency chain)."""
    cdef double s[8]
    cdef Py_ssize_t i, j
    for j in range(8):
        s[j] = 0.0
    i = 0
    while i + 8 <= n:
        for j in range(8):
            s[j] += <double>p[i + j] * <double>p[i + j]
        i += 8
    while i < n:
        s[0] += <double>p[i] * <double>p[i]
        i += 1
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))


cdef inline int _passes(PyObject *value, double limit) noexcept:
    """1 when ``value`` is a small contiguous float array whose sum of squares is below
    ``limit`` (NaN compares False), 0 when the Python check must look at it."""
    cdef cnp.ndarray arr
    cdef int typenum
    cdef Py_ssize_t n
    cdef double s
    if not _is_exact_array(value):
        return 0
    arr = <cnp.ndarray>value
    n = cnp.PyArray_SIZE(arr)
    if n > SMALL or not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        return 0
    typenum = cnp.PyArray_TYPE(arr)
    if typenum == cnp.NPY_FLOAT32:
        s = _sumsq(<const float *>cnp.PyArray_DATA(arr), n)
    elif typenum == cnp.NPY_FLOAT64:
        s = _sumsq(<const double *>cnp.PyArray_DATA(arr), n)
    else:
        return 0
    return 1 if s < limit else 0


cdef int _guarded_fn(void *p) noexcept:
    """The CThunk function: run the node, screen its output, call the check if needed."""
    cdef GuardData *d = <GuardData *>p
    cdef PyObject *res
    cdef PyObject *value
    if d.fn != NULL:
        if d.fn(d.fn_data) != 0:
            return -1
    else:
        res = _call0(d.thunk)
        if res == NULL:
            return -1
        _xdecref(res)
    value = _list_get(d.cell, 0)
    if not _passes(value, d.limit):
        res = _call1(d.check, value)
        if res == NULL:
            return -1
        _xdecref(res)
    if d.slot != NULL:
        _incref(value)
        if _list_setitem(d.slot, 2, value) != 0:  # steals the reference
            return -1
    return 0


cdef void _free_data(object capsule) noexcept:
    cdef GuardData *d = <GuardData *>PyCapsule_GetPointer(capsule, _DATA_NAME)
    if d == NULL:
        return
    _xdecref(d.thunk)
    _xdecref(d.cell)
    _xdecref(d.check)
    _xdecref(d.slot)
    free(d)


def screen(value, double limit) -> bool:
    """Whether the C screen passes ``value`` (False: the Python check must decide)."""
    return _passes(<PyObject *>value, limit) == 1


def guarded_thunk(thunk, list cell, check, double limit, slot=None):
    """A tlink CThunk running ``thunk`` and then screening ``cell[0]`` (see module doc).

    ``thunk`` is a tlink CThunk (its C function is called directly) or any callable thunk.
    The result carries ``thunk``'s ``inputs``, ``outputs`` and ``node``; the caller sets the
    other attributes.
    """
    from tlink.linker._cvm import CThunk

    if slot is not None and not isinstance(slot, list):
        raise TypeError(f"guarded_thunk: slot must be a list or None, got {type(slot)}")
    cdef GuardData *d = <GuardData *>malloc(sizeof(GuardData))
    if d == NULL:
        raise MemoryError("guarded_thunk: cannot allocate the guard's data")
    d.fn = NULL
    d.fn_data = NULL
    if type(thunk) is CThunk:
        d.fn = <cthunk_fn_t>PyCapsule_GetPointer(thunk.fn_capsule, _FN_NAME)
        d.fn_data = PyCapsule_GetPointer(thunk.data_capsule, _DATA_NAME)
    d.thunk = <PyObject *>thunk
    d.cell = <PyObject *>cell
    d.check = <PyObject *>check
    d.slot = NULL if slot is None else <PyObject *>slot
    d.limit = limit
    _incref(d.thunk)
    _incref(d.cell)
    _incref(d.check)
    _xincref(d.slot)
    data_capsule = PyCapsule_New(<void *>d, _DATA_NAME, <void (*)(object) noexcept>_free_data)
    fn_capsule = PyCapsule_New(<void *>_guarded_fn, _FN_NAME, NULL)
    return CThunk(fn_capsule, data_capsule, getattr(thunk, "inputs", None),
                  getattr(thunk, "outputs", None), getattr(thunk, "node", None))

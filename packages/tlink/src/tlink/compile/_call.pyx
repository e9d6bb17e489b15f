# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The hot path of ``Function.__call__``, compiled: check the arguments, run the VM, return.

Why: for a small graph the Python ``__call__`` (argument filtering through
``TensorType.filter``, bookkeeping, timing) costs far more than running the graph. This
module does the same work for the common call, *all explicit inputs given positionally,
no keyword, no profile*, and hands every other call to the Python ``__call__``
(``Function._python_call``), which stays the reference for behaviour and messages.

What the common call does, in the Python path's order: arguments are checked and
converted (all of them before any is stored), the VM runs, the outputs are read, the
inputs that have no default are emptied, the computed outputs are emptied when the VM
frees memory, updates are written to their shared containers, default values are put
back, and ``mode.fn_time``/``mode.call_time`` grow by the time spent.

An argument takes a C fast path when its input is a plain ``TensorType`` and the value is

* an ``ndarray`` (exactly, not a subclass) of the input's very dtype object, number of
  dimensions and size-1 broadcastable dimensions: stored as it is (``filter`` passes it
  through);
* for a 0-d input, a NumPy scalar of the input's dtype: stored as ``numpy.asarray(v)``;
* for a 0-d float64 input a Python float, and for a 0-d float32 input a Python float that
  float32 holds exactly: stored as the 0-d array ``filter`` would make (not for strict
  inputs, nor float32 with ``allow_downcast=False``).

Anything else goes through ``Function._filter`` (the Type's ``filter``), so conversions,
refusals and their messages are those of the Python path.
"""

from cpython.ref cimport PyObject

import time

from tgraph.tensor.type import TensorType

cdef extern from "numpy/arrayobject.h":
    ctypedef Py_ssize_t npy_intp
    ctypedef struct PyArrayObject:
        pass
    ctypedef struct PyArray_Descr:
        pass
    int NPY_FLOAT32
    int NPY_FLOAT64
    int _import_array() except -1
    int PyArray_NDIM(PyArrayObject *arr)
    npy_intp *PyArray_DIMS(PyArrayObject *arr)
    PyArray_Descr *PyArray_DESCR(PyArrayObject *arr)
    void *PyArray_DATA(PyArrayObject *arr)
    object PyArray_FromScalar(object scalar, PyArray_Descr *outcode)
    object PyArray_SimpleNew(int nd, npy_intp *dims, int typenum)

cdef extern from *:
    """
    #include <float.h>
    #include <math.h>
    /* The clock of time.perf_counter (CLOCK_MONOTONIC on POSIX). */
    #if defined(_WIN32)
    #include <windows.h>
    static double tlink_now(void) {
        LARGE_INTEGER f, c;
        QueryPerformanceFrequency(&f);
        QueryPerformanceCounter(&c);
        return (double)c.QuadPart / (double)f.QuadPart;
    }
    #else
    #include <time.h>
    static double tlink_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    }
    #endif
    static int tlink_float32_exact(double d) {
        return isfinite(d) && fabs(d) <= FLT_MAX && (double)(float)d == d;
    }
    """
    double tlink_now()
    int tlink_float32_exact(double d)

_import_array()

import numpy as np

__all__ = ["function_call", "set_python_call"]

cdef object _python_call = None
cdef object _ndarray = np.ndarray

# Fast-path kinds of an explicit input.
cdef enum:
    GENERIC = 0      # Function._filter for every value
    TENSOR = 1       # the fast paths above


def set_python_call(fn) -> None:
    """Record the Python ``Function.__call__``: the path for every call not handled here."""
    global _python_call
    _python_call = fn


cdef class _Input:
    """What an explicit input's check needs, read once from its spec and Type."""

    cdef int kind
    cdef int position       # index in the Function's inputs (for Function._filter)
    cdef int ndim
    cdef int typenum
    cdef bint strict
    cdef bint no_downcast   # allow_downcast is False
    cdef object dtype       # the Type's numpy dtype object
    cdef object scalar_type
    cdef tuple bcast_axes   # axes declared broadcastable (size 1)

    cdef object convert(self, object fn, object value):
        cdef PyArrayObject *arr
        cdef npy_intp *dims
        cdef double d
        cdef object out
        if self.kind == TENSOR:
            if type(value) is _ndarray:
                arr = <PyArrayObject *>value
                if (<object>PyArray_DESCR(arr) is self.dtype
                        and PyArray_NDIM(arr) == self.ndim):
                    dims = PyArray_DIMS(arr)
                    for axis in self.bcast_axes:
                        if dims[<Py_ssize_t>axis] != 1:
                            break
                    else:
                        return value
            elif self.ndim == 0 and not self.strict:
                if type(value) is self.scalar_type:
                    return PyArray_FromScalar(value, NULL)
                if type(value) is float:
                    d = <double>value
                    if self.typenum == NPY_FLOAT64:
                        out = PyArray_SimpleNew(0, NULL, NPY_FLOAT64)
                        (<double *>PyArray_DATA(<PyArrayObject *>out))[0] = d
                        return out
                    if (self.typenum == NPY_FLOAT32 and not self.no_downcast
                            and tlink_float32_exact(d)):
                        out = PyArray_SimpleNew(0, NULL, NPY_FLOAT32)
                        (<float *>PyArray_DATA(<PyArrayObject *>out))[0] = <float>d
                        return out
        return fn._filter(self.position, value)


cdef _Input _make_input(int position, spec, vtype):
    cdef _Input inp = _Input()
    inp.position = position
    inp.kind = GENERIC
    if (isinstance(vtype, TensorType) and type(vtype).filter is TensorType.filter
            and type(vtype)._convert is TensorType._convert):
        inp.kind = TENSOR
        inp.dtype = vtype.numpy_dtype
        inp.scalar_type = vtype.numpy_dtype.type
        inp.typenum = vtype.numpy_dtype.num
        inp.ndim = vtype.ndim
        inp.bcast_axes = tuple(i for i, b in enumerate(vtype.broadcastable) if b)
        inp.strict = bool(spec.strict)
        inp.no_downcast = spec.allow_downcast is False
    return inp


cdef class _Plan:
    """A Function's call, precomputed from the fields its ``__init__`` prepared."""

    cdef Py_ssize_t n_explicit
    cdef list inputs          # _Input per explicit input
    cdef list explicit_cells
    cdef list output_cells
    cdef list required_cells
    cdef list computed_output_cells
    cdef bint gc_outputs
    cdef list refeed
    cdef list update_positions  # reversed, as outputs.pop() consumes them
    cdef list input_storage
    cdef Py_ssize_t n_returned
    cdef bint check_aliases
    cdef list explicit
    cdef object vm
    cdef object mode
    cdef bint return_none
    cdef bint unpack_single
    cdef object output_keys

    def __init__(self, fn):
        specs = fn._specs
        self.explicit = list(fn._explicit)
        self.n_explicit = len(self.explicit)
        self.inputs = [_make_input(k, specs[k], fn.input_storage[k].type)
                       for k in self.explicit]
        self.explicit_cells = list(fn._explicit_cells)
        self.output_cells = list(fn._output_cells)
        self.required_cells = list(fn._required_cells)
        self.computed_output_cells = list(fn._computed_output_cells)
        self.gc_outputs = bool(fn._gc_outputs)
        self.refeed = list(fn._refeed)
        self.update_positions = list(reversed(fn._update_positions))
        self.input_storage = list(fn.input_storage)
        self.n_returned = fn.n_returned_outputs
        self.check_aliases = bool(fn._check_for_aliased_inputs)
        self.vm = fn.fn
        self.mode = fn.maker.mode
        self.return_none = bool(fn.return_none)
        self.unpack_single = bool(fn.unpack_single)
        self.output_keys = fn.output_keys

    cdef void restore_defaults(self):
        for cell, value in self.refeed:
            (<list>cell)[0] = value


def function_call(self, *args, **kwargs):
    """``Function.__call__``: the common call here, every other one in Python."""
    cdef _Plan plan
    cdef _Input inp
    cdef Py_ssize_t j, n
    cdef double t0, t_fn, dt_fn
    cdef list values, outputs, cells
    t0 = tlink_now()
    plan = self._cplan
    if plan is None:
        plan = self._cplan = _Plan(self)
    n = len(args)
    if kwargs or n != plan.n_explicit or self.profile:
        return _python_call(self, *args, **kwargs)
    cells = plan.explicit_cells
    if self.trust_input:
        for j in range(n):
            (<list>cells[j])[0] = args[j]
    else:
        try:
            if n == 1:
                inp = <_Input>plan.inputs[0]
                (<list>cells[0])[0] = inp.convert(self, args[0])
            else:
                values = [(<_Input>plan.inputs[j]).convert(self, args[j]) for j in range(n)]
                for j in range(n):
                    (<list>cells[j])[0] = values[j]
                if plan.check_aliases:
                    self._break_input_aliases(plan.explicit)
        except Exception:
            plan.restore_defaults()
            raise
    t_fn = tlink_now()
    try:
        plan.vm()
    except Exception:
        plan.restore_defaults()
        raise
    dt_fn = tlink_now() - t_fn
    outputs = [(<list>cell)[0] for cell in plan.output_cells]
    for cell in plan.required_cells:
        (<list>cell)[0] = None
    if plan.gc_outputs:
        for cell in plan.computed_output_cells:
            (<list>cell)[0] = None
    if plan.update_positions:
        if getattr(plan.vm, "need_update_inputs", True):
            for k in plan.update_positions:
                plan.input_storage[k].data = outputs.pop()
        else:
            outputs = outputs[:plan.n_returned]
    plan.restore_defaults()
    mode = plan.mode
    mode.fn_time += dt_fn
    mode.call_time += tlink_now() - t0
    if plan.return_none:
        return None
    if plan.unpack_single and len(outputs) == 1:
        return outputs[0]
    if plan.output_keys is not None:
        return dict(zip(plan.output_keys, outputs))
    return outputs

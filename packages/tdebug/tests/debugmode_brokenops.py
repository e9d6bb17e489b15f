"""Deliberately broken Ops for the DebugMode tests: each breaks one contract DebugMode checks.

Written as a user of Theano 1.0 writes Ops (tgraph's Op, ``perform``, ``c_code`` with the
Theano C API), so the tests also show that DebugMode catches these mistakes in user code.
"""

from __future__ import annotations

import numpy as np

import tgraph.tensor as T
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op


class _Unary(Op):
    """A float64 vector in, a float64 vector out."""

    __props__ = ()

    def make_node(self, x):
        x = T.as_tensor_variable(x)
        return Apply(self, [x], [x.type()])


class CDisagrees(_Unary):
    """perform computes 2 * x; the C code computes 2 * x + 1 (BadThunkOutput)."""

    def perform(self, node, inputs, outputs, params=None):
        outputs[0][0] = 2 * inputs[0]

    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        fail = sub["fail"]
        return f"""
        Py_XDECREF({z});
        {z} = (PyArrayObject*)PyArray_NewCopy({x}, NPY_CORDER);
        if (!{z}) {fail}
        {{
            npy_intp n = PyArray_SIZE({z});
            double* d = (double*)PyArray_DATA({z});
            for (npy_intp i = 0; i < n; ++i) d[i] = 2 * d[i] + 1;
        }}
        """

    def c_code_cache_version(self):
        return (1,)


class CAgrees(CDisagrees):
    """Like CDisagrees, but the C code is right (2 * x)."""

    def c_code(self, node, name, inputs, outputs, sub):
        return super().c_code(node, name, inputs, outputs, sub).replace("+ 1;", ";")


class WritesInput(_Unary):
    """Returns x + 1 but also zeroes its input, with no destroy_map (BadDestroyMap)."""

    def perform(self, node, inputs, outputs, params=None):
        (x,) = inputs
        outputs[0][0] = x + 1
        x[...] = 0


class ReturnsView(_Unary):
    """Returns its input itself, with no view_map (BadViewMap)."""

    def perform(self, node, inputs, outputs, params=None):
        outputs[0][0] = inputs[0]


class DeclaredView(ReturnsView):
    """Returns its input, declared in view_map: fine."""

    view_map = {0: [0]}


class WrongDtype(_Unary):
    """Returns a float32 array for a float64 output (InvalidValueError)."""

    def perform(self, node, inputs, outputs, params=None):
        outputs[0][0] = inputs[0].astype("float32")


class ReturnsNaN(_Unary):
    """Returns x with one NaN in it (InvalidValueError when check_isfinite)."""

    def perform(self, node, inputs, outputs, params=None):
        out = inputs[0].copy()
        out[len(out) // 2] = np.nan
        outputs[0][0] = out


class ContiguousOnly(_Unary):
    """Doubles x through its raw buffer, which is only right for C-contiguous inputs."""

    def perform(self, node, inputs, outputs, params=None):
        (x,) = inputs
        flat = np.frombuffer(x.base if x.base is not None and not x.flags.c_contiguous
                             else x, dtype=x.dtype)
        outputs[0][0] = (2 * flat[: x.size]).reshape(x.shape)


class ReadsOutputStorage(_Unary):
    """Adds x into whatever its output storage holds (wrong unless that is empty)."""

    def perform(self, node, inputs, outputs, params=None):
        (x,) = inputs
        prev = outputs[0][0]
        if prev is not None and prev.shape == x.shape:
            prev += x  # forgets to reset the buffer it reuses
            outputs[0][0] = prev
        else:
            outputs[0][0] = x.copy()

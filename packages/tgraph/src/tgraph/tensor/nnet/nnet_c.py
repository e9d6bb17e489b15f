"""C code of the softmax family and the one-hot crossentropy ops (text only: tlink compiles).

Row by row, in the dtype NumPy's ``perform`` computes in (the upcast of the float inputs;
float16 is left to ``perform``): the row maximum, ``exp(x - max)`` summed in double, then
the normalised row. Errors raise the same class (``NNetInputError``) with the same text as
``perform``.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["NNET_C_VERSION", "NNET_INIT", "NNET_SUPPORT", "NNetCMixin", "nnet_c_code"]

NNET_C_VERSION = (2,)

NNET_SUPPORT = SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_NNET_SUPPORT
#define TGRAPH_NNET_SUPPORT
static PyObject *tgraph_nnet_error = NULL;

static int tgraph_nnet_load(void) {
    PyObject *mod;
    if (tgraph_nnet_error != NULL) return 0;
    mod = PyImport_ImportModule("tgraph.tensor.nnet._common");
    if (mod == NULL) return -1;
    tgraph_nnet_error = PyObject_GetAttrString(mod, "NNetInputError");
    Py_DECREF(mod);
    return tgraph_nnet_error == NULL ? -1 : 0;
}

#define TGRAPH_AT2(a, i, j) (PyArray_BYTES(a) + (i) * PyArray_STRIDE(a, 0) \
                             + (j) * PyArray_STRIDE(a, 1))
#define TGRAPH_AT1(a, i) (PyArray_BYTES(a) + (i) * PyArray_STRIDE(a, 0))

/* class index k of row i must be in [0, n) */
static int tgraph_check_class(const char *op, npy_int64 k, npy_intp n) {
    if (k < 0 || k >= n) {
        PyErr_Format(tgraph_nnet_error, "%s: y_i value out of bounds: class index %lld for "
                     "%zd classes (expected 0 <= y_idx < %zd)", op, (long long)k,
                     (Py_ssize_t)n, (Py_ssize_t)n);
        return -1;
    }
    return 0;
}

static int tgraph_check_rows(const char *op, const char *what, npy_intp got, npy_intp rows) {
    if (got != rows) {
        PyErr_Format(tgraph_nnet_error, "%s: %s has length %zd but the matrix has %zd rows; "
                     "they must match", op, what, (Py_ssize_t)got, (Py_ssize_t)rows);
        return -1;
    }
    return 0;
}

static int tgraph_like(PyArrayObject **out, PyArrayObject *shape_of, int nd, int typenum) {
    if (*out != NULL && PyArray_IS_C_CONTIGUOUS(*out) && PyArray_NDIM(*out) == nd
        && PyArray_CompareLists(PyArray_DIMS(*out), PyArray_DIMS(shape_of), nd)) return 0;
    Py_XDECREF(*out);
    *out = (PyArrayObject *)PyArray_EMPTY(nd, PyArray_DIMS(shape_of), typenum, 0);
    return *out == NULL ? -1 : 0;
}
#endif
"""

NNET_INIT = "if (tgraph_nnet_load() < 0) return -1;"

_FLOATS = {"float32": "npy_float32", "float64": "npy_float64"}


def _work(*dtypes: str) -> str:
    for dt in dtypes:
        if dt not in _FLOATS:
            raise MethodNotDefined(f"no C softmax/crossentropy for dtype {dt}")
    return "npy_float64" if "float64" in dtypes else "npy_float32"


def _exp(work: str) -> str:
    return "exp" if work == "npy_float64" else "expf"


def _log(work: str) -> str:
    return "log" if work == "npy_float64" else "logf"


def _bias_check(op, x: str, b: str, fail: str) -> str:
    return (f"if (PyArray_DIM({b}, 0) != PyArray_DIM({x}, 1)) {{ PyErr_Format(tgraph_nnet_error,"
            f" \"{op}: b has length %zd but x has shape %R; b must have one entry per column"
            f" of x\", (Py_ssize_t)PyArray_DIM({b}, 0), tgraph_shape_tuple({x})); {fail} }}")


def _softmax_rows(name, work, x, b, out, log: bool, extra_row: str = "",
                  argmax: str | None = None) -> str:
    """Loop computing softmax (or log-softmax) of x (+ b) into ``out`` row by row."""
    ex = _exp(work)
    bias = f" + (({work})*(dtype_{b} *)TGRAPH_AT1({b}, j))" if b else ""
    val = f"(({work})*(dtype_{x} *)TGRAPH_AT2({x}, i, j)){bias}"
    store = (f"{name}_o[j] = (dtype_{out})({name}_v[j] - {name}_m - {_log('npy_float64')}"
             f"({name}_s));" if log else
             f"{name}_o[j] = (dtype_{out})({name}_v[j] / {name}_s);")
    # NaN wins, as in NumPy's max and argmax (the first NaN for the argmax)
    v, m = f"{name}_v[j]", f"{name}_m"
    am = (f"      if ({v} > {m} || ({v} != {v} && {m} == {m})) {{ {m} = {v}; {name}_k = j; }}"
          if argmax else f"      if ({v} > {m} || {v} != {v}) {m} = {v};")
    return f"""{{
  npy_intp {name}_r = PyArray_DIM({x}, 0), {name}_c = PyArray_DIM({x}, 1);
  {work} *{name}_v = ({work} *)PyMem_Malloc(({name}_c > 0 ? {name}_c : 1) * sizeof({work}));
  if ({name}_v == NULL) {{ PyErr_NoMemory(); __failure = 1; }}
  for (npy_intp i = 0; {name}_v != NULL && i < {name}_r; ++i) {{
    dtype_{out} *{name}_o = (dtype_{out} *)TGRAPH_AT2({out}, i, 0);
    {work} {name}_m = -INFINITY;
    double {name}_s = 0;
    npy_intp {name}_k = 0;
    for (npy_intp j = 0; j < {name}_c; ++j) {{
      {name}_v[j] = {val};
{am}
    }}
    for (npy_intp j = 0; j < {name}_c; ++j) {{
      {work} e = {ex}({name}_v[j] - {name}_m);
      {name}_s += e;
      {"" if log else f"{name}_v[j] = e;"}
    }}
    for (npy_intp j = 0; j < {name}_c; ++j) {{
      {store}
    }}
{extra_row}
  }}
  PyMem_Free({name}_v);
}}"""


def nnet_c_code(op, kind: str, node, inputs, outputs, sub) -> str:
    """C for one of the nnet ops (``kind`` names which)."""
    fail = sub["fail"]
    dts = [v.type.dtype for v in node.inputs if v.type.dtype.startswith("float")]
    work = _work(*dts, *(o.type.dtype for o in node.outputs if o.type.dtype.startswith("f")))
    if kind in ("softmax", "log_softmax", "softmax_with_bias"):
        x = inputs[0]
        b = inputs[1] if kind == "softmax_with_bias" else None
        (z,) = outputs
        pre = _bias_check(op, x, b, fail) + "\n" if b else ""
        body = _softmax_rows(sub["name"], work, x, b, z, log=kind == "log_softmax")
        return (f"{pre}if (tgraph_like(&{z}, {x}, 2, type_num_{z}) < 0) {fail}\n{body}\n"
                f"if (__failure) {fail}")
    if kind == "xent_sm_argmax":
        x, b, y = inputs
        nll, sm, am = outputs
        name = sub["name"]
        ex = "npy_float64"
        extra = (f"    {{ npy_int64 t = (npy_int64)*(dtype_{y} *)TGRAPH_AT1({y}, i);\n"
                 f"      if (tgraph_check_class(\"{op}\", t, {name}_c) < 0) {{ __failure = 1;"
                 f" break; }}\n"
                 f"      *(dtype_{nll} *)TGRAPH_AT1({nll}, i) = (dtype_{nll})(-({ex}){name}_v_y"
                 f" + {name}_m + log({name}_s));\n"
                 f"      *(dtype_{am} *)TGRAPH_AT1({am}, i) = (dtype_{am}){name}_k; }}")
        # the softmax loop keeps v[j] = exp(.) after normalising; remember x+b at y first
        body = _softmax_rows(name, work, x, b, sm, log=False, extra_row=extra, argmax=am)
        anchor = f"    for (npy_intp j = 0; j < {name}_c; ++j) {{\n      {work} e ="
        body = body.replace(
            anchor,
            f"    {work} {name}_v_y = 0;\n"
            f"    {{ npy_int64 t = (npy_int64)*(dtype_{y} *)TGRAPH_AT1({y}, i);\n"
            f"      if (t >= 0 && t < {name}_c) {name}_v_y = {name}_v[t]; }}\n" + anchor)
        return "\n".join([
            _bias_check(op, x, b, fail),
            f"if (tgraph_check_rows(\"{op}\", \"y_idx\", PyArray_DIM({y}, 0),"
            f" PyArray_DIM({x}, 0)) < 0) {fail}",
            f"if (tgraph_like(&{nll}, {y}, 1, type_num_{nll}) < 0) {fail}",
            f"if (tgraph_like(&{sm}, {x}, 2, type_num_{sm}) < 0) {fail}",
            f"if (tgraph_like(&{am}, {y}, 1, type_num_{am}) < 0) {fail}",
            body,
            f"if (__failure) {fail}",
        ])
    if kind == "xent_dx":
        dy, sm, y = inputs
        (dx,) = outputs
        dy_nd = node.inputs[0].type.ndim
        dy_at = (f"(({work})*(dtype_{dy} *)PyArray_DATA({dy}))" if dy_nd == 0 else
                 f"(({work})*(dtype_{dy} *)TGRAPH_AT1({dy}, PyArray_DIM({dy}, 0) == 1 ? 0 : i))")
        check_dy = "" if dy_nd == 0 else (
            f"if (PyArray_DIM({dy}, 0) != 1 && PyArray_DIM({dy}, 0) != PyArray_DIM({sm}, 0)) {{"
            f" PyErr_Format(tgraph_nnet_error, \"{op}: dy has length %zd but sm has %zd rows; dy"
            f" must have one entry per row, or one for all rows\", (Py_ssize_t)PyArray_DIM({dy},"
            f" 0), (Py_ssize_t)PyArray_DIM({sm}, 0)); {fail} }}")
        return "\n".join([
            f"if (tgraph_check_rows(\"{op}\", \"y_idx\", PyArray_DIM({y}, 0),"
            f" PyArray_DIM({sm}, 0)) < 0) {fail}",
            f"for (npy_intp i = 0; i < PyArray_DIM({y}, 0); ++i)"
            f" if (tgraph_check_class(\"{op}\", (npy_int64)*(dtype_{y} *)TGRAPH_AT1({y}, i),"
            f" PyArray_DIM({sm}, 1)) < 0) {fail}",
            check_dy,
            f"if (tgraph_like(&{dx}, {sm}, 2, type_num_{dx}) < 0) {fail}",
            f"for (npy_intp i = 0; i < PyArray_DIM({sm}, 0); ++i) {{",
            f"  {work} d = {dy_at};",
            f"  npy_int64 t = (npy_int64)*(dtype_{y} *)TGRAPH_AT1({y}, i);",
            f"  dtype_{dx} *o = (dtype_{dx} *)TGRAPH_AT2({dx}, i, 0);",
            f"  for (npy_intp j = 0; j < PyArray_DIM({sm}, 1); ++j)",
            f"    o[j] = (dtype_{dx})(d * (({work})*(dtype_{sm} *)TGRAPH_AT2({sm}, i, j))"
            f" - (j == t ? d : 0));",
            "}",
        ])
    if kind == "xent_categorical":
        coding, idx = inputs
        (out,) = outputs
        return "\n".join([
            f"if (tgraph_check_rows(\"{op}\", \"true_one_of_n\", PyArray_DIM({idx}, 0),"
            f" PyArray_DIM({coding}, 0)) < 0) {fail}",
            f"{{ npy_intp n = PyArray_DIM({idx}, 0);",
            f"  if ({out} == NULL || PyArray_DIM({out}, 0) != n) {{ Py_XDECREF({out});"
            f" {out} = (PyArrayObject *)PyArray_EMPTY(1, &n, type_num_{out}, 0);"
            f" if ({out} == NULL) {fail} }}",
            "  for (npy_intp i = 0; i < n; ++i) {",
            f"    npy_int64 t = (npy_int64)*(dtype_{idx} *)TGRAPH_AT1({idx}, i);",
            f"    if (tgraph_check_class(\"{op}\", t, PyArray_DIM({coding}, 1)) < 0) {fail}",
            f"    *(dtype_{out} *)TGRAPH_AT1({out}, i) = (dtype_{out})(-{_log(work)}(({work})"
            f"*(dtype_{coding} *)TGRAPH_AT2({coding}, i, t)));",
            "  } }",
        ])
    raise MethodNotDefined(f"{op}: unknown nnet C kind {kind!r}")


class NNetCMixin:
    """The C methods of the softmax and crossentropy ops, written once.

    An op sets ``_c_kind`` (the ``kind`` of :func:`nnet_c_code`) and lists this class
    before ``Op``, as the BLAS ops do with ``_BlasC``.
    """

    _c_kind = ""

    def c_code(self, node, name, inputs, outputs, sub):
        return nnet_c_code(self, self._c_kind, node, inputs, outputs, sub)

    def c_support_code(self, **kwargs):
        return NNET_SUPPORT

    def c_init_code(self, **kwargs):
        return [NNET_INIT]

    def c_headers(self, **kwargs):
        return ["<math.h>"]

    def c_code_cache_version(self):
        return NNET_C_VERSION

"""C code of the BLAS ops (text only: tlink compiles it), calling SciPy's BLAS or another.

No system BLAS and no linker flag is needed: SciPy ships a BLAS and exports its routines
as C function pointers in ``scipy.linalg.cython_blas.__pyx_capi__`` (PyCapsules). The
module's init code fetches the pointers once; the ops call them. When the module is compiled
with ``-D`` :data:`BLAS_LDFLAGS_MACRO` (tlink does so when ``blas.ldflags`` is set), the
pointers are the Fortran symbols ``sgemm_``... of the library those flags link instead.
Fortran BLAS is column-major, so a C-ordered operand is passed as its transpose
(``C^T = B^T A^T``) rather than copied; only an operand with no unit stride (or negative
strides) is copied first.

float32 and float64 only; other dtypes raise MethodNotDefined and run ``perform``.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["BLAS_C_VERSION", "BLAS_INIT", "BLAS_LDFLAGS_MACRO", "BLAS_SUPPORT", "blas_c_code"]

BLAS_C_VERSION = (4,)

#: Defined (``-D``) by the linker to call a linked library's ``sgemm_``... instead of SciPy's
#: capsules. Its name appearing in a module's source is how tlink knows the module calls BLAS.
BLAS_LDFLAGS_MACRO = "TGRAPH_BLAS_LDFLAGS"

_ROUTINES = {
    "gemm": "(char *, char *, int *, int *, int *, {t} *, {t} *, int *, {t} *, int *, {t} *, "
            "{t} *, int *)",
    "gemv": "(char *, int *, int *, {t} *, {t} *, int *, {t} *, int *, {t} *, {t} *, int *)",
    "ger": "(int *, int *, {t} *, {t} *, int *, {t} *, int *, {t} *, int *)",
}


def _pointer_decls() -> str:
    lines = []
    for prefix, ctype in (("s", "float"), ("d", "double")):
        for routine, sig in _ROUTINES.items():
            lines.append(f"typedef void (*tgraph_{prefix}{routine}_t){sig.format(t=ctype)};")
            lines.append(f"static tgraph_{prefix}{routine}_t tgraph_{prefix}{routine} = NULL;")
    return "\n".join(lines)


def _direct_load() -> str:
    """``tgraph_blas_load`` taking the linked library's Fortran symbols (no Python call)."""
    decls, sets = [], []
    for prefix, ctype in (("s", "float"), ("d", "double")):
        for routine, sig in _ROUTINES.items():
            decls.append(f"extern void {prefix}{routine}_{sig.format(t=ctype)};")
            sets.append(f"    tgraph_{prefix}{routine} = {prefix}{routine}_;")
    return "\n".join([*decls, "static int tgraph_blas_load(void) {", *sets, "    return 0;",
                      "}"])


def _kernels(prefix: str, ctype: str) -> str:
    """gemm/gemv/ger on 2-d/1-d ndarrays of ``ctype`` for one BLAS precision."""
    p = prefix
    return f"""
/* C = alpha * A B + beta * C (C written in place; A, B, C well-behaved 2-d arrays) */
static int tgraph_{p}gemm_nd(PyArrayObject *C, {ctype} alpha, PyArrayObject *A,
                             PyArrayObject *B, {ctype} beta) {{
    int m = (int)PyArray_DIM(C, 0), n = (int)PyArray_DIM(C, 1), k = (int)PyArray_DIM(A, 1);
    PyArrayObject *Ac = NULL, *Bc = NULL, *Cc = NULL;
    int ra, rb, rc, lda, ldb, ldc;
    char ta, tb;
    if (m == 0 || n == 0) return 0;
    if (k == 0) {{  /* C = beta * C; with beta == 0, C's values are ignored */
        PyObject *r;
        int status;
        if (beta == 0) {{
            r = PyArray_ZEROS(2, PyArray_DIMS(C), PyArray_TYPE(C), 0);
        }} else {{
            PyObject *s = PyFloat_FromDouble((double)beta);
            if (s == NULL) return -1;
            r = PyNumber_Multiply((PyObject *)C, s);
            Py_DECREF(s);
        }}
        if (r == NULL) return -1;
        status = PyArray_CopyInto(C, (PyArrayObject *)r);
        Py_DECREF(r);
        return status;
    }}
    if (tgraph_blas_prepare(&A, &Ac, &ra, &lda) < 0
        || tgraph_blas_prepare(&B, &Bc, &rb, &ldb) < 0) {{
        Py_XDECREF(Ac); Py_XDECREF(Bc); return -1;
    }}
    {{
        PyArrayObject *Cw = C;
        if (tgraph_blas_prepare(&Cw, &Cc, &rc, &ldc) < 0) {{
            Py_XDECREF(Ac); Py_XDECREF(Bc); return -1;
        }}
        {ctype} *a = ({ctype} *)PyArray_DATA(A), *b = ({ctype} *)PyArray_DATA(B);
        {ctype} *c = ({ctype} *)PyArray_DATA(Cw);
        if (rc) {{
            /* C row-major = C^T column-major: C^T = alpha B^T A^T + beta C^T */
            tb = rb ? 'N' : 'T';
            ta = ra ? 'N' : 'T';
            tgraph_{p}gemm(&tb, &ta, &n, &m, &k, &alpha, b, &ldb, a, &lda, &beta, c, &ldc);
        }} else {{
            ta = ra ? 'T' : 'N';
            tb = rb ? 'T' : 'N';
            tgraph_{p}gemm(&ta, &tb, &m, &n, &k, &alpha, a, &lda, b, &ldb, &beta, c, &ldc);
        }}
    }}
    Py_XDECREF(Ac); Py_XDECREF(Bc);
    if (Cc) {{
        int r = PyArray_CopyInto(C, Cc);
        Py_DECREF(Cc);
        if (r < 0) return -1;
    }}
    return 0;
}}

/* y = alpha * A x + beta * y (y written in place) */
static int tgraph_{p}gemv_nd(PyArrayObject *y, {ctype} alpha, PyArrayObject *A,
                             PyArrayObject *x, {ctype} beta) {{
    int m = (int)PyArray_DIM(A, 0), n = (int)PyArray_DIM(A, 1), ra, lda, incx, incy;
    PyArrayObject *Ac = NULL, *xc = NULL;
    char t;
    if (m == 0) return 0;
    if (n == 0) {{
        npy_intp i;
        char *py = PyArray_BYTES(y);
        for (i = 0; i < m; ++i) {{
            {ctype} *v = ({ctype} *)(py + i * PyArray_STRIDE(y, 0));
            *v = beta == 0 ? 0 : beta * *v;
        }}
        return 0;
    }}
    if (tgraph_blas_prepare(&A, &Ac, &ra, &lda) < 0
        || tgraph_blas_prepare_vec(&x, &xc, &incx) < 0) {{
        Py_XDECREF(Ac); Py_XDECREF(xc); return -1;
    }}
    if (tgraph_blas_inc(y, &incy) < 0) {{  /* e.g. negative strides: via a copy */
        PyArrayObject *yc = tgraph_blas_copy(y);
        int r;
        if (yc == NULL) {{ Py_XDECREF(Ac); Py_XDECREF(xc); return -1; }}
        r = tgraph_{p}gemv_nd(yc, alpha, A, x, beta);
        if (r == 0) r = PyArray_CopyInto(y, yc);
        Py_DECREF(yc); Py_XDECREF(Ac); Py_XDECREF(xc);
        return r;
    }}
    {{
        {ctype} *a = ({ctype} *)PyArray_DATA(A), *xv = ({ctype} *)PyArray_DATA(x);
        {ctype} *yv = ({ctype} *)PyArray_DATA(y);
        if (ra) {{
            t = 'T';
            tgraph_{p}gemv(&t, &n, &m, &alpha, a, &lda, xv, &incx, &beta, yv, &incy);
        }} else {{
            t = 'N';
            tgraph_{p}gemv(&t, &m, &n, &alpha, a, &lda, xv, &incx, &beta, yv, &incy);
        }}
    }}
    Py_XDECREF(Ac); Py_XDECREF(xc);
    return 0;
}}

/* A += alpha * outer(x, y) (A written in place) */
static int tgraph_{p}ger_nd(PyArrayObject *A, {ctype} alpha, PyArrayObject *x,
                            PyArrayObject *y) {{
    int m = (int)PyArray_DIM(A, 0), n = (int)PyArray_DIM(A, 1), ra, lda, incx, incy;
    PyArrayObject *xc = NULL, *yc = NULL, *Ac = NULL, *A0 = A;
    if (m == 0 || n == 0) return 0;
    if (tgraph_blas_prepare(&A, &Ac, &ra, &lda) < 0) return -1;  /* Ac: copied back below */
    if (tgraph_blas_prepare_vec(&x, &xc, &incx) < 0
        || tgraph_blas_prepare_vec(&y, &yc, &incy) < 0) {{
        Py_XDECREF(xc); Py_XDECREF(yc); return -1;
    }}
    {{
        {ctype} *a = ({ctype} *)PyArray_DATA(A), *xv = ({ctype} *)PyArray_DATA(x);
        {ctype} *yv = ({ctype} *)PyArray_DATA(y);
        if (ra) tgraph_{p}ger(&n, &m, &alpha, yv, &incy, xv, &incx, a, &lda);
        else tgraph_{p}ger(&m, &n, &alpha, xv, &incx, yv, &incy, a, &lda);
    }}
    Py_XDECREF(xc); Py_XDECREF(yc);
    if (Ac) {{
        int r = PyArray_CopyInto(A0, Ac);
        Py_DECREF(Ac);
        return r;
    }}
    return 0;
}}
"""


BLAS_SUPPORT = r"""
#ifndef TGRAPH_BLAS_SUPPORT
#define TGRAPH_BLAS_SUPPORT
""" + _pointer_decls() + f"""
#ifdef {BLAS_LDFLAGS_MACRO}
/* linked with config.blas.ldflags: that library's Fortran BLAS */
{_direct_load()}
#else
""" + r"""
static int tgraph_blas_load(void) {
    static const char *names[] = {"sgemm", "sgemv", "sger", "dgemm", "dgemv", "dger"};
    void **slots[] = {(void **)&tgraph_sgemm, (void **)&tgraph_sgemv, (void **)&tgraph_sger,
                      (void **)&tgraph_dgemm, (void **)&tgraph_dgemv, (void **)&tgraph_dger};
    PyObject *mod, *capi;
    int i;
    if (tgraph_sgemm != NULL) return 0;
    /* tgraph.tensor.blas_capi: scipy.linalg.cython_blas.__pyx_capi__, loaded without
       importing the rest of scipy.linalg */
    mod = PyImport_ImportModule("tgraph.tensor.blas_capi");
    if (mod == NULL) return -1;
    capi = PyObject_CallMethod(mod, "cython_blas_capi", NULL);
    Py_DECREF(mod);
    if (capi == NULL) return -1;
    if (!PyDict_Check(capi)) {
        PyErr_SetString(PyExc_ImportError,
                        "scipy.linalg.cython_blas.__pyx_capi__ is not a dict");
        Py_DECREF(capi);
        return -1;
    }
    for (i = 0; i < 6; ++i) {
        PyObject *cap = PyDict_GetItemString(capi, names[i]);
        void *ptr;
        if (cap == NULL) {
            PyErr_Format(PyExc_ImportError,
                         "scipy.linalg.cython_blas does not export %s", names[i]);
            Py_DECREF(capi);
            return -1;
        }
        ptr = PyCapsule_GetPointer(cap, PyCapsule_GetName(cap));
        if (ptr == NULL) { Py_DECREF(capi); return -1; }
        *slots[i] = ptr;
    }
    Py_DECREF(capi);
    return 0;
}
#endif

/* Layout of a 2-d array for BLAS: row-major (*rowmajor = 1) or column-major with leading
   dimension *ld (in elements); -1 when neither (no unit stride, or negative strides). */
static int tgraph_blas_layout(PyArrayObject *a, int *rowmajor, int *ld) {
    npy_intp it = PyArray_ITEMSIZE(a);
    npy_intp d0 = PyArray_DIM(a, 0), d1 = PyArray_DIM(a, 1);
    npy_intp s0 = PyArray_STRIDE(a, 0), s1 = PyArray_STRIDE(a, 1);
    if (d0 <= 1) s0 = d1 * it;   /* strides of size-1 dimensions are meaningless */
    if (d1 <= 1) s1 = it;
    if (s1 == it && s0 >= (d1 > 1 ? d1 : 1) * it && s0 % it == 0 && s0 / it < INT_MAX) {
        *rowmajor = 1; *ld = (int)(s0 / it); return 0;
    }
    if (d0 <= 1) s0 = it;
    if (d1 <= 1) s1 = d0 * it;
    if (s0 == it && s1 >= (d0 > 1 ? d0 : 1) * it && s1 % it == 0 && s1 / it < INT_MAX) {
        *rowmajor = 0; *ld = (int)(s1 / it); return 0;
    }
    return -1;
}

static int tgraph_blas_inc(PyArrayObject *v, int *inc) {
    npy_intp it = PyArray_ITEMSIZE(v), s = PyArray_STRIDE(v, 0);
    if (PyArray_DIM(v, 0) <= 1) { *inc = 1; return 0; }
    if (s <= 0 || s % it != 0 || s / it >= INT_MAX) return -1;
    *inc = (int)(s / it);
    return 0;
}

static PyArrayObject *tgraph_blas_copy(PyArrayObject *a) {
    return (PyArrayObject *)PyArray_NewCopy(a, NPY_CORDER);
}

/* Point *a at a BLAS-usable matrix: itself, or a C-ordered copy left in *copy (owned). */
static int tgraph_blas_prepare(PyArrayObject **a, PyArrayObject **copy, int *rowmajor,
                               int *ld) {
    if (tgraph_blas_layout(*a, rowmajor, ld) == 0) return 0;
    *copy = tgraph_blas_copy(*a);
    if (*copy == NULL) return -1;
    *a = *copy;
    return tgraph_blas_layout(*a, rowmajor, ld);
}

static int tgraph_blas_prepare_vec(PyArrayObject **v, PyArrayObject **copy, int *inc) {
    if (tgraph_blas_inc(*v, inc) == 0) return 0;
    *copy = tgraph_blas_copy(*v);
    if (*copy == NULL) return -1;
    *v = *copy;
    *inc = 1;
    return 0;
}
""" + _kernels("s", "float") + _kernels("d", "double") + r"""
#endif
"""

BLAS_INIT = "if (tgraph_blas_load() < 0) return -1;"

_PREFIX = {"float32": "s", "float64": "d"}


def _prefix(op, dtype: str) -> str:
    try:
        return _PREFIX[dtype]
    except KeyError:
        raise MethodNotDefined(f"{op}: no C BLAS call for dtype {dtype}") from None


def _shape_fail(op, formula: str, names: list[tuple[str, str]], fail: str) -> str:
    """C that raises the same ValueError text as the ops' ``_shape_error``."""
    fmt = ", ".join(f"{label}: %R" for label, _ in names)
    args = ", ".join(f"tgraph_shape_tuple({var})" for _, var in names)
    return (f'{{ PyErr_Format(PyExc_ValueError, "{op}: shapes do not match for {formula} '
            f'({fmt})", {args}); {fail} }}')


# The shape tuples of the error messages (kept under its old name for the ops' support code).
SHAPE_HELPER = SHAPE_TUPLE_SUPPORT


def _scalar(var: str, dtype_of: str) -> str:
    return f"(dtype_{dtype_of})(*(dtype_{var} *)PyArray_DATA({var}))"


def _output_from(z: str, src: str, inplace: bool, fail: str) -> str:
    """Make output ``z`` the in-place input ``src`` or a C-ordered copy of it."""
    if inplace:
        return f"Py_XDECREF({z}); {z} = {src}; Py_INCREF({z});"
    return (f"if ({z} != NULL && PyArray_IS_C_CONTIGUOUS({z}) && {z} != {src}"
            f" && PyArray_SAMESHAPE({z}, {src})) {{"
            f" if (PyArray_CopyInto({z}, {src}) < 0) {fail} }}"
            f" else {{ Py_XDECREF({z}); {z} = (PyArrayObject *)PyArray_NewCopy({src}, NPY_CORDER);"
            f" if ({z} == NULL) {fail} }}")


def _new_output(z: str, dims: str, fail: str) -> str:
    return (f"if ({z} == NULL || !PyArray_IS_C_CONTIGUOUS({z})"
            f" || PyArray_DIM({z}, 0) != ({dims})[0] || PyArray_DIM({z}, 1) != ({dims})[1]) {{"
            f" Py_XDECREF({z}); {z} = (PyArrayObject *)PyArray_EMPTY(2, {dims},"
            f" type_num_{z}, 0); if ({z} == NULL) {fail} }}")


def blas_c_code(op, kind: str, node, inputs: list[str], outputs: list[str], sub: dict) -> str:
    """C for Gemm, Gemv, Ger, Dot22 or Dot22Scalar (``kind``), float32/float64 only."""
    fail = sub["fail"]
    (z,) = outputs
    p = _prefix(op, node.outputs[0].type.dtype)
    if kind == "gemm":
        zin, a, x, y, b = inputs
        check = (f"if (PyArray_DIM({x}, 1) != PyArray_DIM({y}, 0) || PyArray_DIM({zin}, 0) != "
                 f"PyArray_DIM({x}, 0) || PyArray_DIM({zin}, 1) != PyArray_DIM({y}, 1)) "
                 + _shape_fail(op, "beta * z + alpha * dot(x, y)",
                               [("z", zin), ("x", x), ("y", y)], fail))
        beta = _scalar(b, z)
        return "\n".join([
            check,
            f"{{ dtype_{z} beta = {beta};",
            # beta == 0 ignores z's values (it may be garbage): no copy needed then.
            f"  if (beta == 0 && !{int(op.inplace)}) {{ npy_intp d[2] = {{PyArray_DIM({x}, 0),"
            f" PyArray_DIM({y}, 1)}}; {_new_output(z, 'd', fail)} }}",
            f"  else {{ {_output_from(z, zin, op.inplace, fail)} }}",
            f"  if (tgraph_{p}gemm_nd({z}, {_scalar(a, z)}, {x}, {y}, beta) < 0) {fail} }}",
        ])
    if kind in ("dot22", "dot22scalar"):
        x, y = inputs[:2]
        alpha = _scalar(inputs[2], z) if kind == "dot22scalar" else "1"
        formula = "a * dot(x, y)" if kind == "dot22scalar" else "dot(x, y)"
        return "\n".join([
            f"if (PyArray_DIM({x}, 1) != PyArray_DIM({y}, 0)) "
            + _shape_fail(op, formula, [("x", x), ("y", y)], fail),
            f"{{ npy_intp d[2] = {{PyArray_DIM({x}, 0), PyArray_DIM({y}, 1)}};",
            f"  {_new_output(z, 'd', fail)}",
            f"  if (tgraph_{p}gemm_nd({z}, {alpha}, {x}, {y}, 0) < 0) {fail} }}",
        ])
    if kind == "gemv":
        yin, a, A, x, b = inputs
        check = (f"if (PyArray_DIM({A}, 0) != PyArray_DIM({yin}, 0) || PyArray_DIM({A}, 1) != "
                 f"PyArray_DIM({x}, 0)) "
                 + _shape_fail(op, "beta * y + alpha * dot(A, x)",
                               [("y", yin), ("A", A), ("x", x)], fail))
        return "\n".join([
            check,
            f"{{ dtype_{z} beta = {_scalar(b, z)};",
            f"  if (beta == 0 && !{int(op.inplace)}) {{"
            f" if ({z} == NULL || PyArray_DIM({z}, 0) != PyArray_DIM({yin}, 0) || {z} == {yin}) {{"
            f" Py_XDECREF({z}); {z} = (PyArrayObject *)PyArray_EMPTY(1, PyArray_DIMS({yin}),"
            f" type_num_{z}, 0); if ({z} == NULL) {fail} }} }}",
            f"  else {{ {_output_from(z, yin, op.inplace, fail)} }}",
            f"  if (tgraph_{p}gemv_nd({z}, {_scalar(a, z)}, {A}, {x}, beta) < 0) {fail} }}",
        ])
    if kind == "ger":
        Ain, a, x, y = inputs
        return "\n".join([
            f"if (PyArray_DIM({Ain}, 0) != PyArray_DIM({x}, 0) || PyArray_DIM({Ain}, 1) != "
            f"PyArray_DIM({y}, 0)) "
            + _shape_fail(op, "A + alpha * outer(x, y)", [("A", Ain), ("x", x), ("y", y)],
                          fail),
            _output_from(z, Ain, op.destructive, fail),
            f"if (tgraph_{p}ger_nd({z}, {_scalar(a, z)}, {x}, {y}) < 0) {fail}",
        ])
    raise MethodNotDefined(f"{op}: unknown BLAS kind {kind!r}")

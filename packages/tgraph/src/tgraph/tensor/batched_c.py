"""C code of BatchedDot (text only: tlink compiles it): one BLAS gemm per batch item.

Every operand is seen as a stack of matrices: a 3-d input is one already, a 2-d input is a
stack of row vectors (input 0) or column vectors (input 1), and the output a stack of
``M x N`` matrices with ``M`` or ``N`` equal to 1 for the vector cases. All the items of a
stack share one layout (the strides of dimensions 1 and 2), so it is checked once: a stack
whose items BLAS can read (one unit stride) is passed in place, item after item at its
batch stride (negative or zero batch strides included); any other stack (no unit stride,
negative or zero inner strides) is copied to C order once, not per item.

float32/float64 call SciPy's ``sgemm``/``dgemm`` through the pointers ``blas_c`` loads
from ``scipy.linalg.cython_blas`` (its support and init code are reused, not changed).
Integer dtypes use a plain loop that wraps around as NumPy's ``matmul`` does; bool,
float16 and complex run ``perform``. The shape error is ``perform``'s ValueError, same text.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.blas_c import BLAS_INIT, BLAS_SUPPORT
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["BATCHED_C_VERSION", "BATCHED_INIT", "BATCHED_SUPPORT", "batched_dot_c_code"]

BATCHED_C_VERSION = (2,)

BATCHED_INIT = BLAS_INIT

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")

_GEMM = r"""
/* z[b] = x[b] y[b] for every b, with the {t} gemm at *fn (z C-ordered, written). */
static int tgraph_bdot_{p}(tgraph_bmat *x, tgraph_bmat *y, tgraph_bmat *z) {{
    int m = (int)z->rows, n = (int)z->cols, k = (int)x->cols, ra, rb, rc, lda, ldb, ldc;
    {t} one = 1, zero = 0;
    char ta, tb;
    npy_intp b;
    if (tgraph_bmat_layout(x, &ra, &lda) < 0 || tgraph_bmat_layout(y, &rb, &ldb) < 0
        || tgraph_bmat_layout(z, &rc, &ldc) < 0 || !rc) {{
        PyErr_SetString(PyExc_RuntimeError, "BatchedDot: an operand has no BLAS layout");
        return -1;
    }}
    /* z row-major is z^T column-major: z^T = y^T x^T */
    tb = rb ? 'N' : 'T';
    ta = ra ? 'N' : 'T';
    for (b = 0; b < z->n; ++b) {{
        tgraph_{p}gemm(&tb, &ta, &n, &m, &k, &one, ({t} *)(y->data + b * y->sb), &ldb,
                       ({t} *)(x->data + b * x->sb), &lda, &zero,
                       ({t} *)(z->data + b * z->sb), &ldc);
    }}
    return 0;
}}
"""

BATCHED_SUPPORT = BLAS_SUPPORT + SHAPE_TUPLE_SUPPORT + r"""
#ifndef TGRAPH_BATCHED_SUPPORT
#define TGRAPH_BATCHED_SUPPORT
/* One operand as a stack of n matrices rows x cols (strides in bytes). */
typedef struct {
    char *data;
    npy_intp n, rows, cols, sb, sr, sc, it;
} tgraph_bmat;

/* vec_as_row: a 2-d operand is a stack of row vectors (else column vectors); a 1-d one
   (the output of vector . vector) a stack of 1 x 1 matrices. */
static void tgraph_bmat_of(PyArrayObject *a, int vec_as_row, tgraph_bmat *m) {
    int nd = PyArray_NDIM(a);
    m->data = PyArray_BYTES(a);
    m->it = PyArray_ITEMSIZE(a);
    m->n = PyArray_DIM(a, 0);
    m->sb = PyArray_STRIDE(a, 0);
    if (nd == 3) {
        m->rows = PyArray_DIM(a, 1); m->cols = PyArray_DIM(a, 2);
        m->sr = PyArray_STRIDE(a, 1); m->sc = PyArray_STRIDE(a, 2);
    } else if (nd == 2 && vec_as_row) {
        m->rows = 1; m->cols = PyArray_DIM(a, 1); m->sr = 0; m->sc = PyArray_STRIDE(a, 1);
    } else if (nd == 2) {
        m->rows = PyArray_DIM(a, 1); m->cols = 1; m->sr = PyArray_STRIDE(a, 1); m->sc = 0;
    } else {
        m->rows = 1; m->cols = 1; m->sr = 0; m->sc = 0;
    }
}

/* Row-major (*rowmajor = 1) or column-major items with leading dimension *ld, or -1. */
static int tgraph_bmat_layout(const tgraph_bmat *m, int *rowmajor, int *ld) {
    npy_intp it = m->it, d0 = m->rows, d1 = m->cols, s0 = m->sr, s1 = m->sc;
    if (d0 > INT_MAX || d1 > INT_MAX) return -1;
    if (d0 <= 1) s0 = d1 * it;   /* strides of size-1 dimensions are meaningless */
    if (d1 <= 1) s1 = it;
    if (s1 == it && s0 >= (d1 > 1 ? d1 : 1) * it && s0 % it == 0 && s0 / it < INT_MAX) {
        *rowmajor = 1; *ld = (int)(s0 / it); return 0;
    }
    s0 = m->sr; s1 = m->sc;
    if (d0 <= 1) s0 = it;
    if (d1 <= 1) s1 = d0 * it;
    if (s0 == it && s1 >= (d0 > 1 ? d0 : 1) * it && s1 % it == 0 && s1 / it < INT_MAX) {
        *rowmajor = 0; *ld = (int)(s1 / it); return 0;
    }
    return -1;
}

/* *m (of *a) made BLAS-usable: unchanged, or viewing a C-ordered copy left in *copy. */
static int tgraph_bmat_prepare(PyArrayObject *a, int vec_as_row, tgraph_bmat *m,
                               PyArrayObject **copy) {
    int r, ld;
    tgraph_bmat_of(a, vec_as_row, m);
    if (tgraph_bmat_layout(m, &r, &ld) == 0) return 0;
    *copy = (PyArrayObject *)PyArray_NewCopy(a, NPY_CORDER);
    if (*copy == NULL) return -1;
    tgraph_bmat_of(*copy, vec_as_row, m);
    if (tgraph_bmat_layout(m, &r, &ld) == 0) return 0;
    PyErr_SetString(PyExc_ValueError, "BatchedDot: dimensions too large for BLAS");
    return -1;
}

""" + _GEMM.format(p="s", t="float") + _GEMM.format(p="d", t="double") + r"""
#endif
"""


def _int_loop(name: str, ctype: str) -> str:
    """z[b] = x[b] y[b] by plain loops; sums wrap modulo 2**bits, as NumPy's do."""
    at = "(*({t} *)({m}.data + b * {m}.sb + ({i}) * {m}.sr + ({j}) * {m}.sc))"
    xs = at.format(t=ctype, m=f"{name}_x", i="i", j="k")
    ys = at.format(t=ctype, m=f"{name}_y", i="k", j="j")
    zs = at.format(t=ctype, m=f"{name}_z", i="i", j="j")
    return f"""
for (npy_intp b = 0; b < {name}_z.n; ++b)
  for (npy_intp i = 0; i < {name}_z.rows; ++i)
    for (npy_intp j = 0; j < {name}_z.cols; ++j) {{
      npy_uint64 acc = 0;
      for (npy_intp k = 0; k < {name}_x.cols; ++k)
        acc += (npy_uint64){xs} * (npy_uint64){ys};
      {zs} = ({ctype})acc;
    }}
"""


def batched_dot_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                       sub: dict) -> str:
    """The C of one BatchedDot node (see the module docstring)."""
    x, y = inputs
    (z,) = outputs
    dtype = node.outputs[0].type.dtype
    if dtype not in ("float32", "float64", *_INTS):
        raise MethodNotDefined(f"{op}: no C batched dot for dtype {dtype}")
    xnd, ynd = node.inputs[0].type.ndim, node.inputs[1].type.ndim
    znd = node.outputs[0].type.ndim
    fail = sub["fail"]
    # output dims: batch, then x's rows (3-d x), then y's columns (3-d y)
    dims = [f"PyArray_DIM({x}, 0)"]
    if xnd == 3:
        dims.append(f"PyArray_DIM({x}, 1)")
    if ynd == 3:
        dims.append(f"PyArray_DIM({y}, 2)")
    # a 2-d output of a matrix . vector product is a stack of columns; else rows
    z_row = 0 if (xnd == 3 and ynd == 2) else 1
    if dtype in ("float32", "float64"):
        p = "s" if dtype == "float32" else "d"
        compute = f"if (tgraph_bdot_{p}(&{name}_x, &{name}_y, &{name}_z) < 0) {name}_bad = 1;"
    else:
        compute = _int_loop(name, f"npy_{dtype}")
    return f"""
if (PyArray_DIM({x}, 0) != PyArray_DIM({y}, 0)
    || PyArray_DIM({x}, {xnd - 1}) != PyArray_DIM({y}, 1)) {{
    PyErr_Format(PyExc_ValueError, "BatchedDot: shapes %R and %R do not match: the batch "
                 "sizes (dimension 0) must be equal, and the last dimension of input 0 "
                 "must equal dimension 1 of input 1", tgraph_shape_tuple({x}),
                 tgraph_shape_tuple({y}));
    {fail}
}}
{{
    npy_intp {name}_od[{znd}] = {{{", ".join(dims)}}};
    if ({z} == NULL || !PyArray_IS_C_CONTIGUOUS({z})
        || !PyArray_CompareLists(PyArray_DIMS({z}), {name}_od, {znd})) {{
        Py_XDECREF({z});
        {z} = (PyArrayObject *)PyArray_EMPTY({znd}, {name}_od, type_num_{z}, 0);
        if ({z} == NULL) {fail}
    }}
}}
if (PyArray_SIZE({z}) > 0) {{
    if (PyArray_DIM({y}, 1) == 0) {{
        memset(PyArray_DATA({z}), 0, PyArray_NBYTES({z}));
    }} else {{
        tgraph_bmat {name}_x, {name}_y, {name}_z;
        PyArrayObject *{name}_xc = NULL, *{name}_yc = NULL;
        int {name}_bad = 0;
        tgraph_bmat_of({z}, {z_row}, &{name}_z);
        if (tgraph_bmat_prepare({x}, 1, &{name}_x, &{name}_xc) < 0
            || tgraph_bmat_prepare({y}, 0, &{name}_y, &{name}_yc) < 0) {name}_bad = 1;
        if (!{name}_bad) {{
{compute}
        }}
        Py_XDECREF({name}_xc);
        Py_XDECREF({name}_yc);
        if ({name}_bad) {fail}
    }}
}}
"""

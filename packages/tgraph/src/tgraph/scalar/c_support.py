"""C text shared by the scalar ops: dtype rules, casts, literals and the generic element code.

A scalar op's ``c_code`` computes one element from local C scalars (see
``tgraph.tensor.elemwise_c``). To give *exactly* the result of the op's Python implementation
(NumPy's), the C computes in the dtype NumPy's own loop would use, not in the output dtype:

1. integer and bool inputs of float-valued ops are lifted to ``promote_types(dtype, out)``
   first, as :func:`tgraph.scalar.op.lift_discrete` does;
2. the loop dtypes are those NumPy picks for the (lifted) input dtypes
   (``ufunc.resolve_dtypes``; ``result_type`` for ops that are not ufuncs), so
   ``floor_divide(bool, bool)`` runs in int8 and ``int64 + float32`` in float64;
3. the result is cast to the output dtype with NumPy's casting (:func:`c_cast`).

Integers wrap on overflow as in NumPy: sums, differences, products and negations go through
an unsigned type (signed overflow is undefined in C). Casts of NaN or out-of-range floats
to integers use the plain C conversion, which on x86-64 is what NumPy does for the signed
dtypes of 32 and 64 bits and for the narrow ones; see :func:`c_cast` for the exceptions.

float16 and complex dtypes have no C here: :func:`check_real` raises MethodNotDefined so the
node runs in Python.

Helper functions shared by several ops live in module constants, each wrapped in an include
guard: Elemwise prepends its own text to the scalar op's support code, so identical helpers
can reach one module through different support texts, and the guard keeps one definition.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence

import numpy as np

from tgraph.graph.utils import MethodNotDefined

__all__ = [
    "C_COMPILE_ARGS",
    "C_HEADERS",
    "C_SUPPORT_VERSION",
    "DIVISION_SUPPORT",
    "IPOW_SUPPORT",
    "c_cast",
    "c_literal",
    "c_type",
    "check_real",
    "compute_dtypes",
    "elementwise_code",
    "float_template",
    "libm",
    "wrap_type",
]

#: Bumped whenever the text produced here (casts, literals, helpers) changes.
C_SUPPORT_VERSION = 1

#: Headers every scalar op with C code needs.
C_HEADERS = ["<math.h>"]

#: No fused multiply-add contraction: under ``-march=native`` gcc would otherwise turn
#: ``a * b + c`` into one FMA and give results that differ from NumPy's separate roundings
#: (by far more than an ulp when the two terms cancel).
C_COMPILE_ARGS = ["-ffp-contract=off"]

_C_TYPES = {
    "bool": "npy_bool",
    "int8": "npy_int8",
    "int16": "npy_int16",
    "int32": "npy_int32",
    "int64": "npy_int64",
    "uint8": "npy_uint8",
    "uint16": "npy_uint16",
    "uint32": "npy_uint32",
    "uint64": "npy_uint64",
    "float32": "npy_float32",
    "float64": "npy_float64",
}


def c_type(dtype: str) -> str:
    """The C type of ``dtype`` ('npy_float32'); MethodNotDefined for float16 and complex."""
    try:
        return _C_TYPES[str(dtype)]
    except KeyError:
        raise MethodNotDefined(f"the scalar C code has no {dtype} type") from None


def kind(dtype: str) -> str:
    """NumPy's kind letter: 'b', 'i', 'u' or 'f'."""
    return np.dtype(dtype).kind


def wrap_type(dtype: str) -> str:
    """The unsigned C type integer arithmetic on ``dtype`` wraps through.

    At least 32 bits, so that C's integer promotions never turn the operation back into a
    signed ``int`` (``uint16 * uint16`` overflows ``int``).
    """
    return "npy_uint64" if np.dtype(dtype).itemsize == 8 else "npy_uint32"


def check_real(op, node) -> None:
    """MethodNotDefined unless every input and output has a C type here."""
    for var in (*node.inputs, *node.outputs):
        if str(var.type.dtype) not in _C_TYPES:
            raise MethodNotDefined(f"{op}: no C code for {var.type.dtype} values")


def c_cast(expr: str, src: str, dst: str) -> str:
    """``expr`` (of dtype ``src``) converted to ``dst`` as NumPy's ``astype`` does.

    To bool: ``!= 0`` (NaN is True). Otherwise the C conversion, which agrees with NumPy for
    every finite in-range value; integers wrap (gcc defines the narrowing conversion as
    modulo 2**n). For NaN and out-of-range floats converted to integers the result is
    the x86-64 conversion instruction's, which is NumPy's for int32, int64 and the 8/16 bit
    dtypes; uint32 and uint64 targets may differ from NumPy for NaN, infinities and values
    out of their range (NumPy's own vectorised casts disagree with its scalar ones there).
    """
    if src == dst:
        return f"({expr})"
    if dst == "bool":
        return f"((npy_bool)(({expr}) != 0))"
    return f"(({c_type(dst)})({expr}))"


def c_literal(value, dtype: str) -> str:
    """An exact C constant of ``dtype`` holding ``value``, e.g. ``((npy_float32)1.5f)``.

    Floats are written with 17 significant digits (exact for float64; float32 values are
    read back to the same float); inf and NaN use C99's ``INFINITY``/``NAN`` from
    <math.h>. Integers carry an ``LL``/``ULL`` suffix and the most negative int64 is
    written as ``(-9223372036854775807LL - 1)``, since its magnitude is no C literal.
    """
    dtype = str(dtype)
    ctype = c_type(dtype)
    k = kind(dtype)
    if k == "b":
        return f"(({ctype}){1 if bool(value) else 0})"
    if k in "iu":
        v = int(value)
        if k == "u":
            return f"(({ctype}){v}ULL)"
        if v == -(2**63):
            return f"(({ctype})(-9223372036854775807LL - 1))"
        return f"(({ctype}){v}LL)"
    v = float(np.asarray(value, dtype=dtype))
    if math.isnan(v):
        text = "NAN"
    elif math.isinf(v):
        text = "INFINITY" if v > 0 else "(-INFINITY)"
    else:
        text = repr(v)
        if "e" not in text and "." not in text:
            text += ".0"
        if dtype == "float32":
            text += "f"
    return f"(({ctype}){text})"


def libm(name: str, dtype: str) -> str:
    """The <math.h> function for ``dtype``: ``expf`` for float32, ``exp`` for float64.

    float32 work stays in float32 so results match NumPy's float32 loops and glibc's
    vector math library can vectorise the call.
    """
    if dtype == "float32":
        return name + "f"
    if dtype == "float64":
        return name
    raise MethodNotDefined(f"{name}: no C function for {dtype}")


def float_template(text: str) -> str:
    """``text`` instantiated for float and double.

    In the template ``@T@`` is the C type, ``@F@`` the libm suffix ('f' or '') and ``@L@``
    the literal suffix; ``@N@`` names the instance ('float32' or 'float64').
    """
    out = []
    # float64 first, so the float32 instance may call it
    for ctype, suffix, name in (("npy_float64", "", "float64"), ("npy_float32", "f", "float32")):
        out.append(text.replace("@T@", ctype).replace("@F@", suffix).replace("@L@", suffix)
                   .replace("@N@", name))
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Which dtypes the computation runs in


def _lifted(op, node) -> list[str]:
    dtypes = [str(v.type.dtype) for v in node.inputs]
    if getattr(op, "_lift", False):
        out = str(node.outputs[0].type.dtype)
        dtypes = [str(np.promote_types(d, out)) if kind(d) in "biu" else d for d in dtypes]
    return dtypes


def _same_float_loop(op, dtypes: list[str]) -> bool:
    from tgraph.scalar.op import scipy_special

    lazy = inspect.getattr_static(op, "_func", None)
    return (isinstance(lazy, scipy_special) and getattr(op, "nout", 1) == 1 and bool(dtypes)
            and dtypes[0] in ("float32", "float64") and all(d == dtypes[0] for d in dtypes))


def compute_dtypes(op, node, ufunc: np.ufunc | None = None) -> tuple[list[str], str]:
    """(input loop dtypes, output loop dtype) of ``node``, as NumPy would compute it.

    ``ufunc`` defaults to the op's ``_func`` when that is a ufunc (SciPy's are too); other
    ops compute in the ``result_type`` of their (lifted) inputs. A combination NumPy has no
    loop for, or a float16 loop, raises MethodNotDefined.
    """
    dtypes = _lifted(op, node)
    if ufunc is None and _same_float_loop(op, dtypes):
        # Every SciPy ufunc used here has its own float32 and float64 loop, chosen for
        # inputs all of that dtype (tests check it): no need to import SciPy to know.
        return list(dtypes), dtypes[0]
    if ufunc is None:
        func = getattr(op, "_func", None)
        ufunc = func if isinstance(func, np.ufunc) else None
    if ufunc is not None:
        try:
            resolved = ufunc.resolve_dtypes(
                tuple(np.dtype(d) for d in dtypes) + (None,) * ufunc.nout)
        except (TypeError, ValueError) as exc:
            raise MethodNotDefined(f"{op}: NumPy has no loop for {dtypes}: {exc}") from exc
        loop = [str(d) for d in resolved]
        ins, out = loop[: len(dtypes)], loop[len(dtypes)]
    else:
        out = str(np.result_type(*dtypes))
        ins = [out] * len(dtypes)
    for d in (*ins, out):
        if d not in _C_TYPES:
            raise MethodNotDefined(f"{op}: computed in {d}, which has no C code here")
    return ins, out


ExprFn = Callable[[Sequence[str], str, Sequence[str]], str]


def elementwise_code(op, node, inputs: Sequence[str], outputs: Sequence[str],
                     expr: ExprFn, ufunc: np.ufunc | None = None) -> str:
    """``out = cast(expr(in_loop_dtypes, out_loop_dtype, cast inputs))`` for one-output ops.

    ``expr`` returns a C expression of dtype ``out_loop_dtype``, from inputs already cast
    to their loop dtypes.
    """
    check_real(op, node)
    if len(outputs) != 1:
        raise MethodNotDefined(f"{op}: the generic C code has one output")
    ins, out = compute_dtypes(op, node, ufunc)
    args = [c_cast(name, str(v.type.dtype), d) for name, v, d in zip(inputs, node.inputs, ins)]
    value = expr(ins, out, args)
    return f"{outputs[0]} = {c_cast(value, out, str(node.outputs[0].type.dtype))};"


# ---------------------------------------------------------------------------------------------
# Integer arithmetic that wraps, and divisions with NumPy's rules


def int_add(dtype: str, a: str, b: str) -> str:
    if dtype == "bool":
        return f"((npy_bool)(({a}) || ({b})))"
    if kind(dtype) == "f":
        return f"(({a}) + ({b}))"
    w = wrap_type(dtype)
    return f"(({c_type(dtype)})(({w})({a}) + ({w})({b})))"


def int_sub(dtype: str, a: str, b: str) -> str:
    if kind(dtype) == "f":
        return f"(({a}) - ({b}))"
    if dtype == "bool":
        raise MethodNotDefined("sub: NumPy refuses to subtract bools")
    w = wrap_type(dtype)
    return f"(({c_type(dtype)})(({w})({a}) - ({w})({b})))"


def int_mul(dtype: str, a: str, b: str) -> str:
    if dtype == "bool":
        return f"((npy_bool)(({a}) && ({b})))"
    if kind(dtype) == "f":
        return f"(({a}) * ({b}))"
    w = wrap_type(dtype)
    return f"(({c_type(dtype)})(({w})({a}) * ({w})({b})))"


def int_neg(dtype: str, a: str) -> str:
    if kind(dtype) == "f":
        return f"(-({a}))"
    if dtype == "bool":
        raise MethodNotDefined("neg: NumPy refuses to negate bools")
    w = wrap_type(dtype)
    return f"(({c_type(dtype)})(({w})0 - ({w})({a})))"


_SIGNED_DIV = r"""
static inline @T@ tgraph_floordiv_@N@(@T@ a, @T@ b) {
    @T@ q;
    if (b == 0) return 0;
    if (b == -1) return (@T@)((@W@)0 - (@W@)a);  /* MIN // -1 wraps to MIN, as NumPy */
    q = (@T@)(a / b);
    if (a % b != 0 && ((a < 0) != (b < 0))) q = (@T@)(q - 1);
    return q;
}
static inline @T@ tgraph_mod_@N@(@T@ a, @T@ b) {
    @T@ r;
    if (b == 0 || b == -1) return 0;
    r = (@T@)(a % b);
    if (r != 0 && ((r < 0) != (b < 0))) r = (@T@)(r + b);
    return r;
}
"""

_UNSIGNED_DIV = r"""
static inline @T@ tgraph_floordiv_@N@(@T@ a, @T@ b) { return b == 0 ? 0 : (@T@)(a / b); }
static inline @T@ tgraph_mod_@N@(@T@ a, @T@ b) { return b == 0 ? 0 : (@T@)(a % b); }
"""

# NumPy's float floor division and remainder derive both from fmod (exact), so that
# x == y * (x // y) + x % y as closely as floating point allows, with the remainder taking
# the divisor's sign, and a zero remainder the sign of the divisor too.
_FLOAT_DIV = r"""
static inline @T@ tgraph_mod_@N@(@T@ a, @T@ b) {
    @T@ m = fmod@F@(a, b);
    if (b == 0) return m;
    if (m != 0) {
        if ((b < 0) != (m < 0)) m += b;
    } else {
        m = copysign@F@((@T@)0, b);
    }
    return m;
}
static inline @T@ tgraph_floordiv_@N@(@T@ a, @T@ b) {
    @T@ m, d, f;
    if (b == 0) return a / b;
    m = fmod@F@(a, b);
    d = (a - m) / b;
    if (m != 0 && ((b < 0) != (m < 0))) d -= 1;
    if (d == 0) return copysign@F@((@T@)0, a / b);
    f = floor@F@(d);
    if (d - f > (@T@)0.5) f += 1;
    return f;
}
"""


def _division_support() -> str:
    parts = ["#ifndef TGRAPH_SCALAR_DIVISION", "#define TGRAPH_SCALAR_DIVISION"]
    for dtype in ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"):
        template = _SIGNED_DIV if kind(dtype) == "i" else _UNSIGNED_DIV
        parts.append(template.replace("@T@", c_type(dtype)).replace("@W@", wrap_type(dtype))
                     .replace("@N@", dtype))
    parts.append(float_template(_FLOAT_DIV))
    parts.append("#endif")
    return "\n".join(parts)


#: ``tgraph_floordiv_<dtype>`` and ``tgraph_mod_<dtype>`` for every integer and float dtype.
DIVISION_SUPPORT = _division_support()

#: Integer power by repeated squaring, wrapping modulo 2**64 (so modulo any narrower width).
IPOW_SUPPORT = r"""
#ifndef TGRAPH_SCALAR_IPOW
#define TGRAPH_SCALAR_IPOW
static inline npy_uint64 tgraph_ipow(npy_uint64 base, npy_uint64 e) {
    npy_uint64 r = 1;
    while (e) {
        if (e & 1) r *= base;
        base *= base;
        e >>= 1;
    }
    return r;
}
#endif
"""


# ---------------------------------------------------------------------------------------------
# Comparisons, with NumPy's exact loops for int64 against uint64

_NEG_SIGNED_LEFT = {"<": "1", "<=": "1", ">": "0", ">=": "0", "==": "0", "!=": "1"}
_NEG_SIGNED_RIGHT = {"<": "0", "<=": "0", ">": "1", ">=": "1", "==": "0", "!=": "1"}


def compare(symbol: str, da: str, a: str, db: str, b: str) -> str:
    """``a <symbol> b`` as npy_bool for operands already in their loop dtypes.

    NumPy compares int64 with uint64 exactly (a negative int64 is below every uint64);
    any other pair reaches here with one common dtype.
    """
    if da == "int64" and db == "uint64":
        return (f"((npy_bool)(({a}) < 0 ? {_NEG_SIGNED_LEFT[symbol]} :"
                f" (npy_uint64)({a}) {symbol} ({b})))")
    if da == "uint64" and db == "int64":
        return (f"((npy_bool)(({b}) < 0 ? {_NEG_SIGNED_RIGHT[symbol]} :"
                f" ({a}) {symbol} (npy_uint64)({b})))")
    return f"((npy_bool)(({a}) {symbol} ({b})))"


def compare_code(op, node, symbol: str, ufunc: np.ufunc, args: Sequence[str],
                 arg_dtypes: Sequence[str]) -> str:
    """The bool expression ``args[0] <symbol> args[1]`` with NumPy's loop for the pair."""
    try:
        loop = ufunc.resolve_dtypes((*(np.dtype(d) for d in arg_dtypes), None))
    except (TypeError, ValueError) as exc:
        raise MethodNotDefined(f"{op}: NumPy has no {ufunc.__name__} loop for "
                               f"{list(arg_dtypes)}: {exc}") from exc
    da, db = str(loop[0]), str(loop[1])
    a = c_cast(args[0], arg_dtypes[0], da)
    b = c_cast(args[1], arg_dtypes[1], db)
    return compare(symbol, da, a, db, b)

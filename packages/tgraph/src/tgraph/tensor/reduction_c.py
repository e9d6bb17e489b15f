"""C code of CAReduce (Sum, Prod, Max, Min, All, Any) — text only: tlink compiles it.

One pass over the input in memory order of its dimensions, accumulating into an array of
the output's shape in the accumulator dtype (``acc_dtype``, so a float32 sum adds in
float64 as ``perform`` does), then a cast into the output when the dtypes differ. When the
last input dimension is reduced, the inner loop keeps the running value in a local
variable. Max and Min start from the dtype's lowest/highest value (the reduced axes are
checked non-empty first, as ``perform`` does), and propagate NaN like NumPy.

The fold is written here for the library's ops (add, mul, maximum, minimum, and, or, xor); any
other scalar op folds through its own ``c_code``.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar.type import get_scalar_type
from tgraph.tensor.c_shape import SHAPE_TUPLE_SUPPORT

__all__ = ["REDUCTION_C_VERSION", "careduce_c_code"]

REDUCTION_C_VERSION = (3,)

_FOLDS = {
    "Add": "{a} + {b}",
    "Mul": "{a} * {b}",
    "Maximum": "(({a} >= {b}) | ({a} != {a})) ? {a} : {b}",  # | : no branch, vectorisable
    "Minimum": "(({a} <= {b}) | ({a} != {a})) ? {a} : {b}",
    "AND": "{a} & {b}",  # bitwise on integers, logical on bools (0/1), as NumPy
    "OR": "{a} | {b}",
    "XOR": "{a} ^ {b}",
}

_LIMITS = {
    "float32": ("-INFINITY", "INFINITY"), "float64": ("-INFINITY", "INFINITY"),
    "bool": ("0", "1"),
    "int8": ("NPY_MIN_INT8", "NPY_MAX_INT8"), "int16": ("NPY_MIN_INT16", "NPY_MAX_INT16"),
    "int32": ("NPY_MIN_INT32", "NPY_MAX_INT32"), "int64": ("NPY_MIN_INT64", "NPY_MAX_INT64"),
    "uint8": ("0", "NPY_MAX_UINT8"), "uint16": ("0", "NPY_MAX_UINT16"),
    "uint32": ("0", "NPY_MAX_UINT32"), "uint64": ("0", "NPY_MAX_UINT64"),
}

_NPY = {
    "bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32",
    "int64": "NPY_INT64", "uint8": "NPY_UINT8", "uint16": "NPY_UINT16",
    "uint32": "NPY_UINT32", "uint64": "NPY_UINT64", "float32": "NPY_FLOAT32",
    "float64": "NPY_FLOAT64",
}


def _start_value(op, acc: str) -> str:
    name = type(op.scalar_op).__name__
    if name == "Maximum":
        return _LIMITS[acc][0]
    if name == "Minimum":
        return _LIMITS[acc][1]
    identity = getattr(op.scalar_op, "identity", None)
    if identity is None:
        raise MethodNotDefined(f"{op}: no identity and not max/min: no C fold")
    if acc == "bool":
        return "1" if identity else "0"
    return str(int(identity)) if isinstance(identity, bool) else repr(identity)


def _fold(op, acc: str, name: str, sub: dict, a: str = "", b: str = "") -> str:
    """C statements ``a = fold(a, b)`` in the accumulator type (default names
    ``{name}_a`` and ``{name}_v``)."""
    a, b = a or f"{name}_a", b or f"{name}_v"
    template = _FOLDS.get(type(op.scalar_op).__name__)
    if template is not None:
        return f"{a} = {template.format(a=a, b=b)};"
    stype = get_scalar_type(acc)
    snode = op.scalar_op.make_node(stype.make_variable(), stype.make_variable())
    if snode.outputs[0].type.dtype != acc:
        raise MethodNotDefined(f"{op}: the fold's output dtype is not the accumulator's")
    code = op.scalar_op.c_code(snode, f"{name}_s", [a, b], [f"{name}_r"], sub)
    return f"{{ npy_{acc} {name}_r; {code} {a} = {name}_r; }}"


# Partial accumulators of a contiguous reduced row: eight independent chains instead of one
# (a single running sum waits on each addition), combined pairwise at the end.
_LANES = 8


def _row_fold(op, acc: str, idtype: str, name: str, sub: dict, xp: str, indent: str) -> list:
    """Fold the contiguous row at ``xp`` (``{name}_n`` elements) into ``{name}_a``.

    Element ``i`` goes to lane ``i % 8``; each step folds eight elements into the eight
    lanes with one vectorisable loop, and the lanes are combined pairwise at the end.
    """
    lane, v, n = f"{name}_L", f"{name}_v", f"{name}_n"
    start = _start_value(op, acc)
    lines = [f"{indent}const npy_{idtype} *{name}_row = (const npy_{idtype} *){xp};",
             f"{indent}npy_{acc} {lane}[{_LANES}];",
             f"{indent}for (int k = 1; k < {_LANES}; ++k) {lane}[k] = ({start});",
             f"{indent}{lane}[0] = {name}_a;",
             f"{indent}npy_intp {name}_i = 0;",
             f"{indent}for (; {name}_i + {_LANES} <= {n}; {name}_i += {_LANES}) {{",
             f"{indent}  #pragma omp simd",
             f"{indent}  for (int k = 0; k < {_LANES}; ++k) {{",
             f"{indent}    npy_{acc} {name}_l = {lane}[k];",
             f"{indent}    npy_{acc} {v} = (npy_{acc}){name}_row[{name}_i + k];",
             f"{indent}    {_fold(op, acc, name, sub, f'{name}_l')}",
             f"{indent}    {lane}[k] = {name}_l;",
             f"{indent}  }}",
             f"{indent}}}",
             f"{indent}for (; {name}_i < {n}; ++{name}_i) {{"
             f" npy_{acc} {v} = (npy_{acc}){name}_row[{name}_i];"
             f" {_fold(op, acc, name, sub, f'{lane}[0]')} }}"]
    step = 1
    while step < _LANES:  # pairwise: L0 op= L1, L2 op= L3, ...; then L0 op= L2, ...
        for k in range(0, _LANES, 2 * step):
            pair = _fold(op, acc, name, sub, f"{lane}[{k}]", f"{lane}[{k + step}]")
            lines.append(f"{indent}{pair}")
        step *= 2
    lines.append(f"{indent}{name}_a = {lane}[0];")
    return lines


def careduce_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                    sub: dict) -> str:
    """The C of one CAReduce node (see the module docstring)."""
    (x,), (z,) = inputs, outputs
    idtype = node.inputs[0].type.dtype
    odtype = node.outputs[0].type.dtype
    acc = getattr(op, "acc_dtype", None) or odtype
    for dt in (idtype, odtype, acc):
        if dt not in _NPY:
            raise MethodNotDefined(f"{op}: no C reduction for dtype {dt}")
    nd = node.inputs[0].type.ndim
    axes = list(range(nd)) if op.axis is None else list(op.axis)
    if not axes:
        raise MethodNotDefined(f"{op}: reducing no axis is a copy, left to perform")
    kept = [d for d in range(nd) if d not in axes]
    ond = len(kept)
    fail = sub["fail"]
    start = _start_value(op, acc)
    fold = _fold(op, acc, name, sub)
    needs_nonempty = getattr(op.scalar_op, "identity", None) is None
    lines = [f"npy_intp {name}_od[{max(ond, 1)}];"]
    lines += [f"{name}_od[{k}] = PyArray_DIM({x}, {d});" for k, d in enumerate(kept)]
    if needs_nonempty:
        for d in axes:
            lines.append(
                f"if (PyArray_DIM({x}, {d}) == 0) {{ PyErr_Format(PyExc_ValueError, "
                f"\"{op}: cannot reduce the empty axis {d} of an input of shape %R: "
                f"{op.scalar_op} has no identity value\", tgraph_shape_tuple({x})); {fail} }}")
    lines += [
        f"if ({z} == NULL || !PyArray_IS_C_CONTIGUOUS({z})"
        f" || !PyArray_CompareLists(PyArray_DIMS({z}), {name}_od, {ond})) {{",
        f"  Py_XDECREF({z});",
        f"  {z} = (PyArrayObject *)PyArray_EMPTY({ond}, {name}_od, {_NPY[odtype]}, 0);",
        f"  if ({z} == NULL) {fail}",
        "}",
    ]
    same = acc == odtype
    lines.append(f"PyArrayObject *{name}_acc = {z};" if same else
                 f"PyArrayObject *{name}_acc = (PyArrayObject *)PyArray_EMPTY({ond},"
                 f" {name}_od, {_NPY[acc]}, 0);")
    lines.append(f"if ({name}_acc == NULL) {fail}")
    lines += [
        "{",
        f"  npy_{acc} *{name}_ap = (npy_{acc} *)PyArray_DATA({name}_acc);",
        f"  npy_intp {name}_n = PyArray_SIZE({name}_acc);",
        f"  for (npy_intp i = 0; i < {name}_n; ++i) {name}_ap[i] = ({start});",
        "}",
    ]
    # strides of the accumulator seen along the input's dimensions (0 where reduced)
    lines.append(f"npy_intp {name}_ast[{nd}];")
    for d in range(nd):
        if d in axes:
            lines.append(f"{name}_ast[{d}] = 0;")
        else:
            lines.append(f"{name}_ast[{d}] = PyArray_DIM({x}, {d}) == 1 ? 0 :"
                         f" PyArray_STRIDE({name}_acc, {kept.index(d)});")
    lines.append(f"if (PyArray_SIZE({x}) > 0) {{")
    lines.append(f"  char *{name}_xp0 = PyArray_BYTES({x});")
    lines.append(f"  char *{name}_cp0 = PyArray_BYTES({name}_acc);")
    indent = "  "
    last_reduced = (nd - 1) in axes
    # Loops over every dimension but the last; the last one gets a loop of its own below.
    loop_dims = nd - 1
    for d in range(loop_dims):
        lines.append(f"{indent}for (npy_intp i{d} = 0; i{d} < PyArray_DIM({x}, {d}); ++i{d}) {{")
        indent += "  "
        lines.append(f"{indent}char *{name}_xp{d + 1} = {name}_xp{d} + i{d} *"
                     f" PyArray_STRIDE({x}, {d});")
        lines.append(f"{indent}char *{name}_cp{d + 1} = {name}_cp{d} + i{d} * {name}_ast[{d}];")
    d = nd - 1
    if last_reduced:
        lines += [
            f"{indent}npy_{acc} {name}_a = *(npy_{acc} *){name}_cp{d};",
            f"{indent}const npy_intp {name}_s = PyArray_STRIDE({x}, {d});",
            f"{indent}const npy_intp {name}_n = PyArray_DIM({x}, {d});",
            f"{indent}if ({name}_s == (npy_intp)sizeof(npy_{idtype})) {{",
            *_row_fold(op, acc, idtype, name, sub, f"{name}_xp{d}", indent + "  "),
            f"{indent}}} else {{",
            f"{indent}  for (npy_intp i{d} = 0; i{d} < {name}_n; ++i{d}) {{",
            f"{indent}    npy_{acc} {name}_v = (npy_{acc})"
            f"(*(npy_{idtype} *)({name}_xp{d} + i{d} * {name}_s));",
            f"{indent}    {fold}",
            f"{indent}  }}",
            f"{indent}}}",
            f"{indent}*(npy_{acc} *){name}_cp{d} = {name}_a;",
        ]
    else:
        # The last dimension is kept: fold a whole row of x into a row of accumulators, a
        # loop the compiler vectorises when both are contiguous (no dependency between
        # iterations; the accumulator is a fresh array, never x).
        body = [f"npy_{acc} {name}_a = {name}_c[j];",
                f"npy_{acc} {name}_v = (npy_{acc}){name}_r[j];", fold, f"{name}_c[j] = {name}_a;"]
        lines += [
            f"{indent}const npy_intp {name}_n = PyArray_DIM({x}, {d});",
            f"{indent}if (PyArray_STRIDE({x}, {d}) == (npy_intp)sizeof(npy_{idtype})"
            f" && {name}_ast[{d}] == (npy_intp)sizeof(npy_{acc})) {{",
            f"{indent}  const npy_{idtype} *{name}_r = (const npy_{idtype} *){name}_xp{d};",
            f"{indent}  npy_{acc} *{name}_c = (npy_{acc} *){name}_cp{d};",
            f"{indent}  #pragma omp simd",
            f"{indent}  for (npy_intp j = 0; j < {name}_n; ++j) {{ {' '.join(body)} }}",
            f"{indent}}} else {{",
            f"{indent}  for (npy_intp i{d} = 0; i{d} < {name}_n; ++i{d}) {{",
            f"{indent}    char *{name}_xq = {name}_xp{d} + i{d} * PyArray_STRIDE({x}, {d});",
            f"{indent}    char *{name}_cq = {name}_cp{d} + i{d} * {name}_ast[{d}];",
            f"{indent}    npy_{acc} {name}_a = *(npy_{acc} *){name}_cq;",
            f"{indent}    npy_{acc} {name}_v = (npy_{acc})(*(npy_{idtype} *){name}_xq);",
            f"{indent}    {fold}",
            f"{indent}    *(npy_{acc} *){name}_cq = {name}_a;",
            f"{indent}  }}",
            f"{indent}}}",
        ]
    for _ in range(loop_dims):
        indent = indent[:-2]
        lines.append(f"{indent}}}")
    lines.append("}")
    if not same:
        lines += [
            "{",
            f"  const npy_{acc} *{name}_src = (const npy_{acc} *)PyArray_DATA({name}_acc);",
            f"  npy_{odtype} *{name}_dst = (npy_{odtype} *)PyArray_DATA({z});",
            f"  for (npy_intp i = 0; i < PyArray_SIZE({z}); ++i)",
            f"    {name}_dst[i] = (npy_{odtype}){name}_src[i];",
            "}",
            f"Py_DECREF({name}_acc);",
        ]
    return "\n".join(lines)


REDUCTION_SUPPORT = SHAPE_TUPLE_SUPPORT

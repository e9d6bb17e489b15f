"""C code of MaxAndArgmax and Argmax (text only: tlink compiles it).

The C matches ``perform`` (NumPy's ``max``/``argmax`` over the reduced axes flattened in
the order the op names them):

- the argmax is the index of the first maximum in that flattened order, as an int64;
- a NaN wins, and the first NaN is the one reported (NumPy's rule), so a float row
  holding a NaN gives ``max = nan`` and the NaN's position;
- reducing an empty axis raises the ValueError ``perform`` raises, with the same text;
- reducing no axis (``axis=()``) copies the input and gives index 0 everywhere.

One pass: the kept dimensions are the outer loops (so the outputs are written in C
order), the reduced ones the inner loops, with a running flattened index. Any strides
(Fortran, negative, zero) are walked as they are: no copy is made.

Bool, integer, float32 and float64 inputs; others (float16, complex) run ``perform``.
"""

from __future__ import annotations

from tgraph.graph.utils import MethodNotDefined
from tgraph.tensor.reduction_c import REDUCTION_SUPPORT

__all__ = ["ARGMAX_C_VERSION", "ARGMAX_SUPPORT", "argmax_c_code"]

ARGMAX_C_VERSION = (2,)

# tgraph_shape_tuple (the shape as a tuple, for the error message) comes from here.
ARGMAX_SUPPORT = REDUCTION_SUPPORT

_DTYPES = {
    "bool": "NPY_BOOL", "int8": "NPY_INT8", "int16": "NPY_INT16", "int32": "NPY_INT32",
    "int64": "NPY_INT64", "uint8": "NPY_UINT8", "uint16": "NPY_UINT16",
    "uint32": "NPY_UINT32", "uint64": "NPY_UINT64", "float32": "NPY_FLOAT32",
    "float64": "NPY_FLOAT64",
}


def _output(var: str, ond: int, dims: str, typenum: str, fail: str) -> str:
    """(Re)allocate output ``var``: a C-contiguous array of shape ``dims``."""
    return (f"if ({var} == NULL || !PyArray_IS_C_CONTIGUOUS({var})"
            f" || !PyArray_CompareLists(PyArray_DIMS({var}), {dims}, {ond})) {{\n"
            f"  Py_XDECREF({var});\n"
            f"  {var} = (PyArrayObject *)PyArray_EMPTY({ond}, {dims}, {typenum}, 0);\n"
            f"  if ({var} == NULL) {fail}\n"
            "}")


def argmax_c_code(op, node, name: str, inputs: list[str], outputs: list[str],
                  sub: dict) -> str:
    """The C of one MaxAndArgmax node (two outputs) or Argmax node (one output)."""
    (x,) = inputs
    with_max = len(outputs) == 2
    z, idx = outputs if with_max else (None, outputs[0])
    dtype = node.inputs[0].type.dtype
    if dtype not in _DTYPES:
        raise MethodNotDefined(f"{op}: no C argmax for dtype {dtype}")
    nd = node.inputs[0].type.ndim
    axes = list(range(nd)) if op.axis is None else list(op.axis)
    if len(set(axes)) != len(axes) or any(not 0 <= a < nd for a in axes):
        raise MethodNotDefined(f"{op}: repeated or out-of-range axes are left to perform")
    kept = [d for d in range(nd) if d not in axes]
    ond = len(kept)
    fail = sub["fail"]
    ctype = f"npy_{dtype}"
    if dtype.startswith("float"):
        # v beats best when greater, or NaN; nothing beats a NaN (the first one stays).
        better = f"(!({name}_v <= {name}_b) && {name}_b == {name}_b)"
    else:
        better = f"({name}_v > {name}_b)"
    lines = [f"npy_intp {name}_od[{max(ond, 1)}];"]
    lines += [f"{name}_od[{k}] = PyArray_DIM({x}, {d});" for k, d in enumerate(kept)]
    for a in axes:
        lines.append(
            f"if (PyArray_DIM({x}, {a}) == 0) {{ PyErr_Format(PyExc_ValueError, "
            f"\"{op}: cannot take the max/argmax over the empty axis {a} of an input of "
            f"shape %R\", tgraph_shape_tuple({x})); {fail} }}")
    if with_max:
        lines.append(_output(z, ond, f"{name}_od", _DTYPES[dtype], fail))
    lines.append(_output(idx, ond, f"{name}_od", "NPY_INT64", fail))
    lines.append(f"if (PyArray_SIZE({x}) > 0) {{")
    if with_max:
        lines.append(f"  {ctype} *{name}_zo = ({ctype} *)PyArray_DATA({z});")
    lines.append(f"  npy_int64 *{name}_io = (npy_int64 *)PyArray_DATA({idx});")
    lines.append(f"  char *{name}_p0 = PyArray_BYTES({x});")
    indent = "  "
    level = 0
    for d in kept:
        lines.append(f"{indent}for (npy_intp {name}_i{d} = 0; {name}_i{d} < PyArray_DIM({x}, {d});"
                     f" ++{name}_i{d}) {{")
        indent += "  "
        lines.append(f"{indent}char *{name}_p{level + 1} = {name}_p{level} + {name}_i{d} *"
                     f" PyArray_STRIDE({x}, {d});")
        level += 1
    lines += [
        f"{indent}{ctype} {name}_b = *({ctype} *){name}_p{level};",
        f"{indent}npy_int64 {name}_k = 0, {name}_bk = 0;",
    ]
    inner = len(axes)
    for j, d in enumerate(axes):
        if j == inner - 1:
            # the innermost reduced axis: a plain strided loop
            lines += [
                f"{indent}{{ const npy_intp {name}_s = PyArray_STRIDE({x}, {d});",
                f"{indent}  const npy_intp {name}_n = PyArray_DIM({x}, {d});",
                f"{indent}  for (npy_intp {name}_j = 0; {name}_j < {name}_n;"
                f" ++{name}_j, ++{name}_k) {{",
                f"{indent}    {ctype} {name}_v = *({ctype} *)({name}_p{level} + {name}_j *"
                f" {name}_s);",
                f"{indent}    if {better} {{ {name}_b = {name}_v; {name}_bk = {name}_k; }}",
                f"{indent}  }}",
                f"{indent}}}",
            ]
        else:
            lines.append(f"{indent}for (npy_intp {name}_i{d} = 0; {name}_i{d} <"
                         f" PyArray_DIM({x}, {d}); ++{name}_i{d}) {{")
            indent += "  "
            lines.append(f"{indent}char *{name}_p{level + 1} = {name}_p{level} + {name}_i{d} *"
                         f" PyArray_STRIDE({x}, {d});")
            level += 1
    for _ in range(max(inner - 1, 0)):
        indent = indent[:-2]
        lines.append(f"{indent}}}")
    if with_max:
        lines.append(f"{indent}*{name}_zo++ = {name}_b;")
    lines.append(f"{indent}*{name}_io++ = {name}_bk;")
    for _ in kept:
        indent = indent[:-2]
        lines.append(f"{indent}}}")
    lines.append("}")
    return "\n".join(lines)

"""How values of each Type cross between storage cells and C variables.

A C thunk finds its inputs in storage cells (one-element Python lists) and must leave its
outputs there. For each Type the C linker needs five pieces of C: declare the variable,
extract it from a cell (checking the value: nothing segfaults on a wrong one), look at the
previous output left in a cell (so an Op may reuse its buffer), put a result back in a cell,
and clean up. They live here, keyed by Type class, rather than on tgraph's types: tgraph
stays free of C, and a user Type that defines Theano 1.0's ``c_declare``/``c_extract``/
``c_sync``/``c_cleanup`` methods is served by :class:`TheanoStyleCType` without registering.

The C variable of a tensor is a ``PyArrayObject*`` (a new reference, or NULL), with
``dtype_<name>`` and ``type_num_<name>`` beside it as in Theano; that of a scalar is a
``npy_<dtype>``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar.type import ScalarType
from tgraph.tensor.type import TensorType

__all__ = ["CTypeCode", "c_type_for", "npy_ctype", "npy_typenum", "register_c_type"]

_NPY_NAMES = {
    "bool": "BOOL", "int8": "INT8", "int16": "INT16", "int32": "INT32", "int64": "INT64",
    "uint8": "UINT8", "uint16": "UINT16", "uint32": "UINT32", "uint64": "UINT64",
    "float16": "FLOAT16", "float32": "FLOAT32", "float64": "FLOAT64",
    "complex64": "COMPLEX64", "complex128": "COMPLEX128",
}


def npy_typenum(dtype: str) -> str:
    """``'float32'`` -> ``'NPY_FLOAT32'`` (MethodNotDefined for dtypes C cannot hold)."""
    try:
        return "NPY_" + _NPY_NAMES[dtype]
    except KeyError:
        raise MethodNotDefined(f"dtype {dtype!r} has no C representation") from None


def npy_ctype(dtype: str) -> str:
    """``'float32'`` -> ``'npy_float32'``; float16 is held as ``npy_half`` (bits)."""
    npy_typenum(dtype)
    return "npy_half" if dtype == "float16" else f"npy_{dtype}"


@dataclass(frozen=True)
class CTypeCode:
    """The C snippets for one variable. Each is complete C text for that variable's name.

    ``extract``/``reuse``/``sync`` read or write the cell ``cell`` (a C expression of type
    ``PyObject*``, the Python list); ``fail`` jumps out after an exception was set.
    """

    declare: str
    extract: str
    reuse: str
    sync: str
    cleanup: str
    version: tuple


class TensorCType:
    """``TensorType`` values are ndarrays of the declared dtype and number of dimensions."""

    version = (1,)

    def code(self, type_: TensorType, name: str, cell: str, fail: str, what: str) -> CTypeCode:
        typenum = npy_typenum(type_.dtype)
        ndim = type_.ndim
        bcast = "".join("1" if b else "0" for b in type_.broadcastable) or "-"
        declare = (f"PyArrayObject* {name} = NULL;\n"
                   f"typedef {npy_ctype(type_.dtype)} dtype_{name};\n"
                   f"enum {{ type_num_{name} = {typenum} }};\n")
        extract = (f"{name} = tlink_get_array({cell}, {ndim}, {typenum}, \"{bcast}\", "
                   f"{_c_string(what)});\n"
                   f"if ({name} == NULL) {fail}\n")
        reuse = f"{name} = tlink_reusable_array({cell}, {ndim}, {typenum});\n"
        sync = (f"if (tlink_put_array({cell}, {name}, {ndim}, {typenum}, "
                f"{_c_string(what)}) != 0) {fail}\n")
        cleanup = f"Py_XDECREF({name}); {name} = NULL;\n"
        return CTypeCode(declare, extract, reuse, sync, cleanup, self.version)


class ScalarCType:
    """``ScalarType`` values are NumPy scalars (any number is accepted on the way in)."""

    version = (1,)

    def code(self, type_: ScalarType, name: str, cell: str, fail: str, what: str) -> CTypeCode:
        if type_.dtype in ("float16", "complex64", "complex128"):
            raise MethodNotDefined(f"scalar {type_.dtype} values are not handled in C")
        typenum = npy_typenum(type_.dtype)
        ctype = npy_ctype(type_.dtype)
        declare = (f"{ctype} {name} = 0;\n"
                   f"typedef {ctype} dtype_{name};\n"
                   f"enum {{ type_num_{name} = {typenum} }};\n")
        extract = (f"if (tlink_get_scalar({cell}, {typenum}, &{name}, "
                   f"{_c_string(what)}) != 0) {fail}\n")
        sync = f"if (tlink_put_scalar({cell}, {typenum}, &{name}) != 0) {fail}\n"
        return CTypeCode(declare, extract, "", sync, "", self.version)


class TheanoStyleCType:
    """A user Type with Theano 1.0's C methods (``c_declare``, ``c_extract``, ...).

    Theano's methods see a ``PyObject* py_<name>``; here it is the cell's content (a
    borrowed reference on extraction, and the object to store on sync).
    """

    def code(self, type_, name: str, cell: str, fail: str, what: str) -> CTypeCode:
        sub = {"fail": fail}
        declare = type_.c_declare(name, sub)
        if hasattr(type_, "c_init"):
            declare += type_.c_init(name, sub)
        py = f"py_{name}"
        extract = (f"{{ PyObject* {py} = PyList_GET_ITEM({cell}, 0);\n"
                   f"{type_.c_extract(name, sub)}\n}}\n")
        # c_sync releases py_<name> and sets a new reference, which the cell then takes.
        sync = (f"{{ PyObject* {py} = PyList_GET_ITEM({cell}, 0); Py_XINCREF({py});\n"
                f"{type_.c_sync(name, sub)}\nPyList_SetItem({cell}, 0, {py}); }}\n")
        cleanup = type_.c_cleanup(name, sub) if hasattr(type_, "c_cleanup") else ""
        version = type_.c_code_cache_version() if hasattr(type_, "c_code_cache_version") else ()
        return CTypeCode(declare, extract, "", sync, cleanup, tuple(version))


_registry: dict[type, object] = {TensorType: TensorCType(), ScalarType: ScalarCType()}


def register_c_type(type_class: type, adapter) -> None:
    """Teach the C linker a Type class (``adapter.code(type, name, cell, fail, what)``)."""
    if type_class in _registry:
        raise ValueError(f"a C adapter for {type_class.__name__} is already registered")
    _registry[type_class] = adapter


def c_type_for(type_):
    """The adapter for ``type_`` (MethodNotDefined when values of it cannot enter C)."""
    for klass in type(type_).__mro__:
        adapter = _registry.get(klass)
        if adapter is not None:
            return adapter
    if all(hasattr(type_, m) for m in ("c_declare", "c_extract", "c_sync")):
        return TheanoStyleCType()
    raise MethodNotDefined(f"values of type {type_} cannot be passed to C code")


def _c_string(text: str) -> str:
    """``text`` as a C string literal (quotes, backslashes and newlines escaped)."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{out}"'

"""pp/pprint (operators, functions, indexing, dimshuffle, custom printers) and the short
descriptions min_informative_str / var_descriptor."""

from __future__ import annotations

import numpy as np
import pytest

import tgraph.scalar as scal
from tgraph.graph.basic import Apply
from tgraph.graph.op import Op
from tgraph.pretty import (
    FunctionPrinter,
    OperatorPrinter,
    PPrinter,
    PrinterState,
    default_printer,
    leaf_printer,
    pp,
    pprint,
)
from tgraph.printing import hex_digest, min_informative_str, var_descriptor
from tgraph.tensor import math as tm
from tgraph.tensor.dot import Dot
from tgraph.tensor.elemwise import DimShuffle, Elemwise
from tgraph.tensor.reduction import Sum
from tgraph.tensor.shape import MakeVector
from tgraph.tensor.subtensor import Subtensor
from tgraph.tensor.type import TensorType, dmatrix, dscalar, dvector, lscalar

fvec = TensorType("float64", (False,))


class Frob(Op):
    """An Op no printer knows."""

    __props__ = ("k",)

    def __init__(self, k=1):
        self.k = k

    def make_node(self, *xs):
        return Apply(self, list(xs), [fvec()])


@pytest.fixture
def xyz():
    return dvector("x"), dvector("y"), dvector("z")


def test_registered_class_names_exist():
    # The printers are registered by qualified class name; a moved class would silently
    # fall back to the default printer, so check that each name still resolves.
    for cls in (Elemwise, DimShuffle, Subtensor, MakeVector, Sum, Dot, scal.ScalarOp):
        assert f"{cls.__module__}.{cls.__qualname__}" in pprint.printers_by_name


@pytest.mark.parametrize(("build", "expected"), [
    (lambda x, y, z: x + y, "(x + y)"),
    (lambda x, y, z: x * (y + z), "(x * (y + z))"),
    (lambda x, y, z: x - y - z, "((x - y) - z)"),
    (lambda x, y, z: x / y, "(x / y)"),
    (lambda x, y, z: x // y, "(x // y)"),
    (lambda x, y, z: x % y, "(x % y)"),
    (lambda x, y, z: -x, "(-x)"),
    (lambda x, y, z: x ** 2, "(x ** TensorConstant{2})"),
    (lambda x, y, z: tm.exp(x), "exp(x)"),
    (lambda x, y, z: tm.log(x + 1), "log((x + TensorConstant{1}))"),
    (lambda x, y, z: abs(x), "|x|"),
    (lambda x, y, z: tm.maximum(x, y), "maximum(x, y)"),
    (lambda x, y, z: tm.sigmoid(x), "sigmoid(x)"),
    (lambda x, y, z: tm.cast(x, "int8"), "int8(x)"),
    (lambda x, y, z: x.sum(), "sum(x)"),
    (lambda x, y, z: x[1:3], "x[1:3]"),
    (lambda x, y, z: x[1], "x[1]"),
    (lambda x, y, z: x[::2], "x[::2]"),
    (lambda x, y, z: x[:-1], "x[:-1]"),
    (lambda x, y, z: (x + y)[0], "(x + y)[0]"),
    (lambda x, y, z: tm.exp(x) * tm.exp(x), "(exp(x) * exp(x))"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_expressions(xyz, build, expected):
    assert pp(build(*xyz)) == expected


def test_matrix_forms():
    m, v = dmatrix("m"), dvector("v")
    assert pp(m.T) == "m.T"
    assert pp(m.dimshuffle("x", 0, 1)) == "m"
    assert pp(m.dimshuffle(1, "x", 0)) == "DimShuffle{1, x, 0}(m)"
    assert pp(m.dot(v)) == "(m \\dot v)"
    assert pp(m[1, 2:]) == "m[1, 2:]"
    i = lscalar("i")
    assert pp(m[i, i:]) == "m[i, i:]"
    assert pp(tm.sum(m, axis=0)) == "Sum{axis=[0], acc_dtype=float64}(m)"


def test_leaves_constants_and_greek():
    alpha = dscalar("alpha")
    x = dvector("x")
    assert pp(alpha * x) == "(\\alpha * x)"
    unnamed = dvector()
    assert pp(unnamed) == "<TensorType(float64, vector)>"
    c = tm.add(x, np.array([1.5, 2.5]))
    assert pp(c) == f"(x + {c.owner.inputs[1]})"


def test_unknown_op_prints_its_str_and_arguments(xyz):
    x, y, _ = xyz
    assert pp(Frob(3)(x, y)) == "Frob{3}(x, y)"
    assert pp(tm.exp(Frob()(x))) == "exp(Frob{1}(x))"


def test_scalar_graph_uses_operators():
    a, b = scal.float64("a"), scal.float64("b")
    assert pp(scal.add(a, scal.mul(a, b))) == "(a + (a * b))"
    assert pp(scal.exp(a)) == "exp(a)"


def test_inplace_elemwise_gets_equal_sign(xyz):
    x, y, _ = xyz
    add_inplace = Elemwise(scal.add, {0: 0})
    exp_inplace = Elemwise(scal.exp, {0: 0})
    assert pp(add_inplace(x, y)) == "(x += y)"
    assert pp(exp_inplace(x)) == "exp=(x)"


def test_copy_is_transparent(xyz):
    x, *_ = xyz
    assert pp(tm.tensor_copy(x) + 1) == "(x + TensorConstant{1})"


def test_assign_by_instance_class_name_and_condition(xyz):
    x, y, _ = xyz
    printer = pprint.clone()
    printer.assign(Frob(2), FunctionPrinter("frob2"))
    printer.assign(Frob, FunctionPrinter("frob"))
    assert printer(Frob(2)(x)) == "frob2(x)"
    assert printer(Frob(5)(x)) == "frob(x)"
    named = pprint.clone_assign(f"{__name__}.Frob", FunctionPrinter("by_name"))
    assert named(Frob(5)(x)) == "by_name(x)"
    cond = pprint.clone_assign(lambda pstate, r: r.name == "y", FunctionPrinter("never"))
    cond.assign(lambda pstate, r: r.name == "y", leaf_printer)
    assert cond(x + y) == "(x + y)"
    # The shared printer is untouched.
    assert pp(Frob(2)(x)) == "Frob{2}(x)"


def test_pprinter_errors(xyz):
    x, *_ = xyz
    with pytest.raises(TypeError, match="no printer is assigned"):
        PPrinter()(x)
    with pytest.raises(TypeError, match="expects a symbolic Variable"):
        pp(3)
    with pytest.raises(TypeError, match="condition must be"):
        PPrinter().assign(42, default_printer)
    with pytest.raises(ValueError, match="assoc must be one of"):
        OperatorPrinter("+", 0, "middle")
    with pytest.raises(TypeError, match="not the result of an operation"):
        FunctionPrinter("f").process(x, PrinterState(pprinter=pprint))
    with pytest.raises(TypeError, match="2 argument"):
        pp(x, x)


def test_pstate_dict_and_memo(xyz):
    x, y, _ = xyz
    s = x + y
    state = PrinterState(pprinter=pprint)
    assert pp(s * s, state) == "((x + y) * (x + y))"
    assert state.memo[s] == "(x + y)"
    assert pp(s, {}) == "(x + y)"


def test_process_graph(xyz):
    x, y, _ = xyz
    h = tm.exp(x + y)
    h.name = "h"
    out = h * 2
    assert pprint(x, out, {}) == "\n".join(
        ["h = exp((x + y))", "return (exp((x + y)) * TensorConstant{2})"]
    )
    assert pprint.process_graph([x, y], [h, out], display_inputs=True).splitlines() == [
        "inputs: x, y", "h = exp((x + y))", "out[1] = (exp((x + y)) * TensorConstant{2})"]


def test_min_informative_str_theano_reference():
    A, B, D, E = (dmatrix(n) for n in "ABDE")
    C = A + B
    C.name = "C"
    G = C + (D + E)
    assert min_informative_str(G) == "\n".join([
        "A. Elemwise{add,no_inplace}", " B. C", " C. Elemwise{add,no_inplace}", "  D. D",
        "  E. E"])
    s = A + A
    assert min_informative_str(s) == "A. Elemwise{add,no_inplace}\n B. A\n <B>"


def test_var_descriptor_is_address_free_and_stable():
    x, y = dvector("x"), dvector("y")
    s = tm.exp(x + y)
    assert var_descriptor(s) == (
        "A=Elemwise{exp,no_inplace}(B=Elemwise{add,no_inplace}(C=x,D=y))")
    s.name = "named"  # naming an intermediate does not change it
    assert var_descriptor(s).startswith("A=Elemwise{exp,no_inplace}(")
    assert var_descriptor(dvector()) == "A=<TensorType(float64, vector)>"
    a = np.arange(4.0)
    d = var_descriptor(a)
    assert d.startswith("A=<ndarray:strides=[8],digest=") and d == var_descriptor(a.copy())


def test_hex_digest():
    a = np.arange(6.0).reshape(2, 3)
    assert hex_digest(a) == hex_digest(a.copy())
    assert hex_digest(a) != hex_digest(a.T)
    assert hex_digest(a).endswith("|strides=[24,8]|shape=[2,3]")
    with pytest.raises(TypeError, match=r"expects a numpy\.ndarray"):
        hex_digest([1, 2])


def test_position_independent_str():
    from tgraph.printing import position_independent_str

    assert position_independent_str(dvector()) == "theano_var{type=TensorType(float64, vector)}"
    with pytest.raises(NotImplementedError, match="no address-free text for int"):
        position_independent_str(3)

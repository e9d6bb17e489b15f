"""debugprint: Theano 1.0's exact text layout, ids, depth, types, functions, inner graphs."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np
import pytest

from tgraph.graph.basic import Apply, Variable
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.op import Op
from tgraph.printing import char_from_number, debugprint
from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType, dmatrix, dvector

fvec = TensorType("float64", (False,))


class Twice(Op):
    """Two outputs (x and 2x); for the '.i' suffix."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [fvec(), fvec()])

    def perform(self, node, inputs, out, params=None):
        out[0][0], out[1][0] = inputs[0], 2 * inputs[0]


class InPlaceNeg(Op):
    """Overwrites its input (destroy_map) ..."""

    __props__ = ()
    destroy_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [fvec()])


class ViewOf(Op):
    """... or returns it (view_map)."""

    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [fvec()])


class Inner(Op):
    """An Op with an inner graph (inputs/outputs lists), like OpFromGraph."""

    __props__ = ()

    def __init__(self):
        a, b = fvec(), fvec()
        self.inputs, self.outputs = [a, b], [tm.mul(a, b)]

    def make_node(self, x, y):
        return Apply(self, [x, y], [fvec()])


def _abde():
    A, B, D, E = (dmatrix(n) for n in "ABDE")
    C = A + B
    C.name = "C"
    return A, B, D, E, C + (D + E)


def test_char_from_number_is_base26_with_A_as_zero():
    assert [char_from_number(n) for n in (0, 1, 25, 26, 27, 52, 701)] == [
        "A", "B", "Z", "BA", "BB", "CA", "BAZ"]


def test_theano_reference_chars():
    # Theano 1.0's own test, byte for byte (including the three trailing spaces).
    G = _abde()[-1]
    assert debugprint(G, file="str") == "\n".join([
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] 'C'   ",
        " | |A [id C]",
        " | |B [id D]",
        " |Elemwise{add,no_inplace} [id E] ''   ",
        "   |D [id F]",
        "   |E [id G]",
    ]) + "\n"


@pytest.mark.parametrize(("ids", "expected"), [
    ("int", ["Elemwise{add,no_inplace} [id 0] ''   ",
             " |Elemwise{add,no_inplace} [id 1] 'C'   ",
             " | |A [id 2]",
             " | |B [id 3]",
             " |Elemwise{add,no_inplace} [id 4] ''   ",
             "   |D [id 5]",
             "   |E [id 6]"]),
    ("", ["Elemwise{add,no_inplace}  ''   ",
          " |Elemwise{add,no_inplace}  'C'   ",
          " | |A ",
          " | |B ",
          " |Elemwise{add,no_inplace}  ''   ",
          "   |D ",
          "   |E "]),
], ids=["int", "none"])
def test_id_modes(ids, expected):
    s = io.StringIO()
    assert debugprint(_abde()[-1], file=s, ids=ids) is s
    assert s.getvalue() == "\n".join(expected) + "\n"


def test_python_ids():
    x = dvector("x")
    y = tm.exp(x)
    lines = debugprint(y, file="str", ids="id").splitlines()
    assert lines == [f"Elemwise{{exp,no_inplace}} [id {id(y)}] ''   ", f" |x [id {id(x)}]"]


def test_stop_on_name():
    assert debugprint(_abde()[-1], file="str", stop_on_name=True) == "\n".join([
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] 'C'   ",
        " |Elemwise{add,no_inplace} [id C] ''   ",
        "   |D [id D]",
        "   |E [id E]",
    ]) + "\n"


def test_shared_subexpression_is_expanded_once():
    x, y = dvector("x"), dvector("y")
    s = x + y
    out = tm.mul(s, tm.exp(s))
    assert debugprint(out, file="str").splitlines() == [
        "Elemwise{mul,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] ''   ",
        " | |x [id C]",
        " | |y [id D]",
        " |Elemwise{exp,no_inplace} [id E] ''   ",
        "   |Elemwise{add,no_inplace} [id B] ''   ",
    ]


def test_multi_output_suffix_and_apply_argument():
    x = fvec("x")
    a, b = Twice()(x)
    out = tm.add(a, b)
    assert debugprint(out, file="str").splitlines() == [
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Twice.0 [id B] ''   ",
        " | |x [id C]",
        " |Twice.1 [id B] ''   ",
    ]
    # An Apply prints all its outputs.
    assert debugprint(a.owner, file="str").splitlines() == [
        "Twice.0 [id A] ''   ", " |x [id B]", "Twice.1 [id A] ''   "]


def test_depth_limits_levels():
    G = _abde()[-1]
    assert debugprint(G, file="str", depth=1).splitlines() == [
        "Elemwise{add,no_inplace} [id A] ''   "]
    assert debugprint(G, file="str", depth=2).splitlines() == [
        "Elemwise{add,no_inplace} [id A] ''   ",
        " |Elemwise{add,no_inplace} [id B] 'C'   ",
        " |Elemwise{add,no_inplace} [id C] ''   ",
    ]
    assert debugprint(G, file="str", depth=0) == ""


def test_print_type():
    x = dvector("x")
    y = tm.exp(x)
    assert debugprint(y, file="str", print_type=True).splitlines() == [
        "Elemwise{exp,no_inplace} [id A] <TensorType(float64, vector)> ''   ",
        " |x [id B] <TensorType(float64, vector)>",
    ]


def test_unnamed_inputs_and_constants_print_their_str():
    x = fvec()
    y = tm.add(x, np.array([2.0]))
    lines = debugprint(y, file="str").splitlines()
    assert lines[1] == " |<TensorType(float64, vector)> [id B]"
    assert lines[2] == f" |{y.owner.inputs[1]} [id C]"


def test_list_input_shares_ids_across_roots():
    x = dvector("x")
    a, b = tm.exp(x), tm.log(x)
    assert debugprint([a, b], file="str").splitlines() == [
        "Elemwise{exp,no_inplace} [id A] ''   ",
        " |x [id B]",
        "Elemwise{log,no_inplace} [id C] ''   ",
        " |x [id B]",
    ]


def test_done_and_used_ids_shared_between_calls():
    x = dvector("x")
    a = tm.exp(x)
    b = tm.log(a)
    done: dict = {}
    first = debugprint(a, file="str", done=done)
    second = debugprint(b, file="str", done=done)
    assert first.splitlines() == ["Elemwise{exp,no_inplace} [id A] ''   ", " |x [id B]"]
    assert second.splitlines() == [
        "Elemwise{log,no_inplace} [id C] ''   ", " |Elemwise{exp,no_inplace} [id A] ''   "]


def test_destroy_and_view_markers_on_request():
    x = fvec("x")
    y = ViewOf()(InPlaceNeg()(x))
    assert debugprint(y, file="str").splitlines() == [
        "ViewOf [id A] ''   ", " |InPlaceNeg [id B] ''   ", "   |x [id C]"]
    lines = debugprint(y, file="str", print_destroy_map=True, print_view_map=True)
    assert lines.splitlines() == [
        "ViewOf [id A] ''  v={0: [0]} ",
        " |InPlaceNeg [id B] '' d={0: [0]}  ",
        "   |x [id C]",
    ]


def _add_sub_graph():
    A, B, D = dmatrix("A"), dmatrix("B"), dmatrix("D")
    s = A + B
    return A, B, D, s, FunctionGraph([A, B, D], [s, s - D], clone=False)


def test_function_graph_shows_toposort_index():
    *_, fg = _add_sub_graph()
    assert debugprint(fg, file="str").splitlines() == [
        "Elemwise{add,no_inplace} [id A] ''   0",
        " |A [id B]",
        " |B [id C]",
        "Elemwise{sub,no_inplace} [id D] ''   1",
        " |Elemwise{add,no_inplace} [id A] ''   0",
        " |D [id E]",
    ]


def test_compiled_function_duck_typed_with_clients():
    # Theano 1.0's reference for print_clients, with a stand-in for a compiled function.
    *_, fg = _add_sub_graph()
    fn = SimpleNamespace(maker=SimpleNamespace(fgraph=fg), profile=None,
                         fn=SimpleNamespace(storage_map={}))
    assert debugprint(fn, file="str", print_clients=True).splitlines() == [
        "Elemwise{add,no_inplace} [id A] ''   0 clients:[('output', ''), ('[id C]', 1)]",
        " |A [id D]",
        " |B [id E]",
        "Elemwise{sub,no_inplace} [id C] ''   1",
        " |Elemwise{add,no_inplace} [id A] ''   0 clients:[('output', ''), ('[id C]', 1)]",
        " |D [id F]",
    ]


def test_print_storage():
    A, B, _, s, fg = _add_sub_graph()
    storage = {v: [None] for v in fg.variables}
    storage[A] = [np.ones((1, 1))]
    fn = SimpleNamespace(maker=SimpleNamespace(fgraph=fg), profile=None,
                         fn=SimpleNamespace(storage_map=storage))
    lines = debugprint(fn, file="str", ids="", print_storage=True).splitlines()
    assert lines[:3] == ["Elemwise{add,no_inplace}  ''   0 [None]", " |A  [array([[1.]])]",
                         " |B  [None]"]


def test_in_out_wrappers_and_numbers(capsys):
    x = dvector("x")
    y = tm.exp(x)
    assert debugprint(SimpleNamespace(variable=y), file="str").splitlines()[0] == (
        "Elemwise{exp,no_inplace} [id A] ''   ")
    assert debugprint([3, np.arange(2)], file="str") == "3\n[0 1]\n"
    assert debugprint(y) is None  # file=None prints to stdout and returns None, as in Theano
    assert capsys.readouterr().out.startswith("Elemwise{exp,no_inplace} [id A] ''   \n |x")


def test_inner_graph_section():
    x, y = fvec("x"), fvec("y")
    out = Inner()(x, y)
    assert debugprint(out, file="str").splitlines() == [
        "Inner [id A] ''   ",
        " |x [id B]",
        " |y [id C]",
        "",
        "Inner graphs:",
        "",
        "Inner [id A] ''   ",
        " >Elemwise{mul,no_inplace} [id D] ''   ",
        " > |<TensorType(float64, vector)> [id E] -> [id B]",
        " > |<TensorType(float64, vector)> [id F] -> [id C]",
    ]


def test_deep_graph_does_not_recurse():
    x = fvec("x")
    y = x
    for _ in range(3000):  # make_node directly: no stack trace recorded per node
        y = ViewOf().make_node(y).outputs[0]
    lines = debugprint(y, file="str", ids="").splitlines()
    assert len(lines) == 3001
    assert lines[-1] == " " + " " * 2 * 2999 + "|x "


def test_bad_arguments():
    x = dvector("x")
    with pytest.raises(TypeError, match="depth must be an int"):
        debugprint(x, depth=1.5)
    with pytest.raises(ValueError, match="ids must be one of"):
        debugprint(x, ids="hex")
    with pytest.raises(TypeError, match="cannot print an object of type dict"):
        debugprint({"a": 1})


def test_plain_variable_line():
    v = Variable(fvec, name="v")
    assert debugprint(v, file="str") == "v [id A]\n"


class Scan(Inner):
    """Named like Theano's Scan, with its var_mappings (inner input 0 is outer input 1)."""

    var_mappings = {"outer_inp_from_inner_inp": {0: 1, 1: 0}}


def test_scan_like_inner_graph_uses_var_mappings_and_theano_header():
    x, y = fvec("x"), fvec("y")
    out = tm.exp(Scan()(x, y))
    lines = debugprint(out, file="str").splitlines()
    assert lines[4:] == [
        "",
        "Inner graphs of the scan ops:",
        "",
        "Scan [id B] ''   ",
        " >Elemwise{mul,no_inplace} [id E] ''   ",
        " > |<TensorType(float64, vector)> [id F] -> [id D]",
        " > |<TensorType(float64, vector)> [id G] -> [id C]",
    ]


def test_theano_printing_names_exist():
    import tgraph.printing as printing

    names = """DefaultPrinter FunctionPrinter IgnorePrinter LeafPrinter OperatorPrinter PPrinter
    PatternPrinter Print PrinterState VALID_ASSOC debugprint default_colorCodes
    default_printer greek hex_digest leaf_printer min_informative_str
    position_independent_str pp pprint pydot_imported pydot_imported_msg pydotprint special
    use_ascii var_descriptor""".split()
    assert [n for n in names if not hasattr(printing, n)] == []
    assert set(printing.__all__) <= set(dir(printing))

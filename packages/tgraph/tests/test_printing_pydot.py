"""pydotprint: the graph it draws, its errors without pydot/graphviz, and (when pydot is
installed) the dot source it writes. pydot is optional and not a dependency."""

from __future__ import annotations

import logging
import sys
import types
from types import SimpleNamespace

import pytest

import tgraph.dot as tdot
import tgraph.printing as printing
from tgraph.graph.basic import Apply
from tgraph.graph.fg import FunctionGraph
from tgraph.graph.op import Op
from tgraph.tensor import math as tm
from tgraph.tensor.type import TensorType, dvector

fvec = TensorType("float64", (False,))


class ViewOf(Op):
    __props__ = ()
    view_map = {0: [0]}

    def make_node(self, x):
        return Apply(self, [x], [fvec()])


class Overwrite(Op):
    __props__ = ()
    destroy_map = {0: [1]}

    def make_node(self, x, y):
        return Apply(self, [x, y], [fvec()])


class TwoOut(Op):
    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [fvec(), fvec()])


class Inner(Op):
    """An Op with an inner graph, for scan_graphs."""

    __props__ = ()
    name = "body"

    def __init__(self):
        a = fvec()
        self.inputs, self.outputs = [a], [tm.exp(a)]

    def make_node(self, x):
        return Apply(self, [x], [fvec()])


@pytest.fixture
def no_pydot(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)  # makes `import pydot` raise ImportError
    monkeypatch.setitem(sys.modules, "pydot_ng", None)


class _FakeElement:
    def __init__(self, *names, **attrs):
        self.names, self.attrs = names, attrs


class _FakeGraph(_FakeElement):
    def __init__(self, *names, **attrs):
        super().__init__(*names, **attrs)
        self.nodes, self.edges, self.subgraphs = [], [], []

    def add_node(self, n):
        self.nodes.append(n)

    def add_edge(self, e):
        self.edges.append(e)

    def add_subgraph(self, s):
        self.subgraphs.append(s)

    def to_string(self):
        return f"digraph {{ {len(self.nodes)} nodes, {len(self.edges)} edges }}"

    def create(self, prog, format):
        return b"IMAGE:" + format.encode()

    def write(self, path, prog, format):
        with open(path, "w") as f:
            f.write(f"{prog}:{format}:{self.to_string()}")


@pytest.fixture
def fake_pydot(monkeypatch):
    """A stand-in pydot module and a `dot` on PATH, to run the pipeline without graphviz."""
    mod = types.ModuleType("pydot")
    mod.Dot, mod.Cluster = _FakeGraph, _FakeGraph
    mod.Node = mod.Edge = _FakeElement
    monkeypatch.setitem(sys.modules, "pydot", mod)
    monkeypatch.setattr(tdot.shutil, "which", lambda prog: "/usr/bin/" + prog)
    return mod


def test_missing_pydot_raises_import_error_naming_what_to_install(no_pydot, tmp_path):
    x = dvector("x")
    with pytest.raises(ImportError, match=r"pip install pydot.*graphviz"):
        printing.pydotprint(x * 2, outfile=str(tmp_path / "g"))
    assert printing.pydot_imported is False
    assert "pip install pydot" in printing.pydot_imported_msg


def test_missing_graphviz_raises_runtime_error(fake_pydot, monkeypatch, tmp_path):
    monkeypatch.setattr(tdot.shutil, "which", lambda prog: None)
    x = dvector("x")
    with pytest.raises(RuntimeError, match="graphviz's `dot` program was not found"):
        printing.pydotprint(x * 2, outfile=str(tmp_path / "g"), format="png")
    assert tdot.pydot_imported is False
    assert "graphviz" in tdot.pydot_imported_msg


def test_pipeline_with_stand_in_pydot(fake_pydot, tmp_path, capsys):
    assert tdot.pydot_imported is True and tdot.pydot_imported_msg == ""
    x = dvector("x")
    out = tmp_path / "graph"
    assert printing.pydotprint(x * 2, outfile=str(out), format="svg") is None
    written = (tmp_path / "graph.svg").read_text()
    assert written.startswith("dot:svg:digraph")
    assert capsys.readouterr().out == f"The output file is available at {out}.svg\n"
    assert printing.pydotprint(x * 2, return_image=True, format="png") == b"IMAGE:png"
    assert printing.pydotprint(x * 2, return_image=True, format="raw").startswith("digraph")


def test_default_outfile(fake_pydot, monkeypatch, tmp_path):
    monkeypatch.setattr(tdot, "_default_outfile", lambda fmt: str(tmp_path / f"d.{fmt}"))
    printing.pydotprint(dvector("x") + 1, print_output_file=False, format="raw")
    assert (tmp_path / "d.raw").exists()


def test_bad_argument(fake_pydot):
    with pytest.raises(TypeError, match="pydotprint expects"):
        printing.pydotprint(42)


def test_description_colours_and_labels():
    x, y = dvector("x"), dvector("y")
    s = x + y
    out = tm.exp(s)
    out.name = "out"
    g = tdot.graph_description(out)
    labels = {attrs["label"]: (name, attrs) for name, attrs in g.nodes.items()}
    assert labels["name=x TensorType(float64, vector)"][1]["fillcolor"] == "green"
    assert labels["name=out TensorType(float64, vector)"][1]["fillcolor"] == "blue"
    add_name, add_attrs = labels["Elemwise{add,no_inplace}"]
    assert add_attrs == {"label": "Elemwise{add,no_inplace}", "shape": "ellipse",
                         "style": "filled", "fillcolor": "#FFAABB"}
    exp_name = labels["Elemwise{exp,no_inplace}"][0]
    # The unnamed intermediate has no box: the edge goes node to node, labelled by type.
    assert (add_name, exp_name, {"label": "TensorType(float64, vector)"}) in g.edges
    # Inputs of a 2-input node are numbered.
    x_name = labels["name=x TensorType(float64, vector)"][0]
    assert (x_name, add_name, {"label": "0"}) in g.edges
    assert all(name.startswith("n") for name in g.nodes)


def test_description_options():
    x, y = dvector("x"), dvector("y")
    s = x + y
    g = tdot.graph_description([s, tm.exp(s)], compact=False, with_ids=True,
                               high_contrast=False, var_with_name_simple=True,
                               max_label_size=12)
    labels = {a["label"]: a for a in g.nodes.values()}
    assert "x" in labels and labels["x"]["color"] == "green"
    assert "Elem id=0..." in labels  # room is kept for the id
    assert all(len(label) <= 15 for label in labels)


def test_description_view_destroy_and_unused_outputs():
    x, y = fvec("x"), fvec("y")
    v = ViewOf()(x)
    w = Overwrite()(v, y)
    first, _unused = TwoOut()(w)
    g = tdot.graph_description(FunctionGraph([x, y], [first], clone=False))
    edge_colors = {(g.nodes[s]["label"], g.nodes[d]["label"]): a.get("color")
                   for s, d, a in g.edges}
    assert edge_colors[("name=x TensorType(float64, vector)", "ViewOf")] == "blue"
    assert edge_colors[("name=y TensorType(float64, vector)", "Overwrite")] == "red"
    grey = [a for a in g.nodes.values() if a.get("fillcolor") == "grey"]
    assert len(grey) == 1


def test_description_of_compiled_function_with_updates():
    x, acc = dvector("x"), dvector("acc")
    new_acc = acc + x
    fg = FunctionGraph([x, acc], [tm.exp(x), new_acc], clone=False)
    fn = SimpleNamespace(
        maker=SimpleNamespace(fgraph=fg, expanded_inputs=[SimpleNamespace(update=None),
                                                          SimpleNamespace(update=new_acc)]),
        profile=None)
    g = tdot.graph_description(fn)
    update_edges = [(s, d) for s, d, a in g.edges if a.get("label") == "UPDATE"]
    assert len(update_edges) == 1
    src, dst = update_edges[0]
    assert g.nodes[src]["label"] == "name=acc TensorType(float64, vector)"
    assert g.nodes[dst]["fillcolor"] == "blue"


def test_cond_highlight_without_ifelse_logs(caplog):
    x = dvector("x")
    with caplog.at_level(logging.WARNING, logger="tgraph.printing"):
        g = tdot.graph_description(x * 2, cond_highlight=True)
    assert "no IfElse node" in caplog.text
    assert g.clusters == {}


def test_scan_graphs_draw_inner_graphs(fake_pydot, tmp_path):
    x = fvec("x")
    printing.pydotprint(Inner()(x), outfile=str(tmp_path / "main.raw"), format="raw",
                        scan_graphs=True, print_output_file=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["main.raw", "main_body_0.raw"]


def test_real_pydot_writes_dot_source(tmp_path):
    pytest.importorskip("pydot", reason="pydot is optional and not installed")
    x = dvector("x")
    y = tm.exp(x) * 2
    target = tmp_path / "g.raw"
    printing.pydotprint(y, outfile=str(target), format="raw", print_output_file=False)
    text = target.read_text()
    assert text.startswith("digraph")
    assert "Elemwise{exp,no_inplace}" in text and "name=x" in text

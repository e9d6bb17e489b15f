"""Pictures of graphs through graphviz: ``pydotprint`` (Theano 1.0's ``theano.printing``).

Apply nodes are ellipses, variables boxes: inputs green, shared variables cyan, outputs
blue, unused outputs grey; an edge into an Op that views an input is blue, one it destroys is
red. pydot and graphviz's ``dot`` program are optional: nothing is imported until
``pydotprint`` runs, and when either is missing it raises an error that says what to install.
``format='raw'`` writes the graph's dot source and needs pydot only.

The picture is first described in plain Python (:func:`graph_description`: nodes, edges,
clusters with their graphviz attributes), then handed to pydot, so the layout rules are
testable without pydot. Node names are sequential (``n0``, ``n1``...) rather than Theano's
``id()`` numbers, so the dot source is the same from run to run.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from tgraph.graph.basic import Apply, Constant, Variable, ancestors, graph_inputs
from tgraph.graph.fg import FunctionGraph

_logger = logging.getLogger("tgraph.printing")

#: Fill colours by Op class name (a substring match, as in Theano).
default_colorCodes = {
    "GpuFromHost": "red",
    "HostFromGpu": "red",
    "Scan": "yellow",
    "Shape": "brown",
    "IfElse": "magenta",
    "Elemwise": "#FFAABB",  # dark pink
    "Subtensor": "#FFAAFF",  # purple
    "Alloc": "#FFAA22",  # orange
    "Output": "blue",
}

_INSTALL_HINT = (
    "install the Python package with `pip install pydot` and the graphviz program `dot` "
    "(apt-get install graphviz, conda install graphviz or brew install graphviz)"
)


def _import_pydot() -> ModuleType:
    """pydot (or its old fork pydot_ng); ImportError naming what to install if neither."""
    try:
        import pydot

        return pydot
    except ImportError:
        pass
    try:
        import pydot_ng

        return pydot_ng
    except ImportError as exc:
        raise ImportError(f"pydotprint needs pydot and graphviz: {_INSTALL_HINT}") from exc


def _find_dot(prog: str = "dot") -> str | None:
    return shutil.which(prog)


def _availability() -> tuple[bool, str]:
    try:
        _import_pydot()
    except ImportError as exc:
        return False, str(exc)
    if _find_dot() is None:
        return False, f"pydot is installed but graphviz's `dot` is not on PATH: {_INSTALL_HINT}"
    return True, ""


def __getattr__(name: str) -> Any:
    # Theano exposed ``pydot_imported`` and ``pydot_imported_msg``; we compute them when they
    # are first read instead of importing pydot with this module.
    if name == "pydot_imported":
        return _availability()[0]
    if name == "pydot_imported_msg":
        return _availability()[1]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# Inner graphs (shared with debugprint)


def inner_graph(op: Any) -> tuple[list[Variable], list[Variable]] | None:
    """``(inputs, outputs)`` of the graph inside ``op``, or None for an ordinary Op.

    Recognised, in this order: a compiled inner function (``op.fn.maker.fgraph``, as Scan
    kept), an ``op.fgraph``, or lists of Variables in ``op.inputs``/``op.outputs`` (Scan
    before compilation, OpFromGraph, scalar Composite).
    """
    fgraph = getattr(getattr(getattr(op, "fn", None), "maker", None), "fgraph", None)
    if fgraph is None:
        fgraph = getattr(op, "fgraph", None)
    if fgraph is not None and hasattr(fgraph, "inputs") and hasattr(fgraph, "outputs"):
        return list(fgraph.inputs), list(fgraph.outputs)
    ins, outs = getattr(op, "inputs", None), getattr(op, "outputs", None)
    if (isinstance(ins, list | tuple) and isinstance(outs, list | tuple) and outs
            and all(isinstance(v, Variable) for v in (*ins, *outs))):
        return list(ins), list(outs)
    return None


def _is_shared(var: Variable) -> bool:
    return any(c.__name__ == "SharedVariable" for c in type(var).__mro__)


def _as_fgraph(fct: Any) -> tuple[FunctionGraph, list[Variable], list[Apply], Any, dict]:
    """(graph, outputs, toposort, profile, input updates) of what pydotprint was given."""
    maker = getattr(fct, "maker", None)
    if getattr(maker, "fgraph", None) is not None:
        fgraph = maker.fgraph
        outputs = list(fgraph.outputs)
        updates: dict = {}
        expanded = getattr(maker, "expanded_inputs", None)
        if expanded is not None:
            # Updates are the last outputs, in the order of the inputs that have one.
            pairs = [(i, fg_in) for i, fg_in in zip(expanded, fgraph.inputs)
                     if getattr(i, "update", None) is not None]
            for _, fg_in in reversed(pairs):
                updates[outputs.pop()] = fg_in
        return fgraph, outputs, fgraph.toposort(), getattr(fct, "profile", None), updates
    if isinstance(fct, FunctionGraph):
        return fct, list(fct.outputs), fct.toposort(), None, {}
    if isinstance(fct, Variable):
        fct = [fct]
    elif isinstance(fct, Apply):
        fct = list(fct.outputs)
    if not isinstance(fct, list | tuple) or not all(isinstance(v, Variable) for v in fct):
        raise TypeError(
            "pydotprint expects a compiled function, a FunctionGraph, an Apply node, a Variable "
            f"or a list of Variables; got {type(fct).__name__}: {fct!r}"
        )
    inputs = [v for v in graph_inputs(fct) if not isinstance(v, Constant)]
    fgraph = FunctionGraph(inputs, list(fct))
    return fgraph, list(fgraph.outputs), fgraph.toposort(), None, {}


# ---------------------------------------------------------------------------------------------
# The picture, described without pydot


@dataclass
class DotGraph:
    """Nodes (name -> graphviz attributes, in insertion order), edges and clusters."""

    nodes: dict[str, dict[str, str]] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    clusters: dict[str, list[str]] = field(default_factory=dict)

    def add_node(self, name: str, **attrs: str) -> None:
        self.nodes.setdefault(name, {}).update(attrs)

    def add_edge(self, src: str, dst: str, **attrs: str) -> None:
        self.edges.append((src, dst, attrs))


def _shorten(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


def _cond_node(topo: list[Apply], cond_highlight: Any) -> Apply | None:
    if isinstance(cond_highlight, Apply):
        return cond_highlight if cond_highlight in topo else None
    for node in topo:
        if type(node.op).__name__ == "IfElse" and (
            cond_highlight is True or getattr(node.op, "name", None) == cond_highlight
        ):
            return node
    return None


def graph_description(fct: Any, compact: bool = True, with_ids: bool = False,
                      high_contrast: bool = True, cond_highlight: Any = None,
                      colorCodes: dict | None = None, max_label_size: int = 70,
                      var_with_name_simple: bool = False) -> DotGraph:
    """What ``pydotprint`` draws for ``fct`` (same arguments), as plain data."""
    colors = default_colorCodes if colorCodes is None else colorCodes
    fgraph, outputs, topo, profile, input_update = _as_fgraph(fct)
    out_ids = {id(o) for o in outputs}
    g = DotGraph()

    clusters: dict[str, set[int]] = {}
    if cond_highlight is not None:
        cond = _cond_node(topo, cond_highlight)
        if cond is None:
            _logger.warning("pydotprint: cond_highlight is set but there is no IfElse node "
                            "in the graph")
        else:
            def nodes_of(var: Variable) -> set[int]:
                return {id(v.owner) for v in ancestors([var]) if v.owner is not None}

            left, right = nodes_of(cond.inputs[1]), nodes_of(cond.inputs[2])
            clusters = {"Left": left - right, "Right": right - left, "Middle": left & right}
            for name in clusters:
                g.clusters[name] = []

    names: dict[int, tuple[str, str]] = {}
    all_labels: set[str] = set()
    order = {id(node): i for i, node in enumerate(topo)}
    sequence = itertools.count()

    def var_name(var: Variable) -> tuple[str, str]:
        if id(var) in names:
            return names[id(var)]
        if var.name is not None:
            label = var.name if var_with_name_simple else f"name={var.name} {var.type}"
        elif isinstance(var, Constant):
            data = "val=" + str(np.asarray(var.data)).split("\n")[0]
            label = f"{data} {var.type}"
        elif var in input_update and input_update[var].name is not None:
            label = input_update[var].name
            if not var_with_name_simple:
                label += str(var.type)
        else:
            label = str(var.type)
        label = _shorten(label, max_label_size)
        names[id(var)] = (label, f"n{next(sequence)}")
        all_labels.add(label)
        return names[id(var)]

    def apply_name(node: Apply) -> tuple[str, str]:
        if id(node) in names:
            return names[id(node)]
        label = str(node.op).replace(":", "_")
        if profile is not None and getattr(profile, "apply_time", None) is not None:
            time = profile.apply_time.get(node, 0)
            total = getattr(profile, "fct_call_time", 0)
            share = time * 100 / total if total and getattr(profile, "fct_callcount", 0) else 0
            label += f"   ({time:.3f}s,{share:.3f}%)"
        if label in all_labels or with_ids:
            idx = f" id={order[id(node)]}"
            if len(label) + len(idx) > max_label_size:
                label = label[: max_label_size - 3 - len(idx)] + idx + "..."
            else:
                label += idx
        elif len(label) > max_label_size:
            label = _shorten(label, max_label_size)
            n = 1
            while label in all_labels:
                n += 1
                suffix = f" id={n}"
                label = label[: max_label_size - 3 - len(suffix)] + "..." + suffix
        all_labels.add(label)
        names[id(node)] = (label, f"n{next(sequence)}")
        return names[id(node)]

    def box(name: str, label: str, color: str | None) -> None:
        attrs = {"label": label, "shape": "box"}
        if color is not None:
            attrs.update({"style": "filled", "fillcolor": color} if high_contrast
                         else {"color": color})
        g.add_node(name, **attrs)

    for node in topo:
        alabel, aid = apply_name(node)
        color = None
        for op_name, c in colors.items():
            if op_name in type(node.op).__name__:
                color = c
        attrs = {"label": alabel, "shape": "ellipse"}
        if color is not None:
            attrs.update({"style": "filled", "fillcolor": color} if high_contrast
                         else {"color": color})
        g.add_node(aid, **attrs)
        for cname, members in clusters.items():
            if id(node) in members:
                g.clusters[cname].append(aid)

        viewed = {i for ins in (getattr(node.op, "view_map", None) or {}).values() for i in ins}
        destroyed = {i for ins in (getattr(node.op, "destroy_map", None) or {}).values()
                     for i in ins}
        for idx, var in enumerate(node.inputs):
            vlabel, vid = var_name(var)
            param: dict[str, str] = {}
            if len(node.inputs) > 1:
                param["label"] = str(idx)
            if idx in viewed:
                param["color"] = colors.get("Output", "blue")
            elif idx in destroyed:
                param["color"] = "red"
            if var.owner is None:
                box(vid, vlabel, "cyan" if _is_shared(var) else "green")
                g.add_edge(vid, aid, **param)
            elif var.name or not compact or id(var) in out_ids:
                g.add_edge(vid, aid, **param)
            else:
                # An unnamed intermediate: no box, the edge carries its type.
                text = (param.get("label", "") + " " + str(var.type)).strip()
                param["label"] = _shorten(text, max_label_size)
                g.add_edge(apply_name(var.owner)[1], aid, **param)

        for idx, var in enumerate(node.outputs):
            vlabel, vid = var_name(var)
            param = {}
            if len(node.outputs) > 1:
                param["label"] = str(idx)
            if id(var) in out_ids or var in input_update:
                g.add_edge(aid, vid, **param)
                box(vid, vlabel, colors.get("Output", "blue"))
            elif not fgraph.clients.get(var):
                g.add_edge(aid, vid, **param)
                box(vid, vlabel, "grey")
            elif var.name or not compact:
                if compact:
                    text = (param.get("label", "") + " " + str(var.type)).strip()
                    param["label"] = _shorten(text, max_label_size)
                g.add_edge(aid, vid, **param)
                g.add_node(vid, shape="box", label=vlabel)
            # else: the edge is drawn from the consumers' side.

    for out_var, shared in input_update.items():
        g.add_edge(var_name(shared)[1], var_name(out_var)[1], label="UPDATE",
                   color=colors.get("Output", "blue"))
    return g


def _to_pydot(desc: DotGraph, pd: ModuleType) -> Any:
    g = pd.Dot()
    for name, attrs in desc.nodes.items():
        g.add_node(pd.Node(name, **attrs))
    for src, dst, attrs in desc.edges:
        g.add_edge(pd.Edge(src, dst, **attrs))
    for cname, members in desc.clusters.items():
        cluster = pd.Cluster(cname)
        for name in members:
            cluster.add_node(pd.Node(name, **desc.nodes[name]))
        g.add_subgraph(cluster)
    return g


def _default_outfile(fmt: str) -> str:
    from tgraph._config import config

    try:
        folder = config.compiledir
    except AttributeError:  # the flag belongs to the linking package, maybe not imported
        folder = tempfile.gettempdir()
    try:
        device = config.device
    except AttributeError:
        device = "cpu"
    return os.path.join(folder, f"theano.pydotprint.{device}.{fmt}")


def pydotprint(fct: Any, outfile: str | None = None, compact: bool = True,
               format: str = "png", with_ids: bool = False, high_contrast: bool = True,
               cond_highlight: Any = None, colorCodes: dict | None = None,
               max_label_size: int = 70, scan_graphs: bool = False,
               var_with_name_simple: bool = False, print_output_file: bool = True,
               return_image: bool = False) -> Any:
    """Draw the graph of ``fct`` (a compiled function, FunctionGraph, Apply, Variable or list
    of Variables) to ``outfile`` in ``format`` (any graphviz format; 'raw' is dot source).

    ``compact`` leaves out boxes for unnamed intermediates (their type labels the edge);
    ``with_ids`` adds each Apply's toposort index; ``high_contrast`` fills nodes instead of
    colouring borders; ``colorCodes`` maps Op class names to colours;
    ``cond_highlight`` (True, an IfElse's name, or its Apply node) clusters the nodes of
    its two branches; ``scan_graphs`` also draws every inner graph to
    ``<outfile>_<name>_<index>``; ``return_image`` returns the image instead of writing it.

    Raises ImportError when pydot is missing, RuntimeError when graphviz's ``dot`` is.
    """
    pd = _import_pydot()
    if format != "raw" and _find_dot() is None:
        raise RuntimeError(
            f"pydotprint: graphviz's `dot` program was not found on PATH, and format={format!r} "
            f"needs it ('raw' writes the dot source without it): {_INSTALL_HINT}"
        )
    desc = graph_description(fct, compact=compact, with_ids=with_ids,
                             high_contrast=high_contrast, cond_highlight=cond_highlight,
                             colorCodes=colorCodes, max_label_size=max_label_size,
                             var_with_name_simple=var_with_name_simple)
    g = _to_pydot(desc, pd)
    if outfile is None:
        outfile = _default_outfile(format)
    if not outfile.endswith("." + format):
        outfile += "." + format

    if scan_graphs:
        _print_inner_graphs(fct, outfile, compact, format, with_ids, high_contrast,
                            cond_highlight, colorCodes, max_label_size)

    if return_image:
        return g.to_string() if format == "raw" else g.create(prog="dot", format=format)
    g.write(outfile, prog="dot", format=format)
    if print_output_file:
        print("The output file is available at", outfile)
    return None


def _print_inner_graphs(fct, outfile, compact, format, with_ids, high_contrast,
                        cond_highlight, colorCodes, max_label_size) -> None:
    topo = _as_fgraph(fct)[2]
    folder, filename = os.path.split(outfile)
    base, ext = os.path.splitext(filename)
    for idx, node in enumerate(topo):
        inner = inner_graph(node.op)
        if inner is None:
            continue
        op_name = getattr(node.op, "name", None)
        new_name = f"{base}_{op_name}_{idx}" if op_name else f"{base}_{idx}"
        fn = getattr(node.op, "fn", None)
        target = fn if getattr(getattr(fn, "maker", None), "fgraph", None) is not None \
            else inner[1]
        pydotprint(target, os.path.join(folder, new_name + ext), compact, format, with_ids,
                   high_contrast, cond_highlight, colorCodes, max_label_size, True,
                   print_output_file=False)


__all__ = ["DotGraph", "default_colorCodes", "graph_description", "inner_graph", "pydotprint"]

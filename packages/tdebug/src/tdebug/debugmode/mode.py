"""DebugMode: the Mode that optimizes with checks and links with the DebugMode linker.

``DebugMode(...)`` takes Theano 1.0's arguments; each one left None follows its
``DebugMode.*`` flag, read when a function is compiled (so changing a flag after import is
honoured). Compiling with it:

* optimizes the graph ``stability_patience`` times (copies made before the first run) and
  raises :class:`StochasticOrder` when two runs give different graphs or orders;
* records, through a FunctionGraph feature, every replacement the rewrites made, so each
  call can check it (BadOptimization);
* links with :class:`~tdebug.debugmode.linker.DebugLinker`.
"""

from __future__ import annotations

from typing import Any

from tdebug.debugmode.errors import StochasticOrder
from tdebug.debugmode.linker import DebugLinker, DebugSettings
from tdebug.debugmode.tracker import ReplacementTracker
from tgraph import config
from tgraph.graph.basic import Constant, clone_get_equiv
from tgraph.graph.fg import FunctionGraph
from tlink.compile.maker import FunctionMaker, PreserveNames, Supervisor
from tlink.mode import Mode

__all__ = ["DebugMode", "DebugModeFunctionMaker", "graph_signature"]


def _flag(name: str) -> Any:
    return getattr(config, f"DebugMode__{name}")


def _prealloc_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    kinds = value.split(":") if isinstance(value, str) else list(value)
    if "ALL" in kinds:
        return ["initial", "previous", "c_contiguous", "f_contiguous", "strided",
                "wrong_size"]
    return [k for k in kinds if k]


class DebugMode(Mode):
    """Theano 1.0's DebugMode: run every node in Python and C and check everything.

    ``optimizer``: the rewrites to check (default 'fast_run'). ``stability_patience``: how
    many times to optimize to check determinism (flag ``DebugMode.patience``).
    ``check_c_code`` / ``check_py_code``: run the C / Python implementations (flags
    ``check_c``, ``check_py``). ``check_isfinite``: NaN/Inf are errors (``check_finite``).
    ``check_preallocated_output``: preallocation kinds, a list or a ':'-separated string
    (``check_preallocated_output``). ``require_matching_strides``: 0, 1 (warn) or 2 (raise)
    when C and Python strides differ; non-zero also reruns nodes on non-contiguous,
    reversed and Fortran-ordered inputs (``check_strides``). ``linker``: DebugMode runs its
    own linker; passing another is an error, as in Theano 1.0.
    """

    function_maker: type

    def __init__(self, optimizer: Any = "fast_run", stability_patience: int | None = None,
                 check_c_code: bool | None = None, check_py_code: bool | None = None,
                 check_isfinite: bool | None = None,
                 check_preallocated_output: Any = None,
                 require_matching_strides: int | None = None, linker: Any = None):
        if linker is not None and not isinstance(linker, DebugLinker) and linker not in (
                "debugmode", "DebugMode"):
            raise ValueError(
                f"DebugMode runs its own linker, so linker={linker!r} cannot be used; leave "
                "it out (use Mode(linker=...) to choose a linker without DebugMode's checks)")
        if stability_patience is not None and (
                not isinstance(stability_patience, int) or stability_patience < 1):
            raise ValueError(f"DebugMode: stability_patience must be an int >= 1, got "
                             f"{stability_patience!r}")
        if require_matching_strides not in (None, 0, 1, 2, True, False):
            raise ValueError(f"DebugMode: require_matching_strides must be 0, 1 or 2, got "
                             f"{require_matching_strides!r}")
        self._stability_patience = stability_patience
        self._check_c_code = check_c_code
        self._check_py_code = check_py_code
        self._check_isfinite = check_isfinite
        self._check_preallocated_output = (
            None if check_preallocated_output is None
            else _prealloc_list(check_preallocated_output))
        self._require_matching_strides = (None if require_matching_strides is None
                                          else int(require_matching_strides))
        if self._check_c_code is False and self._check_py_code is False:
            raise ValueError("DebugMode: check_c_code and check_py_code cannot both be False")
        super().__init__(linker=DebugLinker(), optimizer=optimizer)

    # The settings: an explicit argument, else the flag read now.
    @property
    def stability_patience(self) -> int:
        v = self._stability_patience
        return _flag("patience") if v is None else v

    @property
    def check_c_code(self) -> bool:
        v = self._check_c_code
        return bool(_flag("check_c")) if v is None else bool(v)

    @property
    def check_py_code(self) -> bool:
        v = self._check_py_code
        return bool(_flag("check_py")) if v is None else bool(v)

    @property
    def check_isfinite(self) -> bool:
        v = self._check_isfinite
        return bool(_flag("check_finite")) if v is None else bool(v)

    @property
    def check_preallocated_output(self) -> list[str]:
        v = self._check_preallocated_output
        return _prealloc_list(_flag("check_preallocated_output")) if v is None else list(v)

    @property
    def require_matching_strides(self) -> int:
        v = self._require_matching_strides
        return int(_flag("check_strides")) if v is None else v

    def settings(self) -> DebugSettings:
        """The checks to run, with the flags read now."""
        check_py, check_c = self.check_py_code, self.check_c_code
        if not check_py and not check_c:
            raise ValueError("DebugMode: DebugMode.check_py and DebugMode.check_c are both "
                             "False; nothing would run")
        return DebugSettings(
            check_py=check_py, check_c=check_c, check_isfinite=self.check_isfinite,
            check_strides=self.require_matching_strides,
            check_preallocated_output=self.check_preallocated_output,
            preallocated_output_ndim=int(_flag("check_preallocated_output_ndim")),
            warn_input_not_reused=bool(_flag("warn_input_not_reused")))

    @property
    def linker(self) -> DebugLinker:
        """A DebugMode linker carrying the settings as they are now."""
        return DebugLinker(self.settings())

    @linker.setter
    def linker(self, value: Any) -> None:
        self.provided_linker = value

    def __getstate__(self):
        return dict(self.__dict__)

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)

    def clone(self, link_kwargs: dict | None = None, optimizer: Any = "", **kwargs) -> Mode:
        """A copy with the same checks (another optimizer or arguments if given)."""
        args = dict(optimizer=self.provided_optimizer if optimizer == "" else optimizer,
                    stability_patience=self._stability_patience,
                    check_c_code=self._check_c_code, check_py_code=self._check_py_code,
                    check_isfinite=self._check_isfinite,
                    check_preallocated_output=self._check_preallocated_output,
                    require_matching_strides=self._require_matching_strides)
        args.update(kwargs)
        return DebugMode(**args)

    def __str__(self) -> str:
        return f"DebugMode(optimizer={self.provided_optimizer})"

    __repr__ = __str__


def graph_signature(fgraph: FunctionGraph) -> list[str]:
    """One line per node of the toposort: its Op and where each input comes from.

    Two graphs with equal signatures run the same Ops on the same inputs in the same
    order; object ids never appear, so graphs from separate optimizations can be compared.
    """
    where: dict = {var: f"in{i}" for i, var in enumerate(fgraph.inputs)}
    lines = []
    for k, node in enumerate(fgraph.toposort()):
        args = []
        for var in node.inputs:
            if var in where:
                args.append(where[var])
            elif isinstance(var, Constant):
                args.append(f"const {var.type} {var}")
            else:
                args.append("?")
        for j, out in enumerate(node.outputs):
            where[out] = f"n{k}.{j}"
        lines.append(f"{k}: {node.op}({', '.join(args)})")
    lines.append("outputs: " + ", ".join(where.get(o, "?") for o in fgraph.outputs))
    return lines


def _copy_for_check(fgraph: FunctionGraph) -> FunctionGraph:
    """A copy of the not yet optimized graph with the features the maker attached."""
    equiv = clone_get_equiv(fgraph.inputs, fgraph.outputs)
    copy = FunctionGraph([equiv[i] for i in fgraph.inputs], [equiv[o] for o in fgraph.outputs],
                         clone=False, update_mapping=fgraph.update_mapping)
    for feature in fgraph._features:
        if isinstance(feature, Supervisor):
            copy.attach_feature(Supervisor(equiv.get(v, v) for v in feature.protected))
        elif isinstance(feature, PreserveNames):
            copy.attach_feature(PreserveNames())
    return copy


class DebugModeFunctionMaker(FunctionMaker):
    """The FunctionMaker of DebugMode: optimizes with a replacement tracker attached and
    checks that optimizing again gives the same graph (StochasticOrder)."""

    def _optimize(self, fgraph: FunctionGraph, mode: Any, profile: Any) -> None:
        patience = getattr(mode, "stability_patience", 1)
        copies = [_copy_for_check(fgraph) for _ in range(max(patience, 1) - 1)]
        fgraph.attach_feature(ReplacementTracker())
        super()._optimize(fgraph, mode, profile)
        reference = graph_signature(fgraph)
        for k, other in enumerate(copies, start=2):
            super()._optimize(other, mode, None)
            sig = graph_signature(other)
            if sig != reference:
                first = next((j for j, (a, b) in enumerate(zip(reference, sig)) if a != b),
                             min(len(reference), len(sig)))
                raise StochasticOrder(
                    f"StochasticOrder: optimizing the same graph {k} times gave a different "
                    f"graph the {k}th time ({len(reference)} vs {len(sig)} lines); the first "
                    f"difference is at line {first}:\n"
                    f"  first run: {reference[first] if first < len(reference) else '(end)'}\n"
                    f"  run {k}:    {sig[first] if first < len(sig) else '(end)'}\n"
                    "A rewrite or the scheduler depends on something that changes between "
                    "runs (object ids, set or dict order).")


DebugMode.function_maker = DebugModeFunctionMaker

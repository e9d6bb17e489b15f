"""NanGuardMode: FAST_RUN's program, with every computed value checked for NaN, Inf and huge values.

Theano 1.0's NanGuardMode ran each node through a Python VM callback and called
``np.isnan(x).any()``, ``np.isinf(x).any()`` and ``np.abs(x).max()`` on every input and output
of every node, so a NaN was found where it appeared, at several times the cost of the
function itself. This one keeps the same contract (the flags ``NanGuardMode.nan_is_error``,
``inf_is_error``, ``big_is_error`` and ``action``; the first node that produced a bad value
is the one reported, with its inputs' summary) and makes it cheap enough to leave on while
training:

* each value is checked once: the function's inputs when a call starts, constants on the
  first call, and each node's outputs right after the node ran. A node's input is always
  one of those, so it is never checked again;
* outputs that are views of an input (``view_map``), copies of one (DeepCopyOp) or
  uninitialised buffers (AllocEmpty, whose content is garbage until a later in-place node
  writes it) are not checked: their values are checked where they are computed. Checking
  such buffers was the source of Theano's false alarms;
* a clean array costs one BLAS pass, ``vdot(x, x)``: the sum of squares is NaN exactly when
  an element is NaN, finite only when all are, and below 0.5e20 only when no element has
  ``|x| > 1e10`` (a sum of non-negative terms never rounds below its largest term, so the
  margin covers rounding). Only a suspicious sum pays for the exact counts;
* integer, boolean and non-array values (random states, None, int scalars) are skipped,
  by their type when the function is made and by their dtype at run time.

The checks run inside the VM that FAST_RUN uses (the Cython VM when built, on its fast
loop): the thunks of nodes with something to check are wrapped to check their outputs, and
the VM classes (tlink's ``VMLinker.vm_classes`` hook) check the inputs when a call starts.
A VM ``callback`` would have sent every node through Python, costing more than the checks.
The wrapper of a node with one output to check is a C thunk (``tdebug._guard``, built with
tdebug) that sums a small output's squares itself and calls Python only for large or
suspicious values, so the VM's C loop never leaves C for a clean node; without that
extension the wrappers are Python closures doing the same checks.

Not caught as an input: a shared variable's array changed in place between calls (through
``get_value(borrow=True)``) after the function produced it; the first node reading it
reports the bad value instead.
"""

from __future__ import annotations

import pdb
import warnings
from typing import Any

import numpy as np

from tgraph import config
from tgraph.graph.basic import Apply, Constant, Variable
from tgraph.tensor.alloc import AllocEmpty
from tlink.compile.ops import DeepCopyOp
from tlink.linker.vm import VMLinker
from tlink.mode import Mode, OptimizerQuery, predefined_modes, register_mode, resolve_linker

__all__ = ["BIG_THRESHOLD", "NanGuardError", "NanGuardLinker", "NanGuardMode",
           "NanGuardWarning", "summarize_value"]

#: Theano 1.0's limit: a magnitude above this counts as "big" (a diverging computation).
BIG_THRESHOLD = 1e10
# The fast path's bound on sum(x**2): half of BIG_THRESHOLD**2, a margin for rounding.
_SUMSQ_LIMIT = 0.5 * BIG_THRESHOLD * BIG_THRESHOLD
_CHECKED_KINDS = ("f", "c")
# vdot without NumPy's __array_function__ dispatch (a microsecond per call, on every
# checked value); the public function where the attribute is missing.
_vdot = getattr(np.vdot, "_implementation", np.vdot)

try:  # the per-node check in C (built with tdebug; optional, see tdebug/_guard.pyx)
    from tdebug import _guard as _c_guard
except ImportError:  # built without a C compiler: the Python closures below
    _c_guard = None


class NanGuardError(AssertionError):
    """A value that NanGuardMode checks holds NaN, Inf or a huge magnitude.

    An AssertionError, as Theano 1.0 raised. ``node`` is the Apply node that produced the
    value (None for a function input), ``variable`` the checked variable.
    """

    def __init__(self, message: str, node: Apply | None = None,
                 variable: Variable | None = None):
        super().__init__(message)
        self.node = node
        self.variable = variable


class NanGuardWarning(RuntimeWarning):
    """What NanGuardMode reports with ``NanGuardMode.action=warn``."""


def _type_may_hold_floats(var: Variable) -> bool:
    """Whether ``var``'s type can hold float or complex values (tensors and scalars)."""
    dtype = getattr(var.type, "dtype", None)
    if dtype is None:
        return False
    try:
        return np.dtype(dtype).kind in _CHECKED_KINDS
    except TypeError:
        return False


# Scalar ops whose result is one of their inputs' values, or its sign, magnitude or
# rounding: from checked real inputs they cannot make NaN, Inf or a bigger magnitude.
_VALUE_PRESERVING_SCALAR_OPS = ("Neg", "Abs", "Identity", "Sgn", "Floor", "Ceil", "Trunc",
                                "Maximum", "Minimum", "Second")


def _copies_checked_values(node: Apply) -> bool:
    """Whether ``node``'s outputs need no check: uninitialised, copies, or value-preserving.

    AllocEmpty's output is garbage until an in-place node writes it (that node's output is
    checked); DeepCopyOp copies a checked value; an Elemwise in
    ``_VALUE_PRESERVING_SCALAR_OPS`` over real float inputs of its own dtype keeps them.
    """
    op = node.op
    if isinstance(op, AllocEmpty | DeepCopyOp):
        return True
    scalar_op = getattr(op, "scalar_op", None)
    if scalar_op is None or type(scalar_op).__name__ not in _VALUE_PRESERVING_SCALAR_OPS:
        return False
    dtypes = {str(getattr(v.type, "dtype", "")) for v in node.inputs + node.outputs}
    return len(dtypes) == 1 and dtypes <= {"float16", "float32", "float64"}


def _is_real_float_tensor(var: Variable) -> bool:
    """Whether ``var`` holds float32/float64 ndarrays (the inlined fast path's case)."""
    return (getattr(var.type, "ndim", None) is not None
            and str(getattr(var.type, "dtype", "")) in ("float32", "float64"))


def _counts(value: np.ndarray) -> tuple[int, int, int]:
    """(#NaN, #Inf, #finite values with |x| > BIG_THRESHOLD)."""
    nans = int(np.count_nonzero(np.isnan(value)))
    infs = int(np.count_nonzero(np.isinf(value)))
    finite = value[np.isfinite(value)]
    if float(np.finfo(value.dtype).max) <= BIG_THRESHOLD:  # float16 cannot hold a big value
        return nans, infs, 0
    bigs = int(np.count_nonzero(np.abs(finite) > BIG_THRESHOLD))
    return nans, infs, bigs


def summarize_value(value: Any) -> str:
    """One line describing a value: dtype, shape, min, max and bad-entry counts."""
    if not isinstance(value, np.ndarray | np.generic):
        return f"{type(value).__name__} (not checked)"
    arr = np.asarray(value)
    head = f"{arr.dtype} shape {arr.shape}"
    if arr.dtype.kind not in "fciub":
        return head
    if arr.size == 0:
        return f"{head}, empty"
    if arr.dtype.kind in _CHECKED_KINDS:
        nans, infs, bigs = _counts(arr)
        finite = arr[np.isfinite(arr)]
    else:
        nans = infs = bigs = 0
        finite = arr
    if finite.size and finite.dtype.kind != "c":
        span = f"min {finite.min().item()!r}, max {finite.max().item()!r} (finite values)"
    elif finite.size:
        span = f"max |x| {np.abs(finite).max().item()!r}"
    else:
        span = "no finite value"
    return (f"{head}, {span}, {nans} NaN, {infs} Inf, {bigs} big (|x| > {BIG_THRESHOLD:g}) "
            f"of {arr.size}")


class _Guard:
    """The checks of one compiled program (made by NanGuardLinker.make_vm, used by its VM).

    ``by_node`` maps each node to the ``(output index, variable, cell)`` triples to check
    after it runs; ``inputs`` are the function's inputs to check when a call starts, and
    ``constants`` those checked on the first call only (their values never change).
    """

    def __init__(self, mode: NanGuardMode, fgraph, order, storage_map: dict):
        self.nan, self.inf, self.big = mode.nan_is_error, mode.inf_is_error, mode.big_is_error
        self.mode = mode
        self.fgraph = fgraph
        self.storage_map = storage_map
        self.position = {node: k for k, node in enumerate(order)}
        self.n_nodes = len(order)
        active = self.nan or self.inf or self.big
        self.by_node: dict = {}
        for node in order:
            checks = []
            if active and not _copies_checked_values(node):
                views = getattr(node.op, "view_map", None) or {}
                for j, out in enumerate(node.outputs):
                    if j not in views and _type_may_hold_floats(out):
                        checks.append((j, out, storage_map[out]))
            if checks:
                self.by_node[node] = checks
        self.inputs = [[var, storage_map[var], None] for var in fgraph.inputs
                       if active and var in storage_map and _type_may_hold_floats(var)]
        # A shared variable's new value is an output checked at the end of the previous
        # call; when the next call finds that very object in its cell, it is not checked
        # again (``[var, cell, last value checked as an update]``).
        slot = {id(entry[0]): entry for entry in self.inputs}
        self.update_slot = {}
        for out_idx, in_idx in (getattr(fgraph, "update_mapping", None) or {}).items():
            entry = slot.get(id(fgraph.inputs[in_idx]))
            if entry is not None:
                self.update_slot[fgraph.outputs[out_idx]] = entry
        seen: set[int] = set()
        self.constants = []
        for node in order:
            for var in node.inputs:
                if (active and isinstance(var, Constant) and id(var) not in seen
                        and _type_may_hold_floats(var)):
                    seen.add(id(var))
                    self.constants.append((var, storage_map[var]))
        self.reported = False
        # The fast path's test on the sum of squares (see the module docstring): below
        # ``limit`` the value is clean. NaN compares False, so it falls to the exact counts;
        # with only nan_is_error, an infinite sum without NaN is clean too.
        self.limit = np.float64(_SUMSQ_LIMIT if self.big else np.inf)
        self.nan_only = not (self.big or self.inf)

    # -- called by the VM -------------------------------------------------------------------
    def begin_call(self) -> None:
        """Check the function's inputs (and constants, the first time) before any node runs."""
        self.reported = False
        check, limit, ndarray = self._check, self.limit, np.ndarray
        screen = _c_guard.screen if _c_guard is not None else None
        for var, cell, known in self.inputs:
            v = cell[0]
            if v is known or (screen is not None and screen(v, limit)):
                continue
            if v.__class__ is ndarray and v.dtype.char in "fd" and _vdot(v, v) < limit:
                continue
            check(v, var, None, None)
        if self.constants:
            for var, cell in self.constants:
                check(cell[0], var, None, None)
            self.constants = []

    def guarded_thunk(self, thunk: Any, node: Apply) -> Any:
        """``thunk``, or a wrapper checking its outputs right after it ran.

        Wrapping only the nodes that have something to check keeps the VM on its fast
        loop (a VM callback would send every node through Python); the wrapper carries the
        thunk's attributes, so error messages still show the node's inputs.
        """
        checks = self.by_node.get(node)
        if not checks:
            return thunk
        check = self._check
        if len(checks) == 1 and not thunk.lazy and _c_guard is not None:
            # Stays on the VM's C loop: a CThunk running the node and screening its output.
            (j, var, cell), = checks

            def check_output(v):
                check(v, var, node, j)

            run = _c_guard.guarded_thunk(thunk, cell, check_output, float(self.limit),
                                         self.update_slot.get(var))
        elif len(checks) == 1 and not thunk.lazy:
            (j, var, cell), = checks
            entry = self.update_slot.get(var)
            if entry is not None:
                def run():
                    thunk()
                    v = cell[0]
                    check(v, var, node, j)
                    entry[2] = v  # checked: the next call need not check it as an input
            elif _is_real_float_tensor(var):
                # The common case with the fast path inlined: a float32/float64 ndarray (its
                # dtype is the type's, ops guarantee it) whose sum of squares is below limit.
                limit, ndarray, vdot = self.limit, np.ndarray, _vdot

                def run():
                    thunk()
                    v = cell[0]
                    if v.__class__ is ndarray and vdot(v, v) < limit:
                        return
                    check(v, var, node, j)
            else:
                def run():
                    thunk()
                    check(cell[0], var, node, j)
        elif not thunk.lazy:
            def run():
                thunk()
                for j, var, cell in checks:
                    check(cell[0], var, node, j)
        else:
            def run():
                requests = thunk()
                if not requests:  # a lazy thunk returns [] once its outputs are written
                    for j, var, cell in checks:
                        check(cell[0], var, node, j)
                return requests
        for name in ("inputs", "outputs", "lazy", "node", "perform"):
            if hasattr(thunk, name):
                setattr(run, name, getattr(thunk, name))
        run.guarded = thunk
        return run

    # -- checking ---------------------------------------------------------------------------
    def _check(self, value: Any, var: Variable, node: Apply | None, index: int | None) -> None:
        # The fast path inlined (this runs once per checked value per call).
        cls = value.__class__
        if cls is not np.ndarray and not isinstance(value, np.ndarray | np.generic):
            return
        dtype = value.dtype
        if dtype.kind not in "fc" or value.size == 0:
            return
        if dtype.itemsize >= 4:  # float16 has no BLAS and its sums overflow: count exactly
            s = _vdot(value, value).real
            if s < self.limit or (self.nan_only and s == s):
                return
        self._check_exactly(value, var, node, index)

    def _check_exactly(self, value: Any, var: Variable, node: Apply | None,
                       index: int | None) -> None:
        nan, inf, big = self.nan, self.inf, self.big
        nans, infs, bigs = _counts(np.asarray(value))
        found = []
        if nan and nans:
            found.append(f"NaN ({nans})")
        if inf and infs:
            found.append(f"Inf ({infs})")
        if big and (bigs or (infs and not inf)):
            found.append(f"big value ({bigs + (0 if inf else infs)} with |x| > "
                         f"{BIG_THRESHOLD:g})")
        if found:
            self._report(" and ".join(found), value, var, node, index)

    def _report(self, what: str, value: Any, var: Variable, node: Apply | None,
                index: int | None) -> None:
        if self.reported:  # only the first bad value of a call: the others follow from it
            return
        self.reported = True
        message = self._message(what, value, var, node, index)
        action = self.mode.action
        if action == "warn":
            warnings.warn(message, NanGuardWarning, stacklevel=2)
        elif action == "pdb":
            print(message)
            pdb.set_trace()
        else:
            raise NanGuardError(message, node=node, variable=var)

    def _message(self, what: str, value: Any, var: Variable, node: Apply | None,
                 index: int | None) -> str:
        if node is None:
            kind = "constant" if isinstance(var, Constant) else "input"
            readers = [str(client) for client, _ in self.fgraph.clients.get(var, [])
                       if client != "output"]
            lines = [f"NanGuardMode: {what} detected in {kind} {var} of the function, "
                     f"before any node ran.",
                     f"  value: {summarize_value(value)}",
                     f"  read by: {', '.join(readers) or 'no node'}"]
            return "\n".join(lines)
        lines = [f"NanGuardMode: {what} detected in output {index} of node "
                 f"{self.position.get(node, '?')} (of {self.n_nodes}), the first node whose "
                 "result is bad in this call:",
                 f"  node: {node}",
                 f"  op: {node.op} ({type(node.op).__module__}.{type(node.op).__qualname__})",
                 f"  output {index} ({var.type}): {summarize_value(value)}",
                 "  inputs (all clean, or checked where they were computed):"]
        storage = self.storage_map
        for i, inp in enumerate(node.inputs):
            val = storage[inp][0] if inp in storage else None
            lines.append(f"    {i}: {inp} ({inp.type}): {summarize_value(val)}")
        return "\n".join(lines)


class NanGuardLinker(VMLinker):
    """A VMLinker whose VMs check values for NanGuardMode (see the module docstring)."""

    def __init__(self, mode: NanGuardMode, **kwargs: Any):
        super().__init__(**kwargs)
        self.mode = mode

    def vm_classes(self, cvm: bool) -> tuple[type, type, type]:
        return tuple(_guarded_class(cls) for cls in super().vm_classes(cvm))

    def make_vm(self, order, thunks, storage_map, compute_map):
        guard = _Guard(self.mode, self.fgraph, order, storage_map)
        thunks = [guard.guarded_thunk(th, node) for th, node in zip(thunks, order)]
        vm = super().make_vm(order, thunks, storage_map, compute_map)
        vm.nan_guard = guard
        return vm


_guarded_classes: dict[type, type] = {}


def _guarded_class(base: type) -> type:
    """``base`` (a VM class) with the guard's input checks at the start of each call."""
    cls = _guarded_classes.get(base)
    if cls is None:
        def __call__(self, output_subset=None):
            self.nan_guard.begin_call()
            return base.__call__(self, output_subset)

        cls = type(f"NanGuard{base.__name__}", (base,),
                   {"__call__": __call__, "__doc__": f"{base.__name__} checking values."})
        _guarded_classes[base] = cls
    return cls


def _guard_linker(mode: NanGuardMode, linker: Any) -> NanGuardLinker:
    """The NanGuardLinker running like ``linker`` (None: like FAST_RUN's 'cvm')."""
    if isinstance(linker, NanGuardLinker):
        return NanGuardLinker(mode, **_vm_settings(linker))
    if linker is None:
        return NanGuardLinker(mode, use_cloop=True)
    if isinstance(linker, str):
        if linker in ("py", "vm", "c|py", "c|py_nogc") or linker.startswith("vm"):
            settings = dict(allow_gc=False if linker.endswith("_nogc") else None,
                            c_thunks=False if linker == "py" else None)
            return NanGuardLinker(mode, **settings)
        linker = resolve_linker(linker)
    if isinstance(linker, VMLinker):
        return NanGuardLinker(mode, **_vm_settings(linker))
    raise TypeError(
        f"NanGuardMode: linker must be None, a VM linker name ('cvm', 'vm', 'py', ...) or a "
        f"VMLinker, got {linker!r}: the checks run inside the VM"
    )


def _vm_settings(linker: VMLinker) -> dict:
    return dict(allow_gc=linker.allow_gc, use_cloop=linker.use_cloop,
                callback=linker.callback, callback_input=linker.callback_input,
                lazy=linker.lazy, c_thunks=linker.c_thunks)


class NanGuardMode(Mode):
    """FAST_RUN's rewrites and VM, reporting the first NaN, Inf or huge value computed.

    ``nan_is_error``, ``inf_is_error``, ``big_is_error``: None reads the flag of the same
    name (``NanGuardMode.*``); ``NanGuardMode.action`` says whether a problem raises
    :class:`NanGuardError`, warns (:class:`NanGuardWarning`) or starts pdb. ``optimizer``
    as Mode's ('default': the ``optimizer`` flag); ``linker``: None (the Cython VM, as
    FAST_RUN), a VM linker name or a VMLinker.
    """

    def __init__(self, nan_is_error: bool | None = None, inf_is_error: bool | None = None,
                 big_is_error: bool | None = None, optimizer: Any = "default",
                 linker: Any = None):
        self._given = (nan_is_error, inf_is_error, big_is_error)
        super().__init__(linker=_guard_linker(self, linker), optimizer=optimizer)

    @property
    def nan_is_error(self) -> bool:
        """The argument, or (None) the flag ``NanGuardMode.nan_is_error`` read now."""
        return _flag(self._given[0], "NanGuardMode__nan_is_error")

    @property
    def inf_is_error(self) -> bool:
        """The argument, or (None) the flag ``NanGuardMode.inf_is_error`` read now."""
        return _flag(self._given[1], "NanGuardMode__inf_is_error")

    @property
    def big_is_error(self) -> bool:
        """The argument, or (None) the flag ``NanGuardMode.big_is_error`` read now."""
        return _flag(self._given[2], "NanGuardMode__big_is_error")

    @property
    def action(self) -> str:
        """``NanGuardMode.action``, read when a problem is found (it may change later)."""
        return config.NanGuardMode__action

    def clone(self, link_kwargs: dict | None = None, optimizer: Any = "",
              **kwargs: Any) -> NanGuardMode:
        linker = self.provided_linker
        if link_kwargs:
            linker = linker.clone(**link_kwargs)
        if isinstance(optimizer, str) and optimizer == "":
            optimizer = self.provided_optimizer
        return NanGuardMode(*self._given, optimizer=optimizer, linker=linker)

    def __reduce__(self):
        # A plain VMLinker with the same settings: the NanGuardLinker refers back to this
        # mode, a cycle that pickle cannot rebuild through constructor arguments.
        linker = VMLinker(**_vm_settings(self.provided_linker))
        return (NanGuardMode, (*self._given, self.provided_optimizer, linker))

    def __str__(self) -> str:
        return (f"NanGuardMode(nan_is_error={self.nan_is_error}, "
                f"inf_is_error={self.inf_is_error}, big_is_error={self.big_is_error}, "
                f"optimizer={self.provided_optimizer})")

    __repr__ = __str__


def _flag(value: bool | None, name: str) -> bool:
    return bool(getattr(config, name)) if value is None else bool(value)


class _ConfiguredNanGuardMode(NanGuardMode):
    """The mode named 'NanGuardMode': flags and the ``optimizer`` flag read at each use.

    Like the mode named 'Mode', it follows the configuration when a function is compiled,
    not when tdebug was imported.
    """

    @property
    def provided_optimizer(self) -> OptimizerQuery:
        return OptimizerQuery(config.optimizer if "optimizer" in config else None)

    @provided_optimizer.setter
    def provided_optimizer(self, value: Any) -> None:
        pass  # always the flag


if "NanGuardMode" not in predefined_modes:
    register_mode("NanGuardMode", _ConfiguredNanGuardMode())

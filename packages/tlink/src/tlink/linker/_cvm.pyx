# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The Cython VM: C thunks and the loops that run a program of thunks without Python calls.

Why it exists: a compiled function's call costs the Python VM one Python call per node plus
the loop's own bytecode. Here the program is precomputed into C arrays, a C thunk is called
through its function pointer, and only nodes without C code cost a Python call. The Python
VMs of ``tlink.linker.vm`` keep the same semantics and are the oracle the tests compare
with; ``VMLinker(use_cloop=True)`` builds the classes here into ``CLoop``, ``CLoopGC`` and
``CStack`` (defined in vm.py, mixing the cores below with the Python VMs so every attribute
and helper, such as ``_fail`` and ``_program``, is shared).

The C thunk protocol (what the C code generator produces, what :class:`CThunk` accepts)
---------------------------------------------------------------------------------------

``CThunk(fn_capsule, data_capsule, inputs, outputs, node)``:

* ``fn_capsule`` is a ``PyCapsule`` named ``"tlink.cthunk_fn"`` whose pointer is a C
  function ``int fn(void *data)``. It runs the node with the GIL held and returns 0 on
  success; on failure it returns nonzero with a Python exception set (a nonzero return
  without an exception becomes a RuntimeError naming the node).
* ``data_capsule`` is a ``PyCapsule`` named ``"tlink.cthunk_data"`` whose pointer is the
  ``data`` argument of ``fn``. Whatever ``data`` owns (typically new references to the
  node's storage cells) is released by the capsule's destructor; the thunk keeps both
  capsules alive as long as itself, so ``data`` outlives every call.
* ``inputs`` and ``outputs`` are the node's storage cells (one-element lists), ``node`` the
  Apply. ``fn`` reads its inputs from ``cell[0]`` and writes its outputs into ``cell[0]``,
  as a Python thunk does; it may reuse an array left in an output cell.

A CThunk has the attributes of a Python thunk (``inputs``, ``outputs``, ``node``, ``lazy``
= False, ``perform`` = ``'c'``) and calling it from Python runs ``fn(data)``, raising the
exception ``fn`` set. A VM below calls ``fn`` directly instead.
"""

from cpython.exc cimport PyErr_Occurred
from cpython.mem cimport PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid
from cpython.ref cimport PyObject

import time

cdef extern from "Python.h":
    # Borrowed-reference list access on raw pointers, so the hot loops touch no refcounts
    # beyond the values they replace.
    Py_ssize_t _list_size "PyList_GET_SIZE"(PyObject *lst)
    PyObject *_list_get "PyList_GET_ITEM"(PyObject *lst, Py_ssize_t i)
    void _list_set "PyList_SET_ITEM"(PyObject *lst, Py_ssize_t i, PyObject *item)
    void _incref "Py_INCREF"(PyObject *o)
    void _xdecref "Py_XDECREF"(PyObject *o)
    int _is_true "PyObject_IsTrue"(PyObject *o)

ctypedef int (*cthunk_fn_t)(void *data) noexcept

__all__ = ["CThunk", "LoopCore", "StackCore"]

cdef const char *_FN_NAME = "tlink.cthunk_fn"
cdef const char *_DATA_NAME = "tlink.cthunk_data"
_perf_counter = time.perf_counter


cdef int _thunk_failed(object node) except -1:
    """Turn a failed C thunk into a raised exception (its own, or one naming the node)."""
    if PyErr_Occurred() == NULL:
        raise RuntimeError(
            f"the C thunk of node {node} returned an error code without setting a Python "
            "exception (a bug in the Op's C code)")
    return -1


cdef inline int _clear_cell(PyObject *cell) except -1:
    """``cell[0] = None`` without the generic item-assignment path."""
    cdef PyObject *old
    if _list_size(cell) < 1:
        raise ValueError("a storage cell is an empty list; a cell must hold one element")
    old = _list_get(cell, 0)
    _incref(<PyObject *>None)
    _list_set(cell, 0, <PyObject *>None)
    _xdecref(old)
    return 0


cdef class CThunk:
    """A node's compiled code: calls ``int fn(void *data)`` from two capsules (see module doc).

    Extra attributes may be set on it as on a Python thunk (it has a ``__dict__``).
    """

    cdef cthunk_fn_t fn
    cdef void *data
    cdef readonly object fn_capsule
    cdef readonly object data_capsule
    cdef public object inputs
    cdef public object outputs
    cdef public object node
    cdef dict __dict__

    lazy = False
    perform = "c"

    def __init__(self, fn_capsule, data_capsule, inputs, outputs, node):
        if not PyCapsule_IsValid(fn_capsule, _FN_NAME):
            raise TypeError(
                "CThunk: fn_capsule must be a PyCapsule named 'tlink.cthunk_fn' holding "
                f"an int (*)(void *), got {_describe(fn_capsule)}")
        if not PyCapsule_IsValid(data_capsule, _DATA_NAME):
            raise TypeError(
                "CThunk: data_capsule must be a PyCapsule named 'tlink.cthunk_data', got "
                f"{_describe(data_capsule)}")
        self.fn = <cthunk_fn_t>PyCapsule_GetPointer(fn_capsule, _FN_NAME)
        self.data = PyCapsule_GetPointer(data_capsule, _DATA_NAME)
        self.fn_capsule = fn_capsule
        self.data_capsule = data_capsule
        self.inputs = inputs
        self.outputs = outputs
        self.node = node

    def __call__(self):
        if self.fn(self.data) != 0:
            _thunk_failed(self.node)

    def __repr__(self):
        return f"<CThunk of {self.node}>"

    def __reduce__(self):
        raise TypeError("a CThunk holds pointers into a loaded C module and cannot be "
                        "pickled; pickle the Function instead (it is compiled again)")


def _describe(obj) -> str:
    if type(obj).__name__ == "PyCapsule":
        return f"a PyCapsule with another name ({obj!r})"
    return f"a {type(obj).__name__}"


cdef class _VMBase:
    """What both cores share: the thunk table and the attributes a call reads every time.

    ``time_thunks``, ``callback`` and ``callback_input`` are C slots here (the Python VM's
    ``__init__`` assigns them through these descriptors), so checking them costs no dict
    lookup. The thunk table is built once by ``_cvm_build`` from ``self.thunks``.
    """

    cdef Py_ssize_t n_thunks
    cdef cthunk_fn_t *fns        # fns[k] != NULL: node k is a CThunk
    cdef void **datas
    cdef PyObject **pythunks     # borrowed from self._thunk_list
    cdef list _thunk_list
    cdef Py_ssize_t n_pre
    cdef PyObject **pre_cells    # borrowed from self._pre_list
    cdef list _pre_list
    cdef public bint time_thunks
    cdef public object callback
    cdef public object callback_input

    def __cinit__(self, *args, **kwargs):
        self.n_thunks = 0
        self.fns = NULL
        self.datas = NULL
        self.pythunks = NULL
        self.n_pre = 0
        self.pre_cells = NULL

    def __dealloc__(self):
        self._free_base()

    cdef void _free_base(self):
        PyMem_Free(self.fns)
        PyMem_Free(self.datas)
        PyMem_Free(self.pythunks)
        PyMem_Free(self.pre_cells)
        self.fns = NULL
        self.datas = NULL
        self.pythunks = NULL
        self.pre_cells = NULL
        self.n_thunks = 0
        self.n_pre = 0

    def _cvm_build_base(self, thunks, pre_call_clear):
        """Fill the C tables from the thunks and the cells emptied before each call."""
        cdef Py_ssize_t k, n
        cdef CThunk ct
        self._free_base()
        thunk_list = list(thunks)
        pre_list = _checked_cells(pre_call_clear, "pre_call_clear")
        n = len(thunk_list)
        self.fns = <cthunk_fn_t *>PyMem_Malloc((n + 1) * sizeof(cthunk_fn_t))
        self.datas = <void **>PyMem_Malloc((n + 1) * sizeof(void *))
        self.pythunks = <PyObject **>PyMem_Malloc((n + 1) * sizeof(PyObject *))
        self.pre_cells = <PyObject **>PyMem_Malloc((len(pre_list) + 1) * sizeof(PyObject *))
        if (self.fns == NULL or self.datas == NULL or self.pythunks == NULL
                or self.pre_cells == NULL):
            self._free_base()
            raise MemoryError("Cython VM: cannot allocate the thunk table")
        for k in range(n):
            th = thunk_list[k]
            if not callable(th):
                self._free_base()
                raise TypeError(f"Cython VM: thunk {k} ({th!r}) is not callable")
            self.pythunks[k] = <PyObject *>th
            if type(th) is CThunk:
                ct = <CThunk>th
                self.fns[k] = ct.fn
                self.datas[k] = ct.data
            else:
                self.fns[k] = NULL
                self.datas[k] = NULL
        for k in range(len(pre_list)):
            self.pre_cells[k] = <PyObject *>pre_list[k]
        self._thunk_list = thunk_list
        self._pre_list = pre_list
        self.n_thunks = n
        self.n_pre = len(pre_list)

    cdef inline int _clear_pre(self) except -1:
        cdef Py_ssize_t j
        for j in range(self.n_pre):
            _clear_cell(self.pre_cells[j])
        return 0

    cdef inline int _run_one(self, Py_ssize_t k) except -1:
        """Run thunk ``k``: its C function when it has one, else a Python call."""
        cdef cthunk_fn_t fn = self.fns[k]
        if fn != NULL:
            if fn(self.datas[k]) != 0:
                _thunk_failed((<CThunk>self.pythunks[k]).node)
        else:
            (<object>self.pythunks[k])()
        return 0

    cdef object _run_one_result(self, Py_ssize_t k):
        """Run thunk ``k`` and return what it returned (a lazy thunk's requests)."""
        cdef cthunk_fn_t fn = self.fns[k]
        if fn != NULL:
            if fn(self.datas[k]) != 0:
                _thunk_failed((<CThunk>self.pythunks[k]).node)
            return None
        return (<object>self.pythunks[k])()

    cdef int _check_position(self, Py_ssize_t k) except -1:
        if k < 0 or k >= self.n_thunks:
            raise IndexError(f"Cython VM: no node at position {k} (the program has "
                             f"{self.n_thunks})")
        return 0


cdef list _checked_cells(cells, str what):
    """The cells as a list, each checked to be a list (what the raw accessors need)."""
    out = list(cells)
    for cell in out:
        if not isinstance(cell, list) or len(cell) < 1:
            raise TypeError(f"Cython VM: {what} holds {cell!r}, expected a storage cell "
                            "(a one-element list)")
    return out


cdef class LoopCore(_VMBase):
    """The straight loops (``Loop``/``LoopGC`` semantics) over the thunk table.

    With gc, ``clear_start[k]:clear_start[k + 1]`` indexes ``clear_cells``, the cells to
    empty right after node ``k`` (the Python VM's ``post_thunk_clear``). A call without
    ``output_subset``, timing or a callback is one C loop; the others run
    ``_run_positions`` over the Python VM's cached program.
    """

    cdef bint gc
    cdef Py_ssize_t *clear_start
    cdef PyObject **clear_cells  # borrowed from self._clear_list
    cdef list _clear_list

    def __cinit__(self, *args, **kwargs):
        self.gc = False
        self.clear_start = NULL
        self.clear_cells = NULL

    def __dealloc__(self):
        self._free_loop()

    cdef void _free_loop(self):
        PyMem_Free(self.clear_start)
        PyMem_Free(self.clear_cells)
        self.clear_start = NULL
        self.clear_cells = NULL
        self.gc = False

    def _cvm_build(self, thunks, pre_call_clear, post_thunk_clear=None):
        """Precompute the tables; ``post_thunk_clear`` (one list per node) turns gc on."""
        cdef Py_ssize_t k, j, pos
        self._free_loop()
        self._cvm_build_base(thunks, pre_call_clear)
        if post_thunk_clear is None:
            self._clear_list = []
            return
        per_node = [_checked_cells(c, "post_thunk_clear") for c in post_thunk_clear]
        if len(per_node) != self.n_thunks:
            raise ValueError(f"Cython VM: {len(per_node)} clear lists for "
                             f"{self.n_thunks} thunks; one per node is needed")
        flat = [cell for cells in per_node for cell in cells]
        self.clear_start = <Py_ssize_t *>PyMem_Malloc((self.n_thunks + 1) * sizeof(Py_ssize_t))
        self.clear_cells = <PyObject **>PyMem_Malloc((len(flat) + 1) * sizeof(PyObject *))
        if self.clear_start == NULL or self.clear_cells == NULL:
            self._free_loop()
            raise MemoryError("Cython VM: cannot allocate the clear lists")
        pos = 0
        for k in range(self.n_thunks):
            self.clear_start[k] = pos
            for cell in per_node[k]:
                self.clear_cells[pos] = <PyObject *>cell
                pos += 1
        self.clear_start[self.n_thunks] = pos
        self._clear_list = flat
        self.gc = True

    def __call__(self, output_subset=None):
        cdef Py_ssize_t k = 0, j
        self._clear_pre()
        if output_subset is not None or self.time_thunks or self.callback is not None:
            prog = self._program(output_subset)
            if self.callback_input is not None:
                self._call_input_callback()
            if prog is None:
                positions = range(self.n_thunks)
                clears = self.post_thunk_clear if self.gc else None
            else:
                positions, clears = prog
            self._run_positions(positions, clears)
            return
        if self.callback_input is not None:
            self._call_input_callback()
        try:
            for k in range(self.n_thunks):
                self._run_one(k)
                if self.gc:
                    for j in range(self.clear_start[k], self.clear_start[k + 1]):
                        _clear_cell(self.clear_cells[j])
        except Exception:
            self._fail(k)

    def _run_positions(self, positions, clears):
        """Run the nodes at ``positions``; after the j-th, empty the cells ``clears[j]``.

        The path for ``output_subset``, profiling (``time_thunks``: ``call_times`` and
        ``call_counts`` are updated) and ``callback``; the same order of effects as the
        Python VM's.
        """
        cdef Py_ssize_t k = -1, j = 0
        cdef bint timed = self.time_thunks
        callback = self.callback
        call_times = self.call_times
        call_counts = self.call_counts
        try:
            for j, pk in enumerate(positions):
                k = pk
                self._check_position(k)
                if timed:
                    t0 = _perf_counter()
                    self._run_one(k)
                    call_times[k] += _perf_counter() - t0
                    call_counts[k] += 1
                else:
                    self._run_one(k)
                if callback is not None:
                    self._after(k)
                if clears is not None:
                    for cell in clears[j]:
                        cell[0] = None
        except Exception:
            self._fail(k)


cdef class StackCore(_VMBase):
    """Lazy evaluation (``Stack`` semantics) over integer tables.

    Variables are numbered; for each node the tables give its dependencies (inputs and
    the outputs of nodes it must follow), its outputs, and its inputs (what a lazy thunk's
    requests index). ``owner[v]`` is the node computing variable ``v`` (-1 for graph inputs
    and constants). Only the bookkeeping moved to C: a lazy thunk is still called from
    Python and its list of requests read as in the Python VM, and each node is timed and
    counted like the Python ``Stack`` does.
    """

    cdef Py_ssize_t n_vars
    cdef PyObject **cm_cells     # compute_map cells, by variable
    cdef PyObject **st_cells     # storage cells, by variable (NULL: not in storage_map)
    cdef Py_ssize_t *owner
    cdef char *is_root           # compute_map's value after the reset: owner is None
    cdef char *is_output
    cdef char *lazy
    cdef Py_ssize_t *dep_start   # dep_start[k]:dep_start[k+1] indexes deps
    cdef Py_ssize_t *deps
    cdef Py_ssize_t *out_start
    cdef Py_ssize_t *outs
    cdef Py_ssize_t *in_start
    cdef Py_ssize_t *ins
    cdef Py_ssize_t *rd_start    # readers: for each variable, the outputs of nodes reading it
    cdef Py_ssize_t *readers
    cdef Py_ssize_t *end_clear   # storage cells emptied after a call with gc
    cdef Py_ssize_t n_end_clear
    cdef Py_ssize_t *stack
    cdef Py_ssize_t stack_cap
    cdef bint gc
    cdef list _keep
    cdef dict _var_index
    cdef list _node_inputs       # per node, the list of its inputs' variable numbers
    cdef list _default_targets

    def __cinit__(self, *args, **kwargs):
        self.n_vars = 0
        self.cm_cells = NULL
        self.st_cells = NULL
        self.owner = NULL
        self.is_root = NULL
        self.is_output = NULL
        self.lazy = NULL
        self.dep_start = NULL
        self.deps = NULL
        self.out_start = NULL
        self.outs = NULL
        self.in_start = NULL
        self.ins = NULL
        self.rd_start = NULL
        self.readers = NULL
        self.end_clear = NULL
        self.n_end_clear = 0
        self.stack = NULL
        self.stack_cap = 0

    def __dealloc__(self):
        self._free_stack()

    cdef void _free_stack(self):
        PyMem_Free(self.cm_cells)
        PyMem_Free(self.st_cells)
        PyMem_Free(self.owner)
        PyMem_Free(self.is_root)
        PyMem_Free(self.is_output)
        PyMem_Free(self.lazy)
        PyMem_Free(self.dep_start)
        PyMem_Free(self.deps)
        PyMem_Free(self.out_start)
        PyMem_Free(self.outs)
        PyMem_Free(self.in_start)
        PyMem_Free(self.ins)
        PyMem_Free(self.rd_start)
        PyMem_Free(self.readers)
        PyMem_Free(self.end_clear)
        PyMem_Free(self.stack)
        self.cm_cells = NULL
        self.st_cells = NULL
        self.owner = NULL
        self.is_root = NULL
        self.is_output = NULL
        self.lazy = NULL
        self.dep_start = NULL
        self.deps = NULL
        self.out_start = NULL
        self.outs = NULL
        self.in_start = NULL
        self.ins = NULL
        self.rd_start = NULL
        self.readers = NULL
        self.end_clear = NULL
        self.stack = NULL
        self.stack_cap = 0
        self.n_end_clear = 0

    def _cvm_build(self, thunks, pre_call_clear):
        """Number the variables and precompute the tables from the Python Stack's fields."""
        self._free_stack()
        self._cvm_build_base(thunks, pre_call_clear)
        nodes = self.nodes
        compute_map = self.compute_map
        storage_map = self.storage_map
        node_idx = {id(node): k for k, node in enumerate(nodes)}
        variables = list(compute_map)
        index = {}
        for var in variables:
            index[var] = len(index)
        for node in nodes:
            for var in list(node.inputs) + list(node.outputs):
                if var not in index:
                    raise ValueError(f"Cython VM: {var} (of node {node}) has no compute_map "
                                     "cell")
        nv = len(variables)
        keep = []
        owners = []
        for var in variables:
            if var.owner is None:
                owners.append(-1)
            elif id(var.owner) in node_idx:
                owners.append(node_idx[id(var.owner)])
            else:
                raise ValueError(f"Cython VM: {var} is computed by {var.owner}, which is not "
                                 "a node of this program")
        dep_lists = []
        out_lists = []
        in_lists = []
        for node in nodes:
            dvars = list(node.inputs) + self.extra_deps[id(node)]
            dep_lists.append([index[v] for v in dvars])
            out_lists.append([index[v] for v in node.outputs])
            in_lists.append([index[v] for v in node.inputs])
        reader_lists = [[] for _ in range(nv)]
        for var, reads in self.dependencies.items():
            reader_lists[index[var]] = [index[d] for d in reads]
        outputs_set = self.outputs_set
        end = [index[var] for var in storage_map
               if var.owner is not None and var not in outputs_set and var in index]
        self._alloc_tables(nv, dep_lists, out_lists, in_lists, reader_lists, end)
        for v, var in enumerate(variables):
            cell = compute_map[var]
            if not isinstance(cell, list) or len(cell) < 1:
                raise TypeError(f"Cython VM: the compute_map cell of {var} is {cell!r}, "
                                "expected a one-element list")
            keep.append(cell)
            self.cm_cells[v] = <PyObject *>cell
            st = storage_map.get(var)
            if st is None:
                self.st_cells[v] = NULL
            else:
                if not isinstance(st, list) or len(st) < 1:
                    raise TypeError(f"Cython VM: the storage cell of {var} is {st!r}, "
                                    "expected a one-element list")
                keep.append(st)
                self.st_cells[v] = <PyObject *>st
            self.owner[v] = owners[v]
            self.is_root[v] = var.owner is None
            self.is_output[v] = var in outputs_set
        for k, th in enumerate(self._thunk_list):
            self.lazy[k] = bool(getattr(th, "lazy", False))
        self._keep = keep
        self._var_index = index
        self._node_inputs = in_lists
        self._default_targets = [index[v] for v in self.fgraph.outputs if v in index]
        self.gc = bool(self.allow_gc)

    cdef _alloc_tables(self, Py_ssize_t nv, list dep_lists, list out_lists, list in_lists,
                       list reader_lists, list end):
        cdef Py_ssize_t n = self.n_thunks, j
        self.n_vars = nv
        self.cm_cells = <PyObject **>PyMem_Malloc((nv + 1) * sizeof(PyObject *))
        self.st_cells = <PyObject **>PyMem_Malloc((nv + 1) * sizeof(PyObject *))
        self.owner = <Py_ssize_t *>PyMem_Malloc((nv + 1) * sizeof(Py_ssize_t))
        self.is_root = <char *>PyMem_Malloc(nv + 1)
        self.is_output = <char *>PyMem_Malloc(nv + 1)
        self.lazy = <char *>PyMem_Malloc(n + 1)
        self.dep_start = _flatten(dep_lists, &self.deps)
        self.out_start = _flatten(out_lists, &self.outs)
        self.in_start = _flatten(in_lists, &self.ins)
        self.rd_start = _flatten(reader_lists, &self.readers)
        self.end_clear = <Py_ssize_t *>PyMem_Malloc((len(end) + 1) * sizeof(Py_ssize_t))
        self.stack_cap = 4 * n + 16
        self.stack = <Py_ssize_t *>PyMem_Malloc(self.stack_cap * sizeof(Py_ssize_t))
        if (self.cm_cells == NULL or self.st_cells == NULL or self.owner == NULL
                or self.is_root == NULL or self.is_output == NULL or self.lazy == NULL
                or self.end_clear == NULL or self.stack == NULL):
            self._free_stack()
            raise MemoryError("Cython VM: cannot allocate the lazy VM's tables")
        for j in range(len(end)):
            self.end_clear[j] = end[j]
        self.n_end_clear = len(end)

    cdef int _push(self, Py_ssize_t *top, Py_ssize_t k) except -1:
        cdef Py_ssize_t *grown
        if top[0] >= self.stack_cap:
            grown = <Py_ssize_t *>PyMem_Realloc(self.stack,
                                                2 * self.stack_cap * sizeof(Py_ssize_t))
            if grown == NULL:
                raise MemoryError("Cython VM: the lazy VM's stack cannot grow")
            self.stack = grown
            self.stack_cap *= 2
        self.stack[top[0]] = k
        top[0] += 1
        return 0

    cdef inline int _done(self, Py_ssize_t v) except -1:
        cdef int t = _is_true(_list_get(self.cm_cells[v], 0))
        if t < 0:
            return -1
        return t

    cdef inline int _mark(self, Py_ssize_t v, object value) except -1:
        cdef PyObject *cell = self.cm_cells[v]
        cdef PyObject *old = _list_get(cell, 0)
        _incref(<PyObject *>value)
        _list_set(cell, 0, <PyObject *>value)
        _xdecref(old)
        return 0

    def __call__(self, output_subset=None):
        cdef Py_ssize_t top = 0, k, v, j, i
        cdef bint ins_done, outs_done
        self._clear_pre()
        for v in range(self.n_vars):
            self._mark(v, True if self.is_root[v] else False)
        if self.callback_input is not None:
            self._call_input_callback()
        if output_subset is None:
            targets = self._default_targets
        else:
            index = self._var_index
            targets = [index.get(var, -1) for var in self._targets(output_subset)]
        # Pushed last target first, so the first target's node is on top: the Python VM's
        # list ``[v.owner for v in reversed(targets)]`` popped from its end.
        for i in range(len(targets) - 1, -1, -1):
            v = targets[i]
            if v >= 0 and self.owner[v] >= 0:
                self._push(&top, self.owner[v])
        while top > 0:
            top -= 1
            k = self.stack[top]
            ins_done = True
            for j in range(self.dep_start[k], self.dep_start[k + 1]):
                if not self._done(self.deps[j]):
                    ins_done = False
                    break
            outs_done = True
            for j in range(self.out_start[k], self.out_start[k + 1]):
                if not self._done(self.outs[j]):
                    outs_done = False
                    break
            if outs_done:
                continue
            if not self.lazy[k]:
                if not ins_done:
                    self._push(&top, k)
                    for j in range(self.dep_start[k], self.dep_start[k + 1]):
                        v = self.deps[j]
                        if self.owner[v] >= 0 and not self._done(v):
                            self._push(&top, self.owner[v])
                    continue
                self._run(k)
                for j in range(self.out_start[k], self.out_start[k + 1]):
                    self._mark(self.outs[j], 1)
                self._free_inputs(k)
                continue
            requires = self._run(k)
            if requires:
                node_inputs = self._node_inputs[k]
                for r in requires:
                    self._push(&top, k)
                    v = node_inputs[r]
                    if self.owner[v] >= 0 and not self._done(v):
                        self._push(&top, self.owner[v])
            else:
                self._free_inputs(k)
        if self.gc:
            for j in range(self.n_end_clear):
                _clear_cell(self.st_cells[self.end_clear[j]])

    cdef object _run(self, Py_ssize_t k):
        result = None
        try:
            t0 = _perf_counter()
            result = self._run_one_result(k)
            self.call_times[k] += _perf_counter() - t0
            self.call_counts[k] += 1
        except Exception:
            self._fail(k)
        if self.callback is not None:
            self.callback(node=self.nodes[k], thunk=self.thunks[k],
                          storage_map=self.storage_map, compute_map=self.compute_map)
        return result

    cdef int _free_inputs(self, Py_ssize_t k) except -1:
        cdef Py_ssize_t j, v, r
        cdef bint all_done
        if not self.gc:
            return 0
        for j in range(self.in_start[k], self.in_start[k + 1]):
            v = self.ins[j]
            if self.rd_start[v] == self.rd_start[v + 1] or self.is_output[v]:
                continue
            all_done = True
            for r in range(self.rd_start[v], self.rd_start[v + 1]):
                if not self._done(self.readers[r]):
                    all_done = False
                    break
            if all_done:
                if self.st_cells[v] != NULL:
                    _clear_cell(self.st_cells[v])
                self._mark(v, 2)
        return 0


cdef Py_ssize_t *_flatten(list lists, Py_ssize_t **flat) except NULL:
    """Offsets (len(lists) + 1 of them) into a new flat array of the lists' items."""
    cdef Py_ssize_t n = len(lists), total = 0, k, pos = 0
    cdef Py_ssize_t *start
    for items in lists:
        total += len(items)
    start = <Py_ssize_t *>PyMem_Malloc((n + 1) * sizeof(Py_ssize_t))
    flat[0] = <Py_ssize_t *>PyMem_Malloc((total + 1) * sizeof(Py_ssize_t))
    if start == NULL or flat[0] == NULL:
        PyMem_Free(start)
        PyMem_Free(flat[0])
        flat[0] = NULL
        raise MemoryError("Cython VM: cannot allocate a table")
    for k in range(n):
        start[k] = pos
        for item in lists[k]:
            flat[0][pos] = item
            pos += 1
    start[n] = pos
    return start

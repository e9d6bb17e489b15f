"""MonitorMode: user hooks before and after every node, as in Theano's debugging FAQ.

``MonitorMode(pre_func, post_func)`` runs the graph through a WrapLinker that, for node
``i``, calls ``pre_func(i, node, fn)``, runs ``fn`` and calls ``post_func(i, node, fn)``.
``fn`` is the node's thunk: ``fn.inputs`` and ``fn.outputs`` are its storage cells
(one-element lists), so the FAQ's ``[input[0] for input in fn.inputs]`` lists the input
values and ``output[0]`` is an output value once the node ran. Theano 1.0 ran every node
through OpWiseCLinker here; we use the per-node thunks of a VM linker (C where an Op has C
code, ``perform`` otherwise), so hooks see the same values as FAST_RUN computes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tlink.linker.base import Linker
from tlink.linker.vm import VMLinker
from tlink.linker.wrap import WrapLinkerMany
from tlink.mode import Mode, resolve_linker

__all__ = ["MonitorMode"]


class MonitorMode(Mode):
    """Calls ``pre_func(i, node, fn)`` and ``post_func(i, node, fn)`` around every node.

    ``optimizer`` as Mode's ('default': the ``optimizer`` flag), so ``including`` and
    ``excluding`` work (the FAQ excludes 'local_elemwise_fusion' and 'inplace' to see every
    elementary op). ``linker``: None (per-node C-or-Python thunks, no gc, as Theano 1.0's
    OpWiseCLinker), a linker name or a Linker giving one thunk per node.
    """

    def __init__(self, pre_func: Callable | None = None, post_func: Callable | None = None,
                 optimizer: Any = "default", linker: Any = None):
        self.pre_func = pre_func
        self.post_func = post_func
        self.inner_linker = linker
        inner = VMLinker(allow_gc=False) if linker is None else linker
        if isinstance(inner, str):
            inner = resolve_linker(inner)
        if not isinstance(inner, Linker):
            raise TypeError(f"MonitorMode: linker must be None, a name or a Linker, "
                            f"got {linker!r}")
        wrapped = WrapLinkerMany([inner], [self.eval])
        super().__init__(linker=wrapped, optimizer=optimizer)

    def eval(self, i: int, node, fn: Callable) -> None:
        """Run node ``i`` through the hooks: pre_func, the thunk, post_func."""
        if self.pre_func is not None:
            self.pre_func(i, node, fn)
        fn()
        if self.post_func is not None:
            self.post_func(i, node, fn)

    def clone(self, link_kwargs: dict | None = None, optimizer: Any = "",
              **kwargs: Any) -> MonitorMode:
        """A new MonitorMode with the same hooks (and another optimizer if given)."""
        if isinstance(optimizer, str) and optimizer == "":
            optimizer = self.provided_optimizer
        linker = self.inner_linker
        if link_kwargs:
            base = VMLinker(allow_gc=False) if linker is None else linker
            linker = (resolve_linker(base) if isinstance(base, str) else base).clone(
                **link_kwargs)
        return MonitorMode(pre_func=self.pre_func, post_func=self.post_func,
                           optimizer=optimizer, linker=linker)

    def __reduce__(self):
        return (MonitorMode, (self.pre_func, self.post_func, self.provided_optimizer,
                              self.inner_linker))

    def __str__(self) -> str:
        return (f"MonitorMode(pre_func={self.pre_func}, post_func={self.post_func}, "
                f"optimizer={self.provided_optimizer})")

    __repr__ = __str__

"""Profiling of compiled functions: time per node, per Op and per Op class, and memory.

``function(..., profile=True)`` (or the ``profile`` flag) attaches a :class:`ProfileStats`
to the function. Each call adds its wall time, the VM's time and call count per Apply node
(the Cython VM times nodes itself when ``time_thunks`` is set, so profiling keeps the
default linker); making the function adds compile, optimizer and linker times. With the
``profile_memory`` flag, the size of every value a node computes is recorded too, and the
summary estimates the peak memory with and without gc. ``summary()`` prints Theano 1.0's
tables (Class, Ops, Apply, Memory Profile); with the flag, every profile is printed when
the process exits, followed by their sum when there are several. One ProfileStats given to
several functions (``profile=stats``) aggregates them.

The attribute names are Theano 1.0's (``apply_time``, ``apply_callcount``, ``fct_callcount``,
``compile_time``, ``optimizer_time``, ``linker_time``, ``variable_shape`` ...) so code
reading them keeps working.
"""

from tlink.profiling._atexit import _print_all_at_exit, print_all_at_exit
from tlink.profiling._memory import peak_memory
from tlink.profiling._stats import ProfileStats, make_profile, merge_profiles

__all__ = ["ProfileStats", "make_profile", "merge_profiles", "peak_memory",
           "print_all_at_exit"]

_print_all_at_exit = _print_all_at_exit  # Theano-era name, used by tests

"""theano.gof.vm: the virtual machines that run a compiled graph."""

from tlink.linker import VM, Loop, LoopGC, Stack, VM_Linker  # noqa: F401

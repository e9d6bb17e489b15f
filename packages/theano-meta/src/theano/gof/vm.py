"""theano.gof.vm: the virtual machines that run a compiled graph."""

from tlink.linker.vm import *  # noqa: F403
from tlink.linker.vm import VM, Loop, LoopGC, Stack, VM_Linker  # noqa: F401

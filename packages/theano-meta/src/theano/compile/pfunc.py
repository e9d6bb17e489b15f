"""theano.compile.pfunc: pfunc and rebuild_collect_shared."""

from tlink import pfunc, rebuild_collect_shared  # noqa: F401

"""theano.compile.profiling: ProfileStats."""

from tlink.profiling import ProfileStats  # noqa: F401

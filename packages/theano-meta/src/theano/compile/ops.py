"""theano.compile.ops: as_op, DeepCopyOp, ViewOp."""

from tlink import DeepCopyOp, ViewOp, as_op, deep_copy_op, view_op  # noqa: F401

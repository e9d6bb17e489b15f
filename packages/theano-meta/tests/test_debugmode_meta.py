"""DebugMode is where Theano 1.0 users find it: by name, in theano.compile, in its module."""

from __future__ import annotations

import numpy as np


def test_debugmode_names():
    import theano
    import theano.compile.debugmode as dm

    assert theano.compile.DebugMode is dm.DebugMode
    assert isinstance(theano.compile.mode.get_mode("DebugMode"), dm.DebugMode)
    for name in ("DebugModeError", "BadThunkOutput", "BadOptimization", "BadDestroyMap",
                 "BadViewMap", "InvalidValueError", "StochasticOrder"):
        assert hasattr(dm, name), name


def test_seed_debugmode_example():
    import theano
    import theano.tensor as T

    x = T.dvector("x")
    f = theano.function([x], 10 * x, mode="DebugMode")
    np.testing.assert_array_equal(f(np.array([1.0, 2.0])), [10.0, 20.0])

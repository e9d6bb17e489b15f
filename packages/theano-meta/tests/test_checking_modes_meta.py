"""NanGuardMode, MonitorMode and ProfileStats are where Theano 1.0 users find them."""

from __future__ import annotations

import numpy
import pytest

import theano
import theano.tensor as T


def test_import_paths():
    from theano.compile.monitormode import MonitorMode
    from theano.compile.nanguardmode import NanGuardMode
    from theano.compile.profiling import ProfileStats

    assert theano.compile.MonitorMode is MonitorMode
    assert theano.ProfileStats is ProfileStats
    assert isinstance(theano.compile.mode.get_mode("NanGuardMode"), NanGuardMode)


def test_nanguardmode_by_name_and_by_object():
    from theano.compile.nanguardmode import NanGuardMode

    x = T.dvector("x")
    f = theano.function([x], T.log(x), mode="NanGuardMode")
    numpy.testing.assert_allclose(f(numpy.ones(2)), [0.0, 0.0])
    with pytest.raises(AssertionError, match="NaN"):
        f(-numpy.ones(2))
    g = theano.function([x], T.log(x),
                        mode=NanGuardMode(nan_is_error=True, inf_is_error=False,
                                          big_is_error=False))
    assert numpy.isneginf(g(numpy.zeros(1))).all()


def test_profile_summary_through_theano(capsys):
    x = T.dvector("x")
    f = theano.function([x], T.exp(x), profile=True)
    f(numpy.ones(3))
    f.profile.summary()
    err = capsys.readouterr().err
    assert "Function profiling" in err and "Apply" in err

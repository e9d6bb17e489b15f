"""DebugMode catches broken Ops: each test runs one Op that breaks one contract and checks
that the documented exception fires with a message naming the node and what differed."""

from __future__ import annotations

import numpy as np
import pytest
from debugmode_brokenops import (
    CAgrees,
    CDisagrees,
    ContiguousOnly,
    DeclaredView,
    ReadsOutputStorage,
    ReturnsNaN,
    ReturnsView,
    WritesInput,
    WrongDtype,
)

import tgraph.tensor as T
from tdebug.debugmode import (
    BadDestroyMap,
    BadThunkOutput,
    BadViewMap,
    DebugMode,
    DebugModeError,
    InvalidValueError,
)
from tlink import function
from tlink.cc import compiler_available

needs_cc = pytest.mark.skipif(not compiler_available(), reason="no C compiler on this machine")


def compile_(op, **kwargs):
    x = T.dvector("x")
    kwargs.setdefault("stability_patience", 1)
    return function([x], op(x), mode=DebugMode(optimizer=None, **kwargs))


VALUE = np.arange(6.0)


@needs_cc
def test_c_code_disagreeing_with_perform_is_bad_thunk_output():
    f = compile_(CDisagrees())
    with pytest.raises(BadThunkOutput) as info:
        f(VALUE)
    err = info.value
    assert isinstance(err, DebugModeError)
    text = str(err)
    assert "CDisagrees" in text and "perform" in text and "c_code" in text
    assert "input 0: x (TensorType(float64, vector)): float64 array, shape (6,), strides (8,)" \
        in text
    assert "largest absolute difference 1" in text
    assert err.thunk1 == "perform" and err.thunk2 == "c_code"
    np.testing.assert_array_equal(err.val2 - err.val1, np.ones(6))
    assert isinstance(err.offending_op(), CDisagrees)


@needs_cc
def test_agreeing_c_code_passes_and_runs_both():
    f = compile_(CAgrees())
    np.testing.assert_array_equal(f(VALUE), 2 * VALUE)
    assert f.fn._runs[0].c is not None


@needs_cc
def test_check_c_code_false_runs_only_perform():
    f = compile_(CDisagrees(), check_c_code=False)
    np.testing.assert_array_equal(f(VALUE), 2 * VALUE)


@needs_cc
def test_check_py_code_false_trusts_c():
    f = compile_(CDisagrees(), check_py_code=False)
    np.testing.assert_array_equal(f(VALUE), 2 * VALUE + 1)


def test_writing_an_input_without_destroy_map_is_bad_destroy_map():
    f = compile_(WritesInput())
    given = VALUE.copy()
    with pytest.raises(BadDestroyMap, match=r"(?s)WritesInput changed its input 0 \(x\).*"
                                            r"destroy_map \{\} does not declare.*"
                                            r"largest absolute difference 5"):
        f(given)
    np.testing.assert_array_equal(given, VALUE)  # it ran on a copy


def test_returning_a_view_without_view_map_is_bad_view_map():
    f = compile_(ReturnsView())
    with pytest.raises(BadViewMap, match=r"output 0 of the py implementation of ReturnsView "
                                         r"shares memory with input 0 \(x\)") as info:
        f(VALUE)
    assert info.value.in_alias_idx == 0 and info.value.output_idx == 0


def test_declared_view_is_accepted():
    np.testing.assert_array_equal(compile_(DeclaredView())(VALUE), VALUE)


def test_wrong_output_dtype_is_invalid_value():
    with pytest.raises(InvalidValueError, match=r"(?s)WrongDtype.*expects a numpy.ndarray of "
                                                r"dtype float64.*float32 array"):
        compile_(WrongDtype())(VALUE)


def test_nan_output_is_invalid_value_unless_check_isfinite_is_off():
    with pytest.raises(InvalidValueError, match=r"1 of 6 elements are NaN or Inf, the first "
                                                r"at index \(3,\)"):
        compile_(ReturnsNaN())(VALUE)
    out = compile_(ReturnsNaN(), check_isfinite=False)(VALUE)
    assert np.isnan(out[3])


def test_op_failing_only_on_non_contiguous_inputs_is_found_with_strides_check():
    f = compile_(ContiguousOnly())
    np.testing.assert_array_equal(f(VALUE), 2 * VALUE)  # no layout rerun by default
    g = compile_(ContiguousOnly(), require_matching_strides=1)
    with pytest.raises(BadThunkOutput, match=r"with non-contiguous inputs") as info:
        g(VALUE)
    assert "ContiguousOnly" in str(info.value)


def test_op_reading_its_output_storage_is_found_with_preallocated_outputs():
    f = compile_(ReadsOutputStorage())
    np.testing.assert_array_equal(f(VALUE), VALUE)
    g = compile_(ReadsOutputStorage(), check_preallocated_output=["c_contiguous"])
    with pytest.raises(BadThunkOutput, match=r"output storage preallocated as c_contiguous"):
        g(VALUE)


@needs_cc
def test_library_ops_pass_every_check():
    """Elemwise, reductions, BLAS and shape ops of the library pass all checks, all layouts."""
    x, y = T.dmatrix("x"), T.dvector("y")
    out = [T.tanh(x).sum(axis=0) + y, T.dot(x, y), x.T * 2, x[1:, ::-1].reshape((-1,))]
    f = function([x, y], out, mode=DebugMode(check_preallocated_output="ALL",
                                             require_matching_strides=1,
                                             stability_patience=2))
    a, b = np.arange(12.0).reshape(3, 4) / 10, np.arange(4.0)
    res = f(a, b)
    np.testing.assert_allclose(res[0], np.tanh(a).sum(axis=0) + b)
    np.testing.assert_allclose(res[1], a @ b)
    np.testing.assert_allclose(res[2], a.T * 2)
    np.testing.assert_allclose(res[3], a[1:, ::-1].reshape(-1))


def test_declared_in_place_op_overwrites_its_mutable_input_as_in_other_modes():
    from tgraph import scalar as scal
    from tgraph.tensor.elemwise import Elemwise
    from tlink import In

    op = Elemwise(scal.add, {0: 0})
    x, y = T.dvector("x"), T.dvector("y")
    f = function([In(x, mutable=True, borrow=True), y], [op(x, y), x * 1 + 0, T.exp(y)],
                 mode=DebugMode(optimizer=None, stability_patience=1), accept_inplace=True)
    xv, yv = np.ones(3), np.full(3, 2.0)
    out = f(xv, yv)
    np.testing.assert_array_equal(xv, 3.0)  # written in place, as any mode does
    np.testing.assert_array_equal(out[0], 3.0)
    np.testing.assert_array_equal(out[1], 1.0)  # read before the in-place node ran


@needs_cc
def test_require_matching_strides_2_raises_when_c_and_python_strides_differ():
    x = T.dmatrix("x")
    f = function([x], x.T * 2, mode=DebugMode(optimizer=None, stability_patience=1,
                                              require_matching_strides=2))
    run = [r for r in f.fn._runs if r.c is not None and "mul" in str(r.node.op)]
    if not run:
        pytest.skip("Elemwise{mul} has no C code in this build")
    with pytest.raises(BadThunkOutput, match="the strides differ"):
        f(np.arange(12.0).reshape(3, 4))

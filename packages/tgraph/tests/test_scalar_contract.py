"""The Op contract of every scalar op instance, the output-type rules, Composite, exports."""

import pickle

import numpy as np
import pytest
import scipy.special

import tgraph.scalar as ts
from tgraph.graph import evaluate
from tgraph.graph.hashing import graph_hash, stable_repr
from tgraph.graph.utils import MethodNotDefined
from tgraph.scalar import basic, preferences

OPS = sorted(
    {(name, obj) for name, obj in vars(ts).items()
     if isinstance(obj, ts.ScalarOp) and not isinstance(obj, ts.Composite)},
    key=lambda p: p[0],
)

THEANO_OP_NAMES = """add sub mul true_div int_div floor_div mod pow neg abs_ sgn inv exp exp2 expm1
log log2 log10 log1p sqrt sqr sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh
arccosh arctanh deg2rad rad2deg erf erfc erfcx erfinv erfcinv gamma gammaln psi tri_gamma floor
ceil trunc round_half_to_even round_half_away_from_zero minimum maximum switch clip isnan isinf lt
gt le ge eq neq and_ or_ xor invert identity second first sigmoid softplus real imag conj angle
complex complex_from_polar convert_to_bool convert_to_int8 convert_to_int16 convert_to_int32
convert_to_int64 convert_to_uint8 convert_to_uint16 convert_to_uint32 convert_to_uint64
convert_to_float16 convert_to_float32 convert_to_float64 convert_to_complex64
convert_to_complex128 inopenrange inclosedrange gammainc gammaincc gammau gammal chi2sf j0 j1 jv
i0 i1 iv scalar_sigmoid scalar_softplus""".split()

OTHER_NAMES = """ScalarType Scalar get_scalar_type bool bool_ int8 int16 int32 int64 uint8 uint16
uint32 uint64 float16 float32 float64 complex64 complex128 int_types uint_types float_types
complex_types integer_types discrete_types continuous_types all_types scalar fscalar dscalar
iscalar lscalar bscalar wscalar cscalar zscalar ScalarVariable ScalarConstant constant as_scalar
upcast autocast_float autocast_int autocast_float_as convert NumpyAutocaster cast Cast ScalarOp
UnaryScalarOp BinaryScalarOp LogicalComparison FixedLogicalComparison UnaryBitOp BinaryBitOp
upcast_out upcast_out_nobool upcast_out_min8 upgrade_to_float upgrade_to_float64
upgrade_to_float_no_complex same_out same_out_nobool same_out_min8 same_out_nocomplex
same_out_float_only transfer_type float_out int_out bool_out upcast_out_no_complex specific_out
real_out div_proxy int_or_true_div mod_check Composite ComplexError IntegerDivisionError
register_as_scalar as_common_dtype""".split()


def test_public_names_exist():
    missing = [n for n in THEANO_OP_NAMES + OTHER_NAMES if not hasattr(ts, n)]
    assert not missing
    assert set(ts.__all__) >= set(THEANO_OP_NAMES + OTHER_NAMES)
    assert len(ts.__all__) == len(set(ts.__all__))
    for name in ts.__all__:
        assert hasattr(ts, name), name
    for name in basic.__all__:
        assert getattr(basic, name) is getattr(ts, name)
    assert ts.floor_div is ts.int_div and ts.scalar_sigmoid is ts.sigmoid
    assert ts.bool is ts.bool_ and ts.complex is basic.complex


def _instance(name, op):
    return pytest.param(op, id=name)


@pytest.mark.parametrize("op", [_instance(n, o) for n, o in OPS])
def test_op_contract(op):
    clone = pickle.loads(pickle.dumps(op))
    assert clone == op and hash(clone) == hash(op) and str(clone) == str(op)
    assert type(clone) is type(op)
    assert op != ts.identity or op is ts.identity
    assert isinstance(str(op), str) and str(op)
    assert stable_repr(op) == stable_repr(clone)
    assert "0x" not in stable_repr(op)
    remade = op.make_new_inplace(op.output_types_preference, op.name)
    assert remade == op
    if op.nfunc_spec is not None:
        name, nin, nout = op.nfunc_spec
        module = scipy.special if name.startswith("scipy.special.") else np
        assert callable(getattr(module, name.rsplit(".", 1)[-1]))
        assert nout == 1 and nin in (1, 2, 3)
    # C code is optional per op (tlink's tests check its values); an op either writes to
    # its output's name or says it has none.
    try:
        node = _float_node(op)
        code = op.c_code(node, "n", ["i0", "i1", "i2"][:len(node.inputs)], ["o0"], {})
    except MethodNotDefined:
        pass
    else:
        assert "o0" in code


def _float_node(op):
    n = op.nin if op.nin >= 0 else 2  # variadic ops (add, mul) on two inputs
    try:
        return op.make_node(*[ts.float64() for _ in range(n)])
    except TypeError:
        return op.make_node(*[ts.int64() for _ in range(n)])


@pytest.mark.parametrize(("name", "op"), OPS, ids=[n for n, _ in OPS])
def test_op_str_is_its_name(name, op):
    if isinstance(op, ts.Cast):
        assert str(op) == f"Cast{{{op.o_type.dtype}}}"
    elif isinstance(op, ts.InRange):
        assert str(op).startswith("InRange")
    else:
        assert str(op) == op.name
        assert getattr(ts, op.name) is op


def test_ops_differ():
    ops = [o for _, o in OPS]
    distinct = {id(o): o for o in ops}.values()
    for a in distinct:
        for b in distinct:
            assert (a == b) == (a is b), (a, b)
    assert ts.Cast(ts.float32) == ts.convert_to_float32
    assert hash(ts.Cast(ts.float32)) == hash(ts.convert_to_float32)
    assert ts.Exp(ts.upgrade_to_float, name="exp") == ts.exp
    assert ts.Exp(ts.upgrade_to_float, name="other") != ts.exp
    assert ts.Exp(ts.same_out, name="exp") != ts.exp
    assert ts.InRange(True, True) == ts.inopenrange != ts.inclosedrange


def test_make_node_and_call():
    x = ts.fscalar("x")
    node = ts.add.make_node(x, 2)
    assert node.op is ts.add and node.inputs[0] is x
    assert isinstance(node.inputs[1], ts.ScalarConstant) and node.inputs[1].dtype == "int8"
    assert node.outputs[0].dtype == "float32"
    y = ts.add(x, 2)
    assert y.owner.op is ts.add and isinstance(y, ts.ScalarVariable)
    assert ts.add(x, x, return_list=True)[0].dtype == "float32"
    with pytest.raises(TypeError, match="exp: expected 1 inputs, got 2"):
        ts.exp.make_node(x, x)
    with pytest.raises(TypeError, match="cannot convert"):
        ts.exp("no")
    with pytest.raises(TypeError, match=r"erfc: inputs of types \(complex64\) are refused"):
        ts.erfc(ts.cscalar())


def test_custom_subclass_with_only_impl():
    class Halve(ts.UnaryScalarOp):
        def impl(self, x):
            return x / 2

    op = Halve(ts.upgrade_to_float, name="halve")
    x = ts.dscalar()
    assert evaluate([op(x)], {x: 3.0})[0] == 1.5
    assert list(np.asarray(op.vectorized(np.array([2.0, 4.0])), dtype=float)) == [1.0, 2.0]
    with pytest.raises(MethodNotDefined, match="neither"):
        ts.UnaryScalarOp(ts.same_out, name="bare").vectorized(np.ones(2))
    with pytest.raises(TypeError, match="callable"):
        ts.UnaryScalarOp(3)
    with pytest.raises(MethodNotDefined, match="output_types_preference"):
        ts.UnaryScalarOp()(x)


def test_plain_function_as_func_is_not_bound():
    class Twice(ts.UnaryScalarOp):
        def _func(x):
            return 2 * x

    assert Twice(ts.same_out, name="twice").impl(np.float32(2)) == 4


# ---------------------------------------------------------------------------------------------
# Output-type rules

PREFS = [getattr(preferences, n) for n in dir(preferences)
         if isinstance(getattr(preferences, n), preferences.Preference)]


@pytest.mark.parametrize("pref", PREFS, ids=str)
def test_preferences_pickle_and_print_stably(pref):
    assert pickle.loads(pickle.dumps(pref)) is pref
    assert str(pref) == pref.__name__ and repr(pref) == pref.__name__
    assert stable_repr(pref) == f"tgraph.scalar.preferences.{pref.__name__}"


def test_parametrised_preferences():
    t = ts.transfer_type(1, None, "int16")
    assert t == ts.transfer_type(1, None, "int16") and hash(t) == hash(ts.transfer_type(1, None,
                                                                                         "int16"))
    assert t != ts.transfer_type(0)
    assert t(ts.float32, ts.int8) == (ts.int8, ts.float32, ts.int16)
    assert str(t) == "transfer_type{1, None, int16}"
    assert pickle.loads(pickle.dumps(t)) == t
    s = ts.specific_out(ts.float64, ts.int8)
    assert s(ts.bool_) == (ts.float64, ts.int8) and pickle.loads(pickle.dumps(s)) == s
    assert str(s) == "specific_out{float64, int8}" and s != ts.specific_out(ts.float64)
    with pytest.raises(TypeError, match="transfer_type"):
        ts.transfer_type(1.5)
    with pytest.raises(TypeError, match="specific_out"):
        ts.specific_out("float64")


@pytest.mark.parametrize(
    ("pref", "inputs", "expected"),
    [
        (ts.upgrade_to_float, ["int8"], "float32"),
        (ts.upgrade_to_float, ["uint16"], "float32"),
        (ts.upgrade_to_float, ["bool"], "float32"),
        (ts.upgrade_to_float, ["int32"], "float64"),
        (ts.upgrade_to_float, ["uint64"], "float64"),
        (ts.upgrade_to_float, ["float16"], "float16"),
        (ts.upgrade_to_float, ["complex64"], "complex64"),
        (ts.upgrade_to_float, ["int8", "float16"], "float32"),
        (ts.upgrade_to_float64, ["float16"], "float64"),
        (ts.upcast_out, ["int8", "uint8"], "int16"),
        (ts.upcast_out_min8, ["bool", "bool"], "int8"),
        (ts.same_out_min8, ["bool"], "int8"),
        (ts.same_out, ["uint32"], "uint32"),
        (ts.int_out, ["float32"], "int64"),
        (ts.float_out, ["int8"], "float64"),
        (ts.bool_out, ["int8", "float32"], "bool"),
        (ts.real_out, ["complex64"], "float32"),
        (ts.real_out, ["complex128"], "float64"),
        (ts.real_out, ["int8"], "int8"),
        (preferences.complex_out, ["float32", "int16"], "complex64"),
        (preferences.complex_out, ["float32", "int32"], "complex128"),
    ],
)
def test_preference_table(pref, inputs, expected):
    assert pref(*(ts.get_scalar_type(d) for d in inputs)) == (ts.get_scalar_type(expected),)


@pytest.mark.parametrize(
    ("pref", "inputs", "match"),
    [
        (ts.upcast_out_nobool, ["bool", "bool"], "bool output"),
        (ts.same_out_nobool, ["bool"], "bool input"),
        (ts.same_out_nocomplex, ["complex64"], "complex"),
        (ts.same_out_float_only, ["int8"], "only float"),
        (ts.upcast_out_no_complex, ["float32", "complex128"], "complex"),
        (ts.upgrade_to_float_no_complex, ["complex64"], "complex"),
        (preferences.int_out_nocomplex, ["complex64"], "complex"),
        (preferences.float_out_nocomplex, ["complex64"], "complex"),
    ],
)
def test_preference_refusals(pref, inputs, match):
    with pytest.raises(TypeError, match=match):
        pref(*(ts.get_scalar_type(d) for d in inputs))


# ---------------------------------------------------------------------------------------------
# Composite


def _graph():
    x, y = ts.fscalar("x"), ts.bscalar("y")
    t = ts.exp(x) * y
    return [x, y], [t + ts.sqr(t), ts.lt(x, 2.0)]


def test_composite_evaluates_its_graph():
    ins, outs = _graph()
    comp = ts.Composite(ins, outs)
    assert comp.nin == 2 and comp.nout == 2
    assert [t.dtype for t in comp.outputs_type] == ["float32", "bool"]
    assert str(comp).startswith("Composite{") and "exp(i0)" in str(comp)
    xv, yv = np.float32(0.5), np.int8(3)
    expected = evaluate(outs, {ins[0]: xv, ins[1]: yv})
    got = comp.impl(xv, yv)
    assert isinstance(got, tuple) and len(got) == 2
    assert got[0] == expected[0] and type(got[0]) is np.float32 and got[1] == expected[1]
    a = np.array([0.5, 1.0, 3.0], dtype="float32")
    b = np.array([[1], [2]], dtype="int8")
    v0, v1 = comp.vectorized(a, b)
    assert v0.shape == (2, 3) and v0.dtype == np.float32 and v1.dtype == np.bool_
    t = np.exp(a) * b
    np.testing.assert_allclose(v0, t + t * t, rtol=1e-6)
    x2, y2 = ts.fscalar(), ts.bscalar()
    o1, o2 = comp(x2, y2)
    res = evaluate([o1, o2], {x2: xv, y2: yv})
    assert res[0] == expected[0] and res[1] == expected[1]


def test_composite_keeps_intermediate_dtypes():
    a, b = ts.bscalar(), ts.bscalar()
    comp = ts.Composite([a, b], [ts.cast(ts.add(a, b), "int16") * 2])
    assert comp.impl(np.int8(100), np.int8(100)) == -112  # int8 wraps before the cast
    np.testing.assert_array_equal(
        comp.vectorized(np.array([100], "int8"), np.array([100], "int8")), [-112])
    d = ts.Composite([a, b], [ts.int_div(a, b) + ts.mod(a, b)])
    assert d.impl(np.int8(7), np.int8(0)) == 0
    assert list(d.vectorized(np.array([7, -7], "int8"), np.array([0, 2], "int8"))) == [0, -3]


def test_composite_equality_hash_pickle():
    c1 = ts.Composite(*_graph())
    c2 = ts.Composite(*_graph())
    assert c1 == c2 and hash(c1) == hash(c2) and c1 is not c2
    x = ts.fscalar()
    c3 = ts.Composite([x], [ts.exp(x) + 1])
    c4 = ts.Composite([x], [ts.exp(x) + 2])
    assert c3 != c4 and c3 != c1
    clone = pickle.loads(pickle.dumps(c1))
    assert clone == c1 and hash(clone) == hash(c1) and str(clone) == str(c1)
    assert clone.impl(np.float32(0.5), np.int8(3)) == c1.impl(np.float32(0.5), np.int8(3))
    assert c1.make_new_inplace(ts.transfer_type(0), None) == c1
    assert "0x" not in c1.graph_key and stable_repr(c1) == stable_repr(clone)
    y = ts.fscalar()
    assert graph_hash([y], [c1(y, 1)[0]]) == graph_hash([y], [c2(y, 1)[0]])


def test_composite_copies_and_flattens():
    ins, outs = _graph()
    comp = ts.Composite(ins, outs)
    assert all(i not in comp.inputs for i in ins)  # the op owns a copy
    x = ts.fscalar()
    inner = ts.Composite([x], [ts.exp(x) * 2])
    z = ts.fscalar()
    outer = ts.Composite([z], [ts.log(inner(z))])
    kinds = [type(n.op).__name__ for n in outer._nodes]
    assert "Composite" not in kinds and kinds[0] == "Exp"
    assert outer.impl(np.float32(1.5)) == pytest.approx(1.5 + np.log(2), rel=1e-6)
    assert outer == ts.Composite([z], [ts.log(ts.exp(z) * 2)])


def test_composite_rebuilds_for_other_input_types():
    x = ts.fscalar()
    comp = ts.Composite([x], [ts.exp(x) * 2])
    d = ts.dscalar()
    out = comp(d)
    assert out.dtype == "float64" and out.owner.op != comp
    assert out.owner.op.inputs_type == (ts.float64,)
    with pytest.raises(TypeError, match="expected inputs of types"):
        comp.output_types([ts.float64])
    with pytest.raises(TypeError, match="expected 1 inputs"):
        comp.make_node(d, d)


def test_composite_errors_and_fgraph():
    x, y = ts.fscalar(), ts.fscalar()
    with pytest.raises(ValueError, match="identity"):
        ts.Composite([x], [x])
    with pytest.raises(ValueError, match="neither an input nor a constant"):
        ts.Composite([x], [x + y])
    with pytest.raises(TypeError, match="scalar variables"):
        ts.Composite([x], [3])
    comp = ts.Composite([x], [ts.identity(x), ts.constant(2.0) + 1])
    assert comp.impl(np.float32(4)) == (np.float32(4), np.float32(3))
    fg = comp.fgraph
    assert len(fg.inputs) == 1 and len(fg.outputs) == 2 and comp.fgraph is fg
    assert "_fgraph" not in pickle.loads(pickle.dumps(comp)).__dict__


def test_scipy_ops_resolve_same_float_inputs_to_that_loop():
    """c_support computes float32/float64 loop dtypes of SciPy-backed ops without importing
    SciPy, assuming each such ufunc runs inputs all of one float dtype in that dtype."""
    import inspect

    from tgraph.scalar.op import scipy_special

    checked = 0
    for _name, op in OPS:
        lazy = inspect.getattr_static(op, "_func", None)
        if not isinstance(lazy, scipy_special):
            continue
        ufunc = op._func
        for d in ("float32", "float64"):
            resolved = ufunc.resolve_dtypes((np.dtype(d),) * ufunc.nin + (None,) * ufunc.nout)
            assert all(str(r) == d for r in resolved), (op, d, resolved)
        checked += 1
    assert checked >= 15

"""ShapeFeature: the symbolic shapes it infers agree with the shapes NumPy computes.

Every tensor variable of the graph is evaluated together with its inferred shape entries
(``tgraph.graph.evaluate``) and the two are compared.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tgraph.graph import Apply, FunctionGraph, Op, evaluate
from tgraph.graph.features import AlreadyThere
from tgraph.tensor import math as tm
from tgraph.tensor.basic import constant
from tgraph.tensor.dot import dot
from tgraph.tensor.join import concatenate, stack
from tgraph.tensor.shape import Shape_i, reshape, specify_shape
from tgraph.tensor.type import TensorType
from topt.features.shape import ShapeError, ShapeFeature, ShapeInferenceWarning

dmatrix = TensorType("float64", (False, False))
dvector = TensorType("float64", (False,))
drow = TensorType("float64", (True, False))


def _attach(inputs, outputs, clone=False):
    fg = FunctionGraph(inputs, outputs, clone=clone)
    sf = ShapeFeature()
    fg.attach_feature(sf)
    return fg, sf


def _check_all_shapes(fg, sf, values):
    """Each tensor variable's value has the shape its inferred entries evaluate to."""
    tensors = [v for v in fg.variables if hasattr(v.type, "broadcastable")]
    entries = [e for v in tensors for e in sf.shape_of[v]]
    got = evaluate(tensors + entries, values)
    vals, flat = got[: len(tensors)], got[len(tensors):]
    k = 0
    for var, val in zip(tensors, vals):
        n = var.type.ndim
        inferred = tuple(int(s) for s in flat[k: k + n])
        k += n
        assert inferred == np.shape(val), f"{var}: inferred {inferred}, got {np.shape(val)}"


def _chain():
    x, y, v, r = dmatrix("x"), dmatrix("y"), dvector("v"), drow("r")
    a = tm.exp(x) + y
    b = dot(a, x.T)
    c = reshape(b, (-1,))
    d = c[1:-1:2]
    e = concatenate([d, v])
    f = a * r
    g = stack([f[0], f[-1]])
    return [x, y, v, r], [e, g, tm.sum(f, axis=0)]


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 5), st.integers(1, 5), st.integers(0, 4))
def test_chain_of_elemwise_dot_reshape_subtensor_join(n, m, k):
    inputs, outputs = _chain()
    fg, sf = _attach(inputs, outputs)
    rng = np.random.default_rng(0)
    x, y, v, r = inputs
    values = {x: rng.normal(size=(n, m)), y: rng.normal(size=(n, m)),
              v: rng.normal(size=k), r: rng.normal(size=(1, m))}
    _check_all_shapes(fg, sf, values)


def test_entries_are_int64_scalars_and_broadcastable_dims_share_one():
    inputs, outputs = _chain()
    fg, sf = _attach(inputs, outputs)
    for var, shape in sf.shape_of.items():
        if shape is None:
            continue
        for d, entry in enumerate(shape):
            assert entry.type == TensorType("int64", ())
            if var.type.broadcastable[d]:
                assert entry is sf.lscalar_one


def test_inputs_get_shape_i_and_constants_get_constants():
    x = dmatrix("x")
    c = constant(np.zeros((2, 7)))
    fg, sf = _attach([x], [x + c])
    sx = sf.shape_of[x]
    assert [e.owner.op for e in sx] == [Shape_i(0), Shape_i(1)]
    assert all(e.owner.inputs[0] is x for e in sx)
    assert [int(e.data) for e in sf.shape_of[c]] == [2, 7]
    # the elemwise output takes the first non-broadcastable input's entries
    assert sf.shape_of[fg.outputs[0]] == sx


def test_specify_shape_gives_constant_entries():
    x = dmatrix("x")
    y = specify_shape(x, (3, 4))
    fg, sf = _attach([x], [tm.exp(y)])
    assert [int(e.data) for e in sf.shape_of[fg.outputs[0]]] == [3, 4]
    assert sf.make_vector_shape(fg.outputs[0]).eval().tolist() == [3, 4]


class _NoInfer(Op):
    """Doubles the rows of a matrix; no infer_shape."""

    __props__ = ()

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage, params=None):
        output_storage[0][0] = np.concatenate([inputs[0], inputs[0]])


class _Raises(_NoInfer):
    __props__ = ("exc",)

    def __init__(self, exc):
        self.exc = exc

    def infer_shape(self, node, input_shapes):
        raise self.exc("cannot tell")


class _Returns(_NoInfer):
    __props__ = ("value",)

    def __init__(self, value):
        self.value = value

    def infer_shape(self, node, input_shapes):
        return self.value(input_shapes)


def test_op_without_infer_shape_falls_back_to_shape_i():
    x = dmatrix("x")
    out = _NoInfer()(x)
    fg, sf = _attach([x], [tm.exp(out)])
    shape = sf.shape_of[out]
    assert all(e.owner.op == Shape_i(d) and e.owner.inputs[0] is out for d, e in enumerate(shape))
    _check_all_shapes(fg, sf, {x: np.ones((2, 3))})


@pytest.mark.parametrize("exc", [ShapeError, NotImplementedError])
def test_infer_shape_saying_it_cannot_tell_falls_back(exc):
    x = dmatrix("x")
    out = _Raises(exc)(x)
    fg, sf = _attach([x], [out])
    assert sf.shape_of[out][0].owner.op == Shape_i(0)
    _check_all_shapes(fg, sf, {x: np.ones((2, 3))})


def test_infer_shape_failing_unexpectedly_warns_and_falls_back():
    x = dmatrix("x")
    out = _Raises(KeyError)(x)
    with pytest.warns(ShapeInferenceWarning, match=r"infer_shape failed \(KeyError"):
        fg, sf = _attach([x], [out])
    assert sf.shape_of[out][1].owner.op == Shape_i(1)


def test_on_shape_error_raise_flag_is_honoured():
    from tgraph import config

    if not hasattr(config, "on_shape_error"):
        pytest.skip("config.on_shape_error is not declared in this build")
    x = dmatrix("x")
    with config.change_flags(on_shape_error="raise"), \
            pytest.raises(ValueError, match="infer_shape failed"):
        _attach([x], [_Raises(KeyError)(x)])


@pytest.mark.parametrize(
    ("result", "match"),
    [
        (lambda shapes: [shapes[0], shapes[0]], "one shape per output"),
        (lambda shapes: [3], "expected a tuple of shape entries"),
        (lambda shapes: [(2,)], "gave 1 shape entries"),
        (lambda shapes: [(2, -1)], "negative size -1"),
        (lambda shapes: [(2, 1.5)], "neither an integer"),
        (lambda shapes: [(2, constant(2.0))], "expected an integer scalar"),
        (lambda shapes: [(2, True)], "is a bool"),
    ],
    ids=["count", "not-a-tuple", "ndim", "negative", "float", "float-var", "bool"],
)
def test_bad_infer_shape_results_are_reported(result, match):
    x = dmatrix("x")
    with pytest.raises((ValueError, TypeError), match=match):
        _attach([x], [_Returns(result)(x)])


def test_entries_of_other_integer_types_are_cast_and_none_falls_back():
    x = dmatrix("x")
    n32 = TensorType("int32", ())("n32")

    def shapes(in_shapes):
        return [(n32, None)]

    out = _Returns(shapes)(x)
    fg, sf = _attach([x, n32], [out])
    first, second = sf.shape_of[out]
    assert first.type.dtype == "int64" and first.owner.inputs[0] is n32
    assert second.owner.op == Shape_i(1) and second.owner.inputs[0] is out
    out2 = _Returns(lambda s: [(np.int32(4), 2.0)])(x)
    _, sf2 = _attach([x], [out2])
    assert [int(e.data) for e in sf2.shape_of[out2]] == [4, 2]


def test_shape_of_subtensor_of_shape_is_read_through():
    x = dmatrix("x")
    y = dmatrix("y")
    out = _Returns(lambda s: [(x.shape[1], y.shape[-1])])(x + y)
    fg, sf = _attach([x, y], [out])
    assert sf.shape_of[out] == (sf.shape_of[x][1], sf.shape_of[y][1])


def test_attach_twice_and_detach():
    x = dmatrix("x")
    fg, sf = _attach([x], [tm.exp(x)])
    with pytest.raises(AlreadyThere, match="already has a shape feature"):
        fg.attach_feature(ShapeFeature())
    other = FunctionGraph([x], [x * 2], clone=False)
    with pytest.raises(RuntimeError, match="one feature per graph"):
        sf.on_attach(other)
    fg.remove_feature(sf)
    assert not hasattr(fg, "shape_feature") and sf.shape_of == {}
    fg.attach_feature(ShapeFeature())
    assert fg.shape_feature is not sf
    fg2 = fg.clone()
    assert isinstance(fg2.shape_feature, ShapeFeature) and fg2.shape_feature is not fg.shape_feature


def test_set_shape_refuses_a_second_shape_without_override():
    x = dmatrix("x")
    fg, sf = _attach([x], [tm.exp(x)])
    with pytest.raises(ValueError, match="already has a shape"):
        sf.set_shape(x, (2, 3))
    sf.set_shape(x, (2, 3), override=True)
    assert [int(e.data) for e in sf.shape_of[x]] == [2, 3]
    with pytest.raises(TypeError, match="shapes are tuples"):
        sf.set_shape(x, 5, override=True)
    sf.set_shape(x, None, override=True)
    assert sf.shape_of[x] is None

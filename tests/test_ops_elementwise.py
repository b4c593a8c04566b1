"""tinygrad_dl/ops/elementwise.py: forward equals NumPy, gradients pass gradcheck (with
broadcasting), float32 stays float32, stability at +-1000, and shape errors name both shapes."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.testing import (
    broadcastable_shape_pairs,
    broadcastable_shapes,
    check_gradient,
    float_arrays,
    float_dtypes,
    shapes,
    weighted_sum,
)


def sigmoid_reference(x):
    return 1 / (1 + np.exp(-x))


# name -> (tinygrad function, NumPy reference, float_arrays options keeping x differentiable)
UNARY = {
    "neg": (lambda x: -x, np.negative, {}),
    "exp": (tg.exp, np.exp, {}),
    "log": (tg.log, np.log, {"positive": True}),
    "log1p": (tg.log1p, np.log1p, {"min_value": -0.5}),
    "sqrt": (tg.sqrt, np.sqrt, {"positive": True}),
    "square": (tg.square, np.square, {}),
    "abs": (tg.abs, np.abs, {"away_from": 0.0}),
    "sin": (tg.sin, np.sin, {}),
    "cos": (tg.cos, np.cos, {}),
    "tanh": (tg.tanh, np.tanh, {}),
    "sigmoid": (tg.sigmoid, sigmoid_reference, {}),
    "relu": (tg.relu, lambda x: np.maximum(x, 0), {"away_from": 0.0}),
    "leaky_relu": (tg.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), {"away_from": 0.0}),
    "leaky_relu_alpha_0.2": (
        lambda x: tg.leaky_relu(x, alpha=0.2),
        lambda x: np.where(x > 0, x, 0.2 * x),
        {"away_from": 0.0},
    ),
    "softplus": (tg.softplus, lambda x: np.log1p(np.exp(x)), {}),
    "clip": (
        lambda x: tg.clip(x, -1.0, 1.0),
        lambda x: np.clip(x, -1.0, 1.0),
        {"away_from": [-1.0, 1.0]},
    ),
    "clip_low_only": (lambda x: tg.clip(x, 0.5), lambda x: np.maximum(x, 0.5), {"away_from": 0.5}),
    "pow_3": (lambda x: x**3, lambda x: x**3, {}),
    "pow_half": (lambda x: x**0.5, np.sqrt, {"positive": True}),
    "pow_minus_1": (lambda x: x**-1, lambda x: 1 / x, {"positive": True}),
    "rpow_2": (lambda x: 2**x, lambda x: 2.0**x, {}),
    # Every Python-number fast path (x + c, c + x, x - c, c - x, x * c, c * x, x / c) in one
    # expression: a wrong rule in any of them changes the gradient.
    "scalar_arithmetic": (
        lambda x: ((x + 2) * 3 - 1) / 4 + (2 - x) * -0.5 + (2.5 + x),
        lambda x: ((x + 2) * 3 - 1) / 4 + (2 - x) * -0.5 + (2.5 + x),
        {},
    ),
    "rdiv_scalar": (lambda x: 1 / x, lambda x: 1 / x, {"away_from": 0.0}),
}
METHODS = [
    "exp",
    "log",
    "log1p",
    "sqrt",
    "square",
    "abs",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "softplus",
]


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_forward_equals_numpy_in_float64_and_float32(name, data):
    function, reference, options = UNARY[name]
    dtype = data.draw(float_dtypes(), label="dtype")
    x = data.draw(float_arrays(shapes(), dtype=dtype, **options), label="x")
    out = function(tg.Tensor(x))
    assert isinstance(out, tg.Tensor) and out.shape == x.shape and out.dtype == dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    expected = reference(x.astype(np.float64))
    np.testing.assert_allclose(out.data, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_gradient_matches_central_differences(name, data):
    function, _, options = UNARY[name]
    x = data.draw(float_arrays(shapes(max_dims=2), **options), label="x")
    assert check_gradient(function, x)


@pytest.mark.parametrize("name", METHODS)
def test_unary_method_equals_function(name):
    x = tg.Tensor(np.linspace(0.1, 2.0, 6).reshape(2, 3))
    np.testing.assert_array_equal(getattr(x, name)().data, getattr(tg, name)(x).data)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(data=st.data())
def test_unary_float32_gradient_stays_float32_and_matches_float64(name, data):
    function, _, options = UNARY[name]
    x = data.draw(float_arrays(shapes(), dtype=np.float32, **options), label="x")
    leaf = tg.Tensor(x, requires_grad=True)
    weighted_sum(function(leaf)).backward()
    assert leaf.grad.dtype == np.float32 and leaf.grad.shape == x.shape
    leaf64 = tg.Tensor(x.astype(np.float64), requires_grad=True)
    weighted_sum(function(leaf64)).backward()
    np.testing.assert_allclose(leaf.grad.data, leaf64.grad.data, rtol=1e-4, atol=1e-4)


# -- hand-derived derivatives, in the course's form g'(z) ------------------------------------
@given(float_arrays(shapes()))
def test_sigmoid_derivative_is_a_times_one_minus_a(z):
    leaf = tg.Tensor(z, requires_grad=True)
    a = tg.sigmoid(leaf)
    a.sum().backward()
    np.testing.assert_allclose(leaf.grad.data, a.data * (1 - a.data), rtol=1e-12)


@given(float_arrays(shapes()))
def test_tanh_derivative_is_one_minus_a_squared(z):
    leaf = tg.Tensor(z, requires_grad=True)
    a = tg.tanh(leaf)
    a.sum().backward()
    np.testing.assert_allclose(leaf.grad.data, 1 - a.data**2, rtol=1e-12, atol=1e-15)


def test_relu_and_abs_gradients_at_zero_are_zero():
    # The course takes g'(0) = 0 for ReLU; |x| has subgradient 0 at 0 (as in PyTorch).
    for function in (tg.relu, tg.abs):
        leaf = tg.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
        function(leaf).sum().backward()
        assert leaf.grad.data[1] == 0


def test_clip_gradient_passes_on_the_closed_interval():
    leaf = tg.Tensor(np.array([-2.0, -1.0, 0.0, 1.0, 2.0]), requires_grad=True)
    tg.clip(leaf, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(leaf.grad.data, [0, 1, 1, 1, 0])


def test_clip_with_low_above_high_is_an_error():
    with pytest.raises(ValueError, match="clip"):
        tg.clip(tg.Tensor([1.0]), 2.0, 1.0)


# -- binary ops, broadcasting ----------------------------------------------------------------
def _distinct_pair(data, shape_a, shape_b, dtype=np.float64):
    """Two arrays whose elements are pairwise distinct, so maximum/minimum have no ties."""
    size_a, size_b = int(np.prod(shape_a)), int(np.prod(shape_b))
    flat = data.draw(float_arrays((size_a + size_b,), dtype=dtype, distinct=True), label="values")
    return flat[:size_a].reshape(shape_a), flat[size_a:].reshape(shape_b)


# name -> (tinygrad function, NumPy reference, options for a, options for b)
BINARY = {
    "add": (lambda a, b: a + b, np.add, {}, {}),
    "sub": (lambda a, b: a - b, np.subtract, {}, {}),
    "mul": (lambda a, b: a * b, np.multiply, {}, {}),
    "div": (lambda a, b: a / b, np.divide, {}, {"away_from": 0.0, "margin": 0.5}),
    "pow": (lambda a, b: a**b, np.power, {"positive": True}, {}),
    "maximum": (tg.maximum, np.maximum, None, None),
    "minimum": (tg.minimum, np.minimum, None, None),
}


def _draw_binary(data, name, shape_a, shape_b, dtype=np.float64):
    _, _, options_a, options_b = BINARY[name]
    if options_a is None:  # maximum/minimum: no ties anywhere
        return _distinct_pair(data, shape_a, shape_b, dtype)
    a = data.draw(float_arrays(shape_a, dtype=dtype, **options_a), label="a")
    b = data.draw(float_arrays(shape_b, dtype=dtype, **options_b), label="b")
    return a, b


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=broadcastable_shape_pairs(), dtype=float_dtypes(), data=st.data())
def test_binary_forward_equals_numpy_and_keeps_dtype_and_gradient_shapes(name, shapes, dtype, data):
    function, reference, _, _ = BINARY[name]
    a, b = _draw_binary(data, name, *shapes, dtype=dtype)
    ta, tb = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    out = function(ta, tb)
    assert out.shape == np.broadcast_shapes(a.shape, b.shape) and out.dtype == dtype
    np.testing.assert_allclose(
        out.data, reference(a, b), rtol=1e-12 if dtype == np.float64 else 1e-6
    )
    weighted_sum(out).backward()
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape
    assert ta.grad.dtype == dtype and tb.grad.dtype == dtype


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=broadcastable_shape_pairs(max_dims=2), data=st.data())
def test_binary_gradient_matches_central_differences_with_broadcasting(name, shapes, data):
    function = BINARY[name][0]
    a, b = _draw_binary(data, name, *shapes)
    assert check_gradient(function, a, b)


@pytest.mark.parametrize(
    "function, operator",
    [
        (tg.add, lambda a, b: a + b),
        (tg.sub, lambda a, b: a - b),
        (tg.mul, lambda a, b: a * b),
        (tg.div, lambda a, b: a / b),
        (tg.power, lambda a, b: a**b),
    ],
)
def test_named_binary_functions_equal_their_operators_in_value_and_gradient(function, operator):
    a = np.array([[0.5, 1.5, 2.0]])
    b = np.array([[1.0], [-2.0]])
    results = []
    for f in (function, operator):
        ta, tb = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
        out = f(ta, tb)
        weighted_sum(out).backward()
        results.append((out.data, ta.grad.data, tb.grad.data))
    for mine, theirs in zip(*results):
        np.testing.assert_array_equal(mine, theirs)


@given(shapes=broadcastable_shape_pairs(), data=st.data())
def test_float32_input_mixed_with_float64_gets_a_float32_gradient(shapes, data):
    a = data.draw(float_arrays(shapes[0], dtype=np.float32), label="a")
    b = data.draw(float_arrays(shapes[1]), label="b")
    ta, tb = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    weighted_sum(ta * tb).backward()
    assert ta.grad.dtype == np.float32 and tb.grad.dtype == np.float64


def test_pow_gradient_wrt_exponent_is_a_to_the_b_log_a():
    a = tg.Tensor(np.array([0.5, 2.0, 3.0]))
    b = tg.Tensor(np.array([1.5, -1.0, 2.0]), requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad.data, a.data**b.data * np.log(a.data), rtol=1e-12)


@pytest.mark.parametrize("exponent", [0, 0.0, tg.Tensor(0.0)], ids=["int", "float", "tensor"])
def test_zero_exponent_has_zero_gradient_even_at_zero_without_warnings(exponent):
    # d/dx x^0 = 0 everywhere (PyTorch too); 0 * x^-1 would be 0 * inf = NaN at x = 0.
    x = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x**exponent).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0])


def test_maximum_and_minimum_ties_share_the_gradient_equally():
    for function in (tg.maximum, tg.minimum):
        a = tg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
        b = tg.Tensor(np.array([1.0, 0.0, 5.0]), requires_grad=True)
        function(a, b).sum().backward()
        np.testing.assert_allclose(a.grad.data + b.grad.data, [1.0, 1.0, 1.0])
        assert a.grad.data[0] == b.grad.data[0] == 0.5


@given(shapes=broadcastable_shapes(3), data=st.data())
def test_where_forward_and_gradient_with_broadcasting(shapes, data):
    shape_condition, shape_a, shape_b = shapes
    condition = data.draw(float_arrays(shape_condition, min_value=-1, max_value=1), label="c") > 0
    a = data.draw(float_arrays(shape_a), label="a")
    b = data.draw(float_arrays(shape_b), label="b")
    out = tg.where(condition, tg.Tensor(a), tg.Tensor(b))
    np.testing.assert_array_equal(out.data, np.where(condition, a, b))
    assert check_gradient(lambda ta, tb: tg.where(condition, ta, tb), a, b)


def test_where_sends_the_gradient_only_to_the_chosen_branch():
    a = tg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    b = tg.Tensor(np.array([4.0, 5.0, 6.0]), requires_grad=True)
    tg.where(tg.Tensor(np.array([True, False, True])), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [1, 0, 1])
    np.testing.assert_array_equal(b.grad.data, [0, 1, 0])


def test_ndarray_on_the_left_dispatches_to_the_tensor():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    out = np.array([3.0, 4.0]) - x
    assert isinstance(out, tg.Tensor) and out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [-1.0, -1.0])


@pytest.mark.parametrize(
    "comparison",
    [
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
    ],
)
def test_comparisons_return_boolean_tensors_outside_the_graph(comparison):
    a = tg.Tensor(np.array([[1.0, 2.0, 3.0]]), requires_grad=True)
    b = np.array([[2.0], [1.0]])
    out = comparison(a, b)
    assert isinstance(out, tg.Tensor)
    assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    np.testing.assert_array_equal(out.data, comparison(a.data, b))


# -- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "op, function",
    [
        ("add", lambda a, b: a + b),
        ("sub", lambda a, b: a - b),
        ("mul", lambda a, b: a * b),
        ("div", lambda a, b: a / b),
        ("pow", lambda a, b: a**b),
        ("maximum", tg.maximum),
        ("minimum", tg.minimum),
    ],
)
def test_broadcast_mismatch_names_the_op_and_both_shapes(op, function):
    a, b = tg.Tensor(np.ones((2, 3))), tg.Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=re.escape(f"{op}: shapes (2, 3) and (4,)")):
        function(a, b)


def test_where_mismatch_names_all_shapes():
    with pytest.raises(ValueError, match=re.escape("(2,)")) as error:
        tg.where(np.array([True, False]), tg.Tensor(np.ones(3)), tg.Tensor(np.ones(3)))
    assert "where" in str(error.value) and "(3,)" in str(error.value)


# -- stability -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["sigmoid", "softplus"])
def test_stable_activations_at_plus_minus_1000_warn_nothing_and_stay_finite(name):
    z = tg.Tensor(np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0]), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        out = getattr(tg, name)(z)
        out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(z.grad.data))
    if name == "sigmoid":
        np.testing.assert_allclose(out.data[[0, 2, 4]], [0.0, 0.5, 1.0])
        np.testing.assert_allclose(z.grad.data[[0, 4]], [0.0, 0.0])
    else:
        np.testing.assert_allclose(out.data[[0, 4]], [0.0, 1000.0])
        np.testing.assert_allclose(z.grad.data[[0, 2, 4]], [0.0, 0.5, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_are_stable_in_both_dtypes(dtype):
    z = tg.Tensor(np.array([-1000.0, 1000.0], dtype=dtype))
    with np.errstate(all="raise", under="ignore"):
        assert np.all(np.isfinite(tg.sigmoid(z).data)) and tg.sigmoid(z).dtype == dtype
        assert np.all(np.isfinite(tg.softplus(z).data)) and tg.softplus(z).dtype == dtype


@pytest.mark.parametrize(
    "function",
    [
        lambda z: tg.maximum(z, 0.0),
        lambda z: tg.maximum(0, z),
        lambda z: tg.minimum(1, z),
        lambda z: tg.where(z > 0, z, 0.0),
        lambda z: tg.where(z > 0, 1, z),
        lambda z: tg.clip(z, -0.5, 0.5),
        lambda z: z * 2 + 1 - 3 / (z * z + 1),
    ],
    ids=["maximum(z, 0.)", "maximum(0, z)", "minimum(1, z)", "where_0", "where_1", "clip", "ops"],
)
def test_python_numbers_do_not_upcast_float32_as_in_numpy(function):
    # NumPy (NEP 50): a Python number takes the array's dtype, so np.maximum(0, Z) of float32 Z
    # is float32; the Tensor must follow, or relu silently turns a float32 network float64.
    z = np.array([-1.0, 0.25, 2.0], dtype=np.float32)
    leaf = tg.Tensor(z, requires_grad=True)
    assert np.maximum(0, z).dtype == np.where(z > 0, z, 0.0).dtype == np.float32  # NumPy's rule
    out = function(leaf)
    assert out.dtype == np.float32, f"got {out.dtype}"
    out.sum().backward()
    assert leaf.grad.dtype == np.float32

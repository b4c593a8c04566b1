"""tinygrad_dl/ops/elementwise.py: forward equals NumPy, gradients pass gradcheck (with
broadcasting), float32 stays float32, stability at +-1000, and shape errors name both shapes."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from peers import (
    anp,
    assert_same,
    needs_autograd,
    needs_torch,
    run_autograd,
    run_ours,
    run_torch,
    torch,
)

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


# -- NumPy's other unary ufuncs: values and gradients against PyTorch and HIPS autograd --------
# name (the same in NumPy, autograd.numpy and torch unless given) -> (float_arrays options
# keeping x inside the domain, edge values, torch's name)
MORE_UNARY = {
    "log2": ({"positive": True}, [0.0, 1e-8, 1.0, 1e8], None),
    "log10": ({"positive": True}, [0.0, 1e-8, 1.0, 1e8], None),
    "exp2": ({}, [-50.0, 0.0, 50.0], None),
    "expm1": ({}, [-50.0, -1e-10, 0.0, 1e-10, 50.0], None),
    "tan": ({"min_value": -1.4, "max_value": 1.4}, [0.0, 1.5, -1.5], None),
    "sinh": ({}, [-20.0, 0.0, 20.0], None),
    "cosh": ({}, [-20.0, 0.0, 20.0], None),
    "arcsin": ({"min_value": -0.95, "max_value": 0.95}, [-1.0, 0.0, 1.0], None),
    "arccos": ({"min_value": -0.95, "max_value": 0.95}, [-1.0, 0.0, 1.0], None),
    "arctan": ({}, [-1e8, 0.0, 1e8], None),
    "arcsinh": ({}, [-1e8, 0.0, 1e8], None),
    "arccosh": ({"min_value": 1.05, "max_value": 4.0}, [1.0, 1.5, 1e8], None),
    "arctanh": ({"min_value": -0.95, "max_value": 0.95}, [-1.0, 0.0, 1.0], None),
    "sinc": ({}, [0.0, 1.0, -1.0, 0.5, 2.0], None),
}
# Piecewise constant: gradient 0, and the result stays in the graph (PyTorch's behaviour).
PIECEWISE_CONSTANT = {
    "sign": "sign",
    "floor": "floor",
    "ceil": "ceil",
    "trunc": "trunc",
    "rint": "round",  # torch.round rounds halves to even, as np.rint
    "round": "round",
    "fix": "trunc",
}
EDGE_PIECEWISE = np.array([-2.5, -1.5, -0.5, -0.0, 0.0, 0.3, 0.5, 1.5, 2.5])


def _numpy_unary(name):
    return lambda x: getattr(np, name)(x)  # a Tensor dispatches through __array_ufunc__


@needs_torch
@pytest.mark.parametrize("name", sorted(MORE_UNARY))
@given(data=st.data())
def test_more_unary_values_and_gradients_match_torch(name, data):
    options, _, torch_name = MORE_UNARY[name]
    x = data.draw(float_arrays(shapes(), **options), label="x")
    torch_function = getattr(torch, torch_name or name)
    # torch's sinc' cancels digits near 0 ((u cos u - sin u) / u^2); ours uses the series there
    rtol = 1e-5 if name == "sinc" else 1e-10
    assert_same(run_ours(_numpy_unary(name), x), run_torch(torch_function, x), rtol=rtol, x=x)


@needs_torch
@pytest.mark.parametrize("name", sorted(MORE_UNARY))
def test_more_unary_at_edge_values_match_torch_including_inf(name):
    _, edges, torch_name = MORE_UNARY[name]
    x = np.array(edges)
    with np.errstate(all="ignore"):
        mine = run_ours(_numpy_unary(name), x)
    assert_same(mine, run_torch(getattr(torch, torch_name or name), x), rtol=1e-9, x=x)


@needs_autograd
@pytest.mark.parametrize("name", sorted(set(MORE_UNARY) - {"sinc"}))  # autograd has no sinc
@given(data=st.data())
def test_more_unary_values_and_gradients_match_autograd(name, data):
    options = MORE_UNARY[name][0]
    x = data.draw(float_arrays(shapes(), **options), label="x")
    theirs = run_autograd(lambda v: getattr(anp, name)(v), x)
    assert_same(run_ours(_numpy_unary(name), x), theirs, x=x)


@pytest.mark.parametrize("name", sorted(MORE_UNARY))
@given(data=st.data())
def test_more_unary_first_and_second_derivatives_match_central_differences(name, data):
    options = MORE_UNARY[name][0]
    x = data.draw(float_arrays(shapes(max_dims=2), **options), label="x")
    assert check_gradient(_numpy_unary(name), x)
    leaf = tg.Tensor(x, requires_grad=True)
    assert tg.gradgradcheck(_numpy_unary(name), [leaf])


def test_sinc_derivative_at_and_near_zero_is_accurate_without_warnings():
    x = tg.Tensor(np.array([0.0, 0.5, 1e-9, -1e-4]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.sinc(x).sum().backward()
    # sinc'(1/2) = -4/pi; near 0, sinc'(x) = -pi^2 x / 3 + pi^4 x^3 / 30 - ...
    near = -(np.pi**2) * x.data[2:] / 3 + np.pi**4 * x.data[2:] ** 3 / 30
    np.testing.assert_allclose(x.grad.data, [0.0, -4 / np.pi, *near], rtol=1e-13)


def test_sinc_second_derivative_at_zero_is_minus_pi_squared_over_3():
    x = tg.Tensor(np.array(0.0), requires_grad=True)
    (first,) = tg.grad(np.sinc(x), [x], create_graph=True)
    (second,) = tg.grad(first, [x])
    np.testing.assert_allclose(second.data, -(np.pi**2) / 3, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(PIECEWISE_CONSTANT))
def test_piecewise_constant_ops_keep_the_graph_with_zero_gradient(name):
    # A loss built on np.round(x) used to come back with no graph; PyTorch keeps it, gives 0.
    x = tg.Tensor(EDGE_PIECEWISE, requires_grad=True)
    out = getattr(np, name)(x)
    np.testing.assert_array_equal(out.data, getattr(np, name)(EDGE_PIECEWISE))
    assert out.requires_grad and out.grad_fn is not None
    (out * x).sum().backward()  # d/dx (f(x) x) = f(x) when f' = 0
    np.testing.assert_array_equal(x.grad.data, out.data)


@needs_torch
@pytest.mark.parametrize("name", sorted(PIECEWISE_CONSTANT))
def test_piecewise_constant_ops_match_torch(name):
    assert_same(
        run_ours(_numpy_unary(name), EDGE_PIECEWISE),
        run_torch(getattr(torch, PIECEWISE_CONSTANT[name]), EDGE_PIECEWISE),
    )


def test_round_to_decimals_keeps_the_graph():
    x = tg.Tensor(np.array([1.234, -5.678]), requires_grad=True)
    out = np.round(x, 1)
    np.testing.assert_allclose(out.data, [1.2, -5.7])
    (out + x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


# -- NumPy's other binary ufuncs --------------------------------------------------------------
def _torch_floor_divide(a, b):
    return torch.div(a, b, rounding_mode="floor")  # torch.floor_divide has no gradient


# name -> (torch function or its name, float_arrays options for a, for b)
AWAY_FROM_0 = {"away_from": 0.0, "margin": 0.25}
MORE_BINARY = {
    "remainder": ("remainder", {}, AWAY_FROM_0),
    "fmod": ("fmod", {}, AWAY_FROM_0),
    "floor_divide": (_torch_floor_divide, {}, AWAY_FROM_0),
    "copysign": ("copysign", {}, {}),
    "fmax": ("fmax", {}, {}),
    "fmin": ("fmin", {}, {}),
    # the origin is tested on its own: PyTorch gives NaN there, we give the subgradient 0
    "hypot": ("hypot", AWAY_FROM_0, {}),
    "arctan2": ("arctan2", {}, {}),
    "logaddexp": ("logaddexp", {}, {}),
    "logaddexp2": ("logaddexp2", {}, {}),
}


def _numpy_binary(name):
    return lambda a, b: getattr(np, name)(a, b)


def _torch_binary(name):
    function = MORE_BINARY[name][0]
    return getattr(torch, function) if isinstance(function, str) else function


def _draw_pair(data, name, shapes):
    _, options_a, options_b = MORE_BINARY[name]
    a = data.draw(float_arrays(shapes[0], **options_a), label="a")
    b = data.draw(float_arrays(shapes[1], **options_b), label="b")
    return a, b


@needs_torch
@pytest.mark.parametrize("name", sorted(MORE_BINARY))
@given(shapes=broadcastable_shape_pairs(), data=st.data())
def test_more_binary_values_and_gradients_match_torch_with_broadcasting(name, shapes, data):
    # Drawn values include ties (fmax/fmin) and integer quotients (remainder): PyTorch's rule
    # is followed there too.
    a, b = _draw_pair(data, name, shapes)
    mine = run_ours(_numpy_binary(name), a, b)
    assert_same(mine, run_torch(_torch_binary(name), a, b), a=a, b=b)


@needs_autograd
@pytest.mark.parametrize("name", sorted(set(MORE_BINARY) - {"copysign", "floor_divide", "fmod"}))
@given(shapes=broadcastable_shape_pairs(), data=st.data())
def test_more_binary_values_and_gradients_match_autograd(name, shapes, data):
    # autograd has no copysign or fmod rule, and floor_divide is outside its graph;
    # distinct values: autograd splits fmax/fmin ties in half where PyTorch gives them to a.
    size_a, size_b = int(np.prod(shapes[0])), int(np.prod(shapes[1]))
    flat = data.draw(float_arrays((size_a + size_b,), distinct=True, away_from=0.0), label="ab")
    a, b = flat[:size_a].reshape(shapes[0]), flat[size_a:].reshape(shapes[1])
    theirs = run_autograd(lambda x, y: getattr(anp, name)(x, y), a, b)
    assert_same(run_ours(_numpy_binary(name), a, b), theirs, a=a, b=b)


def _smooth_pair(data, name):
    """A point where the op is smooth: a / b away from an integer for remainder/fmod, b away
    from 0, a away from 0 for copysign, and no ties for fmax/fmin."""
    shape = data.draw(shapes(max_dims=2), label="shape")
    b = data.draw(float_arrays(shape, away_from=0.0, margin=0.5), label="b")
    quotient = data.draw(float_arrays(shape, min_value=-3, max_value=3), label="quotient")
    quotient = np.floor(quotient) + 0.25 + 0.5 * (quotient - np.floor(quotient))  # frac in ...
    return quotient * b, b  # ... [0.25, 0.75]: never next to an integer, never a tie


@pytest.mark.parametrize("name", sorted(MORE_BINARY))
@given(data=st.data())
def test_more_binary_first_and_second_derivatives_match_central_differences(name, data):
    a, b = _smooth_pair(data, name)
    assert check_gradient(_numpy_binary(name), a, b)
    leaves = [tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)]
    assert tg.gradgradcheck(_numpy_binary(name), leaves)


EDGE_PAIRS = {
    "remainder": ([5.0, -5.0, 5.5, 6.0, -0.0], [3.0, 3.0, -2.0, 3.0, 2.0]),
    "fmod": ([5.0, -5.0, 5.5, 6.0, -0.0], [3.0, 3.0, -2.0, 3.0, 2.0]),
    "floor_divide": ([5.0, -5.0, 5.5, 6.0, -0.0], [3.0, 3.0, -2.0, 3.0, 2.0]),
    "copysign": ([5.0, -5.0, 0.0, 2.0, -0.0], [3.0, -3.0, -2.0, 0.0, -0.0]),
    "fmax": ([1.0, 2.0, np.nan, 1.0, np.nan], [1.0, 3.0, 1.0, np.nan, np.nan]),
    "fmin": ([1.0, 2.0, np.nan, 1.0, np.nan], [1.0, 3.0, 1.0, np.nan, np.nan]),
    "arctan2": ([0.0, 3.0, -1.0, 0.0, 1e-300], [0.0, 4.0, 0.0, -1.0, 1e-300]),
    "logaddexp": ([0.0, -1000.0, 1000.0, -np.inf, 5.0], [0.0, 1000.0, 999.0, 0.0, -np.inf]),
    "logaddexp2": ([0.0, -1000.0, 1000.0, -np.inf, 5.0], [0.0, 1000.0, 999.0, 0.0, -np.inf]),
    "hypot": ([3.0, -1e-300, 1e300, 0.0, 2.0], [4.0, 0.0, 1e300, -2.0, 0.0]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(EDGE_PAIRS))
def test_more_binary_at_edge_values_match_torch(name):
    a, b = (np.array(v) for v in EDGE_PAIRS[name])
    with np.errstate(all="ignore"):
        mine = run_ours(_numpy_binary(name), a, b)
    assert_same(mine, run_torch(_torch_binary(name), a, b), a=a, b=b)


def test_hypot_and_arctan2_at_the_origin_give_zero_gradient_not_nan():
    # PyTorch gives NaN for hypot at (0, 0); 0 is the subgradient |x| and norms take there.
    for function in (np.hypot, np.arctan2):
        a = tg.Tensor(np.array([0.0]), requires_grad=True)
        b = tg.Tensor(np.array([0.0]), requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            function(a, b).sum().backward()
        assert a.grad.data[0] == 0 and b.grad.data[0] == 0


def test_logaddexp_of_equal_infinities_shares_the_gradient_equally_not_nan():
    # PyTorch gives NaN at logaddexp(-inf, -inf); by symmetry each side's share is 1/2.
    for function in (np.logaddexp, np.logaddexp2):
        a = tg.Tensor(np.array([-np.inf, np.inf]), requires_grad=True)
        b = tg.Tensor(np.array([-np.inf, np.inf]), requires_grad=True)
        out = function(a, b)
        np.testing.assert_array_equal(out.data, [-np.inf, np.inf])
        out.backward(np.ones(2))
        np.testing.assert_array_equal(a.grad.data, [0.5, 0.5])
        np.testing.assert_array_equal(b.grad.data, [0.5, 0.5])


def test_new_binary_ops_keep_float32_with_python_numbers():
    z = tg.Tensor(np.array([0.5, -1.5], dtype=np.float32), requires_grad=True)
    for name in sorted(MORE_BINARY):
        out = getattr(np, name)(z, 2.0)
        assert out.dtype == np.float32, name
        out.sum().backward()
        assert z.grad.dtype == np.float32, name
        z.grad = None


@pytest.mark.parametrize("name", sorted(MORE_BINARY))
def test_more_binary_broadcast_mismatch_names_the_op_and_both_shapes(name):
    a, b = tg.Tensor(np.ones((2, 3))), tg.Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (2, 3) and (4,)")):
        getattr(np, name)(a, b)


# -- pow at its singular points: exactly PyTorch's gradients ----------------------------------
POW_SINGULAR = [
    (0.0, -1.0),  # 0 ** negative: value inf, da = -inf, db = -inf
    (0.0, -0.5),
    (0.0, -2.0),
    (0.0, 0.0),  # 0 ** 0 = 1: both 0
    (0.0, 0.5),  # da = inf
    (0.0, 1.0),
    (0.0, 2.0),
    (-2.0, 0.5),  # negative base, fractional exponent: NaN value and gradients
    (-2.0, 2.0),  # da = -4, db = NaN (log of a negative base)
    (-2.0, 3.0),
    (-2.0, -1.0),
    (np.inf, 0.0),  # inf ** 0 = 1: da = 0, db = inf
    (-np.inf, 0.0),  # da = 0, db = NaN
    (np.inf, 2.0),
    (-np.inf, -1.0),
]


@needs_torch
@pytest.mark.parametrize("base, exponent", POW_SINGULAR)
def test_pow_at_singular_points_matches_torch(base, exponent):
    a, b = np.array([base]), np.array([exponent])
    with np.errstate(all="ignore"):
        tensors = run_ours(lambda x, y: x**y, a, b)
        scalar_exponent = run_ours(lambda x: x**exponent, a)
        scalar_base = run_ours(lambda y: base**y, b)
    theirs = run_torch(lambda x, y: x**y, a, b)
    assert_same(tensors, theirs, base=base, exponent=exponent)
    assert_same(scalar_exponent, run_torch(lambda x: x**exponent, a), base=base, exponent=exponent)
    assert_same(scalar_base, run_torch(lambda y: base**y, b), base=base, exponent=exponent)


# -- maximum/minimum ties: PyTorch's rule between tensors, the course's ReLU against constants --
@needs_torch
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_of_two_tensors_split_ties_as_torch(name):
    a, b = np.array([1.0, 2.0, 0.0, -1.0]), np.array([1.0, 3.0, 0.0, -2.0])
    assert_same(run_ours(getattr(tg, name), a, b), run_torch(getattr(torch, name), a, b))
    ta, tb = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    getattr(np, name)(ta, tb).sum().backward()
    assert ta.grad.data[0] == tb.grad.data[0] == 0.5 and ta.grad.data[2] == tb.grad.data[2] == 0.5


def test_np_maximum_against_a_constant_zero_gives_the_course_relu_derivative_at_zero():
    for constant in (0, 0.0, np.zeros(3)):
        Z = tg.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
        np.maximum(constant, Z).sum().backward()
        np.testing.assert_array_equal(Z.grad.data, [0.0, 0.0, 1.0])


@needs_torch
@given(shapes=broadcastable_shape_pairs(), data=st.data())
def test_mod_and_floordiv_operators_match_torch_with_python_numbers_on_either_side(shapes, data):
    a = data.draw(float_arrays(shapes[0]), label="a")
    b = data.draw(float_arrays(shapes[1], away_from=0.0, margin=0.25), label="b")

    def ours(x, y):
        return x % y + (x // y) * x + 7.5 % y + 2.0 // y + x % 1.5

    def theirs(x, y):
        # torch has no derivative for number % tensor; tensor % tensor is the same function
        floor, constant = _torch_floor_divide, torch.tensor
        return x % y + floor(x, y) * x + constant(7.5) % y + floor(constant(2.0), y) + x % 1.5

    assert_same(run_ours(ours, a, b), run_torch(theirs, a, b), a=a, b=b)


@needs_torch
@given(shape=shapes(), data=st.data())
def test_clip_with_tensor_bounds_sends_their_gradient_as_torch_clamp(shape, data):
    x = data.draw(float_arrays(shape), label="x")
    low = data.draw(float_arrays(shape, min_value=-2, max_value=-0.5), label="low")
    high = data.draw(float_arrays(shape, min_value=0.5, max_value=2), label="high")
    mine = run_ours(lambda t, lo, hi: np.clip(t, lo, hi), x, low, high)
    assert_same(mine, run_torch(torch.clamp, x, low, high), x=x, low=low, high=high)


def test_clip_with_constant_tensor_bounds_keeps_float32_and_accepts_arrays():
    x = tg.Tensor(np.array([-3.0, 0.25, 3.0], dtype=np.float32), requires_grad=True)
    out = tg.clip(x, tg.Tensor(-1.0), tg.Tensor(np.array([1.0, 0.1, 2.0])))
    np.testing.assert_array_equal(out.data, [-1.0, 0.1, 2.0])
    assert tg.clip(x, tg.Tensor(-1.0), tg.Tensor(1.0)).dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [0.0, 0.0, 0.0])


@needs_torch
def test_nan_to_num_passes_the_gradient_only_through_finite_elements_as_torch():
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0])
    for options in ({}, {"nan": 1.0, "posinf": 9.0, "neginf": -9.0}):
        mine = run_ours(lambda t, options=options: np.nan_to_num(t, **options), x)
        theirs = run_torch(lambda t, options=options: torch.nan_to_num(t, **options), x)
        assert_same(mine, theirs, options=options)


@needs_torch
def test_logaddexp_second_derivative_at_a_tie_matches_torch():
    # logaddexp(x, x) and equal operands after broadcasting (a scalar against itself): the
    # equal-infinities guard once masked every tie, so d2/da2 came out 0 instead of 1/4.
    for function, torch_function in (
        (np.logaddexp, torch.logaddexp),
        (np.logaddexp2, torch.logaddexp2),
    ):
        values = np.array([0.4, -1.3, 0.4])
        a = tg.Tensor(values, requires_grad=True)
        b = tg.Tensor(np.array(0.4), requires_grad=True)
        (grad_a,) = tg.grad(function(a, b).sum(), [a], create_graph=True)
        second = tg.grad(grad_a.sum(), [a, b])
        ta = torch.tensor(values, requires_grad=True)
        tb = torch.tensor(0.4, dtype=torch.float64, requires_grad=True)
        (torch_grad_a,) = torch.autograd.grad(torch_function(ta, tb).sum(), [ta], create_graph=True)
        torch_second = torch.autograd.grad(torch_grad_a.sum(), [ta, tb])
        for ours, theirs in zip(second, torch_second):
            np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12, atol=1e-12)
        assert tg.gradgradcheck(function, (a, b))


@pytest.mark.parametrize("op", ["+", "-", "*", "/"])
def test_python_numbers_on_float64_give_numpys_bits_for_every_kind_of_number(op):
    # Float64 data meets a Python number as a cached 0-d array (NumPy's scalar path is slow);
    # the bits must be NumPy's with the Python number, including the signed zero, NaN, inf,
    # ints beyond 2^53 and more distinct numbers than the cache keeps.
    apply = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide}[op]
    data = np.array([[-2.5, -0.0, 0.0], [1e-300, 3.0, np.inf]])
    numbers = [0.0, -0.0, float("nan"), float("inf"), -1e308, 2, -7, 2**60, 1e-320, 0.1]
    numbers += [1.0 + i / 7 for i in range(300)]
    for number in numbers:
        x = tg.Tensor(data, requires_grad=True)
        with np.errstate(all="ignore"):
            out = {"+": x + number, "-": x - number, "*": x * number, "/": x / number}[op]
            expected = apply(data, number)
            seed = np.full(data.shape, 0.75)
            out.backward(seed)
            expected_grad = {"*": seed * number, "/": seed / number}.get(op, seed)
        np.testing.assert_array_equal(out.data, expected, err_msg=f"x {op} {number!r}")
        assert np.array_equal(np.signbit(out.data), np.signbit(expected)), number
        np.testing.assert_array_equal(x.grad.data, expected_grad, err_msg=f"d(x {op} {number!r})")
    from tinygrad_dl.ops import elementwise

    assert len(elementwise._F64_NUMBERS) <= 256
    assert all(not a.flags.writeable for a in elementwise._F64_NUMBERS.values())

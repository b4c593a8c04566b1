"""tinygrad_dl/ops/numpy_dispatch.py: NumPy code runs on Tensors and is differentiated.

"Same lambda, two inputs": each case is one function written with ``np.*``; run on an ndarray it
is its own reference, run on a Tensor it must return a Tensor with a graph whose gradient passes
gradcheck. The course's forward propagation runs unchanged and gives the course's gradients.
"""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.ops import numpy_dispatch
from tinygrad_dl.testing import check_gradient, float_arrays, shapes

B = np.array([[0.5], [-1.0]])  # a constant (2, 1) column, as b^[l] in np.dot(W, A) + b

# name -> (function of one (2, k) array written with np.*, float_arrays options)
CASES = {
    "np.dot(W, A) + b": (lambda Z: np.dot(np.array([[1.0, -2.0], [0.5, 3.0]]), Z) + B, {}),
    "1/(1+np.exp(-Z))": (lambda Z: 1 / (1 + np.exp(-Z)), {}),
    "np.maximum(0, Z)": (lambda Z: np.maximum(0, Z), {"away_from": 0.0}),
    "np.minimum(Z, 1)": (lambda Z: np.minimum(Z, 1), {"away_from": 1.0}),
    "np.tanh": (np.tanh, {}),
    "np.log": (np.log, {"positive": True}),
    "np.log1p": (np.log1p, {"positive": True}),
    "np.sqrt": (np.sqrt, {"positive": True}),
    "np.abs": (np.abs, {"away_from": 0.0}),
    "np.sin + np.cos": (lambda Z: np.sin(Z) + np.cos(Z), {}),
    "np.sum(axis=1, keepdims=True)": (lambda Z: np.sum(Z, axis=1, keepdims=True), {}),
    "np.sum": (np.sum, {}),
    "np.mean": (lambda Z: np.mean(Z, axis=0), {}),
    "np.max": (lambda Z: np.max(Z, axis=1), {"distinct": True}),
    "np.min": (np.min, {"distinct": True}),
    "np.var": (lambda Z: np.var(Z, axis=1), {}),
    "np.std": (lambda Z: np.std(Z, axis=0, ddof=1), {"distinct": True}),
    "np.multiply": (lambda Z: np.multiply(Z, Z[::-1]), {}),
    "np.divide": (lambda Z: np.divide(1.0, Z), {"positive": True}),
    "np.subtract + np.negative": (lambda Z: np.subtract(B, np.negative(Z)), {}),
    "np.square": (np.square, {}),
    "np.power": (lambda Z: np.power(Z, 3), {}),
    "np.power(Z, Z)": (lambda Z: np.power(Z, Z), {"positive": True}),
    "np.matmul": (lambda Z: np.matmul(Z.T, Z), {}),
    "np.transpose": (np.transpose, {}),
    "np.reshape": (lambda Z: np.reshape(Z, (-1, 1)), {}),
    "np.ravel": (np.ravel, {}),
    "np.expand_dims + np.squeeze": (lambda Z: np.squeeze(np.expand_dims(Z, 0) * 2), {}),
    "np.swapaxes": (lambda Z: np.swapaxes(Z, 0, 1), {}),
    "np.broadcast_to": (lambda Z: np.broadcast_to(Z[:, :1], (2, 5)), {}),
    "np.concatenate": (lambda Z: np.concatenate([Z, 2 * Z], axis=1), {}),
    "np.stack": (lambda Z: np.stack([Z, Z * Z], axis=0), {}),
    "np.where": (lambda Z: np.where(Z > 0, Z, 0.1 * Z), {"away_from": 0.0}),
    "np.clip": (lambda Z: np.clip(Z, -1, 1), {"away_from": [-1.0, 1.0]}),
    "np.log2 + np.log10": (lambda Z: np.log2(Z) * np.log10(Z), {"positive": True}),
    "np.exp2 + np.expm1": (lambda Z: np.exp2(Z) - np.expm1(Z), {}),
    "np.tan": (lambda Z: np.tan(Z / 3), {}),
    "np.sinh + np.cosh": (lambda Z: np.sinh(Z) * np.cosh(Z[::-1]), {}),
    "np.arcsin + np.arccos": (lambda Z: np.arcsin(Z / 4) - 2 * np.arccos(Z / 5), {}),
    "np.arctan + np.arcsinh": (lambda Z: np.arctan(Z) + np.arcsinh(Z * Z), {}),
    "np.arccosh": (lambda Z: np.arccosh(Z * Z + 1.5), {}),
    "np.arctanh": (lambda Z: np.arctanh(Z / 4), {}),
    "np.sinc": (np.sinc, {}),
    "np.fabs": (np.fabs, {"away_from": 0.0}),
    "np.hypot + np.arctan2": (lambda Z: np.hypot(Z, 1.5) + np.arctan2(Z, Z[::-1] + 5), {}),
    "np.logaddexp + np.logaddexp2": (lambda Z: np.logaddexp(Z, -Z) + np.logaddexp2(Z, 0.5), {}),
    "np.fmax + np.fmin": (lambda Z: np.fmax(Z, 0.25) * np.fmin(Z, -0.25), {"away_from": 0.25}),
    "np.copysign": (lambda Z: np.copysign(Z * Z, Z[::-1]), {"away_from": 0.0}),
    # away from the jumps: Z mod 7 at 0, (Z + 10) // 7 at -3 and 4
    "np.remainder + np.fmod": (
        lambda Z: np.remainder(Z, 7.0) + np.fmod(Z, 5.0),
        {"away_from": 0.0},
    ),
    "np.mod * np.floor_divide": (
        lambda Z: np.mod(Z, 7.0) * np.floor_divide(Z + 10, 7.0),
        {"away_from": [-3.0, 0.0, 4.0]},
    ),
    "np.prod": (lambda Z: np.prod(Z, axis=1, keepdims=True), {}),
    "np.cumsum": (lambda Z: np.cumsum(Z, axis=1), {}),
    "np.cumprod": (lambda Z: np.cumprod(Z, axis=0), {}),
    "np.diff": (lambda Z: np.diff(Z, axis=0, append=1.0), {}),
    "np.round + np.floor + np.sign": (
        lambda Z: Z * (np.round(Z, 1) + np.floor(Z) + np.sign(Z) + np.ceil(Z) + np.trunc(Z)),
        {"away_from": [-3, -2, -1, 0, 1, 2, 3]},
    ),
    "np.einsum": (lambda Z: np.einsum("ij,kj->ik", Z, Z), {}),
    "np.tensordot": (lambda Z: np.tensordot(Z, Z, axes=([1], [1])), {}),
    "np.outer + np.kron": (lambda Z: np.kron(np.outer(Z[0], Z[1]), Z), {}),
    "np.linalg.norm": (lambda Z: np.linalg.norm(Z, axis=0), {"away_from": 0.0}),
    "np.linalg.det": (lambda Z: np.linalg.det(Z @ Z.T + np.eye(2)), {}),
    "np.linalg.inv": (lambda Z: np.linalg.inv(Z @ Z.T + np.eye(2)), {}),
    "np.pad + np.roll": (lambda Z: np.roll(np.pad(Z, 1, mode="edge"), 1, axis=1), {}),
    "np.tile + np.repeat": (lambda Z: np.repeat(np.tile(Z, 2), 2, axis=0), {}),
    "np.vstack + np.hstack": (lambda Z: np.hstack([np.vstack([Z, Z]), np.vstack([Z, Z])]), {}),
    "np.flip + np.moveaxis": (lambda Z: np.moveaxis(np.flip(Z), 0, 1), {}),
    "np.gradient": (lambda Z: np.gradient(Z, axis=0), {}),
    "np.select": (
        lambda Z: np.select([Z > 1, Z < -1], [Z * Z, np.exp(Z)], default=Z[::-1]),
        {"away_from": [-1.0, 1.0]},
    ),
    "np.real + np.conj + np.imag + np.angle": (
        lambda Z: np.real(Z) * np.conj(Z[::-1]) + np.imag(Z) + np.angle(Z) * Z,
        {"away_from": 0.0},
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_numpy_function_on_a_tensor_returns_a_tensor_equal_to_numpy_with_a_correct_gradient(
    name, data
):
    function, options = CASES[name]
    width = data.draw(st.integers(1, 4), label="width")
    Z = data.draw(float_arrays((2, width), **options), label="Z")
    leaf = tg.Tensor(Z, requires_grad=True)
    out = function(leaf)
    assert isinstance(out, tg.Tensor) and out.requires_grad and out.grad_fn is not None
    np.testing.assert_allclose(out.data, function(Z), rtol=1e-12, atol=1e-12)
    assert check_gradient(function, Z)


# -- the course's forward propagation, unchanged, gives the course's backward ---------------
def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def forward_propagation(X, parameters, hidden):
    """Week 3's two-layer network, as written for NumPy arrays."""
    W1, b1, W2, b2 = (parameters[k] for k in ("W1", "b1", "W2", "b2"))
    Z1 = np.dot(W1, X) + b1
    A1 = hidden(Z1)
    Z2 = np.dot(W2, A1) + b2
    A2 = sigmoid(Z2)
    return Z1, A1, A2


def compute_cost(A2, Y):
    m = Y.shape[1]
    logprobs = np.multiply(np.log(A2), Y) + np.multiply((1 - Y), np.log(1 - A2))
    return -np.sum(logprobs) / m


def backward_propagation(parameters, Z1, A1, A2, X, Y, hidden):
    """The course's hand-derived gradients."""
    m = X.shape[1]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(dZ2, A1.T)
    db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
    g_prime = 1 - np.power(A1, 2) if hidden is np.tanh else (Z1 > 0).astype(float)
    dZ1 = np.dot(parameters["W2"].T, dZ2) * g_prime
    dW1 = (1 / m) * np.dot(dZ1, X.T)
    db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


@pytest.mark.parametrize("hidden", [np.tanh, relu], ids=["tanh", "relu"])
@given(
    seed=st.integers(0, 2**32 - 1),
    n_x=st.integers(1, 4),
    n_h=st.integers(1, 4),
    m=st.integers(1, 6),
)
def test_course_forward_code_on_tensors_gives_the_course_gradients(hidden, seed, n_x, n_h, m):
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(n_x, m), (rng.rand(1, m) > 0.5).astype(float)
    arrays = {
        "W1": rng.randn(n_h, n_x) * 0.5,
        "b1": rng.randn(n_h, 1) * 0.5,
        "W2": rng.randn(1, n_h) * 0.5,
        "b2": rng.randn(1, 1) * 0.5,
    }
    tensors = {k: tg.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    Z1, A1, A2 = forward_propagation(X, tensors, hidden)
    cost = compute_cost(A2, Y)
    assert isinstance(cost, tg.Tensor) and cost.shape == ()
    cost.backward()
    plain = forward_propagation(X, arrays, hidden)
    np.testing.assert_allclose(cost.item(), compute_cost(plain[2], Y), rtol=1e-12)
    expected = backward_propagation(arrays, *plain, X, Y, hidden)
    for key in arrays:
        np.testing.assert_allclose(
            tensors[key].grad.data, expected[key], rtol=1e-9, atol=1e-12, err_msg=key
        )


# -- outside the graph, queries, and refusals ----------------------------------------------
def test_discrete_results_return_integer_or_boolean_tensors_outside_the_graph():
    x = tg.Tensor(np.array([[0.5, -2.0, 3.0]]), requires_grad=True)
    for result in (np.argmax(x, axis=1), x > 0, np.isfinite(x), np.argsort(x), np.signbit(x)):
        assert isinstance(result, tg.Tensor) and not result.requires_grad
        assert result.dtype.kind in "biu", result.dtype
    np.testing.assert_array_equal(np.argmax(x, axis=1).data, [2])


def test_queries_return_plain_values():
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6
    assert np.allclose(x, np.ones((2, 3))) is True


@given(float_arrays(shapes(min_dims=1)))
def test_add_reduce_is_sum(x):
    leaf = tg.Tensor(x, requires_grad=True)
    out = np.add.reduce(leaf, axis=0)
    np.testing.assert_allclose(out.data, np.add.reduce(x, axis=0))
    assert check_gradient(lambda t: np.add.reduce(t, axis=0), x)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: np.cbrt(x), "np.cbrt"),
        (lambda x: np.fft.fft(x), "np.fft.fft"),
        (lambda x: np.linalg.eig(x.reshape(1, 2) * x.reshape(2, 1)), "np.linalg.eig"),
        (lambda x: np.add.accumulate(x), "accumulate"),
    ],
)
def test_unsupported_numpy_function_is_a_type_error_naming_it(call, name):
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match=re.escape(name)):
        call(x)


def test_numpy_out_argument_on_a_tensor_is_a_type_error():
    x = tg.Tensor(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="out"):
        np.exp(x, out=np.empty(2))
    with pytest.raises(TypeError, match="out"):
        np.sum(x, out=np.empty(()))


@pytest.mark.parametrize("name", ["np.maximum(0, Z)", "np.where", "np.clip", "1/(1+np.exp(-Z))"])
def test_course_activations_through_numpy_keep_float32(name):
    # np.maximum(0, Z) on a float32 ndarray is float32; on a float32 Tensor it must be too.
    function, _ = CASES[name]
    Z = np.array([[-1.5, 0.5], [2.0, -0.25]], dtype=np.float32)
    assert function(Z).dtype == np.float32
    leaf = tg.Tensor(Z, requires_grad=True)
    out = function(leaf)
    assert out.dtype == np.float32, f"{name} gave {out.dtype}"
    out.sum().backward()
    assert leaf.grad.dtype == np.float32


def test_course_relu_through_np_maximum_matches_relu_at_zero():
    # The course takes g'(0) = 0; np.maximum(0, Z) must agree with tg.relu at the kink.
    Z = tg.Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    np.maximum(0, Z).sum().backward()
    via_numpy = Z.grad.data.copy()
    Z.grad = None
    tg.relu(Z).sum().backward()
    np.testing.assert_array_equal(via_numpy, Z.grad.data)
    np.testing.assert_array_equal(via_numpy, [0.0, 0.0, 1.0])


def test_unique_values_keep_the_graph_and_indices_and_counts_are_integers():
    x = tg.Tensor(np.array([3.0, 1.0, 3.0, 2.0]), requires_grad=True)
    values, index, inverse, counts = np.unique(
        x, return_index=True, return_inverse=True, return_counts=True
    )
    np.testing.assert_array_equal(values.data, [1.0, 2.0, 3.0])
    assert values.requires_grad and not index.requires_grad and not counts.requires_grad
    assert index.dtype.kind == inverse.dtype.kind == counts.dtype.kind == "i"
    np.testing.assert_array_equal(counts.data, [1, 1, 2])
    (values * np.array([1.0, 10.0, 100.0])).sum().backward()
    # each unique value is taken from its first occurrence, which gets its gradient
    np.testing.assert_array_equal(x.grad.data, [100.0, 1.0, 0.0, 10.0])


def test_unique_rows_along_an_axis_keep_the_graph():
    x = tg.Tensor(np.array([[1.0, 2.0], [0.0, 5.0], [1.0, 2.0]]), requires_grad=True)
    rows = np.unique(x, axis=0)
    np.testing.assert_array_equal(rows.data, [[0.0, 5.0], [1.0, 2.0]])
    rows.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda x: np.linalg.eigvals(x), "np.linalg.eigvals has no gradient rule"),
        (lambda x: np.fft.ifft(x), "np.fft.ifft has no gradient rule"),
        (lambda x: np.nanmean(x), "np.nanmean has no gradient rule"),
    ],
)
def test_refusals_name_the_function_by_its_real_module(call, name):
    x = tg.Tensor(np.eye(2), requires_grad=True)
    with pytest.raises(
        TypeError, match="^" + re.escape(f"{name} in tinygrad_dl, so it cannot run on a Tensor")
    ):
        call(x)


def test_every_function_outside_the_graph_returns_no_float_derived_from_the_tensor():
    # The audit of the "outside the graph" table: only discrete results (indices, booleans)
    # or results that do not depend on the values (zeros_like...) may leave the graph.
    x = tg.Tensor(np.array([[0.5, -2.0, 3.0], [1.0, 1.0, 0.0]]), requires_grad=True)
    value_free = {np.zeros_like, np.ones_like, np.empty_like, np.full_like}
    checked = []
    table = {**numpy_dispatch.FUNCTIONS, **numpy_dispatch.UFUNCS}
    for function, implementation in table.items():
        outside = getattr(implementation, "__qualname__", "").startswith("_outside_graph.")
        if not outside or function in value_free:
            continue
        if function is np.sort or function is np.invert:  # sort: tensor-surface's; invert:
            continue  # integers and booleans only, as in NumPy
        args = (x, 0.5) if function is np.full_like else (x,)
        result = implementation(*args)
        results = result if isinstance(result, tuple) else (result,)
        for r in results:
            data = r.data if isinstance(r, tg.Tensor) else np.asarray(r)
            assert data.dtype.kind in "biu", f"{function.__name__} gave {data.dtype} floats"
        checked.append(function.__name__)
    assert {"argmax", "argsort", "nonzero", "isfinite", "signbit"} <= set(checked), checked


def test_select_picks_the_first_true_condition_and_sends_its_gradient_there():
    x = tg.Tensor(np.array([-2.0, 0.5, 3.0]), requires_grad=True)
    y = tg.Tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    # both conditions hold at 3.0: the first (x) wins there, as in NumPy
    out = np.select([x.data > 0, x.data > 1], [x, y], default=-1.0)
    np.testing.assert_array_equal(
        out.data, np.select([x.data > 0, x.data > 1], [x.data, y.data], -1.0)
    )
    out.backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(x.grad.data, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(y.grad.data, [0.0, 0.0, 0.0])


def test_select_with_a_float_condition_is_refused_as_numpy_refuses():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError, match="np.select: invalid entry 0 in condlist"):
        np.select([x.data], [x])

"""Week 3 (tinygrad_dl.course.shallow): published values, conventions, autodiff and symmetry."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.course import shallow
from tinygrad_dl.course.checker import relative_difference
from tinygrad_dl.course.strategies import seeds


def _problem(seed, n_x, n_h, m, soft=False):
    rng = np.random.RandomState(seed)
    parameters = {
        "W1": rng.randn(n_h, n_x),
        "b1": 0.1 * rng.randn(n_h, 1),
        "W2": rng.randn(1, n_h),
        "b2": 0.1 * rng.randn(1, 1),
    }
    X = rng.randn(n_x, m)
    Y = rng.rand(1, m) if soft else (rng.rand(1, m) < 0.5).astype(np.float64)
    return parameters, X, Y


problems = st.builds(
    _problem, seeds(), st.integers(1, 10), st.integers(1, 10), st.integers(1, 32), st.booleans()
)


def test_initialize_parameters_reproduces_the_course_published_values():
    parameters = shallow.initialize_parameters(2, 4, 1, seed=2)
    np.testing.assert_allclose(
        parameters["W1"],
        [[-0.00416758, -0.00056267], [-0.02136196, 0.01640271],
         [-0.01793436, -0.00841747], [0.00502881, -0.01245288]],
        rtol=0, atol=5e-9,  # published to 8 decimals
    )  # fmt: skip
    np.testing.assert_allclose(
        parameters["W2"], [[-0.01057952, -0.00909008, 0.00551454, 0.02292208]], rtol=0, atol=5e-9
    )
    assert parameters["b1"].shape == (4, 1) and not parameters["b1"].any()
    assert parameters["b2"].shape == (1, 1) and not parameters["b2"].any()


@given(seeds(), st.integers(1, 6), st.integers(1, 6), st.integers(1, 3))
def test_seeded_initialisation_draws_like_the_course_and_leaves_global_state_alone(
    seed, n_x, n_h, n_y
):
    np.random.seed(seed)  # what the course's notebook does
    expected_W1 = np.random.randn(n_h, n_x) * 0.01
    expected_W2 = np.random.randn(n_y, n_h) * 0.01
    np.random.seed(12345)
    before = np.random.get_state()[1].copy()
    parameters = shallow.initialize_parameters(n_x, n_h, n_y, seed=seed)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(parameters["W1"], expected_W1)
    np.testing.assert_array_equal(parameters["W2"], expected_W2)


def test_layer_sizes_uses_the_course_hidden_width_and_rejects_transposed_data():
    assert shallow.layer_sizes(np.zeros((5, 3)), np.zeros((2, 3))) == (5, 4, 2)
    with pytest.raises(ValueError, match="layer_sizes: X has shape"):
        shallow.layer_sizes(np.zeros((3, 5)), np.zeros((2, 3)))


@given(problems)
def test_backward_propagation_equals_autodiff_of_the_same_forward_code(problem):
    parameters, X, Y = problem
    A2, cache = shallow.forward_propagation(X, parameters)
    grads = shallow.backward_propagation(parameters, cache, X, Y)
    tensors = {key: tg.Tensor(value, requires_grad=True) for key, value in parameters.items()}
    A2_t, _ = shallow.forward_propagation(X, tensors)
    J = shallow.compute_cost(A2_t, Y)
    assert J.shape == () and float(J.data) == pytest.approx(shallow.compute_cost(A2, Y))
    reference = tg.grad(J, list(tensors.values()))
    for key, expected in zip(tensors, reference):
        assert relative_difference(grads["d" + key], expected.data) < 1e-10, key


@given(problems)
def test_vectorised_gradients_equal_the_per_example_loop(problem):
    parameters, X, Y = problem
    W1, b1, W2, b2 = (parameters[key] for key in ("W1", "b1", "W2", "b2"))
    m = X.shape[1]
    sums = {key: np.zeros_like(value) for key, value in parameters.items()}
    for i in range(m):
        x = X[:, i : i + 1]
        a1 = np.tanh(W1 @ x + b1)
        a2 = 1 / (1 + np.exp(-(W2 @ a1 + b2)))
        dz2 = a2 - Y[0, i]
        dz1 = (W2.T @ dz2) * (1 - a1**2)
        sums["W2"] += dz2 @ a1.T
        sums["b2"] += dz2
        sums["W1"] += dz1 @ x.T
        sums["b1"] += dz1
    A2, cache = shallow.forward_propagation(X, parameters)
    grads = shallow.backward_propagation(parameters, cache, X, Y)
    for key, total in sums.items():
        np.testing.assert_allclose(grads["d" + key], total / m, rtol=1e-9, atol=1e-13)


def test_backward_propagation_reads_A1_and_A2_from_the_cache():
    parameters, X, Y = _problem(0, 3, 4, 5)
    _, cache = shallow.forward_propagation(X, parameters)
    rng = np.random.RandomState(1)
    planted = {"A1": np.tanh(rng.randn(4, 5)), "A2": rng.rand(1, 5)}
    grads = shallow.backward_propagation(parameters, {**cache, **planted}, X, Y)
    dZ2 = planted["A2"] - Y
    dZ1 = parameters["W2"].T @ dZ2 * (1 - planted["A1"] ** 2)
    np.testing.assert_allclose(grads["dW2"], dZ2 @ planted["A1"].T / 5, rtol=1e-12)
    np.testing.assert_allclose(grads["dW1"], dZ1 @ X.T / 5, rtol=1e-12)


@given(seeds(), st.integers(2, 6), st.integers(1, 20), st.floats(-1, 1), st.floats(-1, 1))
def test_symmetric_initialisation_keeps_hidden_units_identical_after_any_number_of_steps(
    seed, n_h, steps, w1_value, w2_value
):
    """Zero (or any identical) initial rows stay identical: every hidden unit gets the same
    gradient, so gradient descent can never tell them apart."""
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(3, 8), (rng.rand(1, 8) < 0.5).astype(np.float64)
    for parameters in (
        {"W1": np.zeros((n_h, 3)), "b1": np.zeros((n_h, 1)),
         "W2": np.zeros((1, n_h)), "b2": np.zeros((1, 1))},
        {"W1": np.full((n_h, 3), w1_value), "b1": np.zeros((n_h, 1)),
         "W2": np.full((1, n_h), w2_value), "b2": np.zeros((1, 1))},
    ):  # fmt: skip
        for _ in range(steps):
            _, cache = shallow.forward_propagation(X, parameters)
            grads = shallow.backward_propagation(parameters, cache, X, Y)
            parameters = shallow.update_parameters(parameters, grads, learning_rate=1.2)
        # Identical up to rounding: BLAS may sum different rows in a different order.
        W1, W2 = parameters["W1"], parameters["W2"]
        np.testing.assert_allclose(W1, np.repeat(W1[:1], n_h, axis=0), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(W2, np.full_like(W2, W2[0, 0]), rtol=1e-10, atol=1e-13)


@given(seeds(), st.integers(2, 6), st.integers(1, 20))
def test_small_random_initialisation_with_zero_biases_breaks_the_symmetry(seed, n_h, steps):
    """Random W with zero b: hidden units compute different functions, and keep doing so."""
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(3, 8), (rng.rand(1, 8) < 0.5).astype(np.float64)
    parameters = shallow.initialize_parameters(3, n_h, 1, seed=seed)
    assert not parameters["b1"].any() and not parameters["b2"].any()
    costs = []
    for _ in range(steps):
        A2, cache = shallow.forward_propagation(X, parameters)
        costs.append(shallow.compute_cost(A2, Y))
        grads = shallow.backward_propagation(parameters, cache, X, Y)
        parameters = shallow.update_parameters(parameters, grads, learning_rate=0.5)
    _, cache = shallow.forward_propagation(X, parameters)
    A1 = cache["A1"]
    distinct_rows = {tuple(row) for row in np.round(A1, 12)}
    assert len(distinct_rows) == n_h
    assert costs[-1] <= costs[0]


def test_nn_model_initialises_exactly_like_initialize_parameters():
    parameters, X, Y = _problem(0, 2, 4, 6)
    trained = shallow.nn_model(X, Y, 4, num_iterations=1, learning_rate=1.2, seed=3)
    start = shallow.initialize_parameters(2, 4, 1, seed=3)
    _, cache = shallow.forward_propagation(X, start)
    grads = shallow.backward_propagation(start, cache, X, Y)
    expected = shallow.update_parameters(start, grads, 1.2)
    for key in expected:
        np.testing.assert_array_equal(trained[key], expected[key])


def test_predict_returns_booleans_where_A2_exceeds_one_half():
    parameters, X, _ = _problem(5, 3, 4, 10)
    A2, _ = shallow.forward_propagation(X, parameters)
    prediction = shallow.predict(parameters, X)
    assert prediction.dtype == np.bool_
    np.testing.assert_array_equal(prediction, A2 > 0.5)


def test_shallow_functions_never_mutate_their_inputs():
    parameters, X, Y = _problem(2, 3, 4, 6)
    copies = {key: value.copy() for key, value in parameters.items()}
    x_copy = X.copy()
    _, cache = shallow.forward_propagation(X, parameters)
    grads = shallow.backward_propagation(parameters, cache, X, Y)
    shallow.update_parameters(parameters, grads)
    shallow.nn_model(X, Y, 4, num_iterations=3, seed=0)
    for key, value in copies.items():
        np.testing.assert_array_equal(parameters[key], value)
    np.testing.assert_array_equal(X, x_copy)


def test_transposed_X_gets_a_clear_error_naming_the_layout():
    parameters, X, Y = _problem(0, 3, 4, 5)
    with pytest.raises(ValueError, match=r"forward_propagation: .*X has shape \(5, 3\).*use X\.T"):
        shallow.forward_propagation(X.T, parameters)
    _, cache = shallow.forward_propagation(X, parameters)
    with pytest.raises(ValueError, match=r"backward_propagation: Y has shape \(5,\)"):
        shallow.backward_propagation(parameters, cache, X, Y.ravel())


def test_unseeded_initialisation_draws_from_the_global_generator():
    np.random.seed(7)
    parameters = shallow.initialize_parameters(3, 2, 1)
    np.random.seed(7)
    np.testing.assert_array_equal(parameters["W1"], np.random.randn(2, 3) * 0.01)
    np.testing.assert_array_equal(parameters["W2"], np.random.randn(1, 2) * 0.01)


def test_compute_cost_reproduces_the_course_published_value():
    np.random.seed(1)  # compute_cost_test_case: boolean labels drawn from randn > 0
    Y = np.random.randn(1, 3) > 0
    A2 = np.array([[0.5002307, 0.49985831, 0.50023963]])
    assert shallow.compute_cost(A2, Y) == pytest.approx(0.6930587610394646, rel=1e-12)

"""Week 2 (tinygrad_dl.course.logistic): published values, conventions and the notes' claims."""

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.course import logistic
from tinygrad_dl.course.checker import numerical_gradient, relative_difference
from tinygrad_dl.course.strategies import seeds

# The course's week-2 test case (propagate, optimize) and its published outputs.
W_CASE = np.array([[1.0], [2.0]])
B_CASE = 2.0
X_CASE = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
Y_CASE = np.array([[1, 0, 1]])


def _problem(seed, n_x, m, soft):
    rng = np.random.RandomState(seed)
    # w ~ N(0, 1/n_x) keeps z = w^T x + b of order 1: sigmoids far from saturation, where
    # log(1 - A) would turn rounding into central-difference noise.
    w, b = rng.randn(n_x, 1) / np.sqrt(n_x), float(rng.randn())
    X = rng.randn(n_x, m)
    Y = rng.rand(1, m) if soft else (rng.rand(1, m) < 0.5).astype(np.float64)
    return w, b, X, Y


problems = st.builds(_problem, seeds(), st.integers(1, 10), st.integers(1, 32), st.booleans())


def test_propagate_reproduces_the_course_published_values():
    grads, cost = logistic.propagate(W_CASE, B_CASE, X_CASE, Y_CASE)
    np.testing.assert_allclose(grads["dw"], [[0.99845601], [2.39507239]], rtol=1e-8)
    np.testing.assert_allclose(grads["db"], 0.00145557813678, rtol=1e-8)
    np.testing.assert_allclose(cost, 5.801545319394553, rtol=1e-12)
    assert isinstance(cost, float) and isinstance(grads["db"], float)


def test_optimize_reproduces_the_course_published_values():
    params, grads, costs = logistic.optimize(
        W_CASE, B_CASE, X_CASE, Y_CASE, num_iterations=100, learning_rate=0.009
    )
    np.testing.assert_allclose(params["w"], [[0.19033591], [0.12259159]], rtol=1e-7)
    np.testing.assert_allclose(params["b"], 1.92535983008, rtol=1e-9)
    np.testing.assert_allclose(grads["dw"], [[0.67752042], [1.41625495]], rtol=1e-7)
    np.testing.assert_allclose(grads["db"], 0.219194504541, rtol=1e-9)
    assert costs == [pytest.approx(5.801545319394553, rel=1e-12)]


def test_predict_reproduces_the_course_published_values():
    w = np.array([[0.1124579], [0.23106775]])
    X = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    prediction = logistic.predict(w, -0.3, X)
    assert prediction.dtype == np.float64
    np.testing.assert_array_equal(prediction, [[1.0, 1.0, 0.0]])


def test_initialize_with_zeros_gives_a_zero_column_and_a_float_bias():
    w, b = logistic.initialize_with_zeros(4)
    assert w.shape == (4, 1) and not w.any()
    assert type(b) is float and b == 0.0
    with pytest.raises(ValueError, match="initialize_with_zeros"):
        logistic.initialize_with_zeros(0)


@given(problems, st.integers(1, 350))
def test_optimize_records_the_cost_of_every_hundredth_iteration_before_its_update(
    problem, num_iterations
):
    w, b, X, Y = problem
    learning_rate = 0.1
    params, grads, costs = logistic.optimize(w, b, X, Y, num_iterations, learning_rate)
    expected_costs, expected_grads = [], None
    for i in range(num_iterations):
        expected_grads, cost = logistic.propagate(w, b, X, Y)
        if i % 100 == 0:
            expected_costs.append(cost)
        w, b = w - learning_rate * expected_grads["dw"], b - learning_rate * expected_grads["db"]
    assert costs == expected_costs
    assert len(costs) == (num_iterations + 99) // 100
    np.testing.assert_array_equal(grads["dw"], expected_grads["dw"])
    assert grads["db"] == expected_grads["db"]
    np.testing.assert_array_equal(params["w"], w)
    assert params["b"] == b


def test_model_starts_from_zeros_and_returns_the_course_keys():
    w, b, X, Y = _problem(0, 3, 20, soft=False)
    X_test = np.random.RandomState(1).randn(3, 7)
    Y_test = np.ones((1, 7))
    result = logistic.model(X, Y, X_test, Y_test, num_iterations=250, learning_rate=0.05)
    assert set(result) == {
        "costs", "Y_prediction_test", "Y_prediction_train", "w", "b", "learning_rate",
        "num_iterations",
    }  # fmt: skip
    params, _, costs = logistic.optimize(np.zeros((3, 1)), 0.0, X, Y, 250, 0.05)
    np.testing.assert_array_equal(result["w"], params["w"])
    assert result["costs"] == costs and costs[0] == pytest.approx(np.log(2))
    np.testing.assert_array_equal(
        result["Y_prediction_test"], logistic.predict(params["w"], params["b"], X_test)
    )
    assert result["Y_prediction_train"].shape == (1, 20)
    assert result["learning_rate"] == 0.05 and result["num_iterations"] == 250


def test_logistic_functions_never_mutate_their_inputs():
    w, b, X, Y = _problem(3, 4, 6, soft=True)
    copies = [w.copy(), X.copy(), Y.copy()]
    logistic.propagate(w, b, X, Y)
    logistic.optimize(w, b, X, Y, num_iterations=5)
    logistic.predict(w, b, X)
    for original, copy in zip((w, X, Y), copies):
        np.testing.assert_array_equal(original, copy)


@given(problems)
def test_dw_and_db_formulas_equal_autodiff_and_central_differences(problem):
    """Property 2: dw = (1/m) X (A - Y)^T and db = (1/m) sum(A - Y)."""
    w, b, X, Y = problem
    grads, cost = logistic.propagate(w, b, X, Y)
    w_t = tg.Tensor(w, requires_grad=True)
    b_t = tg.Tensor(b, requires_grad=True)
    J = logistic.compute_cost(logistic.forward(w_t, b_t, X), Y)
    assert J.shape == () and float(J.data) == pytest.approx(cost, rel=1e-12)
    dw_auto, db_auto = tg.grad(J, [w_t, b_t])
    assert relative_difference(grads["dw"], dw_auto.data) < 1e-10
    assert relative_difference(grads["db"], db_auto.data) < 1e-10
    w_work, b_work = w.copy(), np.array([b])
    dw_numeric = numerical_gradient(
        lambda: logistic.propagate(w_work, b_work[0], X, Y)[1], w_work, eps=1e-5
    )
    db_numeric = numerical_gradient(
        lambda: logistic.propagate(w, b_work[0], X, Y)[1], b_work, eps=1e-5
    )
    # Central differences carry O(eps^2) truncation and O(1e-16 J / eps) rounding error.
    np.testing.assert_allclose(grads["dw"], dw_numeric, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(grads["db"], db_numeric[0], rtol=1e-5, atol=1e-8)


@given(problems)
def test_vectorised_gradients_equal_the_per_example_loop(problem):
    """Notes 2.6 vs 2.7: the loop over examples and the vectorised formulas agree."""
    w, b, X, Y = problem
    n_x, m = X.shape
    dw, db, cost = np.zeros(n_x), 0.0, 0.0
    for i in range(m):
        z = sum(w[j, 0] * X[j, i] for j in range(n_x)) + b
        a = 1 / (1 + np.exp(-z))
        cost += -(Y[0, i] * np.log(a) + (1 - Y[0, i]) * np.log(1 - a))
        dz = a - Y[0, i]
        for j in range(n_x):
            dw[j] += X[j, i] * dz
        db += dz
    grads, vectorised_cost = logistic.propagate(w, b, X, Y)
    np.testing.assert_allclose(grads["dw"][:, 0], dw / m, rtol=1e-10, atol=1e-14)
    assert grads["db"] == pytest.approx(db / m, rel=1e-10, abs=1e-14)
    assert vectorised_cost == pytest.approx(cost / m, rel=1e-10)


@given(problems)
def test_cost_is_minus_one_over_m_times_the_bernoulli_log_likelihood(problem):
    w, b, X, Y = problem
    A = logistic.forward(w, b, X)
    likelihood = np.prod(A**Y * (1 - A) ** (1 - Y))  # P(Y | X) for i.i.d. examples
    m = X.shape[1]
    assert logistic.compute_cost(A, Y) == pytest.approx(-np.log(likelihood) / m, rel=1e-9)


@given(problems, seeds(), st.floats(0, 1))
def test_cross_entropy_cost_is_convex_in_w_and_b(problem, seed, t):
    """J(t p + (1 - t) q) <= t J(p) + (1 - t) J(q) on every segment in (w, b) space."""
    w, b, X, Y = problem
    rng = np.random.RandomState(seed)
    w2, b2 = rng.randn(*w.shape), float(rng.randn())

    def J(w, b):
        return logistic.propagate(w, b, X, Y)[1]

    mixed = J(t * w + (1 - t) * w2, t * b + (1 - t) * b2)
    assert mixed <= t * J(w, b) + (1 - t) * J(w2, b2) + 1e-12


def _squared_error(w, b, X, Y):
    A = logistic.forward(w, b, X)
    return float(np.mean((A - Y) ** 2))


def test_squared_error_of_a_sigmoid_is_not_convex_hypothesis_finds_a_witness():
    """The notes' reason for cross-entropy: the sigmoid's squared error has a non-convex
    segment. hypothesis searches the same kind of segments the convexity test above passes."""
    X, Y = np.array([[1.0, -2.0, 0.5]]), np.array([[0.0, 1.0, 1.0]])

    def violates_convexity(example):
        w1, w2, t = example
        p, q = np.array([[w1]]), np.array([[w2]])
        mixed = _squared_error(t * p + (1 - t) * q, 0.0, X, Y)
        return (
            mixed > t * _squared_error(p, 0.0, X, Y) + (1 - t) * _squared_error(q, 0.0, X, Y) + 1e-9
        )

    weights = st.floats(-20, 20)
    witness = find(
        st.tuples(weights, weights, st.floats(0, 1)),
        violates_convexity,
        settings=settings(database=None, derandomize=True, max_examples=2000),
    )
    assert violates_convexity(witness)


@pytest.mark.parametrize(
    "Y, message",
    [
        (np.array([1.0, 0.0, 1.0]), r"Y has shape \(3,\), expected \(1, m\).*reshape"),
        (np.array([[1.0], [0.0], [1.0]]), r"Y has shape \(3, 1\), expected \(1, m\).*Y\.T"),
    ],
)
def test_labels_in_the_wrong_layout_get_a_clear_error(Y, message):
    with pytest.raises(ValueError, match="propagate: " + message) as info:
        logistic.propagate(W_CASE, B_CASE, X_CASE, Y)
    assert "one example per column" in str(info.value)


def test_transposed_X_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"propagate: X has shape \(3, 2\), expected \(2, 3\)"):
        logistic.propagate(W_CASE, B_CASE, X_CASE.T, Y_CASE)
    with pytest.raises(ValueError, match="X looks transposed: use X.T"):
        logistic.predict(W_CASE, B_CASE, np.ones((5, 2)))


def test_w_as_a_row_gets_a_clear_error():
    with pytest.raises(ValueError, match=r"propagate: w has shape \(1, 2\), expected .*\(n_x, 1\)"):
        logistic.propagate(W_CASE.T, B_CASE, X_CASE, Y_CASE)

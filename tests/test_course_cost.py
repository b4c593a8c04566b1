"""The cross-entropy cost shared by every week: dZ = A - Y, edge cases, layouts."""

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_dl as tg
from tinygrad_dl.course import activations, deep, logistic, shallow
from tinygrad_dl.course.checker import relative_difference
from tinygrad_dl.testing import float_arrays

COSTS = [logistic.compute_cost, shallow.compute_cost, deep.compute_cost]


@st.composite
def logits_and_labels(draw, soft=None):
    m = draw(st.integers(1, 32))
    # |z| <= 10 keeps 1 - A representable to ~1e-12 relative, see test_course_deep's g' test.
    Z = draw(float_arrays((1, m), min_value=-10, max_value=10))
    soft = draw(st.booleans()) if soft is None else soft
    labels = st.floats(0, 1) if soft else st.sampled_from([0.0, 1.0])
    Y = draw(arrays(np.float64, (1, m), elements=labels))
    return Z, Y


@given(logits_and_labels())
def test_autodiff_dJ_dZ_of_sigmoid_cross_entropy_is_A_minus_Y_over_m(case):
    """Property 1: dZ^[L] = A - Y (hard and soft labels), with the 1/m of the mean."""
    Z, Y = case
    m = Z.shape[1]
    Z_t = tg.Tensor(Z, requires_grad=True)
    J = deep.compute_cost(activations.sigmoid(Z_t), Y)
    (dZ,) = tg.grad(J, [Z_t])
    expected = (activations.sigmoid(Z) - Y) / m
    assert (
        relative_difference(dZ.data, expected) < 1e-10 or np.abs(dZ.data - expected).max() < 1e-16
    )


@pytest.mark.parametrize("compute_cost", COSTS)
def test_cost_is_a_float_on_arrays_and_a_graph_keeping_0d_tensor_on_tensors(compute_cost):
    A, Y = np.array([[0.2, 0.7, 0.9]]), np.array([[0, 1, 1]])
    cost = compute_cost(A, Y)
    assert type(cost) is float
    assert cost == pytest.approx(-(np.log(0.8) + np.log(0.7) + np.log(0.9)) / 3)
    A_t = tg.Tensor(A, requires_grad=True)
    cost_t = compute_cost(A_t, Y)
    assert isinstance(cost_t, tg.Tensor) and cost_t.shape == () and cost_t.requires_grad
    assert float(cost_t.data) == pytest.approx(cost, rel=1e-15)
    (dA,) = tg.grad(cost_t, [A_t])
    np.testing.assert_allclose(dA.data, -(Y / A - (1 - Y) / (1 - A)) / 3, rtol=1e-12)


def test_boolean_labels_are_used_arithmetically():
    A = np.array([[0.2, 0.7, 0.9]])
    assert deep.compute_cost(A, np.array([[False, True, True]])) == deep.compute_cost(
        A, np.array([[0.0, 1.0, 1.0]])
    )


def test_a_prediction_exactly_equal_to_its_label_costs_exactly_zero():
    """Documented: 0 log 0 counts as its limit 0, so saturated correct predictions are finite."""
    A, Y = np.array([[1.0, 0.0, 0.5]]), np.array([[1.0, 0.0, 1.0]])
    assert deep.compute_cost(A, Y) == pytest.approx(math.log(2) / 3)
    assert logistic.compute_cost(np.array([[1.0, 0.0]]), np.array([[1, 0]])) == 0.0


@pytest.mark.parametrize("A, Y", [([[0.0, 0.5]], [[1, 1]]), ([[1.0, 0.5]], [[0, 0]]),
                                  ([[1.0]], [[0.5]])])  # fmt: skip
def test_a_prediction_exactly_0_or_1_against_its_label_is_a_clear_error(A, Y):
    with pytest.raises(ValueError, match="compute_cost: the cost is infinite.*examples \\[0\\]"):
        deep.compute_cost(np.array(A), np.array(Y, dtype=float))


def test_on_tensors_any_A_exactly_0_or_1_is_a_clear_error():
    A_t = tg.Tensor(np.array([[1.0, 0.3]]), requires_grad=True)
    with pytest.raises(ValueError, match="compute_cost: A is exactly 0 or 1 in examples \\[0\\]"):
        deep.compute_cost(A_t, np.array([[1.0, 0.0]]))


def test_L_model_backward_refuses_AL_exactly_0_or_1_instead_of_returning_nan():
    AL, Y = np.array([[1.0, 0.4]]), np.array([[1.0, 0.0]])
    caches = [((np.ones((2, 2)), np.ones((1, 2)), np.zeros((1, 1))), np.ones((1, 2)))]
    with pytest.raises(ValueError, match="L_model_backward: AL is exactly 0 or 1 in examples"):
        deep.L_model_backward(AL, Y, caches)


@given(
    st.integers(1, 8).flatmap(
        lambda m: st.tuples(
            arrays(np.float64, (1, m), elements=st.sampled_from([0.0, 1.0]) | st.floats(0, 1)),
            arrays(np.float64, (1, m), elements=st.sampled_from([0.0, 1.0]) | st.floats(0, 1)),
        )
    )
)
def test_the_cost_is_never_a_silent_nan_or_inf(case):
    A, Y = case
    try:
        cost = deep.compute_cost(A, Y)
    except ValueError as error:
        assert "infinite" in str(error)
        assert np.any(((A == 0) & (Y > 0)) | ((A == 1) & (Y < 1)))
    else:
        assert math.isfinite(cost) and cost >= 0


@pytest.mark.parametrize(
    "A", [np.array([[1.2, 0.5]]), np.array([[-0.1, 0.5]]), np.array([[np.nan, 0.5]])]
)
def test_predictions_outside_0_1_or_nan_get_a_clear_error(A):
    with pytest.raises(ValueError, match=r"compute_cost: A must be probabilities in \[0, 1\]"):
        deep.compute_cost(A, np.array([[1.0, 0.0]]))


def test_labels_outside_0_1_warn_and_keep_the_formula():
    A, Y = np.array([[0.5, 0.8]]), np.array([[2.0, -1.0]])
    with pytest.warns(UserWarning, match=r"compute_cost: labels Y usually lie in \[0, 1\]"):
        cost = deep.compute_cost(A, Y)
    expected = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    assert cost == pytest.approx(expected, rel=1e-12)


def test_two_layer_model_trains_on_real_valued_labels_like_the_course_part_2_test():
    # The course's part-2 test passes Y = randn(1, 10): a warning, then the same formulas.
    rng = np.random.RandomState(1)
    X, Y = rng.randn(10, 10), rng.randn(1, 10)
    with pytest.warns(UserWarning, match="labels Y usually lie in"):
        parameters, costs = deep.two_layer_model(X, Y, (10, 4, 1), num_iterations=2)
    W1, b1, W2, b2 = (
        deep.initialize_parameters(10, 4, 1, seed=1)[k] for k in ("W1", "b1", "W2", "b2")
    )
    for _ in range(2):  # the course's formulas written out
        A1 = np.maximum(0, W1 @ X + b1)
        A2 = 1 / (1 + np.exp(-(W2 @ A1 + b2)))
        dZ2 = A2 - Y
        dW2, db2 = dZ2 @ A1.T / 10, dZ2.sum(axis=1, keepdims=True) / 10
        dZ1 = (W2.T @ dZ2) * (A1 > 0)
        dW1, db1 = dZ1 @ X.T / 10, dZ1.sum(axis=1, keepdims=True) / 10
        W1, b1, W2, b2 = W1 - 0.0075 * dW1, b1 - 0.0075 * db1, W2 - 0.0075 * dW2, b2 - 0.0075 * db2
    for key, value in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        np.testing.assert_allclose(parameters[key], value, rtol=1e-9, atol=1e-15, err_msg=key)
    assert len(costs) == 1 and np.isfinite(costs[0])


@pytest.mark.parametrize("compute_cost", COSTS)
@pytest.mark.parametrize(
    "Y, shown, hint",
    [(np.ones(4), r"\(4,\)", "reshape"), (np.ones((4, 1)), r"\(4, 1\)", r"Y\.T")],
)
def test_labels_as_m_or_m_by_1_get_an_error_naming_the_course_layout(compute_cost, Y, shown, hint):
    A = np.full((1, 4), 0.5)
    with pytest.raises(ValueError) as info:
        compute_cost(A, Y)
    message = str(info.value)
    assert message.startswith("compute_cost: Y has shape")
    assert "expected (1, m)" in message and "one example per column" in message
    assert re.search(shown, message) and re.search(hint, message)


def test_predictions_as_a_column_get_a_clear_error():
    with pytest.raises(ValueError, match=r"compute_cost: A has shape \(4, 1\), expected \(1, m\)"):
        deep.compute_cost(np.full((4, 1), 0.5), np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"A has shape \(1, 3\) but Y has shape \(1, 4\)"):
        deep.compute_cost(np.full((1, 3), 0.5), np.ones((1, 4)))

"""tinygrad_dl/testing.py: the shared strategies draw what they promise (valid shapes, bounded
finite floats of the asked dtype, values away from kinks and ties) and the maps keep order."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.autograd import Op, apply
from tinygrad_dl.testing import (
    axis_keepdims,
    broadcastable_shapes,
    check_gradient,
    float_arrays,
    float_dtypes,
    matmul_shapes,
    push_away,
    shapes,
    spread_apart,
    tensors,
    weighted_sum,
)


@given(shapes(min_dims=1, max_dims=3, max_side=4))
def test_shapes_respect_their_bounds(shape):
    assert 1 <= len(shape) <= 3 and all(1 <= side <= 4 for side in shape)


@given(broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast_together(drawn):
    assert len(drawn) == 3
    np.broadcast_shapes(*drawn)


@given(matmul_shapes())
def test_matmul_shapes_are_valid_for_numpy_matmul(drawn):
    product = np.matmul(np.ones(drawn[0]), np.ones(drawn[1]))  # raises if not aligned
    assert product.ndim == max(len(drawn[0]), len(drawn[1]), 2) - (len(drawn[0]) == 1) - (
        len(drawn[1]) == 1
    )


@given(
    float_arrays(shapes(), dtype=float_dtypes(), away_from=[-1.0, 0.0, 1.0], distinct=True),
)
def test_float_arrays_are_finite_bounded_distinct_and_away_from_points(x):
    assert x.dtype in (np.float32, np.float64) and np.all(np.isfinite(x))
    # values may grow by the margin per pushed point and per rank of spreading
    assert np.all(x >= -3.0) and np.all(x <= 3.0 + 0.1 * (x.size - 1) + 0.2 * 3 + 1e-6)
    for point in (-1.0, 0.0, 1.0):
        assert np.all(np.abs(x.astype(np.float64) - point) >= 0.1 - 1e-6)
    ordered = np.sort(x.ravel().astype(np.float64))
    assert np.all(np.diff(ordered) >= 0.1 - 1e-5)


@given(float_arrays(shapes(), positive=True))
def test_positive_float_arrays_stay_at_least_the_margin_above_zero(x):
    assert np.all(x >= 0.1)


@given(st.lists(st.floats(-5, 5), min_size=1, max_size=20))
def test_push_away_keeps_order_and_clears_every_point(values):
    values = np.sort(np.array(values))
    pushed = push_away(values, [0.0, 1.0], 0.2)
    assert np.all(np.diff(pushed) >= 0)  # increasing (rounding may merge values within eps)
    assert np.all(np.abs(pushed) >= 0.2 - 1e-12) and np.all(np.abs(pushed - 1) >= 0.2 - 1e-12)


def test_push_away_refuses_points_closer_than_two_margins():
    with pytest.raises(ValueError, match="apart"):
        push_away(np.zeros(2), [0.0, 0.3], 0.2)


def test_spread_apart_keeps_order_and_separates_ties():
    values = np.array([[1.0, 0.0], [1.0, 1.0]])
    spread = spread_apart(values, 0.5)
    assert np.argmin(spread) == 1 and len(np.unique(spread)) == 4
    assert np.all(np.diff(np.sort(spread.ravel())) >= 0.5)


@given(st.data())
def test_axis_keepdims_draws_valid_numpy_reductions(data):
    x = np.ones(data.draw(shapes()))
    axis, keepdims = data.draw(axis_keepdims(x.ndim))
    reduced = np.sum(x, axis=axis, keepdims=keepdims)  # raises on an invalid axis
    assert np.sum(reduced) == x.size  # partial counts of ones add up to every element
    assert not keepdims or np.ndim(reduced) == x.ndim


@given(tensors(shapes(max_dims=2), dtype=np.float32, requires_grad=st.booleans()))
def test_tensors_are_float_tensors_of_the_asked_dtype(t):
    assert isinstance(t, tg.Tensor) and t.dtype == np.float32 and t.is_leaf


def test_weighted_sum_weights_every_element_differently_and_reproducibly():
    leaf = tg.Tensor(np.zeros((3, 4)), requires_grad=True)
    weighted_sum(leaf).backward()
    weights = leaf.grad.data
    assert len(np.unique(weights)) == weights.size and np.all(np.abs(weights) >= 0.5)
    np.testing.assert_array_equal(weighted_sum(np.ones((3, 4))), weights.sum())
    assert weighted_sum(tg.Tensor(np.ones(2, dtype=np.float32))).dtype == np.float32


# A transpose whose gradient forgets to transpose back: right shapes, wrong places.
UNTRANSPOSED = Op("untransposed", lambda x, _: x.T.copy(), lambda g, out, inputs, e, n: (g,))


def test_check_gradient_catches_a_misplaced_gradient_that_a_plain_sum_misses():
    x = np.arange(9.0).reshape(3, 3)
    # a plain sum weighs every element alike, so the misplaced gradient goes unnoticed ...
    assert tg.gradcheck(lambda t: apply(UNTRANSPOSED, [t]).sum(), [tg.Tensor(x, True)])
    # ... distinct weights expose it
    with pytest.raises(tg.GradcheckError):
        check_gradient(lambda t: apply(UNTRANSPOSED, [t]), x)
    assert check_gradient(lambda t: t.T * 2, x)

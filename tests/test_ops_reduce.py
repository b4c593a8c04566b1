"""tinygrad_dl/ops/reduce.py: every reduction over every axis/keepdims combination equals NumPy,
passes gradcheck, keeps float32; ties share the max/min gradient; the softmax family is stable."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.testing import (
    axis_keepdims,
    check_gradient,
    float_arrays,
    float_dtypes,
    shapes,
    weighted_sum,
)


def logsumexp_reference(x, axis=None, keepdims=False):
    shift = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


# name -> (tinygrad function(x, axis, keepdims), NumPy reference, float_arrays options, min_side)
REDUCTIONS = {
    "sum": (tg.sum, np.sum, {}, 1),
    "mean": (tg.mean, np.mean, {}, 1),
    "max": (tg.max, np.max, {"distinct": True}, 1),
    "min": (tg.min, np.min, {"distinct": True}, 1),
    "var": (tg.var, np.var, {}, 1),
    "var_ddof1": (
        lambda x, axis, keepdims: tg.var(x, axis=axis, ddof=1, keepdims=keepdims),
        lambda x, axis, keepdims: np.var(x, axis=axis, ddof=1, keepdims=keepdims),
        {},
        2,
    ),
    # distinct values and at least two per slice keep the variance away from 0, where sqrt has
    # no derivative
    "std": (tg.std, np.std, {"distinct": True}, 2),
    "std_ddof1": (
        lambda x, axis, keepdims: tg.std(x, axis=axis, ddof=1, keepdims=keepdims),
        lambda x, axis, keepdims: np.std(x, axis=axis, ddof=1, keepdims=keepdims),
        {"distinct": True},
        2,
    ),
    "logsumexp": (tg.logsumexp, logsumexp_reference, {}, 1),
    "method_sum": (lambda x, axis, keepdims: x.sum(axis=axis, keepdims=keepdims), np.sum, {}, 1),
    "method_mean": (lambda x, axis, keepdims: x.mean(axis, keepdims), np.mean, {}, 1),
}


def _reduction_case(data, name, max_dims=3, dtype=np.float64):
    _, _, options, min_side = REDUCTIONS[name]
    x = data.draw(
        # min_side=2 (ddof, std) needs a real axis: a 0-d array has one element.
        float_arrays(
            shapes(min_dims=min_side - 1, max_dims=max_dims, min_side=min_side),
            dtype=dtype,
            **options,
        ),
        label="x",
    )
    axis, keepdims = data.draw(axis_keepdims(x.ndim), label="axis")
    # An empty axis tuple reduces nothing: no degrees of freedom, and std = 0 has no derivative.
    if min_side == 2 and axis == ():
        axis = None
    return x, axis, keepdims


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(dtype=float_dtypes(), data=st.data())
def test_reduction_forward_equals_numpy_for_every_axis_and_keepdims(name, dtype, data):
    function, reference, _, _ = REDUCTIONS[name]
    x, axis, keepdims = _reduction_case(data, name, dtype=dtype)
    out = function(tg.Tensor(x), axis=axis, keepdims=keepdims)
    expected = reference(x.astype(np.float64), axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected) and out.dtype == dtype
    tolerance = 1e-10 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(out.data, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_gradient_matches_central_differences_for_every_axis(name, data):
    function = REDUCTIONS[name][0]
    x, axis, keepdims = _reduction_case(data, name, max_dims=3)
    assert check_gradient(lambda t: function(t, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(data=st.data())
def test_reduction_float32_gradient_stays_float32(name, data):
    function = REDUCTIONS[name][0]
    x, axis, keepdims = _reduction_case(data, name, dtype=np.float32)
    leaf = tg.Tensor(x, requires_grad=True)
    weighted_sum(function(leaf, axis=axis, keepdims=keepdims)).backward()
    assert leaf.grad.dtype == np.float32 and leaf.grad.shape == x.shape


def test_mean_gradient_is_one_over_m():
    # The course's (1/m): d mean / dx_i = 1/m for each of the m elements.
    x = tg.Tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    tg.mean(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.full((3, 4), 0.25))


# -- ties --------------------------------------------------------------------------------------
@pytest.mark.parametrize("function", [tg.max, tg.min])
def test_max_and_min_ties_share_the_gradient_equally(function):
    x = tg.Tensor(np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]]), requires_grad=True)
    function(x, axis=1).sum().backward()
    expected = (
        [[0.5, 0.0, 0.5], [1 / 3, 1 / 3, 1 / 3]]
        if function is tg.max
        else [[0.0, 1.0, 0.0], [1 / 3, 1 / 3, 1 / 3]]
    )
    np.testing.assert_allclose(x.grad.data, expected)


@pytest.mark.parametrize("function", [tg.max, tg.min])
@given(data=st.data())
def test_max_and_min_gradient_sums_to_one_per_slice_even_with_ties(function, data):
    # Small integers make ties common.
    x = data.draw(float_arrays(shapes(min_dims=1), min_value=-2, max_value=2), label="x")
    x = np.round(x)
    axis, keepdims = data.draw(axis_keepdims(x.ndim), label="axis")
    leaf = tg.Tensor(x, requires_grad=True)
    out = function(leaf, axis=axis, keepdims=keepdims)
    out.sum().backward()
    np.testing.assert_allclose(
        np.sum(leaf.grad.data, axis=axis), np.ones(np.shape(np.sum(x, axis=axis)))
    )
    assert np.all(leaf.grad.data >= 0)


# -- softmax family ----------------------------------------------------------------------------
def softmax_reference(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


SOFTMAXES = {
    "softmax": (tg.softmax, softmax_reference),
    "log_softmax": (tg.log_softmax, lambda x, axis: np.log(softmax_reference(x, axis))),
    "method_softmax": (lambda x, axis: x.softmax(axis), softmax_reference),
}


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@given(x=float_arrays(shapes(min_dims=1), dtype=float_dtypes()), data=st.data())
def test_softmax_family_forward_equals_numpy_along_any_axis(name, x, data):
    function, reference = SOFTMAXES[name]
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    out = function(tg.Tensor(x), axis=axis)
    assert out.shape == x.shape and out.dtype == x.dtype
    tolerance = 1e-12 if x.dtype == np.float64 else 1e-5
    expected = reference(x.astype(np.float64), axis)
    np.testing.assert_allclose(out.data, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("name", sorted(SOFTMAXES))
@given(x=float_arrays(shapes(min_dims=1)), data=st.data())
def test_softmax_family_gradient_matches_central_differences(name, x, data):
    function = SOFTMAXES[name][0]
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    assert check_gradient(lambda t: function(t, axis=axis), x)


def test_softmax_default_axis_is_the_last():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_allclose(tg.softmax(x).data, softmax_reference(x.data, -1))


@pytest.mark.parametrize("function", [tg.softmax, tg.log_softmax])
def test_softmax_family_float32_gradient_stays_float32(function):
    x = tg.Tensor(np.array([[0.5, -1.0, 2.0]], dtype=np.float32), requires_grad=True)
    weighted_sum(function(x, axis=1)).backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize(
    "function",
    [
        lambda z: tg.logsumexp(z, axis=1),
        lambda z: tg.log_softmax(z, axis=1),
        lambda z: tg.softmax(z, axis=1),
    ],
    ids=["logsumexp", "log_softmax", "softmax"],
)
def test_softmax_family_at_plus_minus_1000_warns_nothing_and_stays_finite(function):
    z = tg.Tensor(np.array([[-1000.0, 0.0, 1000.0], [1000.0, 1000.0, -1000.0]]), requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        out = function(z)
        weighted_sum(out).backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(z.grad.data))


def test_logsumexp_at_1000_is_exact():
    z = tg.Tensor(np.array([1000.0, 1000.0, -1000.0]))
    np.testing.assert_allclose(tg.logsumexp(z).data, 1000.0 + np.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(tg.log_softmax(z).data[:2], [-np.log(2.0)] * 2, rtol=1e-12)


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("function", [tg.sum, tg.mean, tg.max, tg.var, tg.logsumexp])
def test_axis_out_of_bounds_names_the_op_and_the_axis(function):
    with pytest.raises(ValueError, match=r"axis 2 is out of bounds"):
        function(tg.Tensor(np.ones((2, 3))), axis=2)


def test_var_without_degrees_of_freedom_is_an_error():
    with pytest.raises(ValueError, match=re.escape("ddof=1")):
        tg.var(tg.Tensor(np.ones((3, 1))), axis=1, ddof=1)


def test_max_of_an_empty_tensor_names_its_shape():
    with pytest.raises(ValueError, match=re.escape("(0, 3)")):
        tg.max(tg.Tensor(np.ones((0, 3))))


@pytest.mark.parametrize("axis", [1.5, "0", (0, 1.0)])
def test_non_integer_axis_is_a_type_error_naming_the_op(axis):
    with pytest.raises(TypeError, match="sum: axis must be an int"):
        tg.sum(tg.Tensor(np.ones((2, 3))), axis=axis)

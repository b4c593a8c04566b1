"""tinygrad_dl/ops/reduce.py: every reduction over every axis/keepdims combination equals NumPy,
passes gradcheck, keeps float32; ties share the max/min gradient; the softmax family is stable."""

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
from tinygrad_dl.ops import reduce
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
    "prod": (reduce.prod, np.prod, {}, 1),
    "np.prod": (lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims), np.prod, {}, 1),
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


def test_var_without_degrees_of_freedom_warns_and_is_nan_as_numpy_and_torch():
    # PyTorch and NumPy give NaN (0/0) with a warning; an error would break a zero-size batch.
    with pytest.warns(RuntimeWarning, match=re.escape("ddof=1")):
        out = tg.var(tg.Tensor(np.ones((3, 1))), axis=1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(np.ones((3, 1)), axis=1, ddof=1)
    np.testing.assert_array_equal(out.data, expected)
    with pytest.warns(RuntimeWarning, match="0 element"):
        empty = tg.Tensor(np.ones((1, 0, 3, 0, 5))).var(axis=(1, 3))
    assert empty.shape == (1, 3, 5) and np.isnan(empty.data).all()


def test_max_of_an_empty_tensor_names_its_shape():
    with pytest.raises(ValueError, match=re.escape("(0, 3)")):
        tg.max(tg.Tensor(np.ones((0, 3))))


@pytest.mark.parametrize("axis", [1.5, "0", (0, 1.0)])
def test_non_integer_axis_is_a_type_error_naming_the_op(axis):
    with pytest.raises(TypeError, match="sum: axis must be an int"):
        tg.sum(tg.Tensor(np.ones((2, 3))), axis=axis)


# -- prod, with zeros -------------------------------------------------------------------------
def _with_zeros(x):
    """Values within 1 of 0 set to 0: slices with no, one and several zeros all occur."""
    return np.where(np.abs(x) < 1, 0.0, x)


@needs_torch
@given(x=float_arrays(shapes(min_dims=1)), data=st.data())
def test_prod_with_zeros_matches_torch_along_any_single_axis_or_all(x, data):
    x = _with_zeros(x)
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="axis")
    mine = run_ours(lambda t: np.prod(t, axis=axis), x)
    theirs = run_torch(lambda t: torch.prod(t) if axis is None else torch.prod(t, dim=axis), x)
    assert_same(mine, theirs, x=x, axis=axis)


@needs_torch
@pytest.mark.parametrize(
    "x, axis",
    [
        ([0.0, 2.0, 3.0], None),  # one zero: it gets the product of the others
        ([0.0, 0.0, 3.0], None),  # two zeros: every gradient 0
        ([[0.0, 2.0, 3.0], [1.0, 0.0, 0.0], [1.0, 2.0, 3.0]], 1),  # per row: one, two, none
        ([[0.0, 2.0], [0.0, 5.0]], 0),
    ],
    ids=["one zero", "two zeros", "rows", "columns"],
)
def test_prod_gradient_at_zeros_is_the_product_of_the_others_as_torch(x, axis):
    x = np.array(x)
    mine = run_ours(lambda t: np.prod(t, axis=axis), x)
    theirs = run_torch(lambda t: torch.prod(t) if axis is None else torch.prod(t, dim=axis), x)
    assert_same(mine, theirs, x=x, axis=axis)


@given(x=float_arrays(shapes(min_dims=1, max_dims=2)), data=st.data())
def test_prod_with_zeros_over_axis_tuples_matches_central_differences(x, data):
    x = _with_zeros(x)
    axis, keepdims = data.draw(axis_keepdims(x.ndim), label="axis")
    assert check_gradient(lambda t: np.prod(t, axis=axis, keepdims=keepdims), x)


@given(x=float_arrays(shapes(max_dims=2), away_from=0.0), data=st.data())
def test_prod_second_derivatives_match_central_differences(x, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-max(x.ndim, 1), max(x.ndim - 1, 0))))
    axis = None if x.ndim == 0 else axis
    assert tg.gradgradcheck(lambda t: np.prod(t, axis=axis), [tg.Tensor(x, requires_grad=True)])


ZEROS_3x3 = np.array([[0.0, 2.0, -1.5], [0.0, 0.0, 3.0], [1.2, 0.0, 0.5]])


@pytest.mark.parametrize(
    "function",
    [
        lambda t: np.prod(t),
        lambda t: np.prod(t, axis=1),
        lambda t: np.prod(t, axis=0, keepdims=True),
        lambda t: np.prod(t, axis=(0, 1)),
        lambda t: np.cumprod(t),
        lambda t: np.cumprod(t, axis=0),
        lambda t: np.cumprod(t, axis=1),
    ],
    ids=["prod", "prod axis 1", "prod axis 0", "prod (0, 1)", "cumprod", "cumprod 0", "cumprod 1"],
)
def test_prod_and_cumprod_second_derivatives_at_one_and_two_zeros(function):
    # Rows hold one, two and one zeros; at a zero the first derivative is a smooth polynomial,
    # so central differences of it check the second derivative exactly.
    for x in (ZEROS_3x3, ZEROS_3x3[:2], np.array([[0.0, 0.0], [0.0, 2.0]])):
        assert tg.gradgradcheck(function, [tg.Tensor(x, requires_grad=True)])


@needs_torch
def test_prod_second_derivative_at_zeros_matches_torch():
    x = ZEROS_3x3
    leaf = tg.Tensor(x, requires_grad=True)
    (first,) = tg.grad(np.prod(leaf, axis=1).sum(), [leaf], create_graph=True)
    (second,) = tg.grad((first * first).sum(), [leaf])
    theirs = torch.tensor(x, requires_grad=True)
    (first_t,) = torch.autograd.grad(theirs.prod(dim=1).sum(), theirs, create_graph=True)
    (second_t,) = torch.autograd.grad((first_t * first_t).sum(), theirs)
    np.testing.assert_allclose(first.data, first_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(second.data, second_t.numpy(), rtol=1e-12)


# -- cumsum, cumprod --------------------------------------------------------------------------
def _torch_running(name, axis):
    def run(t):
        return getattr(torch, name)(
            t.flatten() if axis is None else t, dim=0 if axis is None else axis
        )

    return run


@needs_torch
@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@given(x=float_arrays(shapes(min_dims=1)), zeros=st.booleans(), data=st.data())
def test_cumsum_and_cumprod_match_torch_along_any_axis_with_zeros(name, x, zeros, data):
    x = _with_zeros(x) if zeros else x
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="axis")
    mine = run_ours(lambda t: getattr(np, name)(t, axis=axis), x)
    assert_same(mine, run_torch(_torch_running(name, axis), x), x=x, axis=axis)


@needs_torch
def test_cumprod_gradient_with_zeros_matches_torch_exactly():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    mine = run_ours(lambda t: np.cumprod(t), x)
    assert_same(mine, run_torch(_torch_running("cumprod", 0), x))
    leaf = tg.Tensor(x, requires_grad=True)
    np.cumprod(leaf).sum().backward()
    np.testing.assert_array_equal(leaf.grad.data, [1.0, 8.0, 0.0, 0.0, 0.0])


@needs_autograd
@given(x=float_arrays(shapes(min_dims=1)), data=st.data())
def test_cumsum_matches_autograd(x, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="axis")
    theirs = run_autograd(lambda v: anp.cumsum(v, axis=axis), x)
    assert_same(run_ours(lambda t: np.cumsum(t, axis=axis), x), theirs, x=x, axis=axis)


@pytest.mark.parametrize("name", ["cumsum", "cumprod"])
@given(x=float_arrays(shapes(min_dims=1, max_dims=2), away_from=0.0), data=st.data())
def test_cumsum_and_cumprod_first_and_second_derivatives(name, x, data):
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="axis")
    function = lambda t: getattr(np, name)(t, axis=axis)  # noqa: E731
    assert check_gradient(function, x)
    assert tg.gradgradcheck(function, [tg.Tensor(x, requires_grad=True)])


def test_cumsum_of_a_0d_tensor_along_axis_0_is_the_value_and_numpy_shape_otherwise():
    x = tg.Tensor(np.array(2.5), requires_grad=True)
    assert np.cumsum(x, axis=0).shape == () and np.cumsum(x).shape == (1,)
    np.cumprod(x, axis=-1).backward()
    assert x.grad.item() == 1.0


# -- diff --------------------------------------------------------------------------------------
@needs_torch
@given(
    x=float_arrays(shapes(min_dims=1, min_side=2)),
    n=st.integers(0, 3),
    edges=st.sampled_from(["none", "prepend", "append", "both"]),
    data=st.data(),
)
def test_diff_matches_numpy_and_torch_with_prepend_and_append(x, n, edges, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    edge_shape = x.shape[: axis % x.ndim] + (2,) + x.shape[axis % x.ndim + 1 :]
    extra = {}
    if edges in ("prepend", "both"):
        extra["prepend"] = np.full(edge_shape, 0.5)
    if edges in ("append", "both"):
        extra["append"] = np.full(edge_shape, -1.5)
    mine = run_ours(lambda t: np.diff(t, n=n, axis=axis, **extra), x)
    np.testing.assert_allclose(mine[0], np.diff(x, n=n, axis=axis, **extra), rtol=1e-12)

    def torch_diff(t):
        if n == 0:
            return t * 1
        as_torch = {k: torch.as_tensor(v) for k, v in extra.items()}
        return torch.diff(t, n=n, dim=axis, **as_torch)

    assert_same(mine, run_torch(torch_diff, x), x=x, n=n, axis=axis, edges=edges)


@given(x=float_arrays(shapes(min_dims=1, max_dims=2, min_side=2)), n=st.integers(1, 2))
def test_diff_second_derivatives_hold_and_scalar_edges_broadcast(x, n):
    function = lambda t: np.diff(t * t, n=n, axis=0, prepend=1.0, append=0)  # noqa: E731
    assert np.diff(tg.Tensor(x), n=n, axis=0, prepend=1.0, append=0).shape == (
        np.diff(x, n=n, axis=0, prepend=1.0, append=0).shape
    )
    assert tg.gradgradcheck(function, [tg.Tensor(x, requires_grad=True)])


def test_diff_sends_gradient_to_a_tensor_prepend():
    x = tg.Tensor(np.array([1.0, 4.0, 9.0]), requires_grad=True)
    first = tg.Tensor(np.array(0.5), requires_grad=True)
    (np.diff(x, prepend=first) * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(first.grad.data, -1.0)
    np.testing.assert_array_equal(x.grad.data, [1.0 - 2.0, 2.0 - 3.0, 3.0])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: np.diff(tg.Tensor(np.array(1.0))), "0-d"),
        (lambda: np.diff(tg.Tensor(np.ones(3)), n=-1), "non-negative"),
        (lambda: np.diff(tg.Tensor(np.ones(3)), axis=1), "axis 1 is out of bounds"),
    ],
)
def test_diff_errors_name_the_op_and_the_problem(call, message):
    with pytest.raises(ValueError, match="diff: .*" + message):
        call()


# -- std/var at zero spread, 0-d tensors ------------------------------------------------------
@needs_torch
@pytest.mark.parametrize(
    "x, axis",
    [
        ([[1.0, 2.0], [1.0, 3.0]], 0),  # a constant column
        ([5.0], None),  # one element, ddof=0
        ([[2.0, 2.0, 2.0]], 1),
        ([[2.0, 2.0, 2.0]], None),
    ],
)
def test_std_gradient_at_zero_spread_is_zero_as_torch_not_nan(x, axis):
    x = np.array(x)
    dims = tuple(range(x.ndim)) if axis is None else axis
    for ddof in (0, 1) if x.size > 1 else (0,):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            mine = run_ours(lambda t, ddof=ddof: np.std(t, axis=axis, ddof=ddof), x)
        theirs = run_torch(lambda t, ddof=ddof: torch.std(t, dim=dims, correction=ddof), x)
        assert_same(mine, theirs, x=x, ddof=ddof)
        assert np.all(np.isfinite(mine[1][0]))


@given(x=float_arrays(shapes(min_dims=1)), data=st.data())
def test_std_second_derivatives_match_central_differences(x, data):
    x = x + np.arange(x.size).reshape(x.shape)  # distinct: away from zero spread
    axis = data.draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)), label="axis")
    assert tg.gradgradcheck(lambda t: np.std(t, axis=axis), [tg.Tensor(x, requires_grad=True)])


ZERO_D = {
    "sum": (lambda t, axis: t.sum(axis), lambda t, axis: t.sum(axis)),
    "mean": (lambda t, axis: np.mean(t, axis=axis), lambda t, axis: t.mean(axis)),
    "max": (lambda t, axis: t.max(axis), lambda t, axis: t.amax(axis)),
    "min": (lambda t, axis: np.min(t, axis=axis), lambda t, axis: t.amin(axis)),
    "prod": (lambda t, axis: np.prod(t, axis=axis), lambda t, axis: t.prod(axis)),
    "var": (lambda t, axis: t.var(axis), lambda t, axis: t.var(axis, correction=0)),
    "std": (lambda t, axis: np.std(t, axis=axis), lambda t, axis: t.std(axis, correction=0)),
    "logsumexp": (lambda t, axis: tg.logsumexp(t, axis), lambda t, axis: t.logsumexp(axis)),
    "softmax": (lambda t, axis: tg.softmax(t, axis), lambda t, axis: t.softmax(axis)),
    "log_softmax": (
        lambda t, axis: tg.log_softmax(t, axis),
        lambda t, axis: t.log_softmax(axis),
    ),
}


@needs_torch
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("name", sorted(ZERO_D))
def test_reductions_of_a_0d_tensor_along_axis_0_or_minus_1_match_torch(name, axis):
    # NumPy raises AxisError here; PyTorch returns the value itself, and so do we.
    ours, theirs = ZERO_D[name]
    x = np.array(1.5)
    mine = run_ours(lambda t: ours(t, axis), x)
    assert mine[0].shape == ()
    assert_same(mine, run_torch(lambda t: theirs(t, axis), x), name=name, axis=axis)


@pytest.mark.parametrize("name", sorted(ZERO_D))
def test_reductions_of_a_0d_tensor_along_axis_1_name_the_op(name):
    with pytest.raises(ValueError, match="axis 1 is out of bounds for a 0-d"):
        ZERO_D[name][0](tg.Tensor(np.array(1.5)), 1)


@needs_torch
@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("dim", [0, -1])
def test_max_and_min_of_a_0d_tensor_with_dim_give_values_and_index_as_torch(name, dim):
    x = tg.Tensor(np.array(2.5), requires_grad=True)
    values, indices = getattr(x, name)(dim=dim)
    expected = getattr(torch.tensor(2.5), name)(dim=dim)
    assert values.shape == () and values.item() == expected.values.item()
    assert indices.item() == expected.indices.item() == 0
    values.backward()
    assert x.grad.item() == 1.0

"""tinygrad_dl/ops/grids.py: ``np.gradient`` and ``np.linspace`` on Tensors equal NumPy, and their
gradients pass gradcheck and match PyTorch's ``torch.gradient``."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.testing import check_gradient, float_arrays, shapes, weighted_sum

try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None


@st.composite
def gradient_cases(draw):
    """Sampled values, an axis choice, spacings in each of NumPy's forms, and an edge order."""
    edge_order = draw(st.sampled_from([1, 2]))
    f = draw(float_arrays(shapes(min_dims=1, max_dims=3, min_side=edge_order + 1, max_side=5)))
    axis = draw(st.one_of(st.none(), st.integers(-f.ndim, f.ndim - 1)))
    axes = range(f.ndim) if axis is None else [axis % f.ndim]
    form = draw(st.sampled_from(["none", "scalar", "per axis"]))
    if form == "none":
        spacing = ()
    elif form == "scalar":
        spacing = (draw(st.sampled_from([0.5, 2.0])),)
    else:
        spacing = []
        for a in axes:
            if draw(st.booleans()):
                spacing.append(draw(st.sampled_from([0.25, 3.0])))
            else:  # increasing coordinates, unevenly spaced
                steps = draw(float_arrays((f.shape[a] - 1,), min_value=0.2, max_value=2.0))
                spacing.append(np.concatenate([[0.0], np.cumsum(steps)]))
        spacing = tuple(spacing)
    return f, spacing, axis, edge_order


def as_list(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


@given(gradient_cases())
def test_np_gradient_on_a_tensor_equals_numpy_and_passes_gradcheck(case):
    f, spacing, axis, edge_order = case
    ours = as_list(np.gradient(tg.Tensor(f), *spacing, axis=axis, edge_order=edge_order))
    expected = as_list(np.gradient(f, *spacing, axis=axis, edge_order=edge_order))
    assert len(ours) == len(expected)
    for mine, theirs in zip(ours, expected, strict=True):
        np.testing.assert_allclose(mine.data, theirs, rtol=1e-10, atol=1e-12)

    def stacked(t):
        parts = as_list(np.gradient(t, *spacing, axis=axis, edge_order=edge_order))
        return tg.stack(parts)

    assert check_gradient(stacked, f)


@pytest.mark.skipif(torch is None, reason="torch not installed: pip install torch")
@given(
    f=float_arrays(shapes(min_dims=2, max_dims=2, min_side=3, max_side=5)),
    edge_order=st.sampled_from([1, 2]),
    spacing=st.sampled_from([1.0, 0.5]),
)
def test_np_gradient_values_and_gradients_match_torch_gradient(f, edge_order, spacing):
    leaf = tg.Tensor(f, requires_grad=True)
    ours = np.gradient(leaf, spacing, edge_order=edge_order)
    weighted_sum(tg.stack(ours)).backward()
    reference = torch.tensor(f, requires_grad=True)
    theirs = torch.gradient(reference, spacing=spacing, edge_order=edge_order)
    weighted_sum(torch.stack(theirs)).backward()
    for mine, expected in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(leaf.grad.data, reference.grad.numpy(), rtol=1e-12)


def test_np_gradient_with_tensor_coordinates_is_differentiable_in_them():
    coordinates = np.array([0.0, 1.0, 1.5, 3.5, 4.0, 6.0])
    f = np.array([1.0, 2.0, 4.0, 7.0, 11.0, 16.0])
    out = np.gradient(tg.Tensor(f), tg.Tensor(coordinates))
    np.testing.assert_allclose(out.data, np.gradient(f, coordinates))
    assert check_gradient(lambda t, x: np.gradient(t, x, edge_order=2), f, coordinates)


def test_np_gradient_of_too_few_samples_says_how_many_are_needed():
    with pytest.raises(ValueError, match=re.escape("needs at least 3 samples")):
        np.gradient(tg.Tensor(np.ones(2)), edge_order=2)


@given(
    start=float_arrays(st.sampled_from([(), (2,)])),
    stop=float_arrays(()),
    num=st.integers(0, 6),
    endpoint=st.booleans(),
)
def test_linspace_with_tensor_endpoints_equals_numpy_and_its_gradient_flows_to_both(
    start, stop, num, endpoint
):
    out = np.linspace(tg.Tensor(start), tg.Tensor(stop), num, endpoint=endpoint)
    np.testing.assert_allclose(out.data, np.linspace(start, stop, num, endpoint=endpoint))
    if num:
        assert check_gradient(
            lambda a, b: np.linspace(a, b, num, endpoint=endpoint, axis=-1), start, stop
        )


def test_linspace_gradient_is_one_minus_t_for_start_and_t_for_stop():
    start = tg.Tensor(1.0, requires_grad=True)
    stop = tg.Tensor(3.0, requires_grad=True)
    samples, step = np.linspace(start, stop, 5, retstep=True)
    np.testing.assert_allclose(step.data, 0.5)
    samples.backward(np.ones(5))
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose(start.grad.data, np.sum(1 - t))
    np.testing.assert_allclose(stop.grad.data, np.sum(t))


def test_linspace_with_an_integer_dtype_is_outside_the_graph():
    out = np.linspace(tg.Tensor(0.0, requires_grad=True), 5.0, 4, dtype=int)
    assert out.dtype.kind == "i" and not out.requires_grad
    np.testing.assert_array_equal(out.data, np.linspace(0.0, 5.0, 4, dtype=int))

"""Tests for the layers of tinygrad_dl/nn/layers.py added for PyTorch habits: each is run next to
its PyTorch twin with the same state, and values and gradients must agree."""

import numpy as np
import pytest
from hypothesis import given
from torch_twins import assert_module_matches, import_torch

import tinygrad_dl as tg
from tinygrad_dl import nn
from tinygrad_dl.testing import float_arrays, shapes


def _twins():
    torch = import_torch()
    tnn = torch.nn
    return [
        (nn.Flatten(), tnn.Flatten(), (2, 3, 4, 5)),
        (nn.Flatten(0, 2), tnn.Flatten(0, 2), (2, 3, 4, 5)),
        (nn.Unflatten(1, (2, 6)), tnn.Unflatten(1, (2, 6)), (3, 12)),
        (nn.Identity(), tnn.Identity(), (3, 4)),
        (nn.Softmax(dim=1), tnn.Softmax(dim=1), (3, 4, 2)),
        (nn.Softmax(dim=-1), tnn.Softmax(dim=-1), (3, 4)),
        (nn.LogSoftmax(dim=1), tnn.LogSoftmax(dim=1), (3, 4, 2)),
        (nn.GELU(), tnn.GELU(), (3, 4)),
        (nn.GELU(approximate="tanh"), tnn.GELU(approximate="tanh"), (3, 4)),
        (nn.SiLU(), tnn.SiLU(), (3, 4)),
        (nn.ELU(), tnn.ELU(), (3, 4)),
        (nn.ELU(alpha=0.5), tnn.ELU(alpha=0.5), (3, 4)),
        (nn.Softplus(), tnn.Softplus(), (3, 4)),
        (nn.Softplus(beta=2.0, threshold=1.5), tnn.Softplus(beta=2.0, threshold=1.5), (3, 4)),
        (nn.Hardtanh(), tnn.Hardtanh(), (3, 4)),
        (nn.Hardtanh(-0.5, 2.0), tnn.Hardtanh(-0.5, 2.0), (3, 4)),
    ]


@pytest.mark.parametrize("index", range(16))
def test_layer_matches_torch_in_value_and_gradient(index):
    ours, theirs, shape = _twins()[index]
    x = np.random.default_rng(index).standard_normal(shape) * 3
    assert_module_matches(ours, theirs, x)


@given(float_arrays(shapes(min_dims=1), min_value=-30, max_value=30))
def test_activations_match_torch_over_a_wide_range(x):
    torch = import_torch()
    for ours, theirs in [
        (nn.GELU(), torch.nn.GELU()),
        (nn.ELU(), torch.nn.ELU()),
        (nn.Softplus(beta=0.5, threshold=5), torch.nn.Softplus(beta=0.5, threshold=5)),
        (nn.SiLU(), torch.nn.SiLU()),
    ]:
        assert_module_matches(ours, theirs, x)


def test_elu_does_not_overflow_for_large_inputs():
    x = tg.Tensor(np.array([1000.0, -1000.0]), requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        nn.ELU()(x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1.0, 0.0])


def test_embedding_matches_torch_and_padding_row_gets_no_gradient():
    torch = import_torch()
    ours = nn.Embedding(6, 3, padding_idx=2, rng=0)
    np.testing.assert_array_equal(ours.weight.data[2], 0.0)
    with tg.no_grad():
        ours.weight[2] = 1.5  # a non-zero padding row keeps its value but learns nothing
    index = np.array([[0, 2, 5, 2], [1, 1, 2, 4]])
    assert_module_matches(ours, torch.nn.Embedding(6, 3, padding_idx=2), index)
    np.testing.assert_array_equal(ours.weight.grad.data[2], 0.0)
    assert ours.weight.grad.data[1].any()


def test_embedding_errors_name_the_range():
    layer = nn.Embedding(4, 2, rng=0)
    with pytest.raises(IndexError, match=r"indices must be in \[0, 3\].*from 0 to 4"):
        layer(np.array([0, 4]))
    with pytest.raises(TypeError, match="indices must be integers"):
        layer(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="padding_idx 5 out of range"):
        nn.Embedding(4, 2, padding_idx=5)


def test_dropout2d_zeros_whole_channels_and_scales_the_rest():
    x = tg.Tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    layer = nn.Dropout2d(0.5, rng=0)
    out = layer(x).data
    per_channel = out.reshape(8, 16, -1)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == 2.0).all(axis=2))
    assert 0.3 < (per_channel[:, :, 0] == 0).mean() < 0.7
    layer.eval()
    assert layer(x) is x


def test_flatten_and_unflatten_errors():
    with pytest.raises(ValueError, match="Unflatten: axis 1 of size 12 cannot become"):
        nn.Unflatten(1, (5, 2))(np.zeros((3, 12)))
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        nn.Flatten(2, 1)(np.zeros((2, 3, 4)))


def test_inplace_flags_are_accepted_and_compute_the_same_values():
    x = np.random.default_rng(0).standard_normal((3, 4))
    for inplace, plain in [
        (nn.ReLU(inplace=True), nn.ReLU()),
        (nn.LeakyReLU(0.2, inplace=True), nn.LeakyReLU(0.2)),
        (nn.ELU(inplace=True), nn.ELU()),
        (nn.SiLU(inplace=True), nn.SiLU()),
        (nn.Hardtanh(inplace=True), nn.Hardtanh()),
        (nn.Dropout(0.5, inplace=True).eval(), nn.Identity()),
    ]:
        before = x.copy()
        np.testing.assert_array_equal(inplace(tg.Tensor(x)).data, plain(tg.Tensor(x)).data)
        np.testing.assert_array_equal(x, before)  # the input is never overwritten

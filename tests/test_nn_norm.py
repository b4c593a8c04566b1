"""Tests for tinygrad_dl/nn/norm.py: LayerNorm and BatchNorm against PyTorch, running statistics
through train()/eval() included."""

import numpy as np
import pytest
from torch_twins import assert_module_matches, import_torch

import tinygrad_dl as tg
from tinygrad_dl import nn
from tinygrad_dl.testing import check_gradient


def _randomise(module, seed):
    rng = np.random.default_rng(seed)
    for p in module.parameters():
        p.data[...] = rng.standard_normal(p.shape)
    return module


@pytest.mark.parametrize(
    "shape, normalized, affine, bias",
    [((4, 5), 5, True, True), ((2, 3, 4), (3, 4), True, False), ((3, 6), 6, False, False)],
)
def test_layer_norm_matches_torch(shape, normalized, affine, bias):
    torch = import_torch()
    ours = _randomise(nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias), 0)
    theirs = torch.nn.LayerNorm(normalized, elementwise_affine=affine, bias=bias)
    assert_module_matches(ours, theirs, np.random.default_rng(1).standard_normal(shape) * 2 + 1)


@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize(
    "kind, shape",
    [("BatchNorm1d", (6, 3)), ("BatchNorm1d", (4, 3, 5)), ("BatchNorm2d", (4, 3, 2, 5))],
)
def test_batch_norm_matches_torch_over_steps_in_train_and_eval(kind, shape, momentum):
    torch = import_torch()
    ours = _randomise(getattr(nn, kind)(3, momentum=momentum, eps=1e-3), 2)
    theirs = getattr(torch.nn, kind)(3, momentum=momentum, eps=1e-3).double()
    rng = np.random.default_rng(3)
    for step in range(3):
        ours.zero_grad()
        theirs.zero_grad()
        assert_module_matches(ours, theirs, rng.standard_normal(shape) * 2 + step)
    assert int(ours.num_batches_tracked.data) == 3
    running_mean = ours.running_mean.data.copy()
    ours.eval()
    ours.zero_grad()
    theirs.zero_grad()
    assert_module_matches(ours, theirs, rng.standard_normal(shape))
    np.testing.assert_array_equal(ours.running_mean.data, running_mean)  # eval changes nothing


@pytest.mark.parametrize("affine, track", [(False, True), (True, False), (False, False)])
def test_batch_norm_without_affine_or_running_stats_matches_torch(affine, track):
    torch = import_torch()
    ours = nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    theirs = torch.nn.BatchNorm2d(2, affine=affine, track_running_stats=track)
    x = np.random.default_rng(4).standard_normal((3, 2, 2, 2))
    assert_module_matches(ours, theirs, x)
    ours.eval()
    assert_module_matches(ours, theirs, x)


def test_batch_norm_state_dict_has_torchs_keys_and_loads_from_torch():
    torch = import_torch()
    ours = nn.Sequential(nn.Conv2d(1, 2, 3, rng=0), nn.BatchNorm2d(2))
    keys = [
        "0.weight",
        "0.bias",
        "1.weight",
        "1.bias",
        "1.running_mean",
        "1.running_var",
        "1.num_batches_tracked",
    ]
    assert list(ours.state_dict()) == keys
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2)).double()
    theirs(torch.randn(4, 1, 5, 5, dtype=torch.float64))  # move the running statistics
    assert list(theirs.state_dict()) == keys
    ours.load_state_dict(theirs.state_dict())
    np.testing.assert_array_equal(ours[1].running_var.data, theirs[1].running_var.numpy())
    assert int(ours[1].num_batches_tracked.data) == 1


def test_batch_norm_gradient_passes_gradcheck_and_errors_are_clear():
    layer = _randomise(nn.BatchNorm1d(3), 5)
    x = np.random.default_rng(6).standard_normal((4, 3))
    assert check_gradient(lambda t: layer(t), x)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        layer(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(3\).*3 channels in axis 1.*\(4, 2\)"):
        layer(np.zeros((4, 2)))


def test_layer_norm_rejects_a_mismatched_shape():
    with pytest.raises(ValueError, match=r"does not end in normalized_shape \(4,\)"):
        nn.LayerNorm(4)(tg.Tensor(np.zeros((2, 3))))


def test_functional_batch_norm_updates_plain_array_statistics_as_torch():
    torch = import_torch()
    x = np.random.default_rng(7).standard_normal((5, 3, 2))
    ours_mean, ours_var = np.zeros(3), np.ones(3)
    theirs_mean, theirs_var = (
        torch.zeros(3, dtype=torch.float64),
        torch.ones(3, dtype=torch.float64),
    )
    out = nn.functional.batch_norm(x, ours_mean, ours_var, training=True, momentum=0.3)
    expected = torch.nn.functional.batch_norm(
        torch.tensor(x), theirs_mean, theirs_var, training=True, momentum=0.3
    )
    np.testing.assert_allclose(out.data, expected.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours_mean, theirs_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours_var, theirs_var.numpy(), rtol=1e-12)

"""Tests for tinygrad_dl/nn/spatial.py: Conv1d, Conv2d and the pooling layers next to their
PyTorch twins (same state dict keys, shapes, values and gradients)."""

import numpy as np
import pytest
from torch_twins import assert_module_matches, import_torch

from tinygrad_dl import nn


def _cases():
    torch = import_torch()
    tnn = torch.nn
    return [
        (nn.Conv2d(3, 4, 3, rng=0), tnn.Conv2d(3, 4, 3), (2, 3, 6, 5)),
        (
            nn.Conv2d(
                4, 6, (2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2, rng=1
            ),
            tnn.Conv2d(4, 6, (2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1), groups=2),
            (2, 4, 7, 6),
        ),
        (
            nn.Conv2d(2, 3, 3, padding="same", bias=False, rng=2),
            tnn.Conv2d(2, 3, 3, padding="same", bias=False),
            (1, 2, 5, 5),
        ),
        (
            nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect", rng=3),
            tnn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
            (2, 2, 5, 4),
        ),
        (
            nn.Conv2d(2, 3, 3, padding=1, padding_mode="circular", rng=3),
            tnn.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
            (2, 2, 5, 4),
        ),
        (
            nn.Conv1d(3, 4, 3, stride=2, padding=1, rng=4),
            tnn.Conv1d(3, 4, 3, stride=2, padding=1),
            (2, 3, 9),
        ),
        (
            nn.Conv1d(4, 4, 2, dilation=2, groups=4, rng=5),
            tnn.Conv1d(4, 4, 2, dilation=2, groups=4),
            (2, 4, 8),
        ),
        (nn.MaxPool2d(2), tnn.MaxPool2d(2), (2, 3, 6, 6)),
        (
            nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
            tnn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
            (2, 3, 8, 7),
        ),
        (nn.AvgPool2d(2), tnn.AvgPool2d(2), (2, 3, 6, 6)),
        (
            nn.AvgPool2d(3, 2, 1, count_include_pad=False),
            tnn.AvgPool2d(3, 2, 1, count_include_pad=False),
            (2, 3, 7, 6),
        ),
        (nn.AdaptiveAvgPool2d((2, 3)), tnn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8)),
        (nn.AdaptiveAvgPool2d(1), tnn.AdaptiveAvgPool2d(1), (2, 3, 4, 4)),
    ]


@pytest.mark.parametrize("index", range(13))
def test_spatial_layer_matches_torch(index):
    ours, theirs, shape = _cases()[index]
    x = np.random.default_rng(index).standard_normal(shape)
    assert_module_matches(ours, theirs, x)


def test_conv2d_parameters_have_torchs_names_shapes_and_init_bound():
    layer = nn.Conv2d(4, 6, (3, 2), groups=2, rng=0)
    assert {k: v.shape for k, v in layer.state_dict().items()} == {
        "weight": (6, 2, 3, 2),
        "bias": (6,),
    }
    bound = 1 / np.sqrt(2 * 3 * 2)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(layer.bias.data).max() <= bound
    assert np.abs(layer.weight.data).max() > 0.8 * bound


def test_a_small_cnn_state_dict_loads_from_pytorch_and_predicts_the_same():
    torch = import_torch()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(4 * 4 * 4, 10),
    )
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10)
    )
    ours.load_state_dict(theirs.state_dict(), dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8))
    expected = theirs.double()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(ours(x).data, expected, rtol=1e-10, atol=1e-12)


def test_conv_layer_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"in_channels \(3\) and out_channels \(4\).*groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode must be"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 2, 5, 5\) with 2 channels"):
        nn.Conv2d(3, 4, 3, rng=0)(np.zeros((1, 2, 5, 5)))


def test_reprs_read_as_pytorchs():
    torch = import_torch()
    tnn = torch.nn
    pairs = [
        (nn.Conv2d(1, 32, 3, padding=1), tnn.Conv2d(1, 32, 3, padding=1)),
        (
            nn.Conv2d(
                4, 6, (2, 3), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, bias=False
            ),
            tnn.Conv2d(
                4, 6, (2, 3), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, bias=False
            ),
        ),
        (nn.Conv1d(3, 4, 3, stride=2), tnn.Conv1d(3, 4, 3, stride=2)),
        (nn.MaxPool2d(2), tnn.MaxPool2d(2)),
        (nn.BatchNorm2d(3), tnn.BatchNorm2d(3)),
        (nn.BatchNorm1d(3, affine=False), tnn.BatchNorm1d(3, affine=False)),
        (nn.LayerNorm(3, bias=False), tnn.LayerNorm(3, bias=False)),
        (nn.Embedding(3, 2), tnn.Embedding(3, 2)),
        (nn.Flatten(), tnn.Flatten()),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        assert list(ours.state_dict()) == list(theirs.state_dict())

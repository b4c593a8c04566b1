"""Tests for tinygrad_dl/nn/utils.py: gradient clipping and parameter vectors against PyTorch."""

import math

import numpy as np
import pytest
from torch_twins import import_torch

import tinygrad_dl as tg
from tinygrad_dl import nn


def _with_grads(seed, scale=3.0):
    rng = np.random.default_rng(seed)
    params = [nn.Parameter(rng.standard_normal(s)) for s in [(3, 2), (4,), (1,)]]
    for p in params:
        p.grad = tg.Tensor(rng.standard_normal(p.shape) * scale)
    return params


def _torch_copies(torch, params):
    copies = [torch.nn.Parameter(torch.tensor(p.data)) for p in params]
    for c, p in zip(copies, params):
        c.grad = torch.tensor(p.grad.data)
    return copies


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    torch = import_torch()
    ours = _with_grads(0)
    theirs = _torch_copies(torch, ours)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total.item() == pytest.approx(expected.item(), rel=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.data, b.grad.numpy(), rtol=1e-12)


def test_clip_grad_norm_skips_missing_gradients_and_can_refuse_nan():
    params = _with_grads(1)
    params[1].grad = None
    expected = math.sqrt(sum(float((p.grad.data**2).sum()) for p in (params[0], params[2])))
    total = nn.utils.clip_grad_norm_(params, 1.0)
    assert total.item() == pytest.approx(expected, rel=1e-12)
    assert params[1].grad is None
    clipped = math.sqrt(sum(float((p.grad.data**2).sum()) for p in (params[0], params[2])))
    assert clipped == pytest.approx(1.0, rel=1e-5)
    params[0].grad.data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="total norm of order 2.0 .* is nan"):
        nn.utils.clip_grad_norm_(params, 1.0, error_if_nonfinite=True)


def test_clip_grad_value_matches_torch():
    torch = import_torch()
    ours = _with_grads(2)
    theirs = _torch_copies(torch, ours)
    nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.data, b.grad.numpy())


def test_parameters_to_vector_and_back_round_trip_as_torch():
    torch = import_torch()
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Linear(2, 1, rng=1))
    vector = nn.utils.parameters_to_vector(model.parameters())
    twin = [torch.tensor(p.data) for p in model.parameters()]
    np.testing.assert_array_equal(vector.data, torch.nn.utils.parameters_to_vector(twin).numpy())
    nn.utils.vector_to_parameters(
        tg.Tensor(np.arange(vector.shape[0], dtype=float)), model.parameters()
    )
    np.testing.assert_array_equal(model[0].weight.data, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(model[1].bias.data, [10.0])
    with pytest.raises(ValueError, match=r"1-D vector of 11 values.*got shape \(3,\)"):
        nn.utils.vector_to_parameters(np.zeros(3), model.parameters())


def test_parameters_to_vector_is_differentiable():
    model = nn.Linear(2, 2, rng=0)
    (nn.utils.parameters_to_vector(model.parameters()) ** 2).sum().backward()
    np.testing.assert_allclose(model.weight.grad.data, 2 * model.weight.data)

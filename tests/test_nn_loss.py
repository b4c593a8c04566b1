"""Tests for the losses (tinygrad_dl/nn/loss.py and their functions): every option against
PyTorch in value and gradient, including cross_entropy's weight, ignore_index and
label_smoothing together, probability targets and (N, C, d1, ...) inputs."""

import itertools

import numpy as np
import pytest
from torch_twins import assert_function_matches, assert_module_matches, import_torch

from tinygrad_dl import nn
from tinygrad_dl.nn import functional as F
from tinygrad_dl.testing import check_gradient

WEIGHT = np.array([0.3, 1.0, 2.5, 0.7])


def _labels(shape, seed, ignored=True):
    labels = np.random.default_rng(seed).integers(0, 4, size=shape)
    if ignored:
        labels.flat[::3] = -100
    return labels


@pytest.mark.parametrize(
    "use_weight, ignore, smoothing, reduction",
    list(itertools.product([False, True], [False, True], [0.0, 0.2], ["mean", "sum", "none"])),
)
@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 2, 3)])
def test_cross_entropy_matches_torch_for_every_option_combination(
    use_weight, ignore, smoothing, reduction, shape
):
    torch = import_torch()
    x = np.random.default_rng(0).standard_normal(shape) * 2
    labels = _labels(shape[:1] + shape[2:], 1, ignored=ignore)
    weight = WEIGHT if use_weight else None
    options = dict(reduction=reduction, label_smoothing=smoothing)
    assert_function_matches(
        lambda x: F.cross_entropy(x, labels, weight, **options),
        lambda x: torch.nn.functional.cross_entropy(
            x, torch.tensor(labels), None if weight is None else torch.tensor(weight), **options
        ),
        x,
    )


@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3), (4,)])
def test_cross_entropy_with_probability_targets_matches_torch(
    use_weight, smoothing, reduction, shape
):
    torch = import_torch()
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    rows = rng.dirichlet(np.ones(4), size=int(np.prod(shape)) // 4)  # each sums to 1
    target = (
        rows[0]
        if len(shape) == 1
        else np.moveaxis(rows.reshape((shape[0],) + shape[2:] + (4,)), -1, 1)
    )
    weight = WEIGHT if use_weight else None
    options = dict(reduction=reduction, label_smoothing=smoothing)
    assert_function_matches(
        lambda x, p: F.cross_entropy(x, p, weight, **options),
        lambda x, p: torch.nn.functional.cross_entropy(
            x, p, None if weight is None else torch.tensor(weight), **options
        ),
        x,
        target,
    )


def test_cross_entropy_module_takes_torchs_arguments():
    torch = import_torch()
    x = np.random.default_rng(3).standard_normal((6, 4))
    labels = _labels((6,), 4)
    ours = nn.CrossEntropyLoss(weight=WEIGHT, ignore_index=2, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(WEIGHT), ignore_index=2, label_smoothing=0.1
    )
    labels[labels == -100] = 2
    assert_module_matches(ours, theirs, x, labels)


@pytest.mark.parametrize("use_weight", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (2, 4, 3, 2), (4,)])
def test_nll_loss_matches_torch(use_weight, reduction, shape):
    torch = import_torch()
    x = np.log(np.random.default_rng(5).dirichlet(np.ones(4), size=1).ravel())
    x = np.random.default_rng(5).standard_normal(shape)
    labels = _labels(shape[:1] + shape[2:], 6) if len(shape) > 1 else np.array(3)
    weight = WEIGHT if use_weight else None
    assert_function_matches(
        lambda x: F.nll_loss(x, labels, weight, reduction=reduction),
        lambda x: torch.nn.functional.nll_loss(
            x,
            torch.tensor(labels),
            None if weight is None else torch.tensor(weight),
            reduction=reduction,
        ),
        x,
    )
    ours = nn.NLLLoss(weight=weight, reduction=reduction)
    assert ours(x, labels).shape == (() if reduction != "none" else labels.shape)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_match_torch(reduction):
    torch = import_torch()
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((4, 5)) * 2, rng.standard_normal((4, 5)) * 2
    for ours, theirs in [
        (nn.L1Loss(reduction), torch.nn.L1Loss(reduction=reduction)),
        (nn.SmoothL1Loss(reduction), torch.nn.SmoothL1Loss(reduction=reduction)),
        (
            nn.SmoothL1Loss(reduction, beta=0.5),
            torch.nn.SmoothL1Loss(reduction=reduction, beta=0.5),
        ),
        (
            nn.SmoothL1Loss(reduction, beta=0.0),
            torch.nn.SmoothL1Loss(reduction=reduction, beta=0.0),
        ),
        (nn.HuberLoss(reduction), torch.nn.HuberLoss(reduction=reduction)),
        (nn.HuberLoss(reduction, delta=2.0), torch.nn.HuberLoss(reduction=reduction, delta=2.0)),
    ]:
        assert_module_matches(ours, theirs, x, y)


@pytest.mark.parametrize("reduction", ["mean", "batchmean", "sum", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch_including_zero_probabilities(reduction, log_target):
    torch = import_torch()
    rng = np.random.default_rng(8)
    log_q = np.log(rng.dirichlet(np.ones(5), size=3))
    p = rng.dirichlet(np.ones(5), size=3)
    target = np.log(p) if log_target else p
    assert_module_matches(
        nn.KLDivLoss(reduction, log_target=log_target),
        torch.nn.KLDivLoss(reduction=reduction, log_target=log_target),
        log_q,
        target,
    )
    # A zero probability contributes 0 (x log x -> 0); its own derivative is -inf, so only the
    # input's gradient is compared there.
    p[0, 1] = 0.0
    options = dict(reduction=reduction, log_target=log_target)
    target = np.log(p + 1e-3) if log_target else p
    assert_function_matches(
        lambda q, t: F.kl_div(q, t, **options),
        lambda q, t: torch.nn.functional.kl_div(q, t, **options),
        log_q,
        target,
        grads=[True, False],
    )


def test_losses_pass_gradcheck():
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    labels = np.array([1, -100, 3])
    assert check_gradient(lambda t: F.cross_entropy(t, labels, WEIGHT, label_smoothing=0.1), x)
    assert check_gradient(lambda t: F.huber_loss(t, y, delta=0.7), x)
    assert check_gradient(lambda t: F.kl_div(t, np.abs(y) / 4, reduction="batchmean"), x)


def test_loss_errors_are_clear():
    x = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\].*ignore_index=-100"):
        F.nll_loss(x, np.array([0, 7, 1]))
    with pytest.raises(ValueError, match=r"weight of shape \(3,\) does not fit 4 classes"):
        F.nll_loss(x, np.array([0, 1, 1]), np.ones(3))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        F.cross_entropy(x, np.array([0, 1, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="'batchmean'"):
        nn.KLDivLoss("avg")
    with pytest.raises(ValueError, match="delta must be positive"):
        F.huber_loss(x, x, delta=0.0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("use_weight, use_pos_weight", [(True, False), (False, True), (True, True)])
def test_bce_with_logits_weight_and_pos_weight_match_torch(reduction, use_weight, use_pos_weight):
    torch = import_torch()
    rng = np.random.default_rng(10)
    z, y = rng.standard_normal((4, 3)) * 3, rng.uniform(size=(4, 3))
    weight = rng.uniform(0.5, 2.0, size=(4, 1)) if use_weight else None
    pos_weight = np.array([0.5, 2.0, 3.0]) if use_pos_weight else None

    def torch_or_none(a):
        return None if a is None else torch.tensor(a)

    assert_module_matches(
        nn.BCEWithLogitsLoss(weight, reduction=reduction, pos_weight=pos_weight),
        torch.nn.BCEWithLogitsLoss(
            torch_or_none(weight), reduction=reduction, pos_weight=torch_or_none(pos_weight)
        ),
        z,
        y,
    )
    p = 1 / (1 + np.exp(-z))
    if use_weight:
        assert_module_matches(
            nn.BCELoss(weight, reduction=reduction),
            torch.nn.BCELoss(torch.tensor(weight), reduction=reduction),
            p,
            y,
        )


def test_bce_refuses_reduction_in_the_weight_position():
    with pytest.raises(TypeError, match="third argument is weight.*reduction='sum'"):
        F.binary_cross_entropy_with_logits(np.zeros(2), np.zeros(2), "sum")
    with pytest.raises(TypeError, match="BCELoss: the third argument is weight"):
        nn.BCELoss("sum")

"""Tests for tinygrad_dl.optim: update rules, in-place updates, state dicts, schedules."""

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.serialization import StateDictError, load, save

# -- reference update rules, written plainly from the published algorithms ------------------


def _reference_sgd(w, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    w, buf = w.copy(), None
    for t, g in enumerate(grads):
        g = g + weight_decay * w
        if momentum:
            buf = g.copy() if t == 0 else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        w = w - lr * g
    return w


def _reference_adam(w, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
    w, m, v = w.copy(), np.zeros_like(w), np.zeros_like(w)
    b1, b2 = betas
    for t, g in enumerate(grads, start=1):
        if decoupled:
            w = w * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def _reference_rmsprop(w, grads, lr, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                       centered=False):  # fmt: skip
    w, s, buf, gbar = w.copy(), np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        g = g + weight_decay * w
        s = alpha * s + (1 - alpha) * g * g
        denominator = s
        if centered:
            gbar = alpha * gbar + (1 - alpha) * g
            denominator = s - gbar * gbar
        step = g / (np.sqrt(denominator) + eps)
        if momentum:
            buf = momentum * buf + step
            step = buf
        w = w - lr * step
    return w


def _run(optimizer_factory, w0, grads):
    p = nn.Parameter(w0.copy())
    opt = optimizer_factory([p])
    for g in grads:
        p.grad = tg.Tensor(g.copy())
        opt.step()
    return p.data


_CASES = [
    ("sgd", lambda ps: optim.SGD(ps, lr=0.1), lambda w, g: _reference_sgd(w, g, 0.1)),
    (
        "sgd-momentum-decay",
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
        lambda w, g: _reference_sgd(w, g, 0.05, 0.9, 0.1, 0.01),
    ),
    (
        "sgd-nesterov",
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1),
        lambda w, g: _reference_sgd(w, g, 0.05, 0.8, 0.0, 0.1, nesterov=True),
    ),
    (
        "rmsprop",
        lambda ps: optim.RMSprop(ps, lr=0.01, weight_decay=0.1),
        lambda w, g: _reference_rmsprop(w, g, 0.01, weight_decay=0.1),
    ),
    (
        "rmsprop-centered-momentum",
        lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True, alpha=0.9),
        lambda w, g: _reference_rmsprop(w, g, 0.01, alpha=0.9, momentum=0.9, centered=True),
    ),
    (
        "adam",
        lambda ps: optim.Adam(ps, lr=0.01, weight_decay=0.1),
        lambda w, g: _reference_adam(w, g, 0.01, weight_decay=0.1),
    ),
    (
        "adamw",
        lambda ps: optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1),
        lambda w, g: _reference_adam(w, g, 0.01, (0.8, 0.99), weight_decay=0.1, decoupled=True),
    ),
]


@pytest.mark.parametrize("name, factory, reference", _CASES, ids=[c[0] for c in _CASES])
@given(seed=st.integers(0, 2**16), steps=st.integers(1, 6))
def test_optimiser_follows_its_published_update_rule(name, factory, reference, seed, steps):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((3, 2))
    grads = [rng.standard_normal((3, 2)) for _ in range(steps)]
    np.testing.assert_allclose(
        _run(factory, w0, grads), reference(w0, grads), rtol=1e-10, atol=1e-12
    )


def test_plain_sgd_is_the_course_update_exactly():
    rng = np.random.default_rng(0)
    W, dW = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    p = nn.Parameter(W.copy())
    p.grad = tg.Tensor(dW)
    optim.SGD([p], lr=1.2).step()
    np.testing.assert_array_equal(p.data, W - 1.2 * dW)


_TORCH_CASES = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.2}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.9), "weight_decay": 0.05}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
]


@pytest.mark.parametrize("name, kwargs", _TORCH_CASES)
def test_optimisers_match_pytorch(name, kwargs):
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    rng = np.random.default_rng(5)
    w0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(8)]
    ours = _run(lambda ps: getattr(optim, name)(ps, **kwargs), w0, grads)
    theirs = torch.tensor(w0.copy(), requires_grad=True)
    opt = getattr(torch.optim, name)([theirs], **kwargs)
    for g in grads:
        theirs.grad = torch.tensor(g)
        opt.step()
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


# -- in place, no reallocation ---------------------------------------------------------------


@pytest.mark.parametrize("name, factory, reference", _CASES, ids=[c[0] for c in _CASES])
def test_step_updates_in_place_and_allocates_nothing_after_the_first(name, factory, reference):
    rng = np.random.default_rng(0)
    p = nn.Parameter(rng.standard_normal((500, 400)))  # 1.6 MB
    opt = factory([p])
    p.grad = tg.Tensor(rng.standard_normal((500, 400)))
    data = p.data
    opt.step()  # allocates the state and scratch arrays
    state_arrays = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
    tracemalloc.start()
    try:
        for _ in range(3):
            opt.step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert p.data is data
    after = [v for v in opt.state[p].values() if isinstance(v, np.ndarray)]
    assert len(after) == len(state_arrays)
    assert all(a is b for a, b in zip(after, state_arrays))
    assert peak < data.nbytes / 20, f"{name}: step allocated {peak} bytes"


def test_step_runs_under_no_grad_and_bumps_the_version():
    p = nn.Parameter(np.ones(3))
    loss = (p * p).sum()
    loss.backward(retain_graph=True)
    optim.SGD([p], lr=0.1).step()
    # p was saved by the multiplication: a second backward must notice the in-place change.
    with pytest.raises(RuntimeError):
        loss.backward()


# -- bookkeeping -----------------------------------------------------------------------------


def test_parameters_without_grad_are_skipped():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    a.grad = tg.Tensor(np.ones(2))
    optim.SGD([a, b], lr=0.5).step()
    np.testing.assert_array_equal(a.data, 0.5)
    np.testing.assert_array_equal(b.data, 1.0)


def test_zero_grad_sets_none_or_zeros():
    p = nn.Parameter(np.ones(2))
    opt = optim.SGD([p], lr=0.1)
    p.grad = tg.Tensor(np.ones(2))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, 0.0)
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_have_their_own_hyperparameters():
    a, b = nn.Parameter(np.ones(1)), nn.Parameter(np.ones(1))
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = tg.Tensor(np.ones(1))
    b.grad = tg.Tensor(np.ones(1))
    opt.step()
    assert a.data[0] == pytest.approx(0.9) and b.data[0] == pytest.approx(0.0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda: optim.SGD([tg.Tensor(np.ones(2))], lr=0.1), "does not require grad"),
        (lambda: optim.SGD([nn.Parameter(np.ones(1))], lr=-1.0), "lr must be >= 0"),
        (lambda: optim.SGD([nn.Parameter(np.ones(1))], nesterov=True), "Nesterov"),
        (lambda: optim.Adam([nn.Parameter(np.ones(1))], betas=(0.9, 1.0)), "betas"),
        (lambda: optim.RMSprop([nn.Parameter(np.ones(1))], alpha=2.0), "alpha"),
        (
            lambda: optim.SGD([{"params": [nn.Parameter(np.ones(1))], "lrr": 0.1}]),
            "unknown hyperparameters",
        ),
    ],
)
def test_bad_arguments_are_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_duplicate_parameter_is_rejected():
    p = nn.Parameter(np.ones(1))
    with pytest.raises(ValueError, match="appears twice"):
        optim.SGD([p, p], lr=0.1)


def test_gradient_shape_mismatch_is_a_clear_error():
    p = nn.Parameter(np.ones((2, 2)))
    p.grad = tg.Tensor(np.ones(2))
    with pytest.raises(ValueError, match=r"gradient of shape \(2,\) for a parameter of shape"):
        optim.SGD([p], lr=0.1).step()


# -- state dicts -----------------------------------------------------------------------------


def _training_run(opt_factory, steps, resume_at=None, path=None):
    rng = np.random.default_rng(3)
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 1, rng=1))
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    opt = opt_factory(model.parameters())
    for step in range(steps):
        if step == resume_at:
            save({"model": model.state_dict(), "optim": opt.state_dict()}, path)
            checkpoint = load(path)
            model = nn.Sequential(nn.Linear(3, 4, rng=5), nn.ReLU(), nn.Linear(4, 1, rng=6))
            model.load_state_dict(checkpoint["model"])
            opt = opt_factory(model.parameters())
            opt.load_state_dict(checkpoint["optim"])
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()]


@pytest.mark.parametrize(
    "factory",
    [
        lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
        lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.5),
        lambda ps: optim.Adam(ps, lr=0.01),
        lambda ps: optim.AdamW(ps, lr=0.01),
    ],
    ids=["sgd", "rmsprop", "adam", "adamw"],
)
def test_resuming_from_a_saved_checkpoint_continues_the_same_trajectory(factory, tmp_path):
    straight = _training_run(factory, 6)
    resumed = _training_run(factory, 6, resume_at=3, path=tmp_path / "ckpt.npz")
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)


def test_state_dict_is_a_copy_in_pytorch_layout():
    p = nn.Parameter(np.ones(2))
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.Tensor(np.ones(2))
    opt.step()
    state = opt.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert state["param_groups"][0]["params"] == [0]
    assert state["param_groups"][0]["lr"] == 0.1
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["state"][0]["exp_avg"] is not opt.state[p]["exp_avg"]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["state"][0].update(exp_avg=np.zeros(3)), r"'exp_avg' has shape \(3,\)"),
        (lambda s: s["state"][0].pop("exp_avg_sq"), "state entries"),
        (lambda s: s["param_groups"].append({"params": []}), "parameter groups"),
        (lambda s: s["state"].update({5: {}}), "state for parameter 5"),
        (lambda s: s["param_groups"][0].update(lr=-1.0), "lr must be >= 0"),
        (
            lambda s: s["state"][0].update(exp_avg=np.zeros(2, dtype=np.float32)),
            "dtype float32",
        ),
    ],
)
def test_optimizer_load_state_dict_mismatch_changes_nothing(change, message):
    p = nn.Parameter(np.ones(2))
    opt = optim.Adam([p], lr=0.1)
    p.grad = tg.Tensor(np.ones(2))
    opt.step()
    state = opt.state_dict()
    before = {k: v.copy() for k, v in opt.state[p].items() if isinstance(v, np.ndarray)}
    state["param_groups"][0]["lr"] = 99.0
    change(state)
    with pytest.raises(StateDictError, match=message):
        opt.load_state_dict(state)
    assert opt.param_groups[0]["lr"] == 0.1
    for key, value in before.items():
        np.testing.assert_array_equal(opt.state[p][key], value)


# -- schedules -------------------------------------------------------------------------------


def test_step_lr_decays_every_step_size_epochs():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    scheduler = optim.StepLR(opt, step_size=2, gamma=0.5)
    rates = []
    for _ in range(6):
        rates.append(scheduler.get_last_lr()[0])
        scheduler.step()
    assert rates == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_cosine_schedule_runs_from_initial_rate_to_eta_min():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=0.1)
    scheduler = optim.CosineAnnealingLR(opt, T_max=10, eta_min=0.001)
    rates = [scheduler.get_last_lr()[0]]
    for _ in range(10):
        scheduler.step()
        rates.append(opt.param_groups[0]["lr"])
    assert rates[0] == pytest.approx(0.1) and rates[-1] == pytest.approx(0.001)
    assert rates[5] == pytest.approx(0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi / 2)) / 2)
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_schedule_matches_pytorch():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    ours = optim.CosineAnnealingLR(optim.SGD([nn.Parameter(np.ones(1))], lr=0.3), T_max=7)
    theirs_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(theirs_opt, T_max=7)
    for _ in range(7):
        theirs_opt.step()
        theirs.step()
        ours.step()
        assert ours.get_last_lr()[0] == pytest.approx(theirs.get_last_lr()[0], rel=1e-12)


def test_scheduler_state_dict_round_trip():
    opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    scheduler = optim.StepLR(opt, step_size=1, gamma=0.5)
    scheduler.step()
    scheduler.step()
    state = scheduler.state_dict()
    other_opt = optim.SGD([nn.Parameter(np.ones(1))], lr=1.0)
    other = optim.StepLR(other_opt, step_size=1, gamma=0.5)
    other.load_state_dict(state)
    assert other.get_last_lr() == [0.25] and other.last_epoch == 2

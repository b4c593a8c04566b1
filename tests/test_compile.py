"""Tests of tinygrad_dl/compile.py: compiled steps equal eager steps bitwise; guards; refusals.

Each equality test builds the same model twice from the same seed, runs 100 steps eagerly on
one and compiled on the other (the batches change from step to step, so a value frozen at the
trace would show), and compares every parameter and loss with ``np.array_equal``.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_dl as tg
from benchmarks import workloads
from tinygrad_dl import nn, optim
from tinygrad_dl.nn import functional as F
from tinygrad_dl.train import fit

STEPS = 100


def _batches(X: np.ndarray, Y: np.ndarray, size: int, count: int, seed: int = 0):
    """``count`` minibatches of columns of the course-layout ``X``, ``Y`` (drawn with a seed)."""
    rng = np.random.default_rng(seed)
    for _ in range(count):
        columns = rng.choice(X.shape[1], size=size, replace=False)
        yield tg.Tensor(np.ascontiguousarray(X[:, columns])), tg.Tensor(Y[:, columns])


def _assert_same(eager: list, compiled: list, what: str) -> None:
    for index, (a, b) in enumerate(zip(eager, compiled)):
        a = a.data if isinstance(a, tg.Tensor) else a
        b = b.data if isinstance(b, tg.Tensor) else b
        assert a.dtype == b.dtype and np.array_equal(a, b), (
            f"{what}: entry {index} differs between eager and compiled steps: max abs diff "
            f"{np.max(np.abs(np.asarray(a, float) - np.asarray(b, float)))}"
        )


# -- the benchmark's workloads, written as the course's networks ----------------------------


def _course_step(workload: workloads.Workload, style: str):
    """Parameters and a step function (forward, cost, backward, update) for ``workload``."""
    params = [tg.Tensor(a.copy(), requires_grad=True) for a in workload.params.values()]
    lr = workload.learning_rate
    optimizer = optim.SGD(params, lr=lr) if style == "optimizer" else None

    def cost(X, Y):
        if workload.kind == "logistic":
            w, b = params
            return F.binary_cross_entropy_with_logits(w.T @ X + b, Y)
        A = X
        for l in range(len(params) // 2 - 1):
            Z = params[2 * l] @ A + params[2 * l + 1]
            A = Z.relu() if workload.hidden == "relu" else Z.tanh()
        Z = params[-2] @ A + params[-1]
        if workload.kind == "softmax_mlp":
            return F.cross_entropy(Z.T, Y.data.argmax(axis=0))
        return F.binary_cross_entropy_with_logits(Z, Y)

    def step(X, Y):
        if optimizer is not None:
            optimizer.zero_grad()
        loss = cost(X, Y)
        loss.backward()
        if optimizer is not None:
            optimizer.step()
        else:  # the course's update on .data, as the benchmark's engine runner writes it
            for p in params:
                p.data -= lr * p.grad.data
                p.grad = None
        return loss

    return params, step


@pytest.mark.parametrize(
    ("key", "style"),
    [("W1-float64", "manual"), ("W1-float32", "optimizer"), ("W2", "optimizer"),
     ("W3-n30", "manual"), ("W5", "optimizer")],
)  # fmt: skip
def test_compiled_workload_matches_eager_bitwise_over_100_steps(key, style):
    workload = workloads.make(key, small=True)
    eager_params, eager_step = _course_step(workload, style)
    compiled_params, compiled_step = _course_step(workload, style)
    compiled_step = tg.compile(compiled_step)
    size = max(2, workload.m // 2)
    eager_losses, compiled_losses = [], []
    for X, Y in _batches(workload.X, workload.Y, size, STEPS):
        eager_losses.append(eager_step(X, Y))
        compiled_losses.append(compiled_step(X, Y))
    _assert_same(eager_losses, compiled_losses, f"{key} losses")
    _assert_same(eager_params, compiled_params, f"{key} parameters")
    assert compiled_step.traces == 1


# -- the examples' models --------------------------------------------------------------------


def _digits_like(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((200, 64)), rng.integers(0, 10, size=200)


def _digits_model(seed: int) -> nn.Sequential:
    """examples/digits_mlp.py's network, Dropout included."""
    return nn.Sequential(
        nn.Linear(64, 128, init="he", rng=seed),
        nn.ReLU(),
        nn.Dropout(0.2, rng=seed),
        nn.Linear(128, 64, init="he", rng=seed + 1),
        nn.ReLU(),
        nn.Linear(64, 10, init="xavier", rng=seed + 2),
    )


def _run_model(model, optimizer, loss_fn, batches, compiled: bool, scheduler=None, every=10):
    def step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    run = tg.compile(step) if compiled else step
    losses = []
    for index, (x, y) in enumerate(batches, start=1):
        losses.append(run(x, y))
        if scheduler is not None and index % every == 0:
            scheduler.step()  # outside the compiled step: its lr is read at replay
    return losses, run


def test_dropout_adam_and_lr_schedule_compiled_match_eager_bitwise():
    X, y = _digits_like()
    rng = np.random.default_rng(1)
    batches = [(tg.Tensor(X[i]), y[i]) for i in (rng.choice(200, 32) for _ in range(STEPS))]
    results = []
    for compiled in (False, True):
        model = _digits_model(seed=3)
        optimizer = optim.Adam(model.parameters(), lr=2e-3)
        scheduler = optim.StepLR(optimizer, step_size=1, gamma=0.7)
        losses, run = _run_model(model, optimizer, nn.CrossEntropyLoss(), batches, compiled,
                                 scheduler)  # fmt: skip
        results.append((losses, list(model.parameters()), optimizer.param_groups[0]["lr"]))
    (eager_losses, eager_params, eager_lr), (losses, params, lr) = results
    assert lr == eager_lr < 2e-3 * 0.7**9  # the schedule did move the rate
    _assert_same(eager_losses, losses, "digits losses")
    _assert_same(eager_params, params, "digits parameters")
    assert run.traces == 1  # zero_grad() first: .grad's presence on entry is not a guard


def test_flower_example_model_compiled_matches_eager_bitwise():
    from examples.shallow_network_flower import shallow_network

    rng = np.random.default_rng(2)
    X = rng.standard_normal((400, 2))
    Y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    batches = [(tg.Tensor(X), Y)] * STEPS  # full batch, as the example trains
    results = []
    for compiled in (False, True):
        model = shallow_network(4)
        optimizer = optim.SGD(model.parameters(), lr=1.2)
        losses, _ = _run_model(model, optimizer, nn.BCEWithLogitsLoss(), batches, compiled)
        results.append((losses, list(model.parameters())))
    _assert_same(results[0][0], results[1][0], "flower losses")
    _assert_same(results[0][1], results[1][1], "flower parameters")


def test_fit_with_compile_gives_the_eager_history_and_parameters():
    X, y = _digits_like(seed=4)
    histories, models = [], []
    for compiled in (False, True):
        model = _digits_model(seed=5)
        history = fit(
            model,
            nn.CrossEntropyLoss(),
            optim.SGD(model.parameters(), lr=0.1, momentum=0.9),
            tg.data.DataLoader(X, y, batch_size=50, rng=0),
            epochs=3,
            metrics=["accuracy"],
            progress=False,
            compile=compiled,
        )
        histories.append(history)
        models.append(model)
    assert histories[0] == histories[1]
    _assert_same(list(models[0].parameters()), list(models[1].parameters()), "fit parameters")


# -- the returned value, guards and re-tracing -------------------------------------------------


def _linear_setup(seed: int = 0):
    model = nn.Linear(3, 1, rng=seed)
    optimizer = optim.SGD(model.parameters(), lr=0.1)

    def step(x, y):
        optimizer.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    step.optimizer = optimizer
    return model, step


def test_returned_loss_is_a_fresh_tensor_with_the_steps_value():
    model, step = _linear_setup()
    compiled = tg.compile(step)
    x, y = tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1)))
    losses = [compiled(x, y) for _ in range(4)]
    assert all(isinstance(loss, tg.Tensor) and loss.shape == () for loss in losses)
    assert not losses[-1].requires_grad
    values = [float(loss.item()) for loss in losses]
    assert values[0] > values[1] > values[2] > values[3]  # descending: each kept its own value


def test_a_step_that_clears_gradients_first_is_traced_once():
    model, step = _linear_setup()
    compiled = tg.compile(step)
    x, y = tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1)))
    for _ in range(5):
        compiled(x, y)
    assert compiled.traces == 1 and model.weight.grad is not None


def test_gradients_accumulated_across_calls_match_eager_bitwise():
    results = []
    for compiled in (False, True):
        model = nn.Linear(3, 2, rng=0)

        def accumulate(x, model=model):
            loss = (model(x) ** 2).sum()
            loss.backward()  # no zero_grad: .grad adds up over calls, as in PyTorch
            return loss

        run = tg.compile(accumulate) if compiled else accumulate
        for index in range(5):
            run(tg.Tensor(np.arange(6.0).reshape(2, 3) + index))
        results.append([p.grad.data.copy() for p in model.parameters()])
    _assert_same(results[0], results[1], "accumulated gradients")
    assert not np.array_equal(results[1][0], np.zeros_like(results[1][0]))


def test_changed_batch_shape_retraces_and_explains_why(capsys):
    model, step = _linear_setup()
    compiled = tg.compile(step, explain=True)
    compiled(tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1))))
    compiled(tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1))))
    traces = compiled.traces
    compiled(tg.Tensor(np.ones((5, 3))), tg.Tensor(np.zeros((5, 1))))
    assert compiled.traces == traces + 1
    assert "argument 0 changed" in compiled.retrace_reasons[-1]
    assert "(4, 3)" in compiled.retrace_reasons[-1] and "(5, 3)" in compiled.retrace_reasons[-1]
    assert "re-tracing step" in capsys.readouterr().err
    compiled(tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1))))  # cached: no new trace
    assert compiled.traces == traces + 1


@pytest.mark.parametrize("change", ["eval", "no_grad", "dtype", "requires_grad", "param"])
def test_guard_failure_retraces_with_a_reason(change):
    model, step = _linear_setup()
    compiled = tg.compile(step)
    x, y = tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1)))
    compiled(x, y)
    compiled(x, y)
    traces = compiled.traces
    if change == "eval":
        model.eval()
        compiled(x, y)
        expected = "train() and eval()"
    elif change == "no_grad":
        with tg.no_grad(), pytest.raises(RuntimeError):
            compiled(x, y)  # backward without a graph: the eager error, raised while tracing
        expected = "grad mode"
    elif change == "dtype":
        compiled(tg.Tensor(np.ones((4, 3), np.float32)), y)
        expected = "float32"
    elif change == "requires_grad":
        compiled(tg.Tensor(np.ones((4, 3)), requires_grad=True), y)
        expected = "True"
    else:
        model.weight.data = model.weight.data.copy()
        compiled(x, y)
        expected = "array was replaced"
    assert compiled.traces == traces + (change != "no_grad")
    assert expected in compiled.retrace_reasons[-1]


def test_optimizer_lr_set_between_calls_is_read_at_replay():
    results = []
    for compiled in (False, True):
        model, step = _linear_setup(seed=1)
        run = tg.compile(step) if compiled else step
        x, y = tg.Tensor(np.arange(12.0).reshape(4, 3) / 10), tg.Tensor(np.ones((4, 1)))
        for index in range(6):
            step.optimizer.param_groups[0]["lr"] = 0.1 / (index + 1)
            run(x, y)
        results.append(model.weight.data.copy())
    assert np.array_equal(results[0], results[1])


def test_replay_does_not_allocate_new_parameter_arrays():
    model, step = _linear_setup()
    compiled = tg.compile(step)
    x, y = tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1)))
    weight = model.weight.data
    for _ in range(3):
        compiled(x, y)
    assert model.weight.data is weight and not np.array_equal(
        weight, nn.Linear(3, 1, rng=0).weight.data
    )
    assert type(model.weight.data) is np.ndarray and type(model.weight.grad.data) is np.ndarray


# -- refusals ----------------------------------------------------------------------------------


def _refusing_step(kind: str):
    model, _ = _linear_setup()

    def step(x):
        loss = (model(x) ** 2).mean()
        if kind == "item":
            loss.item()
        elif kind == "float":
            float(loss)
        elif kind == "bool":
            if loss > 0:
                loss = loss * 2
        elif kind == "numpy":
            loss.detach().numpy()
        elif kind == "scheduler":
            optim.StepLR(optim.SGD(model.parameters(), lr=0.1), step_size=1).step()
        loss.backward()
        return loss

    return step


@pytest.mark.parametrize(
    ("kind", "words"),
    [("item", ".item()"), ("float", "float()"), ("bool", "bool()"), ("numpy", ".numpy()"),
     ("scheduler", "StepLR.step()")],
)  # fmt: skip
def test_reading_a_value_inside_a_compiled_function_is_refused_naming_the_line(kind, words):
    compiled = tg.compile(_refusing_step(kind))
    with pytest.raises(tg.CompileError) as error:
        compiled(tg.Tensor(np.ones((2, 3))))
    message = str(error.value)
    assert words in message
    assert f"{__file__}:" in message  # the user's line, not the library's
    if kind != "scheduler":
        assert "tg.where" in message and "Move it out" in message


def test_a_failed_check_inside_the_library_is_raised_at_replay_not_computed_past():
    model = nn.Linear(3, 4, rng=0)

    @tg.compile
    def step(x, labels):
        loss = F.cross_entropy(model(x), labels)
        loss.backward()
        return loss

    x = tg.Tensor(np.ones((2, 3)))
    step(x, np.array([0, 1]))
    step(x, np.array([2, 3]))
    with pytest.raises(tg.CompileError, match="check inside tinygrad_dl"):
        step(x, np.array([0, 7]))  # eagerly: "labels must be in [0, 3]"


def test_compile_rejects_what_is_not_a_function():
    with pytest.raises(TypeError, match="expected a function"):
        tg.compile(3)


def test_a_read_tensor_whose_array_is_replaced_retraces_and_uses_the_new_values():
    weight = tg.Tensor(np.ones(3), requires_grad=True)
    scale = tg.Tensor(np.array(2.0))

    @tg.compile
    def step(x):
        loss = (weight * x * scale).sum()
        loss.backward()
        weight.grad = None
        return loss

    x = tg.Tensor(np.arange(3.0))
    assert step(x).item() == step(x).item() == 6.0
    scale.data = np.array(3.0)  # replaced, not changed in place
    assert step(x).item() == 9.0
    assert "its array replaced" in step.retrace_reasons[-1]
    scale.data[...] = 4.0  # in place: read afresh by the replay, no new trace
    traces = step.traces
    assert step(x).item() == 12.0 and step.traces == traces

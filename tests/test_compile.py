"""Tests of tinygrad_dl/compile.py: compiled steps equal eager steps bitwise; guards; refusals.

Each equality test builds the same model twice from the same seed, runs 100 steps eagerly on
one and compiled on the other (the batches change from step to step, so a value frozen at the
trace would show), and compares every parameter and loss with ``np.array_equal``.
"""

from __future__ import annotations

import sys

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
    with pytest.raises(tg.CompileError, match="differs from the traced"):
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


# -- every op: a compiled step replayed on fresh inputs equals the eager step bitwise ---------
# Each case is a function of two (3, 3) tensors with values in (0.2, 0.9) (inside every op's
# domain); arrays the op makes during the trace (np.zeros, np.empty, ...) and then writes into
# (np.add.at, out=, slice assignment) must be refilled on every replay, not accumulated onto.

_INDEX = np.array([0, 2, 2])
_INDEX_2D = np.array([[0, 2, 2], [1, 1, 0], [2, 0, 0]])
_LABELS = np.array([2, 0, 1])
_MASK = np.array([[True, False, True], [False, False, True], [True, True, False]])


def _spd(a):
    return a @ a.T + 3.0 * tg.Tensor(np.eye(3))


def _setitem(a, b):
    c = a * 2.0
    c[0] = b[1]
    return c


def _fill(a, b):
    c = a * 2.0
    c.fill_(0.5)
    return c * b + a


OP_CASES = {
    "abs": lambda a, b: (a - 0.5).abs(),
    "add": lambda a, b: a + b,
    "add_scalar": lambda a, b: a + 2.0,
    "arccos": lambda a, b: a.arccos(),
    "arccosh": lambda a, b: (a + 1.0).arccosh(),
    "arcsin": lambda a, b: a.arcsin(),
    "arcsinh": lambda a, b: a.arcsinh(),
    "arctan": lambda a, b: a.arctan(),
    "arctan2": lambda a, b: a.arctan2(b),
    "arctanh": lambda a, b: a.arctanh(),
    "angle": lambda a, b: np.angle(a - 0.5) * b,
    "imag": lambda a, b: np.imag(a) + b,
    "ceil": lambda a, b: (a * 3).ceil() * b,
    "clip": lambda a, b: a.clip(0.4, 0.7),
    "copysign": lambda a, b: a.copysign(b - 0.5),
    "cos": lambda a, b: a.cos(),
    "cosh": lambda a, b: a.cosh(),
    "div": lambda a, b: a / b,
    "div_scalar": lambda a, b: a / 3.0,
    "exp": lambda a, b: a.exp(),
    "exp2": lambda a, b: a.exp2(),
    "expm1": lambda a, b: a.expm1(),
    "floor": lambda a, b: (a * 3).floor() * b,
    "floor_divide": lambda a, b: a.floor_divide(b) * b,
    "fmax": lambda a, b: a.fmax(b),
    "fmin": lambda a, b: a.fmin(b),
    "fmod": lambda a, b: a.fmod(b),
    "hypot": lambda a, b: a.hypot(b),
    "leaky_relu": lambda a, b: (a - 0.5).leaky_relu(),
    "log": lambda a, b: a.log(),
    "log10": lambda a, b: a.log10(),
    "log1p": lambda a, b: a.log1p(),
    "log2": lambda a, b: a.log2(),
    "logaddexp": lambda a, b: a.logaddexp(b),
    "logaddexp2": lambda a, b: a.logaddexp2(b),
    "maximum": lambda a, b: a.maximum(b),
    "minimum": lambda a, b: a.minimum(b),
    "mul": lambda a, b: a * b,
    "mul_scalar": lambda a, b: a * 3.0,
    "nan_to_num": lambda a, b: np.nan_to_num(a),
    "neg": lambda a, b: -a,
    "pow": lambda a, b: a**b,
    "pow_scalar": lambda a, b: a**3,
    "rdiv_scalar": lambda a, b: 2.0 / a,
    "relu": lambda a, b: (a - 0.5).relu(),
    "remainder": lambda a, b: a.remainder(b),
    "rint": lambda a, b: np.rint(a * 3) * b,
    "round": lambda a, b: (a * 3).round() * b,
    "rpow_scalar": lambda a, b: 2.0**a,
    "rsub_scalar": lambda a, b: 2.0 - a,
    "sigmoid": lambda a, b: a.sigmoid(),
    "sign": lambda a, b: (a - 0.5).sign() * b,
    "sin": lambda a, b: a.sin(),
    "sinc": lambda a, b: a.sinc(),
    "sinh": lambda a, b: a.sinh(),
    "softplus": lambda a, b: a.softplus(),
    "sqrt": lambda a, b: a.sqrt(),
    "sub": lambda a, b: a - b,
    "tan": lambda a, b: a.tan(),
    "tanh": lambda a, b: a.tanh(),
    "trunc": lambda a, b: (a * 3).trunc() * b,
    "where": lambda a, b: tg.where(_MASK, a, b),
    "getitem_basic": lambda a, b: a[1:, ::2] * b[:2, :2],
    "getitem_repeated_index": lambda a, b: a[_INDEX] * b,
    "getitem_mask": lambda a, b: a[_MASK] * 2.0,
    "index_select": lambda a, b: tg.index_select(a, 1, _INDEX) * b,
    "partition": lambda a, b: tg.partition(a, 1, axis=-1) * b,
    "put_along_axis": lambda a, b: tg.put_along_axis(a, _INDEX_2D[:, :1], b[:, :1], axis=1),
    "scatter": lambda a, b: tg.scatter(a, 1, _INDEX_2D[:, :1], b[:, :1]),
    "scatter_add": lambda a, b: tg.scatter_add(a, 1, _INDEX_2D, b),
    "sort": lambda a, b: tg.sort(a, axis=1).values * b,
    "take": lambda a, b: tg.take(a, _INDEX_2D) * b,
    "take_along_axis": lambda a, b: tg.take_along_axis(a, _INDEX_2D, axis=1) * b,
    "gather": lambda a, b: tg.gather(a, 0, _INDEX_2D) * b,
    "topk": lambda a, b: tg.topk(a, 2).values * b[:, :2],
    "fill": _fill,
    "setitem": _setitem,
    "cholesky": lambda a, b: tg.linalg.cholesky(_spd(a)),
    "count_nonzero": lambda a, b: tg.linalg.vector_norm(a - b, ord=0) * a,
    "det": lambda a, b: tg.linalg.det(_spd(a)) * b,
    "diagonal": lambda a, b: tg.diagonal(a) * b,
    "eigh": lambda a, b: tg.linalg.eigh(_spd(a)).eigenvalues * b,
    "einsum": lambda a, b: tg.einsum("ij,jk->ik", a, b),
    "einsum_trace": lambda a, b: tg.einsum("ii->i", a) * tg.einsum("ij->", b),
    "inv": lambda a, b: tg.linalg.inv(_spd(a)),
    "logabsdet": lambda a, b: tg.linalg.slogdet(_spd(a)).logabsdet * b,
    "matmul": lambda a, b: a @ b,
    "pinv": lambda a, b: tg.linalg.pinv(_spd(a)),
    "qr": lambda a, b: tg.linalg.qr(_spd(a)).R * b,
    "solve": lambda a, b: tg.linalg.solve(_spd(a), b),
    "svd": lambda a, b: tg.linalg.svdvals(_spd(a)) * b,
    "tril": lambda a, b: tg.tril(a) * b,
    "triu": lambda a, b: tg.triu(a) * b,
    "vector_norm": lambda a, b: tg.linalg.vector_norm(a, axis=1) * b,
    "cumprod": lambda a, b: a.cumprod(axis=1) * b,
    "cumsum": lambda a, b: a.cumsum(axis=0) * b,
    "logcumsumexp": lambda a, b: a.logcumsumexp(dim=1) * b,
    "logsumexp": lambda a, b: tg.logsumexp(a, axis=1) * b,
    "log_softmax": lambda a, b: tg.log_softmax(a, axis=1) * b,
    "max": lambda a, b: a.max(axis=1) * b,
    "mean": lambda a, b: a.mean(axis=0) * b,
    "min": lambda a, b: a.min(axis=0) * b,
    "prod": lambda a, b: a.prod(axis=1) * b,
    "softmax": lambda a, b: tg.softmax(a, axis=0) * b,
    "std": lambda a, b: tg.std(a, axis=1) * b,
    "sum": lambda a, b: a.sum(axis=1, keepdims=True) * b,
    "astype": lambda a, b: tg.astype(a, np.float32).astype(np.float64) * b,
    "broadcast_to": lambda a, b: tg.broadcast_to(a[0], (3, 3)) * b,
    "concatenate": lambda a, b: tg.concatenate([a, b], axis=1),
    "expand_dims": lambda a, b: tg.expand_dims(a, 0) * b,
    "flatten": lambda a, b: tg.flatten(a) * b.reshape(-1),
    "flip": lambda a, b: tg.flip(a, axis=0) * b,
    "pad": lambda a, b: tg.pad(a, ((1, 0), (0, 2))) * tg.pad(b, ((1, 0), (0, 2)), mode="reflect"),
    "reshape": lambda a, b: tg.reshape(a, 9, 1) * b.reshape(1, 9),
    "roll": lambda a, b: tg.roll(a, 1, axis=1) * b,
    "squeeze": lambda a, b: tg.squeeze(a[None]) * b,
    "stack": lambda a, b: tg.stack([a, b], axis=0),
    "swapaxes": lambda a, b: tg.swapaxes(a, 0, 1) * b,
    "transpose": lambda a, b: tg.transpose(a) * b,
    "erf_gelu": lambda a, b: F.gelu(a - 0.5),
    "linear": lambda a, b: F.linear(a, b, b[0]),
    "bce": lambda a, b: F.binary_cross_entropy(a, (b > 0.5).astype(np.float64)),
    "bce_with_logits": lambda a, b: F.binary_cross_entropy_with_logits(a, b),
    "cross_entropy": lambda a, b: F.cross_entropy(a * b, _LABELS),
    "cross_entropy_ignore_smoothing": lambda a, b: F.cross_entropy(
        a * b, np.array([2, -100, 1]), label_smoothing=0.1
    ),
    "conv2d": lambda a, b: F.conv2d(
        a.reshape(1, 1, 3, 3), b[:2, :2].reshape(1, 1, 2, 2), padding=1
    ),
    "max_pool2d": lambda a, b: F.max_pool2d(a.reshape(1, 1, 3, 3) * b, 2, stride=1, padding=1),
    "avg_pool2d": lambda a, b: F.avg_pool2d(
        a.reshape(1, 1, 3, 3) * b, 2, stride=1, padding=1, count_include_pad=False
    ),
    "adaptive_avg_pool2d": lambda a, b: F.adaptive_avg_pool2d(a.reshape(1, 1, 3, 3) * b, 2),
    "embedding": lambda a, b: F.embedding(_INDEX_2D, a * b),
    # ops that appear only in a graph built by backward (create_graph=True)
    "getitem_double_backward": lambda a, b: tg.grad(
        (a[_INDEX] ** 2 * b).sum(), a, create_graph=True
    )[0],
    "conv2d_double_backward": lambda a, b: tg.grad(
        (F.conv2d(a.reshape(1, 1, 3, 3), b[:2, :2].reshape(1, 1, 2, 2)) ** 2).sum(),
        a,
        create_graph=True,
    )[0],
    "diagonal_double_backward": lambda a, b: (
        tg.grad((tg.diagonal(a) ** 2).sum(), a, create_graph=True)[0] * b
    ),
}


def _op_step(case):
    """A step over arguments ``a``, ``b``: the op, a weighted sum, backward; returns all three."""

    def step(a, b):
        out = case(a, b)
        if out.requires_grad:
            weights = np.linspace(0.5, 1.5, out.size).reshape(out.shape)
            (out * weights).sum().backward()
        return out, a.grad, b.grad

    return step


def _op_inputs(seed: int) -> tuple[tg.Tensor, tg.Tensor]:
    rng = np.random.default_rng(seed)
    return tuple(tg.Tensor(rng.uniform(0.2, 0.9, (3, 3)), requires_grad=True) for _ in "ab")


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_every_op_compiled_and_replayed_on_fresh_inputs_matches_eager_bitwise(name):
    eager, compiled = _op_step(OP_CASES[name]), tg.compile(_op_step(OP_CASES[name]))
    for seed in range(4):  # the trace, then three replays
        expected, got = eager(*_op_inputs(seed)), compiled(*_op_inputs(seed))
        for what, e, g in zip(("output", "dA", "dB"), expected, got):
            assert (e is None) == (g is None), f"{name}, call {seed}: {what} is None in one"
            if e is not None:
                _assert_same([e], [g], f"{name}, call {seed}: {what}")
    assert compiled.traces == 1, compiled.retrace_reasons


def _graph_ops(tensor: tg.Tensor) -> set[int]:
    """``id`` of every Op in the graph that made ``tensor``."""
    found, pending = set(), [tensor.grad_fn]
    while pending:
        node = pending.pop()
        if node is None or not hasattr(node, "op") or id(node.op) in found:
            continue
        found.add(id(node.op))
        pending += [child for child, _ in node.next_functions]
    return found


# Ops a traced NumPy step cannot hold, and where they are tested instead.
NOT_TRACED = {
    "ops.shape.TO_DEVICE": "a move to another device; tg.compile runs such steps eagerly "
    "(tests/test_backend.py::test_compile_runs_the_step_eagerly_on_other_libraries)",
}


def test_the_op_cases_run_every_op_in_the_package():
    ran: set[int] = set()
    for case in OP_CASES.values():
        ran |= _graph_ops(case(*_op_inputs(0)))
    missing = [f"{module}.{name}" for module, name, op in tg.ops.all_ops() if id(op) not in ran]
    missing = [name for name in missing if name not in NOT_TRACED]
    assert not missing, f"ops no case in OP_CASES runs: {missing}"


# -- the nn layers: stepped with an optimiser, compiled and eager agree bitwise ---------------


class _ConvNet(nn.Module):
    """Conv, BatchNorm, both poolings, an Embedding added per example, and a linear head."""

    def __init__(self, seed: int, momentum: float | None = 0.1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1, rng=seed)
        self.norm = nn.BatchNorm2d(3, momentum=momentum)
        self.max_pool = nn.MaxPool2d(2)
        self.avg_pool = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.adaptive = nn.AdaptiveAvgPool2d(2)
        self.embed = nn.Embedding(5, 12, rng=seed + 1)
        self.head = nn.Linear(12, 4, rng=seed + 2)

    def forward(self, images, tokens):
        x = self.max_pool(self.norm(self.conv(images)).relu())
        x = self.adaptive(self.avg_pool(x)).reshape(images.shape[0], 12)
        return self.head(x + self.embed(tokens))


def _run_conv_net(compiled: bool, loss_fn, momentum: float | None = 0.1, steps: int = 4):
    model = _ConvNet(seed=5, momentum=momentum)
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step(images, tokens, labels):
        optimizer.zero_grad()
        loss = loss_fn(model(images, tokens), labels)
        loss.backward()
        optimizer.step()
        return loss

    run = tg.compile(step) if compiled else step
    rng = np.random.default_rng(7)
    losses = []
    for _ in range(steps):
        images = tg.Tensor(rng.standard_normal((6, 1, 6, 6)))
        tokens = tg.Tensor(rng.integers(0, 5, size=6))
        labels = rng.choice([0, 1, 2, 3, -100], size=6)
        labels[0] = -100  # every batch ignores some: cross_entropy takes one path every call
        labels = tg.Tensor(labels)
        losses.append(run(images, tokens, labels))
    state = [t.data for t in model.state_dict().values()]
    return losses, state, run


@pytest.mark.parametrize(
    "loss_fn",
    [nn.CrossEntropyLoss(ignore_index=-100), nn.CrossEntropyLoss(label_smoothing=0.2,
                                                                 ignore_index=-100)],
    ids=["ignore_index", "label_smoothing"],
)  # fmt: skip
def test_conv_batchnorm_pooling_embedding_compiled_match_eager_bitwise(loss_fn):
    eager_losses, eager_state, _ = _run_conv_net(False, loss_fn)
    losses, state, run = _run_conv_net(True, loss_fn)
    _assert_same(eager_losses, losses, "losses")
    # the state dict holds running_mean, running_var and num_batches_tracked as well
    _assert_same(eager_state, state, "parameters and BatchNorm buffers")
    assert run.traces == 1, run.retrace_reasons


def test_batchnorm_num_batches_tracked_counts_replayed_steps():
    _, state, _ = _run_conv_net(True, nn.CrossEntropyLoss(), steps=5)
    model_keys = list(_ConvNet(seed=5).state_dict())
    assert int(state[model_keys.index("norm.num_batches_tracked")]) == 5


def test_batchnorm_cumulative_average_is_refused_not_frozen():
    with pytest.raises(tg.CompileError, match=r"norm\.py:\d+.*changes in place.*momentum"):
        _run_conv_net(True, nn.CrossEntropyLoss(), momentum=None)


def test_in_place_write_into_an_array_the_tracer_did_not_see_made_is_refused():
    w = tg.Tensor(np.ones(3), requires_grad=True)

    def step(x):
        hidden = np.arange(3.0)  # made by a call the tracer does not record
        np.multiply(x.data, 2.0, out=hidden)
        return (w * x).sum()

    with pytest.raises(tg.CompileError, match=r"in-place write at .*test_compile\.py:\d+"):
        tg.compile(step)(tg.Tensor(np.ones(3)))


def test_a_library_branch_on_values_that_flips_at_replay_is_refused_naming_the_line():
    logits = tg.Tensor(np.zeros((3, 4)), requires_grad=True)
    step = tg.compile(lambda labels: F.cross_entropy(logits, labels, ignore_index=-100))
    step(tg.Tensor(np.array([0, 1, -100])))
    step(tg.Tensor(np.array([2, 3, -100])))  # the same path: replayed
    with pytest.raises(tg.CompileError, match=r"functional\.py:\d+ \(called from .*differs"):
        step(tg.Tensor(np.array([0, 1, 2])))  # none ignored: eager takes another path
    assert step.traces == 1


def test_a_compiled_bound_method_binds_the_parameters_its_object_holds():
    class Trainer:
        def __init__(self) -> None:
            self.params = [tg.Tensor(np.full(3, 0.5), requires_grad=True)]

        def step(self, x):
            loss = (self.params[0] * x).sum()
            loss.backward()
            self.params[0].data -= 0.1 * self.params[0].grad.data
            self.params[0].grad = None
            return loss

    eager, compiled = Trainer(), Trainer()
    step = tg.compile(compiled.step)
    assert len(step.params) == 1  # found through the method's self
    for index in range(4):
        x = tg.Tensor(np.arange(3.0) + index)
        _assert_same([eager.step(x)], [step(x)], f"loss {index}")
    _assert_same(eager.params, compiled.params, "parameters")


def test_a_tensor_passed_as_argument_and_held_in_the_closure_is_bound_by_position():
    w = tg.Tensor(np.full(3, 0.5), requires_grad=True)
    held = tg.Tensor(np.arange(3.0))

    def step(x):
        loss = (w * x * held).sum()
        loss.backward()
        return loss

    compiled = tg.compile(step)
    assert [t is held for t in compiled.constants] == [True]
    assert float(compiled(held).data) == 1.0 * 0.5 + 4.0 * 0.5
    other = tg.Tensor(np.ones(3))
    assert float(compiled(other).data) == 3.0 * 0.5  # held is read in place, other by position


def test_a_module_attribute_changed_in_forward_is_refused_not_frozen():
    class Counting(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(3, 1, rng=0)
            self.calls = 0

        def forward(self, x):
            self.calls += 1  # Python state: would count tracing calls only
            return self.linear(x)

    model = Counting()
    step = tg.compile(lambda x: model(x).sum())
    with pytest.raises(tg.CompileError, match=r"'calls' \(from 0 to 1\).*register_buffer"):
        step(tg.Tensor(np.ones((2, 3))))


def _arrays_held(compiled) -> int:
    """Distinct memory blocks the latest replay program refers to."""
    roots = set()
    for value in compiled._last.__globals__.values():
        if isinstance(value, np.ndarray):
            while isinstance(value.base, np.ndarray):
                value = value.base
            roots.add(id(value))
    return len(roots)


def test_replay_writes_elementwise_results_into_inputs_it_no_longer_needs(monkeypatch):
    def make():
        w = tg.Tensor(np.linspace(0.5, 1.5, 1000), requires_grad=True)

        def step(x):
            loss = (((w * x) + 1.0) * 3.0 - x).tanh().sum()  # each result read once, next line
            loss.backward()
            w.data -= 0.1 * w.grad.data
            w.grad = None
            return loss

        return w, tg.compile(step)

    runs = {}
    for reuse in (True, False):
        if not reuse:
            monkeypatch.setattr(
                sys.modules["tinygrad_dl.compile"]._Tracer, "reuse_dead_inputs", lambda *a: None
            )
        w, step = make()
        losses = [step(tg.Tensor(np.full(1000, 0.1 * i))) for i in range(4)]
        runs[reuse] = (losses, w.data.copy(), _arrays_held(step))
    _assert_same(runs[False][0] + [runs[False][1]], runs[True][0] + [runs[True][1]], "reuse")
    assert runs[True][2] < runs[False][2], (runs[True][2], runs[False][2])


# -- tracing while other threads run eager code ---------------------------------------------


def test_tracing_in_one_thread_leaves_eager_training_in_another_thread_exact():
    """Thread A traces a compiled step while thread B trains another model eagerly (Dropout,
    momentum buffers made on B's first step, a scheduler): B's calls are not recorded into A's
    trace, nor refused, and both end bitwise where each ends when run alone."""
    import threading

    X, y = _digits_like(seed=6)
    rng = np.random.default_rng(7)
    batches = [(tg.Tensor(X[i]), y[i]) for i in (rng.choice(200, 32) for _ in range(12))]

    def setup(seed: int):
        model = _digits_model(seed)
        optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        return model, optimizer, optim.StepLR(optimizer, step_size=1, gamma=0.9)

    def train_b(model, optimizer, scheduler, losses, started=None, stepped=None):
        if started is not None:
            assert started.wait(30), "thread A never began its trace"
        for x, target in batches:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), target)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.data.copy())
            if stepped is not None:
                stepped.set()  # a whole eager step ran while A was inside its trace

    def run_a(model, optimizer, compiled: bool, started=None, stepped=None):
        def step(x, target):
            if started is not None and not started.is_set():  # only the tracing call runs this
                started.set()
                assert stepped.wait(30), "thread B never finished a step during the trace"
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), target)
            loss.backward()
            optimizer.step()
            return loss

        run = tg.compile(step) if compiled else step
        return [run(x, target).data.copy() for x, target in batches], run

    model_a_alone = setup(3)
    alone_a, _ = run_a(*model_a_alone[:2], compiled=False)
    alone_b: list = []
    model_b_alone = setup(11)
    train_b(*model_b_alone, alone_b)

    model_a, optimizer_a, _ = setup(3)
    model_b, optimizer_b, scheduler_b = setup(11)
    started, stepped = threading.Event(), threading.Event()
    losses_b: list = []
    errors: list = []

    def thread_b():
        try:
            train_b(model_b, optimizer_b, scheduler_b, losses_b, started, stepped)
        except BaseException as exc:  # reported below, with the main thread's assertion
            errors.append(exc)
            stepped.set()

    worker = threading.Thread(target=thread_b)
    worker.start()
    try:
        losses_a, run = run_a(model_a, optimizer_a, True, started, stepped)
    finally:
        started.set()
        worker.join(60)
    assert not errors, f"thread B failed while A traced: {errors[0]!r}"
    assert run.traces == 1
    _assert_same(alone_a, losses_a, "thread A's compiled losses")
    _assert_same(list(model_a_alone[0].parameters()), list(model_a.parameters()), "thread A")
    _assert_same(alone_b, losses_b, "thread B's eager losses")
    _assert_same(list(model_b_alone[0].parameters()), list(model_b.parameters()), "thread B")


def test_two_threads_tracing_at_once_each_replay_their_own_step_exactly():
    """Two compiled steps traced at the same time in two threads (one trace ends while the
    other is halfway): each records only its own calls, and matches its eager run bitwise."""
    import threading

    X, y = _digits_like(seed=8)
    rng = np.random.default_rng(9)
    picks = [rng.choice(200, 32) for _ in range(8)]
    first_tracing, second_tracing, first_done = (threading.Event() for _ in range(3))

    def run(seed: int, compiled: bool, role: str | None = None):
        model = _digits_model(seed)
        optimizer = optim.Adam(model.parameters(), lr=1e-3)  # its state is made on a first step
        tracing = [role is not None]

        def step(x, target):
            if tracing[0]:  # the tracing call of a threaded run
                tracing[0] = False
                if role == "first":  # the first trace ends while the second is halfway
                    first_tracing.set()
                    assert second_tracing.wait(30), "the second thread never began its trace"
                else:
                    second_tracing.set()
                    assert first_done.wait(30), "the first thread never finished its trace"
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), target)  # Dropout draws: recorded in the trace
            loss.backward()
            optimizer.step()
            return loss

        call = tg.compile(step) if compiled else step
        if role == "second":
            assert first_tracing.wait(30), "the first thread never began its trace"
        losses = []  # each thread its own input tensors: a traced call swaps their arrays
        for index, (x, target) in enumerate((tg.Tensor(X[i]), y[i]) for i in picks):
            losses.append(call(x, target).data.copy())
            if index == 0 and role == "first":
                first_done.set()
        return losses, list(model.parameters())

    expected = {seed: run(seed, compiled=False) for seed in (21, 22)}
    results, errors = {}, []

    def worker(seed: int, role: str) -> None:
        try:
            results[seed] = run(seed, True, role)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            for event in (first_tracing, second_tracing, first_done):
                event.set()

    threads = [threading.Thread(target=worker, args=a) for a in ((21, "first"), (22, "second"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, f"a tracing thread failed: {errors[0]!r}"
    for seed in (21, 22):
        _assert_same(expected[seed][0], results[seed][0], f"thread {seed}'s losses")
        _assert_same(expected[seed][1], results[seed][1], f"thread {seed}'s parameters")


def test_tracing_a_tensor_another_thread_is_tracing_is_refused_clearly():
    import threading

    model, step = _linear_setup()
    inside, release = threading.Event(), threading.Event()

    def holding(x, y):
        inside.set()
        assert release.wait(30), "the main thread never released the trace"
        return step(x, y)

    x, y = tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1)))
    worker = threading.Thread(target=tg.compile(holding), args=(x, y))
    worker.start()
    try:
        assert inside.wait(30)
        with pytest.raises(tg.CompileError, match=r"another thread's compiled call is tracing"):
            tg.compile(step)(tg.Tensor(np.ones((4, 3))), tg.Tensor(np.zeros((4, 1))))
    finally:
        release.set()
        worker.join(30)
    assert type(model.weight.data) is np.ndarray  # the other trace handed the array back


# -- layouts: a matmul result written column-major when that is faster -------------------------


def _replay_arrays(compiled) -> list[np.ndarray]:
    return [v for v in compiled._last.__globals__.values() if isinstance(v, np.ndarray)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_matmul_result_written_column_major_replays_the_eager_bits(monkeypatch, dtype):
    """Forced to prefer the transposed layout, replay writes ``dW = dZ A^T`` column-major
    (its users are the elementwise update) and still gives eager's bits over 100 steps; the
    forward's ``Z = W X``, which a reduction reads, stays row-major."""
    monkeypatch.setattr(sys.modules["tinygrad_dl.compile"], "_LAYOUT_GAIN", float("inf"))
    X = np.random.default_rng(12).standard_normal((40, 50)).astype(dtype)
    start = np.random.default_rng(13).standard_normal((3, 40)).astype(dtype) * 0.1

    def make():
        w = tg.Tensor(start.copy(), requires_grad=True)

        def step(x):
            loss = ((w @ x).tanh() ** 2).sum()
            loss.backward()
            w.data -= 0.05 * w.grad.data
            w.grad = None
            return loss

        return w, step

    (w_eager, eager), (w_compiled, step) = make(), make()
    compiled = tg.compile(step)
    batches = [tg.Tensor(X * (1 + 0.01 * i)) for i in range(STEPS)]
    _assert_same([eager(x) for x in batches], [compiled(x) for x in batches], f"{dtype} losses")
    _assert_same([w_eager], [w_compiled], f"{dtype} weights")
    arrays = _replay_arrays(compiled)
    gradients = [a for a in arrays if a.shape == (3, 40) and a is not w_compiled.data]
    assert gradients and all(a.flags.f_contiguous and not a.flags.c_contiguous for a in gradients)
    assert all(a.flags.c_contiguous for a in arrays if a.shape == (3, 50))


def test_a_matmul_result_a_reduction_reads_keeps_its_layout(monkeypatch):
    """A reduction's (and a matmul's) bits depend on their operand's layout: a buffer such an
    op reads is never transposed, however fast that would be."""
    monkeypatch.setattr(sys.modules["tinygrad_dl.compile"], "_LAYOUT_GAIN", float("inf"))
    w = tg.Tensor(np.linspace(-1, 1, 120).reshape(3, 40), requires_grad=True)

    def step(x):
        loss = (w @ x).sum()  # Z is read by the sum only
        loss.backward()
        gradient_norm = (w.grad * w.grad).sum()  # dW read by a reduction too
        w.grad = None
        return loss + gradient_norm

    compiled = tg.compile(step)
    x = tg.Tensor(np.linspace(0, 1, 2000).reshape(40, 50))
    compiled(x)
    compiled(x)
    arrays = [a for a in _replay_arrays(compiled) if a.ndim == 2 and min(a.shape) > 1]
    assert arrays and all(a.flags.c_contiguous for a in arrays), [a.strides for a in arrays]

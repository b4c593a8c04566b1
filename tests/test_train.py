"""Tests for tinygrad_dl.train: fit, its history and metrics, and the progress reporting."""

import io
import os
import sys

import numpy as np
import pytest

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.data import DataLoader, load_flower
from tinygrad_dl.train import Progress, accuracy, binary_accuracy, fit


def _model(seed=0):
    return nn.Sequential(nn.Linear(2, 5, rng=seed), nn.Tanh(), nn.Linear(5, 1, rng=seed + 1))


def test_fit_is_exactly_the_manual_training_loop():
    X, Y = load_flower(m=80, layout="batch")
    fitted, manual = _model(), _model()
    opt_fit = optim.SGD(fitted.parameters(), lr=0.5, momentum=0.9)
    history = fit(
        fitted,
        nn.BCEWithLogitsLoss(),
        opt_fit,
        DataLoader(X, Y, batch_size=16, rng=3),
        epochs=3,
        progress=False,
    )
    opt = optim.SGD(manual.parameters(), lr=0.5, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    losses = []
    loader = DataLoader(X, Y, batch_size=16, rng=3)
    for _ in range(3):
        total = 0.0
        for x, y in loader:
            opt.zero_grad()
            loss = loss_fn(manual(x), y)
            loss.backward()
            opt.step()
            total += loss.item() * len(y)
        losses.append(total / len(Y))
    for a, b in zip(fitted.parameters(), manual.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-12)


def test_fit_full_batch_pair_lowers_the_loss_and_records_every_epoch():
    X, Y = load_flower(layout="batch")
    model = _model()
    history = fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.Adam(model.parameters(), lr=0.05),
        (X, Y),
        epochs=30,
        metrics=["accuracy"],
        progress=False,
    )
    assert set(history) == {"loss", "accuracy"}
    assert len(history["loss"]) == len(history["accuracy"]) == 30
    assert history["loss"][-1] < 0.7 * history["loss"][0]


def test_accuracy_metric_follows_the_loss_function():
    logits = np.array([[2.0], [-1.0], [0.3]])
    labels = np.array([[1.0], [0.0], [0.0]])
    # With logits (BCEWithLogitsLoss) the threshold is 0: two of three right.
    history = fit(
        _shift,
        nn.BCEWithLogitsLoss(),
        _NoOptimizer(),
        (logits, labels),
        metrics=["accuracy"],
        progress=False,
    )
    assert history["accuracy"] == [pytest.approx(2 / 3)]
    # With probabilities (BCELoss) it is 0.5: 0.3 and 0.45 are class 0, 0.7 class 1.
    history = fit(
        _shift,
        nn.BCELoss(),
        _NoOptimizer(),
        (np.array([[0.7], [0.3], [0.45]]), labels),
        metrics=["accuracy"],
        progress=False,
    )
    assert history["accuracy"] == [1.0]


_offset = nn.Parameter(np.zeros(1))


def _shift(x):
    """The identity, through a parameter so that backward has something to reach."""
    return x + _offset


class _NoOptimizer:
    def zero_grad(self):
        pass

    def step(self):
        pass


def test_accuracy_metric_is_argmax_for_class_scores_and_refuses_ambiguity():
    scores = np.array([[0.1, 0.9], [0.8, 0.2]])
    history = fit(
        _shift,
        lambda out, y: (out * 0).sum(),
        _NoOptimizer(),
        (scores, np.array([1, 1])),
        metrics=["accuracy"],
        progress=False,
    )
    assert history["accuracy"] == [0.5]
    with pytest.raises(ValueError, match="cannot tell logits from probabilities"):
        fit(
            _shift,
            lambda out, y: (out * 0).sum(),
            _NoOptimizer(),
            (np.zeros((2, 1)), np.zeros((2, 1))),
            metrics=["accuracy"],
            progress=False,
        )


def test_validation_runs_in_eval_mode_and_training_mode_is_restored():
    X, Y = load_flower(m=40, layout="batch")
    model = nn.Sequential(nn.Linear(2, 8, rng=0), nn.Dropout(0.5, rng=0), nn.Linear(8, 1, rng=1))
    seen_modes = []
    original_forward = model.forward

    def spy(x):
        seen_modes.append(model[1].training)
        return original_forward(x)

    model.forward = spy
    history = fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (X, Y),
        epochs=2,
        val_data=(X, Y),
        progress=False,
    )
    assert seen_modes == [True, False, True, False]
    assert model.training and model[1].training
    assert len(history["val_loss"]) == 2


def test_scheduler_is_stepped_once_per_epoch():
    X, Y = load_flower(m=20, layout="batch")
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.8)
    fit(
        model,
        nn.BCEWithLogitsLoss(),
        opt,
        DataLoader(X, Y, batch_size=5, rng=0),
        epochs=3,
        scheduler=optim.StepLR(opt, step_size=1, gamma=0.5),
        progress=False,
    )
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1)


def test_a_nan_loss_stops_training_with_a_clear_error():
    model = _model()
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, batch 1"):
        fit(
            model,
            lambda out, y: (out * np.nan).sum(),
            optim.SGD(model.parameters(), lr=0.1),
            (np.zeros((4, 2)), np.zeros((4, 1))),
            progress=False,
        )


def test_one_shot_iterators_are_refused():
    model = _model()
    batches = ((np.zeros((2, 2)), np.zeros((2, 1))) for _ in range(2))
    with pytest.raises(TypeError, match="one-shot iterator"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), batches, epochs=2)


def test_fit_logs_plain_lines_when_output_is_not_a_terminal():
    X, Y = load_flower(m=20, layout="batch")
    model = _model()
    out = io.StringIO()
    fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=0.1),
        (X, Y),
        epochs=20,
        log_every=5,
        file=out,
    )
    lines = out.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["1/20", "5/20", "10/20", "15/20", "20/20"]
    assert all("loss=" in line for line in lines)
    assert "\r" not in out.getvalue()


# -- Progress ---------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_uses_tqdm_on_a_terminal_and_log_lines_elsewhere():
    pytest.importorskip("tqdm", reason="tqdm (extra 'viz') not installed")
    with Progress(5, file=_Terminal()) as bar:
        assert bar.mode == "bar"
    with Progress(5, file=io.StringIO()) as log:
        assert log.mode == "log"
    with Progress(5, mode=False, file=io.StringIO()) as off:
        off.update(loss=1.0)
        assert off.mode == "off" and off.file.getvalue() == ""


def test_progress_falls_back_to_log_lines_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    out = _Terminal()
    with Progress(3, desc="steps", mode=True, every=1, file=out) as progress:
        assert progress.mode == "log"
        for _ in range(3):
            progress.update(loss=0.5)
    assert out.getvalue().count("loss=0.5") == 3


def test_progress_write_goes_above_the_bar_or_to_the_log():
    out = io.StringIO()
    with Progress(2, mode="log", file=out) as progress:
        progress.write("hello")
    assert out.getvalue() == "hello\n"
    with pytest.raises(ValueError, match="mode must be"):
        Progress(2, mode="fancy")


# -- metric functions -------------------------------------------------------------------------


def test_accuracy_and_binary_accuracy():
    assert accuracy(np.array([[0.2, 0.8], [0.9, 0.1], [0.3, 0.7]]), np.array([1, 0, 0])) == 2 / 3
    assert binary_accuracy(np.array([[0.7], [0.2]]), np.array([[1], [1]])) == 0.5
    assert binary_accuracy(tg.Tensor([[-0.1, 0.2]]), [[0, 1]], threshold=0.0) == 1.0
    with pytest.raises(ValueError, match=r"scores \(m, C\) and labels \(m,\)"):
        accuracy(np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="predictions for"):
        binary_accuracy(np.zeros(3), np.zeros(2))


# -- interrupts ---------------------------------------------------------------------------------


def _manual_steps(steps, batches, lr=0.3):
    """The same SGD-with-momentum training as a plain loop, for ``steps`` steps."""
    model = _model()
    opt = optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.BCEWithLogitsLoss()
    done = 0
    while done < steps:
        for x, y in batches:
            if done == steps:
                break
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
            done += 1
    return model, opt


def _assert_same_state(model, opt, other_model, other_opt):
    for a, b in zip(model.parameters(), other_model.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    state, other = opt.state_dict()["state"], other_opt.state_dict()["state"]
    assert state.keys() == other.keys()
    for key in state:
        assert state[key]["step"] == other[key]["step"]
        np.testing.assert_array_equal(state[key]["momentum_buffer"], other[key]["momentum_buffer"])


def _interrupting_loss(at_call, interrupt):
    loss_fn = nn.BCEWithLogitsLoss()
    calls = []

    def loss(output, target):
        calls.append(1)
        if len(calls) == at_call:
            interrupt()
        return loss_fn(output, target)

    return loss


def test_keyboard_interrupt_from_the_loss_stops_after_the_last_completed_step(capsys):
    X, Y = load_flower(m=40, layout="batch")
    batches = [(X[i : i + 10], Y[i : i + 10]) for i in range(0, 40, 10)]  # 4 steps an epoch

    def interrupt():
        raise KeyboardInterrupt

    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    # The 7th loss raises: 6 steps are complete (one epoch and two batches of the second).
    history = fit(model, _interrupting_loss(7, interrupt), opt, batches, epochs=5, progress=False)
    assert history.interrupted and len(history["loss"]) == 1
    line = capsys.readouterr().err
    assert "training interrupted (KeyboardInterrupt) during batch 3 of epoch 2" in line
    assert "history of 1 completed epoch" in line
    _assert_same_state(model, opt, *_manual_steps(6, batches))


def test_ctrl_c_from_another_thread_finishes_the_step_then_stops():
    import signal
    import threading

    X, Y = load_flower(m=40, layout="batch")

    def interrupt():  # a real SIGINT, sent from another thread mid-step
        sender = threading.Thread(target=os.kill, args=(os.getpid(), signal.SIGINT))
        sender.start()
        sender.join()

    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.3, momentum=0.9)
    out = io.StringIO()
    history = fit(
        model, _interrupting_loss(3, interrupt), opt, (X, Y), epochs=10, progress="log", file=out
    )
    # Full batch: the third step completes, its epoch is recorded, the fourth never starts.
    assert history.interrupted and len(history["loss"]) == 3
    assert "interrupted (KeyboardInterrupt) before batch 1 of epoch 4" in out.getvalue()
    _assert_same_state(model, opt, *_manual_steps(3, [(X, Y)]))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_a_second_ctrl_c_stops_at_once():
    import signal

    X, Y = load_flower(m=20, layout="batch")

    def interrupt_twice():
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)

    model = _model()
    with pytest.raises(KeyboardInterrupt):
        fit(
            model,
            _interrupting_loss(2, interrupt_twice),
            optim.SGD(model.parameters(), lr=0.1),
            (X, Y),
            epochs=5,
            progress=False,
        )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- non-finite values --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs are the point
def test_a_non_finite_gradient_stops_before_the_update_and_names_the_parameter():
    X, Y = load_flower(m=20, layout="batch")
    model = _model()
    before = [p.data.copy() for p in model.parameters()]

    def loss(output, target):  # 0 at the start, with a NaN gradient: d sqrt(u)/du = inf at 0
        return tg.sqrt(((output - output.detach()) ** 2).sum())

    with pytest.raises(FloatingPointError) as caught:
        fit(model, loss, optim.SGD(model.parameters(), lr=0.1), (X, Y), progress=False)
    message = str(caught.value)
    assert "gradient of 0.weight became nan at epoch 1, batch 1 (the loss was 0)" in message
    assert "NaN/inf" in message and "learning rate (lr=0.1 now)" in message
    for param, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(param.data, old)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs are the point
def test_diverging_training_stops_with_finite_parameters_and_names_the_inputs():
    X, Y = load_flower(m=20, layout="batch")
    model = nn.Linear(2, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=1e60)
    with pytest.raises(FloatingPointError, match=r"loss became inf .*\(lr=1e\+60 now\)"):
        fit(model, nn.MSELoss(), opt, (X * 10, Y), epochs=50, progress=False)
    assert all(np.isfinite(p.data).all() for p in model.parameters())
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(FloatingPointError, match="this batch's inputs x hold 1 NaN/inf values"):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), (bad, Y), progress=False)


# -- data layouts -------------------------------------------------------------------------------


def test_lists_and_tuples_of_numbers_train_exactly_as_arrays():
    X, Y = load_flower(m=20, layout="batch")
    results = []
    for data in [(X, Y), [X, Y], (X.tolist(), Y.tolist()), [tuple(map(tuple, X)), Y.tolist()]]:
        model = _model()
        history = fit(
            model,
            nn.BCEWithLogitsLoss(),
            optim.SGD(model.parameters(), lr=0.5),
            data,
            epochs=3,
            progress=False,
        )
        results.append((history["loss"], [p.data.copy() for p in model.parameters()]))
    for losses, params in results[1:]:
        assert losses == results[0][0]
        for a, b in zip(params, results[0][1]):
            np.testing.assert_array_equal(a, b)


def test_a_list_of_equally_shaped_batches_is_batches_not_one_stacked_array():
    # x and y of the same shape: np.asarray would happily stack [(x1, y1), (x2, y2)].
    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((4, 1)), rng.standard_normal((4, 1))) for _ in range(2)]
    model = nn.Linear(1, 1, rng=0)
    manual = nn.Linear(1, 1, rng=0)
    fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), batches, progress=False)
    opt = optim.SGD(manual.parameters(), lr=0.1)
    for x, y in batches:
        opt.zero_grad()
        nn.MSELoss()(manual(x), y).backward()
        opt.step()
    np.testing.assert_array_equal(model.weight.data, manual.weight.data)


@pytest.mark.parametrize(
    "data, error, match",
    [
        ((np.zeros((4, 2)),), TypeError, r"batch 1 of data is an array of shape \(4, 2\)"),
        ([np.zeros((4, 2))] * 3, TypeError, r"not an \(x, y\) pair; fit takes an \(X, y\) pair"),
        ({"X": np.zeros((4, 2))}, TypeError, "data is a dict"),
        (5, TypeError, "data is a int"),
        ((np.zeros((4, 2)), np.zeros((3, 1))), ValueError, r"same number of examples m.*X\.T"),
        (([[1.0, 2.0], [3.0]], [0, 1]), TypeError, "X of data does not convert to an array"),
        ([(np.zeros((2, 2)), np.zeros((2, 1)), np.zeros(2))], TypeError, "a tuple of 3 items"),
    ],
    ids=["one-array", "three-arrays", "dict", "int", "rows-differ", "ragged", "triple"],
)
def test_other_layouts_are_clear_errors_naming_the_expected_layout(data, error, match):
    model = _model()
    with pytest.raises(error, match=match):
        fit(model, nn.MSELoss(), optim.SGD(model.parameters(), lr=0.1), data, progress=False)


def test_an_infinite_learning_rate_is_refused_before_any_update():
    X, Y = load_flower(m=20, layout="batch")
    model = _model()
    before = [p.data.copy() for p in model.parameters()]
    opt = optim.SGD(model.parameters(), lr=float("inf"))
    with pytest.raises(ValueError, match=r"lr=inf \(param group 0\) at the start of epoch 1"):
        fit(model, nn.BCEWithLogitsLoss(), opt, (X, Y), progress=False)
    for param, old in zip(model.parameters(), before):
        np.testing.assert_array_equal(param.data, old)


def test_fit_batch_size_trains_on_shuffled_minibatches_of_a_pair():
    X, Y = load_flower(m=80, layout="batch")
    model = _model()
    np.random.seed(0)
    steps = []
    optimizer = optim.SGD(model.parameters(), lr=0.5)
    original_step = optimizer.step

    def counting_step():
        steps.append(1)
        original_step()

    optimizer.step = counting_step
    history = fit(
        model, nn.BCEWithLogitsLoss(), optimizer, (X, Y), epochs=2, batch_size=32, progress=False
    )
    assert len(steps) == 2 * 3  # ceil(80 / 32) batches per epoch
    assert len(history["loss"]) == 2
    with pytest.raises(TypeError, match="batch_size= needs data as an \\(X, y\\) pair"):
        fit(
            model,
            nn.BCEWithLogitsLoss(),
            optimizer,
            DataLoader(X, Y, batch_size=8),
            batch_size=4,
            progress=False,
        )


def test_fit_unknown_metric_lists_the_known_ones():
    X, Y = load_flower(m=20, layout="batch")
    model = _model()
    with pytest.raises(ValueError, match="unknown metric 'acc'; known: accuracy"):
        fit(
            model,
            nn.BCEWithLogitsLoss(),
            optim.SGD(model.parameters(), lr=0.1),
            (X, Y),
            metrics=["acc"],
            progress=False,
        )


# -- compiled steps -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda params: optim.SGD(params, lr=0.5, momentum=0.9),
        lambda params: optim.Adam(params, lr=0.05),
    ],
)
def test_fit_with_compile_trains_bitwise_as_eager_fit(make_optimizer):
    X, Y = load_flower(m=80, layout="batch")
    results = []
    for compiled in (False, True):
        model = _model()
        optimizer = make_optimizer(model.parameters())
        scheduler = optim.StepLR(optimizer, step_size=2, gamma=0.5)  # lr read at every replay
        history = fit(
            model,
            nn.BCEWithLogitsLoss(),
            optimizer,
            DataLoader(X, Y, batch_size=16, rng=3),
            epochs=5,
            metrics=["accuracy"],
            scheduler=scheduler,
            progress=False,
            compile=compiled,
        )
        results.append((history, [p.data.copy() for p in model.parameters()]))
    (eager, eager_params), (fast, fast_params) = results
    assert fast["loss"] == eager["loss"] and fast["accuracy"] == eager["accuracy"]
    for a, b in zip(fast_params, eager_params):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the NaNs are the point
def test_fit_with_compile_still_stops_before_a_non_finite_update():
    X, Y = load_flower(m=20, layout="batch")
    model = nn.Linear(2, 1, rng=0)
    with pytest.raises(FloatingPointError, match="became"):
        fit(
            model,
            nn.MSELoss(),
            optim.SGD(model.parameters(), lr=1e60),
            (X * 10, Y),
            epochs=50,
            progress=False,
            compile=True,
        )
    assert all(np.isfinite(p.data).all() for p in model.parameters())

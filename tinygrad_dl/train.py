"""The training loop: ``fit`` runs epochs of minibatch steps and returns a history of metrics.

One step is the course's iteration: forward propagation, cost, backward propagation, update::

    optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); optimizer.step()

Progress is a tqdm bar when tqdm is installed (extra ``viz``) and the output is a terminal, and
plain log lines otherwise (CI logs, pipes, notebooks' captured output), so a run never floods a
log with carriage returns.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

import numpy as np

from .autograd import no_grad
from .tensor import Tensor

__all__ = ["History", "Progress", "accuracy", "binary_accuracy", "fit"]

Metric = Callable[[np.ndarray, np.ndarray], float]


# -- metrics ------------------------------------------------------------------------------------


def _array(x: Any) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output: Any, target: Any) -> float:
    """Fraction of rows whose largest score is at the integer label: ``mean(argmax(Z) == y)``.

    Parameters
    ----------
    output : array_like or Tensor
        Scores (logits or probabilities) of shape ``(m, C)``.
    target : array_like or Tensor
        Integer labels of shape ``(m,)``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the shapes do not fit.
    """
    scores, labels = _array(output), _array(target)
    if scores.ndim != 2 or labels.shape != (scores.shape[0],):
        raise ValueError(
            f"accuracy: expected scores (m, C) and labels (m,), got {scores.shape} and "
            f"{labels.shape}"
        )
    return float(np.mean(scores.argmax(axis=1) == labels))


def binary_accuracy(output: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of predictions ``output > threshold`` equal to the 0/1 labels.

    Use ``threshold=0.5`` on probabilities (after a sigmoid) and ``threshold=0.0`` on logits.

    Parameters
    ----------
    output : array_like or Tensor
        Probabilities or logits; any shape with as many elements as ``target``.
    target : array_like or Tensor
        Labels 0/1.
    threshold : float
        The decision boundary.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If the number of elements differs.
    """
    predictions, labels = _array(output), _array(target)
    if predictions.size != labels.size:
        raise ValueError(
            f"binary_accuracy: {predictions.shape} predictions for {labels.shape} labels"
        )
    return float(np.mean((predictions.ravel() > threshold) == (labels.ravel() > 0.5)))


_METRIC_NAMES = ("accuracy",)


def _resolve_metric(name: str, loss_fn: Any) -> Metric:
    if name not in _METRIC_NAMES:
        raise ValueError(
            f"fit: unknown metric {name!r}; known: {', '.join(_METRIC_NAMES)} (or pass a "
            "function f(output, target))"
        )
    from .nn.loss import BCELoss, BCEWithLogitsLoss

    if isinstance(loss_fn, BCEWithLogitsLoss):
        return lambda output, target: binary_accuracy(output, target, threshold=0.0)
    if isinstance(loss_fn, BCELoss):
        return binary_accuracy

    def auto(output: np.ndarray, target: np.ndarray) -> float:
        if output.ndim == 2 and output.shape[1] > 1:
            return accuracy(output, target)
        raise ValueError(
            "fit: metric 'accuracy' cannot tell logits from probabilities for one output "
            "column; pass metrics={'accuracy': functools.partial(binary_accuracy, threshold=...)}"
        )

    return auto


# -- progress -----------------------------------------------------------------------------------


def _tqdm() -> Any:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """Progress of a loop: a tqdm bar on a terminal, plain log lines elsewhere, or nothing.

    Parameters
    ----------
    total : int
        Number of steps.
    desc : str
        Shown before the counter.
    mode : {None, True, False, "bar", "log"}
        ``None`` chooses: a bar when tqdm is installed and ``file`` is a terminal, else log
        lines. ``True`` or ``"bar"`` asks for a bar (log lines when tqdm is missing); ``"log"``
        forces log lines; ``False`` is silent.
    every : int, optional
        Log-line interval in steps (default: about ten lines per run).
    file : file object, optional
        Where to write (``sys.stdout``).

    Examples
    --------
    >>> with Progress(3, desc="train", mode="log", every=1) as progress:
    ...     for step in range(3):
    ...         progress.update(loss=1.0 / (step + 1))  # doctest: +ELLIPSIS
    train 1/3 loss=1 (...s)
    train 2/3 loss=0.5 (...s)
    train 3/3 loss=0.3333 (...s)
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        mode: bool | str | None = None,
        every: int | None = None,
        file: IO[str] | None = None,
    ) -> None:
        self.total = int(total)
        self.desc = desc
        self.file = file if file is not None else sys.stdout
        self.every = every if every is not None else max(1, self.total // 10)
        self.count = 0
        self._start = time.perf_counter()
        self._bar = None
        if mode is False:
            self.mode = "off"
        elif mode == "log":
            self.mode = "log"
        elif mode in (None, True, "bar"):
            tqdm = _tqdm()
            is_terminal = bool(getattr(self.file, "isatty", lambda: False)())
            wanted = mode in (True, "bar") or is_terminal
            self.mode = "bar" if tqdm is not None and wanted else "log"
            if self.mode == "bar":
                self._bar = tqdm(total=self.total, desc=desc, file=self.file, leave=True)
        else:
            raise ValueError(
                f"Progress: mode must be None, True, False, 'bar' or 'log', got {mode!r}"
            )

    def update(self, steps: int = 1, **values: float) -> None:
        """Advance by ``steps`` and show ``values`` (for example ``loss=0.31``)."""
        self.count += steps
        if self.mode == "bar":
            if values:
                self._bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)
            self._bar.update(steps)
        elif self.mode == "log":
            if self.count % self.every == 0 or self.count == self.total or self.count == 1:
                shown = " ".join(f"{k}={v:.4g}" for k, v in values.items())
                elapsed = time.perf_counter() - self._start
                line = f"{self.desc} {self.count}/{self.total} {shown} ({elapsed:.1f}s)"
                print(" ".join(line.split()), file=self.file, flush=True)

    def write(self, line: str) -> None:
        """Print a line without breaking the bar (above it), or plainly without a bar."""
        if self._bar is not None:
            self._bar.write(line, file=self.file)
        elif self.mode != "off":
            print(line, file=self.file, flush=True)

    def close(self) -> None:
        """Finish the bar (no-op for log lines)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- fit ----------------------------------------------------------------------------------------


_LAYOUT = (
    "fit takes an (X, y) pair of arrays (X of shape (m, ...) and y with m rows; Tensors and "
    "nested lists of numbers work too), a list of (x, y) batches, or a DataLoader"
)


def _is_one_array(value: Any) -> bool:
    """An array, a Tensor, or nested lists/tuples of plain numbers (which NumPy converts).

    A list or tuple that holds arrays is structure (a pair, or a list of batches), never one
    array: ``[(x1, y1), (x2, y2)]`` must not be stacked into an array of two batches.
    """
    if isinstance(value, np.ndarray | Tensor):
        return True
    # Nested lists of numbers are regular, so their first elements, all the way down, tell.
    while isinstance(value, list | tuple) and len(value) > 0:
        value = value[0]
    return isinstance(value, int | float | complex | np.generic)


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray | Tensor):
        return f"an array of shape {tuple(value.shape)}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__}"


def _pair(x: Any, y: Any, what: str) -> tuple[Any, Any]:
    """An (X, y) pair as arrays (Tensors kept), with as many rows in y as examples in X."""
    arrays = []
    for name, value in (("X", x), ("y", y)):
        if not isinstance(value, Tensor):
            try:
                value = np.asarray(value)
            except (ValueError, TypeError) as error:
                raise TypeError(
                    f"fit: {name} of {what} does not convert to an array ({error}); {_LAYOUT}"
                ) from None
        arrays.append(value)
    x, y = arrays
    if x.ndim == 0 or y.ndim == 0 or x.shape[0] != y.shape[0]:
        raise ValueError(
            f"fit: X of {what} has shape {tuple(x.shape)} and y has shape {tuple(y.shape)}: they "
            "need the same number of examples m along axis 0 (batch-first; for the course's "
            f"(n_x, m) layout pass X.T and Y.T); {_LAYOUT}"
        )
    return x, y


def _batches(data: Any, what: str = "data") -> Iterable[Any]:
    """The epoch's batches: a full-batch (X, y) pair, or a re-iterable source of pairs."""
    if isinstance(data, list | tuple) and len(data) == 2 and all(map(_is_one_array, data)):
        return [_pair(data[0], data[1], what)]
    if isinstance(data, Mapping | np.ndarray | Tensor | str | bytes):
        raise TypeError(f"fit: {what} is {_describe(data)}; {_LAYOUT}")
    try:
        is_one_shot = iter(data) is data
    except TypeError:
        raise TypeError(f"fit: {what} is {_describe(data)}; {_LAYOUT}") from None
    if is_one_shot:
        raise TypeError(
            f"fit: {what} is a one-shot iterator (a generator?); pass a DataLoader, a list of "
            "batches, or an (X, y) pair so that every epoch can iterate it again"
        )
    return data


def _unpack(batch: Any, number: int, what: str) -> tuple[Any, Any]:
    if isinstance(batch, list | tuple) and len(batch) == 2:
        return batch[0], batch[1]
    raise TypeError(
        f"fit: batch {number} of {what} is {_describe(batch)}, not an (x, y) pair; {_LAYOUT}"
    )


def _as_input(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _evaluate(
    model: Any, loss_fn: Any, data: Any, metrics: Mapping[str, Metric]
) -> dict[str, float]:
    totals: dict[str, float] = {"loss": 0.0, **{name: 0.0 for name in metrics}}
    count = 0
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            for number, batch in enumerate(_batches(data, "val_data"), start=1):
                x, y = _unpack(batch, number, "val_data")
                output = model(_as_input(x))
                n = len(_array(y))
                totals["loss"] += float(loss_fn(output, y).item()) * n
                for name, metric in metrics.items():
                    totals[name] += metric(output.data, _array(y)) * n
                count += n
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return {name: value / count for name, value in totals.items()}


class History(dict):
    """What :func:`fit` returns: a dict of per-epoch lists, and whether Ctrl-C stopped it.

    Attributes
    ----------
    interrupted : bool
        True when training stopped early on a ``KeyboardInterrupt``; the lists then hold the
        epochs that were completed.
    """

    interrupted: bool = False


class _Interrupts:
    """Ctrl-C during fit: the first one stops training after the current step, a second at once.

    Only in the main thread (where Python runs signal handlers) and only when nobody else has
    installed a SIGINT handler; the previous handler comes back when fit returns. The handler
    only sets a flag: printing from a signal handler can break a half-written line.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> _Interrupts:
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise _StopNow
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


class _StopNow(KeyboardInterrupt):
    """A second Ctrl-C: leave fit at once, as Python normally would."""


def _watched_parameters(model: Any, optimizer: Any) -> list[tuple[str, Tensor]]:
    """The parameters the optimiser updates, named as the model names them where it can."""
    names = {}
    if hasattr(model, "named_parameters"):
        names = {id(param): name for name, param in model.named_parameters()}
    params = [p for group in getattr(optimizer, "param_groups", ()) for p in group["params"]]
    if not params and hasattr(model, "parameters"):
        params = list(model.parameters())
    return [(names.get(id(p), f"parameter {i}"), p) for i, p in enumerate(params)]


def _first_non_finite_gradient(watched: list[tuple[str, Tensor]]) -> tuple[str, str] | None:
    """The first parameter whose gradient holds NaN or inf, and which, or None.

    Runs every step, so it is one ``sum`` per gradient (a NaN or inf anywhere makes the sum
    non-finite); the exact test runs only then, to tell it from a sum that merely overflowed.
    """
    for name, param in watched:
        grad = param.grad
        if grad is None:
            continue
        grad = grad.data if isinstance(grad, Tensor) else grad
        total = grad.sum()
        if total - total != 0 and not np.isfinite(grad).all():  # inf - inf and NaN are NaN
            return name, "nan" if np.isnan(grad).any() else "inf"
    return None


def _check_hyperparameters(optimizer: Any, epoch: int) -> None:
    """An infinite or NaN learning rate (or momentum, ...) writes NaN even from finite gradients.

    Checked at every epoch's start, after the scheduler has had its say.
    """
    for index, group in enumerate(getattr(optimizer, "param_groups", ())):
        for key, value in group.items():
            values = value if isinstance(value, tuple) else (value,)
            if any(
                isinstance(v, int | float) and not isinstance(v, bool) and not math.isfinite(v)
                for v in values
            ):
                raise ValueError(
                    f"fit: the optimiser's {key}={value!r} (param group {index}) at the start of "
                    f"epoch {epoch} is not finite; the update would write inf/NaN into the "
                    "parameters, so nothing was changed"
                )


def _non_finite_advice(x: Any, y: Any, optimizer: Any) -> str:
    """Where NaN/inf usually come from, with what this batch and optimiser show."""
    hints = []
    for name, value in (("inputs x", x), ("targets y", y)):
        with np.errstate(all="ignore"):
            array = np.asarray(_array(value))
            if array.dtype.kind in "fc" and not np.isfinite(array).all():
                bad = int(array.size - np.isfinite(array).sum())
                hints.append(f"this batch's {name} hold {bad} NaN/inf values")
    rates = sorted({group.get("lr") for group in getattr(optimizer, "param_groups", ())} - {None})
    rate = f" (lr={', '.join(map(str, rates))} now)" if rates else ""
    hints.append(
        "check the inputs for NaN/inf (np.isfinite(X).all()), try a smaller learning rate"
        f"{rate}, or standardise the inputs"
    )
    return "; ".join(hints)


def _compiled_steps(model: Any, loss_fn: Callable, optimizer: Any) -> tuple[Callable, Callable]:
    """A batch's gradient step (zero_grad, forward, cost, backward) and its update, each under
    ``tg.compile``: fit checks the loss and the gradients between the two, as it does eagerly,
    so a NaN never reaches the parameters."""
    from .compile import compile as compile_step

    def gradients(x: Tensor, y: Any) -> tuple[Tensor, Tensor]:
        optimizer.zero_grad()
        output = model(x)
        loss = loss_fn(output, y)
        loss.backward()
        return loss, output

    def update() -> None:
        optimizer.step()

    return compile_step(gradients), compile_step(update)


def fit(
    model: Any,
    loss_fn: Callable[[Tensor, Any], Tensor],
    optimizer: Any,
    data: Any,
    epochs: int = 1,
    *,
    val_data: Any = None,
    metrics: Sequence[str] | Mapping[str, Metric | str] | None = None,
    scheduler: Any = None,
    progress: bool | str | None = None,
    log_every: int | None = None,
    file: IO[str] | None = None,
    batch_size: int | None = None,
    compile: bool = False,  # noqa: A002 - tg.compile's name, as the issue asks
) -> History:
    """Train ``model`` for ``epochs`` passes over ``data`` and return the history.

    Ctrl-C stops training cleanly: the step in progress finishes (so the model and the
    optimiser's state are from the same step), a line says training was interrupted, and the
    history of the completed epochs is returned with ``history.interrupted = True``; a second
    Ctrl-C stops at once. A ``KeyboardInterrupt`` raised by your own code (the model, the loss)
    abandons the step it was raised in before its update, and stops the same way.

    A NaN or infinite loss or gradient stops training *before* the update that would write it
    into the parameters: they keep their values from the step before.

    Parameters
    ----------
    model : Module or callable
        Maps a batch-first input Tensor to outputs.
    loss_fn : callable
        ``loss_fn(output, target) -> scalar Tensor`` (``nn.CrossEntropyLoss()``, ...).
    optimizer : Optimizer
        Its ``zero_grad`` and ``step`` are called once per batch.
    data : DataLoader, list of (x, y) batches, or an (X, y) pair
        An (X, y) pair of arrays is one full batch per epoch (the course's gradient descent).
        Arrays are batch-first (``X`` of shape ``(m, ...)``, ``y`` with ``m`` rows); Tensors and
        nested lists of numbers work too. A list or tuple holding arrays is a list of batches.
    epochs : int
        Number of passes.
    val_data : same kinds as ``data``, optional
        Evaluated after every epoch in eval mode, without gradients.
    metrics : list of str, or dict of name -> metric, optional
        ``"accuracy"`` (chosen from the loss: logits threshold 0 for ``BCEWithLogitsLoss``, 0.5
        for ``BCELoss``, argmax otherwise), or functions ``f(output_array, target_array)``.
    scheduler : LRScheduler, optional
        Stepped once per epoch.
    progress : {None, True, False, "bar", "log"}
        See :class:`Progress`.
    log_every : int, optional
        Epochs between log lines.
    file : file object, optional
        Where progress goes (``sys.stdout``).
    batch_size : int, optional
        With an (X, y) pair as ``data``: train on shuffled minibatches of this size (a
        :class:`~tinygrad_dl.data.DataLoader`, drawing from NumPy's global random state)
        instead of one full batch.
    compile : bool
        Run each batch's gradient step and update through :func:`tinygrad_dl.compile`
        (traced on the first batch, replayed after; the same numbers bitwise). The loss and
        gradients are still checked before the update.

    Returns
    -------
    History
        A dict with one value per completed epoch for ``"loss"``, each metric, and
        ``"val_loss"``/``"val_<metric>"`` with ``val_data``. Training metrics are averaged
        over the epoch's batches as they were computed (in training mode, before each update).

    Raises
    ------
    FloatingPointError
        If the loss or a gradient becomes NaN or infinite (naming the epoch, the batch and the
        parameter); the parameters are as before that step.
    TypeError
        If ``data`` is not one of the layouts above, or can be iterated only once.
    ValueError
        If ``X`` and ``y`` have different numbers of examples, or a hyperparameter of the
        optimiser (``lr``, ``momentum``, ...) is infinite or NaN at an epoch's start.
    """
    if not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if metrics is None:
        metrics = {}
    elif not isinstance(metrics, Mapping):
        metrics = {name: name for name in metrics}
    resolved: dict[str, Metric] = {
        name: (_resolve_metric(metric, loss_fn) if isinstance(metric, str) else metric)
        for name, metric in metrics.items()
    }
    if batch_size is not None:
        if not (isinstance(data, tuple | list) and len(data) == 2):
            raise TypeError(
                "fit: batch_size= needs data as an (X, y) pair; a DataLoader sets its own "
                "batch_size"
            )
        from .data import DataLoader

        data = DataLoader(*data, batch_size=batch_size, shuffle=True)
    batches = _batches(data)
    history = History(loss=[], **{name: [] for name in resolved})
    if val_data is not None:
        _batches(val_data, "val_data")
        history["val_loss"] = []
        history.update({f"val_{name}": [] for name in resolved})
    watched = _watched_parameters(model, optimizer)
    if hasattr(model, "train"):
        model.train()
    compiled = _compiled_steps(model, loss_fn, optimizer) if compile else None
    with (
        _Interrupts() as interrupts,
        Progress(epochs, desc="epoch", mode=progress, every=log_every, file=file) as bar,
    ):
        for epoch in range(1, epochs + 1):
            totals = {"loss": 0.0, **{name: 0.0 for name in resolved}}
            count = 0
            _check_hyperparameters(optimizer, epoch)
            stopped = abandoned = False
            for batch_number, batch in enumerate(batches, start=1):
                if interrupts.requested:
                    stopped = True
                    break
                x, y = _unpack(batch, batch_number, "data")
                try:
                    if compiled is not None:
                        loss, output = compiled[0](_as_input(x), y)
                    else:
                        optimizer.zero_grad()
                        output = model(_as_input(x))
                        loss = loss_fn(output, y)
                    value = float(loss.item())
                    where = f"at epoch {epoch}, batch {batch_number}"
                    if not math.isfinite(value):
                        raise FloatingPointError(
                            f"fit: the loss became {value} {where}; the parameters are as "
                            f"before this step; {_non_finite_advice(x, y, optimizer)}"
                        )
                    if compiled is None:
                        loss.backward()
                except _StopNow:
                    raise
                except KeyboardInterrupt:
                    # Raised by the model or the loss: the step is abandoned before its update.
                    interrupts.requested = stopped = abandoned = True
                    break
                bad = _first_non_finite_gradient(watched)
                if bad is not None:
                    raise FloatingPointError(
                        f"fit: the gradient of {bad[0]} became {bad[1]} {where} (the loss was "
                        f"{value:.4g}); the update was not applied, the parameters are as "
                        f"before this step; {_non_finite_advice(x, y, optimizer)}"
                    )
                if compiled is not None:
                    compiled[1]()
                else:
                    optimizer.step()
                n = len(_array(y))
                totals["loss"] += value * n
                for name, metric in resolved.items():
                    totals[name] += metric(output.data, _array(y)) * n
                count += n
            if stopped:
                history.interrupted = True
                when = "during" if abandoned else "before"
                _say(
                    bar,
                    file,
                    f"fit: training interrupted (KeyboardInterrupt) {when} batch {batch_number} "
                    f"of epoch {epoch}; the model and optimiser are as after the last completed "
                    f"step; returning the history of {epoch - 1} completed epoch(s)",
                )
                break
            if count == 0:
                raise ValueError("fit: data produced no batches")
            for name, total in totals.items():
                history[name].append(total / count)
            if scheduler is not None:
                scheduler.step()
            shown = {name: values[-1] for name, values in history.items() if values}
            if val_data is not None:
                for name, value in _evaluate(model, loss_fn, val_data, resolved).items():
                    history[f"val_{name}"].append(value)
                    shown[f"val_{name}"] = value
            bar.update(**shown)
        if interrupts.requested and not history.interrupted:
            _say(bar, file, "fit: KeyboardInterrupt as the last epoch ended; training finished")
    return history


def _say(bar: Progress, file: IO[str] | None, line: str) -> None:
    """A line the user must see even with ``progress=False`` (then on stderr, or ``file``)."""
    if bar.mode == "off":
        print(line, file=file if file is not None else sys.stderr, flush=True)
    else:
        bar.write(line)

"""The training loop: ``fit`` runs epochs of minibatch steps and returns a history of metrics.

One step is the course's iteration: forward propagation, cost, backward propagation, update::

    optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); optimizer.step()

Progress is a tqdm bar when tqdm is installed (extra ``viz``) and the output is a terminal, and
plain log lines otherwise (CI logs, pipes, notebooks' captured output), so a run never floods a
log with carriage returns.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, Any

import numpy as np

from .autograd import no_grad
from .tensor import Tensor

__all__ = ["Progress", "accuracy", "binary_accuracy", "fit"]

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


def _resolve_metric(name: str, loss_fn: Any) -> Metric:
    if name != "accuracy":
        raise ValueError(f"fit: unknown metric {name!r}; pass a function f(output, target)")
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


def _batches(data: Any) -> Iterable[tuple[Any, Any]]:
    """The epoch's batches: a full-batch (X, y) pair, or a re-iterable source of pairs."""
    if (
        isinstance(data, tuple | list)
        and len(data) == 2
        and all(isinstance(a, np.ndarray | Tensor) for a in data)
    ):
        return [tuple(data)]
    if iter(data) is data:
        raise TypeError(
            "fit: data is a one-shot iterator (a generator?); pass a DataLoader, a list of "
            "batches, or an (X, y) pair so that every epoch can iterate it again"
        )
    return data


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
            for x, y in _batches(data):
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


def _compiled_step(model: Any, loss_fn: Callable, optimizer: Any) -> Callable:
    """One batch's step (zero_grad, forward, cost, backward, update) under ``tg.compile``."""
    from .compile import compile as compile_step

    def step(x: Tensor, y: Any) -> tuple[Tensor, Tensor]:
        optimizer.zero_grad()
        output = model(x)
        loss = loss_fn(output, y)
        loss.backward()
        optimizer.step()
        return loss, output

    return compile_step(step)


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
    compile: bool = False,  # noqa: A002 - tg.compile's name, as the issue asks
) -> dict[str, list[float]]:
    """Train ``model`` for ``epochs`` passes over ``data`` and return the history.

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
    compile : bool
        Run each batch's step through :func:`tinygrad_dl.compile` (traced on the first batch,
        replayed after; same numbers bitwise). The NaN check then comes after the batch's
        update instead of before its backward.

    Returns
    -------
    dict[str, list[float]]
        One value per epoch for ``"loss"``, each metric, and ``"val_loss"``/``"val_<metric>"``
        with ``val_data``. Training metrics are averaged over the epoch's batches as they were
        computed (in training mode, before each update).

    Raises
    ------
    FloatingPointError
        If the loss becomes NaN or infinite (naming the epoch and batch).
    TypeError
        If ``data`` can be iterated only once.
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
    batches = _batches(data)
    history: dict[str, list[float]] = {"loss": [], **{name: [] for name in resolved}}
    if val_data is not None:
        _batches(val_data)
        history["val_loss"] = []
        history.update({f"val_{name}": [] for name in resolved})
    if hasattr(model, "train"):
        model.train()
    step = _compiled_step(model, loss_fn, optimizer) if compile else None
    with Progress(epochs, desc="epoch", mode=progress, every=log_every, file=file) as bar:
        for epoch in range(1, epochs + 1):
            totals = {"loss": 0.0, **{name: 0.0 for name in resolved}}
            count = 0
            for batch_number, (x, y) in enumerate(batches, start=1):
                if step is not None:
                    loss, output = step(_as_input(x), y)
                else:
                    optimizer.zero_grad()
                    output = model(_as_input(x))
                    loss = loss_fn(output, y)
                value = float(loss.item())
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"fit: the loss became {value} at epoch {epoch}, batch {batch_number}; "
                        "try a smaller learning rate or standardised inputs"
                    )
                if step is None:
                    loss.backward()
                    optimizer.step()
                n = len(_array(y))
                totals["loss"] += value * n
                for name, metric in resolved.items():
                    totals[name] += metric(output.data, _array(y)) * n
                count += n
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
    return history

"""Pictures as PNG files: loss curves, 2-D decision boundaries, gradient differences per layer.

matplotlib (extra ``viz``) is imported only when a function here is called, and only its Agg
canvas is used (no pyplot, no window, no global backend switch), so plotting works on a server
and leaves a user's own matplotlib set-up alone. Every function writes its PNG atomically and
returns the path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .serialization import atomic_write

__all__ = ["decision_boundaries", "decision_boundary", "gradient_differences", "loss_curves"]

_VIZ_HINT = "pip install 'tinygrad-dl[viz]'  (or: pip install matplotlib)"
# Differences of exactly 0 cannot sit on a log axis; they are drawn at this floor and labelled.
_FLOOR = 1e-20


def _figure(width: float, height: float) -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(f"tinygrad_dl.plot needs matplotlib: {_VIZ_HINT}") from error
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    canvas = FigureCanvasAgg(figure)
    return figure, canvas


def _save(canvas: Any, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as handle:
        canvas.print_png(handle)
    return path


def loss_curves(
    curves: Mapping[str, Sequence[float]] | Sequence[float],
    path: str | os.PathLike[str],
    *,
    steps: Sequence[float] | None = None,
    title: str = "Cost",
    xlabel: str = "iteration",
    ylabel: str = "cost J",
    log_scale: bool = False,
) -> Path:
    """Plot one or several cost curves against the iteration (or epoch).

    Parameters
    ----------
    curves : dict of label -> sequence of float, or one sequence
        For example ``{"hand-derived": costs_hand, "autodiff": costs_autodiff}``. Curves that
        coincide are drawn with different line styles so both stay visible.
    path : str or os.PathLike
        PNG file to write (parent directories are created).
    steps : sequence of float, optional
        The x values (default ``0, 1, 2, ...``), e.g. ``range(0, 10000, 100)``.
    title, xlabel, ylabel : str
        Labels.
    log_scale : bool
        Logarithmic y axis.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If a curve is empty or its length differs from ``steps``.
    ImportError
        If matplotlib is missing, saying what to install.
    """
    if not isinstance(curves, Mapping):
        curves = {"cost": curves}
    figure, canvas = _figure(6.4, 4.0)
    axes = figure.subplots()
    styles = ["-", "--", ":", "-."]
    for number, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float).ravel()
        if values.size == 0:
            raise ValueError(f"loss_curves: curve {label!r} is empty")
        x = np.arange(values.size) if steps is None else np.asarray(steps, dtype=float)
        if x.shape != values.shape:
            raise ValueError(
                f"loss_curves: curve {label!r} has {values.size} values for {x.size} steps"
            )
        axes.plot(
            x, values, styles[number % len(styles)], linewidth=2.5 - 0.5 * (number % 3), label=label
        )
    if log_scale:
        axes.set_yscale("log")
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.grid(alpha=0.3)
    axes.legend()
    return _save(canvas, path)


def _points_and_labels(X: Any, y: Any, function: str) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y).ravel()
    if X.ndim != 2 or X.shape[1] != 2:
        hint = " (the course's (2, m) layout? pass X.T)" if X.ndim == 2 and X.shape[0] == 2 else ""
        raise ValueError(f"{function}: X must have shape (m, 2), got {X.shape}{hint}")
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"{function}: {X.shape[0]} points but {y.shape[0]} labels")
    return X, y


def _draw_boundary(
    axes: Any,
    predict: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    resolution: int,
    title: str,
) -> None:
    margin = 1.0
    x_min, x_max = X[:, 0].min() - margin, X[:, 0].max() + margin
    y_min, y_max = X[:, 1].min() - margin, X[:, 1].max() + margin
    grid_x, grid_y = np.meshgrid(
        np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution)
    )
    points = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    predicted = predict(points)
    predicted = np.asarray(predicted.data if hasattr(predicted, "data") else predicted, dtype=float)
    if predicted.size != points.shape[0]:
        raise ValueError(
            f"decision_boundary: predict returned {predicted.size} values for "
            f"{points.shape[0]} points of shape {points.shape}; it must give one per row"
        )
    axes.contourf(
        grid_x, grid_y, predicted.reshape(grid_x.shape), levels=1, cmap="Spectral", alpha=0.8
    )
    axes.scatter(X[:, 0], X[:, 1], c=y, s=12, cmap="Spectral", edgecolors="k", linewidths=0.3)
    axes.set(title=title, xlabel="$x_1$", ylabel="$x_2$")


def decision_boundary(
    predict: Callable[[np.ndarray], Any],
    X: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    title: str = "Decision boundary",
    resolution: int = 200,
) -> Path:
    """Colour the plane by a classifier's prediction and scatter the labelled points on it.

    Parameters
    ----------
    predict : callable
        Maps a batch-first array of points ``(k, 2)`` to ``k`` predictions (0/1 labels, or
        anything thresholded the same way). For a course-layout model:
        ``lambda P: course.shallow.predict(parameters, P.T)``.
    X : array_like
        Points of shape ``(m, 2)`` (batch-first; the course's ``X.T``).
    y : array_like
        Their ``m`` labels (any shape with ``m`` elements).
    path : str or os.PathLike
        PNG file to write.
    title : str
        The title.
    resolution : int
        Grid points per axis.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If ``X`` is not ``(m, 2)``, or ``predict`` does not return one value per point.
    ImportError
        If matplotlib is missing.
    """
    X, y = _points_and_labels(X, y, "decision_boundary")
    figure, canvas = _figure(5.0, 4.4)
    _draw_boundary(figure.subplots(), predict, X, y, resolution, title)
    return _save(canvas, path)


def decision_boundaries(
    predicts: Mapping[str, Callable[[np.ndarray], Any]],
    X: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    columns: int = 4,
    resolution: int = 120,
) -> Path:
    """Several decision boundaries side by side (e.g. a hidden-size sweep), one panel each.

    Parameters
    ----------
    predicts : dict of title -> predict
        As in :func:`decision_boundary`.
    X, y : array_like
        Points ``(m, 2)`` and labels.
    path : str or os.PathLike
        PNG file to write.
    columns : int
        Panels per row.
    resolution : int
        Grid points per axis in each panel.

    Returns
    -------
    pathlib.Path
    """
    X, y = _points_and_labels(X, y, "decision_boundaries")
    if not predicts:
        raise ValueError("decision_boundaries: no classifiers given")
    columns = min(columns, len(predicts))
    rows = -(-len(predicts) // columns)
    figure, canvas = _figure(3.2 * columns, 3.0 * rows)
    axes = np.atleast_1d(figure.subplots(rows, columns)).ravel()
    for panel, (title, predict) in zip(axes, predicts.items()):
        _draw_boundary(panel, predict, X, y, resolution, title)
    for panel in axes[len(predicts) :]:
        panel.set_visible(False)
    return _save(canvas, path)


def gradient_differences(
    differences: Mapping[str, float],
    path: str | os.PathLike[str],
    *,
    title: str = "max |hand-derived - autodiff| per parameter",
    tolerance: float | None = None,
) -> Path:
    """Bar chart, on a log scale, of the gradient difference of each parameter.

    Parameters
    ----------
    differences : dict of name -> float
        For example ``{"dW1": 2e-17, "db1": 0.0, "dW2": 5e-17, "db2": 1e-17}``, in layer order.
        Exact zeros are drawn at 1e-20 and labelled "0".
    path : str or os.PathLike
        PNG file to write.
    title : str
        The title.
    tolerance : float, optional
        Drawn as a dashed line (e.g. the pass/fail threshold).

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ValueError
        If there are no values, or one is negative or NaN.
    """
    if not differences:
        raise ValueError("gradient_differences: no values to plot")
    names = list(differences)
    values = np.array([float(differences[name]) for name in names])
    if np.any(np.isnan(values)) or np.any(values < 0):
        raise ValueError(f"gradient_differences: values must be >= 0, got {values.tolist()}")
    figure, canvas = _figure(max(4.0, 0.9 * len(names) + 2), 4.0)
    axes = figure.subplots()
    heights = np.maximum(values, _FLOOR)
    bars = axes.bar(names, heights, color="tab:blue")
    for bar, value in zip(bars, values):
        label = "0" if value == 0 else f"{value:.1e}"
        axes.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    if tolerance is not None:
        axes.axhline(tolerance, linestyle="--", color="tab:red", label=f"tolerance {tolerance:g}")
        axes.legend()
    axes.set_yscale("log")
    top = max(heights.max(), tolerance or 0.0)
    axes.set_ylim(_FLOOR / 10, top * 100)
    axes.set(title=title, ylabel="max abs difference")
    return _save(canvas, path)

"""Functions of sampled grids: ``np.linspace`` with Tensor endpoints and ``np.gradient``.

Both are written with the differentiable ops (slices, ``+``, ``*``, ``/``, ``concatenate``),
so their gradients (and second derivatives) come from those rules: ``linspace`` sends
``1 - t`` of ``dY`` to ``start`` and ``t`` to ``stop``; ``np.gradient``'s differences send
``dY / (2 h)`` to each neighbour.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor, _new_tensor
from .broadcast import as_tensor
from .elementwise import where
from .shape import astype, concatenate, getitem, moveaxis, reshape

__all__ = ["linspace", "gradient"]


def linspace(
    start: Any,
    stop: Any,
    num: int = 50,
    endpoint: bool = True,
    retstep: bool = False,
    dtype: Any = None,
    axis: int = 0,
    **kwargs: Any,
) -> Any:
    """``num`` evenly spaced samples from ``start`` to ``stop``, as ``np.linspace``.

    ``start`` and ``stop`` may be Tensors (any broadcastable shapes); the samples
    ``y_i = start + i * step`` with ``step = (stop - start) / div`` carry the gradient back
    to both. An integer ``dtype`` floors the samples, so that result is outside the graph.

    Returns
    -------
    Tensor, or (Tensor, step) with ``retstep``
    """
    if kwargs.get("device") not in (None, "cpu"):
        raise TypeError("np.linspace on a Tensor: device= is not supported")
    num = int(num)
    if num < 0:
        raise ValueError(f"linspace: number of samples {num} must be non-negative")
    start, stop = as_tensor(start), as_tensor(stop)
    if start.dtype.kind != "f":
        start = astype(start, np.float64)
    if stop.dtype.kind != "f":
        stop = astype(stop, np.float64)
    div = num - 1 if endpoint else num
    delta = stop - start
    ramp = np.arange(num, dtype=delta.dtype).reshape((-1,) + (1,) * delta.ndim)
    step = delta / div if div > 0 else None
    if step is None:
        samples = ramp * delta
    elif np.any(step.data == 0):  # NumPy's order for tiny steps (denormals)
        samples = (ramp / div) * delta
    else:
        samples = ramp * step
    samples = samples + start
    if endpoint and num > 1:
        last = np.zeros(samples.shape, dtype=bool)
        last[-1] = True
        samples = where(last, stop, samples)
    if axis != 0:
        samples = moveaxis(samples, 0, axis)
    if dtype is not None and np.dtype(dtype).kind != "f":
        samples = _new_tensor(np.floor(samples.data).astype(dtype))
    elif dtype is not None:
        samples = astype(samples, dtype)
    if retstep:
        return samples, (step if step is not None else _new_tensor(np.asarray(np.nan)))
    return samples


def _along(axis: int, ndim: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def _spacing(distances: Any, length: int, ndim: int, axis: int) -> Any:
    """A scalar step, or the steps between coordinates shaped to broadcast along ``axis``."""
    distances = distances if isinstance(distances, Tensor) else np.asarray(distances)
    if distances.ndim == 0:
        return distances
    if distances.ndim != 1:
        raise ValueError("np.gradient: distances must be either scalars or 1d")
    if len(distances) != length:
        raise ValueError(
            f"np.gradient: when 1d, distances must match the length of the corresponding "
            f"dimension ({len(distances)} != {length})"
        )
    if distances.dtype.kind in "iub":
        distances = distances.astype(np.float64)
    steps = distances[1:] - distances[:-1]
    values = steps.data if isinstance(steps, Tensor) else steps
    if not isinstance(steps, Tensor) and np.all(values == values[0]):
        return steps[0]  # uniform: NumPy's scalar formula
    return reshape(as_tensor(steps), (-1,) + (1,) * (ndim - 1 - axis))


def _one_axis(f: Tensor, h: Any, axis: int, edge_order: int) -> Tensor:
    def part(start: int | None, stop: int | None) -> Tensor:
        return getitem(f, _along(axis, f.ndim, slice(start, stop)))

    def at(i: int) -> Tensor:
        return getitem(f, _along(axis, f.ndim, slice(i, i + 1 if i != -1 else None)))

    uniform = not isinstance(h, Tensor) or h.ndim == 0
    if uniform:
        interior = (part(2, None) - part(None, -2)) / (2.0 * h)
        if edge_order == 1:
            first = (at(1) - at(0)) / h
            last = (at(-1) - at(-2)) / h
        else:
            first = (at(0) * -1.5 + at(1) * 2.0 - at(2) * 0.5) / h
            last = (at(-3) * 0.5 - at(-2) * 2.0 + at(-1) * 1.5) / h
    else:
        h1, h2 = h[:-1], h[1:]
        a = -h2 / (h1 * (h1 + h2))
        b = (h2 - h1) / (h1 * h2)
        c = h1 / (h2 * (h1 + h2))
        interior = a * part(None, -2) + b * part(1, -1) + c * part(2, None)
        if edge_order == 1:
            first = (at(1) - at(0)) / h[0]
            last = (at(-1) - at(-2)) / h[-1]
        else:
            h1, h2 = h[0], h[1]
            first = (
                at(0) * (-(2.0 * h1 + h2) / (h1 * (h1 + h2)))
                + at(1) * ((h1 + h2) / (h1 * h2))
                + at(2) * (-h1 / (h2 * (h1 + h2)))
            )
            h1, h2 = h[-2], h[-1]
            last = (
                at(-3) * (h2 / (h1 * (h1 + h2)))
                + at(-2) * (-(h2 + h1) / (h1 * h2))
                + at(-1) * ((2.0 * h2 + h1) / (h2 * (h1 + h2)))
            )
    return concatenate([first, interior, last], axis=axis)


def gradient(f: Any, *varargs: Any, axis: Any = None, edge_order: int = 1) -> Any:
    """Derivative of sampled values by central differences, as ``np.gradient``.

    Interior ``(f[i+1] - f[i-1]) / (2 h)`` (NumPy's second-order formula for uneven
    coordinates), one-sided differences of order ``edge_order`` (1 or 2) at the ends.

    Parameters
    ----------
    f : Tensor or array_like
    *varargs : scalars or 1-D coordinates
        One spacing for every axis, or one per axis (a scalar step or the coordinates).
    axis : int or tuple of int, optional
    edge_order : {1, 2}

    Returns
    -------
    Tensor, or a tuple of Tensors (one per axis) when there are several axes
    """
    f = as_tensor(f)
    if f.dtype.kind != "f":
        f = astype(f, np.float64)
    if axis is None:
        axes = tuple(range(f.ndim))
    else:
        single = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = tuple(int(a) % max(f.ndim, 1) for a in single)
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError(
            f"np.gradient: {len(varargs)} spacings for {len(axes)} axes (give none, one scalar, "
            f"or one per axis)"
        )
    if edge_order not in (1, 2):
        raise ValueError("np.gradient: 'edge_order' must be 1 or 2")
    results = []
    for a, spacing in zip(axes, spacings):
        if f.shape[a] < edge_order + 1:
            raise ValueError(
                f"np.gradient: shape {f.shape} too small along axis {a} for edge_order "
                f"{edge_order}: needs at least {edge_order + 1} samples"
            )
        h = _spacing(spacing, f.shape[a], f.ndim, a)
        results.append(_one_axis(f, h, a, edge_order))
    return results[0] if len(results) == 1 else tuple(results)

"""Reductions: ``sum``, ``mean``, ``max``, ``min``, ``var``, ``std``, ``logsumexp``, ``softmax``,
``log_softmax``, with NumPy's ``axis`` (None, int or tuple) and ``keepdims``.

The course's ``db^[l] = (1/m) sum_i dZ^[l](i)`` is the gradient of a broadcast add; the other way
round, the gradient of ``sum`` copies ``dA`` back to every element that was summed.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from ..autograd import Op, record, record_unary
from ..tensor import Tensor
from .broadcast import as_tensor

__all__ = ["sum", "mean", "max", "min", "var", "std", "logsumexp", "softmax", "log_softmax"]


def normalize_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """``axis`` as a sorted tuple of non-negative ints (``None`` means every axis)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axes = (axis,)
    elif isinstance(axis, (tuple, list)):
        axes = tuple(axis)
    else:
        raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)):
            raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of bounds for an array of dimension {ndim}")
        result.append(int(a) % builtins.max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(sorted(result))


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


_SMALL = 1 << 16  # below this many elements, a filled copy is cheaper than np.broadcast_to


def _spread(g: Any, kept: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """A reduced gradient copied back over the reduced axes (``keepdims`` shape, then broadcast)."""
    if g.shape != kept:
        g = g.reshape(kept)
    if type(g) is np.ndarray and _size(shape) <= _SMALL:
        full = np.empty(shape, dtype=g.dtype)
        full[...] = g
        return full
    return np.broadcast_to(g, shape)


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


# extra = (axes, keepdims, kept_shape, input_shape, count of reduced elements per output)
def _sum_vjp(g, out, inputs, extra, needs):
    return (_spread(g, extra[2], extra[3]),)


def _mean_vjp(g, out, inputs, extra, needs):
    return (_spread(g / extra[4], extra[2], extra[3]),)


def _extreme_vjp(g, out, inputs, extra, needs):
    # Ties share the gradient equally, so the sum of the gradient is preserved.
    axes, _, kept, shape, _ = extra
    (x,) = inputs
    winners = x == out.reshape(kept)
    share = np.where(winners, _spread(g, kept, shape), 0)
    return (share / winners.sum(axis=axes, keepdims=True),)


# ufunc.reduce directly: np.sum/np.mean add microseconds of Python around the same C loop.
SUM = Op(
    "sum",
    lambda x, extra: np.add.reduce(x, axis=extra[0], keepdims=extra[1]),
    _sum_vjp,
    rule="dX = broadcast(dY) to X's shape",
)
MEAN = Op(
    "mean",
    lambda x, extra: np.add.reduce(x, axis=extra[0], keepdims=extra[1]) / extra[4],
    _mean_vjp,
    rule="dX = broadcast(dY) / N (N elements reduced)",
)
MAX = Op(
    "max",
    lambda x, extra: np.maximum.reduce(x, axis=extra[0], keepdims=extra[1]),
    _extreme_vjp,
    saves_out=True,
    rule="dX = broadcast(dY) * (X == Y) / (number of ties)",
)
MIN = Op(
    "min",
    lambda x, extra: np.minimum.reduce(x, axis=extra[0], keepdims=extra[1]),
    _extreme_vjp,
    saves_out=True,
    rule="dX = broadcast(dY) * (X == Y) / (number of ties)",
)


def _reduce(op: Op, name: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    if type(x) is not Tensor:
        x = as_tensor(x)
    data = x.data
    shape = data.shape
    axes = normalize_axes(name, axis, data.ndim) if axis is not None else None
    kept = _kept_shape(shape, axes)
    count = data.size // builtins.max(_size(kept), 1) if data.size else 0
    if (op is MAX or op is MIN) and data.size == 0:
        raise ValueError(f"{name}: zero-size array (shape {shape}) has no {name}imum")
    extra = (axes, bool(keepdims), kept, shape, count)
    result = op.forward(data, extra)
    if type(result) is not np.ndarray:
        result = np.asarray(result)
    return record_unary(op, result, x, extra)


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis``; the gradient copies ``dA`` to every summed element.

    Parameters
    ----------
    x : Tensor or array_like
    axis : None, int or tuple of int
        Axes to reduce; all of them by default (NumPy's rule).
    keepdims : bool
        Keep the reduced axes with length 1, so the result broadcasts against ``x``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        For an axis out of range or repeated (naming the op); ``TypeError`` for a non-integer
        axis.
    """
    return _reduce(SUM, "sum", x, axis, keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis``: ``(1/m) sum``; the gradient is ``dA / m`` for each element.

    Parameters, returns and errors as :func:`sum`.
    """
    return _reduce(MEAN, "mean", x, axis, keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest element over ``axis``; tied maxima share the gradient equally.

    Parameters, returns and errors as :func:`sum`.
    """
    return _reduce(MAX, "max", x, axis, keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest element over ``axis``; tied minima share the gradient equally.

    Parameters, returns and errors as :func:`sum`.
    """
    return _reduce(MIN, "min", x, axis, keepdims)


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Variance ``sum((x - mean)^2) / (n - ddof)`` over ``axis`` (composed of recorded ops).

    Parameters
    ----------
    x : Tensor or array_like
    axis : None, int or tuple of int
        Axes to reduce; all of them by default.
    ddof : int
        Delta degrees of freedom: ``n - ddof`` divides (1 for the unbiased estimate).
    keepdims : bool
        Keep the reduced axes with length 1.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        When ``n - ddof <= 0``, naming the shape and ``ddof``.
    """
    from .elementwise import mul, sub

    x = as_tensor(x)
    axes = normalize_axes("var", axis, x.data.ndim)
    kept = _kept_shape(x.data.shape, axes)
    count = x.data.size // builtins.max(int(np.prod(kept)), 1) if x.data.size else 0
    if count - ddof <= 0:
        raise ValueError(
            f"var: {count} element(s) along the reduced axes of shape {x.shape} leave no degrees "
            f"of freedom with ddof={ddof}"
        )
    centered = sub(x, mean(x, axis=axes, keepdims=True))
    return mul(sum(mul(centered, centered), axis=axes, keepdims=keepdims), 1.0 / (count - ddof))


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation ``sqrt(var(x, axis, ddof))``; parameters as :func:`var`."""
    from .elementwise import sqrt

    return sqrt(var(x, axis=axis, ddof=ddof, keepdims=keepdims))


# -- log-sum-exp and softmax -------------------------------------------------------------------
def _stable_shift(x: np.ndarray, axis: Any) -> np.ndarray:
    """The max over ``axis`` (kept); non-finite maxima become 0 so ``x - shift`` is safe."""
    shift = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(shift), shift, 0)


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return ()
    return tuple(size for i, size in enumerate(shape) if i not in axes)


def _logsumexp_forward(x, extra):
    axes, keepdims, _, shape, _ = extra
    shift = _stable_shift(x, axes)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for all -inf input
        out = np.log(np.sum(np.exp(x - shift), axis=axes, keepdims=True)) + shift
    return out if keepdims else out.reshape(_reduced_shape(shape, axes))


def _logsumexp_vjp(g, out, inputs, extra, needs):
    # d/dx logsumexp(x) = softmax(x) = exp(x - logsumexp(x))
    _, _, kept, shape, _ = extra
    (x,) = inputs
    return (_spread(g, kept, shape) * np.exp(x - out.reshape(kept)),)


LOGSUMEXP = Op(
    "logsumexp",
    _logsumexp_forward,
    _logsumexp_vjp,
    saves_out=True,
    rule="dX = broadcast(dY) * exp(X - Y) (softmax(X))",
)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, stable for any input; ``d/dx = softmax(x)``.

    Parameters, returns and errors as :func:`sum`.
    """
    x = as_tensor(x)
    shape = x.data.shape
    axes = normalize_axes("logsumexp", axis, x.data.ndim)
    kept = _kept_shape(shape, axes)
    extra = (axes, bool(keepdims), kept, shape, None)
    return record(LOGSUMEXP, _logsumexp_forward(x.data, extra), (x,), extra)


def _softmax_forward(x, axis):
    e = np.exp(x - _stable_shift(x, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, out, inputs, axis, needs):
    # dA/dZ of softmax applied to g: a * (g - sum(g * a))
    return (out * (g - np.sum(g * out, axis=axis, keepdims=True)),)


def _log_softmax_forward(x, axis):
    shifted = x - _stable_shift(x, axis)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(g, out, inputs, axis, needs):
    # d log_softmax: g - softmax * sum(g)
    return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)


SOFTMAX = Op(
    "softmax",
    _softmax_forward,
    _softmax_vjp,
    saves_out=True,
    rule="dZ = A * (dA - sum(dA * A, axis))",
)
LOG_SOFTMAX = Op(
    "log_softmax",
    _log_softmax_forward,
    _log_softmax_vjp,
    saves_out=True,
    rule="dX = dY - exp(Y) * sum(dY, axis)",
)


def _single_axis(op: str, axis: Any, ndim: int) -> int:
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    return normalize_axes(op, axis, ndim)[0]


def softmax(x: Any, axis: int = -1) -> Tensor:
    """``a_i = e^{z_i} / sum_j e^{z_j}`` along ``axis``, stable for any input.

    The gradient is ``a * (dA - sum(dA * a))`` along ``axis``.

    Parameters
    ----------
    x : Tensor or array_like
    axis : int
        The axis the probabilities sum to 1 along (the last by default; the course's
        ``(n_y, m)`` layout uses ``axis=0``).

    Returns
    -------
    Tensor
    """
    x = as_tensor(x)
    axis = _single_axis("softmax", axis, x.data.ndim)
    return record(SOFTMAX, _softmax_forward(x.data, axis), (x,), axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """``z_i - logsumexp(z)`` along ``axis``, stable for any input; parameters as
    :func:`softmax`. The gradient is ``dA - softmax(z) * sum(dA)``."""
    x = as_tensor(x)
    axis = _single_axis("log_softmax", axis, x.data.ndim)
    return record(LOG_SOFTMAX, _log_softmax_forward(x.data, axis), (x,), axis)

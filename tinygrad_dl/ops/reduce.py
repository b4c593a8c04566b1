"""Reductions: ``sum``, ``mean``, ``max``, ``min``, ``prod``, ``var``, ``std``, ``logsumexp``,
``softmax``, ``log_softmax``, with NumPy's ``axis`` (None, int or tuple) and ``keepdims``; and the
running ones, ``cumsum``, ``cumprod`` and ``diff``.

A 0-d Tensor accepts ``axis=0`` or ``axis=-1`` and reduces to itself, as in PyTorch.

The course's ``db^[l] = (1/m) sum_i dZ^[l](i)`` is the gradient of a broadcast add; the other way
round, the gradient of ``sum`` copies ``dA`` back to every element that was summed.
"""

from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, NamedTuple

import numpy as np

from .. import backend as _backend
from ..autograd import Op, record, record_unary
from ..backend import foreign, namespace, xnp
from ..tensor import Tensor
from .broadcast import as_tensor

__all__ = [
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "var",
    "std",
    "logsumexp",
    "softmax",
    "log_softmax",
    "cumsum",
    "logcumsumexp",
    "running_extreme",
    "cumprod",
    "diff",
]


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


def reduction_axes(op: str, axis: Any, ndim: int) -> tuple[int, ...] | None:
    """:func:`normalize_axes` for a reduction; on a 0-d array ``axis`` 0 or -1 reduces nothing.

    PyTorch accepts ``dim=0``/``dim=-1`` on a scalar and returns it; NumPy raises ``AxisError``.
    """
    if ndim == 0 and axis is not None:
        for a in axis if isinstance(axis, (tuple, list)) else (axis,):
            if not isinstance(a, (int, np.integer)):
                raise TypeError(f"{op}: axis must be an int or a tuple of ints, got {axis!r}")
            if a not in (0, -1):
                raise ValueError(f"{op}: axis {a} is out of bounds for a 0-d tensor (use 0 or -1)")
        return ()
    return normalize_axes(op, axis, ndim)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else size for i, size in enumerate(shape))


_SMALL = 1 << 16  # below this many elements, a filled copy is cheaper than np.broadcast_to


def _spread(g: Any, kept: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """A reduced gradient copied back over the reduced axes (``keepdims`` shape, then broadcast)."""
    if type(g) is not np.ndarray and foreign(g):
        xp = namespace(g)  # CuPy, array_api_strict
        return xp.broadcast_to(xp.reshape(g, kept), shape)
    if g.shape != kept:
        g = g.reshape(kept)
    # isinstance, not type(g) is: tg.compile's traced arrays must take eager's path (a filled
    # copy and a broadcast view feed later BLAS calls different strides, so different bits).
    if isinstance(g, np.ndarray) and _size(shape) <= _SMALL:
        full = np.empty(shape, dtype=g.dtype)
        full[...] = g
        return full
    return np.broadcast_to(g, shape)


def _size(shape: tuple[int, ...]) -> int:
    size = 1
    for n in shape:
        size *= n
    return size


class Reduction(NamedTuple):
    """What a reduction's vjp needs (the ``extra`` of its node)."""

    axes: tuple[int, ...] | None  # reduced axes, sorted; None for all
    keepdims: bool
    kept: tuple[int, ...]  # the result's shape with the reduced axes kept as length 1
    shape: tuple[int, ...]  # the input's shape
    count: int  # reduced elements per output element (the course's m for a mean)


def _sum_vjp(g, out, inputs, extra, needs):
    return (_spread(g, extra.kept, extra.shape),)


def _mean_vjp(g, out, inputs, extra, needs):
    return (_spread(g / extra.count, extra.kept, extra.shape),)


def _extreme_vjp(g, out, inputs, extra, needs):
    # Ties share the gradient equally, so the sum of the gradient is preserved.
    (x,) = inputs
    if type(x) is not np.ndarray and foreign(x):
        xp = namespace(x)
        winners = x == xp.reshape(out, extra.kept)
        share = xp.where(winners, _spread(g, extra.kept, extra.shape), xp.zeros_like(x))
        count = xp.sum(xp.astype(winners, x.dtype), axis=extra.axes, keepdims=True)
        return (share / count,)
    winners = x == out.reshape(extra.kept)
    share = xnp.where(winners, _spread(g, extra.kept, extra.shape), 0)
    return (share / winners.sum(axis=extra.axes, keepdims=True),)


def _prod_vjp(g, out, inputs, extra, needs):
    # dx_i = dY * (product of the other elements of x_i's slice) = dY * Y / x_i without zeros.
    (x,) = inputs
    spread = _spread(g, extra.kept, extra.shape)
    if not xnp.any(x == 0):
        return (spread * _backend.reshape(out, extra.kept) / x,)
    if isinstance(g, Tensor):  # create_graph: a rule that is itself differentiable
        return (spread * _others_product(x, extra.axes),)
    # With zeros: a slice with one zero sends the product of its other elements to that zero
    # and 0 elsewhere; a slice with two or more zeros sends 0 everywhere (PyTorch's values).
    is_zero = x == 0
    nonzero = xnp.where(is_zero, 1, x)
    product = np.multiply.reduce(nonzero, axis=extra.axes, keepdims=True)
    zeros = np.add.reduce(is_zero, axis=extra.axes, keepdims=True)
    others = xnp.where(zeros == 0, product / nonzero, xnp.where(is_zero & (zeros == 1), product, 0))
    return (spread * others,)


def _others_product(x: Tensor, axes: tuple[int, ...] | None) -> Tensor:
    """``prod_{j != i} x_j`` over each element's reduced slice, multiplied out from an
    ``n x n`` table (the slice once per element, with that element replaced by 1).

    No division, so it is exact with any number of zeros, and made of recorded ops (prod,
    where, moveaxis), so it can be differentiated again: the second derivatives of ``prod`` at
    zeros come out right. ``O(n^2)``: used only under ``create_graph`` at inputs with zeros.
    """
    axes = tuple(range(x.ndim)) if axes is None else axes
    ends = tuple(range(-len(axes), 0))
    moved = np.moveaxis(x, axes, ends)
    count = _size(moved.shape[moved.ndim - len(axes) :])
    flat = moved.reshape(moved.shape[: moved.ndim - len(axes)] + (count,))
    table = np.where(np.eye(count, dtype=bool), 1.0, np.expand_dims(flat, -2))
    return np.moveaxis(np.prod(table, axis=-1).reshape(moved.shape), ends, axes)


def _cumprod_table_vjp(g: Tensor, x: Tensor, axis: int) -> Tensor:
    """``dx_i = sum_{k >= i} dY_k prod_{j <= k, j != i} x_j`` from an ``n x n`` table of running
    products that skip one element each: exact with zeros and differentiable again (``O(n^2)``,
    used only under ``create_graph`` at inputs with zeros)."""
    moved_x, moved_g = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    count = moved_x.shape[-1]
    skipping = np.cumprod(
        np.where(np.eye(count, dtype=bool), 1.0, np.expand_dims(moved_x, -2)), axis=-1
    )
    later = np.triu(np.ones((count, count), dtype=bool))  # [i, k]: k >= i
    grad = np.sum(np.where(later, np.expand_dims(moved_g, -2) * skipping, 0.0), axis=-1)
    return np.moveaxis(grad, -1, axis)


def _reducer(ufunc: np.ufunc, name: str) -> Any:
    """The forward of a reduction: ``ufunc.reduce`` on an ndarray (np.sum/np.mean add
    microseconds of Python around the same C loop), the namespace's ``name`` on other arrays."""
    reduce = ufunc.reduce

    def forward(x: Any, extra: Reduction) -> Any:
        if type(x) is np.ndarray or not foreign(x):
            return reduce(x, axis=extra.axes, keepdims=extra.keepdims)
        return getattr(namespace(x), name)(x, axis=extra.axes, keepdims=extra.keepdims)

    return forward


_sum_forward = _reducer(np.add, "sum")

SUM = Op(
    "sum",
    _sum_forward,
    _sum_vjp,
    rule="dX = dY copied over the summed axes",
)
MEAN = Op(
    "mean",
    lambda x, extra: _sum_forward(x, extra) / extra.count,
    _mean_vjp,
    rule="dX = dY / m over the averaged axes",
)
MAX = Op(
    "max",
    _reducer(np.maximum, "max"),
    _extreme_vjp,
    saves_out=True,
    rule="dX = dY where X == Y, shared equally among ties",
)
MIN = Op(
    "min",
    _reducer(np.minimum, "min"),
    _extreme_vjp,
    saves_out=True,
    rule="dX = dY where X == Y, shared equally among ties",
)
PROD = Op(
    "prod",
    _reducer(np.multiply, "prod"),
    _prod_vjp,
    saves_out=True,
    rule="dX_i = dY * prod_{j != i} X_j (= dY * Y / X_i without zeros)",
)


def _reduce(op: Op, name: str, x: Any, axis: Any, keepdims: bool) -> Tensor:
    if type(x) is not Tensor:
        x = as_tensor(x)
    data = x.data
    shape = data.shape
    axes = reduction_axes(name, axis, data.ndim) if axis is not None else None
    kept = _kept_shape(shape, axes)
    count = data.size // builtins.max(_size(kept), 1) if data.size else 0
    if (op is MAX or op is MIN) and data.size == 0:
        raise ValueError(f"{name}: zero-size array (shape {shape}) has no {name}imum")
    extra = Reduction(axes, bool(keepdims), kept, shape, count)
    result = op.forward(data, extra)
    if type(result) is not np.ndarray and not foreign(data):
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


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Product over ``axis``; ``dx_i = dY * prod_{j != i} x_j``, exact with zeros too (second
    derivatives included).

    Parameters, returns and errors as :func:`sum`.
    """
    return _reduce(PROD, "prod", x, axis, keepdims)


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

    Warns
    -----
    RuntimeWarning
        When ``n - ddof <= 0`` (an empty axis, or ``ddof`` too large): the result is then NaN
        (or inf), as NumPy and PyTorch give, and the warning names the shape and ``ddof``.
    """
    from .elementwise import mul, sub

    x = as_tensor(x)
    axes = reduction_axes("var", axis, x.data.ndim)
    kept = _kept_shape(x.data.shape, axes)
    count = x.data.size // builtins.max(int(np.prod(kept)), 1) if x.data.size else 0
    if count - ddof <= 0:
        warnings.warn(
            f"var: {count} element(s) along the reduced axes of shape {x.shape} leave no degrees "
            f"of freedom with ddof={ddof}; the result is NaN (or inf), as in NumPy and PyTorch",
            RuntimeWarning,
            stacklevel=2,
        )
    # PyTorch divides the value by max(n - ddof, 0) (0/0 = NaN) but its gradient by n - ddof.
    scale = 1.0 / (count - ddof) if count != ddof else math.inf
    with np.errstate(invalid="ignore", divide="ignore"):
        centered = sub(x, mean(x, axis=axes, keepdims=True))
        spread = mul(sum(mul(centered, centered), axis=axes, keepdims=keepdims), scale)
        if count - ddof >= 0:
            return spread
        from .elementwise import add

        # the value sum / 0 (inf, or NaN for a zero sum), the gradient unchanged
        if type(spread.data) is np.ndarray or not _backend.foreign(spread.data):
            value = np.where(spread.data != 0, math.inf, math.nan) - spread.data
            return add(spread, value.astype(spread.data.dtype, copy=False))
        # the standard's where takes no two numbers: |spread| / 0 is inf, or NaN at 0
        return add(spread, xnp.abs(spread.data) / 0.0 - spread.data)


def _std_root_vjp(g, out, inputs, extra, needs):
    # d sqrt(v) = dY / (2 sqrt(v)), taken as 0 where v = 0: at zero spread every x - mean is 0,
    # so var's own gradient is 0 there and the product is 0, as PyTorch and autograd give
    # (instead of 0 * inf = NaN).
    spread_out = out == 0
    return (xnp.where(spread_out, 0.0, g / (2 * xnp.where(spread_out, 1.0, out))),)


STD_ROOT = Op(
    "std",
    lambda v, _: xnp.sqrt(v),
    _std_root_vjp,
    saves_out=True,
    rule="dvar = dY / (2 std), 0 where std = 0; so dX = dY (X - mean) / ((m - ddof) std)",
)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Standard deviation ``sqrt(var(x, axis, ddof))``; parameters as :func:`var`.

    ``dx = dY (x - mean) / ((m - ddof) std)``, and 0 where the spread is zero (a constant
    slice), as PyTorch gives.
    """
    variance = var(x, axis=axis, ddof=ddof, keepdims=keepdims)
    return record_unary(STD_ROOT, xnp.sqrt(variance.data), variance)


# -- log-sum-exp and softmax -------------------------------------------------------------------
def _stable_shift(x: np.ndarray, axis: Any) -> np.ndarray:
    """The max over ``axis`` (kept); non-finite maxima become 0 so ``x - shift`` is safe."""
    shift = xnp.max(x, axis=axis, keepdims=True)
    return xnp.where(xnp.isfinite(shift), shift, 0)


def _reduced_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    if axes is None:
        return ()
    return tuple(size for i, size in enumerate(shape) if i not in axes)


def _logsumexp_forward(x, extra):
    shift = _stable_shift(x, extra.axes)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for all -inf input
        out = xnp.log(xnp.sum(xnp.exp(x - shift), axis=extra.axes, keepdims=True)) + shift
    if extra.keepdims:
        return out
    return _backend.reshape(out, _reduced_shape(extra.shape, extra.axes))


def _logsumexp_vjp(g, out, inputs, extra, needs):
    # d/dx logsumexp(x) = softmax(x) = exp(x - logsumexp(x))
    (x,) = inputs
    return (_spread(g, extra.kept, extra.shape) * xnp.exp(x - _backend.reshape(out, extra.kept)),)


LOGSUMEXP = Op(
    "logsumexp",
    _logsumexp_forward,
    _logsumexp_vjp,
    saves_out=True,
    rule="dX = dY * exp(X - Y) = dY * softmax(X)",
)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis``, stable for any input; ``d/dx = softmax(x)``.

    Parameters, returns and errors as :func:`sum`.
    """
    x = as_tensor(x)
    shape = x.data.shape
    axes = reduction_axes("logsumexp", axis, x.data.ndim)
    kept = _kept_shape(shape, axes)
    extra = Reduction(axes, bool(keepdims), kept, shape, 0)
    return record(LOGSUMEXP, _logsumexp_forward(x.data, extra), (x,), extra)


def _softmax_forward(x, axis):
    e = xnp.exp(x - _stable_shift(x, axis))
    return e / xnp.sum(e, axis=axis, keepdims=True)


def _softmax_vjp(g, out, inputs, axis, needs):
    # dA/dZ of softmax applied to g: a * (g - sum(g * a))
    return (out * (g - xnp.sum(g * out, axis=axis, keepdims=True)),)


def _log_softmax_forward(x, axis):
    shifted = x - _stable_shift(x, axis)
    return shifted - xnp.log(xnp.sum(xnp.exp(shifted), axis=axis, keepdims=True))


def _log_softmax_vjp(g, out, inputs, axis, needs):
    # d log_softmax: g - softmax * sum(g)
    return (g - xnp.exp(out) * xnp.sum(g, axis=axis, keepdims=True),)


SOFTMAX = Op(
    "softmax",
    _softmax_forward,
    _softmax_vjp,
    saves_out=True,
    rule="dZ = A * (dA - sum(dA * A))",
)
LOG_SOFTMAX = Op(
    "log_softmax",
    _log_softmax_forward,
    _log_softmax_vjp,
    saves_out=True,
    rule="dZ = dA - softmax(Z) * sum(dA)",
)


def _single_axis(op: str, axis: Any, ndim: int) -> int | None:
    """One axis, non-negative; None for a 0-d input (where 0 and -1 mean the value itself)."""
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{op}: axis must be an int, got {axis!r}")
    axes = reduction_axes(op, axis, ndim)
    return axes[0] if axes else None


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


# -- running sums and products, differences ----------------------------------------------------
def _along(axis: int, index: slice) -> tuple:
    """The index that applies ``index`` along ``axis`` and keeps every other axis whole."""
    return (slice(None),) * axis + (index, Ellipsis)  # the standard wants the ... written


def _reverse_cumsum(values: Any, axis: int) -> Any:
    """``sum_{k >= i} values_k`` along ``axis`` (ndarray or Tensor: slicing and np.cumsum)."""
    backwards = _along(axis, slice(None, None, -1))
    return xnp.cumsum(values[backwards], axis=axis)[backwards]


class Running(NamedTuple):
    """What ``cumsum``/``cumprod``'s vjp needs: the axis (None: the input was flattened)."""

    axis: int | None
    shape: tuple[int, ...]  # the input's shape


def _cumsum_vjp(g, out, inputs, extra, needs):
    # Y_k = sum_{i <= k} x_i, so dx_i = sum_{k >= i} dY_k: a cumulative sum from the end.
    if extra.axis is None:
        return (_reverse_cumsum(g, 0).reshape(extra.shape),)
    return (_reverse_cumsum(g, extra.axis),)


def _cumprod_vjp(g, out, inputs, extra, needs):
    # Y_k = prod_{j <= k} x_j, so dx_i = sum_{k >= i} dY_k prod_{j <= k, j != i} x_j, which is
    # sum_{k >= i} dY_k Y_k / x_i while no x_j is 0.
    (x,) = inputs
    axis = extra.axis
    if axis is None:
        x, axis = x.reshape(-1), 0
    if not xnp.any(x == 0):
        grad = _reverse_cumsum(g * out, axis) / x
    else:
        if isinstance(g, Tensor):  # create_graph: a rule that is itself differentiable
            grad = _cumprod_table_vjp(g, x, axis)
            return (grad.reshape(extra.shape) if extra.axis is None else grad,)
        # Along a slice whose first zero is at z: before z the formula above holds (x_i != 0);
        # at z, dx_z = sum_{k >= z} dY_k (Y_k with x_z taken as 1); after z every product
        # holds x_z = 0, so 0. (PyTorch's values.)
        is_zero = x == 0
        zeros_so_far = xnp.cumsum(_backend.astype(is_zero, np.int64), axis=axis)
        before = zeros_so_far == 0
        first = is_zero & (zeros_so_far == 1)
        part_before = _reverse_cumsum(g * out, axis) / xnp.where(before, x, 1)
        skipping_first = xnp.cumprod(xnp.where(first, 1, x), axis=axis)
        part_first = _reverse_cumsum(g * skipping_first, axis)
        grad = xnp.where(before, part_before, xnp.where(first, part_first, 0))
    return (grad.reshape(extra.shape) if extra.axis is None else grad,)


CUMSUM = Op(
    "cumsum",
    lambda x, extra: xnp.cumsum(x, axis=extra.axis),
    _cumsum_vjp,
    rule="dX_i = sum_{k >= i} dY_k (cumsum of dY from the end)",
)
CUMPROD = Op(
    "cumprod",
    lambda x, extra: xnp.cumprod(x, axis=extra.axis),
    _cumprod_vjp,
    saves_out=True,
    rule="dX_i = sum_{k >= i} dY_k prod_{j <= k, j != i} X_j (= revcumsum(dY * Y)_i / X_i)",
)


def _running(op: Op, name: str, x: Any, axis: Any) -> Tensor:
    x = as_tensor(x)
    if x.data.ndim == 0 and axis is not None:
        reduction_axes(name, axis, 0)  # 0 or -1: the value itself, as PyTorch
        return _running(op, name, x, None).reshape(())
    if axis is None and type(x.data) is not np.ndarray and _backend.foreign(x.data):
        return _running(op, name, x.reshape(-1), 0)  # the standard's cumulative_sum flattens not
    if axis is not None:
        axis = _single_axis(name, axis, x.data.ndim)
    extra = Running(axis, x.data.shape)
    return record_unary(op, op.forward(x.data, extra), x, extra)


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """Running sum along ``axis`` (``None``: over the flattened input), as ``np.cumsum``.

    ``dx_i = sum_{k >= i} dY_k``.

    Parameters
    ----------
    x : Tensor or array_like
    axis : int or None
        The axis to run along; ``None`` flattens first (NumPy's default). On a 0-d input 0 and
        -1 give the value itself.

    Returns
    -------
    Tensor
        The shape of ``x``, or 1-D for ``axis=None``.

    Raises
    ------
    ValueError
        For an axis out of range; ``TypeError`` for a non-integer axis.
    """
    return _running(CUMSUM, "cumsum", x, axis)


def cumprod(x: Any, axis: int | None = None) -> Tensor:
    """Running product along ``axis``, as ``np.cumprod``; exact gradient with zeros too.

    ``dx_i = sum_{k >= i} dY_k prod_{j <= k, j != i} x_j``. Parameters, returns and errors as
    :func:`cumsum`. Exact with zeros, second derivatives included.
    """
    return _running(CUMPROD, "cumprod", x, axis)


def diff(x: Any, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None) -> Tensor:
    """The ``n``-th difference ``x[i + 1] - x[i]`` along ``axis``, as ``np.diff``.

    Built from slices, subtraction and concatenation, which carry the gradient (and second
    derivatives): ``dx_i = dY_{i-1} - dY_i`` for ``n = 1``.

    Parameters
    ----------
    x : Tensor or array_like
        At least 1-D.
    n : int
        How many times to difference (0 returns ``x`` as it is, without ``prepend``/``append``,
        as NumPy).
    axis : int
        The axis to difference along (the last by default).
    prepend, append : number, array_like or Tensor, optional
        Values joined to ``x`` along ``axis`` first; a number is repeated over the other axes.
        A Tensor that requires grad gets its gradient.

    Returns
    -------
    Tensor
        The shape of ``x`` with ``axis`` shorter by ``n`` (after joining).

    Raises
    ------
    ValueError
        For a 0-d ``x``, a negative ``n`` or an axis out of range.
    """
    from .elementwise import sub
    from .shape import concatenate

    x = as_tensor(x)
    if x.data.ndim == 0:
        raise ValueError("diff: needs an input with at least one dimension, got a 0-d tensor")
    if int(n) != n or n < 0:
        raise ValueError(f"diff: order n must be a non-negative integer, got {n!r}")
    axis = normalize_axes("diff", axis, x.data.ndim)[0]
    if n == 0:
        return x  # as np.diff: no differences taken, so nothing is joined either
    if prepend is not None or append is not None:
        edge_shape = x.shape[:axis] + (1,) + x.shape[axis + 1 :]

        def joined(value: Any) -> Any:
            if np.ndim(value) > 0:
                return value
            # NumPy's rule for a number (np.broadcast_to dispatches, so a 0-d Tensor keeps its
            # gradient)
            value = value if isinstance(value, Tensor) else np.asarray(value)
            return np.broadcast_to(value, edge_shape)

        pieces = [joined(prepend)] if prepend is not None else []
        pieces.append(x)
        if append is not None:
            pieces.append(joined(append))
        x = concatenate(pieces, axis=axis)
    for _ in range(int(n)):
        x = sub(x[_along(axis, slice(1, None))], x[_along(axis, slice(None, -1))])
    return x


# Rules that use only their input's shape (kept in extra): an in-place change of the input
# after recording does not invalidate them (see Op's reads_inputs).
for _op in (SUM, MEAN):
    _op.reads_inputs = False
del _op


# -- PyTorch's running extremes and log-sum-exp ------------------------------------------------
def _reverse_logcumsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    """``log sum_{k >= i} e^{values_k}`` along ``axis``, stable."""
    backwards = _along(axis, slice(None, None, -1))
    return np.logaddexp.accumulate(values[backwards], axis=axis)[backwards]


def _logcumsumexp_vjp(g, out, inputs, axis, needs):
    # Y_k = log sum_{j <= k} e^{x_j}, so dx_j = sum_{k >= j} dY_k e^{x_j - Y_k}. Summed in log
    # space, the positive and negative parts of dY apart (PyTorch's way): no overflow for any x.
    if isinstance(g, Tensor):
        raise NotImplementedError(
            "logcumsumexp: second derivatives (create_graph=True) are not implemented"
        )
    (x,) = inputs
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = _reverse_logcumsumexp(np.log(np.maximum(g, 0)) - out, axis)
        negative = _reverse_logcumsumexp(np.log(np.maximum(-g, 0)) - out, axis)
        return (np.exp(x + positive) - np.exp(x + negative),)


LOGCUMSUMEXP = Op(
    "logcumsumexp",
    lambda x, axis: np.logaddexp.accumulate(x, axis=axis),
    _logcumsumexp_vjp,
    saves_out=True,
    rule="dX_j = sum_{k >= j} dY_k e^(X_j - Y_k)",
)


def logcumsumexp(x: Any, axis: int) -> Tensor:
    """``Y_k = log sum_{j <= k} e^{x_j}`` along ``axis``, stable, as ``torch.logcumsumexp``.

    Raises
    ------
    ValueError
        For an axis out of range.
    """
    x = as_tensor(x)
    if x.data.ndim == 0:
        reduction_axes("logcumsumexp", axis, 0)  # 0 or -1: the value itself, as PyTorch
        return x * 1
    axis = _single_axis("logcumsumexp", axis, x.data.ndim)
    _needs_accumulate("logcumsumexp", "np.logaddexp.accumulate", x.data)
    return record_unary(LOGCUMSUMEXP, LOGCUMSUMEXP.forward(x.data, axis), x, axis)


def _needs_accumulate(op: str, function: str, data: Any) -> None:
    """Refuse, naming the op, a library without NumPy's ufunc ``accumulate`` (the standard has
    only cumulative_sum and cumulative_prod); CuPy has it."""
    if type(data) is np.ndarray or not _backend.foreign(data):
        return
    if not hasattr(getattr(_backend.namespace(data), "fmax", None), "accumulate"):
        raise _backend.not_in_library(f"{op}: {function}", "the array API standard", data)


def running_extreme(x: Any, axis: int, largest: bool) -> tuple[Tensor, Tensor]:
    """``(values, indices)`` of the running maximum (or minimum) along ``axis``, as
    ``torch.cummax``/``torch.cummin``: a tie or a NaN moves the index to the later element.

    The values are the input at ``indices`` (``dX[indices_k] += dY_k``), in the graph.
    """
    from .indexing import ValuesIndices, take_along_axis  # indexing builds on this module

    x = as_tensor(x)
    if x.data.ndim == 0:
        reduction_axes("cummax" if largest else "cummin", axis, 0)
        return ValuesIndices(x * 1, Tensor(np.zeros((), dtype=np.int64)))
    axis = _single_axis("cummax" if largest else "cummin", axis, x.data.ndim)
    data = x.data
    _needs_accumulate("cummax" if largest else "cummin", "np.fmax.accumulate", data)
    running = (np.fmax if largest else np.fmin).accumulate(data, axis=axis)
    running = np.where(np.maximum.accumulate(np.isnan(data), axis=axis), np.nan, running)
    # The running extreme at k sits at the last j <= k where x_j equals the running extreme at j
    # (after that, x stays strictly below it); every NaN takes the index, as in PyTorch.
    positions = np.arange(data.shape[axis]).reshape((-1,) + (1,) * (data.ndim - axis - 1))
    if type(data) is not np.ndarray and _backend.foreign(data):  # beside data, on its device
        positions = _backend.to_device(positions, x.device)
    marks = np.where((data == running) | np.isnan(data), positions, 0)
    indices = np.maximum.accumulate(marks, axis=axis).astype(np.int64)
    values = take_along_axis(x, Tensor(indices), axis)
    return ValuesIndices(values, Tensor(indices))

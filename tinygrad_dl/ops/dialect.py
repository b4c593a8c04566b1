"""The package-level reductions and shape functions in both dialects.

``tg.sum(x, axis=1, keepdims=True)`` (NumPy) and ``tg.sum(x, dim=1, keepdim=True)`` (PyTorch)
are the same call; giving both spellings of one argument is a ``TypeError`` naming the op. Each
function is the Tensor method of the same name (see :class:`tinygrad_dl.Tensor`), so the two
never drift apart; ``np.sum`` and friends go straight to :mod:`.reduce` and :mod:`.shape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..backend import xnp
from ..tensor import Tensor, _ddof, _dialect
from . import elementwise as _elementwise
from . import linalg as _linalg
from . import shape as _shape
from .broadcast import as_tensor
from .shape import concatenate as _concatenate
from .shape import stack as _stack

__all__ = [
    "acos",
    "acosh",
    "allclose",
    "argmax",
    "argmin",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cat",
    "clamp",
    "concatenate",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "div",
    "einsum",
    "expand_dims",
    "flatten",
    "flip",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "lerp",
    "log_softmax",
    "logcumsumexp",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logsumexp",
    "max",
    "mean",
    "min",
    "negative",
    "numel",
    "permute",
    "pow",
    "prod",
    "reciprocal",
    "repeat",
    "roll",
    "rsqrt",
    "softmax",
    "split",
    "squeeze",
    "stack",
    "std",
    "std_mean",
    "sum",
    "unsqueeze",
    "var",
    "var_mean",
]


def sum(  # noqa: A001 - NumPy's name
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Sum over ``axis`` (or ``dim``); see :meth:`Tensor.sum`."""
    return as_tensor(x).sum(axis, keepdims, dim=dim, keepdim=keepdim)


def mean(
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Mean over ``axis`` (or ``dim``); see :meth:`Tensor.mean`."""
    return as_tensor(x).mean(axis, keepdims, dim=dim, keepdim=keepdim)


def max(  # noqa: A001 - NumPy's name
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Any:
    """Maximum over ``axis``; with ``dim=``, ``(values, indices)``. See :meth:`Tensor.max`."""
    return as_tensor(x).max(axis, keepdims, dim=dim, keepdim=keepdim)


def min(  # noqa: A001 - NumPy's name
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Any:
    """Minimum over ``axis``; with ``dim=``, ``(values, indices)``. See :meth:`Tensor.min`."""
    return as_tensor(x).min(axis, keepdims, dim=dim, keepdim=keepdim)


def var(
    x: Any,
    axis: Any = None,
    ddof: int | None = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
    unbiased: bool | None = None,
    correction: int | None = None,
) -> Tensor:
    """Variance over ``axis``; ``ddof`` NumPy's 0, or PyTorch's 1 in its dialect."""
    return as_tensor(x).var(
        axis, ddof, keepdims, dim=dim, keepdim=keepdim, unbiased=unbiased, correction=correction
    )


def std(
    x: Any,
    axis: Any = None,
    ddof: int | None = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
    unbiased: bool | None = None,
    correction: int | None = None,
) -> Tensor:
    """Standard deviation over ``axis``; ``ddof`` as in :func:`var`."""
    return as_tensor(x).std(
        axis, ddof, keepdims, dim=dim, keepdim=keepdim, unbiased=unbiased, correction=correction
    )


def logsumexp(
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` (or ``dim``), computed stably."""
    return as_tensor(x).logsumexp(axis, keepdims, dim=dim, keepdim=keepdim)


def argmax(
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Index of the maximum along ``axis`` (or ``dim``): int64, outside the graph."""
    return as_tensor(x).argmax(axis, keepdims, dim=dim, keepdim=keepdim)


def argmin(
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Index of the minimum along ``axis`` (or ``dim``): int64, outside the graph."""
    return as_tensor(x).argmin(axis, keepdims, dim=dim, keepdim=keepdim)


def softmax(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """``e^x / sum(e^x)`` along ``axis`` (or ``dim``; default the last)."""
    return as_tensor(x).softmax(axis, dim=dim)


def log_softmax(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (or ``dim``; default the last)."""
    return as_tensor(x).log_softmax(axis, dim=dim)


def expand_dims(x: Any, axis: Any = None, *, dim: Any = None) -> Tensor:
    """A new length-1 axis at ``axis`` (or ``dim``)."""
    return as_tensor(x).expand_dims(axis, dim=dim)


def squeeze(x: Any, axis: Any = None, *, dim: Any = None) -> Tensor:
    """Length-1 axes removed; see :meth:`Tensor.squeeze` for ``dim=``."""
    return as_tensor(x).squeeze(axis, dim=dim)


def concatenate(tensors: Sequence[Any], axis: int | None = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing ``axis`` (or ``dim``), as ``np.concatenate``."""
    if dim is not None:
        if axis != 0:  # axis=0 is the default, so only another axis is a clash
            raise TypeError(f"concatenate: got both axis={axis!r} and dim={dim!r}; pass one")
        axis = dim
    return _concatenate(tensors, axis)


def cat(tensors: Sequence[Any], dim: int = 0, *, axis: int | None = None) -> Tensor:
    """PyTorch's name for :func:`concatenate`: join along an existing ``dim``."""
    if axis is not None:
        if dim != 0:  # dim=0 is the default, so only another dim is a clash
            raise TypeError(f"cat: got both axis={axis!r} and dim={dim!r}; pass one")
        dim = axis
    return _concatenate(tensors, dim)


def stack(tensors: Sequence[Any], axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Join same-shaped tensors along a new ``axis`` (or ``dim``; default 0)."""
    axis, _ = _dialect("stack", axis, dim, None, None)
    return _stack(tensors, 0 if axis is None else axis)


def split(
    x: Any, indices_or_sections: Any, axis: int = 0, *, dim: int | None = None
) -> list[Tensor]:
    """``np.split``; with ``dim=``, ``torch.split`` (piece sizes). See :meth:`Tensor.split`."""
    if dim is None:
        return as_tensor(x).split(indices_or_sections, axis=axis)
    if axis != 0:
        raise TypeError(f"split: got both axis={axis!r} and dim={dim!r}; pass one")
    return as_tensor(x).split(indices_or_sections, dim)


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Axes ``start_dim..end_dim`` merged into one (all of them by default), as torch.flatten."""
    return as_tensor(x).flatten(start_dim, end_dim)


def flip(x: Any, axis: Any = None, *, dims: Any = None) -> Tensor:
    """Order reversed along ``axis`` (PyTorch: ``dims``; all axes if neither is given)."""
    axis, _ = _dialect("flip", axis, dims, None, None)
    return as_tensor(x).flip(dims=axis) if axis is not None else _shape.flip(x)


def roll(
    x: Any, shift: Any = None, axis: Any = None, *, shifts: Any = None, dims: Any = None
) -> Tensor:
    """``np.roll`` (``shift``, ``axis``) or ``torch.roll`` (``shifts``, ``dims``)."""
    if (shift is None) == (shifts is None):
        raise TypeError("roll: pass exactly one of shift and shifts=")
    axis, _ = _dialect("roll", axis, dims, None, None)
    return _shape.roll(x, shift if shifts is None else shifts, axis)


def repeat(x: Any, repeats: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """``np.repeat`` (PyTorch: ``repeat_interleave``): each element ``repeats`` times."""
    axis, _ = _dialect("repeat", axis, dim, None, None)
    return _shape.repeat(x, repeats, axis)


# -- PyTorch-only functions (``torch.clamp``, ``torch.cumsum(x, dim)``, ``torch.var_mean``...) ----


def clamp(x: Any, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - PyTorch's names
    """Values limited to ``[min, max]``, as ``torch.clamp``; see :meth:`Tensor.clamp`."""
    return as_tensor(x).clamp(min, max)


def cumsum(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running sum along ``axis`` (or ``dim``; NumPy: the flattened values when neither)."""
    return as_tensor(x).cumsum(axis, dim=dim)


def cumprod(x: Any, axis: int | None = None, *, dim: int | None = None) -> Tensor:
    """Running product along ``axis`` (or ``dim``; the flattened values when neither)."""
    return as_tensor(x).cumprod(axis, dim=dim)


def _spread_and_mean(
    op: str, x: Any, dim: Any, axis: Any, correction: Any, unbiased: Any, keepdim: bool
) -> tuple[Tensor, Tensor]:
    x = as_tensor(x)
    ddof = _ddof(op, None, unbiased, correction, True)
    axis, keepdims = _dialect(op, axis, dim, keepdim, None)
    spread = x.var(axis, ddof, keepdims) if op == "var_mean" else x.std(axis, ddof, keepdims)
    return spread, x.mean(axis, keepdims)


def var_mean(
    x: Any,
    dim: Any = None,
    *,
    correction: int | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    axis: Any = None,
) -> tuple[Tensor, Tensor]:
    """``(var, mean)`` over ``dim`` (all axes by default), as ``torch.var_mean``
    (PyTorch's default ``correction=1``)."""
    return _spread_and_mean("var_mean", x, dim, axis, correction, unbiased, keepdim)


def std_mean(
    x: Any,
    dim: Any = None,
    *,
    correction: int | None = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    axis: Any = None,
) -> tuple[Tensor, Tensor]:
    """``(std, mean)`` over ``dim`` (all axes by default), as ``torch.std_mean``
    (PyTorch's default ``correction=1``)."""
    return _spread_and_mean("std_mean", x, dim, axis, correction, unbiased, keepdim)


def logcumsumexp(x: Any, dim: int) -> Tensor:
    """``log sum_{j <= k} e^{x_j}`` along ``dim``, stable, as ``torch.logcumsumexp``."""
    return as_tensor(x).logcumsumexp(dim)


def cummax(x: Any, dim: int) -> Any:
    """``(values, indices)`` of the running maximum along ``dim``, as ``torch.cummax``."""
    return as_tensor(x).cummax(dim)


def cummin(x: Any, dim: int) -> Any:
    """``(values, indices)`` of the running minimum along ``dim``, as ``torch.cummin``."""
    return as_tensor(x).cummin(dim)


def lerp(start: Any, end: Any, weight: Any) -> Tensor:
    """``start + weight (end - start)``, as ``torch.lerp``."""
    return as_tensor(start).lerp(end, weight)


def isnan(x: Any) -> Tensor:
    """Where the values are NaN (boolean, outside the graph)."""
    return as_tensor(x).isnan()


def isinf(x: Any) -> Tensor:
    """Where the values are +-inf (boolean, outside the graph)."""
    return as_tensor(x).isinf()


def isfinite(x: Any) -> Tensor:
    """Where the values are neither NaN nor +-inf (boolean, outside the graph)."""
    return as_tensor(x).isfinite()


# PyTorch's names for NumPy's functions of the same meaning (``torch.asin`` is ``np.arcsin``)
asin, acos, atan = _elementwise.arcsin, _elementwise.arccos, _elementwise.arctan
asinh, acosh, atanh = _elementwise.arcsinh, _elementwise.arccosh, _elementwise.arctanh
atan2, pow, negative = _elementwise.arctan2, _elementwise.power, _elementwise.neg  # noqa: A001


def div(a: Any, b: Any, *, rounding_mode: str | None = None) -> Tensor:
    """``a / b``; ``rounding_mode="trunc"``/``"floor"`` as ``torch.div`` (:meth:`Tensor.div`)."""
    return as_tensor(a).div(b, rounding_mode=rounding_mode)


def rsqrt(x: Any) -> Tensor:
    """``1 / sqrt(x)``."""
    return as_tensor(x).rsqrt()


def reciprocal(x: Any) -> Tensor:
    """``1 / x``."""
    return as_tensor(x).reciprocal()


def logical_not(x: Any) -> Tensor:
    """``not x`` elementwise (boolean, outside the graph)."""
    return Tensor(xnp.logical_not(as_tensor(x).data))


def logical_and(a: Any, b: Any) -> Tensor:
    """``a and b`` elementwise (boolean, outside the graph)."""
    return _elementwise.compare(np.logical_and, a, b)


def logical_or(a: Any, b: Any) -> Tensor:
    """``a or b`` elementwise (boolean, outside the graph)."""
    return _elementwise.compare(np.logical_or, a, b)


def logical_xor(a: Any, b: Any) -> Tensor:
    """``a xor b`` elementwise (boolean, outside the graph)."""
    return _elementwise.compare(np.logical_xor, a, b)


def isclose(
    a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    """Elementwise ``|a - b| <= atol + rtol |b|`` (boolean, outside the graph)."""
    return as_tensor(a).isclose(b, rtol, atol, equal_nan)


def allclose(
    a: Any, b: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    """Whether every element of ``a`` is close to ``b``'s."""
    return as_tensor(a).allclose(b, rtol, atol, equal_nan)


def permute(x: Any, dims: Any) -> Tensor:
    """Axes in the order ``dims``, as ``torch.permute``."""
    return as_tensor(x).permute(dims)


def unsqueeze(x: Any, dim: int) -> Tensor:
    """A new length-1 axis at ``dim``."""
    return as_tensor(x).unsqueeze(dim)


def prod(
    x: Any,
    axis: Any = None,
    keepdims: bool | None = None,
    *,
    dim: Any = None,
    keepdim: bool | None = None,
) -> Tensor:
    """Product over ``axis`` (or ``dim``), zeros included in the gradient."""
    return as_tensor(x).prod(axis, keepdims, dim=dim, keepdim=keepdim)


def numel(x: Any) -> int:
    """The number of elements."""
    return as_tensor(x).numel()


def einsum(subscripts: str, *operands: Any) -> Tensor:
    """``np.einsum``; the operands may also come as one list, as ``torch.einsum(eq, [a, b])``."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return _linalg.einsum(subscripts, *operands)

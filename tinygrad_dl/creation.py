"""Factories: ``tensor``, ``zeros``, ``ones``, ``full``, ``*_like``, ``arange``, ``eye``,
``randn``, ``rand``. Each takes ``dtype`` (float64 by default, the course's dtype) and
``requires_grad``; random ones take an ``rng``: a ``np.random.Generator`` or ``RandomState``,
an int seed, or ``None`` for NumPy's global state (which ``np.random.seed`` seeds).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .rng import RandomLike, resolve_rng
from .tensor import Tensor

__all__ = [
    "tensor",
    "zeros",
    "ones",
    "full",
    "zeros_like",
    "ones_like",
    "arange",
    "eye",
    "randn",
    "rand",
]


def _shape(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _make(array: np.ndarray, requires_grad: bool) -> Tensor:
    return Tensor(array, requires_grad=requires_grad)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """A new Tensor holding a copy of ``data`` (``Tensor(array)`` wraps without copying)."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        data = data.copy()
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape(shape), dtype=dtype), requires_grad)


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return _make(np.ones(_shape(shape), dtype=dtype), requires_grad)


def full(
    shape: Any, fill_value: float, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _make(np.full(shape, fill_value, dtype=dtype), requires_grad)


def zeros_like(other: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``other``."""
    data = other.data if isinstance(other, Tensor) else np.asarray(other)
    return _make(np.zeros(data.shape, dtype=dtype or data.dtype), requires_grad)


def ones_like(other: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with the shape (and, unless ``dtype`` is given, the dtype) of ``other``."""
    data = other.data if isinstance(other, Tensor) else np.asarray(other)
    return _make(np.ones(data.shape, dtype=dtype or data.dtype), requires_grad)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values, as ``np.arange`` (float64 unless ``dtype`` says otherwise)."""
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _make(values.astype(dtype or np.float64), requires_grad)


def eye(
    n: int, m: int | None = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    return _make(np.eye(n, m, dtype=dtype), requires_grad)


def randn(
    *shape: Any, rng: RandomLike = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Standard normal samples; ``rng`` is a Generator, RandomState, seed or None."""
    generator = resolve_rng(rng)
    shape = _shape(shape)
    if isinstance(generator, np.random.RandomState):
        values = generator.randn(*shape)
    else:
        values = generator.standard_normal(shape)
    return _make(np.asarray(values).astype(dtype, copy=False), requires_grad)


def rand(
    *shape: Any, rng: RandomLike = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Uniform samples in [0, 1); ``rng`` is a Generator, RandomState, seed or None."""
    generator = resolve_rng(rng)
    shape = _shape(shape)
    if isinstance(generator, np.random.RandomState):
        values = generator.random_sample(shape)
    else:
        values = generator.random(shape)
    return _make(np.asarray(values).astype(dtype, copy=False), requires_grad)

"""Factories: ``tensor``, ``from_numpy``, ``zeros``, ``ones``, ``full``, ``*_like``,
``arange``, ``linspace``, ``eye``, ``randn``, ``rand``. Each takes ``dtype`` (by default float64,
the course's dtype, or what :func:`tinygrad_dl.set_default_dtype` set), ``requires_grad`` and
``device`` (``"cpu"``, ``"cuda"``...; a ``*_like`` defaults to its model's device);
random ones take an ``rng``: a ``np.random.Generator`` or ``RandomState``, an int seed, or
``None`` for NumPy's global state (which ``np.random.seed`` and ``tg.manual_seed`` seed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .backend import copy, device_of, numpy_dtype
from .rng import RandomLike, resolve_rng
from .tensor import Tensor, get_default_dtype

__all__ = [
    "tensor",
    "from_numpy",
    "linspace",
    "full_like",
    "rand_like",
    "randn_like",
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


def _make(array: np.ndarray, requires_grad: bool, device: Any = None) -> Tensor:
    # Made on the host, then copied: random numbers are the same on every device for one seed.
    return Tensor(array, requires_grad=requires_grad, device=device)


def _dtype(dtype: Any) -> np.dtype:
    # ``dtype or default`` would be wrong: a plain np.dtype is falsy (its len() is 0).
    return get_default_dtype() if dtype is None else np.dtype(dtype)


def _like(other: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    if isinstance(other, Tensor):
        return other.shape, other.dtype if dtype is None else np.dtype(dtype)
    data = other if hasattr(other, "__array_namespace__") else np.asarray(other)
    return data.shape, numpy_dtype(data.dtype) if dtype is None else np.dtype(dtype)


def _device_of(other: Any, device: Any) -> Any:
    """``device`` if given, else where ``other`` lives (PyTorch's rule for ``*_like``)."""
    if device is not None:
        return device
    return device_of(other.data if isinstance(other, Tensor) else other)


def tensor(data: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A new Tensor holding a copy of ``data`` (``Tensor(array)`` wraps without copying).

    As ``torch.tensor`` (and ``np.array``) infers: Python ints give int64, bools give bool,
    floats the default float dtype (float64 unless set), so ``tg.tensor([2, 0, 1])`` is an
    index tensor. ``Tensor([2, 0, 1])`` stays the course's float64.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray) or hasattr(data, "__array_namespace__"):
        data = copy(data)
    elif dtype is None and not isinstance(data, np.generic):
        try:
            inferred = np.asarray(data)
        except ValueError:
            inferred = None  # ragged: Tensor names the problem
        if inferred is not None and inferred.dtype.kind in "iub":
            data = inferred.astype(np.int64) if inferred.dtype.kind in "iu" else inferred
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, device=device)


def zeros(
    *shape: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """A tensor of zeros; ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(np.zeros(_shape(shape), dtype=_dtype(dtype)), requires_grad, device)


def ones(*shape: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None) -> Tensor:
    """A tensor of ones."""
    return _make(np.ones(_shape(shape), dtype=_dtype(dtype)), requires_grad, device)


def full(
    shape: Any,
    fill_value: float,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value``."""
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return _make(np.full(shape, fill_value, dtype=_dtype(dtype)), requires_grad, device)


def zeros_like(
    other: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Zeros with the shape (and, unless ``dtype`` is given, the dtype) of ``other``."""
    shape, dtype = _like(other, dtype)
    return _make(np.zeros(shape, dtype=dtype), requires_grad, _device_of(other, device))


def ones_like(
    other: Any, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """Ones with the shape (and, unless ``dtype`` is given, the dtype) of ``other``."""
    shape, dtype = _like(other, dtype)
    return _make(np.ones(shape, dtype=dtype), requires_grad, _device_of(other, device))


def full_like(
    other: Any,
    fill_value: float,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """``fill_value`` with the shape (and, unless ``dtype`` is given, the dtype) of ``other``."""
    shape, dtype = _like(other, dtype)
    return _make(np.full(shape, fill_value, dtype=dtype), requires_grad, _device_of(other, device))


def _float_like(op: str, other: Any, dtype: Any) -> tuple[tuple[int, ...], np.dtype]:
    shape, dtype = _like(other, dtype)
    if dtype.kind != "f":
        raise TypeError(f"{op}: needs a floating dtype, got {dtype}")
    return shape, dtype


def from_numpy(array: np.ndarray) -> Tensor:
    """A Tensor sharing ``array``'s memory and dtype, as ``torch.from_numpy``.

    Raises
    ------
    TypeError
        For something other than a numeric ndarray.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    return Tensor(array)


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Evenly spaced values, as ``np.arange`` (the default dtype unless ``dtype`` is given)."""
    values = np.arange(start, stop, step) if stop is not None else np.arange(start)
    return _make(values.astype(_dtype(dtype)), requires_grad, device)


def linspace(
    start: float,
    stop: float,
    num: int = 50,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
    *,
    steps: int | None = None,
    endpoint: bool = True,
) -> Tensor:
    """``num`` (PyTorch: ``steps``) evenly spaced values from ``start`` to ``stop``.

    As ``np.linspace`` and ``torch.linspace``; the default dtype unless ``dtype`` is given.
    """
    if steps is not None:
        num = steps
    values = np.linspace(start, stop, int(num), endpoint=endpoint)
    return _make(values.astype(_dtype(dtype)), requires_grad, device)


def eye(
    n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False, device: Any = None
) -> Tensor:
    """The identity matrix (``n`` x ``m``)."""
    return _make(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def randn(
    *shape: Any,
    rng: RandomLike = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Standard normal samples; ``rng`` is a Generator, RandomState, seed or None."""
    generator = resolve_rng(rng)
    shape = _shape(shape)
    if isinstance(generator, np.random.RandomState):
        values = generator.randn(*shape)
    else:
        values = generator.standard_normal(shape)
    return _make(np.asarray(values).astype(_dtype(dtype), copy=False), requires_grad, device)


def rand(
    *shape: Any,
    rng: RandomLike = None,
    dtype: Any = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1); ``rng`` is a Generator, RandomState, seed or None."""
    generator = resolve_rng(rng)
    shape = _shape(shape)
    if isinstance(generator, np.random.RandomState):
        values = generator.random_sample(shape)
    else:
        values = generator.random(shape)
    return _make(np.asarray(values).astype(_dtype(dtype), copy=False), requires_grad, device)


def randn_like(
    other: Any,
    dtype: Any = None,
    rng: RandomLike = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Standard normal samples shaped like ``other`` (its dtype unless ``dtype`` is given)."""
    shape, dtype = _float_like("randn_like", other, dtype)
    return randn(
        shape, rng=rng, dtype=dtype, requires_grad=requires_grad, device=_device_of(other, device)
    )


def rand_like(
    other: Any,
    dtype: Any = None,
    rng: RandomLike = None,
    requires_grad: bool = False,
    device: Any = None,
) -> Tensor:
    """Uniform samples in [0, 1) shaped like ``other`` (its dtype unless ``dtype`` is given)."""
    shape, dtype = _float_like("rand_like", other, dtype)
    return rand(
        shape, rng=rng, dtype=dtype, requires_grad=requires_grad, device=_device_of(other, device)
    )

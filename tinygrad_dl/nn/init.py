"""Weight initialisers: each returns a new array of the requested shape, drawn from ``rng``.

Weights have PyTorch's and the course's shape ``(out_features, in_features)`` = ``(n^[l],
n^[l-1])``, so ``fan_in = shape[1]`` and ``fan_out = shape[0]``. Every function takes ``rng``
(a ``numpy.random.Generator``, a legacy ``RandomState``, an int seed, or ``None`` for NumPy's
global state, which the course seeds with ``np.random.seed``) so that a seeded model is
reproducible. The same ``rng`` passed to several layers draws their weights one after the
other, in layer order, as the course's ``initialize_parameters`` does.

For a ``Tensor`` that already exists, :func:`fill_` copies an initialiser's array into it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..rng import RandomLike, resolve_rng

__all__ = [
    "INITIALISERS",
    "course_randn",
    "default_uniform",
    "fill_",
    "kaiming_normal",
    "kaiming_uniform",
    "normal",
    "uniform",
    "xavier_normal",
    "xavier_uniform",
    "zeros",
]

Shape = tuple[int, ...]


def _fans(shape: Shape, function: str) -> tuple[int, int]:
    if len(shape) < 2:
        raise ValueError(
            f"init.{function}: needs a weight shape (out_features, in_features, ...), got {shape}"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _cast(array: np.ndarray, dtype: Any) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.dtype(dtype))


def zeros(shape: Shape, *, rng: RandomLike = None, dtype: Any = np.float64) -> np.ndarray:
    """All zeros (the course's biases ``b^[l]``; ``rng`` is accepted and unused).

    Returns
    -------
    numpy.ndarray
    """
    return np.zeros(shape, dtype=dtype)


def uniform(
    shape: Shape,
    low: float = 0.0,
    high: float = 1.0,
    *,
    rng: RandomLike = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Uniform on ``[low, high)``.

    Returns
    -------
    numpy.ndarray
    """
    return _cast(resolve_rng(rng).uniform(low, high, size=shape), dtype)


def normal(
    shape: Shape,
    mean: float = 0.0,
    std: float = 1.0,
    *,
    rng: RandomLike = None,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Normal with the given mean and standard deviation.

    Returns
    -------
    numpy.ndarray
    """
    return _cast(mean + std * resolve_rng(rng).standard_normal(shape), dtype)


def course_randn(
    shape: Shape, scale: float = 0.01, *, rng: RandomLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """The course's small random weights: ``W^[l] = np.random.randn(n^[l], n^[l-1]) * 0.01``.

    With ``rng=np.random.RandomState(2)`` for the layers in order it reproduces the course's
    ``initialize_parameters`` exactly.

    Returns
    -------
    numpy.ndarray
    """
    return _cast(resolve_rng(rng).standard_normal(shape) * scale, dtype)


def kaiming_normal(
    shape: Shape, gain: float = math.sqrt(2.0), *, rng: RandomLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """He (Kaiming) normal: ``randn * gain / sqrt(fan_in)``; the default gain suits ReLU.

    This is the course's He initialisation ``randn(n^[l], n^[l-1]) * sqrt(2 / n^[l-1])``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than two axes.
    """
    fan_in, _ = _fans(shape, "kaiming_normal")
    return _cast(resolve_rng(rng).standard_normal(shape) * (gain / math.sqrt(fan_in)), dtype)


def kaiming_uniform(
    shape: Shape, gain: float = math.sqrt(2.0), *, rng: RandomLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """He (Kaiming) uniform: on ``+-gain * sqrt(3 / fan_in)`` (same variance as the normal one).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than two axes.
    """
    fan_in, _ = _fans(shape, "kaiming_uniform")
    bound = gain * math.sqrt(3.0 / fan_in)
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def xavier_normal(
    shape: Shape, gain: float = 1.0, *, rng: RandomLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """Xavier/Glorot normal: standard deviation ``gain * sqrt(2 / (fan_in + fan_out))``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than two axes.
    """
    fan_in, fan_out = _fans(shape, "xavier_normal")
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _cast(resolve_rng(rng).standard_normal(shape) * std, dtype)


def xavier_uniform(
    shape: Shape, gain: float = 1.0, *, rng: RandomLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """Xavier/Glorot uniform: on ``+-gain * sqrt(6 / (fan_in + fan_out))``.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``shape`` has fewer than two axes.
    """
    fan_in, fan_out = _fans(shape, "xavier_uniform")
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


def default_uniform(
    shape: Shape, fan_in: int | None = None, *, rng: RandomLike = None, dtype: Any = np.float64
) -> np.ndarray:
    """PyTorch's default for ``Linear``: uniform on ``+-1/sqrt(fan_in)``, weight and bias alike.

    Parameters
    ----------
    shape : tuple of int
        The array's shape.
    fan_in : int, optional
        ``in_features``; taken from ``shape[1]`` for a weight, required for a 1-D bias.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    ValueError
        If ``fan_in`` is missing for a 1-D shape.
    """
    if fan_in is None:
        fan_in, _ = _fans(shape, "default_uniform")
    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
    return uniform(shape, -bound, bound, rng=rng, dtype=dtype)


# Names accepted by ``Linear(init=...)``: the weight initialiser; biases start at zero except
# with "default", which draws them like PyTorch.
INITIALISERS: dict[str, Callable[..., np.ndarray]] = {
    "default": default_uniform,
    "course": course_randn,
    "zeros": zeros,
    "he": kaiming_normal,
    "kaiming": kaiming_normal,
    "xavier": xavier_normal,
    "glorot": xavier_normal,
    "xavier_uniform": xavier_uniform,
}


def fill_(tensor: Any, initialiser: Callable[..., np.ndarray], **kwargs: Any) -> Any:
    """Overwrite an existing tensor's values in place with ``initialiser(tensor.shape, ...)``.

    Parameters
    ----------
    tensor : Tensor
        For example ``layer.weight``.
    initialiser : callable
        One of this module's functions.
    **kwargs
        Passed on (``rng=``, ``gain=``, ...).

    Returns
    -------
    Tensor
        ``tensor``.
    """
    from ..autograd import no_grad

    values = initialiser(tuple(tensor.shape), dtype=tensor.dtype, **kwargs)
    with no_grad():
        tensor[...] = values
    return tensor

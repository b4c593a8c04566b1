"""Weight initialisers: each returns a new array of the requested shape, drawn from ``rng``.

Weights have PyTorch's and the course's shape ``(out_features, in_features)`` = ``(n^[l],
n^[l-1])``, so ``fan_in = shape[1]`` and ``fan_out = shape[0]``. Every function takes ``rng``
(a ``numpy.random.Generator``, a legacy ``RandomState``, an int seed, or ``None`` for NumPy's
global state, which the course seeds with ``np.random.seed``) so that a seeded model is
reproducible. The same ``rng`` passed to several layers draws their weights one after the
other, in layer order, as the course's ``initialize_parameters`` does.

For a ``Tensor`` that already exists, :func:`fill_` copies an initialiser's array into it, and
PyTorch's in-place names work as there: ``nn.init.kaiming_uniform_(layer.weight, a=0.1)``,
``nn.init.zeros_(layer.bias)`` (their ``generator=`` is this module's ``rng=``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..rng import RandomLike, resolve_rng

__all__ = [
    "INITIALISERS",
    "calculate_gain",
    "constant_",
    "eye_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "normal_",
    "ones_",
    "trunc_normal_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
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


# -- PyTorch's in-place initialisers: nn.init.xavier_uniform_(layer.weight) -----------------


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain for a nonlinearity (``"relu"``: ``sqrt 2``, ``"tanh"``: 5/3,
    ``"leaky_relu"``: ``sqrt(2 / (1 + slope^2))``, ``"selu"``: 3/4, linear ones: 1).

    Raises
    ------
    ValueError
        For an unknown nonlinearity.
    """
    linear = (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    )
    if nonlinearity in linear:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def _write(tensor: Any, values: np.ndarray) -> Any:
    from ..autograd import no_grad

    with no_grad():
        tensor[...] = values
    return tensor


def _shape(tensor: Any) -> Shape:
    return tuple(tensor.shape)


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: RandomLike = None) -> Any:
    """Fill ``tensor`` in place from ``U(a, b)``; returns it."""
    return _write(tensor, uniform(_shape(tensor), a, b, rng=generator, dtype=tensor.dtype))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: RandomLike = None) -> Any:
    """Fill ``tensor`` in place from ``N(mean, std^2)``; returns it."""
    return _write(tensor, normal(_shape(tensor), mean, std, rng=generator, dtype=tensor.dtype))


def trunc_normal_(
    tensor: Any,
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    generator: RandomLike = None,
) -> Any:
    """Fill ``tensor`` in place from ``N(mean, std^2)`` truncated to ``[a, b]`` (redrawing the
    values outside); returns it."""
    rng = resolve_rng(generator)
    values = mean + std * rng.standard_normal(_shape(tensor))
    outside = (values < a) | (values > b)
    while outside.any():
        values[outside] = mean + std * rng.standard_normal(int(outside.sum()))
        outside = (values < a) | (values > b)
    return _write(tensor, values)


def constant_(tensor: Any, val: float) -> Any:
    """Fill ``tensor`` in place with ``val``; returns it."""
    return _write(tensor, np.full(_shape(tensor), val, dtype=tensor.dtype))


def ones_(tensor: Any) -> Any:
    """Fill ``tensor`` in place with ones; returns it."""
    return constant_(tensor, 1.0)


def zeros_(tensor: Any) -> Any:
    """Fill ``tensor`` in place with zeros; returns it."""
    return constant_(tensor, 0.0)


def eye_(tensor: Any) -> Any:
    """Fill a 2-D ``tensor`` in place with the identity matrix; returns it.

    Raises
    ------
    ValueError
        If ``tensor`` is not 2-D.
    """
    if len(tensor.shape) != 2:
        raise ValueError(f"init.eye_: needs a 2-D tensor, got shape {tuple(tensor.shape)}")
    return _write(tensor, np.eye(*tensor.shape, dtype=tensor.dtype))


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: RandomLike = None) -> Any:
    """Glorot uniform in place: ``U(-b, b)``, ``b = gain sqrt(6 / (fan_in + fan_out))``."""
    return _write(tensor, xavier_uniform(_shape(tensor), gain, rng=generator, dtype=tensor.dtype))


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: RandomLike = None) -> Any:
    """Glorot normal in place: standard deviation ``gain sqrt(2 / (fan_in + fan_out))``."""
    return _write(tensor, xavier_normal(_shape(tensor), gain, rng=generator, dtype=tensor.dtype))


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str, function: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"init.{function}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(_shape(tensor), function)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: RandomLike = None,
) -> Any:
    """He uniform in place, as PyTorch: ``U(-b, b)`` with ``b = sqrt(3) gain / sqrt(fan)``.

    ``a = sqrt(5)`` is PyTorch's default for ``Linear`` and ``Conv``: ``b = 1 / sqrt(fan_in)``.
    """
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return _write(tensor, uniform(_shape(tensor), -bound, bound, rng=generator, dtype=tensor.dtype))


def kaiming_normal_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: RandomLike = None,
) -> Any:
    """He normal in place, as PyTorch: standard deviation ``gain / sqrt(fan)``."""
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return _write(tensor, normal(_shape(tensor), 0.0, std, rng=generator, dtype=tensor.dtype))

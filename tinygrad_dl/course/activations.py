"""The course's activation functions ``g`` and their derivatives ``g'``, side by side.

Each forward ``g(Z)`` uses only NumPy functions that tinygrad_dl Tensors dispatch (``np.exp``,
``np.tanh``, ``np.maximum``, ``np.where``), so the same code runs on arrays and on Tensors. Each
backward computes ``dZ^[l] = dA^[l] * g'(Z^[l])`` from the cached ``Z^[l]`` only (plain NumPy):

========== ======================== ==========================================
name       ``g(z)``                 ``g'(z)``
========== ======================== ==========================================
sigmoid    ``1 / (1 + e^-z)``       ``a (1 - a)`` with ``a = g(z)``
tanh       ``tanh(z)``              ``1 - a^2``
relu       ``max(0, z)``            1 where ``z > 0``, 0 where ``z <= 0``
leaky_relu ``max(0.01 z, z)``       1 where ``z > 0``, 0.01 where ``z <= 0``
========== ======================== ==========================================
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

LEAKY_SLOPE = 0.01
NAMES = ("sigmoid", "relu", "tanh", "leaky_relu")


def sigmoid(Z: Any) -> Any:
    """Sigmoid ``A = 1 / (1 + e^(-Z))``, elementwise.

    Parameters
    ----------
    Z : ndarray or Tensor
        Pre-activations.

    Returns
    -------
    ndarray or Tensor
        ``A`` in ``[0, 1]`` (exactly 0 or 1 in float64 once ``|Z| > ~37``).
    """
    # e^(-Z) overflows to inf for Z < ~-709; 1 / inf = 0 is the right limit, so no warning.
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-Z))


def relu(Z: Any) -> Any:
    """ReLU ``A = max(0, Z)``, elementwise."""
    return np.maximum(0, Z)


def tanh(Z: Any) -> Any:
    """``A = tanh(Z)``, elementwise."""
    return np.tanh(Z)


def leaky_relu(Z: Any) -> Any:
    """Leaky ReLU ``A = Z`` where ``Z > 0``, ``0.01 Z`` elsewhere (``max(0.01 Z, Z)``)."""
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z)


def _float_dtype(Z: np.ndarray) -> np.dtype:
    dtype = np.asarray(Z).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def sigmoid_derivative(Z: np.ndarray) -> np.ndarray:
    """``g'(Z) = a (1 - a)`` with ``a = sigmoid(Z)``."""
    a = sigmoid(Z)
    return a * (1 - a)


def tanh_derivative(Z: np.ndarray) -> np.ndarray:
    """``g'(Z) = 1 - a^2`` with ``a = tanh(Z)``."""
    return 1 - np.tanh(Z) ** 2


def relu_derivative(Z: np.ndarray) -> np.ndarray:
    """``g'(Z) = 1`` where ``Z > 0``, ``0`` where ``Z <= 0`` (the course's choice at 0)."""
    return (Z > 0).astype(_float_dtype(Z))  # float32 data keeps float32 gradients


def leaky_relu_derivative(Z: np.ndarray) -> np.ndarray:
    """``g'(Z) = 1`` where ``Z > 0``, ``0.01`` where ``Z <= 0``."""
    dtype = _float_dtype(Z)
    return np.where(Z > 0, dtype.type(1), dtype.type(LEAKY_SLOPE))


def sigmoid_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``dZ = dA * a (1 - a)`` with ``a = sigmoid(Z)``, from the cached ``Z``."""
    return dA * sigmoid_derivative(Z)


def relu_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``dZ = dA`` where ``Z > 0``, ``0`` where ``Z <= 0``."""
    return dA * relu_derivative(Z)


def tanh_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``dZ = dA * (1 - tanh(Z)^2)``."""
    return dA * tanh_derivative(Z)


def leaky_relu_backward(dA: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """``dZ = dA`` where ``Z > 0``, ``0.01 dA`` where ``Z <= 0``."""
    return dA * leaky_relu_derivative(Z)


FORWARD: dict[str, Callable[[Any], Any]] = {
    "sigmoid": sigmoid,
    "relu": relu,
    "tanh": tanh,
    "leaky_relu": leaky_relu,
}
DERIVATIVE: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": sigmoid_derivative,
    "relu": relu_derivative,
    "tanh": tanh_derivative,
    "leaky_relu": leaky_relu_derivative,
}


def check_activation(function: str, activation: str) -> str:
    """Return ``activation`` if the course knows it.

    Raises
    ------
    ValueError
        Naming the function and the activations it accepts.
    """
    if activation not in FORWARD:
        raise ValueError(
            f"{function}: unknown activation {activation!r}; expected one of {', '.join(NAMES)}"
        )
    return activation

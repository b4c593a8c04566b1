"""Week 3: a network with one tanh hidden layer and a sigmoid output, as in the course.

::

    Z1 = W1 X + b1     A1 = tanh(Z1)       Z2 = W2 A1 + b2     A2 = sigmoid(Z2)
    dZ2 = A2 - Y       dW2 = (1/m) dZ2 A1^T                    db2 = (1/m) sum(dZ2)
    dZ1 = W2^T dZ2 * (1 - A1^2)            dW1 = (1/m) dZ1 X^T  db1 = (1/m) sum(dZ1)

The backward pass reads ``A1`` and ``A2`` from the cache (no recomputation), as the course does.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import activations
from ._layout import as_input, check_examples, check_layer, check_row, random_state
from .cost import cross_entropy_cost

__all__ = [
    "layer_sizes",
    "initialize_parameters",
    "forward_propagation",
    "compute_cost",
    "backward_propagation",
    "update_parameters",
    "nn_model",
    "predict",
]


def layer_sizes(X: np.ndarray, Y: np.ndarray) -> tuple[int, int, int]:
    """The sizes ``(n_x, n_h, n_y)`` with the course's hidden width ``n_h = 4``.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_y, m)

    Returns
    -------
    tuple of int
        ``(X.shape[0], 4, Y.shape[0])``.

    Raises
    ------
    ValueError
        If ``X`` and ``Y`` do not hold the same number of examples as columns.
    """
    X, Y = as_input(X), as_input(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"layer_sizes: X has shape {tuple(X.shape)} and Y has shape {tuple(Y.shape)}; "
            "expected (n_x, m) and (n_y, m): the course keeps one example per column"
        )
    return X.shape[0], 4, Y.shape[0]


def initialize_parameters(
    n_x: int, n_h: int, n_y: int, seed: int | None = None
) -> dict[str, np.ndarray]:
    """Small random weights and zero biases: ``W1 = randn(n_h, n_x) * 0.01``, then ``W2``.

    Parameters
    ----------
    n_x, n_h, n_y : int
        Sizes of the input, hidden and output layers.
    seed : int, optional
        Draw from ``np.random.RandomState(seed)`` (the global state is left alone), which gives
        the course's published numbers; ``None`` draws from the global ``np.random``.

    Returns
    -------
    dict
        ``W1 (n_h, n_x)``, ``b1 (n_h, 1)``, ``W2 (n_y, n_h)``, ``b2 (n_y, 1)``.

    Raises
    ------
    ValueError
        If a size is not a positive integer.
    """
    for name, size in (("n_x", n_x), ("n_h", n_h), ("n_y", n_y)):
        if int(size) != size or size < 1:
            raise ValueError(
                f"initialize_parameters: {name} must be a positive integer, got {size!r}"
            )
    rng = random_state(seed)
    W1 = rng.randn(n_h, n_x) * 0.01
    W2 = rng.randn(n_y, n_h) * 0.01
    return {"W1": W1, "b1": np.zeros((n_h, 1)), "W2": W2, "b2": np.zeros((n_y, 1))}


def forward_propagation(X: Any, parameters: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``Z1 = W1 X + b1``, ``A1 = tanh(Z1)``, ``Z2 = W2 A1 + b2``, ``A2 = sigmoid(Z2)``.

    Runs unchanged on Tensors (NumPy dispatch).

    Parameters
    ----------
    X : ndarray or Tensor of shape (n_x, m)
    parameters : dict
        ``W1``, ``b1``, ``W2``, ``b2``.

    Returns
    -------
    A2 : ndarray or Tensor of shape (1, m)
    cache : dict
        ``Z1``, ``A1``, ``Z2``, ``A2``.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    X = as_input(X)
    W1, b1, W2, b2 = (parameters[key] for key in ("W1", "b1", "W2", "b2"))
    check_layer("forward_propagation", 1, W1, b1, X)
    Z1 = np.dot(W1, X) + b1
    A1 = activations.tanh(Z1)
    check_layer("forward_propagation", 2, W2, b2, A1)
    Z2 = np.dot(W2, A1) + b2
    A2 = activations.sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_cost(A2: Any, Y: Any) -> Any:
    """Cross-entropy ``J = -(1/m) sum(Y log A2 + (1 - Y) log(1 - A2))``.

    Parameters
    ----------
    A2 : ndarray or Tensor of shape (1, m)
    Y : ndarray or Tensor of shape (1, m)

    Returns
    -------
    float or Tensor
        A Python float on arrays, a 0-d Tensor keeping its graph on Tensors.

    Raises
    ------
    ValueError
        For a wrong layout or an infinite cost (``A2`` exactly 0 or 1 against its label).
    """
    return cross_entropy_cost(as_input(A2), as_input(Y), "compute_cost")


def backward_propagation(
    parameters: dict[str, np.ndarray], cache: dict[str, np.ndarray], X: np.ndarray, Y: np.ndarray
) -> dict[str, np.ndarray]:
    """Gradients from the cached activations.

    ``dZ2 = A2 - Y``, ``dW2 = (1/m) dZ2 A1^T``, ``db2 = (1/m) sum(dZ2)``,
    ``dZ1 = W2^T dZ2 * (1 - A1^2)``, ``dW1 = (1/m) dZ1 X^T``, ``db1 = (1/m) sum(dZ1)``.

    Parameters
    ----------
    parameters : dict
        ``W1``, ``b1``, ``W2``, ``b2``.
    cache : dict
        ``A1`` and ``A2`` from :func:`forward_propagation`.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)

    Returns
    -------
    dict
        ``dW1``, ``db1``, ``dW2``, ``db2``, each shaped like its parameter.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    X, Y = as_input(X), as_input(Y)
    m = check_examples("backward_propagation", X, parameters["W1"].shape[1], Y)
    A1, A2 = cache["A1"], cache["A2"]
    check_row("backward_propagation", "A2", A2)
    W2 = parameters["W2"]
    dZ2 = A2 - Y
    dW2 = np.dot(dZ2, A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = np.dot(W2.T, dZ2) * (1 - A1**2)
    dW1 = np.dot(dZ1, X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(
    parameters: dict[str, np.ndarray], grads: dict[str, np.ndarray], learning_rate: float = 1.2
) -> dict[str, np.ndarray]:
    """One gradient step ``W := W - alpha dW``, ``b := b - alpha db`` (new dict, input kept).

    Parameters
    ----------
    parameters : dict
        ``W1``, ``b1``, ``W2``, ``b2``.
    grads : dict
        ``dW1``, ``db1``, ``dW2``, ``db2``.
    learning_rate : float
        ``alpha``.

    Returns
    -------
    dict
        The updated parameters.

    Raises
    ------
    KeyError
        If a gradient is missing.
    """
    return {
        key: parameters[key] - learning_rate * grads["d" + key] for key in ("W1", "b1", "W2", "b2")
    }


def nn_model(
    X: np.ndarray,
    Y: np.ndarray,
    n_h: int,
    num_iterations: int = 10000,
    learning_rate: float = 1.2,
    print_cost: bool = False,
    seed: int | None = None,
) -> dict[str, np.ndarray]:
    """Train the shallow network by gradient descent.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    n_h : int
        Hidden width.
    num_iterations : int
    learning_rate : float
    print_cost : bool
        Print the cost every 1000 iterations, as the course's notebook does.
    seed : int, optional
        Initialise exactly like ``initialize_parameters(n_x, n_h, n_y, seed=seed)``.

    Returns
    -------
    dict
        The trained ``W1``, ``b1``, ``W2``, ``b2``.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    X, Y = as_input(X), as_input(Y)
    check_examples("nn_model", X, None, Y)
    n_x, _, n_y = layer_sizes(X, Y)
    parameters = initialize_parameters(n_x, n_h, n_y, seed=seed)
    for i in range(num_iterations):
        A2, cache = forward_propagation(X, parameters)
        cost = compute_cost(A2, Y)
        grads = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, grads, learning_rate)
        if print_cost and i % 1000 == 0:
            print(f"Cost after iteration {i}: {cost:f}")
    return parameters


def predict(parameters: dict[str, np.ndarray], X: np.ndarray) -> np.ndarray:
    """Predictions ``A2 > 0.5`` (boolean), as the course's notebook returns them.

    Parameters
    ----------
    parameters : dict
        ``W1``, ``b1``, ``W2``, ``b2``.
    X : ndarray of shape (n_x, m)

    Returns
    -------
    ndarray of bool, shape (1, m)

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    A2, _ = forward_propagation(X, parameters)
    return A2 > 0.5

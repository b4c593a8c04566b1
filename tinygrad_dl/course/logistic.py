"""Week 2: logistic regression as a neural network, with the course's names and layout.

``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``, ``w`` is ``(n_x, 1)`` and ``b`` a Python float::

    Z = w^T X + b            A = sigmoid(Z)
    J = -(1/m) sum(Y log A + (1 - Y) log(1 - A))
    dZ = A - Y               dw = (1/m) X dZ^T        db = (1/m) sum(dZ)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import activations
from ._layout import as_input, check_examples, check_row, is_tensor
from .cost import cross_entropy_cost

__all__ = [
    "sigmoid",
    "initialize_with_zeros",
    "forward",
    "compute_cost",
    "propagate",
    "optimize",
    "predict",
    "model",
]


def sigmoid(z: Any) -> Any:
    """Sigmoid ``s = 1 / (1 + e^(-z))`` of a scalar, array or Tensor.

    Parameters
    ----------
    z : float, ndarray or Tensor
        Any shape.

    Returns
    -------
    float, ndarray or Tensor
        ``s`` with the shape of ``z``.
    """
    return activations.sigmoid(as_input(z) if isinstance(z, list) else z)


def initialize_with_zeros(dim: int) -> tuple[np.ndarray, float]:
    """Zero parameters: ``w`` of shape ``(dim, 1)`` and ``b = 0.0``.

    Parameters
    ----------
    dim : int
        Number of input features ``n_x``.

    Returns
    -------
    w : ndarray of shape (dim, 1)
    b : float

    Raises
    ------
    ValueError
        If ``dim`` is not a positive integer.
    """
    if int(dim) != dim or dim < 1:
        raise ValueError(f"initialize_with_zeros: dim must be a positive integer, got {dim!r}")
    return np.zeros((int(dim), 1)), 0.0


def _check_w(function: str, w: Any, b: Any, X: Any, Y: Any = None) -> int:
    w_shape = tuple(w.shape)
    if len(w_shape) != 2 or w_shape[1] != 1:
        raise ValueError(
            f"{function}: w has shape {w_shape}, expected a column (n_x, 1); "
            "the course keeps w as (n_x, 1) so that Z = w^T X + b is (1, m)"
        )
    if np.size(b.data if is_tensor(b) else b) != 1:
        raise ValueError(f"{function}: b must be a scalar, got shape {tuple(np.shape(b))}")
    return check_examples(function, X, w_shape[0], Y)


def forward(w: Any, b: Any, X: Any) -> Any:
    """Forward pass ``A = sigmoid(w^T X + b)``.

    Parameters
    ----------
    w : ndarray or Tensor of shape (n_x, 1)
    b : float, ndarray or Tensor (a scalar)
    X : ndarray or Tensor of shape (n_x, m)

    Returns
    -------
    ndarray or Tensor of shape (1, m)
        ``A``, the predicted probabilities.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    w, X = as_input(w), as_input(X)
    _check_w("forward", w, b, X)
    return activations.sigmoid(np.dot(w.T, X) + b)


def compute_cost(A: Any, Y: Any) -> Any:
    """Cross-entropy ``J = -(1/m) sum(Y log A + (1 - Y) log(1 - A))``.

    See :func:`tinygrad_dl.course.cost.cross_entropy_cost` for the edge cases (``A`` exactly
    0 or 1).

    Parameters
    ----------
    A : ndarray or Tensor of shape (1, m)
    Y : ndarray or Tensor of shape (1, m)

    Returns
    -------
    float or Tensor
        A Python float on arrays, a 0-d Tensor keeping its graph on Tensors.

    Raises
    ------
    ValueError
        For a wrong layout or an infinite cost.
    """
    return cross_entropy_cost(as_input(A), as_input(Y), "compute_cost")


def propagate(w: Any, b: Any, X: Any, Y: Any) -> tuple[dict[str, Any], Any]:
    """Cost and gradients of logistic regression.

    ``A = sigmoid(w^T X + b)``, ``J = -(1/m) sum(Y log A + (1 - Y) log(1 - A))``,
    ``dw = (1/m) X (A - Y)^T``, ``db = (1/m) sum(A - Y)``.

    Parameters
    ----------
    w : ndarray of shape (n_x, 1)
    b : float
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
        Labels (0/1, boolean or soft labels in ``[0, 1]``).

    Returns
    -------
    grads : dict
        ``{"dw": (n_x, 1) array, "db": float}``.
    cost : float
        ``J`` (a 0-d Tensor if given Tensors).

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout, or the cost is infinite.
    """
    w, X, Y = as_input(w), as_input(X), as_input(Y)
    m = _check_w("propagate", w, b, X, Y)
    A = activations.sigmoid(np.dot(w.T, X) + b)
    cost = cross_entropy_cost(A, Y, "propagate")
    dZ = A - Y
    dw = np.dot(X, dZ.T) / m
    db = np.sum(dZ) / m
    if not is_tensor(db):
        db = float(db)
    return {"dw": dw, "db": db}, cost


def optimize(
    w: np.ndarray,
    b: float,
    X: np.ndarray,
    Y: np.ndarray,
    num_iterations: int = 100,
    learning_rate: float = 0.009,
    print_cost: bool = False,
) -> tuple[dict[str, Any], dict[str, Any], list[float]]:
    """Gradient descent ``w := w - alpha dw``, ``b := b - alpha db``.

    Parameters
    ----------
    w : ndarray of shape (n_x, 1)
        Starting weights (not modified).
    b : float
        Starting bias.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    num_iterations : int
        Number of gradient steps.
    learning_rate : float
        ``alpha``.
    print_cost : bool
        Print the cost every 100 iterations.

    Returns
    -------
    params : dict
        ``{"w", "b"}`` after the last step.
    grads : dict
        ``{"dw", "db"}`` of the last iteration, computed before its update.
    costs : list of float
        The cost of iteration ``i``'s forward pass for every ``i % 100 == 0``.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    costs: list[float] = []
    grads: dict[str, Any] = {}
    for i in range(num_iterations):
        grads, cost = propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        if i % 100 == 0:
            costs.append(cost)
            if print_cost:
                print(f"Cost after iteration {i}: {cost:f}")
    return {"w": w, "b": b}, grads, costs


def predict(w: np.ndarray, b: float, X: np.ndarray) -> np.ndarray:
    """Predicted labels: 1.0 where ``A = sigmoid(w^T X + b) > 0.5``, else 0.0.

    Parameters
    ----------
    w : ndarray of shape (n_x, 1)
    b : float
    X : ndarray of shape (n_x, m)

    Returns
    -------
    ndarray of shape (1, m)
        Floats 0. and 1.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    w, X = as_input(w), as_input(X)
    _check_w("predict", w, b, X)
    A = activations.sigmoid(np.dot(w.T, X) + b)
    return (A > 0.5).astype(np.float64)


def model(
    X_train: np.ndarray,
    Y_train: np.ndarray,
    X_test: np.ndarray,
    Y_test: np.ndarray,
    num_iterations: int = 2000,
    learning_rate: float = 0.5,
    print_cost: bool = False,
) -> dict[str, Any]:
    """Train logistic regression from zeros and predict on both sets.

    Parameters
    ----------
    X_train : ndarray of shape (n_x, m_train)
    Y_train : ndarray of shape (1, m_train)
    X_test : ndarray of shape (n_x, m_test)
    Y_test : ndarray of shape (1, m_test)
    num_iterations : int
    learning_rate : float
    print_cost : bool
        Print the cost every 100 iterations and the train/test accuracy.

    Returns
    -------
    dict
        Keys ``costs``, ``Y_prediction_test``, ``Y_prediction_train``, ``w``, ``b``,
        ``learning_rate``, ``num_iterations``.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    X_train, X_test = as_input(X_train), as_input(X_test)
    check_row("model", "Y_test", as_input(Y_test))
    w, b = initialize_with_zeros(X_train.shape[0])
    params, _, costs = optimize(
        w, b, X_train, Y_train, num_iterations, learning_rate, print_cost=print_cost
    )
    w, b = params["w"], params["b"]
    Y_prediction_test = predict(w, b, X_test)
    Y_prediction_train = predict(w, b, X_train)
    if print_cost:
        for name, prediction, labels in (
            ("train", Y_prediction_train, Y_train),
            ("test", Y_prediction_test, Y_test),
        ):
            accuracy = 100 - np.mean(np.abs(prediction - np.asarray(labels, float))) * 100
            print(f"{name} accuracy: {accuracy} %")
    return {
        "costs": costs,
        "Y_prediction_test": Y_prediction_test,
        "Y_prediction_train": Y_prediction_train,
        "w": w,
        "b": b,
        "learning_rate": learning_rate,
        "num_iterations": num_iterations,
    }

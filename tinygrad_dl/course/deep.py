"""Week 4: a deep network ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``, step by step.

Forward, for ``l = 1 .. L``::

    Z^[l] = W^[l] A^[l-1] + b^[l]          A^[l] = g^[l](Z^[l])          (A^[0] = X)

Backward, from ``dA^[L] = -(Y / A^[L] - (1 - Y) / (1 - A^[L]))`` down to ``l = 1``::

    dZ^[l] = dA^[l] * g^[l]'(Z^[l])
    dW^[l] = (1/m) dZ^[l] A^[l-1]^T      db^[l] = (1/m) sum(dZ^[l])      dA^[l-1] = W^[l]^T dZ^[l]

``dA^[l]`` and ``dZ^[l]`` are the gradients of ``m J`` (the ``1/m`` appears only in ``dW`` and
``db``). Every backward step reads the caches (``A^[l-1]``, ``W^[l]``, ``b^[l]``, ``Z^[l]``) and
nothing else, so it is correct for caches that did not come from :func:`L_model_forward`.

Hidden layers use ReLU by default; ``hidden_activation`` picks another of ``"relu"``,
``"tanh"``, ``"sigmoid"``, ``"leaky_relu"`` (one for all, or one per hidden layer).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from . import activations
from ._layout import as_input, check_examples, check_layer, check_row, random_state, raw
from .cost import cross_entropy_cost
from .shallow import initialize_parameters

__all__ = [
    "initialize_parameters",
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "compute_cost",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "update_parameters",
    "two_layer_model",
    "L_layer_model",
    "predict",
]

LinearCache = tuple[Any, Any, Any]
Cache = tuple[LinearCache, Any]


def initialize_parameters_deep(
    layer_dims: Sequence[int], seed: int | None = None, *, scaling: str = "small"
) -> dict[str, np.ndarray]:
    """Random weights ``W^[l]`` and zero biases ``b^[l]`` for ``l = 1 .. L``, drawn in order.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_0 = n_x, n_1, ..., n_L]``.
    seed : int, optional
        Draw from ``np.random.RandomState(seed)`` (global state untouched; gives the course's
        published numbers); ``None`` draws from the global ``np.random``.
    scaling : {"small", "sqrt"}
        ``"small"``: ``W^[l] = randn(n_l, n_{l-1}) * 0.01`` (the step-by-step assignment);
        ``"sqrt"``: ``W^[l] = randn(n_l, n_{l-1}) / sqrt(n_{l-1})`` (the application notebook).

    Returns
    -------
    dict
        ``W1``, ``b1``, ..., ``WL``, ``bL`` with ``W^[l]`` of shape ``(n_l, n_{l-1})`` and
        ``b^[l]`` of shape ``(n_l, 1)``.

    Raises
    ------
    ValueError
        For fewer than two sizes, a size that is not a positive integer, or an unknown scaling.
    """
    dims = list(layer_dims)
    if len(dims) < 2 or any(int(n) != n or n < 1 for n in dims):
        raise ValueError(
            "initialize_parameters_deep: layer_dims must be at least two positive integers "
            f"[n_x, ..., n_L], got {dims!r}"
        )
    if scaling not in ("small", "sqrt"):
        raise ValueError(
            f"initialize_parameters_deep: scaling must be 'small' or 'sqrt', got {scaling!r}"
        )
    rng = random_state(seed)
    parameters = {}
    for l in range(1, len(dims)):
        W = rng.randn(dims[l], dims[l - 1])
        parameters[f"W{l}"] = W * 0.01 if scaling == "small" else W / np.sqrt(dims[l - 1])
        parameters[f"b{l}"] = np.zeros((dims[l], 1))
    return parameters


def linear_forward(A: Any, W: Any, b: Any) -> tuple[Any, LinearCache]:
    """``Z = W A + b``.

    Parameters
    ----------
    A : ndarray or Tensor of shape (n_{l-1}, m)
        ``A^[l-1]``.
    W : ndarray or Tensor of shape (n_l, n_{l-1})
    b : ndarray or Tensor of shape (n_l, 1)

    Returns
    -------
    Z : ndarray or Tensor of shape (n_l, m)
    cache : tuple
        ``(A, W, b)`` for :func:`linear_backward`.

    Raises
    ------
    ValueError
        If the shapes do not follow the course's layout.
    """
    A = as_input(A)
    check_layer("linear_forward", 0, W, b, A)
    Z = np.dot(W, A) + b
    return Z, (A, W, b)


def linear_activation_forward(A_prev: Any, W: Any, b: Any, activation: str) -> tuple[Any, Cache]:
    """``A^[l] = g(W^[l] A^[l-1] + b^[l])``.

    Parameters
    ----------
    A_prev : ndarray or Tensor of shape (n_{l-1}, m)
    W : ndarray or Tensor of shape (n_l, n_{l-1})
    b : ndarray or Tensor of shape (n_l, 1)
    activation : {"sigmoid", "relu", "tanh", "leaky_relu"}

    Returns
    -------
    A : ndarray or Tensor of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)``.

    Raises
    ------
    ValueError
        For an unknown activation or shapes outside the course's layout.
    """
    activations.check_activation("linear_activation_forward", activation)
    Z, linear_cache = linear_forward(A_prev, W, b)
    return activations.FORWARD[activation](Z), (linear_cache, Z)


def _hidden_activations(function: str, hidden_activation: Any, L: int) -> list[str]:
    names = [hidden_activation] * (L - 1) if isinstance(hidden_activation, str) else None
    if names is None:
        names = list(hidden_activation)
        if len(names) != L - 1:
            raise ValueError(
                f"{function}: {len(names)} hidden activations given for {L - 1} hidden layers"
            )
    return [activations.check_activation(function, name) for name in names]


def _num_layers(function: str, parameters: dict[str, Any]) -> int:
    L = len(parameters) // 2
    expected = {f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"}
    if L < 1 or set(parameters) != expected:
        raise ValueError(
            f"{function}: parameters must hold W1, b1, ..., WL, bL; got keys {sorted(parameters)}"
        )
    return L


def L_model_forward(
    X: Any, parameters: dict[str, Any], hidden_activation: str | Sequence[str] = "relu"
) -> tuple[Any, list[Cache]]:
    """``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.

    Parameters
    ----------
    X : ndarray or Tensor of shape (n_x, m)
    parameters : dict
        ``W1``, ``b1``, ..., ``WL``, ``bL``.
    hidden_activation : str or sequence of str
        Activation of the hidden layers (``"relu"`` in the course).

    Returns
    -------
    AL : ndarray or Tensor of shape (1, m)
    caches : list
        ``L`` caches ``((A^[l-1], W^[l], b^[l]), Z^[l])``, layer 1 first.

    Raises
    ------
    ValueError
        For malformed parameters, an unknown activation or shapes outside the layout.
    """
    L = _num_layers("L_model_forward", parameters)
    hidden = _hidden_activations("L_model_forward", hidden_activation, L)
    X = as_input(X)
    check_examples("L_model_forward", X, parameters["W1"].shape[1])
    A = X
    caches = []
    for l, activation in enumerate([*hidden, "sigmoid"], start=1):
        W, b = parameters[f"W{l}"], parameters[f"b{l}"]
        check_layer("L_model_forward", l, W, b, A)
        A, cache = linear_activation_forward(A, W, b, activation)
        caches.append(cache)
    check_row("L_model_forward", "AL", A)
    return A, caches


def compute_cost(AL: Any, Y: Any) -> Any:
    """Cross-entropy ``J = -(1/m) sum(Y log AL + (1 - Y) log(1 - AL))``.

    Parameters
    ----------
    AL : ndarray or Tensor of shape (1, m)
    Y : ndarray or Tensor of shape (1, m)

    Returns
    -------
    float or Tensor
        A Python float on arrays, a 0-d Tensor keeping its graph on Tensors.

    Raises
    ------
    ValueError
        For a wrong layout or an infinite cost (``AL`` exactly 0 or 1 against its label).
    """
    return cross_entropy_cost(as_input(AL), as_input(Y), "compute_cost")


def linear_backward(dZ: np.ndarray, cache: LinearCache) -> tuple[np.ndarray, ...]:
    """``dW = (1/m) dZ A_prev^T``, ``db = (1/m) sum(dZ)``, ``dA_prev = W^T dZ``.

    Parameters
    ----------
    dZ : ndarray of shape (n_l, m)
    cache : tuple
        ``(A_prev, W, b)`` from :func:`linear_forward`.

    Returns
    -------
    dA_prev : ndarray of shape (n_{l-1}, m)
    dW : ndarray of shape (n_l, n_{l-1})
    db : ndarray of shape (n_l, 1)

    Raises
    ------
    ValueError
        If ``dZ`` does not match the cache.
    """
    A_prev, W, b = cache
    if tuple(np.shape(dZ)) != (W.shape[0], A_prev.shape[1]):
        raise ValueError(
            f"linear_backward: dZ has shape {tuple(np.shape(dZ))}, expected "
            f"({W.shape[0]}, {A_prev.shape[1]}) for W {tuple(W.shape)} and A_prev "
            f"{tuple(A_prev.shape)}"
        )
    m = A_prev.shape[1]
    dW = np.dot(dZ, A_prev.T) / m
    db = np.sum(dZ, axis=1, keepdims=True) / m
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def linear_activation_backward(
    dA: np.ndarray, cache: Cache, activation: str
) -> tuple[np.ndarray, ...]:
    """``dZ = dA * g'(Z)`` from the cached ``Z``, then :func:`linear_backward`.

    Parameters
    ----------
    dA : ndarray of shape (n_l, m)
    cache : tuple
        ``((A_prev, W, b), Z)`` from :func:`linear_activation_forward`.
    activation : {"sigmoid", "relu", "tanh", "leaky_relu"}

    Returns
    -------
    dA_prev, dW, db : ndarray
        Shaped like ``A_prev``, ``W`` and ``b``.

    Raises
    ------
    ValueError
        For an unknown activation or mismatched shapes.
    """
    activations.check_activation("linear_activation_backward", activation)
    linear_cache, Z = cache
    if tuple(np.shape(dA)) != tuple(np.shape(Z)):
        raise ValueError(
            f"linear_activation_backward: dA has shape {tuple(np.shape(dA))} but the cached Z "
            f"has shape {tuple(np.shape(Z))}"
        )
    dZ = dA * activations.DERIVATIVE[activation](Z)
    return linear_backward(dZ, linear_cache)


def L_model_backward(
    AL: np.ndarray,
    Y: np.ndarray,
    caches: Sequence[Cache],
    hidden_activation: str | Sequence[str] = "relu",
) -> dict[str, np.ndarray]:
    """Backward pass from ``dAL = -(Y / AL - (1 - Y) / (1 - AL))`` through every layer.

    The output step goes through the sigmoid's ``g'`` from the cached ``Z^[L]`` (no ``AL - Y``
    shortcut), so caches that did not come from the forward pass are handled correctly.

    Parameters
    ----------
    AL : ndarray of shape (1, m)
    Y : ndarray of shape (1, m)
    caches : list
        The ``L`` caches of :func:`L_model_forward`, layer 1 first.
    hidden_activation : str or sequence of str
        As given to :func:`L_model_forward`.

    Returns
    -------
    dict
        ``dA{l-1}``, ``dW{l}``, ``db{l}`` for ``l = 1 .. L``.

    Raises
    ------
    ValueError
        For a wrong layout, or ``AL`` exactly 0 or 1 (``dAL`` is infinite or undefined there).
    """
    AL, Y = as_input(AL), as_input(Y)
    check_row("L_model_backward", "AL", AL)
    check_row("L_model_backward", "Y", Y)
    if tuple(Y.shape) != tuple(AL.shape):
        raise ValueError(
            f"L_model_backward: AL has shape {tuple(AL.shape)} but Y has shape "
            f"{tuple(Y.shape)}; both are (1, m)"
        )
    saturated = (raw(AL) == 0) | (raw(AL) == 1)
    if np.any(saturated):
        raise ValueError(
            "L_model_backward: AL is exactly 0 or 1 in examples "
            f"{np.flatnonzero(saturated)[:5].tolist()}, where dAL = -(Y/AL - (1-Y)/(1-AL)) is "
            "infinite or undefined (float64 sigmoid rounds to 0 or 1 for |z| > ~37)"
        )
    L = len(caches)
    hidden = _hidden_activations("L_model_backward", hidden_activation, L)
    grads: dict[str, np.ndarray] = {}
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l, activation in reversed(list(enumerate([*hidden, "sigmoid"], start=1))):
        dA_prev, dW, db = linear_activation_backward(dA, caches[l - 1], activation)
        grads[f"dA{l - 1}"], grads[f"dW{l}"], grads[f"db{l}"] = dA_prev, dW, db
        dA = dA_prev
    return grads


def update_parameters(
    parameters: dict[str, np.ndarray], grads: dict[str, np.ndarray], learning_rate: float
) -> dict[str, np.ndarray]:
    """``W^[l] := W^[l] - alpha dW^[l]``, ``b^[l] := b^[l] - alpha db^[l]`` (new dict).

    Parameters
    ----------
    parameters : dict
        ``W1``, ``b1``, ..., ``WL``, ``bL`` (not modified).
    grads : dict
        ``dW1``, ``db1``, ..., ``dWL``, ``dbL``.
    learning_rate : float
        ``alpha``.

    Returns
    -------
    dict
        The updated parameters.

    Raises
    ------
    ValueError
        For malformed parameters or a gradient not shaped like its parameter.
    KeyError
        If a gradient is missing.
    """
    L = _num_layers("update_parameters", parameters)
    updated = {}
    for key in (f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"):
        step = grads[f"d{key}"]
        # A (n,) db would broadcast b (n, 1) into an (n, n) matrix without a word.
        if tuple(np.shape(step)) != tuple(np.shape(parameters[key])):
            raise ValueError(
                f"update_parameters: d{key} has shape {tuple(np.shape(step))}, expected "
                f"{tuple(np.shape(parameters[key]))} like {key}"
            )
        updated[key] = parameters[key] - learning_rate * step
    return updated


def _train(
    function: str,
    X: np.ndarray,
    Y: np.ndarray,
    parameters: dict[str, np.ndarray],
    learning_rate: float,
    num_iterations: int,
    print_cost: bool,
) -> tuple[dict[str, np.ndarray], list[float]]:
    X, Y = as_input(X), as_input(Y)
    check_examples(function, X, parameters["W1"].shape[1], Y)
    costs: list[float] = []
    for i in range(num_iterations):
        AL, caches = L_model_forward(X, parameters)
        cost = compute_cost(AL, Y)
        grads = L_model_backward(AL, Y, caches)
        parameters = update_parameters(parameters, grads, learning_rate)
        if i % 100 == 0:
            costs.append(cost)
        if print_cost and (i % 100 == 0 or i == num_iterations - 1):
            print(f"Cost after iteration {i}: {cost}")
    return parameters, costs


def two_layer_model(
    X: np.ndarray,
    Y: np.ndarray,
    layers_dims: Sequence[int],
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    print_cost: bool = False,
    seed: int | None = 1,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train ``LINEAR -> RELU -> LINEAR -> SIGMOID`` by gradient descent.

    Initialised by ``initialize_parameters(n_x, n_h, n_y, seed=seed)`` (``randn * 0.01``).

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    layers_dims : sequence of three int
        ``(n_x, n_h, n_y)``.
    learning_rate : float
    num_iterations : int
    print_cost : bool
        Print the cost every 100 iterations and at the last one.
    seed : int, optional

    Returns
    -------
    parameters : dict
        ``W1``, ``b1``, ``W2``, ``b2`` after training.
    costs : list of float
        The cost of iteration ``i``'s forward pass for every ``i % 100 == 0``.

    Raises
    ------
    ValueError
        For ``layers_dims`` not of length 3 or shapes outside the course's layout.
    """
    if len(layers_dims) != 3:
        raise ValueError(
            f"two_layer_model: layers_dims must be (n_x, n_h, n_y), got {list(layers_dims)}"
        )
    n_x, n_h, n_y = layers_dims
    parameters = initialize_parameters(n_x, n_h, n_y, seed=seed)
    return _train("two_layer_model", X, Y, parameters, learning_rate, num_iterations, print_cost)


def L_layer_model(
    X: np.ndarray,
    Y: np.ndarray,
    layers_dims: Sequence[int],
    learning_rate: float = 0.0075,
    num_iterations: int = 3000,
    print_cost: bool = False,
    seed: int | None = 1,
) -> tuple[dict[str, np.ndarray], list[float]]:
    """Train ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID`` by gradient descent.

    Initialised by ``initialize_parameters_deep(layers_dims, seed, scaling="sqrt")``, i.e.
    ``W^[l] = randn(n_l, n_{l-1}) / sqrt(n_{l-1})`` as in the course's application notebook.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    layers_dims : sequence of int
        ``[n_x, n_1, ..., n_L]``.
    learning_rate : float
    num_iterations : int
    print_cost : bool
        Print the cost every 100 iterations and at the last one.
    seed : int, optional

    Returns
    -------
    parameters : dict
        ``W1``, ``b1``, ..., ``WL``, ``bL`` after training.
    costs : list of float
        The cost of iteration ``i``'s forward pass for every ``i % 100 == 0``.

    Raises
    ------
    ValueError
        For shapes outside the course's layout.
    """
    parameters = initialize_parameters_deep(layers_dims, seed, scaling="sqrt")
    return _train("L_layer_model", X, Y, parameters, learning_rate, num_iterations, print_cost)


def predict(
    X: np.ndarray, y: np.ndarray, parameters: dict[str, np.ndarray], print_accuracy: bool = True
) -> np.ndarray:
    """Predicted labels ``1`` where ``AL > 0.5``, else ``0``, and the accuracy on ``y``.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    y : ndarray of shape (1, m)
        True labels, used for the accuracy.
    parameters : dict
        ``W1``, ``b1``, ..., ``WL``, ``bL``.
    print_accuracy : bool
        Print ``Accuracy: ...`` as the course's application notebook does.

    Returns
    -------
    ndarray of shape (1, m)
        Floats 0. and 1.

    Raises
    ------
    ValueError
        For shapes outside the course's layout.
    """
    X, y = as_input(X), as_input(y)
    m = check_examples("predict", X, parameters["W1"].shape[1], y)
    AL, _ = L_model_forward(X, parameters)
    p = (AL > 0.5).astype(np.float64)
    if print_accuracy:
        print("Accuracy: " + str(np.sum(p == y) / m))
    return p

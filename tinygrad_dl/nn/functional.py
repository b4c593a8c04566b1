"""Stateless functions: activations, ``linear``, ``dropout`` and the losses, with PyTorch's names.

The cross-entropy losses are fused ops (one node each, forward and gradient side by side) so
they are stable for any input and their gradients are exactly the course's formulas:

- ``binary_cross_entropy_with_logits(Z, Y)``: ``J = (1/m) sum(max(Z, 0) - Z Y + log(1 + e^-|Z|))``,
  the course's ``-(1/m) sum(Y log A + (1 - Y) log(1 - A))`` with ``A = sigmoid(Z)``, and
  ``dJ/dZ = (A - Y) / m``.
- ``cross_entropy(Z, y)``: softmax cross-entropy on integer labels,
  ``dJ/dZ = (softmax(Z) - onehot(y)) / m``.

Inputs are batch-first (``(m, ...)``) as in PyTorch; the element-wise losses also accept the
course's ``(1, m)`` layout, since they only need input and target to have the same shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Op, apply
from ..rng import RandomLike, resolve_rng
from ..tensor import Tensor

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "leaky_relu",
    "linear",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]

_REDUCTIONS = ("mean", "sum", "none")


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


# -- activations ------------------------------------------------------------------------------


def relu(x: Any) -> Tensor:
    """``max(0, x)``; its derivative is 1 where ``x > 0`` and 0 elsewhere."""
    return _tensor(x).relu()


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``max(negative_slope x, x)`` (the course's 0.01 slope by default)."""
    return _tensor(x).leaky_relu(negative_slope)


def tanh(x: Any) -> Tensor:
    """``tanh(x)``; ``g'(Z) = 1 - A^2``."""
    return _tensor(x).tanh()


def sigmoid(x: Any) -> Tensor:
    """``1 / (1 + e^-x)``, stable for any input; ``g'(Z) = A (1 - A)``."""
    return _tensor(x).sigmoid()


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis`` (PyTorch's ``dim``)."""
    return _tensor(x).softmax(axis=axis)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Log-softmax along ``axis``, stable for any input."""
    return _tensor(x).log_softmax(axis=axis)


def _linear_forward(x: np.ndarray, weight: np.ndarray, *rest: Any) -> np.ndarray:
    *bias, _ = rest
    out = x @ weight.T
    if bias:
        out += bias[0]  # out is a fresh array: adding in place saves a copy
    return out


def _linear_vjp(grad, out, inputs, extra, needs):
    # With dZ = grad (batch-first, (..., out_features)): dX = dZ W, dW = dZ^T X summed over the
    # batch, db = sum of dZ over the batch: the course's dW^[l] = dZ^[l] A^[l-1]^T transposed.
    x, weight = inputs[0], inputs[1]
    out_features, in_features = weight.shape
    grad_x = grad @ weight if needs[0] else None
    grad_weight = grad_bias = None
    if needs[1]:
        grad_weight = grad.reshape(-1, out_features).T @ x.reshape(-1, in_features)
        if isinstance(grad_weight, np.ndarray) and grad_weight.dtype != weight.dtype:
            grad_weight = grad_weight.astype(weight.dtype)
    if len(inputs) == 3 and needs[2]:
        grad_bias = grad.reshape(-1, out_features).sum(axis=0)
    return (grad_x, grad_weight) if len(inputs) == 2 else (grad_x, grad_weight, grad_bias)


# One node for x W^T + b instead of three (transpose, matmul, add): less per-step overhead,
# and no gradient is computed for an input x that does not require one (the data).
_LINEAR = Op("linear", _linear_forward, _linear_vjp)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``x W^T + b`` for batch-first ``x`` of shape ``(m, in_features)`` (or ``(..., in)``).

    This is the course's ``Z^[l] = W^[l] A^[l-1] + b^[l]`` transposed: with ``x = A^[l-1].T``
    the result is ``Z^[l].T``. Its gradients are ``dW = dZ^T x``, ``db = sum(dZ)`` over the
    batch and ``dx = dZ W``.

    Raises
    ------
    ValueError
        If the last axis of ``x`` is not ``in_features`` or the bias does not fit.
    """
    x = _tensor(x)
    if weight.ndim != 2 or x.ndim == 0 or x.shape[-1] != weight.shape[-1]:
        raise ValueError(
            f"linear: input of shape {x.shape} does not fit weight of shape {weight.shape}: its "
            f"last axis must have {weight.shape[-1]} features (batch-first (m, in_features); "
            f"for the course's (n_x, m) layout pass X.T)"
        )
    if bias is None:
        return apply(_LINEAR, (x, weight), None)
    if bias.shape != (weight.shape[0],):
        raise ValueError(
            f"linear: bias of shape {bias.shape} does not fit weight of shape {weight.shape}; "
            f"expected ({weight.shape[0]},)"
        )
    return apply(_LINEAR, (x, weight, bias), None)


def dropout(x: Any, p: float = 0.5, training: bool = True, rng: RandomLike = None) -> Tensor:
    """Inverted dropout: zero each element with probability ``p``, scale the rest by 1/(1-p).

    The expected value of each output equals its input, so nothing changes at evaluation time
    (``training=False`` returns ``x`` itself).

    Raises
    ------
    ValueError
        If ``p`` is not in ``[0, 1]``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: p must be in [0, 1], got {p!r}")
    x = _tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        return x * np.zeros(x.shape, dtype=x.dtype)
    keep = resolve_rng(rng).uniform(size=x.shape) >= p
    mask = keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    return x * mask


# -- losses ------------------------------------------------------------------------------------


def _check_reduction(function: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(
            f"{function}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}"
        )


def _pair(function: str, input: Any, target: Any) -> tuple[Tensor, Tensor]:
    """Input and target as Tensors of the same shape, the target in the input's float dtype."""
    input = _tensor(input)
    if input.dtype.kind != "f":
        raise TypeError(f"{function}: input must be floating point, got dtype {input.dtype}")
    if isinstance(target, Tensor) and target.requires_grad:
        if target.dtype != input.dtype:
            raise TypeError(
                f"{function}: target dtype {target.dtype} differs from input dtype {input.dtype}"
            )
    else:
        values = target.data if isinstance(target, Tensor) else target
        target = Tensor(np.asarray(values, dtype=input.dtype))
    if target.shape != input.shape:
        raise ValueError(
            f"{function}: input shape {input.shape} and target shape {target.shape} differ; "
            f"they must match (a (m,) target against a (m, 1) input would broadcast to (m, m))"
        )
    if input.size == 0:
        raise ValueError(f"{function}: empty input of shape {input.shape}")
    return input, target


def _reduce(loss: np.ndarray, reduction: str, dtype: np.dtype) -> np.ndarray:
    # ufunc.reduce directly: the value of loss.mean()/loss.sum() without their Python overhead
    if reduction == "mean":
        return np.asarray(np.add.reduce(loss, axis=None) / loss.size, dtype=dtype)
    if reduction == "sum":
        return np.asarray(np.add.reduce(loss, axis=None), dtype=dtype)
    return loss


def _scale(reduction: str, size: int) -> float:
    """The ``1/m`` of the mean (1 for sum and none)."""
    return float(size) if reduction == "mean" else 1.0


def _bce_logits_forward(z: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
    # log(1 + e^z) - z y written so that no exponential of a large positive number is taken.
    loss = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    return _reduce(loss, reduction, z.dtype)


def _bce_logits_vjp(grad, out, inputs, reduction, needs):
    z, y = inputs
    m = _scale(reduction, z.size)
    # The course's sigmoid, exactly. e^-z overflows to inf for z < -709 (A is then 0, correctly);
    # only then is the warning silenced (np.errstate costs more than the exponential here).
    z_data = z.data if isinstance(z, Tensor) else z
    if z_data.min() < -700:
        with np.errstate(over="ignore"):
            A = 1 / (1 + np.exp(-z))
    else:
        A = 1 / (1 + np.exp(-z))
    grad_z = (A - y) / m * grad if needs[0] else None
    grad_y = -z / m * grad if needs[1] else None
    return grad_z, grad_y


_BCE_WITH_LOGITS = Op("binary_cross_entropy_with_logits", _bce_logits_forward, _bce_logits_vjp)


def binary_cross_entropy_with_logits(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on logits ``Z``, stable for any ``Z`` (no overflow, no NaN).

    ``J = (1/m) sum(-(Y log A + (1 - Y) log(1 - A)))`` with ``A = sigmoid(Z)``, computed as
    ``max(Z, 0) - Z Y + log(1 + e^-|Z|)``. Its gradient is exactly the course's
    ``dZ = (A - Y) / m`` (``A - Y`` for ``reduction="sum"``).

    Parameters
    ----------
    input : Tensor
        Logits ``Z``, any shape (``(m, 1)`` batch-first or the course's ``(1, m)``).
    target : array_like or Tensor
        Labels ``Y`` in ``[0, 1]`` (hard or soft), same shape as ``input``.
    reduction : {"mean", "sum", "none"}
        ``m`` is the number of elements.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If the shapes differ or ``reduction`` is unknown.
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    input, target = _pair("binary_cross_entropy_with_logits", input, target)
    return apply(_BCE_WITH_LOGITS, (input, target), reduction)


_LOG_FLOOR = -100.0  # PyTorch's clamp: log(0) counts as -100, so A = 0 or 1 gives a finite J


def _bce_logs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        return np.maximum(np.log(p), _LOG_FLOOR), np.maximum(np.log1p(-p), _LOG_FLOOR)


def _bce_forward(p: np.ndarray, y: np.ndarray, reduction: str) -> np.ndarray:
    log_p, log_1mp = _bce_logs(p)
    return _reduce(-(y * log_p + (1 - y) * log_1mp), reduction, p.dtype)


def _bce_vjp(grad, out, inputs, reduction, needs):
    p, y = inputs
    m = _scale(reduction, p.size)
    grad_p = grad_y = None
    if needs[0]:
        # dJ/dA = -(Y/A - (1-Y)/(1-A)) / m = (A - Y) / (A (1 - A) m); the floor keeps A = 0 or 1
        # finite, as PyTorch does.
        grad_p = (p - y) / np.maximum(p * (1 - p), 1e-12) / m * grad
    if needs[1]:
        p_data = p.data if isinstance(p, Tensor) else p
        log_p, log_1mp = _bce_logs(p_data)
        grad_y = -(log_p - log_1mp) / m * grad
    return grad_p, grad_y


_BCE = Op("binary_cross_entropy", _bce_forward, _bce_vjp)


def binary_cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy on probabilities ``A``: the course's cost.

    ``J = -(1/m) sum(Y log A + (1 - Y) log(1 - A))``; logarithms are clamped at -100 as in
    PyTorch, so ``A`` exactly 0 or 1 gives a large finite cost, never inf or NaN. Prefer
    :func:`binary_cross_entropy_with_logits` on the logits: it is exact where this one clamps.

    Parameters
    ----------
    input : Tensor
        Probabilities ``A`` in ``[0, 1]``.
    target : array_like or Tensor
        Labels ``Y``, same shape.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If an input value lies outside ``[0, 1]`` (or is NaN), the shapes differ, or
        ``reduction`` is unknown.
    """
    _check_reduction("binary_cross_entropy", reduction)
    input, target = _pair("binary_cross_entropy", input, target)
    data = input.data
    if not np.all((data >= 0) & (data <= 1)):
        bad = float(data[~((data >= 0) & (data <= 1))].ravel()[0])
        raise ValueError(
            f"binary_cross_entropy: input must be probabilities in [0, 1], found {bad!r}; "
            "for logits use binary_cross_entropy_with_logits"
        )
    return apply(_BCE, (input, target), reduction)


def _cross_entropy_forward(z: np.ndarray, extra: tuple[np.ndarray, str]) -> np.ndarray:
    labels, reduction = extra
    shift = z.max(axis=1, keepdims=True)
    shifted = z - shift
    log_norm = np.log(np.exp(shifted).sum(axis=1))
    loss = log_norm - shifted[np.arange(z.shape[0]), labels]
    return _reduce(loss, reduction, z.dtype)


def _cross_entropy_vjp(grad, out, inputs, extra, needs):
    (z,) = inputs
    labels, reduction = extra
    m = _scale(reduction, z.shape[0])
    rows = np.arange(z.shape[0])
    if reduction == "none":
        grad = grad.reshape(-1, 1)
    if isinstance(z, np.ndarray):
        exp = np.exp(z - z.max(axis=1, keepdims=True))
        probs = exp / exp.sum(axis=1, keepdims=True)
        probs[rows, labels] -= 1.0
        return (probs / m * grad,)
    # Under create_graph: the same formula in dispatching operations (the shift is a constant).
    exp = np.exp(z - z.data.max(axis=1, keepdims=True))
    probs = exp / np.sum(exp, axis=1, keepdims=True)
    onehot = np.zeros(z.shape, dtype=z.dtype)
    onehot[rows, labels] = 1.0
    return ((probs - onehot) / m * grad,)


_CROSS_ENTROPY = Op("cross_entropy", _cross_entropy_forward, _cross_entropy_vjp)


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Softmax cross-entropy of logits ``(m, C)`` and integer class labels ``(m,)``.

    ``J = (1/m) sum_i (log sum_k e^{Z_ik} - Z_{i, y_i})``, stable for any logits;
    ``dJ/dZ = (softmax(Z) - onehot(y)) / m``.

    Parameters
    ----------
    input : Tensor
        Logits of shape ``(m, C)`` (or ``(C,)`` for one example).
    target : array_like or Tensor of int
        Labels in ``0 .. C-1``, shape ``(m,)`` (or ``()``).
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If shapes do not fit, labels are out of range, or ``reduction`` is unknown.
    TypeError
        If the labels are not integers (one-hot or float targets).
    """
    _check_reduction("cross_entropy", reduction)
    input = _tensor(input)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: target must hold integer class labels, got dtype {labels.dtype} "
            "(for one-hot targets pass target.argmax(axis=1))"
        )
    if input.ndim == 1 and labels.ndim == 0:
        return cross_entropy(input.reshape(1, -1), labels.reshape(1), reduction).reshape(())
    if input.ndim != 2 or labels.shape != (input.shape[0],):
        raise ValueError(
            f"cross_entropy: expected logits (m, C) and labels (m,), got shapes {input.shape} "
            f"and {labels.shape}"
        )
    if input.shape[0] == 0:
        raise ValueError(f"cross_entropy: empty input of shape {input.shape}")
    classes = input.shape[1]
    if labels.min() < 0 or labels.max() >= classes:
        raise ValueError(
            f"cross_entropy: labels must be in [0, {classes - 1}] for {classes} classes, got "
            f"values from {labels.min()} to {labels.max()}"
        )
    return apply(_CROSS_ENTROPY, (input,), (labels.astype(np.intp, copy=False), reduction))


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(1/m) sum((input - target)^2)`` over all elements.

    Raises
    ------
    ValueError
        If the shapes differ or ``reduction`` is unknown.
    """
    _check_reduction("mse_loss", reduction)
    input, target = _pair("mse_loss", input, target)
    diff = input - target
    squared = diff * diff
    if reduction == "mean":
        return squared.mean()
    if reduction == "sum":
        return squared.sum()
    return squared

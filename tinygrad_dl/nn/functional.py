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

import math
from typing import Any

import numpy as np

from .. import backend as _backend
from .. import ops
from ..autograd import Op, apply
from ..backend import is_numpy, xnp
from ..ops.activations import (
    celu,
    elu,
    gelu,
    hardsigmoid,
    hardswish,
    hardtanh,
    logsigmoid,
    mish,
    relu6,
    selu,
    silu,
    softsign,
)
from ..rng import RandomLike, resolve_rng
from ..tensor import Tensor
from .conv import (
    Geometry,
    adaptive_avg_pool2d,
    avg_pool2d,
    conv1d,
    conv2d,
    fold,
    interpolate,
    max_pool2d,
    pad,
    windows,
)
from .conv import _pair as _int_pair

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "celu",
    "conv1d",
    "conv2d",
    "conv_transpose2d",
    "cosine_similarity",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "elu",
    "embedding",
    "gelu",
    "group_norm",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "huber_loss",
    "interpolate",
    "kl_div",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "logsigmoid",
    "max_pool2d",
    "mish",
    "mse_loss",
    "nll_loss",
    "normalize",
    "one_hot",
    "pad",
    "pixel_shuffle",
    "relu",
    "relu6",
    "scaled_dot_product_attention",
    "selu",
    "sigmoid",
    "silu",
    "smooth_l1_loss",
    "softmax",
    "softplus",
    "softsign",
    "tanh",
    "unfold",
]

_REDUCTIONS = ("mean", "sum", "none")


def _foreign(array: Any) -> bool:
    """True for data of another array library (CuPy, array_api_strict): the standard's path."""
    return type(array) is not np.ndarray and _backend.foreign(array)


def _tensor(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return Tensor(x if hasattr(x, "__array_namespace__") else np.asarray(x))


# -- activations -------------------------------------------------------------------------------


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


def _dim_or_axis(function: str, dim: Any, axis: Any) -> int:
    if dim is not None and axis is not None:
        raise TypeError(f"{function}: give dim (PyTorch) or axis (NumPy), not both")
    chosen = dim if dim is not None else axis
    return -1 if chosen is None else chosen


def softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Softmax along ``dim`` (NumPy's ``axis``; the last axis by default)."""
    return _tensor(x).softmax(axis=_dim_or_axis("softmax", dim, axis))


def log_softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """Log-softmax along ``dim`` (NumPy's ``axis``; the last axis by default), stable."""
    return _tensor(x).log_softmax(axis=_dim_or_axis("log_softmax", dim, axis))


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
    rows = _backend.reshape(grad, (-1, out_features))
    if needs[1]:
        grad_weight = rows.T @ _backend.reshape(x, (-1, in_features))
        if isinstance(grad_weight, np.ndarray) and grad_weight.dtype != weight.dtype:
            grad_weight = grad_weight.astype(weight.dtype)
    if len(inputs) == 3 and needs[2]:
        grad_bias = xnp.sum(rows, axis=0) if _foreign(rows) else rows.sum(axis=0)
    return (grad_x, grad_weight) if len(inputs) == 2 else (grad_x, grad_weight, grad_bias)


# One node for x W^T + b instead of three (transpose, matmul, add): less per-step overhead,
# and no gradient is computed for an input x that does not require one (the data).
_LINEAR = Op(
    "linear",
    _linear_forward,
    _linear_vjp,
    rule="dX = dZ W, dW = dZ^T X, db = sum(dZ) over the batch",
)


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
    return x * _dropout_mask(x, x.shape, p, rng)


def _dropout_mask(x: Tensor, shape: tuple[int, ...], p: float, rng: RandomLike) -> Any:
    """``keep / (1 - p)`` with ``keep ~ Bernoulli(1 - p)``, shaped ``shape``, on ``x``'s device.

    NumPy draws from ``rng``. A library with its own generator (CuPy's ``random.default_rng``)
    draws on the device, seeded from ``rng`` (so one seed gives one sequence per device, and
    no mask crosses the bus); one without (array_api_strict) gets ``rng``'s host draw moved
    to the device, the same mask the CPU would use.
    """
    generator = resolve_rng(rng)
    if p == 1.0:
        host = np.zeros(shape, dtype=x.dtype)
    elif is_numpy(x.data):
        keep = generator.uniform(size=shape) >= p
        return keep.astype(x.dtype) / np.asarray(1.0 - p, dtype=x.dtype)
    else:
        xp = _backend.namespace(x.data)
        device_random = getattr(getattr(xp, "random", None), "default_rng", None)
        if device_random is not None:
            seed = int(generator.integers(2**63))
            with _backend.on_device(x.data):
                draws = device_random(seed).random(shape)
            keep = _backend.astype(draws >= p, x.dtype)
            return keep / (1.0 - p)
        host = (generator.uniform(size=shape) >= p).astype(x.dtype) / (1.0 - p)
    return host if is_numpy(x.data) else _backend.to_device(host, x.device)


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
        if type(input.data) is not np.ndarray and _backend.foreign(input.data):  # to its device
            target = Tensor(values, dtype=input.dtype, device=input.device)
        else:
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
    if type(loss) is not np.ndarray and _backend.foreign(loss):
        if reduction == "none":
            return loss
        total = xnp.sum(loss)
        return total / loss.size if reduction == "mean" else total
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
    xp = np if type(z) is np.ndarray else _backend.namespace(z)
    loss = xp.maximum(z, 0) - z * y + xp.log1p(xp.exp(-xp.abs(z)))
    return _reduce(loss, reduction, z.dtype)


def _bce_logits_vjp(grad, out, inputs, reduction, needs):
    z, y = inputs
    m = _scale(reduction, z.size)
    # The course's sigmoid, exactly. e^-z overflows to inf for z < -709 (A is then 0, correctly);
    # only then is the warning silenced (np.errstate costs more than the exponential here).
    z_data = z.data if isinstance(z, Tensor) else z
    # (GPUs raise no floating-point warnings: no check, which would wait for the device)
    xp = np if type(z) is np.ndarray else _backend.namespace(z)
    if type(z_data) is np.ndarray and z_data.min() < -700:
        with np.errstate(over="ignore"):
            A = 1 / (1 + xp.exp(-z))
    else:
        A = 1 / (1 + xp.exp(-z))
    grad_z = (A - y) / m * grad if needs[0] else None
    grad_y = -z / m * grad if needs[1] else None
    return grad_z, grad_y


_BCE_WITH_LOGITS = Op(
    "binary_cross_entropy_with_logits",
    _bce_logits_forward,
    _bce_logits_vjp,
    rule="dZ = (sigmoid(Z) - Y) / m * dJ, dY = -Z / m * dJ",
)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    *,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Tensor:
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
    weight : array_like, optional
        Rescales each element's loss (broadcast against the input), as PyTorch.
    reduction : {"mean", "sum", "none"}
        ``m`` is the number of elements.
    pos_weight : array_like, optional
        Weight of the positive term, per class (broadcast along the last axis):
        ``-(p Y log A + (1 - Y) log(1 - A))``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If the shapes differ or ``reduction`` is unknown.
    TypeError
        If ``weight`` is a string (the old positional ``reduction``).
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    _no_positional_reduction("binary_cross_entropy_with_logits", weight)
    input, target = _pair("binary_cross_entropy_with_logits", input, target)
    if weight is None and pos_weight is None:
        return apply(_BCE_WITH_LOGITS, (input, target), reduction)
    # PyTorch's weighted form: (1 - Y) Z + (1 + (p - 1) Y) log(1 + e^-Z), softplus being stable.
    if pos_weight is None:
        log_weight: Any = 1.0
    else:
        log_weight = (_constant(pos_weight, input.dtype) - 1.0) * target + 1.0
    loss = (1.0 - target) * input + log_weight * (-input).softplus()
    if weight is not None:
        loss = loss * _constant(weight, input.dtype)
    return _reduced(loss, reduction)


def _no_positional_reduction(function: str, weight: Any) -> None:
    if isinstance(weight, str):
        raise TypeError(
            f"{function}: the third argument is weight (PyTorch's order); pass "
            f"reduction={weight!r} by keyword"
        )


def _constant(value: Any, dtype: np.dtype) -> Any:
    """A weight as an array of ``dtype`` (a Tensor that requires grad stays in the graph)."""
    if isinstance(value, Tensor):
        return value if value.requires_grad else value.data.astype(dtype, copy=False)
    return np.asarray(value, dtype=dtype)


_LOG_FLOOR = -100.0  # PyTorch's clamp: log(0) counts as -100, so A = 0 or 1 gives a finite J


def _bce_logs(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(divide="ignore"):
        return xnp.maximum(xnp.log(p), _LOG_FLOOR), xnp.maximum(xnp.log1p(-p), _LOG_FLOOR)


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
        grad_p = (p - y) / xnp.maximum(p * (1 - p), 1e-12) / m * grad
    if needs[1]:
        p_data = p.data if isinstance(p, Tensor) else p
        log_p, log_1mp = _bce_logs(p_data)
        grad_y = -(log_p - log_1mp) / m * grad
    return grad_p, grad_y


_BCE = Op(
    "binary_cross_entropy",
    _bce_forward,
    _bce_vjp,
    rule="dA = (A - Y) / (A (1 - A) m) * dJ, dY = -(log A - log(1 - A)) / m * dJ",
)


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, *, reduction: str = "mean"
) -> Tensor:
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
    weight : array_like, optional
        Rescales each element's loss (broadcast against the input), as PyTorch.
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If an input value lies outside ``[0, 1]`` (or is NaN), the shapes differ, or
        ``reduction`` is unknown.
    TypeError
        If ``weight`` is a string (the old positional ``reduction``).
    """
    _check_reduction("binary_cross_entropy", reduction)
    _no_positional_reduction("binary_cross_entropy", weight)
    input, target = _pair("binary_cross_entropy", input, target)
    data = input.data
    if not np.all((data >= 0) & (data <= 1)):
        bad = float(data[~((data >= 0) & (data <= 1))].ravel()[0])
        raise ValueError(
            f"binary_cross_entropy: input must be probabilities in [0, 1], found {bad!r}; "
            "for logits use binary_cross_entropy_with_logits"
        )
    if weight is None:
        return apply(_BCE, (input, target), reduction)
    loss = apply(_BCE, (input, target), "none") * _constant(weight, input.dtype)
    return _reduced(loss, reduction)


def _cross_entropy_forward(z: np.ndarray, extra: tuple[np.ndarray, str]) -> np.ndarray:
    labels, reduction = extra
    if _foreign(z):  # the standard's take_along_axis instead of fancy indexing
        xp = _backend.namespace(z)
        shifted = z - xp.max(z, axis=1, keepdims=True)
        log_norm = xp.log(xp.sum(xp.exp(shifted), axis=1))
        picked = xp.take_along_axis(shifted, xp.reshape(labels, (-1, 1)), axis=1)
        return _reduce(log_norm - xp.reshape(picked, (-1,)), reduction, z.dtype)
    shift = z.max(axis=1, keepdims=True)
    shifted = z - shift
    log_norm = xnp.log(xnp.exp(shifted).sum(axis=1))
    loss = log_norm - shifted[np.arange(z.shape[0]), labels]
    return _reduce(loss, reduction, z.dtype)


def _cross_entropy_vjp(grad, out, inputs, extra, needs):
    (z,) = inputs
    labels, reduction = extra
    m = _scale(reduction, z.shape[0])
    rows = np.arange(z.shape[0])
    if reduction == "none":
        grad = _backend.reshape(grad, (-1, 1))
    if _foreign(z):
        xp = _backend.namespace(z)
        exp = xp.exp(z - xp.max(z, axis=1, keepdims=True))
        probs = exp / xp.sum(exp, axis=1, keepdims=True)
        classes = xp.arange(z.shape[1], device=_backend.native_device(z))
        onehot = xp.astype(xp.reshape(labels, (-1, 1)) == classes, z.dtype)
        return ((probs - onehot) / m * grad,)
    if isinstance(z, np.ndarray):
        exp = xnp.exp(z - z.max(axis=1, keepdims=True))
        probs = exp / exp.sum(axis=1, keepdims=True)
        probs[rows, labels] -= 1.0
        return (probs / m * grad,)
    # Under create_graph: the same formula in dispatching operations (the shift is a constant).
    exp = xnp.exp(z - z.data.max(axis=1, keepdims=True))
    probs = exp / xnp.sum(exp, axis=1, keepdims=True)
    onehot = np.zeros(z.shape, dtype=z.dtype)
    onehot[rows, labels] = 1.0
    return ((probs - onehot) / m * grad,)


_CROSS_ENTROPY = Op(
    "cross_entropy",
    _cross_entropy_forward,
    _cross_entropy_vjp,
    rule="dZ = (softmax(Z) - onehot(y)) / m * dJ",
)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Softmax cross-entropy of logits and class labels or class probabilities, as PyTorch's.

    With labels, ``J = (1/sum_i w_{y_i}) sum_i w_{y_i} (log sum_k e^{Z_ik} - Z_{i, y_i})`` over
    the examples whose label is not ``ignore_index`` (``w = 1`` without ``weight``); for plain
    ``(m, C)`` logits and labels this is ``(1/m) sum_i ...`` and
    ``dJ/dZ = (softmax(Z) - onehot(y)) / m``, the course's formula, in one fused op.
    ``label_smoothing = e`` mixes in ``e/C`` of the uniform distribution:
    ``J = (1 - e) J_labels + (e / C) J_uniform``. With probability targets ``P`` (same shape as
    the input), ``J = -(1/m) sum_i sum_k w_k P_ik log softmax(Z)_ik``.

    Parameters
    ----------
    input : Tensor
        Logits ``(m, C)``, ``(m, C, d1, ...)`` or ``(C,)``.
    target : array_like or Tensor
        Integer labels ``(m,)``, ``(m, d1, ...)`` or ``()``; or float probabilities shaped like
        ``input``.
    weight : array_like, optional
        ``(C,)`` class weights.
    ignore_index : int
        Labels equal to it contribute nothing (nor to the mean's divisor).
    reduction : {"mean", "sum", "none"}
    label_smoothing : float
        In ``[0, 1]``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If shapes do not fit, labels are out of range, or an option is invalid.
    TypeError
        If ``weight`` is a string (the old positional ``reduction``) or labels are not integers
        and not probabilities shaped like the input.
    """
    _check_reduction("cross_entropy", reduction)
    weights = _class_weights("cross_entropy", weight)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(
            f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}"
        )
    input = _tensor(input)
    labels = target.data if isinstance(target, Tensor) else target
    on_device = None
    if _foreign(input.data):  # validated on the host; the fused op takes them on the device
        on_device = _backend.to_device(labels, input.device)
        labels = _backend.to_numpy(on_device)
    labels = np.asarray(labels)
    if labels.dtype.kind == "f":
        return _cross_entropy_probabilities(input, target, weights, reduction, label_smoothing)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"cross_entropy: target must hold integer class labels or float probabilities "
            f"shaped like the input, got dtype {labels.dtype}"
        )
    if input.ndim == 1 and labels.ndim == 0:
        out = cross_entropy(
            input.reshape(1, -1),
            labels.reshape(1),
            weight,
            ignore_index=ignore_index,
            reduction=reduction,
            label_smoothing=label_smoothing,
        )
        return out.reshape(())
    if (
        input.ndim == 2
        and weights is None
        and label_smoothing == 0.0
        and labels.shape == (input.shape[0],)
        and input.shape[0] > 0
        and not np.any(labels == ignore_index)
    ):
        classes = input.shape[1]
        if labels.min() < 0 or labels.max() >= classes:
            raise ValueError(
                f"cross_entropy: labels must be in [0, {classes - 1}] for {classes} classes, "
                f"got values from {labels.min()} to {labels.max()}"
            )
        if on_device is not None:
            return apply(_CROSS_ENTROPY, (input,), (on_device, reduction))
        return apply(_CROSS_ENTROPY, (input,), (labels.astype(np.intp, copy=False), reduction))
    log_probs = _check_classes("cross_entropy", input, labels).log_softmax(axis=1)
    loss = nll_loss(log_probs, labels, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    # PyTorch's smoothing term: -sum_k w_k log p_k per example, zero where ignored, divided
    # like the labelled term (by sum of w_{y_i} over the kept examples for the mean).
    classes = input.shape[1]
    kept = labels != ignore_index
    weighted = log_probs if weights is None else log_probs * _along_classes(weights, input.ndim)
    smooth = -(weighted.sum(axis=1)) * kept.astype(input.dtype)
    if reduction == "mean":
        divisor = (
            kept.sum() if weights is None else (weights[np.where(kept, labels, 0)] * kept).sum()
        )
        smooth = smooth.sum() / np.asarray(divisor, dtype=input.dtype)
    elif reduction == "sum":
        smooth = smooth.sum()
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / classes)


def _class_weights(function: str, weight: Any) -> np.ndarray | None:
    if weight is None:
        return None
    _no_positional_reduction(function, weight)
    weights = np.asarray(weight.data if isinstance(weight, Tensor) else weight)
    if weights.ndim != 1 or weights.dtype.kind not in "iuf":
        raise ValueError(
            f"{function}: weight must be a 1-D array of C class weights, got shape "
            f"{weights.shape} and dtype {weights.dtype}"
        )
    return weights


def _along_classes(values: np.ndarray, ndim: int) -> np.ndarray:
    """A ``(C,)`` array shaped to broadcast along axis 1 of an ``ndim``-D input."""
    return values.reshape((1, -1) + (1,) * (ndim - 2))


def _check_classes(function: str, input: Tensor, labels: np.ndarray) -> Tensor:
    if input.ndim < 2 or labels.shape != input.shape[:1] + input.shape[2:]:
        raise ValueError(
            f"{function}: expected input (m, C) or (m, C, d1, ...) and labels (m,) or "
            f"(m, d1, ...), got shapes {input.shape} and {labels.shape}"
        )
    if input.dtype.kind != "f":
        raise TypeError(f"{function}: input must be floating point, got dtype {input.dtype}")
    return input


def _cross_entropy_probabilities(
    input: Tensor, target: Any, weights: np.ndarray | None, reduction: str, smoothing: float
) -> Tensor:
    values = target.data if isinstance(target, Tensor) else np.asarray(target)
    if values.shape != input.shape or input.ndim < 1:
        raise ValueError(
            f"cross_entropy: probability targets must have the input's shape {input.shape}, "
            f"got {values.shape} (for class labels use an integer array)"
        )
    squeeze = input.ndim == 1
    if squeeze:
        input = input.reshape(1, -1)
    classes = input.shape[1]
    probabilities: Any = (
        target
        if isinstance(target, Tensor) and target.requires_grad
        else values.astype(input.dtype)
    )
    if squeeze:
        probabilities = probabilities.reshape(1, -1)
    if smoothing:
        probabilities = probabilities * (1.0 - smoothing) + smoothing / classes
    terms = input.log_softmax(axis=1) * probabilities
    if weights is not None:
        terms = terms * _along_classes(weights.astype(input.dtype), input.ndim)
    per_example = -terms.sum(axis=1)
    if reduction == "mean":
        return per_example.sum() / (input.size // classes)
    if reduction == "sum":
        return per_example.sum()
    return per_example.reshape(()) if squeeze else per_example


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    *,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of log-probabilities, as ``torch.nn.functional.nll_loss``.

    ``J = -(1/sum_i w_{y_i}) sum_i w_{y_i} input[i, y_i]`` over the examples whose label is not
    ``ignore_index`` (``w = 1`` without ``weight``): with ``log_softmax`` outputs this is the
    cross-entropy.

    Parameters
    ----------
    input : Tensor
        ``(m, C)``, ``(m, C, d1, ...)`` or ``(C,)`` log-probabilities.
    target : array_like of int
        ``(m,)``, ``(m, d1, ...)`` or ``()``.
    weight : array_like, optional
        ``(C,)`` class weights.
    ignore_index : int
    reduction : {"mean", "sum", "none"}

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If shapes do not fit or a label is out of range.
    TypeError
        If the labels are not integers.
    """
    _check_reduction("nll_loss", reduction)
    weights = _class_weights("nll_loss", weight)
    input = _tensor(input)
    labels = np.asarray(target.data if isinstance(target, Tensor) else target)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"nll_loss: target must hold integer class labels, got {labels.dtype}")
    if input.ndim == 1 and labels.ndim == 0:
        out = nll_loss(
            input.reshape(1, -1),
            labels.reshape(1),
            weight,
            ignore_index=ignore_index,
            reduction=reduction,
        )
        return out.reshape(())
    _check_classes("nll_loss", input, labels)
    classes = input.shape[1]
    if weights is not None and weights.shape != (classes,):
        raise ValueError(
            f"nll_loss: weight of shape {weights.shape} does not fit {classes} classes"
        )
    kept = labels != ignore_index
    safe = np.where(kept, labels, 0)
    # Checked on ``safe`` (ignored labels read as class 0), not on ``labels[kept]``, whose
    # length depends on the values: tg.compile replays fixed shapes.
    if safe.size and (safe.min() < 0 or safe.max() >= classes):
        raise ValueError(
            f"nll_loss: labels must be in [0, {classes - 1}] for {classes} classes (or "
            f"ignore_index={ignore_index}), got values from {labels[kept].min()} to "
            f"{labels[kept].max()}"
        )
    scale = kept.astype(input.dtype)
    if weights is not None:
        scale = scale * weights.astype(input.dtype)[safe]
    # Move the class axis last and pick each example's entry: a recorded gather.
    flat = input if input.ndim == 2 else input.transpose(0, *range(2, input.ndim), 1)
    picked = flat.reshape(-1, classes)[np.arange(safe.size), safe.ravel()].reshape(labels.shape)
    losses = -(picked * scale)
    if reduction == "mean":
        return losses.sum() / np.asarray(scale.sum(), dtype=input.dtype)
    if reduction == "sum":
        return losses.sum()
    return losses


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
    return _reduced(diff * diff, reduction)


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


# -- more activations --------------------------------------------------------------------------


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + e^{beta x}) / beta``, and ``x`` itself where ``beta x > threshold``, as PyTorch."""
    x = _tensor(x)
    scaled = x * beta if beta != 1.0 else x
    smooth = scaled.softplus() / beta if beta != 1.0 else scaled.softplus()
    return ops.where(scaled.data > threshold, x, smooth)


# -- more losses -------------------------------------------------------------------------------


def l1_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error ``(1/m) sum |input - target|``.

    Raises
    ------
    ValueError
        If the shapes differ or ``reduction`` is unknown.
    """
    _check_reduction("l1_loss", reduction)
    input, target = _pair("l1_loss", input, target)
    return _reduced((input - target).abs(), reduction)


def smooth_l1_loss(input: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """``0.5 d^2 / beta`` where ``|d| < beta``, else ``|d| - 0.5 beta``, with ``d = input -
    target`` (``beta = 0`` is the L1 loss).

    Raises
    ------
    ValueError
        If the shapes differ, ``beta < 0`` or ``reduction`` is unknown.
    """
    _check_reduction("smooth_l1_loss", reduction)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta!r}")
    input, target = _pair("smooth_l1_loss", input, target)
    diff = input - target
    distance = diff.abs()
    if beta == 0:
        return _reduced(distance, reduction)
    loss = ops.where(distance.data < beta, diff * diff * (0.5 / beta), distance - 0.5 * beta)
    return _reduced(loss, reduction)


def huber_loss(input: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """``0.5 d^2`` where ``|d| < delta``, else ``delta (|d| - 0.5 delta)``.

    Raises
    ------
    ValueError
        If the shapes differ, ``delta <= 0`` or ``reduction`` is unknown.
    """
    _check_reduction("huber_loss", reduction)
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    input, target = _pair("huber_loss", input, target)
    diff = input - target
    distance = diff.abs()
    loss = ops.where(distance.data < delta, diff * diff * 0.5, (distance - 0.5 * delta) * delta)
    return _reduced(loss, reduction)


def kl_div(input: Any, target: Any, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with ``input`` the log-probabilities ``log q``:
    ``sum p (log p - log q)`` element-wise, ``0`` where ``p = 0``.

    Parameters
    ----------
    input : Tensor
        Log-probabilities.
    target : array_like or Tensor
        Probabilities ``p`` (or ``log p`` with ``log_target=True``), same shape.
    reduction : {"mean", "batchmean", "sum", "none"}
        ``"batchmean"`` divides the sum by the batch size (the true KL divergence);
        ``"mean"`` divides by the number of elements, as PyTorch does.
    log_target : bool

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If the shapes differ or ``reduction`` is unknown.
    """
    if reduction not in ("mean", "batchmean", "sum", "none"):
        raise ValueError(
            f"kl_div: reduction must be 'mean', 'batchmean', 'sum' or 'none', got {reduction!r}"
        )
    input, target = _pair("kl_div", input, target)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        positive = target.data > 0
        log_p = ops.where(positive, target, 1.0).log()
        loss = target * log_p - target * input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return _reduced(loss, reduction)


# -- encodings, normalisation, embedding -------------------------------------------------------


def one_hot(tensor: Any, num_classes: int = -1) -> Tensor:
    """Integer labels ``(...)`` to one-hot rows ``(..., num_classes)`` of int64, as PyTorch.

    Raises
    ------
    ValueError
        For negative labels or labels ``>= num_classes``.
    TypeError
        If the labels are not integers.
    """
    labels = np.asarray(tensor.data if isinstance(tensor, Tensor) else tensor)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"one_hot: expected integer labels, got dtype {labels.dtype}")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"one_hot: labels must be in [0, {num_classes - 1}], got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return Tensor((labels[..., None] == np.arange(num_classes)).astype(np.int64))


def normalize(input: Any, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """``x / max(||x||_p, eps)`` along ``dim``, as ``torch.nn.functional.normalize``."""
    x = _tensor(input)
    # vector_norm's gradient at a zero vector is 0 (PyTorch's subgradient), not 0/0 = NaN.
    norm = ops.linalg.vector_norm(x, axis=dim, keepdims=True, ord=p)
    return x / ops.maximum(norm, eps)


def layer_norm(
    input: Any,
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the last ``len(normalized_shape)`` axes of each example:
    ``y = (x - mu) / sqrt(sigma^2 + eps) * weight + bias`` (biased variance).

    Raises
    ------
    ValueError
        If the input's trailing shape is not ``normalized_shape``.
    """
    x = _tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if x.shape[x.ndim - len(shape) :] != shape or len(shape) > x.ndim:
        raise ValueError(
            f"layer_norm: input of shape {x.shape} does not end in normalized_shape {shape}"
        )
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    centred = x - x.mean(axis=axes, keepdims=True)
    out = centred / ((centred * centred).mean(axis=axes, keepdims=True) + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def batch_norm(
    input: Any,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Batch normalisation over axis 1 (channels) of ``(N, C)`` or ``(N, C, L...)``.

    In training, each channel is normalised with its batch mean ``mu`` and biased variance
    ``sigma^2``: ``y = (x - mu) / sqrt(sigma^2 + eps) * weight + bias``, and the running
    statistics (if given) move in place: ``running = (1 - momentum) running + momentum stat``,
    with the unbiased variance ``sigma^2 m / (m - 1)`` as PyTorch. Otherwise the running
    statistics normalise.

    Raises
    ------
    ValueError
        If a channel has a single value in training, or the statistics do not fit.
    """
    x = _tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: input must be (N, C, ...), got shape {x.shape}")
    # Plain arrays work as running statistics too (updated in place all the same).
    if running_mean is not None and not isinstance(running_mean, Tensor):
        running_mean = Tensor(np.asarray(running_mean))
    if running_var is not None and not isinstance(running_var, Tensor):
        running_var = Tensor(np.asarray(running_var))
    channels = x.shape[1]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, channels) + (1,) * (x.ndim - 2)
    if training:
        count = x.size // channels
        if count < 2:
            raise ValueError(
                f"batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {x.shape}"
            )
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        if running_mean is not None and running_var is not None:
            # running += momentum (stat - running): one expression on this batch's statistics,
            # so tg.compile records it and a replay reads the running values afresh.
            unbiased = _backend.reshape(var.data, (channels,)) * (count / (count - 1))
            mean_data = _backend.reshape(mean.data, (channels,))
            running_mean.data += momentum * (mean_data - running_mean.data)
            running_var.data += momentum * (unbiased - running_var.data)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation needs running_mean and running_var")
        if running_mean.shape != (channels,) or running_var.shape != (channels,):
            raise ValueError(
                f"batch_norm: running statistics of shapes {running_mean.shape} and "
                f"{running_var.shape} do not fit {channels} channels (input {x.shape})"
            )
        centred = x - _backend.reshape(running_mean.data, shape)
        var = _backend.reshape(running_var.data, shape)
    out = centred / (var + eps) ** 0.5
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def embedding(input: Any, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` ``(num_embeddings, dim)`` picked by integer ``input``: shape
    ``input.shape + (dim,)``. The gradient adds up per row; the ``padding_idx`` row gets none.

    Raises
    ------
    IndexError
        For indices out of range.
    TypeError
        For non-integer indices.
    """
    index = _backend.to_numpy(input.data if isinstance(input, Tensor) else np.asarray(input))
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {index.dtype}")
    rows = weight.shape[0]
    if index.size and (index.min() < -rows or index.max() >= rows):
        raise IndexError(
            f"embedding: indices must be in [0, {rows - 1}] for weight of shape {weight.shape}, "
            f"got values from {index.min()} to {index.max()}"
        )
    out = weight[index]
    if padding_idx is None:
        return out
    padding = (padding_idx % rows) == (index % rows)
    if _foreign(weight.data):
        padding = _backend.to_device(padding, weight.device)
    # The padding rows keep their values but are constants: no gradient reaches that row.
    return ops.where(padding[..., None], out.detach(), out)


def dropout2d(x: Any, p: float = 0.5, training: bool = True, rng: RandomLike = None) -> Tensor:
    """Channel dropout: zero whole channels of ``(N, C, H, W)`` (or ``(C, H, W)``) with
    probability ``p``, scaling the kept ones by ``1/(1-p)``.

    Raises
    ------
    ValueError
        If ``p`` is not in ``[0, 1]`` or the input is not 3-D or 4-D.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: p must be in [0, 1], got {p!r}")
    x = _tensor(x)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: input must be (N, C, H, W) or (C, H, W), got {x.shape}")
    if not training or p == 0.0:
        return x
    return x * _dropout_mask(x, x.shape[: x.ndim - 2] + (1, 1), p, rng)


# -- transposed convolution, im2col, pixel shuffle, group norm, cosine similarity -------------


def conv_transpose2d(
    input: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of :func:`conv2d` with respect to its input: each input pixel spreads
    ``x[n, c, y, x] W[c, o, i, j]`` to ``out[n, o, s_h y + d_h i - p_h, s_w x + d_w j - p_w]``.
    Computed as one GEMM ``W_2^T @ X`` per group and one ``fold`` (no loops over pixels).

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)``, or ``(C, H, W)`` for one image.
    weight : Tensor
        ``(C, O / groups, kh, kw)`` (PyTorch's layout for a transposed convolution).
    bias : Tensor, optional
        ``(O,)``.
    stride, padding, output_padding, dilation : int or pair of int
        ``output_padding`` adds rows and columns at the bottom and right (it must be smaller
        than the stride or the dilation, as in PyTorch).
    groups : int

    Returns
    -------
    Tensor
        ``(N, O, OH, OW)`` with ``OH = (H - 1) s_h - 2 p_h + d_h (kh - 1) + output_padding + 1``.

    Raises
    ------
    ValueError
        Naming the shapes when input, weight, bias and groups do not fit.
    """
    name = "conv_transpose2d"
    x, weight = _tensor(input), _tensor(weight)
    batched = x.ndim == 4
    if not batched and x.ndim != 3:
        raise ValueError(f"{name}: input must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if weight.ndim != 4:
        raise ValueError(f"{name}: weight must be (C, O/groups, kh, kw), got {weight.shape}")
    if not batched:
        x = x.reshape((1,) + x.shape)
    n, channels, height, width = x.shape
    in_channels, group_out, kh, kw = weight.shape
    if not isinstance(groups, int | np.integer) or groups < 1 or channels % groups:
        raise ValueError(f"{name}: groups must be a positive int dividing C, got {groups!r}")
    if channels != in_channels:
        raise ValueError(
            f"{name}: input of shape {x.shape} has {channels} channels but weight of shape "
            f"{weight.shape} expects {in_channels} (weight is (C, O/groups, kh, kw))"
        )
    out_channels = group_out * groups
    if bias is not None:
        bias = _tensor(bias)
        if bias.shape != (out_channels,):
            raise ValueError(
                f"{name}: bias of shape {bias.shape} does not fit weight of shape "
                f"{weight.shape} and groups={groups}; expected ({out_channels},)"
            )
    (sh, sw), (dh, dw) = _int_pair(name, "stride", stride), _int_pair(name, "dilation", dilation)
    (ph, pw), (oph, opw) = (
        _int_pair(name, "padding", padding),
        _int_pair(name, "output_padding", output_padding),
    )
    if min(sh, sw, dh, dw) < 1 or min(ph, pw, oph, opw) < 0:
        raise ValueError(
            f"{name}: stride and dilation must be positive and paddings non-negative, got "
            f"stride={stride!r}, dilation={dilation!r}, padding={padding!r}"
        )
    if oph >= max(sh, dh) or opw >= max(sw, dw):
        raise ValueError(
            f"{name}: output_padding {(oph, opw)} must be smaller than stride {(sh, sw)} or "
            f"dilation {(dh, dw)}"
        )
    full_h = (height - 1) * sh + dh * (kh - 1) + 1 + oph
    full_w = (width - 1) * sw + dw * (kw - 1) + 1 + opw
    if full_h - 2 * ph < 1 or full_w - 2 * pw < 1:
        raise ValueError(
            f"{name}: padding {(ph, pw)} leaves no output for input {x.shape} and kernel {(kh, kw)}"
        )
    group_in = channels // groups
    kernel = weight.reshape(groups, group_in, group_out * kh * kw).transpose(0, 2, 1)
    rows = x.transpose(1, 0, 2, 3).reshape(groups, group_in, n * height * width)
    patches = (kernel @ rows).reshape(out_channels, kh, kw, n, height, width)
    out = fold(patches, Geometry(kh, kw, sh, sw, dh, dw), (n, out_channels, full_h, full_w))
    if ph or pw:
        out = out[:, :, ph : full_h - ph, pw : full_w - pw]
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out if batched else out.reshape(out.shape[1:])


def unfold(
    input: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """im2col, as ``torch.nn.functional.unfold``: ``(N, C, H, W)`` to
    ``(N, C kh kw, L)``, one column per sliding position (``L = OH OW``).

    Raises
    ------
    ValueError
        For an input that is not 3-D or 4-D, or a kernel larger than the padded input.
    """
    name = "unfold"
    x = _tensor(input)
    batched = x.ndim == 4
    if not batched and x.ndim != 3:
        raise ValueError(f"{name}: input must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if not batched:
        x = x.reshape((1,) + x.shape)
    kh, kw = _int_pair(name, "kernel_size", kernel_size)
    (sh, sw), (dh, dw) = _int_pair(name, "stride", stride), _int_pair(name, "dilation", dilation)
    ph, pw = _int_pair(name, "padding", padding)
    geometry = Geometry(kh, kw, sh, sw, dh, dw)
    if ph or pw:
        x = pad(x, (pw, pw, ph, ph))
    n, channels, height, width = x.shape
    oh, ow = geometry.out_size(height, width)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{name}: kernel {(kh, kw)} with dilation {(dh, dw)} is larger than the padded "
            f"input {(height, width)}"
        )
    patches = windows(x, geometry).transpose(3, 0, 1, 2, 4, 5)  # (N, C, kh, kw, OH, OW)
    out = patches.reshape(n, channels * kh * kw, oh * ow)
    return out if batched else out.reshape(out.shape[1:])


def pixel_shuffle(input: Any, upscale_factor: int) -> Tensor:
    """``(..., C r^2, H, W)`` to ``(..., C, H r, W r)``, as ``torch.nn.functional.pixel_shuffle``.

    Raises
    ------
    ValueError
        If the input has fewer than 3 axes or its channels are not divisible by ``r^2``.
    """
    x = _tensor(input)
    r = int(upscale_factor)
    if x.ndim < 3 or r < 1 or x.shape[-3] % (r * r):
        raise ValueError(
            f"pixel_shuffle: input of shape {x.shape} needs at least 3 axes and channels "
            f"divisible by upscale_factor^2 = {r * r}"
        )
    *lead, channels, height, width = x.shape
    lead, k = tuple(lead), len(lead)
    split = x.reshape(lead + (channels // (r * r), r, r, height, width))
    order = tuple(range(k)) + (k, k + 3, k + 1, k + 4, k + 2)
    return split.transpose(order).reshape(lead + (channels // (r * r), height * r, width * r))


def group_norm(
    input: Any,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each example's channel groups: ``y = (x - mu_g) / sqrt(sigma_g^2 + eps)``,
    then ``* weight[c] + bias[c]``, as ``torch.nn.functional.group_norm`` (biased variance).

    Raises
    ------
    ValueError
        If the channels (axis 1) are not divisible by ``num_groups``.
    """
    x = _tensor(input)
    if x.ndim < 2 or num_groups < 1 or x.shape[1] % num_groups:
        raise ValueError(
            f"group_norm: input of shape {x.shape} needs a channel axis (1) divisible by "
            f"num_groups={num_groups}"
        )
    grouped = x.reshape(x.shape[0], num_groups, -1)
    centred = grouped - grouped.mean(axis=2, keepdims=True)
    normed = centred / ((centred * centred).mean(axis=2, keepdims=True) + eps).sqrt()
    out = normed.reshape(x.shape)
    per_channel = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    if weight is not None:
        out = out * _tensor(weight).reshape(per_channel)
    if bias is not None:
        out = out + _tensor(bias).reshape(per_channel)
    return out


def cosine_similarity(x1: Any, x2: Any, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """``sum(x1 x2) / (max(||x1||, eps) max(||x2||, eps))`` along ``dim``, broadcasting, as
    ``torch.nn.functional.cosine_similarity`` (whose gradient ignores the ``eps`` floor)."""
    x1, x2 = _tensor(x1), _tensor(x2)
    shape = np.broadcast_shapes(x1.shape, x2.shape)
    x1, x2 = x1.broadcast_to(shape), x2.broadcast_to(shape)

    def floored_norm(x: Tensor) -> Tensor:
        norm = x.norm(2, dim=dim, keepdim=True)
        # PyTorch raises the norm to eps in place under no_grad: the value moves, the
        # gradient stays the norm's.
        return norm + xnp.clip(eps - norm.data, 0.0, None)

    return ((x1 / floored_norm(x1)) * (x2 / floored_norm(x2))).sum(axis=dim)


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """``softmax(Q K^T / sqrt(d) + mask) V`` over the last two axes, as
    ``torch.nn.functional.scaled_dot_product_attention``.

    A boolean ``attn_mask`` keeps the True positions; a float one is added to the scores.
    ``is_causal`` keeps position ``j <= i``. ``enable_gqa`` repeats key and value heads to
    the query's. Dropout is refused (``dropout_p`` must be 0): call :func:`dropout` yourself.

    Raises
    ------
    ValueError
        For ``dropout_p > 0``, ``is_causal`` with a mask, or heads that do not divide.
    """
    query, key, value = _tensor(query), _tensor(key), _tensor(value)
    if dropout_p:
        raise ValueError("scaled_dot_product_attention: dropout_p must be 0 here")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: pass is_causal or attn_mask, not both")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if heads % kv_heads:
            raise ValueError(
                f"scaled_dot_product_attention: {heads} query heads are not a multiple of "
                f"{kv_heads} key/value heads"
            )
        key = key.repeat_interleave(heads // kv_heads, dim=-3)
        value = value.repeat_interleave(heads // kv_heads, dim=-3)
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = (query @ key.mT) * factor
    if is_causal:
        attn_mask = np.tril(np.ones((query.shape[-2], key.shape[-2]), dtype=bool))
    if attn_mask is not None:
        mask = attn_mask.data if isinstance(attn_mask, Tensor) else np.asarray(attn_mask)
        if _foreign(scores.data) and not _foreign(mask):  # a host mask on the scores' device
            mask = _backend.to_device(mask, scores.device)
        if _backend.kind(mask.dtype) == "b":
            scores = ops.where(mask, scores, -np.inf)
        else:
            scores = scores + attn_mask
    return scores.softmax(-1) @ value

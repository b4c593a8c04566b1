"""Gradient clipping and flat parameter vectors, as ``torch.nn.utils``."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..autograd import no_grad
from ..tensor import Tensor

__all__ = [
    "clip_grad_norm_",
    "clip_grad_value_",
    "parameters_to_vector",
    "vector_to_parameters",
]


def _as_list(parameters: Any) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Scale all gradients together, in place, so that their joint norm is at most ``max_norm``.

    The joint norm is ``(sum_p ||grad_p||_q^q)^(1/q)`` for ``q = norm_type`` (``inf``: the
    largest absolute entry); the gradients are multiplied by ``min(1, max_norm / (norm +
    1e-6))``, as PyTorch.

    Parameters
    ----------
    parameters : iterable of Tensor, or a Tensor
        Parameters without a gradient are skipped.
    max_norm : float
    norm_type : float
        ``2`` by default; ``inf`` for the max norm.
    error_if_nonfinite : bool
        Raise if the norm is NaN or infinite (otherwise the gradients become NaN too).

    Returns
    -------
    Tensor
        The joint norm before clipping (a 0-d float Tensor).

    Raises
    ------
    RuntimeError
        With ``error_if_nonfinite``, for a non-finite norm.
    """
    grads = [p.grad.data for p in _as_list(parameters) if p.grad is not None]
    if not grads:
        return Tensor(np.asarray(0.0))
    norm_type = float(norm_type)
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        total = float(
            sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
        )
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is {total}; "
            "pass error_if_nonfinite=False to clip anyway"
        )
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:
        for g in grads:
            g *= factor
    return Tensor(np.asarray(total, dtype=grads[0].dtype))


def clip_grad_value_(parameters: Iterable[Tensor] | Tensor, clip_value: float) -> None:
    """Clip every gradient entry to ``[-clip_value, clip_value]``, in place."""
    for p in _as_list(parameters):
        if p.grad is not None:
            np.clip(p.grad.data, -clip_value, clip_value, out=p.grad.data)


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and joined into one vector (a recorded, differentiable op).

    Returns
    -------
    Tensor
    """
    from ..ops import concatenate

    params = _as_list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: no parameters given")
    return concatenate([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of ``vec`` into the parameters, in place (not recorded).

    Raises
    ------
    ValueError
        If ``vec`` is not 1-D or its length differs from the parameters' total size.
    """
    values = vec.data if isinstance(vec, Tensor) else np.asarray(vec)
    params = _as_list(parameters)
    total = sum(p.size for p in params)
    if values.ndim != 1 or values.shape[0] != total:
        raise ValueError(
            f"vector_to_parameters: expected a 1-D vector of {total} values for the "
            f"parameters' shapes {[p.shape for p in params]}, got shape {values.shape}"
        )
    start = 0
    with no_grad():
        for p in params:
            p[...] = values[start : start + p.size].reshape(p.shape)
            start += p.size

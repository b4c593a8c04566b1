"""Normalisation layers: ``LayerNorm``, ``BatchNorm1d``, ``BatchNorm2d``, with PyTorch's
parameters (``weight``, ``bias``) and buffers (``running_mean``, ``running_var``,
``num_batches_tracked``), so their state dicts load across."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import functional as F
from .module import Module, Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "LayerNorm"]


class LayerNorm(Module):
    """Normalise each example over its last axes ``normalized_shape``:
    ``y = (x - mu) / sqrt(sigma^2 + eps) * weight + bias``.

    Parameters
    ----------
    normalized_shape : int or tuple of int
    eps : float
    elementwise_affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros) of shape ``normalized_shape``.
    bias : bool
        Learn the bias (with ``elementwise_affine``).
    dtype : dtype
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else normalized_shape
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = (
            Parameter(np.ones(self.normalized_shape, dtype=dtype)) if elementwise_affine else None
        )
        self.bias = (
            Parameter(np.zeros(self.normalized_shape, dtype=dtype))
            if elementwise_affine and bias
            else None
        )

    def forward(self, x: Any) -> Tensor:
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class _BatchNorm(Module):
    """Batch normalisation over axis 1; see :func:`functional.batch_norm`.

    Parameters
    ----------
    num_features : int
        ``C``.
    eps : float
    momentum : float or None
        Weight of the new batch in the running statistics; ``None`` keeps their plain average
        over all batches seen (``1 / num_batches_tracked``).
    affine : bool
        Learn ``weight`` (ones) and ``bias`` (zeros).
    bias : bool
        With ``affine``, learn the bias too (keyword only, as in PyTorch).
    track_running_stats : bool
        Keep running statistics (used in eval mode); without them the batch's statistics are
        used in both modes.
    dtype : dtype
    """

    _input_dims: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float64,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(num_features, int | np.integer) or num_features < 1:
            raise ValueError(
                f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}"
            )
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine and bias else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dtype)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dtype)))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0.0
            self.running_var.data[...] = 1.0
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Any) -> Tensor:
        x = F._tensor(x)
        if x.ndim not in self._input_dims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input of "
                f"{' or '.join(f'{d}-D' for d in self._input_dims)} shape with "
                f"{self.num_features} channels in axis 1, got shape {x.shape}"
            )
        use_batch = self.training or not self.track_running_stats
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # cumulative average of every batch's statistics
                momentum = 1.0 / float(self.num_batches_tracked.data)
        track = self.training and self.track_running_stats
        return F.batch_norm(
            x,
            self.running_mean if track or not use_batch else None,
            self.running_var if track or not use_batch else None,
            self.weight,
            self.bias,
            training=use_batch,
            momentum=momentum,
            eps=self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` inputs (see :class:`_BatchNorm`)."""

    _input_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` inputs, per channel (see :class:`_BatchNorm`)."""

    _input_dims = (4,)

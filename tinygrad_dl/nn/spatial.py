"""Layers for signals and images: ``Conv1d``, ``Conv2d``, ``MaxPool2d``, ``AvgPool2d``,
``AdaptiveAvgPool2d``. Their parameters have PyTorch's names, shapes and default
initialisation, so state dicts load across; the computations are in :mod:`.conv`."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..rng import RandomLike, resolve_rng
from ..tensor import Tensor
from . import conv
from . import init as initialisers
from .module import Module, Parameter

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "Conv1d", "Conv2d", "MaxPool2d"]


class _ConvNd(Module):
    _spatial = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        rng: RandomLike = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        for what, value in (
            ("in_channels", in_channels),
            ("out_channels", out_channels),
            ("groups", groups),
        ):
            if not isinstance(value, int | np.integer) or value < 1:
                raise ValueError(f"{name}: {what} must be a positive int, got {value!r}")
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{name}: in_channels ({in_channels}) and out_channels ({out_channels}) must "
                f"both be divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"{name}: padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', "
                f"got {padding_mode!r}"
            )
        kernel = (
            (kernel_size,) * self._spatial
            if isinstance(kernel_size, int | np.integer)
            else tuple(kernel_size)
        )
        if len(kernel) != self._spatial or min(kernel) < 1:
            raise ValueError(f"{name}: kernel_size must be positive, got {kernel_size!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = tuple(int(k) for k in kernel)
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.groups = int(groups)
        self.padding_mode = padding_mode
        generator = resolve_rng(rng)
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        # PyTorch's default: kaiming_uniform(a=sqrt(5)), i.e. uniform on +-1/sqrt(fan_in), and
        # the bias on the same bound.
        self.weight = Parameter(initialisers.default_uniform(shape, rng=generator, dtype=dtype))
        fan_in = int(np.prod(shape[1:]))
        self.bias = (
            Parameter(
                initialisers.default_uniform(
                    (self.out_channels,), fan_in=fan_in, rng=generator, dtype=dtype
                )
            )
            if bias
            else None
        )

    def forward(self, x: Any) -> Tensor:
        function = conv.conv2d if self._spatial == 2 else conv.conv1d
        if self.padding_mode == "zeros":
            return function(
                x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
            )
        amounts = self.padding
        if isinstance(amounts, str):
            raise ValueError(
                f"{type(self).__name__}: padding={amounts!r} needs padding_mode='zeros'"
            )
        amounts = (amounts,) * self._spatial if isinstance(amounts, int) else tuple(amounts)
        widths: tuple[int, ...] = ()
        for amount in reversed(amounts):
            widths += (amount, amount)
        padded = conv.pad(x, widths, mode=self.padding_mode)
        return function(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def extra_repr(self) -> str:
        # PyTorch's text: sizes as tuples, padding/dilation/groups/bias only when not default.
        def spell(value: Any) -> Any:
            return (value,) * self._spatial if isinstance(value, int) else tuple(value)

        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={spell(self.stride)}"
        )
        if isinstance(self.padding, str):
            text += f", padding={self.padding}"
        elif spell(self.padding) != (0,) * self._spatial:
            text += f", padding={spell(self.padding)}"
        if spell(self.dilation) != (1,) * self._spatial:
            text += f", dilation={spell(self.dilation)}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution of ``(N, C_in, H, W)`` to ``(N, C_out, OH, OW)``; ``weight`` is
    ``(C_out, C_in / groups, kh, kw)``, ``bias`` ``(C_out,)``, both uniform on
    ``+-1/sqrt(C_in / groups kh kw)`` as PyTorch (see :func:`.conv.conv2d`).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or pair of int
    padding : int, pair of int, "same" or "valid"
    groups : int
    bias : bool
    padding_mode : {"zeros", "reflect", "replicate", "circular"}
    rng : Generator, RandomState, int or None
    dtype : dtype
    """


class Conv1d(_ConvNd):
    """1-D convolution of ``(N, C_in, L)``; ``weight`` is ``(C_out, C_in / groups, k)``
    (see :class:`Conv2d` for the parameters)."""

    _spatial = 1


class MaxPool2d(Module):
    """The maximum of each window (see :func:`.conv.max_pool2d`)."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x: Any) -> Any:
        return conv.max_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """The mean of each window (see :func:`.conv.avg_pool2d`)."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride if stride is not None else kernel_size
        self.padding, self.ceil_mode = padding, ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def forward(self, x: Any) -> Tensor:
        return conv.avg_pool2d(
            x,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (see :func:`.conv.adaptive_avg_pool2d`)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, x: Any) -> Tensor:
        return conv.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

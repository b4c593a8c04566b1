"""Convolution, pooling, padding and resizing on batch-first images ``(N, C, H, W)``.

Everything is built on one pair of ops, ``windows`` and its adjoint ``fold``:

- ``windows(X)`` copies every ``kh x kw`` patch of ``X`` (with stride and dilation) into an
  array of shape ``(C, kh, kw, N, OH, OW)``: the im2col matrix, read through NumPy's
  ``sliding_window_view`` in one copy, no Python loop over pixels;
- ``fold(dWindows)`` adds each patch's gradient back where the patch came from (a loop over
  the ``kh kw`` kernel offsets, each a strided slice of the whole batch); its own gradient is
  ``windows`` again, so second derivatives work.

A convolution is then one GEMM per group, ``Z = W_2 @ windows(X)`` with ``W_2`` the weight as
``(groups, O/groups, C/groups kh kw)``, and its gradients are the matmul's:
``dW = dZ windows(X)^T`` and ``dX = fold(W_2^T dZ)``. Pooling reduces ``windows`` over the
kernel axes; resizing and adaptive pooling are a matrix on each spatial axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .. import backend as _backend
from ..autograd import Op, record
from ..backend import is_numpy, xnp
from ..ops.indexing import take
from ..tensor import Tensor

__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "conv1d",
    "conv2d",
    "fold",
    "interpolate",
    "max_pool2d",
    "pad",
    "windows",
]


def _tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


def _beside(x: Tensor, array: np.ndarray) -> Any:
    """A host-built constant (an averaging matrix, a divisor) on ``x``'s device: the array
    itself on the CPU, a constant Tensor elsewhere (a standard array refuses ``array @ x``)."""
    return array if is_numpy(x.data) else Tensor(_backend.to_device(array, x.device))


class Geometry(NamedTuple):
    """How patches are cut: kernel size, stride and dilation along (H, W)."""

    kh: int
    kw: int
    sh: int
    sw: int
    dh: int
    dw: int

    def out_size(self, height: int, width: int) -> tuple[int, int]:
        reach_h, reach_w = self.dh * (self.kh - 1) + 1, self.dw * (self.kw - 1) + 1
        return (height - reach_h) // self.sh + 1, (width - reach_w) // self.sw + 1


# -- windows and fold --------------------------------------------------------------------------


def _windows_forward(x: Any, geometry: Geometry) -> Any:
    kh, kw, sh, sw, dh, dw = geometry
    if not is_numpy(x):
        return _windows_standard(_backend.namespace(x), x, geometry)
    reach = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(x, reach, axis=(2, 3))[:, :, ::sh, ::sw, ::dh, ::dw]
    # (N, C, OH, OW, kh, kw) -> (C, kh, kw, N, OH, OW): channels and kernel offsets lead, so
    # a reshape to (groups, C/groups kh kw, N OH OW) is the im2col matrix of each group.
    return np.ascontiguousarray(view.transpose(1, 4, 5, 0, 2, 3))


def _offset_slices(geometry: Geometry, oh: int, ow: int, i: int, j: int) -> tuple[slice, slice]:
    """The rows and columns kernel offset ``(i, j)`` reads from, over every output position."""
    _, _, sh, sw, dh, dw = geometry
    rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
    return rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def _windows_standard(xp: Any, x: Any, geometry: Geometry) -> Any:
    """``windows`` from the array API standard alone (no ``sliding_window_view``): one strided
    slice of the whole batch per kernel offset, stacked: ``(kh kw, N, C, OH, OW)``, then put in
    ``(C, kh, kw, N, OH, OW)`` order."""
    kh, kw = geometry.kh, geometry.kw
    n, c = x.shape[0], x.shape[1]
    oh, ow = geometry.out_size(x.shape[2], x.shape[3])
    offsets = [
        x[(slice(None), slice(None)) + _offset_slices(geometry, oh, ow, i, j)]
        for i in range(kh)
        for j in range(kw)
    ]
    stacked = xp.reshape(xp.stack(offsets, axis=0), (kh, kw, n, c, oh, ow))
    return xp.permute_dims(stacked, (3, 0, 1, 2, 4, 5))


def _fold_forward(patches: Any, extra: tuple[Geometry, tuple[int, ...]]) -> Any:
    geometry, (n, c, height, width) = extra
    oh, ow = patches.shape[4], patches.shape[5]
    if is_numpy(patches):
        # zeros_like of the input (not np.zeros): under tg.compile the fresh zeros are then
        # part of the recording, so a replay starts from zero instead of adding to the last.
        out = np.zeros_like(patches, shape=(c, n, height, width))
    else:
        xp = _backend.namespace(patches)
        device = _backend.native_device(patches)
        out = xp.zeros((c, n, height, width), dtype=patches.dtype, device=device)
    # One strided slice of the whole batch per kernel offset (kh kw of them, not per pixel).
    for i in range(geometry.kh):
        for j in range(geometry.kw):
            rows, cols = _offset_slices(geometry, oh, ow, i, j)
            out[:, :, rows, cols] += patches[:, i, j, ...]
    return _backend.permute(out, (1, 0, 2, 3))


WINDOWS = Op(
    "windows",
    _windows_forward,
    lambda g, out, inputs, geometry, needs: (fold(g, geometry, inputs[0].shape),),
    rule="dX = fold(dWindows)",
)
FOLD = Op(
    "fold",
    _fold_forward,
    lambda g, out, inputs, extra, needs: (windows(g, extra[0]),),
    rule="dWindows = windows(dX)",
)


def windows(x: Any, geometry: Geometry) -> Any:
    """The patches of ``x`` ``(N, C, H, W)`` as ``(C, kh, kw, N, OH, OW)`` (im2col).

    An ndarray gives an ndarray; a Tensor gives a recorded Tensor whose gradient is
    :func:`fold`.
    """
    if not isinstance(x, Tensor):
        return _windows_forward(x, geometry)
    return record(WINDOWS, _windows_forward(x.data, geometry), (x,), geometry)


def fold(patches: Any, geometry: Geometry, shape: tuple[int, ...]) -> Any:
    """The adjoint of :func:`windows`: add each patch back at its place in an array of
    ``shape`` ``(N, C, H, W)`` (overlapping patches add up)."""
    extra = (geometry, tuple(shape))
    if not isinstance(patches, Tensor):
        return _fold_forward(patches, extra)
    return record(FOLD, _fold_forward(patches.data, extra), (patches,), extra)


# -- pad ---------------------------------------------------------------------------------------

_PAD_MODES = {"constant": None, "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_forward(x: Any, extra: tuple) -> Any:
    widths, inner, value = extra
    if is_numpy(x):
        return np.pad(x, widths, constant_values=value)
    # The standard has no pad: a filled array with the input written into its middle.
    xp = _backend.namespace(x)
    shape = tuple(size + lo + hi for size, (lo, hi) in zip(x.shape, widths))
    out = xp.full(shape, value, dtype=x.dtype, device=_backend.native_device(x))
    out[inner] = x
    return out


PAD = Op(
    "pad",
    _pad_forward,
    lambda g, out, inputs, extra, needs: (g[extra[1]],),
    rule="dX = dY[the unpadded region]",
)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
    """Pad the last ``len(pad) // 2`` axes, as ``torch.nn.functional.pad``.

    ``pad`` lists ``(left, right)`` amounts starting from the last axis:
    ``(left, right, top, bottom)`` pads W then H. Negative amounts crop.

    Parameters
    ----------
    input : Tensor
    pad : sequence of int
        Even length, at most ``2 * input.ndim``.
    mode : {"constant", "reflect", "replicate", "circular"}
        ``"reflect"`` mirrors without repeating the edge (NumPy's ``"reflect"``),
        ``"replicate"`` repeats the edge, ``"circular"`` wraps around.
    value : float
        The fill of ``"constant"``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        For an odd or too long ``pad``, an unknown mode, or a reflection wider than the axis.
    """
    x = _tensor(input)
    amounts = [int(p) for p in pad]
    if len(amounts) % 2 or len(amounts) // 2 > x.ndim:
        raise ValueError(
            f"pad: needs an even number of amounts, at most 2 per axis; got {tuple(pad)} for "
            f"input of shape {x.shape}"
        )
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: unknown mode {mode!r}; choose one of {', '.join(_PAD_MODES)}")
    widths = [(0, 0)] * x.ndim
    for k in range(len(amounts) // 2):
        widths[x.ndim - 1 - k] = (amounts[2 * k], amounts[2 * k + 1])
    # Constant and circular pads crop first; reflect and replicate read their edges from the
    # whole input (as PyTorch: reflect (-1, 2) mirrors the original row), cropping after.
    if mode in ("constant", "circular") and any(lo < 0 or hi < 0 for lo, hi in widths):
        crop = tuple(
            slice(max(-lo, 0), size - max(-hi, 0)) for (lo, hi), size in zip(widths, x.shape)
        )
        x = x[crop]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if not any(lo or hi for lo, hi in widths):
        return x
    if mode == "constant":
        inner = tuple(slice(lo, lo + size) for (lo, _), size in zip(widths, x.shape))
        extra = (widths, inner, value)
        return record(PAD, _pad_forward(x.data, extra), (x,), extra)
    # Other modes gather: each padded axis reads the input at np.pad(arange(n), mode) positions,
    # and the gradient of that indexing adds the repeated positions up.
    index: list[Any] = []
    padded_axes = [axis for axis, (lo, hi) in enumerate(widths) if lo or hi]
    first = padded_axes[0]
    for axis in range(first, x.ndim):
        lo, hi = widths[axis]
        size = x.shape[axis]
        if mode == "reflect" and (lo >= size or hi >= size):
            raise ValueError(
                f"pad: reflect padding ({lo}, {hi}) must be smaller than the axis size {size} "
                f"(axis {axis} of input shape {x.shape})"
            )
        if mode == "circular" and (lo > size or hi > size):
            raise ValueError(
                f"pad: circular padding ({lo}, {hi}) would wrap around more than once along "
                f"axis {axis} of size {size} (after cropping; input shape {x.shape})"
            )
        if size == 0 and (lo > 0 or hi > 0):
            raise ValueError(f"pad: cannot {mode}-pad the empty axis {axis} of {x.shape}")
        positions = np.pad(np.arange(size), (max(lo, 0), max(hi, 0)), mode=_PAD_MODES[mode])
        positions = positions[max(-lo, 0) : positions.size - max(-hi, 0)]
        if not is_numpy(x.data):
            # The standard's indexing takes no arrays beside slices: one take per axis (the
            # same outer selection; its gradient is take's scatter-add).
            index.append((axis, positions))
            continue
        shape = [1] * (x.ndim - first)
        shape[axis - first] = positions.size
        index.append(positions.reshape(shape))
    if not is_numpy(x.data):
        for axis, positions in index:
            x = take(x, positions, axis=axis)
        return x
    return x[(slice(None),) * first + tuple(index)]


# -- convolution -------------------------------------------------------------------------------


def _pair(name: str, what: str, value: Any) -> tuple[int, int]:
    values = (value, value) if isinstance(value, int | np.integer) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int | np.integer) for v in values):
        raise ValueError(f"{name}: {what} must be an int or a pair of ints, got {value!r}")
    return int(values[0]), int(values[1])


def _conv_padding(name: str, padding: Any, geometry: Geometry) -> tuple[int, int, int, int]:
    """``(top, bottom, left, right)`` for an int, a pair, ``"valid"`` or ``"same"``."""
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0, 0, 0
        if padding == "same":
            if geometry.sh != 1 or geometry.sw != 1:
                raise ValueError(
                    f"{name}: padding='same' needs stride 1, got stride "
                    f"({geometry.sh}, {geometry.sw})"
                )
            # PyTorch puts the odd pixel of an even kernel's padding at the end.
            total_h, total_w = geometry.dh * (geometry.kh - 1), geometry.dw * (geometry.kw - 1)
            return total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2
        raise ValueError(
            f"{name}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}"
        )
    ph, pw = _pair(name, "padding", padding)
    if ph < 0 or pw < 0:
        raise ValueError(f"{name}: padding must be non-negative, got {padding!r}")
    return ph, ph, pw, pw


def conv2d(
    input: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``.

    For one group, ``Z[n, o] = b[o] + sum_{c,i,j} W[o, c, i, j] X[n, c, s_h y + d_h i,
    s_w x + d_w j]``, computed as one GEMM ``W_2 @ windows(X)``; the gradients are
    ``dW = dZ windows(X)^T`` and ``dX = fold(W_2^T dZ)``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)``, or ``(C, H, W)`` for one image.
    weight : Tensor
        ``(O, C / groups, kh, kw)``.
    bias : Tensor, optional
        ``(O,)``.
    stride, dilation : int or pair of int
    padding : int, pair of int, "same" or "valid"
        Zeros added on both sides; ``"same"`` keeps ``H, W`` (stride 1 only).
    groups : int
        ``C`` and ``O`` are split into this many independent groups.

    Returns
    -------
    Tensor
        ``(N, O, OH, OW)`` with ``OH = (H + 2 p_h - d_h (kh - 1) - 1) // s_h + 1``.

    Raises
    ------
    ValueError
        Naming the shapes when input, weight, bias and groups do not fit.
    """
    return _convolve("conv2d", input, weight, bias, stride, padding, dilation, groups, 2)


def conv1d(
    input: Any,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation of ``(N, C, L)`` (or ``(C, L)``) with ``(O, C / groups, k)``, as
    ``torch.nn.functional.conv1d``: :func:`conv2d` on images of height 1.

    Returns
    -------
    Tensor
        ``(N, O, OL)``.

    Raises
    ------
    ValueError
        Naming the shapes when input, weight, bias and groups do not fit.
    """
    return _convolve("conv1d", input, weight, bias, stride, padding, dilation, groups, 1)


def _one(name: str, what: str, value: Any) -> int:
    if isinstance(value, int | np.integer):
        return int(value)
    values = tuple(value)
    if len(values) != 1 or not isinstance(values[0], int | np.integer):
        raise ValueError(f"{name}: {what} must be an int, got {value!r}")
    return int(values[0])


def _convolve(
    name: str,
    input: Any,
    weight: Tensor,
    bias: Tensor | None,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    spatial: int,
) -> Tensor:
    x = _tensor(input)
    weight = _tensor(weight)
    batched = x.ndim == spatial + 2
    if not batched and x.ndim != spatial + 1:
        layout = "(N, C, H, W) or (C, H, W)" if spatial == 2 else "(N, C, L) or (C, L)"
        raise ValueError(f"{name}: input must be {layout}, got shape {x.shape}")
    if weight.ndim != spatial + 2:
        layout = "(O, C/groups, kh, kw)" if spatial == 2 else "(O, C/groups, k)"
        raise ValueError(f"{name}: weight must be {layout}, got shape {weight.shape}")
    if not batched:
        x = x.reshape((1,) + x.shape)
    if spatial == 1:
        # A 1-D signal is an image of height 1 (views, no copies).
        x = x.reshape(x.shape[0], x.shape[1], 1, x.shape[2])
        weight = weight.reshape(weight.shape[0], weight.shape[1], 1, weight.shape[2])
        stride, dilation = (1, _one(name, "stride", stride)), (1, _one(name, "dilation", dilation))
        if not isinstance(padding, str):
            padding = (0, _one(name, "padding", padding))
    n, channels, height, width = x.shape
    out_channels, group_channels, kh, kw = weight.shape
    if not isinstance(groups, int | np.integer) or groups < 1:
        raise ValueError(f"{name}: groups must be a positive int, got {groups!r}")
    if channels != group_channels * groups or out_channels % groups:
        raise ValueError(
            f"{name}: input of shape {x.shape} with {channels} channels does not fit weight of "
            f"shape {weight.shape} and groups={groups}: expected C = {group_channels} * "
            f"{groups} and O divisible by {groups}"
        )
    if bias is not None:
        bias = _tensor(bias)
        if bias.shape != (out_channels,):
            raise ValueError(
                f"{name}: bias of shape {bias.shape} does not fit weight of shape "
                f"{weight.shape}; expected ({out_channels},)"
            )
    (sh, sw), (dh, dw) = _pair(name, "stride", stride), _pair(name, "dilation", dilation)
    if min(sh, sw, dh, dw) < 1:
        raise ValueError(
            f"{name}: stride and dilation must be positive, got {stride!r}, {dilation!r}"
        )
    geometry = Geometry(kh, kw, sh, sw, dh, dw)
    top, bottom, left, right = _conv_padding(name, padding, geometry)
    oh, ow = geometry.out_size(height + top + bottom, width + left + right)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{name}: kernel {(kh, kw)} with dilation {(dh, dw)} is larger than the padded "
            f"input {(height + top + bottom, width + left + right)} (input shape {x.shape})"
        )
    if top or bottom or left or right:
        x = pad(x, (left, right, top, bottom))
    patches = windows(x, geometry)  # (C, kh, kw, N, OH, OW)
    cols = patches.reshape(groups, group_channels * kh * kw, n * oh * ow)
    kernel = weight.reshape(groups, out_channels // groups, group_channels * kh * kw)
    out = (kernel @ cols).reshape(out_channels, n, oh, ow).transpose(1, 0, 2, 3)
    if bias is not None:
        out = out + bias.reshape(1, out_channels, 1, 1)
    if spatial == 1:
        out = out.reshape(n, out_channels, ow)
    return out if batched else out.reshape(out.shape[1:])


# -- pooling -----------------------------------------------------------------------------------


def _pool_setup(
    name: str,
    input: Any,
    kernel_size: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    ceil_mode: bool,
) -> tuple[Tensor, bool, Geometry, tuple[int, int, int, int]]:
    x = _tensor(input)
    batched = x.ndim == 4
    if not batched and x.ndim != 3:
        raise ValueError(f"{name}: input must be (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if not batched:
        x = x.reshape((1,) + x.shape)
    kh, kw = _pair(name, "kernel_size", kernel_size)
    sh, sw = (kh, kw) if stride is None or stride == () else _pair(name, "stride", stride)
    ph, pw = _pair(name, "padding", padding)
    dh, dw = _pair(name, "dilation", dilation)
    if min(kh, kw, sh, sw, dh, dw) < 1 or ph < 0 or pw < 0:
        raise ValueError(
            f"{name}: kernel_size, stride and dilation must be positive and padding "
            f"non-negative, got {kernel_size!r}, {stride!r}, {dilation!r}, "
            f"{padding!r}"
        )
    if ph > kh // 2 or pw > kw // 2:
        raise ValueError(
            f"{name}: padding {(ph, pw)} must be at most half the kernel size {(kh, kw)}"
        )
    geometry = Geometry(kh, kw, sh, sw, dh, dw)
    height, width = x.shape[2] + 2 * ph, x.shape[3] + 2 * pw
    extra_h = extra_w = 0
    if ceil_mode:
        # PyTorch's ceil_mode: one more window where a partial one remains, unless it would
        # start in the right padding.
        for axis, (size, pad_, k, s, d) in enumerate(
            ((x.shape[2], ph, kh, sh, dh), (x.shape[3], pw, kw, sw, dw))
        ):
            reach = d * (k - 1) + 1
            count = -(-(size + 2 * pad_ - reach) // s) + 1
            if (count - 1) * s >= size + pad_:
                count -= 1
            extra = max((count - 1) * s + reach - (size + 2 * pad_), 0)
            if axis == 0:
                extra_h = extra
            else:
                extra_w = extra
    oh, ow = geometry.out_size(height + extra_h, width + extra_w)
    if oh < 1 or ow < 1:
        raise ValueError(
            f"{name}: kernel {(kh, kw)} is larger than the padded input "
            f"{(height, width)} (input shape {x.shape})"
        )
    return x, batched, geometry, (ph, ph + extra_h, pw, pw + extra_w)


def _pick_vjp(g, out, inputs, index, needs):
    # Only the position that was the maximum receives the gradient (the first one on ties,
    # as PyTorch): dPatches = onehot(argmax) * dY.
    # A comparison, not a scatter into zeros: one array function that tg.compile records.
    if is_numpy(index):
        kernel = np.arange(inputs[0].shape[1]).reshape(1, -1, 1, 1, 1)
        mask = (kernel == index[:, None]).astype(inputs[0].dtype)
    else:
        xp = _backend.namespace(index)
        kernel = xp.arange(inputs[0].shape[1], device=_backend.native_device(index))
        kernel = xp.reshape(kernel, (1, -1, 1, 1, 1))
        mask = xp.astype(kernel == xp.expand_dims(index, axis=1), inputs[0].dtype)
    return (mask * _backend.reshape(g, g.shape[:1] + (1,) + g.shape[1:]),)


def _pick_forward(patches: Any, index: Any) -> Any:
    if is_numpy(patches):
        return np.take_along_axis(patches, index[:, None], axis=1)[:, 0]
    xp = _backend.namespace(patches)
    picked = xp.take_along_axis(patches, xp.expand_dims(index, axis=1), axis=1)
    return xp.squeeze(picked, axis=1)


PICK = Op(
    "max_pool_pick",
    _pick_forward,
    _pick_vjp,
    rule="dPatches = onehot(argmax) * dY",
)


def max_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """The maximum of each ``kernel_size`` window, as ``torch.nn.functional.max_pool2d``.

    The gradient goes to the window's maximum only (its first occurrence on ties, as in
    PyTorch); padding is ``-inf``, so it never wins.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size, stride, padding, dilation : int or pair of int
        ``stride`` defaults to ``kernel_size``; ``padding`` is at most half the kernel.
    ceil_mode : bool
        Round the output size up (a last, partial window).
    return_indices : bool
        Also return each maximum's flat index ``h W + w`` in its input plane.

    Returns
    -------
    Tensor, or (Tensor, Tensor of int64)

    Raises
    ------
    ValueError
        For bad sizes, naming them.
    """
    x, batched, geometry, (top, bottom, left, right) = _pool_setup(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode
    )
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    n, channels, height, width = x.shape
    if top or bottom or left or right:
        x = pad(x, (left, right, top, bottom), value=-np.inf)
    patches = windows(x, geometry)
    kh, kw = geometry.kh, geometry.kw
    flat = patches.reshape(channels, kh * kw, *patches.shape[3:])
    index = xnp.argmax(flat.data, axis=1)
    out = record(PICK, PICK.forward(flat.data, index), (flat,), index).transpose(1, 0, 2, 3)
    if not batched:
        out = out.reshape(out.shape[1:])
    if not return_indices:
        return out
    oh, ow = out.shape[-2:]
    starts_h = _backend.to_device((np.arange(oh) * geometry.sh - top)[:, None], x.device)
    starts_w = _backend.to_device((np.arange(ow) * geometry.sw - left)[None, :], x.device)
    row = starts_h + (index // kw) * geometry.dh
    col = starts_w + (index % kw) * geometry.dw
    positions = _backend.astype(_backend.permute(row * width + col, (1, 0, 2, 3)), np.int64)
    return out, Tensor(positions if batched else positions[0, ...])


def avg_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each ``kernel_size`` window, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    kernel_size, stride, padding : int or pair of int
        ``stride`` defaults to ``kernel_size``; padding is zeros.
    ceil_mode : bool
        Round the output size up; the extra window's divisor counts only the input and padding
        it covers, as in PyTorch.
    count_include_pad : bool
        Whether padded zeros count in the divisor.
    divisor_override : int, optional
        Divide every window's sum by this instead.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        For bad sizes, naming them.
    """
    x, batched, geometry, (top, bottom, left, right) = _pool_setup(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode
    )
    n, channels, height, width = x.shape
    if top or bottom or left or right:
        x = pad(x, (left, right, top, bottom))
    patches = windows(x, geometry)
    sums = patches.sum(axis=(1, 2)).transpose(1, 0, 2, 3)
    if divisor_override is not None:
        divisor: Any = _beside(x, np.asarray(divisor_override, dtype=sums.dtype))
    else:
        # The divisor of each window: how many cells it covers that count (the input, and the
        # symmetric padding when count_include_pad), read through the same windows.
        counted = np.zeros((1, 1, height + top + bottom, width + left + right), dtype=sums.dtype)
        if count_include_pad:
            ph, pw = top, left
            counted[:, :, : height + 2 * ph, : width + 2 * pw] = 1.0
        else:
            counted[:, :, top : top + height, left : left + width] = 1.0
        divisor = windows(counted, geometry).sum(axis=(1, 2)).transpose(1, 0, 2, 3)
        divisor = _beside(x, divisor)
    out = sums / divisor
    return out if batched else out.reshape(out.shape[1:])


def _adaptive_matrix(size_in: int, size_out: int, dtype: np.dtype) -> np.ndarray:
    # PyTorch's bins: output i averages input[floor(i In / Out) : ceil((i + 1) In / Out)].
    matrix = np.zeros((size_out, size_in), dtype=dtype)
    for i in range(size_out):
        start = (i * size_in) // size_out
        end = -(-((i + 1) * size_in) // size_out)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input: Any, output_size: Any) -> Tensor:
    """Average pooling to a fixed ``output_size``, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output ``(i, j)`` averages rows ``floor(i H / OH) .. ceil((i+1) H / OH) - 1`` and the
    matching columns; computed as ``A_H X A_W^T`` with averaging matrices.

    Parameters
    ----------
    input : Tensor
        ``(N, C, H, W)`` or ``(C, H, W)``.
    output_size : int or pair of (int or None)
        ``None`` keeps that axis's size.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        For a non-positive size or an input that is not an image batch.
    """
    x = _tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"adaptive_avg_pool2d: input must be (N, C, H, W) or (C, H, W), got shape {x.shape}"
        )
    sizes = (output_size, output_size) if not isinstance(output_size, Sequence) else output_size
    if len(sizes) != 2:
        raise ValueError(
            f"adaptive_avg_pool2d: output_size must be an int or a pair, got {output_size!r}"
        )
    oh = x.shape[-2] if sizes[0] is None else int(sizes[0])
    ow = x.shape[-1] if sizes[1] is None else int(sizes[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size!r}")
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    rows = _beside(x, _adaptive_matrix(x.shape[-2], oh, dtype))
    cols = _beside(x, _adaptive_matrix(x.shape[-1], ow, dtype).T)
    return rows @ x @ cols


# -- interpolate -------------------------------------------------------------------------------


def _resize_matrix(
    size_in: int,
    size_out: int,
    scale: float | None,
    mode: str,
    align_corners: bool,
    dtype: np.dtype,
) -> np.ndarray:
    """The ``(size_out, size_in)`` matrix that resizes one axis, with PyTorch's coordinates."""
    target = np.arange(size_out, dtype=np.float64)
    # PyTorch uses 1/scale_factor when one is given, else in/out.
    ratio = (1.0 / scale) if scale is not None else size_in / size_out
    matrix = np.zeros((size_out, size_in), dtype=dtype)
    if mode in ("nearest", "nearest-exact"):
        # "nearest" takes floor(i * ratio) (PyTorch's legacy rule); "nearest-exact" the pixel
        # whose centre is nearest, floor((i + 1/2) ratio), as PIL and scikit-image do.
        shift = 0.5 if mode == "nearest-exact" else 0.0
        source = np.minimum(np.floor((target + shift) * ratio).astype(np.intp), size_in - 1)
        matrix[np.arange(size_out), source] = 1.0
        return matrix
    if align_corners:
        source = target * ((size_in - 1) / (size_out - 1)) if size_out > 1 else 0 * target
    else:
        source = np.maximum((target + 0.5) * ratio - 0.5, 0.0)
    low = np.minimum(np.floor(source).astype(np.intp), size_in - 1)
    high = np.minimum(low + 1, size_in - 1)
    weight = source - low
    np.add.at(matrix, (np.arange(size_out), low), 1.0 - weight)
    np.add.at(matrix, (np.arange(size_out), high), weight)
    return matrix


def interpolate(
    input: Any,
    size: Any = None,
    scale_factor: Any = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Resize ``(N, C, L)`` or ``(N, C, H, W)`` inputs, as ``torch.nn.functional.interpolate``.

    Each spatial axis is multiplied by a resizing matrix (separable), so the gradient is the
    transposed matrix: ``dX = M_H^T dY M_W``.

    Parameters
    ----------
    input : Tensor
    size : int or tuple of int, optional
        The output's spatial size (give this or ``scale_factor``).
    scale_factor : float or tuple of float, optional
    mode : {"nearest", "nearest-exact", "linear", "bilinear"}
        ``"linear"`` for 3-D inputs, ``"bilinear"`` for 4-D.
    align_corners : bool, optional
        For the linear modes: map the corner pixels' centres onto each other (default False).

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        For a missing or doubled size, an unknown mode, or a mode that does not fit the input.
    """
    x = _tensor(input)
    spatial = x.ndim - 2
    if spatial not in (1, 2):
        raise ValueError(f"interpolate: input must be (N, C, L) or (N, C, H, W), got {x.shape}")
    modes = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2}
    if mode not in modes:
        raise ValueError(f"interpolate: unknown mode {mode!r}; choose one of {', '.join(modes)}")
    if modes[mode] not in (None, spatial):
        raise ValueError(
            f"interpolate: mode {mode!r} needs a {modes[mode] + 2}-D input, got shape {x.shape}"
        )
    if mode.startswith("nearest") and align_corners is not None:
        raise ValueError("interpolate: align_corners only applies to the linear modes")
    if (size is None) == (scale_factor is None):
        raise ValueError("interpolate: give exactly one of size and scale_factor")
    in_sizes = x.shape[2:]
    if size is not None:
        sizes = (size,) * spatial if isinstance(size, int | np.integer) else tuple(size)
        scales: tuple[float | None, ...] = (None,) * spatial
    else:
        scales = (
            (float(scale_factor),) * spatial
            if isinstance(scale_factor, int | float)
            else tuple(float(s) for s in scale_factor)
        )
        sizes = tuple(int(math.floor(n * s)) for n, s in zip(in_sizes, scales))
    if len(sizes) != spatial or len(scales) != spatial or min(sizes) < 1:
        raise ValueError(
            f"interpolate: size {size!r} / scale_factor {scale_factor!r} do not fit "
            f"input of shape {x.shape}"
        )
    dtype = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    matrices = [
        _resize_matrix(n_in, n_out, scale, mode, bool(align_corners), dtype)
        for n_in, n_out, scale in zip(in_sizes, sizes, scales)
    ]
    out = x @ _beside(x, matrices[-1].T)
    matrices = [_beside(x, matrix) for matrix in matrices]
    if spatial == 2:
        out = matrices[0] @ out
    return out

"""Broadcasting: the one ``unbroadcast`` every binary op's gradient goes through, and the
shape error every binary op raises.

If ``a`` of shape ``(n, 1)`` is broadcast against ``(n, m)`` (as ``b^[l]`` is in
``Z^[l] = W^[l] A^[l-1] + b^[l]``), each of its elements fed ``m`` outputs, so its gradient is
the sum over those: ``db^[l] = sum_i dZ^[l](i)``. ``unbroadcast`` sums the gradient back to the
input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..backend import foreign, namespace, same_device
from ..tensor import Tensor, _new_tensor

__all__ = ["unbroadcast", "as_tensor", "broadcast_error", "mixed_device_error"]

_FLOAT64 = np.dtype(np.float64)


def unbroadcast(gradient: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``gradient`` over the axes along which an input of ``shape`` was broadcast.

    Works on ndarrays and on Tensors (under ``create_graph``); reshapes only when it must.
    """
    grad_shape = gradient.shape
    if grad_shape == shape:
        return gradient
    leading = len(grad_shape) - len(shape)
    axes = tuple(range(leading)) + tuple(
        leading + i for i, size in enumerate(shape) if size == 1 and grad_shape[leading + i] != 1
    )
    if type(gradient) is np.ndarray or not foreign(gradient):
        if axes:
            gradient = gradient.sum(axis=axes, keepdims=True)
        if leading or gradient.shape != shape:
            gradient = gradient.reshape(shape)
        return gradient
    xp = namespace(gradient)  # CuPy, array_api_strict: the standard's functions, no methods
    if axes:
        gradient = xp.sum(gradient, axis=axes, keepdims=True)
    if leading or gradient.shape != shape:
        gradient = xp.reshape(gradient, shape)
    return gradient


def as_tensor(value: Any) -> Tensor:
    """``value`` as a Tensor: Tensors as they are, arrays wrapped, Python numbers as float64."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"expected a numeric array or Tensor, got dtype {value.dtype}")
        return _new_tensor(value)
    if isinstance(value, (list, tuple)) and _holds_tensor(value):
        # np.asarray([x, y]) would drop x's graph (Tensor.__array__ refuses it): stack instead,
        # as np.append([x, y], z) or np.maximum([x, 0.5], y) mean. shape imports this module.
        from .shape import stack

        return stack([as_tensor(item) for item in value])
    return Tensor(value)


def mixed_device_error(op: str, *operands: Any) -> RuntimeError | None:
    """The error for operands on different devices (None when they share one).

    Called only after an op's forward failed, so the common case pays nothing.
    """
    arrays = [x.data if isinstance(x, Tensor) else x for x in operands]
    arrays = [a for a in arrays if hasattr(a, "shape")]
    try:
        same_device(op, *arrays)
    except RuntimeError as error:
        return error
    return None


def _holds_tensor(value: Any) -> bool:
    """Whether a (nested) list or tuple holds a Tensor anywhere."""
    return any(
        isinstance(item, Tensor) or (isinstance(item, (list, tuple)) and _holds_tensor(item))
        for item in value
    )


def broadcast_error(op: str, *shapes: tuple[int, ...]) -> ValueError:
    """The error for operands whose shapes do not broadcast, naming them as Python tuples."""
    listed = " and ".join(str(tuple(s)) for s in shapes)
    return ValueError(
        f"{op}: shapes {listed} cannot be broadcast together (NumPy broadcasting: trailing "
        f"dimensions must be equal or 1)"
    )

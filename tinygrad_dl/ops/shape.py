"""Shape ops: reshape and its relatives, transposes, broadcasting, indexing, joining, splitting,
and dtype casts. None changes a value, so each gradient rule only moves ``dA`` back into the
input's layout; indexing adds repeated positions up (``x[[0, 0]]`` sends ``2 dA`` to ``x[0]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..autograd import Op, record
from ..tensor import Tensor, _new_tensor
from .broadcast import as_tensor, unbroadcast
from .reduce import normalize_axes

__all__ = [
    "reshape",
    "transpose",
    "swapaxes",
    "expand_dims",
    "squeeze",
    "broadcast_to",
    "flatten",
    "getitem",
    "concatenate",
    "stack",
    "split",
    "astype",
    "normalize_index",
]


# -- reshape family: extra = (input_shape, output_shape) -----------------------------------------
def _reshape_back(g, out, inputs, extra, needs):
    return (g.reshape(extra[0]),)


def _reshape_forward(x, extra):
    return x.reshape(extra[1])


RESHAPE = Op("reshape", _reshape_forward, _reshape_back, rule="dX = dY.reshape(X.shape)")
EXPAND_DIMS = Op("expand_dims", _reshape_forward, _reshape_back, rule="dX = dY.reshape(X.shape)")
SQUEEZE = Op("squeeze", _reshape_forward, _reshape_back, rule="dX = dY.reshape(X.shape)")
FLATTEN = Op("flatten", _reshape_forward, _reshape_back, rule="dX = dY.reshape(X.shape)")


def _shape_argument(shape: tuple) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return shape


def reshape(x: Any, *shape: Any) -> Tensor:
    """Same values in a new shape (``-1`` infers one dimension); ``dA`` is reshaped back.

    Parameters
    ----------
    x : Tensor or array_like
    *shape : int or tuple of int
        ``reshape(x, 2, 3)`` or ``reshape(x, (2, 3))``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        Naming both shapes when the sizes differ.
    """
    x = as_tensor(x)
    shape = _shape_argument(shape)
    try:
        data = x.data.reshape(shape)
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape shape {x.shape} (size {x.size}) into {tuple(shape)}"
        ) from None
    return record(RESHAPE, data, (x,), (x.data.shape, data.shape))


def flatten(x: Any) -> Tensor:
    """A 1-D copy of the values in C order."""
    x = as_tensor(x)
    data = x.data.reshape(-1)
    return record(FLATTEN, data, (x,), (x.data.shape, data.shape))


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert length-1 axes at ``axis`` (int or tuple), as ``np.expand_dims``."""
    x = as_tensor(x)
    try:
        data = np.expand_dims(x.data, axis)
    except (ValueError, np.exceptions.AxisError) as error:
        raise ValueError(f"expand_dims: {error} (shape {x.shape}, axis {axis!r})") from None
    return record(EXPAND_DIMS, data, (x,), (x.data.shape, data.shape))


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove length-1 axes (all of them, or those in ``axis``), as ``np.squeeze``."""
    x = as_tensor(x)
    try:
        data = np.squeeze(x.data, axis=axis)
    except (ValueError, np.exceptions.AxisError) as error:
        raise ValueError(f"squeeze: {error} (shape {x.shape}, axis {axis!r})") from None
    return record(SQUEEZE, data, (x,), (x.data.shape, data.shape))


# -- transposes --------------------------------------------------------------------------------
def _transpose_vjp(g, out, inputs, axes, needs):
    inverse = None if axes is None else tuple(int(i) for i in np.argsort(axes))
    return (np.transpose(g, inverse),)


TRANSPOSE = Op(
    "transpose",
    lambda x, axes: np.transpose(x, axes),
    _transpose_vjp,
    rule="dX = dY.transpose(argsort(axes))",
)
SWAPAXES = Op(
    "swapaxes",
    lambda x, pair: np.swapaxes(x, *pair),
    lambda g, out, inputs, pair, needs: (np.swapaxes(g, *pair),),
    rule="dX = dY.swapaxes(axis1, axis2)",
)


def transpose(x: Any, *axes: Any) -> Tensor:
    """Permute axes (reverse them by default), as ``np.transpose``; ``dA`` is permuted back.

    Parameters
    ----------
    x : Tensor or array_like
    *axes : int or tuple of int, optional
        A permutation of ``range(x.ndim)``.

    Returns
    -------
    Tensor
    """
    x = as_tensor(x)
    axes = _shape_argument(axes) if axes and axes != (None,) else None
    if axes is not None:
        if sorted(int(a) % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
            raise ValueError(
                f"transpose: axes {tuple(axes)} are not a permutation for shape {x.shape}"
            )
        axes = tuple(int(a) % x.ndim for a in axes)
    return record(TRANSPOSE, np.transpose(x.data, axes), (x,), axes)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes, as ``np.swapaxes``."""
    x = as_tensor(x)
    try:
        data = np.swapaxes(x.data, axis1, axis2)
    except (ValueError, np.exceptions.AxisError):
        raise ValueError(
            f"swapaxes: axes ({axis1}, {axis2}) out of range for shape {x.shape}"
        ) from None
    return record(SWAPAXES, data, (x,), (axis1, axis2))


# -- broadcast_to ------------------------------------------------------------------------------
BROADCAST_TO = Op(
    "broadcast_to",
    lambda x, shape: np.broadcast_to(x, shape),
    lambda g, out, inputs, shape, needs: (unbroadcast(g, inputs[0].shape),),
    rule="dX = unbroadcast(dY, X.shape)",
)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A read-only broadcast view; ``dA`` is summed back over the broadcast axes."""
    x = as_tensor(x)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(BROADCAST_TO, data, (x,), shape)


# -- indexing ----------------------------------------------------------------------------------
def normalize_index(index: Any) -> Any:
    """An index with Tensors replaced by their arrays (int or bool only)."""
    if isinstance(index, Tensor):
        if index.data.dtype.kind not in "biu":
            raise IndexError(
                f"index: tensors used as indices must be integer or boolean, got {index.dtype}"
            )
        return index.data
    if isinstance(index, tuple):
        return tuple(normalize_index(part) for part in index)
    return index


def _is_advanced(index: Any) -> bool:
    """Whether the index holds integer arrays, whose repeats must be summed in the gradient."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if isinstance(part, list):
            return True
        if isinstance(part, np.ndarray) and part.dtype.kind in "iu":
            return True
    return False


def _scatter_forward(g: np.ndarray, extra: tuple) -> np.ndarray:
    index, shape, advanced = extra
    full = np.zeros(shape, dtype=g.dtype)
    if advanced:
        np.add.at(full, index, g)  # repeated indices accumulate
    else:
        full[index] = g
    return full


SCATTER = Op(
    "index_backward",
    _scatter_forward,
    lambda g, out, inputs, extra, needs: (g[extra[0]],),
    rule="dG = dY[index]",
)


def _scatter(g: Any, extra: tuple) -> Any:
    if isinstance(g, Tensor):
        return record(SCATTER, _scatter_forward(g.data, extra), (g,), extra)
    return _scatter_forward(g, extra)


GETITEM = Op(
    "getitem",
    lambda x, extra: x[extra[0]],
    lambda g, out, inputs, extra, needs: (_scatter(g, extra),),
    rule="dX = zeros_like(X); dX[index] += dY (repeats accumulate)",
)


def getitem(x: Any, index: Any) -> Tensor:
    """``x[index]``: slices, integer arrays (repeats accumulate) and boolean masks.

    The gradient scatters ``dA`` back into zeros shaped like ``x``, adding at repeated
    positions (``x[[0, 0]]`` sends ``2 dA`` to ``x[0]``).

    Raises
    ------
    IndexError
        Naming the tensor's shape; float tensors as indices are refused.
    """
    x = as_tensor(x)
    index = normalize_index(index)
    try:
        data = x.data[index]
    except IndexError as error:
        raise IndexError(f"index: {error} (tensor shape {x.shape})") from None
    if not isinstance(data, np.ndarray):
        data = np.asarray(data)
    return record(GETITEM, data, (x,), (index, x.data.shape, _is_advanced(index)))


# -- concatenate, stack, split -----------------------------------------------------------------
def _concatenate_vjp(g, out, inputs, extra, needs):
    axis, sizes = extra
    grads, start = [], 0
    lead = (slice(None),) * axis
    for size, need in zip(sizes, needs):
        grads.append(g[lead + (slice(start, start + size),)] if need else None)
        start += size
    return tuple(grads)


CONCATENATE = Op(
    "concatenate",
    lambda *arrays: np.concatenate(arrays[:-1], axis=arrays[-1][0]),
    _concatenate_vjp,
    rule="dX_i = dY[..., offset_i : offset_i + n_i, ...] along axis",
)


def concatenate(tensors: Sequence[Any], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing ``axis`` (``None`` flattens first), as ``np.concatenate``.

    Parameters
    ----------
    tensors : sequence of Tensor or array_like
    axis : int or None

    Returns
    -------
    Tensor
        Each input's gradient is its slice of ``dA``.

    Raises
    ------
    ValueError
        Listing every shape when they differ outside ``axis``.
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate: need at least one tensor")
    if axis is None:
        tensors = [flatten(t) for t in tensors]
        axis = 0
    ndim = tensors[0].data.ndim
    if ndim == 0:
        raise ValueError("concatenate: zero-dimensional tensors cannot be concatenated")
    axis = normalize_axes("concatenate", axis, ndim)[0]
    try:
        data = np.concatenate([t.data for t in tensors], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(
            f"concatenate: shapes {shapes} must match in every dimension except axis {axis}"
        ) from None
    sizes = tuple(t.data.shape[axis] for t in tensors)
    return record(CONCATENATE, data, tuple(tensors), (axis, sizes))


def _stack_vjp(g, out, inputs, axis, needs):
    lead = (slice(None),) * axis
    return tuple(g[lead + (i,)] if need else None for i, need in enumerate(needs))


STACK = Op(
    "stack",
    lambda *arrays: np.stack(arrays[:-1], axis=arrays[-1]),
    _stack_vjp,
    rule="dX_i = dY[..., i, ...] along axis",
)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join same-shaped tensors along a new ``axis``, as ``np.stack``.

    Parameters
    ----------
    tensors : sequence of Tensor or array_like
    axis : int

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        Listing the shapes when they differ.
    """
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack: need at least one tensor")
    axis = normalize_axes("stack", axis, tensors[0].data.ndim + 1)[0]
    try:
        data = np.stack([t.data for t in tensors], axis=axis)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(f"stack: all shapes must be equal, got {shapes}") from None
    return record(STACK, data, tuple(tensors), axis)


def split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """Split into pieces along ``axis``, as ``np.split``; each piece is a differentiable slice.

    Parameters
    ----------
    x : Tensor or array_like
    indices_or_sections : int or sequence of int
        A number of equal sections, or the indices to split at.
    axis : int

    Returns
    -------
    list of Tensor

    Raises
    ------
    ValueError
        When ``x.shape[axis]`` does not divide into equal sections.
    """
    x = as_tensor(x)
    axis = normalize_axes("split", axis, x.data.ndim)[0]
    length = x.data.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0 or length % sections:
            raise ValueError(
                f"split: axis {axis} of length {length} (shape {x.shape}) does not divide into "
                f"{sections} equal sections"
            )
        step = length // sections
        bounds = [step * i for i in range(sections + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(start, stop),)) for start, stop in zip(bounds, bounds[1:])]


# -- dtype casts -------------------------------------------------------------------------------
ASTYPE = Op(
    "astype",
    lambda x, dtype: x.astype(dtype),
    lambda g, out, inputs, dtype, needs: (g.astype(inputs[0].dtype),),
    rule="dX = dY.astype(X.dtype)",
)


def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``; differentiable between float dtypes (the gradient is cast back)."""
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if dtype == x.data.dtype:
        return x
    if dtype.kind not in "biuf":
        raise TypeError(f"astype: dtype must be numeric, got {dtype}")
    if dtype.kind != "f":
        return _new_tensor(x.data.astype(dtype))  # integer/bool results are outside the graph
    return record(ASTYPE, x.data.astype(dtype), (x,), dtype)

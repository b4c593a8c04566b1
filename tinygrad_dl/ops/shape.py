"""Shape ops: reshape and its relatives, transposes, broadcasting, indexing, joining, splitting,
and dtype casts. None changes a value, so each gradient rule only moves ``dA`` back into the
input's layout; indexing adds repeated positions up (``x[[0, 0]]`` sends ``2 dA`` to ``x[0]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import backend as _backend
from ..autograd import Op, record
from ..backend import xnp
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
    "moveaxis",
    "rollaxis",
    "flip",
    "fliplr",
    "flipud",
    "roll",
    "repeat",
    "tile",
    "pad",
    "ravel",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "vstack",
    "hstack",
    "dstack",
    "column_stack",
    "append",
    "array_split",
    "rot90",
    "vsplit",
    "hsplit",
    "dsplit",
]


# -- reshape family: extra = (input_shape, output_shape) -----------------------------------------
def _reshape_back(g, out, inputs, extra, needs):
    return (_backend.reshape(g, extra[0]),)


def _reshape_forward(x, extra):
    return _backend.reshape(x, extra[1])


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
        data = _backend.reshape(x.data, shape)
    except (ValueError, TypeError):
        raise ValueError(
            f"reshape: cannot reshape shape {x.shape} (size {x.size}) into {tuple(shape)}"
        ) from None
    return record(RESHAPE, data, (x,), (x.data.shape, data.shape))


def flatten(x: Any) -> Tensor:
    """A 1-D copy of the values in C order."""
    x = as_tensor(x)
    data = _backend.reshape(x.data, (-1,))
    return record(FLATTEN, data, (x,), (x.data.shape, data.shape))


def expand_dims(x: Any, axis: Any) -> Tensor:
    """Insert length-1 axes at ``axis`` (int or tuple), as ``np.expand_dims``."""
    x = as_tensor(x)
    try:
        if type(x.data) is np.ndarray or not _backend.foreign(x.data):
            data = np.expand_dims(x.data, axis)
        else:
            axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
            ndim = x.ndim + len(axes)
            kept = sorted(int(a) % ndim for a in axes)
            shape = list(x.shape)
            for a in kept:
                shape.insert(a, 1)
            data = _backend.reshape(x.data, tuple(shape))
    except (ValueError, np.exceptions.AxisError) as error:
        raise ValueError(f"expand_dims: {error} (shape {x.shape}, axis {axis!r})") from None
    return record(EXPAND_DIMS, data, (x,), (x.data.shape, data.shape))


def squeeze(x: Any, axis: Any = None) -> Tensor:
    """Remove length-1 axes (all of them, or those in ``axis``), as ``np.squeeze``."""
    x = as_tensor(x)
    try:
        if type(x.data) is np.ndarray or not _backend.foreign(x.data):
            data = np.squeeze(x.data, axis=axis)
        else:
            axes = normalize_axes("squeeze", axis, x.ndim) if axis is not None else None
            if axes is not None and any(x.shape[a] != 1 for a in axes):
                raise ValueError(
                    "cannot select an axis to squeeze out which has size not equal to one"
                )
            shape = tuple(
                n for i, n in enumerate(x.shape) if not (n == 1 and (axes is None or i in axes))
            )
            data = _backend.reshape(x.data, shape)
    except (ValueError, np.exceptions.AxisError) as error:
        raise ValueError(f"squeeze: {error} (shape {x.shape}, axis {axis!r})") from None
    return record(SQUEEZE, data, (x,), (x.data.shape, data.shape))


# -- transposes --------------------------------------------------------------------------------
def _transpose_vjp(g, out, inputs, axes, needs):
    inverse = None if axes is None else tuple(int(i) for i in np.argsort(axes))
    return (_backend.permute(g, inverse),)


TRANSPOSE = Op(
    "transpose",
    lambda x, axes: _backend.permute(x, axes),
    _transpose_vjp,
    rule="dX = dY.transpose(argsort(axes))",
)
SWAPAXES = Op(
    "swapaxes",
    lambda x, pair: _backend.swapaxes(x, *pair),
    lambda g, out, inputs, pair, needs: (_backend.swapaxes(g, *pair),),
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
    return record(TRANSPOSE, _backend.permute(x.data, axes), (x,), axes)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """Exchange two axes, as ``np.swapaxes``."""
    x = as_tensor(x)
    try:
        data = _backend.swapaxes(x.data, axis1, axis2)
    except (ValueError, np.exceptions.AxisError, IndexError):
        raise ValueError(
            f"swapaxes: axes ({axis1}, {axis2}) out of range for shape {x.shape}"
        ) from None
    return record(SWAPAXES, data, (x,), (axis1, axis2))


# -- broadcast_to ------------------------------------------------------------------------------
BROADCAST_TO = Op(
    "broadcast_to",
    lambda x, shape: xnp.broadcast_to(x, shape),
    lambda g, out, inputs, shape, needs: (unbroadcast(g, inputs[0].shape),),
    rule="dX = unbroadcast(dY, X.shape)",
)


def broadcast_to(x: Any, shape: Any) -> Tensor:
    """A read-only broadcast view; ``dA`` is summed back over the broadcast axes."""
    x = as_tensor(x)
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(shape)
    try:
        data = xnp.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.shape} to {shape}") from None
    return record(BROADCAST_TO, data, (x,), shape)


# -- indexing ----------------------------------------------------------------------------------
def normalize_index(index: Any) -> Any:
    """An index with Tensors replaced by their arrays (int or bool only)."""
    if isinstance(index, Tensor):
        if _backend.kind(index.data.dtype) not in "biu":
            raise IndexError(
                f"index: tensors used as indices must be integer or boolean, got {index.dtype}"
            )
        return index.data
    if isinstance(index, tuple):
        return tuple(normalize_index(part) for part in index)
    return index


def _is_advanced(index: Any) -> bool:
    """Whether the index may repeat positions (integer arrays, lists, tuples inside the index:
    ``x[(1, 0, -1), :]``), whose gradients must then be summed; only plain ints, slices, None,
    Ellipsis and boolean masks are known never to repeat."""
    parts = index if isinstance(index, tuple) else (index,)
    for part in parts:
        if part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer)):
            continue
        if isinstance(part, np.ndarray) and part.dtype == np.bool_:
            continue
        return True
    return False


def _scatter_forward(g: np.ndarray, extra: tuple) -> np.ndarray:
    index, shape, advanced = extra
    # zeros_like of g, not np.zeros: tg.compile records it, so a replay scatters into fresh
    # zeros instead of adding onto the previous call's gradient.
    if type(g) is not np.ndarray and _backend.foreign(g):
        return _scatter_foreign(g, index, shape, advanced)
    full = np.zeros_like(g, shape=shape)
    if advanced:
        np.add.at(full, index, g)  # repeated indices accumulate
    else:
        full[index] = g
    return full


def _scatter_foreign(g: Any, index: Any, shape: tuple, advanced: bool) -> Any:
    """The scatter on another library: ``add.at`` where it has one (CuPy), else the standard's
    :func:`scatter_add_standard` at the flat positions the index picked."""
    xp = _backend.namespace(g)
    device = _backend.native_device(g)
    full = xp.zeros(shape, dtype=g.dtype, device=device)
    if not advanced:
        full[index] = g
        return full
    add = getattr(xp, "add", None)
    if hasattr(add, "at"):
        add.at(full, index, g)
        return full
    # Where each element of g came from: the same index applied to the flat positions.
    size = 1
    for n in shape:
        size *= n
    positions = index_foreign(xp.reshape(xp.arange(size, device=device), shape), index)
    flat = scatter_add_standard(xp, xp.reshape(positions, (-1,)), xp.reshape(g, (-1,)), size)
    return xp.reshape(flat, shape)


# One-hot blocks of at most this many elements (32 MiB in float64) in scatter_add_standard.
_ONE_HOT_ELEMENTS = 1 << 22


def scatter_add_standard(xp: Any, positions: Any, values: Any, size: int) -> Any:
    """``out = zeros(size); out[positions] += values`` (repeats accumulate) from the standard's
    functions: the standard has no scatter-add (``np.add.at``).

    ``out = onehot(positions)^T values``: a comparison with ``arange(size)`` gives each block
    of values its ``(size, block)`` one-hot matrix, and a matmul sums them, so repeated
    positions add exactly as a matrix product sums (blocks bound the memory).

    Parameters
    ----------
    xp : namespace
        The array API namespace of ``values``.
    positions : array of int, shape (n,)
        Flat positions in ``[0, size)``.
    values : array, shape (n,)
        Real values, on the same device.
    size : int
        The length of the result.

    Returns
    -------
    array, shape (size,)
    """
    device = _backend.native_device(values)
    targets = xp.reshape(xp.arange(size, device=device), (size, 1))
    out = xp.zeros((size,), dtype=values.dtype, device=device)
    count = positions.shape[0]
    block = max(1, _ONE_HOT_ELEMENTS // max(size, 1))
    for start in range(0, count, block):
        stop = min(start + block, count)
        picked = xp.reshape(positions[start:stop], (1, stop - start))
        one_hot = xp.astype(targets == picked, values.dtype)
        out = out + xp.matmul(one_hot, values[start:stop])
    return out


def _is_take(index: Any) -> bool:
    """A foreign index that getitem runs as the standard's ``take`` (one array, axis 0)."""
    return len(index) == 1 and hasattr(index[0], "__array_namespace__")


def index_foreign(data: Any, index: tuple) -> Any:
    """``data[index]`` for a standard array and an index from :func:`_standard_index`: one
    integer array of any shape is ``take`` along axis 0 (the standard's indexing allows no
    arrays beside slices), everything else the standard's ``__getitem__``."""
    if _is_take(index):
        xp = _backend.namespace(data)
        rows = index[0]
        if _backend.kind(rows.dtype) == "b":
            return data[index]
        picked = xp.take(data, xp.reshape(rows, (-1,)), axis=0)
        return xp.reshape(picked, tuple(rows.shape) + tuple(data.shape[1:]))
    return data[index]


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
    advanced = _is_advanced(index)
    if type(x.data) is not np.ndarray and _backend.foreign(x.data):
        index = _standard_index(index, x.data)
    try:
        if type(x.data) is not np.ndarray and _backend.foreign(x.data):
            data = index_foreign(x.data, index)
        else:
            data = x.data[index]
    except IndexError as error:
        raise IndexError(f"index: {error} (tensor shape {x.shape})") from None
    if not isinstance(data, np.ndarray) and (
        type(x.data) is np.ndarray or not _backend.foreign(x.data)
    ):
        data = np.asarray(data)
    return record(GETITEM, data, (x,), (index, x.data.shape, advanced))


def _standard_index(index: Any, data: Any) -> Any:
    """``index`` as the array API standard wants it for ``data``: index arrays on its device,
    and a trailing ``...`` where NumPy implies one (``x[:1]`` on a matrix)."""
    parts = index if isinstance(index, tuple) else (index,)
    xp = _backend.namespace(data)
    device = _backend.native_device(data)
    converted = []
    for part in parts:
        if isinstance(part, (list, np.ndarray)):
            part = xp.asarray(np.asarray(part), device=device)
        converted.append(part)
    has_arrays = any(hasattr(part, "__array_namespace__") for part in converted)
    if not any(part is Ellipsis or part is None for part in converted) and not has_arrays:
        if len(converted) < data.ndim:
            converted.append(Ellipsis)
    return tuple(converted)


# -- concatenate, stack, split -----------------------------------------------------------------
def _join(name: str, arrays: Sequence[Any], axis: int) -> Any:
    """``np.concatenate``/``np.stack`` (``name`` "concat"/"stack"), in the arrays' library."""
    first = arrays[0]
    if type(first) is np.ndarray or not _backend.foreign(first):
        return (np.concatenate if name == "concat" else np.stack)(arrays, axis=axis)
    _backend.same_device(name, *arrays)
    return getattr(_backend.namespace(first), name)(list(arrays), axis=axis)


def _concatenate_vjp(g, out, inputs, extra, needs):
    axis, sizes = extra
    grads, start = [], 0
    lead = (slice(None),) * axis
    for size, need in zip(sizes, needs):
        grads.append(g[lead + (slice(start, start + size), ...)] if need else None)
        start += size
    return tuple(grads)


CONCATENATE = Op(
    "concatenate",
    lambda *arrays: _join("concat", arrays[:-1], arrays[-1][0]),
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
        data = _join("concat", [t.data for t in tensors], axis)
    except ValueError:
        shapes = ", ".join(str(t.shape) for t in tensors)
        raise ValueError(
            f"concatenate: shapes {shapes} must match in every dimension except axis {axis}"
        ) from None
    sizes = tuple(t.data.shape[axis] for t in tensors)
    return record(CONCATENATE, data, tuple(tensors), (axis, sizes))


def _stack_vjp(g, out, inputs, axis, needs):
    lead = (slice(None),) * axis
    return tuple(g[lead + (i, ...)] if need else None for i, need in enumerate(needs))


STACK = Op(
    "stack",
    lambda *arrays: _join("stack", arrays[:-1], arrays[-1]),
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
        data = _join("stack", [t.data for t in tensors], axis)
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
    lambda x, dtype: _backend.astype(x, dtype),
    lambda g, out, inputs, dtype, needs: (_backend.astype(g, inputs[0].dtype),),
    rule="dX = dY.astype(X.dtype)",
)
TO_DEVICE = Op(
    "to_device",
    lambda x, device: _backend.to_device(x, device),
    lambda g, out, inputs, device, needs: (_to_device_of(g, inputs[0]),),
    rule="dX = dY moved back to X's device",
)


def _to_device_of(g: Any, x: Any) -> Any:
    if isinstance(g, Tensor):  # under create_graph: a recorded move back
        return to_device(g, _backend.device_of(x.data if isinstance(x, Tensor) else x))
    return _backend.to_device(g, _backend.device_of(x))


def to_device(x: Any, device: Any) -> Tensor:
    """``x`` on ``device`` (``"cpu"``, ``"cuda"``, ``"cuda:1"``...): itself if already there, else
    a copy recorded in the graph, so gradients flow back to the source device (PyTorch's
    ``x.to("cuda")``)."""
    x = as_tensor(x)
    target = _backend.parse_device(device)
    if _backend.device_of(x.data) == target:
        return x
    return record(TO_DEVICE, _backend.to_device(x.data, target), (x,), target)


def astype(x: Any, dtype: Any) -> Tensor:
    """Cast to ``dtype``; differentiable between float dtypes (the gradient is cast back)."""
    x = as_tensor(x)
    dtype = np.dtype(dtype)
    if dtype == x.dtype:
        return x
    if dtype.kind not in "biuf":
        raise TypeError(f"astype: dtype must be numeric, got {dtype}")
    if dtype.kind != "f":  # integer/bool results are outside the graph
        return _new_tensor(_backend.astype(x.data, dtype))
    return record(ASTYPE, _backend.astype(x.data, dtype), (x,), dtype)


# -- moving axes -------------------------------------------------------------------------------
def _axis_tuple(op: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (int or sequence) as non-negative ints in the given order (no sorting)."""
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a!r} is out of bounds for an array of dimension {ndim}")
        result.append(int(a) % ndim)
    if len(set(result)) != len(result):
        raise ValueError(f"{op}: repeated axis in {axis!r}")
    return tuple(result)


def moveaxis(x: Any, source: Any, destination: Any) -> Tensor:
    """Move axes to new positions, others keeping their order, as ``np.moveaxis`` (a transpose).

    Raises
    ------
    ValueError
        Naming the axes and the shape when they are out of range or do not pair up.
    """
    x = as_tensor(x)
    source = _axis_tuple("moveaxis", source, x.ndim)
    destination = _axis_tuple("moveaxis", destination, x.ndim)
    if len(source) != len(destination):
        raise ValueError(
            f"moveaxis: source {source} and destination {destination} must have the same length"
        )
    order = [axis for axis in range(x.ndim) if axis not in source]
    for target, axis in sorted(zip(destination, source)):
        order.insert(target, axis)
    return transpose(x, tuple(order))


def rollaxis(x: Any, axis: int, start: int = 0) -> Tensor:
    """Roll ``axis`` backwards until it lies before ``start``, as ``np.rollaxis``."""
    x = as_tensor(x)
    axis = _axis_tuple("rollaxis", axis, x.ndim)[0]
    if not -x.ndim <= start <= x.ndim:
        raise ValueError(f"rollaxis: start {start} out of range for shape {x.shape}")
    start = start % (x.ndim + 1) if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return x
    order = [a for a in range(x.ndim) if a != axis]
    order.insert(start, axis)
    return transpose(x, tuple(order))


# -- flip and roll: permutations whose gradient is the inverse permutation --------------------
FLIP = Op(
    "flip",
    lambda x, axes: np.flip(x, axes),
    lambda g, out, inputs, axes, needs: (np.flip(g, axes),),
    rule="dA = flip(dY, axis)",
)


def flip(x: Any, axis: Any = None) -> Tensor:
    """Reverse the order along ``axis`` (every axis when ``None``), as ``np.flip``."""
    x = as_tensor(x)
    axes = None if axis is None else _axis_tuple("flip", axis, x.ndim)
    return record(FLIP, np.flip(x.data, axes), (x,), axes)


def fliplr(x: Any) -> Tensor:
    """Reverse columns (axis 1), as ``np.fliplr``."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"fliplr: needs at least 2 dimensions, got shape {x.shape}")
    return flip(x, 1)


def flipud(x: Any) -> Tensor:
    """Reverse rows (axis 0), as ``np.flipud``."""
    x = as_tensor(x)
    if x.ndim < 1:
        raise ValueError("flipud: needs at least 1 dimension, got a 0-d tensor")
    return flip(x, 0)


def rot90(x: Any, k: int = 1, axes: Any = (0, 1)) -> Tensor:
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``, as ``np.rot90`` (flips and a
    transpose, so the gradient rotates back)."""
    x = as_tensor(x)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError(f"rot90: axes must be a pair, got {axes!r}")
    first, second = _axis_tuple("rot90", axes, x.ndim)
    k = int(k) % 4
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, first), second)
    order = list(range(x.ndim))
    order[first], order[second] = order[second], order[first]
    if k == 1:
        return transpose(flip(x, second), tuple(order))
    return flip(transpose(x, tuple(order)), second)


def _negate_shift(shift: Any) -> Any:
    if isinstance(shift, (int, np.integer)):
        return -int(shift)
    return tuple(-int(s) for s in shift)


ROLL = Op(
    "roll",
    lambda x, extra: np.roll(x, extra[0], extra[1]),
    lambda g, out, inputs, extra, needs: (np.roll(g, _negate_shift(extra[0]), extra[1]),),
    rule="dA = roll(dY, -shift, axis)",
)


def roll(x: Any, shift: Any, axis: Any = None) -> Tensor:
    """Shift elements cyclically, as ``np.roll`` (``shift``/``axis`` ints or tuples)."""
    x = as_tensor(x)
    shift = int(shift) if isinstance(shift, (int, np.integer)) else tuple(int(s) for s in shift)
    if axis is not None:
        axes = _axis_tuple("roll", axis, x.ndim)
        axis = axes[0] if isinstance(axis, (int, np.integer)) else axes
    try:
        data = np.roll(x.data, shift, axis)
    except ValueError as error:
        raise ValueError(f"roll: {error} (shape {x.shape}, shift {shift}, axis {axis})") from None
    return record(ROLL, data, (x,), (shift, axis))


# -- repeat, tile, pad: gathers, so the gradient adds every copy back ---------------------------
def repeat(x: Any, repeats: Any, axis: int | None = None) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (flattened when ``None``), as
    ``np.repeat``; an element copied ``r`` times gets the sum of its ``r`` gradients."""
    x = as_tensor(x)
    if axis is None:
        x, axis = flatten(x), 0
    axis = _axis_tuple("repeat", axis, x.ndim)[0]
    try:
        index = np.repeat(np.arange(x.shape[axis]), repeats)
    except ValueError as error:
        raise ValueError(
            f"repeat: {error} (axis {axis} of length {x.shape[axis]}, repeats {repeats!r})"
        ) from None
    return getitem(x, (slice(None),) * axis + (index,))


def tile(x: Any, reps: Any) -> Tensor:
    """Repeat the whole array ``reps`` times along each axis, as ``np.tile``.

    A broadcast of interleaved axes, reshaped: the gradient sums the copies (``broadcast_to``'s
    rule).
    """
    x = as_tensor(x)
    reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(int(r) for r in reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps {reps} must be non-negative")
    ndim = max(len(reps), x.ndim)
    shape = (1,) * (ndim - x.ndim) + x.shape
    reps = (1,) * (ndim - len(reps)) + reps
    spread = reshape(x, tuple(s for size in shape for s in (1, size)))
    copies = broadcast_to(spread, tuple(s for pair in zip(reps, shape) for s in pair))
    return reshape(copies, tuple(r * s for r, s in zip(reps, shape)))


def _pad_widths(pad_width: Any, ndim: int) -> np.ndarray:
    """Every NumPy form of ``pad_width`` (int, pair, per-axis pairs) as an ``(ndim, 2)`` array."""
    widths = np.asarray(pad_width)
    if widths.dtype.kind not in "iu" or widths.ndim > 2:
        raise TypeError(f"pad: pad_width must be integers, got {pad_width!r}")
    try:
        widths = np.broadcast_to(widths, (ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit an array of {ndim} dimensions (give an "
            f"int, a (before, after) pair, or one pair per axis)"
        ) from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad_width {pad_width!r} has negative values")
    return widths


PAD = Op(
    "pad",
    lambda x, extra: np.pad(x, extra[0], mode="constant", constant_values=extra[1]),
    lambda g, out, inputs, extra, needs: (
        g[tuple(slice(int(b), g.shape[i] - int(a)) for i, (b, a) in enumerate(extra[0]))],
    ),
    rule="dA = dY[before:-after] (the interior)",
)
_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Tensor:
    """Pad an array, as ``np.pad``, in modes ``constant``, ``edge``, ``reflect``, ``symmetric``
    and ``wrap``.

    A constant border gets no gradient (the interior's is ``dY``'s middle); in the other modes
    each border value is a copy of an interior one, which gets the sum of its copies'
    gradients.

    Parameters
    ----------
    x : Tensor or array_like
    pad_width : int, (int, int) or sequence of (int, int)
        Widths before and after, for every axis or per axis.
    mode : str
    **kwargs
        ``constant_values`` (numbers, in any form NumPy takes) for ``'constant'``;
        ``reflect_type='even'`` for ``'reflect'``/``'symmetric'``.

    Raises
    ------
    ValueError
        For an unsupported mode or argument, or a width that does not fit the shape.
    """
    x = as_tensor(x)
    widths = _pad_widths(pad_width, x.ndim)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode {mode!r} is not supported; use one of {_PAD_MODES}")
    if mode == "constant":
        unknown = set(kwargs) - {"constant_values"}
        constant = kwargs.get("constant_values", 0)
        if isinstance(constant, Tensor):
            raise TypeError("pad: constant_values must be numbers, not a Tensor")
    else:
        unknown = {k for k, v in kwargs.items() if not (k == "reflect_type" and v == "even")}
    if unknown:
        raise ValueError(f"pad: argument(s) {sorted(unknown)} are not supported with mode {mode!r}")
    if mode == "constant":
        extra = (tuple(map(tuple, widths.tolist())), constant)
        return record(PAD, PAD.forward(x.data, extra), (x,), extra)
    if x.size == 0 and widths.any():
        raise ValueError(f"pad: can't extend empty axes of shape {x.shape} in mode {mode!r}")
    # Pad the positions, not the values: each output knows which input element it copies.
    source = np.pad(np.arange(x.size).reshape(x.shape), widths, mode=mode)
    return getitem(flatten(x), source)


def ravel(x: Any, order: str = "C") -> Tensor:
    """A 1-D tensor of the values, as ``np.ravel`` (``order`` 'C' or 'F')."""
    x = as_tensor(x)
    if order == "C":
        return flatten(x)
    if order == "F":
        return flatten(transpose(x))
    raise ValueError(f"ravel: order must be 'C' or 'F' on a Tensor, got {order!r}")


# -- promotion to at least n dimensions, and the stacking helpers built on it -----------------
def _at_least(x: Any, ndim: int) -> Tensor:
    x = as_tensor(x)
    if x.ndim >= ndim:
        return x
    if x.ndim == 0:
        return reshape(x, (1,) * ndim)
    if x.ndim == 1:  # NumPy puts a vector in a row: (1, n), or (1, n, 1)
        return reshape(x, (1,) + x.shape + (1,) * (ndim - 2))
    return reshape(x, x.shape + (1,))  # (m, n) -> (m, n, 1)


def _at_least_all(ndim: int, arrays: tuple) -> Any:
    results = tuple(_at_least(a, ndim) for a in arrays)
    return results[0] if len(results) == 1 else results


def atleast_1d(*arrays: Any) -> Any:
    """Each input as a Tensor of at least 1 dimension, as ``np.atleast_1d``."""
    return _at_least_all(1, arrays)


def atleast_2d(*arrays: Any) -> Any:
    """Each input with at least 2 dimensions (``(n,)`` becomes ``(1, n)``), as ``np.atleast_2d``."""
    return _at_least_all(2, arrays)


def atleast_3d(*arrays: Any) -> Any:
    """Each input with at least 3 dimensions (``(n,)`` becomes ``(1, n, 1)``, ``(m, n)``
    becomes ``(m, n, 1)``), as ``np.atleast_3d``."""
    return _at_least_all(3, arrays)


def _sequence(op: str, tensors: Any) -> list:
    """The arrays to join; a single array counts as the sequence of its rows, as in NumPy."""
    if isinstance(tensors, (Tensor, np.ndarray)):
        if tensors.ndim == 0:
            raise TypeError(f"{op}: expected a sequence of arrays, got a 0-d array")
        return list(as_tensor(tensors))
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a sequence of arrays, got {type(tensors).__name__}")
    return list(tensors)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Stack rows: ``concatenate(atleast_2d(...), axis=0)``, as ``np.vstack``."""
    return concatenate([_at_least(t, 2) for t in _sequence("vstack", tensors)], axis=0)


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Stack columns (axis 1; axis 0 for vectors), as ``np.hstack``."""
    parts = [_at_least(t, 1) for t in _sequence("hstack", tensors)]
    return concatenate(parts, axis=0 if parts and parts[0].ndim == 1 else 1)


def dstack(tensors: Sequence[Any]) -> Tensor:
    """Stack along the third axis: ``concatenate(atleast_3d(...), axis=2)``, as ``np.dstack``."""
    return concatenate([_at_least(t, 3) for t in _sequence("dstack", tensors)], axis=2)


def column_stack(tensors: Sequence[Any]) -> Tensor:
    """Vectors become columns, matrices join along axis 1, as ``np.column_stack``."""
    parts = []
    for t in _sequence("column_stack", tensors):
        t = as_tensor(t)
        parts.append(reshape(t, (-1, 1)) if t.ndim < 2 else t)
    return concatenate(parts, axis=1)


def append(x: Any, values: Any, axis: int | None = None) -> Tensor:
    """``x`` followed by ``values`` (both flattened when ``axis`` is ``None``), as ``np.append``."""
    if axis is None:
        return concatenate([flatten(as_tensor(x)), flatten(as_tensor(values))], axis=0)
    return concatenate([x, values], axis=axis)


def _split_at_least(op: str, x: Any, ndim: int, axis: int, sections: Any) -> list[Tensor]:
    x = as_tensor(x)
    if x.ndim < ndim:
        raise ValueError(f"{op}: needs at least {ndim} dimensions, got shape {x.shape}")
    return split(x, sections, axis)


def vsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``np.vsplit``: :func:`split` along axis 0 of an array of at least 2 dimensions."""
    return _split_at_least("vsplit", x, 2, 0, indices_or_sections)


def hsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``np.hsplit``: :func:`split` along axis 1 (axis 0 for a vector)."""
    x = as_tensor(x)
    return _split_at_least("hsplit", x, 1, 1 if x.ndim > 1 else 0, indices_or_sections)


def dsplit(x: Any, indices_or_sections: Any) -> list[Tensor]:
    """``np.dsplit``: :func:`split` along axis 2 of an array of at least 3 dimensions."""
    return _split_at_least("dsplit", x, 3, 2, indices_or_sections)


def array_split(x: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """As :func:`split`, but a number of sections need not divide the axis (``np.array_split``):
    the first ``length % sections`` pieces get one element more."""
    x = as_tensor(x)
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    sections = int(indices_or_sections)
    if sections <= 0:
        raise ValueError(f"array_split: number of sections must be larger than 0, got {sections}")
    axis = normalize_axes("array_split", axis, x.ndim)[0]
    each, extras = divmod(x.shape[axis], sections)
    sizes = [each + 1] * extras + [each] * (sections - extras)
    return split(x, list(np.cumsum(sizes)[:-1]), axis)

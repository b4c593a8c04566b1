"""Sorting, selecting and scattering along an axis: sort, topk, take, gather, scatter.

Every selecting op (``sort``, ``topk``, ``partition``, ``take``, ``take_along_axis``/``gather``,
``index_select``) picks elements of ``X`` at integer positions, so its gradient sends each
``dY`` back to the position it came from: ``dX = zeros_like(X); dX[index] += dY``, adding where
a position was picked twice. The scattering ops (``put_along_axis``/``scatter``,
``scatter_add``) are out of place: they return a new Tensor and leave their input alone, so the
graph stays honest. Integer results (``argsort``, the indices of ``sort`` and ``topk``) are
plain integer tensors outside the graph, as in PyTorch.
"""

from __future__ import annotations

import operator
from typing import Any, NamedTuple

import numpy as np

from .. import backend as _backend
from ..autograd import Op, record, record_binary
from ..backend import is_numpy
from ..tensor import Tensor, _new_tensor
from .broadcast import as_tensor, unbroadcast
from .elementwise import where
from .shape import GETITEM, scatter_add_standard

__all__ = [
    "ValuesIndices",
    "argsort",
    "gather",
    "index_select",
    "masked_fill",
    "partition",
    "put_along_axis",
    "scatter",
    "scatter_add",
    "sort",
    "take",
    "take_along_axis",
    "topk",
]


class ValuesIndices(NamedTuple):
    """``(values, indices)``, as PyTorch's ``sort``, ``topk`` and ``max(dim=)`` return them."""

    values: Tensor
    indices: Tensor


# -- selecting: one vjp (getitem's scatter-add), one named Op per function --------------------
# extra = (index, input_shape, True): the layout of getitem's extra, whose vjp they share
# (it handles create_graph too), so every selecting op differentiates twice.
def _selecting(name: str, rule: str) -> Op:
    return Op(name, lambda x, extra: x[extra[0]], GETITEM.vjp, rule=rule)


_PICK_RULE = "dX = zeros_like(X); dX[index] += dY"
SORT = _selecting("sort", "dX = zeros_like(X); dX[indices] = dY (indices: the sorting permutation)")
TOPK = _selecting("topk", "dX = zeros_like(X); dX[indices] = dY (the k positions picked)")
PARTITION = _selecting("partition", "dX = zeros_like(X); dX[argpartition(X)] = dY")
TAKE = _selecting("take", _PICK_RULE + " (repeats accumulate)")
TAKE_ALONG_AXIS = _selecting("take_along_axis", _PICK_RULE + " along axis (repeats accumulate)")
INDEX_SELECT = _selecting("index_select", _PICK_RULE + " along dim (repeats accumulate)")


def _select(op: Op, x: Tensor, index: tuple) -> Tensor:
    data = x.data
    if not is_numpy(data):
        index = _device_index(data, index)
    return record(op, data[index], (x,), (index, data.shape, True))


def _device_index(data: Any, index: tuple) -> tuple:
    """``index`` (integer arrays, possibly after leading full slices: ``x[:, :, positions]``)
    as integer arrays on ``data``'s device for every axis: the standard's indexing takes no
    arrays beside slices, so each sliced axis becomes a broadcasting ``arange``. Selects the
    same elements in the same layout as NumPy's ``data[index]``."""
    xp = _backend.namespace(data)
    device = _backend.native_device(data)

    def on_device(part: Any) -> Any:
        if is_numpy(part) or isinstance(part, list):
            return xp.asarray(np.asarray(part), device=device)
        return part

    axis = 0
    while axis < len(index) and isinstance(index[axis], slice):
        axis += 1
    if axis == 0 and len(index) == data.ndim:  # already one array per axis
        return tuple(on_device(part) for part in index)
    positions = on_device(index[axis])
    rank = axis + positions.ndim + (data.ndim - axis - 1)  # the result's number of axes
    full = []
    for d in range(data.ndim):
        if d == axis:
            shape = (1,) * axis + tuple(positions.shape) + (1,) * (data.ndim - axis - 1)
            full.append(xp.reshape(positions, shape))
            continue
        where_in_result = d if d < axis else d - 1 + positions.ndim
        shape = [1] * rank
        shape[where_in_result] = data.shape[d]
        full.append(xp.reshape(xp.arange(data.shape[d], device=device), tuple(shape)))
    return tuple(full)


def _axis(op: str, axis: Any, ndim: int) -> int:
    """``axis`` as a non-negative int, or an error naming the op and the tensor's rank."""
    try:
        axis = operator.index(axis)
    except TypeError:
        raise TypeError(f"{op}: axis must be an int, got {axis!r}") from None
    if not -max(ndim, 1) <= axis < max(ndim, 1):
        raise ValueError(f"{op}: axis {axis} is out of range for a tensor with {ndim} axes")
    return axis % max(ndim, 1)


def _axis_or_dim(op: str, axis: Any, dim: Any, default: Any) -> Any:
    """NumPy's ``axis`` or PyTorch's ``dim``; both (``axis`` not at its default) is an error."""
    if dim is None:
        return axis
    if axis != default:
        raise TypeError(
            f"{op}: got both axis={axis!r} and dim={dim!r}; pass one (dim is PyTorch's name "
            f"for NumPy's axis)"
        )
    return dim


def _indices(op: str, indices: Any) -> np.ndarray:
    """Integer positions as an ndarray (Tensors of ints accepted, read to the host on another
    device: the bounds are checked there; floats refused)."""
    array = indices.data if isinstance(indices, Tensor) else indices
    array = array if type(array) is np.ndarray else _backend.to_numpy(array)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers, got dtype {array.dtype}")
    return array


def _along_axis(indices: np.ndarray, axis: int, sizes: tuple[int, ...]) -> tuple:
    """The advanced index that picks ``X[..., indices[i, j, ...], ...]`` element by element.

    Along ``axis`` the positions come from ``indices``; along every other axis ``d`` an
    ``arange(sizes[d])`` that broadcasts against them (NumPy's ``take_along_axis`` passes the
    array's sizes, PyTorch's ``gather`` the index's).
    """
    ndim = indices.ndim
    index = []
    for d in range(ndim):
        if d == axis:
            index.append(indices)
        else:
            shape = [1] * ndim
            shape[d] = sizes[d]
            index.append(np.arange(sizes[d]).reshape(shape))
    return tuple(index)


def _check_bounds(op: str, indices: np.ndarray, size: int, axis: int, shape: tuple) -> None:
    if indices.size and (indices.max() >= size or indices.min() < -size):
        bad = indices.max() if indices.max() >= size else indices.min()
        raise IndexError(
            f"{op}: index {int(bad)} is out of bounds for axis {axis} with size {size} "
            f"(tensor shape {shape})"
        )


def _sort_indices(data: Any, axis: int, descending: bool, stable: bool) -> Any:
    if not is_numpy(data):  # the standard's argsort keeps ties in order when descending too
        xp = _backend.namespace(data)
        return xp.argsort(data, axis=axis, descending=descending, stable=True)
    kind = "stable" if stable else None
    if not descending:
        return np.argsort(data, axis=axis, kind=kind)
    if data.dtype.kind in "bu":
        data = data.astype(np.int64)
    # argsort of -x keeps tied values in their original order (a stable descending sort)
    return np.argsort(-data, axis=axis, kind=kind)


def sort(
    x: Any,
    axis: int | None = -1,
    descending: bool = False,
    stable: bool = False,
    *,
    dim: int | None = None,
) -> ValuesIndices:
    """Sorted values and the positions they came from, as ``torch.sort``.

    ``dX = zeros_like(X); dX[indices] = dY``: each sorted value's gradient goes back to the
    element it came from. ``np.sort(x)`` on a Tensor returns the values of this.

    Parameters
    ----------
    x : Tensor or array_like
        Any shape.
    axis : int or None
        The axis to sort along (``None`` sorts the flattened values).
    descending : bool
        Largest first.
    stable : bool
        Keep equal values in their original order.
    dim : int, optional
        PyTorch's name for ``axis`` (give one of them).

    Returns
    -------
    values : Tensor
        Sorted, shaped like ``x`` (1-d for ``axis=None``), in the graph.
    indices : Tensor
        int64 positions along ``axis``, outside the graph.

    Raises
    ------
    ValueError
        For an axis out of range, naming the tensor's number of axes.
    """
    x = as_tensor(x)
    axis = _axis_or_dim("sort", axis, dim, -1)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    axis = _axis("sort", axis, x.data.ndim)
    if x.data.ndim == 0:
        return ValuesIndices(x * 1, _new_tensor(np.zeros((), dtype=np.int64)))
    indices = _sort_indices(x.data, axis, descending, stable)
    values = _select(SORT, x, _along_axis(indices, axis, x.data.shape))
    return ValuesIndices(values, _new_tensor(_backend.astype(indices, np.int64)))


def argsort(
    x: Any,
    axis: int | None = -1,
    descending: bool = False,
    stable: bool = False,
    *,
    dim: int | None = None,
) -> Tensor:
    """Positions that sort ``x`` along ``axis``: an int64 tensor outside the graph.

    Parameters and errors as :func:`sort`.
    """
    return sort(x, _axis_or_dim("argsort", axis, dim, -1), descending, stable)[1]


def topk(
    x: Any,
    k: int,
    axis: int = -1,
    largest: bool = True,
    sorted: bool = True,
    *,
    dim: int | None = None,
) -> ValuesIndices:
    """The ``k`` largest (or smallest) values along ``axis`` and their positions, as torch.topk.

    ``dX = zeros_like(X); dX[indices] = dY``.

    Parameters
    ----------
    x : Tensor or array_like
        Any shape with at least one axis.
    k : int
        How many values to keep, ``0 <= k <= x.shape[axis]``.
    axis : int
        The axis to select along.
    largest : bool
        The largest values (default) or the smallest.
    sorted : bool
        Return them in order (largest first for ``largest=True``); they always are here.
    dim : int, optional
        PyTorch's name for ``axis`` (give one of them).

    Returns
    -------
    values : Tensor
        ``x``'s shape with ``k`` along ``axis``, in the graph.
    indices : Tensor
        int64 positions along ``axis``, outside the graph.

    Raises
    ------
    ValueError
        When ``k`` is out of range for the axis, naming both.
    """
    x = as_tensor(x)
    ndim = x.data.ndim
    axis = _axis("topk", _axis_or_dim("topk", axis, dim, -1), ndim)
    size = x.data.shape[axis] if ndim else 1
    k = operator.index(k)
    if not 0 <= k <= size:
        raise ValueError(
            f"topk: k={k} is out of range for axis {axis} of size {size} (tensor shape {x.shape})"
        )
    if ndim == 0:
        return ValuesIndices(x * 1, _new_tensor(np.zeros((), dtype=np.int64)))
    order = _sort_indices(x.data, axis, largest, stable=True)
    if is_numpy(order):
        indices = np.take(order, np.arange(k), axis=axis)
    else:
        first = (slice(None),) * axis + (slice(0, k),) + (slice(None),) * (ndim - axis - 1)
        indices = order[first]
    values = _select(TOPK, x, _along_axis(indices, axis, x.data.shape))
    return ValuesIndices(values, _new_tensor(_backend.astype(indices, np.int64)))


def partition(x: Any, kth: Any, axis: int | None = -1) -> Tensor:
    """``np.partition``: the ``kth`` value in its sorted place, smaller ones before it.

    ``dX = zeros_like(X); dX[argpartition(X)] = dY``.

    Parameters
    ----------
    x : Tensor or array_like
        Any shape with at least one axis.
    kth : int or sequence of int
        Positions that end up holding their sorted value.
    axis : int or None
        The axis to partition along (``None``: the flattened values).

    Returns
    -------
    Tensor
        Shaped like ``x`` (1-d for ``axis=None``).
    """
    x = as_tensor(x)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    axis = _axis("partition", axis, x.data.ndim)
    try:
        if not is_numpy(x.data):  # a full sort is a valid partition; the standard has no other
            np.empty(x.data.shape[axis])[np.asarray(kth)]  # kth out of range: NumPy's error
            indices = _sort_indices(x.data, axis, descending=False, stable=True)
        else:
            indices = np.argpartition(x.data, kth, axis=axis)
    except (ValueError, IndexError) as error:
        raise ValueError(f"partition: {error} (tensor shape {x.shape}, kth={kth!r})") from None
    return _select(PARTITION, x, _along_axis(indices, axis, x.data.shape))


def take(x: Any, indices: Any, axis: int | None = None) -> Tensor:
    """``np.take``: elements at ``indices`` along ``axis`` (of the flattened values if None).

    ``dX = zeros_like(X); dX[indices] += dY`` (repeated indices accumulate).

    Parameters
    ----------
    x : Tensor or array_like
        Any shape.
    indices : int or array_like of int
        Positions (negative ones count from the end).
    axis : int, optional
        The axis to take along.

    Returns
    -------
    Tensor
        ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.

    Raises
    ------
    IndexError
        For a position out of bounds, naming it, the axis and the tensor's shape.
    """
    x = as_tensor(x)
    positions = _indices("take", indices)
    if axis is None:
        _check_bounds("take", positions, x.data.size, 0, x.shape)
        index = np.unravel_index(positions % max(x.data.size, 1), x.data.shape)
        return _select(TAKE, x, index)
    axis = _axis("take", axis, x.data.ndim)
    _check_bounds("take", positions, x.data.shape[axis], axis, x.shape)
    return _select(TAKE, x, (slice(None),) * axis + (positions,))


def index_select(x: Any, dim: int, index: Any) -> Tensor:
    """``torch.index_select``: the slices at the 1-d ``index`` along ``dim``.

    ``dX = zeros_like(X); dX[index] += dY`` along ``dim``.

    Raises
    ------
    ValueError
        When ``index`` is not 1-d.
    IndexError
        For a position out of bounds.
    """
    x = as_tensor(x)
    positions = _indices("index_select", index)
    if positions.ndim > 1:
        raise ValueError(f"index_select: index must be 1-d, got shape {positions.shape}")
    if x.data.ndim == 0:
        raise ValueError("index_select: the tensor is 0-d; it needs an axis to select along")
    axis = _axis("index_select", dim, x.data.ndim)
    _check_bounds("index_select", positions, x.data.shape[axis], axis, x.shape)
    return _select(INDEX_SELECT, x, (slice(None),) * axis + (positions.reshape(-1),))


def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Tensor:
    """``np.take_along_axis``: ``out[i, j] = x[i, indices[i, j]]`` for ``axis=1``.

    ``dX = zeros_like(X); dX[indices] += dY`` along ``axis``.

    Parameters
    ----------
    x : Tensor or array_like
        Any shape.
    indices : array_like of int
        As many axes as ``x`` (1-d for ``axis=None``); other axes broadcast against ``x``'s.
    axis : int or None
        The axis to select along (``None``: the flattened values).

    Raises
    ------
    ValueError
        When ``indices`` has the wrong number of axes or does not broadcast, naming shapes.
    IndexError
        For a position out of bounds.
    """
    x = as_tensor(x)
    positions = _indices("take_along_axis", indices)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    axis = _axis("take_along_axis", axis, x.data.ndim)
    if positions.ndim != x.data.ndim:
        raise ValueError(
            f"take_along_axis: indices must have as many axes as the tensor; got indices of "
            f"shape {positions.shape} for a tensor of shape {x.shape}"
        )
    _check_bounds("take_along_axis", positions, x.data.shape[axis], axis, x.shape)
    try:
        index = _along_axis(positions, axis, x.data.shape)
        np.broadcast_shapes(*(np.shape(i) for i in index))
    except ValueError:
        raise ValueError(
            f"take_along_axis: indices of shape {positions.shape} do not broadcast against "
            f"the tensor's shape {x.shape} outside axis {axis}"
        ) from None
    return _select(TAKE_ALONG_AXIS, x, index)


def _gather_index(op: str, x: Tensor, axis: int, index: Any) -> tuple[int, np.ndarray, tuple]:
    """PyTorch's rules for ``gather``/``scatter``'s index: same rank, no larger elsewhere."""
    positions = _indices(op, index)
    ndim = x.data.ndim
    axis = _axis(op, axis, ndim)
    if positions.ndim != ndim:
        raise ValueError(
            f"{op}: index must have as many axes as the tensor; got index of shape "
            f"{positions.shape} for a tensor of shape {x.shape}"
        )
    for d in range(ndim):
        if d != axis and positions.shape[d] > x.data.shape[d]:
            raise ValueError(
                f"{op}: index shape {positions.shape} is larger than the tensor's shape "
                f"{x.shape} in axis {d} (only axis {axis} may differ)"
            )
    _check_bounds(op, positions, x.data.shape[axis], axis, x.shape)
    return axis, positions, _along_axis(positions, axis, positions.shape)


def gather(x: Any, dim: int, index: Any) -> Tensor:
    """``torch.gather``: ``out[i][j] = x[i][index[i][j]]`` for ``dim=1``; shaped like index.

    ``dX = zeros_like(X); dX[index] += dY`` along ``dim``.

    Raises
    ------
    ValueError
        When ``index`` has another rank than ``x`` or is larger outside ``axis``.
    IndexError
        For a position out of bounds.
    """
    x = as_tensor(x)
    _, _, full_index = _gather_index("gather", x, dim, index)
    return _select(TAKE_ALONG_AXIS, x, full_index)


# -- scattering, out of place ------------------------------------------------------------------
# extra = (index, keep, winners): ``keep`` is False where a value was written; ``winners`` is
# True for the value that landed at its position (the last one, when positions repeat).
def _put_forward(x, values, extra):
    out = x.copy()
    out[extra[0]] = values
    return out


def _put_vjp(g, out, inputs, extra, needs):
    index, keep, winners = extra
    return (
        g * keep if needs[0] else None,
        unbroadcast(g[index] * winners, inputs[1].shape) if needs[1] else None,
    )


PUT_ALONG_AXIS = Op(
    "put_along_axis",
    _put_forward,
    _put_vjp,
    rule="dX = dY with written positions zeroed, dV = unbroadcast(dY[index]) for values written",
)


def _scatter_add_forward(x, values, extra):
    if not is_numpy(x):
        return _scatter_add_foreign(x, values, extra)
    out = x.copy()
    np.add.at(out, extra[0], np.broadcast_to(values, extra[1]))
    return out


def _scatter_add_foreign(x: Any, values: Any, extra: tuple) -> Any:
    """``scatter_add``'s forward on another library: the flat positions the index picks,
    summed in by the standard's scatter-add (CuPy's ``add.at`` where it has one)."""
    index, shape = extra
    xp = _backend.namespace(x)
    index = _device_index(x, index)
    values = xp.broadcast_to(values, shape)
    add = getattr(xp, "add", None)
    if hasattr(add, "at"):
        out = _backend.copy(x)
        add.at(out, index, values)
        return out
    flat_positions = xp.reshape(xp.arange(x.size, device=_backend.native_device(x)), x.shape)
    picked = xp.reshape(flat_positions[index], (-1,))
    added = scatter_add_standard(xp, picked, xp.reshape(values, (-1,)), x.size)
    return x + xp.reshape(added, x.shape)


def _scatter_add_vjp(g, out, inputs, extra, needs):
    return (
        g if needs[0] else None,
        unbroadcast(g[extra[0]], inputs[1].shape) if needs[1] else None,
    )


SCATTER_ADD = Op(
    "scatter_add",
    _scatter_add_forward,
    _scatter_add_vjp,
    rule="dX = dY, dV = unbroadcast(dY[index])",
)


def _put(x: Tensor, index: tuple, values: Any) -> Tensor:
    values = values if isinstance(values, Tensor) else Tensor(np.asarray(values, x.dtype))
    if not is_numpy(x.data) and is_numpy(values.data):  # a host value on x's device
        values = Tensor(_backend.to_device(values.data, x.device))
    target = np.broadcast_shapes(*(np.shape(i) for i in index))
    try:
        if np.broadcast_shapes(values.shape, target) != target:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"put_along_axis: values of shape {values.shape} do not broadcast to the "
            f"indexed shape {target}"
        ) from None
    keep = np.ones(x.data.shape, dtype=bool)
    keep[index] = False
    order = np.arange(int(np.prod(target))).reshape(target)
    owner = np.full(x.data.shape, -1)
    owner[index] = order
    winners = owner[index] == order
    if not is_numpy(x.data):
        return _put_foreign(x, values, index, keep, owner, winners, target)
    data = _put_forward(x.data, values.data, (index,))
    return record_binary(PUT_ALONG_AXIS, data, x, values, (index, keep, winners))


def _put_foreign(x, values, index, keep, owner, winners, target) -> Tensor:
    """``_put`` on another library (the standard cannot assign through integer arrays): each
    written position reads its winning value, ``where(keep, X, V.flat[owner])``, with the
    host-computed ``keep``, ``owner`` and ``winners`` moved to the device."""
    xp = _backend.namespace(x.data)
    device = x.device
    flat_values = xp.reshape(xp.broadcast_to(values.data, target), (-1,))
    owner_there = _backend.to_device(np.maximum(owner, 0).reshape(-1), device)
    written = xp.reshape(xp.take(flat_values, owner_there, axis=0), x.data.shape)
    keep_there = _backend.to_device(keep, device)
    data = xp.where(keep_there, x.data, written)
    # The rule multiplies by keep and winners: as numbers here (the standard has no bool * float).
    extra = (
        _device_index(x.data, index),
        _backend.to_device(keep.astype(x.dtype), device),
        _backend.to_device(winners.astype(x.dtype), device),
    )
    return record_binary(PUT_ALONG_AXIS, data, x, values, extra)


def put_along_axis(x: Any, indices: Any, values: Any, axis: int | None) -> Tensor:
    """``np.put_along_axis`` out of place: a copy of ``x`` with ``values`` written at indices.

    ``dX = dY`` with the written positions zeroed; ``dV = dY[indices]`` for each value that
    was written (where positions repeat, the last value written).

    Parameters
    ----------
    x : Tensor or array_like
        Any shape; it is not changed.
    indices : array_like of int
        As in :func:`take_along_axis`.
    values : Tensor, array_like or number
        Broadcast against ``indices``.
    axis : int or None
        The axis to write along (``None``: the flattened values).

    Returns
    -------
    Tensor
        Shaped like ``x`` (1-d for ``axis=None``).
    """
    x = as_tensor(x)
    positions = _indices("put_along_axis", indices)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    axis = _axis("put_along_axis", axis, x.data.ndim)
    if positions.ndim != x.data.ndim:
        raise ValueError(
            f"put_along_axis: indices must have as many axes as the tensor; got indices of "
            f"shape {positions.shape} for a tensor of shape {x.shape}"
        )
    _check_bounds("put_along_axis", positions, x.data.shape[axis], axis, x.shape)
    return _put(x, _along_axis(positions, axis, x.data.shape), values)


def _source(src: Any, index_shape: tuple, dtype: np.dtype, op: str) -> Tensor:
    """PyTorch's ``src``: a number, or a tensor whose leading block shaped like index is used."""
    if not isinstance(src, Tensor) and np.ndim(src) == 0:
        return Tensor(np.full(index_shape, src, dtype=dtype))
    src = as_tensor(src)
    if src.data.ndim != len(index_shape) or any(s < i for s, i in zip(src.data.shape, index_shape)):
        raise ValueError(
            f"{op}: src of shape {src.shape} must have the index's rank and be at least as "
            f"large as the index (shape {index_shape}) in every axis"
        )
    if src.data.shape == index_shape:
        return src
    return src[tuple(slice(0, n) for n in index_shape)]


def scatter(x: Any, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
    """``torch.scatter`` out of place: a copy of ``x`` with ``out[i][index[i][j]] = src[i][j]``.

    ``dX = dY`` with the written positions zeroed; ``dSrc = dY[index]`` where written.

    Parameters
    ----------
    x : Tensor or array_like
        Any shape; it is not changed.
    dim : int
        The axis to write along.
    index : array_like of int
        Same rank as ``x``, no larger outside ``dim``.
    src : Tensor, array_like or number
        The values (a number fills every indexed position).
    value : number, optional
        PyTorch's keyword for a number (give ``src`` or ``value``).

    Returns
    -------
    Tensor
        Shaped like ``x``.
    """
    if (src is None) == (value is None):
        raise TypeError("scatter: pass exactly one of src and value=")
    src = value if src is None else src
    x = as_tensor(x)
    _, positions, full_index = _gather_index("scatter", x, dim, index)
    return _put(x, full_index, _source(src, positions.shape, x.dtype, "scatter"))


def scatter_add(x: Any, dim: int, index: Any, src: Any) -> Tensor:
    """``torch.scatter_add`` out of place: ``out[i][index[i][j]] += src[i][j]`` on a copy.

    ``dX = dY``, ``dSrc = dY[index]``. Parameters as :func:`scatter`.
    """
    x = as_tensor(x)
    _, positions, full_index = _gather_index("scatter_add", x, dim, index)
    values = _source(src, positions.shape, x.dtype, "scatter_add")
    if not is_numpy(x.data):
        full_index = _device_index(x.data, full_index)
        if is_numpy(values.data):  # a number's fill, made on the host
            values = Tensor(_backend.to_device(values.data, x.device))
    data = _scatter_add_forward(x.data, values.data, (full_index, positions.shape))
    return record_binary(SCATTER_ADD, data, x, values, (full_index, positions.shape))


def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """``torch.masked_fill``: ``value`` where ``mask`` is True, ``x`` elsewhere.

    ``dX = where(mask, 0, dY)``; a Tensor ``value`` gets the sum of ``dY`` over the mask.

    Raises
    ------
    TypeError
        When ``mask`` is not boolean.
    ValueError
        When ``mask`` does not broadcast to ``x``'s shape, naming both.
    """
    x = as_tensor(x)
    mask_array = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
    if not is_numpy(mask_array):  # checked on the host, as the mask's shape and dtype are
        mask_array = _backend.to_numpy(mask_array)
    if mask_array.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be boolean, got dtype {mask_array.dtype}")
    try:
        np.broadcast_to(mask_array, x.data.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: mask of shape {mask_array.shape} does not broadcast to the tensor's "
            f"shape {x.shape}"
        ) from None
    if isinstance(value, Tensor):
        if value.data.ndim != 0:
            raise ValueError(
                f"masked_fill: value must be a number or a 0-d tensor, got shape {value.shape}"
            )
        value = value.astype(x.dtype) if value.dtype != x.dtype else value
    else:
        value = np.asarray(value, dtype=x.dtype)
    if not is_numpy(x.data):  # the mask and the number on x's device
        mask_array = _backend.to_device(mask_array, x.device)
        if not isinstance(value, Tensor):
            value = Tensor(_backend.to_device(value, x.device))
    return where(mask_array, value, x)

"""Hypothesis strategies for property tests of Tensor code, for our tests and yours.

Import this module explicitly (it needs ``hypothesis``; ``import tinygrad_dl`` never loads it)::

    import tinygrad_dl as tg
    from hypothesis import given
    from tinygrad_dl.testing import float_arrays, shapes, weighted_sum

    @given(float_arrays(shapes(), away_from=0.0))
    def test_my_activation_gradient(x):
        tg.gradcheck(lambda t: weighted_sum(my_activation(t)), [tg.Tensor(x, requires_grad=True)])

Sizes are small on purpose: ``gradcheck`` costs one backward per output element and two
forwards per input element, and small arrays already exercise every broadcasting and axis rule.

Values are kept away from the points where an op has no derivative (0 for ``relu``/``abs``,
non-positive numbers for ``log``/``sqrt``, ties for ``max``/``min``) by *mapping* the drawn
values there deterministically, never by filtering: a filter throws examples away and makes
hypothesis slow or give up, a map keeps every draw and still shrinks towards simple values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tinygrad_dl.testing needs hypothesis: pip install 'tinygrad-dl[test]'"
    ) from error

from .gradcheck import gradcheck
from .tensor import Tensor

__all__ = [
    "shapes",
    "broadcastable_shapes",
    "broadcastable_shape_pairs",
    "matmul_shapes",
    "float_dtypes",
    "float_arrays",
    "axes",
    "axis_keepdims",
    "tensors",
    "push_away",
    "spread_apart",
    "weighted_sum",
    "check_gradient",
]

ShapeLike = tuple[int, ...] | st.SearchStrategy[tuple[int, ...]]


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with ``min_dims..max_dims`` axes of length ``min_side..max_side``.

    Parameters
    ----------
    min_dims, max_dims : int
        Bounds on the number of axes (0 gives scalars).
    min_side, max_side : int
        Bounds on each axis' length (``min_side=0`` allows empty arrays).

    Returns
    -------
    SearchStrategy of tuple of int
    """
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """``num_shapes`` shapes that broadcast together under NumPy's rules.

    Drawn with :func:`hypothesis.extra.numpy.mutually_broadcastable_shapes`, so they cover
    missing leading axes and length-1 axes on either side (as ``b^[l]`` of shape ``(n, 1)``
    broadcasts against ``W^[l] A^[l-1]`` of shape ``(n, m)``).

    Parameters
    ----------
    num_shapes : int
        How many shapes to draw.
    min_dims, max_dims : int
        Bounds on the number of axes of each shape.
    max_side : int
        Bound on each axis' length.

    Returns
    -------
    SearchStrategy of tuple of shapes
        The input shapes only (the broadcast result is ``np.broadcast_shapes(*shapes)``).
    """
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda drawn: tuple(drawn.input_shapes))


def broadcastable_shape_pairs(
    min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Pairs ``(shape_a, shape_b)`` that broadcast together (see :func:`broadcastable_shapes`).

    Returns
    -------
    SearchStrategy of (tuple of int, tuple of int)
    """
    return broadcastable_shapes(2, min_dims=min_dims, max_dims=max_dims, max_side=max_side)


def matmul_shapes(
    max_batch_dims: int = 2, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Pairs ``(shape_a, shape_b)`` valid for ``a @ b``: 1-D, 2-D and batched, NumPy's rules.

    Parameters
    ----------
    max_batch_dims : int
        Bound on the broadcast batch axes in front of the matrix axes.
    max_side : int
        Bound on every axis' length.

    Returns
    -------
    SearchStrategy of (tuple of int, tuple of int)
    """
    return hnp.mutually_broadcastable_shapes(
        signature="(m?,n),(n,p?)->(m?,p?)", max_dims=max_batch_dims, max_side=max_side
    ).map(lambda drawn: tuple(drawn.input_shapes))


def float_dtypes() -> st.SearchStrategy[np.dtype]:
    """``float64`` (the course's dtype) or ``float32``."""
    return st.sampled_from([np.dtype(np.float64), np.dtype(np.float32)])


def push_away(values: np.ndarray, points: Sequence[float], margin: float) -> np.ndarray:
    """Move ``values`` at least ``margin`` away from every point, keeping their order.

    A strictly increasing map ``x -> x + 2 * margin * #{i : c_i <= x}`` opens a gap of width
    ``2 * margin`` centred on each point (``c_i`` chosen so the gaps land there). Values that
    were distinct stay distinct (unless closer than float resolution), so it combines with
    :func:`spread_apart`. Points must be more
    than ``2 * margin`` apart. Values may grow by up to ``2 * margin * len(points)``.

    Parameters
    ----------
    values : ndarray
        Floats to move (not modified).
    points : sequence of float
        The points to avoid (for example 0 for ``relu``, the bounds for ``clip``).
    margin : float
        The smallest allowed distance to a point.

    Returns
    -------
    ndarray
        The moved values, same shape and dtype.

    Raises
    ------
    ValueError
        When two points are not more than ``2 * margin`` apart.
    """
    ordered = np.sort(np.asarray(points, dtype=np.float64))
    if ordered.size > 1 and np.any(np.diff(ordered) <= 2 * margin):
        raise ValueError(f"push_away: points {ordered.tolist()} must be > 2 * margin apart")
    # The gap for point i starts after i earlier gaps have already shifted values up.
    starts = ordered - margin * (2 * np.arange(ordered.size) + 1)
    counts = np.searchsorted(starts, np.asarray(values, dtype=np.float64), side="right")
    return (values + 2 * margin * counts).astype(np.asarray(values).dtype)


def spread_apart(values: np.ndarray, gap: float) -> np.ndarray:
    """Make all values pairwise at least ``gap`` apart, keeping their order.

    Each value is raised by ``gap`` times its rank (ties broken by position), so the sorted
    differences grow by ``gap``: no ties for ``max``/``min``/``maximum`` to split gradients.
    Values may grow by up to ``gap * (values.size - 1)``.

    Parameters
    ----------
    values : ndarray
        Floats to move (not modified).
    gap : float
        The smallest allowed difference between any two values.

    Returns
    -------
    ndarray
        The moved values, same shape and dtype.
    """
    values = np.asarray(values)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[np.argsort(values, axis=None, kind="stable")] = np.arange(values.size)
    return (values + gap * ranks.reshape(values.shape)).astype(values.dtype)


def float_arrays(
    shape: ShapeLike | None = None,
    dtype: Any = np.float64,
    min_value: float = -3.0,
    max_value: float = 3.0,
    away_from: float | Sequence[float] | None = None,
    positive: bool = False,
    distinct: bool = False,
    margin: float = 0.1,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of finite floats in a bounded range, optionally away from awkward points.

    Parameters
    ----------
    shape : tuple of int or strategy of them, optional
        The shape (default: :func:`shapes`).
    dtype : dtype or strategy of dtypes
        ``float64`` (default) or ``float32``; see :func:`float_dtypes`.
    min_value, max_value : float
        Bounds of the drawn values (the maps below may move values up by a few ``margin``).
    away_from : float or sequence of float, optional
        Points where the op has no derivative (0 for ``relu``/``abs``, the bounds of
        ``clip``): every value ends at least ``margin`` from each (see :func:`push_away`).
    positive : bool
        Every value at least ``margin`` (for ``log``, ``sqrt``, a base of ``**``).
    distinct : bool
        Pairwise differences of at least ``margin`` (no ties for ``max``/``min``, see
        :func:`spread_apart`).
    margin : float
        Distance kept from the points above and between distinct values. Keep it much larger
        than ``gradcheck``'s ``eps`` so central differences never straddle a kink.

    Returns
    -------
    SearchStrategy of ndarray
    """
    shape = shapes() if shape is None else shape
    points = [] if away_from is None else list(np.atleast_1d(np.asarray(away_from, float)))
    if positive:
        min_value = max(min_value, 0.0)
        max_value = max(max_value, min_value)
        points.append(0.0)
    points = sorted(set(points))
    elements = st.floats(
        min_value, max_value, allow_nan=False, allow_infinity=False, allow_subnormal=False
    )
    # Draw in float64 and cast at the end, so the maps run in full precision.
    drawn = hnp.arrays(np.float64, shape, elements=elements)

    def finish(values_and_dtype: tuple[np.ndarray, np.dtype]) -> np.ndarray:
        values, target = values_and_dtype
        if distinct:
            values = spread_apart(values, margin)
        if points:
            values = push_away(values, points, margin)
        return values.astype(target)

    dtypes = dtype if isinstance(dtype, st.SearchStrategy) else st.just(np.dtype(dtype))
    return st.tuples(drawn, dtypes).map(finish)


def axes(
    ndim: int, allow_none: bool = True, allow_int: bool = True, allow_tuple: bool = True
) -> st.SearchStrategy[Any]:
    """Valid ``axis`` arguments for an array of ``ndim`` axes, NumPy style.

    Parameters
    ----------
    ndim : int
        Number of axes of the array being reduced.
    allow_none, allow_int, allow_tuple : bool
        Which forms to draw: ``None`` (all axes), an int (negative ones too), a tuple of
        distinct ints (possibly empty, possibly negative).

    Returns
    -------
    SearchStrategy
        ``None``, an ``int`` or a ``tuple`` of ints.
    """
    options = []
    if allow_none:
        options.append(st.none())
    if allow_int and ndim > 0:
        options.append(st.integers(-ndim, ndim - 1))
    if allow_tuple:
        options.append(hnp.valid_tuple_axes(ndim))
    if not options:
        raise ValueError(f"axes: no allowed axis form for ndim={ndim}")
    return st.one_of(*options)


def axis_keepdims(ndim: int, **kwargs: bool) -> st.SearchStrategy[tuple[Any, bool]]:
    """``(axis, keepdims)`` pairs for a reduction of an ``ndim``-axis array.

    Parameters
    ----------
    ndim : int
        Number of axes of the array being reduced.
    **kwargs
        Passed to :func:`axes` (``allow_none``, ``allow_int``, ``allow_tuple``).

    Returns
    -------
    SearchStrategy of (axis, bool)
    """
    return st.tuples(axes(ndim, **kwargs), st.booleans())


def tensors(
    shape: ShapeLike | None = None,
    dtype: Any = np.float64,
    requires_grad: bool | st.SearchStrategy[bool] = True,
    **array_options: Any,
) -> st.SearchStrategy[Tensor]:
    """Float Tensors with values from :func:`float_arrays`.

    Parameters
    ----------
    shape : tuple of int or strategy of them, optional
        The shape (default: :func:`shapes`).
    dtype : dtype or strategy of dtypes
        ``float64`` (default) or ``float32``.
    requires_grad : bool or strategy of bool
        Whether the Tensors are leaves that record their operations.
    **array_options
        Passed to :func:`float_arrays` (``min_value``, ``away_from``, ``positive``...).

    Returns
    -------
    SearchStrategy of Tensor
    """
    grads = requires_grad
    if not isinstance(grads, st.SearchStrategy):
        grads = st.just(bool(grads))
    return st.builds(
        lambda values, flag: Tensor(values, requires_grad=flag),
        float_arrays(shape, dtype, **array_options),
        grads,
    )


def weighted_sum(output: Any, seed: int = 0) -> Any:
    """``sum(output * W)`` with fixed random weights ``W``: a scalar whose gradient sees all.

    ``gradcheck`` of a scalar costs one backward; weighting each element differently (unlike a
    plain ``sum``) still catches a transposed or misplaced gradient. Works on Tensors and on
    any array type with ``*`` and ``.sum()`` (a ``torch.Tensor`` too, for differential tests).

    Parameters
    ----------
    output : Tensor or array-like
        Any shape.
    seed : int
        Seed of the weights (the same seed gives the same weights for a given shape).

    Returns
    -------
    scalar of the same type as ``output``
    """
    shape = tuple(output.shape)
    weights = np.random.default_rng(seed).uniform(0.5, 1.5, size=shape)
    weights *= np.where(np.random.default_rng(seed + 1).random(shape) < 0.5, -1.0, 1.0)
    if isinstance(output, Tensor):
        return (output * Tensor(weights.astype(output.dtype), device=output.device)).sum()
    if type(output).__module__.startswith("torch"):
        import torch

        return (output * torch.as_tensor(weights, dtype=output.dtype)).sum()
    return (np.asarray(output) * weights).sum()


def check_gradient(fn: Any, *arrays: Any, seed: int = 0, **tolerances: float) -> bool:
    """``tg.gradcheck`` of ``weighted_sum(fn(*tensors))`` for float64 copies of ``arrays``.

    The scalar output keeps the check at one backward plus two forwards per input element,
    while the distinct weights still expose a wrong, transposed or unbroadcast gradient.

    Parameters
    ----------
    fn : callable
        Takes one Tensor per array and returns a Tensor of any shape.
    *arrays : array-like
        The point at which to check; each becomes a float64 Tensor that requires grad.
    seed : int
        Seed of the weights of :func:`weighted_sum`.
    **tolerances : float
        ``eps``, ``atol``, ``rtol`` for :func:`tinygrad_dl.gradcheck`.

    Returns
    -------
    bool
        True when every gradient entry agrees with central differences.

    Raises
    ------
    GradcheckError
        Naming the input, the element and both values, when one disagrees.
    """
    inputs = [Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    return gradcheck(lambda *tensors: weighted_sum(fn(*tensors), seed=seed), inputs, **tolerances)

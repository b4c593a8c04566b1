"""tinygrad_dl/ops/shape.py: shape ops equal NumPy, their gradients move dA back into the input's
layout (gradcheck), indexing accumulates repeats, float32 stays float32, errors name shapes."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.testing import (
    broadcastable_shape_pairs,
    check_gradient,
    float_arrays,
    float_dtypes,
    shapes,
    weighted_sum,
)


def assert_same_as_numpy(function, reference, x):
    """Forward equals NumPy exactly, and the gradient passes gradcheck."""
    out = function(tg.Tensor(x))
    expected = reference(x)
    assert out.shape == expected.shape and out.dtype == x.dtype
    np.testing.assert_array_equal(out.data, expected)
    assert check_gradient(function, x)


@st.composite
def shape_cases(draw, min_dims=0, max_dims=3):
    """An array and a random shape op on it: (name, tinygrad function, NumPy reference, x)."""
    x = draw(float_arrays(shapes(min_dims=min_dims, max_dims=max_dims), dtype=float_dtypes()))
    ndim = x.ndim
    options = ["reshape_flat", "reshape_reversed", "flatten", "expand_dims", "squeeze"]
    if ndim:
        options += ["transpose", "transpose_axes", "swapaxes", "T", "squeeze_axis"]
    name = draw(st.sampled_from(options))
    if name == "reshape_flat":
        return name, lambda t: t.reshape(-1), lambda a: a.reshape(-1), x
    if name == "reshape_reversed":
        target = tuple(reversed(x.shape)) + (1,)
        return name, lambda t: tg.reshape(t, target), lambda a: a.reshape(target), x
    if name == "flatten":
        return name, tg.flatten, lambda a: a.reshape(-1), x
    if name == "expand_dims":
        axis = draw(st.integers(-ndim - 1, ndim))
        return name, lambda t: tg.expand_dims(t, axis), lambda a: np.expand_dims(a, axis), x
    if name == "squeeze":
        return name, tg.squeeze, np.squeeze, x
    if name == "transpose":
        return name, tg.transpose, np.transpose, x
    if name == "T":
        return name, lambda t: t.T, lambda a: a.T, x
    if name == "transpose_axes":
        axes = tuple(draw(st.permutations(range(ndim))))
        return name, lambda t: t.transpose(axes), lambda a: a.transpose(axes), x
    if name == "swapaxes":
        first, second = draw(st.integers(0, ndim - 1)), draw(st.integers(-ndim, ndim - 1))
        return (
            name,
            lambda t: tg.swapaxes(t, first, second),
            lambda a: np.swapaxes(a, first, second),
            x,
        )
    # squeeze_axis: make one axis of length 1, then squeeze it
    axis = draw(st.integers(0, ndim - 1))
    x = np.take(x, [0], axis=axis)
    return name, lambda t: tg.squeeze(t, axis), lambda a: np.squeeze(a, axis), x


@given(shape_cases())
def test_shape_ops_forward_equals_numpy_and_gradient_passes_gradcheck(case):
    _, function, reference, x = case
    assert_same_as_numpy(function, reference, x)


@given(shape_cases())
def test_shape_ops_float32_gradient_stays_float32(case):
    _, function, _, x = case
    leaf = tg.Tensor(x.astype(np.float32), requires_grad=True)
    weighted_sum(function(leaf)).backward()
    assert leaf.grad.dtype == np.float32 and leaf.grad.shape == x.shape


@given(shapes=broadcastable_shape_pairs(), data=st.data())
def test_broadcast_to_sums_the_gradient_back_over_broadcast_axes(shapes, data):
    x = data.draw(float_arrays(shapes[0]), label="x")
    target = np.broadcast_shapes(*shapes)
    assert_same_as_numpy(
        lambda t: tg.broadcast_to(t, target), lambda a: np.broadcast_to(a, target), x
    )


# -- indexing ------------------------------------------------------------------------------
@st.composite
def index_cases(draw):
    """An array and an index of every kind NumPy takes: ints, slices, int arrays, masks."""
    x = draw(float_arrays(shapes(min_dims=1)))
    kind = draw(st.sampled_from(["int", "slice", "int_array", "mask", "tuple", "ellipsis"]))
    length = x.shape[0]
    if kind == "int":
        index = draw(st.integers(-length, length - 1))
    elif kind == "slice":
        start, stop = draw(st.integers(-length, length)), draw(st.integers(-length, length))
        step = draw(st.sampled_from([1, 2, -1]))
        index = slice(start, stop, step)
    elif kind == "int_array":  # repeats allowed: their gradients must add up
        index = np.array(draw(st.lists(st.integers(-length, length - 1), min_size=1, max_size=6)))
    elif kind == "mask":
        index = np.array(draw(st.lists(st.booleans(), min_size=x.size, max_size=x.size)))
        index = index.reshape(x.shape)
    elif kind == "tuple":
        index = tuple(draw(st.integers(0, size - 1)) for size in x.shape)
        index = index[:1] + (slice(None),) * (x.ndim - 1)
    else:
        index = (Ellipsis, 0)
    return x, index


@given(index_cases())
def test_indexing_forward_equals_numpy_and_gradient_passes_gradcheck(case):
    x, index = case
    assert_same_as_numpy(lambda t: t[index], lambda a: np.asarray(a[index]), x)


def test_repeated_integer_indices_accumulate_their_gradients():
    x = tg.Tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    x[np.array([0, 0, 2, 0])].sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])


def test_indexing_with_an_integer_tensor_and_a_list():
    x = tg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    picked = x[tg.Tensor(np.array([2, 2])), [0, 1]]
    np.testing.assert_array_equal(picked.data, [4.0, 5.0])
    picked.sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[0, 0], [0, 0], [1, 1]])


def test_indexing_out_of_range_names_the_tensor_shape():
    with pytest.raises(IndexError, match=re.escape("(2, 3)")):
        tg.Tensor(np.ones((2, 3)))[5]


# -- joining and splitting -------------------------------------------------------------------
@given(
    base=shapes(min_dims=1, max_dims=3),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    data=st.data(),
)
def test_concatenate_forward_and_gradient_along_any_axis(base, sizes, data):
    axis = data.draw(st.integers(-len(base), len(base) - 1), label="axis")
    positive = axis % len(base)
    arrays = [
        data.draw(float_arrays(base[:positive] + (size,) + base[positive + 1 :]), label="part")
        for size in sizes
    ]
    out = tg.concatenate([tg.Tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(arrays, axis=axis))
    assert check_gradient(lambda *ts: tg.concatenate(ts, axis=axis), *arrays)


@given(shape=shapes(max_dims=2), count=st.integers(1, 3), data=st.data())
def test_stack_forward_and_gradient_along_any_new_axis(shape, count, data):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    arrays = [data.draw(float_arrays(shape), label="part") for _ in range(count)]
    out = tg.stack([tg.Tensor(a) for a in arrays], axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(arrays, axis=axis))
    assert check_gradient(lambda *ts: tg.stack(ts, axis=axis), *arrays)


@given(x=float_arrays(shapes(min_dims=1, max_dims=2, max_side=6)), data=st.data())
def test_split_pieces_equal_numpy_and_their_gradients_reassemble(x, data):
    axis = data.draw(st.integers(0, x.ndim - 1), label="axis")
    length = x.shape[axis]
    sections = data.draw(st.sampled_from([d for d in range(1, length + 1) if length % d == 0]))
    pieces = tg.split(tg.Tensor(x), sections, axis=axis)
    for mine, theirs in zip(pieces, np.split(x, sections, axis=axis), strict=True):
        np.testing.assert_array_equal(mine.data, theirs)

    def joined(t):
        return tg.concatenate(
            [p * (i + 1) for i, p in enumerate(tg.split(t, sections, axis))], axis
        )

    assert check_gradient(joined, x)


def test_split_at_indices_like_numpy():
    x = tg.Tensor(np.arange(6.0), requires_grad=True)
    pieces = tg.split(x, [1, 4])
    assert [p.shape for p in pieces] == [(1,), (3,), (2,)]
    (pieces[0] * 1 + pieces[2].sum() * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [1, 0, 0, 0, 2, 2])


# -- casts ---------------------------------------------------------------------------------
def test_astype_between_floats_casts_the_gradient_back():
    x = tg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = x.astype(np.float64)
    assert y.dtype == np.float64 and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [2.0, 4.0])


def test_astype_to_integer_leaves_the_graph():
    x = tg.Tensor(np.array([1.5, 2.5]), requires_grad=True)
    y = x.astype(np.int64)
    assert y.dtype == np.int64 and not y.requires_grad and y.grad_fn is None


# -- errors --------------------------------------------------------------------------------
def test_reshape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape("reshape: cannot reshape shape (2, 3)")) as e:
        tg.Tensor(np.ones((2, 3))).reshape(4, 2)
    assert "(4, 2)" in str(e.value)


def test_concatenate_mismatch_names_every_shape():
    with pytest.raises(ValueError, match=re.escape("(2, 3), (2, 4)")):
        tg.concatenate([tg.Tensor(np.ones((2, 3))), tg.Tensor(np.ones((2, 4)))], axis=0)


def test_stack_mismatch_names_every_shape():
    with pytest.raises(ValueError, match=re.escape("(2,), (3,)")):
        tg.stack([tg.Tensor(np.ones(2)), tg.Tensor(np.ones(3))])


def test_broadcast_to_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape("shape (3,) to (2, 4)")):
        tg.broadcast_to(tg.Tensor(np.ones(3)), (2, 4))


def test_transpose_with_bad_axes_names_them_and_the_shape():
    with pytest.raises(ValueError, match=re.escape("(0, 0)")):
        tg.transpose(tg.Tensor(np.ones((2, 3))), (0, 0))


def test_split_into_unequal_sections_is_an_error():
    with pytest.raises(ValueError, match="split"):
        tg.split(tg.Tensor(np.ones(5)), 2)

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


# ==============================================================================================
# NumPy's shape functions: equal NumPy on random shapes, gradcheck, and the same computation in
# PyTorch and HIPS autograd (values and gradients).
# ==============================================================================================
try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None
try:
    import autograd as hips
    import autograd.numpy as anp
except ImportError:  # pragma: no cover - CI installs autograd
    hips = anp = None


SHAPE_FUNCTIONS = [
    "pad constant",
    "pad edge",
    "pad reflect",
    "pad symmetric",
    "pad wrap",
    "repeat",
    "repeat flat",
    "tile",
    "roll",
    "roll tuple",
    "roll flat",
    "flip",
    "flip all",
    "flipud",
    "moveaxis",
    "rollaxis",
    "ravel",
    "ravel F",
    "atleast_3d",
    "append",
    "append flat",
    "vstack",
    "hstack",
    "dstack",
    "column_stack",
    "rot90",
    "vstack of one array",
]
# What HIPS autograd cannot differentiate: pad modes other than constant, repeat with a list,
# roll with tuples, rollaxis with a negative axis, flip (no vjp), flipud, rot90 with axes.
HIPS_SHAPE_FUNCTIONS = [
    name
    for name in SHAPE_FUNCTIONS
    if name
    not in {
        "pad edge",
        "pad reflect",
        "pad symmetric",
        "pad wrap",
        "repeat",
        "roll tuple",
        "rollaxis",
        "flip",
        "flip all",
        "flipud",
        "rot90",
    }
]


@st.composite
def shape_function_cases(draw, names=SHAPE_FUNCTIONS):
    """(name, function of (np_module, x), x): a NumPy shape function with random arguments."""
    x = draw(float_arrays(shapes(min_dims=1, max_dims=3)))
    ndim = x.ndim
    axis = draw(st.integers(-ndim, ndim - 1))
    name = draw(st.sampled_from(names))
    if name.startswith("pad"):
        mode = name.split()[1]
        # Reflect needs widths below the length; the others take any width.
        limit = min(x.shape) - 1 if mode == "reflect" else 3
        form = draw(st.sampled_from(["int", "pair", "per axis"]))
        if form == "int":
            width = draw(st.integers(0, max(limit, 0)))
        elif form == "pair":
            width = (draw(st.integers(0, max(limit, 0))), draw(st.integers(0, max(limit, 0))))
        else:
            width = [
                (draw(st.integers(0, max(n - 1, 0) if mode == "reflect" else 3)),) * 2
                for n in x.shape
            ]
        if mode == "constant":
            value = draw(st.sampled_from([0.0, -1.5]))
            return name, lambda m, t: m.pad(t, width, "constant", constant_values=value), x
        return name, lambda m, t: m.pad(t, width, mode), x
    if name == "repeat":
        repeats = draw(st.lists(st.integers(0, 3), min_size=x.shape[axis], max_size=x.shape[axis]))
        return name, lambda m, t: m.repeat(t, repeats, axis=axis), x
    if name == "repeat flat":
        count = draw(st.integers(1, 3))
        return name, lambda m, t: m.repeat(t, count), x
    if name == "tile":
        reps = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=4)))
        return name, lambda m, t: m.tile(t, reps), x
    if name == "roll":
        shift = draw(st.integers(-5, 5))
        return name, lambda m, t: m.roll(t, shift, axis), x
    if name == "roll tuple":
        axes = tuple(draw(st.permutations(range(ndim))))[: draw(st.integers(1, ndim))]
        shift = tuple(draw(st.integers(-4, 4)) for _ in axes)
        return name, lambda m, t: m.roll(t, shift, axes), x
    if name == "roll flat":
        shift = draw(st.integers(-7, 7))
        return name, lambda m, t: m.roll(t, shift), x
    if name == "flip":
        return name, lambda m, t: m.flip(t, axis), x
    if name == "flip all":
        return name, lambda m, t: m.flip(t), x
    if name == "flipud":
        return name, lambda m, t: m.flipud(t), x
    if name == "moveaxis":
        destination = draw(st.integers(-ndim, ndim - 1))
        return name, lambda m, t: m.moveaxis(t, axis, destination), x
    if name == "rollaxis":
        start = draw(st.integers(0, ndim))
        return name, lambda m, t: m.rollaxis(t, axis, start), x
    if name == "ravel":
        return name, lambda m, t: m.ravel(t), x
    if name == "ravel F":
        return name, lambda m, t: m.ravel(t, order="F"), x
    if name == "atleast_3d":
        return name, lambda m, t: m.atleast_3d(t[0]), x
    if name == "append":
        return name, lambda m, t: m.append(t, t * 2, axis=axis), x
    if name == "append flat":
        return name, lambda m, t: m.append(t, t[:1]), x
    if name == "vstack":
        return name, lambda m, t: m.vstack([t, t * 3]), x
    if name == "hstack":
        return name, lambda m, t: m.hstack([t * 2, t]), x
    if name == "dstack":
        return name, lambda m, t: m.dstack([t, t * t]), x
    if name == "rot90":
        k = draw(st.integers(-1, 4))
        if ndim < 2:
            return name, lambda m, t: m.rot90(m.atleast_2d(t), k), x
        plane = tuple(draw(st.permutations(range(ndim))))[:2]
        return name, lambda m, t: m.rot90(t, k, plane), x
    if name == "vstack of one array":  # NumPy iterates over its rows
        return name, lambda m, t: m.vstack(t), x
    return name, lambda m, t: m.column_stack([t, t * 2]), x


@given(shape_function_cases())
def test_numpy_shape_functions_on_tensors_equal_numpy_and_pass_gradcheck(case):
    _, function, x = case
    out = function(np, tg.Tensor(x, requires_grad=True))
    assert isinstance(out, tg.Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, function(np, x))
    assert check_gradient(lambda t: function(np, t), x)


@pytest.mark.skipif(hips is None, reason="HIPS autograd not installed")
@given(shape_function_cases(HIPS_SHAPE_FUNCTIONS))
def test_numpy_shape_functions_match_hips_autograd_gradients(case):
    name, function, x = case
    leaf = tg.Tensor(x, requires_grad=True)
    weighted_sum(function(np, leaf)).backward()
    expected = hips.grad(lambda a: weighted_sum(function(anp, a)))(x)
    np.testing.assert_allclose(leaf.grad.data, expected, rtol=1e-12, err_msg=name)


@given(x=float_arrays(shapes(min_dims=0, max_dims=3)))
def test_atleast_nd_equal_numpy_for_every_rank(x):
    for ours, theirs in [
        (tg.atleast_1d, np.atleast_1d),
        (tg.atleast_2d, np.atleast_2d),
        (tg.atleast_3d, np.atleast_3d),
    ]:
        out = ours(tg.Tensor(x))
        np.testing.assert_array_equal(out.data, theirs(x))
        assert out.shape == theirs(x).shape
    pair = np.atleast_2d(tg.Tensor(x), tg.Tensor(x))
    assert len(pair) == 2 and pair[1].shape == np.atleast_2d(x).shape


@given(x=float_arrays(shapes(min_dims=1, max_dims=2, max_side=7)), sections=st.integers(1, 5))
def test_array_split_into_uneven_sections_equals_numpy_and_gradients_reassemble(x, sections):
    axis = x.ndim - 1
    pieces = np.array_split(tg.Tensor(x), sections, axis=axis)
    expected = np.array_split(x, sections, axis=axis)
    assert [p.shape for p in pieces] == [e.shape for e in expected]
    for mine, theirs in zip(pieces, expected, strict=True):
        np.testing.assert_array_equal(mine.data, theirs)

    def weighted_pieces(t):
        parts = tg.array_split(t, sections, axis)
        return tg.concatenate([p * (i + 1) for i, p in enumerate(parts)], axis)

    assert check_gradient(weighted_pieces, x)


@given(x=float_arrays(shapes(min_dims=3, max_dims=3, max_side=4)), data=st.data())
def test_vsplit_hsplit_dsplit_equal_numpy_and_their_gradients_reassemble(x, data):
    for axis, ours, theirs in [
        (0, tg.vsplit, np.vsplit),
        (1, tg.hsplit, np.hsplit),
        (2, tg.dsplit, np.dsplit),
    ]:
        length = x.shape[axis]
        sections = data.draw(st.sampled_from([d for d in range(1, length + 1) if length % d == 0]))
        pieces = ours(tg.Tensor(x), sections)
        for mine, expected in zip(pieces, theirs(x, sections), strict=True):
            np.testing.assert_array_equal(mine.data, expected)

        def weighted_pieces(t, ours=ours, sections=sections, axis=axis):
            parts = ours(t, sections)
            return tg.concatenate([p * (i + 1) for i, p in enumerate(parts)], axis)

        assert check_gradient(weighted_pieces, x)
    with pytest.raises(ValueError, match="dsplit: needs at least 3 dimensions"):
        np.dsplit(tg.Tensor(x[0]), 1)


SHAPE_TORCH = {
    "roll": (lambda t: np.roll(t, (1, -2), (0, 1)), lambda t: torch.roll(t, (1, -2), (0, 1))),
    "flip": (lambda t: np.flip(t, 1), lambda t: torch.flip(t, (1,))),
    "fliplr": (np.fliplr, torch.fliplr),
    "moveaxis": (lambda t: np.moveaxis(t, 0, -1), lambda t: torch.movedim(t, 0, -1)),
    "repeat": (
        lambda t: np.repeat(t, [2, 0, 1], axis=0),
        lambda t: torch.repeat_interleave(t, torch.tensor([2, 0, 1]), dim=0),
    ),
    "tile": (lambda t: np.tile(t, (2, 1, 2)), lambda t: torch.tile(t, (2, 1, 2))),
    "pad constant": (
        lambda t: np.pad(t, ((1, 0), (2, 1))),
        lambda t: torch.nn.functional.pad(t, (2, 1, 1, 0)),
    ),
    "pad reflect": (
        lambda t: np.pad(t, ((0, 0), (2, 1)), mode="reflect"),
        lambda t: torch.nn.functional.pad(t[None], (2, 1), mode="reflect")[0],
    ),
    "pad edge": (
        lambda t: np.pad(t, ((0, 0), (2, 3)), mode="edge"),
        lambda t: torch.nn.functional.pad(t[None], (2, 3), mode="replicate")[0],
    ),
    "vstack": (lambda t: np.vstack([t, t[:1]]), lambda t: torch.vstack([t, t[:1]])),
    "hstack": (lambda t: np.hstack([t, t]), lambda t: torch.hstack([t, t])),
    "rot90": (lambda t: np.rot90(t, 1), lambda t: torch.rot90(t, 1)),
    "column_stack": (
        lambda t: np.column_stack([t[:, 0], t]),
        lambda t: torch.column_stack([t[:, 0], t]),
    ),
}


@pytest.mark.skipif(torch is None, reason="torch not installed: pip install torch")
@pytest.mark.parametrize("name", sorted(SHAPE_TORCH))
def test_shape_functions_match_torch_values_and_gradients(name):
    ours, theirs = SHAPE_TORCH[name]
    x = np.random.default_rng(9).standard_normal((3, 4))
    leaf = tg.Tensor(x, requires_grad=True)
    out = ours(leaf)
    weighted_sum(out).backward()
    reference = torch.tensor(x, requires_grad=True)
    expected = theirs(reference)
    weighted_sum(expected).backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(leaf.grad.data, reference.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x: np.pad(x, 1, mode="mean"), "pad: mode 'mean' is not supported"),
        (lambda x: np.pad(x, ((1, 2, 3),)), "pad: pad_width"),
        (lambda x: np.pad(x, -1), "negative"),
        (lambda x: np.moveaxis(x, 0, 5), "moveaxis: axis 5 is out of bounds"),
        (lambda x: np.repeat(x, [1, 2, 3], axis=0), "repeat:"),
        (lambda x: np.fliplr(x[0]), "fliplr: needs at least 2 dimensions"),
        (lambda x: np.array_split(x, 0), "array_split: number of sections"),
    ],
)
def test_shape_function_errors_name_the_function_and_the_problem(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(tg.Tensor(np.ones((2, 3)), requires_grad=True))


def test_shape_functions_keep_float32_and_their_graph_under_create_graph():
    x = tg.Tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
    y = np.pad(np.roll(np.flip(x, 0), 1, 1), 1, mode="reflect")
    assert y.dtype == np.float32
    (first,) = tg.grad((y * y).sum(), [x], create_graph=True)
    (second,) = tg.grad(first.sum(), [x])
    assert first.dtype == np.float32 and first.requires_grad
    assert np.all(second.data > 0)  # d/dx of 2 * (copies) * x is the positive copy count


SHAPE_METHODS = {
    "flip": lambda t: t.flip(0),
    "flip dims": lambda t: t.flip((0, 1)),
    "roll": lambda t: t.roll(2, 1),
    "roll tuple": lambda t: t.roll((1, -1), (0, 1)),
    "roll flat": lambda t: t.roll(3),
    "rot90": lambda t: t.rot90(1, (0, 1)),
    "movedim": lambda t: t.movedim(0, 1),
    "ravel": lambda t: t.ravel(),
    "tile": lambda t: t.tile((2, 1)),
    "repeat_interleave": lambda t: t.repeat_interleave(2, dim=1),
}


@pytest.mark.skipif(torch is None, reason="torch not installed: pip install torch")
@pytest.mark.parametrize("name", sorted(SHAPE_METHODS))
def test_shape_methods_match_torch_methods(name):
    function = SHAPE_METHODS[name]
    x = np.random.default_rng(12).standard_normal((3, 4))
    leaf = tg.Tensor(x, requires_grad=True)
    out = function(leaf)
    weighted_sum(out).backward()
    reference = torch.tensor(x, requires_grad=True)
    expected = function(reference)
    weighted_sum(expected).backward()
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(leaf.grad.data, reference.grad.numpy(), rtol=1e-12)


def test_a_list_holding_tensors_is_stacked_by_ops_keeping_the_graph():
    # np.append([x, 3x, 1], x) reaches the op with a list: stacked, not np.asarray'd
    x = tg.Tensor(2.0, requires_grad=True)
    out = np.append([x, x * 3, 1.0], x)
    np.testing.assert_array_equal(out.data, [2.0, 6.0, 1.0, 2.0])
    out.sum().backward()
    assert x.grad.item() == 5.0

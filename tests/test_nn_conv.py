"""Tests for tinygrad_dl/nn/conv.py: windows/fold, pad, conv1d/conv2d, pooling, interpolate.

Each function is compared with PyTorch (value and gradients, through ``torch_twins``) over
hypothesis-drawn geometries, and its gradient with central differences; ``fold`` is checked to
be the adjoint of ``windows``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from torch_twins import assert_function_matches, import_torch

import tinygrad_dl as tg
from tinygrad_dl.nn import conv
from tinygrad_dl.nn import functional as F
from tinygrad_dl.testing import check_gradient, float_arrays


def _torch_f():
    return import_torch().nn.functional


@st.composite
def conv_cases(draw, spatial=2):
    groups = draw(st.integers(1, 2))
    in_per_group = draw(st.integers(1, 2))
    out_per_group = draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(spatial))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(spatial))
    size = tuple(
        draw(st.integers(d * (k - 1) + 1, d * (k - 1) + 5)) for k, d in zip(kernel, dilation)
    )
    batch = draw(st.integers(1, 2))
    x = draw(float_arrays((batch, groups * in_per_group) + size))
    w = draw(float_arrays((groups * out_per_group, in_per_group) + kernel))
    b = draw(float_arrays((groups * out_per_group,)))
    if spatial == 1:
        stride, dilation, padding = stride[0], dilation[0], padding[0]
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@given(conv_cases())
def test_conv2d_matches_torch_for_stride_padding_dilation_groups(case):
    F = _torch_f()
    x, w, b, options = case
    assert_function_matches(
        lambda x, w, b: conv.conv2d(x, w, b, **options),
        lambda x, w, b: F.conv2d(x, w, b, **options),
        x,
        w,
        b,
    )


@given(conv_cases(spatial=1))
def test_conv1d_matches_torch_for_stride_padding_dilation_groups(case):
    F = _torch_f()
    x, w, b, options = case
    assert_function_matches(
        lambda x, w, b: conv.conv1d(x, w, b, **options),
        lambda x, w, b: F.conv1d(x, w, b, **options),
        x,
        w,
        b,
    )


@pytest.mark.parametrize("padding", ["same", "valid"])
@pytest.mark.parametrize("kernel, dilation", [((3, 3), 1), ((2, 4), 1), ((3, 2), 2)])
def test_conv2d_string_padding_matches_torch(padding, kernel, dilation):
    F = _torch_f()
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7, 8)), rng.standard_normal((4, 3) + kernel)
    out = assert_function_matches(
        lambda x, w: conv.conv2d(x, w, padding=padding, dilation=dilation),
        lambda x, w: F.conv2d(x, w, padding=padding, dilation=dilation),
        x,
        w,
    )
    if padding == "same":
        assert out.shape[2:] == (7, 8)


def test_conv2d_of_one_unbatched_image_and_no_bias():
    F = _torch_f()
    rng = np.random.default_rng(1)
    assert_function_matches(
        lambda x, w: conv.conv2d(x, w, stride=2),
        lambda x, w: F.conv2d(x, w, stride=2),
        rng.standard_normal((2, 6, 5)),
        rng.standard_normal((3, 2, 2, 2)),
    )


def test_conv2d_gradients_pass_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(2)
    x, w, b = (
        rng.standard_normal((2, 2, 5, 4)),
        rng.standard_normal((2, 1, 2, 3)),
        rng.standard_normal(2),
    )

    def f(x, w, b):
        return conv.conv2d(x, w, b, stride=(2, 1), padding=1, dilation=(1, 2), groups=2)

    assert check_gradient(f, x, w, b)
    tensors = [tg.Tensor(a, requires_grad=True) for a in (x, w, b)]
    assert tg.gradgradcheck(lambda *t: (f(*t) ** 2).sum(), tensors)


def test_fold_is_the_adjoint_of_windows():
    # <windows(x), y> == <x, fold(y)> for every x, y: the defining property of the vjp.
    rng = np.random.default_rng(3)
    geometry = conv.Geometry(2, 3, 2, 1, 2, 1)
    x = rng.standard_normal((2, 3, 9, 7))
    patches = conv.windows(x, geometry)
    y = rng.standard_normal(patches.shape)
    assert np.vdot(patches, y) == pytest.approx(np.vdot(x, conv.fold(y, geometry, x.shape)))


def test_windows_is_im2col_of_each_patch():
    x = np.arange(2 * 1 * 4 * 4, dtype=float).reshape(2, 1, 4, 4)
    patches = conv.windows(x, conv.Geometry(2, 2, 2, 2, 1, 1))
    assert patches.shape == (1, 2, 2, 2, 2, 2)  # (C, kh, kw, N, OH, OW)
    np.testing.assert_array_equal(patches[0, :, :, 1, 0, 1], x[1, 0, 0:2, 2:4])


def test_conv2d_errors_name_the_shapes():
    x = tg.Tensor(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match=r"conv2d: input of shape \(1, 3, 5, 5\).*\(2, 2, 3, 3\)"):
        conv.conv2d(x, np.zeros((2, 2, 3, 3)))
    with pytest.raises(ValueError, match=r"bias of shape \(3,\).*expected \(2,\)"):
        conv.conv2d(x, np.zeros((2, 3, 3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"kernel \(7, 7\).*larger than the padded input"):
        conv.conv2d(x, np.zeros((2, 3, 7, 7)))
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        conv.conv2d(x, np.zeros((2, 3, 3, 3)), stride=2, padding="same")
    with pytest.raises(ValueError, match=r"conv2d: input must be \(N, C, H, W\)"):
        conv.conv2d(np.zeros(5), np.zeros((2, 3, 3, 3)))


@st.composite
def pool_cases(draw, dilation=True):
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, kernel[0] // 2)), draw(st.integers(0, kernel[1] // 2)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if dilation else (1, 1)
    size = tuple(draw(st.integers(d * (k - 1) + 1, 7)) for k, d in zip(kernel, dil))
    ceil_mode = draw(st.booleans())
    x = draw(float_arrays((2, 2) + size, distinct=True, margin=1e-3))
    options = dict(kernel_size=kernel, stride=stride, padding=padding, ceil_mode=ceil_mode)
    if dilation:
        options["dilation"] = dil
    return x, options


@given(pool_cases())
def test_max_pool2d_matches_torch_including_ceil_mode_and_dilation(case):
    F = _torch_f()
    x, options = case
    assert_function_matches(
        lambda x: conv.max_pool2d(x, **options), lambda x: F.max_pool2d(x, **options), x
    )


def test_max_pool2d_sends_ties_to_the_first_maximum_as_torch():
    # After a ReLU, windows are full of equal zeros: the gradient must go where torch sends it.
    F = _torch_f()
    x = np.random.default_rng(4).standard_normal((2, 3, 6, 6))
    assert_function_matches(
        lambda x: conv.max_pool2d(x.relu(), 2), lambda x: F.max_pool2d(x.relu(), 2), x
    )


def test_max_pool2d_indices_are_torchs():
    torch = import_torch()
    x = np.random.default_rng(5).standard_normal((2, 2, 7, 6))
    _, ours = conv.max_pool2d(tg.Tensor(x), 3, 2, 1, return_indices=True)
    _, theirs = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ours.data, theirs.numpy())


@given(pool_cases(dilation=False), st.booleans(), st.sampled_from([None, 3]))
def test_avg_pool2d_matches_torch(case, count_include_pad, divisor_override):
    F = _torch_f()
    x, options = case
    options.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
    assert_function_matches(
        lambda x: conv.avg_pool2d(x, **options), lambda x: F.avg_pool2d(x, **options), x
    )


@pytest.mark.parametrize("output_size", [1, (3, 2), (5, None), (4, 7)])
def test_adaptive_avg_pool2d_matches_torch_for_uneven_bins(output_size):
    F = _torch_f()
    x = np.random.default_rng(6).standard_normal((2, 3, 7, 5))
    assert_function_matches(
        lambda x: conv.adaptive_avg_pool2d(x, output_size),
        lambda x: F.adaptive_avg_pool2d(x, output_size),
        x,
    )


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(1, 2), (2, 1, 0, 3), (1, 1, 1, 1)])
def test_pad_matches_torch_in_every_mode(mode, widths):
    F = _torch_f()
    # torch pads only the last axis of a 3-D input in the non-constant modes
    shape = (3, 5, 4) if len(widths) == 2 else (2, 3, 5, 4)
    x = np.random.default_rng(7).standard_normal(shape)
    assert_function_matches(
        lambda x: conv.pad(x, widths, mode=mode), lambda x: F.pad(x, widths, mode=mode), x
    )


def test_pad_constant_value_and_negative_amounts_crop_as_torch():
    F = _torch_f()
    x = np.random.default_rng(8).standard_normal((2, 5, 4))
    assert_function_matches(
        lambda x: conv.pad(x, (-1, 2, 1, -2), value=3.5),
        lambda x: F.pad(x, (-1, 2, 1, -2), value=3.5),
        x,
    )


def test_pad_errors():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="even number of amounts"):
        conv.pad(x, (1, 2, 3))
    with pytest.raises(ValueError, match="unknown mode 'mirror'"):
        conv.pad(x, (1, 1), mode="mirror")
    with pytest.raises(ValueError, match="reflect padding .* smaller than the axis size 3"):
        conv.pad(x, (3, 0), mode="reflect")


@pytest.mark.parametrize(
    "options",
    [
        dict(size=(5, 13), mode="nearest"),
        dict(scale_factor=2.5, mode="nearest"),
        dict(scale_factor=0.5, mode="nearest"),
        dict(size=(5, 13), mode="bilinear", align_corners=True),
        dict(size=(5, 13), mode="bilinear", align_corners=False),
        dict(scale_factor=(1.7, 0.6), mode="bilinear", align_corners=False),
        dict(scale_factor=3, mode="bilinear", align_corners=True),
        dict(size=(1, 1), mode="bilinear", align_corners=True),
    ],
)
def test_interpolate_2d_matches_torch(options):
    F = _torch_f()
    x = np.random.default_rng(9).standard_normal((2, 3, 6, 5))
    assert_function_matches(
        lambda x: conv.interpolate(x, **options), lambda x: F.interpolate(x, **options), x
    )


@pytest.mark.parametrize(
    "options", [dict(size=9, mode="linear", align_corners=False), dict(size=4, mode="nearest")]
)
def test_interpolate_1d_matches_torch(options):
    F = _torch_f()
    x = np.random.default_rng(10).standard_normal((2, 3, 6))
    assert_function_matches(
        lambda x: conv.interpolate(x, **options), lambda x: F.interpolate(x, **options), x
    )


def test_interpolate_errors():
    x = np.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        conv.interpolate(x)
    with pytest.raises(ValueError, match="mode 'linear' needs a 3-D input"):
        conv.interpolate(x, size=2, mode="linear")
    with pytest.raises(ValueError, match="unknown mode 'bicubic'"):
        conv.interpolate(x, size=2, mode="bicubic")


def test_pooling_gradients_pass_gradcheck():
    x = np.random.default_rng(11).permutation(48).reshape(1, 3, 4, 4) / 10.0
    assert check_gradient(lambda t: conv.max_pool2d(t, 2, 1, 1), x)
    assert check_gradient(lambda t: conv.avg_pool2d(t, 3, 2, 1, ceil_mode=True), x)
    assert check_gradient(lambda t: conv.interpolate(t, size=(3, 5), mode="bilinear"), x)


def test_pooling_padding_and_conv1d_second_derivatives_pass_gradgradcheck():
    rng = np.random.default_rng(12)
    x = tg.Tensor(rng.permutation(32).reshape(1, 2, 4, 4) / 7.0, requires_grad=True)
    assert tg.gradgradcheck(lambda t: (conv.max_pool2d(t, 2, 1) ** 2).sum(), [x])
    assert tg.gradgradcheck(lambda t: (conv.avg_pool2d(t, 3, 2, 1, ceil_mode=True) ** 2).sum(), [x])
    assert tg.gradgradcheck(lambda t: (conv.pad(t, (1, 1, 2, 0), mode="reflect") ** 3).sum(), [x])
    signal = tg.Tensor(rng.standard_normal((2, 2, 7)), requires_grad=True)
    weight = tg.Tensor(rng.standard_normal((3, 2, 3)), requires_grad=True)
    assert tg.gradgradcheck(
        lambda s, w: (conv.conv1d(s, w, stride=2, padding=1) ** 2).sum(), [signal, weight]
    )


@pytest.mark.parametrize(
    "function",
    [
        lambda t: conv.conv2d(t, np.ones((3, 2, 3, 3), np.float32), padding=1),
        lambda t: conv.max_pool2d(t, 2),
        lambda t: conv.avg_pool2d(t, 2, padding=1),
        lambda t: conv.adaptive_avg_pool2d(t, 3),
        lambda t: conv.interpolate(t, scale_factor=2, mode="bilinear"),
        lambda t: conv.pad(t, (1, 1), mode="circular"),
    ],
)
def test_float32_inputs_stay_float32(function):
    x = tg.Tensor(np.random.default_rng(13).standard_normal((1, 2, 4, 4)).astype(np.float32))
    assert function(x).dtype == np.float32


@pytest.mark.parametrize(
    "body",
    [
        lambda x, w: conv.max_pool2d(conv.conv2d(x, w, padding=1), 2),
        lambda x, w: conv.avg_pool2d(conv.conv2d(x, w, padding=1), 2),
        lambda x, w: conv.pad(conv.conv2d(x, w), (1, 1, 1, 1), mode="reflect"),
        lambda x, w: conv.interpolate(conv.conv2d(x, w), scale_factor=2, mode="bilinear"),
    ],
)
def test_replays_under_tg_compile_equal_eager_calls(body):
    # A compiled step replays NumPy calls into the arrays of its first call: every gradient
    # here must start from fresh zeros on each replay, not from the last call's result.
    rng = np.random.default_rng(14)
    weight = tg.Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)

    def step(x, labels):
        weight.grad = None
        x.grad = None
        loss = F.cross_entropy(body(x, weight).sum(axis=(2, 3)), labels, label_smoothing=0.1)
        loss.backward()
        return loss, weight.grad, x.grad

    compiled = tg.compile(step)
    for _ in range(3):
        x, labels = rng.standard_normal((4, 2, 6, 6)), rng.integers(0, 3, 4)
        eager = step(tg.Tensor(x, requires_grad=True), labels)
        replay = compiled(tg.Tensor(x, requires_grad=True), labels)
        for a, b in zip(eager, replay):
            np.testing.assert_array_equal(a.data, b.data)

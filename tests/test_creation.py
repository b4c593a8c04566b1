"""tinygrad_dl/creation.py: PyTorch's factories (from_numpy, linspace, full_like, rand_like,
randn_like), the default dtype they follow, and tg.cat/tg.stack with dim=."""

import numpy as np
import pytest

import tinygrad_dl as tg


@pytest.fixture
def float32_default():
    tg.set_default_dtype(np.float32)
    try:
        yield
    finally:
        tg.set_default_dtype(np.float64)


def test_from_numpy_shares_memory_and_keeps_the_dtype():
    array = np.arange(4, dtype=np.float32)
    t = tg.from_numpy(array)
    array[0] = 7.0
    assert t.dtype == np.float32 and t.data[0] == 7.0
    with pytest.raises(TypeError, match=r"from_numpy: expected an np.ndarray, got list"):
        tg.from_numpy([1.0, 2.0])


def test_linspace_arange_and_full_like_match_numpy_and_torch_spellings():
    np.testing.assert_array_equal(tg.linspace(0, 1, 5).data, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(tg.linspace(0, 1, steps=3).data, [0.0, 0.5, 1.0])
    assert tg.arange(3).dtype == np.float64 and tg.arange(3).tolist() == [0.0, 1.0, 2.0]
    like = tg.full_like(tg.Tensor(np.zeros((2, 3), dtype=np.float32)), 2.5)
    assert like.shape == (2, 3) and like.dtype == np.float32 and like.data[0, 0] == 2.5
    assert tg.full_like(np.zeros(2), 1, dtype=np.dtype(np.int64)).dtype == np.int64


def test_rand_like_and_randn_like_follow_the_shape_dtype_and_seed():
    other = tg.Tensor(np.zeros((3, 2), dtype=np.float32))
    a = tg.randn_like(other, rng=0)
    b = tg.randn_like(other, rng=0)
    assert a.shape == (3, 2) and a.dtype == np.float32
    np.testing.assert_array_equal(a.data, b.data)
    u = tg.rand_like(other, rng=1, requires_grad=True)
    assert u.requires_grad and np.all((0 <= u.data) & (u.data < 1))
    with pytest.raises(TypeError, match=r"randn_like: needs a floating dtype, got int64"):
        tg.randn_like(np.zeros(2, dtype=np.int64))


def test_the_default_dtype_is_float64_and_set_default_dtype_changes_numbers_lists_factories(
    float32_default,
):
    assert tg.get_default_dtype() == np.float32
    assert tg.Tensor([1, 2]).dtype == np.float32
    assert tg.Tensor(3.0).dtype == np.float32
    for made in (tg.zeros(2), tg.ones(2), tg.full(2, 1.0), tg.arange(2), tg.linspace(0, 1, 2)):
        assert made.dtype == np.float32, made
    assert tg.randn(2, rng=0).dtype == np.float32 and tg.eye(2).dtype == np.float32
    assert tg.Tensor(np.zeros(2)).dtype == np.float64  # an ndarray keeps its dtype


def test_default_dtype_is_float64_again_and_only_floats_are_accepted():
    assert tg.get_default_dtype() == np.float64
    assert tg.Tensor([1, 2]).dtype == np.float64
    with pytest.raises(TypeError, match=r"set_default_dtype: expected a floating dtype"):
        tg.set_default_dtype(np.int32)


def test_cat_and_stack_take_dim_or_axis_and_refuse_both():
    a, b = tg.Tensor(np.ones((2, 3)), requires_grad=True), tg.Tensor(np.zeros((2, 1)))
    joined = tg.cat([a, b], dim=1)
    assert joined.shape == (2, 4)
    assert tg.cat([a, b], axis=1).shape == (2, 4)
    assert tg.concatenate([a, b], dim=1).shape == (2, 4)
    joined.sum().backward()
    np.testing.assert_array_equal(a.grad.data, np.ones((2, 3)))
    assert tg.stack([a, a], dim=2).shape == (2, 3, 2)
    assert tg.stack([a, a]).shape == (2, 2, 3)
    with pytest.raises(TypeError, match=r"cat: got both axis=0 and dim=1"):
        tg.cat([a, b], 1, axis=0)
    with pytest.raises(TypeError, match=r"stack: got both axis=0 and dim=1"):
        tg.stack([a, a], axis=0, dim=1)

"""tinygrad_dl/ops/indexing.py: sort, topk, partition, take, gather, scatter, masked_fill.

Values and gradients against PyTorch (skipped, visibly, without it), gradients against central
differences, second derivatives with gradgradcheck, and the errors for bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.ops import indexing
from tinygrad_dl.testing import check_gradient, float_arrays, shapes, weighted_sum


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip(
        "torch", reason="torch is the optional differential peer: pip install torch"
    )


def assert_same_as_torch(torch, ours, theirs, *arrays, outputs=1):
    """Run ``ours`` on Tensors and ``theirs`` on torch tensors; compare values and gradients."""
    mine = [tg.Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    peer = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out_mine, out_peer = ours(*mine), theirs(*peer)
    if outputs == 1:
        out_mine, out_peer = (out_mine,), (out_peer,)
    for a, b in zip(out_mine, out_peer):
        np.testing.assert_allclose(a.data, b.detach().numpy(), rtol=1e-12, atol=1e-12)
    weighted_sum(out_mine[0]).backward()
    weighted_sum(out_peer[0]).backward()
    for position, (a, b) in enumerate(zip(mine, peer)):
        expected = np.zeros(a.shape) if b.grad is None else b.grad.numpy()
        got = np.zeros(a.shape) if a.grad is None else a.grad.data
        np.testing.assert_allclose(
            got, expected, rtol=1e-12, atol=1e-12, err_msg=f"input {position}"
        )


@st.composite
def array_and_axis(draw, min_dims=1, **options):
    shape = draw(shapes(min_dims=min_dims, max_dims=3))
    values = draw(float_arrays(shape, distinct=True, **options))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    return values, axis


# -- sort, argsort, topk, partition ------------------------------------------------------------
def test_np_sort_keeps_the_graph_regression():
    # np.sort used to return a Tensor with no graph, so this gave [1, 2, 3].
    x = tg.Tensor([3.0, 1.0, 2.0], requires_grad=True)
    (np.sort(x) * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 5.0, 4.0])


@given(array_and_axis(), st.booleans())
def test_sort_values_indices_and_gradient_match_torch(torch, case, descending):
    values, axis = case
    assert_same_as_torch(
        torch,
        lambda x: indexing.sort(x, axis, descending=descending),
        lambda x: torch.sort(x, dim=axis, descending=descending),
        values,
        outputs=2,
    )


@given(array_and_axis())
def test_sort_gradient_matches_central_differences(case):
    values, axis = case
    assert check_gradient(lambda x: indexing.sort(x, axis)[0], values)


def test_sort_second_derivative_by_gradgradcheck():
    x = tg.Tensor([0.3, -1.2, 2.0, 0.7], requires_grad=True)
    assert tg.gradgradcheck(lambda t: indexing.sort(t)[0] ** 3, [x])


def test_sort_axis_none_flattens_and_argsort_is_outside_the_graph():
    x = tg.Tensor([[3.0, 1.0], [0.0, 2.0]], requires_grad=True)
    values, indices = indexing.sort(x, axis=None)
    np.testing.assert_array_equal(values.data, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(indices.data, [2, 1, 3, 0])
    order = indexing.argsort(x, axis=1)
    assert order.dtype == np.int64 and not order.requires_grad
    np.testing.assert_array_equal(order.data, [[1, 0], [0, 1]])


@given(array_and_axis(), st.booleans(), st.data())
def test_topk_values_indices_and_gradient_match_torch(torch, case, largest, data):
    values, axis = case
    k = data.draw(st.integers(0, values.shape[axis]))
    assert_same_as_torch(
        torch,
        lambda x: indexing.topk(x, k, axis, largest=largest),
        lambda x: torch.topk(x, k, dim=axis, largest=largest),
        values,
        outputs=2,
    )


def test_topk_with_k_too_large_names_k_and_the_axis():
    with pytest.raises(ValueError, match=r"topk: k=4 is out of range for axis 1 of size 3"):
        indexing.topk(tg.Tensor(np.ones((2, 3))), 4, 1)


@given(array_and_axis(), st.data())
def test_partition_matches_numpy_and_central_differences(case, data):
    values, axis = case
    kth = data.draw(st.integers(0, values.shape[axis] - 1))
    out = np.partition(tg.Tensor(values), kth, axis=axis)
    np.testing.assert_array_equal(
        np.take(out.data, kth, axis=axis), np.take(np.sort(values, axis=axis), kth, axis=axis)
    )
    assert check_gradient(lambda x: indexing.partition(x, kth, axis), values)


# -- take, take_along_axis, gather, index_select -----------------------------------------------
def test_take_repeats_accumulate_and_axis_none_flattens():
    x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    np.take(x, [3, 3, -4]).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0], [0.0, 2.0]])


@given(array_and_axis(), st.data())
def test_take_along_an_axis_matches_numpy_and_central_differences(case, data):
    values, axis = case
    size = values.shape[axis]
    positions = np.array(data.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=5)))
    out = np.take(tg.Tensor(values), positions, axis=axis)
    np.testing.assert_array_equal(out.data, np.take(values, positions, axis=axis))
    assert check_gradient(lambda x: indexing.take(x, positions, axis), values)


def test_take_out_of_bounds_names_the_index_axis_and_shape():
    with pytest.raises(IndexError, match=r"take: index 5 is out of bounds for axis 1 with size 3"):
        indexing.take(tg.Tensor(np.ones((2, 3))), [5], axis=1)


@given(array_and_axis(), st.data())
def test_gather_and_take_along_axis_match_torch_and_numpy(torch, case, data):
    values, axis = case
    size = values.shape[axis]
    index_shape = list(values.shape)
    index_shape[axis] = data.draw(st.integers(1, 4))
    positions = np.random.default_rng(data.draw(st.integers(0, 99))).integers(0, size, index_shape)
    assert_same_as_torch(
        torch,
        lambda x: indexing.gather(x, axis, positions),
        lambda x: torch.gather(x, axis, torch.as_tensor(positions)),
        values,
    )
    out = np.take_along_axis(tg.Tensor(values), positions, axis=axis)
    np.testing.assert_array_equal(out.data, np.take_along_axis(values, positions, axis=axis))
    assert check_gradient(lambda x: indexing.take_along_axis(x, positions, axis), values)


def test_gather_second_derivative_by_gradgradcheck():
    x = tg.Tensor([[0.3, -1.2, 2.0], [0.5, 0.1, -0.4]], requires_grad=True)
    index = np.array([[2, 2], [0, 1]])
    assert tg.gradgradcheck(lambda t: indexing.gather(t, 1, index) ** 2, [x])


def test_gather_with_a_larger_or_lower_rank_index_is_refused():
    x = tg.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"gather: index must have as many axes"):
        indexing.gather(x, 1, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"gather: index shape \(3, 1\) is larger"):
        indexing.gather(x, 1, np.zeros((3, 1), dtype=int))
    with pytest.raises(TypeError, match=r"gather: indices must be integers, got dtype float64"):
        indexing.gather(x, 1, np.zeros((2, 1)))


@given(array_and_axis(), st.data())
def test_index_select_matches_torch(torch, case, data):
    values, axis = case
    size = values.shape[axis]
    positions = np.array(data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=5)))
    assert_same_as_torch(
        torch,
        lambda x: indexing.index_select(x, axis, positions),
        lambda x: torch.index_select(x, axis, torch.as_tensor(positions)),
        values,
    )


# -- put_along_axis, scatter, scatter_add, masked_fill -----------------------------------------
@given(array_and_axis(), st.data())
def test_scatter_and_scatter_add_match_torch(torch, case, data):
    values, axis = case
    size = values.shape[axis]
    index_shape = [data.draw(st.integers(1, n)) for n in values.shape]
    index_shape[axis] = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 99)))
    positions = rng.integers(0, size, index_shape)
    source = rng.uniform(-2, 2, index_shape)
    assert_same_as_torch(
        torch,
        lambda x, s: indexing.scatter_add(x, axis, positions, s),
        lambda x, s: torch.scatter_add(x, axis, torch.as_tensor(positions), s),
        values,
        source,
    )
    # scatter with repeated positions is nondeterministic in PyTorch: use distinct ones there
    unique = np.argsort(rng.random(values.shape), axis=axis)
    unique = np.take(unique, np.arange(min(size, index_shape[axis])), axis=axis)
    unique = unique[tuple(slice(0, n) for n in index_shape)]
    source = source[tuple(slice(0, n) for n in unique.shape)]
    assert_same_as_torch(
        torch,
        lambda x, s: indexing.scatter(x, axis, unique, s),
        lambda x, s: torch.scatter(x, axis, torch.as_tensor(unique), s),
        values,
        source,
    )


def test_put_along_axis_is_out_of_place_and_the_last_written_value_gets_the_gradient():
    x = tg.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    v = tg.Tensor([[10.0, 20.0]], requires_grad=True)
    out = indexing.put_along_axis(x, np.array([[1, 1]]), v, axis=1)
    np.testing.assert_array_equal(out.data, [[1.0, 20.0, 3.0]])
    np.testing.assert_array_equal(x.data, [[1.0, 2.0, 3.0]])  # unchanged
    (out * tg.Tensor([[1.0, 2.0, 3.0]])).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [[1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(v.grad.data, [[0.0, 2.0]])


def test_put_along_axis_and_scatter_add_gradients_match_central_differences():
    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.2, -0.3]])
    index = np.array([[2, 0], [1, 1]])
    source = np.array([[0.7, -0.2], [1.1, 0.4]])
    assert check_gradient(lambda a, s: indexing.put_along_axis(a, index, s, 1), x, source)
    assert check_gradient(lambda a, s: indexing.scatter_add(a, 1, index, s), x, source)
    assert tg.gradgradcheck(
        lambda a, s: indexing.scatter_add(a, 1, index, s) ** 2,
        [tg.Tensor(x, requires_grad=True), tg.Tensor(source, requires_grad=True)],
    )


def test_np_put_along_axis_writes_in_place_where_no_graph_can_break_and_refuses_otherwise():
    plain = tg.Tensor([[1.0, 2.0, 3.0]])
    assert np.put_along_axis(plain, np.array([[0]]), 9.0, axis=1) is None
    np.testing.assert_array_equal(plain.data, [[9.0, 2.0, 3.0]])
    leaf = tg.Tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"np.put_along_axis changes a Tensor in place"):
        np.put_along_axis(leaf, np.array([[0]]), 9.0, axis=1)


@given(float_arrays(shapes(min_dims=1, max_dims=3)), st.integers(0, 99))
def test_masked_fill_matches_torch(torch, values, seed):
    mask = np.random.default_rng(seed).random(values.shape) < 0.5
    assert_same_as_torch(
        torch,
        lambda x: indexing.masked_fill(x, mask, -1.5),
        lambda x: x.masked_fill(torch.as_tensor(mask), -1.5),
        values,
    )


def test_masked_fill_refuses_a_non_boolean_or_unbroadcastable_mask():
    x = tg.Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=r"masked_fill: mask must be boolean, got dtype int64"):
        indexing.masked_fill(x, np.ones((2, 3), dtype=np.int64), 0.0)
    with pytest.raises(ValueError, match=r"mask of shape \(3, 3\) does not broadcast"):
        indexing.masked_fill(x, np.ones((3, 3), dtype=bool), 0.0)


def test_every_indexing_op_has_a_rule_and_a_name_in_grad_fn():
    x = tg.Tensor([3.0, 1.0, 2.0], requires_grad=True)
    assert repr(indexing.sort(x)[0].grad_fn) == "<sort>"
    assert repr(indexing.topk(x, 2)[0].grad_fn) == "<topk>"
    for op in (indexing.SORT, indexing.TOPK, indexing.PUT_ALONG_AXIS, indexing.SCATTER_ADD):
        assert op.rule


# -- the same NumPy code under HIPS autograd ---------------------------------------------------
@given(float_arrays(shapes(min_dims=1, max_dims=1, max_side=6), distinct=True), st.data())
def test_np_sort_and_np_partition_gradients_match_hips_autograd(values, data):
    # autograd differentiates sort and partition of 1-d arrays only
    autograd = pytest.importorskip("autograd", reason="HIPS autograd is an optional peer")
    anp = autograd.numpy
    kth = data.draw(st.integers(0, values.shape[0] - 1))
    weights = np.random.default_rng(0).uniform(-1.5, 1.5, values.shape)

    def cost(numpy, x):  # written once, run by NumPy on a Tensor and by autograd.numpy
        return (numpy.sort(x) * weights).sum() + (numpy.partition(x, kth) ** 2 * weights).sum()

    expected = autograd.grad(lambda x: cost(anp, x))(values)
    x = tg.Tensor(values, requires_grad=True)
    cost(np, x).backward()
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12, atol=1e-12)


# -- every selecting and scattering op in one table (tests/test_backend.py runs it on other
# array libraries too) ---------------------------------------------------------------------------
INDEXING = {
    "sort axis 0": lambda x: indexing.sort(x, axis=0).values,
    "sort descending": lambda x: indexing.sort(x, descending=True).values,
    "argsort as weights": lambda x: x * indexing.argsort(x, axis=1).astype(np.float64),
    "topk": lambda x: indexing.topk(x, 2, axis=1).values,
    "topk smallest axis 0": lambda x: indexing.topk(x, 2, axis=0, largest=False).values,
    "take flat": lambda x: indexing.take(x, np.array([[0, 5], [5, 11]])),
    "take axis 1": lambda x: indexing.take(x, np.array([3, 0, 3]), axis=1),
    "take_along_axis": lambda x: indexing.take_along_axis(x, np.array([[0, 3], [1, 1], [2, 0]]), 1),
    "gather": lambda x: indexing.gather(x, 0, np.array([[0, 2, 2, 1]])),
    "index_select": lambda x: indexing.index_select(x, 1, np.array([2, 2, 0])),
    "scatter, last write wins": lambda x: indexing.scatter(
        x, 1, np.array([[0, 1], [3, 3], [2, 0]]), x[:, 1:3] * 2.0
    ),
    "scatter_add": lambda x: indexing.scatter_add(
        x, 1, np.array([[0, 0], [3, 1], [2, 2]]), x[:, 1:3] * 3.0
    ),
    "put_along_axis": lambda x: indexing.put_along_axis(x, np.array([[1], [0], [3]]), 5.0, 1),
    "masked_fill": lambda x: indexing.masked_fill(x, np.array([[True, False, True, False]]), 2.0),
    "getitem integer array": lambda x: x[np.array([0, 0, 2])],
    "getitem 2-d integer array": lambda x: x[np.array([[0, 2], [2, 2]])],
}


@pytest.mark.parametrize("name", sorted(INDEXING))
def test_indexing_table_gradients_match_central_differences(name):
    x = np.random.default_rng(11).permutation(12).reshape(3, 4) * 0.1 + 0.05
    assert check_gradient(INDEXING[name], x)

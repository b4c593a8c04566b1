"""tinygrad_dl/tensor.py's PyTorch surface: each method run by the same lambda on a Tensor and
on a torch tensor (tinygrad's "same lambda, two frameworks"), values and gradients compared;
and the two dialects (axis=/keepdims= and dim=/keepdim=) with their errors."""

import numpy as np
import pytest
from hypothesis import given, settings

import tinygrad_dl as tg
from tinygrad_dl.testing import float_arrays, weighted_sum

torch = pytest.importorskip(
    "torch", reason="torch is the optional differential peer: pip install torch"
)

INDEX = np.array([[[0, 3, 1, 1], [2, 2, 0, 3], [1, 0, 3, 2]]] * 2)[:, :, :2]  # (2, 3, 2)
SOURCE = np.linspace(-1.0, 1.0, 12).reshape(2, 3, 2)
ROWS = np.array([2, 0, 2])

# name -> lambda(x, T): x is a (2, 3, 4) float64 tensor that requires grad; T makes a tensor of
# the same framework from an ndarray. The values stay away from 0 and from +-0.5 (kinks).
CASES = {
    "numel": lambda x, T: x.numel(),
    "dim": lambda x, T: x.dim(),
    "ndimension": lambda x, T: x.ndimension(),
    "t": lambda x, T: x[0].t(),
    "view": lambda x, T: x.view(6, 4),
    "view_flat": lambda x, T: x.view(-1),
    "view_as": lambda x, T: x.view_as(T(np.zeros((4, 6)))),
    "reshape_as": lambda x, T: x.reshape_as(T(np.zeros((3, 8)))),
    "unsqueeze": lambda x, T: x.unsqueeze(1),
    "squeeze_dim_of_one": lambda x, T: x.unsqueeze(2).squeeze(2),
    "squeeze_dim_not_one": lambda x, T: x.squeeze(1),
    "permute": lambda x, T: x.permute(2, 0, 1),
    "transpose_two_dims": lambda x, T: x.transpose(1, 2),
    "expand": lambda x, T: x[:, :1, :].expand(2, 5, -1),
    "expand_new_axis": lambda x, T: x[0].expand(3, 3, 4),
    "expand_as": lambda x, T: x[:1].expand_as(T(np.zeros((4, 3, 4)))),
    "repeat": lambda x, T: x.repeat(2, 1, 3),
    "repeat_more_axes": lambda x, T: x.repeat(2, 1, 1, 2),
    "flatten": lambda x, T: x.flatten(),
    "flatten_from": lambda x, T: x.flatten(1),
    "flatten_range": lambda x, T: x.flatten(0, 1),
    "unflatten": lambda x, T: x.unflatten(2, (2, 2)),
    "clone": lambda x, T: x.clone(),
    "new_zeros": lambda x, T: x.new_zeros(2, 3),
    "new_ones": lambda x, T: x.new_ones((4,)),
    "new_full": lambda x, T: x.new_full((2, 2), 1.5),
    "new_tensor": lambda x, T: x.new_tensor([1, 2, 3]),
    "new_zeros_requires_grad": lambda x, T: x.new_zeros(3, requires_grad=True) * 2,
    "any": lambda x, T: (x > 1).any(),
    "any_dim": lambda x, T: (x > 1).any(dim=1),
    "all_dim_keepdim": lambda x, T: (x > -1).all(dim=2, keepdim=True),
    "ravel": lambda x, T: x.ravel(),
    "flip": lambda x, T: x.flip(0),
    "flip_dims": lambda x, T: x.flip(dims=(0, 2)),
    "roll": lambda x, T: x.roll(1, 2),
    "roll_flat": lambda x, T: x.roll(5),
    "repeat_interleave": lambda x, T: x.repeat_interleave(2, dim=1),
    "tile": lambda x, T: x.tile((2, 1, 1)),
    "movedim": lambda x, T: x.movedim(0, 2),
    "diagonal": lambda x, T: x.diagonal(0, 1, 2),
    "trace": lambda x, T: x[0].trace(),
    "tril": lambda x, T: x[0].tril(),
    "triu": lambda x, T: x[1].triu(1),
    "diff": lambda x, T: x.diff(dim=1),
    "take_along_dim": lambda x, T: x.take_along_dim(T(INDEX), dim=2),
    "contiguous": lambda x, T: x.contiguous(),
    "float": lambda x, T: x.float(),
    "double": lambda x, T: x.double(),
    "half": lambda x, T: x.half(),
    "int": lambda x, T: x.int(),
    "long": lambda x, T: x.long(),
    "bool": lambda x, T: x.bool(),
    "to_cpu": lambda x, T: x.to("cpu"),
    "cpu": lambda x, T: x.cpu(),
    "type_as": lambda x, T: x.type_as(T(np.zeros(2, dtype=np.float32))),
    "pow": lambda x, T: x.abs().pow(1.5),
    "pow_tensor": lambda x, T: x.abs().pow(x),
    "clamp": lambda x, T: x.clamp(-0.5, 0.5),
    "clamp_min_keyword": lambda x, T: x.clamp(min=-0.5),
    "clamp_min": lambda x, T: x.clamp_min(0.5),
    "clamp_max": lambda x, T: x.clamp_max(-0.5),
    "abs": lambda x, T: x.abs(),
    "neg": lambda x, T: x.neg(),
    "reciprocal": lambda x, T: x.reciprocal(),
    "rsqrt": lambda x, T: x.abs().rsqrt(),
    "masked_fill": lambda x, T: x.masked_fill(x > 0, 0.25),
    "sign": lambda x, T: x.sign(),
    "floor": lambda x, T: (x * 3).floor(),
    "ceil": lambda x, T: (x * 3).ceil(),
    "trunc": lambda x, T: (x * 3).trunc(),
    "round": lambda x, T: (x * 3).round(),
    "log2": lambda x, T: x.abs().log2(),
    "log10": lambda x, T: x.abs().log10(),
    "exp2": lambda x, T: x.exp2(),
    "expm1": lambda x, T: x.expm1(),
    "tan": lambda x, T: (x * 0.3).tan(),
    "sinh": lambda x, T: x.sinh(),
    "cosh": lambda x, T: x.cosh(),
    "asin": lambda x, T: (x * 0.2).asin(),
    "acos": lambda x, T: (x * 0.2).acos(),
    "atan": lambda x, T: x.atan(),
    "prod_dim": lambda x, T: x.prod(dim=1),
    "prod_all": lambda x, T: x.prod(),
    "cumprod": lambda x, T: x.cumprod(dim=2),
    "where": lambda x, T: x.where(x > 0, 0.25),
    "eq": lambda x, T: x.eq(x[0]),
    "ne": lambda x, T: x.ne(0.0),
    "lt": lambda x, T: x.lt(0.0),
    "le": lambda x, T: x.le(x[1]),
    "gt": lambda x, T: x.gt(0.0),
    "ge": lambda x, T: x.ge(0.0),
    "allclose": lambda x, T: x.allclose(x * 1.0),
    "topk": lambda x, T: x.topk(2, dim=1),
    "topk_smallest": lambda x, T: x.topk(3, largest=False),
    "sort": lambda x, T: x.sort(dim=1, descending=True),
    "sort_default": lambda x, T: x.sort(),
    "argsort": lambda x, T: x.argsort(dim=2),
    "mm": lambda x, T: x[0].mm(x[1].t()),
    "bmm": lambda x, T: x.bmm(x.transpose(1, 2)),
    "matmul": lambda x, T: x.matmul(x[0].t()),
    "norm": lambda x, T: x.norm(),
    "norm_dim": lambda x, T: x.norm(dim=1),
    "norm_p1": lambda x, T: x.norm(p=1, dim=2, keepdim=True),
    "norm_inf": lambda x, T: x.norm(p=float("inf")),
    "norm_p3": lambda x, T: x.norm(p=3, dim=(0, 2)),
    "std_dim": lambda x, T: x.std(dim=1),
    "std_unbiased_false": lambda x, T: x.std(dim=(0, 2), unbiased=False),
    "var_dim_keepdim": lambda x, T: x.var(dim=2, keepdim=True),
    "var_correction": lambda x, T: x.var(dim=1, correction=0),
    "sum_dim": lambda x, T: x.sum(dim=1, keepdim=True),
    "sum_dims": lambda x, T: x.sum(dim=(0, 2)),
    "mean_dim": lambda x, T: x.mean(dim=-1),
    "max_dim": lambda x, T: x.max(dim=1),
    "min_dim_keepdim": lambda x, T: x.min(dim=2, keepdim=True),
    "max_all": lambda x, T: x.max(),
    "argmax_dim": lambda x, T: x.argmax(dim=1),
    "argmin_dim_keepdim": lambda x, T: x.argmin(dim=2, keepdim=True),
    "logsumexp": lambda x, T: x.logsumexp(dim=1),
    "softmax": lambda x, T: x.softmax(dim=1),
    "log_softmax": lambda x, T: x.log_softmax(dim=-1),
    "chunk": lambda x, T: x.chunk(3, dim=2),
    "chunk_uneven": lambda x, T: x.chunk(2, dim=1),
    "split_size": lambda x, T: x.split(3, dim=2),
    "split_sizes": lambda x, T: x.split([1, 3], dim=2),
    "narrow": lambda x, T: x.narrow(2, 1, 2),
    "index_select": lambda x, T: x.index_select(1, T(ROWS)),
    "gather": lambda x, T: x.gather(2, T(INDEX)),
    "scatter": lambda x, T: x.scatter(1, T(INDEX[:, :1, :] % 3), T(SOURCE[:, :1, :])),
    "scatter_value": lambda x, T: x.scatter(2, T(INDEX[:, :, :1]), value=1.5),
    "scatter_add": lambda x, T: x.scatter_add(2, T(INDEX), T(SOURCE)),
}


def _as_ours(array):
    return tg.Tensor(array)


def _as_torch(array):
    return torch.as_tensor(array)


def _leaves(structure):
    if isinstance(structure, (tuple, list)):
        return [leaf for part in structure for leaf in _leaves(part)]
    return [structure]


def _run(name, array):
    ours = tg.Tensor(array.copy(), requires_grad=True)
    theirs = torch.tensor(array.copy(), requires_grad=True)
    return ours, CASES[name](ours, _as_ours), theirs, CASES[name](theirs, _as_torch)


def _assert_matches_torch(name, array):
    ours, out_ours, theirs, out_theirs = _run(name, array)
    leaves_ours, leaves_theirs = _leaves(out_ours), _leaves(out_theirs)
    assert len(leaves_ours) == len(leaves_theirs), name
    float_outputs = []
    for mine, peer in zip(leaves_ours, leaves_theirs):
        if not isinstance(peer, torch.Tensor):
            assert mine == peer and type(mine) is type(peer), (name, mine, peer)
            continue
        expected = peer.detach().numpy()
        assert mine.shape == expected.shape, (name, mine.shape, expected.shape)
        assert mine.dtype == expected.dtype, (name, mine.dtype, expected.dtype)
        tolerance = 1e-3 if expected.dtype == np.float16 else 1e-6
        np.testing.assert_allclose(mine.data, expected, rtol=tolerance, atol=tolerance)
        assert mine.requires_grad == peer.requires_grad, (name, "requires_grad")
        if peer.requires_grad:
            float_outputs.append((mine, peer))
    if not float_outputs:
        return
    total_ours = sum(
        weighted_sum(m.astype(np.float64), seed=i) for i, (m, _) in enumerate(float_outputs)
    )
    total_theirs = sum(weighted_sum(p.double(), seed=i) for i, (_, p) in enumerate(float_outputs))
    total_ours.backward()
    total_theirs.backward()
    expected = theirs.grad.numpy() if theirs.grad is not None else np.zeros(array.shape)
    got = ours.grad.data if ours.grad is not None else np.zeros(array.shape)
    tolerance = 1e-2 if any(p.dtype == torch.float16 for _, p in float_outputs) else 1e-5
    np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance, err_msg=name)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=5)
@given(values=float_arrays((2, 3, 4), away_from=[0.0, 0.5, -0.5], distinct=True, margin=0.05))
def test_method_matches_torch_in_value_dtype_and_gradient(name, values):
    _assert_matches_torch(name, values)


# -- the two dialects ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.sum(axis=1, dim=1),
        lambda x: x.mean(keepdims=True, keepdim=True),
        lambda x: x.max(axis=0, dim=0),
        lambda x: x.var(axis=0, dim=0),
        lambda x: x.std(ddof=1, correction=1),
        lambda x: x.var(unbiased=True, correction=1),
        lambda x: x.softmax(axis=0, dim=0),
        lambda x: x.argmax(axis=0, dim=0),
        lambda x: x.expand_dims(axis=0, dim=0),
        lambda x: x.squeeze(axis=0, dim=0),
        lambda x: x.sort(axis=0, dim=0),
        lambda x: tg.sum(x, axis=0, dim=0),
        lambda x: tg.mean(x, keepdims=True, keepdim=False),
    ],
)
def test_both_dialects_at_once_is_a_type_error_naming_the_op(call):
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(TypeError) as error:
        call(x)
    message = str(error.value)
    assert "<lambda>" not in message and "_attach" not in message
    assert "pass one" in message, message


def test_unknown_keyword_names_the_method_not_an_internal_function():
    with pytest.raises(TypeError, match=r"sum\(\) got an unexpected keyword argument 'dims'") as e:
        tg.Tensor(np.ones(3)).sum(dims=0)
    assert "<lambda>" not in str(e.value)


@pytest.mark.parametrize(
    "name", ["sum", "mean", "max", "min", "logsumexp", "argmax", "argmin", "var", "std"]
)
def test_functions_accept_dim_and_keepdim_as_well(name):
    values = np.arange(6.0).reshape(2, 3)
    numpy_style = getattr(tg, name)(tg.Tensor(values), axis=1, keepdims=True)
    torch_style = getattr(tg, name)(tg.Tensor(values), dim=1, keepdim=True)
    if name in ("max", "min"):  # PyTorch's dim= gives (values, indices)
        torch_style = torch_style.values
    if name in ("var", "std"):  # PyTorch's dim= brings PyTorch's default correction=1
        numpy_style = getattr(tg, name)(tg.Tensor(values), axis=1, keepdims=True, ddof=1)
    np.testing.assert_allclose(torch_style.data, numpy_style.data)


def test_numpy_defaults_stay_when_no_torch_keyword_is_given():
    values = np.array([[1.0, 2.0, 4.0], [0.0, 3.0, 9.0]])
    x = tg.Tensor(values)
    np.testing.assert_allclose(x.std().data, values.std())  # ddof=0, NumPy's
    np.testing.assert_allclose(x.max(1).data, values.max(1))  # values only, NumPy's
    np.testing.assert_allclose(x.var(1).data, values.var(1))
    np.testing.assert_array_equal(x.transpose(0, 1).data, values)  # NumPy: identity on 2-d
    np.testing.assert_array_equal(x.transpose(dim0=0, dim1=1).data, values.T)
    assert x.size == 6 and x.shape == (2, 3)  # size stays NumPy's attribute


def test_max_with_dim_sends_the_gradient_to_the_returned_index_as_torch():
    values = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])  # ties
    x, peer = tg.Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    x.max(dim=1).values.sum().backward()
    peer.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.data, peer.grad.numpy())


def test_to_casts_with_numpy_dtypes_and_refuses_unknown_devices():
    x = tg.Tensor(np.ones(3), requires_grad=True)
    assert x.to(np.float32).dtype == np.float32
    assert x.to(dtype="float16").dtype == np.float16
    assert x.to("cpu") is x
    assert x.to(tg.Tensor(np.ones(2, dtype=np.int64))).dtype == np.int64
    assert x.to(torch.float32).dtype == np.float32 and x.to(dtype=torch.int64).dtype == np.int64
    with pytest.raises(ValueError, match=r"unknown device 'mps'"):
        x.to("mps")


def test_in_place_methods_on_leaves_under_no_grad_match_torch():
    values = np.array([1.0, -2.0, 3.0])
    x, peer = tg.Tensor(values.copy(), requires_grad=True), torch.tensor(values.copy())
    peer.requires_grad_(True)
    with tg.no_grad(), torch.no_grad():
        for mine, theirs in ((x, peer),):
            mine.add_(1.0).mul_(2.0).sub_(tg.Tensor([1.0, 1.0, 1.0]), alpha=0.5).div_(4.0)
            theirs.add_(1.0).mul_(2.0).sub_(torch.ones(3, dtype=torch.float64), alpha=0.5)
            theirs.div_(4.0)
    np.testing.assert_allclose(x.data, peer.detach().numpy())
    assert x.is_leaf and x.requires_grad
    with pytest.raises(RuntimeError, match=r"add_: in-place change of a tensor that requires"):
        x.add_(1.0)
    y = tg.Tensor(values.copy())
    assert y.zero_() is y and y.tolist() == [0.0, 0.0, 0.0]
    assert y.fill_(2.5).tolist() == [2.5, 2.5, 2.5]
    z = tg.Tensor([0.5]).requires_grad_()
    assert z.requires_grad and z.item() == 0.5


def test_shape_methods_name_the_op_and_shapes_in_their_errors():
    x = tg.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"permute: got 3 dims"):
        x.permute(0, 1, 2)
    with pytest.raises(ValueError, match=r"mm: expects two tensors with 2 axes"):
        x.mm(tg.Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"split: sizes \[1, 1\] sum to 2, but axis 1"):
        x.split([1, 1], dim=1)
    with pytest.raises(ValueError, match=r"narrow: start 2 and length 2 do not fit"):
        x.narrow(1, 2, 2)
    with pytest.raises(ValueError, match=r"repeat: 1 repeats"):
        x.repeat(2)
    with pytest.raises(ValueError, match=r"clamp: at least one of min and max"):
        x.clamp()


def test_inference_mode_records_nothing_as_a_context_and_as_a_decorator():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with tg.inference_mode():
        assert not (x * 2).requires_grad
    with tg.inference_mode(False):
        assert (x * 2).requires_grad

    @tg.inference_mode()
    def predict(t):
        return t * 2

    assert not predict(x).requires_grad and (x * 2).requires_grad


@pytest.mark.skipif(
    not hasattr(tg.ops.reduce, "cumsum"),
    reason="ops.reduce.cumsum (numpy-elementwise's op) is not in this tree yet",
)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cumsum_with_dim_matches_torch(dim):
    values = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    ours = tg.Tensor(values, requires_grad=True)
    theirs = torch.tensor(values, requires_grad=True)
    out_ours, out_theirs = ours.cumsum(dim=dim), theirs.cumsum(dim=dim)
    np.testing.assert_allclose(out_ours.data, out_theirs.detach().numpy())
    weighted_sum(out_ours).backward()
    weighted_sum(out_theirs).backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy())


def test_package_functions_take_pytorch_keywords_as_torch_does():
    values = np.array([[3.0, -1.0, 2.0, 0.5], [0.0, 4.0, -2.0, 1.0]])
    x, peer = tg.Tensor(values), torch.tensor(values)
    pairs = [
        (tg.sort(x, dim=0, descending=True), torch.sort(peer, dim=0, descending=True)),
        (tg.topk(x, 2, dim=1), torch.topk(peer, 2, dim=1)),
        (tg.argsort(x, dim=1), torch.argsort(peer, dim=1)),
        (
            tg.gather(x, dim=1, index=np.array([[0], [3]])),
            torch.gather(peer, 1, torch.tensor([[0], [3]])),
        ),
        (
            tg.index_select(x, dim=1, index=np.array([2, 0])),
            torch.index_select(peer, 1, torch.tensor([2, 0])),
        ),
        (tg.split(x, 3, dim=1), torch.split(peer, 3, dim=1)),
        (tg.flip(x, dims=(1,)), torch.flip(peer, dims=(1,))),
        (tg.roll(x, shifts=1, dims=1), torch.roll(peer, shifts=1, dims=1)),
        (tg.repeat(x, 2, dim=0), torch.repeat_interleave(peer, 2, dim=0)),
        (tg.flatten(x[None], 1), torch.flatten(peer[None], 1)),
        (
            tg.scatter(x, 1, np.array([[1], [0]]), value=9.0),
            torch.scatter(peer, 1, torch.tensor([[1], [0]]), value=9.0),
        ),
    ]
    for ours, theirs in pairs:
        ours = ours if isinstance(ours, (tuple, list)) else [ours]
        theirs = theirs if isinstance(theirs, (tuple, list)) else [theirs]
        assert len(ours) == len(theirs)
        for mine, peer_part in zip(ours, theirs):
            np.testing.assert_array_equal(mine.data, peer_part.numpy())
    with pytest.raises(TypeError, match=r"sort: got both axis=0 and dim=1"):
        tg.sort(x, 0, dim=1)

"""PyTorch habits, written once and run on both frameworks (tinygrad's "same lambda" tests).

Each case is ``lambda lib, *xs``: ``lib`` is the ``torch`` module or ``tinygrad_dl`` (both have
``lib.nn.functional``, ``lib.cumsum``, ``lib.clamp``...), the ``xs`` are float64 tensors of that
framework that require grad. Values and the gradients of a fixed weighted sum are compared.
Covers ops/activations.py, the PyTorch-only functions of ops/dialect.py, the Tensor methods with
PyTorch's names (tensor.py) and nn/functional.py's conv_transpose2d, unfold, pixel_shuffle,
group_norm and cosine_similarity.
"""

import numpy as np
import pytest
from hypothesis import given

import tinygrad_dl as tg
from tinygrad_dl.testing import float_arrays, shapes, weighted_sum

torch = pytest.importorskip(
    "torch", reason="torch is the optional differential peer: pip install torch"
)


def _values(result):
    """The array(s) of a result: a tensor, a (values, indices) pair, a number or a string."""
    if isinstance(result, tuple):
        return [_values(r) for r in result]
    if isinstance(result, torch.Tensor):
        return result.detach().numpy()
    if isinstance(result, tg.Tensor):
        return result.data
    return result


def _first_float(result):
    if isinstance(result, tuple):
        result = result[0]
    is_float = getattr(result, "dtype", None) in (torch.float64, np.float64)
    return result if is_float and result.requires_grad else None


def same_on_both(fn, *arrays, rtol=1e-7, atol=1e-9, grad=True):
    """Run ``fn(lib, *xs)`` on torch and on tinygrad_dl; compare values and gradients."""
    runs = []
    for lib, make in ((torch, torch.tensor), (tg, tg.Tensor)):
        leaves = [make(np.array(a, dtype=np.float64), requires_grad=grad) for a in arrays]
        result = fn(lib, *leaves)
        out = _first_float(result)
        if out is not None:
            weighted_sum(out).backward()
        grads = [None if t.grad is None else _values(t.grad) for t in leaves]
        runs.append((_values(result), grads))
    (theirs, their_grads), (ours, our_grads) = runs
    message = f"inputs {[np.asarray(a).tolist() for a in arrays]}"
    if isinstance(theirs, (list, np.ndarray)):
        for a, b in zip(
            ours if isinstance(theirs, list) else [ours],
            theirs if isinstance(theirs, list) else [theirs],
        ):
            assert np.shape(a) == np.shape(b), f"shape {np.shape(a)} != {np.shape(b)}; {message}"
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=message)
    else:
        assert ours == theirs, f"{ours!r} != {theirs!r}; {message}"
    for position, (a, b) in enumerate(zip(our_grads, their_grads)):
        if b is None:
            assert a is None or not np.any(a), f"input {position}: torch gives no gradient"
        else:
            assert a is not None, f"input {position}: no gradient here; {message}"
            np.testing.assert_allclose(
                a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {position}; {message}"
            )


RNG = np.random.default_rng(13)
X = RNG.standard_normal((3, 4, 5)) * 3  # spans every activation's kinks at -3, 0, 3, 6
Y = RNG.standard_normal((3, 4, 5))
M = RNG.standard_normal((4, 5))
IMG = RNG.standard_normal((2, 4, 5, 6))

F_CASES = {
    "celu": (lambda t, x: t.nn.functional.celu(x, alpha=0.7), X),
    "selu": (lambda t, x: t.nn.functional.selu(x), X),
    "logsigmoid": (lambda t, x: t.nn.functional.logsigmoid(x * 20), X),
    "hardsigmoid": (lambda t, x: t.nn.functional.hardsigmoid(x), X),
    "softsign": (lambda t, x: t.nn.functional.softsign(x), X),
    "relu6": (lambda t, x: t.nn.functional.relu6(x * 2), X),
    "hardswish": (lambda t, x: t.nn.functional.hardswish(x), X),
    "mish": (lambda t, x: t.nn.functional.mish(x), X),
    "gelu": (lambda t, x: t.nn.functional.gelu(x), X),
    "gelu_tanh": (lambda t, x: t.nn.functional.gelu(x, approximate="tanh"), X),
    "silu": (lambda t, x: t.nn.functional.silu(x), X),
    "elu": (lambda t, x: t.nn.functional.elu(x, alpha=0.5), X),
    "hardtanh": (lambda t, x: t.nn.functional.hardtanh(x, -2.0, 1.5), X),
    "conv_transpose2d": (
        lambda t, x, w: t.nn.functional.conv_transpose2d(
            x, w, stride=2, padding=1, output_padding=1
        ),
        IMG,
        RNG.standard_normal((4, 3, 3, 3)),
    ),
    "conv_transpose2d_groups_dilation_bias": (
        lambda t, x, w, b: t.nn.functional.conv_transpose2d(
            x, w, b, stride=(2, 1), padding=(0, 2), groups=2, dilation=(1, 2)
        ),
        IMG,
        RNG.standard_normal((4, 3, 2, 3)),
        RNG.standard_normal(6),
    ),
    "conv_transpose2d_unbatched": (
        lambda t, x, w: t.nn.functional.conv_transpose2d(x, w),
        IMG[0],
        RNG.standard_normal((4, 2, 2, 2)),
    ),
    "unfold": (
        lambda t, x: t.nn.functional.unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
        IMG,
    ),
    "pixel_shuffle": (lambda t, x: t.nn.functional.pixel_shuffle(x, 2), IMG),
    "group_norm": (
        lambda t, x, w, b: t.nn.functional.group_norm(x, 2, w, b),
        IMG,
        RNG.standard_normal(4),
        RNG.standard_normal(4),
    ),
    "cosine_similarity": (
        lambda t, x, y: t.nn.functional.cosine_similarity(x, y, dim=1),
        M,
        M[:1] * 2 + 1,
    ),
    "cosine_similarity_zero_vector": (
        lambda t, x, y: t.nn.functional.cosine_similarity(x * 0, y, dim=0),
        M,
        M,
    ),
    "interpolate_nearest_exact_down": (
        lambda t, x: t.nn.functional.interpolate(x, size=(3, 4), mode="nearest-exact"),
        IMG,
    ),
    "interpolate_nearest_exact_up_scale": (
        lambda t, x: t.nn.functional.interpolate(
            x[:, :, 0], scale_factor=2.5, mode="nearest-exact"
        ),
        IMG,
    ),
    "pad_reflect": (lambda t, x: t.nn.functional.pad(x, (1, 2, 3, 1), mode="reflect"), IMG),
    "pad_replicate": (lambda t, x: t.nn.functional.pad(x, (1, 2, 3, 4), mode="replicate"), IMG),
    "pad_circular": (lambda t, x: t.nn.functional.pad(x, (1, 2, 3, 4), mode="circular"), IMG),
    "pad_reflect_negative_reads_the_uncropped_edge": (
        lambda t, x: t.nn.functional.pad(x, (-1, 2, 2, -1), mode="reflect"),
        IMG,
    ),
    "pad_replicate_negative": (
        lambda t, x: t.nn.functional.pad(x, (3, -5, 1, -4), mode="replicate"),
        IMG,
    ),
    "pad_circular_negative": (
        lambda t, x: t.nn.functional.pad(x, (-1, 2, 2, -1), mode="circular"),
        IMG,
    ),
    "pad_value_negative": (lambda t, x: t.nn.functional.pad(x, (-1, 2, 1, -2), value=1.5), IMG),
}

TG_FUNCTION_CASES = {
    "cumsum": (lambda t, x: t.cumsum(x, 1), X),
    "cumsum_dim": (lambda t, x: t.cumsum(x, dim=-1), X),
    "cumprod": (lambda t, x: t.cumprod(x, dim=0), X),
    "clamp": (lambda t, x: t.clamp(x, -1, 2), X),
    "clamp_min_only": (lambda t, x: t.clamp(x, min=0.5), X),
    "std_mean": (lambda t, x: t.std_mean(x, 1)[0] + t.std_mean(x, 1)[1], X),
    "var_mean_keepdim": (lambda t, x: t.var_mean(x, (0, 2), keepdim=True, correction=0), X),
    "var_mean_all": (lambda t, x: t.var_mean(x)[0], X),
    "logcumsumexp": (lambda t, x: t.logcumsumexp(x * 100, 2), X),
    "cummax_values": (lambda t, x: t.cummax(x, 1).values, X),
    "cummax": (lambda t, x: t.cummax(x, 2), X),
    "cummin": (lambda t, x: t.cummin(x, 0), X),
    "lerp": (lambda t, x, y: t.lerp(x, y, 0.3), X, Y),
    "lerp_tensor_weight": (lambda t, x, y: t.lerp(x, y, y), X, Y),
    "logsumexp_dim": (lambda t, x: t.logsumexp(x, dim=1, keepdim=True), X),
    "where_scalars": (lambda t, x: t.where(x > 0, x, 2.0), X),
    "maximum": (lambda t, x, y: t.maximum(x, y), X, Y),
    "cat": (lambda t, x, y: t.cat([x, y], dim=1), X, Y),
    "einsum": (lambda t, x, y: t.einsum("ijk,ijk->ik", x, y), X, Y),
    "erf": (lambda t, x: t.erf(x), X),
    "isnan": (lambda t, x: t.isnan(t.log(x)), X),
    "isinf": (lambda t, x: t.isinf(x / 0.0), X),
    "isfinite": (lambda t, x: t.isfinite(t.log(x)), X),
    "einsum_operand_list": (lambda t, x, y: t.einsum("ijk,ijk->ik", [x, y]), X, Y),
    "std_mean_axis": (lambda t, x: t.stack(t.std_mean(x, axis=(1, 2))), X),
    "div_rounding": (lambda t, x, y: t.div(x, y, rounding_mode="floor"), X, Y),
    "pow": (lambda t, x, y: t.pow(x.abs() + 0.5, y), X, Y),
    "trig_names": (lambda t, x: t.asin(x / 10) + t.acos(x / 10) + t.atan(x) + t.atan2(x, x + 1), X),
    "hyperbolic_names": (lambda t, x: t.asinh(x) + t.atanh(x / 10) + t.acosh(x.abs() + 1.5), X),
    "numpy_names": (
        lambda t, x, y: t.log2(x.abs() + 1) + t.exp2(x / 4) + t.copysign(x, y) + t.logaddexp(x, y),
        X,
        Y,
    ),
    "sign_floor_ceil_trunc": (lambda t, x: t.sign(x) + t.floor(x) + t.ceil(x) + t.trunc(x), X),
    "logical": (
        lambda t, x, y: t.logical_xor(
            t.logical_and(x > 0, y > 0), t.logical_not(t.logical_or(x > 1, y < -1))
        ),
        X,
        Y,
    ),
    "rsqrt_reciprocal_prod": (
        lambda t, x: t.rsqrt(x.abs() + 1) + t.reciprocal(x + 20) + t.prod(x / 2, 1, keepdim=True),
        X,
    ),
    "permute_unsqueeze": (lambda t, x: t.unsqueeze(t.permute(x, (2, 0, 1)), 1), X),
    "isclose": (lambda t, x, y: t.isclose(x, x + y * 1e-9), X, Y),
    "nan_var_no_degrees_of_freedom": (lambda t, x: x[:, :1].var(dim=1, correction=1), X),
    "nan_var_correction_above_count": (lambda t, x: x.var(dim=1, correction=7), X),
    "nan_std_correction_above_count": (lambda t, x: x.std(dim=1, correction=7), X),
    "nan_var_zero_size_axes": (lambda t, x: x[:, :0].var(dim=(1, 2)), X),
    "scaled_dot_product_attention": (
        lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(q, k, v),
        X,
        Y,
        Y * 2,
    ),
    "scaled_dot_product_attention_causal_scale": (
        lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=True, scale=0.3
        ),
        X,
        Y[:, :4, :],
        Y,
    ),
    "scaled_dot_product_attention_bool_mask": (
        lambda t, q, k, v: t.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=t.tensor(np.tril(np.ones((4, 4), dtype=bool), 1))
        ),
        X,
        Y,
        Y,
    ),
}

METHOD_CASES = {
    "add_alpha": (lambda t, x, y: x.add(y, alpha=2.5), X, Y),
    "sub_alpha": (lambda t, x, y: x.sub(y, alpha=-0.5), X, Y),
    "mul": (lambda t, x, y: x.mul(y), X, Y),
    "div": (lambda t, x, y: x.div(y), X, Y),
    "div_floor": (lambda t, x, y: x.div(y, rounding_mode="floor"), X, Y),
    "div_trunc": (lambda t, x, y: x.div(y, rounding_mode="trunc"), X, Y),
    "div_trunc_ints": (
        lambda t, x, y: (x * 10).long().div((y * 3).long() + 100, rounding_mode="trunc"),
        X,
        Y,
    ),
    "div_floor_ints": (
        lambda t, x, y: (x * 10).long().div((y * 3).long() - 100, rounding_mode="floor"),
        X,
        Y,
    ),
    "erf": (lambda t, x: x.erf(), X),
    "gelu": (lambda t, x: x.gelu() if t is tg else t.nn.functional.gelu(x), X),
    "lerp": (lambda t, x, y: x.lerp(y, 0.25), X, Y),
    "isclose": (lambda t, x, y: x.isclose(x + y * 1e-9), X, Y),
    "cummax": (lambda t, x: x.cummax(0).values, X),
    "split_piece_size_positional": (
        lambda t, x: t.cat(x.split(2)[::-1], 0) + x.split(3, 2)[1].sum(),
        X,
    ),
    "split_sizes_positional": (lambda t, x: x.split([1, 3], 1)[1] * 2, X),
    "diag": (lambda t, x: x[0, 0].diag() + x[0, :, :4].diag().sum(), X),
    "tensor_of_ints_indexes": (
        lambda t, x: x.gather(2, t.tensor([[[1, 0], [4, 4], [0, 2], [3, 1]]] * 3)),
        X,
    ),
    "cummax_ties": (lambda t, x: x.round().cummax(2).indices, X),
    "cummin": (lambda t, x: x.cummin(dim=1), X),
    "logcumsumexp": (lambda t, x: x.logcumsumexp(1), X),
    "masked_select": (lambda t, x, y: x.masked_select(y[0] > 0), X, Y),
    "unfold": (lambda t, x: x.unfold(2, 2, 2), X),
    "unfold_overlapping": (lambda t, x: x.unfold(1, 3, 1), X),
    "outer": (lambda t, x, y: x[0, 0].outer(y[1, 1]), X, Y),
    "kron": (lambda t, x, y: x[0].kron(y[1, :2]), X, Y),
    "cross_dim": (lambda t, x, y: x[:, :3].cross(y[:, :3], dim=1), X, Y),
    "cross_default_dim": (lambda t, x, y: x[:3].cross(y[:3]), X, Y),
    "bitwise": (
        lambda t, x, y: (x > 0).bitwise_and(y > 0).bitwise_or((x < -1).bitwise_not()),
        X,
        Y,
    ),
    "bitwise_xor_ints": (lambda t, x, y: (x * 5).long().bitwise_xor((y * 5).long()), X, Y),
    "shifts": (lambda t, x: ((x.abs() * 5).long() << 2) + ((x.abs() * 50).long() >> 1), X),
    "type_cast": (
        lambda t, x: x.type(t.float32).double() if t is torch else x.type("float32").double(),
        X,
    ),
    "sort_namedtuple": (lambda t, x: x.sort(1, True).values * x.sort(1).indices, X),
    "topk_namedtuple": (lambda t, x: x.topk(2).values + x.topk(2, dim=0).indices.sum(), X),
    "sum_dtype": (
        lambda t, x: x.float().sum(dtype=t.float64) + x.float().mean(1, dtype=t.float64).sum(),
        X,
    ),
    "sum_mixed_spellings": (lambda t, x: x.sum(axis=1, keepdim=True), X),
    "var_correction": (lambda t, x: x.var(correction=5), X),
    "std_list_of_dims": (lambda t, x: x.std([1, 2]), X),
    "mean_zero_size_axes": (lambda t, x: x.reshape(1, 0, 3, 0, 5).mean(axis=(1, 3)), np.zeros(0)),
    "scalar_sum_dim0": (lambda t, x: x[0, 0, 0].sum(0) + x[0, 0, 1].mean(-1), X),
    "scalar_softmax": (lambda t, x: x[0, 0, 0].softmax(0) + x[0, 0, 1].log_softmax(-1), X),
    "argmax_keepdim": (lambda t, x: x.argmax(1, keepdim=True), X),
    "max_of_bool": (lambda t, x: (x > 0).max(), X),
    "max_of_int": (lambda t, x: (x * 10).long().max(), X),
    "remainder_mixed": (lambda t, x: (x * 10).long() % 3 + x % -1.5, X),
    "pow_special_values": (
        lambda t, x: t.tensor([0.0, -2.0, 0.0, float("inf")], dtype=t.float64) ** x[0, 0, :4],
        X,
    ),
    "indexing_none_ellipsis_steps": (
        lambda t, x: x[None, ..., ::2].sum() + x[None, :, 1:9, 3:].sum() + x[..., 1, None],
        X,
    ),
    "indexing_list_middle": (lambda t, x: x[:, [0], :], X),
    "indexing_tuple_with_repeats": (
        lambda t, x: x[(1, 0, -1), :, 1] + x[(2, 2), 1:3, (0, 0)].sum(),
        X,
    ),
    "indexing_out_of_range_slice": (lambda t, x: x[1:10, -10:2], X),
    "softmax_module": (lambda t, x: t.nn.Softmax(dim=1)(x), X),
    "compare_inf": (lambda t, x: (x < float("inf")) & (x > -float("inf")), X),
    "where_python_scalars": (lambda t, x: t.where(x > 0, 1.0, 0.0) * x, X),
}


def _assert_same_on_both(cases, name):
    fn, *arrays = cases[name]
    if name.startswith("nan_"):  # NaN (or inf) with a warning, in both frameworks
        with (
            pytest.warns((RuntimeWarning, UserWarning)),
            np.errstate(invalid="ignore", divide="ignore"),
        ):
            same_on_both(fn, *arrays)
        return
    if name == "mean_zero_size_axes":  # an empty leaf has no values for hypothesis to draw
        with np.errstate(invalid="ignore"):
            same_on_both(fn, *arrays, grad=False)
        return
    same_on_both(fn, *arrays)


@pytest.mark.parametrize("name", sorted(F_CASES))
def test_functional_matches_torch(name):
    _assert_same_on_both(F_CASES, name)


@pytest.mark.parametrize("name", sorted(TG_FUNCTION_CASES))
def test_package_function_matches_torch(name):
    _assert_same_on_both(TG_FUNCTION_CASES, name)


@pytest.mark.parametrize("name", sorted(METHOD_CASES))
def test_tensor_method_matches_torch(name):
    _assert_same_on_both(METHOD_CASES, name)


ACTIVATIONS = [
    "celu",
    "selu",
    "logsigmoid",
    "hardsigmoid",
    "softsign",
    "relu6",
    "hardswish",
    "mish",
    "gelu",
    "silu",
    "elu",
    "hardtanh",
]


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(x=float_arrays(shapes(max_dims=2), min_value=-8.0, max_value=8.0))
def test_activation_matches_torch_everywhere_including_kinks(name, x):
    # The kinks (-3, -1, 0, 1, 3, 6) are drawn on purpose: the gradient there must be PyTorch's.
    kinks = np.array([-3.0, -1.0, 0.0, 1.0, 3.0, 6.0])
    x = np.concatenate([np.ravel(x), kinks])
    same_on_both(lambda t, v: getattr(t.nn.functional, name)(v), x)
    assert getattr(tg.Tensor, name) is not None  # and the Tensor method exists


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_method_is_the_functional(name):
    x = tg.Tensor(X)
    np.testing.assert_array_equal(getattr(x, name)().data, getattr(tg.nn.functional, name)(x).data)


def test_activations_second_derivative_matches_central_differences():
    for name in ("gelu", "mish", "selu", "logsigmoid", "softsign"):
        fn = getattr(tg.nn.functional, name)
        assert tg.gradgradcheck(fn, [tg.Tensor(M + 0.1, requires_grad=True)]), name


def test_logcumsumexp_gradient_is_finite_for_huge_inputs():
    x = tg.Tensor(np.array([1000.0, -1000.0, 999.0, 0.0]), requires_grad=True)
    x.logcumsumexp(0).sum().backward()
    expected = torch.tensor(x.data, requires_grad=True)
    torch.logcumsumexp(expected, 0).sum().backward()
    np.testing.assert_allclose(x.grad.data, expected.grad.numpy(), rtol=1e-12)


def test_cummax_nan_takes_the_index_as_torch():
    data = np.array([1.0, np.nan, 3.0, np.nan, 0.5])
    ours = tg.Tensor(data).cummax(0)
    theirs = torch.cummax(torch.tensor(data), 0)
    np.testing.assert_array_equal(ours.values.data, theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())


def test_errors_name_the_op_and_what_was_expected():
    x = tg.Tensor(X)
    with pytest.raises(ValueError, match="div: rounding_mode must be"):
        x.div(2, rounding_mode="round")
    with pytest.raises(ValueError, match="unfold: size 9 and step 1 do not fit axis 2"):
        x.unfold(2, 9, 1)
    with pytest.raises(TypeError, match="masked_select: mask must be boolean"):
        x.masked_select(x.data)
    with pytest.raises(ValueError, match="conv_transpose2d: input of shape .* 4 channels"):
        tg.nn.functional.conv_transpose2d(tg.Tensor(IMG), tg.Tensor(np.zeros((3, 2, 2, 2))))
    with pytest.raises(ValueError, match="output_padding"):
        tg.nn.functional.conv_transpose2d(
            tg.Tensor(IMG), tg.Tensor(np.zeros((4, 2, 2, 2))), stride=2, output_padding=2
        )
    with pytest.raises(ValueError, match="pixel_shuffle: input of shape"):
        tg.nn.functional.pixel_shuffle(tg.Tensor(IMG), 3)
    with pytest.raises(ValueError, match="group_norm: input of shape"):
        tg.nn.functional.group_norm(tg.Tensor(IMG), 3)
    with pytest.raises(ValueError, match="circular padding .* more than once"):
        tg.nn.functional.pad(tg.Tensor(IMG), (3, -5, 0, 0), mode="circular")
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        tg.nn.functional.celu(x, 0.0)
    with pytest.raises(TypeError, match="var_mean: got unbiased and correction"):
        tg.var_mean(x, 1, unbiased=True, correction=0)


def test_split_method_is_torch_and_axis_keyword_is_numpy():
    x = tg.Tensor(np.arange(10.0))
    assert [p.shape for p in x.split(4)] == [(4,), (4,), (2,)]  # torch: pieces of 4
    assert [p.shape for p in x.split(5, axis=0)] == [(2,)] * 5  # np.split: 5 sections
    assert [p.shape for p in tg.split(x, 5)] == [(2,)] * 5  # tg.split is np.split's name
    assert [p.shape for p in tg.split(x, 4, dim=0)] == [(4,), (4,), (2,)]


def test_type_without_dtype_names_it():
    assert tg.Tensor(X).type() == "float64"
    assert tg.Tensor(X).type(np.float32).dtype == np.float32


def test_dtype_names_are_numpy_dtypes_and_star_import_keeps_the_builtins():
    assert tg.float32 is np.float32 and tg.long is np.int64 and tg.float is np.float32
    assert tg.zeros(2, dtype=tg.float32).dtype == np.float32
    namespace: dict = {}
    exec("from tinygrad_dl import *", namespace)
    assert not {"float", "int", "bool", "round", "pow"} & set(namespace)
    assert namespace["float32"] is np.float32

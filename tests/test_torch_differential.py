"""Differential tests against PyTorch: the same lambda runs on tinygrad_dl and on torch (through
an adapter exposing torch under NumPy's names), and values and gradients must agree."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_dl as tg
from tinygrad_dl.testing import (
    broadcastable_shape_pairs,
    float_arrays,
    float_dtypes,
    matmul_shapes,
    shapes,
    weighted_sum,
)

torch = pytest.importorskip(
    "torch", reason="torch is the optional differential peer: pip install torch==2.13.0"
)
F = torch.nn.functional


class TorchAsNumPy:
    """torch under the NumPy names tinygrad_dl uses, so one lambda serves both frameworks."""

    exp, log, log1p, sqrt, square = torch.exp, torch.log, torch.log1p, torch.sqrt, torch.square
    abs, sin, cos, tanh = torch.abs, torch.sin, torch.cos, torch.tanh
    sigmoid, relu, softplus = torch.sigmoid, torch.relu, F.softplus
    maximum, minimum, matmul, power = torch.maximum, torch.minimum, torch.matmul, torch.pow
    stack, swapaxes, broadcast_to = torch.stack, torch.swapaxes, torch.broadcast_to

    @staticmethod
    def _dims(x, axis):
        return tuple(range(x.ndim)) if axis is None else axis

    @staticmethod
    def leaky_relu(x, alpha=0.01):
        return F.leaky_relu(x, alpha)

    @staticmethod
    def clip(x, low, high):
        return torch.clamp(x, low, high)

    @staticmethod
    def where(condition, a, b):
        return torch.where(torch.as_tensor(condition), a, b)

    @classmethod
    def sum(cls, x, axis=None, keepdims=False):
        return torch.sum(x, dim=cls._dims(x, axis), keepdim=keepdims)

    @classmethod
    def mean(cls, x, axis=None, keepdims=False):
        return torch.mean(x, dim=cls._dims(x, axis), keepdim=keepdims)

    @classmethod
    def max(cls, x, axis=None, keepdims=False):
        return torch.amax(x, dim=cls._dims(x, axis), keepdim=keepdims)

    @classmethod
    def min(cls, x, axis=None, keepdims=False):
        return torch.amin(x, dim=cls._dims(x, axis), keepdim=keepdims)

    @classmethod
    def var(cls, x, axis=None, ddof=0, keepdims=False):
        return torch.var(x, dim=cls._dims(x, axis), correction=ddof, keepdim=keepdims)

    @classmethod
    def std(cls, x, axis=None, ddof=0, keepdims=False):
        return torch.std(x, dim=cls._dims(x, axis), correction=ddof, keepdim=keepdims)

    @classmethod
    def logsumexp(cls, x, axis=None, keepdims=False):
        return torch.logsumexp(x, dim=cls._dims(x, axis), keepdim=keepdims)

    @staticmethod
    def softmax(x, axis=-1):
        return torch.softmax(x, dim=axis)

    @staticmethod
    def log_softmax(x, axis=-1):
        return torch.log_softmax(x, dim=axis)

    @staticmethod
    def reshape(x, shape):
        return x.reshape(shape)

    @staticmethod
    def transpose(x, axes=None):
        return x.permute(tuple(reversed(range(x.ndim))) if axes is None else axes)

    @staticmethod
    def expand_dims(x, axis):
        return x.unsqueeze(axis)

    @staticmethod
    def squeeze(x, axis=None):
        return x.squeeze() if axis is None else x.squeeze(axis)

    @staticmethod
    def flatten(x):
        return x.reshape(-1)

    @staticmethod
    def concatenate(tensors, axis=0):
        return torch.cat(list(tensors), dim=axis)

    @staticmethod
    def split(x, sections, axis=0):
        return torch.tensor_split(x, sections, dim=axis)


TORCH = TorchAsNumPy


def run_both(function, arrays):
    """``function(lib, *inputs)`` on both frameworks: values and gradients of weighted_sum."""
    results = []
    for lib in (tg, TORCH):
        if lib is tg:
            inputs = [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]
        else:
            inputs = [torch.tensor(a.copy(), requires_grad=True) for a in arrays]
        out = function(lib, *inputs)
        weighted_sum(out).backward()
        value = out.data if lib is tg else out.detach().numpy()
        grads = [t.grad.data if lib is tg else t.grad.numpy() for t in inputs]
        results.append((value, grads))
    return results


def assert_same_in_both(function, *arrays):
    (value, grads), (torch_value, torch_grads) = run_both(function, arrays)
    tolerance = 1e-10 if arrays[0].dtype == np.float64 else 2e-5
    assert value.dtype == torch_value.dtype
    np.testing.assert_allclose(value, torch_value, rtol=tolerance, atol=tolerance)
    for position, (mine, theirs) in enumerate(zip(grads, torch_grads)):
        assert mine.dtype == theirs.dtype, f"input {position}"
        np.testing.assert_allclose(
            mine, theirs, rtol=tolerance, atol=tolerance, err_msg=f"gradient of input {position}"
        )


# -- elementwise ---------------------------------------------------------------------------
UNARY = {
    "exp": (lambda lib, x: lib.exp(x), {}),
    "log": (lambda lib, x: lib.log(x), {"positive": True}),
    "log1p": (lambda lib, x: lib.log1p(x), {"min_value": -0.5}),
    "sqrt": (lambda lib, x: lib.sqrt(x), {"positive": True}),
    "square": (lambda lib, x: lib.square(x), {}),
    "abs": (lambda lib, x: lib.abs(x), {"away_from": 0.0}),
    "sin": (lambda lib, x: lib.sin(x), {}),
    "cos": (lambda lib, x: lib.cos(x), {}),
    "tanh": (lambda lib, x: lib.tanh(x), {}),
    "sigmoid": (lambda lib, x: lib.sigmoid(x), {}),
    "relu": (lambda lib, x: lib.relu(x), {"away_from": 0.0}),
    "leaky_relu": (lambda lib, x: lib.leaky_relu(x, 0.1), {"away_from": 0.0}),
    "softplus": (lambda lib, x: lib.softplus(x), {}),
    "clip": (lambda lib, x: lib.clip(x, -1.0, 1.0), {"away_from": [-1.0, 1.0]}),
    "operators": (lambda lib, x: (2 - x) * 3 / (x * x + 1) + x**3 - 1 / (2 + x**2), {}),
    "neg_rpow": (lambda lib, x: -(2.0**x), {}),
    "getitem": (lambda lib, x: x[..., [0, -1, 0]][..., 1:], {}),  # torch has no negative steps
    "sum_of_stable_ops_at_1000": (
        lambda lib, x: lib.sigmoid(x * 400) + lib.softplus(x * 400),
        {},
    ),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(dtype=float_dtypes(), data=st.data())
def test_unary_values_and_gradients_match_torch(name, dtype, data):
    function, options = UNARY[name]
    min_dims = 1 if name == "getitem" else 0
    x = data.draw(float_arrays(shapes(min_dims=min_dims), dtype=dtype, **options), label="x")
    assert_same_in_both(function, x)


BINARY = {
    "add": (lambda lib, a, b: a + b, {}),
    "sub": (lambda lib, a, b: a - b, {}),
    "mul": (lambda lib, a, b: a * b, {}),
    "div": (lambda lib, a, b: a / b, {"away_from": 0.0, "margin": 0.5}),
    "pow": (lambda lib, a, b: lib.power(a, b), {"positive": True, "only_a": True}),
    "maximum": (lambda lib, a, b: lib.maximum(a, b), {"distinct": True}),
    "minimum": (lambda lib, a, b: lib.minimum(a, b), {"distinct": True}),
    "where": (lambda lib, a, b: lib.where(np.asarray(b.detach() > 0), a, b), {}),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=broadcastable_shape_pairs(), dtype=float_dtypes(), data=st.data())
def test_binary_values_and_gradients_match_torch_with_broadcasting(name, shapes, dtype, data):
    function, options = BINARY[name]
    options = dict(options)
    if options.pop("distinct", False):
        sizes = [int(np.prod(s)) for s in shapes]
        flat = data.draw(float_arrays((sum(sizes),), dtype=dtype, distinct=True), label="ab")
        a, b = flat[: sizes[0]].reshape(shapes[0]), flat[sizes[0] :].reshape(shapes[1])
    elif options.pop("only_a", False):
        a = data.draw(float_arrays(shapes[0], dtype=dtype, **options), label="a")
        b = data.draw(float_arrays(shapes[1], dtype=dtype), label="b")
    else:
        a = data.draw(float_arrays(shapes[0], dtype=dtype), label="a")
        b = data.draw(float_arrays(shapes[1], dtype=dtype, **options), label="b")
    assert_same_in_both(function, a, b)


@given(shapes=matmul_shapes(), dtype=float_dtypes(), data=st.data())
def test_matmul_values_and_gradients_match_torch(shapes, dtype, data):
    a = data.draw(float_arrays(shapes[0], dtype=dtype), label="a")
    b = data.draw(float_arrays(shapes[1], dtype=dtype), label="b")
    assert_same_in_both(lambda lib, x, y: lib.matmul(x, y), a, b)


# -- reductions ----------------------------------------------------------------------------
REDUCTIONS = {
    "sum": (lambda lib, x, axis, keep: lib.sum(x, axis=axis, keepdims=keep), {}),
    "mean": (lambda lib, x, axis, keep: lib.mean(x, axis=axis, keepdims=keep), {}),
    "max": (lambda lib, x, axis, keep: lib.max(x, axis=axis, keepdims=keep), {"distinct": True}),
    "min": (lambda lib, x, axis, keep: lib.min(x, axis=axis, keepdims=keep), {"distinct": True}),
    "var": (lambda lib, x, axis, keep: lib.var(x, axis=axis, keepdims=keep), {}),
    "std_ddof1": (
        lambda lib, x, axis, keep: lib.std(x, axis=axis, ddof=1, keepdims=keep),
        {"distinct": True, "min_side": 2},
    ),
    "logsumexp": (lambda lib, x, axis, keep: lib.logsumexp(x, axis=axis, keepdims=keep), {}),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@given(dtype=float_dtypes(), data=st.data())
def test_reduction_values_and_gradients_match_torch_for_every_axis(name, dtype, data):
    function, options = REDUCTIONS[name]
    options = dict(options)
    min_side = options.pop("min_side", 1)
    x = data.draw(
        float_arrays(shapes(min_dims=1, min_side=min_side), dtype=dtype, **options), label="x"
    )
    # torch reads an empty dim tuple as "all axes", NumPy as "none": draw non-empty tuples only.
    axis = data.draw(
        st.one_of(
            st.none(),
            st.integers(-x.ndim, x.ndim - 1),
            hnp.valid_tuple_axes(x.ndim, min_size=1),
        ),
        label="axis",
    )
    keepdims = data.draw(st.booleans(), label="keepdims")
    assert_same_in_both(lambda lib, t: function(lib, t, axis, keepdims), x)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@given(x=float_arrays(shapes(min_dims=1), dtype=float_dtypes()), data=st.data())
def test_softmax_family_values_and_gradients_match_torch(name, x, data):
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1), label="axis")
    assert_same_in_both(lambda lib, t: getattr(lib, name)(t, axis=axis), x)


# -- shape ops -----------------------------------------------------------------------------
SHAPE_OPS = {
    "reshape": lambda lib, x: lib.reshape(x, (2, -1)),
    "transpose": lambda lib, x: lib.transpose(x),
    "transpose_axes": lambda lib, x: lib.transpose(x, (1, 2, 0)),
    "swapaxes": lambda lib, x: lib.swapaxes(x, 0, 2),
    "expand_dims_squeeze": lambda lib, x: lib.squeeze(lib.expand_dims(x, 1) * 2, 1),
    "broadcast_to": lambda lib, x: lib.broadcast_to(x[:, :1], (3, 2, 2, 2)),
    "flatten": lambda lib, x: lib.flatten(x) * lib.flatten(x)[[11, 3, 5, 0, 1, 2] * 2],
    "concatenate": lambda lib, x: lib.concatenate([x, x * 2, x[:, :1]], axis=1),
    "stack": lambda lib, x: lib.stack([x, x * x], 1),
    "split": lambda lib, x: lib.split(x, 2, axis=2)[1] * 3 + lib.split(x, 2, axis=2)[0],
    "index_mask": lambda lib, x: x[np.asarray(x.detach() > 0)] * 2,
    "index_repeats": lambda lib, x: x[[0, 0, 1]][:, 1:],
}


@pytest.mark.parametrize("name", sorted(SHAPE_OPS))
@given(x=float_arrays((2, 3, 2), dtype=float_dtypes()))
def test_shape_op_values_and_gradients_match_torch(name, x):
    assert_same_in_both(SHAPE_OPS[name], x)


# -- a whole network, as the course writes it ----------------------------------------------
@given(seed=st.integers(0, 2**32 - 1), dtype=float_dtypes())
def test_two_layer_network_cost_and_gradients_match_torch(seed, dtype):
    rng = np.random.RandomState(seed)
    X = rng.randn(3, 5).astype(dtype)
    Y = (rng.rand(1, 5) > 0.5).astype(dtype)
    params = [
        a.astype(dtype)
        for a in (rng.randn(4, 3), rng.randn(4, 1), rng.randn(1, 4), rng.randn(1, 1))
    ]

    def cost(lib, W1, b1, W2, b2):
        X_, Y_ = (tg.Tensor(X), tg.Tensor(Y)) if lib is tg else (torch.tensor(X), torch.tensor(Y))
        A1 = lib.tanh(lib.matmul(W1, X_) + b1)
        A2 = lib.sigmoid(lib.matmul(W2, A1) + b2)
        return -lib.mean(Y_ * lib.log(A2) + (1 - Y_) * lib.log(1 - A2))

    assert_same_in_both(cost, *params)

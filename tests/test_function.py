"""tg.Function: ops with a hand-written gradient, against torch.autograd.Function, gradcheck and
gradgradcheck."""

import numpy as np
import pytest
from hypothesis import given

import tinygrad_dl as tg
from tinygrad_dl.function import Function
from tinygrad_dl.testing import float_arrays, tensors

torch = pytest.importorskip(
    "torch", reason="torch is the optional differential peer: pip install torch==2.13.0"
)


class StableSoftplus(Function):
    """log(1 + e^x) without overflow; d/dx = sigmoid(x)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.logaddexp(0.0, x)

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * tg.sigmoid(x)


class Exp(Function):
    """Saves its output, as torch's exp does."""

    @staticmethod
    def forward(ctx, x):
        y = np.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, grad_output):
        (y,) = ctx.saved_tensors
        return grad_output * y


class ScaledMul(Function):
    """x * y * scale with a non-Tensor argument (its gradient is None)."""

    @staticmethod
    def forward(ctx, x, y, scale):
        ctx.save_for_backward(x, y)
        ctx.scale = scale
        return x * y * scale

    @staticmethod
    def backward(ctx, grad_output):
        x, y = ctx.saved_tensors
        return grad_output * y * ctx.scale, grad_output * x * ctx.scale, None


def test_stable_softplus_is_finite_where_the_naive_formula_overflows():
    z = tg.Tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    y = StableSoftplus.apply(z)
    np.testing.assert_allclose(y.data, [0.0, np.log(2.0), 1000.0])
    y.sum().backward()
    np.testing.assert_allclose(z.grad.data, [0.0, 0.5, 1.0])
    assert y.grad_fn is not None and "StableSoftplus" in repr(y)


@given(x=tensors(shape=(2, 3)))
def test_function_passes_gradcheck_and_gradgradcheck(x):
    for function in (StableSoftplus, Exp):
        assert tg.gradcheck(lambda t, f=function: f.apply(t), [x])
        assert tg.gradgradcheck(lambda t, f=function: f.apply(t), [x])


@given(x=float_arrays((3,)), y=float_arrays((3,)))
def test_function_with_several_inputs_matches_torch_autograd_function(x, y):
    class TorchScaledMul(torch.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.save_for_backward(a, b)
            ctx.scale = scale
            return a * b * scale

        @staticmethod
        def backward(ctx, grad_output):
            a, b = ctx.saved_tensors
            return grad_output * b * ctx.scale, grad_output * a * ctx.scale, None

    a, b = tg.Tensor(x, requires_grad=True), tg.Tensor(y, requires_grad=True)
    out = ScaledMul.apply(a, b, 2.5)
    (out * out).sum().backward()
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (x, y))
    tout = TorchScaledMul.apply(ta, tb, 2.5)
    (tout * tout).sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.data, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(b.grad.data, tb.grad.numpy(), rtol=1e-12)


def test_second_derivative_through_a_function_saving_its_output():
    x = tg.Tensor([0.3, -0.7], requires_grad=True)
    (first,) = tg.grad(Exp.apply(x).sum(), x, create_graph=True)
    (second,) = tg.grad(first.sum(), x)
    np.testing.assert_allclose(second.data, np.exp([0.3, -0.7]), rtol=1e-12)


def test_only_inputs_that_require_grad_get_gradients():
    a, b = tg.Tensor([1.0, 2.0], requires_grad=True), tg.Tensor([3.0, 4.0])
    ScaledMul.apply(a, b, 1.0).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [3.0, 4.0])
    assert b.grad is None


def test_no_graph_is_recorded_under_no_grad_or_without_inputs_requiring_grad():
    x = tg.Tensor([1.0], requires_grad=True)
    with tg.no_grad():
        assert not StableSoftplus.apply(x).requires_grad
    assert not StableSoftplus.apply(tg.Tensor([1.0])).requires_grad


def test_backward_returning_the_wrong_shape_is_an_error_naming_the_function():
    class Bad(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output.sum()

    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Bad.backward.*shape \(\).*\(2,\)"):
        Bad.apply(x).sum().backward()


def test_backward_returning_too_few_gradients_is_an_error():
    class Short(Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, grad_output):
            return grad_output

    x = tg.Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"Short.backward returned 1 gradient.*2 argument"):
        Short.apply(x, x).sum().backward()


def test_forward_returning_several_outputs_is_refused_clearly():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

    with pytest.raises(TypeError, match="Two.forward returned 2 values"):
        Two.apply(tg.Tensor([1.0], requires_grad=True))

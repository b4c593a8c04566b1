"""tinygrad_dl.func: grad, value_and_grad, vjp, jacobian, hessian, hvp against torch.func and
central differences, on random shapes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl import func
from tinygrad_dl.gradcheck import numerical_jacobian
from tinygrad_dl.testing import float_arrays, shapes

torch = pytest.importorskip(
    "torch", reason="torch is the optional differential peer: pip install torch==2.13.0"
)


def cost(w, b, X, Y):
    """The course's logistic-regression cost J(w, b) = -1/m sum(Y log A + (1-Y) log(1-A))."""
    A = tg.sigmoid(w.T @ X + b)
    m = X.shape[1]
    return -(Y * tg.log(A) + (1 - Y) * tg.log(1 - A)).sum() / m


def torch_cost(w, b, X, Y):
    A = torch.sigmoid(w.T @ X + b)
    return -(Y * torch.log(A) + (1 - Y) * torch.log(1 - A)).sum() / X.shape[1]


@given(n_x=st.integers(1, 4), m=st.integers(2, 6), seed=st.integers(0, 2**16))
def test_grad_of_the_course_cost_matches_torch_func(n_x, m, seed):
    rng = np.random.default_rng(seed)
    w, X = rng.standard_normal((n_x, 1)), rng.standard_normal((n_x, m))
    b, Y = np.array(0.3), (rng.random((1, m)) > 0.5).astype(float)
    dw, db = func.grad(cost, argnums=(0, 1))(w, b, X, Y)
    expected = torch.func.grad(torch_cost, argnums=(0, 1))(*(torch.tensor(a) for a in (w, b, X, Y)))
    np.testing.assert_allclose(dw.data, expected[0].numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db.data, expected[1].numpy(), rtol=1e-10, atol=1e-12)
    # the course's formula: dw = 1/m X (A - Y)^T
    A = 1 / (1 + np.exp(-(w.T @ X + b)))
    np.testing.assert_allclose(dw.data, X @ (A - Y).T / m, rtol=1e-10, atol=1e-12)


def test_value_and_grad_with_aux_returns_value_aux_and_gradient():
    def f(x):
        y = (x**2).sum()
        return y, {"norm": float(np.sqrt(y.detach().data))}

    (value, aux), gradient = func.value_and_grad(f, has_aux=True)(np.array([3.0, 4.0]))
    assert value.item() == 25.0
    assert aux == {"norm": 5.0}
    np.testing.assert_array_equal(gradient.data, [6.0, 8.0])
    gradient_only, aux_only = func.grad(f, has_aux=True)(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(gradient_only.data, [6.0, 8.0])
    assert aux_only == {"norm": 5.0}


def test_grad_of_an_unused_argument_is_zeros_shaped_like_it():
    gradients = func.grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(np.ones(3), np.ones((2, 2)))
    np.testing.assert_array_equal(gradients[1].data, np.zeros((2, 2)))


def test_grad_refuses_a_non_scalar_output_naming_its_shape():
    with pytest.raises(TypeError, match=r"scalar.*\(2,\)"):
        func.grad(lambda x: x * 2)(np.ones(2))


def test_grad_refuses_argnums_past_the_arguments():
    with pytest.raises(TypeError, match="argnums 2"):
        func.grad(lambda x: x.sum(), argnums=2)(np.ones(2))


@given(x=float_arrays(shapes(min_dims=1, max_dims=1, min_side=1, max_side=4)))
def test_nested_grad_is_the_second_derivative(x):
    # d/dx sum(sin(x)) = cos(x); d/dx sum(cos(x)) = -sin(x)
    first = func.grad(lambda t: tg.sin(t).sum())
    second = func.grad(lambda t: first(t).sum())(x)
    np.testing.assert_allclose(second.data, -np.sin(x), rtol=1e-12, atol=1e-12)


@given(
    x=float_arrays(shapes(min_dims=1, max_dims=2, max_side=3)),
    seed=st.integers(0, 2**16),
)
def test_jacobian_matches_torch_jacrev_and_central_differences(x, seed):
    W = np.random.default_rng(seed).standard_normal((3,) + x.shape)

    def f(t):
        return tg.tanh((W * t).sum(axis=tuple(range(1, W.ndim))) + (t**2).sum())

    jac = func.jacobian(f)(x)
    assert jac.shape == (3,) + x.shape
    expected = torch.func.jacrev(
        lambda t: torch.tanh((torch.tensor(W) * t).sum(dim=tuple(range(1, W.ndim))) + (t**2).sum())
    )(torch.tensor(x))
    np.testing.assert_allclose(jac.data, expected.numpy(), rtol=1e-9, atol=1e-12)
    numeric = numerical_jacobian(f, [tg.Tensor(x.copy())], 0, 1e-6)
    np.testing.assert_allclose(jac.data.reshape(3, -1), numeric, rtol=1e-5, atol=1e-7)


@given(x=float_arrays(shapes(min_dims=1, max_dims=1, min_side=1, max_side=4)))
def test_hessian_matches_torch_func_hessian(x):
    def f(t):
        return (tg.exp(t) * t).sum() + (t.sum()) ** 3

    hess = func.hessian(f)(x)
    expected = torch.func.hessian(lambda t: (torch.exp(t) * t).sum() + t.sum() ** 3)(
        torch.tensor(x)
    )
    np.testing.assert_allclose(hess.data, expected.numpy(), rtol=1e-9, atol=1e-9)


def test_vjp_of_the_linear_step_is_the_course_backward():
    # Z = W A + b: the vjp of dZ is (dW, dA_prev, db) = (dZ A^T, W^T dZ, sum dZ over the batch)
    rng = np.random.default_rng(0)
    W, A, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 1))
    dZ = rng.standard_normal((3, 5))
    Z, vjp_fn = func.vjp(lambda W, A, b: W @ A + b, W, A, b)
    np.testing.assert_allclose(Z.data, W @ A + b)
    dW, dA, db = vjp_fn(dZ)
    np.testing.assert_allclose(dW.data, dZ @ A.T, rtol=1e-12)
    np.testing.assert_allclose(dA.data, W.T @ dZ, rtol=1e-12)
    np.testing.assert_allclose(db.data, dZ.sum(axis=1, keepdims=True), rtol=1e-12)
    again = vjp_fn(2 * dZ)  # callable more than once
    np.testing.assert_allclose(again[0].data, 2 * dZ @ A.T, rtol=1e-12)
    with pytest.raises(ValueError, match=r"cotangent has shape \(2, 2\).*\(3, 5\)"):
        vjp_fn(np.ones((2, 2)))


def test_hvp_matches_the_hessian_times_the_vector():
    x, v = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -1.0])

    def f(t):
        return (t**4).sum() + (t[0] * t[1])

    value, product = func.hvp(f, tg.Tensor(x), tg.Tensor(v))
    np.testing.assert_allclose(product.data, func.hessian(f)(x).data @ v, rtol=1e-12)
    assert value.item() == pytest.approx((x**4).sum() + x[0] * x[1])

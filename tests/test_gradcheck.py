"""tinygrad_dl/gradcheck.py: gradcheck accepts right gradients, rejects wrong ones with a message
naming input, element and both values; gradgradcheck catches wrong second derivatives; custom
ops made with Op/apply work with both."""

import re

import numpy as np
import pytest
from hypothesis import given

import tinygrad_dl as tg
from tinygrad_dl.autograd import Op, apply
from tinygrad_dl.gradcheck import numerical_jacobian
from tinygrad_dl.testing import float_arrays, shapes


def _wrong_sin_vjp(g, out, inputs, extra, needs):
    return (g * np.sin(inputs[0]),)  # should be cos


WRONG_SIN = Op("wrong_sin", lambda x, _: np.sin(x), _wrong_sin_vjp)


def test_gradcheck_returns_true_for_a_correct_gradient():
    x = tg.Tensor(np.array([0.3, -1.2, 2.0]), requires_grad=True)
    assert tg.gradcheck(lambda t: (tg.sin(t) * t).sum(), [x]) is True


def test_gradcheck_raises_naming_the_input_the_element_and_both_values():
    x = tg.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with pytest.raises(tg.GradcheckError) as error:
        tg.gradcheck(lambda t: apply(WRONG_SIN, [t]).sum(), [x])
    message = str(error.value)
    # element 0: analytic sin(0) = 0 vs numerical cos(0) = 1
    assert "input 0" in message and "element (0,)" in message
    assert re.search(r"analytic .*0\.0.* vs numerical .*1\.0", message), message


def test_gradcheck_without_raising_returns_false():
    x = tg.Tensor(np.array([1.0]), requires_grad=True)
    assert tg.gradcheck(lambda t: apply(WRONG_SIN, [t]), [x], raise_exception=False) is False


def test_gradcheck_names_the_second_input_when_only_it_is_wrong():
    def f(a, b):
        return (a * 2 + apply(WRONG_SIN, [b])).sum()

    a = tg.Tensor(np.array([1.0]), requires_grad=True)
    b = tg.Tensor(np.array([0.5, 1.0]), requires_grad=True)
    with pytest.raises(tg.GradcheckError, match="input 1"):
        tg.gradcheck(f, [a, b])


def test_gradcheck_checks_only_inputs_requiring_grad_and_passes_others_through():
    seen = []

    def f(x, c, scale):
        seen.append((type(c), scale))
        return (apply(WRONG_SIN, [c]) + x * scale).sum()

    x = tg.Tensor(np.array([1.0]), requires_grad=True)
    c = tg.Tensor(np.array([1.0]))  # wrong gradient, but not checked
    assert tg.gradcheck(f, [x, c, 3.0])
    assert all(s == (tg.Tensor, 3.0) for s in seen)


def test_gradcheck_with_tuple_outputs_checks_every_output():
    x = tg.Tensor(np.array([0.2, 0.4]), requires_grad=True)
    assert tg.gradcheck(lambda t: (t * t, tg.exp(t)), [x])
    with pytest.raises(tg.GradcheckError):
        tg.gradcheck(lambda t: (t * t, apply(WRONG_SIN, [t])), [x])


def test_gradcheck_works_in_float64_copies_of_float32_inputs_and_leaves_inputs_alone():
    data = np.array([0.1, 0.2], dtype=np.float32)
    x = tg.Tensor(data, requires_grad=True)
    assert tg.gradcheck(lambda t: (tg.tanh(t) * 3).sum(), [x])
    np.testing.assert_array_equal(x.data, np.array([0.1, 0.2], dtype=np.float32))
    assert x.grad is None


def test_gradcheck_errors_for_bad_usage():
    with pytest.raises(ValueError, match="requires grad"):
        tg.gradcheck(lambda t: t.sum(), [tg.Tensor(np.ones(2))])
    with pytest.raises(TypeError, match="Tensor"):
        tg.gradcheck(lambda t: 3.0, [tg.Tensor(np.ones(2), requires_grad=True)])


@given(float_arrays(shapes(min_dims=1, max_dims=2)))
def test_numerical_jacobian_of_a_linear_map_is_its_matrix(x):
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((3, x.size))
    work = [tg.Tensor(x.copy(), requires_grad=True)]
    jacobian = numerical_jacobian(lambda t: tg.Tensor(matrix) @ t.reshape(-1), work, 0, 1e-6)
    np.testing.assert_allclose(jacobian, matrix, atol=1e-8)
    np.testing.assert_array_equal(work[0].data, x)  # perturbations are undone


# -- second order ------------------------------------------------------------------------------
def _cube_vjp_breaking_the_graph(g, out, inputs, extra, needs):
    # Right in a plain backward; under create_graph it reads raw values and drops the graph of
    # its second derivative.
    (x,) = inputs
    values = x.data if isinstance(x, tg.Tensor) else x
    return (g * (3 * values**2),)


CUBE = Op("cube", lambda x, _: x**3, _cube_vjp_breaking_the_graph)


def test_gradgradcheck_passes_for_correct_second_derivatives():
    x = tg.Tensor(np.array([0.3, -0.8]), requires_grad=True)
    assert tg.gradgradcheck(lambda t: tg.tanh(t) * tg.exp(t), [x])


def test_gradgradcheck_catches_a_vjp_that_is_right_only_at_first_order():
    x = tg.Tensor(np.array([0.5, 1.5]), requires_grad=True)
    assert tg.gradcheck(lambda t: apply(CUBE, [t]), [x])
    with pytest.raises(tg.GradcheckError):
        tg.gradgradcheck(lambda t: apply(CUBE, [t]), [x])


# -- a custom fused op written with the public Op/apply, as users do -------------------------
def _bce_forward(z, y, _):
    # L = mean(max(z, 0) - z y + log(1 + e^-|z|)): the stable sigmoid cross-entropy
    return np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))


def _bce_vjp(g, out, inputs, extra, needs):
    # dL/dz = (sigmoid(z) - y) / m, with operators and np.* so it also runs on Tensors
    z, y = inputs
    sigmoid = 1 / (1 + np.exp(-z))
    return (g * (sigmoid - y) / z.size if needs[0] else None, None)


BCE = Op("sigmoid_cross_entropy", _bce_forward, _bce_vjp)


@given(float_arrays((1, 5)))
def test_custom_op_passes_gradcheck_and_gradgradcheck(z):
    y = tg.Tensor(np.array([[1.0, 0.0, 1.0, 0.0, 1.0]]))
    leaf = tg.Tensor(z, requires_grad=True)
    loss = apply(BCE, (leaf, y))
    assert loss.grad_fn.name == "sigmoid_cross_entropy"
    assert tg.gradcheck(lambda t: apply(BCE, (t, y)), [leaf])
    assert tg.gradgradcheck(lambda t: apply(BCE, (t, y)), [leaf])


def test_gradcheck_perturbs_a_non_contiguous_input_instead_of_a_copy_of_it():
    # A transposed (Fortran-ordered) input: perturbing a reshaped copy would leave the function
    # unchanged, so the numerical gradient would read 0 and a correct rule would "fail".
    x = tg.Tensor(np.arange(6.0).reshape(2, 3).T, requires_grad=True)
    assert not x.data.flags.c_contiguous
    assert tg.gradcheck(lambda t: (t * t).sum(), [x])

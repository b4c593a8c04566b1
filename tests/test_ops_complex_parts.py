"""tinygrad_dl/ops/complex_parts.py: np.real, np.imag, np.conj, np.angle, np.real_if_close on
real Tensors give NumPy's values and HIPS autograd's gradients (the identity, or 0), stay in the
graph, pass second-order checks, and refuse complex values by name."""

import numpy as np
import pytest
from hypothesis import given
from peers import (
    anp,
    assert_same,
    needs_autograd,
    needs_torch,
    run_autograd,
    run_ours,
    run_torch,
    torch,
)

import tinygrad_dl as tg
from tinygrad_dl.testing import check_gradient, float_arrays, shapes

# name -> function of (NumPy namespace, x); x * (...) keeps the zero-gradient parts visible
CASES = {
    "real": lambda np_, x: np_.real(x) * x,
    "conj": lambda np_, x: np_.conj(x) * 3.0,
    "conjugate": lambda np_, x: np_.conjugate(x) - x * x,
    "imag": lambda np_, x: np_.imag(x) + x,
    "angle": lambda np_, x: np_.angle(x) * x,
    "angle_deg": lambda np_, x: np_.angle(x, deg=True) + np_.sin(x),
    "real_if_close": lambda np_, x: np_.real_if_close(x) ** 2,
}


@pytest.mark.parametrize("name", sorted(CASES))
@given(x=float_arrays(shapes(), away_from=0.0))
def test_complex_parts_match_numpy_and_central_differences(name, x):
    function = CASES[name]
    out = function(np, tg.Tensor(x, requires_grad=True))
    assert isinstance(out, tg.Tensor) and out.requires_grad
    np.testing.assert_array_equal(out.data, function(np, x))
    assert check_gradient(lambda t: function(np, t), x)


# HIPS autograd's angle takes no deg= (its vjp refuses the keyword)
@needs_autograd
@pytest.mark.parametrize("name", sorted(set(CASES) - {"angle_deg"}))
@given(x=float_arrays(shapes(), away_from=0.0))
def test_complex_parts_match_hips_autograd(name, x):
    function = CASES[name]
    assert_same(run_ours(lambda t: function(np, t), x), run_autograd(lambda a: function(anp, a), x))


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_parts_pass_gradgradcheck(name):
    x = tg.Tensor(np.array([[0.7, -1.3], [2.0, -0.4]]), requires_grad=True)
    assert tg.gradgradcheck(lambda t: CASES[name](np, t), (x,))


def test_imag_and_angle_stay_in_the_graph_with_zero_gradient():
    # as np.sign: a loss built on them still backpropagates (a zero) instead of losing its graph
    x = tg.Tensor(np.array([-1.0, -0.0, 0.0, 2.0]), requires_grad=True)
    for function in (np.imag, np.angle):
        out = function(x)
        assert out.grad_fn is not None
        (grad,) = tg.grad(out.sum(), [x])
        np.testing.assert_array_equal(grad.data, np.zeros(4))
    np.testing.assert_array_equal(np.angle(x).data, [np.pi, np.pi, 0.0, 0.0])


@needs_torch
def test_real_and_conj_gradients_match_torch():
    x = np.array([0.5, -2.0, 3.0])
    mine = run_ours(lambda t: np.real(t) * np.conj(t), x)
    assert_same(mine, run_torch(lambda t: torch.real(t) * torch.conj(t), x))


def test_complex_values_are_refused_by_name():
    with pytest.raises(TypeError, match="np.imag: complex values"):
        tg.ops.complex_parts.imag(np.array([1 + 2j]))

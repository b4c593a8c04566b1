"""Cases in the style of HIPS autograd's own NumPy tests (``tests/test_numpy.py`` and
``tests/test_scalar_ops.py``), run through our Tensor and compared with autograd's ``grad``.

Each case is one function written against a NumPy namespace: on Tensors with ``numpy`` itself
(dispatch), under autograd with ``autograd.numpy``. First derivatives are compared at several
points; for scalar functions the second derivative too (autograd's ``check_grads`` checks
order 2).
"""

import numpy as np
import pytest
from peers import anp, assert_same, autograd, needs_autograd, run_autograd, run_ours

import tinygrad_dl as tg

# autograd warns when an output does not depend on its input (np.sign, np.floor: outside its
# graph); the comparison still holds (both give 0)
pytestmark = [needs_autograd, pytest.mark.filterwarnings("ignore:Output seems independent")]

# -- scalar ops: name -> (function of (namespace, x), points where it is smooth) -------------
SCALAR = {
    "abs": (lambda np_, x: 3.0 * np_.abs(x), [1.1, -1.1]),
    "sign": (lambda np_, x: 3.0 * np_.sign(x) + x, [1.1, -1.1]),
    "log2": (lambda np_, x: 3.0 * np_.log2(x), [0.3, 2.5]),
    "log10": (lambda np_, x: 3.0 * np_.log10(x), [0.3, 2.5]),
    "log1p": (lambda np_, x: 3.0 * np_.log1p(x), [0.3, -0.5]),
    "expm1": (lambda np_, x: 3.0 * np_.expm1(x), [-1.2, 0.7]),
    "exp2": (lambda np_, x: 3.0 * np_.exp2(x), [-1.2, 0.7]),
    "tan": (lambda np_, x: 3.0 * np_.tan(x), [-1.2, 0.7]),
    "cosh": (lambda np_, x: 3.0 * np_.cosh(x), [-1.2, 0.7]),
    "sinh": (lambda np_, x: 3.0 * np_.sinh(x), [-1.2, 0.7]),
    "arccos": (lambda np_, x: 3.0 * np_.arccos(x), [0.1, -0.6]),
    "arcsin": (lambda np_, x: 3.0 * np_.arcsin(x), [0.1, -0.6]),
    "arctan": (lambda np_, x: 3.0 * np_.arctan(x), [0.1, -2.6]),
    "arccosh": (lambda np_, x: 3.0 * np_.arccosh(x), [1.7, 4.0]),
    "arcsinh": (lambda np_, x: 3.0 * np_.arcsinh(x), [1.7, -4.0]),
    "arctanh": (lambda np_, x: 3.0 * np_.arctanh(x), [0.2, -0.8]),
    "sqrt": (lambda np_, x: 3.0 * np_.sqrt(x), [0.2, 10.0]),
    "power_arg0": (lambda np_, x: np_.power(x, 1.7), [0.4, 3.0]),
    "power_arg1": (lambda np_, x: np_.power(1.7, x), [-0.4, 3.0]),
    "power_arg1_zero": (lambda np_, x: np_.power(0.0, x), [0.4, 3.0]),
    "mod_arg0": (lambda np_, x: np_.mod(x, 0.7), [1.3, -1.3]),
    "mod_arg1": (lambda np_, x: np_.mod(2.9, x), [0.7, -1.1]),
    "remainder_arg1": (lambda np_, x: np_.remainder(-2.9, x), [0.7, 1.9]),
    "reciprocal": (lambda np_, x: np_.reciprocal(x), [0.4, -2.0]),
    "negative": (lambda np_, x: np_.negative(x) * x, [0.4, -2.0]),
    "rad2deg": (lambda np_, x: np_.rad2deg(x) * x, [0.4, -2.0]),
    "deg2rad": (lambda np_, x: np_.deg2rad(x) * x, [0.4, -2.0]),
    "radians": (lambda np_, x: np_.radians(x), [0.4, -2.0]),
    "degrees": (lambda np_, x: np_.degrees(x), [0.4, -2.0]),
    "hypot": (lambda np_, x: np_.hypot(x, 0.6) * np_.hypot(1.1, x), [0.4, -2.0]),
    "arctan2": (lambda np_, x: np_.arctan2(x, 0.6) + np_.arctan2(1.1, x), [0.4, -2.0]),
    "logaddexp": (lambda np_, x: np_.logaddexp(x, 0.6) * np_.logaddexp2(-1.1, x), [0.4, -2.0]),
    "fmax_fmin": (lambda np_, x: np_.fmax(x, 0.6) * np_.fmin(x, 0.1), [0.4, -2.0, 1.5]),
    "floor_ceil_round": (lambda np_, x: x * (np_.floor(x) + np_.ceil(x) + np_.round(x)), [1.3]),
}


def _our_second_derivative(function, x):
    leaf = tg.Tensor(np.array(x), requires_grad=True)
    (first,) = tg.grad(function(np, leaf), [leaf], create_graph=True)
    if not first.requires_grad:  # a constant first derivative (PyTorch's graph has none either)
        return 0.0
    (second,) = tg.grad(first, [leaf], allow_unused=True)
    return 0.0 if second is None else float(second.data)


@pytest.mark.parametrize("name", sorted(SCALAR))
def test_scalar_op_first_and_second_derivatives_match_autograd(name):
    function, points = SCALAR[name]
    for x in points:
        x = np.array(x)
        theirs = run_autograd(lambda v: function(anp, v), x)
        assert_same(run_ours(lambda t: function(np, t), x), theirs, name=name, x=x)
        second = autograd.grad(autograd.grad(lambda v: function(anp, v)))(float(x))
        np.testing.assert_allclose(
            _our_second_derivative(function, x), second, rtol=1e-10, atol=1e-12, err_msg=name
        )


# -- array functions, in the style of autograd's test_numpy.py --------------------------------
RNG = np.random.default_rng(0)
MATRIX = RNG.standard_normal((5, 6))

ARRAY = {
    "sum_3": (lambda np_, x: np_.sum(x, axis=1, keepdims=True), MATRIX),
    "mean_axis": (lambda np_, x: np_.mean(x, axis=0), MATRIX),
    "max_axis": (lambda np_, x: np_.max(x, axis=1), MATRIX),
    "min_keepdims": (lambda np_, x: np_.min(x, axis=0, keepdims=True), MATRIX),
    "var_ddof": (lambda np_, x: np_.var(x, axis=1, ddof=1), MATRIX),
    "std_ddof": (lambda np_, x: np_.std(x, axis=0, ddof=2), MATRIX),
    "prod_1": (lambda np_, x: np_.prod(x), MATRIX[:2, :3]),
    "prod_2": (lambda np_, x: np_.prod(x, axis=0), MATRIX),
    "prod_3": (lambda np_, x: np_.prod(x, axis=1, keepdims=True), MATRIX),
    "prod_4": (lambda np_, x: np_.prod(x, axis=(0, 1)), MATRIX[:3, :3]),
    # (with zeros autograd's prod gradient is NaN: ours is checked against PyTorch instead)
    "cumsum_axis0": (lambda np_, x: np_.cumsum(x, axis=0), MATRIX),
    "cumsum_axis1": (lambda np_, x: np_.cumsum(x, axis=1), MATRIX),
    "cumsum_no_axis": (lambda np_, x: np_.cumsum(x), MATRIX),
    "diff": (lambda np_, x: np_.diff(x), MATRIX),
    "diff_axis0_n2": (lambda np_, x: np_.diff(x, n=2, axis=0), MATRIX),
    "maximum": (lambda np_, x: np_.maximum(x, x[::-1]), MATRIX),
    "minimum_constant": (lambda np_, x: np_.minimum(x, 0.3), MATRIX),
    "clip": (lambda np_, x: np_.clip(x, -0.5, 0.5), MATRIX),
    "where": (lambda np_, x: np_.where(x > 0, x * x, np_.sin(x)), MATRIX),
    "mod": (lambda np_, x: np_.mod(x, 0.7) + np_.remainder(1.3, x + 5), MATRIX),
    "logaddexp_broadcast": (lambda np_, x: np_.logaddexp(x, x[:1]), MATRIX),
    "hypot_arctan2": (lambda np_, x: np_.hypot(x, x.T[:1].T) * np_.arctan2(x, 0.5), MATRIX),
    "fmax_fmin": (lambda np_, x: np_.fmax(x, x[::-1]) - np_.fmin(x, 0.1), MATRIX),
    "sinh_cosh_tan": (lambda np_, x: np_.sinh(x) * np_.cosh(x) + np_.tan(x / 4), MATRIX),
    "sign": (lambda np_, x: np_.sign(x) * x, MATRIX),
}


@pytest.mark.parametrize("name", sorted(ARRAY))
def test_array_function_values_and_gradients_match_autograd(name):
    function, x = ARRAY[name]
    theirs = run_autograd(lambda v: function(anp, v), x)
    assert_same(run_ours(lambda t: function(np, t), x), theirs, name=name)


def test_max_with_equal_values_sends_the_whole_gradient_like_autograd():
    # autograd's test_max_equal_values: d/dx max(x, x) = 1, split between the two copies.
    def f(np_, x):
        return np_.max(np_.stack([x, x]), axis=0) if np_ is np else np_.max(anp.stack([x, x]))

    leaf = tg.Tensor(np.array(2.0), requires_grad=True)
    f(np, leaf).backward()
    assert leaf.grad.item() == autograd.grad(lambda v: f(anp, v))(2.0) == 1.0


def test_nan_to_num_matches_autograd():
    x = np.array([[1.5, np.nan], [np.inf, -2.0]])
    theirs = run_autograd(lambda v: anp.nan_to_num(v) * 2.0, x)  # its rule takes no options
    mine = run_ours(lambda t: np.nan_to_num(t) * 2.0, x)
    assert_same(mine, theirs)
    assert mine[1][0][0, 1] == mine[1][0][1, 0] == 0.0

"""tinygrad_dl/ops/linalg.py: matmul/dot with NumPy's rules (1-D, 2-D, batched), the course's
dW = dZ A^T and dA = W^T dZ, no gradient computed for a constant input, errors naming shapes."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.ops import linalg
from tinygrad_dl.testing import (
    check_gradient,
    float_arrays,
    float_dtypes,
    matmul_shapes,
    weighted_sum,
)

MATMULS = {
    "operator": lambda a, b: a @ b,
    "tg.matmul": tg.matmul,
    "method": lambda a, b: a.matmul(b),
    "np.matmul": np.matmul,
}


@pytest.mark.parametrize("name", sorted(MATMULS))
@given(shapes=matmul_shapes(), dtype=float_dtypes(), data=st.data())
def test_matmul_forward_equals_numpy_for_1d_2d_and_batched(name, shapes, dtype, data):
    a = data.draw(float_arrays(shapes[0], dtype=dtype), label="a")
    b = data.draw(float_arrays(shapes[1], dtype=dtype), label="b")
    out = MATMULS[name](tg.Tensor(a), tg.Tensor(b))
    expected = np.matmul(a, b)
    assert isinstance(out, tg.Tensor) and out.shape == expected.shape and out.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=1e-12 if dtype == np.float64 else 1e-5)


@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_gradient_matches_central_differences_for_1d_2d_and_batched(shapes, data):
    a = data.draw(float_arrays(shapes[0]), label="a")
    b = data.draw(float_arrays(shapes[1]), label="b")
    assert check_gradient(lambda x, y: x @ y, a, b)


@given(shapes=matmul_shapes(), data=st.data())
def test_matmul_float32_gradients_stay_float32_with_the_inputs_shapes(shapes, data):
    a = data.draw(float_arrays(shapes[0], dtype=np.float32), label="a")
    b = data.draw(float_arrays(shapes[1], dtype=np.float32), label="b")
    ta, tb = tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)
    weighted_sum(ta @ tb).backward()
    assert ta.grad.dtype == np.float32 and tb.grad.dtype == np.float32
    assert ta.grad.shape == a.shape and tb.grad.shape == b.shape


def test_matmul_gradients_are_the_course_formulas():
    # Z = W A: dW = dZ A^T and dA = W^T dZ (the 1/m comes from the cost's mean).
    rng = np.random.default_rng(0)
    W, A, dZ = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    tW, tA = tg.Tensor(W, requires_grad=True), tg.Tensor(A, requires_grad=True)
    (tW @ tA).backward(dZ)
    np.testing.assert_allclose(tW.grad.data, dZ @ A.T, rtol=1e-12)
    np.testing.assert_allclose(tA.grad.data, W.T @ dZ, rtol=1e-12)


def test_matmul_with_a_constant_input_computes_no_gradient_for_it(monkeypatch):
    # A network's input X needs no dX: the vjp is told so and returns nothing for it.
    seen = []
    original = linalg.MATMUL.vjp

    def spy(g, out, inputs, extra, needs):
        grads = original(g, out, inputs, extra, needs)
        seen.append((tuple(needs), tuple(grad is None for grad in grads)))
        return grads

    monkeypatch.setattr(linalg.MATMUL, "vjp", spy)
    W = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    X = tg.Tensor(np.ones((3, 4)))
    (W @ X).sum().backward()
    assert seen == [((True, False), (False, True))]
    assert X.grad is None and W.grad is not None


# -- dot -----------------------------------------------------------------------------------
DOT_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((), (2, 3))]


@pytest.mark.parametrize("shape_a, shape_b", DOT_SHAPES)
@pytest.mark.parametrize("dot", [tg.dot, np.dot, lambda a, b: a.dot(b)], ids=["tg", "np", "m"])
def test_dot_equals_numpy_and_passes_gradcheck(shape_a, shape_b, dot):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    out = dot(tg.Tensor(a), tg.Tensor(b))
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(out.data, np.dot(a, b), rtol=1e-12)
    assert check_gradient(dot, a, b)


@given(shapes=matmul_shapes(max_batch_dims=0), data=st.data())
def test_dot_of_1d_and_2d_operands_equals_numpy_and_passes_gradcheck(shapes, data):
    a = data.draw(float_arrays(shapes[0]), label="a")
    b = data.draw(float_arrays(shapes[1]), label="b")
    out = tg.dot(tg.Tensor(a), tg.Tensor(b))
    np.testing.assert_allclose(out.data, np.dot(a, b), rtol=1e-12)
    assert check_gradient(tg.dot, a, b)


def test_dot_of_more_than_two_dimensions_points_to_matmul():
    with pytest.raises(ValueError, match="matmul"):
        tg.dot(tg.Tensor(np.ones((2, 2, 2))), tg.Tensor(np.ones((2, 2))))


# -- errors --------------------------------------------------------------------------------
@pytest.mark.parametrize("function", [lambda a, b: a @ b, tg.matmul, np.matmul])
def test_matmul_mismatch_names_both_shapes(function):
    a, b = tg.Tensor(np.ones((3, 4))), tg.Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=re.escape("matmul: shapes (3, 4) and (5, 2) not aligned")):
        function(a, b)


def test_batched_matmul_mismatch_names_both_shapes():
    a, b = tg.Tensor(np.ones((2, 3, 4))), tg.Tensor(np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match=re.escape("shapes (2, 3, 4) and (3, 4, 5)")):
        a @ b


def test_matmul_of_a_scalar_is_an_error_naming_the_shapes():
    with pytest.raises(ValueError, match=re.escape("matmul: shapes () and (2,)")):
        tg.matmul(tg.Tensor(2.0), tg.Tensor(np.ones(2)))


def test_dot_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=re.escape("dot: shapes (3, 4) and (5, 2) not aligned")):
        np.dot(tg.Tensor(np.ones((3, 4))), tg.Tensor(np.ones((5, 2))))

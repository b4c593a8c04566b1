"""Tests for tinygrad_dl.nn.functional and the loss modules: values, gradients, stability."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_dl as tg
from tinygrad_dl import nn
from tinygrad_dl.nn import functional as F
from tinygrad_dl.testing import float_arrays, shapes, tensors, weighted_sum


def _course_sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def _course_cost(A, Y):
    m = Y.size
    return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m


@st.composite
def _logits_and_labels(draw, soft=False, bound=30.0):
    m = draw(st.integers(1, 12))
    layout = draw(st.sampled_from([(1, m), (m, 1), (m,)]))
    Z = draw(float_arrays(layout, min_value=-bound, max_value=bound))
    if soft:
        Y = draw(arrays(np.float64, layout, elements=st.floats(0, 1)))
    else:
        Y = draw(arrays(np.float64, layout, elements=st.sampled_from([0.0, 1.0])))
    return Z, Y


# -- binary_cross_entropy_with_logits --------------------------------------------------------


@given(_logits_and_labels())
def test_bce_with_logits_gradient_is_exactly_the_course_dz(pair):
    Z, Y = pair
    z = tg.Tensor(Z, requires_grad=True)
    F.binary_cross_entropy_with_logits(z, Y).backward()
    m = Y.size
    # The course's dZ = (A - Y) / m, bit for bit.
    np.testing.assert_array_equal(z.grad.data, (_course_sigmoid(Z) - Y) / m)


# The course's formula loses digits in log(1 - A) for large |Z| (A rounds towards 1); within
# +-15 it is accurate to ~1e-11, so the comparison is fair.
@given(_logits_and_labels(soft=True, bound=15.0))
def test_bce_with_logits_value_is_the_course_cost(pair):
    Z, Y = pair
    A = _course_sigmoid(Z)
    loss = F.binary_cross_entropy_with_logits(Z, Y)
    np.testing.assert_allclose(loss.item(), _course_cost(A, Y), rtol=1e-9, atol=1e-12)


def test_bce_with_logits_passes_gradcheck_and_gradgradcheck_for_logits_and_soft_labels():
    rng = np.random.default_rng(0)
    z = tg.Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    y = tg.Tensor(rng.uniform(size=(4, 3)), requires_grad=True)
    for reduction in ("mean", "sum"):

        def loss(z, y, reduction=reduction):
            return F.binary_cross_entropy_with_logits(z, y, reduction=reduction)

        assert tg.gradcheck(loss, (z, y))
        assert tg.gradgradcheck(loss, (z, y))


def test_bce_with_logits_is_stable_at_huge_logits():
    Z = np.array([[-1000.0, 1000.0, -1000.0, 1000.0]])
    Y = np.array([[0.0, 1.0, 1.0, 0.0]])
    z = tg.Tensor(Z, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy_with_logits(z, Y)
        loss.backward()
    # Two confident right answers cost 0, two confident wrong ones cost 1000 each.
    assert loss.item() == pytest.approx(2000 / 4)
    np.testing.assert_array_equal(z.grad.data, [[0.0, 0.0, -0.25, 0.25]])


def test_bce_with_logits_reductions():
    Z = np.array([[0.5, -1.0, 2.0]])
    Y = np.array([[1.0, 0.0, 0.0]])
    per_example = F.binary_cross_entropy_with_logits(Z, Y, reduction="none").data
    expected = -(Y * np.log(_course_sigmoid(Z)) + (1 - Y) * np.log(1 - _course_sigmoid(Z)))
    np.testing.assert_allclose(per_example, expected, rtol=1e-12)
    total = F.binary_cross_entropy_with_logits(Z, Y, reduction="sum").item()
    assert total == pytest.approx(expected.sum(), rel=1e-12)
    z = tg.Tensor(Z, requires_grad=True)
    F.binary_cross_entropy_with_logits(z, Y, reduction="sum").backward()
    np.testing.assert_array_equal(z.grad.data, _course_sigmoid(Z) - Y)


def test_bce_with_logits_float32_stays_float32():
    z = tg.Tensor(np.array([[0.3, -0.2]], dtype=np.float32), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(z, np.array([[1, 0]], dtype=np.uint8))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


def test_losses_reject_mismatched_shapes_naming_both():
    z = tg.Tensor(np.zeros((5, 1)))
    for loss in (F.binary_cross_entropy_with_logits, F.binary_cross_entropy, F.mse_loss):
        with pytest.raises(ValueError, match=r"input shape \(5, 1\) and target shape \(5,\)"):
            loss(z, np.zeros(5))


def test_losses_reject_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        F.mse_loss(np.zeros(2), np.zeros(2), reduction="average")
    with pytest.raises(ValueError, match="reduction"):
        nn.CrossEntropyLoss(reduction="max")


# -- binary_cross_entropy (probabilities) ----------------------------------------------------


@given(_logits_and_labels(soft=True))
def test_bce_value_and_gradient_are_the_course_formulas(pair):
    Z, Y = pair
    A = np.clip(_course_sigmoid(Z / 10), 1e-6, 1 - 1e-6)
    a = tg.Tensor(A, requires_grad=True)
    loss = F.binary_cross_entropy(a, Y)
    loss.backward()
    np.testing.assert_allclose(loss.item(), _course_cost(A, Y), rtol=1e-10, atol=1e-12)
    # dA = -(Y/A - (1-Y)/(1-A)) / m
    dA = -(Y / A - (1 - Y) / (1 - A)) / Y.size
    np.testing.assert_allclose(a.grad.data, dA, rtol=1e-8, atol=1e-12)


def test_bce_at_exact_zero_and_one_is_finite():
    a = tg.Tensor(np.array([0.0, 1.0, 0.0, 1.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.binary_cross_entropy(a, np.array([0.0, 1.0, 1.0, 0.0]))
        loss.backward()
    assert loss.item() == pytest.approx(200 / 4)  # log clamped at -100, as in PyTorch
    assert np.all(np.isfinite(a.grad.data))


def test_bce_rejects_values_outside_zero_one():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], found 1\.5.*with_logits"):
        F.binary_cross_entropy(np.array([0.5, 1.5]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="probabilities"):
        F.binary_cross_entropy(np.array([np.nan]), np.array([0.0]))


def test_bce_passes_gradcheck():
    rng = np.random.default_rng(1)
    a = tg.Tensor(rng.uniform(0.1, 0.9, size=(3, 2)), requires_grad=True)
    y = tg.Tensor(rng.uniform(size=(3, 2)), requires_grad=True)
    assert tg.gradcheck(F.binary_cross_entropy, (a, y))


# -- cross_entropy ---------------------------------------------------------------------------


def _softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


@given(st.integers(1, 8), st.integers(2, 6), st.integers(0, 10_000))
def test_cross_entropy_value_and_gradient(m, classes, seed):
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((m, classes)) * 5
    y = rng.integers(0, classes, size=m)
    z = tg.Tensor(Z, requires_grad=True)
    loss = F.cross_entropy(z, y)
    loss.backward()
    P = _softmax(Z)
    np.testing.assert_allclose(
        loss.item(), -np.log(P[np.arange(m), y]).mean(), rtol=1e-10, atol=1e-14
    )
    onehot = np.eye(classes)[y]
    np.testing.assert_allclose(z.grad.data, (P - onehot) / m, rtol=1e-10, atol=1e-14)


def test_cross_entropy_passes_gradcheck_and_gradgradcheck():
    z = tg.Tensor(np.random.default_rng(2).standard_normal((4, 3)), requires_grad=True)
    y = np.array([0, 2, 1, 2])
    for reduction in ("mean", "sum", "none"):

        def loss(z, reduction=reduction):
            out = F.cross_entropy(z, y, reduction=reduction)
            return out if reduction != "none" else (out * np.arange(1.0, 5.0)).sum()

        assert tg.gradcheck(loss, (z,))
        assert tg.gradgradcheck(loss, (z,))


def test_cross_entropy_is_stable_at_huge_logits():
    z = tg.Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = F.cross_entropy(z, np.array([0, 0]))
        loss.backward()
    assert loss.item() == pytest.approx(1000.0)
    np.testing.assert_allclose(z.grad.data, [[0, 0], [-0.5, 0.5]])


def test_cross_entropy_single_example_and_reductions():
    Z = np.array([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    per = F.cross_entropy(Z, np.array([2, 0]), reduction="none").data
    assert per.shape == (2,)
    assert F.cross_entropy(Z, np.array([2, 0]), reduction="sum").item() == pytest.approx(per.sum())
    assert F.cross_entropy(Z[0], np.int64(2)).item() == pytest.approx(per[0])


def test_cross_entropy_errors_are_clear():
    Z = np.zeros((3, 4))
    with pytest.raises(TypeError, match="integer class labels or float probabilities"):
        F.cross_entropy(Z, np.array([True, False, True]))
    with pytest.raises(ValueError, match=r"probability targets must have the input's shape"):
        F.cross_entropy(Z, np.eye(4)[[0, 1]])
    with pytest.raises(TypeError, match="third argument is weight.*reduction='sum'"):
        F.cross_entropy(Z, np.array([0, 1, 2]), "sum")
    with pytest.raises(ValueError, match=r"labels must be in \[0, 3\].*from 0 to 4"):
        F.cross_entropy(Z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match=r"input \(m, C\).*labels \(m,\).*\(3, 4\) and \(2,\)"):
        F.cross_entropy(Z, np.array([0, 1]))


# -- mse and modules -------------------------------------------------------------------------


@given(st.data())
def test_mse_loss_passes_gradcheck_for_both_arguments(data):
    shape = data.draw(shapes(min_dims=1, max_dims=3))
    x = data.draw(tensors(shape))
    target = data.draw(tensors(shape))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    assert tg.gradcheck(lambda a, b: weighted_sum(F.mse_loss(a, b, reduction)), (x, target))


def test_mse_loss_value_and_gradient():
    x = tg.Tensor(np.array([[1.0, 2.0], [3.0, 5.0]]), requires_grad=True)
    target = np.array([[0.0, 2.0], [1.0, 1.0]])
    loss = F.mse_loss(x, target)
    loss.backward()
    assert loss.item() == pytest.approx((1 + 0 + 4 + 16) / 4)
    np.testing.assert_allclose(x.grad.data, 2 * (x.data - target) / 4)
    assert F.mse_loss(x, target, reduction="sum").item() == pytest.approx(21.0)


@pytest.mark.parametrize(
    "module, function, target",
    [
        (nn.BCEWithLogitsLoss(), F.binary_cross_entropy_with_logits, np.array([[1.0, 0.0]])),
        (nn.MSELoss(reduction="sum"), lambda a, b: F.mse_loss(a, b, "sum"), np.ones((1, 2))),
        (nn.CrossEntropyLoss(), F.cross_entropy, np.array([1])),
    ],
)
def test_loss_modules_call_their_function(module, function, target):
    Z = np.array([[0.3, -0.7]])
    assert module(Z, target).item() == function(Z, target).item()


def test_bce_loss_module_on_sigmoid_output():
    a = np.array([[0.2, 0.9]])
    y = np.array([[0.0, 1.0]])
    assert nn.BCELoss()(a, y).item() == pytest.approx(_course_cost(a, y))


def test_loss_module_repr_shows_non_default_reduction():
    assert repr(nn.MSELoss()) == "MSELoss()"
    assert repr(nn.MSELoss(reduction="sum")) == "MSELoss(reduction='sum')"


def test_functional_activations_accept_arrays():
    x = np.array([-1.0, 0.5])
    np.testing.assert_allclose(F.relu(x).data, [0, 0.5])
    np.testing.assert_allclose(F.softmax(x).data.sum(), 1.0)
    np.testing.assert_allclose(np.exp(F.log_softmax(x).data), F.softmax(x).data)


# -- one_hot, normalize, softmax's dim ------------------------------------------------------


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    labels = np.array([[0, 3], [2, 1]])
    for classes in (-1, 6):
        ours = F.one_hot(labels, classes)
        theirs = torch.nn.functional.one_hot(torch.tensor(labels), classes)
        assert ours.dtype == np.int64
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\].*from 0 to 3"):
        F.one_hot(labels, 3)


@pytest.mark.parametrize("p, dim", [(2.0, 1), (1.0, 0), (3.0, -1)])
def test_normalize_matches_torch(p, dim):
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    x = np.random.default_rng(0).standard_normal((3, 4))
    ours = tg.Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.normalize(ours, p=p, dim=dim)
    expected = torch.nn.functional.normalize(theirs, p=p, dim=dim)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
    weighted_sum(out).backward()
    weighted_sum(expected).backward()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("p", [2.0, 1.0, 3.0])
def test_normalize_of_a_zero_row_has_zero_gradient_as_torch(p):
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5]])
    ours = tg.Tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    weighted_sum(F.normalize(ours, p=p)).backward()
    weighted_sum(torch.nn.functional.normalize(theirs, p=p)).backward()
    assert np.isfinite(ours.grad.data).all()
    np.testing.assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_softmax_takes_dim_or_axis_but_not_both():
    x = np.random.default_rng(1).standard_normal((2, 3))
    np.testing.assert_allclose(F.softmax(x, dim=0).data, F.softmax(x, axis=0).data)
    np.testing.assert_allclose(F.log_softmax(x, 0).data.sum(), F.log_softmax(x, axis=0).data.sum())
    with pytest.raises(TypeError, match="dim .* or axis .*not both"):
        F.softmax(x, dim=0, axis=0)

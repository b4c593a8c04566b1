"""tinygrad_dl/ops/linalg.py: matmul/dot with NumPy's rules (1-D, 2-D, batched), the course's
dW = dZ A^T and dA = W^T dZ, no gradient computed for a constant input, errors naming shapes."""

import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.ops import linalg
from tinygrad_dl.testing import (
    broadcastable_shapes,
    check_gradient,
    float_arrays,
    float_dtypes,
    matmul_shapes,
    shapes,
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


def test_dot_of_more_than_two_dimensions_follows_numpy_not_matmul():
    # np.dot pairs every axis of a with every other axis of b; matmul would batch instead.
    a, b = np.arange(8.0).reshape(2, 2, 2), np.arange(8.0).reshape(2, 2, 2) - 3
    out = tg.dot(tg.Tensor(a), tg.Tensor(b))
    assert out.shape == (2, 2, 2, 2) and np.matmul(a, b).shape == (2, 2, 2)
    np.testing.assert_array_equal(out.data, np.dot(a, b))


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


# ==============================================================================================
# einsum, products, diagonals and np.linalg: the same function on our Tensor (through np.*),
# on PyTorch and on HIPS autograd; gradcheck and gradgradcheck on random inputs.
# ==============================================================================================
try:
    import torch
except ImportError:  # pragma: no cover - CI installs torch
    torch = None
try:
    import autograd as hips
    import autograd.numpy as anp
except ImportError:  # pragma: no cover - CI installs autograd
    hips = anp = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed: pip install torch")
needs_hips = pytest.mark.skipif(hips is None, reason="HIPS autograd not installed")


def ours_value_and_grads(function, *arrays):
    """``function(*tensors)`` and the gradients of its weighted sum, as float64 arrays."""
    leaves = [tg.Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = function(*leaves)
    weighted_sum(out).backward()
    return out.data, [leaf.grad.data for leaf in leaves]


def torch_value_and_grads(function, *arrays):
    leaves = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = function(*leaves)
    weighted_sum(out).backward()
    return out.detach().numpy(), [leaf.grad.numpy() for leaf in leaves]


def assert_matches_torch(ours, theirs, *arrays, rtol=1e-7, atol=1e-9):
    """tinygrad's ``helper_test_op``: one computation in two frameworks, values and grads."""
    value, grads = ours_value_and_grads(ours, *arrays)
    expected_value, expected_grads = torch_value_and_grads(theirs, *arrays)
    np.testing.assert_allclose(value, expected_value, rtol=rtol, atol=atol, err_msg="value")
    for i, (mine, expected) in enumerate(zip(grads, expected_grads, strict=True)):
        np.testing.assert_allclose(mine, expected, rtol=rtol, atol=atol, err_msg=f"grad {i}")


def assert_matches_hips(function, *arrays, rtol=1e-7, atol=1e-9):
    """``function(np_module, *xs)`` run with NumPy on Tensors and with ``autograd.numpy``."""
    value, grads = ours_value_and_grads(lambda *ts: function(np, *ts), *arrays)
    scalar = lambda *xs: weighted_sum(function(anp, *xs))  # noqa: E731
    for i in range(len(arrays)):
        expected = hips.grad(scalar, i)(*[np.array(a, dtype=np.float64) for a in arrays])
        np.testing.assert_allclose(grads[i], expected, rtol=rtol, atol=atol, err_msg=f"grad {i}")
    np.testing.assert_allclose(value, function(np, *arrays), rtol=rtol, atol=atol)


# -- random einsum specifications ------------------------------------------------------------
@st.composite
def einsum_cases(draw):
    """Subscripts with repeated, summed and broadcast (``...``) labels, and matching arrays."""
    count = draw(st.integers(1, 3))
    sizes = {label: draw(st.integers(1, 3)) for label in "ijkl"}
    terms = [
        "".join(draw(st.lists(st.sampled_from("ijkl"), min_size=0, max_size=3)))
        for _ in range(count)
    ]
    ellipsis = draw(st.booleans())
    batch = draw(broadcastable_shapes(count, max_dims=2, max_side=3)) if ellipsis else None
    shapes_ = []
    for k, term in enumerate(terms):
        core = tuple(sizes[c] for c in term)
        if ellipsis:
            terms[k] = "..." + term
            core = batch[k] + core
        shapes_.append(core)
    used = sorted(set("".join(terms)) - {"."})
    explicit = draw(st.booleans())
    if explicit:
        output = "".join(draw(st.permutations(used))[: draw(st.integers(0, len(used)))])
        subscripts = ",".join(terms) + "->" + ("..." if ellipsis else "") + output
    else:
        subscripts = ",".join(terms)
    arrays = [draw(float_arrays(shape), label=f"operand {k}") for k, shape in enumerate(shapes_)]
    return subscripts, arrays


@given(einsum_cases())
def test_einsum_equals_numpy_and_passes_gradcheck_for_any_subscripts(case):
    subscripts, arrays = case
    out = np.einsum(subscripts, *[tg.Tensor(a) for a in arrays])
    np.testing.assert_allclose(out.data, np.einsum(subscripts, *arrays), rtol=1e-10, atol=1e-12)
    assert check_gradient(lambda *ts: tg.einsum(subscripts, *ts), *arrays)


@given(einsum_cases())
def test_einsum_second_derivatives_pass_gradgradcheck(case):
    subscripts, arrays = case
    leaves = [tg.Tensor(a, requires_grad=True) for a in arrays]
    assert tg.gradgradcheck(lambda *ts: tg.einsum(subscripts, *ts) * 1.0, leaves)


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]),
    ("i,i->", [(4,), (4,)]),
    ("i,j->ij", [(2,), (3,)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("iij->j", [(2, 2, 3)]),
    ("ij->", [(2, 3)]),
]


@needs_torch
@pytest.mark.parametrize("subscripts, shapes_", EINSUMS, ids=[e[0] for e in EINSUMS])
def test_einsum_values_and_gradients_match_torch(subscripts, shapes_):
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(shape) for shape in shapes_]
    assert_matches_torch(
        lambda *ts: np.einsum(subscripts, *ts),
        lambda *ts: torch.einsum(subscripts, *ts),
        *arrays,
    )


def test_einsum_interleaved_form_and_the_course_rule():
    rng = np.random.default_rng(3)
    W, A, dZ = rng.standard_normal((3, 4)), rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
    tW, tA = tg.Tensor(W, requires_grad=True), tg.Tensor(A, requires_grad=True)
    Z = np.einsum(tW, [0, 1], tA, [1, 2], [0, 2])
    np.testing.assert_allclose(Z.data, W @ A)
    Z.backward(dZ)
    np.testing.assert_allclose(tW.grad.data, dZ @ A.T)  # dW = dZ A^T
    np.testing.assert_allclose(tA.grad.data, W.T @ dZ)  # dA = W^T dZ


@pytest.mark.parametrize(
    "subscripts, shapes_, message",
    [
        ("ij,jk", [(2, 3), (4, 5)], "label 'j' has sizes 3 and 4"),
        ("ij", [(2, 3), (3,)], "name 1 operands but 2 were given"),
        ("ijk", [(2, 3)], "names 3 axes for an operand of 2 dimensions"),
        ("ij->ii", [(2, 2)], "repeats a label"),
        ("ij->k", [(2, 2)], "do not appear in the inputs"),
        ("...i->i", [(2, 3)], "no '...'"),
        ("i1", [(2, 3)], "labels must be letters"),
    ],
)
def test_einsum_errors_name_the_subscripts_and_the_shapes(subscripts, shapes_, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        tg.einsum(subscripts, *[tg.Tensor(np.ones(s)) for s in shapes_])
    assert str(shapes_[0]) in str(error.value)


# -- tensordot, inner, outer, kron, cross ------------------------------------------------------
PRODUCTS = {
    "tensordot int": (
        lambda m, a, b: m.tensordot(a, b, 1),
        lambda a, b: torch.tensordot(a, b, 1),
        [(2, 3), (3, 4)],
    ),
    "tensordot pair": (
        lambda m, a, b: m.tensordot(a, b, ([0, 2], [1, 0])),
        lambda a, b: torch.tensordot(a, b, ([0, 2], [1, 0])),
        [(2, 3, 4), (4, 2, 5)],
    ),
    "tensordot 0": (
        lambda m, a, b: m.tensordot(a, b, 0),
        lambda a, b: torch.tensordot(a, b, 0),
        [(2,), (3,)],
    ),
    "inner": (lambda m, a, b: m.inner(a, b), torch.inner, [(2, 3), (4, 3)]),
    "outer": (lambda m, a, b: m.outer(a, b), torch.outer, [(3,), (4,)]),
    "kron": (lambda m, a, b: m.kron(a, b), torch.kron, [(2, 3), (3, 2)]),
    "kron 1d-2d": (lambda m, a, b: m.kron(a, b), torch.kron, [(2,), (3, 2)]),
    "cross": (
        lambda m, a, b: m.cross(a, b),
        lambda a, b: torch.linalg.cross(a, b),
        [(4, 3), (4, 3)],
    ),
    "cross axis": (
        lambda m, a, b: m.cross(a, b, axis=0),
        lambda a, b: torch.linalg.cross(a, b, dim=0),
        [(3, 2), (3, 1)],
    ),
    "trace": (lambda m, a: m.trace(a), torch.trace, [(3, 4)]),
    "diag 2d": (lambda m, a: m.diag(a, 1), lambda a: torch.diag(a, 1), [(3, 4)]),
    "diag 1d": (lambda m, a: m.diag(a, -2), lambda a: torch.diag(a, -2), [(3,)]),
    "diagonal": (
        lambda m, a: m.diagonal(a, 1, 0, 2),
        lambda a: torch.diagonal(a, 1, 0, 2),
        [(3, 2, 4)],
    ),
    "tril": (lambda m, a: m.tril(a, -1), lambda a: torch.tril(a, -1), [(2, 3, 4)]),
    "triu": (lambda m, a: m.triu(a, 1), lambda a: torch.triu(a, 1), [(4, 3)]),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_and_diagonals_match_torch(name):
    function, reference, shapes_ = PRODUCTS[name]
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in shapes_]
    assert_matches_torch(lambda *ts: function(np, *ts), reference, *arrays)


# HIPS autograd's own limits: make_diagonal takes offset 0 only, and cross's gradient is not
# summed back over a broadcast operand (it returns shape (3, 2) for a (3, 1) input).
HIPS_CANNOT = {"diag 2d", "diagonal", "cross axis"}


@needs_hips
@pytest.mark.parametrize("name", sorted(set(PRODUCTS) - HIPS_CANNOT))
def test_products_and_diagonals_match_hips_autograd(name):
    function, _, shapes_ = PRODUCTS[name]
    rng = np.random.default_rng(5)
    assert_matches_hips(function, *[rng.standard_normal(s) for s in shapes_])


@pytest.mark.parametrize("name", sorted(PRODUCTS))
def test_products_and_diagonals_pass_gradgradcheck(name):
    function, _, shapes_ = PRODUCTS[name]
    rng = np.random.default_rng(6)
    leaves = [tg.Tensor(rng.standard_normal(s), requires_grad=True) for s in shapes_]
    assert tg.gradgradcheck(lambda *ts: function(np, *ts), leaves)


@given(data=st.data(), shape=shapes(min_dims=2, max_dims=3), k=st.integers(-3, 3))
def test_diagonal_trace_tril_triu_equal_numpy_and_pass_gradcheck_on_random_shapes(data, shape, k):
    x = data.draw(float_arrays(shape), label="x")
    axis1, axis2 = data.draw(st.permutations(range(len(shape))), label="axes")[:2]
    cases = [
        (lambda t: tg.diagonal(t, k, axis1, axis2), lambda a: np.diagonal(a, k, axis1, axis2)),
        (lambda t: tg.trace(t, k, axis1, axis2), lambda a: np.trace(a, k, axis1, axis2)),
        (lambda t: tg.tril(t, k), lambda a: np.tril(a, k)),
        (lambda t: tg.triu(t, k), lambda a: np.triu(a, k)),
    ]
    for ours, reference in cases:
        np.testing.assert_array_equal(ours(tg.Tensor(x)).data, reference(x))
        assert check_gradient(ours, x)


@given(data=st.data(), axes=st.sampled_from([(-1, -1, -1), (0, 1, 1), (1, 0, 0)]))
def test_cross_of_2_and_3_vectors_equals_numpy_and_passes_gradcheck(data, axes):
    lengths = data.draw(st.sampled_from([(3, 3), (2, 3), (3, 2), (2, 2)]), label="lengths")
    axisa, axisb, axisc = axes
    a = np.moveaxis(data.draw(float_arrays((2, lengths[0])), label="a"), -1, axisa)
    b = np.moveaxis(data.draw(float_arrays((2, lengths[1])), label="b"), -1, axisb)
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)

    def ours(x, y):
        return tg.cross(x, y, axisa, axisb, axisc)

    with warnings.catch_warnings():  # NumPy 2 deprecates 2-vectors
        warnings.simplefilter("ignore", DeprecationWarning)
        expected = np.cross(a, b, axisa, axisb, axisc)
    np.testing.assert_allclose(ours(tg.Tensor(a), tg.Tensor(b)).data, expected, rtol=1e-12)
    assert check_gradient(ours, a, b)


def test_cross_of_wrong_lengths_names_them():
    with pytest.raises(ValueError, match="lengths 4 and 3"):
        tg.cross(tg.Tensor(np.ones(4)), tg.Tensor(np.ones(3)))


def test_tensordot_mismatch_names_shapes_and_axes():
    with pytest.raises(ValueError, match=re.escape("shapes (2, 3) and (4, 5)")):
        tg.tensordot(tg.Tensor(np.ones((2, 3))), tg.Tensor(np.ones((4, 5))), 1)


# -- np.linalg -------------------------------------------------------------------------------
@st.composite
def invertible(draw, max_size=4, batch=True):
    """Diagonally dominant square matrices (batched too): invertible and well conditioned."""
    size = draw(st.integers(1, max_size))
    lead = draw(shapes(0, 1, 1, 2)) if batch else ()
    a = draw(float_arrays(lead + (size, size), min_value=-1.0, max_value=1.0), label="a")
    return a + 1.5 * size * np.eye(size)


@st.composite
def spd(draw, max_size=4):
    """Symmetric positive-definite matrices ``B B^T + n I``."""
    b = draw(invertible(max_size, batch=False))
    return b @ b.T + len(b) * np.eye(len(b))


@st.composite
def symmetric_distinct(draw, max_size=4):
    """Symmetric ``Q diag(w) Q^T`` with eigenvalues at least 0.5 apart."""
    size = draw(st.integers(1, max_size))
    w = draw(float_arrays((size,), distinct=True, margin=0.5), label="eigenvalues")
    q = np.linalg.qr(draw(float_arrays((size, size)), label="q") + 3 * size * np.eye(size))[0]
    return (q * w) @ q.T


@st.composite
def distinct_singular(draw, max_side=4):
    """``U diag(s) V^T`` of any shape with singular values positive and apart."""
    rows, columns = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    k = min(rows, columns)
    s = draw(float_arrays((k,), positive=True, distinct=True, margin=0.3, max_value=2.0))
    u = np.linalg.qr(draw(float_arrays((rows, rows))) + 3 * rows * np.eye(rows))[0][:, :k]
    v = np.linalg.qr(draw(float_arrays((columns, columns))) + 3 * columns * np.eye(columns))[0]
    return (u * s) @ v[:, :k].T


@st.composite
def full_rank(draw, max_side=4):
    """Any shape, entries away from 0 (where LAPACK's Householder signs jump) and a dominant
    leading diagonal, so the leading square block is invertible (QR's gradient needs it)."""
    rows, columns = draw(st.integers(1, max_side)), draw(st.integers(1, max_side))
    a = draw(float_arrays((rows, columns), min_value=-1, max_value=1, away_from=0.0))
    return a + 3 * np.eye(rows, columns)


def symmetrized(function):
    """``function((X + X^T) / 2)``: eigh and cholesky read one triangle; their gradient (as in
    PyTorch) is for a symmetric input, which this makes every perturbation be."""
    return lambda x: function((x + np.swapaxes(x, -1, -2)) / 2)


def _projector(vectors, columns_last=True):
    """``V diag(c) V^T`` for fixed weights ``c``: smooth, and unchanged when a column of ``V``
    changes sign (the only freedom in real eigen/singular vectors with distinct values)."""
    count = vectors.shape[-1] if columns_last else vectors.shape[-2]
    weights = np.arange(1.0, count + 1.0)
    if torch is not None and isinstance(vectors, torch.Tensor):
        weights = torch.as_tensor(weights)
    elif isinstance(vectors, tg.Tensor):  # on the vectors' device (tests/test_backend.py)
        weights = tg.Tensor(weights, device=vectors.device)
    if columns_last:
        return (vectors * weights) @ vectors.T
    return (vectors.T * weights) @ vectors


def gauge_invariant_eigh(m, x):
    values, vectors = m.linalg.eigh(x)
    return m.concatenate([values, _projector(vectors).reshape(-1)])


def gauge_invariant_svd(m, x):
    u, s, vh = m.linalg.svd(x, full_matrices=False)
    parts = [s, _projector(u).reshape(-1), _projector(vh, columns_last=False).reshape(-1)]
    return m.concatenate(parts)


def torch_gauge_invariant_eigh(x):
    values, vectors = torch.linalg.eigh(x)
    return torch.cat([values, _projector(vectors).reshape(-1)])


def torch_gauge_invariant_svd(x):
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    parts = [s, _projector(u).reshape(-1), _projector(vh, columns_last=False).reshape(-1)]
    return torch.cat(parts)


# name -> (function(np_module, x), torch function, strategy of x)
LINALG = {
    "inv": (lambda m, x: m.linalg.inv(x), torch.linalg.inv if torch else None, invertible()),
    "det": (lambda m, x: m.linalg.det(x), torch.linalg.det if torch else None, invertible()),
    "slogdet": (
        lambda m, x: m.linalg.slogdet(x)[1],
        (lambda x: torch.linalg.slogdet(x)[1]) if torch else None,
        invertible(),
    ),
    "solve": (
        lambda m, x: m.linalg.solve(x, m.ones((x.shape[-1], 2)) + x[..., :1] * 0.5),
        (lambda x: torch.linalg.solve(x, torch.ones((x.shape[-1], 2)) + x[..., :1] * 0.5))
        if torch
        else None,
        invertible(),
    ),
    "cholesky": (
        lambda m, x: m.linalg.cholesky((x + m.swapaxes(x, -1, -2)) / 2),
        (lambda x: torch.linalg.cholesky((x + x.mT) / 2)) if torch else None,
        spd(),
    ),
    "eigh": (
        lambda m, x: gauge_invariant_eigh(m, (x + m.swapaxes(x, -1, -2)) / 2),
        (lambda x: torch_gauge_invariant_eigh((x + x.mT) / 2)) if torch else None,
        symmetric_distinct(),
    ),
    "svd": (gauge_invariant_svd, torch_gauge_invariant_svd, distinct_singular()),
    "svd values": (
        lambda m, x: m.linalg.svd(x, compute_uv=False),
        torch.linalg.svdvals if torch else None,
        distinct_singular(),
    ),
    "qr": (
        lambda m, x: m.concatenate([r.reshape(-1) for r in m.linalg.qr(x)]),
        (lambda x: torch.cat([r.reshape(-1) for r in torch.linalg.qr(x)])) if torch else None,
        full_rank(),
    ),
    "pinv": (
        lambda m, x: m.linalg.pinv(x),
        torch.linalg.pinv if torch else None,
        distinct_singular(),
    ),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(LINALG))
@given(data=st.data())
def test_linalg_values_and_gradients_match_torch(name, data):
    function, reference, matrices = LINALG[name]
    x = data.draw(matrices, label="x")
    assert_matches_torch(lambda t: function(np, t), reference, x, rtol=1e-6, atol=1e-8)


# HIPS autograd has no rule for qr or pinv, and its eigh gradient is the non-symmetric one.
@needs_hips
@pytest.mark.parametrize("name", sorted(set(LINALG) - {"qr", "pinv"}))
@given(data=st.data())
def test_linalg_gradients_match_hips_autograd(name, data):
    function, _, matrices = LINALG[name]
    x = data.draw(matrices, label="x")
    assert_matches_hips(function, x, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(LINALG))
@given(data=st.data())
def test_linalg_gradients_pass_gradcheck(name, data):
    function, _, matrices = LINALG[name]
    x = data.draw(matrices, label="x")
    assert check_gradient(lambda t: function(np, t), x, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(LINALG))
@settings(max_examples=5)
@given(data=st.data())
def test_linalg_second_derivatives_pass_gradgradcheck(name, data):
    function, _, matrices = LINALG[name]
    x = data.draw(matrices, label="x")
    leaf = tg.Tensor(x, requires_grad=True)
    assert tg.gradgradcheck(lambda t: function(np, t), [leaf], atol=1e-4, rtol=1e-3)


@given(data=st.data())
def test_batched_solve_broadcasts_and_sums_the_gradient_back(data):
    a = data.draw(invertible(batch=False), label="a")
    size = len(a)
    b = data.draw(float_arrays((2, size, 3)), label="b")
    out = np.linalg.solve(tg.Tensor(a), tg.Tensor(b))
    np.testing.assert_allclose(out.data, np.linalg.solve(a, b), rtol=1e-10)
    assert check_gradient(np.linalg.solve, a, b)
    vector = data.draw(float_arrays((size,)), label="vector")
    np.testing.assert_allclose(
        np.linalg.solve(tg.Tensor(a), tg.Tensor(vector)).data, np.linalg.solve(a, vector)
    )
    assert check_gradient(np.linalg.solve, a, vector)


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])  # rank 2
    leaf = tg.Tensor(a, requires_grad=True)
    np.linalg.det(leaf).backward()
    cofactors = np.array(
        [
            [np.linalg.det(np.delete(np.delete(a, i, 0), j, 1)) * (-1) ** (i + j) for j in range(3)]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(leaf.grad.data, cofactors, atol=1e-12)
    assert check_gradient(np.linalg.det, a)


def test_eigh_and_svd_return_numpy_named_results_equal_to_numpy():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((3, 2))
    u, s, vh = np.linalg.svd(tg.Tensor(a), full_matrices=False)
    result = np.linalg.svd(a, full_matrices=False)
    np.testing.assert_allclose(u.data, result.U)
    np.testing.assert_allclose(s.data, result.S)
    np.testing.assert_allclose(vh.data, result.Vh)
    sym = a @ a.T
    values, vectors = np.linalg.eigh(tg.Tensor(sym))
    np.testing.assert_allclose(values.data, np.linalg.eigh(sym).eigenvalues)
    np.testing.assert_allclose(vectors.data, np.linalg.eigh(sym).eigenvectors)
    assert tg.linalg.eigh(tg.Tensor(sym)).eigenvalues.shape == (3,)


def test_full_svd_gradient_through_s_and_the_leading_vectors_only():
    rng = np.random.default_rng(8)
    a = tg.Tensor(rng.standard_normal((4, 2)), requires_grad=True)
    u, s, vh = np.linalg.svd(a)  # NumPy's default: full_matrices=True
    assert u.shape == (4, 4)
    (s.sum() + abs(u[:, :2]).sum()).backward()
    assert a.grad is not None and np.all(np.isfinite(a.grad.data))
    a.grad = None
    u, s, vh = np.linalg.svd(a)
    with pytest.raises(np.linalg.LinAlgError, match="full_matrices=False"):
        abs(u).sum().backward()


def test_eigenvector_gradient_at_repeated_eigenvalues_raises_instead_of_nan():
    leaf = tg.Tensor(np.eye(3), requires_grad=True)
    values, vectors = np.linalg.eigh(leaf)
    with pytest.raises(np.linalg.LinAlgError, match="np.linalg.eigh"):
        (vectors[0] * np.array([1.0, 2.0, 3.0])).sum().backward()
    leaf = tg.Tensor(np.eye(3), requires_grad=True)
    np.linalg.eigh(leaf)[0].sum().backward()  # the eigenvalues alone are fine
    np.testing.assert_allclose(leaf.grad.data, np.eye(3))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: np.linalg.inv(tg.Tensor(np.ones((2, 3)))), "np.linalg.inv: expected square"),
        (lambda: np.linalg.inv(tg.Tensor(np.ones((2, 2)))), "np.linalg.inv: Singular matrix"),
        (lambda: np.linalg.det(tg.Tensor(np.ones(3))), "np.linalg.det: expected square"),
        (
            lambda: np.linalg.cholesky(tg.Tensor(-np.eye(2))),
            "np.linalg.cholesky: Matrix is not positive definite",
        ),
        (
            lambda: np.linalg.solve(tg.Tensor(np.eye(2)), tg.Tensor(np.ones(3))),
            "np.linalg.solve: shapes (2, 2) and (3,)",
        ),
        (lambda: np.linalg.norm(tg.Tensor(np.ones(3)), "fro"), "np.linalg.norm: invalid norm"),
        (lambda: np.linalg.eig(tg.Tensor(np.eye(2), requires_grad=True)), "np.linalg.eig "),
    ],
)
def test_linalg_errors_name_the_numpy_linalg_function(call, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        call()


# -- norms -------------------------------------------------------------------------------------
VECTOR_ORDERS = [None, 1, 2, 3, 0.5, np.inf, -np.inf, -1]  # 0 below: torch has no gradient
MATRIX_ORDERS = ["fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]


@needs_torch
@pytest.mark.parametrize("order", VECTOR_ORDERS, ids=str)
@given(data=st.data())
def test_vector_norms_match_torch(order, data):
    x = data.draw(float_arrays((2, 4), away_from=0.0, distinct=True), label="x")
    axis = data.draw(st.sampled_from([0, 1, -1]), label="axis")
    keepdims = data.draw(st.booleans(), label="keepdims")
    torch_order = 2 if order is None else order
    assert_matches_torch(
        lambda t: np.linalg.norm(t, order, axis, keepdims),
        lambda t: torch.linalg.vector_norm(t, torch_order, axis, keepdims),
        x,
        rtol=1e-6,
    )
    assert check_gradient(lambda t: np.linalg.norm(t, order, axis, keepdims), x)


@needs_torch
@pytest.mark.parametrize("order", MATRIX_ORDERS, ids=str)
@given(data=st.data())
def test_matrix_norms_match_torch(order, data):
    x = data.draw(distinct_singular(), label="x")
    x = x + data.draw(float_arrays(x.shape, min_value=-0.01, max_value=0.01, distinct=True))
    keepdims = data.draw(st.booleans(), label="keepdims")
    assert_matches_torch(
        lambda t: np.linalg.norm(t, order, keepdims=keepdims),
        lambda t: torch.linalg.matrix_norm(t, order, keepdim=keepdims),
        x,
        rtol=1e-6,
    )


@given(x=float_arrays(shapes(min_dims=1, max_dims=3), away_from=0.0))
def test_norm_default_equals_numpy_over_every_axis_and_passes_gradgradcheck(x):
    np.testing.assert_allclose(np.linalg.norm(tg.Tensor(x)).data, np.linalg.norm(x), rtol=1e-12)
    assert check_gradient(np.linalg.norm, x)
    assert tg.gradgradcheck(np.linalg.norm, [tg.Tensor(x, requires_grad=True)])


def test_norm_order_0_counts_nonzeros_and_has_zero_gradient_in_the_graph():
    x = tg.Tensor(np.array([[0.0, 2.0, -1.0], [0.0, 0.0, 3.0]]), requires_grad=True)
    out = np.linalg.norm(x, 0, axis=1)
    np.testing.assert_array_equal(out.data, [2.0, 1.0])
    assert out.requires_grad
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


@pytest.mark.parametrize("order", [None, 1, 3, np.inf, 0])
def test_norm_of_zeros_has_zero_gradient_as_in_torch(order):
    leaf = tg.Tensor(np.zeros(3), requires_grad=True)
    out = np.linalg.norm(leaf, order)
    assert out.requires_grad
    out.backward()
    np.testing.assert_array_equal(leaf.grad.data, np.zeros(3))


@given(data=st.data())
def test_norm_over_a_matrix_axis_pair_and_keepdims_equals_numpy(data):
    x = data.draw(float_arrays((2, 3, 2), away_from=0.0), label="x")
    axis = data.draw(st.sampled_from([(0, 1), (2, 0), (-1, -2)]), label="axis")
    order = data.draw(st.sampled_from(["fro", 1, -np.inf, "nuc"]), label="order")
    keepdims = data.draw(st.booleans(), label="keepdims")
    out = np.linalg.norm(tg.Tensor(x), order, axis, keepdims)
    np.testing.assert_allclose(out.data, np.linalg.norm(x, order, axis, keepdims), rtol=1e-10)


def test_svd_hermitian_gives_numpys_factors_and_a_correct_gradient():
    rng = np.random.default_rng(10)
    a = rng.standard_normal((3, 3))
    a = a + a.T

    def loss(t):
        u, s, vh = np.linalg.svd((t + t.T) / 2, hermitian=True)
        return s.sum() + (u * np.arange(1.0, 4.0)) @ u.T

    result = np.linalg.svd(tg.Tensor(a), hermitian=True)
    np.testing.assert_allclose(result.U.data, np.linalg.svd(a, hermitian=True).U)
    assert check_gradient(loss, a)


def test_every_linalg_op_states_its_gradient_rule():
    ops = [value for value in vars(linalg).values() if isinstance(value, tg.autograd.Op)]
    assert len(ops) >= 15
    assert [op.name for op in ops if not op.rule.startswith("d")] == []


# -- PyTorch's method names: the same lambda on our Tensor and on torch.Tensor ----------------
METHODS = {
    "outer": (lambda a, b: a.outer(b), [(3,), (4,)]),
    "inner": (lambda a, b: a.inner(b), [(2, 3), (4, 3)]),
    "kron": (lambda a, b: a.kron(b), [(2, 2), (3, 1)]),
    "cross": (lambda a, b: a.cross(b), [(3, 2), (3, 2)]),
    "cross dim": (lambda a, b: a.cross(b, dim=-1), [(4, 3), (4, 3)]),
    "trace": (lambda a: a.trace(), [(3, 3)]),
    "diagonal": (lambda a: a.diagonal(1, 0, 1), [(3, 4)]),
    "tril": (lambda a: a.tril(-1), [(3, 4)]),
    "triu": (lambda a: a.triu(1), [(2, 3, 3)]),
    "det": (lambda a: a.det(), [(2, 3, 3)]),
    "inverse": (lambda a: a.inverse(), [(3, 3)]),
    "pinverse": (lambda a: a.pinverse(), [(3, 2)]),
}


@needs_torch
@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")  # the default
@pytest.mark.parametrize("name", sorted(METHODS))
def test_linalg_methods_match_torch_methods(name):
    function, shapes_ = METHODS[name]
    rng = np.random.default_rng(11)
    # Square inputs get a dominant diagonal, so det and inverse are well conditioned.
    arrays = [
        rng.standard_normal(s) + (3 * np.eye(s[-1]) if s[-2:] == (s[-1],) * 2 else 0)
        for s in shapes_
    ]
    assert_matches_torch(function, function, *arrays, rtol=1e-6)


def test_tensor_norm_of_zeros_has_zero_gradient_for_any_p():
    x = tg.Tensor(np.zeros((2, 3)), requires_grad=True)
    x.norm(3, dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.zeros((2, 3)))


@given(x=float_arrays((3,)), k=st.integers(-2, 2))
def test_tril_triu_of_a_vector_broadcast_it_to_a_matrix_first_as_numpy(x, k):
    for ours, theirs in [(tg.tril, np.tril), (tg.triu, np.triu)]:
        np.testing.assert_array_equal(ours(tg.Tensor(x), k).data, theirs(x, k))
        assert check_gradient(lambda t, ours=ours: ours(t, k), x)
    with pytest.raises(ValueError, match="tril: needs at least 1 dimension"):
        tg.tril(tg.Tensor(1.0))


# -- products and solvers composed from the ops above -------------------------------------------
@given(data=st.data())
def test_lstsq_equals_numpy_for_tall_wide_and_vector_cases_and_passes_gradcheck(data):
    a = data.draw(distinct_singular(), label="a")
    columns = data.draw(st.sampled_from([None, 1, 2]), label="columns of b")
    b_shape = (a.shape[0],) if columns is None else (a.shape[0], columns)
    b = data.draw(float_arrays(b_shape), label="b")
    ours = np.linalg.lstsq(tg.Tensor(a), tg.Tensor(b))
    expected = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(ours.x.data, expected[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ours.residuals.data, expected[1], rtol=1e-8, atol=1e-10)
    assert ours.rank == expected[2]
    np.testing.assert_allclose(ours.s.data, expected[3], rtol=1e-10)
    assert check_gradient(lambda x, y: np.linalg.lstsq(x, y)[0], a, b, atol=1e-5, rtol=1e-4)
    if ours.residuals.size:
        assert check_gradient(lambda x, y: np.linalg.lstsq(x, y)[1], a, b, atol=1e-5, rtol=1e-4)


@given(a=invertible(batch=True), n=st.integers(-3, 4))
def test_matrix_power_equals_numpy_for_every_sign_of_n_and_passes_gradgradcheck(a, n):
    out = np.linalg.matrix_power(tg.Tensor(a), n)
    np.testing.assert_allclose(out.data, np.linalg.matrix_power(a, n), rtol=1e-9, atol=1e-12)
    leaf = tg.Tensor(a, requires_grad=True)
    assert tg.gradgradcheck(lambda t: np.linalg.matrix_power(t, n), [leaf], atol=1e-4)


VECTOR_PRODUCTS = {
    "np.vdot": (np.vdot, [(2, 3), (3, 2)]),
    "np.linalg.vecdot": (np.linalg.vecdot, [(2, 3), (3,)]),
    "np.vecdot": (getattr(np, "vecdot", np.linalg.vecdot), [(4, 1, 3), (2, 3)]),
    "np.matvec": (getattr(np, "matvec", tg.linalg.matvec), [(2, 3, 4), (4,)]),
    "np.vecmat": (getattr(np, "vecmat", tg.linalg.vecmat), [(3,), (2, 3, 4)]),
    "np.linalg.multi_dot": (lambda *xs: np.linalg.multi_dot(xs), [(3,), (3, 4), (4, 2), (2,)]),
    "np.linalg.matrix_transpose": (np.linalg.matrix_transpose, [(2, 3, 4)]),
    "np.linalg.tensordot": (
        lambda x, y: np.linalg.tensordot(x, y, axes=([0], [1])),
        [(3, 2), (4, 3)],
    ),
}


@pytest.mark.parametrize("name", sorted(VECTOR_PRODUCTS))
def test_vector_products_equal_numpy_and_pass_gradgradcheck(name):
    function, shapes_ = VECTOR_PRODUCTS[name]
    rng = np.random.default_rng(13)
    arrays = [rng.standard_normal(s) for s in shapes_]
    out = function(*[tg.Tensor(a) for a in arrays])
    assert isinstance(out, tg.Tensor)
    np.testing.assert_allclose(out.data, function(*arrays), rtol=1e-12)
    leaves = [tg.Tensor(a, requires_grad=True) for a in arrays]
    assert tg.gradgradcheck(function, leaves)


# -- np.dot's N-d rule: last axis of a with the second-to-last of b ---------------------------
@st.composite
def dot_nd_shapes(draw):
    """Operand shapes for np.dot with at least one of more than two dimensions."""
    size = draw(st.integers(1, 3))
    lead_a = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    lead_b = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    shape_b = lead_b + (size, draw(st.integers(1, 3))) if draw(st.booleans()) else (size,)
    shape_a = lead_a + (size,)
    if len(shape_a) <= 2 and len(shape_b) <= 2:
        shape_a = (2,) + shape_a if len(shape_a) == 2 else (2, 2) + shape_a
    return shape_a, shape_b


@needs_hips
@given(shapes_=dot_nd_shapes(), data=st.data())
def test_dot_of_nd_operands_matches_numpy_and_hips_autograd(shapes_, data):
    a = data.draw(float_arrays(shapes_[0]), label="a")
    b = data.draw(float_arrays(shapes_[1]), label="b")
    assert_matches_hips(lambda np_, x, y: np_.dot(x, y), a, b)
    leaves = [tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)]
    assert tg.gradgradcheck(np.dot, leaves)


def test_dot_of_nd_operands_that_do_not_align_names_both_shapes_and_dims():
    a, b = tg.Tensor(np.ones((2, 3))), tg.Tensor(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match=re.escape("dot: shapes (2, 3) and (2, 4, 5) not aligned")):
        np.dot(a, b)


# -- eigh reads one triangle: its gradient is for the entries it reads --------------------------
@needs_hips
@pytest.mark.parametrize("uplo", ["L", "U"])
@settings(max_examples=10)
@given(
    read=float_arrays(st.sampled_from([(3, 3), (2, 3, 3)])),
    ignored=float_arrays((3, 3)),
)
def test_eigh_of_an_unsymmetric_input_has_the_gradient_of_the_triangle_it_reads(
    uplo, read, ignored
):
    # np.linalg.eigh(X) ignores one triangle of X: gradient 0 there, the mirror's share in the
    # other (HIPS autograd's rule), so gradcheck holds without symmetrizing the input. The read
    # triangle is diag(0, 2, 4) plus a small symmetric part: eigenvalues stay >= 1 apart.
    symmetric = np.diag([0.0, 2.0, 4.0]) + 0.05 * (read + np.swapaxes(read, -1, -2))
    if uplo == "L":
        x, unread = np.tril(symmetric) + np.triu(ignored, 1), np.triu(np.ones((3, 3)), 1)
    else:
        x, unread = np.triu(symmetric) + np.tril(ignored, -1), np.tril(np.ones((3, 3)), -1)

    def function(m, t):
        values, vectors = m.linalg.eigh(t, uplo)
        weights = np.array([1.0, 2.0, 3.0])  # V diag(c) V^T: unchanged by a column's sign
        return (values * values)[..., None] + (vectors * weights) @ m.swapaxes(vectors, -1, -2)

    assert_matches_hips(function, x, rtol=1e-6, atol=1e-8)
    leaf = tg.Tensor(x, requires_grad=True)
    assert tg.gradgradcheck(lambda t: function(np, t), [leaf], atol=1e-4, rtol=1e-3)
    weighted_sum(function(np, leaf)).backward()
    np.testing.assert_array_equal(leaf.grad.data * unread, 0.0)

"""tinygrad_dl/autograd.py: the backward engine (ordered, no recursion), graph freeing without
reference cycles, accumulation, retain_graph, create_graph (second derivatives, hvp), grad modes,
tg.grad / value_and_grad, skipped gradients for constants, and anomaly mode."""

import gc
import inspect
import re
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.ops import elementwise
from tinygrad_dl.testing import float_arrays, shapes


# -- depth and order ---------------------------------------------------------------------------
def test_a_100000_op_chain_runs_forward_and_backward_without_recursion_error():
    x = tg.Tensor(np.array([0.5, -0.25]), requires_grad=True)
    y = x
    for _ in range(50_000):  # two recorded ops per step: 100,000 nodes deep
        y = y * 1.00001
        y = y + 0.5
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, [1.00001**50_000] * 2, rtol=1e-9)


def test_diamond_graph_sums_gradients_of_every_path():
    # y = x^2 reaches the loss through three paths; each contributes.
    x = tg.Tensor(np.array([1.5, -2.0]), requires_grad=True)
    y = x * x
    loss = (tg.exp(y) + y * 3 + tg.sin(y)).sum()
    loss.backward()
    expected = (np.exp(x.data**2) + 3 + np.cos(x.data**2)) * 2 * x.data
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_the_same_tensor_used_twice_in_one_op_gets_both_gradients():
    x = tg.Tensor(np.array([3.0]), requires_grad=True)
    (x * x).backward(np.ones(1))
    np.testing.assert_array_equal(x.grad.data, [6.0])
    y = tg.Tensor(np.array([3.0]), requires_grad=True)
    (y + y).sum().backward()
    np.testing.assert_array_equal(y.grad.data, [2.0])


# -- freeing the graph -------------------------------------------------------------------------
def _build(x):
    hidden = tg.tanh(x @ np.ones((2, 2)) + 1.0)
    out = tg.sigmoid(hidden) * hidden
    return hidden, out, out.sum()


def test_backward_frees_every_interior_tensor_even_while_the_loss_is_alive():
    x = tg.Tensor(np.array([[0.1, 0.2]]), requires_grad=True)
    hidden, out, loss = _build(x)
    refs = [weakref.ref(hidden), weakref.ref(out)]
    del hidden, out
    assert all(r() is not None for r in refs)  # the graph holds them until backward
    loss.backward()
    assert all(r() is None for r in refs), "backward kept an interior tensor alive"
    assert loss.grad_fn is not None and x.grad is not None


def test_retain_graph_keeps_the_graph_until_the_loss_goes():
    x = tg.Tensor(np.array([[0.1, 0.2]]), requires_grad=True)
    hidden, out, loss = _build(x)
    refs = [weakref.ref(hidden), weakref.ref(out)]
    del hidden, out
    loss.backward(retain_graph=True)
    assert all(r() is not None for r in refs)
    del loss
    assert all(r() is None for r in refs)


def test_graph_has_no_reference_cycles_it_is_freed_by_refcount_alone():
    gc.collect()
    gc.disable()
    try:
        x = tg.Tensor(np.array([[0.1, 0.2]]), requires_grad=True)
        hidden, out, loss = _build(x)
        refs = [weakref.ref(t) for t in (hidden, out, loss)]
        node_ref = weakref.ref(loss.grad_fn)
        del hidden, out, loss
        assert all(r() is None for r in refs) and node_ref() is None
        # after a backward too, including the .grad tensors
        hidden, out, loss = _build(x)
        loss.backward()
        refs = [weakref.ref(t) for t in (hidden, out, loss, x.grad)]
        del hidden, out, loss
        x.grad = None
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_create_graph_gradients_are_freed_by_refcount_too():
    gc.collect()
    gc.disable()
    try:
        x = tg.Tensor(np.array([0.3, -0.7]), requires_grad=True)
        (g,) = tg.grad(tg.tanh(x).sum(), x, create_graph=True)
        refs = [weakref.ref(g), weakref.ref(g.grad_fn)]
        del g
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


# -- accumulation and retain_graph ---------------------------------------------------------
def test_gradients_accumulate_across_backward_calls_like_pytorch():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])


def test_accumulated_gradient_does_not_alias_another_leafs_gradient():
    a = tg.Tensor(np.array([1.0]), requires_grad=True)
    b = tg.Tensor(np.array([2.0]), requires_grad=True)
    (a + b).sum().backward()
    (a * 5).sum().backward()
    np.testing.assert_array_equal(a.grad.data, [6.0])
    np.testing.assert_array_equal(b.grad.data, [1.0])


# Backward keeps fresh arrays as .grad without copying; these expressions pass one gradient
# array to several places (add, views, transposes, slices), where a missed copy would alias.
ALIASING = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "same_twice": lambda a, b: a + a + b,
    "transposed": lambda a, b: a.T + b.T,
    "reshaped": lambda a, b: a.reshape(-1) + b.reshape(-1),
    "matmul": lambda a, b: a @ b,
    "matmul_transposed": lambda a, b: (a.T @ b.T).T,
    "sliced": lambda a, b: a[:] + b[:, :],
    "stack": lambda a, b: tg.stack([a, b]),
    "concatenate": lambda a, b: tg.concatenate([a, b]),
    "split": lambda a, b: tg.split(tg.concatenate([a, b]), 2)[1],
    "where": lambda a, b: tg.where(a.detach() > 0, a, b),
    "broadcast_sum": lambda a, b: a + b.sum(axis=0, keepdims=True),
    "scalar_ops": lambda a, b: a * 1 + (b + 0.0),
}


@pytest.mark.parametrize("name", sorted(ALIASING))
def test_leaf_gradients_own_writeable_memory_shared_with_nothing_else(name):
    rng = np.random.default_rng(0)
    a = tg.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = tg.Tensor(rng.standard_normal((3, 3)), requires_grad=True)
    out = ALIASING[name](a, b)
    seed = rng.standard_normal(out.shape)
    out.backward(seed)
    others = {"a.data": a.data, "b.data": b.data, "seed": seed, "out": out.data}
    for grad_name, gradient in (("a.grad", a.grad.data), ("b.grad", b.grad.data)):
        assert gradient.flags.writeable, grad_name
        for other_name, other in others.items():
            assert not np.shares_memory(gradient, other), f"{grad_name} aliases {other_name}"
    assert not np.shares_memory(a.grad.data, b.grad.data)


def test_backward_seed_is_copied_not_aliased():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    seed = np.array([1.0, 1.0])
    (x * 1.0).backward(seed)
    seed[:] = 100
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0])


def test_backward_seed_given_as_a_tensor_is_not_aliased_either():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    seed = tg.Tensor(np.array([1.0, 1.0]), requires_grad=True)
    (x + 0.0).backward(seed)
    assert x.grad.data is not seed.data
    with tg.no_grad():
        x.grad.zero_()  # an optimiser's zero_grad must not zero the caller's seed
    np.testing.assert_array_equal(seed.data, [1.0, 1.0])


def test_second_backward_without_retain_graph_is_an_error_naming_retain_graph():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = tg.exp(x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward_that_accumulates():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = tg.exp(x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.data, 2 * np.exp(x.data))


def test_non_scalar_backward_names_the_shape():
    y = tg.Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=re.escape("shape (2, 3)")):
        y.backward()


def test_backward_with_a_wrongly_shaped_gradient_names_both_shapes():
    y = tg.Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=re.escape("(3, 2)")) as error:
        y.backward(np.ones((3, 2)))
    assert "(2, 3)" in str(error.value)


def test_backward_of_a_tensor_without_graph_is_an_error():
    with pytest.raises(RuntimeError, match="does not require grad"):
        tg.Tensor(np.ones(2)).sum().backward()


# -- only what is needed is computed -------------------------------------------------------
def test_inputs_that_do_not_require_grad_get_no_gradient_computed(monkeypatch):
    calls = []
    original = elementwise.MUL.vjp

    def spy(g, out, inputs, extra, needs):
        grads = original(g, out, inputs, extra, needs)
        calls.append((tuple(needs), tuple(grad is not None for grad in grads)))
        return grads

    monkeypatch.setattr(elementwise.MUL, "vjp", spy)
    w = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    x = tg.Tensor(np.array([3.0, 4.0]))
    (w * x).sum().backward()
    assert calls == [((True, False), (True, False))]
    assert x.grad is None


def test_ops_on_constants_record_nothing():
    x = tg.Tensor(np.array([1.0, 2.0]))
    y = tg.exp(x) * 2 + x
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


# -- create_graph: higher order ------------------------------------------------------------
@given(float_arrays(shapes(max_dims=2)))
def test_second_derivative_of_tanh_is_minus_two_tanh_times_one_minus_tanh_squared(z):
    x = tg.Tensor(z, requires_grad=True)
    (first,) = tg.grad(tg.tanh(x).sum(), x, create_graph=True)
    t = np.tanh(z)
    np.testing.assert_allclose(first.data, 1 - t**2, rtol=1e-12, atol=1e-15)
    assert first.requires_grad
    first.sum().backward()
    np.testing.assert_allclose(x.grad.data, -2 * t * (1 - t**2), rtol=1e-10, atol=1e-14)


def test_backward_with_create_graph_records_the_gradient():
    x = tg.Tensor(np.array([0.5, 2.0]), requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    (second,) = tg.grad(x.grad.sum(), x)
    np.testing.assert_allclose(second.data, 6 * x.data)


# name -> (function, float_arrays options)
SECOND_ORDER = {
    "exp": (tg.exp, {}),
    "log": (tg.log, {"positive": True}),
    "sqrt": (tg.sqrt, {"positive": True}),
    "sin_cos": (lambda x: tg.sin(x) * tg.cos(x), {}),
    "tanh": (tg.tanh, {}),
    "sigmoid": (tg.sigmoid, {}),
    "softplus": (tg.softplus, {}),
    "relu_times_x": (lambda x: tg.relu(x) * x, {"away_from": 0.0}),
    "leaky_relu_times_x": (lambda x: tg.leaky_relu(x) * x, {"away_from": 0.0}),
    "abs_times_x": (lambda x: tg.abs(x) * x, {"away_from": 0.0}),
    "div": (lambda x: 1 / (x * x + 1) + x / 3, {}),
    "pow": (lambda x: x**3 + 2**x, {}),
    "pow_tensor": (lambda x: x**x, {"positive": True}),
    "matmul": (lambda x: (x.reshape(-1, 1) @ x.reshape(1, -1)) ** 2, {}),
    "mean_var": (lambda x: tg.var(x) * tg.mean(x * x), {}),
    "max": (lambda x: tg.max(x * x, axis=-1), {"distinct": True, "away_from": 0.0}),
    "logsumexp": (lambda x: tg.logsumexp(x * x, axis=-1), {}),
    "softmax": (lambda x: tg.softmax(x * x, axis=-1), {}),
    "log_softmax": (lambda x: tg.log_softmax(x * x, axis=-1), {}),
    "getitem": (lambda x: x[..., ::-1] * x, {}),
    "clip_where": (
        lambda x: tg.where(x > 0, tg.clip(x, -1, 1) * x, x * x * x),
        {"away_from": [-1.0, 0.0, 1.0], "margin": 0.05},
    ),
    "reshape_transpose_swapaxes": (
        lambda x: (x.T * tg.swapaxes(x, 0, -1)).reshape(-1) ** 2,
        {},
    ),
    "concatenate_stack": (
        lambda x: tg.stack([tg.concatenate([x, x * x], axis=-1), tg.concatenate([x * x, x], -1)]),
        {},
    ),
    "split": (lambda x: sum(p * p * p for p in tg.split(x, x.shape[-1], axis=-1)), {}),
    "broadcast_expand_squeeze": (
        lambda x: tg.squeeze(tg.expand_dims(x, 0), 0) * tg.broadcast_to(x * x, (2,) + x.shape),
        {},
    ),
    "sum_axis_keepdims": (lambda x: tg.sum(x * x, axis=-1, keepdims=True) * x, {}),
    "std_axis": (lambda x: tg.std(x, axis=-1) * tg.mean(x, axis=-1), {"distinct": True}),
    "dot": (lambda x: tg.dot(x.reshape(-1), x.reshape(-1) * x.reshape(-1)), {}),
    "maximum": (lambda x: tg.maximum(x, 0.5) * x, {"away_from": 0.5}),
    "minimum": (lambda x: tg.minimum(x, -0.5) * x, {"away_from": -0.5}),
}


@pytest.mark.parametrize("name", sorted(SECOND_ORDER))
@given(data=st.data())
def test_second_derivatives_pass_gradgradcheck(name, data):
    function, options = SECOND_ORDER[name]
    min_side = 2 if name == "std_axis" else 1  # std of one value is 0: no derivative there
    x = data.draw(
        float_arrays(shapes(min_dims=1, max_dims=2, min_side=min_side, max_side=3), **options),
        label="x",
    )
    assert tg.gradgradcheck(function, [tg.Tensor(x, requires_grad=True)])


def _hessian_of(f, x):
    """The explicit Hessian, one row per tg.grad of the first derivative."""
    leaf = tg.Tensor(x, requires_grad=True)
    (first,) = tg.grad(f(leaf), leaf, create_graph=True)
    rows = []
    for i in range(x.size):
        seed = np.zeros(x.size)
        seed[i] = 1
        (row,) = tg.grad(first, leaf, grad_outputs=seed.reshape(x.shape), retain_graph=True)
        rows.append(row.data.ravel())
    return np.array(rows)


M = np.array([[2.0, -1.0, 0.5], [0.0, 1.0, 3.0], [1.0, 0.5, -2.0]])


def quadratic_plus_sines(x):
    """f(x) = 1/2 x^T M x + sum(sin x): Hessian (M + M^T)/2 - diag(sin x)."""
    column = x.reshape(3, 1)
    return (column.T @ (M @ column)).sum() * 0.5 + tg.sin(x).sum()


@given(float_arrays((3,)), float_arrays((3,)))
def test_hvp_equals_the_explicit_hessian_times_v(x, v):
    value, product = tg.hvp(quadratic_plus_sines, tg.Tensor(x), v)
    hessian = (M + M.T) / 2 - np.diag(np.sin(x))
    np.testing.assert_allclose(_hessian_of(quadratic_plus_sines, x), hessian, atol=1e-12)
    np.testing.assert_allclose(product.data, hessian @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(value.item(), 0.5 * x @ M @ x + np.sin(x).sum(), rtol=1e-12)


def test_hvp_of_several_inputs():
    def f(a, b):
        return (a * a * b).sum()

    a, b = np.array([1.0, 2.0]), np.array([3.0, -1.0])
    va, vb = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    _, (ha, hb) = tg.hvp(f, [tg.Tensor(a), tg.Tensor(b)], [va, vb])
    # d2f/da2 = 2b, d2f/dadb = 2a, d2f/db2 = 0
    np.testing.assert_allclose(ha.data, 2 * b * va + 2 * a * vb)
    np.testing.assert_allclose(hb.data, 2 * a * va)


def test_hvp_keeps_float32_inputs_float32():
    x = tg.Tensor(np.array([0.5, -1.0], dtype=np.float32))
    value, product = tg.hvp(lambda t: (t**3).sum(), x, np.ones(2, dtype=np.float32))
    assert value.dtype == np.float32 and product.dtype == np.float32
    np.testing.assert_allclose(product.data, 6 * x.data, rtol=1e-6)


# -- grad modes ----------------------------------------------------------------------------
def test_no_grad_as_context_manager_records_nothing_and_restores_the_mode():
    x = tg.Tensor(np.ones(2), requires_grad=True)
    assert tg.is_grad_enabled()
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = tg.exp(x) * 2
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            z = x * 2
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None


def test_no_grad_and_enable_grad_as_decorators():
    @tg.no_grad()
    def predict(x):
        """Doc kept."""
        return x * 2, tg.is_grad_enabled()

    @tg.enable_grad()
    def train_step(x):
        return x * 2

    x = tg.Tensor(np.ones(2), requires_grad=True)
    y, enabled = predict(x)
    assert not enabled and not y.requires_grad and tg.is_grad_enabled()
    assert predict.__name__ == "predict" and predict.__doc__ == "Doc kept."
    with tg.no_grad():
        assert train_step(x).requires_grad
        assert not tg.is_grad_enabled()


def test_no_grad_and_enable_grad_work_as_bare_decorators_like_pytorch():
    @tg.no_grad
    def predict(x):
        return x * 2

    @tg.enable_grad
    def train_step(x):
        return x * 2

    x = tg.Tensor(np.ones(2), requires_grad=True)
    assert not predict(x).requires_grad and tg.is_grad_enabled()
    with tg.no_grad():
        assert train_step(x).requires_grad


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with tg.no_grad():
            1 / 0  # noqa: B018
    assert tg.is_grad_enabled()


def test_set_grad_enabled_as_call_and_context_manager():
    tg.set_grad_enabled(False)
    try:
        assert not tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()


# -- detach, requires_grad_, retain_grad ---------------------------------------------------
def test_detach_shares_data_and_cuts_the_graph():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.data is y.data and not d.requires_grad and d.is_leaf
    (x * d).sum().backward()
    np.testing.assert_array_equal(x.grad.data, d.data)


def test_requires_grad_on_a_leaf_and_its_refusal_on_an_interior_tensor():
    x = tg.Tensor(np.array([1.0]))
    assert x.requires_grad_() is x and x.requires_grad
    x.requires_grad_(False)
    assert not x.requires_grad
    y = tg.Tensor(np.array([1.0]), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)


def test_retain_grad_keeps_an_interior_gradient_and_others_stay_none():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    hidden = x * 3
    kept = hidden.retain_grad()
    other = hidden * hidden
    (other * 1.0).sum().backward()
    assert kept is hidden
    np.testing.assert_array_equal(hidden.grad.data, 2 * hidden.data)
    assert other.grad is None
    np.testing.assert_array_equal(x.grad.data, 6 * hidden.data)


def test_retain_grad_and_grad_capture_inside_a_one_input_chain():
    # A chain of one-input ops (the engine's straight-line path) must still stop at retained
    # and captured tensors, and free what it passed.
    x = tg.Tensor(np.array([0.3, -0.4]), requires_grad=True)
    h = tg.exp(x * 2.0)
    h.retain_grad()
    y = tg.tanh(h)
    ref = weakref.ref(y)
    loss = (y * 3.0).sum()
    (g,) = tg.grad(loss, h, retain_graph=True)
    np.testing.assert_allclose(g.data, 3 * (1 - np.tanh(h.data) ** 2), rtol=1e-12)
    assert h.grad is None and x.grad is None  # tg.grad leaves .grad alone
    del y
    loss.backward()
    np.testing.assert_allclose(h.grad.data, g.data, rtol=1e-12)
    np.testing.assert_allclose(x.grad.data, g.data * 2 * h.data, rtol=1e-12)
    assert ref() is None


# -- tg.grad and value_and_grad --------------------------------------------------------------
def test_grad_returns_gradients_and_leaves_grad_attributes_alone():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = tg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    w.grad = tg.Tensor(np.array([100.0, 100.0]))
    gx, gw = tg.grad((x * w).sum(), [x, w])
    np.testing.assert_array_equal(gx.data, w.data)
    np.testing.assert_array_equal(gw.data, x.data)
    assert x.grad is None
    np.testing.assert_array_equal(w.grad.data, [100.0, 100.0])


def test_grad_with_respect_to_an_interior_tensor():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    hidden = x * 3
    (g,) = tg.grad((hidden * hidden).sum(), hidden)
    np.testing.assert_array_equal(g.data, 2 * hidden.data)


def test_grad_of_an_unused_input_raises_unless_allow_unused():
    x = tg.Tensor(np.array([1.0]), requires_grad=True)
    unused = tg.Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        tg.grad((x * 2).sum(), [x, unused])
    gx, gu = tg.grad((x * 2).sum(), [x, unused], allow_unused=True)
    assert gu is None and gx.item() == 2.0


def test_grad_with_grad_outputs_for_a_non_scalar_output():
    x = tg.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (g,) = tg.grad(x * x, x, grad_outputs=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g.data, [2.0, 0.0, 12.0])
    with pytest.raises(RuntimeError, match=re.escape("(3,)")):
        tg.grad(x * x, x)


def test_grad_of_several_outputs_sums_them():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    (g,) = tg.grad([(x * 2).sum(), (x * x).sum()], x)
    np.testing.assert_array_equal(g.data, 2 + 2 * x.data)


def test_value_and_grad_returns_value_and_gradient_for_one_or_several_arguments():
    def loss(w, b, X):
        return ((X @ w + b) ** 2).mean()

    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    w, b = np.array([0.5, -0.5]), 0.25
    value, dw = tg.value_and_grad(loss)(w, b, X)
    residual = X @ w + b
    np.testing.assert_allclose(value.item(), np.mean(residual**2))
    np.testing.assert_allclose(dw.data, 2 * X.T @ residual / 2)
    value2, (dw2, db) = tg.value_and_grad(loss, argnums=(0, 1))(w, b, X)
    np.testing.assert_allclose(dw2.data, dw.data)
    np.testing.assert_allclose(db.item(), np.mean(2 * residual))
    assert not value2.requires_grad


def test_value_and_grad_runs_even_under_no_grad():
    with tg.no_grad():
        _, g = tg.value_and_grad(lambda x: (x * x).sum())(np.array([3.0]))
    np.testing.assert_array_equal(g.data, [6.0])


# -- anomaly mode --------------------------------------------------------------------------
def test_set_detect_anomaly_works_as_a_call_and_as_a_context_manager_restoring_the_mode():
    assert not tg.is_anomaly_enabled()
    tg.set_detect_anomaly(True)
    try:
        assert tg.is_anomaly_enabled()
        with tg.set_detect_anomaly(False):
            assert not tg.is_anomaly_enabled()
        assert tg.is_anomaly_enabled()
    finally:
        tg.set_detect_anomaly(False)
    with tg.set_detect_anomaly(True):
        assert tg.is_anomaly_enabled()
    assert not tg.is_anomaly_enabled()


def test_anomaly_mode_names_the_op_and_the_forward_call_site():
    x = tg.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with tg.set_detect_anomaly(True), np.errstate(divide="ignore"):
        line = inspect.currentframe().f_lineno + 1
        y = tg.sqrt(x)  # d sqrt / dx = inf at 0
        loss = (y * 2).sum()
        with pytest.raises(RuntimeError, match="sqrt") as error:
            loss.backward()
    assert f"{__file__}:{line}" in str(error.value)


def test_anomaly_mode_names_the_user_line_of_an_op_made_through_numpy():
    x = tg.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with tg.set_detect_anomaly(True), np.errstate(divide="ignore"):
        line = inspect.currentframe().f_lineno + 1
        y = np.sqrt(x)
        with pytest.raises(RuntimeError, match="'sqrt'") as error:
            np.sum(y * 2, axis=0).backward()
    assert f"{__file__}:{line}" in str(error.value)


def test_without_anomaly_mode_a_nan_gradient_passes_silently_like_pytorch():
    x = tg.Tensor(np.array([0.0, 1.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        tg.sqrt(x).sum().backward()
    assert np.isinf(x.grad.data[0])


# -- one object per op, the grad_fn view ------------------------------------------------------
def test_each_recorded_op_creates_one_gc_tracked_object():
    # The cyclic collector scans every tracked object: an op should add one (its output).
    x = tg.Tensor(np.ones((4, 4)), requires_grad=True)
    c = tg.Tensor(np.ones((4, 4)))
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        y = x
        for _ in range(250):  # unary with a number, and binary with a constant: 1,000 ops
            y = ((y * 2.0) + c) * 0.5 - 0.5
        grown = len(gc.get_objects()) - before
    finally:
        gc.enable()
    assert 1000 <= grown < 1010, f"1,000 ops created {grown} GC-tracked objects"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.data, np.ones((4, 4)))


def test_grad_fn_is_one_view_while_it_lives_and_shows_next_functions():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    h = x * 3
    y = h + tg.exp(h)
    node = y.grad_fn
    assert node is y.grad_fn and node == y.grad_fn and node.name == "add"
    (first, _), (second, _) = node.next_functions
    assert first == h.grad_fn and second.name == "exp"
    assert h.grad_fn.next_functions == ((x, 0),)
    assert x.grad_fn is None


# -- in-place changes of tensors in the graph (recorded as PyTorch records them) ---------------
def _torch():
    return pytest.importorskip("torch", reason="PyTorch (an extra) is the reference here")


def test_micrograd_sanity_check_matches_pytorch():
    # micrograd's test/test_engine.py::test_sanity_check, written against our Tensor.
    torch = _torch()

    def run(make, relu):
        x = make(-4.0)
        z = 2 * x + 2 + x
        q = relu(z) + z * x
        h = relu(z * z)
        y = h + q + q * x
        y.backward()
        return y.item(), x.grad.item()

    ours = run(lambda v: tg.Tensor(v, requires_grad=True), tg.relu)
    theirs = run(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True), torch.relu)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_micrograd_more_ops_with_in_place_changes_of_non_leaves_matches_pytorch():
    # micrograd's test_more_ops: c += c + 1 and d += d * 2 + ... change non-leaves in place.
    torch = _torch()

    def run(make, relu):
        a, b = make(-4.0), make(2.0)
        c = a + b
        d = a * b + b**3
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + relu(b + a)
        d += 3 * d + relu(b - a)
        e = c - d
        f = e**2
        g = f / 2.0
        g += 10.0 / f
        g.backward()
        return g.item(), a.grad.item(), b.grad.item()

    ours = run(lambda v: tg.Tensor(v, requires_grad=True), tg.relu)
    theirs = run(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True), torch.relu)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_in_place_arithmetic_on_non_leaves_matches_pytorch():
    torch = _torch()
    a0, b0 = np.array([0.5, -1.5, 2.0]), np.array([1.5, 0.25, -0.75])

    def run(make):
        a, b = make(a0), make(b0)
        c = a * 1.0
        c *= b  # db needs c's old value
        c /= b * b + 1
        c -= a
        c *= 3.0
        c += c
        loss = (c * c).sum()
        loss.backward()
        return loss.item(), a.grad.detach().numpy().copy(), b.grad.detach().numpy().copy()

    ours = run(lambda v: tg.Tensor(v.copy(), requires_grad=True))
    theirs = run(lambda v: torch.tensor(v.copy(), requires_grad=True))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_an_op_that_read_a_value_later_changed_in_place_raises_at_backward_like_pytorch():
    a = tg.Tensor(np.array([0.5, -1.5]), requires_grad=True)
    c = a * 1.0
    early = c * c  # reads c's values
    c += 1
    with pytest.raises(RuntimeError, match="input 0 of op 'mul' .* modified by an in-place"):
        (early + c).sum().backward()


def test_setitem_and_fill_on_non_leaves_are_recorded_like_pytorch():
    torch = _torch()

    def run(make):
        x, v = make(np.arange(1.0, 7.0).reshape(2, 3)), make(np.array([10.0, 20.0, 30.0]))
        y = x * 2
        y[0] = v * v  # replaced elements take v's gradient, not x's
        y[1, 1] = 5.0
        z = x * 3
        z.fill_(1.0)
        loss = (y * y).sum() + (z * x).sum()
        loss.backward()
        return x.grad.detach().numpy().copy(), v.grad.detach().numpy().copy()

    ours = run(lambda a: tg.Tensor(a.copy(), requires_grad=True))
    theirs = run(lambda a: torch.tensor(a.copy(), requires_grad=True))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_torch_style_in_place_methods_on_non_leaves_keep_the_operands_graph():
    torch = _torch()

    def run(make):
        x, w = make(np.array([1.0, -2.0])), make(np.array([0.5, 3.0]))
        y = x * x
        y.add_(w, alpha=2.0).sub_(w * w, alpha=0.5).mul_(w).div_(3.0)
        y.sum().backward()
        return x.grad.detach().numpy().copy(), w.grad.detach().numpy().copy()

    ours = run(lambda a: tg.Tensor(a.copy(), requires_grad=True))
    theirs = run(lambda a: torch.tensor(a.copy(), requires_grad=True))
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


def test_in_place_change_of_a_saved_output_still_raises_at_backward():
    x = tg.Tensor(np.array([0.5, 1.0]), requires_grad=True)
    y = tg.exp(x)  # saves its output for dX = dY * Y
    y += 1
    with pytest.raises(RuntimeError, match="output of op 'exp'.*modified by an in-place"):
        y.sum().backward()


def test_in_place_change_of_a_non_leaf_keeps_identity_and_version_chain():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = x * 2
    alias = c
    before = c.grad_fn
    c += 1
    assert c is alias and c.grad_fn.name == "add" and not c.is_leaf
    ((previous, _),) = c.grad_fn.next_functions
    assert previous.name == "mul" and before.name == "add"  # a view shows the current op
    with pytest.raises(RuntimeError, match=r"tensor that requires grad \(a leaf"):
        x += 1


def test_ops_that_use_only_shapes_do_not_refuse_a_later_in_place_change_like_pytorch():
    torch = _torch()

    def run(make):
        x = make(np.arange(6.0).reshape(2, 3))
        c = x * 2
        # none of these reads c's values
        fresh = [-c, c.sum(), c.mean(axis=0), c + 1.0, c - x, c * 0.5, c / 4.0, 2.0 - c]
        c += 1
        c *= 3.0
        loss = sum((s * s).sum() for s in fresh) + (c * c).sum()
        loss.backward()
        return x.grad.detach().numpy().copy()

    ours = run(lambda a: tg.Tensor(a.copy(), requires_grad=True))
    theirs = run(lambda a: torch.tensor(a.copy(), requires_grad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_views_and_in_place_changes_refuse_instead_of_giving_a_wrong_gradient():
    # PyTorch rebases views on an in-place change; this engine does not track views, so a
    # view used after its base changed raises at backward, and changing a view is refused.
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    c = x * 2
    view = c.T
    c += 1
    with pytest.raises(RuntimeError, match="input 0 of op 'transpose' .* modified by an in-place"):
        (view * view).sum().backward()
    c = x * 2
    row = c[0]
    with pytest.raises(RuntimeError, match=r"\*=: in-place change of a view \(shape \(3,\)\)"):
        row *= 3.0
    np.testing.assert_array_equal(c.data, 2 * x.data)  # refused before changing anything


def test_an_in_place_change_under_no_grad_is_not_recorded():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    c = x * 2
    with tg.no_grad():
        c += 1
    assert c.grad_fn.name == "mul"
    c.sum().backward()  # mul reads only the constant 2: the change does not affect dX
    np.testing.assert_array_equal(x.grad.data, [2.0, 2.0])


# -- tg.grad on unused inputs ----------------------------------------------------------------
def test_grad_materialize_grads_gives_zeros_and_implies_allow_unused():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    unused = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    gx, gu = tg.grad((x * 2).sum(), [x, unused], materialize_grads=True)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
    np.testing.assert_array_equal(gu.data, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="materialize_grads"):
        tg.grad((x * 2).sum(), [x, unused], allow_unused=False, materialize_grads=True)


def test_grad_of_an_output_without_graph_says_the_input_is_unused():
    x = tg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    constant = tg.Tensor(np.array([3.0])) * 2
    with pytest.raises(RuntimeError, match="input 0 .* was not used: the outputs do not depend"):
        tg.grad(constant.sum(), x)
    assert tg.grad(constant.sum(), x, allow_unused=True) == (None,)
    (g,) = tg.grad(constant.sum(), x, materialize_grads=True)
    np.testing.assert_array_equal(g.data, [0.0, 0.0])


# -- grad mode on generators, deepcopy ---------------------------------------------------------
def test_no_grad_on_a_generator_function_applies_inside_it_only():
    x = tg.Tensor(np.array([1.0]), requires_grad=True)

    @tg.no_grad()
    def produce():
        for _ in range(2):
            received = yield x * 2
            assert not tg.is_grad_enabled() and received == "ping"
        return "done"

    generator = produce()
    first = next(generator)
    assert tg.is_grad_enabled() and not first.requires_grad
    second = generator.send("ping")
    assert tg.is_grad_enabled() and not second.requires_grad
    with pytest.raises(StopIteration) as stop:
        generator.send("ping")
    assert stop.value.value == "done"

    @tg.enable_grad()
    def recording():
        yield x * 2

    with tg.no_grad():
        (y,) = list(recording())
        assert not tg.is_grad_enabled()
    assert y.requires_grad


def test_copy_and_deepcopy_of_a_leaf_work_and_of_a_non_leaf_refuse_like_pytorch():
    import copy

    p = tg.nn.Parameter(np.array([1.0, 2.0]))
    p.grad = tg.Tensor(np.array([0.5, 0.5]))
    q = copy.deepcopy(p)
    assert type(q) is type(p) and q.requires_grad and q.is_leaf
    assert q.data is not p.data and q.grad.data is not p.grad.data
    np.testing.assert_array_equal(q.data, p.data)
    np.testing.assert_array_equal(q.grad.data, p.grad.data)
    deep = p
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = deep * 1.0
    with pytest.raises(RuntimeError, match="only leaf tensors .* support deepcopy"):
        copy.deepcopy(deep)
    # a shallow copy of a recorded tensor would be a second record of one op: refused too
    with pytest.raises(RuntimeError, match="only leaf tensors support copy.copy"):
        copy.copy(deep)
    shallow = copy.copy(p)
    assert type(shallow) is type(p) and shallow.data is p.data and shallow.requires_grad

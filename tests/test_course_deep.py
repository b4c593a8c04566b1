"""Week 4 (tinygrad_dl.course.deep): every layer formula against autodiff, g', conventions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.course import activations, deep
from tinygrad_dl.course.checker import relative_difference
from tinygrad_dl.course.strategies import activation_names, networks, seeds
from tinygrad_dl.testing import float_arrays, shapes


def _close(ours, reference):
    """Relative difference < 1e-10 in float64 (or both at rounding level)."""
    return relative_difference(ours, reference) < 1e-10 or np.max(np.abs(ours - reference)) < 1e-15


@given(networks())
def test_every_layer_formula_equals_autodiff_of_the_same_forward_code(net):
    """Property 3: dW^[l], db^[l], dA^[l-1], dZ^[l] of L_model_backward equal the engine's
    gradients of compute_cost(L_model_forward(...)), where the forward runs on Tensors. The
    course's dA and dZ are gradients of m J, so they are compared with m times autodiff's."""
    hidden = net.hidden_activation
    AL, caches = deep.L_model_forward(net.X, net.parameters, hidden)
    grads = deep.L_model_backward(AL, net.Y, caches, hidden)

    tensors = {key: tg.Tensor(value, requires_grad=True) for key, value in net.parameters.items()}
    X_t = tg.Tensor(net.X, requires_grad=True)
    AL_t, caches_t = deep.L_model_forward(X_t, tensors, hidden)
    J = deep.compute_cost(AL_t, net.Y)
    assert float(J.data) == pytest.approx(deep.compute_cost(AL, net.Y), rel=1e-12)
    A_prev_t = [cache[0][0] for cache in caches_t]  # A^[l-1] for l = 1 .. L (A^[0] is X)
    Z_t = [cache[1] for cache in caches_t]
    L, m = len(caches), net.m
    results = tg.grad(J, [*tensors.values(), *A_prev_t, *Z_t, AL_t])
    by_parameter = dict(zip(tensors, results[: 2 * L]))
    dA_prev_auto = results[2 * L : 3 * L]
    dZ_auto = results[3 * L : 4 * L]
    dAL_auto = results[-1]

    dAL = -(net.Y / AL - (1 - net.Y) / (1 - AL))
    assert _close(dAL, m * dAL_auto.data), "dA^[L]"
    names = [*hidden, "sigmoid"]
    for l in range(1, L + 1):
        assert _close(grads[f"dW{l}"], by_parameter[f"W{l}"].data), f"dW{l}"
        assert _close(grads[f"db{l}"], by_parameter[f"b{l}"].data), f"db{l}"
        assert _close(grads[f"dA{l - 1}"], m * dA_prev_auto[l - 1].data), f"dA{l - 1}"
        dA = dAL if l == L else grads[f"dA{l}"]
        dZ = dA * activations.DERIVATIVE[names[l - 1]](caches[l - 1][1])
        assert _close(dZ, m * dZ_auto[l - 1].data), f"dZ{l} ({names[l - 1]})"


@given(
    activation_names(),
    float_arrays(shapes(2, 2, 1, 8), min_value=-10, max_value=10, away_from=0.0),
)
def test_activation_derivative_equals_autodiff_and_the_notes_formula(name, Z):
    """Property 4: sigmoid a(1 - a), tanh 1 - a^2, relu 1/0, leaky relu 1/0.01.

    Away from 0, relu's kink (tested separately below). |z| <= 10 (plus the margin) because
    a(1 - a) is computed from a rounded a: near saturation 1 - a loses digits, while the engine
    differentiates the forward's 1 / (1 + e^-z) directly."""
    Z_t = tg.Tensor(Z, requires_grad=True)
    (autodiff,) = tg.grad(np.sum(activations.FORWARD[name](Z_t)), [Z_t])
    derivative = activations.DERIVATIVE[name](Z)
    np.testing.assert_allclose(derivative, autodiff.data, rtol=1e-10, atol=1e-300)
    a = activations.FORWARD[name](Z)
    expected = {
        "sigmoid": a * (1 - a),
        "tanh": 1 - a**2,
        "relu": np.where(Z > 0, 1.0, 0.0),
        "leaky_relu": np.where(Z > 0, 1.0, 0.01),
    }[name]
    np.testing.assert_allclose(derivative, expected, rtol=1e-12, atol=1e-300)


def test_relu_derivatives_at_zero_follow_the_course():
    Z = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(activations.relu_derivative(Z), [[0.0, 0.0, 1.0]])
    np.testing.assert_array_equal(activations.leaky_relu_derivative(Z), [[0.01, 0.01, 1.0]])
    np.testing.assert_array_equal(activations.leaky_relu(Z), [[-0.01, 0.0, 2.0]])


@given(activation_names(), seeds(), st.integers(1, 6), st.integers(1, 6), st.integers(1, 10))
def test_linear_activation_backward_equals_autodiff_for_every_activation(
    activation, seed, n_prev, n, m
):
    rng = np.random.RandomState(seed)
    A_prev, W, b = rng.randn(n_prev, m), rng.randn(n, n_prev), rng.randn(n, 1)
    upstream = rng.randn(n, m)  # an arbitrary dA: J = sum(dA * A) has dJ/dA = dA
    _, cache = deep.linear_activation_forward(A_prev, W, b, activation)
    dA_prev, dW, db = deep.linear_activation_backward(upstream, cache, activation)
    tensors = [tg.Tensor(value, requires_grad=True) for value in (A_prev, W, b)]
    A_t, _ = deep.linear_activation_forward(*tensors, activation)
    reference = tg.grad(np.sum(A_t * upstream), tensors)
    # linear_backward's 1/m belongs to the cost's mean, absent from this J.
    assert _close(dA_prev, reference[0].data)
    assert _close(dW * m, reference[1].data)
    assert _close(db * m, reference[2].data)


def test_initialize_parameters_deep_reproduces_the_course_published_values():
    parameters = deep.initialize_parameters_deep([5, 4, 3], seed=3)
    np.testing.assert_allclose(
        parameters["W1"][0], [0.01788628, 0.0043651, 0.00096497, -0.01863493, -0.00277388],
        rtol=0, atol=5e-9,
    )  # fmt: skip
    np.testing.assert_allclose(
        parameters["W2"][2], [-0.00768836, -0.00230031, 0.00745056, 0.01976111], rtol=0, atol=5e-9
    )
    assert parameters["b1"].shape == (4, 1) and parameters["b2"].shape == (3, 1)
    small = deep.initialize_parameters(3, 2, 1, seed=1)
    np.testing.assert_allclose(
        small["W1"],
        [[0.01624345, -0.00611756, -0.00528172], [-0.01072969, 0.00865408, -0.02301539]],
        rtol=0, atol=5e-9,
    )  # fmt: skip


@given(
    st.lists(st.integers(1, 8), min_size=2, max_size=6), seeds(), st.sampled_from(["small", "sqrt"])
)
def test_initialize_parameters_deep_draws_in_layer_order_like_the_course(dims, seed, scaling):
    np.random.seed(seed)  # the course seeds the global generator, then draws W1, W2, ...
    expected = [np.random.randn(dims[l], dims[l - 1]) for l in range(1, len(dims))]
    np.random.seed(4321)
    state = np.random.get_state()[1].copy()
    parameters = deep.initialize_parameters_deep(dims, seed, scaling=scaling)
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    for l, W in enumerate(expected, start=1):
        scale = 0.01 if scaling == "small" else 1 / np.sqrt(dims[l - 1])
        np.testing.assert_allclose(parameters[f"W{l}"], W * scale, rtol=1e-15)
        assert not parameters[f"b{l}"].any()


def _week4_backward_case():
    """The course's L_model_backward test case: AL is not sigmoid(Z2), caches are made up."""
    np.random.seed(3)
    AL, Y = np.random.randn(1, 2), np.array([[1, 0]])
    A1, W1, b1, Z1 = (np.random.randn(*shape) for shape in ((4, 2), (3, 4), (3, 1), (3, 2)))
    A2, W2, b2, Z2 = (np.random.randn(*shape) for shape in ((3, 2), (1, 3), (1, 1), (1, 2)))
    return AL, Y, (((A1, W1, b1), Z1), ((A2, W2, b2), Z2))


def test_L_model_backward_reproduces_the_course_published_values_from_made_up_caches():
    """dAL goes through the sigmoid's g' of the cached Z^[L]; an AL - Y shortcut fails this."""
    AL, Y, caches = _week4_backward_case()
    grads = deep.L_model_backward(AL, Y, caches)
    np.testing.assert_allclose(
        grads["dW1"],
        [[0.41010002, 0.07807203, 0.13798444, 0.10502167], [0, 0, 0, 0],
         [0.05283652, 0.01005865, 0.01777766, 0.0135308]],
        rtol=0, atol=5e-9,
    )  # fmt: skip
    np.testing.assert_allclose(grads["db1"], [[-0.22007063], [0], [-0.02835349]], atol=5e-9)
    np.testing.assert_allclose(
        grads["dA1"],
        [[0.12913162, -0.44014127], [-0.14175655, 0.48317296], [0.01663708, -0.05670698]],
        rtol=0, atol=5e-9,
    )  # fmt: skip


def test_linear_activation_backward_reproduces_the_course_published_values():
    np.random.seed(2)
    dA = np.random.randn(1, 2)
    A, W, b, Z = (np.random.randn(*shape) for shape in ((3, 2), (1, 3), (1, 1), (1, 2)))
    dA_prev, dW, db = deep.linear_activation_backward(dA, ((A, W, b), Z), "sigmoid")
    np.testing.assert_allclose(dA_prev[:, 0], [0.11017994, 0.09466817, -0.05743092], atol=5e-9)
    np.testing.assert_allclose(dW, [[0.10266786, 0.09778551, -0.01968084]], atol=5e-9)
    np.testing.assert_allclose(db, [[-0.05729622]], atol=5e-9)
    dA_prev, dW, db = deep.linear_activation_backward(dA, ((A, W, b), Z), "relu")
    np.testing.assert_allclose(dW, [[0.44513824, 0.37371418, -0.10478989]], atol=5e-9)
    np.testing.assert_allclose(db, [[-0.20837892]], atol=5e-9)


@given(st.integers(1, 250), seeds())
def test_models_record_the_cost_of_every_hundredth_iteration_before_its_update(iterations, seed):
    rng = np.random.RandomState(seed)
    X, Y = rng.randn(3, 6), (rng.rand(1, 6) < 0.5).astype(np.float64)
    for train, start in (
        (deep.two_layer_model, deep.initialize_parameters(3, 4, 1, seed=1)),
        (deep.L_layer_model, deep.initialize_parameters_deep([3, 4, 1], 1, scaling="sqrt")),
    ):
        parameters, costs = train(X, Y, [3, 4, 1], learning_rate=0.1, num_iterations=iterations)
        expected_costs = []
        for i in range(iterations):
            AL, caches = deep.L_model_forward(X, start)
            if i % 100 == 0:
                expected_costs.append(deep.compute_cost(AL, Y))
            start = deep.update_parameters(start, deep.L_model_backward(AL, Y, caches), 0.1)
        assert costs == expected_costs and len(costs) == (iterations + 99) // 100
        for key, value in start.items():
            np.testing.assert_array_equal(parameters[key], value)


def test_models_start_from_the_course_initialisations_with_seed_1():
    X, Y = np.ones((5, 3)), np.array([[0.0, 1.0, 1.0]])
    parameters, costs = deep.two_layer_model(X, Y, (5, 7, 1), num_iterations=0)
    assert costs == []
    np.random.seed(1)
    np.testing.assert_array_equal(parameters["W1"], np.random.randn(7, 5) * 0.01)
    np.testing.assert_array_equal(parameters["W2"], np.random.randn(1, 7) * 0.01)
    parameters, _ = deep.L_layer_model(X, Y, [5, 4, 3, 1], num_iterations=0)
    np.random.seed(1)
    for l, (n_prev, n) in enumerate([(5, 4), (4, 3), (3, 1)], start=1):
        np.testing.assert_array_equal(
            parameters[f"W{l}"], np.random.randn(n, n_prev) / np.sqrt(n_prev)
        )


def test_deep_functions_never_mutate_their_inputs():
    AL, Y, caches = _week4_backward_case()
    snapshot = [np.array(x, copy=True) for cache in caches for x in (*cache[0], cache[1])]
    AL_copy = AL.copy()
    deep.L_model_backward(AL, Y, caches)
    parameters = deep.initialize_parameters_deep([3, 4, 1], seed=0)
    before = {key: value.copy() for key, value in parameters.items()}
    steps = {f"d{key}": np.ones_like(value) for key, value in parameters.items()}
    deep.update_parameters(parameters, steps, 0.1)
    X = np.random.RandomState(0).randn(3, 5)
    X_copy = X.copy()
    deep.L_layer_model(X, np.array([[0, 1, 1, 0, 1]]), [3, 4, 1], num_iterations=2)
    np.testing.assert_array_equal(AL, AL_copy)
    np.testing.assert_array_equal(X, X_copy)
    for value, copy in zip((x for cache in caches for x in (*cache[0], cache[1])), snapshot):
        np.testing.assert_array_equal(value, copy)
    for key, value in before.items():
        np.testing.assert_array_equal(parameters[key], value)


def test_wrong_layouts_get_clear_errors_naming_function_shapes_and_layout():
    parameters = deep.initialize_parameters_deep([4, 3, 1], seed=0)
    X = np.ones((4, 6))
    with pytest.raises(ValueError, match=r"L_model_forward: X has shape \(6, 4\).*use X\.T"):
        deep.L_model_forward(X.T, parameters)
    with pytest.raises(
        ValueError,
        match=r"linear_forward: A_prev has shape \(5, 2\) but W has shape \(3, 4\): "
        r"expected \(4, m\)",
    ):
        deep.linear_forward(np.ones((5, 2)), parameters["W1"], parameters["b1"])
    with pytest.raises(ValueError, match=r"linear_forward: b has shape \(3,\), expected \(3, 1\)"):
        deep.linear_forward(X, parameters["W1"], np.zeros(3))
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        deep.linear_activation_forward(X, parameters["W1"], parameters["b1"], "softmax")
    AL, caches = deep.L_model_forward(X, parameters)
    with pytest.raises(
        ValueError, match=r"L_model_backward: Y has shape \(6, 1\), expected \(1, m\)"
    ):
        deep.L_model_backward(AL, np.ones((6, 1)), caches)
    with pytest.raises(
        ValueError, match=r"update_parameters: db1 has shape \(3,\), expected \(3, 1\)"
    ):
        steps = {"dW1": np.ones((3, 4)), "db1": np.ones(3), "dW2": np.ones((1, 3))}
        deep.update_parameters(parameters, {**steps, "db2": np.ones((1, 1))}, 0.1)
    with pytest.raises(ValueError, match=r"L_model_forward: parameters must hold W1, b1"):
        deep.L_model_forward(X, {"W1": parameters["W1"]})


@given(networks(max_layers=4, max_examples=8))
def test_vectorised_gradients_equal_the_mean_of_per_example_gradients(net):
    """The vectorised dW^[l], db^[l] over m examples average the one-example (m = 1) ones."""
    hidden = net.hidden_activation
    AL, caches = deep.L_model_forward(net.X, net.parameters, hidden)
    grads = deep.L_model_backward(AL, net.Y, caches, hidden)
    for key in net.parameters:
        total = np.zeros_like(net.parameters[key])
        for i in range(net.m):
            x, y = net.X[:, i : i + 1], net.Y[:, i : i + 1]
            a, example_caches = deep.L_model_forward(x, net.parameters, hidden)
            total += deep.L_model_backward(a, y, example_caches, hidden)["d" + key]
        np.testing.assert_allclose(grads["d" + key], total / net.m, rtol=1e-9, atol=1e-13)


def test_predict_thresholds_AL_at_one_half_and_reports_accuracy(capsys):
    parameters = deep.initialize_parameters_deep([3, 4, 1], seed=2, scaling="sqrt")
    X = np.random.RandomState(0).randn(3, 9)
    AL, _ = deep.L_model_forward(X, parameters)
    y = (AL > 0.5).astype(float)
    y[0, 0] = 1 - y[0, 0]
    p = deep.predict(X, y, parameters)
    np.testing.assert_array_equal(p, (AL > 0.5).astype(float))
    assert capsys.readouterr().out.strip() == f"Accuracy: {8 / 9}"


def test_the_step_by_step_functions_reproduce_the_course_published_outputs():
    # Each block rebuilds one of the course's test cases (its seed and draw order) and checks
    # the expected output printed in the notebook, to its 8 decimals.
    def published(value, expected):
        np.testing.assert_allclose(value, expected, rtol=0, atol=5e-9)

    np.random.seed(1)  # linear_forward_test_case
    A, W, b = np.random.randn(3, 2), np.random.randn(1, 3), np.random.randn(1, 1)
    published(deep.linear_forward(A, W, b)[0], [[3.26295337, -1.23429987]])

    np.random.seed(2)  # linear_activation_forward_test_case
    A_prev, W, b = np.random.randn(3, 2), np.random.randn(1, 3), np.random.randn(1, 1)
    published(
        deep.linear_activation_forward(A_prev, W, b, "sigmoid")[0], [[0.96890023, 0.11013289]]
    )
    published(deep.linear_activation_forward(A_prev, W, b, "relu")[0], [[3.43896131, 0.0]])

    np.random.seed(6)  # L_model_forward_test_case_2hidden
    X = np.random.randn(5, 4)
    shapes = [("W1", (4, 5)), ("b1", (4, 1)), ("W2", (3, 4)), ("b2", (3, 1)), ("W3", (1, 3)),
              ("b3", (1, 1))]  # fmt: skip
    parameters = {key: np.random.randn(*shape) for key, shape in shapes}
    AL, caches = deep.L_model_forward(X, parameters)
    published(AL, [[0.03921668, 0.70498921, 0.19734387, 0.04728177]])
    assert len(caches) == 3

    # compute_cost_test_case
    cost = deep.compute_cost(np.array([[0.8, 0.9, 0.4]]), np.array([[1, 1, 0]]))
    assert cost == pytest.approx(0.2797765635793422, rel=1e-12)

    np.random.seed(1)  # linear_backward_test_case
    dZ, A, W, b = (np.random.randn(*s) for s in ((3, 4), (5, 4), (3, 5), (3, 1)))
    dA_prev, dW, db = deep.linear_backward(dZ, (A, W, b))
    published(dA_prev[:, 0], [-1.15171336, 0.60345879, -0.4319552, -0.38981415, -2.52214926])
    published(dW[0], [0.07313866, -0.0976715, -0.87585828, 0.73763362, 0.00785716])
    published(db, [[-0.14713786], [-0.11313155], [-0.13209101]])

    np.random.seed(2)  # update_parameters_test_case: parameters from seed 2, grads from seed 3
    parameters = {k: np.random.randn(*s) for k, s in (("W1", (3, 4)), ("b1", (3, 1)),
                                                       ("W2", (1, 3)), ("b2", (1, 1)))}  # fmt: skip
    np.random.seed(3)
    grads = {f"d{k}": np.random.randn(*v.shape) for k, v in parameters.items()}
    updated = deep.update_parameters(parameters, grads, 0.1)
    published(updated["W1"][0], [-0.59562069, -0.09991781, -2.14584584, 1.82662008])
    published(updated["b1"], [[-0.04659241], [-1.28888275], [0.53405496]])
    published(updated["W2"], [[-0.55569196, 0.0354055, 1.32964895]])
    published(updated["b2"], [[-0.84610769]])

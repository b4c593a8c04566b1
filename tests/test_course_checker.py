"""check_backprop and `python -m tinygrad_dl check`: they pass correct code and catch the usual
backprop bugs (a missing 1/m, a transposed A^[l-1] or W^[l], the wrong g'), naming the layer."""

import textwrap

import numpy as np
import pytest
from hypothesis import given

from tinygrad_dl.course import activations, check_backprop, deep, logistic, shallow
from tinygrad_dl.course.checker import DEEP_NETWORKS, main, random_network
from tinygrad_dl.course.strategies import networks

SQUARE = DEEP_NETWORKS[1]  # n_l = n_{l-1} = m: transposition bugs give numbers, not errors


def linear_backward_without_1_over_m_in_dW(dZ, cache):
    A_prev, W, _ = cache
    return W.T @ dZ, dZ @ A_prev.T, np.sum(dZ, axis=1, keepdims=True) / A_prev.shape[1]


def linear_backward_without_1_over_m_in_db(dZ, cache):
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    return W.T @ dZ, dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True)


def linear_backward_with_A_prev_not_transposed(dZ, cache):
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    return W.T @ dZ, dZ @ A_prev / m, np.sum(dZ, axis=1, keepdims=True) / m


def linear_backward_with_square_W_not_transposed(dZ, cache):
    """W dZ instead of W^T dZ; only where W is square, since elsewhere it cannot even run."""
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dA_prev = W @ dZ if W.shape[0] == W.shape[1] else W.T @ dZ
    return dA_prev, dZ @ A_prev.T / m, np.sum(dZ, axis=1, keepdims=True) / m


def make_L_model_backward(linear_backward=deep.linear_backward, derivatives=None):
    """A learner-style L_model_backward built from (possibly buggy) pieces."""
    derivatives = {**activations.DERIVATIVE, **(derivatives or {})}

    def L_model_backward(AL, Y, caches):
        grads, L = {}, len(caches)
        dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
        for l in range(L, 0, -1):
            linear_cache, Z = caches[l - 1]
            dZ = dA * derivatives["sigmoid" if l == L else "relu"](Z)
            dA, grads[f"dW{l}"], grads[f"db{l}"] = linear_backward(dZ, linear_cache)
            grads[f"dA{l - 1}"] = dA
        return grads

    return L_model_backward


def _square_problem():
    dims, m = SQUARE
    return random_network(dims, m, seed=100)


def test_our_own_formulas_pass_on_every_check_network():
    for number, (dims, m) in enumerate(DEEP_NETWORKS):
        parameters, X, Y = random_network(dims, m, seed=100 * number)
        report = check_backprop(deep.L_model_forward, deep.L_model_backward, parameters, X, Y)
        assert report.passed, report.format()
        assert report.first_failure is None
        assert {row.name for row in report.rows} >= {f"dW{l}" for l in range(1, len(dims))}
        for row in report.rows:
            assert row.autodiff_relative < 1e-12, row
            assert row.name.startswith("dA") or row.numeric_relative < 1e-6, row


@pytest.mark.parametrize(
    "bug, layer, name",
    [
        (make_L_model_backward(linear_backward_without_1_over_m_in_dW), 3, "dW3"),
        (make_L_model_backward(linear_backward_without_1_over_m_in_db), 3, "db3"),
        (make_L_model_backward(linear_backward_with_A_prev_not_transposed), 3, "dW3"),
        (make_L_model_backward(linear_backward_with_square_W_not_transposed), 2, "dA1"),
        (make_L_model_backward(derivatives={"relu": np.ones_like}), 2, "dW2"),
        (make_L_model_backward(derivatives={"relu": activations.sigmoid_derivative}), 2, "dW2"),
        (make_L_model_backward(derivatives={"sigmoid": activations.tanh_derivative}), 3, "dW3"),
    ],
    ids=["no-1/m-dW", "no-1/m-db", "A_prev-not-transposed", "W-not-transposed",
         "relu'=1", "relu'=sigmoid'", "sigmoid'=tanh'"],
)  # fmt: skip
def test_check_backprop_catches_the_usual_bug_and_names_its_layer(bug, layer, name):
    parameters, X, Y = _square_problem()
    assert check_backprop(deep.L_model_forward, make_L_model_backward(), parameters, X, Y)
    report = check_backprop(deep.L_model_forward, bug, parameters, X, Y)
    assert not report.passed
    assert (report.first_failing_layer, report.first_failure.name) == (layer, name)
    assert f"first difference at layer {layer}, {name}" in report.format()
    failing = report.first_failure
    assert failing.autodiff_relative > 1e-3
    if not name.startswith("dA"):
        assert failing.numeric_relative > 1e-3  # the second reference agrees it is wrong


@given(networks(min_layers=2, max_layers=3, max_width=5, min_examples=2, max_examples=8))
def test_check_backprop_passes_the_course_formulas_and_catches_a_missing_1_over_m(net):
    def forward(X, parameters):
        return deep.L_model_forward(X, parameters, net.hidden_activation)

    def backward(AL, Y, caches):
        return deep.L_model_backward(AL, Y, caches, net.hidden_activation)

    report = check_backprop(forward, backward, net.parameters, net.X, net.Y)
    assert report.passed, report.format()

    def backward_without_1_over_m(AL, Y, caches):
        grads = backward(AL, Y, caches)
        return {key: value * net.m if key[:2] in ("dW", "db") else value
                for key, value in grads.items()}  # fmt: skip

    report = check_backprop(forward, backward_without_1_over_m, net.parameters, net.X, net.Y)
    assert not report.passed
    L = len(net.layer_dims) - 1
    # dW^[L] can be 0 both ways (all ReLUs of layer L-1 idle); db^[L] = mean(A - Y) is not.
    assert report.first_failing_layer == L and report.first_failure.name in (f"dW{L}", f"db{L}")


def test_a_shape_error_in_the_learner_code_is_reported_not_raised():
    parameters, X, Y = random_network((3, 2, 1), 5)
    bug = make_L_model_backward(linear_backward_with_A_prev_not_transposed)
    report = check_backprop(deep.L_model_forward, bug, parameters, X, Y)
    assert not report.passed and report.error.startswith("your code raised ValueError")
    assert "test_course_checker.py" in report.error  # where it happened
    assert "FAIL: your code raised" in report.format()


def test_a_gradient_of_the_wrong_shape_or_missing_fails_with_a_note():
    parameters, X, Y = random_network((3, 2, 1), 5)

    def backward(AL, Y, caches):
        grads = deep.L_model_backward(AL, Y, caches)
        grads["db1"] = grads["db1"].ravel()
        del grads["dW2"]
        return grads

    report = check_backprop(deep.L_model_forward, backward, parameters, X, Y)
    notes = {row.name: row.note for row in report.rows if not row.passed}
    assert notes == {
        "dW2": "dW2 is missing from your grads",
        "db1": "db1 has shape (2,), expected (2, 1)",
    }


def test_a_forward_that_cannot_run_on_tensors_falls_back_to_the_course_forward():
    parameters, X, Y = random_network((3, 2, 1), 5)

    def L_model_forward(X, parameters):  # np.asarray and in-place ops: arrays only
        AL, caches = deep.L_model_forward(np.asarray(X), parameters)
        AL = np.asarray(AL).copy()
        AL *= 1.0
        return AL, caches

    report = check_backprop(L_model_forward, deep.L_model_backward, parameters, X, Y)
    assert report.passed, report.format()
    assert "autodiff of the course's forward pass" in report.references


def test_with_a_non_course_forward_off_tensors_central_differences_decide():
    parameters, X, Y = random_network((3, 2, 1), 5)

    def L_model_forward(X, parameters):  # tanh hidden layer, arrays only
        return deep.L_model_forward(np.asarray(X), parameters, "tanh")

    def L_model_backward(AL, Y, caches):
        return deep.L_model_backward(AL, Y, caches, "tanh")

    report = check_backprop(L_model_forward, L_model_backward, parameters, X, Y)
    assert report.passed and "no autodiff" in report.references
    assert all(row.autodiff_relative is None for row in report.rows)
    report = check_backprop(L_model_forward, deep.L_model_backward, parameters, X, Y)
    assert not report.passed and report.first_failure.name == "dW1"


def test_propagate_style_is_checked_including_its_cost():
    rng = np.random.RandomState(0)
    parameters = {"w": rng.randn(3, 1), "b": 0.5}
    X, Y = rng.randn(3, 6), np.array([[0, 1, 1, 0, 1, 0]])
    assert check_backprop(logistic.propagate, None, parameters, X, Y).passed

    def propagate_without_1_over_m(w, b, X, Y):
        grads, cost = logistic.propagate(w, b, X, Y)
        return {"dw": grads["dw"] * X.shape[1], "db": grads["db"]}, cost

    def propagate_with_positive_log_likelihood(w, b, X, Y):
        grads, cost = logistic.propagate(w, b, X, Y)
        return grads, -cost

    report = check_backprop(propagate_without_1_over_m, None, parameters, X, Y)
    assert [row.name for row in report.rows if not row.passed] == ["dw"]
    report = check_backprop(propagate_with_positive_log_likelihood, None, parameters, X, Y)
    assert [row.name for row in report.rows if not row.passed] == ["cost"]


def test_shallow_style_catches_the_wrong_tanh_derivative():
    rng = np.random.RandomState(0)
    parameters = {"W1": rng.randn(4, 3), "b1": rng.randn(4, 1), "W2": rng.randn(1, 4),
                  "b2": rng.randn(1, 1)}  # fmt: skip
    X, Y = rng.randn(3, 5), np.array([[0, 1, 1, 0, 1]])
    ours = check_backprop(
        shallow.forward_propagation, shallow.backward_propagation, parameters, X, Y
    )
    assert ours.passed, ours.format()

    def backward_propagation(parameters, cache, X, Y):
        m, A1 = X.shape[1], cache["A1"]
        dZ2 = cache["A2"] - Y
        dZ1 = parameters["W2"].T @ dZ2 * (1 - A1)  # the bug: g' of tanh is 1 - A1^2
        return {"dW2": dZ2 @ A1.T / m, "db2": dZ2.sum(axis=1, keepdims=True) / m,
                "dW1": dZ1 @ X.T / m, "db1": dZ1.sum(axis=1, keepdims=True) / m}  # fmt: skip

    report = check_backprop(shallow.forward_propagation, backward_propagation, parameters, X, Y)
    assert (report.first_failing_layer, report.first_failure.name) == (1, "dW1")


def test_check_backprop_does_not_modify_the_parameters():
    parameters, X, Y = random_network((3, 2, 1), 5)
    before = {key: value.copy() for key, value in parameters.items()}
    check_backprop(deep.L_model_forward, deep.L_model_backward, parameters, X, Y)
    for key, value in before.items():
        np.testing.assert_array_equal(parameters[key], value)


@pytest.mark.parametrize("dims, m", DEEP_NETWORKS)
def test_check_networks_have_a_relu_layer_of_width_2_with_active_and_idle_units(dims, m):
    assert m >= 2 and any(width >= 2 for width in dims[1:-1])
    parameters, X, _ = random_network(dims, m)
    _, caches = deep.L_model_forward(X, parameters)
    for _, Z in caches[:-1]:
        assert (Z > 0).any() and (Z < 0).any()


def test_check_command_passes_our_formulas(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "All 5 checks passed." in out and "FAIL" not in out


CORRECT_IMPL = """
import numpy as np

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z

def relu(Z):
    return np.maximum(0, Z), Z

def L_model_forward(X, parameters):
    caches, A, L = [], X, len(parameters) // 2
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        A_prev = A
        A, _ = sigmoid(Z) if l == L else relu(Z)
        caches.append(((A_prev, W, b), Z))
    return A, caches

def L_model_backward(AL, Y, caches):
    grads, L = {}, len(caches)
    m = AL.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in reversed(range(1, L + 1)):
        (A_prev, W, b), Z = caches[l - 1]
        if l == L:
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        else:
            dZ = np.array(dA, copy=True)
            RELU_MASK
        grads["dW" + str(l)] = BUG_DW
        grads["db" + str(l)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = np.dot(W.T, dZ)
        grads["dA" + str(l - 1)] = dA
    return grads
"""


@pytest.mark.parametrize(
    "dW, relu_mask, status, expected",
    [
        ("np.dot(dZ, A_prev.T) / m", "dZ[Z <= 0] = 0", 0, ["All 2 graded functions passed."]),
        (
            "np.dot(dZ, A_prev.T)",
            "dZ[Z <= 0] = 0",
            1,
            ["dW3 (layer 3) is 4.00 x the right value (m = 4): is the 1/m missing?"],
        ),
        (
            "np.dot(dZ, A_prev) / m",
            "dZ[Z <= 0] = 0",
            1,
            ["L_model_backward raised ValueError", "np.dot(dZ, A_prev) / m"],
        ),
        (
            "np.dot(dZ, A_prev.T) / m",
            "pass",
            1,
            ["skip relu's derivative (dZ = dA); set dZ to 0 where Z <= 0"],
        ),
    ],
    ids=["correct", "no-1/m", "A_prev-not-transposed", "relu'=1"],
)
def test_check_command_loads_a_learner_file_and_sets_the_exit_status(
    tmp_path, capsys, dW, relu_mask, status, expected
):
    impl = tmp_path / "my_assignment.py"
    source = textwrap.dedent(CORRECT_IMPL).replace("BUG_DW", dW).replace("RELU_MASK", relu_mask)
    impl.write_text(source)
    assert main(["--impl", str(impl)]) == status
    out = capsys.readouterr().out
    assert ("FAIL  L_model_backward" in out) == (status == 1), out
    for text in expected:
        assert text in out, out


def test_check_command_usage_errors_exit_2(tmp_path, capsys):
    assert main(["--impl", str(tmp_path / "missing.py")]) == 2
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert main(["--impl", str(empty)]) == 2
    assert "defines none of the course's graded functions" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0


def test_check_command_runs_through_the_package_entry_point():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_dl", "check", "--seed", "3"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "All 5 checks passed." in result.stdout


def test_check_your_backprop_example_catches_its_planted_bug(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, str(root / "examples" / "check_your_backprop.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "caught the bug at layer 2, db2" in result.stdout
    report = (tmp_path / "out" / "check_your_backprop.txt").read_text()
    assert "FAIL: first difference at layer 2, db2" in report and "PASS" in report


def test_a_backward_pass_without_dA_keys_is_checked_on_dW_and_db_only():
    parameters, X, Y = random_network((3, 2, 1), 5)

    def backward(AL, Y, caches):
        grads = deep.L_model_backward(AL, Y, caches)
        return {key: value for key, value in grads.items() if not key.startswith("dA")}

    report = check_backprop(deep.L_model_forward, backward, parameters, X, Y)
    assert report.passed and [row.name for row in report.rows] == ["dW2", "db2", "dW1", "db1"]


def test_a_forward_that_leaves_the_graph_is_not_differentiated_into_false_zeros():
    parameters, X, Y = random_network((3, 2, 1), 5)

    def L_model_forward(X, parameters):  # detaches W2 on Tensors: autodiff would give dW2 = 0
        detached = {k: v.detach() if hasattr(v, "detach") else v for k, v in parameters.items()}
        AL, caches = deep.L_model_forward(X, {**parameters, "W2": detached["W2"]})
        return AL, caches

    report = check_backprop(L_model_forward, deep.L_model_backward, parameters, X, Y)
    assert report.passed, report.format()
    assert "graph does not reach W2" in report.references


def test_check_command_imports_a_file_inside_a_package_with_relative_imports(capsys):
    from pathlib import Path

    import tinygrad_dl.course.deep as module

    assert main(["--impl", str(Path(module.__file__))]) == 0
    assert "All 12 graded functions passed." in capsys.readouterr().out

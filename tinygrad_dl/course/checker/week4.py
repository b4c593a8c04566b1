"""Week 4: the deep network, parts 1 (step by step) and 2 (application), checked bottom-up.

Graded functions in the course's order: ``initialize_parameters``,
``initialize_parameters_deep``, ``linear_forward``, ``linear_activation_forward``,
``L_model_forward``, ``compute_cost``, ``linear_backward``, (``relu_backward``,
``sigmoid_backward`` when the file writes its own), ``linear_activation_backward``,
``L_model_backward``, ``update_parameters``, ``two_layer_model``, ``L_layer_model``,
``predict``. Each is called on the course's published test inputs and on random networks
(several depths, ``m >= 2``, a square layer so that a transposition changes values rather than
shapes), and compared with :mod:`tinygrad_dl.course.deep`.

Both versions of the assignment are accepted: ``grads`` keyed ``dA{l-1}`` (newer) or ``dA{l}``
(older), ``two_layer_model`` returning ``parameters`` or ``(parameters, costs)``,
``update_parameters(params, ...)`` copying or updating its dict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import activations, deep, shallow
from ..cost import cross_entropy_cost
from .backprop import whole_backward_notes
from .checks import check_cost, check_initializer, check_model, check_update, start_parameters
from .compare import diagnose, diagnose_all
from .session import Failed, Session, unpack

WEEK = 4
DISTINCTIVE = (
    "initialize_parameters_deep",
    "linear_forward",
    "linear_activation_forward",
    "L_model_forward",
    "linear_backward",
    "linear_activation_backward",
    "L_model_backward",
    "two_layer_model",
    "L_layer_model",
)

# The course's versions, called in the child in place of a learner's function that failed.
SUBSTITUTES = {
    "initialize_parameters": lambda n_x, n_h, n_y: shallow.initialize_parameters(n_x, n_h, n_y),
    "initialize_parameters_deep": lambda layer_dims: deep.initialize_parameters_deep(layer_dims),
    "linear_forward": deep.linear_forward,
    "linear_activation_forward": deep.linear_activation_forward,
    "L_model_forward": lambda X, parameters: deep.L_model_forward(X, parameters),
    "compute_cost": deep.compute_cost,
    "linear_backward": deep.linear_backward,
    "relu_backward": activations.relu_backward,
    "sigmoid_backward": activations.sigmoid_backward,
    "linear_activation_backward": deep.linear_activation_backward,
    "L_model_backward": lambda AL, Y, caches: deep.L_model_backward(AL, Y, caches),
    "update_parameters": deep.update_parameters,
}

# Networks for the forward and backward checks: the square one (n_l = n_{l-1} = m) makes a
# transposed W or A_prev give wrong numbers instead of a shape error.
NETWORKS = (([5, 4, 3, 1], 4), ([4, 4, 4, 1], 4), ([3, 1], 5))
DERIVATIVES = {
    "sigmoid": activations.sigmoid_derivative,
    "relu": activations.relu_derivative,
    "tanh": activations.tanh_derivative,
    "identity": np.ones_like,
}


def uses(name: str, layer: str, right: str) -> str:
    """What using ``name``'s derivative in place of ``right``'s means, in words."""
    if name == "identity":
        return (
            f"{layer} skip{'s' if layer.startswith('it') else ''} {right}'s derivative (dZ = dA)"
            + ("; set dZ to 0 where Z <= 0" if right == "relu" else "")
        )
    verb = "uses" if layer.startswith("it") else "use"
    return f"{layer} {verb} {name}'s derivative; {right} is right here"


def _network(dims: list[int], m: int, seed: int) -> tuple[dict, np.ndarray, np.ndarray]:
    from .backprop import random_network

    return random_network(dims, m, seed)


def _layers(L: int) -> list[str]:
    return [f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"]


# ---- initialisation ----------------------------------------------------------------------------


def check_initialize_parameters(session: Session) -> None:
    for n_x, n_h, n_y in ((3, 2, 1), (4, 5, 2)):
        reference = shallow.initialize_parameters(n_x, n_h, n_y, seed=1)
        check_initializer(
            session,
            "initialize_parameters",
            (n_x, n_h, n_y),
            [n_x, n_h, n_y],
            1,
            [("np.random.seed(1), randn * 0.01", reference)],
            "np.random.randn(n_h, n_x) * 0.01",
        )


def check_initialize_parameters_deep(session: Session) -> None:
    for dims in ([5, 4, 3], [4, 3, 2, 1]):
        references = [
            (
                f"np.random.seed({seed}), {label}",
                deep.initialize_parameters_deep(dims, seed, scaling=scaling),
            )
            for seed in (3, 1)
            for scaling, label in (("small", "randn * 0.01"), ("sqrt", "randn / sqrt(n_(l-1))"))
        ]
        check_initializer(
            session,
            "initialize_parameters_deep",
            (dims,),
            dims,
            3,
            references,
            "np.random.randn(layer_dims[l], layer_dims[l-1]) * 0.01",
        )


# ---- forward -------------------------------------------------------------------------------------


def _linear_cases() -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.RandomState(1)  # the course's linear_forward_test_case
    published = (rng.randn(3, 2), rng.randn(1, 3), rng.randn(1, 1))
    rng = np.random.RandomState(7)
    square = (rng.randn(4, 4), rng.randn(4, 4), rng.randn(4, 1))
    return [published, square, (rng.randn(5, 3), rng.randn(2, 5), rng.randn(2, 1))]


def _check_linear_cache(name: str, cache: Any, A: Any, W: Any, b: Any) -> None:
    linear = unpack(f"{name}: the linear cache", cache, ("A_prev", "W", "b"))
    for label, got, expected in zip(("A_prev", "W", "b"), linear, (A, W, b)):
        problem = diagnose(name, f"cache {label}", got, expected)
        if problem:
            raise Failed(problem + "; the course caches (A_prev, W, b)")


def check_linear_forward(session: Session) -> None:
    for A, W, b in _linear_cases():
        Z, cache = unpack("linear_forward", session.run("linear_forward", A, W, b), ("Z", "cache"))
        expected = W @ A + b
        candidates = [("b is not added", W @ A), ("b is subtracted", W @ A - b)]
        problem = diagnose("linear_forward", "Z", Z, expected, candidates=candidates)
        if problem:
            raise Failed(problem)
        _check_linear_cache("linear_forward", cache, A, W, b)


def _activation_candidates(Z: np.ndarray, activation: str) -> list[tuple[str, Any]]:
    return [
        (
            f"applies {other} where activation={activation!r} was asked",
            activations.FORWARD[other](Z),
        )
        for other in ("sigmoid", "relu", "tanh")
        if other != activation
    ] + [("no activation is applied (A equals Z)", Z)]


def check_linear_activation_forward(session: Session) -> None:
    for (A_prev, W, b), activation in zip(_linear_cases(), ("sigmoid", "relu", "relu")):
        A, cache = unpack(
            "linear_activation_forward",
            session.run("linear_activation_forward", A_prev, W, b, activation),
            ("A", "cache"),
        )
        Z = W @ A_prev + b
        expected = activations.FORWARD[activation](Z)
        problem = diagnose(
            "linear_activation_forward",
            f"A ({activation})",
            A,
            expected,
            candidates=_activation_candidates(Z, activation),
        )
        if problem:
            raise Failed(problem)
        linear, Z_cached = unpack(
            "linear_activation_forward: the cache", cache, ("linear_cache", "activation_cache")
        )
        _check_linear_cache("linear_activation_forward", linear, A_prev, W, b)
        problem = diagnose("linear_activation_forward", "the cached Z", Z_cached, Z)
        if problem:
            raise Failed(problem + "; the course caches ((A_prev, W, b), Z)")


def _forward_with(X: np.ndarray, parameters: dict, hidden: str, output: str) -> np.ndarray:
    A, L = X, len(parameters) // 2
    for l in range(1, L + 1):
        Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
        A = activations.FORWARD[output if l == L else hidden](Z)
    return A


def check_L_model_forward(session: Session) -> None:
    for number, (dims, m) in enumerate(NETWORKS):
        parameters, X, _ = _network(dims, m, 10 * number)
        AL, caches = unpack(
            "L_model_forward", session.run("L_model_forward", X, parameters), ("AL", "caches")
        )
        expected, reference_caches = deep.L_model_forward(X, parameters)
        L = len(dims) - 1
        candidates = [
            (
                "the output layer uses relu; it is LINEAR -> SIGMOID",
                _forward_with(X, parameters, "relu", "relu"),
            ),
            (
                "the hidden layers use sigmoid; they are LINEAR -> RELU",
                _forward_with(X, parameters, "sigmoid", "sigmoid"),
            ),
        ]
        problem = diagnose("L_model_forward", "AL", AL, expected, candidates=candidates)
        if problem and L > 1 and isinstance(caches, (list, tuple)) and len(caches) == L - 1:
            problem += (
                f"; caches has {L - 1} entries for L = {L} layers: did the loop stop one "
                "layer early?"
            )
        if problem:
            raise Failed(problem)
        if not isinstance(caches, (list, tuple)) or len(caches) != L:
            count = len(caches) if isinstance(caches, (list, tuple)) else type(caches).__name__
            raise Failed(
                f"L_model_forward: caches has {count} entries, expected one per layer (L = {L})"
            )
        for l, (cache, reference) in enumerate(zip(caches, reference_caches), start=1):
            linear, Z = unpack(f"L_model_forward: caches[{l - 1}]", cache, ("linear_cache", "Z"))
            (A_prev, W, b), Z_ref = reference
            for label, got, want in zip(
                ("A_prev", "W", "b"),
                unpack("L_model_forward: the linear cache", linear, ("A_prev", "W", "b")),
                (A_prev, W, b),
            ):
                problem = diagnose(
                    "L_model_forward", f"caches[{l - 1}] {label}", got, want, layer=l
                )
                if problem:
                    raise Failed(problem)
            problem = diagnose("L_model_forward", f"caches[{l - 1}] Z", Z, Z_ref, layer=l)
            if problem:
                raise Failed(problem)


# ---- cost ----------------------------------------------------------------------------------------


def check_compute_cost(session: Session) -> None:
    check_cost(session, "compute_cost")


# ---- backward ----------------------------------------------------------------------------------


def _linear_backward_reference(dZ: np.ndarray, cache: tuple) -> dict[str, np.ndarray]:
    dA_prev, dW, db = deep.linear_backward(dZ, cache)
    return {"dA_prev": dA_prev, "dW": dW, "db": db}


def check_linear_backward(session: Session) -> None:
    rng = np.random.RandomState(1)  # the course's linear_backward_test_case
    cases = [(rng.randn(3, 4), (rng.randn(5, 4), rng.randn(3, 5), rng.randn(3, 1)))]
    rng = np.random.RandomState(8)
    cases.append((rng.randn(4, 4), (rng.randn(4, 4), rng.randn(4, 4), rng.randn(4, 1))))
    for dZ, cache in cases:
        got = unpack(
            "linear_backward", session.run("linear_backward", dZ, cache), ("dA_prev", "dW", "db")
        )
        A_prev, W, _ = cache
        m = A_prev.shape[1]
        square = W.shape[0] == W.shape[1] == A_prev.shape[1]  # elsewhere these cannot run
        candidates = {
            "dA_prev": [("uses W instead of W.T", W @ dZ)] if square else [],
            "dW": [("uses A_prev instead of A_prev.T", dZ @ A_prev / m)] if square else [],
        }
        problem = diagnose_all(
            "linear_backward",
            dict(zip(("dA_prev", "dW", "db"), got)),
            _linear_backward_reference(dZ, cache),
            ("dW", "db", "dA_prev"),
            m=m,
            candidates=candidates,
        )
        if problem:
            raise Failed(problem)


def _Z_away_from_zero(shape: tuple[int, int], rng: np.random.RandomState) -> np.ndarray:
    Z = rng.randn(*shape)
    return np.where(np.abs(Z) < 0.1, np.sign(Z + 1e-9) * 0.5, Z)  # no ReLU kink within reach


def _check_activation_backward(session: Session, name: str, activation: str) -> None:
    rng = np.random.RandomState(5)
    dA, Z = rng.randn(3, 4), _Z_away_from_zero((3, 4), rng)
    got = session.run(name, dA, Z)
    candidates = [
        (uses(other, "it", activation), dA * derivative(Z))
        for other, derivative in DERIVATIVES.items()
        if other != activation
    ]
    problem = diagnose(name, "dZ", got, dA * DERIVATIVES[activation](Z), candidates=candidates)
    if problem:
        raise Failed(problem)


def check_relu_backward(session: Session) -> None:
    _check_activation_backward(session, "relu_backward", "relu")


def check_sigmoid_backward(session: Session) -> None:
    _check_activation_backward(session, "sigmoid_backward", "sigmoid")


def check_linear_activation_backward(session: Session) -> None:
    rng = np.random.RandomState(2)
    for activation in ("sigmoid", "relu"):
        A_prev, W, b = rng.randn(4, 4), rng.randn(4, 4), rng.randn(4, 1)
        Z = _Z_away_from_zero((4, 4), rng)
        dA = rng.randn(4, 4)
        cache = ((A_prev, W, b), Z)
        got = unpack(
            "linear_activation_backward",
            session.run("linear_activation_backward", dA, cache, activation),
            ("dA_prev", "dW", "db"),
        )
        expected = _linear_backward_reference(dA * DERIVATIVES[activation](Z), (A_prev, W, b))
        candidates: dict[str, list] = {"dA_prev": [], "dW": [], "db": []}
        for other, derivative in DERIVATIVES.items():
            if other != activation:
                wrong = _linear_backward_reference(dA * derivative(Z), (A_prev, W, b))
                for key in candidates:
                    candidates[key].append(
                        (
                            uses(other, "it", activation) + f" (activation={activation!r})",
                            wrong[key],
                        )
                    )
        problem = diagnose_all(
            "linear_activation_backward",
            dict(zip(("dA_prev", "dW", "db"), got)),
            expected,
            ("dW", "db", "dA_prev"),
            m=4,
            candidates=candidates,
        )
        if problem:
            raise Failed(problem)


def _backward_with(AL: np.ndarray, Y: np.ndarray, caches: list, hidden: str, output: str) -> dict:
    grads, L = {}, len(caches)
    dA = -(Y / AL - (1 - Y) / (1 - AL))
    for l in range(L, 0, -1):
        linear_cache, Z = caches[l - 1]
        dA_prev, grads[f"dW{l}"], grads[f"db{l}"] = deep.linear_backward(
            dA * DERIVATIVES[output if l == L else hidden](Z), linear_cache
        )
        grads[f"dA{l - 1}"] = dA_prev
        dA = dA_prev
    return grads


def check_L_model_backward(session: Session) -> None:
    for number, (dims, m) in enumerate(NETWORKS):
        parameters, X, Y = _network(dims, m, 20 + number)
        AL, caches = deep.L_model_forward(X, parameters)
        got = session.run("L_model_backward", AL, Y, caches)
        if not isinstance(got, dict):
            raise Failed(
                f"L_model_backward returned a {type(got).__name__}, expected the dict grads"
            )
        L = len(dims) - 1
        expected = deep.L_model_backward(AL, Y, caches)
        # The older notebook keys dA^[l-1] (the gradient leaving layer l) as dA{l}.
        older = f"dA{L}" in got and "dA0" not in got
        keys, layers, reference = [], {}, dict(expected)
        for l in range(L, 0, -1):
            dA_key = f"dA{l}" if older else f"dA{l - 1}"
            reference[dA_key] = expected[f"dA{l - 1}"]
            for key in (f"dW{l}", f"db{l}", dA_key):
                if key.startswith("dA") and key not in got:
                    continue  # the dA are by-products; only dW and db are graded everywhere
                keys.append(key)
                layers[key] = l
        wrong = {
            uses(name, "the output layer", "sigmoid"): _backward_with(AL, Y, caches, "relu", name)
            for name in DERIVATIVES
            if name != "sigmoid"
        }
        wrong |= {
            uses(name, "the hidden layers", "relu"): _backward_with(AL, Y, caches, name, "sigmoid")
            for name in DERIVATIVES
            if name != "relu"
        }
        candidates = {
            key: [
                (text, grads[f"dA{layers[key] - 1}" if key.startswith("dA") else key])
                for text, grads in wrong.items()
            ]
            for key in keys
        }
        problem = diagnose_all(
            "L_model_backward",
            got,
            reference,
            keys,
            m=m,
            layers=layers,
            candidates=candidates,
            what="grads",
        )
        if problem:
            raise Failed(problem)
        if number == 0:
            for note in whole_backward_notes(
                lambda p, X=X, Y=Y: cross_entropy_cost(deep.L_model_forward(X, p)[0], Y),
                parameters,
                got,
            ):
                session.note(note)


def check_update_parameters(session: Session) -> None:
    for dims in ([4, 3, 2, 1], [3, 1]):
        parameters, _, _ = _network(dims, 3, 30)
        check_update(session, "update_parameters", parameters, 0.1)


# ---- models and predict ------------------------------------------------------------------------


def _train(
    parameters: dict, X: np.ndarray, Y: np.ndarray, learning_rate: float, iterations: int
) -> tuple[dict, list]:
    costs = []
    for i in range(iterations):
        AL, caches = deep.L_model_forward(X, parameters)
        if i % 100 == 0:
            costs.append(cross_entropy_cost(AL, Y))
        parameters = deep.update_parameters(
            parameters, deep.L_model_backward(AL, Y, caches), learning_rate
        )
    return parameters, costs


def _model_data(n_x: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(11)
    X = rng.randn(n_x, m)
    return X, (np.arange(m) % 2).reshape(1, m).astype(np.float64)


def check_two_layer_model(session: Session) -> None:
    n_x, n_h, n_y, m = 5, 4, 1, 6
    X, Y = _model_data(n_x, m)
    starts = start_parameters(session, "initialize_parameters", (n_x, n_h, n_y), 1)
    starts.append(shallow.initialize_parameters(n_x, n_h, n_y, seed=1))
    check_model(
        session,
        "two_layer_model",
        (X, Y, (n_x, n_h, n_y)),
        starts,
        lambda p, k: _train(p, X, Y, 0.1, k),
        ["W1", "b1", "W2", "b2"],
        {"learning_rate": 0.1, "num_iterations": 2, "print_cost": False},
        m,
    )


def check_L_layer_model(session: Session) -> None:
    dims, m = [5, 4, 3, 1], 6
    X, Y = _model_data(dims[0], m)
    starts = start_parameters(session, "initialize_parameters_deep", (dims,), 1)
    starts += [
        deep.initialize_parameters_deep(dims, 1, scaling=scaling) for scaling in ("sqrt", "small")
    ]
    check_model(
        session,
        "L_layer_model",
        (X, Y, dims),
        starts,
        lambda p, k: _train(p, X, Y, 0.1, k),
        _layers(len(dims) - 1),
        {"learning_rate": 0.1, "num_iterations": 2, "print_cost": False},
        m,
    )


def check_predict(session: Session) -> None:
    parameters, X, Y = _network([4, 3, 1], 8, 40)
    parameters["b2"] = parameters["b2"] - np.median(
        deep.L_model_forward(X, parameters)[1][-1][1]
    )  # both classes
    got = session.run("predict", X, Y, parameters)
    AL, _ = deep.L_model_forward(X, parameters)
    candidates = [("returns the probabilities AL; predict 1 where AL > 0.5, else 0", AL)]
    problem = diagnose("predict", "p", got, (AL > 0.5).astype(np.float64), candidates=candidates)
    if problem:
        raise Failed(problem)


CHECKS = {
    "initialize_parameters": check_initialize_parameters,
    "initialize_parameters_deep": check_initialize_parameters_deep,
    "linear_forward": check_linear_forward,
    "linear_activation_forward": check_linear_activation_forward,
    "L_model_forward": check_L_model_forward,
    "compute_cost": check_compute_cost,
    "linear_backward": check_linear_backward,
    "relu_backward": check_relu_backward,
    "sigmoid_backward": check_sigmoid_backward,
    "linear_activation_backward": check_linear_activation_backward,
    "L_model_backward": check_L_model_backward,
    "update_parameters": check_update_parameters,
    "two_layer_model": check_two_layer_model,
    "L_layer_model": check_L_layer_model,
    "predict": check_predict,
}

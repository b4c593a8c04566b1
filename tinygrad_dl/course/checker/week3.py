"""Week 3: the planar-data network with one tanh hidden layer, checked bottom-up.

Graded functions in the course's order: ``layer_sizes``, ``initialize_parameters`` (the
course's ``np.random.seed(2)``), ``forward_propagation``, ``compute_cost`` (``(A2, Y)`` or the
older ``(A2, Y, parameters)``), ``backward_propagation``, ``update_parameters``, ``nn_model``
(two iterations from the learner's own initialisation), ``predict`` (``A2 > 0.5``). References
are :mod:`tinygrad_dl.course.shallow`.
"""

from __future__ import annotations

import numpy as np

from .. import activations, shallow
from ..cost import cross_entropy_cost
from .backprop import whole_backward_notes
from .checks import check_cost, check_initializer, check_model, check_update, start_parameters
from .compare import diagnose, diagnose_all
from .session import Failed, Session, unpack

WEEK = 3
DISTINCTIVE = ("layer_sizes", "forward_propagation", "backward_propagation", "nn_model")

SUBSTITUTES = {
    "layer_sizes": shallow.layer_sizes,
    "initialize_parameters": lambda n_x, n_h, n_y: shallow.initialize_parameters(n_x, n_h, n_y),
    "forward_propagation": shallow.forward_propagation,
    "compute_cost": lambda A2, Y, parameters=None: shallow.compute_cost(A2, Y),
    "backward_propagation": shallow.backward_propagation,
    "update_parameters": shallow.update_parameters,
    "predict": shallow.predict,
}


def _parameters(n_x: int, n_h: int, seed: int, scale: float = 0.5) -> dict[str, np.ndarray]:
    rng = np.random.RandomState(seed)
    return {
        "W1": scale * rng.randn(n_h, n_x),
        "b1": 0.1 * rng.randn(n_h, 1),
        "W2": scale * rng.randn(1, n_h),
        "b2": 0.1 * rng.randn(1, 1),
    }


def _data(n_x: int, m: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    return rng.randn(n_x, m), (np.arange(m) % 2).reshape(1, m).astype(np.float64)


def check_layer_sizes(session: Session) -> None:
    rng = np.random.RandomState(1)
    for X, Y in ((rng.randn(5, 3), rng.randn(2, 3)), (rng.randn(2, 7), rng.randn(1, 7))):
        got = session.run("layer_sizes", X, Y)
        expected = (X.shape[0], 4, Y.shape[0])
        if isinstance(got, (tuple, list)) and len(got) == 3 and tuple(got) == expected:
            continue
        if isinstance(got, (tuple, list)) and len(got) == 3 and got[0] == X.shape[1]:
            raise Failed(
                f"layer_sizes: n_x is {got[0]}, the number of examples: the course keeps one "
                f"example per column, so n_x = X.shape[0] = {X.shape[0]}"
            )
        if isinstance(got, (tuple, list)) and len(got) == 3 and got[1] != 4:
            raise Failed(f"layer_sizes: n_h is {got[1]}; the course's hidden layer has 4 units")
        raise Failed(
            f"layer_sizes returned {got!r} for X {X.shape} and Y {Y.shape}, expected {expected}"
        )


def check_initialize_parameters(session: Session) -> None:
    for n_x, n_h, n_y in ((2, 4, 1), (3, 5, 2)):
        check_initializer(
            session,
            "initialize_parameters",
            (n_x, n_h, n_y),
            [n_x, n_h, n_y],
            2,
            [
                (
                    "np.random.seed(2), randn * 0.01",
                    shallow.initialize_parameters(n_x, n_h, n_y, seed=2),
                )
            ],
            "np.random.randn(n_h, n_x) * 0.01",
        )


def _forward(X: np.ndarray, parameters: dict, hidden: str, output: str) -> np.ndarray:
    A1 = activations.FORWARD[hidden](parameters["W1"] @ X + parameters["b1"])
    return activations.FORWARD[output](parameters["W2"] @ A1 + parameters["b2"])


def check_forward_propagation(session: Session) -> None:
    for seed, (n_x, n_h, m) in enumerate(((2, 4, 3), (3, 5, 6))):
        parameters = _parameters(n_x, n_h, seed, scale=1.0)
        X, _ = _data(n_x, m, seed)
        A2, cache = unpack(
            "forward_propagation",
            session.run("forward_propagation", X, parameters),
            ("A2", "cache"),
        )
        expected, reference = shallow.forward_propagation(X, parameters)
        candidates = [
            (
                "the hidden layer uses sigmoid; week 3's hidden layer is tanh",
                _forward(X, parameters, "sigmoid", "sigmoid"),
            ),
            (
                "the hidden layer uses relu; week 3's hidden layer is tanh",
                _forward(X, parameters, "relu", "sigmoid"),
            ),
            (
                "the output uses tanh; the output layer is a sigmoid",
                _forward(X, parameters, "tanh", "tanh"),
            ),
        ]
        problem = diagnose("forward_propagation", "A2", A2, expected, candidates=candidates)
        if not problem:
            problem = diagnose_all(
                "forward_propagation", cache, reference, ("Z1", "A1", "Z2", "A2"), what="the cache"
            )
        if problem:
            raise Failed(problem)


def check_compute_cost(session: Session) -> None:
    required = session.required("compute_cost")
    extra = (_parameters(3, 4, 0),) if len(required) >= 3 else ()  # the older (A2, Y, parameters)
    check_cost(session, "compute_cost", extra)


def check_backward_propagation(session: Session) -> None:
    for seed, (n_x, n_h, m) in enumerate(((3, 4, 5), (2, 4, 3))):
        parameters = _parameters(n_x, n_h, seed + 3)
        X, Y = _data(n_x, m, seed + 3)
        _, cache = shallow.forward_propagation(X, parameters)
        got = session.run("backward_propagation", parameters, cache, X, Y)
        expected = shallow.backward_propagation(parameters, cache, X, Y)
        A1, dZ2 = cache["A1"], cache["A2"] - Y
        candidates: dict[str, list] = {"dW1": [], "db1": []}
        for text, derivative in (
            ("uses 1 - A1 instead of tanh's derivative 1 - A1^2", 1 - A1),
            ("uses sigmoid's derivative A1 (1 - A1); tanh's is 1 - A1^2", A1 * (1 - A1)),
            ("leaves out tanh's derivative (1 - A1^2)", np.ones_like(A1)),
        ):
            dZ1 = parameters["W2"].T @ dZ2 * derivative
            candidates["dW1"].append((text, dZ1 @ X.T / m))
            candidates["db1"].append((text, dZ1.sum(axis=1, keepdims=True) / m))
        layers = {"dW2": 2, "db2": 2, "dW1": 1, "db1": 1}
        problem = diagnose_all(
            "backward_propagation", got, expected, ("dW2", "db2", "dW1", "db1"),
            m=m, layers=layers, candidates=candidates, what="grads",
        )  # fmt: skip
        if problem:
            raise Failed(problem)
        if seed == 0:

            def cost(p: dict, X: np.ndarray = X, Y: np.ndarray = Y) -> object:
                return cross_entropy_cost(shallow.forward_propagation(X, p)[0], Y)

            for note in whole_backward_notes(cost, parameters, got):
                session.note(note)


def check_update_parameters(session: Session) -> None:
    check_update(session, "update_parameters", _parameters(3, 4, 7), 1.2)


def _train(parameters: dict, X: np.ndarray, Y: np.ndarray, iterations: int) -> tuple[dict, list]:
    for _ in range(iterations):
        A2, cache = shallow.forward_propagation(X, parameters)
        grads = shallow.backward_propagation(parameters, cache, X, Y)
        parameters = shallow.update_parameters(parameters, grads, 1.2)
    return parameters, []


def check_nn_model(session: Session) -> None:
    n_x, n_h, m = 2, 4, 6
    X, Y = _data(n_x, m, 9)
    # The course seeds 3 before initialize_parameters (which, in the older notebook, seeds 2).
    starts = start_parameters(session, "initialize_parameters", (n_x, n_h, 1), 3)
    starts += [shallow.initialize_parameters(n_x, n_h, 1, seed=seed) for seed in (3, 2)]
    check_model(
        session, "nn_model", (X, Y, n_h), starts, lambda p, k: _train(p, X, Y, k),
        ["W1", "b1", "W2", "b2"], {"num_iterations": 2, "print_cost": False}, m, seed=3,
    )  # fmt: skip


def check_predict(session: Session) -> None:
    parameters = _parameters(3, 4, 12, scale=1.0)
    X, _ = _data(3, 8, 12)
    A2, _ = shallow.forward_propagation(X, parameters)
    parameters["b2"] = parameters["b2"] - np.log(np.median(A2) / (1 - np.median(A2)))
    A2, _ = shallow.forward_propagation(X, parameters)
    got = session.run("predict", parameters, X)
    candidates = [("returns the probabilities A2; predict 1 where A2 > 0.5, else 0", A2)]
    problem = diagnose(
        "predict", "predictions", got, (A2 > 0.5).astype(np.float64), candidates=candidates
    )
    if problem:
        raise Failed(problem)


CHECKS = {
    "layer_sizes": check_layer_sizes,
    "initialize_parameters": check_initialize_parameters,
    "forward_propagation": check_forward_propagation,
    "compute_cost": check_compute_cost,
    "backward_propagation": check_backward_propagation,
    "update_parameters": check_update_parameters,
    "nn_model": check_nn_model,
    "predict": check_predict,
}

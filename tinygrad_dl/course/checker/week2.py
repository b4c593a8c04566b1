"""Week 2: logistic regression as a neural network, checked bottom-up.

Graded functions in the course's order: ``sigmoid``, ``initialize_with_zeros``, ``propagate``,
``optimize``, ``predict``, ``model``, on the course's published test inputs and random ones,
against :mod:`tinygrad_dl.course.logistic`.
"""

from __future__ import annotations

import numpy as np

from .. import logistic
from ..cost import cross_entropy_cost
from .backprop import whole_backward_notes
from .checks import cost_candidates
from .compare import diagnose, diagnose_all
from .session import Failed, Session, unpack

WEEK = 2
DISTINCTIVE = ("initialize_with_zeros", "propagate", "optimize", "model")

SUBSTITUTES = {
    "sigmoid": logistic.sigmoid,
    "initialize_with_zeros": logistic.initialize_with_zeros,
    "propagate": logistic.propagate,
    "optimize": logistic.optimize,
    "predict": logistic.predict,
}

# The course's published test case for propagate and optimize.
W = np.array([[1.0], [2.0]])
B = 2.0
X = np.array([[1.0, 2.0, -1.0], [3.0, 4.0, -3.2]])
Y = np.array([[1.0, 0.0, 1.0]])


def _random(n_x: int, m: int, seed: int) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
    return 0.3 * rng.randn(n_x, 1), float(0.2 * rng.randn()), rng.randn(n_x, m), Y


def check_sigmoid(session: Session) -> None:
    rng = np.random.RandomState(0)
    for z in (np.array([0.0, 2.0]), rng.randn(3, 4)):
        got = session.run("sigmoid", z)
        candidates = [("uses e^z instead of e^-z", 1 / (1 + np.exp(z)))]
        problem = diagnose("sigmoid", "s", got, logistic.sigmoid(z), candidates=candidates)
        if problem:
            raise Failed(problem)


def check_initialize_with_zeros(session: Session) -> None:
    for dim in (2, 5):
        w, b = unpack(
            "initialize_with_zeros", session.run("initialize_with_zeros", dim), ("w", "b")
        )
        problem = diagnose("initialize_with_zeros", "w", w, np.zeros((dim, 1)))
        if problem:
            raise Failed(problem)
        if np.asarray(w).dtype.kind != "f":
            raise Failed(
                f"initialize_with_zeros: w has dtype {np.asarray(w).dtype}, expected floats "
                "(np.zeros((dim, 1)) gives float64)"
            )
        if np.size(b) != 1 or float(np.asarray(b, dtype=np.float64).reshape(-1)[0]) != 0:
            raise Failed(f"initialize_with_zeros: b is {b!r}, expected the number 0.0")


def check_propagate(session: Session) -> None:
    for number, (w, b, X_case, Y_case) in enumerate(
        [(W, B, X, Y), _random(4, 6, 1), _random(3, 2, 2)]
    ):
        grads, cost = unpack(
            "propagate", session.run("propagate", w, b, X_case, Y_case), ("grads", "cost")
        )
        expected, expected_cost = logistic.propagate(w, b, X_case, Y_case)
        m = X_case.shape[1]
        problem = diagnose_all("propagate", grads, expected, ("dw", "db"), m=m, what="grads")
        if problem:
            raise Failed(problem)
        A = logistic.forward(w, b, X_case)
        problem = diagnose(
            "propagate", "cost", cost, expected_cost, m=m, candidates=cost_candidates(A, Y_case)
        )
        if problem:
            raise Failed(problem)
        if number == 1:
            notes = whole_backward_notes(
                lambda p, X=X_case, Y=Y_case: cross_entropy_cost(
                    logistic.forward(p["w"], p["b"], X), Y
                ),
                {"w": w, "b": b},
                grads,
            )
            for note in notes:
                session.note(note)


def check_optimize(session: Session) -> None:
    cases = [(*_random(3, 5, 3), 1, 0.1), (*_random(3, 5, 4), 2, 0.1), (W, B, X, Y, 100, 0.009)]
    for w, b, X_case, Y_case, iterations, learning_rate in cases:
        got = session.run("optimize", w, b, X_case, Y_case, iterations, learning_rate, False)
        params, grads, costs = unpack("optimize", got, ("params", "grads", "costs"))
        expected_params, expected_grads, expected_costs = logistic.optimize(
            w, b, X_case, Y_case, iterations, learning_rate
        )
        first, _ = logistic.propagate(w, b, X_case, Y_case)
        candidates = {}
        if iterations == 1:
            for key, value in (("w", w), ("b", b)):
                step = first[f"d{key}"]
                candidates[key] = [
                    (
                        f"moves uphill: the update is {key} - learning_rate * d{key}, not +",
                        value + learning_rate * step,
                    ),
                    ("takes the step twice", value - 2 * learning_rate * step),
                    ("forgets the learning rate", value - step),
                    ("was not updated", value),
                ]
        problem = diagnose_all(
            "optimize", params, expected_params, ("w", "b"), candidates=candidates, what="params"
        ) or diagnose_all(
            "optimize", grads, expected_grads, ("dw", "db"), m=X_case.shape[1], what="grads"
        )
        if problem:
            raise Failed(problem + f" (num_iterations={iterations})")
        if isinstance(costs, (list, tuple)) and costs:
            problem = diagnose("optimize", "costs[0]", costs[0], expected_costs[0])
            if problem:
                raise Failed(problem)


def check_predict(session: Session) -> None:
    w, b = np.array([[0.1124579], [0.23106775]]), -0.3
    published = np.array([[1.0, -1.1, -3.2], [1.2, 2.0, 0.1]])
    w2, b2, X2, _ = _random(4, 7, 5)
    b2 -= float(np.median(w2.T @ X2 + b2))  # both classes
    for w_case, b_case, X_case in ((w, b, published), (w2, b2, X2)):
        got = session.run("predict", w_case, b_case, X_case)
        A = logistic.forward(w_case, b_case, X_case)
        candidates = [("returns the probabilities A; predict 1 where A > 0.5, else 0", A)]
        problem = diagnose(
            "predict", "Y_prediction", got, (A > 0.5).astype(np.float64), candidates=candidates
        )
        if problem:
            raise Failed(problem)


def check_model(session: Session) -> None:
    _, _, X_train, Y_train = _random(4, 6, 6)
    _, _, X_test, Y_test = _random(4, 3, 7)
    got = session.run(
        "model",
        X_train,
        Y_train,
        X_test,
        Y_test,
        num_iterations=2,
        learning_rate=0.5,
        print_cost=False,
    )
    expected = logistic.model(X_train, Y_train, X_test, Y_test, num_iterations=2, learning_rate=0.5)
    candidates = {
        "Y_prediction_test": [("holds the training predictions", expected["Y_prediction_train"])],
    }
    problem = diagnose_all(
        "model", got, expected, ("w", "b", "Y_prediction_train", "Y_prediction_test"),
        candidates=candidates, what="the returned dict d",
    )  # fmt: skip
    if problem:
        raise Failed(problem + " (num_iterations=2, learning_rate=0.5)")
    costs = got.get("costs")
    if isinstance(costs, (list, tuple)) and costs:
        A = logistic.forward(np.zeros((4, 1)), 0.0, X_train)
        problem = diagnose("model", "costs[0]", costs[0], cross_entropy_cost(A, Y_train))
        if problem:
            raise Failed(problem)


CHECKS = {
    "sigmoid": check_sigmoid,
    "initialize_with_zeros": check_initialize_with_zeros,
    "propagate": check_propagate,
    "optimize": check_optimize,
    "predict": check_predict,
    "model": check_model,
}

"""Checks every week shares: initialisers, costs, one update step, two iterations of a model.

Each raises :class:`~.session.Failed` with the diagnosis, or returns when the learner's function
matches the course's reference.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..cost import cross_entropy_cost
from .compare import diagnose, diagnose_all
from .session import Failed, Session


def check_initializer(
    session: Session,
    name: str,
    args: tuple,
    dims: list[int],
    seed: int,
    references: list[tuple[str, dict]],
    scale_hint: str,
) -> None:
    """Shapes, zero biases, broken symmetry, then the course's draws for ``seed``."""
    got = session.run(name, *args, seed=seed)
    if not isinstance(got, dict):
        raise Failed(f"{name} returned a {type(got).__name__}, expected the dict of parameters")
    L = len(dims) - 1
    for l in range(1, L + 1):
        for key, shape in ((f"W{l}", (dims[l], dims[l - 1])), (f"b{l}", (dims[l], 1))):
            if key not in got:
                hint = f" (did the loop stop one layer early? L = {L} here)" if l == L else ""
                raise Failed(f"{name}: {key} is missing{hint}; it holds {', '.join(map(str, got))}")
            value = np.asarray(got[key]) if not hasattr(got[key], "name") else None
            if value is None or value.shape != shape:
                problem = diagnose(name, key, got[key], np.zeros(shape))
                raise Failed(problem or f"{name}: {key} has the wrong shape, expected {shape}")
        for key in (f"W{l}", f"b{l}"):
            dtype = np.asarray(got[key]).dtype
            if dtype.kind != "f":
                raise Failed(
                    f"{name}: {key} has dtype {dtype}, expected floats (np.zeros and "
                    "np.random.randn give float64; an integer array cannot take a gradient step)"
                )
        if np.any(np.asarray(got[f"b{l}"]) != 0):
            raise Failed(f"{name}: b{l} is not zero; the course starts every bias at zero")
        W = np.asarray(got[f"W{l}"], dtype=np.float64)
        if not np.any(W):
            raise Failed(
                f"{name}: W{l} is all zeros, so every unit of layer {l} computes the same "
                f"function and gradient descent never breaks the symmetry; use {scale_hint}"
            )
        if W.shape[0] > 1 and len(np.unique(W.round(12), axis=0)) < W.shape[0]:
            raise Failed(
                f"{name}: W{l} has identical rows: the symmetry between units is not broken"
            )
    for _, reference in references:
        if all(
            np.allclose(np.asarray(got[k], float), reference[k], rtol=1e-6, atol=1e-12)
            for k in reference
        ):
            return
    label, reference = references[0]
    for key in (k for k in reference if k.startswith("W")):
        W, expected = np.asarray(got[key], dtype=np.float64), reference[key]
        if np.allclose(W, expected, rtol=1e-6, atol=1e-12):
            continue
        ratio = float(np.sum(W * expected) / np.sum(expected * expected))
        if np.allclose(W, ratio * expected, rtol=1e-6, atol=1e-12):
            raise Failed(
                f"{name}: {key} is {ratio:.4g} x the course's values ({label}): use {scale_hint}"
            )
        raise Failed(
            f"{name}: {key} does not match the course's draws ({label}): draw with "
            f"np.random.randn (not rand), W1 before W2, and {scale_hint}"
        )


def cost_candidates(A: np.ndarray, Y: np.ndarray) -> list[tuple[str, float]]:
    """The usual wrong cross-entropies, each with what it means."""
    m = Y.shape[1]
    logA, log1mA = np.log(A), np.log(1 - A)
    return [
        ("the (1 - Y) log(1 - A) term is missing", -np.sum(Y * logA) / m),
        ("the Y log(A) term is missing", -np.sum((1 - Y) * log1mA) / m),
        ("(1 - Y) multiplies log(A) instead of log(1 - A)", -np.sum(Y * logA + (1 - Y) * logA) / m),
        ("log(A) and log(1 - A) are swapped", -np.sum(Y * log1mA + (1 - Y) * logA) / m),
        ("it uses log(1) - A instead of log(1 - A)", -np.sum(Y * logA + (1 - Y) * (-A)) / m),
    ]


def cost_cases() -> list[tuple[np.ndarray, np.ndarray]]:
    """The course's published cost case and two random ones (both labels present)."""
    rng = np.random.RandomState(4)
    cases = [(np.array([[0.8, 0.9, 0.4]]), np.array([[1.0, 1.0, 0.0]]))]
    for m in (5, 8):
        A = rng.uniform(0.05, 0.95, (1, m))
        Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
        cases.append((A, Y))
    return cases


def check_cost(session: Session, name: str, extra: tuple = ()) -> None:
    """``compute_cost(A, Y[, parameters])`` against the cross-entropy, on every cost case."""
    for A, Y in cost_cases():
        got = session.run(name, A, Y, *extra)
        expected = cross_entropy_cost(A, Y)
        problem = diagnose(
            name, "cost", got, expected, m=Y.shape[1], candidates=cost_candidates(A, Y)
        )
        if problem:
            raise Failed(problem)


def update_candidates(parameters: dict, grads: dict, learning_rate: float) -> dict[str, list]:
    """The usual wrong updates of each parameter, each with what it means."""
    return {
        key: [
            (
                f"moves uphill: the update is {key} - learning_rate * d{key}, not +",
                value + learning_rate * grads[f"d{key}"],
            ),
            ("takes the step twice", value - 2 * learning_rate * grads[f"d{key}"]),
            ("forgets the learning rate", value - grads[f"d{key}"]),
            ("was not updated", value),
        ]
        for key, value in parameters.items()
    }


def check_update(
    session: Session, name: str, parameters: dict, learning_rate: float, positional: bool = True
) -> None:
    """One gradient step on every parameter, against ``W - alpha dW``."""
    rng = np.random.RandomState(6)
    grads = {f"d{key}": rng.randn(*value.shape) for key, value in parameters.items()}
    got = session.run(name, parameters, grads, learning_rate)
    expected = {key: value - learning_rate * grads[f"d{key}"] for key, value in parameters.items()}
    keys = sorted(parameters, key=lambda k: (int(k[1:]), k[0] != "W"))
    problem = diagnose_all(
        name,
        got,
        expected,
        keys,
        candidates=update_candidates(parameters, grads, learning_rate),
        what="the updated parameters",
    )
    if problem:
        raise Failed(problem)


def check_model(
    session: Session,
    name: str,
    args: tuple,
    starts: list[dict],
    train: Any,
    keys: list[str],
    kwargs: dict,
    m: int,
    seed: int = 1,
) -> None:
    """Two iterations of ``name`` against two reference steps from the same start.

    ``starts`` are the initialisations the model may use (the learner's own initialiser first,
    then the course's variants); the model passes if it matches training from any of them.
    """
    got = session.run(name, *args, seed=seed, **kwargs)
    costs = None
    if isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[0], dict):
        got, costs = got
    problems = []
    for start in starts:
        expected, expected_costs = train(start, 2)
        one_step, _ = train(start, 1)
        candidates = {
            key: [
                (
                    "did not change: is update_parameters's result assigned back to parameters?",
                    start[key],
                ),
                (
                    "matches one iteration, not two: does the loop run num_iterations times?",
                    one_step[key],
                ),
            ]
            for key in keys
        }
        problem = diagnose_all(
            name, got, expected, keys, m=m, candidates=candidates, what="the trained parameters"
        )
        if problem is None and isinstance(costs, (list, tuple)) and costs and expected_costs:
            problem = diagnose(name, "costs[0]", costs[0], expected_costs[0], m=m)
        if problem is None:
            return
        problems.append(problem)
    raise Failed(problems[0] + " (after num_iterations=2)")


def start_parameters(session: Session, initializer: str, args: tuple, seed: int) -> list[dict]:
    """The learner's initialiser's parameters after ``np.random.seed(seed)``, as the model
    calls it (none when it failed or is missing); the course's variants are added by callers."""
    if initializer in session.failed or initializer not in session.child.available:
        return []
    start = session.call(initializer, *args, seed=seed)
    if start.error is not None or not isinstance(start.value, dict):
        return []
    return [{key: np.asarray(value, dtype=np.float64) for key, value in start.value.items()}]

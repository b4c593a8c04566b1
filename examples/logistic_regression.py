"""Logistic regression on the breast cancer data, trained twice side by side:

1. by hand, with the course's week-2 formulas (``tinygrad_dl.course.logistic.propagate``):
   ``A = sigmoid(w^T X + b)``, ``dw = (1/m) X (A - Y)^T``, ``db = (1/m) sum(A - Y)``;
2. by autodiff: ``w`` and ``b`` are Tensors, the cost is
   ``nn.functional.binary_cross_entropy_with_logits``, ``cost.backward()`` finds the gradients
   and ``optim.SGD`` applies ``w := w - alpha dw``.

Both start from zeros with the same learning rate; their loss curves coincide, and the script
prints the largest difference between them. Run it from the repository root::

    python examples/logistic_regression.py

It writes ``out/logistic_regression/costs.png`` (needs matplotlib: the ``viz`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.course import logistic
from tinygrad_dl.data import StandardScaler, load_breast_cancer, train_test_split


def prepare(seed: int = 0):
    """Standardised train/test sets in the course's layout: ``X`` (30, m), ``Y`` (1, m)."""
    X, y = load_breast_cancer()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, rng=seed)
    scaler = StandardScaler().fit(X_train)  # statistics of the training set only
    return (
        scaler.transform(X_train).T,
        y_train.reshape(1, -1).astype(float),
        scaler.transform(X_test).T,
        y_test.reshape(1, -1).astype(float),
    )


def train_by_hand(X, Y, iterations, learning_rate):
    w, b = logistic.initialize_with_zeros(X.shape[0])
    costs = []
    for _ in range(iterations):
        grads, cost = logistic.propagate(w, b, X, Y)
        w = w - learning_rate * grads["dw"]
        b = b - learning_rate * grads["db"]
        costs.append(cost)
    return w, b, np.array(costs)


def train_by_autodiff(X, Y, iterations, learning_rate):
    w = tg.zeros((X.shape[0], 1), requires_grad=True)
    b = tg.zeros((), requires_grad=True)
    optimizer = optim.SGD([w, b], lr=learning_rate)
    costs = []
    for _ in range(iterations):
        optimizer.zero_grad()
        Z = w.T @ X + b  # (1, m), the course's layout
        cost = nn.functional.binary_cross_entropy_with_logits(Z, Y)
        cost.backward()
        optimizer.step()
        costs.append(cost.item())
    return w.data, float(b.item()), np.array(costs)


def accuracy(w, b, X, Y):
    return float(np.mean(logistic.predict(w, b, X) == Y))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--out", type=Path, default=Path("out/logistic_regression"))
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)

    X_train, Y_train, X_test, Y_test = prepare()
    print(
        f"breast cancer: {X_train.shape[1]} training, {X_test.shape[1]} test examples, "
        f"{X_train.shape[0]} features (standardised)"
    )
    w_hand, b_hand, costs_hand = train_by_hand(
        X_train, Y_train, args.iterations, args.learning_rate
    )
    w_auto, b_auto, costs_auto = train_by_autodiff(
        X_train, Y_train, args.iterations, args.learning_rate
    )

    print(f"\n{'iteration':>9}  {'cost (hand)':>18}  {'cost (autodiff)':>18}")
    for i in range(0, args.iterations, max(1, args.iterations // 10)):
        print(f"{i:>9}  {costs_hand[i]:>18.15f}  {costs_auto[i]:>18.15f}")
    gap = float(np.max(np.abs(costs_hand - costs_auto)))
    print(f"\nmax |cost (hand) - cost (autodiff)| over {args.iterations} iterations: {gap:.2e}")
    print(f"max |w (hand) - w (autodiff)| after training: {np.max(np.abs(w_hand - w_auto)):.2e}")
    for name, w, b in (("hand", w_hand, b_hand), ("autodiff", w_auto, b_auto)):
        print(
            f"accuracy ({name}): train {100 * accuracy(w, b, X_train, Y_train):.2f}%, "
            f"test {100 * accuracy(w, b, X_test, Y_test):.2f}%"
        )
    if not args.no_plots:
        from tinygrad_dl import plot

        path = plot.loss_curves(
            {"hand formulas": costs_hand, "autodiff": costs_auto},
            args.out / "costs.png",
            title="Logistic regression on breast cancer: the curves coincide",
        )
        print(f"plot saved: {path}")
    return 0 if gap < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())

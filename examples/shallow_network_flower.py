"""The course's week-3 shallow network on the flower data, built with ``nn`` and trained by ``fit``.

The network is ``2 -> 4 (tanh) -> 1``, as in the course, written PyTorch-style::

    rng = np.random.RandomState(2)     # the course's seed: the same initial W1, W2
    model = nn.Sequential(nn.Linear(2, 4, init="course", rng=rng), nn.Tanh(),
                          nn.Linear(4, 1, init="course", rng=rng))

trained with full-batch gradient descent (``optim.SGD``, learning rate 1.2, 10000 iterations) on
the logits with ``nn.BCEWithLogitsLoss`` (its gradient is the course's ``dZ2 = (A2 - Y)/m``).
It reaches about 90% training accuracy where logistic regression gets 47%, draws the decision
boundary, then sweeps the hidden size over 1, 2, 3, 4, 5, 20, 50. Run it from the repository
root::

    python examples/shallow_network_flower.py

It writes ``out/shallow_network_flower/decision_boundary.png`` and ``hidden_sizes.png`` (needs
matplotlib: the ``viz`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.data import load_flower
from tinygrad_dl.train import binary_accuracy, fit

HIDDEN_SIZES = (1, 2, 3, 4, 5, 20, 50)


def shallow_network(hidden: int, seed: int = 2) -> nn.Sequential:
    rng = np.random.RandomState(seed)
    return nn.Sequential(
        nn.Linear(2, hidden, init="course", rng=rng),
        nn.Tanh(),
        nn.Linear(hidden, 1, init="course", rng=rng),
    )


def train(X, Y, hidden, iterations, learning_rate, progress=False):
    """Full-batch gradient descent; returns the model and its history."""
    model = shallow_network(hidden)
    history = fit(
        model,
        nn.BCEWithLogitsLoss(),
        optim.SGD(model.parameters(), lr=learning_rate),
        (X, Y),  # one full batch per epoch: the course's gradient descent
        epochs=iterations,
        metrics=["accuracy"],
        progress=progress,
    )
    return model, history


def predictor(model):
    """Points (k, 2) -> 0/1 predictions, for the decision-boundary plot."""

    def predict(points):
        with tg.no_grad():
            return (model(points).data > 0).astype(float)

    return predict


def _units(hidden: int) -> str:
    return f"{hidden} hidden unit" + ("s" if hidden > 1 else "")


def training_accuracy(model, X, Y) -> float:
    with tg.no_grad():
        return binary_accuracy(model(X), Y, threshold=0.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=10_000)
    parser.add_argument("--sweep-iterations", type=int, default=5000)
    parser.add_argument("--learning-rate", type=float, default=1.2)
    parser.add_argument("--out", type=Path, default=Path("out/shallow_network_flower"))
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument("--no-sweep", action="store_true")
    args = parser.parse_args(argv)

    X, Y = load_flower(layout="batch")  # (400, 2) and (400, 1): batch-first for nn
    print(
        f"flower data: {X.shape[0]} points; training 2 -> 4 (tanh) -> 1 "
        f"for {args.iterations} iterations"
    )
    model, history = train(X, Y, 4, args.iterations, args.learning_rate, progress=None)
    accuracy = training_accuracy(model, X, Y)
    print(model)
    print(f"final cost {history['loss'][-1]:.6f}; training accuracy {100 * accuracy:.2f}%")
    plots = not args.no_plots
    if plots:
        from tinygrad_dl import plot

        path = plot.decision_boundary(
            predictor(model),
            X,
            Y,
            args.out / "decision_boundary.png",
            title="Shallow network, 4 hidden units",
        )
        print(f"plot saved: {path}")

    if not args.no_sweep:
        print(f"\nhidden-size sweep ({args.sweep_iterations} iterations each):")
        models = {}
        for hidden in HIDDEN_SIZES:
            swept, _ = train(X, Y, hidden, args.sweep_iterations, args.learning_rate)
            models[hidden] = swept
            accuracy = training_accuracy(swept, X, Y)
            print(f"  {_units(hidden):>15}: accuracy {100 * accuracy:.2f}%")
        if plots:
            path = plot.decision_boundaries(
                {_units(h): predictor(m) for h, m in models.items()},
                X,
                Y,
                args.out / "hidden_sizes.png",
            )
            print(f"plot saved: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

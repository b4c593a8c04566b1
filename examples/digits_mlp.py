"""A deep ReLU network on the 8x8 handwritten digits: ``nn.Sequential``, Adam, softmax
cross-entropy, minibatches, a saved and reloaded model.

The network is ``64 -> 128 (ReLU, Dropout 0.2) -> 64 (ReLU) -> 10`` with He initialisation,
trained with ``optim.Adam`` on minibatches of 32 from a ``DataLoader`` by ``fit``, which tracks
the loss and accuracy on a held-out test set after every epoch (in eval mode: no dropout). It
reaches about 97% test accuracy in a few seconds. The trained weights are saved with
``tg.save`` (``.npz``, no pickle) and loaded into a fresh model, which scores the same.
Run it from the repository root::

    python examples/digits_mlp.py

It writes ``out/digits_mlp/model.npz`` and ``out/digits_mlp/curves.png`` (the plot needs
matplotlib: the ``viz`` extra; the data needs scikit-learn: the ``data`` extra).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.data import DataLoader, load_digits, train_test_split
from tinygrad_dl.serialization import load, save
from tinygrad_dl.train import accuracy, fit


def build_model(seed: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(64, 128, init="he", rng=seed),
        nn.ReLU(),
        nn.Dropout(0.2, rng=seed),
        nn.Linear(128, 64, init="he", rng=seed + 1),
        nn.ReLU(),
        nn.Linear(64, 10, init="xavier", rng=seed + 2),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/digits_mlp"))
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args(argv)

    X, y = load_digits()
    X = X / 16.0  # pixel intensities 0..16 -> [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, rng=args.seed
    )
    print(f"digits: {len(y_train)} training and {len(y_test)} test images of 8x8 pixels")

    model = build_model(args.seed)
    print(model)
    history = fit(
        model,
        nn.CrossEntropyLoss(),
        optim.Adam(model.parameters(), lr=args.learning_rate),
        DataLoader(X_train, y_train, batch_size=args.batch_size, shuffle=True, rng=args.seed),
        epochs=args.epochs,
        val_data=(X_test, y_test),
        metrics=["accuracy"],
    )
    model.eval()
    with tg.no_grad():
        test_accuracy = accuracy(model(X_test), y_test)
    print(f"test accuracy: {100 * test_accuracy:.2f}%")

    args.out.mkdir(parents=True, exist_ok=True)
    save(model.state_dict(), args.out / "model.npz")
    reloaded = build_model(args.seed + 100)  # different initial weights...
    reloaded.load_state_dict(load(args.out / "model.npz"))  # ...replaced by the saved ones
    reloaded.eval()
    with tg.no_grad():
        reloaded_accuracy = accuracy(reloaded(X_test), y_test)
    print(f"saved to {args.out / 'model.npz'}; reloaded model: {100 * reloaded_accuracy:.2f}%")

    if not args.no_plots:
        from tinygrad_dl import plot

        path = plot.loss_curves(
            {
                "train loss": history["loss"],
                "test loss": history["val_loss"],
                "test error (1 - accuracy)": [1 - a for a in history["val_accuracy"]],
            },
            args.out / "curves.png",
            xlabel="epoch",
            ylabel="",
            title="Digits: a 3-layer ReLU network with Adam",
            log_scale=True,
        )
        print(f"plot saved: {path}")
    return 0 if reloaded_accuracy == test_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())

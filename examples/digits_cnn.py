"""A small convolutional network on the 8x8 handwritten digits, written as a PyTorch user would,
then handed to PyTorch.

The network is ``Conv2d(1, 32, 3) -> ReLU -> MaxPool2d(2) -> Conv2d(32, 64, 3) -> ReLU ->
MaxPool2d(2) -> Flatten -> Linear(256, 10)`` (PyTorch's default initialisation), trained with
``optim.Adam`` and a cosine learning-rate schedule on shuffled minibatches from a ``DataLoader``,
in PyTorch's training loop. It reaches about 98% test accuracy in about ten seconds on two
cores. Its state dict then loads, key for key,
into the identical ``torch.nn.Sequential`` (when PyTorch is installed), which predicts the same
classes. Run it from the repository root::

    python examples/digits_cnn.py

The data needs scikit-learn (the ``data`` extra); the comparison needs PyTorch (the ``bench``
extra, or ``pip install torch``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import tinygrad_dl as tg
from tinygrad_dl import nn, optim
from tinygrad_dl.data import DataLoader, load_digits, train_test_split


def build_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3, padding=1),  # (m, 1, 8, 8) -> (m, 32, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (m, 32, 4, 4)
        nn.Conv2d(32, 64, kernel_size=3, padding=1),  # -> (m, 64, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # -> (m, 64, 2, 2)
        nn.Flatten(),  # -> (m, 256)
        nn.Linear(256, 10),
    )


def build_torch_model(torch):
    """The same architecture in PyTorch: the same layer names, so the state dicts match."""
    tnn = torch.nn
    return tnn.Sequential(
        tnn.Conv2d(1, 32, kernel_size=3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(32, 64, kernel_size=3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Flatten(),
        tnn.Linear(256, 10),
    )


def train(model, loader, optimizer, scheduler, loss_fn, epochs: int, m: int) -> None:
    """The PyTorch training loop, line for line."""
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels.data)
        scheduler.step()
        print(f"epoch {epoch:2d}: training loss {total / m:.4f}")


def _one_blas_thread():
    """One BLAS thread while training, when threadpoolctl is installed: the GEMMs here are
    small (32 x 9 by 9 x 2048), and BLAS threads that wait on each other on a busy two-core
    machine made a step ten times slower in our measurements."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def conv2d_timing(batch_size: int = 64, repeats: int = 200) -> dict[str, float]:
    """Milliseconds of CPU time for one forward and backward of this network's two
    convolutions on a digits-sized batch, here and in PyTorch (float64, one thread each; the
    best of ``repeats``), for the benchmark report. CPU time, not wall time: on a shared
    machine the wall clock also counts the time other programs held the cores.

    Returns
    -------
    dict
        ``{"tinygrad_dl_ms": ..., "torch_ms": ...}`` (``torch_ms`` absent without PyTorch).
    """
    rng = np.random.default_rng(0)
    shapes = [((batch_size, 1, 8, 8), (32, 1, 3, 3)), ((batch_size, 32, 4, 4), (64, 32, 3, 3))]
    arrays = [
        (rng.standard_normal(x), rng.standard_normal(w), rng.standard_normal(w[0]))
        for x, w in shapes
    ]

    def best(step) -> float:
        times = []
        for _ in range(repeats):
            start = time.process_time()
            step()
            times.append(time.process_time() - start)
        return 1e3 * min(times)

    def ours() -> None:
        for x, w, b in arrays:
            tensors = [tg.Tensor(a, requires_grad=True) for a in (x, w, b)]
            nn.functional.conv2d(*tensors, padding=1).sum().backward()

    with _one_blas_thread():
        result = {"tinygrad_dl_ms": best(ours)}
    try:
        import torch
    except ImportError:
        return result
    torch_arrays = [[torch.from_numpy(a) for a in group] for group in arrays]

    def theirs() -> None:
        for x, w, b in torch_arrays:
            tensors = [a.clone().requires_grad_() for a in (x, w, b)]
            torch.nn.functional.conv2d(*tensors, padding=1).sum().backward()

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result["torch_ms"] = best(theirs)
    finally:
        torch.set_num_threads(threads)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("out/digits_cnn"))
    parser.add_argument(
        "--time-conv", action="store_true", help="only time the convolutions against PyTorch"
    )
    args = parser.parse_args(argv)
    if args.time_conv:
        for name, value in conv2d_timing().items():
            print(f"{name}: {value:.3f}")
        return 0

    np.random.seed(args.seed)  # the initialisers draw from NumPy's global state
    X, y = load_digits()
    images = (X / 16.0).reshape(-1, 1, 8, 8)  # (m, channels, height, width), PyTorch's layout
    X_train, X_test, y_train, y_test = train_test_split(
        images, y, test_size=0.2, stratify=y, rng=args.seed
    )
    print(f"digits: {len(y_train)} training and {len(y_test)} test images of 1x8x8 pixels")

    model = build_model()
    print(model)
    loader = DataLoader(
        X_train, y_train, batch_size=args.batch_size, shuffle=True, generator=args.seed
    )
    optimizer = optim.Adam(model.parameters(), lr=args.learning_rate)
    scheduler = optim.CosineAnnealingLR(optimizer, T_max=args.epochs)  # small steps at the end
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    with _one_blas_thread():
        train(model, loader, optimizer, scheduler, loss_fn, args.epochs, len(y_train))
    print(f"trained in {time.perf_counter() - start:.1f} s")

    model.eval()
    with tg.no_grad():
        logits = model(X_test).data
    predictions = logits.argmax(axis=1)
    test_accuracy = float(np.mean(predictions == y_test))
    print(f"test accuracy: {100 * test_accuracy:.2f}%")

    args.out.mkdir(parents=True, exist_ok=True)
    tg.save(model.state_dict(), args.out / "model.npz")
    print(f"saved to {args.out / 'model.npz'}")

    try:
        import torch
    except ImportError:
        print("PyTorch is not installed: skipping the comparison with PyTorch")
        return 0 if test_accuracy >= 0.97 else 1
    twin = build_torch_model(torch).double()  # float64, the course's dtype, as ours
    twin.load_state_dict(
        {k: torch.from_numpy(v.data.copy()) for k, v in model.state_dict().items()}
    )
    twin.eval()
    with torch.no_grad():
        torch_logits = twin(torch.from_numpy(X_test)).numpy()
    same = bool(np.array_equal(torch_logits.argmax(axis=1), predictions))
    difference = float(np.abs(torch_logits - logits).max())
    print(
        f"PyTorch with the same state dict: {'the same' if same else 'DIFFERENT'} predictions "
        f"(largest logit difference {difference:.1e})"
    )
    return 0 if test_accuracy >= 0.97 and same else 1


if __name__ == "__main__":
    sys.exit(main())

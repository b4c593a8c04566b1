"""``python -m tinygrad_dl demo``: the course's 2-layer network, trained by hand and by autodiff.

On the course's flower data (400 points, 2 classes), the week-3 network ``2 -> 4 (tanh) -> 1
(sigmoid)`` starts from the course's initial parameters and is trained twice, step for step:

- by hand: ``tinygrad_dl.course.shallow``'s ``forward_propagation``, ``compute_cost``,
  ``backward_propagation`` and ``update_parameters`` on NumPy arrays;
- by autodiff: the same ``forward_propagation`` and ``compute_cost`` running on Tensors (NumPy
  dispatch), ``cost.backward()``, and ``optim.SGD``.

It prints the two costs side by side, the largest difference between the hand-derived and the
automatic gradient of every parameter over the whole run, the training accuracy, and where it
saved the plots. The exit status is 1 if the gradients disagree.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import IO, Any

import numpy as np

from . import optim
from .course import shallow
from .data import load_flower
from .tensor import Tensor
from .train import Progress

__all__ = ["main", "run"]

_NAMES = ("W1", "b1", "W2", "b2")
# Agreement demanded of every gradient element, |hand - autodiff| <= ATOL + RTOL |hand|, in
# float64 (they typically differ by ~1e-17: rounding in a different order of operations).
_ATOL = 1e-12
_RTOL = 1e-9


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_dl demo",
        description=(
            "Train the course's 2-layer tanh network on the flower data twice from the same "
            "initial parameters: with the hand-derived backprop formulas and with autodiff. "
            "Prints both costs, the gradient differences per layer and the accuracy; saves plots."
        ),
    )
    parser.add_argument("--iterations", type=int, default=10_000, help="default: 10000")
    parser.add_argument("--hidden", type=int, default=4, help="hidden units n_h (default: 4)")
    parser.add_argument("--learning-rate", type=float, default=1.2, help="default: 1.2")
    parser.add_argument(
        "--seed", type=int, default=2, help="initialisation seed (default: 2, the course's)"
    )
    parser.add_argument("--print-every", type=int, default=1000, help="default: 1000")
    parser.add_argument(
        "--out", type=Path, default=Path("out/demo"), help="plot folder (default: out/demo)"
    )
    parser.add_argument("--no-plots", action="store_true", help="do not draw the PNG files")
    parser.add_argument(
        "--progress",
        choices=("auto", "bar", "off"),
        default="auto",
        help="tqdm bar: auto (on a terminal when tqdm is installed), bar, or off",
    )
    return parser


def run(
    iterations: int = 10_000,
    hidden: int = 4,
    learning_rate: float = 1.2,
    seed: int = 2,
    print_every: int = 1000,
    progress: str = "auto",
    file: IO[str] | None = None,
) -> dict[str, Any]:
    """Train both ways and return what the demo reports.

    Parameters
    ----------
    iterations, hidden, learning_rate, seed, print_every : number
        As the command-line options.
    progress : {"auto", "bar", "off"}
        The progress bar.
    file : file object, optional
        Where the table goes (``sys.stdout``).

    Returns
    -------
    dict
        ``costs_hand``, ``costs_autodiff`` (every iteration), ``max_grad_diff`` (per parameter
        name, over the run, at the same parameters), ``grads_agree`` (per parameter: within
        ``1e-12 + 1e-9 |gradient|`` at every step), ``accuracy_hand``,
        ``accuracy_autodiff``, ``parameters_hand``, ``parameters_autodiff``, ``X``, ``Y``,
        ``seconds``.
    """
    out = file if file is not None else sys.stdout
    X, Y = load_flower()
    n_x, n_y = X.shape[0], Y.shape[0]
    initial = shallow.initialize_parameters(n_x, hidden, n_y, seed=seed)
    hand = {name: value.copy() for name, value in initial.items()}
    tensors = {name: Tensor(value.copy(), requires_grad=True) for name, value in initial.items()}
    optimizer = optim.SGD([tensors[name] for name in _NAMES], lr=learning_rate)

    costs_hand = np.empty(iterations)
    costs_autodiff = np.empty(iterations)
    max_diff = dict.fromkeys(_NAMES, 0.0)
    agree = dict.fromkeys(_NAMES, True)
    print(
        f"{'iteration':>9}  {'cost (hand)':>18}  {'cost (autodiff)':>18}  {'|difference|':>12}",
        file=out,
    )
    mode = {"auto": None, "bar": "bar", "off": False}[progress]
    if mode is None and not (hasattr(out, "isatty") and out.isatty()):
        mode = False  # the table below is the progress report in logs
    start = time.perf_counter()
    with Progress(iterations, desc="training", mode=mode, file=out) as bar:
        for i in range(iterations):
            # By autodiff: the course's forward code on Tensors, then backward.
            optimizer.zero_grad()
            A2_t, _ = shallow.forward_propagation(X, tensors)
            cost = shallow.compute_cost(A2_t, Y)
            cost.backward()
            costs_autodiff[i] = cost.item()
            # The hand-derived formulas at exactly the same parameters: the gradient check.
            current = {name: t.data for name, t in tensors.items()}
            _, cache = shallow.forward_propagation(X, current)
            reference = shallow.backward_propagation(current, cache, X, Y)
            for name in _NAMES:
                mine, theirs = reference["d" + name], tensors[name].grad.data
                gap = np.abs(mine - theirs)
                max_diff[name] = max(max_diff[name], float(gap.max()))
                agree[name] = agree[name] and bool(np.all(gap <= _ATOL + _RTOL * np.abs(mine)))
            optimizer.step()
            # By hand: the course's four steps on arrays, its own trajectory.
            A2, cache = shallow.forward_propagation(X, hand)
            costs_hand[i] = shallow.compute_cost(A2, Y)
            grads = shallow.backward_propagation(hand, cache, X, Y)
            hand = shallow.update_parameters(hand, grads, learning_rate)
            if i % print_every == 0 or i == iterations - 1:
                row = (
                    f"{i:>9}  {costs_hand[i]:>18.15f}  {costs_autodiff[i]:>18.15f}  "
                    f"{abs(costs_hand[i] - costs_autodiff[i]):>12.2e}"
                )
                if bar.mode == "bar":
                    bar.write(row)
                else:
                    print(row, file=out, flush=True)
            bar.update()
    seconds = time.perf_counter() - start
    arrays = {name: t.data for name, t in tensors.items()}
    return {
        "costs_hand": costs_hand,
        "costs_autodiff": costs_autodiff,
        "max_grad_diff": max_diff,
        "grads_agree": agree,
        "accuracy_hand": float(np.mean(shallow.predict(hand, X) == Y)),
        "accuracy_autodiff": float(np.mean(shallow.predict(arrays, X) == Y)),
        "parameters_hand": hand,
        "parameters_autodiff": arrays,
        "X": X,
        "Y": Y,
        "seconds": seconds,
    }


def _plots(result: dict[str, Any], folder: Path) -> list[Path]:
    from . import plot

    X, Y = result["X"], result["Y"]
    parameters = result["parameters_autodiff"]
    paths = [
        plot.loss_curves(
            {"hand-derived": result["costs_hand"], "autodiff": result["costs_autodiff"]},
            folder / "costs.png",
            title="Cost of the 2-layer network: hand-derived vs autodiff",
        ),
        plot.decision_boundary(
            lambda points: shallow.predict(parameters, points.T),
            X.T,
            Y,
            folder / "decision_boundary.png",
            title=f"Decision boundary, {parameters['W1'].shape[0]} hidden units",
        ),
        plot.gradient_differences(
            {"d" + name: value for name, value in result["max_grad_diff"].items()},
            folder / "gradient_differences.png",
            title="max |hand-derived - autodiff| over training",
        ),
    ]
    return paths


def main(argv: list[str] | None = None) -> int:
    """Run the demo with command-line arguments; return the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``demo`` (``sys.argv[1:]`` when None).

    Returns
    -------
    int
        0 when the hand-derived and automatic gradients agree, 1 otherwise.
    """
    args = _parser().parse_args(argv)
    if args.iterations < 1 or args.hidden < 1 or args.print_every < 1:
        _parser().error("--iterations, --hidden and --print-every must be positive")
    print(
        f"Flower data: 400 points, 2 classes. Network 2 -> {args.hidden} (tanh) -> 1 (sigmoid), "
        f"{args.iterations} iterations of gradient descent, learning rate {args.learning_rate}."
    )
    print("Same initial parameters (course seed), trained by hand and by autodiff:\n")
    result = run(
        args.iterations,
        args.hidden,
        args.learning_rate,
        args.seed,
        args.print_every,
        args.progress,
    )
    gaps = np.abs(result["costs_hand"] - result["costs_autodiff"])
    apart = np.flatnonzero(gaps > 1e-12)
    if apart.size == 0:
        print(f"\nmax |cost difference| over all {gaps.size} iterations: {gaps.max():.1e}")
    else:
        first = int(apart[0])
        print(
            f"\nmax |cost difference|: {gaps[:first].max() if first else 0.0:.1e} over "
            f"iterations 0-{first - 1}.\n"
            f"  From iteration {first} the runs drift apart (up to {gaps.max():.1e}): late in\n"
            "  training this learning rate makes gradient descent unstable (the cost rises\n"
            "  again), and 1e-16 rounding differences between two correct gradients grow, as\n"
            "  they would between two BLAS libraries. So the gradient check below compares both\n"
            "  at the same parameters."
        )
    print(
        "\nmax |hand-derived - autodiff| gradient difference per layer (same parameters, "
        "every iteration):"
    )
    for layer in (1, 2):
        cells = [f"d{kind}{layer} {result['max_grad_diff'][f'{kind}{layer}']:.1e}" for kind in "Wb"]
        print(f"  layer {layer}:  " + "   ".join(cells))
    agree = all(result["grads_agree"].values())
    print(
        f"\ntraining accuracy: {100 * result['accuracy_hand']:.2f}% (hand-derived), "
        f"{100 * result['accuracy_autodiff']:.2f}% (autodiff)"
    )
    print(f"time: {result['seconds']:.1f} s for both trainings")
    if not args.no_plots:
        try:
            paths = _plots(result, args.out)
        except ImportError as error:
            print(f"\nplots skipped: {error}")
        else:
            print("\nplots saved:")
            for path in paths:
                print(f"  {path}")
    criterion = f"|hand - autodiff| <= {_ATOL:g} + {_RTOL:g} |hand|"
    if agree:
        print(f"\nOK: every gradient element agrees ({criterion}) at every step.")
        return 0
    failed = ", ".join("d" + name for name, ok in result["grads_agree"].items() if not ok)
    print(f"\nFAIL: {failed} break {criterion}.")
    return 1


if __name__ == "__main__":
    sys.exit(main())

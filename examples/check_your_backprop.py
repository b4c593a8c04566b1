"""Check your own backprop: a learner's L_model_backward with a classic bug, caught by
``check_backprop``, which names the layer and the gradient where it parts from autodiff.

Run it from the repository root::

    python examples/check_your_backprop.py

It prints two reports (the buggy backward pass, then the fixed one) and writes them to
``out/check_your_backprop.txt``. To check your own assignment file instead::

    python -m tinygrad_dl check --impl my_assignment.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from tinygrad_dl.course import check_backprop
from tinygrad_dl.course.checker import random_network

OUT = Path("out")


# ---- a learner's week-4 assignment, written the course's way ------------------------------------
# The forward pass and the correct backward pass are examples/my_assignment.py; the learner's
# first attempt at the backward pass is below.
from my_assignment import L_model_backward as L_model_backward_fixed  # noqa: E402
from my_assignment import L_model_forward, sigmoid  # noqa: E402


def L_model_backward(AL, Y, caches):
    """The learner's backward pass. The bug: in the hidden layers, ``db`` forgot the ``1/m``
    (``db^[l] = (1/m) sum(dZ^[l])``); the output layer was copied from a worked example and is
    right. ``L_model_backward_fixed`` is the corrected version."""
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in reversed(range(1, L + 1)):
        (A_prev, W, b), Z = caches[l - 1]
        if l == L:
            s = sigmoid(Z)
            dZ = dA * s * (1 - s)
            db = np.sum(dZ, axis=1, keepdims=True) / m
        else:
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
            db = np.sum(dZ, axis=1, keepdims=True)  # missing / m
        grads["dW" + str(l)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l)] = db
        dA = np.dot(W.T, dZ)
        grads["dA" + str(l - 1)] = dA
    return grads


# ---- the check ---------------------------------------------------------------------------------
def main() -> int:
    # A random network [5 -> 4 -> 3 -> 1] on 6 examples, with active and idle ReLU units.
    parameters, X, Y = random_network([5, 4, 3, 1], m=6, seed=0)

    buggy = check_backprop(L_model_forward, L_model_backward, parameters, X, Y)
    fixed = check_backprop(L_model_forward, L_model_backward_fixed, parameters, X, Y)

    text = "\n\n".join(
        [
            "== The learner's L_model_backward (db without 1/m in the hidden layers)",
            buggy.format(),
            "== After the fix",
            fixed.format(),
        ]
    )
    print(text)
    OUT.mkdir(exist_ok=True)
    path = OUT / "check_your_backprop.txt"
    partial = path.with_suffix(".txt.partial")
    partial.write_text(text + "\n")
    partial.replace(path)  # never leave a half-written report
    print(f"\nwrote {path}")

    failure = buggy.first_failure
    caught = failure is not None and (failure.layer, failure.name) == (2, "db2")
    if not caught or not fixed.passed:
        print("unexpected: the checker did not single out db2 in layer 2", file=sys.stderr)
        return 1
    print(f"check_backprop caught the bug at layer {failure.layer}, {failure.name}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

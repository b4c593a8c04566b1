"""The cross-entropy cost every week of the course uses, with its edge cases decided once.

``J = -(1/m) sum_i [ y^(i) log a^(i) + (1 - y^(i)) log(1 - a^(i)) ]``

On NumPy arrays the cost is a Python float and a term ``0 * log 0`` counts as 0 (its limit), so
a prediction exactly equal to its hard label (``A == Y`` at 0 or 1, which float64 sigmoid reaches
for ``|z| > ~37``) costs exactly 0. A prediction exactly 0 or 1 on the wrong side makes the cost
infinite: that raises ``ValueError`` naming the examples, never returns NaN or inf.

On Tensors the same formula runs through NumPy dispatch and returns a 0-d Tensor that keeps its
graph. There, any ``A`` exactly 0 or 1 raises, because the gradient ``-Y/A + (1-Y)/(1-A)`` is
undefined at those points whatever the label.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._layout import check_labels, is_tensor, raw


def cross_entropy_cost(A: Any, Y: Any, function: str = "compute_cost") -> Any:
    """Cross-entropy cost ``J = -(1/m) sum(Y log A + (1 - Y) log(1 - A))``.

    Parameters
    ----------
    A : ndarray or Tensor of shape (1, m)
        Predicted probabilities ``A^[L]``, in ``[0, 1]``.
    Y : ndarray or Tensor of shape (1, m)
        Labels in ``[0, 1]`` (0/1, boolean or soft labels).
    function : str
        Name of the calling function, used in error messages.

    Returns
    -------
    float or Tensor
        A Python float for array inputs; a 0-d Tensor keeping the graph when ``A`` or ``Y``
        is a Tensor.

    Raises
    ------
    ValueError
        For a layout other than ``(1, m)``, labels outside ``[0, 1]``, ``A`` outside ``[0, 1]``
        or NaN, an infinite cost (``A`` exactly 0 or 1 against its label) on arrays, and any
        ``A`` exactly 0 or 1 on Tensors.
    """
    m = check_labels(function, Y, A)
    a = raw(A)
    bad = ~((a >= 0) & (a <= 1))  # also catches NaN
    if np.any(bad):
        columns = np.flatnonzero(bad)[:5].tolist()
        raise ValueError(
            f"{function}: A must be probabilities in [0, 1]; got {a[bad].ravel()[:5].tolist()} "
            f"in examples {columns} (is the last activation a sigmoid?)"
        )
    if is_tensor(A) or is_tensor(Y):
        saturated = (a == 0) | (a == 1)
        if np.any(saturated):
            raise ValueError(
                f"{function}: A is exactly 0 or 1 in examples "
                f"{np.flatnonzero(saturated)[:5].tolist()}; the gradient -Y/A + (1-Y)/(1-A) is "
                "undefined there (float64 sigmoid rounds to 0 or 1 for |z| > ~37)"
            )
        return -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    y = raw(Y).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        # 0 * log 0 := 0, its limit: a term whose weight is 0 contributes nothing.
        positive = np.where(y != 0, y * np.log(a), 0.0)
        negative = np.where(y != 1, (1 - y) * np.log(1 - a), 0.0)
    log_likelihood = positive + negative
    infinite = ~np.isfinite(log_likelihood)
    if np.any(infinite):
        columns = np.flatnonzero(infinite)[:5].tolist()
        raise ValueError(
            f"{function}: the cost is infinite: A is exactly 0 or 1 against its label in "
            f"examples {columns} (A={a.ravel()[columns].tolist()}, "
            f"Y={y.ravel()[columns].tolist()}); float64 sigmoid rounds to 0 or 1 for |z| > ~37"
        )
    return float(-np.sum(log_likelihood) / m)

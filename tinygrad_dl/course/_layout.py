"""The course's data layout, checked once at the entry of each public function.

The course keeps one example per column: ``X`` is ``(n_x, m)``, ``Y`` and ``A`` are ``(1, m)``,
``W^[l]`` is ``(n_l, n_{l-1})`` and ``b^[l]`` is ``(n_l, 1)``. A learner who passes ``Y`` as
``(m,)`` or ``X`` as ``(m, n_x)`` gets broadcasting instead of an error in plain NumPy (a
``(1, m) - (m, 1)`` subtraction is an ``(m, m)`` matrix), so these checks say which layout the
course uses before any arithmetic happens. They read only ``.shape`` and, for value checks,
the raw data, so the same functions accept NumPy arrays and tinygrad_dl Tensors.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

LAYOUT = "the course lays data out one example per column: X is (n_x, m), Y and A are (1, m)"


def is_tensor(value: Any) -> bool:
    """True for a tinygrad_dl Tensor (duck-typed, so the engine is never imported here)."""
    kind = type(value)
    return kind.__name__ == "Tensor" and kind.__module__.startswith("tinygrad_dl")


def raw(value: Any) -> np.ndarray:
    """The values behind ``value`` as an ndarray, for checks only (never for the forward path)."""
    if is_tensor(value):
        return value.data
    return np.asarray(value)


def as_input(value: Any) -> Any:
    """Lists and scalars become arrays; arrays and Tensors pass through untouched."""
    if is_tensor(value) or isinstance(value, np.ndarray):
        return value
    return np.asarray(value, dtype=np.float64)


def check_row(function: str, name: str, value: Any) -> int:
    """Check that ``value`` is a ``(1, m)`` row and return ``m``.

    Raises
    ------
    ValueError
        For a 1-D ``(m,)`` vector, an ``(m, 1)`` column or any other shape, with the fix.
    """
    shape = tuple(value.shape)
    if len(shape) == 2 and shape[0] == 1 and shape[1] >= 1:
        return shape[1]
    if len(shape) == 1:
        hint = f"use {name}.reshape(1, -1)"
    elif len(shape) == 2 and shape[1] == 1:
        hint = f"use {name}.T (or {name}.reshape(1, -1))"
    else:
        hint = f"{name} holds one value per example in a single row"
    raise ValueError(f"{function}: {name} has shape {shape}, expected (1, m); {LAYOUT}; {hint}")


def check_examples(function: str, X: Any, n_x: int | None, Y: Any = None) -> int:
    """Check ``X`` is ``(n_x, m)`` (and matches ``Y``'s ``m``); return ``m``.

    ``n_x`` is the number of input features the parameters expect (``None`` when unknown).

    Raises
    ------
    ValueError
        When ``X`` is not 2-D, looks transposed, or disagrees with ``Y`` or the parameters.
    """
    shape = tuple(X.shape)
    if len(shape) != 2:
        raise ValueError(f"{function}: X has shape {shape}, expected (n_x, m); {LAYOUT}")
    m = check_row(function, "Y", Y) if Y is not None else shape[1]
    if (n_x is None or shape[0] == n_x) and shape[1] == m:
        return m
    if Y is None:  # m is unknown: X fits the parameters only the other way round
        looks_transposed = n_x is not None and shape[1] == n_x
        expected = f"({n_x}, m)"
    else:
        looks_transposed = shape[0] == m and (n_x is None or shape[1] == n_x)
        expected = f"({'n_x' if n_x is None else n_x}, {m})"
    against = f" to match Y of shape {tuple(Y.shape)}" if Y is not None else ""
    raise ValueError(
        f"{function}: X has shape {shape}, expected {expected}{against}; {LAYOUT}"
        + ("; X looks transposed: use X.T" if looks_transposed else "")
    )


def check_labels(function: str, Y: Any, A: Any) -> int:
    """Check that labels and predictions are ``(1, m)`` rows of the same ``m``; return ``m``.

    Raises
    ------
    ValueError
        For a wrong layout or different ``m``. Labels outside ``[0, 1]`` give a warning.
    """
    m = check_row(function, "A", A)
    m_y = check_row(function, "Y", Y)
    if m_y != m:
        raise ValueError(
            f"{function}: A has shape {tuple(A.shape)} but Y has shape {tuple(Y.shape)}; "
            "both must be (1, m) with the same number of examples m"
        )
    labels = raw(Y)
    if labels.dtype != np.bool_ and not np.all((labels >= 0) & (labels <= 1)):
        # The course's own part-2 test trains on Y = randn(1, 10): unusual, not an error.
        warnings.warn(
            f"{function}: labels Y usually lie in [0, 1] (0/1 or soft labels); got values from "
            f"{labels.min()} to {labels.max()}, so the cross-entropy is no longer a "
            "log-likelihood and may be negative",
            stacklevel=3,
        )
    return m


def check_layer(function: str, l: int, W: Any, b: Any, A_prev: Any) -> None:
    """Check ``W^[l]`` is ``(n_l, n_{l-1})``, ``b^[l]`` is ``(n_l, 1)`` and ``A^[l-1]`` fits.

    Raises
    ------
    ValueError
        Naming the layer, the shapes and the course's layout.
    """
    w_shape, b_shape, a_shape = tuple(W.shape), tuple(np.shape(raw(b))), tuple(A_prev.shape)
    layer = f"layer {l}: " if l else ""
    if len(w_shape) != 2:
        raise ValueError(f"{function}: {layer}W has shape {w_shape}, expected (n_l, n_(l-1))")
    n_l, n_prev = w_shape
    if b_shape != (n_l, 1):
        raise ValueError(
            f"{function}: {layer}b has shape {b_shape}, expected ({n_l}, 1) for W of shape "
            f"{w_shape}; the course keeps b^[l] as a column (n_l, 1)"
        )
    if len(a_shape) != 2 or a_shape[0] != n_prev:
        transposed = len(a_shape) == 2 and a_shape[1] == n_prev
        name = "X" if l == 1 else "A_prev"
        raise ValueError(
            f"{function}: {layer}{name} has shape {a_shape} but W has shape {w_shape}: "
            f"expected ({n_prev}, m); {LAYOUT}"
            + (f"; {name} looks transposed: use {name}.T" if transposed else "")
        )


def random_state(seed: int | None) -> Any:
    """``np.random.RandomState(seed)``, or the global ``np.random`` when ``seed`` is None.

    A seeded RandomState draws exactly what ``np.random.seed(seed)`` followed by
    ``np.random.randn`` draws (the course's published numbers) without touching global state.
    """
    return np.random if seed is None else np.random.RandomState(seed)

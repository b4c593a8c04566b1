"""Compare a learner's value with the reference and say what is wrong in the learner's words.

:func:`diagnose` returns ``None`` when the value matches, else one sentence that names the
function, the quantity and (where there is one) the layer, and recognises the usual mistakes
from the numbers alone:

- a factor ``m`` or ``1/m`` ("dW is 5.00 x the right value (m = 5): is the 1/m missing?"),
- a sign flip, a transposed result, a sum over the wrong axis (from the shape),
- any named alternative the caller computed (the derivative of the wrong activation, an update
  with the wrong sign or a doubled step, a cost without its ``log(1 - A)`` term),

and otherwise falls back to the relative difference ``||a - b|| / (||a|| + ||b||)`` and the
first element that differs. Tolerances follow the dtype: float32 results are compared at float32
precision, so a float32 value is never failed for a difference of ``1.2e-07``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .load import Opaque

Candidates = Sequence[tuple[str, Any]]


def tolerance(*values: Any) -> float:
    """Relative tolerance for comparing ``values``: set by the least precise float dtype.

    float64 gets ``1e-6`` (room for a different but exact order of operations); float32 gets
    ``1000 eps ~ 1.2e-4``, so float32 rounding (``1.2e-07``) never fails a learner.
    """
    eps = float(np.finfo(np.float64).eps)
    for value in values:
        dtype = np.asarray(value).dtype if not isinstance(value, Opaque) else np.dtype(float)
        if dtype.kind == "f":
            eps = max(eps, float(np.finfo(dtype).eps))
    return min(1e-2, max(1e-6, 1000 * eps))


def close(got: np.ndarray, expected: np.ndarray, rtol: float) -> bool:
    """Every element equal within ``rtol`` of the largest expected magnitude (shapes equal)."""
    if got.shape != expected.shape:
        return False
    scale = float(np.max(np.abs(expected), initial=0.0))
    with np.errstate(invalid="ignore", over="ignore"):
        return bool(np.all(np.abs(got - expected) <= rtol * max(scale, 1e-8)))


def relative_difference(a: Any, b: Any) -> float:
    """``||a - b|| / (||a|| + ||b||)``, 0 when both are zero (the course's gradient-check ratio)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    denominator = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denominator == 0 else float(np.linalg.norm(a - b) / denominator)


def as_array(value: Any) -> np.ndarray | None:
    """``value`` as a float array, or ``None`` when it is not numbers (a string, a function)."""
    if isinstance(value, Opaque) or value is None or isinstance(value, (str, dict)):
        return None
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(np.float64) if array.dtype.kind != "f" else array


def _number(value: float) -> str:
    return f"{value:.3g}"


def _factor(got: np.ndarray, expected: np.ndarray, rtol: float) -> float | None:
    """``c`` when ``got = c * expected`` (to tolerance), else ``None``."""
    norm = float(np.sum(expected * expected))
    if norm == 0:
        return None
    c = float(np.sum(got * expected) / norm)
    return c if close(got, c * expected, rtol) else None


def _describe_factor(label: str, c: float, m: int | None) -> str:
    if abs(c + 1) < 1e-6:
        return f"{label} has the wrong sign (it is -1 x the right value)"
    if m and m > 1:
        if abs(c - m) < 1e-6 * m:
            return f"{label} is {m:.2f} x the right value (m = {m}): is the 1/m missing?"
        if abs(c * m - 1) < 1e-6:
            return f"{label} is 1/m x the right value (m = {m}): is it divided by m twice?"
        if abs(c + m) < 1e-6 * m:
            return f"{label} is -m x the right value (m = {m}): the sign and the 1/m are off"
    if abs(c - 2) < 1e-6:
        return f"{label} is twice the right value"
    if abs(c - 0.5) < 1e-6:
        return f"{label} is half the right value"
    return f"{label} is {_number(c)} x the right value"


def _shape_problem(
    label: str, quantity: str, got: np.ndarray, expected: np.ndarray, rtol: float
) -> str:
    got_shape, expected_shape = got.shape, expected.shape
    if got.ndim == 2 and got_shape == expected_shape[::-1]:
        if close(got.T, expected, rtol):
            return (
                f"{label} has shape {got_shape}, expected {expected_shape}: it is transposed "
                "(look for a missing or extra .T)"
            )
        return (
            f"{label} has shape {got_shape}, expected {expected_shape} "
            "(transposed, and its values differ)"
        )
    if expected.ndim == 2 and expected_shape[1] == 1 and got_shape == (expected_shape[0],):
        if close(got.reshape(expected_shape), expected, rtol):
            return (
                f"{label} has shape {got_shape}, expected {expected_shape}: keep the column shape "
                "(keepdims=True, or .reshape(-1, 1))"
            )
    if quantity.startswith("db") or quantity == "b":
        return (
            f"{label} has shape {got_shape}, expected {expected_shape}: is the sum over the wrong "
            "axis? Sum over the examples: np.sum(dZ, axis=1, keepdims=True)"
        )
    if (
        expected.ndim == 2
        and got.ndim == 2
        and got_shape[0] == expected_shape[0]
        and expected_shape[1] == 1
    ):
        return (
            f"{label} has shape {got_shape}, expected {expected_shape}: did it broadcast over the "
            "examples instead of summing or averaging them?"
        )
    return f"{label} has shape {got_shape}, expected {expected_shape}"


def diagnose(
    function: str,
    quantity: str,
    got: Any,
    expected: Any,
    *,
    m: int | None = None,
    layer: int | None = None,
    candidates: Candidates = (),
) -> str | None:
    """``None`` when ``got`` matches ``expected``; otherwise what is wrong, in one sentence.

    Parameters
    ----------
    function : str
        The learner's function (named in the message).
    quantity : str
        What is compared (``"dW2"``, ``"cost"``, ``"A"``).
    got, expected : array-like
        The learner's value and the reference.
    m : int, optional
        The number of examples, to recognise a factor ``m`` or ``1/m``.
    layer : int, optional
        The layer, named in the message.
    candidates : sequence of (str, array-like)
        Known wrong answers and what each one means; a match gives that explanation.

    Returns
    -------
    str or None
    """
    label = f"{function}: {quantity}" + (f" (layer {layer})" if layer else "")
    expected_array = np.asarray(expected, dtype=np.float64)
    if got is None:
        return f"{label} is missing (None), expected an array of shape {expected_array.shape}"
    array = as_array(got)
    if array is None:
        kind = got.name if isinstance(got, Opaque) else type(got).__name__
        return f"{label} is a {kind}, expected numbers of shape {expected_array.shape}"
    rtol = tolerance(array)
    if array.shape != expected_array.shape:
        if array.size == 1 and expected_array.size == 1:
            array = array.reshape(expected_array.shape)
        else:
            return _shape_problem(label, quantity, array, expected_array, rtol)
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        return f"{label} contains NaN or inf"
    if close(array, expected_array, rtol):
        return None
    for text, candidate in candidates:
        candidate = np.asarray(candidate, dtype=np.float64)
        if candidate.shape == array.shape and close(array, candidate, rtol):
            if not close(candidate, expected_array, rtol):
                return f"{label}: {text}"
    if not np.any(array) and np.any(expected_array):
        return f"{label} is all zeros"
    c = _factor(array, expected_array, rtol)
    if c is not None:
        return _describe_factor(label, c, m)
    if (
        array.ndim == 2
        and array.shape[0] == array.shape[1]
        and close(array, expected_array.T, rtol)
    ):
        return f"{label} is transposed (look for a missing or extra .T)"
    flat = np.abs(array - expected_array).reshape(-1)
    first = int(
        np.argmax(flat > rtol * max(float(np.max(np.abs(expected_array), initial=0)), 1e-8))
    )
    index = tuple(int(i) for i in np.unravel_index(first, array.shape))
    where = f" at {list(index)}" if index else ""
    return (
        f"{label} differs from the right value: relative difference "
        f"{relative_difference(array, expected_array):.2e}; first difference{where}: yours "
        f"{array.reshape(-1)[first]:.8g}, expected {expected_array.reshape(-1)[first]:.8g}"
    )


def diagnose_all(
    function: str,
    got: Any,
    expected: dict[str, Any],
    keys: Iterable[str],
    *,
    m: int | None = None,
    layers: dict[str, int] | None = None,
    candidates: dict[str, Candidates] | None = None,
    what: str = "the returned dict",
) -> str | None:
    """:func:`diagnose` over ``keys`` of a dict, in order; the first problem, or ``None``."""
    if not isinstance(got, dict):
        kind = got.name if isinstance(got, Opaque) else type(got).__name__
        return f"{function}: expected {what} to be a dict, got a {kind}"
    for key in keys:
        if key not in got:
            present = ", ".join(sorted(str(k) for k in got)) or "nothing"
            return f"{function}: {key} is missing from {what} (it holds {present})"
        problem = diagnose(
            function,
            key,
            got[key],
            expected[key],
            m=m,
            layer=(layers or {}).get(key),
            candidates=(candidates or {}).get(key, ()),
        )
        if problem:
            return problem
    return None

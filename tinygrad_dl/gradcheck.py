"""Numerical gradients and ``gradcheck``: autodiff against central differences in float64.

The central difference ``(f(x + eps) - f(x - eps)) / (2 eps)`` has error ``O(eps^2)``; it is
the course's "gradient checking". ``gradcheck`` builds the whole Jacobian both ways (one
backward per output element, two forwards per input element) and compares every entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .autograd import enable_grad, grad
from .tensor import Tensor

__all__ = [
    "GradcheckError",
    "central_differences",
    "gradcheck",
    "gradgradcheck",
    "numerical_jacobian",
]


class GradcheckError(RuntimeError):
    """Autodiff and central differences disagree; the message names input, element and values."""


def _outputs(result: Any) -> list[Tensor]:
    if isinstance(result, Tensor):
        return [result]
    if isinstance(result, (tuple, list)) and all(isinstance(r, Tensor) for r in result):
        return list(result)
    raise TypeError(
        f"gradcheck: the function must return a Tensor or a tuple of Tensors, got "
        f"{type(result).__name__}"
    )


def _float64_inputs(inputs: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """Float64 copies of the float Tensor inputs, and the positions of those to check."""
    work, checked = [], []
    for position, value in enumerate(inputs):
        if isinstance(value, Tensor) and value.data.dtype.kind == "f":
            copy = Tensor(
                np.array(value.data, dtype=np.float64, order="C"), requires_grad=value.requires_grad
            )
            if value.requires_grad:
                checked.append(position)
            work.append(copy)
        else:
            work.append(value)
    if not checked:
        raise ValueError("gradcheck: no input Tensor requires grad; nothing to check")
    return work, checked


def _flat_values(fn: Callable, work: list[Any]) -> np.ndarray:
    with enable_grad():  # fn may itself differentiate (gradgradcheck)
        outputs = _outputs(fn(*work))
    return np.concatenate([np.asarray(o.data, dtype=np.float64).ravel() for o in outputs])


def central_differences(
    f: Callable[[], Any], array: np.ndarray, eps: float = 1e-6, indices: Any = None
) -> np.ndarray:
    """``(f(x + eps e_k) - f(x - eps e_k)) / (2 eps)`` for each entry ``k`` of ``array``.

    The one central-difference routine of the project (``gradcheck`` and the course checker
    both use it). ``array`` is perturbed in place, one entry at a time, and restored; ``f()``
    reads it and returns a float or an array (flattened to float64).

    Parameters
    ----------
    f : callable
        No arguments; the value at the current contents of ``array``.
    array : ndarray
        The variable, contiguous so that a flat view perturbs it.
    eps : float
        Step; the error is ``O(eps^2)`` plus rounding ``O(ulp / eps)``.
    indices : sequence of int, optional
        Flat indices to probe (default: every entry).

    Returns
    -------
    ndarray of shape (len(indices), f().size)
        Row ``k`` is the derivative of ``f`` with respect to the ``k``-th probed entry.

    Raises
    ------
    ValueError
        If ``array`` is not contiguous (a flat view could not perturb it).
    """
    flat = array.reshape(-1)
    if not np.shares_memory(flat, array):
        raise ValueError("central_differences: array must be contiguous so it can be perturbed")
    rows = []
    for index in range(flat.size) if indices is None else indices:
        original = flat[index]
        flat[index] = original + eps
        plus = np.asarray(f(), dtype=np.float64).ravel()
        flat[index] = original - eps
        minus = np.asarray(f(), dtype=np.float64).ravel()
        flat[index] = original
        rows.append((plus - minus) / (2 * eps))
    if not rows:
        return np.zeros((0, np.asarray(f()).size))
    return np.stack(rows)


def numerical_jacobian(fn: Callable, work: list[Any], position: int, eps: float) -> np.ndarray:
    """``J[j, k] = d out_j / d input_k`` by central differences, for the input at ``position``."""
    return central_differences(lambda: _flat_values(fn, work), work[position].data, eps).T


def _analytic_jacobians(fn: Callable, work: list[Any], checked: list[int]) -> list[np.ndarray]:
    with enable_grad():
        outputs = _outputs(fn(*work))
    sizes = [o.data.size for o in outputs]
    total = sum(sizes)
    leaves = [work[p] for p in checked]
    jacobians = [np.zeros((total, leaf.data.size)) for leaf in leaves]
    row = 0
    for output, size in zip(outputs, sizes):
        for j in range(size):
            if not output.requires_grad:
                row += 1
                continue
            seed = np.zeros(output.data.size, dtype=output.data.dtype)
            seed[j] = 1
            grads = grad(
                output,
                leaves,
                grad_outputs=seed.reshape(output.shape),
                retain_graph=True,
                allow_unused=True,
            )
            for jacobian, g in zip(jacobians, grads):
                if g is not None:
                    jacobian[row] = np.asarray(g.data, dtype=np.float64).ravel()
            row += 1
    return jacobians


def gradcheck(
    fn: Callable,
    inputs: Sequence[Any],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> bool:
    """Compare autodiff with central differences for every input that requires grad.

    Parameters
    ----------
    fn : callable
        Takes ``*inputs`` and returns a Tensor or a tuple of Tensors.
    inputs : sequence
        Tensors (those with ``requires_grad`` are checked, in float64 copies) and other
        arguments passed through unchanged.
    eps, atol, rtol : float
        Step of the central difference; an entry passes when
        ``|analytic - numerical| <= atol + rtol * |numerical|``.
    raise_exception : bool
        Raise on the first mismatch (default) or return False.

    Returns
    -------
    bool
        True when every Jacobian entry agrees.

    Raises
    ------
    GradcheckError
        Naming the input, the element, the output element, the analytic and numerical values.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    work, checked = _float64_inputs(inputs)
    analytic = _analytic_jacobians(fn, work, checked)
    for position, jacobian in zip(checked, analytic):
        numerical = numerical_jacobian(fn, work, position, eps)
        bad = np.abs(jacobian - numerical) > atol + rtol * np.abs(numerical)
        if np.any(bad):
            if not raise_exception:
                return False
            out_index, in_index = (int(i) for i in np.argwhere(bad)[0])
            element = np.unravel_index(in_index, work[position].shape)
            raise GradcheckError(
                f"gradcheck: input {position} (shape {work[position].shape}), element "
                f"{tuple(int(e) for e in element)}, output element {out_index}: analytic "
                f"{jacobian[out_index, in_index]!r} vs numerical "
                f"{numerical[out_index, in_index]!r} (atol={atol}, rtol={rtol})"
            )
    return True


def gradgradcheck(
    fn: Callable,
    inputs: Sequence[Any],
    grad_outputs: Sequence[Any] | None = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: ``gradcheck`` of the vector-Jacobian product of ``fn``.

    The vjp ``v^T J(x)`` is computed with ``create_graph=True`` for fixed vectors ``v``
    (``grad_outputs``, random by default) and then differentiated again.
    """
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    positions = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    rng = np.random.default_rng(seed)

    def first_order(*values: Any) -> Tensor:
        from .ops import concatenate, reshape

        outputs = _outputs(fn(*values))
        vectors = grad_outputs
        if vectors is None:
            vectors = [rng_vectors[i] for i in range(len(outputs))]
        leaves = [values[p] for p in positions]
        grads = grad(
            outputs, leaves, grad_outputs=list(vectors), create_graph=True, allow_unused=True
        )
        pieces = [
            reshape(g, -1) if g is not None else Tensor(np.zeros(leaf.data.size))
            for g, leaf in zip(grads, leaves)
        ]
        return concatenate(pieces)

    with enable_grad():
        probe = _outputs(fn(*inputs))
    rng_vectors = [rng.standard_normal(o.shape) for o in probe]
    return gradcheck(first_order, inputs, eps=eps, atol=atol, rtol=rtol)

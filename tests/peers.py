"""Run one function on tinygrad_dl and on a peer (PyTorch, HIPS autograd) and compare values and
gradients: the "same lambda, two frameworks" helper of the elementwise and reduction tests.

Each runner takes a function of one array per input and float64 arrays, and returns the output's
values and the vector-Jacobian product of every input with the fixed weights of
:func:`tinygrad_dl.testing.weighted_sum` (a zero array where an input gets no gradient).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tinygrad_dl as tg
from tinygrad_dl.testing import weighted_sum

try:
    import torch
except ImportError:  # pragma: no cover - CI installs it
    torch = None
try:
    import autograd
    import autograd.numpy as anp
except ImportError:  # pragma: no cover - CI installs it
    autograd = anp = None

needs_torch = pytest.mark.skipif(
    torch is None, reason="torch is the optional differential peer: pip install torch"
)
needs_autograd = pytest.mark.skipif(
    autograd is None, reason="HIPS autograd is the optional peer: pip install autograd"
)


def _grads(arrays: tuple, grads: list) -> list[np.ndarray]:
    return [np.zeros_like(a) if g is None else np.asarray(g) for a, g in zip(arrays, grads)]


def run_ours(function: Callable, *arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Values and weighted vjps of ``function`` on float64 Tensors."""
    leaves = [tg.Tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = function(*leaves)
    weighted_sum(out).backward()
    return out.data, _grads(arrays, [t.grad.data if t.grad is not None else None for t in leaves])


def run_torch(function: Callable, *arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Values and weighted vjps of ``function`` on float64 torch tensors."""
    leaves = [torch.tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = function(*leaves)
    weighted_sum(out).backward()
    return out.detach().numpy(), _grads(arrays, [t.grad for t in leaves])


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    """weighted_sum's weights for ``shape``: the gradient of weighted_sum with respect to its
    input (so all three frameworks contract with the same vector)."""
    probe = tg.Tensor(np.zeros(shape), requires_grad=True)
    weighted_sum(probe).backward()
    return probe.grad.data


def run_autograd(function: Callable, *arrays: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Values and weighted vjps of ``function`` on float64 arrays under HIPS autograd."""
    arrays = tuple(np.array(a, dtype=np.float64) for a in arrays)
    grads = []
    value = None
    for position in range(len(arrays)):

        def of_one(x, position=position):
            return function(*arrays[:position], x, *arrays[position + 1 :])

        vjp, value = autograd.make_vjp(of_one)(arrays[position])
        grads.append(vjp(_weights(np.shape(value))))
    return np.asarray(value), _grads(arrays, grads)


def assert_same(mine: Any, theirs: Any, rtol: float = 1e-10, atol: float = 1e-12, **context):
    """Values and gradients equal (NaN matching NaN, inf matching inf), naming the inputs."""
    message = ", ".join(f"{k}={v!r}" for k, v in context.items())
    np.testing.assert_allclose(mine[0], theirs[0], rtol=rtol, atol=atol, err_msg="value " + message)
    for index, (a, b) in enumerate(zip(mine[1], theirs[1])):
        np.testing.assert_allclose(
            a, b, rtol=rtol, atol=atol, err_msg=f"gradient of input {index} {message}"
        )

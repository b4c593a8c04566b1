"""JAX on the CPU: ``jax.grad`` run eagerly (``EAGER``) and the whole step under ``jax.jit``
(``JIT``).

float64 needs ``jax_enable_x64``, switched on at import (float32 arrays stay float32). Threads:
the driver sets ``XLA_FLAGS``, and the backend starts with its CPU affinity narrowed to the
benchmark's thread count (see :func:`_start_backend`).
Losses: ``mean(softplus(Z) - Y Z)`` and ``jax.nn.log_softmax``. Timed steps wait for the result
(``block_until_ready``), as JAX dispatches asynchronously.
"""

from __future__ import annotations

import os

import jax

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_platforms", "cpu")

import jax.numpy as jnp  # noqa: E402 - after the x64 switch, which must come first
import numpy as np  # noqa: E402

from benchmarks.workloads import Workload, chain_forward  # noqa: E402


def _start_backend(threads: int) -> None:
    """Start JAX's CPU backend with a compute pool of ``threads`` threads.

    XLA sizes that pool from the CPU affinity mask when the backend starts, and ``XLA_FLAGS``
    does not change it (measured: a float64 matmul used two cores with the flags set). So the
    mask is narrowed to ``threads`` CPUs while the backend starts, then restored: the pool's
    threads keep the narrow mask; the rest of the process is not pinned.
    """
    if threads <= 0 or not hasattr(os, "sched_setaffinity"):
        jax.devices()
        return
    mask = os.sched_getaffinity(0)
    os.sched_setaffinity(0, set(sorted(mask)[-threads:]))
    try:
        jax.devices()
    finally:
        os.sched_setaffinity(0, mask)


_start_backend(int(os.environ.get("TINYGRAD_DL_BENCH_THREADS", "0")))

REQUIRES = ("jax", "jaxlib")

LONG_CHAIN = 20_000  # tracing (and compiling) longer chains takes minutes: reported as skipped


def _cost(kind, hidden, X, Y, labels):
    if kind == "logistic":

        def cost(params):
            w, b = params
            Z = w.T @ X + b
            return jnp.mean(jax.nn.softplus(Z) - Y * Z)

        return cost

    def cost(params):
        A = X
        L = len(params) // 2
        for l in range(L - 1):
            Z = params[2 * l] @ A + params[2 * l + 1]
            A = jax.nn.relu(Z) if hidden == "relu" else jnp.tanh(Z)
        Z = params[-2] @ A + params[-1]
        if kind == "softmax_mlp":
            return -jnp.sum(Y * jax.nn.log_softmax(Z, axis=0)) / Z.shape[1]
        return jnp.mean(jax.nn.softplus(Z) - Y * Z)

    return cost


def _chain_cost(n_ops, c):
    def cost(params):
        (y,) = params
        return jnp.sum(chain_forward(y, c, n_ops))

    return cost


class _Variant:
    """One way of running JAX: eager ``grad`` or ``jit`` of the step."""

    REQUIRES = REQUIRES

    def __init__(self, jit: bool) -> None:
        self.jit = jit

    def skip_reason(self, workload: Workload) -> str | None:
        if workload.kind == "chain" and workload.n_ops > LONG_CHAIN:
            what = "tracing and compiling" if self.jit else "re-tracing on every call"
            return f"{what} a {workload.n_ops:,}-op chain takes minutes"
        return None

    def details(self, workload: Workload) -> str:
        return "jit of the whole step (grad and update)" if self.jit else ""

    def build(self, workload: Workload):
        return _Runner(workload, self.jit)


EAGER = _Variant(jit=False)
JIT = _Variant(jit=True)


class _Runner:
    def __init__(self, workload: Workload, jit: bool) -> None:
        self.names = list(workload.params)
        self.params = [jnp.asarray(a.copy()) for a in workload.params.values()]
        self.chain = workload.kind == "chain"
        if self.chain:
            cost = _chain_cost(workload.n_ops, jnp.asarray(workload.const))
        else:
            X, Y = jnp.asarray(workload.X), jnp.asarray(workload.Y)
            cost = _cost(workload.kind, workload.hidden, X, Y, workload.labels)
        gradient = jax.grad(cost)
        learning_rate = workload.learning_rate

        def step(params):
            grads = gradient(params)
            if self.chain:
                return params, grads
            return [p - learning_rate * g for p, g in zip(params, grads)], grads

        self.gradient = jax.jit(gradient) if jit else gradient
        self._step = jax.jit(step) if jit else step

    def gradients(self) -> dict[str, np.ndarray]:
        grads = self.gradient(self.params)
        return {f"d{n}": np.asarray(g) for n, g in zip(self.names, grads)}

    def step(self) -> None:
        self.params, grads = self._step(self.params)
        jax.block_until_ready(grads)

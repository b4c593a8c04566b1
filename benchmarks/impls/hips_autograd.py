"""HIPS autograd: the cost written with ``autograd.numpy``, ``grad`` of it, a functional update.

Its binary cross-entropy on logits is ``mean(logaddexp(0, Z) - Y Z)`` (autograd has no fused
loss); softmax cross-entropy uses ``logsumexp`` from ``autograd.scipy.special``.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad
from autograd.scipy.special import logsumexp

from benchmarks.workloads import Workload, chain_forward

REQUIRES = ("autograd",)


def skip_reason(workload: Workload) -> str | None:
    """autograd runs every workload."""
    return None


def details(workload: Workload) -> str:
    """Nothing to add."""
    return ""


def build(workload: Workload):
    """A runner for ``workload`` (see :mod:`benchmarks.impls`)."""
    return _Runner(workload)


def _bce_with_logits(Z, Y):
    return anp.mean(anp.logaddexp(0.0, Z) - Y * Z)


def _cost(kind, hidden, X, Y):
    """The cost of ``params`` (a list) for a workload kind, as a function autograd can trace."""
    if kind == "logistic":

        def cost(params):
            w, b = params
            return _bce_with_logits(anp.dot(w.T, X) + b, Y)

        return cost

    def cost(params):
        A = X
        L = len(params) // 2
        for l in range(L - 1):
            Z = anp.dot(params[2 * l], A) + params[2 * l + 1]
            A = anp.maximum(Z, 0.0) if hidden == "relu" else anp.tanh(Z)
        Z = anp.dot(params[-2], A) + params[-1]
        if kind == "softmax_mlp":
            log_softmax = Z - logsumexp(Z, axis=0, keepdims=True)
            return -anp.sum(Y * log_softmax) / Z.shape[1]
        return _bce_with_logits(Z, Y)

    return cost


def _chain_cost(n_ops, c):
    def cost(params):
        (y,) = params
        return anp.sum(chain_forward(y, c, n_ops))

    return cost


class _Runner:
    def __init__(self, workload: Workload) -> None:
        self.names = list(workload.params)
        self.params = [a.copy() for a in workload.params.values()]
        self.learning_rate = workload.learning_rate
        self.chain = workload.kind == "chain"
        if self.chain:
            cost = _chain_cost(workload.n_ops, workload.const)
        else:
            cost = _cost(workload.kind, workload.hidden, workload.X, workload.Y)
        self.grad = grad(cost)

    def gradients(self) -> dict[str, np.ndarray]:
        grads = self.grad(self.params)
        return {f"d{n}": np.asarray(g) for n, g in zip(self.names, grads)}

    def step(self) -> None:
        grads = self.grad(self.params)
        if not self.chain:
            lr = self.learning_rate
            self.params = [p - lr * g for p, g in zip(self.params, grads)]

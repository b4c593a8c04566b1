"""PyTorch eager on the CPU, written as a PyTorch user writes a training step.

Losses are PyTorch's fused ones (``F.binary_cross_entropy_with_logits``, ``F.cross_entropy``);
the update is ``torch.optim.SGD``'s ``p.add_(p.grad, alpha=-lr)`` under ``no_grad``. PyTorch is
pinned to the benchmark's thread count (``torch.set_num_threads``) at import.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F

from benchmarks.workloads import Workload, chain_forward

REQUIRES = ("torch",)

_threads = int(os.environ.get("TINYGRAD_DL_BENCH_THREADS", "0"))
if _threads > 0:
    torch.set_num_threads(_threads)
    try:
        torch.set_num_interop_threads(_threads)
    except RuntimeError:  # only allowed before any parallel work; harmless if too late
        pass


def skip_reason(workload: Workload) -> str | None:
    """PyTorch runs every workload."""
    return None


def details(workload: Workload) -> str:
    """Nothing to add: PyTorch's own fused losses."""
    return ""


def build(workload: Workload):
    """A runner for ``workload`` (see :mod:`benchmarks.impls`)."""
    if workload.kind == "chain":
        return _Chain(workload)
    return _Model(workload)


class _Model:
    def __init__(self, workload: Workload) -> None:
        self.names = list(workload.params)
        self.params = [
            torch.tensor(a.copy()).requires_grad_(True) for a in workload.params.values()
        ]
        self.X, self.Y = torch.from_numpy(workload.X), torch.from_numpy(workload.Y)
        self.labels = None if workload.labels is None else torch.from_numpy(workload.labels)
        self.learning_rate = workload.learning_rate
        self.kind, self.hidden = workload.kind, workload.hidden

    def cost(self) -> torch.Tensor:
        params = self.params
        if self.kind == "logistic":
            w, b = params
            return F.binary_cross_entropy_with_logits(w.T @ self.X + b, self.Y)
        A = self.X
        L = len(params) // 2
        for l in range(L - 1):
            Z = params[2 * l] @ A + params[2 * l + 1]
            A = torch.relu(Z) if self.hidden == "relu" else torch.tanh(Z)
        Z = params[-2] @ A + params[-1]
        if self.kind == "softmax_mlp":
            return F.cross_entropy(Z.T, self.labels)
        return F.binary_cross_entropy_with_logits(Z, self.Y)

    def gradients(self) -> dict[str, np.ndarray]:
        self.cost().backward()
        grads = {f"d{n}": p.grad.numpy().copy() for n, p in zip(self.names, self.params)}
        for p in self.params:
            p.grad = None
        return grads

    def step(self) -> None:
        self.cost().backward()
        with torch.no_grad():
            for p in self.params:
                p.add_(p.grad, alpha=-self.learning_rate)
                p.grad = None


class _Chain:
    def __init__(self, workload: Workload) -> None:
        self.x = torch.tensor(workload.params["x"].copy()).requires_grad_(True)
        self.c = torch.from_numpy(workload.const)
        self.n_ops = workload.n_ops

    def _backward(self) -> None:
        y, c = self.x, self.c
        chain_forward(y, c, self.n_ops).sum().backward()

    def gradients(self) -> dict[str, np.ndarray]:
        self._backward()
        grads = {"dx": self.x.grad.numpy().copy()}
        self.x.grad = None
        return grads

    def step(self) -> None:
        self._backward()
        self.x.grad = None

"""This engine: the workloads written with ``tinygrad_dl.Tensor`` as a user writes them.

Parameters are leaf Tensors with ``requires_grad=True``; data and labels are Tensors without
(so, as the engine promises, nothing is spent on ``dX``). A step is ``cost.backward()``, then
the update on ``.data`` as the project's optimisers do it, and ``.grad`` cleared.

The binary cross-entropy is ``nn.functional.binary_cross_entropy_with_logits`` where the package
has it (the fused loss whose backward is the course's ``(A - Y)/m``), else the stable
``mean(softplus(Z) - Y Z)`` from core ops; W5's loss is ``nn.functional.cross_entropy`` where it
exists, else ``-(1/m) sum(Y log_softmax(Z))``. ``details`` says which a run used.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import tinygrad_dl as tg
from benchmarks.workloads import Workload, chain_forward

REQUIRES = ("tinygrad_dl",)
Tensor = tg.Tensor  # fails here, at import, when the engine has not been built


def _functional() -> object | None:
    try:
        from tinygrad_dl.nn import functional  # noqa: PLC0415 - optional, another issue's
    except Exception:
        return None
    return functional


def bce_with_logits() -> tuple[Callable, str]:
    """The binary cross-entropy on logits the engine offers, and its name."""
    functional = _functional()
    fused = getattr(functional, "binary_cross_entropy_with_logits", None)
    if fused is not None:
        return fused, "nn.functional.binary_cross_entropy_with_logits"
    return (lambda Z, Y: (Z.softplus() - Y * Z).mean()), "mean(softplus(Z) - Y*Z)"


def softmax_cross_entropy() -> tuple[Callable, str]:
    """Softmax cross-entropy of ``(classes, m)`` logits, and its name."""
    functional = _functional()
    fused = getattr(functional, "cross_entropy", None)
    if fused is not None:
        return (lambda Z, Y, labels: fused(Z.T, labels)), "nn.functional.cross_entropy(Z.T, labels)"

    def core(Z, Y, labels):
        return -(Y * Z.log_softmax(axis=0)).sum() * (1.0 / Z.shape[1])

    return core, "-(1/m) sum(Y * log_softmax(Z))"


def skip_reason(workload: Workload) -> str | None:
    """The engine runs every workload."""
    return None


def details(workload: Workload) -> str:
    """The loss the engine's runner uses for ``workload``."""
    if workload.kind in ("binary_mlp", "logistic"):
        return bce_with_logits()[1]
    if workload.kind == "softmax_mlp":
        return softmax_cross_entropy()[1]
    return ""


def build(workload: Workload):
    """A runner for ``workload`` (see :mod:`benchmarks.impls`)."""
    if workload.kind == "chain":
        return _Chain(workload)
    return _Model(workload)


class _Model:
    """W1, W2, W3, W5: forward to the cost, ``backward()``, ``p.data -= alpha p.grad``."""

    def __init__(self, workload: Workload) -> None:
        self.names = list(workload.params)
        self.params = [Tensor(a.copy(), requires_grad=True) for a in workload.params.values()]
        self.X, self.Y = Tensor(workload.X), Tensor(workload.Y)
        self.labels = None if workload.labels is None else Tensor(workload.labels)
        self.learning_rate = workload.learning_rate
        self.kind, self.hidden = workload.kind, workload.hidden
        if self.kind == "softmax_mlp":
            self.loss = softmax_cross_entropy()[0]
        else:
            self.loss = bce_with_logits()[0]

    def cost(self) -> Tensor:
        params = self.params
        if self.kind == "logistic":
            w, b = params
            return self.loss(w.T @ self.X + b, self.Y)
        A = self.X
        L = len(params) // 2
        for l in range(L - 1):
            Z = params[2 * l] @ A + params[2 * l + 1]
            A = Z.relu() if self.hidden == "relu" else Z.tanh()
        Z = params[-2] @ A + params[-1]
        if self.kind == "softmax_mlp":
            return self.loss(Z, self.Y, self.labels)
        return self.loss(Z, self.Y)

    def gradients(self) -> dict[str, np.ndarray]:
        self.cost().backward()
        grads = {f"d{n}": p.grad.numpy().copy() for n, p in zip(self.names, self.params)}
        for p in self.params:
            p.grad = None
        return grads

    def step(self) -> None:
        self.cost().backward()
        learning_rate = self.learning_rate
        for p in self.params:
            p.data -= learning_rate * p.grad.data
            p.grad = None


class _Chain:
    """W4: ``y*2, y + c, y*0.5, y - 0.5`` repeated, ``sum(y).backward()``."""

    def __init__(self, workload: Workload) -> None:
        self.x = Tensor(workload.params["x"].copy(), requires_grad=True)
        self.c = Tensor(workload.const)
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

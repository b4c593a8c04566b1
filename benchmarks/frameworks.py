"""Every implementation under test, each built as a runner with ``gradients()`` and ``step()``.

The references are :mod:`benchmarks.baselines`. The autodiff frameworks share one runner: the
model's cost is written once (:func:`cost`) with ``@``, ``.T`` and the framework's own
activations and fused losses. Tape frameworks (tinygrad_dl, PyTorch) step as their users write
it, ``optimizer.zero_grad(); loss = cost(...); loss.backward(); optimizer.step()`` with their own
``optim.SGD``; functional ones (HIPS autograd, JAX) take ``grad(cost)`` and rebind the
parameters. ``tinygrad_dl compiled`` wraps the same step in ``tg.compile``, ``JAX jit`` jits it.
Frameworks are imported in the measuring process, after its threads are pinned.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import baselines
from benchmarks.workloads import Workload, chain_forward

THREADS = int(os.environ.get("TINYGRAD_DL_BENCH_THREADS", "0"))
JAX_LONG_CHAIN = 20_000  # tracing a longer chain takes minutes: reported as skipped


@dataclass
class Framework:
    """How one framework makes arrays, activations, losses, gradients and updates."""

    tensor: Callable  # (ndarray, requires_grad, device) -> the framework's array
    relu: Callable
    tanh: Callable
    bce: Callable  # (Z, Y) -> mean binary cross-entropy on the logits Z
    softmax_ce: Callable  # (Z, Y, labels) -> mean softmax cross-entropy, Z is (classes, m)
    to_numpy: Callable
    sgd: Callable | None = None  # a tape: (params, lr) -> its optim.SGD
    grad: Callable | None = None  # functional: cost -> (params, X, Y -> grads)
    jit: Callable | None = None  # a step -> its compiled form
    done: Callable = lambda params: None  # wait for asynchronous work (JAX)


def _engine(compiled: bool) -> Framework:
    import tinygrad_dl as tg
    from tinygrad_dl.nn import functional as F

    return Framework(
        tensor=lambda a, requires_grad, device: tg.Tensor(a, requires_grad, device=device),
        relu=tg.Tensor.relu, tanh=tg.Tensor.tanh, bce=F.binary_cross_entropy_with_logits,
        softmax_ce=lambda Z, Y, labels: F.cross_entropy(Z.T, labels),
        to_numpy=tg.Tensor.numpy, sgd=tg.optim.SGD, jit=tg.compile if compiled else None,
    )  # fmt: skip


def _torch() -> Framework:
    import torch
    import torch.nn.functional as F

    if THREADS > 0:
        torch.set_num_threads(THREADS)

    def tensor(a, requires_grad, device):  # beside array_api_strict (a dry run) on the CPU
        device = "cpu" if device == "array_api_strict" else device
        return torch.tensor(a, device=device).requires_grad_(requires_grad)

    return Framework(
        tensor=tensor, relu=torch.relu, tanh=torch.tanh, bce=F.binary_cross_entropy_with_logits,
        softmax_ce=lambda Z, Y, labels: F.cross_entropy(Z.T, labels),
        to_numpy=lambda t: t.detach().cpu().numpy(), sgd=torch.optim.SGD,
    )  # fmt: skip


def _hips() -> Framework:
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    return Framework(
        tensor=lambda a, requires_grad, device: a, relu=lambda Z: anp.maximum(Z, 0.0),
        tanh=anp.tanh, bce=lambda Z, Y: anp.mean(anp.logaddexp(0.0, Z) - Y * Z),
        softmax_ce=lambda Z, Y, labels: (
            -anp.sum(Y * (Z - logsumexp(Z, axis=0, keepdims=True))) / Z.shape[1]),
        to_numpy=lambda a: a, grad=autograd.grad,
    )  # fmt: skip


def _jax(jit: bool) -> Framework:
    import jax

    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_platforms", "cpu")
    import jax.numpy as jnp

    if THREADS > 0 and hasattr(os, "sched_setaffinity"):
        # XLA sizes its pool from the CPU affinity when the backend starts (XLA_FLAGS alone
        # left a jitted matmul on both cores): narrow it while the backend starts.
        mask = os.sched_getaffinity(0)
        os.sched_setaffinity(0, set(sorted(mask)[-THREADS:]))
        try:
            jax.devices()
        finally:
            os.sched_setaffinity(0, mask)
    return Framework(
        tensor=lambda a, requires_grad, device: jnp.asarray(a), relu=jax.nn.relu, tanh=jnp.tanh,
        bce=lambda Z, Y: jnp.mean(jax.nn.softplus(Z) - Y * Z),
        softmax_ce=lambda Z, Y, labels: -jnp.sum(Y * jax.nn.log_softmax(Z, axis=0)) / Z.shape[1],
        to_numpy=lambda a: a, grad=jax.grad, jit=jax.jit if jit else None,
        done=jax.block_until_ready,
    )  # fmt: skip


# name: (label, how to make its framework; None for the references)
IMPLEMENTATIONS: dict[str, tuple[str, Callable[[], Framework] | None]] = {
    "numpy": ("NumPy (course formulas)", None),
    "lean": ("lean NumPy", None),
    "engine": ("tinygrad_dl", lambda: _engine(compiled=False)),
    "compiled": ("tinygrad_dl compiled", lambda: _engine(compiled=True)),
    "torch": ("PyTorch eager", _torch),
    "autograd": ("HIPS autograd", _hips),
    "jax": ("JAX grad", lambda: _jax(jit=False)),
    "jax_jit": ("JAX jit(grad)", lambda: _jax(jit=True)),
}
LABELS = {name: label for name, (label, _) in IMPLEMENTATIONS.items()}


def make(name: str, workload: Workload, device: str = "cpu") -> Any:
    """The runner of implementation ``name`` on ``workload`` (arrays on ``device``), or
    ``(status, reason)``: ``"skipped"``, or ``"not installed"`` when a peer cannot be imported
    (our engine failing to import raises)."""
    if workload.kind == "chain" and name in ("lean", "compiled"):
        return "skipped", "W4 times the per-op cost of eager graphs (the course's chain is lean)"
    if name.startswith("jax") and workload.n_ops > JAX_LONG_CHAIN:
        return "skipped", f"tracing a {workload.n_ops:,}-op chain takes minutes"
    if name == "numpy":
        return baselines.Chain(workload) if workload.kind == "chain" else baselines.Course(workload)
    if name == "lean":
        return baselines.Lean(workload, device)
    try:
        framework = IMPLEMENTATIONS[name][1]()
    except ImportError as exc:
        if name in ("engine", "compiled"):
            raise
        return "not installed", f"{name} cannot be imported ({exc})"
    return Runner(framework, workload, device)


def cost(fw: Framework, workload: Workload, params: list, X: Any, Y: Any, labels: Any) -> Any:
    """The workload's cost, written once for every framework."""
    if workload.kind == "chain":
        return chain_forward(params[0], X, workload.n_ops).sum()
    if workload.kind == "logistic":
        w, b = params
        return fw.bce(w.T @ X + b, Y)
    A = X
    for l in range(len(params) // 2 - 1):
        A = (fw.relu if workload.hidden == "relu" else fw.tanh)(
            params[2 * l] @ A + params[2 * l + 1]
        )
    Z = params[-2] @ A + params[-1]
    return fw.softmax_ce(Z, Y, labels) if workload.kind == "softmax_mlp" else fw.bce(Z, Y)


class Runner:
    """One framework's training step on one workload (W4: forward and backward), on ``device``
    (``"cpu"``; ``"cuda"`` or ``"array_api_strict"`` for the engine and PyTorch)."""

    def __init__(self, fw: Framework, workload: Workload, device: str = "cpu") -> None:
        self.fw, self.names = fw, [f"d{name}" for name in workload.params]
        self.params = [fw.tensor(a.copy(), True, device) for a in workload.params.values()]
        chain = workload.kind == "chain"
        inputs = (workload.const, None) if chain else (workload.X, workload.Y)
        self.inputs = [None if a is None else fw.tensor(a, False, device) for a in inputs]
        labels = None if workload.labels is None else fw.tensor(workload.labels, False, device)
        self.sync = baselines.synchronizer(device)

        def loss_of(params, X, Y):
            return cost(fw, workload, params, X, Y, labels)

        lr = workload.learning_rate
        if fw.sgd is not None:  # a tape: the step as its users write it
            optimizer = fw.sgd(self.params, lr=lr)

            def step(X, Y):
                optimizer.zero_grad()
                loss = loss_of(self.params, X, Y)
                loss.backward()
                if not chain:  # W4 times forward and backward only
                    optimizer.step()
                return loss

            self._step = fw.jit(step) if fw.jit else step
        else:  # functional: the gradient of the cost, then new parameters
            self.gradient = fw.grad(loss_of)

            def update(params, X, Y):
                return [p - lr * g for p, g in zip(params, self.gradient(params, X, Y))]

            self._update = fw.jit(update) if fw.jit else update
        self.loss_of = loss_of

    def gradients(self) -> dict[str, Any]:
        """The gradients at the current parameters (no update), as NumPy arrays."""
        if self.fw.sgd is None:
            grads = self.gradient(self.params, *self.inputs)
        else:
            for p in self.params:
                p.grad = None
            self.loss_of(self.params, *self.inputs).backward()
            grads = [p.grad for p in self.params]
        return {name: self.fw.to_numpy(g).copy() for name, g in zip(self.names, grads)}

    def step(self) -> None:
        if self.fw.sgd is None:
            self.params = self._update(self.params, *self.inputs)
        else:
            self._step(*self.inputs)
        self.fw.done(self.params)
        self.sync()

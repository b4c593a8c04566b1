"""Every autodiff framework under test, run by one runner written once.

The model is written once (:func:`cost`) with ``@``, ``.T`` and the framework's own
activations and fused losses; a :class:`Framework` says how to make arrays, differentiate and
update. Tape frameworks (tinygrad_dl, PyTorch) call ``cost.backward()`` and update ``.data`` in
place, as their users do; functional ones (HIPS autograd, JAX) take ``grad(cost)`` and rebind.
``tinygrad_dl compiled`` is the tinygrad_dl step under ``tg.compile``; ``JAX jit`` jits the
whole step. Frameworks are imported lazily, in the child process, after threads are pinned.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks.workloads import Workload, chain_forward

THREADS = int(os.environ.get("TINYGRAD_DL_BENCH_THREADS", "0"))
JAX_LONG_CHAIN = 20_000  # tracing a longer chain takes minutes: reported as skipped


@dataclass
class Framework:
    """How one framework makes arrays, activations, losses and gradients."""

    array: Callable  # ndarray -> the framework's array (a parameter when requires_grad)
    relu: Callable
    tanh: Callable
    bce: Callable  # (Z, Y) -> mean binary cross-entropy on logits
    softmax_ce: Callable  # (Z, Y, labels) -> mean softmax cross-entropy, Z is (classes, m)
    tape: bool  # True: cost.backward() and .grad; False: grad(cost)(params)
    grad: Callable | None = None  # functional: cost -> (params -> grads)
    jit: Callable | None = None  # a step function -> its compiled form
    to_numpy: Callable = np.asarray
    done: Callable = lambda value: None  # wait for asynchronous work (JAX)


def _engine(compiled: bool) -> Framework:
    import tinygrad_dl as tg
    from tinygrad_dl.nn import functional as F

    return Framework(
        array=lambda a, requires_grad=False: tg.Tensor(a, requires_grad=requires_grad),
        relu=lambda Z: Z.relu(),
        tanh=lambda Z: Z.tanh(),
        bce=F.binary_cross_entropy_with_logits,
        softmax_ce=lambda Z, Y, labels: F.cross_entropy(Z.T, labels),
        tape=True,
        jit=tg.compile if compiled else None,
        to_numpy=lambda t: t.data,
    )


def _torch() -> Framework:
    import torch
    import torch.nn.functional as F

    if THREADS > 0:
        torch.set_num_threads(THREADS)
    return Framework(
        array=lambda a, requires_grad=False: torch.tensor(a).requires_grad_(requires_grad),
        relu=torch.relu,
        tanh=torch.tanh,
        bce=F.binary_cross_entropy_with_logits,
        softmax_ce=lambda Z, Y, labels: F.cross_entropy(Z.T, labels),
        tape=True,
        to_numpy=lambda t: t.detach().numpy(),
    )


def _hips() -> Framework:
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp

    return Framework(
        array=lambda a, requires_grad=False: a,
        relu=lambda Z: anp.maximum(Z, 0.0),
        tanh=anp.tanh,
        bce=lambda Z, Y: anp.mean(anp.logaddexp(0.0, Z) - Y * Z),
        softmax_ce=lambda Z, Y, labels: (
            -anp.sum(Y * (Z - logsumexp(Z, axis=0, keepdims=True))) / Z.shape[1]
        ),
        tape=False,
        grad=autograd.grad,
    )


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
        array=lambda a, requires_grad=False: jnp.asarray(a),
        relu=jax.nn.relu,
        tanh=jnp.tanh,
        bce=lambda Z, Y: jnp.mean(jax.nn.softplus(Z) - Y * Z),
        softmax_ce=lambda Z, Y, labels: -jnp.sum(Y * jax.nn.log_softmax(Z, axis=0)) / Z.shape[1],
        tape=False,
        grad=jax.grad,
        jit=jax.jit if jit else None,
        done=jax.block_until_ready,
    )


# name: (label, the module it needs, how to make it)
FRAMEWORKS: dict[str, tuple[str, str, Callable[[], Framework]]] = {
    "engine": ("tinygrad_dl", "tinygrad_dl", lambda: _engine(compiled=False)),
    "compiled": ("tinygrad_dl compiled", "tinygrad_dl", lambda: _engine(compiled=True)),
    "torch": ("PyTorch eager", "torch", _torch),
    "autograd": ("HIPS autograd", "autograd", _hips),
    "jax": ("JAX grad", "jax", lambda: _jax(jit=False)),
    "jax_jit": ("JAX jit(grad)", "jax", lambda: _jax(jit=True)),
}


def load(name: str) -> tuple[Framework | None, str]:
    """The framework, or None and why (its library cannot be imported)."""
    label, module, make = FRAMEWORKS[name]
    try:
        importlib.import_module(module)
    except ImportError as exc:
        if module == "tinygrad_dl":
            raise  # ours failing to import is an error, not a missing peer
        return None, f"{module} cannot be imported ({exc})"
    return make(), ""


def skip_reason(name: str, workload: Workload) -> str | None:
    if name == "compiled" and workload.kind == "chain":
        return "W4 measures per-op overhead of eager graphs"
    if name.startswith("jax") and workload.n_ops > JAX_LONG_CHAIN:
        return f"tracing a {workload.n_ops:,}-op chain takes minutes"
    return None


def cost(fw: Framework, workload: Workload, params: list, X: Any, Y: Any, labels: Any) -> Any:
    """The workload's cost, written once for every framework."""
    if workload.kind == "chain":
        return chain_forward(params[0], X, workload.n_ops).sum()
    if workload.kind == "logistic":
        w, b = params
        return fw.bce(w.T @ X + b, Y)
    A = X
    for l in range(len(params) // 2 - 1):
        Z = params[2 * l] @ A + params[2 * l + 1]
        A = fw.relu(Z) if workload.hidden == "relu" else fw.tanh(Z)
    Z = params[-2] @ A + params[-1]
    if workload.kind == "softmax_mlp":
        return fw.softmax_ce(Z, Y, labels)
    return fw.bce(Z, Y)


class Runner:
    """One training step (W4: forward and backward) of one framework on one workload."""

    def __init__(self, fw: Framework, workload: Workload) -> None:
        self.fw, self.workload, self.names = fw, workload, list(workload.params)
        self.params = [fw.array(a.copy(), requires_grad=True) for a in workload.params.values()]
        chain = workload.kind == "chain"
        self.X = fw.array(workload.const if chain else workload.X)
        self.Y = None if chain else fw.array(workload.Y)
        self.labels = None if workload.labels is None else fw.array(workload.labels)
        lr = 0.0 if chain else workload.learning_rate
        if fw.tape:
            self._step = fw.jit(self._tape_step) if fw.jit else self._tape_step
        else:
            grad = fw.grad(lambda params: cost(fw, workload, params, self.X, self.Y, self.labels))
            self._gradients = fw.jit(grad) if fw.jit else grad

            def step(params):
                grads = grad(params)
                return [p - lr * g for p, g in zip(params, grads)], grads

            self._functional_step = fw.jit(step) if fw.jit else step

    def _tape_step(self, X, Y):
        loss = cost(self.fw, self.workload, self.params, X, Y, self.labels)
        loss.backward()
        lr = self.workload.learning_rate
        for p in self.params:
            if self.workload.kind != "chain":
                p.data -= lr * p.grad.data  # the update as the project's optimisers do it
            p.grad = None
        return loss

    def gradients(self) -> dict[str, np.ndarray]:
        """The gradients at the current parameters (no update)."""
        if self.fw.tape:
            cost(self.fw, self.workload, self.params, self.X, self.Y, self.labels).backward()
            grads = [self.fw.to_numpy(p.grad).copy() for p in self.params]
            for p in self.params:
                p.grad = None
        else:
            grads = [np.asarray(g) for g in self._gradients(self.params)]
        return {f"d{n}": g for n, g in zip(self.names, grads)}

    def step(self) -> None:
        if self.fw.tape:
            self._step(self.X, self.Y)
        else:
            self.params, grads = self._functional_step(self.params)
            self.fw.done(grads)

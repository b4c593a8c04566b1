"""The implementations under test, one module each, and how to load them.

Every implementation module provides

- ``REQUIRES``: the top-level modules it imports (a missing one means "not installed");
- ``skip_reason(workload) -> str | None``: why it does not run a workload, if it does not;
- ``build(workload) -> Runner``: a runner holding its own copy of the initial parameters, with
  ``gradients() -> dict[str, ndarray]`` (the gradients at the current parameters, by the
  course's names ``dW1, db1, ...``; no update) and ``step() -> None`` (one full training step:
  forward, cost, backward, update; W4: forward and backward);
- ``details(workload) -> str``: what the runner computes, when it is worth saying (e.g. which
  loss function the engine uses).

Implementations are imported lazily, inside the benchmark's child processes, after the thread
settings are in the environment.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImplSpec:
    """Name, label for tables and module of one implementation."""

    name: str
    label: str
    module: str
    attribute: str = ""  # the object in ``module`` that implements it; empty: the module itself
    peer: bool = True  # a peer that is missing is "not installed"; ours missing is an error


IMPLS: tuple[ImplSpec, ...] = (
    ImplSpec("numpy", "NumPy (course formulas)", "benchmarks.impls.numpy_course", peer=False),
    ImplSpec("engine", "tinygrad_dl", "benchmarks.impls.engine", peer=False),
    ImplSpec("torch", "PyTorch eager", "benchmarks.impls.torch_eager"),
    ImplSpec("autograd", "HIPS autograd", "benchmarks.impls.hips_autograd"),
    ImplSpec("jax", "JAX grad", "benchmarks.impls.jax_grad", attribute="EAGER"),
    ImplSpec("jax_jit", "JAX jit(grad)", "benchmarks.impls.jax_grad", attribute="JIT"),
)
BY_NAME = {spec.name: spec for spec in IMPLS}
BASELINE = "numpy"

NOT_INSTALLED = "not installed"


def spec(name: str) -> ImplSpec:
    """The :class:`ImplSpec` called ``name``.

    Raises
    ------
    ValueError
        If there is no implementation of that name.
    """
    try:
        return BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown implementation {name!r}; known: {', '.join(BY_NAME)}") from None


def load(name: str) -> tuple[Any, str, str]:
    """Import an implementation if its libraries are importable.

    Parameters
    ----------
    name : str
        An implementation name from :data:`IMPLS`.

    Returns
    -------
    implementation : module or object, or None
        What provides ``REQUIRES``, ``skip_reason``, ``build`` and ``details``; None when it
        cannot run here.
    status : str
        ``"ok"``, ``"not installed"`` (a peer library cannot be imported; the reason says which)
        or ``"error"`` (our own code fails to import, or a peer is there but broken).
    reason : str
        Empty when ``status`` is ``"ok"``.
    """
    implementation = spec(name)
    try:
        module = importlib.import_module(implementation.module)
    except ImportError as exc:
        if implementation.peer:
            return None, NOT_INSTALLED, f"{exc.name or exc} cannot be imported ({exc})"
        return None, "error", f"ImportError: {exc}"
    except Exception as exc:  # there but broken: say so in the table, do not crash the run
        return None, "error", f"{type(exc).__name__}: {exc}"
    if implementation.attribute:
        return getattr(module, implementation.attribute), "ok", ""
    return module, "ok", ""

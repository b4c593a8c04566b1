"""Optimisers (SGD, RMSprop, Adam, AdamW) and learning-rate schedules, with PyTorch's semantics.

Each ``step()`` reads every parameter's ``.grad`` and updates ``.data`` in place under
``no_grad``. The per-parameter state (momentum, moment estimates) and one scratch array per
parameter are allocated at the first step; later steps allocate nothing: every formula is
written with NumPy's ``out=`` arguments into those arrays. In the course's notation plain
gradient descent is ``W^[l] := W^[l] - alpha dW^[l]``; the others change the step direction.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from . import backend as _backend
from .autograd import no_grad, note_inplace_change
from .backend import xnp
from .tensor import Tensor

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "LRScheduler",
    "Optimizer",
    "RMSprop",
    "StepLR",
]


class Optimizer:
    """Base class: parameter groups, ``zero_grad``, state dicts. Subclasses write ``_update``.

    Parameters
    ----------
    params : iterable of Tensor, or iterable of dict
        The tensors to optimise (``model.parameters()``), or parameter groups: dicts with a
        ``"params"`` entry and per-group hyperparameters overriding ``defaults``.
    defaults : dict
        Hyperparameters of every group.

    Raises
    ------
    ValueError
        For an empty parameter list, a tensor given twice, or a tensor that does not require
        grad.
    """

    # Names of the per-parameter state arrays, in the order they are created.
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        # param -> {"step": int, name: ndarray, ...}, as in PyTorch (Tensors hash by identity);
        # the scratch arrays live apart from the state so they never enter a state dict.
        self.state: dict[Tensor, dict[str, Any]] = {}
        self._scratch: dict[tuple[int, int], np.ndarray] = {}
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if all(isinstance(group, Mapping) for group in params):
            for group in params:
                self.add_param_group(dict(group))
        else:
            self.add_param_group({"params": params})

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (missing ones from defaults).

        Raises
        ------
        ValueError
            If a parameter is already in another group, does not require grad or is not a
            floating-point Tensor; or a hyperparameter name is unknown.
        """
        name = type(self).__name__
        if "params" not in group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: parameters must be Tensors, got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(
                    f"{name}: a parameter of shape {p.shape} does not require grad; create it "
                    "with requires_grad=True (nn.Parameter does)"
                )
            if not p.is_leaf:
                raise ValueError(f"{name}: can only optimise leaf tensors (shape {p.shape})")
            if id(p) in seen:
                raise ValueError(f"{name}: a parameter of shape {p.shape} appears twice")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise ValueError(f"{name}: unknown hyperparameters {sorted(unknown)}")
        full = {**self.defaults, **group, "params": params}
        self._check_hyperparameters(full)
        self.param_groups.append(full)

    def _check_hyperparameters(self, group: dict[str, Any]) -> None:
        name = type(self).__name__
        for key in ("lr", "weight_decay", "eps", "momentum"):
            if key in group and not group[key] >= 0.0:
                raise ValueError(f"{name}: {key} must be >= 0, got {group[key]!r}")

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the parameters' gradients (``None``, or zero-filled in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad.data.fill(0)

    @no_grad()
    def step(self) -> None:
        """Update every parameter that has a gradient; those with ``.grad is None`` are skipped.

        Raises
        ------
        ValueError
            If a gradient's shape differs from its parameter's.
        """
        work = []
        for group in self.param_groups:
            for p in group["params"]:
                grad = p.grad
                if grad is None:
                    continue
                grad = grad.data
                if grad.shape != p.data.shape:
                    raise ValueError(
                        f"{type(self).__name__}.step: gradient of shape {grad.shape} for a "
                        f"parameter of shape {p.shape}"
                    )
                work.append((p, grad, group))
        # The updates change each p.data in place with NumPy: noted once, before any change
        # (and after every check, so a bad gradient changes nothing), so that a graph recorded
        # earlier that read the old values refuses at backward (PyTorch's version counter).
        note_inplace_change(*[p.data for p, _, _ in work])
        for p, grad, group in work:
            state = self.state.get(p)
            if state is None:
                state = self.state[p] = {"step": 0}
                for state_name in self._state_names(group):
                    state[state_name] = xnp.zeros_like(p.data)
            state["step"] += 1
            self._update(p, grad, state, group)

    def _temporary(self, param: Tensor, slot: int = 0) -> np.ndarray:
        """A scratch array shaped like ``param``, allocated once and reused by every step."""
        key = (id(param), slot)
        array = self._scratch.get(key)
        if array is None:
            array = self._scratch[key] = xnp.empty_like(param.data)
        return array

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return self.state_names

    def _update(
        self,
        param: Tensor,
        grad: np.ndarray,
        state: dict[str, Any],
        group: dict[str, Any],
    ) -> None:
        """Change ``param.data`` in place by one step from ``grad`` (``step`` noted the change)."""
        raise NotImplementedError

    # -- state dicts ----------------------------------------------------------------------
    def _indexed_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict[str, Any]:
        """The optimiser's state as plain data (copies), in PyTorch's layout.

        Returns
        -------
        dict
            ``{"state": {index: {"step": int, name: ndarray}}, "param_groups": [{hyper...,
            "params": [index, ...]}]}`` where ``index`` numbers the parameters across groups.
            ``tg.save`` stores it.
        """
        state: dict[int, dict[str, Any]] = {}
        groups = []
        index = 0
        for group in self.param_groups:
            indices = []
            for p in group["params"]:
                entry = self.state.get(p)
                if entry is not None:
                    state[index] = {
                        name: (_backend.copy(value) if hasattr(value, "shape") else value)
                        for name, value in entry.items()
                    }
                indices.append(index)
                index += 1
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": indices})
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (possibly through ``tg.save``/``tg.load``).

        Everything is checked first (number of groups and parameters, the state's names,
        shapes and dtypes); on any mismatch nothing changes.

        Raises
        ------
        StateDictError
            Listing what does not match.
        """
        from .serialization import StateDictError

        name = type(self).__name__
        problems: list[str] = []
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise StateDictError(
                f"load_state_dict for {name}: expected a dict with keys 'state' and "
                "'param_groups' (from Optimizer.state_dict())"
            )
        groups = list(state_dict["param_groups"])
        if len(groups) != len(self.param_groups):
            problems.append(
                f"{len(groups)} parameter groups in the state dict, {len(self.param_groups)} here"
            )
        params = self._indexed_params()
        new_groups = []
        for number, (given, mine) in enumerate(zip(groups, self.param_groups)):
            given_indices = list(given.get("params", []))
            if len(given_indices) != len(mine["params"]):
                problems.append(
                    f"group {number}: {len(given_indices)} parameters in the state dict, "
                    f"{len(mine['params'])} here"
                )
            unknown = set(given) - set(self.defaults) - {"params", "initial_lr"}
            if unknown:
                problems.append(f"group {number}: unknown hyperparameters {sorted(unknown)}")
            new_groups.append({k: v for k, v in given.items() if k != "params"})
            try:
                self._check_hyperparameters({**mine, **new_groups[-1]})
            except ValueError as error:
                problems.append(f"group {number}: {error}")
        if problems:
            raise StateDictError(
                f"load_state_dict for {name}: nothing was loaded; " + "; ".join(problems)
            )
        group_of = [n for n, group in enumerate(self.param_groups) for _ in group["params"]]
        new_state: dict[Tensor, dict[str, Any]] = {}
        for raw_index, entry in dict(state_dict["state"]).items():
            index = int(raw_index)
            if not 0 <= index < len(params):
                problems.append(f"state for parameter {index}, but there are {len(params)}")
                continue
            param = params[index]
            number = group_of[index]
            hyper = {**self.param_groups[number], **new_groups[number]}
            expected = set(self._state_names(hyper))
            names = set(entry) - {"step"}
            if names != expected or "step" not in entry:
                problems.append(
                    f"parameter {index}: state entries {sorted(entry)}, expected "
                    f"{sorted(expected | {'step'})}"
                )
                continue
            arrays = {}
            for state_name in sorted(names):
                value = entry[state_name]
                value = value.data if isinstance(value, Tensor) else value
                if _backend.foreign(value):  # checked on the host, then moved to the parameter's
                    value = _backend.to_numpy(value)
                if not isinstance(value, np.ndarray) or value.shape != param.shape:
                    problems.append(
                        f"parameter {index}: {state_name!r} has shape {np.shape(value)}, the "
                        f"parameter {param.shape}"
                    )
                elif value.dtype != param.dtype:
                    problems.append(
                        f"parameter {index}: {state_name!r} has dtype {value.dtype}, the "
                        f"parameter {param.dtype}"
                    )
                else:
                    host = np.array(value, copy=True)
                    arrays[state_name] = _backend.to_device(host, param.device)
            new_state[param] = {"step": int(entry["step"]), **arrays}
        if problems:
            raise StateDictError(
                f"load_state_dict for {name}: nothing was loaded; " + "; ".join(problems)
            )
        for group, given in zip(self.param_groups, new_groups):
            group.update(given)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for number, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {number}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _with_weight_decay(optimizer: Optimizer, param: Tensor, grad: np.ndarray, group) -> np.ndarray:
    """``g = dW + weight_decay W`` (an L2 penalty) in scratch slot 1; ``dW`` itself if no decay."""
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return grad
    decayed = optimizer._temporary(param, 1)
    xnp.multiply(param.data, weight_decay, out=decayed)
    decayed += grad
    return decayed


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and weight decay.

    With ``g = dW + weight_decay W`` and momentum ``mu``::

        v := mu v + (1 - dampening) g      (v := g at the first step)
        W := W - lr (g + mu v)              if nesterov
        W := W - lr v                       otherwise

    With ``momentum=0`` it is the course's ``W^[l] := W^[l] - alpha dW^[l]``.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float
        Learning rate ``alpha``.
    momentum, dampening, weight_decay : float
        As above.
    nesterov : bool
        Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(
            params,
            {
                "lr": lr,
                "momentum": momentum,
                "dampening": dampening,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
            },
        )

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _update(self, param, grad, state, group) -> None:
        lr, momentum = group["lr"], group["momentum"]
        scratch = self._temporary(param)
        if momentum == 0 and group["weight_decay"] == 0:  # the course's W := W - alpha dW
            # NumPy's own multiply when it can: xnp's dispatch costs a third of it on small W
            (np.multiply if type(grad) is np.ndarray else xnp.multiply)(grad, lr, out=scratch)
            param.data -= scratch
            return
        g = _with_weight_decay(self, param, grad, group)
        if momentum != 0:
            buffer = state["momentum_buffer"]
            if state["step"] == 1:
                xnp.copyto(buffer, g)
            else:
                buffer *= momentum
                if group["dampening"] != 0:
                    xnp.multiply(g, 1.0 - group["dampening"], out=scratch)
                    buffer += scratch
                else:
                    buffer += g
            if group["nesterov"]:
                # W -= lr g, then W -= lr mu v: the same step as lr (g + mu v).
                xnp.multiply(g, lr, out=scratch)
                param.data -= scratch
                xnp.multiply(buffer, lr * momentum, out=scratch)
            else:
                xnp.multiply(buffer, lr, out=scratch)
        else:
            xnp.multiply(g, lr, out=scratch)
        param.data -= scratch


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of its recent values.

    ``s := alpha s + (1 - alpha) g^2``, ``W := W - lr g / (sqrt(s) + eps)`` (with ``centered``,
    ``s - gbar^2`` replaces ``s``, ``gbar`` the running mean of ``g``; with ``momentum`` the step
    goes through a momentum buffer), as in PyTorch.

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr, alpha, eps, weight_decay, momentum : float
        As above.
    centered : bool
        Use the variance instead of the second moment.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"RMSprop: alpha must be in [0, 1], got {alpha!r}")
        super().__init__(
            params,
            {
                "lr": lr,
                "alpha": alpha,
                "eps": eps,
                "weight_decay": weight_decay,
                "momentum": momentum,
                "centered": centered,
            },
        )

    def _state_names(self, group: dict[str, Any]) -> tuple[str, ...]:
        names = ("square_avg",)
        if group["momentum"] > 0:
            names += ("momentum_buffer",)
        if group["centered"]:
            names += ("grad_avg",)
        return names

    def _update(self, param, grad, state, group) -> None:
        alpha, eps = group["alpha"], group["eps"]
        g = _with_weight_decay(self, param, grad, group)
        scratch = self._temporary(param)
        square_avg = state["square_avg"]
        square_avg *= alpha
        xnp.multiply(g, g, out=scratch)
        scratch *= 1.0 - alpha
        square_avg += scratch
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg *= alpha
            xnp.multiply(g, 1.0 - alpha, out=scratch)
            grad_avg += scratch
            xnp.multiply(grad_avg, grad_avg, out=scratch)
            xnp.subtract(square_avg, scratch, out=scratch)
            xnp.sqrt(scratch, out=scratch)
        else:
            xnp.sqrt(square_avg, out=scratch)
        scratch += eps
        # scratch now holds the denominator sqrt(s) + eps.
        xnp.divide(g, scratch, out=scratch)
        if group["momentum"] > 0:
            buffer = state["momentum_buffer"]
            buffer *= group["momentum"]
            buffer += scratch
            xnp.multiply(buffer, group["lr"], out=scratch)
        else:
            scratch *= group["lr"]
        param.data -= scratch


class Adam(Optimizer):
    """Adam: momentum on the gradient and on its square, with bias correction.

    At step ``t``: ``m := beta1 m + (1 - beta1) g``, ``v := beta2 v + (1 - beta2) g^2``,
    ``W := W - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)``, with
    ``g = dW + weight_decay W`` (an L2 penalty; see :class:`AdamW` for decoupled decay).

    Parameters
    ----------
    params : iterable
        Parameters or parameter groups.
    lr : float
        Learning rate.
    betas : tuple of float
        ``(beta1, beta2)``, each in ``[0, 1)``.
    eps, weight_decay : float
        As above.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        betas = tuple(float(b) for b in betas)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{type(self).__name__}: betas must be two numbers in [0, 1)")
        super().__init__(
            params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        )

    state_names = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def _update(self, param, grad, state, group) -> None:
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        if self._decoupled:
            if weight_decay != 0:
                param.data *= 1.0 - lr * weight_decay
            g = grad
        else:
            g = _with_weight_decay(self, param, grad, group)
        scratch = self._temporary(param)
        exp_avg *= beta1
        xnp.multiply(g, 1.0 - beta1, out=scratch)
        exp_avg += scratch
        exp_avg_sq *= beta2
        xnp.multiply(g, g, out=scratch)
        scratch *= 1.0 - beta2
        exp_avg_sq += scratch
        bias_correction1 = 1.0 - beta1 ** state["step"]
        bias_correction2 = 1.0 - beta2 ** state["step"]
        xnp.sqrt(exp_avg_sq, out=scratch)
        scratch /= math.sqrt(bias_correction2)
        scratch += eps
        xnp.divide(exp_avg, scratch, out=scratch)
        scratch *= lr / bias_correction1
        param.data -= scratch


class AdamW(Adam):
    """Adam with decoupled weight decay: ``W := (1 - lr weight_decay) W`` before the Adam step.

    Parameters are those of :class:`Adam`; ``weight_decay`` defaults to 0.01 as in PyTorch.
    """

    _decoupled = True

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# -- learning-rate schedules ----------------------------------------------------------------


class LRScheduler:
    """Base class: sets each group's ``lr`` from its initial value and the epoch count.

    Call ``scheduler.step()`` once per epoch, after ``optimizer.step()``.
    """

    def __init__(self, optimizer: Optimizer) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = 0
        self._set(0)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        """The learning rate of a group whose initial rate is ``base_lr`` at ``epoch``."""
        raise NotImplementedError

    def _set(self, epoch: int) -> None:
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, epoch)

    def step(self) -> None:
        """Advance one epoch and update the learning rates."""
        self.last_epoch += 1
        self._set(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The current learning rate of each group."""
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The schedule's position: ``{"last_epoch": int, "base_lrs": [...]}``."""
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore the position saved by :meth:`state_dict` and set the rates accordingly."""
        base_lrs = [float(v) for v in state_dict["base_lrs"]]
        if len(base_lrs) != len(self.optimizer.param_groups):
            from .serialization import StateDictError

            raise StateDictError(
                f"load_state_dict for {type(self).__name__}: {len(base_lrs)} base rates, "
                f"{len(self.optimizer.param_groups)} parameter groups"
            )
        self.base_lrs = base_lrs
        self.last_epoch = int(state_dict["last_epoch"])
        self._set(self.last_epoch)


class StepLR(LRScheduler):
    """Multiply the learning rate by ``gamma`` every ``step_size`` epochs.

    ``lr(epoch) = lr_0 * gamma ** (epoch // step_size)``.

    Parameters
    ----------
    optimizer : Optimizer
        Whose groups' ``lr`` to set.
    step_size : int
        Epochs between decays (>= 1).
    gamma : float
        Decay factor.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if not isinstance(step_size, int) or step_size < 1:
            raise ValueError(f"StepLR: step_size must be a positive int, got {step_size!r}")
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    """Cosine decay from the initial rate to ``eta_min`` over ``T_max`` epochs.

    ``lr(epoch) = eta_min + (lr_0 - eta_min) (1 + cos(pi epoch / T_max)) / 2`` (then periodic,
    as PyTorch's closed form).

    Parameters
    ----------
    optimizer : Optimizer
        Whose groups' ``lr`` to set.
    T_max : int
        Epochs of one half period (>= 1).
    eta_min : float
        Lowest rate.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0) -> None:  # noqa: N803
        if not isinstance(T_max, int) or T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be a positive int, got {T_max!r}")
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return (
            self.eta_min
            + (base_lr - self.eta_min) * (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        )

"""The baseline (ratio 1.0): hand-written NumPy in the course's formulas.

Where ``tinygrad_dl.course`` has the course's functions (``deep.L_model_forward`` /
``L_model_backward`` / ``update_parameters``, ``shallow.forward_propagation`` / ...,
``logistic.propagate``), the baseline calls them, so it is exactly the code a learner writes.
Otherwise (and for W4 and W5, which the course does not cover) it uses the same formulas written
here. Like the course, it computes ``dA^[0] = W^[1]^T dZ^[1]`` although nothing needs it.
``details`` says which source a run used.

Formulas (course notation, column layout):

- forward: ``Z^[l] = W^[l] A^[l-1] + b^[l]``, ``A^[l] = g^[l](Z^[l])``;
  cost ``J = -(1/m) sum(Y log A^[L] + (1 - Y) log(1 - A^[L]))``;
- backward: ``dA^[L] = -(Y / A^[L] - (1 - Y) / (1 - A^[L]))``, ``dZ^[l] = dA^[l] * g'(Z^[l])``,
  ``dW^[l] = (1/m) dZ^[l] A^[l-1]^T``, ``db^[l] = (1/m) sum(dZ^[l], axis=1)``,
  ``dA^[l-1] = W^[l]^T dZ^[l]``; update ``W^[l] := W^[l] - alpha dW^[l]``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from benchmarks.workloads import Workload, chain_forward

REQUIRES = ("numpy",)


def _course(module: str, *names: str) -> object | None:
    """``tinygrad_dl.course.<module>`` if it exists and has all ``names``, else None."""
    try:
        found = importlib.import_module(f"tinygrad_dl.course.{module}")
    except Exception:
        return None
    return found if all(hasattr(found, name) for name in names) else None


DEEP = ("L_model_forward", "compute_cost", "L_model_backward", "update_parameters")
SHALLOW = ("forward_propagation", "compute_cost", "backward_propagation", "update_parameters")
LOGISTIC = ("propagate",)


def skip_reason(workload: Workload) -> str | None:
    """The baseline runs every workload."""
    return None


def details(workload: Workload) -> str:
    """Which code the baseline runs (runners built by :func:`build` say it more exactly)."""
    return "formulas in benchmarks/impls"


def _source(workload: Workload) -> str | None:
    if workload.kind == "binary_mlp" and workload.hidden == "relu" and _course("deep", *DEEP):
        return "deep"
    if (
        workload.kind == "binary_mlp"
        and workload.hidden == "tanh"
        and len(workload.params) == 4
        and _course("shallow", *SHALLOW)
    ):
        return "shallow"
    if workload.kind == "logistic" and _course("logistic", *LOGISTIC):
        return "logistic"
    return None


def build(workload: Workload, use_course: bool = True):
    """A runner for ``workload`` (see :mod:`benchmarks.impls`).

    Parameters
    ----------
    workload : Workload
    use_course : bool
        Call ``tinygrad_dl.course`` where it has the workload's functions; False forces the
        formulas written here (to compare the two).

    Returns
    -------
    Runner
    """
    source = _source(workload) if use_course else None
    runner = None
    if source == "deep":
        runner = _CourseDeep(workload)
    elif source == "shallow":
        runner = _CourseShallow(workload)
    elif source == "logistic":
        runner = _Logistic(workload, course=True)
    if runner is not None:
        # The baseline must run in the workload's dtype: a float32 step done in float64 is
        # neither the same work nor a fair ratio.
        dtypes = {str(g.dtype) for g in runner.gradients().values() if np.ndim(g)}
        if dtypes == {workload.dtype}:
            runner.details = f"tinygrad_dl.course.{source}"
            return runner
        fallback = _local(workload)
        others = ", ".join(sorted(dtypes - {workload.dtype}))
        fallback.details = (
            f"formulas in benchmarks/impls (tinygrad_dl.course.{source} returns {others} "
            f"gradients for {workload.dtype} data)"
        )
        return fallback
    return _local(workload)


def _local(workload: Workload):
    """The runner with the formulas written in this module."""
    if workload.kind == "binary_mlp":
        return _BinaryMLP(workload)
    if workload.kind == "logistic":
        return _Logistic(workload, course=False)
    if workload.kind == "chain":
        return _Chain(workload)
    if workload.kind == "softmax_mlp":
        return _SoftmaxMLP(workload)
    raise ValueError(f"numpy baseline: unknown workload kind {workload.kind!r}")


# --- the formulas, written out as a learner writes them ------------------------------------


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """``sigma(Z) = 1 / (1 + exp(-Z))``."""
    return 1 / (1 + np.exp(-Z))


def relu(Z: np.ndarray) -> np.ndarray:
    """``max(0, Z)``."""
    return np.maximum(0, Z)


def _forward(X, params, L, hidden):
    """``[LINEAR -> g] * (L-1) -> LINEAR -> SIGMOID``; caches ``(A_prev, W, b, Z)`` per layer."""
    g = relu if hidden == "relu" else np.tanh
    caches = []
    A = X
    for l in range(1, L + 1):
        A_prev, W, b = A, params[f"W{l}"], params[f"b{l}"]
        Z = np.dot(W, A_prev) + b
        A = sigmoid(Z) if l == L else g(Z)
        caches.append((A_prev, W, b, Z))
    return A, caches


def _cost(AL, Y):
    """``J = -(1/m) sum(Y log A^[L] + (1 - Y) log(1 - A^[L]))``."""
    m = Y.shape[1]
    return float(np.squeeze(-(1 / m) * np.sum(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))))


def _backward(AL, Y, caches, hidden):
    """The course's ``L_model_backward``: ``dA^[L] = -(Y/A - (1-Y)/(1-A))`` down to ``dA^[0]``."""
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    dA = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    for l in range(L, 0, -1):
        A_prev, W, b, Z = caches[l - 1]
        if l == L:
            s = sigmoid(Z)
            dZ = dA * s * (1 - s)
        elif hidden == "relu":
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
        else:
            dZ = dA * (1 - np.power(np.tanh(Z), 2))
        grads[f"dW{l}"] = (1 / m) * np.dot(dZ, A_prev.T)
        grads[f"db{l}"] = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
        dA = np.dot(W.T, dZ)
        grads[f"dA{l - 1}"] = dA
    return grads


def _update(params, grads, learning_rate, L):
    """``W^[l] := W^[l] - alpha dW^[l]``, ``b^[l] := b^[l] - alpha db^[l]``."""
    params = params.copy()
    for l in range(1, L + 1):
        params[f"W{l}"] = params[f"W{l}"] - learning_rate * grads[f"dW{l}"]
        params[f"b{l}"] = params[f"b{l}"] - learning_rate * grads[f"db{l}"]
    return params


def _param_grads(grads: dict, params: dict) -> dict[str, np.ndarray]:
    """Keep only the gradients of parameters (drop the course's ``dA^[l]``)."""
    return {f"d{name}": np.asarray(grads[f"d{name}"]) for name in params}


class _BinaryMLP:
    def __init__(self, workload: Workload) -> None:
        self.params = {name: a.copy() for name, a in workload.params.items()}
        self.X, self.Y = workload.X, workload.Y
        self.L = len(self.params) // 2
        self.hidden = workload.hidden
        self.learning_rate = workload.learning_rate

    def _grads(self):
        AL, caches = _forward(self.X, self.params, self.L, self.hidden)
        self.cost = _cost(AL, self.Y)
        return _backward(AL, self.Y, caches, self.hidden)

    def gradients(self) -> dict[str, np.ndarray]:
        return _param_grads(self._grads(), self.params)

    def step(self) -> None:
        self.params = _update(self.params, self._grads(), self.learning_rate, self.L)


class _CourseDeep(_BinaryMLP):
    """W1 through ``tinygrad_dl.course.deep``."""

    def __init__(self, workload: Workload) -> None:
        super().__init__(workload)
        self.course = _course("deep", *DEEP)

    def _grads(self):
        AL, caches = self.course.L_model_forward(self.X, self.params)
        self.cost = self.course.compute_cost(AL, self.Y)
        return self.course.L_model_backward(AL, self.Y, caches)

    def step(self) -> None:
        grads = self._grads()
        self.params = self.course.update_parameters(self.params, grads, self.learning_rate)


class _CourseShallow(_BinaryMLP):
    """W2 through ``tinygrad_dl.course.shallow``."""

    def __init__(self, workload: Workload) -> None:
        super().__init__(workload)
        self.course = _course("shallow", *SHALLOW)

    def _grads(self):
        A2, cache = self.course.forward_propagation(self.X, self.params)
        self.cost = self.course.compute_cost(A2, self.Y)
        return self.course.backward_propagation(self.params, cache, self.X, self.Y)

    def step(self) -> None:
        grads = self._grads()
        self.params = self.course.update_parameters(self.params, grads, self.learning_rate)


class _Logistic:
    """Week 2: ``A = sigma(w^T X + b)``, ``dw = (1/m) X (A - Y)^T``, ``db = (1/m) sum(A - Y)``."""

    def __init__(self, workload: Workload, course: bool) -> None:
        self.w = workload.params["w"].copy()
        self.b = float(workload.params["b"])  # the course's b is a Python float
        self.X, self.Y = workload.X, workload.Y
        self.learning_rate = workload.learning_rate
        found = _course("logistic", *LOGISTIC) if course else None
        self.propagate: Callable = found.propagate if found is not None else _propagate

    def gradients(self) -> dict[str, np.ndarray]:
        grads, _ = self.propagate(self.w, self.b, self.X, self.Y)
        return {"dw": np.asarray(grads["dw"]), "db": np.asarray(grads["db"], dtype=np.float64)}

    def step(self) -> None:
        grads, self.cost = self.propagate(self.w, self.b, self.X, self.Y)
        self.w = self.w - self.learning_rate * grads["dw"]
        self.b = self.b - self.learning_rate * grads["db"]


def _propagate(w, b, X, Y):
    """The course's ``propagate``: cost and ``dw, db`` of logistic regression."""
    m = X.shape[1]
    A = sigmoid(np.dot(w.T, X) + b)
    cost = -(1 / m) * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dw = (1 / m) * np.dot(X, (A - Y).T)
    db = (1 / m) * np.sum(A - Y)
    return {"dw": dw, "db": db}, float(np.squeeze(cost))


class _Chain:
    """W4 by hand: the forward chain, then ``dx`` by multiplying the local derivatives back."""

    def __init__(self, workload: Workload) -> None:
        self.x = workload.params["x"].copy()
        self.c = workload.const
        self.cycles, self.rest = divmod(workload.n_ops, 4)

    def _dx(self) -> np.ndarray:
        y, c = self.x, self.c
        # Forward: the values (kept, as a hand-written backward would need them for
        # non-linear ops; these linear ones need only the scalars).
        y = chain_forward(y, c, 4 * self.cycles + self.rest)
        self.value = y.sum()
        # Backward of sum(y): dy = 1, then one multiply per op, newest to oldest.
        dy = np.ones_like(y)
        for i in reversed(range(self.rest)):
            dy = dy * (2.0, 1.0, 0.5, 1.0)[i]
        for _ in range(self.cycles):
            dy = dy * 1.0  # y - 0.5
            dy = dy * 0.5  # y * 0.5
            dy = dy * 1.0  # y + c
            dy = dy * 2.0  # y * 2
        return dy

    def gradients(self) -> dict[str, np.ndarray]:
        return {"dx": self._dx()}

    def step(self) -> None:
        self._dx()


class _SoftmaxMLP:
    """W5 by hand: ReLU layers, softmax output, ``J = -(1/m) sum(Y log A^[L])``.

    Backward: ``dZ^[L] = A^[L] - Y``, then the course's layer formulas (with ``dA^[0]``).
    """

    def __init__(self, workload: Workload) -> None:
        self.params = {name: a.copy() for name, a in workload.params.items()}
        self.X, self.Y = workload.X, workload.Y
        self.L = len(self.params) // 2
        self.learning_rate = workload.learning_rate

    def _grads(self):
        params, L, m = self.params, self.L, self.X.shape[1]
        A, caches = self.X, []
        for l in range(1, L + 1):
            Z = np.dot(params[f"W{l}"], A) + params[f"b{l}"]
            caches.append((A, Z))
            A = relu(Z) if l < L else Z
        shifted = A - np.max(A, axis=0, keepdims=True)  # stable softmax
        log_softmax = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
        AL = np.exp(log_softmax)
        self.cost = float(-(1 / m) * np.sum(self.Y * log_softmax))
        grads, dA = {}, None
        for l in range(L, 0, -1):
            A_prev, Z = caches[l - 1]
            if l == L:
                dZ = AL - self.Y
            else:
                dZ = np.array(dA, copy=True)
                dZ[Z <= 0] = 0
            grads[f"dW{l}"] = (1 / m) * np.dot(dZ, A_prev.T)
            grads[f"db{l}"] = (1 / m) * np.sum(dZ, axis=1, keepdims=True)
            dA = np.dot(params[f"W{l}"].T, dZ)
        return grads

    def gradients(self) -> dict[str, np.ndarray]:
        return _param_grads(self._grads(), self.params)

    def step(self) -> None:
        self.params = _update(self.params, self._grads(), self.learning_rate, self.L)

"""The two hand-written references every implementation is measured against.

``course`` (ratio 1.0): the course's formulas as the notebooks write them, plain NumPy, no input
checks. W1 and W5 follow week 4's ``L_model_forward``/``L_model_backward``
(``dA^[L] = -(Y/A^[L] - (1-Y)/(1-A^[L]))``, ``dZ = dA * g'(Z)``, ``dW^[l] = (1/m) dZ^[l]
A^[l-1]^T``, ``db^[l] = (1/m) sum(dZ^[l])``, ``dA^[l-1] = W^[l]^T dZ^[l]`` down to ``dA^[0]``,
and ``update_parameters`` making new arrays); W2 follows week 3's ``forward_propagation`` and
``backward_propagation`` (``dZ^[2] = A^[2] - Y``, ``dZ^[1] = W^[2]^T dZ^[2] * (1 - A^[1]^2)``);
W3 week 2's ``propagate``; W4 multiplies the chain's local derivatives by hand.

``lean``: the fewest operations a hand-written step needs: no ``dA^[0]``, ``dZ^[L] = A^[L] - Y``
fused, ``1/m`` applied once to ``dZ^[L]``, updates in place. It is the floor for an eager step.
It is written once against an array namespace ``xp``: NumPy here, CuPy ("hand-written CuPy")
and array_api_strict in ``gpu_check.py``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from types import SimpleNamespace

import numpy as np

from benchmarks.workloads import Workload, chain_forward
from tinygrad_dl import backend


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


class Course:
    """The notebooks' step: ``grads()`` by the week's formulas, ``update_parameters``."""

    def __init__(self, workload: Workload) -> None:
        self.params = {name: a.copy() for name, a in workload.params.items()}
        self.X, self.Y, self.lr = workload.X, workload.Y, workload.learning_rate
        self.workload, tanh = workload, workload.hidden == "tanh"
        self.grads = self.propagate if workload.kind == "logistic" else (
            self.shallow if tanh else self.deep)  # fmt: skip

    def gradients(self) -> dict[str, np.ndarray]:
        grads = self.grads()
        return {f"d{name}": np.asarray(grads[f"d{name}"]) for name in self.params}

    def step(self) -> None:
        grads, params = self.grads(), dict(self.params)
        for name in params:  # update_parameters: new arrays
            params[name] = params[name] - self.lr * grads[f"d{name}"]
        self.params = params

    def deep(self) -> dict[str, np.ndarray]:
        """Week 4's L-layer network (W1), and W5 with a softmax output in the same formulas."""
        params, Y, softmax = self.params, self.Y, self.workload.kind == "softmax_mlp"
        m, L, caches, A = Y.shape[1], len(params) // 2, [], self.X
        for l in range(1, L + 1):  # L_model_forward
            A_prev = A
            Z = np.dot(params[f"W{l}"], A_prev) + params[f"b{l}"]
            if l < L:
                A = np.maximum(0, Z)
            elif softmax:
                E = np.exp(Z - np.max(Z, axis=0, keepdims=True))
                A = E / np.sum(E, axis=0, keepdims=True)
            else:
                A = sigmoid(Z)
            caches.append((A_prev, params[f"W{l}"], Z))
        if softmax:  # compute_cost
            self.cost = -np.sum(Y * np.log(A)) / m
        else:
            self.cost = np.squeeze(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
        grads = {}
        dA = None if softmax else -(np.divide(Y, A) - np.divide(1 - Y, 1 - A))
        for l in range(L, 0, -1):  # L_model_backward
            A_prev, W, Z = caches[l - 1]
            if l == L and softmax:
                dZ = A - Y
            elif l == L:
                s = sigmoid(Z)
                dZ = dA * s * (1 - s)  # sigmoid_backward
            else:
                dZ = np.array(dA, copy=True)  # relu_backward
                dZ[Z <= 0] = 0
            grads[f"dW{l}"] = 1 / m * np.dot(dZ, A_prev.T)  # linear_backward
            grads[f"db{l}"] = 1 / m * np.sum(dZ, axis=1, keepdims=True)
            dA = grads[f"dA{l - 1}"] = np.dot(W.T, dZ)
        return grads

    def shallow(self) -> dict[str, np.ndarray]:
        """Week 3's one-hidden-layer network (W2): tanh hidden layer, sigmoid output."""
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        X, Y, m = self.X, self.Y, self.X.shape[1]
        Z1 = np.dot(W1, X) + b1  # forward_propagation
        A1 = np.tanh(Z1)
        Z2 = np.dot(W2, A1) + b2
        A2 = sigmoid(Z2)
        logprobs = np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y)
        self.cost = float(np.squeeze(-np.sum(logprobs) / m))  # compute_cost
        dZ2 = A2 - Y  # backward_propagation
        dW2 = 1 / m * np.dot(dZ2, A1.T)
        db2 = 1 / m * np.sum(dZ2, axis=1, keepdims=True)
        dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))
        dW1 = 1 / m * np.dot(dZ1, X.T)
        db1 = 1 / m * np.sum(dZ1, axis=1, keepdims=True)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    def propagate(self) -> dict[str, np.ndarray]:
        """Week 2's ``propagate``: ``A = sigma(w^T X + b)``, ``dw = (1/m) X (A - Y)^T``."""
        w, b, X, Y = self.params["w"], self.params["b"], self.X, self.Y
        m = X.shape[1]
        A = sigmoid(np.dot(w.T, X) + b)
        self.cost = np.squeeze(-1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
        return {"dw": 1 / m * np.dot(X, (A - Y).T), "db": 1 / m * np.sum(A - Y)}


class Lean:
    """The fewest operations, in the library of ``device``'s arrays: ``Z^[l] = W^[l] A^[l-1] +
    b^[l]``, ``dZ^[L] = (A^[L] - Y)/m``, ``dW^[l] = dZ^[l] A^[l-1]^T``, ``db^[l] = sum(dZ^[l])``,
    ``dZ^[l-1] = W^[l]^T dZ^[l] * g'(Z^[l-1])`` for ``l > 1`` only, ``W^[l] -= alpha dW^[l]``;
    activations in place (``out=``)."""

    def __init__(self, workload: Workload, device: str = "cpu") -> None:
        def put(a: np.ndarray):
            return backend.to_device(a.copy(), device)

        self.names, self.lr = [f"d{name}" for name in workload.params], workload.learning_rate
        self.params = [put(a) for a in workload.params.values()]
        self.X, self.Y, self.xp = put(workload.X), put(workload.Y), _library(self.params[0])
        self.m, self.hidden, self.kind = workload.m, workload.hidden, workload.kind
        self.sync = synchronizer(device)
        # Logistic regression is the one-layer network with W = w^T (a view: updates reach w).
        self.layers = [(self.params[0].T, self.params[1])] if self.kind == "logistic" else list(
            zip(self.params[::2], self.params[1::2]))  # fmt: skip

    def grads(self) -> list:
        """``[(dW^[1], db^[1]), ...]``; the cost (from the logits) in ``self.cost``."""
        xp, Y, m, L = self.xp, self.Y, self.m, len(self.layers)
        activations, A = [self.X], self.X
        for l, (W, b) in enumerate(self.layers, 1):
            Z = W @ A
            Z += b
            if l < L:
                A = xp.maximum(Z, 0.0, out=Z) if self.hidden == "relu" else xp.tanh(Z, out=Z)
                activations.append(A)
        if self.kind == "softmax_mlp":
            Z -= xp.max(Z, axis=0, keepdims=True)
            xp.exp(Z, out=Z)
            Z /= xp.sum(Z, axis=0, keepdims=True)
            self.cost = -xp.sum(Y * xp.log(Z), axis=None) / m
        else:  # J = (1/m) sum(log(1 + e^Z) - Y Z), then A^[L] = sigma(Z^[L]) = 1 / (1 + e^-Z)
            self.cost = (xp.sum(xp.logaddexp(0.0, Z), axis=None) - xp.vdot(Y, Z)) / m
            xp.exp(xp.negative(Z, out=Z), out=Z)
            Z += 1.0
            xp.reciprocal(Z, out=Z)
        dZ = Z
        dZ -= Y
        dZ *= 1.0 / m
        grads = []
        for l in range(L, 0, -1):
            W, b = self.layers[l - 1]
            A_prev = activations[l - 1]
            db = (
                xp.sum(dZ, axis=1, keepdims=True) if b.ndim else xp.sum(dZ, axis=None)
            )  # w's b: a number
            grads.append((dZ @ A_prev.T, db))
            if l > 1:  # g'(Z^[l-1]) from A^[l-1]: ReLU's is A > 0, tanh's is 1 - A^2
                dA = W.T @ dZ
                if self.hidden == "relu":
                    xp.multiply(dA, A_prev > 0, out=dA)
                else:
                    dA *= 1.0 - A_prev * A_prev
                dZ = dA
        return grads[::-1]

    def gradients(self) -> dict[str, np.ndarray]:
        grads = [backend.to_numpy(g) for pair in self.grads() for g in pair]
        if self.kind == "logistic":
            grads[0] = grads[0].T
        return dict(zip(self.names, grads))

    def step(self) -> None:
        for (W, b), (dW, db) in zip(self.layers, self.grads()):
            dW *= self.lr
            W -= dW
            db *= self.lr
            b -= db
        self.sync()


def synchronizer(device: str) -> Callable[[], None]:
    """What waits for ``device``'s queued work: the GPU's (every stream), else nothing."""
    if str(device).startswith("cuda"):
        return importlib.import_module("cupy").cuda.Device().synchronize
    return lambda: None


# The functions the lean step calls. NumPy's reductions as ufunc methods: np.sum adds a Python
# wrapper, about 1 us a call (a tenth of W2's step).
LEAN_CALLS = ("maximum", "tanh", "exp", "log", "logaddexp", "negative", "reciprocal", "multiply",
              "vdot")  # fmt: skip


def _library(array) -> SimpleNamespace:
    """The lean step's functions for ``array``'s library, each taking ``out=``: NumPy's and
    CuPy's own; otherwise the standard namespace's, ``out=`` done by a copy (array_api_strict in
    gpu_check's dry run, which also refuses ``float * bool`` and has no ``vdot``)."""
    root = type(array).__module__.split(".")[0]
    if root == "numpy":
        calls = {name: getattr(np, name) for name in LEAN_CALLS}
        return SimpleNamespace(**calls, sum=np.add.reduce, max=np.maximum.reduce)
    if root == "cupy":
        return SimpleNamespace(
            **{n: getattr(sys.modules[root], n) for n in LEAN_CALLS + ("sum", "max")}
        )
    xp = backend.namespace(array)
    calls = {name: _copy_out(getattr(xp, name)) for name in LEAN_CALLS[:-2] + ("sum", "max")}
    return SimpleNamespace(**calls, vdot=lambda a, b: xp.sum(a * b),
                           multiply=_copy_out(lambda a, b: a * xp.astype(b, a.dtype)))  # fmt: skip


def _copy_out(function):
    def call(*args, out=None, **kwargs):
        result = function(*args, **kwargs)
        if out is None:
            return result
        out[...] = result
        return out

    return call


class Chain:
    """W4 by hand: the forward chain, then ``dx`` multiplying the local derivatives back."""

    def __init__(self, workload: Workload) -> None:
        self.x, self.c, self.n_ops = workload.params["x"].copy(), workload.const, workload.n_ops

    def gradients(self) -> dict[str, np.ndarray]:
        self.value = chain_forward(self.x, self.c, self.n_ops).sum()
        dy = np.ones_like(self.x)
        for i in reversed(range(self.n_ops)):
            dy = dy * (2.0, 1.0, 0.5, 1.0)[i % 4]  # y*2, y + c, y*0.5, y - 0.5
        return {"dx": dy}

    def step(self) -> None:
        self.gradients()

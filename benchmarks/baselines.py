"""The two NumPy references every implementation is measured against.

``course`` (ratio 1.0): the course's formulas as the notebooks write them, plain NumPy, no input
checks. W1 and W5 follow week 4's ``L_model_forward``/``L_model_backward``
(``dA^[L] = -(Y/A^[L] - (1-Y)/(1-A^[L]))``, ``dZ = dA * g'(Z)``, ``dW^[l] = (1/m) dZ^[l]
A^[l-1]^T``, ``db^[l] = (1/m) sum(dZ^[l])``, ``dA^[l-1] = W^[l]^T dZ^[l]`` down to ``dA^[0]``,
and ``update_parameters`` making new arrays); W2 follows week 3's ``forward_propagation`` and
``backward_propagation`` (``dZ^[2] = A^[2] - Y``, ``dZ^[1] = W^[2]^T dZ^[2] * (1 - A^[1]^2)``);
W3 week 2's ``propagate``; W4 multiplies the chain's local derivatives by hand.

``lean``: the fewest operations a hand-written step needs: no ``dA^[0]``, ``dZ^[L] = A^[L] - Y``
fused, ``1/m`` applied once to ``dZ^[L]``, updates in place. It is the floor for an eager step.
"""

from __future__ import annotations

import numpy as np

from benchmarks.workloads import Workload, chain_forward


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def relu(Z):
    return np.maximum(0, Z)


def build(workload: Workload, lean: bool):
    """A runner with ``gradients() -> {dW1: ...}`` and ``step()`` for ``workload``."""
    if workload.kind == "chain":
        return Chain(workload)
    if lean:
        return Lean(workload)
    if workload.kind == "logistic":
        return CourseLogistic(workload)
    return CourseShallow(workload) if workload.hidden == "tanh" else CourseDeep(workload)


class _Params:
    def __init__(self, workload: Workload) -> None:
        self.params = {name: a.copy() for name, a in workload.params.items()}
        self.X, self.Y, self.lr = workload.X, workload.Y, workload.learning_rate
        self.L = len(self.params) // 2
        self.hidden, self.softmax = workload.hidden, workload.kind == "softmax_mlp"
        self.logistic = workload.kind == "logistic"
        if self.softmax:  # the label of each column, to pick log(A_{y_i, i}) for the cost
            self.picked = (workload.labels, np.arange(workload.m))

    def gradients(self) -> dict[str, np.ndarray]:
        grads = self.grads()
        return {f"d{name}": np.asarray(grads[f"d{name}"]) for name in self.params}

    def step(self) -> None:
        grads, params = self.grads(), self.params.copy()
        for name in params:  # the course's update_parameters: new arrays
            params[name] = params[name] - self.lr * grads[f"d{name}"]
        self.params = params


class CourseDeep(_Params):
    """Week 4's L-layer network (W1), and W5 with a softmax output in the same formulas."""

    def grads(self) -> dict[str, np.ndarray]:
        params, L, Y = self.params, self.L, self.Y
        m = Y.shape[1]
        caches, A = [], self.X
        for l in range(1, L + 1):  # L_model_forward
            A_prev = A
            Z = np.dot(params[f"W{l}"], A_prev) + params[f"b{l}"]
            if l < L:
                A = relu(Z)
            elif self.softmax:
                E = np.exp(Z - np.max(Z, axis=0, keepdims=True))
                A = E / np.sum(E, axis=0, keepdims=True)
            else:
                A = sigmoid(Z)
            caches.append((A_prev, params[f"W{l}"], Z))
        if self.softmax:  # compute_cost
            self.cost = -np.sum(Y * np.log(A)) / m
        else:
            self.cost = np.squeeze(-np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m)
        grads = {}
        dA = None if self.softmax else -(np.divide(Y, A) - np.divide(1 - Y, 1 - A))
        for l in range(L, 0, -1):  # L_model_backward
            A_prev, W, Z = caches[l - 1]
            if l == L and self.softmax:
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


class CourseShallow(_Params):
    """Week 3's one-hidden-layer network (W2): tanh hidden layer, sigmoid output."""

    def grads(self) -> dict[str, np.ndarray]:
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        X, Y = self.X, self.Y
        m = X.shape[1]
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


class CourseLogistic(_Params):
    """Week 2's ``propagate``: ``A = sigma(w^T X + b)``, ``dw = (1/m) X (A - Y)^T``."""

    def grads(self) -> dict[str, np.ndarray]:
        w, b, X, Y = self.params["w"], self.params["b"], self.X, self.Y
        m = X.shape[1]
        A = sigmoid(np.dot(w.T, X) + b)
        self.cost = np.squeeze(-1 / m * np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)))
        return {"dw": 1 / m * np.dot(X, (A - Y).T), "db": 1 / m * np.sum(A - Y)}


class Lean(_Params):
    """The fewest operations: ``dZ^[L] = (A^[L] - Y)/m``, no ``dA^[0]``, in-place updates."""

    def grads(self) -> dict[str, np.ndarray]:
        params, L, Y = self.params, self.L, self.Y
        m = Y.shape[1]
        if self.logistic:
            return self._logistic(m)
        activations, A = [self.X], self.X
        for l in range(1, L + 1):
            Z = params[f"W{l}"] @ A
            Z += params[f"b{l}"]
            if l < L:
                A = np.maximum(Z, 0, out=Z) if self.hidden == "relu" else np.tanh(Z, out=Z)
                activations.append(A)
        if self.softmax:
            Z -= Z.max(axis=0)
            np.exp(Z, out=Z)
            Z /= Z.sum(axis=0)
            self.cost = -np.log(Z[self.picked]).sum() / m
        else:  # A^[L] = sigma(Z^[L]); J from the logits: (1/m) sum(log(1 + e^Z) - Y Z)
            self.cost = (np.logaddexp(0, Z).sum() - np.vdot(Y, Z)) / m
            np.negative(Z, out=Z)
            np.exp(Z, out=Z)
            Z += 1
            np.reciprocal(Z, out=Z)
        dZ = Z
        dZ -= Y
        dZ *= 1 / m
        grads = {}
        for l in range(L, 0, -1):
            A_prev = activations[l - 1]
            grads[f"dW{l}"] = dZ @ A_prev.T
            grads[f"db{l}"] = dZ.sum(axis=1, keepdims=True)
            if l > 1:
                dA = params[f"W{l}"].T @ dZ
                if self.hidden == "relu":
                    dA *= A_prev > 0
                else:
                    dA *= 1 - A_prev * A_prev
                dZ = dA
        return grads

    def _logistic(self, m: int) -> dict[str, np.ndarray]:
        w, X, Y = self.params["w"], self.X, self.Y
        Z = w.T @ X
        Z += self.params["b"]
        self.cost = (np.logaddexp(0, Z).sum() - np.vdot(Y, Z)) / m
        A = 1 / (1 + np.exp(-Z))
        A -= Y
        A *= 1 / m
        return {"dw": X @ A.T, "db": A.sum()}

    def step(self) -> None:
        grads, lr = self.grads(), self.lr
        for name, param in self.params.items():
            update = grads[f"d{name}"]
            update *= lr
            param -= update


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

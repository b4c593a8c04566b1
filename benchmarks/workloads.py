"""The benchmark's workloads: seeded data and initial parameters, the same for every implementation.

Every workload is one full training step in the course's column layout (``X`` is ``(n_x, m)``,
``W^[l]`` is ``(n_l, n_{l-1})``, ``b^[l]`` is ``(n_l, 1)``):

- W1: the course's deep network ``[12288, 20, 7, 5, 1]`` (ReLU hidden layers, sigmoid output,
  cross-entropy) on ``m = 209`` synthetic examples shaped like the course's 64x64x3 cat images,
  in float64 and float32; ``W^[l] = randn(n_l, n_{l-1}) / sqrt(n_{l-1})``, ``b^[l] = 0``.
- W2: the course's shallow network ``[2, 4, 1]`` (tanh hidden layer) on the planar flower data
  (``m = 400``), initialised with ``0.01 * randn``.
- W3: logistic regression from zeros (``initialize_with_zeros``), ``n_x = 30`` (``m = 569``, the
  breast-cancer size) and ``n_x = 12288`` (``m = 209``, the cat size).
- W4: per-op overhead: a chain of elementwise ops on a 4x4 array, forward and backward (no
  update). It repeats ``y*2``, ``y + c`` (a 4x4 array of ones), ``y*0.5``, ``y - 0.5``: the value
  stays put however long the chain, and ``d sum(y) / dx`` is exactly 1.
- W5: an MLP ``[784, 256, 256, 10]`` (ReLU) on a batch of 128, float32, softmax cross-entropy,
  He initialisation.

Training steps (W1-W3, W5) are forward, cost, backward and ``W^[l] := W^[l] - alpha dW^[l]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SEED = 1  # the course's seed; every array below is drawn from generators seeded from it
# Order matters: the driver runs and reports workloads in this order.
KEYS = ("W1-float64", "W1-float32", "W2", "W3-n30", "W3-n12288", "W4-1k", "W4-100k", "W5")
GROUPS = ("W1", "W2", "W3", "W4", "W5")


@dataclass
class Workload:
    """One workload: its step's ``kind`` (``binary_mlp`` W1 W2, ``logistic`` W3, ``chain`` W4,
    ``softmax_mlp`` W5), the initial ``params`` by the course's names (copied by every
    implementation, never changed), inputs ``X`` ``(n_x, m)``, labels ``Y`` (one-hot for W5,
    whose integer ``labels`` are kept too), the hidden activation, ``alpha``, and W4's chain
    length ``n_ops`` and constant ``const``."""

    key: str
    title: str
    kind: str
    dtype: str
    params: dict[str, np.ndarray]
    X: np.ndarray | None = None
    Y: np.ndarray | None = None
    labels: np.ndarray | None = None
    hidden: str = "relu"
    learning_rate: float = 0.0
    n_ops: int = 0
    const: np.ndarray | None = None

    @property
    def m(self) -> int:
        """Number of examples in the batch (W4: 0)."""
        return 0 if self.X is None else int(self.X.shape[1])


def cat_like_data(m: int = 209, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """``X`` ``(12288, m)`` in ``[0, 1]`` shaped like the course's 64x64x3 cat images (flattened
    as the course flattens them) and ``Y`` ``(1, m)`` in ``{0, 1}`` (about a third "cats")."""
    rng = np.random.default_rng(seed)
    # Smooth per-image colour plus pixel noise: pixels correlated like images, activations in a
    # realistic range (the values do not change the cost of a step).
    base = rng.uniform(0.2, 0.8, size=(1, 3, m))
    noise = rng.normal(0.0, 0.15, size=(64 * 64, 3, m))
    pixels = np.clip(np.rint((base + noise) * 255.0), 0, 255)
    return pixels.reshape(64 * 64 * 3, m) / 255.0, (rng.random((1, m)) < 0.35).astype(np.float64)


def flower_data(m: int = 400, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower": ``X`` ``(2, m)``, ``Y`` ``(1, m)``. For class ``j``: angles
    ``t = linspace(3.12 j, 3.12 (j + 1)) + 0.2 randn``, radius ``r = 4 sin(4 t) + 0.2 randn``,
    point ``(r sin t, r cos t)``."""
    rng = np.random.default_rng(seed)
    per_class, X, Y = m // 2, np.zeros((2, m)), np.zeros((1, m))
    for j in range(2):
        columns = slice(per_class * j, per_class * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, per_class) + rng.standard_normal(per_class) * 0.2
        r = 4.0 * np.sin(4.0 * t) + rng.standard_normal(per_class) * 0.2
        X[0, columns], X[1, columns], Y[0, columns] = r * np.sin(t), r * np.cos(t), j
    return X, Y


def init(layer_dims: list[int], scheme: str, seed: int = SEED) -> dict[str, np.ndarray]:
    """Initial ``W^[l]`` from ``np.random.RandomState(seed).randn`` and ``b^[l] = 0``: ``"deep"``
    divides by ``sqrt(n_{l-1})`` (``L_layer_model``), ``"small"`` multiplies by 0.01 (the shallow
    network), ``"he"`` by ``sqrt(2 / n_{l-1})``."""
    rng, params = np.random.RandomState(seed), {}
    for l in range(1, len(layer_dims)):
        n, W = layer_dims[l - 1], rng.randn(layer_dims[l], layer_dims[l - 1])
        scale = 0.01 if scheme == "small" else np.sqrt(2.0 / n)  # "he"
        params[f"W{l}"] = W / np.sqrt(n) if scheme == "deep" else W * scale
        params[f"b{l}"] = np.zeros((layer_dims[l], 1))
    return params


def mlp(key: str, title: str, dims: list[int], m: int, dtype: str, *, scheme: str,
        learning_rate: float, softmax: bool = False, hidden: str = "relu",
        data: tuple[np.ndarray, np.ndarray] | None = None) -> Workload:  # fmt: skip
    """An MLP workload ``dims`` on ``m`` examples in ``dtype``.

    ``data`` is ``(X, Y)`` (``X``'s first ``dims[0]`` rows are used); without it ``X`` is uniform
    in ``[0, 1)`` with random labels (one-hot classes for a softmax output, else Bernoulli(1/2)).
    """
    labels = None
    if data is None:
        rng = np.random.default_rng(SEED)
        X = rng.random((dims[0], m))
        if softmax:
            labels = rng.integers(0, dims[-1], size=m)
            Y = np.zeros((dims[-1], m))
            Y[labels, np.arange(m)] = 1.0
        else:
            Y = (rng.random((1, m)) < 0.5) * 1.0
    else:
        X, Y = data[0][: dims[0]], data[1]
    return Workload(
        key=key, title=title, kind="softmax_mlp" if softmax else "binary_mlp", dtype=dtype,
        params={k: np.ascontiguousarray(v, dtype=dtype) for k, v in init(dims, scheme).items()},
        X=np.ascontiguousarray(X, dtype=dtype), Y=np.ascontiguousarray(Y, dtype=dtype),
        labels=labels, hidden=hidden, learning_rate=learning_rate,
    )  # fmt: skip


def make(key: str, small: bool = False) -> Workload:
    """Build workload ``key``'s seeded data and initial parameters.

    Parameters
    ----------
    key : str
        One of :data:`KEYS`.
    small : bool
        Shrink ``n_x``, ``m`` and the chain for the harness's own tests (never reported).

    Raises
    ------
    ValueError
        For an unknown ``key``, naming the known ones.
    """
    if key in ("W1-float64", "W1-float32"):
        dims, m, dtype = [48 if small else 12288, 20, 7, 5, 1], 16 if small else 209, key[3:]
        return mlp(key, f"W1 deep net {dims}, m={m}, {dtype}", dims, m, dtype, scheme="deep",
                   learning_rate=0.0075, data=cat_like_data(m))  # fmt: skip
    if key == "W2":
        m = 40 if small else 400
        return mlp(key, f"W2 shallow net [2, 4, 1] tanh, flower m={m}, float64", [2, 4, 1], m,
                   "float64", scheme="small", learning_rate=1.2, hidden="tanh",
                   data=flower_data(m))  # fmt: skip
    if key in ("W3-n30", "W3-n12288"):
        n_x = int(key[4:])
        if n_x == 30:
            m, rng = 569, np.random.default_rng(SEED)
            X = rng.standard_normal((30, m))  # standardised features, as the course does
            Y = (X[:3].sum(axis=0, keepdims=True) + rng.standard_normal((1, m)) > 0) * 1.0
        else:
            m, (X, Y) = 209, cat_like_data(209)
        if small:
            X, Y = X[: min(n_x, 24), :20], Y[:, :20]
        return Workload(key=key, title=f"W3 logistic regression n_x={n_x}, m={m}, float64",
                        kind="logistic", dtype="float64",
                        params={"w": np.zeros((X.shape[0], 1)), "b": np.zeros(())},
                        X=np.ascontiguousarray(X), Y=np.ascontiguousarray(Y),
                        learning_rate=0.005)  # fmt: skip
    if key in ("W4-1k", "W4-100k"):
        n_ops = (1_000 if key == "W4-1k" else 100_000) // (100 if small else 1)
        return Workload(key=key, kind="chain", dtype="float64", n_ops=n_ops,
                        title=f"W4 chain of {n_ops:,} elementwise ops on 4x4, forward + backward",
                        params={"x": np.random.default_rng(SEED).standard_normal((4, 4))},
                        const=np.ones((4, 4)))  # fmt: skip
    if key == "W5":
        dims, m = [64, 32, 32, 10] if small else [784, 256, 256, 10], 16 if small else 128
        return mlp(key, f"W5 MLP {dims} ReLU, batch {m}, float32, softmax cross-entropy", dims,
                   m, "float32", scheme="he", learning_rate=0.1, softmax=True)  # fmt: skip
    raise ValueError(f"unknown workload {key!r}; known: {', '.join(KEYS)}")


def chain_forward(y, c, n_ops: int):
    """W4's chain: ``y*2, y + c, y*0.5, y - 0.5`` repeated, ``n_ops`` ops in all.

    Written with operators only, so the same code runs on ndarrays, this engine's Tensors,
    torch tensors and the traced values of HIPS autograd and JAX.
    """
    cycles, rest = divmod(n_ops, 4)
    for _ in range(cycles):
        y = ((y * 2.0 + c) * 0.5) - 0.5
    if rest > 0:
        y = y * 2.0
    if rest > 1:
        y = y + c
    if rest > 2:
        y = y * 0.5
    return y

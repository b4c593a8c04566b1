"""Hypothesis strategies for course-shaped networks, for our property tests and yours.

Import this module explicitly (it needs ``hypothesis``; ``import tinygrad_dl`` does not load it)::

    from tinygrad_dl.course.strategies import networks

    @given(networks())
    def test_my_backprop(net):
        AL, caches = my_L_model_forward(net.X, net.parameters)
        ...

Weights and data come from a seeded ``RandomState`` (hypothesis draws the seed), not from
hypothesis floats: that keeps values generic (no exact zeros on a ReLU kink, no saturated
sigmoid) while hypothesis still explores shapes, depths, activations and seeds, and shrinks them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "tinygrad_dl.course.strategies needs hypothesis: pip install 'tinygrad-dl[test]'"
    ) from error

from . import activations, deep


@dataclass
class Network:
    """A drawn network: ``layer_dims``, per-hidden-layer activations, parameters and data."""

    layer_dims: list[int]
    hidden_activation: list[str]
    parameters: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    seed: int

    @property
    def m(self) -> int:
        """Number of examples."""
        return self.X.shape[1]


def activation_names() -> st.SearchStrategy[str]:
    """One of the course's activations: sigmoid, relu, tanh, leaky_relu."""
    return st.sampled_from(activations.NAMES)


def layer_dims(
    min_layers: int = 1, max_layers: int = 6, min_width: int = 1, max_width: int = 10
) -> st.SearchStrategy[list[int]]:
    """``[n_x, n_1, ..., n_{L-1}, 1]`` with ``L`` in ``[min_layers, max_layers]``."""
    return st.integers(min_layers, max_layers).flatmap(
        lambda L: st.lists(st.integers(min_width, max_width), min_size=L, max_size=L).map(
            lambda widths: [*widths, 1]
        )
    )


def seeds() -> st.SearchStrategy[int]:
    """Seeds for ``np.random.RandomState``."""
    return st.integers(0, 2**32 - 1)


@st.composite
def networks(
    draw: st.DrawFn,
    min_layers: int = 1,
    max_layers: int = 6,
    max_width: int = 10,
    min_examples: int = 1,
    max_examples: int = 32,
    soft_labels: bool | None = None,
) -> Network:
    """A network ``[LINEAR -> g] * (L-1) -> LINEAR -> SIGMOID`` with data.

    Hidden activations are drawn per layer; ``W^[l] = randn / sqrt(n_{l-1})``,
    ``b^[l] = 0.1 randn``, ``X = randn(n_x, m)``; labels are 0/1 or soft labels in ``[0, 1]``
    (drawn unless ``soft_labels`` is given).
    """
    dims = draw(layer_dims(min_layers, max_layers, 1, max_width))
    hidden = draw(st.lists(activation_names(), min_size=len(dims) - 2, max_size=len(dims) - 2))
    m = draw(st.integers(min_examples, max_examples))
    soft = draw(st.booleans()) if soft_labels is None else soft_labels
    seed = draw(seeds())
    rng = np.random.RandomState(seed)
    parameters = deep.initialize_parameters_deep(dims, seed, scaling="sqrt")
    for l in range(1, len(dims)):
        parameters[f"b{l}"] = 0.1 * rng.randn(dims[l], 1)
    X = rng.randn(dims[0], m)
    Y = rng.rand(1, m) if soft else (rng.rand(1, m) < 0.5).astype(np.float64)
    return Network(dims, hidden, parameters, X, Y, seed)

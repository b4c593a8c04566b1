"""The ``rng=`` argument every random function of the project takes, resolved in one place."""

from __future__ import annotations

import numpy as np

__all__ = ["RandomLike", "manual_seed", "resolve_rng"]

RandomLike = np.random.Generator | np.random.RandomState | int | None


def resolve_rng(rng: RandomLike) -> np.random.Generator | np.random.RandomState:
    """Turn the ``rng=`` argument the project accepts into a random generator.

    Parameters
    ----------
    rng : numpy.random.Generator, numpy.random.RandomState, int or None
        A generator or legacy ``RandomState`` is used as is (so that several calls share one
        stream); an int seeds a fresh ``np.random.default_rng``; ``None`` uses NumPy's global
        state, so the course's ``np.random.seed(1)`` idiom makes the result reproducible.

    Returns
    -------
    numpy.random.Generator or numpy.random.RandomState

    Raises
    ------
    TypeError
        For anything else.
    """
    if isinstance(rng, np.random.Generator | np.random.RandomState):
        return rng
    if rng is None:
        # The global legacy state: what np.random.seed() seeds.
        return np.random.mtrand._rand
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng: expected a numpy Generator, RandomState, int seed or None, got {type(rng).__name__}"
    )


def manual_seed(seed: int) -> np.random.RandomState:
    """Seed the default generator: what initialisers, ``Dropout`` and shuffling draw from.

    Everything that takes ``rng=None`` draws from NumPy's global state, so this is the course's
    ``np.random.seed(seed)`` under PyTorch's name.

    Parameters
    ----------
    seed : int
        A non-negative integer below 2**32.

    Returns
    -------
    numpy.random.RandomState
        The default generator, now seeded.

    Raises
    ------
    TypeError, ValueError
        For a seed that is not an int, or out of range.
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise TypeError(f"manual_seed: expected an int seed, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"manual_seed: the seed must be in [0, 2**32), got {seed}")
    generator = resolve_rng(None)
    generator.seed(int(seed))
    return generator

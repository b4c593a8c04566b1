"""Data sets and the plumbing around them: the course's flower data, minibatches, splits,
standardisation, and scikit-learn's bundled real data sets.

Everything here is plain NumPy (no Tensor), so it serves the course's hand-written code and the
``nn`` models alike. Two layouts appear in this project:

- the course's column layout: ``X`` is ``(n_x, m)``, ``Y`` is ``(1, m)``, one example per column;
- the batch-first layout of ``nn`` and PyTorch: ``X`` is ``(m, n_x)``, one example per row.

``X_course = X_batch.T`` converts between them. Functions that return data say which layout
they use. Nothing is downloaded at run time: the real data sets ship inside scikit-learn.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

import numpy as np

from .rng import RandomLike, resolve_rng

__all__ = [
    "DataLoader",
    "StandardScaler",
    "load_breast_cancer",
    "load_digits",
    "load_flower",
    "minibatches",
    "resolve_rng",
    "train_test_split",
]

_SKLEARN_HINT = "pip install 'tinygrad-dl[data]'  (or: pip install scikit-learn)"


def load_flower(
    m: int = 400,
    *,
    seed: int | None = 1,
    rng: RandomLike = None,
    noise: float = 0.2,
    petals: float = 4.0,
    layout: Literal["course", "batch"] = "course",
) -> tuple[np.ndarray, np.ndarray]:
    """The course's planar "flower" data set: two interleaved classes of points in the plane.

    Class ``j`` (0 or 1) takes ``m/2`` angles ``t`` evenly spread over ``[3.12 j, 3.12 (j+1)]``
    plus Gaussian noise, and radii ``r = petals * sin(4 t)`` plus noise; the point is
    ``(r sin t, r cos t)``. With the defaults (``seed=1``, a legacy ``RandomState``) the draws
    are the course's ``planar_utils.load_planar_dataset()``, so the course's published numbers
    (about 47% for logistic regression, about 90% for the 4-unit tanh network) reproduce.

    Parameters
    ----------
    m : int
        Number of points, even and at least 2.
    seed : int or None
        Seed of a ``np.random.RandomState`` (the course's generator). Ignored when ``rng`` is
        given.
    rng : Generator, RandomState, int or None
        An explicit generator; overrides ``seed``.
    noise : float
        Standard deviation of the noise on angle and radius.
    petals : float
        Maximum radius of the flower ("a" in the course).
    layout : {"course", "batch"}
        ``"course"``: ``X`` is ``(2, m)`` float64 and ``Y`` is ``(1, m)`` uint8.
        ``"batch"``: ``X`` is ``(m, 2)`` and ``Y`` is ``(m, 1)``.

    Returns
    -------
    X, Y : numpy.ndarray

    Raises
    ------
    ValueError
        If ``m`` is odd or smaller than 2, or ``layout`` is unknown.
    """
    if not isinstance(m, int | np.integer) or m < 2 or m % 2:
        raise ValueError(f"load_flower: m must be an even int >= 2, got {m!r}")
    if layout not in ("course", "batch"):
        raise ValueError(f"load_flower: layout must be 'course' or 'batch', got {layout!r}")
    if rng is not None:
        generator = resolve_rng(rng)
    else:
        generator = np.random.RandomState(seed) if seed is not None else resolve_rng(None)
    per_class = m // 2
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype=np.uint8)
    for j in range(2):
        rows = slice(per_class * j, per_class * (j + 1))
        # Same draw order as the course: the angle noise first, then the radius noise.
        t = np.linspace(j * 3.12, (j + 1) * 3.12, per_class)
        t = t + generator.standard_normal(per_class) * noise
        r = petals * np.sin(4 * t) + generator.standard_normal(per_class) * noise
        X[rows, 0] = r * np.sin(t)
        X[rows, 1] = r * np.cos(t)
        Y[rows] = j
    if layout == "course":
        return np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    return X, Y


def _check_same_length(name: str, arrays: Sequence[np.ndarray]) -> int:
    if not arrays:
        raise ValueError(f"{name}: expected at least one array")
    lengths = [np.shape(a)[0] if np.ndim(a) else None for a in arrays]
    if None in lengths:
        raise ValueError(f"{name}: every array needs a first (example) axis, got a 0-d array")
    if len(set(lengths)) != 1:
        shapes = ", ".join(str(tuple(np.shape(a))) for a in arrays)
        raise ValueError(
            f"{name}: arrays must have the same number of examples along axis 0, got shapes "
            f"{shapes} (the course's (n_x, m) layout? pass X.T)"
        )
    return int(lengths[0])


def minibatches(
    *arrays: np.ndarray,
    batch_size: int,
    shuffle: bool = True,
    drop_last: bool = False,
    rng: RandomLike = None,
) -> Iterator[tuple[np.ndarray, ...]]:
    """Yield minibatches of batch-first arrays, one tuple per batch.

    Parameters
    ----------
    *arrays : numpy.ndarray
        Arrays with the examples along axis 0, all of the same length ``m``.
    batch_size : int
        Examples per batch (the last one may be smaller).
    shuffle : bool
        Draw a fresh permutation of the examples from ``rng``.
    drop_last : bool
        Drop the last batch when it has fewer than ``batch_size`` examples.
    rng : Generator, RandomState, int or None
        Source of the permutation (see :func:`resolve_rng`).

    Yields
    ------
    tuple of numpy.ndarray
        One slice of each array, in the order given.

    Raises
    ------
    ValueError
        If ``batch_size < 1`` or the arrays differ in length.
    """
    if not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"minibatches: batch_size must be a positive int, got {batch_size!r}")
    arrays = tuple(np.asarray(a) for a in arrays)
    m = _check_same_length("minibatches", arrays)
    order = resolve_rng(rng).permutation(m) if shuffle else None
    stop = m - m % batch_size if drop_last else m
    for start in range(0, stop, batch_size):
        if order is None:
            # Slices are views: no copy when the order is not shuffled.
            yield tuple(a[start : start + batch_size] for a in arrays)
        else:
            index = order[start : start + batch_size]
            yield tuple(a[index] for a in arrays)


class DataLoader:
    """A re-iterable source of minibatches: each ``for`` loop is one epoch.

    Parameters
    ----------
    *arrays : numpy.ndarray
        Batch-first arrays of equal length (for example ``X`` and ``y``).
    batch_size : int
        Examples per batch.
    shuffle : bool
        Reshuffle at the start of every epoch.
    drop_last : bool
        Drop a last partial batch.
    rng : Generator, RandomState, int or None
        Source of the shuffles; an int makes the whole sequence of epochs reproducible.

    Examples
    --------
    >>> import numpy as np
    >>> loader = DataLoader(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2, rng=0)
    >>> [len(y) for x, y in loader]
    [2, 2, 1]
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int = 32,
        shuffle: bool = True,
        drop_last: bool = False,
        rng: RandomLike = None,
    ) -> None:
        self.arrays = tuple(np.asarray(a) for a in arrays)
        self.num_examples = _check_same_length("DataLoader", self.arrays)
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        # Resolve once so that successive epochs continue one stream (different shuffles).
        self.rng = resolve_rng(rng)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        return minibatches(
            *self.arrays,
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            drop_last=self.drop_last,
            rng=self.rng,
        )

    def __len__(self) -> int:
        full, rest = divmod(self.num_examples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __repr__(self) -> str:
        return (
            f"DataLoader(num_examples={self.num_examples}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.25,
    shuffle: bool = True,
    stratify: np.ndarray | None = None,
    rng: RandomLike = None,
) -> list[np.ndarray]:
    """Split batch-first arrays into a training and a test part, like scikit-learn's.

    Parameters
    ----------
    *arrays : array_like
        Arrays with the examples along axis 0, all of the same length ``m``.
    test_size : float or int
        A fraction in ``(0, 1)`` of the examples (rounded up) or a count in ``[1, m - 1]``.
    shuffle : bool
        Shuffle before splitting; without it the last examples form the test part.
    stratify : array_like or None
        Class labels: each class keeps its proportion in both parts (needs ``shuffle``).
    rng : Generator, RandomState, int or None
        Source of the shuffle.

    Returns
    -------
    list of numpy.ndarray
        ``[a_train, a_test, b_train, b_test, ...]`` for the arrays given.

    Raises
    ------
    ValueError
        If the arrays differ in length or ``test_size`` leaves either part empty.
    """
    arrays = tuple(np.asarray(a) for a in arrays)
    m = _check_same_length("train_test_split", arrays)
    if isinstance(test_size, float) and 0.0 < test_size < 1.0:
        n_test = int(np.ceil(test_size * m))
    elif isinstance(test_size, int | np.integer) and not isinstance(test_size, bool):
        n_test = int(test_size)
    else:
        raise ValueError(
            f"train_test_split: test_size must be a float in (0, 1) or an int, got {test_size!r}"
        )
    if not 1 <= n_test <= m - 1:
        raise ValueError(
            f"train_test_split: test_size={test_size!r} leaves an empty part for m={m} examples"
        )
    if stratify is not None and not shuffle:
        raise ValueError("train_test_split: stratify needs shuffle=True")
    generator = resolve_rng(rng) if shuffle else None
    if stratify is not None:
        labels = np.asarray(stratify)
        if labels.shape[:1] != (m,):
            raise ValueError(
                f"train_test_split: stratify must have {m} labels along axis 0, "
                f"got shape {labels.shape}"
            )
        test_index = _stratified_test_index(labels.reshape(m, -1)[:, 0], n_test, generator)
        is_test = np.zeros(m, dtype=bool)
        is_test[test_index] = True
        train_index = generator.permutation(np.flatnonzero(~is_test))
        test_index = generator.permutation(test_index)
    else:
        order = generator.permutation(m) if generator is not None else np.arange(m)
        train_index, test_index = order[: m - n_test], order[m - n_test :]
    out: list[np.ndarray] = []
    for a in arrays:
        out += [a[train_index], a[test_index]]
    return out


def _stratified_test_index(
    labels: np.ndarray, n_test: int, generator: np.random.Generator | np.random.RandomState
) -> np.ndarray:
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse)
    # Largest remainder: each class gets its share of n_test, the rounding goes to the
    # classes whose exact share lost the most.
    exact = counts * n_test / labels.shape[0]
    take = np.floor(exact).astype(int)
    short = n_test - take.sum()
    take[np.argsort(-(exact - take), kind="stable")[:short]] += 1
    picked = []
    for k in range(classes.shape[0]):
        members = np.flatnonzero(inverse == k)
        picked.append(generator.permutation(members)[: take[k]])
    return np.sort(np.concatenate(picked))


class StandardScaler:
    """Standardise features to zero mean and unit variance, with statistics from training data.

    Fit on the training set only, then transform both sets with the same ``mean_`` and
    ``scale_``: the test set must not leak into the statistics. A feature that is constant in the
    training data gets ``scale_ = 1`` (it is centred, not divided by zero).

    Parameters
    ----------
    axis : int
        The example axis: 0 for batch-first ``(m, n_x)`` data, 1 for the course's ``(n_x, m)``.
    """

    def __init__(self, axis: int = 0) -> None:
        if axis not in (0, 1):
            raise ValueError(f"StandardScaler: axis must be 0 or 1, got {axis!r}")
        self.axis = axis
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None

    def fit(self, X: Any) -> StandardScaler:
        """Compute ``mean_`` and ``scale_`` (population standard deviation) of ``X``.

        Parameters
        ----------
        X : array_like
            2-D data with the examples along ``axis``.

        Returns
        -------
        StandardScaler
            ``self``.

        Raises
        ------
        ValueError
            If ``X`` is not 2-D or has no examples.
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[self.axis] == 0:
            raise ValueError(
                f"StandardScaler.fit: expected 2-D data with examples along axis {self.axis}, "
                f"got shape {X.shape}"
            )
        self.mean_ = X.mean(axis=self.axis, keepdims=True)
        std = X.std(axis=self.axis, keepdims=True)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Return ``(X - mean_) / scale_``.

        Raises
        ------
        RuntimeError
            If called before :meth:`fit`.
        ValueError
            If ``X`` has a different number of features than the data it was fitted on.
        """
        if self.mean_ is None or self.scale_ is None:
            raise RuntimeError("StandardScaler.transform: call fit() first")
        X = np.asarray(X, dtype=np.float64)
        feature_axis = 1 - self.axis
        if X.ndim != 2 or X.shape[feature_axis] != self.mean_.shape[feature_axis]:
            raise ValueError(
                f"StandardScaler.transform: fitted on {self.mean_.shape[feature_axis]} features "
                f"along axis {feature_axis}, got shape {X.shape}"
            )
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: ``X * scale_ + mean_``."""
        if self.mean_ is None or self.scale_ is None:
            raise RuntimeError("StandardScaler.inverse_transform: call fit() first")
        return np.asarray(X, dtype=np.float64) * self.scale_ + self.mean_


def _sklearn_datasets(function: str) -> Any:
    try:
        from sklearn import datasets
    except ImportError as error:
        raise ImportError(
            f"tinygrad_dl.data.{function} needs scikit-learn (its data sets ship with it; "
            f"nothing is downloaded): {_SKLEARN_HINT}"
        ) from error
    return datasets


def load_breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """The Wisconsin breast cancer data set (569 examples, 30 features, 2 classes).

    Returns
    -------
    X : numpy.ndarray
        ``(569, 30)`` float64, batch-first (use ``X.T`` for the course's layout).
    y : numpy.ndarray
        ``(569,)`` int64 labels: 1 benign, 0 malignant (scikit-learn's coding).

    Raises
    ------
    ImportError
        If scikit-learn is not installed, saying what to install.
    """
    bunch = _sklearn_datasets("load_breast_cancer").load_breast_cancer()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 handwritten digits data set (1797 examples, 64 pixel features in 0..16, 10 classes).

    Returns
    -------
    X : numpy.ndarray
        ``(1797, 64)`` float64, batch-first.
    y : numpy.ndarray
        ``(1797,)`` int64 labels 0..9.

    Raises
    ------
    ImportError
        If scikit-learn is not installed, saying what to install.
    """
    bunch = _sklearn_datasets("load_digits").load_digits()
    return np.asarray(bunch.data, dtype=np.float64), np.asarray(bunch.target, dtype=np.int64)

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

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import numpy as np

from .rng import RandomLike, resolve_rng

__all__ = [
    "DataLoader",
    "Dataset",
    "Subset",
    "TensorDataset",
    "StandardScaler",
    "load_breast_cancer",
    "load_digits",
    "load_flower",
    "minibatches",
    "random_split",
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


class Dataset:
    """A map-style data set, as PyTorch's: subclass it with ``__getitem__(index)`` returning one
    example and ``__len__``; :class:`DataLoader` batches the examples.

    Examples
    --------
    >>> class Squares(Dataset):
    ...     def __len__(self):
    ...         return 5
    ...     def __getitem__(self, index):
    ...         return float(index), float(index) ** 2
    >>> [y.tolist() for _, y in DataLoader(Squares(), batch_size=2)]
    [[0.0, 1.0], [4.0, 9.0], [16.0]]
    """

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__()")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} has no __len__()")


class TensorDataset(Dataset):
    """Arrays or Tensors of equal length along axis 0, indexed together: example ``i`` is
    ``(X[i], y[i], ...)``.

    Parameters
    ----------
    *tensors : Tensor or array_like
        Batch-first, all with the same number of examples ``m``.

    Raises
    ------
    ValueError
        If their lengths differ (naming the shapes).
    """

    def __init__(self, *tensors: Any) -> None:
        self.tensors = tuple(_values(t) for t in tensors)
        self._length = _check_same_length("TensorDataset", self.tensors)

    def __getitem__(self, index: Any) -> tuple[np.ndarray, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self._length


class Subset(Dataset):
    """The examples of ``dataset`` at ``indices``, in that order.

    Parameters
    ----------
    dataset : Dataset
    indices : sequence of int
    """

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.intp)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int | np.integer):
            return self.dataset[int(self.indices[index])]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(
    dataset: Any, lengths: Sequence[int | float], generator: RandomLike = None
) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping :class:`Subset` s of the given lengths,
    as ``torch.utils.data.random_split`` (fractions summing to 1 are allowed; the rounding
    remainder goes to the first parts one by one).

    Raises
    ------
    ValueError
        If the lengths do not add up to ``len(dataset)`` (or the fractions to 1).
    """
    m = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(n, float) for n in lengths) and math.isclose(sum(lengths), 1.0):
        counts = [int(math.floor(m * fraction)) for fraction in lengths]
        for i in range(m - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(int(n) for n in lengths) != m or any(int(n) < 0 for n in lengths):
        raise ValueError(
            f"random_split: lengths {lengths} must be non-negative and add up to the "
            f"{m} examples (or be fractions adding up to 1)"
        )
    order = resolve_rng(generator).permutation(m)
    parts, start = [], 0
    for n in lengths:
        parts.append(Subset(dataset, order[start : start + int(n)]))
        start += int(n)
    return parts


def _values(x: Any) -> np.ndarray:
    from .tensor import Tensor

    return x.data if isinstance(x, Tensor) else np.asarray(x)


def _collate(examples: list[Any]) -> Any:
    """PyTorch's default collate: stack arrays and numbers into Tensors, field by field."""
    from .tensor import Tensor

    first = examples[0]
    if isinstance(first, tuple | list):
        return tuple(_collate([example[i] for example in examples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _collate([example[key] for example in examples]) for key in first}
    values = [e.data if isinstance(e, Tensor) else e for e in examples]
    if isinstance(first, bool | int | float | np.generic | np.ndarray | Tensor):
        return Tensor(np.stack([np.asarray(v) for v in values]))
    return examples  # strings and other objects: a plain list, as PyTorch


class DataLoader:
    """Minibatches of a data set as Tensors, PyTorch's way: each ``for`` loop is one epoch.

    Accepts a :class:`Dataset`, arrays ``DataLoader(X, y, ...)``, a pair ``DataLoader((X, y),
    ...)`` or one array ``DataLoader(X, ...)``. Arrays and :class:`TensorDataset` are sliced a
    whole batch at a time (no per-example Python work); other data sets are indexed per example
    and collated (numbers and arrays stacked into Tensors, tuples field by field).

    Parameters
    ----------
    dataset : Dataset, array_like, Tensor or tuple of them
        Batch-first (for the course's ``(n_x, m)`` layout pass ``X.T``).
    *more : array_like or Tensor
        Further arrays of the same length (``DataLoader(X, y)``).
    batch_size : int
        Examples per batch (PyTorch's default 1).
    shuffle : bool
        Draw a new order at every epoch (off by default, as PyTorch).
    drop_last : bool
        Drop a last partial batch.
    generator : Generator, RandomState, int or None
        Source of the shuffles; an int makes the whole sequence of epochs reproducible;
        ``None`` draws from NumPy's global state (``tg.manual_seed``/``np.random.seed``).
    rng : same as ``generator``
        This project's older name for it.
    collate_fn : callable, optional
        Makes a batch from a list of examples (default: stack into Tensors, field by field).
    num_workers, pin_memory
        Accepted for PyTorch's code; batches are always made in this process.

    Yields
    ------
    Tensor, or tuple of Tensors
        One Tensor per array (a single array gives plain Tensors).

    Raises
    ------
    ValueError
        For a non-positive ``batch_size`` or arrays of different lengths.

    Examples
    --------
    >>> import numpy as np
    >>> loader = DataLoader(np.arange(10.0).reshape(5, 2), np.arange(5), batch_size=2)
    >>> [tuple(y.tolist()) for x, y in loader]
    [(0, 1), (2, 3), (4,)]
    """

    def __init__(
        self,
        dataset: Any,
        *more: Any,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        generator: RandomLike = None,
        rng: RandomLike = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        num_workers: int = 0,
        pin_memory: bool = False,
    ) -> None:
        # num_workers and pin_memory are accepted for PyTorch's code: the batches here are
        # NumPy slices made in this process, so neither changes what is produced.
        del num_workers, pin_memory
        self.collate_fn = collate_fn
        if generator is not None and rng is not None:
            raise TypeError("DataLoader: give generator= or rng= (the same thing), not both")
        if isinstance(dataset, Dataset):
            if more:
                raise TypeError("DataLoader: pass a Dataset alone, or arrays (X, y, ...)")
            self.dataset = dataset
            self._single = False
        else:
            arrays = tuple(dataset) if isinstance(dataset, tuple | list) and not more else None
            if arrays is not None and all(_is_array_like(a) for a in arrays):
                self._single = False
            else:
                arrays = (dataset, *more)
                self._single = not more
            self.dataset = TensorDataset(*arrays)
        if not isinstance(batch_size, int | np.integer) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        # Resolved once so that successive epochs continue one stream (different shuffles).
        self.generator = resolve_rng(generator if generator is not None else rng)

    @property
    def num_examples(self) -> int:
        """The number of examples in the data set."""
        return len(self.dataset)

    def __iter__(self) -> Iterator[Any]:
        from .tensor import Tensor

        m = len(self.dataset)
        order = self.generator.permutation(m) if self.shuffle else None
        stop = m - m % self.batch_size if self.drop_last else m
        sliceable = isinstance(self.dataset, TensorDataset)
        for start in range(0, stop, self.batch_size):
            index: Any = (
                slice(start, start + self.batch_size)
                if order is None
                else order[start : start + self.batch_size]
            )
            if sliceable and self.collate_fn is None:
                batch = tuple(Tensor(t[index]) for t in self.dataset.tensors)
                yield batch[0] if self._single else batch
            else:
                positions = range(m)[index] if order is None else index
                collate = self.collate_fn or _collate
                yield collate([self.dataset[int(i)] for i in positions])

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __repr__(self) -> str:
        return (
            f"DataLoader(num_examples={len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def _is_array_like(value: Any) -> bool:
    from .tensor import Tensor

    return isinstance(value, np.ndarray | Tensor) or (
        type(value).__module__.startswith("torch") and hasattr(value, "numpy")
    )


def _sklearn(function: str, module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(f"sklearn.{module}")
    except ImportError as error:
        raise ImportError(
            f"tinygrad_dl.data.{function} uses scikit-learn: {_SKLEARN_HINT}"
        ) from error


def _random_state(rng: RandomLike) -> Any:
    """scikit-learn's ``random_state`` for our ``rng=``: an int or a RandomState as they are; a
    Generator (which scikit-learn does not take) draws the seed."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**31 - 1))
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        return int(rng)
    return resolve_rng(rng)  # a RandomState, NumPy's global one for None; TypeError otherwise


def train_test_split(
    *arrays: Any,
    test_size: float | int = 0.25,
    shuffle: bool = True,
    stratify: np.ndarray | None = None,
    rng: RandomLike = None,
    layout: Literal["batch", "course"] = "batch",
) -> list[np.ndarray]:
    """Split arrays into a training and a test part: scikit-learn's ``train_test_split``.

    Parameters
    ----------
    *arrays : array_like
        All with the same number of examples ``m``.
    test_size : float or int
        A fraction in ``(0, 1)`` of the examples (rounded up) or a count in ``[1, m - 1]``.
    shuffle : bool
        Shuffle before splitting; without it the last examples form the test part.
    stratify : array_like or None
        Class labels: each class keeps its proportion in both parts (needs ``shuffle``).
    rng : Generator, RandomState, int or None
        Source of the shuffle (scikit-learn's ``random_state``).
    layout : {"batch", "course"}
        ``"batch"``: examples along axis 0. ``"course"``: the course's ``(n_x, m)`` and
        ``(1, m)`` arrays, examples along axis 1 (the parts keep that layout).

    Returns
    -------
    list of numpy.ndarray
        ``[a_train, a_test, b_train, b_test, ...]``.

    Raises
    ------
    ValueError
        If the arrays differ in length or ``test_size`` leaves either part empty.
    ImportError
        Without scikit-learn, saying what to install.
    """
    if layout not in ("batch", "course"):
        raise ValueError(f"train_test_split: layout must be 'batch' or 'course', got {layout!r}")
    arrays = tuple(np.asarray(a) for a in arrays)
    if layout == "course":
        arrays = tuple(a.T for a in arrays)
        if stratify is not None:
            stratify = np.asarray(stratify).T
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
    if stratify is not None:
        stratify = np.asarray(stratify)
        if stratify.shape[:1] != (m,):
            raise ValueError(
                f"train_test_split: stratify must have {m} labels along the example axis, "
                f"got shape {stratify.shape}"
            )
        stratify = stratify.reshape(m, -1)[:, 0]
    split = _sklearn("train_test_split", "model_selection").train_test_split
    parts = split(
        *arrays,
        test_size=n_test,
        shuffle=shuffle,
        stratify=stratify,
        random_state=_random_state(rng) if shuffle else None,
    )
    if layout == "course":
        parts = [np.ascontiguousarray(part.T) for part in parts]
    return parts


class StandardScaler:
    """Standardise features to zero mean and unit variance, with statistics from training data:
    scikit-learn's ``StandardScaler``, with the course's layout as an option.

    Fit on the training set only, then transform both sets with the same ``mean_`` and
    ``scale_``: the test set must not leak into the statistics. A feature that is constant in the
    training data gets ``scale_ = 1`` (it is centred, not divided by zero).

    Parameters
    ----------
    axis : int
        The example axis: 0 for batch-first ``(m, n_x)`` data, 1 for the course's ``(n_x, m)``.

    Attributes
    ----------
    mean_, scale_ : numpy.ndarray
        Shaped to broadcast against the data (``(1, n_x)``, or ``(n_x, 1)`` with ``axis=1``).
    """

    def __init__(self, axis: int = 0) -> None:
        if axis not in (0, 1):
            raise ValueError(f"StandardScaler: axis must be 0 or 1, got {axis!r}")
        self.axis = axis
        self.mean_: np.ndarray | None = None
        self.scale_: np.ndarray | None = None
        self._scaler: Any = None

    def _batch_first(self, X: Any, method: str) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2:
            raise ValueError(
                f"StandardScaler.{method}: expected 2-D data with examples along axis "
                f"{self.axis}, got shape {X.shape}"
            )
        return X.T if self.axis == 1 else X

    def _fitted(self, method: str) -> Any:
        if self._scaler is None:
            raise RuntimeError(f"StandardScaler.{method}: call fit() first")
        return self._scaler

    def _check_features(self, X: np.ndarray, method: str) -> None:
        expected = self._fitted(method).n_features_in_
        if X.shape[1] != expected:
            raise ValueError(
                f"StandardScaler.{method}: fitted on {expected} features along axis "
                f"{1 - self.axis}, got shape {X.T.shape if self.axis == 1 else X.shape}"
            )

    def fit(self, X: Any) -> StandardScaler:
        """Compute ``mean_`` and ``scale_`` (population standard deviation) of ``X``.

        Returns
        -------
        StandardScaler
            ``self``.

        Raises
        ------
        ValueError
            If ``X`` is not 2-D or has no examples.
        ImportError
            Without scikit-learn, saying what to install.
        """
        data = self._batch_first(X, "fit")
        if data.shape[0] == 0:
            raise ValueError(f"StandardScaler.fit: no examples in data of shape {np.shape(X)}")
        self._scaler = _sklearn("StandardScaler", "preprocessing").StandardScaler().fit(data)
        shape = (1, -1) if self.axis == 0 else (-1, 1)
        self.mean_ = self._scaler.mean_.reshape(shape)
        self.scale_ = self._scaler.scale_.reshape(shape)
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
        self._fitted("transform")
        data = self._batch_first(X, "transform")
        self._check_features(data, "transform")
        out = self._scaler.transform(data)
        return out.T if self.axis == 1 else out

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Undo :meth:`transform`: ``X * scale_ + mean_``."""
        self._fitted("inverse_transform")
        data = self._batch_first(X, "inverse_transform")
        self._check_features(data, "inverse_transform")
        out = self._scaler.inverse_transform(data)
        return out.T if self.axis == 1 else out


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

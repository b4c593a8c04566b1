"""Tests for tinygrad_dl.data: the flower data, minibatches, splits, standardisation, loaders."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.data import (
    DataLoader,
    Dataset,
    StandardScaler,
    TensorDataset,
    load_breast_cancer,
    load_digits,
    load_flower,
    minibatches,
    random_split,
    resolve_rng,
    train_test_split,
)


def _course_planar_dataset():
    """The course's planar_utils.load_planar_dataset, written as the course writes it."""
    np.random.seed(1)
    m, N, a = 400, 200, 4
    X = np.zeros((m, 2))
    Y = np.zeros((m, 1), dtype="uint8")
    for j in range(2):
        ix = range(N * j, N * (j + 1))
        t = np.linspace(j * 3.12, (j + 1) * 3.12, N) + np.random.randn(N) * 0.2
        r = a * np.sin(4 * t) + np.random.randn(N) * 0.2
        X[ix] = np.c_[r * np.sin(t), r * np.cos(t)]
        Y[ix] = j
    return X.T, Y.T


# -- flower ---------------------------------------------------------------------------------


def test_flower_reproduces_the_course_data_set_exactly():
    saved = np.random.get_state()
    try:
        expected_X, expected_Y = _course_planar_dataset()
    finally:
        np.random.set_state(saved)
    X, Y = load_flower()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    assert X.dtype == np.float64 and Y.dtype == np.uint8
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(Y, expected_Y)


def test_flower_has_two_balanced_classes():
    X, Y = load_flower(m=100, seed=3)
    assert set(np.unique(Y)) == {0, 1}
    assert int(Y.sum()) == 50


def test_flower_is_seeded_and_leaves_global_state_alone():
    before = np.random.get_state()[1].copy()
    X1, _ = load_flower(seed=5)
    X2, _ = load_flower(seed=5)
    X3, _ = load_flower(seed=6)
    np.testing.assert_array_equal(X1, X2)
    assert not np.allclose(X1, X3)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_flower_with_seed_none_follows_numpy_global_seed():
    np.random.seed(11)
    X1, _ = load_flower(seed=None)
    np.random.seed(11)
    X2, _ = load_flower(seed=None)
    np.testing.assert_array_equal(X1, X2)


def test_flower_accepts_a_generator():
    X1, _ = load_flower(rng=np.random.default_rng(0))
    X2, _ = load_flower(rng=np.random.default_rng(0))
    np.testing.assert_array_equal(X1, X2)


def test_flower_batch_layout_is_the_transpose_of_the_course_layout():
    X, Y = load_flower()
    Xb, Yb = load_flower(layout="batch")
    np.testing.assert_array_equal(Xb, X.T)
    np.testing.assert_array_equal(Yb, Y.T)


@pytest.mark.parametrize("m", [0, 1, 3, 401])
def test_flower_rejects_odd_or_tiny_sizes(m):
    with pytest.raises(ValueError, match="load_flower: m must be an even int"):
        load_flower(m=m)


def test_flower_rejects_unknown_layout():
    with pytest.raises(ValueError, match="layout"):
        load_flower(layout="rows")


def test_resolve_rng_rejects_floats():
    with pytest.raises(TypeError, match="rng: expected"):
        resolve_rng(1.5)


# -- minibatches ----------------------------------------------------------------------------


@given(
    m=st.integers(1, 40),
    batch_size=st.integers(1, 50),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_minibatches_cover_each_example_at_most_once_and_stay_aligned(
    m, batch_size, shuffle, drop_last, seed
):
    X = np.arange(m * 3, dtype=float).reshape(m, 3)
    y = np.arange(m)
    batches = list(
        minibatches(X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, rng=seed)
    )
    seen = np.concatenate([yb for _, yb in batches]) if batches else np.array([], dtype=int)
    # Pairs stay aligned: row i of X goes with label i.
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], 3 * yb)
    assert len(np.unique(seen)) == len(seen)
    sizes = [len(yb) for _, yb in batches]
    if drop_last:
        assert all(size == batch_size for size in sizes)
        assert len(seen) == m - m % batch_size
    else:
        assert sorted(seen.tolist()) == list(range(m))
        assert all(size == batch_size for size in sizes[:-1])
    if not shuffle:
        np.testing.assert_array_equal(seen, np.arange(len(seen)))


def test_minibatches_shuffle_is_reproducible_and_actually_shuffles():
    y = np.arange(100)
    first = np.concatenate([b for (b,) in minibatches(y, batch_size=7, rng=1)])
    again = np.concatenate([b for (b,) in minibatches(y, batch_size=7, rng=1)])
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, y)


def test_minibatches_reject_mismatched_lengths_naming_shapes():
    with pytest.raises(ValueError, match=r"\(3, 2\), \(4,\)"):
        list(minibatches(np.zeros((3, 2)), np.zeros(4), batch_size=2))


def test_minibatches_reject_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size"):
        list(minibatches(np.zeros(3), batch_size=0))


def test_dataloader_reshuffles_every_epoch_and_counts_batches():
    loader = DataLoader(np.arange(10.0), np.arange(10), batch_size=4, shuffle=True, rng=0)
    assert len(loader) == 3
    epoch1 = np.concatenate([y for _, y in loader])
    epoch2 = np.concatenate([y for _, y in loader])
    assert sorted(epoch1) == sorted(epoch2) == list(range(10))
    assert not np.array_equal(epoch1, epoch2)
    assert len(DataLoader(np.arange(10), batch_size=4, drop_last=True)) == 2


# -- train/test split -----------------------------------------------------------------------


@given(m=st.integers(2, 60), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 1000))
def test_train_test_split_partitions_the_examples(m, fraction, seed):
    X = np.arange(m * 2).reshape(m, 2)
    y = np.arange(m)
    n_test = int(np.ceil(fraction * m))
    if not 1 <= n_test <= m - 1:
        with pytest.raises(ValueError, match="empty part"):
            train_test_split(X, y, test_size=fraction, rng=seed)
        return
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=fraction, rng=seed)
    assert len(y_test) == n_test and len(y_train) == m - n_test
    assert sorted(np.concatenate([y_train, y_test]).tolist()) == list(range(m))
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)


def test_train_test_split_stratify_keeps_class_proportions():
    y = np.array([0] * 80 + [1] * 20)
    _, y_test = train_test_split(y, test_size=0.25, stratify=y, rng=0)
    assert len(y_test) == 25
    assert int((y_test == 1).sum()) == 5


def test_train_test_split_without_shuffle_takes_the_last_examples():
    train, test = train_test_split(np.arange(10), test_size=3, shuffle=False)
    np.testing.assert_array_equal(test, [7, 8, 9])
    np.testing.assert_array_equal(train, np.arange(7))


def test_train_test_split_rejects_bad_test_size():
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.arange(10), test_size=1.5)


# -- standardisation ------------------------------------------------------------------------


def test_standard_scaler_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(200, 4))
    test = rng.normal(-2.0, 1.0, size=(50, 4))
    scaler = StandardScaler().fit(train)
    train_std = scaler.transform(train)
    np.testing.assert_allclose(train_std.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(train_std.std(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(scaler.transform(test), (test - train.mean(0)) / train.std(0))
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(test)), test)


def test_standard_scaler_course_layout_standardises_each_feature_row():
    X = np.array([[1.0, 2.0, 3.0, 4.0], [10.0, 10.0, 30.0, 30.0]])
    out = StandardScaler(axis=1).fit_transform(X)
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=1), 1.0)


def test_standard_scaler_constant_feature_is_centred_not_divided_by_zero():
    X = np.array([[1.0, 7.0], [2.0, 7.0], [3.0, 7.0]])
    out = StandardScaler().fit_transform(X)
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out[:, 1], 0.0)


def test_standard_scaler_errors_are_clear():
    with pytest.raises(RuntimeError, match="call fit"):
        StandardScaler().transform(np.zeros((2, 2)))
    scaler = StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"fitted on 2 features.*\(3, 5\)"):
        scaler.transform(np.zeros((3, 5)))


# -- scikit-learn data sets -----------------------------------------------------------------


def test_real_data_sets_have_the_documented_shapes():
    pytest.importorskip("sklearn", reason="scikit-learn (extra 'data') not installed")
    X, y = load_breast_cancer()
    assert X.shape == (569, 30) and y.shape == (569,) and set(np.unique(y)) == {0, 1}
    X, y = load_digits()
    assert X.shape == (1797, 64) and set(np.unique(y)) == set(range(10))
    assert X.dtype == np.float64 and y.dtype == np.int64


@pytest.mark.parametrize("loader", [load_breast_cancer, load_digits])
def test_missing_sklearn_says_what_to_install(monkeypatch, loader):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"pip install 'tinygrad-dl\[data\]'"):
        loader()


def test_importing_data_module_imports_no_optional_package():
    code = (
        "import sys, tinygrad_dl.data; "
        "bad = [m for m in ('sklearn', 'matplotlib', 'tqdm', 'torch') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- Dataset, TensorDataset, DataLoader as PyTorch's -----------------------------------------


def _torch_batches(torch_loader):
    return [[t.numpy() for t in batch] for batch in torch_loader]


@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (3, False), (3, True), (10, False)])
def test_dataloader_batches_equal_torchs_in_order(batch_size, drop_last):
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    X, y = np.arange(14.0).reshape(7, 2), np.arange(7)
    ours = DataLoader(X, y, batch_size=batch_size, drop_last=drop_last)
    theirs = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=batch_size,
        drop_last=drop_last,
    )
    assert len(ours) == len(theirs)
    got = [[t.data for t in batch] for batch in ours]
    expected = _torch_batches(theirs)
    assert len(got) == len(expected)
    for (gx, gy), (ex, ey) in zip(got, expected):
        np.testing.assert_array_equal(gx, ex)
        np.testing.assert_array_equal(gy, ey)


def test_dataloader_accepts_a_dataset_a_pair_or_one_array_and_yields_tensors():
    X, y = np.arange(12.0).reshape(6, 2), np.arange(6)
    for loader in (
        DataLoader(X, y, batch_size=4),
        DataLoader((X, y), batch_size=4),
        DataLoader(TensorDataset(X, tg.Tensor(y)), batch_size=4),
    ):
        xb, yb = next(iter(loader))
        assert isinstance(xb, tg.Tensor) and isinstance(yb, tg.Tensor)
        assert xb.shape == (4, 2) and yb.dtype == y.dtype and not xb.requires_grad
    single = list(DataLoader(X, batch_size=4))
    assert isinstance(single[0], tg.Tensor) and [b.shape for b in single] == [(4, 2), (2, 2)]


def test_dataloader_collates_a_custom_dataset_like_torch():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")

    class Ours(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(3, float(i)), i, {"twice": 2.0 * i}

    class Theirs(torch.utils.data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return torch.full((3,), float(i), dtype=torch.float64), i, {"twice": 2.0 * i}

    for (x, i, d), (tx, ti, td) in zip(
        DataLoader(Ours(), batch_size=2), torch.utils.data.DataLoader(Theirs(), batch_size=2)
    ):
        np.testing.assert_array_equal(x.data, tx.numpy())
        np.testing.assert_array_equal(i.data, ti.numpy())
        np.testing.assert_array_equal(d["twice"].data, td["twice"].numpy())
        assert i.dtype == np.int64 and d["twice"].dtype == np.float64


def test_dataloader_shuffle_is_a_permutation_reproducible_by_generator():
    X = np.arange(20)

    def epoch(loader):
        return np.concatenate([b.data for b in loader])

    a, b = (
        DataLoader(X, batch_size=6, shuffle=True, generator=5),
        DataLoader(X, batch_size=6, shuffle=True, generator=5),
    )
    first = epoch(a)
    np.testing.assert_array_equal(first, epoch(b))
    assert sorted(first) == list(range(20)) and not np.array_equal(first, X)
    np.testing.assert_array_equal(epoch(DataLoader(X, batch_size=6)), X)  # no shuffle by default


def test_dataloader_errors_are_clear():
    with pytest.raises(ValueError, match=r"same number of examples.*\(3, 2\), \(4,\)"):
        DataLoader(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(np.zeros(3), batch_size=0)
    with pytest.raises(TypeError, match="generator= or rng="):
        DataLoader(np.zeros(3), generator=1, rng=1)


def test_train_test_split_course_layout_splits_columns():
    X = np.arange(20.0).reshape(2, 10)
    Y = (np.arange(10) % 2).reshape(1, 10)
    X_train, X_test, Y_train, Y_test = train_test_split(X, Y, test_size=3, rng=0, layout="course")
    assert X_train.shape == (2, 7) and X_test.shape == (2, 3) and Y_test.shape == (1, 3)
    np.testing.assert_array_equal(X_test[1] - X_test[0], 10.0)  # columns stayed whole
    np.testing.assert_array_equal(Y_test[0], X_test[0] % 2)


def test_train_test_split_and_scaler_agree_with_scikit_learn():
    from sklearn import model_selection, preprocessing

    X, y = np.random.default_rng(0).standard_normal((30, 3)), np.arange(30) % 3
    ours = train_test_split(X, y, test_size=0.3, stratify=y, rng=4)
    theirs = model_selection.train_test_split(X, y, test_size=9, stratify=y, random_state=4)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(
        StandardScaler(axis=1).fit_transform(X.T).T,
        preprocessing.StandardScaler().fit_transform(X),
    )


def test_without_scikit_learn_the_message_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    monkeypatch.setattr("importlib.import_module", lambda name: no_sklearn(name))
    with pytest.raises(ImportError, match=r"pip install 'tinygrad-dl\[data\]'"):
        StandardScaler().fit(np.zeros((3, 2)))
    with pytest.raises(ImportError, match=r"pip install 'tinygrad-dl\[data\]'"):
        train_test_split(np.arange(10))


def test_random_split_partitions_and_rounds_fractions_as_torch():
    data = TensorDataset(np.arange(10.0), np.arange(10))
    parts = random_split(data, [0.34, 0.33, 0.33], generator=0)
    assert [len(p) for p in parts] == [4, 3, 3]  # torch's remainder rule: 3+1, 3, 3... as here
    seen = np.concatenate([[p[i][1] for i in range(len(p))] for p in parts])
    assert sorted(seen.tolist()) == list(range(10))
    first_batch = next(iter(DataLoader(parts[0], batch_size=4)))
    np.testing.assert_array_equal(first_batch[0].data, first_batch[1].data.astype(float))
    with pytest.raises(ValueError, match="add up to the 10 examples"):
        random_split(data, [3, 3])


def test_random_split_lengths_match_torchs():
    torch = pytest.importorskip("torch", reason="torch not installed: no differential test")
    for fractions in ([0.5, 0.5], [0.7, 0.2, 0.1], [0.34, 0.33, 0.33]):
        ours = [len(p) for p in random_split(np.arange(17), fractions, generator=0)]
        theirs = [len(p) for p in torch.utils.data.random_split(range(17), fractions)]
        assert ours == theirs


def test_dataloader_collate_fn_and_torch_only_arguments():
    loader = DataLoader(
        TensorDataset(np.arange(6.0)),
        batch_size=4,
        collate_fn=lambda examples: sum(float(x) for (x,) in examples),
        num_workers=2,
        pin_memory=True,
    )
    assert list(loader) == [6.0, 9.0]

"""Tests for tinygrad_dl.serialization: save/load round trips, no pickle, atomic writes."""

import os
import pickle
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_dl as tg
from tinygrad_dl import nn
from tinygrad_dl.serialization import SerializationError, StateDictError, load, save
from tinygrad_dl.testing import float_arrays, float_dtypes, shapes, tensors


def test_tensor_round_trip_keeps_values_dtype_and_flag(tmp_path):
    for dtype in (np.float64, np.float32):
        t = tg.Tensor(np.arange(6, dtype=dtype).reshape(2, 3) / 7, requires_grad=True)
        save(t, tmp_path / "t.npz")
        back = load(tmp_path / "t.npz")
        assert isinstance(back, tg.Tensor) and back.requires_grad
        assert back.dtype == dtype and back.grad_fn is None
        np.testing.assert_array_equal(back.data, t.data)


def test_nested_structures_round_trip(tmp_path):
    obj = {
        "weights": {"0.weight": np.eye(2), "0.bias": np.zeros(2, dtype=np.float32)},
        "state": {0: {"step": 3, "buffer": np.ones(2)}, 7: {}},
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "name": None}],
        "labels": np.array([1, 2, 3], dtype=np.int64),
        "mask": np.array([True, False]),
        "scalar": np.float32(2.5),
        "zero_d": np.array(4.0),
        "text": "hello",
        "inf": float("inf"),
    }
    save(obj, tmp_path / "obj.npz")
    back = load(tmp_path / "obj.npz")
    assert back["state"][0]["step"] == 3 and 7 in back["state"] and back["state"][7] == {}
    assert back["groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False, "name": None}]
    assert back["weights"]["0.bias"].dtype == np.float32
    np.testing.assert_array_equal(back["weights"]["0.weight"], np.eye(2))
    assert back["labels"].dtype == np.int64 and back["mask"].dtype == bool
    assert back["scalar"] == np.float32(2.5) and type(back["scalar"]) is np.float32
    assert back["zero_d"].shape == () and back["text"] == "hello" and back["inf"] == float("inf")


def test_the_file_is_a_plain_npz_readable_without_pickle(tmp_path):
    save({"w": np.ones(3)}, tmp_path / "plain.npz")
    with np.load(tmp_path / "plain.npz", allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)
    assert zipfile.is_zipfile(tmp_path / "plain.npz")


def test_unsaveable_objects_are_refused_and_nothing_is_written(tmp_path):
    target = tmp_path / "x.npz"
    with pytest.raises(TypeError, match=r"obj\['bad'\] is an array of dtype object"):
        save({"bad": np.array([{}, 1], dtype=object)}, target)
    with pytest.raises(TypeError, match="cannot save set"):
        save({"bad": {1, 2}}, target)
    with pytest.raises(TypeError, match="dict keys must be str or int"):
        save({(1, 2): np.ones(1)}, target)
    assert os.listdir(tmp_path) == []


def test_a_crash_mid_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    target = tmp_path / "model.npz"
    save({"w": np.ones(4)}, target)
    good_bytes = target.read_bytes()

    def crashing_savez(handle, **arrays):
        handle.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(np, "savez", crashing_savez)
    with pytest.raises(KeyboardInterrupt):
        save({"w": np.zeros(4)}, target)
    monkeypatch.undo()
    assert target.read_bytes() == good_bytes
    assert os.listdir(tmp_path) == ["model.npz"]  # the temporary file is gone too
    np.testing.assert_array_equal(load(target)["w"], np.ones(4))


def test_save_replaces_an_existing_file_keeping_its_permissions(tmp_path):
    target = tmp_path / "m.npz"
    save(np.ones(2), target)
    os.chmod(target, 0o640)
    save(np.zeros(2), target)
    assert os.stat(target).st_mode & 0o777 == 0o640
    np.testing.assert_array_equal(load(target), np.zeros(2))


@pytest.mark.parametrize(
    "write, message",
    [
        (lambda p: p.write_text("not an archive at all"), "not a readable tinygrad_dl.save file"),
        (lambda p: np.savez(p, w=np.ones(2)), "plain NumPy archive"),
        (lambda p: np.save(p, np.ones(2)), "single .npy array"),
        (lambda p: p.write_bytes(pickle.dumps({"w": np.ones(2)})), "not a readable"),
    ],
    ids=["text", "plain-npz", "npy", "pickle"],
)
def test_foreign_files_are_clear_errors(tmp_path, write, message):
    path = tmp_path / "foreign.npz"
    write(path)
    if not path.exists():  # np.save/np.savez append their suffix
        next(tmp_path.iterdir()).rename(path)
    with pytest.raises(SerializationError, match=message):
        load(path)


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "t.npz"
    save({"w": np.random.default_rng(0).standard_normal(1000)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(SerializationError, match="not a readable tinygrad_dl.save file"):
        load(path)


def test_a_pickle_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "evil.npz"
    path.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(SerializationError):
        load(path)
    assert not marker.exists()


def test_saving_into_a_missing_folder_names_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder .*nowhere.* does not exist"):
        save(np.ones(2), tmp_path / "nowhere" / "x.npz")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nope.npz")


def test_model_state_dict_round_trip_restores_outputs(tmp_path):
    model = nn.Sequential(nn.Linear(3, 5, rng=0), nn.ReLU(), nn.Linear(5, 2, rng=1))
    save(model.state_dict(), tmp_path / "m.npz")
    fresh = nn.Sequential(nn.Linear(3, 5, rng=7), nn.ReLU(), nn.Linear(5, 2, rng=8))
    fresh.load_state_dict(load(tmp_path / "m.npz"))
    x = np.random.default_rng(0).standard_normal((4, 3))
    np.testing.assert_array_equal(fresh(x).data, model(x).data)


def test_loading_a_file_from_another_architecture_leaves_the_model_untouched(tmp_path):
    save(nn.Sequential(nn.Linear(3, 6, rng=0)).state_dict(), tmp_path / "other.npz")
    model = nn.Sequential(nn.Linear(3, 5, rng=1))
    before = model[0].weight.data.copy()
    with pytest.raises(StateDictError, match=r"'0\.weight': shape \(6, 3\).*\(5, 3\)"):
        model.load_state_dict(load(tmp_path / "other.npz"))
    np.testing.assert_array_equal(model[0].weight.data, before)


def test_load_state_dict_of_a_non_mapping_is_a_type_error():
    with pytest.raises(TypeError, match="expected a dict of arrays"):
        nn.Linear(2, 2).load_state_dict([np.ones(2)])


_leaves = st.one_of(
    float_arrays(shapes(min_dims=0, max_dims=3), dtype=float_dtypes()),
    hnp.arrays(st.sampled_from([np.int64, np.int32, np.bool_]), shapes(min_dims=0, max_dims=2)),
    tensors(shapes(max_dims=2), requires_grad=st.booleans()),
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
)
_keys = st.text(min_size=1, max_size=8) | st.integers(-5, 5)
_trees = st.recursive(
    _leaves,
    lambda children: st.one_of(
        st.dictionaries(_keys, children, max_size=3),
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
    ),
    max_leaves=8,
)


def _assert_same(a, b):
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, tg.Tensor):
        assert a.requires_grad == b.requires_grad
        a, b = a.data, b.data
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            _assert_same(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    else:
        assert a == b


@given(_trees)
def test_any_tree_of_tensors_arrays_and_numbers_round_trips(tree):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "tree.npz")
        save(tree, path)
        _assert_same(tree, load(path))

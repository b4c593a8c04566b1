"""Tests for tinygrad_dl.serialization: save/load round trips, no pickle, atomic writes."""

import os
import pathlib
import pickle
import shutil
import subprocess
import sys
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


# -- save follows the file system's rules ------------------------------------------------------


def _litter(folder):
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


def test_a_write_protected_file_is_refused_as_open_refuses_it_and_left_unchanged(tmp_path):
    target = tmp_path / "m.npz"
    save(np.ones(2), target)
    before = target.read_bytes()
    os.chmod(target, 0o444)
    with pytest.raises(PermissionError, match="Permission denied") as caught:
        save(np.zeros(2), target)
    assert caught.value.filename == os.fspath(target)
    assert target.read_bytes() == before and _litter(tmp_path) == []
    os.chmod(target, 0o644)  # writable again: saved
    save(np.zeros(2), target)
    np.testing.assert_array_equal(load(target), np.zeros(2))


def test_a_read_only_folder_is_refused_for_new_and_existing_files(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    save(np.ones(2), folder / "old.npz")
    before = (folder / "old.npz").read_bytes()
    os.chmod(folder, 0o555)
    try:
        for name in ("old.npz", "new.npz"):
            with pytest.raises(PermissionError, match="folder .* must be writable"):
                save(np.zeros(2), folder / name)
        assert sorted(os.listdir(folder)) == ["old.npz"]
        assert (folder / "old.npz").read_bytes() == before
    finally:
        os.chmod(folder, 0o755)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to setuid")
def test_an_ordinary_user_gets_the_kernels_answer(request):
    # As root the mode bits are the rule; as anyone else os.access asks the kernel, as open does.
    # A file owned by root with mode 0644 is write-protected for user nobody.
    # pytest's tmp_path is private to root; nobody needs a folder it can reach.
    folder = pathlib.Path(tempfile.mkdtemp(prefix="tgdl-nobody-"))
    request.addfinalizer(lambda: shutil.rmtree(folder, ignore_errors=True))
    os.chmod(folder, 0o777)
    target = folder / "root.npz"
    save(np.ones(2), target)
    os.chmod(target, 0o644)
    script = (
        "import os, sys, numpy as np, tinygrad_dl as tg\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "try:\n"
        f"    tg.save(np.zeros(2), {os.fspath(target)!r})\n"
        "except PermissionError as error:\n"
        "    print('REFUSED', error)\n"
        f"tg.save(np.zeros(2), {os.fspath(folder / 'mine.npz')!r})\n"
        "print('SAVED')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert "REFUSED [Errno 13] Permission denied" in result.stdout, result.stdout + result.stderr
    assert "SAVED" in result.stdout, result.stderr
    np.testing.assert_array_equal(load(target), np.ones(2))


def test_a_new_file_gets_the_umask_mode_as_open_gives_it(tmp_path):
    old = os.umask(0o027)
    try:
        save(np.ones(2), tmp_path / "saved.npz")
        with open(tmp_path / "opened.npz", "wb"):
            pass
    finally:
        os.umask(old)
    saved = os.stat(tmp_path / "saved.npz").st_mode & 0o777
    assert saved == os.stat(tmp_path / "opened.npz").st_mode & 0o777 == 0o640


def test_save_writes_through_a_symlink_and_the_link_stays_a_link(tmp_path):
    (tmp_path / "store").mkdir()
    real = tmp_path / "store" / "real.npz"
    save(np.ones(2), real)
    link = tmp_path / "link.npz"
    os.symlink(os.path.relpath(real, tmp_path), link)
    save(np.zeros(3), link)
    assert os.path.islink(link) and os.readlink(link) == os.path.relpath(real, tmp_path)
    np.testing.assert_array_equal(load(real), np.zeros(3))
    # A dangling link is created through, as open(link, "wb") would create its target.
    dangling = tmp_path / "dangling.npz"
    os.symlink("store/later.npz", dangling)
    save(np.ones(1), dangling)
    assert os.path.islink(dangling) and (tmp_path / "store" / "later.npz").is_file()
    assert _litter(tmp_path / "store") == [] and _litter(tmp_path) == []


def test_a_symlink_loop_and_a_folder_are_refused_as_open_refuses_them(tmp_path):
    os.symlink("b", tmp_path / "a")
    os.symlink("a", tmp_path / "b")
    with pytest.raises(OSError) as caught:
        open(tmp_path / "a", "wb")
    with pytest.raises(type(caught.value)):
        save(np.ones(2), tmp_path / "a")
    with pytest.raises(IsADirectoryError):
        save(np.ones(2), tmp_path)
    (tmp_path / "a_file").touch()
    with pytest.raises(NotADirectoryError):
        save(np.ones(2), tmp_path / "a_file" / "x.npz")
    assert _litter(tmp_path) == []


def test_a_fifo_is_written_into_not_replaced(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    import threading

    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    received = []
    reader = threading.Thread(target=lambda: received.append(pipe.read_bytes()))
    reader.start()
    save({"w": np.ones(2)}, pipe)
    reader.join(timeout=30)
    assert stat_is_fifo(pipe) and received and received[0].startswith(b"PK")


def stat_is_fifo(path):
    import stat

    return stat.S_ISFIFO(os.lstat(path).st_mode)


def test_a_long_file_name_is_saved(tmp_path):
    target = tmp_path / ("m" * 240 + ".npz")
    save(np.ones(2), target)
    np.testing.assert_array_equal(load(target), np.ones(2))


def test_a_structure_nested_too_deep_or_containing_itself_is_a_clear_error(tmp_path):
    deep = []
    for _ in range(tg.serialization.MAX_DEPTH + 1):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than 100 levels deep"):
        save(deep, tmp_path / "deep.npz")
    cycle = {"w": np.ones(1)}
    cycle["self"] = [cycle]
    with pytest.raises(ValueError, match=r"obj\['self'\]\[0\] contains itself"):
        save(cycle, tmp_path / "cycle.npz")
    shared = np.ones(2)  # the same object twice is no cycle
    save({"a": [shared], "b": [shared]}, tmp_path / "shared.npz")
    assert sorted(os.listdir(tmp_path)) == ["shared.npz"]


_KILLED_SAVE = """
import sys, numpy as np
import tinygrad_dl as tg

def slow_savez(handle, **arrays):
    handle.write(b"PK\\x03\\x04" + bytes(1 << 20))  # half an archive on disk ...
    handle.flush()
    print("WRITING", flush=True)
    import time
    time.sleep(60)  # ... when SIGKILL arrives

np.savez = slow_savez
tg.save({"w": np.zeros(4)}, sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="SIGKILL and flock are POSIX")
def test_a_save_killed_mid_write_keeps_the_old_file_and_the_next_save_removes_its_litter(
    tmp_path,
):
    import signal

    target = tmp_path / "model.npz"
    save({"w": np.ones(4)}, target)
    good = target.read_bytes()
    for _ in range(3):
        child = subprocess.Popen(
            [sys.executable, "-c", _KILLED_SAVE, os.fspath(target)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        assert child.stdout.readline().strip() == "WRITING"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
        assert target.read_bytes() == good
    # Each killed save removed the one before it; the last one's temporary file is left.
    litter = _litter(tmp_path)
    assert len(litter) == 1 and litter[0].startswith(".model.npz.tgdl-"), litter
    save({"w": np.full(4, 2.0)}, target)
    assert os.listdir(tmp_path) == ["model.npz"]
    np.testing.assert_array_equal(load(target)["w"], np.full(4, 2.0))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="flock is POSIX")
def test_temporary_files_of_live_writers_are_left_alone(tmp_path):
    import fcntl

    # Named after a live process (ours): a save in progress, not litter.
    mine = tmp_path / f".model.npz.tgdl-{os.getpid()}-abc123.tmp"
    mine.write_bytes(b"in progress")
    # Named after a dead process but locked: a writer in another PID namespace.
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    locked = tmp_path / f".model.npz.tgdl-{int(finished.stdout)}-def456.tmp"
    locked.write_bytes(b"in progress elsewhere")
    with open(locked, "rb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        save(np.ones(1), tmp_path / "model.npz")
        assert mine.exists() and locked.exists()
    save(np.ones(1), tmp_path / "model.npz")  # the lock is gone and the process too: stale
    assert mine.exists() and not locked.exists()


def test_open_binary_files_save_and_load_as_numpy_and_torch_allow():
    import io

    buffer = io.BytesIO()
    buffer.write(b"leading bytes")  # read and written from the current position
    save({"w": np.arange(3.0)}, buffer)
    buffer.seek(len(b"leading bytes"))
    np.testing.assert_array_equal(load(buffer)["w"], np.arange(3.0))
    with pytest.raises(SerializationError, match="<BytesIO>.*not a zip archive"):
        load(io.BytesIO(b"plain text"))
    with pytest.raises(TypeError, match="opened in text mode; open it with 'rb'"):
        load(io.StringIO("text"))


def test_a_pipe_is_read_up_to_max_bytes(tmp_path):
    import io

    class Pipe(io.RawIOBase):  # not seekable, like sys.stdin.buffer
        def __init__(self, data):
            self.stream = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            return self.stream.readinto(buffer)

    save({"w": np.ones(1000)}, tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    np.testing.assert_array_equal(load(io.BufferedReader(Pipe(data)))["w"], np.ones(1000))
    with pytest.raises(SerializationError, match="longer than max_bytes=0"):
        load(io.BufferedReader(Pipe(data + bytes(2 << 20))), max_bytes=0)


def test_empty_paths_and_trailing_slashes_fail_as_open_fails(tmp_path):
    for bad in ("", os.fspath(tmp_path / "m.npz") + os.sep):
        with pytest.raises(OSError) as expected:
            open(bad, "wb")
        with pytest.raises(type(expected.value)):
            save(np.ones(1), bad)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_replacing_another_users_file_keeps_its_owner_and_mode(tmp_path):
    target = tmp_path / "theirs.npz"
    save(np.ones(1), target)
    os.chown(target, 65534, 65534)
    os.chmod(target, 0o664)
    save(np.zeros(1), target)
    info = os.stat(target)
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (65534, 65534, 0o664)


def test_serialization_error_is_catchable_as_tg_serialization_error(tmp_path):
    (tmp_path / "x.npz").write_text("not ours")
    with pytest.raises(tg.SerializationError, match="not a zip archive"):
        tg.load(tmp_path / "x.npz")
    assert issubclass(tg.SerializationError, ValueError)  # what np.load raised before

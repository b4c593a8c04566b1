"""tg.load on hostile and damaged files: identical data or SerializationError, nothing else.

Each crafted file is a real zip archive, built with ``zipfile`` so that its CRCs are right and the
check under test (not the CRC) is the one that must refuse it.
"""

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_dl as tg
from tinygrad_dl.serialization import META_KEY, SerializationError, load, save

_META_NAME = META_KEY + ".npy"


def _npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


def _npy_with_header(header, data=b""):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def _meta(root):
    return _npy(np.array(json.dumps({"format": "tinygrad_dl", "version": 1, "root": root})))


def _archive(path, members, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _assert_refused(path, match, **kwargs):
    with pytest.raises(SerializationError, match=match) as caught:
        load(path, **kwargs)
    assert os.fspath(path) in str(caught.value)  # the message names the file
    return str(caught.value)


_ONE_ARRAY = {"t": "array", "key": "a0"}


def test_a_header_far_larger_than_its_member_is_refused_before_allocating(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 1_000_000)}
    path = _archive(
        tmp_path / "huge.npz",
        {"a0.npy": _npy_with_header(header, b"\0" * 80), _META_NAME: _meta(_ONE_ARRAY)},
    )
    message = _assert_refused(path, r"shape \(100000, 1000000\) of float64")
    assert "745 GiB" in message and "holds 80 bytes" in message


def _zeros_bomb(path, nbytes):
    """A legitimate deflated member holding ``nbytes`` of zeros (about 1000-fold smaller)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (nbytes // 8,)}
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("a0.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            zeros = bytes(1 << 20)
            for _ in range(nbytes >> 20):
                member.write(zeros)
        archive.writestr(_META_NAME, _meta(_ONE_ARRAY))
    return path


def test_a_compressed_array_of_zeros_loads_and_max_bytes_refuses_it_before_inflating(tmp_path):
    path = _zeros_bomb(tmp_path / "zeros.npz", 64 << 20)
    assert os.path.getsize(path) < (64 << 20) // 500  # the file is ~1000 times smaller
    loaded = load(path)
    assert loaded.shape == (8 << 20,) and not loaded.any()
    message = _assert_refused(path, "more than max_bytes=1,048,576", max_bytes=1 << 20)
    assert "(0.0625 GiB)" in message  # how much the file asks for


def _patch_central_directory(path, name, **fields):
    """Rewrite fields of ``name``'s central directory record (flags, method, uncompressed size)."""
    data = bytearray(path.read_bytes())
    offsets = {"flags": (8, 2), "method": (10, 2), "size": (24, 4)}
    position = data.index(b"PK\x01\x02")
    while data[position + 46 : position + 46 + len(name)] != name.encode():
        position = data.index(b"PK\x01\x02", position + 4)
    for field, value in fields.items():
        offset, width = offsets[field]
        data[position + offset : position + offset + width] = value.to_bytes(width, "little")
    path.write_bytes(bytes(data))
    return path


def test_a_member_lying_about_its_uncompressed_size_is_refused(tmp_path):
    array = np.zeros(5000)
    path = _archive(
        tmp_path / "lie.npz",
        {"a0.npy": _npy(array), _META_NAME: _meta(_ONE_ARRAY)},
        zipfile.ZIP_DEFLATED,
    )
    _patch_central_directory(path, "a0.npy", size=2**32 - 2)  # 4 GiB from a few hundred bytes
    _assert_refused(path, "more than deflate can")
    _patch_central_directory(path, "a0.npy", size=1000)  # smaller: reading stops at 1000 bytes
    _assert_refused(path, "not a readable")


@pytest.mark.parametrize("method", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA, 99])
def test_unsupported_compression_methods_are_refused(tmp_path, method):
    members = {"a0.npy": _npy(np.ones(3)), _META_NAME: _meta(_ONE_ARRAY)}
    if method == 99:  # no library knows it: zipfile would raise NotImplementedError
        path = _patch_central_directory(_archive(tmp_path / "m.npz", members), "a0.npy", method=99)
    else:
        path = _archive(tmp_path / "m.npz", members, method)
    _assert_refused(path, f"compression method {method}")


def test_encrypted_and_overlapping_members_are_refused(tmp_path):
    members = {"a0.npy": _npy(np.ones(3)), _META_NAME: _meta(_ONE_ARRAY)}
    path = _patch_central_directory(_archive(tmp_path / "e.npz", members), "a0.npy", flags=1)
    _assert_refused(path, "encrypted")
    # Point the second member's directory entry at the first one's data.
    path = _archive(tmp_path / "o.npz", members)
    data = bytearray(path.read_bytes())
    second = data.rindex(b"PK\x01\x02")
    data[second + 42 : second + 46] = (0).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    _assert_refused(path, "overlapping|do not fit")


def test_deeply_nested_metadata_is_refused_not_a_recursion_error(tmp_path):
    deep = {"t": "list", "items": []}
    node = deep
    for _ in range(150):
        node["items"].append({"t": "list", "items": []})
        node = node["items"][0]
    _assert_refused(_archive(tmp_path / "d.npz", {_META_NAME: _meta(deep)}), "nested more than 100")
    text = '{"format": "tinygrad_dl", "version": 1, "root": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = _archive(tmp_path / "j.npz", {_META_NAME: _npy(np.array(text))})
    _assert_refused(path, "nested too deeply")


def test_object_arrays_are_refused_and_never_unpickled(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = _archive(
        tmp_path / "obj.npz",
        {"a0.npy": _npy(np.array([Evil()], dtype=object)), _META_NAME: _meta(_ONE_ARRAY)},
    )
    _assert_refused(path, "dtype object, which needs pickle")
    assert not marker.exists()


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "the file is empty"),
        (b"hello, world\n" * 20, "not a zip archive"),
        (bytes(range(256)) * 4, "not a zip archive"),
        (b"PK\x03\x04" + bytes(200), "not a readable"),
    ],
    ids=["empty", "text", "binary", "zip-magic-only"],
)
def test_text_random_and_empty_files_get_our_message_not_numpys(tmp_path, content, match):
    path = tmp_path / "f.npz"
    path.write_bytes(content)
    message = _assert_refused(path, match)
    assert "allow_pickle" not in message


def test_a_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe")
    _assert_refused(tmp_path / "pipe", "not a regular file")


def test_max_bytes_must_be_a_size():
    with pytest.raises(ValueError, match="max_bytes must be a non-negative int or None"):
        load("anything.npz", max_bytes=-1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_an_allocation_that_fails_is_a_serialization_error_naming_the_size(tmp_path):
    # A legitimate 512 MiB array of zeros in a file of half a megabyte, loaded by a process that
    # may not grow by more than 256 MiB: the allocation fails, and says how much was asked.
    path = _zeros_bomb(tmp_path / "big.npz", 512 << 20)
    script = textwrap.dedent(
        f"""
        import resource
        import tinygrad_dl as tg
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * resource.getpagesize()
        resource.setrlimit(resource.RLIMIT_AS, (used + (256 << 20), resource.RLIM_INFINITY))
        try:
            tg.load({os.fspath(path)!r}, max_bytes=None)
        except tg.serialization.SerializationError as error:
            print("REFUSED", error)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "REFUSED" in result.stdout, result.stdout + result.stderr
    assert "asks for 536,870,912 bytes (0.5 GiB)" in result.stdout, result.stdout


# -- fuzzing: damaged copies of a real file --------------------------------------------------

_STATE = {
    "0.weight": np.arange(12, dtype=np.float32).reshape(3, 4) / 7,
    "0.bias": np.array([1.5, -2.0, 0.25]),
    "step": 3,
    "names": ("w", "b"),
}


def _same(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.fixture(scope="module")
def good_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "good.npz"
    save(_STATE, path)
    return path.read_bytes()


def _load_bytes(folder, data):
    path = os.path.join(folder, "damaged.npz")
    with open(path, "wb") as handle:
        handle.write(data)
    try:
        loaded = load(path)
    except SerializationError:
        return "refused"
    assert _same(_STATE, loaded), f"load returned different data: {loaded!r}"
    return "identical"


def test_every_truncation_and_a_bit_flip_in_every_byte_are_refused_or_harmless(good_file, tmp_path):
    outcomes = {"refused": 0, "identical": 0}
    for length in range(len(good_file)):
        assert _load_bytes(tmp_path, good_file[:length]) == "refused", length
    for position in range(len(good_file)):
        damaged = bytearray(good_file)
        damaged[position] ^= 1 << (position % 8)  # one bit per byte keeps it under a second
        outcomes[_load_bytes(tmp_path, bytes(damaged))] += 1
    # Flips in timestamps and spare fields are harmless; everything else is caught.
    assert outcomes["refused"] > 0.8 * sum(outcomes.values()), outcomes
    assert outcomes["identical"] > 0, outcomes  # and the harmless ones really load


@given(data=st.data())
def test_random_damage_is_refused_or_harmless(good_file, tmp_path_factory, data):
    damaged = bytearray(good_file)
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        position = data.draw(st.integers(0, len(damaged) - 1), label="position")
        kind = data.draw(st.sampled_from(["flip", "overwrite", "insert", "delete"]), label="kind")
        if kind == "flip":
            damaged[position] ^= 1 << data.draw(st.integers(0, 7))
        elif kind == "overwrite":
            value = data.draw(st.binary(min_size=1, max_size=8))
            damaged[position : position + len(value)] = value
        elif kind == "insert":
            damaged[position:position] = data.draw(st.binary(min_size=1, max_size=8))
        else:
            del damaged[position : position + data.draw(st.integers(1, 8))]
    outcome = _load_bytes(tmp_path_factory.mktemp("random"), bytes(damaged))
    assert outcome in ("refused", "identical")  # any other exception escapes and fails


_header_edits = st.fixed_dictionaries(
    {
        "descr": st.sampled_from(["<f8", ">f8", "<f4", "|u1", "<i8", "|b1", "<U3", "|V8", "<c16"]),
        "fortran_order": st.booleans(),
        "shape": st.lists(st.integers(0, 2**40), max_size=4).map(tuple),
    }
)


@given(header=_header_edits)
def test_edited_array_headers_with_valid_crcs_are_refused_or_read_exactly(tmp_path_factory, header):
    array = np.arange(6, dtype=np.float64).reshape(2, 3)
    folder = tmp_path_factory.mktemp("header")
    path = _archive(
        folder / "h.npz",
        {"a0.npy": _npy_with_header(header, array.tobytes()), _META_NAME: _meta(_ONE_ARRAY)},
    )
    try:
        loaded = load(path)
    except SerializationError:
        dtype = np.dtype(header["descr"])
        assert int(np.prod(header["shape"], dtype=object)) * dtype.itemsize != array.nbytes
        return
    # Accepted: then it is exactly the 48 bytes reinterpreted as the header says.
    dtype = np.dtype(header["descr"])
    order = "F" if header["fortran_order"] else "C"
    expected = np.frombuffer(array.tobytes(), dtype=dtype).reshape(header["shape"], order=order)
    assert loaded.dtype == dtype and loaded.shape == tuple(header["shape"])
    assert loaded.tobytes(order="A") == expected.tobytes(order="A")


def test_damaged_tensor_files_never_escape_as_other_errors(tmp_path):
    path = tmp_path / "t.npz"
    save(tg.Tensor(np.ones((2, 2)), requires_grad=True), path)
    data = path.read_bytes()
    path.write_bytes(data[:-1])
    _assert_refused(path, "not a readable")

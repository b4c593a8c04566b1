"""Saving and loading tensors, arrays and state dicts as ``.npz`` files, without pickle.

``save(obj, path)`` stores every array of ``obj`` as an ``.npz`` member and the structure around
them (dicts, lists, tuples, Python numbers, strings, which leaves were Tensors) as a JSON string in
one extra member. ``load`` reads it back without pickle, so loading a file runs no code from it,
and it treats the file as hostile: every way a file can be damaged or crafted ends in a
:class:`SerializationError` naming the file and the fault, before any large allocation.

Writes are atomic and follow the file system's rules (:func:`atomic_write`): the bytes go to a
temporary file next to the target, which then replaces it with ``os.replace``; a crash mid-save
leaves the old file intact, and the next save removes what a killed one left behind.

:func:`check_state_dict` is the validation every ``load_state_dict`` in the project runs before it
changes anything.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import math
import os
import re
import secrets
import stat
import zipfile
from collections.abc import Iterator, Mapping
from typing import IO, Any, NamedTuple

import numpy as np

from .backend import foreign, to_numpy

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_DEPTH",
    "IncompatibleKeys",
    "SerializationError",
    "StateDictError",
    "atomic_write",
    "check_state_dict",
    "load",
    "save",
]

FORMAT_NAME = "tinygrad_dl"
FORMAT_VERSION = 1
# The member holding the JSON structure; array members are named a0, a1, ... so they never
# collide with it.
META_KEY = "__tinygrad_dl__"
# How deep dicts/lists/tuples may nest: far beyond any state dict, well inside Python's recursion
# limit (JSON adds about three levels per level of ours).
MAX_DEPTH = 100
# What load allocates at most unless told otherwise (see load's max_bytes).
DEFAULT_MAX_BYTES = 4 * 2**30


class SerializationError(ValueError):
    """A file that is not a readable ``tinygrad_dl.save`` file (corrupt, truncated, foreign)."""


class StateDictError(RuntimeError):
    """A state dict whose keys, shapes or dtypes do not match the object loading it."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


# Temporary files are named ``.{name}.tgdl-{pid}-{random}.tmp`` so that a later save can tell
# ours from anyone else's and find the ones a killed process left behind.
_TEMPORARY_NAME = re.compile(r"\A\..*\.tgdl-(\d+)-[0-9a-f]+\.tmp\Z", re.DOTALL)
# A file name may be at most 255 bytes; the temporary name adds ~30 to the target's.
_NAME_KEPT = 100


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _write_protected(path: str, mode: int) -> bool:
    """Whether ``open(path, "wb")`` would be refused by ``path``'s permissions.

    For an ordinary user ``os.access`` asks the kernel, which applies the mode bits and ACLs as
    ``open`` does. Root passes every permission check, so for root a file (or folder) counts as
    write-protected when nobody has a write bit: ``chmod a-w`` states the intent "do not change
    this", which ``rm`` and editors honour too, and a save that silently replaced such a file
    would lose work.
    """
    if _is_root():
        return mode & 0o222 == 0
    return not os.access(path, os.W_OK)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, under another user
        return True
    return True


def _remove_stale_temporaries(directory: str) -> None:
    """Delete temporary files that saves killed mid-write left in ``directory``.

    One is stale when the process named in it is gone *and* nobody holds its lock (a writer holds
    an exclusive ``flock`` on its temporary file until it has been renamed; the kernel drops the
    lock when the process dies). The lock covers a writer in another PID namespace sharing the
    folder, the PID check covers the instant between a writer creating its file and locking it.
    Without ``fcntl`` (Windows) nothing is removed. Never fails a save.
    """
    if fcntl is None:
        return
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        match = _TEMPORARY_NAME.match(entry.name)
        if match is None or _process_alive(int(match.group(1))):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _create_temporary(directory: str, name: str, shown: str) -> tuple[int, str]:
    flags = (
        os.O_WRONLY
        | os.O_CREAT
        | os.O_EXCL
        | getattr(os, "O_CLOEXEC", 0)
        | getattr(os, "O_BINARY", 0)
        | getattr(os, "O_NOFOLLOW", 0)
    )
    while True:
        temporary = os.path.join(
            directory, f".{name[:_NAME_KEPT]}.tgdl-{os.getpid()}-{secrets.token_hex(6)}.tmp"
        )
        try:
            # Mode 0o666 as open() uses: the kernel applies the umask (and a default ACL).
            fd = os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:  # a read-only file system, a full disk: name the user's file
            raise type(error)(error.errno, error.strerror, shown) from None
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        return fd, temporary


def _fsync_directory(directory: str) -> None:
    # Makes the rename itself durable (as SQLite does after creating a journal); POSIX only.
    if not hasattr(os, "O_DIRECTORY"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` in one step.

    It follows the file system's rules as ``open(path, "wb")`` does, except that the write is
    atomic:

    - a symbolic link is followed: its target is replaced and the link stays a link;
    - an existing file keeps its permission bits (and owner, where allowed); a new file gets the
      process umask's mode (``0o666 & ~umask``);
    - a write-protected file, or a file in a folder we may not write to, raises
      :class:`PermissionError` and stays unchanged (see :func:`_write_protected` for root);
    - a path that is a folder raises :class:`IsADirectoryError`; a device or FIFO is written
      in place, as ``open`` would;
    - if the body raises, ``path`` keeps its old content and the temporary file is removed; if
      the process is killed, the temporary file ``.{name}.tgdl-{pid}-{random}.tmp`` is left, and
      the next save into that folder removes it;
    - the rename gives ``path`` a new inode: other hard links to the old file keep the old
      content (as after ``mv``), where ``open`` would have written through all of them.

    Parameters
    ----------
    path : str or os.PathLike
        The final file name. Its folder must exist.
    mode : str
        ``"wb"`` or ``"w"``.

    Yields
    ------
    file object
        Write the content to it.

    Raises
    ------
    FileNotFoundError, NotADirectoryError
        If the folder does not exist, or a part of the path is not a folder.
    PermissionError
        If the file or its folder is write-protected.
    IsADirectoryError
        If ``path`` is a folder.
    """
    shown = os.fspath(path)
    if not shown:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), shown)
    if shown.endswith((os.sep, os.altsep or os.sep)):  # realpath would drop the slash
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), shown)
    target = os.path.realpath(shown)  # through symbolic links, as open() goes
    directory, name = os.path.split(target)
    try:
        folder_mode = os.stat(directory).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(
            f"cannot write {shown!r}: the folder {directory!r} does not exist"
        ) from None
    # Any other error (a folder we may not enter, a loop of links) is open()'s own: it propagates.
    if not stat.S_ISDIR(folder_mode):
        raise NotADirectoryError(
            errno.ENOTDIR, f"cannot write {shown!r}: {directory!r} is not a folder", shown
        )
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), shown)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # /dev/null, a FIFO: replacing the node by a regular file would be wrong; write into it.
        with open(target, mode) as handle:
            yield handle
        return
    if existing is not None and _write_protected(target, existing.st_mode):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), shown)
    if _write_protected(directory, folder_mode) or (
        not _is_root() and not os.access(directory, os.X_OK)
    ):
        raise PermissionError(
            errno.EACCES,
            f"{os.strerror(errno.EACCES)}: cannot save into the folder {directory!r} "
            "(save writes a new file next to the old one and renames it, so that a crash never "
            "leaves half a file; the folder must be writable)",
            shown,
        )
    _remove_stale_temporaries(directory)
    fd, temporary = _create_temporary(directory, name, shown)
    try:
        # Closing the handle releases the lock: only after the rename, so a concurrent save
        # never takes our temporary file for a dead process's.
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            if existing is not None:
                if hasattr(os, "fchown") and (existing.st_uid, existing.st_gid) != (
                    os.geteuid(),
                    os.getegid(),
                ):
                    with contextlib.suppress(OSError):  # only root may give a file away
                        os.fchown(handle.fileno(), existing.st_uid, existing.st_gid)
                os.chmod(temporary, stat.S_IMODE(existing.st_mode))  # after chown, which clears
            os.fsync(handle.fileno())
            os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)


def _tensor_type() -> type:
    # Imported lazily: the engine imports nothing from here, and this module stays usable on
    # plain arrays.
    from tinygrad_dl.tensor import Tensor

    return Tensor


class _Encoder:
    """Split an object into JSON-able structure and a dict of arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.tensor_type = _tensor_type()
        self.open_containers: set[int] = set()  # ids on the path from the root: cycles

    def _store(self, array: np.ndarray, where: str) -> str:
        if array.dtype.hasobject:
            raise TypeError(
                f"save: {where} is an array of dtype {array.dtype}, which needs pickle; "
                "only numeric, boolean and string arrays can be saved"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def encode(self, obj: Any, where: str, depth: int = 0) -> Any:
        if isinstance(obj, self.tensor_type):
            # A device's data (CuPy, array_api_strict) is copied to the host: files hold NumPy.
            key = self._store(to_numpy(obj.data), where)
            return {"t": "tensor", "key": key, "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"t": "array", "key": self._store(obj, where)}
        if foreign(obj):  # a CuPy or array_api_strict array: saved from the host as NumPy's
            return {"t": "array", "key": self._store(to_numpy(obj), where)}
        if isinstance(obj, np.generic):
            return {"t": "npscalar", "key": self._store(np.asarray(obj), where)}
        if obj is None or isinstance(obj, bool | int | float | str):
            return {"t": "py", "v": obj}
        if not isinstance(obj, Mapping | list | tuple):
            raise TypeError(
                f"save: cannot save {type(obj).__name__} at {where}; expected Tensors, arrays, "
                "numbers, strings, None, and dicts/lists/tuples of them"
            )
        if id(obj) in self.open_containers:
            raise ValueError(f"save: {where} contains itself (a cycle), which cannot be saved")
        if depth >= MAX_DEPTH:
            raise ValueError(
                f"save: obj is nested more than {MAX_DEPTH} levels deep (dicts/lists/tuples "
                f"inside each other, at {where[:80]}...); save stores at most {MAX_DEPTH}"
            )
        self.open_containers.add(id(obj))
        try:
            if isinstance(obj, Mapping):
                items = []
                for name, value in obj.items():
                    if not isinstance(name, str | int) or isinstance(name, bool):
                        raise TypeError(
                            f"save: dict keys must be str or int, got {type(name).__name__} "
                            f"{name!r} in {where}"
                        )
                    items.append([name, self.encode(value, f"{where}[{name!r}]", depth + 1)])
                return {"t": "dict", "items": items}
            return {
                "t": "list" if isinstance(obj, list) else "tuple",
                "items": [
                    self.encode(value, f"{where}[{i}]", depth + 1) for i, value in enumerate(obj)
                ],
            }
        finally:
            self.open_containers.discard(id(obj))


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Save a Tensor, an array, or a (nested) dict/list of them to ``path`` as ``.npz``.

    A model's ``state_dict()`` and an optimiser's ``state_dict()`` are the usual ``obj``. The
    file is written atomically and follows the file system's rules (symbolic links, permissions,
    umask: see :func:`atomic_write`). The name is used as given (no ``.npz`` is appended).

    Parameters
    ----------
    obj : Tensor, numpy.ndarray, dict, list, tuple, number, str or None
        What to save, nested at most ``MAX_DEPTH`` (100) levels. Tensors come back as Tensors
        (with their ``requires_grad`` flag, without their graph), arrays as arrays, Python
        numbers as Python numbers.
    path : str, os.PathLike or binary file object
        Target file; its folder must exist. An open file is written as it is (not atomically).

    Raises
    ------
    TypeError
        If ``obj`` holds something that cannot be saved without pickle (object arrays, arbitrary
        Python objects, non-str/int dict keys). Nothing is written then.
    ValueError
        If ``obj`` contains itself or is nested more than ``MAX_DEPTH`` levels deep. Nothing is
        written then.
    PermissionError
        If ``path`` is write-protected or its folder is not writable; the file is unchanged.
    """
    encoder = _Encoder()
    structure = encoder.encode(obj, "obj")
    meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": structure}
    members = dict(encoder.arrays)
    members[META_KEY] = np.array(json.dumps(meta))
    if hasattr(path, "write"):  # an open binary file, as np.savez and torch.save take
        np.savez(path, **members)
        return
    with atomic_write(path) as handle:
        np.savez(handle, **members)


def _read_stream(stream: Any, shown: str, max_bytes: int | None) -> io.BytesIO:
    """A pipe or socket, read into memory (zip needs to seek), at most about ``max_bytes``."""
    limit = None if max_bytes is None else max_bytes + (1 << 20)  # arrays plus the zip's framing
    data = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise _not_ours(shown, f"the stream is longer than max_bytes={max_bytes:,} allows")
    return io.BytesIO(data)


def _seekable(handle: Any) -> bool:
    try:
        return bool(handle.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def _not_ours(path: str, reason: str) -> SerializationError:
    return SerializationError(f"load: {path!r} is not a readable tinygrad_dl.save file: {reason}")


def _size(nbytes: int) -> str:
    return f"{nbytes:,} bytes ({nbytes / 2**30:.3g} GiB)"


def _foreign_kind(head: bytes) -> str:
    """What a file that is not a zip archive looks like, from its first bytes."""
    if not head:
        return "the file is empty"
    if head.startswith(b"\x93NUMPY"):
        return "it holds a single .npy array, not a .npz archive (read it with numpy.load)"
    if head[:1] == b"\x80" and head[1:2] in (bytes([n]) for n in range(2, 6)):
        return "it is a pickle, which tinygrad_dl never loads (unpickling can run code)"
    return "it is not a zip archive (a .npz written by tinygrad_dl.save is one)"


class _Reader:
    """Reads the members of an opened ``.npz`` within the limits :func:`load` promises."""

    def __init__(self, archive: zipfile.ZipFile, path: str, max_bytes: int | None) -> None:
        self.archive = archive
        self.path = path
        self.members: dict[str, zipfile.ZipInfo] = {}
        self.used: set[str] = set()
        self._check_directory(max_bytes)

    def _check_directory(self, max_bytes: int | None) -> None:
        """Check every member's declared sizes before anything is decompressed or allocated."""
        infos = self.archive.infolist()
        end = self.archive.start_dir  # where the central directory begins
        total = 0
        for info in sorted(infos, key=lambda i: i.header_offset, reverse=True):
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise _not_ours(
                    self.path,
                    f"member {info.filename!r} uses compression method {info.compress_type}; "
                    "only stored (0) and deflated (8) members are read",
                )
            if info.flag_bits & 0x1:
                raise _not_ours(self.path, f"member {info.filename!r} is encrypted")
            # 30 bytes of local header and the name precede the data; members may not overlap
            # (overlapping members multiply one deflate stream: a "zip bomb").
            if info.header_offset + 30 + len(info.filename) + info.compress_size > end:
                raise _not_ours(
                    self.path,
                    f"member {info.filename!r} declares {info.compress_size:,} bytes that do not "
                    "fit in the file (truncated, damaged, or overlapping members)",
                )
            end = info.header_offset
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise _not_ours(self.path, f"member {info.filename!r} has inconsistent sizes")
            # Deflate expands at most 1032-fold; a larger claim is a lie.
            if info.file_size > 1032 * info.compress_size + 64:
                raise _not_ours(
                    self.path,
                    f"member {info.filename!r} claims to expand {info.compress_size:,} bytes to "
                    f"{info.file_size:,}, more than deflate can",
                )
            if not info.filename.endswith(".npy") or info.filename in self.members:
                raise _not_ours(self.path, f"unexpected or repeated member {info.filename!r}")
            self.members[info.filename[: -len(".npy")]] = info
            total += info.file_size
        if max_bytes is not None and total > max_bytes:
            raise _not_ours(
                self.path,
                f"its arrays take {_size(total)} once read, more than max_bytes={max_bytes:,}; "
                "if you trust the file, pass a larger max_bytes (or None) to load",
            )

    def array(self, key: Any) -> np.ndarray:
        """The array stored under ``key``, each key at most once."""
        if not isinstance(key, str) or key not in self.members:
            raise _not_ours(self.path, f"it refers to a missing array {key!r}")
        if key in self.used:
            raise _not_ours(self.path, f"it refers to the array {key!r} twice")
        self.used.add(key)
        info = self.members[key]
        with self.archive.open(info) as member:
            version = np.lib.format.read_magic(member)
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(member)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(member)
            else:
                raise _not_ours(self.path, f"array {key!r} is in .npy format {version}")
            if dtype.hasobject:
                raise _not_ours(
                    self.path, f"array {key!r} has dtype {dtype}, which needs pickle (refused)"
                )
            count = math.prod(shape)
            nbytes = count * dtype.itemsize
            held = info.file_size - member.tell()
            if nbytes != held:
                raise _not_ours(
                    self.path,
                    f"array {key!r} declares shape {shape} of {dtype} ({_size(nbytes)}) but its "
                    f"member holds {held:,} bytes of data",
                )
            try:
                flat = np.empty(count, dtype=dtype)
            except MemoryError:
                raise _not_ours(
                    self.path,
                    f"array {key!r} asks for {_size(nbytes)}, more than this machine could "
                    "allocate",
                ) from None
            if nbytes:
                buffer = flat.view(np.uint8)
                filled = 0
                while filled < nbytes:
                    chunk = member.read(min(nbytes - filled, 1 << 20))
                    if not chunk:
                        raise _not_ours(self.path, f"array {key!r} ends early")
                    buffer[filled : filled + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    filled += len(chunk)
            if member.read(1):  # also makes zipfile check the CRC-32 at the end
                raise _not_ours(self.path, f"array {key!r} has bytes after its data")
        if fortran_order:
            return flat.reshape(shape[::-1]).transpose()
        return flat.reshape(shape)


def _decode(node: Any, reader: _Reader, tensor_type: type, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise _not_ours(reader.path, f"its structure is nested more than {MAX_DEPTH} levels deep")
    if not isinstance(node, dict):
        raise _not_ours(reader.path, f"damaged structure: an entry is a {type(node).__name__}")
    kind = node.get("t")
    if kind == "py":
        value = node.get("v")
        if value is not None and not isinstance(value, bool | int | float | str):
            raise _not_ours(reader.path, f"damaged structure: a number is a {type(value).__name__}")
        return value
    if kind in ("tensor", "array", "npscalar"):
        array = reader.array(node.get("key"))
        if kind == "npscalar":
            if array.shape != ():
                raise _not_ours(reader.path, f"a scalar has shape {array.shape}")
            return array[()]
        if kind == "tensor":
            return tensor_type(array, requires_grad=bool(node.get("requires_grad")))
        return array
    items = node.get("items")
    if kind in ("dict", "list", "tuple") and not isinstance(items, list):
        raise _not_ours(reader.path, f"damaged structure: a {kind} without its items")
    if kind == "dict":
        result = {}
        for item in items:
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], str | int)
                or isinstance(item[0], bool)
            ):
                raise _not_ours(reader.path, "damaged structure: a dict entry is not (key, value)")
            result[item[0]] = _decode(item[1], reader, tensor_type, depth + 1)
        return result
    if kind == "list":
        return [_decode(value, reader, tensor_type, depth + 1) for value in items]
    if kind == "tuple":
        return tuple(_decode(value, reader, tensor_type, depth + 1) for value in items)
    raise _not_ours(reader.path, f"unknown entry kind {kind!r}")


def load(path: str | os.PathLike[str], *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> Any:
    """Load what :func:`save` wrote, without unpickling anything.

    A damaged or hostile file is refused with :class:`SerializationError` before any large
    allocation: every member's declared size is checked against the file (members may not
    overlap; deflate expands at most 1032-fold) and against ``max_bytes``, every array's header
    (shape x itemsize) against its member's size, and each member's CRC-32 as it is read, which
    never goes past the member's declared size.

    Parameters
    ----------
    path : str, os.PathLike or binary file object
        A file written by :func:`save` (an open file is read from its current position).
    max_bytes : int or None
        The most bytes the file's arrays may take once read; default ``DEFAULT_MAX_BYTES``
        (4 GiB). A compressed archive can ask for 1,000 times its own size, so the file's size
        cannot be the bound. ``None`` trusts the file (up to what the machine can allocate).

    Returns
    -------
    object
        The saved object: Tensors, arrays, dicts, lists, tuples, numbers as they were saved.

    Raises
    ------
    FileNotFoundError, PermissionError, IsADirectoryError
        If ``path`` cannot be opened, as ``open`` raises them.
    SerializationError
        If the file is corrupt, truncated, pickled, larger than ``max_bytes``, or was not
        written by :func:`save`. The message names the file and what is wrong.
    """
    if max_bytes is not None and (
        not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 0
    ):
        raise ValueError(f"load: max_bytes must be a non-negative int or None, got {max_bytes!r}")
    tensor_type = _tensor_type()
    with contextlib.ExitStack() as stack:
        if hasattr(path, "read"):  # an open binary file, as np.load and torch.load take
            shown = str(getattr(path, "name", f"<{type(path).__name__}>"))
            handle = path if _seekable(path) else _read_stream(path, shown, max_bytes)
        else:
            shown = os.fspath(path)
            with contextlib.suppress(OSError):
                mode = os.stat(shown).st_mode
                if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
                    raise _not_ours(shown, "it is not a regular file (a device, FIFO or socket)")
            handle = stack.enter_context(open(shown, "rb"))
        start = handle.tell()
        head = handle.read(8)
        if not isinstance(head, bytes):
            raise TypeError(f"load: {shown} is opened in text mode; open it with 'rb'")
        handle.seek(start)
        try:
            if not head.startswith(b"PK"):
                raise _not_ours(shown, _foreign_kind(head))
            with zipfile.ZipFile(handle) as archive:
                reader = _Reader(archive, shown, max_bytes)
                if META_KEY not in reader.members:
                    raise _not_ours(
                        shown,
                        f"no {META_KEY!r} entry (a plain NumPy archive? read it with numpy.load)",
                    )
                text = reader.array(META_KEY)
                if text.dtype.kind != "U" or text.shape != ():
                    raise _not_ours(shown, f"its {META_KEY!r} entry is not a string")
                meta = json.loads(str(text[()]))
                if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                    raise _not_ours(shown, "its header names another format")
                if meta.get("version") != FORMAT_VERSION:
                    raise _not_ours(
                        shown,
                        f"format version {meta.get('version')!r}; this tinygrad_dl reads "
                        f"version {FORMAT_VERSION}",
                    )
                return _decode(meta.get("root"), reader, tensor_type)
        except SerializationError:
            raise
        except MemoryError:
            raise _not_ours(shown, "reading it needs more memory than this machine has") from None
        except RecursionError:
            raise _not_ours(shown, "its structure is nested too deeply to read") from None
        except Exception as error:
            # Whatever zipfile, zlib, json or numpy.lib.format raise on a damaged file
            # (BadZipFile, EOFError, NotImplementedError, RecursionError, UnicodeDecodeError,
            # struct.error, OSError from a seek past the start, ...) means the same thing.
            raise _not_ours(shown, f"{type(error).__name__}: {error}") from error


def check_state_dict(
    owner: str,
    current: Mapping[str, np.ndarray],
    incoming: Mapping[str, Any],
    *,
    strict: bool = True,
) -> tuple[dict[str, np.ndarray], IncompatibleKeys]:
    """Validate ``incoming`` against ``current`` before anything is copied.

    Every problem is collected and reported at once: missing keys, unexpected keys (with
    ``strict``), shape mismatches and dtype mismatches (always), and values that are not arrays.

    Parameters
    ----------
    owner : str
        Who is loading (``"Sequential"``, ``"Adam"``), for the message.
    current : Mapping[str, numpy.ndarray]
        The arrays the state dict will be copied into.
    incoming : Mapping[str, Tensor or numpy.ndarray]
        The state dict given by the user.
    strict : bool
        Whether missing and unexpected keys are errors.

    Returns
    -------
    arrays : dict[str, numpy.ndarray]
        The incoming arrays for the keys present in both, safe to copy.
    incompatible : IncompatibleKeys
        The missing and unexpected keys.

    Raises
    ------
    StateDictError
        Listing every mismatch.
    TypeError
        If ``incoming`` is not a mapping.
    """
    if not isinstance(incoming, Mapping):
        raise TypeError(
            f"load_state_dict for {owner}: expected a dict of arrays, got {type(incoming).__name__}"
        )
    tensor_type = _tensor_type()
    missing = [key for key in current if key not in incoming]
    unexpected = [key for key in incoming if key not in current]
    problems: list[str] = []
    if strict and missing:
        problems.append("missing keys: " + ", ".join(repr(k) for k in missing))
    if strict and unexpected:
        problems.append("unexpected keys: " + ", ".join(repr(k) for k in unexpected))
    arrays: dict[str, np.ndarray] = {}
    for key, target in current.items():
        if key not in incoming:
            continue
        value = incoming[key]
        if isinstance(value, tensor_type):
            value = value.data
        if not isinstance(value, np.ndarray):
            problems.append(f"{key!r}: expected an array or Tensor, got {type(value).__name__}")
            continue
        if value.shape != target.shape:
            problems.append(
                f"{key!r}: shape {value.shape} in the state dict, {target.shape} in {owner}"
            )
        elif value.dtype != target.dtype:
            problems.append(
                f"{key!r}: dtype {value.dtype} in the state dict, {target.dtype} in {owner}"
            )
        else:
            arrays[key] = value
    if problems:
        raise StateDictError(
            f"load_state_dict for {owner}: nothing was loaded; " + "; ".join(problems)
        )
    return arrays, IncompatibleKeys(missing, unexpected)

"""Saving and loading tensors, arrays and state dicts as ``.npz`` files, without pickle.

``save(obj, path)`` stores every array of ``obj`` as an ``.npz`` member and the structure around
them (dicts, lists, tuples, Python numbers, strings, which leaves were Tensors) as a JSON string in
one extra member. ``load`` reads it back with ``allow_pickle=False``, so loading a file runs no
code from it. Writes are atomic: the bytes go to a temporary file in the target's directory, which
then replaces the target with ``os.replace``; a crash mid-save leaves the old file intact.

:func:`check_state_dict` is the validation every ``load_state_dict`` in the project runs before it
changes anything.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from typing import IO, Any, NamedTuple

import numpy as np

__all__ = [
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


class SerializationError(ValueError):
    """A file that is not a readable ``tinygrad_dl.save`` file (corrupt, truncated, foreign)."""


class StateDictError(RuntimeError):
    """A state dict whose keys, shapes or dtypes do not match the object loading it."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(..., strict=False)`` skipped, as in PyTorch."""

    missing_keys: list[str]
    unexpected_keys: list[str]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it replaces ``path`` in one step.

    If the body raises (or the process dies), ``path`` keeps its previous content and the
    temporary file is removed (or, after a hard crash, left under a dot-name, never in place of
    ``path``).

    Parameters
    ----------
    path : str or os.PathLike
        The final file name. Its directory must exist.
    mode : str
        ``"wb"`` or ``"w"``.

    Yields
    ------
    file object
        Write the content to it.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path!r}: the folder {directory!r} does not exist")
    fd, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp creates the file private (0600); give it the permissions of the file it
        # replaces, or the usual ones for a new file.
        try:
            permissions = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            permissions = 0o644
        os.chmod(temporary, permissions)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


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

    def _store(self, array: np.ndarray, where: str) -> str:
        if array.dtype.hasobject:
            raise TypeError(
                f"save: {where} is an array of dtype {array.dtype}, which needs pickle; "
                "only numeric, boolean and string arrays can be saved"
            )
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def encode(self, obj: Any, where: str) -> Any:
        if isinstance(obj, self.tensor_type):
            key = self._store(np.asarray(obj.data), where)
            return {"t": "tensor", "key": key, "requires_grad": bool(obj.requires_grad)}
        if isinstance(obj, np.ndarray):
            return {"t": "array", "key": self._store(obj, where)}
        if isinstance(obj, np.generic):
            return {"t": "npscalar", "key": self._store(np.asarray(obj), where)}
        if obj is None or isinstance(obj, bool | int | float | str):
            return {"t": "py", "v": obj}
        if isinstance(obj, Mapping):
            items = []
            for name, value in obj.items():
                if not isinstance(name, str | int) or isinstance(name, bool):
                    raise TypeError(
                        f"save: dict keys must be str or int, got {type(name).__name__} "
                        f"{name!r} in {where}"
                    )
                items.append([name, self.encode(value, f"{where}[{name!r}]")])
            return {"t": "dict", "items": items}
        if isinstance(obj, list | tuple):
            kind = "list" if isinstance(obj, list) else "tuple"
            return {
                "t": kind,
                "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)],
            }
        raise TypeError(
            f"save: cannot save {type(obj).__name__} at {where}; expected Tensors, arrays, "
            "numbers, strings, None, and dicts/lists/tuples of them"
        )


def save(obj: Any, path: str | os.PathLike[str]) -> None:
    """Save a Tensor, an array, or a (nested) dict/list of them to ``path`` as ``.npz``.

    A model's ``state_dict()`` and an optimiser's ``state_dict()`` are the usual ``obj``. The
    file is written atomically. The name is used as given (no ``.npz`` is appended).

    Parameters
    ----------
    obj : Tensor, numpy.ndarray, dict, list, tuple, number, str or None
        What to save. Tensors come back as Tensors (with their ``requires_grad`` flag, without
        their graph), arrays as arrays, Python numbers as Python numbers.
    path : str or os.PathLike
        Target file; its directory must exist.

    Raises
    ------
    TypeError
        If ``obj`` holds something that cannot be saved without pickle (object arrays, arbitrary
        Python objects, non-str/int dict keys). Nothing is written then.
    """
    encoder = _Encoder()
    structure = encoder.encode(obj, "obj")
    meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": structure}
    members = dict(encoder.arrays)
    members[META_KEY] = np.array(json.dumps(meta))
    with atomic_write(path) as handle:
        np.savez(handle, **members)


def _not_ours(path: str, reason: str) -> SerializationError:
    return SerializationError(f"load: {path!r} is not a readable tinygrad_dl.save file: {reason}")


def _decode(node: Any, archive: Any, path: str, tensor_type: type) -> Any:
    try:
        kind = node["t"]
        if kind == "py":
            return node["v"]
        if kind in ("tensor", "array", "npscalar"):
            array = archive[node["key"]]
            if kind == "npscalar":
                return array[()]
            if kind == "tensor":
                return tensor_type(array, requires_grad=bool(node["requires_grad"]))
            return array
        if kind == "dict":
            return {
                name: _decode(value, archive, path, tensor_type) for name, value in node["items"]
            }
        if kind == "list":
            return [_decode(value, archive, path, tensor_type) for value in node["items"]]
        if kind == "tuple":
            return tuple(_decode(value, archive, path, tensor_type) for value in node["items"])
    except (KeyError, TypeError, ValueError) as error:
        raise _not_ours(path, f"damaged structure ({type(error).__name__}: {error})") from error
    raise _not_ours(path, f"unknown entry kind {kind!r}")


def load(path: str | os.PathLike[str]) -> Any:
    """Load what :func:`save` wrote, without unpickling anything.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by :func:`save`.

    Returns
    -------
    object
        The saved object: Tensors, arrays, dicts, lists, tuples, numbers as they were saved.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    SerializationError
        If the file is corrupt, truncated, pickled, or was not written by :func:`save`.
    """
    path = os.fspath(path)
    tensor_type = _tensor_type()
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as error:
        raise _not_ours(path, f"{type(error).__name__}: {error}") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _not_ours(path, "it holds a single .npy array, not a .npz archive")
    try:
        with archive:
            if META_KEY not in archive.files:
                raise _not_ours(
                    path,
                    f"no {META_KEY!r} entry (a plain NumPy archive? read it with numpy.load)",
                )
            meta = json.loads(str(archive[META_KEY][()]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
                raise _not_ours(path, "its header names another format")
            if meta.get("version") != FORMAT_VERSION:
                raise _not_ours(
                    path,
                    f"format version {meta.get('version')!r}; this tinygrad_dl reads version "
                    f"{FORMAT_VERSION}",
                )
            return _decode(meta["root"], archive, path, tensor_type)
    except SerializationError:
        raise
    except (OSError, EOFError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise _not_ours(path, f"{type(error).__name__}: {error}") from error


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

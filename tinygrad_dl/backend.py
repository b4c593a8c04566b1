"""The array library under a Tensor: NumPy on the CPU, CuPy on an NVIDIA GPU, or any library
that follows the Python array API standard.

The engine never calls ``numpy`` on a Tensor's data directly: it asks :func:`namespace` for the
namespace of the data (NumPy 2's main namespace for an ndarray, which implements the standard's
names: ``np.concat``, ``np.permute_dims``, ``np.astype``...) and calls that. An ndarray takes a
fast path (one ``type(...) is`` test), so the CPU pays nothing for the GPU's generality; other
CuPy arrays get :class:`NumPyLike` (CuPy's functions under the standard's names, so the GPU
needs no other package), arrays that implement the standard their own ``__array_namespace__()``
(array_api_strict), and any other library ``array_api_compat.array_namespace`` (an optional
import).

Devices are spelled as PyTorch spells them: ``"cpu"`` (NumPy), ``"cuda"`` / ``"cuda:1"`` (CuPy).
``"array_api_strict"`` names the standard's strict reference library on the CPU: the tests run
the engine on it, so code that silently falls back to NumPy fails without a GPU.
"""

from __future__ import annotations

import contextlib
import importlib
from typing import Any

import numpy as np

__all__ = [
    "Device",
    "namespace",
    "device_of",
    "parse_device",
    "to_device",
    "to_numpy",
    "asarray",
    "same_device",
    "is_numpy",
]

_NDARRAY = np.ndarray
_INSTALL = "pip install array-api-compat"


class Device(str):
    """A device as PyTorch names it: ``"cpu"``, ``"cuda:0"``, ``"array_api_strict"``.

    A ``str``, so ``t.device == "cuda:0"`` and ``str(t.device)`` work, with PyTorch's ``type``
    (``"cuda"``) and ``index`` (``0``, or ``None`` for the CPU).
    """

    __slots__ = ()

    @property
    def type(self) -> str:
        return self.split(":")[0]

    @property
    def index(self) -> int | None:
        _, _, index = self.partition(":")
        return int(index) if index else None

    def __repr__(self) -> str:
        return f"device(type={self.type!r}" + (
            f", index={self.index})" if self.index is not None else ")"
        )


# array_api_strict's "device1" refuses np.asarray and mixing with its CPU arrays, as a GPU's
# memory does: the tests' stand-in for CUDA.
_STRICT_DEVICE = "device1"
CPU = Device("cpu")
STRICT = Device("array_api_strict")


def namespace(array: Any) -> Any:
    """The array API namespace of ``array``: ``numpy`` for an ndarray, else the standard's.

    Raises
    ------
    TypeError
        For a non-NumPy array when ``array-api-compat`` is not installed, or for an object that
        is not an array of any known library.
    """
    if type(array) is _NDARRAY:
        return np
    return _foreign_namespace(array)


# The namespace depends only on the array's type: looked up once per type.
_NAMESPACES: dict[type, Any] = {}


def _foreign_namespace(array: Any) -> Any:
    xp = _NAMESPACES.get(type(array))
    if xp is not None:
        return xp
    if isinstance(array, (np.ndarray, np.generic, int, float, bool)):
        return np
    if type(array).__module__.split(".")[0] == "cupy":
        # CuPy's own functions under the standard's names: no extra dependency on the GPU.
        # Checked first: a CuPy array has __array_ufunc__ and may lack __array_namespace__.
        xp = NumPyLike(importlib.import_module("cupy"))
    elif not hasattr(array, "__array_namespace__") and hasattr(array, "__array_ufunc__"):
        return np  # a Tensor (create_graph): NumPy's functions dispatch to its ops
    elif hasattr(array, "__array_namespace__"):
        xp = array.__array_namespace__()  # the standard's own protocol (array_api_strict...)
    else:
        xp = _compat_namespace(array)  # PyTorch and others: array-api-compat wraps them
    _NAMESPACES[type(array)] = xp
    return xp


def _compat_namespace(array: Any) -> Any:
    try:
        import array_api_compat
    except ImportError:
        raise TypeError(
            f"tinygrad_dl: arrays of type {type(array).__module__}.{type(array).__name__} need "
            f"the array API compatibility layer: {_INSTALL}"
        ) from None
    try:
        return array_api_compat.array_namespace(array)
    except TypeError as error:
        raise TypeError(
            f"tinygrad_dl: {type(array).__name__} is not an array of a library that follows the "
            f"array API standard (NumPy, CuPy, ...): {error}"
        ) from None


class NumPyLike:
    """The array API standard's names over a library shaped like NumPy (CuPy).

    Functions the library has under NumPy's older names are renamed (``acos`` -> ``arccos``,
    ``concat`` -> ``concatenate``, ``permute_dims`` -> ``transpose``); ``astype``,
    ``matrix_transpose``, ``asarray(copy=)``, ``argsort``/``sort(descending=, stable=)`` and
    the factories' ``device=`` are written out.
    Everything else is the library's own function (CuPy's extras, such as ``exp2`` and
    ``add.at``, stay available).
    """

    _RENAMED = {
        "acos": "arccos",
        "asin": "arcsin",
        "atan": "arctan",
        "acosh": "arccosh",
        "asinh": "arcsinh",
        "atanh": "arctanh",
        "atan2": "arctan2",
        "pow": "power",
        "concat": "concatenate",
        "permute_dims": "transpose",
        "cumulative_sum": "cumsum",
        "cumulative_prod": "cumprod",
    }

    def __init__(self, library: Any) -> None:
        self._library = library
        self.__name__ = f"tinygrad_dl.backend.NumPyLike({library.__name__})"

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._library, self._RENAMED.get(name, name))
        setattr(self, name, value)  # found in the instance dict from now on
        return value

    def astype(self, x: Any, dtype: Any, copy: bool = True, device: Any = None) -> Any:
        return x.astype(dtype, copy=copy)

    def matrix_transpose(self, x: Any) -> Any:
        return self._library.swapaxes(x, -1, -2)

    def asarray(self, obj: Any, dtype: Any = None, device: Any = None, copy: Any = None) -> Any:
        with self._on(device):
            if copy:
                return self._library.array(obj, dtype=dtype, copy=True)
            return self._library.asarray(obj, dtype=dtype)

    def argsort(
        self, x: Any, /, *, axis: int = -1, descending: bool = False, stable: bool = True
    ) -> Any:
        # NumPy's signature has no descending: sort -x (ties keep their order: a stable sort)
        if descending:
            x = -(x.astype("int64") if x.dtype.kind in "bu" else x)
        return self._library.argsort(x, axis=axis, kind="stable" if stable else None)

    def sort(
        self, x: Any, /, *, axis: int = -1, descending: bool = False, stable: bool = True
    ) -> Any:
        if not descending:
            return self._library.sort(x, axis=axis, kind="stable" if stable else None)
        return self.take_along_axis(x, self.argsort(x, axis=axis, descending=True), axis=axis)

    def _on(self, device: Any) -> Any:
        """A context that makes ``device`` (a CuPy Device, or None) current."""
        if device is None or not hasattr(device, "use"):
            return contextlib.nullcontext()
        return device

    def zeros(self, shape: Any, dtype: Any = None, device: Any = None) -> Any:
        with self._on(device):
            return self._library.zeros(shape, dtype=dtype)

    def ones(self, shape: Any, dtype: Any = None, device: Any = None) -> Any:
        with self._on(device):
            return self._library.ones(shape, dtype=dtype)

    def empty(self, shape: Any, dtype: Any = None, device: Any = None) -> Any:
        with self._on(device):
            return self._library.empty(shape, dtype=dtype)

    def full(self, shape: Any, fill_value: Any, dtype: Any = None, device: Any = None) -> Any:
        with self._on(device):
            return self._library.full(shape, fill_value, dtype=dtype)

    def arange(
        self, start: Any, stop: Any = None, step: Any = 1, dtype: Any = None, device: Any = None
    ) -> Any:
        with self._on(device):
            return self._library.arange(start, stop, step, dtype=dtype)


def foreign(array: Any) -> bool:
    """True for an array of another library (CuPy, array_api_strict): the standard's path.

    ndarray subclasses (``tg.compile``'s tracer) are NumPy's, though NumPy 2 gives every ndarray
    an ``__array_namespace__``.
    """
    return (
        type(array) is not _NDARRAY
        and (
            hasattr(array, "__array_namespace__") or type(array).__module__.split(".")[0] == "cupy"
        )
        and not isinstance(array, (np.ndarray, np.generic))  # NumPy 2 scalars have one too
    )


def is_numpy(array: Any) -> bool:
    """True for NumPy data (the fast paths: ``out=``, views, ``ufunc.at``)."""
    return type(array) is _NDARRAY or isinstance(array, (np.ndarray, np.generic))


def device_of(array: Any) -> Device:
    """The device ``array`` lives on: ``"cpu"``, ``"cuda:N"`` or ``"array_api_strict"``."""
    if type(array) is _NDARRAY or isinstance(array, (np.ndarray, np.generic)):
        return CPU
    module = type(array).__module__.split(".")[0]
    if module == "cupy":
        return Device(f"cuda:{array.device.id}")
    if module == "array_api_strict":
        return STRICT
    return Device(str(getattr(array, "device", module)))


def native_device(array: Any) -> Any:
    """The device object of ``array``'s own library (for ``xp.zeros(..., device=)``)."""
    device = getattr(array, "device", None)
    return None if isinstance(array, np.ndarray) else device


def on_device(array: Any) -> Any:
    """A context in which ``array``'s GPU is the current one (CuPy allocates there); a no-op
    for libraries without a current device."""
    device = native_device(array)
    return device if hasattr(device, "use") else contextlib.nullcontext()


def parse_device(device: Any) -> Device:
    """``"cuda"`` -> ``cuda:0`` (the current GPU), ``"cpu"``, a Device or torch.device as is.

    Raises
    ------
    ValueError
        For a name that is not a device this library can reach.
    """
    name = str(device)
    kind, _, index = name.partition(":")
    if kind == "cpu":
        return CPU
    if kind == "cuda":
        if not index:
            cupy = _cupy("cuda")
            index = str(cupy.cuda.Device().id)
        return Device(f"cuda:{int(index)}")
    if name == STRICT:
        return STRICT
    raise ValueError(
        f"unknown device {device!r}: expected 'cpu', 'cuda', 'cuda:N' or 'array_api_strict'"
    )


def _cupy(what: str) -> Any:
    try:
        return importlib.import_module("cupy")
    except ImportError:
        raise RuntimeError(
            f"device {what!r} needs CuPy on a machine with an NVIDIA GPU: pip install "
            f"'tinygrad-dl[gpu]' (or the cupy-cudaXXx wheel matching your CUDA)"
        ) from None


def to_numpy(array: Any) -> np.ndarray:
    """``array`` as an ndarray in host memory (a copy unless it already is one)."""
    if type(array) is _NDARRAY:
        return array
    if isinstance(array, (np.ndarray, np.generic)):
        return np.asarray(array)
    module = type(array).__module__.split(".")[0]
    if module == "cupy":
        return array.get()
    if module == "array_api_strict":
        import array_api_strict

        return np.asarray(array.to_device(array_api_strict.Device("CPU_DEVICE")))
    return np.asarray(array)


def to_device(array: Any, device: Any) -> Any:
    """``array`` on ``device`` (itself when it is already there; a copy otherwise)."""
    target = parse_device(device)
    if device_of(array) == target:
        return array
    if target == CPU:
        return to_numpy(array)
    host = to_numpy(array)
    if target == STRICT:
        import array_api_strict

        device = array_api_strict.Device(_STRICT_DEVICE)
        return array_api_strict.asarray(host, device=device, copy=True)  # a move copies
    cupy = _cupy(target)
    with cupy.cuda.Device(target.index):
        return cupy.asarray(host)


def asarray(data: Any, device: Any = None, dtype: Any = None) -> Any:
    """``data`` (numbers, lists, ndarrays) as an array of the library of ``device``."""
    host = np.asarray(data, dtype=dtype)
    return host if device is None or parse_device(device) == CPU else to_device(host, device)


def same_device(op: str, *arrays: Any) -> None:
    """Raise unless every array lives on one device (PyTorch's rule: no silent copies).

    Raises
    ------
    RuntimeError
        Naming the op and both devices.
    """
    first = device_of(arrays[0])
    for other in arrays[1:]:
        where = device_of(other)
        if where != first:
            raise RuntimeError(
                f"{op}: expected all tensors on the same device, found {first} and {where}; "
                f"move one with .to('{first}') or .to('{where}')"
            )


def numpy_dtype(dtype: Any) -> np.dtype:
    """The NumPy dtype of an array API dtype (``array_api_strict.float32`` -> ``float32``)."""
    if isinstance(dtype, np.dtype):
        return dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        return np.dtype(str(dtype).rsplit(".", 1)[-1])


def kind(dtype: Any) -> str:
    """NumPy's one-letter kind of ``dtype`` (``"f"`` floating, ``"i"`` integer, ``"b"`` bool)."""
    if isinstance(dtype, np.dtype):
        return dtype.kind
    return numpy_dtype(dtype).kind


def reshape(array: Any, shape: tuple[int, ...]) -> Any:
    """``array.reshape(shape)`` for ndarrays and Tensors; the namespace's reshape otherwise."""
    if type(array) is _NDARRAY or not foreign(array):
        return array.reshape(shape)
    return namespace(array).reshape(array, shape)


def permute(array: Any, axes: tuple[int, ...] | None) -> Any:
    """``np.transpose(array, axes)`` (axes reversed when None) in ``array``'s library."""
    if type(array) is _NDARRAY or not foreign(array):
        return np.transpose(array, axes)
    if axes is None:
        axes = tuple(range(array.ndim - 1, -1, -1))
    return namespace(array).permute_dims(array, axes)


def swapaxes(array: Any, axis1: int, axis2: int) -> Any:
    """``np.swapaxes`` in ``array``'s library (a permutation; the standard has no swapaxes)."""
    if type(array) is _NDARRAY or not foreign(array):
        return np.swapaxes(array, axis1, axis2)
    axes = list(range(array.ndim))
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return namespace(array).permute_dims(array, tuple(axes))


def copy(array: Any) -> Any:
    """A copy of ``array`` in its own library and on its own device."""
    if type(array) is _NDARRAY or not foreign(array):
        return array.copy()
    return namespace(array).asarray(array, copy=True)


def astype(array: Any, dtype: Any) -> Any:
    """``array`` cast to the NumPy ``dtype`` (a new array), in its own library."""
    if type(array) is _NDARRAY or not foreign(array):
        return array.astype(dtype)
    xp = namespace(array)
    return xp.astype(array, dtype_of(xp, dtype))


def dtype_of(xp: Any, dtype: Any) -> Any:
    """A NumPy dtype (or its name) as the dtype object of namespace ``xp``."""
    if xp is np:
        return np.dtype(dtype)
    return getattr(xp, numpy_dtype(dtype).name)


# NumPy's names -> the standard's, for the functions the ops call.
_STANDARD_NAMES = {
    "arcsin": "asin",
    "arccos": "acos",
    "arctan": "atan",
    "arcsinh": "asinh",
    "arccosh": "acosh",
    "arctanh": "atanh",
    "arctan2": "atan2",
    "power": "pow",
    "absolute": "abs",
    "concatenate": "concat",
    "transpose": "permute_dims",
    "rint": "round",
    "cumsum": "cumulative_sum",
    "cumprod": "cumulative_prod",
}


class _NumPyStyle:
    """NumPy's functions, called on the namespace of their first array argument.

    ``xnp.exp(x)`` is ``np.exp(x)`` for an ndarray, a Python number or a Tensor (which NumPy
    dispatches back to the engine, so gradient rules run under ``create_graph``), and
    ``namespace(x).exp(x)`` for a CuPy or array_api_strict array. The ops write their forward
    and gradient rules once, with NumPy's names; the NumPy path costs one extra call.
    """

    def __getattr__(self, name: str) -> Any:
        function = _numpy_style(name)
        setattr(self, name, function)  # found in the instance dict from now on
        return function


def _numpy_style(name: str) -> Any:
    numpy_function = getattr(np, name)
    standard = _STANDARD_NAMES.get(name, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        if type(args[0]) is _NDARRAY:  # the CPU's path: one test
            return numpy_function(*args, **kwargs)
        for arg in args:
            if type(arg) is _NDARRAY:
                break
            if foreign(arg):
                xp = namespace(arg)
                if "out" in kwargs:  # the standard has no out=: compute, then fill out
                    out = kwargs.pop("out")
                    out[...] = call(*args, **kwargs)
                    return out
                if name == "copyto":
                    args[0][...] = args[1]
                    return None
                function = getattr(xp, standard, None)
                if function is None:
                    raise not_in_library(f"np.{name}", "the array API standard", arg)
                return function(*args, **kwargs)
        return numpy_function(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"np.{name}, or the array API namespace's {standard} for non-NumPy arrays."
    return call


xnp: Any = _NumPyStyle()


# -- np.linalg on any library ------------------------------------------------------------------
class _LinalgStyle:
    """``np.linalg``'s functions, called on the library of their first array argument.

    ``xlinalg.inv(a)`` is ``np.linalg.inv(a)`` for an ndarray or a Tensor (which NumPy
    dispatches back to the engine), the library's own ``linalg.inv`` for CuPy (its signatures
    are NumPy's), and the standard's linalg extension for other arrays, with NumPy's keywords
    translated: ``svd(compute_uv=False)`` is ``svdvals``, ``pinv(rcond=)`` is ``rtol=``,
    ``eigh(UPLO='U')`` reads the lower triangle of ``A^T``. What the extension lacks
    (``lstsq``...) raises ``NotImplementedError`` naming it.
    """

    def __getattr__(self, name: str) -> Any:
        function = _linalg_style(name)
        setattr(self, name, function)
        return function


def _linalg_style(name: str) -> Any:
    numpy_function = getattr(np.linalg, name)

    def call(*args: Any, **kwargs: Any) -> Any:
        first = args[0]
        if type(first) is _NDARRAY or not foreign(first):
            return numpy_function(*args, **kwargs)
        xp = namespace(first)
        if isinstance(xp, NumPyLike):  # CuPy: NumPy's signatures
            return getattr(xp.linalg, name)(*args, **kwargs)
        return _standard_linalg(name, xp, *args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"np.linalg.{name}, or the array API linalg extension's for other arrays."
    return call


def _standard_linalg(name: str, xp: Any, x: Any, *args: Any, **kwargs: Any) -> Any:
    linalg = getattr(xp, "linalg", None)
    if name == "svd":
        if not kwargs.get("compute_uv", True):
            name, kwargs = "svdvals", {}
        else:
            kwargs = {"full_matrices": kwargs.get("full_matrices", True)}
    elif name == "eigh":
        if kwargs.pop("UPLO", "L") == "U":  # the upper triangle of A is the lower one of A^T
            x = xp.matrix_transpose(x)
    elif name == "pinv":
        kwargs.pop("hermitian", None)
        rtol = kwargs.pop("rtol", kwargs.pop("rcond", None))
        if rtol is not None:
            kwargs["rtol"] = rtol
    function = getattr(linalg, name, None)
    if function is None:
        raise not_in_library(f"np.linalg.{name}", "the array API standard's linalg extension", x)
    return function(x, *args, **kwargs)


def not_in_library(function: str, where: str, array: Any) -> NotImplementedError:
    """The error for a NumPy function that ``array``'s library does not offer."""
    library = type(array).__module__.split(".")[0]
    return NotImplementedError(
        f"{function} is not in {where} nor in {library}, so it needs NumPy (or CuPy) arrays; "
        f"this one is on {device_of(array)}: move it with .cpu()"
    )


xlinalg: Any = _LinalgStyle()

"""CuPy, simulated on the CPU: a module named ``cupy`` whose arrays hold NumPy arrays.

The engine recognises CuPy by its arrays' module (``cupy``) and reaches it through
``backend.NumPyLike``: the standard's names over CuPy's NumPy-shaped functions, ``add.at``,
``random.default_rng``, ``linalg`` with NumPy's signatures, ``cuda.Device``, ``.get()``. Here
every one of those is NumPy's own function behind a wrapper that takes and returns
:class:`ndarray` (not an ``np.ndarray`` subclass, so nothing takes the engine's NumPy path by
accident); as on a GPU, an array refuses implicit conversion to NumPy and arithmetic with host
arrays, and NumPy's functions called on it run "on the device" (CuPy's ``__array_ufunc__`` and
``__array_function__``). ``installed()``
puts the module in ``sys.modules`` for the length of a ``with`` block, so tests/test_backend.py
runs its cases on the CuPy path without a GPU (``cuda-sim``).
"""

from __future__ import annotations

import contextlib
import operator
import sys
import types
from typing import Any

import numpy as np


class _Device:
    """``cupy.cuda.Device``: an id, a context manager, ``use()``."""

    def __init__(self, device_id: int = 0) -> None:
        self.id = device_id

    def use(self) -> None:
        pass

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass


def unwrap(value: Any) -> Any:
    """The NumPy arrays inside ``value`` (arrays, tuples and lists of them, or as it is)."""
    if isinstance(value, ndarray):
        return value._array
    if isinstance(value, (tuple, list)):
        return type(value)(unwrap(v) for v in value)
    if isinstance(value, dict):
        return {k: unwrap(v) for k, v in value.items()}
    return value


def wrap(value: Any) -> Any:
    """NumPy results as simulated device arrays (named tuples and tuples kept)."""
    if isinstance(value, (np.ndarray, np.generic)):
        return ndarray(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return type(value)(*(wrap(v) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(wrap(v) for v in value)
    if isinstance(value, (np.random.Generator, np.ufunc)):
        return _Proxy(value)
    return value


class _Proxy:
    """An object of NumPy's (a ufunc, a Generator, a submodule) whose calls take and return
    simulated arrays: ``cupy.add.at``, ``cupy.random.default_rng(s).random``."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        return wrap_function(getattr(self._target, name))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return wrap(self._target(*unwrap(args), **unwrap(kwargs)))


def wrap_function(function: Any) -> Any:
    if isinstance(function, (np.ufunc, types.ModuleType)):
        return _Proxy(function)
    if not callable(function) or isinstance(function, type):
        return function

    def call(*args: Any, **kwargs: Any) -> Any:
        kwargs.pop("device", None)
        return wrap(function(*unwrap(args), **unwrap(kwargs)))

    return call


class ndarray:  # noqa: N801 - CuPy's name
    """A simulated device array: NumPy inside, CuPy's behaviour outside."""

    __slots__ = ("_array", "__weakref__")

    def __init__(self, array: Any) -> None:
        self._array = np.asarray(array)

    # NumPy's functions on device arrays run on the device, as CuPy's do; with a host
    # ndarray among the arguments they refuse, as CuPy's do.
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(isinstance(a, np.ndarray) and a.ndim for a in inputs):
            return NotImplemented
        return wrap(getattr(ufunc, method)(*unwrap(inputs), **unwrap(kwargs)))

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if not all(issubclass(t, ndarray) for t in types):
            return NotImplemented
        return wrap(function(*unwrap(args), **unwrap(kwargs)))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            "Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
            "construct a NumPy array explicitly."
        )

    # -- attributes ----------------------------------------------------------------------
    shape = property(lambda self: self._array.shape)
    ndim = property(lambda self: self._array.ndim)
    size = property(lambda self: self._array.size)
    dtype = property(lambda self: self._array.dtype)
    T = property(lambda self: ndarray(self._array.T))
    mT = property(lambda self: ndarray(np.swapaxes(self._array, -1, -2)))
    device = property(lambda self: _Device(0))

    def get(self) -> np.ndarray:
        return self._array.copy()

    def item(self) -> Any:
        return self._array.item()

    def tolist(self) -> Any:
        return self._array.tolist()

    def __len__(self) -> int:
        return len(self._array)

    def __bool__(self) -> bool:
        return bool(self._array)

    def __float__(self) -> float:
        return float(self._array)

    def __int__(self) -> int:
        return int(self._array)

    def __index__(self) -> int:
        return operator.index(self._array)

    def __repr__(self) -> str:
        return f"array({self._array!r}, device=cuda-sim)"

    def __getattr__(self, name: str) -> Any:
        # methods: astype, reshape, copy, sum, fill, transpose, ... (results wrapped)
        return wrap_function(getattr(self._array, name))

    # -- indexing ------------------------------------------------------------------------
    def __getitem__(self, index: Any) -> ndarray:
        return ndarray(self._array[unwrap(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(value, np.ndarray):
            raise TypeError("cupy-sim: assigning a host ndarray to a device array")
        self._array[unwrap(index)] = unwrap(value)


def _binary(function: Any, reflected: bool = False) -> Any:
    def method(self: ndarray, other: Any) -> Any:
        if isinstance(other, np.ndarray):  # CuPy refuses host arrays in device arithmetic
            raise TypeError(f"cupy-sim: {function.__name__} with a host ndarray")
        if not isinstance(other, (ndarray, int, float, bool, complex, np.generic)):
            return NotImplemented
        a, b = (unwrap(other), self._array) if reflected else (self._array, unwrap(other))
        return ndarray(function(a, b))

    return method


def _inplace(function: Any) -> Any:
    def method(self: ndarray, other: Any) -> ndarray:
        self._array[...] = function(self._array, unwrap(other))
        return self

    return method


_ARITHMETIC = ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and_", "or_")
for _name in _ARITHMETIC + ("xor",):
    _dunder = _name.rstrip("_")
    setattr(ndarray, f"__{_dunder}__", _binary(getattr(operator, _name)))
    setattr(ndarray, f"__r{_dunder}__", _binary(getattr(operator, _name), reflected=True))
    setattr(ndarray, f"__i{_dunder}__", _inplace(getattr(operator, _name)))
for _name in ("lt", "le", "eq", "ne", "gt", "ge"):
    setattr(ndarray, f"__{_name}__", _binary(getattr(operator, _name)))
for _name in ("neg", "pos", "abs", "invert"):
    _unary = getattr(operator, _name)
    setattr(ndarray, f"__{_name}__", lambda self, f=_unary: ndarray(f(self._array)))
ndarray.__hash__ = None  # type: ignore[assignment]
ndarray.__module__ = "cupy._core.core"


def _asarray(obj: Any, dtype: Any = None, **_: Any) -> ndarray:
    if isinstance(obj, ndarray) and (dtype is None or np.dtype(dtype) == obj.dtype):
        return obj
    return ndarray(np.array(unwrap(obj), dtype=dtype, copy=True))  # host -> device copies


def _array(obj: Any, dtype: Any = None, copy: bool = True, **_: Any) -> ndarray:
    return ndarray(np.array(unwrap(obj), dtype=dtype, copy=True))


def make_module() -> types.ModuleType:
    """A fresh ``cupy`` module over NumPy."""
    module = types.ModuleType("cupy")
    module.__dict__.update(
        ndarray=ndarray,
        asarray=_asarray,
        array=_array,
        cuda=types.SimpleNamespace(Device=_Device),
        linalg=_Proxy(np.linalg),
        random=_Proxy(np.random),
        __getattr__=lambda name: wrap_function(getattr(np, name)),
    )
    return module


@contextlib.contextmanager
def installed():
    """``import cupy`` gives the simulation inside the block (and what it was after)."""
    previous = sys.modules.get("cupy")
    sys.modules["cupy"] = make_module()
    try:
        yield sys.modules["cupy"]
    finally:
        if previous is None:
            del sys.modules["cupy"]
        else:
            sys.modules["cupy"] = previous

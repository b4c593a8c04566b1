"""``Tensor``: an ndarray, its gradient, and the node that made it.

Every method and operator is written in the class body and delegates to
:mod:`tinygrad_dl.ops`, where each op's forward and gradient rule sit together. NumPy's ufuncs
and functions dispatch here through ``__array_ufunc__`` and ``__array_function__`` (see
:mod:`tinygrad_dl.ops.numpy_dispatch`), so course code written for ndarrays
(``np.dot(W, A) + b``) runs on Tensors and is differentiated.
"""

from __future__ import annotations

import importlib
import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import backend as _backend

if TYPE_CHECKING:
    from .autograd import Node

_FLOAT64 = np.dtype(np.float64)
_DEVICE_NAMES = ("cpu", "cuda", "mps", "meta", "array_api_strict")


class _Defaults:
    """The dtype Python numbers, lists and factories get (float64, the course's, unless set)."""

    dtype = _FLOAT64


def set_default_dtype(dtype: Any) -> None:
    """Make ``dtype`` what Python numbers, lists and factories become (as PyTorch's).

    Parameters
    ----------
    dtype : float16, float32 or float64
        float64 is the default: the course works in float64.

    Raises
    ------
    TypeError
        For a dtype that is not floating point.
    """
    chosen = np.dtype(dtype)
    if chosen.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating dtype, got {chosen}")
    _Defaults.dtype = chosen


def get_default_dtype() -> np.dtype:
    """The dtype Python numbers, lists and factories become (float64 unless set)."""
    return _Defaults.dtype


class _OnFirstUse:
    """Stands in for a module of this package until one of its names is first read.

    The layers are one-way: ``tensor`` (this class's data) <- ``autograd`` (the engine records
    Tensors) <- ``ops`` (each op builds Tensors). Tensor's methods delegate to the layers above
    it, so they cannot import them at module level (that would be a cycle). On the first read
    this stand-in imports the module and rebinds its own name in this module (``_ops``,
    ``_engine``) to the module itself, so every later call pays one global and one module
    attribute read: the cheapest lookup Python has.
    """

    def __init__(self, module: str, name: str):
        self._module = module
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        module = importlib.import_module(self._module, __package__)
        globals()[self._name] = module  # this module's own global, from now on the module
        return getattr(module, attribute)


_ops: Any = _OnFirstUse(".ops", "_ops")
_engine: Any = _OnFirstUse(".autograd", "_engine")


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """The array a Tensor wraps: ndarrays as they are, numbers and lists in the default dtype.

    Arrays of other array API libraries (CuPy, array_api_strict) are kept on their device.
    """
    if isinstance(data, np.ndarray):
        array = data
    elif (type(data) is not np.ndarray and _backend.foreign(data)) and not isinstance(
        data, np.generic
    ):
        return _foreign_array(data, dtype)
    elif isinstance(data, np.generic):
        array = np.asarray(data)
    else:
        try:
            array = np.asarray(data)
        except ValueError as error:  # ragged nested lists
            raise TypeError(
                f"Tensor: cannot make an array from {type(data).__name__}: {error}"
            ) from None
        if array.dtype.kind in "iuf" and dtype is None:
            array = array.astype(_Defaults.dtype)  # the course's float64 unless set
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: data must be numeric (bool, int or float); got dtype {array.dtype}"
        )
    if dtype is not None:
        array = array.astype(np.dtype(dtype), copy=False)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: dtype must be numeric (bool, int or float); got {dtype}")
    return array


def _foreign_array(data: Any, dtype: Any) -> Any:
    kind = _backend.kind(data.dtype)
    if kind not in "biuf":
        raise TypeError(
            f"Tensor: data must be numeric (bool, int or float); got dtype {data.dtype}"
        )
    if dtype is not None:
        xp = _backend.namespace(data)
        data = xp.astype(data, _backend.dtype_of(xp, dtype), copy=False)
    return data


def _dialect(
    op: str, axis: Any, dim: Any, keepdims: bool | None, keepdim: bool | None
) -> tuple[Any, bool]:
    """NumPy's ``axis=``/``keepdims=`` or PyTorch's ``dim=``/``keepdim=``, never both."""
    if dim is not None:
        if axis is not None:
            raise TypeError(
                f"{op}: got both axis={axis!r} and dim={dim!r}; pass one (dim is PyTorch's "
                f"name for NumPy's axis)"
            )
        axis = dim
    if keepdim is not None:
        if keepdims is not None:
            raise TypeError(
                f"{op}: got both keepdims= and keepdim=; pass one (keepdim is PyTorch's name "
                f"for NumPy's keepdims)"
            )
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)  # PyTorch accepts a list of dims
    return axis, bool(keepdims)


def _ddof(
    op: str, ddof: int | None, unbiased: bool | None, correction: int | None, torch_style: bool
) -> int:
    """The ``N - ddof`` divisor's ``ddof``: NumPy's 0, or PyTorch's 1 in its dialect."""
    given = [
        name
        for name, value in (("ddof", ddof), ("unbiased", unbiased), ("correction", correction))
        if value is not None
    ]
    if len(given) > 1:
        raise TypeError(f"{op}: got {' and '.join(given)}; pass one of them")
    if ddof is not None:
        return ddof
    if unbiased is not None:
        return 1 if unbiased else 0
    if correction is not None:
        return correction
    return 1 if torch_style else 0


def _torch_style(axis: Any, dim: Any, keepdim: Any) -> bool:
    """Whether a reduction was called in PyTorch's dialect: ``dim=``, ``keepdim=``, or a list of
    axes (``x.std([1, 2])``: NumPy accepts only an int or a tuple)."""
    return dim is not None or keepdim is not None or isinstance(axis, list)


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _require_ndim(op: str, ndim: int, a: Any, b: Any) -> None:
    shapes = (np.shape(getattr(a, "data", a)), np.shape(getattr(b, "data", b)))
    if any(len(shape) != ndim for shape in shapes):
        raise ValueError(
            f"{op}: expects two tensors with {ndim} axes each, got shapes {shapes[0]} and "
            f"{shapes[1]}"
        )


def _times(value: Any, alpha: Any) -> Any:
    # a Tensor stays one (recorded), so ``x.add_(w, alpha=2)`` still sends w its gradient
    return value * alpha if isinstance(value, Tensor) else np.asarray(value) * alpha


def _check_can_require_grad(array: np.ndarray) -> None:
    if _backend.kind(array.dtype) != "f":
        raise TypeError(
            f"Tensor: only floating-point tensors can require grad; this one has dtype "
            f"{array.dtype} (integer and boolean tensors are labels, masks and indices)"
        )


class Tensor:
    """An n-dimensional array that records the operations applied to it for reverse mode.

    Parameters
    ----------
    data : array-like
        An ndarray is wrapped without copying and keeps its dtype (float32 stays float32, an
        integer array stays integer); Python numbers and lists become float64 (or the dtype
        set by :func:`set_default_dtype`).
    requires_grad : bool
        Record operations on this tensor so ``backward`` can compute ``.grad``. Only floating
        dtypes can require grad (``TypeError`` otherwise).
    dtype : dtype, optional
        Cast to this dtype.
    device : str, optional
        ``"cpu"`` (NumPy), ``"cuda"`` / ``"cuda:N"`` (CuPy), or ``"array_api_strict"``; the
        data is copied there. Without it the data stays where it is (a CuPy array on its GPU).
    """

    # A tensor made by an op carries the op's record itself (``_op``, ``_inputs``, ``_second``,
    # ``_extra``, ``_seq``, ``_info``; see tinygrad_dl.autograd): one object per op for the
    # cyclic garbage collector to scan, not two. Leaves have ``_op = None`` and ``_seq = -1``.
    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_op",
        "_inputs",
        "_second",
        "_extra",
        "_seq",
        "_info",
        "__weakref__",
    )

    # NumPy defers to us in mixed expressions such as ``ndarray + Tensor``.
    __array_priority__ = 1000

    def __init__(
        self, data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = None
    ):
        if isinstance(data, Tensor):
            data = data.data
        array = _as_array(data, dtype)
        if device is not None:
            array = _backend.to_device(array, device)
        if requires_grad:
            _check_can_require_grad(array)
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._op = self._inputs = self._second = self._extra = self._info = None
        self._seq = -1

    # -- attributes ---------------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        """The NumPy dtype (also for data on a GPU: CuPy's dtypes are NumPy's)."""
        data = self.data
        if type(data) is np.ndarray:
            return data.dtype
        return _backend.numpy_dtype(data.dtype)

    @property
    def device(self) -> Any:
        """Where the data lives, as PyTorch names it: ``"cpu"``, ``"cuda:0"``..."""
        return _backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded op)."""
        return self._op is None

    @property
    def grad_fn(self) -> Node | None:
        """The recorded op that made this tensor, as a :class:`~tinygrad_dl.autograd.Node`
        (``None`` for leaves)."""
        return _engine.node_of(self)

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """The transpose (all axes reversed), as ``ndarray.T``."""
        return _ops.transpose(self)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - NumPy's name
        """The last two axes swapped (a stack of matrices transposed)."""
        return _ops.swapaxes(self, -1, -2)

    # -- conversion ---------------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The values as an ndarray: the data itself on the CPU, a copy to the host otherwise."""
        self._refuse_if_graph("numpy()")
        return _backend.to_numpy(self.data)

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        # An integer or boolean cast (np.int64(t), np.asarray(t, dtype=int)) is a discrete
        # result with no gradient to lose, as PyTorch's t.long(); a float copy would drop it.
        if dtype is None or np.dtype(dtype).kind not in "biu":
            self._refuse_if_graph(
                "np.asarray() (or np.array(), np.r_, a NumPy call on a list of Tensors)",
                " To build an array from Tensors use np.stack([...]) or tg.stack, which keep it.",
            )
        if type(self.data) is not np.ndarray and _backend.foreign(self.data):
            host = _backend.to_numpy(self.data)  # a copy from the device; PyTorch refuses
            return host if dtype is None else host.astype(dtype)
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def _refuse_if_graph(self, what: str, advice: str = "") -> None:
        # A plain array would silently drop the graph; PyTorch refuses too.
        if self.requires_grad and _engine.is_grad_enabled():
            raise RuntimeError(
                f"{what} on a Tensor that requires grad would drop its graph; use "
                f".detach().numpy() (or .data) if you want the values.{advice}"
            )

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar; this one "
                f"has shape {self.shape}"
            )
        return _backend.to_numpy(self.data).item()

    def tolist(self) -> Any:
        """The values as nested Python lists (a number for a 0-d tensor)."""
        return _backend.to_numpy(self.data).tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.data.dtype.kind not in "iu" or self.data.size != 1:
            raise TypeError(
                f"only integer one-element tensors can be used as an index; this one has dtype "
                f"{self.dtype} and shape {self.shape}"
            )
        return int(_backend.to_numpy(self.data).item())

    def __bool__(self) -> bool:
        return bool(self.data)  # NumPy's error for many elements

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    __hash__ = object.__hash__  # by identity, as ``==`` is elementwise

    def __repr__(self) -> str:
        body = np.array2string(_backend.to_numpy(self.data), separator=", ", prefix="Tensor(")
        extras = []
        dtype = self.dtype
        if dtype not in (_FLOAT64,) and dtype.kind in "f":
            extras.append(f"dtype={dtype}")
        elif dtype.kind in "biu" and self.data.size == 0:
            extras.append(f"dtype={dtype}")
        if type(self.data) is not np.ndarray and _backend.foreign(self.data):
            extras.append(f"device='{self.device}'")
        if self._op is not None:
            extras.append(f"grad_fn=<{self._op.name}>")
        elif self.requires_grad:
            extras.append("requires_grad=True")
        return "Tensor(" + ", ".join([body] + extras) + ")"

    # -- autograd -----------------------------------------------------------------------------
    def backward(
        self, gradient: Any = None, retain_graph: bool = False, create_graph: bool = False
    ) -> None:
        """Accumulate ``d self / d leaf`` into every leaf's ``.grad`` (as PyTorch does).

        Parameters
        ----------
        gradient : array-like, optional
            The vector of the vector-Jacobian product; required unless ``self`` is a scalar.
        retain_graph : bool
            Keep the saved arrays for another backward through the same graph.
        create_graph : bool
            Record the backward pass so the gradients can be differentiated again.

        Raises
        ------
        RuntimeError
            For a non-scalar output without ``gradient`` (naming its shape), a tensor with no
            graph, or a second backward through a freed graph.
        """
        if not self.requires_grad:
            raise RuntimeError(
                f"backward: this tensor (shape {self.shape}) does not require grad and has no "
                f"graph; create the leaves with requires_grad=True"
            )
        seed = _engine._seed(self, gradient, "backward")
        _engine.backward([self], [seed], retain_graph or create_graph, create_graph)

    def _leaf_like(self, data: np.ndarray) -> Tensor:
        """A leaf of this tensor's class around ``data`` with its ``requires_grad``."""
        copied = _new_tensor(data, type(self))
        copied.requires_grad = self.requires_grad
        return copied

    def __copy__(self) -> Tensor:
        """A leaf sharing this one's data and ``.grad`` (``copy.copy``); leaves only.

        A shallow copy of a recorded tensor would be a second record of the same op.
        """
        if self._op is not None:
            raise RuntimeError(
                f"copy: only leaf tensors support copy.copy; this one (shape {self.shape}) was "
                f"made by op '{self._op.name}'. Copy t.detach() for its values"
            )
        copied = self._leaf_like(self.data)
        copied.grad = self.grad
        if hasattr(self, "__dict__"):  # a subclass's own attributes
            copied.__dict__.update(self.__dict__)
        return copied

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A leaf with copied data, ``requires_grad`` and ``.grad`` (``copy.deepcopy``).

        Only leaves can be deep-copied, as in PyTorch: a copy of a recorded tensor would
        duplicate its whole graph (and a deep one would exhaust Python's recursion).
        """
        if self._op is not None:
            raise RuntimeError(
                f"deepcopy: only leaf tensors (made by the user, not by an op) support deepcopy; "
                f"this one (shape {self.shape}) was made by op '{self._op.name}'. Deep-copy "
                f"t.detach() for its values"
            )
        import copy

        copied = self._leaf_like(_backend.copy(self.data))  # on its own device
        memo[id(self)] = copied
        copied.grad = None if self.grad is None else copy.deepcopy(self.grad, memo)
        if hasattr(self, "__dict__"):  # a subclass's own attributes
            copied.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return copied

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, outside the graph."""
        return _new_tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if self._op is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; use detach()"
            )
        if requires_grad:
            _check_can_require_grad(self.data)
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Tensor:
        """Keep this interior tensor's gradient in ``.grad`` during backward."""
        if self._op is not None:
            _engine._details(self).retained = True
        elif not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        return self

    def zero_grad_(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    # -- in-place changes: recorded as PyTorch records them (tinygrad_dl.ops.inplace) ---------
    # Outside no_grad a leaf that requires grad refuses; a tensor in the graph, or one changed
    # with an operand that requires grad, records the change and stays the same object.
    def _inplace(self, ufunc: np.ufunc, other: Any, what: str) -> Tensor:
        op, extra = _ops.inplace.arithmetic(ufunc, other)
        previous = _engine.begin_inplace(self, what, (other,), op)
        value = other.data if isinstance(other, Tensor) else other
        try:
            if type(self.data) is np.ndarray or not _backend.foreign(self.data):
                ufunc(self.data, value, out=self.data)
            else:  # CuPy, array_api_strict: the standard's in-place operator
                _INPLACE_OPERATORS[ufunc](self.data, value)
        except (ValueError, TypeError, RuntimeError):
            error = _ops.broadcast.mixed_device_error(what, self, value)
            if error is not None:
                raise error from None
            raise ValueError(
                f"{what}: shapes {self.shape} and {np.shape(value)} cannot be broadcast "
                f"in place into {self.shape}"
            ) from None
        if previous is not None:
            operand = (
                previous if other is self else _ops.inplace.operand(other, op)
            )  # c += c: old c
            _engine.finish_inplace(self, previous, op, operand, extra)
        return self

    def __iadd__(self, other: Any) -> Tensor:
        return self._inplace(np.add, other, "+=")

    def __isub__(self, other: Any) -> Tensor:
        return self._inplace(np.subtract, other, "-=")

    def __imul__(self, other: Any) -> Tensor:
        return self._inplace(np.multiply, other, "*=")

    def __itruediv__(self, other: Any) -> Tensor:
        return self._inplace(np.true_divide, other, "/=")

    def __setitem__(self, index: Any, value: Any) -> None:
        SETITEM = _ops.inplace.SETITEM  # noqa: N806
        index = _ops.shape.normalize_index(index)
        previous = _engine.begin_inplace(self, "__setitem__", (value,), SETITEM)
        self.data[index] = value.data if isinstance(value, Tensor) else value
        if previous is not None:
            if isinstance(value, Tensor):
                operand = previous if value is self else value
                _engine.finish_inplace(self, previous, SETITEM, operand, (index, None))
            else:
                _engine.finish_inplace(self, previous, SETITEM, None, (index, value))

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value`` in place (recorded on a tensor in the graph)."""
        FILL = _ops.inplace.FILL  # noqa: N806
        previous = _engine.begin_inplace(self, "fill_", (), FILL)
        if type(self.data) is np.ndarray or not _backend.foreign(self.data):
            self.data.fill(value)
        else:
            self.data[...] = value
        if previous is not None:
            _engine.finish_inplace(self, previous, FILL, None, value)
        return self

    def zero_(self) -> Tensor:
        """Set every element to 0 in place (recorded in the graph, as ``fill_``)."""
        return self.fill_(0)

    # -- NumPy interoperability ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NumPy ufuncs (``np.exp(x)``, ``np.maximum(0, Z)``) run the matching differentiable op."""
        return _ops.numpy_dispatch.array_ufunc(self, ufunc, method, *inputs, **kwargs)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: dict) -> Any:
        """NumPy functions (``np.dot``, ``np.sum``) run the matching differentiable op."""
        return _ops.numpy_dispatch.array_function(self, function, types, args, kwargs)

    # -- operators ----------------------------------------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        """``self + other`` with broadcasting."""
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        """``other + self`` (IEEE addition commutes exactly)."""
        return _ops.add(self, other)

    def __sub__(self, other: Any) -> Tensor:
        """``self - other`` with broadcasting."""
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        """``other - self`` with broadcasting."""
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        """``self * other`` (elementwise) with broadcasting."""
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        """``other * self`` (IEEE multiplication commutes exactly)."""
        return _ops.mul(self, other)

    def __truediv__(self, other: Any) -> Tensor:
        """``self / other`` with broadcasting."""
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        """``other / self`` with broadcasting."""
        return _ops.div(other, self)

    def __mod__(self, other: Any) -> Tensor:
        """``self % other`` (``np.remainder``: the sign of ``other``), with broadcasting."""
        return _ops.elementwise.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        """``other % self`` with broadcasting."""
        return _ops.elementwise.remainder(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        """``self // other`` (``np.floor_divide``), with broadcasting; its gradient is 0."""
        return _ops.elementwise.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        """``other // self`` with broadcasting; its gradient is 0."""
        return _ops.elementwise.floor_divide(other, self)

    def __pow__(self, other: Any) -> Tensor:
        """``self ** other`` with broadcasting."""
        return _ops.power(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        """``other ** self`` with broadcasting."""
        return _ops.power(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        """``self @ other``: matrix product, as ``np.matmul``."""
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        """``other @ self``: matrix product, as ``np.matmul``."""
        return _ops.matmul(other, self)

    def __neg__(self) -> Tensor:
        """``-self``."""
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        """``+self``: the tensor itself."""
        return self

    def __abs__(self) -> Tensor:
        """``abs(self)``, elementwise."""
        return _ops.abs(self)

    def __getitem__(self, index: Any) -> Tensor:
        """``self[index]``: NumPy's basic and advanced indexing, differentiable."""
        return _ops.shape.getitem(self, index)

    # Comparisons and logical operators give boolean tensors outside the graph (as PyTorch).
    def __lt__(self, other: Any) -> Tensor:
        """``self < other``, elementwise (a boolean tensor, outside the graph)."""
        return _ops.elementwise.compare(np.less, self, other)

    def __le__(self, other: Any) -> Tensor:
        """``self <= other``, elementwise (a boolean tensor, outside the graph)."""
        return _ops.elementwise.compare(np.less_equal, self, other)

    def __gt__(self, other: Any) -> Tensor:
        """``self > other``, elementwise (a boolean tensor, outside the graph)."""
        return _ops.elementwise.compare(np.greater, self, other)

    def __ge__(self, other: Any) -> Tensor:
        """``self >= other``, elementwise (a boolean tensor, outside the graph)."""
        return _ops.elementwise.compare(np.greater_equal, self, other)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        """``self == other``, elementwise (a boolean tensor, outside the graph)."""
        return _ops.elementwise.compare(np.equal, self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        """``self != other``, elementwise (a boolean tensor, outside the graph)."""
        return _ops.elementwise.compare(np.not_equal, self, other)

    def __and__(self, other: Any) -> Tensor:
        """``self & other``: bitwise/logical and (outside the graph)."""
        return _ops.elementwise.compare(np.bitwise_and, self, other)

    def __or__(self, other: Any) -> Tensor:
        """``self | other``: bitwise/logical or (outside the graph)."""
        return _ops.elementwise.compare(np.bitwise_or, self, other)

    def __xor__(self, other: Any) -> Tensor:
        """``self ^ other``: bitwise/logical exclusive or (outside the graph)."""
        return _ops.elementwise.compare(np.bitwise_xor, self, other)

    def __invert__(self) -> Tensor:
        """``~self``: bitwise/logical not (outside the graph)."""
        return _new_tensor(np.invert(self.data))

    # -- elementwise --------------------------------------------------------------------------
    def exp(self) -> Tensor:
        """``e^x``, elementwise."""
        return _ops.exp(self)

    def log(self) -> Tensor:
        """Natural logarithm, elementwise."""
        return _ops.log(self)

    def log1p(self) -> Tensor:
        """``log(1 + x)``, accurate for small ``x``."""
        return _ops.log1p(self)

    def sqrt(self) -> Tensor:
        """Square root, elementwise."""
        return _ops.sqrt(self)

    def square(self) -> Tensor:
        """``x^2``, elementwise."""
        return _ops.square(self)

    def abs(self) -> Tensor:
        """``|x|``, elementwise (gradient ``sign(x)``, 0 at 0 as PyTorch)."""
        return _ops.abs(self)

    def sin(self) -> Tensor:
        """Sine, elementwise."""
        return _ops.sin(self)

    def cos(self) -> Tensor:
        """Cosine, elementwise."""
        return _ops.cos(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent, the course's ``g(z) = tanh(z)``."""
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        """The course's ``sigma(z) = 1 / (1 + e^-z)``, computed stably."""
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        """The course's ``ReLU(z) = max(0, z)`` (gradient 0 at 0)."""
        return _ops.relu(self)

    def leaky_relu(self, alpha: float = 0.01) -> Tensor:
        """``max(alpha z, z)``."""
        return _ops.leaky_relu(self, alpha)

    def softplus(self) -> Tensor:
        """``log(1 + e^x)``, computed stably."""
        return _ops.softplus(self)

    def clip(self, a_min: Any = None, a_max: Any = None) -> Tensor:
        """Values limited to ``[a_min, a_max]`` (gradient 1 inside, 0 outside)."""
        return _ops.clip(self, a_min, a_max)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum; at ties between two tensors the gradient is shared (as PyTorch)."""
        return _ops.maximum(self, other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum; at ties between two tensors the gradient is shared (as PyTorch)."""
        return _ops.minimum(self, other)

    # -- more elementwise functions (NumPy's names, and PyTorch's aliases) ---------------------
    # Piecewise-constant ones (sign, floor, ceil, trunc, round) keep the graph with gradient 0.
    def sign(self) -> Tensor:
        """``sign(x)`` (gradient 0)."""
        return _ops.elementwise.sign(self)

    def floor(self) -> Tensor:
        """Round down (gradient 0)."""
        return _ops.elementwise.floor(self)

    def ceil(self) -> Tensor:
        """Round up (gradient 0)."""
        return _ops.elementwise.ceil(self)

    def trunc(self) -> Tensor:
        """Round toward zero (gradient 0)."""
        return _ops.elementwise.trunc(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Round half to even to ``decimals`` places (gradient 0)."""
        return _ops.elementwise.round(self, decimals)

    def log2(self) -> Tensor:
        """Base-2 logarithm."""
        return _ops.elementwise.log2(self)

    def log10(self) -> Tensor:
        """Base-10 logarithm."""
        return _ops.elementwise.log10(self)

    def exp2(self) -> Tensor:
        """``2^x``."""
        return _ops.elementwise.exp2(self)

    def expm1(self) -> Tensor:
        """``e^x - 1``, accurate for small ``x``."""
        return _ops.elementwise.expm1(self)

    def tan(self) -> Tensor:
        """Tangent."""
        return _ops.elementwise.tan(self)

    def sinh(self) -> Tensor:
        """Hyperbolic sine."""
        return _ops.elementwise.sinh(self)

    def cosh(self) -> Tensor:
        """Hyperbolic cosine."""
        return _ops.elementwise.cosh(self)

    def arcsin(self) -> Tensor:
        """Inverse sine (PyTorch: ``asin``)."""
        return _ops.elementwise.arcsin(self)

    def arccos(self) -> Tensor:
        """Inverse cosine (PyTorch: ``acos``)."""
        return _ops.elementwise.arccos(self)

    def arctan(self) -> Tensor:
        """Inverse tangent (PyTorch: ``atan``)."""
        return _ops.elementwise.arctan(self)

    asin = arcsin
    acos = arccos
    atan = arctan

    def prod(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Product over ``axis`` (all axes by default; zeros included in the gradient)."""
        axis, keepdims = _dialect("prod", axis, dim, keepdims, keepdim)
        return _ops.reduce.prod(self, axis, keepdims)

    def cumprod(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Running product along ``axis`` (NumPy: the flattened values when ``None``)."""
        axis, _ = _dialect("cumprod", axis, dim, None, None)
        return _ops.reduce.cumprod(self, axis)

    # -- linear algebra -----------------------------------------------------------------------
    def dot(self, other: Any) -> Tensor:
        """``np.dot(self, other)``."""
        return _ops.dot(self, other)

    def matmul(self, other: Any) -> Tensor:
        """``self @ other``."""
        return _ops.matmul(self, other)

    def outer(self, other: Any) -> Tensor:
        """Outer product of the flattened tensors, as ``np.outer`` / ``torch.outer``."""
        return _ops.linalg.outer(self, other)

    def inner(self, other: Any) -> Tensor:
        """Sum over the last axes, as ``np.inner`` / ``torch.inner``."""
        return _ops.linalg.inner(self, other)

    def kron(self, other: Any) -> Tensor:
        """Kronecker product, as ``np.kron`` / ``torch.kron``."""
        return _ops.linalg.kron(self, other)

    def det(self) -> Tensor:
        """Determinant of the last two axes, as ``torch.det``."""
        return _ops.linalg.det(self)

    def inverse(self) -> Tensor:
        """Matrix inverse of the last two axes, as ``torch.inverse``."""
        return _ops.linalg.inv(self)

    def pinverse(self) -> Tensor:
        """Moore-Penrose pseudo-inverse, as ``torch.pinverse``."""
        return _ops.linalg.pinv(self)

    # -- reductions (NumPy's axis=/keepdims= or PyTorch's dim=/keepdim=) ----------------------
    def sum(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
        dtype: Any = None,
    ) -> Tensor:
        """Sum over ``axis`` (all axes by default); ``dim=``/``keepdim=`` are accepted too.

        ``dtype`` casts first (``x.sum(dtype=np.float64)``), as NumPy's and PyTorch's ``dtype=``.
        """
        axis, keepdims = _dialect("sum", axis, dim, keepdims, keepdim)
        source = self if dtype is None else _ops.astype(self, dtype)
        return _ops.reduce.sum(source, axis, keepdims)

    def mean(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
        dtype: Any = None,
    ) -> Tensor:
        """Mean over ``axis`` (all axes by default); ``dim=``/``keepdim=`` are accepted too.

        ``dtype`` casts first (``x.mean(dtype=np.float64)``), as NumPy's and PyTorch's ``dtype=``.
        """
        axis, keepdims = _dialect("mean", axis, dim, keepdims, keepdim)
        source = self if dtype is None else _ops.astype(self, dtype)
        return _ops.reduce.mean(source, axis, keepdims)

    def max(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Any:
        """Maximum over ``axis`` (ties share the gradient).

        With PyTorch's ``dim=`` it returns ``(values, indices)`` as ``torch.max(x, dim)``
        does, and the gradient goes to the element at ``indices`` (as PyTorch's).
        """
        if dim is not None:
            return self._extreme_along("max", axis, dim, keepdims, keepdim)
        axis, keepdims = _dialect("max", axis, dim, keepdims, keepdim)
        return _ops.reduce.max(self, axis, keepdims)

    def min(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Any:
        """Minimum over ``axis``; with ``dim=``, ``(values, indices)`` as ``torch.min``."""
        if dim is not None:
            return self._extreme_along("min", axis, dim, keepdims, keepdim)
        axis, keepdims = _dialect("min", axis, dim, keepdims, keepdim)
        return _ops.reduce.min(self, axis, keepdims)

    def _extreme_along(self, op: str, axis: Any, dim: Any, keepdims: Any, keepdim: Any) -> Any:
        axis, keepdims = _dialect(op, axis, dim, keepdims, keepdim)
        if not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{op}: dim must be an int for (values, indices), got {axis!r}")
        if self.data.ndim == 0:  # PyTorch: a scalar along dim 0 or -1 is itself, at index 0
            values = _ops.reduce.max(self, axis) if op == "max" else _ops.reduce.min(self, axis)
            return _ops.indexing.ValuesIndices(values, _new_tensor(np.asarray(0)))
        find = np.argmax if op == "max" else np.argmin
        indices = _new_tensor(np.asarray(find(self.data, axis=axis, keepdims=True)))
        values = _ops.indexing.take_along_axis(self, indices, axis)
        if not keepdims:
            values, indices = values.squeeze(axis), indices.squeeze(axis)
        return _ops.indexing.ValuesIndices(values, indices)

    def var(
        self,
        axis: Any = None,
        ddof: int | None = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
        unbiased: bool | None = None,
        correction: int | None = None,
    ) -> Tensor:
        """Variance ``sum((x - mean)^2) / (N - ddof)`` over ``axis``.

        NumPy's default ``ddof=0``; in PyTorch's dialect (``dim=``, ``keepdim=``,
        ``unbiased=`` or ``correction=`` given, or a list of axes, which NumPy refuses)
        PyTorch's default ``correction=1``.
        """
        ddof = _ddof("var", ddof, unbiased, correction, _torch_style(axis, dim, keepdim))
        axis, keepdims = _dialect("var", axis, dim, keepdims, keepdim)
        return _ops.reduce.var(self, axis, ddof, keepdims)

    def std(
        self,
        axis: Any = None,
        ddof: int | None = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
        unbiased: bool | None = None,
        correction: int | None = None,
    ) -> Tensor:
        """Standard deviation ``sqrt(var)``; ``ddof`` defaults as in :meth:`var`."""
        ddof = _ddof("std", ddof, unbiased, correction, _torch_style(axis, dim, keepdim))
        axis, keepdims = _dialect("std", axis, dim, keepdims, keepdim)
        return _ops.reduce.std(self, axis, ddof, keepdims)

    def logsumexp(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """``log(sum(exp(x)))`` over ``axis``, computed stably."""
        axis, keepdims = _dialect("logsumexp", axis, dim, keepdims, keepdim)
        return _ops.reduce.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """``e^x / sum(e^x)`` along ``axis`` (default the last)."""
        axis, _ = _dialect("softmax", axis, dim, None, None)
        return _ops.reduce.softmax(self, -1 if axis is None else axis)

    def log_softmax(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """``x - logsumexp(x)`` along ``axis`` (default the last)."""
        axis, _ = _dialect("log_softmax", axis, dim, None, None)
        return _ops.reduce.log_softmax(self, -1 if axis is None else axis)

    def argmax(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the maximum along ``axis`` (an int64 tensor, outside the graph)."""
        axis, keepdims = _dialect("argmax", axis, dim, keepdims, keepdim)
        return _new_tensor(np.asarray(np.argmax(self.data, axis=axis, keepdims=keepdims)))

    def argmin(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Index of the minimum along ``axis`` (an int64 tensor, outside the graph)."""
        axis, keepdims = _dialect("argmin", axis, dim, keepdims, keepdim)
        return _new_tensor(np.asarray(np.argmin(self.data, axis=axis, keepdims=keepdims)))

    def any(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether any element along ``axis`` is nonzero (a boolean tensor, outside the graph)."""
        axis, keepdims = _dialect("any", axis, dim, keepdims, keepdim)
        return _new_tensor(np.asarray(np.any(self.data, axis=axis, keepdims=keepdims)))

    def all(
        self,
        axis: Any = None,
        keepdims: bool | None = None,
        *,
        dim: Any = None,
        keepdim: bool | None = None,
    ) -> Tensor:
        """Whether every element along ``axis`` is nonzero (a boolean tensor, outside the graph)."""
        axis, keepdims = _dialect("all", axis, dim, keepdims, keepdim)
        return _new_tensor(np.asarray(np.all(self.data, axis=axis, keepdims=keepdims)))

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Tensor:
        """Running sum along ``axis`` (NumPy: the flattened values when ``None``)."""
        axis, _ = _dialect("cumsum", axis, dim, None, None)
        return _ops.reduce.cumsum(self, axis)

    def norm(
        self,
        p: Any = "fro",
        dim: Any = None,
        keepdim: bool = False,
        *,
        axis: Any = None,
        keepdims: bool | None = None,
    ) -> Tensor:
        """Vector ``p``-norm of the elements over ``dim`` (all of them by default), as torch.norm.

        ``p`` is ``"fro"``/2 (``sqrt(sum(x^2))``, gradient 0 for an all-zero input, as
        PyTorch), 1, ``inf``, ``-inf`` or any ``p > 0``. Matrix norms are ``np.linalg.norm``'s.
        """
        axis, keepdims = _dialect("norm", axis, dim, keepdims, keepdim)
        if p == "fro" or p == 2:
            total = (self * self).sum(axis, keepdims)
            positive = total.data > 0
            return _ops.where(positive, _ops.sqrt(_ops.where(positive, total, 1.0)), 0.0)
        magnitude = _ops.abs(self)
        if p == 1:
            return magnitude.sum(axis, keepdims)
        if p == np.inf:
            return magnitude.max(axis, keepdims)
        if p == -np.inf:
            return magnitude.min(axis, keepdims)
        if isinstance(p, (int, float)) and p > 0:  # gradient 0 at an all-zero input, not NaN
            return _ops.linalg.vector_norm(self, axis=axis, keepdims=bool(keepdims), ord=p)
        raise ValueError(
            f"norm: p={p!r} is not supported (use 'fro', 1, 2, inf, -inf or p > 0; matrix "
            f"norms are np.linalg.norm's)"
        )

    # -- more elementwise functions and running reductions (ops.elementwise, ops.reduce) ------
    def diff(
        self, n: int = 1, axis: int = -1, prepend: Any = None, append: Any = None, *, dim=None
    ) -> Tensor:
        """The ``n``-th difference along ``axis`` (``dim=`` too), as ``np.diff``/``torch.diff``."""
        axis = axis if dim is None else dim
        return _ops.reduce.diff(self, n, axis, prepend, append)

    def arcsinh(self) -> Tensor:
        """``arcsinh x``; ``d/dx = 1 / sqrt(x^2 + 1)``."""
        return _ops.elementwise.arcsinh(self)

    def arccosh(self) -> Tensor:
        """``arccosh x``; ``d/dx = 1 / sqrt(x^2 - 1)``."""
        return _ops.elementwise.arccosh(self)

    def arctanh(self) -> Tensor:
        """``arctanh x``; ``d/dx = 1 / (1 - x^2)``."""
        return _ops.elementwise.arctanh(self)

    def sinc(self) -> Tensor:
        """``sin(pi x) / (pi x)``, NumPy's and PyTorch's normalized sinc."""
        return _ops.elementwise.sinc(self)

    def remainder(self, other: Any) -> Tensor:
        """``self mod other`` with the sign of ``other`` (``%``)."""
        return _ops.elementwise.remainder(self, other)

    def fmod(self, other: Any) -> Tensor:
        """``self mod other`` with the sign of ``self`` (C's fmod)."""
        return _ops.elementwise.fmod(self, other)

    def floor_divide(self, other: Any) -> Tensor:
        """``floor(self / other)`` (``//``); gradient 0."""
        return _ops.elementwise.floor_divide(self, other)

    def copysign(self, other: Any) -> Tensor:
        """``|self|`` with the sign of ``other``."""
        return _ops.elementwise.copysign(self, other)

    def fmax(self, other: Any) -> Tensor:
        """Elementwise larger, ignoring NaN; a tie's gradient goes to ``self`` (torch.fmax)."""
        return _ops.elementwise.fmax(self, other)

    def fmin(self, other: Any) -> Tensor:
        """Elementwise smaller, ignoring NaN; a tie's gradient goes to ``self`` (torch.fmin)."""
        return _ops.elementwise.fmin(self, other)

    def hypot(self, other: Any) -> Tensor:
        """``sqrt(self^2 + other^2)``."""
        return _ops.elementwise.hypot(self, other)

    def arctan2(self, other: Any) -> Tensor:
        """The angle of the point ``(other, self)``."""
        return _ops.elementwise.arctan2(self, other)

    def logaddexp(self, other: Any) -> Tensor:
        """``log(e^self + e^other)``, stable."""
        return _ops.elementwise.logaddexp(self, other)

    def logaddexp2(self, other: Any) -> Tensor:
        """``log2(2^self + 2^other)``, stable."""
        return _ops.elementwise.logaddexp2(self, other)

    # PyTorch's names for the same functions
    asin, acos, atan = arcsin, arccos, arctan
    asinh, acosh, atanh = arcsinh, arccosh, arctanh
    atan2 = arctan2
    fix = trunc

    # -- shape (NumPy's names, and PyTorch's) -------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        return _ops.reshape(self, *shape)

    def view(self, *shape: Any) -> Tensor:
        """PyTorch's name for :meth:`reshape` (a new shape, the same values)."""
        return _ops.reshape(self, *shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return _ops.reshape(self, tuple(other.shape))

    def view_as(self, other: Tensor) -> Tensor:
        """Reshaped to ``other``'s shape."""
        return _ops.reshape(self, tuple(other.shape))

    def transpose(self, *axes: Any, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """Axes permuted, as ``ndarray.transpose`` (reversed by default).

        Two axes of a tensor with other than two axes (``x.transpose(0, 1)`` on 3-d) swap them,
        as ``torch.transpose``, where NumPy would refuse; so do ``dim0=``/``dim1=``. On a
        matrix ``x.transpose(0, 1)`` is NumPy's identity permutation.
        """
        if dim0 is not None or dim1 is not None:
            if axes or dim0 is None or dim1 is None:
                raise TypeError("transpose: pass dim0= and dim1= together, without axes")
            return _ops.swapaxes(self, dim0, dim1)
        if len(axes) == 2 and self.data.ndim != 2 and all(_is_int(a) for a in axes):
            return _ops.swapaxes(self, axes[0], axes[1])
        return _ops.transpose(self, *axes)

    def permute(self, *dims: Any) -> Tensor:
        """Axes in the order ``dims`` (PyTorch's name for ``transpose(axes)``)."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if len(dims) != self.data.ndim:
            raise ValueError(
                f"permute: got {len(dims)} dims {dims} for a tensor with {self.data.ndim} axes "
                f"(shape {self.shape})"
            )
        return _ops.transpose(self, dims)

    def t(self) -> Tensor:
        """The transpose of a matrix (0-d and 1-d tensors come back as they are)."""
        if self.data.ndim > 2:
            raise ValueError(f"t: expects a tensor with at most 2 axes, got shape {self.shape}")
        return _ops.transpose(self) if self.data.ndim == 2 else self

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Two axes exchanged."""
        return _ops.swapaxes(self, axis1, axis2)

    def expand_dims(self, axis: Any = None, *, dim: Any = None) -> Tensor:
        """A new axis of length 1 inserted at ``axis``."""
        axis, _ = _dialect("expand_dims", axis, dim, None, None)
        return _ops.shape.expand_dims(self, axis)

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of length 1 at ``dim`` (PyTorch's name for ``expand_dims``)."""
        return _ops.shape.expand_dims(self, dim)

    def squeeze(self, axis: Any = None, *, dim: Any = None) -> Tensor:
        """Axes of length 1 removed (all of them, or those of ``axis``/``dim``).

        A named axis whose length is not 1 is left alone, as ``torch.squeeze`` does (NumPy's
        ``np.squeeze`` refuses it).
        """
        axis, _ = _dialect("squeeze", axis, dim, None, None)
        if axis is not None and self.data.ndim:
            ndim = self.data.ndim
            dims = axis if isinstance(axis, tuple) else (axis,)
            for d in dims:
                if not -ndim <= d < ndim:
                    raise ValueError(f"squeeze: dim {d} is out of range for shape {self.shape}")
            axis = tuple(d for d in dims if self.data.shape[d] == 1)
        return _ops.shape.squeeze(self, axis)

    def broadcast_to(self, shape: Any) -> Tensor:
        """Broadcast to ``shape`` (the gradient sums over the broadcast axes)."""
        return _ops.broadcast_to(self, shape)

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes``, where -1 keeps an axis' length (as ``torch.expand``)."""
        if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
            sizes = tuple(sizes[0])
        lead = len(sizes) - self.data.ndim
        if lead < 0:
            raise ValueError(
                f"expand: {len(sizes)} sizes {sizes} for a tensor with {self.data.ndim} axes; "
                f"give at least one size per axis"
            )
        shape = tuple(
            self.data.shape[i - lead] if size == -1 and i >= lead else size
            for i, size in enumerate(sizes)
        )
        return _ops.broadcast_to(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        """Broadcast to ``other``'s shape."""
        return _ops.broadcast_to(self, tuple(other.shape))

    def repeat(self, *repeats: Any) -> Tensor:
        """The tensor tiled ``repeats[i]`` times along axis ``i``, as ``torch.repeat``/``np.tile``.

        Differentiable: the gradient sums the tiles back.
        """
        if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)):
            repeats = tuple(repeats[0])
        if len(repeats) < self.data.ndim:
            raise ValueError(
                f"repeat: {len(repeats)} repeats {repeats} for a tensor of shape {self.shape}; "
                f"give at least one per axis"
            )
        shape = (1,) * (len(repeats) - self.data.ndim) + self.data.shape
        # tile as a broadcast: (1, s1, 1, s2, ...) -> (r1, s1, r2, s2, ...) -> (r1 s1, r2 s2, ...)
        spaced = tuple(n for size in shape for n in (1, size))
        tiled = tuple(n for r, size in zip(repeats, shape) for n in (r, size))
        merged = tuple(r * size for r, size in zip(repeats, shape))
        return _ops.reshape(_ops.broadcast_to(_ops.reshape(self, spaced), tiled), merged)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Axes ``start_dim..end_dim`` merged into one (all of them by default: a 1-d tensor)."""
        ndim = self.data.ndim
        if ndim == 0:
            return _ops.reshape(self, 1)
        start, end = start_dim % ndim, end_dim % ndim
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {self.shape})"
            )
        if start == 0 and end == ndim - 1:
            return _ops.shape.flatten(self)
        shape = self.data.shape
        return _ops.reshape(self, shape[:start] + (-1,) + shape[end + 1 :])

    def ravel(self) -> Tensor:
        """The values as a 1-d tensor, as ``ndarray.ravel``."""
        return _ops.shape.flatten(self)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Axis ``dim`` split into axes of ``sizes`` (one may be -1), as ``torch.unflatten``."""
        ndim = self.data.ndim
        if not -ndim <= dim < ndim:
            raise ValueError(f"unflatten: dim {dim} is out of range for shape {self.shape}")
        dim %= ndim
        shape = self.data.shape
        return _ops.reshape(self, shape[:dim] + tuple(sizes) + shape[dim + 1 :])

    def flip(self, *axes: Any, dims: Any = None) -> Tensor:
        """Order reversed along ``axes`` (``x.flip(0)``, ``x.flip((0, 1))``, ``dims=``)."""
        if dims is not None and axes:
            raise TypeError("flip: got axes and dims=; pass one")
        if dims is None and axes:
            dims = axes[0] if len(axes) == 1 else axes
        return _ops.shape.flip(self, tuple(dims) if isinstance(dims, list) else dims)

    def roll(self, shifts: Any, dims: Any = None, *, axis: Any = None) -> Tensor:
        """Elements shifted cyclically by ``shifts`` along ``dims`` (flattened if None)."""
        axis, _ = _dialect("roll", axis, dims, None, None)
        return _ops.shape.roll(self, shifts, axis)

    def repeat_interleave(self, repeats: Any, dim: int | None = None) -> Tensor:
        """Each element repeated ``repeats`` times along ``dim``, as ``np.repeat``."""
        repeats = repeats.data if isinstance(repeats, Tensor) else repeats
        return _ops.shape.repeat(self, repeats, dim)

    def tile(self, reps: Any) -> Tensor:
        """The tensor tiled ``reps`` times, as ``np.tile`` (the gradient sums the tiles)."""
        return _ops.shape.tile(self, reps)

    def moveaxis(self, source: Any, destination: Any) -> Tensor:
        """Axes moved from ``source`` to ``destination`` (PyTorch: ``movedim``)."""
        return _ops.shape.moveaxis(self, source, destination)

    movedim = moveaxis

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """The diagonal (``offset`` above the main one) of the ``axis1``, ``axis2`` planes."""
        return _ops.linalg.diagonal(self, offset, axis1, axis2)

    def diag(self, diagonal: int = 0) -> Tensor:
        """A 1-d tensor as the matrix with it on diagonal ``diagonal``; a matrix's diagonal."""
        return _ops.linalg.diag(self, diagonal)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        """Sum of the diagonal."""
        return _ops.linalg.trace(self, offset, axis1, axis2)

    def tril(self, diagonal: int = 0) -> Tensor:
        """Zeros above diagonal ``diagonal`` (gradient: the same mask)."""
        return _ops.linalg.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        """Zeros below diagonal ``diagonal`` (gradient: the same mask)."""
        return _ops.linalg.triu(self, diagonal)

    def astype(self, dtype: Any) -> Tensor:
        """Cast to ``dtype`` (differentiable between float dtypes)."""
        return _ops.astype(self, dtype)

    def split(
        self, split_size_or_sections: Any, dim: int = 0, *, axis: int | None = None
    ) -> list[Tensor]:
        """Split along ``dim`` as ``torch.split``; with ``axis=``, as ``np.split``.

        ``torch.split`` takes a piece size (the last piece may be smaller) or the list of piece
        sizes; ``np.split`` (ndarray has no split method, so there is nothing to clash with)
        takes a number of equal sections or the indices to split at.
        """
        indices_or_sections = split_size_or_sections
        if axis is not None:
            if dim != 0:
                raise TypeError(f"split: got both axis={axis!r} and dim={dim!r}; pass one")
            return _ops.shape.split(self, indices_or_sections, axis)
        size = self.data.shape[dim]
        if _is_int(indices_or_sections):
            step = int(indices_or_sections)
            if step <= 0:
                raise ValueError(f"split: split_size must be positive, got {step}")
            sizes = [min(step, size - start) for start in range(0, size, step)] or [0]
        else:
            sizes = [int(n) for n in indices_or_sections]
            if sum(sizes) != size:
                raise ValueError(
                    f"split: sizes {sizes} sum to {sum(sizes)}, but axis {dim} has length "
                    f"{size} (shape {self.shape})"
                )
        bounds = np.cumsum(sizes)[:-1].tolist()
        return _ops.shape.split(self, bounds, dim)

    def chunk(self, chunks: int, dim: int = 0) -> list[Tensor]:
        """At most ``chunks`` pieces of ``ceil(n / chunks)`` along ``dim``, as ``torch.chunk``."""
        if chunks <= 0:
            raise ValueError(f"chunk: chunks must be positive, got {chunks}")
        size = self.data.shape[dim]
        return self.split(max(-(-size // chunks), 1), dim=dim)

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``length`` elements from ``start`` along ``dim`` (a differentiable slice)."""
        size = self.data.shape[dim]
        start = start + size if start < 0 else start
        if not (0 <= start and length >= 0 and start + length <= size):
            raise ValueError(
                f"narrow: start {start} and length {length} do not fit in axis {dim} of length "
                f"{size} (shape {self.shape})"
            )
        index = (slice(None),) * (dim % self.data.ndim) + (slice(start, start + length),)
        return _ops.shape.getitem(self, index)

    def rot90(self, k: int = 1, dims: Any = (0, 1)) -> Tensor:
        """Rotate by 90 degrees ``k`` times in the plane ``dims``, as ``torch.rot90``."""
        return _ops.rot90(self, k, dims)

    # -- selecting and sorting (ops.indexing) ------------------------------------------------
    def sort(
        self,
        axis: int | None = None,
        descending: bool = False,
        *,
        dim: int | None = None,
        stable: bool = False,
    ) -> Any:
        """``(values, indices)`` sorted along ``axis`` (default the last), as ``torch.sort``."""
        axis, _ = _dialect("sort", axis, dim, None, None)
        return _ops.indexing.sort(self, -1 if axis is None else axis, descending, stable)

    def argsort(
        self,
        axis: int | None = None,
        descending: bool = False,
        *,
        dim: int | None = None,
        stable: bool = False,
    ) -> Tensor:
        """Positions that sort along ``axis`` (default the last): int64, outside the graph."""
        axis, _ = _dialect("argsort", axis, dim, None, None)
        return _ops.indexing.argsort(self, -1 if axis is None else axis, descending, stable)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:
        """``(values, indices)`` of the ``k`` largest (or smallest) along ``dim``."""
        return _ops.indexing.topk(self, k, dim, largest, sorted)

    def take(self, indices: Any, axis: int | None = None) -> Tensor:
        """Elements at ``indices`` along ``axis`` (of the flattened values if None)."""
        return _ops.indexing.take(self, indices, axis)

    def take_along_axis(self, indices: Any, axis: int | None = -1) -> Tensor:
        """``out[i, j] = self[i, indices[i, j]]`` for ``axis=1``, as ``np.take_along_axis``."""
        return _ops.indexing.take_along_axis(self, indices, axis)

    def take_along_dim(self, indices: Any, dim: int | None = None) -> Tensor:
        """PyTorch's name for :meth:`take_along_axis` (``dim=None``: the flattened values)."""
        return _ops.indexing.take_along_axis(self, indices, dim)

    def index_select(self, dim: int, index: Any) -> Tensor:
        """The slices at the 1-d ``index`` along ``dim``."""
        return _ops.indexing.index_select(self, dim, index)

    def gather(self, dim: int, index: Any) -> Tensor:
        """``out[i][j] = self[i][index[i][j]]`` for ``dim=1``, as ``torch.gather``."""
        return _ops.indexing.gather(self, dim, index)

    def scatter(self, dim: int, index: Any, src: Any = None, *, value: Any = None) -> Tensor:
        """A copy with ``out[i][index[i][j]] = src[i][j]`` (``dim=1``); out of place."""
        return _ops.indexing.scatter(self, dim, index, src, value=value)

    def scatter_add(self, dim: int, index: Any, src: Any) -> Tensor:
        """A copy with ``out[i][index[i][j]] += src[i][j]`` (``dim=1``); out of place."""
        return _ops.indexing.scatter_add(self, dim, index, src)

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where the boolean ``mask`` is True, ``self`` elsewhere."""
        return _ops.indexing.masked_fill(self, mask, value)

    def where(self, condition: Any, other: Any) -> Tensor:
        """``self`` where ``condition``, else ``other`` (``torch.Tensor.where``)."""
        return _ops.where(condition, self, other)

    # -- PyTorch's names for arithmetic and comparisons ---------------------------------------
    def pow(self, exponent: Any) -> Tensor:
        """``self ** exponent``."""
        return _ops.power(self, exponent)

    def neg(self) -> Tensor:
        """``-self``."""
        return _ops.neg(self)

    def reciprocal(self) -> Tensor:
        """``1 / self``."""
        return _ops.div(1.0, self)

    def rsqrt(self) -> Tensor:
        """``1 / sqrt(self)``."""
        return _ops.div(1.0, _ops.sqrt(self))

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Values limited to ``[min, max]`` (gradient 1 inside, 0 outside), as ``torch.clamp``."""
        if min is None and max is None:
            raise ValueError("clamp: at least one of min and max must be given")
        return _ops.clip(self, min, max)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        """Values limited below by ``min``."""
        return _ops.clip(self, min, None)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        """Values limited above by ``max``."""
        return _ops.clip(self, None, max)

    def eq(self, other: Any) -> Tensor:
        """``self == other`` (boolean, outside the graph)."""
        return self.__eq__(other)

    def ne(self, other: Any) -> Tensor:
        """``self != other`` (boolean, outside the graph)."""
        return self.__ne__(other)

    def lt(self, other: Any) -> Tensor:
        """``self < other`` (boolean, outside the graph)."""
        return self.__lt__(other)

    def le(self, other: Any) -> Tensor:
        """``self <= other`` (boolean, outside the graph)."""
        return self.__le__(other)

    def gt(self, other: Any) -> Tensor:
        """``self > other`` (boolean, outside the graph)."""
        return self.__gt__(other)

    def ge(self, other: Any) -> Tensor:
        """``self >= other`` (boolean, outside the graph)."""
        return self.__ge__(other)

    def allclose(
        self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
    ) -> bool:
        """Whether every element is close to ``other``'s, as ``np.allclose``."""
        other = other.data if isinstance(other, Tensor) else other
        return bool(np.allclose(self.data, other, rtol=rtol, atol=atol, equal_nan=equal_nan))

    def mm(self, other: Any) -> Tensor:
        """Matrix product of two matrices (2-d only, as ``torch.mm``)."""
        _require_ndim("mm", 2, self, other)
        return _ops.matmul(self, other)

    def bmm(self, other: Any) -> Tensor:
        """Batched matrix product of ``(b, n, m)`` and ``(b, m, p)`` (as ``torch.bmm``)."""
        _require_ndim("bmm", 3, self, other)
        return _ops.matmul(self, other)

    # -- PyTorch's queries, copies and in-place updates ---------------------------------------
    def numel(self) -> int:
        """The number of elements (``self.size``)."""
        return self.data.size

    def dim(self) -> int:
        """The number of axes (``self.ndim``)."""
        return self.data.ndim

    def ndimension(self) -> int:
        """The number of axes (``self.ndim``)."""
        return self.data.ndim

    def clone(self) -> Tensor:
        """A copy of the values that stays in the graph (``dX = dY``)."""
        if self.data.dtype.kind == "f":
            return _ops.mul(self, 1)
        return _new_tensor(self.data.copy())

    def copy(self) -> Tensor:
        """A copy of the values that stays in the graph, as ``ndarray.copy`` (:meth:`clone`)."""
        return self.clone()

    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
        return self._new_filled("new_zeros", size, 0, dtype, requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
        return self._new_filled("new_ones", size, 1, dtype, requires_grad)

    def new_full(
        self, size: Any, fill_value: Any, *, dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """``fill_value`` in ``size`` with this tensor's dtype (unless ``dtype`` is given)."""
        return self._new_filled("new_full", (size,), fill_value, dtype, requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` with this tensor's dtype (unless ``dtype`` is given)."""
        data = data.data if isinstance(data, Tensor) else data
        array = np.array(data, dtype=self.data.dtype if dtype is None else dtype)
        return Tensor(array, requires_grad=requires_grad)

    def _new_filled(
        self, op: str, size: tuple, value: Any, dtype: Any, requires_grad: bool
    ) -> Tensor:
        if len(size) == 1 and isinstance(size[0], (tuple, list)):
            size = tuple(size[0])
        if not all(_is_int(n) and n >= 0 for n in size):
            raise TypeError(f"{op}: size must be non-negative ints, got {size}")
        array = np.full(size, value, dtype=self.data.dtype if dtype is None else dtype)
        return Tensor(array, requires_grad=requires_grad)

    def contiguous(self) -> Tensor:
        """The tensor itself (every Tensor here behaves as contiguous)."""
        return self

    def cpu(self) -> Tensor:
        """The tensor in host memory (NumPy): itself if it is there, else a differentiable copy."""
        return self.to("cpu")

    def cuda(self, device: int | None = None) -> Tensor:
        """The tensor on the GPU (CuPy): ``x.cuda()``, ``x.cuda(1)``; see :meth:`to`."""
        return self.to("cuda" if device is None else f"cuda:{device}")

    def to(self, *args: Any, dtype: Any = None, device: Any = None, copy: bool = False) -> Tensor:
        """Cast and/or move: ``x.to(np.float32)``, ``x.to("cuda")``, ``x.to(torch.float32)``.

        A move to another device is recorded: the gradient flows back to the source device.
        """
        for arg in args:
            if isinstance(arg, Tensor):
                dtype = arg.dtype
            elif isinstance(arg, str) and arg.split(":")[0] in _DEVICE_NAMES:
                device = arg
            elif type(arg).__name__ == "device":  # torch.device("cuda")
                device = str(arg)
            else:
                dtype = arg
        if type(dtype).__module__ == "torch":  # torch.float32 -> "float32", for ported code
            dtype = str(dtype).removeprefix("torch.")
        result = self
        if device is not None:
            result = _ops.to_device(self, device)
        if dtype is not None:
            result = _ops.astype(result, dtype)
        return result.clone() if copy and result is self else result

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to ``other``'s dtype."""
        return _ops.astype(self, other.dtype)

    def add_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self += alpha * other`` in place (recorded in the graph, as ``+=``)."""
        return self._inplace(np.add, other if alpha == 1 else _times(other, alpha), "add_")

    def sub_(self, other: Any, *, alpha: float = 1) -> Tensor:
        """``self -= alpha * other`` in place (recorded in the graph, as ``+=``)."""
        return self._inplace(np.subtract, other if alpha == 1 else _times(other, alpha), "sub_")

    def mul_(self, other: Any) -> Tensor:
        """``self *= other`` in place (recorded in the graph, as ``+=``)."""
        return self._inplace(np.multiply, other, "mul_")

    def div_(self, other: Any) -> Tensor:
        """``self /= other`` in place (recorded in the graph, as ``+=``)."""
        return self._inplace(np.true_divide, other, "div_")

    # -- PyTorch's activations (ops.activations) ---------------------------------------------
    def erf(self) -> Tensor:
        """The error function; ``d/dx = 2/sqrt(pi) e^{-x^2}``."""
        return _ops.activations.erf(self)

    def gelu(self, approximate: str = "none") -> Tensor:
        """GELU ``x Phi(x)`` (``approximate="tanh"``: the tanh formula), as ``F.gelu``."""
        return _ops.activations.gelu(self, approximate)

    def silu(self) -> Tensor:
        """SiLU ``x sigmoid(x)``."""
        return _ops.activations.silu(self)

    swish = silu

    def elu(self, alpha: float = 1.0) -> Tensor:
        """ELU: ``x`` for ``x > 0``, ``alpha (e^x - 1)`` otherwise."""
        return _ops.activations.elu(self, alpha)

    def celu(self, alpha: float = 1.0) -> Tensor:
        """CELU: ``x`` for ``x > 0``, ``alpha (e^{x/alpha} - 1)`` otherwise."""
        return _ops.activations.celu(self, alpha)

    def selu(self) -> Tensor:
        """SELU: ``scale * elu(x, alpha)`` with PyTorch's constants."""
        return _ops.activations.selu(self)

    def logsigmoid(self) -> Tensor:
        """``log(sigmoid(x))``, stable."""
        return _ops.activations.logsigmoid(self)

    def softsign(self) -> Tensor:
        """``x / (1 + |x|)``."""
        return _ops.activations.softsign(self)

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """``x`` clipped to ``[min_val, max_val]`` (gradient 1 strictly inside)."""
        return _ops.activations.hardtanh(self, min_val, max_val)

    def relu6(self) -> Tensor:
        """``min(max(0, x), 6)``."""
        return _ops.activations.relu6(self)

    def hardsigmoid(self) -> Tensor:
        """``relu6(x + 3) / 6``."""
        return _ops.activations.hardsigmoid(self)

    def hardswish(self) -> Tensor:
        """``x relu6(x + 3) / 6``."""
        return _ops.activations.hardswish(self)

    def mish(self) -> Tensor:
        """``x tanh(softplus(x))``."""
        return _ops.activations.mish(self)

    # -- more of PyTorch's names: arithmetic with options, tests, running ops ---------------
    def add(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self + alpha * other``, as ``torch.add``."""
        return _ops.add(self, other if alpha == 1 else _ops.mul(other, alpha))

    def sub(self, other: Any, *, alpha: Any = 1) -> Tensor:
        """``self - alpha * other``, as ``torch.sub``."""
        return _ops.sub(self, other if alpha == 1 else _ops.mul(other, alpha))

    def mul(self, other: Any) -> Tensor:
        """``self * other``."""
        return _ops.mul(self, other)

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """``self / other``; ``rounding_mode="trunc"`` or ``"floor"`` rounds the quotient (gradient
        0, and integer inputs give an integer result), as ``torch.div``."""
        if rounding_mode is None:
            return _ops.div(self, other)
        if rounding_mode not in ("trunc", "floor"):
            raise ValueError(
                f"div: rounding_mode must be None, 'trunc' or 'floor', got {rounding_mode!r}"
            )
        if rounding_mode == "floor":
            return _ops.elementwise.floor_divide(self, other)
        other_data = other.data if isinstance(other, Tensor) else np.asarray(other)
        if self.data.dtype.kind in "biu" and other_data.dtype.kind in "biu":
            quotient = np.floor_divide(self.data, other_data)
            inexact = (quotient * other_data != self.data) & ((self.data < 0) != (other_data < 0))
            return _new_tensor(np.asarray(quotient + inexact))  # floor -> toward zero
        return _ops.elementwise.trunc(_ops.div(self, other))

    divide, multiply, subtract = div, mul, sub
    true_divide = div

    def lerp(self, end: Any, weight: Any) -> Tensor:
        """``self + weight (end - self)``, as ``torch.lerp``."""
        return _ops.add(self, _ops.mul(weight, _ops.sub(end, self)))

    def isnan(self) -> Tensor:
        """Where the values are NaN (boolean, outside the graph)."""
        return _new_tensor(_backend.xnp.isnan(self.data))

    def isinf(self) -> Tensor:
        """Where the values are +-inf (boolean, outside the graph)."""
        return _new_tensor(_backend.xnp.isinf(self.data))

    def isfinite(self) -> Tensor:
        """Where the values are neither NaN nor +-inf (boolean, outside the graph)."""
        return _new_tensor(_backend.xnp.isfinite(self.data))

    def isclose(
        self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
    ) -> Tensor:
        """Elementwise ``|self - other| <= atol + rtol |other|`` (boolean, outside the graph)."""
        other = other.data if isinstance(other, Tensor) else other
        close = _backend.xnp.isclose(self.data, other, rtol=rtol, atol=atol, equal_nan=equal_nan)
        return _new_tensor(np.asarray(close) if isinstance(close, np.generic) else close)

    def logcumsumexp(self, dim: int) -> Tensor:
        """``log sum_{j <= k} e^{x_j}`` along ``dim``, stable."""
        return _ops.reduce.logcumsumexp(self, dim)

    def cummax(self, dim: int) -> Any:
        """``(values, indices)`` of the running maximum along ``dim``, as ``torch.cummax``."""
        return _ops.reduce.running_extreme(self, dim, True)

    def cummin(self, dim: int) -> Any:
        """``(values, indices)`` of the running minimum along ``dim``, as ``torch.cummin``."""
        return _ops.reduce.running_extreme(self, dim, False)

    def masked_select(self, mask: Any) -> Tensor:
        """The elements where the boolean ``mask`` (broadcast with ``self``) is True, as 1-d."""
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"masked_select: mask must be boolean, got dtype {mask.dtype}")
        shape = np.broadcast_shapes(self.data.shape, mask.shape)
        return _ops.broadcast_to(self, shape)[np.broadcast_to(mask, shape)]

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        """Every window of ``size`` elements, ``step`` apart, along ``dimension``: that axis
        becomes the window count and a new last axis of ``size`` holds each window, as
        ``torch.Tensor.unfold`` (the gradient adds overlapping windows back)."""
        ndim = max(self.data.ndim, 1)
        if not -ndim <= dimension < ndim:
            raise ValueError(f"unfold: dimension {dimension} is out of range for {self.shape}")
        if self.data.ndim == 0:
            return _ops.reshape(self, (1,)) if size == 1 else self.reshape(1).unfold(0, size, step)
        dimension %= ndim
        length = self.data.shape[dimension]
        if size < 0 or size > length or step < 1:
            raise ValueError(
                f"unfold: size {size} and step {step} do not fit axis {dimension} of length "
                f"{length} (shape {self.shape}); need 0 <= size <= {length} and step >= 1"
            )
        starts = np.arange(0, length - size + 1, step)
        index = starts[:, None] + np.arange(size)  # (windows, size)
        windows = _ops.indexing.take(self, index, dimension)
        return _ops.shape.moveaxis(windows, dimension + 1, -1)

    def pad(self, pad: Sequence[int], mode: str = "constant", value: float = 0.0) -> Tensor:
        """``torch.nn.functional.pad(self, pad, mode, value)``: ``(left, right, top, ...)``
        amounts from the last axis backwards; negative amounts crop."""
        from .nn.conv import pad as torch_pad  # nn builds on Tensor: imported when used

        return torch_pad(self, pad, mode, value)

    ger = outer

    def cross(self, other: Any, dim: int | None = None) -> Tensor:
        """Cross product of 3-vectors along ``dim`` (default: the first axis of length 3, as
        ``torch.cross``)."""
        if dim is None:
            shape = np.broadcast_shapes(self.shape, np.shape(getattr(other, "data", other)))
            dim = next((d for d, n in enumerate(shape) if n == 3), None)
            if dim is None:
                raise ValueError(f"cross: no axis of length 3 in shape {shape}")
        return _ops.linalg.cross(self, other, axis=dim)

    def bitwise_not(self) -> Tensor:
        """``~self`` (integer or boolean, outside the graph)."""
        return self.__invert__()

    def bitwise_and(self, other: Any) -> Tensor:
        """``self & other`` (integer or boolean, outside the graph)."""
        return self.__and__(other)

    def bitwise_or(self, other: Any) -> Tensor:
        """``self | other`` (integer or boolean, outside the graph)."""
        return self.__or__(other)

    def bitwise_xor(self, other: Any) -> Tensor:
        """``self ^ other`` (integer or boolean, outside the graph)."""
        return self.__xor__(other)

    def __lshift__(self, other: Any) -> Tensor:
        """``self << other`` (integers, outside the graph)."""
        return _ops.elementwise.compare(np.left_shift, self, other)

    def __rshift__(self, other: Any) -> Tensor:
        """``self >> other`` (integers, outside the graph)."""
        return _ops.elementwise.compare(np.right_shift, self, other)

    def __rlshift__(self, other: Any) -> Tensor:
        """``other << self`` (integers, outside the graph)."""
        return _ops.elementwise.compare(np.left_shift, other, self)

    def __rrshift__(self, other: Any) -> Tensor:
        """``other >> self`` (integers, outside the graph)."""
        return _ops.elementwise.compare(np.right_shift, other, self)

    def __rand__(self, other: Any) -> Tensor:
        """``other & self`` (outside the graph)."""
        return _ops.elementwise.compare(np.bitwise_and, other, self)

    def __ror__(self, other: Any) -> Tensor:
        """``other | self`` (outside the graph)."""
        return _ops.elementwise.compare(np.bitwise_or, other, self)

    def __rxor__(self, other: Any) -> Tensor:
        """``other ^ self`` (outside the graph)."""
        return _ops.elementwise.compare(np.bitwise_xor, other, self)

    bitwise_left_shift, bitwise_right_shift = __lshift__, __rshift__
    lshift, rshift = __lshift__, __rshift__

    # PyTorch's casts, last in the class: in the class body their names would shadow the
    # builtins float, int and bool for anything written after them.
    def double(self) -> Tensor:
        """Cast to float64."""
        return _ops.astype(self, np.float64)

    def half(self) -> Tensor:
        """Cast to float16."""
        return _ops.astype(self, np.float16)

    def long(self) -> Tensor:
        """Cast to int64 (outside the graph)."""
        return _ops.astype(self, np.int64)

    def float(self) -> Tensor:
        """Cast to float32, as ``torch.Tensor.float`` (the course's default is float64)."""
        return _ops.astype(self, np.float32)

    def int(self) -> Tensor:
        """Cast to int32 (outside the graph)."""
        return _ops.astype(self, np.int32)

    def bool(self) -> Tensor:
        """Cast to bool (outside the graph)."""
        return _ops.astype(self, np.bool_)

    def type(self, dtype: Any = None) -> Any:
        """Cast to ``dtype`` as :meth:`to` does; without one, the dtype's name (as a string)."""
        if dtype is None:
            return str(self.data.dtype)
        return self.to(dtype)


_INPLACE_OPERATORS = {
    np.add: operator.iadd,
    np.subtract: operator.isub,
    np.multiply: operator.imul,
    np.true_divide: operator.itruediv,
}


def _new_tensor(data: np.ndarray, cls: type = Tensor) -> Tensor:
    """A leaf Tensor (or ``cls``) around ``data`` with no checks (the hot path of every op)."""
    tensor = object.__new__(cls)
    tensor.data = data
    tensor.grad = None
    tensor.requires_grad = False
    tensor._op = tensor._inputs = tensor._second = tensor._extra = tensor._info = None
    tensor._seq = -1
    return tensor

"""``Tensor``: an ndarray, its gradient, and the node that made it.

Every method and operator is written in the class body and delegates to
:mod:`tinygrad_dl.ops`, where each op's forward and gradient rule sit together. NumPy's ufuncs
and functions dispatch here through ``__array_ufunc__`` and ``__array_function__`` (see
:mod:`tinygrad_dl.ops.numpy_dispatch`), so course code written for ndarrays
(``np.dot(W, A) + b``) runs on Tensors and is differentiated.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .autograd import Node

_FLOAT64 = np.dtype(np.float64)


class _OnFirstUse:
    """A module of this package, imported the first time one of its names is read.

    The layers are one-way: ``tensor`` (this class's data) <- ``autograd`` (the engine records
    Tensors) <- ``ops`` (each op builds Tensors). Tensor's methods delegate to the layers above
    it, so they reach them through this object instead of a module-level import (which would
    be a cycle). Each name read is cached on this object, so after the first call a method
    pays one attribute read. Only functions and modules are read through it, never values that
    change.
    """

    def __init__(self, module: str):
        self._module = module

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module(self._module, __package__), name)
        setattr(self, name, value)  # cached here; later reads skip __getattr__
        return value


_ops = _OnFirstUse(".ops")
_engine = _OnFirstUse(".autograd")


def _as_array(data: Any, dtype: Any) -> np.ndarray:
    """The array a Tensor wraps: ndarrays as they are, Python numbers and lists as float64."""
    if isinstance(data, np.ndarray):
        array = data
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
            array = array.astype(_FLOAT64)  # Python numbers and lists: the course's float64
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: data must be numeric (bool, int or float); got dtype {array.dtype}"
        )
    if dtype is not None:
        array = array.astype(np.dtype(dtype), copy=False)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Tensor: dtype must be numeric (bool, int or float); got {dtype}")
    return array


def _check_can_require_grad(array: np.ndarray) -> None:
    if array.dtype.kind != "f":
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
        integer array stays integer); Python numbers and lists become float64.
    requires_grad : bool
        Record operations on this tensor so ``backward`` can compute ``.grad``. Only floating
        dtypes can require grad (``TypeError`` otherwise).
    dtype : dtype, optional
        Cast to this dtype.
    """

    __slots__ = ("data", "grad", "requires_grad", "_node", "__weakref__")
    # NumPy defers to us in mixed expressions such as ``ndarray + Tensor``.
    __array_priority__ = 1000

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None):
        if isinstance(data, Tensor):
            data = data.data
        array = _as_array(data, dtype)
        if requires_grad:
            _check_can_require_grad(array)
        self.data = array
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self._node = None

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
        return self.data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user (not by a recorded op)."""
        return self._node is None

    @property
    def grad_fn(self) -> Node | None:
        """The recorded node that made this tensor (``None`` for leaves)."""
        return self._node

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
        """The underlying ndarray (shared, not copied)."""
        self._refuse_if_graph("numpy()")
        return self.data

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        self._refuse_if_graph("np.asarray()")
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def _refuse_if_graph(self, what: str) -> None:
        # A plain array would silently drop the graph; PyTorch refuses too.
        if self.requires_grad and _engine.is_grad_enabled():
            raise RuntimeError(
                f"{what} on a Tensor that requires grad would drop its graph; use "
                f".detach().numpy() (or .data) if you want the values"
            )

    def item(self) -> float | int | bool:
        """The single value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(
                f"item: only one-element tensors can be converted to a Python scalar; this one "
                f"has shape {self.shape}"
            )
        return self.data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists (a number for a 0-d tensor)."""
        return self.data.tolist()

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
        return int(self.data.item())

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
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = []
        if self.data.dtype not in (_FLOAT64,) and self.data.dtype.kind in "f":
            extras.append(f"dtype={self.data.dtype}")
        elif self.data.dtype.kind in "biu" and self.data.size == 0:
            extras.append(f"dtype={self.data.dtype}")
        if self._node is not None:
            extras.append(f"grad_fn=<{self._node.op.name}>")
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

    def detach(self) -> Tensor:
        """A new leaf sharing this tensor's data, outside the graph."""
        return _new_tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` on a leaf in place and return it."""
        if self._node is not None and not requires_grad:
            raise RuntimeError(
                "requires_grad_: only leaf tensors can change requires_grad; use detach()"
            )
        if requires_grad:
            _check_can_require_grad(self.data)
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self) -> Tensor:
        """Keep this interior tensor's gradient in ``.grad`` during backward."""
        if self._node is not None:
            import weakref

            self._node.details().retained = weakref.ref(self)
        elif not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad")
        return self

    def zero_grad_(self) -> None:
        """Forget the accumulated gradient (``.grad = None``)."""
        self.grad = None

    # -- in-place changes (allowed only where no gradient can be corrupted) -------------------
    def _prepare_inplace(self, what: str, other: Any = None) -> None:
        if _engine.is_grad_enabled():
            if self.requires_grad:
                raise RuntimeError(
                    f"{what}: in-place change of a tensor that requires grad (shape "
                    f"{self.shape}); do it under tg.no_grad() (as optimisers do), or write "
                    f"x = x + ... to record it"
                )
            if isinstance(other, Tensor) and other.requires_grad:
                raise RuntimeError(
                    f"{what}: an in-place change cannot record the gradient of its operand; "
                    f"write x = x ... y instead"
                )
        _engine.note_inplace_change(self.data)

    def _inplace(self, ufunc: np.ufunc, other: Any, what: str) -> Tensor:
        self._prepare_inplace(what, other)
        value = other.data if isinstance(other, Tensor) else other
        try:
            ufunc(self.data, value, out=self.data)
        except ValueError:
            raise ValueError(
                f"{what}: shapes {self.shape} and {np.shape(value)} cannot be broadcast "
                f"in place into {self.shape}"
            ) from None
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
        self._prepare_inplace("__setitem__", value)
        index = _ops.shape.normalize_index(index)
        self.data[index] = value.data if isinstance(value, Tensor) else value

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value`` in place (a leaf, or under ``no_grad``)."""
        self._prepare_inplace("fill_")
        self.data.fill(value)
        return self

    def zero_(self) -> Tensor:
        """Set every element to 0 in place (a leaf, or under ``no_grad``)."""
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

    # -- linear algebra -----------------------------------------------------------------------
    def dot(self, other: Any) -> Tensor:
        """``np.dot(self, other)``."""
        return _ops.dot(self, other)

    def matmul(self, other: Any) -> Tensor:
        """``self @ other``."""
        return _ops.matmul(self, other)

    # -- reductions ---------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        return _ops.reduce.sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        return _ops.reduce.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis`` (the gradient is shared among ties)."""
        return _ops.reduce.max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis`` (the gradient is shared among ties)."""
        return _ops.reduce.min(self, axis, keepdims)

    def var(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Variance over ``axis``, ``sum((x - mean)^2) / (N - ddof)``."""
        return _ops.reduce.var(self, axis, ddof, keepdims)

    def std(self, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        """Standard deviation over ``axis``, ``sqrt(var)``."""
        return _ops.reduce.std(self, axis, ddof, keepdims)

    def logsumexp(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """``log(sum(exp(x)))`` over ``axis``, computed stably."""
        return _ops.reduce.logsumexp(self, axis, keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """``e^x / sum(e^x)`` along ``axis``."""
        return _ops.reduce.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """``x - logsumexp(x)`` along ``axis``."""
        return _ops.reduce.log_softmax(self, axis)

    def argmax(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Index of the maximum along ``axis`` (an integer tensor, outside the graph)."""
        return _new_tensor(np.asarray(np.argmax(self.data, axis=axis, keepdims=keepdims)))

    def argmin(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        """Index of the minimum along ``axis`` (an integer tensor, outside the graph)."""
        return _new_tensor(np.asarray(np.argmin(self.data, axis=axis, keepdims=keepdims)))

    # -- shape --------------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """The same values in a new shape: ``x.reshape(2, 3)`` or ``x.reshape((2, 3))``."""
        return _ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Axes permuted (reversed by default), as ``ndarray.transpose``."""
        return _ops.transpose(self, *axes)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        """Two axes exchanged."""
        return _ops.swapaxes(self, axis1, axis2)

    def expand_dims(self, axis: Any) -> Tensor:
        """A new axis of length 1 inserted at ``axis``."""
        return _ops.expand_dims(self, axis)

    def squeeze(self, axis: Any = None) -> Tensor:
        """Axes of length 1 removed (all of them, or those in ``axis``)."""
        return _ops.squeeze(self, axis)

    def broadcast_to(self, shape: Any) -> Tensor:
        """Broadcast to ``shape`` (the gradient sums over the broadcast axes)."""
        return _ops.broadcast_to(self, shape)

    def flatten(self) -> Tensor:
        """A 1-d copy of the values, as ``ndarray.flatten``."""
        return _ops.flatten(self)

    def astype(self, dtype: Any) -> Tensor:
        """Cast to ``dtype`` (differentiable between float dtypes)."""
        return _ops.astype(self, dtype)

    def split(self, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
        """Split along ``axis``, as ``np.split``."""
        return _ops.split(self, indices_or_sections, axis)


def _new_tensor(data: np.ndarray) -> Tensor:
    """A leaf Tensor around ``data`` with no checks (the hot path of every op)."""
    tensor = object.__new__(Tensor)
    tensor.data = data
    tensor.grad = None
    tensor.requires_grad = False
    tensor._node = None
    return tensor

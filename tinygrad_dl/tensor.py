"""``Tensor``: an ndarray, its gradient, and the node that made it.

Arithmetic, reductions and shape methods delegate to :mod:`tinygrad_dl.ops`, where each op's
forward and gradient rule sit together. NumPy's ufuncs and functions dispatch here through
``__array_ufunc__`` and ``__array_function__`` (see :mod:`tinygrad_dl.ops.numpy_dispatch`), so
course code written for ndarrays (``np.dot(W, A) + b``) runs on Tensors and is differentiated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import autograd

_FLOAT64 = np.dtype(np.float64)


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
    def grad_fn(self) -> autograd.Node | None:
        """The recorded node that made this tensor (``None`` for leaves)."""
        return self._node

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        from .ops import shape

        return shape.transpose(self)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - NumPy's name
        from .ops import shape

        return shape.swapaxes(self, -1, -2)

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
        if self.requires_grad and autograd._mode.enabled:
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
        seed = autograd._seed(self, gradient, "backward")
        autograd.backward([self], [seed], retain_graph or create_graph, create_graph)

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
        self.grad = None

    # -- in-place changes (allowed only where no gradient can be corrupted) -------------------
    def _prepare_inplace(self, what: str, other: Any = None) -> None:
        if autograd._mode.enabled:
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
        autograd.note_inplace_change(self.data)

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
        from .ops.shape import normalize_index

        self._prepare_inplace("__setitem__", value)
        self.data[normalize_index(index)] = value.data if isinstance(value, Tensor) else value

    def fill_(self, value: float) -> Tensor:
        self._prepare_inplace("fill_")
        self.data.fill(value)
        return self

    def zero_(self) -> Tensor:
        return self.fill_(0)

    # NumPy interoperability and the operator/method surface are attached by
    # tinygrad_dl.ops (they need the op modules, which need this class).


def _new_tensor(data: np.ndarray) -> Tensor:
    """A leaf Tensor around ``data`` with no checks (the hot path of every op)."""
    tensor = object.__new__(Tensor)
    tensor.data = data
    tensor.grad = None
    tensor.requires_grad = False
    tensor._node = None
    return tensor


autograd._new_tensor = _new_tensor
autograd._Tensor = Tensor

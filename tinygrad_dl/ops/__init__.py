"""Every differentiable op, forward and gradient rule together, and the Tensor's operators.

- :mod:`.elementwise`: arithmetic, activations, ``maximum``/``minimum``/``where``/``clip``
- :mod:`.reduce`: ``sum``, ``mean``, ``max``, ``min``, ``var``, ``std``, softmax family
- :mod:`.shape`: reshape, transpose, broadcast, indexing, concatenate/stack/split, casts
- :mod:`.linalg`: ``matmul``, ``dot``
- :mod:`.numpy_dispatch`: NumPy ufuncs and functions on Tensors
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor, _new_tensor
from . import elementwise, linalg, numpy_dispatch, reduce, shape
from .broadcast import unbroadcast
from .elementwise import (
    abs,
    add,
    clip,
    cos,
    div,
    exp,
    leaky_relu,
    log,
    log1p,
    maximum,
    minimum,
    mul,
    neg,
    power,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from .linalg import dot, matmul
from .reduce import log_softmax, logsumexp, max, mean, min, softmax, std, sum, var
from .shape import (
    astype,
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    reshape,
    split,
    squeeze,
    stack,
    swapaxes,
    transpose,
)

__all__ = [
    "elementwise",
    "linalg",
    "numpy_dispatch",
    "reduce",
    "shape",
    "unbroadcast",
    "abs",
    "add",
    "clip",
    "cos",
    "div",
    "exp",
    "leaky_relu",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "power",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "square",
    "sub",
    "tanh",
    "where",
    "dot",
    "matmul",
    "log_softmax",
    "logsumexp",
    "max",
    "mean",
    "min",
    "softmax",
    "std",
    "sum",
    "var",
    "astype",
    "broadcast_to",
    "concatenate",
    "expand_dims",
    "flatten",
    "reshape",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "transpose",
]


def _reflected(function):
    return lambda self, other: function(other, self)


def _attach_methods() -> None:
    """Operators and NumPy-named methods on Tensor, each delegating to its op."""
    methods = {
        "__add__": add,
        "__radd__": add,  # IEEE addition and multiplication commute exactly
        "__sub__": sub,
        "__rsub__": _reflected(sub),
        "__mul__": mul,
        "__rmul__": mul,
        "__truediv__": div,
        "__rtruediv__": _reflected(div),
        "__pow__": power,
        "__rpow__": _reflected(power),
        "__matmul__": matmul,
        "__rmatmul__": _reflected(matmul),
        "__neg__": neg,
        "__pos__": lambda self: self,
        "__abs__": abs,
        "__getitem__": shape.getitem,
        "__lt__": lambda a, b: elementwise.compare(np.less, a, b),
        "__le__": lambda a, b: elementwise.compare(np.less_equal, a, b),
        "__gt__": lambda a, b: elementwise.compare(np.greater, a, b),
        "__ge__": lambda a, b: elementwise.compare(np.greater_equal, a, b),
        "__eq__": lambda a, b: elementwise.compare(np.equal, a, b),
        "__ne__": lambda a, b: elementwise.compare(np.not_equal, a, b),
        "__and__": lambda a, b: elementwise.compare(np.bitwise_and, a, b),
        "__or__": lambda a, b: elementwise.compare(np.bitwise_or, a, b),
        "__xor__": lambda a, b: elementwise.compare(np.bitwise_xor, a, b),
        "__invert__": lambda a: _new_tensor(np.invert(a.data)),
        "__array_ufunc__": numpy_dispatch.array_ufunc,
        "__array_function__": numpy_dispatch.array_function,
        "dot": dot,
        "matmul": matmul,
        "exp": exp,
        "log": log,
        "log1p": log1p,
        "sqrt": sqrt,
        "square": square,
        "abs": abs,
        "sin": sin,
        "cos": cos,
        "tanh": tanh,
        "sigmoid": sigmoid,
        "relu": relu,
        "leaky_relu": leaky_relu,
        "softplus": softplus,
        "clip": clip,
        "maximum": maximum,
        "minimum": minimum,
        "sum": sum,
        "mean": mean,
        "max": max,
        "min": min,
        "var": var,
        "std": std,
        "logsumexp": logsumexp,
        "softmax": softmax,
        "log_softmax": log_softmax,
        "reshape": reshape,
        "transpose": transpose,
        "swapaxes": swapaxes,
        "expand_dims": expand_dims,
        "squeeze": squeeze,
        "broadcast_to": broadcast_to,
        "flatten": flatten,
        "astype": astype,
        "split": split,
        "argmax": lambda self, axis=None, keepdims=False: Tensor(
            np.argmax(self.data, axis=axis, keepdims=keepdims)
        ),
        "argmin": lambda self, axis=None, keepdims=False: Tensor(
            np.argmin(self.data, axis=axis, keepdims=keepdims)
        ),
    }
    for name, function in methods.items():
        setattr(Tensor, name, function)


_attach_methods()

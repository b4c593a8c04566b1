"""Every differentiable op, forward and gradient rule together, and the Tensor's operators.

- :mod:`.elementwise`: arithmetic, activations, ``maximum``/``minimum``/``where``/``clip``
- :mod:`.reduce`: ``sum``, ``mean``, ``max``, ``min``, ``var``, ``std``, softmax family
- :mod:`.shape`: reshape, transpose, broadcast, indexing, concatenate/stack/split, casts
- :mod:`.linalg`: ``matmul``, ``dot``
- :mod:`.numpy_dispatch`: NumPy ufuncs and functions on Tensors
"""

from __future__ import annotations

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

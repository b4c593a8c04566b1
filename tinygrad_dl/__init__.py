"""tinygrad_dl: a small, fast, honest reverse-mode autodiff Tensor on NumPy.

``import tinygrad_dl as tg``: ``tg.Tensor``, NumPy-named ops (``tg.exp``, ``tg.matmul``,
``tg.sum``...), factories, ``tg.grad``, ``tg.no_grad``, ``tg.gradcheck``. The course's
hand-derived formulas live in :mod:`tinygrad_dl.course`; model building in :mod:`tinygrad_dl.nn`,
:mod:`tinygrad_dl.optim`, :mod:`tinygrad_dl.data`.
"""

from __future__ import annotations

# Model building and the course need NumPy only; optional extras load inside the functions
# that need them.
from . import autograd, course, data, func, nn, ops, optim, viz
from .autograd import (
    enable_grad,
    grad,
    hvp,
    is_anomaly_enabled,
    is_grad_enabled,
    no_grad,
    set_detect_anomaly,
    set_grad_enabled,
    value_and_grad,
)
from .creation import arange, eye, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .function import Function
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops import (
    abs,
    add,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    div,
    dot,
    exp,
    expand_dims,
    flatten,
    leaky_relu,
    linalg,  # tg.linalg.inv, tg.linalg.norm...: NumPy's and PyTorch's place
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    power,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    softplus,
    split,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    swapaxes,
    tanh,
    transpose,
    var,
    where,
)
from .ops.grids import gradient, linspace
from .ops.linalg import (
    cross,
    diag,
    diagonal,
    einsum,
    inner,
    kron,
    outer,
    tensordot,
    trace,
    tril,
    triu,
)
from .ops.shape import (
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    column_stack,
    dstack,
    flip,
    fliplr,
    flipud,
    hstack,
    moveaxis,
    pad,
    ravel,
    repeat,
    roll,
    rollaxis,
    tile,
    vstack,
)
from .serialization import load, save
from .tensor import Tensor
from .train import fit

__version__ = "0.1.0"


def __getattr__(name: str):
    # ``tg.plot`` needs matplotlib (extra ``viz``); ``tg.testing`` needs hypothesis (extra
    # ``test``): load them only when asked for, so ``import tinygrad_dl`` stays NumPy-only.
    if name in ("plot", "testing"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Tensor",
    "autograd",
    "func",
    "Function",
    "ops",
    # model building, the course, saving
    "course",
    "data",
    "fit",
    "load",
    "nn",
    "optim",
    "save",
    "viz",
    # autograd
    "enable_grad",
    "grad",
    "hvp",
    "is_anomaly_enabled",
    "is_grad_enabled",
    "no_grad",
    "set_detect_anomaly",
    "set_grad_enabled",
    "value_and_grad",
    # checking
    "GradcheckError",
    "gradcheck",
    "gradgradcheck",
    # factories
    "arange",
    "eye",
    "full",
    "ones",
    "ones_like",
    "rand",
    "randn",
    "tensor",
    "zeros",
    "zeros_like",
    # ops
    "abs",
    "add",
    "astype",
    "broadcast_to",
    "clip",
    "concatenate",
    "cos",
    "div",
    "dot",
    "exp",
    "expand_dims",
    "flatten",
    "leaky_relu",
    "log",
    "log1p",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "mul",
    "neg",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "softmax",
    "softplus",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "sub",
    "sum",
    "swapaxes",
    "tanh",
    "transpose",
    "var",
    "where",
]
# linear algebra, products and shape functions (ops/linalg.py, ops/shape.py, ops/grids.py)
__all__ += [
    "linalg",
    "cross",
    "diag",
    "diagonal",
    "einsum",
    "inner",
    "kron",
    "outer",
    "tensordot",
    "trace",
    "tril",
    "triu",
    "gradient",
    "linspace",
    "append",
    "array_split",
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "column_stack",
    "dstack",
    "flip",
    "fliplr",
    "flipud",
    "hstack",
    "moveaxis",
    "pad",
    "ravel",
    "repeat",
    "roll",
    "rollaxis",
    "tile",
    "vstack",
]

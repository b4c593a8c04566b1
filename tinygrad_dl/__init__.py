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
from .compile import CompileError, compile
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
    # compiled training steps
    "CompileError",
    "compile",
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

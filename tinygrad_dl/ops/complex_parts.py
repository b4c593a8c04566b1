"""NumPy's complex-number functions on real Tensors: ``np.real``, ``np.imag``, ``np.conj``
(``np.conjugate``), ``np.angle`` and ``np.real_if_close``.

A Tensor holds real numbers only, so these are what NumPy gives for a real array: ``real``,
``conj`` and ``real_if_close`` are the tensor itself (``dX = dY``), ``imag`` is 0 and
``angle`` is 0 or pi (``np.angle(-0.0)`` is pi too); the last two are constant almost
everywhere, so they stay in the graph with gradient 0, as ``np.sign`` does. Code written for
complex arrays therefore runs unchanged on real Tensors and is differentiated.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Op, record_unary
from ..tensor import Tensor
from .broadcast import as_tensor
from .elementwise import _zero_gradient_vjp  # imag does not move with x; angle only jumps

__all__ = ["real", "imag", "conj", "angle", "real_if_close"]

IMAG = Op("imag", lambda x, _: np.zeros_like(x), _zero_gradient_vjp, rule="dX = 0 (X is real)")
ANGLE = Op(
    "angle", lambda x, deg: np.angle(x, deg=deg), _zero_gradient_vjp, rule="dX = 0 (0 or pi)"
)


def _real_tensor(name: str, x: Any) -> Tensor:
    """``x`` as a Tensor; complex values (which a Tensor cannot hold) are refused by name."""
    if np.iscomplexobj(x.data if isinstance(x, Tensor) else x):
        raise TypeError(f"np.{name}: complex values are not supported by tinygrad_dl Tensors")
    return x if isinstance(x, Tensor) else as_tensor(x)


def real(val: Any) -> Tensor:
    """The real part of a real tensor: the tensor itself (``dX = dY``), as ``np.real`` gives
    for a real array."""
    return _real_tensor("real", val)


def conj(x: Any) -> Tensor:
    """The complex conjugate of a real tensor: the tensor itself (``dX = dY``)."""
    return _real_tensor("conjugate", x)


def real_if_close(a: Any, tol: float = 100) -> Tensor:
    """``np.real_if_close`` of a real tensor: the tensor itself (``dX = dY``)."""
    return _real_tensor("real_if_close", a)


def imag(val: Any) -> Tensor:
    """The imaginary part of a real tensor: zeros, kept in the graph with gradient 0."""
    x = _real_tensor("imag", val)
    return record_unary(IMAG, IMAG.forward(x.data, None), x, None)


def angle(z: Any, deg: bool = False) -> Tensor:
    """The argument of a real tensor: 0 where ``z >= +0``, pi (180 with ``deg``) where it is
    negative or -0.0, as ``np.angle``; kept in the graph with gradient 0."""
    x = _real_tensor("angle", z)
    deg = bool(deg)
    return record_unary(ANGLE, ANGLE.forward(x.data, deg), x, deg)

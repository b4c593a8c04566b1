"""PyTorch's activation functions beyond the course's four, and ``erf``.

Each is a composition of recorded ops (so ``create_graph`` and ``gradgradcheck`` work through
it), except ``erf``, one op with its rule. At the kinks the gradient is PyTorch's:

- ``hardtanh``/``relu6``/``hardsigmoid``: ``g' = slope`` strictly inside the ramp, 0 on its
  ends and outside (``hardtanh_backward`` uses ``min < x < max``);
- ``elu``/``celu``/``selu``: the negative branch's derivative at ``x = 0``;
- ``hardswish``: ``g' = x/3 + 1/2`` on ``-3 < x < 3``, 0 at -3 and below, 1 at 3 and above.

``tinygrad_dl.nn.functional`` and the Tensor methods of the same names call these.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend as _backend
from ..autograd import Op, apply
from ..backend import is_numpy, namespace, xnp
from ..tensor import Tensor
from .broadcast import as_tensor
from .elementwise import where

__all__ = [
    "celu",
    "elu",
    "erf",
    "gelu",
    "hardsigmoid",
    "hardswish",
    "hardtanh",
    "logsigmoid",
    "mish",
    "relu6",
    "selu",
    "silu",
    "softsign",
]

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# Gauss-Legendre on [-1, 1] with 48 points, folded onto its 24 positive nodes (the integrand is
# even): float64 erf within 1e-14 (relative) of SciPy's everywhere. Computed once, on the host.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(48)
_ERF_TERMS = tuple(
    (float(node * node), float(2.0 * weight / math.sqrt(math.pi)))
    for node, weight in zip(_NODES, _WEIGHTS)
    if node > 0
)


def erf_standard(xp: Any, x: Any) -> Any:
    """``erf`` from the array API standard's functions alone (the standard has no ``erf``).

    ``erf(x) = (2/sqrt(pi)) x int_0^1 exp(-(x s)^2) ds``, by Gauss-Legendre quadrature: 24
    terms ``w_k exp(-x^2 s_k^2)``. Past ``|x| = 6`` erf is 1 to float64's precision
    (``erfc(6) = 2e-17``), so ``x`` is clipped there, where 24 terms still resolve the
    integrand.

    Parameters
    ----------
    xp : namespace
        The array API namespace of ``x`` (``array_api_strict``, CuPy's through NumPyLike).
    x : array
        Real floating-point values.

    Returns
    -------
    array
        ``erf(x)``, same shape, dtype and device as ``x``.
    """
    clipped = xp.clip(x, -6.0, 6.0)
    minus_square = -(clipped * clipped)
    total = xp.zeros_like(x)
    for node_squared, weight in _ERF_TERMS:
        total = total + weight * xp.exp(minus_square * node_squared)
    return clipped * total


def _erf_forward(x: Any, _: Any = None) -> Any:
    if not is_numpy(x):  # CuPy, array_api_strict: the standard's functions
        return erf_standard(namespace(x), x)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # without SciPy: math.erf element by element (exact, slower)
        return np.vectorize(math.erf, otypes=[x.dtype])(x)
    return scipy_erf(x).astype(x.dtype, copy=False)


ERF = Op(
    "erf",
    _erf_forward,
    lambda g, out, inputs, extra, needs: (g * _TWO_OVER_SQRT_PI * xnp.exp(-inputs[0] * inputs[0]),),
    rule="dX = dY * 2/sqrt(pi) * exp(-X^2)",
)


def erf(x: Any) -> Tensor:
    """The error function ``erf(x) = 2/sqrt(pi) int_0^x e^{-t^2} dt``."""
    return apply(ERF, (as_tensor(x),))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """GELU ``x Phi(x) = x (1 + erf(x / sqrt 2)) / 2``; with ``approximate="tanh"``,
    ``x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``.

    Raises
    ------
    ValueError
        For an ``approximate`` other than ``"none"`` or ``"tanh"``.
    """
    x = as_tensor(x)
    if approximate == "tanh":
        inner = (x + x * x * x * 0.044715) * math.sqrt(2.0 / math.pi)
        return x * 0.5 * (inner.tanh() + 1.0)
    if approximate != "none":
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return x * 0.5 * (erf(x * (1.0 / math.sqrt(2.0))) + 1.0)


def silu(x: Any) -> Tensor:
    """SiLU (swish) ``x sigmoid(x)``."""
    x = as_tensor(x)
    return x * x.sigmoid()


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """ELU: ``x`` for ``x > 0``, ``alpha (e^x - 1)`` otherwise."""
    x = as_tensor(x)
    # exp of x where x <= 0 only: the unused branch never overflows (an inf there would make
    # 0 * inf NaN in the gradient); at x = 0 the gradient is alpha, as in PyTorch.
    positive = x.data > 0
    negative = (where(positive, 0.0, x).exp() - 1.0) * alpha
    return where(positive, x, negative)


def celu(x: Any, alpha: float = 1.0) -> Tensor:
    """CELU: ``x`` for ``x > 0``, ``alpha (e^{x/alpha} - 1)`` otherwise.

    Raises
    ------
    ValueError
        If ``alpha`` is 0 (PyTorch refuses it too).
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    x = as_tensor(x)
    positive = x.data > 0
    negative = ((where(positive, 0.0, x) * (1.0 / alpha)).exp() - 1.0) * alpha
    return where(positive, x, negative)


def selu(x: Any) -> Tensor:
    """SELU ``scale * elu(x, alpha)`` with PyTorch's constants (alpha ~ 1.6733, scale ~ 1.0507)."""
    return elu(x, _SELU_ALPHA) * _SELU_SCALE


def logsigmoid(x: Any) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, finite for any ``x``; ``d/dx = sigmoid(-x)``."""
    return -(-as_tensor(x)).softplus()


def softsign(x: Any) -> Tensor:
    """``x / (1 + |x|)``; ``d/dx = 1 / (1 + |x|)^2``."""
    x = as_tensor(x)
    return x / (x.abs() + 1.0)


def hardtanh(x: Any, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """``x`` clipped to ``[min_val, max_val]``; the gradient passes strictly inside, as PyTorch.

    Raises
    ------
    ValueError
        If ``min_val > max_val``.
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    x = as_tensor(x)
    inside = (x.data > min_val) & (x.data < max_val)
    return where(inside, x, xnp.clip(x.data, min_val, max_val))


def relu6(x: Any) -> Tensor:
    """``min(max(0, x), 6)``: ``hardtanh(x, 0, 6)``."""
    return hardtanh(x, 0.0, 6.0)


def hardsigmoid(x: Any) -> Tensor:
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, ``x/6 + 1/2`` between."""
    x = as_tensor(x)
    inside = (x.data > -3.0) & (x.data < 3.0)
    return where(inside, x * (1.0 / 6.0) + 0.5, _backend.astype(x.data >= 3.0, x.dtype))


def hardswish(x: Any) -> Tensor:
    """``x relu6(x + 3) / 6``; PyTorch's gradient: ``x/3 + 1/2`` strictly inside ``(-3, 3)``,
    0 from -3 down, 1 from 3 up."""
    x = as_tensor(x)
    low, high = x.data <= -3.0, x.data >= 3.0
    ramp = x * (x + 3.0) * (1.0 / 6.0)
    return where(low, 0.0, where(high, x, ramp))


def mish(x: Any) -> Tensor:
    """``x tanh(softplus(x))``."""
    x = as_tensor(x)
    return x * x.softplus().tanh()

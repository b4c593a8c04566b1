"""Elementwise ops: arithmetic, activations, ``maximum``/``minimum``/``where``/``clip``, and
comparisons. Each op's forward and its gradient rule (vjp) stand side by side.

In the course's notation an activation ``A = g(Z)`` sends back ``dZ = dA * g'(Z)``:
sigmoid ``g' = a(1 - a)``, tanh ``g' = 1 - a^2``, ReLU ``g' = 1 if z > 0 else 0``, leaky ReLU
``g' = 1 if z > 0 else alpha``. A binary op's gradient is summed back over broadcast axes by
:func:`~tinygrad_dl.ops.broadcast.unbroadcast`.

Python numbers take fast paths (``x * 2``, ``1 - a``): no wrapping, one input recorded.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import backend as _backend
from ..autograd import Op, record_binary, record_unary
from ..backend import namespace, xnp
from ..tensor import Tensor, _new_tensor
from .broadcast import as_tensor, broadcast_error, mixed_device_error, unbroadcast

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "power",
    "neg",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "square",
    "abs",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "softplus",
    "clip",
    "maximum",
    "minimum",
    "where",
    "compare",
    "log2",
    "log10",
    "exp2",
    "expm1",
    "tan",
    "sinh",
    "cosh",
    "arcsin",
    "arccos",
    "arctan",
    "arcsinh",
    "arccosh",
    "arctanh",
    "sinc",
    "sign",
    "floor",
    "ceil",
    "trunc",
    "rint",
    "round",
    "nan_to_num",
    "remainder",
    "fmod",
    "floor_divide",
    "copysign",
    "fmax",
    "fmin",
    "hypot",
    "arctan2",
    "logaddexp",
    "logaddexp2",
]

_SCALARS = (int, float)
_F64 = np.dtype(np.float64)
_ndarray = np.ndarray  # a module global: one lookup fewer on the per-op hot path


class _Float64Numbers(dict):
    """Python numbers as read-only 0-d float64 arrays, by value, for ``x * c`` on float64 data.

    NumPy 2 takes a slow path for a Python number operand (NEP 50's weak-scalar promotion): on
    a 4x4 array ``x * 2.0`` costs about 1.6x ``x * np.array(2.0)``, and both give the same bits,
    because the number is converted to the array's dtype either way. Zero is not kept (0.0 and
    -0.0 share a key, not a product), nor NaN (never equal to itself), nor an int beyond 2^53; at
    most 256 numbers are, so a schedule's stream of values cannot grow it.
    """

    def __missing__(self, number: float) -> Any:
        if number != 0 and number == number and abs(number) < 2.0**53 and len(self) < 256:
            array = np.array(float(number))
            array.flags.writeable = False
            self[number] = array
            return array
        return number


_F64_NUMBERS = _Float64Numbers()


def _nothing(*_: Any) -> None:
    return None


# -- binary arithmetic -------------------------------------------------------------------------
def _add_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    return (
        unbroadcast(g, a.shape) if needs[0] else None,
        unbroadcast(g, b.shape) if needs[1] else None,
    )


def _sub_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    return (
        unbroadcast(g, a.shape) if needs[0] else None,
        unbroadcast(-g, b.shape) if needs[1] else None,
    )


def _mul_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    return (
        unbroadcast(g * b, a.shape) if needs[0] else None,
        unbroadcast(g * a, b.shape) if needs[1] else None,
    )


def _div_vjp(g, out, inputs, extra, needs):
    # d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2
    a, b = inputs
    grad_a = g / b
    return (
        unbroadcast(grad_a, a.shape) if needs[0] else None,
        unbroadcast(-grad_a * a / b, b.shape) if needs[1] else None,
    )


def _pow_vjp(g, out, inputs, extra, needs):
    # PyTorch's values at the singular points, which are the limits where one exists:
    # da = b a^(b-1), taken as 0 where b = 0 (a^0 is constant, even at a = 0 or +-inf);
    # db = a^b log(a), taken as 0 where a = 0 and b >= 0 (0^b is constant there). Elsewhere the
    # formula's own value stands: -inf at 0^b for b < 0, NaN for a negative base (no real
    # derivative in b; and the forward is NaN for a non-integer b), so nothing is hidden.
    a, b = inputs
    grad_a = grad_b = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if needs[0]:
            nonzero = b != 0
            power = xnp.where(nonzero, a, 1) ** (b - 1)
            grad_a = unbroadcast(xnp.where(nonzero, g * b * power, 0), a.shape)
        if needs[1]:
            constant = (a == 0) & (b >= 0)
            log_a = xnp.log(xnp.where(constant, 1, a))
            grad_b = unbroadcast(xnp.where(constant, 0, g * out * log_a), b.shape)
    return grad_a, grad_b


ADD = Op("add", lambda a, b, _: a + b, _add_vjp, rule="dA = dY; dB = dY")
SUB = Op("sub", lambda a, b, _: a - b, _sub_vjp, rule="dA = dY; dB = -dY")
MUL = Op("mul", lambda a, b, _: a * b, _mul_vjp, rule="dA = dY * B; dB = dY * A")
DIV = Op("div", lambda a, b, _: a / b, _div_vjp, rule="dA = dY / B; dB = -dY * A / B^2")
POW = Op(
    "pow",
    lambda a, b, _: a**b,
    _pow_vjp,
    saves_out=True,
    rule="dA = dY * B A^(B-1) (0 where B = 0); dB = dY * A^B log(A) (0 where A = 0, B >= 0)",
)

# One input and a Python number kept in ``extra``.
ADD_SCALAR = Op("add", lambda x, c: x + c, None, rule="dX = dY", vjp_of_dy=lambda g, c: g)
RSUB_SCALAR = Op("rsub", lambda x, c: c - x, None, rule="dX = -dY", vjp_of_dy=lambda g, c: -g)


def _times_number(g: Any, c: float) -> Any:
    if type(g) is _ndarray and g.dtype is _F64:  # see _Float64Numbers
        return g * _F64_NUMBERS[c]
    return g * c


def _over_number(g: Any, c: float) -> Any:
    if type(g) is _ndarray and g.dtype is _F64:
        return g / _F64_NUMBERS[c]
    return g / c


MUL_SCALAR = Op("mul", lambda x, c: x * c, None, rule="dX = dY * c", vjp_of_dy=_times_number)
DIV_SCALAR = Op("div", lambda x, c: x / c, None, rule="dX = dY / c", vjp_of_dy=_over_number)
RDIV_SCALAR = Op(
    "rdiv",
    lambda x, c: c / x,
    lambda g, out, inputs, c, needs: (-g * out / inputs[0],),
    True,
    rule="dX = -dY * (c / X) / X",
)


def _pow_scalar_vjp(g, out, inputs, c, needs):
    (x,) = inputs
    if c == 2:
        return (g * 2 * x,)
    if c == 0:
        return (xnp.zeros_like(g),)  # x^0 is constant (also at x = 0, where x^-1 would be inf)
    with np.errstate(divide="ignore", invalid="ignore"):  # c x^(c-1) at x = 0, c < 1: +-inf
        return (g * c * x ** (c - 1),)


POW_SCALAR = Op(
    "pow", lambda x, c: x**c, _pow_scalar_vjp, rule="dX = dY * c X^(c-1) (0 where c = 0)"
)
RPOW_SCALAR = Op(
    "rpow",
    lambda x, c: c**x,
    lambda g, out, inputs, c, needs: (g * out * float(xnp.log(c)),),
    saves_out=True,
    rule="dX = dY * c^X log(c) (c > 0)",
)


def _binary(op: Op, name: str, a: Any, b: Any) -> Tensor:
    if type(a) is not Tensor:
        a = as_tensor(a)
    if type(b) is not Tensor:
        b = as_tensor(b)
    try:
        data = op.forward(a.data, b.data, None)
    except (ValueError, TypeError, RuntimeError):
        error = mixed_device_error(name, a, b)
        if error is not None:
            raise error from None
        if not (a.ndim and b.ndim) or _shapes_broadcast(a.shape, b.shape):
            raise
        raise broadcast_error(name, a.shape, b.shape) from None
    return record_binary(op, data, a, b)


def _shapes_broadcast(*shapes: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting; ``d/da = 1``, summed over broadcast axes.

    The arithmetic ops ``add``, ``sub``, ``mul``, ``div`` and ``power`` take Tensors, arrays or
    Python numbers, follow NumPy's broadcasting and dtype rules, and raise ``ValueError`` naming
    both shapes (as Python tuples) when they do not broadcast.
    """
    if type(b) in _SCALARS:
        if type(a) is not Tensor:
            a = as_tensor(a)
        data = a.data
        if type(data) is _ndarray and data.dtype is _F64:  # see _Float64Numbers
            return record_unary(ADD_SCALAR, data + _F64_NUMBERS[b], a, b)
        return record_unary(ADD_SCALAR, data + b, a, b)
    if type(a) in _SCALARS:
        if type(b) is not Tensor:
            b = as_tensor(b)
        return record_unary(ADD_SCALAR, b.data + a, b, a)
    return _binary(ADD, "add", a, b)


def sub(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting; ``d/da = 1``, ``d/db = -1``."""
    if type(b) in _SCALARS:
        if type(a) is not Tensor:
            a = as_tensor(a)
        data = a.data
        if type(data) is _ndarray and data.dtype is _F64:  # see _Float64Numbers
            return record_unary(ADD_SCALAR, data - _F64_NUMBERS[b], a, -b)
        return record_unary(ADD_SCALAR, data - b, a, -b)
    if type(a) in _SCALARS:
        if type(b) is not Tensor:
            b = as_tensor(b)
        return record_unary(RSUB_SCALAR, a - b.data, b, a)
    return _binary(SUB, "sub", a, b)


def mul(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting; ``d/da = b``, ``d/db = a``."""
    if type(b) in _SCALARS:
        if type(a) is not Tensor:
            a = as_tensor(a)
        data = a.data
        if type(data) is _ndarray and data.dtype is _F64:  # see _Float64Numbers
            return record_unary(MUL_SCALAR, data * _F64_NUMBERS[b], a, b)
        return record_unary(MUL_SCALAR, data * b, a, b)
    if type(a) in _SCALARS:
        if type(b) is not Tensor:
            b = as_tensor(b)
        return record_unary(MUL_SCALAR, b.data * a, b, a)
    return _binary(MUL, "mul", a, b)


def div(a: Any, b: Any) -> Tensor:
    """``a / b`` with broadcasting; ``d/da = 1/b``, ``d/db = -a/b^2``."""
    if type(b) in _SCALARS:
        if type(a) is not Tensor:
            a = as_tensor(a)
        data = a.data
        if type(data) is _ndarray and data.dtype is _F64:  # see _Float64Numbers
            return record_unary(DIV_SCALAR, data / _F64_NUMBERS[b], a, b)
        return record_unary(DIV_SCALAR, data / b, a, b)
    if type(a) in _SCALARS:
        if type(b) is not Tensor:
            b = as_tensor(b)
        return record_unary(RDIV_SCALAR, a / b.data, b, a)
    return _binary(DIV, "div", a, b)


def power(a: Any, b: Any) -> Tensor:
    """``a ** b``; ``d/da = b a^(b-1)``, ``d/db = a^b log a``."""
    if type(b) in _SCALARS:
        if type(a) is not Tensor:
            a = as_tensor(a)
        return record_unary(POW_SCALAR, a.data**b, a, b)
    if type(a) in _SCALARS:
        if a <= 0:
            # log(a) in the gradient: only a positive base has a real derivative everywhere
            return _binary(POW, "pow", a, b)
        if type(b) is not Tensor:
            b = as_tensor(b)
        return record_unary(RPOW_SCALAR, a**b.data, b, a)
    return _binary(POW, "pow", a, b)


def rsub(a: Any, b: Any) -> Tensor:
    return sub(b, a)


def rdiv(a: Any, b: Any) -> Tensor:
    return div(b, a)


def rpow(a: Any, b: Any) -> Tensor:
    return power(b, a)


# -- unary -------------------------------------------------------------------------------------
def _unary(op: Op, x: Any, extra: Any = None) -> Tensor:
    if type(x) is not Tensor:
        x = as_tensor(x)
    return record_unary(op, op.forward(x.data, extra), x, extra)


def _sigmoid_forward(z: np.ndarray, _: Any = None) -> np.ndarray:
    # exp(-|z|) lies in (0, 1]: no overflow for any z, and no logaddexp (10x slower).
    xp = np if type(z) is np.ndarray else namespace(z)
    e = xp.exp(-xp.abs(z))
    return xp.where(z >= 0, 1.0, e) / (1 + e)


def _softplus_forward(x: np.ndarray, _: Any = None) -> np.ndarray:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for any x
    return xnp.maximum(x, 0) + xnp.log1p(xnp.exp(-xnp.abs(x)))


def _sigmoid_of(x: Any) -> Any:
    """Stable sigmoid of an ndarray, or the recorded op for a Tensor (under create_graph)."""
    return sigmoid(x) if isinstance(x, Tensor) else _sigmoid_forward(x)


def _elementwise(
    name: str, forward: Any, derivative: Any, rule: str, saves_out: bool = False
) -> Op:
    """A one-input op ``Y = f(x)`` whose vjp is ``dx = dY * f'(x)``.

    ``derivative(x, out)`` gives ``f'(x)`` from the input and (when ``saves_out``) the output,
    written with operators and dispatching ``np.*`` calls so it also runs on Tensors under
    ``create_graph``.
    """
    return Op(
        name,
        lambda x, _: forward(x),
        lambda g, out, inputs, extra, needs: (g * derivative(inputs[0], out),),
        saves_out=saves_out,
        rule=rule,
    )


def _relu_vjp(g: Any, z: Any) -> Any:
    # g' = 0 at z <= 0, as in the course. A product with the mask is NumPy's fastest form; the
    # standard has no bool * float, so other libraries select.
    if type(g) is np.ndarray or not _backend.foreign(g):
        return g * (z > 0)
    return xnp.where(z > 0, g, 0.0)


def _zero_gradient_vjp(g, out, inputs, extra, needs):
    # Piecewise constant: the derivative is 0 wherever it exists (PyTorch gives 0 everywhere).
    return (xnp.zeros_like(g),)


_LN2 = float(xnp.log(2.0))  # Python floats: they keep a float32 gradient float32 (NEP 50)
_LN10 = float(xnp.log(10.0))
_PI = float(np.pi)

NEG = Op("neg", lambda x, _: -x, None, rule="dX = -dY", vjp_of_dy=lambda g, _: -g)
# The course's activations and the common ufuncs keep hand-written vjps (one temporary fewer
# than _elementwise's dY * f'(x): they are on every network's hot path).
EXP = Op(
    "exp",
    lambda x, _: (np if type(x) is np.ndarray else namespace(x)).exp(x),
    lambda g, out, inputs, e, n: (g * out,),
    saves_out=True,
    rule="dX = dY * e^X",
)
LOG = Op(
    "log",
    lambda x, _: (np if type(x) is np.ndarray else namespace(x)).log(x),
    lambda g, out, inputs, e, n: (g / inputs[0],),
    rule="dX = dY / X",
)
LOG1P = Op(
    "log1p",
    lambda x, _: (np if type(x) is np.ndarray else namespace(x)).log1p(x),
    lambda g, out, inputs, e, n: (g / (1 + inputs[0]),),
    rule="dX = dY / (1 + X)",
)
SQRT = Op(
    "sqrt",
    lambda x, _: (np if type(x) is np.ndarray else namespace(x)).sqrt(x),
    lambda g, out, inputs, e, n: (g / (2 * out),),
    saves_out=True,
    rule="dX = dY / (2 sqrt(X))",
)
ABS = _elementwise("abs", xnp.abs, lambda x, out: xnp.sign(x), "dX = dY * sign(X) (0 at X = 0)")
SIN = _elementwise("sin", xnp.sin, lambda x, out: xnp.cos(x), "dX = dY * cos(X)")
COS = _elementwise("cos", xnp.cos, lambda x, out: -xnp.sin(x), "dX = -dY * sin(X)")
TANH = Op(
    "tanh",
    lambda x, _: (np if type(x) is np.ndarray else namespace(x)).tanh(x),
    lambda g, out, inputs, e, n: (g * (1 - out * out),),
    saves_out=True,
    rule="dZ = dA * (1 - A^2)",
)
SIGMOID = Op(
    "sigmoid",
    _sigmoid_forward,
    lambda g, out, inputs, e, n: (g * out * (1 - out),),
    saves_out=True,
    rule="dZ = dA * A (1 - A)",
)
RELU = Op(
    "relu",
    lambda x, _: (np if type(x) is np.ndarray else namespace(x)).maximum(x, 0),
    lambda g, out, inputs, e, n: (_relu_vjp(g, inputs[0]),),
    rule="dZ = dA * (Z > 0)",
)
LEAKY_RELU = Op(
    "leaky_relu",
    lambda x, alpha: xnp.where(x > 0, x, x * alpha),
    lambda g, out, inputs, alpha, n: (xnp.where(inputs[0] > 0, g, g * alpha),),
    rule="dZ = dA where Z > 0, else alpha dA",
)
SOFTPLUS = _elementwise(
    "softplus", _softplus_forward, lambda x, out: _sigmoid_of(x), "dX = dY * sigmoid(X)"
)

# -- more of NumPy's unary ufuncs --------------------------------------------------------------
LOG2 = _elementwise("log2", xnp.log2, lambda x, out: 1 / (x * _LN2), "dX = dY / (X ln 2)")
LOG10 = _elementwise("log10", xnp.log10, lambda x, out: 1 / (x * _LN10), "dX = dY / (X ln 10)")
EXP2 = _elementwise("exp2", xnp.exp2, lambda x, out: out * _LN2, "dX = dY * 2^X ln 2", True)
EXPM1 = _elementwise("expm1", xnp.expm1, lambda x, out: out + 1, "dX = dY * e^X", True)
TAN = _elementwise("tan", xnp.tan, lambda x, out: 1 + out * out, "dX = dY * (1 + tan^2 X)", True)
SINH = _elementwise("sinh", xnp.sinh, lambda x, out: xnp.cosh(x), "dX = dY * cosh(X)")
COSH = _elementwise("cosh", xnp.cosh, lambda x, out: xnp.sinh(x), "dX = dY * sinh(X)")
ARCSIN = _elementwise(
    "arcsin", xnp.arcsin, lambda x, out: 1 / xnp.sqrt(1 - x * x), "dX = dY / sqrt(1 - X^2)"
)
ARCCOS = _elementwise(
    "arccos", xnp.arccos, lambda x, out: -1 / xnp.sqrt(1 - x * x), "dX = -dY / sqrt(1 - X^2)"
)
ARCTAN = _elementwise("arctan", xnp.arctan, lambda x, out: 1 / (1 + x * x), "dX = dY / (1 + X^2)")
ARCSINH = _elementwise(
    "arcsinh", xnp.arcsinh, lambda x, out: 1 / xnp.sqrt(x * x + 1), "dX = dY / sqrt(X^2 + 1)"
)
ARCCOSH = _elementwise(
    "arccosh", xnp.arccosh, lambda x, out: 1 / xnp.sqrt(x * x - 1), "dX = dY / sqrt(X^2 - 1)"
)
ARCTANH = _elementwise(
    "arctanh", xnp.arctanh, lambda x, out: 1 / (1 - x * x), "dX = dY / (1 - X^2)"
)


def _sinc_derivative(x, out):
    # sinc(x) = sin(u) / u with u = pi x: sinc'(x) = (cos(u) - sinc(x)) / x. Near 0 that
    # difference cancels (PyTorch loses digits there), so |u| < 0.01 takes the series
    # pi (-u/3 + u^3/30 - u^5/840), exact to rounding there, smooth through 0 (where it is 0,
    # with the right second derivative -pi^2/3) and never 0/0.
    u = _PI * x
    small = xnp.abs(u) < 0.01
    squared = u * u
    series = _PI * u * (-1 / 3 + squared * (1 / 30 - squared / 840))
    return xnp.where(small, series, (xnp.cos(u) - out) / xnp.where(small, 1.0, x))


SINC = _elementwise(
    "sinc", xnp.sinc, _sinc_derivative, "dX = dY * (cos(pi X) - sinc(X)) / X (0 at X = 0)", True
)

# Piecewise constant: in the graph, with gradient 0 (as in PyTorch), so a loss built on them
# still backpropagates (a zero) instead of losing its graph.
SIGN = Op("sign", lambda x, _: xnp.sign(x), _zero_gradient_vjp, rule="dX = 0")
FLOOR = Op("floor", lambda x, _: xnp.floor(x), _zero_gradient_vjp, rule="dX = 0")
CEIL = Op("ceil", lambda x, _: xnp.ceil(x), _zero_gradient_vjp, rule="dX = 0")
TRUNC = Op("trunc", lambda x, _: xnp.trunc(x), _zero_gradient_vjp, rule="dX = 0")
RINT = Op("rint", lambda x, _: xnp.rint(x), _zero_gradient_vjp, rule="dX = 0")
NAN_TO_NUM = Op(
    "nan_to_num",
    lambda x, fills: xnp.nan_to_num(x, nan=fills[0], posinf=fills[1], neginf=fills[2]),
    lambda g, out, inputs, fills, needs: (xnp.where(xnp.isfinite(inputs[0]), g, 0),),
    rule="dX = dY where X is finite, else 0",
)
ROUND = Op(
    "round",
    lambda x, decimals: xnp.round(x, decimals) if decimals else xnp.round(x),
    _zero_gradient_vjp,
    rule="dX = 0",
)


def _clip_forward(x, bounds):
    low, high = bounds
    if low is not None:
        x = xnp.maximum(x, low)
    if high is not None:
        x = xnp.minimum(x, high)
    return x


def _clip_vjp(g, out, inputs, bounds, needs):
    # The gradient passes where low <= x <= high (inclusive, as in PyTorch).
    (x,) = inputs
    low, high = bounds
    if low is not None:
        g = xnp.where(x >= low, g, 0)
    if high is not None:
        g = xnp.where(x <= high, g, 0)
    return (g,)


CLIP = Op("clip", _clip_forward, _clip_vjp, rule="dX = dY where a_min <= X <= a_max, else 0")


def neg(x: Any) -> Tensor:
    """``-x``."""
    return _unary(NEG, x)


def exp(x: Any) -> Tensor:
    """``e^x``; ``d/dx = e^x``."""
    return _unary(EXP, x)


def log(x: Any) -> Tensor:
    """Natural log; ``d/dx = 1/x``."""
    return _unary(LOG, x)


def log1p(x: Any) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``; ``d/dx = 1/(1 + x)``."""
    return _unary(LOG1P, x)


def sqrt(x: Any) -> Tensor:
    """``sqrt(x)``; ``d/dx = 1/(2 sqrt(x))``."""
    return _unary(SQRT, x)


def square(x: Any) -> Tensor:
    """``x^2``; ``d/dx = 2x``."""
    return power(x, 2)


def abs(x: Any) -> Tensor:  # noqa: A001 - NumPy's name
    """``|x|``; ``d/dx = sign(x)`` (0 at 0, as in PyTorch)."""
    return _unary(ABS, x)


def sin(x: Any) -> Tensor:
    """``sin x``; ``d/dx = cos x``."""
    return _unary(SIN, x)


def cos(x: Any) -> Tensor:
    """``cos x``; ``d/dx = -sin x``."""
    return _unary(COS, x)


def tanh(x: Any) -> Tensor:
    """``a = tanh(z)``; ``g'(z) = 1 - a^2``."""
    return _unary(TANH, x)


def sigmoid(x: Any) -> Tensor:
    """``a = 1 / (1 + e^-z)``, stable for any ``z``; ``g'(z) = a (1 - a)``."""
    return _unary(SIGMOID, x)


def relu(x: Any) -> Tensor:
    """``a = max(0, z)``; ``g'(z) = 1`` for ``z > 0``, else 0."""
    return _unary(RELU, x)


def leaky_relu(x: Any, alpha: float = 0.01) -> Tensor:
    """``a = max(alpha z, z)``; ``g'(z) = 1`` for ``z > 0``, else ``alpha``."""
    return _unary(LEAKY_RELU, x, float(alpha))


def softplus(x: Any) -> Tensor:
    """``log(1 + e^x)``, stable for any ``x``; ``d/dx = sigmoid(x)``."""
    return _unary(SOFTPLUS, x)


def log2(x: Any) -> Tensor:
    """``log2(x)``; ``d/dx = 1 / (x ln 2)``."""
    return _unary(LOG2, x)


def log10(x: Any) -> Tensor:
    """``log10(x)``; ``d/dx = 1 / (x ln 10)``."""
    return _unary(LOG10, x)


def exp2(x: Any) -> Tensor:
    """``2^x``; ``d/dx = 2^x ln 2``."""
    return _unary(EXP2, x)


def expm1(x: Any) -> Tensor:
    """``e^x - 1``, accurate for small ``x``; ``d/dx = e^x``."""
    return _unary(EXPM1, x)


def tan(x: Any) -> Tensor:
    """``tan x``; ``d/dx = 1 + tan^2 x``."""
    return _unary(TAN, x)


def sinh(x: Any) -> Tensor:
    """``sinh x``; ``d/dx = cosh x``."""
    return _unary(SINH, x)


def cosh(x: Any) -> Tensor:
    """``cosh x``; ``d/dx = sinh x``."""
    return _unary(COSH, x)


def arcsin(x: Any) -> Tensor:
    """``arcsin x`` on ``[-1, 1]``; ``d/dx = 1 / sqrt(1 - x^2)`` (inf at +-1)."""
    return _unary(ARCSIN, x)


def arccos(x: Any) -> Tensor:
    """``arccos x`` on ``[-1, 1]``; ``d/dx = -1 / sqrt(1 - x^2)`` (-inf at +-1)."""
    return _unary(ARCCOS, x)


def arctan(x: Any) -> Tensor:
    """``arctan x``; ``d/dx = 1 / (1 + x^2)``."""
    return _unary(ARCTAN, x)


def arcsinh(x: Any) -> Tensor:
    """``arcsinh x``; ``d/dx = 1 / sqrt(x^2 + 1)``."""
    return _unary(ARCSINH, x)


def arccosh(x: Any) -> Tensor:
    """``arccosh x`` for ``x >= 1``; ``d/dx = 1 / sqrt(x^2 - 1)`` (inf at 1)."""
    return _unary(ARCCOSH, x)


def arctanh(x: Any) -> Tensor:
    """``arctanh x`` on ``(-1, 1)``; ``d/dx = 1 / (1 - x^2)`` (inf at +-1)."""
    return _unary(ARCTANH, x)


def sinc(x: Any) -> Tensor:
    """``sin(pi x) / (pi x)`` (1 at 0), NumPy's normalized sinc;
    ``d/dx = (cos(pi x) - sinc(x)) / x``, 0 at ``x = 0``."""
    return _unary(SINC, x)


def sign(x: Any) -> Tensor:
    """``sign(x)``: piecewise constant, so its gradient is 0 (kept in the graph, as in
    PyTorch)."""
    return _unary(SIGN, x)


def floor(x: Any) -> Tensor:
    """Largest integer ``<= x``; gradient 0 (kept in the graph, as in PyTorch)."""
    return _unary(FLOOR, x)


def ceil(x: Any) -> Tensor:
    """Smallest integer ``>= x``; gradient 0 (kept in the graph, as in PyTorch)."""
    return _unary(CEIL, x)


def trunc(x: Any) -> Tensor:
    """``x`` rounded towards 0; gradient 0 (kept in the graph, as in PyTorch)."""
    return _unary(TRUNC, x)


def rint(x: Any) -> Tensor:
    """``x`` rounded to the nearest integer (halves to even); gradient 0, in the graph."""
    return _unary(RINT, x)


def nan_to_num(x: Any, nan: float = 0.0, posinf: Any = None, neginf: Any = None) -> Tensor:
    """NaN and infinities replaced by finite numbers, as ``xnp.nan_to_num``; the replaced
    elements are constants (gradient 0), the others pass the gradient (as autograd, PyTorch)."""
    return _unary(NAN_TO_NUM, x, (nan, posinf, neginf))


def round(x: Any, decimals: int = 0) -> Tensor:  # noqa: A001 - NumPy's name
    """``x`` rounded to ``decimals`` places (halves to even, as ``xnp.round``); gradient 0."""
    return _unary(ROUND, x, int(decimals))


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit ``x`` to ``[a_min, a_max]``; the gradient passes inside the closed interval.

    Parameters
    ----------
    x : Tensor or array_like
    a_min, a_max : float, array_like, Tensor or None
        Bounds (one may be None), broadcast against ``x``. A bound that is a Tensor requiring
        grad gets the gradient where it is the result (``torch.clamp``'s rule).

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If both bounds are None or ``a_min > a_max`` anywhere.
    """
    if a_min is None and a_max is None:
        raise ValueError("clip: give a_min, a_max or both")
    low, high = _bound_values(a_min), _bound_values(a_max)
    if low is not None and high is not None and xnp.any(np.asarray(low) > high):
        raise ValueError(f"clip: a_min ({low}) is greater than a_max ({high})")
    if any(isinstance(b, Tensor) and b.requires_grad for b in (a_min, a_max)):
        # A bound in the graph: where() sends each element's gradient to whichever of x and
        # the bound it came from (x keeps it at the bounds themselves, as in PyTorch).
        x = as_tensor(x)
        if a_min is not None:
            x = where(x < a_min, a_min, x)
        if a_max is not None:
            x = where(x > a_max, a_max, x)
        return x
    return _unary(CLIP, x, (low, high))


def _bound_values(bound: Any) -> Any:
    """A clip bound as NumPy takes it: a one-element Tensor as a Python number (weak, so a
    float32 ``x`` stays float32), a larger one as its array."""
    if isinstance(bound, Tensor):
        return bound.data.item() if bound.data.size == 1 else bound.data
    return bound


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors. A Python number takes the dtype NumPy would give it beside the
    other operand (NEP 50's weak scalars), so ``maximum(0, Z)`` keeps a float32 ``Z`` float32."""
    if type(a) in _SCALARS and type(b) not in _SCALARS:
        b = as_tensor(b)
        return _scalar_beside(a, b), b
    if type(b) in _SCALARS and type(a) not in _SCALARS:
        a = as_tensor(a)
        return a, _scalar_beside(b, a)
    return as_tensor(a), as_tensor(b)


def _scalar_beside(value: float, other: Tensor) -> Tensor:
    """``value`` as a 0-d Tensor in the dtype NumPy gives it beside ``other``, on its device."""
    data = other.data
    if type(data) is np.ndarray or not _backend.foreign(data):
        return _new_tensor(np.asarray(value, dtype=np.result_type(data, value)))
    host = np.asarray(value, dtype=np.result_type(other.dtype, value))
    return _new_tensor(_backend.to_device(host, _backend.device_of(data)))


# -- maximum, minimum, where -------------------------------------------------------------------
def _extremum_vjp(g, out, inputs, extra, needs):
    # The larger (for minimum: smaller) input takes the gradient. At a tie between two tensors
    # that require grad, they share it equally (as in PyTorch); at a tie with a constant, the
    # constant takes it, so xnp.maximum(0, Z) is the course's ReLU with g'(0) = 0.
    a, b = inputs
    first_wins = (a > b) if extra == "max" else (a < b)
    second_wins = (b > a) if extra == "max" else (b < a)
    if needs[0] and needs[1]:
        half = g * 0.5
        tie = a == b
        grad_a = xnp.where(first_wins, g, xnp.where(tie, half, 0))
        grad_b = xnp.where(second_wins, g, xnp.where(tie, half, 0))
        return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)
    if needs[0]:
        return unbroadcast(xnp.where(first_wins, g, 0), a.shape), None
    return None, unbroadcast(xnp.where(second_wins, g, 0), b.shape)


MAXIMUM = Op(
    "maximum",
    lambda a, b, _: xnp.maximum(a, b),
    _extremum_vjp,
    rule="dA = dY where A > B; dB = dY where B > A; at a tie dY/2 each (all to a tensor "
    "against a constant)",
)
MINIMUM = Op(
    "minimum",
    lambda a, b, _: xnp.minimum(a, b),
    _extremum_vjp,
    rule="dA = dY where A < B; dB = dY where B < A; at a tie dY/2 each (all to a tensor "
    "against a constant)",
)


def _binary_op(op: Op, name: str, a: Any, b: Any, extra: Any = None) -> Tensor:
    """Run a two-input op on Tensors, arrays or numbers (numbers weak, as in NumPy)."""
    a, b = _operands(a, b)
    try:
        data = op.forward(a.data, b.data, extra)
    except ValueError:
        raise broadcast_error(name, a.shape, b.shape) from None
    return record_binary(op, data, a, b, extra)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger of ``a`` and ``b``.

    At a tie between two tensors that require grad, each gets half of the gradient, as
    ``torch.maximum`` gives. Against a constant the constant takes it, so ``xnp.maximum(0, Z)``
    has the course's ReLU derivative, ``g'(0) = 0``.
    """
    return _binary_op(MAXIMUM, "maximum", a, b, "max")


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of ``a`` and ``b``; ties are resolved as in :func:`maximum`."""
    return _binary_op(MINIMUM, "minimum", a, b, "min")


def _where_vjp(g, out, inputs, condition, needs):
    a, b = inputs
    return (
        unbroadcast(xnp.where(condition, g, 0), a.shape) if needs[0] else None,
        unbroadcast(xnp.where(condition, 0, g), b.shape) if needs[1] else None,
    )


WHERE = Op(
    "where",
    lambda a, b, condition: xnp.where(condition, a, b),
    _where_vjp,
    rule="dA = where(cond, dY, 0), dB = where(cond, 0, dY), each unbroadcast",
)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` holds, else ``b``; each gets the gradient where it was chosen.

    Parameters
    ----------
    condition : bool Tensor or array_like
        Outside the graph.
    a, b : Tensor, array_like or number
        Broadcast against each other and ``condition``.

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        Naming all three shapes when they do not broadcast.
    """
    if isinstance(condition, Tensor):
        condition = condition.data
    elif not hasattr(condition, "__array_namespace__"):
        condition = np.asarray(condition)
    if _backend.kind(condition.dtype) != "b":
        condition = _backend.astype(condition, np.bool_)
    a, b = _operands(a, b)
    try:
        data = xnp.where(condition, a.data, b.data)
    except ValueError:
        raise broadcast_error("where", condition.shape, a.shape, b.shape) from None
    return record_binary(WHERE, data, a, b, condition)


# -- more of NumPy's binary ufuncs -------------------------------------------------------------
def _remainder_vjp(g, out, inputs, extra, needs):
    # a mod b = a - b floor(a / b) (xnp.remainder, Python's %; fmod truncates instead), and the
    # rounded quotient is piecewise constant: da = dY, db = -dY * floor(a / b), as PyTorch.
    a, b = inputs
    rounded = xnp.floor(a / b) if extra == "floor" else xnp.trunc(a / b)
    return (
        unbroadcast(g, a.shape) if needs[0] else None,
        unbroadcast(-g * rounded, b.shape) if needs[1] else None,
    )


def _zero_binary_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    zero = xnp.zeros_like(g)
    return (
        unbroadcast(zero, a.shape) if needs[0] else None,
        unbroadcast(zero, b.shape) if needs[1] else None,
    )


def _copysign_vjp(g, out, inputs, extra, needs):
    # |a| with the sign of b: da = dY * sign(a) sign(b'), 0 at a = 0 (as PyTorch); db = 0.
    a, b = inputs
    return (
        unbroadcast(g * (xnp.sign(a) * xnp.sign(out)), a.shape) if needs[0] else None,
        unbroadcast(xnp.zeros_like(g), b.shape) if needs[1] else None,
    )


def _fextremum_vjp(g, out, inputs, extra, needs):
    # As torch.fmax/fmin: a takes the gradient where it wins or ties, or where b is NaN (fmax
    # ignores NaN); b takes it everywhere else.
    a, b = inputs
    a_wins = ((a >= b) if extra == "max" else (a <= b)) | xnp.isnan(b)
    return (
        unbroadcast(xnp.where(a_wins, g, 0), a.shape) if needs[0] else None,
        unbroadcast(xnp.where(a_wins, 0, g), b.shape) if needs[1] else None,
    )


def _hypot_vjp(g, out, inputs, extra, needs):
    # sqrt(a^2 + b^2): da = dY a / hypot, db = dY b / hypot; at a = b = 0 it takes the
    # subgradient 0 (as |x| and norms do) instead of 0/0 = NaN.
    a, b = inputs
    safe = xnp.where(out == 0, 1.0, out)
    return (
        unbroadcast(g * a / safe, a.shape) if needs[0] else None,
        unbroadcast(g * b / safe, b.shape) if needs[1] else None,
    )


def _arctan2_vjp(g, out, inputs, extra, needs):
    # angle of (b, a): da = dY b / (a^2 + b^2), db = -dY a / (a^2 + b^2); 0 at the origin, as
    # PyTorch gives.
    a, b = inputs
    squared = a * a + b * b
    scale = g / xnp.where(squared == 0, 1.0, squared)
    return (
        unbroadcast(scale * b, a.shape) if needs[0] else None,
        unbroadcast(-scale * a, b.shape) if needs[1] else None,
    )


def _logaddexp_vjp(g, out, inputs, base, needs):
    # log(e^a + e^b): da = dY e^a / (e^a + e^b) = dY sigmoid(a - b), db = dY sigmoid(b - a);
    # for base 2 the difference is scaled by ln 2. Equal infinities (both -inf or both +inf)
    # have a - b = NaN; they share equally, as the limit along a = b does. Only they are masked:
    # masking every a == b would cut d(a - b)/da under create_graph, so the second derivative
    # at a tie (logaddexp(x, x)) would come out 0.
    a, b = inputs
    with np.errstate(invalid="ignore"):
        difference = xnp.where(xnp.isinf(a) & (a == b), 0.0, a - b)
    if base == 2:
        difference = difference * _LN2
    share_a = _sigmoid_of(difference)
    return (
        unbroadcast(g * share_a, a.shape) if needs[0] else None,
        unbroadcast(g * (1 - share_a), b.shape) if needs[1] else None,
    )


REMAINDER = Op(
    "remainder",
    lambda a, b, _: xnp.remainder(a, b),
    _remainder_vjp,
    rule="dA = dY; dB = -dY * floor(A / B)",
)
FMOD = Op(
    "fmod", lambda a, b, _: xnp.fmod(a, b), _remainder_vjp, rule="dA = dY; dB = -dY * trunc(A / B)"
)
FLOOR_DIVIDE = Op(
    "floor_divide", lambda a, b, _: xnp.floor_divide(a, b), _zero_binary_vjp, rule="dA = 0; dB = 0"
)
COPYSIGN = Op(
    "copysign",
    lambda a, b, _: xnp.copysign(a, b),
    _copysign_vjp,
    saves_out=True,
    rule="dA = dY * sign(A) sign(Y) (0 at A = 0); dB = 0",
)
FMAX = Op(
    "fmax",
    lambda a, b, _: xnp.fmax(a, b),
    _fextremum_vjp,
    rule="dA = dY where A >= B or B is NaN; dB = dY elsewhere",
)
FMIN = Op(
    "fmin",
    lambda a, b, _: xnp.fmin(a, b),
    _fextremum_vjp,
    rule="dA = dY where A <= B or B is NaN; dB = dY elsewhere",
)
HYPOT = Op(
    "hypot",
    lambda a, b, _: xnp.hypot(a, b),
    _hypot_vjp,
    saves_out=True,
    rule="dA = dY * A / Y; dB = dY * B / Y (0 where Y = 0)",
)
ARCTAN2 = Op(
    "arctan2",
    lambda a, b, _: xnp.arctan2(a, b),
    _arctan2_vjp,
    rule="dA = dY * B / (A^2 + B^2); dB = -dY * A / (A^2 + B^2) (0 at the origin)",
)
LOGADDEXP = Op(
    "logaddexp",
    lambda a, b, _: xnp.logaddexp(a, b),
    _logaddexp_vjp,
    rule="dA = dY * sigmoid(A - B); dB = dY * sigmoid(B - A)",
)
LOGADDEXP2 = Op(
    "logaddexp2",
    lambda a, b, _: xnp.logaddexp2(a, b),
    _logaddexp_vjp,
    rule="dA = dY * sigmoid((A - B) ln 2); dB = dY * sigmoid((B - A) ln 2)",
)


def remainder(a: Any, b: Any) -> Tensor:
    """``a mod b`` with the sign of ``b`` (``xnp.remainder``, Python's ``%``).

    ``d/da = 1``, ``d/db = -floor(a / b)`` (as PyTorch); the jumps where ``a / b`` is an integer
    have no derivative and take the one-sided value.
    """
    return _binary_op(REMAINDER, "remainder", a, b, "floor")


def fmod(a: Any, b: Any) -> Tensor:
    """``a mod b`` with the sign of ``a`` (C's ``fmod``); ``d/da = 1``, ``d/db = -trunc(a / b)``."""
    return _binary_op(FMOD, "fmod", a, b, "trunc")


def floor_divide(a: Any, b: Any) -> Tensor:
    """``floor(a / b)`` (Python's ``//``): piecewise constant, so both gradients are 0."""
    return _binary_op(FLOOR_DIVIDE, "floor_divide", a, b)


def copysign(a: Any, b: Any) -> Tensor:
    """``|a|`` with the sign of ``b``; ``d/da = sign(a) sign(result)`` (0 at 0), ``d/db = 0``."""
    return _binary_op(COPYSIGN, "copysign", a, b)


def fmax(a: Any, b: Any) -> Tensor:
    """Elementwise larger of ``a`` and ``b``, ignoring NaN (``xnp.fmax``).

    The gradient goes to ``a`` where ``a >= b`` or ``b`` is NaN, else to ``b``, as
    ``torch.fmax`` (a tie goes wholly to ``a``, unlike :func:`maximum`).
    """
    return _binary_op(FMAX, "fmax", a, b, "max")


def fmin(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of ``a`` and ``b``, ignoring NaN; gradient as :func:`fmax`."""
    return _binary_op(FMIN, "fmin", a, b, "min")


def hypot(a: Any, b: Any) -> Tensor:
    """``sqrt(a^2 + b^2)``; ``d/da = a / hypot``, ``d/db = b / hypot``, 0 at the origin."""
    return _binary_op(HYPOT, "hypot", a, b)


def arctan2(a: Any, b: Any) -> Tensor:
    """The angle of the point ``(b, a)``; ``d/da = b / (a^2 + b^2)``, ``d/db = -a / (a^2 + b^2)``
    (0 at the origin, as PyTorch)."""
    return _binary_op(ARCTAN2, "arctan2", a, b)


def logaddexp(a: Any, b: Any) -> Tensor:
    """``log(e^a + e^b)``, stable; ``d/da = sigmoid(a - b)``, ``d/db = sigmoid(b - a)``."""
    return _binary_op(LOGADDEXP, "logaddexp", a, b, math.e)


def logaddexp2(a: Any, b: Any) -> Tensor:
    """``log2(2^a + 2^b)``, stable; ``d/da = sigmoid((a - b) ln 2)``."""
    return _binary_op(LOGADDEXP2, "logaddexp2", a, b, 2)


# -- outside the graph: comparisons -------------------------------------------------------------
def compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    """A comparison or logical ufunc on values; the boolean result is outside the graph."""
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    if (type(a_data) is not np.ndarray and _backend.foreign(a_data)) or (
        type(b_data) is not np.ndarray and _backend.foreign(b_data)
    ):
        try:
            return _new_tensor(getattr(xnp, ufunc.__name__)(a_data, b_data))
        except (TypeError, ValueError, RuntimeError):
            error = mixed_device_error(ufunc.__name__, a_data, b_data)
            if error is not None:
                raise error from None
            raise
    try:
        return _new_tensor(np.asarray(ufunc(a_data, b_data)))
    except ValueError:
        raise broadcast_error(ufunc.__name__, np.shape(a_data), np.shape(b_data)) from None


# Rules that use only their inputs' shapes: an in-place change of an input after recording
# (``c += c + 1`` in micrograd's test) does not invalidate them (see Op's reads_inputs).
for _op in (ADD, SUB, NEG, ADD_SCALAR, RSUB_SCALAR, MUL_SCALAR, DIV_SCALAR):
    _op.reads_inputs = False
del _op

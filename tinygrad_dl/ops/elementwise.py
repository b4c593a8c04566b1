"""Elementwise ops: arithmetic, activations, ``maximum``/``minimum``/``where``/``clip``, and
comparisons. Each op's forward and its gradient rule (vjp) stand side by side.

In the course's notation an activation ``A = g(Z)`` sends back ``dZ = dA * g'(Z)``:
sigmoid ``g' = a(1 - a)``, tanh ``g' = 1 - a^2``, ReLU ``g' = 1 if z > 0 else 0``, leaky ReLU
``g' = 1 if z > 0 else alpha``. A binary op's gradient is summed back over broadcast axes by
:func:`~tinygrad_dl.ops.broadcast.unbroadcast`.

Python numbers take fast paths (``x * 2``, ``1 - a``): no wrapping, one input recorded.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Op, record_binary, record_unary
from ..tensor import Tensor, _new_tensor
from .broadcast import as_tensor, broadcast_error, unbroadcast

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
    "sign",
    "compare",
]

_SCALARS = (int, float)


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
    # d(a^b)/da = b a^(b-1) ; d(a^b)/db = a^b log(a), taken as 0 where a^b = 0 (a = 0)
    a, b = inputs
    grad_a = grad_b = None
    if needs[0]:
        # b a^(b-1), taken as 0 where b = 0 (a^0 is constant, even at a = 0)
        nonzero = b != 0
        power = np.where(nonzero, a, 1) ** (b - 1)
        grad_a = unbroadcast(np.where(nonzero, g * b * power, 0), a.shape)
    if needs[1]:
        safe_log = np.log(np.where(a > 0, a, 1))
        grad_b = unbroadcast(g * out * safe_log, b.shape)
    return grad_a, grad_b


ADD = Op("add", lambda a, b, _: a + b, _add_vjp, rule="dA = unbroadcast(dY), dB = unbroadcast(dY)")
SUB = Op("sub", lambda a, b, _: a - b, _sub_vjp, rule="dA = unbroadcast(dY), dB = unbroadcast(-dY)")
MUL = Op(
    "mul",
    lambda a, b, _: a * b,
    _mul_vjp,
    rule="dA = unbroadcast(dY * B), dB = unbroadcast(dY * A)",
)
DIV = Op(
    "div",
    lambda a, b, _: a / b,
    _div_vjp,
    rule="dA = unbroadcast(dY / B), dB = unbroadcast(-dY * A / B**2)",
)
POW = Op(
    "pow",
    lambda a, b, _: a**b,
    _pow_vjp,
    saves_out=True,
    rule="dA = dY * B * A**(B-1) (0 where B = 0), dB = dY * Y * log(A) (0 where A <= 0)",
)

# One input and a Python number kept in ``extra``.
ADD_SCALAR = Op("add", lambda x, c: x + c, lambda g, out, inputs, c, needs: (g,), rule="dX = dY")
RSUB_SCALAR = Op(
    "rsub", lambda x, c: c - x, lambda g, out, inputs, c, needs: (-g,), rule="dX = -dY"
)
MUL_SCALAR = Op(
    "mul", lambda x, c: x * c, lambda g, out, inputs, c, needs: (g * c,), rule="dX = dY * c"
)
DIV_SCALAR = Op(
    "div", lambda x, c: x / c, lambda g, out, inputs, c, needs: (g / c,), rule="dX = dY / c"
)
RDIV_SCALAR = Op(
    "rdiv",
    lambda x, c: c / x,
    lambda g, out, inputs, c, needs: (-g * out / inputs[0],),
    True,
    rule="dX = -dY * Y / X",
)


def _pow_scalar_vjp(g, out, inputs, c, needs):
    (x,) = inputs
    if c == 2:
        return (g * 2 * x,)
    if c == 0:
        return (g * 0,)  # x^0 is constant (also at x = 0, where x^-1 would be inf)
    return (g * c * x ** (c - 1),)


POW_SCALAR = Op(
    "pow", lambda x, c: x**c, _pow_scalar_vjp, rule="dX = dY * c * X**(c-1) (0 when c = 0)"
)
RPOW_SCALAR = Op(
    "rpow",
    lambda x, c: c**x,
    lambda g, out, inputs, c, needs: (g * out * float(np.log(c)),),
    saves_out=True,
    rule="dX = dY * Y * log(c)",
)


def _binary(op: Op, name: str, a: Any, b: Any) -> Tensor:
    if type(a) is not Tensor:
        a = as_tensor(a)
    if type(b) is not Tensor:
        b = as_tensor(b)
    try:
        data = op.forward(a.data, b.data, None)
    except ValueError:
        raise broadcast_error(name, a.shape, b.shape) from None
    return record_binary(op, data, a, b)


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting; ``d/da = 1``, summed over broadcast axes.

    The arithmetic ops ``add``, ``sub``, ``mul``, ``div`` and ``power`` take Tensors, arrays or
    Python numbers, follow NumPy's broadcasting and dtype rules, and raise ``ValueError`` naming
    both shapes (as Python tuples) when they do not broadcast.
    """
    if type(b) in _SCALARS:
        if type(a) is not Tensor:
            a = as_tensor(a)
        return record_unary(ADD_SCALAR, a.data + b, a, b)
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
        return record_unary(ADD_SCALAR, a.data - b, a, -b)
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
        return record_unary(MUL_SCALAR, a.data * b, a, b)
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
        return record_unary(DIV_SCALAR, a.data / b, a, b)
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
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def _softplus_forward(x: np.ndarray, _: Any = None) -> np.ndarray:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite for any x
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _sigmoid_of(x: Any) -> Any:
    """Stable sigmoid of an ndarray, or the recorded op for a Tensor (under create_graph)."""
    return sigmoid(x) if isinstance(x, Tensor) else _sigmoid_forward(x)


NEG = Op("neg", lambda x, _: -x, lambda g, out, inputs, extra, needs: (-g,), rule="dX = -dY")
EXP = Op(
    "exp",
    lambda x, _: np.exp(x),
    lambda g, out, inputs, e, n: (g * out,),
    saves_out=True,
    rule="dX = dY * Y",
)
LOG = Op(
    "log", lambda x, _: np.log(x), lambda g, out, inputs, e, n: (g / inputs[0],), rule="dX = dY / X"
)
LOG1P = Op(
    "log1p",
    lambda x, _: np.log1p(x),
    lambda g, out, inputs, e, n: (g / (1 + inputs[0]),),
    rule="dX = dY / (1 + X)",
)
SQRT = Op(
    "sqrt",
    lambda x, _: np.sqrt(x),
    lambda g, out, inputs, e, n: (g / (2 * out),),
    saves_out=True,
    rule="dX = dY / (2 Y)",
)
ABS = Op(
    "abs",
    lambda x, _: np.abs(x),
    lambda g, out, inputs, e, n: (g * np.sign(inputs[0]),),
    rule="dX = dY * sign(X)",
)
SIN = Op(
    "sin",
    lambda x, _: np.sin(x),
    lambda g, out, inputs, e, n: (g * np.cos(inputs[0]),),
    rule="dX = dY * cos(X)",
)
COS = Op(
    "cos",
    lambda x, _: np.cos(x),
    lambda g, out, inputs, e, n: (-g * np.sin(inputs[0]),),
    rule="dX = -dY * sin(X)",
)
TANH = Op(
    "tanh",
    lambda x, _: np.tanh(x),
    lambda g, out, inputs, e, n: (g * (1 - out * out),),  # g' = 1 - a^2
    saves_out=True,
    rule="dZ = dA * (1 - A**2)",
)
SIGMOID = Op(
    "sigmoid",
    _sigmoid_forward,
    lambda g, out, inputs, e, n: (g * out * (1 - out),),  # g' = a (1 - a)
    saves_out=True,
    rule="dZ = dA * A * (1 - A)",
)
RELU = Op(
    "relu",
    lambda x, _: np.maximum(x, 0),
    lambda g, out, inputs, e, n: (g * (inputs[0] > 0),),  # g' = 0 at z <= 0, as in the course
    rule="dZ = dA * (Z > 0)",
)
LEAKY_RELU = Op(
    "leaky_relu",
    lambda x, alpha: np.where(x > 0, x, x * alpha),
    lambda g, out, inputs, alpha, n: (np.where(inputs[0] > 0, g, g * alpha),),
    rule="dZ = dA where Z > 0, else alpha * dA",
)
SOFTPLUS = Op(
    "softplus",
    _softplus_forward,
    lambda g, out, inputs, e, n: (g * _sigmoid_of(inputs[0]),),
    rule="dX = dY * sigmoid(X)",
)


def _clip_forward(x, bounds):
    low, high = bounds
    if low is not None:
        x = np.maximum(x, low)
    if high is not None:
        x = np.minimum(x, high)
    return x


def _clip_vjp(g, out, inputs, bounds, needs):
    # The gradient passes where low <= x <= high (inclusive, as in PyTorch).
    (x,) = inputs
    low, high = bounds
    if low is not None:
        g = np.where(x >= low, g, 0)
    if high is not None:
        g = np.where(x <= high, g, 0)
    return (g,)


CLIP = Op("clip", _clip_forward, _clip_vjp, rule="dX = dY where low <= X <= high, else 0")


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


def clip(x: Any, a_min: Any = None, a_max: Any = None) -> Tensor:
    """Limit ``x`` to ``[a_min, a_max]``; the gradient passes inside the closed interval.

    Parameters
    ----------
    x : Tensor or array_like
    a_min, a_max : float or None
        Bounds (one may be None).

    Returns
    -------
    Tensor

    Raises
    ------
    ValueError
        If both bounds are None or ``a_min > a_max``.
    """
    if a_min is None and a_max is None:
        raise ValueError("clip: give a_min, a_max or both")
    a_min = a_min.item() if isinstance(a_min, Tensor) else a_min
    a_max = a_max.item() if isinstance(a_max, Tensor) else a_max
    if a_min is not None and a_max is not None and np.any(np.asarray(a_min) > a_max):
        raise ValueError(f"clip: a_min ({a_min}) is greater than a_max ({a_max})")
    return _unary(CLIP, x, (a_min, a_max))


def _operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both operands as Tensors. A Python number takes the dtype NumPy would give it beside the
    other operand (NEP 50's weak scalars), so ``maximum(0, Z)`` keeps a float32 ``Z`` float32."""
    if type(a) in _SCALARS and type(b) not in _SCALARS:
        b = as_tensor(b)
        return _new_tensor(np.asarray(a, dtype=np.result_type(b.data, a))), b
    if type(b) in _SCALARS and type(a) not in _SCALARS:
        a = as_tensor(a)
        return a, _new_tensor(np.asarray(b, dtype=np.result_type(a.data, b)))
    return as_tensor(a), as_tensor(b)


# -- maximum, minimum, where -------------------------------------------------------------------
def _extremum_vjp(g, out, inputs, extra, needs):
    # The larger (for minimum: smaller) input takes the gradient. At a tie between two tensors
    # that require grad, they share it equally (as in PyTorch); at a tie with a constant, the
    # constant takes it, so np.maximum(0, Z) is the course's ReLU with g'(0) = 0.
    a, b = inputs
    first_wins = (a > b) if extra == "max" else (a < b)
    second_wins = (b > a) if extra == "max" else (b < a)
    if needs[0] and needs[1]:
        half = g * 0.5
        tie = a == b
        grad_a = np.where(first_wins, g, np.where(tie, half, 0))
        grad_b = np.where(second_wins, g, np.where(tie, half, 0))
        return unbroadcast(grad_a, a.shape), unbroadcast(grad_b, b.shape)
    if needs[0]:
        return unbroadcast(np.where(first_wins, g, 0), a.shape), None
    return None, unbroadcast(np.where(second_wins, g, 0), b.shape)


MAXIMUM = Op(
    "maximum",
    lambda a, b, _: np.maximum(a, b),
    _extremum_vjp,
    rule="dA = dY where A > B (half at ties of two tensors), dB likewise where B > A",
)
MINIMUM = Op(
    "minimum",
    lambda a, b, _: np.minimum(a, b),
    _extremum_vjp,
    rule="dA = dY where A < B (half at ties of two tensors), dB likewise where B < A",
)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger of ``a`` and ``b``.

    At a tie, two tensors that require grad share the gradient equally; against a constant the
    constant takes it, so ``maximum(0, Z)`` has the course's ReLU derivative (0 at ``Z = 0``).
    """
    a, b = _operands(a, b)
    try:
        data = np.maximum(a.data, b.data)
    except ValueError:
        raise broadcast_error("maximum", a.shape, b.shape) from None
    return record_binary(MAXIMUM, data, a, b, "max")


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller of ``a`` and ``b``; ties are resolved as in :func:`maximum`."""
    a, b = _operands(a, b)
    try:
        data = np.minimum(a.data, b.data)
    except ValueError:
        raise broadcast_error("minimum", a.shape, b.shape) from None
    return record_binary(MINIMUM, data, a, b, "min")


def _where_vjp(g, out, inputs, condition, needs):
    a, b = inputs
    return (
        unbroadcast(np.where(condition, g, 0), a.shape) if needs[0] else None,
        unbroadcast(np.where(condition, 0, g), b.shape) if needs[1] else None,
    )


WHERE = Op(
    "where",
    lambda a, b, condition: np.where(condition, a, b),
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
    condition = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if condition.dtype != np.bool_:
        condition = condition.astype(bool)
    a, b = _operands(a, b)
    try:
        data = np.where(condition, a.data, b.data)
    except ValueError:
        raise broadcast_error("where", condition.shape, a.shape, b.shape) from None
    return record_binary(WHERE, data, a, b, condition)


# -- outside the graph: comparisons and sign ---------------------------------------------------
def compare(ufunc: np.ufunc, a: Any, b: Any) -> Tensor:
    """A comparison or logical ufunc on values; the boolean result is outside the graph."""
    a_data = a.data if isinstance(a, Tensor) else a
    b_data = b.data if isinstance(b, Tensor) else b
    try:
        return _new_tensor(np.asarray(ufunc(a_data, b_data)))
    except ValueError:
        raise broadcast_error(ufunc.__name__, np.shape(a_data), np.shape(b_data)) from None


def sign(x: Any) -> Tensor:
    """``sign(x)``: piecewise constant, so outside the graph (its gradient is 0)."""
    return _new_tensor(np.sign(x.data if isinstance(x, Tensor) else np.asarray(x)))

"""In-place changes recorded as ops: ``x += y``, ``x *= y``, ``x[index] = v``, ``x.fill_(v)``.

As in PyTorch, an in-place change of a tensor in the graph (or with an operand that requires
grad) is recorded: the tensor stays the same object, its recorded op becomes the change, and
the change's first input is the tensor's previous version (see
:func:`tinygrad_dl.autograd.begin_inplace`). ``x += y`` records ``add`` (``dX = dY_out``,
``dy = unbroadcast(dY_out)``), the arithmetic ops record their out-of-place rules, and:

- ``x[index] = v``: ``dx = dY`` with ``dY[index]`` set to 0 (those elements were replaced),
  ``dv = unbroadcast(dY[index], v.shape)``;
- ``x.fill_(c)``: ``dx = 0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Op
from .broadcast import as_tensor, unbroadcast
from .elementwise import ADD, ADD_SCALAR, DIV, DIV_SCALAR, MUL, MUL_SCALAR, SUB

__all__ = ["SETITEM", "FILL", "arithmetic", "operand"]


def _setitem_forward(x: np.ndarray, *rest: Any) -> np.ndarray:
    # rest: (value array, extra) or (extra,) with a plain value kept in extra
    extra = rest[-1]
    out = x.copy()
    out[extra[0]] = rest[0] if len(rest) == 2 else extra[1]
    return out


def _setitem_vjp(g, out, inputs, extra, needs):
    index = extra[0]
    grad_x = grad_value = None
    if needs[0]:
        kept = np.ones(g.shape, dtype=bool)
        kept[index] = False
        grad_x = g * kept
    if len(needs) > 1 and needs[1]:
        grad_value = unbroadcast(g[index], inputs[1].shape)
    return grad_x, grad_value


# extra: (index, the value when it is not a Tensor)
SETITEM = Op(
    "setitem",
    _setitem_forward,
    _setitem_vjp,
    rule="dX = dY with dY[index] = 0 ; dv = unbroadcast(dY[index], v.shape)",
    reads_inputs=False,
)
FILL = Op(
    "fill",
    lambda x, value: np.full_like(x, value),
    lambda g, out, inputs, value, needs: (g * 0,),
    rule="dX = 0",
    reads_inputs=False,
)

# ufunc -> (op with a Tensor operand, op with a Python number, how the number is stored)
_ARITHMETIC = {
    np.add: (ADD, ADD_SCALAR, lambda c: c),
    np.subtract: (SUB, ADD_SCALAR, lambda c: -c),
    np.multiply: (MUL, MUL_SCALAR, lambda c: c),
    np.true_divide: (DIV, DIV_SCALAR, lambda c: c),
}


def arithmetic(ufunc: np.ufunc, other: Any) -> tuple[Op, Any]:
    """The op recording ``x <ufunc>= other`` and its ``extra`` (the number, for a number)."""
    tensor_op, scalar_op, stored = _ARITHMETIC[ufunc]
    if isinstance(other, (int, float)) and not isinstance(other, bool):
        return scalar_op, stored(other)
    return tensor_op, None


def operand(other: Any, op: Op) -> Any:
    """The recorded operand of ``x <op>= other``: a Tensor, or ``None`` for a number."""
    return None if op in _SCALAR_OPS else as_tensor(other)


_SCALAR_OPS = (ADD_SCALAR, MUL_SCALAR, DIV_SCALAR)

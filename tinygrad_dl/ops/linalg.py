"""``matmul`` and ``dot`` with NumPy's rules (1-D, 2-D and batched).

For ``Z = W A`` the gradient rule is the course's: ``dW = dZ A^T`` and ``dA = W^T dZ`` (the
``1/m`` of ``dW^[l] = (1/m) dZ^[l] A^[l-1]^T`` comes from the mean in the cost). An input that
needs no gradient costs nothing: with ``A^[0] = X`` no ``dX`` GEMM is run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..autograd import Op, record_binary
from ..tensor import Tensor
from .broadcast import as_tensor, unbroadcast

__all__ = ["matmul", "dot"]


def _matmul_vjp(g, out, inputs, extra, needs):
    a, b = inputs
    if a.ndim == 2 and b.ndim == 2:  # the course's case, kept free of reshapes
        return (
            g @ b.T if needs[0] else None,
            a.T @ g if needs[1] else None,
        )
    # General case: promote 1-D operands to matrices as NumPy does, then undo the promotion.
    a2 = a.reshape((1,) + a.shape) if a.ndim == 1 else a
    b2 = b.reshape(b.shape + (1,)) if b.ndim == 1 else b
    g2 = g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2) if b.ndim > 1 else g2.reshape((1,) + g2.shape)
    if b.ndim == 1:
        g2 = np.expand_dims(g2, -1)
    grad_a = grad_b = None
    if needs[0]:
        grad_a = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
    if needs[1]:
        grad_b = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
    return grad_a, grad_b


MATMUL = Op(
    "matmul",
    lambda a, b, _: a @ b,
    _matmul_vjp,
    rule="dA = dY @ B.T, dB = A.T @ dY (batched and 1-d: unbroadcast, promoted axes removed)",
)


def _matmul_error(a_shape: tuple, b_shape: tuple) -> ValueError:
    if not a_shape or not b_shape:
        return ValueError(
            f"matmul: shapes {a_shape} and {b_shape}: operands must have at least one dimension "
            f"(use * for scalars)"
        )
    inner_a = a_shape[-1]
    axis_b = 0 if len(b_shape) == 1 else len(b_shape) - 2
    inner_b = b_shape[axis_b]
    if inner_a != inner_b:
        return ValueError(
            f"matmul: shapes {a_shape} and {b_shape} not aligned: {inner_a} "
            f"(dim {len(a_shape) - 1}) != {inner_b} (dim {axis_b})"
        )
    return ValueError(
        f"matmul: shapes {a_shape} and {b_shape}: batch dimensions {a_shape[:-2]} and "
        f"{b_shape[:-2]} cannot be broadcast together"
    )


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules; ``d/da = dZ b^T``, ``d/db = a^T dZ``.

    Raises
    ------
    ValueError
        Naming both shapes when the inner dimensions or batch dimensions do not match.
    """
    a, b = as_tensor(a), as_tensor(b)
    a_data, b_data = a.data, b.data
    if a_data.ndim == 0 or b_data.ndim == 0:
        raise _matmul_error(a_data.shape, b_data.shape)
    try:
        data = a_data @ b_data
    except ValueError:
        raise _matmul_error(a_data.shape, b_data.shape) from None
    if not isinstance(data, np.ndarray):
        data = np.asarray(data)
    return record_binary(MATMUL, data, a, b)


def dot(a: Any, b: Any) -> Tensor:
    """``np.dot``: a scalar operand multiplies; 1-D and 2-D operands take the matrix product.

    Raises
    ------
    ValueError
        For operands of more than two dimensions (use ``matmul``, whose batching rule differs
        from ``np.dot``'s), or shapes that do not align.
    """
    from .elementwise import mul

    a, b = as_tensor(a), as_tensor(b)
    if a.data.ndim == 0 or b.data.ndim == 0:
        return mul(a, b)
    if a.data.ndim > 2 or b.data.ndim > 2:
        raise ValueError(
            f"dot: shapes {a.shape} and {b.shape}: operands of more than 2 dimensions are not "
            f"supported; use matmul for batched products"
        )
    if a.data.shape[-1] != b.data.shape[0]:
        axis_b = 0
        raise ValueError(
            f"dot: shapes {a.shape} and {b.shape} not aligned: {a.data.shape[-1]} "
            f"(dim {a.data.ndim - 1}) != {b.data.shape[0]} (dim {axis_b})"
        )
    return matmul(a, b)

"""Function transforms in the shape of ``jax`` and ``torch.func``: ``grad``, ``value_and_grad``,
``vjp``, ``jacobian``, ``hessian``, ``hvp``.

A transform takes a function of Tensors and returns a new function. ``grad(f)(x)`` is
``df/dx`` for a scalar ``f``: for the course's cost ``J(w, b)``, ``grad(J, argnums=(0, 1))``
gives ``(dw, db)``. Transforms nest: ``grad(grad(f))`` is the second derivative, because an
inner transform whose arguments already carry a graph records its own backward
(``create_graph``) for the outer one to differentiate.

``tg.grad(outputs, inputs)`` stays PyTorch's ``torch.autograd.grad``; these are the
functional forms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import autograd
from .autograd import enable_grad
from .tensor import Tensor

__all__ = ["grad", "value_and_grad", "vjp", "jacobian", "hessian", "hvp"]


def _positions(argnums: int | Sequence[int], count: int, what: str) -> tuple[int, ...]:
    positions = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for position in positions:
        if not -count <= position < count:
            raise TypeError(
                f"{what}: argnums {position} but the function got {count} positional arguments"
            )
    return tuple(p % count for p in positions)


def _as_input(value: Any, what: str) -> Tensor:
    """An argument to differentiate: kept when it already carries a graph, else a fresh leaf."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            return value  # an outer transform differentiates through us
        data = value.data
    else:
        data = np.asarray(value)
    if data.dtype.kind not in "biuf":
        raise TypeError(f"{what}: cannot differentiate with respect to dtype {data.dtype}")
    dtype = data.dtype if data.dtype.kind == "f" else np.dtype(np.float64)
    return Tensor(np.array(data, dtype=dtype), requires_grad=True)


def _prepare(args: tuple, positions: tuple[int, ...], what: str) -> tuple[list, list, bool]:
    args = list(args)
    nested = False
    for position in positions:
        value = args[position]
        nested |= isinstance(value, Tensor) and value.requires_grad
        args[position] = _as_input(value, what)
    return args, [args[p] for p in positions], nested


def _split_aux(result: Any, has_aux: bool, what: str) -> tuple[Any, Any]:
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(f"{what}: has_aux=True needs the function to return (output, aux)")
    return result[0], result[1]


def _scalar_output(value: Any, what: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"{what}: the function must return a Tensor, got {type(value).__name__}")
    if value.data.size != 1:
        raise TypeError(
            f"{what}: the function must return a scalar (one element) to take its gradient; it "
            f"returned shape {value.shape} (use jacobian or vjp for other shapes)"
        )
    return value


def _gradients(output: Tensor, leaves: list[Tensor], seed: Any, create_graph: bool) -> list:
    """``d output / d leaf`` for each leaf, zeros where the output does not depend on it."""
    if not output.requires_grad:
        return [Tensor(np.zeros_like(leaf.data)) for leaf in leaves]
    gradients = autograd.grad(
        output,
        leaves,
        grad_outputs=seed,
        retain_graph=True,
        create_graph=create_graph,
        allow_unused=True,
    )
    return [
        Tensor(np.zeros_like(leaf.data)) if g is None else g for g, leaf in zip(gradients, leaves)
    ]


def value_and_grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False
) -> Callable:
    """``value_and_grad(f)(*args) -> (f(*args), df/d args[argnums])``, as ``jax.value_and_grad``.

    Parameters
    ----------
    f : callable
        Returns a scalar Tensor (or ``(scalar, aux)`` with ``has_aux=True``).
    argnums : int or sequence of int
        Which positional arguments to differentiate; a sequence gives a tuple of gradients.
    has_aux : bool
        ``f`` returns ``(output, aux)``; the result is then ``((output, aux), gradient)``.

    Returns
    -------
    callable
        Taking ``f``'s arguments. Gradients are Tensors shaped like their arguments (zeros for
        an argument ``f`` does not use).
    """

    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        positions = _positions(argnums, len(args), "value_and_grad")
        args, leaves, nested = _prepare(args, positions, "value_and_grad")
        with enable_grad():
            value, aux = _split_aux(f(*args, **kwargs), has_aux, "value_and_grad")
            value = _scalar_output(value, "value_and_grad")
            gradients = _gradients(value, leaves, None, create_graph=nested)
        result = gradients[0] if isinstance(argnums, int) else tuple(gradients)
        value = value if nested else value.detach()
        return ((value, aux) if has_aux else value), result

    return wrapped


def grad(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """``grad(f)(*args) -> df/d args[argnums]`` for a scalar ``f``, as ``jax.grad``.

    With ``has_aux=True`` the result is ``(gradient, aux)``. See :func:`value_and_grad`.
    """
    inner = value_and_grad(f, argnums, has_aux)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        value, gradients = inner(*args, **kwargs)
        return (gradients, value[1]) if has_aux else gradients

    return wrapped


def vjp(f: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """``(f(*primals), vjp_fn)`` where ``vjp_fn(v)`` gives ``v^T J`` for every primal.

    As ``torch.func.vjp``: ``vjp_fn`` takes a cotangent shaped like the output and returns a
    tuple with one gradient per primal (``dA^[l-1] = W^[l]^T dZ^[l]`` is the vjp of
    ``Z = W A + b`` with respect to ``A``). ``vjp_fn`` can be called several times.
    """
    args, leaves, nested = _prepare(primals, tuple(range(len(primals))), "vjp")
    with enable_grad():
        output, aux = _split_aux(f(*args), has_aux, "vjp")
    if not isinstance(output, Tensor):
        raise TypeError(f"vjp: the function must return a Tensor, got {type(output).__name__}")

    def vjp_fn(cotangent: Any) -> tuple:
        data = cotangent.data if isinstance(cotangent, Tensor) else np.asarray(cotangent)
        if data.shape != output.shape:
            raise ValueError(
                f"vjp_fn: the cotangent has shape {data.shape} but the output has shape "
                f"{output.shape}"
            )
        seed = cotangent if isinstance(cotangent, Tensor) else Tensor(data)
        with enable_grad():
            return tuple(_gradients(output, leaves, seed, create_graph=nested))

    value = output if nested else output.detach()
    return (value, vjp_fn, aux) if has_aux else (value, vjp_fn)


def jacobian(f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False) -> Callable:
    """Reverse-mode Jacobian, as ``jax.jacrev`` / ``torch.func.jacrev``.

    ``jacobian(f)(x)[i..., j...] = d f(x)[i...] / d x[j...]``: shape ``output.shape +
    x.shape``, one backward per output element. A sequence ``argnums`` gives a tuple.
    """

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        positions = _positions(argnums, len(args), "jacobian")
        args, leaves, nested = _prepare(args, positions, "jacobian")
        with enable_grad():
            output, aux = _split_aux(f(*args, **kwargs), has_aux, "jacobian")
            if not isinstance(output, Tensor):
                raise TypeError(
                    f"jacobian: the function must return a Tensor, got {type(output).__name__}"
                )
            rows: list[list[Tensor]] = [[] for _ in leaves]
            for index in range(output.data.size):
                seed = np.zeros(output.data.size, dtype=output.data.dtype)
                seed[index] = 1
                gradients = _gradients(output, leaves, Tensor(seed.reshape(output.shape)), nested)
                for row, gradient in zip(rows, gradients):
                    row.append(gradient)
        jacobians = [_assemble(row, output.shape, leaf.shape) for row, leaf in zip(rows, leaves)]
        result = jacobians[0] if isinstance(argnums, int) else tuple(jacobians)
        return (result, aux) if has_aux else result

    return wrapped


def _assemble(rows: list[Tensor], out_shape: tuple, in_shape: tuple) -> Tensor:
    from .ops import reshape, stack

    if not rows:
        return Tensor(np.zeros(out_shape + in_shape))
    return reshape(stack(rows, axis=0), out_shape + in_shape)


def hessian(f: Callable, argnums: int = 0) -> Callable:
    """``hessian(f)(x)``: the matrix of second derivatives of a scalar ``f``, shape
    ``x.shape + x.shape`` (the Jacobian of the gradient, as ``jax.hessian``)."""
    if not isinstance(argnums, int):
        raise TypeError("hessian: argnums must be one int")
    return jacobian(grad(f, argnums), argnums)


def hvp(f: Callable, primals: Any, tangents: Any) -> tuple:
    """``(f(*primals), H v)``: the Hessian of a scalar ``f`` times ``tangents``, without
    forming ``H`` (two backward passes), as ``torch.autograd.functional.hvp``.

    ``primals`` and ``tangents`` are one Tensor each or matching tuples.
    """
    return autograd.hvp(f, primals, tangents)

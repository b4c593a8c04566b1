"""``tg.Function``: an op with a gradient you write yourself, as ``torch.autograd.Function``.

Subclass it with two static methods and call ``apply``::

    class Softplus(tg.Function):
        @staticmethod
        def forward(ctx, x):  # log(1 + e^x), computed without overflow
            ctx.save_for_backward(x)
            return np.logaddexp(0.0, x)

        @staticmethod
        def backward(ctx, grad_output):  # d softplus / dx = sigmoid(x)
            (x,) = ctx.saved_tensors
            return grad_output * tg.sigmoid(x)

    y = Softplus.apply(z)

``forward`` runs with grad mode off on detached Tensors (NumPy calls on them work); it returns
one Tensor or ndarray. ``backward`` receives ``dY`` (the gradient of the cost with respect to
the output, shaped like it) as a Tensor and returns one gradient per argument of ``forward``
(``None`` for arguments that are not Tensors or need none), each shaped like its argument.

Under ``create_graph=True`` ``backward`` runs with grad mode on, ``dY`` is part of the graph,
and the saved tensors are the real inputs (and a re-recorded output), so a ``backward``
written with Tensor ops is differentiated again: ``gradgradcheck`` works on such a Function.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .autograd import Op, enable_grad, is_grad_enabled, no_grad, record
from .tensor import Tensor

__all__ = ["Function", "FunctionCtx"]


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: saved tensors and which inputs need grad."""

    # No __slots__: ctx carries whatever else backward needs (ctx.scale = ...), as in PyTorch.

    def __init__(self, needs_input_grad: tuple[bool, ...]):
        self.saved: tuple = ()
        self.needs_input_grad = needs_input_grad
        self._inputs: tuple = ()  # the detached Tensors forward received
        self._output: Any = None  # what forward returned, when it was saved
        self._non_differentiable = False

    def save_for_backward(self, *tensors: Any) -> None:
        """Keep ``tensors`` (inputs, the output or intermediates) for ``backward``."""
        for index, tensor in enumerate(tensors):
            if tensor is not None and not isinstance(tensor, (Tensor, np.ndarray)):
                raise TypeError(
                    f"save_for_backward: argument {index} is a {type(tensor).__name__}; save "
                    f"Tensors or arrays (keep other values as attributes of ctx)"
                )
        self.saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        """The tensors given to ``save_for_backward``, in order."""
        return self.saved

    def mark_non_differentiable(self, *outputs: Any) -> None:
        """Declare the output not differentiable (an index, a mask): it gets no graph."""
        self._non_differentiable = True


class Function:
    """Base class of ops with a hand-written gradient; see the module docstring.

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, grad_output)`` as static
    methods and are called through ``apply(*args)``.
    """

    @staticmethod
    def forward(ctx: FunctionCtx, *args: Any) -> Any:
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Any) -> Any:
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor:
        """Run ``forward`` and record one node whose gradient rule is ``backward``."""
        name = cls.__name__
        graph_positions = [
            i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad
        ]
        ctx = FunctionCtx(tuple(i in graph_positions for i in range(len(args))))
        detached = tuple(a.detach() if isinstance(a, Tensor) else a for a in args)
        ctx._inputs = detached
        with no_grad():
            result = cls.forward(ctx, *detached)
        if isinstance(result, (tuple, list)):
            raise TypeError(
                f"{name}.forward returned {len(result)} values; a tg.Function has one output "
                f"(return a single Tensor or array, or write one Function per output)"
            )
        if isinstance(result, Tensor):
            data = result.data
        elif isinstance(result, (np.ndarray, np.generic, int, float)):
            data = np.asarray(result)
        else:
            raise TypeError(
                f"{name}.forward must return a Tensor or an ndarray, got {type(result).__name__}"
            )
        if any(saved is result for saved in ctx.saved):
            ctx._output = result
        inputs = tuple(args[i] for i in graph_positions)
        if not graph_positions or ctx._non_differentiable or not is_grad_enabled():
            return Tensor(data)
        if data.dtype.kind != "f":
            raise TypeError(
                f"{name}.forward returned dtype {data.dtype} from inputs that require grad; "
                f"a differentiable output must be floating point (call "
                f"ctx.mark_non_differentiable for indices and masks)"
            )
        op = Op(name, _never_forward, _run_backward, rule=f"dX = {name}.backward(ctx, dY)")
        return record(op, data, inputs, (cls, ctx, tuple(graph_positions), args))


def _never_forward(*arrays: Any) -> Any:
    raise RuntimeError("a tg.Function's node is re-run through Function.apply, not Op.forward")


def _run_backward(grad_output, out, inputs, extra, needs) -> tuple:
    """The node's vjp: call ``cls.backward`` and check what it returns."""
    cls, ctx, positions, original_args = extra
    name = cls.__name__
    create_graph = isinstance(grad_output, Tensor)
    if create_graph:
        # Differentiable backward: hand over the graph-connected inputs and output.
        replace = {id(d): a for d, a in zip(ctx._inputs, original_args) if isinstance(d, Tensor)}
        if ctx._output is not None:
            replace[id(ctx._output)] = cls.apply(*original_args)
        saved = tuple(replace.get(id(s), s) for s in ctx.saved)
        previous, ctx.saved = ctx.saved, saved
        try:
            with enable_grad():
                grads = cls.backward(ctx, grad_output)
        finally:
            ctx.saved = previous
    else:
        with no_grad():
            grads = cls.backward(ctx, Tensor(grad_output))
    if not isinstance(grads, (tuple, list)):
        grads = (grads,)
    if len(grads) != len(original_args):
        raise RuntimeError(
            f"{name}.backward returned {len(grads)} gradient(s) but forward took "
            f"{len(original_args)} argument(s); return one per argument (None where none)"
        )
    results = []
    for position, tensor, need in zip(positions, inputs, needs):
        gradient = grads[position]
        if gradient is None or not need:
            results.append(None if gradient is None else _plain(gradient, create_graph))
            continue
        shape = np.shape(gradient.data if isinstance(gradient, Tensor) else gradient)
        if shape != tensor.shape:
            raise RuntimeError(
                f"{name}.backward returned a gradient of shape {shape} for argument "
                f"{position}, which has shape {tensor.shape}; each gradient must be shaped "
                f"like its argument"
            )
        results.append(_plain(gradient, create_graph))
    return tuple(results)


def _plain(gradient: Any, create_graph: bool) -> Any:
    """A gradient as the engine expects it: a Tensor under create_graph, else an ndarray."""
    if create_graph:
        return gradient if isinstance(gradient, Tensor) else Tensor(np.asarray(gradient))
    return np.asarray(gradient.data if isinstance(gradient, Tensor) else gradient)

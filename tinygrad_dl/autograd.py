"""The backward engine: recorded nodes, grad mode, ``backward``, ``grad`` and anomaly mode.

Every differentiable primitive is an :class:`Op`: a NumPy ``forward`` and a vector-Jacobian
product ``vjp``. Running an op on tensors that require grad records a :class:`Node` holding the
op, its input tensors and what its vjp needs. A node links only to its inputs (older tensors),
never to its output, so the graph has no reference cycles and is freed by reference counting
the moment its last tensor goes.

Backward visits nodes newest first. A node's sequence number is larger than that of every node
it depends on, so "newest first" is a topological order: no recursion, no depth limit, time
linear in the graph's size. For the chain rule in the course's notation, a node receiving
``dA`` (the gradient of the cost with respect to its output) hands each input
``vjp(dA) = dA . dA/dinput`` (for example ``dZ = dA * g'(Z)``, ``dA^[l-1] = W^[l]^T dZ^[l]``).
"""

from __future__ import annotations

import itertools
import os
import sys
import weakref
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from sys import getrefcount
from typing import Any

import numpy as np

from .tensor import Tensor, _new_tensor

__all__ = [
    "Op",
    "Node",
    "apply",
    "record",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "set_grad_enabled",
    "set_detect_anomaly",
    "is_anomaly_enabled",
    "backward",
    "grad",
    "value_and_grad",
    "hvp",
]


class Op:
    """A differentiable primitive: a NumPy forward and its vector-Jacobian product.

    Parameters
    ----------
    name : str
        Shown in ``grad_fn`` and in error messages.
    forward : callable
        ``forward(*arrays, extra) -> ndarray``, plain NumPy.
    vjp : callable
        ``vjp(grad, out, inputs, extra, needs) -> tuple`` with one gradient per input (``None``
        where ``needs[i]`` is false). In a plain backward ``grad``, ``out`` and ``inputs`` are
        ndarrays; under ``create_graph=True`` they are Tensors, so a rule written with operators
        and dispatching ``np.*`` functions serves both.
    saves_out : bool
        Whether ``vjp`` reads ``out``; only then is the output array kept alive by the graph.
    rule : str
        The gradient rule in one line of the course's or NumPy's notation
        (``dA = dY @ B.T``), for the table of every op's rule.
    """

    __slots__ = ("name", "forward", "vjp", "saves_out", "rule")

    def __init__(
        self,
        name: str,
        forward: Callable,
        vjp: Callable,
        saves_out: bool = False,
        rule: str = "",
    ):
        self.name = name
        self.forward = forward
        self.vjp = vjp
        self.saves_out = saves_out
        self.rule = rule

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


class _GradMode:
    """Process-wide switches read on every recorded op (plain attributes: cheapest to read).

    ``clock`` is the sequence number of the latest in-place change. Nodes and in-place changes
    draw from one counter, so "was an array changed after the node saved it?" is "is its last
    change numbered above ``node.seq``?", and nothing needs checking while
    ``clock < node.seq``. Changes are kept per underlying memory (the root ``base`` of an
    array), so a change through a view or a detached alias is seen too, as in PyTorch.
    """

    enabled = True
    anomaly = False
    clock = -1


_mode = _GradMode
_sequence = itertools.count()
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _NodeInfo:
    """What few nodes need: the anomaly trace and a retained interior tensor."""

    __slots__ = ("trace", "retained")

    def __init__(self) -> None:
        self.trace: str | None = None
        self.retained = None


class Node:
    """One recorded op application: what backward needs to send gradients to the inputs.

    ``inputs`` are the input tensors (``None`` once the graph is freed), ``out`` the output
    array where the op's vjp reads it, ``seq`` the creation order that backward follows
    newest first (and the in-place clock at creation, see :class:`_GradMode`).
    """

    __slots__ = ("op", "_inputs", "extra", "out", "seq", "info", "__weakref__")

    def __init__(self, op: Op, inputs: Any, extra: Any, out: np.ndarray | None):
        self.op = op
        # One input is stored as the Tensor itself, several as a tuple: one object fewer per
        # op for the cyclic garbage collector to scan while a long graph is alive.
        self._inputs = inputs
        self.extra = extra
        self.out = out
        self.seq = next(_sequence)
        self.info = None
        if _mode.anomaly:
            self.details().trace = _creation_site()

    def details(self) -> _NodeInfo:
        if self.info is None:
            self.info = _NodeInfo()
        return self.info

    @property
    def inputs(self) -> tuple | None:
        """The input tensors, or ``None`` once backward has freed the graph."""
        inputs = self._inputs
        if inputs is None or type(inputs) is tuple:
            return inputs
        return (inputs,)

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def next_functions(self) -> tuple:
        """``(node_or_leaf, index)`` for each input that requires grad (PyTorch's shape)."""
        if self.inputs is None:
            return ()
        return tuple(
            ((t._node if t._node is not None else t), 0) for t in self.inputs if t.requires_grad
        )

    def __repr__(self) -> str:
        return f"<{self.op.name}>"


def _creation_site() -> str:
    """``file:line`` of the first caller outside this package (for anomaly reports)."""
    frame = sys._getframe(2)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def record(op: Op, data: np.ndarray, inputs: tuple, extra: Any = None) -> Tensor:
    """Wrap ``data`` (the forward result of ``op`` on ``inputs``) and record the node if needed.

    A node is recorded only when grad mode is on and some input requires grad.
    """
    out = _object_new(Tensor)
    out.data = data
    out.grad = None
    if _mode.enabled:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                stored = inputs if len(inputs) != 1 else inputs[0]
                out._node = Node(op, stored, extra, data if op.saves_out else None)
                return out
    out.requires_grad = False
    out._node = None
    return out


def record_unary(op: Op, data: np.ndarray, x: Tensor, extra: Any = None) -> Tensor:
    """:func:`record` for a one-input op (the most common case, kept free of loops)."""
    out = _object_new(Tensor)
    out.data = data
    out.grad = None
    if x.requires_grad and _mode.enabled:
        out.requires_grad = True
        out._node = Node(op, x, extra, data if op.saves_out else None)
    else:
        out.requires_grad = False
        out._node = None
    return out


def record_binary(op: Op, data: np.ndarray, a: Tensor, b: Tensor, extra: Any = None) -> Tensor:
    """:func:`record` for a two-input op."""
    out = _object_new(Tensor)
    out.data = data
    out.grad = None
    if (a.requires_grad or b.requires_grad) and _mode.enabled:
        out.requires_grad = True
        out._node = Node(op, (a, b), extra, data if op.saves_out else None)
    else:
        out.requires_grad = False
        out._node = None
    return out


_object_new = object.__new__


def apply(op: Op, inputs: Sequence[Tensor], extra: Any = None) -> Tensor:
    """Run ``op.forward`` on the inputs' arrays and record the result (see :class:`Op`)."""
    inputs = tuple(inputs)
    data = op.forward(*[t.data for t in inputs], extra)
    return record(op, data, inputs, extra)


# ---------------------------------------------------------------------------------------------
# Grad mode and anomaly mode


class _ModeSwitch:
    """Context manager and decorator that sets grad mode, restoring the previous one on exit."""

    __slots__ = ("_value", "_previous")

    def __init__(self, value: bool):
        self._value = value
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(_mode.enabled)
        _mode.enabled = self._value

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous.pop()

    def __call__(self, func: Callable) -> Callable:
        value = self._value

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _ModeSwitch(value):
                return func(*args, **kwargs)

        wrapper.__name__ = getattr(func, "__name__", "wrapper")
        wrapper.__doc__ = getattr(func, "__doc__", None)
        wrapper.__wrapped__ = func  # type: ignore[attr-defined]
        return wrapper


def no_grad(func: Callable | None = None) -> Any:
    """Record nothing inside: ``with tg.no_grad():``, ``@tg.no_grad()`` or ``@tg.no_grad``."""
    switch = _ModeSwitch(False)
    return switch if func is None else switch(func)


def enable_grad(func: Callable | None = None) -> Any:
    """Record ops again inside a ``no_grad`` region (context manager or decorator)."""
    switch = _ModeSwitch(True)
    return switch if func is None else switch(func)


def is_grad_enabled() -> bool:
    """Whether ops are being recorded."""
    return _mode.enabled


class set_grad_enabled:  # noqa: N801 - PyTorch's name, used like a function
    """Set grad mode now; as a context manager, restore the previous mode on exit."""

    def __init__(self, mode: bool):
        self._previous = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _mode.enabled = self._previous


class set_detect_anomaly:  # noqa: N801 - PyTorch's name, used like a function
    """Turn anomaly detection on or off now; as a context manager, restore the previous mode.

    With it on, every recorded node remembers the ``file:line`` of the forward call that made
    it, and backward raises ``RuntimeError`` at the first op whose gradient holds NaN or inf.
    """

    def __init__(self, mode: bool):
        self._previous = _mode.anomaly
        _mode.anomaly = bool(mode)

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _mode.anomaly = self._previous


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return _mode.anomaly


# ---------------------------------------------------------------------------------------------
# Backward


# id(root array) -> [weak reference to it, number of its latest in-place change]
_changes: dict[int, list] = {}


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (views and aliases share it)."""
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def note_inplace_change(array: np.ndarray) -> None:
    """Record that ``array``'s memory is being changed in place (called before the change)."""
    seq = next(_sequence)
    _mode.clock = seq
    root = _root(array)
    entry = _changes.get(id(root))
    if entry is not None and entry[0]() is root:
        entry[1] = seq  # an optimiser step changes the same arrays every time: no allocation
        return
    _changes[id(root)] = [weakref.ref(root), seq]
    if len(_changes) > 4096:  # forget arrays that no longer exist
        for key in [k for k, (ref, _) in _changes.items() if ref() is None]:
            del _changes[key]


def _changed_after(array: np.ndarray, seq: int) -> bool:
    root = _root(array)
    entry = _changes.get(id(root))
    return entry is not None and entry[1] > seq and entry[0]() is root


def _check_saved_unchanged(node: Node) -> None:
    """Raise if backward cannot run ``node``: graph freed, or a saved array changed in place."""
    if node.inputs is None:
        raise RuntimeError(
            f"backward: trying to backward through the graph a second time at op "
            f"'{node.op.name}': its saved arrays were freed after the first backward. Pass "
            f"retain_graph=True to the first backward() (or tg.grad) to keep them."
        )
    if _mode.clock > node.seq:
        if node.out is not None and _changed_after(node.out, node.seq):
            raise RuntimeError(
                f"backward: the output of op '{node.op.name}' (shape {node.out.shape}) was "
                f"modified by an in-place operation after it was saved for backward"
            )
        for index, tensor in enumerate(node.inputs):
            if _changed_after(tensor.data, node.seq):
                raise RuntimeError(
                    f"backward: input {index} of op '{node.op.name}' (shape {tensor.shape}) was "
                    f"modified by an in-place operation after it was saved for backward (also "
                    f"through a view or detached alias of it); do the change after backward, "
                    f"or compute with a copy"
                )


def _check_finite(node: Node, index: int, gradient: Any) -> None:
    values = gradient.data if hasattr(gradient, "requires_grad") else gradient
    if not np.all(np.isfinite(values)):
        trace = node.info.trace if node.info is not None else None
        where = trace or "<unknown: anomaly mode was off when the op was recorded>"
        raise RuntimeError(
            f"anomaly: op '{node.op.name}' produced a non-finite (NaN or inf) gradient for its "
            f"input {index} (shape {np.shape(values)}); the op was created at {where}"
        )


def backward(
    roots: Sequence[Tensor],
    root_grads: Sequence[Any],
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
) -> list | None:
    """Run reverse mode from ``roots`` seeded with ``root_grads``.

    Without ``capture`` gradients accumulate into the ``.grad`` of leaves (and of interior
    tensors that called ``retain_grad``). With ``capture`` (``tg.grad``) no ``.grad`` changes;
    the gradients of the captured tensors are returned in order (``None`` where unused).
    """
    with _ModeSwitch(create_graph):
        return _run_backward(roots, root_grads, retain_graph, create_graph, capture)


_ONE_NEED = (True,)


def _run_backward(roots, root_grads, retain_graph, create_graph, capture):
    pending: dict[Node, Any] = {}  # node -> gradient of its output, summed over its consumers
    heap: list[tuple[int, Node]] = []
    leaf_grads: dict[int, Any] = {}  # capture mode: id(leaf) -> gradient
    captured_nodes: dict[Node, int] = {}
    captured_leaves: dict[int, int] = {}
    results: list[Any] = []
    if capture is not None:
        results = [None] * len(capture)
        for position, tensor in enumerate(capture):
            if tensor._node is not None:
                captured_nodes[tensor._node] = position
            else:
                captured_leaves[id(tensor)] = position
    handed_out: set[int] = set()  # arrays already stored as some leaf's .grad in this pass

    def send(tensor: Tensor, gradient: Any) -> None:
        node = tensor._node
        if node is not None:
            previous = pending.get(node)
            if previous is None:
                pending[node] = gradient
                heappush(heap, (-node.seq, node))
            else:
                pending[node] = previous + gradient
        elif capture is not None:
            key = id(tensor)
            if key in captured_leaves:
                previous = leaf_grads.get(key)
                leaf_grads[key] = gradient if previous is None else previous + gradient
        else:
            _accumulate_leaf(tensor, gradient, create_graph, handed_out)

    for tensor, gradient in zip(roots, root_grads):
        if not create_graph and type(gradient) is Tensor:
            # A plain backward works on arrays; copy so no leaf's .grad aliases the seed.
            gradient = gradient.data.copy()
        send(tensor, gradient)

    anomaly = _mode.anomaly
    watch = capture is not None or anomaly  # rare modes that need every node's bookkeeping
    mode = _mode
    node = None
    while True:
        if node is None:  # not continuing along a chain: take the newest waiting node
            if not heap:
                break
            node = heappop(heap)[1]
            gradient = pending.pop(node)
        inputs = node._inputs
        if inputs is None or node.info is not None or mode.clock > node.seq:
            _check_saved_unchanged(node)
            info = node.info
            if info is not None and info.retained is not None and capture is None:
                owner = info.retained()
                if owner is not None:
                    _accumulate_leaf(owner, gradient, create_graph, handed_out)
        if watch and capture is not None and node in captured_nodes:
            results[captured_nodes[node]] = gradient
        op = node.op
        if type(inputs) is not tuple and not create_graph:
            # The common case, kept straight-line: one input, plain arrays.
            tensor = inputs
            input_grad = op.vjp(gradient, node.out, (tensor.data,), node.extra, _ONE_NEED)[0]
            gradient = None  # let a vjp's view of it be the sole owner (see _accumulate_leaf)
            if not retain_graph:
                node._inputs = node.out = node.extra = None
            if anomaly:
                _check_finite(node, 0, input_grad)
            dtype = tensor.data.dtype
            if input_grad.dtype is not dtype and input_grad.dtype != dtype:
                input_grad = input_grad.astype(dtype)
            node = tensor._node
            if node is not None and not heap and not watch:
                gradient = input_grad  # a plain chain: hand the gradient straight on
                continue
            node = None
            send(tensor, input_grad)
            input_grad = tensor = None
            continue
        if type(inputs) is not tuple:
            inputs = (inputs,)
        count = len(inputs)
        if count == 1:
            needs = _ONE_NEED
        elif count == 2:
            needs = (inputs[0].requires_grad, inputs[1].requires_grad)
        else:
            needs = [t.requires_grad for t in inputs]
        if create_graph:
            out = apply(op, inputs, node.extra) if op.saves_out else None
            if type(gradient) is not Tensor:
                gradient = Tensor(gradient)
            input_grads = op.vjp(gradient, out, inputs, node.extra, needs)
        else:
            if count == 2:
                arrays = (inputs[0].data, inputs[1].data)
            else:
                arrays = [t.data for t in inputs]
            input_grads = op.vjp(gradient, node.out, arrays, node.extra, needs)
        gradient = None  # let a vjp's view of it be the sole owner (see _accumulate_leaf)
        if not retain_graph:
            # Release what only backward needed, so memory returns as soon as it is used.
            node._inputs = None
            node.out = None
            node.extra = None
        current, node = node, None
        # Gather the gradients to hand on; when exactly one goes to an interior node and
        # nothing else waits, follow the chain directly (no dict or heap traffic).
        target = target_grad = None
        outgoing = 0
        for index in range(count):
            input_grad = input_grads[index]
            if input_grad is None or not needs[index]:
                continue
            tensor = inputs[index]
            if anomaly:
                _check_finite(current, index, input_grad)
            dtype = tensor.data.dtype
            if input_grad.dtype is not dtype and input_grad.dtype != dtype:
                input_grad = input_grad.astype(dtype)
            outgoing += 1
            if outgoing == 1:
                target, target_grad = tensor, input_grad
            else:
                if outgoing == 2:
                    send(target, target_grad)
                send(tensor, input_grad)
        input_grads = input_grad = None  # hold no gradient past its consumer (see above)
        if outgoing == 1:
            if target._node is not None and not heap and not watch:
                node = target._node
                gradient = target_grad
            else:
                send(target, target_grad)
        target = target_grad = tensor = None

    if capture is not None:
        for key, position in captured_leaves.items():
            if key in leaf_grads:
                results[position] = leaf_grads[key]
        return results
    return None


def _accumulate_leaf(tensor, gradient, create_graph, handed_out):
    """``tensor.grad += gradient`` (PyTorch's accumulation), copying only when needed."""
    if create_graph:
        if type(gradient) is not Tensor:
            gradient = Tensor(gradient)
        tensor.grad = gradient if tensor.grad is None else tensor.grad + gradient
        return
    if type(gradient) is Tensor:
        gradient = gradient.data
    if tensor.grad is None:
        # Keep a freshly computed array as .grad without copying. Copy arrays already handed
        # to another leaf (``a + b`` passes one array to both), and views unless their base is
        # held by nothing else (a transposed fresh product is kept; a read-only broadcast view
        # or a view of a gradient still in use is copied).
        if (
            (
                gradient.base is not None
                # references: the view's own and getrefcount's argument; any more is another owner
                and (getrefcount(gradient.base) > 2 or not gradient.flags.writeable)
            )
            or id(gradient) in handed_out
            or gradient.shape != tensor.data.shape
        ):
            gradient = np.array(np.broadcast_to(gradient, tensor.data.shape), copy=True)
        handed_out.add(id(gradient))
        tensor.grad = _new_tensor(gradient)
    else:
        tensor.grad = _new_tensor(tensor.grad.data + gradient)


def _seed(output: Tensor, gradient: Any, what: str) -> Any:
    """The gradient that starts backward at ``output``: 1 for a scalar, else ``gradient``."""
    from .tensor import Tensor

    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for scalar outputs; the output has "
                f"shape {output.shape}. Pass gradient= (an array of shape {output.shape})."
            )
        return np.array(1, dtype=output.data.dtype).reshape(output.data.shape)
    data = gradient.data if isinstance(gradient, Tensor) else np.asarray(gradient)
    if data.shape != output.shape:
        raise RuntimeError(
            f"{what}: gradient has shape {data.shape} but the output has shape {output.shape}"
        )
    if isinstance(gradient, Tensor) and gradient.requires_grad:
        return gradient  # create_graph may differentiate through the seed itself
    # The seed may end up as a leaf's .grad: copy so the caller's array is never aliased.
    return np.array(data, dtype=output.data.dtype, copy=True)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of ``outputs`` with respect to ``inputs``, leaving every ``.grad`` alone.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensor
        What to differentiate (scalars, or any shape with ``grad_outputs``).
    inputs : Tensor or sequence of Tensor
        What to differentiate with respect to; each must require grad.
    grad_outputs : array-like or sequence, optional
        The vector in the vector-Jacobian product, one per output (default 1 for scalars).
    retain_graph : bool, optional
        Keep the graph for another backward; defaults to ``create_graph``.
    create_graph : bool
        Record the backward pass itself, so the result can be differentiated again.
    allow_unused : bool
        Return ``None`` for an input the outputs do not depend on instead of raising.

    Returns
    -------
    tuple of Tensor
        One gradient per input, shaped like it.
    """
    from .tensor import Tensor

    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, (Tensor, np.ndarray)):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for position, tensor in enumerate(inputs):
        if not isinstance(tensor, Tensor) or not tensor.requires_grad:
            raise RuntimeError(f"grad: input {position} does not require grad")
    roots, seeds = [], []
    for output, seed in zip(outputs, grad_outputs):
        if not output.requires_grad:
            raise RuntimeError(
                f"grad: an output (shape {output.shape}) does not require grad and has no "
                f"graph; did you compute it under no_grad or from tensors without requires_grad?"
            )
        roots.append(output)
        seeds.append(_seed(output, seed, "grad"))
    if retain_graph is None:
        retain_graph = create_graph
    results = backward(roots, seeds, retain_graph, create_graph, capture=inputs)
    final = []
    for position, (tensor, result) in enumerate(zip(inputs, results)):
        if result is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {position} (shape {tensor.shape}) was not used in the graph "
                    f"of the outputs; pass allow_unused=True to get None for it"
                )
            final.append(None)
        elif isinstance(result, Tensor):
            final.append(result)
        else:
            data = np.broadcast_to(result, tensor.shape)
            final.append(Tensor(np.array(data, copy=True) if data is not result else data))
    return tuple(final)


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Functional form: ``value_and_grad(f)(*args) -> (value, gradient)``.

    Arguments at ``argnums`` are taken as fresh float tensors that require grad; ``f`` must
    return a scalar Tensor. The gradient is a Tensor, or a tuple of them when ``argnums`` is a
    sequence.
    """
    from .tensor import Tensor

    single = isinstance(argnums, int)
    positions = (argnums,) if single else tuple(argnums)

    def wrapped(*args: Any, **kwargs: Any) -> tuple:
        args = list(args)
        for position in positions:
            if position >= len(args):
                raise TypeError(
                    f"value_and_grad: argnums {position} but the function got {len(args)} "
                    f"positional arguments"
                )
            value = args[position]
            data = value.data if isinstance(value, Tensor) else value
            args[position] = Tensor(np.array(data, dtype=_float_dtype(data)), requires_grad=True)
        with _ModeSwitch(True):
            value = fun(*args, **kwargs)
        if not isinstance(value, Tensor):
            raise TypeError(
                f"value_and_grad: the function must return a Tensor, got {type(value).__name__}"
            )
        gradients = grad(value, [args[p] for p in positions], allow_unused=True)
        gradients = tuple(
            Tensor(np.zeros_like(args[p].data)) if g is None else g
            for p, g in zip(positions, gradients)
        )
        return value.detach(), (gradients[0] if single else gradients)

    return wrapped


def _float_dtype(data: Any) -> np.dtype:
    dtype = np.asarray(data).dtype
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def hvp(fun: Callable, inputs: Tensor | Sequence[Tensor], v: Any) -> tuple:
    """Hessian-vector product ``H v`` of a scalar function, by differentiating the gradient.

    Returns ``(fun(*inputs), H v)`` like ``torch.autograd.functional.hvp``; ``v`` matches
    ``inputs`` (one array per input).
    """
    from .tensor import Tensor

    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    vs = [v] if single else list(v)
    leaves = []
    for t in inputs:
        data = t.data if isinstance(t, Tensor) else t
        leaves.append(Tensor(np.array(data, dtype=_float_dtype(data)), True))
    with _ModeSwitch(True):
        value = fun(*leaves)
        first = grad(value, leaves, create_graph=True, allow_unused=True)
        total = None
        for g, direction in zip(first, vs):
            if g is None:
                continue
            direction = np.asarray(getattr(direction, "data", direction), dtype=g.dtype)
            term = (g * Tensor(direction)).sum()
            total = term if total is None else total + term
        if total is None or not total.requires_grad:
            products = tuple(Tensor(np.zeros_like(t.data)) for t in leaves)
        else:
            second = grad(total, leaves, allow_unused=True)
            products = tuple(
                Tensor(np.zeros_like(t.data)) if s is None else s.detach()
                for t, s in zip(leaves, second)
            )
    return value.detach(), (products[0] if single else products)


def next_sequence() -> int:
    """Draw from the counter shared by nodes and in-place changes."""
    return next(_sequence)


def inference_mode(mode: bool | Callable = True) -> Any:
    """PyTorch's ``inference_mode``: here :func:`no_grad` (context manager or decorator).

    ``inference_mode(False)`` leaves grad mode as it is, as in PyTorch.
    """
    if callable(mode):
        return no_grad(mode)
    return no_grad() if mode else _ModeSwitch(_mode.enabled)

"""The backward engine: recorded ops, grad mode, ``backward``, ``grad`` and anomaly mode.

Every differentiable primitive is an :class:`Op`: a NumPy ``forward`` and a vector-Jacobian
product ``vjp``. Running an op on tensors that require grad records the op in its output
Tensor: the op, its input tensors, what its vjp needs, and a sequence number. The output
*is* the graph's node (one object per op for the cyclic garbage collector to scan, as in
PyTorch); ``tensor.grad_fn`` is a light :class:`Node` view of that record. A tensor links
only to its inputs (older tensors), never to its consumers, so the graph has no reference
cycles and is freed by reference counting the moment its last tensor goes.

Backward visits tensors newest first. A recorded tensor's sequence number is larger than that
of every tensor it depends on, so "newest first" is a topological order: no recursion, no
depth limit, time linear in the graph's size. For the chain rule in the course's notation, an
op receiving ``dA`` (the gradient of the cost with respect to its output) hands each input
``vjp(dA) = dA . dA/dinput`` (for example ``dZ = dA * g'(Z)``, ``dA^[l-1] = W^[l]^T dZ^[l]``).

Grad mode and anomaly mode are per thread (as in PyTorch): a ``no_grad`` block or a
``backward`` in one thread never changes what another thread records.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import os
import sys
import threading
import weakref
from collections.abc import Callable, Sequence
from heapq import heappop, heappush
from typing import Any

import numpy as np

from . import backend as _backend
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
        and dispatching ``np.*`` functions serves both. A plain vjp returns arrays it computed
        (or views of ``grad``), never the forward arrays themselves: backward keeps them as
        ``.grad`` without copying.
    saves_out : bool
        Whether ``vjp`` reads ``out``; only then is the output array kept alive by the graph.
    rule : str
        The gradient rule in one line of the course's or NumPy's notation
        (``dA = dY @ B.T``), for the table of every op's rule.
    reads_inputs : bool
        Whether ``vjp`` reads the input *values* (``False`` when it needs only their shapes and
        dtypes, as ``add``'s ``dA = dY``). Backward refuses to run an op whose read inputs
        were changed in place after it was recorded (PyTorch's saved-tensor check); an op
        that reads none is not affected by such a change.
    vjp_of_dy : callable, optional
        ``vjp_of_dy(dY, extra) -> dX`` for a one-input op whose gradient reads neither the
        input nor the output (``x + c``, ``x * c``, ``-x``): ``vjp`` is made from it (pass
        ``None``), and backward's chain of one-input ops calls it directly, without building
        argument tuples (a sixth of W4's per-op time).
    """

    __slots__ = ("name", "forward", "vjp", "saves_out", "rule", "reads_inputs", "vjp_of_dy")

    def __init__(
        self,
        name: str,
        forward: Callable,
        vjp: Callable | None,
        saves_out: bool = False,
        rule: str = "",
        reads_inputs: bool = True,
        vjp_of_dy: Callable | None = None,
    ):
        self.name = name
        self.forward = forward
        self.vjp_of_dy = vjp_of_dy
        if vjp_of_dy is not None:
            vjp = _vjp_from(vjp_of_dy)
            reads_inputs = saves_out = False
        self.vjp = vjp
        self.saves_out = saves_out
        self.rule = rule
        self.reads_inputs = reads_inputs

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


def _vjp_from(vjp_of_dy: Callable) -> Callable:
    """The general ``vjp`` of an op whose gradient is ``vjp_of_dy(dY, extra)``."""

    def vjp(g: Any, out: Any, inputs: tuple, extra: Any, needs: tuple) -> tuple:
        return (vjp_of_dy(g, extra),)

    return vjp


class _ThreadMode(threading.local):
    """This thread's switches, read on every recorded op (class attributes: the defaults).

    ``saved`` is the stack of modes that ``no_grad``/``enable_grad`` blocks restore on exit;
    kept per thread so one context-manager object may be shared by several threads.
    """

    enabled = True
    anomaly = False

    def __init__(self) -> None:
        self.saved: list[bool] = []


class _Clock:
    """The sequence number of the latest in-place change, in any thread.

    Recorded ops and in-place changes draw from one counter, so "was an array changed after
    the op saved it?" is "is its last change numbered above the op's ``_seq``?", and nothing
    needs checking while ``_Clock.latest < _seq``. Changes are kept per underlying memory (the
    root ``base`` of an array), so a change through a view or a detached alias is seen too,
    as in PyTorch.
    """

    latest = -1


_mode = _ThreadMode()


class _Anywhere:
    """How many threads have grad mode off (``no_grad``) and anomaly mode on, right now.

    Reading a ``threading.local`` attribute costs about 30 ns, twice per recorded op; while
    both counts are 0 (most programs, most of the time) the recording functions skip those
    reads. Every change of a thread's mode goes through :func:`_set_grad_mode` or
    :func:`_set_anomaly_mode`, which keep the counts under a lock; a count above 0 only sends
    readers to the thread-local value.
    """

    grad_off = 0
    anomaly_on = 0
    lock = threading.Lock()


def _set_grad_mode(value: bool) -> None:
    """Set this thread's grad mode, keeping :attr:`_Anywhere.grad_off` true."""
    if _mode.enabled != value:  # only this thread writes its own mode: no lock to read it
        with _Anywhere.lock:
            _mode.enabled = value
            _Anywhere.grad_off += -1 if value else 1


def _set_anomaly_mode(value: bool) -> None:
    """Set this thread's anomaly mode, keeping :attr:`_Anywhere.anomaly_on` true."""
    if _mode.anomaly != value:
        with _Anywhere.lock:
            _mode.anomaly = value
            _Anywhere.anomaly_on += 1 if value else -1


_sequence = itertools.count()
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class _NodeInfo:
    """What few recorded tensors need, kept out of the hot path.

    ``trace``: the forward call site (anomaly mode). ``retained``: ``retain_grad()`` was
    called. ``view``: a weak reference to the :class:`Node` that ``grad_fn`` handed out, so
    repeated ``grad_fn`` reads give one object while it lives. ``previous``: for a tensor
    changed in place by a recorded op, the tensor holding its version before the change
    (the op's first input), which consumers recorded before the change still use.
    """

    __slots__ = ("trace", "retained", "view", "previous")

    def __init__(self) -> None:
        self.trace: str | None = None
        self.retained = False
        self.view: weakref.ref | None = None
        self.previous: Tensor | None = None


def _details(tensor: Tensor) -> _NodeInfo:
    info = tensor._info
    if info is None:
        info = tensor._info = _NodeInfo()
    return info


def _inputs_of(tensor: Tensor) -> tuple | None:
    """The input tensors recorded in ``tensor`` (``None`` once backward freed them).

    One input is stored in ``_inputs`` as the Tensor itself, two as ``_inputs`` and
    ``_second``, more as a tuple: no container object per op for the common one- and
    two-input ops.
    """
    first = tensor._inputs
    if first is None or type(first) is tuple:
        return first
    second = tensor._second
    return (first,) if second is None else (first, second)


class Node:
    """``tensor.grad_fn``: a view of the op recorded in a non-leaf tensor.

    Attributes are PyTorch's: ``name``, ``next_functions`` (``(node_or_leaf, 0)`` per input
    that requires grad) and ``inputs`` (the input tensors, ``None`` once backward freed them).
    Two views of one tensor compare equal.
    """

    __slots__ = ("_tensor", "__weakref__")

    def __init__(self, tensor: Tensor):
        self._tensor = tensor

    @property
    def op(self) -> Op:
        return self._tensor._op

    @property
    def name(self) -> str:
        return self._tensor._op.name

    @property
    def seq(self) -> int:
        return self._tensor._seq

    @property
    def inputs(self) -> tuple | None:
        """The input tensors, or ``None`` once backward has freed the graph."""
        return _inputs_of(self._tensor)

    @property
    def next_functions(self) -> tuple:
        """``(node_or_leaf, index)`` for each input that requires grad (PyTorch's shape)."""
        inputs = _inputs_of(self._tensor)
        if inputs is None:
            return ()
        inputs = [_version_at(t, self._tensor._seq) for t in inputs]
        return tuple((node_of(t) or t, 0) for t in inputs if t.requires_grad)

    def __eq__(self, other: object) -> bool:
        return type(other) is Node and other._tensor is self._tensor

    def __hash__(self) -> int:
        return id(self._tensor)

    def __repr__(self) -> str:
        return f"<{self._tensor._op.name}>"


def node_of(tensor: Tensor) -> Node | None:
    """``tensor.grad_fn``: the :class:`Node` view of its recorded op, ``None`` for a leaf."""
    if tensor._op is None:
        return None
    info = _details(tensor)
    view = info.view() if info.view is not None else None
    if view is None:
        view = Node(tensor)
        info.view = weakref.ref(view)  # weak: the tensor must not keep its view (a cycle)
    return view


def _version_at(tensor: Tensor, seq: int) -> Tensor:
    """``tensor`` as it was when the op numbered ``seq`` recorded it (see in-place changes)."""
    while tensor._seq > seq:
        tensor = tensor._info.previous
    return tensor


def _creation_site() -> str:
    """``file:line`` of the first caller outside this package (for anomaly reports)."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back
    if frame is None:
        return "<unknown>"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def record(op: Op, data: np.ndarray, inputs: Sequence[Tensor], extra: Any = None) -> Tensor:
    """Wrap ``data`` (the forward result of ``op`` on ``inputs``) and record the op if needed.

    The op is recorded only when grad mode is on and some input requires grad.
    """
    if len(inputs) == 1:
        return record_unary(op, data, inputs[0], extra)
    if len(inputs) == 2:
        return record_binary(op, data, inputs[0], inputs[1], extra)
    out = _object_new(Tensor)
    out.data = data
    out.grad = None
    out._info = None
    out._second = None
    if _mode.enabled:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out._op = op
                out._inputs = tuple(inputs)
                out._extra = extra
                out._seq = next(_sequence)
                if _mode.anomaly:
                    _details(out).trace = _creation_site()
                return out
    out.requires_grad = False
    out._op = out._inputs = out._extra = None
    out._seq = -1
    return out


def record_unary(op: Op, data: np.ndarray, x: Tensor, extra: Any = None) -> Tensor:
    """:func:`record` for a one-input op (the most common case, kept free of loops)."""
    out = _object_new(Tensor)
    out.data = data
    out.grad = None
    out._info = None
    out._second = None
    if x.requires_grad and (not _Anywhere.grad_off or _mode.enabled):
        out.requires_grad = True
        out._op = op
        out._inputs = x
        out._extra = extra
        out._seq = next(_sequence)
        if _Anywhere.anomaly_on and _mode.anomaly:
            _details(out).trace = _creation_site()
    else:
        out.requires_grad = False
        out._op = out._inputs = out._extra = None
        out._seq = -1
    return out


def record_binary(op: Op, data: np.ndarray, a: Tensor, b: Tensor, extra: Any = None) -> Tensor:
    """:func:`record` for a two-input op."""
    out = _object_new(Tensor)
    out.data = data
    out.grad = None
    out._info = None
    if (a.requires_grad or b.requires_grad) and (not _Anywhere.grad_off or _mode.enabled):
        out.requires_grad = True
        out._op = op
        out._inputs = a
        out._second = b
        out._extra = extra
        out._seq = next(_sequence)
        if _Anywhere.anomaly_on and _mode.anomaly:
            _details(out).trace = _creation_site()
    else:
        out.requires_grad = False
        out._op = out._inputs = out._second = out._extra = None
        out._seq = -1
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
    """Context manager and decorator that sets this thread's grad mode, restoring it on exit.

    As a decorator of a generator function it applies inside the generator, around each
    resumption, and leaves the caller's mode alone between them (as PyTorch's does).
    """

    __slots__ = ("_value",)

    def __init__(self, value: bool):
        self._value = value

    def __enter__(self) -> None:
        _mode.saved.append(_mode.enabled)
        _set_grad_mode(self._value)

    def __exit__(self, *exc: object) -> None:
        _set_grad_mode(_mode.saved.pop())

    def __call__(self, func: Callable) -> Callable:
        value = self._value
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
                return (yield from _run_generator_in_mode(func(*args, **kwargs), value))

            return generator_wrapper

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _ModeSwitch(value):
                return func(*args, **kwargs)

        return wrapper


def _run_generator_in_mode(generator: Any, value: bool) -> Any:
    """Drive ``generator`` with grad mode ``value`` set around each step (send, throw, close)."""
    try:
        with _ModeSwitch(value):
            response = generator.send(None)
        while True:
            try:
                request = yield response
            except GeneratorExit:
                with _ModeSwitch(value):
                    generator.close()
                raise
            except BaseException as error:
                with _ModeSwitch(value):
                    response = generator.throw(error)
            else:
                with _ModeSwitch(value):
                    response = generator.send(request)
    except StopIteration as stop:
        return stop.value


def no_grad(func: Callable | None = None) -> Any:
    """Record nothing inside: ``with tg.no_grad():``, ``@tg.no_grad()`` or ``@tg.no_grad``.

    Grad mode is per thread: other threads keep recording. On a generator function the mode
    applies inside the generator, not to the code that iterates it.
    """
    switch = _ModeSwitch(False)
    return switch if func is None else switch(func)


def enable_grad(func: Callable | None = None) -> Any:
    """Record ops again inside a ``no_grad`` region (context manager or decorator)."""
    switch = _ModeSwitch(True)
    return switch if func is None else switch(func)


def is_grad_enabled() -> bool:
    """Whether ops are being recorded in this thread."""
    return _mode.enabled


class set_grad_enabled:  # noqa: N801 - PyTorch's name, used like a function
    """Set this thread's grad mode now; as a context manager, restore the previous one on exit."""

    def __init__(self, mode: bool):
        self._previous = _mode.enabled
        _set_grad_mode(bool(mode))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set_grad_mode(self._previous)


class set_detect_anomaly:  # noqa: N801 - PyTorch's name, used like a function
    """Turn anomaly detection on or off now (this thread); as a context manager, restore it.

    With it on, every recorded op remembers the ``file:line`` of the forward call that made
    it, and backward raises ``RuntimeError`` at the first op whose gradient holds NaN or inf.
    """

    def __init__(self, mode: bool):
        self._previous = _mode.anomaly
        _set_anomaly_mode(bool(mode))

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        _set_anomaly_mode(self._previous)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in this thread."""
    return _mode.anomaly


# ---------------------------------------------------------------------------------------------
# In-place changes

# id(root array) -> [weak reference to it, number of its latest in-place change]. An entry
# leaves the table when its array dies (the weak reference's callback), so the table holds
# only live arrays and each change costs one lookup, however many arrays live.
_changes: dict[int, list] = {}
# Reentrant: an array can die while the lock is held (the garbage collector runs at any
# allocation), and its weakref callback then takes the lock again in the same thread.
_changes_lock = threading.RLock()


def _root(array: np.ndarray) -> np.ndarray:
    """The array that owns ``array``'s memory (views and aliases share it)."""
    if type(array) is not np.ndarray and not isinstance(array, np.ndarray):
        return array  # CuPy, array_api_strict: no NumPy views to follow
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _forget(key: int, entry: list) -> None:
    with _changes_lock:
        if _changes.get(key) is entry:  # not an entry made since for a new array at this id
            del _changes[key]


def note_inplace_change(*arrays: np.ndarray) -> None:
    """Record that the memory of each array is being changed in place (call before the change).

    One clock tick for them all: an optimiser notes every parameter of a step in one call.
    """
    with _changes_lock:
        seq = next(_sequence)
        _Clock.latest = seq  # under the lock: the clock never moves back
        for array in arrays:
            root = _root(array)
            key = id(root)
            entry = _changes.get(key)
            if entry is not None and entry[0]() is root:
                entry[1] = seq  # an optimiser step changes the same arrays every time
                continue
            entry = [None, seq]
            entry[0] = weakref.ref(root, lambda _, key=key, entry=entry: _forget(key, entry))
            _changes[key] = entry


def _changed_after(array: np.ndarray, seq: int) -> bool:
    root = _root(array)
    entry = _changes.get(id(root))
    return entry is not None and entry[1] > seq and entry[0]() is root


def begin_inplace(tensor: Tensor, what: str, operands: Sequence[Any], op: Op | None) -> Any:
    """Check an in-place change of ``tensor`` and note it; called before the change.

    Returns ``None`` when the change is not recorded, else the tensor that will stand for
    ``tensor``'s version before the change (pass it to :func:`finish_inplace`). As in PyTorch,
    the change is recorded when grad mode is on and ``tensor`` or an operand requires grad;
    a leaf that requires grad refuses (its ``.grad`` would no longer match its values).
    ``op`` is the op to record (see :mod:`tinygrad_dl.ops.inplace`).
    """
    previous = None
    old = tensor.data
    if not isinstance(old, np.ndarray) and not _backend.foreign(old):
        # A NumPy scalar (0-d results of NumPy arithmetic) cannot change: give the tensor
        # an array of its own; nothing else shares it, and the old scalar stays as it was.
        tensor.data = np.array(old)
    if _mode.enabled:
        if tensor.requires_grad and tensor._op is None:
            raise RuntimeError(
                f"{what}: in-place change of a tensor that requires grad (a leaf, shape "
                f"{tensor.shape}); do it under tg.no_grad() (as optimisers do), or write "
                f"x = x + ... to record it"
            )
        operand_needs_grad = any(getattr(operand, "requires_grad", False) for operand in operands)
        if tensor.requires_grad or operand_needs_grad:
            if isinstance(old, np.ndarray) and old.base is not None:
                # PyTorch rebases every view of the changed memory; this engine records the
                # change in this tensor only, so the tensors sharing the memory would hold new
                # values with a graph that misses the change: refuse rather than be wrong.
                raise RuntimeError(
                    f"{what}: in-place change of a view (shape {tensor.shape}) of another "
                    f"array in the graph cannot be recorded here (PyTorch tracks views, this "
                    f"engine does not); write y = y + ... instead, or change a copy"
                )
            previous = _object_new(type(tensor))
            for name in ("requires_grad", "_op", "_inputs", "_second", "_extra", "_seq"):
                setattr(previous, name, getattr(tensor, name))
            previous.grad = None
            previous._info = tensor._info
            # The recorded op reads the old values only for an operand's gradient (x *= y:
            # dy = dX * x_old): keep a copy then. Otherwise the previous version shares the
            # memory, and an op recorded earlier that reads it raises at backward (PyTorch's
            # saved-tensor check).
            reads = op is not None and op.reads_inputs and operand_needs_grad
            if reads:
                old = _backend.copy(old)
            previous.data = old
    # Always noted, also for a fresh array: the clock moving past every op recorded so far is
    # what sends them through backward's checks, where they find their inputs' old versions.
    note_inplace_change(tensor.data)
    return previous


def finish_inplace(tensor: Tensor, previous: Tensor, op: Op, other: Any, extra: Any) -> None:
    """Record the in-place ``op`` in ``tensor``: its inputs are ``previous`` (and ``other``).

    ``tensor`` stays the same object; ops recorded before the change keep using
    ``previous`` through :func:`_version_at` (PyTorch's version counter and rebased
    ``grad_fn``).
    """
    old_info = previous._info
    info = _NodeInfo()
    info.previous = previous
    if old_info is not None:
        info.retained, old_info.retained = old_info.retained, False
        old_info.view = None
    if _mode.anomaly:
        info.trace = _creation_site()
    tensor.requires_grad = True
    tensor._op = op
    tensor._inputs = previous
    tensor._second = other
    tensor._extra = extra
    tensor._seq = next(_sequence)
    tensor._info = info


# ---------------------------------------------------------------------------------------------
# Backward


def _check_saved_unchanged(tensor: Tensor, inputs: tuple | None) -> None:
    """Raise if backward cannot run ``tensor``'s op: graph freed, or a read array changed."""
    op = tensor._op
    if inputs is None:
        raise RuntimeError(
            f"backward: trying to backward through the graph a second time at op "
            f"'{op.name}': its saved arrays were freed after the first backward. Pass "
            f"retain_graph=True to the first backward() (or tg.grad) to keep them."
        )
    if _Clock.latest > tensor._seq:
        if op.saves_out and _changed_after(tensor.data, tensor._seq):
            raise RuntimeError(
                f"backward: the output of op '{op.name}' (shape {tensor.shape}) was "
                f"modified by an in-place operation after it was saved for backward"
            )
        if op.reads_inputs:
            for index, input_tensor in enumerate(inputs):
                if _changed_after(input_tensor.data, tensor._seq):
                    raise RuntimeError(
                        f"backward: input {index} of op '{op.name}' (shape "
                        f"{input_tensor.shape}) was modified by an in-place operation after it "
                        f"was saved for backward (also through a view or detached alias of "
                        f"it); do the change after backward, or compute with a copy"
                    )


def _check_finite(tensor: Tensor, index: int, gradient: Any) -> None:
    values = gradient.data if hasattr(gradient, "requires_grad") else gradient
    xp = _backend.namespace(values)
    if not bool(xp.all(xp.isfinite(values))):
        trace = tensor._info.trace if tensor._info is not None else None
        where = trace or "<unknown: anomaly mode was off when the op was recorded>"
        raise RuntimeError(
            f"anomaly: op '{tensor._op.name}' produced a non-finite (NaN or inf) gradient for "
            f"its input {index} (shape {np.shape(values)}); the op was created at {where}"
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
    Grad mode is ``create_graph`` while it runs, in this thread only.
    """
    with _ModeSwitch(create_graph):
        return _run_backward(roots, root_grads, retain_graph, create_graph, capture)


_ONE_NEED = (True,)
_FIRST_NEED = (True, False)
_SECOND_NEED = (False, True)


def _run_backward(roots, root_grads, retain_graph, create_graph, capture):
    pending: dict[Tensor, Any] = {}  # recorded tensor -> its gradient, summed over consumers
    heap: list[tuple[int, Tensor]] = []  # (-seq, tensor): newest first
    handed_out: set[int] = set()  # memory (root arrays) already stored as some leaf's .grad
    captured = {} if capture is None else {id(t): i for i, t in enumerate(capture)}
    results: list[Any] = [None] * len(captured)

    def send(tensor: Tensor, gradient: Any) -> None:
        if tensor._op is not None:
            previous = pending.get(tensor)
            if previous is None:
                pending[tensor] = gradient
                heappush(heap, (-tensor._seq, tensor))
            else:
                pending[tensor] = previous + gradient
        elif capture is None:
            _accumulate_leaf(tensor, gradient, create_graph, handed_out)
        elif id(tensor) in captured:
            position = captured[id(tensor)]
            previous = results[position]
            results[position] = gradient if previous is None else previous + gradient

    for tensor, gradient in zip(roots, root_grads):
        if not create_graph and type(gradient) is Tensor:
            # A plain backward works on arrays; copy so no leaf's .grad aliases the seed.
            gradient = _backend.copy(gradient.data)
        send(tensor, gradient)

    anomaly = _mode.anomaly
    plain = capture is None and not anomaly and not create_graph  # chains may skip the heap
    while heap:
        tensor = heappop(heap)[1]
        gradient = pending.pop(tensor)
        if plain and not heap:
            tensor, gradient = _run_chain(tensor, gradient, retain_graph)
            if tensor._op is None:
                send(tensor, gradient)
                continue
        op = tensor._op
        inputs = _inputs_of(tensor)
        if inputs is None or tensor._info is not None or _Clock.latest > tensor._seq:
            # Rare cases, kept off the common path: freed graph, changed inputs, retained or
            # captured tensors, inputs changed in place since (their earlier versions).
            if inputs is not None:
                inputs = tuple(_version_at(t, tensor._seq) for t in inputs)
            _check_saved_unchanged(tensor, inputs)
            if tensor._info is not None and tensor._info.retained and capture is None:
                _accumulate_leaf(tensor, gradient, create_graph, handed_out)
        if capture is not None and id(tensor) in captured:
            results[captured[id(tensor)]] = gradient
        needs = tuple(t.requires_grad for t in inputs)
        if create_graph:
            out = apply(op, inputs, tensor._extra) if op.saves_out else None
            if type(gradient) is not Tensor:
                gradient = Tensor(gradient)
            input_grads = op.vjp(gradient, out, inputs, tensor._extra, needs)
        else:
            out = tensor.data if op.saves_out else None
            arrays = tuple(t.data for t in inputs)
            input_grads = op.vjp(gradient, out, arrays, tensor._extra, needs)
        if not retain_graph:
            # Release what only backward needed, so memory returns as soon as it is used.
            tensor._inputs = tensor._second = tensor._extra = None
        for index, input_tensor in enumerate(inputs):
            input_grad = input_grads[index]
            if input_grad is None or not needs[index]:
                continue
            if anomaly:
                _check_finite(tensor, index, input_grad)
            dtype = input_tensor.data.dtype
            if input_grad.dtype is not dtype and input_grad.dtype != dtype:
                input_grad = input_grad.astype(dtype)
            send(input_tensor, input_grad)
    return results if capture is not None else None


def _run_chain(tensor: Tensor, gradient: np.ndarray, retain_graph: bool) -> tuple:
    """Run a chain of ops that each hand the gradient to exactly one input, back to back.

    Used while nothing else waits, in a plain backward (arrays, no capture, no anomaly mode):
    the W4 chain and an MLP's activations pass here without heap or dict traffic. Returns the
    first tensor it does not run (a leaf, or an op with several inputs needing gradients or
    needing the checks of the main loop) with the gradient of it.
    """
    # Only the engine's own vjps run here (a tg.Function's node keeps a tuple of inputs and a
    # hooked tensor has _info: both leave the chain), so nothing changes an array in place.
    latest = _Clock.latest
    while True:
        op = tensor._op
        first = tensor._inputs
        if (
            op is None
            or first is None
            or type(first) is tuple
            or tensor._info is not None
            or latest > tensor._seq
        ):
            return tensor, gradient
        second = tensor._second
        if second is None:
            extra = tensor._extra
            if not retain_graph:
                tensor._inputs = tensor._extra = None
            if op.vjp_of_dy is not None:  # dX from dY alone, in dY's dtype: nothing to cast
                tensor, gradient = first, op.vjp_of_dy(gradient, extra)
                continue
            out = tensor.data if op.saves_out else None
            target = first
            input_grad = op.vjp(gradient, out, (first.data,), extra, _ONE_NEED)[0]
        else:
            if first.requires_grad == second.requires_grad:
                return tensor, gradient
            out = tensor.data if op.saves_out else None
            arrays = (first.data, second.data)
            if first.requires_grad:
                target = first
                input_grad = op.vjp(gradient, out, arrays, tensor._extra, _FIRST_NEED)[0]
            else:
                target = second
                input_grad = op.vjp(gradient, out, arrays, tensor._extra, _SECOND_NEED)[1]
            if not retain_graph:
                tensor._inputs = tensor._second = tensor._extra = None
        dtype = target.data.dtype
        if input_grad.dtype is not dtype and input_grad.dtype != dtype:
            input_grad = input_grad.astype(dtype)
        tensor, gradient = target, input_grad


def _accumulate_leaf(tensor: Tensor, gradient: Any, create_graph: bool, handed_out: set) -> None:
    """``tensor.grad += gradient`` (PyTorch's accumulation), copying only when needed.

    A gradient array is kept as ``.grad`` without a copy when backward owns its memory
    alone: vjps return arrays they computed or views of the gradient they received (see
    :class:`Op`), and backward never changes an array in place, so the only sharing left is
    between leaves (``a + b`` hands one array to both, ``a.T + b.T`` two views of it). The
    memory of every array kept is remembered in ``handed_out``; a later gradient on the same
    memory is copied, as is a read-only (broadcast) view or one of the wrong shape.
    """
    if create_graph:
        if type(gradient) is not Tensor:
            gradient = Tensor(gradient)
        tensor.grad = gradient if tensor.grad is None else tensor.grad + gradient
        return
    if type(gradient) is Tensor:
        gradient = gradient.data
    if tensor.grad is None and type(gradient) is not np.ndarray and _backend.foreign(gradient):
        # Another array library (CuPy, array_api_strict): no view bookkeeping to lean on, so
        # copy whatever another leaf holds or whatever must be broadcast.
        if id(gradient) in handed_out or gradient.shape != tensor.data.shape:
            xp = _backend.namespace(gradient)
            gradient = xp.asarray(xp.broadcast_to(gradient, tensor.data.shape), copy=True)
        handed_out.add(id(gradient))
        tensor.grad = _new_tensor(gradient)
    elif tensor.grad is None:
        memory = id(_root(gradient))
        if (
            memory in handed_out
            or not gradient.flags.writeable
            or gradient.shape != tensor.data.shape
        ):
            gradient = np.array(np.broadcast_to(gradient, tensor.data.shape), copy=True)
            memory = id(gradient)
        handed_out.add(memory)
        tensor.grad = _new_tensor(gradient)
    else:
        tensor.grad = _new_tensor(tensor.grad.data + gradient)


def _seed(output: Tensor, gradient: Any, what: str) -> Any:
    """The gradient that starts backward at ``output``: 1 for a scalar, else ``gradient``."""

    if gradient is None:
        if output.data.size != 1:
            raise RuntimeError(
                f"{what}: grad can be implicitly created only for scalar outputs; the output has "
                f"shape {output.shape}. Pass gradient= (an array of shape {output.shape})."
            )
        if type(output.data) is np.ndarray or not _backend.foreign(output.data):
            return np.array(1, dtype=output.data.dtype).reshape(output.data.shape)
        xp = _backend.namespace(output.data)
        return xp.ones_like(output.data)
    data = gradient.data if isinstance(gradient, Tensor) else gradient
    # A seed given on the host moves to the device of the output.
    if type(output.data) is not np.ndarray and _backend.foreign(output.data):
        data = _backend.to_device(data, _backend.device_of(output.data))
        xp = _backend.namespace(data)
        if data.shape != output.shape:
            raise RuntimeError(
                f"{what}: gradient has shape {data.shape} but the output has shape {output.shape}"
            )
        if isinstance(gradient, Tensor) and gradient.requires_grad:
            return gradient
        return xp.asarray(xp.astype(data, output.data.dtype), copy=True)
    data = np.asarray(data)
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
    allow_unused: bool | None = None,
    materialize_grads: bool = False,
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
    allow_unused : bool, optional
        Return ``None`` for an input the outputs do not depend on instead of raising.
        Defaults to ``materialize_grads``.
    materialize_grads : bool
        Return zeros (shaped like the input) instead of ``None`` for an unused input; implies
        ``allow_unused`` (as in PyTorch).

    Returns
    -------
    tuple of Tensor
        One gradient per input, shaped like it (``None`` for an unused input with
        ``allow_unused=True``).

    Raises
    ------
    RuntimeError
        For an input that does not require grad, or one the outputs do not depend on (unless
        ``allow_unused`` or ``materialize_grads``); ``ValueError`` for
        ``allow_unused=False`` with ``materialize_grads=True``.
    """

    if allow_unused is None:
        allow_unused = materialize_grads
    elif materialize_grads and not allow_unused:
        raise ValueError(
            "grad: materialize_grads=True gives zeros for unused inputs, which contradicts "
            "allow_unused=False; leave allow_unused unset"
        )
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
    for position, (output, seed) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(output, Tensor):
            raise TypeError(f"grad: output {position} is a {type(output).__name__}, not a Tensor")
        seed = _seed(output, seed, "grad")
        if output.requires_grad:  # one without a graph depends on no input: it adds nothing
            roots.append(output)
            seeds.append(seed)
    if retain_graph is None:
        retain_graph = create_graph
    results = backward(roots, seeds, retain_graph, create_graph, capture=inputs)
    final = []
    for position, (tensor, result) in enumerate(zip(inputs, results)):
        if result is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {position} (shape {tensor.shape}) was not used: the outputs "
                    f"do not depend on it{_no_graph_note(outputs)}. Pass allow_unused=True to "
                    f"get None for it, or materialize_grads=True to get zeros"
                )
            final.append(Tensor(np.zeros_like(tensor.data)) if materialize_grads else None)
        elif isinstance(result, Tensor):
            final.append(result)
        else:
            data = np.broadcast_to(result, tensor.shape)
            final.append(Tensor(np.array(data, copy=True) if data is not result else data))
    return tuple(final)


def _no_graph_note(outputs: list) -> str:
    """Why an output may depend on nothing, for :func:`grad`'s unused-input message."""
    plain = [i for i, output in enumerate(outputs) if not output.requires_grad]
    if not plain:
        return ""
    which = "the output has" if len(outputs) == 1 else f"outputs {plain} have"
    return (
        f" ({which} no graph at all: computed from tensors without requires_grad, or under no_grad)"
    )


def value_and_grad(fun: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """Functional form: ``value_and_grad(f)(*args) -> (value, gradient)``.

    Arguments at ``argnums`` are taken as fresh float tensors that require grad; ``f`` must
    return a scalar Tensor. The gradient is a Tensor, or a tuple of them when ``argnums`` is a
    sequence.
    """

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


def inference_mode(mode: bool | Callable = True) -> Any:
    """PyTorch's ``inference_mode``: here :func:`no_grad` (context manager or decorator).

    ``inference_mode(False)`` leaves grad mode as it is, as in PyTorch.
    """
    if callable(mode):
        return no_grad(mode)
    return no_grad() if mode else _ModeSwitch(_mode.enabled)

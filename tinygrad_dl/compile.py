"""``tg.compile``: trace a training step once, then replay it as a flat list of NumPy calls.

The first call of a compiled function runs it eagerly while recording every array operation it
performs: the forward pass (``Z^[l] = W^[l] A^[l-1] + b^[l]``), the backward pass
(``dZ^[l]``, ``dW^[l] = (1/m) dZ^[l] A^[l-1]^T``, ...) and any in-place change of a parameter.
Later calls replay the recording: one generated Python function of NumPy calls that write into
the arrays the traced call allocated (``out=``), with no Tensor, node or dispatch in between.
The results are bitwise those of the eager call, because the same NumPy calls run on the same
values in the same order.

How the recording works. During the traced call the arguments' and the parameters' arrays are
swapped for views of a private ndarray subclass whose ``__array_ufunc__`` and
``__array_function__`` (and the view and copy methods) report to the tracer, so every NumPy
call the engine makes on them, whatever module makes it, is seen without hooks in the engine.
A value produced by such a call is a *buffer*: the traced call's own result array, rewritten in
place on every replay. Arrays no traced value flowed into (constants, optimiser state) are
bound by identity.

Some things are not array operations, and are handled apart:

- ``optimizer.step()`` and ``optimizer.zero_grad()`` are *host calls*: replay calls them, so
  Python numbers they read (``param_groups[i]["lr"]`` set by a schedule, Adam's step count) are
  read at replay, never frozen. Their updates are already allocation-free NumPy.
- Random draws through the project's ``rng=`` generators (``Dropout``) are replayed as draws
  from the same generator, so compiled and eager runs with one seed agree.
- A Python decision on a Tensor's value (``.item()``, ``float(t)``, ``bool(t)``, ``.numpy()``,
  ``if t > 0:``) in the user's code cannot be replayed and raises :class:`CompileError` naming
  the line. The same decision inside tinygrad_dl (an input check) is kept as a guard that replay
  re-checks, so a batch that would take the other branch raises instead of computing something
  else.

Guards checked on every call (cheap tuple comparisons): the arguments' kinds, shapes, dtypes and
``requires_grad``, grad mode, every discovered module's ``training`` flag, the identity and shape
of every parameter's array and whether it has a ``.grad``. A failed guard traces again (up to
``cache_size`` traces per function, like ``jax.jit``) and says why with ``explain=True`` (and on
the ``tinygrad_dl.compile`` logger).

Limits, stated rather than hidden: Python side effects in the function (printing, appending to
a list, ``scheduler.step()``) happen on tracing calls only; indexing a plain array with a traced
index array, or NumPy functions that neither dispatch nor appear in this module, are not seen.
Gradients of arguments are handed out fresh each call, not accumulated.

Threads. The tracer belongs to the thread that traces: while it traces, the NumPy functions and
methods it wraps pass other threads' calls straight through, so eager code (and other traces)
may run in other threads meanwhile. A trace swaps the arrays of the tensors it reaches for
traced views, so tracing a tensor another thread is tracing at that moment is refused; calls of
one compiled function from several threads take turns, since its replays share buffers.
"""

from __future__ import annotations

import builtins
import functools
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import autograd
from . import backend as _backend
from .tensor import Tensor, _new_tensor

__all__ = ["CompileError", "compile"]

_LOG = logging.getLogger("tinygrad_dl.compile")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class CompileError(RuntimeError):
    """A compiled function did something that cannot be recorded and replayed."""


_HERE = os.path.abspath(__file__)
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__))
_ARRAYPRINT = os.path.join(_NUMPY_DIR, "_core", "arrayprint.py")


def _user_site() -> str:
    """``file:line`` of the innermost caller outside tinygrad_dl and NumPy (the user's line)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith((_PACKAGE_DIR, _NUMPY_DIR)):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"


def _caller_kind() -> str:
    """Who reads a traced value: ``"print"`` (NumPy's printing), ``"package"`` or ``"user"``."""
    frame = sys._getframe(2)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename == _ARRAYPRINT:
            return "print"
        if filename != _HERE and not filename.startswith(_NUMPY_DIR):
            return "package" if filename.startswith(_PACKAGE_DIR) else "user"
        frame = frame.f_back
    return "user"


def _package_site() -> str:
    """``file:line`` of the innermost tinygrad_dl caller outside this module."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename != _HERE and filename.startswith(_PACKAGE_DIR):
            return f"{os.path.relpath(filename, os.path.dirname(_PACKAGE_DIR))}:{frame.f_lineno}"
        frame = frame.f_back
    return _user_site()


def _refuse(what: str) -> CompileError:
    return CompileError(
        f"tg.compile: {what} at {_user_site()} reads a Tensor's value inside a compiled "
        f"function; a compiled function is replayed without running its Python code, so that "
        f"value would be frozen at the first call. Move it out of the compiled function (return "
        f"the tensor and read it after the call), or use tg.where for a choice by value."
    )


# ---------------------------------------------------------------------------------------------
# The traced array: an ndarray view whose every operation reports to the active tracer.


class _ThreadState(threading.local):
    """The tracer of this thread's traced call, if any.

    Per thread: while one thread traces, the NumPy functions and methods below stay patched for
    the whole process, and another thread running eager code meanwhile must pass straight
    through them (nothing of its work recorded, nothing refused).
    """

    tracer: _Tracer | None = None


_state = _ThreadState()


_view = np.ndarray.view  # the base class's: _Traced records its own ``view``
_BASE = np.ndarray.base.__get__  # likewise: _Traced answers ``base`` for what it stands for


def _plain(array: np.ndarray) -> np.ndarray:
    return _view(array, np.ndarray)


def _unwrap_any(value: Any) -> Any:
    if isinstance(value, _Traced):
        return _plain(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_unwrap_any(v) for v in value)
    return value


def _untraced(function: Callable, args: tuple, kwargs: dict) -> Any:
    """A traced array used outside a trace (kept by user code): plain NumPy."""
    return function(*_unwrap_any(args), **{k: _unwrap_any(v) for k, v in kwargs.items()})


class _Traced(np.ndarray):
    """An ndarray view that records the operations done on it while a trace is active."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        tracer = _state.tracer
        if tracer is None:
            return _untraced(getattr(ufunc, method), inputs, kwargs)
        return tracer.ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        tracer = _state.tracer
        if tracer is None:
            return _untraced(func, args, kwargs)
        return tracer.call(func, args, kwargs)

    @property
    def base(self):
        # What the handle stands for answers: a buffer is not a view, though its handle is one
        # (the engine refuses in-place changes of views, and must not refuse them in a trace).
        tracer = _state.tracer
        entry = None if tracer is None else tracer.handles.get(id(self))
        return _BASE(self) if entry is None else entry[0].base

    @property
    def T(self):  # noqa: N802 - NumPy's name
        return self.transpose()

    @property
    def mT(self):  # noqa: N802 - NumPy's name
        return self.swapaxes(-1, -2)

    def _read(self, what: str, convert: Callable) -> Any:
        tracer = _state.tracer
        if tracer is None:
            return convert(_plain(self))
        return tracer.read(self, what, convert)

    def __bool__(self) -> bool:
        return self._read("bool()", bool)

    def __float__(self) -> float:
        return self._read("float()", float)

    def __int__(self) -> int:
        return self._read("int()", int)

    def __index__(self) -> int:
        return self._read("a value used as an index", lambda a: a.__index__())

    def item(self, *args: Any) -> Any:
        return self._read(".item()", lambda a: a.item(*args))

    def tolist(self) -> Any:
        return self._read(".tolist()", lambda a: a.tolist())


def _method_call(name: str) -> Callable:
    def call(array, *args, **kwargs):
        return getattr(array, name)(*args, **kwargs)

    call.__name__ = f"ndarray.{name}"
    return call


def _traced_method(name: str, call: Callable) -> Callable:
    def method(self, *args, **kwargs):
        tracer = _state.tracer
        if tracer is None:
            return getattr(_plain(self), name)(*_unwrap_any(args), **kwargs)
        return tracer.call(call, (self, *args), kwargs)

    method.__name__ = name
    return method


# ndarray methods that make arrays without passing through a ufunc or a dispatching function.
# A method not listed here gives an array the tracer never registered; using it is refused.
_METHOD_CALLS = {
    name: _method_call(name)
    for name in (
        "reshape", "transpose", "swapaxes", "squeeze", "ravel", "flatten", "astype", "copy",
        "dot", "argmax", "argmin", "__getitem__", "__setitem__", "fill", "cumsum", "repeat",
        "take", "nonzero", "round", "view", "__copy__", "__deepcopy__",
    )
}  # fmt: skip
for _name, _call in _METHOD_CALLS.items():
    setattr(_Traced, _name, _traced_method(_name, _call))
_WRITES = (_METHOD_CALLS["__setitem__"], _METHOD_CALLS["fill"], np.copyto)
_COPIES = (_METHOD_CALLS["copy"], _METHOD_CALLS["astype"], np.copy, np.array, np.asarray,
           np.ascontiguousarray)  # fmt: skip
# Functions that make a fresh array, and what replay refills it with when it is written into.
_CREATIONS: dict[Callable, Any] = {
    np.zeros: 0, np.zeros_like: 0, np.ones: 1, np.ones_like: 1, np.empty: None,
    np.empty_like: None, np.full: "fill_value", np.full_like: "fill_value", np.eye: "copy",
    np.identity: "copy",
}  # fmt: skip


def _root(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def _flatten(value: Any):
    if isinstance(value, (tuple, list)):
        for item in value:
            yield from _flatten(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    else:
        yield value


def _outside(function: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run a recorded call on plain arrays with the tracer off: NumPy's own Python code (np.pad,
    a generator's draw) makes its arrays with ``np.empty``, which must not be traced as ours."""
    tracer, _state.tracer = _state.tracer, None
    try:
        return function(*args, **kwargs)
    finally:
        _state.tracer = tracer


class _Defer(Exception):
    """Another operand (a Tensor) handles this NumPy call: return NotImplemented."""


def _guard_failed(site: str) -> None:
    raise CompileError(
        f"tg.compile: {site} read a value of this call's tensors that differs from the traced "
        f"call's (an input check, or a choice between two ways to compute), so the recorded "
        f"operations do not apply; run this step eagerly (without tg.compile), or keep such "
        f"values the same from call to call"
    )


# Keyword arguments NumPy's methods pass on with their default values: replay leaves them out.
_DEFAULTS = (("where", True), ("dtype", None), ("keepdims", False), ("initial", np._NoValue))
_MISS = object()  # what a replay returns when the call does not match its trace's guards
_LAYOUT_GAIN = 0.85  # a transposed matmul result is kept when it takes under 0.85x the time
_LAYOUT_RUNS = 3  # timed runs of each layout (the best counts: the machine may be busy)


def _fresh(array: np.ndarray) -> Tensor:
    """A returned value: a copy, so the next replay does not overwrite what the caller holds."""
    return _new_tensor(np.array(array, copy=True))


# ---------------------------------------------------------------------------------------------
# The tracer: runs with the function, writing the replay function's body line by line.


class _Tracer:
    def __init__(self, params: list[Tensor]) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = {"np": np, "_guard_failed": _guard_failed, "_fresh": _fresh,
                                      "_new_tensor": _new_tensor, "_MISS": _MISS,
                                      "_mode": autograd._mode}  # fmt: skip
        self.handles: dict[int, tuple[np.ndarray, str | None]] = {}  # id(handle) -> plain, local
        self.locals: dict[int, str] = {}  # id(plain) -> its name in replay, when made per call
        self.keep: list[Any] = []  # everything whose id is a key above stays alive
        self.live_roots: set[int] = set()
        self.buffers: set[int] = set()
        self.params = params
        self.grad_state: list[Any] = [p.grad for p in params]
        self.grad_tensors: list[Tensor] = []
        self.host_calls = 0
        self.cleared_first: set[int] = set()  # params whose .grad a first zero_grad() cleared
        # For forwarding copies (see forward_copies): who wrote each buffer, who read it.
        self.writer: dict[int, tuple[int, str]] = {}  # id(buffer) -> (line, its name there)
        self.reads: dict[int, list[int]] = {}  # id(array) -> lines that read it
        self.copies: list[tuple[int, np.ndarray, np.ndarray]] = []  # (line, copy, source)
        # Elementwise calls that made a buffer: (line, buffer, its name, input arrays).
        self.elementwise: list[tuple[int, np.ndarray, str, list[np.ndarray]]] = []
        # For choose_layouts: lines of elementwise ufunc calls (their bits do not depend on the
        # layout of their operands), and matmuls that made a 2-D buffer (line, buffer, inputs).
        self.layout_blind: set[int] = set()
        self.matmuls: list[tuple[int, np.ndarray, list[np.ndarray]]] = []
        # Arrays made during the trace by np.zeros & co.: replay refills one (at the line where
        # it was made) only when something writes into it, else it is a constant.
        self.fresh: dict[int, tuple[int, str]] = {}  # id(buffer) -> (line, refill statement)
        self.tracked: set[int] = set()  # roots of every array the tracer knows how to rebuild
        self.written: set[int] = set()  # roots written in place so far
        self.state: set[int] = set()  # roots of arrays that outlive a call (parameters, buffers)

    # -- names -----------------------------------------------------------------------------
    def constant(self, value: Any) -> str:
        name = f"c{len(self.names)}"
        self.names[name] = value
        return name

    def handle(self, plain: np.ndarray, local: str | None) -> _Traced:
        """A traced view of ``plain``; ``local`` names it in replay when it is made per call."""
        traced = _view(plain, _Traced)
        self.handles[id(traced)] = (plain, local)
        self.tracked.add(id(_root(plain)))
        if local is not None:
            self.locals[id(plain)] = local
        self.keep += [traced, plain]
        return traced

    def live_input(self, plain: np.ndarray, local: str) -> _Traced:
        self.live_roots.add(id(_root(plain)))
        return self.handle(plain, local)

    def plain_of(self, traced: _Traced) -> np.ndarray:
        entry = self.handles.get(id(traced))
        return _plain(traced) if entry is None else entry[0]

    # -- arguments of a recorded call ------------------------------------------------------
    def expression(self, value: Any) -> tuple[str, Any]:
        """Replay's expression for an argument, and the argument's plain value now."""
        if isinstance(value, _Traced):
            entry = self.handles.get(id(value))
            if entry is None:
                raise CompileError(
                    f"tg.compile: an array used at {_user_site()} (shape {value.shape}) was made "
                    f"by an ndarray operation the tracer does not record; write it with NumPy "
                    f"functions or Tensor operations, or keep it out of the compiled function"
                )
            plain, local = entry
            self.reads.setdefault(id(_root(plain)), []).append(len(self.lines))
            return (local if local is not None else self.constant(plain)), plain
        if isinstance(value, np.ndarray):
            local = self.locals.get(id(value))
            if local is not None:
                return local, value
            self.reads.setdefault(id(_root(value)), []).append(len(self.lines))
            if id(_root(value)) in self.live_roots:
                raise CompileError(
                    f"tg.compile: a plain view of an argument reached a NumPy call at "
                    f"{_user_site()}; use NumPy functions or Tensor operations on it"
                )
            return self.constant(value), value
        if isinstance(value, (tuple, list)):
            pairs = [self.expression(v) for v in value]
            plains = type(value)(p for _, p in pairs)
            if isinstance(value, tuple):
                return "(" + "".join(text + ", " for text, _ in pairs) + ")", plains
            return "[" + ", ".join(text for text, _ in pairs) + "]", plains
        if hasattr(value, "__array_function__") and not isinstance(value, np.generic):
            raise _Defer  # a Tensor: its own __array_ufunc__ takes the call
        return self.constant(value), value

    def arguments(self, args: tuple, kwargs: dict) -> tuple[str, tuple, dict]:
        pairs = [self.expression(a) for a in args]
        texts = [text for text, _ in pairs]
        plain_kwargs = {}
        for key, value in kwargs.items():
            if key == "out":
                continue
            text, plain_kwargs[key] = self.expression(value)
            if not any(key == k and value is v for k, v in _DEFAULTS):
                texts.append(f"{key}={text}")
        return ", ".join(texts), tuple(p for _, p in pairs), plain_kwargs

    # -- recorded calls --------------------------------------------------------------------
    def ufunc(self, ufunc: np.ufunc, method: str, inputs: tuple, kwargs: dict) -> Any:
        try:
            text, plains, plain_kwargs = self.arguments(inputs, kwargs)
        except _Defer:
            return NotImplemented
        function = getattr(ufunc, method)
        name = self.constant(ufunc if method == "__call__" else function)  # a direct call: faster
        out = kwargs.get("out")
        if method == "at":
            self.wrote(plains[0])
            _outside(function, *plains, **plain_kwargs)
            self.lines.append(f"{name}({text})")
            return None
        if method == "__call__" and ufunc.signature is None:  # layout-blind: see choose_layouts
            self.layout_blind.add(len(self.lines))
        if out is not None:  # in place: replay writes into the same (or the same view of) memory
            outs = out if isinstance(out, tuple) else (out,)
            out_text, out_plains = self.expression(tuple(outs))
            for plain in out_plains:
                self.wrote(plain)
            _outside(function, *plains, out=out_plains, **plain_kwargs)
            self.lines.append(f"{name}({text}, out={out_text})")
            return outs[0] if len(outs) == 1 else outs
        result = _outside(function, *plains, **plain_kwargs)
        results = result if isinstance(result, tuple) else (result,)
        buffers = [self.new_buffer(np.asarray(r)) for r in results]
        names = [self.constant(b) for b in buffers]
        if len(buffers) == 1:
            self.writer[id(buffers[0])] = (len(self.lines), names[0])
            if method == "__call__":
                sources = [p for p in plains if isinstance(p, np.ndarray)]
                self.elementwise.append((len(self.lines), buffers[0], names[0], sources))
                if ufunc is np.matmul and buffers[0].ndim == 2 and buffers[0].dtype.kind == "f":
                    self.matmuls.append((len(self.lines), buffers[0], sources))
        self.lines.append(f"{name}({text}, out=({''.join(n + ', ' for n in names)}))")
        handles = tuple(self.handle(b, None) for b in buffers)
        return handles if isinstance(result, tuple) else handles[0]

    def wrote(self, plain: Any) -> None:
        """Note an in-place write into ``plain``; refuse one into an array replay cannot rebuild.

        Such an array was made by a call the tracer did not see: replay would write into the
        traced call's copy again without resetting it first (``np.add.at`` would accumulate
        onto the previous call's values).
        """
        if not isinstance(plain, np.ndarray):
            return
        root = id(_root(plain))
        if root not in self.tracked and root not in self.buffers:
            raise CompileError(
                f"tg.compile: an in-place write at {_user_site()} goes into an array (shape "
                f"{plain.shape}) that is neither made by a call the tracer records nor held by "
                f"a tensor the function reaches (through its closure, globals or self), so a "
                f"replay could write onto the previous call's values; make it with np.zeros or "
                f"a Tensor operation, or keep state in tensors the function reaches"
            )
        self.written.add(root)

    def created(self, array: np.ndarray, function: Callable, args: tuple, kwargs: dict) -> Any:
        """An array made by ``np.zeros`` & co. during the trace: a buffer replay refills."""
        buffer = self.new_buffer(array)
        name = self.constant(buffer)
        fill = _CREATIONS[function]
        if fill == "fill_value":
            value = args[1] if len(args) > 1 else kwargs["fill_value"]
            fill = value if np.ndim(value) == 0 else "copy"
        if fill == "copy":
            refill = f"np.copyto({name}, {self.constant(array.copy())})"
        else:  # np.empty's values are undefined: nothing to restore
            refill = "pass" if fill is None else f"{name}.fill({self.constant(fill)})"
        self.fresh[id(buffer)] = (len(self.lines), refill)
        self.lines.append("pass")
        return self.handle(buffer, None)

    def refill_written(self) -> None:
        """Refill, at the line that made it, every fresh array something wrote into."""
        for key, (line, refill) in self.fresh.items():
            if key in self.written:
                self.lines[line] = refill

    def new_buffer(self, array: np.ndarray) -> np.ndarray:
        if not array.flags.writeable or id(array) in self.buffers:
            array = array.copy()
        self.buffers.add(id(array))
        self.keep.append(array)
        return array

    def call(self, function: Callable, args: tuple, kwargs: dict) -> Any:
        """A NumPy function or ndarray method on traced arrays: a view, a write or a new array."""
        try:
            text, plains, plain_kwargs = self.arguments(args, kwargs)
        except _Defer:
            return NotImplemented
        name = self.constant(function)
        if kwargs.get("out") is not None:
            out_text, out_plain = self.expression(kwargs["out"])
            for plain in _flatten(out_plain):
                self.wrote(plain)
            _outside(function, *plains, out=out_plain, **plain_kwargs)
            self.lines.append(f"{name}({text}, out={out_text})")
            return kwargs["out"]
        if function in _WRITES:
            self.wrote(plains[0])
            result = _outside(function, *plains, **plain_kwargs)
            self.lines.append(f"{name}({text})")
            return result
        result = _outside(function, *plains, **plain_kwargs)
        if function in _CREATIONS:  # np.zeros_like(traced, ...): a fresh array, see created()
            return self.created(result, function, args, kwargs)
        if (
            function in _COPIES
            and isinstance(result, np.ndarray)
            and isinstance(plains[0], np.ndarray)
            and result.shape == plains[0].shape
            and result.dtype == plains[0].dtype
            and not np.shares_memory(result, plains[0])
        ):  # a copy: replay copies straight into the buffer, without a temporary
            buffer = self.new_buffer(result)
            self.copies.append((len(self.lines), buffer, plains[0]))
            self.lines.append(f"np.copyto({self.constant(buffer)}, {self.expression(args[0])[0]})")
            return self.handle(buffer, None)
        return self.result(result, f"{name}({text})", plains)

    def result(self, result: Any, call_text: str, plains: tuple) -> Any:
        if isinstance(result, (tuple, list)) and any(
            isinstance(r, (np.ndarray, np.generic)) for r in result
        ):  # np.linalg.slogdet of one matrix: a tuple of NumPy scalars, values all the same
            local = f"v{len(self.lines)}"
            self.lines.append(f"{local} = {call_text}")
            items = [self.result(r, f"{local}[{i}]", plains) for i, r in enumerate(result)]
            return type(result)(*items) if hasattr(result, "_fields") else type(result)(items)
        if isinstance(result, np.generic):
            result = np.asarray(result)
        elif not isinstance(result, np.ndarray):
            return result  # a shape, a dtype, a flag: metadata, the same on every call
        sources = [p for p in _flatten(plains) if isinstance(p, np.ndarray)]
        for plain in sources:
            if result is plain:  # handed back its input (np.asarray(x), x.astype(same dtype))
                return self.handle(result, self.locals.get(id(plain)))
        root = _root(result)
        viewed = [p for p in sources if _root(p) is root]
        if viewed:  # a view: fixed when what it views is fixed, else made on every call
            if id(root) in self.live_roots or any(id(p) in self.locals for p in viewed):
                local = f"v{len(self.lines)}"
                self.lines.append(f"{local} = {call_text}")
                return self.handle(result, local)
            return self.handle(result, None)
        if not result.flags.writeable:
            # A read-only view whose base the tracer cannot follow (sliding_window_view's
            # windows over a padded image): made per call, not copied into a buffer, so later
            # calls see eager's strides (another layout can change a BLAS sum's last bit).
            local = f"v{len(self.lines)}"
            self.lines.append(f"{local} = {call_text}")
            return self.handle(result, local)
        buffer = self.new_buffer(result)
        self.lines.append(f"np.copyto({self.constant(buffer)}, {call_text})")
        return self.handle(buffer, None)

    def read(self, traced: _Traced, what: str, convert: Callable) -> Any:
        """A Python value read from a traced array: a guard inside tinygrad_dl, else refused."""
        kind = _caller_kind()
        text, plain = self.expression(traced)
        if kind == "print":  # printing shows the traced call's values; nothing depends on them
            return convert(plain)
        if kind == "user":
            raise _refuse(what)
        if id(_root(plain)) in self.state and id(_root(plain)) in self.written:
            raise CompileError(
                f"tg.compile: {_package_site()} reads {what} of a tensor (shape {plain.shape}) "
                f"that the compiled function itself changes in place (as BatchNorm with "
                f"momentum=None reads num_batches_tracked); a replay would compute with the "
                f"traced call's value. Run this step eagerly, or give BatchNorm a float momentum"
            )
        value = convert(plain)
        self.lines.append(
            f"if {self.constant(convert)}({text}) != {self.constant(value)}: "
            f"_guard_failed({self.constant(f'{_package_site()} (called from {_user_site()})')})"
        )
        return value

    def random(self, generator: Any, method: str, args: tuple, kwargs: dict) -> _Traced:
        """A draw from a generator: replay draws again from the same one."""
        function = getattr(generator, method)
        buffer = self.new_buffer(np.asarray(_outside(function, *args, **kwargs)))
        call = f"{self.constant(function)}(*{self.constant(args)}, **{self.constant(kwargs)})"
        self.lines.append(f"np.copyto({self.constant(buffer)}, {call})")
        return self.handle(buffer, None)

    def host_call(self, function: Callable, owner: Any, args: tuple, kwargs: dict) -> Any:
        """``optimizer.step()``/``zero_grad()``: replay calls it, reading its numbers afresh."""
        self.sync_grads()
        self.lines.append(
            f"{self.constant(function)}({self.constant(owner)}, *{self.constant(args)}, "
            f"**{self.constant(kwargs)})"
        )
        self.host_calls += 1
        if not self.lines[:-1] and function.__name__ == "zero_grad" and not args and not kwargs:
            # Every gradient is set to None before anything reads one: whether a parameter had
            # a .grad when the call began cannot change what the call computes.
            self.cleared_first = {id(p) for group in owner.param_groups for p in group["params"]}
        _state.tracer = None  # its own NumPy calls are not recorded: replay runs the call itself
        try:
            return function(owner, *args, **kwargs)
        finally:
            _state.tracer = self

    def forward_copies(self, visible: set[int]) -> None:
        """Let a copy's source be computed straight into the copy when nothing else uses it.

        The engine copies a gradient before storing it as ``.grad`` when it cannot prove no one
        else holds it (and the tracer's own references defeat that proof). When the source was
        written by one call and read by nothing but the copy, replay writes into the copy
        directly and skips the copy: the same values, one pass over memory fewer.
        """
        for line, copy, source in self.copies:
            root = _root(source)
            written = self.writer.get(id(root))
            if written is None or id(root) in visible or copy.dtype != root.dtype:
                continue
            if source is not root and not (  # a reshape of the whole buffer: same element order
                source.flags.c_contiguous and root.flags.c_contiguous and source.size == root.size
            ):
                continue
            producer, name = written
            if any(r != line and r > producer for r in self.reads.get(id(root), ())):
                continue
            target = copy.reshape(root.shape)  # a view of the copy, laid out as the buffer
            self.lines[producer] = self.lines[producer].replace(
                f"out=({name}, ))", f"out=({self.constant(target)}, ))"
            )
            self.lines[line] = "pass"

    def reuse_dead_inputs(self, visible: set[int]) -> None:
        """Write an elementwise result into an input buffer that this call reads last.

        ``dW := alpha * dW`` instead of a new array for ``alpha * dW`` when nothing reads
        ``dW`` afterwards: the same values (an elementwise ufunc reads each element before it
        writes it), one array fewer for the caches to hold. Only whole buffers no one sees
        outside replay (not a ``.grad``, a returned value, a refilled array or a view) qualify.
        """
        named: dict[int, list[str]] = {}
        for name, value in self.names.items():
            if isinstance(value, np.ndarray):
                named.setdefault(id(_root(value)), []).append(name)
        copied = {id(_root(a)) for _, b, c in self.copies for a in (b, c)}
        memory: dict[int, np.ndarray] = {}  # id(buffer) -> the array now standing for it
        for line, out, out_name, sources in self.elementwise:
            if f"out=({out_name}, ))" not in self.lines[line] or id(out) in copied | visible:
                continue
            if any(self.names[n] is not out for n in named.get(id(out), ())):
                continue  # a view of the result is used: it would point at the old memory
            for source in sources:
                key = id(source)
                reads = self.reads.get(key)
                if (
                    key not in self.buffers or key in self.fresh or key in visible
                    or key in copied or source.base is not None or not reads
                    or max(reads) != line or source.shape != out.shape
                    or source.dtype != out.dtype or source.strides != out.strides
                    or any(self.names[n] is not source for n in named.get(key, ()))
                ):  # fmt: skip
                    continue
                target = memory.get(key, source)
                memory[id(out)] = target
                for name in named.get(id(out), ()):
                    self.names[name] = target
                break
        # The replaced buffers (and the trace's views of them) are no longer needed: let go.
        self.keep = [k for k in self.keep if not (isinstance(k, np.ndarray)
                                                  and id(_root(_plain(k))) in memory)]  # fmt: skip

    def choose_layouts(self, visible: set[int], returned: str) -> None:
        """Let a matmul write its result transposed in memory when that is measured faster.

        ``dW^[1] = dZ^[1] A^[0]^T`` with a wide ``A^[0] = X`` runs through BLAS faster in
        float32 when written column-major (OpenBLAS then packs ``X`` in its cheap direction),
        and gives the same bits. A buffer qualifies when no one outside replay sees it and
        every line that uses it is an elementwise ufunc (whose bits do not depend on layout, as
        a reduction's or another matmul's can); then both layouts of the matmul and its users
        are timed on scratch copies, and the transposed one is kept only if its bits equal the
        row-major result's and it is at least :data:`_LAYOUT_GAIN` faster.
        """
        named: dict[int, list[str]] = {}
        for name, value in self.names.items():
            if isinstance(value, np.ndarray):
                named.setdefault(id(_root(value)), []).append(name)
        copied = {id(_root(a)) for _, b, c in self.copies for a in (b, c)}
        for line, buffer, sources in self.matmuls:
            key = id(buffer)
            names = named.get(key, [])
            if (
                len(sources) != 2 or not buffer.flags.c_contiguous or min(buffer.shape) < 2
                or key in visible or key in copied or key in self.fresh or key in self.state
                or not names or any(self.names[n] is not buffer for n in names)
                or re.search(rf"\b({'|'.join(names)})\b", returned)
            ):  # fmt: skip
                continue
            pattern = re.compile(rf"\b({'|'.join(names)})\b")
            users = [i for i, text in enumerate(self.lines) if i != line and pattern.search(text)]
            if (
                not users or min(users) < line or any(i not in self.layout_blind for i in users)
                or f"out=({names[0]}, ))" not in self.lines[line]
            ):  # fmt: skip
                continue
            column_major = np.empty(buffer.shape[::-1], buffer.dtype).T
            try:
                timings = self._time_layouts(line, users, sources, names, buffer, column_major)
            except Exception:  # noqa: BLE001 - a segment that cannot run alone: keep row-major
                continue
            if timings[1] < _LAYOUT_GAIN * timings[0]:
                for name in names:
                    self.names[name] = column_major
                self.keep = [
                    k for k in self.keep
                    if not (isinstance(k, np.ndarray) and _root(_plain(k)) is buffer)
                ]  # fmt: skip
                self.keep.append(column_major)

    def _time_layouts(
        self,
        line: int,
        users: list[int],
        sources: list[np.ndarray],
        names: list[str],
        buffer: np.ndarray,
        column_major: np.ndarray,
    ) -> list[float]:
        """Seconds of the matmul at ``line`` and its users, row-major then column-major (best
        of :data:`_LAYOUT_RUNS`, interleaved); infinite for column-major when its bits differ."""
        local_values = {local: plain for plain, local in self.handles.values() if local}
        with np.errstate(all="ignore"):
            row_major = np.matmul(*sources)
            transposed = np.ascontiguousarray(np.matmul(*sources, out=column_major))
            if row_major.tobytes() != transposed.tobytes():  # bits, -0.0 and NaNs included
                return [0.0, float("inf")]
            segment = "\n".join(self.lines[i] for i in [line, *users])
            runs = [self._scratch_run(segment, local_values, names, layout)
                    for layout in (buffer, column_major)]  # fmt: skip
            timings = [float("inf")] * 2
            for _ in range(_LAYOUT_RUNS):  # interleaved: both see the same machine
                for index, run in enumerate(runs):
                    start = time.perf_counter()
                    run()
                    timings[index] = min(timings[index], time.perf_counter() - start)
        return timings

    def _scratch_run(
        self, segment: str, local_values: dict, names: list[str], layout: np.ndarray
    ) -> Callable[[], None]:
        """``segment`` writing into scratch copies of the arrays it writes, the buffer laid out
        as ``layout``: timing it leaves replay's arrays untouched."""
        scratch: dict[str, Any] = {"np": np}
        written = set(re.findall(r"\w+", " ".join(re.findall(r"out=\(([^)]*)\)", segment))))
        for word in set(re.findall(r"\b[a-z]\w*\b", segment)):
            value = self.names.get(word, local_values.get(word, _MISSING))
            if word in names:
                value = np.empty_like(layout, order="K")
            elif word in written and isinstance(value, np.ndarray):
                value = np.array(value, order="K", copy=True)
            if value is not _MISSING:  # a keyword (out=) or a Python name: not ours
                scratch[word] = value
        code = builtins.compile(segment, "<tg.compile layout>", "exec")
        return functools.partial(exec, code, scratch)

    def sync_grads(self) -> None:
        """Set each parameter's ``.grad`` in replay as the traced call has it at this point."""
        for index, (param, previous) in enumerate(zip(self.params, self.grad_state)):
            current = param.grad
            if current is previous:
                continue
            self.grad_state[index] = current
            target = self.constant(param)
            if current is None:
                self.lines.append(f"{target}.grad = None")
                continue
            data = current.data
            local = (
                self.handles.get(id(data), (None, None))[1] if isinstance(data, _Traced) else None
            )
            if local is not None:
                self.lines.append(f"{target}.grad = _new_tensor({local})")
            else:
                self.grad_tensors.append(current)
                self.lines.append(f"{target}.grad = {self.constant(current)}")


# ---------------------------------------------------------------------------------------------
# While tracing: NumPy functions that do not dispatch, the project's random generators, the
# optimisers' host calls and the Tensor methods that read values are wrapped.


def _through_tracer(original: Callable) -> Callable:
    @functools.wraps(original)
    def wrapper(a, *args, **kwargs):
        tracer = _state.tracer
        if tracer is not None and any(isinstance(v, _Traced) for v in _flatten(a)):
            return tracer.call(original, (a, *args), kwargs)
        return original(a, *args, **kwargs)

    return wrapper


def _creating(original: Callable) -> Callable:
    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        tracer = _state.tracer
        if tracer is None or any(isinstance(v, _Traced) for v in _flatten(args)):
            return original(*args, **kwargs)  # a traced argument: it dispatches to the tracer
        return tracer.created(_outside(original, *args, **kwargs), original, args, kwargs)

    return wrapper


class _RecordedRandom:
    """A generator whose draws are recorded (Dropout's masks are fresh on every replay)."""

    def __init__(self, generator: Any) -> None:
        self._generator = generator

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._generator, name)
        tracer = _state.tracer
        if not callable(attribute) or tracer is None:
            return attribute
        return lambda *args, **kwargs: tracer.random(self._generator, name, args, kwargs)


def _host(original: Callable) -> Callable:
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        tracer = _state.tracer
        if tracer is None:
            return original(self, *args, **kwargs)
        return tracer.host_call(original, self, args, kwargs)

    return wrapper


def _refusing(name: str, original: Callable) -> Callable:
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        if (
            _state.tracer is not None
            and isinstance(self.data, _Traced)
            and not os.path.abspath(sys._getframe(1).f_code.co_filename).startswith(_PACKAGE_DIR)
        ):
            raise _refuse(name)
        return original(self, *args, **kwargs)

    return wrapper


def _refusing_scheduler_step(original: Callable) -> Callable:
    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        if _state.tracer is None:  # another thread's eager loop, or no trace in this thread
            return original(self, *args, **kwargs)
        raise CompileError(
            f"tg.compile: {type(self).__name__}.step() at {_user_site()} inside a compiled "
            f"function would run only when the function is traced; call it outside (once per "
            f"epoch), the compiled step reads the optimiser's lr on every call"
        )

    return wrapper


def _recording_rng(resolve: Callable) -> Callable:
    @functools.wraps(resolve)
    def wrapper(rng=None):
        generator = resolve(rng)
        return generator if _state.tracer is None else _RecordedRandom(generator)

    return wrapper


def _subclasses(cls: type) -> list[type]:
    found, pending = [], [cls]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += current.__subclasses__()
    return found


class _Patches:
    """Install the wrappers above while at least one thread traces.

    The wrappers are process-wide but act only in a thread whose ``_state.tracer`` is set;
    elsewhere they call what they wrap. Traces in several threads at once share one
    installation: the first to begin installs, the last to end restores the originals.
    """

    _lock = threading.Lock()
    _users = 0
    _saved: list[tuple[Any, str, Any]] = []

    def __enter__(self) -> None:
        with _Patches._lock:
            if _Patches._users == 0:
                _Patches._saved = []
                self._install()
            _Patches._users += 1

    def __exit__(self, *exc: object) -> None:
        with _Patches._lock:
            _Patches._users -= 1
            if _Patches._users == 0:
                for owner, name, value in reversed(_Patches._saved):
                    if value is _MISSING:
                        delattr(owner, name)
                    else:
                        setattr(owner, name, value)

    @staticmethod
    def _install() -> None:
        from . import optim
        from .nn import functional

        def patch(owner: Any, name: str, value: Any) -> None:
            _Patches._saved.append((owner, name, owner.__dict__.get(name, _MISSING)))
            setattr(owner, name, value)

        for name in ("asarray", "asanyarray", "array", "ascontiguousarray"):
            patch(np, name, _through_tracer(getattr(np, name)))
        for function in _CREATIONS:
            patch(np, function.__name__, _creating(function))
        patch(functional, "resolve_rng", _recording_rng(functional.resolve_rng))
        for cls in _subclasses(optim.Optimizer):
            for name in ("step", "zero_grad"):
                if name in cls.__dict__:
                    patch(cls, name, _host(cls.__dict__[name]))
        for cls in _subclasses(optim.LRScheduler):
            if "step" in cls.__dict__:
                patch(cls, "step", _refusing_scheduler_step(cls.__dict__["step"]))
        for name, what in (("numpy", ".numpy()"), ("item", ".item()"), ("tolist", ".tolist()"),
                           ("__float__", "float()"), ("__int__", "int()"),
                           ("__bool__", "bool() (an if or while on a Tensor)"),
                           ("__index__", "a Tensor used as an index")):  # fmt: skip
            patch(Tensor, name, _refusing(what, getattr(Tensor, name)))


_MISSING = object()


# ---------------------------------------------------------------------------------------------
# What the function reaches: parameters (bound by identity), modules (their train/eval flag).


def _reachable(function: Callable) -> tuple[list[Tensor], list[Any], list[Tensor]]:
    """Parameters, modules and other tensors reachable from ``function``'s closure, globals and
    ``self`` (the arrays of the last are read in place, so replacing one is guarded too)."""
    from .nn.module import Module
    from .optim import Optimizer

    params: dict[int, Tensor] = {}
    modules: dict[int, Any] = {}
    constants: dict[int, Tensor] = {}
    seen: set[int] = set()
    pending: list[tuple[Any, int]] = [(function, 0)]
    while pending and len(seen) < 20_000:
        value, depth = pending.pop()
        if id(value) in seen or depth > 6:
            continue
        seen.add(id(value))
        if isinstance(value, Tensor):
            if value.requires_grad and value.is_leaf:
                params.setdefault(id(value), value)
            elif not value.requires_grad:
                constants.setdefault(id(value), value)
        elif isinstance(value, Module):
            for module in value.modules():
                modules.setdefault(id(module), module)
            for param in value.parameters():
                params.setdefault(id(param), param)
            pending += [(v, depth + 1) for v in vars(value).values()]
        elif isinstance(value, Optimizer):
            for group in value.param_groups:
                for param in group["params"]:
                    params.setdefault(id(param), param)
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending += [(v, depth + 1) for v in value]
        elif isinstance(value, dict):
            pending += [(v, depth + 1) for v in value.values()]
        elif hasattr(value, "__self__") and hasattr(value, "__func__"):
            # A bound method (before the function case: it answers __code__ too): its object
            # holds the parameters (a runner's self.params).
            pending += [(value.__self__, depth + 1), (value.__func__, depth + 1)]
        elif callable(value) and hasattr(value, "__code__"):
            pending += [(v, depth + 1) for v in _function_references(value)]
        elif isinstance(value, (np.ndarray, str, bytes, int, float, type)) or value is None:
            continue
        elif type(value).__module__ not in ("builtins", "numpy") and hasattr(value, "__dict__"):
            pending += [(v, depth + 1) for v in vars(value).values()]
    return list(params.values()), list(modules.values()), list(constants.values())


def _python_state(modules: list[Any]) -> dict[tuple[int, str], Any]:
    """The Python numbers, strings and flags the modules hold (a counter in ``forward``)."""
    return {
        (index, name): value
        for index, module in enumerate(modules)
        for name, value in vars(module).items()
        if isinstance(value, (bool, int, float, str)) or value is None
    }


def _refuse_python_state_changes(before: dict, after: dict) -> None:
    """A module attribute the traced call changed would change on tracing calls only."""
    for key in sorted(set(before) | set(after), key=str):
        if before.get(key, _MISSING) != after.get(key, _MISSING):
            raise CompileError(
                f"tg.compile: the traced call changed a module's Python attribute {key[1]!r} "
                f"(from {before.get(key, 'unset')!r} to {after.get(key, 'unset')!r}); replay "
                f"runs no Python code, so it would change on tracing calls only. Keep such state "
                f"in a tensor (Module.register_buffer) or change it outside the compiled function"
            )


def _function_references(function: Callable) -> list[Any]:
    found: list[Any] = []
    for cell in getattr(function, "__closure__", None) or ():
        try:
            found.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    found += list(getattr(function, "__defaults__", None) or ())
    namespace = getattr(function, "__globals__", {})
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        found += [namespace[name] for name in code.co_names if name in namespace]
        codes += [c for c in code.co_consts if hasattr(c, "co_names")]
    return [v for v in found if not isinstance(v, type(os))]  # not modules


# ---------------------------------------------------------------------------------------------
# The compiled function.


def _describe_key_change(old: tuple, new: tuple, params: list[Tensor]) -> str:
    """Why a call did not match the latest trace, in words."""
    reasons = []
    old_args, new_args = old[0], new[0]
    if len(old_args) != len(new_args):
        reasons.append(f"{len(new_args)} arguments instead of {len(old_args)}")
    else:
        for index, (before, after) in enumerate(zip(old_args, new_args)):
            if before != after:
                reasons.append(f"argument {index} changed from {before} to {after}")
    if old[1] != new[1]:
        reasons.append(
            f"grad mode is {'on' if new[1] else 'off'} (traced with it {'on' if old[1] else 'off'})"
        )
    if old[2] != new[2]:
        reasons.append("a module switched between train() and eval()")
    for index, (before, after) in enumerate(zip(old[3], new[3])):
        if before[0] != after[0] or before[1] != after[1]:
            reasons.append(
                f"parameter {index}'s array was replaced (shape {before[1]} -> {after[1]})"
            )
        elif before[2] != after[2]:
            state = "has no .grad" if after[2] else "has a .grad"
            reasons.append(f"parameter {index} {state} now (traced the other way)")
    if old[4] != new[4]:
        reasons.append("a tensor the function reads had its array replaced")
    if len(old[3]) != len(new[3]):
        reasons.append("the set of parameters changed")
    return "; ".join(reasons) or "first call"


def _argument_key(value: Any) -> tuple:
    if isinstance(value, Tensor):
        return ("Tensor", value.data.shape, str(value.data.dtype), value.requires_grad)
    if isinstance(value, np.ndarray):
        return ("ndarray", value.shape, str(value.dtype))
    if value is None or isinstance(value, (bool, int, float, str)):
        return ("value", value)
    return ("object", id(value))


class CompiledFunction:
    """A function traced on its first call and replayed afterwards; see :func:`compile`."""

    def __init__(self, function: Callable, explain: bool, cache_size: int) -> None:
        functools.update_wrapper(self, function)
        self.function = function
        self.explain = explain
        self.cache_size = cache_size
        self.params, self.modules, self.constants = _reachable(function)
        self.programs: dict[tuple, Callable] = {}
        self.traces = 0  # how many times the function was traced (for tests and explain)
        self.retrace_reasons: list[str] = []
        self._latest: tuple | None = None
        self._last: Callable | None = None  # the latest program, tried first
        # True once a trace showed the function clears every .grad first (optimizer.zero_grad()):
        # then whether a parameter has a .grad on entry is not part of the guards.
        self.grads_cleared = False
        self._lock = threading.RLock()

    def _key(self, args: tuple) -> tuple:
        return (
            tuple(map(_argument_key, args)),
            autograd._mode.enabled,
            tuple(module.training for module in self.modules),
            tuple(
                (id(p.data), p.data.shape, None if self.grads_cleared else p.grad is None)
                for p in self.params
            ),
            tuple(id(t.data) for t in self.constants),
        )

    def __call__(self, *args: Any) -> Any:
        # One call at a time: replays of one function share its buffers, so calls from two
        # threads take turns (re-entrant, so a call inside the trace meets its clear error).
        with self._lock:
            # The latest trace checks its own guards first (inlined in its code, cheap); only
            # when one fails is the full key computed and the cache searched.
            if self._last is not None:
                result = self._last(args)
                if result is not _MISS:
                    return result
            key = self._key(args)
            program = self.programs.get(key)
            if program is not None:
                self._last = program
                result = program(args)
                if result is not _MISS:
                    return result
            return self._trace(args, key)

    def _guards(
        self, tracer: _Tracer, args: tuple, entry_grads: list, grad_mode: bool, training: list
    ) -> list[str]:
        """Replay's first lines: return ``_MISS`` unless this call matches the trace's guards."""
        c = tracer.constant
        lines = [f"if len(args) != {len(args)}: return _MISS"]
        for index, value in enumerate(args):
            lines.append(f"x{index} = args[{index}]")
            if isinstance(value, (Tensor, np.ndarray)):
                array = value.data if isinstance(value, Tensor) else value
                check = f"type(x{index}) is not {c(type(value))}"
                if isinstance(value, Tensor):
                    check += f" or x{index}.requires_grad is not {value.requires_grad}"
                    lines += [f"if {check}: return _MISS", f"a{index} = x{index}.data"]
                else:
                    lines += [f"if {check}: return _MISS", f"a{index} = x{index}"]
                lines.append(
                    f"if a{index}.shape != {c(array.shape)} or a{index}.dtype != "
                    f"{c(array.dtype)}: return _MISS"
                )
            elif isinstance(value, (bool, int, float, str)) or value is None:
                lines.append(
                    f"if type(x{index}) is not {c(type(value))} or x{index} != {c(value)}: "
                    f"return _MISS"
                )
            else:
                lines.append(f"if x{index} is not {c(value)}: return _MISS")
        lines.append(f"if _mode.enabled is not {grad_mode}: return _MISS")
        for module, flag in zip(self.modules, training):
            lines.append(f"if {c(module)}.training is not {flag}: return _MISS")
        for param, had_grad in zip(self.params, entry_grads):
            name = c(param)
            check = f"if {name}.data is not {c(param.data)}"
            if not self.grads_cleared:
                check += f" or {name}.grad {'is' if had_grad else 'is not'} None"
            lines.append(f"{check}: return _MISS")
        for tensor in self.constants:
            lines.append(f"if {c(tensor)}.data is not {c(tensor.data)}: return _MISS")
        return lines

    def _trace(self, args: tuple, key: tuple) -> Any:
        if self._latest is not None:
            reason = _describe_key_change(self._latest, key, self.params)
            self.retrace_reasons.append(reason)
            message = f"tg.compile: re-tracing {self.__name__}: {reason}"
            _LOG.info(message)
            if self.explain:
                print(message, file=sys.stderr)
        if _state.tracer is not None:
            raise CompileError("tg.compile: a compiled function called inside another's trace")
        if any(_backend.foreign(t.data) for t in (*args, *self.params) if isinstance(t, Tensor)):
            # The tracer records NumPy calls; on CuPy and other libraries the step runs eagerly
            # (benchmarks/gpu_check.py replays a GPU step as a CUDA graph instead).
            return self.function(*args)
        held = [t for t in (*args, *self.params, *self.constants) if isinstance(t, Tensor)]
        held += [p.grad for p in self.params if p.grad is not None]
        for tensor in held:
            if isinstance(tensor.data, _Traced):  # swapped by a trace running in another thread
                raise CompileError(
                    f"tg.compile: {self.__name__} reaches a tensor (shape {tensor.data.shape}) "
                    f"that another thread's compiled call is tracing right now; trace functions "
                    f"that share tensors one thread at a time, or give each thread its own"
                )
        tracer = _Tracer(self.params)
        swapped: list[tuple[Tensor, np.ndarray]] = []
        entry_grads = [p.grad is not None for p in self.params]
        training = [module.training for module in self.modules]
        grad_mode = autograd._mode.enabled
        grad_reads: list[str] = []
        traced_args = []
        for index, value in enumerate(args):
            if isinstance(value, Tensor):
                swapped.append((value, value.data))
                value.data = tracer.live_input(value.data, f"a{index}")
            elif isinstance(value, np.ndarray):
                value = tracer.live_input(value, f"a{index}")
            traced_args.append(value)
        for index, param in enumerate(self.params):
            swapped.append((param, param.data))
            param.data = tracer.handle(param.data, None)
            tracer.state.add(id(_root(swapped[-1][1])))
            if param.grad is not None:  # read afresh: a step may add to the previous gradient
                swapped.append((param.grad, param.grad.data))
                param.grad.data = tracer.live_input(param.grad.data, f"g{index}")
                grad_reads.append(f"g{index} = {tracer.constant(param)}.grad.data")
        for tensor in self.constants:  # buffers (running_mean): their in-place updates replay
            if isinstance(tensor.data, _Traced):  # also an argument: bound by position
                continue
            swapped.append((tensor, tensor.data))
            tensor.data = tracer.handle(tensor.data, None)
            tracer.state.add(id(_root(swapped[-1][1])))
        try:
            with _Patches():
                _state.tracer = tracer
                try:
                    before = _python_state(self.modules)
                    result = self.function(*traced_args)
                    _refuse_python_state_changes(before, _python_state(self.modules))
                    tracer.sync_grads()
                    returned = self._outputs(tracer, result)
                finally:
                    _state.tracer = None
        finally:
            for tensor, data in reversed(swapped):
                tensor.data = data
            for tensor in [p.grad for p in self.params] + tracer.grad_tensors:
                if tensor is not None and isinstance(tensor.data, _Traced):
                    tensor.data = tracer.plain_of(tensor.data)
        visible = {id(_root(tracer.plain_of(t.data) if isinstance(t.data, _Traced) else t.data))
                   for t in tracer.grad_tensors}  # fmt: skip
        tracer.forward_copies(visible)
        tracer.refill_written()
        tracer.reuse_dead_inputs(visible)
        tracer.choose_layouts(visible, returned)
        tracer.lines = [line for line in tracer.lines if line != "pass"]
        body = "\n".join(tracer.lines)
        if (
            self.params
            and {id(p) for p in self.params} <= tracer.cleared_first
            and not any(re.search(rf"\b{line.split(' = ')[0]}\b", body) for line in grad_reads)
        ):
            self.grads_cleared = True
            key = self._key(args)
        prologue = self._guards(tracer, args, entry_grads, grad_mode, training)
        if not self.grads_cleared:
            prologue += grad_reads
        source = "def replay(args):\n" + "".join(
            f"    {line}\n" for line in prologue + tracer.lines + [f"return {returned}"]
        )
        namespace = dict(tracer.names)
        exec(builtins.compile(source, f"<tg.compile {self.__name__}>", "exec"), namespace)  # noqa: S102
        program = namespace["replay"]
        program.source = source  # type: ignore[attr-defined]
        program.keep = tracer.keep  # type: ignore[attr-defined]
        if len(self.programs) >= self.cache_size:
            self.programs.pop(next(iter(self.programs)))
            _LOG.warning(
                "tg.compile: %s re-traced past its cache of %d", self.__name__, self.cache_size
            )
        self.programs[key] = program
        self._latest, self._last = key, program
        self.traces += 1
        return self._first_result

    def _outputs(self, tracer: _Tracer, result: Any) -> str:
        """Replay's expression for the return value; also sets the traced call's result."""
        if isinstance(result, Tensor):
            data = result.data
            text, plain = (
                tracer.expression(data)
                if isinstance(data, (np.ndarray,))
                else (tracer.constant(data), data)
            )
            self._first_result = _fresh(plain)
            return f"_fresh({text})"
        if isinstance(result, (tuple, list)):
            parts, values = [], []
            for item in result:
                parts.append(self._outputs(tracer, item))
                values.append(self._first_result)
            self._first_result = type(result)(values)
            if isinstance(result, tuple):
                return "(" + "".join(p + ", " for p in parts) + ")"
            return "[" + ", ".join(parts) + "]"
        if isinstance(result, np.ndarray):
            text, plain = tracer.expression(result)
            self._first_result = np.array(plain, copy=True)
            return f"np.array({text}, copy=True)"
        if result is None or isinstance(result, (bool, int, float, str)):
            self._first_result = result
            return tracer.constant(result)
        raise CompileError(
            f"tg.compile: {self.__name__} returned a {type(result).__name__}; a compiled "
            f"function returns Tensors, arrays, Python constants, or tuples and lists of them"
        )


def compile(  # noqa: A001 - the name users expect (jax.jit, torch.compile)
    function: Callable | None = None, *, explain: bool = False, cache_size: int = 8
) -> Any:
    """Trace ``function`` on its first call; replay its array operations on later calls.

    A training step in the course's notation (forward ``Z^[l] = W^[l] A^[l-1] + b^[l]``, cost,
    backward ``dW^[l] = (1/m) dZ^[l] A^[l-1]^T``, update ``W^[l] := W^[l] - alpha dW^[l]``)
    becomes one generated function of NumPy calls writing into arrays allocated once::

        @tg.compile
        def step(X, Y):
            optimizer.zero_grad()
            loss = loss_fn(model(X), Y)
            loss.backward()
            optimizer.step()
            return loss

    Parameters
    ----------
    function : callable
        Takes Tensors or arrays by position (bound afresh on every call); parameters and
        optimisers it reaches through its closure, globals or ``self`` are bound by identity.
    explain : bool
        Print why a call traced again (it is also logged on ``tinygrad_dl.compile``).
    cache_size : int
        Traces kept per function (one per guard combination: argument shapes and dtypes, grad
        mode, train/eval, parameters).

    Returns
    -------
    CompiledFunction
        Callable like ``function``; returned Tensors are detached copies with the step's values.

    Raises
    ------
    CompileError
        When the function reads a Tensor's value (``.item()``, ``float(t)``, ``bool(t)``,
        ``.numpy()``, ``if t > 0``), steps a scheduler, or uses an array the tracer cannot
        follow; the message names the line.
    """
    if function is None:
        return lambda inner: compile(inner, explain=explain, cache_size=cache_size)
    if not callable(function):
        raise TypeError(f"tg.compile: expected a function, got {type(function).__name__}")
    return CompiledFunction(function, explain, cache_size)

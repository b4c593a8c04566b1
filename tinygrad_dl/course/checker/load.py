"""Load a learner's file in a child process and call its functions there, one call at a time.

The learner's code never runs in the checker's process: :class:`Child` starts
``python -c "...load.serve()"`` beside the file, sends it requests and reads back plain values
(numbers, arrays, dicts, lists), so code that exits, hangs, crashes, starts threads or patches
the checker can only spoil the child. The verdict is decided in the parent from those values.

The wire format is length-prefixed JSON with arrays as base64 bytes (no pickle: a value from
the child is data, never code). The child keeps the real stdout for the protocol and points
``sys.stdout`` and file descriptor 1 elsewhere, so the learner's prints are captured and
summarised, not streamed.

Sources: a ``.py`` file is imported as a module (``--defs-only`` keeps only its imports,
definitions and constant assignments); a ``.ipynb`` notebook (nbformat 4, parsed as JSON) is run
definitions-only by default, its IPython magics and ``!shell`` lines dropped.
"""

from __future__ import annotations

import ast
import base64
import contextlib
import copy
import importlib
import importlib.abc
import importlib.util
import inspect
import io
import json
import linecache
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# ---- wire format: JSON with tagged arrays ------------------------------------------------------

_NUMERIC_KINDS = "biuf"


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON-ready data: arrays and NumPy scalars tagged, Tensors as arrays."""
    if depth > 20:
        return {"__object__": "too deeply nested"}
    kind = type(value)
    if kind.__name__ == "Tensor" and hasattr(value, "data"):
        value = np.asarray(value.data)
    if isinstance(value, (bool, int, float, str)) or value is None:
        if isinstance(value, float) and not np.isfinite(value):
            return {"__float__": repr(value)}
        return value
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMERIC_KINDS:
            return {"__object__": f"array of dtype {value.dtype}"}
        array = np.ascontiguousarray(value)
        return {
            "__array__": base64.b64encode(array.tobytes()).decode("ascii"),
            "dtype": array.dtype.str,
            "shape": list(array.shape),
        }
    if isinstance(value, dict):
        return {
            "__dict__": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]
        }
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, depth + 1) for v in value]}
    if isinstance(value, list):
        return [encode(v, depth + 1) for v in value]
    return {"__object__": type(value).__name__}


class Opaque:
    """A value the child could not send (a function, a module...); its type name only."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


def decode(data: Any) -> Any:
    """The inverse of :func:`encode`; only numeric dtypes are rebuilt, never objects."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "__array__" in data:
        dtype = np.dtype(data["dtype"])
        if dtype.kind not in _NUMERIC_KINDS:
            raise ValueError(f"check: the child sent an array of dtype {dtype}")
        raw = base64.b64decode(data["__array__"])
        return np.frombuffer(raw, dtype=dtype).reshape(data["shape"]).copy()
    if "__float__" in data:
        return float(data["__float__"])
    if "__tuple__" in data:
        return tuple(decode(v) for v in data["__tuple__"])
    if "__dict__" in data:
        return {_key(decode(k)): decode(v) for k, v in data["__dict__"]}
    if "__object__" in data:
        return Opaque(str(data["__object__"]))
    raise ValueError(f"check: unknown value from the child: {sorted(data)}")


def _key(key: Any) -> Any:
    return key if isinstance(key, (str, int, float, bool, tuple)) or key is None else repr(key)


def _send(stream: Any, message: dict) -> None:
    payload = json.dumps(message).encode("utf-8")
    stream.write(struct.pack(">Q", len(payload)) + payload)
    stream.flush()


def _read_exact(stream: Any, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _receive(stream: Any) -> dict:
    (size,) = struct.unpack(">Q", _read_exact(stream, 8))
    return json.loads(_read_exact(stream, size).decode("utf-8"))


# ---- sources: .py and .ipynb, and definitions-only mode --------------------------------------

# Calls that train, plot or read the course's data: never run in definitions-only mode.
_KEPT = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def notebook_cells(path: Path) -> list[tuple[int, str]]:
    """The code cells of an nbformat-4 notebook as ``(cell number, source)``, magics removed.

    Raises
    ------
    ValueError
        If the file is not an nbformat-4 notebook.
    """
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"check: {path.name} is not a Jupyter notebook (JSON): {error}") from None
    if not isinstance(notebook, dict) or notebook.get("nbformat") != 4:
        found = notebook.get("nbformat") if isinstance(notebook, dict) else type(notebook).__name__
        raise ValueError(f"check: {path.name}: expected nbformat 4, found {found!r}")
    cells = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        cells.append((number, strip_magics(source)))
    return cells


def strip_magics(source: str) -> str:
    """Drop IPython magics (``%...``, ``%%...`` cells) and shell lines (``!...``, ``x = !...``).

    Dropped lines become blank lines, so line numbers in tracebacks stay right.
    """
    lines = source.split("\n")
    first = lines[0].lstrip() if lines else ""
    if first.startswith("%%"):
        # %%time / %%capture run Python; any other cell magic (%%bash, %%html) does not.
        if first.split()[0] not in ("%%time", "%%timeit", "%%capture"):
            return ""
        lines[0] = ""
    kept = []
    for line in lines:
        stripped = line.lstrip()
        is_shell_assignment = "= !" in line and stripped.split("=", 1)[-1].lstrip().startswith("!")
        if stripped.startswith(("%", "!", "?")) or stripped.endswith("?") or is_shell_assignment:
            kept.append("")
        else:
            kept.append(line)
    return "\n".join(kept)


def _is_constant(node: ast.AST) -> bool:
    """A value that computes nothing: literals, names, and arithmetic or containers of them."""
    if isinstance(node, (ast.Constant, ast.Name)):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _is_constant(k) for k in node.keys) and all(
            _is_constant(v) for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left) and _is_constant(node.right)
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand)
    if isinstance(node, ast.Attribute):
        return _is_constant(node.value)
    return False


def _kept(node: ast.stmt) -> bool:
    if isinstance(node, _KEPT):
        return True
    if isinstance(node, ast.Assign):
        return all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets) and _is_constant(
            node.value
        )
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and (
            node.value is None or _is_constant(node.value)
        )
    return False


def _first_line(source: str, node: ast.stmt) -> str:
    text = (ast.get_source_segment(source, node) or "").split("\n")[0].strip()
    return text if len(text) <= 70 else text[:67] + "..."


# ---- the child ---------------------------------------------------------------------------------


class _Capture(io.TextIOBase):
    """Collects what the learner prints: a line count and the first lines."""

    def __init__(self) -> None:
        self.lines = 0
        self.first: list[str] = []
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = self._partial + str(text)
        *complete, self._partial = text.split("\n")
        self.lines += len(complete)
        for line in complete:
            if len(self.first) < 5:
                self.first.append(line[:200])
        return len(text)

    def summary(self) -> dict:
        lines, first = self.lines, list(self.first)
        if self._partial:
            lines += 1
            if len(first) < 5:
                first.append(self._partial[:200])
        return {"lines": lines, "first": first}


class LoadError(Exception):
    """The learner's file raised while loading (its message says where)."""


class _Anything:
    """Stands for matplotlib in the child: every attribute, call and item is another one."""

    def __getattr__(self, name: str) -> _Anything:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> _Anything:
        return self

    def __getitem__(self, key: Any) -> _Anything:
        return self

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def __iter__(self) -> Any:
        return iter(())


class _NoPlots(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of matplotlib give :class:`_Anything`: a check draws nothing, and importing the
    real matplotlib costs more than the whole check of a file."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name == "matplotlib" or name.startswith("matplotlib."):
            return importlib.util.spec_from_loader(name, self, is_package=True)
        return None

    def create_module(self, spec: Any) -> Any:
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__getattr__ = lambda name: _Anything()  # type: ignore[method-assign]
        return module

    def exec_module(self, module: Any) -> None:
        pass


class _IPythonStub:
    """``get_ipython()`` in a notebook run outside Jupyter: every method does nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _where(error: BaseException, filename: str) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if f.filename.startswith(filename)] or frames
    frame = own[-1] if own else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno}: {frame.line})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


class _Learner:
    """The learner's namespace in the child, and how to call into it."""

    def __init__(self, path: Path, defs_only: bool):
        # Bound before the learner's code runs (see serve): patching these later does nothing.
        self._tools = (encode, decode, _changed_arguments, _deepcopy)
        self.path = path
        self.skipped: list[str] = []
        self.filename = str(path)
        self.namespace: dict[str, Any] = {}
        if path.suffix == ".ipynb":
            self._run_cells(notebook_cells(path), defs_only=True)
        elif (path.parent / "__init__.py").is_file() and not defs_only:
            self._import()  # a module of a package: its relative imports need the package
        else:
            self._run_cells([(0, path.read_text(encoding="utf-8"))], defs_only)

    def _import(self) -> None:
        parts, root = [self.path.stem], self.path.parent
        while (root / "__init__.py").is_file():  # inside a package: relative imports work
            parts.insert(0, root.name)
            root = root.parent
        sys.path.insert(0, str(root))
        if len(parts) > 1:
            module = importlib.import_module(".".join(parts))
        else:
            spec = importlib.util.spec_from_file_location("learner", self.path)
            module = importlib.util.module_from_spec(spec)
            sys.modules["learner"] = module
            spec.loader.exec_module(module)
        self.namespace = module.__dict__

    def _run_cells(self, cells: list[tuple[int, str]], defs_only: bool) -> None:
        """Run each top-level statement; definitions only, or all of them (a ``.py`` file).

        A statement that raises (an import of h5py that is not installed, a test call that
        trips over the learner's own bug, a data file that is not there) is listed and skipped,
        and the load goes on: the checks then say which function is wrong. A ``.py`` file that
        does not parse does not load.
        """
        ns = self.namespace
        ns.update(__name__="learner", __file__=self.filename, get_ipython=_IPythonStub)
        ns.setdefault("display", print)
        for number, source in cells:
            where = f"cell {number}, " if number else ""
            # One name per cell, known to linecache, so tracebacks quote the learner's line.
            filename = f"{self.filename} (cell {number})" if number else self.filename
            linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
            try:
                tree = ast.parse(source, filename)
            except SyntaxError as error:
                if not number:
                    raise LoadError(
                        f"syntax error at line {error.lineno}: {error.msg}: "
                        f"{(error.text or '').strip()}"
                    ) from None
                self.skipped.append(f"{where}line {error.lineno}: syntax error ({error.msg})")
                continue
            for node in tree.body:
                text = f"{where}line {node.lineno}: {_first_line(source, node)}"
                if defs_only and not _kept(node):
                    self.skipped.append(text)
                    continue
                code = compile(ast.Module([node], []), filename, "exec")
                try:
                    exec(code, ns)  # noqa: S102 - running the learner's code is the job
                except ImportError as error:
                    # A helper the checker does not need (h5py, a missing testCases file).
                    self.skipped.append(f"{text} (could not import: {error})")
                except Exception as error:
                    self.skipped.append(f"{text} (raised {_where(error, filename)})")

    def functions(self) -> dict[str, dict]:
        """The functions the learner's file itself defines, with their parameter names."""
        found = {}
        for name, value in list(self.namespace.items()):
            code = getattr(value, "__code__", None)
            if not inspect.isfunction(value) or code is None:
                continue
            if not code.co_filename.startswith(self.filename):
                continue
            try:
                parameters = inspect.signature(value).parameters.values()
            except (TypeError, ValueError):
                continue
            found[name] = {
                "params": [p.name for p in parameters],
                "required": [
                    p.name
                    for p in parameters
                    if p.default is inspect.Parameter.empty
                    and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                ],
            }
        return found

    def call(self, request: dict, substitutes: dict[str, Any]) -> dict:
        name = request["name"]
        function = self.namespace.get(request.get("target", name))
        if not callable(function):
            return {"error": f"{name} is not defined"}
        encode_value, decode_value, changed_arguments, deepcopy = self._tools
        args = decode_value(request.get("args", []))
        kwargs = decode_value(request.get("kwargs", {}))
        before = deepcopy((args, kwargs))
        saved = {key: self.namespace.get(key) for key in substitutes}
        self.namespace.update(substitutes)
        if request.get("seed") is not None:
            np.random.seed(request["seed"])
        try:
            value = function(*args, **kwargs)
            reply = {"value": encode_value(value)}
        except Exception as error:
            reply = {"error": _where(error, self.filename)}
        finally:
            for key, old in saved.items():
                if old is None:
                    self.namespace.pop(key, None)
                else:
                    self.namespace[key] = old
        reply["changed"] = changed_arguments(function, before, (args, kwargs))
        return reply


# Bound when this module loads, before any learner code: a file that patches numpy or copy
# cannot hide an input it changed in place.
_array_equal = np.array_equal
_deepcopy = copy.deepcopy


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and _array_equal(a, b, equal_nan=True)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    try:
        return bool(a == b)
    except Exception:
        return False


def _changed_arguments(function: Any, before: tuple, after: tuple) -> list[str]:
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        names = []
    changed = []
    for position, (old, new) in enumerate(zip(before[0], after[0])):
        if not _equal(old, new):
            changed.append(names[position] if position < len(names) else f"argument {position}")
    changed += [key for key in before[1] if not _equal(before[1][key], after[1][key])]
    return changed


def _leftover_threads() -> list[str]:
    return [
        t.name for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive()
    ]


def serve() -> None:
    """The child's main loop: load the file named by the first request, then answer calls."""
    # The loop below uses these local names only, bound before the learner's code runs, so a
    # file that patches this module's functions does not change what the child answers.
    send, receive, call = _send, _receive, _Learner.call
    protocol_in = os.fdopen(os.dup(0), "rb")
    protocol_out = os.fdopen(os.dup(1), "wb")
    # The learner's own reads and writes go nowhere near the protocol.
    sink = tempfile.TemporaryFile()
    os.dup2(sink.fileno(), 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    capture = _Capture()
    sys.stdout = capture
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the child
    learner = None
    try:
        from . import week2, week3, week4

        weeks = {2: week2, 3: week3, 4: week4}
        send(protocol_out, {"ready": True})
        request = receive(protocol_in)
        path = Path(request["path"])
        os.chdir(path.parent)  # the course's notebooks open datasets/... relative to themselves
        sys.meta_path.insert(0, _NoPlots())
        sys.path.insert(0, str(path.parent))
        try:
            learner = _Learner(path, request.get("defs_only", False))
            reply = {
                "functions": learner.functions(),
                "available": sorted(k for k, v in learner.namespace.items() if callable(v)),
                "skipped": learner.skipped,
            }
        except SystemExit as error:
            reply = {"exited": f"called sys.exit({error.code!r}) while loading"}
        except LoadError as error:
            reply = {"load_error": str(error)}
        except BaseException as error:
            reply = {"load_error": _where(error, str(path))}
        reply["printed"] = capture.summary()
        reply["threads"] = _leftover_threads()
        send(protocol_out, reply)
        if learner is None:
            return
        while True:
            try:
                request = receive(protocol_in)
            except EOFError:
                return
            if request.get("op") == "stop":
                return
            week = weeks.get(request.get("week"))
            table = week.SUBSTITUTES if week is not None else {}
            substitutes = {
                name: table[name] for name in request.get("substitute", ()) if name in table
            }
            try:
                reply = call(learner, request, substitutes)
            except SystemExit as error:
                reply = {"exited": f"called sys.exit({error.code!r}) in {request.get('name')}"}
            except BaseException as error:
                reply = {"error": _where(error, str(path))}
            reply["printed"] = capture.summary()
            reply["threads"] = _leftover_threads()
            send(protocol_out, reply)
            if "exited" in reply:
                return
    finally:
        protocol_out.flush()


# ---- the parent --------------------------------------------------------------------------------


class Unchecked(Exception):
    """The learner's code could not be checked (did not load, exited, crashed, hung, threads)."""


@dataclass
class Call:
    """What one call returned: ``value`` or ``error``, and the arguments it changed."""

    value: Any = None
    error: str | None = None
    changed: list[str] = field(default_factory=list)


# ``python -c`` puts the working directory (the learner's folder) first on sys.path: drop it, so
# a tinygrad_dl/ or numpy.py beside the learner's file cannot stand in for the checker's child.
_CHILD = "import sys; sys.path.pop(0); from tinygrad_dl.course.checker.load import serve; serve()"


class Child:
    """The learner's file loaded in a child process; :meth:`call` runs one of its functions.

    Parameters
    ----------
    path : str or Path
        The learner's ``.py`` or ``.ipynb`` file.
    defs_only : bool
        Run only imports, definitions and constant assignments (always so for notebooks).
    timeout : float
        Seconds allowed for loading and for each call.

    Raises
    ------
    Unchecked
        When the file does not load, exits, crashes, hangs or leaves a thread running.
    """

    def __init__(self, path: str | Path, defs_only: bool = False, timeout: float = 60.0):
        self.path = Path(path).resolve()
        self.timeout = timeout
        self._stderr = tempfile.TemporaryFile()
        root = str(Path(__file__).resolve().parents[3])
        environment = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
            "MPLBACKEND": "Agg",  # a plt.show() in the learner's file must not open a window
            "PYTHONHASHSEED": "0",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            cwd=str(self.path.parent),
            env=environment,
        )
        self.printed: dict = {"lines": 0, "first": []}
        # The child's own start (Python, NumPy, the checker) is not the learner's time: on a
        # busy machine it can take seconds, so --timeout starts once the child says it is ready.
        self._read("starting the checker's child process", max(60.0, timeout))
        reply = self._ask({"path": str(self.path), "defs_only": defs_only}, "loading the file")
        if "load_error" in reply:
            raise Unchecked(f"your file did not load: {reply['load_error']}")
        self.functions: dict[str, dict] = reply["functions"]
        self.skipped: list[str] = reply["skipped"]
        self.available: set[str] = set(reply["available"])

    def _ask(self, message: dict, doing: str) -> dict:
        try:
            _send(self.process.stdin, message)
        except (BrokenPipeError, OSError):
            raise Unchecked(self._ended(doing)) from None
        return self._read(doing, self.timeout)

    def _read(self, doing: str, limit: float) -> dict:
        stream = self.process.stdout
        ready, _, _ = select.select([stream], [], [], limit)
        if not ready:
            self.close()
            raise Unchecked(
                f"your code did not finish within {self.timeout:g} s while {doing} "
                "(an endless loop, or training too long? see --timeout)"
            )
        try:
            reply = _receive(stream)
        except EOFError:
            raise Unchecked(self._ended(doing)) from None
        self.printed = reply.get("printed", self.printed)
        if "exited" in reply:
            self.close()
            raise Unchecked(f"your code {reply['exited']}; the check cannot continue")
        if reply.get("threads"):
            self.close()
            raise Unchecked(
                f"your code left thread(s) running while {doing}: "
                f"{', '.join(reply['threads'])}; the check cannot trust the results"
            )
        return reply

    def _ended(self, doing: str) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.close()
            code = None
        self._stderr.seek(0)
        tail = self._stderr.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        if code is not None and code < 0:
            what = f"crashed (signal {-code})"
        else:
            what = f"ended the process (os._exit or a crash, exit status {code})"
        return f"your code {what} while {doing}" + (f": {' / '.join(tail)}" if tail else "")

    def call(
        self,
        week: int,
        name: str,
        *args: Any,
        seed: int | None = None,
        substitute: tuple[str, ...] = (),
        target: str | None = None,
        **kwargs: Any,
    ) -> Call:
        """Call the learner's ``name`` on copies of ``args``, ``substitute`` replaced by the
        course's versions."""
        reply = self._ask(
            {
                "op": "call",
                "week": week,
                "name": name,
                "target": target or name,
                "args": encode(list(args)),
                "kwargs": encode(kwargs),
                "seed": seed,
                "substitute": list(substitute),
            },
            f"running {target or name}",
        )
        if "error" in reply:
            return Call(error=reply["error"], changed=reply.get("changed", []))
        return Call(value=decode(reply["value"]), changed=reply.get("changed", []))

    def close(self) -> None:
        """Stop the child (politely, then by force)."""
        if self.process.poll() is None:
            # Nothing of the child's is needed any more, and a learner's thread or atexit
            # handler must not hold the check up: stop it at once.
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(OSError):
                stream.close()
        self._stderr.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

"""Check a learner's own backward pass against autodiff and central differences, layer by layer.

:func:`check_backprop` runs a course-style forward and backward pass (yours or ours) on NumPy
arrays, then computes the same gradients two independent ways:

- **autodiff**: your forward pass runs unchanged on tinygrad_dl Tensors (NumPy dispatch) and the
  engine differentiates the cross-entropy cost; the course's ``dA^[l]`` are gradients of ``m J``,
  so they are compared with ``m`` times autodiff's ``dJ/dA^[l]``;
- **central differences**: ``(J(theta + eps) - J(theta - eps)) / (2 eps)`` per parameter entry.

The report lists, in backprop order (layer ``L`` first), the max abs difference and the relative
difference ``||a - b|| / (||a|| + ||b||)`` for every gradient, pass/fail, and the first layer where
your gradients part from the reference: that is where the bug is (a missing ``1/m``, a
transposed ``A^[l-1]``, the wrong ``g'``).

``python -m tinygrad_dl check`` (without ``--impl``) runs it on the project's own formulas over
random networks.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...gradcheck import central_differences
from .. import deep, logistic, shallow
from .._layout import is_tensor
from ..cost import cross_entropy_cost
from .compare import relative_difference

STYLES = ("deep", "shallow", "logistic")


def numerical_gradient(
    cost: Callable[[], float], array: np.ndarray, eps: float = 1e-6
) -> np.ndarray:
    """Central differences ``(J(theta + eps) - J(theta - eps)) / (2 eps)`` for every entry.

    ``array`` is perturbed in place, one entry at a time, and restored; ``cost()`` reads it.
    This is :func:`tinygrad_dl.gradcheck.central_differences` for a scalar ``J``.

    Parameters
    ----------
    cost : callable
        No arguments; returns the cost ``J`` as a float for the current contents of ``array``.
    array : ndarray of float64
        The parameter to differentiate with respect to.
    eps : float
        Step.

    Returns
    -------
    ndarray
        ``dJ/d array``, shaped like ``array``.
    """
    return central_differences(cost, array, eps).reshape(array.shape)


@dataclass
class GradientComparison:
    """One gradient of the learner compared with the references.

    ``*_max_abs`` and ``*_relative`` are ``None`` where that reference was not computed
    (central differences do not reach ``dA^[l]``; autodiff needs a forward that runs on
    Tensors).
    """

    name: str
    layer: int
    shape: tuple[int, ...]
    passed: bool
    autodiff_max_abs: float | None = None
    autodiff_relative: float | None = None
    numeric_max_abs: float | None = None
    numeric_relative: float | None = None
    note: str = ""


@dataclass
class BackpropReport:
    """The result of :func:`check_backprop`: one row per gradient, in backprop order."""

    style: str
    rows: list[GradientComparison] = field(default_factory=list)
    description: str = ""
    references: str = ""
    error: str | None = None

    @property
    def passed(self) -> bool:
        """True when the learner's code ran and every gradient matched."""
        return self.error is None and bool(self.rows) and all(row.passed for row in self.rows)

    @property
    def first_failure(self) -> GradientComparison | None:
        """The first gradient, in backprop order, that differs from the reference."""
        return next((row for row in self.rows if not row.passed), None)

    @property
    def first_failing_layer(self) -> int | None:
        """The layer of :attr:`first_failure` (``None`` when all pass)."""
        row = self.first_failure
        return None if row is None else row.layer

    def __bool__(self) -> bool:
        return self.passed

    def format(self) -> str:
        """The report as a text table."""
        lines = [f"check_backprop ({self.style}): {self.description}"]
        if self.references:
            lines.append(f"references: {self.references}")
        if self.error is not None:
            lines += ["", f"FAIL: {self.error}"]
            return "\n".join(lines)
        header = (
            f"{'layer':>5}  {'gradient':<8}  {'shape':<10}  {'max abs':>9}  {'rel diff':>9}  "
            f"{'max abs':>9}  {'rel diff':>9}  result"
        )
        groups = f"{'':<29}  {'vs autodiff':^20}  {'vs central diff':^20}"
        lines += ["", groups.rstrip(), header, "-" * len(header)]
        for row in self.rows:
            lines.append(
                f"{row.layer:>5}  {row.name:<8}  {str(row.shape):<10}  "
                f"{_number(row.autodiff_max_abs):>9}  {_number(row.autodiff_relative):>9}  "
                f"{_number(row.numeric_max_abs):>9}  {_number(row.numeric_relative):>9}  "
                f"{'pass' if row.passed else 'FAIL'}" + (f"  ({row.note})" if row.note else "")
            )
        lines.append("")
        failure = self.first_failure
        if failure is None:
            lines.append("PASS: every gradient matches the references.")
        else:
            lines.append(
                f"FAIL: first difference at layer {failure.layer}, {failure.name}"
                + (f": {failure.note}" if failure.note else "")
                + ". Look at that step of your backward pass (the usual bugs: a missing 1/m, "
                "a transposed A^[l-1] or W^[l], the wrong g')."
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"


def _detect_style(backward: Callable | None) -> str:
    if backward is None:
        return "logistic"
    try:
        signature = inspect.signature(backward).parameters.values()
    except (TypeError, ValueError):  # builtins and some callables have no signature
        return "deep"
    # Only the arguments without defaults count: ours take an optional hidden_activation.
    required = [p.name for p in signature if p.default is inspect.Parameter.empty]
    if len(required) == 4 or (required and required[0] in ("parameters", "params")):
        return "shallow"
    return "deep"


def _copy(parameters: dict[str, Any]) -> dict[str, np.ndarray]:
    return {key: np.array(value, dtype=np.float64) for key, value in parameters.items()}


def _describe(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" (at {Path(frame.filename).name}:{frame.lineno}: {frame.line})" if frame else ""
    return f"{type(error).__name__}: {error}{where}"


class _Style:
    """The learner's functions bound to one assignment's signatures, and the cost every
    reference differentiates. One subclass per week; ``check_backprop`` asks it, never a string.
    """

    name = ""
    signature = ""
    # The course's forward pass, for autodiff when the learner's does not run on Tensors.
    course_forward: Callable | None = None

    def __init__(self, forward: Callable, backward: Callable | None, Y: np.ndarray):
        self.forward, self.backward, self.Y = forward, backward, Y

    def check(self, parameters: dict[str, Any]) -> None:
        """Raise ValueError for parameters without the course's keys."""
        if not any(key.startswith("W") for key in parameters):
            raise ValueError(
                f"check_backprop: parameters must hold W1, b1, ...; got {sorted(parameters)}"
            )

    def num_layers(self, parameters: dict[str, Any]) -> int:
        return len(parameters) // 2

    def predictions(self, X: Any, parameters: dict[str, Any]) -> Any:
        return self.forward(X, parameters)[0]

    def cost(self, X: Any, parameters: dict[str, Any]) -> Any:
        return cross_entropy_cost(self.predictions(X, parameters), self.Y, "check_backprop")

    def gradients(self, X: np.ndarray, parameters: dict[str, np.ndarray]) -> dict[str, Any]:
        raise NotImplementedError

    def inputs_of_layers(self, caches: Any) -> dict[str, Any]:
        """The ``A^[l-1]`` Tensors in the caches, for the reference ``dA^[l-1]`` (deep only)."""
        return {}

    def order(self, names: list[str], num_layers: int) -> list[str]:
        """The gradients in backprop order, layer ``L`` first."""
        return sorted(names, key=lambda name: (-self.layer_of(name, num_layers), name[1]))

    def layer_of(self, name: str, num_layers: int) -> int:
        digits = "".join(character for character in name if character.isdigit())
        number = int(digits) if digits else num_layers
        return number + 1 if name.startswith("dA") else number


class _Deep(_Style):
    name = "deep"
    signature = "forward(X, parameters) -> (AL, caches); backward(AL, Y, caches) -> grads"
    course_forward = staticmethod(deep.L_model_forward)

    def gradients(self, X: np.ndarray, parameters: dict[str, np.ndarray]) -> dict[str, Any]:
        output, caches = self.forward(X, parameters)
        return self.backward(output, self.Y, caches)

    def inputs_of_layers(self, caches: Any) -> dict[str, Any]:
        wanted = {}
        for l, cache in enumerate(caches if isinstance(caches, (list, tuple)) else [], start=1):
            try:
                A_prev = cache[0][0]
            except (TypeError, IndexError, KeyError):
                break
            if is_tensor(A_prev) and A_prev.requires_grad:
                wanted[f"dA{l - 1}"] = A_prev
        return wanted

    def order(self, names: list[str], num_layers: int) -> list[str]:
        order = []
        for l in range(num_layers, 0, -1):
            order += [f"dW{l}", f"db{l}"] + ([f"dA{l - 1}"] if f"dA{l - 1}" in names else [])
        return order


class _Shallow(_Style):
    name = "shallow"
    signature = "forward(X, parameters) -> (A2, cache); backward(parameters, cache, X, Y) -> grads"
    course_forward = staticmethod(shallow.forward_propagation)

    def gradients(self, X: np.ndarray, parameters: dict[str, np.ndarray]) -> dict[str, Any]:
        _, cache = self.forward(X, parameters)
        return self.backward(parameters, cache, X, self.Y)


class _Logistic(_Style):
    name = "logistic"
    signature = "propagate(w, b, X, Y) -> (grads, cost), passed as forward with backward=None"

    def check(self, parameters: dict[str, Any]) -> None:
        if set(parameters) != {"w", "b"}:
            raise ValueError(
                f"check_backprop: propagate-style checks need parameters {{'w', 'b'}}, got "
                f"{sorted(parameters)}"
            )

    def num_layers(self, parameters: dict[str, Any]) -> int:
        return 1

    def predictions(self, X: Any, parameters: dict[str, Any]) -> Any:
        # propagate returns no predictions: the course's forward stands in (same formula).
        return logistic.forward(parameters["w"], parameters["b"], X)

    def gradients(self, X: np.ndarray, parameters: dict[str, np.ndarray]) -> dict[str, Any]:
        grads, cost = self.forward(parameters["w"], float(parameters["b"]), X, self.Y)
        return {**grads, "cost": cost}

    def order(self, names: list[str], num_layers: int) -> list[str]:
        return ["dw", "db", "cost"] if "cost" in names else ["dw", "db"]

    def layer_of(self, name: str, num_layers: int) -> int:
        return 1


_STYLE_CLASSES = {style.name: style for style in (_Deep, _Shallow, _Logistic)}
STYLES = tuple(_STYLE_CLASSES)


def _autodiff(
    run: _Style, X: np.ndarray, parameters: dict[str, np.ndarray]
) -> tuple[dict[str, np.ndarray], str]:
    """Reference gradients by the engine: ``dJ/dtheta`` and ``m dJ/dA^[l]``, with a label."""
    import tinygrad_dl as tg

    m = X.shape[1]

    def differentiate(forward: Callable) -> dict[str, np.ndarray]:
        tensors = {key: tg.Tensor(value, requires_grad=True) for key, value in parameters.items()}
        X_t = tg.Tensor(X, requires_grad=True)
        output, caches = forward(X_t, tensors)
        J = cross_entropy_cost(output, run.Y, "check_backprop")
        wanted = {f"d{key}": tensor for key, tensor in tensors.items()}
        wanted.update(run.inputs_of_layers(caches))
        results = tg.grad(J, list(wanted.values()), allow_unused=True)
        reference = {}
        for name, result in zip(wanted, results):
            if result is None and not name.startswith("dA"):
                # A parameter the graph does not reach: the forward left the Tensor world
                # somewhere (np.asarray, .data), so these numbers would be wrong zeros.
                raise RuntimeError(f"the autodiff graph does not reach {name[1:]}")
            value = np.zeros(wanted[name].shape) if result is None else result.data
            reference[name] = value * m if name.startswith("dA") else value
        return reference

    if isinstance(run, _Logistic):

        def forward(X_t: Any, tensors: dict[str, Any]) -> tuple[Any, None]:
            return logistic.forward(tensors["w"], tensors["b"], X_t), None

        reference = differentiate(forward)
        cost = cross_entropy_cost(logistic.forward(parameters["w"], parameters["b"], X), run.Y)
        reference["cost"] = np.float64(cost)
        return reference, "autodiff of the course's logistic cost (tinygrad_dl)"
    try:
        return differentiate(run.forward), "autodiff of your forward pass (tinygrad_dl)"
    except Exception as error:  # the learner's forward may not run on Tensors; say so
        reason = _describe(error)
    fallback = run.course_forward
    if fallback is not None:
        mine = fallback(X, parameters)[0]
        theirs = run.forward(X, _copy(parameters))[0]
        if np.allclose(np.asarray(mine), np.asarray(theirs), rtol=1e-10, atol=1e-14):
            return differentiate(fallback), (
                "autodiff of the course's forward pass, which gives the same output as yours "
                f"(yours does not run on Tensors: {reason})"
            )
    raise RuntimeError(f"your forward pass does not run on Tensors: {reason}")


def _central_differences(
    run: _Style, X: np.ndarray, parameters: dict[str, np.ndarray], eps: float, max_entries: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``(J(theta + eps) - J(theta - eps)) / (2 eps)`` for up to ``max_entries`` per parameter.

    Returns, per gradient name, the flat indices probed and the derivatives there.
    """
    work = _copy(parameters)
    picker = np.random.RandomState(0)
    result = {}
    for key, value in work.items():
        indices = np.arange(value.size)
        if value.size > max_entries:
            indices = np.sort(picker.choice(value.size, max_entries, replace=False))
        derivatives = central_differences(lambda: run.cost(X, work), value, eps, indices)
        result[f"d{key}"] = (indices, derivatives[:, 0])
    return result


def _compare(
    name: str,
    layer: int,
    theirs: Any,
    reference: np.ndarray | None,
    numeric: tuple[np.ndarray, np.ndarray] | None,
    rtol: float,
    numeric_rtol: float,
) -> GradientComparison:
    expected_shape = tuple(np.shape(reference if reference is not None else theirs))
    row = GradientComparison(name, layer, expected_shape, passed=False)
    if theirs is None:
        row.note = f"{name} is missing from your grads"
        return row
    if is_tensor(theirs):
        theirs = theirs.data
    theirs = np.asarray(theirs, dtype=np.float64)
    if reference is not None and theirs.shape != reference.shape:
        scalar_like = reference.size == 1 and theirs.size == 1
        if not scalar_like:
            row.note = f"{name} has shape {theirs.shape}, expected {reference.shape}"
            row.shape = theirs.shape
            return row
        theirs = theirs.reshape(reference.shape)
    if not np.all(np.isfinite(theirs)):
        row.note = f"{name} contains NaN or inf"
        return row
    autodiff_ok = numeric_ok = references_agree = True
    if reference is not None:
        row.autodiff_max_abs = float(np.max(np.abs(theirs - reference), initial=0.0))
        row.autodiff_relative = relative_difference(theirs, reference)
        autodiff_ok = row.autodiff_relative <= rtol
    if numeric is not None:
        indices, derivatives = numeric
        if theirs.size <= int(np.max(indices, initial=-1)):
            row.note = f"{name} has {theirs.size} entries, expected at least {indices.max() + 1}"
            return row
        probed = theirs.reshape(-1)[indices]
        row.numeric_max_abs = float(np.max(np.abs(probed - derivatives), initial=0.0))
        row.numeric_relative = relative_difference(probed, derivatives)
        numeric_ok = row.numeric_relative <= numeric_rtol
        if reference is not None:
            references_agree = (
                relative_difference(reference.reshape(-1)[indices], derivatives) <= numeric_rtol
            )
    if reference is not None:
        # When the two references disagree with each other, central differences straddled a
        # kink (ReLU at Z = 0) or lost precision: the exact autodiff value decides.
        row.passed = autodiff_ok and (numeric_ok or not references_agree)
        if autodiff_ok and not numeric_ok and not references_agree:
            row.note = (
                "central differences off here (a ReLU kink within eps, or rounding); "
                "autodiff decides"
            )
    else:
        row.passed = numeric_ok
    if not row.passed and not row.note:
        worst = row.autodiff_relative if reference is not None else row.numeric_relative
        row.note = f"relative difference {worst:.2e}"
    return row


def check_backprop(
    forward: Callable,
    backward: Callable | None,
    parameters: dict[str, Any],
    X: Any,
    Y: Any,
    *,
    style: str | None = None,
    rtol: float = 1e-7,
    numeric_rtol: float = 1e-5,
    eps: float = 1e-6,
    max_numeric_entries: int = 200,
) -> BackpropReport:
    """Compare a course-style backward pass with autodiff and central differences.

    Parameters
    ----------
    forward : callable
        ``L_model_forward(X, parameters) -> (AL, caches)`` (week 4),
        ``forward_propagation(X, parameters) -> (A2, cache)`` (week 3), or
        ``propagate(w, b, X, Y) -> (grads, cost)`` (week 2, with ``backward=None``).
    backward : callable or None
        ``L_model_backward(AL, Y, caches) -> grads`` with ``dA{l-1}``, ``dW{l}``, ``db{l}``;
        ``backward_propagation(parameters, cache, X, Y) -> grads``; ``None`` for ``propagate``.
    parameters : dict
        ``W1``, ``b1``, ... (or ``w``, ``b``); not modified.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    style : {"deep", "shallow", "logistic"}, optional
        Which signatures to expect; guessed from ``backward`` when omitted.
    rtol : float
        Largest relative difference ``||a - b|| / (||a|| + ||b||)`` accepted against autodiff.
    numeric_rtol : float
        The same against central differences (which carry ``O(eps^2)`` and rounding error).
    eps : float
        Central-difference step.
    max_numeric_entries : int
        Central differences probe at most this many entries of each parameter (a fixed random
        subset), so large layers stay quick.

    Returns
    -------
    BackpropReport
        Per gradient (layer ``L`` first): max abs and relative differences to each reference,
        pass/fail; ``report.first_failure`` names the first layer and gradient that differ.
        Exceptions raised by the learner's functions are caught and reported as a failure.

    Raises
    ------
    ValueError
        For an unknown ``style`` or parameters without the course's keys.
    """
    style = style or _detect_style(backward)
    if style not in STYLES:
        raise ValueError(f"check_backprop: style must be one of {STYLES}, got {style!r}")
    parameters = _copy(parameters)
    X = np.array(X, dtype=np.float64)
    Y = np.array(Y, dtype=np.float64)
    run = _STYLE_CLASSES[style](forward, backward, Y)
    run.check(parameters)
    m = X.shape[1] if X.ndim == 2 else 0
    num_layers = run.num_layers(parameters)
    report = BackpropReport(style, description=f"{num_layers} layer(s), m = {m}, {run.signature}")
    try:
        grads = run.gradients(X, _copy(parameters))
    except Exception as error:
        report.error = f"your code raised {_describe(error)}"
        return report
    if not isinstance(grads, dict):
        report.error = f"your backward pass returned {type(grads).__name__}, expected a dict"
        return report
    try:
        reference, label = _autodiff(run, X, parameters)
    except Exception as error:
        reference, label = {}, f"no autodiff ({error})"
    try:
        numeric = _central_differences(run, X, parameters, eps, max_numeric_entries)
        numeric_label = f"central differences (eps={eps:g})"
    except Exception as error:
        numeric, numeric_label = {}, f"no central differences ({_describe(error)})"
    if not reference and not numeric:
        report.error = f"no reference could be computed: {label}; {numeric_label}"
        return report
    report.references = f"{label}; {numeric_label}"
    for name in run.order(list(reference) or list(numeric), num_layers):
        if name.startswith("dA") and name not in grads:
            continue  # dA^[l] are by-products; a backward pass that drops them is not wrong
        report.rows.append(
            _compare(
                name,
                run.layer_of(name, num_layers),
                grads.get(name),
                reference.get(name),
                numeric.get(name),
                rtol,
                numeric_rtol,
            )
        )
    return report


# ---- the `python -m tinygrad_dl check` command -------------------------------------------------

# Each network has a ReLU hidden layer of width >= 2 and m >= 2, so a transposed or misplaced
# term changes the numbers; the square one (n_l = n_{l-1} = m) turns transposition bugs into
# wrong values rather than shape errors.
DEEP_NETWORKS: tuple[tuple[tuple[int, ...], int], ...] = (
    ((3, 2, 1), 5),
    ((4, 4, 4, 1), 4),
    ((5, 4, 3, 2, 1), 6),
)
SHALLOW_NETWORK = ((3, 4, 1), 5)
LOGISTIC_FEATURES, LOGISTIC_EXAMPLES = 3, 5


def random_network(
    layer_dims: Sequence[int], m: int, seed: int = 0, margin: float = 1e-3
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """A random ReLU network and data on which every hidden layer has active and idle units.

    Draws ``W^[l] = randn / sqrt(n_{l-1})``, ``b^[l] = 0.1 randn``, ``X = randn(n_x, m)`` and 0/1
    labels with both classes, retrying seeds until each hidden ``Z^[l]`` has entries on both sides
    of 0 and none within ``margin`` of it (so a wrong ``g'`` shows, and central differences
    never straddle the kink).

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_x, n_1, ..., n_L]`` with ``n_L = 1``.
    m : int
        Number of examples (at least 2).
    seed : int
        First seed tried.
    margin : float
        Smallest ``|Z^[l]|`` accepted in hidden layers.

    Returns
    -------
    parameters, X, Y

    Raises
    ------
    ValueError
        If ``m < 2`` or the output layer is not of width 1.
    """
    if m < 2 or layer_dims[-1] != 1:
        raise ValueError(
            f"random_network: need m >= 2 and an output layer of width 1, got m={m}, "
            f"layer_dims={list(layer_dims)}"
        )
    for attempt in range(seed, seed + 1000):
        rng = np.random.RandomState(attempt)
        parameters = deep.initialize_parameters_deep(layer_dims, attempt, scaling="sqrt")
        for l in range(1, len(layer_dims)):
            parameters[f"b{l}"] = 0.1 * rng.randn(layer_dims[l], 1)
        X = rng.randn(layer_dims[0], m)
        Y = (np.arange(m) % 2).reshape(1, m).astype(np.float64)
        rng.shuffle(Y[0])
        _, caches = deep.L_model_forward(X, parameters)
        hidden = [cache[1] for cache in caches[:-1]]
        if all((Z > 0).any() and (Z < 0).any() and np.abs(Z).min() > margin for Z in hidden):
            return parameters, X, Y
    raise RuntimeError(f"random_network: no suitable draw for {list(layer_dims)}")


def backprop_checks(module: Any, seed: int) -> list[tuple[str, BackpropReport]]:
    """Every check the module's functions allow, on the command's random networks."""
    functions = {
        name: getattr(module, name, None)
        for name in (
            "L_model_forward",
            "L_model_backward",
            "forward_propagation",
            "backward_propagation",
            "propagate",
        )
    }
    results = []
    if functions["L_model_forward"] and functions["L_model_backward"]:
        for number, (dims, m) in enumerate(DEEP_NETWORKS):
            parameters, X, Y = random_network(dims, m, seed + 100 * number)
            report = check_backprop(
                functions["L_model_forward"],
                functions["L_model_backward"],
                parameters,
                X,
                Y,
                style="deep",
            )
            results.append((f"L_model_backward on layer_dims={list(dims)}, m={m}", report))
    if functions["forward_propagation"] and functions["backward_propagation"]:
        (n_x, n_h, n_y), m = SHALLOW_NETWORK
        rng = np.random.RandomState(seed)
        parameters = {
            "W1": rng.randn(n_h, n_x),
            "b1": 0.1 * rng.randn(n_h, 1),
            "W2": rng.randn(n_y, n_h),
            "b2": 0.1 * rng.randn(n_y, 1),
        }
        X, Y = rng.randn(n_x, m), (rng.rand(1, m) < 0.5).astype(np.float64)
        report = check_backprop(
            functions["forward_propagation"],
            functions["backward_propagation"],
            parameters,
            X,
            Y,
            style="shallow",
        )
        results.append((f"backward_propagation on n_x={n_x}, n_h={n_h}, m={m}", report))
    if functions["propagate"]:
        rng = np.random.RandomState(seed)
        parameters = {"w": rng.randn(LOGISTIC_FEATURES, 1), "b": float(rng.randn())}
        X = rng.randn(LOGISTIC_FEATURES, LOGISTIC_EXAMPLES)
        Y = (rng.rand(1, LOGISTIC_EXAMPLES) < 0.5).astype(np.float64)
        report = check_backprop(functions["propagate"], None, parameters, X, Y, style="logistic")
        results.append((f"propagate on n_x={LOGISTIC_FEATURES}, m={LOGISTIC_EXAMPLES}", report))
    return results


class CourseFunctions:
    """The project's own formulas under the course's names."""

    L_model_forward = staticmethod(deep.L_model_forward)
    L_model_backward = staticmethod(deep.L_model_backward)
    forward_propagation = staticmethod(shallow.forward_propagation)
    backward_propagation = staticmethod(shallow.backward_propagation)
    propagate = staticmethod(logistic.propagate)


def whole_backward_notes(
    cost: Callable[[dict[str, Any]], Any], parameters: dict[str, Any], grads: dict[str, Any]
) -> list[str]:
    """The learner's whole backward pass against autodiff and central differences of ``J``.

    ``cost(parameters)`` is the course's forward pass and cross-entropy; it runs on arrays (for
    central differences) and on Tensors (for autodiff). The checker's verdict compares with the
    course's formulas; these two independent references are shown under ``--verbose``.

    Returns
    -------
    list of str
        One line per parameter: ``dW1: vs autodiff 1.2e-16, vs central differences 3.4e-10``.
    """
    import tinygrad_dl as tg

    tensors = {key: tg.Tensor(np.array(value, dtype=np.float64), requires_grad=True)
               for key, value in parameters.items()}  # fmt: skip
    results = tg.grad(cost(tensors), list(tensors.values()))
    autodiff = {key: result.data for key, result in zip(tensors, results)}
    work = {key: np.array(value, dtype=np.float64) for key, value in parameters.items()}
    notes = []
    for key, value in work.items():
        numeric = central_differences(lambda: cost(work), value)[:, 0]
        theirs = grads.get(f"d{key}") if isinstance(grads, dict) else None
        if theirs is None or np.size(theirs) != value.size:
            continue
        theirs = np.ravel(np.asarray(theirs, dtype=np.float64))
        notes.append(
            f"d{key}: vs autodiff {relative_difference(theirs, autodiff[key].ravel()):.1e}, "
            f"vs central differences {relative_difference(theirs, numeric):.1e}"
        )
    return notes

"""One check of a learner's file: find its week, check each graded function bottom-up.

:func:`check_file` loads the file in a :class:`~.load.Child`, picks the week whose graded
functions the file defines, and runs that week's checks in the course's order. A function that
fails is reported once; every later call runs with the course's version in its place
(``substitute``), so one bug gives one diagnosis. Each call gets fresh copies of its inputs; a
function that changes one of them in place fails with that as its diagnosis, and the reference
never sees the changed data (it runs in this process on its own copies).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .load import Call, Child, Opaque, Unchecked

# Inputs a function may rebind in place: the course's own week-4 template updates the
# parameters dict it is given (``parameters["W" + str(l+1)] = ...``) and returns it.
MAY_CHANGE = {("update_parameters", "parameters"), ("update_parameters", "params")}


class Failed(Exception):
    """Raised inside a week's check with the diagnosis of the function being checked."""


@dataclass
class FunctionResult:
    """The verdict on one graded function."""

    name: str
    passed: bool
    problem: str | None = None
    notes: list[str] = field(default_factory=list)
    substituted: list[str] = field(default_factory=list)


@dataclass
class FileReport:
    """Everything the report prints: per-function verdicts, what was skipped and printed."""

    path: str
    week: int | None = None
    results: list[FunctionResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    printed: dict = field(default_factory=lambda: {"lines": 0, "first": []})
    unchecked: str | None = None
    mode: str = "all statements"

    @property
    def exit_code(self) -> int:
        """0 all pass, 1 a function fails, 2 the code could not be checked."""
        if self.unchecked is not None:
            return 2
        return 0 if all(result.passed for result in self.results) else 1


class Session:
    """The learner's functions as the week's checks see them."""

    def __init__(self, child: Child, week: int):
        self.child = child
        self.week = week
        self.failed: list[str] = []
        self.notes: list[str] = []
        self.current = ""

    def defines(self, name: str) -> bool:
        """True when the learner's file itself defines ``name``."""
        return name in self.child.functions

    def required(self, name: str) -> list[str]:
        """The learner's ``name``'s parameters without defaults, by name."""
        return self.child.functions.get(name, {}).get("required", [])

    def note(self, text: str) -> None:
        """A remark shown only under ``--verbose``."""
        self.notes.append(text)

    def call(self, name: str, *args: Any, seed: int | None = None, **kwargs: Any) -> Call:
        """Call ``name`` in the child, with every failed function replaced by the course's."""
        substitute = tuple(f for f in self.failed if f != name)
        return self.child.call(self.week, name, *args, seed=seed, substitute=substitute, **kwargs)

    def run(self, name: str, *args: Any, seed: int | None = None, **kwargs: Any) -> Any:
        """:meth:`call`, raising :class:`Failed` on an error or an input changed in place."""
        result = self.call(name, *args, seed=seed, **kwargs)
        if result.error is not None:
            raise Failed(f"{name} raised {result.error}")
        changed = [arg for arg in result.changed if (name, arg) not in MAY_CHANGE]
        if changed:
            raise Failed(
                f"{name} changed {' and '.join(changed)} in place: work on a copy "
                "(e.g. dZ = np.array(dA, copy=True)) so the caller's data stays as it was"
            )
        return result.value


def unpack(function: str, value: Any, names: tuple[str, ...]) -> tuple:
    """``value`` as a tuple of ``len(names)`` items, or :class:`Failed` saying what came back."""
    if isinstance(value, (tuple, list)) and len(value) == len(names):
        return tuple(value)
    if isinstance(value, (tuple, list)):
        got = f"{len(value)} values"
    else:
        got = f"a {value.name if isinstance(value, Opaque) else type(value).__name__}"
    raise Failed(f"{function} returned {got}, expected {len(names)}: {', '.join(names)}")


def run_checks(
    session: Session, checks: dict[str, Callable[[Session], None]]
) -> list[FunctionResult]:
    """Each check in order, for the functions the learner defines; failures substituted after."""
    results = []
    for name, check in checks.items():
        if not session.defines(name):
            continue
        session.notes, session.current = [], name
        substituted = [f for f in session.failed if f != name]
        try:
            check(session)
            result = FunctionResult(name, True)
        except Failed as failure:
            result = FunctionResult(name, False, str(failure))
            session.failed.append(name)
        except Unchecked:
            raise
        except Exception as error:
            # What the learner's function returned did not fit the course's reference at all
            # (a dict with other keys, a list for an array): a failure of that function, never
            # a crash of the checker.
            problem = f"{name}: its results could not be compared: {type(error).__name__}: {error}"
            result = FunctionResult(name, False, problem)
            session.failed.append(name)
        result.notes, result.substituted = session.notes, substituted
        results.append(result)
    return results


def detect_week(functions: dict[str, dict]) -> int | None:
    """The week whose distinctive graded functions the file defines most of."""
    from . import week2, week3, week4

    scores = {
        module.WEEK: sum(name in functions for name in module.DISTINCTIVE)
        for module in (week2, week3, week4)
    }
    best = max(scores, key=lambda week: scores[week])
    if scores[best]:
        return best
    if "sigmoid" in functions:  # every week has a sigmoid; alone, it is week 2's first exercise
        return 2
    shared = {"initialize_parameters", "compute_cost", "update_parameters", "predict"}
    if shared & set(functions):
        # Only names weeks 3 and 4 share: the signatures decide (week 4's predict has 3 args).
        return 4 if len(functions.get("predict", {}).get("required", [])) == 3 else 3
    return None


def check_file(
    path: str | Path, *, defs_only: bool = False, timeout: float = 60.0, week: int | None = None
) -> FileReport:
    """Check every graded function a learner's ``.py`` or ``.ipynb`` file defines.

    Parameters
    ----------
    path : str or Path
        The learner's file; it is executed (in a child process).
    defs_only : bool
        Run only imports, definitions and constant assignments (always so for notebooks).
    timeout : float
        Seconds allowed for loading and for each call.
    week : {2, 3, 4}, optional
        Which assignment; found from the function names when omitted.

    Returns
    -------
    FileReport
    """
    from . import week2, week3, week4

    path = Path(path)
    notebook = path.suffix == ".ipynb"
    mode = "definitions only" if notebook or defs_only else "all statements"
    report = FileReport(str(path), mode=mode)
    if not path.is_file():
        report.unchecked = f"{path}: no such file"
        return report
    child = None
    try:
        child = Child(path, defs_only=defs_only or notebook, timeout=timeout)
        report.skipped = child.skipped
        report.week = week or detect_week(child.functions)
        if report.week is None:
            report.unchecked = (
                f"{path.name} defines none of the course's graded functions (week 2: propagate, "
                "optimize, ...; week 3: forward_propagation, ...; week 4: L_model_forward, ...)"
            )
            return report
        module = {2: week2, 3: week3, 4: week4}[report.week]
        report.results = run_checks(Session(child, report.week), module.CHECKS)
    except Unchecked as problem:
        report.unchecked = str(problem)
    finally:
        if child is not None:
            report.printed = child.printed
            child.close()
    return report

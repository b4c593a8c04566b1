"""The report a learner reads, ``--json`` for tools, and ``python -m tinygrad_dl check``.

One line per graded function (PASS / FAIL), the diagnosis under each failure, what the
definitions-only mode skipped, a summary of what the learner's code printed, and the verdict.
Exit status: 0 every function passes, 1 a function fails, 2 the code could not be checked (it
did not load, exited, crashed, hung or left a thread running).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .session import FileReport, check_file


def format_report(report: FileReport, verbose: bool = False) -> str:
    """The report as text."""
    week = f"week {report.week}" if report.week else "week unknown"
    lines = [f"Checking {report.path} ({week}, {report.mode})"]
    if report.skipped:
        lines.append(f"Skipped {len(report.skipped)} statement(s):")
        shown = report.skipped if verbose else report.skipped[:5]
        lines += [f"    {text}" for text in shown]
        if len(shown) < len(report.skipped):
            lines.append(f"    ... and {len(report.skipped) - len(shown)} more (--verbose)")
    lines.append("")
    for result in report.results:
        lines.append(f"  {'PASS' if result.passed else 'FAIL'}  {result.name}")
        if not result.passed:
            lines.append(f"        {result.problem}")
            if result.substituted:
                lines.append(f"        (checked with the course's {', '.join(result.substituted)})")
        if verbose:
            lines += [f"        note: {note}" for note in result.notes]
    printed = report.printed
    if printed.get("lines"):
        first = printed.get("first", [])
        lines += ["", f"Your code printed {printed['lines']} line(s); the first {len(first)}:"]
        lines += [f"    | {line}" for line in first]
    lines.append("")
    if report.unchecked is not None:
        lines.append(f"COULD NOT CHECK: {report.unchecked}")
    else:
        failed = [result.name for result in report.results if not result.passed]
        total = len(report.results)
        if failed:
            lines.append(f"{len(failed)} of {total} functions FAILED: {', '.join(failed)}")
        if failed and any(result.substituted for result in report.results):
            lines.append(
                "Fix the first one first: the functions after it were checked with the "
                "course's version in its place."
            )
        if not failed:
            lines.append(f"All {total} graded function{'s' if total != 1 else ''} passed.")
    return "\n".join(lines)


def report_json(report: FileReport) -> dict:
    """The report as JSON-ready data (``--json``)."""
    return {
        "file": report.path,
        "week": report.week,
        "mode": report.mode,
        "exit_code": report.exit_code,
        "status": {0: "pass", 1: "fail", 2: "unchecked"}[report.exit_code],
        "unchecked": report.unchecked,
        "functions": [
            {
                "name": result.name,
                "passed": result.passed,
                "diagnosis": result.problem,
                "checked_with_course_versions_of": result.substituted,
                "notes": result.notes,
            }
            for result in report.results
        ],
        "skipped": report.skipped,
        "printed": report.printed,
    }


def _own_formulas(seed: int) -> int:
    """Without ``--impl``: the project's own backprop against autodiff and central differences."""
    from .backprop import CourseFunctions, backprop_checks

    results = backprop_checks(CourseFunctions, seed)
    print("Checking tinygrad_dl.course (the project's own formulas)\n")
    for title, backprop_report in results:
        print(f"== {title}")
        print(backprop_report.format())
        print()
    failed = [title for title, backprop_report in results if not backprop_report.passed]
    if failed:
        print(f"{len(failed)} of {len(results)} checks FAILED: " + "; ".join(failed))
        return 1
    print(f"All {len(results)} checks passed.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m tinygrad_dl check [--impl FILE] [options]``; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments after ``check``.

    Returns
    -------
    int
        0 when everything passes, 1 on a failure, 2 when the file could not be checked.
    """
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_dl check",
        description=(
            "Check a learner's course assignment, function by function, against the course's "
            "formulas. --impl EXECUTES the given file (in a separate process with a timeout): "
            "run it only on code you trust. Without --impl, checks the project's own backprop "
            "against autodiff and central differences on random networks."
        ),
    )
    parser.add_argument(
        "--impl",
        metavar="FILE",
        help="your assignment (.py, or .ipynb notebook); it is executed. Weeks 2, 3 and 4 "
        "(parts 1 and 2) are recognised from the function names",
    )
    parser.add_argument(
        "--defs-only",
        action="store_true",
        help="run only the file's imports, definitions and constant assignments, skipping "
        "statements that train, plot or load data (always so for notebooks)",
    )
    parser.add_argument(
        "--timeout", type=float, default=60.0, help="seconds allowed to load and per call (60)"
    )
    parser.add_argument("--week", type=int, choices=(2, 3, 4), help="which assignment")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument(
        "--verbose", action="store_true", help="also show notes (central differences, skips)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the random networks (no --impl)"
    )
    args = parser.parse_args(argv)
    if not args.impl:
        return _own_formulas(args.seed)
    report = check_file(
        Path(args.impl), defs_only=args.defs_only, timeout=args.timeout, week=args.week
    )
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(format_report(report, args.verbose))
    sys.stdout.flush()
    return report.exit_code

"""The checker on a corpus of learner files (tests/checker_corpus/): weeks 2, 3 and 4 (parts 1
and 2), both versions of the assignments, notebooks and the course's helper modules beside them.

Each file says what the checker must find in its first lines (a notebook, in its metadata
``checker_corpus``):

- ``# expect: PASS``: every graded function passes, with no alarming note;
- ``# expect: FAIL name``: exit 1, and ``name`` is the only function that fails (one bug, one
  diagnosis: the functions that call it are checked with the course's version in its place);
- ``# expect: UNCHECKED``: exit 2 (the file exits, hangs, crashes or leaves a thread running);

plus ``# args:`` (command-line options) and ``# says:`` (text the report must contain).
The isolation probes are in ``probes/``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tinygrad_dl.course.checker import check_file, format_report, main, report_json

CORPUS = Path(__file__).parent / "checker_corpus"
HELPERS = {"dnn_utils.py", "testCases.py", "planar_utils.py", "lr_utils.py", "dnn_app_utils_v3.py"}
FILES = sorted(
    path
    for path in CORPUS.rglob("*")
    if path.suffix in (".py", ".ipynb") and path.name not in HELPERS
)


def _header(path: Path) -> dict[str, str]:
    if path.suffix == ".ipynb":  # a notebook says it in its metadata
        return json.loads(path.read_text())["metadata"]["checker_corpus"]
    return dict(re.findall(r"^# (expect|args|says|bug): (.*)$", path.read_text(), re.MULTILINE))


def _options(header: dict[str, str]) -> dict:
    args = header.get("args", "").split()
    options = {"defs_only": "--defs-only" in args}
    if "--timeout" in args:
        options["timeout"] = float(args[args.index("--timeout") + 1])
    return options


def test_the_corpus_covers_every_week_both_versions_notebooks_and_probes():
    names = {path.relative_to(CORPUS).as_posix() for path in FILES}
    assert len(FILES) >= 30
    for folder in ("week2/", "week3/", "week4/", "week4_app/", "probes/"):
        assert any(name.startswith(folder) for name in names), folder
    assert any(name.endswith(".ipynb") for name in names)
    assert any("old" in name for name in names)
    bugs = [path for path in FILES if _header(path)["expect"].startswith("FAIL")]
    assert len(bugs) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.relative_to(CORPUS).as_posix())
def test_each_file_is_caught_localised_or_passed_as_its_header_says(path):
    header = _header(path)
    report = check_file(path, **_options(header))
    text = format_report(report)
    expect = header["expect"]
    if expect == "PASS":
        assert report.exit_code == 0, text
        assert report.results and all(result.passed for result in report.results), text
        assert "FAIL" not in text and "note:" not in text and "central differences" not in text
    elif expect == "UNCHECKED":
        assert report.exit_code == 2, text
        assert "COULD NOT CHECK" in text
    else:
        function = expect.split()[1]
        assert report.exit_code == 1, text
        failed = [result.name for result in report.results if not result.passed]
        assert failed == [function], text
        problem = next(r.problem for r in report.results if not r.passed)
        assert problem.startswith(function), problem  # the diagnosis names the function
    if "says" in header:
        assert header["says"] in text, text


def test_the_command_prints_json_for_tools_with_the_same_verdict(capsys):
    path = CORPUS / "week4" / "linear_backward_db_axis0.py"
    assert main(["--impl", str(path), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "fail" and data["exit_code"] == 1 and data["week"] == 4
    failed = [entry for entry in data["functions"] if not entry["passed"]]
    assert [entry["name"] for entry in failed] == ["linear_backward"]
    assert "wrong axis" in failed[0]["diagnosis"]
    later = next(entry for entry in data["functions"] if entry["name"] == "L_model_backward")
    assert later["passed"] and later["checked_with_course_versions_of"] == ["linear_backward"]
    assert report_json(check_file(path))["functions"] == data["functions"]


def test_a_notebook_lists_what_definitions_only_mode_skipped_and_summarises_prints():
    report = check_file(CORPUS / "week3" / "notebook.ipynb")
    assert report.mode == "definitions only"
    skipped = "\n".join(report.skipped)
    assert "X, Y = load_planar_dataset()" in skipped
    assert "parameters = nn_model(X, Y, n_h = 4" in skipped
    assert "pip install" not in skipped and "%matplotlib" not in skipped  # magics are dropped
    report = check_file(CORPUS / "week4" / "correct.py")
    assert report.printed["lines"] == 1 and report.printed["first"][0].startswith("Z = [[")
    assert "Your code printed 1 line(s); the first 1:" in format_report(report)


def test_a_file_that_trains_at_import_passes_with_or_without_defs_only():
    path = CORPUS / "week4_app" / "correct.py"
    every = check_file(path)  # the training statements raise (no data here): listed, skipped
    assert every.exit_code == 0 and every.mode == "all statements"
    assert any("load_data()" in text for text in every.skipped)
    only = check_file(path, defs_only=True)
    assert only.exit_code == 0 and only.mode == "definitions only"
    assert any("L_layer_model(train_x" in text for text in only.skipped)


def test_a_top_level_test_call_that_trips_over_the_bug_does_not_hide_it(tmp_path):
    source = (CORPUS / "week4" / "linear_forward_no_bias.py").read_text()
    path = tmp_path / "assignment.py"
    for helper in ("dnn_utils.py", "testCases.py"):
        (tmp_path / helper).write_text((CORPUS / "week4" / helper).read_text())
    path.write_text(source + "\nassert np.allclose(Z, [[3.26295337, -1.23429987]])\n")
    report = check_file(path)
    assert report.exit_code == 1 and [r.name for r in report.results if not r.passed] == [
        "linear_forward"
    ]
    assert any("AssertionError" in text for text in report.skipped)


def test_a_file_that_does_not_parse_cannot_be_checked(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("def propagate(w, b, X, Y:\n    pass\n")
    report = check_file(path)
    assert report.exit_code == 2 and "syntax error at line 1" in report.unchecked


def test_a_file_with_no_graded_function_or_a_missing_file_cannot_be_checked(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    assert "none of the course's graded functions" in check_file(empty).unchecked
    assert check_file(tmp_path / "missing.py").exit_code == 2


def test_the_example_assignment_passes_every_function_it_defines(capsys):
    example = Path(__file__).parents[1] / "examples" / "my_assignment.py"
    assert main(["--impl", str(example)]) == 0
    out = capsys.readouterr().out
    assert "PASS  L_model_forward" in out and "PASS  L_model_backward" in out
    assert "All 2 graded functions passed." in out


def test_help_says_that_impl_executes_the_file(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "--impl EXECUTES the given file" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("week", ["week2", "week3", "week4"])
def test_verbose_shows_the_whole_backward_against_autodiff_and_central_differences(week):
    report = check_file(CORPUS / week / "correct.py")
    quiet, verbose = format_report(report), format_report(report, verbose=True)
    assert "vs autodiff" not in quiet
    notes = re.findall(r"vs autodiff (\S+), vs central differences (\S+)", verbose)
    assert len(notes) >= 2
    assert all(float(a) < 1e-12 and float(c) < 1e-6 for a, c in notes), verbose

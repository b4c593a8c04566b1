"""benchmarks/gpu_check.py: its dry run (array_api_strict on the CPU) runs the GPU path's own code
(the benchmark's workloads, runners and timing, the table and its file under $OUT) with only the
device changed, and a failing test run makes it exit non-zero."""

import numpy as np
import pytest

pytest.importorskip("array_api_strict")

from benchmarks import baselines, frameworks, gpu_check  # noqa: E402


def test_dry_run_times_every_case_and_writes_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OUT", str(tmp_path))
    status = gpu_check.main(["--dry-run", "--skip-tests", "--budget", "0.01"])
    printed = capsys.readouterr().out
    table = (tmp_path / "gpu_check_dry_run.md").read_text()
    assert status == 0, printed
    cases = [w.key for w in gpu_check.cases(dry_run=True)]
    assert len(cases) == 4 and {"float32", "float64"} == {c.split()[-1] for c in cases}
    for case in cases:
        row = next(line for line in table.splitlines() if line.startswith(f"| {case} |"))
        assert "error" not in row and "grad differs" not in row, row
        ratio = row.rstrip(" |").rsplit("|", 1)[-1].strip()
        assert ratio.endswith("x") and float(ratio[:-1]) > 0, row


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_engine_and_lean_steps_on_the_strict_device_equal_the_course_step_on_numpy(case):
    workload = gpu_check.cases(dry_run=True)[case]
    course = baselines.Course(workload)
    course.step()
    tolerance = 1e-4 if workload.dtype == "float32" else 1e-10
    for name in ("lean", "engine"):
        runner = frameworks.make(name, workload, "array_api_strict")
        runner.step()
        for param, (key, expected) in zip(runner.params, course.params.items()):
            data = getattr(param, "data", param)
            assert type(data).__module__.startswith("array_api_strict"), type(data)
            got = baselines.backend.to_numpy(data)
            np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance, err_msg=key)
            if key.startswith("W"):
                assert not np.array_equal(got, workload.params[key]), f"{key} did not change"


def test_a_failing_test_run_exits_non_zero(monkeypatch, tmp_path):
    monkeypatch.setenv("OUT", str(tmp_path))
    monkeypatch.setattr(gpu_check, "run_tests", lambda backend, timeout_s: (False, "1 failed"))
    monkeypatch.setattr(gpu_check, "cases", lambda dry_run: [])
    assert gpu_check.main(["--dry-run", "--budget", "0.01"]) == 1
    assert "backend tests: FAILED (1 failed)" in (tmp_path / "gpu_check_dry_run.md").read_text()


def test_without_cupy_it_says_how_to_install_and_exits_2(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)
    assert gpu_check.main(["--skip-tests"]) == 2
    assert "pip install 'tinygrad-dl[gpu]'" in capsys.readouterr().out

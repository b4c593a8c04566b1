"""benchmarks/gpu_check.py: its dry run (array_api_strict on the CPU) exercises the whole GPU
plumbing (workloads, every implementation, timing, the table and its file under $OUT), and a
failing test run makes it exit non-zero."""

import pytest

pytest.importorskip("array_api_strict")

from benchmarks import gpu_check  # noqa: E402


def test_dry_run_times_every_case_and_writes_the_table(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OUT", str(tmp_path))
    status = gpu_check.main(["--dry-run", "--skip-tests", "--budget", "0.01"])
    printed = capsys.readouterr().out
    table = (tmp_path / "gpu_check_dry_run.md").read_text()
    assert status == 0, printed
    cases = [w.key for w in gpu_check.workloads(dry_run=True)]
    assert len(cases) == 4 and {"float32", "float64"} == {c.split()[-1] for c in cases}
    for case in cases:
        row = next(line for line in table.splitlines() if line.startswith(f"| {case} |"))
        assert "error" not in row, row
        ratio = row.rstrip(" |").rsplit("|", 1)[-1].strip()
        assert ratio.endswith("x") and float(ratio[:-1]) > 0, row


@pytest.mark.parametrize("case", [0, 1, 2, 3])
def test_one_engine_step_equals_one_hand_written_step(case):
    import array_api_strict as xp
    import numpy as np

    workload = gpu_check.workloads(dry_run=True)[case]
    device = xp.Device("device1")
    ours = gpu_check.engine_step(workload, "array_api_strict")
    hand = gpu_check.hand_step(workload, xp, lambda a: xp.asarray(a, device=device))
    ours()
    hand()
    tolerance = 1e-4 if workload.dtype == "float32" else 1e-10
    for name, start, mine, theirs in zip(
        workload.params, workload.params.values(), ours.params, hand.params
    ):
        mine = np.asarray(mine.to_device(xp.Device("CPU_DEVICE")))
        theirs = np.asarray(theirs.to_device(xp.Device("CPU_DEVICE")))
        np.testing.assert_allclose(mine, theirs, rtol=tolerance, atol=tolerance, err_msg=name)
        if name.startswith("W"):
            assert not np.array_equal(mine, start), f"{name} did not change"


def test_a_failing_test_run_exits_non_zero(monkeypatch, tmp_path):
    monkeypatch.setenv("OUT", str(tmp_path))
    monkeypatch.setattr(gpu_check, "run_tests", lambda backend, timeout_s: (False, "1 failed"))
    monkeypatch.setattr(gpu_check, "workloads", lambda dry_run: [])
    assert gpu_check.main(["--dry-run", "--budget", "0.01"]) == 1
    assert "backend tests: FAILED (1 failed)" in (tmp_path / "gpu_check_dry_run.md").read_text()


def test_without_cupy_it_says_how_to_install_and_exits_2(monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "cupy", None)
    assert gpu_check.main(["--skip-tests"]) == 2
    assert "pip install 'tinygrad-dl[gpu]'" in capsys.readouterr().out

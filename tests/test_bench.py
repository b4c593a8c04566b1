"""The benchmark harness (benchmarks/, tinygrad_dl/bench.py): it runs, it writes valid results,
a missing peer is "not installed", and its gradient check is sharp.

These tests assert behaviour, never timing: the figures themselves are the benchmark's job.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_dl import bench

ROOT = bench.find_benchmarks()
if ROOT is not None and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baselines, frameworks, measure, report, run, workloads  # noqa: E402


def _engine(workload, compiled: bool = False):
    return frameworks.make("compiled" if compiled else "engine", workload)


def _numpy(param) -> np.ndarray:
    """A runner's parameter (ndarray, tinygrad_dl or torch tensor) as an ndarray."""
    if isinstance(param, np.ndarray):
        return param
    return param.detach().numpy() if hasattr(param, "detach") else param.numpy()


def _run_driver(tmp_path: Path, *args: str) -> tuple[int, dict, str]:
    status = bench.main(["--small", "--no-plot", "--out", str(tmp_path), "--name", "smoke", *args])
    result = json.loads((tmp_path / "smoke.json").read_text(encoding="utf-8"))
    table = (tmp_path / "smoke.md").read_text(encoding="utf-8")
    return status, result, table


def _workload(result: dict, key: str) -> dict:
    return next(w for w in result["workloads"] if w["key"] == key)


def test_launcher_finds_the_benchmarks_folder_beside_the_package():
    assert ROOT is not None and (ROOT / "benchmarks" / "run.py").is_file()
    assert bench.find_benchmarks(ROOT / "tinygrad_dl") == ROOT


def test_launcher_outside_a_source_checkout_says_it_needs_one(tmp_path, monkeypatch, capsys):
    assert bench.find_benchmarks(tmp_path / "tinygrad_dl") is None
    monkeypatch.setattr(bench, "find_benchmarks", lambda package_dir=None: None)
    assert bench.main(["--quick"]) == 2
    assert "source checkout" in capsys.readouterr().err


def test_bench_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--quick", "--threads", "--workloads", "--impls", "--no-memory"):
        assert option in text


def test_harness_runs_a_tiny_workload_end_to_end_and_writes_valid_json_and_markdown(tmp_path):
    status, result, table = _run_driver(
        tmp_path, "--workloads", "W2", "--impls", "lean,engine,compiled", "--no-memory"
    )
    assert status == 0, table
    w2 = _workload(result, "W2")
    baseline, lean = w2["results"]["numpy"], w2["results"]["lean"]
    assert baseline["ratio"] == pytest.approx(1.0) and lean["ratio_lean"] == pytest.approx(1.0)
    for name in ("engine", "compiled"):
        ours = w2["results"][name]
        assert ours["status"] == "ok", ours
        assert ours["best_s"] == min(ours["times_s"]) and len(ours["times_s"]) == w2["rounds"]
        assert ours["ratio"] == pytest.approx(ours["best_s"] / baseline["best_s"])
        assert ours["ratio_lean"] == pytest.approx(ours["best_s"] / lean["best_s"])
        assert ours["grad"]["ok"] and ours["grad"]["max_abs_diff"] < 1e-12
    # The header names the BLAS and its threads, pinned to one by default.
    assert result["threads"] == 1
    assert result["header"]["environment"]["OPENBLAS_NUM_THREADS"] == "1"
    assert result["header"]["versions"]["numpy"] == np.__version__
    # The markdown's table: one row per implementation, both ratios in each cell.
    assert "| implementation | W2 |" in table
    assert "| NumPy (course formulas) | 1.00 / " in table and "| tinygrad_dl compiled | " in table
    assert "| lean NumPy | " in table and " / 1.00 (" in table
    assert not list(tmp_path.glob("*.tmp")), "temporary files left behind"


def test_memory_is_measured_in_its_own_process_per_implementation(tmp_path):
    status, result, table = _run_driver(
        tmp_path, "--workloads", "W1-float64", "--impls", "engine,compiled"
    )
    assert status == 0, table
    memory = {entry["label"]: entry for entry in result["memory"]}
    assert set(memory) == {"NumPy (course formulas)", "tinygrad_dl", "tinygrad_dl compiled"}
    for entry in memory.values():
        assert entry["status"] == "ok" and entry["rss_peak_mib"] >= 0, entry
        assert entry["method"] in ("VmHWM", "ru_maxrss")
    assert "## Peak memory above set-up during W1 float64 steps" in table
    assert "W1 peak memory, compiled - eager" in table  # the target row


def test_unknown_implementation_is_a_usage_error(capsys):
    assert bench.main(["--impls", "tensorflow"]) == 2
    assert "unknown implementation 'tensorflow'" in capsys.readouterr().err


def test_missing_peer_shows_as_not_installed_not_as_an_error(tmp_path, monkeypatch):
    # A 'torch' that cannot be imported, ahead of the real one on the children's path.
    shadow = tmp_path / "shadow" / "torch"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ImportError(\"No module named 'torch'\", name='torch')\n", encoding="utf-8"
    )
    monkeypatch.setenv("PYTHONPATH", str(shadow.parent))
    status, result, table = _run_driver(
        tmp_path, "--workloads", "W2", "--impls", "numpy,torch", "--no-memory"
    )
    assert status == 0
    entry = _workload(result, "W2")["results"]["torch"]
    assert entry["status"] == "not installed" and "torch" in entry["reason"]
    assert "best_s" not in entry
    assert "| not installed |" in table and "**error**" not in table


def test_make_reports_a_missing_peer_library_as_not_installed(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` raise ImportError
    status, reason = frameworks.make("torch", workloads.make("W2", small=True))
    assert status == "not installed" and "torch" in reason


def test_our_engine_failing_to_import_is_an_error_not_a_missing_peer(monkeypatch):
    monkeypatch.setitem(sys.modules, "tinygrad_dl", None)
    with pytest.raises(ImportError):
        frameworks.make("engine", workloads.make("W2", small=True))


@pytest.mark.parametrize("other", ["lean", "engine", "compiled"])
def test_baseline_and_other_gradients_agree_to_1e_12_on_a_small_w1_network(other):
    workload = workloads.make("W1-float64", small=True)
    assert [workload.params[f"b{l}"].shape[0] for l in range(1, 5)] == [20, 7, 5, 1]
    assert workload.dtype == "float64"
    expected = frameworks.make("numpy", workload).gradients()
    got = frameworks.make(other, workload).gradients()
    assert set(got) == {f"d{name}" for name in workload.params}
    comparison = measure.compare_gradients(expected, got, "float64")
    assert comparison["ok"], comparison
    assert comparison["max_abs_diff"] < 1e-12
    # Not vacuous: every layer's gradient is non-zero.
    assert all(np.abs(expected[name]).max() > 1e-6 for name in expected if name.startswith("dW"))


def test_baseline_gradient_is_the_course_formula_dW_equals_dZ_A_prev_T_over_m():
    # Logistic regression: dw = (1/m) X (A - Y)^T, db = (1/m) sum(A - Y) at w = 0, b = 0.
    workload = workloads.make("W3-n30", small=True)
    grads = baselines.Course(workload).gradients()
    A = np.full_like(workload.Y, 0.5)
    m = workload.m
    np.testing.assert_allclose(grads["dw"], workload.X @ (A - workload.Y).T / m, rtol=1e-14)
    np.testing.assert_allclose(grads["db"], np.sum(A - workload.Y) / m, rtol=1e-14)


def test_float32_baseline_runs_in_float32():
    workload = workloads.make("W1-float32", small=True)
    for runner in (baselines.Course(workload), baselines.Lean(workload)):
        runner.step()
        assert {str(g.dtype) for g in runner.gradients().values()} == {"float32"}
        params = runner.params.values() if isinstance(runner.params, dict) else runner.params
        assert all(p.dtype == np.float32 for p in params)


@pytest.mark.parametrize("key", ["W1-float64", "W2", "W3-n30", "W5"])
@pytest.mark.parametrize("other", ["lean", "engine", "compiled", "torch"])
def test_five_steps_move_the_parameters_as_the_course_step_does(key, other):
    if other == "torch":
        pytest.importorskip("torch")
    workload = workloads.make(key, small=True)
    course, runner = baselines.Course(workload), frameworks.make(other, workload)
    for _ in range(5):
        course.step()
        runner.step()
    tolerance = 1e-5 if workload.dtype == "float32" else 1e-12
    for param, (name, expected) in zip(runner.params, course.params.items()):
        got = _numpy(param)
        np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance, err_msg=name)
        assert not np.array_equal(got, workload.params[name]), f"{name} did not move"


def test_w4_chain_gradient_is_exactly_one_and_the_value_stays_put():
    workload = workloads.make("W4-1k")
    assert workload.n_ops == 1000
    runner = baselines.Chain(workload)
    np.testing.assert_array_equal(runner.gradients()["dx"], np.ones((4, 4)))
    assert runner.value == pytest.approx(workload.params["x"].sum(), abs=1e-9)
    np.testing.assert_array_equal(_engine(workload).gradients()["dx"], np.ones((4, 4)))


def test_w4_chain_of_a_length_not_divisible_by_4_has_the_same_gradient_everywhere():
    workload = workloads.make("W4-1k", small=True)  # 10 ops: y*2 and y + c end the chain
    assert workload.n_ops % 4 == 2
    expected = baselines.Chain(workload).gradients()["dx"]
    np.testing.assert_array_equal(expected, np.full((4, 4), 2.0))
    np.testing.assert_array_equal(_engine(workload).gradients()["dx"], expected)


def test_workloads_are_seeded_and_identical_for_every_build():
    first, second = workloads.make("W5", small=True), workloads.make("W5", small=True)
    for name in first.params:
        np.testing.assert_array_equal(first.params[name], second.params[name])
    np.testing.assert_array_equal(first.X, second.X)
    assert first.X.dtype == np.float32 and first.Y.sum() == first.m  # one-hot columns


@given(
    hnp.arrays(np.float64, hnp.array_shapes(max_dims=2, max_side=5), elements=st.floats(-1, 1)),
    st.floats(1e-9, 1.0),
)
def test_gradient_comparison_flags_any_difference_above_1e_12(gradient, delta):
    assert measure.compare_gradients({"dW1": gradient}, {"dW1": gradient.copy()}, "float64")["ok"]
    planted = gradient.copy()
    planted.flat[0] += delta
    comparison = measure.compare_gradients({"dW1": gradient}, {"dW1": planted}, "float64")
    assert not comparison["ok"] and comparison["max_abs_diff"] > 1e-12


def test_gradient_comparison_catches_a_missing_one_over_m_and_a_transpose():
    workload = workloads.make("W1-float64", small=True)
    expected = baselines.Course(workload).gradients()
    missing_m = dict(expected, dW2=expected["dW2"] * workload.m)
    assert not measure.compare_gradients(expected, missing_m, "float64")["ok"]
    transposed = dict(expected, dW3=expected["dW3"].T)
    comparison = measure.compare_gradients(expected, transposed, "float64")
    assert not comparison["ok"]


def test_gradient_comparison_reports_nan_as_a_failure_with_valid_json():
    expected = {"dW1": np.ones((2, 2))}
    comparison = measure.compare_gradients(expected, {"dW1": np.full((2, 2), np.nan)}, "float64")
    assert not comparison["ok"] and "NaN" in comparison["problem"]
    json.loads(json.dumps(comparison, allow_nan=False))


def test_select_keys_expands_groups_in_order_and_rejects_unknown_names():
    assert run.select_keys("W4,W1") == ["W1-float64", "W1-float32", "W4-1k", "W4-100k"]
    assert run.select_keys("W3-n30") == ["W3-n30"]
    with pytest.raises(ValueError, match="unknown workload 'W9'.*W1"):
        run.select_keys("W9")
    assert run.select_impls("torch") == [measure.BASELINE, "torch"]


def test_targets_pass_and_fail_by_the_issue_limits():
    def entry(ratio_lean=None, per_op_us=None):
        return {"status": "ok", "ratio_lean": ratio_lean, "per_op_us": per_op_us}

    result = {
        "workloads": [
            {"key": "W2", "results": {"engine": entry(1.9), "compiled": entry(1.1)}},
            {"key": "W1-float64", "results": {"engine": entry(1.01), "compiled": entry(0.9)}},
            {
                "key": "W4-1k",
                "results": {"engine": entry(per_op_us=2), "torch": entry(per_op_us=6)},
            },
        ],
        "memory": [
            {"impl": "engine", "rss_peak_mib": 4.0},
            {"impl": "compiled", "rss_peak_mib": 1.0},
        ],
    }
    status = {row["target"]: row["status"] for row in report.targets(result)}
    assert status["W2 eager"] == "pass" and status["W2 compiled"] == "FAIL"
    assert status["W1-float64 eager"] == "pass" and status["W1-float64 compiled"] == "pass"
    assert status["W4 per-op time (1,000 ops)"] == "pass"
    assert status["W1 peak memory, compiled - eager"] == "pass"
    result["memory"][1]["rss_peak_mib"] = 5.0
    status = {row["target"]: row["status"] for row in report.targets(result)}
    assert status["W1 peak memory, compiled - eager"] == "FAIL"
    assert status["W5 compiled"] == "not measured"

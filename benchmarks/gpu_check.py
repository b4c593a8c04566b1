"""The GPU check: the backend tests on CuPy, then one training step timed on the GPU.

    python benchmarks/gpu_check.py            # 2-4 minutes; the table also goes to $OUT
    python benchmarks/gpu_check.py --dry-run  # the same code on array_api_strict, CPU only

1. ``pytest tests/test_backend.py --backend cuda``: every op, gradient, layer, loss and optimiser
   compared with NumPy (exit status 1 if any fails).
2. One training step of the course's deep net ``[12288, 20, 7, 5, 1]`` at m = 209 and 8,192, the
   wide net ``[4096, 1024, 1024, 1]`` at m = 16,384 and W5 ``[784, 256, 256, 10]`` at batch 128,
   float32 and float64, by the benchmark's own runners on the device (the lean step in CuPy,
   tinygrad_dl, PyTorch CUDA), gradients checked and steps timed by ``measure.time_workload``.

``--dry-run`` changes only the device: array_api_strict's (PyTorch on the CPU), small sizes.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks import measure, report, workloads  # noqa: E402
from benchmarks.frameworks import LABELS  # noqa: E402

NAMES = ("lean", "engine", "torch")


def cases(dry_run: bool) -> list[workloads.Workload]:
    """The timed networks, float32 and float64 each (small stand-ins for a dry run)."""
    sizes = [("deep", [48, 20, 7, 5, 1], 16, "deep"), ("W5", [20, 16, 16, 10], 8, "he")] if (
        dry_run) else [("deep", [12288, 20, 7, 5, 1], 209, "deep"),
                       ("deep", [12288, 20, 7, 5, 1], 8192, "deep"),
                       ("wide", [4096, 1024, 1024, 1], 16384, "he"),
                       ("W5", [784, 256, 256, 10], 128, "he")]  # fmt: skip
    found = []
    for dtype in ("float32", "float64"):
        for name, dims, m, scheme in sizes:
            key = f"{name} batch {m} {dtype}" if name == "W5" else f"{name} m={m} {dtype}"
            data = workloads.cat_like_data(m) if (dims[0], m) == (12288, 209) else None
            found.append(workloads.mlp(
                key, f"{name} {dims} {dtype}", dims, m, dtype,
                scheme=scheme, softmax=name == "W5", data=data,
                learning_rate=0.1 if name == "W5" else 0.0075))  # fmt: skip
    return found


def run_tests(backend: str, timeout_s: int) -> tuple[bool, str]:
    """pytest on the backend-parametrised tests; (passed, its last line)."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "tests/test_backend.py", f"--backend={backend}"]  # fmt: skip
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", PYTHONPATH=path)
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout_s)  # fmt: skip
    except subprocess.TimeoutExpired:
        return False, f"pytest timed out after {timeout_s} s"
    lines = (done.stdout + done.stderr).strip().splitlines()
    for line in lines:
        if line.startswith(("FAILED", "ERROR")):
            print("   ", line, flush=True)
    return done.returncode == 0, lines[-1] if lines else "(no output)"


def _cell(entry: dict) -> str:
    if entry.get("status") != "ok":
        return f"{entry.get('status')}: {str(entry.get('reason'))[:80]}"
    grad = entry.get("grad", {})
    flag = "" if grad.get("ok", True) else f" **grad differs: {grad}**"
    return f"{entry['median_s'] * 1e3:.3f}{flag}"


def main(argv: list[str] | None = None) -> int:
    """Run the check; exit status 0, 1 when a backend test fails, 2 without CuPy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="array_api_strict on the CPU at small sizes (no GPU needed)",
    )
    parser.add_argument("--skip-tests", action="store_true", help="timings only")
    parser.add_argument(
        "--budget",
        type=float,
        default=None,
        help="seconds of timed steps per cell (default 0.4; 0.05 dry run)",
    )
    args = parser.parse_args(argv)  # fmt: skip
    budget_s = args.budget if args.budget is not None else (0.05 if args.dry_run else 0.4)
    budget = measure.Budget(rounds=5, sample_s=budget_s / 5, warmup_s=min(budget_s, 0.2),
                            long_rounds=5, memory_steps=0)  # fmt: skip
    started, device = time.perf_counter(), "array_api_strict" if args.dry_run else "cuda"
    if not args.dry_run:
        try:
            import cupy
        except ImportError:
            print("gpu_check: CuPy is not installed (pip install 'tinygrad-dl[gpu]'); use "
                  "--dry-run to check the plumbing on the CPU")  # fmt: skip
            return 2
        name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
        print(f"gpu_check: CuPy {cupy.__version__}, device 0: {name}", flush=True)

    passed, test_line = True, "skipped"
    if not args.skip_tests:
        print(f"[1/2] backend tests on {device} ...", flush=True)
        # CuPy compiles each new kernel on first use (seconds in all): a generous limit
        passed, test_line = run_tests(device, timeout_s=210)
        print(f"      {'passed' if passed else 'FAILED'}: {test_line}", flush=True)

    print(f"[2/2] one training step, median ms ({device}) ...", flush=True)
    rows = []
    for workload in cases(args.dry_run):
        results = measure.time_workload(workload, list(NAMES), budget, device=device)["results"]
        ours, lean = (results[name].get("median_s") for name in ("engine", "lean"))
        ratio = ours / lean if ours and lean else None  # medians, as the cells show
        rows.append([workload.key] + [_cell(results[name]) for name in NAMES]
                    + [f"{ratio:.2f}x" if ratio else "-"])  # fmt: skip
        print("     ", " | ".join(rows[-1]), flush=True)

    labels = dict(LABELS, lean="lean hand-written")
    header = ["case"] + [labels[name] for name in NAMES] + ["tinygrad_dl / lean"]
    text = "\n".join([
        f"# gpu_check ({'dry run, array_api_strict' if args.dry_run else device})", "",
        f"backend tests: {'passed' if passed else 'FAILED'} ({test_line})", "",
        "one training step, median milliseconds (lean hand-written: benchmarks/baselines.py's "
        "lean step in the device's library, e.g. CuPy)", "",
        *report.table(header, rows), "", f"total {time.perf_counter() - started:.0f} s",
    ])  # fmt: skip
    print("\n" + text)
    if os.environ.get("OUT"):
        path = Path(os.environ["OUT"]) / f"gpu_check{'_dry_run' if args.dry_run else ''}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
        print(f"table written to {path}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())

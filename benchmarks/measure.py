"""One benchmark job in its own process (threads pinned before NumPy is imported): time a
workload's implementations or measure one implementation's peak memory on W1; and the header
(machine, versions, every BLAS with its kernel and threads).

Timing: every implementation computes its gradients at the initial parameters (compared with
the first implementation's, the course baseline), takes warm-up steps, then, round by round in an
order that rotates each round, times a sample of consecutive steps (``k`` steps lasting about
``sample_s``). The reported time is the best round (the machine may be shared: the fastest sample
is the least disturbed) with the median; ratios use the best.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import re
import sys
import time
import traceback
from dataclasses import dataclass
from importlib import metadata

import numpy as np

from benchmarks import frameworks, workloads

BASELINE, LEAN = "numpy", "lean"
FLOAT64_TOLERANCE = 1e-12  # max abs difference of float64 gradients
FLOAT32_RELATIVE_TOLERANCE = 1e-4  # float32: max abs difference / max abs baseline gradient
QUICK_LONG_CHAIN = ("numpy", "engine", "torch")  # --quick times the 100,000-op chain for these
# Variables some machines set that slow a current NumPy's OpenBLAS: the header says when set.
OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # fmt: skip


@dataclass(frozen=True)
class Budget:
    rounds: int
    sample_s: float
    warmup_s: float
    long_rounds: int  # rounds when every step takes seconds (W4-100k)
    memory_steps: int


BUDGETS = {
    "full": Budget(rounds=15, sample_s=0.2, warmup_s=0.5, long_rounds=5, memory_steps=5),
    "quick": Budget(rounds=5, sample_s=0.04, warmup_s=0.1, long_rounds=2, memory_steps=2),
    "smoke": Budget(rounds=2, sample_s=0.0, warmup_s=0.0, long_rounds=2, memory_steps=1),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def compare_gradients(baseline: dict, other: dict, dtype: str) -> dict:
    """Max abs (and relative) difference per gradient; ``ok`` within the dtype's tolerance."""
    if set(baseline) != set(other):
        return {"ok": False, "problem": f"gradient names {sorted(other)} != {sorted(baseline)}"}
    worst_abs = worst_rel = 0.0
    for name, expected in baseline.items():
        expected, got = (np.asarray(a, dtype=np.float64) for a in (expected, other[name]))
        if got.size != expected.size:
            return {"ok": False, "problem": f"{name}: shape {got.shape} != {expected.shape}"}
        if not np.all(np.isfinite(got)):
            return {"ok": False, "problem": f"{name}: NaN or inf in the gradient"}
        difference = float(np.max(np.abs(got.reshape(expected.shape) - expected), initial=0))
        scale = float(np.max(np.abs(expected), initial=0.0))
        worst_abs = max(worst_abs, difference)
        worst_rel = max(worst_rel, difference / scale if scale > 0 else difference)
    ok = worst_abs < FLOAT64_TOLERANCE if dtype == "float64" else (
        worst_rel < FLOAT32_RELATIVE_TOLERANCE)  # fmt: skip
    return {"ok": bool(ok), "max_abs_diff": worst_abs, "max_rel_diff": worst_rel}


def _time_steps(runner, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        runner.step()
    return (time.perf_counter() - start) / count


def time_workload(workload: workloads.Workload, names: list[str], budget: Budget,
                  mode: str = "full", device: str = "cpu") -> dict:  # fmt: skip
    """Check and time every implementation in ``names`` on one workload, interleaved.

    The first name's gradients are the reference; ratios are to ``numpy`` (``ratio``) and to
    ``lean`` (``ratio_lean``) where they ran. Errors of one implementation are recorded in its
    entry (``status``, ``reason``); the others go on.
    """
    results, runners, reference, long_running = {}, {}, None, set()
    for name in names:
        entry = results[name] = {"label": frameworks.LABELS[name], "status": "ok"}
        if mode == "quick" and workload.n_ops > 10_000 and name not in QUICK_LONG_CHAIN:
            entry.update(status="skipped", reason="--quick times the long chain for 3 only")
            continue
        try:
            runner = frameworks.make(name, workload, device)
            if isinstance(runner, tuple):
                entry.update(status=runner[0], reason=runner[1])
                continue
            gradients = runner.gradients()
            reference = gradients if reference is None else reference
            entry["grad"] = compare_gradients(reference, gradients, workload.dtype)
            if not entry["grad"]["ok"]:
                log(f"!!! GRADIENT MISMATCH {workload.key} {entry['label']}: {entry['grad']}")
            # warm-up (a compiled step traces on its first call); the last two steps calibrate
            seconds, deadline = [], time.perf_counter() + budget.warmup_s
            while len(seconds) < 3 or (time.perf_counter() < deadline and seconds[-1] < 0.25):
                seconds.append(_time_steps(runner, 1))
            step_s = min(seconds[-2:])
            runners[name] = runner, max(1, round(budget.sample_s / max(step_s, 1e-9)))
            if step_s > 0.25:
                long_running.add(name)
        except Exception as exc:
            traceback.print_exc()
            entry.update(status="error", reason=f"{type(exc).__name__}: {exc}")
    rounds = budget.long_rounds if long_running == set(runners) else budget.rounds
    gc.collect()
    gc.freeze()  # the libraries' objects out of the collector's reach: gc.collect() costs little
    times, order = {name: [] for name in runners}, list(runners)
    for index in range(rounds):
        shift = index % max(len(order), 1)
        for name in order[shift:] + order[:shift]:
            if name not in long_running or index < budget.long_rounds:
                gc.collect()
                times[name].append(_time_steps(*runners[name]))
    gc.unfreeze()
    best = {name: min(samples) for name, samples in times.items()}
    for name, seconds in best.items():
        entry = results[name]
        entry.update(times_s=times[name], best_s=seconds, median_s=float(np.median(times[name])))
        for reference_name, field in ((BASELINE, "ratio"), (LEAN, "ratio_lean")):
            if best.get(reference_name):
                entry[field] = seconds / best[reference_name]
        if workload.n_ops:
            entry["per_op_us"] = seconds / workload.n_ops * 1e6
        log(f"  {workload.key:<11} {name:<9} {seconds * 1e3:10.3f} ms/step")
    return {"key": workload.key, "title": workload.title, "kind": workload.kind,
            "dtype": workload.dtype, "n_ops": workload.n_ops, "rounds": rounds,
            "results": results}  # fmt: skip


def _status_kib(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1))


MEMORY_METHOD = (
    "peak RSS above set-up (Linux): after set-up and one warm-up step, gc.collect(), the kernel's "
    "peak mark is reset (/proc/self/clear_refs = 5) and VmHWM over the steps minus VmRSS before "
    "them is reported; one process per implementation, glibc's mmap threshold fixed at 128 KiB so "
    "freed arrays leave the RSS."
)


def measure_memory(name: str, key: str, budget: Budget, small: bool) -> dict:
    """Peak memory above set-up of one implementation during W1 steps."""
    entry = {"impl": name, "label": frameworks.LABELS[name], "status": "ok", "key": key}
    if not os.path.exists("/proc/self/clear_refs"):
        return entry | {"status": "not measured", "reason": "needs Linux's /proc/self/clear_refs"}
    try:
        runner = frameworks.make(name, workloads.make(key, small=small))
        if isinstance(runner, tuple):
            return entry | {"status": runner[0], "reason": runner[1]}
        runner.step()  # warm-up: lazy allocations, tracing
    except Exception as exc:
        traceback.print_exc()
        return entry | {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    gc.collect()
    rss_before = _status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
        clear_refs.write("5")
    for _ in range(budget.memory_steps):
        runner.step()
    peak_mib = max(_status_kib("VmHWM") - rss_before, 0) / 1024
    log(f"  memory {key} {name:<9} {peak_mib:8.1f} MiB above set-up")
    return entry | {"rss_peak_mib": peak_mib, "method": "VmHWM"}


def describe() -> dict[str, object]:
    """Machine, Python, library versions, BLAS runtimes (threadpoolctl) and thread settings;
    called after the libraries loaded, so that every BLAS and OpenMP runtime they brought shows."""
    try:
        from threadpoolctl import threadpool_info

        fields = ("user_api", "internal_api", "version", "architecture", "num_threads", "filepath")
        blas = [{k: r[k] for k in fields if r.get(k) is not None} for r in threadpool_info()]
    except ImportError:
        blas = [{"error": "threadpoolctl not installed: pip install 'tinygrad-dl[bench]'"}]
    cpu = platform.processor() or platform.machine()
    if os.path.exists("/proc/cpuinfo"):
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            models = [line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line]
        cpu = models[0] if models else cpu
    uname, versions = platform.uname(), {"python": platform.python_version()}
    for name in ("numpy", "tinygrad-dl", "torch", "autograd", "jax", "jaxlib", "threadpoolctl"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "machine": {"cpu": cpu, "logical_cpus": os.cpu_count(), "arch": uname.machine,
                    "system": f"{uname.system} {uname.release}", "python": versions["python"]},
        "versions": versions, "blas": blas,
        "environment": {name: os.environ.get(name)
                        for name in OPENBLAS_TUNING + THREAD_VARS + ("XLA_FLAGS",)},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.measure JOB OUTPUT``: run the job ``JOB`` (JSON: ``job`` "time",
    or "memory", ``keys``, ``impls``, ``mode``, ``small``), write its result to OUTPUT."""
    spec, output = sys.argv[1:] if argv is None else argv
    job = json.loads(spec)
    budget, small = BUDGETS[job["mode"]], job["small"]
    if job["job"] == "memory":
        payload = {"memory": [measure_memory(job["impls"][0], job["keys"][0], budget, small)]}
    else:
        payload = {"workloads": []}
        for key in job["keys"]:
            log(f"{key}: building and checking gradients")
            workload = workloads.make(key, small=small)
            payload["workloads"].append(time_workload(workload, job["impls"], budget, job["mode"]))
    payload["header"] = describe()
    with open(output, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())

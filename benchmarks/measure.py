"""One benchmark job in its own process (threads pinned before NumPy is imported): time a
workload's implementations, or measure one implementation's peak memory on W1.

Timing: every implementation computes its gradients at the initial parameters (compared with
the course baseline's), takes warm-up steps, then, round by round in an order that rotates each
round, times a sample of consecutive steps (``k`` steps lasting about ``sample_s``). The reported
time is the best round (the machine is shared: the fastest sample is the one least disturbed)
and the median; ratios use the best.
"""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np

from benchmarks import baselines, frameworks, machine, workloads

BASELINE, LEAN = "numpy", "lean"
LABELS = {BASELINE: "NumPy (course formulas)", LEAN: "lean NumPy"} | {
    name: label for name, (label, _, _) in frameworks.FRAMEWORKS.items()
}
NAMES = tuple(LABELS)
FLOAT64_TOLERANCE = 1e-12  # max abs difference of float64 gradients
FLOAT32_RELATIVE_TOLERANCE = 1e-4  # float32: max abs difference / max abs baseline gradient
QUICK_LONG_CHAIN = ("numpy", "engine", "torch")  # --quick times the 100,000-op chain for these


@dataclass(frozen=True)
class Budget:
    rounds: int
    sample_s: float
    warmup_s: float
    long_rounds: int  # rounds for workloads whose step takes seconds (W4-100k)
    memory_steps: int


BUDGETS = {
    "full": Budget(rounds=15, sample_s=0.2, warmup_s=0.5, long_rounds=5, memory_steps=5),
    "quick": Budget(rounds=5, sample_s=0.04, warmup_s=0.1, long_rounds=2, memory_steps=2),
    "smoke": Budget(rounds=2, sample_s=0.0, warmup_s=0.0, long_rounds=2, memory_steps=1),
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def build(name: str, workload: workloads.Workload):
    """A runner (``gradients()``, ``step()``), or ``(status, reason)`` when there is none."""
    if name in (BASELINE, LEAN):
        if name == LEAN and workload.kind == "chain":
            return "skipped", "the chain's hand-written backward is already the fewest operations"
        return baselines.build(workload, lean=name == LEAN)
    skip = frameworks.skip_reason(name, workload)
    if skip:
        return "skipped", skip
    framework, reason = frameworks.load(name)
    if framework is None:
        return "not installed", reason
    return frameworks.Runner(framework, workload)


def compare_gradients(baseline: dict, other: dict, dtype: str) -> dict:
    """Max abs (and relative) difference per gradient; ``ok`` within the dtype's tolerance."""
    if set(baseline) != set(other):
        return {"ok": False, "problem": f"gradient names {sorted(other)} != {sorted(baseline)}"}
    worst_abs = worst_rel = 0.0
    for name, expected in baseline.items():
        expected = np.asarray(expected, dtype=np.float64)
        got = np.asarray(other[name], dtype=np.float64)
        if got.size != expected.size:
            return {"ok": False, "problem": f"{name}: shape {got.shape} != {expected.shape}"}
        if not np.all(np.isfinite(got)):
            return {"ok": False, "problem": f"{name}: NaN or inf in the gradient"}
        difference = float(np.max(np.abs(got.reshape(expected.shape) - expected), initial=0))
        scale = float(np.max(np.abs(expected), initial=0.0))
        worst_abs = max(worst_abs, difference)
        worst_rel = max(worst_rel, difference / scale if scale > 0 else difference)
    ok = (
        worst_abs < FLOAT64_TOLERANCE
        if dtype == "float64"
        else worst_rel < FLOAT32_RELATIVE_TOLERANCE
    )
    return {"ok": bool(ok), "max_abs_diff": worst_abs, "max_rel_diff": worst_rel}


def _time_steps(runner, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        runner.step()
    return (time.perf_counter() - start) / count


def time_workload(
    workload: workloads.Workload, names: list[str], budget: Budget, mode: str
) -> dict:
    """Check and time every implementation in ``names`` on one workload."""
    results, runners = {}, {}
    for name in names:
        entry = results[name] = {"label": LABELS[name], "status": "ok"}
        if mode == "quick" and workload.n_ops > 10_000 and name not in QUICK_LONG_CHAIN:
            entry.update(status="skipped", reason="--quick times the long chain for 3 only")
            continue
        try:
            runner = build(name, workload)
            if isinstance(runner, tuple):
                entry.update(status=runner[0], reason=runner[1])
                continue
            entry["gradients"] = runner.gradients()
            runners[name] = runner
        except Exception as exc:
            traceback.print_exc()
            entry.update(status="error", reason=f"{type(exc).__name__}: {exc}")
    reference = results.get(BASELINE, {}).get("gradients")
    for entry in results.values():
        gradients = entry.pop("gradients", None)
        if gradients is not None and reference is not None:
            entry["grad"] = compare_gradients(reference, gradients, workload.dtype)
            if not entry["grad"]["ok"]:
                log(f"!!! GRADIENT MISMATCH {workload.key} {entry['label']}: {entry['grad']}")

    per_sample, long_running = {}, set()
    for name, runner in list(runners.items()):
        try:  # warm-up (a first compiled call traces); then the steps per sample
            deadline, seconds, steps = time.perf_counter() + budget.warmup_s, [], 0
            while steps < 3 or (time.perf_counter() < deadline and min(seconds) < 0.25):
                seconds.append(_time_steps(runner, 1))
                steps += 1
                if steps >= 2 and min(seconds[-2:]) > 0.25:
                    break
        except Exception as exc:
            traceback.print_exc()
            results[name].update(status="error", reason=f"step: {type(exc).__name__}: {exc}")
            del runners[name]
            continue
        fastest = min(seconds[-2:])
        per_sample[name] = max(1, round(budget.sample_s / max(fastest, 1e-9)))
        if fastest > 0.25:
            long_running.add(name)
    rounds = budget.long_rounds if long_running == set(runners) else budget.rounds

    gc.collect()
    gc.freeze()  # libraries' objects out of the collector's reach: gc.collect() costs little
    order, times = list(runners), {name: [] for name in runners}
    for index in range(rounds):
        shift = index % max(len(order), 1)
        for name in order[shift:] + order[:shift]:
            if name in long_running and index >= budget.long_rounds:
                continue
            gc.collect()
            times[name].append(_time_steps(runners[name], per_sample[name]))
    gc.unfreeze()
    best = {name: min(samples) for name, samples in times.items() if samples}
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


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            match = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


MEMORY_METHOD = (
    "peak RSS above set-up: after set-up and one warm-up step, gc.collect(), the kernel's peak "
    "mark is reset (/proc/self/clear_refs = 5) and VmHWM over the steps minus VmRSS before them "
    "is reported; one process per implementation, glibc's mmap threshold fixed at 128 KiB so "
    "freed arrays leave the RSS. Where the mark cannot be reset, ru_maxrss's growth (a lower "
    "bound)."
)


def measure_memory(name: str, key: str, budget: Budget, small: bool) -> dict:
    """Peak memory above set-up of one implementation during W1 steps."""
    import resource

    entry = {"impl": name, "label": LABELS[name], "status": "ok", "key": key}
    try:
        runner = build(name, workloads.make(key, small=small))
        if isinstance(runner, tuple):
            return entry | {"status": runner[0], "reason": runner[1]}
        runner.step()  # warm-up: lazy allocations, tracing
    except Exception as exc:
        traceback.print_exc()
        return entry | {"status": "error", "reason": f"{type(exc).__name__}: {exc}"}
    gc.collect()
    rss_before = _status_kib("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
        reset = rss_before is not None
    except OSError:
        reset = False
    for _ in range(budget.memory_steps):
        runner.step()
    if reset:
        peak_kib, method = (_status_kib("VmHWM") or 0) - rss_before, "VmHWM"
    else:
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before
        method = "ru_maxrss"
    log(f"  memory {key} {name:<9} {max(peak_kib, 0) / 1024:8.1f} MiB above set-up")
    return entry | {"rss_peak_mib": max(peak_kib, 0) / 1024, "method": method}


def measure_beside(small: bool) -> list[dict]:
    """Rows beside the training steps: one conv2d layer forward + backward here and in PyTorch
    (issue 13), and the cost of one in-place change as the number of live tensors grows
    (issue 11: it must stay flat). Best of the repeats, CPU time."""
    import tinygrad_dl as tg
    from tinygrad_dl.nn import functional as F

    repeats = 5 if small else 50
    rng = np.random.default_rng(workloads.SEED)
    x, w, b = rng.standard_normal((64, 32, 4, 4)), rng.standard_normal((64, 32, 3, 3)), np.zeros(64)

    def best(step) -> float:
        times = []
        for _ in range(repeats):
            start = time.process_time()
            step()
            times.append(time.process_time() - start)
        return min(times)

    def ours() -> None:
        leaves = [tg.Tensor(a, requires_grad=True) for a in (x, w, b)]
        F.conv2d(*leaves, padding=1).sum().backward()

    conv = {"row": "conv2d 32->64 channels, 3x3, batch 64 of 4x4, forward + backward",
            "tinygrad_dl": 1e3 * best(ours), "unit": "ms"}  # fmt: skip
    try:
        import torch

        def theirs() -> None:
            leaves = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
            torch.nn.functional.conv2d(*leaves, padding=1).sum().backward()

        conv["PyTorch"] = 1e3 * best(theirs)
    except ImportError:
        conv["PyTorch"] = None
    rows = [conv]
    for live in (4_096, 32_768) if not small else (256, 2_048):
        per_change = 1e6 * best(_changes_of(live)) / live
        rows.append({"row": f"t += 1 with {live:,} live tensors, per change",
                     "tinygrad_dl": per_change, "PyTorch": None, "unit": "us"})  # fmt: skip
    return rows


def _changes_of(live: int):
    """A step changing each of ``live`` tensors in place once (they stay alive with it)."""
    import tinygrad_dl as tg

    tensors = [tg.Tensor(np.zeros(2)) for _ in range(live)]

    def change_all() -> None:
        for tensor in tensors:
            tensor += 1.0

    return change_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.measure")
    parser.add_argument("job", choices=("time", "memory", "beside"))
    parser.add_argument("--keys", required=True)
    parser.add_argument("--impls", required=True)
    parser.add_argument("--mode", choices=tuple(BUDGETS), default="full")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--json", required=True)
    args = parser.parse_args(argv)
    budget, keys, names = BUDGETS[args.mode], args.keys.split(","), args.impls.split(",")
    if args.job == "memory":
        payload = {"memory": [measure_memory(names[0], keys[0], budget, args.small)]}
    elif args.job == "beside":
        payload = {"beside": measure_beside(args.small)}
    else:
        payload = {"workloads": []}
        for key in keys:
            log(f"{key}: building and checking gradients")
            workload = workloads.make(key, small=args.small)
            payload["workloads"].append(time_workload(workload, names, budget, args.mode))
    payload["header"] = machine.describe()  # after the libraries loaded: every BLAS is seen
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One benchmark job in its own process: time a workload's implementations, measure memory, or
profile one implementation.

The driver (:mod:`benchmarks.run`) starts this module with the thread settings already in the
environment, so BLAS is pinned before NumPy is imported. Results go to a JSON file (written
atomically); progress and warnings go to stderr.

Timing method: every implementation first computes its gradients at the initial parameters
(compared with the baseline's), then takes warm-up steps; then, round by round, each times a
sample of ``k`` consecutive steps (``k`` chosen so a sample lasts about ``sample_s``), in an
order that rotates every round so no implementation always runs after the same neighbour.
The reported time is the median over rounds of the time per step.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import pstats
import re
import statistics
import sys
import time
import traceback
from dataclasses import dataclass

import numpy as np

from benchmarks import impls, machine, workloads
from benchmarks.impls import BASELINE

FLOAT64_TOLERANCE = 1e-12  # max abs difference of float64 gradients (the bound)
FLOAT32_RELATIVE_TOLERANCE = 1e-4  # float32: max abs difference / max abs baseline gradient
# --quick keeps under 2 minutes by timing the 100,000-op chain (seconds per step for the slower
# peers) for these only.
QUICK_LONG_CHAIN_OPS = 10_000
LONG_STEP_S = 0.25  # a step this long: one warm-up step, and the budget's long_rounds
QUICK_LONG_CHAIN_IMPLS = ("numpy", "engine", "torch")


@dataclass(frozen=True)
class Budget:
    """How long to measure: rounds, seconds per sample, warm-up."""

    rounds: int
    sample_s: float
    warmup_s: float
    min_warmup_steps: int
    long_rounds: int  # rounds for workloads whose single step takes seconds (W4-100k)
    memory_steps: int
    mode: str = "full"


BUDGETS = {
    "full": Budget(rounds=15, sample_s=0.2, warmup_s=0.5, min_warmup_steps=3, long_rounds=5,
                   memory_steps=5, mode="full"),
    "quick": Budget(rounds=5, sample_s=0.04, warmup_s=0.1, min_warmup_steps=2, long_rounds=2,
                    memory_steps=2, mode="quick"),
    "smoke": Budget(rounds=2, sample_s=0.0, warmup_s=0.0, min_warmup_steps=1, long_rounds=2,
                    memory_steps=1, mode="smoke"),
}  # fmt: skip


def log(message: str) -> None:
    """Progress on stderr (the driver shows it as it comes)."""
    print(message, file=sys.stderr, flush=True)


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip()


# --- gradients -------------------------------------------------------------------------------


def compare_gradients(
    baseline: dict[str, np.ndarray], other: dict[str, np.ndarray], dtype: str
) -> dict[str, object]:
    """Compare an implementation's gradients with the baseline's, parameter by parameter.

    Parameters
    ----------
    baseline, other : dict[str, np.ndarray]
        Gradients by name (``dW1``, ...), at the same initial parameters.
    dtype : str
        The workload's dtype. float64 must agree to :data:`FLOAT64_TOLERANCE` in max absolute
        difference; float32 to :data:`FLOAT32_RELATIVE_TOLERANCE` relative to the largest
        baseline gradient of each parameter.

    Returns
    -------
    dict
        ``max_abs_diff``, ``max_rel_diff``, ``ok`` (bool), ``tolerance`` (text), ``per_param``
        (``{name: max_abs_diff}``) and ``problem`` (text, when names or shapes do not match).
    """
    if dtype == "float64":
        tolerance_text = f"max abs diff < {FLOAT64_TOLERANCE:g}"
    else:
        tolerance_text = f"max abs diff / max |g| < {FLOAT32_RELATIVE_TOLERANCE:g}"
    result: dict[str, object] = {"tolerance": tolerance_text, "per_param": {}}
    if set(baseline) != set(other):
        result.update(ok=False, problem=f"gradient names {sorted(other)} != {sorted(baseline)}")
        return result
    worst_abs, worst_rel, ok = 0.0, 0.0, True
    for name, expected in baseline.items():
        expected = np.asarray(expected, dtype=np.float64)
        got = np.asarray(other[name], dtype=np.float64)
        if got.size != expected.size:
            result.update(
                ok=False, problem=f"{name}: shape {got.shape} != baseline's {expected.shape}"
            )
            return result
        if not np.all(np.isfinite(got)):
            result.update(ok=False, problem=f"{name}: NaN or inf in the gradient")
            return result
        difference = float(np.max(np.abs(got.reshape(expected.shape) - expected), initial=0.0))
        scale = float(np.max(np.abs(expected), initial=0.0))
        relative = difference / scale if scale > 0 else difference
        result["per_param"][name] = difference
        worst_abs, worst_rel = max(worst_abs, difference), max(worst_rel, relative)
        if dtype == "float64":
            ok = ok and difference < FLOAT64_TOLERANCE
        else:
            ok = ok and relative < FLOAT32_RELATIVE_TOLERANCE
    result.update(max_abs_diff=worst_abs, max_rel_diff=worst_rel, ok=bool(ok))
    return result


# --- timing ----------------------------------------------------------------------------------


def _time_steps(runner, count: int) -> float:
    """Seconds per step over ``count`` consecutive steps."""
    start = time.perf_counter()
    for _ in range(count):
        runner.step()
    return (time.perf_counter() - start) / count


def _warm_up(runner, budget: Budget) -> float:
    """Warm-up steps (at least ``min_warmup_steps``, for about ``warmup_s``); a step's time."""
    deadline = time.perf_counter() + budget.warmup_s
    steps, last, previous = 0, 0.0, 0.0
    while steps < budget.min_warmup_steps or (time.perf_counter() < deadline and steps < 1000):
        previous, last = last, _time_steps(runner, 1)
        steps += 1
        # Two long steps in a row: a seconds-long workload, warm by now. (One long step alone
        # may be a first call that compiles, as JAX's jit does.)
        if steps >= 2 and min(previous, last) > LONG_STEP_S:
            break
    # The faster of the last two: one step slowed by another process or a garbage collection
    # must not make a fast implementation look seconds-long.
    return min(previous, last) if steps >= 2 else last


def time_workload(
    workload: workloads.Workload, names: list[str], budget: Budget, use_course: bool
) -> dict[str, object]:
    """Build, check and time every implementation in ``names`` on one workload.

    Returns
    -------
    dict
        The workload's description and ``results``: per implementation its status, gradient
        comparison, the time per step of every round, the median and the ratio to the baseline.
    """
    results: dict[str, dict[str, object]] = {}
    runners = {}
    for name in names:
        spec = impls.spec(name)
        entry: dict[str, object] = {"label": spec.label, "status": "ok", "reason": ""}
        results[name] = entry
        implementation, status, reason = impls.load(name)
        if implementation is None:
            entry.update(status=status, reason=reason)
            continue
        skip = implementation.skip_reason(workload)
        if not skip and budget.mode == "quick" and workload.n_ops > QUICK_LONG_CHAIN_OPS:
            if name not in QUICK_LONG_CHAIN_IMPLS:
                skip = "--quick times the long chain for NumPy, tinygrad_dl and PyTorch only"
        if skip:
            entry.update(status="skipped", reason=skip)
            continue
        try:
            if name == BASELINE:
                runners[name] = implementation.build(workload, use_course=use_course)
            else:
                runners[name] = implementation.build(workload)
            entry["details"] = getattr(runners[name], "details", "") or implementation.details(
                workload
            )
        except Exception as exc:
            traceback.print_exc()
            entry.update(status="error", reason=_error_text(exc))

    # Gradients at the initial parameters, before any step moves them.
    gradients = {}
    for name, runner in list(runners.items()):
        try:
            gradients[name] = runner.gradients()
        except Exception as exc:
            traceback.print_exc()
            results[name].update(status="error", reason=f"gradients: {_error_text(exc)}")
            del runners[name]
    if BASELINE in gradients:
        for name, grads in gradients.items():
            comparison = compare_gradients(gradients[BASELINE], grads, workload.dtype)
            results[name]["grad"] = comparison
            if not comparison["ok"]:
                log(
                    f"!!! GRADIENT MISMATCH {workload.key} {name}: "
                    f"{comparison.get('problem') or comparison['max_abs_diff']} "
                    f"({comparison['tolerance']})"
                )

    # Warm-up, then calibrate the steps per sample from the warm-up's step time.
    per_sample = {}
    long_running = set()  # steps of seconds: these take part in the first long_rounds only
    for name, runner in list(runners.items()):
        try:
            seconds = _warm_up(runner, budget)
        except Exception as exc:
            traceback.print_exc()
            results[name].update(status="error", reason=f"step: {_error_text(exc)}")
            del runners[name]
            continue
        per_sample[name] = max(1, round(budget.sample_s / max(seconds, 1e-9)))
        if seconds > LONG_STEP_S:
            long_running.add(name)
    rounds = budget.long_rounds if len(long_running) == len(runners) else budget.rounds

    # Move everything alive now (modules of torch and JAX: millions of objects) out of the
    # collector's reach, so the collection before each sample costs microseconds, not 0.3 s.
    gc.collect()
    gc.freeze()
    order = list(runners)
    times: dict[str, list[float]] = {name: [] for name in order}
    for round_index in range(rounds):
        shift = round_index % max(len(order), 1)
        for name in order[shift:] + order[:shift]:
            if name not in runners or (name in long_running and round_index >= budget.long_rounds):
                continue
            gc.collect()
            try:
                times[name].append(_time_steps(runners[name], per_sample[name]))
            except Exception as exc:
                traceback.print_exc()
                results[name].update(status="error", reason=f"step: {_error_text(exc)}")
                del runners[name]

    gc.unfreeze()
    baseline_median = None
    if BASELINE in runners and times[BASELINE]:
        baseline_median = statistics.median(times[BASELINE])
    for name in runners:
        median = statistics.median(times[name])
        entry = results[name]
        entry.update(times_s=times[name], steps_per_sample=per_sample[name], median_s=median)
        if len(times[name]) >= 4:
            quartiles = statistics.quantiles(times[name], n=4)
            entry["spread"] = (quartiles[2] - quartiles[0]) / median
        if baseline_median:
            entry["ratio"] = median / baseline_median
        if workload.n_ops:
            entry["per_op_us"] = median / workload.n_ops * 1e6
        log(f"  {workload.key:<11} {name:<9} {median * 1e3:10.3f} ms/step")
    return {
        "key": workload.key,
        "group": workload.group,
        "title": workload.title,
        "kind": workload.kind,
        "dtype": workload.dtype,
        "n_ops": workload.n_ops,
        "rounds": rounds,
        "rounds_long_steps": budget.long_rounds,
        "results": results,
    }


# --- memory ----------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            match = re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) if match else None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (``VmHWM``) to the current RSS; False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


MEMORY_METHOD = (
    "peak RSS above set-up: after set-up (libraries, data, parameters, one warm-up step), "
    "gc.collect(), the kernel's peak mark is reset (/proc/self/clear_refs = 5) and the peak "
    "VmHWM over the steps minus VmRSS before them is reported; one process per implementation, "
    "glibc's mmap threshold fixed at 128 KiB (MALLOC_MMAP_THRESHOLD_) so that freed arrays "
    "leave the RSS as they would in a fresh process. Cross-check: tracemalloc's peak over the "
    "same steps (sees NumPy's buffers only, not PyTorch's or XLA's). Where the peak mark cannot "
    "be reset, ru_maxrss's growth is used (a lower bound)."
)


def measure_memory(name: str, key: str, budget: Budget, small: bool) -> dict[str, object]:
    """Peak memory above set-up of one implementation during W1 steps.

    Returns
    -------
    dict
        ``status``, ``reason``, ``rss_peak_mib`` (peak RSS above set-up), ``method``
        (``"VmHWM"`` or ``"ru_maxrss"``), ``tracemalloc_peak_mib``, ``steps``.
    """
    import resource  # noqa: PLC0415 - POSIX only, and only this job needs it
    import tracemalloc  # noqa: PLC0415

    spec = impls.spec(name)
    entry: dict[str, object] = {
        "impl": name,
        "label": spec.label,
        "status": "ok",
        "reason": "",
        "key": key,
    }
    implementation, status, reason = impls.load(name)
    if implementation is None:
        entry.update(status=status, reason=reason)
        return entry
    workload = workloads.make(key, small=small)
    try:
        runner = implementation.build(workload)
        runner.step()  # warm-up: lazy allocations, JIT compilation
    except Exception as exc:
        traceback.print_exc()
        entry.update(status="error", reason=_error_text(exc))
        return entry
    steps = budget.memory_steps
    gc.collect()
    rss_before = _status_kib("VmRSS")
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    reset = rss_before is not None and _reset_peak()
    for _ in range(steps):
        runner.step()
    if reset:
        peak_kib = (_status_kib("VmHWM") or 0) - rss_before
        method = "VmHWM"
    else:
        peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before
        method = "ru_maxrss"
    gc.collect()
    tracemalloc.start()
    for _ in range(steps):
        runner.step()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    entry.update(
        rss_peak_mib=max(peak_kib, 0) / 1024,
        method=method,
        tracemalloc_peak_mib=traced_peak / 2**20,
        steps=steps,
    )
    log(f"  memory {key} {name:<9} {entry['rss_peak_mib']:8.1f} MiB above set-up")
    return entry


# --- profile ---------------------------------------------------------------------------------


def profile(name: str, key: str, steps: int, top: int, small: bool) -> str:
    """cProfile of ``steps`` training steps of one implementation; the top entries by tottime."""
    implementation, status, reason = impls.load(name)
    if implementation is None:
        return f"{name}: {status} ({reason})"
    workload = workloads.make(key, small=small)
    runner = implementation.build(workload)
    seconds = _time_steps(runner, 1)
    if steps <= 0:  # about a second's worth, so fast workloads show more than noise
        steps = max(5, min(2000, round(1.0 / max(seconds, 1e-6))))
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        runner.step()
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top)
    return f"## {name} on {key}: {steps} steps, top {top} by tottime\n" + text.getvalue()


# --- entry point -----------------------------------------------------------------------------


def write_json(path: str, payload: dict) -> None:
    """Write ``payload`` to ``path`` atomically (temporary file, then rename)."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(payload, handle, indent=1, default=float)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    """Run one job; see the module docstring. Returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.child")
    parser.add_argument("job", choices=("time", "memory", "profile"))
    parser.add_argument("--keys", required=True, help="workload keys, comma-separated")
    parser.add_argument("--impls", required=True, help="implementations, comma-separated")
    parser.add_argument("--mode", choices=tuple(BUDGETS), default="full")
    parser.add_argument("--small", action="store_true", help="shrunken workloads (smoke test)")
    parser.add_argument("--baseline", choices=("course", "local"), default="course")
    parser.add_argument("--json", help="where to write the result")
    parser.add_argument("--steps", type=int, default=0, help="profile: steps (0: about 1 s)")
    parser.add_argument("--top", type=int, default=15, help="profile: entries to show")
    args = parser.parse_args(argv)
    budget = BUDGETS[args.mode]
    keys = args.keys.split(",")
    names = args.impls.split(",")

    if args.job == "profile":
        for key in keys:
            for name in names:
                print(profile(name, key, args.steps, args.top, args.small))
        return 0
    if args.job == "memory":
        payload = {"memory": [measure_memory(names[0], keys[0], budget, args.small)]}
    else:
        payload = {"workloads": []}
        for key in keys:
            log(f"{key}: building and checking gradients")
            workload = workloads.make(key, small=args.small)
            payload["workloads"].append(
                time_workload(workload, names, budget, use_course=args.baseline == "course")
            )
    payload["header"] = machine.describe()  # after the libraries loaded: BLAS of each seen
    if args.json:
        write_json(args.json, payload)
    else:
        json.dump(payload, sys.stdout, indent=1, default=float)
    return 0


if __name__ == "__main__":
    sys.exit(main())

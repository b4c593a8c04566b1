"""The benchmark driver: ``python -m tinygrad_dl bench`` (or ``python -m benchmarks.run``).

It starts one :mod:`benchmarks.measure` process per workload group, with BLAS, OpenMP, PyTorch
and XLA pinned to ``--threads`` in its environment (so before NumPy is imported there), one per
implementation for the W1 memory measurement; then writes
``benchmarks/results/<name>.{json,md,png}`` and prints the markdown. It times nothing itself.

Exit status: 0; 1 when a gradient disagrees with the baseline or our engine fails; 2 for bad
arguments.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import report, workloads
from benchmarks.frameworks import IMPLEMENTATIONS, LABELS
from benchmarks.measure import BASELINE, MEMORY_METHOD, THREAD_VARS

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
NAMES = tuple(IMPLEMENTATIONS)


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_dl bench",
        description="Time a full training step (forward, backward, update) of the course's "
        "networks with tinygrad_dl (eager and tg.compile), the course's NumPy formulas (ratio "
        "1.0), lean hand-written NumPy, PyTorch, HIPS autograd and JAX; check every gradient "
        "against the baseline, measure W1 peak memory, write a table, JSON and a chart.",
    )
    # fmt: off
    option = parser.add_argument
    option("--quick", action="store_true", help="fewer rounds: under 2 minutes")
    option("--threads", type=int, default=1,
           help="threads for BLAS and every peer (default 1; 0: the libraries' own)")
    option("--workloads", default=",".join(workloads.GROUPS),
           help=f"groups or keys, comma-separated (keys: {','.join(workloads.KEYS)})")
    option("--impls", default=",".join(NAMES),
           help=f"implementations (the baseline is always in): {','.join(NAMES)}")
    option("--no-memory", action="store_true",
           help="skip the W1 memory measurement")
    option("--no-plot", action="store_true", help="skip the PNG bar chart")
    option("--out", type=Path, default=RESULTS, help="output folder")
    option("--name", default="latest", help="file stem of the outputs")
    option("--note", default="", help="a line for the report's header")
    option("--small", action="store_true", help=argparse.SUPPRESS)  # the harness's tests
    # fmt: on
    return parser.parse_args(argv)


def select_keys(text: str) -> list[str]:
    """Workload keys from groups (``W1``) and keys (``W1-float32``), in the canonical order.

    Raises
    ------
    ValueError
        Naming an unknown entry and the known ones.
    """
    wanted = set()
    for item in filter(None, (part.strip() for part in text.split(","))):
        found = {key for key in workloads.KEYS if item in (key, key.split("-")[0])}
        if not found:
            raise ValueError(f"unknown workload {item!r}; keys: {', '.join(workloads.KEYS)}")
        wanted |= found
    return [key for key in workloads.KEYS if key in wanted]


def select_impls(text: str) -> list[str]:
    """Implementation names, the baseline first; unknown names raise ``ValueError``."""
    names = [BASELINE]
    for item in filter(None, (part.strip() for part in text.split(","))):
        if item not in NAMES:
            raise ValueError(f"unknown implementation {item!r}; known: {', '.join(NAMES)}")
        names += [item] if item not in names else []
    return names


def thread_env(threads: int) -> dict[str, str]:
    """This process's environment with BLAS, OpenMP and XLA pinned to ``threads`` (0: as is);
    ``TINYGRAD_DL_BENCH_THREADS`` tells PyTorch's and JAX's set-up the count."""
    env = dict(os.environ, TINYGRAD_DL_BENCH_THREADS=str(threads))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    if threads > 0:
        env.update({name: str(threads) for name in THREAD_VARS})
        extra = "--xla_cpu_multi_thread_eigen=false " if threads == 1 else ""
        xla = f"{env.get('XLA_FLAGS', '')} {extra}intra_op_parallelism_threads={threads}"
        env["XLA_FLAGS"] = xla.strip()
    return env


def run_child(job: dict, threads: int) -> dict | None:
    """Run a :mod:`benchmarks.measure` job in a process pinned to ``threads``; its JSON or None."""
    env = thread_env(threads)
    if job["job"] == "memory":  # glibc keeps freed arrays resident after its threshold grows
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    with tempfile.TemporaryDirectory(prefix="tinygrad_dl_bench_") as folder:
        output = Path(folder) / "result.json"
        command = [sys.executable, "-m", "benchmarks.measure", json.dumps(job), str(output)]
        if subprocess.run(command, env=env, cwd=ROOT, check=False).returncode or not (
                output.exists()):  # fmt: skip
            return None
        return json.loads(output.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring. Returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parse(argv)
    try:
        keys, names = select_keys(args.workloads), select_impls(args.impls)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    mode = "smoke" if args.small else ("quick" if args.quick else "full")
    started, headers, results, memory = time.perf_counter(), [], [], []
    failed = {"status": "error", "reason": "the measuring process failed (see above)"}

    def child(what: str, job: str, keys: list[str], impls: list[str]) -> dict | None:
        print(f"bench: {what} ...", file=sys.stderr, flush=True)
        spec = {"job": job, "keys": keys, "impls": impls, "mode": mode, "small": args.small}
        payload = run_child(spec, args.threads)
        if payload:
            headers.append(payload["header"])
        return payload

    for group in workloads.GROUPS:
        group_keys = [key for key in keys if key.startswith(group)]
        if group_keys:
            payload = child(f"{group} ({', '.join(group_keys)})", "time", group_keys, names)
            results += payload["workloads"] if payload else [
                {"key": key, "title": key, "kind": "", "n_ops": 0,
                 "results": {n: {"label": LABELS[n], **failed} for n in names}}
                for key in group_keys]  # fmt: skip
    if not args.no_memory and "W1-float64" in keys:
        for name in names:
            payload = child(f"memory (W1 float64), {name}", "memory", ["W1-float64"], [name])
            memory += payload["memory"] if payload else [
                {"impl": name, "label": LABELS[name], **failed}]  # fmt: skip
    result = {
        "schema": 3,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "tinygrad_dl", "bench", *argv]),
        "mode": mode, "threads": args.threads, "note": args.note,
        "header": headers[0] if headers else {},
        "workloads": results, "memory": memory, "memory_method": MEMORY_METHOD,
        "elapsed_s": time.perf_counter() - started, "git": _git_state(),
    }  # fmt: skip
    result["targets"] = report.targets(result)
    paths = report.write_all(result, args.out, args.name, plot=not args.no_plot)
    print(report.markdown(result))
    for path in paths:
        print(f"bench: wrote {path}", file=sys.stderr)
    print(f"bench: {result['elapsed_s']:.0f} s in all", file=sys.stderr)
    return 1 if report.failures(result) else 0


def _git_state() -> str:
    """The checkout's commit, and whether tracked files differ from it (empty outside git)."""
    try:
        commit, changed = (
            subprocess.run(
                ["git", *command], cwd=ROOT, capture_output=True, text=True
            ).stdout.strip()
            for command in (
                ["rev-parse", "--short", "HEAD"],
                ["status", "--porcelain", "--untracked-files=no"],
            )
        )
    except OSError:
        return ""
    return f"commit {commit}" + (" with uncommitted changes" if changed else "") if commit else ""


if __name__ == "__main__":
    sys.exit(main())

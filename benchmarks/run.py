"""The benchmark driver: ``python -m tinygrad_dl bench`` (or ``python -m benchmarks.run``).

It starts one :mod:`benchmarks.measure` process per workload group, with BLAS, OpenMP, PyTorch
and XLA pinned to ``--threads`` in its environment (so before NumPy is imported there), one per
implementation for the W1 memory measurement and one for the rows beside the steps; then writes
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
    parser.add_argument("--quick", action="store_true", help="fewer rounds: under 2 minutes")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for BLAS and every peer (default 1; 0: the libraries' own)",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(workloads.GROUPS),
        help=f"groups or keys, comma-separated (keys: {','.join(workloads.KEYS)})",
    )
    parser.add_argument(
        "--impls",
        default=",".join(NAMES),
        help=f"implementations (the baseline is always in): {','.join(NAMES)}",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the memory measurement and the rows beside the steps",
    )
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG bar chart")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--name", default="latest", help="file stem of the outputs")
    parser.add_argument("--note", default="", help="a line for the report's header")
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)  # tests only
    return parser.parse_args(argv)  # fmt: skip


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


def run_child(job: list[str], threads: int, memory: bool = False) -> dict | None:
    """Run ``python -m benchmarks.measure JOB...`` pinned to ``threads``; its JSON or None."""
    env = thread_env(threads)
    if memory:  # glibc keeps freed arrays resident after its threshold grows: fix it
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    with tempfile.TemporaryDirectory(prefix="tinygrad_dl_bench_") as folder:
        output = Path(folder) / "result.json"
        command = [sys.executable, "-m", "benchmarks.measure", *job, "--json", str(output)]
        completed = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if completed.returncode != 0 or not output.exists():
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
    common = ["--mode", mode] + (["--small"] if args.small else [])
    started, headers, results, memory, beside = time.perf_counter(), [], [], [], []

    def child(what: str, job: list[str], memory: bool = False) -> dict | None:
        print(f"bench: {what} ...", file=sys.stderr, flush=True)
        payload = run_child([*job, *common], args.threads, memory)
        if payload is not None:
            headers.append(payload["header"])
        return payload

    failed = {"status": "error", "reason": "the measuring process failed (see above)"}
    for group in workloads.GROUPS:
        group_keys = [key for key in keys if key.startswith(group)]
        if group_keys:
            job = ["time", "--keys", ",".join(group_keys), "--impls", ",".join(names)]
            payload = child(f"{group} ({', '.join(group_keys)})", job)
            results += payload["workloads"] if payload else [
                {"key": key, "title": key, "kind": "", "n_ops": 0,
                 "results": {n: {"label": LABELS[n], **failed} for n in names}}
                for key in group_keys]  # fmt: skip
    if not args.no_memory and "W1-float64" in keys:
        for name in names:
            job = ["memory", "--keys", "W1-float64", "--impls", name]
            payload = child(f"memory (W1 float64), {name}", job, memory=True)
            memory += payload["memory"] if payload else [{"impl": name, **failed,
                                                          "label": LABELS[name]}]  # fmt: skip
    if not args.no_memory:
        payload = child(
            "beside the steps (conv2d, in-place changes)", ["beside", "--keys", "-", "--impls", "-"]
        )
        beside = payload["beside"] if payload else []
    result = {
        "schema": 3,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "tinygrad_dl", "bench", *argv]),
        "mode": mode, "threads": args.threads, "note": args.note,
        "header": report.merge_headers(headers),
        "workloads": results, "memory": memory, "beside": beside, "memory_method": MEMORY_METHOD,
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

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--untracked-files=no")
    except OSError:
        return ""
    return f"commit {commit}" + (" with uncommitted changes" if changed else "") if commit else ""


if __name__ == "__main__":
    sys.exit(main())

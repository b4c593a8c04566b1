"""The benchmark driver: ``python -m tinygrad_dl bench`` (or ``python -m benchmarks.run``).

It starts one child process (:mod:`benchmarks.child`) per workload, with BLAS, OpenMP, PyTorch
and XLA pinned to one thread in the child's environment (so before NumPy is imported there),
and one more per implementation for the memory measurement. It then writes
``benchmarks/results/<name>.json``, ``<name>.md`` and ``<name>.png`` (the bar chart needs
matplotlib) and prints the markdown. The driver itself times nothing.

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

from benchmarks import impls, machine, report, workloads

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
QUICK_NOTE = "--quick: fewer rounds and shorter samples; expect more noise than a full run."


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_dl bench",
        description=(
            "Time a full training step (forward, backward, update) of the course's networks "
            "with tinygrad_dl, hand-written NumPy (the baseline, ratio 1.0), PyTorch, HIPS "
            "autograd and JAX, check every gradient against the baseline, measure peak memory, "
            "and write a markdown table, JSON and a bar chart under benchmarks/results/."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds: under 2 minutes")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="threads for BLAS and every peer (default 1; 0 leaves the libraries' defaults)",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(workloads.GROUPS),
        help=f"comma-separated groups or keys (default all: {','.join(workloads.GROUPS)}; "
        f"keys: {','.join(workloads.KEYS)})",
    )
    parser.add_argument(
        "--impls",
        default=",".join(spec.name for spec in impls.IMPLS),
        help="comma-separated implementations (the baseline 'numpy' is always included)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--no-plot", action="store_true", help="skip the PNG bar chart")
    parser.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--name", default="latest", help="file stem of the outputs")
    parser.add_argument(
        "--baseline",
        choices=("course", "local"),
        default="course",
        help="baseline code: tinygrad_dl.course where it has the workload (default), or the "
        "same formulas written in benchmarks/impls/numpy_course.py",
    )
    parser.add_argument(
        "--unset-openblas-env",
        action="store_true",
        help="remove OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE from the children's environment",
    )
    parser.add_argument("--note", default="", help="a line for the report's header")
    parser.add_argument(
        "--profile",
        metavar="IMPL",
        help="instead of timing, print a cProfile (top entries by tottime) of IMPL's steps on "
        "each selected workload",
    )
    parser.add_argument(
        "--profile-steps", type=int, default=0, help="steps to profile (default: about 1 s)"
    )
    parser.add_argument("--profile-top", type=int, default=15, help="profile entries shown")
    parser.add_argument("--small", action="store_true", help=argparse.SUPPRESS)  # smoke test
    return parser.parse_args(argv)


def select_keys(text: str) -> list[str]:
    """Workload keys from a comma-separated list of groups (``W1``) and keys (``W1-float32``).

    Raises
    ------
    ValueError
        Naming an unknown entry and the known ones.
    """
    keys: list[str] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        found = [key for key in workloads.KEYS if key == item or key.split("-")[0] == item]
        if not found:
            raise ValueError(
                f"unknown workload {item!r}; groups: {', '.join(workloads.GROUPS)}; "
                f"keys: {', '.join(workloads.KEYS)}"
            )
        keys += [key for key in found if key not in keys]
    return [key for key in workloads.KEYS if key in keys]  # the canonical order


def select_impls(text: str) -> list[str]:
    """Implementation names (the baseline first, always present); unknown names raise."""
    names = [impls.BASELINE]
    for item in filter(None, (part.strip() for part in text.split(","))):
        impls.spec(item)
        if item not in names:
            names.append(item)
    return names


def child_env(args: argparse.Namespace, memory: bool = False) -> dict[str, str]:
    """The environment of a child: threads pinned, repo importable, optional OpenBLAS unset."""
    env = machine.thread_env(args.threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    if args.unset_openblas_env:
        for name in machine.OPENBLAS_TUNING:
            env.pop(name, None)
    if memory:
        # A fixed threshold keeps glibc from raising it after the first big free, which would
        # keep freed arrays resident and hide what each step allocates.
        env["MALLOC_MMAP_THRESHOLD_"] = "131072"
    return env


def run_child(job: list[str], env: dict[str, str]) -> tuple[dict | None, str]:
    """Run ``python -m benchmarks.child JOB...``; its JSON result, or None and why not."""
    with tempfile.TemporaryDirectory(prefix="tinygrad_dl_bench_") as folder:
        output = Path(folder) / "result.json"
        command = [sys.executable, "-m", "benchmarks.child", *job, "--json", str(output)]
        completed = subprocess.run(command, env=env, cwd=ROOT, check=False)
        if completed.returncode != 0 or not output.exists():
            return None, f"child process failed (exit status {completed.returncode}; see above)"
        return json.loads(output.read_text(encoding="utf-8")), ""


def _failed_workload(key: str, names: list[str], reason: str) -> dict:
    workload = workloads.make(key, small=True)  # only its description is used
    return {
        "key": key,
        "group": workload.group,
        "title": workload.title,
        "kind": workload.kind,
        "dtype": workload.dtype,
        "n_ops": workload.n_ops,
        "results": {
            name: {"label": impls.spec(name).label, "status": "error", "reason": reason}
            for name in names
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; see the module docstring. Returns the exit status."""
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    try:
        keys = select_keys(args.workloads)
        names = select_impls(args.impls)
        if args.profile:
            impls.spec(args.profile)
    except ValueError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    mode = "smoke" if args.small else ("quick" if args.quick else "full")
    common = ["--mode", mode, "--baseline", args.baseline] + (["--small"] if args.small else [])

    if args.profile:
        job = ["profile", "--keys", ",".join(keys), "--impls", args.profile]
        job += ["--steps", str(args.profile_steps), "--top", str(args.profile_top), *common]
        command = [sys.executable, "-m", "benchmarks.child", *job]
        return subprocess.run(command, env=child_env(args), cwd=ROOT, check=False).returncode

    started = time.perf_counter()
    headers, results, memory = [], [], []
    for group in workloads.GROUPS:  # one process per workload (its sizes and dtypes together)
        group_keys = [key for key in keys if key.split("-")[0] == group]
        if not group_keys:
            continue
        print(f"bench: {group} ({', '.join(group_keys)}) ...", file=sys.stderr, flush=True)
        job = ["time", "--keys", ",".join(group_keys), "--impls", ",".join(names), *common]
        child_started = time.perf_counter()
        payload, failure = run_child(job, child_env(args))
        print(f"bench: {group} took {time.perf_counter() - child_started:.0f} s",
              file=sys.stderr, flush=True)  # fmt: skip
        if payload is None:
            results += [_failed_workload(key, names, failure) for key in group_keys]
            continue
        headers.append(payload["header"])
        results += payload["workloads"]
    if not args.no_memory and any(key.startswith("W1") for key in keys):
        print("bench: memory (W1 float64), one process each ...", file=sys.stderr, flush=True)
        for name in names:
            job = ["memory", "--keys", "W1-float64", "--impls", name, *common]
            payload, failure = run_child(job, child_env(args, memory=True))
            if payload is None:
                memory.append({"impl": name, "label": impls.spec(name).label, "status": "error",
                               "reason": failure, "key": "W1-float64"})  # fmt: skip
                continue
            headers.append(payload["header"])
            memory += payload["memory"]

    result = {
        "schema": 1,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(["python", "-m", "tinygrad_dl", "bench", *(argv or sys.argv[1:])]),
        "mode": mode,
        "threads": args.threads,
        "baseline": args.baseline,
        "unset_openblas_env": args.unset_openblas_env,
        "note": " ".join(filter(None, [args.note, QUICK_NOTE if args.quick else ""])),
        "parent_environment": {name: os.environ.get(name) for name in machine.OPENBLAS_TUNING},
        "header": report.merge_headers(headers),
        "workloads": results,
        "memory": memory,
        "memory_method": _memory_method(),
        "elapsed_s": time.perf_counter() - started,
        "git": _git_state(),
    }
    result["targets"] = report.targets(result)
    paths = report.write_all(result, args.out, args.name, plot=not args.no_plot)
    print(report.markdown(result))
    for path in paths:
        print(f"bench: wrote {path}", file=sys.stderr)
    print(f"bench: {result['elapsed_s']:.0f} s in all", file=sys.stderr)
    return 1 if report.failures(result) else 0


def _git_state() -> str:
    """The checkout's commit, and whether files differ from it (empty outside git)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return ""
    if not commit:
        return ""
    return f"commit {commit}" + (" with uncommitted changes" if changed else "")


def _memory_method() -> str:
    from benchmarks.child import MEMORY_METHOD  # noqa: PLC0415 - imports NumPy; only here

    return MEMORY_METHOD


if __name__ == "__main__":
    sys.exit(main())

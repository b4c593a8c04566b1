"""The GPU check: the backend tests on CuPy, then one training step timed on the GPU.

Run on a machine with an NVIDIA GPU and CuPy (``pip install 'tinygrad-dl[gpu]'``)::

    python benchmarks/gpu_check.py            # 2-4 minutes; the table also goes to $OUT
    python benchmarks/gpu_check.py --dry-run  # the same plumbing on array_api_strict, CPU only

1. ``pytest tests/test_backend.py --backend cuda``: every op, gradient, nn layer, loss and
   optimiser case compared with NumPy on the CPU (exit status 1 if any fails).
2. One training step (forward, cost, backward, update) of the course's deep network
   ``[12288, 20, 7, 5, 1]`` at m = 209 and m = 8,192, the wide network ``[4096, 1024, 1024, 1]``
   at m = 16,384 and the MLP W5 ``[784, 256, 256, 10]`` at batch 128, in float32 and float64,
   for: tinygrad_dl eager on the GPU; the same step replayed as a CUDA graph (CuPy's stream
   capture of the eager step) where it can be captured; the course's formulas hand-written in
   CuPy; PyTorch CUDA eager where installed. Each cell is the median of timed steps after
   warm-up, synchronised; a cell that fails shows its error instead of stopping the run.

``--dry-run`` runs the tests with ``--backend array_api_strict`` and the timings on
array_api_strict arrays (hand-written formulas in that namespace, PyTorch on the CPU) at small
sizes: the plumbing is exercised by ``tests/test_gpu_check.py`` without a GPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import tinygrad_dl as tg  # noqa: E402
from benchmarks.frameworks import Framework, Runner  # noqa: E402
from benchmarks.workloads import SEED, Workload, cat_like_data, init  # noqa: E402
from tinygrad_dl.nn import functional as F  # noqa: E402


def say(*parts: Any) -> None:
    print(*parts, flush=True)


# -- workloads ---------------------------------------------------------------------------------
def workloads(dry_run: bool) -> list[Workload]:
    """The timed networks, float32 and float64 each (tiny stand-ins for a dry run)."""
    cases = []
    for dtype in ("float32", "float64"):
        if dry_run:
            cases.append(_binary("deep m=16", [48, 20, 7, 5, 1], 16, dtype, "deep"))
            cases.append(_softmax("W5 batch 8", [20, 16, 16, 10], 8, dtype))
            continue
        cases.append(_binary("deep m=209", [12288, 20, 7, 5, 1], 209, dtype, "deep"))
        cases.append(_binary("deep m=8192", [12288, 20, 7, 5, 1], 8192, dtype, "deep"))
        cases.append(_binary("wide m=16384", [4096, 1024, 1024, 1], 16384, dtype, "he"))
        cases.append(_softmax("W5 batch 128", [784, 256, 256, 10], 128, dtype))
    return cases


def _binary(name: str, dims: list[int], m: int, dtype: str, scheme: str) -> Workload:
    rng = np.random.default_rng(SEED)
    if dims[0] == 12288 and m == 209:
        X, Y = cat_like_data(m)
    else:
        X = rng.random((dims[0], m))
        Y = (rng.random((1, m)) < 0.5).astype(np.float64)
    params = {k: v.astype(dtype) for k, v in init(dims, scheme).items()}
    return Workload(
        key=f"{name} {dtype}",
        title=f"{name} {dims} {dtype}",
        kind="binary_mlp",
        dtype=dtype,
        params=params,
        X=np.ascontiguousarray(X[: dims[0]], dtype=dtype),
        Y=np.ascontiguousarray(Y, dtype=dtype),
        learning_rate=0.0075,
    )


def _softmax(name: str, dims: list[int], m: int, dtype: str) -> Workload:
    rng = np.random.default_rng(SEED)
    labels = rng.integers(0, dims[-1], size=m)
    Y = np.zeros((dims[-1], m))
    Y[labels, np.arange(m)] = 1.0
    return Workload(
        key=f"{name} {dtype}",
        title=f"{name} {dims} {dtype}",
        kind="softmax_mlp",
        dtype=dtype,
        params={k: v.astype(dtype) for k, v in init(dims, "he").items()},
        X=np.ascontiguousarray(rng.random((dims[0], m)), dtype=dtype),
        Y=np.ascontiguousarray(Y, dtype=dtype),
        labels=labels,
        learning_rate=0.1,
    )


# -- implementations: each returns a step() that runs one synchronised-at-the-end step ---------
def engine_step(workload: Workload, device: str) -> Callable[[], None]:
    """tinygrad_dl eager, every Tensor on ``device``; the benchmark's own Runner and cost."""
    framework = Framework(
        array=lambda a, requires_grad=False: tg.Tensor(
            a, requires_grad=requires_grad, device=device
        ),
        relu=lambda Z: Z.relu(),
        tanh=lambda Z: Z.tanh(),
        bce=F.binary_cross_entropy_with_logits,
        softmax_ce=lambda Z, Y, labels: F.cross_entropy(Z.T, labels),
        tape=True,
        to_numpy=lambda t: t.numpy(),
    )
    runner = Runner(framework, workload)

    def step() -> None:
        runner.step()

    step.params = [p.data for p in runner.params]  # type: ignore[attr-defined]  # for tests
    return step


def hand_step(workload: Workload, xp: Any, to_device: Callable) -> Callable[[], None]:
    """The course's formulas written by hand in namespace ``xp`` (CuPy, array_api_strict):
    ``Z^[l] = W^[l] A^[l-1] + b^[l]``, ReLU, sigmoid (or softmax) output,
    ``dZ^[L] = (A^[L] - Y) / m``, ``dW^[l] = dZ^[l] A^[l-1]^T``, ``db^[l] = sum(dZ^[l])``,
    ``dZ^[l-1] = W^[l]^T dZ^[l] * (Z^[l-1] > 0)``, ``W := W - alpha dW``."""
    params = [to_device(np.array(a)) for a in workload.params.values()]  # never the originals
    X, Y = to_device(workload.X), to_device(workload.Y)
    m, alpha, layers = workload.m, workload.learning_rate, len(params) // 2
    softmax = workload.kind == "softmax_mlp"

    def step() -> None:
        A, cache = X, []
        for l in range(layers):
            W, b = params[2 * l], params[2 * l + 1]
            Z = W @ A + b
            cache.append((A, Z))
            A = xp.maximum(Z, 0.0) if l < layers - 1 else Z
        if softmax:
            E = xp.exp(A - xp.max(A, axis=0, keepdims=True))
            A = E / xp.sum(E, axis=0, keepdims=True)
        else:
            A = 1.0 / (1.0 + xp.exp(-A))
        dZ = (A - Y) / m
        for l in range(layers - 1, -1, -1):
            A_prev, _ = cache[l]
            W = params[2 * l]
            dW = dZ @ A_prev.T
            db = xp.sum(dZ, axis=1, keepdims=True)
            if l > 0:
                dZ = xp.where(cache[l - 1][1] > 0, W.T @ dZ, 0.0)
            params[2 * l] -= alpha * dW
            params[2 * l + 1] -= alpha * db

    step.params = params  # type: ignore[attr-defined]  # for tests
    return step


def torch_step(workload: Workload, device: str) -> Callable[[], None]:
    """PyTorch eager on ``device``, the same cost and update."""
    import torch

    params = [torch.tensor(a, device=device, requires_grad=True) for a in workload.params.values()]
    X, Y = torch.tensor(workload.X, device=device), torch.tensor(workload.Y, device=device)
    labels = None if workload.labels is None else torch.tensor(workload.labels, device=device)
    layers, alpha = len(params) // 2, workload.learning_rate

    def step() -> None:
        A = X
        for l in range(layers):
            Z = params[2 * l] @ A + params[2 * l + 1]
            A = torch.relu(Z) if l < layers - 1 else Z
        if labels is not None:
            cost = torch.nn.functional.cross_entropy(A.T, labels)
        else:
            cost = torch.nn.functional.binary_cross_entropy_with_logits(A, Y)
        cost.backward()
        with torch.no_grad():
            for p in params:
                p -= alpha * p.grad
                p.grad = None

    return step


def cuda_graph_step(step: Callable[[], None], cupy: Any) -> Callable[[], None]:
    """``step`` captured once as a CUDA graph (CuPy stream capture); replay launches it.

    Raises whatever the capture raises (an operation that syncs with the host or allocates in
    a way capture refuses): the caller reports it in the table.
    """
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        step()  # warm the memory pool outside the capture
        stream.synchronize()
        stream.begin_capture()
        try:
            step()
        finally:
            graph = stream.end_capture()
    return lambda: graph.launch(stream)


# -- timing ------------------------------------------------------------------------------------
def timed(step: Callable[[], None], sync: Callable[[], None], budget_s: float) -> float:
    """Median seconds of one step: 2 warm-up steps, then steps until ``budget_s`` (3 to 50)."""
    for _ in range(2):
        step()
    sync()
    times: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(times) < 3 or (time.perf_counter() < deadline and len(times) < 50):
        start = time.perf_counter()
        step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_tests(backend: str, timeout_s: int) -> tuple[bool, str]:
    """pytest on the backend-parametrised tests; (passed, its last line)."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "tests/test_backend.py",
        f"--backend={backend}",
    ]
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = dict(os.environ, HYPOTHESIS_PROFILE="ci", PYTHONPATH=path)
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired:
        return False, f"pytest timed out after {timeout_s} s"
    lines = (done.stdout + done.stderr).strip().splitlines()
    for line in lines:
        if line.startswith("FAILED") or line.startswith("ERROR"):
            say("   ", line)
    return done.returncode == 0, lines[-1] if lines else "(no output)"


def main(argv: list[str] | None = None) -> int:
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
    args = parser.parse_args(argv)
    budget = args.budget if args.budget is not None else (0.05 if args.dry_run else 0.4)
    started = time.perf_counter()

    if args.dry_run:
        import array_api_strict as xp

        device, cupy = "array_api_strict", None
        strict_device = xp.Device("device1")

        def to_device(a: np.ndarray) -> Any:
            return xp.asarray(a, device=strict_device)

        def sync() -> None:
            return None

        torch_device = "cpu"
    else:
        try:
            import cupy
        except ImportError:
            say(
                "gpu_check: CuPy is not installed (pip install 'tinygrad-dl[gpu]'); "
                "use --dry-run to check the plumbing on the CPU"
            )
            return 2
        xp = tg.backend.namespace(cupy.ones(1))
        device, torch_device = "cuda", "cuda"
        to_device = cupy.asarray

        def sync() -> None:
            cupy.cuda.Device().synchronize()

        say(
            f"gpu_check: CuPy {cupy.__version__}, {cupy.cuda.runtime.getDeviceCount()} GPU(s), "
            f"device 0: {cupy.cuda.runtime.getDeviceProperties(0)['name'].decode()}"
        )

    failed_tests = False
    test_line = "skipped"
    if not args.skip_tests:
        say(f"[1/2] backend tests on {device} ...")
        # CuPy compiles each new kernel on first use (seconds in all): a generous limit
        passed, test_line = run_tests(device, timeout_s=210)
        failed_tests = not passed
        say(f"      {'passed' if passed else 'FAILED'}: {test_line}")

    try:
        import torch

        has_torch = torch_device == "cpu" or torch.cuda.is_available()
    except ImportError:
        has_torch = False

    implementations: list[tuple[str, Callable[[Workload], Callable[[], None]]]] = [
        ("tinygrad_dl", lambda w: engine_step(w, device)),
        ("hand-written", lambda w: hand_step(w, xp, to_device)),
    ]
    if cupy is not None:
        implementations.append(
            ("tinygrad_dl CUDA graph", lambda w: cuda_graph_step(engine_step(w, device), cupy))
        )
    if has_torch:
        implementations.append((f"torch {torch_device}", lambda w: torch_step(w, torch_device)))

    say(f"[2/2] one training step, median ms ({device}) ...")
    rows: list[list[str]] = []
    for workload in workloads(args.dry_run):
        row = [workload.key]
        seconds: dict[str, float] = {}
        for name, make in implementations:
            try:
                seconds[name] = timed(make(workload), sync, budget)
                row.append(f"{seconds[name] * 1e3:.3f}")
            except Exception as error:  # a cell's failure is reported, the run goes on
                row.append(f"error: {type(error).__name__}: {str(error)[:60]}")
                say(
                    f"      {workload.key} / {name}:",
                    "".join(traceback.format_exception_only(type(error), error)).strip()[:300],
                )
        ours, hand = seconds.get("tinygrad_dl"), seconds.get("hand-written")
        row.append(f"{ours / hand:.2f}x" if ours and hand else "-")
        rows.append(row)
        say("     ", " | ".join(row))

    header = ["case"] + [name for name, _ in implementations] + ["tinygrad_dl / hand"]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    table += ["| " + " | ".join(row) + " |" for row in rows]
    report = "\n".join(
        [
            f"# gpu_check ({'dry run, array_api_strict' if args.dry_run else device})",
            "",
            f"backend tests: {'FAILED' if failed_tests else 'passed'} ({test_line})",
            "",
            "one training step, median milliseconds",
            "",
        ]
        + table
        + ["", f"total {time.perf_counter() - started:.0f} s"]
    )
    say("")
    say(report)
    out = os.environ.get("OUT")
    if out:
        path = Path(out) / ("gpu_check_dry_run.md" if args.dry_run else "gpu_check.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report + "\n")
        say(f"table written to {path}")
    return 1 if failed_tests else 0


if __name__ == "__main__":
    sys.exit(main())

"""The benchmark's outputs: JSON, the markdown table, the PNG bar chart of ratios, the targets.

Everything here reads the result dictionary the driver assembles (the JSON's content); files are
written atomically (a temporary file, then a rename), so an interrupted run never leaves half a
table in place of a good one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks import impls

# Issue 7's targets for this engine (ratios to hand-written NumPy, single-threaded).
W1_FLOAT64_MAX_RATIO = 0.67
W1_FLOAT32_MAX_RATIO = 0.70
W2_MAX_RATIO = 1.3
W4_MAX_FRACTION_OF_TORCH = 0.5
W4_MAX_GROWTH = 1.3  # per-op time of the 100,000-op chain over the 1,000-op chain: "flat"
W1_MAX_MEMORY_MIB = 5.0
W5_MAX_FRACTION_OF_TORCH = 0.8
ENGINE = "engine"
NUMPY_BUFFERS = ("numpy", "engine", "autograd")  # tracemalloc sees these implementations' arrays


def merge_headers(headers: list[dict]) -> dict:
    """One header from the children's: the first one's, with every BLAS seen by any child."""
    if not headers:
        return {}
    merged = json.loads(json.dumps(headers[0]))
    seen = {json.dumps(record, sort_keys=True) for record in merged.get("blas", [])}
    for header in headers[1:]:
        for record in header.get("blas", []):
            text = json.dumps(record, sort_keys=True)
            if text not in seen:
                seen.add(text)
                merged["blas"].append(record)
    return merged


def _result(result: dict, key: str, name: str) -> dict:
    for workload in result["workloads"]:
        if workload["key"] == key:
            return workload["results"].get(name, {})
    return {}


def _memory(result: dict, name: str) -> dict:
    for entry in result.get("memory", []):
        if entry.get("label") == impls.spec(name).label:
            return entry
    return {}


def targets(result: dict) -> list[dict]:
    """Issue 7's targets for the engine, each with what was measured and whether it holds.

    Returns
    -------
    list of dict
        ``target`` (text), ``measured`` (number or None when not measured), ``limit``,
        ``unit`` and ``status`` (``"pass"``, ``"FAIL"`` or ``"not measured"``).
    """
    rows = []

    def add(text: str, measured: float | None, limit: float | None, unit: str) -> None:
        if measured is None or limit is None:
            status = "not measured"
        else:
            status = "pass" if measured <= limit else "FAIL"
        rows.append(
            {"target": text, "measured": measured, "limit": limit, "unit": unit, "status": status}
        )

    def ratio(key: str, name: str = ENGINE) -> float | None:
        return _result(result, key, name).get("ratio")

    add("W1 float64 ratio", ratio("W1-float64"), W1_FLOAT64_MAX_RATIO, "x NumPy")
    add("W1 float32 ratio", ratio("W1-float32"), W1_FLOAT32_MAX_RATIO, "x NumPy")
    add("W2 ratio", ratio("W2"), W2_MAX_RATIO, "x NumPy")
    engine_op = _result(result, "W4-1k", ENGINE).get("per_op_us")
    torch_op = _result(result, "W4-1k", "torch").get("per_op_us")
    add(
        "W4 per-op time (1,000 ops) vs PyTorch's",
        engine_op / torch_op if engine_op and torch_op else None,
        W4_MAX_FRACTION_OF_TORCH,
        "x PyTorch",
    )
    long_op = _result(result, "W4-100k", ENGINE).get("per_op_us")
    add(
        "W4 per-op time, 100,000 / 1,000 ops (flat)",
        long_op / engine_op if long_op and engine_op else None,
        W4_MAX_GROWTH,
        "x",
    )
    add(
        "W1 peak memory above set-up",
        _memory(result, ENGINE).get("rss_peak_mib"),
        W1_MAX_MEMORY_MIB,
        "MiB",
    )
    engine_w5, torch_w5 = ratio("W5"), ratio("W5", "torch")
    add(
        "W5 ratio vs PyTorch's ratio",
        engine_w5 / torch_w5 if engine_w5 and torch_w5 else None,
        W5_MAX_FRACTION_OF_TORCH,
        "x PyTorch",
    )
    return rows


def failures(result: dict) -> list[str]:
    """What makes the run fail: gradient mismatches and errors of ours (peers' are reported)."""
    found = []
    for workload in result["workloads"]:
        for name, entry in workload["results"].items():
            grad = entry.get("grad")
            if grad is not None and not grad.get("ok", False):
                found.append(f"{workload['key']} {name}: gradient differs from the baseline")
            if entry.get("status") == "error" and not impls.spec(name).peer:
                found.append(f"{workload['key']} {name}: {entry.get('reason')}")
    return found


# --- markdown --------------------------------------------------------------------------------


def _names(result: dict) -> list[str]:
    present = {name for workload in result["workloads"] for name in workload["results"]}
    return [spec.name for spec in impls.IMPLS if spec.name in present]


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} us"


def _cell(entry: dict, field: str = "ratio") -> str:
    status = entry.get("status", "")
    if status != "ok":
        return {"not installed": "not installed", "skipped": "skipped"}.get(status, "**error**")
    if "median_s" not in entry:
        return "-"
    flag = "" if entry.get("grad", {}).get("ok", True) else " **grad mismatch**"
    if field == "per_op_us":
        return f"{entry['per_op_us']:.2f} us" + flag
    ratio = entry.get("ratio")
    text = f"{ratio:.2f}" if ratio is not None else "-"
    return f"{text} ({_seconds(entry['median_s'])})" + flag


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _header_lines(result: dict) -> list[str]:
    header = result.get("header", {})
    cpu = header.get("machine", {})
    versions = header.get("versions", {})
    lines = [
        f"- Created {result['created']} with `{result['command'].strip()}` "
        f"(mode {result['mode']}, {result.get('elapsed_s', 0):.0f} s).",
    ]
    if result.get("note"):
        lines.append(f"- Note: {result['note']}")
    if cpu:
        lines.append(
            f"- Machine: {cpu.get('cpu')}, {cpu.get('logical_cpus')} logical CPUs, "
            f"{cpu.get('system')} {cpu.get('arch')}, Python {cpu.get('python')}."
        )
    if versions:
        lines.append("- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".")
    for record in header.get("blas", []):
        if "error" in record:
            lines.append(f"- BLAS: {record['error']}")
            continue
        path = str(record.get("filepath", ""))
        library = path.split("site-packages/")[-1]  # numpy.libs/..., torch/lib/...
        details = [
            f"{record.get('internal_api')} {record.get('version') or ''}".strip(),
            f"kernel {record['architecture']}" if record.get("architecture") else "",
            f"threading {record['threading_layer']}" if record.get("threading_layer") else "",
            f"{record.get('num_threads')} thread(s)",
            f"`{library}`",
        ]
        lines.append(f"- {record.get('user_api')}: " + ", ".join(filter(None, details)) + ".")
    threads = result.get("threads", 1)
    if threads > 0:
        lines.append(
            f"- Threads: BLAS, OpenMP, PyTorch and XLA pinned to {threads} "
            "(environment set before NumPy is imported; `torch.set_num_threads`; `XLA_FLAGS` "
            "and, as XLA sizes its pool from it, the CPU affinity while JAX's backend starts)."
        )
    else:
        lines.append("- Threads: the libraries' defaults (`--threads 0`).")
    parent = result.get("parent_environment", {})
    tuning = [f"`{k}={v}`" for k, v in parent.items() if v is not None]
    if tuning:
        unset = " (removed for this run: `--unset-openblas-env`)"
        lines.append(
            "- OpenBLAS tuning variables set: "
            + ", ".join(tuning)
            + (unset if result.get("unset_openblas_env") else " (left as they are; they can "
               "slow a current NumPy: try `--unset-openblas-env`)")
            + "."
        )  # fmt: skip
    else:
        lines.append("- `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` are not set.")
    lines.append(f"- Baseline code: {result.get('baseline', 'course')} (see Method).")
    if result.get("git"):
        lines.append(f"- Repository: {result['git']}.")
    spreads = sorted(
        (entry["spread"], f"{workload['key']}, {entry['label']}")
        for workload in result["workloads"]
        for entry in workload["results"].values()
        if entry.get("spread") is not None
    )
    if spreads:
        typical = spreads[len(spreads) // 2][0]
        lines.append(
            "- Noise: interquartile range of the rounds over their median: typically "
            f"{typical:.0%}, at most {spreads[-1][0]:.0%} ({spreads[-1][1]})."
        )
    return lines


def markdown(result: dict) -> str:
    """The report as markdown: header, ratio table, per-op table, gradients, memory, targets."""
    names = _names(result)
    labels = [impls.spec(name).label for name in names]
    lines = ["# tinygrad_dl benchmark", ""] + _header_lines(result) + [""]

    lines += [
        "## Time per training step, as a ratio to hand-written NumPy (lower is faster)",
        "",
        "Each cell: median time per step / the NumPy baseline's of the same workload and dtype "
        "(median time per step in brackets).",
        "",
    ]
    rows = [
        [workload["title"]] + [_cell(workload["results"].get(name, {})) for name in names]
        for workload in result["workloads"]
    ]
    lines += _table(["workload"] + labels, rows) + [""]

    chains = [w for w in result["workloads"] if w["kind"] == "chain"]
    if chains:
        lines += ["## W4: time per elementwise op, forward + backward", ""]
        rows = [
            [f"{w['n_ops']:,} ops"] + [_cell(w["results"].get(n, {}), "per_op_us") for n in names]
            for w in chains
        ]
        lines += _table(["chain"] + labels, rows) + [""]

    lines += [
        "## Gradients at the initial parameters: max abs difference from the baseline",
        "",
        "float64 must agree to < 1e-12; float32 to 1e-4 relative to the largest gradient.",
        "",
    ]
    rows = []
    for workload in result["workloads"]:
        row = [workload["key"]]
        for name in names[1:]:
            grad = workload["results"].get(name, {}).get("grad")
            if grad is None:
                row.append("-")
            elif "problem" in grad:
                row.append(f"**FAIL** {grad['problem']}")
            else:
                mark = "ok" if grad["ok"] else "**FAIL**"
                row.append(f"{grad['max_abs_diff']:.1e} {mark}")
        rows.append(row)
    lines += _table(["workload"] + labels[1:], rows) + [""]

    if result.get("memory"):
        lines += ["## Peak memory above set-up during W1 float64 steps", ""]
        rows = []
        for entry in result["memory"]:
            if entry.get("status") != "ok":
                rows.append([entry["label"], entry.get("status", ""), "-"])
                continue
            traced = f"{entry['tracemalloc_peak_mib']:.1f} MiB"
            if entry.get("impl") not in NUMPY_BUFFERS:
                traced = "n/a (its buffers are not NumPy's)"
            rows.append(
                [entry["label"], f"{entry['rss_peak_mib']:.1f} MiB ({entry['method']})", traced]
            )
        lines += _table(["implementation", "peak RSS above set-up", "tracemalloc peak"], rows)
        lines += [""]

    if result.get("targets"):
        lines += ["## Issue 7's targets for tinygrad_dl", ""]
        rows = []
        for row in result["targets"]:
            measured = "-" if row["measured"] is None else f"{row['measured']:.2f} {row['unit']}"
            rows.append(
                [row["target"], measured, f"<= {row['limit']} {row['unit']}", row["status"]]
            )
        lines += _table(["target", "measured", "limit", "status"], rows) + [""]

    notes = []
    for workload in result["workloads"]:
        for entry in workload["results"].values():
            if entry.get("reason"):
                notes.append(f"- {workload['key']}, {entry['label']}: {entry['status']}: "
                             f"{entry['reason']}")  # fmt: skip
            if entry.get("details"):
                detail = f"- {workload['key']}, {entry['label']}: {entry['details']}"
                if detail not in notes:
                    notes.append(detail)
    for entry in result.get("memory", []):
        if entry.get("reason"):
            notes.append(f"- memory, {entry['label']}: {entry['status']}: {entry['reason']}")
    if notes:
        lines += ["## Notes", ""] + notes + [""]

    lines += ["## Method", "", METHOD, "", f"Memory: {result.get('memory_method', '')}", ""]
    problems = failures(result)
    if problems:
        lines += ["## FAILURES", ""] + [f"- **{problem}**" for problem in problems] + [""]
    return "\n".join(lines)


METHOD = (
    "Each workload is a full training step (forward, cost, backward, gradient-descent update; "
    "W4: forward and backward) on the same seeded data and initial parameters for every "
    "implementation (benchmarks/workloads.py). One child process per workload, with BLAS and "
    "every peer pinned to the thread count before NumPy is imported. In each process: gradients "
    "at the initial parameters are compared with the baseline's; warm-up steps; then rounds in "
    "which every implementation times a sample of consecutive steps (sample length calibrated "
    "per implementation), in an order that rotates each round; the median over rounds of the "
    "time per step is reported, and its ratio to the NumPy baseline of the same dtype. The "
    "garbage collector stays on (as users run) and is run before each sample. The baseline is "
    "hand-written NumPy in the course's formulas (tinygrad_dl.course where it has the "
    "workload), which also computes dA^[0] as the course does."
)


# --- files -----------------------------------------------------------------------------------


def _write_text(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def draw_chart(result: dict, path: Path) -> bool:
    """Bar chart of every implementation's ratio per workload (log scale); False without
    matplotlib (then nothing is written)."""
    try:
        import matplotlib  # noqa: PLC0415 - optional extra

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return False
    names = _names(result)
    keys = [workload["key"] for workload in result["workloads"]]
    width = 0.8 / max(len(names), 1)
    figure, axes = plt.subplots(figsize=(max(8, 1.4 * len(keys)), 4.8))
    for index, name in enumerate(names):
        xs, ys = [], []
        for position, workload in enumerate(result["workloads"]):
            ratio = workload["results"].get(name, {}).get("ratio")
            if ratio:
                xs.append(position + (index - (len(names) - 1) / 2) * width)
                ys.append(ratio)
        bars = axes.bar(xs, ys, width=width, label=impls.spec(name).label)
        if name == ENGINE:
            axes.bar_label(bars, fmt="%.2f", fontsize=7, rotation=90, padding=2)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(range(len(keys)), keys, rotation=20)
    axes.set_ylabel("time per step / NumPy baseline (log)")
    axes.set_title(f"tinygrad_dl benchmark ({result['mode']}, {result.get('threads')} thread)")
    axes.legend(fontsize=8, ncol=3)
    figure.tight_layout()
    temporary = path.with_name(path.name + ".tmp")
    figure.savefig(temporary, dpi=110, format="png")
    plt.close(figure)
    os.replace(temporary, path)
    return True


def write_all(result: dict, folder: Path, name: str, plot: bool = True) -> list[Path]:
    """Write ``<name>.json``, ``<name>.md`` and (with matplotlib) ``<name>.png`` into ``folder``.

    Parameters
    ----------
    result : dict
        The assembled result.
    folder : Path
        Output folder (created if missing).
    name : str
        File stem.
    plot : bool
        Also draw the bar chart.

    Returns
    -------
    list of Path
        The files written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    json_path = folder / f"{name}.json"
    _write_text(json_path, json.dumps(result, indent=1, default=float) + "\n")
    written.append(json_path)
    markdown_path = folder / f"{name}.md"
    _write_text(markdown_path, markdown(result) + "\n")
    written.append(markdown_path)
    if plot:
        png_path = folder / f"{name}.png"
        if draw_chart(result, png_path):
            written.append(png_path)
    return written

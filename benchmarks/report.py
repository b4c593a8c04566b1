"""The benchmark's outputs from the result the driver assembles (the JSON's content): issue 14's
targets, the markdown report, the PNG bar chart of ratios; files are written atomically."""

from __future__ import annotations

import json
import os
from pathlib import Path

from benchmarks.frameworks import IMPLEMENTATIONS, LABELS
from benchmarks.measure import BASELINE, LEAN, OPENBLAS_TUNING

ENGINE, COMPILED = "engine", "compiled"


def _entry(result: dict, key: str, name: str) -> dict:
    workload = next((w for w in result["workloads"] if w["key"] == key), {"results": {}})
    return workload["results"].get(name, {})


def targets(result: dict) -> list[dict]:
    """Issue 14's targets, each with what was measured and whether it holds.

    Returns
    -------
    list of dict
        ``target``, ``measured`` (None when not measured), ``limit``, ``unit``, ``status``
        (``"pass"``, ``"FAIL"`` or ``"not measured"``).
    """

    def ratio(top: float | None, bottom: float | None) -> float | None:
        return top / bottom if top is not None and bottom else None

    def lean(key: str, name: str) -> float | None:
        return _entry(result, key, name).get("ratio_lean")

    ours = _entry(result, "W4-1k", ENGINE).get("per_op_us")
    memory = {entry.get("impl"): entry.get("rss_peak_mib") for entry in result.get("memory", [])}
    rows = [("W2 compiled", lean("W2", COMPILED), 1.0, "x lean NumPy"),
            ("W2 eager", lean("W2", ENGINE), 2.0, "x lean NumPy")]  # fmt: skip
    for key in ("W1-float64", "W1-float32"):
        rows += [(f"{key} eager", lean(key, ENGINE), 1.02, "x lean NumPy"),
                 (f"{key} compiled", lean(key, COMPILED), 1.0, "x lean NumPy")]  # fmt: skip
    rows += [
        ("W5 compiled", lean("W5", COMPILED), 1.0, "x lean NumPy"),
        ("W4 per-op time (1,000 ops)",
         ratio(ours, _entry(result, "W4-1k", "torch").get("per_op_us")), 0.35, "x PyTorch"),
        ("W4 per-op time, 100,000 / 1,000 ops",
         ratio(_entry(result, "W4-100k", ENGINE).get("per_op_us"), ours), 1.3, "x"),
        ("W1 peak memory, compiled - eager", None if None in (memory.get(COMPILED),
         memory.get(ENGINE)) else memory[COMPILED] - memory[ENGINE], 0.0, "MiB"),
    ]  # fmt: skip
    return [{"target": text, "measured": measured, "limit": limit, "unit": unit,
             "status": "not measured" if measured is None else
             ("pass" if measured <= limit else "FAIL")}
            for text, measured, limit, unit in rows]  # fmt: skip


def failures(result: dict) -> list[str]:
    """What makes the run fail: gradient mismatches and errors of ours (peers' are reported)."""
    found = []
    for workload in result["workloads"]:
        for name, entry in workload["results"].items():
            if not entry.get("grad", {}).get("ok", True):
                found.append(f"{workload['key']} {name}: gradient differs from the baseline")
            if entry.get("status") == "error" and name in (BASELINE, LEAN, ENGINE, COMPILED):
                found.append(f"{workload['key']} {name}: {entry.get('reason')}")
    return found


# --- markdown --------------------------------------------------------------------------------


def _seconds(value: float) -> str:
    if value >= 1:
        return f"{value:.2f} s"
    return f"{value * 1e3:.2f} ms" if value >= 1e-3 else f"{value * 1e6:.0f} us"


def _cell(entry: dict) -> str:
    """``ratio to the course / ratio to lean (time)``; or why there is no time."""
    status = entry.get("status", "ok")
    if status != "ok":
        return status if status in ("not installed", "skipped") else "**error**"
    if "best_s" not in entry:
        return "-"
    ratios = [f"{entry[f]:.2f}" if entry.get(f) else "-" for f in ("ratio", "ratio_lean")]
    flag = "" if entry.get("grad", {}).get("ok", True) else " **grad mismatch**"
    return f"{ratios[0]} / {ratios[1]} ({_seconds(entry['best_s'])}){flag}"


def _gradient_cell(grad: dict | None) -> str:
    if grad is None:
        return "-"
    if "problem" in grad:
        return f"**FAIL** {grad['problem']}"
    return f"{grad['max_abs_diff']:.1e}" + ("" if grad["ok"] else " **FAIL**")


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A markdown table's lines."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _section(title: str, intro: str, header: list[str], rows: list[list[str]]) -> list[str]:
    return [f"## {title}", "", *([intro, ""] if intro else []), *table(header, rows), ""]


# fmt: off
def _header_lines(result: dict) -> list[str]:
    header, threads = result.get("header", {}), result.get("threads", 1)
    cpu, versions = header.get("machine", {}), header.get("versions", {})
    lines = [f"- Created {result['created']} with `{result['command']}` (mode {result['mode']}, "
             f"{result.get('elapsed_s', 0):.0f} s)."]
    lines += [f"- Note: {result['note']}"] if result.get("note") else []
    lines += [f"- Machine: {cpu.get('cpu')}, {cpu.get('logical_cpus')} logical CPUs, "
              f"{cpu.get('system')} {cpu.get('arch')}, Python {cpu.get('python')}."] if cpu else []
    lines += ["- Versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + "."]
    for r in header.get("blas", []):
        path = str(r.get("filepath", "")).split("site-packages/")[-1]
        lines.append(f"- BLAS: {r['error']}" if "error" in r else
                     f"- {r.get('user_api')}: {r.get('internal_api')} {r.get('version') or ''}, "
                     f"kernel {r.get('architecture', '-')}, {r.get('num_threads')} thread(s), "
                     f"`{path}`.")
    lines.append(
        f"- Threads: BLAS, OpenMP, PyTorch and XLA pinned to {threads} (set before NumPy is "
        "imported; `torch.set_num_threads`; XLA's CPU affinity while its backend starts)."
        if threads > 0 else "- Threads: the libraries' defaults (`--threads 0`).")
    tuning = [f"`{k}={v}`" for k, v in header.get("environment", {}).items()
              if k in OPENBLAS_TUNING and v is not None]
    lines += ["- OpenBLAS tuning variables set: " + ", ".join(tuning) + "."] if tuning else []
    return lines + ([f"- Repository: {result['git']}."] if result.get("git") else [])


def markdown(result: dict) -> str:
    """The report as markdown: header, time table, W4 per op, gradients, memory, targets, notes,
    method and failures."""
    workloads, memory = result["workloads"], result.get("memory")
    present = {name for workload in workloads for name in workload["results"]}
    names = [name for name in IMPLEMENTATIONS if name in present]
    keys, chains = [w["key"] for w in workloads], [w for w in workloads if w["kind"] == "chain"]
    lines = ["# tinygrad_dl benchmark", "", *_header_lines(result), ""]
    lines += _section(
        "Time per training step (lower is faster)", "Each cell: best time per step over the "
        "rounds as a ratio to the course's NumPy formulas (ratio 1.0) / as a ratio to lean "
        "hand-written NumPy (the eager floor), and the time.", ["implementation", *keys],
        [[LABELS[n]] + [_cell(w["results"].get(n, {})) for w in workloads] for n in names])
    if chains:
        lines += _section(
            "W4: time per elementwise op, forward + backward", "",
            ["implementation"] + [f"{w['n_ops']:,} ops" for w in chains],
            [[LABELS[n]] + [f"{w['results'][n]['per_op_us']:.2f} us" if "per_op_us" in
                            w["results"].get(n, {}) else "-" for w in chains] for n in names])
    lines += _section(
        "Gradients at the initial parameters: max abs difference from the baseline",
        "float64 must agree to < 1e-12; float32 to 1e-4 relative to the largest gradient.",
        ["implementation", *keys],
        [[LABELS[n]] + [_gradient_cell(w["results"].get(n, {}).get("grad")) for w in workloads]
         for n in names[1:]])
    if memory:
        lines += _section(
            "Peak memory above set-up during W1 float64 steps", "",
            ["implementation", "peak RSS above set-up"],
            [[e["label"], f"{e['rss_peak_mib']:.1f} MiB ({e['method']})"
              if e.get("status") == "ok" else e.get("status", "")] for e in memory])
    if result.get("targets"):
        lines += _section(
            "Issue 14's targets for tinygrad_dl", "", ["target", "measured", "limit", "status"],
            [[t["target"], "-" if t["measured"] is None else f"{t['measured']:.2f} {t['unit']}",
              f"<= {t['limit']} {t['unit']}", t["status"]] for t in result["targets"]])
    notes = sorted({f"- {w['key']}, {e['label']}: {e['status']}: {e['reason']}"
                    for w in workloads for e in w["results"].values() if e.get("reason")})
    notes += [f"- memory, {e['label']}: {e['status']}: {e['reason']}"
              for e in memory or [] if e.get("reason")]
    lines += ["## Notes", "", *notes, ""] if notes else []
    lines += ["## Method", "", METHOD, "", f"Memory: {result.get('memory_method', '')}", ""]
    problems = failures(result)
    lines += ["## FAILURES", "", *[f"- **{p}**" for p in problems], ""] if problems else []
    return "\n".join(lines)
# fmt: on


METHOD = (
    "A workload is a full training step (W4: forward and backward) on the same seeded data and "
    "parameters for every implementation; tinygrad_dl and PyTorch step as their users write it "
    "(optimizer.zero_grad(); loss = ...; loss.backward(); optimizer.step()). One process per "
    "workload group, every library pinned to the thread count before NumPy is imported. In it: "
    "gradients at the initial parameters compared with the baseline's, warm-up (a compiled step "
    "traces on its first call), then rounds in which every implementation times a sample of "
    "consecutive steps in an order that rotates each round; the best round is reported. Ratio "
    "1.0: the course's formulas as the notebooks write them (down to dA^[0]); lean NumPy: the "
    "fewest operations (no dA^[0], dZ = A - Y fused, in-place updates). benchmarks/README.md."
)


# --- files -----------------------------------------------------------------------------------


def _replace(path: Path, write) -> None:
    """Write through a temporary file and a rename: never half a file in place of a good one."""
    temporary = path.with_name(path.name + ".tmp")
    write(temporary)
    os.replace(temporary, path)


def draw_chart(result: dict, path: Path) -> bool:
    """Bar chart of each implementation's ratio per workload (log scale); False if no matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    workloads = result["workloads"]
    names = [name for name in IMPLEMENTATIONS
             if any(w["results"].get(name, {}).get("ratio") for w in workloads)]  # fmt: skip
    width = 0.8 / max(len(names), 1)
    figure, axes = plt.subplots(figsize=(max(8, 1.4 * len(workloads)), 4.8))
    for index, name in enumerate(names):
        bars = [(position + (index - (len(names) - 1) / 2) * width, w["results"][name]["ratio"])
                for position, w in enumerate(workloads)
                if w["results"].get(name, {}).get("ratio")]  # fmt: skip
        drawn = axes.bar(*zip(*bars), width=width, label=LABELS[name])
        if name in (ENGINE, COMPILED):
            axes.bar_label(drawn, fmt="%.2f", fontsize=7, rotation=90, padding=2)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_yscale("log")
    axes.set_xticks(range(len(workloads)), [w["key"] for w in workloads], rotation=20)
    axes.set_ylabel("time per step / course NumPy (log)")
    axes.set_title(f"tinygrad_dl benchmark ({result['mode']}, {result.get('threads')} thread)")
    axes.legend(fontsize=8, ncol=3)
    figure.tight_layout()
    _replace(path, lambda temporary: figure.savefig(temporary, dpi=110, format="png"))
    plt.close(figure)
    return True


def write_all(result: dict, folder: Path, name: str, plot: bool = True) -> list[Path]:
    """Write ``<name>.json``, ``<name>.md`` and (with matplotlib) ``<name>.png`` into ``folder``;
    return the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for suffix, text in (("json", json.dumps(result, indent=1, default=float)),
                         ("md", markdown(result))):  # fmt: skip
        path = folder / f"{name}.{suffix}"
        _replace(path, lambda temporary, text=text: temporary.write_text(text + "\n", "utf-8"))
        written.append(path)
    if plot and draw_chart(result, folder / f"{name}.png"):
        written.append(folder / f"{name}.png")
    return written

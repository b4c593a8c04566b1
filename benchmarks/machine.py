"""The report's header: machine, library versions, BLAS with its kernel and threads.

:func:`thread_env` builds the environment that pins BLAS and every peer to ``n`` threads; the
driver passes it to each child process, so it is in place before NumPy is imported there.
:func:`describe` runs inside a child (after the libraries are loaded, so that threadpoolctl
sees every BLAS and OpenMP runtime they brought).
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

# Variables some machines set that slow a current NumPy's OpenBLAS (forced core type, a wrong
# L2 size): the report says when they are set; the benchmark leaves them alone unless asked.
OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
DISTRIBUTIONS = (
    "numpy",
    "tinygrad-dl",
    "torch",
    "autograd",
    "jax",
    "jaxlib",
    "threadpoolctl",
    "matplotlib",
)


def thread_env(threads: int, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child process with BLAS and peers pinned to ``threads`` threads.

    Parameters
    ----------
    threads : int
        Threads for BLAS, OpenMP, PyTorch and XLA; 0 leaves every library at its default.
    base : dict[str, str], optional
        Environment to start from (default: this process's).

    Returns
    -------
    dict[str, str]
        A new environment; ``TINYGRAD_DL_BENCH_THREADS`` tells the PyTorch runner the count.
    """
    env = dict(os.environ if base is None else base)
    env["TINYGRAD_DL_BENCH_THREADS"] = str(threads)
    if threads <= 0:
        return env
    for name in THREAD_VARS:
        env[name] = str(threads)
    xla = env.get("XLA_FLAGS", "")
    if threads == 1:
        xla += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    else:
        xla += f" intra_op_parallelism_threads={threads}"
    env["XLA_FLAGS"] = xla.strip()
    return env


def versions() -> dict[str, str]:
    """Installed versions of the libraries that matter here (``"not installed"`` if absent)."""
    found = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``; ``platform.processor()`` elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_info() -> list[dict[str, object]]:
    """Every BLAS and OpenMP runtime loaded in this process, via threadpoolctl.

    Returns
    -------
    list of dict
        threadpoolctl's records (``internal_api`` such as ``openblas``, ``version``,
        ``architecture``: the kernel, ``num_threads``, ``filepath``), or one record with an
        ``error`` when threadpoolctl is not installed.
    """
    try:
        from threadpoolctl import threadpool_info  # noqa: PLC0415 - optional extra
    except ImportError:
        return [{"error": "threadpoolctl not installed: pip install 'tinygrad-dl[bench]'"}]
    records = []
    for record in threadpool_info():
        records.append(
            {
                key: record.get(key)
                for key in (
                    "user_api",
                    "internal_api",
                    "version",
                    "architecture",
                    "threading_layer",
                    "num_threads",
                    "filepath",
                )
                if record.get(key) is not None
            }
        )
    return records


def describe() -> dict[str, object]:
    """The header of a result: machine, Python, versions, BLAS, relevant environment."""
    uname = platform.uname()
    return {
        "machine": {
            "cpu": cpu_model(),
            "logical_cpus": os.cpu_count(),
            "system": f"{uname.system} {uname.release}",
            "arch": uname.machine,
            "python": sys.version.split()[0],
        },
        "versions": versions(),
        "blas": blas_info(),
        "environment": {
            name: os.environ.get(name) for name in OPENBLAS_TUNING + THREAD_VARS + ("XLA_FLAGS",)
        },
    }

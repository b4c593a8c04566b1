"""The report's header (machine, library versions, every BLAS with its kernel and threads) and
the environment that pins BLAS and every peer to ``n`` threads in a child process, before NumPy
is imported there. :func:`describe` runs in the child, after the libraries loaded, so that
threadpoolctl sees every BLAS and OpenMP runtime they brought.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

# Variables some machines set that slow a current NumPy's OpenBLAS: the header says when set.
OPENBLAS_TUNING = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")  # fmt: skip
DISTRIBUTIONS = ("numpy", "tinygrad-dl", "torch", "autograd", "jax", "jaxlib", "threadpoolctl",
                 "matplotlib")  # fmt: skip
BLAS_FIELDS = ("user_api", "internal_api", "version", "architecture", "threading_layer",
               "num_threads", "filepath")  # fmt: skip


def thread_env(threads: int) -> dict[str, str]:
    """This process's environment with BLAS, OpenMP and XLA pinned to ``threads`` (0: as is);
    ``TINYGRAD_DL_BENCH_THREADS`` tells PyTorch's and JAX's set-up the count."""
    env = dict(os.environ)
    env["TINYGRAD_DL_BENCH_THREADS"] = str(threads)
    if threads > 0:
        env.update({name: str(threads) for name in THREAD_VARS})
        extra = "--xla_cpu_multi_thread_eigen=false " if threads == 1 else ""
        xla = f"{env.get('XLA_FLAGS', '')} {extra}intra_op_parallelism_threads={threads}"
        env["XLA_FLAGS"] = xla.strip()
    return env


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict[str, object]:
    """Machine, Python, library versions, BLAS runtimes (threadpoolctl) and thread settings."""
    try:
        from threadpoolctl import threadpool_info

        blas = [{k: r[k] for k in BLAS_FIELDS if r.get(k) is not None} for r in threadpool_info()]
    except ImportError:
        blas = [{"error": "threadpoolctl not installed: pip install 'tinygrad-dl[bench]'"}]
    uname = platform.uname()
    return {
        "machine": {
            "cpu": _cpu_model(),
            "logical_cpus": os.cpu_count(),
            "system": f"{uname.system} {uname.release}",
            "arch": uname.machine,
            "python": sys.version.split()[0],
        },  # fmt: skip
        "versions": {"python": platform.python_version()}
        | {name: _version(name) for name in DISTRIBUTIONS},
        "blas": blas,
        "environment": {
            name: os.environ.get(name) for name in OPENBLAS_TUNING + THREAD_VARS + ("XLA_FLAGS",)
        },
    }

"""``python -m tinygrad_dl bench``: a thin launcher for the repository's ``benchmarks/`` folder.

The benchmark's workloads and peers live next to the package in a source checkout (they are not
installed with it). This finds that folder beside the package (an editable install or a source
checkout) and runs its driver, :mod:`benchmarks.run`.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

NEEDS_CHECKOUT = (
    "tinygrad_dl bench: the benchmarks live in the source repository, next to the package "
    "(benchmarks/run.py), and were not found beside {package}.\n"
    "Run it from a source checkout: git clone the project, then "
    "`pip install -e '.[bench]'` and `python -m tinygrad_dl bench` (or `make bench`)."
)


def find_benchmarks(package_dir: Path | None = None) -> Path | None:
    """The repository root holding ``benchmarks/run.py`` beside the package, or None.

    Parameters
    ----------
    package_dir : Path, optional
        The ``tinygrad_dl`` package folder (default: this file's).

    Returns
    -------
    Path or None
        The folder that contains both ``tinygrad_dl/`` and ``benchmarks/run.py``.
    """
    package_dir = Path(__file__).resolve().parent if package_dir is None else package_dir
    root = package_dir.parent
    return root if (root / "benchmarks" / "run.py").is_file() else None


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark driver with ``argv``; return its exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments for the driver (``--quick``, ``--threads N``, ``--help``, ...); default
        ``sys.argv[1:]``.

    Returns
    -------
    int
        The driver's exit status; 2 when the benchmarks folder is not there.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    root = find_benchmarks()
    if root is None:
        print(NEEDS_CHECKOUT.format(package=Path(__file__).resolve().parent), file=sys.stderr)
        return 2
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    driver = importlib.import_module("benchmarks.run")
    return int(driver.main(argv) or 0)

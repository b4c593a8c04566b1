"""Tests for tinygrad_dl.plot: PNG files, lazy matplotlib, Agg only, clear errors."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="matplotlib (extra 'viz') not installed")

from tinygrad_dl import plot  # noqa: E402
from tinygrad_dl.data import load_flower  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    return width, height


def test_loss_curves_writes_a_png_creating_folders(tmp_path):
    path = plot.loss_curves(
        {"hand": [0.7, 0.5, 0.3], "autodiff": [0.7, 0.5, 0.3]},
        tmp_path / "a" / "b" / "costs.png",
        steps=[0, 100, 200],
    )
    assert path == tmp_path / "a" / "b" / "costs.png"
    width, height = _png_size(path)
    assert width > 300 and height > 200


def test_loss_curves_accepts_a_single_sequence_and_log_scale(tmp_path):
    width, height = _png_size(
        plot.loss_curves(np.linspace(1, 0.01, 50), tmp_path / "one.png", log_scale=True)
    )
    assert width > 300 and height > 200


def test_loss_curves_errors(tmp_path):
    with pytest.raises(ValueError, match="curve 'a' is empty"):
        plot.loss_curves({"a": []}, tmp_path / "x.png")
    with pytest.raises(ValueError, match="has 3 values for 2 steps"):
        plot.loss_curves({"a": [1, 2, 3]}, tmp_path / "x.png", steps=[0, 1])
    assert not (tmp_path / "x.png").exists()


def test_decision_boundary_asks_predict_about_a_grid_covering_the_data(tmp_path):
    X, Y = load_flower(m=40, layout="batch")
    calls = []

    def predict(points):
        calls.append(points)
        return (points[:, 0] > 0).astype(float)

    _png_size(plot.decision_boundary(predict, X, Y, tmp_path / "db.png", resolution=30))
    (points,) = calls
    assert points.shape == (900, 2)
    assert points[:, 0].min() < X[:, 0].min() and points[:, 0].max() > X[:, 0].max()
    assert points[:, 1].min() < X[:, 1].min() and points[:, 1].max() > X[:, 1].max()


def test_decision_boundary_errors_name_the_layout(tmp_path):
    X, Y = load_flower(m=40)  # the course's (2, m) layout
    with pytest.raises(ValueError, match=r"\(m, 2\), got \(2, 40\).*pass X\.T"):
        plot.decision_boundary(lambda p: p[:, 0], X, Y, tmp_path / "db.png")
    with pytest.raises(ValueError, match="predict returned 1 values"):
        plot.decision_boundary(lambda p: np.zeros(1), X.T, Y, tmp_path / "db.png")


def test_decision_boundaries_grid(tmp_path):
    X, Y = load_flower(m=40, layout="batch")
    predicts = {f"panel {k}": (lambda p, k=k: p[:, 0] > k) for k in range(5)}
    width, height = _png_size(
        plot.decision_boundaries(predicts, X, Y, tmp_path / "grid.png", columns=3, resolution=20)
    )
    assert width > height  # three columns, two rows


def test_gradient_differences_handles_exact_zeros(tmp_path):
    path = plot.gradient_differences(
        {"dW1": 2e-17, "db1": 0.0, "dW2": 5e-17, "db2": 1e-16},
        tmp_path / "grads.png",
        tolerance=1e-12,
    )
    _png_size(path)
    with pytest.raises(ValueError, match="must be >= 0"):
        plot.gradient_differences({"dW1": -1.0}, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="no values"):
        plot.gradient_differences({}, tmp_path / "bad.png")


def test_missing_matplotlib_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'tinygrad-dl\[viz\]'"):
        plot.loss_curves([1.0, 0.5], tmp_path / "x.png")


def test_plot_module_imports_matplotlib_lazily_and_never_pyplot():
    code = (
        "import sys\n"
        "import tinygrad_dl, tinygrad_dl.plot as plot\n"
        "assert 'matplotlib' not in sys.modules, 'imported at import time'\n"
        "import tempfile, os\n"
        "plot.loss_curves([1.0, 0.5], os.path.join(tempfile.mkdtemp(), 'x.png'))\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr

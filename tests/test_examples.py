"""The examples run and keep their promises (accuracy, coinciding curves, plots written)."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("logistic_regression", "shallow_network_flower", "digits_mlp", "digits_cnn")

pytest.importorskip("sklearn", reason="scikit-learn (extra 'data') not installed")
pytest.importorskip("matplotlib", reason="matplotlib (extra 'viz') not installed")


def _load(name):
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", ROOT / "examples" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _percentages(pattern, text):
    return [float(value) for value in re.findall(pattern, text)]


def test_logistic_regression_curves_coincide_and_it_classifies_well(tmp_path, capsys):
    status = _load("logistic_regression").main(["--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert status == 0, text
    gap = float(re.search(r"max \|cost \(hand\) - cost \(autodiff\)\| .*: (\S+)", text).group(1))
    assert gap < 1e-12
    test_accuracies = _percentages(r"test (\d+\.\d+)%", text)
    assert len(test_accuracies) == 2 and min(test_accuracies) >= 95.0, text
    assert (tmp_path / "costs.png").stat().st_size > 0


def test_shallow_network_reaches_90_percent_and_sweeps_hidden_sizes(tmp_path, capsys):
    # 3000 iterations already give the course's 90%; the sweep runs short here.
    status = _load("shallow_network_flower").main(
        ["--iterations", "3000", "--sweep-iterations", "200", "--out", str(tmp_path)]
    )
    text = capsys.readouterr().out
    assert status == 0
    (accuracy,) = _percentages(r"training accuracy (\d+\.\d+)%", text)
    assert accuracy >= 90.0, text
    swept = re.findall(r"^\s+(\d+) hidden units?: accuracy", text, flags=re.M)
    assert swept == ["1", "2", "3", "4", "5", "20", "50"]
    assert (tmp_path / "decision_boundary.png").stat().st_size > 0
    assert (tmp_path / "hidden_sizes.png").stat().st_size > 0


def test_digits_network_beats_95_percent_and_survives_save_and_load(tmp_path, capsys):
    status = _load("digits_mlp").main(["--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert status == 0, text
    (accuracy,) = _percentages(r"test accuracy: (\d+\.\d+)%", text)
    (reloaded,) = _percentages(r"reloaded model: (\d+\.\d+)%", text)
    assert accuracy >= 95.0 and reloaded == accuracy, text
    assert (tmp_path / "model.npz").stat().st_size > 0
    assert (tmp_path / "curves.png").stat().st_size > 0


def test_digits_cnn_beats_97_percent_and_pytorch_predicts_the_same(tmp_path, capsys):
    status = _load("digits_cnn").main(["--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert status == 0, text
    (accuracy,) = _percentages(r"test accuracy: (\d+\.\d+)%", text)
    assert accuracy >= 97.0, text
    if importlib.util.find_spec("torch") is not None:
        assert "PyTorch with the same state dict: the same predictions" in text, text
    assert (tmp_path / "model.npz").stat().st_size > 0


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_runs_as_a_script(name):
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "--out" in result.stdout

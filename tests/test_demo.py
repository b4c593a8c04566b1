"""``python -m tinygrad_dl demo``: the showcase's claims, its output and its failure mode."""

import re
import subprocess
import sys

import numpy as np

from tinygrad_dl import demo
from tinygrad_dl.course import shallow


def test_demo_full_run_keeps_every_promise(tmp_path, capsys):
    # The real thing with plots on, at 3000 of its 10000 iterations (the course's network is at
    # 90% from about iteration 2500; `make demo` runs all 10000).
    status = demo.main(["--iterations", "3000", "--print-every", "500", "--out", str(tmp_path)])
    text = capsys.readouterr().out
    assert status == 0, text
    rows = re.findall(r"^\s+(\d+)\s+(0\.\d+)\s+(0\.\d+)\s+\S+$", text, flags=re.M)
    assert [int(i) for i, _, _ in rows] == [*range(0, 3000, 500), 2999]
    # Side by side, the costs agree (the runs drift apart only late in a 10000-step run).
    for _, hand, autodiff in rows:
        assert abs(float(hand) - float(autodiff)) < 1e-12
    assert "max |cost difference| over all 3000 iterations" in text
    assert float(rows[0][1]) < 0.7 and float(rows[-1][1]) < 0.25
    hand, autodiff = (
        float(v)
        for v in re.search(
            r"training accuracy: (\d+\.\d+)% \(hand-derived\), (\d+\.\d+)% \(autodiff\)", text
        ).groups()
    )
    assert hand >= 90.0 and autodiff >= 90.0
    for layer in (1, 2):
        line = re.search(rf"layer {layer}:.*", text).group(0)
        values = [float(v) for v in re.findall(r"d[Wb]\d (\S+)", line)]
        assert len(values) == 2 and max(values) < 1e-14, line
    assert "OK: every gradient element agrees" in text
    for name in ("costs.png", "decision_boundary.png", "gradient_differences.png"):
        assert (tmp_path / name).stat().st_size > 0
        assert str(tmp_path / name) in text


def test_demo_catches_a_wrong_hand_derived_gradient(monkeypatch, capsys):
    correct = shallow.backward_propagation

    def missing_one_over_m(parameters, cache, X, Y):
        grads = correct(parameters, cache, X, Y)
        grads["db1"] = grads["db1"] * X.shape[1]  # the classic bug: no 1/m
        return grads

    monkeypatch.setattr(shallow, "backward_propagation", missing_one_over_m)
    status = demo.main(["--iterations", "3", "--no-plots"])
    text = capsys.readouterr().out
    assert status == 1
    assert "FAIL: db1 break" in text


def test_run_returns_the_reported_numbers():
    result = demo.run(iterations=20, print_every=10, progress="off", file=_Sink())
    assert result["costs_hand"].shape == result["costs_autodiff"].shape == (20,)
    np.testing.assert_allclose(result["costs_hand"], result["costs_autodiff"], rtol=1e-12)
    assert all(result["grads_agree"].values())
    assert set(result["max_grad_diff"]) == {"W1", "b1", "W2", "b2"}


class _Sink:
    def write(self, text):
        return len(text)

    def flush(self):
        pass


def test_cli_routes_to_the_demo_and_lists_it():
    listing = subprocess.run(
        [sys.executable, "-m", "tinygrad_dl", "--help"], capture_output=True, text=True
    )
    assert listing.returncode == 0 and "demo" in listing.stdout
    helped = subprocess.run(
        [sys.executable, "-m", "tinygrad_dl", "demo", "--help"], capture_output=True, text=True
    )
    assert helped.returncode == 0, helped.stderr
    assert "--iterations" in helped.stdout and "autodiff" in helped.stdout

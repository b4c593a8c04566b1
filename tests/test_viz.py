"""Tests for tinygrad_dl.viz: the computation graph as DOT text."""

import re
import shutil

import numpy as np
import pytest

import tinygrad_dl as tg
from tinygrad_dl import nn
from tinygrad_dl.viz import render, to_dot


def _parse(dot):
    """Declared node ids with labels, and edges, from to_dot's output."""
    declared = dict(re.findall(r'^\s+(n\d+) \[label="([^"]*)"', dot, flags=re.M))
    edges = re.findall(r"^\s+(n\d+) -> (n\d+);", dot, flags=re.M)
    return declared, edges


def _logistic_cost():
    w = tg.Tensor(np.zeros((3, 1)), requires_grad=True)
    b = tg.Tensor(np.zeros((1, 1)), requires_grad=True)
    X = np.ones((3, 5))
    Y = np.ones((1, 5))
    A = tg.sigmoid(np.dot(w.T, X) + b)
    cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    return cost, w, b


def test_to_dot_lists_every_op_and_leaf_once_with_consistent_edges():
    cost, w, b = _logistic_cost()
    dot = to_dot(cost, {"w": w, "b": b})
    assert dot.startswith("digraph computation {") and dot.rstrip().endswith("}")
    declared, edges = _parse(dot)
    labels = [label.split("\\n")[0] for label in declared.values()]
    for op in ("sigmoid", "log", "mean", "matmul"):
        assert op in labels, (op, labels)
    assert labels.count("w") == 1 and labels.count("b") == 1
    assert "w\\n(3, 1)" in declared.values()
    # Every edge joins declared nodes, and every node but the output feeds something.
    used = {source for source, _ in edges}
    assert all(s in declared and t in declared for s, t in edges)
    assert set(declared) - used == {"n0"}
    # A is used twice (log A and log(1 - A)): the sigmoid node is declared once.
    assert labels.count("sigmoid") == 1


def test_to_dot_names_model_parameters():
    model = nn.Sequential(nn.Linear(2, 3, rng=0), nn.Tanh(), nn.Linear(3, 1, rng=0))
    loss = model(np.ones((4, 2))).sum()
    dot = to_dot(loss, dict(model.named_parameters()), show_shapes=False)
    declared, _ = _parse(dot)
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= set(declared.values())


def test_to_dot_of_a_leaf_is_one_node():
    declared, edges = _parse(to_dot(tg.Tensor([1.0, 2.0])))
    assert list(declared.values()) == ["output\\n(2,)"] and edges == []


def test_to_dot_after_backward_says_the_graph_was_freed():
    cost, _, _ = _logistic_cost()
    cost.backward()
    assert "(graph freed)" in to_dot(cost)


def test_to_dot_escapes_quotes_in_names():
    x = tg.Tensor([1.0], requires_grad=True)
    dot = to_dot((x * 2).sum(), {'my "x"': x})
    assert 'my \\"x\\"' in dot


def test_to_dot_walks_long_chains_without_recursion():
    x = tg.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    declared, edges = _parse(to_dot(y))
    assert len(declared) == 5002 and len(edges) == 5001


def test_to_dot_rejects_non_tensors():
    with pytest.raises(TypeError, match="expected a Tensor"):
        to_dot(np.ones(2))


def test_render_without_graphviz_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        render("digraph {}", tmp_path / "g.png")


def test_render_with_graphviz_writes_the_image(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot program is not installed")
    cost, _, _ = _logistic_cost()
    path = render(to_dot(cost), tmp_path / "g.svg")
    assert path.read_text().lstrip().startswith("<?xml")

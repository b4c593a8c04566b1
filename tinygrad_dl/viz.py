"""The computation graph as Graphviz DOT text, and rendering it when Graphviz is installed.

``to_dot(loss)`` walks back from a tensor through each ``grad_fn`` node to the leaves: op nodes
are ellipses named after their op, leaves that require grad (parameters) are blue boxes,
constants (data, labels) grey boxes. Paste the text into any Graphviz viewer, or call
:func:`render` when the ``dot`` program is installed.

Call it before ``backward()`` (or backward with ``retain_graph=True``): backward frees the graph,
and a freed node shows only its name and "(graph freed)".
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .tensor import Tensor

__all__ = ["render", "to_dot"]


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(tensor: Tensor) -> str:
    return "(" + ", ".join(str(n) for n in tensor.shape) + ("," if tensor.ndim == 1 else "") + ")"


def to_dot(
    tensor: Tensor,
    names: Mapping[str, Tensor] | None = None,
    *,
    show_shapes: bool = True,
    rankdir: str = "BT",
) -> str:
    """Describe the graph that produced ``tensor`` in the DOT language.

    Parameters
    ----------
    tensor : Tensor
        Usually the loss.
    names : dict of name -> Tensor, optional
        Labels for leaves, e.g. ``dict(model.named_parameters())`` or ``{"W1": W1, "X": X}``.
    show_shapes : bool
        Add each tensor's shape to its label.
    rankdir : str
        Graphviz layout direction (``"BT"``: inputs at the bottom, the loss on top).

    Returns
    -------
    str
        A ``digraph`` whose edges point from inputs to the ops that use them.

    Raises
    ------
    TypeError
        If ``tensor`` is not a Tensor.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(tensor).__name__}")
    labels = {id(t): name for name, t in (names or {}).items()}
    lines = [
        "digraph computation {",
        f"  rankdir={rankdir};",
        '  node [fontname="Helvetica", fontsize=10];',
    ]
    ids: dict[int, str] = {}
    # Keep every visited object alive until the walk ends so that ids cannot be reused.
    keep: list[Any] = []

    def node_id(obj: Any) -> str:
        key = id(obj)
        if key not in ids:
            ids[key] = f"n{len(ids)}"
            keep.append(obj)
        return ids[key]

    def leaf(t: Tensor) -> str:
        name = node_id(t)
        text = labels.get(id(t), "parameter" if t.requires_grad else "constant")
        if show_shapes:
            text += f"\n{_shape(t)}"
        style = (
            'shape=box, style=filled, fillcolor="#cfe2ff"'
            if t.requires_grad
            else 'shape=box, style="filled,dashed", fillcolor="#eeeeee"'
        )
        lines.append(f"  {name} [label={_quote(text)}, {style}];")
        return name

    output_text = labels.get(id(tensor), "output")
    if show_shapes:
        output_text += f"\n{_shape(tensor)}"
    output_name = node_id(tensor)
    lines.append(
        f"  {output_name} [label={_quote(output_text)}, shape=box, style=filled, "
        f'fillcolor="#d1e7dd"];'
    )
    root = tensor.grad_fn
    if root is None:
        lines.append("}")
        return "\n".join(lines) + "\n"
    lines.append(f"  {node_id(root)} -> {output_name};")
    stack = [root]
    seen_nodes = {id(root)}
    seen_leaves: set[int] = set()
    while stack:
        op_node = stack.pop()
        name = node_id(op_node)
        inputs = op_node.inputs
        freed = inputs is None
        text = op_node.name + ("\n(graph freed)" if freed else "")
        lines.append(f"  {name} [label={_quote(text)}, shape=ellipse];")
        for t in inputs or ():
            parent = t.grad_fn
            if parent is not None:
                lines.append(f"  {node_id(parent)} -> {name};")
                if id(parent) not in seen_nodes:
                    seen_nodes.add(id(parent))
                    stack.append(parent)
            else:
                if id(t) not in seen_leaves:
                    seen_leaves.add(id(t))
                    leaf(t)
                lines.append(f"  {node_id(t)} -> {name};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot: str, path: str | os.PathLike[str], format: str | None = None) -> Path:
    """Render DOT text to an image with Graphviz's ``dot`` program.

    Parameters
    ----------
    dot : str
        From :func:`to_dot`.
    path : str or os.PathLike
        Output file; its suffix gives the format unless ``format`` is given (``png``, ``svg``,
        ``pdf``).
    format : str, optional
        The Graphviz output format.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    RuntimeError
        If the ``dot`` program is not installed (saying how to get it) or fails.
    """
    program = shutil.which("dot")
    if program is None:
        raise RuntimeError(
            "render: Graphviz's 'dot' program is not installed (apt install graphviz, brew "
            "install graphviz, or conda install graphviz); the DOT text itself needs nothing"
        )
    path = Path(path)
    fmt = format or path.suffix.lstrip(".") or "png"
    result = subprocess.run(
        [program, f"-T{fmt}", "-o", str(path)], input=dot, text=True, capture_output=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"render: dot failed: {result.stderr.strip()}")
    return path

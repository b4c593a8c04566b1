"""checker/load.py: notebooks without nbformat, definitions-only mode, the safe wire format, and
the child process (prints captured, inputs copied, exits and hangs reported)."""

import json

import numpy as np
import pytest
from hypothesis import given

from tinygrad_dl.course.checker.load import (
    Child,
    Opaque,
    Unchecked,
    _kept,
    decode,
    encode,
    notebook_cells,
    strip_magics,
)
from tinygrad_dl.testing import float_arrays


@given(float_arrays(dtype=np.float32) | float_arrays())
def test_values_cross_the_wire_unchanged_and_objects_arrive_as_names_only(array):
    value = {"W1": array, "pair": (1, 2.5), "list": [None, "text", np.float64(3.0)]}
    back = decode(json.loads(json.dumps(encode(value))))
    np.testing.assert_array_equal(back["W1"], array)
    assert back["W1"].dtype == array.dtype and back["pair"] == (1, 2.5)
    assert back["list"][:2] == [None, "text"] and back["list"][2] == 3.0
    assert isinstance(decode(encode(print)), Opaque)
    assert isinstance(decode(encode(np.array(["a"]))), Opaque)  # no object arrays, ever


def test_magics_and_shell_lines_are_dropped_keeping_line_numbers():
    source = "%matplotlib inline\nimport numpy as np\n!pip install h5py\nfiles = !ls\nx = 1"
    assert strip_magics(source) == "\nimport numpy as np\n\n\nx = 1"
    assert strip_magics("%%time\nx = 1") == "\nx = 1"
    assert strip_magics("%%bash\necho hi") == ""


def test_a_notebook_is_read_as_json_and_other_versions_are_refused(tmp_path):
    path = tmp_path / "a.ipynb"
    cells = [{"cell_type": "markdown", "source": "# title"},
             {"cell_type": "code", "source": ["x = 1\n", "%time y = 2"]}]  # fmt: skip
    path.write_text(json.dumps({"nbformat": 4, "cells": cells}))
    assert notebook_cells(path) == [(2, "x = 1\n")]
    path.write_text(json.dumps({"nbformat": 3, "worksheets": []}))
    with pytest.raises(ValueError, match="expected nbformat 4"):
        notebook_cells(path)


@pytest.mark.parametrize(
    "statement, kept",
    [
        ("import numpy as np", True),
        ("def f(x):\n    return x", True),
        ("layers_dims = [12288, 20, 7, 5, 1]", True),
        ("n_x = 12288", True),
        ("parameters = L_layer_model(train_x, train_y, layers_dims)", False),
        ("train_x_orig, train_y, test_x_orig, test_y, classes = load_data()", False),
        ("plt.plot(costs)", False),
        ("print(x)", False),
    ],
)
def test_definitions_only_keeps_imports_definitions_and_constants(statement, kept):
    import ast

    assert _kept(ast.parse(statement).body[0]) == kept


def test_the_child_copies_inputs_captures_prints_and_reports_in_place_changes(tmp_path):
    path = tmp_path / "f.py"
    path.write_text(
        "print('loading')\n"
        "def double(x):\n    print('doubling')\n    x *= 2\n    return x\n"
        "def fine(x):\n    return x + 1\n"
    )
    with Child(path, timeout=30) as child:
        assert set(child.functions) == {"double", "fine"}
        x = np.ones((2, 2))
        result = child.call(4, "double", x)
        np.testing.assert_array_equal(result.value, 2 * np.ones((2, 2)))
        np.testing.assert_array_equal(x, np.ones((2, 2)))  # ours is untouched
        assert result.changed == ["x"]
        assert child.call(4, "fine", x).changed == []
        assert child.printed == {"lines": 2, "first": ["loading", "doubling"]}


def test_an_exit_or_a_hang_in_the_child_is_unchecked_never_a_pass(tmp_path):
    path = tmp_path / "f.py"
    path.write_text("import sys\ndef spin():\n    while True:\n        pass\nsys.exit(0)\n")
    with pytest.raises(Unchecked, match=r"called sys.exit\(0\) while loading"):
        Child(path, timeout=30)
    path.write_text("def spin():\n    while True:\n        pass\n")
    with (
        Child(path, timeout=1) as child,
        pytest.raises(Unchecked, match="did not finish within 1 s"),
    ):
        child.call(4, "spin")


def test_a_tinygrad_dl_folder_beside_the_learner_file_cannot_replace_the_child(tmp_path):
    fake = tmp_path / "tinygrad_dl"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise SystemExit(0)\n")
    path = tmp_path / "f.py"
    path.write_text("def fine(x):\n    return x + 1\n")
    with Child(path, timeout=30) as child:
        np.testing.assert_array_equal(child.call(4, "fine", np.zeros(2)).value, np.ones(2))

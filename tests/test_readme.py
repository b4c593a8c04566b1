"""Every code block in README.md runs.

Python blocks are executed as they stand. Shell blocks are run line by line: the package's
commands and the examples for real (with the repository root as working directory), ``make``
targets as a dry run (``make -n``: running ``make test`` inside the tests would recurse).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)
PYTHON_BLOCKS = [code for language, code in BLOCKS if language == "python"]
SHELL_LINES = [
    line.split("#")[0].strip()
    for language, code in BLOCKS
    if language == "bash"
    for line in code.splitlines()
    if line.split("#")[0].strip()
]


def test_readme_has_the_two_promised_commands_on_its_first_screen():
    first_screen = "\n".join(README.splitlines()[:20])
    assert "make demo" in first_screen and "make test" in first_screen


@pytest.mark.parametrize(
    "code", PYTHON_BLOCKS, ids=[f"python{i}" for i in range(len(PYTHON_BLOCKS))]
)
def test_readme_python_block_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})


def _environment() -> dict[str, str]:
    environment = dict(os.environ, MPLBACKEND="Agg")
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    return environment


@pytest.mark.parametrize("line", SHELL_LINES)
def test_readme_shell_line_runs(line):
    words = shlex.split(line)
    assignments = dict(w.split("=", 1) for w in words if re.match(r"^[A-Z_]+=", w))
    words = [w for w in words if not re.match(r"^[A-Z_]+=", w)]
    environment = {**_environment(), **assignments}
    if words[0] == "make":
        command = ["make", "-n", *words[1:]]
    elif words[0] == "python":
        command = [sys.executable, *words[1:]]
    else:
        pytest.fail(f"README shell line {line!r}: no rule to run it in this test")
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (
        f"{line!r} exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    )

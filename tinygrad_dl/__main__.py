"""Command line: ``python -m tinygrad_dl {demo,check,bench} [options]``.

Each subcommand lives in the module that owns its job; this file only routes to it, importing
lazily so that ``--help`` stays fast and optional extras are loaded only by the command that
needs them.
"""

from __future__ import annotations

import importlib
import sys

# subcommand -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "tinygrad_dl.demo",
        "train the course's 2-layer network on the flower data, by hand and by autodiff",
    ),
    "check": (
        "tinygrad_dl.course.checker",
        "check hand-derived backprop (ours, or --impl your_file.py) against autodiff",
    ),
    "bench": (
        "tinygrad_dl.bench",
        "benchmark against hand-written NumPy, PyTorch, HIPS autograd and JAX",
    ),
}


def _usage() -> str:
    lines = ["usage: python -m tinygrad_dl COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<7} {text}" for name, (_, text) in COMMANDS.items()]
    lines += ["", "Run 'python -m tinygrad_dl COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Route ``argv`` to a subcommand's ``main`` and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"tinygrad_dl: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())

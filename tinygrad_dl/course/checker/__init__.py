"""The course checker: is the learner's assignment right, and if not, what is wrong where?

``python -m tinygrad_dl check --impl my_assignment.py`` (or ``.ipynb``) loads the file in a
child process and checks every graded function it defines, in the course's order, against the
course's formulas; the verdict is decided here, from the values the child sends back.

Modules, one job each:

- :mod:`.load`: run the learner's file in a child process (timeout, captured prints,
  notebooks, definitions-only mode) and call its functions on fresh copies of their inputs;
- :mod:`.week2`, :mod:`.week3`, :mod:`.week4`: each week's graded functions, their reference,
  their inputs and the usual mistakes;
- :mod:`.compare`: compare with the reference and diagnose (factor ``m``, sign, transpose,
  wrong axis, wrong activation derivative, wrong update);
- :mod:`.checks`: the checks weeks share (initialisers, costs, one update, two iterations of a
  model);
- :mod:`.session`: check a file bottom-up, a failing function replaced by the course's;
- :mod:`.report`: the text and JSON reports and the command line;
- :mod:`.backprop`: :func:`check_backprop`, a backward pass against autodiff and central
  differences layer by layer (the command without ``--impl`` runs it on our own formulas).
"""

from .backprop import (
    DEEP_NETWORKS,
    BackpropReport,
    GradientComparison,
    check_backprop,
    numerical_gradient,
    random_network,
    relative_difference,
)
from .report import format_report, main, report_json
from .session import FileReport, FunctionResult, check_file

__all__ = [
    "DEEP_NETWORKS",
    "BackpropReport",
    "FileReport",
    "FunctionResult",
    "GradientComparison",
    "check_backprop",
    "check_file",
    "format_report",
    "main",
    "numerical_gradient",
    "random_network",
    "relative_difference",
    "report_json",
]

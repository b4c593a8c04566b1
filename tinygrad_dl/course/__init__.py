"""The course's hand-derived formulas in plain NumPy, one module per week, and their checker.

- :mod:`~tinygrad_dl.course.logistic` (week 2): logistic regression as a neural network.
- :mod:`~tinygrad_dl.course.shallow` (week 3): one tanh hidden layer, sigmoid output.
- :mod:`~tinygrad_dl.course.deep` (week 4): ``[LINEAR -> RELU] * (L-1) -> LINEAR -> SIGMOID``.
- :func:`check_backprop`: compare a learner's own backward pass with autodiff and central
  differences, layer by layer.
- :mod:`~tinygrad_dl.course.checker`: ``python -m tinygrad_dl check --impl FILE`` checks every
  graded function of a learner's assignment file or notebook (it executes the file, in a child
  process) and says what is wrong where.

The modules need NumPy only; the checker imports the engine when it runs.
"""

from . import activations, deep, logistic, shallow
from .checker import BackpropReport, GradientComparison, check_backprop

__all__ = [
    "activations",
    "logistic",
    "shallow",
    "deep",
    "check_backprop",
    "BackpropReport",
    "GradientComparison",
]

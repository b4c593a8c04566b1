"""Benchmarks: tinygrad_dl against hand-written NumPy, PyTorch, HIPS autograd and JAX.

Run it with ``python -m tinygrad_dl bench [--quick]`` (or ``make bench``); the driver is
:mod:`benchmarks.run`. Layout:

- :mod:`benchmarks.workloads`: the seeded data and initial parameters of W1-W5.
- :mod:`benchmarks.impls`: one module per implementation (the NumPy baseline in the course's
  formulas, this engine, and the peers), each building a training step for a workload.
- :mod:`benchmarks.child`: runs one workload in its own process (threads pinned before NumPy is
  imported) and times the implementations round by round.
- :mod:`benchmarks.memory`: peak resident memory above set-up during W1 steps.
- :mod:`benchmarks.machine`: the header (machine, versions, BLAS and its threads).
- :mod:`benchmarks.report`: JSON, the markdown table and the PNG bar chart of ratios.
"""

"""Benchmarks: tinygrad_dl (eager and ``tg.compile``) against hand-written NumPy, PyTorch,
HIPS autograd and JAX.

Run it with ``python -m tinygrad_dl bench [--quick]`` (or ``make bench``); the driver is
:mod:`benchmarks.run`. :mod:`benchmarks.workloads` holds the seeded data of W1-W5,
:mod:`benchmarks.baselines` the course-formula and lean references, :mod:`benchmarks.frameworks`
every implementation behind one runner, :mod:`benchmarks.measure` the timing, memory and header
jobs (one process each), :mod:`benchmarks.report` the JSON, table and chart, and
:mod:`benchmarks.gpu_check` the same runners on a GPU.
"""
